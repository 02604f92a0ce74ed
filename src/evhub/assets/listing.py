"""One page of the station list read with three Core statements, without ORM objects.

`GET /api/v1/stations` is what an operator's console polls, and it polls hardest when stations
reconnect by the thousand: through the ORM a page of 100 stations built some 300 mapped objects
(identity map, collections, two select-in loads) and was validated twice on its way out (from
the objects, then again by the route's response model), a quarter of the server's event loop in
a storm of 5,000 reconnecting stations while the console asked 20 times a second
(`benchmarks/RESULTS.md`). Here the rows become plain dicts, are validated once against the
route's schema, and are written as JSON by pydantic: the same body, the same order (stations by
id, EVSEs by number, connectors by number).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Connector, Evse, Station
from evhub.assets.schemas import StationOut

STATION_LIST = TypeAdapter(list[StationOut])

_STATION_FIELDS = (
    "id", "site_id", "commissioned", "registration_status", "online", "ocpp_version", "vendor",
    "model", "serial_number", "firmware_version", "last_seen_at", "last_boot_at",
)  # fmt: skip


async def station_page(
    session: AsyncSession, site_id: int | None, limit: int, offset: int
) -> tuple[list[StationOut], int]:
    """The stations of one page (of a site, when given) and how many match in all."""
    stations, evses, connectors = Station.__table__, Evse.__table__, Connector.__table__
    where = [stations.c.site_id == site_id] if site_id is not None else []
    total = await session.scalar(select(func.count()).select_from(stations).where(*where))
    columns = [stations.c[name] for name in _STATION_FIELDS]
    query = select(*columns).where(*where).order_by(stations.c.id).limit(limit).offset(offset)
    rows = [dict(r._mapping) for r in await session.execute(query)]
    by_station: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_evse: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if rows:
        evse_rows = await session.execute(
            select(evses.c.id, evses.c.station_id, evses.c.evse_id, evses.c.current_type,
                   evses.c.phases, evses.c.max_power_kw)
            .where(evses.c.station_id.in_([r["id"] for r in rows]))
            .order_by(evses.c.station_id, evses.c.evse_id)
        )  # fmt: skip
        for e in evse_rows:
            by_station[e.station_id].append(
                {"evse_id": e.evse_id, "current_type": e.current_type, "phases": e.phases,
                 "max_power_kw": e.max_power_kw, "connectors": by_evse[e.id]}
            )  # fmt: skip
        if by_evse:
            connector_rows = await session.execute(
                select(connectors.c.evse_pk, connectors.c.connector_id, connectors.c.standard,
                       connectors.c.status, connectors.c.error_code, connectors.c.status_at)
                .where(connectors.c.evse_pk.in_(list(by_evse)))
                .order_by(connectors.c.evse_pk, connectors.c.connector_id)
            )  # fmt: skip
            for c in connector_rows:
                by_evse[c.evse_pk].append(
                    {"connector_id": c.connector_id, "standard": c.standard, "status": c.status,
                     "error_code": c.error_code, "status_at": c.status_at}
                )  # fmt: skip
    for r in rows:
        r["evses"] = by_station[r["id"]]
    return STATION_LIST.validate_python(rows), int(total or 0)
