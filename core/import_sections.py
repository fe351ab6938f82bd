"""One long markdown file (CLAUDE.md, AGENTS.md, a memory-bank file) split by its headings.

Headings are found by markdown-it-py (CommonMark: a `#` inside a fenced code block is not a
heading, setext `Title\\n-----` headings are), which rich already depends on. The split:

- a lone top-level heading is the document's title; the level below it holds the *topics*
  (usually `##`), the next level the *entries* (usually `###`);
- a topic with entries: its own text before the first entry becomes `<into>/<topic>/overview`,
  each entry `<into>/<topic>/<entry>`; a topic without entries becomes `<into>/general/<topic>`;
- text before the first topic becomes `<into>/general/overview`;
- deeper headings stay inside the body of the entry they belong to.

Each entry's provenance is `import:<file>#<topic>[/<entry>]`, so a second import finds it again
even after `mem mv`, and a section renamed at the source is a new entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .import_format import GENERAL_TOPIC, Candidate, Skipped, map_metadata, read_markdown, slug_segment
from .import_markdown import humanize
from .paths import slugify

# A file to split may hold many entries' worth of text, each within the body limit.
WHOLE_FILE_FACTOR = 100


@dataclass(frozen=True)
class _Heading:
    level: int
    title: str
    line: int  # first line of the heading
    body_line: int  # first line after it


def _headings(text: str) -> list[_Heading]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    found: list[_Heading] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map is not None:
            inline = tokens[index + 1].content if index + 1 < len(tokens) else ""
            title = " ".join(inline.split()) or "Untitled"
            found.append(_Heading(int(token.tag[1:]), title, token.map[0], token.map[1]))
    return found


def read_file(source: Path, into: list[str], *, max_bytes: int) -> Iterator[Candidate | Skipped]:
    label = source.name
    size = source.stat().st_size
    if size > max_bytes * WHOLE_FILE_FACTOR:
        yield Skipped(label, f"too large to split ({size:,} bytes; at most {max_bytes * WHOLE_FILE_FACTOR:,})")
        return
    data = source.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        yield Skipped(label, f"not UTF-8 text (byte {error.start})")
        return
    try:
        raw_meta, text = read_markdown(text)
    except ValueError as error:
        yield Skipped(label, str(error))
        return
    shared, _, _ = map_metadata(raw_meta)
    shared.pop("title", None)
    shared.pop("summary", None)
    moment = datetime.fromtimestamp(source.stat().st_mtime, UTC).replace(microsecond=0)
    shared.setdefault("created", moment)
    shared.setdefault("updated", shared["created"])
    lines = text.splitlines(keepends=True)
    headings = _headings(text)
    levels = sorted({heading.level for heading in headings})
    document_title: str | None = None
    topic_level = levels[0] if levels else 1
    if levels and sum(1 for h in headings if h.level == levels[0]) == 1 and headings[0].level == levels[0]:
        document_title = headings[0].title
        deeper = [level for level in levels if level > levels[0]]
        topic_level = deeper[0] if deeper else levels[0] + 1
    entry_levels = [level for level in levels if level > topic_level]
    entry_level = entry_levels[0] if entry_levels else topic_level + 1

    def section_end(start: int, level: int) -> int:
        """The line where the text under a heading at `start` of `level` ends."""
        for heading in headings:
            if heading.line >= start and heading.level <= level:
                return heading.line
        return len(lines)

    seen: dict[str, int] = {}

    def candidate(path_parts: list[str], key: str, title: str, body: str) -> Candidate:
        count = seen.get(key, 0) + 1
        seen[key] = count
        if count > 1:
            key, path_parts = f"{key}-{count}", [*path_parts[:-1], f"{path_parts[-1]}-{count}"]
        meta = {**shared, "title": title}
        digest = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
        return Candidate(
            path="/".join(path_parts), meta=meta, body=body, origin=f"{label}#{key}", digest=digest, file_key=label
        )

    topics = [heading for heading in headings if heading.level == topic_level]
    first_topic = topics[0].line if topics else len(lines)
    preamble_start = headings[0].body_line if document_title is not None else 0
    preamble = "".join(lines[preamble_start:first_topic])
    if preamble.strip():
        title = document_title or humanize(source.stem)
        yield candidate([*into, GENERAL_TOPIC, "overview"], "overview", title, preamble)
    for topic in topics:
        topic_slug = slug_segment(topic.title)
        end = section_end(topic.body_line, topic_level)
        entries = [h for h in headings if h.level == entry_level and topic.body_line <= h.line < end]
        if not entries:
            body = "".join(lines[topic.body_line : end])
            yield candidate([*into, GENERAL_TOPIC, topic_slug], topic_slug, topic.title, body)
            continue
        intro = "".join(lines[topic.body_line : entries[0].line])
        if intro.strip():
            yield candidate([*into, topic_slug, "overview"], f"{topic_slug}/overview", topic.title, intro)
        for entry in entries:
            entry_slug = slugify(entry.title) or slug_segment(entry.title)
            body = "".join(lines[entry.body_line : section_end(entry.body_line, entry_level)])
            yield candidate([*into, topic_slug, entry_slug], f"{topic_slug}/{entry_slug}", entry.title, body)
