"""Session hooks: what `mem hook EVENT` returns for Claude Code, Codex and Cursor.

Agents run `mem hook EVENT --agent NAME` at points of a session and pass a JSON payload on
stdin (docs/agents.md#hooks cites each agent's documentation). Five events:

- `session-start`: a briefing within `hooks.session_budget_tokens`: the core and most
  important entries as titles with paths, recent changes, and how to ask for more.
  Deterministic (the index, no model).
- `prompt`: recall with the user's prompt; only the hits of a confident tier are injected, a
  few lines each with their paths, framed as data like `mem recall --format context`. When
  no tier is confident nothing is printed at all, so ordinary prompts cost no tokens.
- `pre-compact`, `session-end`, `stop`: capture. The transcript's new user and assistant
  turns (a per-session cursor in `.mem/hooks/`) go to the inbox with secrets cut out; with
  a model configured they are curated right away, applying only ADD (changes to existing
  entries the model proposes are recorded in the plan, never applied unattended).

This module returns data (`HookOutcome`: the exact stdout for the agent, and notes for the
log); cli/hook.py does the process part (stdin, the hard deadline, the log). What each agent
accepts on stdout is `render()`: Claude Code and Codex take `hookSpecificOutput.additionalContext`
on SessionStart and UserPromptSubmit and nothing elsewhere; Cursor takes
`additional_context` on sessionStart only, and a JSON object from every hook
(`{"continue": true}` for beforeSubmitPrompt: its prompt hook cannot add context).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .config import HOOK_EVENTS
from .errors import InvalidError, MemError
from .paths import STATE_DIR

if TYPE_CHECKING:
    from .context import ContextBlock
    from .curate import CurationPlan, Op
    from .memory import Memory

Event = Literal["session-start", "prompt", "pre-compact", "session-end", "stop"]
CAPTURE_EVENTS: tuple[Event, ...] = ("pre-compact", "session-end", "stop")
AGENTS = ("claude", "codex", "cursor")
HOOKS_DIR = "hooks"  # .mem/hooks/: per-session cursors, recorded plans
LOG_FILE = "hooks.log"  # .mem/hooks.log: what went wrong (hooks print nothing on error)
MAX_PAYLOAD_BYTES = 8 * 1024 * 1024
PROMPT_QUERY_CHARS = 2000  # a pasted log is recalled on its beginning
HOOK_OPERATIONS: tuple[Op, ...] = ("ADD", "NOOP")  # what a capture applies without a person: nothing is rewritten

# The agents' own names of our events (their hook configuration keys and hook_event_name).
NATIVE_EVENTS: Mapping[str, Mapping[str, str]] = {
    "claude": {
        "session-start": "SessionStart",
        "prompt": "UserPromptSubmit",
        "pre-compact": "PreCompact",
        "session-end": "SessionEnd",
        "stop": "Stop",
    },
    "codex": {
        "session-start": "SessionStart",
        "prompt": "UserPromptSubmit",
        "pre-compact": "PreCompact",
        "stop": "Stop",
    },
    "cursor": {
        "session-start": "sessionStart",
        "prompt": "beforeSubmitPrompt",
        "pre-compact": "preCompact",
        "session-end": "sessionEnd",
        "stop": "stop",
    },
}
# Where an agent can put text in front of the model.
INJECTS: Mapping[str, frozenset[str]] = {
    "claude": frozenset({"session-start", "prompt"}),
    "codex": frozenset({"session-start", "prompt"}),
    "cursor": frozenset({"session-start"}),
}


@dataclass(frozen=True)
class Payload:
    agent: str
    event: Event
    session_id: str | None
    transcript: Path | None
    cwd: Path | None
    prompt: str | None


@dataclass(frozen=True)
class HookOutcome:
    stdout: str  # exactly what the agent reads ('' prints nothing)
    tokens: int = 0  # estimated tokens injected into the agent's context
    included: tuple[str, ...] = ()  # entry paths injected
    notes: tuple[str, ...] = ()  # for .mem/hooks.log


@dataclass(frozen=True)
class CaptureResult:
    turns: int  # new turns taken from the transcript
    inbox: int  # turns waiting in this session's inbox afterwards
    plan: CurationPlan | None = None
    plan_file: Path | None = None
    notes: tuple[str, ...] = ()


def check_event(event: str, agent: str) -> Event:
    if agent not in AGENTS:
        raise InvalidError(f"unknown agent {agent!r}; known: {', '.join(AGENTS)}")
    if event not in HOOK_EVENTS:
        raise InvalidError(f"unknown hook event {event!r}; known: {', '.join(HOOK_EVENTS)}")
    return event  # type: ignore[return-value]


# --- payload --------------------------------------------------------------------------------


def _path(value: Any, base: Path | None = None) -> Path | None:
    if not isinstance(value, str) or not value.strip():
        return None
    path = Path(value.strip()).expanduser()  # Claude Code's examples write ~/.claude/...
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def parse_payload(agent: str, event: Event, data: bytes) -> Payload:
    """The fields every event needs, from any of the three agents' payload shapes."""
    if len(data) > MAX_PAYLOAD_BYTES:
        raise InvalidError(f"the hook payload is over {MAX_PAYLOAD_BYTES} bytes")
    try:
        raw = json.loads(data.decode("utf-8")) if data.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise InvalidError(f"the hook payload is not JSON ({error})") from None
    if not isinstance(raw, dict):
        raise InvalidError("the hook payload must be a JSON object")
    cwd = _path(raw.get("cwd"))
    roots = raw.get("workspace_roots")  # Cursor
    if cwd is None and isinstance(roots, list) and roots:
        cwd = _path(roots[0])
    session = raw.get("session_id") or raw.get("conversation_id")
    prompt = raw.get("prompt")
    return Payload(
        agent=agent,
        event=event,
        session_id=str(session) if isinstance(session, (str, int)) and str(session) else None,
        transcript=_path(raw.get("transcript_path"), cwd),
        cwd=cwd,
        prompt=prompt if isinstance(prompt, str) else None,
    )


