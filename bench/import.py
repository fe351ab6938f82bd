"""`mem import` throughput, and recall over two memories (layers) against one.

1. Builds a folder of N notes (YAML frontmatter with tags, aliases and dates; wikilinks
   between notes; 3-4 levels of folders, as an Obsidian vault or a docs folder has), then
   imports it into a fresh memory `--repeat` times (median and spread), as a separate `mem`
   process, the way a person runs it. Also times a second import of the same folder (nothing
   to change). Rates are given per wall second and per CPU second (a busy machine distorts
   the second least).
2. Recall at N entries: the imported tree as one memory, and the same entries split in two
   halves, a project memory and a personal one (core/layers.py). Median recall time over
   `--queries` queries, in-process with warm indexes (what a long-running agent server sees),
   one memory against two. Goal: two memories within 1.2x of one.

`python -c pass` is measured in the same run, so machines can be compared.

    .venv/bin/python bench/import.py --notes 10000 --repeat 3 --queries 60
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEM = str(Path(sys.executable).with_name("mem"))
WORDS = (
    "cache token session redis postgres retry webhook deploy rollback queue worker index "
    "schema migration tenant billing invoice latency probe kubernetes feature flag"
).split()


def build_folder(base: Path, notes: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    folder = base / "vault"
    for number in range(notes):
        area, topic = f"Area {number % 12}", f"Topic {number % 97}"
        sub = f"Sub {number % 5}" if number % 3 == 0 else ""
        words = rng.sample(WORDS, 6)
        link = f"Note {rng.randrange(notes)}"
        text = (
            f"---\ntitle: Note {number} about {words[0]}\ntags: [{words[1]}, {words[2]}]\n"
            f"aliases: [N{number}]\ncreated: 2025-0{1 + number % 9}-1{number % 10}\n---\n"
            f"# Note {number}\n\n{' '.join(rng.choice(WORDS) for _ in range(120))}\n\nSee [[{link}]].\n"
        )
        file = folder / area / topic / sub / f"Note {number}.md"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return folder


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(*args: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `mem` process. CPU time is what a busy machine
    distorts least: on a shared machine the wall time includes waiting for a core."""
    cpu, start = cpu_seconds(), time.perf_counter()
    completed = subprocess.run([MEM, *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"mem {' '.join(args)} failed: {completed.stderr.strip()}")
    return elapsed, cpu_seconds() - cpu


def recall_medians(base: Path, one: Path, queries: list[str], rounds: int = 3) -> tuple[float, float]:
    """Median recall ms over `queries`: the tree `one` as one memory, and split in two."""
    from contextree import Memory
    from contextree.core.layers import Layers

    project, personal = base / "split-project", base / "split-personal"
    shutil.copytree(one, project, ignore=shutil.ignore_patterns(".mem"))
    shutil.copytree(one, personal, ignore=shutil.ignore_patterns(".mem"))
    for area in (project / "vault").iterdir():  # each half keeps the areas the other drops
        number = int(area.name.rsplit("-", 1)[-1])
        shutil.rmtree(area if number % 2 else personal / "vault" / area.name)
    os.environ["MEM_PERSONAL_ROOT"] = "off"
    single = Memory(one)
    os.environ["MEM_PERSONAL_ROOT"] = str(personal)
    layered = Layers(Memory(project))
    single.recall("warm up")
    layered.recall("warm up")
    timings: dict[str, list[float]] = {"one": [], "two": []}
    for _ in range(rounds):
        for query in queries:
            for name, recall in (("one", single.recall), ("two", layered.recall)):
                start = time.perf_counter()
                recall(query)
                timings[name].append((time.perf_counter() - start) * 1000)
    return statistics.median(timings["one"]), statistics.median(timings["two"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    baseline = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append((time.perf_counter() - start) * 1000)
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        folder = build_folder(base, args.notes)
        first: list[tuple[float, float]] = []
        again: list[tuple[float, float]] = []
        for attempt in range(args.repeat):
            root = base / f"memory-{attempt}"
            run("init", str(root))
            first.append(run("--root", str(root), "import", str(folder), "--json"))
            again.append(run("--root", str(root), "import", str(folder), "--json"))
        print(f"python -c pass: median {statistics.median(baseline):.1f} ms; load average {os.getloadavg()[0]:.1f}")
        for label, runs in (("import", first), ("second import (nothing changed)", again)):
            wall = sorted(args.notes / seconds for seconds, _ in runs)
            cpu = sorted(args.notes / seconds for _, seconds in runs)
            print(
                f"{label} of {args.notes:,} notes, whole process, {args.repeat} runs: "
                f"median {statistics.median(wall):,.0f} entries/s wall (spread {wall[0]:,.0f}-{wall[-1]:,.0f}), "
                f"{statistics.median(cpu):,.0f} entries per CPU second (spread {cpu[0]:,.0f}-{cpu[-1]:,.0f})"
            )
        rng = random.Random(11)
        queries = [" ".join(rng.sample(WORDS, 3)) for _ in range(args.queries // 2)]
        queries += [f"note {rng.randrange(args.notes)} about {rng.choice(WORDS)}" for _ in range(args.queries // 2)]
        one_ms, two_ms = recall_medians(base, base / "memory-0", queries)
        print(
            f"recall at {args.notes:,} entries, median of {len(queries)} queries x 3 (in-process, warm): "
            f"one memory {one_ms:.1f} ms, split over two memories {two_ms:.1f} ms ({two_ms / one_ms:.2f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
