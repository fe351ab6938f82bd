"""Kinds of answer: what a question asks for, and what an entry's text can answer.

Question answering has long matched the kind of answer a question expects with what a
passage holds (the "answer type" of TREC-era QA systems): "when did we move to Postgres?"
is answered by a text that says when, "how many replicas run?" by one with a number, and a
text that only asks ("How long have you been married?") answers nothing. Recall uses these
for ranking only (core/recall.py, `_with_answer_kinds`; docs/recall.md, "Kinds of answer"):
a question of a kind lifts the entries that hold that kind; an entry whose text is a
question ranks lower. Neither changes coverage, which the gates compare (a recall is still
confident only when its first hit is the entry the gate is sure of: `_leads`).

An entry's kinds are read from what it says: its body without bracketed notes at its end
(an attached image's caption, a source, "(session 3, 8 May 2023)"), which describe the text
rather than say something. The index keeps them (`docs.answers`), so a recall reads no text.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Literal

from .dates import FULL_MONTHS, WEEKDAYS

AnswerKind = Literal["time", "quantity"]
ASKS = "asks"  # the entry's text is a question: it asks rather than tells

# A bracketed or parenthesised note closing a text (one level; nested ones end the loop).
_CLOSING_NOTE = re.compile(r"(?:\([^()]*\)|\[[^\[\]]*\])\s*$")
# An entry's text is read as words and numbers once ("10:30" and "2.5" are one token) and
# looked up in word sets: the dates grammar of core/dates.py, run over the 10,000 bodies of
# bench/treegen.py's tree, took 6.2 s against 0.3 s (docs/recall.md, "Kinds of answer").
_TOKENS = re.compile(r"[a-z0-9]+(?:[.,:][0-9]+)*")
_NUMBER = re.compile(r"(\d+(?:[.,:]\d+)*)(am|pm)?")
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen"
    " eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands"
    " million millions billion dozen dozens couple few several once twice".split()
)
# Words that say when ("may" is left out: it is mostly a verb), and the periods that say it
# after "last", "next", "this" or "past" ("last week", "this summer").
_TIME_WORDS = frozenset(
    ("yesterday", "today", "tonight", "tomorrow", "ago", *WEEKDAYS, *(m for m in FULL_MONTHS if m != "may"))
)
_PERIODS = frozenset("week weekend month year night time morning evening spring summer autumn fall winter".split())
# A count of these says when relative to something ("after 5 minutes", "within 2 days").
_UNITS = frozenset("second seconds minute minutes hour hours day days week weeks month months year years".split())
_PERIOD_WORDS = frozenset(("last", "next", "this", "past"))
_CLOCK = frozenset(("am", "pm"))
# What a question asks for. "When" asks when as a question word - followed by a verb ("when
# did", "when is") or opening a question that has no other question word ("When Jon lost his
# job?") - and not as a conjunction ("what do we do when the deploy fails?"). "How long ago"
# asks when; "how long" alone, how much time.
_AUXILIARIES = "did|do|does|is|was|were|are|will|would|can|could|has|have|had|should|shall|must|might|'s"
_ASKS_TIME = re.compile(
    rf"\bwhen\s*(?:{_AUXILIARIES})\b"
    r"|^\W*when\b(?!.*\b(?:what|who|whom|whose|which|where|why|how)\b)"
    r"|\b(?:what\s+(?:year|month|day|date|time)|which\s+(?:year|month|day|date)|how\s+long\s+ago)\b",
    re.IGNORECASE | re.DOTALL,
)
_ASKS_QUANTITY = re.compile(r"\b(?:how\s+(?:many|much|long|often|old|far)|what\s+age)\b", re.IGNORECASE)


# "Who" as a question word - opening the question or a clause of it ("..., who should I talk
# to", "and who changes it") or after a verb of asking ("ask who", "know who") - and not as a
# relative pronoun after a noun ("customers who don't use SSO").
_ASKS_PERSON = re.compile(
    r"(?:^|[,;:.?!(]|\b(?:and|or|but|so|ask|know|tell|me|us|wondering))\s*(?:who|whom|whose)\b", re.IGNORECASE
)
# The words with which a memory names its entries about people: a people/ or team/ folder,
# an owners' list ("Who owns what"), contacts, the on-call rota.
_PEOPLE_WORDS = frozenset(
    "people person owner owners ownership owns team teams contact contacts staff oncall who".split()
)
_NAME_WORD = re.compile(r"[a-z]+")


def asks_for_person(query: str) -> bool:
    """Whether the question asks who ("who owns billing", "revenue looks wrong, who should I
    talk to"), not merely has a relative "who" ("customers who use SSO")."""
    return _ASKS_PERSON.search(query.strip()) is not None


def is_about_people(path: str, title: str) -> bool:
    """Whether an entry's path or title says it is about people: `people/owners/...`, "Who
    owns what", `team/contacts`."""
    return not _PEOPLE_WORDS.isdisjoint(_NAME_WORD.findall(f"{path} {title}".lower()))


def asked_kind(query: str) -> AnswerKind | None:
    """The kind of answer a question asks for: `time` ("when ...", "what year ..."),
    `quantity` ("how many ...", "how long ...") or None (most questions)."""
    if _ASKS_TIME.search(query):
        return "time"
    if _ASKS_QUANTITY.search(query):
        return "quantity"
    return None


def answer_kinds(body: str) -> str:
    """What an entry's body can answer, comma-separated as the index keeps it: `time` (it
    says when: a year, a month or a weekday, "yesterday", "two days ago", "last week", a count
    of time units such as "after 5 minutes", a time of day), `quantity` (a number: 6, 2.5,
    "three", "a dozen", "twice"; not a year or a time of day) and `asks` (its text ends with
    a question mark). "" for none."""
    text = _without_closing_notes(body)
    tokens = _TOKENS.findall(text.lower())
    present = set(tokens)
    time = not present.isdisjoint(_TIME_WORDS)
    quantity = not present.isdisjoint(_NUMBER_WORDS)
    if not time and not present.isdisjoint(_PERIOD_WORDS) and not present.isdisjoint(_PERIODS):
        time = any(a in _PERIOD_WORDS and b in _PERIODS for a, b in pairwise(tokens))
    if not time and not present.isdisjoint(_UNITS):
        time = any(b in _UNITS and (a[0].isdigit() or a in _NUMBER_WORDS) for a, b in pairwise(tokens))
    if not (time and quantity):
        before_clock = {a for a, b in pairwise(tokens) if b in _CLOCK} if not present.isdisjoint(_CLOCK) else set()
        # Numbers standing alone ("v2", "ec2" and "1st" are words); "10:30", "9am" and
        # "9 am" are times of day, "1999" and "2024" years.
        for token in {token for token in present if token[0].isdigit()}:
            number = _NUMBER.fullmatch(token)
            if number is None:
                continue
            digits = number.group(1)
            clock = ":" in digits or number.group(2) is not None or token in before_clock
            year = len(digits) == 4 and digits[:2] in ("19", "20")
            time = time or clock or year
            quantity = quantity or not (clock or year)
    kinds = [kind for kind, found in (("time", time), ("quantity", quantity)) if found]
    if text.endswith("?"):
        kinds.append(ASKS)
    return ",".join(kinds)


def _without_closing_notes(body: str) -> str:
    text = body.strip()
    while (note := _CLOSING_NOTE.search(text)) is not None:
        text = text[: note.start()].rstrip()
    return text
