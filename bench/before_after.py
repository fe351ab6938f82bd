"""Recall and add at 10k entries, two code versions side by side in the same run.

Issue 18 asks that hardening costs recall and add at most 5% at 10k entries. This runs the
same whole-process commands (`mem --json recall`, `mem --json add`) against one generated
tree (bench/treegen.py) with two versions of the code, interleaved round by round so the
machine's noise hits both alike, and `python -c pass` beside them as the floor.

    git archive main | tar -x -C /tmp/base/contextree      # the "before" code
    .venv/bin/python bench/before_after.py --before /tmp/base [--entries 10000] [--rounds 15]

The "before" version is put first on PYTHONPATH (it wins over the editable install); the
"after" version is this checkout. Prints medians and spreads (min-max) in ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from treegen import ensure_tree

OUT = Path(__file__).parent / "out"
MEM = str(Path(sys.executable).with_name("mem"))
QUERIES = ["deploy rollback", "retry timeout", "auth token expiry", "database pool size", "cache invalidation"]


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, env=env, capture_output=True, check=True)
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="a folder holding the old code as contextree/")
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    source = OUT / "trees" / f"tree-{args.entries}"
    ensure_tree(source, args.entries)
    work = Path(tempfile.mkdtemp(prefix="before-after-"))
    versions = {"before": args.before, "after": None}
    trees: dict[str, Path] = {}
    envs: dict[str, dict[str, str]] = {}
    for name, path in versions.items():
        tree = work / name
        shutil.copytree(source, tree, ignore=shutil.ignore_patterns(".mem"))
        env = {**os.environ, "MEM_ROOT": str(tree)}
        env.pop("PYTHONPATH", None)
        if path:
            env["PYTHONPATH"] = path
        subprocess.run([MEM, "reindex"], env=env, capture_output=True, check=True)
        trees[name], envs[name] = tree, env
    results: dict[str, list[float]] = {f"{kind} {name}": [] for kind in ("recall", "add") for name in versions}
    results["python -c pass"] = []
    for number in range(args.rounds):
        query = QUERIES[number % len(QUERIES)]
        order = list(versions) if number % 2 == 0 else list(reversed(versions))
        for name in order:
            results[f"recall {name}"].append(timed([MEM, "--json", "recall", query], envs[name]))
            body = f"Bench note {number}: the worker pool restarts after {number} failed health checks."
            results[f"add {name}"].append(timed([MEM, "--json", "add", f"bench/notes/n{number}", body], envs[name]))
        results["python -c pass"].append(timed([sys.executable, "-c", "pass"], dict(os.environ)))
    print(f"{args.entries:,} entries, {args.rounds} rounds, whole-process, ms (median, min-max)")
    for label, values in results.items():
        print(f"  {label:<16} {statistics.median(values):8.1f}   {min(values):.1f}-{max(values):.1f}")
    for kind in ("recall", "add"):
        before = statistics.median(results[f"{kind} before"])
        after = statistics.median(results[f"{kind} after"])
        print(f"  {kind}: after/before = {after / before:.3f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
