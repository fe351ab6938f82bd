"""mem's own SQLite databases in `.mem/` (the index, the usage counts): opened without
following links, never deleted unless proved to be mem's, readable on a read-only medium.

- Before a read-write open, the database and SQLite's files next to it must be regular files
  with one name (core/safeio.py `check_database_files`), and SQLite is told `nofollow=1`.
- mem stamps each database it creates with an application id (`PRAGMA application_id`, in
  the file header). A file without mem's id is not replaced: a database written before the
  stamp existed is recognised by its tables; anything else (someone's database, a text
  file, a damaged header) is set aside under a new name, never deleted.
- Only damage (`SQLITE_CORRUPT`, `SQLITE_NOTADB`, a missing table) makes mem rebuild a
  database; a full disk or an I/O error is reported and the file kept (`safeio.is_damage`).
- On a read-only medium a database is opened read-only (`mode=ro`, else `immutable=1`).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from .errors import MemError
from .safeio import (
    check_database_files,
    database_id,
    remove_own_database,
    set_aside,
    sqlite_uri,
)


def connect(path: Path, *, timeout: float = 30, read_only: bool = False) -> sqlite3.Connection:
    return sqlite3.connect(
        sqlite_uri(path, read_only=read_only),
        uri=True,
        timeout=timeout,
        isolation_level=None,
        check_same_thread=False,
    )


def tables(path: Path) -> set[str] | None:
    try:
        conn = connect(path, timeout=5, read_only=True)
        try:
            return {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def application_id(path: Path) -> int | None:
    """The application id in the header of the database at `path` (0 for a new, empty one);
    None if there is no SQLite file there.

    Read through SQLite whenever SQLite can read the file. Closing any descriptor of a file
    releases every POSIX lock this process holds on it, SQLite's included: a plain
    open-read-close while another connection of this process has the database open (the
    watcher of `mem mcp` beside its recalls) would drop that connection's locks, and another
    process could then checkpoint under it ("database disk image is malformed"). SQLite's
    own close leaves the descriptor open while the process has other connections to the file.
    Only a file SQLite refuses (not a database, a damaged header) is read directly: no
    connection can hold locks on it.
    """
    try:
        conn = sqlite3.connect(sqlite_uri(path, read_only=True), uri=True, timeout=5, check_same_thread=False)
    except sqlite3.Error:
        return database_id(path)
    try:
        found: int | None = int(conn.execute("PRAGMA application_id").fetchone()[0])
    except sqlite3.Error:
        found = None
    finally:
        conn.close()
    return found if found is not None else database_id(path)


def claim(path: Path, app_id: int, is_ours: Callable[[set[str] | None], bool]) -> None:
    """Make sure that what is at `path` may be opened read-write as mem's database: nothing
    there, an empty file, or a database with mem's application id (or, before the stamp
    existed, mem's tables as judged by `is_ours`). Anything else is set aside.

    Raises InvalidError for a link, a special file or a hard link (`check_database_files`).
    """
    if not check_database_files(path):
        return
    found = application_id(path)
    if found == app_id:
        return
    if found is None:
        if path.stat().st_size == 0:
            return  # a new database SQLite has not written yet
        set_aside(path)  # not a SQLite file (or a truncated one): keep it for a person to look at
        return
    if found == 0:
        found_tables = tables(path)
        if found_tables is not None and is_ours(found_tables):
            return  # written by mem before databases were stamped
    set_aside(path)


def stamp(conn: sqlite3.Connection, app_id: int) -> None:
    """Mark a database mem created (or adopted) as its own."""
    if conn.execute("PRAGMA application_id").fetchone()[0] != app_id:
        conn.execute(f"PRAGMA application_id = {int(app_id)}")


def discard_damaged(path: Path, app_id: int) -> None:
    """A damaged database is rebuilt: removed if its header says it is mem's, else set aside."""
    if application_id(path) == app_id:
        remove_own_database(path)
    else:
        set_aside(path)


def open_read_only(path: Path, probe: str) -> sqlite3.Connection | None:
    """A read-only connection to the database at `path` for a medium mem cannot write, or
    None if there is no usable database. `probe` is a query that must succeed."""
    for query in ("", "&immutable=1"):
        try:
            conn = sqlite3.connect(
                sqlite_uri(path, read_only=True) + query, uri=True, timeout=5, check_same_thread=False
            )
        except sqlite3.Error:
            continue
        try:
            conn.execute(probe).fetchall()
        except sqlite3.Error:
            conn.close()
            continue
        return conn
    return None


def in_memory() -> sqlite3.Connection:
    """A private database in memory: what mem uses when it can neither write nor read one."""
    return sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)


def close_quietly(conn: sqlite3.Connection | None) -> None:
    if conn is not None:
        with contextlib.suppress(sqlite3.Error, MemError):
            conn.close()
