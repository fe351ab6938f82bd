"""Recall on a small, growing team memory: what a new user meets in their first weeks.

The entries of bench/smallmem.yaml are added one at a time (through `Memory.add`, as `mem
add` would); at each measured size every question whose entry is already in the tree is
asked, and every out-of-domain question. Recall runs with the cheap tiers only (no model)
and the default configuration, usage counting included, in one fresh tree:

- right@1            the first result is the expected entry (in-domain questions)
- confident-right    the recall was resolved (a tier was confident) and right
- confident-wrong    resolved, but the first result is another entry; for an out-of-domain
                     question, resolved at all (the worst outcome: a sure, wrong answer)
- no-memory          "no memory about this" for a question the memory can answer
- ood-answered       an out-of-domain question got any result

    .venv/bin/python bench/smallmem.py [--data bench/smallmem.yaml] [--sizes 1,2,3,5,8,12,16,20,24]
        [--set recall.keyword_floor=0.6] [--show-misses] [--out bench/out/smallmem.json]

bench/smallmem-heldout-{mobile,dataplat,solo,gamestudio,infra,mlplatform,firmware,saas,fintech,ecommerce,
healthtech,newsroom}.yaml are memories of the same kind written by others (see their headers), for `--data`: a
change tuned on one set is checked on the rest.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from contextree import Memory
from contextree.core.config import set_value

DEFAULT_DATA = Path(__file__).with_name("smallmem.yaml")
DEFAULT_SIZES = (1, 2, 3, 5, 8, 12, 16, 20, 24)


def load(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries, questions = data["entries"], data["questions"]
    known = {entry["path"] for entry in entries}
    for question in questions:
        expected = question.get("expected")
        if expected is not None and expected not in known:
            raise SystemExit(f"question {question['q']!r} expects {expected!r}, which is not an entry")
    return entries, questions


def ask(memory: Memory, question: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    result = memory.recall(question["q"], max_tier="fuzzy")
    ms = (time.perf_counter() - started) * 1000
    first = result.results[0].path if result.results else None
    expected = question.get("expected")
    return {
        "q": question["q"],
        "kind": question["kind"],
        "expected": expected,
        "first": first,
        "resolved": result.resolved,
        "answered": bool(result.results),
        "ms": ms,
    }


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    inside = [row for row in rows if row["expected"] is not None]
    outside = [row for row in rows if row["expected"] is None]
    right = [row for row in inside if row["first"] == row["expected"]]
    confident_right = [row for row in right if row["resolved"]]
    confident_wrong = [row for row in inside if row["resolved"] and row["first"] != row["expected"]]
    confident_wrong += [row for row in outside if row["resolved"]]

    def share(part: list[Any], whole: list[Any]) -> float:
        return round(100 * len(part) / len(whole), 1) if whole else 0.0

    return {
        "in_domain": len(inside),
        "out_of_domain": len(outside),
        "right@1": share(right, inside),
        "confident_right": share(confident_right, inside),
        "confident_wrong": share(confident_wrong, rows),
        "no_memory": share([row for row in inside if not row["answered"]], inside),
        "ood_answered": share([row for row in outside if row["answered"]], outside),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a config.yaml setting")
    parser.add_argument("--show-misses", action="store_true", help="print every wrong or refused answer")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "smallmem.json")
    args = parser.parse_args()
    entries, questions = load(args.data)
    sizes = sorted({min(int(size), len(entries)) for size in args.sizes.split(",")})

    per_size: dict[int, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "memory"
        Memory.init(root)
        for setting in args.set:
            key, _, value = setting.partition("=")
            set_value(root, key, value)
        memory = Memory(root)
        added = 0
        for size in sizes:
            while added < size:
                entry = entries[added]
                memory.add(entry["path"], entry["body"], title=entry.get("title"), tags=entry.get("tags", ()))
                added += 1
            present = {entry["path"] for entry in entries[:size]}
            asked = [q for q in questions if q.get("expected") is None or q["expected"] in present]
            per_size[size] = [ask(memory, question) for question in asked]
        memory.close()

    every = [row for rows in per_size.values() for row in rows]
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in every:
        by_kind[row["kind"]].append(row)
    times = [row["ms"] for row in every]
    report = {
        "per_size": {size: score(rows) for size, rows in per_size.items()},
        "all_sizes": score(every),
        "per_kind": {kind: score(rows) for kind, rows in sorted(by_kind.items())},
        "ms": {"median": round(statistics.median(times), 2), "p95": round(sorted(times)[int(0.95 * len(times))], 2)},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")

    columns = ("right@1", "confident_right", "confident_wrong", "no_memory", "ood_answered")
    print(f"small memory: {len(entries)} entries, {len(questions)} questions, sizes {sizes}")
    print("| size | asked | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    lines = [*((str(s), v) for s, v in report["per_size"].items()), ("all", report["all_sizes"])]
    lines += [(f"kind {kind}", values) for kind, values in report["per_kind"].items()]
    for name, values in lines:
        asked = values["in_domain"] + values["out_of_domain"]
        print(f"| {name} | {asked} | " + " | ".join(str(values[c]) for c in columns) + " |")
    print(f"per query: median {report['ms']['median']} ms, p95 {report['ms']['p95']} ms")
    if args.show_misses:
        final = per_size[sizes[-1]]
        for row in final:
            wrong = row["first"] != row["expected"] if row["expected"] else row["answered"]
            if wrong:
                state = "confident" if row["resolved"] else ("unsure" if row["answered"] else "no memory")
                print(f"  [{row['kind']}] {row['q']!r}: {state} {row['first']} (expected {row['expected']})")
        print("confidently wrong at some size:")
        for size, rows in per_size.items():
            for row in rows:
                if row["resolved"] and row["first"] != row["expected"]:
                    print(f"  size {size} [{row['kind']}] {row['q']!r}: {row['first']} (expected {row['expected']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
