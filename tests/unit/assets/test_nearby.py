"""Hubs near a driver: closest first, and an EVSE free only when its station is online, in
service and every connector says Available."""

from __future__ import annotations

import pytest

from evhub.assets import nearby
from evhub.assets.models import Connector, Evse, Site, Station


def station(online: bool = True, commissioned: bool = True, *statuses: str) -> Station:
    connectors = [Connector(connector_id=i + 1, status=s) for i, s in enumerate(statuses)]
    evse = Evse(evse_id=1, current_type="AC", max_power_kw=22.0, connectors=connectors)
    return Station(id="CP-1", site_id=1, online=online, commissioned=commissioned, evses=[evse])


@pytest.mark.parametrize(
    ("online", "commissioned", "statuses", "state"),
    [
        (True, True, ("Available",), "Available"),
        (True, True, ("Available", "Available"), "Available"),
        (True, True, ("Available", "Occupied"), "Occupied"),
        (True, True, ("Charging",), "Occupied"),
        (True, True, ("Reserved",), "Reserved"),
        (True, True, ("Faulted", "Occupied"), "Faulted"),
        (True, True, ("Unknown",), "Unavailable"),
        (True, False, ("Available",), "Unavailable"),
        (False, True, ("Available",), "Offline"),
    ],
)
def test_an_evse_is_free_only_when_all_says_so(
    online: bool, commissioned: bool, statuses: tuple[str, ...], state: str
) -> None:
    st = station(online, commissioned, *statuses)
    assert nearby.evse_state(st, st.evses[0]) == state


def test_the_closest_hub_comes_first_and_counts_what_is_free() -> None:
    lyon = Site(id=1, name="Lyon", latitude=45.7405, longitude=4.8176)
    paris = Site(id=2, name="Paris", latitude=48.8566, longitude=2.3522)
    near_lyon = (45.76, 4.84)
    hubs = [
        nearby.hub(paris, [station(True, True, "Available")], near_lyon),
        nearby.hub(lyon, [station(False, True, "Available")], near_lyon),
    ]
    assert hubs[0].distance_km is not None and hubs[1].distance_km is not None
    assert 2 < hubs[1].distance_km < 4 and 380 < hubs[0].distance_km < 400
    assert [h.available for h in hubs] == [1, 0]
    assert nearby.distance_km(*near_lyon, *near_lyon) == 0
