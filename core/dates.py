"""Dates in a recall question and in entries: what time a question asks about, and when an
entry was written or what dates it speaks of (docs/recall.md, "Dates in the question").

- `read_query(query, today)` finds the date expressions of a question - absolute ("in
  October 2023", "7 Jan 2024", "on 8 May, 2023", "in 2022", "summer 2021", "Q3 2024",
  "mid-2024"), relative to `today` ("yesterday", "last week", "last quarter", "two weeks
  ago", "in the past 3 days"), anchored ("the week before August 3, 2023", "since last
  week", "after June") - and the words that ask for the newest
  ("latest", "most recent", "recently"). It returns the days they cover, whether the newest
  is wanted, and the question without those words (so "October" and "2023" are not content
  words an entry must contain when the entry's date is only in its frontmatter).
- `dates_in_text(body)` finds the full dates written in a text ("8 May, 2023", "May 8 2023",
  "2023-05-08", and "May 2023" as the whole month): an imported conversation says when each
  turn was said, a note when something happened.

Written here rather than taken from a library: `dateparser` imports in 85-110 ms and its
`search_dates` takes 1.2 s on its first call and reads "did" and "do" as dates;
`dateutil.parser` imports in 15-29 ms and parses one date string, not the expressions inside
a question, nor "last week". Recall's start-up must stay light (tests/test_imports.py); this
module is regular expressions from the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .entry import Entry

_MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
FULL_MONTHS = tuple(name for name in _MONTHS if len(name) > 4 or name in ("may", "june", "july"))
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_FULL_MONTH = r"(?P<month>" + "|".join(sorted(FULL_MONTHS, key=len, reverse=True)) + r")"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "couple of": 2,
    "a couple of": 2,
    "three": 3,
    "few": 3,
    "a few": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_COUNT = r"(?P<count>\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>hour|day|week|month|year)s?"
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A part of a period: "early 2023", "the end of May 2023", "the first half of September 2022".
_PART_WORDS = (
    r"(?P<part>early|mid|late|(?:the\s+)?(?:beginning|start|middle|end|first\s+half|second\s+half"
    r"|(?:first|second|third|fourth|last)\s+week)\s+of)"
)
_WEEK_NUMBERS = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_HOLIDAYS = {  # looked up without apostrophes and with single spaces: "new year's eve" -> new years eve
    "christmas eve": (12, 24),
    "christmas": (12, 25),
    "christmas day": (12, 25),
    "new years eve": (12, 31),
    "new years": (1, 1),
    "new years day": (1, 1),
    "halloween": (10, 31),
}
_PART = rf"(?:{_PART_WORDS}(?:\s+|-))?"  # "mid-2024" too
_QUARTERS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": 4}

# Absolute dates, most specific first. A month name alone is a date only when it cannot be an
# ordinary word: next to a day or a year, or a full name after "in"/"during" ("in June").
_ABSOLUTE = (
    ("day", r"\b(?P<year>(?:19|20)\d\d)(?P<sep>[-/.])(?P<month>[01]?\d)(?P=sep)(?P<day>[0-3]?\d)\b"),
    # "1 to 15 June 2024", "June 1-15, 2024": the days between, both included
    (
        "days",
        rf"\b(?P<day1>[0-3]?\d)(?:st|nd|rd|th)?\s*(?:-|\u2013|to|and|until|through)\s*{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b",
    ),
    (
        "days",
        rf"\b{_MONTH}\s+(?P<day1>[0-3]?\d)(?:st|nd|rd|th)?\s*(?:-|\u2013|to|and|until|through)\s*{_DAY},?\s+{_YEAR}\b",
    ),
    ("day", rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b"),
    # 25/12/2023 or 12/25/2023: only when one of the two numbers cannot be a month
    ("numeric day", r"\b(?P<one>[0-3]?\d)(?P<sep>[/.])(?P<two>[0-3]?\d)(?P=sep)(?P<year>(?:19|20)\d\d)\b"),
    ("day", rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"),
    ("month", rf"\b{_PART}{_MONTH},?\s+(?:of\s+)?{_YEAR}\b"),
    ("month", rf"\b{_PART}{_YEAR}-(?P<month>0[1-9]|1[0-2])\b(?!-\d)"),  # ISO 8601's 2024-03
    ("quarter", rf"\bQ(?P<quarter>[1-4])[\s-]+{_YEAR}\b"),
    ("quarter", rf"\b{_YEAR}[\s-]+Q(?P<quarter>[1-4])\b"),
    ("quarter", rf"\b(?:the\s+)?(?P<ordinal>{'|'.join(_QUARTERS)})\s+quarter\s+(?:of\s+)?{_YEAR}\b"),
    ("half", rf"\bH(?P<half>[12])[\s-]+{_YEAR}\b"),  # "H1 2026"
    ("season", rf"\b{_PART}(?P<season>spring|summer|autumn|fall|winter)\s+(?:of\s+)?{_YEAR}\b"),
    ("yearly day", rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?!\w|,?\s*\d)"),
    ("yearly day", rf"\b{_MONTH}\s+{_DAY}\b(?!,?\s*\d)"),
    ("yearly month", rf"\b(?:in|during|since|until|before|after|between|from)\s+{_PART}{_MONTH}(?!\w)"),
    ("yearly month", rf"\b{_PART_WORDS}(?:\s+|-){_FULL_MONTH}\b"),  # "the end of October", "early June"
    # A quarter or a season without a year: "Q2", "during the summer" (a season after a preposition).
    ("yearly quarter", r"\b(?P<body>Q(?P<quarter>[1-4]))\b"),  # "Q3 planning" (with a year: above)
    (
        "yearly season",
        rf"\b(?:in|during|since|until|before|after|over)\s+"
        rf"(?P<body>(?:the\s+)?{_PART}(?P<season>spring|summer|autumn|fall|winter))\b",
    ),
    # Days named for what happens on them, the same every year.
    (
        "holiday",
        rf"\b(?P<holiday>christmas\s+eve|christmas(?:\s+day)?|new\s+year(?:'|\u2019)?s\s+eve|new\s+year(?:'|\u2019)?s(?:\s+day)?|halloween)(?:\s+(?:of\s+)?{_YEAR})?\b",
    ),
    ("years", rf"\b(?:between|from)\s+(?P<year1>(?:19|20)\d\d)\s+(?:and|to|until|through|-)\s+{_YEAR}\b"),
    # The part first: in "the first half of 2026" the "of 2026" of the next one is a year too.
    ("year", rf"\b{_PART_WORDS}(?:\s+|-){_YEAR}\b"),  # "mid-2024", "early 2023": the part makes it a year
    ("year", rf"\b(?:(?:in|during|since|until|before|after|of|from|year)\s+){_PART}{_YEAR}\b"),
)
# Where an expression that may begin with a preposition starts, for the words before it
# ("since" in "since in Q2" is not there, but "since Q2" is read as "since" + "Q2").
_MAIN_GROUP = {"yearly month": "month", "yearly quarter": "body", "yearly season": "body", "year": "year"}
# "on the 27th": a day of this month (or of the last month that has it), when nothing but
# punctuation or a joining word follows ("on the 3rd attempt" is no date).
_DAY_OF_MONTH = (
    r"\b(?:on|since|before|after|until|by)\s+(?P<the>the\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th))\b"
    r"(?=\s*(?:[?.!,;:)]|$)|\s+(?:and|or|to|until|through)\b)"
)
# "on Friday", "since Monday": a weekday after a preposition, without an article ("on a Friday",
# "on Fridays" are rules). "Since", "before", "after", "until" and "by" look back; "on" is a
# past day only in a question in the past tense ("what broke on Friday", not "do we deploy
# on Friday").
_WEEKDAY = (
    r"\b(?P<dir>on|since|before|after|until|by)\s+(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"\b(?!'|\u2019)"
)
_PAST_AUXILIARIES = frozenset("did was were had".split())
_PRESENT_AUXILIARIES = frozenset("do does can is are should must will shall may am s".split())
_IRREGULAR_PAST = frozenset(
    """
    broke went came made said took saw wrote ran began found got left told thought gave sent
    built paid lost met spent brought bought caught fell felt forgot knew led meant sold stood
    understood won wore
    """.split()
)
# In a text (an entry's body) only full dates count: a bare "2049" may be a port.
IN_TEXT = 7

_RELATIVE = (
    r"\b(?:"
    r"(?P<today>today|tonight|this\s+morning|this\s+afternoon|this\s+evening)"
    r"|(?P<yesterday>(?:the\s+day\s+before\s+)?yesterday|last\s+night)"
    r"|(?P<weekend>over\s+the\s+weekend)"
    r"|(?P<otherday>the\s+other\s+day)"
    r"|(?<=of\s)the\s+(?P<current>week|month|quarter|year)"  # "the end of the month": this one
    r"|(?P<within>(?:in|within|over|during)\s+the\s+)?"
    r"(?P<this>this|last|past|previous)\s+(?P<period>week(?:end)?|month|quarter|year|spring|summer|autumn|fall|winter"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    rf"|(?:(?:in|within|over|during)\s+)?(?:the\s+)?(?:last|past)\s+(?:{_COUNT}\s+)?{_UNIT}"
    rf"|{_COUNT.replace('count', 'ago_count')}\s+{_UNIT.replace('unit', 'ago_unit')}\s+ago"
    r")\b"
)
# "two weeks before August 11, 2023", "the week before ...", "a day after ...": a shift of an
# absolute date found right after it.
_SHIFT = (
    rf"\b(?:(?:the|a|an|last)\s+(?P<unit1>day|week|weekend|month|year)|{_COUNT}\s+{_UNIT})\s+(?P<dir>before|after)\s+$"
)
_OPEN = r"\b(?P<dir>before|until|till|by|after|since)\s+(?:the\s+)?$"
_LATEST = (
    r"\b(?:(?:the\s+)?(?:most\s+recent(?:ly)?|latest|newest|last\s+time)|recent(?:ly)?|lately|nowadays|these\s+days)\b"
)
# A question is read for dates only when it has a digit or one of these words: compiling the
# expressions above costs a few milliseconds, which a question without a date never pays.
_TRIGGER_WORDS = (
    "today tonight yesterday this last past previous ago recent recently latest newest lately nowadays weekend"
    " christmas year halloween month week other"
)
_TRIGGERS = frozenset((*_MONTHS, *_SEASONS, *WEEKDAYS, *_TRIGGER_WORDS.split()))
_WORDS = re.compile(r"[a-z]+|\d")


class _Grammar(NamedTuple):
    absolute: tuple[tuple[str, re.Pattern[str]], ...]
    day_of_month: re.Pattern[str]
    weekday: re.Pattern[str]
    relative: re.Pattern[str]
    shift: re.Pattern[str]
    open_end: re.Pattern[str]
    latest: re.Pattern[str]


@lru_cache(maxsize=1)
def _grammar() -> _Grammar:
    flags = re.IGNORECASE
    return _Grammar(
        tuple((kind, re.compile(pattern, flags)) for kind, pattern in _ABSOLUTE),
        re.compile(_DAY_OF_MONTH, flags),
        re.compile(_WEEKDAY, flags),
        re.compile(_RELATIVE, flags),
        re.compile(_SHIFT, flags),
        re.compile(_OPEN, flags),
        re.compile(_LATEST, flags),
    )


def _may_have_dates(text: str) -> bool:
    return any(word.isdigit() or word in _TRIGGERS for word in _WORDS.findall(text.lower()))


@dataclass(frozen=True)
class Span:
    """Consecutive days, both ends included. `yearly`: the same days of any year (the year
    of `first` and `last` is then meaningless): "in June", "on 8 May"."""

    first: date
    last: date
    yearly: bool = False

    def overlaps(self, other: Span) -> bool:
        if self.yearly or other.yearly:
            return _yearly_overlap(self, other)
        return self.first <= other.last and other.first <= self.last

    def __str__(self) -> str:
        if self.yearly:
            return f"{self.first:%m-%d} to {self.last:%m-%d} of any year"
        return str(self.first) if self.first == self.last else f"{self.first} to {self.last}"


@dataclass(frozen=True)
class DateQuery:
    """What a question says about time."""

    spans: tuple[Span, ...]  # the days it restricts to (any of them); empty when it does not
    latest: bool  # it asks for the newest ("latest", "most recent", "recently")
    expressions: tuple[str, ...]  # the date expressions as written
    rest: str  # the question without them
    words_rest: str = ""  # the question without only its words asking for the newest

    def matches(self, spans: list[Span]) -> bool:
        """Whether an entry with these dates is in the time the question asks about."""
        return any(asked.overlaps(span) for asked in self.spans for span in spans)

    def without_spans(self) -> DateQuery | None:
        """The question as if it had only its words asking for the newest, if any: the rest
        of its date expressions are words again."""
        if not self.latest:
            return None
        newest = tuple(expression for expression in self.expressions if _grammar().latest.fullmatch(expression))
        return DateQuery((), True, newest, self.words_rest, self.words_rest)

    def describe(self) -> str:
        parts = [str(span) for span in self.spans]
        if self.latest:
            parts.append("the newest")
        return ", ".join(parts)


def read_query(query: str, today: date) -> DateQuery | None:
    """The date expressions of a question, or None when it has none."""
    if not _may_have_dates(query):
        return None
    grammar = _grammar()
    dated: list[tuple[int, int, Span]] = []  # (start, end, days) of each expression with days
    text = query
    for kind, pattern in grammar.absolute:
        for match in pattern.finditer(text):
            readings = _readings(kind, match)
            if not readings:
                continue
            first = match.start()
            if kind in _MAIN_GROUP:
                part = match.groupdict().get("part")
                main = _MAIN_GROUP[kind]
                first = match.start("part") if part and main != "body" else match.start(main)
            start = first
            for reading in readings:
                anchored, start = _anchored(text, first, reading, today)
                dated.append((start, match.end(), anchored))
            text = _blank(text, start, match.end())
    for match in grammar.day_of_month.finditer(text):
        span = _day_of_month(int(match.group("day")), today)
        if span is not None:
            span, start = _anchored(text, match.start("the"), span, today)
            dated.append((start, match.end(), span))
            text = _blank(text, start, match.end())
    past = _past_tense(query)
    for match in grammar.weekday.finditer(text):
        on = match.group("dir").lower() == "on"
        if on and not past:
            continue
        back = (today.weekday() - WEEKDAYS.index(match.group("weekday").lower())) % 7 or 7
        span, start = _anchored(text, match.start("weekday"), day_span(today - timedelta(days=back)), today)
        start = match.start() if on else start  # "on" is no open end: the whole "on Friday" is read
        dated.append((start, match.end(), span))
        text = _blank(text, start, match.end())
    for match in grammar.relative.finditer(text):
        span = _relative(match, today)
        if span is not None:
            start = match.start()
            part = re.search(rf"{_PART_WORDS}\s+$", text[:start], re.IGNORECASE)
            period = match.group("period") or match.group("current")
            if part is not None and period and period.lower() not in WEEKDAYS:
                span, start = _part(span, part.group("part")), part.start()  # "the end of last month"
            span, start = _anchored(text, start, span, today)  # "since last week"
            dated.append((start, match.end(), span))
            text = _blank(text, start, match.end())
    dated = _joined(query, dated)
    for start, end, _ in dated:
        text = _blank(text, start, end)
    spans = [span for _, _, span in dated]
    found = [(start, end) for start, end, _ in dated]
    latest = False
    words = query
    for match in grammar.latest.finditer(text):
        latest = True
        found.append(match.span())
        text = _blank(text, *match.span())
        words = _blank(words, *match.span())
    if not found:
        return None
    found.sort()
    expressions = tuple(query[start:end].strip() for start, end in found)
    return DateQuery(tuple(spans), latest, expressions, " ".join(text.split()), " ".join(words.split()))


def _joined(query: str, dated: list[tuple[int, int, Span]]) -> list[tuple[int, int, Span]]:
    """ "between A and B", "from A to B", "A to B", "A - B": one span from A to B (a day or
    month written without its year takes the other end's: "between August 11 and August 15,
    2023"). "A and B" alone is two dates."""
    dated = sorted(dated, key=lambda item: item[0])
    joined: list[tuple[int, int, Span]] = []
    at = 0
    while at < len(dated):
        start, end, first = dated[at]
        if at + 1 < len(dated):
            next_start, next_end, last = dated[at + 1]
            link = _RANGE_LINK.fullmatch(query[end:next_start])
            before = max(0, start - _LOOK_BACK)  # a long body: the words just before, not all of it
            opening = re.search(r"\b(between|from)\s+$", query[before:start], re.IGNORECASE)
            between = opening is not None and opening.group(1).lower() == "between"
            if link and between == (link.group(1).lower() == "and") and not _MOVED.search(query[before:start]):
                first, last = _same_year(first, last), _same_year(last, first)
                if not first.yearly and not last.yearly and first.first <= last.last:
                    joined.append(
                        (before + opening.start() if opening else start, next_end, Span(first.first, last.last))
                    )
                    at += 2
                    continue
        joined.append(dated[at])
        at += 1
    return joined


_LOOK_BACK = 80  # characters before a date where "from", "between" or "moved ... from" is read
# What joins two dates into a range: "to", "until", "through", a dash (with "between": "and").
_RANGE_LINK = re.compile(r"\s*(and|to|until|till|through|thru|-|\u2013|\u2014)\s*", re.IGNORECASE)
# "moved the review from A to B" names two days, not the days between them: a verb of moving
# a date, a few words before "from".
_MOVED = re.compile(
    r"\b(?:moved?|moving|postponed?|rescheduled?|pushed|delayed|shifted|bumped|brought\s+forward)"
    r"\b(?:\s+\S+){0,4}\s+from\s+$",
    re.IGNORECASE,
)


def _same_year(span: Span, other: Span) -> Span:
    """A span of any year placed in the year of `other`, when `other` has one."""
    if not span.yearly or other.yearly:
        return span
    try:
        return Span(span.first.replace(year=other.first.year), span.last.replace(year=other.last.year))
    except ValueError:  # 29 February
        return span


def dates_in_text(text: str) -> list[Span]:
    """The full dates written in a text (days, and months with their year), a range written
    from one to another as one span ("no deploys from 2026-12-14 to 2027-01-04": a question
    about December 20 is about it)."""
    if not any(character.isdigit() for character in text):
        return []
    dated: list[tuple[int, int, Span]] = []
    written = text
    for kind, pattern in _grammar().absolute[:IN_TEXT]:
        for match in pattern.finditer(text):
            span = _absolute(kind, match)
            if span is not None:
                dated.append((match.start(), match.end(), span))
                text = _blank(text, *match.span())
    return [span for _, _, span in _joined(written, dated)]


def day_span(day: date) -> Span:
    return Span(day, day)


# At most this many dates of one body are kept: a long log has a date on every line, and
# recall needs to know which times it speaks of, not every line.
MAX_BODY_DATES = 64


def entry_days(entry: Entry) -> list[tuple[int, int, bool]]:
    """What the index stores of an entry's dates: (first, last, written) day ordinals, for
    the days it was created and updated (written) and the dates its body speaks of."""
    days: dict[tuple[int, int], bool] = {}
    for moment in (entry.created, entry.updated):
        if moment is not None:
            day = local_day(moment).toordinal()
            days[(day, day)] = True
    for span in dates_in_text(entry.body)[:MAX_BODY_DATES]:
        days.setdefault((span.first.toordinal(), span.last.toordinal()), False)
    return [(first, last, written) for (first, last), written in days.items()]


def local_day(moment: datetime) -> date:
    """The calendar day of a moment where mem runs (what "today" and "yesterday" mean to
    the person asking)."""
    return moment.astimezone().date() if moment.tzinfo else moment.date()


# How a question's dates change the ranking (docs/recall.md, "Dates in the question").
# An entry outside the time a question restricts to keeps this share of its relevance: the
# entries of that time come first, the others after them in their own order.
OUTSIDE = 0.2
# Asked for the newest: among the entries that match the words, the newest gains up to this
# share of its relevance, the oldest nothing (a reordering of comparable matches).
NEWEST_GAIN = 0.3


class Reranking(NamedTuple):
    """What a question's dates do to one tier's candidates."""

    factors: dict[int, float]  # doc id -> what its relevance is multiplied by
    competing: frozenset[int]  # the candidates the confidence gate compares: those of the asked time
    unmet: str  # why the tier cannot be confident because of the dates, or ""


def rerank(
    when: DateQuery, days: dict[int, list[tuple[int, int, bool]]], matches: dict[int, float], minimum: float
) -> Reranking:
    """How a question's dates reorder the candidates of a tier.

    A date is evidence about *when*, not *what*: it never changes how well an entry matches
    the question's words (its coverage, what the gates look at), only the order, and it
    never makes an entry a candidate that does not contain a word of the question.
    - A question that restricts time ("in October 2023", "last week") puts the candidates
      dated in that time first (the others keep OUTSIDE of their relevance, so they follow
      in their own order). A tier is confident only if its best match is one of them, and
      then by its lead over the others of that time: the question ruled out the rest.
    - A question that asks for the newest ("latest", "recently") lifts newer matches over
      older ones among the candidates that match its words (coverage >= the tier's
      minimum), by up to NEWEST_GAIN: by the date the body speaks of when it has one, else
      by when the entry was last written.
    """
    factors = dict.fromkeys(matches, 1.0)
    unmet = ""
    competing = frozenset(matches)
    pool = [doc_id for doc_id, match in matches.items() if match >= minimum]
    if when.spans:
        inside = {doc_id for doc_id in matches if when.matches(_spans(days.get(doc_id, [])))}
        for doc_id in matches.keys() - inside:
            factors[doc_id] = OUTSIDE
        if max((matches[doc_id] for doc_id in inside), default=-1.0) < max(matches.values()):
            unmet = f"the best match is not dated {when.describe()}"
        else:
            competing = frozenset(inside)
        pool = [doc_id for doc_id in pool if doc_id in inside]
    if when.latest:
        newest = {doc_id: _newest(days.get(doc_id, [])) for doc_id in pool}
        known = [day for day in newest.values() if day is not None]
        if known and max(known) > min(known):
            low, high = min(known), max(known)
            for doc_id, day in newest.items():
                if day is not None:
                    factors[doc_id] *= 1 + NEWEST_GAIN * (day - low) / (high - low)
    return Reranking(factors, competing, unmet)


def _spans(rows: list[tuple[int, int, bool]]) -> list[Span]:
    return [Span(date.fromordinal(first), date.fromordinal(last)) for first, last, _ in rows]


def _newest(rows: list[tuple[int, int, bool]]) -> int | None:
    """The day an entry is about: the latest date its body speaks of, else when it was written."""
    spoken = [last for _, last, written in rows if not written]
    written = [last for _, last, is_written in rows if is_written]
    return max(spoken or written) if spoken or written else None


# --- helpers -----------------------------------------------------------------------------


def _blank(text: str, start: int, end: int) -> str:
    """The text with a found expression replaced by spaces (positions stay the same)."""
    return text[:start] + " " * (end - start) + text[end:]


def _readings(kind: str, match: re.Match[str]) -> list[Span]:
    """The days an expression of a question can mean: one, or none, or for a numeric date two."""
    if kind == "numeric day":
        return _numeric_days(match)
    span = _absolute(kind, match)
    return [span] if span is not None else []


def _numeric_days(match: re.Match[str]) -> list[Span]:
    """The days a numeric date can be: one for `25/12/2023` or `12/25/2023` (25 is no month),
    two for `7/1/2024` (1 July in the US, 7 January in most of the world), none for
    `31/31/2024`. A question reads every one (the one who asks may write either order); a
    body only a date with one reading (_absolute): an entry is not dated on a day its
    writer may not have meant."""
    one, two, year = int(match.group("one")), int(match.group("two")), int(match.group("year"))
    days = []
    for month_number, day_number in dict.fromkeys(((one, two), (two, one))):
        try:
            days.append(day_span(date(year, month_number, day_number)))
        except ValueError:  # month 25, 31 February
            continue
    return days


def _absolute(kind: str, match: re.Match[str]) -> Span | None:
    groups = match.groupdict()
    try:
        if kind == "numeric day":
            days = _numeric_days(match)
            return days[0] if len(days) == 1 else None
        if kind == "holiday":
            name = re.sub(r"['\u2019]", "", groups["holiday"].lower())
            month_number, day_number = _HOLIDAYS[" ".join(name.split())]
            found = date(int(groups["year"]) if groups.get("year") else 2000, month_number, day_number)
            return Span(found, found, yearly=not groups.get("year"))
        if kind == "years":
            first_year, last_year = int(groups["year1"]), int(groups["year"])
            return Span(date(first_year, 1, 1), date(last_year, 12, 31)) if first_year <= last_year else None
        if kind == "days":
            month, year = _month_number(groups["month"]), int(groups["year"])
            start, end = date(year, month, int(groups["day1"])), date(year, month, int(groups["day"]))
            return Span(start, end) if start <= end else None
        if kind == "day":
            month = _month_number(groups["month"])
            day = date(int(groups["year"]), month, int(groups["day"]))
            return Span(day, day)
        is_word = kind.startswith("yearly") and groups.get("month") in ("may", "march", "mar")
        if is_word and _may_be_a_word(kind, match):
            return None
        if kind == "yearly day":
            day = date(2000, _month_number(groups["month"]), int(groups["day"]))  # 2000: a leap year
            return Span(day, day, yearly=True)
        if kind == "month":
            return _part(_month(int(groups["year"]), _month_number(groups["month"])), groups.get("part"))
        if kind == "yearly month":
            whole = _part(_month(2000, _month_number(groups["month"])), groups.get("part"))
            return Span(whole.first, whole.last, yearly=True)
        if kind == "season":
            year = int(groups["year"])
            first, last = _SEASONS[groups["season"].lower()]
            end_year = year + 1 if last < first else year
            season = Span(_month(year, first).first, _month(end_year, last).last)
            return _part(season, groups.get("part"))
        if kind == "year":
            year = int(groups["year"])
            return _part(Span(date(year, 1, 1), date(year, 12, 31)), groups.get("part"))
        if kind == "quarter":
            quarter = int(groups["quarter"]) if groups.get("quarter") else _QUARTERS[groups["ordinal"].lower()]
            return _quarter(int(groups["year"]), quarter)
        if kind == "half":
            year = int(groups["year"])
            return (
                Span(date(year, 1, 1), date(year, 6, 30))
                if groups["half"] == "1"
                else Span(date(year, 7, 1), date(year, 12, 31))
            )
        if kind == "yearly quarter":
            whole = _quarter(2000, int(groups["quarter"]))
            return Span(whole.first, whole.last, yearly=True)
        if kind == "yearly season":
            first, last = _SEASONS[groups["season"].lower()]
            # 2000-2001: a winter ends in the next year (its last day comes before its first
            # in the calendar; the overlap tests wrap around the new year).
            season = Span(_month(2000, first).first, _month(2000 + (last < first), last).last)
            whole = _part(season, groups.get("part"))
            return Span(whole.first, whole.last, yearly=True)
    except ValueError:  # "31 February 2023", month 13
        return None
    return None


def _may_be_a_word(kind: str, match: re.Match[str]) -> bool:
    """Whether "may" or "march" in lower case, without a year, may be the verb: "it may 3
    times", "march 2 steps" (written as a name, it is the month). Not after a day ("on 8
    may"), before an ordinal ("march 3rd") or after a preposition ("on march 3")."""
    if kind != "yearly day":
        return True
    if match.start("day") < match.start("month"):
        return False
    ordinal = match.group(0).lower().endswith(("st", "nd", "rd", "th"))
    after_preposition = re.search(r"\b(?:on|since|by|until|before|after)\s+$", match.string[: match.start()], re.I)
    return not ordinal and after_preposition is None


def _quarter(year: int, quarter: int) -> Span:
    return Span(_month(year, 3 * quarter - 2).first, _month(year, 3 * quarter).last)


def _month_number(name: str) -> int:
    if name.isdigit():
        return int(name)
    return _MONTHS[name.lower().rstrip(".")]


def _month(year: int, month: int) -> Span:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Span(date(year, month, 1), following - timedelta(days=1))


def _part(span: Span, part: str | None) -> Span:
    """Early, mid or late in a period (its first, middle or last third), a half of it, or one
    of its weeks. A year, a season or a quarter is cut in whole months ("early 2023":
    January-April), anything else in days."""
    if not part:
        return span
    words = part.lower().split()
    if "week" in words:  # "the first week of January": its days 1-7; "the last week": its last 7
        which = words[-3]
        if which == "last":
            return Span(max(span.first, span.last - timedelta(days=6)), span.last, span.yearly)
        start = span.first + timedelta(days=7 * (_WEEK_NUMBERS[which] - 1))
        return Span(min(start, span.last), min(start + timedelta(days=6), span.last), span.yearly)
    months = _whole_months(span)
    if months >= 3:
        first, last = _part_range(words, months)
        opening, closing = _months_after(span.first, first), _months_after(span.first, last)
        return Span(_month(*opening).first, _month(*closing).last, span.yearly)
    first, last = _part_range(words, (span.last - span.first).days + 1)
    return Span(span.first + timedelta(days=first), span.first + timedelta(days=last), span.yearly)


def _part_range(words: list[str], units: int) -> tuple[int, int]:
    """The units (days or months, 0-based, both ends included) of a period of `units` that a
    part names."""
    third, half = max(1, units // 3), units // 2
    if words[0] in ("early", "beginning", "start") or "beginning" in words or "start" in words:
        return 0, third - 1
    if words[0] in ("late", "end") or "end" in words:
        return units - third, units - 1
    if "first" in words:
        return 0, half - 1
    if "second" in words:
        return half, units - 1
    return third, units - third - 1  # mid


def _whole_months(span: Span) -> int:
    """How many calendar months a span is, when it is whole months; else 0."""
    if span.first.day != 1 or (span.last + timedelta(days=1)).day != 1:
        return 0
    return (span.last.year - span.first.year) * 12 + span.last.month - span.first.month + 1


def _anchored(text: str, start: int, span: Span, today: date) -> tuple[Span, int]:
    """A shift or an open end written just before a date: "two weeks before August 11,
    2023" is the two weeks up to it, "since March 2023" and "since last week" from it to
    today. A date without a year is then the last such date: "since March" in December
    2026 is from 1 March 2026 on, not March of any year."""
    before = text[:start]
    shift = _grammar().shift.search(before)
    open_end = _grammar().open_end.search(before)
    if span.yearly and (shift is not None or open_end is not None):
        span = _last_before(span, today)
    if shift is not None and not span.yearly:
        count = _count(shift.group("count")) if shift.group("count") else 1
        unit = (shift.group("unit1") or shift.group("unit")).lower()
        days = _days(count, "week" if unit == "weekend" else unit)
        if shift.group("dir").lower() == "before":
            return Span(span.first - timedelta(days=days), span.last), shift.start()
        return Span(span.first, span.last + timedelta(days=days)), shift.start()
    if open_end is not None and not span.yearly:
        # "until", "by" and "since" include the date; "before" and "after" do not.
        word = open_end.group("dir").lower()
        if word == "before":
            return Span(date.min, max(date.min, span.first - timedelta(days=1))), open_end.start()
        if word in ("until", "till", "by"):
            return Span(date.min, span.last), open_end.start()
        first = span.last + timedelta(days=1) if word == "after" else span.first
        return Span(first, max(today, first)), open_end.start()
    return span, start


def _last_before(span: Span, today: date) -> Span:
    """Days of any year placed in the last year where they begin on or before today."""
    for year in (today.year, today.year - 1):
        try:
            first = span.first.replace(year=year)
            last = span.last.replace(year=year + (span.last < span.first))
        except ValueError:  # 29 February in a year without it
            continue
        if first <= today:
            return Span(first, last)
    return span


def _day_of_month(day: int, today: date) -> Span | None:
    """ "On the 27th": that day of this month when it has come, else of the last month with it."""
    year, month = today.year, today.month
    for _ in range(3):
        try:
            found = date(year, month, day)
        except ValueError:  # "the 31st" in a 30-day month, "the 0th"
            found = None
        if found is not None and found <= today:
            return day_span(found)
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return None


def _past_tense(query: str) -> bool:
    """Whether a question speaks of the past: "did", "was" ..., or without a present
    auxiliary ("do we deploy", "can I"), a verb in the past ("what broke", "who deployed")."""
    words = re.findall(r"[a-z]+", query.lower())
    if any(word in _PAST_AUXILIARIES for word in words):
        return True
    if any(word in _PRESENT_AUXILIARIES for word in words):
        return False
    return any(
        word in _IRREGULAR_PAST or (len(word) >= 5 and word.endswith("ed") and not word.endswith("eed"))
        for word in words
    )


def _count(word: str) -> int:
    word = " ".join(word.lower().split())
    return int(word) if word.isdigit() else _NUMBERS[word]


def _days(count: int, unit: str) -> int:
    if unit == "hour":  # a date has no hours: the days they reach back into
        return -(-count // 24)
    return count * {"day": 1, "week": 7, "month": 30, "year": 365}[unit]


def _relative(match: re.Match[str], today: date) -> Span | None:
    groups = match.groupdict()
    if groups["today"]:
        return day_span(today)
    if groups["yesterday"]:
        back = 2 if groups["yesterday"].lower().startswith("the") else 1
        return day_span(today - timedelta(days=back))
    if groups["otherday"]:  # a few days ago: the week before today
        return Span(today - timedelta(days=7), today - timedelta(days=1))
    if groups["current"]:
        return _named_period("this", groups["current"].lower(), today)
    if groups["weekend"]:  # the weekend we are in, else the last one
        return _named_period("this" if today.weekday() >= 5 else "last", "weekend", today)
    if groups["period"]:
        which = groups["this"].lower()
        if groups["within"] and which == "last" and groups["period"].lower() in ("week", "month", "year"):
            which = "past"  # "in the last week": the last seven days, as "in the last 7 days"
        return _named_period(which, groups["period"].lower(), today)
    if groups["ago_count"]:
        # "two weeks ago": around that day, give or take half the unit.
        unit = groups["ago_unit"].lower()
        count = _count(groups["ago_count"])
        days = count // 24 if unit == "hour" else _days(count, unit)  # "3 hours ago": today or yesterday
        center = today - timedelta(days=days)
        slack = timedelta(days=max(1, _days(1, unit) // 2))
        return Span(center - slack, min(today, center + slack))
    unit = groups["unit"].lower()
    count = _count(groups["count"]) if groups["count"] else 1  # "in the last hour"
    if unit in ("month", "year"):
        return _months_back(today, count * (12 if unit == "year" else 1))
    days = _days(count, unit)
    # "in the past 3 days": three days, today the last of them; hours reach back into the
    # day they began in ("within the last 48 hours" at 3 pm: from two days ago).
    return Span(today - timedelta(days=days if unit == "hour" else days - 1), today)


def _months_back(today: date, months: int) -> Span:
    """ "The past 3 months": from the day after this day that many months ago (clamped to
    the month's length) to today."""
    year, month = _months_after(today, -months)
    back = date(year, month, min(today.day, _month(year, month).last.day))
    return Span(back + timedelta(days=1), today)


def _months_after(day: date, months: int) -> tuple[int, int]:
    """(year, month) of the month `months` after the one `day` is in (before, if negative)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return year, month + 1


def _named_period(which: str, period: str, today: date) -> Span | None:
    """This week, last month, last summer, last Friday; "past" and "previous" as "last"."""
    this = which == "this"
    if period in WEEKDAYS:
        back = (today.weekday() - WEEKDAYS.index(period)) % 7 or (0 if this else 7)
        return day_span(today - timedelta(days=back))
    if period == "week":
        monday = today - timedelta(days=today.weekday())
        if this:
            return Span(monday, today)
        if which == "past":  # "the past week": the last seven days
            return Span(today - timedelta(days=6), today)
        return Span(monday - timedelta(days=7), monday - timedelta(days=1))
    if period == "weekend":
        saturday = today - timedelta(days=(today.weekday() - 5) % 7)
        if this and today.weekday() < 5:
            saturday += timedelta(days=7)  # on a weekday, "this weekend" is the coming one
        if not this and saturday + timedelta(days=1) >= today:
            saturday -= timedelta(days=7)  # during a weekend, "last weekend" is the one before
        return Span(saturday, saturday + timedelta(days=1))
    if period == "month":
        if this:
            return Span(today.replace(day=1), today)
        if which == "past":  # "the past month": from the day after this day last month
            return _months_back(today, 1)
        previous = today.replace(day=1) - timedelta(days=1)
        return _month(previous.year, previous.month)
    if period == "quarter":
        start = _quarter(today.year, (today.month - 1) // 3 + 1).first
        if this:
            return Span(start, today)
        if which == "past":  # "the past quarter": the last three months
            return _months_back(today, 3)
        previous = start - timedelta(days=1)
        return _quarter(previous.year, (previous.month - 1) // 3 + 1)
    if period == "year":
        if this:
            return Span(date(today.year, 1, 1), today)
        if which == "past":
            return _months_back(today, 12)
        return Span(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    first, last = _SEASONS[period]
    year = today.year if this else today.year - 1
    if this and _month(year, first).first > today:
        year -= 1
    end_year = year + 1 if last < first else year
    return Span(_month(year, first).first, _month(end_year, last).last)


def _yearly_overlap(one: Span, other: Span) -> bool:
    """Overlap of days of the year, when one of the spans stands for any year."""
    if not one.yearly:
        one, other = other, one
    if not other.yearly and (other.last - other.first).days >= 365:
        return True
    asked = (one.first.month, one.first.day), (one.last.month, one.last.day)

    def inside(day: tuple[int, int]) -> bool:  # a winter wraps around the new year
        if asked[0] <= asked[1]:
            return asked[0] <= day <= asked[1]
        return day >= asked[0] or day <= asked[1]

    if other.yearly:
        seen = (other.first.month, other.first.day), (other.last.month, other.last.day)
        if asked[0] <= asked[1] and seen[0] <= seen[1]:
            return asked[0] <= seen[1] and seen[0] <= asked[1]
        return inside(seen[0]) or inside(seen[1]) or asked[0] in (seen[0], seen[1])
    day = other.first
    while day <= other.last:  # at most a year of days
        if inside((day.month, day.day)):
            return True
        day += timedelta(days=1)
    return False
