"""The search index: SQLite FTS5 in `.mem/index-v<schema>.db`, derived from the files and
nothing else.

The markdown files are the only truth. The index is a cache that any process may delete:
it is brought up to date at the start of every recall by a cheap scan (one `stat` per file;
a content hash only where mtime or size differ), and rebuilt transparently when it is
missing or corrupt. Several processes may read and refresh it at once: the database runs in
WAL mode and refreshes take SQLite's write lock.

Each schema has its own file: two mem versions used on one memory (an agent's MCP server
from one install, the shell's `mem` from another) each keep their own index, where one file
had them rebuild it under each other at every recall. An upgrade builds the new file at its
first recall; the files of other versions (`index.db` before this naming) are left to their
version and removed by `mem reindex --full` and `mem doctor --fix` (`other_versions`).

Tables (all rowids are the same document id):
- `docs`      one row per entry: path, stat fingerprint, content hash, display and ranking
              fields (title, importance, maturity, decay, updated, source)
- `fts`       FTS5 over title, keywords+tags, path words, summary, body (words as written,
              accents removed, CJK as bigrams) for the keyword tier (BM25); its vocabulary
              (`fts_vocab`) is where recall finds the other forms of a query word
              (plural, tense, and at a low weight Porter stems: core/lexicon.py)
- `fuzzy`     FTS5 over title, keywords+tags, path words without stemming; its vocabulary
              (`fuzzy_vocab`) is what the fuzzy tier matches typos against
- `trigram`   FTS5 trigram index of entries written in scripts without spaces that the CJK
              bigram rule does not cover (Thai, Lao, Khmer, ...): the fallback where word
              tokens do not exist
- `names`     the words written with a capital in titles, aliases and bodies; its
              vocabulary (`names_vocab`) is what person names spelt another way are matched
              against (core/names.py)
- `problems`  files that failed to parse, with their stat, so they are not re-read each time

A watcher (core/watch.py) can keep the index current instead: it applies the files that
changed with `refresh_paths`, and while it runs in this process it is registered as the
root's *keeper*, which lets `ensure_current` (what recall calls) skip the scan. The contract
is described in docs/watch.md.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sqlite3
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from . import owndb
from .answers import answer_kinds
from .barrier import request_current
from .dates import Span, entry_days
from .entry import SPEAKER_KEY, SUPERSEDED_BY_KEY, Entry, EntryFormatError, linked_paths, parse_entry_bytes
from .errors import MemError
from .keepers import keepers_of
from .names import capitalised_words, speaker_words
from .paths import ENTRY_SUFFIX, STATE_DIR
from .safeio import (
    StorageError,
    check_database_files,
    database_error,
    is_damage,
    random_token,
    remove_own_database,
    set_aside,
    sqlite_uri,
    state_dir,
)
from .store import body_limit, file_lock, read_bytes_limited
from .text import cjk_to_bigrams, fold, fts_quote, ms_since, needs_trigrams, words
from .tree import EntryWalk, Problem, content_digest, walk_entry_folders

# 13: the dates read in bodies changed (day ranges, "1 to 15 June 2024"): an index of 12 has
# other date rows for the same files, so a new version is built beside it.
# 14: a range written from one date to another ("from 2026-12-14 to 2027-01-04") is one row.
# 15: ... but a date moved from one day to another ("moved the review from A to B") is two.
SCHEMA_VERSION = "15"
INDEX_FILE = f"index-v{SCHEMA_VERSION}.db"
_INDEX_FILES = re.compile(r"index(?:-v\d+)?\.db")  # this and other versions' index files
INDEX_LOCK = "index.lock"
INDEX_APP_ID = 0x6D656D69  # "memi" in the file header: this database is mem's index


def _is_ours(tables: set[str] | None) -> bool:
    """An index written by mem before databases carried its application id, or a database
    with no table at all (nothing in it to lose: what SQLite leaves of a new file)."""
    return tables is not None and (not tables or {"meta", "docs"} <= tables)


def _is_mem_index(path: Path) -> bool:
    """Whether the database at `path` is provably mem's index, of any version: its header
    says so, or its tables do (one written before databases carried the id)."""
    return owndb.application_id(path) == INDEX_APP_ID or _is_ours(owndb.tables(path))


_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    folder TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    hash TEXT NOT NULL,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    summary TEXT NOT NULL,
    importance INTEGER NOT NULL,
    maturity TEXT NOT NULL,
    decay TEXT NOT NULL,
    updated REAL NOT NULL,
    source TEXT,
    superseded_by TEXT,
    flags TEXT NOT NULL DEFAULT '',
    speaker TEXT NOT NULL DEFAULT '',
    answers TEXT NOT NULL DEFAULT ''
);
CREATE INDEX docs_title_key ON docs(title_key);
CREATE INDEX docs_folder ON docs(folder);
CREATE TABLE links(src INTEGER NOT NULL, dst TEXT NOT NULL);
CREATE INDEX links_src ON links(src);
CREATE INDEX links_dst ON links(dst);
-- The days an entry was written (frontmatter created/updated: written = 1) and the dates its
-- body speaks of (written = 0), as proleptic ordinals, both ends included (core/dates.py).
CREATE TABLE dates(doc INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL, written INTEGER NOT NULL);
CREATE INDEX dates_doc ON dates(doc);
CREATE INDEX dates_last ON dates(last);
CREATE TABLE problems(
    file TEXT PRIMARY KEY, folder TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL, message TEXT NOT NULL
);
CREATE INDEX problems_folder ON problems(folder);
CREATE TABLE folders(folder TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);
CREATE VIRTUAL TABLE fts USING fts5(
    title, keywords, path, summary, body, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE fts_vocab USING fts5vocab(fts, 'row');
CREATE VIRTUAL TABLE fuzzy USING fts5(title, keywords, path, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE fuzzy_vocab USING fts5vocab(fuzzy, 'row');
CREATE VIRTUAL TABLE trigram USING fts5(text, tokenize = 'trigram');
CREATE VIRTUAL TABLE names USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE names_vocab USING fts5vocab(names, 'row');
"""


@dataclass(frozen=True)
class RefreshReport:
    """What a refresh found and did."""

    scanned: int
    added: int
    updated: int
    removed: int
    rebuilt: bool  # the index was missing, corrupt or outdated and was built from scratch
    problems: tuple[Problem, ...]
    ms: float

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed


