"""SIGKILL in the middle of writes: no partial entry, no lost entry, and the next command
recovers (the OS drops the dead writer's lock; an interrupted mv is finished from its journal).

Two kinds of test: a worker doing `add`, `update` or `mv` in a loop, killed at random
moments many times; and a writer paused at an exact point inside a write (the test-only
`MEM_TEST_PAUSE_AT` checkpoints in core/store.py) and killed there.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from contextree import Memory
from contextree.core.errors import ConflictError
from contextree.core.index import INDEX_FILE
from contextree.core.journal import journal_file
from contextree.core.store import TEMP_NAME_RE

KILLS = 30  # per operation
FOLDER = [f"e{i}" for i in range(4)]

WORKER = textwrap.dedent(
    """
    import sys
    from contextree import Memory

    operation, root, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    memory = Memory(root)
    print("ready", flush=True)
    i = start
    while True:
        if operation == "add":
            memory.add(f"crash/add/e{i}", f"entry {i}\\n" + "padding line\\n" * 50)
        elif operation == "update":
            memory.update("crash/upd/target", append=f"line {i}")
        elif operation == "mv":
            source, target = ("crash/left", "crash/right") if i % 2 == 0 else ("crash/right", "crash/left")
            memory.move(source, target)
        print(i, flush=True)
        i += 1
    """
)


def start_worker(root: Path, operation: str, start: int, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, operation, str(root), str(start)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line == "ready\n", (line, process.stderr.read() if process.stderr else "")
    return process


def kill(process: subprocess.Popen[str]) -> list[int]:
    """SIGKILL the worker; return the operations it acknowledged as done."""
    process.send_signal(signal.SIGKILL)
    # Read through the same text streams as start_worker and kill_mid_work did: communicate()
    # reads the raw pipe and would drop lines those streams already buffered.
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL, err
    return [int(line) for line in out.split()]


def kill_mid_work(root: Path, operation: str, start: int, rng: random.Random) -> list[int]:
    """Start a worker, wait (bounded) until it has acknowledged its first operation, then kill
    it at a random moment of the next ones. The delay is a random fraction of the time the
    first operation took, so the kill lands inside the work on a fast or a slow machine alike,
    and every round has at least one acknowledged write to check."""
    worker = start_worker(root, operation, start)
    assert worker.stdout is not None
    started = time.monotonic()
    first = worker.stdout.readline()  # the worker writes in a loop: this returns within one operation
    took = time.monotonic() - started
    assert first.strip().isdigit(), (first, worker.stderr.read() if worker.stderr else "")
    time.sleep(rng.uniform(0, 2 * took))
    return [int(first), *kill(worker)]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll until `condition()` holds: proof that a process is inside the work to interrupt."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.005)


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*.tmp") if TEMP_NAME_RE.fullmatch(p.name)]


@pytest.fixture
def quick_lock(root: Path) -> Path:
    """A short lock timeout: if a killed writer's lock outlived it, the next write would fail."""
    (root / "config.yaml").write_text("limits:\n  lock_timeout_seconds: 3\n")
    return root


def assert_next_write_works(root: Path) -> None:
    # With the quick lock, a lock that outlived its killed holder makes this raise
    # ConflictError: no clock is needed to see it.
    Memory(root).add(f"crash/next/n{time.monotonic_ns()}", "the next command works")


def test_kill_during_add_loses_nothing(quick_lock: Path) -> None:
    root = quick_lock
    rng = random.Random(1)
    acknowledged: set[int] = set()
    seen: set[int] = set()  # present after an earlier kill (the one in flight then, if complete)
    next_index = 0
    for _ in range(KILLS):
        acknowledged |= set(kill_mid_work(root, "add", next_index, rng))
        listing = Memory(root).list("crash/add")
        assert listing.problems == ()  # nothing half-written
        present = {int(entry.path.rsplit("e", 1)[1]) for entry in listing.entries}
        assert acknowledged <= present  # nothing acknowledged was lost
        assert present - acknowledged - seen <= {max(present, default=-1)}  # at most the one in flight
        seen = present
        for entry in listing.entries:
            assert entry.body.startswith(f"entry {entry.path.rsplit('e', 1)[1]}\n")
            assert entry.body.count("padding line") == 50
        next_index = max(present, default=-1) + 1
        assert_next_write_works(root)
    assert len(acknowledged) > 0
    report = Memory(root).doctor(fix=True)
    assert temp_files(root) == []
    assert all(f.fixed for f in report.findings if f.kind == "stale-temp")


