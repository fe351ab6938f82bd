"""The entry file format: YAML frontmatter plus a markdown body.

This module is the whole on-disk contract of an entry file: the keys (those a writer sets and
those mem itself adds), the size rules, and the conversion between a file's bytes or text and
`Entry` values. Reading and writing files is `store.py`'s job (byte level) and `files.py`'s
(locks, validation, commits). Rules it keeps:

- YAML is loaded with the safe loader only, so tags such as `!!python/object/apply` are
  rejected, never executed.
- Known keys are validated with one message per problem; unknown keys are kept as they are
  and written back after the known ones, in their original order.
- Keys are written in a stable order so rewrites make small diffs.
- The body is kept byte for byte: nothing is stripped, wrapped or reflowed. (This is why the
  frontmatter is split here rather than with python-frontmatter, whose `parse` strips the
  body.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args

from .display import clip, shown
from .errors import InvalidError, MemError
from .paths import normalize_entry_path
from .store import decode_text
from .times import utc

Maturity = Literal["draft", "validated", "core"]
Decay = Literal["normal", "slow", "never"]
MATURITIES: tuple[Maturity, ...] = get_args(Maturity)
DECAYS: tuple[Decay, ...] = get_args(Decay)

# The order keys are written in; unknown keys follow in the order they were found.
KNOWN_KEYS = (
    "title",
    "summary",
    "tags",
    "keywords",
    "related",
    "importance",
    "maturity",
    "decay",
    "created",
    "updated",
    "source",
)
# Keys mem itself adds to an entry's frontmatter (kept among the unknown keys, `Entry.extra`).
# docs/file-format.md lists them; nothing else writes a key of its own.
ARCHIVED_AT_KEY = "archived_at"  # `mem forget`, `mem consolidate`: when it went to _archive/
ARCHIVED_REASON_KEY = "archived_reason"  # ... and why
SUPERSEDED_BY_KEY = "superseded_by"  # consolidate (merged away) and curate (replaced)
SUPERSEDED_AT_KEY = "superseded_at"  # curate: when it was replaced
SUPERSEDES_KEY = "supersedes"  # curate: the entry a new one replaces
MERGED_FROM_KEY = "merged_from"  # consolidate: the near-duplicates an entry absorbed
MATURITY_CHANGED_KEY = "maturity_changed_at"  # consolidate: the last maturity move
MATURITY_REASON_KEY = "maturity_reason"  # ... and why
IMPORT_DIGEST_KEY = "import_digest"  # import: a hash of the source part an entry came from
ORIGINAL_SOURCE_KEY = "original_source"  # import: the `source` a foreign note had itself
REPLY_TO_KEY = "reply_to"  # import of a conversation: the turn this one answers
SPEAKER_KEY = "speaker"  # ... and who said it (user, assistant)
MEM_KEYS = (
    ARCHIVED_AT_KEY,
    ARCHIVED_REASON_KEY,
    SUPERSEDED_BY_KEY,
    SUPERSEDED_AT_KEY,
    SUPERSEDES_KEY,
    MERGED_FROM_KEY,
    MATURITY_CHANGED_KEY,
    MATURITY_REASON_KEY,
    IMPORT_DIGEST_KEY,
    ORIGINAL_SOURCE_KEY,
    REPLY_TO_KEY,
    SPEAKER_KEY,
)
# The keys whose value is the path of one other entry: links, like `related`, that recall
# lets relevance flow along and `mem mv` rewrites when their target moves.
PATH_LINK_KEYS = (SUPERSEDES_KEY, SUPERSEDED_BY_KEY, REPLY_TO_KEY)
DEFAULT_IMPORTANCE = 50
TITLE_FROM_TEXT_MAX = 80  # the rule before derive_title: first line cut near 80 characters
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 2000
MAX_LIST_ITEMS = 200
MAX_ITEM_CHARS = 200  # one tag, keyword or related path
# The YAML of a frontmatter is bounded in size and nesting before it is parsed: libyaml
# (PyYAML's C loader) recurses once per nesting level and crashes the process with a
# segmentation fault at a few tens of thousands of levels (`[[[[...` in a 200 KB file).
MAX_FRONTMATTER_CHARS = 256 * 1024
# Unknown keys are kept verbatim; a bound on their size stops YAML alias bombs from
# expanding when an entry is rendered as JSON.
MAX_EXTRA_NODES = 10_000


class EntryFormatError(InvalidError):
    """A file that is not a valid entry. `problems` holds one message per problem."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = tuple(problems)
        super().__init__(f"{where}: " + "; ".join(problems))


