"""A site's measured load over time, from the power samples its stations reported."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.charging.models import MeterValue
from evhub.charging.samples import POWER


async def measured_load_kw(
    session: AsyncSession,
    station_ids: Sequence[str],
    start: datetime,
    slot_s: float,
    slots: int,
    now: datetime,
) -> list[float | None]:
    """Per slot from `start`: the sum over EVSEs of each EVSE's mean power in that slot (kW).

    An EVSE with no sample in a slot counts as drawing nothing; slots after `now` are None.
    """
    end = min(now, start + timedelta(seconds=slot_s * slots))
    if not station_ids or end <= start:
        return [None] * slots
    rows = await session.execute(
        select(MeterValue.station_id, MeterValue.evse_id, MeterValue.timestamp, MeterValue.value)
        .where(
            MeterValue.station_id.in_(list(station_ids)),
            MeterValue.measurand == POWER,
            MeterValue.phase == "",
            MeterValue.timestamp >= start,
            MeterValue.timestamp < end,
        )
        .order_by(MeterValue.timestamp)
    )
    sums: dict[tuple[int, str, int], list[float]] = defaultdict(list)
    for station_id, evse_id, timestamp, value_w in rows:
        k = int((timestamp - start).total_seconds() // slot_s)
        sums[(k, station_id, evse_id)].append(float(value_w))
    totals = [0.0] * slots
    for (k, _, _), values in sums.items():
        totals[k] += sum(values) / len(values) / 1000
    current = int((now - start).total_seconds() // slot_s)
    return [round(v, 3) if k <= current else None for k, v in enumerate(totals)]
