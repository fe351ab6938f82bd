"""`mem doctor`: check a memory tree for what would make it lose, leak or mislead, and repair
what is safe to repair.

Each check reads the files as they are on disk (live entries and `_archive/`) and returns
findings; nothing is changed unless `fix` is given, and even then only these:

- `stale-temp`: a temporary file left by a writer that was killed (`.<name>.<pid>.<hex>.tmp`)
  is removed when its process is gone or it is older than a minute. A younger one of a live
  process is a write in progress and is left alone (and not reported).
- `interrupted-move`: a `mem mv` whose process died is finished from its journal.
- `broken-link`: a `related` link to an entry that exists neither in the tree nor in
  `_archive/` is dropped from the linking entry (the rest of the file is kept as it is,
  `updated` and importance are not touched). A link to an archived entry is only reported:
  the knowledge still exists, and whether to restore it or unlink it is a person's call.

Malformed files, conflict markers, secrets, duplicate titles, missing provenance and text
that reads as instructions to an agent are reported, never rewritten: mem does not guess
what a person meant. Findings are `error`s (the tree is damaged or leaks) or `warning`s
(worth a look); `mem doctor` exits with code 9 when errors remain (or warnings too, with
`strict`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .config import CONFIG_FILE
from .display import clip
from .entry import Entry, EntryFormatError, dump_entry, has_conflict_markers
from .errors import MemError, NotFoundError
from .index import INDEX_FILE
from .journal import JOURNAL_FILE, journal_file, read_intent
from .paths import ARCHIVE_DIR, STATE_DIR, entry_file
from .safeio import set_aside
from .safety import find_injection, find_secrets, summarize_signals
from .store import TEMP_NAME_RE, decode_text, read_bytes_limited, replace_if_unchanged

if TYPE_CHECKING:
    from .memory import Memory

# "info" is for states that are normal but worth knowing (the lazy index after a write): it
# never makes the memory unhealthy, not even with --strict.
Severity = Literal["error", "warning", "info"]
STALE_TEMP_SECONDS = 60.0  # a write takes milliseconds: an older temporary file is debris


@dataclass(frozen=True)
class Finding:
    """One thing `mem doctor` found. `file` is relative to the root ('' for the whole tree)."""

    kind: str
    file: str
    message: str
    severity: Severity
    fixable: bool = False
    fixed: bool = False


@dataclass(frozen=True)
class DoctorReport:
    root: Path
    checked: int  # entry files examined, live and archived
    findings: tuple[Finding, ...]
    fix: bool
    strict: bool

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "error" and not finding.fixed)

    @property
    def warnings(self) -> int:
        return sum(1 for finding in self.findings if finding.severity == "warning" and not finding.fixed)

    @property
    def fixed(self) -> int:
        return sum(1 for finding in self.findings if finding.fixed)

    @property
    def healthy(self) -> bool:
        return self.errors == 0 and (not self.strict or self.warnings == 0)


@dataclass
class _Scanned:
    """An entry file read once and shared by every check."""

    path: str
    file: Path
    shown: str  # as in findings: `a/b/c.md` or `_archive/a/b/c.md`
    archived: bool
    text: str | None = None  # None when the bytes could not be read as text
    entry: Entry | None = None  # None when it is not a valid entry
    raw: bytes = b""


@dataclass
class _Context:
    memory: Memory
    files: list[_Scanned] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def add(self, kind: str, file: str, message: str, severity: Severity, *, fixable: bool = False) -> None:
        self.findings.append(Finding(kind, file, message, severity, fixable))

    @property
    def live(self) -> list[tuple[_Scanned, Entry]]:
        """The valid entries of the tree (not the archive), with their files."""
        return [(item, item.entry) for item in self.files if not item.archived and item.entry is not None]


def run_doctor(memory: Memory, *, fix: bool = False, strict: bool = False) -> DoctorReport:
    """Check the tree of `memory`; with `fix`, repair what is safe (see the module docstring)."""
    context = _Context(memory)
    _read_tree(context)
    for check in CHECKS:
        check(context)
    findings = context.findings
    if fix and any(finding.fixable for finding in findings):
        findings = _fix(memory, findings)
    order = {"error": 0, "warning": 1, "info": 2}
    findings = sorted(findings, key=lambda f: (order[f.severity], f.kind, f.file, f.message))
    return DoctorReport(memory.root, len(context.files), tuple(findings), fix, strict)


# --- reading ---------------------------------------------------------------------------


def _read_tree(context: _Context) -> None:
    """Read every entry file once; files that cannot be used become `malformed` findings."""
    memory = context.memory
    limit = memory.files.file_limit()
    for archived in (False, True):
        try:
            scan = memory.scan(archived=archived)
        except MemError:
            continue  # `_archive` is a link or a file: check_layout reports it
        for problem in scan.problems:
            context.add("malformed", problem.file, problem.message, "error")
        for record in scan.records:
            where = f"{ARCHIVE_DIR}/{record.path}" if archived else record.path
            item = _Scanned(record.path, record.file, where + ".md", archived)
            context.files.append(item)
            try:
                item.raw = read_bytes_limited(record.file, limit)
                item.text = decode_text(item.raw, where)
            except NotFoundError:
                context.files.remove(item)  # removed since the scan
                continue
            except MemError as error:
                context.add("malformed", item.shown, error.message.removeprefix(f"{where}: "), "error")
                continue
            if has_conflict_markers(item.text):
                context.add(
                    "conflict",
                    item.shown,
                    "unresolved git conflict markers (<<<<<<< ======= >>>>>>>): keep the right text and "
                    "remove the marker lines",
                    "error",
                )
                continue
            try:
                item.entry = memory.files.parse_bytes(record.path, item.raw, where)
            except EntryFormatError as error:
                context.add("malformed", item.shown, "; ".join(error.problems), "error")


# --- checks ----------------------------------------------------------------------------


def check_secrets(context: _Context) -> None:
    for item in context.files:
        if item.text is None:
            continue
        for secret in find_secrets(item.text):
            context.add(
                "secret",
                item.shown,
                f"likely secret ({secret.kind}) at line {secret.line}: {secret.excerpt}; remove it and rotate it",
                "error",
            )


def check_links(context: _Context) -> None:
    """`related` links of live entries must point at an entry that exists."""
    root = context.memory.root
    for item, entry in context.live:
        for link in entry.related:
            if _exists(root, link):
                continue
            if _exists(root, link, archived=True):
                context.add(
                    "archived-link",
                    item.shown,
                    f"related link '{link}' points to an archived entry; "
                    f"`mem forget --restore {link}` or remove the link",
                    "warning",
                )
            else:
                context.add(
                    "broken-link", item.shown, f"related link '{link}' points to no entry", "error", fixable=True
                )


def check_duplicate_titles(context: _Context) -> None:
    """Two live entries with the same title (ignoring case) make an exact-title lookup ambiguous."""
    groups: dict[str, list[tuple[_Scanned, Entry]]] = defaultdict(list)
    for item, entry in context.live:
        groups[" ".join(entry.title.casefold().split())].append((item, entry))
    for members in groups.values():
        if len(members) < 2:
            continue
        for item, entry in members:
            others = [other.path for other, _ in members if other is not item]
            context.add(
                "duplicate-title",
                item.shown,
                f"title '{clip(entry.title)}' is also the title of {', '.join(others[:3])}"
                + (f" and {len(others) - 3} more" if len(others) > 3 else ""),
                "warning",
            )


def check_provenance(context: _Context) -> None:
    """Every entry should say where it came from (`source`): recall shows it to the agent."""
    for item, entry in context.live:
        if not entry.source:
            context.add(
                "no-source",
                item.shown,
                "no 'source' (provenance such as user or agent:NAME) in the frontmatter",
                "warning",
            )


def check_injection(context: _Context) -> None:
    """Text that reads as instructions to an agent (memory poisoning); see docs/security.md."""
    for item in context.files:
        if item.text is None or item.archived:
            continue
        signals = find_injection(item.text)
        if signals:
            context.add(
                "injection", item.shown, f"reads like instructions to an agent: {summarize_signals(signals)}", "warning"
            )


def check_both_live_and_archived(context: _Context) -> None:
    """An entry at the same path in the tree and in `_archive/`: an interrupted forget or
    restore, or a new entry at a forgotten path. Which one is right is a person's call."""
    live = {item.path for item in context.files if not item.archived}
    for item in context.files:
        if item.archived and item.path in live:
            context.add(
                "live-and-archived",
                f"{item.path}.md",
                f"'{item.path}' exists both in the tree and in {ARCHIVE_DIR}/; keep one",
                "warning",
            )


