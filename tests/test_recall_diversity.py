"""A list-like question's answers spread over folders (issue 13, "Diversity"): one folder
where the question's words cluster does not take every place while another folder has a
match of comparable coverage, and a clearly weaker match is never moved up."""

from __future__ import annotations

from pathlib import Path

import pytest
from contextree import Memory
from contextree.core.diversity import is_list_question, spread_over_folders

# One evening's notes on Ana's food (five entries, one folder), and two other occasions in
# other folders: the question asks for all of them.
DINNER = [
    ("people/ana-dinner/starter", "Ana likes the miso soup; she had a second bowl.", "Ana and the miso soup"),
    ("people/ana-dinner/main", "Ana likes grilled salmon with rice.", "Ana's main course"),
    ("people/ana-dinner/dessert", "Ana likes green tea ice cream.", "Ana's dessert"),
    ("people/ana-dinner/drinks", "Ana likes cold sake with dinner.", "Ana's drinks"),
    ("people/ana-dinner/side", "Ana likes pickled ginger on the side.", "Ana's side dish"),
]
PICNIC = ("people/ana-picnic/sandwiches", "Ana likes cucumber sandwiches.", "Ana at the picnic")
OFFSITE = ("people/ana-offsite/tacos", "At the offsite Ana likes the fish tacos most.", "Ana at the offsite")
WEAK = ("people/ravi-lunch/curry", "Ravi likes a spicy curry.", "Ravi's lunch")


@pytest.fixture
def memory(tmp_path: Path) -> Memory:
    root = tmp_path / "memory"
    Memory.init(root)
    memory = Memory(root)
    for path, body, title in [*DINNER, PICNIC, OFFSITE, WEAK]:
        memory.add(path, body, title=title)
    return memory


def folders(paths: list[str]) -> list[str]:
    return [path.rsplit("/", 1)[0] for path in paths]


def test_a_list_question_gets_answers_from_other_folders_in_its_first_places(memory: Memory) -> None:
    plain = memory.recall("what does Ana like", k=5, max_tier="keyword")  # not list-like: ranked as is
    assert not is_list_question(plain.query)
    assert folders([hit.path for hit in plain.results]) == ["people/ana-dinner"] * 5
    listed = memory.recall("what foods does Ana like", k=5, max_tier="keyword")
    assert is_list_question(listed.query)
    # As well covered as the dinner's, the other folders' matches take places the dinner would
    # have: one in the first five (the dinner's folder, where the words cluster, still weighs
    # as a topic: `recall.topic_context`), both in the first six.
    assert {PICNIC[0], OFFSITE[0]} & {hit.path for hit in listed.results}
    six = memory.recall("what foods does Ana like", k=6, max_tier="keyword")
    assert {PICNIC[0], OFFSITE[0]} <= {hit.path for hit in six.results}
    # The best match keeps the first place, and a longer list starts with the shorter one.
    longer = memory.recall("what foods does Ana like", k=8, max_tier="keyword")
    assert [hit.path for hit in longer.results[:5]] == [hit.path for hit in listed.results]
    assert listed.results[0].path == memory.recall("what foods does Ana like", k=1, max_tier="keyword").results[0].path


def test_a_clearly_weaker_match_is_never_moved_up(memory: Memory) -> None:
    result = memory.recall("what foods does Ana like", k=10, max_tier="keyword")
    paths = [hit.path for hit in result.results]
    # Ravi's curry covers only "likes": it stays below every entry about Ana.
    assert WEAK[0] not in paths or paths.index(WEAK[0]) > max(paths.index(p) for p, _, _ in DINNER)


def test_diversity_can_be_turned_off(memory: Memory, tmp_path: Path) -> None:
    from contextree.core.config import set_value

    set_value(tmp_path / "memory", "recall.diversity_penalty", "1")
    result = Memory(tmp_path / "memory").recall("what foods does Ana like", k=5, max_tier="keyword")
    assert folders([hit.path for hit in result.results]) == ["people/ana-dinner"] * 5


@pytest.mark.parametrize(
    "question",
    [
        "what foods does Ana like",
        "Which books has Ravi read?",
        "What activities does Melanie partake in?",
        "what video games does Nate play",
        "What are Caroline's hobbies?",
        "list the services we run on Fly",
        "how many times did we roll back the API",
        "which cities have both Jean and John visited",
    ],
)
def test_list_like_questions(question: str) -> None:
    assert is_list_question(question)


@pytest.mark.parametrize(
    "question",
    [
        "how long does a canary run",
        "which database do we use?",
        "what is the capital of Peru",
        "Which TV series does Tim watch?",  # "series" is one thing here
        "what's our deploy process",
        "who owns the billing service",
    ],
)
def test_questions_about_one_thing(question: str) -> None:
    assert not is_list_question(question)


def test_spreading_moves_comparable_matches_only() -> None:
    # (name, folder, score, coverage), best first
    items = [("a1", "a", 1.0, 0.8), ("a2", "a", 0.95, 0.8), ("a3", "a", 0.9, 0.8), ("b1", "b", 0.8, 0.78)]
    weak = [*items[:3], ("c1", "c", 0.85, 0.3)]

    def spread(ranked: list[tuple[str, str, float, float]]) -> list[str]:
        kept = spread_over_folders(
            ranked,
            lambda item: item[2],
            lambda item: item[1],
            lambda item: item[3],
            penalty=0.8,
            comparable=0.9,
            places=4,
        )
        return [item[0] for item in kept]

    assert spread(items) == ["a1", "b1", "a2", "a3"]  # b1: 0.8 beats a2's 0.95 x 0.8
    assert spread(weak) == ["a1", "a2", "a3", "c1"]  # c1 covers far less: never moved up
