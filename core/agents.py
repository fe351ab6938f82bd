"""Wiring coding agents to the memory: a rules block in their instruction file, an MCP entry.

`mem init --agent NAME` writes, in the project folder:

- a rules block between `<!-- contextree:begin -->` and `<!-- contextree:end -->` in the
  agent's instruction file (CLAUDE.md, AGENTS.md, .cursor/rules/contextree.mdc), from
  `templates/agents/`;
- the `contextree` server in the agent's project MCP config (.mcp.json, .cursor/mcp.json),
  merged into what is there.

Both are idempotent (a second run changes nothing) and `--remove` undoes them exactly: the
block is inserted with one line break before it and one after, and removal takes exactly
those away, so a file that had text before (and gained text after) the block comes back
byte for byte, CRLF line endings included. A file left empty by removal was created by us
and is deleted. JSON files keep their indentation and key order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .config import SOURCE_ENV
from .errors import InvalidError, NotFoundError
from .safeio import read_regular
from .store import atomic_write_text, decode_text
from .tree import ROOT_DIR_NAME, ROOT_ENV

BEGIN_MARKER = "<!-- contextree:begin -->"
END_MARKER = "<!-- contextree:end -->"
SERVER_NAME = "contextree"
MAX_FILE_BYTES = 4 * 1024 * 1024  # instruction files and MCP configs are small; refuse anything absurd

Action = Literal["created", "updated", "unchanged", "removed", "deleted", "absent"]


@dataclass(frozen=True)
class AgentSpec:
    name: str
    title: str
    rules_file: str  # relative to the project folder
    mcp_file: str | None  # the project's MCP config, when the agent reads one from the project
    source: str  # provenance of what the agent writes through the server (MEM_SOURCE)
    header_template: str | None = None  # text that must open a rules file we create


AGENTS: Mapping[str, AgentSpec] = {
    "claude": AgentSpec("claude", "Claude Code", "CLAUDE.md", ".mcp.json", "agent:claude-code"),
    "codex": AgentSpec("codex", "Codex", "AGENTS.md", None, "agent:codex"),
    "cursor": AgentSpec(
        "cursor",
        "Cursor",
        ".cursor/rules/contextree.mdc",
        ".cursor/mcp.json",
        "agent:cursor",
        header_template="cursor-header.md",
    ),
}


@dataclass(frozen=True)
class FileChange:
    file: Path
    action: Action


@dataclass(frozen=True)
class AgentSetup:
    agent: str
    project: Path
    files: tuple[FileChange, ...]
    notes: tuple[str, ...]  # steps mem does not take itself (e.g. Codex's config in the home folder)


def agent_spec(name: str) -> AgentSpec:
    spec = AGENTS.get(name.strip().lower())
    if spec is None:
        raise InvalidError(f"unknown agent '{name}'; known: {', '.join(AGENTS)}")
    return spec


def project_folder(root: Path, cwd: Path) -> Path:
    """Where the agent files go: the folder holding `.memory/`, else the working directory.

    A memory root elsewhere (MEM_ROOT, --root) says nothing about which project uses it,
    so the project is then the folder the command runs in.
    """
    return root.parent if root.name == ROOT_DIR_NAME else cwd


def _template(name: str) -> str:
    from importlib.resources import files

    return files("contextree.templates").joinpath("agents", name).read_text(encoding="utf-8")


def rules_text() -> str:
    """The rules every agent gets (templates/agents/rules.md)."""
    return _template("rules.md")


# --- the rules block ------------------------------------------------------------------


def newline_of(text: str) -> str:
    """The file's line break: CRLF if it has any, else LF."""
    return "\r\n" if "\r\n" in text else "\n"


def render_block(rules: str, newline: str = "\n") -> str:
    body = rules.strip("\n").replace("\r\n", "\n")
    return newline.join([BEGIN_MARKER, *body.split("\n"), END_MARKER])


def _block_span(text: str, where: str) -> tuple[int, int] | None:
    """(start, end) of the one block in `text`, None without one; malformed markers are refused."""
    begins, ends = text.count(BEGIN_MARKER), text.count(END_MARKER)
    if begins == 0 and ends == 0:
        return None
    if begins != 1 or ends != 1:
        raise InvalidError(
            f"{where} has {begins} '{BEGIN_MARKER}' and {ends} '{END_MARKER}' markers; "
            "keep exactly one pair (or none) and run again"
        )
    start = text.index(BEGIN_MARKER)
    end = text.index(END_MARKER)
    if end < start:
        raise InvalidError(f"{where}: '{END_MARKER}' comes before '{BEGIN_MARKER}'; fix the markers and run again")
    return start, end + len(END_MARKER)


