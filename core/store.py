"""Reading and writing files safely: the only module that touches entry files' bytes.

- Every write is atomic: the new text goes to a temporary file in the same folder, is
  fsynced, and replaces the target with `os.replace`, so a reader (or a crash) sees the old
  file or the new one, never half of one.
- New files are created exclusively: the finished temporary file is hard-linked to its name,
  which fails if the name exists. That gives "never overwrite" and "never half-written" in one
  step (plain `O_EXCL` would expose a partially written file).
- Writers serialize on one lock per tree (`.mem/write.lock`, an OS file lock that dies with
  its process, so a killed writer never leaves a stale lock behind).
- Reads refuse binary, non-UTF-8 and oversized files with one clear line instead of a crash.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import ConflictError, ExistsError, InvalidError, MemError, NotFoundError
from .safeio import open_regular, random_token, read_regular, state_dir, storage_error

# Test-only: `MEM_TEST_PAUSE_AT=<checkpoint>` makes a process stop for good at that point of
# a write (after printing `mem-test-paused <checkpoint> <pid>` on stderr), so a crash test can
# SIGKILL it at an exact moment instead of hoping a random delay lands there. Read once at
# import; when unset, a checkpoint costs one comparison. Checkpoints: `temp-written` (a new
# file's bytes are fsynced, not yet in place), `linked` (a moved file has both names),
# `copied` (a moved and relinked entry exists at both paths), `journaled` (a move's intent
# is on disk, nothing moved yet), `relinked` (one related-link rewrite of a move is done).
# docs/security.md lists this; nothing else reads the variable.
TEST_PAUSE_ENV = "MEM_TEST_PAUSE_AT"
_PAUSE_AT = os.environ.get(TEST_PAUSE_ENV) or None


def checkpoint(name: str) -> None:
    if _PAUSE_AT is not None and name == _PAUSE_AT:
        _pause(name)


def _pause(name: str) -> None:
    sys.stderr.write(f"mem-test-paused {name} {os.getpid()}\n")
    sys.stderr.flush()
    while True:
        time.sleep(60)


TEMP_SUFFIX = ".tmp"
LOCK_FILE = "write.lock"
# Frontmatter is allowed on top of the body limit; a file bigger than body limit plus this is
# not read at all.
FRONTMATTER_ALLOWANCE = 64 * 1024


# `.<name>.<pid>.<8 hex>.tmp`: how `_temp_path` names a file being written (doctor finds
# the ones a killed writer left behind).
TEMP_NAME_RE = re.compile(r"\.(?P<name>.+)\.(?P<pid>[0-9]+)\.(?P<token>[0-9a-f]{8})\.tmp")


def _temp_path(target: Path) -> Path:
    # Hidden (leading dot) so tree walks never mistake it for an entry; unique per writer.
    return target.with_name(f".{target.name}.{os.getpid()}.{random_token(4)}{TEMP_SUFFIX}")


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets a folder be opened.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_temp(target: Path, data: bytes, *, durable: bool = True) -> Path:
    temp = _temp_path(target)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    checkpoint("temp-written")
    return temp


def _io_error(action: str, path: Path, error: OSError) -> MemError:
    return storage_error(action, path, error)


def make_parent(target: Path) -> None:
    """Create the folders `target` goes in; a file where a folder belongs (`_archive` made a
    file by hand or by a merge) is one clear error, not a crash."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((folder for folder in reversed(target.parents) if folder.exists() and not folder.is_dir()), None)
        in_the_way = blocker or target.parent
        raise InvalidError(f"{in_the_way} is not a folder; move it away so mem can write {target.name}") from None
    except OSError as error:
        raise _io_error("create the folder of", target, error) from None


def atomic_write_text(target: Path, text: str) -> None:
    """Replace (or create) `target` with `text` atomically."""
    make_parent(target)
    try:
        temp = _write_temp(target, text.encode("utf-8"))
        try:
            temp.replace(target)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
    except OSError as error:
        raise _io_error("write", target, error) from None
    _fsync_dir(target.parent)


def create_exclusive(target: Path, text: str, *, durable: bool = True) -> None:
    """Create `target` with `text`; ExistsError if anything is already at that name.
    `durable=False` skips the fsyncs (BatchWriter makes a whole batch durable at once)."""
    make_parent(target)
    try:
        temp = _write_temp(target, text.encode("utf-8"), durable=durable)
    except OSError as error:
        raise _io_error("write", target, error) from None
    try:
        link_exclusive(temp, target)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
    if durable:
        _fsync_dir(target.parent)


