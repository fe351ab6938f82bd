"""Commands for coding agents: `mem mcp` (the MCP server) and `mem memory-tool` (Claude's memory tool)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from .base import app, use
from .output import emit


@app.command(rich_help_panel="Agents")
def mcp(
    ctx: typer.Context,
    watch: Annotated[
        bool | None,
        typer.Option(
            "--watch/--no-watch",
            help="Keep the index current with a file watcher, so recall skips its scan (default: watch.mcp, on).",
        ),
    ] = None,
) -> None:
    """Serve the memory to coding agents over MCP (stdio): recall, add, update, show, tree, forget.

    Start it from the agent's MCP config (`mem init --agent claude` writes one). The memory
    is --root, MEM_ROOT, else the `.memory/` found upward from the working directory; writes
    are attributed to MEM_SOURCE (e.g. agent:claude-code). Logs go to stderr
    (MEM_MCP_LOG_LEVEL=INFO for more). A watcher runs in the server unless --no-watch or
    `watch.mcp: false` (docs/watch.md).
    """
    state = use(ctx, "mcp")
    if sys.stdin.isatty():
        # A person ran it in a terminal: say what it is waiting for (on stderr, never stdout).
        sys.stderr.write(
            "mem mcp speaks the Model Context Protocol on stdin/stdout and is started by an agent; "
            "see `mem init --agent claude` (Ctrl-D stops it).\n"
        )
    from .mcp_server import serve  # imports the mcp SDK: only this command pays for it

    serve(state.root, watch=watch)


@app.command("memory-tool", rich_help_panel="Agents")
def memory_tool(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Option("--source", help="Provenance of created files (default agent:claude-memory-tool).")
    ] = None,
) -> None:
    """Run one command of Claude's memory tool (memory_20250818) on the memory.

    Reads one JSON command on stdin, e.g. {"command": "view", "path": "/memories"}, and prints
    the text to send back as the tool_result; the exit code is not 0 when that text is an
    error (send it with is_error: true). `/memories` is the memory root; see docs/agents.md.
    """
    import json

    from ..core.errors import InvalidError, MemError
    from ..core.memory_tool import TOOL_SOURCE, MemoryTool

    state = use(ctx, "memory-tool")

    def execute() -> tuple[Any, str]:
        if sys.stdin.isatty():
            raise InvalidError('pipe one JSON command on stdin, e.g. {"command": "view", "path": "/memories"}')
        try:
            command = json.loads(sys.stdin.buffer.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidError(f"stdin is not a JSON command ({error})") from None
        except RecursionError:
            raise InvalidError("stdin is not a JSON command (nested too deeply)") from None
        tool = MemoryTool(state.memory(), source=source or TOOL_SOURCE)
        return command, tool.execute(command)

    if state.json:
        command, text = execute()  # a failure becomes the standard error envelope
        name = command.get("command") if isinstance(command, dict) else None
        emit(state, {"command": name, "result": text}, lambda out: out.out(text, highlight=False))
        return
    try:
        _, text = execute()
    except MemError as error:
        # The error text is the tool result too: it goes where the harness reads results.
        sys.stdout.write(error.message + "\n")
        raise typer.Exit(int(error.exit_code)) from None
    sys.stdout.write(text + "\n")


@app.command("hook", rich_help_panel="Agents")
def hook(
    ctx: typer.Context,
    event: Annotated[str, typer.Argument(help="session-start, prompt, pre-compact, session-end or stop.")],
    agent: Annotated[str, typer.Option("--agent", help="The agent calling: claude, codex or cursor.")] = "claude",
) -> None:
    """Run one agent hook: read its JSON payload on stdin, print what the agent expects.

    Installed by `mem init --agent NAME --hooks`. `session-start` prints a short briefing,
    `prompt` the confident entries about the prompt (or nothing at all), `pre-compact`,
    `session-end` and `stop` capture the session's new turns (curated with a model, else kept
    in the inbox for `mem curate --inbox`). It always exits 0 and prints nothing on error
    (see .mem/hooks.log); see docs/agents.md#hooks. `mem` runs it without loading typer.
    """
    from .hook import run as run_hook

    state = use(ctx, "hook")
    args = [event, "--agent", agent] + (["--root", state.root] if state.root else [])
    # In-process (tests, the typer path): a passed deadline abandons the worker instead of
    # ending the process.
    code = run_hook(args, exit_on_deadline=False)
    if code:
        raise typer.Exit(code)
