"""What a new entry lands next to, for the warnings of `add` and the path `add` proposes.

- *Near-duplicates*: the few entries the search index ranks highest for the new entry's
  words are compared with it by the rule `mem consolidate` uses (core/duplicates.py). Only
  an index that already exists is asked: building one would make an add on a large tree
  slow, and an entry added since the last recall is missed (the warning is a courtesy; the
  full check is `mem consolidate --dry-run`).
- *Look-alike folders*: a folder that an add creates beside one with nearly the same name
  (`runbook/` next to `runbooks/`, `kubernetes/` next to `kubernets/`).
- *A path for text without one*: the folder of the entry most like the text, and a slug
  from the text's derived title. No model is involved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .entry import derive_title
from .paths import ARCHIVE_DIR, STATE_DIR, slugify

if TYPE_CHECKING:
    from .entry import Entry
    from .memory import Memory

CANDIDATES = 5  # entries compared with a new one
QUERY_TERMS = 40  # of the new entry's words, the longest first
FOLDER_SIMILARITY = 80.0  # rapidfuzz ratio (0-100) of two folder names that look alike
SLUG_WORDS = 6


@dataclass(frozen=True)
class Neighbour:
    path: str
    similarity: float  # 0-100, as in `mem consolidate --dry-run`


def _query(text: str) -> list[str]:
    from .lexicon import is_phrasal
    from .text import query_terms

    terms = list(dict.fromkeys(query_terms(text[:4000], is_phrasal)))
    return sorted(terms, key=len, reverse=True)[:QUERY_TERMS]


def _ranked(memory: Memory, text: str, *, build: bool) -> list[str]:
    """Paths of the entries most like `text`, best first, from the keyword index (built
    or brought up to date first only when `build`)."""
    from .index import INDEX_FILE as DB_FILE

    if not build and not (memory.root / STATE_DIR / DB_FILE).exists():
        return []
    index = memory.index()
    if build:
        index.ensure_current()
    terms = _query(text)
    if not terms:
        return []
    cfg = memory.config.recall
    weights = (cfg.weight_title, cfg.weight_keywords, cfg.weight_path, cfg.weight_summary, cfg.weight_body)
    ranked = index.bm25(terms, weights, "", CANDIDATES + 1)
    docs = index.docs(doc_id for doc_id, _ in ranked)
    return [docs[doc_id].path for doc_id, _ in ranked if doc_id in docs]


def near_duplicates(memory: Memory, entry: Entry) -> list[Neighbour]:
    """Existing entries that `entry` (already written) nearly repeats, most similar first."""
    from .duplicates import Document, find_duplicates, word_set
    from .errors import MemError

    def document(item: Entry) -> Document:
        text = "\n".join((item.summary, " ".join(item.keywords), " ".join(item.tags), item.body))
        return Document(item.path, item.title, text, item.body)

    found = []
    new = document(entry)
    words = word_set(new.title, new.text)
    for path in _ranked(memory, f"{entry.title}\n{entry.body}", build=False):
        if path == entry.path:
            continue
        try:
            other = document(memory.get(path))
        except MemError:  # removed or broken since it was indexed: nothing to compare
            continue
        # The word overlap first (cheap): rapidfuzz is imported only for a likely pair.
        theirs = word_set(other.title, other.text)
        union = len(words | theirs)
        if not union or len(words & theirs) / union < memory.config.lifecycle.duplicate_min_overlap:
            continue
        for pair in find_duplicates([new, other], memory.config.lifecycle):
            found.append(Neighbour(path, pair.similarity))
    return sorted(found, key=lambda neighbour: -neighbour.similarity)


def new_folders(root: Path, path: str) -> list[str]:
    """The folders (as paths) that adding an entry at `path` would create."""
    parts = path.split("/")[:-1]
    return [
        "/".join(parts[: depth + 1]) for depth in range(len(parts)) if not root.joinpath(*parts[: depth + 1]).is_dir()
    ]


def look_alike_folders(root: Path, folders: list[str]) -> list[tuple[str, str]]:
    """(new folder, existing sibling) pairs where the names nearly match (checked before the
    write: `folders` are those new_folders() named)."""
    from rapidfuzz import fuzz

    pairs = []
    for folder in folders[:1]:  # the first new folder: the ones inside it are new by extension
        parent, _, name = folder.rpartition("/")
        base = root.joinpath(*parent.split("/")) if parent else root
        try:
            siblings = [child.name for child in base.iterdir() if child.is_dir()]
        except OSError:
            continue
        for sibling in sorted(siblings):
            if sibling.startswith((".", "_")) or sibling in (ARCHIVE_DIR, STATE_DIR) or sibling == name:
                continue
            if fuzz.ratio(name, sibling) >= FOLDER_SIMILARITY:
                pairs.append((folder, f"{parent}/{sibling}" if parent else sibling))
    return pairs


def propose_path(memory: Memory, text: str) -> str | None:
    """`domain/topic/slug` for `text`: the folder of the most similar entry and a slug of
    the text's derived title (made unique); None when nothing in the memory is similar."""
    from .paths import entry_file

    ranked = _ranked(memory, text, build=True)
    if not ranked:
        return None
    folder = ranked[0].rsplit("/", 1)[0]
    words = slugify(derive_title(text, "x/x/note")).split("-")
    slug = "-".join(words[:SLUG_WORDS]) or "note"
    candidate, number = f"{folder}/{slug}", 2
    while entry_file(memory.root, candidate).exists():
        candidate, number = f"{folder}/{slug}-{number}", number + 1
    return candidate


def add_warnings(memory: Memory, entry: Entry, created: list[str]) -> list[str]:
    """The warnings for an entry just added: look-alike folders it created, near-duplicates."""
    warnings = [
        f"{entry.path} created {folder}/ next to {sibling}/: if that was meant, "
        f"`mem mv {folder} {sibling}` moves it there"
        for folder, sibling in (look_alike_folders(memory.root, created) if created else [])
    ]
    for neighbour in near_duplicates(memory, entry)[:2]:
        warnings.append(
            f"{entry.path} nearly repeats {neighbour.path} (similarity {neighbour.similarity:.0f}): "
            f"update that one instead? (`mem update {neighbour.path} --append ...`, then `mem forget {entry.path}`)"
        )
    return warnings
