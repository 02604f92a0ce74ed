"""The heap freezer: frozen once the connections are steady, again after a tenth ended."""

from __future__ import annotations

from dataclasses import dataclass, field

from evhub.frozen_heap import HeapFreezer


@dataclass
class Registry:
    count: int = 0
    ended: int = 0

    def __len__(self) -> int:
        return self.count


@dataclass
class FakeCollector:
    calls: list[str] = field(default_factory=list)

    def collect(self) -> int:
        self.calls.append("collect")
        return 0

    def freeze(self) -> None:
        self.calls.append("freeze")

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")

    def get_freeze_count(self) -> int:
        return 0


def freezer(registry: Registry, collector: FakeCollector) -> HeapFreezer:
    return HeapFreezer(registry, min_connections=500, collector=collector)


def test_nothing_is_frozen_while_the_stations_are_still_coming() -> None:
    registry, collector = Registry(), FakeCollector()
    heap = freezer(registry, collector)
    steps = []
    for count in (0, 1200, 3000, 4800, 4990):  # a storm: the count moves at every check
        registry.count = count
        steps.append(heap.step())

    assert steps == ["kept"] * 5 and collector.calls == []
    assert [heap.step() for _ in range(3)] == ["kept", "kept", "frozen"]  # steady within 1 %
    assert collector.calls == ["collect", "freeze"]


def test_a_node_with_few_stations_is_left_to_the_collector() -> None:
    registry, collector = Registry(count=120), FakeCollector()
    heap = freezer(registry, collector)

    assert [heap.step() for _ in range(4)] == ["kept"] * 4 and collector.calls == []


def test_a_tenth_of_the_frozen_connections_ended_calls_for_a_new_freeze() -> None:
    registry, collector = Registry(count=5000), FakeCollector()
    heap = freezer(registry, collector)
    assert [heap.step() for _ in range(4)] == ["kept", "kept", "kept", "frozen"]
    registry.ended = 500  # reconnections: as many ended as came back, the count is steady
    assert heap.step() == "kept"  # 500 is not more than a tenth
    registry.ended = 501
    assert heap.step() == "frozen"
    assert collector.calls == ["collect", "freeze", "unfreeze", "collect", "freeze"]
    assert heap.freezes == 2


def test_during_a_storm_the_frozen_connections_go_back_to_the_collector() -> None:
    registry, collector = Registry(count=5000), FakeCollector()
    heap = freezer(registry, collector)
    assert [heap.step() for _ in range(4)][-1] == "frozen"
    registry.count, registry.ended = 2000, 3000  # a node died: its stations come here

    assert heap.step() == "unfrozen"
    assert collector.calls[-1] == "unfreeze"
    registry.count = 7000
    assert [heap.step() for _ in range(4)] == ["kept", "kept", "kept", "frozen"]  # 7,000 steady
