"""Two mem versions on one memory: each keeps its own index and trusts only its own watcher.

An agent's MCP server may run one install of mem while the shell runs another. With one
index file for every version, each rebuilt the index whenever the other had used it (its
schema differed): 14 s a recall at 10,000 entries. "Another version" is played here by a
real Python process whose index schema is set to 999 before mem's modules are imported.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from contextree import Memory
from contextree.core.index import INDEX_APP_ID, INDEX_FILE, SCHEMA_VERSION

OTHER = "999"
OTHER_FILE = f"index-v{OTHER}.db"
TIMEOUT = 30

# Runs mem as a version whose index schema is OTHER: the index file's name follows the
# schema by the same rule as this version's (before the fix it did not depend on it), and so
# do its watchers' lock and its recalls' markers.
AS_OTHER_VERSION = f"""
import json, sys
import contextree.core.index as index
index.INDEX_FILE = index.INDEX_FILE.replace(index.SCHEMA_VERSION, {OTHER!r})
index.SCHEMA_VERSION = {OTHER!r}
from contextree import Memory
root, action = sys.argv[1], sys.argv[2]
memory = Memory(root)
if action == "recall":
    result = memory.recall(sys.argv[3], max_tier="fuzzy")
    print(json.dumps({{"paths": [hit.path for hit in result.results], "rebuilt": result.index.rebuilt}}))
elif action == "watch":
    with memory.watch():
        print("watching", flush=True)
        sys.stdin.read()  # until the test closes it
"""


def as_other_version(root: Path, *args: str) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-c", AS_OTHER_VERSION, str(root), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    return dict(json.loads(completed.stdout))


def identity(file: Path) -> tuple[int, int]:
    info = file.stat()
    return info.st_ino, info.st_mtime_ns


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / ".memory"
    Memory.init(root)
    memory = Memory(root)
    memory.add("ops/deploy/canary", "Canary deploys get 5% of traffic for 20 minutes.", title="Canary deploys")
    memory.add("ops/db/pooling", "PgBouncer runs in transaction mode.", title="Connection pooling")
    memory.close()
    return root


def test_each_version_keeps_its_own_index_and_neither_rebuilds_the_others(root: Path) -> None:
    memory = Memory(root)
    first = memory.recall("canary traffic")
    memory.close()
    assert [hit.path for hit in first.results][:1] == ["ops/deploy/canary"]
    ours = root / ".mem" / INDEX_FILE
    for _ in range(3):  # the two versions take turns, as an MCP server and a shell would
        before = identity(ours)
        other = as_other_version(root, "recall", "pgbouncer")
        assert identity(ours) == before  # the other version did not touch this version's file
        assert other["paths"] == ["ops/db/pooling"]
        memory = Memory(root)
        mine = memory.recall("canary traffic")
        memory.close()  # its connection's last checkpoint is written now, not during the next turn
        assert mine.index is not None and not mine.index.rebuilt
    assert other["rebuilt"] is False  # its own index was built once, at its first recall
    assert (root / ".mem" / OTHER_FILE).is_file()


def test_a_watcher_of_another_version_is_not_trusted_to_vouch_for_this_index(root: Path) -> None:
    """A watcher keeps its own version's index current; a recall of this version that took
    its word would read its own index without the latest change."""
    Memory(root).recall("canary")  # this version's index exists and is current
    watcher = subprocess.Popen(
        [sys.executable, "-c", AS_OTHER_VERSION, str(root), "watch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None and watcher.stdout.readline().strip() == "watching"
        file = root / "ops/deploy/rollback.md"
        file.write_text("---\ntitle: Rollback\n---\nA rollback restores the previous kangaroo release.\n")
        completed = subprocess.run(
            [sys.executable, "-m", "contextree", "--json", "recall", "kangaroo", "--max-tier", "fuzzy"],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env={**os.environ, "MEM_ROOT": str(root)},
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        data = json.loads(completed.stdout)["data"]
        assert [hit["path"] for hit in data["results"]] == ["ops/deploy/rollback"]
        assert data["index"]["scanned"] > 0  # it scanned its own index instead of asking
    finally:
        assert watcher.stdin is not None
        watcher.stdin.close()
        watcher.wait(timeout=TIMEOUT)


def legacy_index(root: Path) -> Path:
    """An index as mem wrote it before the file carried its schema in its name."""
    legacy = root / ".mem" / "index.db"
    conn = sqlite3.connect(legacy)
    conn.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("CREATE TABLE docs(id INTEGER PRIMARY KEY, path TEXT)")
    conn.execute("INSERT INTO meta VALUES ('schema', '10')")
    conn.execute(f"PRAGMA application_id = {INDEX_APP_ID}")
    conn.commit()
    conn.close()
    return legacy


def test_doctor_reports_other_versions_index_files_and_fix_removes_them(root: Path) -> None:
    legacy = legacy_index(root)
    as_other_version(root, "recall", "canary")
    Memory(root).recall("canary")
    report = Memory(root).doctor()
    found = sorted(f.file for f in report.findings if f.kind == "index-other-version")
    assert found == [".mem/index-v999.db", ".mem/index.db"]
    assert all(f.severity == "info" and f.fixable for f in report.findings if f.kind == "index-other-version")
    fixed = Memory(root).doctor(fix=True)
    assert [f.fixed for f in fixed.findings if f.kind == "index-other-version"] == [True, True]
    assert not legacy.exists() and not (root / ".mem" / OTHER_FILE).exists()
    assert (root / ".mem" / INDEX_FILE).is_file()  # this version's own index stays
    assert not [f for f in Memory(root).doctor().findings if f.kind == "index-other-version"]


def test_reindex_full_removes_other_versions_index_files_but_not_someone_elses_database(root: Path) -> None:
    legacy_index(root)
    someone = root / ".mem" / "index-v7.db"  # the name of an index, but not mem's database
    conn = sqlite3.connect(someone)
    conn.execute("CREATE TABLE notes(x)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()
    report = Memory(root).reindex(full=True)
    assert report.rebuilt
    assert not (root / ".mem" / "index.db").exists()
    assert sqlite3.connect(someone).execute("SELECT x FROM notes").fetchall() == [("keep me",)]
    assert [hit.path for hit in Memory(root).recall("canary traffic").results][:1] == ["ops/deploy/canary"]


def test_this_versions_index_is_named_after_its_schema(root: Path) -> None:
    Memory(root).recall("canary")
    assert (root / ".mem" / f"index-v{SCHEMA_VERSION}.db").samefile(root / ".mem" / INDEX_FILE)
    assert (root / ".mem" / INDEX_FILE).is_file() and not (root / ".mem" / "index.db").exists()
