"""What a base install (`pip install .`, no extras) gives: run by `make test` (target
`base-install`) with the interpreter of a venv built from requirements/demo.lock plus a
non-editable install of the package. Not a pytest module: that venv has no test tools.

Checks: no litellm (nor jsonschema) in the environment; `mem add`, `recall`, `watch` and `mcp`
(through the mcp SDK's own stdio client) work; `mem curate` and a recall that would escalate
to a model say in one line what to install. Prints `N passed, 0 failed` at the end.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MEM = str(Path(sys.executable).with_name("mem"))
HINT = "contextree[llm]"
checks: list[str] = []


def check(name: str) -> Callable[[Callable[[Path], None]], Callable[[Path], None]]:
    def register(function: Callable[[Path], None]) -> Callable[[Path], None]:
        checks.append(name)
        REGISTRY.append((name, function))
        return function

    return register


REGISTRY: list[tuple[str, Callable[[Path], None]]] = []


def mem(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MEM, "--root", str(root), *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


@check("no model libraries in a base install")
def no_extra(root: Path) -> None:
    for name in ("litellm", "openai"):  # (jsonschema is there: the mcp SDK needs it)
        assert importlib.util.find_spec(name) is None, f"{name} is installed"


@check("add and recall")
def add_and_recall(root: Path) -> None:
    added = mem(root, "--json", "add", "runbooks/deploy/canary", "Canary gets 5% of traffic for 20 minutes.")
    assert added.returncode == 0, added.stderr
    recalled = mem(root, "--json", "recall", "canary traffic")
    assert recalled.returncode == 0, recalled.stderr
    hits = json.loads(recalled.stdout)["data"]["results"]
    assert hits and hits[0]["path"] == "runbooks/deploy/canary", hits


@check("a recall that would escalate says what to install, and still answers")
def recall_with_model_configured(root: Path) -> None:
    (root / "config.yaml").write_text("llm:\n  model: openai/some-model\n  api_base: http://127.0.0.1:9/v1\n")
    try:
        recalled = mem(root, "--json", "recall", "zebra quantum xylophone", "--escalate")
        assert recalled.returncode == 0, recalled.stderr
        notes = " ".join(json.loads(recalled.stdout)["data"].get("notes", []))
        assert HINT in notes, notes
    finally:
        (root / "config.yaml").unlink()


@check("curate prints the install hint in one line")
def curate_hint(root: Path) -> None:
    curated = mem(root, "curate", "-", stdin="We deploy on Tuesdays.")
    assert curated.returncode == 7, (curated.returncode, curated.stderr)
    assert HINT in curated.stderr and curated.stderr.strip().count("\n") == 0, curated.stderr


@check("hooks: the prompt hook injects; a capture with a model configured goes to the inbox")
def hooks(root: Path) -> None:
    prompt = {"session_id": "s1", "cwd": str(root), "hook_event_name": "UserPromptSubmit", "prompt": "canary traffic"}
    # What the hook prints is checked, not this machine's speed: a loaded CI machine can take
    # longer than the default deadline, after which the hook rightly prints nothing.
    (root / "config.yaml").write_text("hooks:\n  deadline_ms: 120000\n")
    try:
        injected = mem(root, "hook", "prompt", "--agent", "claude", stdin=json.dumps(prompt))
    finally:
        (root / "config.yaml").unlink()
    assert injected.returncode == 0, injected.stderr
    assert "runbooks/deploy/canary" in json.loads(injected.stdout)["hookSpecificOutput"]["additionalContext"]
    transcript = root.parent / "session.jsonl"
    turns = [("user", "How long does a canary run?"), ("assistant", "Twenty minutes at 5% of traffic.")]
    transcript.write_text(
        "".join(json.dumps({"type": role, "message": {"role": role, "content": text}}) + "\n" for role, text in turns)
    )
    (root / "config.yaml").write_text("llm:\n  model: openai/some-model\n  api_base: http://127.0.0.1:9/v1\n")
    try:
        end = {
            "session_id": "s1",
            "transcript_path": str(transcript),
            "cwd": str(root),
            "hook_event_name": "SessionEnd",
        }
        captured = mem(root, "hook", "session-end", "--agent", "claude", stdin=json.dumps(end))
        assert (captured.returncode, captured.stdout, captured.stderr) == (0, "", ""), captured
        inbox = (root / ".mem" / "inbox" / "s1.jsonl").read_text()
        assert "Twenty minutes" in inbox, inbox
        assert HINT in (root / ".mem" / "hooks.log").read_text()
    finally:
        (root / "config.yaml").unlink()


@check("watch starts, sees a new file, stops cleanly")
def watch(root: Path) -> None:
    process = subprocess.Popen(
        [MEM, "--root", str(root), "--json", "watch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        events = iter(process.stdout.readline, "")
        assert json.loads(next(events))["data"]["event"] == "started"
        note = root / "runbooks" / "deploy" / "rollback.md"
        note.write_text("---\ntitle: Rollback\n---\nRoll back with the previous image tag.\n")
        deadline = time.monotonic() + 60
        while json.loads(next(events))["data"]["event"] != "flush":
            assert time.monotonic() < deadline
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()


@check("mcp serves recall to the SDK's stdio client")
def mcp(root: Path) -> None:
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    async def main() -> None:
        params = StdioServerParameters(command=MEM, args=["mcp"], env={**os.environ, "MEM_ROOT": str(root)})
        async with Client(params, read_timeout_seconds=60) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert "recall" in tools and "curate" not in tools, tools
            result = await client.call_tool("recall", {"query": "canary traffic", "k": 1})
            assert not result.is_error, result.content
            assert result.structured_content["results"][0]["path"] == "runbooks/deploy/canary"

    anyio.run(main)


def main() -> int:
    failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "memory"
        root.mkdir()
        for name, function in REGISTRY:
            try:
                function(root)
                print(f"ok   {name}")
            except Exception as error:  # report every check, then fail
                failed += 1
                print(f"FAIL {name}: {type(error).__name__}: {error}")
    print(f"{len(REGISTRY) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
