""" "Did you mean": the closest known name to a mistyped one (an entry path, a config key).

Only used on the error path, so it may scan the tree; rapidfuzz scores the candidates.
"""

from __future__ import annotations

from collections.abc import Iterable

# A candidate must be at least this similar (rapidfuzz ratio, 0-100) to be suggested: a
# suggestion that is not obviously what was meant is worse than none.
MIN_SIMILARITY = 75.0


def closest(name: str, candidates: Iterable[str], minimum: float = MIN_SIMILARITY) -> str | None:
    """The candidate most similar to `name`, or None when none is similar enough."""
    from rapidfuzz import fuzz, process, utils

    found = process.extractOne(name, list(candidates), scorer=fuzz.ratio, processor=utils.default_process)
    if found is None or found[1] < minimum:
        return None
    return str(found[0])


def did_you_mean(name: str, candidates: Iterable[str], template: str = "; did you mean '{}'?") -> str:
    """`template` filled with the closest candidate, or '' when there is none."""
    match = closest(name, candidates)
    return template.format(match) if match is not None and match != name else ""
