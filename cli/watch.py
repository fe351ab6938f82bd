"""`mem watch`: keep the search index current while files change, until Ctrl-C (docs/watch.md).

Output depends on where it goes:
- a terminal: one live status line (rich), redrawn only when something happens, so an idle
  watcher draws nothing and costs nothing;
- a pipe or a file: one plain line per change, flushed at once (logs, `tee`, supervisors);
- `--json`: JSON Lines, one envelope per event (`started`, `flush`, `error`, `stopped`) - the
  one command that prints more than one JSON object, since it runs until stopped.

SIGINT (Ctrl-C), SIGTERM and SIGHUP stop it cleanly: the observer is joined, the database
closed, and the exit code is 0. A watcher that dies (the root was deleted) exits non-zero.
"""

from __future__ import annotations

import signal
import sys
import threading
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from .base import app, use
from .output import State, console, envelope, plain_line, print_json

if TYPE_CHECKING:
    from rich.live import Live
    from rich.text import Text

    from ..core.watch import Flush, Watcher, WatchStatus

HEALTH_CHECK_SECONDS = 5.0  # how often the main thread checks that the observer is alive
# SIGHUP: the terminal was closed. Not every platform has every signal (Windows: no SIGHUP).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _clock(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch).strftime("%H:%M:%S") if epoch is not None else "-"


def _changes(flush: Flush) -> str:
    parts = [
        f"{count} {word}"
        for count, word in ((flush.added, "added"), (flush.updated, "updated"), (flush.removed, "removed"))
        if count
    ]
    return ", ".join(parts) or "no change"


def _count(number: int, word: str, plural: str | None = None) -> str:
    return f"{number:,} {word if number == 1 else plural or word + 's'}"


def _what(flush: Flush) -> str:
    if flush.full:
        return f"full scan ({flush.reason})"
    shown = ", ".join(flush.paths[:3]) + (f" and {len(flush.paths) - 3} more" if len(flush.paths) > 3 else "")
    return f"{_count(len(flush.paths), 'path')}: {shown}"


