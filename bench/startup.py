"""Whole-process start-up: `mem --help`, `mem add`, `mem show`, `mem recall` on a small tree.

Each command is run N times as a fresh process (what a shell or an agent pays per call);
the median and the spread (min, p90, max) are printed, with each median as a multiple of
`python -c pass` measured in the same run, and written to bench/out/startup.json.
Goals (issue 2): --help <= 150 ms, add and show <= 200 ms.

`--before DIR` measures a second version of contextree in the same run, interleaved with
this one: DIR holds a `contextree/` source tree (for example `git archive main` unpacked
into DIR/contextree), put first on PYTHONPATH for the "before" runs. `--imports N` prints
the N slowest imports (cumulative, median of the runs) of `mem recall --json`.

    .venv/bin/python bench/startup.py [--runs 30] [--before DIR] [--imports 10]
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
from collections import defaultdict
from pathlib import Path

MEM = str(Path(sys.executable).with_name("mem"))
EXAMPLE = Path(__file__).resolve().parent.parent / ".memory-example"
OUT = Path(__file__).parent / "out"
RECALL = ["recall", "pgbouncer prepared statements", "--json"]


def run_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) ms of one run; CPU time moves less on a shared machine."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 0:
        raise SystemExit(f"{command} failed (status {status})")
    return elapsed, (usage.ru_utime + usage.ru_stime) * 1000


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median": round(statistics.median(ordered), 1),
        "min": round(ordered[0], 1),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        "max": round(ordered[-1], 1),
    }


def import_profile(env: dict[str, str], runs: int, top: int) -> list[dict[str, float | str]]:
    """The slowest imports of `mem recall --json` by cumulative time (median over runs)."""
    code = "import sys; from contextree.cli.app import main; sys.argv[0] = 'mem'; main()"
    cumulative: dict[str, list[int]] = defaultdict(list)
    own: dict[str, list[int]] = defaultdict(list)
    for _ in range(runs):
        completed = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code, *RECALL],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        for line in completed.stderr.splitlines():
            if not line.startswith("import time:") or "cumulative" in line:
                continue
            self_us, cumulative_us, name = line[len("import time:") :].split("|")
            cumulative[name.strip()].append(int(cumulative_us))
            own[name.strip()].append(int(self_us))
    ranked = sorted(cumulative, key=lambda name: -statistics.median(cumulative[name]))[:top]
    return [
        {
            "module": name,
            "cumulative_ms": round(statistics.median(cumulative[name]) / 1000, 1),
            "self_ms": round(statistics.median(own[name]) / 1000, 1),
        }
        for name in ranked
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--before", type=Path, help="a folder holding the previous version as contextree/")
    parser.add_argument("--imports", type=int, default=0, metavar="N", help="also list the N slowest imports")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "memory"
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".mem"))
        env = {**os.environ, "MEM_ROOT": str(root)}
        env.pop("PYTHONPATH", None)
        # Without compiled modules every process compiles its imports again (~50 ms).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([MEM, "reindex"], env=env, check=True, stdout=subprocess.DEVNULL)
        versions = {"": env}
        if args.before:
            versions["before: "] = {**env, "PYTHONPATH": str(args.before.resolve())}
        commands = {
            "mem --help": lambda run: [MEM, "--help"],
            "mem add --json": lambda run: [MEM, "add", f"bench/startup/entry-{run}", "A benchmark entry.", "--json"],
            "mem show --json": lambda run: [MEM, "show", "gotchas/database/pgbouncer-prepared-statements", "--json"],
            "mem recall --json": lambda run: [MEM, *RECALL],
            "mem recall (text, piped)": lambda run: [MEM, *RECALL[:-1]],
        }
        results: dict[str, list[float]] = defaultdict(list)
        cpu: dict[str, list[float]] = defaultdict(list)
        for run in range(args.runs):
            # Interleaved, and the order of the versions alternates: drift of a busy machine
            # falls on both alike.
            order = list(versions.items()) if run % 2 == 0 else list(versions.items())[::-1]
            for label, version_env in order:
                for name, command in commands.items():
                    argv = command(run)
                    if name == "mem add --json":
                        argv[2] = f"bench/startup{'-before' if label else ''}/entry-{run}"
                    wall, used = run_once(argv, version_env)
                    results[label + name].append(wall)
                    cpu[label + name].append(used)
            wall, used = run_once([sys.executable, "-c", "pass"], env)
            results["python -c pass"].append(wall)
            cpu["python -c pass"].append(used)
        imports = import_profile(env, max(5, args.runs // 3), args.imports) if args.imports else []
    report = {name: summary(times) for name, times in results.items()}
    floor = report["python -c pass"]["median"]
    for name, values in report.items():
        values["x_python"] = round(values["median"] / floor, 2)
        values["cpu_median"] = round(statistics.median(cpu[name]), 1)
    OUT.mkdir(exist_ok=True)
    (OUT / "startup.json").write_text(
        json.dumps({"runs": args.runs, "results": report, "imports": imports}, indent=2) + "\n"
    )
    print(f"{args.runs} runs each, whole process, ms")
    print("| command | median | min | p90 | max | x `python -c pass` | CPU median |\n|---|---|---|---|---|---|---|")
    for name, values in report.items():
        print(
            f"| `{name}` | {values['median']} | {values['min']} | {values['p90']} | {values['max']} "
            f"| {values['x_python']} | {values['cpu_median']} |"
        )
    if imports:
        print("\n| module (`mem recall --json`) | cumulative ms | self ms |\n|---|---|---|")
        for row in imports:
            print(f"| `{row['module']}` | {row['cumulative_ms']} | {row['self_ms']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
