"""`mem graph`: the `related` links between entries as a diagram (Mermaid or Graphviz DOT).

The nodes are the entries under a prefix plus whatever they link to: an entry outside the
prefix, an archived entry, or nothing at all (a broken link). Broken and archived targets
are drawn dashed and listed separately, so a diagram pasted into docs also shows what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from .display import printable
from .errors import InvalidError, MemError
from .paths import entry_file
from .tree import Problem

if TYPE_CHECKING:
    from .memory import Memory

NodeKind = Literal["entry", "outside", "archived", "missing"]
GraphFormat = Literal["mermaid", "dot"]
FORMATS: tuple[GraphFormat, ...] = get_args(GraphFormat)  # the CLI's --format choices (tests/test_architecture.py)


@dataclass(frozen=True)
class Node:
    id: str  # safe in both Mermaid and DOT: e1, e2, ... in path order
    path: str
    title: str  # the path itself for a missing entry
    maturity: str | None  # None for a missing entry
    kind: NodeKind


@dataclass(frozen=True)
class Edge:
    source: str  # entry paths
    target: str
    kind: NodeKind  # the target's kind: entry / outside, or archived / missing (a broken link)

    @property
    def broken(self) -> bool:
        return self.kind in ("archived", "missing")


@dataclass(frozen=True)
class Graph:
    prefix: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    problems: tuple[Problem, ...]

    @property
    def broken(self) -> tuple[Edge, ...]:
        return tuple(edge for edge in self.edges if edge.broken)


def build(memory: Memory, prefix: str | None = None) -> Graph:
    listing = memory.list(prefix)
    known = {entry.path: entry for entry in listing.entries}
    targets: dict[str, tuple[NodeKind, str, str | None]] = {}
    edges: list[Edge] = []
    for entry in listing.entries:
        for link in dict.fromkeys(entry.related):
            if link == entry.path:
                continue
            if link not in known and link not in targets:
                targets[link] = _outside(memory, link)
            kind: NodeKind = "entry" if link in known else targets[link][0]
            edges.append(Edge(entry.path, link, kind))
    described: dict[str, tuple[NodeKind, str, str | None]] = {
        path: ("entry", entry.title, entry.maturity) for path, entry in known.items()
    }
    described.update(targets)
    nodes = tuple(
        Node(f"e{number}", path, title, maturity, kind)
        for number, (path, (kind, title, maturity)) in enumerate(sorted(described.items()), 1)
    )
    return Graph(prefix or "", nodes, tuple(edges), listing.problems)


def _outside(memory: Memory, path: str) -> tuple[NodeKind, str, str | None]:
    """What a link that leaves the listed entries points at."""
    for archived, kind in ((False, "outside"), (True, "archived")):
        try:
            if entry_file(memory.root, path, archived=archived).is_file():
                entry = memory.get(path, archived=archived)
                return ("outside" if kind == "outside" else "archived"), entry.title, entry.maturity
        except MemError:
            continue
    return "missing", path, None


# --- Mermaid ----------------------------------------------------------------------------

_MERMAID_STYLES = {
    "core": "fill:#d5f5e3,stroke:#1e8449,stroke-width:2px",
    "validated": "fill:#eaf2f8,stroke:#2e86c1",
    "draft": "fill:#fef9e7,stroke:#b7950b",
    "outside": "fill:#f4f6f6,stroke:#909497",
    "archived": "fill:#f4f6f6,stroke:#909497,stroke-dasharray:4 4,color:#707b7c",
    "missing": "fill:#fdedec,stroke:#c0392b,stroke-dasharray:4 4,color:#c0392b",
}


def mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label: invisible characters written as visible
    escapes, then quotes, markup and entity starts turned into Mermaid's `#code;` entities."""
    out = []
    for char in printable(text):
        if char in '"#<>&`\\' or ord(char) < 32:
            out.append(f"#{ord(char)};")
        else:
            out.append(char)
    return "".join(out)


def _style(node: Node) -> str:
    if node.kind == "entry":
        return node.maturity or "draft"
    return node.kind


def to_mermaid(graph: Graph) -> str:
    ids = {node.path: node.id for node in graph.nodes}
    lines = ["graph LR"]
    for node in graph.nodes:
        if node.kind == "missing":
            label = f"missing: {mermaid_text(node.path)}"
        else:
            label = f"{mermaid_text(node.title)}<br/>{mermaid_text(node.path)}"
        lines.append(f'  {node.id}["{label}"]')
    for edge in graph.edges:
        arrow = f"-.->|{edge.kind}|" if edge.broken else "-->"
        lines.append(f"  {ids[edge.source]} {arrow} {ids[edge.target]}")
    classes: dict[str, list[str]] = {}
    for node in graph.nodes:
        classes.setdefault(_style(node), []).append(node.id)
    for name, style in _MERMAID_STYLES.items():
        if name in classes:
            lines.append(f"  classDef {name} {style}")
            lines.append(f"  class {','.join(classes[name])} {name}")
    return "\n".join(lines) + "\n"


# --- DOT --------------------------------------------------------------------------------

_DOT_STYLES = {
    "core": 'fillcolor="#d5f5e3", color="#1e8449", penwidth=2',
    "validated": 'fillcolor="#eaf2f8", color="#2e86c1"',
    "draft": 'fillcolor="#fef9e7", color="#b7950b"',
    "outside": 'fillcolor="#f4f6f6", color="#909497"',
    "archived": 'fillcolor="#f4f6f6", color="#909497", style="rounded,filled,dashed", fontcolor="#707b7c"',
    "missing": 'fillcolor="#fdedec", color="#c0392b", style="rounded,filled,dashed", fontcolor="#c0392b"',
}


def dot_string(text: str) -> str:
    """A DOT double-quoted string: invisible characters written as visible escapes (`\\x1b`),
    then backslashes and quotes escaped."""
    return '"' + printable(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: Graph) -> str:
    lines = [
        "digraph memory {",
        "  graph [rankdir=LR];",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for node in graph.nodes:
        title = "missing" if node.kind == "missing" else node.title
        # The label's line break is DOT's own `\n` escape, added after the title is escaped.
        label = dot_string(title)[:-1] + "\\n" + dot_string(node.path)[1:]
        lines.append(f"  {dot_string(node.path)} [label={label}, {_DOT_STYLES[_style(node)]}];")
    for edge in graph.edges:
        attributes = f' [style=dashed, color="#c0392b", label="{edge.kind}"]' if edge.broken else ""
        lines.append(f"  {dot_string(edge.source)} -> {dot_string(edge.target)}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(graph: Graph, output_format: str) -> str:
    if output_format not in FORMATS:
        raise InvalidError(f"unknown graph format {output_format!r}; one of {', '.join(FORMATS)}")
    if output_format == "dot":
        return to_dot(graph)
    return to_mermaid(graph)
