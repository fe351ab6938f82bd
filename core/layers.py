"""Layers of memory: the project's memory, a personal one beside it, and read-only extras.

- **project**: the memory mem found (`--root`, MEM_ROOT, `.memory/` upward). Shared with the
  team through the project's repository. Writes go here unless asked otherwise.
- **personal**: the user's own memory across projects, in the user data folder
  (`~/.local/share/contextree/personal` on Linux, platformdirs' `user_data_dir`), or
  MEM_PERSONAL_ROOT. It is a memory root like any other (its own config, index and, if
  wanted, its own git repository), and it is never inside the project's repository: mem
  refuses to write to a personal memory there, so nothing personal is committed with the
  project. A project turns it off with `layers.personal: false`.
- **extras**: further memories a project declares in `layers.extra` (a clone of an
  organisation-wide memory, say), read-only: searched and listed, never written.

Recall searches every layer and labels each hit with its memory; list, tree and show do the
same. An entry path present in two memories is two entries, shown with both labels: never
merged, never one hiding the other.

Ranking across memories: each memory's recall normalises relevance to its own best hit, so a
weak match alone in a small memory would rank like the best match of a large one. The merged
ranking rescales every hit's relevance by how its memory's best match compares with the best
match of all memories (match is absolute: how much of the query the entry accounts for), then
ranks with the same lifecycle formula. Model tiers (llm, agent) run over the project memory
only, and only when no memory was confident with the cheap tiers.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InvalidError, MemError, NotFoundError
from .paths import normalize_entry_path, slugify

if TYPE_CHECKING:
    from .context import ContextBlock
    from .entry import Entry
    from .files import Listing
    from .lifecycle import Vitals
    from .memory import Memory
    from .recall import Hit, RecallResult, Tier
    from .tree import Problem
    from .treeview import TreeView

PERSONAL_ENV = "MEM_PERSONAL_ROOT"
PROJECT = "project"
PERSONAL = "personal"
_OFF = frozenset({"", "0", "off", "false", "no", "none"})


@dataclass(frozen=True)
class Layer:
    """One memory a recall searches: the project, the personal memory or an extra one."""

    name: str
    root: Path
    writable: bool


@dataclass(frozen=True)
class LabelledEntry:
    """An entry and the memory it is in."""

    memory: str
    entry: Entry


@dataclass(frozen=True)
class Shown:
    """An entry read in full from one memory, with its lifecycle now."""

    memory: str
    entry: Entry
    vitals: Vitals


def personal_root(env: Mapping[str, str]) -> Path | None:
    """Where the personal memory is (whether it exists yet or not); None when turned off."""
    value = env.get(PERSONAL_ENV)
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value).expanduser().resolve()
    platform: str = sys.platform  # a plain str: the other branch is reachable on other systems
    if platform.startswith("linux"):
        # What platformdirs answers on Linux (the XDG base directory spec), without importing
        # it: its import costs ~3 ms of every recall (measured with -X importtime).
        xdg = env.get("XDG_DATA_HOME", "").strip()
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
        return base / "contextree" / "personal"
    from platformdirs import user_data_dir  # macOS, Windows and the rest

    return Path(user_data_dir("contextree", appauthor=False)) / "personal"


def _extra(spec: str, project_root: Path) -> Layer:
    """`name=path` or `path` (named after its folder) from `layers.extra`, relative to the project root."""
    name, sep, raw = spec.partition("=")
    if not sep:
        name, raw = "", spec
    root = (project_root / Path(raw.strip()).expanduser()).resolve()
    label = slugify(name) or slugify(root.parent.name if root.name == ".memory" else root.name) or "extra"
    if label in (PROJECT, PERSONAL):
        label = f"{label}-extra"
    return Layer(label, root, writable=False)


def declared_layers(project: Memory) -> list[Layer]:
    """Every layer this project's memory declares, the project first (existing or not)."""
    layers = [Layer(PROJECT, project.root, True)]
    if project.config.layers.personal:
        personal = personal_root(project.env)
        if personal is not None:
            layers.append(Layer(PERSONAL, personal, True))
    for spec in project.config.layers.extra:
        layers.append(_extra(spec, project.root))
    seen: set[Path] = set()
    unique: list[Layer] = []
    names: set[str] = set()
    for layer in layers:
        if layer.root in seen:
            continue  # e.g. the personal memory opened as the project with --root
        name, number = layer.name, 2
        while name in names:
            name, number = f"{layer.name}-{number}", number + 1
        seen.add(layer.root)
        names.add(name)
        unique.append(replace(layer, name=name))
    return unique


