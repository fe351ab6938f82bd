"""The floor of a freshness check without a watcher: what one `stat` per entry file costs.

Without a process that saw the changes happen, the only record of an in-place edit is the
edited file's own inode (docs/benchmarks.md explains why), so a recall that must see every
change has to look at every entry file. This measures, on the trees of bench/scale.py, the
CPU time per file of:

- listing the folders only (`os.scandir`), no stat;
- listing and one `lstat` per file (`DirEntry.stat`): the floor for Python;
- the index's walk (core/tree.py `walk_entry_folders`: the same, plus the layout checks,
  the per-folder records and their fingerprints), and the fingerprints alone;
- GNU `find -printf` doing the same stats in C (the kernel's share, as a reference);
- the index's walk with its helper process (half of the folders walked by a forked child,
  as a recall does from 20,000 entries on, forced here even when the load average would
  keep a recall from it): wall-clock time, and the CPU time of the walking process and of
  its helper (on a machine with an idle core, the wall-clock time of the walk is about the
  larger of the two, plus the fork and the pipe).

    .venv/bin/python bench/floor.py [--sizes 10000 100000] [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from contextree.core import tree as tree_module
from contextree.core.tree import folder_fingerprint, walk_entry_folders
from treegen import ensure_tree

OUT = Path(__file__).parent / "out"


def cpu_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.process_time()
        action()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def wall_and_cpu_ms(action: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """Wall-clock time, CPU time of this process, and CPU time of its reaped children."""

    def cpu(who: int) -> float:
        usage = resource.getrusage(who)
        return (usage.ru_utime + usage.ru_stime) * 1000

    walls, own, children = [], [], []
    for _ in range(runs):
        own_before, children_before = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        action()
        walls.append((time.perf_counter() - started) * 1000)
        own.append(cpu(resource.RUSAGE_SELF) - own_before)
        children.append(cpu(resource.RUSAGE_CHILDREN) - children_before)
    return statistics.median(walls), statistics.median(own), statistics.median(children)


def children_cpu_ms(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        _, _, usage = os.wait4(process.pid, 0)
        times.append((usage.ru_utime + usage.ru_stime) * 1000)
    return statistics.median(times)


def listing(root: str, with_stat: bool) -> int:
    count = 0
    stack = [root]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as items:
            for item in items:
                if item.name[0] == ".":
                    continue
                if item.is_dir(follow_symlinks=False):
                    stack.append(item.path)
                else:
                    count += 1
                    if with_stat:
                        item.stat(follow_symlinks=False)
    return count


def row(size: int, runs: int) -> str:
    root = OUT / "trees" / f"t{size}"
    ensure_tree(root, size)
    per_file = 1000 / listing(str(root), False)  # ms -> us per file

    def cell(ms: float) -> str:
        return f"{ms:.0f} ms ({ms * per_file:.2f} us/file)"

    walk = cpu_ms(lambda: walk_entry_folders(root), runs)
    held = list(walk_entry_folders(root).held.values())
    prints = cpu_ms(lambda: [folder_fingerprint(records) for records in held], runs)
    find = shutil.which("find")
    command = [str(find), str(root), "-path", "*/.*", "-prune", "-o", "-printf", "%P %y %T@ %s\n"]
    find_ms = children_cpu_ms(command, runs) if find else float("nan")
    bare = cpu_ms(lambda: listing(str(root), False), runs)
    floor = cpu_ms(lambda: listing(str(root), True), runs)
    alone_wall, _, _ = wall_and_cpu_ms(lambda: walk_entry_folders(root), runs)
    tree_module._may_fork = lambda: True  # the helper even when the load average would say no
    helped_wall, parent_cpu, helper_cpu = wall_and_cpu_ms(
        lambda: walk_entry_folders(root, expected_files=tree_module.HELPER_MIN_FILES), runs
    )
    return (
        f"| {size:,} | {cell(bare)} | {cell(floor)} | {cell(walk)} | {cell(prints)} | {cell(find_ms)} "
        f"| {alone_wall:.0f} ms | {helped_wall:.0f} ms | {parent_cpu:.0f} + {helper_cpu:.0f} ms |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print("CPU time, median of", args.runs, "runs (file cache warm); the last three columns: wall-clock, then CPU")
    print(
        "| entries | scandir only | scandir + lstat (floor) | index walk | fingerprints | `find -printf` "
        "| index walk, wall | with its helper, wall | with its helper, CPU: walk + helper |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        print(row(size, args.runs), flush=True)
    print(f"(max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
