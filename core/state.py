"""Volatile signals in `.mem/state.db`: how often and when each entry was recalled.

They live here, never in the markdown, so that recalling does not dirty a git working tree
(ByteRover moved these fields out of its markdown for exactly that reason). The file is
local: if it is damaged it is rebuilt, and only the usage counts are lost, never an entry.
A full disk or an I/O error is not damage: the file is kept and the use simply not counted.
On a read-only medium the counts are read, and new uses are not counted
(core/owndb.py has the rules for opening mem's databases).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import owndb
from .errors import MemError
from .lifecycle import Signals
from .paths import STATE_DIR
from .safeio import StorageError, database_error, is_damage, state_dir

STATE_FILE = "state.db"
STATE_APP_ID = 0x6D656D73  # "mems" in the file header: this database is mem's
_SCHEMA = "CREATE TABLE IF NOT EXISTS access(path TEXT PRIMARY KEY, hits INTEGER NOT NULL, last_access REAL NOT NULL)"
_PROBE = "SELECT count(*) FROM access"


def _is_ours(tables: set[str] | None) -> bool:
    return tables is not None and tables <= {"access"}


class StateStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / STATE_DIR / STATE_FILE
        self._conn: sqlite3.Connection | None = None
        # Why uses are not being counted (a read-only medium), or None.
        self.read_only: str | None = None
        # Why the last read of the counts got nothing (a full disk, an I/O error), or None.
        self.unavailable: str | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        try:
            state_dir(self.root)
            owndb.claim(self.path, STATE_APP_ID, _is_ours)
            conn = self._open()
        except StorageError as error:
            if not error.read_only:
                raise
            return self._read_only(error.message)
        except sqlite3.Error as error:
            if is_damage(error):
                owndb.discard_damaged(self.path, STATE_APP_ID)
                conn = self._open()
            else:
                failure = database_error(self.path, error)
                if not failure.read_only:
                    raise failure from None
                return self._read_only(failure.message)
        self._conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            conn = owndb.connect(self.path)
        except sqlite3.Error as error:
            raise database_error(self.path, error) from None
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            owndb.stamp(conn, STATE_APP_ID)
            conn.execute(_PROBE).fetchone()  # fails here if the file is damaged
        except BaseException:
            conn.close()
            raise
        return conn

    def _read_only(self, reason: str) -> sqlite3.Connection:
        """The counts as they are, for a medium mem cannot write (nothing new is counted)."""
        conn = owndb.open_read_only(self.path, _PROBE) if self.path.is_file() else None
        if conn is None:
            conn = owndb.in_memory()
            conn.execute(_SCHEMA)
        self.read_only = reason
        self._conn = conn
        return conn

    def _discard(self) -> None:
        self.close()
        owndb.discard_damaged(self.path, STATE_APP_ID)

    def _run(self, action: str, *args: object) -> list[tuple[Any, ...]]:
        """Execute one statement; a damaged database is rebuilt once and the call retried.
        Any other failure (a full disk, an I/O error) is a StorageError: nothing is deleted."""
        for attempt in (1, 2):
            try:
                return self._connection().execute(action, args).fetchall()
            except sqlite3.Error as error:
                if attempt == 2 or not is_damage(error) or self.read_only:
                    raise database_error(self.path, error) from None
                self._discard()
        return []

    def _read(self, query: str, *args: object) -> list[tuple[Any, ...]]:
        """Rows for a read that ranking uses: a database mem cannot use right now (a full
        disk, an I/O error) means no usage signals for this call, never a failed read."""
        try:
            return self._run(query, *args)
        except MemError as error:  # a full disk, or a `.mem/state.db` that is a link
            self.unavailable = error.message
            return []

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def signals(self, paths: Iterable[str]) -> dict[str, Signals]:
        wanted = list(paths)
        if not wanted:
            return {}
        rows = self._read(
            "SELECT path, hits, last_access FROM access WHERE path IN (SELECT value FROM json_each(?))",
            json.dumps(wanted),
        )
        return {str(path): Signals(int(hits), float(last)) for path, hits, last in rows}

    def all_signals(self) -> dict[str, Signals]:
        """Every entry's signals (for `mem stats` and `mem consolidate`)."""
        rows = self._read("SELECT path, hits, last_access FROM access")
        return {str(path): Signals(int(hits), float(last)) for path, hits, last in rows}

    def record(self, paths: Iterable[str], when: float) -> str | None:
        """Count one use of each path at `when` (epoch seconds, from the Memory's clock).

        Counting is a side effect of reading: it never fails a read. Returns why the use was
        not counted (a read-only medium, a full disk), or None.
        """
        try:
            self._connection()
            if self.read_only:
                return f"this use was not counted: {self.read_only}"
            for path in dict.fromkeys(paths):
                self._run(
                    "INSERT INTO access VALUES (?, 1, ?) ON CONFLICT(path) DO UPDATE SET hits = hits + 1, "
                    "last_access = ?",
                    path,
                    when,
                    when,
                )
        except MemError as error:
            return f"this use was not counted: {error.message}"
        return None

    def merge(self, absorbed: str, into: str) -> None:
        """A merged entry's usage counts for the entry it was merged into."""
        rows = self._run("SELECT hits, last_access FROM access WHERE path = ?", absorbed)
        if not rows:
            return
        hits, last = rows[0]
        self._run(
            "INSERT INTO access VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE SET hits = hits + excluded.hits, "
            "last_access = max(last_access, excluded.last_access)",
            into,
            int(hits),
            float(last),
        )
        self._run("DELETE FROM access WHERE path = ?", absorbed)

    def rename(self, moves: Mapping[str, str]) -> None:
        """Usage follows an entry when it moves."""
        for old, new in moves.items():
            self._run("DELETE FROM access WHERE path = ?", new)
            self._run("UPDATE access SET path = ? WHERE path = ?", new, old)
