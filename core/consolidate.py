"""`mem consolidate`: the only place the lifecycle changes frontmatter.

A run makes a *plan* from the files, `.mem/state.db` and the clock, then (unless it is a dry
run) applies it under the tree's write lock:

1. merges (only with `merge=True`): near-duplicates fold into the best entry of their group;
   the others get `superseded_by:` and go to `_archive/` with a note;
2. maturity moves: the thresholds with hysteresis applied to effective importance;
3. archiving: drafts under the importance floor that nobody touched for the set time.

Every step re-reads the entry under the lock and checks that it is still due (something may
have changed since the plan), writes each file atomically, and records why in the entry.
The whole run is one git commit when the memory is versioned, so `mem undo` reverts it at
once. A run is idempotent: the plan of a second run with the same clock is empty.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from .config import LifecycleConfig
from .duplicates import Document, DuplicatePair, distinct_blocks, find_duplicates
from .entry import (
    MATURITY_CHANGED_KEY,
    MATURITY_REASON_KEY,
    MERGED_FROM_KEY,
    SUPERSEDED_BY_KEY,
    Entry,
    Maturity,
    dump_entry,
)
from .errors import MemError
from .files import StoredEntry
from .lifecycle import MATURITY_ORDER, Signals, Vitals, bumped_importance, check_thresholds, entry_vitals
from .store import replace_if_unchanged
from .text import ms_since
from .tree import Problem

if TYPE_CHECKING:
    from .memory import Memory

Action = Literal["promote", "demote", "archive", "merge"]


@dataclass(frozen=True)
class MaturityMove:
    action: Action  # promote or demote
    path: str
    before: str
    after: str
    effective_importance: float
    reason: str


@dataclass(frozen=True)
class ArchiveItem:
    path: str
    effective_importance: float
    days_untouched: float
    reason: str


@dataclass(frozen=True)
class MergeProposal:
    survivor: str  # the entry that stays and takes the others' distinct text
    absorbed: tuple[str, ...]  # archived with `superseded_by: survivor`
    pairs: tuple[DuplicatePair, ...]  # the near-duplicate pairs behind the proposal
    reason: str


@dataclass(frozen=True)
class Plan:
    now: datetime
    prefix: str
    entries: int  # live entries considered
    merge: bool  # merges are part of what applying does (else only proposed)
    merges: tuple[MergeProposal, ...]
    moves: tuple[MaturityMove, ...]
    archive: tuple[ArchiveItem, ...]
    problems: tuple[Problem, ...]

    @property
    def empty(self) -> bool:
        return not self.moves and not self.archive and not (self.merge and self.merges)


@dataclass(frozen=True)
class Outcome:
    action: Action
    path: str
    done: bool
    detail: str  # what was done, or why it was skipped


@dataclass(frozen=True)
class ConsolidateResult:
    plan: Plan
    dry_run: bool
    outcomes: tuple[Outcome, ...]
    ms: float


@dataclass
class _Item:
    """An entry as the planner sees it; merges change the survivor's copy before maturity is planned."""

    entry: Entry
    mtime: float
    signals: Signals