def insert_block(text: str | None, rules: str, *, header: str = "", where: str = "the file") -> str:
    """The text with the rules block in it: replaced in place, or appended after one line break."""
    if not text:
        return header + render_block(rules) + "\n"
    newline = newline_of(text)
    block = render_block(rules, newline)
    span = _block_span(text, where)
    if span is not None:
        return text[: span[0]] + block + text[span[1] :]
    return text + newline + block + newline


def remove_block(text: str, *, where: str = "the file") -> str | None:
    """The text without the block and the two line breaks insert_block added; None if no block."""
    span = _block_span(text, where)
    if span is None:
        return None
    before, after = text[: span[0]], text[span[1] :]
    for newline in ("\r\n", "\n"):
        if after.startswith(newline):
            after = after[len(newline) :]
            break
    for newline in ("\r\n", "\n"):
        if before.endswith(newline):
            before = before[: -len(newline)]
            break
    return before + after


# --- the MCP config -------------------------------------------------------------------


def server_entry(spec: AgentSpec, project: Path, root: Path) -> dict[str, Any]:
    """How the agent starts `mem mcp`. MEM_ROOT is set only when the memory is not the
    project's `.memory/` (found from the server's working directory), so a checked-in
    config stays free of absolute paths."""
    env = {SOURCE_ENV: spec.source}
    if root.resolve() != (project / ROOT_DIR_NAME).resolve():
        env[ROOT_ENV] = str(root.resolve())
    return {"command": "mem", "args": ["mcp"], "env": env}


_INDENT = re.compile(r"^([ \t]+)\S", re.MULTILINE)


