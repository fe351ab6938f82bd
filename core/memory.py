"""`Memory`: the Python API over one memory root, and what every interface calls.

The CLI, the MCP server and Python users all go through this class, so the rules (paths,
validation, locking, provenance, lifecycle bumps) are enforced once. Methods return frozen
dataclasses and never print.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import yaml

from .config import CONFIG_FILE, Config, load_config
from .entry import (
    Decay,
    Entry,
    EntryFormatError,
    Maturity,
    check_body_size,
    dump_entry,
    entry_from_metadata,
    load_yaml,
    parse_entry,
    split_frontmatter,
)
from .errors import ConflictError, ExistsError, InvalidError, MemError, NotFoundError
from .journal import MoveIntent, clear_intent, journal_file, read_intent, write_intent
from .keepers import keepers_of
from .paths import (
    ARCHIVE_DIR,
    ENTRY_MAX_DEPTH,
    ENTRY_MIN_DEPTH,
    STATE_DIR,
    entry_file,
    normalize_entry_path,
    normalize_prefix,
    refuse_symlinks,
    under_prefix,
)
from .store import (
    atomic_write_text,
    checkpoint,
    create_exclusive,
    decode_text,
    ensure_unchanged,
    file_limit,
    move_exclusive,
    read_bytes_limited,
    replace_if_unchanged,
    tree_lock,
)
from .tree import Problem, Scan, find_root, overview_file, scan_tree

if TYPE_CHECKING:
    from . import git
    from .consolidate import ConsolidateResult
    from .context import ContextBlock
    from .curate import CurationPlan
    from .doctor import DoctorReport
    from .graph import Graph
    from .index import Index, Progress, RefreshReport
    from .lifecycle import Vitals
    from .recall import RecallResult
    from .safety import SecretFinding
    from .state import StateStore
    from .stats import Stats
    from .watch import ErrorCallback, FlushCallback, Watcher


def _lazy_module(name: str) -> ModuleType:
    """A module that is imported on first attribute access (the stdlib's LazyLoader): git
    support (and subprocess) costs ~9 ms to import and most commands never touch it."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:  # pragma: no cover - our own package
        raise ImportError(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


if not TYPE_CHECKING:
    git = _lazy_module(f"{__package__}.git")

Clock = Callable[[], datetime]
ARCHIVED_AT_KEY = "archived_at"
ARCHIVED_REASON_KEY = "archived_reason"
TITLE_FROM_TEXT_MAX = 80
SOURCE_ENV = "MEM_SOURCE"


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Listing:
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class MoveResult:
    moved: tuple[tuple[str, str], ...]  # (old path, new path) for every entry moved
    relinked: tuple[str, ...]  # entries whose `related` links were rewritten


@dataclass(frozen=True)
class FolderNode:
    """A folder of the tree with its overview (from `_index.md`) and its contents."""

    name: str
    path: str
    title: str | None
    summary: str | None
    folders: tuple[FolderNode, ...]
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class TreeView:
    root: FolderNode
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class InitResult:
    root: Path
    created: bool  # False when the folder already was a memory root
    files: tuple[str, ...]  # files written by this call, relative to the root
    git: str | None = None  # "created" / "existing" with --git: the root's own repository
    commit: str | None = None  # the "mem init" commit, when one was made
    warnings: tuple[str, ...] = ()


def parse_location(raw: str) -> tuple[str, bool]:
    """`_archive/a/b/c` -> ("a/b/c", True); anything else -> (normalized path, False)."""
    text = raw.strip()
    if text.startswith(ARCHIVE_DIR + "/"):
        return normalize_entry_path(text[len(ARCHIVE_DIR) + 1 :]), True
    return normalize_entry_path(text), False


def title_from_text(text: str, path: str) -> tuple[str, str]:
    """(title, body) for text added without --title.

    A leading markdown heading becomes the title and leaves the body (it would only repeat
    it); otherwise the first line is the title (cut at a word near 80 characters) and the
    body is kept whole. Empty text falls back to the slug.
    """
    stripped = text.lstrip("\n")
    first_line, _, rest = stripped.partition("\n")
    line = first_line.strip()
    if line.startswith("#"):
        heading = line.lstrip("#").strip()
        if heading:
            return heading, rest.lstrip("\n")
    if not line:
        return path.rsplit("/", 1)[-1].replace("-", " ").capitalize(), text
    if len(line) > TITLE_FROM_TEXT_MAX:
        cut = line[:TITLE_FROM_TEXT_MAX].rsplit(" ", 1)[0].rstrip(" ,;:.")
        line = (cut or line[:TITLE_FROM_TEXT_MAX]) + "…"
    return line, text


def _line_namer(text: str) -> Callable[[int], str]:
    """Names for the lines of an entry file's text: "frontmatter line 2", "body line 3"."""
    try:
        frontmatter, body = split_frontmatter(text)
    except ValueError:
        frontmatter = None
    if frontmatter is None:
        return lambda line: f"line {line}"
    header_lines = text[: len(text) - len(body)].count("\n")

    def name(line: int) -> str:
        return f"body line {line - header_lines}" if line > header_lines else f"frontmatter line {line - 1}"

    return name


def normalize_body(text: str) -> str:
    """Bodies written by mem end in exactly one newline (files read from disk are untouched)."""
    stripped = text.strip("\n")
    return stripped + "\n" if stripped.strip() else ""


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
        self._repo_found: tuple[git.Repo | None] | None = None  # cached by _repo()

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
        (root / STATE_DIR).mkdir(exist_ok=True)
        git_state: str | None = None
        warnings: builtins.list[str] = []
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
        repo = memory._commit_repo()
        if repo is not None:
            # A new repository takes everything already in the folder; an existing one only
            # the files this call wrote.
            names = (
                [item.name for item in git.pending_changes(repo)]
                if git_state == "created"
                else [repo.rel(root / name) for name in written]
            )
            commit = memory._commit(names, "mem init", "mem init")
        return InitResult(
            root=root,
            created=created,
            files=tuple(written),
            git=git_state,
            commit=commit,
            warnings=(*warnings, *memory.warnings),
        )

    # --- reading -------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def _file_limit(self) -> int:
        return file_limit(self.config.limits.max_body_bytes)

    def _read(self, path: str, *, archived: bool = False) -> tuple[Entry, bytes, Path]:
        file = entry_file(self.root, path, archived=archived)
        where = f"{ARCHIVE_DIR}/{path}" if archived else path
        try:
            data = read_bytes_limited(file, self._file_limit())
        except NotFoundError:
            hint = ""
            if not archived and entry_file(self.root, path, archived=True).exists():
                hint = f"; it is archived: `mem show {ARCHIVE_DIR}/{path}` or `mem forget --restore {path}`"
            raise NotFoundError(f"no entry '{where}'{hint}") from None
        entry = self.parse_bytes(path, data, where)
        return entry, data, file

    def parse_bytes(self, path: str, data: bytes, where: str) -> Entry:
        """An entry from a file's bytes; a body over the size limit is refused like on writing."""
        entry = parse_entry(path, decode_text(data, where), where=where)
        return check_body_size(entry, self.config.limits.max_body_bytes, where)

    def get(self, path: str, *, archived: bool = False) -> Entry:
        """The entry at `path` (or in `_archive/` when `archived`)."""
        entry, _, _ = self._read(normalize_entry_path(path), archived=archived)
        return entry

    def read_text(self, path: str) -> str:
        """The text of an entry file as stored, unparsed (for snippets: no YAML needed)."""
        normalized = normalize_entry_path(path)
        file = entry_file(self.root, normalized)
        return decode_text(read_bytes_limited(file, self._file_limit()), normalized)

    def read(self, path: str, *, archived: bool = False) -> Entry:
        """The entry at `path`, read in full by a person or an agent (`mem show`, MCP `show`):
        unlike `get`, this counts as a use in `.mem/state.db`, which raises its effective
        importance. Nothing is written to the entry's file."""
        normalized = normalize_entry_path(path)
        entry, _, _ = self._read(normalized, archived=archived)
        if not archived and self.config.recall.record_access:
            self.state().record([normalized], self.clock().timestamp())
        return entry

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
        entries: list[Entry] = []
        problems = list(scan.problems)
        limit = self._file_limit()
        archived_prefix = self.root / ARCHIVE_DIR
        for record in scan.records:
            archived = record.file.is_relative_to(archived_prefix)
            where = f"{ARCHIVE_DIR}/{record.path}" if archived else record.path
            try:
                data = read_bytes_limited(record.file, limit)
                entries.append(self.parse_bytes(record.path, data, where))
            except EntryFormatError as error:
                # One problem (one warning line) per file, however many things are wrong in it.
                problems.append(Problem(where + ".md", "; ".join(error.problems)))
            except NotFoundError:
                continue  # deleted since the scan
            except MemError as error:
                problems.append(Problem(where + ".md", error.message.removeprefix(f"{where}: ")))
        return Listing(tuple(entries), tuple(sorted(problems, key=lambda p: p.file)))

    def list(self, prefix: str | None = None, *, archived: bool = False) -> Listing:
        """Every valid entry under `prefix`, sorted by path, plus the files that were skipped."""
        return self.load(self.scan(prefix, archived=archived))

    def tree(self, prefix: str | None = None) -> TreeView:
        """The folders and entries under `prefix`, with folder overviews from `_index.md`."""
        normalized = normalize_prefix(prefix)
        scan = scan_tree(self.root, normalized)
        listing = self.load(scan)
        overviews = {folder: self._overview(folder) for folder in scan.overviews}

        def build(folder: str, entries: list[Entry]) -> FolderNode:
            depth = len(folder.split("/")) if folder else 0
            direct = [entry for entry in entries if entry.path.count("/") == depth]
            children: dict[str, list[Entry]] = {}
            for entry in entries:
                if entry.path.count("/") > depth:
                    children.setdefault(entry.path.split("/")[depth], []).append(entry)
            # Folders with an overview but no entries still belong in the picture.
            for overview in overviews:
                parts = overview.split("/")
                if len(parts) > depth and under_prefix(overview, folder) and overview != folder:
                    children.setdefault(parts[depth], [])
            title, summary = overviews.get(folder) or (None, None)
            name = folder.rsplit("/", 1)[-1] if folder else self.root.name
            return FolderNode(
                name=name,
                path=folder,
                title=title,
                summary=summary,
                folders=tuple(
                    build(f"{folder}/{child}" if folder else child, children[child]) for child in sorted(children)
                ),
                entries=tuple(direct),
            )

        base = normalized
        if normalized and any(entry.path == normalized for entry in listing.entries):
            base = normalized.rsplit("/", 1)[0]  # the prefix is an entry: show it in its folder
        return TreeView(root=build(base, list(listing.entries)), problems=listing.problems)

    def _overview(self, folder: str) -> tuple[str | None, str | None]:
        try:
            text = read_bytes_limited(overview_file(self.root, folder), self._file_limit()).decode("utf-8")
            frontmatter, _ = split_frontmatter(text)
            meta = load_yaml(frontmatter) if frontmatter is not None else None
        except (MemError, ValueError, yaml.YAMLError):  # an overview is decoration: never fail for it
            return None, None
        if not isinstance(meta, dict):
            return None, None
        title, summary = meta.get("title"), meta.get("summary")
        return (str(title) if title is not None else None, str(summary) if summary is not None else None)

    # --- recall --------------------------------------------------------------------------

    def index(self) -> Index:
        """The search index (a cache of the files; opened lazily, kept for this Memory)."""
        if self._index is None:
            from .index import Index  # sqlite3 and the index code are not needed to add or show

            self._index = Index(self.root, self._file_limit())
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
        """Refresh the index; `full` drops it first and rebuilds it from the files."""
        if full:
            self.index().reset()
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

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """The tree's write lock, for a change to entries."""
        with tree_lock(self.root, self.config.limits.lock_timeout_seconds):
            self._before_write()
            self._finish_interrupted_move()
            yield

    def _git_lock(self) -> Any:
        """The write lock for git's own changes to the tree (sync, undo): no write checks."""
        return tree_lock(self.root, self.config.limits.lock_timeout_seconds)

    def _check_body(self, body: str) -> None:
        size = len(body.encode("utf-8"))
        limit = self.config.limits.max_body_bytes
        if size > limit:
            raise InvalidError(f"body is {size:,} bytes, over the {limit:,}-byte limit (limits.max_body_bytes)")

    def _source(self, source: str | None) -> str:
        return source or self.env.get(SOURCE_ENV) or self.config.write.default_source

    def _validated(self, entry: Entry) -> Entry:
        """Run an entry built in code through the same validation as one read from disk."""
        self._check_body(entry.body)
        return entry_from_metadata(entry.path, entry.metadata(), entry.body)

    def _before_write(self) -> None:
        """Called under the write lock before every change."""
        repo = self._commit_repo()
        if repo is not None and (operation := git.operation_in_progress(repo)) is not None:
            # A write now would either be swept into the commit being replayed or block
            # `git rebase --continue` (it refuses unstaged changes): pause instead.
            if operation == "rebase":
                raise ConflictError(
                    f"writes are paused: `mem sync` is stopped on a conflict in {repo.top}; resolve it and run "
                    "`mem sync --continue` (or `mem sync --abort`), then try again"
                )
            raise ConflictError(f"writes are paused: a git {operation} is in progress in {repo.top}; finish it first")

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

        return refuse_secrets(text, previous=previous, allow=allow_secrets, where=_line_namer(text))

    def _after_write(self, action: str, changed: Iterable[Path], subject: str) -> None:
        """Hook called under the write lock after every successful change (git, index)."""
        changed = builtins.list(changed)
        # A watcher in this process keeps the index current and recalls skip their scan: it
        # must apply this write before the next recall, not after its debounce. With no
        # watcher (`mem add`) this is one dict look-up.
        for keeper in keepers_of(self.root):
            keeper.touched(changed)
        repo = self._commit_repo()
        if repo is not None:
            self._commit([repo.rel(file) for file in changed], f"mem {action}: {subject}", subject)

    # --- git ---------------------------------------------------------------------------------

    def _repo(self) -> git.Repo | None:
        """The repository the root is in, found once per instance without running git."""
        if self._repo_found is None:
            self._repo_found = (git.locate(self.root),)
        return self._repo_found[0]

    def _commit_repo(self) -> git.Repo | None:
        """The repository writes are committed to, or None: with git.autocommit unset, only a
        root that is a repository of its own. Costs a few stats at most, and no git process."""
        autocommit = self.config.git.autocommit
        if autocommit is False:
            return None
        repo = self._repo()
        if repo is None:
            warning = f"git.autocommit is true but {self.root} is not inside a git repository"
            if autocommit and warning not in self.warnings:
                self.warnings.append(warning)
            return None
        return repo if autocommit or repo.standalone else None

    def _commit(self, names: Iterable[str], message: str, subject: str) -> str | None:
        """Commit these files; a failure leaves the written files in place and becomes a warning."""
        repo = self._repo()
        if repo is None:
            return None
        try:
            return git.commit_files(repo, names, message, git.identity(self.config.git, self.env))
        except MemError as error:
            self.warnings.append(
                f"{subject} was saved but not committed ({error.message}); "
                "the next write to it or `mem sync` will commit it"
            )
            return None

    def _require_repo(self) -> git.Repo:
        repo = self._repo()
        if repo is None:
            raise NotFoundError(f"{self.root} is not in a git repository; `mem init --git` makes it one")
        return repo

    def log(self, path: str | None = None, *, limit: int | None = None) -> tuple[git.Commit, ...]:
        """The commits that changed an entry (following `mem mv` and `mem forget`), a folder, or
        the whole memory, newest first."""
        repo = self._require_repo()
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
        repo = self._require_repo()
        with self._git_lock():
            return git.undo(repo, git.identity(self.config.git, self.env))

    def sync(self, action: git.SyncAction = "sync") -> git.SyncResult:
        """Pull with rebase and push the memory's own repository (`mem sync`)."""
        repo = self._require_repo()
        result = git.Sync(
            repo,
            self.root,
            self.config.git,
            git.identity(self.config.git, self.env),
            self._git_lock,
            commit_pending=self._commit_repo() is not None,
        ).run(action)
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
        normalized = normalize_entry_path(path)
        if title is None:
            title, body = title_from_text(body, normalized)
        now = self._now()
        entry = self._validated(
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
        self.check_text(text, allow_secrets=allow_secrets)
        file = entry_file(self.root, normalized)
        with self._lock():
            try:
                create_exclusive(file, text)
            except ExistsError:
                raise ExistsError(f"entry '{normalized}' already exists; use `mem update` to change it") from None
            self._after_write("add", [file], normalized)
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

        with self._lock():
            current, raw, file = self._read(normalized)
            if append is not None:
                base = changes.get("body", current.body)
                if base and not base.endswith("\n"):
                    base += "\n"
                changes["body"] = (base + "\n" if base.strip() else "") + normalize_body(append)
            if extra:
                merged = {**current.extra, **extra}
                changes["extra"] = {key: value for key, value in merged.items() if value is not None}
            if importance is None and bump:
                bumped = current.importance + self.config.lifecycle.importance_bump_on_update
                changes["importance"] = min(100, bumped)
            changes["updated"] = self._now()
            entry = self._validated(replace(current, **changes))
            text = dump_entry(entry)
            self.check_text(text, allow_secrets=allow_secrets, previous=raw.decode("utf-8"))
            replace_if_unchanged(file, raw, text)
            self._after_write("update", [file], normalized)
        return entry

    def _rewrite_links(self, mapping: Mapping[str, str], skip: set[str]) -> builtins.list[tuple[Path, str]]:
        """Plan the rewrites of `related` links that point at moved entries: (file, new text)."""
        plans: list[tuple[Path, str]] = []
        for entry in self.list().entries:
            if entry.path in skip or not any(link in mapping for link in entry.related):
                continue
            related = tuple(dict.fromkeys(mapping.get(link, link) for link in entry.related))
            plans.append((entry_file(self.root, entry.path), dump_entry(replace(entry, related=related))))
        return plans

    def move(self, source: str, destination: str) -> MoveResult:
        """Move an entry, or every entry of a folder, and rewrite `related` links to them.

        Destinations are checked before anything moves, and each file is linked at its new
        name before the old one is removed: a crash can leave a copy, never a loss. The plan
        is journaled first (core/journal.py), so the next writer finishes a move that a crash
        interrupted.
        """
        source, destination = normalize_prefix(source), normalize_prefix(destination)
        with self._lock():
            pairs = self._plan_move(source, destination)
            intent = MoveIntent(tuple(pairs), f"{source} -> {destination}")
            write_intent(self.root, intent)
            checkpoint("journaled")
            changed, relinked = self._apply_move(intent)
            clear_intent(self.root)
            self._after_write("mv", changed, intent.subject)
        return MoveResult(moved=tuple(pairs), relinked=relinked)

    def _apply_move(self, intent: MoveIntent) -> tuple[builtins.list[Path], tuple[str, ...]]:
        """Carry out a journaled move; every step checks what is already done, so running it
        again after a crash finishes the move. Returns the changed files and relinked paths."""
        mapping: dict[str, str] = {}
        changed: list[Path] = []
        for old, new in intent.pairs:
            old_file, new_file = entry_file(self.root, old), entry_file(self.root, new)
            old_there, new_there = old_file.is_file(), new_file.is_file()
            if old_there and not new_there:
                entry, _, _ = self._read(old)
                related = tuple(dict.fromkeys(dict(intent.pairs).get(link, link) for link in entry.related))
                if related != entry.related:
                    create_exclusive(new_file, dump_entry(replace(entry, path=new, related=related)))
                    checkpoint("copied")
                    old_file.unlink()
                else:
                    move_exclusive(old_file, new_file)  # bytes untouched
                changed += [old_file, new_file]
            elif old_there and new_there:
                # A crash between placing the new name and removing the old one. Remove the old
                # one only if the new one is the moved entry, never someone else's file.
                if not self._same_entry(old, new, old_file, new_file):
                    continue
                old_file.unlink()
                changed += [old_file, new_file]
            elif not new_there:
                continue  # gone from both places (removed by hand): nothing to move, no links to point there
            mapping[old] = new
        relinks = self._rewrite_links(mapping, skip=set(mapping.values()))
        for file, text in relinks:
            atomic_write_text(file, text)
            checkpoint("relinked")
            changed.append(file)
        self.state().rename(mapping)
        return changed, tuple(sorted(self._path_of(file) for file, _ in relinks))

    def _same_entry(self, old: str, new: str, old_file: Path, new_file: Path) -> bool:
        """True when `new_file` is the moved copy of `old_file`: the same file (hard link) or
        the same entry apart from its path and related links."""
        try:
            if old_file.samefile(new_file):
                return True
            before, _, _ = self._read(old)
            after, _, _ = self._read(new)
        except (OSError, MemError):
            return False
        return replace(before, path=new, related=after.related) == after

    def _finish_interrupted_move(self) -> None:
        """Under the lock: finish a move whose process died (its journal is still there)."""
        if not journal_file(self.root).exists():
            return
        try:
            intent = read_intent(self.root)
        except InvalidError:
            clear_intent(self.root)  # not a journal mem wrote: nothing can be done with it
            return
        if intent is None:
            return
        changed, _ = self._apply_move(intent)
        clear_intent(self.root)
        self._after_write("mv", changed, f"{intent.subject} (finished after an interruption)")

    def _path_of(self, file: Path) -> str:
        return file.relative_to(self.root).as_posix().removesuffix(".md")

    def _plan_move(self, source: str, destination: str) -> builtins.list[tuple[str, str]]:
        src = normalize_prefix(source)
        dst = normalize_prefix(destination)
        if not src or not dst:
            raise InvalidError("both the source and the destination must be entry or folder paths")
        if src == dst:
            raise InvalidError("the source and the destination are the same")
        src_is_entry = len(src.split("/")) >= ENTRY_MIN_DEPTH and entry_file(self.root, src).is_file()
        dst_folder = self.root.joinpath(*dst.split("/"))
        refuse_symlinks(self.root, dst_folder)
        if src_is_entry:
            target = f"{dst}/{src.rsplit('/', 1)[-1]}" if dst_folder.is_dir() else dst
            pairs = [(src, normalize_entry_path(target))]
        else:
            if under_prefix(dst, src):
                raise InvalidError(f"cannot move '{src}' into itself")
            entries = [record.path for record in scan_tree(self.root, src).records if record.path != src]
            if not entries:
                raise NotFoundError(f"no entry or folder '{src}'")
            pairs = []
            for old in entries:
                new = dst + old[len(src) :]
                depth = len(new.split("/"))
                if not ENTRY_MIN_DEPTH <= depth <= ENTRY_MAX_DEPTH:
                    raise InvalidError(
                        f"moving '{old}' to '{new}' would put it at depth {depth}; entries live at depth 3 or 4"
                    )
                pairs.append((old, normalize_entry_path(new)))
        taken = [new for _, new in pairs if entry_file(self.root, new).exists()]
        if taken:
            raise ExistsError(f"'{taken[0]}' already exists; nothing was moved")
        return pairs

    def forget(self, path: str, *, reason: str | None = None, archive_as: str | None = None) -> Entry:
        """Move an entry to `_archive/` (same path, or `archive_as`), noting when and why in its frontmatter."""
        normalized = normalize_entry_path(path)
        archived_path = normalize_entry_path(archive_as) if archive_as is not None else normalized
        with self._lock():
            entry, raw, file = self._read(normalized)
            archived, target = self._archive_entry(entry, raw, file, reason or "forgotten", archived_path=archived_path)
            self._after_write("forget", [file, target], normalized)
        return archived

    def edit_text(self, path: str, change: Callable[[str], str], *, allow_secrets: bool = False) -> tuple[Entry, str]:
        """Rewrite an entry's file text with `change`, which gets the current text under the lock.

        For tools that edit the file as text (Claude's memory tool): the result must still be
        a valid entry, `updated` is set, importance rises as with `update` unless the change set it, and the
        file is replaced only if nothing changed it meanwhile. Returns the entry and the text
        written (frontmatter in mem's stable form, body as the change left it). A likely
        secret the change brings in is refused like in `update`.
        """
        normalized = normalize_entry_path(path)
        with self._lock():
            file = entry_file(self.root, normalized)
            try:
                raw = read_bytes_limited(file, self._file_limit())
            except NotFoundError:
                raise NotFoundError(f"no entry '{normalized}'") from None
            old_text = decode_text(raw, normalized)
            new_text = change(old_text)
            entry = parse_entry(normalized, new_text)
            try:
                old_importance: int | None = parse_entry(normalized, old_text).importance
            except EntryFormatError:
                old_importance = None  # the edit repairs a broken file: nothing to bump from
            if old_importance is not None and entry.importance == old_importance:
                entry = replace(
                    entry, importance=min(100, old_importance + self.config.lifecycle.importance_bump_on_update)
                )
            entry = self._validated(replace(entry, updated=self._now()))
            text = dump_entry(entry)
            self.check_text(text, allow_secrets=allow_secrets, previous=old_text)
            replace_if_unchanged(file, raw, text)
            self._after_write("update", [file], normalized)
        return entry, text

    def _archive_entry(
        self,
        entry: Entry,
        raw: bytes,
        file: Path,
        reason: str,
        notes: Mapping[str, Any] | None = None,
        *,
        archived_path: str | None = None,
    ) -> tuple[Entry, Path]:
        """Move a live entry to `_archive/` (at its own path, or `archived_path`) with when and
        why (and `notes`) in its frontmatter. The caller holds the write lock and read `raw`
        from `file`."""
        where = archived_path or entry.path
        target = entry_file(self.root, where, archived=True)
        if target.exists():
            leftover = self._interrupted_archive(entry, target, notes or {})
            if leftover is None:
                raise ExistsError(f"'{ARCHIVE_DIR}/{where}' already exists; restore or remove the archived copy first")
            # A previous run was killed after writing the archived copy and before removing
            # the live one: finish it instead of leaving the entry in both places.
            ensure_unchanged(file, raw)
            file.unlink()
            return leftover, target
        extra = {**entry.extra, **(notes or {}), ARCHIVED_AT_KEY: self._now(), ARCHIVED_REASON_KEY: reason}
        archived = replace(entry, extra=extra)
        ensure_unchanged(file, raw)
        create_exclusive(target, dump_entry(archived))
        file.unlink()
        return archived, target

    def _interrupted_archive(self, entry: Entry, target: Path, notes: Mapping[str, Any]) -> Entry | None:
        """The archived copy at `target` if it is `entry` plus archive notes (what an archive
        killed half-way leaves), else None."""
        try:
            archived = self.parse_bytes(entry.path, read_bytes_limited(target, self._file_limit()), entry.path)
        except MemError:
            return None
        added = {ARCHIVED_AT_KEY, ARCHIVED_REASON_KEY, *notes}
        original = {key: value for key, value in archived.extra.items() if key not in added}
        return archived if replace(archived, extra=original) == entry else None

    def consolidate(
        self, prefix: str | None = None, *, merge: bool = False, dry_run: bool = False
    ) -> ConsolidateResult:
        """Apply the lifecycle to the files (docs/lifecycle.md): maturity moves, archiving of
        stale drafts and, with `merge`, merging near-duplicates. `dry_run` only plans."""
        from .consolidate import run

        return run(self, prefix, merge=merge, dry_run=dry_run)

    def restore(self, path: str) -> Entry:
        """Bring an archived entry back to its path (the archive notes are removed)."""
        normalized = normalize_entry_path(path)
        with self._lock():
            entry, _, archived_file = self._read(normalized, archived=True)
            target = entry_file(self.root, normalized)
            extra = {k: v for k, v in entry.extra.items() if k not in (ARCHIVED_AT_KEY, ARCHIVED_REASON_KEY)}
            restored = replace(entry, extra=extra)
            try:
                create_exclusive(target, dump_entry(restored))
            except ExistsError:
                raise ExistsError(f"entry '{normalized}' exists again; move it away before restoring") from None
            archived_file.unlink()
            self._after_write("restore", [archived_file, target], normalized)
        return restored
