"""The watcher (core/watch.py) with a real watchdog observer on real folders.

After every change - each editor's way of saving, deletes, moves, a `git checkout` of 500
files, a `git pull` - the test waits (polling, with a generous timeout) until the watched
index equals a full rebuild of the same files into a separate database: same documents, same
full-text rows, same problems. The watched database is only read here, never refreshed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from contextree import Memory
from contextree.core.barrier import marker_prefix
from contextree.core.config import Config, WatchConfig, config_from_mapping
from contextree.core.index import INDEX_FILE, SCHEMA_VERSION, Index
from contextree.core.keepers import keepers_of
from contextree.core.store import file_limit
from contextree.core.tree import classify_file, walk_entry_folders
from contextree.core.watch import Flush, Watcher

from .gitutil import git, isolate_git

TIMEOUT = 30.0  # seconds; the usual wait is a fraction of one (the machine may be loaded)
FAST = Config(watch=WatchConfig(debounce_ms=50, max_delay_ms=400))


def entry_text(title: str, body: str, keywords: tuple[str, ...] = ()) -> str:
    words = f"keywords: [{', '.join(keywords)}]\n" if keywords else ""
    return f"---\ntitle: {title}\n{words}---\n{body}\n"


def write(root: Path, path: str, text: str) -> Path:
    file = root / (path + ".md")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    return file


# --- comparing the watched index with a full rebuild ---------------------------------------


def snapshot(db: Path) -> dict[str, Any]:
    """Everything the index holds, keyed by path (document ids may differ between builds)."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        return {
            "docs": conn.execute(
                "SELECT path, mtime_ns, size, hash, title, title_key, summary, importance, maturity, decay, updated,"
                " source FROM docs ORDER BY path"
            ).fetchall(),
            "fts": conn.execute(
                "SELECT d.path, f.title, f.keywords, f.path, f.summary, f.body FROM fts f JOIN docs d ON d.id = f.rowid"
                " ORDER BY d.path"
            ).fetchall(),
            "fuzzy": conn.execute(
                "SELECT d.path, f.title, f.keywords, f.path FROM fuzzy f JOIN docs d ON d.id = f.rowid ORDER BY d.path"
            ).fetchall(),
            "rows": [
                conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("fts", "fuzzy", "trigram")
            ],
            "problems": conn.execute("SELECT file, mtime_ns, size, message FROM problems ORDER BY file").fetchall(),
        }
    finally:
        conn.close()


def rebuilt(root: Path, scratch: Path) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A full rebuild of the root's index into `scratch` (the real one is left alone)."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    index = Index(root, file_limit(Config().limits.max_body_bytes))
    index.state_dir = scratch
    index.db_path = scratch / INDEX_FILE
    try:
        index.refresh()
        return snapshot(index.db_path), tuple(str(problem) for problem in index.walk_problems)
    finally:
        index.close()


def wait_until_equal(root: Path, watcher: Watcher, scratch: Path, timeout: float = TIMEOUT) -> dict[str, Any]:
    """Wait until the watched index equals a full rebuild; return the rebuild's snapshot."""
    expected, expected_layout = rebuilt(root, scratch)
    deadline = time.monotonic() + timeout
    while True:
        live = snapshot(root / ".mem" / INDEX_FILE)
        layout = tuple(str(problem) for problem in watcher.walk_problems())
        if live == expected and layout == expected_layout:
            break
        if time.monotonic() > deadline:
            missing = {row[0] for row in expected["docs"]} ^ {row[0] for row in live["docs"]}
            raise AssertionError(
                f"the watched index did not catch up: paths differing {sorted(missing)[:10]}, "
                f"problems {live['problems']} vs {expected['problems']}, layout {layout} vs {expected_layout}, "
                f"status {watcher.status()}"
            )
        time.sleep(0.02)
    assert watcher.healthy(), watcher.status()
    return expected


@dataclass
class Watched:
    root: Path
    memory: Memory
    watcher: Watcher
    scratch: Path
    flushes: list[Flush] = field(default_factory=list)

    def settle(self) -> dict[str, Any]:
        return wait_until_equal(self.root, self.watcher, self.scratch)

    def full_refreshes(self) -> int:
        return sum(flush.full for flush in self.flushes)

    def paths(self) -> set[str]:
        return {row[0] for row in snapshot(self.root / ".mem" / INDEX_FILE)["docs"]}


@pytest.fixture
def seeded(root: Path) -> Path:
    memory = Memory(root)
    for topic in ("auth", "storage"):
        for number in range(5):
            memory.add(f"architecture/{topic}/note-{number}", f"Note {number} about {topic}.", keywords=[topic])
    memory.close()
    return root


@pytest.fixture
def watched(seeded: Path, tmp_path: Path) -> Iterator[Watched]:
    memory = Memory(seeded, config=FAST)
    flushes: list[Flush] = []
    watcher = memory.watch(on_flush=flushes.append)
    watcher.start()
    try:
        yield Watched(seeded, memory, watcher, tmp_path / "rebuild", flushes)
    finally:
        watcher.stop()
        memory.close()


