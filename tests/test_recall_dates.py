"""Dates in a recall question (issue 13, "Dates and recency in the question"): absolute and
relative expressions become days, entries are dated by their frontmatter and by the dates
their bodies speak of, and the dates reorder matches without making a weak one confident."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from contextree import Memory
from contextree.core.dates import Span, dates_in_text, read_query
from contextree.core.recall import NO_MEMORY

from .conftest import CliResult
from .lifecycleutil import FakeClock

TODAY = date(2026, 3, 11)  # a Wednesday
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


def days(query: str) -> list[tuple[str, str]]:
    found = read_query(query, TODAY)
    assert found is not None, query
    return [(str(span.first), str(span.last)) for span in found.spans]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What setback did Melanie face in October 2023?", [("2023-10-01", "2023-10-31")]),
        ("deploys on 7 Jan 2024", [("2024-01-07", "2024-01-07")]),
        ("what happened on 8 May, 2023", [("2023-05-08", "2023-05-08")]),
        ("painting shown on October 13, 2023", [("2023-10-13", "2023-10-13")]),
        ("release of 2024-02-29", [("2024-02-29", "2024-02-29")]),
        ("outages in 2022", [("2022-01-01", "2022-12-31")]),
        ("trip in summer 2021", [("2021-06-01", "2021-08-31")]),
        ("the tournament in the beginning of November 2022", [("2022-11-01", "2022-11-10")]),
        ("what did we decide yesterday", [("2026-03-10", "2026-03-10")]),
        ("what did we decide today", [("2026-03-11", "2026-03-11")]),
        ("incidents last week", [("2026-03-02", "2026-03-08")]),  # the calendar week before this one
        ("incidents this week", [("2026-03-09", "2026-03-11")]),
        ("the past week", [("2026-03-05", "2026-03-11")]),
        ("last month's release", [("2026-02-01", "2026-02-28")]),
        ("last year", [("2025-01-01", "2025-12-31")]),
        ("two weeks ago", [("2026-02-22", "2026-02-28")]),  # that day, give or take half a week
        ("3 days ago", [("2026-03-07", "2026-03-09")]),
        ("in the last 10 days", [("2026-03-02", "2026-03-11")]),  # ten days, today the last
        ("last Friday", [("2026-03-06", "2026-03-06")]),
        ("last weekend", [("2026-03-07", "2026-03-08")]),
        ("the week before August 3, 2023", [("2023-07-27", "2023-08-03")]),
        ("the puppy she got two weeks before August 11, 2023", [("2023-07-28", "2023-08-11")]),
        ("changes since March 2025", [("2025-03-01", "2026-03-11")]),
        ("Where was John between August 11 and August 15, 2023?", [("2023-08-11", "2023-08-15")]),
        ("incidents from March 2024 to May 2024", [("2024-03-01", "2024-05-31")]),
        ("what broke before 2023", [("0001-01-01", "2022-12-31")]),  # "before" leaves the date out, "by" keeps it
        ("by July 10, 2022", [("0001-01-01", "2022-07-10")]),
        ("in early 2023", [("2023-01-01", "2023-04-30")]),  # a year's parts are months
        ("a few months ago", [("2025-11-26", "2025-12-26")]),
        ("in the past 3 months", [("2025-12-12", "2026-03-11")]),
        # the forms a team also types (ninth session): quarters, ISO months and slashes,
        # a part of a year without "in", hours, and open ends on every kind of date
        ("incidents in Q3 2024", [("2024-07-01", "2024-09-30")]),
        ("2024 Q1 planning", [("2024-01-01", "2024-03-31")]),
        ("the third quarter of 2025", [("2025-07-01", "2025-09-30")]),
        ("what did we ship last quarter", [("2025-10-01", "2025-12-31")]),
        ("this quarter", [("2026-01-01", "2026-03-11")]),
        ("the 2024-03 release", [("2024-03-01", "2024-03-31")]),
        ("deployed 2024/03/03", [("2024-03-03", "2024-03-03")]),
        ("what happened mid-2024", [("2024-05-01", "2024-08-31")]),
        ("late 2023 incidents", [("2023-09-01", "2023-12-31")]),
        ("what broke last night", [("2026-03-10", "2026-03-10")]),
        ("alerts within the last 48 hours", [("2026-03-09", "2026-03-11")]),
        ("the deploy 3 hours ago", [("2026-03-10", "2026-03-11")]),
        ("decisions since March", [("2026-03-01", "2026-03-11")]),  # the last March, not any year's
        ("what changed after June", [("2025-07-01", "2026-03-11")]),  # June 2026 is still ahead
        ("what changed since last week", [("2026-03-02", "2026-03-11")]),
        ("what broke after 2023", [("2024-01-01", "2026-03-11")]),
        # tenth session: a day of the month, a weekday in a question about the past, a part
        # of a relative period, halves, unyeared quarters and seasons after "since"
        ("what happened on the 27th", [("2026-02-27", "2026-02-27")]),  # the last 27th that has come
        ("what did we decide on the 31st?", [("2026-01-31", "2026-01-31")]),  # February has none
        ("changes since the 3rd", [("2026-03-03", "2026-03-11")]),
        ("what broke on Monday", [("2026-03-09", "2026-03-09")]),
        ("who deployed on Wednesday", [("2026-03-04", "2026-03-04")]),  # today is one: the one before
        ("did we ship on Tuesday", [("2026-03-10", "2026-03-10")]),
        ("incidents since Monday", [("2026-03-09", "2026-03-11")]),
        ("the notes from before Friday", [("0001-01-01", "2026-03-05")]),
        ("what happened at the end of last month", [("2026-02-20", "2026-02-28")]),
        ("the beginning of last year", [("2025-01-01", "2025-04-30")]),
        ("late last year", [("2025-09-01", "2025-12-31")]),
        ("the start of this month", [("2026-03-01", "2026-03-03")]),
        ("the first half of 2026", [("2026-01-01", "2026-06-30")]),  # the part, not "of 2026"
        ("H1 2025 goals", [("2025-01-01", "2025-06-30")]),
        ("what changed in the last week", [("2026-03-05", "2026-03-11")]),  # the last seven days
        ("what broke over the weekend", [("2026-03-07", "2026-03-08")]),
        ("this weekend", [("2026-03-14", "2026-03-15")]),  # on a weekday, the coming one
        ("everything since Q4", [("2025-10-01", "2026-03-11")]),
        ("since the summer", [("2025-06-01", "2026-03-11")]),
        # found by the held-out questions of bench/dates-heldout.yaml (tenth session)
        ("from 1 to 15 June 2024 what incidents did we have", [("2024-06-01", "2024-06-15")]),
        ("June 1-15, 2024", [("2024-06-01", "2024-06-15")]),
        ("anything from 2023 about vendor contracts?", [("2023-01-01", "2023-12-31")]),
        ("after the 3rd of May 2024 what did bob say", [("2024-05-04", "2026-03-11")]),
        ("what did we discuss since sept", [("2025-09-01", "2026-03-11")]),  # an abbreviation after a preposition
        ("notes from 25/12/2023", [("2023-12-25", "2023-12-25")]),  # 25 cannot be a month
        ("the 12/25/2023 deploy", [("2023-12-25", "2023-12-25")]),
        # both numbers may be the month: 1 July in the US, 7 January elsewhere - both days
        ("what happened on 7/1/2024", [("2024-07-01", "2024-07-01"), ("2024-01-07", "2024-01-07")]),
        ("on 5/5/2024", [("2024-05-05", "2024-05-05")]),
        ("the week before Christmas 2023", [("2023-12-18", "2023-12-25")]),
        ("between 2022 and 2023 how many times did we rotate the keys?", [("2022-01-01", "2023-12-31")]),
        ("first week of January 2025 - what was on fire?", [("2025-01-01", "2025-01-07")]),
        ("the last week of June 2024", [("2024-06-24", "2024-06-30")]),
        ("what happened in the last hour", [("2026-03-10", "2026-03-11")]),
        ("in the past year", [("2025-03-12", "2026-03-11")]),  # from the day after this day last year
        ("the other day we discussed the cache", [("2026-03-04", "2026-03-10")]),  # the week before today
        ("at the start of the year", [("2026-01-01", "2026-01-23")]),  # "the year": this one
    ],
)
def test_date_expressions_become_days(query: str, expected: list[tuple[str, str]]) -> None:
    assert days(query) == expected


def test_a_month_or_day_without_a_year_is_that_time_of_any_year() -> None:
    found = read_query("When did Melanie go camping in June?", TODAY)
    assert found is not None and found.spans[0].yearly
    assert found.matches([Span(date(2019, 6, 20), date(2019, 6, 20))])
    assert not found.matches([Span(date(2019, 7, 2), date(2019, 7, 2))])
    assert read_query("the party on 8 May", TODAY) is not None
    lower = read_query("what did we decide on 8 may about the schema", TODAY)  # day first: "may" is the month
    assert read_query("on march 3rd, what did we say about the incident?", TODAY) is not None  # an ordinal
    eve = read_query("what did we discuss on new year's eve", TODAY)
    assert eve is not None and eve.spans[0].yearly and (eve.spans[0].first.month, eve.spans[0].first.day) == (12, 31)
    assert lower is not None and lower.spans[0].yearly and lower.spans[0].first.month == 5


def test_a_quarter_or_a_season_without_a_year_is_that_time_of_any_year() -> None:
    """ "In Q2", "during the winter": like "in June", of any year (an imported conversation of
    another year has its own); a winter runs over the new year."""
    quarter = read_query("what did we ship in Q2", TODAY)
    assert quarter is not None and quarter.spans[0].yearly
    assert quarter.matches([Span(date(2019, 5, 20), date(2019, 5, 20))])
    assert not quarter.matches([Span(date(2019, 7, 2), date(2019, 7, 2))])
    assert "Q2" not in quarter.rest and "Q" not in quarter.rest.split()
    winter = read_query("what broke during the winter", TODAY)
    assert winter is not None and winter.spans[0].yearly
    assert winter.matches([Span(date(2019, 1, 10), date(2019, 1, 10))])
    assert winter.matches([Span(date(2018, 12, 24), date(2018, 12, 24))])
    assert not winter.matches([Span(date(2019, 7, 2), date(2019, 7, 2))])


def test_a_winter_finds_the_entries_of_december_and_january(root: Path) -> None:
    """The index's test of a time of any year wraps around the new year too."""
    write(root, "ops/incidents/ice", "Snow took the office offline", "The office lost power.", "2024-01-15T10:00:00Z")
    write(root, "ops/incidents/heat", "The office overheated", "The office lost power.", "2024-07-15T10:00:00Z")
    assert paths(Memory(root), "what took the office offline during the winter")[0] == "ops/incidents/ice"
    assert paths(Memory(root), "why did the office lose power in the winter")[0] == "ops/incidents/ice"
    assert paths(Memory(root), "why did the office lose power in the summer")[0] == "ops/incidents/heat"


