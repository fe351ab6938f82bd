"""`mem init --agent NAME`: one rules block however often it runs, and `--remove` gives the
files back byte for byte."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from contextree.core.agents import (
    BEGIN_MARKER,
    END_MARKER,
    insert_block,
    remove_block,
    rules_text,
)

from .conftest import MEM_BIN, CliResult

Mem = Callable[..., CliResult]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder whose memory is `.memory/` in it (MEM_ROOT unset, cwd = project)."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.delenv("MEM_ROOT")
    monkeypatch.chdir(folder)
    # This installation's mem is on PATH, so configs name plain `mem` (test_hooks_install.py
    # covers the absolute path written when it is not).
    monkeypatch.setenv("PATH", str(Path(MEM_BIN).parent) + os.pathsep + os.environ.get("PATH", ""))
    return folder


def actions(result: CliResult) -> dict[str, str]:
    data = result.data
    return {Path(c["file"]).name: c["action"] for agent in data["agents"] for c in agent["files"]}


def test_claude_twice_gives_one_block_and_an_mcp_entry(mem: Mem, project: Path) -> None:
    first = mem("init", "--agent", "claude", "--json")
    assert actions(first) == {"CLAUDE.md": "created", ".mcp.json": "created"}
    assert (project / ".memory" / "config.yaml").is_file()
    snapshot = {name: (project / name).read_bytes() for name in ("CLAUDE.md", ".mcp.json")}

    second = mem("init", "--agent", "claude", "--json")
    assert actions(second) == {"CLAUDE.md": "unchanged", ".mcp.json": "unchanged"}
    assert {name: (project / name).read_bytes() for name in snapshot} == snapshot

    text = (project / "CLAUDE.md").read_text()
    assert text.count(BEGIN_MARKER) == 1 and text.count(END_MARKER) == 1
    assert "recall" in text and "add" in text  # it tells the agent when to recall and when to add
    config = json.loads((project / ".mcp.json").read_text())
    # The project's own .memory/ is found from the server's working directory: no absolute path.
    assert config == {
        "mcpServers": {"contextree": {"command": "mem", "args": ["mcp"], "env": {"MEM_SOURCE": "agent:claude-code"}}}
    }


def test_remove_restores_user_content_before_and_after_the_block_with_crlf(mem: Mem, project: Path) -> None:
    original = b"# Our project\r\n\r\nUse tabs.\r\n"
    (project / "CLAUDE.md").write_bytes(original)
    assert mem("init", "--agent", "claude").code == 0
    with_block = (project / "CLAUDE.md").read_bytes()
    assert with_block.startswith(original)
    assert b"\r\n<!-- contextree:begin -->\r\n" in with_block
    assert b"\n" not in with_block.replace(b"\r\n", b"")  # every line break is CRLF, ours too

    # The user keeps writing after our block, then removes it.
    (project / "CLAUDE.md").write_bytes(with_block + b"\r\n## Later\r\nMore rules.\r\n")
    assert mem("init", "--agent", "claude", "--remove").code == 0
    assert (project / "CLAUDE.md").read_bytes() == original + b"\r\n## Later\r\nMore rules.\r\n"
    assert not (project / ".mcp.json").exists()  # it was ours alone


@pytest.mark.parametrize(
    "original",
    ["", "no newline at the end", "text\n", "text\n\n\n", "a\r\nb", "<!-- a comment -->\n", "ünïcødé ✓\n"],
)
def test_insert_then_remove_is_the_identity(original: str) -> None:
    rules = rules_text()
    inserted = insert_block(original or None, rules)
    assert inserted.count(BEGIN_MARKER) == 1
    assert insert_block(inserted, rules) == inserted
    assert (remove_block(inserted) or "") == original


def test_a_changed_block_is_replaced_in_place(mem: Mem, project: Path) -> None:
    old_block = f"{BEGIN_MARKER}\nold rules from an earlier version\n{END_MARKER}"
    (project / "AGENTS.md").write_text(f"# Agents\n\n{old_block}\n\n## Tests\nrun make test\n")
    result = mem("init", "--agent", "codex", "--json")
    assert actions(result) == {"AGENTS.md": "updated"}
    text = (project / "AGENTS.md").read_text()
    assert "old rules" not in text and text.count(BEGIN_MARKER) == 1
    assert text.startswith("# Agents\n\n" + BEGIN_MARKER) and text.endswith(
        f"{END_MARKER}\n\n## Tests\nrun make test\n"
    )


def test_codex_gets_agents_md_and_the_config_snippet_but_home_is_untouched(
    mem: Mem, project: Path, isolated: Path
) -> None:
    home = Path.home()
    result = mem("init", "--agent", "codex", "--json")
    agent = result.data["agents"][0]
    assert agent["agent"] == "codex"
    assert actions(result) == {"AGENTS.md": "created"}
    assert "[mcp_servers.contextree]" in agent["notes"][0] and 'MEM_SOURCE = "agent:codex"' in agent["notes"][0]
    assert not (home / ".codex").exists()
    assert mem("init", "--agent", "codex", "--remove").code == 0
    assert not (project / "AGENTS.md").exists()


def test_cursor_rule_has_frontmatter_and_removal_cleans_up(mem: Mem, project: Path) -> None:
    assert mem("init", "--agent", "cursor").code == 0
    rule = (project / ".cursor" / "rules" / "contextree.mdc").read_text()
    assert rule.startswith("---\ndescription: ") and "\nalwaysApply: true\n---\n" in rule
    assert rule.count(BEGIN_MARKER) == 1
    config = json.loads((project / ".cursor" / "mcp.json").read_text())
    assert config["mcpServers"]["contextree"]["env"]["MEM_SOURCE"] == "agent:cursor"

    assert mem("init", "--agent", "cursor", "--remove").code == 0
    assert not (project / ".cursor").exists()  # created by us, removed by us


def test_mcp_config_keeps_other_servers_and_its_formatting(mem: Mem, project: Path) -> None:
    original = json.dumps({"mcpServers": {"github": {"command": "gh-mcp"}}, "x": 1}, indent=4) + "\n"
    (project / ".mcp.json").write_text(original)
    assert mem("init", "--agent", "claude").code == 0
    merged = (project / ".mcp.json").read_text()
    config = json.loads(merged)
    assert list(config["mcpServers"]) == ["github", "contextree"] and config["x"] == 1
    assert '\n        "github": {' in merged  # four-space indentation kept
    assert mem("init", "--agent", "claude", "--remove").code == 0
    assert (project / ".mcp.json").read_text() == original


def test_memory_elsewhere_is_named_in_the_server_entry(mem: Mem, tmp_path: Path, isolated: Path) -> None:
    # MEM_ROOT points outside the project (the working directory): the server must be told.
    result = mem("init", "--agent", "claude", "--json")
    assert result.data["agents"][0]["project"] == str(tmp_path)
    env = json.loads((tmp_path / ".mcp.json").read_text())["mcpServers"]["contextree"]["env"]
    assert env == {"MEM_SOURCE": "agent:claude-code", "MEM_ROOT": str(isolated.resolve())}


def test_broken_inputs_are_refused_and_nothing_is_written(mem: Mem, project: Path) -> None:
    (project / ".mcp.json").write_text("{ not json")
    result = mem("init", "--agent", "claude")
    assert result.code == 5 and ".mcp.json is not valid JSON" in result.stderr
    assert not (project / "CLAUDE.md").exists()  # the other file was not written either
    assert (project / ".mcp.json").read_text() == "{ not json"

    (project / "AGENTS.md").write_text(f"{BEGIN_MARKER}\nhalf a block\n")
    result = mem("init", "--agent", "codex")
    assert result.code == 5 and "markers" in result.stderr
    assert (project / "AGENTS.md").read_text() == f"{BEGIN_MARKER}\nhalf a block\n"

    assert mem("init", "--agent", "vim").code == 5
    result = mem("init", "--remove")
    assert result.code == 5 and "--remove needs --agent" in result.stderr


def test_remove_leaves_files_without_our_block_alone(mem: Mem, project: Path) -> None:
    (project / "CLAUDE.md").write_text("# Mine\n")
    (project / ".mcp.json").write_text('{"mcpServers": {"other": {"command": "x"}}}')
    result = mem("init", "--agent", "claude", "--remove", "--json")
    assert actions(result) == {"CLAUDE.md": "absent", ".mcp.json": "absent"}
    assert (project / "CLAUDE.md").read_text() == "# Mine\n"
    assert (project / ".mcp.json").read_text() == '{"mcpServers": {"other": {"command": "x"}}}'


def test_symlinked_instruction_file_is_written_through(mem: Mem, project: Path) -> None:
    (project / "AGENTS.md").write_text("# Shared rules\n")
    (project / "CLAUDE.md").symlink_to("AGENTS.md")
    assert mem("init", "--agent", "claude", "--agent", "codex").code == 0
    assert (project / "CLAUDE.md").is_symlink()
    assert (project / "AGENTS.md").read_text().count(BEGIN_MARKER) == 1
    assert mem("init", "--agent", "claude,codex", "--remove").code == 0
    assert (project / "CLAUDE.md").is_symlink()
    assert (project / "AGENTS.md").read_text() == "# Shared rules\n"
