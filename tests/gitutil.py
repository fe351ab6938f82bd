"""Helpers for the tests that drive real git: an isolated git configuration and a runner."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

PERSON = ("Test Person", "person@example.test")


def isolate_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point git at a configuration of our own: the real ~/.gitconfig and /etc/gitconfig are
    never read, the default branch is `main`, and commits have a known identity."""
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for kind in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{kind}_NAME", PERSON[0])
        monkeypatch.setenv(f"GIT_{kind}_EMAIL", PERSON[1])
    for name in ("MEM_GIT_AUTHOR_NAME", "MEM_GIT_AUTHOR_EMAIL", "MEM_SOURCE", "GIT_DIR", "GIT_WORK_TREE"):
        monkeypatch.delenv(name, raising=False)


def git(cwd: Path, *args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, f"git {' '.join(args)}: {completed.stderr}"
    return completed.stdout


def subjects(repo: Path) -> list[str]:
    """Commit subjects, newest first."""
    return git(repo, "log", "--format=%s").splitlines()


def files_of(repo: Path, commit: str = "HEAD") -> list[str]:
    return sorted(git(repo, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", commit).splitlines())


def status(repo: Path) -> list[str]:
    return git(repo, "status", "--porcelain=v1", "--untracked-files=all").splitlines()
