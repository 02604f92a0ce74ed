"""Commands cross nodes as JSON: what a node receives is what the caller passed."""

from __future__ import annotations

from datetime import UTC, datetime

from evhub.cluster import wire
from evhub.cluster.leadership import lock_key
from evhub.control import ChargingLimit, CommandResult, ProfilePurpose


def test_a_charging_limit_arrives_as_the_caller_built_it() -> None:
    limit = ChargingLimit(
        evse_id=2, start=datetime(2026, 12, 1, 8, tzinfo=UTC), periods=[(0, 11.0), (900, 7.4)],
        purpose=ProfilePurpose.TX_DEFAULT, transaction_id="tx-1", unit="A",
        valid_to=datetime(2026, 12, 1, 8, 15, tzinfo=UTC),
    )  # fmt: skip
    method, station_id, kwargs = wire.decode_call(
        wire.encode_call("set_charging_limit", "CP-1", {"limit": limit})
    )
    assert (method, station_id, kwargs) == ("set_charging_limit", "CP-1", {"limit": limit})


def test_enums_and_local_list_entries_are_rebuilt() -> None:
    _, _, clear = wire.decode_call(wire.encode_call(
        "clear_charging_limit", "CP-1", {"evse_id": None, "purpose": ProfilePurpose.TX}
    ))  # fmt: skip
    assert clear["purpose"] is ProfilePurpose.TX
    entries = [("TAG1", "Accepted"), ("TAG2", "Blocked")]
    _, _, sent = wire.decode_call(wire.encode_call(
        "send_local_list", "CP-1", {"version": 3, "entries": entries, "full": True}
    ))  # fmt: skip
    assert sent["entries"] == entries


def test_results_and_errors_come_back() -> None:
    result = CommandResult("Accepted", {"configuration_key": [{"key": "K", "value": "1"}]})
    assert wire.decode_reply(wire.encode_result(result)) == result
    assert wire.decode_reply(wire.encode_error("timeout", "slow")) == ("timeout", "slow")


def test_station_ids_make_valid_distinct_subjects() -> None:
    assert wire.command_subject("CP-1_a") == "evhub.station.CP-1_a.command"
    odd = wire.command_subject("hub.1 *>")
    token = odd.split(".")[2]
    assert odd.count(".") == 3 and " " not in odd and "*" not in token and ">" not in token
    assert wire.command_subject("hub.1") != wire.command_subject("hub_1")


def test_lock_keys_are_stable_signed_64_bit() -> None:
    key = lock_key("planning.site.1")
    assert key == lock_key("planning.site.1") != lock_key("planning.site.2")
    assert -(2**63) <= key < 2**63
