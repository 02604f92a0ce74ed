"""Handshake guards: failed-login backoff, the pending cap; escaped gateway log lines."""

from __future__ import annotations

import logging
import resource

import pytest

from evhub.ocpp.admission import Admission, Backoff, admission_from
from evhub.ocpp.logsafe import gateway_logger, printable
from evhub.settings import Settings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_starts_after_the_free_failures_and_doubles() -> None:
    clock = FakeClock()
    backoff = Backoff(free_failures=3, base_s=1.0, max_s=8.0, clock=clock)
    for _ in range(2):
        backoff.failed("CP-1")
        assert backoff.blocked_for("CP-1") == 0
    waits = []
    for _ in range(6):
        backoff.failed("CP-1")
        waits.append(backoff.blocked_for("CP-1"))
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    clock.now += 8.0
    assert backoff.blocked_for("CP-1") == 0
    assert backoff.blocked_for("CP-2") == 0
    backoff.succeeded("CP-1")
    backoff.failed("CP-1")
    assert backoff.blocked_for("CP-1") == 0


def test_backoff_forgets_the_oldest_keys_beyond_its_bound() -> None:
    backoff = Backoff(free_failures=1, max_keys=2, clock=FakeClock())
    for key in ("a", "b", "c"):
        backoff.failed(key)
    assert [backoff.blocked_for(k) > 0 for k in ("a", "b", "c")] == [False, True, True]


def test_admission_blocks_by_station_and_by_address() -> None:
    clock = FakeClock()
    admission = Admission(
        by_station=Backoff(free_failures=2, clock=clock),
        by_address=Backoff(free_failures=3, clock=clock),
    )
    admission.login_failed("CP-1", "10.0.0.1")
    admission.login_failed("CP-2", "10.0.0.1")
    assert admission.retry_after("CP-3", "10.0.0.1") == 0
    admission.login_failed("CP-3", "10.0.0.1")
    assert admission.retry_after("CP-4", "10.0.0.1") > 0  # the address guessed too often
    assert admission.retry_after("CP-4", "10.0.0.2") == 0
    admission.login_failed("CP-4", "10.0.0.2")
    admission.login_failed("CP-4", "10.0.0.3")
    assert admission.retry_after("CP-4", "10.0.0.9") > 0  # the station id, from anywhere


async def test_handshakes_beyond_the_pending_cap_are_refused() -> None:
    admission = Admission(max_pending=2, concurrency=2)
    async with admission.handshake() as first, admission.handshake() as second:
        assert first and second and admission.pending == 2
        async with admission.handshake() as third:
            assert not third
    assert admission.pending == 0


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        ("CP-1", "CP-1"),
        ("CP-1\nstation=CP-2 event=connected", "CP-1\\x0astation=CP-2 event=connected"),
        ("a\rb\x1b[31m", "a\\x0db\\x1b[31m"),
        ("x\u2028y\u200bz", "x\\u2028y\\u200bz"),
        ("Électrique", "Électrique"),
    ],
)
def test_control_characters_are_escaped(raw: str, logged: str) -> None:
    assert printable(raw) == logged


def test_every_gateway_log_line_is_escaped(caplog: pytest.LogCaptureFixture) -> None:
    log = gateway_logger()
    with caplog.at_level(logging.INFO, logger="evhub.ocpp"):
        log.info("station=%s event=refused", "CP\nstation=X event=connected")
        logging.getLogger("evhub.ocpp").warning("detail=%s n=%d", ["a\nb"], 3)
    assert [r.getMessage() for r in caplog.records] == [
        "station=CP\\x0astation=X event=connected event=refused",
        "detail=['a\\nb'] n=3",  # the list's repr escaped it already
    ]


@pytest.mark.parametrize(
    ("soft", "cap"),
    [(20_000, 10_000), (1_024, 512), (100, 64), (10_000_000, 65_536)],
)
def test_the_pending_cap_is_half_the_descriptors_unless_configured(
    monkeypatch: pytest.MonkeyPatch, soft: int, cap: int
) -> None:
    """Without a configured cap, a node may hold half its file descriptors in handshakes:
    5,000 stations coming back at once fit under the 20,000 of this machine's limit."""
    monkeypatch.setattr(resource, "getrlimit", lambda _which: (soft, soft * 2))
    assert Settings().pending_handshake_cap() == cap
    assert Settings(ocpp_max_pending_handshakes=100).pending_handshake_cap() == 100
    assert admission_from(Settings()).max_pending == cap
