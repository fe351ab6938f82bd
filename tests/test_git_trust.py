"""What a repository brings is data, not control (issue 18): mem's own git calls run no
hooks, no fsmonitor and no command named in the repository's own config; a `.git` file is
followed only when git made it; `mem sync` takes no symlinks, submodules or `.mem/` from the
remote and publishes no hand-edited secret; branches are named so a clone is never empty.

The cases here are not the ones of ../shared/security/repro (09, 10, 21): other hooks, other
config commands, other links and other secrets of the same classes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import CliResult
from .gitutil import git, isolate_git, status, subjects

Mem = Callable[..., CliResult]


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_git(monkeypatch, tmp_path)
    monkeypatch.delenv("MEM_GIT_TRUST_REPOSITORY", raising=False)


@pytest.fixture
def standalone(mem: Mem, isolated: Path) -> Path:
    assert mem("init", "--git", str(isolated)).code == 0
    return isolated


def marker_script(folder: Path, name: str, marker: Path) -> Path:
    script = folder / name
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\ncat\n")
    script.chmod(0o755)
    return script


# --- hooks and config commands -----------------------------------------------------------


def test_post_commit_and_reference_hooks_do_not_run(mem: Mem, standalone: Path, tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    for name in ("post-commit", "reference-transaction", "prepare-commit-msg"):
        marker_script(standalone / ".git" / "hooks", name, ran)
    assert mem("add", "a/b/c", "text").code == 0
    assert subjects(standalone)[0] == "mem add: a/b/c"
    assert not ran.exists()


def test_a_hooks_path_in_the_repository_config_is_not_used(mem: Mem, standalone: Path, tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    hooks = standalone / "tools" / "hooks"
    hooks.mkdir(parents=True)
    marker_script(hooks, "pre-commit", ran)
    git(standalone, "config", "core.hooksPath", str(hooks))
    assert mem("add", "a/b/c", "text").code == 0
    assert not ran.exists()


@pytest.mark.parametrize(
    ("key", "uses"),
    [
        ("filter.evil.clean", "attributes"),  # run by `git add` on a matching file
        ("core.sshCommand", None),
        ("credential.helper", None),
        ("diff.external", None),
    ],
)
def test_a_command_in_the_repository_config_is_refused_not_run(
    mem: Mem, standalone: Path, tmp_path: Path, key: str, uses: str | None
) -> None:
    ran = tmp_path / "ran"
    script = marker_script(tmp_path, "cmd", ran)
    git(standalone, "config", key, str(script))
    if uses == "attributes":
        (standalone / ".gitattributes").write_text("*.md filter=evil\n")
    result = mem("add", "a/b/c", "text")
    assert result.code == 0  # the entry is written; the commit is refused with a warning
    assert (
        key.rsplit(".", maxsplit=1)[-1].lower() in result.stderr.lower() and "MEM_GIT_TRUST_REPOSITORY" in result.stderr
    )
    assert not ran.exists()
    assert (standalone / "a/b/c.md").exists()
    assert subjects(standalone)[0] == "mem init"


def test_an_included_config_is_checked_too(mem: Mem, standalone: Path, tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    extra = tmp_path / "extra.config"
    extra.write_text(f'[filter "x"]\n\tclean = {marker_script(tmp_path, "cmd", ran)}\n')
    git(standalone, "config", "include.path", str(extra))
    (standalone / ".gitattributes").write_text("*.md filter=x\n")
    result = mem("add", "a/b/c", "text")
    assert "include.path" in result.stderr
    assert not ran.exists()


def test_the_user_can_trust_a_repository(
    mem: Mem, standalone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = tmp_path / "ran"
    marker_script(standalone / ".git" / "hooks", "post-commit", ran)
    monkeypatch.setenv("MEM_GIT_TRUST_REPOSITORY", "1")
    assert mem("add", "a/b/c", "text").code == 0
    assert ran.exists()


# --- .git files ----------------------------------------------------------------------------


def test_a_gitfile_into_another_repositorys_worktree_folder_is_not_followed(
    mem: Mem, isolated: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    git(tmp_path, "init", "-q", str(other))
    git(other, "commit", "-q", "--allow-empty", "-m", "theirs")
    git(other, "worktree", "add", "-q", str(tmp_path / "their-tree"))
    worktree_dir = next((other / ".git" / "worktrees").iterdir())
    assert mem("init", str(isolated)).code == 0
    (isolated / ".git").write_text(f"gitdir: {worktree_dir}\n")
    result = mem("--json", "add", "a/b/c", "text")
    assert result.code == 0
    assert any("not a repository" in warning for warning in result.json["warnings"])
    assert subjects(other) == ["theirs"]
    assert git(tmp_path / "their-tree", "status", "--porcelain").strip() == ""


def test_a_real_worktree_of_a_memory_still_commits(mem: Mem, standalone: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    git(standalone, "worktree", "add", "-q", "-b", "side", str(tree))
    assert mem("--root", str(tree), "add", "a/b/side", "text").code == 0
    assert subjects(tree)[0] == "mem add: a/b/side"


# --- sync ----------------------------------------------------------------------------------


@pytest.fixture
def pair(mem: Mem, tmp_path: Path) -> tuple[Path, Path, Path]:
    """(remote, alice's memory, bob's clone): alice has pushed one entry."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    alice = tmp_path / "alice"
    assert mem("init", "--git", str(alice)).code == 0
    git(alice, "remote", "add", "origin", str(remote))
    assert mem("--root", str(alice), "add", "a/b/c", "first").code == 0
    assert mem("--root", str(alice), "sync").code == 0
    git(tmp_path, "clone", "-q", str(remote), str(tmp_path / "bob"))
    return remote, alice, tmp_path / "bob"


