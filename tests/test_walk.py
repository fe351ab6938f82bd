"""The walk of the tree that every recall without a watcher starts with (core/tree.py), and
its helper process: on a large tree, half of the folders are walked by a forked child. The
helper may only change how fast the walk is, never what it finds."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from contextree import Memory
from contextree.core import tree as tree_module
from contextree.core.tree import EntryWalk, folder_fingerprint, walk_entry_folders

from .conftest import EXAMPLE

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the walk forks a helper on Linux only")


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Let every walk that expects a file use a helper, and record the helpers' pids."""
    monkeypatch.setattr(tree_module, "HELPER_MIN_FILES", 1)
    monkeypatch.setattr(tree_module, "HELPER_MIN_FOLDERS", 2)
    # The test runner may have threads of its own (pytest-xdist): the helper only lists
    # folders and exits, so forking beside them is safe here.
    monkeypatch.setattr(tree_module, "_may_fork", lambda: True)
    pids: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(tree_module.os, "fork", fork)
    return pids


def messy_tree(root: Path) -> Path:
    """Many folders, and every kind of file a walk skips or reports."""
    for domain in range(6):
        for topic in range(5):
            folder = root / f"d{domain}" / f"t{topic}"
            folder.mkdir(parents=True)
            for entry in range(domain + topic):
                (folder / f"e{entry}.md").write_text(f"# {domain} {topic} {entry}\n" * (entry + 1))
            (folder / "s").mkdir()
            (folder / "s" / "deep.md").write_text("# in a subtopic\n")
    extras = {
        "d0/t0/Bad Name.md": "x",
        "d0/t0/_index.md": "# overview",
        "d0/t0/.swap.md": "hidden",
        "d0/t0/notes.txt": "an attachment",
        "d0/loose.md": "too shallow",
        "d1/t1/s/x/too-deep.md": "too deep",
        "d2/Bad Folder/e.md": "x",
        "README.md": "not an entry",
        "_archive/a/b/old.md": "archived",
        ".git/a/b/c.md": "hidden folder",
    }
    for relative, text in extras.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    (root / "d3" / "t0" / "folder-named.md").mkdir()
    (root / "d3" / "t1" / "link.md").symlink_to(root / "d0" / "t1" / "e0.md")
    (root / "d3" / "t2" / "linked-folder").symlink_to(root / "d0", target_is_directory=True)
    os.mkfifo(root / "d4" / "t1" / "pipe.md")
    return root


def seen(walk: EntryWalk) -> tuple[object, ...]:
    """Everything a walk tells the index (the helper's folders are listed again on demand)."""
    return walk.prints, walk.problems, walk.files, {folder: walk.records(folder) for folder in walk.prints}


def test_a_walk_with_a_helper_finds_exactly_what_one_without_finds(tmp_path: Path, forks: list[int]) -> None:
    root = messy_tree(tmp_path / "memory")
    alone = walk_entry_folders(root, expected_files=0)
    assert forks == []
    shared = walk_entry_folders(root, expected_files=1)
    assert len(forks) == 1
    assert list(shared.prints) == list(alone.prints)  # the same folders, in the same order
    assert shared.prints == alone.prints and shared.fingerprint() == alone.fingerprint()
    assert len(shared.held) < len(alone.held)  # the helper's half came back as fingerprints only
    assert seen(shared) == seen(alone)
    assert len(alone.prints) == 6 * 5 * 2 - 1  # every topic and subtopic with an entry (d0/t0 has none)
    assert alone.files == sum(domain + topic for domain in range(6) for topic in range(5)) + 30
    assert {problem.file for problem in alone.problems} >= {
        "d0/t0/Bad Name.md",
        "d0/loose.md",
        "d1/t1/s/x/",
        "d2/Bad Folder/",
        "d3/t0/folder-named.md/",
        "d3/t1/link.md",
        "d3/t2/linked-folder",
        "d4/t1/pipe.md",
    }
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # the helper was reaped


