"""`mem stats`: what the memory holds and how it is used, from the files and `.mem/state.db`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .entry import MATURITIES
from .lifecycle import MATURITY_ORDER, Signals, Vitals, entry_vitals
from .tree import Problem

if TYPE_CHECKING:
    from .memory import Memory

# Age of an entry = days since its last update; buckets are (label, upper bound in days).
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 week", 7),
    ("1-4 weeks", 28),
    ("1-3 months", 91),
    ("3-12 months", 365),
    ("> 1 year", float("inf")),
)
HISTOGRAM_BINS = 10  # effective importance 0-10, 10-20, ... 90-100
USAGE_LIST = 5  # how many most / least used entries are listed


@dataclass(frozen=True)
class Count:
    name: str
    count: int


@dataclass(frozen=True)
class DomainCount:
    domain: str
    total: int
    draft: int
    validated: int
    core: int


@dataclass(frozen=True)
class Bin:
    low: float  # inclusive
    high: float  # exclusive, except the last bin, which holds 100
    count: int


@dataclass(frozen=True)
class Usage:
    path: str
    title: str
    hits: int
    last_access: datetime | None
    days_untouched: float
    effective_importance: float
    maturity: str


@dataclass(frozen=True)
class Stats:
    now: datetime
    prefix: str
    entries: int
    archived: int
    hits: int  # counted uses of the entries listed, in total
    domains: tuple[DomainCount, ...]
    maturity: tuple[Count, ...]
    ages: tuple[Count, ...]
    importance: tuple[Bin, ...]  # histogram of effective importance
    most_used: tuple[Usage, ...]
    least_used: tuple[Usage, ...]
    due: tuple[Count, ...]  # what `mem consolidate` would do now: promote, demote, archive
    problems: tuple[Problem, ...]


def collect(memory: Memory, prefix: str | None = None) -> Stats:
    cfg = memory.config.lifecycle
    scan = memory.scan(prefix)
    listing = memory.load(scan)
    archived = len(memory.scan(prefix, archived=True).records)
    mtimes = {record.path: record.mtime_ns / 1e9 for record in scan.records}
    moment = memory.clock()
    now = moment.timestamp()
    signals = memory.state().all_signals()
    rows: list[tuple[str, str, Vitals]] = []
    for entry in listing.entries:
        state = entry_vitals(entry, signals.get(entry.path, Signals()), now, cfg, mtimes.get(entry.path))
        rows.append((entry.path, entry.title, state))

    per_domain: dict[str, Counter[str]] = {}
    for path, _, state in rows:
        per_domain.setdefault(path.split("/", 1)[0], Counter())[state.maturity] += 1
    domains = tuple(
        DomainCount(name, sum(counts.values()), counts["draft"], counts["validated"], counts["core"])
        for name, counts in sorted(per_domain.items())
    )
    maturity = Counter(state.maturity for _, _, state in rows)
    ages: Counter[str] = Counter()
    bins = [0] * HISTOGRAM_BINS
    due: Counter[str] = Counter()
    for _, _, state in rows:
        age = (now - state.last_update.timestamp()) / 86_400
        ages[next(label for label, upper in AGE_BUCKETS if age < upper)] += 1
        width = 100 / HISTOGRAM_BINS
        bins[min(HISTOGRAM_BINS - 1, max(0, int(state.effective_importance // width)))] += 1
        if state.maturity_due != state.maturity:
            up = MATURITY_ORDER[state.maturity_due] > MATURITY_ORDER.get(state.maturity, -1)
            due["promote" if up else "demote"] += 1
        elif state.archive_due:
            due["archive"] += 1

    def usage(path: str, title: str, state: Vitals) -> Usage:
        return Usage(
            path, title, state.hits, state.last_access, state.days_untouched, state.effective_importance, state.maturity
        )

    most = sorted((row for row in rows if row[2].hits), key=lambda row: (-row[2].hits, row[0]))[:USAGE_LIST]
    # Least used: fewest uses, then longest untouched.
    least = sorted(rows, key=lambda row: (row[2].hits, -row[2].days_untouched, row[0]))[:USAGE_LIST]
    return Stats(
        now=moment,
        prefix=prefix or "",
        entries=len(rows),
        archived=archived,
        hits=sum(state.hits for _, _, state in rows),
        domains=domains,
        maturity=tuple(Count(name, maturity[name]) for name in MATURITIES),
        ages=tuple(Count(label, ages[label]) for label, _ in AGE_BUCKETS),
        importance=tuple(
            Bin(index * 100 / HISTOGRAM_BINS, (index + 1) * 100 / HISTOGRAM_BINS, count)
            for index, count in enumerate(bins)
        ),
        most_used=tuple(usage(*row) for row in most),
        least_used=tuple(usage(*row) for row in least),
        due=tuple(Count(action, due[action]) for action in ("promote", "demote", "archive")),
        problems=listing.problems,
    )
