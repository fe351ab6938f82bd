"""A/B of two commits in one run: whole-process `mem add` and `mem recall` at N entries.

On a busy machine two runs of a benchmark minutes apart are not comparable; this runs both
versions interleaved (ABBA...), from `git archive` copies of the two commits put first on
PYTHONPATH, with the same interpreter, on the same generated tree (bench/treegen.py, the
tree bench/scale.py uses), and reports wall time and the child's CPU time (user + sys, from
wait4), which a loaded machine disturbs much less. `python -c pass` runs beside them.

    .venv/bin/python bench/ab_versions.py --before main~3 --after main [--entries 10000] [--runs 25]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from treegen import ensure_tree

REPO = Path(__file__).resolve().parent.parent
CLI = "import sys; from contextree.cli.app import main; sys.argv[0] = 'mem'; main()"
QUERIES = ("deploy rollback", "postgres connection pool", "celery retry", "zyxquor 4242 plimbert", "probe timeout")


def export(ref: str, into: Path) -> Path:
    package = into / "contextree"
    package.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(package)], input=archive, check=True)
    return into


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, child CPU ms) of one run; fails loudly if the command fails."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = (time.perf_counter() - started) * 1000
    assert process.stderr is not None
    error = process.stderr.read()
    process.stderr.close()
    if status != 0:
        raise SystemExit(f"{command[3:]} failed: {error.decode(errors='replace')[-300:]}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def summary(values: list[float]) -> str:
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f"median {statistics.median(values):7.1f} ms  IQR {q1:7.1f}-{q3:7.1f}  n={len(values)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args()
    root = Path(__file__).parent / "out" / "trees" / f"t{args.entries}"
    ensure_tree(root, args.entries)
    with tempfile.TemporaryDirectory() as scratch:
        paths = {
            name: export(ref, Path(scratch) / name) for name, ref in (("before", args.before), ("after", args.after))
        }
        wall: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}

        def run(version: str, *command: str) -> None:
            env = {**os.environ, "PYTHONPATH": str(paths[version]), "MEM_ROOT": str(root)}
            spent = timed([sys.executable, "-c", CLI, *command], env)
            wall.setdefault(f"{command[0]} {version}", []).append(spent[0])
            cpu.setdefault(f"{command[0]} {version}", []).append(spent[1])

        for package in paths.values():  # bring the index up to date once for each
            timed(
                [sys.executable, "-c", CLI, "recall", "warm up"],
                {**os.environ, "PYTHONPATH": str(package), "MEM_ROOT": str(root)},
            )
        for number in range(args.runs):
            order = ("before", "after") if number % 2 == 0 else ("after", "before")
            for version in order:
                run(version, "add", f"bench/ab/{version}-{os.getpid()}-{number}", f"benchmark note {number}")
                run(version, "recall", QUERIES[number % len(QUERIES)], "--json", "--max-tier", "fuzzy")
            spent = timed([sys.executable, "-c", "pass"], dict(os.environ))
            wall.setdefault("python -c pass", []).append(spent[0])
            cpu.setdefault("python -c pass", []).append(spent[1])
    print(f"{args.entries} entries, {args.runs} runs each, before={args.before} after={args.after}")
    for label, table in (("wall time", wall), ("child CPU time (user+sys)", cpu)):
        print(label)
        for name in sorted(table):
            print(f"  {name:16s} {summary(table[name])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