def push_as_teammate(bob: Path, message: str) -> None:
    git(bob, "add", "-A", "-f", ".")
    git(bob, "commit", "-q", "-m", message)
    git(bob, "push", "-q", "origin", "main")


@pytest.mark.parametrize("kind", ["symlink-entry", "state-file", "submodule"])
def test_sync_refuses_what_must_not_arrive_through_git(
    mem: Mem, pair: tuple[Path, Path, Path], tmp_path: Path, kind: str
) -> None:
    _, alice, bob = pair
    if kind == "symlink-entry":
        (bob / "a" / "b" / "passwd.md").symlink_to("/etc/passwd")
    elif kind == "state-file":
        (bob / ".mem").mkdir(exist_ok=True)
        (bob / ".mem" / "state.db").write_text("not mem's")
    else:
        sub = tmp_path / "sub"
        git(tmp_path, "init", "-q", str(sub))
        git(sub, "commit", "-q", "--allow-empty", "-m", "s")
        git(bob, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendor")
    push_as_teammate(bob, f"teammate: {kind}")
    before = git(alice, "rev-parse", "HEAD")
    result = mem("--root", str(alice), "sync")
    assert result.code == 8, result.stderr
    assert "not syncing" in result.stderr
    assert git(alice, "rev-parse", "HEAD") == before  # nothing was checked out
    assert not (alice / "a" / "b" / "passwd.md").exists()
    assert not (alice / "vendor").exists()


def test_sync_refuses_a_hand_edited_secret_and_allows_it_on_request(mem: Mem, pair: tuple[Path, Path, Path]) -> None:
    remote, alice, _ = pair
    entry = alice / "a" / "b" / "c.md"
    entry.write_text(entry.read_text() + "\naws_secret_access_key = wJa1rXUtnFEMI/K7MDENG/bPxRfiCYzQ8sT0pLm2\n")
    result = mem("--root", str(alice), "sync")
    assert result.code == 8 and "a/b/c.md" in result.stderr and "--allow-secrets" in result.stderr
    assert "wJa1rX" not in git(remote, "log", "-p", "main")
    assert status(alice) == [" M a/b/c.md"]  # nothing committed, nothing lost
    assert mem("--root", str(alice), "sync", "--allow-secrets").code == 0
    assert "wJa1rX" in git(remote, "log", "-p", "main")
    entry.write_text(entry.read_text() + "\nmore notes\n")  # the allowed secret does not block later syncs
    assert mem("--root", str(alice), "sync").code == 0


# --- branches ------------------------------------------------------------------------------


def test_init_git_names_the_branch_main_unless_git_says_otherwise(
    mem: Mem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    assert mem("init", "--git", str(tmp_path / "one")).code == 0
    assert git(tmp_path / "one", "symbolic-ref", "--short", "HEAD").strip() == "main"
    empty.write_text("[init]\n\tdefaultBranch = trunk\n")
    assert mem("init", "--git", str(tmp_path / "two")).code == 0
    assert git(tmp_path / "two", "symbolic-ref", "--short", "HEAD").strip() == "trunk"


def test_sync_says_when_the_remote_default_branch_differs(
    mem: Mem, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    other = tmp_path / "other.gitconfig"
    other.write_text("[init]\n\tdefaultBranch = master\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(other))
    alice = tmp_path / "alice"
    assert mem("init", "--git", str(alice)).code == 0
    git(alice, "remote", "add", "origin", str(remote))
    assert mem("--root", str(alice), "add", "a/b/c", "shared").code == 0
    first = mem("--root", str(alice), "--json", "sync")
    assert first.code == 0
    warned = " ".join(first.json["warnings"])
    assert "default branch" in warned and "master" in warned
    # Bob clones: git checks out the remote's HEAD (main), which does not exist.
    git(tmp_path, "clone", "-q", str(remote), str(tmp_path / "bob"))
    refused = mem("--root", str(tmp_path / "bob"), "sync")
    assert refused.code == 8
    assert "no branch 'main'" in refused.stderr and "master" in refused.stderr
    git(tmp_path / "bob", "checkout", "-q", "master")
    assert mem("--root", str(tmp_path / "bob"), "sync").code == 0
    assert (tmp_path / "bob" / "a" / "b" / "c.md").exists()
