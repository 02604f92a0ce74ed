"""The OCPI wire format: envelope, timestamps, pagination headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from evhub.roaming.wire import (
    OcpiStatus,
    envelope,
    format_timestamp,
    next_link,
    page_headers,
    parse_timestamp,
)
from tests.roaming_schemas.validator import assert_envelope

AT = datetime(2026, 12, 1, 19, 30, 5, 123456, tzinfo=UTC)


def test_timestamps_are_utc_with_z_and_at_most_25_characters() -> None:
    paris = AT.astimezone(timezone(timedelta(hours=1)))
    text = format_timestamp(paris)
    assert text == "2026-12-01T19:30:05Z"
    assert len(text) <= 25


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        format_timestamp(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-06-29T20:39:09Z", datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)),
        ("2015-06-29T20:39:09", datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)),
        ("2016-12-29T17:45:09.2Z", datetime(2016, 12, 29, 17, 45, 9, 200000, tzinfo=UTC)),
    ],
)
def test_the_datetime_forms_of_ocpi_2_2_1_are_read_as_utc(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(
    "text", ["2015-06-29T20:39:09+02:00", "2015-06-29", "yesterday", "2015-06-29T20:39:09.1234567Z"]
)
def test_other_datetime_forms_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_envelope_of_a_success_and_of_an_error() -> None:
    ok = envelope([1, 2], AT)
    assert ok == {"status_code": 1000, "timestamp": "2026-12-01T19:30:05Z", "data": [1, 2]}
    error = envelope(None, AT, OcpiStatus.UNKNOWN_LOCATION, "no such location")
    assert error["status_code"] == 2003 and error["status_message"] == "no such location"
    assert "data" not in error
    assert_envelope(ok)
    assert_envelope(error)


def test_next_link_keeps_the_filters_and_moves_the_offset() -> None:
    url = "https://evhub.example/ocpi/cpo/2.2.1/locations"
    params = {"date_from": "2026-01-01T00:00:00Z", "offset": "0", "limit": "2"}
    headers = page_headers(url, params, offset=0, limit=2, count=2, total=5)
    assert headers["X-Total-Count"] == "5" and headers["X-Limit"] == "2"
    link = next_link(headers["Link"])
    assert link is not None and headers["Link"].endswith('; rel="next"')
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == url
    assert parse_qs(parts.query) == {
        "date_from": ["2026-01-01T00:00:00Z"],
        "offset": ["2"],
        "limit": ["2"],
    }


def test_the_last_page_has_no_link_but_keeps_the_limit() -> None:
    headers = page_headers("https://x/l", {}, offset=4, limit=2, count=1, total=5)
    assert "Link" not in headers and headers["X-Limit"] == "2"
    assert next_link(None) is None
    assert next_link('<https://x/l?offset=2>; rel="prev"') is None
