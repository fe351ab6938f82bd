"""Commands that write and read entries: add, show, list, tree, update, mv, forget."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..core.display import printable
from . import actions
from .actions import MATURITY_STYLE, badge
from .base import (
    ImportanceOption,
    KeywordsOption,
    MemoryOption,
    PersonalOption,
    RelatedOption,
    SourceOption,
    TagsOption,
    UpdateImportanceOption,
    app,
    complete_entry_path,
    complete_folder,
    read_text_argument,
    split_list,
    use,
)
from .output import emit
from .payloads import all_entries, entry_data, trees_data

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from ..core.entry import Entry
    from ..core.lifecycle import Vitals
    from ..core.treeview import FolderNode


class MaturityChoice(StrEnum):
    draft = "draft"
    validated = "validated"
    core = "core"


class DecayChoice(StrEnum):
    normal = "normal"
    slow = "slow"
    never = "never"


MaturityOption = Annotated[MaturityChoice | None, typer.Option("--maturity", help="draft, validated or core.")]
DecayOption = Annotated[DecayChoice | None, typer.Option("--decay", help="normal, slow or never.")]
TitleOption = Annotated[
    str | None, typer.Option("--title", help="Title (default: the body's first sentence or heading).")
]
UpdateTitleOption = Annotated[
    str | None,
    typer.Option("--title", help="New title (a title derived from the body follows it until one is set)."),
]
SummaryOption = Annotated[str | None, typer.Option("--summary", help="One-sentence summary.")]
AllowSecretsOption = Annotated[
    bool,
    typer.Option(
        "--allow-secrets", help="Store text even if it looks like it holds a secret (refused by default, exit 8)."
    ),
]

MIN_TITLE = 20  # cells a title needs on a list line before the layout gives way


def _value(choice: Enum | None) -> Any:
    return None if choice is None else choice.value


@app.command()
def add(
    ctx: typer.Context,
    path: Annotated[
        str | None,
        typer.Argument(
            help="Entry path: domain/topic/entry or domain/topic/subtopic/entry. Left out, mem proposes one.",
            autocompletion=complete_folder,
        ),
    ] = None,
    text: Annotated[str | None, typer.Argument(help="The body; '-' or nothing reads stdin.")] = None,
    auto: Annotated[
        bool, typer.Option("--auto", help="Without a PATH: take the proposed path without asking.")
    ] = False,
    title: TitleOption = None,
    summary: SummaryOption = None,
    tags: TagsOption = None,
    keywords: KeywordsOption = None,
    related: RelatedOption = None,
    importance: ImportanceOption = None,
    maturity: MaturityOption = None,
    decay: DecayOption = None,
    source: SourceOption = None,
    allow_secrets: AllowSecretsOption = False,
    personal: PersonalOption = False,
) -> None:
    """Add a new entry (never overwrites: use `mem update` to change one).

    Without a PATH (`mem add "text"`, or text on stdin), mem proposes one: the folder of the
    most similar entry and a slug of the text's first sentence. It asks, or takes it with --auto.
    """
    actions.add(
        use(ctx, "add"),
        path=path,
        text=text,
        auto=auto,
        title=title,
        summary=summary,
        tags=tags,
        keywords=keywords,
        related=related,
        importance=importance,
        maturity=_value(maturity),
        decay=_value(decay),
        source=source,
        allow_secrets=allow_secrets,
        personal=personal,
    )


@app.command()
def show(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(
            help="Entry path (prefix `_archive/` for an archived entry).", autocompletion=complete_entry_path
        ),
    ],
    raw: Annotated[bool, typer.Option("--raw", help="Print the file exactly as stored.")] = False,
    memory: MemoryOption = None,
) -> None:
    """Show one entry: its metadata, lifecycle and body (reading it in full counts as a use).
    An entry at the same path in the project's and the personal memory is shown twice, labelled."""
    actions.show(use(ctx, "show"), path=path, raw=raw, memory=memory)


