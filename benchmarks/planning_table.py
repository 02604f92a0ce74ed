"""Replay every Caltech file at every capacity through each algorithm; one JSON line per run.

    .venv/bin/python benchmarks/planning_table.py --out var/planning_runs.jsonl
    .venv/bin/python benchmarks/planning_table.py --table var/planning_runs.jsonl

The first form appends results (runs already in the file are skipped, so it can be resumed);
the second prints the markdown table of benchmarks/RESULTS.md. Each run is the same as
`evhub bench planning --sessions FILE --stations 54 --station-kw 6.656 --capacity-kw KW
--algorithm ALG [--declared] --json`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from evhub.planning.acn import read_acn_sessions
from evhub.planning.replay import ReplayConfig, replay, to_replay_sessions

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "acn"
CAPACITIES = (20.0, 30.0, 50.0, 70.0, 150.0)
RUNS = [
    ("offline", False),
    ("lp", False),
    ("llf", False),
    ("lp", True),
    ("llf", True),
    ("edf", False),
    ("fcfs", False),
    ("rr", False),
    ("uncontrolled", False),
]


def run_all(out: Path) -> None:
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["file"], r["capacity_kw"], r["algorithm"], r["declared"]))
    out.parent.mkdir(parents=True, exist_ok=True)
    for path in sorted(DATA.glob("caltech_*.csv.gz")):
        slotted, _ = to_replay_sessions(read_acn_sessions(path), stations=54)
        for kw in CAPACITIES:
            for algorithm, declared in RUNS:
                if (path.name, kw, algorithm, declared) in done:
                    continue
                config = ReplayConfig(
                    capacity_kw=kw, station_kw=6.656, algorithm=algorithm, declared=declared
                )
                result = replay(slotted, config, file=path.name, stations=54).to_dict()
                with out.open("a") as f:
                    f.write(json.dumps(result, sort_keys=True) + "\n")
                print(
                    path.name, kw, algorithm, declared, result["energy_delivered_pct"], flush=True
                )


def table(runs_file: Path) -> str:
    runs = {}
    for line in runs_file.read_text().splitlines():
        r = json.loads(line)
        runs[(r["file"], r["capacity_kw"], r["algorithm"], r["declared"])] = r

    def cell(f: str, kw: float, alg: str, declared: bool = False, peak: bool = True) -> str:
        r = runs.get((f, kw, alg, declared))
        if r is None:
            return "—"
        text = f"{r['energy_delivered_pct']:.2f} / {r['demands_met_pct']:.1f}"
        return text + (f" / {r['peak_kw']:.1f}" if peak else "")

    lines = [
        "| file | kW | offline E% | lp E% / met% / peak | llf E% / met% / peak "
        "| lp declared E% / met% | llf declared E% / met% | edf E% | fcfs E% | rr E% "
        "| uncontrolled E% / peak | lp solve p50/p95 ms | lp wall s | violations lp, llf |",
        "|---|---:|---:|---|---|---|---|---:|---:|---:|---|---|---:|---|",
    ]
    for f in sorted({k[0] for k in runs}):
        for kw in CAPACITIES:
            lp, llf = runs.get((f, kw, "lp", False)), runs.get((f, kw, "llf", False))
            off = runs.get((f, kw, "offline", False))
            unc = runs.get((f, kw, "uncontrolled", False))

            def e(alg: str, f: str = f, kw: float = kw) -> str:
                r = runs.get((f, kw, alg, False))
                return f"{r['energy_delivered_pct']:.2f}" if r else "—"

            lines.append(
                f"| {f.removesuffix('.csv.gz')} | {kw:g} | {off['energy_delivered_pct']:.2f} | "
                if off
                else f"| {f} | {kw:g} | — | "
            )
            lines[-1] += (
                " | ".join(
                    [
                        cell(f, kw, "lp"),
                        cell(f, kw, "llf"),
                        cell(f, kw, "lp", True, False),
                        cell(f, kw, "llf", True, False),
                        e("edf"),
                        e("fcfs"),
                        e("rr"),
                        f"{unc['energy_delivered_pct']:.2f} / {unc['peak_kw']:.1f}" if unc else "—",
                        f"{lp['solve_ms_p50']:.1f} / {lp['solve_ms_p95']:.1f}" if lp else "—",
                        f"{lp['wall_s']:.1f}" if lp else "—",
                        ", ".join(str(r["limit_violations"]) if r else "—" for r in (lp, llf)),
                    ]
                )
                + " |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, help="append results to this JSON-lines file")
    parser.add_argument("--table", type=Path, help="print the table of this JSON-lines file")
    args = parser.parse_args()
    if args.out:
        run_all(args.out)
    if args.table:
        print(table(args.table))
