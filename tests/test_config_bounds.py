"""Bounded config and YAML (issue 18): every value of config.yaml is range-checked and every
YAML mem reads refuses alias expansion. Cases beyond repro 05 and 24."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from contextree.core import config as config_module
from contextree.core.config import Config, config_from_mapping, load_config
from contextree.core.errors import InvalidError

from .conftest import CliResult

Mem = Callable[..., CliResult]

BOMB = "\n".join(
    ["a0: &a0 ['lol lol lol lol lol lol lol lol']"]
    + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
)


def test_every_default_is_inside_its_range() -> None:
    defaults = Config()
    for section in config_module._SECTION_NAMES:
        for item in dataclasses.fields(getattr(defaults, section)):
            value = getattr(getattr(defaults, section), item.name)
            config_module._check_range(f"{section}.{item.name}", value)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"recall": {"keyword_floor": -0.5}}, "recall.keyword_floor"),
        ({"llm": {"temperature": math.inf}}, "llm.temperature"),
        ({"llm": {"timeout_seconds": math.nan}}, "llm.timeout_seconds"),
        ({"watch": {"debounce_ms": -1}}, "watch.debounce_ms"),
        ({"llm": {"max_retries": 10**20}}, "llm.max_retries"),
        ({"recall": {"topic_top": 0}}, "recall.topic_top"),
        ({"lifecycle": {"half_life_days_slow": 0}}, "lifecycle.half_life_days_slow"),
        ({"recall": {"k": "ten"}}, "recall.k"),
        ({"git": {"author_name": "x" * 5000}}, "git.author_name"),
        ({"llm": {"unreachable_ttl_seconds": -5}}, "llm.unreachable_ttl_seconds"),
    ],
)
def test_a_value_out_of_range_is_one_line_naming_the_key(data: dict, key: str) -> None:
    with pytest.raises(InvalidError) as raised:
        config_from_mapping(data)
    message = raised.value.message
    assert f"'{key}'" in message and "\n" not in message and len(message) < 300


def test_alias_bombs_anywhere_in_config_yaml_are_refused(tmp_path: Path) -> None:
    # In an unknown section the value is never used, but loading must still refuse it.
    (tmp_path / "config.yaml").write_text(BOMB + "\nrecall:\n  k: 3\n")
    with pytest.raises(InvalidError, match="alias"):
        load_config(tmp_path)


def test_a_small_alias_in_config_is_fine(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("recall:\n  k: &k 3\n  topic_top: *k\n")
    assert load_config(tmp_path).recall.topic_top == 3


def test_an_alias_bomb_in_an_overview_summary_is_not_expanded(mem: Mem, root: Path) -> None:
    assert mem("add", "a/b/c", "text").code == 0
    (root / "a" / "_index.md").write_text(f"---\n{BOMB}\ntitle: A\nsummary: *a8\n---\n")
    result = mem("--json", "tree")
    assert result.code == 0
    assert "a/b/c" in result.stdout


def test_config_set_refuses_an_out_of_range_value_and_keeps_the_file(mem: Mem, root: Path) -> None:
    before = (root / "config.yaml").read_text()
    result = mem("config", "set", "recall.fuzzy_min_similarity", "1000")
    assert result.code == 5 and "recall.fuzzy_min_similarity" in result.stderr
    assert (root / "config.yaml").read_text() == before
