"""Our entries go into an agent's JSON settings and come out again without touching a byte
of the rest, whatever the file's formatting (core/jsonedit.py, core/agents.py)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from contextree.core import jsonedit
from contextree.core.agents import drop_hooks, drop_server, set_hooks, set_server
from contextree.core.errors import InvalidError
from hypothesis import given
from hypothesis import strategies as st

COMMANDS = {
    "claude": {"session-start": "mem hook session-start --agent claude", "prompt": "mem hook prompt --agent claude"},
    "codex": {"session-start": "mem hook session-start --agent codex", "stop": "mem hook stop --agent codex"},
    "cursor": {
        "session-start": "mem hook session-start --agent cursor",
        "pre-compact": "mem hook pre-compact --agent cursor",
    },
}
SERVER = {"command": "/home/Zoë/.venv/bin/mem", "args": ["mcp"], "env": {"MEM_SOURCE": "agent:claude"}}


def hand_formatted(value: Any, rng: random.Random) -> str:
    """`value` as JSON the way a person might type it: any whitespace between tokens (spaces,
    tabs, line breaks, CRLF), escaped or literal non-ASCII, keys in their given order."""
    ascii_only = rng.random() < 0.5
    newline = rng.choice(["\n", "\r\n"])

    def gap() -> str:
        return rng.choice(["", "", " ", "  ", "\t", newline, newline + "  ", newline + "\t\t", " " + newline + "    "])

    def dump(item: Any) -> str:
        if isinstance(item, dict):
            members = [
                gap() + json.dumps(key, ensure_ascii=ascii_only) + gap() + ":" + gap() + dump(child) + gap()
                for key, child in item.items()
            ]
            return "{" + (",".join(members) if members else gap()) + "}"
        if isinstance(item, list):
            items = [gap() + dump(child) + gap() for child in item]
            return "[" + (",".join(items) if items else gap()) + "]"
        return json.dumps(item, ensure_ascii=ascii_only)

    return gap() + dump(value) + rng.choice(["", newline])


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=10,
)
user_groups = st.lists(
    st.fixed_dictionaries(
        {"matcher": st.text(max_size=5), "hooks": st.just([{"type": "command", "command": "./check.sh"}])}
    ),
    max_size=2,
)


@st.composite
def settings_files(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """(agent, the file as a person formatted it, its data): other keys, maybe hooks of the
    person's own on events we use too and on events we do not."""
    agent = draw(st.sampled_from(["claude", "codex", "cursor"]))
    data: dict[str, Any] = draw(
        st.dictionaries(st.sampled_from(["permissions", "env", "model", "ünïcode", "x"]), json_values, max_size=3)
    )
    if agent == "cursor" and draw(st.booleans()):
        data = {"version": 1, **data}
    if draw(st.booleans()):
        events = (
            ["SessionStart", "Stop", "PreToolUse"] if agent != "cursor" else ["sessionStart", "stop", "afterFileEdit"]
        )
        chosen = draw(st.dictionaries(st.sampled_from(events), user_groups, max_size=3))
        if agent == "cursor":
            chosen = {event: [{"command": "./own.sh"} for _ in groups] for event, groups in chosen.items()}
        data["hooks"] = {event: groups for event, groups in chosen.items() if groups}
        if not data["hooks"]:
            del data["hooks"]  # an empty hooks object is not given back (docs/agents.md)
    if not data:
        data = {"model": "x"}
    text = hand_formatted(data, random.Random(draw(st.integers(0, 2**32))))
    return agent, text, data


@given(settings_files())
def test_hooks_in_and_out_give_back_every_byte(case: tuple[str, str, dict[str, Any]]) -> None:
    agent, original, data = case
    assert json.loads(original) == data
    installed = set_hooks(original, agent, COMMANDS[agent])
    merged = json.loads(installed)
    for key, value in data.items():
        if key != "hooks":
            assert merged[key] == value
    for event, groups in data.get("hooks", {}).items():
        assert merged["hooks"][event][: len(groups)] == groups  # the person's own hooks first, unchanged
    assert set_hooks(installed, agent, COMMANDS[agent]) == installed  # idempotent
    assert drop_hooks(installed, agent) == original


@given(settings_files())
def test_the_mcp_server_in_and_out_gives_back_every_byte(case: tuple[str, str, dict[str, Any]]) -> None:
    _, original, data = case
    installed = set_server(original, "contextree", SERVER)
    assert json.loads(installed) == {**data, "mcpServers": {**data.get("mcpServers", {}), "contextree": SERVER}}
    assert set_server(installed, "contextree", SERVER) == installed
    assert drop_server(installed, "contextree") == original