def test_kill_during_update_keeps_the_old_or_the_new_text(quick_lock: Path) -> None:
    root = quick_lock
    Memory(root).add("crash/upd/target", "line 0")
    rng = random.Random(2)
    last = 0
    for _ in range(KILLS):
        done = kill_mid_work(root, "update", last + 1, rng)
        entry = Memory(root).get("crash/upd/target")
        lines = [line for line in entry.body.split("\n") if line]
        assert lines == [f"line {i}" for i in range(len(lines))]  # complete and in order
        written = len(lines) - 1
        assert written >= (done[-1] if done else last)  # nothing acknowledged lost
        assert written <= (done[-1] if done else last) + 1  # at most the one in flight
        last = written
        assert_next_write_works(root)


def test_kill_during_mv_never_loses_an_entry(quick_lock: Path) -> None:
    root = quick_lock
    memory = Memory(root)
    for name in FOLDER:
        # Each entry links to the next, and a hub links to all: a move rewrites links too.
        neighbour = FOLDER[(FOLDER.index(name) + 1) % len(FOLDER)]
        memory.add(f"crash/left/{name}", f"{name} body", related=[f"crash/left/{neighbour}"])
    memory.add("crash/links/hub", "hub", related=[f"crash/left/{name}" for name in FOLDER])
    rng = random.Random(3)
    moves = 0
    for _ in range(KILLS):
        moves += len(kill_mid_work(root, "mv", moves, rng))
        for name in FOLDER:
            places = [side for side in ("left", "right") if (root / f"crash/{side}/{name}.md").is_file()]
            assert places, f"{name} is lost"
        assert Memory(root).list("crash").problems == ()
        # The next writer finishes an interrupted move: afterwards every entry is in one place
        # and every link points at an entry that exists.
        assert_next_write_works(root)
        assert not journal_file(root).exists()
        sides = {side for name in FOLDER for side in ("left", "right") if (root / f"crash/{side}/{name}.md").is_file()}
        assert len(sides) == 1, sides
        side = sides.pop()
        moves = 0 if side == "left" else 1
        for entry in Memory(root).list("crash").entries:
            for link in entry.related:
                assert (root / f"{link}.md").is_file(), (entry.path, link)
    assert Memory(root).doctor().errors == 0


# --- a kill at an exact point ----------------------------------------------------------


def paused_worker(root: Path, operation: str, start: int, checkpoint: str) -> subprocess.Popen[str]:
    process = start_worker(root, operation, start, env={"MEM_TEST_PAUSE_AT": checkpoint})
    assert process.stderr is not None
    line = process.stderr.readline()
    assert line.startswith(f"mem-test-paused {checkpoint} "), line
    return process


def test_a_writer_killed_while_holding_the_lock_does_not_block_the_next(quick_lock: Path) -> None:
    root = quick_lock
    worker = paused_worker(root, "add", 0, "temp-written")
    # While it is alive (and paused inside `add`), it holds the lock: others wait, then give up.
    blocked = Memory(root)
    with pytest.raises(ConflictError, match="another mem process held"):
        blocked.add("crash/other/x", "waits for the lock")
    kill(worker)
    assert (root / ".mem" / "write.lock").exists()  # the lock file stays; the OS lock is gone
    assert_next_write_works(root)


def test_kill_after_the_temp_file_of_an_add(quick_lock: Path) -> None:
    root = quick_lock
    kill(paused_worker(root, "add", 0, "temp-written"))
    assert not (root / "crash/add/e0.md").exists()  # never half an entry
    assert len(temp_files(root)) == 1
    Memory(root).add("crash/add/e0", "written again")  # the path is free
    assert Memory(root).list().problems == ()  # the debris is invisible to readers
    report = Memory(root).doctor(fix=True)
    assert [f.kind for f in report.findings if f.fixed] == ["stale-temp"]
    assert temp_files(root) == []


def test_kill_after_the_temp_file_of_an_update(quick_lock: Path) -> None:
    root = quick_lock
    Memory(root).add("crash/upd/target", "line 0")
    before = (root / "crash/upd/target.md").read_bytes()
    kill(paused_worker(root, "update", 1, "temp-written"))
    assert (root / "crash/upd/target.md").read_bytes() == before
    assert_next_write_works(root)


