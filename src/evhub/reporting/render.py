"""The monthly report rendered in a format: one entry point for the CLI, the API and the console."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.reporting.monthly import Month, monthly_report
from evhub.reporting.monthly_csv import monthly_csv

ReportFormat = Literal["csv", "pdf"]
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


async def render_monthly(
    session: AsyncSession,
    month_label: str,
    timezone: str,
    now: datetime,
    fmt: ReportFormat,
    town: str | None = None,
    site_id: int | None = None,
    towns: Sequence[str] | None = None,
) -> bytes:
    """The report's bytes; the PDF is drawn in a worker thread, off the event loop."""
    month = Month.parse(month_label, timezone)
    report = await monthly_report(session, month, now, town, site_id, towns)
    if fmt == "csv":
        return monthly_csv(report).encode()
    from evhub.reporting.monthly_pdf import monthly_pdf  # matplotlib: imported when drawing

    return await anyio.to_thread.run_sync(monthly_pdf, report)
