"""Maintenance tickets: the list by state, and closing one with a note."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from evhub.deps import ClockDep, SessionDep
from evhub.errors import DomainError
from evhub.maintenance import service as maintenance
from evhub.maintenance.models import TicketState
from evhub.web.console import PageOperator, PageViewer, read_form, render

router = APIRouter(include_in_schema=False)


@router.get("/tickets", response_class=HTMLResponse)
async def tickets_page(
    request: Request, principal: PageViewer, session: SessionDep, state: str = "open"
) -> HTMLResponse:
    chosen = TicketState(state) if state in {s.value for s in TicketState} else None
    tickets = await maintenance.list_tickets(session, chosen, None, None, None, 500, 0)
    return render(
        request, "tickets.html", principal, tickets=tickets, state=state,
        states=[s.value for s in TicketState],
    )  # fmt: skip


@router.post("/tickets/{ticket_id}/close", response_class=HTMLResponse)
async def close_ticket(
    ticket_id: int,
    request: Request,
    principal: PageOperator,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    form = await read_form(request)
    note = form.get("note", "").strip()
    error = ""
    if not note:
        error = "A note is needed to close a ticket."
    else:
        try:
            await maintenance.close_by_technician(session, ticket_id, note, principal.name,
                                                  clock.now())  # fmt: skip
        except DomainError as exc:
            error = exc.message
    if not request.headers.get("HX-Request"):
        return RedirectResponse("/tickets", status_code=status.HTTP_303_SEE_OTHER)
    ticket = await maintenance.get_ticket(session, ticket_id)
    return render(request, "_ticket_row.html", principal, t=ticket, error=error)
