"""The whole REST API fuzzed from its own OpenAPI document (schemathesis) against the real
server: no input, valid or not, gets a 5xx, and every answer is a status the document lists.

Bounded so that it stays a test: a few examples per operation and mode, and a time budget."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.integration.live_server import LiveServer, run_server

EXAMPLES = 4
BUDGET_S = 30.0
# The event stream never ends (it is tested on its own); revoking keys would revoke the
# fuzzer's own; the station upload endpoint streams files (tested in test_upload_urls).
SKIPPED = {"GET /api/v1/events", "DELETE /api/v1/api-keys/{key_id}"}


def _fuzz(schema: Any, base_url: str, headers: dict[str, str]) -> tuple[list[str], int]:
    """Run every operation's examples in both modes; the failures and the number of calls."""
    failures: list[str] = []
    calls = 0
    deadline = time.monotonic() + BUDGET_S
    settings = hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SKIPPED:
            continue
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            if time.monotonic() > deadline:
                return failures, calls
            label = f"{operation.label} [{mode}]"

            @settings
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: schemathesis.Case) -> None:
                nonlocal calls
                calls += 1
                response = case.call(base_url=base_url, headers=headers, timeout=10)
                case.validate_response(
                    response, checks=[not_a_server_error, status_code_conformance]
                )

            try:
                check()
            except hypothesis.errors.Unsatisfiable:
                pass  # nothing invalid to send (e.g. a free-text path parameter, negatively)
            except (Exception, BaseExceptionGroup) as exc:  # hypothesis re-raises the minimal one
                failures.append(f"{label}: {_summary(exc)}")
    return failures, calls


def _summary(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:400]


@pytest.mark.timeout(120)
async def test_no_request_gets_a_server_error_nor_an_undocumented_status(
    database_url: str,
) -> None:
    async with run_server(database_url) as server:
        await _hub(server)
        document = (await server.http.get("/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(document)
        headers = {"Authorization": server.http.headers["Authorization"]}
        started = time.monotonic()
        failures, calls = await asyncio.to_thread(_fuzz, schema, server.base_url, headers)
        elapsed = time.monotonic() - started
    assert calls > 100, calls
    assert not failures, "\n".join(failures)
    assert elapsed < BUDGET_S + 15


async def _hub(server: LiveServer) -> None:
    """A little data, so that some generated ids are found."""
    site = await server.add_site()
    await server.add_station("CP-1", site, evses=[{"evse_id": 1}])
    await server.add_token("T1")
