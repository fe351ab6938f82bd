"""Commands that search: recall and reindex."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .base import app, use
from .output import emit

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.recall import Hit, RecallResult


class TierChoice(StrEnum):
    path = "path"
    keyword = "keyword"
    fuzzy = "fuzzy"
    llm = "llm"
    agent = "agent"


class FormatChoice(StrEnum):
    text = "text"
    context = "context"


def _hit_line(position: int, hit: Hit) -> str:
    from rich.markup import escape

    line = (
        f"[bold]{position}.[/bold] [bold cyan]{escape(hit.path)}[/bold cyan]  {escape(hit.title)}  "
        f"[dim]score {hit.score:.2f} · {hit.tier} · relevance {hit.relevance:.2f} · "
        f"importance {hit.importance} {hit.maturity}[/dim]"
    )
    if hit.flags:
        line += (
            f"\n   [bold red]flagged: reads like instructions to an agent ({escape(', '.join(hit.flags))})[/bold red]"
        )
    if hit.superseded_by:
        line += f"\n   [yellow]superseded by {escape(hit.superseded_by)}[/yellow]"
    return line


def _render(out: Console, result: RecallResult, explain: bool) -> None:
    from rich.markup import escape

    total = result.timings_ms.get("total", 0.0)
    if not result.results:
        out.print(f"[yellow]{result.message}[/yellow] [dim]({total:.1f} ms)[/dim]")
    else:
        status = (
            "[green]" + escape(result.message) + "[/green]"
            if result.resolved
            else "[yellow]" + escape(result.message) + "[/yellow]"
        )
        out.print(f"{status} [dim]({total:.1f} ms)[/dim]")
        if result.answer:
            out.print(f"[bold]answer:[/bold] {escape(result.answer)}")
        for position, hit in enumerate(result.results, 1):
            out.print(_hit_line(position, hit))
            if hit.snippet:
                out.print(f"   [dim]{escape(hit.snippet)}[/dim]")
    for note in result.notes:
        out.print(f"[dim]note: {escape(note)}[/dim]")
    if result.llm is not None:
        info = result.llm
        spent = "cached" if info.cached else f"{info.tokens_in} tokens in, {info.tokens_out} out, {info.calls} call(s)"
        verdict = f", failed: {escape(info.error)}" if info.error else ""
        out.print(f"[dim]model: {escape(info.model)} ({info.tier} tier; {spent}; {info.ms:.0f} ms{verdict})[/dim]")
    if explain:
        from rich.table import Table

        for trace in result.explain:
            verdict = "[green]confident[/green]" if trace.confident else "[yellow]not confident[/yellow]"
            out.print(
                f"\n[bold]{trace.tier}[/bold] tier: {verdict} [dim]({trace.ms:.2f} ms) {escape(trace.reason)}[/dim]"
            )
            table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
            for column in ("path", "relevance", "score"):
                table.add_column(column, justify="left" if column == "path" else "right")
            for candidate in trace.candidates[:10]:
                table.add_row(candidate.path, f"{candidate.relevance:.3f}", f"{candidate.score:.3f}")
            out.print(table)
        timings = ", ".join(f"{name} {ms:.2f}" for name, ms in result.timings_ms.items())
        out.print(f"\n[dim]timings (ms): {timings}[/dim]")


@app.command()
def recall(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What you want to know: words, a question, a path or a title.")],
    k: Annotated[int | None, typer.Option("-k", "--k", min=1, help="How many results (default: recall.k, 10).")] = None,
    scope: Annotated[str | None, typer.Option("--scope", help="Only entries under this folder.")] = None,
    max_tier: Annotated[TierChoice | None, typer.Option("--max-tier", help="Stop after this tier.")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show each tier's candidates, scores and time.")] = False,
    escalate: Annotated[
        bool,
        typer.Option("--escalate", help="Walk every tier up to --max-tier even after a confident one (asks a model)."),
    ] = False,
    output_format: Annotated[
        FormatChoice, typer.Option("--format", help="text, or context: a paste-ready block for agent prompts.")
    ] = FormatChoice.text,
    budget: Annotated[int, typer.Option("--budget", min=50, help="Token budget for --format context.")] = 2000,
) -> None:
    """Find what the memory knows about QUERY: path, keyword, fuzzy, then (with a model) llm and agent tiers."""
    from ..core.jsonable import jsonable

    state = use(ctx, "recall")
    memory = state.memory()
    result = memory.recall(
        query, k=k, scope=scope, max_tier=max_tier.value if max_tier else None, explain=explain, escalate=escalate
    )
    context = memory.recall_context(result, budget) if output_format is FormatChoice.context else None

    data: dict[str, Any] = jsonable(result)
    if not explain:
        data.pop("explain")
    if context is not None:
        data["context"] = jsonable(context)

    def human(out: Console) -> None:
        if context is not None:
            out.out(context.text, end="", highlight=False)
            return
        _render(out, result, explain)

    emit(state, data, human, warnings=result.problems)


@app.command()
def reindex(
    ctx: typer.Context,
    full: Annotated[bool, typer.Option("--full", help="Drop the index and rebuild it from the files.")] = False,
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
