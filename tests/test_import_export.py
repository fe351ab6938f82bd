"""`mem import` of every kind of source and `mem export` back, through the CLI's --json output
and the files it leaves on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from contextree import Memory
from contextree.core.entry import parse_entry, split_frontmatter

from . import importfixtures as fx
from .gitutil import files_of, git, isolate_git, subjects


def frontmatter(file: Path) -> dict:
    head, _ = split_frontmatter(file.read_text(encoding="utf-8"))
    assert head is not None
    return yaml.safe_load(head)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every entry file of a tree (hidden state left out), by path."""
    return {
        file.relative_to(root).as_posix(): file.read_bytes()
        for file in sorted(root.rglob("*.md"))
        if not any(part.startswith(".") for part in file.relative_to(root).parts)
    }


def imported(mem, source: Path, *args: str) -> dict:
    return mem("--json", "import", str(source), *args).data


def by_action(data: dict, action: str) -> dict[str, dict]:
    return {item["origin"]: item for item in data["items"] if item["action"] == action}


def assert_reimport_changes_nothing(mem, root: Path, source: Path, *args: str) -> None:
    before = snapshot(root)
    again = imported(mem, source, *args)
    assert again["counts"]["create"] == 0 and again["counts"]["update"] == 0, again["counts"]
    assert snapshot(root) == before


def test_obsidian_vault(mem, root: Path, tmp_path: Path) -> None:
    vault = fx.obsidian_vault(tmp_path / "src")
    (vault / "Payments/Linked.md").symlink_to(vault / "Payments/Retry Policy.md")
    (vault / "Outside").symlink_to(tmp_path, target_is_directory=True)
    fx.write(vault, "Huge.md", "x" * (Memory(root).config.limits.max_body_bytes + 70_000))
    data = imported(mem, vault)
    assert data["kind"] == "folder"
    created = by_action(data, "create")
    assert created["Team Vault/Payments/Stripe Webhooks.md"]["path"] == "team-vault/payments/stripe-webhooks"
    # Folders deeper than domain/topic/subtopic fold into the entry's name.
    deep = created["Team Vault/Areas/Infra/Kubernetes/Probes/Liveness Probes.md"]["path"]
    assert deep == "team-vault/areas/infra/kubernetes-probes-liveness-probes"
    skipped = by_action(data, "skip")
    assert "binary" in skipped["Team Vault/Broken.md"]["reason"]
    assert "not markdown" in skipped["Team Vault/attachments/webhook-flow.png"]["reason"]
    assert "not markdown" in skipped["Team Vault/Payments/Board.canvas"]["reason"]
    assert "symlink" in skipped["Team Vault/Payments/Linked.md"]["reason"]
    assert "symlink" in skipped["Team Vault/Outside/"]["reason"]
    assert "too large" in skipped["Team Vault/Huge.md"]["reason"]
    assert not any(".obsidian" in origin for origin in [item["origin"] for item in data["items"]])

    webhooks = frontmatter(root / "team-vault/payments/stripe-webhooks.md")
    assert webhooks["title"] == "Stripe webhooks"  # from the first heading
    assert webhooks["tags"] == ["payments", "stripe"]
    assert webhooks["keywords"] == ["webhooks", "Stripe events"]  # aliases
    assert webhooks["source"] == "import:Team Vault/Payments/Stripe Webhooks.md"
    assert webhooks["cssclass"] == "wide"  # unknown keys kept
    # Wikilinks (also through an alias and a label) become related links; embeds and code do not.
    assert webhooks["related"] == ["team-vault/payments/idempotency-keys", "team-vault/payments/retry-policy"]
    retry = frontmatter(root / "team-vault/payments/retry-policy.md")
    assert retry["related"] == ["team-vault/payments/idempotency-keys"]  # [[IK]] is an alias
    liveness = frontmatter(root / f"{deep}.md")
    assert liveness["title"] == "Liveness probes restart pods"
    assert liveness["related"] == ["team-vault/payments/stripe-webhooks"]  # a relative markdown link
    # The body is the note's text, wikilinks and all.
    body = parse_entry("a/b/c", (root / "team-vault/payments/stripe-webhooks.md").read_text()).body
    assert "[[Retry Policy|how we retry]]" in body and body.endswith("```\n")

    assert_reimport_changes_nothing(mem, root, vault)


