"""`mem curate`: free text in, a plan of entry changes out (applied unless --dry-run)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .base import app, read_text_argument, use
from .output import emit

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.curate import CurationPlan
    from .output import State

OP_STYLE = {
    "ADD": "green",
    "UPDATE": "cyan",
    "MERGE": "magenta",
    "SUPERSEDE": "yellow",
    "NOOP": "dim",
    "DELETE": "red",
}


def _read_file(file: Path) -> str:
    from ..core.errors import InvalidError, NotFoundError

    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"no file {file}") from None
    except OSError as error:
        raise InvalidError(f"cannot read {file}: {error.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidError(f"{file} is not UTF-8 text (byte offset {error.start})") from None


def _render(out: Console, plan: CurationPlan) -> None:
    from rich.table import Table

    from .output import safe

    if not plan.operations:
        out.print("[yellow]Nothing worth keeping was found in the text.[/yellow]")
    else:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("op", "entry", "acts on", "title", "why"):
            table.add_column(column, overflow="fold")
        for operation in plan.operations:
            style = OP_STYLE.get(operation.op, "")
            label = f"[{style}]{operation.op}[/{style}]"
            if operation.skipped:
                label += " [dim](skipped)[/dim]"
            reason = operation.skipped or operation.reason
            table.add_row(
                label,
                safe(operation.path or ""),
                safe(", ".join(operation.targets)),
                safe(operation.title or operation.item),
                safe(reason),
            )
        out.print(table)
    cost = f"{plan.calls} model call(s), {plan.tokens_in} tokens in, {plan.tokens_out} out, {plan.ms / 1000:.1f} s"
    if plan.dry_run:
        out.print(f"[bold]Dry run[/bold]: nothing was written [dim]({plan.items} item(s); {cost})[/dim]")
    else:
        out.print(
            f"[green]Applied {plan.applied} operation(s)[/green] as [bold]{safe(plan.source)}[/bold] "
            f"[dim]({plan.items} item(s) from {plan.chunks} chunk(s); {cost})[/dim]"
        )
    for note in plan.notes:
        out.print(f"[dim]note: {safe(note)}[/dim]")


def _curate_inbox(state: State, *, dry_run: bool, yes: bool) -> None:
    from ..core.inbox import curate_inbox

    done = curate_inbox(state.memory(), dry_run=dry_run, yes=yes)

    def human(out: Console) -> None:
        if not done:
            out.print("The inbox is empty: nothing to curate.")
        for item in done:
            out.print(f"[bold]{item.session}[/bold] ({item.turns} turn(s))")
            _render(out, item.plan)

    emit(state, {"sessions": done}, human)


@app.command()
def curate(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="The text to curate; '-' or nothing reads stdin.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the text from this file.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; write nothing.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Also apply DELETE operations (archived, never erased).")] = False,
    allow_secrets: Annotated[
        bool,
        typer.Option("--allow-secrets", help="Curate text that looks like it holds a secret (refused by default)."),
    ] = False,
    origin: Annotated[
        str | None,
        typer.Option("--origin", help="Provenance: entries get source curate:ORIGIN (default: the file name)."),
    ] = None,
    inbox: Annotated[
        bool,
        typer.Option(
            "--inbox",
            help="Curate the session turns the hooks captured without a model (.mem/inbox/), then clear them.",
        ),
    ] = False,
) -> None:
    """Let the model turn free text (notes, a conversation, a diff summary) into entries.

    With `--inbox`, the text is what the agents' session hooks captured while no model was
    configured (docs/agents.md#hooks): each session is curated in turn and leaves the inbox
    once its plan is applied. Inbox turns are never recalled before that.
    """
    from ..core.errors import InvalidError

    state = use(ctx, "curate")
    if inbox:
        if file is not None or text is not None or origin is not None:
            raise InvalidError("--inbox curates the captured sessions: give no text, --file or --origin with it")
        _curate_inbox(state, dry_run=dry_run, yes=yes)
        return
    if file is not None and text is not None:
        raise InvalidError("give the text as an argument, on stdin or with --file, not several")
    if file is not None:
        content = _read_file(file)
        default_origin = file.name
    else:
        content = read_text_argument(text, "text to curate")
        default_origin = "stdin" if text in (None, "-") else "text"
    plan = state.memory().curate(
        content, origin=origin or default_origin, dry_run=dry_run, yes=yes, allow_secrets=allow_secrets
    )
    emit(state, plan, lambda out: _render(out, plan))