# --- what the agent reads --------------------------------------------------------------------


def render(agent: str, event: str, context: str | None) -> str:
    """The stdout `agent` accepts for `event`, carrying `context` where it can (else nothing)."""
    native = NATIVE_EVENTS[agent].get(event, event)
    if agent == "cursor":
        if event == "session-start" and context:
            return json.dumps({"additional_context": context}, ensure_ascii=False) + "\n"
        if event == "prompt":
            return json.dumps({"continue": True}) + "\n"
        return "{}\n"
    if context and event in INJECTS[agent]:
        output = {"hookSpecificOutput": {"hookEventName": native, "additionalContext": context}}
        return json.dumps(output, ensure_ascii=False) + "\n"
    return ""


# --- prompt --------------------------------------------------------------------------------


def _excerpt(body: str, summary: str | None, lines: int) -> str:
    kept: list[str] = [summary.strip()] if summary and summary.strip() else []
    for line in body.splitlines():
        if len(kept) >= lines:
            break
        if line.strip():
            kept.append(line.rstrip() if len(line) <= 240 else line[:240].rstrip() + " ...")
    return "\n".join(kept)


# Turns that carry no topic: acknowledgements and continuations, the commonest prompts after
# the first of a session. A prompt made only of these words is not recalled at all.
CONVERSATIONAL = frozenset(
    """
    yes yeah yep no nope ok okay sure thanks thank thx please go ahead continue proceed next
    good great fine right done do it that this works worked looks lgtm sounds cool nice
    perfect again try more keep going stop wait hmm agreed correct exactly now then also
    """.split()
)
# An entry injected unasked must be about the prompt's subject: this many of the prompt's words
# (as written, or in a plural or tense form) among the words the entry says it is about.
MIN_ABOUT_WORDS = 2
# ... and those words together must be improbable by chance in the trade's English (or be the
# entry's name): the sum of their distinctive IDFs (lexicon.distinctive_idf, nats) at least
# this - as rare together as two words that each occur in under 1 text of the trade in 100.
MIN_ABOUT_INFO = 2 * math.log(100)


