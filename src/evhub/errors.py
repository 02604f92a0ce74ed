"""Domain exceptions, mapped once to HTTP statuses (api) and OCPP answers (gateway)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule violation a caller can act on."""

    status_code = 400

    def __init__(self, message: str, **detail: object) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Forbidden(DomainError):
    """The caller is known but may not see this (a funder asking for another town)."""

    status_code = 403


class InvalidInput(DomainError):
    status_code = 422


class StationUnavailable(DomainError):
    """The station is offline (409) or did not answer in time (504)."""

    status_code = 409


class StationTimeout(StationUnavailable):
    status_code = 504
