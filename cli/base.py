"""The typer application object and the small helpers every command module shares."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .output import State

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


def use(ctx: typer.Context, command: str) -> State:
    """The global state, labelled with the command that is running (for the JSON envelope)."""
    state = ctx.find_object(State)
    if state is None:  # invoked without main() (e.g. typer's test runner): defaults
        state = ctx.ensure_object(State)
    state.command = command
    return state


def split_list(values: list[str] | None) -> list[str] | None:
    """`--tags a,b --tags c` -> ['a', 'b', 'c']; None when the option was not given."""
    if values is None:
        return None
    items = [item.strip() for value in values for item in value.split(",")]
    return [item for item in items if item]


def read_text_argument(text: str | None, what: str) -> str:
    """TEXT from the argument, or from stdin when it is '-' or missing and stdin is piped."""
    from ..core.errors import InvalidError

    if text is not None and text != "-":
        return text
    if text is None and sys.stdin.isatty():
        raise InvalidError(f"give the {what} as an argument or pipe it on stdin")
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidError(f"the {what} on stdin is not UTF-8 text (byte offset {error.start})") from None


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
