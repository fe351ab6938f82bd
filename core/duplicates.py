"""Near-duplicate entries: two notes about the same thing, usually written by different agents.

Two entries are near-duplicates when both hold:

1. *overlap*: the Jaccard index of their sets of distinct content words (title, summary,
   keywords, tags and body; stopwords dropped) is at least `duplicate_min_overlap` (0.3);
2. *similarity*: `w x token_set_ratio(titles) + (1 - w) x token_set_ratio(bodies)` from
   rapidfuzz is at least `duplicate_min_similarity` (68), w = `duplicate_title_weight` (0.3).

Comparing every pair is quadratic (50 million pairs at 10,000 entries), so candidate pairs
are *blocked* first: each entry's signature is its `SIGNATURE_WORDS` rarest words that some
other entry also has, and only entries whose signatures share at least `SIGNATURE_MATCHES`
words are compared. Near-duplicates share their rare words (identifiers, numbers, names),
so they meet in a block; unrelated entries that share one rare word do not become a
candidate. bench/lifecycle.py measures the time and the share of planted duplicates found.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .config import LifecycleConfig
from .text import STOPWORDS, words

SIGNATURE_WORDS = 32
SIGNATURE_MATCHES = 3
# Most pairs come from the least selective signature words (in a tree with a small
# vocabulary, a "rare" word may still sit in hundreds of signatures). Words are used from
# the most selective up until this many pairs have been counted; the rest are skipped.
PAIR_BUDGET = 1_500_000
# rapidfuzz compares bodies character by character: cap what it sees, so a 1 MiB entry costs
# what a long note costs. The word overlap still covers the whole body.
COMPARE_CHARS = 6000


@dataclass(frozen=True)
class Document:
    path: str
    title: str
    text: str  # summary, keywords, tags and body: everything but the title
    body: str


@dataclass(frozen=True)
class DuplicatePair:
    first: str
    second: str
    overlap: float  # Jaccard of the word sets, 0-1
    title_similarity: float  # rapidfuzz token_set_ratio, 0-100
    body_similarity: float  # rapidfuzz token_set_ratio, 0-100
    similarity: float  # the weighted blend the threshold applies to


def word_set(*texts: str) -> frozenset[str]:
    return frozenset(
        word for text in texts for word in words(text) if word not in STOPWORDS and (len(word) > 1 or word.isdigit())
    )


def candidate_pairs(sets: Sequence[frozenset[str]]) -> set[tuple[int, int]]:
    """Pairs of positions whose rare-word signatures share at least SIGNATURE_MATCHES words,
    or a word no other entry has (the strongest hint there is, and one pair per word)."""
    frequency: Counter[str] = Counter()
    for items in sets:
        frequency.update(items)
    postings: dict[str, list[int]] = defaultdict(list)
    for position, items in enumerate(sets):
        shared = [(frequency[word], word) for word in items if frequency[word] >= 2]
        for _, word in heapq.nsmallest(SIGNATURE_WORDS, shared):
            postings[word].append(position)
    together: Counter[tuple[int, int]] = Counter()
    exclusive: set[tuple[int, int]] = set()
    spent = 0
    for length, word in sorted((len(members), word) for word, members in postings.items() if len(members) > 1):
        members = postings[word]
        if frequency[word] == 2:
            exclusive.add((members[0], members[1]))
        spent += length * (length - 1) // 2
        if spent > PAIR_BUDGET:
            break
        together.update(itertools.combinations(members, 2))
    return exclusive | {pair for pair, count in together.items() if count >= SIGNATURE_MATCHES}


def find_duplicates(documents: Sequence[Document], cfg: LifecycleConfig) -> list[DuplicatePair]:
    """Near-duplicate pairs, most similar first."""
    from rapidfuzz import fuzz, utils

    sets = [word_set(doc.title, doc.text) for doc in documents]
    found: list[DuplicatePair] = []
    weight = min(1.0, max(0.0, cfg.duplicate_title_weight))
    for first, second in sorted(candidate_pairs(sets)):
        union = len(sets[first] | sets[second])
        overlap = len(sets[first] & sets[second]) / union if union else 0.0
        if overlap < cfg.duplicate_min_overlap:
            continue
        a, b = documents[first], documents[second]
        title = fuzz.token_set_ratio(a.title, b.title, processor=utils.default_process)
        body = fuzz.token_set_ratio(
            a.body[:COMPARE_CHARS] or a.text[:COMPARE_CHARS],
            b.body[:COMPARE_CHARS] or b.text[:COMPARE_CHARS],
            processor=utils.default_process,
        )
        similarity = weight * title + (1.0 - weight) * body
        if similarity < cfg.duplicate_min_similarity:
            continue
        low, high = sorted((a.path, b.path))
        found.append(DuplicatePair(low, high, round(overlap, 3), round(title, 1), round(body, 1), round(similarity, 1)))
    found.sort(key=lambda pair: (-pair.similarity, pair.first, pair.second))
    return found


def distinct_blocks(body: str, into: str) -> list[str]:
    """The paragraphs of `body` that `into` does not already contain (compared without case
    and with whitespace collapsed), so merging the same entry twice adds nothing the second
    time."""
    present = {_normalized(block) for block in _blocks(into)}
    kept: list[str] = []
    for block in _blocks(body):
        key = _normalized(block)
        if key and key not in present:
            present.add(key)
            kept.append(block)
    return kept


def _blocks(text: str) -> list[str]:
    """Paragraphs: runs of lines separated by blank lines, fenced code kept in one piece."""
    blocks: list[str] = []
    current: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not line.strip() and not fenced:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _normalized(block: str) -> str:
    return " ".join(block.split()).casefold()