# --- what a walk skips, the watcher skips --------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("a/b/c.md", ("entry", "a/b/c")),
        ("a/b/s/c.md", ("entry", "a/b/s/c")),
        ("a/b/.c.md.swp", ("ignored", "")),
        ("a/b/c.md~", ("ignored", "")),
        ("a/b/4913", ("ignored", "")),
        ("a/b/c.md___jb_tmp___", ("ignored", "")),
        ("a/b/c.md___jb_old___", ("ignored", "")),
        ("a/b/.c.md.1234.9f8e.tmp", ("ignored", "")),
        ("a/b/c.md.tmp", ("ignored", "")),
        (".git/objects/ab/cd", ("ignored", "")),
        (f".mem/{INDEX_FILE}-wal", ("ignored", "")),
        ("_archive/a/b/c.md", ("ignored", "")),
        ("README.md", ("ignored", "")),
        ("a/b/_index.md", ("ignored", "")),
        ("a/b/Bad Name.md", ("problem", "")),
        ("a/c.md", ("problem", "")),
        ("A/b/c.md", ("problem", "")),
        ("a/b/s/t/c.md", ("problem", "")),
    ],
)
def test_events_are_sorted_like_a_walk_sorts_files(relative: str, expected: tuple[str, str]) -> None:
    assert classify_file(relative) == expected


def test_the_classification_agrees_with_a_real_walk(root: Path) -> None:
    names = ["a/b/c.md", "a/b/s/c.md", "a/b/Bad Name.md", "a/c.md", "A/b/c.md", "a/b/s/t/c.md", "a/b/_index.md"]
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("# x\n")
    walk = walk_entry_folders(root)
    walked = {path + ".md" for folder in walk.prints for path, _, _ in walk.records(folder)}
    problems = walk.problems
    for name in names:
        kind, _ = classify_file(name)
        assert (kind == "entry") == (name in walked), name
        reported = any(problem.file.rstrip("/") in (name, *_parents(name)) for problem in problems)
        assert (kind == "problem") == reported, name


def _parents(name: str) -> list[str]:
    parts = name.split("/")
    return ["/".join(parts[:depth]) for depth in range(1, len(parts))]


# --- Index.refresh_paths: the per-path update the watcher uses ---------------------------------


