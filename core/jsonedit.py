"""Minimal edits of a JSON text: add, replace or delete one member or item, leaving every
other byte as it was.

`mem init --agent NAME` merges its entries into files people format by hand
(.claude/settings.json, .mcp.json, .codex/hooks.json, .cursor/hooks.json). Parsing and
dumping again would reformat the whole file (indentation, spacing, key order of nothing
else, `\\u00e9` escapes, numbers like `1.50`), so `--remove` could not give the original
bytes back. Editing the text instead keeps everything we do not own untouched, and an
insertion and its deletion are exact inverses:

- a member or item is added after the container's last one as `,` + the separator that
  stands before that last one (so a file spread over lines gets a line of its own at the
  same indentation, a one-line file stays on one line) + the new text, rendered with the
  file's indentation unit, key separator (`": "`, `":"`) and line ending;
- into an empty container it goes right after the opening bracket, on a line of its own
  when the container spans lines (the whitespace inside the brackets kept after it) or
  when the file does (`{}` in a file spread over lines), else on the same line;
- deleting a member or item that is not the first takes the text from the end of the one
  before it to its own end - exactly what was added; the first one is taken with the
  separator after it; the only one with the whitespace before it.

A structural change is worked out by the caller (core/agents.py) on the parsed data; this
module only places it in the text. The standard library's decoder reads strings and
numbers (`scanstring`, `raw_decode`); what is written here is the walk that records where
each value starts and ends. Libraries that edit JSON text in place exist (json5kit,
jsonc-edit) but are young, little used and, for jsonc-edit, native code: for three
operations on files of a few kilobytes the stdlib is enough.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidError

Path = Sequence[str | int]  # member names and item positions from the top-level value

_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


@dataclass
class Node:
    start: int
    end: int  # one past the value's last character
    kind: str  # "object", "array" or "scalar"
    # Members (name, where the name starts, value) of an object; items (None, start, value)
    # of an array.
    children: list[tuple[str | None, int, Node]] = field(default_factory=list)


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def _value(text: str, at: int) -> Node:
    char = text[at]
    if char == "{":
        node = Node(at, at, "object")
        at = _skip(text, at + 1)
        while text[at] != "}":
            if text[at] == ",":
                at = _skip(text, at + 1)
            key_start = at
            key, at = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
            at = _skip(text, _skip(text, at) + 1)  # past the colon
            child = _value(text, at)
            node.children.append((key, key_start, child))
            at = _skip(text, child.end)
        node.end = at + 1
        return node
    if char == "[":
        node = Node(at, at, "array")
        at = _skip(text, at + 1)
        while text[at] != "]":
            if text[at] == ",":
                at = _skip(text, at + 1)
            child = _value(text, at)
            node.children.append((None, at, child))
            at = _skip(text, child.end)
        node.end = at + 1
        return node
    _, end = _DECODER.raw_decode(text, at)
    return Node(at, end, "scalar")


def parse(text: str) -> Node:
    """Where each value of a valid JSON text starts and ends (the caller has checked that
    it is valid JSON with json.loads)."""
    try:
        return _value(text, _skip(text, 0))
    except (ValueError, IndexError, RecursionError) as error:
        raise InvalidError(f"cannot edit this JSON text ({error})") from None


def _find(root: Node, path: Path) -> Node:
    node = root
    for part in path:
        if isinstance(part, int):
            node = node.children[part][2]
        else:
            node = next(child for name, _, child in node.children if name == part)
    return node


# --- the file's style -----------------------------------------------------------------------


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _line_indent(text: str, at: int) -> str:
    line_start = text.rfind("\n", 0, at) + 1
    indent = text[line_start:at]
    return indent[: len(indent) - len(indent.lstrip(" \t"))]


def _key_separator(text: str, root: Node) -> str:
    """What stands between a member's name and its value in this file (`": "` by default)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.kind == "object" and node.children:
            _, key_start, value = node.children[0]
            _, key_end = json.decoder.scanstring(text, key_start + 1)  # type: ignore[attr-defined]
            return text[key_end : value.start]
        stack.extend(child for _, _, child in node.children)
    return ": "


