"""Times the cyclic collector of a Python process started with this folder on PYTHONPATH and
EVHUB_BENCH_GC_FILE set (a path; "{pid}" in it becomes the process id): twice a second, the
seconds and collections so far per generation, one JSON line each, timed by `gc.callbacks`
around every collection. The benchmarks read it for the server they start
(`collector_timing.py`); nothing of evhub loads it. With EVHUB_BENCH_SQL_FILE set too, it
also counts the process's SQL statements (`statement_census.py`)."""

from __future__ import annotations

import gc
import json
import os
import threading
import time

_PATH = os.environ.get("EVHUB_BENCH_GC_FILE")


def _install(path: str) -> None:
    started: dict[int, float] = {}
    totals = {g: [0, 0.0] for g in range(3)}

    def timed(phase: str, info: dict[str, int]) -> None:
        generation = info["generation"]
        if phase == "start":
            started[generation] = time.perf_counter()
        elif generation in started:
            total = totals[generation]
            total[0] += 1
            total[1] += time.perf_counter() - started.pop(generation)

    def write() -> None:
        while True:
            line = {"generations": {str(g): {"collections": n, "s": round(s, 4)}
                                    for g, (n, s) in totals.items()}}  # fmt: skip
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
            time.sleep(0.5)

    gc.callbacks.append(timed)
    threading.Thread(target=write, name="collector-probe", daemon=True).start()


if _PATH:
    _install(_PATH.replace("{pid}", str(os.getpid())))
if os.environ.get("EVHUB_BENCH_SQL_FILE"):
    import statement_census

    statement_census.install(os.environ["EVHUB_BENCH_SQL_FILE"].replace("{pid}", str(os.getpid())))
