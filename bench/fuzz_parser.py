"""Bounded fuzz run of the entry parser: arbitrary bytes must become an Entry or an
InvalidError (a one-line "this file is not a valid entry"), never any other exception, a
hang or a crash of the interpreter.

    python bench/fuzz_parser.py --seconds 60                 # atheris if installed, else hypothesis
    python bench/fuzz_parser.py --seconds 60 --engine hypothesis

atheris (coverage-guided libFuzzer for Python) comes with `pip install -e '.[fuzz]'`; it has
wheels for CPython 3.11 on Linux x86-64. Without it the run uses hypothesis with the
strategies of tests/test_fuzz.py, batch after batch until the time is up. Exit code 0 when
nothing was found; a failure prints the input that broke the parser.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for `tests.test_fuzz` strategies


def check(data: bytes) -> None:
    """The property: parse, and if it parses, write and read back the same entry."""
    from contextree.core.entry import dump_entry, parse_entry
    from contextree.core.errors import InvalidError
    from contextree.core.store import decode_text

    try:
        entry = parse_entry("a/b/c", decode_text(data, "a/b/c"))
    except InvalidError as error:
        if "\n" in error.message:
            raise AssertionError(f"a multi-line message: {error.message[:200]!r}") from None
        return
    again = parse_entry("a/b/c", dump_entry(entry))
    if again != entry:
        raise AssertionError(f"the round trip changed the entry: {entry!r} -> {again!r}")


def run_atheris(seconds: int) -> int:
    import atheris

    with atheris.instrument_imports():
        import yaml  # noqa: F401 - instrumented for coverage feedback
        from contextree.core import entry, store  # noqa: F401

    import shutil
    import tempfile

    # Seed the corpus with the real entries of the example memory (libFuzzer adds to it).
    corpus = Path(tempfile.mkdtemp(prefix="mem-fuzz-corpus-"))
    example = Path(__file__).resolve().parent.parent / ".memory-example"
    for number, file in enumerate(sorted(example.rglob("*.md"))):
        shutil.copyfile(file, corpus / f"seed{number}.md")
    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", "-rss_limit_mb=2048", str(corpus)], check)
    atheris.Fuzz()  # exits the process: 0 when the time ran out without a finding
    return 0


def run_hypothesis(seconds: int) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.test_fuzz import documents

    inputs = st.one_of(documents.map(lambda text: text.encode("utf-8", "surrogatepass")), st.binary(max_size=2000))
    deadline = time.monotonic() + seconds
    examples = 0

    @settings(max_examples=500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(inputs)
    def batch(data: bytes) -> None:
        nonlocal examples
        examples += 1
        check(data)

    while time.monotonic() < deadline:
        batch()
    print(f"hypothesis: {examples} inputs in {seconds} s, no failure")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="time budget (default 60)")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    args = parser.parse_args()
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
        except ImportError:
            engine = "hypothesis"
        else:
            engine = "atheris"
    print(f"fuzzing the entry parser with {engine} for {args.seconds} s", flush=True)
    return run_atheris(args.seconds) if engine == "atheris" else run_hypothesis(args.seconds)


if __name__ == "__main__":
    sys.exit(main())
