"""The public IRVE files under /open-data: no authentication, cacheable (ETag, max-age)."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from evhub.deps import ClockDep, SessionDep
from evhub.openapi import error_responses
from evhub.reporting.irve import IrveIncomplete, dynamic_csv, static_csv

router = APIRouter(prefix="/open-data", tags=["open-data"])
CSV = "text/csv; charset=utf-8"
# A file that lacks required data is not published: 404, with what is missing.
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The file"},
    304: {"description": "Not modified since the ETag the reader sent"},
    **error_responses(404),
}


@router.get("/irve-statique.csv", responses=RESPONSES)
async def irve_static(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    try:
        body = await static_csv(session, clock.now().date())
    except IrveIncomplete as exc:
        return _not_published(exc)
    return _cached(request, body, request.app.state.settings.open_data_max_age_s)


@router.get("/irve-dynamique.csv", responses=RESPONSES)
async def irve_dynamic(request: Request, session: SessionDep, clock: ClockDep) -> Response:
    try:
        body = await dynamic_csv(session, clock.now())
    except IrveIncomplete as exc:
        return _not_published(exc)
    # The dynamic file changes with every status: readers may keep it one minute at most.
    return _cached(request, body, min(60, request.app.state.settings.open_data_max_age_s))


def _cached(request: Request, body: str, max_age_s: int) -> Response:
    """A strong ETag of the content; a reader that has it gets 304 Not Modified."""
    data = body.encode()
    etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age_s}"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=CSV, headers=headers)


def _not_published(exc: IrveIncomplete) -> Response:
    return JSONResponse(
        {"detail": "the IRVE file is not published: data is missing",
         "missing": [m.model_dump() for m in exc.missing]},
        status_code=404,
        headers={"Cache-Control": "no-store"},
    )  # fmt: skip
