"""How the CLI talks: one JSON envelope with --json, rich text otherwise, errors on stderr.

Every command ends in `emit(...)` exactly once. rich is imported only when human output is
actually drawn, so `--json` calls (the agents' path) do not pay for it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.layers import Layers
    from ..core.memory import Memory

JSON_SCHEMA_VERSION = 1


@dataclass
class State:
    """Global options, shared by every command through typer's context."""

    root: str | None = None
    json: bool = False
    quiet: bool = False
    debug: bool = False
    command: str = ""
    warnings: list[str] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)
    layered: Layers | None = None

    def layers(self) -> Layers:
        """The project's memory with the personal one and the read-only extras (core/layers.py)."""
        if self.layered is None:
            from ..core.layers import Layers

            self.layered = Layers(self.memory())
        return self.layered

    def writer(self, path: str | None = None, *, personal: bool = False) -> Memory:
        """The memory a write goes to (the project's unless --personal, or the entry is only in
        the personal memory)."""
        memory = self.layers().for_write(path, personal=personal)
        if memory not in self.memories:
            self.memories.append(memory)
        return memory

    def memory(self) -> Memory:
        from ..core.memory import Memory

        memory = Memory(self.root)
        self.warnings.extend(memory.config.warnings)
        self.memories.append(memory)
        return memory

    def collect_warnings(self) -> None:
        """Take the warnings a Memory gathered while working (e.g. a git commit that failed)."""
        for memory in self.memories:
            self.warnings.extend(memory.warnings)
            memory.warnings.clear()
        if self.layered is not None:
            self.warnings.extend(self.layered.warnings)
            self.layered.warnings.clear()


def safe(value: object, *, keep_newlines: bool = False) -> str:
    """Untrusted text (an entry's title or body, a path, a commit's subject or author) ready
    for rich markup: control characters written as escapes (`display.printable`: no OSC 52,
    no screen clear reaches the terminal) and markup brackets escaped. Every human output path
    renders untrusted text through this one function; `--format context` (for prompts) and
    JSON (encoded) do not need it."""
    from rich.markup import escape

    from ..core.display import printable

    return escape(printable(str(value), keep_newlines=keep_newlines))


def plain_line(text: str) -> str:
    """A line written without rich (warnings, errors, watch lines): printable."""
    from ..core.display import printable

    return printable(text)


def console(stderr: bool = False) -> Console:
    """A console for human output. Not on a terminal (a pipe, a file), lines are never
    wrapped at an assumed width: `mem ... | grep` sees each line whole."""
    from rich.console import Console

    out = Console(stderr=stderr, highlight=False)
    out.soft_wrap = not out.is_terminal
    return out


def envelope(command: str, ok: bool, data: Any, errors: list[dict[str, str]], warnings: list[str]) -> dict[str, Any]:
    return {
        "schema": JSON_SCHEMA_VERSION,
        "command": command,
        "ok": ok,
        "data": data,
        "errors": errors,
        "warnings": warnings,
    }


def print_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def emit(
    state: State,
    data: Any,
    human: Callable[[Console], None],
    *,
    warnings: Iterable[str] = (),
    confirmation: bool = False,
) -> None:
    """Print a command's result: the JSON envelope, or `human(console)`.

    `confirmation` marks output that only confirms a change ("Added ..."): --quiet drops it,
    while results a person asked for (show, list, recall) are always printed.
    """
    from ..core.jsonable import jsonable

    state.warnings.extend(warnings)
    state.collect_warnings()
    if state.json:
        print_json(envelope(state.command, True, jsonable(data), [], state.warnings))
        return
    print_warnings(state)
    if confirmation and state.quiet:
        return
    human(console())


def print_warnings(state: State) -> None:
    state.collect_warnings()
    if state.quiet or state.json:
        return
    for warning in state.warnings:
        sys.stderr.write(f"warning: {plain_line(warning)}\n")
    state.warnings.clear()


def did_you_mean(state: State, error: Exception) -> str:
    """For "no entry 'x'": "; did you mean 'y'?" when an entry with a close path exists."""
    from ..core.errors import NoEntryError

    if not isinstance(error, NoEntryError) or not state.memories or "archived" in error.message:
        return ""
    from ..core.suggest import did_you_mean as closest
    from ..core.tree import scan_tree

    archived = error.path.startswith("_archive/")
    known = scan_tree(state.memories[-1].root, archived=archived).records
    return closest(error.path, (("_archive/" if archived else "") + record.path for record in known))


def print_error(state: State, kind: str, message: str) -> None:
    state.collect_warnings()
    if state.json:
        error = {"kind": kind, "message": message}
        print_json(envelope(state.command, False, None, [error], state.warnings))
        return
    print_warnings(state)
    sys.stderr.write(f"Error: {plain_line(message)}\n")
