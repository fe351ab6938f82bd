"""`mem mcp`: the memory as a stdio MCP server, built on the official `mcp` SDK (2.x).

This module imports the SDK at the top, so only the `mem mcp` command imports it (lazily):
`mem --help`, `add` and `recall` never pay for it (tests/test_imports.py).

- Each call opens the memory afresh (`Memory(root)`): entries, config and index changes made
  by other processes - a person's editor, `mem` in a terminal, another agent - are seen by
  the next call, and a root created after the server started is found.
- Core calls block (files, SQLite, the tree's write lock), so they run in worker threads:
  the server keeps answering while one call waits for the lock, and concurrent writes
  serialize on that lock like any two `mem` processes.
- A MemError comes back as a tool error with its one-line message; anything else is a tool
  error too, logged with its traceback on stderr. Either way the server keeps serving.
  stdout belongs to the protocol: nothing else is ever printed there.
- Results carry the same data as the CLI's `--json` envelope `data` (docs/json-output.md),
  as structured content and as JSON text.
- A file watcher (core/watch.py) runs in the server unless `--no-watch` or `watch.mcp: false`:
  it keeps the index current, so a recall skips its stat scan (milliseconds instead of
  ~20 ms per 10k entries) and still sees every change made before it (docs/watch.md). It
  starts in the background: until its first scan is done, recalls scan as before.
"""

import inspect
import json
import logging
import os
import threading
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from .. import __version__
from ..core.errors import MemError
from ..core.jsonable import jsonable
from ..core.layers import Layers
from ..core.llm import ENV_MODEL
from ..core.memory import Memory
from ..core.paths import parse_location
from ..core.recall import MAX_QUERY_CHARS
from ..core.watch import Watcher
from .payloads import all_entries, entry_data, shown_data, trees_data

logger = logging.getLogger("contextree.mcp")

SERVER_NAME = "contextree"

INSTRUCTIONS = """\
contextree is this project's long-term memory: a tree of short markdown entries
(domain/topic/entry) kept in the repository and shared with the people and other agents
working on it. Call `recall` before starting a task or deciding something the project may
already have settled (architecture, conventions, set-up, known bugs); call `add` when you
learn something a future session would need, or `update` when an entry is wrong or
incomplete. Never store secrets or credentials."""

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
# Changes or archives what is there (an agent's client may ask the person first).
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)

EntryPath = Annotated[
    str,
    Field(
        description="Entry path: domain/topic/entry (or domain/topic/subtopic/entry), lowercase slugs "
        "of a-z, 0-9 and '-', e.g. architecture/auth/session-tokens"
    ),
]
Tags = Annotated[list[str] | None, Field(description="Tags, e.g. ['auth', 'security'].")]
Keywords = Annotated[
    list[str] | None, Field(description="Search keywords people would use to look for this, e.g. ['jwt', 'redis'].")
]
Importance = Annotated[
    int | None, Field(ge=0, le=100, description="0-100: how much this matters (default 50; 80+ for key rules).")
]
Title = Annotated[str | None, Field(description="One-line title (default: the first line of the text).")]
Personal = Annotated[
    bool,
    Field(description="true: the user's personal memory (their own preferences across projects), not the project's."),
]