def prompt_context(memory: Memory, prompt: str) -> ContextBlock | None:
    """The confident hits for a prompt as a framed block, or None (nothing to inject).

    A hit is injected when recall's own gate would trust it (its match reaches its tier's
    floor, `recall.keyword_floor`, ..., plus `hooks.prompt_extra_floor`, 0 by default) and,
    for the keyword and fuzzy tiers, when two of the prompt's words are among the words the
    entry says it is about: its title, aliases, keywords, tags and path, as written or as a
    plural or tense form (one word for a one-word prompt). A prompt is not a query someone
    chose to ask: a coding session's requests are made of the words of the trade (run, fix,
    build, test, linter, retry, error, version), each of which some entry of a project's
    memory also uses, in another sense ("run the linter" and the keyword
    `django-migration-linter`; "tell me what breaks" and the title "... pooling breaks
    prepared statements"). One shared word, however rare in English, does not tell which
    sense is meant; a second one of the entry's subject does. Words found only in a body do
    not count: a body has hundreds of words, and two common ones meet there by chance. And
    the words the prompt shares with the entry must name a subject, not the trade: "fix the
    failing test" shares `fail` and `test` with "Naive datetimes fail tests ...", words rare
    in English at large and everyday in commit messages; they count at their frequency in the
    trade's English (`lexicon.distinctive_idf`), and together must reach MIN_ABOUT_INFO,
    unless the prompt says the entry's name (`names_entry`). bench/hooks.py measures it on a
    development set and five held-out ones.
    """
    from .context import build_context
    from .layers import Layers
    from .lexicon import is_phrasal
    from .text import query_terms

    cfg = memory.config.hooks
    query = " ".join(prompt.split())[:PROMPT_QUERY_CHARS]
    terms = sorted(set(query_terms(query, is_phrasal)))
    if not terms or all(term in CONVERSATIONAL for term in terms):
        return None
    # Every memory the project reads (its own, the personal one, declared extras), as
    # `mem recall` does; each hit is checked against and read from the memory it is in.
    layers = Layers(memory)
    result = layers.recall(query, k=cfg.prompt_max_entries, max_tier=cfg.prompt_max_tier)
    recall_cfg = memory.config.recall
    floors = {"path": 1.0, "keyword": recall_cfg.keyword_floor, "fuzzy": recall_cfg.fuzzy_floor}
    hits = [hit for hit in result.results if hit.match >= floors.get(hit.tier, 0.0) + cfg.prompt_extra_floor]
    hits = [
        hit
        for hit in hits
        if hit.tier not in ("keyword", "fuzzy") or _is_about(layers.memory(hit.memory), hit.path, terms)
    ]
    hits = hits[: cfg.prompt_max_entries]
    if not hits:
        return None
    excerpts: dict[str, str] = {}
    for hit in hits:
        if hit.path in excerpts:
            continue  # the same path in two memories: the better-ranked one is shown
        excerpt = _body_and_summary(layers.memory(hit.memory), hit.path)
        if excerpt is None:  # removed or broken since the index saw it: left out
            continue
        shown = _excerpt(*excerpt, cfg.prompt_lines_per_entry)
        if shown.count("```") % 2:
            shown += "\n```"  # the cut fell inside a code block: close it
        excerpts[hit.path] = shown + f"\n(the whole entry: mem show {hit.path})"
    if not excerpts:
        return None
    short = query if len(query) <= 100 else query[:100].rstrip() + "..."
    framed = replace(result, query=short, results=tuple(hit for hit in hits if hit.path in excerpts))
    return build_context(framed, excerpts, max(50, cfg.prompt_budget_tokens))


def _body_and_summary(memory: Memory, path: str) -> tuple[str, str] | None:
    """An injected entry's body, from its file as it is now, and its summary, from the index
    the recall just brought up to date: what `memory.get` would give, without parsing the
    frontmatter, as recall's snippets (yaml would be the hook's costliest import: its reader
    compiles a large Unicode class). None when the file is gone or no longer splits into
    frontmatter and body."""
    from .entry import split_frontmatter

    try:
        body = split_frontmatter(memory.read_text(path))[1]
    except (MemError, ValueError):
        return None
    index = memory.index()
    rows = [row for row in index.docs(index.find_path(path, "")).values() if row.path == path]
    return body, rows[0].summary if rows else ""


