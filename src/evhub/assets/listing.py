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

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Connector, Evse, Station
from evhub.assets.schemas import ConnectorOut, EvseOut, StationOut

STATION_LIST = TypeAdapter(list[StationOut])


def _fields(schema: type[BaseModel], nested: str | None = None) -> list[str]:
    """The columns a schema reads (its fields but its nested list), named as in the table."""
    return [name for name in schema.model_fields if name != nested]


async def station_page(
    session: AsyncSession, site_id: int | None, limit: int, offset: int
) -> tuple[list[StationOut], int]:
    """The stations of one page (of a site, when given) and how many match in all."""
    stations, evses, connectors = Station.__table__, Evse.__table__, Connector.__table__
    where = [stations.c.site_id == site_id] if site_id is not None else []
    total = await session.scalar(select(func.count()).select_from(stations).where(*where))
    columns = [stations.c[name] for name in _fields(StationOut, "evses")]
    query = select(*columns).where(*where).order_by(stations.c.id).limit(limit).offset(offset)
    rows = [r._asdict() for r in await session.execute(query)]
    by_station: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_evse: dict[int, list[dict[str, Any]]] = {}
    if rows:
        evse_columns = [evses.c[name] for name in _fields(EvseOut, "connectors")]
        evse_rows = await session.execute(
            select(evses.c.id.label("_pk"), evses.c.station_id.label("_station"), *evse_columns)
            .where(evses.c.station_id.in_([r["id"] for r in rows]))
            .order_by(evses.c.station_id, evses.c.evse_id)
        )
        for e in evse_rows:
            evse = e._asdict()
            pk, station = evse.pop("_pk"), evse.pop("_station")
            evse["connectors"] = by_evse[pk] = []
            by_station[station].append(evse)
    if by_evse:
        connector_columns = [connectors.c[name] for name in _fields(ConnectorOut)]
        connector_rows = await session.execute(
            select(connectors.c.evse_pk.label("_evse"), *connector_columns)
            .where(connectors.c.evse_pk.in_(list(by_evse)))
            .order_by(connectors.c.evse_pk, connectors.c.connector_id)
        )
        for c in connector_rows:
            connector = c._asdict()
            by_evse[connector.pop("_evse")].append(connector)
    for r in rows:
        r["evses"] = by_station[r["id"]]
    return STATION_LIST.validate_python(rows), int(total or 0)