@pytest.mark.parametrize(
    "query",
    ["latest postgres decision", "the most recent deploy", "what changed recently", "the last time we deployed"],
)
def test_words_asking_for_the_newest(query: str) -> None:
    found = read_query(query, TODAY)
    assert found is not None and found.latest and not found.spans


@pytest.mark.parametrize(
    "query",
    [
        "how do I deploy to production?",
        "What is the name of John's one-year-old child?",
        "which port, 2049 or 111?",
        "it may 3 times fail",  # "may" is a word unless written as the month's name
        "how long ago was the migration",
        "march 2 steps forward",
        "release 2024-13",  # no month 13
        "bump to version 2024.1",
        "can I deploy on a Friday?",  # a rule about Fridays, not one Friday: a bare weekday is no date
        "do we deploy on Friday",  # the present tense: a rule too
        "are releases allowed on Monday?",
        "Monday deploys are banned - why?",
        "it worked on the 3rd attempt",  # an ordinal before a noun is no day of the month
        "what happened on 0/1/2024",  # no month 0
        "how many requests per day",
        "a 30 day trial",
    ],
)
def test_no_date_where_there_is_none(query: str) -> None:
    assert read_query(query, TODAY) is None


def test_the_date_words_leave_the_question() -> None:
    found = read_query("What setback did Melanie face in October 2023?", TODAY)
    assert found is not None
    assert found.expressions == ("October 2023",)
    assert "October" not in found.rest and "2023" not in found.rest and "setback" in found.rest


