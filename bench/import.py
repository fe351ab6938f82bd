"""`mem import` throughput: entries per second importing a folder of N markdown notes.

Builds a folder of N notes (YAML frontmatter with tags, aliases and dates; wikilinks between
notes; 3-4 levels of folders, as an Obsidian vault or a docs folder has), then imports it
into a fresh memory `--repeat` times (median and spread), as a separate `mem` process, the
way a person runs it. Also times a second import of the same folder (nothing to change).
`python -c pass` is measured in the same run, so machines can be compared.

    .venv/bin/python bench/import.py --notes 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import random
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


def run(*args: str) -> float:
    start = time.perf_counter()
    completed = subprocess.run([MEM, *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"mem {' '.join(args)} failed: {completed.stderr.strip()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    baseline = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append((time.perf_counter() - start) * 1000)
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        folder = build_folder(base, args.notes)
        first: list[float] = []
        again: list[float] = []
        for attempt in range(args.repeat):
            root = base / f"memory-{attempt}"
            run("init", str(root))
            first.append(run("--root", str(root), "import", str(folder), "--json"))
            again.append(run("--root", str(root), "import", str(folder), "--json"))
        rates = sorted(args.notes / seconds for seconds in first)
        print(f"python -c pass: median {statistics.median(baseline):.1f} ms")
        print(
            f"import of {args.notes:,} notes: median {statistics.median(first):.2f} s "
            f"({statistics.median(rates):,.0f} entries/s; spread {rates[0]:,.0f}-{rates[-1]:,.0f}) "
            f"over {args.repeat} runs, whole process"
        )
        print(
            f"second import (nothing changed): median {statistics.median(again):.2f} s "
            f"(spread {min(again):.2f}-{max(again):.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