@dataclass(frozen=True)
class DocRow:
    """The ranking and display fields of one indexed entry."""

    id: int
    path: str
    title: str
    summary: str
    importance: int
    maturity: str
    decay: str
    updated: float  # epoch seconds: frontmatter `updated`, else `created`, else file mtime
    source: str | None
    superseded_by: str | None  # set when a newer entry replaced this one (curate, consolidate)
    flags: str  # comma-separated kinds of instruction-like text found in it (core/safety.py)
    speaker: str  # who said it, as folded words (core/names.py, speaker_words); "" for most entries
    answers: str  # the kinds of answer its text holds, comma-separated (core/answers.py); often ""


# The docs columns a DocRow is made of, in its fields' order.
_DOC_ROW_COLUMNS = (
    "id, path, title, summary, importance, maturity, decay, updated, source, superseded_by, flags, speaker, answers"
)

Progress = Callable[[int, int], None]
_Value = TypeVar("_Value")  # what a per-entry cache holds (Index._per_entry)


def path_words(path: str) -> str:
    return path.replace("/", " ").replace("-", " ")


def _timestamp(moment: datetime | None, fallback_ns: int) -> float:
    return moment.timestamp() if moment is not None else fallback_ns / 1e9


class Index:
    """The index of one memory root. Cheap to construct; opens the database lazily."""

    def __init__(self, root: Path, file_limit: int) -> None:
        self.root = root
        self.file_limit = file_limit
        self.max_body_bytes = body_limit(file_limit)  # the body limit of the reads of `memory.files`
        self.state_dir = root / STATE_DIR
        self.db_path = self.state_dir / INDEX_FILE
        self._conn: sqlite3.Connection | None = None
        self._vocabulary: tuple[str, list[str]] | None = None  # (content version, words)
        # Recall's caches that hold while the indexed content stays the same (_content_cache):
        # the content version they were filled at, and each cache by name.
        self._caches: tuple[str, dict[str, dict[Any, Any]]] | None = None
        self._walk_problems_stored: str | None = None
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file _conn has open
        # The layout problems (bad names, wrong depths) found by the last full refresh: they
        # come from the walk, not from the database.
        self.walk_problems: tuple[Problem, ...] = ()
        self.read_only = False  # opened read-only: mem cannot write this memory's `.mem/`
        self.private = False  # a private index in memory, built from the files (read-only memory)

    # --- connection ----------------------------------------------------------------------

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._identity = None

    def _adopt(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        self._conn = conn
        self._identity = _file_identity(self.db_path)
        return conn

    def is_replaced(self) -> bool:
        """The database file was deleted or replaced since this index opened it.

        Another process may run `mem reindex --full` (which recreates the file) or delete
        `.mem/`: a long-lived connection would go on using the old, unlinked file.
        """
        if self.private:
            return False
        return self._conn is not None and _file_identity(self.db_path) != self._identity

    def drop_if_replaced(self) -> bool:
        """Close the connection if the database file was replaced (it reopens on next use)."""
        if not self.is_replaced():
            return False
        self.close()
        return True

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = owndb.connect(self.db_path)
            _configure(conn)
        except sqlite3.Error as error:
            if is_damage(error):
                raise
            raise database_error(self.db_path, error) from None
        return conn

    def _version(self, conn: sqlite3.Connection) -> str | None:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        except sqlite3.OperationalError as error:
            if is_damage(error):
                return None  # empty file or no meta table: a new database
            raise database_error(self.db_path, error) from None
        return row[0] if row else None

    def _build_lock(self) -> contextlib.AbstractContextManager[None]:
        if self.private:
            return contextlib.nullcontext()
        return file_lock(self.state_dir / INDEX_LOCK, 120, "another process building the index")

    def connection(self) -> tuple[sqlite3.Connection, bool]:
        """An open, valid database and whether it had to be created from scratch.

        On a medium mem cannot write (a read-only mount, someone else's checkout), the index
        is opened read-only; `refresh` moves to a private index in memory, built from the
        files, if it needs to write (`use_private`).
        """
        if self._conn is not None:
            return self._conn, False
        try:
            state_dir(self.root)
            writable = os.access(self.state_dir, os.W_OK)
        except StorageError as error:
            if not error.read_only:
                raise
            writable = False
        if not writable:
            return self._open_read_only()
        try:
            if check_database_files(self.db_path):
                # The common case, without the lock: mem's index, of this schema.
                conn = self._open_current()
                if conn is not None:
                    return self._adopt(conn), False
            # Everything else - no file yet, a new empty one, an older schema, damage - is
            # settled under the build lock, so that two threads or processes opening a new
            # memory at once cannot remove a database the other has open (SQLite then loses
            # its journal by name: "disk I/O error").
            with self._build_lock():
                return self._open_or_build()
        except StorageError as error:
            if error.read_only:
                return self._open_read_only()
            raise

    def _open_current(self) -> sqlite3.Connection | None:
        """A connection to the index if the file there is mem's index of this schema, else
        None. The header is read through this connection, not from the file (see
        `owndb.application_id`), and nothing is written before it proved to be mem's."""
        try:
            conn = owndb.connect(self.db_path)
        except sqlite3.Error:
            return None
        try:
            if conn.execute("PRAGMA application_id").fetchone()[0] == INDEX_APP_ID:
                _configure(conn)
                if self._version(conn) == SCHEMA_VERSION:
                    return conn
        except (sqlite3.Error, StorageError):
            pass
        conn.close()
        return None

    def _open_or_build(self) -> tuple[sqlite3.Connection, bool]:
        """Under the build lock: open the index, initialise a new one where it is, or rebuild
        one that is damaged or of another schema."""
        owndb.claim(self.db_path, INDEX_APP_ID, _is_ours)
        try:
            conn = self._connect()
            version = self._version(conn)
            if version == SCHEMA_VERSION:
                return self._adopt(conn), False
            if version is None and not _tables(conn):
                # A new file: initialised where it is, since removing it could remove a file
                # that another connection has open.
                try:
                    self._initialise(conn)
                finally:
                    conn.close()
                return self._adopt(self._connect()), True
            conn.close()
        except sqlite3.DatabaseError as error:
            if not is_damage(error):
                raise database_error(self.db_path, error) from None
            # not a database, or damaged beyond opening: rebuilt below
        self._create()
        return self._adopt(self._connect()), True

    def _open_read_only(self) -> tuple[sqlite3.Connection, bool]:
        self.read_only = True
        conn = owndb.open_read_only(self.db_path, "SELECT value FROM meta WHERE key = 'schema'")
        if conn is not None and self._version(conn) == SCHEMA_VERSION:
            return self._adopt(conn), False
        owndb.close_quietly(conn)
        return self.use_private(), True

    def use_private(self) -> sqlite3.Connection:
        """Switch to a new, empty index in memory (for a memory mem cannot write)."""
        self.close()
        self.read_only = True
        self.private = True
        conn = owndb.in_memory()
        self._initialise(conn)
        self._conn = conn
        return conn

    def _initialise(self, conn: sqlite3.Connection) -> None:
        # One transaction, stamped last: a reader that sees mem's application id in the
        # header sees the tables too.
        with _immediate(conn):
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO meta VALUES ('schema', ?), ('fingerprint', ''), ('version', ?), ('walk_problems', '[]')",
                (SCHEMA_VERSION, random_token(16)),
            )
            owndb.stamp(conn, INDEX_APP_ID)

    def _create(self) -> None:
        """A fresh, empty database in place of whatever was there (called under the build lock).

        What was there is removed only if it is mem's index (its header or its tables say
        so); anything else is set aside under a new name (core/owndb.py)."""
        if check_database_files(self.db_path):
            if _is_mem_index(self.db_path):
                remove_own_database(self.db_path)
            else:
                set_aside(self.db_path)
        conn = self._connect()
        try:
            self._initialise(conn)
        finally:
            conn.close()

    def reset(self) -> None:
        """Drop the index entirely (used for `mem reindex --full` and after corruption)."""
        if self.private:
            self.use_private()
            return
        self.close()
        state_dir(self.root)
        with self._build_lock():
            self._create()

    def other_versions(self) -> list[Path]:
        """The index files of other mem versions in `.mem/` (regular files only)."""
        try:
            paths = sorted(self.state_dir.iterdir())
        except OSError:
            return []
        found = []
        for path in paths:
            if path.name == INDEX_FILE or not _INDEX_FILES.fullmatch(path.name):
                continue
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(path).st_mode):
                    found.append(path)
        return found

    def remove_other_versions(self) -> list[Path]:
        """Remove the other versions' index files that are provably mem's index (caches: a
        version still in use rebuilds its own at its next recall); returns what was removed.
        Anything else with such a name is left alone."""
        removed = []
        with self._build_lock():
            for path in self.other_versions():
                with contextlib.suppress(MemError, OSError, sqlite3.Error):
                    if _is_mem_index(path):
                        remove_own_database(path)
                        removed.append(path)
        return removed

    # --- refresh -------------------------------------------------------------------------

    def ensure_current(self) -> RefreshReport:
        """Make the index current for a query: what recall calls first.

        Without a keeper this is `refresh()` (a stat scan). While a healthy keeper (a watcher
        in this process) is registered for the root, it only asks the keeper to apply what it
        has pending - nothing, usually - and skips the scan: `scanned` is then 0. Whenever the
        keeper cannot vouch for the index (its observer died, a flush failed), this scans.
        """
        keepers = keepers_of(self.root)
        if not keepers:
            started = time.perf_counter()
            if request_current(self.root, SCHEMA_VERSION):  # a watcher in another process vouched for it
                with contextlib.suppress(sqlite3.DatabaseError):
                    conn, created = self.connection()
                    if not created:
                        problems = self._read_walk_problems(conn) + self._stored_problems(conn)
                        return RefreshReport(0, 0, 0, 0, False, problems, ms_since(started))
            return self.refresh()
        started = time.perf_counter()
        for keeper in keepers:
            try:
                current = keeper.catch_up()
            except Exception:  # a broken keeper must never break recall: scan instead
                current = False
            if not current:
                continue
            self.drop_if_replaced()
            try:
                conn, created = self.connection()
                if created:
                    break  # our own connection found no database: build it by scanning
                problems = keeper.walk_problems() + self._stored_problems(conn)
            except sqlite3.DatabaseError:
                break
            return RefreshReport(0, 0, 0, 0, False, problems, ms_since(started))
        return self.refresh()

    def refresh(self, progress: Progress | None = None) -> RefreshReport:
        """Bring the index up to date with the files; rebuild it if it is unusable."""
        started = time.perf_counter()
        self.drop_if_replaced()
        try:
            return self._refresh(started, progress)
        except (sqlite3.DatabaseError, StorageError) as error:
            self._recover(error)
            report = self._refresh(started, progress)
            return RefreshReport(
                report.scanned, report.added, report.updated, report.removed, True, report.problems, report.ms
            )

    def _recover(self, error: sqlite3.DatabaseError | StorageError) -> None:
        """After a failed refresh: start over from the files when the database is damaged
        (corrupt pages show up on use, not on open), or in memory when it cannot be written
        (a read-only medium, a full disk: the file is kept as it is); anything else (an I/O
        error) is reported, and the file kept too."""
        if isinstance(error, sqlite3.DatabaseError) and (is_damage(error) or _is_constraint(error)):
            # A constraint failure means the cache disagrees with itself; the index holds
            # nothing the files do not (usage lives in state.db), so rebuilding loses nothing.
            self.reset()
            return
        failure = error if isinstance(error, StorageError) else database_error(self.db_path, error)
        if failure.read_only or failure.errno == errno.ENOSPC:
            self.use_private()
            return
        raise failure from None

    def _refresh(self, started: float, progress: Progress | None) -> RefreshReport:
        conn, created = self.connection()
        data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        # The highest document id: at least the number of entries indexed, and close to it.
        # It tells the walk whether the tree is large enough to share with a helper process.
        size_hint = conn.execute("SELECT max(id) FROM docs").fetchone()[0] or 0
        walk = walk_entry_folders(self.root, expected_files=size_hint)
        stored = conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
        if stored and stored[0] == walk.fingerprint() and not created:
            self._store_walk_problems(conn, walk.problems)
            self.walk_problems = walk.problems
            problems = walk.problems + self._stored_problems(conn)
            return RefreshReport(walk.files, 0, 0, 0, False, problems, ms_since(started))

        with _immediate(conn):
            if conn.execute("PRAGMA data_version").fetchone()[0] != data_version:
                # Another connection committed between our walk and our lock - a watcher that
                # applied a change it saw after we walked: walk again, or we would undo it
                # from an older view of the files.
                walk = walk_entry_folders(self.root, expected_files=size_hint)
            counts = self._refresh_folders(conn, walk, progress)
            # After the refresh: the folders it listed again may have changed meanwhile.
            conn.execute("UPDATE meta SET value = ? WHERE key = 'fingerprint'", (walk.fingerprint(),))
            self._store_walk_problems(conn, walk.problems)
            if counts["added"] or counts["updated"] or counts["removed"] or created:
                _new_version(conn)
        self.walk_problems = walk.problems
        problems = walk.problems + self._stored_problems(conn)
        return RefreshReport(
            walk.files, counts["added"], counts["updated"], counts["removed"], created, problems, ms_since(started)
        )

    def _refresh_folders(self, conn: sqlite3.Connection, walk: EntryWalk, progress: Progress | None) -> Counter[str]:
        """Inside the write transaction: re-index the files of the folders whose fingerprint
        changed and drop what vanished. Returns the outcomes of _index_file (added, updated,
        removed, touched)."""
        counts: Counter[str] = Counter()
        # Only folders whose files changed are compared file by file: one edited entry in
        # a 100k-entry tree costs a lookup of its folder, not of every row.
        stored_folders = dict(conn.execute("SELECT folder, fingerprint FROM folders").fetchall())
        changed = [folder for folder, value in walk.prints.items() if stored_folders.get(folder) != value]
        vanished = [folder for folder in stored_folders if folder not in walk.prints]
        examined = _json_list(changed + vanished)
        known = {
            path: (doc_id, mtime, size, digest)
            for doc_id, path, mtime, size, digest in conn.execute(
                "SELECT id, path, mtime_ns, size, hash FROM docs WHERE folder IN (SELECT value FROM json_each(?))",
                (examined,),
            )
        }
        failed = {
            file: (mtime, size)
            for file, mtime, size in conn.execute(
                "SELECT file, mtime_ns, size FROM problems WHERE folder IN (SELECT value FROM json_each(?))",
                (examined,),
            )
        }
        to_check = [record for folder in changed for record in walk.records(folder)]
        seen: set[str] = set()
        total = len(to_check)
        for done, (path, mtime_ns, size) in enumerate(to_check, 1):
            seen.add(path)
            if progress is not None and (done % 500 == 0 or done == total):
                progress(done, total)
            previous = known.get(path)
            if previous is not None and previous[1] == mtime_ns and previous[2] == size:
                continue
            if previous is None and failed.get(path + ENTRY_SUFFIX) == (mtime_ns, size):
                continue  # still the same broken file
            outcome = self._index_file(conn, path, mtime_ns, size, previous, had_problem=path + ENTRY_SUFFIX in failed)
            counts[outcome] += 1
        for path, (doc_id, *_rest) in known.items():
            if path not in seen:
                self._delete(conn, doc_id)
                counts["removed"] += 1
        for file in failed:
            if file[: -len(ENTRY_SUFFIX)] not in seen:
                conn.execute("DELETE FROM problems WHERE file = ?", (file,))
        # A changed folder listed again (EntryWalk.records) may have emptied in between.
        kept = [(folder, walk.prints[folder]) for folder in changed if folder in walk.prints]
        emptied = [folder for folder in changed if folder not in walk.prints]
        conn.executemany("INSERT OR REPLACE INTO folders VALUES (?, ?)", kept)
        conn.executemany("DELETE FROM folders WHERE folder = ?", [(folder,) for folder in vanished + emptied])
        return counts

    def refresh_paths(self, paths: Iterable[str]) -> RefreshReport:
        """Bring just these entry paths up to date: files that changed, appeared or vanished.

        The per-file logic is `refresh()`'s (stat, hash, parse, problems) without the walk, so
        it costs one `lstat` per path however large the tree is. The stored fingerprint is
        cleared, so the next full `refresh()` (of any process) compares every file once more
        instead of trusting it. Falls back to a full refresh when the database is new or
        damaged, or when a path is something only a walk can judge (a symlink, a folder on
        the way that is a symlink, a file that is not regular): those are reported as layout
        problems. `scanned` is the number of paths checked.
        """
        started = time.perf_counter()
        wanted = sorted(set(paths))
        if self.drop_if_replaced():
            # Rebuilt by another process (`mem reindex --full`): changes applied to the old
            # file since its walk would be missing from the new one.
            return self.refresh()
        try:
            report = self._refresh_paths(started, wanted)
        except sqlite3.DatabaseError as error:
            if not is_damage(error):
                raise database_error(self.db_path, error) from None
            report = None  # refresh() resets a damaged database and rebuilds it
        return report if report is not None else self.refresh()

    def _refresh_paths(self, started: float, paths: list[str]) -> RefreshReport | None:
        conn, created = self.connection()
        if created:
            return None
        try:
            with _immediate(conn):
                counts = self._index_paths(conn, paths)
        except _NeedsWalk:
            return None  # rolled back: the caller refreshes with a walk
        problems = self.walk_problems + self._stored_problems(conn)
        return RefreshReport(
            len(paths), counts["added"], counts["updated"], counts["removed"], False, problems, ms_since(started)
        )

    def _index_paths(self, conn: sqlite3.Connection, paths: list[str]) -> Counter[str]:
        """Inside the write transaction: re-index these entry paths (or drop them where the
        file is gone). Raises _NeedsWalk where only a walk can tell what a path is."""
        counts: Counter[str] = Counter()  # outcomes of _index_file: added, updated, removed, touched
        wrote = False
        folders: dict[str, str] = {}
        known = {
            path: (doc_id, mtime, size, digest)
            for doc_id, path, mtime, size, digest in conn.execute(
                "SELECT id, path, mtime_ns, size, hash FROM docs WHERE path IN (SELECT value FROM json_each(?))",
                (_json_list(paths),),
            )
        }
        # Documents in id order, as a full refresh meets them: updating the full-text
        # tables in rowid order touches far fewer pages than in path order (2x at 1000).
        ordered = sorted(paths, key=lambda path: known[path][0] if path in known else 1 << 62)
        for path in ordered:
            folder = path.rpartition("/")[0]
            if folder not in folders:
                folders[folder] = self._folder_state(folder)
            if folders[folder] == "odd":
                raise _NeedsWalk
            info: os.stat_result | None = None
            if folders[folder] == "ok":
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    info = os.lstat(self.root / (path + ENTRY_SUFFIX))
            if info is not None and not stat.S_ISREG(info.st_mode):
                raise _NeedsWalk
            previous = known.get(path)
            if info is None:
                if previous is not None:
                    self._delete(conn, previous[0])
                    counts["removed"] += 1
                gone = conn.execute("DELETE FROM problems WHERE file = ?", (path + ENTRY_SUFFIX,))
                wrote |= gone.rowcount > 0
                continue
            mtime_ns, size = info.st_mtime_ns, info.st_size
            if previous is not None and previous[1] == mtime_ns and previous[2] == size:
                continue
            if previous is None:
                failed = conn.execute(
                    "SELECT mtime_ns, size FROM problems WHERE file = ?", (path + ENTRY_SUFFIX,)
                ).fetchone()
                if failed is not None and tuple(failed) == (mtime_ns, size):
                    continue  # still the same broken file
            outcome = self._index_file(conn, path, mtime_ns, size, previous)
            wrote = True
            counts[outcome] += 1
        if wrote or counts["removed"]:
            conn.execute("UPDATE meta SET value = '' WHERE key = 'fingerprint'")
            # The next full refresh must compare these folders' files again.
            conn.executemany("INSERT OR REPLACE INTO folders VALUES (?, '')", [(folder,) for folder in folders])
        if counts["added"] or counts["updated"] or counts["removed"]:
            _new_version(conn)
        return counts

    def _folder_state(self, folder: str) -> str:
        """'ok' (real folders all the way), 'missing' (a folder on the way is gone) or 'odd'
        (a symlink or something else a walk would report, or not follow)."""
        current = self.root
        for part in folder.split("/"):
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except (FileNotFoundError, NotADirectoryError):
                return "missing"
            if stat.S_ISLNK(mode):
                return "odd"
            if not stat.S_ISDIR(mode):
                return "missing"
        return "ok"

    def _store_walk_problems(self, conn: sqlite3.Connection, problems: tuple[Problem, ...]) -> None:
        """Keep the layout problems of the last walk where other processes can read them (a
        recall that a watcher vouched for does not walk)."""
        value = json.dumps([[problem.file, problem.message] for problem in problems])
        if value == self._walk_problems_stored:
            return
        # Compared with what is stored, not just written: a recall that finds nothing changed
        # must not write (a write makes SQLite checkpoint, with an fsync, when it closes).
        row = conn.execute("SELECT value FROM meta WHERE key = 'walk_problems'").fetchone()
        if row is None or row[0] != value:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'walk_problems'", (value,))
        self._walk_problems_stored = value

    def _read_walk_problems(self, conn: sqlite3.Connection) -> tuple[Problem, ...]:
        row = conn.execute("SELECT value FROM meta WHERE key = 'walk_problems'").fetchone()
        return tuple(Problem(file, message) for file, message in json.loads(row[0])) if row else ()

    def _stored_problems(self, conn: sqlite3.Connection) -> tuple[Problem, ...]:
        return tuple(
            Problem(file, message) for file, message in conn.execute("SELECT file, message FROM problems ORDER BY file")
        )

    def _index_file(
        self,
        conn: sqlite3.Connection,
        path: str,
        mtime_ns: int,
        size: int,
        previous: tuple[int, int, int, str] | None,
        *,
        had_problem: bool = True,
    ) -> str:
        """(Re)index one file; returns 'added', 'updated', 'removed' (now broken) or 'touched'.

        `had_problem=False` when the caller knows no problem is recorded for the file (saves a
        statement per file when the whole tree is indexed)."""
        file = self.root / (path + ENTRY_SUFFIX)
        try:
            data = read_bytes_limited(file, self.file_limit)
        except MemError as error:
            return self._record_problem(conn, path, mtime_ns, size, error.message, previous)
        digest = content_digest(data)
        if previous is not None and previous[3] == digest:
            # Touched but not changed (git checkout, an editor saving without edits).
            conn.execute("UPDATE docs SET mtime_ns = ?, size = ? WHERE id = ?", (mtime_ns, size, previous[0]))
            return "touched"
        try:
            entry = parse_entry_bytes(path, data, where=path, max_body_bytes=self.max_body_bytes)
        except EntryFormatError as error:
            return self._record_problem(conn, path, mtime_ns, size, "; ".join(error.problems), previous)
        except MemError as error:
            return self._record_problem(conn, path, mtime_ns, size, error.message, previous)
        if had_problem:
            conn.execute("DELETE FROM problems WHERE file = ?", (path + ENTRY_SUFFIX,))
        if previous is not None:
            self._delete(conn, previous[0])
        from .safety import find_injection, iter_kinds  # only when a file is (re)indexed

        text = data.decode("utf-8")  # known good: parse_entry_bytes decoded it
        flags = ",".join(iter_kinds(find_injection(text)))
        self._insert(conn, entry, mtime_ns, size, digest, flags, doc_id=previous[0] if previous else None)
        return "updated" if previous is not None else "added"

    def _record_problem(
        self,
        conn: sqlite3.Connection,
        path: str,
        mtime_ns: int,
        size: int,
        message: str,
        previous: tuple[int, int, int, str] | None,
    ) -> str:
        where = path + ENTRY_SUFFIX
        message = message.removeprefix(f"{path}: ").removeprefix(f"{self.root / where}: ")
        conn.execute(
            "INSERT OR REPLACE INTO problems VALUES (?, ?, ?, ?, ?)", (where, _folder(path), mtime_ns, size, message)
        )
        if previous is not None:
            self._delete(conn, previous[0])
            return "removed"
        return "touched"

    def _insert(
        self,
        conn: sqlite3.Connection,
        entry: Entry,
        mtime_ns: int,
        size: int,
        digest: str,
        flags: str,
        doc_id: int | None,
    ) -> None:
        keywords = " ".join((*entry.keywords, *entry.tags))
        updated = _timestamp(entry.updated or entry.created, mtime_ns)
        cursor = conn.execute(
            "INSERT INTO docs (id, path, folder, mtime_ns, size, hash, title, title_key, summary, importance, maturity,"
            " decay, updated, source, superseded_by, flags, speaker, answers)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc_id,
                entry.path,
                _folder(entry.path),
                mtime_ns,
                size,
                digest,
                entry.title,
                entry.title.casefold(),
                entry.summary,
                entry.importance,
                entry.maturity,
                entry.decay,
                updated,
                entry.source,
                _superseded_by(entry),
                flags,
                speaker_words(_speaker(entry), entry.body),
                answer_kinds(entry.body),
            ),
        )
        rowid = cursor.lastrowid
        words_of_path = path_words(entry.path)
        # Other names of the entry's subject (`aliases:` in the frontmatter) are searched like
        # its title: a person's nickname, a service's old name, an abbreviation.
        named = " ".join((entry.title, *aliases(entry)))
        conn.execute(
            "INSERT INTO fts (rowid, title, keywords, path, summary, body) VALUES (?, ?, ?, ?, ?, ?)",
            (
                rowid,
                cjk_to_bigrams(named),
                cjk_to_bigrams(keywords),
                words_of_path,
                cjk_to_bigrams(entry.summary),
                cjk_to_bigrams(entry.body),
            ),
        )
        conn.execute(
            "INSERT INTO fuzzy (rowid, title, keywords, path) VALUES (?, ?, ?, ?)",
            (rowid, cjk_to_bigrams(named), cjk_to_bigrams(keywords), words_of_path),
        )
        for target in links_of(entry):
            conn.execute("INSERT INTO links (src, dst) VALUES (?, ?)", (rowid, target))
        conn.executemany(
            "INSERT INTO dates (doc, first, last, written) VALUES (?, ?, ?, ?)",
            [(rowid, first, last, written) for first, last, written in entry_days(entry)],
        )
        # What may be a person's name: the words written with a capital (core/names.py).
        capitalised = capitalised_words(f"{named}\n{entry.body}")
        if capitalised:
            conn.execute("INSERT INTO names (rowid, text) VALUES (?, ?)", (rowid, " ".join(capitalised)))
        text = f"{entry.title}\n{entry.summary}\n{keywords}\n{entry.body}"
        if needs_trigrams(text):
            conn.execute("INSERT INTO trigram (rowid, text) VALUES (?, ?)", (rowid, fold(text)))

    def _delete(self, conn: sqlite3.Connection, doc_id: int) -> None:
        for table in ("fts", "fuzzy", "trigram", "names"):
            conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (doc_id,))
        conn.execute("DELETE FROM links WHERE src = ?", (doc_id,))
        conn.execute("DELETE FROM dates WHERE doc = ?", (doc_id,))
        conn.execute("DELETE FROM docs WHERE id = ?", (doc_id,))

    def snapshot(self) -> dict[str, str] | None:
        """Indexed path -> content hash, read without creating, refreshing or repairing
        anything (for `mem doctor`); None when there is no usable index yet."""
        try:
            if not check_database_files(self.db_path):
                return None
        except MemError:
            return None
        try:
            conn = sqlite3.connect(sqlite_uri(self.db_path, read_only=True), uri=True, timeout=30)
            try:
                if self._version(conn) != SCHEMA_VERSION:
                    return None
                return dict(conn.execute("SELECT path, hash FROM docs").fetchall())
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            return None

    # --- queries -------------------------------------------------------------------------

    def word_forms(self) -> dict[str, dict[str, float]]:
        """A cache for recall: query word -> the indexed words that are its forms. Kept while
        the indexed content stays the same (a long-running process asks the same words often)."""
        return self._content_cache("forms")

    def _content_cache(self, name: str) -> dict[Any, Any]:
        """The cache `name`, emptied with all the others whenever the indexed content changes
        (one version read per call)."""
        version = self.version()
        if self._caches is None or self._caches[0] != version:
            self._caches = (version, {})
        return self._caches[1].setdefault(name, {})

    def version(self) -> str:
        """Changes whenever the indexed content changes (keys caches of LLM answers)."""
        conn, _ = self.connection()
        return str(conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])

    def count(self) -> int:
        conn, _ = self.connection()
        return int(conn.execute("SELECT count(*) FROM docs").fetchone()[0])

    def docs(self, ids: Iterable[int]) -> dict[int, DocRow]:
        """The rows of the entries `ids` that are indexed. Kept while the indexed content stays
        the same, like `about_words`: a recall in a scope of 1,000 entries reads every row, and
        making them was a sixth of its time."""
        query = f"SELECT {_DOC_ROW_COLUMNS} FROM docs WHERE id IN (SELECT value FROM json_each(?))"
        return self._per_entry("docs", ids, query, lambda row: DocRow(*row))

    def all_docs(self) -> list[DocRow]:
        """Every indexed entry's row (the session-start briefing ranks them)."""
        conn, _ = self.connection()
        rows = conn.execute(f"SELECT {_DOC_ROW_COLUMNS} FROM docs")
        return [DocRow(*row) for row in rows]

    @staticmethod
    def _scoped(table: str, columns: str, scope: str) -> tuple[str, list[str]]:
        """`SELECT columns FROM table WHERE table MATCH ?`, restricted to a folder or entry.

        The restriction is a join on `docs`, not `rowid IN (...)`: FTS5 would turn an IN list
        into one full-text query per rowid (30x slower on a 3k-entry scope).
        """
        if not scope:
            return f"SELECT {columns} FROM {table} WHERE {table} MATCH ?", []
        return (
            f"SELECT {columns} FROM {table} JOIN docs ON docs.id = {table}.rowid "
            f"WHERE {table} MATCH ? AND (docs.path = ? OR docs.path GLOB ?)",
            [scope, scope + "/*"],
        )

    @staticmethod
    def _scope_condition(scope: str) -> tuple[str, list[str]]:
        if not scope:
            return "", []
        return " AND (path = ? OR path GLOB ?)", [scope, scope + "/*"]

    def find_path(self, path: str, scope: str) -> list[int]:
        """Exact path, else the entries whose path starts with it at a segment or word boundary."""
        conn, _ = self.connection()
        exact = conn.execute("SELECT id FROM docs WHERE path = ?", (path,)).fetchall()
        if exact:
            return [exact[0][0]]
        condition, args = self._scope_condition(scope)
        rows = conn.execute(
            "SELECT id FROM docs WHERE path GLOB ?" + condition + " ORDER BY path LIMIT 2",
            [path.replace("[", "[[]") + "*", *args],
        ).fetchall()
        return [row[0] for row in rows]

    def find_title(self, title: str, scope: str) -> list[int]:
        conn, _ = self.connection()
        condition, args = self._scope_condition(scope)
        rows = conn.execute(
            "SELECT id FROM docs WHERE title_key = ?" + condition + " LIMIT 2", [title.casefold(), *args]
        ).fetchall()
        return [row[0] for row in rows]

    def bm25(
        self, terms: list[str], weights: tuple[float, ...], scope: str, limit: int, spans: Sequence[Span] = ()
    ) -> list[tuple[int, float]]:
        """Top documents for any of the terms by weighted BM25 (higher is better); with
        `spans`, among the documents with a date in one of them (core/dates.py)."""
        if not terms:
            return []
        conn, _ = self.connection()
        weight_args = ", ".join(f"{float(w):.6f}" for w in weights)
        sql, args = self._scoped("fts", f"fts.rowid, bm25(fts, {weight_args}) AS rank", scope)
        dated: list[object] = []
        if spans:
            condition, dated = _days_condition(spans)
            sql = sql.replace(
                " WHERE ",
                f" JOIN (SELECT DISTINCT doc FROM dates WHERE {condition}) AS dated ON dated.doc = fts.rowid WHERE ",
                1,
            )
        rows = conn.execute(
            sql + " ORDER BY rank LIMIT ?", [*dated, " OR ".join(fts_quote(term) for term in terms), *args, limit]
        ).fetchall()
        return [(row[0], -row[1]) for row in rows]

    def has_dates(self, spans: Sequence[Span], scope: str) -> bool:
        """Whether any entry in scope was written in, or speaks of, one of these spans."""
        conn, _ = self.connection()
        condition, args = _days_condition(spans)
        scoped, scope_args = self._scope_condition(scope)
        row = conn.execute(
            f"SELECT 1 FROM dates JOIN docs ON docs.id = dates.doc WHERE ({condition}){scoped} LIMIT 1",
            [*args, *scope_args],
        ).fetchone()
        return row is not None

    def dated_days(self, spans: Sequence[Span], scope: str, limit: int) -> list[tuple[int, int]]:
        """The entries in scope written in, or speaking of, one of these spans, as (doc id,
        day ordinal), the newest first: the day is the latest of the entry's days in the
        asked time (clipped to its end). Without spans: every entry, by when it was last
        written. A question about nothing but a time lists these (core/recall.py)."""
        conn, _ = self.connection()
        if spans:
            condition, args = _days_condition(spans)
            fixed = [span.last.toordinal() for span in spans if not span.yearly]
            end = max(fixed) if fixed and len(fixed) == len(spans) else date.max.toordinal()
        else:
            condition, args, end = "written = 1", [], date.max.toordinal()
        scoped, scope_args = self._scope_condition(scope)
        rows = conn.execute(
            f"SELECT doc, MAX(MIN(last, ?)) AS day FROM dates JOIN docs ON docs.id = dates.doc"
            f" WHERE ({condition}){scoped} GROUP BY doc ORDER BY day DESC, MAX(docs.updated) DESC, path LIMIT ?",
            [end, *args, *scope_args, limit],
        ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def words_starting(self, prefix: str) -> list[str]:
        """The indexed words (any field) that begin with `prefix`, sorted."""
        conn, _ = self.connection()
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return [
            row[0] for row in conn.execute("SELECT term FROM fts_vocab WHERE term >= ? AND term < ?", (prefix, upper))
        ]

    def neighbours(self, ids: Iterable[int], scope: str) -> dict[int, set[int]]:
        """For each document, the indexed documents it links to or that link to it (within
        `scope`), both ways: a link says the two belong together."""
        conn, _ = self.connection()
        wanted = _json_list(ids)
        condition, args = self._scope_condition(scope)
        condition = condition.replace("path", "other.path")
        found: dict[int, set[int]] = {}
        forward = (
            "SELECT links.src, other.id FROM links JOIN docs AS other ON other.path = links.dst"
            " WHERE links.src IN (SELECT value FROM json_each(?))" + condition
        )
        backward = (
            "SELECT mine.id, other.id FROM docs AS mine JOIN links ON links.dst = mine.path"
            " JOIN docs AS other ON other.id = links.src WHERE mine.id IN (SELECT value FROM json_each(?))" + condition
        )
        for sql in (forward, backward):
            for doc_id, other in conn.execute(sql, [wanted, *args]):
                if other != doc_id:
                    found.setdefault(doc_id, set()).add(other)
        return found

    def dates(self, ids: Iterable[int]) -> dict[int, list[tuple[int, int, bool]]]:
        """For each document, its days as (first, last, written) ordinals: written for the
        frontmatter's created/updated, not for a date its body speaks of."""
        conn, _ = self.connection()
        found: dict[int, list[tuple[int, int, bool]]] = {}
        rows = conn.execute(
            "SELECT doc, first, last, written FROM dates WHERE doc IN (SELECT value FROM json_each(?))",
            (_json_list(ids),),
        )
        for doc_id, first, last, written in rows:
            found.setdefault(doc_id, []).append((first, last, bool(written)))
        return found

    def term_documents(self, terms: list[str], scope: str) -> dict[str, set[int]]:
        """For each term, the documents that contain it anywhere (as a whole word)."""
        conn, _ = self.connection()
        sql, args = self._scoped("fts", "fts.rowid", scope)
        return {term: {row[0] for row in conn.execute(sql, [fts_quote(term), *args])} for term in terms}

    def texts(self, ids: Iterable[int]) -> dict[int, str]:
        """The indexed text of each entry: title and aliases, keywords and tags, summary, body."""
        conn, _ = self.connection()
        rows = conn.execute(
            "SELECT rowid, title, keywords, summary, body FROM fts WHERE rowid IN (SELECT value FROM json_each(?))",
            (_json_list(ids),),
        )
        return {row[0]: "\n".join(row[1:]) for row in rows}

    def document_counts(self, terms: Iterable[str]) -> dict[str, int]:
        """How many entries of the whole index contain each term (one query, no scope)."""
        conn, _ = self.connection()
        rows = conn.execute(
            "SELECT term, doc FROM fts_vocab WHERE term IN (SELECT value FROM json_each(?))", (_json_list(terms),)
        )
        return {row[0]: int(row[1]) for row in rows}

    def about_words(self, ids: Iterable[int]) -> dict[int, set[str]]:
        """The words of the fields that say what each entry is about (title and aliases,
        keywords and tags, path), as the index tokenizes them. Read for a recall's candidates
        only: cheaper than asking the index which of all entries have a word there. Kept while
        the indexed content stays the same, like `word_forms`: a recall re-ranks up to every
        entry of a small scope, and cutting their titles into words was most of its time."""
        query = "SELECT rowid, title, keywords, path FROM fuzzy WHERE rowid IN (SELECT value FROM json_each(?))"
        return self._per_entry("about", ids, query, lambda row: set(words(" ".join(row[1:]))))

    def _per_entry(
        self, cache: str, ids: Iterable[int], query: str, make: Callable[[tuple[Any, ...]], _Value]
    ) -> dict[int, _Value]:
        """What `make` makes of each entry's row, read with `query` (its one parameter the
        JSON list of ids, each row's first column the id) for the ids not yet in the content
        cache `cache`; the ids the index lacks are left out."""
        known: dict[int, _Value] = self._content_cache(cache)
        wanted = list(ids)
        missing = [doc_id for doc_id in wanted if doc_id not in known]
        if missing:
            conn, _ = self.connection()
            known.update((row[0], make(row)) for row in conn.execute(query, (_json_list(missing),)))
        return {doc_id: known[doc_id] for doc_id in wanted if doc_id in known}

    def trigram_search(self, fragments: list[str], scope: str, limit: int) -> list[tuple[int, float]]:
        """Documents containing all fragments (>= 3 characters each) as substrings."""
        usable = [fold(fragment) for fragment in fragments if len(fragment) >= 3]
        if not usable:
            return []
        conn, _ = self.connection()
        sql, args = self._scoped("trigram", "trigram.rowid, bm25(trigram) AS rank", scope)
        rows = conn.execute(
            sql + " ORDER BY rank LIMIT ?", [" AND ".join(fts_quote(fragment) for fragment in usable), *args, limit]
        ).fetchall()
        return [(row[0], -row[1]) for row in rows]

    def fuzzy_vocabulary(self, initials: Iterable[str] = ()) -> list[str]:
        """Words of titles, keywords, tags and paths; only those starting with one of
        `initials` when given (a typo rarely changes the first letter, and reading a slice of
        the vocabulary is much cheaper than reading all of it)."""
        conn, _ = self.connection()
        wanted = sorted(set(initials))
        if not wanted:
            # The whole vocabulary is worth keeping for a long-running process (MCP server):
            # it is reused until the indexed content changes.
            version = self.version()
            if self._vocabulary is None or self._vocabulary[0] != version:
                self._vocabulary = (version, [row[0] for row in conn.execute("SELECT term FROM fuzzy_vocab")])
            return self._vocabulary[1]
        words: list[str] = []
        for initial in wanted:
            upper = initial[:-1] + chr(ord(initial[-1]) + 1)
            words += [
                row[0]
                for row in conn.execute("SELECT term FROM fuzzy_vocab WHERE term >= ? AND term < ?", (initial, upper))
            ]
        return words

    def name_vocabulary(self) -> list[str]:
        """The words written with a capital in titles, aliases and bodies (what may be names),
        kept until the indexed content changes."""
        return self._name_words()[0]

    def writes_capitalised(self, word: str) -> bool:
        """Whether the memory writes this (folded) word with a capital somewhere."""
        return word in self._name_words()[1]

    def _name_words(self) -> tuple[list[str], frozenset[str]]:
        cache = self._content_cache("names")
        if "words" not in cache:
            conn, _ = self.connection()
            words = [row[0] for row in conn.execute("SELECT term FROM names_vocab")]
            cache["words"], cache["set"] = words, frozenset(words)
        return cache["words"], cache["set"]

    def total_documents(self, scope: str) -> int:
        conn, _ = self.connection()
        condition, args = self._scope_condition(scope)
        return int(conn.execute("SELECT count(*) FROM docs WHERE 1" + condition, args).fetchone()[0])


def links_of(entry: Entry) -> tuple[str, ...]:
    """The entries this one names explicitly: `related`, what it supersedes or is superseded
    by, and the turn of a conversation it answers (recall lets relevance flow along them;
    docs/recall.md)."""
    return tuple(target for target in linked_paths(entry) if target != entry.path)


def aliases(entry: Entry) -> tuple[str, ...]:
    """The `aliases:` frontmatter value: a list of names, or one name."""
    value = entry.extra.get("aliases")
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(str(item) for item in items if isinstance(item, str | int) and not isinstance(item, bool))


def _speaker(entry: Entry) -> str | None:
    value = entry.extra.get(SPEAKER_KEY)
    return value if isinstance(value, str) else None


def _superseded_by(entry: Entry) -> str | None:
    successor = entry.extra.get(SUPERSEDED_BY_KEY)
    return str(successor) if successor else None


class _NeedsWalk(Exception):
    """A path refresh met something only a walk handles (a symlink, a special file)."""


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # a cache: durability of the last commit is not needed


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@contextlib.contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at once (BEGIN IMMEDIATE: writers queue here, not at
    their first write): committed at the end, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _new_version(conn: sqlite3.Connection) -> None:
    """Mark the content changed: readers drop what they cached from it (the vocabulary)."""
    conn.execute("UPDATE meta SET value = ? WHERE key = 'version'", (random_token(16),))


def _folder(path: str) -> str:
    return path.rpartition("/")[0]


def _file_identity(file: Path) -> tuple[int, int] | None:
    try:
        info = file.lstat()
    except OSError:
        return None
    return info.st_dev, info.st_ino


# A day's ordinal (core/dates.py) plus this is its Julian day: SQLite's date functions read it.
_ORDINAL_TO_JULIAN = 1721424.5


def _days_condition(spans: Sequence[Span]) -> tuple[str, list[object]]:
    """SQL over the `dates` table: a row overlaps one of the spans. A yearly span ("in June")
    compares month and day: a row overlaps it when one of the row's ends is in it, or when the
    row holds its first day ("on December 20" and a freeze from 12-14 to 01-04, across the new
    year); a row of a year or more overlaps it in any case."""
    parts: list[str] = []
    args: list[object] = []
    for span in spans:
        if span.yearly:
            low, high = f"{span.first:%m-%d}", f"{span.last:%m-%d}"
            # A winter ("in the winter": 12-01 to 02-29) wraps around the new year.
            inside = "BETWEEN ? AND ?" if low <= high else ">= ? OR {0} <= ?"
            first_day = f"strftime('%m-%d', first + {_ORDINAL_TO_JULIAN})"
            last_day = f"strftime('%m-%d', last + {_ORDINAL_TO_JULIAN})"
            holds = f"(CASE WHEN {first_day} <= {last_day} THEN ? BETWEEN {first_day} AND {last_day}"
            holds += f" ELSE (? >= {first_day} OR ? <= {last_day}) END)"
            parts.append(
                f"(last - first >= 365 OR {first_day} {inside.format(first_day)}"
                f" OR {last_day} {inside.format(last_day)} OR {holds})"
            )
            args.extend((low, high, low, high, low, low, low))
        else:
            parts.append("(first <= ? AND last >= ?)")
            args.extend((span.last.toordinal(), span.first.toordinal()))
    return " OR ".join(parts) or "0", args


def _json_list(values: Iterable[object]) -> str:
    return json.dumps(list(values))


def _is_constraint(error: sqlite3.DatabaseError) -> bool:
    """SQLITE_CONSTRAINT (19), any extended code: a UNIQUE or CHECK the index's rows broke."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == 19  # SQLite's primary result code
