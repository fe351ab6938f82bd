"""Commands that write and read entries: add, show, list, tree, update, mv, forget."""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import actions
from .actions import MATURITY_STYLE, badge, life_badge
from .base import (
    ImportanceOption,
    KeywordsOption,
    MemoryOption,
    PersonalOption,
    RelatedOption,
    SourceOption,
    TagsOption,
    app,
    read_text_argument,
    split_list,
    use,
)
from .output import emit
from .payloads import all_entries, entry_data, flag_data, trees_data

if TYPE_CHECKING:
    from rich.console import Console

    from ..core.lifecycle import Vitals
    from ..core.memory import FolderNode, TreeView


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
TitleOption = Annotated[str | None, typer.Option("--title", help="Title (default: the first line, or the slug).")]
SummaryOption = Annotated[str | None, typer.Option("--summary", help="One-sentence summary.")]
AllowSecretsOption = Annotated[
    bool,
    typer.Option(
        "--allow-secrets", help="Store text even if it looks like it holds a secret (refused by default, exit 8)."
    ),
]


def _value(choice: Enum | None) -> Any:
    return None if choice is None else choice.value


@app.command()
def add(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Entry path: domain/topic/entry or domain/topic/subtopic/entry.")],
    text: Annotated[str | None, typer.Argument(help="The body; '-' or nothing reads stdin.")] = None,
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
    """Add a new entry (never overwrites: use `mem update` to change one)."""
    actions.add(
        use(ctx, "add"),
        path=path,
        text=text,
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
    path: Annotated[str, typer.Argument(help="Entry path (prefix `_archive/` for an archived entry).")],
    raw: Annotated[bool, typer.Option("--raw", help="Print the file exactly as stored.")] = False,
    memory: MemoryOption = None,
) -> None:
    """Show one entry: its metadata, lifecycle and body (reading it in full counts as a use).
    An entry at the same path in the project's and the personal memory is shown twice, labelled."""
    actions.show(use(ctx, "show"), path=path, raw=raw, memory=memory)


@app.command("list")
def list_entries(
    ctx: typer.Context,
    prefix: Annotated[str | None, typer.Argument(help="Only entries under this folder.")] = None,
    archived: Annotated[bool, typer.Option("--archived", help="List the archive instead.")] = False,
    memory: MemoryOption = None,
) -> None:
    """List entries (path, title, importance, maturity), sorted by path, from every memory
    (the project's, the personal one, extras), each labelled with its memory when there are several."""
    from ..core.entry import format_time

    state = use(ctx, "list")
    layers = state.layers()
    entries, problems = layers.list(prefix, archived=archived, memory=memory)
    labelled = layers.several()

    def human(out: Console) -> None:
        from rich.markup import escape

        if not entries:
            out.print("[dim]no entries[/dim]")
            return
        # Fixed columns first and the title last, cut to what the terminal has left: a rich
        # Table squeezes the short columns away instead when paths are long.
        width = max(len(item.entry.path) for item in entries)
        label_width = max(len(item.memory) for item in entries) + 2 if labelled else 0
        title_room = max(10, out.width - width - label_width - 29)
        head = f"{'memory':<{label_width - 2}}  " if labelled else ""
        out.print(f"[bold]{head}{'path':<{width}}  imp  {'maturity':<9}  {'updated':<10}  title[/bold]")
        for item in entries:
            entry = item.entry
            style = MATURITY_STYLE.get(entry.maturity, "")
            updated = format_time(entry.updated)[:10] if entry.updated else ""
            title = entry.title if len(entry.title) <= title_room else entry.title[: title_room - 1] + "…"
            label = f"[magenta]{item.memory:<{label_width - 2}}[/magenta]  " if labelled else ""
            out.print(
                f"{label}{escape(entry.path):<{width}}  {entry.importance:>3}  [{style}]{entry.maturity:<9}[/{style}]  "
                f"{updated:<10}  {escape(title)}",
                overflow="ignore",
                crop=False,
            )

    data = {
        "prefix": prefix or "",
        "archived": archived,
        "count": len(entries),
        "entries": [{**entry_data(item.entry, body=False), "memory": item.memory} for item in entries],
        "problems": problems,
    }
    emit(state, data, human, warnings=[str(problem) for problem in problems])


@app.command()
def tree(
    ctx: typer.Context,
    prefix: Annotated[str | None, typer.Argument(help="Only this folder.")] = None,
    memory: MemoryOption = None,
) -> None:
    """Draw the context tree with each entry's importance (as written -> effective), recency and
    maturity; one tree per memory (the project's, the personal one, extras) when there are several."""
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

    def draw(out: Console, name: str, view: TreeView, vitals: dict[str, Vitals]) -> None:
        from rich.markup import escape
        from rich.tree import Tree

        from ..core.display import printable

        def label(node: FolderNode) -> str:
            text = f"[bold blue]{escape(node.name)}/[/bold blue]"
            # Overview titles come from `_index.md` unvalidated: show control characters as escapes.
            return text + (f"  [dim]{escape(printable(node.title))}[/dim]" if node.title else "")

        def fill(branch: Tree, node: FolderNode) -> None:
            for child in node.folders:
                fill(branch.add(label(child)), child)
            for entry in node.entries:
                name = entry.path.rsplit("/", 1)[-1]
                branch.add(f"{escape(name)}  {escape(entry.title)}  {life_badge(entry, vitals.get(entry.path))}")

        root = Tree((f"[magenta]{name} memory:[/magenta] " if labelled else "") + label(view.root))
        fill(root, view.root)
        out.print(root)

    def human(out: Console) -> None:
        for name, view, vitals in trees:
            draw(out, name, view, vitals)

    data = trees_data(trees)
    problems = [
        f"[{name}] {problem}" if labelled else str(problem) for name, view, _ in trees for problem in view.problems
    ]
    emit(state, data, human, warnings=problems)


@app.command()
def update(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Entry path.")],
    text: Annotated[str | None, typer.Option("--text", help="Replace the body ('-' reads stdin).")] = None,
    append: Annotated[str | None, typer.Option("--append", help="Add a paragraph at the end of the body.")] = None,
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
    flags, warnings = flag_data(entry)

    written_to = state.layers().name_of(memory)

    def human(out: Console) -> None:
        where = f" [dim]({written_to} memory)[/dim]" if written_to != "project" else ""
        out.print(f"[green]Updated[/green] [bold]{entry.path}[/bold]  {badge(entry)}{where}")

    data = {"entry": entry_data(entry), "flags": flags, "memory": written_to}
    emit(state, data, human, warnings=warnings, confirmation=True)


@app.command()
def mv(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Entry or folder to move.")],
    destination: Annotated[str, typer.Argument(help="New entry path, or an existing folder to move into.")],
    personal: PersonalOption = False,
) -> None:
    """Move an entry or a folder, rewriting `related` links that point to what moved (within one memory)."""
    from ..core.paths import ENTRY_MIN_DEPTH

    state = use(ctx, "mv")
    entry_like = source.strip().strip("/").removesuffix(".md")
    memory = state.writer(entry_like if entry_like.count("/") + 1 >= ENTRY_MIN_DEPTH else None, personal=personal)
    result = memory.move(source, destination)

    def human(out: Console) -> None:
        for old, new in result.moved:
            out.print(f"[green]Moved[/green] {old} -> [bold]{new}[/bold]")
        if result.relinked:
            out.print(f"[dim]rewrote related links in {len(result.relinked)} entries[/dim]")

    data = {
        "moved": [{"from": old, "to": new} for old, new in result.moved],
        "relinked": result.relinked,
        "memory": state.layers().name_of(memory),
    }
    emit(state, data, human, confirmation=True)


@app.command()
def forget(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Entry path.")],
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
