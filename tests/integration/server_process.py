"""The real evhub server as a separate process, to be killed with SIGKILL and started again.

Crash tests need what an in-process server cannot give: a process that dies at once, with no
shutdown hook, no flushed buffer and no cancelled task. `ServerProcess` runs `evhub serve` on a
free loopback port against the test's database, and can be killed and restarted on the same
port and database, so that stations and clients reconnect to the same address.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.integration.live_server import CLIENT_LIMITS

READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """`evhub serve` in a child process; `http` holds the admin key it was started with."""

    def __init__(
        self, database_url: str, serve_args: tuple[str, ...] = (), **settings: Any
    ) -> None:
        self.port = free_port()
        self.serve_args = serve_args  # e.g. ("--workers", "2")
        self.admin_key = "evh_" + secrets.token_urlsafe(32)
        self.var_dir = Path(tempfile.mkdtemp(prefix="evhub-proc-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVHUB_")}
        env |= {
            "EVHUB_DATABASE_URL": database_url,
            "EVHUB_BOOTSTRAP_ADMIN_KEY": self.admin_key,
            "EVHUB_VAR_DIR": str(self.var_dir),
            "EVHUB_SECRET_KEY": secrets.token_urlsafe(48),
            "EVHUB_LOG_LEVEL": "warning",
        }
        env |= {f"EVHUB_{k.upper()}": str(v) for k, v in settings.items()}
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.var_dir / "server.log"
        headers = {"Authorization": f"Bearer {self.admin_key}"}
        self.http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=30, limits=CLIENT_LIMITS
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def start(self) -> None:
        """Start the server and return once it answers on its port."""
        assert self.process is None or self.process.poll() is not None, "already running"
        command = [sys.executable, "-c", "from evhub.cli import app; app()", "serve"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port), *self.serve_args],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited at start:\n{self.log_path.read_text()[-4000:]}")
            try:
                if (await self.http.get("/healthz", timeout=1)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"server not ready:\n{self.log_path.read_text()[-4000:]}")
            await asyncio.sleep(0.05)  # polling a port that is not open yet: nothing to await

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    async def restart(self) -> None:
        self.kill()
        await self.start()

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 15)
            except subprocess.TimeoutExpired:
                self.kill()
        await self.http.aclose()


@asynccontextmanager
async def server_process(database_url: str, **settings: Any) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(database_url, **settings)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
