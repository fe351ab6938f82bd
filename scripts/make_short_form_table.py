"""Regenerate core/data/short-forms.txt, the short forms of the trade's words that recall
reads as the words they stand for (docs/recall.md, "Short forms").

Derived from "Abbreviations in code" (github.com/kisvegabor/abbreviations-in-code, as
mirrored at github.com/xin-miao-cs/abbreviations-in-code, commit f0a809f; MIT licence,
reproduced in core/data/SHORT-FORMS-LICENSE): a curated list of 279 words of programming and
the short forms developers write for them (`database` db, `repository` repo, `production`
prod, `environment` env, `configuration` config), each marked recommended, context-sensitive
or not recommended as a name. For recall the mark does not matter - people type `cfg` whether
or not it is a good variable name - except that a not-recommended short form that is itself
an English word (`act` for action, `def` for default, `cur` for current) says too little to
be read as the long one. Nor is a short form read as a long word when it is a stopword or an
everyday word of English at large, unless the trade uses it more still (`in` for input, `out`
for output, `win` for window, `net` for network are left out; `app`, `info`, `max` stay): a
question's "input" must not find every entry that says "in". Short forms of one letter, or
with other than letters and digits,
are left out, and so are long words that are neither English nor the trade's (`secant` for
sec, and the list's one misspelling, `subtration`): a memory that says `sec` means seconds or
security far more often.

    git clone https://github.com/xin-miao-cs/abbreviations-in-code /tmp/aic
    python scripts/make_short_form_table.py /tmp/aic/data/abbrs/.yml > core/data/short-forms.txt
    cp /tmp/aic/LICENCE core/data/SHORT-FORMS-LICENSE
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import yaml
from contextree.core.lexicon import EVERYDAY_ZIPF, is_common_word, is_real_word, trade_zipf, zipf
from contextree.core.text import STOPWORDS


def short_forms(listing: Path) -> dict[str, list[str]]:
    """short form -> the words it stands for, in the list's order."""
    table: dict[str, list[str]] = defaultdict(list)
    for item in yaml.safe_load(listing.read_text(encoding="utf-8")):
        word = " ".join(str(item["word"]).lower().split())
        for form in item["abbrs"]:
            short = str(form["abbr"]).lower()
            if len(short) < 2 or not short.isalnum() or short == word:
                continue
            if form.get("degree") == "red" and is_real_word(short):
                continue
            if short in STOPWORDS or zipf(short) >= max(EVERYDAY_ZIPF, trade_zipf(short)):
                continue  # `in` for input, `win` for window: an English word of its own
            if not all(is_common_word(part) or is_real_word(part) for part in word.split()):
                continue
            if word not in table[short]:
                table[short].append(word)
    return dict(table)


def main() -> None:
    table = short_forms(Path(sys.argv[1]))
    print('# Short forms of the trade\'s words, from "Abbreviations in code" (MIT licence, in')
    print("# SHORT-FORMS-LICENSE). Regenerate: scripts/make_short_form_table.py. Each line: a short")
    print("# form, a colon, the words it stands for separated by commas (a word may be a phrase).")
    for short in sorted(table):
        print(f"{short}: {', '.join(table[short])}")


if __name__ == "__main__":
    main()
