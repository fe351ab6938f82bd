"""A live watcher: keeps a memory root's index current while files change (docs/watch.md).

A watchdog observer reports file events under the root. Events are sorted the way a full
scan would treat the file (`tree.classify_file`): hidden names (`.mem/`, `.git/`, vim's
`.x.md.swp`, our own `.x.md.<pid>.<hex>.tmp`), `_archive/` and anything that is not a `.md`
file (`x.md~`, `4913`, `x.md.tmp`, JetBrains' `x.md___jb_tmp___`) are dropped at once; an
entry file's path is queued. The queue is flushed once no event came for `debounce_ms`, and
at the latest `max_delay_ms` after its first event, so an editor's save (several renames and
writes) or a checkout of hundreds of files is applied as one batch:

- entry paths only: `Index.refresh_paths` (one `lstat` per path, the same hash/parse/problem
  logic as a full refresh); a save costs about a millisecond at any tree size;
- a folder created, deleted or moved, a `.md` file the walk would report as a problem, a
  symlink, more paths than a scan would cost (`FULL_REFRESH_SHARE`), a lost-events overflow,
  the index file replaced by another process, or a retry after a failure: `Index.refresh()`.

While it runs, the watcher is registered as the root's keeper (core/index.py): recalls in
this process ask it to apply what is pending and skip their own scan. It stops vouching for
the index - and recalls scan again - as soon as anything is wrong: the observer thread died,
a flush failed, or not every folder could be watched.

watchdog is imported here only; `mem recall`, `mem add` and `mem --help` never load this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from .barrier import WatcherLock, marker_prefix
from .config import Config
from .errors import ExternalError, InvalidError
from .index import INDEX_FILE, SCHEMA_VERSION, Index, RefreshReport
from .keepers import register_keeper, unregister_keeper
from .paths import ARCHIVE_DIR, STATE_DIR
from .store import file_limit
from .tree import Problem, classify_file

# When more paths are pending than this share of the indexed entries (and at least
# FULL_REFRESH_MIN), one full scan costs about what the per-path updates would, so a scan is
# used (docs/watch.md has the measurements: at 10k entries they break even near 3,000 paths).
FULL_REFRESH_SHARE = 0.3
FULL_REFRESH_MIN = 1000
RETRY_SECONDS = 5.0  # after a failed flush, try again (a full refresh) this long after
# How long a recall waits for its barrier event before it gives up and scans instead. The
# usual wait is about a millisecond; watchdog holds an unpaired move for 0.5 s.
BARRIER_TIMEOUT = 2.0
# What the observer reports. Opened/closed-without-writing events are not asked for: the
# index reads entry files itself, and those reads must not look like changes.
EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]
FOLDER_CHANGES = ("created", "deleted", "moved")
INDEX_DB = f"{STATE_DIR}/{INDEX_FILE}"
CATCH_UP_MARKERS = f"{STATE_DIR}/{marker_prefix(SCHEMA_VERSION)}"  # recalls of this index asking (core/barrier.py)
OVERFLOW_LOGGER = "watchdog.observers"
WATCH_COUNT_ATTEMPTS = 5
INOTIFY_WATCHES = Path("/proc/sys/fs/inotify/max_user_watches")

logger = logging.getLogger("contextree.watch")
logger.addHandler(logging.NullHandler())  # a library: where its warnings go is the application's choice

# watchdog warns when a folder's watch is registered twice - it races its own handling of a
# new folder against the folder's creation event - and then keeps one: harmless, but the
# warning would land in the middle of `mem watch`'s output.
warnings.filterwarnings(
    "ignore", message=r"Callback with id .* already exists", category=RuntimeWarning, module=r"watchdog\."
)


class _StopRaceFilter(logging.Filter):
    """watchdog logs an ERROR when an inotify event arrives while its emitter thread is
    stopping ("queue_events() called when the thread is inactive"); the event is dropped on
    purpose - we are stopping - so the record is noise (it showed on every `mem mcp` exit)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_StopRaceFilter())


