"""`evhub roaming invite` and `evhub roaming connect` as an operator runs them: child
processes on the servers' databases, while the servers answer each other."""

from __future__ import annotations

import asyncio
import os
import sys

from evhub.roaming import partners, remote
from evhub.roaming.context import RoamingContext
from evhub.roaming.partners import PartnerStatus
from evhub.roaming.wire import Role
from tests.committed_events import EventTail
from tests.integration.live_server import run_server

CLI = [sys.executable, "-c", "from evhub.cli import app; app()", "roaming"]


async def _evhub(*args: str, **settings: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVHUB_")}
    env |= {f"EVHUB_{k.upper()}": v for k, v in settings.items()} | {"COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(
        *CLI, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(60):
        out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


# Both servers share the test's event loop and the handshake nests calls between them (the
# command calls A, which calls B back): on a loaded machine, more than the default 10 s.
SLOW_S = 30.0


async def test_invite_prints_token_a_and_connect_registers_through_the_running_servers(
    database_url: str,
    other_database_url: str,
) -> None:
    async with (
        run_server(database_url, ocpi_party_id="EVA", roaming_request_timeout_s=SLOW_S) as a,
        run_server(other_database_url, ocpi_party_id="EVB", roaming_request_timeout_s=SLOW_S) as b,
    ):
        code, out = await _evhub(
            "invite", "--name", "Hub B", "--country-code", "FR", "--party-id", "EVB",
            "--role", "EMSP", database_url=database_url, ocpi_party_id="EVA",
        )  # fmt: skip
        assert code == 0, out
        token_a = out.strip().splitlines()[-1]
        assert 20 <= len(token_a) <= 64 and " " not in token_a

        await a.add_site(address="3 quai Est", town="Lyon", latitude=45.75, longitude=4.85)
        b_ctx: RoamingContext = b.app.state.roaming
        async with b_ctx.uow() as s:
            assert await remote.list_objects(s, "locations") == []
        code, out = await _evhub(
            "connect", "--versions-url", f"{a.base_url}/ocpi/versions", "--token", token_a,
            database_url=other_database_url, ocpi_party_id="EVB", public_url=b.base_url,
            roaming_request_timeout_s=str(SLOW_S),
        )  # fmt: skip
        assert code == 0, out
        a_ctx: RoamingContext = a.app.state.roaming
        async with a_ctx.uow() as s:
            (b_in_a,) = await partners.list_all(s)
        assert b_in_a.status == PartnerStatus.REGISTERED
        assert partners.plays(b_in_a, Role.CPO, "FR", "EVB")
        # B's server, which did not make the registration, pulls A's locations at its next look.
        events = await EventTail.open(b.app.state.services.events)
        async with asyncio.timeout(30):
            async with b_ctx.uow() as s:
                cached = await remote.list_objects(s, "locations")
            while not cached:
                await events.next("roaming.remote_locations_stored")
                async with b_ctx.uow() as s:
                    cached = await remote.list_objects(s, "locations")
        assert cached[0].data["city"] == "Lyon"

        # TOKEN_A is spent: a second connect with it fails and says so.
        code, out = await _evhub(
            "connect", "--versions-url", f"{a.base_url}/ocpi/versions", "--token", token_a,
            database_url=other_database_url, ocpi_party_id="EVB", public_url=b.base_url,
            roaming_request_timeout_s=str(SLOW_S),
        )  # fmt: skip
        assert code == 2, out
        assert "error" in out
