"""How mem writes YAML: block style, flat lists on one line, timestamps as
`2026-03-02T10:14:00Z`, no anchors, no wrapping. Its own module so that `yaml` is imported
only by a process that writes frontmatter: a recall over a current index parses none."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import yaml

from .times import format_time

_SafeDumperBase: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_SafeDumperBase):  # type: ignore[misc,valid-type]
    """Safe dumper that writes timestamps as `2026-03-02T10:14:00Z` and never uses anchors
    (`created: &id001 ...` / `updated: *id001` would puzzle a person reading the file)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_datetime(dumper: yaml.SafeDumper, moment: datetime) -> yaml.Node:
    text = format_time(moment) if moment.tzinfo is not None else moment.isoformat()
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


def _represent_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    # `tags: [a, b]` on one line; a list holding mappings or lists stays in block style.
    flat = all(not isinstance(item, (list, dict)) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flat)


_Dumper.add_representer(datetime, _represent_datetime)
_Dumper.add_representer(list, _represent_list)


def dump(data: Mapping[str, Any]) -> str:
    # Block style for mappings (one key per line, so diffs and merges stay per field), flow
    # style only for flat lists; no line wrapping, so a long title stays on one line.
    return yaml.dump(
        dict(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 30,
    )
