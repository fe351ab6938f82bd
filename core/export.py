"""`mem export`: the tree (or a prefix of it) as JSON Lines or as one markdown document.

Both forms carry every entry whole (path, all frontmatter keys, body) and `mem import` reads
both back (core/import_restore.py) to the same tree, bodies byte for byte:

- JSON Lines: one object per line, `{"path": ..., "meta": {...}, "body": ...}`, in path
  order; dates are ISO 8601 strings (`2026-03-02T10:14:00Z`), as in `--json` output.
- markdown: a header line, then per entry an opening marker that names its path and the
  exact length in bytes of the entry's file text, the text itself (frontmatter and body, as
  mem writes the file), and a closing marker. The byte count makes the split exact whatever
  the bodies hold (even text that looks like a marker), and a person can still read it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .entry import Entry, dump_entry
from .jsonable import jsonable
from .tree import Problem

if TYPE_CHECKING:
    from .memory import Memory

ExportFormat = Literal["jsonl", "markdown"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "markdown")
MARKDOWN_HEADER = "<!-- mem export, format 1: one entry per block; `mem import` this file to restore it -->\n"
ENTRY_OPEN = re.compile(r"<!-- mem:entry path=(?P<path>[a-z0-9/-]+) bytes=(?P<bytes>[0-9]+) -->\n")
ENTRY_CLOSE = "\n<!-- /mem:entry -->\n"


@dataclass(frozen=True)
class ExportReport:
    prefix: str
    format: ExportFormat
    entries: int
    problems: tuple[Problem, ...]  # files that could not be read, left out of the export


def jsonl_line(entry: Entry) -> str:
    record = {"path": entry.path, "meta": jsonable(entry.metadata()), "body": entry.body}
    return json.dumps(record, ensure_ascii=False) + "\n"


def markdown_block(entry: Entry) -> str:
    text = dump_entry(entry)
    size = len(text.encode("utf-8"))
    return f"\n<!-- mem:entry path={entry.path} bytes={size} -->\n{text}{ENTRY_CLOSE}"


def export_chunks(memory: Memory, prefix: str | None, fmt: ExportFormat) -> tuple[Iterator[str], ExportReport]:
    """The export's text in chunks (write them in order) and its report. The entries are read
    first (a listing), so a file broken on disk becomes a problem, not a half-written export."""
    listing = memory.list(prefix)
    report = ExportReport(prefix or "", fmt, len(listing.entries), listing.problems)

    def chunks() -> Iterator[str]:
        if fmt == "markdown":
            yield MARKDOWN_HEADER
            for entry in listing.entries:
                yield markdown_block(entry)
        else:
            for entry in listing.entries:
                yield jsonl_line(entry)

    return chunks(), report
