"""How mem opens, replaces and removes files: the one helper every module goes through.

A memory folder can arrive from anywhere (a clone, `mem sync`, a tarball, an agent's own
writes), so any name mem opens may be a symlink leading out of the root, a FIFO that blocks
`open()` forever, a device that never ends (`/dev/zero`), a hard link to someone else's
file, or a folder where a file belongs. The rules, kept in this one module:

- A symlink is never followed: files are opened with `O_NOFOLLOW` (SQLite databases with
  the `nofollow=1` URI parameter), the folders between the root and a file are checked with
  `lstat`, and `.mem/` itself must be a real folder (`state_dir`).
- Only regular files are read or written. Opens are non-blocking, so a FIFO is refused at
  once instead of waited on (while the tree's write lock is held, that wait would stop
  every writer of every process); the flag is cleared before any read or write.
- Every read has a size cap.
- mem deletes or replaces a file only once it has proved the file is its own (its bytes are
  what mem read a moment ago, or a database header carries mem's application id). Anything
  else is set aside under a new name (`set_aside`), never destroyed.

Errors are `MemError` subclasses with one-line messages. No imports beyond the stdlib and
`errors`: every command loads this module.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from pathlib import Path

from .errors import ExitCode, InvalidError, MemError, NotFoundError
from .paths import STATE_DIR

SIDECARS = ("-wal", "-shm", "-journal")  # the files SQLite keeps next to a database
SQLITE_MAGIC = b"SQLite format 3\x00"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# errno values that mean "this medium cannot be written" (a read-only mount, another owner)
READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


class StorageError(MemError):
    """The operating system refused an operation (full disk, read-only medium, I/O error):
    not a bug of mem's, so not exit code 1; `external` like a failing git."""

    exit_code = ExitCode.EXTERNAL

    def __init__(self, message: str, errno_value: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno_value

    @property
    def read_only(self) -> bool:
        return self.errno in READ_ONLY_ERRNOS


def random_token(nbytes: int) -> str:
    """`nbytes` random bytes as hex: what `secrets.token_hex` returns (it is `os.urandom`),
    without importing `secrets`, which loads hmac, hashlib (OpenSSL), base64 and random:
    about 2 ms of every process that names a temporary file or a marker."""
    return os.urandom(nbytes).hex()


def storage_error(action: str, path: Path | str, error: OSError) -> StorageError:
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        reason = "no space left on the device"
    elif error.errno == errno.EROFS:
        reason = "the file system is read-only"
    return StorageError(f"cannot {action} {path}: {reason}", error.errno)


def _refused(path: Path | str, error: OSError) -> MemError:
    """The error for an open that failed; a link or a special file gets its own message."""
    if isinstance(error, FileNotFoundError):
        return NotFoundError(f"{path} does not exist")
    if error.errno == errno.ELOOP:
        return InvalidError(f"{path} is a symlink; mem does not follow symlinks")
    if error.errno in (errno.ENXIO, errno.EISDIR, errno.ENODEV, errno.ETXTBSY):
        return InvalidError(f"{path} is not a regular file")
    return storage_error("open", path, error)


def refuse_links_below(root: Path, target: Path) -> None:
    """Refuse `target` if a folder between `root` and it is a symlink or not a folder.

    `O_NOFOLLOW` only protects the last component of a path; this covers the others.
    """
    current = root
    for part in target.relative_to(root).parts[:-1]:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return  # nothing below a missing folder can be a link yet
        except OSError as error:
            raise storage_error("inspect", current, error) from None
        if stat.S_ISLNK(mode):
            raise InvalidError(f"{current} is a symlink; mem does not follow symlinks")
        if not stat.S_ISDIR(mode):
            raise InvalidError(f"{current} is not a folder")


def open_regular(path: Path, flags: int = os.O_RDONLY, mode: int = 0o644) -> int:
    """A descriptor of the regular file at `path`, never through a symlink, never blocking.

    `flags` may add `O_CREAT`, `O_RDWR`, ... The descriptor is in blocking mode again when
    returned. Raises NotFoundError, InvalidError (link, special file) or StorageError.
    """
    try:
        fd = os.open(path, flags | _NOFOLLOW | _NONBLOCK | _CLOEXEC, mode)
    except OSError as error:
        raise _refused(path, error) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidError(f"{path} is not a regular file")
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, limit: int, *, root: Path | None = None) -> bytes:
    """The bytes of the regular file at `path`, refusing links, special files and anything
    over `limit` bytes. With `root`, the folders between it and `path` are checked too."""
    if root is not None:
        refuse_links_below(root, path)
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise InvalidError(f"{path} is {size:,} bytes, over the {limit:,}-byte limit")
        try:
            data = handle.read(limit + 1)
        except OSError as error:
            raise storage_error("read", path, error) from None
    if len(data) > limit:
        raise InvalidError(f"{path} is over the {limit:,}-byte limit")
    return data


