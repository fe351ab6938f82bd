"""Scale benchmark: recall at 1k, 10k and 100k entries, with ripgrep as the reference.

For each size, on a generated tree (bench/treegen.py, cached under bench/out/trees/):
- cold index build rate (entries/s, `Memory.reindex(full=True)`);
- extra time of the first recall after one file changed (in-process and whole-process);
- whole-process `mem recall --json` median and p95 (a new process per query, as a shell
  or agent calls it);
- in-process `Memory.recall` p50 and p95 (one process, as a Python user), with the
  per-recall stat scan, and with an in-process watcher (as `mem mcp` runs by default);
- whole-process `mem recall` while a `mem watch` process keeps the index current (the
  recall asks the watcher instead of scanning, core/barrier.py);
- peak RSS of a whole-process recall and of the in-process run;
- ripgrep (`rg -i -l -e word ...`, Debian's package) over the same folder, same queries;
- `python -c pass`, interleaved with the whole-process runs: the floor every figure is also
  given as a multiple of (machines differ).

`--before DIR` also measures the whole-process recalls (with and without a watcher) of a
second version of contextree, interleaved query by query with this one: DIR holds a
`contextree/` source tree (e.g. `git archive main` unpacked into DIR/contextree), put first
on PYTHONPATH for those runs. It runs on its own copy of the tree (`t<N>-before`, index
included), so that neither version rewrites the other's index when the two store their
fingerprints differently; each copy gets its own `mem watch` (this version's: the barrier
protocol, core/barrier.py, is the same).

    make .venv/.installed-bench
    .venv/bin/python bench/scale.py [--sizes 1000 10000 100000] [--queries 40] [--before DIR]

Results are printed as a markdown table and written to bench/out/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from contextree import Memory
from contextree.core.text import query_terms
from recall_versions import start_watch
from treegen import ensure_tree

OUT = Path(__file__).parent / "out"
MEM = str(Path(sys.executable).with_name("mem"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def make_queries(memory: Memory, paths: list[str], count: int, seed: int = 11) -> list[str]:
    """A mix like real use: title words, typos, questions, and words the memory never saw."""
    rng = random.Random(seed)
    queries: list[str] = []
    sample = rng.sample(paths, min(len(paths), count))
    for number, path in enumerate(sample):
        title_words = [w for w in query_terms(memory.get(path).title) if len(w) > 3] or ["deploy"]
        kind = number % 6
        if kind in (0, 1):
            queries.append(" ".join(rng.sample(title_words, min(3, len(title_words)))))
        elif kind == 2:
            word = rng.choice(title_words)
            cut = rng.randrange(1, len(word) - 1)
            queries.append(word[:cut] + word[cut + 1 :] + " " + rng.choice(title_words))
        elif kind == 3:
            queries.append(f"how do we handle {' '.join(title_words[:2])} when it fails?")
        elif kind == 4:
            queries.append(path.rsplit("/", 1)[0])
        else:
            queries.append(f"zyxquor {rng.randint(1000, 9999)} plimbert")
    return queries


def timed_run(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return (time.perf_counter() - started) * 1000


def timed_run_cpu(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) ms of one run: CPU time moves less when the
    machine is shared, so it shows a change even when the wall clock is noisy."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, _, usage = os.wait4(process.pid, 0)
    return (time.perf_counter() - started) * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def child_peak_rss_mb(command: list[str]) -> float:
    """Peak RSS of one run of `command`, via wait4's rusage (Linux reports KiB)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_maxrss / 1024


def summary(times: list[float], floor: float) -> dict[str, float]:
    median = statistics.median(times)
    return {
        "median": round(median, 1),
        "p95": round(percentile(times, 0.95), 1),
        "min": round(min(times), 1),
        "max": round(max(times), 1),
        "x_python": round(median / floor, 2),
    }


def whole_process(queries: list[str], versions: dict[str, dict[str, str]]) -> dict[str, list[float]]:
    """`mem recall QUERY --json` of each version per query, interleaved (order alternating),
    and `python -c pass` beside them."""
    names = [*versions, "python -c pass"]
    times: dict[str, list[float]] = {name: [] for name in names + [f"{name} cpu" for name in names]}
    for number, query in enumerate(queries):
        order = list(versions.items()) if number % 2 == 0 else list(versions.items())[::-1]
        runs = [(name, [MEM, "recall", query, "--json", "--max-tier", "fuzzy"], env) for name, env in order]
        for name, command, env in [*runs, ("python -c pass", [sys.executable, "-c", "pass"], None)]:
            wall, cpu = timed_run_cpu(command, env)
            times[name].append(wall)
            times[f"{name} cpu"].append(cpu)
    return times