def check_stale_temp_files(context: _Context) -> None:
    for file, reason in _stale_temp_files(context.memory.root):
        relative = file.relative_to(context.memory.root).as_posix()
        context.add(
            "stale-temp", relative, f"temporary file left by a crashed write ({reason})", "warning", fixable=True
        )


# The folders a root may hold that mem itself writes: `--fix` sets a link or a file in their
# place aside (renamed, never deleted) so mem can recreate the folder.
_OWN_FOLDERS = ((STATE_DIR, "mem's own folder (locks, index, usage counts)"), (ARCHIVE_DIR, "the archive folder"))


def check_layout(context: _Context) -> None:
    """`.mem` or `_archive` that is a symlink or a file, a `config.yaml` that is not a file:
    every command that needs them fails, so they are errors."""
    root = context.memory.root
    for name, what in _OWN_FOLDERS:
        try:
            mode = os.lstat(root / name).st_mode
        except OSError:
            continue
        if stat.S_ISLNK(mode):
            message = f"{what} is a symlink; mem does not follow it (--fix renames the link away)"
        elif not stat.S_ISDIR(mode):
            message = f"{what} is a file, not a folder (--fix renames it away; mem recreates the folder)"
        else:
            continue
        context.add("layout", name, message, "error", fixable=True)
    with contextlib.suppress(OSError):
        if not stat.S_ISREG(os.lstat(root / CONFIG_FILE).st_mode):
            context.add(
                "layout", CONFIG_FILE, "is not a regular file (a symlink or a special file): remove it", "error"
            )


