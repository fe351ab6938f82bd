"""A conversation: an agent's session transcript (JSONL), one entry per turn.

The three formats `core/transcript.py` reads (Claude Code, Codex, Cursor) are imported as a
conversation: each user or assistant turn becomes an entry `<into>/<conversation>/turn-NNNN`
(the conversation named after the file), its text the body, the speaker in `speaker`. A turn
records the turn it answers in `reply_to`: the latest earlier turn of the other speaker (a
second message in a row answers the same turn as the first). Recall lets relevance flow along
that link (docs/recall.md, "Links"), so a short answer ("Been doing it for 3 years") is found
by the words of the question it answers. What the hooks injected and the agents' wrappers are
cut out as in capture; tool calls and results are not turns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .entry import SPEAKER_KEY, derive_title
from .import_format import Candidate, Skipped, moment_of, place
from .transcript import all_turns


def read_conversation(source: Path, into: list[str]) -> Iterator[Candidate | Skipped]:
    label = source.name
    turns = all_turns(source)
    if not turns:
        yield Skipped(label, "no user or assistant turn in it")
        return
    last_of: dict[str, str] = {}  # speaker -> name of their latest turn
    answers: dict[str, str] = {}  # speaker -> the turn their current run of messages answers
    previous_speaker = ""
    for number, turn in enumerate(turns, 1):
        name = f"{label}#{turn.line + 1}"
        if turn.role != previous_speaker:
            other = [key for speaker, key in last_of.items() if speaker != turn.role]
            answers[turn.role] = other[-1] if other else ""
        path = place(into, [source.stem], f"turn-{number:04d}")
        meta: dict[str, Any] = {"title": derive_title(turn.text, path)[:120], SPEAKER_KEY: turn.role}
        said = _said(turn.said)
        if said is not None:  # when it was said, not when it was imported: "what did we discuss last week"
            meta["created"] = meta["updated"] = said
        digest = hashlib.sha256(f"{turn.role}\n{turn.text}".encode()).hexdigest()
        yield Candidate(
            path=path,
            meta=meta,
            body=turn.text,
            origin=name,
            digest=digest,
            names=(name,),
            reply_to=answers[turn.role],
        )
        last_of.pop(turn.role, None)
        last_of[turn.role] = name  # insertion order: the latest speaker last
        previous_speaker = turn.role


def _said(stamp: str) -> datetime | None:
    """A turn's timestamp as a UTC moment to the second, or None (absent, unreadable, or a
    time without a zone, which cannot be placed)."""
    moment = moment_of(stamp)
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0)
