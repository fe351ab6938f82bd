"""Wiring coding agents to the memory: a rules block in their instruction file, an MCP entry.

`mem init --agent NAME` writes, in the project folder:

- a rules block between `<!-- contextree:begin -->` and `<!-- contextree:end -->` in the
  agent's instruction file (CLAUDE.md, AGENTS.md, .cursor/rules/contextree.mdc), from
  `templates/agents/`;
- the `contextree` server in the agent's project MCP config (.mcp.json, .cursor/mcp.json),
  merged into what is there;
- with `--hooks`, the `mem hook EVENT` commands in the agent's hook configuration
  (.claude/settings.json, .codex/hooks.json, .cursor/hooks.json; core/hooks.py), merged
  with the hooks already there. Our hook entries are recognised by their command, so a
  second run replaces them in place and `--remove` takes exactly them out.

Commands name `mem` when the `mem` on PATH is the one running, else its absolute path (an
agent started from a desktop launcher, or after the README's virtualenv set-up, would not
find a bare `mem`), with a one-line warning.

Both are idempotent (a second run changes nothing) and `--remove` undoes them exactly: the
block is inserted with one line break before it and one after, and removal takes exactly
those away, so a file that had text before (and gained text after) the block comes back
byte for byte, CRLF line endings included. A file left empty by removal was created by us
and is deleted. JSON files are edited in their text (core/jsonedit.py): only our members are
added and taken out, so a file we merged into comes back byte for byte, whatever its formatting.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from . import jsonedit
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
    hooks_file: str | None = None  # the project's hook configuration (`--hooks`)


AGENTS: Mapping[str, AgentSpec] = {
    "claude": AgentSpec(
        "claude", "Claude Code", "CLAUDE.md", ".mcp.json", "agent:claude-code", hooks_file=".claude/settings.json"
    ),
    "codex": AgentSpec("codex", "Codex", "AGENTS.md", None, "agent:codex", hooks_file=".codex/hooks.json"),
    "cursor": AgentSpec(
        "cursor",
        "Cursor",
        ".cursor/rules/contextree.mdc",
        ".cursor/mcp.json",
        "agent:cursor",
        header_template="cursor-header.md",
        hooks_file=".cursor/hooks.json",
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


# --- the command agents run --------------------------------------------------------------


@dataclass(frozen=True)
class MemCommand:
    path: str  # "mem", or the absolute path of the running mem
    warning: str | None = None


def _running_mem() -> Path | None:
    """The `mem` executable of this installation (not resolved: a pipx or venv link is what
    the user set up)."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name in ("mem", "mem.exe") and argv0.is_file():
        return argv0.absolute()
    beside = Path(sys.executable).with_name("mem.exe" if sys.platform == "win32" else "mem")
    return beside.absolute() if beside.is_file() else None


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.resolve() == second.resolve() or first.samefile(second)
    except OSError:
        return False


def mem_command(search_path: str | None = None) -> MemCommand:
    """`mem` when the `mem` on PATH is this one; else the absolute path of this one, and a
    one-line warning saying so."""
    running = _running_mem()
    found = shutil.which("mem", path=search_path)
    if found is not None and (running is None or _same_file(Path(found), running)):
        return MemCommand("mem")
    if running is None:
        return MemCommand("mem", "`mem` is not on PATH and this one's location is unknown; agents may not start it")
    reason = "`mem` is not on PATH" if found is None else f"the `mem` on PATH is {found}, not this one"
    return MemCommand(str(running), f"{reason}: the agent configuration names {running}")


def server_entry(spec: AgentSpec, project: Path, root: Path, command: str = "mem") -> dict[str, Any]:
    """How the agent starts `mem mcp`. MEM_ROOT is set only when the memory is not the
    project's `.memory/` (found from the server's working directory), so a checked-in
    config stays free of absolute paths (unless `mem` itself is not on PATH)."""
    env = {SOURCE_ENV: spec.source}
    if not _is_project_memory(project, root):
        env[ROOT_ENV] = str(root.resolve())
    return {"command": command, "args": ["mcp"], "env": env}


def _is_project_memory(project: Path, root: Path) -> bool:
    return root.resolve() == (project / ROOT_DIR_NAME).resolve()


# --- the hook configuration ---------------------------------------------------------------