def _fix_layout(memory: Memory, findings: list[Finding]) -> set[tuple[str, str, str]]:
    fixed: set[tuple[str, str, str]] = set()
    for finding in findings:
        if finding.kind == "layout" and finding.fixable and set_aside(memory.root / finding.file) is not None:
            fixed.add((finding.kind, finding.file, finding.message))
    return fixed


def check_interrupted_move(context: _Context) -> None:
    root = context.memory.root
    if not os.path.lexists(journal_file(root)):
        return
    try:
        intent = read_intent(root)
    except MemError as error:
        context.add("interrupted-move", f"{STATE_DIR}/{JOURNAL_FILE}", error.message, "error", fixable=True)
        return
    if intent is not None:
        context.add(
            "interrupted-move",
            f"{STATE_DIR}/{JOURNAL_FILE}",
            f"`mem mv {intent.subject}` was interrupted; the next write (or `mem doctor --fix`) finishes it, "
            "or sets the journal aside if it cannot",
            "error",
            fixable=True,
        )


def check_index(context: _Context) -> None:
    """Index drift: where the index disagrees with the files; other mem versions' index files.

    The index is a cache that every recall brings up to date, so drift is not damage (every
    `mem add` leaves some): it is reported once, as info, and `--fix` refreshes the index. Read without opening
    the index for writing, so the check itself changes nothing.
    """
    index = context.memory.index()
    for other in index.other_versions():
        context.add(
            "index-other-version",
            f"{STATE_DIR}/{other.name}",
            "the search index of another mem version (a cache: that version rebuilds it if it is still "
            "used); `mem doctor --fix` removes it",
            "info",
            fixable=True,
        )
    indexed = index.snapshot()
    shown = f"{STATE_DIR}/{INDEX_FILE}"
    if indexed is None:
        if index.db_path.exists():
            context.add(
                "index-unusable",
                shown,
                "the search index is damaged or outdated; the next recall rebuilds "
                "it from the files (or `mem doctor --fix`)",
                "warning",
                fixable=True,
            )
        return
    on_disk = {
        item.path: hashlib.blake2b(item.raw, digest_size=16).hexdigest()
        for item in context.files
        if not item.archived and item.entry is not None and item.raw
    }
    new = on_disk.keys() - indexed.keys()
    gone = indexed.keys() - on_disk.keys()
    changed = {path for path in on_disk.keys() & indexed.keys() if on_disk[path] != indexed[path]}
    if new or gone or changed:
        context.add(
            "index-drift",
            shown,
            f"the search index is behind the files ({len(new)} new, {len(changed)} changed, {len(gone)} removed "
            "entries); the next recall catches up (or `mem doctor --fix`)",
            "info",
            fixable=True,
        )


CHECKS = (
    check_layout,
    check_interrupted_move,
    check_secrets,
    check_links,
    check_duplicate_titles,
    check_provenance,
    check_injection,
    check_both_live_and_archived,
    check_stale_temp_files,
    check_index,
)


