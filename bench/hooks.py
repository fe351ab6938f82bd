"""The prompt hook: what it costs per prompt, and what it injects.

1. Whole-process time of `mem hook prompt --agent claude` (the payload on stdin, as Claude
   Code runs it) against `mem recall QUERY --json` of the same prompt, and `python -c pass`,
   at each size: a generated tree (bench/treegen.py, cached under bench/out/trees/) with
   .memory-example/ copied in, so the in-domain prompts still have their entries. The three
   commands are interleaved run by run (the machine's noise hits all three alike); median,
   p95, min, max. Goal (issue 14): hook median <= 1.2 x recall median.
2. Tokens injected per prompt over sets of prompts people type to a coding agent, on
   .memory-example/ alone and on each tree: how many in-domain prompts got an expected
   entry, and the tokens injected out of domain (goal: 0). bench/hook-prompts.yaml is the
   development set (the prompt gate was chosen on it); bench/hook-prompts-heldout*.yaml
   were each written before the gate was changed (or a change of it tried) and are only
   measured, never tuned on.

    .venv/bin/python bench/hooks.py [--sizes 1000 10000] [--runs 20]   (--runs 0: injection only)
        [--deadline-ms 20000]   (a loaded machine must not cut hooks short in the injection figures)

Writes bench/out/hooks.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from treegen import ensure_tree

MEM = str(Path(sys.executable).with_name("mem"))
EXAMPLE = Path(__file__).resolve().parent.parent / ".memory-example"
OUT = Path(__file__).parent / "out"
PROMPT_SETS = {
    "development": Path(__file__).parent / "hook-prompts.yaml",
    "held-out": Path(__file__).parent / "hook-prompts-heldout.yaml",
    "held-out-2": Path(__file__).parent / "hook-prompts-heldout2.yaml",
    "held-out-3": Path(__file__).parent / "hook-prompts-heldout3.yaml",
    "held-out-4": Path(__file__).parent / "hook-prompts-heldout4.yaml",
    "held-out-5": Path(__file__).parent / "hook-prompts-heldout5.yaml",
}


def stats(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "min": round(ordered[0], 1),
        "max": round(ordered[-1], 1),
        "runs": len(ordered),
    }


def payload(project: Path, prompt: str) -> str:
    return json.dumps(
        {
            "session_id": "bench",
            "transcript_path": str(project / "none.jsonl"),
            "cwd": str(project),
            "permission_mode": "default",
            "hook_event_name": "UserPromptSubmit",
            "prompt": prompt,
        }
    )


CPU_MS: list[float] = []  # the CPU time (user + system) of each process run, beside its wall time


def run(command: list[str], project: Path, stdin: str | None = None) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=project, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_MS.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    if done.returncode != 0:
        raise SystemExit(f"{command} failed: {done.stderr[-500:]}")
    return elapsed, done.stdout


def injected(stdout: str) -> tuple[int, list[str]]:
    """(estimated tokens, entry paths) the hook put in front of the model."""
    if not stdout.strip():
        return 0, []
    text = json.loads(stdout)["hookSpecificOutput"]["additionalContext"]
    paths = [part.split('"', 1)[0] for part in text.split('<memory path="')[1:]]
    return (len(text) + 3) // 4, paths  # the same estimate as contextree.core.text.estimate_tokens


def project_with(tree: Path | None, workdir: Path, deadline_ms: int | None = None) -> Path:
    project = workdir / "project"
    if project.exists():
        shutil.rmtree(project)
    memory = project / ".memory"
    if tree is not None:
        shutil.copytree(tree, memory)
    shutil.copytree(EXAMPLE, memory, dirs_exist_ok=True)
    shutil.rmtree(memory / ".mem", ignore_errors=True)
    if deadline_ms is not None:
        setting = [MEM, "config", "set", "hooks.deadline_ms", str(deadline_ms)]
        subprocess.run(setting, cwd=project, check=True, capture_output=True)
    subprocess.run([MEM, "reindex"], cwd=project, check=True, capture_output=True)
    return project


def injection(project: Path, prompts: list[dict]) -> dict:
    rows = []
    for item in prompts:
        _, out = run([MEM, "hook", "prompt", "--agent", "claude"], project, payload(project, item["prompt"]))
        tokens, paths = injected(out)
        rows.append({"prompt": item["prompt"], "expect": item["expect"], "tokens": tokens, "injected": paths})
    inside = [row for row in rows if row["expect"]]
    outside = [row for row in rows if not row["expect"]]
    return {
        "in_domain": len(inside),
        "in_domain_with_expected_entry": sum(1 for r in inside if set(r["injected"]) & set(r["expect"])),
        "in_domain_injected_nothing": sum(1 for r in inside if not r["injected"]),
        "in_domain_wrong_entry_only": sum(
            1 for r in inside if r["injected"] and not set(r["injected"]) & set(r["expect"])
        ),
        "in_domain_tokens_median": statistics.median(r["tokens"] for r in inside),
        "in_domain_tokens_max": max(r["tokens"] for r in inside),
        "out_of_domain": len(outside),
        "out_of_domain_tokens_total": sum(r["tokens"] for r in outside),
        "tokens_per_prompt_mean": round(sum(r["tokens"] for r in rows) / len(rows), 1),
        "out_of_domain_prompts_with_injection": [r["prompt"] for r in outside if r["tokens"]],
        "rows": rows,
    }


def timing(project: Path, prompts: list[dict], runs: int) -> dict:
    wall: dict[str, list[float]] = {"python": [], "hook": [], "recall": []}
    cpu: dict[str, list[float]] = {"python": [], "hook": [], "recall": []}
    chosen = [item["prompt"] for item in prompts]
    for number in range(runs):
        prompt = chosen[number % len(chosen)]  # in-domain and out-of-domain prompts alternate
        commands = {
            "python": ([sys.executable, "-c", "pass"], None),
            "hook": ([MEM, "hook", "prompt", "--agent", "claude"], payload(project, prompt)),
            "recall": ([MEM, "recall", prompt, "--json"], None),
        }
        for name, (command, stdin) in commands.items():
            wall[name].append(run(command, project, stdin)[0])
            cpu[name].append(CPU_MS[-1])
    hook, recall = stats(wall["hook"]), stats(wall["recall"])
    return {
        "python_c_pass_ms": stats(wall["python"]),
        "hook_prompt_ms": hook,
        "recall_json_ms": recall,
        "hook_over_recall_median": round(hook["median"] / recall["median"], 2),
        "cpu_ms": {name: stats(times) for name, times in cpu.items()},
    }


def injections(project: Path, sets: dict[str, list[dict]]) -> dict[str, dict]:
    found = {name: injection(project, prompts) for name, prompts in sets.items()}
    for name, result in found.items():
        print(json.dumps({"set": name, **{k: v for k, v in result.items() if k != "rows"}}), flush=True)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--deadline-ms",
        type=int,
        help="the prompt hook's deadline (hooks.deadline_ms) in the bench's projects; on a loaded "
        "machine the default 1500 cuts hooks short and the injection figures measure the load, "
        "not the gate",
    )
    args = parser.parse_args()
    sets = {name: yaml.safe_load(file.read_text(encoding="utf-8")) for name, file in PROMPT_SETS.items()}
    # Timing alternates an in-domain and an out-of-domain prompt of the development set.
    inside = [p for p in sets["development"] if p["expect"]]
    outside = [p for p in sets["development"] if not p["expect"]]
    mixed = [p for pair in zip(inside, outside, strict=False) for p in pair]
    results: dict = {"runs": args.runs, "deadline_ms": args.deadline_ms, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="mem-bench-hooks-") as scratch:
        workdir = Path(scratch)
        project = project_with(None, workdir, args.deadline_ms)
        print(json.dumps({"size": 0}), flush=True)
        results["example"] = {"entries": 59, "injection": injections(project, sets)}
        for size in args.sizes:
            ensure_tree(OUT / "trees" / str(size), size)
            project = project_with(OUT / "trees" / str(size), workdir, args.deadline_ms)
            entry: dict = {"entries": size + 59}
            if args.runs > 0:
                entry["timing"] = timing(project, mixed, args.runs)
            print(json.dumps({"size": size, **entry.get("timing", {})}), flush=True)
            entry["injection"] = injections(project, sets)
            results["sizes"][str(size)] = entry
    OUT.mkdir(exist_ok=True)
    (OUT / "hooks.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
