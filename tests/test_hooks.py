"""`mem hook EVENT`: each agent's documented payloads in, what that agent accepts out.

The payloads are the documentation's own examples (tests/fixtures/hooks/README.md cites
them); only the machine-specific fields (cwd, transcript_path, workspace_roots) and, where a
test needs one, the prompt are replaced. Every call runs the installed `mem` as the agent
would: a separate process, the payload on stdin.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from contextree import Memory
from contextree.core.hooks import NATIVE_EVENTS, prompt_context
from contextree.core.index import INDEX_FILE
from contextree.core.lexicon import background_idf
from contextree.core.transcript import read_turns

from .conftest import EXAMPLE, run_mem
from .fakellm import FakeLLM, Reply

FIXTURES = Path(__file__).parent / "fixtures" / "hooks"
IN_DOMAIN = "we're getting 'prepared statement does not exist' errors from psycopg again, can you fix it?"
PGBOUNCER = "gotchas/database/pgbouncer-prepared-statements"
OUT_OF_DOMAIN = [
    "Write a function to calculate the factorial of a number",
    "write me a haiku about the sea",
    "rename this variable to something clearer",
    "what is the capital of France?",
    "continue",  # acknowledgements and continuations carry no topic
    "yes, go ahead",
]
FIXTURE_OF = {
    "claude": {
        "session-start": "session-start",
        "prompt": "user-prompt-submit",
        "pre-compact": "pre-compact",
        "session-end": "session-end",
        "stop": "stop",
    },
    "codex": {
        "session-start": "session-start",
        "prompt": "user-prompt-submit",
        "pre-compact": "pre-compact",
        "stop": "stop",
    },
    "cursor": {
        "session-start": "session-start",
        "prompt": "before-submit-prompt",
        "pre-compact": "pre-compact",
        "session-end": "session-end",
        "stop": "stop",
    },
}
CASES = [(agent, event) for agent, events in FIXTURE_OF.items() for event in events]


# --- what each agent accepts on stdout (from its documentation) ------------------------------


def _hook_specific(native: str, *, strict: bool) -> dict[str, Any]:
    """Claude Code and Codex: JSON with hookSpecificOutput.additionalContext. Codex's parser
    refuses unknown fields (its published output schemas say additionalProperties: false)."""
    return {
        "type": "object",
        "properties": {
            "continue": {"type": "boolean"},
            "suppressOutput": {"type": "boolean"},
            "systemMessage": {"type": "string"},
            "stopReason": {"type": "string"},
            "hookSpecificOutput": {
                "type": "object",
                "required": ["hookEventName", "additionalContext"],
                "properties": {"hookEventName": {"const": native}, "additionalContext": {"type": "string"}},
                "additionalProperties": not strict,
            },
        },
        "additionalProperties": not strict,
    }


CURSOR_ACCEPTS = {
    "session-start": {
        "type": "object",
        "properties": {
            "env": {"type": "object"},
            "additional_context": {"type": "string"},
            "continue": {"type": "boolean"},
            "user_message": {"type": "string"},
        },
        "additionalProperties": False,
    },
    # Must let the prompt through: `continue: false` would block the user's prompt.
    "prompt": {
        "type": "object",
        "required": ["continue"],
        "properties": {"continue": {"const": True}, "user_message": {"type": "string"}},
        "additionalProperties": False,
    },
    "pre-compact": {
        "type": "object",
        "properties": {"user_message": {"type": "string"}},
        "additionalProperties": False,
    },
    # A followup_message would be submitted as the user's next message: never send one.
    "stop": {"type": "object", "maxProperties": 0},
    "session-end": {"type": "object", "maxProperties": 0},
}


def check_accepted(agent: str, event: str, stdout: str) -> dict[str, Any] | None:
    """Assert `stdout` is what `agent` accepts for `event`; return the parsed JSON, if any."""
    if agent == "cursor":
        data = json.loads(stdout)  # Cursor reads a JSON object from every hook
        jsonschema.validate(data, CURSOR_ACCEPTS[event])
        return data
    if event not in ("session-start", "prompt"):
        assert stdout == ""  # capture events print nothing (Stop's stdout would reach the user or the model)
        return None
    if stdout == "":
        return None  # nothing to add: accepted by both
    data = json.loads(stdout)
    jsonschema.validate(data, _hook_specific(NATIVE_EVENTS[agent][event], strict=agent == "codex"))
    return data


def injected(agent: str, data: dict[str, Any] | None) -> str:
    if data is None:
        return ""
    if agent == "cursor":
        return str(data.get("additional_context", ""))
    return str(data["hookSpecificOutput"]["additionalContext"])


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose `.memory/` is the bundled example; MEM_ROOT unset, as under an agent."""
    folder = tmp_path / "project"
    shutil.copytree(EXAMPLE, folder / ".memory")
    monkeypatch.delenv("MEM_ROOT")
    write_config(folder, "")
    return folder


