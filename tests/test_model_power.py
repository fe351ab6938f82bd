"""The model and the memory tool get no more power than the user, and what a model sends
cannot crash or stall its host (issue 18): the memory tool cannot rewrite provenance,
`MemoryTool.run` never raises, and a recall query is bounded (CLI and MCP).

Cases beyond repro 17, 23 and 25: `insert` of a second `source:` line, an edit of a person's
entry, a repair of a broken file, a seeded stream of odd commands, a 1,001-word query.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from contextree import Memory
from contextree.core.entry import parse_entry
from contextree.core.memory_tool import MemoryTool, ToolResult
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from .conftest import MEM_BIN, CliResult

Mem = Callable[..., CliResult]


@pytest.fixture
def tool(root: Path) -> MemoryTool:
    return MemoryTool(Memory(root, env={}))


def source_of(root: Path, path: str) -> str:
    file = root / f"{path}.md"
    return parse_entry(path, file.read_text(encoding="utf-8")).source


# --- provenance ----------------------------------------------------------------------------


def test_inserting_a_second_source_line_does_not_relabel(tool: MemoryTool, root: Path) -> None:
    assert not tool.run({"command": "create", "path": "/memories/a/b/note.md", "file_text": "hello"}).is_error
    lines = (root / "a" / "b" / "note.md").read_text().splitlines()
    closing = lines.index("---", 1)  # 0-based index of the closing line = the 1-based line before it
    for line in (1, closing):  # first in the frontmatter, and last (where YAML's last key wins)
        command = {"command": "insert", "path": "/memories/a/b/note.md", "insert_line": line}
        tool.run({**command, "insert_text": "source: user"})
        assert source_of(root, "a/b/note") == "agent:claude-memory-tool"


def test_an_edit_of_a_persons_entry_cannot_relabel_it(tool: MemoryTool, root: Path, mem: Mem) -> None:
    assert mem("add", "a/b/decision", "We chose Postgres.", "--title", "DB", "--source", "user").code == 0
    result = tool.run(
        {
            "command": "str_replace",
            "path": "/memories/a/b/decision.md",
            "old_str": "source: user",
            "new_str": "source: agent:somebody-else",
        }
    )
    assert result.is_error
    assert source_of(root, "a/b/decision") == "user"
    # An ordinary edit of the body still works and keeps the person's provenance.
    fine = tool.run(
        {
            "command": "str_replace",
            "path": "/memories/a/b/decision.md",
            "old_str": "We chose Postgres.",
            "new_str": "We chose Postgres 16.",
        }
    )
    assert not fine.is_error, fine.text
    assert source_of(root, "a/b/decision") == "user"


def test_a_repaired_file_gets_the_editors_source(tool: MemoryTool, root: Path) -> None:
    folder = root / "a" / "b"
    folder.mkdir(parents=True)
    (folder / "broken.md").write_text("---\ntitle: x\nsource: user\nimportance: high\n---\nbody\n")
    result = tool.run(
        {
            "command": "str_replace",
            "path": "/memories/a/b/broken.md",
            "old_str": "importance: high",
            "new_str": "importance: 50",
        }
    )
    assert not result.is_error, result.text
    assert source_of(root, "a/b/broken") == "agent:claude-memory-tool"


# --- run() never raises --------------------------------------------------------------------

ODD: list[Any] = [
    None,
    True,
    -1,
    10**40,
    float("nan"),
    "\ud800",
    "/memories/a/b/\udcff.md",
    "/memories/" + "x/" * 500,
    [[[[[]]]]],
    {"nested": {"deep": [1, 2]}},
    "",
    "/memories/a/b/ok.md",
    "---\ntitle: t\ncreated: 9999-12-31T23:00:00-12:00\n---\nbody",
    "x" * 200_000,
]
KEYS = [
    "command",
    "path",
    "file_text",
    "old_str",
    "new_str",
    "insert_line",
    "insert_text",
    "view_range",
    "old_path",
    "new_path",
]
COMMANDS = ["view", "create", "str_replace", "insert", "delete", "rename", "bogus", None, 7]


def test_run_never_raises_on_a_stream_of_odd_commands(tool: MemoryTool) -> None:
    rng = random.Random(25)
    for _ in range(400):
        command: dict[str, Any] = {"command": rng.choice(COMMANDS)}
        for key in rng.sample(KEYS, rng.randint(0, 4)):
            command[key] = rng.choice(ODD)
        result = tool.run(command)
        assert isinstance(result, ToolResult)
    assert isinstance(tool.run([1, 2, 3]), ToolResult)  # type: ignore[arg-type]


# --- bounded recall query ------------------------------------------------------------------


def test_a_query_of_too_many_words_is_refused_at_once(mem: Mem, root: Path) -> None:
    assert mem("add", "a/b/c", "Tokens expire after twelve hours.").code == 0
    words = " ".join(f"w{n}" for n in range(1001))
    refused = mem("recall", words)
    assert refused.code == 5 and "1,001 words" in refused.stderr
    fine = mem("--json", "recall", " ".join(["tokens expire"] + [f"w{n}" for n in range(900)]))
    assert fine.code == 0


def test_the_mcp_recall_query_is_capped_in_its_schema_and_refused(root: Path, tmp_path: Path) -> None:
    async def main() -> None:
        params = StdioServerParameters(command=MEM_BIN, args=["mcp"], env={"MEM_ROOT": str(root)}, cwd=tmp_path)
        async with Client(params, read_timeout_seconds=60) as client:
            tools = {item.name: item for item in (await client.list_tools()).tools}
            assert tools["recall"].input_schema["properties"]["query"]["maxLength"] == 16 * 1024
            result = await client.call_tool("recall", {"query": "word " * 4000})
            assert result.is_error
            again = await client.call_tool("recall", {"query": "tokens"})
            assert not again.is_error  # the server kept serving

    anyio.run(main)
