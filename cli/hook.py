"""`mem hook EVENT`: the lean entry the agents' hooks call, without typer, click or rich.

It runs before every prompt, so it is kept to the standard library and the core: `main()`
in cli/app.py dispatches here before the lean path or typer is imported. The rules of a hook:

- it never fails the agent: the exit code is always 0, and on any error it prints what the
  agent reads as "nothing to add" and writes the reason to `.mem/hooks.log`;
- it never blocks the agent: the work runs in a daemon thread, and when the deadline passes
  (`hooks.deadline_ms` for prompts, `hooks.session_deadline_ms` at session start,
  `hooks.capture_deadline_seconds` for captures) the process prints the neutral answer and
  ends at once (a locked index or a model that hangs cannot hold it);
- stdout carries exactly what the agent accepts (core/hooks.py `render`), nothing else.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.config import Config

USAGE = """usage: mem hook EVENT [--agent claude|codex|cursor] [--root PATH]

Run by a coding agent's hook system (installed with `mem init --agent NAME --hooks`): reads the
hook's JSON payload on stdin and prints what the agent expects on stdout.

EVENT is one of:
  session-start  a short briefing of the memory (core, recent and important entries)
  prompt         the confident entries about the user's prompt, or nothing at all
  pre-compact    capture the session's new turns (inbox, or curated with a model)
  session-end    the same, when the session ends
  stop           the same, after every turn

It always exits 0 and prints nothing it was not asked for; errors go to .memory/.mem/hooks.log.
See docs/agents.md#hooks.
"""


def parse_args(argv: list[str]) -> tuple[str, str, str | None]:
    event: str | None = None
    agent = "claude"
    root: str | None = None
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in ("--agent", "--root") and index + 1 < len(argv):
            if arg == "--agent":
                agent = argv[index + 1]
            else:
                root = argv[index + 1]
            index += 2
            continue
        if arg.startswith("--agent="):
            agent = arg.split("=", 1)[1]
        elif arg.startswith("--root="):
            root = arg.split("=", 1)[1]
        elif arg.startswith("-") or event is not None:
            raise ValueError(f"unexpected argument {arg!r}")
        else:
            event = arg
        index += 1
    if event is None:
        raise ValueError("missing EVENT")
    return event, agent, root


def _deadline(config: Config, event: str) -> float:
    hooks = config.hooks
    if event == "prompt":
        return max(0.05, hooks.deadline_ms / 1000)
    if event == "session-start":
        return max(0.05, hooks.session_deadline_ms / 1000)
    return max(1.0, hooks.capture_deadline_seconds)


def run(
    argv: list[str],
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    env: dict[str, str] | None = None,
    *,
    exit_on_deadline: bool = True,
) -> int:
    """Run one hook; return the exit code (0 unless the command line itself is wrong).

    `exit_on_deadline` ends the process with os._exit when the deadline passes (the work may
    be stuck in a C call that cannot be interrupted); in-process callers (tests through
    typer) pass False and get the neutral answer while the worker is abandoned.
    """
    stdout = stdout or sys.stdout
    if any(arg in ("-h", "--help") for arg in argv):
        stdout.write(USAGE)
        return 0
    try:
        event_name, agent, root_option = parse_args(argv)
        from ..core.hooks import check_event

        event = check_event(event_name, agent)
    except Exception as error:  # a wrong command line: the one case that is an error
        sys.stderr.write(f"Error: {getattr(error, 'message', error)}\n{USAGE.splitlines()[0]}\n")
        return 2
    from ..core.hooks import log_line, parse_payload, render

    neutral = render(agent, event, None)
    started = time.monotonic()
    data = (stdin or sys.stdin.buffer).read()
    environ = dict(os.environ if env is None else env)
    root: Path | None = None
    try:
        from ..core.config import load_config
        from ..core.tree import find_root

        payload = parse_payload(agent, event, data)
        start = payload.cwd if payload.cwd is not None and payload.cwd.is_dir() else Path.cwd()
        root = find_root(root_option, environ, start)
        config = load_config(root)
    except Exception as error:
        # No memory here (or no readable config): nothing to add, and nowhere to log to
        # unless the root was found.
        if root is not None:
            log_line(root, event, agent, f"{type(error).__name__}: {getattr(error, 'message', error)}")
        stdout.write(neutral)
        stdout.flush()
        return 0

    box: dict[str, Any] = {}

    def work() -> None:
        try:
            from ..core.hooks import run_hook
            from ..core.memory import Memory

            memory = Memory(root, config=config, env=environ)
            try:
                box["outcome"] = run_hook(memory, payload)
            finally:
                memory.close()
        except BaseException as error:
            box["error"] = error

    worker = threading.Thread(target=work, name=f"mem-hook-{event}", daemon=True)
    limit = _deadline(config, event)
    worker.start()
    worker.join(max(0.0, limit - (time.monotonic() - started)))
    if worker.is_alive():
        log_line(root, event, agent, f"gave up after the {limit:.2f} s deadline (index locked or model slow?)")
        stdout.write(neutral)
        stdout.flush()
        if exit_on_deadline:
            sys.stderr.flush()
            os._exit(0)
        return 0
    failure = box.get("error")
    if failure is not None:
        log_line(root, event, agent, f"{type(failure).__name__}: {getattr(failure, 'message', failure)}")
        stdout.write(neutral)
        stdout.flush()
        return 0
    outcome = box["outcome"]
    for note in outcome.notes:
        log_line(root, event, agent, note)
    stdout.write(outcome.stdout)
    stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(sys.argv[2:] if argv is None else argv)
