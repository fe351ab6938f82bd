"""A model that is away or stalls costs a bounded time, and nothing twice (issues 17 and 18):
a refused connection is not retried and is remembered in `.mem/` for a while, an attempt has
a total deadline however slowly the server trickles, and the whole escalation of a recall
has one deadline. Assertions are on behaviour (connections counted by a listener of our
own, requests counted by the fake server); wall-time bounds are generous.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import EXAMPLE, MEM_BIN, CliResult
from .fakellm import FakeLLM, Reply

PARAPHRASE = "people got the same appointment text message two or three times"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Listener:
    """A TCP listener that counts connections and can play a server that trickles."""

    def __init__(self, port: int, *, trickle: bool = False) -> None:
        self.connections = 0
        self.trickle = trickle
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            if not self.trickle:
                return
            conn.settimeout(1)
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                while not self.stop.is_set():  # one byte every 0.3 s: each read succeeds
                    conn.sendall(b" ")
                    time.sleep(0.3)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def tree(root: Path) -> Path:
    shutil.copytree(EXAMPLE, root, dirs_exist_ok=True)
    return root


def configure(root: Path, port: int, **llm: object) -> None:
    lines = ["llm:", "  model: openai/fake-model", f"  api_base: http://127.0.0.1:{port}/v1", "  api_key: sk-test"]
    lines += [f"  {key}: {value}" for key, value in llm.items()]
    (root / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def recall_process(root: Path) -> tuple[dict, float, bool]:
    """`mem --json recall` in a fresh process: (data, seconds, whether litellm was imported)."""
    script = (
        "import sys, json\n"
        "from contextree.cli.app import run\n"
        "code = run(sys.argv[1:])\n"
        "sys.stderr.write('\\nLITELLM=' + str('litellm' in sys.modules) + '\\n')\n"
    )
    python = Path(MEM_BIN).parent / "python"
    env = {**os.environ, "MEM_ROOT": str(root)}
    for name in ("MEM_LLM_MODEL", "MEM_LLM_API_BASE", "MEM_LLM_API_KEY"):
        env.pop(name, None)
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), "-c", script, "--json", "recall", PARAPHRASE, "--max-tier", "llm"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["data"], elapsed, "LITELLM=True" in done.stderr


def test_a_model_that_is_away_costs_nothing_twice(tree: Path) -> None:
    port = free_port()  # nothing listens there
    configure(tree, port, max_retries=3, unreachable_ttl_seconds=600)
    first, first_seconds, imported = recall_process(tree)
    assert first["llm"]["error"].startswith("unreachable:")
    assert first["results"] and first["results"][0]["tier"] in ("keyword", "fuzzy")  # the cheap answer
    assert not imported  # refused before litellm's import (seconds) was paid
    assert first_seconds < 15  # generous: a recall without a model takes well under 1 s

    listener = Listener(port)  # now something listens and counts
    try:
        second, _, imported = recall_process(tree)
        assert listener.connections == 0  # the endpoint was not tried again
        assert not imported
        assert second["llm"]["error"].startswith("unreachable:")
        assert any("skipped" in note for note in second["notes"])
        assert [hit["path"] for hit in second["results"]] == [hit["path"] for hit in first["results"]]
    finally:
        listener.close()


def test_an_endpoint_is_tried_again_after_its_time(tree: Path) -> None:
    port = free_port()
    configure(tree, port, unreachable_ttl_seconds=0.5)
    recall_process(tree)
    time.sleep(0.6)
    listener = Listener(port)
    try:
        recall_process(tree)
        assert listener.connections >= 1
    finally:
        listener.close()


@pytest.fixture
def litellm_loaded() -> None:
    """Import litellm before timing a call (its import is a one-off cost, not the call's)."""
    from contextree.core.llm import _litellm

    _litellm()


def test_a_trickling_server_is_cut_off_at_the_attempt_deadline(
    tree: Path, litellm_loaded: None, mem: Callable[..., CliResult]
) -> None:
    port = free_port()
    configure(tree, port, timeout_seconds=1.5, max_retries=0, recall_deadline_seconds=30)
    listener = Listener(port, trickle=True)
    try:
        started = time.perf_counter()
        result = mem("--json", "recall", PARAPHRASE, "--max-tier", "llm")
        elapsed = time.perf_counter() - started
    finally:
        listener.close()
    assert result.code == 0, result.stderr
    assert result.data["llm"]["error"].startswith("timeout:")
    assert elapsed < 15  # the 1.5 s deadline, generously: without it this never returns
    assert result.data["results"]  # the cheap tiers' answer


@pytest.fixture
def failing() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        server.default = lambda request: Reply(status=503)
        yield server


def test_the_whole_escalation_has_one_deadline(
    tree: Path, failing: FakeLLM, litellm_loaded: None, mem: Callable[..., CliResult]
) -> None:
    (tree / "config.yaml").write_text(
        "llm:\n  timeout_seconds: 5\n  max_retries: 8\n  retry_backoff_seconds: 0.4\n  recall_deadline_seconds: 1\n",
        encoding="utf-8",
    )
    env = failing.env
    os.environ.update(env)
    try:
        result = mem("--json", "recall", PARAPHRASE, "--max-tier", "agent")
    finally:
        for name in env:
            os.environ.pop(name, None)
    assert result.code == 0, result.stderr
    assert result.data["llm"]["error"].split(":")[0] in ("server_error", "deadline")
    # 0.4 + 0.8 + 1.6 s of backoff do not fit in 1 s: far fewer than the 9 attempts allowed.
    assert 1 <= len(failing.requests) <= 3
