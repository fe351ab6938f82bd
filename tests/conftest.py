"""Shared fixtures. Every test runs with HOME, MEM_ROOT, MEM_PERSONAL_ROOT and the working
directory in a fresh temporary folder, so nothing can touch the real home or a real memory."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from contextree import Memory
from contextree.cli.app import run
from hypothesis import settings

# Property tests check behaviour, not speed: no per-example deadline (hypothesis' default of
# 200 ms fails on a busy machine), and a bounded number of examples so the suite's time is.
settings.register_profile("mem", deadline=None, max_examples=150)
settings.load_profile("mem")

# The MCP SDK's stdio client takes `errlog=sys.stderr` as a default argument, bound when the
# module is first imported. First imported by a test while sys.stderr is a stand-in without a
# file descriptor (tests/test_contract.py imports `mcp` for an in-process server), it kept
# that stream, and every later stdio client in the same process failed ("fileno": seen when
# test_contract.py and test_watch.py share a worker). Imported here, it binds a real one.
import mcp.client.stdio  # noqa: E402, F401

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / ".memory-example"
MEM_BIN = str(Path(sys.executable).with_name("mem"))


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "memory"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MEM_ROOT", str(root))
    # The personal memory (core/layers.py) lives in the test's folder too, never the real one.
    monkeypatch.setenv("MEM_PERSONAL_ROOT", str(tmp_path / "personal"))
    for name in list(os.environ):
        if name.startswith("MEM_LLM_") or name in ("MEM_SOURCE", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield root


@pytest.fixture
def root(isolated: Path) -> Path:
    """An initialized, empty memory root (also MEM_ROOT)."""
    Memory.init(isolated)
    return isolated


@pytest.fixture
def memory(root: Path) -> Memory:
    return Memory(root)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A scripted OpenAI-compatible server on 127.0.0.1, with MEM_LLM_* pointing at it."""
    from .fakellm import FakeLLM

    with FakeLLM() as server:
        for name, value in server.env.items():
            monkeypatch.setenv(name, value)
        yield server


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def data(self) -> Any:
        payload = self.json
        assert payload["ok"], payload
        return payload["data"]


@pytest.fixture
def mem(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run the CLI in-process: mem("add", "a/b/c", "text", input=None) -> CliResult."""

    def invoke(*args: str, input: str | None = None) -> CliResult:
        capsys.readouterr()
        stdin = io.TextIOWrapper(io.BytesIO((input or "").encode()), encoding="utf-8")
        stdin.isatty = lambda: input is None  # type: ignore[method-assign]
        monkeypatch.setattr(sys, "stdin", stdin)
        code = run(list(args))
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return invoke


def run_mem(
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `mem` executable as a separate process."""
    return subprocess.run(
        [MEM_BIN, *args],
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