@dataclass(frozen=True)
class Entry:
    """One entry: its path (location without `.md`), frontmatter fields and body."""

    path: str
    title: str
    body: str = ""
    summary: str = ""
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    importance: int = DEFAULT_IMPORTANCE
    maturity: Maturity = "draft"
    decay: Decay = "normal"
    created: datetime | None = None
    updated: datetime | None = None
    source: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.path.split("/", 1)[0]

    def metadata(self) -> dict[str, Any]:
        """The frontmatter mapping in the order it is written (empty optional keys left out)."""
        meta: dict[str, Any] = {"title": self.title}
        if self.summary:
            meta["summary"] = self.summary
        for key in ("tags", "keywords", "related"):
            values = getattr(self, key)
            if values:
                meta[key] = list(values)
        meta["importance"] = self.importance
        meta["maturity"] = self.maturity
        meta["decay"] = self.decay
        if self.created is not None:
            meta["created"] = self.created
        if self.updated is not None:
            meta["updated"] = self.updated
        if self.source is not None:
            meta["source"] = self.source
        meta.update(self.extra)
        return meta


# --- time ------------------------------------------------------------------------------


def _parse_time(value: Any) -> datetime:
    # OverflowError too: `9999-12-31T23:00:00-12:00` is a valid YAML time whose UTC form is
    # past year 9999; one such file must be its own format problem, not every reader's crash.
    try:
        if isinstance(value, datetime):
            return utc(value)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, str):
            return utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        pass
    raise ValueError(f"{shown(value)} is not a date-time like 2026-03-02T10:14:00Z (between years 1 and 9999 in UTC)")


# --- YAML ------------------------------------------------------------------------------


def dump_yaml(data: Mapping[str, Any]) -> str:
    from .yamldump import dump  # yaml only where frontmatter is written (core/yamldump.py)

    return dump(data)


def load_yaml(text: str, *, what: str = "frontmatter", max_chars: int = MAX_FRONTMATTER_CHARS) -> Any:
    """Frontmatter YAML through `yamlsafe.load_yaml` (size, nesting, alias expansion and
    duplicate keys bounded); ValueError or yaml.YAMLError for a text it refuses."""
    from . import yamlsafe  # imports yaml: only when a frontmatter is parsed

    return yamlsafe.load_yaml(text, what=what, max_chars=max_chars)


