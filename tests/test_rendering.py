"""What people see: list, tree, recall, log and show fit the terminal they are drawn in
(60, 80 and 120 columns), one line per item where there is room, and plain unpadded text
when stdout is not a terminal. One test draws through a real pseudo-terminal."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from contextree import Memory
from rich.cells import cell_len
from rich.console import Console

from .conftest import MEM_BIN
from .gitutil import isolate_git

WIDTHS = (60, 80, 120)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")

ENTRIES = {
    "gotchas/database/pgbouncer-prepared-statements": (
        "PgBouncer transaction pooling breaks prepared statements in asyncpg and psycopg3",
        "Use statement_cache_size=0 with asyncpg behind PgBouncer in transaction mode.",
    ),
    "architecture/data/postgres-pgbouncer": (
        "PostgreSQL and PgBouncer topology",
        "One primary, two replicas, PgBouncer in transaction mode in front of each.",
    ),
    "people/team/dmitri": ("Dmitri — database engineer", "Dmitri owns the database and PgBouncer."),
    "runbooks/deploys/release-train/canary-rollout-checklist": (
        "Canary rollout checklist for the weekly release train, with the dashboards to watch",
        "Watch error rate and p99 latency for 15 minutes before promoting the canary.",
    ),
    "conventions/i18n/cjk": ("数据库迁移检查清单：每次发布前都要检查的事项、负责人和回滚步骤", "数据库迁移检查清单。"),
    "conventions/code/style": ("Python style", "We use ruff with the default rules and a line length of 110."),
}


@pytest.fixture
def filled(root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Memory:
    isolate_git(monkeypatch, tmp_path)
    Memory.init(root, git_repository=True)
    memory = Memory(root)
    for path, (title, body) in ENTRIES.items():
        memory.add(path, body, title=title, tags=["demo"])
    memory.move("conventions/code/style", "conventions/code/python-style-and-formatting-rules")
    return memory


def terminal(width: int) -> tuple[Console, io.StringIO]:
    """A console that behaves like a terminal of `width` columns (no colours, to measure)."""
    buffer = io.StringIO()
    return Console(file=buffer, width=width, force_terminal=True, color_system=None, highlight=False), buffer


def pipe() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, highlight=False), buffer


def lines_of(buffer: io.StringIO) -> list[str]:
    return ANSI.sub("", buffer.getvalue()).splitlines()


def assert_fits(lines: list[str], width: int) -> None:
    assert lines
    for line in lines:
        assert cell_len(line) <= width, f"{cell_len(line)} > {width}: {line!r}"
        assert line == line.rstrip(), f"trailing spaces: {line!r}"


def draw(name: str, memory: Memory, out: Console) -> None:
    from contextree.cli.actions import render_recall, render_show, worth_reading
    from contextree.cli.entries import render_list, render_tree
    from contextree.cli.history import render_log

    if name == "list":
        render_list(out, memory.list().entries)
    elif name == "tree":
        view = memory.tree()
        render_tree(out, view.root, memory.vitals(memory.list().entries))
    elif name == "recall":
        result = memory.recall("pgbouncer prepared statements")
        render_recall(out, result, shown=worth_reading(result))
    elif name == "log":
        render_log(out, memory.log())
    elif name == "show":
        entry = memory.get("runbooks/deploys/release-train/canary-rollout-checklist")
        render_show(out, entry, memory.vitals([entry])[entry.path])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["list", "tree", "recall", "log", "show"])
def test_every_line_fits_the_terminal(name: str, width: int, filled: Memory) -> None:
    out, buffer = terminal(width)
    draw(name, filled, out)
    assert_fits(lines_of(buffer), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_list_is_one_line_per_entry_when_the_title_has_room(width: int, filled: Memory) -> None:
    out, buffer = terminal(width)
    draw("list", filled, out)
    lines = lines_of(buffer)
    entries = filled.list().entries
    longest_path = max(len(entry.path) for entry in entries)
    if width - longest_path - 18 >= 20:  # room for a readable title beside the longest path
        assert len(lines) == 1 + len(entries)
        for entry, line in zip(entries, lines[1:], strict=True):
            assert line.startswith(entry.path)
            assert entry.title in line or "…" in line
    else:  # the title hangs under its path, indented
        assert len(lines) == 1 + 2 * len(entries)
        assert all(line.startswith("    ") for line in lines[2::2])


def test_wide_characters_are_counted_as_two_cells(filled: Memory) -> None:
    out, buffer = terminal(60)
    draw("list", filled, out)
    cjk = next(line for line in lines_of(buffer) if line.startswith("    数据库") or "数据库" in line)
    assert cell_len(cjk) <= 60 and cjk.endswith("…")


def test_tree_titles_are_cut_not_wrapped(filled: Memory) -> None:
    out, buffer = terminal(80)
    draw("tree", filled, out)
    lines = lines_of(buffer)
    # every entry's name starts a line of its own, with its badge (importance and maturity)
    for entry in filled.list().entries:
        name = entry.path.rsplit("/", 1)[-1]
        line = next(line for line in lines if re.search(rf"[└├]── {re.escape(name)}\b", line))
        assert re.search(r"\d+(→\d+)? draft", line)


def test_recall_hides_hits_far_below_the_best_unless_asked(filled: Memory) -> None:
    from contextree.cli.actions import WORTH_READING, render_recall, worth_reading

    result = filled.recall("pgbouncer prepared statements")
    weak = [hit for hit in result.results[1:] if hit.relevance < WORTH_READING]
    assert weak, "the fixture needs a weak hit"
    out, buffer = terminal(80)
    render_recall(out, result, shown=worth_reading(result))
    text = "\n".join(lines_of(buffer))
    for hit in weak:
        assert hit.path not in text
    assert f"{len(weak)} weaker hit(s) not shown" in text
    out, buffer = terminal(80)
    render_recall(out, result)  # --all
    assert all(hit.path in buffer.getvalue() for hit in result.results)


def test_an_unsure_recall_says_how_much_of_the_question_each_hit_covers(filled: Memory) -> None:
    """A blind trial's worst friction (thirteenth session): unsure hits were listed like sure
    ones, and a reader could not tell a near miss from noise. Each unsure hit's line ends with
    its coverage (`match`, what the gates compare), within the width; a sure recall's does not."""
    from contextree.cli.actions import render_recall

    unsure = filled.recall("pgbouncer")  # three entries say it: no margin
    assert unsure.results and not unsure.resolved
    sure = filled.recall("pgbouncer prepared statements")
    assert sure.resolved
    for width in WIDTHS:
        out, buffer = terminal(width)
        render_recall(out, unsure)
        lines = lines_of(buffer)
        assert_fits(lines, width)
        covers = [line for line in lines if re.search(r"  covers \d+%$", line)]
        assert len(covers) == len(unsure.results)
        assert f"covers {unsure.results[0].match:.0%}" in covers[0]
        out, buffer = terminal(width)
        render_recall(out, sure)
        assert "covers" not in buffer.getvalue()
    # too narrow for a title and its coverage beside a long path: the title still shows
    out, buffer = terminal(30)
    render_recall(out, unsure)
    shown = "\n".join(lines_of(buffer))
    for hit in unsure.results:
        assert hit.title.split()[0] in shown, hit.path


