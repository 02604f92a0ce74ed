"""One page of `GET /api/v1/stations`: the Core read (`evhub.assets.listing`) against the ORM read
it replaced, in the same process on the same database.

    .venv/bin/python benchmarks/station_list.py --stations 5000 [--database-url URL]

The ORM path is what the route did before: a count, the page of `Station` objects with their
EVSEs and connectors by select-in loads, validated from their attributes by the response model
and turned into JSON-ready values, then `json.dumps` (FastAPI's `serialize_response` and
`JSONResponse`). The new path is the route's own code minus the HTTP layer. Prints one JSON line:
per-page milliseconds (p50, p95) of each and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime

from pydantic import TypeAdapter
from sqlalchemy import insert

from evhub.assets import listing
from evhub.assets import service as assets
from evhub.assets.models import Connector, Evse, Station
from evhub.assets.schemas import StationOut
from evhub.db import create_engine, migrate_async, session_factory
from evhub.pagination import PageParams, fetch_page
from evhub.uow import UnitOfWork

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
ORM_OUT = TypeAdapter(list[StationOut])


async def _seed(uow: UnitOfWork, stations: int) -> None:
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Centre", "Europe/Paris", 500.0)
        ids = [f"CP-{n:05d}" for n in range(stations)]
        await s.execute(insert(Station), [
            {"id": i, "site_id": site.id, "password_hash": "x", "commissioned": True,
             "registration_status": "Accepted", "online": True, "ocpp_version": "1.6",
             "vendor": "V", "model": "M", "last_seen_at": NOW, "created_at": NOW}
            for i in ids
        ])  # fmt: skip
        evse_pks = (
            await s.execute(
                insert(Evse).returning(Evse.id),
                [{"station_id": i, "evse_id": 1, "max_power_kw": 22.0} for i in ids],
            )
        ).scalars()
        await s.execute(insert(Connector), [
            {"evse_pk": pk, "connector_id": 1, "status": "Available", "status_at": NOW}
            for pk in evse_pks
        ])  # fmt: skip


async def _orm_page(uow: UnitOfWork, page: PageParams) -> bytes:
    async with uow() as s:
        rows, _total = await fetch_page(s, assets.stations_query(None), page)
        checked = ORM_OUT.validate_python(rows, from_attributes=True)
        body = ORM_OUT.dump_python(checked, mode="json")
    return json.dumps(body, separators=(",", ":")).encode()


async def _core_page(uow: UnitOfWork, page: PageParams) -> bytes:
    async with uow() as s:
        rows, _total = await listing.station_page(s, None, page.limit, page.offset)
    return listing.STATION_LIST.dump_json(rows)


async def _run(args: argparse.Namespace) -> dict[str, object]:
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/list.db"
    await migrate_async(url)
    engine = create_engine(url)
    uow = UnitOfWork(session_factory(engine))
    await _seed(uow, args.stations)
    page = PageParams(args.limit, 0)
    assert json.loads(await _orm_page(uow, page)) == json.loads(await _core_page(uow, page))
    times: dict[str, list[float]] = {"orm": [], "core": []}
    for _ in range(args.pages):  # interleaved: both see the same machine at the same moments
        for name, read in (("orm", _orm_page), ("core", _core_page)):
            started = time.perf_counter()
            await read(uow, page)
            times[name].append((time.perf_counter() - started) * 1000.0)
    await engine.dispose()

    def p(name: str, q: int) -> float:
        return round(statistics.quantiles(times[name], n=100)[q - 1], 2)

    return {
        "stations": args.stations, "page": args.limit, "pages": args.pages,
        "database": url.split(":")[0],
        "orm_ms_p50": p("orm", 50), "orm_ms_p95": p("orm", 95),
        "core_ms_p50": p("core", 50), "core_ms_p95": p("core", 95),
        "ratio_p50": round(p("orm", 50) / p("core", 50), 2),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    print(json.dumps(asyncio.run(_run(parser.parse_args()))))


if __name__ == "__main__":
    main()
