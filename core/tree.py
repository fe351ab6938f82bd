"""The context tree on disk: finding the root and walking its entries.

A walk never follows symlinks, skips hidden names (`.mem/`, `.git/`, editors' temporary
files, our own `.x.md.<pid>.tmp`), and reports - instead of crashing on - anything that is
not a valid entry: a non-slug name, an entry at the wrong depth, a folder nested too deep.
Root-level files (`config.yaml`, a README) are not entries and are ignored.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .display import clip
from .errors import InvalidError, NotFoundError
from .paths import (
    ARCHIVE_DIR,
    ENTRY_MAX_DEPTH,
    ENTRY_MIN_DEPTH,
    ENTRY_SUFFIX,
    OVERVIEW_FILE,
    SLUG_RE,
    is_slug,
    refuse_symlinks,
)

ROOT_DIR_NAME = ".memory"
ROOT_ENV = "MEM_ROOT"


@dataclass(frozen=True)
class Problem:
    """A file that could not be used, and why. `file` is relative to the root, as on disk."""

    file: str
    message: str

    def __str__(self) -> str:
        # One short printable line, whatever the file name and the message hold.
        return f"{clip(self.file, 160)}: {clip(self.message, 400)}"


@dataclass(frozen=True)
class FileRecord:
    """An entry file found by a walk, with the stat fields the index uses to spot changes."""

    path: str
    file: Path
    mtime_ns: int
    size: int


@dataclass(frozen=True)
class Scan:
    records: tuple[FileRecord, ...]
    overviews: tuple[str, ...]  # folders (relative paths) that have an _index.md
    problems: tuple[Problem, ...]


def find_root(explicit: str | os.PathLike[str] | None, env: Mapping[str, str], cwd: Path) -> Path:
    """The memory root: `--root`, else `MEM_ROOT`, else the nearest `.memory/` upward."""
    for given, origin in ((explicit, "--root"), (env.get(ROOT_ENV) or None, ROOT_ENV)):
        if given is None:
            continue
        root = (cwd / Path(given).expanduser()).resolve()
        if not root.is_dir():
            raise NotFoundError(f"memory root {root} ({origin}) does not exist; create it with `mem init {given}`")
        return root
    for folder in (cwd, *cwd.parents):
        candidate = folder / ROOT_DIR_NAME
        if candidate.is_dir():
            root = candidate.resolve()
            # A repository can commit `.memory -> ../..`: followed, that would make the
            # user's home "the memory", indexed and served to an agent. A discovered root may
            # be a link only within the folder that holds it; elsewhere, --root says so.
            if candidate.is_symlink() and not root.is_relative_to(folder.resolve()):
                raise InvalidError(
                    f"{candidate} is a symlink to {root}, outside {folder}; mem does not follow it "
                    f"when it looks for a memory: pass --root {root} (or set {ROOT_ENV}) to use it on purpose"
                )
            return root
    raise NotFoundError(f"no {ROOT_DIR_NAME}/ folder in {cwd} or above; run `mem init` or pass --root")


def scan_tree(root: Path, prefix: str = "", *, archived: bool = False) -> Scan:
    """Every entry file under `prefix` (a normalized folder or entry path, '' for all)."""
    base = root / ARCHIVE_DIR if archived else root
    files, overviews, problems = _walk(root, base, prefix, shown_base=f"{ARCHIVE_DIR}/" if archived else "")
    records = [FileRecord(path, base / (path + ENTRY_SUFFIX), mtime_ns, size) for path, mtime_ns, size in files]
    records.sort(key=lambda record: record.path)
    return Scan(tuple(records), tuple(sorted(overviews)), tuple(sorted(problems, key=lambda p: p.file)))


FolderFiles = dict[str, list[tuple[str, int, int]]]


def walk_entry_folders(root: Path) -> tuple[FolderFiles, tuple[Problem, ...]]:
    """Every live entry file as (path, mtime_ns, size), grouped by folder in walk order, and
    the problems found.

    The index calls this at the start of every recall, so it avoids per-file objects: at
    100k entries the `stat` calls are most of its cost.
    """
    folders: FolderFiles = {}
    _, _, problems = _walk(root, root, "", shown_base="", folders=folders)
    return folders, tuple(sorted(problems, key=lambda p: p.file))


def _walk(
    root: Path, base: Path, prefix: str, *, shown_base: str, folders: FolderFiles | None = None
) -> tuple[list[tuple[str, int, int]], list[str], list[Problem]]:
    overviews: list[str] = []
    problems: list[Problem] = []

    def problem(relative: str, message: str) -> None:
        problems.append(Problem(shown_base + relative, message))

    # Start as deep as the prefix allows, so `list architecture/auth` does not walk everything.
    start_parts = prefix.split("/") if prefix else []
    start = base.joinpath(*start_parts)
    refuse_symlinks(root, start)
    files = _entry_named_by(base, prefix, start_parts)
    stack: list[tuple[str, str]] = [(str(start), prefix)]
    suffix_length = len(ENTRY_SUFFIX)
    slug = SLUG_RE.fullmatch  # bound once: this loop runs for every file at every recall

    while stack:
        folder, relative_folder = stack.pop()
        try:
            with os.scandir(folder) as listing:
                items = list(listing)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as error:
            problem(relative_folder or ".", f"cannot be read ({error.strerror})")
            continue
        depth = relative_folder.count("/") + 2 if relative_folder else 1  # depth of the children
        bucket: list[tuple[str, int, int]] = []
        parent = relative_folder + "/" if relative_folder else ""
        entries_allowed = ENTRY_MIN_DEPTH <= depth <= ENTRY_MAX_DEPTH
        for item in items:
            name = item.name
            if name[0] == ".":
                continue  # hidden: .mem/, .git/, editor swap files, our temporary files
            # The common case first: a regular entry file where entries belong.
            if entries_allowed and name.endswith(ENTRY_SUFFIX) and not item.is_symlink() and name != OVERVIEW_FILE:
                if item.is_dir(follow_symlinks=False):
                    pass  # a folder named like a file: handled below
                elif slug(name, 0, len(name) - suffix_length) is None:
                    problem(parent + name, "file name is not a slug (lowercase a-z, 0-9, '-'); skipped")
                    continue
                else:
                    try:
                        info = item.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # removed between listing and stat: simply not there any more
                    if stat.S_ISREG(info.st_mode):
                        bucket.append((parent + name[:-suffix_length], info.st_mtime_ns, info.st_size))
                    else:
                        problem(parent + name, "is not a regular file; skipped")
                    continue
            relative = parent + name
            if depth == 1 and name == ARCHIVE_DIR and shown_base == "":
                continue
            if item.is_symlink():
                problem(relative, "is a symlink; mem does not follow symlinks inside the memory root")
            elif item.is_dir(follow_symlinks=False):
                if not is_slug(name):
                    problem(
                        relative + "/", "folder name is not a slug (lowercase a-z, 0-9, '-'); its entries are skipped"
                    )
                elif depth >= ENTRY_MAX_DEPTH:
                    problem(relative + "/", "nested deeper than domain/topic/subtopic; its entries are skipped")
                else:
                    stack.append((item.path, relative))
            elif depth == 1 or not name.endswith(ENTRY_SUFFIX):
                continue  # root-level files (config.yaml, README.md) and attachments are not entries
            elif name == OVERVIEW_FILE:
                overviews.append(relative_folder)
            elif not is_slug(name[:-suffix_length]):
                problem(relative, "file name is not a slug (lowercase a-z, 0-9, '-'); skipped")
            else:
                problem(relative, "entries belong in domain/topic/entry.md; skipped")
        if bucket:
            files.extend(bucket)
            if folders is not None:
                folders[relative_folder] = bucket
    return files, overviews, problems


def _entry_named_by(base: Path, prefix: str, parts: list[str]) -> list[tuple[str, int, int]]:
    """The entry a prefix names itself (`list a/b/c`), as the walk records files."""
    if len(parts) >= ENTRY_MIN_DEPTH:
        with contextlib.suppress(OSError):
            info = os.lstat(base.joinpath(*parts[:-1], parts[-1] + ENTRY_SUFFIX))
            if stat.S_ISREG(info.st_mode):
                return [(prefix, info.st_mtime_ns, info.st_size)]
    return []


FileKind = Literal["entry", "ignored", "problem"]


def classify_file(relative: str) -> tuple[FileKind, str]:
    """How a walk of the root treats the file at `relative` (root-relative, '/'-separated).

    ("entry", path) for an entry file the index holds; ("ignored", "") for what a walk skips
    silently (hidden names such as `.mem/`, `.git/` and editors' swap files, `_archive/`,
    files that are not `.md`, root-level files, `_index.md` overviews); ("problem", "") for a
    `.md` file the walk would report (a name that is not a slug, a wrong depth, a folder that
    is not a slug or nested too deep). This mirrors `_walk` for one name, without touching the
    disk, so that a watcher can sort file events the way a full scan would.
    """
    parts = relative.split("/")
    if any(not part or part[0] == "." for part in parts) or parts[0] == ARCHIVE_DIR:
        return "ignored", ""
    name = parts[-1]
    if not name.endswith(ENTRY_SUFFIX):
        return "ignored", ""
    for depth, folder in enumerate(parts[:-1], 1):
        if not is_slug(folder) or depth >= ENTRY_MAX_DEPTH:
            return "problem", ""
    if len(parts) == 1 or name == OVERVIEW_FILE:
        return "ignored", ""
    if not is_slug(name[: -len(ENTRY_SUFFIX)]) or len(parts) < ENTRY_MIN_DEPTH:
        return "problem", ""
    return "entry", relative[: -len(ENTRY_SUFFIX)]


def overview_file(root: Path, folder: str) -> Path:
    if not folder:
        raise InvalidError("the root has no overview file")
    return root.joinpath(*folder.split("/"), OVERVIEW_FILE)
