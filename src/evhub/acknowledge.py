"""Gathering a group commit's items, and answering the handlers that wait on it a slice per turn
of the event loop.

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


async def gather_batch(
    queue: asyncio.Queue[Any], into: list[Any], most: int, linger_s: float
) -> None:
    """Take the next items of a group commit into `into` (in place: a caller cancelled
    meanwhile still knows what it took): the first one when it comes, then, unless `most`
    are waiting already, whatever else arrives within `linger_s`.

    Without the wait, a writer that keeps up commits as soon as one item is queued, so under
    moderate traffic each commit (a transaction, its outbox insert, the readers' outbox read
    it wakes) carries one or two messages; a few milliseconds gather several."""
    into.append(await queue.get())
    if linger_s > 0 and queue.qsize() < most - 1:
        await asyncio.sleep(linger_s)
    while len(into) < most and not queue.empty():
        into.append(queue.get_nowait())
