"""Knowledge lifecycle: effective importance, recency, maturity moves and the ranking formula.

Pure functions of an entry's frontmatter fields, its volatile signals (from `.mem/state.db`)
and the current time, so they can be tested with a simulated clock. The constants are
ByteRover's published defaults and live in `config.yaml` under `lifecycle:`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import LifecycleConfig

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Signals:
    """How an entry has been used: counted recalls (first hit or read in full) and the last one."""

    hits: int = 0
    last_access: float | None = None  # epoch seconds


def days_between(earlier: float, later: float) -> float:
    return max(0.0, (later - earlier) / SECONDS_PER_DAY)


def effective_importance(importance: int, updated: float, signals: Signals, now: float, cfg: LifecycleConfig) -> float:
    """Frontmatter importance plus a bonus per counted recall, capped at 100, decayed daily
    since the last update (0.995^days by default)."""
    boosted = min(100.0, importance + cfg.access_bonus * signals.hits)
    return float(boosted * cfg.importance_daily_decay ** days_between(updated, now))


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


def rank_score(relevance: float, importance: float, recency_value: float, maturity: str, cfg: LifecycleConfig) -> float:
    """(0.6 relevance + 0.2 importance/100 + 0.2 recency) x maturity boost."""
    blended = (
        cfg.weight_relevance * relevance
        + cfg.weight_importance * importance / 100.0
        + cfg.weight_recency * recency_value
    )
    return blended * maturity_boost(maturity, cfg)


def next_maturity(maturity: str, importance: float, cfg: LifecycleConfig) -> str:
    """Maturity after applying the thresholds with hysteresis: promotion needs a higher
    importance than keeping the level, so an entry hovering near a threshold does not flap."""
    if importance >= cfg.promote_core_at:
        return "core"
    if maturity == "core":
        return "core" if importance >= cfg.demote_core_below else "validated"
    if maturity == "validated":
        return "validated" if importance >= cfg.demote_validated_below else "draft"
    return "validated" if importance >= cfg.promote_validated_at else "draft"


def should_archive(maturity: str, importance: float, last_touch: float, now: float, cfg: LifecycleConfig) -> bool:
    """A draft whose effective importance fell below the floor and that nobody touched for
    `archive_after_days`; core entries never."""
    return (
        maturity == "draft"
        and importance < cfg.archive_below
        and days_between(last_touch, now) >= cfg.archive_after_days
    )
