"""Loading YAML that mem did not write: entry and overview frontmatter, `config.yaml`.

One loader for all of them (layer 0, so `config` can use it): the safe loader (C or Python)
refusing duplicate keys, with the text's size, its nesting and its alias expansion bounded
before or right after parsing, so no YAML file can crash, hang or exhaust memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from .display import clip, shown

MAX_YAML_NESTING = 100

_SafeLoaderBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SafeLoader(_SafeLoaderBase):  # type: ignore[misc,valid-type]
    """The safe loader (C or Python), refusing a key that appears twice in one mapping.

    PyYAML keeps the last of two equal keys without a word, so a frontmatter could show
    `source: agent:scraper` at the top and be read as the `source: user` further down.
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                    if key_node.value in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {shown(key_node.value)}", key_node.start_mark
                        )
                    seen.add(key_node.value)
        return super().construct_mapping(node, deep)


def load_yaml(text: str, *, what: str, max_chars: int) -> Any:
    """Parse YAML with a safe loader, refusing sizes, nesting and alias expansion that could
    crash it or whatever uses the value.

    Raises ValueError for those (yaml.YAMLError for bad YAML); every YAML mem reads (entry
    and overview frontmatter, config.yaml) goes through here. `what` names the text in
    messages.
    """
    if len(text) > max_chars:
        raise ValueError(f"{what} is {len(text):,} characters; at most {max_chars:,} are allowed")
    if yaml_nesting_estimate(text) > MAX_YAML_NESTING:
        # The estimate counts brackets inside quoted strings too; before refusing, measure
        # the real depth with the tokenizer (iterative, unlike the composer that crashes).
        depth = yaml_nesting_depth(text)
        if depth > MAX_YAML_NESTING:
            raise ValueError(f"{what} is nested more than {MAX_YAML_NESTING} levels deep (the limit)")
    try:
        value = yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader (C or Python)
    except yaml.YAMLError:
        raise
    except RecursionError:  # the pure-Python loader's way to fail on deep nesting
        raise ValueError(f"{what} is nested too deeply") from None
    except Exception as error:
        # PyYAML's constructors raise plain Python errors on some values that match a YAML
        # type's pattern (`created: 2026-13-45` -> ValueError, a 5000-digit int -> ValueError):
        # on untrusted text every failure of the parser is a format error, never a crash.
        raise ValueError(f"{what} cannot be read ({clip(str(error), 120)})") from None
    # Aliases share one object, so loading a "billion laughs" is cheap; walking it (str(),
    # repr(), a comparison) is not. Without aliases a value holds no more nodes and string
    # characters than the text has characters, so more than that means expansion: refuse it.
    if _expanded_size(value, 2 * len(text) + 64) > 2 * len(text) + 64:
        raise ValueError(f"{what} uses YAML aliases that expand far beyond its size (an alias bomb)")
    return value


def _expanded_size(value: Any, budget: int) -> int:
    """Nodes plus string characters of a loaded YAML value, counting every alias use again;
    stops once past `budget`."""
    stack = [value]
    size = 0
    while stack and size <= budget:
        node = stack.pop()
        size += 1 + (len(node) if isinstance(node, (str, bytes)) else 0)
        if isinstance(node, Mapping):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, (list, tuple, set)):
            stack.extend(node)
    return size


_FLOW = re.compile(r"[\[\]{}]")
_BLOCK_RUN = re.compile(r"^[ \t]*(?:[-?][ \t]+)+", re.MULTILINE)


_OPENING_TOKENS = (
    yaml.FlowSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.BlockMappingStartToken,
)
_CLOSING_TOKENS = (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken, yaml.BlockEndToken)


def yaml_nesting_depth(text: str) -> int:
    """How deep the collections of a YAML text nest (up to MAX_YAML_NESTING + 1), from its
    tokens: scanning does not recurse. Text the scanner rejects counts up to where it
    stopped: the parser would get that far too before failing."""
    depth = deepest = 0
    try:
        for token in yaml.scan(text, Loader=_SafeLoader):
            if isinstance(token, _OPENING_TOKENS):
                depth += 1
                deepest = max(deepest, depth)
                if deepest > MAX_YAML_NESTING:
                    break  # enough to refuse; scanning on is slow at great depth
            elif isinstance(token, _CLOSING_TOKENS):
                depth -= 1
    except yaml.YAMLError:
        pass
    return deepest


def yaml_nesting_estimate(text: str) -> int:
    """An upper bound on how deep a YAML text nests through flow brackets and block indicators.

    Brackets inside quoted strings count too: the estimate errs on the side of refusing. Depth
    through indentation alone is not counted: it costs a line of growing indentation per level,
    so the size limit bounds it far below what crashes libyaml.
    """
    depth = deepest = 0
    for bracket in _FLOW.findall(text):
        depth = depth + 1 if bracket in "[{" else max(0, depth - 1)
        deepest = max(deepest, depth)
    block = max((run.group().count("-") + run.group().count("?") for run in _BLOCK_RUN.finditer(text)), default=0)
    return deepest + block


# --- frontmatter split -----------------------------------------------------------------
