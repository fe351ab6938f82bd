"""mem's own files under attack (docs/security.md, threats 1-3): links and special files
wherever mem reads or writes, and one bad thing staying one bad thing.

Every case here is one the security review's scripts (`shared/security/repro/`) do not try:
the same classes, other members. Each runs the real CLI (in-process or as a process, with a
timeout, for what could hang) on real files, FIFOs, hard links and SQLite databases.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from contextree import Memory
from contextree.core.barrier import lock_file
from contextree.core.errors import InvalidError
from contextree.core.files import EntryFiles, Listing
from contextree.core.index import INDEX_FILE, SCHEMA_VERSION
from contextree.core.safeio import read_regular, state_dir
from contextree.core.state import StateStore
from contextree.core.tree import Scan

from .conftest import CliResult, run_mem

Mem = Callable[..., CliResult]


def one_line_error(result: CliResult | subprocess.CompletedProcess[str]) -> str:
    """The error of a command that failed cleanly: one `Error:` line, no traceback."""
    stderr = result.stderr
    code = result.code if isinstance(result, CliResult) else result.returncode
    assert code not in (0, 1), stderr  # 1 is an unexpected failure (a bug)
    lines = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(file.relative_to(folder)): file.read_bytes() for file in sorted(folder.rglob("*")) if file.is_file()}


# --- links and special files -------------------------------------------------------------------


def test_a_symlinked_sidecar_of_the_usage_database_is_refused(root: Path, mem: Mem, tmp_path: Path) -> None:
    """SQLite's `nofollow` covers the database's own name, not its `-wal` file: a linked
    `-wal` would receive the usage counts' pages. Refused, the outside file untouched."""
    mem("add", "a/b/c", "hello world")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "wal").write_bytes(b"")
    state = root / ".mem" / "state.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    (root / ".mem" / "state.db-wal").symlink_to(outside / "wal")
    result = mem("show", "a/b/c")
    assert result.code == 0  # the entry is shown; only the count is refused
    assert "not counted" in result.stderr and "symlink" in result.stderr
    assert (outside / "wal").read_bytes() == b""
    assert not state.exists()


def test_a_hard_linked_index_is_set_aside_or_refused_never_written(root: Path, mem: Mem, tmp_path: Path) -> None:
    """A hard link is not a symlink, so `O_NOFOLLOW` does not see it: writing through it
    would change the other file. mem refuses it with one line."""
    mem("add", "a/b/c", "hello world")
    outside = tmp_path / "someone.db"
    conn = sqlite3.connect(outside)
    conn.execute("CREATE TABLE t(x)")
    conn.execute("INSERT INTO t VALUES ('precious')")
    conn.commit()
    conn.close()
    before = outside.read_bytes()
    index = root / ".mem" / INDEX_FILE
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    os.link(outside, index)
    result = mem("recall", "hello")
    assert "hard link" in one_line_error(result)
    assert outside.read_bytes() == before


