"""The README's 60-second tour prints what the README quotes, character for character (the
milliseconds aside), run on a fresh copy of the bundled example memory."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

from .conftest import EXAMPLE, REPO, run_mem

MS = re.compile(r"\(\d+(\.\d+)? ms\)")


def tour() -> list[tuple[list[str], str | None, list[str]]]:
    """(mem arguments, jq filter or None, quoted output lines) for each `$ mem ...` line of
    the tour that the README follows with output."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## A 60-second tour", 1)[1].split("```console\n", 1)[1].split("\n```", 1)[0]
    steps: list[tuple[list[str], str | None, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            command = line[2:].split("  #", 1)[0].strip()
            jq = None
            if "| jq" in command:
                command, jq = (part.strip() for part in command.split("| jq", 1))
            steps.append((shlex.split(command), jq, []))
        else:
            steps[-1][2].append(line)
    return [(args, jq, output) for args, jq, output in steps if output and args[0] == "mem"]


def test_the_readme_tour_prints_what_the_readme_quotes(tmp_path: Path) -> None:
    steps = tour()
    assert len(steps) >= 3  # the recalls with quoted output, and the jq line
    example = tmp_path / ".memory-example"
    shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns(".mem"))
    for args, jq, expected in steps:
        completed = run_mem(*args[1:], env={"MEM_ROOT": str(example)}, cwd=tmp_path)
        assert completed.returncode == 0, completed.stderr
        if jq is not None:  # '.data.results[0].path' and the like: follow it in Python
            value = json.loads(completed.stdout)
            for key in re.findall(r"\.(\w+)|\[(\d+)\]", shlex.split(jq)[0]):
                value = value[key[0]] if key[0] else value[int(key[1])]
            printed = [json.dumps(value, ensure_ascii=False)]
        else:
            printed = completed.stdout.splitlines()
        assert [MS.sub("(… ms)", line) for line in printed] == [MS.sub("(… ms)", line) for line in expected], args
