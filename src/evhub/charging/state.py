"""Transaction states and the moves allowed between them."""

from __future__ import annotations

from enum import StrEnum


class TransactionState(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class IllegalTransition(Exception):
    pass


_ALLOWED = {
    (TransactionState.ACTIVE, TransactionState.ENDED),
}


def check_transition(current: str, target: TransactionState) -> None:
    if (TransactionState(current), target) not in _ALLOWED:
        raise IllegalTransition(f"transaction cannot go from {current} to {target}")
