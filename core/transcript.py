"""The user and assistant turns of an agent's session transcript (JSONL), for the hooks' capture.

One reader for the three formats agents write, recognised line by line:

- Claude Code (`~/.claude/projects/.../<session>.jsonl`): `{"type": "user"|"assistant",
  "message": {"role": ..., "content": "text" | [blocks]}, ...}`; only `text` blocks count
  (tool calls, tool results and thinking are skipped), and so do meta lines (`isMeta`),
  sub-agent lines (`isSidechain`) and compaction summaries (`isCompactSummary`).
- Codex rollout files (`~/.codex/sessions/.../rollout-*.jsonl`): `{"type": "event_msg",
  "payload": {"type": "user_message"|"agent_message", "message": "text"}}` (the
  `response_item` copies of the same messages also carry environment and instruction
  blocks, so they are not read).
- Cursor (`agent-transcripts/<id>.jsonl`): `{"role": "user"|"assistant", "message":
  {"content": [{"type": "text", "text": ...}]}}`, the user's text inside `<user_query>`.

Transcripts only grow, so a turn is named by its line number and a capture resumes after the
last line it took. A last line without its line break is still being written: it is left for
the next capture. What the hooks injected (`<memory-context>` blocks) and the agents' own
wrappers (system reminders, slash-command echoes) are cut out, so memory is never captured
back into itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .text import estimate_tokens

MAX_TRANSCRIPT_BYTES = 256 * 1024 * 1024  # read no further than this into one transcript

_CUT = re.compile(
    r"<(memory-context|system-reminder|command-name|command-message|command-args|local-command-stdout|"
    r"local-command-stderr|environment_context|user_instructions)\b[^>]*>.*?</\1\s*>",
    re.DOTALL | re.IGNORECASE,
)
_USER_QUERY = re.compile(r"</?user_query>", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    line: int  # 0-based line of the transcript it came from
    role: str  # user | assistant
    text: str
    said: str = ""  # when, as the line's `timestamp` says (ISO 8601; Claude Code and Codex write one)


def _block_texts(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [
        block["text"]
        for block in content
        if isinstance(block, dict)
        and block.get("type") in ("text", "input_text", "output_text")
        and isinstance(block.get("text"), str)
    ]
    return "\n\n".join(parts)


def turn_of(record: Any) -> tuple[str, str] | None:
    """(role, text) of one transcript line, or None when it is not a user or assistant turn."""
    if not isinstance(record, dict):
        return None
    kind = record.get("type")
    message = record.get("message")
    if kind in ("user", "assistant") and isinstance(message, dict):  # Claude Code
        if record.get("isMeta") or record.get("isSidechain") or record.get("isCompactSummary"):
            return None
        return str(kind), _block_texts(message.get("content"))
    payload = record.get("payload")
    if kind == "event_msg" and isinstance(payload, dict):  # Codex
        role = {"user_message": "user", "agent_message": "assistant"}.get(str(payload.get("type")))
        message_text = payload.get("message")
        return (role, message_text) if role and isinstance(message_text, str) else None
    role = record.get("role")
    if role in ("user", "assistant") and message is not None:  # Cursor
        content = message.get("content") if isinstance(message, dict) else message
        return str(role), _block_texts(content)
    return None


def clean(text: str) -> str:
    """The turn's own words: injected memory and agent wrappers cut out."""
    text = _CUT.sub("", text)
    text = _USER_QUERY.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def read_turns(path: Path, start_line: int, max_tokens: int) -> tuple[list[Turn], int]:
    """The turns from line `start_line` on, up to about `max_tokens` of text, and the line to
    resume from next time. At least one turn is taken when there is one (cut to the budget)."""
    with path.open("rb") as handle:
        data = handle.read(MAX_TRANSCRIPT_BYTES)
    lines = data.split(b"\n")
    complete = len(lines) - 1  # the piece after the last line break is unfinished (or empty)
    turns: list[Turn] = []
    used = 0
    line = start_line
    while line < complete:
        raw = lines[line]
        try:
            found = turn_of(json.loads(raw)) if raw.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            found = None  # a line we cannot read is skipped, not retried forever
        if found is not None:
            role, text = found
            text = clean(text)
            if text:
                cost = estimate_tokens(text) + 2
                if turns and used + cost > max_tokens:
                    break
                if cost > max_tokens:
                    text = text[: max(1, max_tokens - 2) * 4].rstrip() + " [...]"
                    cost = max_tokens
                turns.append(Turn(line, role, text))
                used += cost
        line += 1
    return turns, line


def format_turns(turns: list[Turn]) -> str:
    """The turns as the plain conversation text curation reads."""
    return "\n\n".join(f"{turn.role}: {turn.text}" for turn in turns)


def all_turns(path: Path) -> list[Turn]:
    """Every turn of a finished transcript (an import), its last line included even without
    a line break."""
    with path.open("rb") as handle:
        data = handle.read(MAX_TRANSCRIPT_BYTES)
    turns: list[Turn] = []
    for line, raw in enumerate(data.split(b"\n")):
        try:
            record = json.loads(raw) if raw.strip() else None
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            record = None
        found = turn_of(record)
        if found is not None and (text := clean(found[1])):
            said = record.get("timestamp") if isinstance(record, dict) else None
            turns.append(Turn(line, found[0], text, said if isinstance(said, str) else ""))
    return turns


def is_transcript(head: bytes) -> bool:
    """Whether the complete lines of a file's beginning hold a user or assistant turn."""
    for raw in head.split(b"\n")[:-1]:
        try:
            if raw.strip() and turn_of(json.loads(raw)) is not None:
                return True
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return False
    return False
