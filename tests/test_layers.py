"""Layers of memory (core/layers.py): the project's memory, the personal one beside it
(MEM_PERSONAL_ROOT, set to the test's folder by conftest), and read-only extras declared in
`layers.extra`. Through the CLI's --json and text output, and a real MCP client over stdio."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest
from contextree import Memory

from .gitutil import git, isolate_git, subjects
from .test_mcp import data as tool_data
from .test_mcp import server


@pytest.fixture
def personal() -> Path:
    return Path(os.environ["MEM_PERSONAL_ROOT"])


@pytest.fixture
def both(root: Path, personal: Path, mem) -> tuple[Path, Path]:
    """A project memory and a personal one, each with entries of its own and one shared path."""
    project = Memory(root)
    project.add(
        "architecture/queues/redis-broker",
        "The celery broker is Redis with the noeviction policy: evicted tasks vanish silently.",
        title="Redis broker eviction policy",
        keywords=["celery", "eviction"],
    )
    project.add("conventions/git/commits", "Commit messages in the imperative mood.", title="Commit messages")
    project.add("tools/editor/setup", "The project ships an .editorconfig: tabs for Makefiles.", title="Editor setup")
    assert mem("add", "--personal", "tools/editor/setup", "I use vim keybindings everywhere.", "--title",
               "My editor setup").code == 0  # fmt: skip
    assert mem("add", "--personal", "preferences/shell/aliases", "I alias gs to git status and gl to git log.",
               "--title", "Shell aliases I use").code == 0  # fmt: skip
    return root, personal


def test_personal_writes_land_in_the_personal_memory(both: tuple[Path, Path], mem) -> None:
    root, personal = both
    assert (personal / "config.yaml").is_file()  # created on the first personal write
    assert (personal / "preferences/shell/aliases.md").is_file()
    assert not (root / "preferences").exists()
    # An entry only in the personal memory is updated there without --personal.
    data = mem("--json", "update", "preferences/shell/aliases", "--append", "And gd for git diff.").data
    assert data["memory"] == "personal"
    assert "gd for git diff" in Memory(personal).get("preferences/shell/aliases").body
    # A path in both: the project's unless --personal.
    assert mem("--json", "update", "tools/editor/setup", "--append", "Project note.").data["memory"] == "project"
    assert "Project note." in Memory(root).get("tools/editor/setup").body
    assert "Project note." not in Memory(personal).get("tools/editor/setup").body
    data = mem("--json", "update", "--personal", "tools/editor/setup", "--append", "Mine.").data
    assert data["memory"] == "personal" and "Mine." in Memory(personal).get("tools/editor/setup").body
    # A new entry goes to the project unless --personal.
    assert mem("--json", "add", "ops/deploy/freeze", "No deploys on Friday.").data["memory"] == "project"
    assert (root / "ops/deploy/freeze.md").is_file()
    assert mem("--json", "forget", "preferences/shell/aliases").data["memory"] == "personal"
    assert (personal / "_archive/preferences/shell/aliases.md").is_file()


def test_recall_searches_both_and_labels_hits(both: tuple[Path, Path], mem) -> None:
    hits = mem("--json", "recall", "vim keybindings").data["results"]
    assert (hits[0]["path"], hits[0]["memory"]) == ("tools/editor/setup", "personal")
    hits = mem("--json", "recall", "celery broker eviction").data["results"]
    assert (hits[0]["path"], hits[0]["memory"]) == ("architecture/queues/redis-broker", "project")
    text = mem("recall", "shell aliases").stdout
    assert "personal: " in text and "preferences/shell/aliases" in text
    assert "project: " in mem("recall", "commit messages imperative").stdout


def test_a_weaker_match_in_a_small_memory_does_not_outrank_a_strong_one(root: Path, personal: Path) -> None:
    """Each memory's recall scores relevance against its own best hit: merged as they come,
    a core, important personal note covering three of five query words would rank first."""
    from contextree.core.layers import Layers

    project = Memory(root)
    project.add(
        "architecture/queues/redis-broker",
        "The celery broker is Redis with the noeviction policy; eviction drops queued tasks.",
        title="Redis broker eviction policy for celery",
    )
    Memory.init(personal)
    mine = Memory(personal)
    for number in range(5):
        project.add(f"architecture/misc/note-{number}", f"Unrelated note number {number} about logging.")
        mine.add(f"notes/misc/note-{number}", f"My unrelated note {number} about cooking pasta.")
    mine.add(
        "notes/tools/redis",
        "allkeys-lru on my side projects.",
        title="Redis eviction policy",
        importance=95,
        maturity="core",
        decay="never",
    )
    query = "redis eviction policy celery broker"
    alone_mine, alone_project = mine.recall(query).results[0], project.recall(query).results[0]
    assert alone_mine.relevance == 1.0 and alone_mine.score > alone_project.score  # the naive merge's order
    merged = Layers(project).recall(query).results
    assert [(hit.memory, hit.path) for hit in merged] == [
        ("project", "architecture/queues/redis-broker"),
        ("personal", "notes/tools/redis"),
    ]
    assert merged[0].score > merged[1].score and merged[1].relevance < 0.5


def test_a_path_in_both_is_two_entries(both: tuple[Path, Path], mem) -> None:
    listed = mem("--json", "list", "tools").data["entries"]
    assert [(entry["path"], entry["memory"]) for entry in listed] == [
        ("tools/editor/setup", "project"),
        ("tools/editor/setup", "personal"),
    ]
    shown = mem("--json", "show", "tools/editor/setup").data
    assert shown["memory"] == "project" and shown["entry"]["title"] == "Editor setup"
    assert [(other["memory"], other["entry"]["title"]) for other in shown["others"]] == [
        ("personal", "My editor setup")
    ]
    text = mem("show", "tools/editor/setup").stdout
    assert "Editor setup" in text and "My editor setup" in text and "personal memory" in text
    only = mem("--json", "show", "tools/editor/setup", "--memory", "personal").data
    assert only["memory"] == "personal" and only["others"] == []
    hits = mem("--json", "recall", "editor setup", "-k", "5").data["results"]
    assert {(hit["path"], hit["memory"]) for hit in hits} >= {
        ("tools/editor/setup", "project"),
        ("tools/editor/setup", "personal"),
    }
    listing = mem("list").stdout
    assert "personal" in listing and "project" in listing  # labelled, as in JSON
    tree = mem("--json", "tree").data
    assert tree["memory"] == "project" and [other["memory"] for other in tree["others"]] == ["personal"]
    assert "personal memory:" in mem("tree").stdout


def test_a_single_memory_looks_as_before(root: Path, mem) -> None:
    Memory(root).add("a/b/c", "Alpha beta gamma.", title="Greek letters")
    assert "project" not in mem("list").stdout and "memory:" not in mem("tree").stdout
    hit = mem("--json", "recall", "alpha beta").data["results"][0]
    assert hit["memory"] == "project"


def test_extra_memories_are_read_only(root: Path, tmp_path: Path, mem) -> None:
    org = tmp_path / "org-memory" / ".memory"
    Memory.init(org)
    Memory(org).add("security/secrets/rotation", "Rotate every secret every 90 days.", title="Secret rotation")
    (root / "config.yaml").write_text("layers:\n  extra: [org=../org-memory/.memory]\n")
    hit = mem("--json", "recall", "rotate secret 90 days").data["results"][0]
    assert (hit["path"], hit["memory"]) == ("security/secrets/rotation", "org")
    refused = mem("update", "security/secrets/rotation", "--append", "x")
    assert refused.code == 5 and "read-only" in refused.stderr
    assert "x" not in Memory(org).get("security/secrets/rotation").body.split()
    (root / "config.yaml").write_text("layers:\n  extra: [../missing]\n  personal: false\n")
    warned = mem("--json", "recall", "rotate")
    assert any("does not exist" in warning for warning in warned.json["warnings"])


def test_nothing_personal_is_committed_to_the_project(
    mem, tmp_path: Path, personal: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(monkeypatch, tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    root = project / ".memory"
    assert mem("init", str(root)).code == 0
    (root / "config.yaml").write_text("git:\n  autocommit: true\n")  # project writes are commits
    assert mem("--root", str(root), "add", "ops/deploy/freeze", "No deploys on Friday.").code == 0
    before, status = subjects(project), git(project, "status", "--porcelain")
    assert before[0].startswith("mem add")
    assert mem("--root", str(root), "add", "--personal", "me/prefs/tabs", "Tabs, not spaces.").code == 0
    assert subjects(project) == before and git(project, "status", "--porcelain") == status
    assert (personal / "me/prefs/tabs.md").is_file()
    # A personal memory inside the project's repository is refused before anything is written.
    monkeypatch.setenv("MEM_PERSONAL_ROOT", str(project / "personal"))
    refused = mem("--root", str(root), "add", "--personal", "me/prefs/tabs", "Tabs.")
    assert refused.code == 5 and "inside the project's git repository" in refused.stderr
    assert not (project / "personal").exists()


def test_personal_memory_can_be_turned_off(both: tuple[Path, Path], mem, monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = both
    (root / "config.yaml").write_text("layers:\n  personal: false\n")
    assert all(hit["memory"] == "project" for hit in mem("--json", "recall", "vim editor").data["results"])
    monkeypatch.setenv("MEM_PERSONAL_ROOT", "off")
    (root / "config.yaml").write_text("")
    assert {entry["memory"] for entry in mem("--json", "list").data["entries"]} == {"project"}


def test_mcp_serves_both_memories(both: tuple[Path, Path], tmp_path: Path, personal: Path) -> None:
    root, _ = both

    async def main() -> None:
        async with server(root, tmp_path, MEM_PERSONAL_ROOT=str(personal)) as client:
            hits = tool_data(await client.call_tool("recall", {"query": "vim keybindings"}))["results"]
            assert (hits[0]["path"], hits[0]["memory"]) == ("tools/editor/setup", "personal")
            shown = tool_data(await client.call_tool("show", {"path": "tools/editor/setup"}))
            assert shown["memory"] == "project" and shown["others"][0]["memory"] == "personal"
            added = tool_data(
                await client.call_tool(
                    "add", {"path": "me/prefs/diffs", "text": "Side-by-side diffs.", "personal": True}
                )
            )
            assert added["memory"] == "personal"
            updated = tool_data(await client.call_tool("update", {"path": "me/prefs/diffs", "append": "Always."}))
            assert updated["memory"] == "personal"
            tree = tool_data(await client.call_tool("tree", {}))
            assert [other["memory"] for other in tree["others"]] == ["personal"]

    anyio.run(main)
    assert (personal / "me/prefs/diffs.md").is_file() and not (root / "me").exists()


def test_the_personal_memory_defaults_to_the_user_data_folder(tmp_path: Path) -> None:
    import platformdirs
    from contextree.core.layers import personal_root

    home = Path.home()
    expected = Path(platformdirs.user_data_dir("contextree", appauthor=False)) / "personal"
    assert personal_root({}) == expected  # the same answer as platformdirs, on this platform
    assert personal_root({"XDG_DATA_HOME": str(tmp_path / "data")}) in (
        tmp_path / "data" / "contextree" / "personal",
        expected,  # platforms that do not follow XDG
    )
    assert personal_root({"MEM_PERSONAL_ROOT": "off"}) is None
    assert personal_root({"MEM_PERSONAL_ROOT": "~/mine"}) == (home / "mine").resolve()
