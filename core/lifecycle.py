"""Knowledge lifecycle: effective importance, recency, maturity moves and the ranking formula.

Pure functions of an entry's frontmatter fields, its volatile signals (from `.mem/state.db`)
and the current time, so they can be tested with a simulated clock. The constants are
ByteRover's published defaults and live in `config.yaml` under `lifecycle:`;
docs/lifecycle.md gives the formulas with worked examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from .config import LifecycleConfig
from .entry import MATURITIES, MATURITY_CHANGED_KEY, Entry
from .errors import InvalidError

SECONDS_PER_DAY = 86_400.0
MATURITY_ORDER: dict[str, int] = {
    maturity: rank for rank, maturity in enumerate(MATURITIES)
}  # draft < validated < core
# `mem consolidate` records a maturity move in the entry itself (entry.MATURITY_CHANGED_KEY,
# MATURITY_REASON_KEY), and it counts as a touch for archiving (a demoted entry gets
# `archive_after_days` of grace as a draft before it can be archived).
IMPORTANCE_MAX = 100


@dataclass(frozen=True)
class Signals:
    """How an entry has been used (read in full, confirmed, cited by a model) and the last use."""

    hits: int = 0
    last_access: float | None = None  # epoch seconds


@dataclass(frozen=True)
class Vitals:
    """An entry's lifecycle state at one moment (what `mem show`, `tree`, `stats` display)."""

    importance: int  # as written in the frontmatter
    effective_importance: float
    recency: float
    maturity: str  # as written in the frontmatter
    maturity_due: str  # what `mem consolidate` would set now (== maturity when nothing moves)
    archive_due: bool  # `mem consolidate` would archive it now
    hits: int
    last_access: datetime | None
    last_update: datetime
    last_touch: datetime  # the latest of update, access and consolidate's last maturity move
    days_untouched: float


def bumped_importance(importance: int, cfg: LifecycleConfig) -> int:
    """Importance after a change to an entry (update, edit, merge): raised by
    `importance_bump_on_update`, capped at 100."""
    return min(IMPORTANCE_MAX, importance + cfg.importance_bump_on_update)


def days_between(earlier: float, later: float) -> float:
    return max(0.0, (later - earlier) / SECONDS_PER_DAY)


def importance_daily_decay(decay: str, cfg: LifecycleConfig) -> float:
    """The daily factor importance fades by: `decay: never` does not fade at all, `slow`
    fades slower than `normal` (0.999 vs 0.995 a day by default)."""
    if decay == "never":
        return 1.0
    return cfg.importance_daily_decay_slow if decay == "slow" else cfg.importance_daily_decay


def effective_importance(
    importance: int, updated: float, signals: Signals, now: float, cfg: LifecycleConfig, decay: str = "normal"
) -> float:
    """Frontmatter importance plus a bonus per counted recall, capped at 100, decayed daily
    since the last update (0.995^days for `decay: normal`)."""
    boosted = min(100.0, importance + cfg.access_bonus * signals.hits)
    return float(boosted * importance_daily_decay(decay, cfg) ** days_between(updated, now))


def half_life_days(decay: str, cfg: LifecycleConfig) -> float | None:
    if decay == "never":
        return None
    return cfg.half_life_days_slow if decay == "slow" else cfg.half_life_days_normal


def recency(decay: str, updated: float, signals: Signals, now: float, cfg: LifecycleConfig) -> float:
    """0.5 ^ (days since the last update or access / half-life); 1.0 for `decay: never`."""
    half_life = half_life_days(decay, cfg)
    if half_life is None:
        return 1.0
    last_touch = max(updated, signals.last_access or 0.0)
    return float(0.5 ** (days_between(last_touch, now) / half_life))


def maturity_boost(maturity: str, cfg: LifecycleConfig) -> float:
    return {"core": cfg.boost_core, "validated": cfg.boost_validated}.get(maturity, cfg.boost_draft)


def standing(importance: float, recency_value: float, maturity: str, cfg: LifecycleConfig) -> float:
    """0-1: what the lifecycle thinks of an entry regardless of the query,
    (w_i x importance/100 + w_r x recency) / (w_i + w_r) x boost / core's boost."""
    weights = cfg.weight_importance + cfg.weight_recency
    blended = (cfg.weight_importance * importance / 100.0 + cfg.weight_recency * recency_value) / (weights or 1.0)
    return blended * maturity_boost(maturity, cfg) / max(cfg.boost_core, cfg.boost_validated, cfg.boost_draft)


def rank_score(relevance: float, importance: float, recency_value: float, maturity: str, cfg: LifecycleConfig) -> float:
    """relevance x (1 + tie_window x (2 x standing - 1)): the lifecycle moves a score by at
    most +-tie_window, so it reorders near ties and never lifts a clearly weaker match
    over a better one (at 0.15, a match must be within 26% of another's relevance to pass it)."""
    return relevance * (1.0 + cfg.tie_window * (2.0 * standing(importance, recency_value, maturity, cfg) - 1.0))


def _one_move(maturity: str, importance: float, cfg: LifecycleConfig) -> str:
    if importance >= cfg.promote_core_at:
        return "core"
    if maturity == "core":
        return "core" if importance >= cfg.demote_core_below else "validated"
    if maturity == "validated":
        return "validated" if importance >= cfg.demote_validated_below else "draft"
    return "validated" if importance >= cfg.promote_validated_at else "draft"


