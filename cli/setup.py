"""Commands that set a memory up: init and config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .base import app, use
from .output import emit

if TYPE_CHECKING:
    from rich.console import Console


@app.command()
def init(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="Folder to create (default: --root, MEM_ROOT, else ./.memory).")
    ] = None,
    git: Annotated[
        bool,
        typer.Option("--git", help="Make the folder a git repository of its own; every write becomes one commit."),
    ] = False,
) -> None:
    """Create a memory folder with its .gitignore and a commented config.yaml (idempotent)."""
    import os

    from ..core.memory import Memory
    from ..core.tree import ROOT_DIR_NAME, ROOT_ENV

    state = use(ctx, "init")
    target = path or (Path(state.root) if state.root else None) or Path(os.environ.get(ROOT_ENV) or ROOT_DIR_NAME)
    result = Memory.init(target, git_repository=git)

    def human(out: Console) -> None:
        verb = "Created" if result.created else "Already a memory root:"
        out.print(f"[green]{verb}[/green] [bold]{result.root}[/bold]")
        for name in result.files:
            out.print(f"  wrote {name}")
        if result.git == "created":
            out.print("  made it a git repository: every write is one commit (docs/git.md)")
        elif result.git == "existing":
            out.print("  already a git repository of its own")
        if result.commit:
            out.print(f"  committed {result.commit} mem init")
        if result.created:
            out.print('Next: [bold]mem add domain/topic/entry "what you learned"[/bold]')

    emit(state, result, human, confirmation=True, warnings=result.warnings)


config_app = typer.Typer(help="Read and change config.yaml.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("get")
def config_get(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(help="section.key, a section, or nothing for everything.")] = None,
) -> None:
    """Print the effective value of a key (defaults included)."""
    from ..core.config import get_value

    state = use(ctx, "config get")
    value = get_value(state.memory().config, key or "")

    def human(out: Console) -> None:
        if isinstance(value, dict):
            import yaml

            out.out(yaml.safe_dump(value, default_flow_style=False, sort_keys=False), end="", highlight=False)
        else:
            out.out(str(value).lower() if isinstance(value, bool) else str(value), highlight=False)

    emit(state, {"key": key or "", "value": value}, human)


@config_app.command("set")
def config_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="section.key, e.g. limits.max_body_bytes.")],
    value: Annotated[str, typer.Argument(help="New value (YAML: 10, true, text).")],
) -> None:
    """Set a key in config.yaml, keeping the file's comments."""
    from ..core.config import CONFIG_FILE, set_value

    state = use(ctx, "config set")
    memory = state.memory()
    typed = set_value(memory.root, key, value)

    def human(out: Console) -> None:
        out.print(f"[green]Set[/green] {key} = {typed!r} in {memory.root / CONFIG_FILE}")

    emit(state, {"key": key, "value": typed, "file": memory.root / CONFIG_FILE}, human, confirmation=True)


@config_app.command("path")
def config_path(ctx: typer.Context) -> None:
    """Print the path of config.yaml (it may not exist yet: every key has a default)."""
    from ..core.config import CONFIG_FILE

    state = use(ctx, "config path")
    file = state.memory().root / CONFIG_FILE

    def human(out: Console) -> None:
        out.out(str(file), highlight=False)

    emit(state, {"path": file, "exists": file.exists()}, human)