def test_someone_elses_database_in_dotmem_is_set_aside_not_deleted(root: Path, mem: Mem) -> None:
    """A real file (not a link) that is a SQLite database but not mem's: mem proves nothing,
    so it renames it instead of deleting it, and builds its own index."""
    mem("add", "a/b/c", "hello world")
    index = root / ".mem" / INDEX_FILE
    for suffix in ("", "-wal", "-shm"):
        Path(f"{index}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(index)
    conn.execute("CREATE TABLE notes(x)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()
    result = mem("--json", "recall", "hello")
    assert result.code == 0 and result.data["results"][0]["path"] == "a/b/c"
    kept = [file for file in (root / ".mem").iterdir() if file.name.startswith(f"{INDEX_FILE}.set-aside-")]
    assert len(kept) == 1
    assert sqlite3.connect(kept[0]).execute("SELECT x FROM notes").fetchall() == [("keep me",)]


def test_a_fifo_as_the_write_lock_fails_at_once_and_blocks_nobody(root: Path) -> None:
    """The lock file itself as a FIFO: opening it for writing would wait for a reader for
    ever, with every writer of every process behind it."""
    os.mkfifo(root / ".mem" / "write.lock")
    completed = run_mem("add", "a/b/c", "text", env={"MEM_ROOT": str(root)}, timeout=30)
    assert "not a regular file" in one_line_error(completed)


def test_a_fifo_as_the_watch_lock_does_not_hang_recall(root: Path) -> None:
    """Every recall probes the watchers' lock file for a running watcher."""
    Memory(root).add("a/b/c", "hello world")
    os.mkfifo(lock_file(root, SCHEMA_VERSION))
    completed = run_mem("--json", "recall", "hello", env={"MEM_ROOT": str(root)}, timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["data"]["results"][0]["path"] == "a/b/c"


def test_an_overview_linked_to_dev_zero_is_decoration_lost_not_a_hang(root: Path, mem: Mem) -> None:
    mem("add", "a/b/c", "hello world")
    (root / "a" / "_index.md").symlink_to("/dev/zero")
    result = mem("--json", "tree")
    assert result.code == 0
    assert result.data["root"]["folders"][0]["title"] is None


def test_a_dotmemory_link_inside_its_folder_is_used_and_one_outside_needs_root(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "notes").mkdir(parents=True)
    Memory.init(project / "notes" / "memory")
    (project / ".memory").symlink_to("notes/memory")
    env = {"MEM_ROOT": ""}
    added = run_mem("add", "a/b/c", "inside link", env=env, cwd=project)
    assert added.returncode == 0, added.stderr
    assert (project / "notes" / "memory" / "a" / "b" / "c.md").is_file()

    elsewhere = tmp_path / "elsewhere"
    Memory.init(elsewhere)
    (tmp_path / "clone").mkdir()
    (tmp_path / "clone" / ".memory").symlink_to(elsewhere)
    refused = run_mem("list", env=env, cwd=tmp_path / "clone")
    assert "--root" in one_line_error(refused)
    explicit = run_mem("--root", str(tmp_path / "clone" / ".memory"), "list", env=env, cwd=tmp_path / "clone")
    assert explicit.returncode == 0, explicit.stderr  # naming it is opting in


def test_init_agent_refuses_a_link_inside_cursor_leading_out(tmp_path: Path, mem: Mem) -> None:
    """Not `.cursor` itself (the review's case) but `.cursor/rules` linked out of the project."""
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    (project / ".cursor").mkdir(parents=True)
    (project / ".cursor" / "rules").symlink_to(outside)
    Memory.init(project / ".memory")
    os.chdir(project)
    result = mem("--root", str(project / ".memory"), "init", "--agent", "cursor")
    assert "outside the project" in one_line_error(result)
    assert list(outside.iterdir()) == []
    assert not (project / ".cursor" / "mcp.json").exists()  # nothing written before the refusal


def test_a_fifo_agents_file_is_refused_without_blocking(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    Memory.init(project / ".memory")
    os.mkfifo(project / "AGENTS.md")
    completed = run_mem("init", "--agent", "codex", env={"MEM_ROOT": ""}, cwd=project, timeout=30)
    assert "not a regular file" in one_line_error(completed)


def test_archive_as_a_symlink_is_refused_and_reported(root: Path, mem: Mem, tmp_path: Path) -> None:
    mem("add", "a/b/c", "hello")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "_archive").symlink_to(outside)
    assert "symlink" in one_line_error(mem("forget", "a/b/c"))
    assert list(outside.iterdir()) == [] and (root / "a/b/c.md").is_file()
    report = mem("--json", "doctor")
    assert report.code == 9
    assert any(f["kind"] == "layout" and f["file"] == "_archive" for f in report.json["data"]["findings"])


def test_dotmem_as_a_symlink_is_reported_and_set_aside_by_doctor_fix(root: Path, mem: Mem, tmp_path: Path) -> None:
    mem("add", "a/b/c", "hello")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    state = root / ".mem"
    for item in state.iterdir():
        item.unlink()
    state.rmdir()
    state.symlink_to(elsewhere)
    assert "symlink" in one_line_error(mem("recall", "hello"))
    assert list(elsewhere.iterdir()) == []
    assert mem("doctor").code == 9
    assert mem("doctor", "--fix").code == 0
    assert state.is_dir() and not state.is_symlink()
    assert mem("recall", "hello").code == 0
    assert list(elsewhere.iterdir()) == []


def test_read_regular_refuses_links_fifos_devices_and_oversize(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"12345")
    (tmp_path / "link").symlink_to(tmp_path / "file")
    os.mkfifo(tmp_path / "fifo")
    assert read_regular(tmp_path / "file", 5) == b"12345"
    for name, reason in (("link", "symlink"), ("fifo", "not a regular file")):
        with pytest.raises(InvalidError, match=reason):
            read_regular(tmp_path / name, 100)
    with pytest.raises(InvalidError, match="not a regular file"):
        read_regular(Path("/dev/zero"), 100)
    with pytest.raises(InvalidError, match="limit"):
        read_regular(tmp_path / "file", 4)
    (tmp_path / "dir").mkdir()
    (tmp_path / "sub").symlink_to(tmp_path / "dir")
    (tmp_path / "dir" / "x").write_bytes(b"x")
    with pytest.raises(InvalidError, match="symlink"):
        read_regular(tmp_path / "sub" / "x", 10, root=tmp_path)
    (tmp_path / ".mem").write_text("a file")
    with pytest.raises(InvalidError, match="not a folder"):
        state_dir(tmp_path)


# --- one bad thing stays one bad thing ---------------------------------------------------------


def test_an_out_of_range_updated_date_is_one_format_problem(root: Path, mem: Mem) -> None:
    """`updated:` (the review tried `created:`) at the other end of the range."""
    mem("add", "a/b/good", "hello world")
    (root / "a/b/bad.md").write_text("---\ntitle: t\nupdated: 0001-01-01T00:00:00+01:00\n---\nhello\n")
    for args in (("list",), ("recall", "hello"), ("stats",), ("tree",)):
        result = mem("--json", *args)
        assert result.code == 0, (args, result.stderr)
        warnings = [w for w in result.json["warnings"] if "a/b/bad" in w]
        assert len(warnings) == 1, (args, result.json["warnings"])


def test_any_parser_failure_of_an_entry_is_its_format_problem(root: Path, mem: Mem) -> None:
    """A value PyYAML builds that the validator cannot handle: a date as a mapping key."""
    mem("add", "a/b/good", "hello world")
    (root / "a/b/odd.md").write_text("---\ntitle: t\ntags: {2026-01-01: x}\nrelated: [{a: b}]\n---\nbody\n")
    result = mem("--json", "list")
    assert result.code == 0 and [e["path"] for e in result.data["entries"]] == ["a/b/good"]


def test_a_duplicate_key_anywhere_in_the_frontmatter_is_a_format_problem(root: Path, mem: Mem) -> None:
    mem("add", "a/b/good", "hello world")
    (root / "a/b/dup.md").write_text("---\ntitle: t\nimportance: 10\nsummary: s\nimportance: 99\n---\nbody\n")
    result = mem("--json", "list")
    assert any("a/b/dup" in w and "duplicate key" in w for w in result.json["warnings"])
    doctor = mem("--json", "doctor")
    assert any(f["file"] == "a/b/dup.md" and f["kind"] == "malformed" for f in doctor.json["data"]["findings"])


def test_mv_of_a_folder_holding_a_binary_file_moves_nothing_and_leaves_no_journal(root: Path, mem: Mem) -> None:
    mem("add", "a/b/one", "first")
    mem("add", "a/b/two", "second")
    (root / "a/b/bin.md").write_bytes(b"---\ntitle: t\n---\n\xff\xfe binary\n")
    before = snapshot(root / "a")
    assert "nothing was moved" in one_line_error(mem("mv", "a/b", "a/c"))
    assert snapshot(root / "a") == before
    assert not os.path.lexists(root / ".mem" / "move.journal")
    assert mem("add", "x/y/z", "later write").code == 0


@pytest.mark.parametrize(
    "pairs",
    [
        [["a/b/one", "a/b/two"], ["a/b/two", "a/b/three"]],  # a chain: a target that is another source
        [["a/b/one", "a/c/one"], ["a/b/one", "a/d/one"]],  # one source, two targets
    ],
)
def test_a_crafted_journal_is_set_aside_and_touches_nothing(root: Path, mem: Mem, pairs: list[list[str]]) -> None:
    mem("add", "a/b/one", "first")
    mem("add", "a/b/two", "second")
    before = snapshot(root / "a")
    journal = root / ".mem" / "move.journal"
    journal.write_text(json.dumps({"version": 1, "subject": "x", "pairs": pairs}))
    result = mem("add", "x/y/z", "an unrelated write")
    assert result.code == 0
    assert "could not be finished" in result.stderr and "set-aside" in result.stderr
    assert {k: v for k, v in snapshot(root / "a").items()} == before
    assert not journal.exists()
    assert len([f for f in (root / ".mem").iterdir() if f.name.startswith("move.journal.set-aside-")]) == 1


def test_a_journal_that_is_a_folder_does_not_block_writes(root: Path, mem: Mem) -> None:
    (root / ".mem" / "move.journal").mkdir()
    assert mem("add", "a/b/c", "text").code == 0
    assert mem("update", "a/b/c", "--append", "more").code == 0


def test_a_full_database_keeps_the_usage_counts(root: Path) -> None:
    """SQLITE_FULL, for real: the database may not grow by another page. The use is not
    counted, the counts already there stay, and nothing is recreated."""
    memory = Memory(root)
    for index in range(3):
        memory.add(f"a/b/e{index}", f"entry {index}")
        memory.read(f"a/b/e{index}")
    memory.close()
    store = StateStore(root)
    conn = store._connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    message = store.record([f"x/y/{'n' * 200}{index}" for index in range(500)], 1.0)
    assert message is not None and "no space" in message
    store.close()
    counts = StateStore(root).all_signals()
    assert all(counts[f"a/b/e{i}"].hits == 1 for i in range(3))
    assert 3 < len(counts) < 503  # the uses counted before the disk filled stay too
    assert not [file for file in (root / ".mem").iterdir() if "set-aside" in file.name]


def test_a_relink_of_a_merge_keeps_an_edit_saved_meanwhile(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`consolidate --merge` (the review scripted `mv`): an editor saves the linking entry
    between the relink's listing and its rewrite. The save is kept and the link rewritten."""
    memory = Memory(root)
    body = "celery retries run the task twice when the visibility timeout is shorter than the eta " * 3
    memory.add("ops/celery/first", body, title="Celery retries duplicate", importance=80, maturity="validated")
    memory.add("ops/celery/second", body + "again", title="Celery retries duplicate", importance=40)
    memory.add("ops/misc/linker", "see the celery note", related=["ops/celery/second"])
    linker = root / "ops/misc/linker.md"
    original_relink = EntryFiles.relink
    original_load = EntryFiles.load
    saved: list[bool] = []

    def relink(self: EntryFiles, mapping: dict[str, str], skip: set[str]) -> list[Path]:
        def load_then_save(inner: EntryFiles, scan: Scan) -> Listing:
            listing = original_load(inner, scan)
            if not saved:
                with linker.open("a") as handle:
                    handle.write("\nsaved by a person meanwhile\n")
                saved.append(True)
            return listing

        monkeypatch.setattr(EntryFiles, "load", load_then_save)
        try:
            return original_relink(self, mapping, skip)
        finally:
            monkeypatch.setattr(EntryFiles, "load", original_load)

    monkeypatch.setattr(EntryFiles, "relink", relink)
    result = memory.consolidate(merge=True)
    assert [o.path for o in result.outcomes if o.action == "merge" and o.done] == ["ops/celery/second"]
    assert saved
    text = linker.read_text()
    assert "saved by a person meanwhile" in text
    assert Memory(root).get("ops/misc/linker").related == ("ops/celery/first",)


def test_databases_open_in_a_root_whose_path_needs_escaping_in_a_uri(tmp_path: Path) -> None:
    """SQLite is given `file:` URIs (for `nofollow=1`): `?`, `#` and `%` in the path must not
    end the path or be decoded on the way."""
    root = tmp_path / "odd ?#%25 name" / ".memory"
    Memory.init(root)
    memory = Memory(root)
    memory.add("a/b/c", "hello world")
    assert [hit.path for hit in memory.recall("hello").results] == ["a/b/c"]
    assert (root / ".mem" / INDEX_FILE).is_file() and (root / ".mem" / "state.db").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "odd ?#%25 name"]  # home: conftest


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """Make a folder read-only for this process: a read-only bind mount when running as root
    (root ignores file modes), `chmod -R a-w` otherwise. Yields a function returning the
    read-only view of a folder."""
    mounts: list[Path] = []
    chmodded: list[Path] = []

    def make(folder: Path) -> Path:
        if os.geteuid() != 0:
            subprocess.run(["chmod", "-R", "a-w", str(folder)], check=True)
            chmodded.append(folder)
            return folder
        view = tmp_path / f"ro-{len(mounts)}"
        view.mkdir()
        bind = subprocess.run(["mount", "--bind", str(folder), str(view)], capture_output=True, check=False)
        if bind.returncode != 0:
            pytest.skip("running as root without permission to mount")
        mounts.append(view)
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(view)], check=False).returncode != 0:
            pytest.skip("cannot remount read-only")
        return view

    yield make
    for view in mounts:
        subprocess.run(["umount", str(view)], check=False)
    for folder in chmodded:
        subprocess.run(["chmod", "-R", "u+w", str(folder)], check=False)


def test_a_read_only_memory_with_a_stale_index_answers_from_the_files(
    tmp_path: Path, read_only: Callable[[Path], Path]
) -> None:
    """The review's case had a current index. Here an entry arrived after the last recall
    (a checkout), so the stored index cannot be used as it is and cannot be updated: recall
    builds a private index in memory and finds the new entry; a write fails with one line."""
    source = tmp_path / "memory-src"
    Memory.init(source)
    memory = Memory(source)
    memory.add("a/b/old", "deploys are blue green")
    memory.recall("deploys")
    memory.close()
    (source / "a/b/new.md").write_text("---\ntitle: Rollback\n---\nthe rollback runs helm rollback\n")
    root = read_only(source)
    env = {"MEM_ROOT": str(root)}
    found = run_mem("--json", "recall", "helm rollback", env=env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["data"]["results"][0]["path"] == "a/b/new"
    shown = run_mem("show", "a/b/old", env=env)
    assert shown.returncode == 0 and "not counted" in shown.stderr
    one_line_error(run_mem("add", "a/b/third", "text", env=env))
