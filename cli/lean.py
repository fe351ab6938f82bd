"""The lean path: the commands that run most often, without loading typer, click or rich.

Importing typer (and the click it vendors) is about a quarter of a `mem recall` process on
a small memory (docs/benchmarks.md), paid again before every prompt once agents call
`mem hook`. So `mem` first tries to parse the command line here, with the standard library
only, and runs the command's typer-free body (cli/actions.py) directly; rich is imported
only if a person's output is drawn.

It is the same command line, because nothing here defines it:

- The typer commands (cli/recall.py, cli/entries.py, the global options in cli/base.py)
  own every argument, option, default, help text and error. `make docs` derives
  cli/lean_spec.py from them (cli/reference.py), and tests/test_lean.py fails when that
  file is stale, so the two cannot drift.
- The parser below accepts only the plain forms of click's grammar: `--opt value`,
  `--opt=value`, `-k value`, `-k5`, flags, arguments between options, `--`. Anything else -
  `--help`, `-h`, `--version`, an unknown option, a cluster of short flags, a missing or
  extra argument, a value that does not convert or is out of range - returns None, and the
  typer app handles the whole command line as before: help and error messages are always
  typer's own.
- tests/test_lean.py checks, over generated command lines, that whatever this parser
  accepts, click parses to the same values, and that both paths print the same output.

To make a command lean (issue 14's `mem hook`, say): give it a typer-free body taking
`(state, **values)`, have its typer command call that body, add it to COMMANDS, and run
`make docs`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

from . import lean_spec
from .output import State

# Command name -> (module of cli/, function): the typer-free body of each lean command.
COMMANDS: dict[str, tuple[str, str]] = {
    "recall": ("actions", "recall"),
    "add": ("actions", "add"),
    "show": ("actions", "show"),
}

Param = dict[str, Any]

# Set by a shell asking click for completions (click's `_{PROG}_COMPLETE` convention).
COMPLETION_VARIABLE = "_MEM_COMPLETE"


class _Typer(Exception):
    """This command line is one for the typer app (help, version, anything unusual)."""


def parse(args: list[str]) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """(command, global option values, command values) as typer would pass them, or None."""
    if COMPLETION_VARIABLE in os.environ:
        return None  # a shell asking click for completions, not a command to run
    try:
        options, rest = _parse_options(lean_spec.GLOBAL, args, interspersed=False)
        if not rest or rest[0] not in COMMANDS or rest[0] not in lean_spec.COMMANDS:
            return None
        command = rest[0]
        spec = lean_spec.COMMANDS[command]
        values, positionals = _parse_options(spec["options"], rest[1:], interspersed=True)
        values.update(_assign_arguments(spec["arguments"], positionals))
    except _Typer:
        return None
    return command, options, values


def run(args: list[str], state: State) -> int | None:
    """Run `args` on the lean path if it can take them: the exit code, or None for typer."""
    parsed = parse(args)
    if parsed is None:
        return None
    command, options, values = parsed
    state.root = options["root"]
    state.json = options["json_output"]
    state.quiet = options["quiet"]
    state.debug = options["debug"]
    module, function = COMMANDS[command]
    body: Callable[..., object] = getattr(import_module(f".{module}", __package__), function)
    # What the typer app (click's main) makes of these three when a command raises them.
    try:
        result = body(state, **values)
    except KeyboardInterrupt:
        return 130
    except EOFError:
        sys.stderr.write("\nAborted.\n")
        return 130
    except OSError as error:
        if error.errno != errno.EPIPE:
            raise
        # The reader went away (`mem recall q | head -1`): exit 1 quietly, and point the
        # standard streams at /dev/null so that Python's final flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                os.dup2(devnull, stream.fileno())
        raise SystemExit(1) from None
    return result if isinstance(result, int) else 0


def _parse_options(specs: list[Param], args: list[str], *, interspersed: bool) -> tuple[dict[str, Any], list[str]]:
    """Option values (defaults filled in) and the remaining arguments, as click's parser."""
    by_opt = {opt: spec for spec in specs for opt in (*spec["opts"], *spec.get("off", ()))}
    values: dict[str, Any] = {}
    positionals: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            positionals.extend(args[index:])
            break
        if arg[:1] != "-" or len(arg) == 1:
            if not interspersed:
                positionals.extend(args[index - 1 :])
                break
            positionals.append(arg)
            continue
        if arg in lean_spec.HELP_OPTIONS:
            raise _Typer
        attached: str | None
        if arg.startswith("--"):
            name, equals, value = arg.partition("=")
            attached = value if equals else None
        else:  # `-k5`: a short option and its value in one argument, as click reads it
            name, attached = arg[:2], arg[2:] or None
        spec = by_opt.get(name)
        if spec is None:
            raise _Typer  # unknown option, `-k=5`-like forms click reads differently: typer decides
        if spec.get("typer"):
            raise _Typer  # `--version` and the like act by themselves: typer runs them
        if spec["type"] == "flag":
            if attached is not None:
                raise _Typer  # `--explain=1`, `-qv`: click's error or cluster rules
            values[spec["name"]] = name not in spec["off"]  # `--no-x` forms set False
            continue
        if attached is None:
            if index >= len(args):
                raise _Typer  # the option's value is missing
            attached = args[index]
            index += 1
        value = _convert(spec, attached)
        if spec["multiple"]:
            values.setdefault(spec["name"], []).append(value)
        else:
            values[spec["name"]] = value
    for spec in specs:
        values.setdefault(spec["name"], spec["default"])
    return values, positionals


def _assign_arguments(specs: list[Param], positionals: list[str]) -> dict[str, Any]:
    if len(positionals) > len(specs):
        raise _Typer  # unexpected extra argument
    values: dict[str, Any] = {}
    for position, spec in enumerate(specs):
        if position < len(positionals):
            values[spec["name"]] = _convert(spec, positionals[position])
        elif spec["required"]:
            raise _Typer  # missing argument
        else:
            values[spec["name"]] = spec["default"]
    return values


def _convert(spec: Param, text: str) -> Any:
    kind = spec["type"]
    if kind == "text":
        return text
    if kind == "path":
        return str(Path(text))  # what the global callback makes of typer's Path value
    if kind == "choice":
        if text not in spec["choices"]:
            raise _Typer
        return text
    if kind == "int":
        try:
            number = int(text)
        except ValueError:
            raise _Typer from None
        if (spec["min"] is not None and number < spec["min"]) or (spec["max"] is not None and number > spec["max"]):
            raise _Typer
        return number
    raise _Typer  # a type the generator does not describe