class Layers:
    """The memories a command works across, opened lazily; the project's is the one given."""

    def __init__(self, project: Memory) -> None:
        self.project = project
        self.declared = declared_layers(project)
        self._open: dict[str, Memory] = {PROJECT: project}
        self._active: list[tuple[Layer, Memory]] | None = None
        self.warnings: list[str] = []

    # --- which memories ----------------------------------------------------------------------

    def layer(self, name: str) -> Layer:
        for layer in self.declared:
            if layer.name == name:
                return layer
        known = ", ".join(layer.name for layer in self.declared)
        raise NotFoundError(f"no memory named '{name}' (this project has: {known})")

    def active(self) -> list[tuple[Layer, Memory]]:
        """The layers that exist on disk, each with its Memory; the project always. Looked up
        once per Layers (a command's lifetime); `for_write` adds a personal memory it creates."""
        if self._active is not None:
            return self._active
        found: list[tuple[Layer, Memory]] = []
        for layer in self.declared:
            if layer.name != PROJECT and not layer.root.is_dir():
                if layer.name != PERSONAL:
                    self._warn(f"memory '{layer.name}' ({layer.root}) declared in layers.extra does not exist")
                continue
            try:
                found.append((layer, self.memory(layer.name)))
            except MemError as error:
                self._warn(f"memory '{layer.name}' ({layer.root}) is skipped: {error.message}")
        self._active = found
        return found

    def memory(self, name: str) -> Memory:
        if name not in self._open:
            from .memory import Memory

            layer = self.layer(name)
            self._open[name] = Memory(layer.root, clock=self.project.clock, env=self.project.env)
        return self._open[name]

    def name_of(self, memory: Memory) -> str:
        """The layer name of an open memory (`project`, `personal`, an extra's name)."""
        for name, held in self._open.items():
            if held is memory:
                return name
        return PROJECT

    def several(self) -> bool:
        """More than one memory exists: outputs then label every entry and hit with its memory."""
        return len(self.active()) > 1

    def context(self, result: RecallResult, budget: int) -> ContextBlock:
        """`Memory.recall_context` for a recall across memories: bodies from each hit's memory."""
        from .context import build_context

        bodies: dict[str, str] = {}
        for hit in result.results:
            if hit.path in bodies:
                continue  # the same path in two memories: the better-ranked one is shown
            try:
                bodies[hit.path] = self.memory(hit.memory).get(hit.path).body
            except MemError:
                continue  # removed or broken since the recall: left out
        return build_context(result, bodies, budget)

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def close(self) -> None:
        for name, memory in self._open.items():
            if name != PROJECT:
                memory.close()

    # --- writing -----------------------------------------------------------------------------

    def for_write(self, path: str | None = None, *, memory: str | None = None, personal: bool = False) -> Memory:
        """The memory a write goes to: the one named (`--memory NAME`, `--personal`), else the
        project's, unless the entry is only in another writable memory. A personal memory is
        created on its first write; read-only memories are refused."""
        name = PERSONAL if personal else memory
        if name is None and path is not None:
            normalized = normalize_entry_path(path)
            if not self.project.exists(normalized):
                holders = [layer for layer, held in self.active() if layer.name != PROJECT and held.exists(normalized)]
                writable = [layer.name for layer in holders if layer.writable]
                if writable:
                    name = writable[0]
                elif holders:
                    raise InvalidError(
                        f"'{normalized}' is in the read-only memory '{holders[0].name}' (layers.extra); "
                        "change it where that memory is maintained"
                    )
        if name is None or name == PROJECT:
            return self.project
        layer = self.layer(name)
        if not layer.writable:
            raise InvalidError(f"memory '{name}' is read-only (declared in layers.extra); write to the project's")
        if layer.name == PERSONAL:
            self._refuse_inside_project_repository(layer.root)
            if not layer.root.is_dir():
                from .memory import Memory

                Memory.init(layer.root)
                self._active = None  # it exists now
        return self.memory(layer.name)

    def _refuse_inside_project_repository(self, root: Path) -> None:
        from . import git

        project_repo = git.locate(self.project.root)
        personal_repo = git.locate(root)  # found on disk alone, also for a folder not made yet
        # A repository of its own inside the project's work tree is fine: git never commits
        # a nested repository's files into the outer one.
        if project_repo is not None and personal_repo is not None and personal_repo.top == project_repo.top:
            raise InvalidError(
                f"the personal memory {root} is inside the project's git repository ({project_repo.top}); "
                f"set {PERSONAL_ENV} to a folder outside it, so nothing personal is committed with the project"
            )

    # --- reading -----------------------------------------------------------------------------

    def read(self, path: str, *, archived: bool = False, memory: str | None = None) -> list[Shown]:
        """The entry at `path` in every memory that has it (or only `memory`), read in full
        (a use, as `Memory.read`), with its lifecycle; the project's first."""
        normalized = normalize_entry_path(path)
        layers = [(layer, held) for layer, held in self.active() if memory is None or layer.name == memory]
        if memory is not None and not layers:
            self.layer(memory)  # an unknown name: NotFoundError naming the known ones
            raise NotFoundError(f"memory '{memory}' does not exist yet")
        shown: list[Shown] = []
        first_error: MemError | None = None
        for layer, held in layers:
            try:
                entry = held.read(normalized, archived=archived)
            except NotFoundError as error:
                first_error = first_error or error
                continue
            shown.append(Shown(layer.name, entry, held.vitals([entry], archived=archived)[entry.path]))
        if not shown:
            raise first_error or NotFoundError(f"no entry '{normalized}'")
        return shown

    def confirm_use(self, paths: Iterable[str]) -> tuple[str, ...]:
        """Count entries as used (`Memory.confirm_use`), each in the first memory that has it,
        the project's first; NotFoundError naming a path no memory has, and nothing recorded."""
        wanted = tuple(dict.fromkeys(normalize_entry_path(path) for path in paths))
        owner: dict[str, Memory] = {}
        for path in wanted:
            held = next((held for _, held in self.active() if held.exists(path)), None)
            if held is None:
                raise NotFoundError(f"no entry '{path}' to confirm as used")
            owner[path] = held
        for path, held in owner.items():
            held.confirm_use([path])
        return wanted

    def trees(self, prefix: str | None = None, *, memory: str | None = None) -> list[tuple[str, Memory, TreeView]]:
        """Each memory's tree under `prefix` (or only `memory`'s), the project's first."""
        return [
            (layer.name, held, held.tree(prefix))
            for layer, held in self.active()
            if memory is None or layer.name == memory
        ]

    def list(
        self, prefix: str | None = None, *, archived: bool = False, memory: str | None = None
    ) -> tuple[list[LabelledEntry], list[Problem]]:
        """Every memory's entries under `prefix` (or only `memory`'s), by path (project first at
        equal paths), and the problems found, named with their memory when there are several."""
        entries: list[LabelledEntry] = []
        problems: list[Problem] = []
        active = [(layer, held) for layer, held in self.active() if memory is None or layer.name == memory]
        for layer, held in active:
            listing: Listing = held.list(prefix, archived=archived)
            entries.extend(LabelledEntry(layer.name, entry) for entry in listing.entries)
            # Files of another memory are named with it: `personal:a/b/broken.md`.
            label = "" if layer.name == PROJECT else f"{layer.name}:"
            problems.extend(replace(problem, file=label + problem.file) for problem in listing.problems)
        order = {layer.name: position for position, (layer, _) in enumerate(active)}
        entries.sort(key=lambda item: (item.entry.path, order[item.memory]))
        return entries, problems

    def recall(
        self,
        query: str,
        k: int | None = None,
        scope: str | None = None,
        max_tier: str | None = None,
        *,
        explain: bool = False,
        escalate: bool = False,
    ) -> RecallResult:
        """One recall across every memory, hits labelled with their memory (module docstring)."""
        from .recall import CHEAP_TIERS, TIERS

        active = self.active()
        if len(active) == 1:
            return self.project.recall(query, k, scope, max_tier, explain=explain, escalate=escalate)
        started = time.perf_counter()
        cheap_cap: Tier = "fuzzy"
        if max_tier is not None and max_tier in TIERS and TIERS.index(max_tier) < TIERS.index(cheap_cap):
            cheap_cap = max_tier
        results: list[tuple[str, RecallResult]] = []
        for layer, memory in active[1:]:
            results.append((layer.name, memory.recall(query, k, scope, cheap_cap, explain=explain)))
        project_tier = max_tier
        if any(result.resolved for _, result in results) and not escalate:
            project_tier = cheap_cap if max_tier is None or max_tier not in CHEAP_TIERS else max_tier
        results.insert(
            0, (PROJECT, self.project.recall(query, k, scope, project_tier, explain=explain, escalate=escalate))
        )
        return _merge(results, self.project, k, started)


