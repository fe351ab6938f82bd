"""Whole-process `mem recall --json` of two versions, interleaved, on their own copies of a tree.

A short companion of bench/scale.py for one size: each query is run by the previous version
(`--before DIR`, a `contextree/` source tree put first on PYTHONPATH, on `t<N>-before`, the
copy scale.py makes), by this one (on `t<N>`), optionally by this one with the walk's helper
process forced on whatever the load average says (`--helper`), and `python -c pass`, in an
order that alternates. Wall-clock and CPU time (user + system, the helper included) per run;
the load average is printed beside them, since the helper is only used with a core to spare.
`--watch` runs a `mem watch` (this version's) on each tree meanwhile, so that the recalls ask
it instead of scanning (core/barrier.py), as scale.py's "with `mem watch`" column.
`--shared` runs both versions on one tree, `t<N>`, as when an agent's MCP server runs one
install of mem and the shell another; `--after DIR` takes another source tree than this one
for "after". The last column counts the recalls that had to rebuild their index.

    .venv/bin/python bench/scale.py --sizes 100000 --before DIR   # builds both trees once
    .venv/bin/python bench/recall_versions.py --size 100000 --runs 9 --before DIR --helper
    .venv/bin/python bench/recall_versions.py --size 10000 --runs 30 --before DIR --watch
    .venv/bin/python bench/recall_versions.py --size 10000 --runs 10 --before DIR --after DIR2 --shared
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TREES = Path(__file__).parent / "out" / "trees"
MEM = str(Path(sys.executable).with_name("mem"))
QUERIES = [
    "deploy rollback timeout",
    "postgres migration lock",
    "how do we handle retry backoff when it fails?",
    "zyxquor 4411 plimbert",
    "kafka consumer lag",
    "certificate rotation",
]
FORCED = (
    "import sys; import contextree.core.tree as tree; tree._may_fork = lambda: True; "
    "from contextree.cli.app import main; sys.argv[0] = 'mem'; sys.exit(main())"
)


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, bool]:
    """Wall and CPU milliseconds of one process, and whether its recall rebuilt the index."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = (time.perf_counter() - started) * 1000
        if status != 0:
            raise SystemExit(f"failed: {command}")
        out.seek(0)
        printed = out.read()
    rebuilt = bool(printed) and bool((json.loads(printed).get("data", {}).get("index") or {}).get("rebuilt"))
    return wall, (usage.ru_utime + usage.ru_stime) * 1000, rebuilt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--before", type=Path, help="a folder holding the previous version as contextree/")
    parser.add_argument("--helper", action="store_true", help="also this version with the walk's helper forced")
    parser.add_argument("--watch", action="store_true", help="with a `mem watch` running on each tree")
    parser.add_argument("--after", type=Path, help="a folder holding the version to call 'after' (default: this one)")
    parser.add_argument("--shared", action="store_true", help="both versions on one tree (t<N>)")
    args = parser.parse_args()
    env = {**os.environ}
    for name in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    tree = TREES / f"t{args.size}"

    def recall(number: int) -> list[str]:
        return [MEM, "recall", QUERIES[number % len(QUERIES)], "--json", "--max-tier", "fuzzy"]

    versions: dict[str, tuple[dict[str, str], Callable[[int], list[str]]]] = {}
    if args.before:
        before_root = str(tree) if args.shared else f"{tree}-before"
        before_env = {**env, "MEM_ROOT": before_root, "PYTHONPATH": str(args.before.resolve())}
        versions["before"] = (before_env, recall)
    after_env = {**env, "MEM_ROOT": str(tree)}
    if args.after:
        after_env["PYTHONPATH"] = str(args.after.resolve())
    versions["after"] = (after_env, recall)
    if args.helper:
        forced = [sys.executable, "-c", FORCED]
        versions["after, helper forced"] = ({**env, "MEM_ROOT": str(tree)}, lambda i: forced + recall(i)[1:])
    versions["python -c pass"] = (env, lambda i: [sys.executable, "-c", "pass"])
    for version_env, command in versions.values():
        run(command(0), version_env)  # each version settles its own index first
    own_trees = {env["MEM_ROOT"]: env for env, _ in versions.values() if "MEM_ROOT" in env}  # one per tree
    watchers = [start_watch(version_env) for version_env in own_trees.values()] if args.watch else []
    try:
        return measure(args.size, args.runs, versions, watched=args.watch, shared=args.shared)
    finally:
        for watcher in watchers:
            watcher.terminate()
            watcher.wait()


def start_watch(version_env: dict[str, str]) -> subprocess.Popen[str]:
    """A `mem watch` of one version (its environment: MEM_ROOT, and PYTHONPATH for a previous
    version) on its tree, once its first scan is done (it then vouches for the index). Each
    version's own watcher: one of another version whose index schema differs would rebuild
    the index under every recall of this one (14 s a recall at 10k, measured)."""
    watcher = subprocess.Popen(
        [MEM, "watch", "--json"], env=version_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert watcher.stdout is not None
    for line in watcher.stdout:
        if '"started"' in line:
            break
    return watcher


def measure(
    size: int,
    runs: int,
    versions: dict[str, tuple[dict[str, str], Callable[[int], list[str]]]],
    *,
    watched: bool,
    shared: bool,
) -> int:
    walls: dict[str, list[float]] = {name: [] for name in versions}
    cpus: dict[str, list[float]] = {name: [] for name in versions}
    rebuilds: dict[str, int] = dict.fromkeys(versions, 0)
    loads = []
    for number in range(runs):
        names = list(versions) if number % 2 == 0 else list(versions)[::-1]
        loads.append(os.getloadavg()[0])
        for name in names:
            version_env, command = versions[name]
            wall, cpu, rebuilt = run(command(number), version_env)
            walls[name].append(wall)
            cpus[name].append(cpu)
            rebuilds[name] += rebuilt
    floor = statistics.median(walls["python -c pass"])
    cpu_floor = statistics.median(cpus["python -c pass"])
    print(
        f"{size:,} entries{', with `mem watch` running' if watched else ''}"
        f"{', both versions on one tree' if shared else ''}, {runs} runs each; "
        f"load average {min(loads):.1f}-{max(loads):.1f}"
    )
    print(
        "| version | wall median | quartiles | min | x `python -c pass` | CPU median | quartiles | x CPU of `pass` "
        "| index rebuilt |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in versions:
        first, _, third = statistics.quantiles(walls[name], n=4)
        cpu_first, _, cpu_third = statistics.quantiles(cpus[name], n=4)
        print(
            f"| {name} | {statistics.median(walls[name]):.1f} | {first:.1f}-{third:.1f} | {min(walls[name]):.1f} "
            f"| {statistics.median(walls[name]) / floor:.2f}x | {statistics.median(cpus[name]):.1f} "
            f"| {cpu_first:.1f}-{cpu_third:.1f} | {statistics.median(cpus[name]) / cpu_floor:.2f}x "
            f"| {rebuilds[name]} of {runs} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
