"""The one door to a language model: settings, the litellm call, retries, JSON replies.

Every provider litellm knows works (OpenAI, Anthropic, Ollama, any OpenAI-compatible
server): the model name picks it (`openai/gpt-4o-mini`, `anthropic/claude-...`,
`ollama/llama3.1`) and `api_base` points at a local server. Settings come from the `llm:`
section of config.yaml, overridden by MEM_LLM_MODEL, MEM_LLM_API_BASE and MEM_LLM_API_KEY.

litellm is imported only when a model is actually called (`import litellm` takes seconds)
and always with LITELLM_LOCAL_MODEL_COST_MAP=True, which stops it from fetching its price
list over the network at import.

Retries are done here, not by litellm or the OpenAI SDK (both are told 0): their backoff is
not configurable per call (litellm's `num_retries` retries at once through tenacity, the SDK
waits 0.5-8 s), and the count must be exact and testable. A rate limit (429), a server
error (5xx) or a dropped connection is retried `max_retries` times with exponential
backoff (a Retry-After header wins, capped); a timeout is not retried: the time it was
given is already spent, and a provider that hung once tends to hang again. Anything else
(a bad key, an unknown model, a bad request) fails at once.

Time is bounded three ways. `timeout_seconds` is the whole of one attempt (connect, wait,
read), enforced around the call (`asyncio.wait_for`, which also closes the connection), not
only per read: a server that trickles one byte a second cannot hold a caller. A `deadline`
(recall's `recall_deadline_seconds`) bounds all attempts and backoffs together. And a model
that is away costs nothing twice: a refused or failed connection is not retried, and the
endpoint is remembered in `.mem/llm-unreachable.json` for `unreachable_ttl_seconds`, so the
next calls skip it at once (before importing litellm) with a note. An `api_base` is probed
with a plain TCP connect before litellm is imported, so a local server that is down costs
milliseconds, not the seconds litellm's import takes.
"""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import LLMConfig
from .errors import ExternalError, MemError
from .paths import STATE_DIR
from .safeio import check_database_files, sqlite_uri, state_dir

ENV_MODEL = "MEM_LLM_MODEL"
ENV_API_BASE = "MEM_LLM_API_BASE"
ENV_API_KEY = "MEM_LLM_API_KEY"
BACKOFF_CAP_SECONDS = 30.0
CACHE_FILE = "llm-cache.db"
CACHE_MAX_ROWS = 2000
UNREACHABLE_FILE = "llm-unreachable.json"
UNREACHABLE_MAX_BYTES = 64 * 1024
PROBE_SECONDS = 2.0  # a TCP connect to a local api_base answers in microseconds, or is refused

Message = dict[str, str]


@dataclass(frozen=True)
class LLMSettings:
    """The effective model settings (config.yaml with the environment on top)."""

    model: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_seconds: float = 30.0
    recall_deadline_seconds: float = 20.0
    unreachable_ttl_seconds: float = 60.0
    max_retries: int = 2
    retry_backoff_seconds: float = 1.0
    max_tokens: int = 1024
    temperature: float = 0.0
    json_mode: bool = True
    candidate_budget_tokens: int = 3000
    max_candidates: int = 8
    agent_max_steps: int = 6
    agent_max_tokens: int = 20000
    cache: bool = True
    curate_chunk_tokens: int = 2000
    curate_max_items: int = 40


