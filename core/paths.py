"""Entry paths: validation, slugs and confinement to the memory root.

An entry's path is its location without `.md`, e.g. `architecture/auth/session-tokens`.
Every segment is a slug, entries sit at depth 3 (domain/topic/entry) or 4 (one subtopic),
and no path may ever name a file outside the root. Everything that turns user input into a
file location goes through this module, so the rules live in one place.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

from .display import shown
from .errors import InvalidError

SLUG_MAX = 64
SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
ENTRY_MIN_DEPTH = 3  # domain/topic/entry
ENTRY_MAX_DEPTH = 4  # domain/topic/subtopic/entry
ENTRY_SUFFIX = ".md"
OVERVIEW_FILE = "_index.md"  # a folder's overview (title, summary), not an entry
ARCHIVE_DIR = "_archive"
STATE_DIR = ".mem"


def is_slug(segment: str) -> bool:
    return SLUG_RE.fullmatch(segment) is not None


def slugify(text: str) -> str:
    """A best-effort slug for a title or name: `Session Tokens (v2)` -> `session-tokens-v2`.

    Accents are folded to ASCII; other non-ASCII text (e.g. Chinese) has no ASCII form and is
    dropped, so the result may be empty: callers must handle that.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def _check_raw(raw: str, what: str) -> str:
    """Refuse the forms that could name something outside the root, before splitting."""
    text = raw.strip()
    if not text:
        raise InvalidError(f"{what} is empty")
    if "\x00" in text:
        raise InvalidError(f"{what} {shown(raw)} contains a NUL byte")
    if "\\" in text:
        raise InvalidError(f"{what} {shown(raw)} contains a backslash; use '/' between segments")
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or text.startswith("~"):
        raise InvalidError(f"{what} {shown(raw)} is absolute; give it relative to the memory root")
    if text.endswith(ENTRY_SUFFIX):
        text = text[: -len(ENTRY_SUFFIX)]
    return text.rstrip("/") if what == "folder" else text


def _check_segments(text: str, raw: str, what: str) -> list[str]:
    segments = text.split("/")
    for segment in segments:
        if segment in ("..", "."):
            raise InvalidError(f"{what} {shown(raw)} contains '{segment}'; paths cannot leave the memory root")
        if segment == "":
            raise InvalidError(f"{what} {shown(raw)} has an empty segment")
        if not is_slug(segment):
            hint = slugify(segment)
            suggestion = f"; try '{hint}'" if hint else ""
            raise InvalidError(
                f"{what} segment {shown(segment)} is not a slug "
                f"(lowercase a-z, 0-9 and '-', at most {SLUG_MAX} characters){suggestion}"
            )
    return segments


def normalize_entry_path(raw: str) -> str:
    """Validate an entry path given by a person or program and return its canonical form.

    A trailing `.md` is accepted and dropped. Raises InvalidError with one precise reason.
    """
    text = _check_raw(raw, "path")
    segments = _check_segments(text, raw, "path")
    if not ENTRY_MIN_DEPTH <= len(segments) <= ENTRY_MAX_DEPTH:
        raise InvalidError(
            f"path {shown(raw)} has {len(segments)} segment(s); an entry is domain/topic/entry "
            "or domain/topic/subtopic/entry"
        )
    return "/".join(segments)


def normalize_prefix(raw: str | None) -> str:
    """Validate a folder or entry prefix (for list, tree, scope); '' means the whole tree."""
    if raw is None or raw.strip() in ("", "/", "."):
        return ""
    text = _check_raw(raw, "folder")
    segments = _check_segments(text, raw, "folder")
    if len(segments) > ENTRY_MAX_DEPTH:
        raise InvalidError(f"folder {shown(raw)} is deeper than an entry can be ({ENTRY_MAX_DEPTH} segments)")
    return "/".join(segments)


def under_prefix(path: str, prefix: str) -> bool:
    """True when `path` is `prefix` itself or inside the folder `prefix` (segment-wise)."""
    return not prefix or path == prefix or path.startswith(prefix + "/")


def parse_location(raw: str) -> tuple[str, bool]:
    """`_archive/a/b/c` -> ("a/b/c", True); anything else -> (normalized path, False)."""
    text = raw.strip()
    if text.startswith(ARCHIVE_DIR + "/"):
        return normalize_entry_path(text[len(ARCHIVE_DIR) + 1 :]), True
    return normalize_entry_path(text), False


def entry_file(root: Path, path: str, *, archived: bool = False) -> Path:
    """The file for a *normalized* entry path, refusing symlinks anywhere below the root."""
    base = root / ARCHIVE_DIR if archived else root
    target = base / (path + ENTRY_SUFFIX)
    refuse_symlinks(root, target)
    return target


def refuse_symlinks(root: Path, target: Path) -> None:
    """Refuse a target if it, or any folder between the root and it, is a symlink.

    mem never follows symlinks inside the tree: one pointing outside would let a write escape
    the root, and one pointing inside would make the same entry appear under two paths.
    """
    relative = target.relative_to(root)
    current = root
    last = len(relative.parts) - 1
    for position, part in enumerate(relative.parts):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return  # nothing below a missing component can be a link yet
        if stat.S_ISLNK(mode):
            link = current.relative_to(root).as_posix()
            raise InvalidError(f"{shown(link)} is a symlink; mem does not follow symlinks inside the memory root")
        if position < last and not stat.S_ISDIR(mode):
            # `_archive` (or a topic) made a file by hand or by a merge: one clear line.
            blocker = current.relative_to(root).as_posix()
            raise InvalidError(f"{shown(blocker)} is a file where mem expects a folder; move it away")
