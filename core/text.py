"""Text handling shared by the index and the tiers: query terms, scripts without spaces,
accent folding, snippets and token estimates.

SQLite's `unicode61` tokenizer splits on spaces and punctuation, which leaves a run of
Chinese or Japanese as one giant token. Before text reaches the index, runs of CJK
characters are rewritten as overlapping bigrams (数据库迁移 -> 数据 据库 库迁 迁移), the
usual approach of CJK search engines: a two-character word, the most common length, is then
an ordinary token, and a query is processed the same way.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from functools import lru_cache

# Han, Hiragana, Katakana, Hangul: scripts written without spaces between words.
_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u3100-\u312f"
_CJK_RUN_PATTERN = f"[{_CJK_CLASS}]+"
# Other scripts without word separators (Thai, Lao, Myanmar, Khmer, Tibetan): these go to the
# trigram fallback index.
_OTHER_UNSPACED_CLASS = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u0f00-\u0fff"
_UNSPACED_PATTERN = f"[{_CJK_CLASS}{_OTHER_UNSPACED_CLASS}]"
_OTHER_UNSPACED = re.compile(f"[{_OTHER_UNSPACED_CLASS}]")


# The CJK classes take ~5 ms to compile, paid by every process that imports this module;
# ASCII text (most queries, most entries) never needs them, so they compile on first use.
@lru_cache(maxsize=1)
def _cjk_run() -> re.Pattern[str]:
    return re.compile(_CJK_RUN_PATTERN)


@lru_cache(maxsize=1)
def _unspaced() -> re.Pattern[str]:
    return re.compile(_UNSPACED_PATTERN)


# A word is what SQLite's `unicode61` tokenizer keeps as a token: letters and digits. The
# underscore separates, as it does in the index: `processed_events` is indexed as two words,
# so a query or a feedback word must split it the same way or it never matches.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# English function words: they match nearly every entry and only add noise to BM25 and to
# the coverage of a query. Kept short and conservative on purpose: NLTK's English list, the
# trade's "tell know let get", and the prepositions, conjunctions and modals of a closed class
# that NLTK's list lacks ("per", "via", "whether", "might"): "what's the on-call pay per week"
# had an answer in a NAT incident's "per destination". Not "may" (the month: "on May 3"), not
# "without" ("jog without pain"), not the quantity words "many" and "much" (docs/recall.md),
# not "up" and "down", which say a system's state ("was the database down", "is staging up")
# unless they are a phrasal verb's particle (STATE_PARTICLES).
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until
    very was we were what when where which while who whom why will with would you your
    yours yourself yourselves s t d ll m re ve don doesn didn isn wasn aren weren won
    tell know let get got also ever us
    per via since within among upon onto toward towards unless whether whose might must shall
    cannot either neither though although whereas whilst etc versus else
    shouldn couldn wouldn hasn hadn mustn needn mightn
    dont doesnt didnt isnt wasnt arent werent shouldnt couldnt wouldnt hasnt havent hadnt
    whats hows wheres whos thats theres youre theyre ive weve youve
    """.split()
)
# In NLTK's list, but a question's subject when they say a state: "our consumer was down for
# ten days". After a verb they form a phrasal verb with ("signed up", "shut down", "back up"),
# the phrase carries them (core/recall.py reads it as one) and they are function words: the
# caller passes the test for that (lexicon.is_phrasal, a layer above this module).
STATE_PARTICLES = frozenset({"up", "down"})
# An auxiliary's negation ("don't", "haven't", "shouldn't"), dropped whole before the words
# are cut: split at the apostrophe, its stem would be a word ("haven") or a stray one
# ("shouldn"). Contractions written without the apostrophe ("dont", "whats") are stopwords.
_NEGATION = re.compile(r"\b[^\W_]+n['\u2019]t\b", re.IGNORECASE)


def has_unspaced_script(text: str) -> bool:
    return not text.isascii() and _unspaced().search(text) is not None


def needs_trigrams(text: str) -> bool:
    """Text in a script that neither spaces nor CJK bigrams split into words (Thai, ...)."""
    return not text.isascii() and _OTHER_UNSPACED.search(text) is not None


def split_unspaced(query: str) -> tuple[str, list[str]]:
    """(the rest of the query, its chunks in Thai, Lao, Myanmar, Khmer or Tibetan).

    Those scripts have no word separators and no bigram rule here, so such chunks are
    matched as substrings by the trigram index instead of as words.
    """
    chunks = query.split()
    unspaced = [chunk for chunk in chunks if _OTHER_UNSPACED.search(chunk)]
    rest = " ".join(chunk for chunk in chunks if not _OTHER_UNSPACED.search(chunk))
    return rest, unspaced


