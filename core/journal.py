"""The intent journal of `mem mv`: what a move was doing when its process died.

A move of several entries (a folder), with the `related` links pointing at them, is many
file operations. Each one is atomic, but a crash between two leaves the tree half moved:
some entries at the old place, some at the new, an entry linked under both names, links
still pointing at old paths. So before the first file changes, the planned moves are
written to `.mem/move.journal` (atomically); the journal is removed when the move is
complete. The next writer that takes the lock finds a journal left behind and finishes the
move (every step is idempotent), and `mem doctor` reports one it sees.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidError
from .paths import STATE_DIR, normalize_entry_path
from .store import atomic_write_text

JOURNAL_FILE = "move.journal"
JOURNAL_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class MoveIntent:
    pairs: tuple[tuple[str, str], ...]  # (old path, new path) of every entry to move
    subject: str  # `source -> destination`, for messages and the commit subject


def journal_file(root: Path) -> Path:
    return root / STATE_DIR / JOURNAL_FILE


def write_intent(root: Path, intent: MoveIntent) -> None:
    data = {"version": 1, "subject": intent.subject, "pairs": [list(pair) for pair in intent.pairs]}
    (root / STATE_DIR).mkdir(exist_ok=True)
    atomic_write_text(journal_file(root), json.dumps(data, ensure_ascii=False) + "\n")


def read_intent(root: Path) -> MoveIntent | None:
    """The move left unfinished, or None. A journal that cannot be read raises InvalidError.

    The journal is written atomically, so an unreadable one was not written by mem; its
    paths are validated like any other input before anything acts on them.
    """
    file = journal_file(root)
    try:
        if os.lstat(file).st_size > JOURNAL_MAX_BYTES:
            raise InvalidError(f"{file} is too large to be a move journal")
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InvalidError(f"{file} cannot be read ({error})") from None
    try:
        pairs = tuple((normalize_entry_path(old), normalize_entry_path(new)) for old, new in data["pairs"])
        subject = str(data.get("subject", ""))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidError(f"{file} is not a move journal") from None
    return MoveIntent(pairs, subject)


def clear_intent(root: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        journal_file(root).unlink()