def plan(memory: Memory, prefix: str | None = None, *, merge: bool = False) -> Plan:
    cfg = memory.config.lifecycle
    check_thresholds(cfg)
    scan = memory.scan(prefix)
    listing = memory.load(scan)
    mtimes = {record.path: record.mtime_ns / 1e9 for record in scan.records}
    moment = memory.clock()
    now = moment.timestamp()
    signals = memory.state().all_signals()
    items = {
        entry.path: _Item(entry, mtimes.get(entry.path, now), signals.get(entry.path, Signals()))
        for entry in listing.entries
    }
    vitals = {path: entry_vitals(item.entry, item.signals, now, cfg, item.mtime) for path, item in items.items()}

    documents = [
        Document(
            entry.path,
            entry.title,
            "\n".join((entry.summary, " ".join(entry.keywords), " ".join(entry.tags), entry.body)),
            entry.body,
        )
        for entry in listing.entries
        # An entry already superseded (by `mem curate`, or a merge restored by hand) holds
        # outdated text: merging it would bring that text back into the newer entry.
        if not entry.extra.get(SUPERSEDED_BY_KEY)
    ]
    merges = _group(find_duplicates(documents, cfg), vitals)

    if merge:
        # Plan maturity and archiving on the tree as it will be after the merges, so that
        # the run leaves nothing for a second run to do.
        for proposal in merges:
            group = [items[path] for path in (proposal.survivor, *proposal.absorbed)]
            survivor = group[0]
            importance = bumped_importance(max(item.entry.importance for item in group), cfg)
            hits = sum(item.signals.hits for item in group)
            accesses = [item.signals.last_access for item in group if item.signals.last_access is not None]
            survivor.entry = replace(survivor.entry, importance=importance, updated=moment.replace(microsecond=0))
            survivor.signals = Signals(hits, max(accesses) if accesses else None)
            vitals[proposal.survivor] = entry_vitals(survivor.entry, survivor.signals, now, cfg, survivor.mtime)
            for path in proposal.absorbed:
                del items[path]

    moves: list[MaturityMove] = []
    archive: list[ArchiveItem] = []
    for path in sorted(items):
        state = vitals[path]
        if state.maturity_due != state.maturity:
            up = MATURITY_ORDER[state.maturity_due] > MATURITY_ORDER.get(state.maturity, 0)
            moves.append(
                MaturityMove(
                    "promote" if up else "demote",
                    path,
                    state.maturity,
                    state.maturity_due,
                    state.effective_importance,
                    _move_reason(state, cfg),
                )
            )
        elif state.archive_due:
            archive.append(
                ArchiveItem(path, state.effective_importance, state.days_untouched, _archive_reason(state, cfg))
            )
    return Plan(
        now=moment,
        prefix=prefix or "",
        entries=len(listing.entries),
        merge=merge,
        merges=tuple(merges),
        moves=tuple(moves),
        archive=tuple(archive),
        problems=listing.problems,
    )


def _rank(state: Vitals, path: str) -> tuple[int, float, float, str]:
    """Which entry of a group survives: the most mature, then the most important, then the
    most recently updated (the path only breaks exact ties, reproducibly)."""
    return (MATURITY_ORDER.get(state.maturity, 0), state.effective_importance, state.last_update.timestamp(), path)


def _group(pairs: list[DuplicatePair], vitals: Mapping[str, Vitals]) -> list[MergeProposal]:
    """Merge proposals: connected groups of near-duplicates, each folding into its best entry.

    Only entries that are near-duplicates *of the survivor itself* join its proposal; a
    chain A~B~C does not merge A and C unless they are alike too.
    """
    parent: dict[str, str] = {}

    def find(path: str) -> str:
        while parent.setdefault(path, path) != path:
            parent[path] = parent[parent[path]]
            path = parent[path]
        return path

    for pair in pairs:
        parent[find(pair.first)] = find(pair.second)
    groups: dict[str, list[str]] = defaultdict(list)
    for path in sorted(parent):
        groups[find(path)].append(path)
    proposals = []
    for members in groups.values():
        survivor = max(members, key=lambda path: _rank(vitals[path], path))
        direct = [pair for pair in pairs if survivor in (pair.first, pair.second)]
        absorbed = sorted(pair.second if pair.first == survivor else pair.first for pair in direct)
        best = max(direct, key=lambda pair: pair.similarity)
        reason = (
            f"near-duplicate: similarity {best.similarity:.0f} (titles {best.title_similarity:.0f}, "
            f"bodies {best.body_similarity:.0f}), {best.overlap:.0%} shared words; the survivor is "
            f"{vitals[survivor].maturity} with effective importance {vitals[survivor].effective_importance:.1f}"
        )
        proposals.append(MergeProposal(survivor, tuple(absorbed), tuple(direct), reason))
    proposals.sort(key=lambda proposal: proposal.survivor)
    return proposals


def _move_reason(state: Vitals, cfg: LifecycleConfig) -> str:
    up = MATURITY_ORDER[state.maturity_due] > MATURITY_ORDER.get(state.maturity, 0)
    if up:
        threshold = cfg.promote_core_at if state.maturity_due == "core" else cfg.promote_validated_at
        return f"effective importance {state.effective_importance:.1f} >= {threshold:g}"
    threshold = cfg.demote_core_below if state.maturity == "core" else cfg.demote_validated_below
    if state.maturity_due == "draft":
        threshold = cfg.demote_validated_below
    return f"effective importance {state.effective_importance:.1f} < {threshold:g}"


