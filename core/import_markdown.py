"""A folder of markdown notes: docs and ADR folders, Obsidian vaults, Hugo and Jekyll content,
basic-memory projects, Claude Code's auto-memory folder, and ByteRover's context tree.

They share one shape (markdown files in folders, frontmatter on top, links between notes),
so one reader serves them; what differs is a handful of conventions, all handled here:

- frontmatter in YAML, TOML or JSON (`import_format.read_markdown`), mapped by `import_format.map_metadata`
  (Obsidian `aliases`, Hugo `lastmod`, Jekyll `date`, basic-memory `permalink` and `type`,
  Claude Code's `name`/`description`/`type`, ByteRover's lifecycle fields);
- links between notes: `[[Note]]`, `[[Note|label]]`, `[[Note#heading]]` (Obsidian,
  basic-memory relations such as `- implements [[Search Design]]`), relative markdown links
  `[text](../adr/0002-x.md)`, ByteRover's `@domain/topic/file.md` relations, and a `related:`
  list in the frontmatter. A link that names an imported note becomes a `related` path;
- what is not a note is skipped with a reason: attachments and other files, binary or
  non-UTF-8 files, files over the size limit, symlinks, hidden folders (`.obsidian/`, `.git/`),
  and ByteRover's generated files (`context.md` overviews, `_index.md` summaries, `_archived/`).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from .import_format import Candidate, Skipped, map_metadata, place, read_markdown
from .store import FRONTMATTER_ALLOWANCE

MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
BINARY_SNIFF_BYTES = 8192
BYTEROVER_GENERATED = frozenset({"context.md", "_index.md"})
BYTEROVER_ARCHIVE = "_archived"

_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")
_WIKILINK = re.compile(r"(!?)\[\[([^\]\[|#]+)(?:#[^\]|]*)?(?:\|[^\]]*)?\]\]")
_MD_LINK = re.compile(r"(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AT_LINK = re.compile(r"(?:^|\s)@([\w.-]+(?:/[\w.-]+)+\.md)\b")
_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def outside_code(body: str) -> Iterator[str]:
    """The lines of a markdown body that are not inside fenced code blocks."""
    fence: str | None = None
    for line in body.splitlines():
        match = _FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker
                continue
            if marker == fence:
                fence = None
                continue
        if fence is None:
            yield line


def find_links(body: str, *, at_links: bool = False) -> tuple[list[str], list[str]]:
    """(note names from wikilinks, relative paths from markdown links) in a body, code left out.
    Embedded attachments (`![[diagram.png]]`, `![alt](img.png)`) are not links to notes."""
    names: list[str] = []
    paths: list[str] = []
    for line in outside_code(body):
        if "[[" in line:
            for bang, raw, *_ in _WIKILINK.findall(line):
                name = raw.strip()
                if bang and Path(name).suffix.lower() not in ("", *MARKDOWN_SUFFIXES):
                    continue
                names.append(name)
        if "](" in line:
            for _, raw in _MD_LINK.findall(line):
                if _SCHEME.match(raw) or raw.startswith("#"):
                    continue
                target = unquote(raw.split("#", 1)[0])
                if target.lower().endswith(MARKDOWN_SUFFIXES):
                    paths.append(target)
        if at_links and "@" in line:
            paths.extend("/" + target for target in _AT_LINK.findall(line))  # tree-absolute
    return names, paths


def first_heading(body: str) -> str | None:
    for line in outside_code(body):
        match = _H1.match(line)
        if match:
            return match.group(1).strip()
    return None


def humanize(stem: str) -> str:
    text = re.sub(r"[-_]+", " ", stem).strip()
    return text[:1].upper() + text[1:] if text else stem


def label_of(source: Path) -> str:
    """The stable name a source is known by in `source: import:<label>/...`: its own name, and
    `.brv/context-tree` for ByteRover's tree (never the absolute path or the working folder,
    which would change between machines and turn a re-import into duplicates)."""
    if source.name == "context-tree" and source.parent.name == ".brv":
        return ".brv/context-tree"
    return source.name


def read_folder(source: Path, into: list[str], *, byterover: bool, max_bytes: int) -> Iterator[Candidate | Skipped]:
    """Candidates (and skipped files) of a markdown folder, in a stable (sorted) order."""
    label = label_of(source)
    limit = max_bytes + FRONTMATTER_ALLOWANCE
    for folder, dirs, files in os.walk(source, followlinks=False):
        relative_folder = Path(folder).relative_to(source)
        kept: list[str] = []
        for name in sorted(dirs):
            relative = (relative_folder / name).as_posix()
            if name.startswith("."):
                continue  # .obsidian/, .git/, .trash/: tool state, not notes
            if (Path(folder) / name).is_symlink():
                yield Skipped(f"{label}/{relative}/", "is a symlink; not followed")
            elif byterover and name == BYTEROVER_ARCHIVE and relative_folder == Path():
                yield Skipped(f"{label}/{relative}/", "ByteRover's archived stubs; not imported")
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            relative = (relative_folder / name).as_posix()
            origin = f"{label}/{relative}"
            if name.startswith("."):
                continue
            item = _read_file(Path(folder) / name, relative, origin, into, byterover=byterover, limit=limit)
            if item is not None:
                yield item


def _read_file(
    file: Path, relative: str, origin: str, into: list[str], *, byterover: bool, limit: int
) -> Candidate | Skipped | None:
    try:
        info = os.lstat(file)
    except OSError as error:
        return Skipped(origin, f"cannot be read ({error.strerror})")
    if stat.S_ISLNK(info.st_mode):
        return Skipped(origin, "is a symlink; not followed")
    if not stat.S_ISREG(info.st_mode):
        return Skipped(origin, "is not a regular file")
    suffix = file.suffix.lower()
    if suffix not in MARKDOWN_SUFFIXES:
        return Skipped(origin, "not markdown (an attachment or another kind of file)")
    if byterover and file.name in BYTEROVER_GENERATED:
        return Skipped(origin, "generated by ByteRover (overview or summary); not an entry")
    if info.st_size > limit:
        return Skipped(origin, f"too large ({info.st_size:,} bytes; entries hold at most {limit:,})")
    try:
        data = file.read_bytes()
    except OSError as error:
        return Skipped(origin, f"cannot be read ({error.strerror})")
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        return Skipped(origin, "binary, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return Skipped(origin, f"not UTF-8 text (byte {error.start})")
    try:
        raw_meta, body = read_markdown(text)
    except ValueError as error:
        return Skipped(origin, str(error))
    meta, aliases, related = map_metadata(raw_meta)
    stem = file.name[: -len(suffix)]
    if "title" not in meta:
        meta["title"] = first_heading(body) or humanize(stem)
    if "updated" not in meta and "created" not in meta:
        # No dates in the file: its modification time is the best "last updated" there is.
        moment = datetime.fromtimestamp(info.st_mtime, UTC).replace(microsecond=0)
        meta["created"] = meta["updated"] = moment
    names, paths = find_links(body, at_links=byterover)
    for link in related:
        (paths if link.lower().endswith(MARKDOWN_SUFFIXES) else names).append(link)
    folders = list(Path(relative).parent.parts)
    permalink = raw_meta.get("permalink")
    known_as = [stem, str(meta["title"]), *aliases]
    if isinstance(permalink, str):
        known_as.append(permalink)
    return Candidate(
        path=place(into, folders, stem),
        meta=meta,
        body=body,
        origin=origin,
        digest=hashlib.sha256(data).hexdigest(),
        links=(*(f"name:{name}" for name in names), *(f"path:{path}" for path in paths)),
        link_base=Path(relative).parent.as_posix(),
        file_key=relative,
        names=tuple(dict.fromkeys(known_as)),
    )
