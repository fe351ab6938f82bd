"""Tiered recall: path, then keyword (BM25), then fuzzy, stopping at the first confident tier.

Every tier turns its matches into a *relevance* between 0 and 1 that means the same thing
everywhere: how much of the query the entry accounts for.

- path:    1.0 for an exact path, a unique path prefix or an exact title.
- keyword: the IDF-weighted share of the query's content words that the entry contains
           (its *coverage*), scaled by its BM25 score relative to the best candidate's:
           coverage x (0.5 + 0.5 x bm25 / best bm25). A question about something the memory
           never heard of covers little of the query, whatever BM25 says.
- fuzzy:   the same coverage, but each query word may match an entry word approximately
           (rapidfuzz ratio over the words of titles, keywords, tags and paths), weighted by
           how similar they are: typos, partial words and any word order.

A tier is *confident* when its best relevance reaches the tier's floor and leads the
runner-up by the margin (both in config.yaml, `recall:`). Results are ranked with the
lifecycle formula; nothing is returned when no hit reaches the floor of a tier that ran.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal, get_args

from .answers import ASKS, AnswerKind, asked_kind, asks_for_person, is_about_people
from .config import Config
from .dates import DateQuery, local_day, read_query, rerank
from .diversity import is_list_question, spread_over_folders
from .entry import split_frontmatter
from .errors import InvalidError, MemError
from .index import DocRow, Index, RefreshReport
from .lexicon import (
    BROADER,
    DERIVED,
    INFLECTION,
    SHORT_FORM,
    SYNONYM,
    background_idf,
    has_vowel,
    is_common_word,
    is_garbled_function_word,
    is_known_word,
    is_phrasal,
    is_real_word,
    light_key,
    numeronym,
    numeronym_parts,
    related,
    short_forms,
    stem_prefix,
    variants,
)
from .lifecycle import Signals, effective_importance, rank_score, recency
from .names import capitalised_words, may_be_name, similar_names
from .paths import normalize_prefix
from .state import StateStore
from .text import STOPWORDS, fold, has_unspaced_script, ms_since, query_terms, snippet, split_unspaced, words
from .times import format_time

if TYPE_CHECKING:
    from .llm_tiers import Escalation, LLMInfo
    from .memory import Memory

Tier = Literal["path", "keyword", "fuzzy", "llm", "agent"]
TIERS: tuple[Tier, ...] = get_args(Tier)
CHEAP_TIERS: tuple[Tier, ...] = ("path", "keyword", "fuzzy")
NO_MEMORY = "no memory about this"
# The particles of phrasal verbs a team writes as one word too: set up / setup, roll out /
# rollout, fail over / failover, log in / login, time out / timeout, hand off / handoff.
# (Those after which the verb alone means something else, "set up" not being "set", are the
# phrasal verbs of core/data/english-phrasal.txt: lexicon.is_phrasal.)
PARTICLES = frozenset("up out over down off in on".split())
# An identifier in a question: words joined by `_ - . : / < >` with no space
# (`larkspur-prod-ro`, `user_sess:<user_id>`, `invoice.paid`); a URL or a path of more parts
# than this is no identifier a phrase helps with. Where some entry writes the identifier,
# each of its words found apart counts this much (_with_identifier_phrases).
_IDENTIFIER = re.compile(r"\w+(?:[-_.:/<>]+\w+)+")
MAX_IDENTIFIER_PARTS = 6
IDENTIFIER_PART = 0.5
# A word of the question that the memory writes at the head of a longer one (`pager` in
# pagerduty): related, like a Porter-only form, and often not the same thing (`time`, timeout).
COMPOUND_HEAD = 0.4
MIN_COMPOUND_HEAD = 4  # letters of the head; the rest has one fewer at least (`pager`+`duty`, not `log`+`in`)
NAME_SUFFIX = 3  # at most this many consonants end a name made from a word (`mq`, `db`, `js`, `sql`)
# A query word found only in an entry's body counts this much of what it would in its title,
# keywords, tags or path: those say what the entry is about, a body mentions many things.
BODY_ONLY = 0.75
# A foreign word (_note_foreign) raises the bar for an answer when it carries at least this
# share of the question's informative weight: "the Stripe Connect payout schedule" is about
# payouts, "what's the wifi password at the office" only mentions an office.
FOREIGN_SHARE = 0.25
# Foreign words that together carry at least this share of the question's weight make it a
# question about what the memory has never heard of, whatever else it shares with an entry:
# "how do I bring up the NB-IoT / LTE-M modem on the sensor" over a firmware memory that has
# the sensor and no modem. No hit of that tier counts as in domain (_reaches_minimum).
FOREIGN_MAJORITY = 0.5
# BM25 counts a question's words wherever an entry has them; an entry that writes two
# neighbouring words of the question next to each other, in the question's order ("mlp deploy
# rollback", "support group"), more likely speaks of the same thing. The rank part of its
# relevance grows by up to this share (all the question's phrases written so); only the best
# PHRASE_CANDIDATES by BM25 are read for it (_with_phrases).
PHRASE_BONUS = 1.0
PHRASE_CANDIDATES = 30
# Entries that gain from feedback words (core/recall.py, _with_feedback), at most: the rest of
# those that have one of them would only lengthen the ranking.
FEEDBACK_JOINS = 50
# Feedback needs a pool: the words of one or two matches are those entries' own, not the
# subject's. And an entry joins the ranking through them only with two or more of them: one
# shared word ("facts") does not make it about the same thing.
FEEDBACK_MIN_MATCHES = 3
FEEDBACK_JOIN_WORDS = 2
# Feedback runs over at most this many entries in scope: counting which entries have its
# words grows with the tree (at 10,000 entries it doubled the in-process recall time).
FEEDBACK_MAX_ENTRIES = 3000
# A word this long or longer that is unknown may be a typo of a word only bodies have
# ("selct" for `select *` in a style guide); shorter ones have too many close spellings.
TYPO_IN_BODY_LENGTH = 4
# A word of this many letters with one letter wrong, missing, added or two swapped ("rool" for
# roll) has a ratio of 75 at best, under `recall.fuzzy_min_similarity` (80), which keeps longer
# words from being taken for one another: it is corrected by that one slip instead, to a word
# with the same first letter. Shorter words have too many neighbours one slip away.
ONE_EDIT_LENGTH = 4

# A question about nothing but a time ("what happened last week", "what's new", "what did we
# add yesterday", "anything changed since Monday"): once its date expressions are read, its
# only other words are these - what happens to a memory or in a conversation, and words for
# "entries" - so no entry has to contain them, and they are not what the question is about.
# The answer is the entries of that time, the newest first (`_time_listing`). What goes wrong
# is news too: "what broke in september", "anything fail last night".
ACTIVITY_WORDS = frozenset(
    """
    happen change new news update add do go going on work learn write wrote written note
    record entry memory thing stuff anything something everything show list see talk
    discuss say said mention been there
    break broke broken fail wrong went
    """.split()
)
# Without a date expression, one of these makes such a question ask for the newest: "what's
# new", "what changed", "any updates", "what happened".
NEWS_WORDS = frozenset("happen change new news update".split())
# Entries a question about a time lists at most (more than `k`: a model tier chooses among them).
TIME_LISTING_POOL = 50


@dataclass(frozen=True)
class Hit:
    """One entry found by a recall, with its scores."""

    path: str
    title: str
    score: float  # the lifecycle ranking score the results are ordered by
    tier: Tier  # the tier that found it
    snippet: str
    importance: int  # as written in the frontmatter
    maturity: str
    relevance: float  # 0-1 relative to the tier's best hit: what the ranking uses
    match: float  # 0-1 absolute: how well the entry matches the query (what the gates use)
    effective_importance: float
    recency: float
    source: str | None
    updated: str
    superseded_by: str | None = None  # a newer entry replaced this one
    flags: tuple[str, ...] = ()  # instruction-like text found in it: treat with suspicion (docs/security.md)
    memory: str = "project"  # the memory it is in: project, personal or an extra (core/layers.py)
    # A time listing's ("what happened last week"): the day it is listed under, the last of
    # the asked days it was written in or speaks of (ISO date). None for any other recall.
    day: str | None = None


@dataclass(frozen=True)
class TierTrace:
    """What one tier did, for `--explain`."""

    tier: Tier
    ms: float
    confident: bool
    reason: str
    candidates: tuple[Hit, ...]


@dataclass(frozen=True)
class IndexStatus:
    """What bringing the index up to date cost the recall (`scanned` 0: a watcher vouched for it)."""

    scanned: int
    changed: int
    rebuilt: bool
    ms: float


@dataclass(frozen=True)
class RecallResult:
    """The answer of one recall: its hits (best first), which tier resolved it, notes and timings."""

    query: str
    resolved: bool  # a tier was confident
    tier: Tier | None  # the tier that resolved it
    timings_ms: Mapping[str, float]
    results: tuple[Hit, ...]
    message: str
    notes: tuple[str, ...] = ()
    explain: tuple[TierTrace, ...] = ()
    index: IndexStatus | None = None
    problems: tuple[str, ...] = field(default=())
    # Set when a model tier ran (core/llm_tiers.py): its answer, the entries it cites, and
    # how the call went (model, tokens, time, cached, error).
    answer: str | None = None
    citations: tuple[str, ...] = ()
    llm: LLMInfo | None = None


@dataclass
class _Candidate:
    """An entry a tier matched, before ranking."""

    doc_id: int
    relevance: float  # what ranking uses (for keyword hits: including the topic context)
    tier: Tier
    match: float  # what the gates use: how well the entry itself matches (0-1)
    # The single word it shares with a question of several, when that is not the question's
    # most informative one (_reaches_minimum); "" otherwise.
    one_word: str = ""


# A ranked candidate: (score, candidate, its index row, effective importance, recency).
_Ranked = tuple[float, _Candidate, DocRow, float, float]


def _round(value: float) -> float:
    return round(value, 4)


def idf(document_frequency: int, total: int) -> float:
    """BM25's inverse document frequency, never negative."""
    return math.log(1.0 + (total - document_frequency + 0.5) / (document_frequency + 0.5))


