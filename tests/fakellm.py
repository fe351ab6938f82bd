"""A small OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks.

It implements `POST /v1/chat/completions` (the OpenAI format, with `usage`), answers from a
script (a queue of replies, one per request: a JSON reply, an HTTP status, a delay, or a
closed connection) and records every request it got, so a test can check both what the
model "said" and what contextree sent. litellm talks to it exactly as to any
OpenAI-compatible provider: model `openai/<name>`, `api_base=<server.url>`, any API key.

When the script runs out, `default` answers (a callable from the request to a Reply), or
the server replies 500 so that a test which sends more requests than it expects fails
visibly instead of hanging.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer. `content` is the assistant message (a dict/list is sent as JSON
    text); `status` other than 200 sends `error` instead; `delay` waits first; `close` drops
    the connection without answering."""

    content: Any = None
    status: int = 200
    delay: float = 0.0
    close: bool = False
    error: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int | None = None  # default: ~4 characters per token of the request
    completion_tokens: int | None = None


@dataclass
class Request:
    """What the server received: the JSON body and when."""

    body: dict[str, Any]
    at: float
    # The request's headers as the HTTP server parsed them: lookups ignore case, as HTTP
    # header names do (clients differ in the case they send: `Authorization`, `authorization`).
    headers: Message

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def text(self) -> str:
        """Every message's content joined: what the model was shown."""
        parts = []
        for message in self.messages:
            content = message.get("content")
            if isinstance(content, list):
                parts.extend(str(part.get("text", "")) for part in content if isinstance(part, dict))
            elif content is not None:
                parts.append(str(content))
        return "\n".join(parts)


def _as_text(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content)


class FakeLLM:
    """The scripted server. Use as a context manager, or call `start()` / `stop()`."""

    def __init__(self, model: str = "fake-model") -> None:
        self.model_name = model
        self.script: deque[Reply] = deque()
        self.requests: list[Request] = []
        self.default: Callable[[Request], Reply] | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- scripting ------------------------------------------------------------------------

    def reply(self, *replies: Reply | Any) -> FakeLLM:
        """Queue replies; anything that is not a Reply is a 200 answer with that content."""
        with self._lock:
            for item in replies:
                self.script.append(item if isinstance(item, Reply) else Reply(content=item))
        return self

    @property
    def model(self) -> str:
        return f"openai/{self.model_name}"

    @property
    def url(self) -> str:
        assert self._server is not None, "the server is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def env(self) -> dict[str, str]:
        """The environment that points contextree at this server."""
        return {"MEM_LLM_MODEL": self.model, "MEM_LLM_API_BASE": self.url, "MEM_LLM_API_KEY": "sk-test-not-a-real-key"}

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                request = Request(body=body, at=time.monotonic(), headers=self.headers)
                with fake._lock:
                    fake.requests.append(request)
                    scripted = fake.script.popleft() if fake.script else None
                if scripted is None:
                    scripted = fake.default(request) if fake.default else Reply(status=500, error="script exhausted")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    scripted = Reply(status=404, error=f"no route {self.path}")
                if scripted.delay:
                    time.sleep(scripted.delay)
                if scripted.close:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(2)
                    return
                if scripted.status != 200:
                    payload: dict[str, Any] = {"error": {"message": scripted.error, "type": "fake_error", "code": None}}
                    self._send(scripted.status, payload, scripted.headers)
                    return
                text = _as_text(scripted.content)
                prompt_tokens = (
                    scripted.prompt_tokens if scripted.prompt_tokens is not None else len(request.text) // 4 + 1
                )
                completion_tokens = (
                    scripted.completion_tokens if scripted.completion_tokens is not None else len(text) // 4 + 1
                )
                payload = {
                    "id": f"chatcmpl-fake-{len(fake.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", fake.model_name),
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens,
                    },
                }
                self._send(200, payload, scripted.headers)

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test): nothing to answer

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakellm", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def running(model: str = "fake-model") -> Iterator[FakeLLM]:
    """Generator for a pytest fixture: start a server, yield it, stop it."""
    server = FakeLLM(model).start()
    try:
        yield server
    finally:
        server.stop()
