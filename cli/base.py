"""The typer application object and the small helpers every command module shares."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# Shared with the typer-free command bodies (cli/actions.py); re-exported for the others.
from .actions import read_text_argument, split_list
from .output import State

__all__ = [
    "ImportanceOption",
    "KeywordsOption",
    "RelatedOption",
    "SourceOption",
    "TagsOption",
    "app",
    "global_options",
    "read_text_argument",
    "split_list",
    "use",
]

HELP = """contextree's `mem`: a long-term memory of markdown files for coding agents and people.

Knowledge lives in a context tree (domain/topic/entry) of plain markdown files under
`.memory/`; `mem recall` answers from it, fastest tier first. Docs: docs/cli.md.
"""

# The order `mem --help` lists commands in: the everyday ones first, by what they do.
COMMAND_ORDER = (
    "init", "add", "show", "list", "tree", "update", "mv", "forget",
    "recall", "reindex", "curate", "import", "export",
    "consolidate", "stats", "graph", "doctor",
    "log", "undo", "sync", "watch",
    "mcp", "memory-tool", "config",
)  # fmt: skip


class OrderedGroup(typer.core.TyperGroup):
    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        names = super().list_commands(ctx)
        rank = {name: position for position, name in enumerate(COMMAND_ORDER)}
        return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


app = typer.Typer(
    cls=OrderedGroup,
    name="mem",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
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


TagsOption = Annotated[list[str] | None, typer.Option("--tags", help="Tags, comma-separated or repeated.")]
KeywordsOption = Annotated[
    list[str] | None, typer.Option("--keywords", help="Search keywords, comma-separated or repeated.")
]
RelatedOption = Annotated[
    list[str] | None, typer.Option("--related", help="Paths of related entries, comma-separated or repeated.")
]
ImportanceOption = Annotated[int | None, typer.Option("--importance", min=0, max=100, help="0-100 (default 50).")]
SourceOption = Annotated[
    str | None, typer.Option("--source", help="Provenance: user, agent:NAME, ... (default: MEM_SOURCE or config).")
]
PersonalOption = Annotated[
    bool, typer.Option("--personal", help="Write to your personal memory, not the project's (docs/concepts.md).")
]
MemoryOption = Annotated[
    str | None, typer.Option("--memory", help="Only this memory: project, personal or an extra's name.")
]