@pytest.mark.parametrize("failure", ["raises", "garbage", "killed"])
def test_a_helper_that_fails_leaves_its_share_to_the_walk(
    tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    root = messy_tree(tmp_path / "memory")
    alone = walk_entry_folders(root, expected_files=0)

    def send(pipe: int, found: object) -> None:
        if failure == "raises":
            raise OSError("no space left on device")
        if failure == "killed":
            os.kill(os.getpid(), 9)
        os.write(pipe, b"\x00not what marshal wrote")
        os.close(pipe)

    monkeypatch.setattr(tree_module, "_send", send)
    shared = walk_entry_folders(root, expected_files=1)
    assert seen(shared) == seen(alone)
    assert shared.held == alone.held  # everything was walked here
    assert len(forks) == 1


def test_a_folder_the_helper_listed_is_listed_again_when_its_records_are_needed(
    tmp_path: Path, forks: list[int]
) -> None:
    root = messy_tree(tmp_path / "memory")
    walk = walk_entry_folders(root, expected_files=1)
    theirs = next(folder for folder in walk.prints if folder not in walk.held)
    # Changed after the walk, before the index asks for the folder's records.
    first = sorted(root.joinpath(*theirs.split("/")).glob("*.md"))[0]
    first.write_text(first.read_text() + "more\n")
    records = walk.records(theirs)
    assert walk.prints[theirs] == folder_fingerprint(records)
    assert walk.fingerprint() == walk_entry_folders(root, expected_files=0).fingerprint()


def test_an_interrupted_walk_stops_its_helper(
    tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = messy_tree(tmp_path / "memory")
    parent = os.getpid()
    real_drain = tree_module._Walker.drain

    def drain(walker: tree_module._Walker, pending: list[tuple[str, str]]) -> None:
        if os.getpid() == parent:
            raise KeyboardInterrupt
        real_drain(walker, pending)

    monkeypatch.setattr(tree_module._Walker, "drain", drain)
    with pytest.raises(KeyboardInterrupt):
        walk_entry_folders(root, expected_files=1)
    assert len(forks) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # killed and reaped, not left running


def changes_seen(memory: Memory, root: Path, recall: Callable[[str], list[str]]) -> None:
    file = root / "gotchas" / "zoo" / "quokka.md"
    file.parent.mkdir(parents=True)
    file.write_text("---\ntitle: Quokka marsupials\n---\nQuokkas move south in June.\n")
    assert recall("quokka marsupials")[:1] == ["gotchas/zoo/quokka"]
    # Edited in place, same size: only the file's own inode says so.
    file.write_text(file.read_text().replace("south", "north"))
    os.utime(file, ns=(file.stat().st_atime_ns, file.stat().st_mtime_ns + 1_000_000))
    assert "north" in memory.recall("quokka marsupials").results[0].snippet
    (root / "gotchas" / "animals").mkdir()
    file.rename(root / "gotchas" / "animals" / "quokka.md")
    assert recall("quokka marsupials")[:1] == ["gotchas/animals/quokka"]
    (root / "gotchas" / "animals" / "quokka.md").unlink()
    assert recall("quokka marsupials") == []


def test_the_index_sees_every_change_through_a_helper(root: Path, forks: list[int]) -> None:
    shutil.copytree(EXAMPLE, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".mem"))
    memory = Memory(root)

    def recall(query: str) -> list[str]:
        return [result.path for result in memory.recall(query).results]

    assert recall("pgbouncer prepared statements")  # builds the index (no helper: nothing indexed yet)
    assert forks == []
    changes_seen(memory, root, recall)
    assert len(forks) >= 4  # every later recall walked with a helper


def test_a_fingerprint_depends_on_the_records_only() -> None:
    """marshal marks objects that have other references; the fingerprint must not see that
    (the helper's fingerprint and the parent's, of the same files, must be equal)."""
    records = [("a/b/c", 1_796_213_636_568_281_829, 8), ("a/b/d", 1_796_213_636_568_281_830, 8)]
    held_elsewhere = {"a/b": records}
    assert folder_fingerprint(held_elsewhere["a/b"]) == folder_fingerprint([(p, m, s) for p, m, s in records])
    assert folder_fingerprint(records) != folder_fingerprint(list(reversed(records)))


def test_the_helper_is_used_only_with_a_core_to_spare_and_no_other_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree_module.os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(tree_module.threading, "active_count", lambda: 1)
    monkeypatch.setattr(tree_module.os, "getloadavg", lambda: (0.4, 0.4, 0.4))
    assert tree_module._may_fork()
    monkeypatch.setattr(tree_module.os, "getloadavg", lambda: (3.2, 0.4, 0.4))  # both cores busy
    assert not tree_module._may_fork()
    monkeypatch.setattr(tree_module.os, "getloadavg", lambda: (0.4, 0.4, 0.4))
    monkeypatch.setattr(tree_module.threading, "active_count", lambda: 2)  # a watcher, a server
    assert not tree_module._may_fork()
    monkeypatch.setattr(tree_module.threading, "active_count", lambda: 1)
    monkeypatch.setattr(tree_module.os, "sched_getaffinity", lambda _pid: {0})
    assert not tree_module._may_fork()
