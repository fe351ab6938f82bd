"""The inbox: session turns captured by the hooks, waiting to be curated (`mem curate --inbox`).

It lives in `.mem/inbox/`, one JSONL file per session (`<session>.jsonl`, one turn a line:
`{"session", "agent", "line", "role", "text", "at"}`), outside the tree: recall, the index,
`mem list` and git never see it, so a conversation is never recalled as knowledge before a
curation has turned it into entries. Secrets are cut out before a turn is written (the
caller redacts; this module only stores). Each file is replaced atomically, so a hook killed
mid-capture leaves the previous file whole.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .paths import STATE_DIR
from .store import atomic_write_text
from .transcript import Turn, format_turns

if TYPE_CHECKING:
    from .curate import CurationPlan
    from .memory import Memory

INBOX_DIR = "inbox"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class InboxSession:
    name: str  # the session key (file name without .jsonl)
    file: Path
    turns: tuple[Turn, ...]
    agent: str

    @property
    def text(self) -> str:
        return format_turns(list(self.turns))


def session_key(session_id: str) -> str:
    """A file-name-safe key for an agent's session id."""
    key = _UNSAFE.sub("-", session_id).strip("-.")[:80]
    return key or "session"


class Inbox:
    def __init__(self, root: Path) -> None:
        self.folder = root / STATE_DIR / INBOX_DIR

    def _file(self, key: str) -> Path:
        return self.folder / f"{key}.jsonl"

    def append(self, key: str, agent: str, turns: list[Turn], now: datetime | None = None) -> Path:
        file = self._file(key)
        try:
            before = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            before = ""
        at = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = [
            json.dumps(
                {"session": key, "agent": agent, "line": turn.line, "role": turn.role, "text": turn.text, "at": at},
                ensure_ascii=False,
            )
            for turn in turns
        ]
        atomic_write_text(file, before + "".join(line + "\n" for line in lines))
        return file

    def read(self, key: str) -> InboxSession | None:
        file = self._file(key)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        turns: list[Turn] = []
        agent = ""
        for raw in text.splitlines():
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                continue
            agent = agent or str(record.get("agent") or "")
            turns.append(Turn(int(record.get("line") or 0), str(record.get("role") or "user"), record["text"]))
        return InboxSession(key, file, tuple(turns), agent)

    def sessions(self) -> list[InboxSession]:
        if not self.folder.is_dir():
            return []
        found = [self.read(file.stem) for file in sorted(self.folder.glob("*.jsonl"))]
        return [session for session in found if session is not None and session.turns]

    def count(self) -> int:
        """Turns waiting, over every session."""
        return sum(len(session.turns) for session in self.sessions())

    def remove(self, key: str) -> None:
        self._file(key).unlink(missing_ok=True)


@dataclass(frozen=True)
class InboxCuration:
    session: str
    turns: int
    plan: CurationPlan


def curate_inbox(memory: Memory, *, dry_run: bool = False, yes: bool = False) -> list[InboxCuration]:
    """Curate every session waiting in the inbox (`mem curate --inbox`), oldest file name first.
    A session's turns leave the inbox once its plan is applied; a failure stops the run with
    that session and the later ones still waiting (nothing of theirs was written)."""
    inbox = Inbox(memory.root)
    done: list[InboxCuration] = []
    for session in inbox.sessions():
        plan = memory.curate(session.text, origin=f"inbox:{session.name}", dry_run=dry_run, yes=yes)
        if not dry_run:
            inbox.remove(session.name)
        done.append(InboxCuration(session.name, len(session.turns), plan))
    return done
