"""Volatile signals in `.mem/state.db`: how often and when each entry was recalled.

They live here, never in the markdown, so that recalling does not dirty a git working tree
(ByteRover moved these fields out of its markdown for exactly that reason). The file is
local and disposable: if it is corrupt it is recreated, and only the usage counts are lost,
never an entry.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .lifecycle import Signals
from .paths import STATE_DIR

STATE_FILE = "state.db"
_SCHEMA = "CREATE TABLE IF NOT EXISTS access(path TEXT PRIMARY KEY, hits INTEGER NOT NULL, last_access REAL NOT NULL)"


class StateStore:
    def __init__(self, root: Path) -> None:
        self.path = root / STATE_DIR / STATE_FILE
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        self.path.parent.mkdir(exist_ok=True)
        try:
            conn = self._open()
        except sqlite3.DatabaseError:
            self._discard()
            conn = self._open()
        self._conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(_SCHEMA)
        conn.execute("SELECT count(*) FROM access").fetchone()  # fails here if the file is damaged
        return conn

    def _discard(self) -> None:
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(self.path) + suffix).unlink()

    def _run(self, action: str, *args: object) -> list[tuple[Any, ...]]:
        """Execute one statement; a damaged database is recreated once and the call retried."""
        for attempt in (1, 2):
            try:
                return self._connection().execute(action, args).fetchall()
            except sqlite3.DatabaseError:
                if attempt == 2:
                    raise
                self._discard()
        return []

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def signals(self, paths: Iterable[str]) -> dict[str, Signals]:
        wanted = list(paths)
        if not wanted:
            return {}
        rows = self._run(
            "SELECT path, hits, last_access FROM access WHERE path IN (SELECT value FROM json_each(?))",
            json.dumps(wanted),
        )
        return {str(path): Signals(int(hits), float(last)) for path, hits, last in rows}

    def all_signals(self) -> dict[str, Signals]:
        """Every entry's signals (for `mem stats` and `mem consolidate`)."""
        rows = self._run("SELECT path, hits, last_access FROM access")
        return {str(path): Signals(int(hits), float(last)) for path, hits, last in rows}

    def record(self, paths: Iterable[str], when: float) -> None:
        """Count one use of each path at `when` (epoch seconds, from the Memory's clock)."""
        for path in dict.fromkeys(paths):
            self._run(
                "INSERT INTO access VALUES (?, 1, ?) ON CONFLICT(path) DO UPDATE SET hits = hits + 1, last_access = ?",
                path,
                when,
                when,
            )

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
