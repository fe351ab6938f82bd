"""Where an imported note goes: folders become domain/topic(/subtopic), names become slugs.

mem's entries live at depth 3 or 4 (docs/concepts.md); other tools' folders are as deep or
shallow as people made them. The rule, the same for every importer:

- the segments are the `--into` prefix, then the source's folders, then the file's name, each
  slugged (`Design Docs` -> `design-docs`, `jwt_token_generation` -> `jwt-token-generation`);
- too shallow (`into/name`): a `general` topic is put in between;
- too deep: the folders past domain/topic/subtopic are folded into the entry's name
  (`a/b/c/d/e/note` -> `a/b/c/d-e-note`), so nothing is lost from the path;
- a name with nothing slug-able in it (`会议记录.md`) becomes `note-<6 hex of its name>`.
"""

from __future__ import annotations

import hashlib

from ..paths import ENTRY_MAX_DEPTH, ENTRY_MIN_DEPTH, SLUG_MAX, slugify

GENERAL_TOPIC = "general"


def slug_segment(text: str) -> str:
    slug = slugify(text)
    if slug:
        return slug
    return "note-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]


def place(into: list[str], folders: list[str], name: str) -> str:
    """The entry path for a note called `name` in `folders` (raw names), under `into` (slugs)."""
    segments = [*into, *(slug_segment(folder) for folder in folders), slug_segment(name)]
    if len(segments) < ENTRY_MIN_DEPTH:
        if len(segments) == 1:
            segments.insert(0, "imported")
        segments.insert(-1, GENERAL_TOPIC)
    if len(segments) > ENTRY_MAX_DEPTH:
        head = segments[: ENTRY_MAX_DEPTH - 1]
        folded = "-".join(segments[ENTRY_MAX_DEPTH - 1 :])
        if len(folded) > SLUG_MAX:
            digest = hashlib.sha256(folded.encode("utf-8")).hexdigest()[:6]
            folded = folded[: SLUG_MAX - 7].rstrip("-") + "-" + digest
        segments = [*head, folded]
    return "/".join(segments)


def with_suffix(path: str, number: int) -> str:
    """`a/b/name` -> `a/b/name-2`, keeping the last segment a slug of at most 64 characters."""
    folder, _, name = path.rpartition("/")
    suffix = f"-{number}"
    return f"{folder}/{name[: SLUG_MAX - len(suffix)].rstrip('-')}{suffix}"
