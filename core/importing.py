"""`mem import SOURCE`: existing knowledge into the tree, without a model.

One reader per kind of source turns it into candidates (core/import_format.py):

| kind | module | what |
|---|---|---|
| `folder` | import_markdown.py | markdown folders: docs, ADRs, Obsidian, Hugo/Jekyll, basic-memory, Claude Code |
| `byterover` | import_markdown.py | ByteRover's `.brv/context-tree` (its layout and lifecycle fields) |
| `file` | import_sections.py | one long markdown file split by headings (CLAUDE.md, AGENTS.md) |
| `mcp-memory` | import_graph.py | the MCP reference memory server's `memory.json` |
| `export` | import_restore.py | what `mem export` wrote (JSON Lines or markdown) |
| `transcript` | import_transcript.py | an agent's session transcript (JSONL): an entry per turn, `reply_to` |

This module plans the candidates against the tree and writes them: one lock, one batch of
files, one commit.

Identity: an imported entry carries `source: import:<origin>` (`import:docs/adr/0001-x.md`,
`import:CLAUDE.md#testing/fixtures`). A second import looks each candidate up by that
provenance first, wherever the entry is now (a `mem mv` is followed), so it never duplicates;
`import_digest` (a hash of the source part and its resolved links) tells whether the source
changed since: unchanged sources leave their entries alone, even entries edited in mem since.
Entries from an export are matched by path instead (core/import_restore.py).

Placement: a new candidate takes its wished-for path, or the next free `-2`, `-3`, ... when
another file or candidate has it: an import never overwrites an entry it did not write.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .entry import (
    IMPORT_DIGEST_KEY,
    MAX_ITEM_CHARS,
    MAX_LIST_ITEMS,
    REPLY_TO_KEY,
    EntryFormatError,
    dump_entry,
    entry_from_metadata,
)
from .errors import ConflictError, ExistsError, InvalidError, MemError, NotFoundError, RefusedError
from .import_format import KINDS, SOURCE_PREFIX, Action, Candidate, ImportItem, ImportReport, Kind, Skipped, with_suffix
from .paths import normalize_prefix, refuse_symlinks
from .store import BatchWriter, decode_text, read_bytes_limited

if TYPE_CHECKING:
    from .memory import Memory

Progress = Callable[[int, int], None]  # (done, total)


_TRANSCRIPT_HEAD = 256 * 1024  # a transcript's first turn may follow long set-up records


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
    from .import_restore import is_jsonl_export, is_markdown_export

    if is_markdown_export(head):
        return "export"
    first_line = head.lstrip().split("\n", 1)[0]
    if first_line.startswith("{"):
        if is_jsonl_export(first_line):
            return "export"
        from .transcript import is_transcript

        with source.open("rb") as handle:
            if is_transcript(handle.read(_TRANSCRIPT_HEAD)):
                return "transcript"
        return "mcp-memory"
    return "file"


def _into(raw: str | None, default: str) -> list[str]:
    prefix = normalize_prefix(raw if raw is not None else default)
    parts = prefix.split("/") if prefix else []
    if len(parts) > 2:
        raise InvalidError(f"--into '{prefix}' is too deep: give a domain or domain/topic")
    return parts


def read_source(source: Path, kind: Kind, into: str | None, max_bytes: int) -> Iterable[Candidate | Skipped]:
    from .import_format import slug_segment

    if kind == "export":
        if into is not None:
            raise InvalidError("an export goes back to its own paths: --into does not apply to it")
        from .import_restore import is_markdown_export, read_jsonl, read_markdown_export

        with source.open("rb") as handle:
            head = handle.read(200).decode("utf-8", "replace")
        return read_markdown_export(source) if is_markdown_export(head) else read_jsonl(source)
    if kind in ("folder", "byterover"):
        if not source.is_dir():
            raise InvalidError(f"{source} is not a folder; --from {kind} reads a folder")
        if kind == "byterover" and (source / ".brv" / "context-tree").is_dir():
            source = source / ".brv" / "context-tree"
        from .import_markdown import read_folder

        default = "" if kind == "byterover" else slug_segment(source.name)
        return read_folder(source, _into(into, default), byterover=kind == "byterover", max_bytes=max_bytes)
    if source.is_dir():
        raise InvalidError(f"{source} is a folder; --from {kind} reads one file")
    if kind == "transcript":
        from .import_transcript import read_conversation

        return read_conversation(source, _into(into, "conversations"))
    if kind == "mcp-memory":
        from .import_graph import read_graph

        return read_graph(source, _into(into, slug_segment(source.stem)))
    from .import_sections import read_file

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
    return run(memory, str(source), chosen, items, dry_run=dry_run, allow_secrets=allow_secrets, progress=progress)


DIGEST_CHARS = 16


@dataclass(frozen=True)
class _Write:
    item: ImportItem
    file: Path
    text: str
    expected: bytes | None  # the current bytes for a replacement, None for a new file


def provenance(origin: str) -> str:
    """`import:<origin>`, kept within the length mem allows for `source` (a long origin is cut
    and given a hash of the whole, so it stays unique and the same on every run)."""
    label = SOURCE_PREFIX + origin
    if len(label) <= MAX_ITEM_CHARS:
        return label
    digest = hashlib.sha256(origin.encode("utf-8")).hexdigest()[:8]
    return label[: MAX_ITEM_CHARS - 9] + "#" + digest


_HEAD_BYTES = 16 * 1024
_SOURCE_LINE = re.compile(r"^source: (.+)$", re.MULTILINE)
# An all-digit digest is written quoted (YAML would read it as a number).
_DIGEST_LINE = re.compile(rf"^{IMPORT_DIGEST_KEY}: (['\"]?)([0-9a-f]+)\1$", re.MULTILINE)


def provenance_of(file: Path) -> tuple[str | None, str]:
    """(source, import_digest) of an entry file, read from its frontmatter's lines alone.

    A re-import must know which entries came from where; parsing every entry of a large tree
    in full costs more than the import itself. mem writes both keys on one line each (no line
    wrapping), so the frontmatter's lines are enough; a quoted value is read as YAML.
    """
    try:
        with file.open("rb") as handle:
            head = handle.read(_HEAD_BYTES).decode("utf-8", "replace")
    except OSError:
        return None, ""
    if not head.startswith("---"):
        return None, ""
    end = head.find("\n---", 3)
    frontmatter = head[: end if end > 0 else len(head)]
    source = _SOURCE_LINE.search(frontmatter)
    if source is None:
        return None, ""
    value: object = source.group(1).strip()
    if isinstance(value, str) and value[:1] in "'\"":
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            return None, ""
    digest = _DIGEST_LINE.search(frontmatter)
    return (value if isinstance(value, str) else None), (digest.group(2) if digest else "")


def _normalize_body(text: str) -> str:
    stripped = text.strip("\n")
    return stripped + "\n" if stripped.strip() else ""


class _Planner:
    def __init__(self, memory: Memory, candidates: list[Candidate], allow_secrets: bool) -> None:
        self.memory = memory
        self.candidates = candidates
        self.allow_secrets = allow_secrets
        scan = memory.scan()
        self.existing_paths = {record.path for record in scan.records}
        self.by_source: dict[str, str] = {}
        self.digests: dict[str, str] = {}  # path -> import_digest of entries an import wrote
        if any(not candidate.exact for candidate in candidates):
            for record in scan.records:
                source, digest = provenance_of(record.file)
                if source is not None and source.startswith(SOURCE_PREFIX):
                    self.by_source.setdefault(source, record.path)
                    self.digests[record.path] = digest
        self.safe_folders: set[Path] = set()

    def _file(self, path: str) -> Path:
        """The file of an entry path; the symlink check of its folder is done once per folder
        (a large import writes many entries to each)."""
        folder, _, name = path.rpartition("/")
        base = self.memory.root.joinpath(*folder.split("/"))
        if base not in self.safe_folders:
            refuse_symlinks(self.memory.root, base)
            self.safe_folders.add(base)
        file = base / f"{name}.md"
        if file.is_symlink():
            refuse_symlinks(self.memory.root, file)
        return file

    def placements(self) -> list[str | None]:
        """The final path of each candidate (None: a second exported entry at the same path)."""
        claimed: set[str] = set()
        paths: list[str | None] = []
        for candidate in self.candidates:
            if candidate.exact:
                path: str | None = None if candidate.path in claimed else candidate.path
            elif (found := self.by_source.get(provenance(candidate.origin))) is not None and found not in claimed:
                path = found
            else:
                path, number = candidate.path, 2
                while path in claimed or path in self.existing_paths:
                    path, number = with_suffix(candidate.path, number), number + 1
            if path is not None:
                claimed.add(path)
            paths.append(path)
        return paths

    def links(self, paths: list[str | None]) -> list[tuple[str, ...]]:
        """The `related` paths of each candidate, from the links its source holds."""
        by_name: dict[str, str] = {}
        by_file: dict[str, str] = {}
        for candidate, path in zip(self.candidates, paths, strict=True):
            if path is None:
                continue
            for name in candidate.names:
                by_name.setdefault(name.strip().lower(), path)
            if candidate.file_key:
                by_file.setdefault(candidate.file_key, path)
                stem, dot, _ = candidate.file_key.rpartition(".")
                if dot:
                    by_file.setdefault(stem, path)

        def resolve(candidate: Candidate, link: str) -> str | None:
            kind, _, target = link.partition(":")
            if kind == "name":
                key = target.strip().lower()
                for attempt in (key, key.removesuffix(".md"), key.rsplit("/", 1)[-1].removesuffix(".md")):
                    if attempt in by_name:
                        return by_name[attempt]
                return None
            if target.startswith("/"):
                tries = [target.lstrip("/")]
            else:
                tries = [posixpath.normpath(posixpath.join(candidate.link_base, target)), posixpath.normpath(target)]
            for attempt in tries:
                if attempt in by_file:
                    return by_file[attempt]
            return None

        result: list[tuple[str, ...]] = []
        for candidate, path in zip(self.candidates, paths, strict=True):
            found: dict[str, None] = {}
            for link in candidate.links:
                target = resolve(candidate, link)
                if target is not None and target != path:
                    found[target] = None
            result.append(tuple(found)[:MAX_LIST_ITEMS])
        return result

    def plan(self, progress: Progress | None) -> tuple[list[ImportItem], list[_Write]]:
        paths = self.placements()
        related = self.links(paths)
        replies = self.replies(paths)
        items: list[ImportItem] = []
        writes: list[_Write] = []
        total = len(self.candidates)
        for number, (candidate, path, links, reply) in enumerate(
            zip(self.candidates, paths, related, replies, strict=True), 1
        ):
            if progress is not None and number % 100 == 0:
                progress(number, total)
            if path is None:
                items.append(ImportItem("skip", candidate.origin, candidate.path, "a second entry at the same path"))
                continue
            outcome = self._one(candidate, path, links, reply)
            if isinstance(outcome, _Write):
                writes.append(outcome)
                items.append(outcome.item)
            else:
                items.append(outcome)
        if progress is not None:
            progress(total, total)
        return items, writes

    def replies(self, paths: list[str | None]) -> list[str]:
        """The path of the turn each candidate answers (`reply_to`), or ''."""
        by_name = {
            name: path
            for candidate, path in zip(self.candidates, paths, strict=True)
            if path is not None
            for name in candidate.names
        }
        return [by_name.get(candidate.reply_to, "") if candidate.reply_to else "" for candidate in self.candidates]

    def _one(self, candidate: Candidate, path: str, links: tuple[str, ...], reply: str) -> ImportItem | _Write:
        meta: dict[str, Any] = dict(candidate.meta)
        body = candidate.body
        digest = ""
        if not candidate.exact:
            body = _normalize_body(body)
            meta["source"] = provenance(candidate.origin)
            if links:
                meta["related"] = list(links)
            if reply and reply != path:
                meta[REPLY_TO_KEY] = reply
            resolved = "\n".join((*links, reply)) if reply else "\n".join(links)
            digest = hashlib.sha256((candidate.digest + "\n" + resolved).encode()).hexdigest()[:DIGEST_CHARS]
            meta[IMPORT_DIGEST_KEY] = digest
        title = str(meta.get("title", ""))[:120]
        if not candidate.exact and path in self.digests and self.digests[path] == digest:
            return ImportItem("unchanged", candidate.origin, path, "", title)
        limit = self.memory.config.limits.max_body_bytes
        size = len(body.encode("utf-8"))
        if size > limit:
            return ImportItem("skip", candidate.origin, path, f"body is {size:,} bytes, over the {limit:,}-byte limit")
        try:
            entry = entry_from_metadata(path, meta, body, where=candidate.origin)
            text = dump_entry(entry)
        except EntryFormatError as error:
            return ImportItem("skip", candidate.origin, path, "; ".join(error.problems), title)
        except yaml.YAMLError as error:  # a value YAML cannot write (e.g. a TOML time of day)
            return ImportItem("skip", candidate.origin, path, f"frontmatter cannot be written ({error})"[:200], title)
        try:
            file = self._file(path)
        except MemError as error:  # a symlink in the tree where the entry would go
            return ImportItem("skip", candidate.origin, path, error.message, title)
        expected: bytes | None = None
        previous = ""
        if path in self.existing_paths:
            try:
                expected = read_bytes_limited(file, self.memory.files.file_limit())
                previous = decode_text(expected, path)
            except MemError as error:
                return ImportItem("skip", candidate.origin, path, error.message, title)
            if candidate.exact and previous == text:
                return ImportItem("unchanged", candidate.origin, path, "", entry.title)
        try:
            self.memory.check_text(text, allow_secrets=self.allow_secrets, previous=previous)
        except RefusedError as error:
            return ImportItem("refused", candidate.origin, path, error.message, entry.title)
        action: Action = "update" if expected is not None else "create"
        return _Write(ImportItem(action, candidate.origin, path, "", entry.title), file, text, expected)


def run(
    memory: Memory,
    source: str,
    kind: Kind,
    items: Iterable[Candidate | Skipped],
    *,
    dry_run: bool,
    allow_secrets: bool,
    progress: Progress | None,
) -> ImportReport:
    started = time.perf_counter()
    candidates: list[Candidate] = []
    skipped: list[ImportItem] = []
    for item in items:
        if isinstance(item, Skipped):
            skipped.append(ImportItem("skip", item.origin, None, item.reason))
        else:
            candidates.append(item)
    if dry_run:
        planned, _ = _Planner(memory, candidates, allow_secrets).plan(progress)
        return _report(source, kind, True, [*planned, *skipped], started)
    with memory.files.lock():
        planned, writes = _Planner(memory, candidates, allow_secrets).plan(progress)
        writer = BatchWriter()
        outcome: dict[int, ImportItem] = {}
        for number, write in enumerate(writes, 1):
            try:
                if write.expected is None:
                    writer.create(write.file, write.text)
                else:
                    writer.replace(write.file, write.expected, write.text)
            except (ExistsError, ConflictError) as error:
                # Someone who does not take mem's lock wrote there meanwhile: theirs stays.
                outcome[id(write.item)] = ImportItem("skip", write.item.origin, write.item.path, error.message)
            if progress is not None and number % 100 == 0:
                progress(number, len(writes))
        writer.finish()
        if writer.written:
            memory.files.after_write("import", writer.written, f"{len(writer.written)} entries from {source}")
    final = [outcome.get(id(item), item) for item in planned]
    return _report(source, kind, False, [*final, *skipped], started)


def _report(source: str, kind: Kind, dry_run: bool, items: list[ImportItem], started: float) -> ImportReport:
    counts = Counter(item.action for item in items)
    return ImportReport(
        source=source,
        kind=kind,
        dry_run=dry_run,
        items=tuple(items),
        counts={action: counts.get(action, 0) for action in ("create", "update", "unchanged", "skip", "refused")},
        elapsed_seconds=round(time.perf_counter() - started, 3),
    )
