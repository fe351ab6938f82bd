"""`EntryFiles` (`memory.files`): the one path entry files are read by and changed through.

It owns what every change to the tree shares: the write lock (and what taking it does
first: pause while git is mid-rebase, finish a move a crash interrupted), the read path with
its size limits, validation of an entry built in code, the after-write hook (a watcher in
this process, the git commit), moves with their journal, `related` relinking and archiving.

`Memory`'s write methods are argument handling around it; a feature that needs several file
changes under one lock and one commit (`consolidate`, `doctor --fix`) uses it directly:

    with memory.files.lock():
        stored = memory.files.read(path)
        ...replace_if_unchanged(stored.file, stored.raw, text)...
        memory.files.after_write("consolidate", changed, subject)

git is imported inside the methods that need it (it brings subprocess): a memory that is not
in a repository never pays for it, and `mem --help` never does.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config
from .display import shown
from .entry import (
    ARCHIVED_AT_KEY,
    ARCHIVED_REASON_KEY,
    Entry,
    EntryFormatError,
    body_size_problem,
    derive_title,
    dump_entry,
    entry_from_metadata,
    is_derived,
    linked_paths,
    parse_entry,
    parse_entry_bytes,
    with_links_moved,
    without_links,
)
from .errors import ConflictError, ExistsError, InvalidError, MemError, NoEntryError, NotFoundError, RefusedError
from .keepers import keepers_of
from .lifecycle import bumped_importance
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
    checkpoint,
    create_exclusive,
    ensure_unchanged,
    file_limit,
    move_exclusive,
    read_bytes_limited,
    replace_if_unchanged,
    tree_lock,
)
from .tree import Problem, Scan, scan_tree

if TYPE_CHECKING:
    from .git import Repo, WriteAction
    from .journal import MoveIntent
    from .state import StateStore

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class StoredEntry:
    """An entry as read from its file: what a writer needs to replace it only if unchanged."""

    entry: Entry
    raw: bytes  # the file's bytes when it was read
    file: Path


@dataclass(frozen=True)
class Listing:
    """The entries read from the tree (or a prefix of it), and the files that did not parse as entries."""

    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]


class EntryFiles:
    """The entry files of one memory root: reads with limits, and every change to them."""

    def __init__(
        self,
        root: Path,
        config: Config,
        clock: Clock,
        env: Mapping[str, str],
        warnings: list[str],
        state: Callable[[], StateStore],
    ) -> None:
        self.root = root
        self.config = config
        self.clock = clock
        self.env = env
        # Shared with `Memory.warnings`: a write whose commit failed is kept and said there.
        self.warnings = warnings
        self.state = state  # Memory.state: sqlite3 is opened only by a move that needs it
        self._repo: Repo | None = None
        self._repo_known = False

    # --- reading -------------------------------------------------------------------------

    def now(self) -> datetime:
        """The time a write records (UTC, whole seconds)."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def file_limit(self) -> int:
        """The most bytes an entry file may have to be read at all."""
        return file_limit(self.config.limits.max_body_bytes)

    def parse_bytes(self, path: str, data: bytes, where: str) -> Entry:
        """An entry from a file's bytes; a body over the size limit is refused like on writing."""
        return parse_entry_bytes(path, data, where=where, max_body_bytes=self.config.limits.max_body_bytes)

    def read(self, path: str, *, archived: bool = False) -> StoredEntry:
        """The entry at a normalized `path` (or in `_archive/`), with its bytes and file."""
        file = entry_file(self.root, path, archived=archived)
        where = f"{ARCHIVE_DIR}/{path}" if archived else path
        try:
            data = read_bytes_limited(file, self.file_limit())
        except NotFoundError:
            hint = ""
            if not archived and entry_file(self.root, path, archived=True).exists():
                hint = f"; it is archived: `mem show {ARCHIVE_DIR}/{path}` or `mem forget --restore {path}`"
            raise NoEntryError(f"no entry '{where}'{hint}", where) from None
        return StoredEntry(self.parse_bytes(path, data, where), data, file)

    def load(self, scan: Scan) -> Listing:
        """Parse the files of a scan; files that fail become problems, never exceptions."""
        entries: list[Entry] = []
        problems = list(scan.problems)
        limit = self.file_limit()
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

    # --- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """The tree's write lock, for a change to entries: it first refuses while git is
        mid-rebase and finishes a move a crash interrupted."""
        with tree_lock(self.root, self.config.limits.lock_timeout_seconds):
            self._before_write()
            self._finish_interrupted_move()
            yield

    def git_lock(self) -> contextlib.AbstractContextManager[None]:
        """The write lock for git's own changes to the tree (sync, undo): no write checks."""
        return tree_lock(self.root, self.config.limits.lock_timeout_seconds)

    def validated(self, entry: Entry) -> Entry:
        """Run an entry built in code through the same validation as one read from disk."""
        problem = body_size_problem(entry.body, self.config.limits.max_body_bytes)
        if problem is not None:
            raise InvalidError(f"{problem} (limits.max_body_bytes)")
        return entry_from_metadata(entry.path, entry.metadata(), entry.body)

    def edited(self, path: str, old_text: str, new_text: str, *, source: str | None) -> Entry:
        """The entry a text edit of `path` makes (Memory.edit_text): valid, `updated` now,
        importance bumped unless the edit set it, a derived title following the body. With
        `source` (a tool editing on someone's behalf) the edit may not change `source:`, and
        a file repaired from an unreadable state gets that source."""
        entry = parse_entry(path, new_text)
        try:
            old: Entry | None = parse_entry(path, old_text)
        except EntryFormatError:
            old = None  # the edit repairs a broken file: nothing to bump from
        if source is not None and old is not None and entry.source != old.source:
            raise RefusedError(
                f"the edit changes `source:` of {path} from {shown(old.source)} to "
                f"{shown(entry.source)}; provenance is recorded by mem, not edited (nothing was changed)"
            )
        if old is None and source is not None:
            entry = replace(entry, source=source)
        if (
            old is not None
            and entry.title == old.title
            and entry.body != old.body
            and is_derived(old.title, old.body, path)
        ):
            entry = replace(entry, title=derive_title(entry.body, path))  # a title nobody set
        if old is not None and entry.importance == old.importance:
            entry = replace(entry, importance=bumped_importance(old.importance, self.config.lifecycle))
        return self.validated(replace(entry, updated=self.now()))

    def _before_write(self) -> None:
        """Called under the write lock before every change."""
        repo = self.commit_repo()
        if repo is None:
            return
        from . import git

        if (operation := git.operation_in_progress(repo)) is not None:
            # A write now would either be swept into the commit being replayed or block
            # `git rebase --continue` (it refuses unstaged changes): pause instead.
            if operation == "rebase":
                raise ConflictError(
                    f"writes are paused: `mem sync` is stopped on a conflict in {repo.top}; resolve it and run "
                    "`mem sync --continue` (or `mem sync --abort`), then try again"
                )
            raise ConflictError(f"writes are paused: a git {operation} is in progress in {repo.top}; finish it first")

    def after_write(self, action: WriteAction, changed: Iterable[Path], subject: str) -> None:
        """Called under the write lock after every successful change (watchers, git)."""
        changed = list(changed)
        # A watcher in this process keeps the index current and recalls skip their scan: it
        # must apply this write before the next recall, not after its debounce. With no
        # watcher (`mem add`) this is one dict look-up.
        for keeper in keepers_of(self.root):
            keeper.touched(changed)
        repo = self.commit_repo()
        if repo is not None:
            self.commit([repo.rel(file) for file in changed], f"mem {action}: {subject}", subject)

    # --- git -----------------------------------------------------------------------------

    def repo(self) -> Repo | None:
        """The repository the root is in, found once per instance without running git."""
        if not self._repo_known:
            from . import git

            self._repo, self._repo_known = git.locate(self.root, notes=self.warnings), True
        return self._repo

    def commit_repo(self) -> Repo | None:
        """The repository writes are committed to, or None: with git.autocommit unset, only a
        root that is a repository of its own. Costs a few stats at most, and no git process."""
        autocommit = self.config.git.autocommit
        if autocommit is False:
            return None
        repo = self.repo()
        if repo is None:
            warning = f"git.autocommit is true but {self.root} is not inside a git repository"
            if autocommit and warning not in self.warnings:
                self.warnings.append(warning)
            return None
        return repo if autocommit or repo.standalone else None

    def commit(self, names: Iterable[str], message: str, subject: str) -> str | None:
        """Commit these files; a failure leaves the written files in place and becomes a warning."""
        repo = self.repo()
        if repo is None:
            return None
        from . import git

        try:
            return git.commit_files(repo, names, message, git.identity(self.config.git, self.env))
        except MemError as error:
            self.warnings.append(
                f"{subject} was saved but not committed ({error.message}); "
                "the next write to it or `mem sync` will commit it"
            )
            return None

    def require_repo(self) -> Repo:
        repo = self.repo()
        if repo is None:
            raise NotFoundError(f"{self.root} is not in a git repository; `mem init --git` makes it one")
        return repo

    # --- moving, relinking, archiving ------------------------------------------------------

    def relink(
        self, mapping: Mapping[str, str], skip: set[str], listing: Callable[[], Listing] | None = None
    ) -> list[Path]:
        """Rewrite the links (`related`, supersedes, superseded_by, reply_to) that point at
        moved (or merged) entries; returns the files written. Under the write lock.

        The listing only finds the entries to change. Each is read again just before its
        rewrite and replaced only if its bytes are still those (`replace_if_unchanged`): an
        editor's save made meanwhile (the listing parses every entry, which takes a while on
        a large tree) is kept and the rewrite redone on it, never overwritten. An entry that
        keeps changing, or no longer parses, keeps its old links with a warning (`mem doctor`
        reports them as broken). `listing` lists the tree (the caller's `Memory.list`, which
        a Python user may have wrapped); by default the whole tree is loaded here.
        """
        written: list[Path] = []
        entries = listing() if listing is not None else self.load(scan_tree(self.root, ""))
        for listed in entries.entries:
            if listed.path in skip or not any(link in mapping for link in linked_paths(listed)):
                continue
            for attempt in (1, 2):
                try:
                    stored = self.read(listed.path)
                    entry = stored.entry
                    relinked = with_links_moved(entry, mapping)
                    if relinked == entry:
                        break
                    replace_if_unchanged(stored.file, stored.raw, dump_entry(relinked))
                except ConflictError:
                    if attempt == 1:
                        continue
                    self.warnings.append(f"'{listed.path}' kept changing; its links were not rewritten")
                except NotFoundError:
                    pass  # removed since the listing: nothing links from it any more
                except MemError as error:
                    self.warnings.append(f"'{listed.path}' was not relinked: {error.message}")
                else:
                    written.append(stored.file)
                    checkpoint("relinked")
                break
        return written

    def plan_move(self, source: str, destination: str) -> list[tuple[str, str]]:
        """The (old, new) entry paths of a move, checked before anything moves."""
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
            pairs = self._folder_pairs(src, dst)
        taken = [new for _, new in pairs if entry_file(self.root, new).exists()]
        if taken:
            raise ExistsError(f"'{taken[0]}' already exists; nothing was moved")
        for old, _ in pairs:
            # An entry mem cannot read or parse (no permission, a FIFO, bad frontmatter) would
            # stop the move half way, its journal blocking the writes after it: refuse the
            # move before the journal is written.
            try:
                self.read(old)
            except MemError as error:
                raise InvalidError(f"cannot move '{old}': {error.message}; nothing was moved") from None
        return pairs

    def _folder_pairs(self, src: str, dst: str) -> list[tuple[str, str]]:
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
        return pairs

    def apply_move(
        self, intent: MoveIntent, listing: Callable[[], Listing] | None = None
    ) -> tuple[list[Path], tuple[str, ...]]:
        """Carry out a journaled move; every step checks what is already done, so running it
        again after a crash finishes the move. Returns the changed files and relinked paths."""
        mapping: dict[str, str] = {}
        changed: list[Path] = []
        targets = dict(intent.pairs)
        for old, new in intent.pairs:
            old_file, new_file = entry_file(self.root, old), entry_file(self.root, new)
            old_there, new_there = old_file.is_file(), new_file.is_file()
            if old_there and not new_there:
                stored: StoredEntry | None = None
                try:
                    stored = self.read(old)
                except NotFoundError:
                    continue  # removed meanwhile
                except EntryFormatError:
                    pass  # broken since the move was planned: it moves as it is, its own links untouched
                relinked_entry = with_links_moved(stored.entry, targets) if stored is not None else None
                if stored is not None and relinked_entry is not None and relinked_entry != stored.entry:
                    create_exclusive(new_file, dump_entry(replace(relinked_entry, path=new)))
                    checkpoint("copied")
                    ensure_unchanged(old_file, stored.raw)  # the old name goes only while it holds what was copied
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
        relinked = self.relink(mapping, skip=set(mapping.values()), listing=listing)
        changed += relinked
        self.state().rename(mapping)
        return changed, tuple(sorted(self._path_of(file) for file in relinked))

    def _same_entry(self, old: str, new: str, old_file: Path, new_file: Path) -> bool:
        """True when `new_file` is the moved copy of `old_file`: the same file (hard link) or
        the same entry apart from its path and links."""
        try:
            if old_file.samefile(new_file):
                return True
            before = self.read(old).entry
            after = self.read(new).entry
        except (OSError, MemError):
            return False
        return replace(without_links(before), path=new) == without_links(after)

    def _finish_interrupted_move(self) -> None:
        """Under the lock: finish a move whose process died (its journal is still there).

        One bad journal never blocks every later write: a journal mem cannot read, or one
        whose replay fails (an entry that no longer parses, a disk error), is set aside under
        a new name in `.mem/` with a warning, and the write goes on.
        """
        from .journal import clear_intent, journal_file, read_intent, set_journal_aside  # writes only: not a recall's

        if not os.path.lexists(journal_file(self.root)):
            return
        try:
            intent = read_intent(self.root)
            if intent is None:
                return
            changed, _ = self.apply_move(intent)
        except MemError as error:
            kept = set_journal_aside(self.root)
            where = f"; it is kept as {STATE_DIR}/{kept.name}" if kept is not None else ""
            self.warnings.append(f"an interrupted move could not be finished ({error.message}){where}")
            return
        clear_intent(self.root)
        self.after_write("mv", changed, f"{intent.subject} (finished after an interruption)")

    def _path_of(self, file: Path) -> str:
        return file.relative_to(self.root).as_posix().removesuffix(".md")

    def archive(
        self,
        stored: StoredEntry,
        reason: str,
        notes: Mapping[str, Any] | None = None,
        *,
        archived_path: str | None = None,
    ) -> tuple[Entry, Path]:
        """Move a live entry to `_archive/` (at its own path, or `archived_path`) with when and
        why (and `notes`) in its frontmatter. The caller holds the write lock and read `stored`
        under it. Returns the archived entry and its file."""
        entry, raw, file = stored.entry, stored.raw, stored.file
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
        extra = {**entry.extra, **(notes or {}), ARCHIVED_AT_KEY: self.now(), ARCHIVED_REASON_KEY: reason}
        archived = replace(entry, extra=extra)
        ensure_unchanged(file, raw)
        create_exclusive(target, dump_entry(archived))
        file.unlink()
        return archived, target

    def _interrupted_archive(self, entry: Entry, target: Path, notes: Mapping[str, Any]) -> Entry | None:
        """The archived copy at `target` if it is `entry` plus archive notes (what an archive
        killed half-way leaves), else None."""
        try:
            archived = self.parse_bytes(entry.path, read_bytes_limited(target, self.file_limit()), entry.path)
        except MemError:
            return None
        added = {ARCHIVED_AT_KEY, ARCHIVED_REASON_KEY, *notes}
        original = {key: value for key, value in archived.extra.items() if key not in added}
        return archived if replace(archived, extra=original) == entry else None
