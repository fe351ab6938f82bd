"""Claude's memory tool (memory_20250818) over the context tree: every command, the
documented answers, and the path attacks Anthropic's security guidance lists."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from contextree import Memory
from contextree.core.entry import parse_entry
from contextree.core.memory_tool import MemoryTool, ToolResult

from .conftest import run_mem
from .gitutil import isolate_git, status, subjects

HEADER = "Here're the files and directories up to 2 levels deep in {}, excluding hidden items and node_modules:"
NOTE = "/memories/project/notes/setup.md"
NOTE_TEXT = "# Set-up\n\nRun make test.\nPython 3.11 is needed.\n"


@pytest.fixture
def tool(memory: Memory) -> MemoryTool:
    return MemoryTool(memory)


def ok(tool: MemoryTool, **command: Any) -> str:
    result = tool.run(command)
    assert not result.is_error, result.text
    return result.text


def error(tool: MemoryTool, **command: Any) -> str:
    result = tool.run(command)
    assert result.is_error, result.text
    return result.text


def numbered(text: str, first: int = 1) -> str:
    return "\n".join(f"{n:>6}\t{line}" for n, line in enumerate(text.split("\n"), start=first))


def file_of(root: Path, path: str) -> Path:
    return root / path.removeprefix("/memories/")


# --- view -------------------------------------------------------------------------------


def test_view_of_an_empty_memory(tool: MemoryTool) -> None:
    assert ok(tool, command="view", path="/memories") == HEADER.format("/memories") + "\n0B\t/memories"
    assert ok(tool, command="view", path="/memories/") == HEADER.format("/memories") + "\n0B\t/memories"


def test_view_lists_two_levels_with_sizes_and_hides_what_is_not_an_entry(tool: MemoryTool, root: Path) -> None:
    files = {
        "project/decisions/auth.md": 1536,
        "project/decisions/db/postgres.md": 100,  # three levels below /memories: counted, not listed
        "project/overview.md": 7,  # depth 2: not an entry place, so not shown
        "people/team/alice.md": 2048,
    }
    for relative, size in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x" * size)
    (root / "project" / "_index.md").write_text("---\ntitle: Project\n---\n")
    (root / "project" / "decisions" / ".draft.md").write_text("hidden")
    (root / "_archive" / "old" / "topic").mkdir(parents=True)
    (root / "_archive" / "old" / "topic" / "gone.md").write_text("archived")
    (root / "node_modules").mkdir()

    assert ok(tool, command="view", path="/memories") == "\n".join(
        [
            HEADER.format("/memories"),
            "3.6K\t/memories",  # 1536 + 100 + 2048
            "2K\t/memories/people/",
            "2K\t/memories/people/team/",
            "1.6K\t/memories/project/",
            "1.6K\t/memories/project/decisions/",
        ]
    )
    assert ok(tool, command="view", path="/memories/project/decisions") == "\n".join(
        [
            HEADER.format("/memories/project/decisions"),
            "1.6K\t/memories/project/decisions",
            "1.5K\t/memories/project/decisions/auth.md",
            "100B\t/memories/project/decisions/db/",
            "100B\t/memories/project/decisions/db/postgres.md",
        ]
    )


def test_view_of_a_file_is_its_text_with_line_numbers(tool: MemoryTool, root: Path) -> None:
    ok(tool, command="create", path=NOTE, file_text=NOTE_TEXT)
    stored = file_of(root, NOTE).read_text()
    assert ok(tool, command="view", path=NOTE) == f"Here's the content of {NOTE} with line numbers:\n" + numbered(
        stored
    )
    lines = stored.split("\n")
    last = len(lines)
    assert ok(tool, command="view", path=NOTE, view_range=[last - 2, -1]) == (
        f"Here's the content of {NOTE} with line numbers:\n" + numbered("\n".join(lines[-3:]), last - 2)
    )
    assert "`view_range`" in error(tool, command="view", path=NOTE, view_range=["a", 2])


def test_view_of_a_missing_path(tool: MemoryTool) -> None:
    for path in (NOTE, "/memories/nowhere", "/memories/nowhere/"):
        shown = path.rstrip("/")
        assert (
            error(tool, command="view", path=path) == f"The path {shown} does not exist. Please provide a valid path."
        )


# --- create -----------------------------------------------------------------------------


def test_create_writes_a_valid_entry_through_core(tool: MemoryTool, root: Path) -> None:
    assert ok(tool, command="create", path=NOTE, file_text=NOTE_TEXT) == f"File created successfully at: {NOTE}"
    entry = parse_entry("project/notes/setup", file_of(root, NOTE).read_text())
    assert entry.title == "Set-up"
    assert entry.body == NOTE_TEXT  # kept whole, heading included
    assert entry.source == "agent:claude-memory-tool"
    assert entry.created is not None and entry.updated == entry.created
    assert Memory(root).get("project/notes/setup") == entry  # the rest of mem sees it


def test_create_keeps_the_frontmatter_the_model_wrote_but_not_a_forged_source(tool: MemoryTool, root: Path) -> None:
    text = "---\ntitle: Deploys\ntags: [ops]\nimportance: 80\nsource: user\nowner: platform\n---\nFridays are frozen.\n"
    ok(tool, command="create", path="/memories/ops/deploy/freeze.md", file_text=text)
    entry = Memory(root).get("ops/deploy/freeze")
    assert (entry.title, entry.tags, entry.importance) == ("Deploys", ("ops",), 80)
    assert entry.extra == {"owner": "platform"}
    assert entry.source == "agent:claude-memory-tool"
    # Frontmatter without a title: the heading is the title, as without frontmatter.
    ok(
        tool,
        command="create",
        path="/memories/ops/deploy/hotfix.md",
        file_text="---\ntags: [ops]\n---\n# Hotfixes\nany day\n",
    )
    assert Memory(root).get("ops/deploy/hotfix").title == "Hotfixes"


def test_create_never_overwrites(tool: MemoryTool, root: Path) -> None:
    ok(tool, command="create", path=NOTE, file_text=NOTE_TEXT)
    before = file_of(root, NOTE).read_bytes()
    assert error(tool, command="create", path=NOTE, file_text="other") == f"Error: File {NOTE} already exists"
    assert file_of(root, NOTE).read_bytes() == before


def test_create_refuses_bad_frontmatter_and_places_outside_the_layout(tool: MemoryTool, root: Path) -> None:
    message = error(tool, command="create", path=NOTE, file_text="---\nimportance: 900\n---\nbody\n")
    assert message.startswith(f"Error: the frontmatter of {NOTE} is not valid (") and "nothing was written" in message
    assert "/memories/<domain>/<topic>/<name>.md" in error(
        tool, command="create", path="/memories/notes.md", file_text="x"
    )
    assert "is not a memory file" in error(tool, command="create", path="/memories/a/b/notes.txt", file_text="x")
    assert "did you mean /memories/a/b/notes.md?" in error(
        tool, command="create", path="/memories/a/b/notes", file_text="x"
    )
    assert "(try 'my-notes')" in error(tool, command="create", path="/memories/a/b/My Notes.md", file_text="x")
    assert "`file_text` is required" in error(tool, command="create", path=NOTE)
    assert not any(p.suffix == ".md" for p in root.rglob("*"))


# --- str_replace and insert -------------------------------------------------------------


def test_str_replace_edits_one_occurrence_and_shows_the_snippet(root: Path) -> None:
    moments = iter([datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)])
    tool = MemoryTool(Memory(root, clock=lambda: next(moments)))
    ok(tool, command="create", path=NOTE, file_text=NOTE_TEXT)
    answer = ok(tool, command="str_replace", path=NOTE, old_str="Run make test.", new_str="Run make test (2 min).")
    stored = file_of(root, NOTE).read_text()
    lines = stored.split("\n")
    changed = lines.index("Run make test (2 min).")
    assert answer == (
        "The memory file has been edited. Here is the snippet showing the change (with line numbers):\n"
        + numbered("\n".join(lines[changed - 2 : changed + 3]), changed - 1)
    )
    entry = parse_entry("project/notes/setup", stored)
    assert entry.body == NOTE_TEXT.replace("Run make test.", "Run make test (2 min).")
    assert entry.updated == datetime(2026, 2, 1, tzinfo=UTC) and entry.importance == 55  # an update, like mem update


def test_str_replace_documented_failures(tool: MemoryTool, root: Path) -> None:
    missing = "/memories/project/notes/missing.md"
    assert error(tool, command="str_replace", path=missing, old_str="a", new_str="b") == (
        f"Error: The path {missing} does not exist. Please provide a valid path."
    )
    ok(tool, command="create", path=NOTE, file_text="# T\n\nsame\nsame\n")
    before = file_of(root, NOTE).read_bytes()
    assert error(tool, command="str_replace", path=NOTE, old_str="absent", new_str="x") == (
        f"No replacement was performed, old_str `absent` did not appear verbatim in {NOTE}."
    )
    body_start = file_of(root, NOTE).read_text().split("\n").index("same") + 1
    assert error(tool, command="str_replace", path=NOTE, old_str="same", new_str="x") == (
        f"No replacement was performed. Multiple occurrences of old_str `same` in lines: "
        f"{body_start}, {body_start + 1}. Please ensure it is unique"
    )
    # An edit that would break the entry is refused with the reason, and nothing changes.
    message = error(tool, command="str_replace", path=NOTE, old_str="importance: 50", new_str="importance: lots")
    assert "invalid entry" in message and "'importance'" in message
    assert file_of(root, NOTE).read_bytes() == before


def test_insert_at_a_line(tool: MemoryTool, root: Path) -> None:
    ok(tool, command="create", path=NOTE, file_text=NOTE_TEXT)
    lines = file_of(root, NOTE).read_text().split("\n")[:-1]  # the text ends with a line break
    assert ok(tool, command="insert", path=NOTE, insert_line=len(lines), insert_text="- use uv\n") == (
        f"The file {NOTE} has been edited."
    )
    assert file_of(root, NOTE).read_text().endswith("Python 3.11 is needed.\n- use uv\n")
    assert error(tool, command="insert", path=NOTE, insert_line=999, insert_text="x") == (
        f"Error: Invalid `insert_line` parameter: 999. It should be within the range of lines of the file: "
        f"[0, {len(lines) + 1}]"
    )
    # Above the frontmatter the file would stop being an entry with metadata.
    assert "above the frontmatter" in error(tool, command="insert", path=NOTE, insert_line=0, insert_text="oops")
    assert error(tool, command="insert", path="/memories/a/b/nope.md", insert_line=0, insert_text="x") == (
        "Error: The path /memories/a/b/nope.md does not exist"
    )
    assert "`insert_line` is required" in error(tool, command="insert", path=NOTE, insert_line=True, insert_text="x")


def test_concurrent_edits_are_all_kept(tool: MemoryTool, root: Path) -> None:
    ok(tool, command="create", path=NOTE, file_text="# Log\n")
    results: list[ToolResult] = []

    def append(n: int) -> None:
        # Each edit is applied to the text as it is under the tree's lock, so none is lost.
        results.append(
            MemoryTool(Memory(root)).run(
                {"command": "str_replace", "path": NOTE, "old_str": "# Log\n", "new_str": f"# Log\n- entry {n}\n"}
            )
        )

    threads = [threading.Thread(target=append, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(not result.is_error for result in results), results
    body = Memory(root).get("project/notes/setup").body
    assert sorted(line for line in body.split("\n") if line.startswith("- entry")) == [f"- entry {n}" for n in range(8)]


# --- delete and rename ------------------------------------------------------------------


def test_delete_archives_and_a_second_copy_takes_the_next_name(tool: MemoryTool, root: Path) -> None:
    ok(tool, command="create", path=NOTE, file_text=NOTE_TEXT)
    assert ok(tool, command="delete", path=NOTE) == f"Successfully deleted {NOTE}"
    assert not (root / "project").exists()  # folders it left empty are gone from the view
    archived = Memory(root).get("project/notes/setup", archived=True)
    assert archived.extra["archived_reason"] == "deleted with Claude's memory tool"
    assert error(tool, command="delete", path=NOTE) == f"Error: The path {NOTE} does not exist"

    ok(tool, command="create", path=NOTE, file_text="# Second\n")
    ok(tool, command="delete", path=NOTE)
    assert Memory(root).get("project/notes/setup-2", archived=True).title == "Second"
    assert Memory(root).get("project/notes/setup", archived=True) == archived  # the first copy is untouched


def test_delete_a_folder_and_not_the_root(tool: MemoryTool, root: Path) -> None:
    ok(tool, command="create", path="/memories/project/a/one.md", file_text="one")
    ok(tool, command="create", path="/memories/project/a/sub/two.md", file_text="two")
    ok(tool, command="create", path="/memories/project/b/three.md", file_text="three")
    assert ok(tool, command="delete", path="/memories/project/a") == "Successfully deleted /memories/project/a"
    assert [e.path for e in Memory(root).list().entries] == ["project/b/three"]
    assert [e.path for e in Memory(root).list(archived=True).entries] == ["project/a/one", "project/a/sub/two"]
    assert error(tool, command="delete", path="/memories") == "Error: Cannot delete the /memories directory itself"
    assert error(tool, command="delete", path="/memories/") == "Error: Cannot delete the /memories directory itself"


def test_rename_moves_files_and_folders_and_relinks(tool: MemoryTool, root: Path) -> None:
    memory = Memory(root)
    memory.add("project/notes/setup", "setup")
    memory.add("project/notes/deploy", "deploy", related=["project/notes/setup"])
    new = "/memories/project/build/setup.md"
    assert ok(tool, command="rename", old_path=NOTE, new_path=new) == f"Successfully renamed {NOTE} to {new}"
    assert memory.get("project/notes/deploy").related == ("project/build/setup",)

    assert ok(tool, command="rename", old_path="/memories/project", new_path="/memories/work") == (
        "Successfully renamed /memories/project to /memories/work"
    )
    assert [e.path for e in memory.list().entries] == ["work/build/setup", "work/notes/deploy"]
    assert not (root / "project").exists()

    assert error(tool, command="rename", old_path=NOTE, new_path=new) == f"Error: The path {NOTE} does not exist"
    assert error(
        tool, command="rename", old_path="/memories/work/build/setup.md", new_path="/memories/work/notes/deploy.md"
    ) == ("Error: The destination /memories/work/notes/deploy.md already exists")
    assert "a folder to a folder path" in error(
        tool, command="rename", old_path="/memories/work", new_path="/memories/elsewhere.md"
    )


# --- paths ------------------------------------------------------------------------------

ATTACKS = {
    "dot-dot": "/memories/../../etc/passwd",
    "dot-dot inside": "/memories/project/../../../etc/passwd.md",
    "dot": "/memories/./project/notes/setup.md",
    "encoded dot-dot": "/memories/%2e%2e/%2e%2e/etc/passwd",
    "encoded slash": "/memories/..%2f..%2fetc%2fpasswd",
    "double encoded": "/memories/%252e%252e/secret.md",
    "absolute elsewhere": "/etc/passwd",
    "prefix trick": "/memories-evil/notes.md",
    "relative": "memories/project/notes/setup.md",
    "home": "~/.ssh/id_rsa",
    "backslash": "/memories\\..\\..\\etc\\passwd",
    "nul": "/memories/project/notes/setup.md\x00.txt",
    "newline": "/memories/project/notes/set\nup.md",
    "empty segment": "/memories//etc/passwd",
    "very long": "/memories/" + "a/" * 3000 + "x.md",
    "windows drive": "C:\\Windows\\system.ini",
}


@pytest.mark.parametrize("path", list(ATTACKS.values()), ids=list(ATTACKS))
def test_path_attacks_are_refused_for_every_command(tool: MemoryTool, root: Path, tmp_path: Path, path: str) -> None:
    before = sorted(p for p in tmp_path.rglob("*") if ".mem" not in p.parts)
    commands: list[dict[str, Any]] = [
        {"command": "view", "path": path},
        {"command": "create", "path": path, "file_text": "pwned"},
        {"command": "str_replace", "path": path, "old_str": "a", "new_str": "b"},
        {"command": "insert", "path": path, "insert_line": 0, "insert_text": "pwned"},
        {"command": "delete", "path": path},
        {"command": "rename", "old_path": path, "new_path": "/memories/a/b/c.md"},
        {"command": "rename", "old_path": "/memories/a/b/c.md", "new_path": path},
    ]
    for command in commands:
        result = tool.run(command)
        assert result.is_error and result.text.startswith("Error: "), (command, result)
        assert len(result.text) < 600  # a long path is not echoed back whole
    assert sorted(p for p in tmp_path.rglob("*") if ".mem" not in p.parts) == before


def test_symlinks_out_of_the_root_are_escapes(tool: MemoryTool, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "topic").mkdir(parents=True)
    (outside / "topic" / "secret.md").write_text("---\ntitle: secret\n---\nthe secret\n")
    (root / "evil").symlink_to(outside, target_is_directory=True)
    (root / "project" / "notes").mkdir(parents=True)
    (root / "project" / "notes" / "leak.md").symlink_to(outside / "topic" / "secret.md")

    for path in ("/memories/evil", "/memories/evil/topic/secret.md", "/memories/project/notes/leak.md"):
        message = error(tool, command="view", path=path)
        assert "would escape /memories through a symlink" in message and "the secret" not in message
    assert "would escape" in error(tool, command="create", path="/memories/evil/topic/new.md", file_text="x")
    assert not (outside / "topic" / "new.md").exists()
    assert "would escape" in error(tool, command="delete", path="/memories/project/notes/leak.md")
    assert (outside / "topic" / "secret.md").exists()
    # Listing the root does not follow the link either.
    assert "evil" not in ok(tool, command="view", path="/memories") and "leak" not in ok(
        tool, command="view", path="/memories/project"
    )


def test_symlinks_inside_the_root_are_not_followed(tool: MemoryTool, root: Path) -> None:
    ok(tool, command="create", path=NOTE, file_text=NOTE_TEXT)
    (root / "alias").symlink_to(root / "project", target_is_directory=True)
    message = error(tool, command="view", path="/memories/alias/notes/setup.md")
    assert message == "Error: The path /memories/alias/notes/setup.md goes through a symlink; " + (
        "the memory tool does not follow symlinks"
    )


def test_unknown_and_malformed_commands(tool: MemoryTool) -> None:
    assert "unknown command 'format'" in error(tool, command="format", path="/memories")
    assert "unknown command None" in error(tool, path="/memories")
    assert "`path` must be a string" in error(tool, command="view", path=["/memories"])


# --- the CLI ----------------------------------------------------------------------------


def test_cli_reads_one_command_on_stdin(root: Path) -> None:
    create = {"command": "create", "path": NOTE, "file_text": NOTE_TEXT}
    done = run_mem("memory-tool", input=json.dumps(create))
    assert (done.returncode, done.stdout) == (0, f"File created successfully at: {NOTE}\n")
    assert Memory(root).get("project/notes/setup").source == "agent:claude-memory-tool"

    # A failure is still the text to send back (stdout), marked by the exit code.
    failed = run_mem("memory-tool", input=json.dumps({"command": "view", "path": "/memories/x/y/z.md"}))
    assert failed.returncode == 3
    assert failed.stdout == "The path /memories/x/y/z.md does not exist. Please provide a valid path.\n"

    envelope = json.loads(run_mem("memory-tool", "--json", input=json.dumps({"command": "view", "path": NOTE})).stdout)
    assert envelope["ok"] and envelope["data"]["command"] == "view"
    assert envelope["data"]["result"].startswith(f"Here's the content of {NOTE} with line numbers:\n")
    failure = json.loads(run_mem("memory-tool", "--json", input='{"command": "delete", "path": "/memories"}').stdout)
    assert failure["ok"] is False and failure["errors"][0]["kind"] == "invalid"

    bad = run_mem("memory-tool", input="view /memories")
    assert bad.returncode == 5 and bad.stdout.startswith("stdin is not a JSON command")


def test_in_a_git_memory_every_command_is_one_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch, tmp_path)
    root = tmp_path / "standalone"
    Memory.init(root, git_repository=True)
    tool = MemoryTool(Memory(root))
    ok(tool, command="create", path=NOTE, file_text=NOTE_TEXT)
    ok(tool, command="str_replace", path=NOTE, old_str="Run make test.", new_str="Run make test -j2.")
    ok(tool, command="rename", old_path=NOTE, new_path="/memories/project/build/setup.md")
    ok(tool, command="delete", path="/memories/project/build/setup.md")
    assert subjects(root)[:4] == [
        "mem forget: project/build/setup",
        "mem mv: project/notes/setup -> project/build/setup",
        "mem update: project/notes/setup",
        "mem add: project/notes/setup",
    ]
    assert status(root) == []  # nothing left uncommitted
