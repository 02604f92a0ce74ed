"""`evhub serve --workers N`: N nodes on one machine behind one port.

Each worker is a full node (its own event loop, its own registry of sockets) bound to the same
port with SO_REUSEPORT, so that the kernel spreads new connections over them; they share the
database and NATS like nodes on separate machines. The parent migrates once, starts them,
restarts one that dies, and stops them all on SIGTERM or SIGINT; killed, it takes them with it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType

from evhub.db import is_sqlite
from evhub.settings import Settings

log = logging.getLogger("evhub.cluster")

RESTART_DELAY_S = 1.0
POLL_S = 0.2
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def workers_refused(settings: Settings, workers: int) -> str | None:
    """Why `workers` processes cannot run with these settings (None: they can)."""
    if workers <= 1:
        return None
    if not settings.nats_url:
        return "--workers above 1 needs EVHUB_NATS_URL (a NATS server with JetStream)"
    if is_sqlite(settings.database_url):
        return "--workers above 1 needs PostgreSQL (EVHUB_DATABASE_URL=postgresql+asyncpg://...)"
    return None


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket that other workers bind too (Linux spreads accepts across them)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _spawn(settings: Settings, host: str, port: int, index: int) -> subprocess.Popen[bytes]:
    base = settings.node_id or socket.gethostname()
    env = os.environ | {
        "EVHUB_NODE_ID": f"{base}-w{index}"[:40],
        "EVHUB_MIGRATE_ON_START": "false",
    }
    command = [sys.executable, "-c", "from evhub.cli import app; app()", "serve",
               "--host", host, "--port", str(port), "--reuse-port"]  # fmt: skip
    watched = _die_with(os.getpid()) if sys.platform.startswith("linux") else None
    return subprocess.Popen(command, env=env, preexec_fn=watched)


def _die_with(parent: int) -> Callable[[], None]:
    """In the child before it runs: SIGTERM to it when the parent dies, by SIGKILL too
    (Linux prctl PR_SET_PDEATHSIG), so that a killed parent leaves no worker holding the
    port; a parent gone before the call ends the child at once."""

    def arm() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return arm


def run_workers(settings: Settings, host: str, port: int, workers: int) -> int:
    """Run and keep `workers` nodes until a signal; the exit status of the parent."""
    children = {i: _spawn(settings, host, port, i) for i in range(1, workers + 1)}
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # Polled rather than os.wait(): a signal delivered to another thread of this process
    # would not interrupt a blocking wait, and the handler would never run.
    while not stopping:
        time.sleep(POLL_S)
        for index, child in list(children.items()):
            if child.poll() is not None and not stopping:
                log.warning("worker=%d event=died status=%d restart_in_s=%.0f", index,
                            child.returncode, RESTART_DELAY_S)  # fmt: skip
                time.sleep(RESTART_DELAY_S)  # a worker failing at once must not spin
                children[index] = _spawn(settings, host, port, index)
    for child in children.values():
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    return 0