def _archive_reason(state: Vitals, cfg: LifecycleConfig) -> str:
    return (
        f"stale draft: effective importance {state.effective_importance:.1f} < {cfg.archive_below:g}, "
        f"untouched for {state.days_untouched:.0f} days"
    )


# --- applying ----------------------------------------------------------------------------


def run(memory: Memory, prefix: str | None = None, *, merge: bool = False, dry_run: bool = False) -> ConsolidateResult:
    started = time.perf_counter()
    proposal = plan(memory, prefix, merge=merge)
    if dry_run or proposal.empty:
        return ConsolidateResult(proposal, dry_run, (), ms_since(started))
    applier = _Applier(memory, proposal)
    applier.apply()
    return ConsolidateResult(proposal, dry_run, tuple(applier.outcomes), ms_since(started))


class _Applier:
    def __init__(self, memory: Memory, proposal: Plan) -> None:
        self.memory = memory
        self.plan = proposal
        self.cfg = memory.config.lifecycle
        self.outcomes: list[Outcome] = []
        self.changed: list[Path] = []

    def apply(self) -> None:
        files = self.memory.files
        with files.lock():
            try:
                if self.plan.merge:
                    redirects: dict[str, str] = {}
                    for proposal in self.plan.merges:
                        redirects.update(self._merge(proposal))
                    if redirects:
                        self._relink(redirects)
                for move in self.plan.moves:
                    self._move(move)
                for item in self.plan.archive:
                    self._archive(item)
            finally:
                # One commit for the run (when the memory is versioned): `mem undo` reverts
                # a consolidation at once. Whatever was done before an error is kept.
                if self.changed:
                    files.after_write("consolidate", self.changed, self._subject())

    def _subject(self) -> str:
        counts: dict[str, int] = defaultdict(int)
        for outcome in self.outcomes:
            if outcome.done:
                counts[outcome.action] += 1
        words = {"promote": "promoted", "demote": "demoted", "archive": "archived", "merge": "merged"}
        return ", ".join(f"{counts[action]} {words[action]}" for action in words if counts[action]) or "no change"

    def _now_vitals(self, entry: Entry, file: Path) -> Vitals:
        signals = self.memory.state().signals([entry.path]).get(entry.path, Signals())
        mtime = file.stat().st_mtime
        return entry_vitals(entry, signals, self.memory.clock().timestamp(), self.cfg, mtime)

    def _skip(self, action: Action, path: str, error: MemError) -> None:
        self.outcomes.append(Outcome(action, path, False, error.message))

    def _move(self, move: MaturityMove) -> None:
        try:
            stored = self.memory.files.read(move.path)
        except MemError as error:
            self._skip(move.action, move.path, error)
            return
        entry, raw, file = stored.entry, stored.raw, stored.file
        state = self._now_vitals(entry, file)
        if entry.maturity != move.before or state.maturity_due != move.after:
            # Changed since the plan: apply only what was shown; the next run plans afresh.
            detail = (
                f"no longer due: {entry.maturity} -> {state.maturity_due}, "
                f"effective importance {state.effective_importance:.1f}"
            )
            self.outcomes.append(Outcome(move.action, move.path, False, detail))
            return
        reason = _move_reason(state, self.cfg)
        extra = {**entry.extra, MATURITY_CHANGED_KEY: self.memory.files.now(), MATURITY_REASON_KEY: reason}
        moved = self.memory.files.validated(replace(entry, maturity=cast(Maturity, state.maturity_due), extra=extra))
        try:
            replace_if_unchanged(file, raw, dump_entry(moved))
        except MemError as error:
            self._skip(move.action, move.path, error)
            return
        self.changed.append(file)
        self.outcomes.append(Outcome(move.action, move.path, True, reason))

    def _archive(self, item: ArchiveItem) -> None:
        try:
            stored = self.memory.files.read(item.path)
        except MemError as error:
            self._skip("archive", item.path, error)
            return
        entry, file = stored.entry, stored.file
        state = self._now_vitals(entry, file)
        if not state.archive_due:
            detail = (
                f"no longer due: {entry.maturity}, effective importance {state.effective_importance:.1f}, "
                f"untouched for {state.days_untouched:.0f} days"
            )
            self.outcomes.append(Outcome("archive", item.path, False, detail))
            return
        reason = "consolidate: " + _archive_reason(state, self.cfg)
        try:
            _, target = self.memory.files.archive(stored, reason)
        except MemError as error:
            self._skip("archive", item.path, error)
            return
        self.changed += [file, target]
        self.outcomes.append(Outcome("archive", item.path, True, reason))

    def _merge(self, proposal: MergeProposal) -> dict[str, str]:
        """Fold the absorbed entries into the survivor; returns {absorbed: survivor} for those done."""
        files = self.memory.files
        try:
            survivor = files.read(proposal.survivor)
        except MemError as error:
            self._skip("merge", proposal.survivor, error)
            return {}
        absorbed: list[StoredEntry] = []
        for path in proposal.absorbed:
            try:
                absorbed.append(files.read(path))
            except MemError as error:
                self._skip("merge", path, error)
        if not absorbed or not self._fold(survivor, [stored.entry for stored in absorbed]):
            return {}
        into = survivor.entry.path
        redirects: dict[str, str] = {}
        for stored in absorbed:
            reason = f"consolidate: merged into {into} (near-duplicate)"
            try:
                _, target = files.archive(stored, reason, notes={SUPERSEDED_BY_KEY: into})
            except MemError as error:
                self._skip("merge", stored.entry.path, error)
                continue
            self.memory.state().merge(stored.entry.path, into)
            self.changed += [stored.file, target]
            redirects[stored.entry.path] = into
            self.outcomes.append(Outcome("merge", stored.entry.path, True, f"merged into {into}"))
        return redirects

    def _fold(self, stored: StoredEntry, absorbed: list[Entry]) -> bool:
        """Give the survivor the absorbed entries' distinct text, tags, keywords and links
        (its file is rewritten only if that changes it); False if it could not be written."""
        survivor = stored.entry
        body = survivor.body
        merged_from = _string_list(survivor.extra.get(MERGED_FROM_KEY))
        group = {survivor.path, *(entry.path for entry in absorbed)}
        tags, keywords = list(survivor.tags), list(survivor.keywords)
        related = [link for link in survivor.related if link not in group]
        for entry in absorbed:
            blocks = distinct_blocks(entry.body, body)
            if blocks:
                body = body.rstrip("\n") + f"\n\n## Merged from `{entry.path}`\n\n" + "\n\n".join(blocks) + "\n"
            tags += [tag for tag in entry.tags if tag not in tags]
            keywords += [word for word in entry.keywords if word not in keywords]
            related += [link for link in entry.related if link not in group and link not in related]
            if entry.path not in merged_from:
                merged_from.append(entry.path)
        changed = (
            body != survivor.body
            or tuple(tags) != survivor.tags
            or tuple(keywords) != survivor.keywords
            or tuple(related) != survivor.related
            or merged_from != _string_list(survivor.extra.get(MERGED_FROM_KEY))
        )
        if not changed:
            return True
        files = self.memory.files
        importance = max(entry.importance for entry in [survivor, *absorbed])
        updated = files.validated(
            replace(
                survivor,
                body=body,
                tags=tuple(tags),
                keywords=tuple(keywords),
                related=tuple(related),
                importance=bumped_importance(importance, self.cfg),
                updated=files.now(),
                extra={**survivor.extra, MERGED_FROM_KEY: merged_from},
            )
        )
        try:
            replace_if_unchanged(stored.file, stored.raw, dump_entry(updated))
        except MemError as error:
            self._skip("merge", survivor.path, error)
            return False
        self.changed.append(stored.file)
        return True

    def _relink(self, redirects: Mapping[str, str]) -> None:
        """Links to a merged entry (`related`, supersedes, reply_to) now point at the entry it was merged into."""
        self.changed.extend(self.memory.files.relink(redirects, skip=set(redirects)))


def _string_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(item) for item in value]
    return [str(value)] if isinstance(value, str) else []
