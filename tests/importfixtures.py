"""Realistic sources for `mem import`, built in a temporary folder by each test.

Each builder writes what the tool itself would leave on disk (formats cited in
docs/adopting.md): an Obsidian vault, an ADR folder, a 600-line CLAUDE.md, a ByteRover
context tree, a basic-memory project and the MCP memory server's memory.json.
"""

from __future__ import annotations

import json
from pathlib import Path

# A made-up GitHub token of the documented shape: enough for the secret scanner to refuse the
# entry holding it (split so that scanners of this repository do not flag the test itself).
FAKE_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def write(base: Path, relative: str, text: str | bytes) -> Path:
    file = base / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        file.write_bytes(text)
    else:
        file.write_text(text, encoding="utf-8")
    return file


def obsidian_vault(base: Path) -> Path:
    vault = base / "Team Vault"
    write(vault, ".obsidian/app.json", '{"legacyEditor": false}')
    write(vault, ".obsidian/workspace.json", "{}")
    write(
        vault,
        "Payments/Stripe Webhooks.md",
        "---\n"
        "aliases: [webhooks, Stripe events]\n"
        "tags: [payments, '#stripe']\n"
        "created: 2025-11-03\n"
        "cssclass: wide\n"
        "---\n"
        "# Stripe webhooks\n\n"
        "Every handler must be idempotent: see [[Idempotency Keys]] and [[Retry Policy|how we retry]].\n\n"
        "![[webhook-flow.png]]\n\n"
        "```python\n# this is code, and [[Not A Link]] is not a link\n```\n",
    )
    write(
        vault,
        "Payments/Idempotency Keys.md",
        "---\naliases:\n  - IK\ntags: payments, reliability\n---\n"
        "Store the event id with a unique index before acting.\n",
    )
    write(
        vault,
        "Payments/Retry Policy.md",
        "Stripe retries for three days with exponential backoff; [[IK]] keep retries harmless.\n",
    )
    write(
        vault,
        "Areas/Infra/Kubernetes/Probes/Liveness Probes.md",
        "---\ntitle: Liveness probes restart pods\nupdated: 2026-01-10T08:00:00Z\n---\n"
        "Never point a liveness probe at a dependency; see [Stripe](../../../../Payments/Stripe%20Webhooks.md).\n",
    )
    write(vault, "attachments/webhook-flow.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    write(vault, "Payments/Board.canvas", '{"nodes": []}')
    write(vault, "Broken.md", b"\x00\x01binary pretending to be markdown")
    write(vault, "Daily/2026-01-05.md", "Met with the payments team.\n")
    return vault


def adr_folder(base: Path) -> Path:
    adr = base / "docs" / "adr"
    write(
        adr,
        "0001-record-architecture-decisions.md",
        "# 1. Record architecture decisions\n\nDate: 2024-01-05\n\n## Status\n\nAccepted\n\n"
        "## Context\n\nWe need to record the architectural decisions made on this project.\n\n"
        "## Decision\n\nWe will use Architecture Decision Records, as described by Michael Nygard.\n\n"
        "## Consequences\n\nSee Michael Nygard's article, linked above.\n",
    )
    write(
        adr,
        "0002-use-postgres.md",
        "---\nstatus: accepted\ndate: 2024-02-01\ndeciders: [mei, jonas]\n---\n"
        "# Use PostgreSQL for the main store\n\n"
        "## Context and Problem Statement\n\nWe need one transactional store. "
        "Follows [ADR 1](0001-record-architecture-decisions.md).\n\n"
        "## Decision Outcome\n\nChosen option: PostgreSQL 16 behind PgBouncer in transaction mode.\n",
    )
    write(
        adr,
        "0003-deploy-credentials.md",
        f"# 3. Deploy credentials\n\nThe deploy bot authenticates with the token {FAKE_TOKEN} (to be rotated).\n",
    )
    write(
        adr,
        "0004-hugo-docs-site.md",
        '+++\ntitle = "Publish the docs with Hugo"\ndate = 2024-03-10\ntags = ["docs", "hugo"]\nweight = 4\n+++\n'
        "The docs site is built with Hugo from this folder.\n",
    )
    write(adr, "template.txt", "Title, status, context, decision, consequences.\n")
    return adr


def claude_md(base: Path, lines: int = 600) -> Path:
    """A CLAUDE.md grown long: a title, a preamble, topics (##) with entries (###) and code."""
    topics = [
        "Build and test",
        "Code style",
        "Architecture",
        "Database",
        "Payments",
        "Deploys",
        "Observability",
        "Security",
        "Frontend",
        "Gotchas",
    ]
    out = ["# CLAUDE.md\n", "\n", "This file guides Claude Code in this repository.\n", "\n"]
    number = 0
    while len(out) < lines - 30:
        topic = topics[number % len(topics)]
        round_ = number // len(topics)
        out += [f"## {topic}{'' if round_ == 0 else f' (part {round_ + 1})'}\n", "\n"]
        out += [f"General notes about {topic.lower()}.\n", "\n"]
        for entry in range(4):
            out += [f"### {topic} rule {entry + 1}\n", "\n"]
            out += [f"- Rule {entry + 1} about {topic.lower()}: keep it simple and tested.\n" for _ in range(3)]
            out += [
                "\n",
                "```bash\n",
                "# a comment, not a heading\n",
                f"make {topic.split()[0].lower()}\n",
                "```\n",
                "\n",
            ]
        number += 1
    out += ["## Lone section\n", "\n", "A section without entries below it.\n"]
    while len(out) < lines:
        out.append("More text in the lone section.\n")
    return write(base, "CLAUDE.md", "".join(out[:lines]))


def byterover_tree(base: Path) -> Path:
    project = base / "brv-project"
    tree = project / ".brv" / "context-tree"
    write(tree, "authentication/context.md", "# Authentication\n\nDomain overview (generated).\n")
    write(tree, "authentication/_index.md", "---\ncondensation_order: 2\n---\nSummary (generated).\n")
    write(tree, "_manifest.json", "{}")
    write(
        tree,
        "authentication/jwt-implementation/jwt_token_generation.md",
        "---\n"
        "title: JWT token generation\n"
        "tags: [auth, jwt]\n"
        "keywords: [token, expiry]\n"
        "related: [authentication/jwt-implementation/refresh-tokens/refresh_token_rotation.md]\n"
        "importance: 72\n"
        "recency: 0.83\n"
        "maturity: validated\n"
        "accessCount: 5\n"
        "updateCount: 2\n"
        "createdAt: '2026-02-01T10:00:00.000Z'\n"
        "updatedAt: '2026-02-20T09:30:00.000Z'\n"
        "---\n"
        "## Raw Concept\n\nAccess tokens expire after 24 hours.\n\n"
        "## Relations\n\n@authentication/jwt-implementation/refresh-tokens/refresh_token_rotation.md\n",
    )
    write(
        tree,
        "authentication/jwt-implementation/refresh-tokens/refresh_token_rotation.md",
        "---\ntitle: Refresh token rotation\nimportance: 90\nmaturity: core\nupdatedAt: '2026-03-01T00:00:00Z'\n---\n"
        "Rotate refresh tokens on every use.\n",
    )
    write(tree, "database/migration_strategy.md", "---\ntitle: Migration strategy\n---\nExpand, migrate, contract.\n")
    write(tree, "_archived/authentication/old.stub.md", "---\ntitle: old\n---\nstub\n")
    return project


def basic_memory_project(base: Path) -> Path:
    project = base / "basic-memory"
    write(
        project,
        "notes/coffee-brewing-methods.md",
        "---\ntitle: Coffee Brewing Methods\ntype: note\ntags: [coffee, brewing]\n"
        "permalink: coffee-brewing-methods\n---\n"
        "# Coffee Brewing Methods\n\n## Observations\n"
        "- [method] Pour over provides more flavor clarity than French press\n"
        "- [technique] Water temperature at 205°F extracts optimal compounds #brewing\n\n"
        "## Relations\n- relates_to [[Coffee Bean Origins]]\n- requires [[Proper Grinding Technique]]\n",
    )
    write(
        project,
        "notes/coffee-bean-origins.md",
        "---\ntitle: Coffee Bean Origins\ntype: note\npermalink: notes/coffee-bean-origins\n---\n"
        "## Observations\n- [origin] Ethiopian beans are fruity\n\n"
        "## Relations\n- pairs_with [[coffee-brewing-methods]]\n",
    )
    write(
        project,
        "people/paul-graham.md",
        "---\ntitle: Paul Graham\ntype: Person\ntags: [startups, essays]\npermalink: paul-graham\n"
        "status: active\nlast_updated: 2024-01-15\n---\n## Observations\n- [role] Co-founded Y Combinator\n",
    )
    return project


def mcp_memory_json(base: Path) -> Path:
    lines = [
        {"type": "entity", "name": "John_Smith", "entityType": "person", "observations": ["Speaks fluent Spanish"]},
        {"type": "entity", "name": "Anthropic", "entityType": "organization", "observations": ["AI safety company"]},
        {
            "type": "entity",
            "name": "Payments Service",
            "entityType": "service",
            "observations": ["Owned by the billing team", "Retries webhooks for 3 days"],
        },
        {"type": "relation", "from": "John_Smith", "to": "Anthropic", "relationType": "works_at"},
        {"type": "relation", "from": "John_Smith", "to": "Payments Service", "relationType": "maintains"},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\nnot json at all\n"
    return write(base, "memory.json", text)
