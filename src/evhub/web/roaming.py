"""Roaming in the console: partners (handshake, last syncs, pushes owed and their errors), and
the roaming Sessions and CDRs of both roles, newest first."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from evhub.deps import ReadSessionDep
from evhub.roaming import overview
from evhub.web.console import PageViewer, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
Page = Query(1, ge=1)


@router.get("/roaming", response_class=HTMLResponse)
async def partners_page(
    request: Request, principal: PageViewer, session: ReadSessionDep
) -> HTMLResponse:
    views = await overview.partner_views(session)
    return render(
        request, "roaming.html", principal, partners=views,
        names={v.partner.id: v.partner.name for v in views},
        failing=await overview.failing(session),
    )  # fmt: skip


@router.get("/roaming/sessions", response_class=HTMLResponse)
async def sessions_page(
    request: Request, principal: PageViewer, session: ReadSessionDep, page: int = Page
) -> HTMLResponse:
    offset = (page - 1) * PAGE_SIZE
    ours = await overview.cpo_sessions(session, PAGE_SIZE + 1, offset)
    theirs = await overview.received(session, "sessions", PAGE_SIZE + 1, offset)
    return render(
        request, "roaming_sessions.html", principal, ours=ours[:PAGE_SIZE],
        theirs=theirs[:PAGE_SIZE], more=max(len(ours), len(theirs)) > PAGE_SIZE, page=page,
    )  # fmt: skip


@router.get("/roaming/cdrs", response_class=HTMLResponse)
async def cdrs_page(
    request: Request, principal: PageViewer, session: ReadSessionDep, page: int = Page
) -> HTMLResponse:
    offset = (page - 1) * PAGE_SIZE
    ours = await overview.cpo_cdrs(session, PAGE_SIZE + 1, offset)
    theirs = await overview.received(session, "cdrs", PAGE_SIZE + 1, offset)
    return render(
        request, "roaming_cdrs.html", principal, ours=ours[:PAGE_SIZE],
        theirs=theirs[:PAGE_SIZE], more=max(len(ours), len(theirs)) > PAGE_SIZE, page=page,
    )  # fmt: skip
