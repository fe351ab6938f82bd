"""What the most-used commands do once their arguments are parsed: recall, add and show.

These bodies import neither typer nor click (nor rich, unless a person's terminal is drawn),
so the lean dispatch (cli/lean.py) can run them without loading the command-line framework.
The typer commands in cli/recall.py and cli/entries.py declare the arguments, the help and
the usage errors, and call these functions with plain values (strings, not enum members).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .output import State, emit
from .payloads import entry_data, flag_data, shown_data

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.entry import Decay, Entry, Maturity
    from ..core.lifecycle import Vitals
    from ..core.recall import Hit, RecallResult

MATURITY_STYLE = {"draft": "yellow", "validated": "green", "core": "bold cyan"}


# --- reading input ------------------------------------------------------------------------


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


# --- recall -------------------------------------------------------------------------------


def _hit_line(position: int, hit: Hit, labelled: bool = False) -> str:
    from rich.markup import escape

    where = f"[magenta]{escape(hit.memory)}:[/magenta] " if labelled else ""
    line = (
        f"[bold]{position}.[/bold] {where}[bold cyan]{escape(hit.path)}[/bold cyan]  {escape(hit.title)}  "
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


def _render(out: Console, result: RecallResult, explain: bool, labelled: bool = False) -> None:
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
            out.print(_hit_line(position, hit, labelled))
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


def recall(
    state: State,
    *,
    query: str,
    k: int | None,
    scope: str | None,
    max_tier: str | None,
    explain: bool,
    escalate: bool,
    output_format: str,
    budget: int,
) -> None:
    """`mem recall` (cli/recall.py declares its arguments)."""
    from ..core.jsonable import jsonable

    state.command = "recall"
    layers = state.layers()  # the project's memory, the personal one and extras (core/layers.py)
    result = layers.recall(query, k=k, scope=scope, max_tier=max_tier, explain=explain, escalate=escalate)
    labelled = layers.several()
    context = layers.context(result, budget) if output_format == "context" else None

    data: dict[str, Any] = jsonable(result)
    if not explain:
        data.pop("explain")
    if context is not None:
        data["context"] = jsonable(context)

    def human(out: Console) -> None:
        if context is not None:
            out.out(context.text, end="", highlight=False)
            return
        _render(out, result, explain, labelled)

    emit(state, data, human, warnings=result.problems)


# --- entries ------------------------------------------------------------------------------


def badge(entry: Entry) -> str:
    style = MATURITY_STYLE.get(entry.maturity, "")
    return f"[dim]importance[/dim] {entry.importance} [{style}]{entry.maturity}[/{style}]"


def life_badge(entry: Entry, vitals: Vitals | None) -> str:
    """Importance as written and as the lifecycle sees it now, recency and maturity."""
    if vitals is None:
        return badge(entry)
    style = MATURITY_STYLE.get(entry.maturity, "")
    text = (
        f"[dim]importance[/dim] {entry.importance} [dim]->[/dim] {vitals.effective_importance:.0f} "
        f"[dim]recency[/dim] {vitals.recency:.2f} [{style}]{entry.maturity}[/{style}]"
    )
    if vitals.maturity_due != entry.maturity:
        text += f" [dim](due: {vitals.maturity_due})[/dim]"
    elif vitals.archive_due:
        text += " [dim](due: archive)[/dim]"
    return text


def add(
    state: State,
    *,
    path: str,
    text: str | None,
    title: str | None,
    summary: str | None,
    tags: list[str] | None,
    keywords: list[str] | None,
    related: list[str] | None,
    importance: int | None,
    maturity: Maturity | None,
    decay: Decay | None,
    source: str | None,
    allow_secrets: bool,
    personal: bool = False,
) -> None:
    """`mem add` (cli/entries.py declares its arguments): to the project's memory, or with
    `personal` to the personal one (docs/concepts.md, "Layers of memory")."""
    state.command = "add"
    body = read_text_argument(text, "entry text")
    memory = state.writer(personal=personal)
    entry = memory.add(
        path,
        body,
        title=title,
        summary=summary,
        tags=split_list(tags) or (),
        keywords=split_list(keywords) or (),
        related=split_list(related) or (),
        importance=importance,
        maturity=maturity,
        decay=decay,
        source=source,
        allow_secrets=allow_secrets,
    )
    flags, warnings = flag_data(entry)

    written_to = state.layers().name_of(memory)

    def human(out: Console) -> None:
        from rich.markup import escape

        where = f" [dim]({written_to} memory)[/dim]" if written_to != "project" else ""
        out.print(f"[green]Added[/green] [bold]{entry.path}[/bold]  {escape(entry.title)}{where}")

    data = {"entry": entry_data(entry), "flags": flags, "memory": written_to}
    emit(state, data, human, warnings=warnings, confirmation=True)


def show(state: State, *, path: str, raw: bool, memory: str | None = None) -> None:
    """`mem show` (cli/entries.py declares its arguments). The same path in the project's and
    the personal memory is two entries: both are shown, labelled (docs/concepts.md)."""
    from ..core.paths import parse_location

    state.command = "show"
    location, archived = parse_location(path)
    layers = state.layers()
    # Read in full: counts as a use in .mem/state.db (never written to the entry's file).
    shown = layers.read(location, archived=archived, memory=memory)
    labelled = layers.several()

    def human(out: Console) -> None:
        for item in shown:
            _render_entry(
                out, item.entry, item.vitals, archived=archived, raw=raw, label=item.memory if labelled else None
            )

    emit(state, shown_data(shown, archived), human)


def _render_entry(out: Console, entry: Entry, vitals: Vitals, *, archived: bool, raw: bool, label: str | None) -> None:
    from ..core.entry import dump_entry, format_time

    if raw:
        out.out(dump_entry(entry), end="", highlight=False)
        return
    from rich.markdown import Markdown
    from rich.markup import escape
    from rich.panel import Panel

    from ..core.display import printable

    # What a file holds is shown, never interpreted: rich markup is escaped and control
    # characters (a terminal escape in a hostile entry) are written out as `\x1b`.
    where = f"  [magenta]{label} memory[/magenta]" if label else ""
    lines = [f"[bold]{escape(entry.title)}[/bold]", f"[dim]{'_archive/' if archived else ''}{entry.path}[/dim]{where}"]
    if entry.summary:
        lines.append(f"[italic]{escape(printable(entry.summary, keep_newlines=True))}[/italic]")
    facts = [life_badge(entry, vitals), f"[dim]decay[/dim] {entry.decay}"]
    if entry.updated:
        facts.append(f"[dim]updated[/dim] {format_time(entry.updated)}")
    if entry.source:
        facts.append(f"[dim]source[/dim] {escape(entry.source)}")
    lines.append("  ".join(facts))
    used = f"used {vitals.hits}x" + (
        f", last {format_time(vitals.last_access)}" if vitals.last_access is not None else ""
    )
    lines.append(f"[dim]{used}; untouched for {vitals.days_untouched:.0f} days[/dim]")
    for name, values in (("tags", entry.tags), ("keywords", entry.keywords), ("related", entry.related)):
        if values:
            lines.append(f"[dim]{name}[/dim] {escape(', '.join(values))}")
    out.print(Panel("\n".join(lines), expand=False))
    out.print(Markdown(printable(entry.body, keep_newlines=True)))