@dataclass(frozen=True)
class Flush:
    """One application of pending changes to the index."""

    at: float  # when it finished (epoch seconds)
    by: str  # "start" (the initial scan), "watcher" (debounce) or "recall" (a recall caught up)
    full: bool  # a full refresh (scan) rather than per-path updates
    reason: str  # why a full refresh: "start", "folder", "layout", "many", "overflow", "index replaced", "retry"
    paths: tuple[str, ...]  # the entry paths applied (empty for a full refresh)
    added: int
    updated: int
    removed: int
    ms: float
    entries: int  # entries in the index afterwards
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class WatchStatus:
    root: Path
    running: bool
    current: bool  # the index is kept current: recalls in this process skip the scan
    entries: int
    problems: int
    events: int  # relevant file events seen (entry files, folders)
    flushes: int
    full_refreshes: int
    last_change_at: float | None  # epoch seconds of the last relevant event
    last_change: str | None  # the entry path it concerned (None for a folder)
    last_flush: Flush | None
    error: str | None


FlushCallback = Callable[[Flush], None]
ErrorCallback = Callable[[str], None]


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        # An exception here would end watchdog's dispatch thread: record it instead.
        try:
            self.watcher._on_event(event)
        except Exception as error:
            self.watcher._fail(f"handling a file event failed: {type(error).__name__}: {error}")