def test_dates_written_in_a_body() -> None:
    body = "Caroline: I went to the support group.\n\n(session 3, 1:56 pm on 8 May, 2023)\n"
    assert dates_in_text(body) == [Span(date(2023, 5, 8), date(2023, 5, 8))]
    other = "Shipped 2023-05-08; planned for May 2023; port 2049; on June 3 2024."
    assert dates_in_text(other) == [  # in the order written
        Span(date(2023, 5, 8), date(2023, 5, 8)),
        Span(date(2023, 5, 1), date(2023, 5, 31)),
        Span(date(2024, 6, 3), date(2024, 6, 3)),
    ]
    assert dates_in_text("Code freeze from 1 to 15 June 2024.") == [Span(date(2024, 6, 1), date(2024, 6, 15))]
    # A body's 7/1/2024 dates it on no day: its writer meant one of the two, and which is unknown.
    assert dates_in_text("Migrated on 7/1/2024, cut over on 25/12/2023.") == [
        Span(date(2023, 12, 25), date(2023, 12, 25))
    ]


# --- through Memory.recall ----------------------------------------------------------------


def write(root: Path, path: str, title: str, body: str, created: str | None = None) -> None:
    """An entry file as a person or another tool writes it."""
    file = root / f"{path}.md"
    file.parent.mkdir(parents=True, exist_ok=True)
    meta = f"title: {title}\n" + (f"created: {created}\n" if created else "")
    file.write_text(f"---\n{meta}---\n{body}\n", encoding="utf-8")


