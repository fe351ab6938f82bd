"""`mem stats` and `mem graph`: counts, usage and histogram; Mermaid and DOT that parse."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pydot
import pytest
from contextree import Memory
from contextree.core.graph import mermaid_text, to_dot, to_mermaid

from .conftest import EXAMPLE, CliResult
from .lifecycleutil import FakeClock

Mem = Callable[..., CliResult]
# pydot's grammar still uses pyparsing's old method names; that is pydot's business.
pytestmark = pytest.mark.filterwarnings("ignore:'set[A-Z]\\w+' deprecated:DeprecationWarning")

LINKED = {"arch/api/errors", "arch/api/pagination", "runbooks/api/outage", "arch/api/gone", "arch/api/old"}
NODE = re.compile(r'^  (e\d+)\["((?:[^"])*)"\]$')
EDGE = re.compile(r"^  (e\d+) (-->|-\.->\|(archived|missing)\|) (e\d+)$")
CLASS_DEF = re.compile(r"^  classDef (\w+) [\w:#,.\- ]+$")
CLASS = re.compile(r"^  class ((?:e\d+,)*e\d+) (\w+)$")


def parse_mermaid(text: str) -> tuple[dict[str, str], list[tuple[str, str, str | None]], dict[str, str]]:
    """Nodes (id -> label), edges (source, target, broken kind) and classes (id -> class);
    fails on any line that is not one of Mermaid's forms used here."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "graph LR"
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str, str | None]] = []
    classes: dict[str, str] = {}
    defined: set[str] = set()
    for line in lines[1:]:
        if match := NODE.match(line):
            nodes[match.group(1)] = match.group(2)
        elif match := EDGE.match(line):
            edges.append((match.group(1), match.group(4), match.group(3)))
        elif match := CLASS_DEF.match(line):
            defined.add(match.group(1))
        elif match := CLASS.match(line):
            assert match.group(2) in defined
            for node in match.group(1).split(","):
                classes[node] = match.group(2)
        else:
            raise AssertionError(f"not a Mermaid line: {line!r}")
    for source, target, _ in edges:
        assert source in nodes and target in nodes
    assert set(classes) == set(nodes)
    return nodes, edges, classes


@pytest.fixture
def linked(root: Path) -> Memory:
    memory = Memory(root, clock=FakeClock())
    memory.add("arch/api/errors", "Errors.", title='Errors use "problem+json" <RFC 7807> & #codes', importance=90)
    memory.add(
        "arch/api/pagination",
        "Cursor pagination.",
        title="Pagination",
        related=["arch/api/errors", "runbooks/api/outage", "arch/api/gone", "arch/api/old"],
        maturity="validated",
    )
    memory.add("runbooks/api/outage", "Steps.", title="API outage", related=["arch/api/errors"])
    memory.add("arch/api/old", "Old.", title="Old API notes")
    memory.forget("arch/api/old")
    return memory


# --- graph ---------------------------------------------------------------------------------------


def test_mermaid_nodes_edges_escaping_and_broken_links(linked: Memory, mem: Mem) -> None:
    data = mem("--json", "graph", "arch").data
    assert data["format"] == "mermaid"
    nodes, edges, classes = parse_mermaid(data["text"])
    by_path = {node["path"]: node["id"] for node in data["nodes"]}
    assert set(by_path) == LINKED
    errors_label = nodes[by_path["arch/api/errors"]]
    assert '"' not in errors_label and "<RFC" not in errors_label
    assert errors_label.startswith("Errors use #34;problem+json#34; #60;RFC 7807#62; #38; #35;codes<br/>")
    pagination = by_path["arch/api/pagination"]
    assert (pagination, by_path["arch/api/errors"], None) in edges
    assert (pagination, by_path["runbooks/api/outage"], None) in edges
    assert (pagination, by_path["arch/api/gone"], "missing") in edges
    assert (pagination, by_path["arch/api/old"], "archived") in edges
    assert classes[by_path["arch/api/errors"]] == "draft" and classes[pagination] == "validated"
    assert classes[by_path["runbooks/api/outage"]] == "outside"
    assert classes[by_path["arch/api/gone"]] == "missing"
    assert sorted((edge["target"], edge["kind"]) for edge in data["broken"]) == [
        ("arch/api/gone", "missing"),
        ("arch/api/old", "archived"),
    ]
    # Human output: the diagram alone on stdout, notes about broken links on stderr.
    text = mem("graph", "arch")
    assert text.stdout == data["text"]
    assert "arch/api/gone" in text.stderr and "missing" in text.stderr