def _merge(results: list[tuple[str, RecallResult]], project: Memory, k: int | None, started: float) -> RecallResult:
    from .lifecycle import rank_score

    config = project.config
    limit = config.recall.k if k is None else k
    project_result = results[0][1]
    if project_result.tier in ("llm", "agent"):
        # The model answered from the project memory, citing its entries: keep its choice.
        merged_hits = [_label(hit, PROJECT) for hit in project_result.results]
    else:
        best = {name: max((hit.match for hit in result.results), default=0.0) for name, result in results}
        overall = max(best.values(), default=0.0)
        merged_hits = []
        for name, result in results:
            factor = (best[name] / overall) ** config.recall.relevance_sharpness if overall > 0 else 1.0
            for hit in result.results:
                relevance = hit.relevance * factor
                score = rank_score(relevance, hit.effective_importance, hit.recency, hit.maturity, config.lifecycle)
                if hit.superseded_by:
                    score *= config.recall.superseded_penalty
                merged_hits.append(replace(hit, relevance=round(relevance, 4), score=round(score, 4), memory=name))
        order = {name: position for position, (name, _) in enumerate(results)}
        merged_hits.sort(key=lambda hit: (-hit.score, order[hit.memory], hit.path))
        merged_hits = merged_hits[:limit]
    resolved = [(name, result) for name, result in results if result.resolved]
    tier = None
    if resolved:
        top_memory = merged_hits[0].memory if merged_hits else resolved[0][0]
        tier = next((result.tier for name, result in resolved if name == top_memory), resolved[0][1].tier)
    timings: dict[str, float] = {}
    for name, result in results:
        for key, value in result.timings_ms.items():
            if key != "total":
                timings[key] = round(timings.get(key, 0.0) + value, 3)
        timings[f"memory:{name}"] = result.timings_ms.get("total", 0.0)
    timings["total"] = round((time.perf_counter() - started) * 1000, 3)
    if tier is not None:
        message = f"resolved by the {tier} tier"
    elif merged_hits:
        message = "no tier was confident; the best matches are shown"
    else:
        message = project_result.message
    notes = list(dict.fromkeys(note for _, result in results for note in result.notes))
    problems = tuple(f"[{name}] {problem}" for name, result in results for problem in result.problems)
    explain = tuple(
        replace(trace, reason=f"[{name}] {trace.reason}") for name, result in results for trace in result.explain
    )
    return replace(
        project_result,
        resolved=tier is not None,
        tier=tier,
        timings_ms=timings,
        results=tuple(merged_hits),
        message=message,
        notes=tuple(notes),
        explain=explain,
        problems=problems,
    )


def _label(hit: Hit, memory: str) -> Hit:
    return replace(hit, memory=memory)
