"""What the most-used commands do once their arguments are parsed: recall, add and show.

These bodies import neither typer nor click (nor rich, unless a person's terminal is drawn),
so the lean dispatch (cli/lean.py) can run them without loading the command-line framework.
The typer commands in cli/recall.py and cli/entries.py declare the arguments, the help and
the usage errors, and call these functions with plain values (strings, not enum members).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .output import State, emit, safe
from .payloads import entry_data, flag_data, shown_data

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from rich.console import Console

    from ..core.entry import Decay, Entry, Maturity
    from ..core.lifecycle import Vitals
    from ..core.memory import Memory
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
    """TEXT from the argument, or from stdin when it is '-' or missing and stdin is piped.
    Empty (or blank) text is refused."""
    from ..core.errors import InvalidError

    if text is not None and text != "-":
        if not text.strip():
            raise InvalidError(f"the {what} is empty")
        return text
    if text is None and sys.stdin.isatty():
        raise InvalidError(f"give the {what} as an argument or pipe it on stdin")
    data = sys.stdin.buffer.read()
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidError(f"the {what} on stdin is not UTF-8 text (byte offset {error.start})") from None
    if not decoded.strip():
        # Usually a command earlier in the pipe failed: an empty entry would hide that.
        raise InvalidError(f"the {what} on stdin is empty (did the command before the pipe fail?)")
    return decoded


# --- recall -------------------------------------------------------------------------------


# Hits below this relevance (relative to the best hit, which has 1; docs/recall.md) are
# not shown to a person unless asked for (`--all`, or an explicit `-k`): a hit a quarter as
# relevant as the best is rarely worth reading. --json always carries every hit.
WORTH_READING = 0.25


def worth_reading(result: RecallResult) -> tuple[Hit, ...]:
    """The hits a person sees by default, in rank order: the first one, and every other one
    at least WORTH_READING relevant. A time listing ("what happened last week") shows every
    entry it found: each is an answer, and its relevance only says how old it is."""
    if any(hit.day for hit in result.results):
        return result.results
    return tuple(hit for rank, hit in enumerate(result.results) if rank == 0 or hit.relevance >= WORTH_READING)


def render_recall(
    out: Console,
    result: RecallResult,
    explain: bool = False,
    shown: Sequence[Hit] | None = None,
    labelled: bool = False,
) -> None:
    """The status line, one line per hit (`N. path  title`, the title cut to fit), notes.

    Only the `shown` hits are printed (all when None); a line says how many more there are.
    When no tier was confident, each hit also says how much of the question it covers (the
    number the gates compare, `match` in JSON): unsure hits are candidates to weigh, and a
    reader cannot tell a near miss from noise by its place in the list.
    """
    from rich.text import Text

    from ..core.display import printable
    from .layout import HANG, columns, fit, line_width, put, wrapped

    width = line_width(out)
    total = result.timings_ms.get("total", 0.0)
    colour = "green" if result.results and result.resolved else "yellow"
    put(out, Text.assemble((printable(result.message), colour), (f" ({total:.1f} ms)", "dim")))
    if result.answer:
        wrapped(out, Text.assemble(("answer: ", "bold"), printable(result.answer)), width)
    hits = result.results if shown is None else shown
    for position, hit in enumerate(hits, 1):
        number = f"{position}. "
        where = (f"{hit.memory}: ", "magenta") if labelled else ""  # several memories: whose hit
        day = (f"{hit.day}  ", "green") if hit.day else ""  # a time listing's: the day it is listed under
        lead = Text.assemble((number, "bold"), where, day, (hit.path, "bold cyan"), "  ")
        title = Text(printable(hit.title))
        unsure = None if result.resolved or hit.day else Text(f"  covers {hit.match:.0%}", "dim")
        line = columns(lead, title, unsure, width)
        if line is None:  # a long path: the title hangs under it
            put(out, fit(lead, width))
            hanging = Text(" " * len(number))
            line = columns(hanging, title, unsure, width) or fit(Text.assemble(hanging, title), width)
        put(out, line)
        indent = " " * len(number)
        if hit.flags:
            flagged = f"flagged: reads like instructions to an agent ({', '.join(hit.flags)})"
            put(out, fit(Text.assemble(indent, (flagged, "bold red")), width))
        if hit.superseded_by:
            put(out, fit(Text.assemble(indent, (f"superseded by {hit.superseded_by}", "yellow")), width))
    hidden = len(result.results) - len(hits)
    if hidden:
        more = f"{hidden} weaker hit(s) not shown: --all shows them"
        put(out, fit(Text(more, style="dim"), width))
    for note in result.notes:
        wrapped(out, Text(f"note: {printable(note)}", style="dim"), width, len(HANG))
    if result.llm is not None:
        info = result.llm
        spent = "cached" if info.cached else f"{info.tokens_in} tokens in, {info.tokens_out} out, {info.calls} call(s)"
        verdict = f", failed: {info.error}" if info.error else ""
        model = f"model: {info.model} ({info.tier} tier; {spent}; {info.ms:.0f} ms{verdict})"
        wrapped(out, Text(printable(model), style="dim"), width, len(HANG))
    if explain:
        _render_explain(out, result)


def _render_explain(out: Console, result: RecallResult) -> None:
    from rich.table import Table

    from .output import safe

    for trace in result.explain:
        verdict = "[green]confident[/green]" if trace.confident else "[yellow]not confident[/yellow]"
        out.print(f"\n[bold]{trace.tier}[/bold] tier: {verdict} [dim]({trace.ms:.2f} ms) {safe(trace.reason)}[/dim]")
        if not trace.candidates:
            continue
        table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
        # coverage: what the gate compares (match); rank: the relevance ranking starts from
        # (relative to the tier's best, with the topic); score: rank with importance and recency.
        for column in ("path", "coverage", "rank", "score"):
            table.add_column(column, justify="left" if column == "path" else "right")
        for candidate in trace.candidates[:10]:
            table.add_row(
                candidate.path, f"{candidate.match:.3f}", f"{candidate.relevance:.3f}", f"{candidate.score:.3f}"
            )
        out.print(table)
    timings = ", ".join(f"{name} {ms:.2f}" for name, ms in result.timings_ms.items())
    out.print(f"\n[dim]timings (ms): {timings}[/dim]")


def recall(
    state: State,
    *,
    query: str | None,
    k: int | None,
    show_all: bool = False,
    scope: str | None,
    max_tier: str | None,
    explain: bool,
    escalate: bool,
    output_format: str,
    budget: int,
    used: list[str] | None = None,
) -> None:
    """`mem recall` (cli/recall.py declares its arguments)."""
    from ..core.errors import InvalidError
    from ..core.jsonable import jsonable

    state.command = "recall"
    layers = state.layers()  # the project's memory, the personal one and extras (core/layers.py)
    if query is None:
        if not used:
            raise InvalidError("give a QUERY, or --used PATH to count an entry as used")
        confirmed = layers.confirm_use(used)

        def counted(out: Console) -> None:
            out.print("Counted as used: " + ", ".join(confirmed))

        emit(state, {"used": list(confirmed)}, counted, confirmation=True)
        return
    confirmed = layers.confirm_use(used) if used else ()
    result = layers.recall(query, k=k, scope=scope, max_tier=max_tier, explain=explain, escalate=escalate)
    labelled = layers.several()
    context = layers.context(result, budget) if output_format == "context" else None

    data: dict[str, Any] = jsonable(result)
    if not explain:
        data.pop("explain")
    if used:
        data["used"] = list(confirmed)
    if context is not None:
        data["context"] = jsonable(context)

    def human(out: Console) -> None:
        if context is not None:
            out.out(context.text, end="", highlight=False)
            return
        everything = show_all or k is not None or explain
        render_recall(out, result, explain, shown=None if everything else worth_reading(result), labelled=labelled)

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
        f"[dim]importance[/dim] {entry.importance}[dim]→[/dim]{vitals.effective_importance:.0f} "
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
    path: str | None,
    text: str | None,
    auto: bool = False,
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
    `personal` to the personal one (docs/concepts.md, "Layers of memory"). Without a PATH,
    mem proposes one."""
    state.command = "add"
    if path is not None and text is None and any(character.isspace() for character in path):
        path, text = None, path  # `mem add "some text"`: a path never holds spaces
    asked_from_stdin = text is None or text == "-"
    body = read_text_argument(text, "entry text")
    memory = state.writer(personal=personal)
    if path is None:
        path = _proposed_path(memory, body, auto=auto, can_ask=not asked_from_stdin and not state.json)
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
    emit_written(state, memory, entry, "Added", lambda written: safe(written.title))