# Seconds the agent lets each hook run. The hooks keep their own, shorter deadlines
# (hooks.deadline_ms...), so the agent never has to kill one.
HOOK_TIMEOUTS = {"session-start": 15, "prompt": 10, "pre-compact": 120, "session-end": 120, "stop": 120}
_OUR_HOOK = re.compile(r"\bhook (session-start|prompt|pre-compact|session-end|stop) --agent (claude|codex|cursor)$")


def hook_events(agent: str, wanted: Sequence[str]) -> list[str]:
    """Our events to install for `agent`: those wanted that it has. Codex has no session end,
    so it captures at `stop` (after every turn) instead; Cursor's prompt hook cannot add
    context, so it is not installed there."""
    from .hooks import INJECTS, NATIVE_EVENTS

    events = [event for event in wanted if event in NATIVE_EVENTS[agent]]
    if agent == "cursor" and "prompt" in events:
        events.remove("prompt")
    if "prompt" in events and "prompt" not in INJECTS[agent]:
        events.remove("prompt")
    if "session-end" in wanted and "session-end" not in NATIVE_EVENTS[agent] and "stop" not in events:
        events.append("stop")
    return events


def hook_command(mem: str, agent: str, event: str, project: Path, root: Path) -> str:
    parts = [shlex.quote(mem)]
    if not _is_project_memory(project, root):
        parts += ["--root", shlex.quote(str(root.resolve()))]
    return " ".join([*parts, "hook", event, "--agent", agent])


def _is_ours(command: Any, agent: str) -> bool:
    if not isinstance(command, str):
        return False
    match = _OUR_HOOK.search(command.strip())
    return match is not None and match.group(2) == agent


def _group_is_ours(group: Any, agent: str) -> bool:
    """A Claude/Codex matcher group holding only our command, or a Cursor entry of ours."""
    if not isinstance(group, dict):
        return False
    if "hooks" in group:
        handlers = group.get("hooks")
        return (
            isinstance(handlers, list)
            and bool(handlers)
            and all(isinstance(h, dict) and _is_ours(h.get("command"), agent) for h in handlers)
        )
    return _is_ours(group.get("command"), agent)


def _hook_group(agent: str, event: str, command: str) -> dict[str, Any]:
    if agent == "cursor":
        return {"command": command}
    return {"hooks": [{"type": "command", "command": command, "timeout": HOOK_TIMEOUTS[event]}]}


def _load_hooks_config(text: str | None, where: str) -> dict[str, Any]:
    if not text or not text.strip():
        return {}
    data = _json_object(text, where, "hooks")
    hooks = data.get("hooks")
    for name, groups in (hooks or {}).items():
        if not isinstance(groups, list):
            raise InvalidError(f"{where}: hooks.{name} must be a JSON array")
    return data


def set_hooks(text: str | None, agent: str, commands: Mapping[str, str], *, where: str = "the file") -> str:
    """The hook configuration with exactly our `commands` (our event -> command) for `agent`:
    an entry of ours already there is replaced in place, one no longer wanted is dropped,
    a new one is appended after the user's own hooks of that event. An existing file is
    edited in its text (core/jsonedit.py): every byte we do not own stays as it was."""
    from .hooks import NATIVE_EVENTS

    data = _load_hooks_config(text, where)
    if text is None or not text.strip():
        fresh: dict[str, Any] = {"version": 1} if agent == "cursor" else {}
        fresh["hooks"] = _our_hooks(agent, commands)
        return _dump_config(fresh)
    if not isinstance(data.get("hooks"), dict):
        ours = _our_hooks(agent, commands)
        if not ours:
            return text
        if "hooks" in data:  # "hooks": null
            return jsonedit.replace(text, ["hooks"], ours)
        return jsonedit.add(text, [], ours, key="hooks")
    for event, native in NATIVE_EVENTS[agent].items():
        groups = _load_hooks_config(text, where)["hooks"].get(native)
        wanted = commands.get(event)
        if groups is None:
            if wanted is not None:
                text = jsonedit.add(text, ["hooks"], [_hook_group(agent, event, wanted)], key=native)
            continue
        positions = [number for number, group in enumerate(groups) if _group_is_ours(group, agent)]
        if wanted is not None:
            group = _hook_group(agent, event, wanted)
            if not positions:
                text = jsonedit.add(text, ["hooks", native], group)
            elif groups[positions[0]] != group:
                text = jsonedit.replace(text, ["hooks", native, positions[0]], group)
            positions = positions[1:]
        if positions and len(positions) == len(groups):
            text = jsonedit.delete(text, ["hooks", native])
        else:
            for number in reversed(positions):
                text = jsonedit.delete(text, ["hooks", native, number])
    return text


