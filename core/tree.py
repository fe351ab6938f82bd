"""The context tree on disk: finding the root and walking its entries.

A walk never follows symlinks, skips hidden names (`.mem/`, `.git/`, editors' temporary
files, our own `.x.md.<pid>.tmp`), and reports - instead of crashing on - anything that is
not a valid entry: a non-slug name, an entry at the wrong depth, a folder nested too deep.
Root-level files (`config.yaml`, a README) are not entries and are ignored.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import re
import stat
import sys
import threading
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
    """Every entry file of the tree, the folders with an overview, and the problems found."""

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
    walker = _Walker(shown_base=f"{ARCHIVE_DIR}/" if archived else "")
    start_parts = prefix.split("/") if prefix else []
    # Start as deep as the prefix allows, so `list architecture/auth` does not walk everything.
    start = base.joinpath(*start_parts)
    refuse_symlinks(root, start)
    walker.drain([(str(start), prefix)])
    files = _entry_named_by(base, prefix, start_parts) + [record for _, bucket in walker.buckets for record in bucket]
    records = [FileRecord(path, base / (path + ENTRY_SUFFIX), mtime_ns, size) for path, mtime_ns, size in files]
    records.sort(key=lambda record: record.path)
    problems = [Problem(file, message) for file, message in walker.problems]
    return Scan(tuple(records), tuple(sorted(walker.overviews)), tuple(sorted(problems, key=lambda p: p.file)))


Record = tuple[str, int, int]  # an entry file as the index compares it: (path, mtime_ns, size)

# A walk that expects at least this many entry files hands half of its folders to a forked
# helper process (see walk_entry_folders). At 10,000 the helper saved nothing measurable on
# the benchmark machine (a walk of ~30 ms; docs/benchmarks.md); at 100,000 it halves the walk.
HELPER_MIN_FILES = 20_000
# The helper takes over once this many folders wait to be listed (or none are left).
HELPER_MIN_FOLDERS = 64


_MARSHAL_VERSION = 2


def content_digest(data: bytes) -> str:
    """A 128-bit BLAKE2b of `data`, in hex: the fingerprints of folders and trees, and the
    content hash of an entry file. hashlib is imported on first use, not with this module:
    it loads OpenSSL (about 2 ms of a process), and a recall that a watcher vouches for
    hashes nothing."""
    import hashlib

    return hashlib.blake2b(data, digest_size=16).hexdigest()


def folder_fingerprint(records: list[Record]) -> str:
    """A fingerprint of one folder's records, in listing order.

    marshal serialises the tuples in C, twice as fast as formatting them: this runs at every
    recall over every file. Version 2 of its format, because later ones mark objects that
    have other references (a small int, a list held elsewhere), so equal records could give
    different bytes. If the format changes (a new Python), the fingerprints simply differ
    once and the files are compared one by one.
    """
    return content_digest(marshal.dumps(records, _MARSHAL_VERSION))


@dataclass
class EntryWalk:
    """What a walk of the live tree found: each folder's fingerprint, the problems, and the
    entry files of the folders this process listed itself."""

    root: Path
    prints: dict[str, str]  # folder -> folder_fingerprint of its entry files (folders with any)
    problems: tuple[Problem, ...]
    files: int  # entry files found
    held: dict[str, list[Record]]

    def records(self, folder: str) -> list[Record]:
        """The entry files of a folder. A folder the helper listed is listed again here, and
        its fingerprint updated to what this listing found: the index stores the fingerprint
        of the records it indexed, whatever changed in between."""
        records = self.held.get(folder)
        if records is None:
            lister = _Walker(shown_base="")
            lister.list_folder(str(self.root.joinpath(*folder.split("/"))), folder, [])
            records = lister.buckets[0][1] if lister.buckets else []
            if records:
                self.prints[folder] = folder_fingerprint(records)
            else:
                self.prints.pop(folder, None)
            self.held[folder] = records
        return records

    def fingerprint(self) -> str:
        """One fingerprint of the whole tree, from the folders' (independent of walk order)."""
        return content_digest(marshal.dumps(sorted(self.prints.items()), _MARSHAL_VERSION))


