"""Lifecycle benchmark: recall with lifecycle ranking, the cost of that ranking, and
`mem consolidate` / `mem stats` on a generated tree.

    .venv/bin/python bench/lifecycle.py [--entries 10000] [--queries 200] [--out bench/out/lifecycle.json]

The tree is generated (seeded): entries whose words follow the word frequencies of
.memory-example (real technical English), with rare identifiers, random importance,
maturity, decay and update dates over two years, access counts in `.mem/state.db` for a
third of them, and `--duplicates` planted near-duplicates (60% of the words kept).

Reported (medians and p95 in ms):
- recall: `Memory.recall` end to end (index refresh by stat scan, tiers, lifecycle ranking,
  access recording), for queries made from entries' titles and keywords;
- ranking: the lifecycle's share of that, measured in-process: reading the usage signals
  of 200 candidates from state.db, scoring them (effective importance, recency, rank score),
  and recording one access;
- consolidate: planning a run over the whole tree (maturity, archiving, near-duplicate
  detection) and the share of planted duplicates it proposes;
- stats: `Memory.stats()`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from contextree import Memory
from contextree.core.entry import Entry, dump_entry
from contextree.core.lifecycle import Signals, effective_importance, rank_score, recency
from contextree.core.text import STOPWORDS

EXAMPLE = Path(__file__).resolve().parents[1] / ".memory-example"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DOMAINS = ("architecture", "conventions", "gotchas", "runbooks", "people", "decisions", "services", "data")


def example_vocabulary() -> tuple[list[str], list[int]]:
    counts: Counter[str] = Counter()
    for file in EXAMPLE.rglob("*.md"):
        counts.update(w for w in re.findall(r"[a-z][a-z0-9_]+", file.read_text().lower()) if len(w) > 2)
    words, weights = zip(*counts.most_common(), strict=True)
    return list(words), list(weights)


def generate(root: Path, entries: int, duplicates: int, seed: int) -> list[tuple[str, str]]:
    """Write the tree; returns the planted (original, copy) pairs."""
    rng = random.Random(seed)
    words, weights = example_vocabulary()
    cumulative = list(itertools.accumulate(weights))  # choices() would re-add the weights on every call
    content = [w for w in words if w not in STOPWORDS]
    Memory.init(root)
    topics = [(rng.choice(DOMAINS), f"topic-{n}", rng.sample(content, 25)) for n in range(max(8, entries // 40))]
    written: list[Entry] = []
    for number in range(entries):
        domain, topic, topic_words = rng.choice(topics)
        title_words = rng.sample(topic_words, 3) + rng.choices(content, k=2)
        text: list[str] = []
        for _ in range(rng.randint(60, 260)):
            pick = rng.random()
            if pick < 0.25:
                text.append(rng.choice(topic_words))
            elif pick < 0.97:
                text.append(rng.choices(words, cum_weights=cumulative)[0])
            else:
                text.append(f"{rng.choice(content)}_{rng.randint(100, 99999)}")  # identifiers, ticket numbers
        updated = NOW - timedelta(days=rng.uniform(0, 730))
        maturity = rng.choices(("draft", "validated", "core"), (5, 4, 1))[0]
        entry = Entry(
            path=f"{domain}/{topic}/entry-{number}",
            title=" ".join(title_words).capitalize(),
            body=" ".join(text) + "\n",
            keywords=tuple(rng.sample(topic_words, 4)),
            importance=rng.randint(20, 95),
            maturity=maturity,  # type: ignore[arg-type]
            decay=rng.choices(("normal", "slow", "never"), (6, 3, 1))[0],  # type: ignore[arg-type]
            created=updated,
            updated=updated,
            source="bench",
        )
        written.append(entry)
    planted = []
    for number in range(duplicates):
        original = written[number * max(1, entries // max(1, duplicates))]
        kept = [
            word if rng.random() < 0.6 else rng.choices(words, cum_weights=cumulative)[0]
            for word in original.body.split()
        ]
        copy = Entry(
            path=original.path + "-copy",
            title=original.title,
            body=" ".join(kept) + "\n",
            keywords=original.keywords,
            importance=rng.randint(20, 80),
            created=original.updated,
            updated=original.updated,
            source="bench",
        )
        written.append(copy)
        planted.append((original.path, copy.path))
    for entry in written:
        file = root.joinpath(*entry.path.split("/")).with_suffix(".md")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(dump_entry(entry), encoding="utf-8")
    state = Memory(root).state()
    for entry in rng.sample(written, len(written) // 3):
        for _ in range(rng.randint(1, 12)):
            state.record([entry.path], (NOW - timedelta(days=rng.uniform(0, 120))).timestamp())
    state.close()
    return planted


def queries(root: Path, count: int, seed: int) -> list[str]:
    rng = random.Random(seed + 1)
    memory = Memory(root)
    entries = memory.list().entries
    out = []
    for entry in rng.sample(entries, min(count, len(entries))):
        words = entry.title.lower().split()
        rng.shuffle(words)
        out.append(" ".join(words[:3] + list(entry.keywords[:1])))
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "n": len(ordered),
    }


def bench_recall(root: Path, asked: list[str]) -> dict[str, Any]:
    memory = Memory(root, clock=lambda: NOW)
    memory.refresh_index()
    memory.recall(asked[0])  # warm: connections, caches
    totals, tiers = [], Counter[str]()
    for query in asked:
        started = time.perf_counter()
        result = memory.recall(query)
        totals.append((time.perf_counter() - started) * 1000)
        tiers[result.tier or "unresolved"] += 1
    return {**summary(totals), "resolved_by": dict(tiers)}


def bench_ranking(root: Path, rounds: int = 200) -> dict[str, Any]:
    """The lifecycle's work per recall, in-process: signals for 200 candidates, scoring them,
    recording one access."""
    memory = Memory(root, clock=lambda: NOW)
    index = memory.index()
    conn, _ = index.connection()
    rows = conn.execute("SELECT id FROM docs ORDER BY random() LIMIT 200").fetchall()
    docs = list(index.docs(row[0] for row in rows).values())
    state = memory.state()
    cfg = memory.config.lifecycle
    now = NOW.timestamp()
    signal_ms, score_ms, record_ms = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        signals = state.signals(doc.path for doc in docs)
        signal_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        for doc in docs:
            used = signals.get(doc.path, Signals())
            importance = effective_importance(doc.importance, doc.updated, used, now, cfg, doc.decay)
            fresh = recency(doc.decay, doc.updated, used, now, cfg)
            rank_score(0.7, importance, fresh, doc.maturity, cfg)
        score_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        state.record([docs[0].path], now)
        record_ms.append((time.perf_counter() - started) * 1000)
    total = [a + b + c for a, b, c in zip(signal_ms, score_ms, record_ms, strict=True)]
    return {
        "candidates": len(docs),
        "signals": summary(signal_ms),
        "scoring": summary(score_ms),
        "record_access": summary(record_ms),
        "total": summary(total),
    }


def bench_consolidate(root: Path, planted: list[tuple[str, str]]) -> dict[str, Any]:
    memory = Memory(root, clock=lambda: NOW)
    started = time.perf_counter()
    result = memory.consolidate(dry_run=True)
    elapsed = (time.perf_counter() - started) * 1000
    proposed = {(p.first, p.second) for m in result.plan.merges for p in m.pairs}
    found = sum(1 for pair in planted if tuple(sorted(pair)) in proposed)
    started = time.perf_counter()
    memory.stats()
    stats_ms = (time.perf_counter() - started) * 1000
    return {
        "plan_ms": round(elapsed, 1),
        "entries": result.plan.entries,
        "moves": len(result.plan.moves),
        "archive": len(result.plan.archive),
        "merge_proposals": len(result.plan.merges),
        "planted_duplicates": len(planted),
        "planted_found": found,
        "stats_ms": round(stats_ms, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--duplicates", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mem-lifecycle-") as folder:
        root = Path(folder) / "memory"
        started = time.perf_counter()
        planted = generate(root, args.entries, args.duplicates, args.seed)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        Memory(root).refresh_index()
        indexed = time.perf_counter() - started
        asked = queries(root, args.queries, args.seed)
        report = {
            "entries": args.entries + len(planted),
            "setup_s": {"generate": round(generated, 1), "index": round(indexed, 1)},
            "recall": bench_recall(root, asked),
            "ranking": bench_ranking(root),
            "consolidate": bench_consolidate(root, planted),
            "python": sys.version.split()[0],
        }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
