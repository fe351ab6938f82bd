"""The layering docs/architecture.md describes, read from the source with `ast` (nothing is
imported or run except the CLI's choice enums in the last test).

- `core/` never imports typer, click, rich, mcp or the CLI;
- a module imports at run time only from its own layer or a lower one (LAYERS), so the
  run-time import graph of `core/` has no cycle (imports under `if TYPE_CHECKING:` are for
  annotations and are not counted);
- no private name (`_x`) crosses a module: neither imported nor reached as an attribute of an
  object from another module (`memory._lock()` from consolidate.py);
- the CLI's copies of core vocabularies (kept so that `mem --help` imports no core module)
  equal core's.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent
CORE = PACKAGE / "core"
CLI = PACKAGE / "cli"

# Each core module's layer (docs/architecture.md). A new module gets a line here.
LAYERS: dict[str, int] = {
    # 0 foundation: errors, paths, byte-level file primitives, configuration
    **dict.fromkeys(
        ("errors", "display", "text", "paths", "safeio", "store", "yamlsafe", "config", "suggest", "times", "yamldump"),
        0,
    ),
    # 1 the file format and pure rules
    **dict.fromkeys(
        (
            "entry",
            "jsonable",
            "lifecycle",
            "safety",
            "duplicates",
            "framing",
            "transcript",
            "selection",
            "lexicon",
            "dates",
            "jsonedit",
        ),
        1,
    ),
    # 2 services: the walk, the write service, the index, usage state, git, the model client
    **dict.fromkeys(
        ("tree", "journal", "keepers", "barrier", "state", "owndb", "index", "git", "files", "llm", "inbox"), 2
    ),
    # 3 features: each a module with `run(memory, ...)` or a class taking the Memory
    **dict.fromkeys(
        (
            "context",
            "recall",
            "llm_tiers",
            "curate",
            "consolidate",
            "doctor",
            "stats",
            "graph",
            "treeview",
            "watch",
        ),
        3,
    ),
    # import_format (layer 1) holds what every importer shares: candidates, placement, foreign frontmatter
    "import_format": 1,
    **dict.fromkeys(("importing", "import_markdown", "import_sections", "import_graph", "import_restore", "export"), 3),
    "import_transcript": 3,  # an agent's session transcript, one entry per turn with `reply_to`
    "neighbours": 3,  # what an added entry lands next to, and the path `mem add` proposes
    "diversity": 1,  # which questions are list-like, and spreading their answers over folders
    "names": 1,  # what may be a person's name, in an entry and in a question
    "answers": 1,  # the kind of answer a question asks for, and the kinds an entry's text holds
    # 4 the facade, 5 an adapter over it
    "memory": 4,
    "layers": 5,  # opens several memories (Memory objects): above the facade
    "memory_tool": 5,
    # what `mem hook EVENT` answers each agent: it recalls across every memory (layers), and
    # `mem init --agent` (agents) writes the hook entries it knows
    "hooks": 5,
    "agents": 5,
    "__init__": 6,  # lazy re-exports of the public names
}
UI_LIBRARIES = ("typer", "click", "rich", "mcp")


def modules(folder: Path) -> dict[str, ast.Module]:
    return {file.stem: ast.parse(file.read_text(encoding="utf-8"), str(file)) for file in sorted(folder.glob("*.py"))}


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, except what sits under `if TYPE_CHECKING:` (annotations only)."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and ast.unparse(child.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            yield from (node for branch in child.orelse for node in [branch, *runtime_nodes(branch)])
            continue
        yield child
        yield from runtime_nodes(child)


def imported_core_modules(node: ast.AST) -> list[str]:
    """The `core` modules an import statement inside core/ names (relative or absolute)."""
    if isinstance(node, ast.ImportFrom):
        if node.level == 1 and node.module is None:  # from . import git
            return [alias.name for alias in node.names]
        if node.level == 1 and node.module is not None:
            return [node.module.split(".")[0]]
        if node.level == 0 and node.module and node.module.startswith("contextree.core."):
            return [node.module.split(".")[2]]
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[2] for alias in node.names if alias.name.startswith("contextree.core.")]
    return []


def runtime_graph() -> dict[str, set[str]]:
    return {
        name: {target for node in runtime_nodes(tree) for target in imported_core_modules(node) if target != name}
        for name, tree in modules(CORE).items()
    }


def test_every_core_module_has_a_layer() -> None:
    missing = sorted(set(modules(CORE)) - set(LAYERS))
    assert not missing, f"add these core modules to LAYERS (and docs/architecture.md): {missing}"
    assert not sorted(set(LAYERS) - set(modules(CORE))), "LAYERS names a module that is gone"


def test_core_never_imports_a_user_interface() -> None:
    found = []
    for name, tree in modules(CORE).items():
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            for imported in names:
                top = imported.split(".")[0]
                if top in UI_LIBRARIES or imported.startswith(("..cli", "contextree.cli")):
                    found.append(f"core/{name}.py:{node.lineno} imports {imported}")
    assert not found, found


def test_core_imports_go_down_the_layers_at_run_time() -> None:
    upward = [
        f"core/{name}.py (layer {LAYERS[name]}) imports {target} (layer {LAYERS[target]})"
        for name, targets in runtime_graph().items()
        for target in sorted(targets)
        if LAYERS.get(target, 99) > LAYERS.get(name, -1)
    ]
    assert not upward, upward


def test_the_run_time_import_graph_of_core_has_no_cycle() -> None:
    graph = runtime_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[name] = 2
        return None

    for name in sorted(graph):
        if name not in state:
            cycle = visit(name)
            assert cycle is None, " -> ".join(cycle)


def private_definitions(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, methods, attributes set on self."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return {name for name in names if name.startswith("_") and not name.startswith("__")}


# Standard-library functions whose public names begin with an underscore.
STDLIB_PUBLIC = {"os._exit"}


@pytest.mark.parametrize("folder", [CORE, CLI], ids=["core", "cli"])
def test_no_private_name_crosses_a_module(folder: Path) -> None:
    found = []
    for name, tree in modules(folder).items():
        own = private_definitions(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                found += [
                    f"{folder.name}/{name}.py:{node.lineno} imports {alias.name} from {node.module}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                on_self = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
                if not on_self and node.attr not in own and ast.unparse(node) not in STDLIB_PUBLIC:
                    found.append(f"{folder.name}/{name}.py:{node.lineno} uses {ast.unparse(node)}")
    assert not found, found


def test_the_cli_choices_equal_the_core_vocabularies() -> None:
    from contextree.cli.entries import DecayChoice, MaturityChoice
    from contextree.cli.lifecycle import GraphFormat
    from contextree.cli.recall import TierChoice
    from contextree.core.entry import DECAYS, MATURITIES
    from contextree.core.graph import FORMATS
    from contextree.core.recall import TIERS

    def values(choice: type[Enum]) -> tuple[str, ...]:
        return tuple(member.value for member in choice)

    assert values(TierChoice) == TIERS
    assert values(MaturityChoice) == MATURITIES
    assert values(DecayChoice) == DECAYS
    assert values(GraphFormat) == FORMATS


def test_every_key_mem_adds_is_defined_in_entry_py_and_documented() -> None:
    from contextree.core.entry import MEM_KEYS

    documented = (PACKAGE / "docs" / "file-format.md").read_text(encoding="utf-8")
    assert [key for key in MEM_KEYS if f"`{key}`" not in documented] == []
    # Written nowhere else as a string literal: a new key is added in entry.py (and the doc).
    found = [
        f"core/{name}.py:{node.lineno} spells {node.value!r}"
        for name, tree in modules(CORE).items()
        if name != "entry"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in MEM_KEYS
    ]
    assert found == [], found


def test_core_functions_stay_short_and_the_facade_small() -> None:
    """A function that needs more than 80 lines does more than one thing; the facade
    (`Memory`) delegates, so its module stays under 700 lines (issue 12)."""
    long = [
        f"core/{name}.py:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for name, tree in modules(CORE).items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 80
    ]
    assert not long, long
    assert len((CORE / "memory.py").read_text(encoding="utf-8").splitlines()) < 700
