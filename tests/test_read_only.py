"""Reading never writes markdown: recalls and shows keep every file byte-identical and a git
working tree clean; usage lives in `.mem/state.db`, which is recreated if it is damaged."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from contextree import Memory

from .conftest import EXAMPLE, CliResult
from .gitutil import git, isolate_git
from .lifecycleutil import FakeClock

Mem = Callable[..., CliResult]
QUERIES = (
    "celery retries run twice",
    "pgbouncer prepared statements",
    "how do we roll back a deploy",
    "rotate stripe keys",
    "safari date parsing",
    "who is on call",
    "zero downtime migrations",
    "kubernetes liveness probe",
    "naive datetimes",
    "something the memory never heard of",
)


def markdown_digests(root: Path) -> dict[str, str]:
    return {
        str(file.relative_to(root)): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(root.rglob("*"))
        if file.is_file() and ".mem" not in file.relative_to(root).parts
    }


def test_100_recalls_and_shows_leave_markdown_identical_and_git_clean(
    mem: Mem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(monkeypatch, tmp_path)
    project = tmp_path / "project"
    memory_root = project / ".memory"
    shutil.copytree(EXAMPLE, memory_root, ignore=shutil.ignore_patterns(".mem"))
    assert (memory_root / ".gitignore").read_text().splitlines()[-1] == ".mem/"
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "project with its memory")
    before = markdown_digests(memory_root)
    paths = [entry["path"] for entry in mem("--root", str(memory_root), "--json", "list").data["entries"]]
    assert len(paths) == 59

    clock = FakeClock()
    api = Memory(memory_root, clock=clock)
    for number in range(50):
        query = QUERIES[number % len(QUERIES)]
        assert mem("--root", str(memory_root), "--json", "recall", query, "--used", paths[-1 - number]).code == 0
        api.recall(query)
        assert mem("--root", str(memory_root), "--json", "show", paths[number]).code == 0
        api.read(paths[-1 - number])
        clock.advance(hours=7)
    for command in (("tree",), ("list",), ("stats",), ("graph",), ("consolidate", "--dry-run", "--merge")):
        assert mem("--root", str(memory_root), *command).code == 0

    used = api.state().all_signals()
    assert sum(signal.hits for signal in used.values()) == 150  # the reads and confirmed uses were counted ...
    assert markdown_digests(memory_root) == before  # ... and no file was written
    assert git(project, "status", "--porcelain=v1", "--untracked-files=all", "--ignored=no") == ""
    assert (memory_root / ".mem" / "state.db").is_file()  # where the counts went


def test_a_corrupt_state_db_is_recreated_and_entries_are_untouched(root: Path, mem: Mem) -> None:
    memory = Memory(root)
    memory.add("gotchas/misc/note", "Celery retries run twice with long countdowns.", title="Retries")
    memory.read("gotchas/misc/note")
    memory.close()
    state = root / ".mem" / "state.db"
    for suffix in ("-wal", "-shm"):
        Path(str(state) + suffix).unlink(missing_ok=True)
    state.write_bytes(b"this is not a database" * 100)
    before = markdown_digests(root)

    result = mem("--json", "recall", "celery retries", "--used", "gotchas/misc/note")
    assert result.code == 0 and result.data["results"][0]["path"] == "gotchas/misc/note"
    shown = mem("--json", "show", "gotchas/misc/note").data
    assert shown["lifecycle"]["hits"] == 2  # counting started again from the recreated file
    assert markdown_digests(root) == before
    with sqlite3.connect(state) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert mem("--json", "stats").data["hits"] == 2


def test_state_follows_an_entry_that_moves(root: Path) -> None:
    memory = Memory(root)
    memory.add("gotchas/misc/note", "Text.", title="Note")
    memory.read("gotchas/misc/note")
    memory.move("gotchas/misc/note", "gotchas/misc/renamed")
    assert memory.state().signals(["gotchas/misc/renamed"])["gotchas/misc/renamed"].hits == 1
    assert memory.state().signals(["gotchas/misc/note"]) == {}
