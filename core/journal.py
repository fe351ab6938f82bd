"""The intent journal of `mem mv`: what a move was doing when its process died.

A move of several entries (a folder), with the links pointing at them, is many
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
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidError, MemError, NotFoundError
from .paths import STATE_DIR, normalize_entry_path
from .safeio import read_regular, set_aside, state_dir
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
    state_dir(root)
    atomic_write_text(journal_file(root), json.dumps(data, ensure_ascii=False) + "\n")


def read_intent(root: Path) -> MoveIntent | None:
    """The move left unfinished, or None. A journal that cannot be read raises InvalidError.

    The journal is written atomically, so an unreadable one was not written by mem; it may
    even have arrived from elsewhere (a clone, a teammate's `git add -f`). It is read like
    any untrusted file (no link, no FIFO, a size cap: core/safeio.py), and its pairs are
    validated like any other input, and against each other: mem never writes a pair that
    moves an entry onto itself, two pairs with the same source or target, or a target that
    is another pair's source. Replaying such a pair could delete an entry.
    """
    file = journal_file(root)
    try:
        data = json.loads(read_regular(file, JOURNAL_MAX_BYTES))
    except NotFoundError:
        return None
    except MemError as error:
        raise InvalidError(f"{file} cannot be read ({error.message})") from None
    except ValueError as error:  # not JSON, not UTF-8
        raise InvalidError(f"{file} cannot be read ({error})") from None
    try:
        pairs = tuple((normalize_entry_path(old), normalize_entry_path(new)) for old, new in data["pairs"])
        subject = str(data.get("subject", ""))
    except (KeyError, TypeError, ValueError, AttributeError, MemError):
        raise InvalidError(f"{file} is not a move journal") from None
    sources = [old for old, _ in pairs]
    targets = [new for _, new in pairs]
    if len(set(sources)) != len(sources) or len(set(targets)) != len(targets) or set(sources) & set(targets):
        raise InvalidError(f"{file} is not a move journal mem wrote (its moves overlap)")
    return MoveIntent(pairs, subject)


def set_journal_aside(root: Path) -> Path | None:
    """Move a journal mem cannot use out of the way (renamed, kept for a person to read),
    so that it never blocks the writes that come after it."""
    return set_aside(journal_file(root))


def clear_intent(root: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        journal_file(root).unlink()
