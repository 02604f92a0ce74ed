"""What the server's cyclic collector cost: the environment that has a server process time
its collections (`collector_probe/sitecustomize.py`), and the seconds read back."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PROBE = Path(__file__).resolve().parent / "collector_probe"


def probe_env(folder: Path) -> dict[str, str]:
    """Environment variables for a server whose collections are to be timed, into files in
    `folder` (one per process)."""
    path = [str(PROBE), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(path),
            "EVHUB_BENCH_GC_FILE": str(folder / "collector-{pid}.jsonl")}  # fmt: skip


def collected(folder: Path, pid: int) -> dict[str, Any] | None:
    """The seconds and collections so far of process `pid` (to half a second), or None."""
    path = folder / f"collector-{pid}.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):  # the last line may be half written
        try:
            generations = json.loads(line)["generations"]
        except (ValueError, KeyError):
            continue
        return {
            "s": sum(g["s"] for g in generations.values()),
            "full_s": generations["2"]["s"],
            "full_collections": generations["2"]["collections"],
        }
    return None


def between(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """The collector's share between two readings, for a benchmark's JSON."""
    if before is None or after is None:
        return {}
    return {
        "server_gc_s": round(after["s"] - before["s"], 2),
        "server_gc_full_s": round(after["full_s"] - before["full_s"], 2),
        "server_gc_full_collections": after["full_collections"] - before["full_collections"],
    }
