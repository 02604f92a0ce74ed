"""The error answers of every route in the OpenAPI document, with one error model.

FastAPI documents a route's success and its 422; the other answers come from mechanisms
around the handler (the role dependency, the domain error handler), so they are added here
from what each route is: a route behind a role answers 401 and 403; one with parameters or a
body 404 (a row they name); one that changes something 400 (a body that cannot be parsed) and
409; a remote operation 409 (offline) and 504 (silent). A route adds its own
through `responses=error_responses(...)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.utils import create_model_field
from pydantic import BaseModel, ConfigDict

from evhub.auth.deps import Require

REASONS = {
    400: "The body could not be parsed",
    401: "Not authenticated (no or unknown API key or session)",
    403: "Authenticated without the role the route needs, or without the CSRF token",
    404: "No such resource",
    409: "Conflicts with the current state (or the station is offline)",
    410: "Expired",
    413: "Body too large",
    422: "Invalid input: the reason is in detail",
    504: "The station did not answer in time",
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REMOTE_TAG = "remote operations"


class ErrorOut(BaseModel):
    """Every error answer: `detail` is the reason (a list of field errors for invalid input);
    domain errors may add fields of their own."""

    model_config = ConfigDict(extra="allow")
    detail: str | list[dict[str, Any]]


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut, "description": REASONS[code]} for code in codes}


def document_errors(router: APIRouter) -> APIRouter:
    """Add the error answers to every route of a domain's router (before it is included)."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        codes = {422}
        if any(isinstance(d.call, Require) for d in route.dependant.dependencies):
            codes |= {401, 403}
        dependant = route.dependant
        if dependant.path_params or dependant.query_params or dependant.body_params:
            codes.add(404)  # a row the path, the query or the body names is not found
        if (route.methods or set()) & WRITE_METHODS:
            codes |= {400, 409}  # a body that cannot be parsed; a conflict with the state
        if REMOTE_TAG in route.tags:
            codes |= {404, 409, 504}
        for code, response in error_responses(*sorted(codes)).items():
            if code in route.responses:
                continue
            route.responses[code] = response
            # FastAPI derives the response fields when the route is built: add ours alike.
            route.response_fields[code] = create_model_field(
                name=f"Response_{code}_{route.unique_id}", type_=ErrorOut, mode="serialization"
            )
    return router