def state_dir(root: Path, *, create: bool = True) -> Path:
    """`root/.mem`, checked to be a real folder (created when missing and `create`).

    A `.mem` that is a symlink would send mem's databases, locks and journal (which mem
    creates, rewrites and removes) wherever it points; a `.mem` file would break every
    command. Both are refused with one line that says what to do.
    """
    folder = root / STATE_DIR
    for _ in range(3):  # a concurrent creator may win the race: look again
        try:
            info = os.lstat(folder)
        except FileNotFoundError:
            if not create:
                return folder
            try:
                folder.mkdir(0o755)
            except FileExistsError:
                continue
            except OSError as error:
                raise storage_error("create", folder, error) from None
            continue
        except OSError as error:
            raise storage_error("inspect", folder, error) from None
        if stat.S_ISLNK(info.st_mode):
            raise InvalidError(
                f"{folder} is a symlink; mem keeps its index, locks and usage counts there and "
                "does not follow it: remove the link (mem recreates the folder)"
            )
        if not stat.S_ISDIR(info.st_mode):
            raise InvalidError(f"{folder} is not a folder; remove it (mem recreates it)")
        return folder
    raise InvalidError(f"{folder} keeps changing; try again")  # pragma: no cover - a pathological race


def check_own_file(path: Path) -> bool:
    """Whether `path` may be opened as one of mem's files: True if it is a regular file with
    no other name, False if it does not exist. A link, a special file or a hard link (writing
    it would change another file's contents) is refused."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise storage_error("inspect", path, error) from None
    if stat.S_ISLNK(info.st_mode):
        raise InvalidError(f"{path} is a symlink; mem does not follow symlinks: remove it")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidError(f"{path} is not a regular file: remove it")
    if info.st_nlink > 1:
        raise InvalidError(f"{path} has another name (a hard link); mem does not write through it: remove it")
    return True


def check_database_files(path: Path) -> bool:
    """Refuse to open a database when it, or a file SQLite keeps next to it, is a link or a
    special file (SQLite's `nofollow` covers only the database's own name). True if the
    database file exists."""
    for suffix in SIDECARS:
        check_own_file(Path(str(path) + suffix))
    return check_own_file(path)


def sqlite_uri(path: Path, *, read_only: bool = False) -> str:
    """A `file:` URI that makes SQLite refuse a symlinked database (pass `uri=True`)."""
    query = "nofollow=1" + ("&mode=ro" if read_only else "")
    # The three characters a URI path must escape for SQLite (not urllib.parse.quote: its
    # import costs milliseconds, and every `mem add` imports this module).
    escaped = str(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return f"file:{escaped}?{query}"


def database_id(path: Path) -> int | None:
    """The application id in a SQLite file's header; None if it is not a SQLite file (or is
    shorter than a header). Read without SQLite, so a damaged file can be judged too - and
    so it must not be used on a database this process may have open (closing the descriptor
    would drop SQLite's locks): `owndb.application_id` calls it only for files SQLite refuses."""
    try:
        fd = open_regular(path)
    except NotFoundError:
        return None
    try:
        header = os.pread(fd, 100, 0)
    finally:
        os.close(fd)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return None
    return int.from_bytes(header[68:72], "big")


def is_damage(error: BaseException) -> bool:
    """True for a SQLite error that means the file is not a usable database (corrupt, not a
    database, a schema mem does not know); False for a full disk, a read-only medium, a busy
    lock or an I/O error, after which the file must be kept as it is."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return False
    primary = code & 0xFF
    if primary in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
        return True
    message = str(error)
    return primary == 1 and message.startswith(("no such table", "no such column"))  # SQLITE_ERROR


def database_error(path: Path, error: BaseException) -> StorageError:
    """A one-line MemError for a SQLite failure that is not damage (see `is_damage`)."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if code is not None else None
    if primary == 13:  # SQLITE_FULL
        return StorageError(f"cannot write {path}: no space left on the device", errno.ENOSPC)
    if primary in (8, 14, 23):  # SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_AUTH
        return StorageError(f"cannot write {path}: {error}", errno.EROFS)
    return StorageError(f"cannot use {path}: {error}")


def set_aside(path: Path) -> Path | None:
    """Rename `path` (and SQLite's files next to it) to a new, unused name in the same folder
    instead of deleting it: for a file mem cannot prove is its own. Returns the new name of
    `path`, or None if there was nothing to move. A rename never follows a link."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    tag = f".set-aside-{stamp}-{random_token(3)}"
    moved: Path | None = None
    for suffix in ("", *SIDECARS):
        name = Path(str(path) + suffix)
        target = name.with_name(name.name + tag)
        try:
            name.rename(target)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise storage_error("set aside", name, error) from None
        if suffix == "":
            moved = target
    return moved


def remove_own_database(path: Path) -> None:
    """Remove a database that is mem's own (the caller proved it) and SQLite's files next to
    it; a sidecar that is not a regular file is set aside instead."""
    for suffix in ("", *SIDECARS):
        name = Path(str(path) + suffix)
        try:
            info = os.lstat(name)
        except FileNotFoundError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
            with contextlib.suppress(FileNotFoundError):
                name.unlink()
        else:
            set_aside(name)


def remove_if_unchanged(path: Path, expected: bytes, limit: int) -> bool:
    """Remove `path` only if it still holds exactly `expected` (what mem wrote or read under
    its lock); True if removed. Anything else there is left alone."""
    try:
        current = read_regular(path, limit)
    except NotFoundError:
        return False
    except InvalidError:
        return False
    if current != expected:
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True
