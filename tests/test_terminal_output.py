"""Terminal output is printable (issue 18): what an entry or a commit holds never reaches a
terminal as an escape sequence (OSC 52 writes the clipboard, ESC[2J clears the screen,
OSC 0 retitles the window). Each human command runs on a real pty here; rich may colour its
own output (SGR `ESC[...m`), nothing else may get through.

Cases beyond repro 18 (recall snippet, log subject/author): titles, summaries, tags and
bodies through show/list/tree/stats/doctor, a file name in a warning, an undo message, and
the 8-bit C1 introducers (0x9b CSI, 0x9d OSC).
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import MEM_BIN
from .gitutil import git, isolate_git

OSC52 = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07"
CLEAR = "\x1b[2J\x1b[H"
C1 = "\x9b2J\x9d0;pwned\x9c"
SGR_ONLY = re.compile(r"\x1b\[[0-9;]*m")


def on_a_terminal(root: Path, *args: str) -> str:
    controller, terminal = pty.openpty()
    env = {**os.environ, "MEM_ROOT": str(root), "COLUMNS": "120", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen([MEM_BIN, *args], stdin=terminal, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    screen = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                screen += chunk
            elif process.poll() is not None:
                break
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    return screen.decode("utf-8", errors="replace")


def hostile_parts(text: str) -> list[str]:
    """Escape sequences other than colours, and bare control/C1 characters."""
    rest = SGR_ONLY.sub("", text)
    return [char for char in rest if char in "\x1b\x07\x9b\x9d\x9c\x90" or "\x80" <= char <= "\x9f"]


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate_git(monkeypatch, tmp_path)
    monkeypatch.delenv("MEM_GIT_TRUST_REPOSITORY", raising=False)
    root = tmp_path / "memory"
    subprocess.run([MEM_BIN, "init", "--git", str(root)], check=True, capture_output=True)
    folder = root / "ops" / "deploy"
    folder.mkdir(parents=True)
    (folder / "pipeline.md").write_text(
        "---\n"
        f'title: "Pipeline {CLEAR}notes"\n'
        f'summary: "how we ship {OSC52}"\n'
        f'tags: ["ci{C1}"]\n'
        "importance: 60\n"
        "---\n"
        f"The deploy pipeline runs on tags. {OSC52} Then {CLEAR} it pushes. {C1}\n",
        encoding="utf-8",
    )
    (folder / f"bad{CLEAR}name.md").write_text("---\ntitle: x\n---\nbody\n")
    git(root, "add", "-A")
    git(
        root,
        "-c",
        f"user.name=Mallory {OSC52}",
        "commit",
        "-q",
        f"--author=Mallory {OSC52} <m@example.com>",
        "-m",
        f"mem add: ops/deploy/pipeline {CLEAR}{C1}",
    )
    return root


@pytest.mark.parametrize(
    "args",
    [
        ("recall", "deploy pipeline"),
        ("show", "ops/deploy/pipeline"),
        ("list",),
        ("tree",),
        ("log",),
        ("stats",),
        ("doctor",),
        ("undo",),
    ],
)
def test_no_escape_sequence_reaches_the_terminal(hostile: Path, args: tuple[str, ...]) -> None:
    screen = on_a_terminal(hostile, *args)
    assert screen.strip(), "the command printed nothing"
    assert hostile_parts(screen) == [], screen


def test_every_cli_module_renders_untrusted_text_through_the_one_sanitiser() -> None:
    cli = Path(__file__).parent.parent / "cli"
    offenders = [
        file.name
        for file in cli.glob("*.py")
        if file.name != "output.py" and "rich.markup import escape" in file.read_text(encoding="utf-8")
    ]
    assert offenders == []
