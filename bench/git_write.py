"""What autocommit costs: whole-process `mem add` with git off and on.

Three memories in a temporary folder, each given N adds (one new entry per run, as a
separate `mem` process, the way an agent calls it):

- `no-git`      a plain folder: mem does not look for git beyond a few stats
- `in-project`  `.memory/` inside a project repository, autocommit unset: still no git process
- `autocommit`  a repository of its own (`mem init --git`): each add is one commit

Prints the median and 90th percentile wall time per add. Git runs with an isolated
configuration (no ~/.gitconfig, no hooks), so the figures are about mem and git alone.

    .venv/bin/python bench/git_write.py --runs 30
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEM = str(Path(sys.executable).with_name("mem"))


def git(cwd: Path, *args: str, env: dict[str, str]) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def mem(env: dict[str, str], *args: str) -> None:
    completed = subprocess.run([MEM, *args], env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0 or "warning" in completed.stderr:
        raise SystemExit(f"mem {' '.join(args)} failed: {completed.stderr.strip()}")


def setup(base: Path, env: dict[str, str]) -> dict[str, Path]:
    roots = {"no-git": base / "plain" / ".memory", "in-project": base / "project" / ".memory"}
    (base / "project").mkdir(parents=True)
    git(base / "project", "init", "-q", env=env)
    for root in roots.values():
        mem(env, "init", str(root))
    roots["autocommit"] = base / "standalone"
    mem(env, "init", "--git", str(roots["autocommit"]))
    return roots


def time_adds(root: Path, runs: int, env: dict[str, str]) -> list[float]:
    timings = []
    for index in range(runs):
        start = time.perf_counter()
        mem(env, "--root", str(root), "add", f"bench/writes/entry-{index}", f"Entry number {index}.")
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="adds per mode (default 30)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mem-git-bench-") as folder:
        base = Path(folder)
        config = base / "gitconfig"
        config.write_text("[init]\n\tdefaultBranch = main\n")
        env = {
            **os.environ,
            "HOME": str(base),
            "GIT_CONFIG_GLOBAL": str(config),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Bench",
            "GIT_AUTHOR_EMAIL": "bench@example.test",
            "GIT_COMMITTER_NAME": "Bench",
            "GIT_COMMITTER_EMAIL": "bench@example.test",
        }
        env.pop("MEM_ROOT", None)
        roots = setup(base, env)
        mem(env, "--root", str(roots["no-git"]), "add", "bench/warm/up", "warm the caches")
        print(f"mem add, whole process, {args.runs} runs per mode")
        print(f"{'mode':<12} {'median ms':>10} {'p90 ms':>8}")
        for mode, root in roots.items():
            timings = sorted(time_adds(root, args.runs, env))
            p90 = timings[min(len(timings) - 1, int(len(timings) * 0.9))]
            print(f"{mode:<12} {statistics.median(timings):>10.1f} {p90:>8.1f}")
        commits = subprocess.run(
            ["git", "rev-list", "--count", "HEAD"],
            cwd=roots["autocommit"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"autocommit repository: {commits} commits (mem init + {args.runs} adds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
