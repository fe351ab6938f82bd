"""`mem sync` with real git: a bare repository as the remote and two clones, each with its own
memory. Different entries merge; the same entry stops with a conflict that keeps both texts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .conftest import CliResult, run_mem
from .gitutil import git, isolate_git, status, subjects

Mem = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_git(monkeypatch, tmp_path)


@dataclass
class Clone:
    path: Path
    mem: Mem

    def __call__(self, *args: str, input: str | None = None) -> CliResult:
        return self.mem("--root", str(self.path), *args, input=input)

    def json(self, *args: str) -> Any:
        return self("--json", *args).data

    def paths(self) -> list[str]:
        return [entry["path"] for entry in self.json("list")["entries"]]


@dataclass
class Team:
    remote: Path
    alice: Clone
    bob: Clone
    first_sync: Any


@pytest.fixture
def team(mem: Mem, tmp_path: Path) -> Team:
    """Alice makes the memory (`mem init --git`) and publishes it; Bob clones it."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    alice = Clone(tmp_path / "alice", mem)
    assert mem("init", "--git", str(alice.path)).code == 0
    git(alice.path, "remote", "add", "origin", str(remote))
    assert alice("add", "arch/db/pool", "Pool size is 10.").code == 0
    first = alice.json("sync")
    git(tmp_path, "clone", "-q", str(remote), str(tmp_path / "bob"))
    return Team(remote, alice, Clone(tmp_path / "bob", mem), first)


def test_first_sync_pushes_and_sets_the_upstream(team: Team) -> None:
    assert team.first_sync["upstream_set"] is True
    assert team.first_sync["pushed"] == 2  # mem init + mem add
    assert git(team.alice.path, "rev-parse", "--abbrev-ref", "main@{upstream}").strip() == "origin/main"
    assert git(team.remote, "log", "--format=%s", "main").splitlines() == ["mem add: arch/db/pool", "mem init"]
    again = team.alice.json("sync")
    assert again["upstream_set"] is False and again["pushed"] == 0 and again["pulled"] == 0
    assert "Up to date with origin/main" in team.alice("sync").stdout


def test_edits_to_different_entries_merge(team: Team) -> None:
    alice, bob = team.alice, team.bob
    assert alice("add", "arch/auth/tokens", "Opaque tokens, stored in Redis.").code == 0
    assert bob("add", "runbooks/deploy/rollback", "Roll back with `make rollback`.").code == 0
    assert bob("update", "arch/db/pool", "--append", "Raised to 20 under load.").code == 0

    assert alice.json("sync")["pushed"] == 1
    bob_sync = bob.json("sync")
    assert bob_sync["pulled"] == 1 and bob_sync["pushed"] == 2
    assert bob_sync["received"] == ["arch/auth/tokens.md"]
    alice_sync = alice.json("sync")
    assert alice_sync["pulled"] == 2
    assert sorted(alice_sync["received"]) == ["arch/db/pool.md", "runbooks/deploy/rollback.md"]

    expected = ["arch/auth/tokens", "arch/db/pool", "runbooks/deploy/rollback"]
    assert alice.paths() == expected and bob.paths() == expected
    # The pulled entries are there to read, with the other side's text.
    assert "make rollback" in alice.json("show", "runbooks/deploy/rollback")["entry"]["body"]
    assert "Raised to 20" in alice.json("show", "arch/db/pool")["entry"]["body"]
    assert "Redis" in bob.json("show", "arch/auth/tokens")["entry"]["body"]
    # ... and to find: sync brought the index up to date with what it pulled.
    assert alice.json("recall", "rollback")["results"][0]["path"] == "runbooks/deploy/rollback"
    assert bob.json("recall", "opaque tokens redis")["results"][0]["path"] == "arch/auth/tokens"
    # Recalling never dirties the working tree (volatile signals live in .mem/, ignored).
    assert status(alice.path) == [] and status(bob.path) == []
    # Rebased, not merged: one straight line of history, the same on both sides.
    assert git(alice.path, "rev-list", "--merges", "HEAD") == ""
    assert git(alice.path, "rev-parse", "HEAD") == git(bob.path, "rev-parse", "HEAD")
    assert status(alice.path) == [] and status(bob.path) == []


def test_hand_edits_are_committed_by_sync(team: Team) -> None:
    alice, bob = team.alice, team.bob
    entry = bob.path / "arch/db/pool.md"
    entry.write_text(entry.read_text() + "\nEdited in an editor.\n")
    (bob.path / "arch/db/replicas.md").write_text("---\ntitle: Replicas\n---\nTwo read replicas.\n")
    result = bob.json("sync")
    assert result["committed"] == ["arch/db/pool.md", "arch/db/replicas.md"]
    assert subjects(bob.path)[0] == "mem edit: 2 files"
    alice.json("sync")
    assert "Edited in an editor." in alice.json("show", "arch/db/pool")["entry"]["body"]
    assert "arch/db/replicas" in alice.paths()