def resolve_settings(config: LLMConfig, env: Mapping[str, str]) -> LLMSettings | None:
    """The settings to call a model with, or None when no model is configured."""
    model = (env.get(ENV_MODEL) or config.model or "").strip()
    if not model:
        return None
    api_base = (env.get(ENV_API_BASE) or config.api_base or "").strip() or None
    api_key = (env.get(ENV_API_KEY) or config.api_key or "").strip() or None
    return LLMSettings(
        model=model,
        api_base=api_base,
        api_key=api_key,
        timeout_seconds=max(0.1, config.timeout_seconds),
        recall_deadline_seconds=max(0.1, config.recall_deadline_seconds),
        unreachable_ttl_seconds=max(0.0, config.unreachable_ttl_seconds),
        max_retries=max(0, config.max_retries),
        retry_backoff_seconds=max(0.0, config.retry_backoff_seconds),
        max_tokens=max(16, config.max_tokens),
        temperature=config.temperature,
        json_mode=config.json_mode,
        candidate_budget_tokens=max(200, config.candidate_budget_tokens),
        max_candidates=max(1, config.max_candidates),
        agent_max_steps=max(1, config.agent_max_steps),
        agent_max_tokens=max(500, config.agent_max_tokens),
        cache=config.cache,
        curate_chunk_tokens=max(200, config.curate_chunk_tokens),
        curate_max_items=max(1, config.curate_max_items),
    )


class LLMError(ExternalError):
    """A model call that failed. `failure` names how: timeout, deadline (the caller's whole
    budget is spent), unreachable (no connection could be made, or one was made recently and
    failed: skipped), rate_limit, server_error, connection (dropped), http, malformed (not
    JSON), schema (JSON of the wrong shape), not_installed (the `llm` extra is missing), error."""

    def __init__(self, failure: str, message: str, attempts: int = 1) -> None:
        super().__init__(message)
        self.failure = failure
        self.attempts = attempts


@dataclass(frozen=True)
class ChatReply:
    text: str
    tokens_in: int
    tokens_out: int
    ms: float
    attempts: int


@dataclass
class Usage:
    """What the calls of one operation cost, added up."""

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    ms: float = 0.0

    def add(self, reply: ChatReply) -> None:
        self.calls += 1
        self.tokens_in += reply.tokens_in
        self.tokens_out += reply.tokens_out
        self.ms += reply.ms

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


# The model features are the `llm` extra (pyproject.toml): a base install has no litellm.
INSTALL_HINT = "pip install 'contextree[llm]'"
_EXTRA_MODULES = ("litellm", "jsonschema")


def require_llm_extra() -> None:
    """Raise LLMError("not_installed") naming the install command when the model features are
    missing; cheap (a module lookup, no import). Called before any work that needs a model."""
    import importlib.util

    missing = [name for name in _EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise LLMError("not_installed", f"the model features are not installed ({', '.join(missing)}): {INSTALL_HINT}")


def _litellm() -> Any:
    """Import litellm the one way it may be imported: offline cost map, quiet, lenient params."""
    require_llm_extra()
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    litellm.suppress_debug_info = True  # else it prints "Give Feedback / Get Help" on stdout (breaks --json)
    litellm.drop_params = True  # a provider that has no `temperature` or `response_format` still answers
    if hasattr(litellm, "telemetry"):
        litellm.telemetry = False
    return litellm


# litellm prefixes provider messages with its class names: "litellm.RateLimitError:
# RateLimitError: OpenAIException - <the provider's message>". Only the last part says anything.
_LITELLM_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)?(?:\w+Error:\s*)?(?:\w+Exception\s*-\s*)?")