class Reporter:
    """Where `mem watch` says what happens: the status line, plain lines or JSON lines."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.watcher: Watcher | None = None
        self.live: Live | None = None
        self.lock = threading.Lock()
        self.ready = threading.Event()  # set once `started` is out: updates come after it
        self.mode = "json" if state.json else "live" if sys.stdout.isatty() else "lines"

    # --- events ------------------------------------------------------------------------------

    def started(self, watcher: Watcher) -> None:
        self.watcher = watcher
        status = watcher.status()
        first = status.last_flush
        if self.mode == "json":
            self._json(
                "started",
                root=str(status.root),
                entries=status.entries,
                problems=[{"file": p.file, "message": p.message} for p in first.problems] if first else [],
                ms=first.ms if first else 0.0,
            )
        elif self.mode == "lines":
            counts = f"{_count(status.entries, 'entry', 'entries')}, {_count(status.problems, 'problem')}"
            self._line(f"watching {status.root}: {counts} (indexed in {first.ms if first else 0:.0f} ms); Ctrl-C stops")
        else:
            from rich.live import Live

            self.live = Live(self._status_line(status), console=console(), auto_refresh=False, transient=False)
            self.live.start(refresh=True)
        self.ready.set()

    def flushed(self, flush: Flush) -> None:
        if flush.by == "start":
            return  # the initial scan, reported by started()
        self.ready.wait(HEALTH_CHECK_SECONDS)
        if self.mode == "json":
            self._json(
                "flush",
                at=datetime.fromtimestamp(flush.at).astimezone().isoformat(timespec="milliseconds"),
                by=flush.by,
                full=flush.full,
                reason=flush.reason,
                paths=list(flush.paths),
                added=flush.added,
                updated=flush.updated,
                removed=flush.removed,
                ms=flush.ms,
                entries=flush.entries,
                problems=len(flush.problems),
            )
        elif self.mode == "lines":
            if not self.state.quiet:
                self._line(
                    f"{_clock(flush.at)} {_what(flush)} in {flush.ms:.1f} ms: {_changes(flush)}; "
                    f"{_count(flush.entries, 'entry', 'entries')}, {_count(len(flush.problems), 'problem')}"
                )
        else:
            self._redraw()

    def failed(self, message: str) -> None:
        if self.mode == "json":
            self._json("error", message=message)
        elif self.mode == "lines":
            sys.stderr.write(f"warning: {plain_line(message)}\n")
            sys.stderr.flush()
        else:
            self._redraw()

    def stopped(self, status: WatchStatus) -> None:
        if self.live is not None:
            self.live.update(self._status_line(status, stopped=True), refresh=True)
            self.live.stop()
        if self.mode == "json":
            self._json("stopped", entries=status.entries, flushes=status.flushes, events=status.events)
        elif self.mode == "lines" and not self.state.quiet:
            self._line(
                f"stopped after {_count(status.flushes, 'index update')} ({_count(status.events, 'file event')})"
            )

    # --- output --------------------------------------------------------------------------------

    def _json(self, event: str, **data: Any) -> None:
        with self.lock:
            print_json(envelope("watch", True, {"event": event, **data}, [], []))

    def _line(self, text: str) -> None:
        with self.lock:
            sys.stdout.write(plain_line(text) + "\n")
            sys.stdout.flush()

    def _redraw(self) -> None:
        if self.live is not None and self.watcher is not None:
            with self.lock:
                self.live.update(self._status_line(self.watcher.status()), refresh=True)

    @staticmethod
    def _status_line(status: WatchStatus, *, stopped: bool = False) -> Text:
        from rich.text import Text

        line = Text()
        if stopped:
            line.append("■ stopped ", style="dim")
        elif status.error:
            line.append("✗ ", style="bold red")
        else:
            line.append("● ", style="bold green")
        line.append(f"{status.root}", style="bold")
        line.append(f" · {_count(status.entries, 'entry', 'entries')}")
        line.append(f" · {_count(status.problems, 'problem')}", style="yellow" if status.problems else "dim")
        if status.last_change_at is not None:
            line.append(f" · last change {_clock(status.last_change_at)}")
            if status.last_change:
                line.append(f" {status.last_change}", style="cyan")
        flush = status.last_flush
        if flush is not None:
            line.append(f" · indexed {_clock(flush.at)} in {flush.ms:.0f} ms", style="dim")
        if status.error and not stopped:
            line.append(f"\n  {status.error}", style="red")
        return line


@app.command()
def watch(ctx: typer.Context) -> None:
    """Keep the search index current while files change, until Ctrl-C.

    Editors' saves, `git checkout` and `git pull`, deletes and moves are applied within
    about `watch.debounce_ms` (200 ms); `.mem/`, `.git/`, hidden and temporary files are
    ignored. Shows a live status line on a terminal, one line per change otherwise, and
    JSON Lines with --json. Recall works without it (it scans first); see docs/watch.md.
    """
    from ..core.errors import ExternalError, NotFoundError

    state = use(ctx, "watch")
    memory = state.memory()
    reporter = Reporter(state)
    stop = threading.Event()  # a stop signal came
    wake = threading.Event()  # a stop signal, or the watcher cannot go on

    def failed(message: str) -> None:
        reporter.failed(message)
        if watcher.fatal:
            wake.set()

    watcher = memory.watch(on_flush=reporter.flushed, on_error=failed)
    previous = _install_stop_handlers(stop, wake)
    try:
        watcher.start()
        reporter.started(watcher)
        # The periodic check catches an observer thread that died without a word.
        while not wake.wait(HEALTH_CHECK_SECONDS) and watcher.alive():
            pass
        status = watcher.status()
    finally:
        watcher.stop()
        memory.close()
        _restore_handlers(previous)
    reporter.stopped(status)
    if not stop.is_set():
        message = status.error or "the file observer stopped"
        raise (NotFoundError if watcher.fatal else ExternalError)(message)


def _install_stop_handlers(stop: threading.Event, wake: threading.Event) -> dict[int, Any]:
    """Make the stop signals end the wait cleanly (not as KeyboardInterrupt, exit code 130)."""
    if threading.current_thread() is not threading.main_thread():
        return {}  # signal handlers can only be set in the main thread (tests call run())

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()
        wake.set()

    previous: dict[int, Any] = {}
    for signum in STOP_SIGNALS:
        previous[signum] = signal.signal(signum, handle)
    return previous


def _restore_handlers(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
