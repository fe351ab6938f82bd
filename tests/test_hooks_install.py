"""`mem init --agent NAME --hooks`: each agent's documented hook file, merged with the hooks
already there, idempotent, and `--remove` gives the file back byte for byte."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import MEM_BIN, CliResult
from .test_jsonedit import hand_formatted

Mem = Callable[..., CliResult]
VENV_BIN = str(Path(MEM_BIN).parent)

# A settings file as Claude Code writes it (JSON.stringify with two spaces), with the user's
# own permissions, environment and hooks - one of them on an event we also use.
CLAUDE_SETTINGS = {
    "permissions": {"allow": ["Bash(npm run lint)", "Bash(npm run test:*)"], "deny": ["Read(./.env)"]},
    "env": {"FOO": "bar"},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "~/.claude/hooks/check-bash.sh"}]}],
        "UserPromptSubmit": [{"hooks": [{"type": "command", "command": "/usr/local/bin/prompt-guard", "timeout": 5}]}],
    },
    "model": "claude-sonnet-4-5",
}
CURSOR_HOOKS = {
    "version": 1,
    "hooks": {"afterFileEdit": [{"command": "./hooks/format.sh"}], "stop": [{"command": "./hooks/audit.sh"}]},
}
CODEX_HOOKS = {
    "hooks": {
        "SessionStart": [
            {
                "matcher": "startup",
                "hooks": [{"type": "command", "command": "python3 .codex/hooks/session_start.py", "timeout": 30}],
            }
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "python3 .codex/hooks/stop.py", "timeout": 10}]}],
    }
}
HOOK_FILES = {"claude": ".claude/settings.json", "codex": ".codex/hooks.json", "cursor": ".cursor/hooks.json"}
EXISTING = {"claude": CLAUDE_SETTINGS, "codex": CODEX_HOOKS, "cursor": CURSOR_HOOKS}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.delenv("MEM_ROOT")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PATH", VENV_BIN + ":/usr/bin:/bin")  # this mem is on PATH
    return folder


def our_commands(data: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for event, groups in data.get("hooks", {}).items():
        for group in groups:
            for handler in group.get("hooks", [group]):
                if " hook " in handler["command"]:
                    found.setdefault(event, []).append(handler["command"])
    return found


STYLES = {
    "two-spaces": lambda data: json.dumps(data, indent=2, ensure_ascii=False) + "\n",
    "four-spaces-crlf": lambda data: (json.dumps(data, indent=4) + "\n").replace("\n", "\r\n"),
    "tabs-no-final-newline": lambda data: json.dumps(data, indent="\t"),
    "compact-one-line": lambda data: json.dumps(data, separators=(",", ":")),
    "sorted-keys-escapes-odd-spacing": lambda data: (
        json.dumps({**data, "note": "caf\u00e9 \u2014 ok"}, indent=3, sort_keys=True, separators=(" ,", " : ")) + "\n"
    ),
    "by-hand": lambda data: hand_formatted(data, random.Random(11)),  # any whitespace between tokens
}


@pytest.mark.parametrize("style", list(STYLES))
@pytest.mark.parametrize("agent", ["claude", "codex", "cursor"])
def test_install_merges_is_idempotent_and_remove_is_byte_exact(mem: Mem, project: Path, agent: str, style: str) -> None:
    file = project / HOOK_FILES[agent]
    file.parent.mkdir(parents=True)
    original = STYLES[style](EXISTING[agent]).encode()
    file.write_bytes(original)
    existing = json.loads(original)

    first = mem("init", "--agent", agent, "--hooks", "--json")
    assert first.code == 0, first.stderr
    merged = json.loads(file.read_text())
    ours = our_commands(merged)
    expected = {
        "claude": {"SessionStart", "UserPromptSubmit", "PreCompact", "SessionEnd"},
        "codex": {"SessionStart", "UserPromptSubmit", "PreCompact", "Stop"},  # no SessionEnd in Codex
        "cursor": {"sessionStart", "preCompact", "sessionEnd"},  # its prompt hook cannot add context
    }[agent]
    assert set(ours) == expected
    assert all(commands == [f"mem hook {c.split(' hook ')[1]}"] for commands in ours.values() for c in commands)
    # The user's hooks are all still there, first, unchanged.
    for event, groups in existing["hooks"].items():
        assert merged["hooks"][event][: len(groups)] == groups
    for key, value in existing.items():
        if key != "hooks":
            assert merged[key] == value
    if agent in ("claude", "codex"):
        group = merged["hooks"]["SessionStart"][-1]
        assert group == {
            "hooks": [{"type": "command", "command": f"mem hook session-start --agent {agent}", "timeout": 15}]
        }
    assert (b"\r\n" in file.read_bytes()) == (b"\r\n" in original)

    snapshot = file.read_bytes()
    second = mem("init", "--agent", agent, "--hooks", "--json")
    changes = {Path(c["file"]).name: c["action"] for a in second.data["agents"] for c in a["files"]}
    assert changes[file.name] == "unchanged" and file.read_bytes() == snapshot

    assert mem("init", "--agent", agent, "--hooks", "--remove").code == 0
    assert file.read_bytes() == original
    # --hooks --remove took out the hooks alone: the rules block stays.
    rules = {"claude": "CLAUDE.md", "codex": "AGENTS.md", "cursor": ".cursor/rules/contextree.mdc"}[agent]
    assert "contextree:begin" in (project / rules).read_text()


MCP_SERVERS = {"mcpServers": {"github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"]}}}


@pytest.mark.parametrize("style", list(STYLES))
@pytest.mark.parametrize("agent", ["claude", "cursor"])
def test_whole_install_and_remove_give_back_hand_formatted_settings(
    mem: Mem, project: Path, agent: str, style: str
) -> None:
    """`mem init --agent X --hooks`, then `--remove`: the MCP config and the hook file, both
    hand-formatted, come back byte for byte."""
    hooks_file = project / HOOK_FILES[agent]
    mcp_file = project / {"claude": ".mcp.json", "cursor": ".cursor/mcp.json"}[agent]
    hooks_file.parent.mkdir(parents=True, exist_ok=True)
    mcp_file.parent.mkdir(parents=True, exist_ok=True)
    originals = {hooks_file: STYLES[style](EXISTING[agent]).encode(), mcp_file: STYLES[style](MCP_SERVERS).encode()}
    for file, data in originals.items():
        file.write_bytes(data)
    assert mem("init", "--agent", agent, "--hooks").code == 0
    assert "contextree" in json.loads(mcp_file.read_text())["mcpServers"]
    assert our_commands(json.loads(hooks_file.read_text()))
    assert mem("init", "--agent", agent, "--remove").code == 0
    for file, data in originals.items():
        assert file.read_bytes() == data, file.name


def test_a_persons_edits_between_install_and_remove_are_kept(mem: Mem, project: Path) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(STYLES["by-hand"](CLAUDE_SETTINGS))
    assert mem("init", "--agent", "claude", "--hooks").code == 0
    edited = json.loads(settings.read_text())
    edited["model"] = "claude-opus-4-1"
    edited["hooks"]["Stop"] = [{"hooks": [{"type": "command", "command": "./notify.sh"}]}]
    edited["hooks"]["SessionStart"].insert(
        0, {"matcher": "resume", "hooks": [{"type": "command", "command": "./r.sh"}]}
    )
    settings.write_text(json.dumps(edited, indent=4))  # their editor reformats the file
    assert mem("init", "--agent", "claude", "--hooks", "--remove").code == 0
    left = json.loads(settings.read_text())
    assert our_commands(left) == {}
    assert left["model"] == "claude-opus-4-1" and left["permissions"] == CLAUDE_SETTINGS["permissions"]
    assert left["hooks"]["Stop"] == [{"hooks": [{"type": "command", "command": "./notify.sh"}]}]
    assert left["hooks"]["SessionStart"] == [{"matcher": "resume", "hooks": [{"type": "command", "command": "./r.sh"}]}]
    assert left["hooks"]["UserPromptSubmit"] == CLAUDE_SETTINGS["hooks"]["UserPromptSubmit"]
    assert settings.read_text().startswith('{\n    "permissions": {')  # their formatting, not ours


@pytest.mark.parametrize("agent", ["claude", "codex", "cursor"])
def test_files_we_created_are_removed_with_their_folders(mem: Mem, project: Path, agent: str) -> None:
    assert mem("init", "--agent", agent, "--hooks").code == 0
    file = project / HOOK_FILES[agent]
    assert file.is_file()
    if agent == "cursor":
        assert json.loads(file.read_text())["version"] == 1
    assert mem("init", "--agent", agent, "--remove").code == 0
    assert not file.exists() and not file.parent.exists()
    assert sorted(p.name for p in project.iterdir()) == [".memory"]


def test_changing_hooks_events_replaces_our_entries_in_place(mem: Mem, project: Path) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(json.dumps(CLAUDE_SETTINGS, indent=2) + "\n")
    assert mem("init", "--agent", "claude", "--hooks").code == 0
    (project / ".memory" / "config.yaml").write_text("hooks:\n  events: [session-start, prompt, stop]\n")
    assert mem("init", "--agent", "claude", "--hooks").code == 0
    data = json.loads(settings.read_text())
    assert set(our_commands(data)) == {"SessionStart", "UserPromptSubmit", "Stop"}
    assert data["hooks"]["UserPromptSubmit"][0] == CLAUDE_SETTINGS["hooks"]["UserPromptSubmit"][0]
    assert mem("init", "--agent", "claude", "--hooks", "--remove").code == 0
    assert settings.read_text() == json.dumps(CLAUDE_SETTINGS, indent=2) + "\n"


def test_mem_not_on_path_is_written_as_its_absolute_path_with_one_warning(
    mem: Mem, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    result = mem("init", "--agent", "claude", "--agent", "cursor", "--hooks")
    assert result.code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "not on PATH" in warnings[0] and MEM_BIN in warnings[0]
    server = json.loads((project / ".mcp.json").read_text())["mcpServers"]["contextree"]
    assert server["command"] == MEM_BIN
    commands = our_commands(json.loads((project / ".claude" / "settings.json").read_text()))
    assert commands["UserPromptSubmit"] == [f"{MEM_BIN} hook prompt --agent claude"]
    cursor = our_commands(json.loads((project / ".cursor" / "hooks.json").read_text()))
    assert cursor["sessionStart"] == [f"{MEM_BIN} hook session-start --agent cursor"]
    assert sys.executable  # the command is this installation's own mem


def test_memory_elsewhere_is_named_in_the_hook_command(mem: Mem, tmp_path: Path, isolated: Path) -> None:
    result = mem("init", "--agent", "claude", "--hooks")
    assert result.code == 0
    commands = our_commands(json.loads((tmp_path / ".claude" / "settings.json").read_text()))
    root = str(isolated.resolve())
    assert commands["SessionStart"][0].endswith(f"--root {root} hook session-start --agent claude")


def test_broken_hook_files_are_refused_and_nothing_is_written(mem: Mem, project: Path) -> None:
    settings = project / ".claude" / "settings.json"
    settings.parent.mkdir()
    for broken in ("{ not json", '{"hooks": []}', '{"hooks": {"Stop": {}}}'):
        settings.write_text(broken)
        result = mem("init", "--agent", "claude", "--hooks")
        assert result.code != 0 and "settings.json" in result.stderr
        assert settings.read_text() == broken and not (project / "CLAUDE.md").exists()