HAND_FORMATTED = {
    "two spaces": (
        '{\n  "model": "opus",\n  "hooks": {\n    "Stop": [\n'
        '      {"hooks": [{"type": "command", "command": "./s.sh"}]}\n    ]\n  }\n}\n'
    ),
    "four spaces, CRLF": '{\r\n    "permissions": {\r\n        "allow": ["Bash(ls)"]\r\n    }\r\n}\r\n',
    "tabs, no final newline": '{\n\t"env": {\n\t\t"A": "1"\n\t},\n\t"hooks": {}\n}',
    "compact": '{"permissions":{"allow":[]},"hooks":{"Stop":[{"hooks":[{"type":"command","command":"x"}]}]}}',
    "spaces around colons": '{ "model" : "opus" , "caf\\u00e9" : 1.50 }\n',
    "one member per line, closing brace on the last": '{"a": 1,\n "b": [1, 2]}',
}


@pytest.mark.parametrize("name", list(HAND_FORMATTED))
def test_a_new_member_takes_the_style_of_the_file(name: str) -> None:
    original = HAND_FORMATTED[name]
    installed = set_hooks(original, "claude", COMMANDS["claude"])
    assert "\n" in installed or "\n" not in original  # a one-line file stays on one line
    assert ("\n" in installed.replace("\r\n", "")) == ("\n" in original.replace("\r\n", ""))  # CRLF stays CRLF
    assert ('\n\t\t"SessionStart"' in installed) == ("\t" in original)  # tabs stay tabs
    assert "1.50" not in original or ("1.50" in installed and "caf\\u00e9" in installed)  # as written
    if '"hooks": {}' not in original:
        assert drop_hooks(installed, "claude") == original


def test_an_empty_hooks_object_is_filled_and_removed_whole() -> None:
    """An empty `"hooks": {}` the person had is not told apart from none: it goes too."""
    original = HAND_FORMATTED["tabs, no final newline"]
    installed = set_hooks(original, "claude", COMMANDS["claude"])
    assert '\t"hooks": {\n\t\t"SessionStart": [' in installed and installed.endswith("\t\t]\n\t}\n}")
    assert drop_hooks(installed, "claude") == '{\n\t"env": {\n\t\t"A": "1"\n\t}\n}'


def test_edits_made_between_install_and_remove_are_kept() -> None:
    original = (
        '{\n    "model": "opus",\n    "hooks": {\n'
        '        "Stop": [{"hooks": [{"type": "command", "command": "./s.sh"}]}]\n    }\n}\n'
    )
    installed = set_hooks(original, "claude", COMMANDS["claude"])
    data = json.loads(installed)
    # The person changes the model, adds a key, and a hook of their own beside ours.
    data["model"] = "sonnet"
    data["permissions"] = {"allow": ["Bash(make)"]}
    data["hooks"]["SessionStart"].append({"hooks": [{"type": "command", "command": "./mine.sh"}]})
    edited = json.dumps(data, indent=2)  # their editor reformats the file
    removed = drop_hooks(edited, "claude")
    kept = {
        "model": "sonnet",
        "hooks": {
            "Stop": [{"hooks": [{"type": "command", "command": "./s.sh"}]}],
            "SessionStart": [{"hooks": [{"type": "command", "command": "./mine.sh"}]}],
        },
        "permissions": {"allow": ["Bash(make)"]},
    }
    # Only our entries went, with their separators: the rest is their text as they left it.
    assert removed == json.dumps(kept, indent=2)


def test_jsonedit_places_members_and_items() -> None:
    text = '{\n  "a": [1,\n        2],\n  "b": {}\n}'
    added = jsonedit.add(text, ["a"], 3)
    assert added == '{\n  "a": [1,\n        2,\n        3],\n  "b": {}\n}'
    assert jsonedit.delete(added, ["a", 2]) == text
    assert jsonedit.add(text, ["b"], True, key="c") == '{\n  "a": [1,\n        2],\n  "b": {\n    "c": true\n  }\n}'
    assert jsonedit.add("{}", [], True, key="c") == '{"c": true}'  # a one-line file stays on one line
    assert jsonedit.delete(jsonedit.add(text, [], None, key="z"), ["z"]) == text
    assert jsonedit.delete(text, ["a", 0]) == '{\n  "a": [2],\n  "b": {}\n}'
    with pytest.raises(InvalidError):
        jsonedit.parse("[" * 100_000)
