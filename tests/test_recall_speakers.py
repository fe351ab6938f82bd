"""What a person said ranks above what others said about the same thing when the question
names that person (issue 13, docs/recall.md "Speakers"): the speaker comes from `speaker` in
the frontmatter (a conversation import) or from a transcript turn's "Name: ..." label, and
only ranking changes, never the coverage the gates use."""

from __future__ import annotations

from pathlib import Path

from contextree import Memory
from contextree.core.names import speaker_words
from contextree.core.recall import NO_MEMORY

from .test_recall_quality import memory_with

# Caroline's turn has the question's words in its title (the first words of the turn), so on
# words alone it ranks first; Melanie's turn is what Melanie painted.
TURNS = (
    (
        "chats/session-2/d2-4",
        "Caroline: Melanie, your painting of the lake is lovely - I wish I could paint like that.",
        "Melanie, your painting of the lake is lovely",
    ),
    (
        "chats/session-2/d2-5",
        "Melanie: Thanks! I painted it at the lake last summer, a sunrise over the water.",
        "Thanks! I painted it at the lake last summer",
    ),
    ("chats/session-1/d1-1", "Caroline: Hi! How was your week?", "Hi! How was your week?"),
)


def ranking(memory: Memory, query: str) -> list[str]:
    return [hit.path for hit in memory.recall(query, max_tier="fuzzy").results]


def test_a_transcript_label_names_who_speaks() -> None:
    assert speaker_words(None, "Caroline: I went hiking last week.") == "caroline"
    assert speaker_words(None, "  Mary Ann Lee: see you soon") == "mary ann lee"
    assert speaker_words("Dmitri", "We move to Postgres 16 in June.") == "dmitri"  # the frontmatter wins
    assert speaker_words("user", "Caroline: hi") == "user"
    for body in (
        "note: lower case is a label, not a person",
        "Caroline:no space after the colon",
        "Caroline: ",
        "Mary ann: a lower-case word",
        "One Two Three Four: too many words",
        "The deploy failed at 10:30: see the log",
        "Plain text without a label.",
    ):
        assert speaker_words(None, body) == "", body


def test_the_named_persons_own_words_rank_first(tmp_path: Path) -> None:
    memory = memory_with(tmp_path, *TURNS)
    assert ranking(memory, "What did Melanie paint?")[0] == "chats/session-2/d2-5"
    # A name the question spells another way still finds its speaker (core/names.py).
    assert ranking(memory, "What did melany paint?")[0] == "chats/session-2/d2-5"
    (memory.root / "config.yaml").write_text("recall:\n  speaker_gain: 0\n")
    assert ranking(Memory(memory.root), "What did Melanie paint?")[0] == "chats/session-2/d2-4"


def test_a_speaker_changes_ranking_only(tmp_path: Path) -> None:
    """Coverage is untouched; a speaker can make a recall less sure (the test below), never
    more."""
    memory = memory_with(tmp_path, *TURNS)
    named = memory.recall("What did Melanie paint?", max_tier="fuzzy")
    (memory.root / "config.yaml").write_text("recall:\n  speaker_gain: 0\n")
    plain = Memory(memory.root).recall("What did Melanie paint?", max_tier="fuzzy")
    assert {hit.path: hit.match for hit in named.results} == {hit.path: hit.match for hit in plain.results}
    assert plain.resolved or not named.resolved
    # A question about something nobody said is not answered confidently, names or not.
    assert not memory.recall("What is Melanie's favourite JavaScript framework?", max_tier="fuzzy").resolved
    assert memory.recall("What is the capital of Peru?", max_tier="fuzzy").message == NO_MEMORY


def test_the_speaker_key_of_an_imported_turn_counts(tmp_path: Path) -> None:
    root = tmp_path / "memory"
    Memory.init(root)
    for name, speaker, text in (
        ("turn-1", "Ana", "Ravi and I reviewed the rollout plan; the canary goes first."),
        ("turn-2", "Ravi", "I reviewed the rollout plan with Ana; the canary goes first."),
    ):
        (root / "team" / "standup").mkdir(parents=True, exist_ok=True)
        (root / "team" / "standup" / f"{name}.md").write_text(
            f"---\ntitle: Rollout plan review\nspeaker: {speaker}\n---\n{text}\n", encoding="utf-8"
        )
    memory = Memory(root)
    assert ranking(memory, "what did Ana say about the rollout plan")[0] == "team/standup/turn-1"
    assert ranking(memory, "what did Ravi say about the rollout plan")[0] == "team/standup/turn-2"


def test_a_capitalised_first_word_or_a_dictionary_word_is_no_speaker(tmp_path: Path) -> None:
    """ "Decision: ..." is a label, but a question's first word says nothing (sentence case),
    and "decision" is a word of the dictionary: no entry gains from it."""
    memory = memory_with(
        tmp_path,
        ("decisions/db/postgres", "Decision: we use Postgres for every service.", "Postgres for every service"),
        ("decisions/db/sqlite", "We use SQLite for the CLI's local cache; decision taken in May.", "SQLite cache"),
    )
    named = memory.recall("Decision about the database we use", max_tier="fuzzy")
    (memory.root / "config.yaml").write_text("recall:\n  speaker_gain: 0\n")
    plain = Memory(memory.root).recall("Decision about the database we use", max_tier="fuzzy")
    assert [(h.path, h.relevance) for h in named.results] == [(h.path, h.relevance) for h in plain.results]


def test_a_confident_recall_is_sure_of_the_entry_it_shows_first(tmp_path: Path) -> None:
    """Caroline's turn covers "What did Melanie paint?" best (its title has the words), and
    the gate would be sure of it; the speaker ranks Melanie's turn first. A recall is only
    confident about the entry it shows first, so this one is not (the agent reading the JSON
    takes the first hit for the answer). Without the speaker, the first hit is the entry the
    gate is sure of, and the recall is confident."""
    memory = memory_with(tmp_path, *TURNS)
    named = memory.recall("What did Melanie paint?", max_tier="fuzzy")
    assert named.results[0].path == "chats/session-2/d2-5"
    assert max(hit.match for hit in named.results) > named.results[0].match
    assert not named.resolved
    (memory.root / "config.yaml").write_text("recall:\n  speaker_gain: 0\n")
    plain = Memory(memory.root).recall("What did Melanie paint?", max_tier="fuzzy")
    assert plain.results[0].path == "chats/session-2/d2-4"
    assert plain.resolved
