"""`mem watch`: how soon a written file is searchable, and what the watcher costs while idle.

For each tree size this generates a memory (bench/treegen.py when present, else a small
generator here), builds its index, and starts `mem watch --json` as a subprocess. Then:

- idle CPU: the watcher's CPU time (utime + stime from /proc/<pid>/stat, or psutil) over
  `--idle` seconds with nothing changing, as a percentage of one core (goal: about 0%);
- latency: `--writes` times, write a file - an in-place edit, a new entry, an atomic
  rename save, in turn - with a unique word, and poll the index database directly (an FTS
  query that never refreshes, so it sees only what the watcher applied) until the word is
  found; median / p95 / max of write -> visible (goal: median <= 1 s; expect ~debounce);
- recall: `Memory.recall` in this process, with its per-recall scan and with an in-process
  watcher (`with memory.watch():`), median over 20 queries;
- apply: the cost of bringing the index up to date after k files changed, per path
  (`Index.refresh_paths`) and by a full scan (`Index.refresh`): the numbers behind
  `FULL_REFRESH_ABOVE` in core/watch.py.

Usage:
    .venv/bin/python bench/watch_latency.py [--sizes 1000 10000] [--writes 40] [--idle 10]
                                            [--workdir DIR] [--json]
Trees are kept in --workdir (default: a folder under the system temp dir) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MEM = str(Path(sys.executable).with_name("mem"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    from treegen import ensure_tree
except ImportError:  # bench/treegen.py is not there: a small generator of our own

    def ensure_tree(root: Path, n: int, seed: int = 7) -> list[str]:
        from contextree import Memory

        marker = root / ".watchbench"
        if marker.exists() and marker.read_text().strip() == f"{n} {seed}":
            return sorted(p.relative_to(root).as_posix()[:-3] for p in root.rglob("*.md") if p.name != "_index.md")
        shutil.rmtree(root, ignore_errors=True)
        Memory.init(root)
        rng = random.Random(seed)
        words = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi") for b in range(200)]
        paths = []
        for number in range(n):
            path = f"domain-{number % 10}/topic-{(number // 10) % max(1, n // 500)}/entry-{number}"
            body = " ".join(rng.choice(words) for _ in range(rng.randint(40, 200)))
            file = root / (path + ".md")
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(f"---\ntitle: Entry {number} {rng.choice(words)}\n---\n{body}\n", encoding="utf-8")
            paths.append(path)
        marker.write_text(f"{n} {seed}\n")
        return paths


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    import psutil  # not Linux: pip install psutil (the `bench` extra)

    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


class WatchProcess:
    """`mem watch --json` on a tree, with its event lines read in a thread."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [MEM, "watch", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "MEM_ROOT": str(root)},
        )
        self.events: list[dict[str, Any]] = []
        self.started = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.started.wait(600):
            raise SystemExit("mem watch did not start")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            self.events.append(event)
            if event["data"]["event"] == "started":
                self.started.set()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=60)
        self.reader.join(timeout=10)
        return code


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def visible(conn: sqlite3.Connection, word: str, timeout: float = 15.0) -> float | None:
    """Seconds until `word` is in the index (polled every half millisecond), None on timeout."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if conn.execute("SELECT count(*) FROM fts WHERE fts MATCH ?", (f'"{word}"',)).fetchone()[0]:
            return time.perf_counter() - started
        time.sleep(0.0005)
    return None


def write_change(root: Path, paths: list[str], number: int, word: str, rng: random.Random) -> None:
    kind = ("edit", "add", "atomic")[number % 3]
    path = rng.choice(paths)
    file = root / (path + ".md")
    if kind == "edit":  # an editor writing in place
        with file.open("a", encoding="utf-8") as handle:
            handle.write(f"\nEdited: {word}\n")
    elif kind == "add":  # a new entry next to an existing one
        file.with_name(f"bench-{number}.md").write_text(f"---\ntitle: Bench {number}\n---\n{word}\n", encoding="utf-8")
    else:  # write a temporary file, rename it over the entry
        temporary = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        temporary.write_text(file.read_text(encoding="utf-8") + f"\nSaved: {word}\n", encoding="utf-8")
        os.replace(temporary, file)


def recall_times(root: Path, watched: bool, queries: list[str]) -> float:
    from contextree import Memory

    memory = Memory(root)
    memory.recall(queries[0])  # open the databases
    watcher = memory.watch().start() if watched else None
    try:
        times = []
        for query in queries:
            started = time.perf_counter()
            memory.recall(query)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)
    finally:
        if watcher is not None:
            watcher.stop()
        memory.close()


def apply_costs(root: Path, paths: list[str], rng: random.Random) -> list[dict[str, Any]]:
    from contextree.core.index import Index

    index = Index(root, 1 << 21)
    index.refresh()
    rows = []
    for count in sorted({1, 100, 1000, 5000} & set(range(1, len(paths) + 1))):
        row: dict[str, Any] = {"changed": count}
        for method in ("refresh_paths", "refresh"):
            chosen = rng.sample(paths, count)
            for path in chosen:
                with (root / (path + ".md")).open("a", encoding="utf-8") as handle:
                    handle.write(f"\napply {method} {count}\n")
            started = time.perf_counter()
            report = index.refresh_paths(chosen) if method == "refresh_paths" else index.refresh()
            row[f"{method}_ms"] = round((time.perf_counter() - started) * 1000, 1)
            assert report.updated == count, (method, report)
        rows.append(row)
    index.close()
    return rows


def run_size(size: int, workdir: Path, writes: int, idle: float, rng: random.Random) -> dict[str, Any]:
    root = workdir / f"tree-{size}"
    started = time.perf_counter()
    paths = ensure_tree(root, size)
    generated = time.perf_counter() - started
    subprocess.run([MEM, "--root", str(root), "reindex"], check=True, capture_output=True)
    for leftover in root.rglob("bench-*.md"):  # new entries of an earlier run
        leftover.unlink()

    watcher = WatchProcess(root)
    start_ms = watcher.events[0]["data"]["ms"]
    time.sleep(1.0)  # let start-up work settle
    before, wall = cpu_seconds(watcher.process.pid), time.perf_counter()
    time.sleep(idle)
    idle_cpu = (cpu_seconds(watcher.process.pid) - before) / (time.perf_counter() - wall) * 100

    from contextree.core.index import INDEX_FILE

    conn = sqlite3.connect(root / ".mem" / INDEX_FILE, timeout=30)
    latencies: list[float] = []
    missed = 0
    for number in range(writes):
        word = f"wb{number}q{rng.randrange(10**9)}"
        write_started = time.perf_counter()
        write_change(root, paths, number, word, rng)
        seen = visible(conn, word)
        if seen is None:
            missed += 1
        else:
            latencies.append((time.perf_counter() - write_started) * 1000)
        time.sleep(rng.uniform(0.05, 0.3))  # separate debounce windows
    conn.close()
    busy_cpu = cpu_seconds(watcher.process.pid) - before
    code = watcher.stop()

    queries = [rng.choice(paths).rsplit("/", 1)[1].split("-")[0] for _ in range(20)]
    result: dict[str, Any] = {
        "entries": size,
        "generate_s": round(generated, 1),
        "watch_start_ms": start_ms,
        "idle_cpu_percent": round(idle_cpu, 2),
        "idle_seconds": idle,
        "writes": writes,
        "missed": missed,
        "latency_ms": {
            "median": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(percentile(latencies, 0.95), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None,
        },
        "watcher_cpu_s_total": round(busy_cpu, 2),
        "exit_code": code,
        "recall_ms": {
            "scan": round(recall_times(root, False, queries), 2),
            "watched": round(recall_times(root, True, queries), 2),
        },
        "apply": apply_costs(root, paths, rng),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "contextree-watch-bench")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    arguments = parser.parse_args()
    arguments.workdir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(arguments.seed)
    results = [run_size(size, arguments.workdir, arguments.writes, arguments.idle, rng) for size in arguments.sizes]
    if arguments.json:
        print(json.dumps(results, indent=2))
        return
    for result in results:
        latency = result["latency_ms"]
        print(f"{result['entries']:>7} entries  (mem watch start: {result['watch_start_ms']:.0f} ms)")
        print(
            f"  write -> visible: median {latency['median']} ms, p95 {latency['p95']} ms, max {latency['max']} ms"
            f" over {result['writes'] - result['missed']}/{result['writes']} writes"
        )
        print(f"  idle CPU: {result['idle_cpu_percent']}% of one core over {result['idle_seconds']:.0f} s")
        print(f"  recall: {result['recall_ms']['scan']} ms with its scan, {result['recall_ms']['watched']} ms watched")
        for row in result["apply"]:
            print(
                f"  {row['changed']:>5} changed files: refresh_paths {row['refresh_paths_ms']} ms,"
                f" full refresh {row['refresh_ms']} ms"
            )
        print(f"  exit code after SIGINT: {result['exit_code']}")


if __name__ == "__main__":
    main()
