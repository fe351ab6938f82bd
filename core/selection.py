"""Choosing entries from a listing: by tag, maturity and date, newest first (`mem list`
filters and `mem recent`). Pure functions over `Entry` values: nothing is read here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from .entry import Entry
from .errors import InvalidError
from .times import utc

_AGO = re.compile(r"(\d+)\s*([hdwmy])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_UNITS |= {"m": timedelta(days=30), "y": timedelta(days=365)}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`7d`, `12h`, `2w`, `3m`, `1y` (that long ago) or a date `2026-03-01` (UTC midnight),
    or a full ISO time; an InvalidError names the forms otherwise."""
    now = utc(now or datetime.now(UTC))
    value = text.strip().lower()
    ago = _AGO.fullmatch(value)
    if ago:
        return now - int(ago.group(1)) * _UNITS[ago.group(2)]
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidError(
            f"cannot read --since '{text}': give an age (12h, 7d, 2w, 3m, 1y) or a date (2026-03-01)"
        ) from None
    return utc(moment)


def select(
    entries: Iterable[Entry],
    *,
    tags: Sequence[str] = (),
    maturities: Sequence[str] = (),
    since: datetime | None = None,
) -> list[Entry]:
    """The entries carrying every tag in `tags` (case-insensitive), of one of `maturities`
    (any when empty), updated at or after `since`; in the order given."""
    wanted = {tag.lower() for tag in tags}
    chosen = []
    for entry in entries:
        if wanted and not wanted <= {tag.lower() for tag in entry.tags}:
            continue
        if maturities and entry.maturity not in maturities:
            continue
        if since is not None and (entry.updated is None or utc(entry.updated) < since):
            continue
        chosen.append(entry)
    return chosen


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """By `updated` (then `created`), newest first; entries without dates last, by path."""
    floor = datetime.min.replace(tzinfo=UTC)

    def moment(entry: Entry) -> datetime:
        return utc(entry.updated or entry.created or floor)

    return sorted(sorted(entries, key=lambda entry: entry.path), key=moment, reverse=True)
