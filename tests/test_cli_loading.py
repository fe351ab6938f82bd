"""Only the running command's module is loaded; the map from commands to modules is complete."""

from __future__ import annotations

import subprocess
import sys

import pytest
from contextree.cli.app import COMMAND_MODULES, command_name, hoist_global_flags, load_commands
from contextree.cli.base import app


def test_every_command_has_a_module_and_every_module_its_commands() -> None:
    import typer

    load_commands()
    group = typer.main.get_command(app)
    assert set(group.list_commands(None)) == set(COMMAND_MODULES)  # type: ignore[arg-type]


def test_command_name_skips_global_options() -> None:
    assert command_name(hoist_global_flags(["--root", "x", "recall", "q", "--json"])) == "recall"
    assert command_name(hoist_global_flags(["recall", "--root", "add", "q"])) == "recall"
    assert command_name(["--json", "--root=/tmp/x", "show", "a/b/c"]) == "show"
    assert command_name(["--help"]) is None and command_name([]) is None


def test_running_a_command_loads_only_its_module() -> None:
    code = (
        "import sys; from contextree.cli import app as a; a.load_commands('recall'); "
        "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('contextree.cli.') "
        "and m.rsplit('.', 1)[1] in set(a.COMMAND_MODULES.values())))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['recall']"


@pytest.mark.parametrize("args", [["--version"], ["--json", "--version"], ["--root", "/nonexistent", "--version"]])
def test_version_prints_the_version_without_a_command(args: list[str]) -> None:
    from contextree import __version__

    from .conftest import run_mem

    completed = run_mem(*args)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"mem (contextree) {__version__}"
