"""Ticket states: guarded moves, occurrences, downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evhub.maintenance.models import (
    IllegalTicketTransition,
    Severity,
    Ticket,
    TicketCause,
    TicketState,
    open_key,
)

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)


def _ticket() -> Ticket:
    return Ticket(
        station_id="CP-1",
        evse_id=1,
        connector_id=1,
        cause=TicketCause.FAULTED,
        open_key=open_key("CP-1", 1, 1, TicketCause.FAULTED),
        severity=Severity.MEDIUM,
        detail="",
        state=TicketState.OPEN,
        first_seen=T0,
        last_seen=T0,
        count=1,
        created_at=T0,
        updated_at=T0,
    )


def test_occurrences_count_and_raise_the_severity() -> None:
    ticket = _ticket()
    ticket.record_occurrence(T0 + timedelta(minutes=5), "OverCurrent", Severity.HIGH, T0)
    ticket.record_occurrence(T0 + timedelta(minutes=1), "", Severity.LOW, T0)
    assert ticket.count == 3
    assert ticket.last_seen == T0 + timedelta(minutes=5)
    assert (ticket.severity, ticket.detail) == (Severity.HIGH, "OverCurrent")


def test_closing_records_the_downtime_and_frees_the_key() -> None:
    ticket = _ticket()
    ticket.close(T0 + timedelta(minutes=90), "system", T0, "status Available")
    assert ticket.state == TicketState.CLOSED
    assert ticket.downtime_s == 5400
    assert ticket.open_key is None
    assert (ticket.closed_by, ticket.note) == ("system", "status Available")


def test_a_closed_ticket_neither_closes_again_nor_counts() -> None:
    ticket = _ticket()
    ticket.close(T0, "technician", T0, "replaced the relay")
    with pytest.raises(IllegalTicketTransition):
        ticket.close(T0, "technician", T0, "again")
    with pytest.raises(IllegalTicketTransition):
        ticket.record_occurrence(T0, "", Severity.LOW, T0)


def test_open_keys_spell_the_whole_station_with_stars() -> None:
    assert open_key("CP-1", None, None, TicketCause.OFFLINE) == "CP-1|*|*|offline"