@pytest.fixture
def releases(root: Path) -> Path:
    """Three releases told apart only by their frontmatter dates."""
    write(root, "ops/releases/r42", "Release 4.2 rolled back", "Release 4.2 was rolled back.", "2023-10-12T10:00:00Z")
    write(root, "ops/releases/r43", "Release 4.3 shipped", "Release 4.3 shipped the checkout.", "2024-01-07T10:00:00Z")
    write(root, "ops/releases/r44", "Release 4.4 shipped", "Release 4.4 shipped faster search.", "2024-03-02T10:00:00Z")
    return root


def paths(memory: Memory, query: str) -> list[str]:
    return [hit.path for hit in memory.recall(query, max_tier="fuzzy").results]


def test_an_absolute_date_picks_the_entry_written_then(releases: Path) -> None:
    memory = Memory(releases)
    assert paths(memory, "which release was in October 2023")[0] == "ops/releases/r42"
    assert paths(memory, "the release on 7 Jan 2024")[0] == "ops/releases/r43"
    assert paths(memory, "releases in March 2024")[0] == "ops/releases/r44"
    # the others follow, below it: a date reorders, it does not hide
    assert len(paths(memory, "the release on 7 Jan 2024")) == 3


def test_date_words_are_not_content_words_an_entry_must_contain(releases: Path) -> None:
    """An entry dated only in its frontmatter covers the question as well as without the date."""
    memory = Memory(releases)
    plain = memory.recall("release rolled back", max_tier="fuzzy").results[0]
    dated = memory.recall("release rolled back in October 2023", max_tier="fuzzy")
    assert dated.results[0].path == plain.path == "ops/releases/r42"
    assert dated.results[0].match == plain.match
    assert dated.resolved


def test_a_date_no_entry_has_leaves_the_words_as_words(releases: Path) -> None:
    """Nothing is dated 2022: "2022" is then an ordinary word the entries lack, and nothing
    is confidently the answer."""
    result = Memory(releases).recall("release rolled back in 2022", max_tier="fuzzy")
    assert not result.resolved
    assert result.results[0].match < 1.0


def test_the_best_match_outside_the_asked_time_is_not_confident(releases: Path) -> None:
    """The rolled-back release is the best match for the words, but it is not of January
    2024: it is not confidently the answer (the date reorders the other two, it does not
    bury a much better match of the words)."""
    result = Memory(releases).recall("release rolled back on 7 Jan 2024", max_tier="fuzzy", explain=True)
    assert not result.resolved
    order = [hit.path for hit in result.results]
    assert order.index("ops/releases/r43") < order.index("ops/releases/r44")
    keyword = next(trace for trace in result.explain if trace.tier == "keyword")
    assert "not dated 2024-01-07" in keyword.reason


def test_a_quarter_picks_the_entry_written_in_it(releases: Path) -> None:
    """The two shipped releases match "release shipped" equally; the quarter tells them apart."""
    memory = Memory(releases)
    assert paths(memory, "which release shipped before 2024-02")[0] == "ops/releases/r43"
    assert paths(memory, "which release was rolled back in the fourth quarter of 2023")[0] == "ops/releases/r42"
    assert paths(memory, "which release shipped after 2024-02")[0] == "ops/releases/r44"