def walk_entry_folders(root: Path, *, expected_files: int = 0) -> EntryWalk:
    """Every live entry folder's fingerprint, and the problems found.

    The index calls this at the start of every recall without a watcher, so it avoids
    per-file objects: at 100k entries the `stat` calls are most of its cost. A `stat` waits
    on the kernel, but threads do not help (the GIL serialises the Python half of every
    file: two threads were slower than one). When the caller expects at least
    HELPER_MIN_FILES files and this process may fork safely (Linux, no other thread) with a
    core to spare, half of the folders are walked by a forked helper process, which sends back
    their fingerprints (not their records: the index needs those only for folders that
    changed, and `EntryWalk.records` lists them again). If the helper fails in any way, its
    share is walked here: the result is the same either way.
    """
    walker = _Walker(shown_base="", fingerprints=True)
    pending: list[tuple[str, str]] = [(str(root), "")]
    if expected_files >= HELPER_MIN_FILES and _may_fork():
        # Breadth first until there are folders to share, so that both halves get a mix of
        # whole domains and topics.
        while pending and len(pending) < HELPER_MIN_FOLDERS:
            level, pending = pending, []
            for folder, relative in level:
                walker.list_folder(folder, relative, pending)
        if len(pending) >= 2:
            theirs, pending = pending[1::2], pending[0::2]
            helper = _Helper.start(theirs)
            try:
                walker.drain(pending)
                found = helper.collect()
            finally:
                helper.stop()
            if found is None:
                walker.drain(theirs)  # the helper failed: its share is walked here
            else:
                walker.merge(found)
    walker.drain(pending)
    problems = sorted((Problem(file, message) for file, message in walker.problems), key=lambda p: p.file)
    return EntryWalk(root, dict(sorted(walker.prints)), tuple(problems), walker.files, dict(walker.buckets))


def _may_fork() -> bool:
    """Linux (where a fork without exec is safe for a Python process that loaded no
    framework), no other thread whose locks the child could inherit held, and a core that
    is probably idle: with every core busy the helper only waits for one, and the walk
    costs its overhead on top (measured: 9-15% slower under a load of 3-4 on 2 cores)."""
    if sys.platform != "linux" or threading.active_count() != 1:
        return False
    cores = len(os.sched_getaffinity(0))
    return cores > 1 and os.getloadavg()[0] < cores - 0.5


# What a helper sends back: (folder, fingerprint) pairs, (file, message) problems and the
# number of entry files. Plain lists and tuples, so that marshal can carry them.
Found = tuple[list[tuple[str, str]], list[tuple[str, str]], int]