@pytest.mark.parametrize("checkpoint", ["journaled", "linked", "copied", "relinked"])
def test_kill_inside_a_move_is_finished_by_the_next_writer(checkpoint: str, quick_lock: Path) -> None:
    root = quick_lock
    memory = Memory(root)
    memory.add("crash/left/e0", "zero", related=["crash/left/e1"])  # moved and relinked: `copied`
    memory.add("crash/left/e1", "one")  # moved as is: `linked`
    memory.add("crash/links/hub", "hub", related=["crash/left/e0", "crash/left/e1"])  # `relinked`
    kill(paused_worker(root, "mv", 0, checkpoint))
    assert journal_file(root).exists()
    for name in ("e0", "e1"):
        assert (root / f"crash/left/{name}.md").is_file() or (root / f"crash/right/{name}.md").is_file()
    assert Memory(root).doctor().errors >= 1  # the interrupted move is reported

    assert_next_write_works(root)
    assert not journal_file(root).exists()
    assert not (root / "crash/left").exists() or not any((root / "crash/left").iterdir())
    memory = Memory(root)
    assert memory.get("crash/right/e0").related == ("crash/right/e1",)
    assert memory.get("crash/right/e1").body == "one\n"
    assert memory.get("crash/links/hub").related == ("crash/right/e0", "crash/right/e1")
    assert memory.doctor().errors == 0


# --- the caches: the index and state.db ----------------------------------------------------


