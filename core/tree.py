"""The context tree on disk: finding the root and walking its entries.

A walk never follows symlinks, skips hidden names (`.mem/`, `.git/`, editors' temporary
files, our own `.x.md.<pid>.tmp`), and reports - instead of crashing on - anything that is
not a valid entry: a non-slug name, an entry at the wrong depth, a folder nested too deep.
Root-level files (`config.yaml`, a README) are not entries and are ignored.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidError, NotFoundError
from .paths import (
    ARCHIVE_DIR,
    ENTRY_MAX_DEPTH,
    ENTRY_MIN_DEPTH,
    ENTRY_SUFFIX,
    INDEX_FILE,
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
        return f"{self.file}: {self.message}"


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
            return candidate.resolve()
    raise NotFoundError(f"no {ROOT_DIR_NAME}/ folder in {cwd} or above; run `mem init` or pass --root")


def scan_tree(root: Path, prefix: str = "", *, archived: bool = False) -> Scan:
    """Every entry file under `prefix` (a normalized folder or entry path, '' for all)."""
    base = root / ARCHIVE_DIR if archived else root
    records: list[FileRecord] = []
    overviews: list[str] = []
    problems: list[Problem] = []
    shown_base = f"{ARCHIVE_DIR}/" if archived else ""

    def problem(relative: str, message: str) -> None:
        problems.append(Problem(shown_base + relative, message))

    # Start as deep as the prefix allows, so `list architecture/auth` does not walk everything.
    start_parts = prefix.split("/") if prefix else []
    start = base.joinpath(*start_parts)
    refuse_symlinks(root, start)
    if len(start_parts) >= ENTRY_MIN_DEPTH:  # the prefix may name an entry itself
        single = base.joinpath(*start_parts[:-1], start_parts[-1] + ENTRY_SUFFIX)
        _visit_file(single, prefix, records, problem)
    stack: list[tuple[Path, list[str]]] = [(start, start_parts)]

    while stack:
        folder, parts = stack.pop()
        try:
            listing = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            continue
        except OSError as error:
            problem("/".join(parts) or ".", f"cannot be read ({error.strerror})")
            continue
        depth = len(parts) + 1  # depth of the children in this folder
        for item in listing:
            name = item.name
            if name.startswith("."):
                continue
            relative = "/".join([*parts, name])
            if not parts and name == ARCHIVE_DIR and not archived:
                continue
            if item.is_symlink():
                problem(relative, "is a symlink; mem does not follow symlinks inside the memory root")
                continue
            if item.is_dir(follow_symlinks=False):
                if not is_slug(name):
                    problem(
                        relative + "/", "folder name is not a slug (lowercase a-z, 0-9, '-'); its entries are skipped"
                    )
                elif depth >= ENTRY_MAX_DEPTH:
                    problem(relative + "/", "nested deeper than domain/topic/subtopic; its entries are skipped")
                else:
                    stack.append((Path(item.path), [*parts, name]))
                continue
            if not name.endswith(ENTRY_SUFFIX) or depth == 1:
                continue  # root-level files (config.yaml, README.md) and attachments are not entries
            if name == INDEX_FILE:
                overviews.append("/".join(parts))
                continue
            stem = name[: -len(ENTRY_SUFFIX)]
            if not is_slug(stem):
                problem(relative, "file name is not a slug (lowercase a-z, 0-9, '-'); skipped")
            elif depth < ENTRY_MIN_DEPTH:
                problem(relative, "entries belong in domain/topic/entry.md; skipped")
            else:
                _visit_file(Path(item.path), "/".join([*parts, stem]), records, problem, listed=item)

    records.sort(key=lambda record: record.path)
    problems.sort(key=lambda found: found.file)
    return Scan(tuple(records), tuple(sorted(overviews)), tuple(problems))


def _visit_file(
    file: Path,
    path: str,
    records: list[FileRecord],
    problem: Callable[[str, str], None],
    *,
    listed: os.DirEntry[str] | None = None,
) -> None:
    """Record one entry file; `listed` is its directory entry when a listing found it."""
    try:
        info = listed.stat(follow_symlinks=False) if listed is not None else os.lstat(file)
    except FileNotFoundError:
        return  # removed between listing and stat: simply not there any more
    if not stat.S_ISREG(info.st_mode):
        if listed is not None:  # a prefix that names no regular file is just "no match"
            problem(path + ENTRY_SUFFIX, "is not a regular file; skipped")
        return
    records.append(FileRecord(path, file, info.st_mtime_ns, info.st_size))


def overview_file(root: Path, folder: str) -> Path:
    if not folder:
        raise InvalidError("the root has no overview file")
    return root.joinpath(*folder.split("/"), INDEX_FILE)
