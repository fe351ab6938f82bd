"""`mem`: the entry point. Parses global options, runs one command, turns errors into exit codes.

The most-used commands (recall, add, show) run on the lean path first (cli/lean.py): parsed
without importing typer or click. Every other command line - help, errors, the other
commands - goes to the typer app (cli/base.py), imported only then. Command modules register
themselves on that app when imported; only the module of the command being run is imported
(typer then builds just its commands); `mem --help` and unknown commands load them all.
Heavy libraries (litellm, mcp, watchdog) are imported only inside the commands that use
them, so `mem --help`, `mem add` and `mem recall` stay fast. `mem hook` (what agents run
before every prompt) is dispatched by `main()` before either path (cli/hook.py).
"""

from __future__ import annotations

import sys

from .output import State, did_you_mean, print_error, print_warnings

# Global flags may also be given after the command (`mem recall q --json`), as agents tend to.
_GLOBAL_FLAGS = {"--json", "--quiet", "-q", "--debug"}

# Which module of cli/ defines each command (tests/test_cli_loading.py keeps this complete).
COMMAND_MODULES = {
    "init": "setup",
    "config": "setup",
    "add": "entries",
    "show": "entries",
    "list": "entries",
    "recent": "entries",
    "tree": "entries",
    "update": "entries",
    "mv": "entries",
    "forget": "entries",
    "edit": "edit",
    "recall": "recall",
    "reindex": "recall",
    "curate": "curate",
    "import": "transfer",
    "export": "transfer",
    "doctor": "doctor",
    "consolidate": "lifecycle",
    "stats": "lifecycle",
    "graph": "lifecycle",
    "log": "history",
    "undo": "history",
    "sync": "history",
    "watch": "watch",
    "mcp": "agents",
    "memory-tool": "agents",
    "hook": "agents",
}

# What people type out of habit from other tools runs the command they meant (`mem --help`
# lists these; click would otherwise suggest `forget` for `get`).
ALIASES = {"search": "recall", "find": "recall", "get": "show", "cat": "show", "rm": "forget", "ls": "list"}


def load_commands(command: str | None = None) -> None:
    """Register `command`'s module on the app, or every module when it is None or unknown."""
    from importlib import import_module

    module = COMMAND_MODULES.get(command or "")
    for name in [module] if module else sorted(set(COMMAND_MODULES.values())):
        import_module(f".{name}", __package__)


def command_name(args: list[str]) -> str | None:
    """The command named in `args` (global flags first, as hoist_global_flags leaves them)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--root":
            skip = True
        elif arg == "--":
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def resolve_alias(args: list[str]) -> list[str]:
    """`mem search q` -> `mem recall q`: the first word that names a command, if an alias."""
    name = command_name(args)
    if name not in ALIASES:
        return args
    position = args.index(name)
    return [*args[:position], ALIASES[name], *args[position + 1 :]]


def protect_dash_text(args: list[str]) -> list[str]:
    """`mem add a/b/c "- first bullet"`: a word that starts with '-' and then a space cannot
    be an option, so it is text (a markdown bullet). It moves behind `--`, where click reads
    it as the positional argument it is. A value of an option before it is left alone."""
    if "--" in args:
        return args
    texts = [
        index
        for index, arg in enumerate(args)
        if arg[:1] == "-" and arg[1:2].isspace() and (index == 0 or not args[index - 1].startswith("-"))
    ]
    if not texts:
        return args
    return [arg for index, arg in enumerate(args) if index not in texts] + ["--"] + [args[i] for i in texts]


def hoist_global_flags(args: list[str]) -> list[str]:
    """Move global flags given after the command name to the front, where click expects them."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest.extend(args[index:])
            break
        if arg in _GLOBAL_FLAGS:
            front.append(arg)
        elif arg == "--root" and index + 1 < len(args):
            front.extend(args[index : index + 2])
            index += 1
        elif arg.startswith("--root="):
            front.append(arg)
        else:
            rest.append(arg)
        index += 1
    return front + rest


def run(args: list[str]) -> int:
    """Run `mem` with `args`; return the exit code (never raises for expected failures)."""
    from ..core.errors import ExitCode, MemError
    from .lean import run as run_lean

    args = protect_dash_text(resolve_alias(hoist_global_flags(args)))
    state = State(json="--json" in args, debug="--debug" in args)
    try:
        result = run_lean(args, state)
        if result is None:
            result = _run_typer(args, state)
        else:
            print_warnings(state)
        return result
    except MemError as error:
        print_error(state, error.kind, error.message + did_you_mean(state, error))
        return int(error.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("Aborted.\n")
        return 130
    except BrokenPipeError:
        return 0  # `mem list | head` closed the pipe: not an error
    except Exception as error:
        if state.debug:
            raise
        print_error(state, "failure", f"unexpected {type(error).__name__}: {error} (run with --debug for details)")
        return int(ExitCode.FAILURE)


def _run_typer(args: list[str], state: State) -> int:
    """Run `args` through the typer app (every command line the lean path does not take)."""
    import typer

    from ..core.errors import ExitCode
    from .base import app

    load_commands(command_name(args))
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="mem", standalone_mode=False, obj=state)
    except typer.TyperException as error:  # click's usage errors, vendored by typer
        if state.json:
            message = error.format_message() if hasattr(error, "format_message") else str(error)
            print_error(state, "usage", message)
        else:
            error.show()  # type: ignore[attr-defined]
        return int(getattr(error, "exit_code", ExitCode.USAGE))
    except typer.Exit as exit_:
        return int(exit_.exit_code)
    except typer.Abort:
        sys.stderr.write("Aborted.\n")
        return 130
    print_warnings(state)
    return result if isinstance(result, int) else 0


def main() -> None:
    args = sys.argv[1:]
    hook_args = hook_arguments(args)
    if hook_args is not None:
        # `mem hook` runs before every prompt an agent sends: its own path (cli/hook.py), which
        # always exits 0 and prints only what the agent accepts.
        from .hook import run as run_hook

        sys.exit(run_hook(hook_args))
    sys.exit(run(args))


def hook_arguments(args: list[str]) -> list[str] | None:
    """The arguments after `hook` when `args` runs `mem [--root PATH] hook ...`, else None."""
    index = 0
    front: list[str] = []
    while index < len(args) and args[index].startswith("--root"):
        if args[index] == "--root" and index + 1 < len(args):
            front += ["--root", args[index + 1]]
            index += 2
        else:
            front += [args[index]]
            index += 1
    if index < len(args) and args[index] == "hook":
        return args[index + 1 :] + front
    return None
