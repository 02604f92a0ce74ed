"""Errors of driver self-service, beside the shared ones of `evhub.errors`."""

from __future__ import annotations

from evhub.errors import DomainError


class NotSignedIn(DomainError):
    """Wrong e-mail or password, or a driver session that is unknown, revoked or expired."""

    status_code = 401


class EmailNotVerified(DomainError):
    status_code = 403


class LinkExpired(DomainError):
    """A genuine link from a mail, followed too late."""

    status_code = 410
