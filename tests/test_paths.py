"""Paths never leave the root: every escape form is refused and nothing is written outside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from contextree import Memory
from contextree.core.errors import ExitCode, InvalidError
from contextree.core.paths import normalize_entry_path, normalize_prefix, slugify

ESCAPES = [
    "../outside/topic/entry",
    "a/../../outside/entry",
    "a/b/../../../x",
    "/etc/passwd/x",
    "/tmp/a/b",
    "~/a/b",
    "C:/a/b/c",
    "a\\b\\c",
    "..\\..\\a\\b",
    "a/b/c\x00d",
    "a/./b/c",
    "a//b/c",
    "A/b/c",
    "a b/c/d",
    "a/b/Ünïcode",
    "_archive/a/b/c",
    ".mem/a/b",
]


@pytest.mark.parametrize("raw", ESCAPES)
def test_escape_forms_are_refused_by_the_api(raw: str, memory: Memory, tmp_path: Path) -> None:
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(InvalidError):
        memory.add(raw, "pwned")
    with pytest.raises(InvalidError):
        memory.get(raw)
    assert sorted(p for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("raw", ESCAPES)
def test_escape_forms_are_refused_by_the_cli(raw: str, mem, root: Path, tmp_path: Path) -> None:
    mem("add", "a/b/c", "an entry to move")
    before = sorted(p for p in tmp_path.rglob("*"))
    for args in (["add", raw, "pwned"], ["show", raw], ["update", raw, "--append", "x"], ["mv", "a/b/c", raw]):
        result = mem("--json", *args)
        assert result.code in (ExitCode.INVALID, ExitCode.NOT_FOUND), (args, result)
        assert result.json["ok"] is False
        assert len(result.json["errors"][0]["message"].splitlines()) == 1
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_symlinked_folder_pointing_outside_is_never_followed(memory: Memory, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidError, match="symlink"):
        memory.add("evil/topic/entry", "pwned")
    assert list(outside.iterdir()) == []
    (outside / "topic").mkdir()
    (outside / "topic" / "secret.md").write_text("---\ntitle: secret\n---\nsecret\n")
    with pytest.raises(InvalidError, match="symlink"):
        memory.get("evil/topic/secret")
    listing = memory.list()
    assert listing.entries == ()
    assert any("symlink" in problem.message for problem in listing.problems)


def test_symlinked_entry_file_is_not_read(memory: Memory, root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: secret\n---\nsecret\n")
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "c.md").symlink_to(secret)
    with pytest.raises(InvalidError, match="symlink"):
        memory.get("a/b/c")
    with pytest.raises(InvalidError, match="symlink"):
        memory.update("a/b/c", body="overwrite")
    assert secret.read_text() == "---\ntitle: secret\n---\nsecret\n"


def test_symlink_loop_does_not_hang_a_walk(memory: Memory, root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    os.symlink(root / "a", root / "a" / "b" / "loop")
    memory.add("a/b/real", "real")
    assert [entry.path for entry in memory.list().entries] == ["a/b/real"]


def test_normalization() -> None:
    assert normalize_entry_path(" a/b/c.md ") == "a/b/c"
    assert normalize_entry_path("a/b/c/d") == "a/b/c/d"
    assert normalize_prefix("a/b/") == "a/b"
    assert normalize_prefix(None) == ""
    with pytest.raises(InvalidError, match="domain/topic/entry"):
        normalize_entry_path("a/b")
    with pytest.raises(InvalidError, match="domain/topic/entry"):
        normalize_entry_path("a/b/c/d/e")
    with pytest.raises(InvalidError, match="try 'my-notes'"):
        normalize_entry_path("a/My Notes/c")
    assert slugify("Facturación Electrónica (v2)") == "facturacion-electronica-v2"
    assert slugify("数据库") == ""
