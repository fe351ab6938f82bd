"""The date reader (core/dates.py) on questions it was not written against.

bench/dates-heldout.yaml was written by a helper session that had not seen core/dates.py, its
tests or docs/recall.md: questions a team or a chat partner asks a memory, each with the day
it is asked and the days its date expression means (or none, or "the newest"). This script
reads each question as recall would and counts:

- exact        the days read are the days meant (a date without a year read as "any year"
               counts when its days of the year are the ones meant)
- overlapping  not exact, but the days read and the days meant overlap
- wrong        days read where none are meant, or days that do not overlap the meant ones
- missed       no days read where some are meant (the words stay words: no harm to recall
               beyond not using the date)
- newest       questions that ask only for the newest, and whether that was read

    .venv/bin/python bench/dates.py [--data bench/dates-heldout.yaml] [--show]
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from contextree.core.dates import Span, read_query

DEFAULT_DATA = Path(__file__).with_name("dates-heldout.yaml")


def _day(value: Any) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def judge(item: dict[str, Any]) -> tuple[str, str]:
    """(verdict, what was read) for one question."""
    today = _day(item["today"])
    assert today is not None
    first, last = _day(item.get("first")), _day(item.get("last"))
    found = read_query(str(item["q"]), today)
    spans = list(found.spans) if found is not None else []
    read = ", ".join(str(span) for span in spans) or ("the newest" if found is not None and found.latest else "none")
    if first is not None or last is not None:  # an open end: from the beginning, or up to today
        first, last = first or date.min, last or today
    # Days after today hold nothing yet: "this week" read as Monday to today is the week meant.
    unclipped = last  # a time of any year is compared with the days meant as written
    last = min(last, today) if last is not None else None
    spans = [Span(span.first, min(span.last, today)) if not span.yearly else span for span in spans]
    if first is None or last is None:
        if item.get("latest"):
            return ("newest right" if found is not None and found.latest and not spans else "newest missed"), read
        return ("right none" if not spans else "wrong"), read
    if not spans:
        return "missed", read
    meant = Span(first, last)
    if all(span.yearly for span in spans):
        assert unclipped is not None
        read_days = (spans[0].first.month, spans[0].first.day, spans[0].last.month, spans[0].last.day)
        exact = len(spans) == 1 and read_days == (first.month, first.day, unclipped.month, unclipped.day)
    else:
        exact = min(span.first for span in spans) == first and max(span.last for span in spans) == last
    if exact:
        return "exact", read
    return ("overlapping" if any(span.overlaps(meant) for span in spans) else "wrong"), read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--show", action="store_true", help="print every question not read exactly")
    args = parser.parse_args()
    items = yaml.safe_load(args.data.read_text(encoding="utf-8"))
    counts: dict[str, int] = {}
    for item in items:
        verdict, read = judge(item)
        counts[verdict] = counts.get(verdict, 0) + 1
        if args.show and verdict not in ("exact", "right none", "newest right"):
            meant = f"{item.get('first')} to {item.get('last')}" if item.get("first") else "none"
            print(f"{verdict:12s} {item['q']!r} (asked {item['today']}): read {read}; meant {meant}")
    dated = sum(1 for item in items if item.get("first") is not None or item.get("last") is not None)
    summary = {
        "questions": len(items),
        "with_days": dated,
        **counts,
        "exact_share_of_dated": round(100 * counts.get("exact", 0) / dated, 1) if dated else None,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
