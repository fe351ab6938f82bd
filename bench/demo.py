"""`make demo`: a short tour of the bundled example memory, run with the real `mem` command."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

STEPS = [
    ("The context tree: domains, topics, entries with importance and maturity", ["tree", "gotchas"]),
    ("Recall by keywords (BM25): resolved without a model", ["recall", "pgbouncer prepared statements", "-k", "3"]),
    ("Typos go to the fuzzy tier", ["recall", "kubernets readyness probe", "-k", "2"]),
    ("A question in Chinese", ["recall", "数据库迁移检查清单", "-k", "1"]),
    ("Something the memory does not know: no weak guess", ["recall", "what is the capital of Peru?"]),
    (
        "Why: every tier's candidates, scores and time",
        ["recall", "how do we roll back a release?", "--explain", "-k", "3"],
    ),
    (
        "A paste-ready block for an agent's prompt",
        ["recall", "session tokens redis", "--format", "context", "--budget", "250"],
    ),
    ("One entry, as a person reads it", ["show", "gotchas/database/pgbouncer-prepared-statements"]),
]


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".memory-example").resolve()
    mem = Path(sys.executable).with_name("mem")
    for caption, args in STEPS:
        command = [str(mem), "--root", str(root), *args]
        print(f"\n\033[1m# {caption}\033[0m\n$ mem {shlex.join(args)}", flush=True)
        completed = subprocess.run(command, check=False)
        if completed.returncode != 0:
            print(f"demo step failed with exit code {completed.returncode}", file=sys.stderr)
            return completed.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
