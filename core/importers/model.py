"""What an importer produces and what an import does, as plain data.

An importer (one module per kind of source) reads the source and yields `Candidate`s: an
entry's wished-for place, its metadata and body, and the identity that ties it to the
source (`source: import:<relative path>`). `core/importers/apply.py` turns candidates into a
plan against the tree (create / update / unchanged / skip / refuse) and carries it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["folder", "file", "byterover", "mcp-memory", "export"]
KINDS: tuple[Kind, ...] = ("folder", "file", "byterover", "mcp-memory", "export")

Action = Literal["create", "update", "unchanged", "skip", "refused"]

SOURCE_PREFIX = "import:"
DIGEST_KEY = "import_digest"  # frontmatter key: which version of the source an entry came from


@dataclass(frozen=True)
class Candidate:
    """One entry an importer wants to bring in.

    `path` is where it would go (already a valid entry path); `meta` is the frontmatter mapping
    (mem's keys plus any unknown ones, validated later with the entry rules); `origin` names the
    source part for messages and provenance (`docs/adr/0001-x.md`, `CLAUDE.md#testing`).
    `links` are the source's own names for linked notes, resolved to `related` once every
    candidate has a path. `exact` candidates (from a mem export) keep their metadata and body
    exactly and are matched by path, not by provenance.
    """

    path: str
    meta: Mapping[str, Any]
    body: str
    origin: str
    digest: str = ""
    links: tuple[str, ...] = ()
    link_base: str = ""  # the folder (source-relative) that relative links start from
    file_key: str = ""  # the note's own source-relative file path, for links that name it by path
    names: tuple[str, ...] = ()  # what other notes may call this one: stem, title, aliases, permalink
    exact: bool = False


@dataclass(frozen=True)
class Skipped:
    """A part of the source that was not imported, and why (shown by --dry-run and after)."""

    origin: str
    reason: str


@dataclass(frozen=True)
class ImportItem:
    action: Action
    origin: str
    path: str | None = None
    reason: str = ""
    title: str = ""


@dataclass(frozen=True)
class ImportReport:
    """The plan (`dry_run`) or the outcome of an import."""

    source: str
    kind: Kind
    dry_run: bool
    items: tuple[ImportItem, ...]
    commit: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0