def _is_about(memory: Memory, path: str, terms: list[str]) -> bool:
    """Whether the prompt names the entry's subject (see prompt_context): two of the prompt's
    words (one for a one-word prompt) are among the words the entry says it is about, as
    written or in a plural or tense form (`lexicon.light_key`), and either those words are
    together improbable by chance in the trade's English (their `lexicon.distinctive_idf`s
    add up to MIN_ABOUT_INFO) or the prompt says the entry's name (its path's last part, when
    that is two words or more)."""
    info = about_info(memory, path, terms)
    if info is None:
        return False
    return info >= MIN_ABOUT_INFO or names_entry(path, terms)


def about_info(memory: Memory, path: str, terms: list[str]) -> float | None:
    """The summed distinctive IDF (nats) of the prompt's words among the entry's subject words,
    each word once whatever its forms; None when fewer than MIN_ABOUT_WORDS of them are (one
    for a one-word prompt)."""
    from .lexicon import distinctive_idf, light_key, numeronym, short_forms

    index = memory.index()
    about = set().union(*index.about_words(index.find_path(path, "")).values())
    keys = about | {light_key(word) for word in about}
    # `k8s` in a prompt stands for a title's "kubernetes"; two long words are never matched
    # through their numeronyms (`changes` and `commits` are both c5s)
    numeronyms = {short for short in map(numeronym, about) if short is not None}
    named: dict[str, str] = {}
    for term in terms:
        # as written, in a plural or tense form, or as its short or long form (`db` and a
        # title's "database", "kubernetes" and a title's `k8s`), as recall matches it
        forms = [term, *short_forms(term)]
        if (short := numeronym(term)) is not None:
            forms.append(short)
        if term in numeronyms or any(form in keys or light_key(form) in keys for form in forms):
            named.setdefault(light_key(term), term)  # `test` and `tests` in one prompt: one word
    if len(named) < min(MIN_ABOUT_WORDS, len(terms)):
        return None
    return sum(distinctive_idf(term) for term in named.values())


def names_entry(path: str, terms: list[str]) -> bool:
    """Whether the prompt says the entry's name - every word of its path's last part, in any
    plural or tense form - when that name has at least MIN_ABOUT_WORDS words: "write a commit
    message" and `conventions/git/commit-messages`. A name of one word is one shared word."""
    from .lexicon import light_key

    name = [word for word in path.rsplit("/", 1)[-1].replace("_", "-").split("-") if word]
    said = {light_key(term) for term in terms}
    return len(name) >= MIN_ABOUT_WORDS and all(light_key(word) in said for word in name)


# --- session start -------------------------------------------------------------------------