def test_adr_folder_refuses_a_secret_and_imports_the_rest(mem, root: Path, tmp_path: Path) -> None:
    adr = fx.adr_folder(tmp_path / "src")
    data = imported(mem, adr, "--into", "decisions/adr")
    created = by_action(data, "create")
    assert set(created) == {
        "adr/0001-record-architecture-decisions.md",
        "adr/0002-use-postgres.md",
        "adr/0004-hugo-docs-site.md",
    }
    refused = by_action(data, "refused")["adr/0003-deploy-credentials.md"]
    assert "secret" in refused["reason"] and fx.FAKE_TOKEN not in refused["reason"]
    assert not (root / "decisions/adr/0003-deploy-credentials.md").exists()
    assert "not markdown" in by_action(data, "skip")["adr/template.txt"]["reason"]

    first = frontmatter(root / "decisions/adr/0001-record-architecture-decisions.md")
    assert first["title"] == "1. Record architecture decisions"
    second = frontmatter(root / "decisions/adr/0002-use-postgres.md")
    assert second["status"] == "accepted" and second["deciders"] == ["mei", "jonas"]
    assert str(second["created"]).startswith("2024-02-01")  # Jekyll/MADR `date`
    assert second["related"] == ["decisions/adr/0001-record-architecture-decisions"]
    hugo = frontmatter(root / "decisions/adr/0004-hugo-docs-site.md")  # TOML frontmatter
    assert hugo["title"] == "Publish the docs with Hugo" and hugo["tags"] == ["docs", "hugo"] and hugo["weight"] == 4

    before = snapshot(root)
    again = imported(mem, adr, "--into", "decisions/adr")
    assert again["counts"]["unchanged"] == 3 and again["counts"]["refused"] == 1
    assert snapshot(root) == before


def test_claude_md_is_split_by_headings(mem, root: Path, tmp_path: Path) -> None:
    source = fx.claude_md(tmp_path / "src")
    assert len(source.read_text().splitlines()) == 600
    data = imported(mem, source)
    assert data["kind"] == "file"
    paths = {item["path"] for item in data["items"] if item["action"] == "create"}
    assert "claude/general/overview" in paths  # the preamble under the document's title
    assert {"claude/build-and-test/overview", "claude/build-and-test/build-and-test-rule-1"} <= paths
    assert "claude/general/lone-section" in paths  # a topic without entries
    assert data["counts"]["create"] == len(paths) > 40
    rule = Memory(root).get("claude/database/database-rule-2")
    assert rule.title == "Database rule 2"
    assert rule.source == "import:CLAUDE.md#database/database-rule-2"
    assert "# a comment, not a heading" in rule.body  # headings inside code fences are code
    # Every line of the file's sections is somewhere in the tree.
    bodies = "".join(Memory(root).get(path).body for path in paths)
    assert bodies.count("keep it simple and tested") == source.read_text().count("keep it simple and tested")

    assert_reimport_changes_nothing(mem, root, source)
    # One section changed at the source: only its entry is updated.
    text = source.read_text().replace("- Rule 2 about database", "- Rule 2 about DATABASE", 1)
    source.write_text(text)
    changed = imported(mem, source)
    assert changed["counts"]["update"] == 1 and changed["counts"]["create"] == 0
    assert by_action(changed, "update")["CLAUDE.md#database/database-rule-2"]


def test_byterover_tree_maps_lifecycle_fields(mem, root: Path, tmp_path: Path) -> None:
    project = fx.byterover_tree(tmp_path / "src")
    data = imported(mem, project)
    assert data["kind"] == "byterover"
    created = {item["path"] for item in by_action(data, "create").values()}
    assert created == {
        "authentication/jwt-implementation/jwt-token-generation",
        "authentication/jwt-implementation/refresh-tokens/refresh-token-rotation",
        "database/general/migration-strategy",
    }
    reasons = {item["origin"]: item["reason"] for item in by_action(data, "skip").values()}
    assert "generated by ByteRover" in reasons[".brv/context-tree/authentication/context.md"]
    assert "generated by ByteRover" in reasons[".brv/context-tree/authentication/_index.md"]
    assert "archived" in reasons[".brv/context-tree/_archived/"]
    jwt = frontmatter(root / "authentication/jwt-implementation/jwt-token-generation.md")
    assert jwt["importance"] == 72 and jwt["maturity"] == "validated"
    assert str(jwt["created"]).startswith("2026-02-01") and str(jwt["updated"]).startswith("2026-02-20")
    for volatile in ("recency", "accessCount", "updateCount"):
        assert volatile not in jwt  # usage counters live in .mem/state.db, never in files
    assert jwt["related"] == ["authentication/jwt-implementation/refresh-tokens/refresh-token-rotation"]
    assert jwt["source"] == "import:.brv/context-tree/authentication/jwt-implementation/jwt_token_generation.md"
    rotation = frontmatter(root / "authentication/jwt-implementation/refresh-tokens/refresh-token-rotation.md")
    assert rotation["maturity"] == "core" and rotation["importance"] == 90
    assert_reimport_changes_nothing(mem, root, project)