def _our_hooks(agent: str, commands: Mapping[str, str]) -> dict[str, Any]:
    from .hooks import NATIVE_EVENTS

    return {
        native: [_hook_group(agent, event, commands[event])]
        for event, native in NATIVE_EVENTS[agent].items()
        if event in commands
    }


def drop_hooks(text: str, agent: str, *, where: str = "the file") -> str | None:
    """The configuration without our hooks; '' when the file was ours alone; None if none was
    there. The text is edited (core/jsonedit.py): a file we merged into comes back byte for
    byte, and what a person added in between stays."""
    data = _load_hooks_config(text, where)
    hooks = data.get("hooks")
    if not isinstance(hooks, dict) or not any(
        _group_is_ours(group, agent) for groups in hooks.values() for group in groups
    ):
        return None
    if all(_group_is_ours(group, agent) for groups in hooks.values() for group in groups):
        text = jsonedit.delete(text, ["hooks"])  # it held only ours: it was ours to add
    else:
        for native, groups in hooks.items():
            positions = [number for number, group in enumerate(groups) if _group_is_ours(group, agent)]
            if positions and len(positions) == len(groups):
                text = jsonedit.delete(text, ["hooks", native])  # the event held only ours
            else:
                for number in reversed(positions):
                    text = jsonedit.delete(text, ["hooks", native, number])
    fresh = set_hooks(None, agent, {"stop": "mem hook stop --agent " + agent})
    return "" if text == jsonedit.delete(fresh, ["hooks"]) else text  # what is left of a file we created


def _load_config(text: str, where: str) -> dict[str, Any]:
    return _json_object(text, where, "mcpServers")


