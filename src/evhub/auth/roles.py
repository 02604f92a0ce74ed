"""Roles, ordered: each role may do everything the roles below it may.

A funder (a town or agency that paid for hubs) ranks below a viewer: it reads the reports of
its own towns and nothing else."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    FUNDER = "funder"
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, required: Role) -> bool:
        return self.rank >= required.rank


_RANKS = {Role.FUNDER: -1, Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
