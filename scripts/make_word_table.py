"""Regenerate core/data/english-words.txt, the background model of English that recall uses
to tell how informative a word is (docs/recall.md, "Word weights").

It is derived from the `wordfreq` package (Robyn Speer et al.; code Apache-2.0, word lists
CC BY-SA 4.0): every English word of wordfreq's "large" list with a Zipf frequency of at
least 2.5, folded the way the index folds text (lower case, no accents), grouped by its
Zipf frequency rounded to 0.1. Numbers are in wordfreq's list only as shapes ("00" for any
two digits), so the numbers a question most often holds are added one by one, at the
frequency wordfreq gives each: 0-999 and the years 1900-2099 ("5" 5.75, "24" 5.08, "503"
3.15, "2023" 4.71); without them a number weighed as much as the rarest word and "convert
5 miles to km" was mostly about the 5. The table is shipped instead of the package because wordfreq
installs ~60 MB for many languages and recall needs one number per query word.

    python -m venv /tmp/wf && /tmp/wf/bin/pip install 'wordfreq>=3.1,<4'
    /tmp/wf/bin/python scripts/make_word_table.py > core/data/english-words.txt
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import defaultdict
from importlib.metadata import version

import wordfreq

MINIMUM_ZIPF = 2.5
WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def main() -> int:
    best: dict[str, float] = {}
    for word in wordfreq.iter_wordlist("en", "large"):
        zipf = wordfreq.zipf_frequency(word, "en", "large")
        if zipf < MINIMUM_ZIPF:
            break  # the list is sorted by frequency
        folded = fold(word)
        if WORD.fullmatch(folded) and not folded.isdigit():
            best[folded] = max(best.get(folded, 0.0), zipf)
    for number in [*range(1000), *range(1900, 2100)]:
        zipf = wordfreq.zipf_frequency(str(number), "en", "large")
        if zipf >= MINIMUM_ZIPF:
            best[str(number)] = zipf
    groups: dict[int, list[str]] = defaultdict(list)
    for word, zipf in best.items():
        groups[round(zipf * 10)].append(word)
    out = sys.stdout
    out.write(f"# English word frequencies derived from wordfreq {version('wordfreq')} ('large' list), which is\n")
    out.write("# CC BY-SA 4.0 (https://github.com/rspeer/wordfreq). Regenerate with scripts/make_word_table.py.\n")
    out.write("# Each line: ten times the Zipf frequency, a colon, then the words with it, space-separated.\n")
    for tenths in sorted(groups, reverse=True):
        out.write(f"{tenths}: " + " ".join(sorted(groups[tenths])) + " \n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
