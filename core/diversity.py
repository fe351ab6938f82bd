"""Spread a list-like question's answers over the tree's folders.

A question that asks for several things ("what foods does Ana like", "which books has Ravi
read", "how many times did we roll back", "list the services on Fly") is answered by entries
written at different times, often in different folders (topics, or the sessions of an
imported conversation). Ranking by relevance alone lets one folder, where the question's
words happen to cluster, take every place. For such questions the ranking is re-ordered so
that each further place a folder takes costs its entries a factor (`recall.diversity_penalty`)
against matches of comparable coverage in other folders, as in maximal marginal relevance; a
clearly weaker match is never moved up (docs/recall.md, "Diversity").

Whether a question is list-like is read from its wording (English):

- it asks to count or enumerate: "how many", "list", "all", "every", "both", "each",
  "various", "several", "examples", "kinds of";
- a what/which question whose subject is plural: a plural noun between "what"/"which" and
  its verb ("which *cities* has John visited", "what video *games* does Nate play"), or a
  plural verb right after it ("what *are* Melanie's hobbies").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

from .lexicon import is_real_word, light_key

T = TypeVar("T")

_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_ENUMERATING = frozenset(
    {"list", "all", "every", "both", "each", "various", "several", "examples", "kinds", "types", "sorts"}
)
_WH = frozenset({"what", "which"})
_PLURAL_VERBS = frozenset({"are", "were", "have"})
# Where the subject of a what/which question ends: its verb (auxiliaries and copulas).
_VERBS = frozenset(
    {"do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "will", "would", "can", "could",
     "should", "might", "may", "must", "shall"}
)  # fmt: skip
_WINDOW = 60  # how far down the ranking a place looks for an item from another folder
_NOT_PLURAL = frozenset({"his", "its", "this", "hers", "ours", "yours", "theirs", "whose", "series", "news"})


def _plural(word: str) -> bool:
    """A plural noun form: `games`, `cities`, `activities` (its singular is a real word)."""
    if word in _NOT_PLURAL or len(word) < 4 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return False
    single = light_key(word)
    return single != word and (is_real_word(word[:-1]) or is_real_word(word[:-3] + "y") or is_real_word(single))


def is_list_question(query: str) -> bool:
    """Whether the question asks for several things (see the module's docstring)."""
    tokens = [token.casefold() for token in _WORD.findall(query)]
    text = " ".join(tokens)
    if "how many" in text or any(token in _ENUMERATING for token in tokens):
        return True
    for at, token in enumerate(tokens):
        if token not in _WH:
            continue
        following = tokens[at + 1 : at + 5]
        if following and following[0] in _PLURAL_VERBS:
            return True
        for word in following:
            if word in _VERBS:
                break
            if _plural(word.split("'")[0]):
                return True
    return False


def spread_over_folders(
    ranked: Sequence[T],
    score: Callable[[T], float],
    folder: Callable[[T], str],
    coverage: Callable[[T], float],
    *,
    penalty: float,
    comparable: float,
    places: int,
) -> list[T]:
    """`ranked` (best first) re-ordered for its first `places` places, greedily: each place
    goes to the item whose score x `penalty` ** (places its folder already has) is highest,
    among the next item and the later ones whose coverage is at least `comparable` x its
    coverage (a clearly weaker match never moves up). The first place never changes, and a
    longer list starts with the same items as a shorter one."""
    rest = list(ranked)
    chosen: list[T] = []
    taken: Counter[str] = Counter()
    while rest and len(chosen) < places:
        bar = comparable * coverage(rest[0])
        pick, best = 0, score(rest[0]) * penalty ** taken[folder(rest[0])]
        for at in range(1, min(len(rest), _WINDOW)):
            other = rest[at]
            if coverage(other) >= bar:
                value = score(other) * penalty ** taken[folder(other)]
                if value > best:
                    pick, best = at, value
        item = rest.pop(pick)
        taken[folder(item)] += 1
        chosen.append(item)
    return chosen + rest
