"""Whole-process start-up: `mem --help`, `mem add`, `mem show`, `mem recall` on a small tree.

Each command is run N times as a fresh process (what a shell or an agent pays per call);
the median and the spread (min, p90, max) are printed and written to bench/out/startup.json.
Goals (issue 2): --help <= 150 ms, add and show <= 200 ms.

    .venv/bin/python bench/startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEM = str(Path(sys.executable).with_name("mem"))
EXAMPLE = Path(__file__).resolve().parent.parent / ".memory-example"
OUT = Path(__file__).parent / "out"


def measure(command: list[str], runs: int, env: dict[str, str], before: object = None) -> list[float]:
    times = []
    for run in range(runs):
        if callable(before):
            before(run)
        started = time.perf_counter()
        completed = subprocess.run(
            command(run) if callable(command) else command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=False,
        )
        times.append((time.perf_counter() - started) * 1000)
        if completed.returncode != 0:
            raise SystemExit(f"{command} failed: {completed.stderr.decode()[-500:]}")
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median": round(statistics.median(ordered), 1),
        "min": round(ordered[0], 1),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        "max": round(ordered[-1], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "memory"
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mem"))
        env = {**os.environ, "MEM_ROOT": str(root)}
        subprocess.run([MEM, "reindex"], env=env, check=True, stdout=subprocess.DEVNULL)
        results = {
            "mem --help": measure([MEM, "--help"], args.runs, env),
            "mem add": measure(
                lambda run: [MEM, "add", f"bench/startup/entry-{run}", "A benchmark entry."], args.runs, env
            ),
            "mem show": measure(
                [MEM, "show", "gotchas/database/pgbouncer-prepared-statements", "--json"], args.runs, env
            ),
            "mem recall": measure([MEM, "recall", "pgbouncer prepared statements", "--json"], args.runs, env),
            "python -c pass": measure([sys.executable, "-c", "pass"], args.runs, env),
        }
    report = {name: summary(times) for name, times in results.items()}
    OUT.mkdir(exist_ok=True)
    (OUT / "startup.json").write_text(json.dumps({"runs": args.runs, "results": report}, indent=2) + "\n")
    print(f"{args.runs} runs each, whole process, ms")
    print("| command | median | min | p90 | max |\n|---|---|---|---|---|")
    for name, values in report.items():
        print(f"| `{name}` | {values['median']} | {values['min']} | {values['p90']} | {values['max']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
