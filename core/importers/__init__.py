"""`mem import SOURCE`: existing knowledge into the tree, without a model.

One module per kind of source reads it into candidates (core/importers/model.py):

| kind | module | what |
|---|---|---|
| `folder` | folder.py | markdown folders: docs, ADRs, Obsidian, Hugo/Jekyll, basic-memory, Claude Code auto-memory |
| `byterover` | folder.py | ByteRover's `.brv/context-tree` (its layout and lifecycle fields) |
| `file` | single_file.py | one long markdown file split by headings (CLAUDE.md, AGENTS.md) |
| `mcp-memory` | mcp_memory.py | the MCP reference memory server's `memory.json` |
| `export` | mem_export.py | what `mem export` wrote (JSON Lines or markdown) |

`apply.py` plans them against the tree and writes them under one lock, in one commit.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidError, NotFoundError
from ..paths import normalize_prefix
from .model import KINDS, Candidate, ImportReport, Kind, Skipped

if TYPE_CHECKING:
    from ..memory import Memory

Progress = Callable[[int, int], None]  # (done, total)


def detect(source: Path) -> Kind:
    """The kind of a source, from what it is and holds (`--from` overrides it)."""
    if source.is_dir():
        if (source / ".brv" / "context-tree").is_dir() or (
            source.name == "context-tree" and source.parent.name == ".brv"
        ):
            return "byterover"
        return "folder"
    with source.open("rb") as handle:
        head = handle.read(4096).decode("utf-8", "replace")
    from .mem_export import is_jsonl_export, is_markdown_export

    if is_markdown_export(head):
        return "export"
    first_line = head.lstrip().split("\n", 1)[0]
    if first_line.startswith("{"):
        if is_jsonl_export(first_line):
            return "export"
        return "mcp-memory"
    return "file"


def _into(raw: str | None, default: str) -> list[str]:
    prefix = normalize_prefix(raw if raw is not None else default)
    parts = prefix.split("/") if prefix else []
    if len(parts) > 2:
        raise InvalidError(f"--into '{prefix}' is too deep: give a domain or domain/topic")
    return parts


def read_source(source: Path, kind: Kind, into: str | None, max_bytes: int) -> Iterable[Candidate | Skipped]:
    from .place import slug_segment

    if kind == "export":
        if into is not None:
            raise InvalidError("an export goes back to its own paths: --into does not apply to it")
        from .mem_export import is_markdown_export, read_jsonl, read_markdown_export

        with source.open("rb") as handle:
            head = handle.read(200).decode("utf-8", "replace")
        return read_markdown_export(source) if is_markdown_export(head) else read_jsonl(source)
    if kind in ("folder", "byterover"):
        if not source.is_dir():
            raise InvalidError(f"{source} is not a folder; --from {kind} reads a folder")
        if kind == "byterover" and (source / ".brv" / "context-tree").is_dir():
            source = source / ".brv" / "context-tree"
        from .folder import read_folder

        default = "" if kind == "byterover" else slug_segment(source.name)
        return read_folder(source, _into(into, default), byterover=kind == "byterover", max_bytes=max_bytes)
    if source.is_dir():
        raise InvalidError(f"{source} is a folder; --from {kind} reads one file")
    if kind == "mcp-memory":
        from .mcp_memory import read_graph

        return read_graph(source, _into(into, slug_segment(source.stem)))
    from .single_file import read_file

    return read_file(source, _into(into, slug_segment(source.stem)), max_bytes=max_bytes)


def import_source(
    memory: Memory,
    source: str | os.PathLike[str],
    *,
    kind: Kind | None = None,
    into: str | None = None,
    dry_run: bool = False,
    allow_secrets: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import `source` into `memory` (or, with `dry_run`, only plan it)."""
    path = Path(source).expanduser()
    if not path.exists():
        raise NotFoundError(f"no file or folder {path}")
    if path.resolve() == memory.root or memory.root in path.resolve().parents:
        raise InvalidError(f"{path} is inside the memory itself ({memory.root}); import from elsewhere")
    if kind is not None and kind not in KINDS:
        raise InvalidError(f"unknown source kind {kind!r}; one of {', '.join(KINDS)}")
    chosen = kind or detect(path)
    items = read_source(path, chosen, into, memory.config.limits.max_body_bytes)
    from .apply import run

    return run(memory, str(source), chosen, items, dry_run=dry_run, allow_secrets=allow_secrets, progress=progress)
