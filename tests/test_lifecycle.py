"""The lifecycle with simulated time: formulas, maturity moves with hysteresis, archiving,
ranking by importance and recency, access recording on the injectable clock."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from contextree import Memory
from contextree.core.config import LifecycleConfig
from contextree.core.errors import InvalidError
from contextree.core.lifecycle import (
    SECONDS_PER_DAY,
    Signals,
    check_thresholds,
    effective_importance,
    next_maturity,
    rank_score,
    recency,
    should_archive,
)
from hypothesis import example, given
from hypothesis import strategies as st

from .conftest import CliResult
from .lifecycleutil import FakeClock, collapse

CFG = LifecycleConfig()
DAY = SECONDS_PER_DAY
Mem = Callable[..., CliResult]


# --- the formulas (worked examples of docs/lifecycle.md) -------------------------------------


def test_effective_importance_adds_the_access_bonus_caps_and_decays() -> None:
    assert effective_importance(50, 0, Signals(), 0, CFG) == 50
    assert effective_importance(50, 0, Signals(hits=5), 0, CFG) == 65
    assert effective_importance(90, 0, Signals(hits=10), 0, CFG) == 100  # capped before decay
    assert effective_importance(70, 0, Signals(), 30 * DAY, CFG) == pytest.approx(70 * 0.995**30)
    assert effective_importance(70, 0, Signals(), 30 * DAY, CFG, "slow") == pytest.approx(70 * 0.999**30)
    assert effective_importance(70, 0, Signals(), 3000 * DAY, CFG, "never") == 70
    # Access does not stop the decay: it is counted from the last update.
    assert effective_importance(50, 0, Signals(2, 29 * DAY), 30 * DAY, CFG) == pytest.approx(56 * 0.995**30)


def test_recency_halves_per_half_life_from_the_last_update_or_access() -> None:
    assert recency("normal", 0, Signals(), 21 * DAY, CFG) == pytest.approx(0.5)
    assert recency("normal", 0, Signals(), 42 * DAY, CFG) == pytest.approx(0.25)
    assert recency("slow", 0, Signals(), 180 * DAY, CFG) == pytest.approx(0.5)
    assert recency("never", 0, Signals(), 9999 * DAY, CFG) == 1.0
    assert recency("normal", 0, Signals(1, 21 * DAY), 21 * DAY, CFG) == 1.0  # accessed just now
    assert recency("normal", 10 * DAY, Signals(1, 5 * DAY), 31 * DAY, CFG) == pytest.approx(0.5)


def test_rank_score_formula() -> None:
    # standing = (0.2 x 70/100 + 0.2 x 0.5) / 0.4 x boost / 1.15; score = 0.9 x (1 + 0.15 x (2 standing - 1))
    assert rank_score(0.9, 70, 0.5, "core", CFG) == pytest.approx(0.9 * 1.03)
    assert rank_score(0.9, 70, 0.5, "validated", CFG) == pytest.approx(0.9 * (1 + 0.15 * (1.2 / 1.15 - 1)))
    assert rank_score(0.9, 70, 0.5, "draft", CFG) == pytest.approx(0.9 * (1 + 0.15 * (1.2 * 0.85 / 1.15 - 1)))


def test_the_lifecycle_reorders_near_ties_only() -> None:
    # The best standing (core, importance 100, fresh) against the worst (draft, 0, stale):
    # a match 30% weaker stays below, one 5% weaker passes.
    best, worst = (100, 1.0, "core"), (0, 0.0, "draft")
    assert rank_score(0.7, *best, CFG) < rank_score(1.0, *worst, CFG)
    assert rank_score(0.95, *best, CFG) > rank_score(1.0, *worst, CFG)


@pytest.mark.parametrize(
    ("maturity", "importance", "expected"),
    [
        ("draft", 64.9, "draft"),
        ("draft", 65, "validated"),
        ("draft", 85, "core"),
        ("validated", 40, "validated"),  # inside the band: stays
        ("validated", 34.9, "draft"),
        ("validated", 84.9, "validated"),
        ("validated", 85, "core"),
        ("core", 60, "core"),
        ("core", 59.9, "validated"),
        ("core", 20, "draft"),  # one run lands where a second run would leave it
    ],
)
def test_next_maturity_thresholds(maturity: str, importance: float, expected: str) -> None:
    assert next_maturity(maturity, importance, CFG) == expected


@given(st.sampled_from(["draft", "validated", "core"]), st.floats(0, 100))
def test_next_maturity_is_a_fixed_point(maturity: str, importance: float) -> None:
    once = next_maturity(maturity, importance, CFG)
    assert next_maturity(once, importance, CFG) == once


@given(st.floats(30, 100), st.lists(st.floats(-12, 12), min_size=2, max_size=60))
@example(74.0, [-10.0, 0.0, 11.0])  # rises twice, never back: found by hypothesis
def test_importance_wobbling_less_than_the_gap_never_flips_maturity_back(centre: float, wobble: list[float]) -> None:
    """Without hysteresis an entry near a threshold would flip on every wobble; with gaps of
    25 (core 85/60) and 30 (validated 65/35) a wobble narrower than 24 never takes it back to
    a maturity it left. (It may still rise twice, draft -> validated -> core: the promotion
    thresholds are only 20 apart, so a 21-wide wobble can cross both; that is not a flip.)"""
    maturity = "draft"
    history = []
    for delta in wobble:
        maturity = next_maturity(maturity, min(100.0, max(0.0, centre + delta)), CFG)
        history.append(maturity)
    changes = collapse(history)
    assert len(set(changes)) == len(changes), changes


def test_should_archive_only_stale_unimportant_drafts() -> None:
    assert should_archive("draft", 34, 0, 60 * DAY, CFG)
    assert not should_archive("draft", 34, 0, 59.9 * DAY, CFG)
    assert not should_archive("draft", 35, 0, 600 * DAY, CFG)
    assert not should_archive("validated", 0, 0, 600 * DAY, CFG)
    assert not should_archive("core", 0, 0, 6000 * DAY, CFG)


def test_thresholds_without_hysteresis_are_refused(root: Path) -> None:
    with pytest.raises(InvalidError, match="promote_validated_at"):
        check_thresholds(LifecycleConfig(promote_validated_at=30, demote_validated_below=40))
    (root / "config.yaml").write_text("lifecycle:\n  promote_core_at: 50\n  demote_core_below: 60\n")
    with pytest.raises(InvalidError, match="promote_core_at"):
        Memory(root).consolidate(dry_run=True)


# --- simulated time, real files ---------------------------------------------------------------


def _filler(memory: Memory) -> None:
    """Other entries, so that recall has something to rank against."""
    memory.add("architecture/async/celery-queues", "Queues: default, notifications, billing.", title="Celery queues")
    memory.add("runbooks/deploys/rollback", "Roll back with helm rollback.", title="Rolling back a deploy")
    memory.add("conventions/git/commit-messages", "Imperative mood, 72 columns.", title="Commit messages")


def test_an_entry_recalled_often_moves_draft_validated_core(root: Path) -> None:
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    _filler(memory)
    target = "gotchas/celery/visibility-timeout"
    memory.add(
        target,
        "Redis redelivers unacked ETA tasks after visibility_timeout; long countdowns run twice.",
        title="Celery visibility timeout runs tasks twice",
        keywords=["celery", "visibility_timeout", "countdown"],
    )
    assert memory.get(target).maturity == "draft" and memory.get(target).importance == 50

    seen = []
    for _day in range(30):
        result = memory.recall("celery visibility timeout twice")
        assert result.results[0].path == target
        memory.confirm_use([target])  # the agent says the entry helped: a use
        memory.consolidate()
        seen.append(memory.get(target).maturity)
        clock.advance(days=1)
    assert collapse(seen) == ["draft", "validated", "core"]
    # Usage alone promotes nothing in the first week after writing (promote_min_days).
    assert seen[: int(CFG.promote_min_days)] == ["draft"] * int(CFG.promote_min_days)
    entry = memory.get(target)
    assert entry.importance == 50  # the markdown importance is the writer's; usage lives in state.db
    assert entry.extra["maturity_reason"].startswith("effective importance")
    assert memory.state().signals([target])[target].hits == 30  # the recalls themselves counted nothing


def _hover(root: Path) -> tuple[list[str], list[float]]:
    """120 simulated days of an entry whose effective importance saws across 65."""
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    target = "gotchas/time/naive-datetimes"
    memory.add(target, "Always store aware UTC datetimes.", title="Naive datetimes", importance=63)
    maturities, effective = [], []
    for day in range(120):
        memory.consolidate()
        entry = memory.get(target)
        maturities.append(entry.maturity)
        effective.append(memory.vitals([entry])[target].effective_importance)
        if day % 9 == 1:
            # +3 every nine days roughly matches the daily decay (0.5% of ~65): the effective
            # importance saws up and down across 65.
            memory.read(target)
        clock.advance(days=1)
    return maturities, effective


def test_an_entry_hovering_at_a_threshold_does_not_flap(root: Path) -> None:
    # Hysteresis alone: the first-week rule (promote_min_days) would only delay the first move.
    (root / "config.yaml").write_text("lifecycle:\n  promote_min_days: 0\n")
    maturities, effective = _hover(root)
    after = effective[maturities.index("validated") :]
    crossings = sum(1 for a, b in itertools.pairwise(after) if (a < 65) != (b < 65))
    assert crossings >= 4  # it really hovers: under and over the promotion threshold, repeatedly
    assert collapse(maturities) == ["draft", "validated"]


def test_without_hysteresis_the_same_entry_would_flap(root: Path) -> None:
    """The control for the test above: with the demotion threshold raised to the promotion
    threshold, the same history flips maturity again and again."""
    (root / "config.yaml").write_text(
        "lifecycle:\n  demote_validated_below: 65\n  demote_core_below: 65\n  promote_min_days: 0\n"
    )
    maturities, _ = _hover(root)
    assert len(collapse(maturities)) >= 5


def test_a_core_entry_around_its_demotion_threshold_stays_core(root: Path) -> None:
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    target = "conventions/api/errors"
    memory.add(target, "Errors are RFC 7807 problem details.", title="API errors", importance=86)
    memory.consolidate()
    assert memory.get(target).maturity == "core"
    # Untouched, 86 x 0.995^days is under the promotion threshold (85) from the third day on
    # and reaches the demotion threshold (60) only on day 72: core all along until then.
    history = []
    for _ in range(70):
        clock.advance(days=1)
        memory.consolidate()
        history.append(memory.get(target).maturity)
    assert set(history) == {"core"}
    clock.advance(days=5)  # day 75: 86 x 0.995^75 = 59.1 < 60
    memory.consolidate()
    assert memory.get(target).maturity == "validated"


def test_an_untouched_draft_is_archived_after_60_days_and_core_never_is(root: Path) -> None:
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    memory.add("gotchas/misc/stale-draft", "An observation nobody used again.", title="Stale", importance=45)
    memory.add("gotchas/misc/used-draft", "An observation read on day 30.", title="Used", importance=40)
    memory.add("conventions/rules/core-rule", "Never log secrets.", title="No secrets", maturity="core", importance=90)
    memory.add(
        "conventions/rules/low-core", "Keep it.", title="Low core", maturity="core", importance=90, decay="never"
    )

    clock.advance(days=30)
    memory.read("gotchas/misc/used-draft")  # an access restarts the untouched count
    clock.advance(days=29)  # day 59: under the floor (45 x 0.995^59 = 33.5) but not yet 60 days
    result = memory.consolidate()
    assert not [item.path for item in result.plan.archive]
    assert memory.exists("gotchas/misc/stale-draft")

    clock.advance(days=1)  # day 60
    result = memory.consolidate()
    assert [item.path for item in result.plan.archive] == ["gotchas/misc/stale-draft"]
    assert not memory.exists("gotchas/misc/stale-draft")
    archived = memory.get("gotchas/misc/stale-draft", archived=True)
    assert archived.extra["archived_reason"].startswith("consolidate: stale draft")
    assert memory.exists("gotchas/misc/used-draft")  # accessed on day 30: 30 days untouched

    clock.advance(days=30)  # day 90: the used draft is 60 days untouched too
    memory.consolidate()
    assert not memory.exists("gotchas/misc/used-draft")

    # The core entries are still there, whatever their importance has become.
    assert memory.get("conventions/rules/core-rule").maturity == "validated"  # 90 x 0.995^90 = 57.4
    assert memory.get("conventions/rules/low-core").maturity == "core"  # decay: never


def test_a_core_entry_leaves_only_by_recorded_demotions_with_grace(root: Path) -> None:
    """A core entry is never archived as such: it is demoted first (recorded in the file), and
    a demoted draft gets the full 60 untouched days before archiving can take it."""
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    path = "conventions/rules/old-core"
    memory.add(path, "A rule nobody recalls.", title="Old rule", maturity="core", importance=90)
    timeline: list[tuple[int, str]] = []
    for day in range(1, 400):
        clock.advance(days=1)
        before = memory.get(path).maturity if memory.exists(path) else "archived"
        result = memory.consolidate()
        assert all(memory.get(item.path, archived=True).maturity == "draft" for item in result.plan.archive)
        after = memory.get(path).maturity if memory.exists(path) else "archived"
        if after != before:
            timeline.append((day, after))
    assert [state for _, state in timeline] == ["validated", "draft", "archived"]
    demoted_to_draft = timeline[1][0]
    assert timeline[2][0] - demoted_to_draft >= CFG.archive_after_days


def _twin(memory: Memory, path: str, **meta: object) -> None:
    memory.add(
        path,
        "During the deploy freeze no production deploys happen on Fridays after noon.",
        title="Deploy freeze policy",
        keywords=["deploy", "freeze"],
        **meta,  # type: ignore[arg-type]
    )


def test_two_equally_relevant_entries_rank_by_importance_and_recency(tmp_path: Path) -> None:
    clock = FakeClock()
    by_importance = tmp_path / "importance"
    Memory.init(by_importance)
    memory = Memory(by_importance, clock=clock)
    _filler(memory)
    _twin(memory, "runbooks/policy/alpha", importance=40)
    _twin(memory, "runbooks/policy/beta", importance=80)
    hits = memory.recall("fridays deploy freeze").results
    assert [hit.path for hit in hits[:2]] == ["runbooks/policy/beta", "runbooks/policy/alpha"]
    assert hits[0].relevance == hits[1].relevance
    assert hits[0].score > hits[1].score

    clock = FakeClock()
    by_recency = tmp_path / "recency"
    Memory.init(by_recency)
    memory = Memory(by_recency, clock=clock)
    _filler(memory)
    _twin(memory, "runbooks/policy/alpha")
    clock.advance(days=40)
    _twin(memory, "runbooks/policy/beta")
    hits = memory.recall("fridays deploy freeze").results
    assert [hit.path for hit in hits[:2]] == ["runbooks/policy/beta", "runbooks/policy/alpha"]
    assert hits[0].relevance == hits[1].relevance
    assert hits[0].recency == 1.0 and hits[1].recency == pytest.approx(0.5 ** (40 / 21), abs=1e-3)

    # A confirmed use of alpha counts, and recency follows the access.
    memory.confirm_use(["runbooks/policy/alpha"])
    again = {hit.path: hit for hit in memory.recall("fridays deploy freeze").results}
    assert again["runbooks/policy/alpha"].recency == 1.0
    assert again["runbooks/policy/alpha"].effective_importance > hits[1].effective_importance


def test_recall_and_show_record_access_on_the_memory_clock(root: Path, mem: Mem) -> None:
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    _filler(memory)
    clock.advance(days=3)
    memory.recall("commit messages imperative")  # a first hit is not a use
    assert memory.state().signals(["conventions/git/commit-messages"]) == {}
    memory.confirm_use(["conventions/git/commit-messages"])  # a confirmed one is
    signals = memory.state().signals(["conventions/git/commit-messages"])["conventions/git/commit-messages"]
    assert signals.hits == 1 and signals.last_access == clock.now.timestamp()

    memory.get("runbooks/deploys/rollback")  # an internal read is not a use
    assert memory.state().signals(["runbooks/deploys/rollback"]) == {}
    memory.read("runbooks/deploys/rollback")  # reading in full is
    assert memory.state().signals(["runbooks/deploys/rollback"])["runbooks/deploys/rollback"].hits == 1

    shown = mem("--json", "show", "runbooks/deploys/rollback").data
    assert shown["lifecycle"]["hits"] == 2  # `mem show` counts, and reports the count after it
    assert set(shown["lifecycle"]) >= {"effective_importance", "recency", "maturity", "maturity_due", "archive_due"}
    archived = mem("forget", "conventions/git/commit-messages")
    assert archived.code == 0
    assert mem("--json", "show", "_archive/conventions/git/commit-messages").data["lifecycle"]["hits"] == 0


def test_record_access_off_records_nothing(root: Path) -> None:
    (root / "config.yaml").write_text("recall:\n  record_access: false\n")
    memory = Memory(root)
    _filler(memory)
    memory.recall("commit messages")
    memory.read("conventions/git/commit-messages")
    memory.confirm_use(["conventions/git/commit-messages"])
    assert memory.state().all_signals() == {}


def test_show_and_tree_display_lifecycle(root: Path, mem: Mem) -> None:
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    memory.add("gotchas/misc/note", "Text.", title="A note", importance=70, maturity="validated")
    text = mem("show", "gotchas/misc/note")
    assert text.code == 0
    assert re.search(r"importance 70→\d+", text.stdout)
    assert "recency" in text.stdout and "validated" in text.stdout

    tree = mem("--json", "tree").data
    entry = tree["root"]["folders"][0]["folders"][0]["entries"][0]
    assert entry["path"] == "gotchas/misc/note"
    assert {"effective_importance", "recency", "maturity", "maturity_due", "hits"} <= set(entry)
    assert 0 < entry["recency"] <= 1 and 0 < entry["effective_importance"] <= 100
    human = mem("tree").stdout  # importance as written→effective, then maturity
    assert re.search(r"note  A note  70→\d+ validated", human)


def test_vitals_json_matches_the_formulas(root: Path, mem: Mem) -> None:
    clock = FakeClock()
    memory = Memory(root, clock=clock)
    memory.add("gotchas/misc/note", "Text.", title="A note", importance=60)
    clock.advance(days=21)
    entry = memory.get("gotchas/misc/note")
    vitals = memory.vitals([entry])["gotchas/misc/note"]
    assert vitals.effective_importance == pytest.approx(60 * 0.995**21, abs=0.01)
    assert vitals.recency == pytest.approx(0.5, abs=1e-4)
    assert vitals.days_untouched == pytest.approx(21)
    assert not math.isnan(vitals.effective_importance)


def test_the_config_template_documents_every_lifecycle_default() -> None:
    from importlib.resources import files

    import yaml
    from contextree.core.config import config_from_mapping

    lines = files("contextree.templates").joinpath("config.yaml").read_text().splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("# lifecycle:"))
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[2:])
    config = config_from_mapping(yaml.safe_load("\n".join(block)))
    assert config.warnings == ()
    assert config.lifecycle == LifecycleConfig()
    keys = {line.split(":")[0].strip() for line in block[1:] if ":" in line}
    assert keys == set(LifecycleConfig.__dataclass_fields__)