def next_maturity(maturity: str, importance: float, cfg: LifecycleConfig) -> str:
    """Maturity after applying the thresholds with hysteresis: promotion needs a higher
    importance than keeping the level, so an entry hovering near a threshold does not flap.

    The thresholds are applied until nothing moves (a core entry whose importance fell under
    35 lands on draft, not on validated), so one `mem consolidate` leaves every entry where a
    second run would leave it too.
    """
    current = maturity if maturity in MATURITY_ORDER else "draft"
    for _ in MATURITY_ORDER:
        moved = _one_move(current, importance, cfg)
        if moved == current:
            break
        current = moved
    return current


def should_archive(maturity: str, importance: float, last_touch: float, now: float, cfg: LifecycleConfig) -> bool:
    """A draft whose effective importance fell below the floor and that nobody touched for
    `archive_after_days`; validated and core entries never."""
    return (
        maturity == "draft"
        and importance < cfg.archive_below
        and days_between(last_touch, now) >= cfg.archive_after_days
    )


def check_thresholds(cfg: LifecycleConfig) -> None:
    """Refuse thresholds without hysteresis (a promotion level under its demotion level would
    make entries flap between two runs of `mem consolidate`)."""
    problems = []
    if cfg.promote_validated_at < cfg.demote_validated_below:
        problems.append("lifecycle.promote_validated_at must be >= lifecycle.demote_validated_below")
    if cfg.promote_core_at < cfg.demote_core_below:
        problems.append("lifecycle.promote_core_at must be >= lifecycle.demote_core_below")
    if cfg.promote_core_at < cfg.promote_validated_at:
        problems.append("lifecycle.promote_core_at must be >= lifecycle.promote_validated_at")
    if cfg.demote_core_below < cfg.demote_validated_below:
        problems.append("lifecycle.demote_core_below must be >= lifecycle.demote_validated_below")
    for name in ("importance_daily_decay", "importance_daily_decay_slow"):
        if not 0.0 < getattr(cfg, name) <= 1.0:
            problems.append(f"lifecycle.{name} must be in (0, 1]")
    for name in ("half_life_days_normal", "half_life_days_slow"):
        if not getattr(cfg, name) > 0.0:
            problems.append(f"lifecycle.{name} must be positive")
    if problems:
        raise InvalidError("; ".join(problems))


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=0)


def _extra_time(value: object) -> float | None:
    """A timestamp from an unknown frontmatter key (YAML may give a datetime or a string)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    return None


def assess(
    *,
    importance: int,
    maturity: str,
    decay: str,
    updated: float,
    signals: Signals,
    now: float,
    cfg: LifecycleConfig,
    maturity_changed: object = None,
) -> Vitals:
    """Everything the lifecycle says about one entry now. `updated` is the frontmatter's
    `updated` (else `created`, else the file's mtime, as the index does)."""
    effective = effective_importance(importance, updated, signals, now, cfg, decay)
    fresh = recency(decay, updated, signals, now, cfg)
    moved_at = _extra_time(maturity_changed)
    last_touch = max(updated, signals.last_access or -math.inf, moved_at or -math.inf)
    due = next_maturity(maturity, effective, cfg)
    if MATURITY_ORDER[due] > MATURITY_ORDER.get(maturity, 0) and days_between(updated, now) < cfg.promote_min_days:
        # Fresh knowledge is not promoted on usage alone: a same-day draft that a few recalls
        # used is not yet "core". Only the importance its writer gave it can promote it now.
        unused = effective_importance(importance, updated, Signals(), now, cfg, decay)
        written = next_maturity(maturity, unused, cfg)
        due = written if MATURITY_ORDER[written] > MATURITY_ORDER.get(maturity, 0) else maturity
    # Archiving looks at the maturity the entry has now; a demotion to draft happens first
    # and records the time of the move, which restarts the count of untouched days.
    archive = maturity == "draft" and due == "draft" and should_archive(maturity, effective, last_touch, now, cfg)
    return Vitals(
        importance=importance,
        effective_importance=round(effective, 2),
        recency=round(fresh, 4),
        maturity=maturity,
        maturity_due=due,
        archive_due=archive,
        hits=signals.hits,
        last_access=_moment(signals.last_access) if signals.last_access is not None else None,
        last_update=_moment(updated),
        last_touch=_moment(last_touch),
        days_untouched=round(days_between(last_touch, now), 2),
    )


def last_update(entry: Entry, mtime: float | None, now: float) -> float:
    """When an entry was last updated: `updated`, else `created`, else the file's mtime (the
    same order the index uses), else now."""
    moment = entry.updated or entry.created
    if moment is not None:
        return moment.timestamp()
    return mtime if mtime is not None else now


def entry_vitals(
    entry: Entry, signals: Signals, now: float, cfg: LifecycleConfig, mtime: float | None = None
) -> Vitals:
    return assess(
        importance=entry.importance,
        maturity=entry.maturity,
        decay=entry.decay,
        updated=last_update(entry, mtime, now),
        signals=signals,
        now=now,
        cfg=cfg,
        maturity_changed=entry.extra.get(MATURITY_CHANGED_KEY),
    )
