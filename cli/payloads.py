"""The JSON payloads of entries, folders and lifecycle vitals that `mem --json` and the MCP
server share, where a result is not sent as plain `jsonable(result)`: one shape for both
interfaces (tests/test_contract.py pins the keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.entry import Entry
    from ..core.layers import Shown
    from ..core.lifecycle import Vitals
    from ..core.treeview import FolderNode, TreeView


def entry_data(entry: Entry, *, body: bool = True) -> dict[str, Any]:
    from ..core.jsonable import jsonable

    data: dict[str, Any] = jsonable(entry)
    if not body:
        data.pop("body")
    return data


def flag_data(entry: Entry) -> tuple[list[dict[str, Any]], list[str]]:
    """The prompt-injection signals of an entry as JSON data, and the one-line warning about them.

    Flagged text is still written: a person may keep a note about prompt injection on
    purpose. The warning makes sure nobody stores one by accident (docs/security.md).
    """
    from ..core.jsonable import jsonable
    from ..core.safety import entry_flags, summarize_signals

    signals = entry_flags(entry)
    if not signals:
        return [], []
    warning = (
        f"{entry.path} reads like instructions to an agent: {summarize_signals(signals)}; "
        "stored anyway, recall marks it as flagged"
    )
    return jsonable(list(signals)), [warning]


def vitals_data(vitals: Vitals) -> dict[str, Any]:
    from ..core.jsonable import jsonable

    data: dict[str, Any] = jsonable(vitals)
    return data


def node_data(node: FolderNode, vitals: dict[str, Vitals]) -> dict[str, Any]:
    return {
        "name": node.name,
        "path": node.path,
        "title": node.title,
        "summary": node.summary,
        "folders": [node_data(child, vitals) for child in node.folders],
        "entries": [
            {
                "path": e.path,
                "title": e.title,
                "importance": e.importance,
                "maturity": e.maturity,
                "effective_importance": vitals[e.path].effective_importance,
                "recency": vitals[e.path].recency,
                "maturity_due": vitals[e.path].maturity_due,
                "archive_due": vitals[e.path].archive_due,
                "hits": vitals[e.path].hits,
            }
            for e in node.entries
        ],
    }


def all_entries(node: FolderNode) -> list[Entry]:
    found = list(node.entries)
    for child in node.folders:
        found += all_entries(child)
    return found


def shown_data(shown: list[Shown], archived: bool) -> dict[str, Any]:
    """`show`: the first memory's entry (the project's, when it has one) and the same path in
    the other memories under `others` (never merged: docs/concepts.md, "Layers of memory")."""
    first = shown[0]
    return {
        "entry": entry_data(first.entry),
        "archived": archived,
        "lifecycle": vitals_data(first.vitals),
        "memory": first.memory,
        "others": [
            {"memory": item.memory, "entry": entry_data(item.entry), "lifecycle": vitals_data(item.vitals)}
            for item in shown[1:]
        ],
    }


def trees_data(trees: list[tuple[str, TreeView, dict[str, Vitals]]]) -> dict[str, Any]:
    """`tree`: the first memory's tree, and every other memory's under `others`."""
    name, view, vitals = trees[0]
    return {
        "root": node_data(view.root, vitals),
        "problems": view.problems,
        "memory": name,
        "others": [
            {"memory": other, "root": node_data(tree.root, marks), "problems": tree.problems}
            for other, tree, marks in trees[1:]
        ],
    }