def render_list(out: Console, entries: Sequence[Entry], memories: Sequence[str] | None = None) -> None:
    """One line per entry: path, importance, maturity, updated, then the title cut to fit.

    When the terminal leaves too little room for a title, the `updated` column goes first;
    if that is not enough, the title moves to an indented line under its path. With
    `memories` (one name per entry: several memories are listed), a `memory` column leads.
    """
    from rich.text import Text

    from ..core.times import format_time
    from .layout import HANG, columns, fit, line_width, put

    if not entries:
        put(out, Text("no entries", style="dim"))
        return
    width = line_width(out)
    label_width = max(len(name) for name in memories) + 2 if memories else 0
    path_width = max(len(entry.path) for entry in entries)
    shown_updated = width is None or width - (label_width + path_width + 30) >= MIN_TITLE
    fixed_width = label_width + path_width + (30 if shown_updated else 18)
    two_lines = width is not None and width - fixed_width < MIN_TITLE

    def meta(entry: Entry) -> Text:
        style = MATURITY_STYLE.get(entry.maturity, "")
        line = Text.assemble((f"{entry.importance:>3}", ""), "  ", (f"{entry.maturity:<9}", style))
        if shown_updated:
            line.append(f"  {format_time(entry.updated)[:10] if entry.updated else '':<10}")
        return line

    header = [f"{'memory':<{label_width - 2}}"] if memories else []
    header += [f"{'path':<{path_width}}", "imp", f"{'maturity':<9}"]
    header += [f"{'updated':<10}"] if shown_updated else []
    header += [] if two_lines else ["title"]
    put(out, fit(Text("  ".join(header).rstrip(), style="bold"), width))
    for position, entry in enumerate(entries):
        path = Text(f"{entry.path:<{path_width}}  ")
        if memories:
            path = Text.assemble((f"{memories[position]:<{label_width - 2}}", "magenta"), "  ", path)
        title = Text(printable(entry.title))
        if two_lines:
            put(out, fit(Text.assemble(path, meta(entry)), width))
            put(out, fit(Text.assemble(HANG, title), width))
            continue
        line = columns(Text.assemble(path, meta(entry), "  "), title, None, width)
        put(out, line or fit(Text.assemble(path, meta(entry)), width))


TagFilter = Annotated[
    list[str] | None, typer.Option("--tag", "-t", help="Only entries with this tag (repeat: all of them).")
]
MaturityFilter = Annotated[
    list[MaturityChoice] | None, typer.Option("--maturity", "-m", help="Only this maturity (repeatable).")
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Only entries updated since: an age (12h, 7d, 2w) or a date.")
]


def _list_command(
    ctx: typer.Context,
    command: str,
    prefix: str | None,
    *,
    archived: bool = False,
    memory: str | None = None,
    tags: list[str] | None = None,
    maturities: list[MaturityChoice] | None = None,
    since: str | None = None,
    newest: bool = False,
    limit: int | None = None,
) -> None:
    from ..core.selection import newest_first, parse_since, select

    state = use(ctx, command)
    layers = state.layers()
    items, problems = layers.list(prefix, archived=archived, memory=memory)
    labelled = layers.several()
    after = parse_since(since) if since else None
    kept = select(
        [item.entry for item in items],
        tags=split_list(tags) or (),
        maturities=[_value(m) for m in maturities or []],
        since=after,
    )
    order = {id(entry): rank for rank, entry in enumerate(newest_first(kept) if newest else kept)}
    chosen = sorted((item for item in items if id(item.entry) in order), key=lambda item: order[id(item.entry)])
    if limit is not None:
        chosen = chosen[:limit]

    def human(out: Console) -> None:
        render_list(out, [item.entry for item in chosen], [item.memory for item in chosen] if labelled else None)

    data = {
        "prefix": prefix or "",
        "archived": archived,
        "count": len(chosen),
        "entries": [{**entry_data(item.entry, body=False), "memory": item.memory} for item in chosen],
        "problems": problems,
    }
    emit(state, data, human, warnings=[str(problem) for problem in problems])


@app.command("list")
def list_entries(
    ctx: typer.Context,
    prefix: Annotated[
        str | None, typer.Argument(help="Only entries under this folder.", autocompletion=complete_folder)
    ] = None,
    archived: Annotated[bool, typer.Option("--archived", help="List the archive instead.")] = False,
    tag: TagFilter = None,
    maturity: MaturityFilter = None,
    since: SinceOption = None,
    newest: Annotated[bool, typer.Option("--newest", help="Newest first (by updated) instead of by path.")] = False,
    memory: MemoryOption = None,
) -> None:
    """List entries (path, importance, maturity, updated, title), by path; filter by tag, maturity, date.
    From every memory (the project's, the personal one, extras), labelled when there are several."""
    _list_command(
        ctx,
        "list",
        prefix,
        archived=archived,
        memory=memory,
        tags=tag,
        maturities=maturity,
        since=since,
        newest=newest,
    )


