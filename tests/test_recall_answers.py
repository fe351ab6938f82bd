"""A question asks for a kind of answer (issue 13, docs/recall.md "Kinds of answer"): "when
...?" lifts entries that say when, "how many ...?" those with a number, and an entry whose
text is itself a question ranks lower. The index keeps each entry's kinds; only ranking
changes, never the coverage the gates use."""

from __future__ import annotations

from pathlib import Path

from contextree import Memory
from contextree.core.answers import answer_kinds, asked_kind
from contextree.core.recall import NO_MEMORY

from .test_recall_quality import memory_with

# On words alone the second entry of each pair ranks first: the question's words are in its
# title and more often in its body.
WHEN = (
    ("ops/db/orders-move", "The orders database moved to Postgres in March 2024, after the outage.", "Orders move"),
    (
        "ops/db/why-postgres",
        "We moved the orders database to Postgres because the orders database needed transactions.",
        "Why the orders database moved to Postgres",
    ),
)
HOW_MANY = (
    ("services/api/capacity", "Production runs 6 of them behind the load balancer.", "API capacity"),
    (
        "services/api/scaling",
        "API replicas scale on CPU; the replicas of the API are set in the Helm chart.",
        "API replicas and scaling",
    ),
)
ASKING = (
    # Both write the question's phrase "promote canary" (recall.py, _with_phrases): the kind of answer decides.
    (
        "deploys/canary/runbook",
        "A canary gets 5% of traffic; we promote canaries after 20 minutes.",
        "Canary promotion",
    ),
    ("deploys/canary/open-question", "Who decides when we promote a canary to all traffic?", "Promoting canaries"),
)


def ranking(memory: Memory, query: str) -> list[str]:
    return [hit.path for hit in memory.recall(query, max_tier="fuzzy").results]


def without_kinds(memory: Memory) -> Memory:
    (memory.root / "config.yaml").write_text("recall:\n  answer_gain: 0\n  question_penalty: 0\n")
    return Memory(memory.root)


def test_a_question_says_what_kind_of_answer_it_wants() -> None:
    for query in ("When did we move to Postgres?", "what year did Ana join", "How long ago was the outage?"):
        assert asked_kind(query) == "time", query
    for query in ("how many replicas run?", "How long does a canary run", "how often do we rotate keys", "how old"):
        assert asked_kind(query) == "quantity", query
    assert asked_kind("When Jon lost his job as a banker?") == "time"
    assert asked_kind("when's the on-call handoff") == "time"
    # "when" as a conjunction asks for no time.
    for query in ("what do we do when the deploy fails?", "When the canary fails, who is paged?"):
        assert asked_kind(query) is None, query
    for query in ("which database do we use?", "why Postgres", "deploy process"):
        assert asked_kind(query) is None, query


def test_an_entry_holds_the_kinds_its_own_text_says() -> None:
    assert answer_kinds("We moved to Postgres on 7 Jan 2024.") == "time,quantity"
    assert answer_kinds("I went hiking last week.") == "time"
    assert answer_kinds("We ship on Fridays... on Friday, that is.") == "time"
    # A count of time units says when as well as how much: "after 5 minutes", "three years".
    assert answer_kinds("Been doing it for three years!") == "time,quantity"
    assert answer_kinds("Page the secondary after 5 minutes.") == "time,quantity"
    assert answer_kinds("It costs 2.5% of revenue.") == "quantity"
    assert answer_kinds("How long have you been married?") == "asks"
    # A note in brackets at the end describes the text; it is not what the text says.
    turn = "Caroline: How about you? [image: a photo of 2 dogs]\n\n(session 3, 1:56 pm on 8 May, 2023)\n"
    assert answer_kinds(turn) == "asks"
    # A time of day or a year says when and is no quantity; "may" is a verb; a number inside a
    # word is part of a name; a heading's question is answered below it.
    assert answer_kinds("The job starts at 9am, 9 AM or 10:30 pm") == "time"
    assert answer_kinds("We moved in 2019.") == "time"
    assert answer_kinds("It may fail on ec2 with v2 of the API, the 1st call.") == ""
    assert answer_kinds("Read all 19 amazing tips.") == "quantity"
    assert answer_kinds("# Why Postgres?\n\nWe needed transactions.") == ""
    assert answer_kinds("") == ""


def test_when_ranks_first_the_entry_that_says_when(tmp_path: Path) -> None:
    memory = memory_with(tmp_path, *WHEN)
    query = "when did the orders database move to Postgres?"
    assert ranking(memory, query)[0] == "ops/db/orders-move"
    assert ranking(without_kinds(memory), query)[0] == "ops/db/why-postgres"
    assert ranking(memory, "why did the orders database move to Postgres?")[0] == "ops/db/why-postgres"


def test_how_many_ranks_first_the_entry_with_a_number(tmp_path: Path) -> None:
    memory = memory_with(tmp_path, *HOW_MANY)
    query = "how many API replicas does production run?"
    assert ranking(memory, query)[0] == "services/api/capacity"
    assert ranking(without_kinds(memory), query)[0] == "services/api/scaling"


def test_an_entry_that_asks_ranks_below_one_that_tells(tmp_path: Path) -> None:
    memory = memory_with(tmp_path, *ASKING)
    query = "promote a canary"
    assert ranking(memory, query)[0] == "deploys/canary/runbook"
    assert ranking(without_kinds(memory), query)[0] == "deploys/canary/open-question"


def test_kinds_change_ranking_only(tmp_path: Path) -> None:
    memory = memory_with(tmp_path, *WHEN, *HOW_MANY, *ASKING)
    plain = without_kinds(memory)
    for query in (
        "when did the orders database move to Postgres?",
        "how many API replicas does production run?",
        "promote a canary",
    ):
        kinds, words = memory.recall(query, max_tier="fuzzy"), plain.recall(query, max_tier="fuzzy")
        assert {hit.path: hit.match for hit in kinds.results} == {hit.path: hit.match for hit in words.results}
        assert words.resolved or not kinds.resolved  # less sure at most, never more
    # An out-of-domain question of a kind stays out of domain.
    assert memory.recall("When did the Roman empire fall?", max_tier="fuzzy").message == NO_MEMORY
    assert memory.recall("How many moons does Jupiter have?", max_tier="fuzzy").message == NO_MEMORY