def make_conflict(team: Team) -> tuple[str, str]:
    """Both sides change the same entry; Alice syncs first, so Bob's sync stops."""
    alice, bob = team.alice, team.bob
    bob.json("sync")
    assert alice("update", "arch/db/pool", "--text", "Pool size is 30 (Alice).").code == 0
    assert alice.json("sync")["pushed"] == 1
    assert bob("update", "arch/db/pool", "--text", "Pool size is 20 (Bob).").code == 0
    return "Pool size is 30 (Alice).", "Pool size is 20 (Bob)."


def test_same_entry_conflict_is_reported_and_keeps_both_texts(team: Team) -> None:
    bob = team.bob
    alice_text, bob_text = make_conflict(team)
    bob_head = git(bob.path, "rev-parse", "HEAD")

    result = bob("sync")
    assert result.code == 6
    assert "arch/db/pool.md" in result.stderr and "mem sync --continue" in result.stderr
    assert "mem sync --abort" in result.stderr and result.stderr.count("\n") == 1
    text = (bob.path / "arch/db/pool.md").read_text()
    assert alice_text in text and bob_text in text
    assert "<<<<<<<" in text and ">>>>>>>" in text

    # While it is stopped: the file is reported, writes are paused, sync says what to do.
    listing = bob.json("list")
    assert listing["entries"] == []
    assert any(p["file"] == "arch/db/pool.md" and "conflict markers" in p["message"] for p in listing["problems"])
    paused = bob("add", "arch/db/other", "written during the conflict")
    assert paused.code == 6 and "mem sync --continue" in paused.stderr
    assert not (bob.path / "arch/db/other.md").exists()
    again = bob("--json", "sync")
    assert again.code == 6 and again.json["errors"][0]["kind"] == "conflict"
    assert "arch/db/pool.md" in again.json["errors"][0]["message"]
    unresolved = bob("sync", "--continue")
    assert unresolved.code == 6 and "still has conflict markers" in unresolved.stderr

    aborted = bob.json("sync", "--abort")
    assert aborted["aborted"] is True
    assert bob_text in (bob.path / "arch/db/pool.md").read_text()
    assert alice_text not in (bob.path / "arch/db/pool.md").read_text()
    assert git(bob.path, "rev-parse", "HEAD") == bob_head  # Bob's commit is intact
    assert status(bob.path) == []
    assert bob("add", "arch/db/other", "writes work again").code == 0


def test_continue_after_resolving_completes_and_pushes(team: Team) -> None:
    alice, bob = team.alice, team.bob
    make_conflict(team)
    assert bob("sync").code == 6
    (bob.path / "arch/db/pool.md").write_text("---\ntitle: Pool size\n---\nPool size is 25 (agreed).\n")
    done = bob.json("sync", "--continue")
    assert done["action"] == "continue" and done["pushed"] == 1
    assert status(bob.path) == []
    assert subjects(bob.path)[:2] == ["mem update: arch/db/pool", "mem update: arch/db/pool"]
    assert git(bob.path, "rev-list", "--merges", "HEAD") == ""
    alice.json("sync")
    assert alice.json("show", "arch/db/pool")["entry"]["body"] == "Pool size is 25 (agreed).\n"


def test_continue_when_the_resolution_keeps_the_remote_text(team: Team) -> None:
    alice, bob = team.alice, team.bob
    make_conflict(team)
    assert bob("sync").code == 6
    remote_text = git(bob.path, "show", "origin/main:arch/db/pool.md")
    (bob.path / "arch/db/pool.md").write_text(remote_text)
    done = bob.json("sync", "--continue")
    assert done["pushed"] == 0  # Bob's change was dropped in favour of Alice's: nothing to send
    assert git(bob.path, "rev-parse", "HEAD") == git(alice.path, "rev-parse", "HEAD")
    assert status(bob.path) == []


def test_forget_on_one_side_and_update_on_the_other_keeps_both(team: Team) -> None:
    alice, bob = team.alice, team.bob
    bob.json("sync")
    assert alice("forget", "arch/db/pool").code == 0
    alice.json("sync")
    assert bob("update", "arch/db/pool", "--text", "Bob's newer text.").code == 0
    result = bob("sync")
    # git sees the forget as a rename and carries Bob's change to the archived file: the
    # frontmatter note (archived_at) and the new body are on different lines, so it merges.
    assert result.code == 0, result.stderr
    text = (bob.path / "_archive/arch/db/pool.md").read_text()
    assert "Bob's newer text." in text and "archived_at" in text
    assert not (bob.path / "arch/db/pool.md").exists()


