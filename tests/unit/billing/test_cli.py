"""`evhub billing price --json` end to end: a JSON request on stdin, the totals on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.unit.billing.sessions import Session, at, example

SRC = Path(__file__).resolve().parents[3] / "src"
CONTRACT = {
    "total_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_fixed_cost",
    "total_reservation_cost",
    "total_energy",
    "total_time",
    "total_parking_time",
}


def run(stdin: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(SRC)}
    command = [sys.executable, "-c", "from evhub.cli import app; app()", "billing", "price"]
    return subprocess.run(
        [*command, "--json"], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )


def request(tariff: dict[str, Any], cdr: dict[str, Any], zone: str = "Europe/Berlin") -> str:
    return json.dumps({"tariff": tariff, "cdr": cdr, "time_zone": zone}, default=float)


def test_a_session_is_priced_from_stdin_to_stdout() -> None:
    session = Session(at("2026-06-01T09:30:00+02:00")).charge(165, 11, max_current=16).park(42)
    done = run(request(example("tariff_4_complex"), session.cdr_json()))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == CONTRACT
    assert out["total_cost"] == {"excl_vat": 9.0, "incl_vat": 10.3}
    assert out["total_fixed_cost"] == {"excl_vat": 2.5, "incl_vat": 2.875}
    assert out["total_parking_cost"] == {"excl_vat": 3.75, "incl_vat": 4.125}
    assert out["total_reservation_cost"] == {"excl_vat": 0, "incl_vat": 0}
    assert (out["total_energy"], out["total_time"], out["total_parking_time"]) == (11, 3.45, 0.7)
    assert all(isinstance(v, float | int) for v in out["total_cost"].values())


def test_a_whole_cdr_with_its_totals_is_priced_again() -> None:
    cdr = json.loads(json.dumps(example("cdr_example"), default=float))
    done = run(request(cdr["tariffs"][0], cdr, "Europe/Brussels"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total_cost"] == cdr["total_cost"]


def test_a_tariff_without_its_owner_fields_prices_the_same() -> None:
    session = Session(at("2026-06-01T09:30:00+02:00")).charge(165, 11, max_current=16).park(42)
    tariff = json.loads(json.dumps(example("tariff_4_complex"), default=float))
    bare = {k: v for k, v in tariff.items() if k not in {"id", "country_code", "party_id"}}
    bare.pop("last_updated")
    whole, without = (
        run(request(tariff, session.cdr_json())),
        run(request(bare, session.cdr_json())),
    )
    assert whole.returncode == without.returncode == 0, without.stderr
    assert json.loads(without.stdout) == json.loads(whole.stdout)


def test_invalid_input_exits_non_zero_and_says_why() -> None:
    session = Session(at("2026-06-01T09:30:00Z")).charge(60, 10).cdr_json()
    tariff = json.loads(json.dumps(example("tariff_8_simple_025kwh"), default=float))
    broken_step = tariff | {
        "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": -5}]}]
    }
    cases = {
        "not json": "stdin is not JSON",
        request(broken_step, session): "step_size",
        request({k: v for k, v in tariff.items() if k != "elements"}, session): "elements",
        request(tariff, session, "Mars/Olympus"): "unknown time zone",
        request(tariff, session | {"currency": "USD"}): "USD",
        request(tariff, session | {"charging_periods": []}): "charging_periods",
    }
    for stdin, reason in cases.items():
        done = run(stdin)
        assert done.returncode != 0, stdin
        assert done.stdout == ""
        assert reason in done.stderr, done.stderr
