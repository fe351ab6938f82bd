"""Daily use: derived titles, warnings when adding near-duplicates or look-alike folders, a
proposed path for text without one, set-up traps (nested init, MEM_ROOT), empty input,
markdown bullets as text, `forget --restore _archive/...`, and shell completion."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from contextree import Memory
from contextree.core.entry import derive_title, is_derived
from contextree.core.errors import ExitCode

from .conftest import MEM_BIN, run_mem


@pytest.mark.parametrize(
    ("body", "title"),
    [
        (
            "We picked PostgreSQL over MongoDB in March 2024 because orders and payments need "
            "transactions. The few schemaless bits use JSONB.",
            "We picked PostgreSQL over MongoDB in March 2024 because orders and payments need transactions",
        ),
        ("Session tokens are opaque. We do not use JWTs.", "Session tokens are opaque"),
        ("Use e.g. asyncpg with statement_cache_size=0. Then more.", "Use e.g. asyncpg with statement_cache_size=0"),
        ("Version 1.2 is out. Yes.", "Version 1.2 is out"),
        ("Why not Mongo? Because.", "Why not Mongo?"),
        ("- first bullet\n- second", "first bullet"),
        ("**Never** roll back a migration\nthat dropped a column.", "Never roll back a migration"),
        ("数据库迁移检查清单。每次发布前检查。", "数据库迁移检查清单"),
        ("\n\n## Rolling back\n\nRun helm.", "Rolling back"),
        ("```\ncode first\n```\nThen prose.", "Then prose"),
        ("```\nonly code\n```", "only code"),
    ],
)
def test_derived_title_is_the_first_sentence_or_line(body: str, title: str) -> None:
    assert derive_title(body, "a/b/c") == title


def test_a_long_first_sentence_is_cut_at_a_boundary_never_mid_word() -> None:
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau"
    title = derive_title(words + " " + words + ".", "a/b/c")
    assert title.endswith("…") and len(title) <= 101
    assert title[:-1].split()[-1] in words.split()  # a whole word before the cut


def test_a_derived_title_follows_the_body_until_one_is_set(memory: Memory) -> None:
    memory.add("people/owners/billing", "Ravi owns billing.")
    assert memory.get("people/owners/billing").title == "Ravi owns billing"
    memory.update("people/owners/billing", body="Ravi Patel owns billing and Stripe; backup is Ana.")
    assert memory.get("people/owners/billing").title == "Ravi Patel owns billing and Stripe; backup is Ana"
    memory.update("people/owners/billing", append="Ana covers on Fridays.")  # first sentence unchanged
    assert memory.get("people/owners/billing").title == "Ravi Patel owns billing and Stripe; backup is Ana"
    memory.update("people/owners/billing", title="Billing owners")
    memory.update("people/owners/billing", body="Ana owns billing now.")
    assert memory.get("people/owners/billing").title == "Billing owners"  # set by a person: it stays


def test_titles_derived_by_the_old_rule_follow_the_body_too(memory: Memory, root: Path) -> None:
    old = "We picked PostgreSQL over MongoDB in March 2024 because orders and payments…"
    body = "We picked PostgreSQL over MongoDB in March 2024 because orders and payments need transactions.\n"
    (root / "decisions" / "database").mkdir(parents=True)
    (root / "decisions/database/why-postgres.md").write_text(f"---\ntitle: {old}\n---\n{body}")
    assert is_derived(old, body, "decisions/database/why-postgres")
    memory.update("decisions/database/why-postgres", body="We use PostgreSQL 16. It replaced MongoDB.")
    assert memory.get("decisions/database/why-postgres").title == "We use PostgreSQL 16"


def test_add_warns_about_a_near_duplicate_naming_it(memory: Memory, mem) -> None:  # type: ignore[no-untyped-def]
    text = (
        "Stripe sends the same webhook event more than once and out of order. Deduplicate on the "
        "event id in a processed_events table before acting, and never assume ordering between "
        "invoice.paid and customer.subscription.updated."
    )
    memory.add("gotchas/billing/stripe-webhook-idempotency", text)
    memory.recall("stripe")  # the index exists once something was recalled
    copy = text.replace("more than once", "twice").replace("Deduplicate", "Dedupe")
    added = mem("add", "gotchas/stripe/webhooks-duplicate", copy)
    assert added.code == 0
    assert "nearly repeats gotchas/billing/stripe-webhook-idempotency" in added.stderr
    unrelated = mem("add", "conventions/code/style", "We format Python with ruff and a line length of 110.")
    assert "nearly repeats" not in unrelated.stderr


def test_add_warns_about_a_look_alike_folder(memory: Memory, mem) -> None:  # type: ignore[no-untyped-def]
    memory.add("runbooks/deploy/rollback", "Run helm rollback.")
    added = mem("add", "runbook/deploy/canary", "Route 5% of traffic first.")
    assert added.code == 0 and "created runbook/ next to runbooks/" in added.stderr
    same = mem("add", "runbooks/deploy/canary-2", "Route 5% of traffic first, then 50%.")
    assert "next to" not in same.stderr
    other = mem("add", "gotchas/redis/ttl", "Sessions expire after a week.")
    assert "next to" not in other.stderr


def test_add_without_a_path_proposes_one_from_the_most_similar_topic(memory: Memory, mem) -> None:  # type: ignore[no-untyped-def]
    memory.add("gotchas/billing/stripe-webhooks", "Stripe webhooks arrive twice; dedupe on the event id.")
    memory.add("runbooks/deploy/rollback", "Run helm rollback, then check Sentry.")
    text = "Stripe retries failed webhooks for three days."
    refused = mem("add", text, input="")  # stdin is not a terminal: it cannot ask
    assert refused.code == ExitCode.INVALID
    assert "gotchas/billing/stripe-retries-failed-webhooks-for-three" in refused.stderr
    added = mem("--json", "add", text, "--auto").data
    assert added["entry"]["path"] == "gotchas/billing/stripe-retries-failed-webhooks-for-three"
    again = mem("--json", "add", "--auto", input=text).data  # stdin, proposed path taken again: made unique
    assert again["entry"]["path"] == "gotchas/billing/stripe-retries-failed-webhooks-for-three-2"


def test_add_without_a_path_and_nothing_similar_asks_for_one(root: Path, mem) -> None:  # type: ignore[no-untyped-def]
    result = mem("add", "A first note about nothing in particular.", "--auto")
    assert result.code == ExitCode.INVALID and "give one" in result.stderr


def test_empty_text_is_refused_and_bullets_are_text(root: Path, mem) -> None:  # type: ignore[no-untyped-def]
    assert mem("add", "a/b/empty", input="").code == ExitCode.INVALID
    assert mem("add", "a/b/empty", input="  \n\n").code == ExitCode.INVALID
    assert mem("add", "a/b/empty", "").code == ExitCode.INVALID
    bullets = mem("--json", "add", "notes/misc/bullets", "- first bullet\n- second", "--tags", "x")
    assert bullets.code == 0
    assert bullets.data["entry"]["body"] == "- first bullet\n- second\n"
    assert bullets.data["entry"]["tags"] == ["x"] and bullets.data["entry"]["title"] == "first bullet"
    assert mem("update", "notes/misc/bullets", "--append", "- third").code == 0  # an option's value stays one


def test_forget_restore_takes_the_archive_form_it_prints(memory: Memory, mem) -> None:  # type: ignore[no-untyped-def]
    memory.add("decisions/db/why-postgres", "Transactions.")
    archived = mem("forget", "decisions/db/why-postgres")
    assert "_archive/decisions/db/why-postgres" in archived.stdout
    restored = mem("forget", "--restore", "_archive/decisions/db/why-postgres")
    assert restored.code == 0 and memory.exists("decisions/db/why-postgres")


def test_init_below_an_existing_memory_asks_for_nested(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "app" / "api").mkdir(parents=True)
    env = {"MEM_ROOT": ""}  # unset: the memory is found from the working directory
    assert run_mem("init", cwd=project, env=env).returncode == 0
    assert (project / ".memory").is_dir()
    nested = run_mem("init", cwd=project / "app" / "api", env=env)
    assert nested.returncode == ExitCode.EXISTS
    assert "../../.memory" in nested.stderr and "--nested" in nested.stderr
    assert not (project / "app" / "api" / ".memory").exists()
    allowed = run_mem("init", "--nested", cwd=project / "app" / "api", env=env)
    assert allowed.returncode == 0 and (project / "app" / "api" / ".memory").is_dir()


def test_init_says_when_mem_root_is_set(root: Path, mem) -> None:  # type: ignore[no-untyped-def]
    again = mem("init")
    assert again.code == 0 and "MEM_ROOT is set" in again.stdout and "unset MEM_ROOT" in again.stdout
    assert "MEM_ROOT" not in mem("init", str(root)).stdout  # a path given: nothing to explain


def test_shell_completion_completes_entry_paths_and_folders(memory: Memory) -> None:
    memory.add("decisions/api/versioning", "URL path.")
    memory.add("decisions/db/why-postgres", "Transactions.")
    env = {"_MEM_COMPLETE": "complete_bash", "COMP_WORDS": "mem show decisions/a", "COMP_CWORD": "2"}
    assert run_mem(env=env).stdout.split() == ["decisions/api/versioning"]
    folders = run_mem(env={**env, "COMP_WORDS": "mem list dec"}).stdout.split()
    assert folders == ["decisions", "decisions/api", "decisions/db"]
    commands = run_mem(env={**env, "COMP_WORDS": "mem rec", "COMP_CWORD": "1"}).stdout.split()
    assert {"recall", "recent"} <= set(commands)
    # The script is for the shell `mem` is run from (typer detects it from the process tree):
    # run from bash, as a user types it, not from whatever runs the tests. A second command
    # keeps bash from exec'ing `mem` in its place (then the parent is the test runner, and
    # no shell at all when the runner was started in the background and its shell is gone).
    script = subprocess.run(
        ["bash", "-c", f"'{MEM_BIN}' --show-completion; exit $?"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert script.returncode == 0 and "_MEM_COMPLETE" in script.stdout and "complete " in script.stdout


def test_doctor_does_not_warn_after_an_add(root: Path, mem) -> None:  # type: ignore[no-untyped-def]
    mem("add", "a/b/c", "One.")
    mem("recall", "one")
    mem("add", "a/b/d", "Two.")  # the index is now behind, as after every add
    report = mem("doctor", "--strict")
    assert report.code == 0 and not [line for line in report.stdout.splitlines() if line.startswith("warning")]
    assert "index-drift" in report.stdout  # still said, as info


def test_config_values_print_as_yaml(root: Path, mem) -> None:  # type: ignore[no-untyped-def]
    assert mem("config", "get", "llm.model").stdout.strip() == "null"
    shown = mem("config", "set", "llm.model", "openai/gpt-4o-mini").stdout
    assert "= openai/gpt-4o-mini" in shown and "'" not in shown
    assert mem("config", "get", "llm.model").stdout.strip() == "openai/gpt-4o-mini"


def test_a_secret_in_a_derived_title_is_reported_at_its_body_line(root: Path, mem) -> None:  # type: ignore[no-untyped-def]
    key = "sk_live_" + "51HxAbCdEfGhIjKlMnOpQrStUv"
    refused = mem("add", "runbooks/secrets/staging-key", f"The staging Stripe key is {key}.")
    assert refused.code == ExitCode.REFUSED
    assert "body line 1" in refused.stderr and "frontmatter" not in refused.stderr
    assert "allow_secrets=True" not in refused.stderr and "--allow-secrets" in refused.stderr
    heading = mem("add", "runbooks/secrets/other-key", f"# Key {key}\n\nSome text.")
    assert heading.code == ExitCode.REFUSED  # a heading leaves the body for the title: still checked


def test_mcp_tool_descriptions_are_dedented() -> None:
    import asyncio

    from contextree.cli.mcp_server import build_server

    tools = asyncio.run(build_server().list_tools())
    assert tools
    for tool in tools:
        assert tool.description and not any(line.startswith(" ") for line in tool.description.splitlines())


def test_init_agent_remove_says_updated_and_keeps_a_one_line_file(tmp_path: Path) -> None:
    project = tmp_path / "agp"
    project.mkdir()
    original = '{"mcpServers": {"other": {"command": "x"}}}\n'
    (project / ".mcp.json").write_text(original)
    env = {"MEM_ROOT": ""}
    assert run_mem("init", "--agent", "claude", cwd=project, env=env).returncode == 0
    assert "\n" not in (project / ".mcp.json").read_text().strip()  # still one line, ours added
    removed = run_mem("init", "--agent", "claude", "--remove", cwd=project, env=env)
    assert removed.returncode == 0 and "updated   .mcp.json" in removed.stdout
    assert (project / ".mcp.json").read_text() == original  # byte for byte


def test_a_derived_title_follows_a_body_changed_in_the_editor(memory: Memory, tmp_path: Path) -> None:
    memory.add("people/owners/billing", "Ravi owns billing.")
    script = tmp_path / "edit.sh"
    script.write_text('#!/bin/sh\nsed -i "s/Ravi owns billing./Ana owns billing now./" "$1"\n')
    script.chmod(0o755)
    assert run_mem("edit", "people/owners/billing", env={"EDITOR": str(script), "VISUAL": ""}).returncode == 0
    assert memory.get("people/owners/billing").title == "Ana owns billing now"
