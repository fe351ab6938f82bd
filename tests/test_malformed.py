"""Bad files beside good ones: reported once each, skipped, never fatal, never rewritten."""

from __future__ import annotations

from pathlib import Path

from contextree import Memory

BAD_FILES = {
    "a/b/not-yaml.md": "---\ntitle: [oops\n---\nbody\n",
    "a/b/python-tag.md": "---\ntitle: !!python/object/apply:os.system ['touch PWNED']\n---\n",
    "a/b/wrong-types.md": "---\ntitle: t\nimportance: lots\n---\n",
    "a/b/binary.md": b"\x00\x01\x02\xff binary",
    "a/b/latin1.md": "---\ntitle: caf\xe9\n---\n".encode("latin-1"),
    "a/b/Capitals.md": "---\ntitle: capital\n---\n",
    "a/b/with space.md": "---\ntitle: space\n---\n",
    "a/shallow.md": "---\ntitle: too shallow\n---\n",
    "a/b/c/d/too-deep.md": "---\ntitle: too deep\n---\n",
}


def make_tree(root: Path) -> None:
    memory = Memory(root)
    memory.add("a/b/good", "good one")
    memory.add("z/y/also-good", "good two")
    for name, content in BAD_FILES.items():
        file = root / name
        file.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            file.write_bytes(content)
        else:
            file.write_text(content)
    (root / "a" / "b" / "empty.md").write_text("")


def test_list_and_tree_survive_bad_files(mem, root: Path, tmp_path: Path) -> None:
    make_tree(root)
    before = {p: p.read_bytes() for p in root.rglob("*.md")}
    listed = mem("--json", "list")
    assert listed.code == 0
    paths = [e["path"] for e in listed.data["entries"]]
    assert paths == ["a/b/empty", "a/b/good", "z/y/also-good"]  # an empty file is a plain entry
    problems = {p["file"] for p in listed.data["problems"]}
    assert problems == {
        "a/b/not-yaml.md",
        "a/b/python-tag.md",
        "a/b/wrong-types.md",
        "a/b/binary.md",
        "a/b/latin1.md",
        "a/b/Capitals.md",
        "a/b/with space.md",
        "a/shallow.md",
        "a/b/c/d/",
    }
    assert len(listed.json["warnings"]) == len(listed.data["problems"])
    assert all("\n" not in w for w in listed.json["warnings"])
    tree = mem("--json", "tree")
    assert tree.code == 0
    human = mem("list")
    assert human.code == 0 and "a/b/good" in human.stdout
    assert human.stderr.count("warning:") == len(problems)
    assert not (tmp_path / "PWNED").exists()
    assert {p: p.read_bytes() for p in root.rglob("*.md")} == before  # nothing was rewritten


def test_show_of_a_bad_file_is_one_clear_error(mem, root: Path) -> None:
    make_tree(root)
    result = mem("show", "a/b/not-yaml")
    assert result.code == 5
    assert result.stderr.startswith("Error: a/b/not-yaml: frontmatter is not valid YAML")
    assert result.stderr.count("\n") == 1
    binary = mem("show", "a/b/binary")
    assert "binary data" in binary.stderr
    assert mem("update", "a/b/not-yaml", "--append", "x").code == 5
    assert (root / "a/b/not-yaml.md").read_text() == BAD_FILES["a/b/not-yaml.md"]


def test_oversized_file_is_skipped_with_a_warning(memory: Memory, root: Path) -> None:
    memory.add("a/b/good", "fine")
    big = root / "a" / "b" / "huge.md"
    big.write_text("---\ntitle: huge\n---\n" + "x" * (2 * 1024 * 1024))
    listing = memory.list()
    assert [e.path for e in listing.entries] == ["a/b/good"]
    assert "limit" in listing.problems[0].message
