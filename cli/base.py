"""The typer application object and the small helpers every command module shares."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

# Shared with the typer-free command bodies (cli/actions.py); re-exported for the others.
from .actions import read_text_argument, split_list
from .output import State

if TYPE_CHECKING:
    # typer vendors click (typer._click): its help types are named from there.
    from typer._click import Context as ClickContext
    from typer._click import HelpFormatter

__all__ = [
    "ImportanceOption",
    "KeywordsOption",
    "RelatedOption",
    "SourceOption",
    "TagsOption",
    "UpdateImportanceOption",
    "app",
    "complete_entry_path",
    "complete_folder",
    "global_options",
    "read_text_argument",
    "split_list",
    "use",
]

HELP = """contextree's `mem`: a long-term memory of markdown files for coding agents and people.

Knowledge lives in a context tree (domain/topic/entry) of plain markdown files under
`.memory/`; `mem recall` answers from it, fastest tier first.
Aliases: search, find -> recall; get, cat -> show; ls -> list; rm -> forget.
Each command: `mem COMMAND --help`; the reference is docs/cli.md in the contextree sources.
"""

# The order `mem --help` lists commands in: the everyday ones first, by what they do.
COMMAND_ORDER = (
    "init", "add", "show", "list", "recent", "tree", "edit", "update", "mv", "forget",
    "recall", "reindex", "curate", "import", "export",
    "consolidate", "stats", "graph", "doctor",
    "log", "undo", "sync", "watch",
    "mcp", "memory-tool", "hook", "config",
)  # fmt: skip


class OrderedGroup(typer.core.TyperGroup):
    def list_commands(self, ctx: ClickContext) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: position for position, name in enumerate(COMMAND_ORDER)}
        return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))

    def format_commands(self, ctx: ClickContext, formatter: HelpFormatter) -> None:
        """The command list with each summary whole (its first sentence), wrapped under
        itself when long: click would cut it at the terminal's width with '...'."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    cls=OrderedGroup,
    name="mem",
    help=HELP,
    no_args_is_help=True,
    # `mem --install-completion` / `--show-completion` (bash, zsh, fish, PowerShell); entry
    # paths complete from the memory found like any command finds it (complete_entry_path).
    add_completion=True,
    pretty_exceptions_enable=False,
    # Plain help: typer's rich help imports rich.markdown and rich.traceback (~70 ms), which
    # would put `mem --help` over its 150 ms budget (docs/benchmarks.md).
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def print_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"mem (contextree) {__version__}")
        raise typer.Exit(0)


@app.callback()
def global_options(
    ctx: typer.Context,
    root: Annotated[
        Path | None,
        typer.Option("--root", help="Memory folder (default: MEM_ROOT, else the nearest .memory/ upward)."),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only results and errors; no confirmations.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for unexpected errors.")] = False,
    version: Annotated[
        bool,
        # Eager: handled while parsing, before click insists on a command ("Missing command").
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=print_version),
    ] = False,
) -> None:
    state = ctx.ensure_object(State)
    state.root = str(root) if root is not None else None
    state.json = json_output
    state.quiet = quiet
    state.debug = debug


def use(ctx: typer.Context, command: str) -> State:
    """The global state, labelled with the command that is running (for the JSON envelope)."""
    state = ctx.find_object(State)
    if state is None:  # invoked without main() (e.g. typer's test runner): defaults
        state = ctx.ensure_object(State)
    state.command = command
    return state


def _entry_paths() -> list[str]:
    """Every entry path of the memory the shell is in (nothing when there is none)."""
    try:
        from ..core.memory import Memory

        return [record.path for record in Memory().scan().records]
    except Exception:  # completion must never print a traceback into the shell
        return []


def complete_entry_path(incomplete: str) -> list[str]:
    """Shell completion for an entry path argument."""
    return [path for path in _entry_paths() if path.startswith(incomplete)]


def complete_folder(incomplete: str) -> list[str]:
    """Shell completion for a folder argument: every folder that holds entries."""
    folders = {path.rsplit("/", depth)[0] for path in _entry_paths() for depth in range(1, path.count("/") + 1)}
    return sorted(folder for folder in folders if folder.startswith(incomplete))


TagsOption = Annotated[list[str] | None, typer.Option("--tags", help="Tags, comma-separated or repeated.")]
KeywordsOption = Annotated[
    list[str] | None, typer.Option("--keywords", help="Search keywords, comma-separated or repeated.")
]
RelatedOption = Annotated[
    list[str] | None, typer.Option("--related", help="Paths of related entries, comma-separated or repeated.")
]
# No click range on --importance: the entry format checks it (one message, exit code 5 like
# every invalid value; click's range error would exit 2).
ImportanceOption = Annotated[int | None, typer.Option("--importance", help="0-100 (default 50).")]
UpdateImportanceOption = Annotated[
    int | None, typer.Option("--importance", help="0-100 (default: the current one + 5, capped at 100).")
]
SourceOption = Annotated[
    str | None, typer.Option("--source", help="Provenance: user, agent:NAME, ... (default: MEM_SOURCE or config).")
]
PersonalOption = Annotated[
    bool, typer.Option("--personal", help="Write to your personal memory, not the project's (docs/concepts.md).")
]
MemoryOption = Annotated[
    str | None, typer.Option("--memory", help="Only this memory: project, personal or an extra's name.")
]
