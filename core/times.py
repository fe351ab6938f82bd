"""Times as mem writes them: aware UTC, `2026-03-02T10:14:00Z`. A module of its own, below
the entry format and its YAML writer (core/yamldump.py), which both use it."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """`2026-03-02T10:14:00Z`, with fractions of a second only when there are some."""
    moment = utc(moment)
    # Not strftime("%Y"): glibc writes year 317 as "317", which YAML no longer reads as a
    # date (found by bench/fuzz_parser.py); ISO 8601 wants four digits.
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"