class Watcher:
    """Keeps the index of `root` current from file events. `start()`/`stop()`, or `with`."""

    def __init__(
        self,
        root: Path,
        config: Config,
        *,
        on_flush: FlushCallback | None = None,
        on_error: ErrorCallback | None = None,
    ) -> None:
        settings = config.watch
        if settings.debounce_ms < 0 or settings.max_delay_ms < 0:
            raise InvalidError("watch.debounce_ms and watch.max_delay_ms must not be negative")
        self.root = root
        self.debounce = settings.debounce_ms / 1000
        self.max_delay = max(settings.max_delay_ms, settings.debounce_ms) / 1000
        self.index = Index(root, file_limit(config.limits.max_body_bytes))
        self.on_flush = on_flush
        self.on_error = on_error
        self._observer: BaseObserver | None = None
        self._worker: threading.Thread | None = None
        self._cond = threading.Condition()
        self._apply_lock = threading.Lock()  # one flush at a time (worker thread or a recall)
        # Guarded by _cond:
        self._pending: set[str] = set()
        self._full_reason: str | None = None
        self._first_at: float | None = None  # monotonic time of the oldest pending event
        self._last_at = 0.0  # monotonic time of the newest event
        self._running = False
        self._stopping = False
        self._error: str | None = None
        self._fatal = False  # the root itself is gone: no retry can help
        self._failed_at = 0.0
        self._events = 0
        self._flushes = 0
        self._full_refreshes = 0
        self._last_change_at: float | None = None
        self._last_change: str | None = None
        self._last_flush: Flush | None = None
        self._entries = 0
        self._barrier_prefix = f"{STATE_DIR}/watch-barrier-{os.getpid()}-{id(self):x}-"
        # Held while healthy: tells recalls in other processes that they may ask this watcher
        # instead of scanning (core/barrier.py).
        self._vouch = WatcherLock(root, SCHEMA_VERSION)
        self._barrier_sent = 0
        self._barrier_seen = 0

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> Watcher:
        """Watch, index everything once, then keep the index current until `stop()`.

        The observer starts before the initial scan, so nothing that changes meanwhile is
        missed. Raises ExternalError when the root cannot be watched (inotify limits).
        """
        if self._observer is not None:
            raise InvalidError("this watcher is already started")
        observer = Observer()
        try:
            observer.schedule(_Handler(self), str(self.root), recursive=True, event_filter=EVENTS)
            observer.start()
        except OSError as error:
            with contextlib.suppress(Exception):
                observer.stop()
            raise ExternalError(f"cannot watch {self.root}: {_os_error_hint(error)}") from None
        self._observer = observer
        _watching(self, True)
        try:
            missing = _unwatched_folders(self.root, observer)
            if missing:
                raise ExternalError(missing)
            started = time.perf_counter()
            report = self.index.refresh()
            self._record(self._flush_of(report, "start", True, "start", (), started))
        except BaseException:
            self._shutdown_observer()
            _watching(self, False)
            self.index.close()
            raise
        with self._cond:
            self._running = True
        self._worker = threading.Thread(target=self._run, name=f"mem-watch {self.root}", daemon=True)
        self._worker.start()
        register_keeper(self.root, self)
        self._vouch.acquire()
        return self

    def stop(self) -> None:
        """Stop watching: recalls scan again; the observer and the worker are joined."""
        self._vouch.release()
        unregister_keeper(self.root, self)
        with self._cond:
            self._stopping = True
            self._running = False
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join()
            self._worker = None
        self._shutdown_observer()
        _watching(self, False)
        with self._apply_lock:
            self.index.close()

    def _shutdown_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            if observer.is_alive():
                observer.join()

    def __enter__(self) -> Watcher:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # --- health ----------------------------------------------------------------------------

    def alive(self) -> bool:
        """The observer and the worker are running (it may still be recovering from an error)."""
        observer, worker = self._observer, self._worker
        if not self._running or observer is None or worker is None:
            return False
        if not observer.is_alive() or not worker.is_alive():
            return False
        return all(emitter.is_alive() for emitter in observer.emitters)

    @property
    def fatal(self) -> bool:
        """The root itself was deleted or moved away: watching cannot resume."""
        return self._fatal

    def healthy(self) -> bool:
        """Alive, and the last flush worked: the index is what the watcher says it is."""
        return self._error is None and self.alive()

    def status(self) -> WatchStatus:
        with self._cond:
            last = self._last_flush
            return WatchStatus(
                root=self.root,
                running=self.alive(),
                current=self.healthy(),
                entries=self._entries,
                problems=len(last.problems) if last else 0,
                events=self._events,
                flushes=self._flushes,
                full_refreshes=self._full_refreshes,
                last_change_at=self._last_change_at,
                last_change=self._last_change,
                last_flush=last,
                error=self._error or (None if self.alive() or not self._running else "the file observer stopped"),
            )

    # --- the keeper contract (core/index.py) -----------------------------------------------

    def catch_up(self) -> bool:
        """Apply every change made before this call, now (a recall is about to read the index).

        A barrier makes that exact: a file created (and removed) in `.mem/` goes through the
        same inotify queue as every other event, in order, so once the handler has seen it,
        every change that happened before is pending here - and is applied right away.
        """
        if not self.healthy() or not self._barrier():
            return False
        self._flush("recall")  # also when nothing is pending: see _answer_barrier
        return self.healthy()

    def _barrier(self) -> bool:
        with self._cond:
            self._barrier_sent += 1
            number = self._barrier_sent
        marker = self.root / f"{self._barrier_prefix}{number}"
        try:
            marker.touch(exist_ok=False)
            marker.unlink()
        except OSError:
            return False  # .mem/ not writable: cannot prove anything, so scan
        deadline = time.monotonic() + BARRIER_TIMEOUT
        with self._cond:
            while self._barrier_seen < number:
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive():
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    def walk_problems(self) -> tuple[Problem, ...]:
        return self.index.walk_problems

    def touched(self, files: Iterable[Path]) -> None:
        """Files written by this process (EntryFiles.after_write): applied by the next catch-up."""
        for file in files:
            with contextlib.suppress(ValueError):
                self._note_path(file.relative_to(self.root).as_posix(), "created", is_link=False)

    def flush(self) -> Flush | None:
        """Apply what is pending now (None if nothing was)."""
        return self._flush("watcher")

    # --- events ----------------------------------------------------------------------------

    def _on_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        names = [event.src_path, event.dest_path] if kind == "moved" else [event.src_path]
        for name in names:
            if not name:
                continue
            text = os.fsdecode(name)
            try:
                relative = Path(text).relative_to(self.root).as_posix()
            except ValueError:
                continue  # outside the root (the far end of a move)
            if relative.startswith(self._barrier_prefix):
                self._barrier_event(relative)
                continue
            if relative.startswith(CATCH_UP_MARKERS):
                if kind == "created":
                    self._answer_barrier(relative)
                continue
            if relative == ".":
                if kind in ("deleted", "moved"):
                    self._fail(f"the memory root {self.root} was deleted or moved", fatal=True)
                continue
            if relative == INDEX_DB and kind in FOLDER_CHANGES:
                if self.index.is_replaced():
                    # Another process rebuilt the index (`mem reindex --full`) or deleted .mem/.
                    self._request_full("index replaced")
                continue
            if event.is_directory:
                if kind in FOLDER_CHANGES and _visible(relative):
                    self._request_full("folder", relative)
                continue
            self._note_path(relative, kind, is_link=kind in ("created", "moved"))

    def _answer_barrier(self, relative: str) -> None:
        """Another process's recall asks whether the index is current (core/barrier.py):
        every change made before its marker was created has reached this handler by now, so
        apply what is pending and remove the marker - or leave it, and let the recall scan,
        when this watcher cannot vouch for the index."""
        if not self.healthy():
            return
        # Through the flush's lock even when nothing is pending: the worker may have taken the
        # pending changes a moment ago and still be writing them, and the recall must not read
        # the index before they are in it. (_flush returns at once when there is nothing.)
        self._flush("recall")
        if self.healthy():
            with contextlib.suppress(FileNotFoundError):
                (self.root / relative).unlink()

    def _barrier_event(self, relative: str) -> None:
        with contextlib.suppress(ValueError):
            number = int(relative[len(self._barrier_prefix) :])
            with self._cond:
                if number > self._barrier_seen:
                    self._barrier_seen = number
                    self._cond.notify_all()

    def _note_path(self, relative: str, kind: str, *, is_link: bool) -> None:
        what, path = classify_file(relative)
        if what == "entry":
            with self._cond:
                self._pending.add(path)
                self._noted(path)
        elif what == "problem":
            self._request_full("layout", relative)
        elif is_link and _visible(relative) and (self.root / relative).is_symlink():
            self._request_full("layout", relative)  # a symlink the walk reports (not an entry)

    def _request_full(self, reason: str, relative: str | None = None) -> None:
        with self._cond:
            if self._full_reason is None:
                self._full_reason = reason
            self._noted(None if relative is None else relative.removesuffix(".md"))

    def _noted(self, path: str | None) -> None:
        """Book-keeping for an event (called with _cond held)."""
        now = time.monotonic()
        self._events += 1
        self._last_change_at = time.time()
        self._last_change = path
        self._last_at = now
        if self._first_at is None:
            self._first_at = now
            self._cond.notify_all()  # the worker sleeps until something is pending

    def _fail(self, message: str, *, fatal: bool = False) -> None:
        self._vouch.release()  # other processes' recalls scan again until a flush succeeds
        with self._cond:
            if self._fatal:
                return  # the root is gone: what fails after that is only a consequence
            self._error = message
            self._fatal = fatal
            self._failed_at = time.monotonic()
            self._cond.notify_all()
        logger.warning("%s", message)
        if self.on_error is not None:
            self.on_error(message)

    # --- flushing ---------------------------------------------------------------------------

    def _due(self) -> float | None:
        """When the worker should flush next (monotonic), None if nothing is pending."""
        if self._fatal:
            return None
        if self._error is not None:
            return self._failed_at + RETRY_SECONDS
        if self._first_at is None:
            return None
        return min(self._last_at + self.debounce, self._first_at + self.max_delay)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    due = self._due()
                    now = time.monotonic()
                    if due is not None and now >= due:
                        break
                    self._cond.wait(None if due is None else due - now)
                if self._stopping:
                    return
            self._flush("watcher")

    def _flush(self, by: str) -> Flush | None:
        with self._apply_lock:
            if self._stopping:
                return None  # stop() closes the index under this lock: do not reopen it
            with self._cond:
                paths, reason = self._pending, self._full_reason
                self._pending, self._full_reason, self._first_at = set(), None, None
                if self._error is not None and not self._stopping:
                    reason = "retry"  # after a failure only a full scan can be trusted
            if not paths and reason is None:
                return None
            if reason is None and len(paths) > max(FULL_REFRESH_MIN, self._entries * FULL_REFRESH_SHARE):
                reason = "many"
            started = time.perf_counter()
            try:
                if reason is not None:
                    report = self.index.refresh()
                    if reason in ("folder", "overflow", "retry") and self._observer is not None:
                        missing = _unwatched_folders(self.root, self._observer)
                        if missing:
                            raise ExternalError(missing)
                else:
                    report = self.index.refresh_paths(paths)
                flush = self._flush_of(report, by, reason is not None, reason or "", tuple(sorted(paths)), started)
            except Exception as error:
                with self._cond:
                    self._pending |= paths
                    if self._first_at is None and self._pending:
                        self._first_at = time.monotonic()
                if not self.root.is_dir():
                    self._fail(f"the memory root {self.root} was deleted or moved", fatal=True)
                    return None
                message = error.message if isinstance(error, ExternalError) else f"{type(error).__name__}: {error}"
                self._fail(f"the index could not be updated ({message}); recalls scan until it can")
                return None
            with self._cond:
                self._error = None
            if not self._vouch.held and not self._stopping and self.healthy():
                self._vouch.acquire()
            self._record(flush)
            return flush

    def _flush_of(
        self, report: RefreshReport, by: str, full: bool, reason: str, paths: tuple[str, ...], started: float
    ) -> Flush:
        return Flush(
            at=time.time(),
            by=by,
            full=full or report.rebuilt,
            reason=reason,
            paths=() if full else paths,
            added=report.added,
            updated=report.updated,
            removed=report.removed,
            ms=round((time.perf_counter() - started) * 1000, 3),
            entries=self.index.count(),
            problems=report.problems,
        )

    def _record(self, flush: Flush) -> None:
        with self._cond:
            self._flushes += 1
            self._full_refreshes += flush.full
            self._entries = flush.entries
            self._last_flush = flush
        if self.on_flush is not None:
            self.on_flush(flush)


