"""Commands of the knowledge lifecycle: consolidate, stats, graph."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .base import app, complete_folder, use
from .output import emit

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.consolidate import ConsolidateResult
    from ..core.stats import Stats

PrefixArgument = Annotated[
    str | None, typer.Argument(help="Only entries under this folder.", autocompletion=complete_folder)
]
ACTION_STYLE = {"promote": "green", "demote": "yellow", "archive": "magenta", "merge": "cyan"}
BAR_WIDTH = 40


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


def _summary(result: ConsolidateResult) -> dict[str, int]:
    plan = result.plan
    counts = {
        "promote": sum(1 for move in plan.moves if move.action == "promote"),
        "demote": sum(1 for move in plan.moves if move.action == "demote"),
        "archive": len(plan.archive),
        "merge": sum(len(proposal.absorbed) for proposal in plan.merges),
    }
    if result.outcomes:
        counts = {action: 0 for action in counts}
        for outcome in result.outcomes:
            counts[outcome.action] += outcome.done
        counts["skipped"] = sum(1 for outcome in result.outcomes if not outcome.done)
    return counts


def _render_consolidation(out: Console, result: ConsolidateResult) -> None:
    from rich.table import Table

    from .output import safe

    plan = result.plan
    applying = not result.dry_run
    table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
    table.add_column("action", no_wrap=True)
    table.add_column("entry (why)", overflow="fold")
    table.add_column("change", no_wrap=True)

    def row(action: str, path: str, change: str, why: str, *, style_action: str | None = None) -> None:
        style = ACTION_STYLE.get(style_action or action, "")
        table.add_row(f"[{style}]{action}[/{style}]", f"{safe(path)}\n[dim]{safe(why)}[/dim]", safe(change))

    for proposal in plan.merges:
        verb = "merge" if plan.merge else "merge?"
        for path in proposal.absorbed:
            row(verb, path, "-> _archive/", f"into {proposal.survivor}; {proposal.reason}", style_action="merge")
    for move in plan.moves:
        row(move.action, move.path, f"{move.before} -> {move.after}", move.reason)
    for item in plan.archive:
        row("archive", item.path, "-> _archive/", item.reason)

    if plan.empty and not plan.merges:
        out.print(f"[green]Nothing to consolidate[/green] [dim]({plan.entries} entries, {result.ms:.0f} ms)[/dim]")
        return
    heading = "Plan (dry run, nothing changed)" if result.dry_run else "Consolidated"
    if applying and plan.empty:
        heading = "Nothing to apply"
    out.print(f"[bold]{heading}[/bold] [dim]{plan.entries} entries, {result.ms:.0f} ms[/dim]")
    out.print(table)
    skipped = [outcome for outcome in result.outcomes if not outcome.done]
    for outcome in skipped:
        out.print(f"[yellow]skipped[/yellow] {outcome.action} {safe(outcome.path)}: {safe(outcome.detail)}")
    if plan.merges and not plan.merge:
        out.print("[dim]merges are only proposed: run `mem consolidate --merge` to apply them[/dim]")
    if result.dry_run:
        out.print("[dim]run without --dry-run to apply[/dim]")


@app.command()
def consolidate(
    ctx: typer.Context,
    prefix: PrefixArgument = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    merge: Annotated[
        bool, typer.Option("--merge", help="Also merge near-duplicates (otherwise they are only proposed).")
    ] = False,
) -> None:
    """Apply the lifecycle: maturity moves, archive stale drafts, propose (or --merge) near-duplicates."""
    from ..core.jsonable import jsonable

    state = use(ctx, "consolidate")
    result = state.memory().consolidate(prefix, merge=merge, dry_run=dry_run)
    data: dict[str, Any] = jsonable(result)
    data["summary"] = _summary(result)
    emit(
        state,
        data,
        lambda out: _render_consolidation(out, result),
        warnings=[str(problem) for problem in result.plan.problems],
    )


def histogram_lines(stats: Stats, width: int = BAR_WIDTH) -> list[str]:
    """The effective-importance histogram as text bars (one line per bin, highest first)."""
    top = max((item.count for item in stats.importance), default=0) or 1
    lines = []
    for item in reversed(stats.importance):
        filled = item.count * width / top
        full = int(filled)
        # Eighth blocks give the bar's end a finer resolution than one character.
        part = " ▏▎▍▌▋▊▉"[int((filled - full) * 8)] if full < width else ""
        bar = ("█" * full + part.strip()) or ("▏" if item.count else "")
        lines.append(f"{item.low:>5.0f}-{item.high:<4.0f}{bar:<{width + 1}}{item.count}")
    return lines


def _render_stats(out: Console, stats: Stats) -> None:
    from rich.table import Table

    from .output import safe

    out.print(
        f"[bold]{stats.entries}[/bold] entries{f' under {safe(stats.prefix)}' if stats.prefix else ''}, "
        f"{stats.archived} archived, {stats.hits} recorded uses"
    )
    if not stats.entries:
        return

    domains = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("domain", "entries", "draft", "validated", "core"):
        domains.add_column(column, justify="left" if column == "domain" else "right")
    for item in stats.domains:
        domains.add_row(safe(item.domain), *(str(n) for n in (item.total, item.draft, item.validated, item.core)))
    out.print()
    out.print(domains)

    out.print()
    out.print("[bold]maturity[/bold]  " + "  ".join(f"{item.name} {item.count}" for item in stats.maturity))
    out.print("[bold]age[/bold] (since last update)  " + "  ".join(f"{item.name}: {item.count}" for item in stats.ages))

    out.print()
    out.print("[bold]effective importance[/bold]")
    for line in histogram_lines(stats):
        out.print(safe(line), highlight=False)

    for label, usages in (("most used", stats.most_used), ("least used", stats.least_used)):
        if not usages:
            continue
        table = Table(box=None, pad_edge=False, header_style="bold", title_justify="left")
        for column in (label, "uses", "last use", "untouched (days)", "eff. imp.", "maturity"):
            table.add_column(column, justify="left" if column in (label, "last use", "maturity") else "right")
        for usage in usages:
            last = usage.last_access.strftime("%Y-%m-%d") if usage.last_access else "never"
            table.add_row(
                safe(usage.path),
                str(usage.hits),
                last,
                f"{usage.days_untouched:.0f}",
                f"{usage.effective_importance:.1f}",
                usage.maturity,
            )
        out.print()
        out.print(table)
    due = [f"{item.name} {item.count}" for item in stats.due if item.count]
    if due:
        out.print(f"\n[dim]`mem consolidate` would now: {', '.join(due)}[/dim]")


@app.command()
def stats(ctx: typer.Context, prefix: PrefixArgument = None) -> None:
    """Counts by domain, maturity and age, most and least used entries, importance histogram."""
    state = use(ctx, "stats")
    result = state.memory().stats(prefix)
    emit(
        state,
        result,
        lambda out: _render_stats(out, result),
        warnings=[str(problem) for problem in result.problems],
    )


@app.command()
def graph(
    ctx: typer.Context,
    prefix: PrefixArgument = None,
    output_format: Annotated[
        GraphFormat, typer.Option("--format", help="mermaid (paste into markdown) or dot (Graphviz).")
    ] = GraphFormat.mermaid,
) -> None:
    """Draw the `related` links between entries as a Mermaid or Graphviz diagram."""
    from ..core.graph import render
    from ..core.jsonable import jsonable

    state = use(ctx, "graph")
    diagram = state.memory().graph(prefix)
    text = render(diagram, output_format.value)
    data: dict[str, Any] = jsonable(diagram)
    data["format"] = output_format.value
    data["text"] = text
    data["broken"] = jsonable(diagram.broken)

    def human(out: Console) -> None:
        out.out(text, end="", highlight=False)
        for edge in diagram.broken:
            # On stderr, so `mem graph > docs/memory.mmd` keeps only the diagram.
            typer.echo(f"note: {edge.source} links to {edge.kind} entry {edge.target}", err=True)

    emit(state, data, human, warnings=[str(problem) for problem in diagram.problems])
