"""`mem mcp` with the official SDK's own client: started as a subprocess over stdio, the way
Claude Code, Codex and Cursor start it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from contextree import Memory
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.types import CallToolResult

from .conftest import MEM_BIN, run_mem

TOOLS = {"recall", "add", "update", "show", "tree", "forget"}


@asynccontextmanager
async def server(root: Path, cwd: Path, **env: str) -> AsyncIterator[Client]:
    params = StdioServerParameters(
        command=MEM_BIN,
        args=["mcp"],
        env={"MEM_ROOT": str(root), "MEM_SOURCE": "agent:test", **env},
        cwd=cwd,
    )
    async with Client(params, read_timeout_seconds=60) as client:
        yield client


def run(test: Callable[[], Awaitable[None]]) -> None:
    anyio.run(test)


def data(result: CallToolResult) -> Any:
    assert not result.is_error, result.content
    text = result.content[0].text  # type: ignore[union-attr]
    assert json.loads(text) == result.structured_content  # the text is the same JSON
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result
    text: str = result.content[0].text  # type: ignore[union-attr]
    return text


def test_tools_are_listed_with_schemas_and_hints(root: Path, tmp_path: Path) -> None:
    async def main() -> None:
        async with server(root, tmp_path) as client:
            listed = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert set(listed) == TOOLS  # no curate without a model
            for name in ("recall", "show", "tree"):
                assert listed[name].annotations.read_only_hint is True  # type: ignore[union-attr]
            for name in ("update", "forget"):
                hints = listed[name].annotations
                assert hints.read_only_hint is False and hints.destructive_hint is True  # type: ignore[union-attr]
            assert listed["add"].annotations.destructive_hint is False  # type: ignore[union-attr]
            add = listed["add"].input_schema
            assert set(add["required"]) == {"path", "text"}
            assert add["properties"]["importance"]["anyOf"][0]["maximum"] == 100
            assert "domain/topic/entry" in add["properties"]["path"]["description"]
            assert listed["recall"].input_schema["required"] == ["query"]
            assert all(len(tool.description or "") > 80 for tool in listed.values())
            assert "recall" in (client.instructions or "")

    run(main)


def test_add_show_and_a_bad_path_does_not_stop_the_server(root: Path, tmp_path: Path) -> None:
    async def main() -> None:
        async with server(root, tmp_path) as client:
            added = data(
                await client.call_tool(
                    "add",
                    {"path": "tools/mcp/first", "text": "MCP works over stdio.", "tags": ["mcp"], "importance": 70},
                )
            )
            assert added["entry"]["path"] == "tools/mcp/first" and added["entry"]["source"] == "agent:test"
            shown = data(await client.call_tool("show", {"path": "tools/mcp/first"}))
            assert shown["entry"] == added["entry"] and shown["archived"] is False
            assert shown["lifecycle"]["hits"] == 1  # reading in full through MCP counts as a use
            recalled = data(await client.call_tool("recall", {"query": "does MCP work over stdio", "k": 3}))
            assert recalled["resolved"] is True and recalled["results"][0]["path"] == "tools/mcp/first"
            assert "explain" not in recalled
            # Being the first hit is not a use; saying that an entry helped is (issue 13).
            assert data(await client.call_tool("show", {"path": "tools/mcp/first"}))["lifecycle"]["hits"] == 2
            confirmed = data(await client.call_tool("recall", {"query": "stdio", "used": ["tools/mcp/first"], "k": 1}))
            assert confirmed["used"] == ["tools/mcp/first"]
            assert data(await client.call_tool("show", {"path": "tools/mcp/first"}))["lifecycle"]["hits"] == 4
            assert "no entry" in error_text(await client.call_tool("recall", {"query": "x", "used": ["no/such/one"]}))

            message = error_text(await client.call_tool("show", {"path": "../../etc/passwd"}))
            assert message.startswith("Error: path '../../etc/passwd' contains '..'")
            assert "already exists" in error_text(
                await client.call_tool("add", {"path": "tools/mcp/first", "text": "x"})
            )
            assert "less than or equal to 100" in error_text(
                await client.call_tool("add", {"path": "a/b/c", "text": "x", "importance": 500})
            )
            assert "no entry" in error_text(await client.call_tool("update", {"path": "a/b/c", "append": "x"}))

            # Still serving, and nothing was written by the failed calls.
            tree = data(await client.call_tool("tree", {}))
            assert [f["name"] for f in tree["root"]["folders"]] == ["tools"]
            updated = data(await client.call_tool("update", {"path": "tools/mcp/first", "append": "And updates."}))
            assert updated["entry"]["body"] == "MCP works over stdio.\n\nAnd updates.\n"
            forgotten = data(await client.call_tool("forget", {"path": "tools/mcp/first", "reason": "test"}))
            assert forgotten["archived"] is True

    run(main)
    assert Memory(root).get("tools/mcp/first", archived=True).extra["archived_reason"] == "test"


def test_entries_written_by_other_processes_are_seen(root: Path, tmp_path: Path) -> None:
    async def main() -> None:
        async with server(root, tmp_path) as client:
            assert "no entry" in error_text(await client.call_tool("show", {"path": "team/ci/flaky-tests"}))
            done = await anyio.to_thread.run_sync(
                lambda: run_mem("add", "team/ci/flaky-tests", "Retry flaky tests once, then quarantine them.")
            )
            assert done.returncode == 0, done.stderr
            shown = data(await client.call_tool("show", {"path": "team/ci/flaky-tests"}))
            assert shown["entry"]["source"] == "user"
            recalled = data(await client.call_tool("recall", {"query": "quarantine flaky tests"}))
            assert [hit["path"] for hit in recalled["results"]][:1] == ["team/ci/flaky-tests"]

            # A person edits the file in an editor: the next call reads the new text.
            file = root / "team" / "ci" / "flaky-tests.md"
            file.write_text(file.read_text().replace("once", "twice"))
            shown = data(await client.call_tool("show", {"path": "team/ci/flaky-tests"}))
            assert "Retry flaky tests twice" in shown["entry"]["body"]
            # ... and the index the server searches follows the file, without a restart.
            file.write_text(file.read_text().replace("quarantine", "skip-list"))
            recalled = data(await client.call_tool("recall", {"query": "skip-list", "scope": "team"}))
            assert [hit["path"] for hit in recalled["results"]][:1] == ["team/ci/flaky-tests"]

    run(main)


def test_concurrent_calls_never_corrupt_the_tree(root: Path, tmp_path: Path) -> None:
    Memory(root).add("shared/log/events", "# Events", importance=0)

    async def main() -> None:
        async with server(root, tmp_path) as client:
            results: list[CallToolResult] = []

            async def call(name: str, arguments: dict[str, Any]) -> None:
                results.append(await client.call_tool(name, arguments))

            async def other_process() -> None:
                for n in range(5):
                    done = await anyio.to_thread.run_sync(
                        lambda n=n: run_mem("update", "shared/log/events", "--append", f"cli {n}")
                    )
                    assert done.returncode == 0, done.stderr

            async with anyio.create_task_group() as group:
                for n in range(12):
                    group.start_soon(call, "add", {"path": f"shared/many/e{n}", "text": f"entry {n}"})
                    group.start_soon(call, "update", {"path": "shared/log/events", "append": f"mcp {n}"})
                group.start_soon(other_process)
            assert not [r for r in results if r.is_error], [error_text(r) for r in results if r.is_error]

    run(main)
    memory = Memory(root)
    listing = memory.list()
    assert listing.problems == ()
    assert sorted(e.path for e in listing.entries if e.path.startswith("shared/many/")) == sorted(
        f"shared/many/e{n}" for n in range(12)
    )
    events = memory.get("shared/log/events")
    lines = set(events.body.split("\n"))
    assert {f"mcp {n}" for n in range(12)} | {f"cli {n}" for n in range(5)} <= lines
    assert events.importance == 17 * 5  # every one of the 17 updates was applied once
    assert not [p for p in root.rglob("*.tmp")]


def test_server_without_a_memory_yet_answers_with_an_error_then_finds_it(tmp_path: Path) -> None:
    missing = tmp_path / "later"

    async def main() -> None:
        async with server(missing, tmp_path) as client:
            assert "does not exist" in error_text(await client.call_tool("tree", {}))
            Memory.init(missing)
            assert data(await client.call_tool("tree", {}))["root"]["folders"] == []

    run(main)


def test_an_unexpected_exception_is_a_tool_error_and_logged(
    root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from contextree.cli.mcp_server import build_server

    def broken(self: Memory, prefix: str | None = None) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Memory, "tree", broken)

    async def main() -> None:
        async with Client(build_server(str(root))) as client:
            message = error_text(await client.call_tool("tree", {}))
            assert message.startswith("Error: unexpected RuntimeError: disk on fire")
            data(await client.call_tool("add", {"path": "still/serving/yes", "text": "ok"}))

    run(main)
    assert any(record.exc_info and "tree failed unexpectedly" in record.message for record in caplog.records)


def test_curate_is_offered_only_with_a_model(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from contextree.cli.mcp_server import build_server

    async def names() -> set[str]:
        async with Client(build_server(str(root))) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    assert anyio.run(names) == TOOLS
    monkeypatch.setenv("MEM_LLM_MODEL", "openai/test-model")
    assert anyio.run(names) == TOOLS | {"curate"}
    monkeypatch.delenv("MEM_LLM_MODEL")
    (root / "config.yaml").write_text("llm:\n  model: openai/from-config\n")  # a model named in config.yaml
    assert anyio.run(names) == TOOLS | {"curate"}
