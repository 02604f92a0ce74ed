"""The processes of a cluster on one machine: NATS with JetStream, a throw-away PostgreSQL,
nodes and haproxy. For `evhub cluster up` and the multi-node test; production runs each of
these under its own service manager."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

READY_TIMEOUT_S = 90.0  # a loaded machine starts a node slowly


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    """Until something listens on `port`; fails at once if the process died."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)  # a port that is not open yet: nothing to wait on
    raise TimeoutError(f"{what} not listening on {port}")


def find_binary(name: str, *places: str) -> str | None:
    found = shutil.which(name)
    return found or next((p for p in places if Path(p).is_file()), None)


def nats_binary() -> str | None:
    return find_binary("nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server")


def start_nats(
    directory: Path, port: int, monitor_port: int | None = None
) -> subprocess.Popen[bytes]:
    """nats-server with JetStream storing under `directory`, on loopback (its HTTP monitor on
    `monitor_port`, if given)."""
    binary = nats_binary()
    if binary is None:
        raise RuntimeError("nats-server not found (Debian: apt-get install nats-server)")
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "nats.log", "ab") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [binary, "-js", "-sd", str(directory / "jetstream"), "-a", "127.0.0.1",
             "-p", str(port), *(["-m", str(monitor_port)] if monitor_port else [])],
            stdout=log, stderr=log,
        )  # fmt: skip
    wait_port(port, process, "nats-server")
    return process


def pg_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return versions[-1] if versions else None


def start_postgres(directory: Path, port: int) -> str:
    """An initdb'd PostgreSQL cluster under `directory` (run as `postgres` when root); its URL."""
    bin_dir = pg_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL not found (Debian: apt-get install postgresql)")
    data = directory / "pgdata"
    data.mkdir(parents=True)
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
        shutil.chown(data, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
    subprocess.run([*as_pg, *initdb, "-E", "UTF8"], check=True, stdout=subprocess.DEVNULL)
    options = f"-p {port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300"
    subprocess.run([*as_pg, str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
                    str(directory / "postgres.log"), "-w", "-o", options, "start"],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"


def stop_postgres(directory: Path) -> None:
    bin_dir = pg_bin()
    if bin_dir is None:
        return
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*as_pg, str(bin_dir / "pg_ctl"), "-D", str(directory / "pgdata"), "-m",
                    "fast", "-w", "stop"], check=False, stdout=subprocess.DEVNULL)  # fmt: skip


def start_node(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen[bytes]:
    """One `evhub serve` on loopback with `env` (EVHUB_* settings)."""
    command = [sys.executable, "-c", "from evhub.cli import app; app()", "serve",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with open(log_path, "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(command, env=env, stdout=log, stderr=log)


def haproxy_binary() -> str | None:
    return find_binary("haproxy", "/usr/sbin/haproxy")


def start_haproxy(config: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    binary = haproxy_binary()
    if binary is None:
        raise RuntimeError("haproxy not found (Debian: apt-get install haproxy)")
    process = subprocess.Popen([binary, "-f", str(config), "-db"], env=env)
    wait_port(port, process, "haproxy")
    return process