def test_dot_parses_with_a_real_dot_parser(linked: Memory, mem: Mem) -> None:
    text = mem("graph", "--format", "dot").stdout
    [graph] = pydot.graph_from_dot_data(text)
    assert graph.get_type() == "digraph"
    names = {node.get_name().strip('"') for node in graph.get_nodes()} - {"node", "graph", "edge"}
    assert names == LINKED
    pairs = {(edge.get_source().strip('"'), edge.get_destination().strip('"')) for edge in graph.get_edges()}
    assert ("runbooks/api/outage", "arch/api/errors") in pairs and ("arch/api/pagination", "arch/api/gone") in pairs
    labels = {node.get_name().strip('"'): node.get("label") for node in graph.get_nodes()}
    assert labels["arch/api/errors"] == '"Errors use \\"problem+json\\" <RFC 7807> & #codes\\narch/api/errors"'
    broken = [edge for edge in graph.get_edges() if edge.get("style") == "dashed"]
    assert {edge.get_destination().strip('"') for edge in broken} == {"arch/api/gone", "arch/api/old"}


def test_graph_text_survives_hostile_titles() -> None:
    from contextree.core.graph import Edge, Graph, Node

    hostile = 'a"b\\c<d>e&f#g`h]i[j;k|l'
    graph = Graph(
        "",
        (Node("e1", "x/y/one", hostile, "core", "entry"), Node("e2", "x/y/two", "end", "draft", "entry")),
        (Edge("x/y/one", "x/y/two", "entry"),),
        (),
    )
    nodes, edges, _ = parse_mermaid(to_mermaid(graph))
    assert edges == [("e1", "e2", None)]
    assert mermaid_text(hostile) in nodes["e1"]
    [parsed] = pydot.graph_from_dot_data(to_dot(graph))
    label = next(node.get("label") for node in parsed.get_nodes() if node.get_name() == '"x/y/one"')
    assert label == '"a\\"b\\\\c<d>e&f#g`h]i[j;k|l\\nx/y/one"'


def test_graph_of_the_example_tree(mem: Mem, tmp_path: Path) -> None:
    copy = tmp_path / "example"
    shutil.copytree(EXAMPLE, copy)
    data = mem("--root", str(copy), "--json", "graph").data
    nodes, edges, _ = parse_mermaid(data["text"])
    assert len(nodes) >= 59 and len(edges) > 100
    [graph] = pydot.graph_from_dot_data(mem("--root", str(copy), "graph", "--format", "dot").stdout)
    assert len(graph.get_edges()) == len(edges)


# --- stats ---------------------------------------------------------------------------------------


def test_stats_counts_usage_and_histogram(root: Path, mem: Mem) -> None:
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    memory.add("arch/api/errors", "Errors.", title="Errors", importance=90, maturity="core")
    memory.add("arch/api/paging", "Paging.", title="Paging", importance=70, maturity="validated")
    memory.add("runbooks/api/outage", "Steps.", title="Outage", importance=20)
    memory.add("runbooks/api/gone", "Gone.", title="Gone")
    memory.forget("runbooks/api/gone")
    clock.advance(days=40)
    for _ in range(3):
        memory.read("arch/api/paging")
    memory.read("arch/api/errors")
    stats = memory.stats()
    assert (stats.entries, stats.archived, stats.hits) == (3, 1, 4)
    assert [(d.domain, d.total, d.draft, d.validated, d.core) for d in stats.domains] == [
        ("arch", 2, 0, 1, 1),
        ("runbooks", 1, 1, 0, 0),
    ]
    assert {c.name: c.count for c in stats.maturity} == {"draft": 1, "validated": 1, "core": 1}
    assert {c.name: c.count for c in stats.ages}["1-3 months"] == 3
    assert sum(b.count for b in stats.importance) == 3
    # 90 -> (90 + 3) x 0.995^40 = 76.1; 70 -> 79 x 0.818 = 64.6; 20 -> 16.4
    assert [b.count for b in stats.importance] == [0, 1, 0, 0, 0, 0, 1, 1, 0, 0]
    assert [u.path for u in stats.most_used] == ["arch/api/paging", "arch/api/errors"]
    assert stats.least_used[0].path == "runbooks/api/outage"
    assert {c.name: c.count for c in stats.due} == {"promote": 0, "demote": 0, "archive": 0}

    # The CLI runs on the real clock: compare it with the API on the real clock.
    now = Memory(root).stats()
    data = mem("--json", "stats").data
    assert data["entries"] == 3 and data["hits"] == 4
    assert data["importance"] == [{"low": b.low, "high": b.high, "count": b.count} for b in now.importance]

    text = mem("stats").stdout
    bars = [line for line in text.splitlines() if re.match(r"^\s+\d+-\d+\s", line)]
    assert len(bars) == 10
    counts = [int(line.split()[-1]) for line in bars]
    assert counts == [b.count for b in reversed(now.importance)]
    widths = [line.count("█") for line in bars]
    assert max(widths) == 40 and widths[counts.index(0)] == 0
    assert "most used" in text and "least used" in text and "arch/api/paging" in text


def test_stats_of_an_empty_memory(root: Path, mem: Mem) -> None:
    data = mem("--json", "stats").data
    assert data["entries"] == 0 and data["most_used"] == [] and sum(b["count"] for b in data["importance"]) == 0
    assert "0 entries" in mem("stats").stdout