def test_basic_memory_project(mem, root: Path, tmp_path: Path) -> None:
    project = fx.basic_memory_project(tmp_path / "src")
    imported(mem, project, "--into", "knowledge")
    brewing = frontmatter(root / "knowledge/notes/coffee-brewing-methods.md")
    assert brewing["type"] == "note" and brewing["permalink"] == "coffee-brewing-methods"
    # `relates_to [[Coffee Bean Origins]]` resolves; the note that does not exist is no link.
    assert brewing["related"] == ["knowledge/notes/coffee-bean-origins"]
    origins = frontmatter(root / "knowledge/notes/coffee-bean-origins.md")
    assert origins["related"] == ["knowledge/notes/coffee-brewing-methods"]  # by permalink/file name
    person = frontmatter(root / "knowledge/people/paul-graham.md")
    assert person["type"] == "Person" and person["status"] == "active"
    assert str(person["updated"]).startswith("2024-01-15")
    assert_reimport_changes_nothing(mem, root, project, "--into", "knowledge")


def test_mcp_memory_json(mem, root: Path, tmp_path: Path) -> None:
    source = fx.mcp_memory_json(tmp_path / "src")
    data = imported(mem, source)
    assert data["kind"] == "mcp-memory"
    assert "not JSON" in by_action(data, "skip")["memory.json:6"]["reason"]
    john = Memory(root).get("memory/person/john-smith")
    assert john.title == "John_Smith" and john.tags == ("person",)
    assert "- Speaks fluent Spanish" in john.body and "- works_at: Anthropic" in john.body
    assert john.related == ("memory/organization/anthropic", "memory/service/payments-service")
    assert john.source == "import:memory.json#John_Smith"
    assert_reimport_changes_nothing(mem, root, source)


def test_dry_run_writes_nothing(mem, root: Path, tmp_path: Path) -> None:
    vault = fx.obsidian_vault(tmp_path / "src")
    before = snapshot(root)
    data = imported(mem, vault, "--dry-run")
    assert data["dry_run"] is True and data["counts"]["create"] == 5
    assert snapshot(root) == before
    text = mem("import", str(vault), "--dry-run")
    assert text.code == 0 and "Dry run" in text.stdout and "team-vault/payments/stripe-webhooks" in text.stdout
    assert "binary" in text.stdout  # what is skipped, and why


def test_reimport_follows_a_moved_entry_and_never_overwrites_others(mem, root: Path, tmp_path: Path) -> None:
    vault = fx.obsidian_vault(tmp_path / "src")
    imported(mem, vault)
    mem("mv", "team-vault/payments/retry-policy", "team-vault/payments/retries")
    # Someone's own entry sits where a new note would go.
    mem("add", "team-vault/payments/refunds", "Our refunds policy.", "--title", "Refunds")
    fx.write(vault, "Payments/Refunds.md", "Refunds from the vault.\n")
    (vault / "Payments/Retry Policy.md").write_text("Stripe retries for three days. Changed.\n")
    data = imported(mem, vault)
    assert by_action(data, "update")["Team Vault/Payments/Retry Policy.md"]["path"] == "team-vault/payments/retries"
    assert by_action(data, "create")["Team Vault/Payments/Refunds.md"]["path"] == "team-vault/payments/refunds-2"
    assert not (root / "team-vault/payments/retry-policy.md").exists()
    assert Memory(root).get("team-vault/payments/refunds").body == "Our refunds policy.\n"


def test_one_commit_for_a_whole_import(mem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch, tmp_path)
    root = tmp_path / "gitmem"
    assert mem("init", "--git", str(root)).code == 0
    claude = fx.claude_md(tmp_path / "src")
    assert mem("--root", str(root), "import", str(claude)).code == 0
    assert subjects(root)[0].startswith("mem import: ") and len(subjects(root)) == 2
    assert git(root, "status", "--porcelain") == ""  # every imported file is in that one commit
    assert len(files_of(root)) == len(snapshot(root))
    mem("--root", str(root), "import", str(claude))
    assert len(subjects(root)) == 2  # nothing changed: no commit


