"""`Memory`: the Python API over one memory root, and what every interface calls.

The CLI, the MCP server and Python users all go through this class, so the rules (paths,
validation, locking, provenance, lifecycle bumps) are enforced once. Methods return frozen
dataclasses and never print.

`Memory` is the facade: argument handling, the read API, and one-line delegators to the
feature modules. Locking, reading with limits, validation, commits, moves and archiving
belong to its write service `memory.files` (core/files.py); docs/architecture.md has the map.
"""

from __future__ import annotations

import builtins
import contextlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import CONFIG_FILE, SOURCE_ENV, Config, load_config
from .entry import (
    ARCHIVED_AT_KEY,
    ARCHIVED_REASON_KEY,
    Decay,
    Entry,
    Maturity,
    derive_title,
    dump_entry,
    is_derived,
    line_namer,
    normalize_body,
    slug_title,
    title_from_text,
)
from .errors import ExistsError, InvalidError, MemError, NoEntryError, NotFoundError
from .files import Clock, EntryFiles, Listing
from .lifecycle import bumped_importance
from .paths import (
    ARCHIVE_DIR,
    ENTRY_MIN_DEPTH,
    entry_file,
    normalize_entry_path,
    normalize_prefix,
    parse_location,
)
from .safeio import state_dir
from .store import checkpoint, create_exclusive, decode_text, read_bytes_limited, replace_if_unchanged
from .tree import Scan, find_root, scan_tree

if TYPE_CHECKING:
    from . import git
    from .consolidate import ConsolidateResult
    from .context import ContextBlock
    from .curate import CurationPlan
    from .doctor import DoctorReport
    from .graph import Graph
    from .import_format import ImportReport
    from .import_format import Kind as ImportKind
    from .index import Index, Progress, RefreshReport
    from .lifecycle import Vitals
    from .recall import RecallResult
    from .safety import SecretFinding
    from .state import StateStore
    from .stats import Stats
    from .treeview import FolderNode, TreeView
    from .watch import ErrorCallback, FlushCallback, Watcher


def __getattr__(name: str) -> type[FolderNode] | type[TreeView]:
    """FolderNode and TreeView were defined here: still importable from here, loaded on
    first use (only `mem tree` needs them, not every process that opens a memory)."""
    if name in ("FolderNode", "TreeView"):
        from . import treeview

        return getattr(treeview, name)  # type: ignore[no-any-return]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class MoveResult:
    """What `Memory.move` moved, and which entries it relinked."""

    moved: tuple[tuple[str, str], ...]  # (old path, new path) for every entry moved
    relinked: tuple[str, ...]  # entries whose links to what moved were rewritten


@dataclass(frozen=True)
class InitResult:
    """What `Memory.init` created."""

    root: Path
    created: bool  # False when the folder already was a memory root
    files: tuple[str, ...]  # files written by this call, relative to the root
    git: str | None = None  # "created" / "existing" with --git: the root's own repository
    commit: str | None = None  # the "mem init" commit, when one was made
    warnings: tuple[str, ...] = ()