def _json_object(text: str, where: str, member: str) -> dict[str, Any]:
    """An agent's JSON settings file as an object whose `member`, when present, is an object
    too (mem merges into it); anything else is a one-line error naming the file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidError(
            f"{where} is not valid JSON ({error.msg} at line {error.lineno}); fix it and run again"
        ) from None
    if not isinstance(data, dict):
        raise InvalidError(f"{where} must hold a JSON object")
    value = data.get(member)
    if value is not None and not isinstance(value, dict):
        raise InvalidError(f"{where}: '{member}' must be a JSON object")
    return data


def _dump_config(data: dict[str, Any]) -> str:
    """A settings file we create: JSON indented by 2 spaces. (An existing file is edited in
    its text instead, core/jsonedit.py.)"""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def set_server(text: str | None, name: str, entry: Mapping[str, Any], *, where: str = "the file") -> str:
    """The config with our server set (other servers and keys kept, byte for byte)."""
    if text is None or not text.strip():
        return _dump_config({"mcpServers": {name: dict(entry)}})
    data = _load_config(text, where)
    servers = data.get("mcpServers")
    if "mcpServers" not in data:
        return jsonedit.add(text, [], {name: dict(entry)}, key="mcpServers")
    if servers is None:  # "mcpServers": null
        return jsonedit.replace(text, ["mcpServers"], {name: dict(entry)})
    if name not in servers:
        return jsonedit.add(text, ["mcpServers"], dict(entry), key=name)
    if servers[name] == entry:
        return text
    return jsonedit.replace(text, ["mcpServers", name], dict(entry))


def drop_server(text: str, name: str, *, where: str = "the file") -> str | None:
    """The config without our server; '' when the file was ours alone; None if it was not there."""
    servers = (_load_config(text, where) if text.strip() else {}).get("mcpServers")
    if not servers or name not in servers:
        return None
    # A member that held only ours was ours to add.
    text = jsonedit.delete(text, ["mcpServers"] if len(servers) == 1 else ["mcpServers", name])
    fresh = set_server(None, name, {})
    return "" if text == jsonedit.delete(fresh, ["mcpServers"]) else text  # what is left of a file we created


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


def install_agent(
    name: str,
    project: Path,
    root: Path,
    *,
    hooks: Sequence[str] | None = None,
    command: MemCommand | None = None,
) -> AgentSetup:
    """Write the rules block and the MCP server entry for one agent (idempotent); with
    `hooks` (our event names), also the agent's hook configuration.

    Every new text is worked out before anything is written, so a file that cannot be
    merged (invalid JSON, broken markers) stops the command with nothing changed.
    """
    spec = agent_spec(name)
    command = command or mem_command()
    header = _template(spec.header_template) if spec.header_template else ""
    plans: list[tuple[Path, str | None, str]] = []

    rules_file = project / spec.rules_file
    before = _read(rules_file, project)
    plans.append((rules_file, before, insert_block(before, rules_text(), header=header, where=spec.rules_file)))
    if spec.mcp_file is not None:
        mcp_file = project / spec.mcp_file
        before = _read(mcp_file, project)
        entry = server_entry(spec, project, root, command.path)
        plans.append((mcp_file, before, set_server(before, SERVER_NAME, entry, where=spec.mcp_file)))
    notes = list(_notes(spec, project, root, command.path))
    if hooks is not None and spec.hooks_file is not None:
        hooks_file = project / spec.hooks_file
        before = _read(hooks_file, project)
        commands = {
            event: hook_command(command.path, spec.name, event, project, root)
            for event in hook_events(spec.name, hooks)
        }
        plans.append((hooks_file, before, set_hooks(before, spec.name, commands, where=spec.hooks_file)))
        notes.extend(_hook_notes(spec))

    changes = tuple(FileChange(file, _write(file, project, old, new)) for file, old, new in plans)
    return AgentSetup(spec.name, project, changes, tuple(notes))


def remove_agent(name: str, project: Path, *, only_hooks: bool = False) -> AgentSetup:
    """Take the rules block, our MCP server and our hooks out again (with `only_hooks`, the
    hooks alone), leaving everything else as it was."""
    spec = agent_spec(name)
    header = _template(spec.header_template) if spec.header_template else ""
    # What a file we created holds once the block is gone: then the whole file was ours.
    leftover_of_ours = remove_block(insert_block(None, rules_text(), header=header)) or ""
    plans: list[tuple[Path, str | None]] = []  # (file, new text; '' deletes it; None leaves it)

    if not only_hooks:
        rules_file = project / spec.rules_file
        text = _read(rules_file, project)
        remaining = remove_block(text, where=spec.rules_file) if text is not None else None
        plans.append((rules_file, "" if remaining == leftover_of_ours else remaining))
        if spec.mcp_file is not None:
            mcp_file = project / spec.mcp_file
            text = _read(mcp_file, project)
            plans.append((mcp_file, drop_server(text, SERVER_NAME, where=spec.mcp_file) if text is not None else None))
    if spec.hooks_file is not None:
        hooks_file = project / spec.hooks_file
        text = _read(hooks_file, project)
        if text is not None or only_hooks:  # no hook file and hooks not asked about: nothing to report
            plans.append((hooks_file, drop_hooks(text, spec.name, where=spec.hooks_file) if text is not None else None))

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


def codex_config_snippet(spec: AgentSpec, project: Path, root: Path, command: str = "mem") -> str:
    """The TOML table Codex needs in ~/.codex/config.toml (mem does not edit the home folder)."""
    entry = server_entry(spec, project, root, command)
    env = ", ".join(f"{key} = {json.dumps(value)}" for key, value in entry["env"].items())
    args = ", ".join(json.dumps(arg) for arg in entry["args"])
    return (
        f"[mcp_servers.{SERVER_NAME}]\ncommand = {json.dumps(entry['command'])}\nargs = [{args}]\nenv = {{ {env} }}\n"
    )


def _notes(spec: AgentSpec, project: Path, root: Path, command: str = "mem") -> tuple[str, ...]:
    if spec.name == "codex":
        return (
            "Codex reads MCP servers from ~/.codex/config.toml (mem does not edit your home folder); add:\n"
            + codex_config_snippet(spec, project, root, command),
        )
    return ()


def _hook_notes(spec: AgentSpec) -> tuple[str, ...]:
    if spec.name == "codex":
        return (
            "Codex reads .codex/hooks.json for projects you trust; on Codex versions where hooks are "
            "still behind a flag, add `[features]` `hooks = true` (older: `codex_hooks = true`) "
            "to ~/.codex/config.toml.",
        )
    if spec.name == "cursor":
        return ("Cursor loads .cursor/hooks.json on restart; Settings > Hooks lists them and their errors.",)
    return ()