_INDENTED = re.compile(r"\n([ \t]+)\S")


def _indent_unit(text: str) -> str:
    """One level of indentation: the shortest indentation of a line in the file, else 2 spaces."""
    found = sorted(set(_INDENTED.findall(text)), key=len)
    return found[0] if found else "  "


def _render(value: Any, text: str, root: Node, indent: str | None) -> str:
    """`value` as JSON in the file's style: spread over lines at `indent` (the indentation
    of the line it starts on), or on one line when `indent` is None."""
    key_separator = _key_separator(text, root)
    if indent is None:
        item_separator = ", " if key_separator.endswith(" ") else ","
        return json.dumps(value, ensure_ascii=False, separators=(item_separator, key_separator))
    rendered = json.dumps(value, ensure_ascii=False, indent=_indent_unit(text), separators=(",", key_separator))
    return rendered.replace("\n", _newline(text) + indent)


def _entry(text: str, root: Node, key: str | None, value: Any, indent: str | None) -> str:
    head = "" if key is None else json.dumps(key, ensure_ascii=False) + _key_separator(text, root)
    return head + _render(value, text, root, indent)


# --- edits ----------------------------------------------------------------------------------


def add(text: str, path: Path, value: Any, key: str | None = None) -> str:
    """`text` with `value` added at the end of the container at `path` (an object: as the
    member `key`, which must not be there yet; an array: as its last item)."""
    root = parse(text)
    container = _find(root, path)
    if container.children:
        _, last_start, last = container.children[-1]
        if len(container.children) > 1:
            before_last = container.children[-2][2].end
            separator = text[text.index(",", before_last) + 1 : last_start]
        else:
            separator = text[container.start + 1 : last_start]
            if "\n" not in separator:
                separator = " " if _key_separator(text, root).endswith(" ") else ""
        indent = separator[separator.rfind("\n") + 1 :] if "\n" in separator else None
        addition = "," + separator + _entry(text, root, key, value, indent)
        return text[: last.end] + addition + text[last.end :]
    inside = text[container.start + 1 : container.end - 1]
    outer = _line_indent(text, container.start)
    indent = outer + _indent_unit(text)
    newline = _newline(text)
    if "\n" in inside:  # an empty container spread over lines: a line of its own
        addition = newline + indent + _entry(text, root, key, value, indent)
        return text[: container.start + 1] + addition + text[container.start + 1 :]
    if "\n" not in text.strip():  # a one-line file stays on one line
        addition = _entry(text, root, key, value, None)
        return text[: container.start + 1] + addition + text[container.start + 1 :]
    # `{}` in a file spread over lines: spread too (deleting the member then leaves `{` and
    # `}` on two lines: the callers take such a container out whole).
    addition = newline + indent + _entry(text, root, key, value, indent) + newline + outer
    return text[: container.start + 1] + addition + text[container.end - 1 :]


def replace(text: str, path: Path, value: Any) -> str:
    """`text` with the value at `path` written anew (in the style of the line it is on)."""
    root = parse(text)
    node = _find(root, path)
    spread = "\n" in text[node.start : node.end]  # over lines: so is the new value; inline: inline
    indent = _line_indent(text, node.start) if spread else None
    return text[: node.start] + _render(value, text, root, indent) + text[node.end :]


def delete(text: str, path: Path) -> str:
    """`text` without the member or item at `path` (the inverse of `add` of the last one)."""
    root = parse(text)
    container = _find(root, path[:-1])
    part = path[-1]
    position = (
        part
        if isinstance(part, int)
        else next(number for number, (name, _, _) in enumerate(container.children) if name == part)
    )
    children = container.children
    _, start, node = children[position]
    if position > 0:
        cut_from, cut_to = children[position - 1][2].end, node.end
    elif len(children) > 1:
        cut_from, cut_to = start, children[1][1]
    else:
        cut_from, cut_to = container.start + 1, node.end
    return text[:cut_from] + text[cut_to:]
