"""`mem --help`, `mem add` and `mem recall` (without a model) must never import the heavy libraries."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import MEM_BIN

HEAVY = ("litellm", "mcp", "watchdog", "openai", "httpx")


def run_timing_imports(args: list[str], cwd: Path, stdin: str | None = None) -> tuple[set[str], str]:
    """Run `mem ARGS` with -X importtime: the top-level packages it imported, and its stdout."""
    completed = subprocess.run(
        [MEM_BIN, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return top_level_imports(completed.stderr), completed.stdout


def top_level_imports(stderr: str) -> set[str]:
    """The top-level packages named in the -X importtime lines of `stderr`."""
    lines = (line for line in stderr.splitlines() if line.startswith("import time:") and "|" in line)
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines}


def imported_modules(args: list[str], cwd: Path) -> set[str]:
    return run_timing_imports(args, cwd)[0]


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["add", "a/b/c", "text"],
        ["show", "a/b/c"],
        ["list"],
        ["recall", "text"],
        ["recall", "unknown words"],
    ],
    ids=["help", "add", "show", "list", "recall", "recall-unresolved"],
)
def test_light_commands_do_not_import_heavy_libraries(args: list[str], root: Path, tmp_path: Path) -> None:
    if args[0] in ("show", "list", "recall"):
        imported_modules(["add", "a/b/c", "text"], tmp_path)
    modules = imported_modules(args, tmp_path)
    assert "contextree" in modules  # the probe itself works
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_a_recall_over_a_current_index_parses_no_yaml(root: Path, tmp_path: Path) -> None:
    """YAML is parsed only where there is YAML to parse: a changed entry, a config.yaml that
    sets something. The template `mem init` writes is comments only; a recall over a current
    index then imports no yaml (a tenth of its start-up)."""
    imported_modules(["add", "a/b/c", "text about quokkas"], tmp_path)
    imported_modules(["recall", "quokkas", "--json"], tmp_path)  # indexes the new entry (parses it)
    assert "yaml" not in imported_modules(["recall", "quokkas", "--json"], tmp_path)
    config = next(path for path in (root / "config.yaml", tmp_path / "config.yaml") if path.exists())
    config.write_text(config.read_text(encoding="utf-8") + "\nrecall:\n  k: 3\n", encoding="utf-8")
    assert "yaml" in imported_modules(["recall", "quokkas", "--json"], tmp_path)  # it has settings now


def test_agent_commands_stay_light_and_only_mem_mcp_loads_the_sdk(root: Path, tmp_path: Path) -> None:
    light = [
        ["init", "--agent", "claude", "--agent", "codex", "--agent", "cursor"],
        ["init", "--agent", "claude", "--remove"],
        ["memory-tool", "--help"],
        ["mcp", "--help"],
    ]
    for args in light:
        modules = imported_modules(args, tmp_path)
        assert not modules & set(HEAVY), (args, sorted(modules & set(HEAVY)))
    probe = subprocess.run(
        [str(Path(MEM_BIN).with_name("python")), "-X", "importtime", "-c", "import contextree.cli.mcp_server"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "mcp" in top_level_imports(probe.stderr)  # the server module is what pulls the SDK in: the probe works


def test_a_recall_that_a_running_watcher_vouches_for_hashes_nothing(root: Path, tmp_path: Path) -> None:
    """With `mem watch` running, a recall asks it instead of walking the tree (docs/watch.md):
    it then loads no hashing (hashlib loads OpenSSL), nor secrets, uuid or platform, which
    only named files or versions with random tokens, nor typer, click, rich or yaml: what it
    imports is what it uses (issue 15's start-up; docs/benchmarks.md lists the imports)."""
    imported_modules(["add", "a/b/c", "text about quokkas"], tmp_path)
    imported_modules(["recall", "quokkas", "--json"], tmp_path)  # indexes the new entry
    watcher = subprocess.Popen(
        [MEM_BIN, "watch", "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path
    )
    try:
        assert watcher.stdout is not None
        assert any('"started"' in line for line in iter(watcher.stdout.readline, ""))  # its first scan is done
        modules = imported_modules(["recall", "quokkas", "--json"], tmp_path)
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
    assert "contextree" in modules
    unused = {"hashlib", "secrets", "uuid", "platform", "yaml", "typer", "click", "rich", *HEAVY}
    assert not modules & unused, sorted(modules & unused)


def test_the_prompt_hook_injects_without_parsing_yaml(root: Path, tmp_path: Path) -> None:
    """The prompt hook runs before every prompt: like a recall, it reads the entries it
    injects without parsing their frontmatter (the body from the file, the summary from the
    index), so it imports no yaml once the index is current."""
    import json

    imported_modules(
        ["add", "gotchas/database/pgbouncer-prepared-statements", "Use session pooling for prepared statements."],
        tmp_path,
    )
    imported_modules(["recall", "pgbouncer", "--json"], tmp_path)  # indexes the new entry (parses it)
    payload = {
        "session_id": "imports",
        "transcript_path": str(tmp_path / "none.jsonl"),
        "cwd": str(tmp_path),
        "hook_event_name": "UserPromptSubmit",
        "prompt": "how do we deal with pgbouncer prepared statements?",
    }
    modules, stdout = run_timing_imports(["hook", "prompt", "--agent", "claude"], tmp_path, json.dumps(payload))
    assert "Use session pooling" in stdout  # it injected the entry
    assert "contextree" in modules and "yaml" not in modules