def _short(text: str, limit: int = 160) -> str:
    line = _LITELLM_PREFIX.sub("", " ".join(str(text).split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _retry_after(error: BaseException) -> float | None:
    """The provider's Retry-After (seconds), if it sent one. litellm keeps the real response
    headers in `litellm_response_headers`; `response` is a stand-in without them."""
    headers = getattr(error, "litellm_response_headers", None) or getattr(
        getattr(error, "response", None), "headers", None
    )
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class LLMClient:
    """Chat calls to one model with the retry policy above. `usage` adds up every call."""

    def __init__(
        self,
        settings: LLMSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        state_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.usage = Usage()
        self._sleep = sleep
        self._module: Any = None
        # Where unreachable endpoints are remembered (`.mem/`); None: not remembered.
        self.endpoints = EndpointMemory(state_dir / UNREACHABLE_FILE) if state_dir is not None else None
        self.deadline: float | None = None  # time.monotonic() after which no attempt starts
        self._attempt_seconds = settings.timeout_seconds

    def set_budget(self, seconds: float) -> None:
        """Bound every later call of this client, attempts and backoffs together."""
        self.deadline = time.monotonic() + seconds

    def _remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def _skip_if_away(self) -> None:
        """Fail at once, with no connection and no litellm import, for an endpoint that was
        unreachable a moment ago; probe an api_base with a TCP connect first."""
        if self.endpoints is not None:
            since = self.endpoints.unreachable_since(self.where, self.settings.unreachable_ttl_seconds)
            if since is not None:
                raise LLMError(
                    "unreachable",
                    f"skipped {self.where}: it could not be reached {since:.0f}s ago "
                    f"(tried again after llm.unreachable_ttl_seconds, {self.settings.unreachable_ttl_seconds:g}s)",
                    0,
                )
        if self._module is None and self.settings.api_base:
            remaining = self._remaining()
            limit = PROBE_SECONDS if remaining is None else max(0.05, min(PROBE_SECONDS, remaining))
            reason = _probe(self.settings.api_base, limit)
            if reason is not None:
                self._remember_unreachable()
                raise LLMError("unreachable", f"cannot connect to {self.where} ({reason})", 1)

    def _remember_unreachable(self) -> None:
        if self.endpoints is not None and self.settings.unreachable_ttl_seconds > 0:
            self.endpoints.mark(self.where)

    def _complete(self, kwargs: dict[str, Any], seconds: float) -> Any:
        """One litellm call that takes at most `seconds` in all: `acompletion` under
        `asyncio.wait_for`, which cancels the request (and closes its connection) on time."""
        import asyncio  # here, not at the top: recall imports this module on every escalation check
        import concurrent.futures

        async def bounded() -> Any:
            return await asyncio.wait_for(self._module.acompletion(**kwargs), seconds)

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(bounded())
        # Called from inside an event loop (not mem's own callers): run on a thread of its own.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, bounded()).result()

    @property
    def where(self) -> str:
        return self.settings.api_base or self.settings.model

    def _classify(self, error: BaseException) -> tuple[str, str, bool]:
        """(failure, one-line description, retry?) for an exception from litellm."""
        litellm = self._module
        status = getattr(error, "status_code", None)
        text = _short(getattr(error, "message", None) or str(error))
        if isinstance(error, (TimeoutError, litellm.Timeout)):  # asyncio's TimeoutError is the builtin
            return "timeout", f"no reply within {self._attempt_seconds:g}s", False
        if _connect_failed(error):
            return "unreachable", f"cannot connect to {self.where}", False
        if isinstance(error, litellm.RateLimitError):
            return "rate_limit", "HTTP 429 (rate limited)", True
        if isinstance(status, int) and 400 <= status < 500:
            return "http", f"HTTP {status} ({text})", False
        if "api_key" in text:  # the SDK found no key at all (litellm calls it a 500): asking again will not help
            return "auth", f"no API key ({text})", False
        if "connection error" in text.lower() or isinstance(error, litellm.APIConnectionError):
            return "connection", f"cannot connect to {self.where}", True
        if isinstance(status, int) and status >= 500:
            return "server_error", f"HTTP {status} from the provider ({text})", True
        return "error", f"{type(error).__name__}: {text}", False

    def chat(self, messages: Sequence[Message], *, max_tokens: int | None = None, json_reply: bool = True) -> ChatReply:
        """One completion, retried and bounded as the module docstring says; raises LLMError."""
        if self._module is None:
            require_llm_extra()  # a missing extra is said first: no endpoint would help
        self._skip_if_away()
        if self._module is None:
            importing = time.monotonic()
            self._module = _litellm()
            if self.deadline is not None:  # the one-off import is not time the endpoint took
                self.deadline += time.monotonic() - importing
        settings = self.settings
        kwargs: dict[str, Any] = {
            "model": settings.model,
            "messages": list(messages),
            "timeout": settings.timeout_seconds,
            "max_tokens": max_tokens or settings.max_tokens,
            "temperature": settings.temperature,
            "max_retries": 0,
            "num_retries": 0,
        }
        if settings.api_base:
            kwargs["api_base"] = settings.api_base
        if settings.api_key:
            kwargs["api_key"] = settings.api_key
        elif settings.api_base and settings.model.startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
            # A local OpenAI-compatible server (llama.cpp, vLLM, LM Studio, Ollama's /v1) needs
            # no key, but the OpenAI SDK refuses to start without one.
            kwargs["api_key"] = "no-key"
        if json_reply and settings.json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        attempts = 0
        started = time.perf_counter()
        while True:
            remaining = self._remaining()
            if remaining is not None and remaining <= 0:
                raise LLMError("deadline", f"the model's time budget was spent after {attempts} attempt(s)", attempts)
            attempts += 1
            self._attempt_seconds = (
                settings.timeout_seconds if remaining is None else min(settings.timeout_seconds, remaining)
            )
            kwargs["timeout"] = self._attempt_seconds
            try:
                response = self._complete(kwargs, self._attempt_seconds)
                break
            except Exception as error:
                failure, description, retry = self._classify(error)
                if failure == "unreachable":
                    self._remember_unreachable()
                wait = settings.retry_backoff_seconds * 2 ** (attempts - 1)
                hinted = _retry_after(error)
                if hinted is not None:
                    wait = max(wait, hinted)
                wait = min(BACKOFF_CAP_SECONDS, wait * random.uniform(1.0, 1.25))  # noqa: S311 - jitter
                remaining = self._remaining()
                out_of_time = remaining is not None and wait >= remaining
                if not retry or attempts > settings.max_retries or out_of_time:
                    plural = "s" if attempts != 1 else ""
                    raise LLMError(failure, f"{description}, {attempts} attempt{plural}", attempts) from None
                self._sleep(wait)
        ms = round((time.perf_counter() - started) * 1000, 1)
        if self.endpoints is not None:
            self.endpoints.clear(self.where)
        try:
            text = response.choices[0].message.content
        except (AttributeError, IndexError, TypeError):
            text = None
        usage = getattr(response, "usage", None)
        tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
        tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
        reply = ChatReply(text or "", tokens_in, tokens_out, ms, attempts)
        self.usage.add(reply)
        if not text:
            raise LLMError("malformed", "the model sent an empty reply", attempts)
        return reply

    def chat_json(
        self, messages: Sequence[Message], schema: Mapping[str, Any], *, max_tokens: int | None = None
    ) -> tuple[dict[str, Any], ChatReply]:
        """A completion whose reply must be one JSON object matching `schema`."""
        reply = self.chat(messages, max_tokens=max_tokens)
        data = parse_json_object(reply.text)
        validate(data, schema)
        return data, reply


def _connect_failed(error: BaseException) -> bool:
    """Whether no connection could be made at all (refused, no route, unknown host, connect
    timeout): retrying at once would fail the same way. A connection dropped mid-reply is not
    this. Looks through the exception's causes (litellm wraps httpx's errors)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        if type(current).__name__ in {"ConnectError", "ConnectTimeout", "gaierror"}:  # httpx's, socket's
            return True
        current = current.__cause__ or current.__context__
    text = str(error).lower()
    return "connection refused" in text or "name or service not known" in text


def _probe(api_base: str, seconds: float) -> str | None:
    """None when a TCP connection to the api_base's host and port can be made; else why not."""
    import socket
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(api_base if "://" in api_base else f"http://{api_base}")
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None  # let litellm say what is wrong with the URL
    if not host:
        return None
    try:
        with socket.create_connection((host, port), timeout=seconds):
            return None
    except TimeoutError:
        return f"no answer to a connection within {seconds:g}s"
    except OSError as error:
        return error.strerror or type(error).__name__


class EndpointMemory:
    """Endpoints that could not be reached, with when: a small JSON file in `.mem/`. A
    cache like the answer cache: it may be deleted any time, and a failure to read or write
    it never fails a call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, float]:
        from .store import read_bytes_limited

        try:
            data = json.loads(read_bytes_limited(self.path, UNREACHABLE_MAX_BYTES))
        except (ExternalError, ValueError, OSError, MemError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(key): float(value) for key, value in data.items() if isinstance(value, (int, float))}

    def _write(self, data: Mapping[str, float]) -> None:
        from .store import atomic_write_text

        try:
            self.path.parent.mkdir(exist_ok=True)
            atomic_write_text(self.path, json.dumps(dict(data), sort_keys=True) + "\n")
        except (MemError, OSError):
            return

    def unreachable_since(self, where: str, ttl: float) -> float | None:
        """Seconds since `where` was found unreachable, if within `ttl`."""
        marked = self._read().get(where)
        if marked is None:
            return None
        age = time.time() - marked
        return age if 0 <= age < ttl else None

    def mark(self, where: str) -> None:
        data = self._read()
        data[where] = time.time()
        self._write(data)

    def clear(self, where: str) -> None:
        if not self.path.exists():
            return
        data = self._read()
        if where in data:
            del data[where]
            self._write(data)


_FENCE = re.compile(r"^```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in a model's reply: bare, in a ``` fence, or after some prose (and after
    a reasoning model's <think> block). Raises LLMError("malformed") otherwise."""
    cleaned = _THINKING.sub("", text).strip()
    fenced = _FENCE.match(cleaned)
    if fenced:
        cleaned = fenced.group(1).strip()
    try:
        data = json.loads(cleaned)
    except ValueError:
        data = None
        decoder = json.JSONDecoder()
        for match in re.finditer(r"\{", cleaned):
            try:
                data, _ = decoder.raw_decode(cleaned, match.start())
                break
            except ValueError:
                continue
    if not isinstance(data, dict):
        raise LLMError("malformed", f"the model's reply is not a JSON object: {_short(text, 80)!r}")
    return data


def validate(data: Any, schema: Mapping[str, Any]) -> None:
    """Check a reply against a JSON schema; raises LLMError("schema") naming the first problem."""
    require_llm_extra()
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the reply"
        raise LLMError("schema", f"the model's reply has the wrong form at {where}: {_short(error.message, 120)}")


# --- the answer cache ---------------------------------------------------------------------


class ReplyCache:
    """Model answers kept in `.mem/llm-cache.db`, keyed by a digest of everything that
    shaped them (query, scope, model, candidates, the tree's content version). A cache: it
    may be deleted any time, and a failure to read or write it never fails a recall."""

    def __init__(self, root: Path) -> None:
        self.path = root / STATE_DIR / CACHE_FILE

    def _connect(self) -> sqlite3.Connection:
        # Like mem's other databases: a real `.mem/`, no link (SQLite's nofollow), no FIFO.
        state_dir(self.path.parent.parent)
        check_database_files(self.path)
        conn = sqlite3.connect(sqlite_uri(self.path), uri=True, timeout=5, isolation_level=None)
        conn.execute("CREATE TABLE IF NOT EXISTS answers(key TEXT PRIMARY KEY, value TEXT NOT NULL, at REAL NOT NULL)")
        return conn

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            conn = self._connect()
            try:
                row = conn.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
            finally:
                conn.close()
            value = json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError, OSError, MemError):
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        try:
            conn = self._connect()
            try:
                conn.execute(
                    "INSERT OR REPLACE INTO answers(key, value, at) VALUES (?, ?, ?)",
                    (key, json.dumps(value, ensure_ascii=False), time.time()),
                )
                # Keys change with every edit of the tree, so old answers pile up: keep the newest.
                conn.execute(
                    "DELETE FROM answers WHERE key NOT IN (SELECT key FROM answers ORDER BY at DESC LIMIT ?)",
                    (CACHE_MAX_ROWS,),
                )
            finally:
                conn.close()
        except (sqlite3.Error, OSError, MemError):
            return
