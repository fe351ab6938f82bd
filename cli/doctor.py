"""`mem doctor`: check the tree and, with --fix, repair what is safe."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from .base import app, use
from .output import emit

if TYPE_CHECKING:
    from rich.console import Console

SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}


@app.command()
def doctor(
    ctx: typer.Context,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Repair what is safe: remove stale temporary files, finish an interrupted mv, "
            "drop related links to entries that exist nowhere. Never rewrites a malformed file.",
        ),
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 9 on warnings too, not only on errors.")] = False,
) -> int:
    """Check the memory: malformed files, broken links, duplicate titles, secrets, crash debris.

    Exit code 0 when healthy, 9 when errors remain (with --strict: any finding).
    """
    from ..core.display import clip
    from ..core.errors import ExitCode

    state = use(ctx, "doctor")
    report = state.memory().doctor(fix=fix, strict=strict)

    def human(out: Console) -> None:
        from .output import safe

        for finding in report.findings:
            style = "green" if finding.fixed else SEVERITY_STYLE[finding.severity]
            label = "fixed" if finding.fixed else finding.severity
            hint = "  [dim](--fix)[/dim]" if finding.fixable and not finding.fixed and not fix else ""
            out.print(
                f"[{style}]{label:<7}[/{style}] {finding.kind:<17} [bold]{safe(clip(finding.file, 80))}[/bold]  "
                f"{safe(clip(finding.message, 300))}{hint}",
                overflow="fold",
            )
        summary = f"{report.checked} entry files checked: {report.errors} error(s), {report.warnings} warning(s)"
        if report.fixed:
            summary += f", {report.fixed} fixed"
        verdict = "[green]healthy[/green]" if report.healthy else "[red]problems found[/red]"
        out.print(f"{verdict}  [dim]{summary}[/dim]")

    data = {
        "root": report.root,
        "checked": report.checked,
        "healthy": report.healthy,
        "errors": report.errors,
        "warnings": report.warnings,
        "fixed": report.fixed,
        "findings": report.findings,
    }
    emit(state, data, human)
    return 0 if report.healthy else int(ExitCode.UNHEALTHY)
