"""The OCPI wire format: the response envelope, status codes, timestamps, pagination headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any
from urllib.parse import urlencode


class OcpiStatus(IntEnum):
    """OCPI 2.2.1 §5 status codes (the subset evhub sends or reads)."""

    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    UNABLE_TO_USE_CLIENT_API = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003


class InterfaceRole(StrEnum):
    """OCPI 2.2.1 §6.2.4: who owns the data behind an endpoint."""

    SENDER = "SENDER"
    RECEIVER = "RECEIVER"


class Role(StrEnum):
    """OCPI 2.2.1 §16.5.1 roles of a party."""

    CPO = "CPO"
    EMSP = "EMSP"
    HUB = "HUB"
    NAP = "NAP"
    NSP = "NSP"
    OTHER = "OTHER"
    SCSP = "SCSP"


class OcpiError(Exception):
    """A request evhub refuses; answered as an envelope with this HTTP and OCPI status.

    OCPI 2.2.1 §5: a request that reached the OCPI layer gets HTTP 200 and the error in its
    status code; 401 (token), 404 (unknown object) and 405 (credentials) are the exceptions.
    """

    def __init__(self, message: str, status: OcpiStatus, http_status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.http_status = http_status


class PartnerError(Exception):
    """A partner's platform answered in a way evhub cannot use (OCPI status 3001)."""


_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,4})?Z?$")


def format_timestamp(at: datetime) -> str:
    """OCPI 2.2.1 §16.2: UTC, RFC 3339, at most 25 characters (`2015-06-29T20:39:09Z`).

    Seconds precision: a partner filters on `date_from`, inclusive, so a truncated value only
    makes it fetch an object once more, never miss one.
    """
    if at.tzinfo is None:
        raise ValueError("naive datetime given; OCPI timestamps are UTC")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """Read an OCPI DateTime: UTC, `Z` optional (its absence means UTC too), fractions allowed."""
    if len(text) > 25 or not _TIMESTAMP.match(text):
        raise ValueError(f"not an OCPI 2.2.1 DateTime: {text!r}")
    parsed = datetime.fromisoformat(text.removesuffix("Z"))
    return parsed.replace(tzinfo=UTC)


def envelope(
    data: Any, now: datetime, status: OcpiStatus = OcpiStatus.SUCCESS, message: str | None = None
) -> dict[str, Any]:
    """OCPI 2.2.1 §4.1.7: every response body, errors included."""
    body: dict[str, Any] = {"status_code": int(status), "timestamp": format_timestamp(now)}
    if data is not None:
        body["data"] = data
    if message is not None:
        body["status_message"] = message
    return body


def page_headers(
    url: str, params: dict[str, str], offset: int, limit: int, count: int, total: int
) -> dict[str, str]:
    """OCPI 2.2.1 §4.1.3: X-Total-Count, X-Limit, and a `next` Link that keeps the filters."""
    headers = {"X-Total-Count": str(total), "X-Limit": str(limit)}
    if offset + count < total:
        query = {k: v for k, v in params.items() if k not in ("offset", "limit")}
        query |= {"offset": str(offset + count), "limit": str(limit)}
        headers["Link"] = f'<{url}?{urlencode(query)}>; rel="next"'
    return headers


_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def next_link(header: str | None) -> str | None:
    """The `next` page URL of a Link header, if there is one."""
    if not header:
        return None
    found = _NEXT_LINK.search(header)
    return found.group(1) if found else None