def indexed_paths(root: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(root / ".mem" / INDEX_FILE) as conn:
        return sorted(row[0] for row in conn.execute("SELECT path FROM docs"))


def test_kill_during_reindex_then_the_next_recall_recovers(root: Path) -> None:
    """SIGKILL at random moments of `mem reindex --full` on 1,500 entries: SQLite rolls the
    unfinished transaction back, and the next recall completes the index from the files."""
    from contextree.core.entry import Entry, dump_entry

    paths = []
    for i in range(1500):
        path = f"crash/t{i % 15}/e{i}"
        file = root / (path + ".md")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(dump_entry(Entry(path=path, title=f"Entry {i}", body=f"walrus number {i}\n")))
        paths.append(path)
    rng = random.Random(3)
    wal = root / ".mem" / f"{INDEX_FILE}-wal"

    def wal_written() -> int:
        try:  # the log comes and goes with SQLite's checkpoints: read its time in one call
            return wal.stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    for _ in range(8):
        before = wal_written()
        process = subprocess.Popen(
            [sys.executable, "-m", "contextree", "--root", str(root), "reindex", "--full"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Inside the rebuild once it writes to the index's log (or it is already done).
        wait_until(
            lambda: wal_written() not in (0, before) or process.poll() is not None,
            "the rebuild to start writing",
        )
        time.sleep(rng.uniform(0, 0.3))
        process.kill()
        process.wait()
        result = Memory(root).recall("walrus number 1499", k=3)
        assert result.results and result.results[0].path == "crash/t14/e1499"
        assert indexed_paths(root) == sorted(paths)


@pytest.mark.parametrize("damage", [b"not a database" * 200, b""])
def test_corrupt_state_db_is_recreated_and_no_entry_is_lost(root: Path, damage: bytes) -> None:
    memory = Memory(root)
    for i in range(5):
        memory.add(f"state/t/e{i}", f"beaver fact {i}")
    memory.recall("beaver fact")
    memory.confirm_use(["state/t/e0"])
    assert memory.state().signals(["state/t/e0", "state/t/e1", "state/t/e2", "state/t/e3", "state/t/e4"])
    memory.close()
    state = root / ".mem" / "state.db"
    state.write_bytes(damage)
    for suffix in ("-wal", "-shm"):
        Path(str(state) + suffix).unlink(missing_ok=True)
    again = Memory(root)
    result = again.recall("beaver fact", k=10)
    assert len(result.results) == 5  # every entry still there and found
    top = result.results[0].path
    again.confirm_use([top])
    assert again.state().signals([top])[top].hits == 1  # usable again: counting restarted
    assert len(again.list().entries) == 5


def test_kill_during_consolidate_loses_nothing_and_the_next_run_finishes(root: Path) -> None:
    """SIGKILL at random moments of `mem consolidate` archiving 400 stale drafts: every entry
    is always live or archived (both, at worst, for the one being moved), every file parses,
    and the next run completes the job."""
    from datetime import UTC, datetime

    from contextree.core.entry import Entry, dump_entry

    old = datetime(2025, 1, 1, tzinfo=UTC)
    paths = []
    for i in range(400):
        path = f"stale/t{i % 8}/e{i}"
        file = root / (path + ".md")
        file.parent.mkdir(parents=True, exist_ok=True)
        entry = Entry(path=path, title=f"Stale {i}", body=f"old note {i}\n", importance=10, created=old, updated=old)
        file.write_text(dump_entry(entry))
        paths.append(path)

    def where(path: str) -> set[str]:
        places = set()
        if (root / (path + ".md")).exists():
            places.add("live")
        if (root / "_archive" / (path + ".md")).exists():
            places.add("archived")
        return places

    def archived_count() -> int:
        return sum(1 for _ in (root / "_archive").rglob("*.md")) if (root / "_archive").exists() else 0

    rng = random.Random(5)
    for _ in range(6):
        before = archived_count()
        process = subprocess.Popen(
            [sys.executable, "-m", "contextree", "--root", str(root), "consolidate"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Inside the run once it has archived something (or it is already done).
        wait_until(
            lambda: archived_count() > before or process.poll() is not None,
            "consolidate to start archiving",
        )
        time.sleep(rng.uniform(0, 0.5))
        process.kill()
        process.wait()
        placed = {path: where(path) for path in paths}
        assert all(placed.values()), [path for path, places in placed.items() if not places]
        assert sum(1 for places in placed.values() if places == {"live", "archived"}) <= 1
        listing = Memory(root).list()
        archived = Memory(root).list(archived=True)
        assert listing.problems == () and archived.problems == ()
    finished = subprocess.run(
        [sys.executable, "-m", "contextree", "--root", str(root), "--json", "consolidate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert all(where(path) == {"archived"} for path in paths)
    again = subprocess.run(
        [sys.executable, "-m", "contextree", "--root", str(root), "--json", "consolidate"],
        capture_output=True,
        text=True,
        check=True,
    )
    plan = json.loads(again.stdout)["data"]["plan"]
    assert plan["archive"] == [] and plan["moves"] == []  # nothing left to do: idempotent
    # A writer killed between writing its temporary file and renaming it leaves that file:
    # hidden, so never taken for an entry, and removed by `mem doctor --fix`.
    Memory(root).doctor(fix=True)
    assert not [p for p in root.rglob("*") if TEMP_NAME_RE.fullmatch(p.name)]


def test_an_archive_interrupted_between_its_two_steps_is_finished_by_the_next_run(root: Path) -> None:
    """The state a kill leaves inside an archive (archived copy written, live file not yet
    removed) is recognised and completed; a different entry in the way is never removed."""
    memory = Memory(root)
    memory.add("zoo/t/koala", "Koalas sleep 20 hours a day.")
    live = root / "zoo/t/koala.md"
    kept = live.read_text()
    archived = memory.forget("zoo/t/koala", reason="stale")
    archive_file = root / "_archive/zoo/t/koala.md"
    archived_text = archive_file.read_text()
    live.write_text(kept)  # as if the kill came after the copy and before the unlink
    again = Memory(root).forget("zoo/t/koala", reason="stale")
    assert again.extra["archived_reason"] == "stale" and not live.exists()
    assert archive_file.read_text() == archived_text  # the copy already made is kept as it is
    assert archived == again
    # Not the same entry (re-added with other text): refused, nothing removed.
    memory.add("zoo/t/koala", "Koalas are marsupials.")
    from contextree.core.errors import ExistsError

    with pytest.raises(ExistsError):
        memory.forget("zoo/t/koala")
    assert live.exists() and "marsupials" in live.read_text()


def test_an_index_that_contradicts_itself_is_rebuilt_from_the_files(root: Path) -> None:
    """A constraint failure while refreshing (here: a row filed under the wrong folder, so the
    refresh inserts its path a second time) means the cache is inconsistent: the files are
    the truth, so the next recall rebuilds the index instead of failing."""
    import sqlite3

    memory = Memory(root)
    memory.add("cache/t/walrus", "the walrus fact")
    memory.add("cache/t/otter", "the otter fact")
    memory.recall("walrus")
    memory.close()
    with sqlite3.connect(root / ".mem" / INDEX_FILE) as conn:
        conn.execute("UPDATE docs SET folder = 'elsewhere/t' WHERE path = 'cache/t/walrus'")
    file = root / "cache/t/walrus.md"
    file.write_text(file.read_text() + "More about the walrus.\n")
    result = Memory(root).recall("walrus fact", k=3)
    assert [hit.path for hit in result.results][:1] == ["cache/t/walrus"]
    assert indexed_paths(root) == ["cache/t/otter", "cache/t/walrus"]