# A query is a few keywords or a question. Recall's cost grows faster than linearly with the
# number of distinct words (fuzzy matching and scoring of each), so a query from an agent or
# MCP client is bounded: a pasted document is refused, not searched for a minute.
MAX_QUERY_CHARS = 16 * 1024
MAX_QUERY_WORDS = 1000


def check_query_size(query: str) -> None:
    """Refuse a query too long to be a question (InvalidError, one line)."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidError(f"the query is {len(query):,} characters; at most {MAX_QUERY_CHARS:,} are searched")
    words = len(query.split())
    if words > MAX_QUERY_WORDS:
        raise InvalidError(f"the query has {words:,} words; at most {MAX_QUERY_WORDS:,} are searched")


class Recaller:
    """One recall over one memory: refreshes the index, walks the tiers, ranks the hits."""

    def __init__(self, memory: Memory, index: Index, state: StateStore) -> None:
        self.memory = memory
        self.config: Config = memory.config
        self.index = index
        self.state = state
        self._term_cache: dict[tuple[str, str], set[int]] = {}
        self._forms_cache: dict[str, dict[str, float]] | None = None  # the index's, per content version
        self._when: DateQuery | None = None  # what the question says about time (core/dates.py)
        self._undated = ""  # the time the question restricts to, when no entry is dated then
        self._time_only = False  # the question asks about nothing but a time (`_time_listing`)
        self._listing = ""  # what a time listing shows, for the message
        self._listed_days: dict[int, int] = {}  # a time listing's entries: doc id -> day ordinal
        self._named: list[str] = []  # the question's words that may be a person's name (core/names.py)
        self._phrases: list[tuple[str, str]] = []  # neighbouring content words of the question (_with_phrases)
        self._asked_kind: AnswerKind | None = None  # when? how many? (core/answers.py)
        self._last_scored: tuple[tuple[tuple[int, float], ...], list[_Ranked]] | None = None  # _ranked's
        # Per tier: the question's most informative word when the memory has it in no form
        # (set by _score; the gate is then not sure: _knows_subject).
        self._unseen_subject: dict[Tier, str] = {}
        # Per tier: the question's foreign words and the share of its weight each carries,
        # heaviest first (_note_foreign).
        self._foreign: dict[Tier, dict[str, float]] = {}
        self._possessors: list[str] = []  # "X" of the question's "X's" (_possessors)
        self._people_names: list[str] = []  # words of the question that may name a person (_person_names)
        # Per tier, each possessor or person's name: (the entries that have it, whether a sure
        # answer must be one of them: _note_required_words).
        self._required: dict[Tier, dict[str, tuple[set[int], bool]]] = {}
        self._typos: dict[str, bool] = {}  # unknown word -> whether the fuzzy tier corrects it

    def recall(
        self,
        query: str,
        *,
        k: int | None = None,
        scope: str | None = None,
        max_tier: str | None = None,
        explain: bool = False,
        escalate: bool = False,
    ) -> RecallResult:
        started = time.perf_counter()
        query = query.strip()
        if not query:
            raise InvalidError("the query is empty")
        check_query_size(query)
        limit = self.config.recall.k if k is None else k
        if limit < 1:
            raise InvalidError("k must be at least 1")
        last_tier = _parse_tier(max_tier)
        prefix = normalize_prefix(scope)

        report = self.index.ensure_current()  # a scan, unless a watcher here keeps the index current
        timings: dict[str, float] = {"refresh": report.ms}
        terms = self._read_dates(query, prefix)
        self._read_question(query, terms)
        traces: list[TierTrace] = []
        if self._when is not None and self._time_only and last_tier != "path":
            found, resolved_by, in_domain = self._time_listing(
                self._when, prefix, limit, timings, traces if explain else None
            )
            terms = []  # the snippets begin where the entries do
        else:
            found, resolved_by, in_domain = self._cheap_tiers(
                query, terms, prefix, last_tier, timings, traces if explain else None, escalate=escalate
            )
        # In domain or not: some tier must have had a hit reaching that tier's minimum. Then
        # the candidates of every tier walked are ranked together.
        spread = is_list_question(query)  # list-like: answers spread over folders (core/diversity.py)
        hits = self._hits(list(found.values()), terms, limit, spread=spread) if in_domain else []
        notes: list[str] = []
        model: Escalation | None = None
        if TIERS.index(last_tier) >= TIERS.index("llm") and (resolved_by is None or escalate):
            model = self._escalate(query, terms, prefix, list(found.values()), last_tier, notes)
        if model is not None:
            timings.update(model.timings)
            notes.extend(model.notes)
            if explain:
                for step in model.steps:
                    chosen = tuple(self._model_hits(step.paths, step.tier, terms, prefix))
                    traces.append(TierTrace(step.tier, step.ms, step.confident, step.reason, chosen))
            if model.resolved_by is not None:
                resolved_by = model.resolved_by
                hits = self._model_hits(model.paths, model.resolved_by, terms, prefix)[:limit]
        if model is not None and model.resolved_by is not None:
            self._record_citations(model.citations, hits)
        if resolved_by is not None:
            message = f"resolved by the {resolved_by} tier"
        else:
            message = self._listing or "no tier was confident; the best matches are shown"
            message = message if hits else NO_MEMORY
        timings["total"] = ms_since(started)
        problems = tuple(str(problem) for problem in report.problems)
        return RecallResult(
            query=query,
            resolved=resolved_by is not None,
            tier=resolved_by,
            timings_ms=timings,
            results=tuple(hits),
            message=message,
            notes=tuple(notes),
            explain=tuple(traces),
            index=_status(report),
            problems=problems,
            answer=model.answer if model is not None and model.resolved_by is not None else None,
            citations=model.citations if model is not None and model.resolved_by is not None else (),
            llm=model.info if model is not None else None,
        )

    def _record_citations(self, citations: tuple[str, ...], hits: list[Hit]) -> None:
        """The entries a model's answer cites were used (docs/lifecycle.md). Being the first
        hit is not a use: a wrong first hit would be rewarded as often as a right one. The
        lifecycle's "now" comes from the Memory's clock, so simulated time in tests and tools
        sees the same accesses that ranking and `mem consolidate` see."""
        if not self.config.recall.record_access:
            return
        shown = {hit.path for hit in hits}
        cited = [path for path in citations if path in shown]
        if cited:
            self.state.record(cited, self.memory.clock().timestamp())

    def _cheap_tiers(
        self,
        query: str,
        terms: list[str],
        prefix: str,
        last_tier: Tier,
        timings: dict[str, float],
        traces: list[TierTrace] | None,
        *,
        escalate: bool,
    ) -> tuple[dict[int, _Candidate], Tier | None, bool]:
        """Walk the cheap tiers up to `last_tier`, stopping at the first confident one unless
        `escalate`: (best candidate per document, the tier that resolved it, whether any hit
        reached its tier's minimum). Timings, and with `traces` the explain steps, are added."""
        found: dict[int, _Candidate] = {}
        resolved_by: Tier | None = None
        in_domain = False
        for tier in CHEAP_TIERS:
            if TIERS.index(tier) > TIERS.index(last_tier):
                break
            tier_started = time.perf_counter()
            candidates = self._run_tier(tier, query, terms, prefix)
            competing, unmet = self._by_date(tier, candidates)
            confident, reason = self._gate(tier, competing)
            if confident and unmet:
                confident, reason = False, unmet
            reaches, unreached = self._reaches_minimum(tier, candidates)
            in_domain = in_domain or reaches
            reason = f"{reason}; {unreached}" if unreached else reason
            for candidate in candidates:
                previous = found.get(candidate.doc_id)
                if previous is None or candidate.match > previous.match:
                    found[candidate.doc_id] = candidate
            if confident:
                confident, reason = self._knows_subject(tier, reason)
            if confident:
                confident, reason = self._has_required_words(tier, competing, reason)
            if confident:
                confident, reason = self._leads(competing, list(found.values()), reason)
            if confident and asks_for_person(query):
                confident, reason = self._names_people(competing, reason)
            timings[tier] = ms_since(tier_started)
            if traces is not None:
                traces.append(TierTrace(tier, timings[tier], confident, reason, tuple(self._hits(candidates, [], 0))))
            if confident and resolved_by is None:
                resolved_by = tier
            if confident and not escalate:
                break
        return found, resolved_by, in_domain

    def _knows_subject(self, tier: Tier, reason: str) -> tuple[bool, str]:
        """A memory that has never seen the question's most informative word, in any form,
        cannot be sure it answers it: "deploy the frontend to Vercel" covers half its weight
        with a deploy runbook, and is still a question about Vercel. A word the fuzzy tier
        would correct (a typo of a word the memory has) does not count as unseen."""
        word = self._unseen_subject.get(tier)
        if word is None or (tier == "keyword" and self._is_typo(word)):
            return True, reason
        return False, f"the question's most informative word, '{word}', is nowhere in the memory"

    def _has_required_words(self, tier: Tier, competing: list[_Candidate], reason: str) -> tuple[bool, str]:
        """In "what's Lucas's timezone" the question is about Lucas: when an entry is about the
        possessor (the word in its title, keywords, tags or path) and the entry the gate is sure
        of does not have the word at all, the recall is not sure. The cron note whose folder is
        `timezones` covers more of the question's weight than Lucas's own note, which says
        "Eastern time". So for a person's name a note about people has ("what timezone is Ana
        in" over a team directory that says where Ana works)."""
        answer = max(competing, key=lambda c: c.match)
        for word, (having, required) in self._required.get(tier, {}).items():
            if required and answer.doc_id not in having:
                return False, f"the question asks about '{word}', which the best-covering entry lacks"
        return True, reason

    def _names_people(self, competing: list[_Candidate], reason: str) -> tuple[bool, str]:
        """A who-question asks for a person. When the entry the gate is sure of is not about
        people and an entry that is (`people/owners/...`, "Who owns what") also reaches the
        tier's minimum, the recall is not sure: "who's the person to ask about the multiplayer
        servers" covers the netcode decision best, and the owners' list, which names the
        person, fewer of its words."""
        answer = max(competing, key=lambda c: c.match)
        minimum = self._minimum(answer.tier)
        ids = [c.doc_id for c in competing if c.doc_id == answer.doc_id or c.match >= minimum]
        rows = self.index.docs(ids)
        if is_about_people(rows[answer.doc_id].path, rows[answer.doc_id].title):
            return True, reason
        people = [
            row.path for doc_id, row in rows.items() if doc_id != answer.doc_id and is_about_people(row.path, row.title)
        ]
        if not people:
            return True, reason
        return False, f"the question asks who, and {people[0]}, about people, matches it too"

    def _leads(self, competing: list[_Candidate], found: list[_Candidate], reason: str) -> tuple[bool, str]:
        """Confidence is about the answer shown first. The gate found an entry that covers
        the question clearly better than any other; the ranking aids (topic, feedback,
        speakers, kinds of answer, lifecycle) may still put another entry first, and then
        the recall is not confident: a sure answer must be the entry it is sure about."""
        answer = max(competing, key=lambda c: c.match)
        ranked = self._ranked(found, 1)
        if not ranked or ranked[0][1].doc_id == answer.doc_id:
            return True, reason
        first = ranked[0][1]
        return False, (
            f"the first-ranked entry covers {first.match:.2f}; the best coverage,"
            f" {answer.match:.2f}, is another entry's"
        )

    # --- dates in the question (core/dates.py) -------------------------------------------

    def _read_dates(self, query: str, scope: str) -> list[str]:
        """The query's content words, without its date expressions when it has some: "October"
        and "2023" say when, and an entry dated then must not have to contain them. A time no
        entry in scope is dated in is not read as a date: its words stay words ("last weekend"
        in a memory of last year's conversations), and no tier is confident."""
        terms = self._without_garbled_function_words(query_terms(query, is_phrasal))
        when = read_query(query, local_day(self.memory.clock()))
        if when is None and _asks_for_news(query, terms):
            when = DateQuery((), True, (), "", "")  # "what's new", "what changed"
        if when is not None and when.spans and not self.index.has_dates(when.spans, scope):
            self._undated = f"no entry is dated {when.describe()}"
            when = when.without_spans()
        self._when = when
        if when is None:
            return _clock_terms(query, terms)
        rest = self._without_garbled_function_words(query_terms(when.rest, is_phrasal))
        self._time_only = _only_activity(rest)
        return _clock_terms(when.rest, rest) if any(term not in STOPWORDS for term in rest) else terms

    def _without_garbled_function_words(self, terms: list[str]) -> list[str]:
        """A function word typed with two letters swapped ("waht", "iwth") is one, unless the
        memory has the word: as an unknown word it would weigh as much as the rarest, and
        the question would be about it."""
        garbled = [term for term in terms if is_garbled_function_word(term, STOPWORDS)]
        if not garbled:
            return terms
        known = self._forms(garbled)
        kept = [term for term in terms if term not in known or known[term]]
        return kept or terms

    def _time_listing(
        self, when: DateQuery, scope: str, limit: int, timings: dict[str, float], traces: list[TierTrace] | None
    ) -> tuple[dict[int, _Candidate], Tier | None, bool]:
        """A question about nothing but a time ("what happened last week", "what's new"):
        every entry of that time matches it, so the candidates are those entries, the newest
        first - written in, or speaking of, the asked days (the newest entries, for "latest"
        alone). Importance and recency order one day's entries only.
        Confident only when one entry is of that time. Counted as the keyword tier's (it reads
        the index)."""
        started = time.perf_counter()
        days = self.index.dated_days(when.spans, scope, max(limit, TIME_LISTING_POOL))
        self._listed_days = dict(days)
        # Each older day listed halves the relevance, more than importance and recency can
        # make up for (docs/lifecycle.md, the tie window): the list stays newest first. Within
        # a day, the later written comes first (dated_days' order) unless they say otherwise.
        day_rank = {day: rank for rank, day in enumerate(sorted({day for _, day in days}, reverse=True))}
        candidates = [
            _Candidate(doc_id, (1 - 0.001 * position) * 0.5 ** day_rank[day], "keyword", 1.0)
            for position, (doc_id, day) in enumerate(days)
        ]
        confident = len(candidates) == 1
        count = f"{len(candidates)} {'entry' if len(candidates) == 1 else 'entries'}"
        listed = f"dated {when.describe()}" if when.spans else "in the memory"
        reason = f"the question asks only about a time: {count} {listed}, the newest first"
        self._listing = f"the entries {listed}, the newest first"
        timings["keyword"] = ms_since(started)
        if traces is not None:
            traces.append(
                TierTrace("keyword", timings["keyword"], confident, reason, tuple(self._hits(candidates, [], 0)))
            )
        return {c.doc_id: c for c in candidates}, ("keyword" if confident else None), bool(candidates)

    def _by_date(self, tier: Tier, candidates: list[_Candidate]) -> tuple[list[_Candidate], str]:
        """Reorder a tier's candidates by the question's dates (in place). Returns the
        candidates the confidence gate compares (those of the asked time, when the best
        match is one of them) and why the tier cannot be confident because of the dates
        (its best match is not of the asked time), else ""."""
        when = self._when
        if tier == "path" or not candidates:
            return candidates, ""
        if when is None:
            return candidates, self._undated
        days = self.index.dates(c.doc_id for c in candidates)
        change = rerank(when, days, {c.doc_id: c.match for c in candidates}, self._minimum(tier))
        for candidate in candidates:
            candidate.relevance *= change.factors[candidate.doc_id]
        _normalized(candidates, 1.0)
        return [c for c in candidates if c.doc_id in change.competing], change.unmet or self._undated

    # --- escalation to the model tiers (the llm and agent tiers live in core/llm_tiers.py) ----

    def _escalate(
        self, query: str, terms: list[str], scope: str, found: list[_Candidate], last_tier: Tier, notes: list[str]
    ) -> Escalation | None:
        """Run the model tiers, or say why not. Never raises for a model failure."""
        from .llm import resolve_settings

        settings = resolve_settings(self.config.llm, self.memory.env)
        if settings is None:
            notes.append("the llm and agent tiers were not run: no model is configured (set MEM_LLM_MODEL)")
            return None
        from .llm_tiers import Escalator

        # The model chooses among the most relevant candidates of every tier walked, floors or
        # not (a paraphrase the cheap tiers scored low is what it is there to recognise), best
        # match first: importance and recency must not crowd a weak match out of its view.
        best = sorted(found, key=lambda c: c.match, reverse=True)[: settings.max_candidates]
        pool = sorted(self._hits(best, terms, len(best)), key=lambda hit: hit.match, reverse=True)
        return Escalator(self.memory, settings).run(query, scope, pool, last_tier, self.index.version())

    def _model_hits(self, paths: tuple[str, ...], tier: Tier, terms: list[str], scope: str) -> list[Hit]:
        """Hits for the entries a model chose, in its order, labelled with its tier."""
        ids: dict[str, int] = {}
        for path in paths:
            if scope and not (path == scope or path.startswith(scope + "/")):
                continue
            found = self.index.find_path(path, scope)
            rows = self.index.docs(found)
            ids.update({row.path: doc_id for doc_id, row in rows.items() if row.path == path})
        hits = {
            hit.path: hit for hit in self._hits([_Candidate(i, 1.0, tier, 1.0) for i in ids.values()], terms, len(ids))
        }
        return [hits[path] for path in paths if path in hits]

    # --- tiers ---------------------------------------------------------------------------

    def _reaches_minimum(self, tier: Tier, candidates: list[_Candidate]) -> tuple[bool, str]:
        """Whether some hit reaches the tier's minimum (the question is in domain), and if
        not, why, for `--explain`. A hit that shares a single word with a question of several
        must cover `recall.one_word_minimum` of it: one word in common is what a question
        about something else has with a memory of the same trade ("how do I rotate ssh keys
        on the bastion host" and a password-rotation runbook), as in a search engine's
        "minimum should match"."""
        mostly_foreign = self._mostly_foreign(tier)
        if candidates and mostly_foreign:
            words = ", ".join(f"'{word}'" for word in mostly_foreign)
            share = sum(mostly_foreign.values())
            return False, f"foreign words ({words}: in no entry, no common word) carry {share:.2f} of the question"
        minimum = self._minimum(tier)
        one_word = max(minimum, self.config.recall.one_word_minimum)
        over = [c for c in candidates if c.match >= minimum]
        if not candidates or any(not c.one_word or c.match >= one_word for c in over):
            return bool(candidates), ""
        if over:
            words = ", ".join(f"'{word}'" for word in dict.fromkeys(c.one_word for c in over))
            return False, (
                f"the hits over the minimum {minimum:.2f} share one word with the question ({words}),"
                f" and none covers {one_word:.2f} with it"
            )
        foreign = self._heavy_foreign(tier) if minimum > self._base_minimum(tier) else None
        why = f" ('{foreign}' is a foreign word: in no entry, no common word)" if foreign else ""
        return False, f"no hit reaches the minimum {minimum:.2f}{why}"

    def _base_minimum(self, tier: Tier) -> float:
        cfg = self.config.recall
        return {"path": 1.0, "keyword": cfg.keyword_minimum, "fuzzy": cfg.fuzzy_minimum}.get(tier, 1.0)

    def _minimum(self, tier: Tier) -> float:
        """The coverage some hit of this tier must reach for the question to be in domain. A
        question naming what the memory has never heard of (a foreign word: _note_foreign)
        must be covered better: "how do I set up Sentry for error tracking" shares "error"
        with an error-handling convention and is still a question about Sentry. The hit must
        also cover at least the share the foreign word carries: the memory must account for
        more of the question than the name it has never heard of ("how do I get access to the
        Snowflake data warehouse", 0.39 of it Snowflake, over an access policy with "access"
        and "data")."""
        minimum = self._base_minimum(tier)
        word = self._heavy_foreign(tier)
        if word is None or (tier == "keyword" and self._is_typo(word)):
            return minimum  # a typo the fuzzy tier corrects is not foreign
        return max(minimum, self.config.recall.foreign_minimum, self._foreign[tier][word])

    def _heavy_foreign(self, tier: Tier) -> str | None:
        """The question's heaviest foreign word when it carries FOREIGN_SHARE or more."""
        word, share = next(iter(self._foreign.get(tier, {}).items()), (None, 0.0))
        return word if share >= FOREIGN_SHARE else None

    def _mostly_foreign(self, tier: Tier) -> dict[str, float]:
        """The question's foreign words when together they carry FOREIGN_MAJORITY of it or more
        (a typo the fuzzy tier corrects is not foreign), else nothing."""
        foreign = self._foreign.get(tier, {})
        if sum(foreign.values()) < FOREIGN_MAJORITY:
            return {}
        if tier == "keyword":
            foreign = {word: share for word, share in foreign.items() if not self._is_typo(word)}
        return foreign if sum(foreign.values()) >= FOREIGN_MAJORITY else {}

    def _is_typo(self, word: str) -> bool:
        """Whether the fuzzy tier would correct this unknown word (asked once per recall)."""
        if word not in self._typos:
            self._typos[word] = self._correct_typos([word], {})
        return self._typos[word]

    def _gate(self, tier: Tier, candidates: list[_Candidate]) -> tuple[bool, str]:
        if not candidates:
            return False, "no candidates"
        ranked = sorted((c.match for c in candidates), reverse=True)
        top = ranked[0]
        runner_up = ranked[1] if len(ranked) > 1 else 0.0
        if tier == "path":
            if len(candidates) == 1:
                return True, "exact path, unique path prefix or exact title"
            return False, f"{len(candidates)} entries share this path prefix or title"
        cfg = self.config.recall
        floor, margin = (
            (cfg.keyword_floor, cfg.keyword_margin) if tier == "keyword" else (cfg.fuzzy_floor, cfg.fuzzy_margin)
        )
        if top < floor:
            return False, f"best coverage {top:.2f} is under the floor {floor:.2f}"
        if top - runner_up < margin:
            return (
                False,
                f"best coverage {top:.2f} leads the runner-up's {runner_up:.2f} by {top - runner_up:.2f},"
                f" under the margin {margin:.2f}",
            )
        return (
            True,
            f"best coverage {top:.2f} >= floor {floor:.2f}, lead over the runner-up's {runner_up:.2f}"
            f" {top - runner_up:.2f} >= margin {margin:.2f}",
        )

    def _run_tier(self, tier: Tier, query: str, terms: list[str], scope: str) -> list[_Candidate]:
        if tier == "path":
            return self._path_tier(query, scope)
        if tier == "keyword":
            return self._keyword_tier(query, terms, scope)
        return self._fuzzy_tier(query, terms, scope)

    def _path_tier(self, query: str, scope: str) -> list[_Candidate]:
        ids: list[int] = []
        if " " not in query:
            try:
                path = normalize_prefix(query.removeprefix("/"))
            except InvalidError:
                path = ""
            if path and (not scope or path == scope or path.startswith(scope + "/") or scope.startswith(path)):
                ids = self.index.find_path(path, scope)
        if not ids:
            ids = self.index.find_title(query, scope)
        return [_Candidate(doc_id, 1.0, "path", 1.0) for doc_id in ids]

    def _term_documents(self, terms: list[str], scope: str) -> dict[str, set[int]]:
        """Documents per term, cached for the length of one recall (tiers share terms)."""
        missing = [term for term in terms if (term, scope) not in self._term_cache]
        if missing:
            for term, docs in self.index.term_documents(missing, scope).items():
                self._term_cache[(term, scope)] = docs
        return {term: self._term_cache[(term, scope)] for term in terms}

    def _forms(self, terms: list[str]) -> dict[str, dict[str, float]]:
        """Each query word -> the indexed words that are forms of it, with how much each
        counts (core/lexicon.py): the word itself, its plural and tense forms, at a low
        weight what only a Porter stemmer merges, its related words and its short or long
        forms (`db` and database, `k8s` and kubernetes). Empty for a word the memory never saw."""
        if self._forms_cache is None:
            self._forms_cache = self.index.word_forms()
        forms: dict[str, dict[str, float]] = {}
        for term in terms:
            cached = self._forms_cache.get(term)
            if cached is None:
                vocabulary = self.index.words_starting(stem_prefix(term))  # has every word `term` begins
                cached = variants(term, vocabulary)
                synonyms, broader, derived = related(term)
                for weight, others in (
                    (SYNONYM, synonyms),
                    (BROADER, broader),
                    (DERIVED, derived),
                    (SHORT_FORM, short_forms(term)),
                ):
                    for other in others:
                        self._add_form(cached, other, weight)
                for other in self._numeronyms(term):
                    cached[other] = max(cached.get(other, 0.0), SHORT_FORM)
                for other in _compounds(term, vocabulary):
                    cached[other] = max(cached.get(other, 0.0), COMPOUND_HEAD)
                for other in _clock_times(term):  # the same time, as a memory writes it
                    self._add_form(cached, other, INFLECTION if " " in other else DERIVED)
                self._forms_cache[term] = cached
            forms[term] = cached
        return forms

    def _add_form(self, forms: dict[str, float], other: str, weight: float) -> None:
        """`other` as the memory writes it (as written, or as a plural or tense form) into
        `forms` at `weight`, unless it is there at more. A phrase ("file system" for `fs`)
        counts when the memory has each of its words (FTS5 then matches it as a phrase)."""
        if " " in other:
            if all(part in self.index.words_starting(part) for part in other.split()):
                forms[other] = max(forms.get(other, 0.0), weight)
            return
        key = light_key(other)
        for found in self.index.words_starting(key[: max(2, len(key) - 1)]):
            if (found == other or light_key(found) == key) and forms.get(found, 0.0) < weight:
                forms[found] = weight

    def _numeronyms(self, term: str) -> list[str]:
        """The words of the memory a numeronym stands for (`k8s` -> kubernetes, `i18n` ->
        internationalization), or the numeronym of a long word when the memory writes it."""
        if numeronym_parts(term) is not None:
            return [word for word in self.index.words_starting(term[0]) if numeronym(word) == term]
        short = numeronym(term)
        return [short] if short is not None and short in self.index.words_starting(short) else []

    def _with_joined(self, query: str, forms: dict[str, dict[str, float]], scope: str) -> dict[str, dict[str, float]]:
        """Two words of the query that the memory writes as one ("post mortem" -> postmortem,
        "data base" -> database, "fails over" -> failover, "set up" -> setup): the joined
        word, as written or in a plural or tense form, counts as a form of each content word
        of the two. A phrasal verb WordNet lists ("set up", "roll out") also counts as the
        phrase, and the verb alone only at DERIVED. A function word may only be the particle
        after a verb (PARTICLES): "a part" is not "apart", and "on call" joined to `oncall`
        made every entry of an oncall/ folder cover "call" (a held-out set's rotation question
        went to its crash runbook)."""
        raw = words(query)
        joined = dict(forms)  # the forms are cached: their dicts are replaced here, never changed
        for first, second in itertools.pairwise(raw):
            if first not in forms or (second in STOPWORDS and second not in PARTICLES):
                continue
            keys = {light_key(first + second), light_key(light_key(first) + second)}  # fails over -> failover
            found = [
                term
                for key in keys
                for term in self.index.words_starting(key[: max(2, len(key) - 1)])
                if light_key(term) == key and self._term_documents([term], scope)[term]
            ]
            if is_phrasal(first, second):
                # A phrasal verb: the phrase (FTS5 matches "set up" as a phrase) counts fully,
                # the verb alone as a related word ("must set unique_key" is not "set up").
                phrases = {f"{term} {second}": weight for term, weight in forms[first].items() if weight >= INFLECTION}
                joined[first] = _as_phrase(forms[first], phrases, DERIVED)
            for part in (first, second):
                if part in forms and found:
                    joined[part] = joined[part] | {term: max(INFLECTION, forms[part].get(term, 0.0)) for term in found}
        return self._with_identifier_phrases(query, joined, scope)

    def _with_identifier_phrases(
        self, query: str, joined: dict[str, dict[str, float]], scope: str
    ) -> dict[str, dict[str, float]]:
        """An identifier the question writes as one (`larkspur-prod-ro`, `user_sess:<user_id>`,
        `invoice.paid`) is cut into words as the index cuts it. When some entry writes those
        words together, the phrase (FTS5 matches it as one) is a full form of each word, and
        each word found apart counts IDENTIFIER_PART: an entry with "Larkspur" in its title
        and "prod" and "RO" in its body is not about `larkspur-prod-ro`. When none does, the
        words count as they are. Replaces entries of `joined` (_with_joined's copy)."""
        for chunk in _IDENTIFIER.findall(query):
            parts = words(chunk)
            if len(parts) < 2 or len(parts) > MAX_IDENTIFIER_PARTS:
                continue
            phrase = " ".join(parts)
            if not self._term_documents([phrase], scope)[phrase]:
                continue
            for part in parts:
                if joined.get(part):
                    joined[part] = _as_phrase(joined[part], {phrase: 1.0}, IDENTIFIER_PART)
        return joined

    def _split(self, word: str, scope: str) -> tuple[set[int], dict[int, float]] | None:
        """A word the memory writes as two ("multitenancy" -> multi-tenancy, "featureflags"
        -> feature flags): (the entries that have both parts, their BM25 scores for them),
        for the split that most entries share; None when no split's parts meet in an entry.
        Only for a word that is no English word ("nowhere" is not "now here")."""
        if len(word) < 5 or is_real_word(word) or not word.isascii():
            return None
        splits = [(word[:at], word[at:]) for at in range(2, len(word) - 1)]
        documents = self._term_documents(list(dict.fromkeys(part for pair in splits for part in pair)), scope)
        best = max(splits, key=lambda pair: len(documents[pair[0]] & documents[pair[1]]))
        both = documents[best[0]] & documents[best[1]]
        if not both:
            return None
        cfg = self.config.recall
        weights = (cfg.weight_title, cfg.weight_keywords, cfg.weight_path, cfg.weight_summary, cfg.weight_body)
        scores = dict(self.index.bm25(list(best), weights, scope, max(cfg.candidates, len(both))))
        return both, {doc_id: scores.get(doc_id, 0.0) for doc_id in both}

    def _keyword_tier(self, query: str, terms: list[str], scope: str) -> list[_Candidate]:
        rest, unspaced = split_unspaced(query)
        if not unspaced:
            return self._score(self._with_joined(query, self._forms(terms), scope), scope, "keyword")
        # Thai and similar scripts: each chunk must occur as a substring (trigram index).
        found = dict(self.index.trigram_search(unspaced, scope, self.config.recall.candidates))
        preset = {" ".join(unspaced): (set(found), found)}
        other_terms = query_terms(rest, is_phrasal) if rest else []
        return self._score(self._forms(other_terms), scope, "keyword", preset)

    def _fuzzy_tier(self, query: str, terms: list[str], scope: str) -> list[_Candidate]:
        """Correct the query words the memory has never seen (typos, partial words) into words
        of its titles, keywords, tags and paths with rapidfuzz, and match a word that may be
        a person's name to the names the memory has written another way (core/names.py);
        then score like the keyword tier.

        A real English word is not a typo: it is only matched to a word that is not itself
        one (a term of the trade spelt differently), never "corrected" into another word
        (`vegan` -> `vegas`)."""
        cfg = self.config.recall
        forms = self._with_joined(query, self._forms(terms), scope)
        unknown = [w for w in terms if not forms[w] and (len(w) >= 3 or has_unspaced_script(w))]
        # A name the memory lacks as written or in a plural or tense form: a Porter-only form
        # (`dmitry` -> `dmitri` at 0.4) or a synonym does not make it known.
        named = [
            w
            for w in terms
            if len(w) >= 3 and max(forms[w].values(), default=0.0) < INFLECTION and may_be_name(w, query)
        ]
        if not unknown and not named:
            return []
        alternatives: dict[str, dict[str, float]] = {term: forms[term] for term in terms if forms[term]}
        found = False
        if unknown:
            found = self._correct_typos(unknown, alternatives)
        # An unknown word no typo correction explains may be two words written as one.
        preset: dict[str, tuple[set[int], dict[int, float]]] = {}
        for word in unknown:
            if not alternatives.get(word) and (split := self._split(word, scope)) is not None:
                alternatives.pop(word, None)
                preset[word] = split
                found = True
        if named:
            names = self.index.name_vocabulary()
            for word in named:
                if word in preset:
                    continue  # found as two words ("250kb" -> 250 KB): not a name written another way
                similar = similar_names(word, names, cfg.name_min_similarity)
                merged = dict(alternatives.get(word, {}))  # a copy: the forms are cached
                for name, similarity in similar.items():
                    if similarity > merged.get(name, 0.0):
                        merged[name] = similarity
                        found = True
                alternatives[word] = merged
        if not found:
            return []
        return self._score(alternatives, scope, "fuzzy", preset)

    def _correct_typos(self, unknown: list[str], alternatives: dict[str, dict[str, float]]) -> bool:
        """Add to `alternatives` the vocabulary words each unknown word may be a typo or a
        partial word of; whether any was found."""
        cfg = self.config.recall
        # Words of titles, keywords, tags and paths sharing the first letter first; then the
        # words of bodies too, sharing the first two letters (the whole body vocabulary is
        # too large to compare at every recall: a first-letter slice of a 10k-entry tree's is
        # thousands of words); the whole title vocabulary only for words that found nothing
        # that way (a typo in the first letter).
        nearby = self.index.fuzzy_vocabulary(word[0] for word in unknown)
        everything: list[str] | None = None
        for word in unknown:
            real = is_real_word(word)
            cutoff = max(cfg.fuzzy_min_similarity, 85.0) if real else cfg.fuzzy_min_similarity
            similar = self._similar_words(word, nearby, cutoff, complete=not real, one_edit=not real)
            if not similar and len(word) >= TYPO_IN_BODY_LENGTH:
                # the first two letters as typed, or swapped ("eslect" for select)
                body = sorted({*self.index.words_starting(word[:2]), *self.index.words_starting(word[1] + word[0])})
                similar = self._similar_words(word, body, cutoff, complete=False, one_edit=not real)
            if not similar:
                if everything is None:
                    everything = self.index.fuzzy_vocabulary()
                similar = self._similar_words(word, everything, cutoff, complete=not real, one_edit=not real)
            if real:
                similar = {term: value for term, value in similar.items() if not is_real_word(term)}
            alternatives[word] = similar
        return any(alternatives.get(word) for word in unknown)

    @staticmethod
    def _similar_words(
        word: str, vocabulary: list[str], cutoff: float, *, complete: bool = True, one_edit: bool = False
    ) -> dict[str, float]:
        """Up to 3 vocabulary words `word` may stand for, with a similarity 0-1: close
        spellings (rapidfuzz ratio), for 4+ letters words it begins (a partial word), and
        with `one_edit` a 4-letter word's one slip (see ONE_EDIT_LENGTH); never a word with
        other numbers (_same_numbers). `vocabulary` is sorted (the index returns it so), so
        prefixes are found by bisection."""
        from rapidfuzz import fuzz, process
        from rapidfuzz.distance import OSA

        similar = {
            term: score / 100.0
            for term, score, _ in process.extract(word, vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff, limit=3)
        }
        if one_edit and len(word) == ONE_EDIT_LENGTH:  # "rool" for roll, "tset" for test
            for term, _, _ in process.extract(word, vocabulary, scorer=OSA.distance, score_cutoff=1, limit=10):
                if term[0] == word[0] and term not in similar and _is_slip(word, term):
                    similar[term] = fuzz.ratio(word, term) / 100.0
        if complete and len(word) >= 4:  # "pgbounc" for "pgbouncer"
            start = bisect.bisect_left(vocabulary, word)
            end = bisect.bisect_left(vocabulary, word + "\U0010ffff", start)
            for term in vocabulary[start:end]:
                similar[term] = max(similar.get(term, 0.0), 0.85 + 0.15 * len(word) / len(term))
        kept = [(term, value) for term, value in similar.items() if _same_numbers(word, term)]
        return dict(sorted(kept, key=lambda item: -item[1])[:3])

    def _score(
        self,
        alternatives: dict[str, dict[str, float]],
        scope: str,
        tier: Tier,
        preset: dict[str, tuple[set[int], dict[int, float]]] | None = None,
    ) -> list[_Candidate]:
        """Score entries for query words, each standing for index terms with a similarity.

        match = coverage x (0.5 + 0.5 x bm25 / best bm25), where coverage is the IDF-weighted
        share of the query words the entry contains (weighted by similarity). A word that
        matches nothing weighs as much as the rarest word: unknown words lower the coverage.
        `preset` holds query parts already matched elsewhere (the trigram index): part ->
        (the entries containing it, their scores).
        """
        cfg = self.config.recall
        preset = preset or {}
        weights = (cfg.weight_title, cfg.weight_keywords, cfg.weight_path, cfg.weight_summary, cfg.weight_body)
        all_terms = list(dict.fromkeys(term for similar in alternatives.values() for term in similar))
        total = self.index.total_documents(scope)
        term_docs = self._term_documents(all_terms, scope)
        # Candidates come from the terms that discriminate: BM25 must score every entry that
        # matches the query, and a word found in a large share of a large tree makes that most
        # of the tree while adding little to the ranking. Such words still count in the
        # coverage below. Small trees (under ~5,000 entries by default) are not affected.
        common = max(cfg.common_term_share * total, cfg.common_term_entries)
        selective = [term for term in all_terms if len(term_docs[term]) <= common] or all_terms
        scored = dict(self.index.bm25(selective, weights, scope, self._reranked(total)))
        if self._when is not None and self._when.spans:  # and the best among the entries of the asked time
            scored.update(self.index.bm25(selective, weights, scope, self._reranked(total), self._when.spans))
        for _, scores in preset.values():
            for doc_id, score in scores.items():
                scored[doc_id] = scored.get(doc_id, 0.0) + score
        if not scored:
            return []
        scored = self._with_phrases(scored, alternatives, term_docs)
        word_weight = {
            word: self._word_weight(word, similar, term_docs, total) for word, similar in alternatives.items()
        }
        for part, (containing, _) in preset.items():
            word_weight[part] = self._word_weight(part, {}, term_docs, total, len(containing))
        weight_sum = sum(word_weight.values()) or 1.0
        # The most informative word, when no form of it is in the memory (_knows_subject). A
        # trigram part is never unseen (it has its entries), nor a CJK bigram: runs are cut
        # into overlapping pairs, and a pair across two words, "队的", is in no text.
        subject = max(word_weight, key=word_weight.__getitem__, default=None)
        if subject in alternatives and not alternatives[subject] and not has_unspaced_script(subject):
            self._unseen_subject[tier] = subject
        self._note_foreign(tier, alternatives, word_weight, weight_sum)
        found = self._found_words(alternatives, term_docs, scored)
        self._note_required_words(tier, found)
        best_bm25 = max(scored.values()) or 1.0
        candidates = []
        for doc_id, score in scored.items():
            has = found.get(doc_id, {})
            shared = [word for word in alternatives if word in has]  # in the question's order
            shares = [word_weight[word] * has[word] for word in shared]
            for part, (containing, _) in preset.items():
                if doc_id in containing:
                    shares.append(word_weight[part])
            coverage = sum(shares) / weight_sum if word_weight else 1.0
            relevance = coverage * (0.5 + 0.5 * max(score, 0.0) / best_bm25)
            # One word in common counts only if it is the question's most informative one
            # (_reaches_minimum): "customers lose their shopping carts" is about carts.
            alone = len(shares) == 1 and len(word_weight) > 1 and shared != [subject]
            candidates.append(_Candidate(doc_id, relevance, tier, coverage, shared[0] if alone and shared else ""))
        if tier == "keyword" and total <= FEEDBACK_MAX_ENTRIES:
            candidates = self._with_feedback(candidates, alternatives, scope)
        candidates = self._with_links(candidates, scope, tier)
        rows = self.index.docs(c.doc_id for c in candidates)  # one read for both steps
        candidates = self._with_speakers(self._with_topic_context(candidates, rows), alternatives, rows)
        candidates = self._with_answer_kinds(candidates, rows)
        return _normalized(candidates, cfg.relevance_sharpness)

    def _found_words(
        self,
        alternatives: Mapping[str, Mapping[str, float]],
        term_docs: Mapping[str, set[int]],
        scored: Mapping[int, float],
    ) -> dict[int, dict[str, float]]:
        """For each scored entry, the query words it has and how much each counts there: its
        best form's similarity, at BODY_ONLY where the entry has the form only in its body.
        Read from each form's entries among the scored ones, not from each scored entry's view
        of every form: re-ranking a 1,000-entry scope is most of a recall's time there."""
        about = self.index.about_words(scored)
        wanted = set(scored)
        found: dict[int, dict[str, float]] = {}
        for word, similar in alternatives.items():
            for term, similarity in similar.items():
                for doc_id in term_docs[term] & wanted:
                    share = similarity * (1.0 if _is_about(term, about.get(doc_id, ())) else BODY_ONLY)
                    if share > found.setdefault(doc_id, {}).get(word, -1.0):
                        found[doc_id][word] = share
        return found

    def _reranked(self, total: int) -> int:
        """How many BM25 matches are re-ranked in a scope of `total` entries: all of them up
        to `recall.rerank_all_entries`, where that costs milliseconds and lets the ranking aids
        reach what BM25 alone ranks low; `recall.candidates` above it, for speed at scale."""
        cfg = self.config.recall
        return cfg.candidates if total > cfg.rerank_all_entries else max(cfg.candidates, total)

    def _with_phrases(
        self,
        scored: dict[int, float],
        alternatives: Mapping[str, Mapping[str, float]],
        term_docs: Mapping[str, set[int]],
    ) -> dict[int, float]:
        """BM25 scores with each entry's share of the question's phrases (two neighbouring
        content words) that it writes as the question does, the same words next to each other
        in the same order, counted in (PHRASE_BONUS): term proximity, as in Metzler and Croft's
        sequential dependence model. "mlp deploy rollback command" is the rollback runbook
        that writes `mlp deploy rollback`, not the deploy freeze that has all three words apart.
        Only the ranking moves; the coverage the gate weighs is the words' alone. Only entries
        that have both words of a phrase are read (term_docs)."""
        pairs = [
            (first, second) for first, second in self._phrases if alternatives.get(first) and alternatives.get(second)
        ]
        if not pairs:
            return scored
        same = {
            word: [term for term, weight in alternatives[word].items() if weight >= INFLECTION and " " not in term]
            for pair in pairs
            for word in pair
        }
        best = set(heapq.nlargest(PHRASE_CANDIDATES, scored, key=scored.__getitem__))
        having = {word: set().union(*(term_docs[term] & best for term in terms)) for word, terms in same.items()}
        both = [(first, second, having[first] & having[second]) for first, second in pairs]
        readable = set().union(*(docs for _, _, docs in both))
        if not readable:
            return scored
        boosted = dict(scored)
        for doc_id, text in self.index.texts(readable).items():
            positions: dict[str, list[int]] = {}
            for at, token in enumerate(words(text)):
                positions.setdefault(token, []).append(at)
            written = sum(
                doc_id in docs and _written_together(positions, same[first], same[second])
                for first, second, docs in both
            )
            boosted[doc_id] = scored[doc_id] * (1.0 + PHRASE_BONUS * written / len(pairs))
        return boosted

    def _note_required_words(self, tier: Tier, found: Mapping[int, Mapping[str, float]]) -> None:
        """For each word the question is about, the entries that have it (in a form at
        INFLECTION or closer) and whether that makes it required of a sure answer
        (_has_required_words): a possessor some entry is about, a person's name a note about
        people has."""
        if not self._possessors and not self._people_names:
            return
        self._required[tier] = {}
        for word in dict.fromkeys([*self._possessors, *self._people_names]):
            shares = {doc_id: words.get(word, 0.0) for doc_id, words in found.items()}
            having = {doc_id for doc_id, share in shares.items() if share >= INFLECTION * BODY_ONLY}
            required = word in self._possessors and any(shares[doc_id] >= INFLECTION for doc_id in having)
            if not required and word in self._people_names and having:
                rows = self.index.docs(having)
                required = any(is_about_people(row.path, row.title) for row in rows.values())
            self._required[tier][word] = (having, required)

    def _read_question(self, query: str, terms: list[str]) -> None:
        """What the question says besides its words, for the tiers and gates: names, phrases,
        possessors, the kind of answer it asks for."""
        self._named = [term for term in terms if len(term) >= 2 and may_be_name(term, query)]
        self._phrases = list(itertools.pairwise(terms))
        self._possessors = [word for word in _possessors(query) if word in terms]
        self._people_names = self._person_names(query, terms)
        self._asked_kind = asked_kind(query)

    def _person_names(self, query: str, terms: list[str]) -> list[str]:
        """The question's words that may name a person: written with a capital (the first word
        too: "Ana's timezone"), or no common word, and written with a capital in the memory."""
        written = set(capitalised_words(query))
        maybe = [term for term in terms if term in written or not is_common_word(term)]
        return [term for term in maybe if self.index.writes_capitalised(term)]

    def _note_foreign(
        self, tier: Tier, alternatives: Mapping[str, Mapping[str, float]], weight: Mapping[str, float], total: float
    ) -> None:
        """A foreign word is one the memory has in no form and that is no common word either,
        of the trade's English or of English at large (lexicon.is_common_word): a name
        (Vercel, Sentry, Firebase) or a topic outside the trade (vacation, payout).
        Paraphrases swap the memory's words for common ones ("linter" for ruff, "flaky" for
        intermittent, "afternoon"); a question with a heavy foreign word is about something
        the memory does not know, however many of its other words the memory has
        (_minimum), and one whose foreign words together carry most of it is out of domain
        (_mostly_foreign). Numbers and times ("8am", "24") and unspaced scripts are never foreign."""
        foreign = [
            word
            for word, forms in alternatives.items()
            if not forms
            and not any(char.isdigit() for char in word)
            and not has_unspaced_script(word)
            and not is_common_word(word)
        ]
        if foreign:
            heaviest_first = sorted(foreign, key=lambda word: -weight[word])
            self._foreign[tier] = {word: weight[word] / total for word in heaviest_first}

    def _word_weight(
        self, word: str, forms: dict[str, float], term_docs: dict[str, set[int]], total: int, containing: int = -1
    ) -> float:
        """How much of a query's informative content this word carries.

        The language's view (background IDF, core/lexicon.py) says how informative the word
        is anywhere; the tree's view (its IDF here) says how well it tells entries apart in
        this memory. A tree of a few entries knows too little to have a view, so the tree's
        share grows with its size: trust = entries / (entries + recall.tree_trust_entries).
        """
        if containing < 0:
            same = [term for term, similarity in forms.items() if similarity >= INFLECTION] or list(forms)
            docs = [term_docs[term] for term in same]
            containing = len(set().union(*docs)) if docs else 0
        language = background_idf(word)
        trust = total / (total + self.config.recall.tree_trust_entries) if total else 0.0
        in_tree = idf(containing, total) / idf(0, total) if total else 1.0
        return language * (1 - trust + trust * in_tree)

    def _with_speakers(
        self, candidates: list[_Candidate], alternatives: Mapping[str, Mapping[str, float]], rows: Mapping[int, DocRow]
    ) -> list[_Candidate]:
        """What a person said is first-hand knowledge about them: when the question names a
        person (a word that may be a name, as written or as the fuzzy tier matched it), the
        entries that person said - `speaker`, or a transcript turn's "Name: ..." label - rank
        higher than entries that only mention them or that someone else said. For ranking
        only: coverage, which the gates use, is not touched."""
        gain = self.config.recall.speaker_gain
        if gain <= 0 or not self._named or not candidates:
            return candidates
        names = {form for word in self._named for form in (word, *alternatives.get(word, {}))}
        for candidate in candidates:
            row = rows.get(candidate.doc_id)
            if row is not None and row.speaker and not names.isdisjoint(row.speaker.split()):
                candidate.relevance *= 1 + gain
        return candidates

    def _with_answer_kinds(self, candidates: list[_Candidate], rows: Mapping[int, DocRow]) -> list[_Candidate]:
        """A question asks for a kind of answer (core/answers.py): an entry that says when
        ranks higher for "when ...?", one with a number for "how many ...?", and an entry whose
        text is itself a question ranks lower for any query (it asks, it does not tell). For
        ranking only: coverage, which the gates use, is not touched."""
        cfg = self.config.recall
        for candidate in candidates:
            row = rows.get(candidate.doc_id)
            if row is None or not row.answers:
                continue
            kinds = row.answers.split(",")
            if self._asked_kind is not None and self._asked_kind in kinds:
                candidate.relevance *= 1 + cfg.answer_gain
            if ASKS in kinds:
                candidate.relevance *= 1 - cfg.question_penalty
        return candidates

    def _with_feedback(
        self, candidates: list[_Candidate], alternatives: Mapping[str, Mapping[str, float]], scope: str
    ) -> list[_Candidate]:
        """Pseudo-relevance feedback (Rocchio, RM3), for ranking only.

        The best keyword matches say what else the question's subject is written with: their
        most distinctive words that the query does not have (mass in those entries, weighted
        by their squared relevance, times the word's weight: the language's IDF blended with the
        memory's) are a second, silent query. An entry gains up to `recall.feedback_share` of
        the best match's relevance by the share of those words it has, and an entry that has
        two or more of them but none of the question's own words joins the candidates
        (FEEDBACK_JOIN_WORDS), with no coverage of its own. Coverage, which the
        gates use, is not touched: an out-of-domain question stays "no memory about this"."""
        cfg = self.config.recall
        if cfg.feedback_share <= 0 or cfg.feedback_entries < 1 or not candidates:
            return candidates
        top = sorted(candidates, key=lambda c: -c.relevance)[: cfg.feedback_entries]
        best = top[0].relevance
        if best <= 0 or len(top) < FEEDBACK_MIN_MATCHES:
            return candidates
        texts = self.index.texts(c.doc_id for c in top)
        mass: dict[str, float] = {}
        for candidate in top:
            found = [
                word
                for word in words(texts.get(candidate.doc_id, ""))
                if len(word) > 2 and word.isalpha() and word not in STOPWORDS
            ]
            # Each entry's words share its relevance, squared as the ranking squares it
            # (recall.relevance_sharpness): the best matches say most, so a cluster of
            # weaker ones does not pull the feedback to its own topic.
            for word in found:
                mass[word] = mass.get(word, 0.0) + (candidate.relevance / best) ** 2 / len(found)
        asked = {light_key(term) for word, forms in alternatives.items() for term in (word, *forms)}
        mass = {word: value for word, value in mass.items() if light_key(word) not in asked}
        if not mass:
            return candidates
        # A shortlist by the memory's IDF (one query), then the full word weight for it.
        counts = self.index.document_counts(mass)
        everything = self.index.count()
        rough = {word: value * idf(counts.get(word, 0), everything) for word, value in mass.items()}
        shortlist = sorted(rough, key=lambda word: (-rough[word], word))[: 3 * cfg.feedback_words]
        value = {
            word: mass[word] * self._word_weight(word, {}, {}, everything, counts.get(word, 0)) for word in shortlist
        }
        chosen = sorted(value, key=lambda word: (-value[word], word))[: cfg.feedback_words]
        norm = sum(value[word] for word in chosen) or 1.0
        gained: dict[int, float] = {}
        having: dict[int, int] = {}
        for word, docs in self._term_documents(chosen, scope).items():
            for doc_id in docs:
                gained[doc_id] = gained.get(doc_id, 0.0) + value[word] / norm
                having[doc_id] = having.get(doc_id, 0) + 1
        by_id = {candidate.doc_id: candidate for candidate in candidates}
        tier = candidates[0].tier
        for doc_id, share in sorted(gained.items(), key=lambda item: (-item[1], item[0]))[:FEEDBACK_JOINS]:
            extra = cfg.feedback_share * share * best
            if doc_id in by_id:
                by_id[doc_id].relevance += extra
            elif having[doc_id] >= FEEDBACK_JOIN_WORDS:
                candidates.append(_Candidate(doc_id, extra, tier, 0.0))
        return candidates

    def _with_links(self, candidates: list[_Candidate], scope: str, tier: Tier) -> list[_Candidate]:
        """Relevance flows along explicit links (`related`, supersedes): an entry gains
        `recall.link_share` of the best relevance among the entries it is linked with, so a
        reply whose own words are not the question's is found through the turn it answers,
        and a decision through the incident that caused it. Entries reached only this way
        join the candidates with no coverage of their own (the gates never count them)."""
        share = self.config.recall.link_share
        if share <= 0 or not candidates:
            return candidates
        by_id = {candidate.doc_id: candidate for candidate in candidates}
        gained: dict[int, float] = {}
        for doc_id, others in self.index.neighbours(by_id, scope).items():
            source = by_id[doc_id].relevance * share
            for other in others:
                gained[other] = max(gained.get(other, 0.0), source)
        for doc_id, extra in gained.items():
            if doc_id in by_id:
                by_id[doc_id].relevance += extra
            else:
                candidates.append(_Candidate(doc_id, extra, tier, 0.0))
        return candidates

    def _with_topic_context(self, candidates: list[_Candidate], rows: Mapping[int, DocRow]) -> list[_Candidate]:
        """Blend each entry's match with how relevant its folder (topic) is as a whole.

        An entry in a topic where several entries match the query is more likely to be what
        is asked about than an equally good lone match elsewhere: the context tree groups
        related knowledge, and this lets retrieval use it. Measured on LoCoMo, where a topic
        is a conversation session, it adds about 5 points of recall@10 (docs/benchmarks.md).
        """
        share = self.config.recall.topic_context
        if share <= 0 or len(candidates) < 2:
            return candidates
        by_topic: dict[str, list[float]] = {}
        topic_of: dict[int, str] = {}
        for candidate in candidates:
            row = rows.get(candidate.doc_id)
            if row is None:
                continue
            topic_of[candidate.doc_id] = row.path.rsplit("/", 1)[0]
            by_topic.setdefault(topic_of[candidate.doc_id], []).append(candidate.relevance)
        top = self.config.recall.topic_top
        strength = {topic: sum(sorted(values, reverse=True)[:top]) for topic, values in by_topic.items()}
        strongest = max(strength.values(), default=0.0) or 1.0
        for candidate in candidates:
            topic = topic_of.get(candidate.doc_id)
            context = strength.get(topic, 0.0) / strongest if topic is not None else 0.0
            candidate.relevance = (1 - share) * candidate.relevance + share * context
        return candidates

    # --- ranking -------------------------------------------------------------------------

    def _ranked(self, candidates: list[_Candidate], limit: int, *, spread: bool = False) -> list[_Ranked]:
        """Candidates in ranking order, scored with the lifecycle formula (see `_hits`).
        A confident tier ranks its candidates to check its first hit (`_leads`), and the
        results are then the same candidates: the scoring is kept for that second call."""
        # The same candidate objects with the same relevance (the steps above change it in
        # place); the kept list holds them, so their ids cannot be reused meanwhile.
        key = tuple((id(c), c.relevance) for c in candidates)
        if self._last_scored is None or self._last_scored[0] != key:
            self._last_scored = (key, self._scored(candidates))
        ranked = list(self._last_scored[1])
        cfg = self.config.recall
        if spread and cfg.diversity_penalty < 1 and limit:
            ranked = spread_over_folders(
                ranked,
                lambda item: item[0],
                lambda item: item[2].path.rsplit("/", 1)[0],
                lambda item: item[1].match,
                penalty=cfg.diversity_penalty,
                comparable=cfg.diversity_comparable,
                places=limit,
            )
        if ranked and ranked[0][1].match == 0:
            # The first place goes to an entry with some of the question's words when any has
            # them: topic context, feedback and links lift an entry's neighbours, they do not
            # make one that says none of it the answer ("aws cost budget this quarter" over
            # the example memory put the on-call rota first, covering nothing). Only nothing:
            # a reply that says little of the question ("Seven years now" for "how long has
            # Melanie been practicing art?") may well be the answer the ranking aids found.
            covering = next((at for at, item in enumerate(ranked) if item[1].match > 0), None)
            if covering is not None:
                ranked.insert(0, ranked.pop(covering))
        return ranked

    def _scored(self, candidates: list[_Candidate]) -> list[_Ranked]:
        rows = self.index.docs(c.doc_id for c in candidates)
        signals = self.state.signals(row.path for row in rows.values())
        now = self.memory.clock().timestamp()
        lifecycle = self.config.lifecycle
        ranked: list[_Ranked] = []
        for candidate in candidates:
            row = rows.get(candidate.doc_id)
            if row is None:
                continue
            used = signals.get(row.path, Signals())
            importance = effective_importance(row.importance, row.updated, used, now, lifecycle, row.decay)
            fresh = recency(row.decay, row.updated, used, now, lifecycle)
            score = rank_score(candidate.relevance, importance, fresh, row.maturity, lifecycle)
            if row.superseded_by:
                # Outdated by a newer entry: still findable, but below what replaced it.
                score *= self.config.recall.superseded_penalty
            ranked.append((score, candidate, row, importance, fresh))
        ranked.sort(key=lambda item: (-item[0], item[2].path))
        return ranked

    def _hits(self, candidates: list[_Candidate], terms: list[str], limit: int, *, spread: bool = False) -> list[Hit]:
        """Rank candidates with the lifecycle formula; snippets only for the `limit` kept.
        With `spread` (a list-like question), no folder takes every place (core/diversity.py)."""
        ranked = self._ranked(candidates, limit, spread=spread)
        keep = ranked[:limit] if limit else ranked
        hits = []
        for score, candidate, row, importance, fresh in keep:
            text = self._snippet(row.path, terms) if limit else ""
            hits.append(
                Hit(
                    path=row.path,
                    title=row.title,
                    score=_round(score),
                    tier=candidate.tier,
                    snippet=text,
                    importance=row.importance,
                    maturity=row.maturity,
                    relevance=_round(candidate.relevance),
                    match=_round(candidate.match),
                    effective_importance=_round(importance),
                    recency=_round(fresh),
                    source=row.source,
                    updated=format_time(datetime.fromtimestamp(row.updated, UTC)),
                    superseded_by=row.superseded_by,
                    flags=tuple(kind for kind in row.flags.split(",") if kind),
                    day=self._listed_day(candidate.doc_id),
                )
            )
        return hits

    def _listed_day(self, doc_id: int) -> str | None:
        day = self._listed_days.get(doc_id)
        return None if day is None else date.fromordinal(day).isoformat()

    def _snippet(self, path: str, terms: list[str]) -> str:
        """From the file as it is now; only the body is needed, so the YAML is not parsed."""
        try:
            text = self.memory.read_text(path)
            body = split_frontmatter(text)[1]
        except (MemError, ValueError):
            return ""  # changed, removed or broken since the refresh: no snippet, not a failure
        return snippet(body, terms)


# The words and their base forms ("happened" -> happen), for the checks below.
_ACTIVITY_KEYS = ACTIVITY_WORDS | {light_key(word) for word in ACTIVITY_WORDS}
_NEWS_KEYS = NEWS_WORDS | {light_key(word) for word in NEWS_WORDS}


# QWERTY: the row of each key and its column, each row set off half a key from the one above.
_KEYS = {
    key: (row, column + row / 2)
    for row, keys in enumerate(("qwertyuiop", "asdfghjkl", "zxcvbnm"))
    for column, key in enumerate(keys)
}


def _compounds(term: str, vocabulary: list[str]) -> list[str]:
    """The words of `vocabulary` that are the word and another real word written as one
    (`pager` -> pagerduty, `data` -> database): names and terms of the trade often are. So
    are names made of a word and a short run of consonants (`rabbit` -> rabbitmq, `mongo` ->
    mongodb, `node` -> nodejs) when the whole is no English word (`bread` is not breadth)."""
    if len(term) < MIN_COMPOUND_HEAD or term in STOPWORDS or not is_known_word(term):
        return []  # a typo is not the head of a word (`stor` and storage)
    return [
        word
        for word in vocabulary
        if word.startswith(term) and light_key(word) != light_key(term) and _is_compound_tail(word, word[len(term) :])
    ]


def _is_compound_tail(word: str, rest: str) -> bool:
    if not rest.isalpha():
        return False
    if len(rest) >= MIN_COMPOUND_HEAD - 1 and is_real_word(rest):
        return True
    return 2 <= len(rest) <= NAME_SUFFIX and not has_vowel(rest) and not is_real_word(word)


_RUNS = re.compile(r"\d+|[^\d]+")
_TWELVE_HOUR = re.compile(r"(\d{1,2})(am|pm)")
# A time of day written as more than one word: "5:45 am", "5:30pm", "9 am", "17:30".
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*([ap]m)\b|\b(\d{1,2}):(\d{2})\b", re.IGNORECASE)
_CLOCK_TERM = re.compile(r"(\d{2}):(\d{2})")


def _twenty_four(hour: int, half: str) -> int | None:
    """The hour of a twelve-hour clock (`half` "am" or "pm") on a twenty-four-hour one; the
    hour as it is without `half`; None for no hour of the day."""
    if half:
        return hour % 12 + (12 if half == "pm" else 0) if 1 <= hour <= 12 else None
    return hour if hour <= 23 else None


def _clock_times(term: str) -> list[str]:
    """A time of day a question writes in twelve hours (`8am`, `3pm`), or as `_clock_terms`
    reads it (`17:30`), as notes write it in twenty-four: the phrases `08 00` and `8 00`,
    which FTS5 finds in "08:00" and "8:00"."""
    clock = _CLOCK_TERM.fullmatch(term)
    twelve = None if clock else _TWELVE_HOUR.fullmatch(term)
    hour = int(clock[1]) if clock else _twenty_four(int(twelve[1]), twelve[2]) if twelve else None
    if hour is None:
        return []
    minute = clock[2] if clock else "00"
    # The hour alone too, weakly (a memory's numbers say many things): "17:30" is in the
    # evening window "17:00 to 19:00".
    hour_alone = (f"{hour:02d}", f"{hour}") if clock is not None else ()
    return list(dict.fromkeys((f"{hour:02d} {minute}", f"{hour} {minute}", *hour_alone)))


def _clock_terms(text: str, terms: list[str]) -> list[str]:
    """The question's words with each time of day it writes as more than one word ("5:45 am",
    "17:30") read as one, `05:45`, `17:30` (_clock_times): its numbers alone are not what it
    asks about. A time written as one word (`2am`) is one already."""
    clocks: list[str] = []
    parts: set[str] = set()
    for match in _CLOCK.finditer(text):
        if " " not in match[0] and ":" not in match[0]:
            continue  # `2am`: one word
        hour = _twenty_four(int(match[1] or match[4]), (match[3] or "").lower())
        minute = match[2] or match[5] or "00"
        if hour is not None and int(minute) <= 59:
            clocks.append(f"{hour:02d}:{minute}")
            parts.update(words(match[0]))
    if not clocks:
        return terms
    kept = [term for term in terms if term not in parts]
    return kept + [clock for clock in dict.fromkeys(clocks) if clock not in kept]


def _same_numbers(word: str, term: str) -> bool:
    """Whether a typo correction leaves the word's numbers as they are: the same runs of
    digits in the same places (`pyhton3` may be python3). A number is never a slip of another
    (`ec2` is not ec3), and letters beside one are part of what it names (`401k` is not
    the HTTP status 401, `http` is not http2)."""
    if not any(char.isdigit() for char in word + term):
        return True
    ours, theirs = _RUNS.findall(word), _RUNS.findall(term)
    return len(ours) == len(theirs) and all(
        a == b if a[0].isdigit() else not b[0].isdigit() for a, b in zip(ours, theirs, strict=True)
    )


def _is_slip(typed: str, word: str) -> bool:
    """Whether `typed` is `word` with one slip of the fingers (the two are one edit apart): a
    letter left out or doubled, two letters swapped, or a letter replaced by a neighbour on a
    QWERTY keyboard ("rool" for roll, o beside l; not for root or roof). A slip on another
    layout is not told apart from a different word; the longer words' ratio is."""
    if len(typed) != len(word):
        return True  # one letter left out or added
    changed = [(a, b) for a, b in zip(typed, word, strict=True) if a != b]
    if len(changed) != 1:
        return True  # two letters swapped (OSA counts it one edit)
    a, b = changed[0]
    if a not in _KEYS or b not in _KEYS:
        return False
    (row_a, column_a), (row_b, column_b) = _KEYS[a], _KEYS[b]
    return abs(row_a - row_b) <= 1 and abs(column_a - column_b) <= 1


def _written_together(positions: Mapping[str, list[int]], first: list[str], second: list[str]) -> bool:
    """Whether one of the terms `first` stands right before one of `second` among a text's
    word positions."""
    follows = {at + 1 for term in first for at in positions.get(term, ())}
    return any(at in follows for term in second for at in positions.get(term, ()))


def _as_phrase(word_forms: Mapping[str, float], phrases: Mapping[str, float], apart: float) -> dict[str, float]:
    """A word that the question writes in a phrase (a phrasal verb, an identifier): the
    phrase's forms count as given, the word's own forms found apart only `apart` as much."""
    return {term: weight * apart for term, weight in word_forms.items()} | dict(phrases)


_POSSESSIVE = re.compile(r"\b([^\W_]+)['\u2019]s\b")


def _possessors(query: str) -> list[str]:
    """The words a question writes with a possessive 's ("Lucas's", "the team's"); not "it's",
    "what's", "let's", whose first word is a function word."""
    found = (fold(match.group(1)) for match in _POSSESSIVE.finditer(query))
    return [word for word in dict.fromkeys(found) if word not in STOPWORDS and len(word) > 1]


def _is_about(term: str, about: Collection[str]) -> bool:
    """Whether a term is among an entry's title, keyword, tag and path words; a phrase
    ("set up", an identifier's "zero downtime") when each of its words is."""
    if term in about:
        return True
    return " " in term and all(word in about for word in term.split())


def _is_in(term: str, keys: frozenset[str]) -> bool:
    return term in keys or light_key(term) in keys


def _asks_for_news(query: str, terms: list[str]) -> bool:
    """ "What's new", "what changed", "anything happened?", "any updates": a question for the
    newest entries without a date. Only as a "what" or "any" question: "how do I update" is
    about updating."""
    first = words(query)[:1]
    return (
        first in (["what"], ["whats"], ["anything"], ["any"])
        and _only_activity(terms)
        and any(_is_in(term, _NEWS_KEYS) for term in terms)
    )


def _only_activity(terms: list[str]) -> bool:
    """Whether a question's words, its dates aside, say nothing of what it is about."""
    return all(term in STOPWORDS or _is_in(term, _ACTIVITY_KEYS) for term in terms)


def _normalized(candidates: list[_Candidate], sharpness: float) -> list[_Candidate]:
    """Relevance relative to the tier's best candidate (the tier's normalised score,
    docs/recall.md), raised to `sharpness`: the best hit is 1, one half as good is 0.25 at the
    default 2. Importance and recency then reorder near ties without burying a clearly better
    match (on the coding questions, first hits right went from 21 to 27 of 35)."""
    best = max((c.relevance for c in candidates), default=0.0)
    if best > 0:
        for candidate in candidates:
            candidate.relevance = (candidate.relevance / best) ** sharpness
    return candidates


def _parse_tier(max_tier: str | None) -> Tier:
    if max_tier is None:
        return "agent"
    if max_tier not in TIERS:
        raise InvalidError(f"unknown tier {max_tier!r}; tiers are {', '.join(TIERS)}")
    return max_tier


def _status(report: RefreshReport) -> IndexStatus:
    return IndexStatus(report.scanned, report.changed, report.rebuilt, report.ms)