# --- helpers ---------------------------------------------------------------------------


def _exists(root: Path, path: str, *, archived: bool = False) -> bool:
    try:
        return entry_file(root, path, archived=archived).is_file()
    except MemError:  # a symlink on the way: not an entry mem can use
        return False


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    except OverflowError:
        return False
    return True


def _walk_hidden_temp_files(root: Path) -> Iterator[Path]:
    """Temporary files anywhere in the tree (not following symlinks; `.git` skipped)."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [name for name in dirs if name != ".git"]
        for name in files:
            if name.startswith(".") and TEMP_NAME_RE.fullmatch(name):
                yield Path(folder) / name


def _stale_temp_files(root: Path, now: float | None = None) -> list[tuple[Path, str]]:
    now = time.time() if now is None else now
    stale: list[tuple[Path, str]] = []
    for file in _walk_hidden_temp_files(root):
        match = TEMP_NAME_RE.fullmatch(file.name)
        if match is None:
            continue
        try:
            age = now - os.lstat(file).st_mtime
        except FileNotFoundError:
            continue
        pid = int(match.group("pid"))
        if not _pid_alive(pid):
            stale.append((file, f"process {pid} is gone"))
        elif age > STALE_TEMP_SECONDS:
            stale.append((file, f"{int(age)} s old"))
    return stale


# --- fixing ----------------------------------------------------------------------------


def _fix(memory: Memory, findings: list[Finding]) -> list[Finding]:
    """Apply the safe repairs under the write lock and mark what was fixed."""
    # Before the lock: the lock lives in `.mem/`, which a file in its place makes unusable.
    fixed_keys = _fix_layout(memory, findings)
    # Taking the lock finishes an interrupted move by itself (EntryFiles.lock).
    with memory.files.lock():  # the doctor is part of the core and writes like any other writer
        if not os.path.lexists(journal_file(memory.root)):
            fixed_keys |= {(f.kind, f.file, f.message) for f in findings if f.kind == "interrupted-move"}
        for file, _ in _stale_temp_files(memory.root):
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
        remaining = {path for path, _ in _stale_temp_files(memory.root)}
        fixed_keys |= {
            (f.kind, f.file, f.message)
            for f in findings
            if f.kind == "stale-temp" and memory.root / f.file not in remaining
        }
        fixed_keys |= _drop_broken_links(memory, [f for f in findings if f.kind == "broken-link"])
        if any(f.kind == "index-other-version" for f in findings):
            removed = {f"{STATE_DIR}/{path.name}" for path in memory.index().remove_other_versions()}
            fixed_keys |= {
                (f.kind, f.file, f.message) for f in findings if f.kind == "index-other-version" and f.file in removed
            }
        index_findings = [f for f in findings if f.kind in ("index-drift", "index-unusable")]
        if index_findings:
            memory.refresh_index()  # a cache: refreshing it from the files is always safe
            fixed_keys |= {(f.kind, f.file, f.message) for f in index_findings}
    return [replace(f, fixed=True) if (f.kind, f.file, f.message) in fixed_keys else f for f in findings]


def _drop_broken_links(memory: Memory, findings: Iterable[Finding]) -> set[tuple[str, str, str]]:
    """Remove `related` links whose target exists neither live nor archived (checked again
    under the lock); each entry file is rewritten only if nobody changed it meanwhile."""
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_file[finding.file].append(finding)
    fixed: set[tuple[str, str, str]] = set()
    changed: list[Path] = []
    for shown, file_findings in sorted(by_file.items()):
        try:
            stored = memory.files.read(shown.removesuffix(".md"))
        except MemError:
            continue  # changed into something else since the check: leave it
        entry, raw, file = stored.entry, stored.raw, stored.file
        kept = tuple(
            link for link in entry.related if _exists(memory.root, link) or _exists(memory.root, link, archived=True)
        )
        if kept == entry.related:
            continue
        try:
            replace_if_unchanged(file, raw, dump_entry(replace(entry, related=kept)))
        except MemError:
            continue
        changed.append(file)
        dropped = set(entry.related) - set(kept)
        fixed |= {
            (f.kind, f.file, f.message) for f in file_findings if any(f"'{link}'" in f.message for link in dropped)
        }
    if changed:
        memory.files.after_write("doctor", changed, f"drop broken related links in {len(changed)} entries")
    return fixed
