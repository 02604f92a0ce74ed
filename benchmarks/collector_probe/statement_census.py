"""Counts the SQL statements of a server process started with EVHUB_BENCH_SQL_FILE set (a path;
"{pid}" in it becomes the process id): per statement text, its executions and parameter sets
so far, the whole census rewritten twice a second as one JSON object. The load benchmark reads
it at both ends of its window (`collector_timing.statements`), to say what each message cost
the database in statements; nothing of evhub loads it."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any


def install(path: str) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    counts: dict[str, list[int]] = {}

    def counted(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        key = " ".join(statement.split())[:160]
        entry = counts.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += len(parameters) if many else 1

    def write() -> None:
        while True:
            snapshot = {key: list(entry) for key, entry in list(counts.items())}
            with open(path + ".tmp", "w", encoding="utf-8") as out:
                json.dump(snapshot, out)
            os.replace(path + ".tmp", path)
            time.sleep(0.5)

    event.listen(Engine, "before_cursor_execute", counted)
    threading.Thread(target=write, name="statement-census", daemon=True).start()
