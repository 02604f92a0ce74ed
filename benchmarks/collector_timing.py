"""What the server's cyclic collector cost: the environment that has a server process time
its collections (`collector_probe/sitecustomize.py`), and the seconds read back."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PROBE = Path(__file__).resolve().parent / "collector_probe"


def probe_env(folder: Path, statements: bool = False) -> dict[str, str]:
    """Environment variables for a server whose collections are to be timed (and, with
    `statements`, its SQL statements counted), into files in `folder` (one per process)."""
    path = [str(PROBE), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {"PYTHONPATH": os.pathsep.join(path),
           "EVHUB_BENCH_GC_FILE": str(folder / "collector-{pid}.jsonl")}  # fmt: skip
    if statements:
        env["EVHUB_BENCH_SQL_FILE"] = str(folder / "statements-{pid}.json")
    return env


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


def statements(folder: Path, pid: int) -> dict[str, list[int]]:
    """Process `pid`'s SQL statements so far (to half a second): text -> [executions, rows]."""
    try:
        return dict(json.loads((folder / f"statements-{pid}.json").read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError):
        return {}


def statements_between(
    before: dict[str, list[int]], after: dict[str, list[int]], per: int, top: int = 12
) -> list[dict[str, Any]]:
    """The statements executed between two censuses, most executed first, with their
    executions and parameter sets per `per` (messages handled, say)."""
    rows = []
    for text, (executions, sets) in after.items():
        was = before.get(text, [0, 0])
        if executions > was[0]:
            rows.append((executions - was[0], sets - was[1], text))
    rows.sort(reverse=True)
    return [
        {"per_message": round(n / max(per, 1), 3), "rows_per_message": round(m / max(per, 1), 3),
         "statement": text}
        for n, m, text in rows[:top]
    ]  # fmt: skip