def test_a_date_alone_never_answers_an_unrelated_question(releases: Path) -> None:
    result = Memory(releases).recall("who won the world cup in October 2023", max_tier="fuzzy")
    assert result.results == () and result.message == NO_MEMORY


def test_dates_written_in_the_body_date_an_entry(root: Path) -> None:
    """Imported conversations (LoCoMo's shape): the same words in two sessions, told apart
    by the session date at the end of each turn."""
    for session, when in ((3, "1:56 pm on 8 May, 2023"), (7, "7:37 pm on 15 April, 2022")):
        write(
            root,
            f"conv/session-{session}/turn",
            f"Turn {session}",
            f"Nate: I went to the pottery class.\n\n(session {session}, {when})",
        )
    memory = Memory(root)
    assert paths(memory, "what class did Nate go to on 8 May, 2023")[0] == "conv/session-3/turn"
    assert paths(memory, "what class did Nate go to in April 2022")[0] == "conv/session-7/turn"


def test_a_range_written_in_the_body_holds_every_day_of_it(root: Path) -> None:
    """A freeze, a maintenance window, an absence: "from A to B" is every day between, so a
    question about a day inside it - with its year or without - finds the entry."""
    assert dates_in_text("No deploys from 2026-12-14 to 2027-01-04.") == [Span(date(2026, 12, 14), date(2027, 1, 4))]
    assert dates_in_text("Offsite 3 June 2025 - 5 June 2025.") == [Span(date(2025, 6, 3), date(2025, 6, 5))]
    # Two dates named together are two days, not the days between them; so are a date moved
    # from one day to another.
    assert len(dates_in_text("We met on 2024-03-03 and 2024-03-09.")) == 2
    assert len(dates_in_text("We moved the review from 2024-03-03 to 2024-03-10.")) == 2
    assert len(dates_in_text("The launch was postponed from 1 May 2024 to 5 June 2024.")) == 2
    write(root, "policies/release/freeze", "Deploy freeze", "No production deploys from 2026-12-14 to 2027-01-04.")
    write(root, "runbooks/release/deploy", "Deploying", "Deploys go out with `make release` after review.")
    write(root, "notes/team/retro", "Retro", "Production deploys were slow; we met on 2024-03-03 and 2024-03-09.")
    memory = Memory(root)
    for query in ("can we deploy to production on December 20th", "are production deploys allowed on 2026-12-31"):
        assert paths(memory, query)[0] == "policies/release/freeze", query
    assert paths(memory, "what production deploys were on 2024-03-05") != ["notes/team/retro"]
    # A day of any year inside a month an entry names ("in March 2024" holds "March 15").
    write(root, "notes/billing/migration", "Billing migration", "We moved billing to Stripe in March 2024.")
    write(root, "notes/billing/invoices", "Invoices", "Invoices are sent on the 1st with the billing run.")
    result = Memory(root).recall("what happened to billing on March 15", max_tier="fuzzy")
    assert result.resolved and result.results[0].path == "notes/billing/migration"


def test_an_edited_body_date_is_seen_by_the_next_recall(root: Path) -> None:
    write(root, "notes/team/offsite", "Offsite", "The offsite is on 3 June 2025 in Lisbon.")
    write(root, "notes/team/kickoff", "Kickoff", "The kickoff is in Lisbon on 9 September 2025.")
    memory = Memory(root)
    assert paths(memory, "what is in Lisbon in June 2025")[0] == "notes/team/offsite"
    write(root, "notes/team/offsite", "Offsite", "The offsite is on 3 October 2025 in Lisbon.")
    write(root, "notes/team/kickoff", "Kickoff", "The kickoff is in Lisbon on 9 June 2025.")
    assert paths(memory, "what is in Lisbon in June 2025")[0] == "notes/team/kickoff"


def test_relative_dates_count_from_today(root: Path) -> None:
    """Yesterday and last week are relative to the memory's clock (today, for a live
    memory)."""
    clock = FakeClock(NOW)
    memory = Memory(root, clock=clock)
    for days_ago, name in ((1, "yesterday"), (8, "last-week"), (40, "last-month")):
        clock.at(NOW - timedelta(days=days_ago))
        memory.add(f"decisions/api/{name}", "We decided to version the public API in the URL.", title="API versioning")
    clock.at(NOW)
    assert paths(memory, "what did we decide about API versioning yesterday")[0] == "decisions/api/yesterday"
    assert paths(memory, "what did we decide about API versioning last week")[0] == "decisions/api/last-week"
    assert paths(memory, "what did we decide about API versioning last month")[0] == "decisions/api/last-month"
    assert paths(memory, "API versioning decided two weeks ago")[0] in {"decisions/api/last-week"}


