"""Transactions: a filtered list, and the same rows as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.charging.models import Transaction
from evhub.charging.search import TransactionFilter, find_transactions
from evhub.deps import SessionDep
from evhub.web.console import PageViewer, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
CSV_LIMIT = 100_000
CSV_COLUMNS = (
    "id", "station_id", "evse_id", "connector_id", "id_token", "state", "started_at",
    "stopped_at", "energy_kwh", "stop_reason", "ocpp_transaction_id",
)  # fmt: skip


async def _filter(
    session: AsyncSession,
    site_id: int | None,
    station_id: str | None,
    state: str | None,
    day_from: date | None,
    day_to: date | None,
    id_token: str | None,
) -> TransactionFilter:
    """Dates are local days of the site (UTC when no site is chosen), `day_to` included."""
    tz = ZoneInfo((await assets.get_site(session, site_id)).timezone if site_id else "UTC")

    def at(day: date | None) -> datetime | None:
        return None if day is None else datetime.combine(day, time(), tzinfo=tz)

    before = at(day_to + timedelta(days=1)) if day_to else None
    return TransactionFilter(site_id, station_id or None, state or None, at(day_from), before,
                             id_token or None)  # fmt: skip


Optional = Annotated[str | None, Query()]


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _site(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@router.get("/transactions", response_class=HTMLResponse)
async def transactions_page(
    request: Request,
    principal: PageViewer,
    session: SessionDep,
    site_id: Optional = None,
    station_id: Optional = None,
    state: Optional = None,
    day_from: Optional = None,
    day_to: Optional = None,
    id_token: Optional = None,
    page: int = Query(1, ge=1),
) -> HTMLResponse:
    f = await _filter(session, _site(site_id), station_id, state, _day(day_from), _day(day_to),
                      id_token)  # fmt: skip
    rows = await find_transactions(session, f, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    return render(
        request, "transactions.html", principal, rows=rows[:PAGE_SIZE],
        more=len(rows) > PAGE_SIZE, page=page, sites=await assets.list_sites(session),
        query=request.url.query, params=dict(request.query_params),
    )  # fmt: skip


@router.get("/transactions.csv")
async def transactions_csv(
    principal: PageViewer,
    session: SessionDep,
    site_id: Optional = None,
    station_id: Optional = None,
    state: Optional = None,
    day_from: Optional = None,
    day_to: Optional = None,
    id_token: Optional = None,
) -> Response:
    f = await _filter(session, _site(site_id), station_id, state, _day(day_from), _day(day_to),
                      id_token)  # fmt: skip
    rows = await find_transactions(session, f, CSV_LIMIT)
    return Response(
        to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="transactions.csv"'},
    )


def to_csv(rows: Iterable[Transaction]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for tx in rows:
        writer.writerow([
            tx.id, tx.station_id, tx.evse_id, tx.connector_id, tx.id_token or "", tx.state,
            tx.started_at.isoformat(), tx.stopped_at.isoformat() if tx.stopped_at else "",
            f"{tx.energy_wh / 1000:.3f}", tx.stop_reason or "", tx.ocpp_transaction_id,
        ])  # fmt: skip
    return out.getvalue()