def _visible(relative: str) -> bool:
    """Not hidden anywhere on the way, and not in `_archive/` (what the index never holds)."""
    parts = relative.split("/")
    return parts[0] != ARCHIVE_DIR and not any(part.startswith(".") for part in parts)


# --- inotify: limits and overflow -----------------------------------------------------------------


def _os_error_hint(error: OSError) -> str:
    if error.errno == 28:  # ENOSPC from inotify_add_watch: the per-user watch limit
        return f"the inotify watch limit is reached ({_watch_limit_advice()})"
    if error.errno == 24:  # EMFILE from inotify_init: the per-user instance limit
        return (
            "the inotify instance limit is reached (fs.inotify.max_user_instances); "
            "stop other watchers or raise it with `sudo sysctl fs.inotify.max_user_instances=1024`"
        )
    return error.strerror or str(error)


def _watch_limit_advice() -> str:
    try:
        limit = f"fs.inotify.max_user_watches={int(INOTIFY_WATCHES.read_text())}"
    except (OSError, ValueError):
        limit = "fs.inotify.max_user_watches"
    return f"{limit}; raise it with `sudo sysctl fs.inotify.max_user_watches=524288`"


def _inotify_watch_count() -> int | None:
    """How many inotify watches this process holds (Linux: /proc/self/fdinfo), else None."""
    folder = Path("/proc/self/fdinfo")
    if not folder.is_dir():
        return None
    count = 0
    for info in folder.iterdir():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            count += info.read_text().count("inotify wd:")
    return count


