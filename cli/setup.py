"""Commands that set a memory up: init and config."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .base import app, split_list, use
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
    agents: Annotated[
        list[str] | None,
        typer.Option(
            "--agent",
            help="Also wire a coding agent (claude, codex, cursor): rules block + MCP config. Repeatable.",
        ),
    ] = None,
    hooks: Annotated[
        bool,
        typer.Option(
            "--hooks",
            help="With --agent: also install the agent's session hooks (mem hook: briefing, recall per prompt, "
            "capture); with --remove: take out the hooks alone.",
        ),
    ] = False,
    remove: Annotated[
        bool, typer.Option("--remove", help="With --agent: take the rules block, MCP entry and hooks out again.")
    ] = False,
    nested: Annotated[
        bool,
        typer.Option("--nested", help="Create ./.memory even though a folder above already has a memory."),
    ] = False,
) -> None:
    """Create a memory folder with its .gitignore and a commented config.yaml (idempotent).

    With `--agent NAME` it also writes the agent's rules block (CLAUDE.md, AGENTS.md,
    .cursor/rules/contextree.mdc) and MCP server entry (.mcp.json, .cursor/mcp.json) in the
    project folder: the folder that holds `.memory/`, else the current directory. `--hooks`
    adds the session hooks (.claude/settings.json, .codex/hooks.json, .cursor/hooks.json;
    the events of `hooks.events` in config.yaml). Commands name the absolute path of `mem`
    when `mem` is not on PATH.
    """
    import dataclasses
    import os

    from ..core.agents import agent_spec, install_agent, mem_command, project_folder, remove_agent
    from ..core.config import load_config
    from ..core.errors import InvalidError
    from ..core.memory import InitResult, Memory
    from ..core.tree import ROOT_DIR_NAME, ROOT_ENV

    state = use(ctx, "init")
    from_env = path is None and state.root is None and bool(os.environ.get(ROOT_ENV))
    target = path or (Path(state.root) if state.root else None) or Path(os.environ.get(ROOT_ENV) or ROOT_DIR_NAME)
    if target == Path(ROOT_DIR_NAME) and not nested and not remove and not target.is_dir():
        _refuse_hidden_memory()
    names = [agent_spec(name).name for name in split_list(agents) or []]
    if remove and not names:
        raise InvalidError("--remove needs --agent NAME (the memory folder itself is never removed by init)")
    if hooks and not names:
        raise InvalidError("--hooks needs --agent NAME")
    if remove:
        root = target.expanduser().resolve()
        result = InitResult(root=root, created=False, files=())
    else:
        result = Memory.init(target, git_repository=git)
        root = result.root
    project = project_folder(root, Path.cwd())
    warnings = list(result.warnings)
    if remove:
        setups = [remove_agent(name, project, only_hooks=hooks) for name in names]
    else:
        events = load_config(root).hooks.events if hooks else None
        command = mem_command()  # `mem`, or this one's absolute path when `mem` is not on PATH
        setups = [install_agent(name, project, root, hooks=events, command=command) for name in names]
        if command.warning and setups:
            warnings.append(command.warning)

    def human(out: Console) -> None:
        if not remove:
            # With --agent an existing memory is what is wanted, not news that reads like an error.
            verb = "Created" if result.created else ("Memory:" if setups else "Already a memory root:")
            out.print(f"[green]{verb}[/green] [bold]{result.root}[/bold]")
            if from_env:
                out.print(
                    f"  [yellow]MEM_ROOT is set[/yellow] ({os.environ[ROOT_ENV]}), so init used it; "
                    f"`unset MEM_ROOT` to create ./{ROOT_DIR_NAME} here"
                )
            for name in result.files:
                out.print(f"  wrote {name}")
            if result.git == "created":
                out.print("  made it a git repository: every write is one commit (docs/git.md)")
            elif result.git == "existing":
                out.print("  already a git repository of its own")
            if result.commit:
                out.print(f"  committed {result.commit} mem init")
        for setup in setups:
            title = agent_spec(setup.agent).title
            out.print(f"[bold]{title}[/bold] in {setup.project}")
            for change in setup.files:
                inside = change.file.is_relative_to(setup.project)
                shown = change.file.relative_to(setup.project) if inside else change.file
                # "removed": mem's part left a file that holds more; "deleted": the file was all mem's.
                label, note = (
                    ("updated", "  (mem's part taken out)") if change.action == "removed" else (change.action, "")
                )
                out.print(f"  {label:<9} {shown}{note}")
            for note in setup.notes:
                out.out(note, highlight=False)
        if result.created and not setups:
            out.print('Next: [bold]mem add domain/topic/entry "what you learned"[/bold]')

    data = {**{field.name: getattr(result, field.name) for field in dataclasses.fields(result)}, "agents": setups}
    emit(state, data, human, confirmation=True, warnings=warnings)


def _refuse_hidden_memory() -> None:
    """A new ./.memory below a folder that already has one would hide that memory from
    everything run here: refuse, naming it, unless --nested says that is what is wanted."""
    import os

    from ..core.errors import ExistsError
    from ..core.tree import ROOT_DIR_NAME

    here = Path.cwd()
    for folder in here.parents:
        above = folder / ROOT_DIR_NAME
        if above.is_dir():
            shown = os.path.relpath(above, here)
            raise ExistsError(
                f"a memory already exists at {shown} and serves this folder too; "
                f"`mem init --nested` creates a separate one here (it would hide {shown} from commands run here)"
            )


def _yaml_scalar(value: object) -> str:
    """A config value as it reads in config.yaml: `null`, `true`, `0.5`, plain text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_scalar(item) for item in value) + "]"
    return str(value)


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
            out.out(_yaml_scalar(value), highlight=False)

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
        from .output import safe

        out.print(f"[green]Set[/green] {key} = {safe(_yaml_scalar(typed))} in {memory.root / CONFIG_FILE}")

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