class _Walker:
    """Lists folders: what it finds accumulates in `buckets` (records kept), `prints`
    (fingerprints, if asked), `overviews`, `problems` and `files`."""

    def __init__(self, *, shown_base: str, fingerprints: bool = False, keep: bool = True) -> None:
        self.shown_base = shown_base  # "" for the live tree, "_archive/" for the archive
        self.fingerprints = fingerprints
        self.keep = keep
        self.buckets: list[tuple[str, list[Record]]] = []
        self.prints: list[tuple[str, str]] = []
        self.overviews: list[str] = []
        self.problems: list[tuple[str, str]] = []
        self.files = 0

    def drain(self, pending: list[tuple[str, str]]) -> None:
        """List every folder in `pending` and everything below it (depth first)."""
        while pending:
            folder, relative = pending.pop()
            self.list_folder(folder, relative, pending)

    def found(self) -> Found:
        return self.prints, self.problems, self.files

    def merge(self, found: Found) -> None:
        prints, problems, files = found
        self.prints.extend(prints)
        self.problems.extend(problems)
        self.files += files

    def list_folder(self, folder: str, relative_folder: str, pending: list[tuple[str, str]]) -> None:
        """One folder: its entry files into `buckets`, its subfolders onto `pending`."""
        parent = relative_folder + "/" if relative_folder else ""
        try:
            # Listed through a descriptor where the OS allows it: each `stat` then resolves
            # one name instead of the whole path (10% of the walk at 100k entries).
            handle = os.open(folder, _DIRECTORY_FLAGS) if _LIST_BY_DESCRIPTOR else -1
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as error:
            self.problems.append((self.shown_base + (relative_folder or "."), f"cannot be read ({error.strerror})"))
            return
        try:
            with os.scandir(handle if handle >= 0 else folder) as listing:
                items = list(listing)
            depth = relative_folder.count("/") + 2 if relative_folder else 1  # depth of the children
            entries_allowed = ENTRY_MIN_DEPTH <= depth <= ENTRY_MAX_DEPTH
            bucket: list[Record] = []
            # Bound once: this loop runs for every file at every recall.
            entry_name = _ENTRY_NAME.fullmatch if entries_allowed else _never
            is_regular = stat.S_ISREG
            keep = bucket.append
            cut = -len(ENTRY_SUFFIX)
            for item in items:
                name = item.name
                # The common case first, with one system call: a regular entry file where
                # entries belong (the stat tells a link or a folder named like a file apart).
                # A slug never starts with "." (hidden) or "_" (`_index.md`).
                if entry_name(name) is not None:
                    try:
                        info = item.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # removed between listing and stat: simply not there any more
                    if is_regular(info.st_mode):
                        keep((parent + name[:cut], info.st_mtime_ns, info.st_size))
                        continue
                    if not (stat.S_ISLNK(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                        self.problems.append((self.shown_base + parent + name, "is not a regular file; skipped"))
                        continue
                elif name[0] == ".":
                    continue  # hidden: .mem/, .git/, editor swap files, our temporary files
                self._other(item, name, folder, parent, relative_folder, depth, pending)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as error:
            self.problems.append((self.shown_base + (relative_folder or "."), f"cannot be read ({error.strerror})"))
            return
        finally:
            if handle >= 0:
                os.close(handle)
        if bucket:
            self.files += len(bucket)
            if self.fingerprints:
                self.prints.append((relative_folder, folder_fingerprint(bucket)))
            if self.keep:
                self.buckets.append((relative_folder, bucket))

    def _other(
        self,
        item: os.DirEntry[str],
        name: str,
        folder: str,
        parent: str,
        relative_folder: str,
        depth: int,
        pending: list[tuple[str, str]],
    ) -> None:
        """Everything but a regular entry file where entries belong: folders, links, files that
        are not entries, and what to report."""

        def problem(relative: str, message: str) -> None:
            self.problems.append((self.shown_base + relative, message))

        relative = parent + name
        stem = name[: -len(ENTRY_SUFFIX)]
        if depth == 1 and name == ARCHIVE_DIR and self.shown_base == "":
            return
        if item.is_symlink():
            problem(relative, "is a symlink; mem does not follow symlinks inside the memory root")
        elif item.is_dir(follow_symlinks=False):
            if not is_slug(name):
                problem(relative + "/", "folder name is not a slug (lowercase a-z, 0-9, '-'); its entries are skipped")
            elif depth >= ENTRY_MAX_DEPTH:
                problem(relative + "/", "nested deeper than domain/topic/subtopic; its entries are skipped")
            else:
                pending.append((folder + os.sep + name, relative))
        elif depth == 1 or not name.endswith(ENTRY_SUFFIX):
            return  # root-level files (config.yaml, README.md) and attachments are not entries
        elif name == OVERVIEW_FILE:
            self.overviews.append(relative_folder)
        elif not is_slug(stem):
            problem(relative, "file name is not a slug (lowercase a-z, 0-9, '-'); skipped")
        elif ENTRY_MIN_DEPTH <= depth <= ENTRY_MAX_DEPTH:
            # A regular file the fast path missed only if it changed kind in between.
            problem(relative, "is not a regular file; skipped")
        else:
            problem(relative, "entries belong in domain/topic/entry.md; skipped")


# An entry file's name: a slug and the suffix (one match instead of four string checks).
_ENTRY_NAME = re.compile(SLUG_RE.pattern + re.escape(ENTRY_SUFFIX))


def _never(_name: str) -> None:
    return None


_LIST_BY_DESCRIPTOR = os.scandir in os.supports_fd
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)


class _Helper:
    """A forked process that walks a share of the folders and sends back what it found."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid = pid
        self.pipe = pipe

    @classmethod
    def start(cls, share: list[tuple[str, str]]) -> _Helper:
        reading, writing = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(reading)
            os.close(writing)
            return cls(0, -1)
        if pid == 0:  # the helper: walk, send, exit; never return into the caller's code
            status = 1
            try:
                os.close(reading)
                gc.disable()  # a collection would touch (and copy) every page shared with the parent
                walker = _Walker(shown_base="", fingerprints=True, keep=False)
                walker.drain(share)
                _send(writing, walker.found())
                status = 0
            finally:
                os._exit(status)
        os.close(writing)
        return cls(pid, reading)

    def collect(self) -> Found | None:
        """What the helper found, or None if it failed (then the caller walks its share)."""
        if self.pid == 0:
            return None
        with open(self.pipe, "rb", closefd=False) as pipe:
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if os.waitstatus_to_exitcode(status) != 0:
            return None
        try:
            # Written by our own child, through a pipe only the two processes hold.
            found: Found = marshal.loads(data)  # noqa: S302
        except (EOFError, ValueError, TypeError):
            return None
        return found

    def stop(self) -> None:
        """Close the pipe; a helper still running (the caller was interrupted) is killed."""
        if self.pipe >= 0:
            os.close(self.pipe)
            self.pipe = -1
        if self.pid:
            import signal  # here: only a walk that was interrupted kills its helper

            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            self.pid = 0


def _send(pipe: int, found: Found) -> None:
    with open(pipe, "wb") as out:
        out.write(marshal.dumps(found))


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
