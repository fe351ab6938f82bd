"""How long an agent waits for `mem mcp`: from spawning the server to the first answered call.

An agent (Claude Code, Codex, Cursor) starts the server when a session opens; until the
server answers, the memory is not there. This spawns `mem mcp` with the official SDK's stdio
client - the same path the agents take - and measures, per run:

- `ready`: spawn until the protocol handshake is done (imports, server set-up, negotiation);
- `first_call`: spawn until the first `tools/call` (`tree` on the example memory) is answered.

Usage:  .venv/bin/python bench/mcp_startup.py [--runs 10] [--root .memory-example] [--json]
Prints the median, min and max of each over the runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

REPO = Path(__file__).resolve().parent.parent


async def one_run(mem: str, root: Path) -> tuple[float, float]:
    params = StdioServerParameters(command=mem, args=["mcp"], env={"MEM_ROOT": str(root)}, cwd=str(root.parent))
    start = time.perf_counter()
    async with Client(params, read_timeout_seconds=120) as client:
        ready = time.perf_counter() - start
        result = await client.call_tool("tree", {})
        first_call = time.perf_counter() - start
        if result.is_error:
            raise SystemExit(f"the first call failed: {result.content}")
    return ready, first_call


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(values) * 1000, 1),
        "min_ms": round(min(values) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--root", type=Path, default=REPO / ".memory-example", help="memory to serve (copied first)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    mem = str(Path(sys.executable).with_name("mem"))

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / ".memory"
        shutil.copytree(args.root, root)
        anyio.run(one_run, mem, root)  # warm the OS file cache once; not counted
        ready, first = [], []
        for _ in range(args.runs):
            r, f = anyio.run(one_run, mem, root)
            ready.append(r)
            first.append(f)

    figures = {"runs": args.runs, "ready": summary(ready), "first_call": summary(first)}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"mem mcp start-up over {args.runs} runs (spawn -> ...)")
        for name in ("ready", "first_call"):
            s = figures[name]
            print(f"  {name:<11} median {s['median_ms']:>7} ms   min {s['min_ms']:>7} ms   max {s['max_ms']:>7} ms")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