def session_briefing(memory: Memory, pending_turns: int = 0) -> str | None:
    """Titles and paths of the core, recent and most important entries, within the budget."""
    from .framing import CONTEXT_TAGS, PREAMBLE, neutralize
    from .text import estimate_tokens

    budget = max(100, memory.config.hooks.session_budget_tokens)
    index = memory.index()
    index.ensure_current()
    rows = [row for row in index.all_docs() if not row.superseded_by]
    if not rows:
        return None

    def item(row: Any, dated: bool = False) -> str:
        title = " ".join(neutralize(row.title, CONTEXT_TAGS).split())[:120]
        when = datetime.fromtimestamp(row.updated, UTC).strftime("%Y-%m-%d ") if dated else ""
        return f"- {when}{title} ({row.path})"

    opening = f'<memory-context kind="briefing" entries="{len(rows)}">\n{PREAMBLE}\n'
    footer = [
        'Ask the memory before deciding: `mem recall "a few words" --json` (or the contextree MCP tool '
        "`recall`); read an entry with `mem show PATH`.",
    ]
    if pending_turns:
        footer.append(
            f"{pending_turns} captured turn(s) wait in the inbox: `mem curate --inbox` turns them into entries."
        )
    closing = "\n".join(footer) + "\n</memory-context>\n"
    used = estimate_tokens(opening) + estimate_tokens(closing)
    parts = [opening]
    shown: set[str] = set()

    def section(title: str, chosen: list[Any], dated: bool = False) -> None:
        nonlocal used
        lines = []
        for row in chosen:
            if row.path in shown:
                continue
            line = item(row, dated)
            cost = estimate_tokens(line) + 1
            if used + cost + estimate_tokens(title) > budget:
                break
            lines.append(line)
            used += cost
            shown.add(row.path)
        if lines:
            used += estimate_tokens(title)
            parts.append(title + "\n" + "\n".join(lines) + "\n")

    by_importance = sorted(rows, key=lambda row: (-row.importance, -row.updated, row.path))
    section("Core entries:", [row for row in by_importance if row.maturity == "core"])
    section("Recently changed:", sorted(rows, key=lambda row: (-row.updated, row.path))[:5], dated=True)
    section("Also important:", by_importance)
    parts.append(closing)
    return "".join(parts)


# --- capture -------------------------------------------------------------------------------


def _state_folder(root: Path) -> Path:
    return root / STATE_DIR / HOOKS_DIR


def session_name(payload: Payload) -> str:
    from .inbox import session_key

    if payload.session_id:
        return session_key(payload.session_id)
    import hashlib  # here: only a payload without a session id needs it (hashlib loads OpenSSL, ~2 ms)

    digest = hashlib.sha256(str(payload.transcript).encode()).hexdigest()[:16]
    return f"transcript-{digest}"


