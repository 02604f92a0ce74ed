"""What part of the network a reader may see: a funder only its own towns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evhub.errors import Forbidden


@dataclass(frozen=True)
class ReportScope:
    """The town asked for (None: all that may be seen) and the towns allowed (None: all)."""

    town: str | None
    towns: tuple[str, ...] | None


def report_scope(allowed: Sequence[str] | None, town: str | None) -> ReportScope:
    """The scope of a report asked for `town` by a reader limited to `allowed` towns.

    Town names compare without case, as the report's own town filter does."""
    if allowed is None:
        return ReportScope(town, None)
    if town is not None and town.lower() not in {t.lower() for t in allowed}:
        raise Forbidden(f"the report of {town} is not among yours: {', '.join(allowed)}")
    return ReportScope(town, tuple(allowed))
