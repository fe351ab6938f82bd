"""Freshness across processes: a recall may skip its stat scan when a watcher running in
another process (`mem watch`, `mem mcp`) vouches for the index.

The protocol, which needs nothing but files in `.mem/`:

1. A healthy watcher holds a *shared* lock on `.mem/watch-v<schema>.lock` (several watchers
   may).
2. A recall first tries an *exclusive*, non-blocking lock on that file. If it gets it, no
   watcher is running: it scans as usual. If it does not, a watcher is alive (the kernel
   releases the lock of a dead process, so this cannot be stale).
3. The recall then creates `.mem/catch-up-v<schema>-<pid>-<random>` and waits for it to
   disappear.
4. The watcher sees that creation through the same inotify queue as every other change,
   after all of them; it applies what is pending and deletes the marker. Once the marker is
   gone, every change made before the recall started is in the index.
5. No answer within `BARRIER_TIMEOUT` (the watcher is unhealthy, busy, or on a platform
   that does not order events): the recall removes its marker and scans.

The files are named after the index's schema (`index.SCHEMA_VERSION`), as the index file
is: a watcher of another mem version keeps another index, so it can vouch only for its own,
and must neither be asked nor answer. (Earlier versions named them `watch.lock` and `barrier-`, beside
`index.db`: a watcher of such a version ignores these markers and its recalls' markers are
ignored here, so each version's recalls scan their own index.)

This module imports nothing heavy: `mem recall` uses it, and must not load watchdog.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

from .errors import MemError
from .paths import STATE_DIR
from .safeio import open_regular, random_token, state_dir

# A watcher answers in about a millisecond; give it time for a busy moment (a flush in
# progress), not for a debounce: a recall that gives up only pays a scan it would have paid.
BARRIER_TIMEOUT = 0.25


def lock_file(root: Path, schema: str) -> Path:
    return root / STATE_DIR / f"watch-v{schema}.lock"


def marker_prefix(schema: str) -> str:
    """How the markers of recalls that read an index of `schema` begin (a name in `.mem/`)."""
    return f"catch-up-v{schema}-"


def watcher_running(root: Path, schema: str) -> bool:
    """True when some process holds the shared lock of the watchers of `schema` on this root."""
    if sys.platform == "win32":  # pragma: no cover - no flock; recalls always scan there
        return False
    import fcntl

    try:
        fd = open_regular(lock_file(root, schema))  # no link, no FIFO: a recall must never block here
    except MemError:
        return False  # no lock file (no watcher ever ran here), or not one mem would use
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def request_current(root: Path, schema: str, timeout: float = BARRIER_TIMEOUT) -> bool:
    """Ask a running watcher of the index of `schema` to bring it up to date now; True if it
    answered."""
    if not watcher_running(root, schema):
        return False
    try:
        state_dir(root, create=False)  # markers go in a real `.mem/` folder, never through a link
    except MemError:
        return False
    marker = root / STATE_DIR / f"{marker_prefix(schema)}{os.getpid()}-{random_token(6)}"
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
    except OSError:
        return False
    deadline = time.monotonic() + timeout
    pause = 0.0002
    while time.monotonic() < deadline:
        if not os.path.lexists(marker):
            return True
        time.sleep(pause)
        pause = min(pause * 2, 0.005)
    with contextlib.suppress(FileNotFoundError):
        marker.unlink()
        return False
    return True  # removed by the watcher at the last moment


class WatcherLock:
    """The shared lock a healthy watcher holds (see the module docstring)."""

    def __init__(self, root: Path, schema: str) -> None:
        self.path = lock_file(root, schema)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None or sys.platform == "win32":
            return
        import fcntl

        try:
            fd = open_regular(self.path, os.O_RDWR | os.O_CREAT)
        except MemError:
            return  # the lock file is a link or a special file: recalls scan, as without a watcher
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)  # a recall is probing right now; the next healthy flush retries
            return
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the lock