def payload(agent: str, event: str, project: Path, transcript: Path | None = None, **fields: Any) -> str:
    data = json.loads((FIXTURES / agent / f"{FIXTURE_OF[agent][event]}.json").read_text())
    if "workspace_roots" in data:
        data["workspace_roots"] = [str(project)]
    else:
        data["cwd"] = str(project)
    if "transcript_path" in data:
        data["transcript_path"] = str(transcript) if transcript else str(project / "no-such-transcript.jsonl")
    data.update(fields)
    return json.dumps(data)


def hook(agent: str, event: str, stdin: str, cwd: Path, **env: str) -> Any:
    return run_mem("hook", event, "--agent", agent, input=stdin, cwd=cwd, env=env)


# A test checks what the hooks print, not how fast this machine is: the first prompt of a
# copied memory builds its index, which on a loaded CI machine takes longer than the default
# deadlines, and the hook then rightly prints nothing. The deadline tests set their own.
UNHURRIED = {"hooks": {"deadline_ms": 120_000, "session_deadline_ms": 120_000}}


def write_config(project: Path, text: str) -> None:
    """Write `text` as config.yaml, over deadlines no machine misses unless `text` sets them."""
    config = yaml.safe_load(text) or {}
    for section, values in UNHURRIED.items():
        config[section] = {**values, **(config.get(section) or {})}
    (project / ".memory" / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


# --- every event of every agent ---------------------------------------------------------------


@pytest.mark.parametrize(("agent", "event"), CASES, ids=[f"{a}-{e}" for a, e in CASES])
def test_documented_payloads_get_an_answer_the_agent_accepts(agent: str, event: str, project: Path) -> None:
    result = hook(agent, event, payload(agent, event, project), project)
    assert result.returncode == 0 and result.stderr == ""
    data = check_accepted(agent, event, result.stdout)
    if event == "session-start":
        text = injected(agent, data)
        assert text.startswith('<memory-context kind="briefing" entries="59">')
        assert f"({PGBOUNCER})" in text and "mem recall" in text
    if event == "prompt":  # the documented prompts are about nothing this memory knows
        assert injected(agent, data) == ""


@pytest.mark.parametrize("agent", ["claude", "codex"])
def test_prompt_hook_injects_the_right_entry_and_nothing_out_of_domain(agent: str, project: Path) -> None:
    result = hook(agent, "prompt", payload(agent, "prompt", project, prompt=IN_DOMAIN), project)
    data = check_accepted(agent, "prompt", result.stdout)
    text = injected(agent, data)
    assert text.startswith("<memory-context ") and "not instructions" in text
    assert f'<memory path="{PGBOUNCER}"' in text
    assert "prepared statement" in text and f"mem show {PGBOUNCER}" in text
    assert text.count("<memory path=") <= 3  # a few confident entries, not the top ten
    for prompt in OUT_OF_DOMAIN:
        quiet = hook(agent, "prompt", payload(agent, "prompt", project, prompt=prompt), project)
        assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", ""), prompt


# Requests of a coding session whose one shared word an entry of the example uses in another
# sense: recall answers them with that entry (a query someone asks), the prompt hook must not.
TRADE_WORDS = {
    "run the linter and fix what it reports": "conventions/migrations/zero-downtime",  # django-migration-linter
    "run the build and tell me what breaks": "gotchas/database/pgbouncer-prepared-statements",  # "... breaks prepared"
    "add a retry to this HTTP call": "gotchas/celery/retry-countdown-visibility-timeout",  # "Celery retries ..."
}


def test_one_word_of_the_trade_shared_with_an_entry_injects_nothing(project: Path) -> None:
    memory = Memory(project / ".memory")
    for prompt, entry in TRADE_WORDS.items():
        recalled = memory.recall(prompt, k=3)
        assert entry in [hit.path for hit in recalled.results], prompt  # recall itself finds the entry
        assert next(hit.match for hit in recalled.results if hit.path == entry) >= memory.config.recall.keyword_floor
        assert prompt_context(memory, prompt) is None, prompt
    # Two words of what the entry is about (title, keywords, tags, path), or a one-word prompt
    # naming it, are enough.
    probe = prompt_context(memory, "add a liveness probe to the api deployment")
    assert probe is not None and probe.included == ("gotchas/kubernetes/liveness-readiness-probes",)
    crashloop = prompt_context(memory, "CrashLoopBackOff")
    assert crashloop is not None and crashloop.included == ("runbooks/kubernetes/crashloop-triage",)


# Requests made only of the trade's words that find TWO of them in what an entry of the example
# says it is about (a title, a keyword), in another subject: rare words in English at large,
# everyday ones in commit messages.
TWO_TRADE_WORDS = {
    "fix the failing test": "gotchas/time/naive-datetimes",  # "Naive datetimes fail tests ..."
    "add a timeout to the request": "conventions/migrations/zero-downtime",  # add index concurrently, lock_timeout
}


def test_a_prompt_of_trade_words_only_injects_nothing_and_a_subject_still_does(project: Path) -> None:
    from contextree.core.hooks import about_info
    from contextree.core.text import query_terms

    memory = Memory(project / ".memory")
    for prompt, entry in TWO_TRADE_WORDS.items():
        recalled = memory.recall(prompt, k=3)
        hit = next(hit for hit in recalled.results if hit.path == entry)  # recall finds the entry ...
        assert hit.match >= memory.config.recall.keyword_floor, prompt
        assert about_info(memory, entry, query_terms(prompt)) is not None, prompt  # ... with two of its subject words
        assert prompt_context(memory, prompt) is None, prompt
    # A subject word beside the trade's words, or trade words that are together rare (`session
    # tokens stored`), or the entry's name said in full, still inject.
    for prompt, entry in {
        "naive datetime warnings in the test output": "gotchas/time/naive-datetimes",
        "how are session tokens stored?": "architecture/auth/session-tokens",
        "write a commit message for this change": "conventions/git/commit-messages",
        "the migration locked the orders table for ten minutes": "conventions/migrations/zero-downtime",
    }.items():
        block = prompt_context(memory, prompt)
        assert block is not None and entry in block.included, prompt


def test_a_prompts_short_forms_name_an_entrys_subject_as_recall_reads_them(project: Path) -> None:
    """`db` in a prompt is the "database" of a title, `k8s` the "kubernetes" of a path, as
    recall matches them (core/lexicon.py, short forms); two long words with one numeronym
    (`changes` and `commits`, both c5s) are not one word."""
    from contextree.core.hooks import about_info

    memory = Memory(project / ".memory")
    memory.recall("warm up")  # the index is built
    assert about_info(memory, "conventions/migrations/zero-downtime", ["db", "migrations"]) is not None
    assert about_info(memory, "gotchas/kubernetes/liveness-readiness-probes", ["k8s", "probes"]) is not None
    assert about_info(memory, "conventions/git/commit-messages", ["changes"]) is None
    assert about_info(memory, "conventions/git/commit-messages", ["commits"]) is not None


def test_the_trade_table_weighs_the_words_of_the_trade_down_and_a_subject_not() -> None:
    from contextree.core.lexicon import distinctive_idf, trade_zipf

    for word in ("fix", "failing", "test", "timeout", "request", "error"):  # everyday in commit messages
        assert distinctive_idf(word) < background_idf(word) - 1, word
    for word in ("pgbouncer", "liveness", "invoice", "celery"):  # one field's words, not the trade's
        assert distinctive_idf(word) == background_idf(word), word
    assert trade_zipf("failing") == trade_zipf("fails") == trade_zipf("failed") > 5  # one word, its forms


def test_prompt_hook_injects_from_the_personal_memory_too(project: Path) -> None:
    """The hook recalls across every memory the project reads, as `mem recall` does: an entry
    only the person's own memory holds is injected, read from that memory."""
    import os

    from contextree import Memory

    personal = Path(os.environ["MEM_PERSONAL_ROOT"])
    personal.mkdir(parents=True, exist_ok=True)
    Memory(personal).add(
        "preferences/editor/vim-keybindings",
        "I review diffs in vim with the fugitive plugin; open merge conflicts there, never in an IDE.",
        title="Review diffs in vim with fugitive",
    )
    prompt = "open this merge conflict so I can review the diff in vim with fugitive"
    result = hook("claude", "prompt", payload("claude", "prompt", project, prompt=prompt), project)
    text = injected("claude", check_accepted("claude", "prompt", result.stdout))
    assert '<memory path="preferences/editor/vim-keybindings"' in text and "fugitive plugin" in text


def test_cursor_prompt_hook_lets_every_prompt_through(project: Path) -> None:
    # Cursor's beforeSubmitPrompt cannot add context (docs): it must only answer continue.
    result = hook("cursor", "prompt", payload("cursor", "prompt", project, prompt=IN_DOMAIN), project)
    assert json.loads(result.stdout) == {"continue": True}


def test_no_memory_and_bad_payloads_print_the_neutral_answer(tmp_path: Path, project: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"MEM_ROOT": ""}
    for agent in ("claude", "cursor"):
        result = hook(agent, "prompt", payload(agent, "prompt", elsewhere, prompt=IN_DOMAIN), elsewhere, **env)
        assert result.returncode == 0 and result.stderr == ""
        check_accepted(agent, "prompt", result.stdout)
        assert injected(agent, json.loads(result.stdout) if result.stdout else None) == ""
    for garbage in ("not json", "[1, 2]", '{"prompt": 5}', "\xff\xfe"):
        result = hook("claude", "prompt", garbage, project)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    broken = project / ".memory" / "config.yaml"
    broken.write_text("hooks: [this is not a mapping\n")
    result = hook("claude", "session-start", payload("claude", "session-start", project), project)
    assert (result.returncode, result.stdout) == (0, "")
    assert "config.yaml" in (project / ".memory" / ".mem" / "hooks.log").read_text()


def test_a_wrong_command_line_is_the_one_error(project: Path) -> None:
    result = run_mem("hook", "precompact", "--agent", "claude", input="{}", cwd=project)
    assert result.returncode == 2 and "unknown hook event" in result.stderr and result.stdout == ""
    assert run_mem("hook", "prompt", "--agent", "copilot", input="{}", cwd=project).returncode == 2
    assert "session-start" in run_mem("hook", "--help", cwd=project).stdout


# --- the deadline --------------------------------------------------------------------------------


def test_prompt_hook_returns_within_its_deadline_when_the_index_is_locked(project: Path) -> None:
    state = project / ".memory" / ".mem"
    assert run_mem("reindex", cwd=project).returncode == 0
    assert hook("claude", "prompt", payload("claude", "prompt", project, prompt=IN_DOMAIN), project).stdout
    write_config(project, "hooks:\n  deadline_ms: 400\n")
    # An entry changed since the index was built (recall must write), and another process
    # holds the index in a write transaction for far longer than the deadline.
    entry = project / ".memory" / (PGBOUNCER + ".md")
    entry.write_text(entry.read_text() + "\nOne more line.\n")
    holder = sqlite3.connect(state / INDEX_FILE, isolation_level=None, timeout=1)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        result = hook("claude", "prompt", payload("claude", "prompt", project, prompt=IN_DOMAIN), project)
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert elapsed < 20  # the lock waits 30 s (sqlite busy timeout); the hook gave up long before
    assert "deadline" in (state / "hooks.log").read_text()


def test_prompt_hook_returns_within_its_deadline_when_the_model_hangs(project: Path, fake: FakeLLM) -> None:
    # The model tier is allowed, and the model never answers in time (it would after 10 min).
    # The deadline leaves room to import litellm on a loaded machine (10+ s seen), so that
    # the request really reaches the hanging model. recall's own escalation deadline is set
    # past the hook's, so that it is the hook's deadline this test sees at work.
    assert run_mem("reindex", cwd=project).returncode == 0
    llm = "llm:\n  timeout_seconds: 600\n  recall_deadline_seconds: 600\n"
    write_config(project, "hooks:\n  deadline_ms: 30000\n  prompt_max_tier: llm\n" + llm)
    fake.default = lambda request: Reply({"paths": []}, delay=600)
    started = time.monotonic()
    # An in-domain prompt the cheap tiers do not resolve: recall asks the model.
    result = hook("claude", "prompt", payload("claude", "prompt", project, prompt="celery queue"), project)
    elapsed = time.monotonic() - started
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert elapsed < 120  # the model would have answered after 600 s
    assert fake.requests, "the model was asked (the test exercises the hanging model)"
    assert "deadline" in (project / ".memory" / ".mem" / "hooks.log").read_text()


# --- capture ----------------------------------------------------------------------------------------


def transcript_part(name: str) -> str:
    # The token is assembled here, so the repository holds no secret-looking string.
    return (FIXTURES / "claude" / name).read_text().replace("{GITHUB_TOKEN}", "ghp_" + SECRET)


def transcript_in(project: Path, *parts: str) -> Path:
    file = project / "session.jsonl"
    file.write_text("".join(transcript_part(part) for part in parts))
    return file


def extraction_texts(fake: FakeLLM) -> list[str]:
    return [r.messages[-1]["content"] for r in fake.requests if "<source-text" in r.messages[-1]["content"]]


TURN_TEXTS = [
    "Why did the integration tests fail on staging this morning?",
    "The staging database is reset every Sunday at 03:00 UTC",
    "OK. Who owns that CronJob?",
    "Tomás Echeverría owns reset-staging",
    "Understood: the staging deploy token lives only in the CI secret store",
]
NEVER_CAPTURED = ["TOOL_OUTPUT_MARKER", "THINKING_MARKER", "INJECTED_MARKER", "/cost", "Caveat:"]
SECRET = "".join(["R8mX2qLw7N", "vT4kPz9HcY", "3bJf6DsA1e", "Uo5GiK"])


def add_decision(path: str, title: str, fact: str) -> dict[str, Any]:
    return {"operation": "ADD", "path": path, "title": title, "body": f"## Facts\n\n- {fact}\n", "reason": "new"}


def test_capture_twice_with_a_model_curates_each_turn_once(project: Path, fake: FakeLLM) -> None:
    write_config(project, "llm:\n  timeout_seconds: 5\n  max_retries: 0\n")
    transcript = transcript_in(project, "transcript-1.jsonl")
    fake.reply(
        {"items": [{"title": "Staging database reset", "content": "Reset every Sunday 03:00 UTC.", "kind": "fact"}]},
        add_decision("runbooks/staging/database-reset", "Staging database resets on Sundays", "Sunday 03:00 UTC"),
    )
    first = hook("claude", "pre-compact", payload("claude", "pre-compact", project, transcript), project)
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")

    # The session goes on; it ends later. Only the new turns may reach the model.
    with transcript.open("a") as handle:
        handle.write(transcript_part("transcript-2.jsonl"))
    fake.reply(
        {"items": [{"title": "reset-staging owner", "content": "Tomás owns reset-staging.", "kind": "person"}]},
        add_decision("people/ownership/reset-staging", "reset-staging is owned by Tomás", "Tomás owns it"),
    )
    second = hook("claude", "session-end", payload("claude", "session-end", project, transcript), project)
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    # A third capture finds nothing new and calls no model.
    third = hook("claude", "stop", payload("claude", "stop", project, transcript), project)
    assert third.returncode == 0

    sent = extraction_texts(fake)
    assert len(sent) == 2 and len(fake.requests) == 4
    everything = "\n".join(sent)
    for text in TURN_TEXTS:
        assert everything.count(text) == 1, text
    assert "Who owns that CronJob" in sent[0] and "Tomás" not in sent[0]
    for marker in [*NEVER_CAPTURED, SECRET]:
        assert marker not in everything, marker
    memory = Memory(project / ".memory")
    assert memory.get("runbooks/staging/database-reset").source == "curate:session:abc123"
    assert memory.exists("people/ownership/reset-staging")
    plans = sorted((project / ".memory" / ".mem" / "hooks" / "plans").glob("*.json"))
    assert len(plans) == 2 and json.loads(plans[0].read_text())["operations"][0]["op"] == "ADD"
    assert not list((project / ".memory" / ".mem" / "inbox").glob("*.jsonl"))


def test_a_capture_applies_no_change_to_existing_entries(project: Path, fake: FakeLLM) -> None:
    write_config(project, "llm:\n  timeout_seconds: 5\n  max_retries: 0\n")
    transcript = transcript_in(project, "transcript-1.jsonl")
    before = (project / ".memory" / (PGBOUNCER + ".md")).read_bytes()
    fake.reply(
        {"items": [{"title": "PgBouncer", "content": "Use session pooling.", "kind": "fact"}]},
        {"operation": "UPDATE", "target": PGBOUNCER, "body": "rewritten", "reason": "newer"},
    )
    fake.default = lambda request: Reply(
        {"operation": "UPDATE", "target": PGBOUNCER, "body": "rewritten", "reason": "newer"}
    )
    hook("claude", "pre-compact", payload("claude", "pre-compact", project, transcript), project)
    assert (project / ".memory" / (PGBOUNCER + ".md")).read_bytes() == before
    plan = json.loads(next((project / ".memory" / ".mem" / "hooks" / "plans").glob("*.json")).read_text())
    skipped = [op for op in plan["operations"] if op["op"] == "UPDATE"]
    assert skipped and all(op["skipped"] and not op["applied"] for op in skipped)


def test_capture_without_a_model_fills_the_inbox_that_recall_never_returns(
    project: Path, mem: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    transcript = transcript_in(project, "transcript-1.jsonl")
    hook("claude", "pre-compact", payload("claude", "pre-compact", project, transcript), project)
    with transcript.open("a") as handle:
        handle.write(transcript_part("transcript-2.jsonl"))
    hook("claude", "session-end", payload("claude", "session-end", project, transcript), project)
    hook("claude", "session-end", payload("claude", "session-end", project, transcript), project)

    inbox = project / ".memory" / ".mem" / "inbox" / "abc123.jsonl"
    turns = [json.loads(line) for line in inbox.read_text().splitlines()]
    assert [turn["role"] for turn in turns] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    text = inbox.read_text()
    for expected in TURN_TEXTS:
        assert text.count(expected) == 1
    for marker in [*NEVER_CAPTURED, SECRET]:
        assert marker not in text
    assert "[redacted]" in text
    # Recall never answers from the inbox: "CronJob" is only there.
    monkeypatch.chdir(project)
    recalled = run_mem("recall", "CronJob", "--json", cwd=project).stdout
    assert json.loads(recalled)["data"]["results"] == []
    assert run_mem("list", "--json", cwd=project).stdout.count("inbox") == 0
    # The next session start says turns are waiting.
    start = hook("claude", "session-start", payload("claude", "session-start", project), project)
    assert "6 captured turn(s) wait in the inbox" in json.loads(start.stdout)["hookSpecificOutput"]["additionalContext"]


def test_mem_curate_inbox_curates_each_session_once(project: Path, fake: FakeLLM) -> None:
    transcript = transcript_in(project, "transcript-1.jsonl", "transcript-2.jsonl")
    env = {name: "" for name in fake.env}  # capture without a model ...
    hook("claude", "session-end", payload("claude", "session-end", project, transcript), project, **env)
    assert not fake.requests
    write_config(project, "llm:\n  timeout_seconds: 5\n  max_retries: 0\n")
    fake.reply(  # ... and curate later
        {"items": [{"title": "Staging database reset", "content": "Sundays 03:00 UTC.", "kind": "fact"}]},
        add_decision("runbooks/staging/database-reset", "Staging database resets on Sundays", "Sunday 03:00 UTC"),
    )
    result = run_mem("curate", "--inbox", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    sessions = json.loads(result.stdout)["data"]["sessions"]
    assert [(s["session"], s["turns"], s["plan"]["applied"]) for s in sessions] == [("abc123", 6, 1)]
    assert Memory(project / ".memory").get("runbooks/staging/database-reset").source == "curate:inbox:abc123"
    again = run_mem("curate", "--inbox", "--json", cwd=project)
    assert json.loads(again.stdout)["data"]["sessions"] == [] and len(fake.requests) == 2


def test_codex_and_cursor_transcripts_give_their_turns() -> None:
    codex, _ = read_turns(FIXTURES / "codex" / "rollout.jsonl", 0, 6000)
    assert [(t.role, t.text) for t in codex] == [
        ("user", "How do we run the migrations locally?"),
        ("assistant", "Run `make migrate`: it starts Postgres in Docker first."),
    ]
    cursor, _ = read_turns(FIXTURES / "cursor" / "transcript.jsonl", 0, 6000)
    assert [t.role for t in cursor] == ["user", "assistant"]
    assert cursor[0].text == "Why is the Safari date picker off by a day?"


def test_an_unfinished_last_line_waits_for_the_next_capture(tmp_path: Path) -> None:
    file = tmp_path / "t.jsonl"
    whole = transcript_part("transcript-1.jsonl")
    file.write_text(whole[:-20])  # the agent is still writing the last line
    turns, resume = read_turns(file, 0, 6000)
    assert resume == len(whole.splitlines()) - 1 and "Who owns" not in " ".join(t.text for t in turns)
    file.write_text(whole)
    later, _ = read_turns(file, resume, 6000)
    assert [t.text for t in later] == ["OK. Who owns that CronJob?"]


@pytest.mark.parametrize("agent", ["codex", "cursor"])
def test_other_agents_captures_reach_the_inbox(agent: str, project: Path) -> None:
    source = FIXTURES / agent / ("rollout.jsonl" if agent == "codex" else "transcript.jsonl")
    transcript = project / "t.jsonl"
    shutil.copy(source, transcript)
    event = "stop"
    result = hook(agent, event, payload(agent, event, project, transcript), project)
    check_accepted(agent, event, result.stdout)
    inbox = list((project / ".memory" / ".mem" / "inbox").glob("*.jsonl"))
    assert len(inbox) == 1 and len(inbox[0].read_text().splitlines()) == 2


def test_hooks_config_turns_capture_off(project: Path) -> None:
    write_config(project, "hooks:\n  capture: false\n")
    transcript = transcript_in(project, "transcript-1.jsonl")
    hook("claude", "session-end", payload("claude", "session-end", project, transcript), project)
    assert not (project / ".memory" / ".mem" / "inbox").exists()


def test_the_hook_does_not_load_typer_or_the_heavy_libraries(project: Path) -> None:
    stdin = payload("claude", "prompt", project, prompt=IN_DOMAIN)
    probe = run_mem(
        "hook", "prompt", "--agent", "claude", input=stdin, cwd=project, env={"PYTHONPROFILEIMPORTTIME": "1"}
    )
    loaded = {
        line.rsplit("|", 1)[1].strip().split(".")[0] for line in probe.stderr.splitlines() if line.startswith("import")
    }
    assert "contextree" in loaded and "sqlite3" in loaded  # the probe works
    assert not loaded & {"typer", "click", "rich", "litellm", "mcp", "watchdog", "httpx", "openai"}
    assert os.environ.get("PYTHONPROFILEIMPORTTIME") is None


def test_the_briefing_is_deterministic_and_within_its_budget(project: Path) -> None:
    from contextree.core.hooks import session_briefing
    from contextree.core.text import estimate_tokens

    memory = Memory(project / ".memory")
    first, second = session_briefing(memory), session_briefing(memory)
    assert first == second and first is not None
    assert estimate_tokens(first) <= memory.config.hooks.session_budget_tokens
    assert "Core entries:" in first and "Recently changed:" in first and "mem recall" in first
    write_config(project, "hooks:\n  session_budget_tokens: 200\n")
    small = session_briefing(Memory(project / ".memory"))
    assert small is not None and estimate_tokens(small) <= 200 and "mem recall" in small
