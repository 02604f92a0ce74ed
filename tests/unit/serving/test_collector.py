"""A started server tunes the cyclic collector, and the collector still collects."""

from __future__ import annotations

import gc
import socket
import weakref
from collections.abc import Iterator

import pytest
import uvicorn

from evhub.serving import COLLECTOR_THRESHOLDS, StoppingServer


@pytest.fixture
def collector_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


async def _app(scope: dict[str, object], receive: object, send: object) -> None:
    return None  # no request reaches it: the test only starts and stops the server


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.mark.parametrize("young", [None, 700])
async def test_a_started_server_freezes_its_heap_and_sets_the_thresholds(
    collector_restored: None, young: int | None
) -> None:
    gc.unfreeze()
    gc.set_threshold(123, 4, 5)
    expected = COLLECTOR_THRESHOLDS if young is None else (young, *COLLECTOR_THRESHOLDS[1:])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(_app, log_level="warning", lifespan="off")
    config.load()
    server = (
        StoppingServer(config, _nothing)
        if young is None
        else StoppingServer(config, _nothing, young_threshold=young)
    )
    server.lifespan = config.lifespan_class(config)
    await server.startup(sockets=[sock])
    try:
        assert server.started
        assert gc.get_threshold() == expected
        assert gc.get_freeze_count() > 1000  # what start-up built: modules, this test
        cycle = _Cycle()
        gone = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert gone() is None  # what comes after the freeze is collected as ever
    finally:
        await server.shutdown()
        sock.close()


async def _nothing() -> None:
    return None