def test_conflict_exit_code_from_the_real_command(team: Team) -> None:
    make_conflict(team)
    completed = run_mem("--root", str(team.bob.path), "sync")
    assert completed.returncode == 6
    assert completed.stderr.startswith("Error: sync stopped on a conflict")


# --- refusals ----------------------------------------------------------------------------


def test_sync_refuses_uncommitted_files_outside_the_memory(team: Team) -> None:
    (team.bob.path / "notes.txt").write_text("a scratch file\n")
    result = team.bob("sync")
    assert result.code == 8 and "notes.txt" in result.stderr
    assert (team.bob.path / "notes.txt").read_text() == "a scratch file\n"


def test_sync_without_a_remote_says_how_to_add_one(mem: Mem, tmp_path: Path) -> None:
    mem("init", "--git", str(tmp_path / "solo"))
    result = mem("--root", str(tmp_path / "solo"), "sync")
    assert result.code == 3 and "git -C" in result.stderr and "remote add origin" in result.stderr


def test_sync_is_refused_inside_a_project_repository(mem: Mem, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    mem("init", str(project / ".memory"))
    result = mem("--root", str(project / ".memory"), "sync")
    assert result.code == 8 and "git pull --rebase" in result.stderr


def test_continue_or_abort_without_a_stopped_sync(team: Team) -> None:
    assert team.bob("sync", "--continue").code == 5
    assert team.bob("sync", "--abort").code == 5
    assert team.bob("sync", "--continue", "--abort").code == 5


def test_a_fresh_clone_commits_and_syncs_like_its_origin(team: Team, mem: Mem, tmp_path: Path) -> None:
    """A new clone of the remote, used straight away (`mem init` there adds nothing)."""
    carol = Clone(tmp_path / "carol", mem)
    git(tmp_path, "clone", "-q", str(team.remote), str(carol.path))
    assert mem("--json", "init", str(carol.path)).data["files"] == []
    assert carol("add", "people/carol/intro", "Hello from Carol.").code == 0
    assert subjects(carol.path)[0] == "mem add: people/carol/intro"  # a clone commits like its origin
    assert carol.json("sync")["pushed"] == 1
    team.alice.json("sync")
    assert "people/carol/intro" in team.alice.paths()


def test_sync_with_autocommit_off_does_not_commit_for_you(team: Team) -> None:
    bob = team.bob
    assert bob("config", "set", "git.autocommit", "false").code == 0
    result = bob("sync")
    assert result.code == 8 and "config.yaml" in result.stderr and "git.autocommit is false" in result.stderr
    git(bob.path, "commit", "-qam", "Turn autocommit off")
    assert bob.json("sync")["pushed"] == 1


def test_a_clone_made_while_the_remote_was_empty_takes_its_history(mem: Mem, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    early = Clone(tmp_path / "early", mem)
    git(tmp_path, "clone", "-q", str(remote), str(early.path))  # empty: no commits at all
    alice = Clone(tmp_path / "alice", mem)
    mem("init", "--git", str(alice.path))
    git(alice.path, "remote", "add", "origin", str(remote))
    alice("add", "arch/db/pool", "Pool size is 10.")
    alice.json("sync")
    result = early.json("sync")
    assert result["pulled"] == 2 and "arch/db/pool.md" in result["received"]
    assert early.paths() == ["arch/db/pool"]
    assert early("add", "arch/db/replicas", "Two replicas.").code == 0
    assert early.json("sync")["pushed"] == 1


def test_a_push_rejected_because_someone_pushed_meanwhile_is_retried(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEM_GIT_TRUST_REPOSITORY", "1")  # the race is staged by Bob's own hook
    alice, bob = team.alice, team.bob
    alice("add", "arch/auth/tokens", "Opaque tokens.")
    alice.json("sync")
    alice("add", "arch/auth/expiry", "Tokens expire after 12 h.")  # committed, not pushed yet
    bob("add", "runbooks/deploy/rollback", "Roll back with `make rollback`.")
    # When Bob's fetch has updated origin/main, Alice pushes: Bob's first push is rejected.
    hook = bob.path / ".git" / "hooks" / "reference-transaction"
    hook.write_text(
        "#!/bin/sh\n"
        '[ "$1" = committed ] || exit 0\n'
        "grep -q refs/remotes/origin/main || exit 0\n"
        f'[ -e "{tmp_path}/pushed" ] && exit 0\n'
        f'touch "{tmp_path}/pushed"\n'
        "unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_PREFIX\n"
        f'git -C "{alice.path}" push -q origin main\n'
    )
    hook.chmod(0o755)
    result = bob.json("sync")
    assert (tmp_path / "pushed").exists()
    assert result["pulled"] == 2 and result["pushed"] == 1
    assert "arch/auth/expiry.md" in result["received"]
    assert git(team.remote, "log", "-1", "--format=%s", "main").strip() == "mem add: runbooks/deploy/rollback"
