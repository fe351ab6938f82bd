"""Replies in imported conversations carry relevance (issue 13, "Links carry relevance"):
`mem import` of an agent's session transcript writes one entry per turn, each recording in
`reply_to` the turn it answers; recall lets relevance flow along that link, so a short answer
whose words are all in the question it answers is found by those words."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from contextree import Memory
from contextree.core.entry import REPLY_TO_KEY
from contextree.core.import_transcript import reply_targets
from contextree.core.importing import detect

from .lifecycleutil import FakeClock

FIXTURES = Path(__file__).parent / "fixtures" / "hooks"


def claude_line(role: str, text: str, uuid: str, parent: str | None) -> str:
    """One line of a Claude Code transcript, in its documented shape."""
    return json.dumps(
        {
            "parentUuid": parent,
            "isSidechain": False,
            "type": role,
            "message": {"role": role, "content": text if role == "user" else [{"type": "text", "text": text}]},
            "uuid": uuid,
            "sessionId": "s1",
        }
    )


CHAT = [
    ("user", "How long have you been doing woodworking in your garage workshop?"),
    ("assistant", "Been doing it for 3 years now."),
    ("user", "Nice. And the dovetail joints?"),
    ("user", "Did you learn them from a book?"),
    ("assistant", "From my grandfather, mostly."),
]


def write_chat(
    folder: Path, turns: list[tuple[str, str]], name: str = "garage-chat", *, final_newline: bool = True
) -> Path:
    file = folder / f"{name}.jsonl"
    lines = [json.dumps({"type": "summary", "summary": "a chat"})]
    parent = None
    for number, (role, text) in enumerate(turns):
        lines.append(claude_line(role, text, f"t{number}", parent))
        parent = f"t{number}"
    file.write_text("\n".join(lines) + ("\n" if final_newline else ""))
    return file


def fresh(tmp_path: Path) -> Memory:
    root = tmp_path / "memory"
    Memory.init(root)
    return Memory(root)


def test_each_turn_records_the_turn_it_answers(tmp_path: Path) -> None:
    memory = fresh(tmp_path)
    source = write_chat(tmp_path, CHAT, final_newline=False)  # a finished file: the last line counts too
    assert detect(source) == "transcript"
    report = memory.import_source(source)
    paths = [item.path for item in report.items]
    assert [item.action for item in report.items] == ["create"] * 5
    assert paths[0] == "conversations/garage-chat/turn-0001"
    entries = [memory.get(path) for path in paths]
    replies = [entry.extra.get(REPLY_TO_KEY) for entry in entries]
    # the first turn answers nothing; two user messages in a row both answer the same turn
    assert replies == [None, paths[0], paths[1], paths[1], paths[3]]
    assert [entry.extra["speaker"] for entry in entries] == ["user", "assistant", "user", "user", "assistant"]
    text = (memory.root / (paths[1] + ".md")).read_text()
    assert f"{REPLY_TO_KEY}: {paths[0]}" in text
    # a second import changes nothing
    again = memory.import_source(source)
    assert {item.action for item in again.items} == {"unchanged"}


def test_a_short_answer_is_found_through_the_question_it_answers(tmp_path: Path) -> None:
    memory = fresh(tmp_path)
    memory.import_source(write_chat(tmp_path, CHAT))
    # Unrelated turns of another conversation with a word of the question each.
    door = [("user", "The garage door is stuck again."), ("assistant", "Woodworking glue dries in an hour.")]
    memory.import_source(write_chat(tmp_path, door, "door-chat"))
    question = "how long have you done woodworking in the garage workshop"
    found = [hit.path for hit in memory.recall(question, k=3, max_tier="fuzzy").results]
    assert set(found[:2]) == {"conversations/garage-chat/turn-0001", "conversations/garage-chat/turn-0002"}


def test_the_link_is_what_carries_it_not_the_file_order(tmp_path: Path) -> None:
    memory = fresh(tmp_path)
    memory.import_source(write_chat(tmp_path, CHAT))
    # The kinds of answer (docs/recall.md) would lift the answer's number for a "how long"
    # question and lower the turns that ask: off here, so that only the link could carry it.
    (memory.root / "config.yaml").write_text("recall:\n  link_share: 0\n  answer_gain: 0\n  question_penalty: 0\n")
    memory = Memory(memory.root)
    question = "how long have you done woodworking in the garage workshop"
    found = [hit.path for hit in memory.recall(question, k=3, max_tier="fuzzy").results]
    assert "conversations/garage-chat/turn-0002" not in found


def test_the_agents_transcripts_are_conversations(tmp_path: Path) -> None:
    memory = fresh(tmp_path)
    claude = tmp_path / "claude-session.jsonl"
    claude.write_text((FIXTURES / "claude" / "transcript-1.jsonl").read_text().replace("{GITHUB_TOKEN}", "TOKEN"))
    codex = tmp_path / "rollout.jsonl"
    codex.write_text((FIXTURES / "codex" / "rollout.jsonl").read_text())
    for source in (claude, codex):
        assert detect(source) == "transcript"
        report = memory.import_source(source, into="sessions")
        created = [item.path for item in report.items if item.action == "create"]
        assert len(created) >= 2, source
        turns = [memory.get(path) for path in created]
        assert {entry.extra["speaker"] for entry in turns} == {"user", "assistant"}
        assert all(entry.extra.get(REPLY_TO_KEY) in created for entry in turns[1:])
        assert not any("TOOL_OUTPUT_MARKER" in entry.body or "THINKING_MARKER" in entry.body for entry in turns)


def test_a_turn_is_dated_when_it_was_said(tmp_path: Path) -> None:
    """A transcript line's `timestamp` (Claude Code and Codex write one) becomes the turn's
    created/updated, so "what did we discuss last week" finds a session imported today."""
    clock = FakeClock(datetime(2026, 12, 4, 15, 0, tzinfo=UTC))
    root = tmp_path / "memory"
    Memory.init(root)
    memory = Memory(root, clock=clock)
    file = tmp_path / "old-session.jsonl"
    lines = []
    for number, (role, text, said) in enumerate(
        [
            ("user", "Should the invoice PDFs be rendered with WeasyPrint?", "2026-11-24T10:00:00Z"),
            ("assistant", "Yes, WeasyPrint: it keeps the CSS the designers wrote.", "2026-11-24T10:00:40Z"),
            ("user", "And the queue for it?", "2026-12-04T09:00:00+01:00"),
        ]
    ):
        record = json.loads(claude_line(role, text, f"t{number}", f"t{number - 1}" if number else None))
        record["timestamp"] = said
        lines.append(json.dumps(record))
    file.write_text("\n".join(lines) + "\n")
    paths = [item.path for item in memory.import_source(file).items]
    first = memory.get(paths[0])
    assert (first.created, first.updated) == (datetime(2026, 11, 24, 10, 0, tzinfo=UTC),) * 2
    assert memory.get(paths[2]).created == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    # last week is 23-29 November: the two turns said then, not the one of today
    found = [hit.path for hit in memory.recall("what did we discuss last week", max_tier="fuzzy").results]
    assert found == [paths[1], paths[0]]
    assert memory.recall("what did we decide about WeasyPrint last week", max_tier="fuzzy").results[0].path in paths[:2]


def test_a_turn_without_a_usable_timestamp_is_not_given_one(tmp_path: Path) -> None:
    memory = fresh(tmp_path)
    file = tmp_path / "no-zone.jsonl"
    record = json.loads(claude_line("user", "The staging database was restored.", "t0", None))
    record["timestamp"] = "2026-11-24T10:00:00"  # no zone: not placed
    other = json.loads(claude_line("assistant", "Restored from the nightly snapshot.", "t1", "t0"))
    other["timestamp"] = "yesterday"
    file.write_text(json.dumps(record) + "\n" + json.dumps(other) + "\n")
    paths = [item.path for item in memory.import_source(file).items]
    for path in paths:
        entry = memory.get(path)
        assert entry.created is None or entry.created.date() != datetime(2026, 11, 24).date()
    assert len(paths) == 2  # imported all the same


def test_a_turn_answers_the_latest_turn_of_another_speaker() -> None:
    """A second message in a row answers what the first one answered; with three speakers,
    a turn answers whoever spoke last before it (bench/locomo.py links by the same rule)."""
    assert reply_targets(["ann", "ann", "bo", "ann", "bo", "bo"]) == [None, None, 1, 2, 3, 3]
    assert reply_targets(["ann", "bo", "cy", "ann"]) == [None, 0, 1, 2]
    assert reply_targets([]) == []