_OPENING = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
_HEADING = re.compile(r"\A\s*#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def split_frontmatter(text: str) -> tuple[str | None, str]:
    """(frontmatter text or None when the file has none, body exactly as written)."""
    opening = _OPENING.match(text)
    if opening is None:
        return None, text
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        raise ValueError("the frontmatter opens with '---' but has no closing '---' line")
    return text[opening.end() : closing.start()], text[closing.end() :]


# --- validation ------------------------------------------------------------------------


def body_start_line(text: str) -> int:
    """How many lines of an entry file's text come before the body (the frontmatter and its
    fences); 0 without a frontmatter."""
    try:
        _, body = split_frontmatter(text)
    except ValueError:
        return 0
    return text.count("\n", 0, len(text) - len(body))


def line_namer(text: str) -> Callable[[int], str]:
    """Names for the lines of an entry file's text: "frontmatter line 2", "body line 3"."""
    header_lines = body_start_line(text)
    if header_lines == 0:
        return lambda line: f"line {line}"

    def name(line: int) -> str:
        return f"body line {line - header_lines}" if line > header_lines else f"frontmatter line {line - 1}"

    return name


# Control characters (other than tab) have no place in one-line fields and could drive a
# terminal that prints them (`\x1b[2J` in a title would clear the screen of `mem list`).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
# The summary may span lines: the same set without the newline (\x0a).
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _string_list(key: str, value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        # A person typing `tags: auth, redis` means a list; accept it rather than drop the entry.
        value = [part for part in (p.strip() for p in value.split(",")) if part]
    if not isinstance(value, list):
        problems.append(f"'{key}' must be a list of strings, not {type(value).__name__}")
        return ()
    if len(value) > MAX_LIST_ITEMS:
        problems.append(f"'{key}' has {len(value)} items; at most {MAX_LIST_ITEMS} are allowed")
        return ()
    items: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            problems.append(f"'{key}' items must be strings, found {type(item).__name__}")
            return ()
        try:
            text = str(item).strip()
        except ValueError:  # an int too long to print
            problems.append(f"'{key}' items must be strings, found a number too long to print")
            return ()
        if not text or "\n" in text:
            problems.append(f"'{key}' items must be non-empty single-line strings")
            return ()
        if len(text) > MAX_ITEM_CHARS:
            problems.append(f"'{key}' item {shown(text)} is {len(text):,} characters; at most {MAX_ITEM_CHARS}")
            return ()
        if _CONTROL.search(text):
            problems.append(f"'{key}' item {shown(text)} contains control characters")
            return ()
        items.append(text)
    return tuple(items)


def _bounded_size(value: Any, budget: int) -> int:
    """Count nodes of a YAML value, stopping once `budget` is spent (aliases count each time)."""
    stack = [value]
    count = 0
    while stack and count <= budget:
        node = stack.pop()
        count += 1
        if isinstance(node, Mapping):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def entry_from_metadata(path: str, meta: Mapping[Any, Any], body: str, *, where: str | None = None) -> Entry:
    """Validate a frontmatter mapping and build the Entry; raise EntryFormatError listing every problem."""
    problems: list[str] = []
    fields: dict[str, Any] = {}
    _check_title(meta.get("title"), fields, problems)
    _check_summary(meta.get("summary"), fields, problems)
    for key in ("tags", "keywords", "related"):
        fields[key] = _string_list(key, meta.get(key), problems)
    fields["related"] = _entry_links(fields["related"], problems)
    _check_importance(meta.get("importance", DEFAULT_IMPORTANCE), fields, problems)
    for key, allowed in (("maturity", MATURITIES), ("decay", DECAYS)):
        value = meta.get(key)
        if value is None:
            continue
        if value not in allowed:
            problems.append(f"'{key}' must be one of {', '.join(allowed)}, not {shown(value)}")
        else:
            fields[key] = value
    for key in ("created", "updated"):
        value = meta.get(key)
        if value is None:
            continue
        try:
            fields[key] = _parse_time(value)
        except ValueError as error:
            problems.append(f"'{key}': {error}")
    source = meta.get("source")
    if source is not None:
        if not isinstance(source, str) or _CONTROL.search(source) or len(source) > MAX_ITEM_CHARS:
            problems.append("'source' must be one short line of text such as user or agent:claude-code")
        else:
            fields["source"] = source.strip()
    extra = _extra_keys(meta, problems)
    if problems:
        raise EntryFormatError(where or path, problems)
    return Entry(path=path, body=body, extra=extra, **fields)


def _check_title(title: Any, fields: dict[str, Any], problems: list[str]) -> None:
    if title is None or (isinstance(title, str) and not title.strip()):
        problems.append("'title' is required")
    elif not isinstance(title, (str, int, float)) or isinstance(title, bool):
        problems.append(f"'title' must be text, not {type(title).__name__}")
    elif not isinstance(title, str) and abs(title) >= 10**MAX_TITLE_CHARS:
        problems.append(f"'title' is a number of over {MAX_TITLE_CHARS} digits")
    else:
        title = str(title).strip()
        if "\n" in title:
            problems.append("'title' must be a single line")
        elif len(title) > MAX_TITLE_CHARS:
            problems.append(f"'title' is {len(title):,} characters; at most {MAX_TITLE_CHARS} are allowed")
        elif _CONTROL.search(title):
            problems.append(f"'title' {shown(title)} contains control characters")
        else:
            fields["title"] = title


def _check_summary(summary: Any, fields: dict[str, Any], problems: list[str]) -> None:
    if summary is None:
        return
    if not isinstance(summary, str):
        problems.append(f"'summary' must be text, not {type(summary).__name__}")
    elif len(summary) > MAX_SUMMARY_CHARS:
        problems.append(f"'summary' is {len(summary):,} characters; at most {MAX_SUMMARY_CHARS} are allowed")
    elif _CONTROL_IN_TEXT.search(summary):
        problems.append(f"'summary' {shown(summary)} contains control characters")
    else:
        fields["summary"] = summary.strip()


def _entry_links(links: tuple[str, ...], problems: list[str]) -> tuple[str, ...]:
    related: list[str] = []
    for link in links:
        try:
            related.append(normalize_entry_path(link))
        except InvalidError as error:
            problems.append(f"'related' link {shown(link)} is not an entry path ({error.message})")
    return tuple(related)


def _check_importance(importance: Any, fields: dict[str, Any], problems: list[str]) -> None:
    if isinstance(importance, float) and math.isfinite(importance) and importance.is_integer():
        importance = int(importance)
    if isinstance(importance, bool) or not isinstance(importance, int):
        problems.append(f"'importance' must be a whole number from 0 to 100, not {shown(importance)}")
    elif not 0 <= importance <= 100:
        problems.append(f"'importance' must be from 0 to 100, not {importance}")
    else:
        fields["importance"] = importance


def _extra_keys(meta: Mapping[Any, Any], problems: list[str]) -> dict[str, Any]:
    """The keys mem does not validate, kept as they are (bounded in size)."""
    extra: dict[str, Any] = {}
    for key, value in meta.items():
        if not isinstance(key, str):
            problems.append(f"frontmatter key {shown(key)} is not text")
        elif key not in KNOWN_KEYS:
            extra[key] = value
    if _bounded_size(extra, MAX_EXTRA_NODES) > MAX_EXTRA_NODES:
        problems.append(f"unknown frontmatter keys hold more than {MAX_EXTRA_NODES} values")
    return extra


def linked_paths(entry: Entry) -> tuple[str, ...]:
    """Every entry this one names: its `related` links, then the path-valued link keys."""
    targets = list(entry.related)
    for key in PATH_LINK_KEYS:
        value = entry.extra.get(key)
        if isinstance(value, str) and value:
            targets.append(value)
    return tuple(dict.fromkeys(targets))


def with_links_moved(entry: Entry, moves: Mapping[str, str]) -> Entry:
    """The entry with every link to a moved entry (old path -> new path) pointing at its new
    path; the same entry if it links to none of them."""
    related = tuple(dict.fromkeys(moves.get(link, link) for link in entry.related))
    extra = dict(entry.extra)
    for key in PATH_LINK_KEYS:
        value = extra.get(key)
        if isinstance(value, str) and value in moves:
            extra[key] = moves[value]
    return replace(entry, related=related, extra=extra)


def without_links(entry: Entry) -> Entry:
    """The entry with no links at all: what two copies of a moved entry must share."""
    return replace(entry, related=(), extra={k: v for k, v in entry.extra.items() if k not in PATH_LINK_KEYS})


def has_conflict_markers(text: str) -> bool:
    """Git's conflict markers (<<<<<<<, =======, >>>>>>> at line starts, in that order) outside
    fenced code blocks, where an entry may quote them on purpose."""
    if "<<<<<<<" not in text:
        return False
    state = 0  # 0: looking for <<<<<<<, 1: for =======, 2: for >>>>>>>
    fenced = False
    for line in text.splitlines():
        if line.startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue
        if state == 0 and line.startswith("<<<<<<<"):
            state = 1
        elif state == 1 and line.rstrip() == "=======":
            state = 2
        elif state == 2 and line.startswith(">>>>>>>"):
            return True
    return False


def parse_entry(path: str, text: str, *, where: str | None = None) -> Entry:
    """Parse the text of an entry file. A file without frontmatter is an entry too: its title
    comes from the first markdown heading, else from the file name."""
    where = where or path
    if has_conflict_markers(text):
        # Left by a sync that stopped on a conflict: say so, rather than a puzzling YAML error.
        raise EntryFormatError(
            where,
            [
                "has unresolved git conflict markers (<<<<<<< ======= >>>>>>>): keep the right text, "
                "remove the marker lines, then `mem sync --continue`"
            ],
        )
    try:
        frontmatter, body = split_frontmatter(text)
    except ValueError as error:
        raise EntryFormatError(where, [str(error)]) from None
    if frontmatter is None:
        # Not `title_from_text`'s rule (for `mem add` without --title): a file on disk keeps
        # its whole body, and its name is a better title than its first line.
        heading = _HEADING.match(body)
        title = heading.group(1).strip() if heading else path.rsplit("/", 1)[-1].replace("-", " ")
        return entry_from_metadata(path, {"title": title[:MAX_TITLE_CHARS]}, body, where=where)
    from yaml import YAMLError  # parsing a frontmatter needs yaml anyway

    try:
        meta = load_yaml(frontmatter)
    except YAMLError as error:
        reason = clip(" ".join(str(error).split()), 160)
        raise EntryFormatError(where, [f"frontmatter is not valid YAML ({reason})"]) from None
    except ValueError as error:
        raise EntryFormatError(where, [str(error)]) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise EntryFormatError(where, [f"frontmatter must be a mapping of keys, not {type(meta).__name__}"])
    try:
        return entry_from_metadata(path, meta, body, where=where)
    except (MemError, MemoryError):
        raise
    except Exception as error:
        # Every failure of the parser on one file is that file's format problem: one bad
        # entry must never make the whole tree unreadable (list, recall, doctor...).
        raise EntryFormatError(where, [f"cannot be read ({type(error).__name__}: {clip(str(error), 120)})"]) from None


def body_size_problem(body: str, limit: int) -> str | None:
    """The one body-size rule, for reads and writes alike: None, or what is wrong."""
    size = len(body.encode("utf-8"))
    return f"body is {size:,} bytes, over the {limit:,}-byte limit" if size > limit else None


def check_body_size(entry: Entry, limit: int, where: str) -> Entry:
    """Refuse an entry read from disk whose body is over the limit a write would refuse."""
    problem = body_size_problem(entry.body, limit)
    if problem is not None:
        raise EntryFormatError(where, [problem])
    return entry


def parse_entry_bytes(path: str, data: bytes, *, where: str, max_body_bytes: int) -> Entry:
    """An entry from a file's bytes, with the size rule a write applies: the one way every
    reader (files.EntryFiles, the index, doctor) turns an entry file into an `Entry`."""
    entry = parse_entry(path, decode_text(data, where), where=where)
    return check_body_size(entry, max_body_bytes, where)


# --- derived titles ----------------------------------------------------------------
#
# The title of an entry added without one is the body's leading markdown heading, else its
# first sentence (or first line, when that ends before a sentence does), without list or
# quote markers; a very long sentence is cut at a clause or word boundary, never inside a
# word. Nothing on disk marks a title as derived: a title *is* derived while it equals what
# `derive_title` (or the rule of earlier versions) makes of the body. Such a title follows
# the body when the body is replaced; once someone sets a title of their own, it stays.

TITLE_SOFT_MAX = 100  # characters: a first sentence longer than this is cut
# Where a sentence ends: . ! ? (or their CJK forms) followed by a space, or a CJK stop.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|(?<=[。！？])")
# Markdown that starts a line but is not part of what it says: list and quote markers,
# task boxes, numbered items.
_LINE_MARKUP = re.compile(r"^(?:>\s*)*(?:[-*+]\s+(?:\[[ xX]\]\s+)?|\d{1,3}[.)]\s+)?")
_EMPHASIS = re.compile(r"(\*\*|__|`)(.+?)\1")
# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "incl.", "Mr.", "Ms.", "Dr.", "No.")
LEGACY_MAX = TITLE_FROM_TEXT_MAX  # the old rule: the first line, cut at a word near 80 characters


def slug_title(path: str) -> str:
    """`decisions/api/url-versioning` -> "Url versioning" (for an empty body)."""
    return path.rsplit("/", 1)[-1].replace("-", " ").capitalize()


def _first_sentence(line: str) -> str:
    start = 0
    for match in _SENTENCE_END.finditer(line):
        candidate = line[: match.start()].rstrip()
        if candidate.endswith(_ABBREVIATIONS) or len(candidate) - start < 3:
            continue
        return candidate
    return line


def _shorten(text: str) -> str:
    if len(text) <= TITLE_SOFT_MAX:
        return text
    head = text[:TITLE_SOFT_MAX]
    for boundary in (";", ":", " —", " –", ","):
        cut = head.rfind(boundary)
        if cut >= TITLE_SOFT_MAX // 2:
            return head[:cut].rstrip() + "…"
    cut = head.rfind(" ")
    return (head[:cut] if cut > 0 else head).rstrip(" ,;:") + "…"


def split_heading(text: str) -> tuple[str | None, str]:
    """(heading, rest) when `text` starts with a markdown heading, else (None, text)."""
    stripped = text.lstrip("\n")
    first_line, _, rest = stripped.partition("\n")
    line = first_line.strip()
    if line.startswith("#"):
        heading = line.lstrip("#").strip()
        if heading:
            return heading, rest.lstrip("\n")
    return None, text


def derive_title(body: str, path: str) -> str:
    """The title for `body`: its first sentence or line, cleaned of markdown; the slug of
    `path` when the body has no words."""
    heading, _ = split_heading(body)
    if heading is not None:
        return heading
    prose: list[str] = []
    code: list[str] = []
    fenced = False
    for raw in body.splitlines():
        stripped = raw.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            code.append(stripped)
            continue
        line = _EMPHASIS.sub(r"\2", _LINE_MARKUP.sub("", stripped)).strip()
        if line and not line.startswith(("|", "<!--")):
            prose.append(line)
            break
    first = next(iter(prose), None) or next((line for line in code if line), None)
    if first is not None:
        sentence = _first_sentence(first)
        if sentence.endswith((".", "。")) and not sentence.endswith(("..", *_ABBREVIATIONS)):
            sentence = sentence[:-1]
        return _shorten(sentence)
    return slug_title(path)


def _legacy_title(body: str, path: str) -> str:
    """What versions before the first-sentence rule derived (to recognise their titles)."""
    line = body.lstrip("\n").partition("\n")[0].strip()
    if not line:
        return slug_title(path)
    if len(line) > LEGACY_MAX:
        cut = line[:LEGACY_MAX].rsplit(" ", 1)[0].rstrip(" ,;:.")
        line = (cut or line[:LEGACY_MAX]) + "…"
    return line


def is_derived(title: str, body: str, path: str) -> bool:
    """True when `title` is what mem would derive from `body` (now or by the old rule): a
    title nobody chose, which may follow the body."""
    return title in (derive_title(body, path), _legacy_title(body, path))


def title_from_text(text: str, path: str) -> tuple[str, str]:
    """(title, body) for text added without --title. A leading heading becomes the title and
    leaves the body (it would only repeat it); otherwise the title is `derive_title`'s and the
    body is kept whole. (A file read from disk without frontmatter gets its title by
    `parse_entry`'s rule instead: heading, else the file name.)"""
    heading, rest = split_heading(text)
    if heading is not None:
        return heading, rest
    return derive_title(text, path), text


def normalize_body(text: str) -> str:
    """Bodies written by mem end in exactly one newline (files read from disk are untouched)."""
    stripped = text.strip("\n")
    return stripped + "\n" if stripped.strip() else ""


def dump_entry(entry: Entry) -> str:
    """The file text of an entry: `---`, the frontmatter in stable key order, `---`, the body."""
    return "---\n" + dump_yaml(entry.metadata()) + "---\n" + entry.body
