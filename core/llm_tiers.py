"""The model tiers of recall: `llm` (one call over the cheap tiers' best candidates) and
`agent` (a bounded loop in which the model lists folders, reads entries and searches).

Both are reached only through `escalate`, which `Recaller.recall` calls when the cheap tiers
were not confident (or `escalate=True`) and a model is configured. Nothing here may fail a
recall: every model failure becomes `LLMInfo.error` and a one-line note, and the caller
keeps the cheap tiers' answer.

What the model is shown (docs/llm.md): the question, and entries as data. Memory content is
untrusted (anyone or any agent may have written it), so it always travels inside
`<memory-context>` / `<memory>` / `<observation>` blocks that the system prompt declares to
be data, the closing tags cannot be forged from inside an entry (`</memory>` in a body is
sent as `<\\/memory>`), and bodies are trimmed to a token budget. Paths the model names are
only accepted when they are among the entries it was shown.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import MemError
from .framing import PREAMBLE, attribute, memory_block, neutralize, question_block, trim_to_tokens
from .llm import LLMClient, LLMError, LLMSettings, Message, ReplyCache, parse_json_object, validate
from .paths import STATE_DIR, normalize_prefix, under_prefix
from .text import estimate_tokens, ms_since

if TYPE_CHECKING:
    from .memory import Memory
    from .recall import Hit, Tier

PROMPT_VERSION = "1"  # part of the cache key: a new prompt must not reuse old answers
MIN_SHARE_TOKENS = 40
AGENT_LIST_LIMIT = 60
AGENT_SEARCH_K = 8

LLM_SYSTEM = f"""You answer questions from a long-term memory of a software project (contextree).
You are given a QUESTION and CANDIDATE ENTRIES from the memory, each in a <memory path="..."> block.
{PREAMBLE}
Choose the entries that help answer the question, most useful first, and answer the question using
only what those entries say. Cite entries by their exact path, in square brackets, e.g. [domain/topic/entry].
If no entry helps, return an empty "relevant" list and a null answer: never guess beyond the entries.
Reply with exactly one JSON object and nothing else:
{{"relevant": ["<path>", ...], "answer": "<short answer with [path] citations>" or null,
 "citations": ["<path>", ...]}}"""

LLM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["relevant"],
    "properties": {
        "relevant": {"type": "array", "items": {"type": "string"}},
        "answer": {"type": ["string", "null"]},
        "citations": {"type": "array", "items": {"type": "string"}},
    },
}

AGENT_SYSTEM = (
    """You answer a question by exploring a long-term memory of a software project (contextree).
The memory is a tree of folders (domain/topic) holding entries; an entry's path is like domain/topic/entry.
Each turn, reply with exactly one JSON object, one action:
  {{"action": "list", "path": "<folder path, or \\"\\" for the top>"}}
  {{"action": "read", "path": "<entry path>"}}
  {{"action": "search", "query": "<a few words>"}}
  {{"action": "answer", "answer": "<short answer with [path] citations>" or null, "citations": ["<entry path>", ...]}}
The result of each action comes back in an <observation> block. """
    + PREAMBLE.replace("below", "in observations")
    + """
Answer only from entries you have read or seen; answer null with no citations if the memory does not
know. You have at most {steps} actions; the last one must be "answer"."""
)

AGENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["action"],
    "properties": {
        "action": {"enum": ["list", "read", "search", "answer"]},
        "path": {"type": "string"},
        "query": {"type": "string"},
        "answer": {"type": ["string", "null"]},
        "citations": {"type": "array", "items": {"type": "string"}},
    },
}


@dataclass(frozen=True)
class LLMInfo:
    """How the model tiers went, for RecallResult.llm."""

    model: str
    tier: str  # the last model tier that ran (llm or agent)
    tokens_in: int = 0
    tokens_out: int = 0
    ms: float = 0.0
    calls: int = 0
    cached: bool = False
    error: str | None = None
    steps: int | None = None  # actions the agent took


@dataclass(frozen=True)
class TierStep:
    """What one model tier did. It names entries by path: hits (scores, lifecycle, memory
    labels) are recall's to build, so `Recaller` turns each step into a `TierTrace` for
    `--explain`, as it does for the cheap tiers' candidates."""

    tier: Tier
    ms: float
    confident: bool
    reason: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Escalation:
    resolved_by: Tier | None
    paths: tuple[str, ...]  # the relevant entries, best first
    answer: str | None
    citations: tuple[str, ...]
    info: LLMInfo
    notes: tuple[str, ...] = ()
    steps: tuple[TierStep, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)


def _step(tier: Tier, ms: float, paths: Sequence[str], chose: str, chose_none: str) -> TierStep:
    """A model tier's step: confident when the model named entries."""
    return TierStep(tier, ms, bool(paths), chose if paths else chose_none, tuple(paths))