def _unwatched_folders(root: Path, observer: BaseObserver) -> str | None:
    """A message when inotify could not watch every folder under the root, else None.

    watchdog quietly skips a subfolder it cannot watch (the limit is per user, shared with
    every editor and tool); changes there would be missed without a word. This compares the
    watches this process holds with the folders there are (plus those of other watchers here).
    """
    if type(observer).__name__ != "InotifyObserver":
        return None
    # Folders created a moment ago may not be watched yet (watchdog adds their watches as it
    # reads their events): only a shortfall that lasts is a limit.
    for attempt in range(WATCH_COUNT_ATTEMPTS):
        held = _inotify_watch_count()
        if held is None:
            return None
        expected = sum(_folder_count(watcher.root) for watcher in _running_watchers())
        if held >= expected:
            return None
        if attempt < WATCH_COUNT_ATTEMPTS - 1:
            time.sleep(0.2)
    return (
        f"only {held} of the {expected} folders under {root} could be watched: "
        f"the inotify watch limit is reached ({_watch_limit_advice()})"
    )


def _folder_count(root: Path) -> int:
    """Folders under the root, itself included, as watchdog watches them (no symlinks)."""
    count = 1
    for parent, folders, _ in os.walk(root):
        kept = [name for name in folders if not Path(parent, name).is_symlink()]
        count += len(kept)
        folders[:] = kept
    return count


_running: list[Watcher] = []
_running_lock = threading.Lock()


def _running_watchers() -> list[Watcher]:
    with _running_lock:
        return list(_running)


class _OverflowHook(logging.Handler):
    """watchdog handles an inotify queue overflow inside its reader thread and only logs it:
    this turns that log record into a full refresh of every watcher in the process."""

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            for watcher in _running_watchers():
                watcher._request_full("overflow")


_overflow_hook = _OverflowHook(logging.WARNING)


def _watching(watcher: Watcher, on: bool) -> None:
    with _running_lock:
        if on:
            _running.append(watcher)
            source = logging.getLogger(OVERFLOW_LOGGER)
            if _overflow_hook not in source.handlers:
                source.addHandler(_overflow_hook)
                if source.getEffectiveLevel() > logging.WARNING:
                    source.setLevel(logging.WARNING)
        elif watcher in _running:
            _running.remove(watcher)
