"""Hostile files in the tree: every command survives each one with one short warning line per
bad file, gives the right answer for the good entries, and never rewrites what it skipped.

Each case in HOSTILE is one kind of bad file from the issue; each command in COMMANDS is run
against each case (list, tree, show, doctor, recall, reindex). A command is added by adding a
runner below; a case by adding a builder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from contextree import Memory

from .conftest import CliResult, run_mem

GOOD = {"a/b/good": "alpha notes about deploys", "z/y/also-good": "omega notes about queues"}
WARNING_MAX = 700  # characters: a warning about a 200 KB title must stay short


@dataclass
class Case:
    build: Callable[[Path, Path], str]  # (root, tmp) -> the bad file or folder, as warnings name it
    warns: bool = True  # False: the file is a valid entry (an empty file) and needs no warning
    subprocess_only: bool = False  # a regression here would crash the interpreter, not fail a test


def write(root: Path, relative: str, content: str | bytes) -> str:
    file = root / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content, encoding="utf-8")
    return relative


def symlink(root: Path, relative: str, target: Path, *, folder: bool = False) -> str:
    link = root / relative
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target, target_is_directory=folder)
    return relative


def outside_file(tmp: Path) -> Path:
    secret = tmp / "outside" / "secret.md"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("---\ntitle: outside secret\n---\nalpha outside\n")
    return secret


def outside_folder(tmp: Path) -> Path:
    folder = tmp / "outside-folder"
    (folder / "topic").mkdir(parents=True, exist_ok=True)
    (folder / "topic" / "entry.md").write_text("---\ntitle: outside\n---\nalpha outside\n")
    return folder


HOSTILE: dict[str, Case] = {
    "not-yaml": Case(lambda r, t: write(r, "a/b/not-yaml.md", "---\ntitle: [oops\nsummary: {\n---\nbody\n")),
    "wrong-types": Case(
        lambda r, t: write(r, "a/b/wrong-types.md", "---\ntitle: [1, 2]\nimportance: lots\ntags: {a: 1}\n---\n")
    ),
    "python-tag": Case(
        lambda r, t: write(
            r, "a/b/python-tag.md", f"---\ntitle: !!python/object/apply:os.system ['touch {t}/PWNED']\n---\n"
        )
    ),
    "python-tag-in-extra": Case(
        lambda r, t: write(
            r,
            "a/b/python-extra.md",
            f"---\ntitle: ok\nx: !!python/object/new:subprocess.check_output [['touch', '{t}/PWNED']]\n---\n",
        )
    ),
    "non-utf8": Case(lambda r, t: write(r, "a/b/latin1.md", "---\ntitle: caf\xe9\n---\n".encode("latin-1"))),
    "binary": Case(lambda r, t: write(r, "a/b/binary.md", bytes(range(256)) * 8)),
    "empty": Case(lambda r, t: write(r, "a/b/empty.md", ""), warns=False),
    "title-200kb": Case(lambda r, t: write(r, "a/b/huge-title.md", "---\ntitle: " + "T" * 200_000 + "\n---\nbody\n")),
    "body-over-limit": Case(
        lambda r, t: write(r, "a/b/huge-body.md", "---\ntitle: big\n---\n" + "x" * (1024 * 1024 + 10))
    ),
    "file-over-limit": Case(lambda r, t: write(r, "a/b/huge-file.md", "---\ntitle: big\n---\n" + "x" * (3 << 20))),
    "yaml-nesting-50k": Case(
        lambda r, t: write(r, "a/b/deep-yaml.md", "---\ntitle: t\nx: " + "[" * 50_000 + "]" * 50_000 + "\n---\n"),
        subprocess_only=True,
    ),
    "yaml-block-nesting-50k": Case(
        lambda r, t: write(r, "a/b/deep-block.md", "---\ntitle: t\nx:\n  " + "- " * 50_000 + "y\n---\n"),
        subprocess_only=True,
    ),
    "yaml-alias-bomb": Case(
        lambda r, t: write(
            r,
            "a/b/bomb.md",
            "---\ntitle: t\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n---\n",
        )
    ),
    "frontmatter-too-large": Case(
        lambda r, t: write(r, "a/b/big-front.md", "---\ntitle: t\n" + "k: v\n" * 70_000 + "---\n")
    ),
    "folder-too-deep": Case(lambda r, t: write(r, "a/b/c/d/too-deep.md", "---\ntitle: deep\n---\n") and "a/b/c/d/"),
    "too-shallow": Case(lambda r, t: write(r, "a/shallow.md", "---\ntitle: shallow\n---\n")),
    "name-with-space": Case(lambda r, t: write(r, "a/b/with space.md", "---\ntitle: space\n---\n")),
    "name-with-capitals": Case(lambda r, t: write(r, "a/b/Capitals.md", "---\ntitle: caps\n---\n")),
    "name-with-unicode": Case(lambda r, t: write(r, "a/b/café-notes.md", "---\ntitle: unicode\n---\n")),
    "folder-with-unicode": Case(lambda r, t: write(r, "a/数据库/entry.md", "---\ntitle: cjk\n---\n") and "a/数据库/"),
    "name-with-newline-and-escape": Case(lambda r, t: write(r, "a/b/evil\nname\x1b[2J.md", "---\ntitle: t\n---\n")),
    "symlink-file-out-of-root": Case(lambda r, t: symlink(r, "a/b/linked.md", outside_file(t))),
    "symlink-folder-out-of-root": Case(lambda r, t: symlink(r, "a/evil", outside_folder(t), folder=True)),
    "symlink-loop": Case(lambda r, t: symlink(r, "a/b/loop", r / "a", folder=True)),
    "symlink-self-loop": Case(lambda r, t: symlink(r, "a/b/self.md", r / "a/b/self.md")),
    "conflict-markers": Case(
        lambda r, t: write(r, "a/b/merge.md", "---\ntitle: t\n---\n<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> x\n")
    ),
    "control-chars-in-title": Case(lambda r, t: write(r, "a/b/ansi.md", '---\ntitle: "\\e[2Jcleared"\n---\n')),
}


def make_tree(root: Path, tmp: Path, case: Case) -> str:
    memory = Memory(root)
    for path, body in GOOD.items():
        memory.add(path, body)
    return case.build(root, tmp)


def snapshot(root: Path) -> dict[str, bytes]:
    files = {}
    for folder, _, names in os.walk(root, followlinks=False):
        if ".mem" in Path(folder).relative_to(root).parts:
            continue
        for name in names:
            file = Path(folder) / name
            if not file.is_symlink():
                files[str(file.relative_to(root))] = file.read_bytes()
    return files


# --- how each command is run and what a correct answer is ------------------------------

Run = Callable[..., CliResult]


@dataclass
class Outcome:
    code: int
    warnings: list[str]
    human_stderr: str
    found_good: set[str]


def entry_paths(node: dict) -> set[str]:
    found = {entry["path"] for entry in node["entries"]}
    for child in node["folders"]:
        found |= entry_paths(child)
    return found


def run_list(mem: Run) -> Outcome:
    result = mem("--json", "list")
    human = mem("list")
    return Outcome(result.code, result.json["warnings"], human.stderr, {e["path"] for e in result.data["entries"]})


def run_tree(mem: Run) -> Outcome:
    result = mem("--json", "tree")
    human = mem("tree")
    return Outcome(result.code, result.json["warnings"], human.stderr, entry_paths(result.data["root"]))


def run_show(mem: Run) -> Outcome:
    found = set()
    warnings: list[str] = []
    code = 0
    for path in GOOD:
        result = mem("--json", "show", path)
        code = code or result.code
        if result.code == 0:
            found.add(result.data["entry"]["path"])
        warnings += result.json["warnings"]
    return Outcome(code, warnings, "", found)


def run_doctor(mem: Run) -> Outcome:
    result = mem("--json", "doctor")
    findings = result.json["data"]["findings"]
    # Doctor reports bad files as findings (its data), one per file, not as warnings.
    bad = [f["message"] for f in findings if f["kind"] in ("malformed", "conflict")]
    human = mem("doctor")
    good = {p for p in GOOD if not any(f["file"] == f"{p}.md" for f in findings)}
    return Outcome(0 if result.code in (0, 9) else result.code, bad, human.stderr, good)


def run_recall(mem: Run) -> Outcome:
    found = set()
    warnings: list[str] = []
    stderr = ""
    for query in ("alpha", "omega"):
        result = mem("--json", "recall", query)
        assert result.code == 0, result.stdout
        found |= {hit["path"] for hit in result.data["results"][:1]}
        warnings = result.json["warnings"]
        stderr = mem("recall", query).stderr
    return Outcome(0, warnings, stderr, found)


def run_reindex(mem: Run) -> Outcome:
    result = mem("--json", "reindex")
    human = mem("reindex")
    found = {mem("--json", "recall", query).data["results"][0]["path"] for query in ("alpha", "omega")}
    return Outcome(result.code, result.json["warnings"], human.stderr, found)


COMMANDS: dict[str, Callable[[Run], Outcome]] = {
    "list": run_list,
    "tree": run_tree,
    "show": run_show,
    "doctor": run_doctor,
    "recall": run_recall,
    "reindex": run_reindex,
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case_name", [name for name, case in HOSTILE.items() if not case.subprocess_only])
def test_commands_survive_hostile_files(case_name: str, command: str, mem, root: Path, tmp_path: Path) -> None:
    case = HOSTILE[case_name]
    bad = make_tree(root, tmp_path, case)
    before = snapshot(root)
    outcome = COMMANDS[command](mem)
    assert outcome.code == 0
    assert set(GOOD) <= outcome.found_good, outcome.found_good
    for warning in outcome.warnings:
        assert "\n" not in warning and "\x1b" not in warning and len(warning) <= WARNING_MAX, warning[:200]
    if command != "show":  # show only reads the entries it is asked for
        about_bad = [w for w in outcome.warnings if "good" not in w.split(":", 1)[0]]
        assert len(about_bad) == (1 if case.warns else 0), outcome.warnings
    lines = [line for line in outcome.human_stderr.splitlines() if line.strip()]
    assert all(line.startswith(("warning: ", "note: ")) for line in lines), lines  # one line each
    expected = 1 if case.warns and command not in ("show", "doctor") else 0  # doctor: findings are its output
    assert sum(line.startswith("warning: ") for line in lines) == expected
    assert "\x1b" not in outcome.human_stderr
    assert not (tmp_path / "PWNED").exists()
    assert snapshot(root) == before, "a command rewrote a file"
    assert bad  # the builder really made something


@pytest.mark.parametrize("case_name", [name for name, case in HOSTILE.items() if case.subprocess_only])
@pytest.mark.parametrize("command", ["list", "tree", "doctor", "recall", "reindex"])
def test_deep_yaml_does_not_crash_the_process(case_name: str, command: str, root: Path, tmp_path: Path) -> None:
    """libyaml recurses per nesting level and segfaults at a few tens of thousands: the
    nesting is refused before parsing, so the process lives and answers."""
    make_tree(root, tmp_path, HOSTILE[case_name])
    args = ["--json", command] + (["alpha"] if command == "recall" else [])
    completed = run_mem(*args, env={"MEM_ROOT": str(root)})
    assert completed.returncode in (0, 9), completed.stderr[-500:]  # 9: doctor reports the file
    # One warning naming the file, whatever its wording: depending on the PyYAML release, mem's
    # own depth check or PyYAML's scanner is the one that refuses the nesting first.
    warnings = [w for w in __import__("json").loads(completed.stdout)["warnings"] if "a/b/deep-" in w]
    if command != "doctor":
        assert len(warnings) == 1 and len(warnings[0]) <= WARNING_MAX


# --- the same rules for paths given on the command line --------------------------------


@pytest.mark.parametrize(
    ("raw", "suggestion"),
    [("a/b/With Space", "with-space"), ("a/b/Capitals", "capitals"), ("a/b/café-notes", "cafe-notes")],
)
def test_bad_names_on_the_command_line_are_refused_with_a_slug(raw: str, suggestion: str, mem, root: Path) -> None:
    result = mem("--json", "add", raw, "text")
    assert result.code == 5
    message = result.json["errors"][0]["message"]
    assert f"try '{suggestion}'" in message
    assert not any(root.rglob("*.md"))


def test_a_name_without_an_ascii_slug_is_refused_without_a_suggestion(mem, root: Path) -> None:
    result = mem("--json", "add", "a/b/数据库", "text")
    assert result.code == 5 and "try" not in result.json["errors"][0]["message"]


def test_a_200kb_path_argument_gives_a_short_error(mem, root: Path) -> None:
    result = mem("add", "a/b/" + "X" * 200_000, "text")
    assert result.code == 5 and result.stderr.count("\n") == 1 and len(result.stderr) < WARNING_MAX


def test_show_of_each_bad_file_is_one_short_error(mem, root: Path, tmp_path: Path) -> None:
    for name in ("not-yaml", "title-200kb", "body-over-limit", "binary", "non-utf8", "symlink-file-out-of-root"):
        bad = HOSTILE[name].build(root, tmp_path)
        result = mem("show", bad)
        assert result.code == 5, (name, result.stderr[:300])
        assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
        assert len(result.stderr) < WARNING_MAX


def test_writes_never_follow_symlinks(mem, memory: Memory, root: Path, tmp_path: Path) -> None:
    secret = outside_file(tmp_path)
    before = secret.read_bytes()
    symlink(root, "a/b/linked.md", secret)
    symlink(root, "a/evil", outside_folder(tmp_path), folder=True)
    for args in (
        ["update", "a/b/linked", "--append", "x"],
        ["add", "a/evil/topic/new", "x"],
        ["mv", "a/b/linked", "a/c/moved"],
        ["forget", "a/b/linked"],
        ["update", "a/evil/topic/entry", "--append", "x"],
    ):
        result = mem("--json", *args)
        assert result.code in (3, 5), (args, result.stdout)
    assert secret.read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "outside-folder" / "topic").iterdir()) == ["entry.md"]