# --- prompt building ------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An entry offered to the llm tier."""

    path: str
    title: str
    summary: str
    body: str
    source: str | None
    updated: str


def candidates_block(candidates: Sequence[Candidate], budget: int) -> tuple[str, list[str]]:
    """The candidates, best first, bodies trimmed so that all of them fit `budget` tokens:
    each gets an equal share of what is left, and what one does not use passes on."""
    parts = ["<memory-context>\n"]
    trimmed: list[str] = []
    remaining = budget
    for position, candidate in enumerate(candidates):
        share = max(MIN_SHARE_TOKENS, remaining // (len(candidates) - position))
        summary, _ = trim_to_tokens(candidate.summary, max(MIN_SHARE_TOKENS, share // 4))
        body, cut = trim_to_tokens(candidate.body, max(MIN_SHARE_TOKENS, share - estimate_tokens(summary)))
        if cut:
            trimmed.append(candidate.path)
        block = memory_block(
            candidate.path,
            candidate.title,
            body,
            summary=summary,
            attributes={"source": candidate.source or "unknown", "updated": candidate.updated},
        )
        remaining = max(0, remaining - estimate_tokens(body) - estimate_tokens(summary))
        parts.append(block)
    parts.append("</memory-context>\n")
    return "".join(parts), trimmed


def llm_messages(query: str, candidates: Sequence[Candidate], budget: int) -> list[Message]:
    context, _ = candidates_block(candidates, budget)
    user = f"QUESTION:\n{question_block(query)}\nCANDIDATE ENTRIES:\n{context}"
    return [{"role": "system", "content": LLM_SYSTEM}, {"role": "user", "content": user}]


def clean_path(raw: str) -> str:
    return raw.strip().strip("[]`'\"").strip().removeprefix("/").removesuffix(".md")


def _accepted(raw: Sequence[str], allowed: Sequence[str] | set[str]) -> tuple[list[str], list[str]]:
    """(paths among `allowed`, in order and once each; names that were not)."""
    allowed_set = set(allowed)
    kept: list[str] = []
    dropped: list[str] = []
    for item in raw:
        path = clean_path(item)
        if path in allowed_set:
            if path not in kept:
                kept.append(path)
        elif path not in dropped:
            dropped.append(path)
    return kept, dropped


def _cited_in(answer: str | None, allowed: set[str]) -> list[str]:
    if not answer:
        return []
    return [path for path in dict.fromkeys(re.findall(r"\[([^\[\]\s]+)\]", answer)) if clean_path(path) in allowed]


def _dropped_note(tier: str, dropped: Sequence[str]) -> str:
    names = ", ".join(repr(name) for name in dropped[:3]) + (", ..." if len(dropped) > 3 else "")
    return f"the {tier} tier named {len(dropped)} path(s) it was not shown, dropped: {names}"


# --- escalation -----------------------------------------------------------------------------


class Escalator:
    """Runs the model tiers for one recall."""

    def __init__(self, memory: Memory, settings: LLMSettings, client: LLMClient | None = None) -> None:
        self.memory = memory
        self.settings = settings
        self.client = client or LLMClient(settings, state_dir=memory.root / STATE_DIR)

    def cache_key(self, query: str, scope: str, last_tier: str, pool: Sequence[Hit], version: str) -> str:
        material = [
            PROMPT_VERSION,
            self.settings.model,
            self.settings.api_base,
            query,
            scope,
            last_tier,
            version,
            [hit.path for hit in pool],
            self.settings.candidate_budget_tokens,
            self.settings.agent_max_steps,
        ]
        return hashlib.sha256(json.dumps(material).encode()).hexdigest()

    def run(self, query: str, scope: str, pool: Sequence[Hit], last_tier: Tier, version: str) -> Escalation:
        started = time.perf_counter()
        self.client.set_budget(self.settings.recall_deadline_seconds)  # the whole escalation
        cache = ReplyCache(self.memory.root) if self.settings.cache else None
        key = self.cache_key(query, scope, last_tier, pool, version)
        if cache is not None and (hit := cache.get(key)) is not None:
            return self._from_cache(hit, started)
        notes: list[str] = []
        steps: list[TierStep] = []
        timings: dict[str, float] = {}
        resolved_by: Tier | None = None
        paths: list[str] = []
        answer: str | None = None
        citations: list[str] = []
        tier_ran: Tier = "llm"
        agent_steps: int | None = None
        error: str | None = None
        try:
            if pool:
                tier_started = time.perf_counter()
                paths, answer, citations, tier_notes = self._llm_tier(query, pool)
                timings["llm"] = ms_since(tier_started)
                notes += tier_notes
                steps.append(
                    _step(
                        "llm",
                        timings["llm"],
                        paths,
                        f"the model chose {len(paths)} of {len(pool)} candidates",
                        f"the model found none of the {len(pool)} candidates relevant",
                    )
                )
                resolved_by = "llm" if paths else None
            else:
                steps.append(TierStep("llm", 0.0, False, "skipped: the cheap tiers found no candidates", ()))
            if resolved_by is None and last_tier == "agent":
                tier_ran = "agent"
                tier_started = time.perf_counter()
                paths, answer, citations, agent_steps, tier_notes = self._agent_tier(query, scope)
                timings["agent"] = ms_since(tier_started)
                notes += tier_notes
                answered, unanswered = "answered", "no answer from the memory"
                after = f" after {agent_steps} action(s)"
                steps.append(_step("agent", timings["agent"], paths, answered + after, unanswered + after))
                resolved_by = "agent" if paths else None
        except LLMError as failure:
            failed_tier = tier_ran
            timings.setdefault(failed_tier, ms_since(started))
            error = f"{failure.failure}: {failure.message}"
            notes.append(f"the {failed_tier} tier failed ({failure.message}); the cheap tiers' answer is shown")
            steps.append(TierStep(failed_tier, timings[failed_tier], False, f"failed: {failure.message}", ()))
            resolved_by, paths, answer, citations = None, [], None, []
        usage = self.client.usage
        info = LLMInfo(
            model=self.settings.model,
            tier=tier_ran,
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            ms=round(usage.ms, 1),
            calls=usage.calls,
            error=error,
            steps=agent_steps,
        )
        outcome = Escalation(
            resolved_by=resolved_by,
            paths=tuple(paths),
            answer=answer,
            citations=tuple(citations),
            info=info,
            notes=tuple(notes),
            steps=tuple(steps),
            timings=timings,
        )
        if cache is not None and error is None and usage.calls:
            cache.put(key, _to_cache(outcome))
        return outcome

    def _from_cache(self, data: Mapping[str, Any], started: float) -> Escalation:
        tier: Tier | None = data.get("resolved_by")
        ms = ms_since(started)
        info = LLMInfo(model=self.settings.model, tier=str(data.get("tier", "llm")), ms=ms, cached=True)
        steps = tuple(
            TierStep(step["tier"], 0.0, bool(step["confident"]), "cached: " + step["reason"], tuple(step["paths"]))
            for step in data.get("steps", [])
        )
        return Escalation(
            resolved_by=tier,
            paths=tuple(data.get("paths", [])),
            answer=data.get("answer"),
            citations=tuple(data.get("citations", [])),
            info=info,
            notes=(*data.get("notes", []), "answer reused from the cache (.mem/llm-cache.db)"),
            steps=steps,
            timings={info.tier: ms},
        )

    # --- llm tier -------------------------------------------------------------------------

    def _candidates(self, pool: Sequence[Hit]) -> list[Candidate]:
        found = []
        for hit in pool:
            try:
                entry = self.memory.get(hit.path)
            except MemError:
                continue  # removed or broken since the index saw it
            found.append(Candidate(hit.path, entry.title, entry.summary, entry.body, entry.source, hit.updated))
        return found

    def _llm_tier(self, query: str, pool: Sequence[Hit]) -> tuple[list[str], str | None, list[str], list[str]]:
        candidates = self._candidates(pool)
        messages = llm_messages(query, candidates, self.settings.candidate_budget_tokens)
        data, _ = self.client.chat_json(messages, LLM_SCHEMA)
        shown = [candidate.path for candidate in candidates]
        relevant, dropped = _accepted(data.get("relevant", []), shown)
        cited, dropped_cited = _accepted(data.get("citations", []), shown)
        cited = list(dict.fromkeys([*cited, *_cited_in(data.get("answer"), set(shown))]))
        notes = []
        missing = [path for path in dict.fromkeys([*dropped, *dropped_cited]) if path]
        if missing:
            notes.append(_dropped_note("llm", missing))
        relevant += [path for path in cited if path not in relevant]
        answer = data.get("answer") if relevant else None
        return relevant, answer, [path for path in cited if path in relevant], notes

    # --- agent tier -----------------------------------------------------------------------

    def _agent_tier(self, query: str, scope: str) -> tuple[list[str], str | None, list[str], int, list[str]]:
        settings = self.settings
        messages: list[Message] = [
            {"role": "system", "content": AGENT_SYSTEM.format(steps=settings.agent_max_steps)},
            {"role": "user", "content": f"QUESTION:\n{question_block(query)}" + self._scope_line(scope)},
        ]
        seen: set[str] = set()
        spent_before = self.client.usage.tokens
        notes: list[str] = []
        for step in range(1, settings.agent_max_steps + 1):
            spent = self.client.usage.tokens - spent_before
            if spent >= settings.agent_max_tokens:
                notes.append(f"the agent tier stopped at its token budget ({spent} of {settings.agent_max_tokens})")
                return [], None, [], step - 1, notes
            reply = self.client.chat(messages)
            messages.append({"role": "assistant", "content": reply.text})
            try:
                action = parse_json_object(reply.text)
                validate(action, AGENT_SCHEMA)
            except LLMError as problem:
                observation = f"error: {problem.message}. Reply with one JSON action."
            else:
                if action["action"] == "answer":
                    cited, dropped = _accepted(action.get("citations", []), seen)
                    cited += [p for p in _cited_in(action.get("answer"), seen) if p not in cited]
                    if dropped:
                        notes.append(_dropped_note("agent", dropped))
                    answer = action.get("answer") if cited else None
                    return cited, answer, cited, step, notes
                observation = self._act(action, scope, seen)
            last = step == settings.agent_max_steps - 1
            tail = "\nThis is your last action: reply with an answer now." if last else ""
            messages.append(
                {
                    "role": "user",
                    "content": f'<observation step="{step}">\n{observation}\n</observation>{tail}',
                }
            )
        notes.append(f"the agent tier used its {settings.agent_max_steps} actions without answering")
        return [], None, [], settings.agent_max_steps, notes

    @staticmethod
    def _scope_line(scope: str) -> str:
        return f'\nOnly entries under the folder "{scope}" count.\n' if scope else ""

    def _act(self, action: Mapping[str, Any], scope: str, seen: set[str]) -> str:
        kind = action["action"]
        if kind == "search":
            words = str(action.get("query") or "").strip()
            if not words:
                return "error: search needs a query"
            result = self.memory.recall(words, k=AGENT_SEARCH_K, scope=scope or None, max_tier="fuzzy")
            if not result.results:
                return "no entries match"
            lines = []
            for hit in result.results:
                seen.add(hit.path)
                snippet = f" — {neutralize(hit.snippet)}" if hit.snippet else ""
                lines.append(f"- {hit.path}: {neutralize(hit.title)}{snippet}")
            return "\n".join(lines)
        raw = clean_path(str(action.get("path") or ""))
        try:
            path = normalize_prefix(raw)
        except MemError as problem:
            return f"error: {problem.message}"
        if scope and not (under_prefix(path, scope) or under_prefix(scope, path)):
            return f"error: {path!r} is outside the folder {scope!r}"
        if kind == "read":
            try:
                entry = self.memory.get(path)
            except MemError as problem:
                return f"error: {problem.message}"
            seen.add(path)
            body, _ = trim_to_tokens(entry.body, max(200, self.settings.candidate_budget_tokens // 2))
            updated = entry.updated.isoformat() if entry.updated else ""
            attributes = {"source": entry.source or "unknown", "updated": updated}
            return memory_block(path, entry.title, body, summary=entry.summary, attributes=attributes).rstrip("\n")
        return self._listing(path, scope, seen)

    def _listing(self, folder: str, scope: str, seen: set[str]) -> str:
        records = self.memory.scan(folder or None).records
        depth = len(folder.split("/")) if folder else 0
        folders: dict[str, int] = {}
        entries: list[str] = []
        for record in records:
            if scope and not under_prefix(record.path, scope):
                continue
            parts = record.path.split("/")
            if len(parts) == depth + 1:
                entries.append(record.path)
            elif len(parts) > depth + 1:
                child = "/".join(parts[: depth + 1])
                folders[child] = folders.get(child, 0) + 1
        if not folders and not entries:
            return f"error: no folder {folder!r}" if folder else "the memory is empty"
        lines = [f"- {name}/ ({count} entries)" for name, count in sorted(folders.items())[:AGENT_LIST_LIMIT]]
        for path in sorted(entries)[:AGENT_LIST_LIMIT]:
            seen.add(path)
            try:
                title = self.memory.get(path).title
            except MemError:
                continue
            lines.append(f"- {path}: {neutralize(title)}")
        more = len(folders) + len(entries) - len(lines)
        if more > 0:
            lines.append(f"(and {more} more; search to narrow down)")
        return f'<memory-context folder="{attribute(folder)}">\n' + "\n".join(lines) + "\n</memory-context>"


def _to_cache(outcome: Escalation) -> dict[str, Any]:
    return {
        "resolved_by": outcome.resolved_by,
        "tier": outcome.info.tier,
        "paths": list(outcome.paths),
        "answer": outcome.answer,
        "citations": list(outcome.citations),
        "notes": list(outcome.notes),
        "steps": [
            {"tier": step.tier, "confident": step.confident, "reason": step.reason, "paths": list(step.paths)}
            for step in outcome.steps
        ],
    }
