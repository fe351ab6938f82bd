"""`mem tree`: the folders and entries under a prefix, with the folder overviews (`_index.md`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .entry import Entry, load_yaml, split_frontmatter
from .errors import MemError
from .paths import normalize_prefix, under_prefix
from .store import read_bytes_limited
from .tree import Problem, overview_file

if TYPE_CHECKING:
    from .memory import Memory


@dataclass(frozen=True)
class FolderNode:
    """A folder of the tree with its overview (from `_index.md`) and its contents."""

    name: str
    path: str
    title: str | None
    summary: str | None
    folders: tuple[FolderNode, ...]
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class TreeView:
    root: FolderNode
    problems: tuple[Problem, ...]


def build(memory: Memory, prefix: str | None = None) -> TreeView:
    """The tree under `prefix`; a prefix that names an entry shows it in its folder."""
    normalized = normalize_prefix(prefix)
    scan = memory.scan(normalized)
    listing = memory.load(scan)
    overviews = {folder: _overview(memory, folder) for folder in scan.overviews}

    def node(folder: str, entries: list[Entry]) -> FolderNode:
        depth = len(folder.split("/")) if folder else 0
        direct = [entry for entry in entries if entry.path.count("/") == depth]
        children: dict[str, list[Entry]] = {}
        for entry in entries:
            if entry.path.count("/") > depth:
                children.setdefault(entry.path.split("/")[depth], []).append(entry)
        # Folders with an overview but no entries still belong in the picture.
        for overview in overviews:
            parts = overview.split("/")
            if len(parts) > depth and under_prefix(overview, folder) and overview != folder:
                children.setdefault(parts[depth], [])
        title, summary = overviews.get(folder) or (None, None)
        name = folder.rsplit("/", 1)[-1] if folder else memory.root.name
        return FolderNode(
            name=name,
            path=folder,
            title=title,
            summary=summary,
            folders=tuple(
                node(f"{folder}/{child}" if folder else child, children[child]) for child in sorted(children)
            ),
            entries=tuple(direct),
        )

    base = normalized
    if normalized and any(entry.path == normalized for entry in listing.entries):
        base = normalized.rsplit("/", 1)[0]  # the prefix is an entry: show it in its folder
    return TreeView(root=node(base, list(listing.entries)), problems=listing.problems)


def _overview(memory: Memory, folder: str) -> tuple[str | None, str | None]:
    """A folder's title and summary from its `_index.md`, or (None, None)."""
    # An overview is decoration: never fail for it.
    try:
        data = read_bytes_limited(overview_file(memory.root, folder), memory.files.file_limit())
        frontmatter, _ = split_frontmatter(data.decode("utf-8"))
    except (MemError, ValueError):
        return None, None
    if frontmatter is None:
        return None, None
    from yaml import YAMLError  # only here: a recall that shows no folder needs no yaml

    try:
        meta = load_yaml(frontmatter)
    except (ValueError, YAMLError):
        return None, None
    if not isinstance(meta, dict):
        return None, None
    title, summary = meta.get("title"), meta.get("summary")
    # Only text is shown: `_index.md` is unvalidated, and str() of any other YAML value (a
    # list, a mapping) can be as big as that value expands.
    scalars = (str, int, float)
    return (
        str(title) if isinstance(title, scalars) else None,
        str(summary) if isinstance(summary, scalars) else None,
    )