def emit_written(state: State, memory: Memory, entry: Entry, verb: str, shown: Callable[[Entry], str]) -> None:
    """What `add` and `update` print: the entry written, the memory it went to, its flags.
    `shown` renders the entry's line for people (called only for human output: it may import rich)."""
    flags, warnings = flag_data(entry)
    written_to = state.layers().name_of(memory)

    def human(out: Console) -> None:
        where = f" [dim]({written_to} memory)[/dim]" if written_to != "project" else ""
        out.print(f"[green]{verb}[/green] [bold]{entry.path}[/bold]  {shown(entry)}{where}")

    data = {"entry": entry_data(entry), "flags": flags, "memory": written_to}
    emit(state, data, human, warnings=warnings, confirmation=True)


def _proposed_path(memory: Memory, body: str, *, auto: bool, can_ask: bool) -> str:
    """The path mem proposes for `body`, taken with --auto or when the person says yes."""
    from ..core.errors import InvalidError
    from ..core.neighbours import propose_path

    proposal = propose_path(memory, body)
    if proposal is None:
        raise InvalidError("no PATH given, and nothing in the memory is similar enough to propose one: give one")
    if auto:
        return proposal
    if not can_ask or not sys.stdin.isatty():
        raise InvalidError(f"no PATH given; mem proposes {proposal}: give that (or another) path, or pass --auto")
    sys.stderr.write(f"Add as {proposal}? [Y/n]: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer or answer.strip().lower() not in ("", "y", "yes"):
        raise InvalidError("nothing was added: give a PATH")
    return proposal


def render_show(out: Console, entry: Entry, vitals: Vitals, archived: bool = False, label: str | None = None) -> None:
    """On a terminal: a panel of metadata, then the body rendered as markdown at the
    terminal's width. Piped (`mem show PATH | less`): the same facts as plain lines, then the
    body exactly as written, with nothing padded or re-wrapped."""
    from ..core.display import printable
    from ..core.times import format_time
    from .output import safe

    # What a file holds is shown, never interpreted: rich markup is escaped and control
    # characters (a terminal escape in a hostile entry) are written out as `\x1b`.
    where = f"{'_archive/' if archived else ''}{entry.path}"
    whose = f"  [magenta]{label} memory[/magenta]" if label else ""
    lines = [f"[bold]{safe(printable(entry.title))}[/bold]", f"[dim]{where}[/dim]{whose}"]
    if entry.summary:
        lines.append(f"[italic]{safe(entry.summary, keep_newlines=True)}[/italic]")
    facts = [life_badge(entry, vitals), f"[dim]decay[/dim] {entry.decay}"]
    if entry.updated:
        facts.append(f"[dim]updated[/dim] {format_time(entry.updated)}")
    if entry.source:
        facts.append(f"[dim]source[/dim] {safe(printable(entry.source))}")
    lines.append("  ".join(facts))
    used = f"used {vitals.hits}x"
    if vitals.last_access is not None:
        used += f", last {format_time(vitals.last_access)}"
    lines.append(f"[dim]{used}; untouched for {vitals.days_untouched:.0f} days[/dim]")
    for name, values in (("tags", entry.tags), ("keywords", entry.keywords), ("related", entry.related)):
        if values:
            lines.append(f"[dim]{name}[/dim] {safe(printable(', '.join(values)))}")
    body = printable(entry.body, keep_newlines=True)
    if not out.is_terminal:
        for line in lines:
            out.print(line, soft_wrap=True, highlight=False)
        out.out("\n" + body, end="" if body.endswith("\n") or not body else "\n", highlight=False)
        return
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.text import Text

    from .layout import put_block, wrapped

    for line in lines:  # a long line of tags or a summary wraps under its label
        wrapped(out, Text.from_markup(line), out.width, 4)
    out.print(Rule(style="dim"))
    put_block(out, Markdown(body))


def _entry_location(root: Path, path: str) -> tuple[str, bool]:
    """`parse_location`, with a pointer to `mem list` when PATH names a folder."""
    from ..core.errors import InvalidError
    from ..core.paths import normalize_prefix, parse_location

    try:
        return parse_location(path)
    except InvalidError:
        try:
            folder = normalize_prefix(path)
        except InvalidError:
            folder = ""
        if folder and (root / folder).is_dir():
            raise InvalidError(f"'{folder}' is a folder: `mem list {folder}` or `mem tree {folder}`") from None
        raise


def show(state: State, *, path: str, raw: bool, memory: str | None = None) -> None:
    """`mem show` (cli/entries.py declares its arguments). The same path in the project's and
    the personal memory is two entries: both are shown, labelled (docs/concepts.md)."""
    from ..core.entry import dump_entry

    state.command = "show"
    layers = state.layers()
    location, archived = _entry_location(layers.project.root, path)
    # Read in full: counts as a use in .mem/state.db (never written to the entry's file).
    shown = layers.read(location, archived=archived, memory=memory)
    labelled = layers.several()

    def human(out: Console) -> None:
        for item in shown:
            if raw:
                out.out(dump_entry(item.entry), end="", highlight=False)
            else:
                render_show(out, item.entry, item.vitals, archived, item.memory if labelled else None)

    emit(state, shown_data(shown, archived), human)