def _result(data: dict[str, Any]) -> CallToolResult:
    text = json.dumps(data, ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def llm_configured(root: str | None = None, env: dict[str, str] | None = None) -> bool:
    """Whether `curate` can work: a model is named, by MEM_LLM_MODEL or by `llm.model` in the
    memory's config.yaml (no memory yet: only the environment can say)."""
    from ..core.errors import MemError
    from ..core.llm import resolve_settings

    environment = os.environ if env is None else env
    try:
        config = Memory(root, env=environment).config.llm
    except MemError:
        return bool(environment.get(ENV_MODEL))
    return resolve_settings(config, environment) is not None


class MemoryServer:
    """The tools, bound to one memory root (None: MEM_ROOT, else `.memory/` found upward)."""

    def __init__(self, root: str | None = None) -> None:
        self.root = root

    def _memory(self) -> Memory:
        return Memory(self.root)

    def _run(self, action: Callable[[Layers], dict[str, Any]]) -> dict[str, Any]:
        memory = self._memory()
        # The project's memory with the personal one and any read-only extras (core/layers.py).
        layers = Layers(memory)
        try:
            result: dict[str, Any] = jsonable(action(layers))
        finally:
            memory.close()  # the index and state databases belong to this worker thread
            layers.close()
        # e.g. saved but not committed: the log is where a person looks
        for warning in [*memory.warnings, *layers.warnings]:
            logger.warning("%s", warning)
        return result

    async def call(self, name: str, action: Callable[[Layers], dict[str, Any]]) -> CallToolResult:
        try:
            data = await anyio.to_thread.run_sync(partial(self._run, action))
        except MemError as error:
            logger.warning("%s: %s", name, error.message)
            return _error(f"Error: {error.message}")
        except Exception as error:
            logger.exception("%s failed unexpectedly", name)
            return _error(f"Error: unexpected {type(error).__name__}: {error} (details in the server's log)")
        return _result(data)

    # --- tools ----------------------------------------------------------------------------

    async def recall(
        self,
        query: Annotated[
            str,
            Field(
                max_length=MAX_QUERY_CHARS,
                description="What you want to know, in a few keywords or a short question.",
            ),
        ],
        k: Annotated[
            int | None, Field(ge=1, le=100, description="How many entries at most (default 10, recall.k in config).")
        ] = None,
        scope: Annotated[
            str | None, Field(description="Only search under this folder, e.g. 'architecture/auth'.")
        ] = None,
        used: Annotated[
            list[str] | None,
            Field(
                description="Paths of entries from an earlier recall that helped you: they are counted as used,"
                " which keeps useful knowledge ranked and maturing."
            ),
        ] = None,
    ) -> CallToolResult:
        """Search the project's long-term memory, fastest method first (exact path or title,
        then keywords, then fuzzy matching). Returns the best entries first, each with its
        path, title, score, snippet, importance and maturity, and says which tier answered;
        `resolved: false` means the memory holds nothing sure about it. Read a whole entry with
        `show`. Use it before a task and before deciding anything the project may have settled.
        Pass `used` with the paths of earlier results that actually helped."""

        def action(layers: Layers) -> dict[str, Any]:
            confirmed = layers.confirm_use(used) if used else ()
            data: dict[str, Any] = jsonable(layers.recall(query, k=k, scope=scope))
            data.pop("explain", None)  # as `mem recall --json` without --explain
            if used:
                data["used"] = list(confirmed)
            return data

        return await self.call("recall", action)

    async def add(
        self,
        path: EntryPath,
        text: Annotated[str, Field(description="The knowledge, in markdown: the facts, the reason, how to apply it.")],
        title: Title = None,
        tags: Tags = None,
        keywords: Keywords = None,
        importance: Importance = None,
        personal: Personal = False,
    ) -> CallToolResult:
        """Save a new entry to the project's long-term memory. Use it for what a future session
        would need and cannot see in the code: a decision and its reason, a convention, a gotcha,
        a fix that took effort. Look at `tree` to reuse existing domains and topics. Fails if
        the path exists: then use `update`. Never store secrets. With personal=true it goes to
        the user's personal memory instead (their own preferences, across projects)."""

        def action(layers: Layers) -> dict[str, Any]:
            memory = layers.for_write(personal=personal)
            entry = memory.add(path, text, title=title, tags=tags or (), keywords=keywords or (), importance=importance)
            return {"entry": entry_data(entry), "memory": layers.name_of(memory)}

        return await self.call("add", action)

    async def update(
        self,
        path: EntryPath,
        text: Annotated[str | None, Field(description="A new body, replacing the old one.")] = None,
        append: Annotated[str | None, Field(description="A paragraph to add at the end of the body.")] = None,
        title: Annotated[str | None, Field(description="A new title.")] = None,
        tags: Annotated[list[str] | None, Field(description="New tags (replace the old ones).")] = None,
        keywords: Annotated[list[str] | None, Field(description="New keywords (replace the old ones).")] = None,
        importance: Importance = None,
        personal: Personal = False,
    ) -> CallToolResult:
        """Change an existing entry: replace its text, append to it, or change its title, tags,
        keywords or importance. Use it when an entry is wrong, outdated or incomplete, rather
        than adding a near-duplicate. Each change raises the entry's importance a little. The
        project's entry is changed unless personal=true or the entry is only in the personal memory."""

        def action(layers: Layers) -> dict[str, Any]:
            memory = layers.for_write(path, personal=personal)
            entry = memory.update(
                path, body=text, append=append, title=title, tags=tags, keywords=keywords, importance=importance
            )
            return {"entry": entry_data(entry), "memory": layers.name_of(memory)}

        return await self.call("update", action)

    async def show(
        self,
        path: Annotated[
            str, Field(description="Entry path, e.g. architecture/auth/session-tokens (prefix _archive/ if archived).")
        ],
    ) -> CallToolResult:
        """Read one entry in full: its metadata (title, summary, tags, importance, maturity,
        dates, source), its whole markdown body and its lifecycle (effective importance,
        recency, uses). Reading an entry in full counts as a use of it."""

        def action(layers: Layers) -> dict[str, Any]:
            location, archived = parse_location(path)
            # Read in full: counts as a use (docs/lifecycle.md), like `mem show`; the same path in
            # the project's and the personal memory comes back as two entries (`others`).
            return shown_data(layers.read(location, archived=archived), archived)

        return await self.call("show", action)

    async def tree(
        self,
        prefix: Annotated[str | None, Field(description="Only this folder, e.g. 'architecture'.")] = None,
    ) -> CallToolResult:
        """List the memory's folders and entries (path, title, importance, maturity), to see
        what is known and where a new entry belongs."""

        def action(layers: Layers) -> dict[str, Any]:
            trees = [(name, view, held.vitals(all_entries(view.root))) for name, held, view in layers.trees(prefix)]
            return trees_data(trees)

        return await self.call("tree", action)

    async def forget(
        self,
        path: EntryPath,
        reason: Annotated[str | None, Field(description="Why it no longer holds (kept with the entry).")] = None,
    ) -> CallToolResult:
        """Archive an entry that is wrong or no longer true: it moves to _archive/ and is no
        longer recalled (a person can restore it). Prefer `update` when it can be corrected."""

        def action(layers: Layers) -> dict[str, Any]:
            memory = layers.for_write(path)
            entry = memory.forget(path, reason=reason)
            return {"entry": entry_data(entry), "archived": True, "memory": layers.name_of(memory)}

        return await self.call("forget", action)

    async def curate(
        self,
        text: Annotated[
            str, Field(description="Free text to learn from: notes, a conversation, a summary of a change.")
        ],
    ) -> CallToolResult:
        """Turn free text into memory entries with the configured model: it extracts what is
        worth keeping and adds, updates or merges entries, placing them in the tree."""

        def action(layers: Layers) -> dict[str, Any]:
            data: dict[str, Any] = jsonable(layers.project.curate(text, origin="mcp"))
            return data if isinstance(data, dict) else {"result": data}

        return await self.call("curate", action)


def _doc(method: Callable[..., Any]) -> str:
    """A tool's description: its docstring dedented (the SDK would keep the 8-space indent)."""
    return inspect.cleandoc(method.__doc__ or "")


def build_server(root: str | None = None, *, log_level: str = "WARNING") -> MCPServer:
    tools = MemoryServer(root)
    server: MCPServer = MCPServer(
        name=SERVER_NAME,
        title="contextree memory",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level=log_level,  # type: ignore[arg-type]
    )
    server.add_tool(
        tools.recall, description=_doc(tools.recall), name="recall", title="Recall from memory", annotations=READ_ONLY
    )
    server.add_tool(
        tools.add,
        description=_doc(tools.add),
        name="add",
        title="Add a memory entry",
        annotations=WRITE,
    )
    server.add_tool(
        tools.update,
        description=_doc(tools.update),
        name="update",
        title="Update a memory entry",
        annotations=DESTRUCTIVE,
    )
    server.add_tool(
        tools.show, description=_doc(tools.show), name="show", title="Show a memory entry", annotations=READ_ONLY
    )
    server.add_tool(
        tools.tree, description=_doc(tools.tree), name="tree", title="Browse the memory tree", annotations=READ_ONLY
    )
    server.add_tool(
        tools.forget,
        description=_doc(tools.forget),
        name="forget",
        title="Archive a memory entry",
        annotations=DESTRUCTIVE,
    )
    if llm_configured(root):
        server.add_tool(
            tools.curate,
            description=_doc(tools.curate),
            name="curate",
            title="Curate text into memory",
            annotations=ToolAnnotations(
                read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
            ),
        )
    return server


class BackgroundWatcher:
    """The server's watcher, started in a thread so that the server answers at once."""

    def __init__(self, root: str | None, watch: bool | None) -> None:
        self.watcher: Watcher | None = None
        self.thread: threading.Thread | None = None
        try:
            memory = Memory(root)
        except MemError as error:
            # No memory yet (it may be created later): recalls scan, which always works.
            logger.info("not watching: %s", error.message)
            return
        enabled = memory.config.watch.mcp if watch is None else watch
        if not enabled:
            return
        watcher = memory.watch(on_error=lambda message: logger.warning("watch: %s", message))
        self.watcher = watcher
        self.thread = threading.Thread(target=self._start, args=(watcher,), name="mem-mcp-watch", daemon=True)
        self.thread.start()

    def _start(self, watcher: Watcher) -> None:
        try:
            watcher.start()
        except MemError as error:
            logger.warning("not watching (recall scans instead): %s", error.message)
            self.watcher = None
        except Exception:
            logger.exception("the watcher failed to start; recall scans instead")
            self.watcher = None
        else:
            logger.info("watching %s: %d entries", watcher.root, watcher.status().entries)

    def stop(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            return  # still building the index at exit: a daemon thread, it ends with the process
        if self.watcher is not None:
            self.watcher.stop()


def serve(root: str | None = None, *, watch: bool | None = None) -> None:
    """Run the server on stdin/stdout until the client closes the connection.

    `watch`: run a file watcher in the server (None: the config's `watch.mcp`, on by default).
    """
    log_level = os.environ.get("MEM_MCP_LOG_LEVEL", "WARNING").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        log_level = "WARNING"
    server = build_server(root, log_level=log_level)
    # One plain line per event on stderr: the SDK installs rich's handler, which wraps and
    # boxes each record across several lines of a narrow terminal.
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    watcher = BackgroundWatcher(root, watch)
    try:
        server.run("stdio")
    finally:
        watcher.stop()
