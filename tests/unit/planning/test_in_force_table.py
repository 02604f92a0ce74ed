"""The in-force table keeps its keys by station through every mutation the planner makes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from evhub.planning.evse_limits import InForce, InForceTable

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)


def _told(kw: float) -> InForce:
    return InForce("default", kw, NOW)


def _scan(table: dict[tuple[str, int], InForce], stations: set[str]) -> set[tuple[str, int]]:
    return {k for k in table if k[0] in stations}


def test_keys_of_follow_sets_pops_and_deletes() -> None:
    table = InForceTable({("A", 1): _told(1.0), ("A", 2): _told(2.0), ("B", 1): _told(3.0)})
    assert set(table.keys_of(["A"])) == {("A", 1), ("A", 2)}
    table[("C", 7)] = _told(4.0)
    table[("A", 1)] = _told(5.0)  # replacing keeps one key
    assert sorted(table.keys_of(["A", "C", "nobody"])) == [("A", 1), ("A", 2), ("C", 7)]
    assert table.pop(("A", 2)) == _told(2.0)
    assert table.pop(("A", 2), None) is None
    del table[("B", 1)]
    assert table.keys_of(["A", "B"]) == [("A", 1)]
    for stations in ({"A"}, {"B"}, {"C"}, {"A", "C"}):
        assert set(table.keys_of(stations)) == _scan(table, stations)
    assert table[("A", 1)].kw == 5.0 and len(table) == 2


def test_bulk_update_is_refused_rather_than_left_unindexed() -> None:
    table = InForceTable()
    with pytest.raises(TypeError):
        table.update({("A", 1): _told(1.0)})
    assert table.keys_of(["A"]) == [] and not table