class Memory:
    """A memory root. `Memory()` finds it like the CLI does: MEM_ROOT, then `.memory/` upward."""

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        *,
        config: Config | None = None,
        clock: Clock | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.root = find_root(root, self.env, Path.cwd())
        self.config = config if config is not None else load_config(self.root)
        self.clock: Clock = clock or system_clock
        self._index: Index | None = None
        self._state: StateStore | None = None
        # Things that went wrong without undoing an operation (a write whose git commit
        # failed); the CLI prints them as warnings.
        self.warnings: builtins.list[str] = []
        # The write service: locks, reads with limits, validation, commits, moves, archiving.
        self.files = EntryFiles(self.root, self.config, self.clock, self.env, self.warnings, self.state)

    # --- set-up --------------------------------------------------------------------------

    @staticmethod
    def init(path: str | os.PathLike[str], *, git_repository: bool = False) -> InitResult:
        """Create a memory root (idempotent): the folder, `.gitignore` and a commented config.

        With `git_repository`, the root also becomes a git repository of its own (unless it
        already is one) and its files are committed as "mem init".
        """
        from importlib.resources import files

        root = Path(path).expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise ExistsError(f"{root} exists and is not a folder")
        created = not root.exists()
        root.mkdir(parents=True, exist_ok=True)
        templates = files("contextree.templates")
        written: list[str] = []
        for name, template in ((".gitignore", "gitignore"), (CONFIG_FILE, "config.yaml")):
            target = root / name
            if target.exists():
                continue
            try:
                create_exclusive(target, templates.joinpath(template).read_text(encoding="utf-8"))
            except ExistsError:
                continue  # another `mem init` got there first; theirs is the same text
            written.append(name)
        state_dir(root)
        git_state: str | None = None
        warnings: builtins.list[str] = []
        from . import git

        if git_repository:
            existing = git.locate(root)
            git_state = "existing" if existing is not None and existing.standalone else "created"
            if existing is not None and not existing.standalone:
                warnings.append(
                    f"{root} is inside the git repository at {existing.top}; it now has a repository of its own, "
                    f"which that one will show as an untracked folder: add it to {existing.top / '.gitignore'}"
                )
            git.init_repository(root)
        if not git_repository and git.locate(root) is None:
            return InitResult(root=root, created=created, files=tuple(written))
        memory = Memory(root)
        commit = None
        repo = memory.files.commit_repo()
        if repo is not None:
            # A new repository takes everything already in the folder; an existing one only
            # the files this call wrote.
            names = (
                [item.name for item in git.pending_changes(repo)]
                if git_state == "created"
                else [repo.rel(root / name) for name in written]
            )
            commit = memory.files.commit(names, "mem init", "mem init")
        return InitResult(
            root=root,
            created=created,
            files=tuple(written),
            git=git_state,
            commit=commit,
            warnings=(*warnings, *memory.warnings),
        )

    # --- reading -------------------------------------------------------------------------

    def parse_bytes(self, path: str, data: bytes, where: str) -> Entry:
        """An entry from a file's bytes; a body over the size limit is refused like on writing."""
        return self.files.parse_bytes(path, data, where)

    def get(self, path: str, *, archived: bool = False) -> Entry:
        """The entry at `path` (or in `_archive/` when `archived`)."""
        return self.files.read(normalize_entry_path(path), archived=archived).entry

    def read_text(self, path: str) -> str:
        """The text of an entry file as stored, unparsed (for snippets: no YAML needed)."""
        normalized = normalize_entry_path(path)
        file = entry_file(self.root, normalized)
        return decode_text(read_bytes_limited(file, self.files.file_limit()), normalized)

    def read(self, path: str, *, archived: bool = False) -> Entry:
        """The entry at `path`, read in full by a person or an agent (`mem show`, MCP `show`):
        unlike `get`, this counts as a use in `.mem/state.db`, which raises its effective
        importance. Nothing is written to the entry's file."""
        normalized = normalize_entry_path(path)
        entry = self.files.read(normalized, archived=archived).entry
        if not archived and self.config.recall.record_access:
            not_counted = self.state().record([normalized], self.clock().timestamp())
            if not_counted is not None:
                self.warnings.append(not_counted)
        return entry

    def confirm_use(self, paths: Iterable[str]) -> tuple[str, ...]:
        """Record that these entries were used: an agent or a person says a recall's entry
        helped (`mem recall --used PATH`, the MCP `recall` tool's `used`). Being a recall's
        first hit is not a use (a wrong one would be rewarded as often as a right one);
        this is. Every path must name an entry (NotFoundError otherwise, nothing recorded)."""
        confirmed = tuple(dict.fromkeys(normalize_entry_path(path) for path in paths))
        for path in confirmed:
            if not self.exists(path):
                raise NotFoundError(f"no entry '{path}' to confirm as used")
        if confirmed and self.config.recall.record_access:
            self.state().record(confirmed, self.clock().timestamp())
        return confirmed

    def vitals(self, entries: Iterable[Entry], *, archived: bool = False) -> dict[str, Vitals]:
        """Effective importance, recency and maturity of these entries now (by path)."""
        from .lifecycle import Signals, entry_vitals

        wanted = builtins.list(entries)
        signals = self.state().signals(entry.path for entry in wanted)
        now = self.clock().timestamp()
        result: dict[str, Vitals] = {}
        for entry in wanted:
            mtime = None
            if entry.updated is None and entry.created is None:
                with contextlib.suppress(OSError, MemError):
                    mtime = entry_file(self.root, entry.path, archived=archived).stat().st_mtime
            used = Signals() if archived else signals.get(entry.path, Signals())
            result[entry.path] = entry_vitals(entry, used, now, self.config.lifecycle, mtime)
        return result

    def stats(self, prefix: str | None = None) -> Stats:
        """Counts by domain, maturity and age, usage and a histogram of effective importance."""
        from .stats import collect

        return collect(self, prefix)

    def graph(self, prefix: str | None = None) -> Graph:
        """The `related` links of the entries under `prefix` (render with core.graph)."""
        from .graph import build

        return build(self, prefix)

    def exists(self, path: str) -> bool:
        return entry_file(self.root, normalize_entry_path(path)).is_file()

    def scan(self, prefix: str | None = None, *, archived: bool = False) -> Scan:
        """The entry files under a prefix, without parsing them (cheap: one stat per file)."""
        return scan_tree(self.root, normalize_prefix(prefix), archived=archived)

    def load(self, scan: Scan) -> Listing:
        """Parse the files of a scan; files that fail become problems, never exceptions."""
        return self.files.load(scan)

    def list(self, prefix: str | None = None, *, archived: bool = False) -> Listing:
        """Every valid entry under `prefix`, sorted by path, plus the files that were skipped."""
        return self.load(self.scan(prefix, archived=archived))

    def tree(self, prefix: str | None = None) -> TreeView:
        """The folders and entries under `prefix`, with folder overviews from `_index.md`."""
        from .treeview import build

        return build(self, prefix)

    # --- recall --------------------------------------------------------------------------

    def index(self) -> Index:
        """The search index (a cache of the files; opened lazily, kept for this Memory)."""
        if self._index is None:
            from .index import Index  # sqlite3 and the index code are not needed to add or show

            self._index = Index(self.root, self.files.file_limit())
        return self._index

    def state(self) -> StateStore:
        """Volatile usage signals (`.mem/state.db`)."""
        if self._state is None:
            from .state import StateStore

            self._state = StateStore(self.root)
        return self._state

    def refresh_index(self, progress: Progress | None = None) -> RefreshReport:
        """Bring the index up to date with the files (recall does this by itself)."""
        return self.index().refresh(progress)

    def reindex(self, *, full: bool = False, progress: Progress | None = None) -> RefreshReport:
        """Refresh the index; `full` drops it first (and other mem versions' index files:
        core/index.py) and rebuilds it from the files."""
        if full:
            self.index().reset()
            self.index().remove_other_versions()
            return replace(self.index().refresh(progress), rebuilt=True)
        return self.index().refresh(progress)

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
        """Answer a query from the tree: path, keyword, fuzzy tiers, then the model tiers when
        they are not confident and a model is configured (core/recall.py, core/llm_tiers.py).
        `escalate` walks every tier up to `max_tier` even after a confident one."""
        from .recall import Recaller

        return Recaller(self, self.index(), self.state()).recall(
            query, k=k, scope=scope, max_tier=max_tier, explain=explain, escalate=escalate
        )

    def recall_context(self, result: RecallResult, budget: int) -> ContextBlock:
        """The results of a recall as one delimited, budgeted block for an agent's prompt."""
        from .context import build_context

        bodies: dict[str, str] = {}
        for hit in result.results:
            try:
                bodies[hit.path] = self.get(hit.path).body
            except MemError:
                continue  # removed or broken since the recall: left out
        return build_context(result, bodies, budget)

    def curate(
        self, text: str, *, origin: str = "text", dry_run: bool = False, yes: bool = False, allow_secrets: bool = False
    ) -> CurationPlan:
        """Turn free text into entries with the configured model (core/curate.py): extract,
        decide ADD/UPDATE/MERGE/SUPERSEDE/NOOP/DELETE per item, validate, then apply unless
        `dry_run`. DELETE is applied only with `yes`. Entries get `source: curate:<origin>`.
        Text holding a likely secret is refused before the model sees it, unless `allow_secrets`."""
        from .llm import require_llm_extra, resolve_settings

        require_llm_extra()  # before anything else: the one-line install hint, whatever the config
        from .curate import Curator

        settings = resolve_settings(self.config.llm, self.env)
        if settings is None:
            raise InvalidError("mem curate needs a model: set MEM_LLM_MODEL or llm.model in config.yaml (docs/llm.md)")
        return Curator(self, settings).curate(
            text, origin=origin, dry_run=dry_run, yes=yes, allow_secrets=allow_secrets
        )

    def import_source(
        self,
        source: str | os.PathLike[str],
        *,
        kind: ImportKind | None = None,
        into: str | None = None,
        dry_run: bool = False,
        allow_secrets: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Bring existing knowledge in without a model (core/importing.py): a markdown folder or
        vault, one long markdown file, ByteRover's tree, an MCP memory.json, or a mem export.
        One lock and one commit; entries get `source: import:<origin>`; running it again
        changes only what changed at the source. `dry_run` returns the plan only."""
        from .importing import import_source

        return import_source(
            self, source, kind=kind, into=into, dry_run=dry_run, allow_secrets=allow_secrets, progress=progress
        )

    def watch(self, *, on_flush: FlushCallback | None = None, on_error: ErrorCallback | None = None) -> Watcher:
        """A watcher that keeps this root's index current (docs/watch.md); not started yet.

        `with memory.watch(): ...` - while it runs, recalls of every `Memory` of this root in
        this process skip their stat scan, and writes through them are visible to the next
        recall at once. It imports watchdog: only callers of this method pay for it.
        """
        from .watch import Watcher

        return Watcher(self.root, self.config, on_flush=on_flush, on_error=on_error)

    def close(self) -> None:
        """Close the index and state databases (they reopen on next use)."""
        if self._index is not None:
            self._index.close()
        if self._state is not None:
            self._state.close()

    # --- writing -------------------------------------------------------------------------

    def _source(self, source: str | None) -> str:
        return source or self.env.get(SOURCE_ENV) or self.config.write.default_source

    def doctor(self, *, fix: bool = False, strict: bool = False) -> DoctorReport:
        """Check the tree (malformed files, broken links, duplicate titles, secrets, crash
        debris, ...) and with `fix` repair what is safe; see core/doctor.py."""
        from .doctor import run_doctor

        return run_doctor(self, fix=fix, strict=strict)

    def check_text(self, text: str, *, allow_secrets: bool = False, previous: str = "") -> tuple[SecretFinding, ...]:
        """Refuse text that brings in a likely secret (RefusedError, exit code 8) unless
        `allow_secrets`; return the new findings (empty, or those allowed).

        The one check every writer shares: add, update and curate. `previous` is the text being
        replaced, so a secret stored on purpose earlier does not block later edits. Text given
        as an entry file (frontmatter and body) gets its lines named "body line N".
        """
        from .safety import refuse_secrets

        return refuse_secrets(text, previous=previous, allow=allow_secrets, where=line_namer(text))

    def log(self, path: str | None = None, *, limit: int | None = None) -> tuple[git.Commit, ...]:
        """The commits that changed an entry (following `mem mv` and `mem forget`), a folder, or
        the whole memory, newest first."""
        from . import git

        repo = self.files.require_repo()
        if path is None or not path.strip().strip("/"):
            return git.log(repo, None, follow=False, limit=limit)
        text = path.strip().strip("/")
        archived = text == ARCHIVE_DIR or text.startswith(ARCHIVE_DIR + "/")
        inner = normalize_prefix(text[len(ARCHIVE_DIR) :].lstrip("/")) if archived else normalize_prefix(text)
        relative = f"{ARCHIVE_DIR}/{inner}".rstrip("/") if archived else inner
        folder = self.root.joinpath(*relative.split("/"))
        is_entry = len(inner.split("/")) >= ENTRY_MIN_DEPTH and not folder.is_dir()
        name = repo.from_root(relative + ".md" if is_entry else relative)
        return git.log(repo, name, follow=is_entry, limit=limit)

    def undo(self) -> git.UndoResult:
        """Revert the last commit if mem made it (see `git.undo` for the refusals)."""
        from . import git

        repo = self.files.require_repo()
        with self.files.git_lock():
            return git.undo(repo, git.identity(self.config.git, self.env))

    def sync(self, action: git.SyncAction = "sync", *, allow_secrets: bool = False) -> git.SyncResult:
        """Pull with rebase and push the memory's own repository (`mem sync`); hand-edited
        files holding a likely secret are refused unless `allow_secrets`."""
        from . import git

        repo = self.files.require_repo()
        result = git.Sync(
            repo,
            self.root,
            self.config.git,
            git.identity(self.config.git, self.env),
            self.files.git_lock,
            commit_pending=self.files.commit_repo() is not None,
            allow_secrets=allow_secrets,
        ).run(action)
        self.warnings.extend(result.warnings)
        self.refresh_index()  # pulled entries are searchable right away
        return result

    def add(
        self,
        path: str,
        body: str,
        *,
        title: str | None = None,
        summary: str | None = None,
        tags: Iterable[str] = (),
        keywords: Iterable[str] = (),
        related: Iterable[str] = (),
        importance: int | None = None,
        maturity: Maturity | None = None,
        decay: Decay | None = None,
        source: str | None = None,
        extra: Mapping[str, Any] | None = None,
        allow_secrets: bool = False,
    ) -> Entry:
        """Create a new entry; ExistsError if the path is taken (nothing is ever overwritten).

        Text holding a likely secret is refused (RefusedError) unless `allow_secrets`.
        """
        from .neighbours import add_warnings, new_folders  # only adds need it: recall stays lean

        normalized = normalize_entry_path(path)
        # A title taken from a body that still holds it repeats the body's words: a secret in
        # it is reported where the person typed it (its body line), not as the title.
        title_in_body = title is None and not body.lstrip().startswith("#")
        if title is None:
            title, body = title_from_text(body, normalized)
        now = self.files.now()
        entry = self.files.validated(
            Entry(
                path=normalized,
                title=title,
                body=normalize_body(body),
                summary=summary or "",
                tags=tuple(tags),
                keywords=tuple(keywords),
                related=tuple(related),
                importance=50 if importance is None else importance,
                maturity=maturity or "draft",
                decay=decay or "normal",
                created=now,
                updated=now,
                source=self._source(source),
                extra=dict(extra or {}),
            )
        )
        text = dump_entry(entry)
        checked = dump_entry(replace(entry, title=slug_title(normalized))) if title_in_body else text
        self.check_text(checked, allow_secrets=allow_secrets)
        file = entry_file(self.root, normalized)
        created = new_folders(self.root, normalized)
        with self.files.lock():
            try:
                create_exclusive(file, text)
            except ExistsError:
                raise ExistsError(f"entry '{normalized}' already exists; use `mem update` to change it") from None
            self.files.after_write("add", [file], normalized)
        self.warnings.extend(add_warnings(self, entry, created))  # near-duplicates, look-alike folders
        return entry

    def update(
        self,
        path: str,
        *,
        body: str | None = None,
        append: str | None = None,
        title: str | None = None,
        summary: str | None = None,
        tags: Iterable[str] | None = None,
        keywords: Iterable[str] | None = None,
        related: Iterable[str] | None = None,
        importance: int | None = None,
        maturity: Maturity | None = None,
        decay: Decay | None = None,
        source: str | None = None,
        bump: bool = True,
        extra: Mapping[str, Any] | None = None,
        allow_secrets: bool = False,
    ) -> Entry:
        """Change an entry under the write lock; refuses if the file changed underneath.

        Any change raises importance by 5 (capped at 100) unless `importance` is given or
        `bump` is False, and sets `updated`. `extra` sets other frontmatter keys (a None value
        removes one), e.g. `superseded_by` from `mem curate`. A likely secret that the entry
        did not hold before is refused (RefusedError) unless `allow_secrets`.
        """
        normalized = normalize_entry_path(path)
        changes: dict[str, Any] = {}
        if body is not None:
            changes["body"] = normalize_body(body)
        for key, value in (
            ("title", title),
            ("summary", summary),
            ("maturity", maturity),
            ("decay", decay),
            ("source", source),
        ):
            if value is not None:
                changes[key] = value
        for key, values in (("tags", tags), ("keywords", keywords), ("related", related)):
            if values is not None:
                changes[key] = tuple(values)
        if importance is not None:
            changes["importance"] = importance
        if not changes and append is None and not extra:
            raise InvalidError("nothing to update: give a new body, text to append or a field to change")

        with self.files.lock():
            stored = self.files.read(normalized)
            current, raw, file = stored.entry, stored.raw, stored.file
            if append is not None:
                base = changes.get("body", current.body)
                if base and not base.endswith("\n"):
                    base += "\n"
                changes["body"] = (base + "\n" if base.strip() else "") + normalize_body(append)
            body_changed = changes.get("body", current.body) != current.body
            # A title mem derived (nobody set one) follows the body (core/entry.py, derived titles).
            if title is None and body_changed and is_derived(current.title, current.body, normalized):
                changes["title"] = derive_title(changes["body"], normalized)
            if extra:
                merged = {**current.extra, **extra}
                changes["extra"] = {key: value for key, value in merged.items() if value is not None}
            if importance is None and bump:
                changes["importance"] = bumped_importance(current.importance, self.config.lifecycle)
            changes["updated"] = self.files.now()
            entry = self.files.validated(replace(current, **changes))
            text = dump_entry(entry)
            self.check_text(text, allow_secrets=allow_secrets, previous=raw.decode("utf-8"))
            replace_if_unchanged(file, raw, text)
            self.files.after_write("update", [file], normalized)
        return entry

    def move(self, source: str, destination: str) -> MoveResult:
        """Move an entry, or every entry of a folder, and rewrite `related` links to them.

        Destinations are checked before anything moves, and each file is linked at its new
        name before the old one is removed: a crash can leave a copy, never a loss. The plan
        is journaled first (core/journal.py), so the next writer finishes a move that a crash
        interrupted.
        """
        from .journal import MoveIntent, clear_intent, write_intent

        source, destination = normalize_prefix(source), normalize_prefix(destination)
        with self.files.lock():
            pairs = self.files.plan_move(source, destination)
            intent = MoveIntent(tuple(pairs), f"{source} -> {destination}")
            write_intent(self.root, intent)
            checkpoint("journaled")
            changed, relinked = self.files.apply_move(intent, listing=self.list)
            clear_intent(self.root)
            self.files.after_write("mv", changed, intent.subject)
        return MoveResult(moved=tuple(pairs), relinked=relinked)

    def forget(self, path: str, *, reason: str | None = None, archive_as: str | None = None) -> Entry:
        """Move an entry to `_archive/` (same path, or `archive_as`), noting when and why in its frontmatter."""
        normalized = normalize_entry_path(path)
        archived_path = normalize_entry_path(archive_as) if archive_as is not None else normalized
        with self.files.lock():
            stored = self.files.read(normalized)
            archived, target = self.files.archive(stored, reason or "forgotten", archived_path=archived_path)
            self.files.after_write("forget", [stored.file, target], normalized)
        return archived

    def edit_text(
        self, path: str, change: Callable[[str], str], *, allow_secrets: bool = False, source: str | None = None
    ) -> tuple[Entry, str]:
        """Rewrite an entry's file text with `change`, which gets the current text under the lock.

        For tools that edit the file as text (Claude's memory tool): the result must still be
        a valid entry, `updated` is set, importance rises as with `update` unless the change set it, and the
        file is replaced only if nothing changed it meanwhile. Returns the entry and the text
        written (frontmatter in mem's stable form, body as the change left it). A likely
        secret the change brings in is refused like in `update`.

        With `source` (a tool editing on someone's behalf, e.g. Claude's memory tool),
        provenance is not the editor's to write: an edit that changes `source:` is refused, and
        a file repaired from an unreadable state gets the editor's `source`. Without it (a
        person in their editor, `mem edit`) the text is theirs, `source:` included.
        """
        normalized = normalize_entry_path(path)
        with self.files.lock():
            file = entry_file(self.root, normalized)
            try:
                raw = read_bytes_limited(file, self.files.file_limit())
            except NotFoundError:
                raise NoEntryError(f"no entry '{normalized}'", normalized) from None
            old_text = decode_text(raw, normalized)
            entry = self.files.edited(normalized, old_text, change(old_text), source=source)
            text = dump_entry(entry)
            self.check_text(text, allow_secrets=allow_secrets, previous=old_text)
            replace_if_unchanged(file, raw, text)
            self.files.after_write("update", [file], normalized)
        return entry, text

    def consolidate(
        self, prefix: str | None = None, *, merge: bool = False, dry_run: bool = False
    ) -> ConsolidateResult:
        """Apply the lifecycle to the files (docs/lifecycle.md): maturity moves, archiving of
        stale drafts and, with `merge`, merging near-duplicates. `dry_run` only plans."""
        from .consolidate import run

        return run(self, prefix, merge=merge, dry_run=dry_run)

    def restore(self, path: str) -> Entry:
        """Bring an archived entry back to its path (the archive notes are removed); `path`
        may carry the `_archive/` prefix that `mem forget` prints."""
        normalized, _ = parse_location(path)
        with self.files.lock():
            stored = self.files.read(normalized, archived=True)
            entry, archived_file = stored.entry, stored.file
            target = entry_file(self.root, normalized)
            extra = {k: v for k, v in entry.extra.items() if k not in (ARCHIVED_AT_KEY, ARCHIVED_REASON_KEY)}
            restored = replace(entry, extra=extra)
            try:
                create_exclusive(target, dump_entry(restored))
            except ExistsError:
                raise ExistsError(f"entry '{normalized}' exists again; move it away before restoring") from None
            archived_file.unlink()
            self.files.after_write("restore", [archived_file, target], normalized)
        return restored
