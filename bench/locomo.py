"""LoCoMo retrieval benchmark, exactly as ../shared/bench/README.md describes.

Each dialogue turn of the five dev conversations becomes one entry in a fresh memory tree
(path `<sample_id>/session-<N>/<dia_id>`), every question of categories 1-4 is asked with
`Memory(root).recall(question, k=25, scope=<sample_id>)`, and the share of the question's
evidence turns among the top k results is averaged (evidence recall@k). BM25 (bm25s, English
stopwords, Snowball stemmer over the bodies) is computed in the same run as the reference.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python bench/locomo.py [--data ../shared/bench/locomo-dev.json] [--out bench/out/locomo.json]

No embeddings and no LLM are used: `max_tier` stays at the cheap tiers.

`--reply-links` writes the same turns as `mem import` writes a conversation: each turn also
records in `reply_to` the turn it answers (core/import_transcript.py's rule), and recall lets
relevance flow along that link. The protocol's own tree has no links; the figures with them
are reported beside, never instead (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from contextree import Memory
from contextree.core.entry import REPLY_TO_KEY, Entry, dump_entry
from contextree.core.import_transcript import reply_targets

KS = (1, 5, 10, 25)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "bench" / "locomo-dev.json"


def normalize_evidence(raw: list[str]) -> list[str]:
    """`D:11:26` -> `D11:26`, `D30:05` -> `D30:5`, `D8:6; D9:17` -> two ids."""
    ids = []
    for item in raw:
        for part in re.split(r"[;,]", item):
            match = re.fullmatch(r"\s*D:?(\d+):0*(\d+)\s*", part)
            if match:
                ids.append(f"D{int(match.group(1))}:{int(match.group(2))}")
    return ids


def entry_path(sample_id: str, session: int, dia_id: str) -> str:
    return f"{sample_id}/session-{session}/{dia_id.lower().replace(':', '-')}"


def build_tree(conversations: list[dict[str, Any]], root: Path, *, reply_links: bool = False) -> dict[str, str]:
    """Write one entry per turn in the documented format; returns path -> body for BM25.
    With `reply_links`, each turn records the turn it answers, as an import would."""
    Memory.init(root)
    bodies: dict[str, str] = {}
    for conversation in conversations:
        sample_id = conversation["sample_id"]
        talk = conversation["conversation"]
        for key, turns in talk.items():
            match = re.fullmatch(r"session_(\d+)", key)
            if not match or not isinstance(turns, list):
                continue
            session = int(match.group(1))
            date = talk.get(f"session_{session}_date_time", "")
            paths = [entry_path(sample_id, session, turn["dia_id"]) for turn in turns]
            answered = reply_targets([turn["speaker"] for turn in turns])
            for turn, path, target in zip(turns, paths, answered, strict=True):
                text = turn["text"]
                body = f"{turn['speaker']}: {text}"
                if turn.get("blip_caption"):
                    body += f" [image: {turn['blip_caption']}]"
                body += f"\n\n(session {session}, {date})\n"
                links = {REPLY_TO_KEY: paths[target]} if reply_links and target is not None else {}
                entry = Entry(
                    path=path,
                    title=text[:60].strip() or turn["dia_id"],
                    body=body,
                    decay="never",
                    source="import:locomo",
                    extra=links,
                )
                file = root / (path + ".md")
                file.parent.mkdir(parents=True, exist_ok=True)
                file.write_text(dump_entry(entry), encoding="utf-8")
                bodies[path] = body
    return bodies


def questions(conversations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    asked = []
    for conversation in conversations:
        for qa in conversation["qa"]:
            if qa["category"] not in CATEGORIES:
                continue
            evidence = normalize_evidence(qa.get("evidence", []))
            if not evidence:
                continue
            paths = {entry_path(conversation["sample_id"], int(e[1:].split(":")[0]), e) for e in evidence}
            asked.append(
                {
                    "sample_id": conversation["sample_id"],
                    "question": qa["question"],
                    "category": qa["category"],
                    "evidence": paths,
                }
            )
    return asked


def evidence_recall(ranked: list[str], evidence: set[str], k: int) -> float:
    return len(evidence & set(ranked[:k])) / len(evidence)


def summarize(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    table: dict[str, Any] = {}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups["overall"].append(row)
        groups[CATEGORIES[row["category"]]].append(row)
    for name, group in groups.items():
        table[name] = {"n": len(group)} | {
            f"R@{k}": round(100 * statistics.fmean(evidence_recall(r[key], r["evidence"], k) for r in group), 1)
            for k in KS
        }
    return table


def bm25_reference(bodies: dict[str, str], asked: list[dict[str, Any]]) -> tuple[dict[str, list[str]], list[float]]:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    rankings: dict[str, list[str]] = {}
    times: list[float] = []
    by_sample: dict[str, list[str]] = defaultdict(list)
    for path in bodies:
        by_sample[path.split("/", 1)[0]].append(path)
    retrievers = {}
    for sample_id, paths in by_sample.items():
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize([bodies[p] for p in paths], stopwords="en", stemmer=stemmer, show_progress=False),
            show_progress=False,
        )
        retrievers[sample_id] = (retriever, paths)
    for item in asked:
        retriever, paths = retrievers[item["sample_id"]]
        started = time.perf_counter()
        tokens = bm25s.tokenize([item["question"]], stopwords="en", stemmer=stemmer, show_progress=False)
        docs, _ = retriever.retrieve(tokens, k=min(25, len(paths)), show_progress=False)
        times.append((time.perf_counter() - started) * 1000)
        rankings[item["question"] + item["sample_id"]] = [paths[i] for i in docs[0]]
    return rankings, times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "locomo.json")
    parser.add_argument("--no-bm25", action="store_true", help="skip the bm25s reference")
    parser.add_argument("--reply-links", action="store_true", help="turns link the turn they answer (as an import)")
    args = parser.parse_args()
    conversations = json.loads(args.data.read_text(encoding="utf-8"))
    asked = questions(conversations)

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "locomo"
        bodies = build_tree(conversations, root, reply_links=args.reply_links)
        memory = Memory(root)
        started = time.perf_counter()
        memory.reindex()
        build_s = time.perf_counter() - started
        memory.recall("warm up", k=1)  # imports and first connection are not part of a query
        rows, times = [], []
        tiers: dict[str, int] = defaultdict(int)
        for item in asked:
            started = time.perf_counter()
            result = memory.recall(item["question"], k=25, scope=item["sample_id"], max_tier="fuzzy")
            times.append((time.perf_counter() - started) * 1000)
            tiers[result.tier or "unresolved"] += 1
            rows.append(item | {"ours": [hit.path for hit in result.results]})

    report: dict[str, Any] = {
        "entries": len(bodies),
        "reply_links": args.reply_links,
        "questions": len(asked),
        "index_build_s": round(build_s, 2),
        "contextree": summarize(rows, "ours"),
        "contextree_ms": {"median": round(statistics.median(times), 2), "p95": round(percentile(times, 0.95), 2)},
        "resolved_by": dict(tiers),
    }
    if not args.no_bm25:
        rankings, bm25_times = bm25_reference(bodies, asked)
        for row in rows:
            row["bm25"] = rankings[row["question"] + row["sample_id"]]
        report["bm25s"] = summarize(rows, "bm25")
        report["bm25s_ms"] = {
            "median": round(statistics.median(bm25_times), 2),
            "p95": round(percentile(bm25_times, 0.95), 2),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")

    links = ", turns linked to the turn they answer" if args.reply_links else ""
    print(f"LoCoMo dev: {report['entries']} entries, {report['questions']} questions (categories 1-4){links}")
    header = "| retriever | category | n | R@1 | R@5 | R@10 | R@25 |"
    print(header + "\n|---|---|---|---|---|---|---|")
    for name in ("contextree", "bm25s"):
        for category, values in report.get(name, {}).items():
            print(f"| {name} | {category} | {values['n']} | " + " | ".join(str(values[f"R@{k}"]) for k in KS) + " |")
    print(
        f"contextree per query: median {report['contextree_ms']['median']} ms, p95 {report['contextree_ms']['p95']} ms"
    )
    if "bm25s_ms" in report:
        print(f"bm25s per query: median {report['bm25s_ms']['median']} ms, p95 {report['bm25s_ms']['p95']} ms")
    print(f"resolved by: {report['resolved_by']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