def _load_config(text: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidError(
            f"{where} is not valid JSON ({error.msg} at line {error.lineno}); fix it and run again"
        ) from None
    if not isinstance(data, dict):
        raise InvalidError(f"{where} must hold a JSON object")
    servers = data.get("mcpServers")
    if servers is not None and not isinstance(servers, dict):
        raise InvalidError(f"{where}: 'mcpServers' must be a JSON object")
    return data


def _dump_config(data: dict[str, Any], like: str | None) -> str:
    """JSON in the style of the file it replaces: same indentation, line breaks, final newline."""
    indent: str | int = 2
    newline, final = "\n", "\n"
    if like:
        match = _INDENT.search(like)
        if match:
            indent = match.group(1)
        newline = newline_of(like)
        final = newline if like.endswith(("\n", "\r\n")) else ""
    if like and "\n" not in like.strip():  # a one-line file stays on one line
        compact = ": " in like or ", " in like
        return json.dumps(data, ensure_ascii=False, separators=None if compact else (",", ":")) + final
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return text.replace("\n", newline) + final


def set_server(text: str | None, name: str, entry: Mapping[str, Any], *, where: str = "the file") -> str:
    """The config with our server set (other servers and keys kept in their order)."""
    data = _load_config(text, where) if text and text.strip() else {}
    servers = data.setdefault("mcpServers", {})
    if servers.get(name) == entry and text:
        return text
    servers[name] = dict(entry)
    return _dump_config(data, text)


def drop_server(text: str, name: str, *, where: str = "the file") -> str | None:
    """The config without our server; '' when nothing else is left; None if it was not there."""
    data = _load_config(text, where) if text.strip() else {}
    servers = data.get("mcpServers")
    if not servers or name not in servers:
        return None
    del servers[name]
    if data == {"mcpServers": {}}:
        return ""
    return _dump_config(data, text)


# --- files ----------------------------------------------------------------------------


def _real(file: Path, project: Path) -> Path:
    """The file to read and write for `file`. A symlink (AGENTS.md -> CLAUDE.md is common) is
    written through instead of replaced, but only while it, and every folder on the way
    (`.cursor/`), stays inside the project: a cloned repository can commit `CLAUDE.md ->
    ../.bashrc`, and mem does not edit files outside the project."""
    resolved = file.resolve()
    if not resolved.is_relative_to(project.resolve()):
        shown_name = file.relative_to(project).as_posix() if file.is_relative_to(project) else str(file)
        raise InvalidError(
            f"{shown_name} leads to {resolved}, outside the project; mem does not write there "
            "(replace the link with a file, or edit that file yourself)"
        )
    return resolved


def _read(file: Path, project: Path) -> str | None:
    try:
        data = read_regular(_real(file, project), MAX_FILE_BYTES)
    except NotFoundError:
        return None
    # Bytes, not read_text: universal newlines would turn CRLF into LF and break exact removal.
    return decode_text(data, str(file))


def _write(file: Path, project: Path, before: str | None, after: str) -> Action:
    if before == after:
        return "unchanged"
    atomic_write_text(_real(file, project), after)
    return "created" if before is None else "updated"


def _delete(file: Path, project: Path) -> Action:
    if file.is_symlink():
        # The link is the user's set-up: empty the file it points to rather than break it.
        atomic_write_text(_real(file, project), "")
        return "removed"
    file.unlink()
    return "deleted"


def install_agent(name: str, project: Path, root: Path) -> AgentSetup:
    """Write the rules block and the MCP server entry for one agent (idempotent).

    Every new text is worked out before anything is written, so a file that cannot be
    merged (invalid JSON, broken markers) stops the command with nothing changed.
    """
    spec = agent_spec(name)
    header = _template(spec.header_template) if spec.header_template else ""
    plans: list[tuple[Path, str | None, str]] = []

    rules_file = project / spec.rules_file
    before = _read(rules_file, project)
    plans.append((rules_file, before, insert_block(before, rules_text(), header=header, where=spec.rules_file)))
    if spec.mcp_file is not None:
        mcp_file = project / spec.mcp_file
        before = _read(mcp_file, project)
        entry = server_entry(spec, project, root)
        plans.append((mcp_file, before, set_server(before, SERVER_NAME, entry, where=spec.mcp_file)))

    changes = tuple(FileChange(file, _write(file, project, old, new)) for file, old, new in plans)
    return AgentSetup(spec.name, project, changes, _notes(spec, project, root))


def remove_agent(name: str, project: Path) -> AgentSetup:
    """Take the rules block and our MCP server out again, leaving everything else as it was."""
    spec = agent_spec(name)
    header = _template(spec.header_template) if spec.header_template else ""
    # What a file we created holds once the block is gone: then the whole file was ours.
    leftover_of_ours = remove_block(insert_block(None, rules_text(), header=header)) or ""
    plans: list[tuple[Path, str | None]] = []  # (file, new text; '' deletes it; None leaves it)

    rules_file = project / spec.rules_file
    text = _read(rules_file, project)
    remaining = remove_block(text, where=spec.rules_file) if text is not None else None
    plans.append((rules_file, "" if remaining == leftover_of_ours else remaining))
    if spec.mcp_file is not None:
        mcp_file = project / spec.mcp_file
        text = _read(mcp_file, project)
        plans.append((mcp_file, drop_server(text, SERVER_NAME, where=spec.mcp_file) if text is not None else None))

    changes: list[FileChange] = []
    for file, new in plans:
        if new is None:
            action: Action = "absent"
        elif new == "":
            action = _delete(file, project)
        else:
            atomic_write_text(_real(file, project), new)
            action = "removed"
        changes.append(FileChange(file, action))
        if action == "deleted":
            _prune_empty_folders(file.parent, project)
    return AgentSetup(spec.name, project, tuple(changes), ())


def _prune_empty_folders(folder: Path, project: Path) -> None:
    """Remove `.cursor/rules/` and `.cursor/` if our files were all they held."""
    while folder != project and folder.is_relative_to(project):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (or not ours to remove): stop here
        folder = folder.parent


def codex_config_snippet(spec: AgentSpec, project: Path, root: Path) -> str:
    """The TOML table Codex needs in ~/.codex/config.toml (mem does not edit the home folder)."""
    entry = server_entry(spec, project, root)
    env = ", ".join(f"{key} = {json.dumps(value)}" for key, value in entry["env"].items())
    args = ", ".join(json.dumps(arg) for arg in entry["args"])
    return f'[mcp_servers.{SERVER_NAME}]\ncommand = "{entry["command"]}"\nargs = [{args}]\nenv = {{ {env} }}\n'


def _notes(spec: AgentSpec, project: Path, root: Path) -> tuple[str, ...]:
    if spec.name == "codex":
        return (
            "Codex reads MCP servers from ~/.codex/config.toml (mem does not edit your home folder); add:\n"
            + codex_config_snippet(spec, project, root),
        )
    return ()