def test_refresh_paths_gives_what_a_full_refresh_gives(seeded: Path, tmp_path: Path) -> None:
    index = Index(seeded, file_limit(Config().limits.max_body_bytes))
    index.refresh()
    write(seeded, "architecture/auth/new", entry_text("New", "added"))
    write(seeded, "architecture/auth/note-1", entry_text("Changed", "updated"))
    (seeded / "architecture/auth/note-2.md").unlink()
    write(seeded, "architecture/auth/note-3", "---\ntitle: [broken\n---\n")
    (seeded / "architecture/storage/note-0.md").touch()  # touched, not changed
    changed = ["architecture/auth/new", "architecture/auth/note-1", "architecture/auth/note-2"]
    changed += ["architecture/auth/note-3", "architecture/storage/note-0", "nowhere/at/all"]
    report = index.refresh_paths(changed)
    assert (report.added, report.updated, report.removed) == (1, 1, 2)  # the broken file left the index
    assert [problem.file for problem in report.problems] == ["architecture/auth/note-3.md"]
    assert snapshot(index.db_path) == rebuilt(seeded, tmp_path / "rebuild")[0]
    conn = sqlite3.connect(index.db_path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()[0] == ""  # rescan next
    conn.close()
    write(seeded, "architecture/auth/note-3", entry_text("Repaired", "fixed"))
    assert index.refresh_paths(["architecture/auth/note-3"]).added == 1
    assert index.refresh().changed == 0  # the next full refresh finds nothing left to do
    index.close()


def test_refresh_paths_leaves_symlinks_to_a_full_scan(seeded: Path) -> None:
    index = Index(seeded, file_limit(Config().limits.max_body_bytes))
    index.refresh()
    (seeded / "architecture/auth/link.md").symlink_to(seeded / "architecture/auth/note-0.md")
    report = index.refresh_paths(["architecture/auth/link"])
    assert report.scanned == 10  # it walked the tree (1 path would say 1), which reports the symlink
    assert [problem.file for problem in index.walk_problems] == ["architecture/auth/link.md"]
    index.close()


def test_a_full_refresh_never_undoes_a_change_committed_after_its_walk(
    seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan walks before it takes the write lock; a watcher may apply a newer change in
    between. The scan must notice (SQLite's data_version) and walk again, not delete it."""
    import contextree.core.index as index_module

    limit = file_limit(Config().limits.max_body_bytes)
    scanner, watcher_index = Index(seeded, limit), Index(seeded, limit)
    scanner.refresh()
    write(seeded, "architecture/auth/old-change", entry_text("Old", "makes the scan do work"))
    real_walk = index_module.walk_entry_folders
    calls = []

    def walk_then_race(root: Path, **options: Any) -> Any:
        result = real_walk(root, **options)
        if not calls:  # right after the scan's first walk: a new file, applied by the watcher
            write(seeded, "architecture/auth/raced", entry_text("Raced", "written after the walk"))
            watcher_index.refresh_paths(["architecture/auth/raced"])
        calls.append(root)
        return result

    monkeypatch.setattr(index_module, "walk_entry_folders", walk_then_race)
    scanner.refresh()
    assert len(calls) == 2  # it walked again
    conn = sqlite3.connect(scanner.db_path)
    assert conn.execute("SELECT count(*) FROM docs WHERE path = 'architecture/auth/raced'").fetchone()[0] == 1
    conn.close()
    scanner.close()
    watcher_index.close()


# --- editors' ways of saving -----------------------------------------------------------------


def test_vim_default_save_swap_file_backup_and_rename(watched: Watched) -> None:
    file = watched.root / "architecture/auth/note-1.md"
    folder = file.parent
    swap = folder / ".note-1.md.swp"
    swap.write_bytes(b"b0VIM 9.0" + b"\0" * 100)  # vim opens the swap file first
    probe = folder / "4913"  # vim checks it may create files in the folder
    probe.write_text("")
    probe.unlink()
    file.rename(folder / "note-1.md~")  # the original becomes the backup ...
    file.write_text(entry_text("Note 1 about auth", "Rewritten in vim: tokens rotate hourly."))  # ... a new file
    (folder / "note-1.md~").unlink()
    swap.unlink()
    expected = watched.settle()
    assert any("tokens rotate hourly" in row[5] for row in expected["fts"])
    assert watched.full_refreshes() == 1  # only the initial scan: a save is applied path by path


def test_vim_backupcopy_yes_writes_in_place(watched: Watched) -> None:
    file = watched.root / "architecture/auth/note-2.md"
    shutil.copy2(file, file.with_name("note-2.md~"))  # backup by copying
    with file.open("r+") as handle:  # then the original is truncated and rewritten, in pieces
        handle.truncate(0)
        handle.write("---\ntitle: Note 2 rewritten in place\n")
        handle.flush()
        time.sleep(0.08)  # a slow write: a flush may see the half-written file in between
        handle.write("---\nWritten with backupcopy=yes.\n")
    file.with_name("note-2.md~").unlink()
    expected = watched.settle()
    assert ("Note 2 rewritten in place",) in [(row[4],) for row in expected["docs"]]
    assert watched.full_refreshes() == 1


@pytest.mark.skipif(shutil.which("vim") is None, reason="vim is not installed")
@pytest.mark.parametrize("backupcopy", ["no", "yes"])
def test_real_vim_saves(watched: Watched, backupcopy: str) -> None:
    file = watched.root / "architecture/storage/note-3.md"
    script = [
        f"set backupcopy={backupcopy} writebackup directory=.",
        "%s/Note 3 about storage./Edited by real vim./",
        "wq",
    ]
    completed = subprocess.run(
        ["vim", "-N", "-u", "NONE", "-i", "NONE", "-es", *[arg for line in script for arg in ("-c", line)], str(file)],
        cwd=file.parent,
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "TERM": "dumb"},
    )
    assert completed.returncode == 0, completed.stderr
    assert "Edited by real vim." in file.read_text()
    expected = watched.settle()
    assert any("Edited by real vim" in row[5] for row in expected["fts"])


def test_atomic_rename_save(watched: Watched) -> None:
    file = watched.root / "architecture/storage/note-0.md"
    temporary = file.with_name(f".note-0.md.{os.getpid()}.9f8e.tmp")  # VS Code, Sublime, mem itself
    temporary.write_text(entry_text("Storage note 0", "Saved atomically."))
    os.replace(temporary, file)
    plain = file.with_name("note-0.md.tmp")  # the same with a visible temporary name
    plain.write_text(entry_text("Storage note 0", "Saved atomically twice."))
    os.replace(plain, file)
    expected = watched.settle()
    assert any(row[5].startswith("Saved atomically twice") for row in expected["fts"])
    assert watched.full_refreshes() == 1


def test_tmp_files_are_never_indexed(watched: Watched) -> None:
    folder = watched.root / "architecture/auth"
    before = watched.paths()
    for name in ("draft.tmp", "note-9.md.tmp", ".note-9.md.tmp", "note-9.md~", "#note-9.md#"):
        (folder / name).write_text(entry_text("Not an entry", "temporary"))
    watched.settle()
    assert watched.paths() == before
    for name in ("draft.tmp", "note-9.md.tmp", ".note-9.md.tmp", "note-9.md~", "#note-9.md#"):
        (folder / name).unlink()
    watched.settle()
    assert watched.full_refreshes() == 1


def test_jetbrains_safe_write(watched: Watched) -> None:
    file = watched.root / "architecture/auth/note-4.md"
    new = file.with_name("note-4.md___jb_tmp___")
    old = file.with_name("note-4.md___jb_old___")
    new.write_text(entry_text("Note 4 from the IDE", "Safe write: tmp, old, rename, delete."))
    file.rename(old)
    new.rename(file)
    old.unlink()
    expected = watched.settle()
    assert ("architecture/auth/note-4", "Note 4 from the IDE") in [(row[0], row[4]) for row in expected["docs"]]
    assert watched.full_refreshes() == 1


# --- deletes, moves, folders, broken files -----------------------------------------------------


def test_delete_and_move_files(watched: Watched) -> None:
    root = watched.root
    (root / "architecture/auth/note-0.md").unlink()
    (root / "architecture/auth/note-1.md").rename(root / "architecture/auth/renamed.md")
    (root / "architecture/auth/note-2.md").rename(root / "architecture/storage/moved-here.md")
    (root / "architecture/auth/note-3.md").rename(root / "architecture/auth/.hidden-now.md")  # gone from view
    watched.settle()
    assert {"architecture/auth/renamed", "architecture/storage/moved-here"} <= watched.paths()
    assert not {f"architecture/auth/note-{n}" for n in range(4)} & watched.paths()
    assert watched.full_refreshes() == 1


def test_folders_created_moved_and_deleted(watched: Watched, tmp_path: Path) -> None:
    root = watched.root
    (root / "architecture/auth").rename(root / "architecture/identity")  # a topic renamed
    watched.settle()
    assert "architecture/identity/note-0" in watched.paths()
    outside = tmp_path / "outside"
    (root / "architecture/storage").rename(outside)  # moved out of the tree
    watched.settle()
    assert not any(path.startswith("architecture/storage/") for path in watched.paths())
    (root / "ops").mkdir()
    outside.rename(root / "ops" / "storage")  # and back in, elsewhere
    watched.settle()
    assert "ops/storage/note-4" in watched.paths()
    (root / "new/deep/sub").mkdir(parents=True)  # a folder made, then filled at once
    for number in range(20):
        write(root, f"new/deep/sub/entry-{number}", entry_text(f"Deep {number}", "In a fresh folder."))
    watched.settle()
    shutil.rmtree(root / "architecture")
    watched.settle()
    assert not any(path.startswith("architecture/") for path in watched.paths())


def test_broken_files_and_layout_problems_are_reported_like_a_scan(watched: Watched) -> None:
    root = watched.root
    file = root / "architecture/auth/note-0.md"
    file.write_text("---\ntitle: [unclosed\n---\nbroken\n")
    (root / "architecture/auth/Bad Name.md").write_text("# not a slug\n")
    (root / "architecture/auth/sub/deeper/too").mkdir(parents=True)
    (root / "architecture/auth/sub/deeper/too/far.md").write_text("# too deep\n")
    (root / "architecture/auth/link.md").symlink_to(root / "architecture/auth/note-1.md")
    expected = watched.settle()
    assert [row[0] for row in expected["problems"]] == ["architecture/auth/note-0.md"]
    layout = {problem.file for problem in watched.watcher.walk_problems()}
    assert {"architecture/auth/Bad Name.md", "architecture/auth/link.md"} <= layout
    assert watched.memory.recall("note").problems  # recall under the watcher reports them too
    file.write_text(entry_text("Note 0 repaired", "Fixed."))
    (root / "architecture/auth/Bad Name.md").unlink()
    (root / "architecture/auth/link.md").unlink()
    shutil.rmtree(root / "architecture/auth/sub")
    expected = watched.settle()
    assert expected["problems"] == [] and watched.watcher.walk_problems() == ()


# --- git ------------------------------------------------------------------------------------------


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_git(monkeypatch, tmp_path)


def fill(root: Path, prefix: str, count: int, per_folder: int, marker: str) -> list[str]:
    paths = []
    for number in range(count):
        path = f"{prefix}/topic-{number // per_folder}/entry-{number % per_folder}"
        write(root, path, entry_text(f"{marker} entry {number}", f"{marker} body {number} of {prefix}."))
        paths.append(path)
    return paths


def start_watcher(root: Path, flushes: list[Flush] | None = None) -> tuple[Memory, Watcher]:
    memory = Memory(root, config=FAST)
    watcher = memory.watch(on_flush=flushes.append if flushes is not None else None)
    watcher.start()
    return memory, watcher


def test_git_checkout_of_500_changed_files(root: Path, tmp_path: Path, git_env: None) -> None:
    git(root, "init", "-q")
    paths = fill(root, "code", 400, 20, "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "main: 400 entries")
    git(root, "checkout", "-qb", "other")
    for path in paths[::2]:  # 200 changed
        write(root, path, entry_text("changed on other", f"other text for {path}"))
    for path in [p for p in paths[1::2] if p.endswith(("-1", "-3", "-5", "-7", "-9"))]:  # 100 deleted
        (root / (path + ".md")).unlink()
    for number in range(200):  # 200 added, in the same folders
        write(root, f"code/topic-{number % 20}/added-{number}", entry_text(f"added {number}", "only on other"))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "other: 500 files differ")
    assert len(git(root, "diff", "--name-only", "main", "other").splitlines()) == 500
    git(root, "checkout", "-qb", "third", "main")
    fill(root, "fresh", 60, 10, "third")  # new folders
    git(root, "add", "-A")
    git(root, "commit", "-qm", "third: a new domain")
    git(root, "checkout", "-q", "main")

    flushes: list[Flush] = []
    memory, watcher = start_watcher(root, flushes)
    try:
        git(root, "checkout", "-q", "other")
        expected = wait_until_equal(root, watcher, tmp_path / "rebuild")
        assert len(expected["docs"]) == 500
        assert not any(flush.full for flush in flushes[1:])  # 500 paths applied without a scan
        assert memory.recall("only on other").results
        git(root, "checkout", "-q", "main")
        assert len(wait_until_equal(root, watcher, tmp_path / "rebuild")["docs"]) == 400
        git(root, "checkout", "-q", "third")  # new folders appear ...
        assert len(wait_until_equal(root, watcher, tmp_path / "rebuild")["docs"]) == 460
        git(root, "checkout", "-q", "main")  # ... and vanish again
        assert len(wait_until_equal(root, watcher, tmp_path / "rebuild")["docs"]) == 400
        assert memory.recall("main body").index.scanned == 0  # recall trusted the watcher throughout
    finally:
        watcher.stop()
        memory.close()


def test_git_pull(root: Path, tmp_path: Path, git_env: None) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(root, "init", "-q")
    fill(root, "team", 30, 10, "first")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    git(root, "remote", "add", "origin", str(remote))
    git(root, "push", "-q", "-u", "origin", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    fill(other, "pulled", 50, 10, "pulled")
    for number in range(5):
        (other / f"team/topic-0/entry-{number}.md").unlink()
    write(other, "team/topic-1/entry-0", entry_text("changed by a colleague", "pulled change"))
    git(other, "add", "-A")
    git(other, "commit", "-qm", "a colleague's work")
    git(other, "push", "-q")

    memory, watcher = start_watcher(root)
    try:
        git(root, "pull", "-q", "--no-rebase")
        expected = wait_until_equal(root, watcher, tmp_path / "rebuild")
        assert len(expected["docs"]) == 30 - 5 + 50
        hits = memory.recall("changed by a colleague").results
        assert hits and hits[0].path == "team/topic-1/entry-0"
    finally:
        watcher.stop()
        memory.close()


WRITER = textwrap.dedent(
    """
    import json, sys, time
    from contextree import Memory
    from contextree.core.errors import ConflictError

    root, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    memory = Memory(root)
    written = {}

    def attempt(action):
        for _ in range(200):  # writes pause while git merges; an agent would try again
            try:
                return action()
            except ConflictError:
                time.sleep(0.02)
        raise SystemExit("gave up")

    for number in range(count):
        path = f"{name}/log/item-{number}"
        attempt(lambda: memory.add(path, f"{name} wrote item {number}", keywords=[name]))
        written[path] = f"{name} wrote item {number}"
        if number:
            previous = f"{name}/log/item-{number - 1}"
            attempt(lambda: memory.update(previous, append=f"{name} amended {number - 1}"))
            written[previous] += f" {name} amended {number - 1}"
    print(json.dumps({"written": written}))
    """
)


def start_writers(root: Path, count: int) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(root), name, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("alpha", "beta")
    ]


def wait_for_first_writes(root: Path, timeout: float = 60.0) -> None:
    """Block until both writers have written an entry: the pull then provably races them
    (a fixed sleep would not, on a slow machine)."""
    deadline = time.monotonic() + timeout
    while not all((root / name / "log" / "item-0.md").exists() for name in ("alpha", "beta")):
        assert time.monotonic() < deadline, "the writers never started writing"
        time.sleep(0.01)


def finish_writers(writers: list[subprocess.Popen[str]]) -> dict[str, str]:
    written: dict[str, str] = {}
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        written.update(json.loads(out)["written"])
    return written


def pull_while_writing(root: Path, command: list[str]) -> None:
    """Run a pull while the writers write; retry it while git reports a lock held by a writer."""
    failures = []
    for _ in range(50):
        completed = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
        if completed.returncode == 0:
            return
        assert "lock" in completed.stderr, completed.stderr  # anything else is a real failure
        failures.append(completed.stderr)
        time.sleep(0.05)
    raise AssertionError(f"the pull kept failing: {failures[:3]}")


def check_nothing_lost(
    root: Path, memory: Memory, watcher: Watcher, written: dict[str, str], incoming: list[str], scratch: Path
) -> None:
    assert len(written) == 50
    check = Memory(root)
    for path, text in written.items():
        assert " ".join(check.get(path).body.split()) == text, path  # exists, parses, last write kept
    for path in incoming:
        assert check.exists(path), path
    check.close()
    expected = wait_until_equal(root, watcher, scratch)
    assert len(expected["docs"]) == len(written) + len(incoming)
    hits = memory.recall("beta wrote item 24").results
    assert hits and hits[0].path == "beta/log/item-24"


def test_two_writers_a_watcher_and_a_git_pull_lose_nothing(tmp_path: Path, git_env: None) -> None:
    """The memory is a folder of a project repository (mem does not commit there): agents
    write through mem while a person runs `git pull`, which brings a colleague's entries."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    project = tmp_path / "project"
    git(tmp_path, "clone", "-q", str(remote), str(project))
    root = Memory.init(project / ".memory").root
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a memory for the project")
    git(project, "push", "-q", "origin", "HEAD")
    colleague = tmp_path / "colleague"
    git(tmp_path, "clone", "-q", str(remote), str(colleague))
    incoming = fill(colleague / ".memory", "remote", 60, 15, "incoming")
    git(colleague, "add", "-A")
    git(colleague, "commit", "-qm", "a colleague's entries")
    git(colleague, "push", "-q")

    memory, watcher = start_watcher(root)
    try:
        writers = start_writers(root, 25)
        wait_for_first_writes(root)
        pull_while_writing(project, ["git", "pull", "-q", "--no-rebase"])
        written = finish_writers(writers)
        check_nothing_lost(root, memory, watcher, written, incoming, tmp_path / "rebuild")
    finally:
        watcher.stop()
        memory.close()


def test_two_writers_a_watcher_and_mem_sync_lose_nothing(root: Path, tmp_path: Path, git_env: None) -> None:
    """The memory is a repository of its own: every write is a commit, and pulling is `mem
    sync`'s job, which holds the write lock while git changes the tree (docs/watch.md says why
    a bare `git pull` racing with those commits is unsafe)."""
    from .conftest import MEM_BIN

    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    Memory.init(root, git_repository=True)
    git(root, "remote", "add", "origin", str(remote))
    git(root, "push", "-q", "-u", "origin", "main")
    colleague = tmp_path / "colleague"
    git(tmp_path, "clone", "-q", str(remote), str(colleague))
    incoming = fill(colleague, "remote", 60, 15, "incoming")
    git(colleague, "add", "-A")
    git(colleague, "commit", "-qm", "a colleague's entries")
    git(colleague, "push", "-q")

    memory, watcher = start_watcher(root)
    try:
        writers = start_writers(root, 25)
        wait_for_first_writes(root)
        pull_while_writing(root, [MEM_BIN, "sync"])
        written = finish_writers(writers)
        check_nothing_lost(root, memory, watcher, written, incoming, tmp_path / "rebuild")
        assert not git(root, "status", "--porcelain")  # and every write was committed
    finally:
        watcher.stop()
        memory.close()


# --- the skip-scan contract ---------------------------------------------------------------------


def test_recall_skips_the_scan_and_still_sees_every_finished_change(watched: Watched) -> None:
    memory, root = watched.memory, watched.root
    result = memory.recall("auth")
    assert result.index is not None and result.index.scanned == 0
    for number in range(10):  # another process (here: plain file writes) changes a file ...
        write(root, f"ops/runbooks/step-{number}", entry_text(f"Runbook step {number}", f"zq{number}marker"))
        hits = memory.recall(f"zq{number}marker").results  # ... and the very next recall sees it
        assert [hit.path for hit in hits][:1] == [f"ops/runbooks/step-{number}"]
    other = Memory(root)  # every Memory of the root in this process uses the watcher
    assert other.recall("auth").index.scanned == 0
    other.close()


def test_writes_through_memory_are_visible_before_the_debounce(seeded: Path) -> None:
    slow = Config(watch=WatchConfig(debounce_ms=60_000, max_delay_ms=60_000))
    memory = Memory(seeded, config=slow)
    with memory.watch() as watcher:
        for number in range(5):
            memory.add(f"ops/deploys/deploy-{number}", f"Deploy number {number} used canary kq{number}")
            hits = memory.recall(f"kq{number}").results
            assert [hit.path for hit in hits][:1] == [f"ops/deploys/deploy-{number}"]
        memory.update("ops/deploys/deploy-0", body="now blue-green wz7")
        assert [hit.path for hit in memory.recall("wz7").results] == ["ops/deploys/deploy-0"]
        memory.forget("ops/deploys/deploy-1")
        assert "ops/deploys/deploy-1" not in [hit.path for hit in memory.recall("kq1").results]
        memory.move("ops/deploys/deploy-2", "ops/releases/release-2")
        assert [hit.path for hit in memory.recall("kq2").results][:1] == ["ops/releases/release-2"]
        assert memory.recall("canary").index.scanned == 0
        assert watcher.healthy()
    memory.close()


def test_a_dead_observer_makes_recall_scan_again(watched: Watched) -> None:
    memory, watcher = watched.memory, watched.watcher
    assert memory.recall("auth").index.scanned == 0
    observer = watcher._observer
    assert observer is not None
    observer.stop()  # the observer thread ends as if it had crashed
    observer.join()
    assert not watcher.healthy()
    write(watched.root, "ops/after/death", entry_text("After the observer died", "xj9 is still found"))
    result = memory.recall("xj9")
    assert result.index is not None and result.index.scanned > 0  # the safety net: a scan
    assert [hit.path for hit in result.results] == ["ops/after/death"]


def test_a_failing_flush_makes_recall_scan_until_a_retry_works(
    watched: Watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory, watcher = watched.memory, watched.watcher
    errors: list[str] = []
    watcher.on_error = errors.append

    def broken(self: Index, paths: object) -> object:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Index, "refresh_paths", broken)
    write(watched.root, "architecture/auth/failing", entry_text("Written while flushes fail", "vb4 marker"))
    deadline = time.monotonic() + TIMEOUT
    while not errors and time.monotonic() < deadline:
        time.sleep(0.02)
    assert errors and "could not be updated" in errors[0] and not watcher.healthy()
    result = memory.recall("vb4")
    assert result.index is not None and result.index.scanned > 0
    assert [hit.path for hit in result.results] == ["architecture/auth/failing"]
    monkeypatch.undo()
    watcher._failed_at -= 10  # do not wait the full retry delay
    with watcher._cond:
        watcher._cond.notify_all()
    deadline = time.monotonic() + TIMEOUT
    # The retry flush is reported (on_flush) just after the watcher is healthy again: wait
    # for the report, not for health alone.
    while not (watched.flushes[-1].reason == "retry" and watcher.healthy()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert watcher.healthy() and watched.flushes[-1].reason == "retry"
    watched.settle()


def _slow_flushes(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Make every watcher flush of single paths take 0.5 s after it began; the event is set
    when one begins."""
    began = threading.Event()
    refresh_paths = Index.refresh_paths

    def slow(self: Index, paths: Any) -> Any:
        began.set()
        time.sleep(0.5)
        return refresh_paths(self, paths)

    monkeypatch.setattr(Index, "refresh_paths", slow)
    return began


def test_a_recall_during_a_flush_waits_for_it(watched: Watched, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker may have taken the pending changes and still be writing them when a recall
    asks the watcher to catch up: the recall must see them, not an index without them."""
    began = _slow_flushes(monkeypatch)
    write(watched.root, "architecture/auth/under-way", entry_text("Flushed while asked", "qz7 marker"))
    assert began.wait(TIMEOUT)  # the worker's own flush (after the debounce) is under way
    result = watched.memory.recall("qz7")
    assert result.index is not None and result.index.scanned == 0  # answered by the watcher
    assert [hit.path for hit in result.results] == ["architecture/auth/under-way"]


def test_another_process_asking_during_a_flush_is_answered_after_it(
    watched: Watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through the marker another process's recall creates (core/barrier.py): the
    watcher removes it only once the flush under way is written."""
    from contextree.core.barrier import request_current

    began = _slow_flushes(monkeypatch)
    write(watched.root, "architecture/auth/asked", entry_text("Asked during a flush", "qz8 marker"))
    assert began.wait(TIMEOUT)
    assert request_current(watched.root, SCHEMA_VERSION, timeout=TIMEOUT)
    assert "architecture/auth/asked" in watched.paths()


def test_an_inotify_overflow_leads_to_a_full_scan(watched: Watched) -> None:
    before = watched.full_refreshes()
    # What watchdog logs (and all it does) when the kernel drops events.
    logging.getLogger("watchdog.observers.inotify_c").warning("Inotify queue overflowed; filesystem events were lost")
    deadline = time.monotonic() + TIMEOUT
    while watched.full_refreshes() == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert watched.flushes[-1].full and watched.flushes[-1].reason == "overflow"


def test_an_index_rebuilt_by_another_process_is_followed(watched: Watched, tmp_path: Path) -> None:
    from .conftest import run_mem

    done = run_mem("reindex", "--full", env={"MEM_ROOT": str(watched.root)})
    assert done.returncode == 0, done.stderr
    write(watched.root, "ops/after/rebuild", entry_text("After a rebuild", "nr5 marker"))
    watched.settle()
    assert [hit.path for hit in watched.memory.recall("nr5").results] == ["ops/after/rebuild"]


def test_stop_unregisters_and_the_context_manager_stops(seeded: Path) -> None:
    memory = Memory(seeded, config=FAST)
    with memory.watch() as watcher:
        assert keepers_of(memory.root) == (watcher,)
        assert watcher.status().entries == 10 and watcher.status().current
    assert keepers_of(memory.root) == ()
    assert not watcher.alive()
    assert memory.recall("auth").index.scanned == 10
    memory.close()


def test_watch_config_section() -> None:
    config = config_from_mapping({"watch": {"debounce_ms": 100, "max_delay_ms": 500, "mcp": False}})
    assert config.watch == WatchConfig(debounce_ms=100, max_delay_ms=500, mcp=False)
    assert Config().watch == WatchConfig(debounce_ms=200, max_delay_ms=1000, mcp=True)


# --- the command ------------------------------------------------------------------------------------


def read_json_lines(process: subprocess.Popen[str], until: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    assert process.stdout is not None
    events = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        events.append(json.loads(line))
        if until(events[-1]):
            return events
    raise AssertionError(f"no such event; got {events}")


@pytest.mark.parametrize("stop_signal", ["SIGINT", "SIGTERM"])
def test_mem_watch_json_lines_and_a_clean_stop(seeded: Path, stop_signal: str) -> None:
    import signal

    from .conftest import MEM_BIN

    process = subprocess.Popen(
        [MEM_BIN, "watch", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        started = read_json_lines(process, lambda event: event["data"]["event"] == "started")[-1]
        assert started["command"] == "watch" and started["ok"] is True
        assert set(started["data"]) == {"event", "root", "entries", "problems", "ms"}
        assert started["data"]["entries"] == 10
        write(seeded, "architecture/auth/watched", entry_text("Seen by mem watch", "cli"))
        flush = read_json_lines(process, lambda event: event["data"]["event"] == "flush")[-1]["data"]
        assert set(flush) == {
            "event", "at", "by", "full", "reason", "paths", "added", "updated", "removed", "ms", "entries", "problems"
        }  # fmt: skip
        assert flush["paths"] == ["architecture/auth/watched"] and flush["added"] == 1 and flush["entries"] == 11
        process.send_signal(getattr(signal, stop_signal))
        stopped = read_json_lines(process, lambda event: event["data"]["event"] == "stopped")[-1]["data"]
        assert stopped["entries"] == 11
        assert process.wait(timeout=TIMEOUT) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_mem_watch_plain_lines_when_piped_and_an_error_for_a_missing_root(seeded: Path, tmp_path: Path) -> None:
    import signal

    from .conftest import MEM_BIN, run_mem

    process = subprocess.Popen([MEM_BIN, "watch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"watching {seeded}: 10 entries, 0 problems")
        assert first.rstrip().endswith("Ctrl-C stops")
        (seeded / "architecture/auth/note-0.md").unlink()
        line = process.stdout.readline()
        assert "1 path: architecture/auth/note-0" in line and "1 removed" in line and "9 entries" in line
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=TIMEOUT) == 0
        assert process.stdout.read().startswith("stopped after 2 index updates (1 file event)")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    missing = run_mem("watch", env={"MEM_ROOT": str(tmp_path / "nowhere")})
    assert missing.returncode == 3 and missing.stderr.startswith("Error: memory root")


def test_mem_watch_exits_when_the_root_is_deleted(seeded: Path) -> None:
    from .conftest import MEM_BIN

    process = subprocess.Popen([MEM_BIN, "watch"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().startswith("watching")
        shutil.rmtree(seeded)
        assert process.wait(timeout=TIMEOUT) == 3
        assert f"Error: the memory root {seeded} was deleted or moved" in process.stderr.read()  # type: ignore[union-attr]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# --- in-process use: mem mcp ------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--watch", "--no-watch"])
def test_mem_mcp_runs_the_watcher_in_process(seeded: Path, flag: str) -> None:
    import anyio
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    from .conftest import MEM_BIN

    params = StdioServerParameters(command=MEM_BIN, args=["mcp", flag], env={"MEM_ROOT": str(seeded)}, cwd=seeded)

    async def recall(client: Client, query: str) -> dict[str, Any]:
        result = await client.call_tool("recall", {"query": query})
        assert not result.is_error, result.content
        assert isinstance(result.structured_content, dict)
        return result.structured_content

    async def main() -> None:
        async with Client(params, read_timeout_seconds=60) as client:
            if flag == "--watch":
                deadline = time.monotonic() + TIMEOUT
                while (await recall(client, "auth"))["index"]["scanned"] != 0:
                    assert time.monotonic() < deadline, "the server's watcher never took over"
                    await anyio.sleep(0.05)  # it starts in the background; until then recall scans
            else:
                assert (await recall(client, "auth"))["index"]["scanned"] == 10
            for number in range(3):  # a person's edit is seen by the very next call
                write(seeded, f"architecture/auth/edited-{number}", entry_text(f"Edited {number}", f"pz{number}q"))
                hits = (await recall(client, f"pz{number}q"))["results"]
                assert [hit["path"] for hit in hits] == [f"architecture/auth/edited-{number}"]

    anyio.run(main)


def test_mem_watch_on_a_terminal_draws_a_live_status_line(seeded: Path) -> None:
    import pty
    import select
    import signal

    from .conftest import MEM_BIN

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [MEM_BIN, "watch"], stdin=terminal, stdout=terminal, stderr=terminal, env={**os.environ, "COLUMNS": "200"}
    )
    os.close(terminal)
    screen = b""

    def read_until(text: str) -> str:
        nonlocal screen
        deadline = time.monotonic() + TIMEOUT
        while text.encode() not in screen:
            assert time.monotonic() < deadline, screen.decode(errors="replace")
            ready, _, _ = select.select([controller], [], [], 0.1)
            if ready:
                try:
                    screen += os.read(controller, 65536)
                except OSError:  # the process closed the terminal
                    break
        return screen.decode(errors="replace")

    try:
        assert "10 entries" in read_until("0 problems")
        (seeded / "architecture/auth/note-0.md").unlink()
        shown = read_until("9 entries")
        assert "last change" in shown and "architecture/auth/note-0" in shown and "indexed" in shown
        process.send_signal(signal.SIGINT)
        assert "stopped" in read_until("stopped")
        assert process.wait(timeout=TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)


def test_mem_watch_help_does_not_import_watchdog(root: Path, tmp_path: Path) -> None:
    from .test_imports import imported_modules

    assert "watchdog" not in imported_modules(["watch", "--help"], tmp_path)
    assert "watchdog" not in imported_modules(["recall", "anything"], tmp_path)


# --- a watcher in another process: recalls ask it instead of scanning (core/barrier.py) ---------


def test_recall_in_another_process_trusts_a_running_mem_watch(seeded: Path) -> None:
    import signal

    from .conftest import MEM_BIN, run_mem

    def recall(query: str) -> dict[str, Any]:
        completed = run_mem("recall", query, "--json", "--max-tier", "fuzzy")
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout)["data"]

    assert recall("kangaroo")["index"]["scanned"] == 10  # no watcher yet: the recall scans
    process = subprocess.Popen(
        [MEM_BIN, "watch", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        read_json_lines(process, lambda event: event["data"]["event"] == "started")
        # Written just before the recall, long before the watcher's debounce would fire:
        # the barrier makes the watcher apply it first, and the recall skips its scan.
        write(seeded, "gotchas/zoo/kangaroo", entry_text("Kangaroo gotcha", "kangaroos box"))
        data = recall("kangaroo")
        assert data["index"]["scanned"] == 0
        assert [hit["path"] for hit in data["results"]] == ["gotchas/zoo/kangaroo"]
        (seeded / "gotchas/zoo/kangaroo.md").unlink()
        gone = recall("kangaroo")
        assert gone["index"]["scanned"] == 0 and gone["results"] == []
        process.send_signal(signal.SIGKILL)  # a dead watcher holds no lock: recalls scan again
        process.wait(timeout=TIMEOUT)
        write(seeded, "gotchas/zoo/wallaby", entry_text("Wallaby gotcha", "wallabies hop"))
        after = recall("wallaby")
        assert after["index"]["scanned"] == 11 and after["results"][0]["path"] == "gotchas/zoo/wallaby"
        assert not list((seeded / ".mem").glob(f"{marker_prefix(SCHEMA_VERSION)}*"))  # no marker left behind
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
