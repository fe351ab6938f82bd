"""`mem consolidate` on real files: the plan, near-duplicates, merges, archiving, safety
(re-checks under the lock, idempotence, one git commit) and the CLI's outputs."""

from __future__ import annotations

import hashlib
import random
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from contextree import Memory
from contextree.core.config import LifecycleConfig
from contextree.core.consolidate import _Applier, plan
from contextree.core.duplicates import Document, candidate_pairs, distinct_blocks, find_duplicates, word_set

from .conftest import EXAMPLE, CliResult
from .gitutil import git, isolate_git, status, subjects
from .lifecycleutil import FakeClock

Mem = Callable[..., CliResult]
SURVIVOR = "gotchas/celery/retries-duplicate-execution"
ABSORBED = "gotchas/celery/retry-countdown-visibility-timeout"
# The example's entries were last updated between 2025-11 and 2026-11.
EXAMPLE_NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def snapshot(root: Path) -> dict[str, str]:
    """Digest of every markdown file under root (the archive included)."""
    return {
        str(file.relative_to(root)): hashlib.sha256(file.read_bytes()).hexdigest()
        for file in sorted(root.rglob("*.md"))
        if ".mem" not in file.parts
    }


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of .memory-example (the original is never modified)."""
    copy = tmp_path / "example"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns(".mem"))
    return copy


# --- near-duplicates --------------------------------------------------------------------------


def test_the_example_near_duplicates_are_the_only_proposal(example: Path) -> None:
    memory = Memory(example, clock=FakeClock(EXAMPLE_NOW))
    before = snapshot(example)
    result = memory.consolidate(dry_run=True)
    assert snapshot(example) == before  # a dry run changes nothing
    [proposal] = result.plan.merges
    assert proposal.survivor == SURVIVOR  # validated with importance 79 beats a draft at 58
    assert proposal.absorbed == (ABSORBED,)
    [pair] = proposal.pairs
    assert pair.overlap >= LifecycleConfig().duplicate_min_overlap
    assert pair.similarity >= LifecycleConfig().duplicate_min_similarity
    assert not result.plan.merge and not result.outcomes


def test_duplicates_are_found_by_blocking_in_a_larger_corpus() -> None:
    """Planted near-duplicates (60% of the words kept, the rest rewritten) among 600 random
    notes: blocking finds every one and proposes nothing else."""
    rng = random.Random(7)
    vocabulary = [f"w{index}" for index in range(4000)]
    common = vocabulary[:100]
    documents = []
    for index in range(600):
        topic = rng.sample(vocabulary[100:], 40)
        body = " ".join(rng.choice(common) if rng.random() < 0.4 else rng.choice(topic) for _ in range(150))
        documents.append(Document(f"d/t/e{index}", " ".join(rng.sample(topic, 4)), body, body))
    planted = set()
    for index in range(20):
        source = documents[index * 7]
        words = [w if rng.random() < 0.6 else rng.choice(vocabulary) for w in source.body.split()]
        body = " ".join(words)
        copy = Document(f"d/t/copy{index}", source.title, body, body)
        documents.append(copy)
        planted.add(tuple(sorted((source.path, copy.path))))
    found = {(pair.first, pair.second) for pair in find_duplicates(documents, LifecycleConfig())}
    assert found == planted


def test_candidate_pairs_need_three_shared_signature_words() -> None:
    texts = ("alpha beta gamma delta", "alpha beta gamma omega", "alpha beta epsilon", "zeta eta theta")
    assert candidate_pairs([word_set(text) for text in texts]) == {(0, 1)}


def test_a_word_only_two_entries_have_makes_them_candidates() -> None:
    texts = ("alpha beta inc4711", "gamma delta inc4711", "alpha beta", "alpha beta gamma delta")
    assert (0, 1) in candidate_pairs([word_set(text) for text in texts])


def test_distinct_blocks_skip_what_is_already_there() -> None:
    into = "First paragraph.\n\nSecond   paragraph\nwraps here.\n"
    body = "second paragraph wraps here.\n\nA new one.\n\n```\ncode\n\nblock\n```\n\nFirst paragraph.\n"
    assert distinct_blocks(body, into) == ["A new one.", "```\ncode\n\nblock\n```"]
    assert distinct_blocks(body, into + "\nA new one.\n\n```\ncode\n\nblock\n```\n") == []


# --- merging ------------------------------------------------------------------------------------


def test_merge_keeps_the_survivor_archives_the_other_and_relinks(example: Path) -> None:
    clock = FakeClock(EXAMPLE_NOW)
    memory = Memory(example, clock=clock)
    memory.add("gotchas/misc/linker", "See the celery note.", title="Linker", related=[ABSORBED], importance=90)
    absorbed_body = memory.get(ABSORBED).body
    memory.read(ABSORBED)
    memory.read(ABSORBED)
    before_hits = memory.state().signals([SURVIVOR]).get(SURVIVOR)

    result = memory.consolidate(merge=True)
    merged = [outcome for outcome in result.outcomes if outcome.action == "merge"]
    assert [(o.path, o.done) for o in merged] == [(ABSORBED, True)]

    survivor = memory.get(SURVIVOR)
    assert f"## Merged from `{ABSORBED}`" in survivor.body
    assert "Raised `visibility_timeout` to 43200 seconds" in survivor.body  # the absorbed text
    assert survivor.body.startswith("## Symptom (INC-142, 2026-06-11)")  # the survivor's own text first
    assert survivor.extra["merged_from"] == [ABSORBED]
    assert "twilio" in survivor.keywords and "eta" in survivor.keywords
    assert survivor.importance == 84  # max(79, 58) + 5
    assert survivor.updated == EXAMPLE_NOW

    assert not memory.exists(ABSORBED)
    archived = memory.get(ABSORBED, archived=True)
    assert archived.extra["superseded_by"] == SURVIVOR
    assert archived.extra["archived_reason"] == f"consolidate: merged into {SURVIVOR} (near-duplicate)"
    assert archived.body == absorbed_body  # archived as it was

    assert memory.get("gotchas/misc/linker").related == (SURVIVOR,)
    hits = memory.state().signals([SURVIVOR, ABSORBED])
    assert ABSORBED not in hits and hits[SURVIVOR].hits == 2 + (before_hits.hits if before_hits else 0)


def test_an_entry_already_superseded_is_not_proposed_for_a_merge(example: Path) -> None:
    """`mem curate` SUPERSEDE keeps the old entry live with `superseded_by`: merging its
    outdated text back into the newer entry would undo the curation."""
    text = (example / f"{ABSORBED}.md").read_text()
    (example / f"{ABSORBED}.md").write_text(
        text.replace("source: agent:codex\n", f"source: agent:codex\nsuperseded_by: {SURVIVOR}\n")
    )
    assert Memory(example).get(ABSORBED).extra["superseded_by"] == SURVIVOR
    assert Memory(example, clock=FakeClock(EXAMPLE_NOW)).consolidate(dry_run=True).plan.merges == ()


def test_without_merge_flag_merges_are_only_proposed(example: Path) -> None:
    memory = Memory(example, clock=FakeClock(EXAMPLE_NOW))
    survivor = (example / f"{SURVIVOR}.md").read_bytes()
    result = memory.consolidate()
    assert result.plan.merges and not result.plan.merge
    assert (example / f"{SURVIVOR}.md").read_bytes() == survivor
    assert all(outcome.action != "merge" for outcome in result.outcomes)


def test_consolidate_is_idempotent(example: Path) -> None:
    clock = FakeClock(EXAMPLE_NOW)
    memory = Memory(example, clock=clock)
    first = memory.consolidate(merge=True)
    assert first.plan.moves and first.plan.archive and first.plan.merges  # plenty to do
    assert all(outcome.done for outcome in first.outcomes)
    after_first = snapshot(example)
    second = memory.consolidate(merge=True)
    assert second.plan.empty and not second.plan.merges and not second.outcomes
    assert snapshot(example) == after_first


def test_an_interrupted_merge_resumes_without_adding_text_twice(example: Path) -> None:
    memory = Memory(example, clock=FakeClock(EXAMPLE_NOW))
    original = (example / f"{ABSORBED}.md").read_bytes()
    memory.consolidate(merge=True)
    survivor = (example / f"{SURVIVOR}.md").read_bytes()
    # As if the run had died after writing the survivor, before archiving the other entry.
    (example / "_archive" / f"{ABSORBED}.md").unlink()
    (example / f"{ABSORBED}.md").write_bytes(original)
    result = memory.consolidate(merge=True)
    assert [o.path for o in result.outcomes if o.action == "merge" and o.done] == [ABSORBED]
    assert (example / f"{SURVIVOR}.md").read_bytes() == survivor
    assert not memory.exists(ABSORBED)


def test_applying_rechecks_each_entry_under_the_lock(root: Path) -> None:
    """A plan made before someone updated an entry does not demote or archive it."""
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    memory.add("gotchas/misc/old", "Old.", title="Old", importance=40)
    memory.add("gotchas/misc/fading", "Fading.", title="Fading", importance=40, maturity="validated")
    memory.add("gotchas/misc/other", "Other.", title="Other", importance=40)
    clock.advance(days=120)  # 40 x 0.995^120 = 21.9
    proposal = plan(memory)
    assert [item.path for item in proposal.archive] == ["gotchas/misc/old", "gotchas/misc/other"]
    assert [move.path for move in proposal.moves] == ["gotchas/misc/fading"]

    memory.update("gotchas/misc/old", append="Still true.", importance=60)  # touched since the plan
    memory.update("gotchas/misc/fading", importance=90)
    (root / "gotchas/misc/other.md").unlink()  # deleted since the plan
    applier = _Applier(memory, proposal)
    applier.apply()
    outcomes = {outcome.path: outcome for outcome in applier.outcomes}
    assert not outcomes["gotchas/misc/old"].done and "no longer due" in outcomes["gotchas/misc/old"].detail
    assert not outcomes["gotchas/misc/fading"].done
    assert not outcomes["gotchas/misc/other"].done and "no entry" in outcomes["gotchas/misc/other"].detail
    assert memory.exists("gotchas/misc/old") and memory.get("gotchas/misc/fading").maturity == "validated"


def test_an_archive_already_holding_the_path_is_reported_not_overwritten(root: Path) -> None:
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    memory.add("gotchas/misc/note", "First.", title="Note", importance=20)
    memory.forget("gotchas/misc/note")
    memory.add("gotchas/misc/note", "Second.", title="Note", importance=20)
    clock.advance(days=61)
    result = memory.consolidate()
    [outcome] = result.outcomes
    assert not outcome.done and "already exists" in outcome.detail
    assert memory.get("gotchas/misc/note").body == "Second.\n"
    assert memory.get("gotchas/misc/note", archived=True).body == "First.\n"


def test_maturity_moves_leave_updated_and_body_alone(root: Path) -> None:
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    memory.add("gotchas/misc/note", "Body text.\n\nTwo paragraphs.", title="Note", importance=70)
    before = memory.get("gotchas/misc/note")
    clock.advance(days=2)
    memory.consolidate()
    after = memory.get("gotchas/misc/note")
    assert after.maturity == "validated"
    assert (after.updated, after.body, after.importance) == (before.updated, before.body, before.importance)
    assert after.extra["maturity_changed_at"] == clock.now
    assert after.extra["maturity_reason"] == "effective importance 69.3 >= 65"


def test_prefix_limits_what_is_consolidated(root: Path) -> None:
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    memory.add("gotchas/misc/a", "A.", title="A", importance=10)
    memory.add("runbooks/misc/b", "B.", title="B", importance=10)
    clock.advance(days=90)
    result = memory.consolidate("gotchas")
    assert [item.path for item in result.plan.archive] == ["gotchas/misc/a"]
    assert memory.exists("runbooks/misc/b")


# --- git and the CLI ------------------------------------------------------------------------------


def test_one_commit_per_run_and_undo_reverts_it(mem: Mem, example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch, example.parent)
    assert mem("--root", str(example), "init", "--git", str(example)).code == 0
    head = subjects(example)
    before = snapshot(example)
    result = mem("--root", str(example), "--json", "consolidate", "--merge")
    data = result.data
    done = data["summary"]
    assert done["merge"] == 1 and done["archive"] > 0 and done["demote"] > 0 and done["skipped"] == 0
    log = subjects(example)
    assert len(log) == len(head) + 1
    assert log[0].startswith("mem consolidate: ") and "1 merged" in log[0]
    assert status(example) == []
    assert mem("--root", str(example), "undo").code == 0
    assert snapshot(example) == before
    assert git(example, "status", "--porcelain") == ""


def test_cli_dry_run_json_and_table(mem: Mem, example: Path) -> None:
    data = mem("--root", str(example), "--json", "consolidate", "--dry-run").data
    assert data["dry_run"] is True and data["outcomes"] == []
    [merge] = data["plan"]["merges"]
    assert merge["survivor"] == SURVIVOR and merge["absorbed"] == [ABSORBED]
    assert {"first", "second", "overlap", "title_similarity", "body_similarity", "similarity"} <= set(merge["pairs"][0])
    for move in data["plan"]["moves"]:
        assert move["action"] in ("promote", "demote") and move["before"] != move["after"]
    text = mem("--root", str(example), "consolidate", "--dry-run")
    assert text.code == 0
    assert "dry run" in text.stdout and "merge?" in text.stdout and "--merge" in text.stdout
    assert ABSORBED in text.stdout.replace("\n", "").replace(" ", "") or "retry-countdown" in text.stdout


def test_cli_consolidate_with_nothing_to_do(mem: Mem, root: Path) -> None:
    assert mem("add", "gotchas/misc/new", "Fresh.").code == 0
    text = mem("consolidate")
    assert text.code == 0 and "Nothing to consolidate" in text.stdout
    data = mem("--json", "consolidate").data
    assert data["plan"]["moves"] == [] and data["plan"]["archive"] == [] and data["outcomes"] == []
