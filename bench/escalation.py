"""Escalation benchmark: how often is the LLM not needed?

For two question sets, the share of questions each tier resolves and the time spent per
tier, walking the cheap tiers only (no model is needed for this figure: a question no cheap
tier is confident about is one that would escalate to the `llm` tier):

- LoCoMo dev (categories 1-4), the tree built as bench/locomo.py builds it (one entry per
  dialogue turn, one scope per conversation);
- bench/coding-questions.yaml over .memory-example/ (a coding project's memory), where each
  question also says which entries answer it, so a resolved answer can be checked: a
  resolution is *right* when the first hit is an expected entry, and an out-of-domain
  question (no expected entry) is right when nothing is resolved and nothing is shown.

With a model (`--model`, `--api-base`, `--api-key`, or the MEM_LLM_* variables), the
questions that would escalate are then asked with `max_tier=llm` (or `--max-tier agent`),
and the model tiers' share, time, tokens and failures are reported too. `--fake` runs the
model tiers against tests/fakellm.py (a local scripted server that picks the first
candidate): no real model, but the exact requests and their sizes, i.e. the prompt tokens
one escalation costs.

    .venv/bin/python bench/escalation.py [--sets locomo coding] [--limit N]
    .venv/bin/python bench/escalation.py --fake
    .venv/bin/python bench/escalation.py --model openai/gpt-4o-mini        # OPENAI_API_KEY set
    .venv/bin/python bench/escalation.py --model ollama_chat/llama3.1 --api-base http://127.0.0.1:11434

Results are printed as markdown and written to bench/out/escalation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml
from contextree import Memory
from contextree.core.recall import RecallResult

sys.path.insert(0, str(Path(__file__).resolve().parent))
import locomo  # bench/locomo.py, next to this file

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / ".memory-example"
CODING = Path(__file__).resolve().parent / "coding-questions.yaml"
CHEAP = ("path", "keyword", "fuzzy")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def ms_summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "median": round(statistics.median(values), 2), "p95": round(percentile(values, 0.95), 2)}


def coding_questions() -> list[dict[str, Any]]:
    return [
        {"question": item["question"], "expected": set(item["expected"]), "scope": None}
        for item in yaml.safe_load(CODING.read_text(encoding="utf-8"))
    ]


def locomo_questions(data: Path, root: Path, limit: int | None) -> list[dict[str, Any]]:
    conversations = json.loads(data.read_text(encoding="utf-8"))
    locomo.build_tree(conversations, root)
    asked = locomo.questions(conversations)
    if limit:
        asked = asked[:limit]
    return [{"question": q["question"], "expected": q["evidence"], "scope": q["sample_id"]} for q in asked]


def right(result: RecallResult, expected: set[str]) -> bool:
    if not expected:
        return not result.resolved and not result.results
    return result.resolved and bool(result.results) and result.results[0].path in expected


def run_set(name: str, root: Path, asked: list[dict[str, Any]], env: dict[str, str], max_tier: str) -> dict[str, Any]:
    cheap_memory = Memory(root, env={})  # no model: the cheap walk alone
    cheap_memory.reindex()
    cheap_memory.recall("warm up", k=1, max_tier="fuzzy")
    resolved_by: Counter[str] = Counter()
    walk_ms: dict[str, list[float]] = defaultdict(list)  # whole cheap walk, by the tier that resolved it
    tier_ms: dict[str, list[float]] = defaultdict(list)  # time inside each tier
    correct: Counter[str] = Counter()
    escalating: list[dict[str, Any]] = []
    for item in asked:
        result = cheap_memory.recall(item["question"], k=10, scope=item["scope"], max_tier="fuzzy")
        tier = result.tier or "unresolved"
        resolved_by[tier] += 1
        walk_ms[tier].append(result.timings_ms["total"])
        for step in CHEAP:
            if step in result.timings_ms:
                tier_ms[step].append(result.timings_ms[step])
        if name == "coding" and right(result, item["expected"]):
            correct[tier] += 1
        if not result.resolved:
            escalating.append(item)
    total = len(asked)
    report: dict[str, Any] = {
        "questions": total,
        "resolved_by": {tier: resolved_by[tier] for tier in (*CHEAP, "unresolved")},
        "share_pct": {tier: round(100 * resolved_by[tier] / total, 1) for tier in (*CHEAP, "unresolved")},
        "llm_not_needed_pct": round(100 * (total - resolved_by["unresolved"]) / total, 1),
        "walk_ms_by_outcome": {tier: ms_summary(values) for tier, values in walk_ms.items()},
        "ms_in_tier": {tier: ms_summary(tier_ms[tier]) for tier in CHEAP},
    }
    if name == "coding":
        report["right_pct_by_outcome"] = {
            tier: round(100 * correct[tier] / resolved_by[tier], 1) for tier in resolved_by if resolved_by[tier]
        }
    if env:
        report["model"] = run_model(root, escalating, env, max_tier, name)
    return report


def run_model(root: Path, escalating: list[dict[str, Any]], env: dict[str, str], max_tier: str, name: str) -> Any:
    memory = Memory(root, env=env)
    outcome: Counter[str] = Counter()
    model_ms: dict[str, list[float]] = defaultdict(list)
    tokens_in: list[int] = []
    tokens_out: list[int] = []
    errors: Counter[str] = Counter()
    correct = 0
    for item in escalating:
        result = memory.recall(item["question"], k=10, scope=item["scope"], max_tier=max_tier)
        outcome[result.tier or "unresolved"] += 1
        for tier in ("llm", "agent"):
            if tier in result.timings_ms:
                model_ms[tier].append(result.timings_ms[tier])
        if result.llm is not None:
            tokens_in.append(result.llm.tokens_in)
            tokens_out.append(result.llm.tokens_out)
            if result.llm.error:
                errors[result.llm.error.split(":", 1)[0]] += 1
        if name == "coding" and right(result, item["expected"]):
            correct += 1
    report: dict[str, Any] = {
        "model": env.get("MEM_LLM_MODEL"),
        "escalated": len(escalating),
        "resolved_by": dict(outcome),
        "ms_in_tier": {tier: ms_summary(values) for tier, values in model_ms.items()},
        "tokens_in_per_recall": ms_summary([float(t) for t in tokens_in]),
        "tokens_out_per_recall": ms_summary([float(t) for t in tokens_out]),
        "errors": dict(errors),
    }
    if name == "coding":
        report["right"] = correct
    return report


def fake_server() -> Any:
    """tests/fakellm.py, answering like a model that trusts the best candidate."""
    sys.path.insert(0, str(REPO / "tests"))
    from fakellm import FakeLLM, Reply, Request

    def reply(request: Request) -> Reply:
        user = "\n".join(m["content"] for m in request.messages if m["role"] != "system")
        shown = re.findall(r'<memory path="([^"]+)"', user)
        if request.messages[0]["content"].startswith("You answer a question by exploring"):
            return Reply({"action": "answer", "answer": None, "citations": []})
        first = shown[:1]
        return Reply({"relevant": first, "answer": f"See [{first[0]}]." if first else None, "citations": first})

    server = FakeLLM("bench-fake").start()
    server.default = reply
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", choices=("locomo", "coding"), default=["locomo", "coding"])
    parser.add_argument("--data", type=Path, default=locomo.DEFAULT_DATA, help="LoCoMo dev JSON")
    parser.add_argument("--limit", type=int, default=None, help="ask only the first N LoCoMo questions")
    parser.add_argument("--model", default=os.environ.get("MEM_LLM_MODEL"))
    parser.add_argument("--api-base", default=os.environ.get("MEM_LLM_API_BASE"))
    parser.add_argument("--api-key", default=os.environ.get("MEM_LLM_API_KEY"))
    parser.add_argument("--max-tier", choices=("llm", "agent"), default="llm")
    parser.add_argument("--fake", action="store_true", help="model tiers against the local fake server")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "escalation.json")
    args = parser.parse_args()

    server = fake_server() if args.fake else None
    env: dict[str, str] = {}
    if server is not None:
        env = server.env
    elif args.model:
        env = {"MEM_LLM_MODEL": args.model}
        if args.api_base:
            env["MEM_LLM_API_BASE"] = args.api_base
        if args.api_key:
            env["MEM_LLM_API_KEY"] = args.api_key
    if env:
        env = {**os.environ, **env, "MEM_SOURCE": "bench"}

    report: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as folder:
            if "coding" in args.sets:
                root = Path(folder) / "coding"
                shutil.copytree(EXAMPLE, root)
                (root / "config.yaml").write_text("llm:\n  cache: false\n", encoding="utf-8")
                report["coding"] = run_set("coding", root, coding_questions(), env, args.max_tier)
            if "locomo" in args.sets:
                root = Path(folder) / "locomo"
                asked = locomo_questions(args.data, root, args.limit)
                (root / "config.yaml").write_text("llm:\n  cache: false\n", encoding="utf-8")
                report["locomo"] = run_set("locomo", root, asked, env, args.max_tier)
    finally:
        if server is not None:
            server.stop()
    report["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    print("| set | questions | path | keyword | fuzzy | would escalate | LLM not needed |")
    print("|---|---|---|---|---|---|---|")
    for name in ("locomo", "coding"):
        if name not in report:
            continue
        part = report[name]
        share = part["share_pct"]
        print(
            f"| {name} | {part['questions']} | {share['path']}% | {share['keyword']}% | {share['fuzzy']}% | "
            f"{share['unresolved']}% | {part['llm_not_needed_pct']}% |"
        )
    for name in ("locomo", "coding"):
        if name not in report:
            continue
        part = report[name]
        timing = ", ".join(
            f"{tier} {values.get('median', '-')} ms (p95 {values.get('p95', '-')})"
            for tier, values in part["ms_in_tier"].items()
        )
        print(f"{name}: time in tier, median: {timing}")
        if "right_pct_by_outcome" in part:
            print(f"{name}: right answers among those resolved by each tier (%): {part['right_pct_by_outcome']}")
        if "model" in part:
            print(f"{name}: model tiers: {json.dumps(part['model'])}")
    print(f"({report['seconds']} s; details in {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