def test_latest_prefers_the_newest_of_equal_matches(root: Path) -> None:
    clock = FakeClock(NOW - timedelta(days=300))
    memory = Memory(root, clock=clock)
    for name in ("first", "second", "third"):
        memory.add(
            f"ops/postgres/upgrade-{name}", "Postgres upgrade: pg_upgrade with the link mode.", title="Postgres upgrade"
        )
        clock.advance(days=100)
    for query in ("latest postgres upgrade", "the most recent postgres upgrade", "postgres upgrade recently"):
        assert paths(memory, query)[0] == "ops/postgres/upgrade-third", query


def test_latest_never_lifts_a_clearly_weaker_match(root: Path) -> None:
    clock = FakeClock(NOW - timedelta(days=400))
    memory = Memory(root, clock=clock)
    memory.add(
        "ops/postgres/upgrade", "Postgres major upgrade: pg_upgrade with the link mode.", title="Postgres upgrade"
    )
    clock.at(NOW)
    memory.add("ops/redis/upgrade", "Redis upgrade: restart the replicas first.", title="Redis upgrade")
    assert paths(memory, "latest postgres upgrade")[0] == "ops/postgres/upgrade"


def test_cli_json_carries_the_dated_answer(releases: Path, mem: Callable[..., CliResult]) -> None:
    data = mem("recall", "the release on 7 Jan 2024", "--json").data
    assert data["results"][0]["path"] == "ops/releases/r43"
    assert data["resolved"] is True


def test_cli_json_relative_to_today(root: Path, mem: Callable[..., CliResult]) -> None:
    """The CLI's "today" is the real one: an entry written yesterday is yesterday's."""
    yesterday = datetime.now(UTC).astimezone() - timedelta(days=1)
    old = yesterday - timedelta(days=90)
    write(root, "decisions/cache/ttl-new", "Cache TTL", "The cache TTL is 10 minutes.", yesterday.isoformat())
    write(root, "decisions/cache/ttl-old", "Cache TTL", "The cache TTL is 10 minutes.", old.isoformat())
    data = mem("recall", "what cache TTL did we decide yesterday", "--json").data
    assert data["results"][0]["path"] == "decisions/cache/ttl-new"


# --- a question about nothing but a time (tenth session) ------------------------------------


@pytest.fixture
def journal(root: Path) -> Memory:
    """Four entries written on different days, with nothing in common but being notes."""
    clock = FakeClock(NOW)
    memory = Memory(root, clock=clock)
    for days_ago, path, body in [
        (40, "infra/dns/ttl", "DNS records keep a TTL of 300 seconds."),
        (9, "api/errors/retry-after", "The API sends Retry-After on 429 responses."),
        (2, "web/forms/validation", "Forms validate on blur, not on every key."),
        (0, "ops/backup/restore-drill", "The restore drill runs every first Monday."),
    ]:
        clock.at(NOW - timedelta(days=days_ago))
        memory.add(path, body)
    clock.at(NOW)
    return memory


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # the newest first, whatever the words: none of them is what the question is about
        ("what's new", ["ops/backup/restore-drill", "web/forms/validation", "api/errors/retry-after", "infra/dns/ttl"]),
        ("What changed?", ["ops/backup/restore-drill", "web/forms/validation", "api/errors/retry-after"]),
        ("any updates", ["ops/backup/restore-drill", "web/forms/validation"]),
        ("what changed recently", ["ops/backup/restore-drill", "web/forms/validation"]),
        # a time: the entries of that time only, the newest first
        ("what happened last week", ["api/errors/retry-after"]),  # 2026-03-02 to 03-08
        ("what did we add this week", ["ops/backup/restore-drill", "web/forms/validation"]),
        (
            "anything new in the past 10 days",
            ["ops/backup/restore-drill", "web/forms/validation", "api/errors/retry-after"],
        ),
        ("show me the notes from January 2026", ["infra/dns/ttl"]),
        ("what broke last week", ["api/errors/retry-after"]),  # what goes wrong is news too
    ],
)
def test_a_question_about_only_a_time_lists_the_entries_of_that_time(
    journal: Memory, query: str, expected: list[str]
) -> None:
    """Before: "what's new" was confidently an entry that says "new"; "what happened last
    week" was "no memory" (no entry says "happened"); "what changed recently" was whichever
    entry says "change"."""
    result = journal.recall(query, max_tier="fuzzy", explain=True)
    found = [hit.path for hit in result.results]
    assert found[: len(expected)] == expected
    if "last week" in query or "January" in query:  # "what broke last week" was "no memory"
        assert found == expected  # a time restricts: the others are not of it
        assert result.resolved  # one entry of that time: it is the answer
    else:
        assert not result.resolved  # several: a list, not one sure answer
        assert "the newest first" in result.message
    assert all(hit.match == 1.0 for hit in result.results)
    assert "only about a time" in result.explain[-1].reason


