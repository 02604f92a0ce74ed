"""The state of charge a discharge is bounded by, when the car's maker's cloud reports it.

A connected car's report (`telemetry`) gives its SoC at the moment it was measured; the charge
has moved energy since. The SoC now is the reported one plus what the meter imported since
(at the planner's efficiency, the model its plan of the battery rests on) less what it exported
since (taken from the battery at the same efficiency). The export comes from the station's
export register (OCPP 2.0.1/2.1 measurand `Energy.Active.Export.Register`): the rise since the
last reading at or before the report, else since the charge's first reading.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.charging.models import MeterValue, Transaction
from evhub.planning.telemetry import CarReport
from evhub.planning.v2x_needs import EFFICIENCY

EXPORT_REGISTER = "Energy.Active.Export.Register"


def soc_now_pct(tx: Transaction, report: CarReport, exported_since_wh: float) -> float:
    """The car's SoC now from its report and the energy metered since (see the module)."""
    tied = report.transaction_pk == tx.id and report.session_wh is not None
    imported_wh = max(0, tx.energy_wh - (report.session_wh or 0)) if tied else tx.energy_wh
    stored_kwh = EFFICIENCY * imported_wh / 1000 - max(0.0, exported_since_wh) / 1000 / EFFICIENCY
    pct = report.reading.soc_pct + 100.0 * stored_kwh / report.battery_kwh
    return min(100.0, max(0.0, pct))


async def exported_since_wh(session: AsyncSession, tx: Transaction, since: datetime) -> float:
    """What the charge's meter exported after `since` (0 when it reports no export)."""
    mine = (
        MeterValue.transaction_pk == tx.id,
        MeterValue.measurand == EXPORT_REGISTER,
        MeterValue.phase == "",
    )
    last = await session.scalar(select(func.max(MeterValue.value)).where(*mine))
    if last is None:
        return 0.0
    before = await session.scalar(
        select(MeterValue.value)
        .where(*mine, MeterValue.timestamp <= since)
        .order_by(MeterValue.timestamp.desc())
        .limit(1)
    )
    if before is None:
        before = await session.scalar(select(func.min(MeterValue.value)).where(*mine))
    return max(0.0, float(last) - float(before if before is not None else last))
