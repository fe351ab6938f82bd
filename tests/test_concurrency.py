"""Concurrent writers lose nothing and leave no partial or temporary files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from contextree import Memory
from contextree.core.index import INDEX_FILE

WORKER = textwrap.dedent(
    """
    import sys
    from contextree import Memory
    worker, workers, per_worker = (int(v) for v in sys.argv[1:4])
    memory = Memory(sys.argv[4])
    for i in range(per_worker):
        memory.add(f"conc/w{worker}/e{i}", f"written by {worker}", tags=[f"w{worker}"])
    neighbour = (worker + 1) % workers
    for i in range(per_worker):
        # The neighbour may not have written it yet: retry until it exists.
        while True:
            try:
                memory.update(f"conc/w{neighbour}/e{i}", append=f"appended by {worker}")
                break
            except Exception as error:
                if "no entry" not in str(error):
                    raise
    """
)


def run_writers(root: Path, workers: int, per_worker: int, script: str = WORKER) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(w), str(workers), str(per_worker), str(root)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    for process in processes:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err


def test_eight_processes_add_and_update_200_entries(root: Path) -> None:
    workers, per_worker = 8, 25
    run_writers(root, workers, per_worker)

    listing = Memory(root).list()
    assert listing.problems == ()
    assert len(listing.entries) == workers * per_worker
    for entry in listing.entries:
        owner = int(entry.path.split("/")[1][1:])
        appender = (owner - 1) % workers
        assert entry.body == f"written by {owner}\n\nappended by {appender}\n", entry.path
        assert entry.importance == 55
    expected = {".gitignore", "config.yaml"}
    leftovers = [
        p
        for p in root.rglob("*")
        if p.is_file()
        and ".mem" not in p.relative_to(root).parts
        and not p.name.endswith(".md")
        and p.name not in expected
    ]
    assert leftovers == []  # no temporary files


HOT_WORKER = WORKER + textwrap.dedent(
    """
    for i in range(per_worker):
        memory.update("conc/shared/hot", append=f"w{worker} #{i}")
    """
)


def test_sixteen_processes_on_one_tree_lose_nothing(root: Path) -> None:
    """16 writers at once: each adds its entries, updates its neighbour's, and all of them
    append to one shared entry. Every add and every append must be there exactly once."""
    workers, per_worker = 16, 6
    Memory(root).add("conc/shared/hot", "shared", importance=0)
    run_writers(root, workers, per_worker, HOT_WORKER)

    listing = Memory(root).list()
    assert listing.problems == ()
    assert len(listing.entries) == workers * per_worker + 1
    hot = Memory(root).get("conc/shared/hot")
    appended = [line for line in hot.body.splitlines() if line.startswith("w")]
    assert sorted(appended) == sorted(f"w{w} #{i}" for w in range(workers) for i in range(per_worker))
    for w in range(workers):  # one writer's appends stay in its own order
        own = [line for line in appended if line.startswith(f"w{w} #")]
        assert own == [f"w{w} #{i}" for i in range(per_worker)]
    for entry in listing.entries:
        if entry.path == "conc/shared/hot":
            continue
        owner = int(entry.path.split("/")[1][1:])
        assert entry.body == f"written by {owner}\n\nappended by {(owner - 1) % workers}\n", entry.path
    report = Memory(root).doctor()
    assert report.errors == 0 and not [f for f in report.findings if f.kind == "stale-temp"]  # no debris


def test_update_refuses_when_the_file_changed_underneath(memory: Memory, root: Path, monkeypatch) -> None:
    """An editor saving between our read and our write must not lose its edit."""
    from contextree.core.files import EntryFiles

    memory.add("a/b/c", "original")
    file = root / "a" / "b" / "c.md"
    real_validated = EntryFiles.validated

    def editor_saves_meanwhile(self: EntryFiles, entry):  # runs between read and write
        file.write_text(file.read_text().replace("original", "edited by a person"))
        return real_validated(self, entry)

    monkeypatch.setattr(EntryFiles, "validated", editor_saves_meanwhile)
    import pytest
    from contextree.core.errors import ConflictError

    with pytest.raises(ConflictError, match="changed while"):
        memory.update("a/b/c", append="agent text")
    assert "edited by a person" in file.read_text()
    assert "agent text" not in file.read_text()


def test_a_second_memory_in_one_process_keeps_the_first_ones_database_locks(tmp_path: Path) -> None:
    """`mem mcp` holds its watcher's connections while each tool call opens the memory again.
    Opening must not release the locks SQLite holds for the first connection (closing any
    descriptor of a file drops all of a process's POSIX locks on it): another process would
    then take itself for the last user and remove the journal under it (then "database disk
    image is malformed")."""
    root = tmp_path / "memory"
    Memory.init(root)
    first = Memory(root)
    first.add("notes/misc/one", "quokka one")
    first.recall("quokka")  # the index is open
    first.confirm_use(["notes/misc/one"])  # and the usage counts
    journals = [root / ".mem" / f"{INDEX_FILE}-wal", root / ".mem" / "state.db-wal"]
    assert all(journal.exists() for journal in journals)
    second = Memory(root)
    second.recall("quokka")
    second.confirm_use(["notes/misc/one"])
    other_process = (
        "import sqlite3, sys\n"
        "for path in sys.argv[1:]:\n"
        "    sqlite3.connect(path).execute('PRAGMA user_version').fetchone()\n"
    )
    subprocess.run(
        [sys.executable, "-c", other_process, str(root / ".mem" / INDEX_FILE), str(root / ".mem" / "state.db")],
        check=True,
    )
    assert all(journal.exists() for journal in journals), "another process removed a journal still in use"
    first.add("notes/misc/two", "quokka two")
    assert sorted(hit.path for hit in first.recall("quokka").results) == ["notes/misc/one", "notes/misc/two"]
