"""Property-based fuzzing (hypothesis) of the parser, the serializer, path handling and the
safety detectors. bench/fuzz_parser.py runs the parser property for as long as you like
(with atheris when it is installed)."""

from __future__ import annotations

import contextlib
import string
from datetime import UTC, datetime
from pathlib import Path

from contextree.core.entry import Entry, EntryFormatError, dump_entry, parse_entry
from contextree.core.errors import InvalidError
from contextree.core.paths import entry_file, normalize_entry_path, normalize_prefix
from contextree.core.safety import find_injection, find_secrets
from contextree.core.store import decode_text
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like YAML frontmatter: the characters YAML gives meaning to, keys mem
# knows, tags, anchors and aliases, flow and block collections, odd line breaks.
YAML_TOKENS = st.sampled_from(
    [
        "title",
        "summary",
        "tags",
        "related",
        "importance",
        "maturity",
        "decay",
        "created",
        "updated",
        "source",
        "x",
        ": ",
        ":",
        "- ",
        "? ",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "&a ",
        "*a",
        "!!python/object/apply:os.system ",
        "!!binary ",
        "!!timestamp ",
        "!!int ",
        "!!float ",
        "!!set ",
        "!!omap ",
        "! ",
        "|",
        ">",
        "'",
        '"',
        "#",
        "%YAML 1.1\n",
        "---",
        "...",
        "\n",
        "\n  ",
        "\r\n",
        "\t",
        "\x00",
        "\ufeff",
        "2026-13-45",
        "2026-02-30T25:61:61Z",
        "9" * 5000,
        "1e999",
        ".nan",
        "~",
        "null",
        "yes",
        "a/b/c",
        "../../etc/passwd",
        "é",
        "数据库",
        "\u202e",
    ]
)
frontmatter_like = st.lists(YAML_TOKENS, max_size=40).map("".join)
documents = st.one_of(
    st.text(max_size=300),
    st.builds(lambda fm, body: "---\n" + fm + "\n---\n" + body, frontmatter_like, st.text(max_size=100)),
    st.builds(lambda fm: "---\n" + fm, frontmatter_like),
)


@FUZZ
@given(documents)
@example("---\ntitle: t\ncreated: 2026-13-45\n---\n")
@example("---\nx: " + "[" * 50_000 + "\n---\n")
@example("---\ntitle: " + "9" * 5000 + "\n---\n")
@example("---\n!!python/object/apply:os.system [echo pwned]\n---\n")
# Found by bench/fuzz_parser.py (atheris): year 317 was written back as "317-09-02", which
# YAML does not read as a date; a heading of 150 brackets became a title whose quoted
# brackets the nesting guard counted.
@example("---\ntitle: t\ncreated: 0317-09-02T09:30:00Z\n---\n")
@example("## " + "[{" * 150 + "\n")
@example("---\nx: [hello 'w, " + "[" * 50_000 + "]" * 50_000 + ", z']\n---\n")
def test_parser_raises_only_format_errors(text: str) -> None:
    try:
        entry = parse_entry("a/b/c", text)
    except EntryFormatError as error:
        assert error.problems and all("\n" not in problem for problem in error.problems)
        assert len(error.message) <= 1000
        return
    # Whatever parses, mem can write back and read again unchanged.
    assert parse_entry("a/b/c", dump_entry(entry)) == entry


@FUZZ
@given(st.binary(max_size=400))
def test_bytes_raise_only_invalid_errors(data: bytes) -> None:
    with contextlib.suppress(InvalidError):  # anything else fails the test
        parse_entry("a/b/c", decode_text(data, "a/b/c"))


# --- serializer round trip with hostile text --------------------------------------------

hostile_line = (
    st.lists(
        st.one_of(
            st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=8),
            st.sampled_from(
                ["\u200b", "\u202e", "\ufeff", "\u00a0", "#", ": ", "'", '"', "---", "- ", "&a", "*a", "!!"]
            ),
        ),
        min_size=1,
        max_size=12,
    )
    .map("".join)
    .map(str.strip)
    .filter(bool)
)
hostile_body = st.lists(
    st.one_of(
        st.text(max_size=60),
        st.sampled_from(["---", "...", "---\n---", "title: injected", "\r", "<<<<<<< x", "```", "\ufeff"]),
    ),
    max_size=8,
).map("\n".join)
slug = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=10)
paths = st.lists(slug, min_size=3, max_size=4).map("/".join)


@FUZZ
@given(
    st.builds(
        Entry,
        path=paths,
        title=hostile_line,
        body=hostile_body,
        summary=st.one_of(st.just(""), hostile_line),
        tags=st.lists(hostile_line, max_size=4).map(tuple),
        related=st.lists(paths, max_size=3).map(tuple),
        importance=st.integers(0, 100),
        source=st.one_of(st.none(), hostile_line),
        created=st.one_of(st.none(), st.datetimes(min_value=datetime(1970, 1, 2), timezones=st.just(UTC))),
    )
)
def test_round_trip_with_hostile_text(entry: Entry) -> None:
    text = dump_entry(entry)
    if "<<<<<<<" in entry.body and "=======" in entry.body:
        return  # conflict markers are refused on purpose
    assert parse_entry(entry.path, text) == entry


# --- path handling ---------------------------------------------------------------------

path_like = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.one_of(
            slug, st.sampled_from(["..", ".", "", "~", "/", "\\", "\x00", "A", "é", " ", "C:", "_archive", ".mem"])
        ),
        max_size=6,
    ).map("/".join),
)


@FUZZ
@given(path_like)
def test_paths_are_refused_or_stay_inside_the_root(raw: str) -> None:
    root = Path("/srv/memory-root")
    for normalize in (normalize_entry_path, normalize_prefix):
        try:
            path = normalize(raw)
        except InvalidError as error:
            assert "\n" not in error.message and len(error.message) <= 1000
            continue
        if not path:
            continue
        target = (root / (path + ".md")).resolve()
        assert target.is_relative_to(root), (raw, path)
        assert all(part not in ("..", ".", "") for part in path.split("/"))
        if normalize is normalize_entry_path:
            assert entry_file(root, path).resolve() == target  # nothing on disk: no symlinks to refuse


# --- detectors ---------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=600))
def test_detectors_never_fail_and_excerpts_stay_on_one_line(text: str) -> None:
    for finding in find_secrets(text):
        assert "\n" not in finding.excerpt and finding.line >= 1
    for signal in find_injection(text):
        assert "\n" not in signal.excerpt and signal.line >= 1