def bench_size(n: int, query_count: int, before: Path | None = None) -> dict[str, Any]:
    root = OUT / "trees" / f"t{n}"
    print(f"\n== {n} entries ({root})", flush=True)
    started = time.perf_counter()
    paths = ensure_tree(root, n)
    print(f"tree ready in {time.perf_counter() - started:.1f} s", flush=True)
    memory = Memory(root)

    # Cold build: drop the cache, rebuild from the files (file cache warm, as after `git clone`).
    build = memory.reindex(full=True)
    rate = build.scanned / (build.ms / 1000)
    print(f"cold build: {build.ms / 1000:.2f} s, {rate:.0f} entries/s", flush=True)

    queries = make_queries(memory, paths, query_count)
    memory.recall("warm up", k=10)

    # In-process: the same Memory answering many queries (each still scans for changes).
    in_process: list[float] = []
    for _ in range(3):
        for query in queries:
            t0 = time.perf_counter()
            memory.recall(query, max_tier="fuzzy")
            in_process.append((time.perf_counter() - t0) * 1000)
    in_process_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # In-process with a watcher: recalls skip the scan (the watcher vouches for the index).
    watched: list[float] = []
    with memory.watch():
        for query in queries:
            memory.recall(query, max_tier="fuzzy")
        for _ in range(3):
            for query in queries:
                t0 = time.perf_counter()
                memory.recall(query, max_tier="fuzzy")
                watched.append((time.perf_counter() - t0) * 1000)

    # One file changed: the next recall re-indexes it.
    steady = statistics.median(in_process)
    target = root / (paths[len(paths) // 2] + ".md")
    original = target.read_text(encoding="utf-8")
    changed_in_process: list[float] = []
    changed_whole: list[float] = []
    steady_whole: list[float] = []
    env = {**os.environ, "MEM_ROOT": str(root)}
    env.pop("PYTHONPATH", None)  # this version: the installed one
    # Without compiled modules every process compiles its imports again (~50 ms).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for round_number in range(7):
        target.write_text(original + f"\nEdited {round_number}.\n", encoding="utf-8")
        t0 = time.perf_counter()
        memory.recall(queries[0], max_tier="fuzzy")
        changed_in_process.append((time.perf_counter() - t0) * 1000 - steady)
        steady_whole.append(timed_run([MEM, "recall", queries[1], "--json", "--max-tier", "fuzzy"], env))
        target.write_text(original + f"\nEdited again {round_number}.\n", encoding="utf-8")
        changed_whole.append(timed_run([MEM, "recall", queries[1], "--json", "--max-tier", "fuzzy"], env))
    target.write_text(original, encoding="utf-8")
    memory.recall(queries[0])

    # Whole process: `mem recall` as a shell or an agent runs it.
    versions = {"after": env}
    if before is not None:
        before_root = root.with_name(root.name + "-before")
        if (
            not (before_root / ".treegen").exists()
            or (before_root / ".treegen").read_text() != (root / ".treegen").read_text()
        ):
            shutil.rmtree(before_root, ignore_errors=True)
            shutil.copytree(root, before_root, symlinks=True)
        versions["before"] = {**env, "MEM_ROOT": str(before_root), "PYTHONPATH": str(before.resolve())}
    for version_env in versions.values():  # each version settles its own index first
        subprocess.run([MEM, "recall", "warm up", "--json"], env=version_env, capture_output=True, check=True)
    unwatched = whole_process(queries, versions)
    whole = unwatched["after"]
    rss_whole = child_peak_rss_mb([MEM, "--root", str(root), "recall", queries[0], "--json"])

    # Whole process while `mem watch` runs in another process (one per tree).
    watchers = []
    try:
        for version_env in versions.values():
            watchers.append(start_watch(version_env))
        watched_runs = whole_process(queries, versions)
        whole_watched = watched_runs["after"]
    finally:
        for watcher in watchers:
            watcher.terminate()
            watcher.wait()

    # ripgrep over the same folder: files containing any of the query's words.
    rg = shutil.which("rg")
    rg_times: list[float] = []
    if rg:
        for query in queries:
            words = query_terms(query) or [query]
            command = [rg, "-i", "-l", "--no-messages", "-g", "*.md"]
            for word in words:
                command += ["-e", word]
            rg_times.append(timed_run([*command, str(root)]))

    result = {
        "entries": n,
        "cold_build_s": round(build.ms / 1000, 2),
        "cold_build_entries_per_s": round(rate),
        "one_changed_extra_ms_in_process": round(statistics.median(changed_in_process), 1),
        "one_changed_extra_ms_whole_process": round(
            statistics.median(changed_whole) - statistics.median(steady_whole), 1
        ),
        "whole_process_ms": {
            "median": round(statistics.median(whole), 1),
            "p95": round(percentile(whole, 0.95), 1),
            "min": round(min(whole), 1),
            "max": round(max(whole), 1),
        },
        "in_process_ms": {
            "p50": round(percentile(in_process, 0.5), 2),
            "p95": round(percentile(in_process, 0.95), 2),
            "max": round(max(in_process), 2),
        },
        "in_process_watched_ms": {
            "p50": round(percentile(watched, 0.5), 2),
            "p95": round(percentile(watched, 0.95), 2),
            "max": round(max(watched), 2),
        },
        "whole_process_watched_ms": {
            "median": round(statistics.median(whole_watched), 1),
            "p95": round(percentile(whole_watched, 0.95), 1),
        },
        "peak_rss_mb": {"whole_process": round(rss_whole, 1), "in_process": round(in_process_rss, 1)},
        "ripgrep_ms": (
            {"median": round(statistics.median(rg_times), 1), "p95": round(percentile(rg_times, 0.95), 1)}
            if rg_times
            else None
        ),
        "queries": len(queries),
        "python_pass_ms": round(statistics.median(unwatched["python -c pass"] + watched_runs["python -c pass"]), 1),
        "versions": {
            name: {
                "whole_process_ms": summary(unwatched[name], statistics.median(unwatched["python -c pass"])),
                "whole_process_watched_ms": summary(
                    watched_runs[name], statistics.median(watched_runs["python -c pass"])
                ),
                "cpu_ms": {
                    "no_watcher": round(statistics.median(unwatched[f"{name} cpu"]), 1),
                    "watched": round(statistics.median(watched_runs[f"{name} cpu"]), 1),
                    "python -c pass": round(statistics.median(unwatched["python -c pass cpu"]), 1),
                },
            }
            for name in versions
        },
    }
    print(json.dumps(result, indent=2), flush=True)
    memory.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--before", type=Path, help="a folder holding the previous version as contextree/")
    args = parser.parse_args()
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }
    results = [bench_size(n, args.queries, args.before) for n in args.sizes]
    OUT.mkdir(exist_ok=True)
    (OUT / "scale.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2) + "\n")
    print(
        "\n| entries | cold build (entries/s) | 1 file changed (+ms, in-process / whole) "
        "| whole-process median / p95 ms | ... with mem watch running | in-process p50 / p95 ms "
        "| ... with a watcher | peak RSS MB (whole / in-process) | rg median ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        rg = r["ripgrep_ms"]["median"] if r["ripgrep_ms"] else "n/a"
        print(
            f"| {r['entries']:,} | {r['cold_build_entries_per_s']:,} | {r['one_changed_extra_ms_in_process']} / "
            f"{r['one_changed_extra_ms_whole_process']} | {r['whole_process_ms']['median']} / "
            f"{r['whole_process_ms']['p95']} | {r['whole_process_watched_ms']['median']} / "
            f"{r['whole_process_watched_ms']['p95']} | {r['in_process_ms']['p50']} / {r['in_process_ms']['p95']} | "
            f"{r['in_process_watched_ms']['p50']} / {r['in_process_watched_ms']['p95']} | "
            f"{r['peak_rss_mb']['whole_process']} / {r['peak_rss_mb']['in_process']} | {rg} |"
        )
    print(
        "\nWhole-process `mem recall --json`, ms: median / p95 (x `python -c pass`), interleaved\n"
        "| entries | version | no watcher | with `mem watch` | `python -c pass` | CPU ms: no watcher / watched / "
        "`python -c pass` |\n|---|---|---|---|---|---|"
    )
    for r in results:
        for name, figures in r["versions"].items():
            plain, watched = figures["whole_process_ms"], figures["whole_process_watched_ms"]
            print(
                f"| {r['entries']:,} | {name} | {plain['median']} / {plain['p95']} ({plain['x_python']}x) "
                f"| {watched['median']} / {watched['p95']} ({watched['x_python']}x) | {r['python_pass_ms']} "
                f"| {figures['cpu_ms']['no_watcher']} / {figures['cpu_ms']['watched']} / "
                f"{figures['cpu_ms']['python -c pass']} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