def test_a_time_listing_stays_newest_first_and_says_each_entrys_day(root: Path, mem: Callable[..., CliResult]) -> None:
    """Importance and recency reorder near ties only: a listing's days are not near ties (a
    core note of the day before had come before a draft of the day after). Each hit
    carries the day it is listed under; a recall that is no listing carries none."""
    clock = FakeClock(NOW)
    memory = Memory(root, clock=clock)
    for days_ago, path, importance, maturity in [
        (43, "notes/a/older", 100, "core"),
        (41, "notes/a/newer", 1, "draft"),
        (40, "notes/a/newest", 1, "draft"),
        (0, "notes/a/today", 50, "draft"),
    ]:
        clock.at(NOW - timedelta(days=days_ago))
        memory.add(path, "A note of the day.", importance=importance, maturity=maturity)
    clock.at(NOW)
    result = memory.recall("what's new", max_tier="fuzzy")
    expected = ["notes/a/today", "notes/a/newest", "notes/a/newer", "notes/a/older"]
    assert [hit.path for hit in result.results] == expected
    days = [(NOW - timedelta(days=n)).date().isoformat() for n in (0, 40, 41, 43)]
    assert [hit.day for hit in result.results] == days
    assert memory.recall("note of the day", max_tier="fuzzy").results[0].day is None
    # A person sees every entry of the listing with its day, not only those "worth reading"
    # (a relevance that only says how old an entry is).
    lines = mem("recall", "what's new").stdout.splitlines()
    for path, day in zip(expected, days, strict=True):
        assert any(path in line and day in line for line in lines), path


def test_a_numeric_date_of_two_possible_orders_lists_both_days(root: Path) -> None:
    clock = FakeClock(NOW)
    memory = Memory(root, clock=clock)
    for day, path in [
        (date(2024, 1, 7), "ops/a/january"),
        (date(2024, 7, 1), "ops/a/july"),
        (date(2024, 3, 3), "ops/a/march"),
    ]:
        clock.at(datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
        memory.add(path, "Deployed the release.")
    clock.at(NOW)
    result = memory.recall("what happened on 7/1/2024", max_tier="fuzzy")
    assert [hit.path for hit in result.results] == ["ops/a/july", "ops/a/january"]


def test_a_time_question_with_a_subject_still_searches_the_words(journal: Memory) -> None:
    """A word of a subject beside the time keeps the question a search: the time reorders."""
    result = journal.recall("what changed in the forms this week", max_tier="fuzzy")
    assert result.results[0].path == "web/forms/validation"
    assert len(result.results) == 1 or result.results[1].match < 1.0


@pytest.mark.parametrize("query", ["how do I update", "new", "what is new in the forms", "how do I add a note"])
def test_activity_words_are_words_when_the_question_is_not_for_the_newest(journal: Memory, query: str) -> None:
    """Without a date, only a "what ...?" or "any ...?" question of such words asks for the newest."""
    result = journal.recall(query, max_tier="fuzzy", explain=True)
    assert all("only about a time" not in trace.reason for trace in result.explain)


def test_a_time_no_entry_is_of_says_no_memory(journal: Memory) -> None:
    assert journal.recall("what happened in 2019", max_tier="fuzzy").message == NO_MEMORY


def test_a_time_listing_keeps_to_the_scope(journal: Memory) -> None:
    result = journal.recall("what's new", scope="web", max_tier="fuzzy")
    assert [hit.path for hit in result.results] == ["web/forms/validation"]