class BatchWriter:
    """Many new or replaced files written under one lock, made durable once at the end.

    Each file still appears atomically (a temporary file, then a hard link or `os.replace`),
    so a reader or a killed writer never sees half a file; only the fsyncs are batched: one
    fsync per file costs ~11 ms here, which would hold a 10,000-entry import to ~90 files/s.
    `finish()` flushes the file system once (syncfs where the platform has it, else sync).
    """

    def __init__(self) -> None:
        self.written: list[Path] = []

    def create(self, target: Path, text: str) -> None:
        """Create `target`; ExistsError if anything is already at that name."""
        create_exclusive(target, text, durable=False)
        self.written.append(target)

    def replace(self, target: Path, expected: bytes, text: str) -> None:
        """Replace `target` unless its bytes differ from `expected` (ConflictError)."""
        ensure_unchanged(target, expected)
        try:
            temp = _write_temp(target, text.encode("utf-8"), durable=False)
            temp.replace(target)
        except OSError as error:
            raise _io_error("write", target, error) from None
        self.written.append(target)

    def finish(self) -> None:
        """Make every file written so far durable: syncfs(2) on the tree's file system on
        Linux (Python has no wrapper), else a system-wide sync."""
        if not self.written:
            return
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                import ctypes

                libc = ctypes.CDLL(None, use_errno=True)
                fd = os.open(self.written[0].parent, os.O_RDONLY)
                try:
                    if libc.syncfs(fd) == 0:
                        return
                finally:
                    os.close(fd)
        os.sync()


def link_exclusive(source: Path, target: Path) -> None:
    """Give the existing file `source` the additional name `target`, failing if it is taken."""
    make_parent(target)
    try:
        os.link(source, target, follow_symlinks=False)
        return
    except FileExistsError:
        raise ExistsError(f"{target} already exists") from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise _io_error("create", target, error) from None
    # Filesystems without hard links: O_EXCL still refuses to overwrite; the copy is written
    # under the lock, and readers skip an entry that fails to parse until it is complete.
    data = source.read_bytes()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise ExistsError(f"{target} already exists") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def move_exclusive(source: Path, target: Path) -> None:
    """Rename a file without ever replacing an existing target (link, then unlink)."""
    link_exclusive(source, target)
    checkpoint("linked")
    try:
        source.unlink()
    except OSError as error:
        raise _io_error("remove", source, error) from None
    _fsync_dir(source.parent)
    _fsync_dir(target.parent)


def read_bytes_limited(path: Path, limit: int) -> bytes:
    """The bytes of a regular file no larger than `limit`; clear errors otherwise (a link, a
    FIFO or a device is refused without blocking: core/safeio.py)."""
    return read_regular(path, limit)


def decode_text(data: bytes, where: str) -> str:
    """UTF-8 text of an entry file, refusing binary data with a precise reason."""
    if b"\x00" in data:
        raise InvalidError(f"{where}: binary data (NUL bytes), not a markdown text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidError(f"{where}: not UTF-8 text (invalid byte at offset {error.start})") from None


def file_limit(max_body_bytes: int) -> int:
    """The most bytes an entry file may have to be read at all, for a body limit."""
    return max_body_bytes + FRONTMATTER_ALLOWANCE


def body_limit(file_limit: int) -> int:
    """The body limit a file limit was made from (the inverse of `file_limit`)."""
    return file_limit - FRONTMATTER_ALLOWANCE


_held = threading.local()  # lock files this thread holds, so nested use does not deadlock


@contextlib.contextmanager
def file_lock(path: Path, timeout: float, holder: str) -> Iterator[None]:
    """An exclusive OS lock on `path` (created if needed), waiting up to `timeout` seconds.

    flock(2) belongs to the open file, so the kernel releases it when a process dies: a
    killed writer never leaves a stale lock, and there is nothing to clean up. Threads of
    one process exclude each other too (each opens its own descriptor); a thread that
    already holds the lock may take it again. Written here rather than with the filelock
    package because importing that costs ~10 ms on every `mem add`; filelock remains the
    fallback where fcntl does not exist (Windows).
    """
    held: set[str] = getattr(_held, "paths", set())
    _held.paths = held
    key = str(path)
    if key in held:
        yield
        return
    if sys.platform == "win32":  # pragma: no cover - no flock there
        from filelock import FileLock, Timeout

        try:
            with FileLock(path, timeout=timeout, thread_local=False, preserve_lock_file=True):
                held.add(key)
                try:
                    yield
                finally:
                    held.discard(key)
        except Timeout:
            raise ConflictError(f"{holder} held {path.name} for over {timeout:g}s; try again") from None
        return
    import fcntl

    # Never through a link, never a FIFO: a lock file that blocked in open() would stop
    # every writer of every process.
    fd = open_regular(path, os.O_RDWR | os.O_CREAT)
    try:
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConflictError(f"{holder} held {path.name} for over {timeout:g}s; try again") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.02)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def tree_lock(root: Path, timeout: float) -> contextlib.AbstractContextManager[None]:
    """The tree's write lock (`.mem/write.lock`): every writer holds it while it writes."""
    return file_lock(state_dir(root) / LOCK_FILE, timeout, "another mem process")


def ensure_unchanged(target: Path, expected: bytes) -> None:
    """Refuse to go on if `target` no longer holds `expected`: someone (an editor, a program
    that does not take our lock) wrote it after we read it, and going on would lose their edit."""
    try:
        current = read_regular(target, len(expected))
    except NotFoundError:
        raise ConflictError(f"{target} was removed while it was being changed; nothing was written") from None
    except InvalidError:
        current = None  # grown past what we read, or replaced by a link or a special file
    if current != expected:
        raise ConflictError(f"{target} changed while it was being changed; nothing was written, try again")


def replace_if_unchanged(target: Path, expected: bytes, text: str) -> None:
    """Atomically replace `target` with `text` unless its bytes differ from `expected`."""
    ensure_unchanged(target, expected)
    atomic_write_text(target, text)