def _bigrams(match: re.Match[str]) -> str:
    run = match.group(0)
    if len(run) == 1:
        return f" {run} "
    return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "


def cjk_to_bigrams(text: str) -> str:
    """Rewrite CJK runs as space-separated overlapping bigrams (see the module docstring)."""
    if text.isascii():
        return text
    pattern = _cjk_run()
    return pattern.sub(_bigrams, text) if pattern.search(text) else text


def fold(text: str) -> str:
    """Lower case without accents: `Facturación` -> `facturacion` (for fuzzy matching)."""
    if text.isascii():
        return text.lower()  # nothing to decompose: the common case, without a pass per character
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@lru_cache(maxsize=4096)
def _fold_word(word: str) -> str:
    return fold(word)


def words(text: str) -> list[str]:
    """Folded words of a text, CJK split into bigrams."""
    return [_fold_word(word) for word in _WORD.findall(cjk_to_bigrams(text))]


# "What kind of books does Nate enjoy": the question's frame, like "how many", not a word the
# answer says ("kind words", "a new type").
_KIND_OF = re.compile(r"\b(what|which)\s+(?:kinds?|types?|sorts?)\s+of\b", re.IGNORECASE)


def query_terms(query: str, is_phrasal: Callable[[str, str], bool] | None = None) -> list[str]:
    """The distinct content words of a query, in order; stopwords dropped unless nothing else
    is left (a query of only stopwords still deserves an answer).

    A stopword written in capitals in a query that is not all capitals is an acronym, not a
    function word: "SO" (Stack Overflow, a sales order), "IT", "US" stay. The noun of the frame
    "what/which kind (type, sort) of" is dropped too (_KIND_OF); elsewhere it is a word.
    `is_phrasal` (lexicon.is_phrasal) tells when "up" or "down" is a phrasal verb's particle
    (STATE_PARTICLES); without it they are always content words.
    """
    raw = _WORD.findall(cjk_to_bigrams(_NEGATION.sub(" ", _KIND_OF.sub(r"\1", query))))
    shouting = query.isupper()
    tokens = [_fold_word(word) for word in raw]
    particles = _particles(tokens, is_phrasal) if is_phrasal else set()
    content = [
        token
        for word, token in zip(raw, tokens, strict=True)
        if (token not in STOPWORDS and token not in particles) or (not shouting and len(word) > 1 and word.isupper())
    ]
    if not content:  # only function words: all of them, as written
        tokens = [_fold_word(word) for word in _WORD.findall(cjk_to_bigrams(query))]
    return list(dict.fromkeys(content or tokens))


def _particles(tokens: list[str], is_phrasal: Callable[[str, str], bool]) -> set[str]:
    """The state words (STATE_PARTICLES) that only ever follow a verb they form a phrasal verb
    with: there they are function words."""
    state = [i for i, token in enumerate(tokens) if token in STATE_PARTICLES]
    if not state:
        return set()
    free = {tokens[i] for i in state if i == 0 or not is_phrasal(tokens[i - 1], tokens[i])}
    return {tokens[i] for i in state} - free


def fts_quote(term: str) -> str:
    """A term as an FTS5 string literal: immune to the query syntax (AND, NEAR, *, ^, :)."""
    return '"' + term.replace('"', '""') + '"'


def estimate_tokens(text: str) -> int:
    """Rough token count for budgets: ~4 characters per token for English, 1 per CJK char.
    (A real tokenizer depends on the model; this errs on the side of fitting.)"""
    cjk = 0 if text.isascii() else len(_unspaced().findall(text))
    return (len(text) - cjk) // 4 + cjk + 1


def snippet(body: str, terms: list[str], width: int = 160) -> str:
    """The part of a body around its first line that mentions a query term, on one line."""
    flat_lines = [line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("---")]
    if not flat_lines:
        return ""
    folded_terms = [fold(term) for term in terms if len(term) > 1]
    chosen = flat_lines[0]
    position = 0
    for line in flat_lines:
        folded = fold(line)
        hits = [folded.find(term) for term in folded_terms if term in folded]
        if hits:
            chosen, position = line, min(hits)
            break
    start = max(0, position - width // 4)
    text = chosen[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(chosen) else ""
    return prefix + text + suffix


def ms_since(started: float) -> float:
    """Milliseconds since `started` (a `time.perf_counter()` reading), as results report them."""
    return round((time.perf_counter() - started) * 1000, 3)
