"""Person names, matched although spelt another way (`dmitry` for Dmitri, `Jon` for John).

A name is told apart from an ordinary word by how it is written, not by a list of names:

- **in the memory**, the tree's names are the words written with a capital letter in an
  entry's title, aliases and body (the index keeps them: `names_vocab`);
- **in a question**, a word may be a name when it is written with a capital letter (not
  as the question's first word: "Jon", "what did Dmitry say") or when it is no word of
  the dictionary (WordNet, core/lexicon.py: `dmitry`, `melany`; `vegan` is a word, so it
  is never read as the name `Vegas`).

Such a word that the memory does not have as written (or in a plural or tense form) is
matched to the tree's names by Jaro-Winkler similarity, the measure made for person names
in record linkage (it weighs the beginning of a name most): `dmitry`/`dmitri` 0.93,
`jon`/`john` 0.93, `melany`/`melanie` 0.91, against `tim`/`tom` 0.80.
"""

from __future__ import annotations

import re

from .lexicon import in_dictionary
from .text import STOPWORDS, fold

_WORD = re.compile(r"[^\W\d_][^\W_]*")
# A transcript's turn begins with who speaks: "Caroline: I went hiking last week" (chat logs,
# meeting notes, conversation imports). One to three capitalised words, a colon, then text.
_SPEAKER_LABEL = re.compile(r"\s*((?:[^\W\d_][\w'.-]*)(?: [^\W\d_][\w'.-]*){0,2}):[ \t]+\S")


def capitalised_words(text: str) -> list[str]:
    """The folded words of `text` written with a capital first letter (stopwords left out):
    what may be names. CJK and other scripts without case have none."""
    found = [fold(word) for word in _WORD.findall(text) if word[0].isupper()]
    return list(dict.fromkeys(word for word in found if len(word) >= 2 and word not in STOPWORDS))


def speaker_words(speaker: str | None, body: str) -> str:
    """Who said an entry, as folded words: its `speaker` frontmatter (a conversation import),
    else the label its body begins with when written as a transcript's turn ("Caroline: ...",
    every word capitalised). "" when neither."""
    if not speaker:
        label = _SPEAKER_LABEL.match(body)
        if label is None or not all(word[0].isupper() for word in label.group(1).split()):
            return ""
        speaker = label.group(1)
    return " ".join(fold(word) for word in _WORD.findall(speaker))


def may_be_name(word: str, query: str) -> bool:
    """Whether a (folded) query word may be a person's name (see the module's docstring)."""
    return word in capitalised_words(" ".join(_WORD.findall(query)[1:])) or not in_dictionary(word)


def similar_names(word: str, names: list[str], cutoff: float) -> dict[str, float]:
    """Up to 3 names of the tree `word` may stand for, with their Jaro-Winkler similarity."""
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler

    found = process.extract(word, names, scorer=JaroWinkler.normalized_similarity, score_cutoff=cutoff, limit=4)
    return {name: score for name, score, _ in found if name != word}
