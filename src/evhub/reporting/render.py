"""The monthly report rendered in a format: one entry point for the CLI, the API and the console."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.reporting.monthly import Month, monthly_report
from evhub.reporting.monthly_csv import monthly_csv
from evhub.reporting.monthly_json import monthly_json
from evhub.reporting.revenue import RevenueSources
from evhub.settings import Settings

ReportFormat = Literal["csv", "pdf", "json"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "json": "application/json",
}


async def render_monthly(
    session: AsyncSession,
    settings: Settings,
    month_label: str,
    now: datetime,
    fmt: ReportFormat,
    town: str | None = None,
    site_id: int | None = None,
    towns: Sequence[str] | None = None,
) -> bytes:
    """The report's bytes; the PDF is drawn in a worker thread, off the event loop."""
    month = Month.parse(month_label, settings.report_timezone)
    sources = RevenueSources.of(settings)
    report = await monthly_report(session, month, now, sources, town, site_id, towns)
    if fmt == "csv":
        return monthly_csv(report).encode()
    if fmt == "json":
        return monthly_json(report).model_dump_json().encode()
    from evhub.reporting.monthly_pdf import monthly_pdf  # matplotlib: imported when drawing

    return await anyio.to_thread.run_sync(monthly_pdf, report)
