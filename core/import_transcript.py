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
from collections.abc import Iterator, Sequence
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
    names = [f"{label}#{turn.line + 1}" for turn in turns]
    answered = reply_targets([turn.role for turn in turns])
    for number, (turn, name, target) in enumerate(zip(turns, names, answered, strict=True), 1):
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
            reply_to=names[target] if target is not None else "",
        )


def reply_targets(speakers: Sequence[str]) -> list[int | None]:
    """For each turn of a conversation (its speakers in order), the index of the turn it
    answers: the latest earlier turn of another speaker, and for a second message in a row
    the turn the first one answered. None for the opening turns. bench/locomo.py links a
    benchmark's turns by the same rule."""
    latest: dict[str, int] = {}  # speaker -> their latest turn, the latest speaker last
    answering: dict[str, int | None] = {}  # speaker -> what their current run of messages answers
    targets: list[int | None] = []
    previous = None
    for at, speaker in enumerate(speakers):
        if speaker != previous:
            others = [turn for who, turn in latest.items() if who != speaker]
            answering[speaker] = others[-1] if others else None
        targets.append(answering[speaker])
        latest.pop(speaker, None)
        latest[speaker] = at
        previous = speaker
    return targets


def _said(stamp: str) -> datetime | None:
    """A turn's timestamp as a UTC moment to the second, or None (absent, unreadable, or a
    time without a zone, which cannot be placed)."""
    moment = moment_of(stamp)
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0)
