"""The `mem` executable's first step: `mem hook` runs before typer is even imported.

Agents call `mem hook prompt` before every prompt, so that path must not pay for typer, click
and rich (about a quarter of a small `mem recall`). Everything else goes to the typer app
(cli/app.py). A lean path for more commands can dispatch here the same way.
"""

from __future__ import annotations

import sys


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


def main() -> None:
    args = sys.argv[1:]
    hook_args = hook_arguments(args)
    if hook_args is not None:
        from .hook import run

        sys.exit(run(hook_args))
    from .app import main as app_main

    app_main()