@app.command()
def recent(
    ctx: typer.Context,
    prefix: Annotated[
        str | None, typer.Argument(help="Only entries under this folder.", autocompletion=complete_folder)
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Show at most this many.")] = 10,
    since: SinceOption = None,
    tag: TagFilter = None,
    memory: MemoryOption = None,
) -> None:
    """The entries changed most recently, newest first (`mem list --newest`, cut to --limit)."""
    _list_command(ctx, "recent", prefix, memory=memory, tags=tag, since=since, newest=True, limit=limit)


def _vitals_badge(entry: Entry, vitals: Vitals | None) -> Text:
    """`62→42 draft`: importance as written → as the lifecycle weighs it now, and maturity."""
    from rich.text import Text

    badge = Text(f"{entry.importance}")
    if vitals is not None and round(vitals.effective_importance) != entry.importance:
        badge.append(f"→{vitals.effective_importance:.0f}")
    badge.append(" ")
    badge.append(entry.maturity, style=MATURITY_STYLE.get(entry.maturity, ""))
    if vitals is not None and vitals.maturity_due != entry.maturity:
        badge.append(f" (due: {vitals.maturity_due})", style="dim")
    elif vitals is not None and vitals.archive_due:
        badge.append(" (due: archive)", style="dim")
    return badge


def render_tree(
    out: Console, root: FolderNode, vitals: dict[str, Vitals], label: str | None = None, *, legend: bool = True
) -> None:
    """The tree with guides, one line per folder and entry: name, title cut to fit, then
    importance (as written → effective) and maturity. A title with no room left goes to
    an indented line of its own."""
    from rich.text import Text

    from ..core.entry import Entry
    from .layout import columns, fit, line_width, put

    width = line_width(out)

    def folder_line(node: FolderNode) -> Text:
        line = Text(f"{node.name}/", style="bold blue")
        if node.title:
            # Overview titles come from `_index.md` unvalidated: control characters shown as escapes.
            line.append(f"  {printable(node.title)}", style="dim")
        return line

    def walk(node: FolderNode, lead: str) -> None:
        items: list[FolderNode | Entry] = [*node.folders, *node.entries]
        for position, item in enumerate(items):
            last = position == len(items) - 1
            guide, below = ("└── ", "    ") if last else ("├── ", "│   ")
            if isinstance(item, Entry):
                name = Text(f"{lead}{guide}{item.path.rsplit('/', 1)[-1]}  ")
                vitals_text = Text.assemble("  ", _vitals_badge(item, vitals.get(item.path)))
                line = columns(name, Text(printable(item.title)), vitals_text, width)
                if line is None:  # too deep or too long a name: the title hangs below
                    put(out, fit(Text.assemble(name, vitals_text[2:]), width))
                    line = fit(Text(f"{lead}{below}    {printable(item.title)}", style="dim"), width)
                put(out, line)
            else:
                put(out, fit(Text.assemble(f"{lead}{guide}", folder_line(item)), width))
                walk(item, lead + below)

    top = folder_line(root)
    if label:  # one tree per memory when there are several
        top = Text.assemble((f"{label} memory: ", "magenta"), top)
    put(out, fit(top, width))
    walk(root, "")
    if legend:
        put(out, fit(Text("importance written→today, maturity: docs/lifecycle.md", style="dim"), width))


@app.command()
def tree(
    ctx: typer.Context,
    prefix: Annotated[str | None, typer.Argument(help="Only this folder.", autocompletion=complete_folder)] = None,
    memory: MemoryOption = None,
) -> None:
    """Draw the context tree: each entry's title, importance (as written→effective) and maturity;
    one tree per memory (the project's, the personal one, extras) when there are several."""
    from ..core.errors import NotFoundError

    state = use(ctx, "tree")
    layers = state.layers()
    trees = [
        (name, view, held.vitals(all_entries(view.root))) for name, held, view in layers.trees(prefix, memory=memory)
    ]
    labelled = layers.several()
    if not trees:
        layers.layer(memory or "")  # an unknown name: NotFoundError naming the known ones
        raise NotFoundError(f"memory '{memory}' does not exist yet")

    def human(out: Console) -> None:
        for position, (name, view, vitals) in enumerate(trees):
            render_tree(out, view.root, vitals, name if labelled else None, legend=position == len(trees) - 1)

    data = trees_data(trees)
    problems = [
        f"[{name}] {problem}" if labelled else str(problem) for name, view, _ in trees for problem in view.problems
    ]
    emit(state, data, human, warnings=problems)


@app.command()
def update(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Entry path.", autocompletion=complete_entry_path)],
    text: Annotated[str | None, typer.Option("--text", help="Replace the body ('-' reads stdin).")] = None,
    append: Annotated[str | None, typer.Option("--append", help="Add a paragraph at the end of the body.")] = None,
    title: UpdateTitleOption = None,
    summary: SummaryOption = None,
    tags: TagsOption = None,
    keywords: KeywordsOption = None,
    related: RelatedOption = None,
    importance: UpdateImportanceOption = None,
    maturity: MaturityOption = None,
    decay: DecayOption = None,
    source: SourceOption = None,
    allow_secrets: AllowSecretsOption = False,
    personal: PersonalOption = False,
) -> None:
    """Change an entry's body or metadata (importance rises by 5 unless --importance is given).
    The project's entry, unless --personal or the entry is only in the personal memory."""
    state = use(ctx, "update")
    body = read_text_argument("-", "new body") if text == "-" else text
    memory = state.writer(path, personal=personal)
    entry = memory.update(
        path,
        body=body,
        append=append,
        title=title,
        summary=summary,
        tags=split_list(tags),
        keywords=split_list(keywords),
        related=split_list(related),
        importance=importance,
        maturity=_value(maturity),
        decay=_value(decay),
        source=source,
        allow_secrets=allow_secrets,
    )
    actions.emit_written(state, memory, entry, "Updated", badge)


@app.command()
def mv(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Entry or folder to move.", autocompletion=complete_entry_path)],
    destination: Annotated[str, typer.Argument(help="New entry path, or an existing folder to move into.")],
    personal: PersonalOption = False,
) -> None:
    """Move an entry or a folder, rewriting the links that point to what moved (within one memory)."""
    from ..core.paths import ENTRY_MIN_DEPTH

    state = use(ctx, "mv")
    entry_like = source.strip().strip("/").removesuffix(".md")
    memory = state.writer(entry_like if entry_like.count("/") + 1 >= ENTRY_MIN_DEPTH else None, personal=personal)
    result = memory.move(source, destination)

    def human(out: Console) -> None:
        for old, new in result.moved:
            out.print(f"[green]Moved[/green] {old} -> [bold]{new}[/bold]")
        if result.relinked:
            out.print(f"[dim]rewrote the links in {len(result.relinked)} entries[/dim]")

    data = {
        "moved": [{"from": old, "to": new} for old, new in result.moved],
        "relinked": result.relinked,
        "memory": state.layers().name_of(memory),
    }
    emit(state, data, human, confirmation=True)


@app.command()
def forget(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Entry path.", autocompletion=complete_entry_path)],
    restore: Annotated[bool, typer.Option("--restore", help="Bring an archived entry back.")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept in the archived entry).")] = None,
    personal: PersonalOption = False,
) -> None:
    """Move an entry to `_archive/` (still readable, no longer recalled); --restore undoes it."""
    state = use(ctx, "forget")
    memory = state.writer(None if restore else path, personal=personal)
    entry = memory.restore(path) if restore else memory.forget(path, reason=reason)

    def human(out: Console) -> None:
        if restore:
            out.print(f"[green]Restored[/green] [bold]{entry.path}[/bold]")
        else:
            out.print(f"[yellow]Archived[/yellow] [bold]{entry.path}[/bold] -> _archive/{entry.path}")

    data = {"entry": entry_data(entry), "archived": not restore, "memory": state.layers().name_of(memory)}
    emit(state, data, human, confirmation=True)