def _load_cursor(file: Path, transcript: Path) -> int:
    try:
        state = json.loads(file.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return 0
    if not isinstance(state, dict) or state.get("transcript") != str(transcript):
        return 0  # another transcript under the same session id: start from its beginning
    line = state.get("line")
    return line if isinstance(line, int) and line >= 0 else 0


def capture(memory: Memory, payload: Payload, *, lock_timeout: float = 10.0) -> CaptureResult:
    """Take the transcript's turns after the session's cursor into the inbox, then curate them
    when a model is configured (ADD only). Nothing is taken twice: the cursor moves in the
    same locked step as the inbox write."""
    from .errors import ConflictError
    from .inbox import Inbox
    from .safety import redact_secrets
    from .store import atomic_write_text, file_lock
    from .transcript import Turn, read_turns

    cfg = memory.config.hooks
    if not cfg.capture:
        return CaptureResult(0, 0, notes=("capture is off (hooks.capture: false)",))
    transcript = payload.transcript
    if transcript is None:
        return CaptureResult(0, 0, notes=("the payload names no transcript: nothing to capture",))
    if not transcript.is_file():
        return CaptureResult(0, 0, notes=(f"transcript {transcript} is not a file: nothing captured",))
    key = session_name(payload)
    folder = _state_folder(memory.root)
    folder.mkdir(parents=True, exist_ok=True)
    inbox = Inbox(memory.root)
    notes: list[str] = []
    try:
        with file_lock(folder / f"{key}.lock", lock_timeout, "another capture of this session"):
            cursor_file = folder / f"{key}.json"
            start = _load_cursor(cursor_file, transcript)
            turns, next_line = read_turns(transcript, start, max(200, cfg.capture_max_tokens))
            redactions = 0
            cleaned: list[Turn] = []
            for turn in turns:
                text, count = redact_secrets(turn.text)
                redactions += count
                cleaned.append(replace(turn, text=text))
            if redactions:
                notes.append(f"{redactions} likely secret(s) were cut out of the captured turns")
            if cleaned:
                inbox.append(key, payload.agent, cleaned, memory.clock())
            state = {"transcript": str(transcript), "line": next_line, "agent": payload.agent}
            atomic_write_text(cursor_file, json.dumps(state) + "\n")
            plan, plan_file = _curate_inbox(memory, inbox, key, notes)
            waiting = inbox.read(key)
            return CaptureResult(len(cleaned), len(waiting.turns) if waiting else 0, plan, plan_file, tuple(notes))
    except ConflictError:
        return CaptureResult(0, 0, notes=("another capture of this session is running; its turns wait for the next",))


def _curate_inbox(memory: Memory, inbox: Any, key: str, notes: list[str]) -> tuple[CurationPlan | None, Path | None]:
    """Curate one session's inbox with the model (ADD only) and record the plan; without a
    model, or when the model fails, the turns stay in the inbox for `mem curate --inbox`."""
    from .llm import resolve_settings

    session = inbox.read(key)
    if session is None or not session.turns:
        return None, None
    settings = resolve_settings(memory.config.llm, memory.env)
    if settings is None:
        notes.append("no model is configured: the turns wait in the inbox (mem curate --inbox)")
        return None, None
    try:
        from .llm import require_llm_extra

        require_llm_extra()  # a base install has no litellm: LLMError names `contextree[llm]`
        from .curate import Curator  # imports the model client: only a capture with a model pays

        plan = Curator(memory, settings).curate(session.text, origin=f"session:{key}", only=HOOK_OPERATIONS)
    except ImportError as error:  # litellm is an extra: contextree[llm]
        notes.append(f"the model cannot be called ({error}); the turns wait in the inbox")
        return None, None
    except MemError as error:
        notes.append(f"curation failed ({error.message}); the turns wait in the inbox")
        return None, None
    inbox.remove(key)
    return plan, record_plan(memory, key, plan)


def record_plan(memory: Memory, key: str, plan: CurationPlan) -> Path:
    from .jsonable import jsonable
    from .store import atomic_write_text

    stamp = memory.clock().strftime("%Y%m%dT%H%M%S%fZ")
    file = _state_folder(memory.root) / "plans" / f"{stamp}-{key}.json"
    atomic_write_text(file, json.dumps(jsonable(plan), ensure_ascii=False, indent=2) + "\n")
    return file


# --- one hook call ---------------------------------------------------------------------------


def run_hook(memory: Memory, payload: Payload) -> HookOutcome:
    """Do what `payload.event` asks and return what to print. Raises MemError on failure (the
    caller prints nothing then, and logs it)."""
    agent, event = payload.agent, payload.event
    if event == "prompt":
        if "prompt" not in INJECTS[agent] or not payload.prompt:
            return HookOutcome(render(agent, event, None))
        block = prompt_context(memory, payload.prompt)
        if block is None:
            return HookOutcome(render(agent, event, None))
        return HookOutcome(render(agent, event, block.text), block.tokens, block.included)
    if event == "session-start":
        from .inbox import Inbox
        from .text import estimate_tokens

        briefing = session_briefing(memory, Inbox(memory.root).count())
        if briefing is None:
            return HookOutcome(render(agent, event, None))
        return HookOutcome(render(agent, event, briefing), estimate_tokens(briefing))
    result = capture(memory, payload)
    notes = list(result.notes)
    if result.turns:
        notes.insert(0, f"captured {result.turns} turn(s); {result.inbox} wait in the inbox")
    if result.plan is not None:
        applied = [f"{op.op} {op.path}" for op in result.plan.operations if op.applied]
        notes.append(f"curated: {', '.join(applied) or 'nothing new'} (plan: {result.plan_file})")
    return HookOutcome(render(agent, event, None), notes=tuple(notes))


def log_line(root: Path, event: str, agent: str, message: str, *, limit: int = 1 << 20) -> None:
    """Append one line to .mem/hooks.log (kept under `limit` bytes: the older half is dropped)."""
    file = root / STATE_DIR / LOG_FILE
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = f"{stamp} {agent} {event}: {' '.join(message.split())}\n"
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        if file.exists() and file.stat().st_size > limit:
            kept = file.read_bytes()[-limit // 2 :]
            file.write_bytes(kept[kept.find(b"\n") + 1 :])
        with open(file, "a", encoding="utf-8") as handle:
            handle.write(line)
    except OSError:
        pass  # a hook must never fail because its log cannot be written
