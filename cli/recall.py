"""Commands that search: recall and reindex."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from . import actions
from .base import app, use
from .output import emit

if TYPE_CHECKING:
    from rich.console import Console


class TierChoice(StrEnum):
    path = "path"
    keyword = "keyword"
    fuzzy = "fuzzy"
    llm = "llm"
    agent = "agent"


class FormatChoice(StrEnum):
    text = "text"
    context = "context"


@app.command()
def recall(
    ctx: typer.Context,
    query: Annotated[
        str | None, typer.Argument(help="What you want to know: words, a question, a path or a title.")
    ] = None,
    k: Annotated[
        int | None,
        typer.Option("-k", "--k", min=1, help="How many results (default: recall.k, 10); all of them are shown."),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Show every hit, also those far less relevant than the best one.")
    ] = False,
    scope: Annotated[str | None, typer.Option("--scope", help="Only entries under this folder.")] = None,
    max_tier: Annotated[
        TierChoice | None,
        typer.Option("--max-tier", help="Go no further than this tier (a confident cheaper tier still ends the walk)."),
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show each tier's candidates, scores and time.")] = False,
    escalate: Annotated[
        bool,
        typer.Option("--escalate", help="Walk every tier up to --max-tier even after a confident one (asks a model)."),
    ] = False,
    output_format: Annotated[
        FormatChoice, typer.Option("--format", help="text, or context: a paste-ready block for agent prompts.")
    ] = FormatChoice.text,
    budget: Annotated[int, typer.Option("--budget", min=50, help="Token budget for --format context.")] = 2000,
    used: Annotated[
        list[str] | None,
        typer.Option(
            "--used",
            metavar="PATH",
            help="Count this entry (from an earlier recall) as used: it helped. Repeatable; QUERY is then optional.",
        ),
    ] = None,
) -> None:
    """Find what the memory knows about QUERY: path, keyword, fuzzy, then (with a model) llm and agent tiers."""
    actions.recall(
        use(ctx, "recall"),
        query=query,
        k=k,
        show_all=show_all,
        scope=scope,
        max_tier=max_tier.value if max_tier else None,
        explain=explain,
        escalate=escalate,
        output_format=output_format.value,
        budget=budget,
        used=used,
    )


@app.command()
def reindex(
    ctx: typer.Context,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Drop the index and rebuild it from the files; remove other mem versions' index files."
        ),
    ] = False,
) -> None:
    """Bring the search index up to date (recall does this by itself; --full rebuilds it)."""
    state = use(ctx, "reindex")
    memory = state.memory()
    show_progress = not state.json and not state.quiet
    if show_progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from .output import console

        columns = (TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=True, console=console(stderr=True)) as bar:
            task = bar.add_task("index", total=None)
            report = memory.reindex(
                full=full, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
    else:
        report = memory.reindex(full=full)

    def human(out: Console) -> None:
        verb = "Rebuilt" if report.rebuilt else "Updated"
        out.print(
            f"[green]{verb}[/green] the index: {report.scanned} entries, {report.added} added, "
            f"{report.updated} changed, {report.removed} removed [dim]({report.ms:.0f} ms)[/dim]"
        )

    emit(state, report, human, warnings=[str(problem) for problem in report.problems], confirmation=True)
