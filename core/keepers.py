"""The keepers registered in this process: watchers that keep a root's index current.

A tiny module on purpose: `Memory` consults it after every write, and `mem add` must not
import the index (sqlite3, the FTS code) or watchdog to learn that no watcher is running.
The contract is described in core/index.py (`Index.ensure_current`) and docs/watch.md.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from .tree import Problem


class Keeper(Protocol):
    """Something in this process that keeps a root's index current (a running watcher)."""

    def catch_up(self) -> bool:
        """Apply whatever is pending now; True if the index is current without a scan.

        False means the keeper cannot vouch for the index (its observer died, a flush
        failed, it is starting or stopping): the caller must scan.
        """
        ...

    def walk_problems(self) -> tuple[Problem, ...]:
        """The problems of the tree's layout (bad names, wrong depths) as of the last scan."""
        ...

    def touched(self, files: Iterable[Path]) -> None:
        """Files this process just wrote: the next `catch_up` applies them."""
        ...


_keepers: dict[Path, list[Keeper]] = {}
_keepers_lock = threading.Lock()


def register_keeper(root: Path, keeper: Keeper) -> None:
    with _keepers_lock:
        _keepers.setdefault(root, []).append(keeper)


def unregister_keeper(root: Path, keeper: Keeper) -> None:
    with _keepers_lock:
        keepers = _keepers.get(root, [])
        if keeper in keepers:
            keepers.remove(keeper)
        if not keepers:
            _keepers.pop(root, None)


def keepers_of(root: Path) -> tuple[Keeper, ...]:
    """The keepers registered for a root in this process (usually none: one dict look-up)."""
    keepers = _keepers.get(root)
    return tuple(keepers) if keepers else ()
