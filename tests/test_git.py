"""Git-native memory with real git: init --git, one commit per write, authorship, autocommit
inside a project repository, log, undo, and conflict markers in listings."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import CliResult, run_mem
from .gitutil import PERSON, files_of, git, isolate_git, status, subjects

Mem = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_git(monkeypatch, tmp_path)


@pytest.fixture
def standalone(mem: Mem, isolated: Path) -> Path:
    """A memory that is a repository of its own (`mem init --git`), also MEM_ROOT."""
    assert mem("init", "--git", str(isolated)).code == 0
    return isolated


def author_of(repo: Path, commit: str = "HEAD") -> str:
    return git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", commit).strip()


# --- init --git --------------------------------------------------------------------------


def test_init_git_makes_a_repository_with_a_first_commit(mem: Mem, isolated: Path) -> None:
    result = mem("--json", "init", "--git", str(isolated))
    data = result.data
    assert data["git"] == "created" and data["commit"]
    assert (isolated / ".git").is_dir()
    assert subjects(isolated) == ["mem init"]
    assert sorted(git(isolated, "ls-files").splitlines()) == [".gitignore", "config.yaml"]
    assert status(isolated) == []  # .mem/ is ignored, nothing left over

    again = mem("--json", "init", "--git", str(isolated)).data
    assert again["git"] == "existing" and again["commit"] is None
    assert subjects(isolated) == ["mem init"]


def test_init_git_commits_entries_already_in_the_folder(mem: Mem, isolated: Path) -> None:
    assert mem("init", str(isolated)).code == 0
    assert mem("add", "a/b/c", "written before git").code == 0
    assert not (isolated / ".git").exists()
    assert mem("init", "--git", str(isolated)).code == 0
    assert files_of(isolated) == [".gitignore", "a/b/c.md", "config.yaml"]
    assert status(isolated) == []


def test_init_git_inside_a_project_warns_about_the_nested_repository(mem: Mem, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    result = mem("--json", "init", "--git", str(project / ".memory"))
    assert result.code == 0
    assert any("inside the git repository" in warning for warning in result.json["warnings"])
    assert subjects(project / ".memory") == ["mem init"]


# --- one commit per write ----------------------------------------------------------------


def test_each_write_is_one_commit_with_its_message(mem: Mem, standalone: Path) -> None:
    steps = [
        (("add", "arch/auth/tokens", "Opaque tokens in Redis"), "mem add: arch/auth/tokens", ["arch/auth/tokens.md"]),
        (
            ("update", "arch/auth/tokens", "--append", "They expire after 12 h."),
            "mem update: arch/auth/tokens",
            ["arch/auth/tokens.md"],
        ),
        (
            ("mv", "arch/auth/tokens", "arch/auth/session-tokens"),
            "mem mv: arch/auth/tokens -> arch/auth/session-tokens",
            ["arch/auth/session-tokens.md", "arch/auth/tokens.md"],
        ),
        (
            ("forget", "arch/auth/session-tokens"),
            "mem forget: arch/auth/session-tokens",
            ["_archive/arch/auth/session-tokens.md", "arch/auth/session-tokens.md"],
        ),
        (
            ("forget", "--restore", "arch/auth/session-tokens"),
            "mem restore: arch/auth/session-tokens",
            ["_archive/arch/auth/session-tokens.md", "arch/auth/session-tokens.md"],
        ),
    ]
    for args, subject, files in steps:
        before = len(subjects(standalone))
        result = mem(*args)
        assert result.code == 0, result.stderr
        assert "warning" not in result.stderr
        assert len(subjects(standalone)) == before + 1
        assert subjects(standalone)[0] == subject
        assert files_of(standalone) == files
        assert status(standalone) == []
        assert author_of(standalone) == f"{PERSON[0]} <{PERSON[1]}>|{PERSON[0]} <{PERSON[1]}>"


def test_a_write_that_changes_nothing_on_disk_makes_no_commit(mem: Mem, standalone: Path) -> None:
    (standalone / "notes.txt").write_text("a person's scratch file")
    assert mem("add", "a/b/c", "text").code == 0
    assert files_of(standalone) == ["a/b/c.md"]
    assert status(standalone) == ["?? notes.txt"]  # never swept into mem's commit


def test_author_from_config_signs_and_commits(mem: Mem, standalone: Path) -> None:
    with (standalone / "config.yaml").open("a") as config:
        config.write("\ngit:\n  author_name: Config Bot\n  author_email: bot@example.test\n")
    git(standalone, "commit", "-qam", "configure the author")
    assert mem("add", "a/b/c", "text").code == 0
    assert author_of(standalone) == "Config Bot <bot@example.test>|Config Bot <bot@example.test>"


def test_author_from_environment(mem: Mem, standalone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEM_GIT_AUTHOR_NAME", "Env Agent")
    monkeypatch.setenv("MEM_GIT_AUTHOR_EMAIL", "env@example.test")
    assert mem("add", "a/b/c", "text").code == 0
    assert author_of(standalone).startswith("Env Agent <env@example.test>|")


def test_author_named_after_the_agent_in_mem_source(
    mem: Mem, standalone: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEM_SOURCE", "agent:claude-code")
    assert mem("add", "a/b/c", "text").code == 0
    # The name says which agent wrote; the email and the committer stay git's own.
    assert author_of(standalone) == f"claude-code (mem) <{PERSON[1]}>|{PERSON[0]} <{PERSON[1]}>"


def test_autocommit_false_turns_commits_off(mem: Mem, standalone: Path) -> None:
    with (standalone / "config.yaml").open("a") as config:
        config.write("\ngit:\n  autocommit: false\n")
    git(standalone, "commit", "-qam", "no autocommit")
    assert mem("add", "a/b/c", "text").code == 0
    assert subjects(standalone)[0] == "no autocommit"
    assert status(standalone) == ["?? a/b/c.md"]


def test_a_failed_commit_keeps_the_file_and_warns(mem: Mem, standalone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEM_GIT_TRUST_REPOSITORY", "1")  # the hooks of a trusted repository run
    hook = standalone / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'blocked by the team hook' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = mem("--json", "add", "a/b/c", "kept on disk")
    assert result.code == 0
    warnings = result.json["warnings"]
    assert len(warnings) == 1
    assert "a/b/c was saved but not committed" in warnings[0] and "blocked by the team hook" in warnings[0]
    assert "kept on disk" in (standalone / "a/b/c.md").read_text()
    assert subjects(standalone) == ["mem init"]

    hook.unlink()
    assert mem("update", "a/b/c", "--append", "more").code == 0
    assert files_of(standalone) == ["a/b/c.md"]  # the next write to it commits it
    assert status(standalone) == []


# --- inside a project repository ---------------------------------------------------------


@pytest.fixture
def project(mem: Mem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A code repository with a person's work in progress and a memory at .memory/."""
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "README.md").write_text("readme\n")
    (project / "src" / "app.py").write_text("print('v1')\n")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "initial code")
    (project / "src" / "app.py").write_text("print('v2')\n")
    git(project, "add", "src/app.py")  # staged
    (project / "README.md").write_text("readme, edited\n")  # unstaged
    (project / "scratch.txt").write_text("untracked\n")
    monkeypatch.setenv("MEM_ROOT", str(project / ".memory"))
    assert mem("init", str(project / ".memory")).code == 0
    return project


