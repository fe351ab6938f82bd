"""The entry file format: parsing, validation messages, stable dumping, byte-exact bodies."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest
from contextree.core.entry import (
    KNOWN_KEYS,
    Entry,
    EntryFormatError,
    dump_entry,
    parse_entry,
    split_frontmatter,
)
from hypothesis import given, settings
from hypothesis import strategies as st

GOOD = """---
title: Session tokens are opaque and stored in Redis
summary: Why we do not use JWTs for browser sessions.
tags: [auth, security]
keywords: [session, token, redis, jwt]
related: [architecture/auth/storage/redis-layout]
importance: 70          # 0-100, default 50
maturity: validated
decay: normal
created: 2026-03-02T10:14:00Z
updated: 2026-05-11T08:40:00Z
source: agent:claude-code
owner: platform-team
---
Body in markdown.

  Indented line, trailing spaces\x20\x20
"""


def test_parse_design_example() -> None:
    entry = parse_entry("architecture/auth/session-tokens", GOOD)
    assert entry.title == "Session tokens are opaque and stored in Redis"
    assert entry.tags == ("auth", "security")
    assert entry.related == ("architecture/auth/storage/redis-layout",)
    assert entry.importance == 70
    assert entry.maturity == "validated"
    assert entry.created == datetime(2026, 3, 2, 10, 14, tzinfo=UTC)
    assert entry.source == "agent:claude-code"
    assert entry.extra == {"owner": "platform-team"}
    assert entry.body == "Body in markdown.\n\n  Indented line, trailing spaces  \n"


def test_dump_keeps_unknown_keys_after_known_ones_in_stable_order() -> None:
    entry = parse_entry("a/b/c", GOOD)
    text = dump_entry(entry)
    keys = [line.split(":", 1)[0] for line in text.split("---\n")[1].splitlines()]
    assert keys == [k for k in KNOWN_KEYS if k in keys] + ["owner"]
    assert text.endswith(entry.body)
    assert "created: 2026-03-02T10:14:00Z" in text
    assert parse_entry("a/b/c", text) == entry
    assert dump_entry(parse_entry("a/b/c", text)) == text  # a second rewrite changes nothing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("---\ntitle: [unclosed\n---\nbody", "not valid YAML"),
        ("---\ntitle: x\nno closing line", "no closing '---'"),
        ("---\n- a list\n---\n", "must be a mapping"),
        ("---\nimportance: 3\n---\n", "'title' is required"),
        ("---\ntitle: t\nimportance: high\n---\n", "'importance' must be a whole number"),
        ("---\ntitle: t\nimportance: 101\n---\n", "from 0 to 100"),
        ("---\ntitle: t\nmaturity: great\n---\n", "'maturity' must be one of draft, validated, core"),
        ("---\ntitle: t\ndecay: fast\n---\n", "'decay' must be one of"),
        ("---\ntitle: t\ntags: {a: 1}\n---\n", "'tags' must be a list"),
        ("---\ntitle: t\ncreated: yesterday\n---\n", "'created'"),
        ("---\ntitle: t\nrelated: [../../etc/passwd]\n---\n", "'related' link"),
        ("---\ntitle: " + "x" * 400 + "\n---\n", "'title' is 400 characters"),
        ("---\ntitle: !!python/object/apply:os.system [echo pwned]\n---\n", "not valid YAML"),
    ],
)
def test_invalid_frontmatter_gives_precise_messages(text: str, expected: str) -> None:
    with pytest.raises(EntryFormatError) as caught:
        parse_entry("a/b/c", text)
    assert expected in caught.value.message
    assert "\n" not in caught.value.message


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(EntryFormatError) as caught:
        parse_entry("a/b/c", "---\nimportance: -1\nmaturity: x\ndecay: y\n---\n")
    assert len(caught.value.problems) == 4


def test_file_without_frontmatter_is_an_entry_titled_by_its_heading() -> None:
    entry = parse_entry("a/b/deploy-notes", "# Deploy notes\n\nRun make deploy.\n")
    assert entry.title == "Deploy notes"
    assert entry.body == "# Deploy notes\n\nRun make deploy.\n"
    assert parse_entry("a/b/deploy-notes", "plain text").title == "deploy notes"


def test_comma_separated_tags_are_accepted() -> None:
    assert parse_entry("a/b/c", "---\ntitle: t\ntags: auth, redis\n---\n").tags == ("auth", "redis")


def test_dump_is_one_key_per_line_even_without_lists() -> None:
    entry = Entry(path="a/b/c", title="T", created=datetime(2026, 1, 1, tzinfo=UTC), extra={"review": {"every": "90d"}})
    assert dump_entry(entry) == (
        "---\ntitle: T\nimportance: 50\nmaturity: draft\ndecay: normal\ncreated: 2026-01-01T00:00:00Z\n"
        "review:\n  every: 90d\n---\n"
    )


def test_split_keeps_body_bytes_including_crlf() -> None:
    frontmatter, body = split_frontmatter("---\r\ntitle: t\r\n---\r\n\r\nbody\r\n")
    assert frontmatter == "title: t\r\n"
    assert body == "\r\nbody\r\n"


# --- property: parse(dump(entry)) == entry ----------------------------------------------

slug = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)
path = st.lists(slug, min_size=3, max_size=4).map("/".join)
line = (
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=60)
    .map(str.strip)
    .filter(bool)
)
moment = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))
yaml_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(allow_nan=False), st.text(max_size=40)
)
yaml_value = st.recursive(
    yaml_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
extra_key = st.text(alphabet=string.ascii_letters + "_-", min_size=1, max_size=15).filter(lambda k: k not in KNOWN_KEYS)

entries = st.builds(
    Entry,
    path=path,
    title=line,
    body=st.text(max_size=400),
    summary=st.one_of(st.just(""), line),
    tags=st.lists(line, max_size=5).map(tuple),
    keywords=st.lists(line, max_size=5).map(tuple),
    related=st.lists(path, max_size=3).map(tuple),
    importance=st.integers(0, 100),
    maturity=st.sampled_from(["draft", "validated", "core"]),
    decay=st.sampled_from(["normal", "slow", "never"]),
    created=st.one_of(st.none(), moment),
    updated=st.one_of(st.none(), moment),
    source=st.one_of(st.none(), line),
    extra=st.dictionaries(extra_key, yaml_value, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(entries)
def test_parse_dump_round_trip(entry: Entry) -> None:
    text = dump_entry(entry)
    assert parse_entry(entry.path, text) == entry
