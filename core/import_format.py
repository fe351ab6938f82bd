"""How other tools' notes map to mem's format: import candidates, placement, foreign frontmatter.

Shared by every importer (core/importing.py and the `import_*` readers):

- **Candidates.** An importer reads its source into `Candidate`s (an entry's wished-for place,
  metadata and body, and the origin that ties it to the source: `source: import:<origin>`) and
  `Skipped` parts; core/importing.py plans them against the tree and writes them.
- **Placement.** mem's entries live at depth 3 or 4; other tools' folders are as deep or
  shallow as people made them. The segments are the `--into` prefix, then the source's
  folders, then the file's name, each slugged (`Design Docs` -> `design-docs`,
  `jwt_token_generation` -> `jwt-token-generation`); too shallow (`into/name`): a `general`
  topic in between; too deep: the folders past domain/topic/subtopic are folded into the
  entry's name (`a/b/c/d/e/note` -> `a/b/c/d-e-note`); a name with nothing slug-able in it
  (`会议记录.md`) becomes `note-<6 hex of its name>`.
- **Foreign frontmatter.** The split between frontmatter and body is python-frontmatter's (it
  knows `---` YAML, `+++` TOML and `{ ... }` JSON, the three Hugo, Jekyll, Obsidian and most
  static-site tools use). Its handlers are given our loaders: YAML goes through mem's bounded
  loader (`entry.load_yaml`: size and nesting limits, because libyaml crashes on deep
  nesting), TOML through the standard library's `tomllib` (python-frontmatter's own TOML
  handler needs the unmaintained `toml` package). mem's own entry files are never read here:
  core/entry.py keeps their bodies byte for byte, which python-frontmatter (it strips) would not.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import frontmatter
from frontmatter.default_handlers import BaseHandler, JSONHandler, YAMLHandler

from .entry import (
    DECAYS,
    KNOWN_KEYS,
    MATURITIES,
    MAX_ITEM_CHARS,
    MAX_LIST_ITEMS,
    MAX_TITLE_CHARS,
    ORIGINAL_SOURCE_KEY,
    load_yaml,
)
from .paths import ENTRY_MAX_DEPTH, ENTRY_MIN_DEPTH, SLUG_MAX, slugify

Kind = Literal["folder", "file", "byterover", "mcp-memory", "export", "transcript"]
KINDS: tuple[Kind, ...] = ("folder", "file", "byterover", "mcp-memory", "export", "transcript")

Action = Literal["create", "update", "unchanged", "skip", "refused"]

SOURCE_PREFIX = "import:"


@dataclass(frozen=True)
class Candidate:
    """One entry an importer wants to bring in.

    `path` is where it would go (already a valid entry path); `meta` is the frontmatter mapping
    (mem's keys plus any unknown ones, validated later with the entry rules); `origin` names the
    source part for messages and provenance (`docs/adr/0001-x.md`, `CLAUDE.md#testing`).
    `links` are the source's own names for linked notes, resolved to `related` once every
    candidate has a path, and `reply_to` to the path of the turn it answers. `exact` candidates
    (from a mem export) keep their metadata and body exactly and are matched by path, not by
    provenance.
    """

    path: str
    meta: Mapping[str, Any]
    body: str
    origin: str
    digest: str = ""
    links: tuple[str, ...] = ()
    link_base: str = ""  # the folder (source-relative) that relative links start from
    file_key: str = ""  # the note's own source-relative file path, for links that name it by path
    names: tuple[str, ...] = ()  # what other notes may call this one: stem, title, aliases, permalink
    exact: bool = False
    reply_to: str = ""  # a turn of a conversation: the name of the turn it answers (another's `names`)


@dataclass(frozen=True)
class Skipped:
    """A part of the source that was not imported, and why (shown by --dry-run and after)."""

    origin: str
    reason: str


@dataclass(frozen=True)
class ImportItem:
    action: Action
    origin: str
    path: str | None = None
    reason: str = ""
    title: str = ""


@dataclass(frozen=True)
class ImportReport:
    """The plan (`dry_run`) or the outcome of an import."""

    source: str
    kind: Kind
    dry_run: bool
    items: tuple[ImportItem, ...]
    commit: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    elapsed_seconds: float = 0.0


GENERAL_TOPIC = "general"


def slug_segment(text: str) -> str:
    slug = slugify(text)
    if slug:
        return slug
    return "note-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]


def place(into: list[str], folders: list[str], name: str) -> str:
    """The entry path for a note called `name` in `folders` (raw names), under `into` (slugs)."""
    segments = [*into, *(slug_segment(folder) for folder in folders), slug_segment(name)]
    if len(segments) < ENTRY_MIN_DEPTH:
        if len(segments) == 1:
            segments.insert(0, "imported")
        segments.insert(-1, GENERAL_TOPIC)
    if len(segments) > ENTRY_MAX_DEPTH:
        head = segments[: ENTRY_MAX_DEPTH - 1]
        folded = "-".join(segments[ENTRY_MAX_DEPTH - 1 :])
        if len(folded) > SLUG_MAX:
            digest = hashlib.sha256(folded.encode("utf-8")).hexdigest()[:6]
            folded = folded[: SLUG_MAX - 7].rstrip("-") + "-" + digest
        segments = [*head, folded]
    return "/".join(segments)


def with_suffix(path: str, number: int) -> str:
    """`a/b/name` -> `a/b/name-2`, keeping the last segment a slug of at most 64 characters."""
    folder, _, name = path.rpartition("/")
    suffix = f"-{number}"
    return f"{folder}/{name[: SLUG_MAX - len(suffix)].rstrip('-')}{suffix}"


class _YAML(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        return load_yaml(fm)


class _TOML(BaseHandler):
    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)


class _JSON(JSONHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        return json.loads(fm)


_HANDLERS = (_YAML(), _TOML(), _JSON())


def read_markdown(text: str) -> tuple[dict[str, Any], str]:
    """(frontmatter mapping, body) of a foreign markdown text; ValueError when the
    frontmatter is there but cannot be read (the caller skips the file with that reason)."""
    handler = frontmatter.detect_format(text.lstrip("\ufeff"), _HANDLERS)
    if handler is None:
        return {}, text
    try:
        meta, body = frontmatter.parse(text.lstrip("\ufeff"), handler=handler)
    except ValueError:
        raise
    except Exception as error:  # yaml.YAMLError, tomllib.TOMLDecodeError, json errors
        reason = " ".join(str(error).split())[:160]
        raise ValueError(f"frontmatter cannot be read ({reason})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"frontmatter must be a mapping of keys, not {type(meta).__name__}")
    return meta, body


# Foreign keys that mean one of mem's, in order of preference (first found wins).
_TITLE_KEYS = ("title", "name")
_SUMMARY_KEYS = ("summary", "description", "excerpt")
_TAG_KEYS = ("tags", "tag")
_CREATED_KEYS = ("created", "date", "createdAt", "created_at", "date-created", "date_created")
_UPDATED_KEYS = ("updated", "lastmod", "modified", "updatedAt", "updated_at", "last_updated", "date-modified")
_ALIAS_KEYS = ("aliases", "alias")
# Volatile usage counters of other tools: mem keeps those in .mem/state.db, never in files.
_DROPPED = frozenset({"recency", "accessCount", "updateCount", "access_count", "update_count"})
_TAKEN = frozenset(
    (*_TITLE_KEYS, *_SUMMARY_KEYS, *_TAG_KEYS, *_CREATED_KEYS, *_UPDATED_KEYS, *_ALIAS_KEYS, *KNOWN_KEYS)
)


def _first(meta: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for key in keys:
        value = meta.get(key)
        if value is not None and value not in ("", []):
            return key, value
    return None, None


def _text_list(value: Any) -> list[str]:
    """A list of short one-line strings from a string (comma-separated) or a list; the rest dropped."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    items: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            continue
        text = " ".join(str(item).split()).lstrip("#").strip()
        if text and len(text) <= MAX_ITEM_CHARS and text not in items:
            items.append(text)
    return items[:MAX_LIST_ITEMS]


def moment_of(value: Any) -> datetime | date | None:
    """A date or time as a source writes it (ISO 8601, `Z` for UTC), or None."""
    if isinstance(value, (datetime, date)):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def map_metadata(meta: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """(mem frontmatter, aliases, related links as the source wrote them) from a foreign mapping.

    Known meanings go to mem's keys (title, summary, tags, dates; importance, maturity and decay
    when their values are valid for mem); everything else is kept under its own name. A value
    that cannot be used for mem's key it resembles is kept too, under its own name, so nothing
    the source said is lost. `source` is always set by the importer, so a foreign `source` is
    kept as `original_source`.
    """
    out: dict[str, Any] = {}
    used: set[str] = set()
    key, title = _first(meta, _TITLE_KEYS)
    if isinstance(title, (str, int, float)) and not isinstance(title, bool):
        text = " ".join(str(title).split())
        if text:
            out["title"] = text[:MAX_TITLE_CHARS]
            used.add(key or "")
    key, summary = _first(meta, _SUMMARY_KEYS)
    if isinstance(summary, str) and summary.strip():
        out["summary"] = " ".join(summary.split())[:2000]
        used.add(key or "")
    key, tags = _first(meta, _TAG_KEYS)
    tag_list = _text_list(tags)
    if tag_list:
        out["tags"] = tag_list
        used.add(key or "")
    aliases: list[str] = []
    key, value = _first(meta, _ALIAS_KEYS)
    if value is not None:
        aliases = _text_list(value)
        if aliases:
            used.add(key or "")
    keywords = _text_list(meta.get("keywords"))
    if keywords:
        used.add("keywords")
    keywords += [alias for alias in aliases if alias not in keywords]
    if keywords:
        out["keywords"] = keywords[:MAX_LIST_ITEMS]
    for target, keys in (("created", _CREATED_KEYS), ("updated", _UPDATED_KEYS)):
        key, value = _first(meta, keys)
        moment = moment_of(value)
        if moment is not None:
            out[target] = moment
            used.add(key or "")
    importance = meta.get("importance")
    if isinstance(importance, float) and importance.is_integer():
        importance = int(importance)
    if isinstance(importance, int) and not isinstance(importance, bool) and 0 <= importance <= 100:
        out["importance"] = importance
        used.add("importance")
    for name, allowed in (("maturity", MATURITIES), ("decay", DECAYS)):
        if meta.get(name) in allowed:
            out[name] = meta[name]
            used.add(name)
    related = _text_list(meta.get("related"))
    if related:
        used.add("related")
    for name, value in meta.items():
        if not isinstance(name, str) or name in used or name in _DROPPED:
            continue
        if name == "source":
            out[ORIGINAL_SOURCE_KEY] = value
        elif name in _TAKEN:
            out[f"original_{name}"] = value  # a value mem could not use under its own meaning
        else:
            out[name] = value
    return out, aliases, related