def test_recall_cli_all_and_k_show_every_hit(filled: Memory, mem) -> None:  # type: ignore[no-untyped-def]
    default = mem("recall", "pgbouncer prepared statements").stdout
    everything = mem("recall", "pgbouncer prepared statements", "--all").stdout
    explicit = mem("recall", "pgbouncer prepared statements", "-k", "10").stdout
    assert "weaker hit(s) not shown" in default
    assert everything == explicit.replace(explicit.splitlines()[0], everything.splitlines()[0])
    assert len(everything.splitlines()) > len(default.splitlines()) - 1


def test_log_puts_one_commit_per_line(filled: Memory) -> None:
    for width in WIDTHS:
        out, buffer = terminal(width)
        draw("log", filled, out)
        lines = lines_of(buffer)
        assert len(lines) == len(filled.log())
        assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d  [0-9a-f]{7,}  mem ", line) for line in lines)
    out, buffer = terminal(120)
    draw("log", filled, out)
    assert "Test Person" in buffer.getvalue()  # the author when there is room


@pytest.mark.parametrize("name", ["list", "tree", "recall", "log", "show"])
def test_piped_output_is_plain_whole_and_unpadded(name: str, filled: Memory) -> None:
    out, buffer = pipe()
    draw(name, filled, out)
    raw = buffer.getvalue()
    assert "\x1b" not in raw
    lines = raw.splitlines()
    assert all(line == line.rstrip() for line in lines), "padded lines"
    if name in ("list", "tree"):
        for title, _ in ENTRIES.values():
            assert title in raw  # nothing cut
    if name == "show":
        body = ENTRIES["runbooks/deploys/release-train/canary-rollout-checklist"][1]
        assert body in lines  # the body as written, on its own line


def test_show_piped_through_the_cli_is_the_body_as_written(root: Path, mem) -> None:  # type: ignore[no-untyped-def]
    body = "# Steps\n\n1. **Announce** it in #deploys.\n2. Run `helm rollback api 0`.\n"
    assert mem("add", "runbooks/deploys/rollback", body, "--title", "Rolling back").code == 0
    shown = mem("show", "runbooks/deploys/rollback").stdout
    assert shown.endswith("\n" + body)
    assert all(line == line.rstrip() for line in shown.splitlines())


def _pty_run(args: list[str], columns: int, env: dict[str, str]) -> str:
    """Run `mem ARGS` on a pseudo-terminal of `columns` x 40 and return what it drew."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(
        [MEM_BIN, *args], stdin=follower, stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal (EIO on Linux)
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=30)
    os.close(leader)
    return ANSI.sub("", b"".join(chunks).decode("utf-8")).replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
@pytest.mark.parametrize("columns", WIDTHS)
def test_a_real_terminal_gets_lines_that_fit(columns: int, filled: Memory, root: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    env.update({"MEM_ROOT": str(root), "TERM": "xterm-256color"})
    for args in (["list"], ["tree"], ["recall", "pgbouncer prepared statements"], ["log"]):
        drawn = _pty_run(args, columns, env)
        lines = drawn.rstrip("\n").splitlines()
        assert_fits(lines, columns)
        if args == ["list"] and columns == 120:
            assert len(lines) == 1 + len(ENTRIES)
    # COLUMNS wins over the window size, as for other terminal programs
    drawn = _pty_run(["list"], columns, {**env, "COLUMNS": "60"})
    assert_fits(drawn.rstrip("\n").splitlines(), 60)


@pytest.mark.parametrize("width", WIDTHS)
def test_list_and_tree_labelled_with_their_memory_still_fit(width: int, filled: Memory) -> None:
    from contextree.cli.entries import render_list, render_tree

    entries = filled.list().entries
    out, buffer = terminal(width)
    render_list(out, entries, ["personal" if n % 2 else "project" for n in range(len(entries))])
    lines = lines_of(buffer)
    assert_fits(lines, width)
    assert lines[0].startswith("memory") and any(line.startswith("personal") for line in lines)
    out, buffer = terminal(width)
    render_tree(out, filled.tree().root, filled.vitals(entries), "personal")
    lines = lines_of(buffer)
    assert_fits(lines, width)
    assert lines[0].startswith("personal memory: ")
