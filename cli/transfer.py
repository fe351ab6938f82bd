"""`mem import` and `mem export`: knowledge in from other tools and files, and out again."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .base import app, use
from .output import console, emit

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.import_format import ImportReport

ACTION_STYLE = {"create": "green", "update": "cyan", "unchanged": "dim", "skip": "yellow", "refused": "red"}
# Below this many entries an import is over before a bar would be worth drawing.
PROGRESS_MIN_ITEMS = 500


class SourceKind(StrEnum):
    folder = "folder"
    file = "file"
    byterover = "byterover"
    mcp_memory = "mcp-memory"
    export = "export"
    transcript = "transcript"


class ExportFormatChoice(StrEnum):
    jsonl = "jsonl"
    markdown = "markdown"


def _render_import(out: Console, report: ImportReport, verbose: bool) -> None:
    from .output import safe

    shown = 0
    for item in report.items:
        if item.action == "unchanged" and not verbose:
            continue
        if item.action in ("create", "update") and not (report.dry_run or verbose):
            continue
        style = ACTION_STYLE[item.action]
        target = f" -> {safe(item.path)}" if item.path and item.action != "skip" else ""
        reason = f" [dim]({safe(item.reason)})[/dim]" if item.reason else ""
        out.print(f"[{style}]{item.action:9}[/{style}] {safe(item.origin)}{target}{reason}")
        shown += 1
    counts = report.counts
    summary = ", ".join(f"{counts[action]} {action}" for action in ACTION_STYLE if counts.get(action))
    head = "[bold]Dry run[/bold]: nothing was written" if report.dry_run else "[green]Imported[/green]"
    out.print(
        f"{head} from {safe(report.source)} [dim]({report.kind})[/dim]: {summary or 'nothing to import'} "
        f"[dim]({report.elapsed_seconds:.2f} s)[/dim]"
    )


@app.command("import")
def import_(
    ctx: typer.Context,
    source: Annotated[
        Path, typer.Argument(help="A folder, a markdown file, a memory.json, a mem export or a session transcript.")
    ],
    kind: Annotated[
        SourceKind | None,
        typer.Option("--from", help="What the source is (default: detected): folder, file, byterover, ..."),
    ] = None,
    into: Annotated[
        str | None,
        typer.Option("--into", help="Domain (or domain/topic) to import under (default: named after the source)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan: what goes where, what is skipped.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every entry, unchanged ones too.")] = False,
    allow_secrets: Annotated[
        bool, typer.Option("--allow-secrets", help="Import entries that look like they hold a secret.")
    ] = False,
) -> None:
    """Import notes from a docs/ADR folder, an Obsidian vault, CLAUDE.md, ByteRover, memory.json, ..."""
    state = use(ctx, "import")
    memory = state.memory()
    options = {
        "kind": None if kind is None else kind.value,
        "into": into,
        "dry_run": dry_run,
        "allow_secrets": allow_secrets,
    }
    if not state.json and not state.quiet and sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=True, console=console(stderr=True), disable=False) as bar:
            task = bar.add_task("import", total=None, visible=False)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total, visible=total >= PROGRESS_MIN_ITEMS)

            report = memory.import_source(source, progress=progress, **options)  # type: ignore[arg-type]
    else:
        report = memory.import_source(source, **options)  # type: ignore[arg-type]
    emit(state, report, lambda out: _render_import(out, report, verbose))


@app.command("export")
def export(
    ctx: typer.Context,
    prefix: Annotated[str | None, typer.Argument(help="Only entries under this folder (default: all).")] = None,
    fmt: Annotated[
        ExportFormatChoice, typer.Option("--format", help="jsonl (one entry per line) or markdown (one document).")
    ] = ExportFormatChoice.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: standard output).")
    ] = None,
) -> None:
    """Write the tree (or a folder of it) as JSON Lines or one markdown document; `mem import` reads it back."""
    from ..core.errors import InvalidError
    from ..core.export import export_chunks

    state = use(ctx, "export")
    if state.json and output is None:
        raise InvalidError("--json prints a summary: give --output FILE for the export itself")
    chunks, report = export_chunks(state.memory(), prefix, fmt.value)
    warnings = [f"left out: {problem}" for problem in report.problems]
    if output is None:
        for problem in warnings:
            sys.stderr.write(f"warning: {problem}\n")
        # Bytes, not text: the export is UTF-8 whatever the terminal's locale says.
        for chunk in chunks:
            sys.stdout.buffer.write(chunk.encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    from ..core.store import atomic_write_text

    atomic_write_text(output.expanduser().resolve(), "".join(chunks))

    def human(out: Console) -> None:
        out.print(f"[green]Exported[/green] {report.entries} entries to {output} [dim]({report.format})[/dim]")

    from dataclasses import asdict

    emit(state, {**asdict(report), "output": str(output)}, human, warnings=warnings, confirmation=True)