def users_work(project: Path) -> tuple[str, list[str]]:
    staged = git(project, "diff", "--cached", "--name-only").strip()
    return staged, sorted(line for line in status(project) if ".memory" not in line)


def test_inside_a_project_nothing_is_committed_by_default(mem: Mem, project: Path) -> None:
    work = users_work(project)
    assert mem("add", "a/b/c", "text").code == 0
    assert mem("update", "a/b/c", "--append", "more").code == 0
    assert subjects(project) == ["initial code"]
    assert users_work(project) == work
    assert "?? .memory/a/b/c.md" in status(project)


def test_inside_a_project_without_git_settings_no_git_process_runs(
    mem: Mem, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With git missing from PATH, any git call would fail and show up as a warning or error.
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = mem("--json", "add", "a/b/c", "text")
    assert result.code == 0 and result.json["warnings"] == []


def test_outside_any_repository_no_git_process_runs(
    mem: Mem, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = mem("--json", "add", "a/b/c", "text")
    assert result.code == 0 and result.json["warnings"] == []


def test_autocommit_inside_a_project_commits_only_memory_paths(mem: Mem, project: Path) -> None:
    assert mem("config", "set", "git.autocommit", "true").code == 0
    work = users_work(project)
    assert mem("add", "a/b/c", "text").code == 0
    assert subjects(project) == ["mem add: a/b/c", "initial code"]
    assert files_of(project) == [".memory/a/b/c.md"]
    assert users_work(project) == work  # staged app.py still staged, README still edited
    assert git(project, "show", "HEAD:src/app.py") == "print('v1')\n"

    assert mem("mv", "a/b/c", "a/b/d").code == 0
    assert files_of(project) == [".memory/a/b/c.md", ".memory/a/b/d.md"]
    assert users_work(project) == work


def test_autocommit_true_outside_a_repository_warns(mem: Mem, root: Path) -> None:
    assert mem("config", "set", "git.autocommit", "true").code == 0
    result = mem("--json", "add", "a/b/c", "text")
    assert result.code == 0
    assert any("not inside a git repository" in warning for warning in result.json["warnings"])
    assert (root / "a/b/c.md").exists()


# --- log ---------------------------------------------------------------------------------


def test_log_follows_an_entry_through_mv_and_forget(mem: Mem, standalone: Path) -> None:
    mem("add", "arch/auth/tokens", "first")
    mem("add", "arch/db/pool", "unrelated")
    mem("update", "arch/auth/tokens", "--append", "second")
    mem("mv", "arch/auth/tokens", "arch/auth/session-tokens")
    mem("update", "arch/auth/session-tokens", "--append", "third")

    history = mem("--json", "log", "arch/auth/session-tokens").data
    assert [c["action"] for c in history["commits"]] == ["update", "mv", "update", "add"]
    newest = history["commits"][0]
    assert newest["subject"] == "mem update: arch/auth/session-tokens"
    assert newest["author"] == PERSON[0] and newest["email"] == PERSON[1]
    assert len(newest["commit"]) == 40 and newest["commit"].startswith(newest["short"])
    assert newest["date"].endswith("Z")

    mem("forget", "arch/auth/session-tokens")
    archived = mem("--json", "log", "_archive/arch/auth/session-tokens").data
    assert [c["action"] for c in archived["commits"]] == ["forget", "update", "mv", "update", "add"]

    folder = mem("--json", "log", "arch/db").data
    assert [c["subject"] for c in folder["commits"]] == ["mem add: arch/db/pool"]
    everything = mem("--json", "log", "--limit", "2").data
    assert everything["count"] == 2
    assert mem("--json", "log").data["commits"][-1]["action"] == "init"

    human = mem("log", "arch/db/pool")
    assert human.code == 0 and "mem add: arch/db/pool" in human.stdout


def test_log_shows_other_peoples_commits_without_an_action(mem: Mem, standalone: Path) -> None:
    mem("add", "a/b/c", "text")
    (standalone / "a/b/c.md").write_text("---\ntitle: by hand\n---\nedited in an editor\n")
    git(standalone, "commit", "-qam", "Fix wording")
    commits = mem("--json", "log", "a/b/c").data["commits"]
    assert [(c["subject"], c["action"]) for c in commits] == [("Fix wording", None), ("mem add: a/b/c", "add")]


def test_log_outside_a_repository_is_not_found(mem: Mem, root: Path) -> None:
    result = mem("log")
    assert result.code == 3
    assert "not in a git repository" in result.stderr and "mem init --git" in result.stderr


# --- undo --------------------------------------------------------------------------------


def test_undo_reverts_the_last_mem_commit(mem: Mem, standalone: Path) -> None:
    mem("add", "a/b/c", "original text")
    before = (standalone / "a/b/c.md").read_text()
    mem("update", "a/b/c", "--text", "a mistake")
    result = mem("--json", "undo")
    data = result.data
    assert data["undone"]["subject"] == "mem update: a/b/c" and data["files"] == ["a/b/c.md"]
    assert (standalone / "a/b/c.md").read_text() == before
    assert subjects(standalone)[0] == "mem undo: mem update: a/b/c"
    assert status(standalone) == []

    mem("mv", "a/b/c", "a/b/d")
    assert mem("undo").code == 0
    assert (standalone / "a/b/c.md").read_text() == before and not (standalone / "a/b/d.md").exists()

    mem("add", "x/y/z", "added by mistake")
    assert mem("undo").code == 0
    assert not (standalone / "x/y/z.md").exists()
    assert status(standalone) == []


def test_doctor_fix_commits_are_mem_commits_that_log_names_and_undo_reverts(mem: Mem, standalone: Path) -> None:
    mem("add", "a/b/c", "hello", "--related", "a/b/missing")
    before = (standalone / "a/b/c.md").read_text()
    mem("add", "a/b/d", "world")
    report = mem("--json", "doctor", "--fix").data
    assert any(f["kind"] == "broken-link" and f["fixed"] for f in report["findings"])
    assert "a/b/missing" not in (standalone / "a/b/c.md").read_text()
    latest = mem("--json", "log").data["commits"][0]
    assert latest["subject"].startswith("mem doctor: ") and latest["action"] == "doctor"
    result = mem("--json", "undo")
    assert result.code == 0, result.stderr
    assert (standalone / "a/b/c.md").read_text() == before
    assert subjects(standalone)[0].startswith("mem undo: mem doctor: ")


def test_undo_of_an_undo_redoes(mem: Mem, standalone: Path) -> None:
    mem("add", "a/b/c", "text")
    mem("undo")
    assert not (standalone / "a/b/c.md").exists()
    mem("undo")
    assert "text" in (standalone / "a/b/c.md").read_text()


def test_undo_refuses_when_the_entry_has_uncommitted_edits(mem: Mem, standalone: Path) -> None:
    mem("add", "a/b/c", "text")
    mem("update", "a/b/c", "--append", "more")
    (standalone / "a/b/c.md").write_text("---\ntitle: hand edit\n---\nnot committed yet\n")
    head = git(standalone, "rev-parse", "HEAD")
    result = mem("undo")
    assert result.code == 8
    assert "a/b/c.md has uncommitted changes" in result.stderr
    assert (standalone / "a/b/c.md").read_text() == "---\ntitle: hand edit\n---\nnot committed yet\n"
    assert git(standalone, "rev-parse", "HEAD") == head


def test_undo_refuses_when_the_last_commit_is_not_mems(mem: Mem, standalone: Path) -> None:
    mem("add", "a/b/c", "text")
    (standalone / "README.md").write_text("about this memory\n")
    git(standalone, "add", "README.md")
    git(standalone, "commit", "-qm", "Add a readme")
    result = mem("--json", "undo")
    assert result.code == 8
    assert result.json["errors"][0]["kind"] == "refused"
    assert "'Add a readme'" in result.json["errors"][0]["message"]
    assert (standalone / "README.md").exists() and (standalone / "a/b/c.md").exists()


def test_undo_refuses_mem_init_and_needs_a_repository(mem: Mem, standalone: Path, tmp_path: Path) -> None:
    result = mem("undo")
    assert result.code == 8 and "mem init" in result.stderr
    assert (standalone / "config.yaml").exists()
    plain = tmp_path / "plain"
    mem("init", str(plain))
    assert mem("--root", str(plain), "undo").code == 3


# --- conflict markers --------------------------------------------------------------------


def test_a_file_with_conflict_markers_is_reported_not_skipped_silently(mem: Mem, root: Path) -> None:
    mem("add", "a/b/good", "fine")
    (root / "a/b/clash.md").write_text(
        "---\ntitle: clash\n---\n<<<<<<< HEAD\nfrom one side\n=======\nfrom the other\n>>>>>>> 1234abc (mem update)\n"
    )
    listing = mem("--json", "list")
    assert [e["path"] for e in listing.data["entries"]] == ["a/b/good"]
    [problem] = listing.data["problems"]
    assert problem["file"] == "a/b/clash.md" and "conflict markers" in problem["message"]
    shown = mem("show", "a/b/clash")
    assert shown.code == 5 and "conflict markers" in shown.stderr


def test_conflict_markers_quoted_in_a_code_block_are_fine(mem: Mem, root: Path) -> None:
    body = "How a conflict looks:\n\n```\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> branch\n```\n"
    assert mem("add", "git/howto/conflicts", body, "--title", "Conflicts").code == 0
    assert mem("--json", "show", "git/howto/conflicts").data["entry"]["body"] == body


def test_concurrent_writers_each_make_one_commit(standalone: Path) -> None:
    """Commits happen under the tree's write lock: parallel writers never fight over index.lock."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda n: run_mem("add", f"team/notes/note-{n}", f"note {n}"), range(6)))
    assert all(r.returncode == 0 and r.stderr == "" for r in results), [r.stderr for r in results]
    assert sorted(subjects(standalone)[:-1]) == [f"mem add: team/notes/note-{n}" for n in range(6)]
    assert status(standalone) == []