@pytest.mark.parametrize("fmt", ["jsonl", "markdown"])
def test_export_round_trip(mem, root: Path, tmp_path: Path, fmt: str) -> None:
    from .conftest import EXAMPLE

    memory = Memory(root)
    imported(mem, EXAMPLE, "--into", "example")
    # Bodies that would trip a naive format: no final newline, CRLF, a fake marker, unicode.
    tricky = {
        "edge/cases/no-newline": "last line without newline",
        "edge/cases/crlf": "windows\r\nline endings\r\n",
        "edge/cases/marker": "<!-- /mem:entry -->\n<!-- mem:entry path=a/b/c bytes=3 -->\nabc\n",
        "edge/cases/unicode": "会议记录 — naïve café ✓\n\n\n",
    }
    for path, body in tricky.items():
        memory.add(path, "placeholder", title=path.rsplit("/", 1)[1])
        file = root / f"{path}.md"
        head, _ = split_frontmatter(file.read_text())
        file.write_bytes(f"---\n{head}---\n{body}".encode())
    export = tmp_path / f"export.{fmt}"
    data = mem("--json", "export", "--format", fmt, "--output", str(export)).data
    assert data["entries"] == len(snapshot(root))
    if fmt == "jsonl":
        lines = export.read_text(encoding="utf-8").splitlines()
        assert len(lines) == data["entries"]
        first = json.loads(lines[0])
        assert set(first) == {"path", "meta", "body"} and "title" in first["meta"]

    fresh = tmp_path / "fresh"
    mem("init", str(fresh))
    back = mem("--json", "--root", str(fresh), "import", str(export)).data
    assert back["kind"] == "export" and back["counts"]["create"] == data["entries"]
    original, restored = Memory(root), Memory(fresh)
    for entry in original.list().entries:
        again = restored.get(entry.path)
        assert again.body.encode() == entry.body.encode()  # byte for byte
        assert again == entry
    assert snapshot(fresh) == snapshot(root)
    # Importing the same export again changes nothing.
    assert mem("--json", "--root", str(fresh), "import", str(export)).data["counts"]["unchanged"] == data["entries"]


def test_export_a_prefix_to_stdout(mem, root: Path) -> None:
    memory = Memory(root)
    memory.add("a/b/one", "One.")
    memory.add("x/y/two", "Two.")
    out = mem("export", "a")
    assert out.code == 0
    assert [json.loads(line)["path"] for line in out.stdout.splitlines()] == ["a/b/one"]


def test_bad_sources_fail_with_one_line(mem, root: Path, tmp_path: Path) -> None:
    missing = mem("import", str(tmp_path / "nope"))
    assert missing.code == 3 and missing.stderr.startswith("Error: ")
    inside = mem("import", str(root))
    assert inside.code == 5 and "inside the memory" in inside.stderr
    source = fx.claude_md(tmp_path / "src")
    wrong = mem("import", str(source), "--from", "folder")
    assert wrong.code == 5 and "not a folder" in wrong.stderr


def test_provenance_is_read_back_whatever_yaml_quotes(tmp_path: Path) -> None:
    """A digest of digits only is written quoted; a source with YAML-special characters too."""
    from contextree.core.importing import provenance_of

    file = tmp_path / "entry.md"
    file.write_text("---\ntitle: t\nsource: 'import:a: b #c.md'\nimport_digest: '0123456789012345'\n---\nbody\n")
    assert provenance_of(file) == ("import:a: b #c.md", "0123456789012345")


def test_a_large_import_on_a_terminal_shows_a_progress_bar(root: Path, tmp_path: Path) -> None:
    import os
    import pty
    import subprocess

    from .conftest import MEM_BIN

    folder = tmp_path / "notes"
    for number in range(600):
        fx.write(folder, f"topic-{number % 6}/note-{number}.md", f"# Note {number}\n\nText {number}.\n")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [MEM_BIN, "import", str(folder)], stdin=terminal, stdout=terminal, stderr=terminal, env=dict(os.environ)
    )
    os.close(terminal)
    screen = b""
    try:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        assert process.wait(timeout=120) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    shown = screen.decode(errors="replace")
    assert "importing" in shown and "/600" in shown  # the bar, with its count
    assert "600 create" in shown
