"""Answering the handlers that wait on one group commit, a slice per turn of the event loop.

Hundreds of handlers woken by one commit would all run in the next turn of the loop, and every
other task (an API request between two of its steps) would wait behind that turn; a slice per
turn lets them in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

ACKS_PER_TURN = 25


async def acknowledge(
    settled: Sequence[tuple[asyncio.Future[Any], Any]], per_turn: int = ACKS_PER_TURN
) -> None:
    """Set each future's result, `per_turn` per turn; cancelled meanwhile, the rest are set at
    once (what was committed is answered as committed)."""
    try:
        for index, (done, result) in enumerate(settled):
            if index and index % per_turn == 0:
                await asyncio.sleep(0)
            if not done.done():
                done.set_result(result)
    finally:
        for done, result in settled:
            if not done.done():
                done.set_result(result)
