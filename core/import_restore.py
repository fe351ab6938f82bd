"""Reading back what `mem export` wrote (core/export.py): JSON Lines or the markdown document.

An export is mem's own data: its entries come back at their own paths with every frontmatter
key as exported (their `source` included) and bodies byte for byte, so `--into` does not
apply and no `import:` provenance is added. An entry is matched by its path: the same entry
there is left alone, a different one is replaced by the exported one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from .entry import EntryFormatError, parse_entry
from .errors import InvalidError
from .export import ENTRY_CLOSE, ENTRY_OPEN, MARKDOWN_HEADER
from .import_format import Candidate, Skipped
from .paths import normalize_entry_path


def is_markdown_export(head: str) -> bool:
    return head.startswith(MARKDOWN_HEADER[:20])


def is_jsonl_export(first_line: str) -> bool:
    try:
        record = json.loads(first_line)
    except json.JSONDecodeError:
        return False
    return isinstance(record, dict) and {"path", "meta", "body"} <= record.keys()


def _candidate(path: object, meta: object, body: object, origin: str) -> Candidate | Skipped:
    if not isinstance(path, str) or not isinstance(meta, dict) or not isinstance(body, str):
        return Skipped(origin, "not an exported entry (path, meta and body are needed)")
    try:
        normalized = normalize_entry_path(path)
    except InvalidError as error:
        return Skipped(origin, error.message)
    digest = hashlib.sha256(json.dumps([meta, body], sort_keys=True, default=str).encode()).hexdigest()
    return Candidate(path=normalized, meta=meta, body=body, origin=origin, digest=digest, exact=True)


def read_jsonl(source: Path) -> Iterator[Candidate | Skipped]:
    with source.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            origin = f"{source.name}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                yield Skipped(origin, f"not JSON ({error.msg})")
                continue
            if not isinstance(record, dict):
                yield Skipped(origin, "not a JSON object")
                continue
            yield _candidate(record.get("path"), record.get("meta"), record.get("body"), origin)


def read_markdown_export(source: Path) -> Iterator[Candidate | Skipped]:
    data = source.read_bytes()
    position = data.find(b"\n", 0) + 1
    close = ENTRY_CLOSE.encode()
    while True:
        start = data.find(b"<!-- mem:entry ", position)
        if start < 0:
            return
        line_end = data.find(b"\n", start) + 1
        match = ENTRY_OPEN.fullmatch(data[start:line_end].decode("utf-8", "replace"))
        if match is None or line_end == 0:
            yield Skipped(f"{source.name}@{start}", "a broken entry marker")
            position = start + 1
            continue
        path = match.group("path")
        end = line_end + int(match.group("bytes"))
        if data[end : end + len(close)] != close:
            yield Skipped(f"{source.name}#{path}", "the entry's length does not match its closing marker")
            position = line_end
            continue
        position = end + len(close)
        origin = f"{source.name}#{path}"
        try:
            entry = parse_entry(normalize_entry_path(path), data[line_end:end].decode("utf-8"), where=origin)
        except (EntryFormatError, InvalidError) as error:
            yield Skipped(origin, error.message)
            continue
        except UnicodeDecodeError:
            yield Skipped(origin, "not UTF-8 text")
            continue
        yield _candidate(entry.path, entry.metadata(), entry.body, origin)
