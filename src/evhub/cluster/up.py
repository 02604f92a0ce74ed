"""`evhub cluster up`: NATS (JetStream in a temporary directory), PostgreSQL (an initdb'd
temporary cluster unless a URL is given), three nodes on loopback and haproxy in front of them
(`deploy/haproxy.cfg`), then the demo hub driven through haproxy."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console

from evhub.cluster import local
from evhub.db import migrate
from evhub.demo.run import run_sim

NODES = 3  # as many as deploy/haproxy.cfg lists
HAPROXY_CFG = Path(__file__).resolve().parents[3] / "deploy" / "haproxy.cfg"


def _wait_healthy(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # a port that is not open yet: nothing to wait on
    raise TimeoutError(f"{what} not healthy at {url}")


class LocalCluster:
    def __init__(self, port: int, database_url: str | None, console: Console) -> None:
        self.port, self.database_url, self.console = port, database_url, console
        self.dir = Path(tempfile.mkdtemp(prefix="evhub-cluster-"))
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []
        # Its own directory: when run as root, PostgreSQL runs as `postgres` and must reach it.
        self.pg_dir = (
            Path(tempfile.mkdtemp(prefix="evhub-cluster-pg-")) if database_url is None else None
        )
        self.admin_key = "evh_" + secrets.token_urlsafe(32)
        self.node_ports: dict[str, int] = {}  # node name -> its own port, behind haproxy

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        nats_port = local.free_port()
        self.processes.append(("nats", local.start_nats(self.dir / "nats", nats_port)))
        if self.database_url is None:
            assert self.pg_dir is not None
            self.database_url = local.start_postgres(self.pg_dir, local.free_port())
        migrate(self.database_url)  # once, before the nodes
        env = {k: v for k, v in os.environ.items() if not k.startswith("EVHUB_")} | {
            "EVHUB_DATABASE_URL": self.database_url,
            "EVHUB_NATS_URL": f"nats://127.0.0.1:{nats_port}",
            "EVHUB_BOOTSTRAP_ADMIN_KEY": self.admin_key,
            "EVHUB_SECRET_KEY": secrets.token_urlsafe(48),
            "EVHUB_VAR_DIR": str(self.dir / "var"),
            "EVHUB_MIGRATE_ON_START": "false",
            "EVHUB_LOG_LEVEL": "warning",
            "EVHUB_PUBLIC_URL": self.url,
        }
        proxy_env = dict(os.environ) | {"EVHUB_HAPROXY_BIND": f"127.0.0.1:{self.port}"}
        for n in range(1, NODES + 1):
            port = local.free_port()
            node_env = env | {"EVHUB_NODE_ID": f"node-{n}"}
            node = local.start_node(node_env, port, self.dir / f"node-{n}.log")
            self.processes.append((f"node-{n}", node))
            self.node_ports[f"node-{n}"] = port
            _wait_healthy(f"http://127.0.0.1:{port}", node, f"node-{n}")
            proxy_env[f"EVHUB_NODE{n}"] = f"127.0.0.1:{port}"
            self.console.print(f"node-{n} on 127.0.0.1:{port} (log {self.dir}/node-{n}.log)")
        proxy = local.start_haproxy(HAPROXY_CFG, proxy_env, self.port)
        self.processes.append(("haproxy", proxy))
        _wait_healthy(self.url, proxy, "haproxy")

    def stop(self) -> None:
        """haproxy first, then the nodes together, NATS last (the nodes close their links)."""
        proxy_and_nodes = [p for name, p in self.processes if name != "nats"]
        for group in (
            proxy_and_nodes[-1:],
            proxy_and_nodes[:-1],
            [p for n, p in self.processes if n == "nats"],
        ):
            for process in group:
                if process.poll() is None:
                    process.terminate()
            for process in group:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        if self.pg_dir is not None:
            local.stop_postgres(self.pg_dir)
            shutil.rmtree(self.pg_dir, ignore_errors=True)


def cluster_up(port: int, database_url: str | None, demo: bool, speed: float, hours: float) -> None:
    console = Console()
    cluster = LocalCluster(port, database_url, console)
    try:
        cluster.start()
        console.print(f"[bold]cluster up[/bold] at {cluster.url} (haproxy), admin key "
                      f"{cluster.admin_key}, files under {cluster.dir}")  # fmt: skip
        if demo:
            summary = asyncio.run(run_sim(cluster.url, speed, hours, 20, 4, 7, cluster.admin_key))
            console.print(f"demo over: {summary.sessions} sessions, "
                          f"{summary.energy_kwh:.0f} kWh delivered")  # fmt: skip
        else:
            console.print("Ctrl-C stops it")
            while all(p.poll() is None for _, p in cluster.processes):
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
