"""Helpers for lifecycle tests: a clock the test moves by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    """Passed as `Memory(root, clock=...)`: every lifecycle timestamp comes from here."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: float = 0, hours: float = 0) -> None:
        self.now += timedelta(days=days, hours=hours)

    def at(self, moment: datetime) -> None:
        self.now = moment


def collapse(values: list[str]) -> list[str]:
    """['a', 'a', 'b', 'b', 'a'] -> ['a', 'b', 'a']: the changes in a sequence."""
    out: list[str] = []
    for value in values:
        if not out or out[-1] != value:
            out.append(value)
    return out
