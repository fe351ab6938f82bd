"""Commands over the memory's git history: log, undo and sync (docs/git.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from .base import app, complete_entry_path, use
from .output import emit

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Console

    from ..core.git import Commit


AUTHOR_MAX = 24  # cells of the author's name on a log line


def render_log(out: Console, commits: Sequence[Commit]) -> None:
    """One line per commit: date, short hash, subject (cut to fit), then the author when the
    terminal has room for it after a readable subject (always when piped)."""
    from rich.text import Text

    from ..core.display import printable
    from .layout import columns, fit, line_width, put

    if not commits:
        put(out, Text("no commits", style="dim"))
        return
    width = line_width(out)
    for commit in commits:
        lead = Text.assemble(commit.date.strftime("%Y-%m-%d %H:%M"), "  ", (commit.short, "dim"), "  ")
        subject = Text(printable(commit.subject))
        author = Text.assemble("  ", (fit(Text(printable(commit.author)), AUTHOR_MAX).plain, "dim"))
        line = columns(lead, subject, author, width) if width is None or width >= 100 else None
        put(out, line or columns(lead, subject, None, width) or fit(Text.assemble(lead, subject), width))


@app.command()
def log(
    ctx: typer.Context,
    path: Annotated[
        str | None,
        typer.Argument(
            help="An entry (its history follows `mem mv` and `mem forget`), a folder, or nothing for all.",
            autocompletion=complete_entry_path,
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many commits.")] = 50,
) -> None:
    """Show the git history of an entry, a folder or the whole memory, newest first."""
    state = use(ctx, "log")
    commits = state.memory().log(path, limit=limit)

    def human(out: Console) -> None:
        render_log(out, commits)

    emit(state, {"path": path or "", "count": len(commits), "commits": commits}, human)


@app.command()
def undo(ctx: typer.Context) -> None:
    """Revert the last commit if mem made it, as a new "mem undo" commit.

    Refused when the last commit is not mem's, or when a file it changed has uncommitted
    edits (undo never overwrites work that is not in git).
    """
    state = use(ctx, "undo")
    result = state.memory().undo()

    def human(out: Console) -> None:
        from .output import safe

        new = f" as {result.commit}" if result.commit else ""
        out.print(f"[green]Undid[/green] {result.undone.short} {safe(result.undone.subject)}{new}")
        for name in result.files:
            out.print(f"  restored {safe(name)}")

    emit(state, result, human, confirmation=True)


@app.command()
def sync(
    ctx: typer.Context,
    continue_: Annotated[
        bool, typer.Option("--continue", help="Finish a sync that stopped on a conflict, after editing the files.")
    ] = False,
    abort: Annotated[
        bool, typer.Option("--abort", help="Give up a sync that stopped on a conflict; back to before it.")
    ] = False,
    allow_secrets: Annotated[
        bool, typer.Option("--allow-secrets", help="Publish hand-edited files even if they hold a likely secret.")
    ] = False,
) -> None:
    """Share the memory through git: commit pending edits, pull with rebase, push.

    On a conflict (both sides changed the same entry) it stops, lists the files, and leaves
    both texts in them between git's conflict markers: edit them, then `mem sync --continue`.
    Refused (exit 8): hand-edited entries that hold a likely secret (unless --allow-secrets),
    and incoming symbolic links or changes under `.mem/`.
    """
    from ..core.errors import InvalidError

    if continue_ and abort:
        raise InvalidError("give either --continue or --abort, not both")
    state = use(ctx, "sync")
    result = state.memory().sync("continue" if continue_ else "abort" if abort else "sync", allow_secrets=allow_secrets)

    def human(out: Console) -> None:
        from .output import safe

        target = f"{result.remote}/{result.branch}"
        if result.aborted:
            out.print(f"[yellow]Aborted[/yellow] the sync; back to where it started on {safe(result.branch)}")
            return
        if result.committed:
            out.print(f"committed {len(result.committed)} edited file(s) first: {safe(', '.join(result.committed))}")
        if result.pulled:
            out.print(f"[green]Pulled[/green] {result.pulled} commit(s) from {safe(target)}")
            for name in result.received:
                out.print(f"  {safe(name)}")
        if result.pushed:
            out.print(f"[green]Pushed[/green] {result.pushed} commit(s) to {safe(target)}")
        if result.upstream_set:
            out.print(f"{safe(result.branch)} now tracks {safe(target)}")
        if not (result.pulled or result.pushed or result.upstream_set):
            out.print(f"Up to date with {safe(target)}")

    emit(state, result, human, confirmation=True)
