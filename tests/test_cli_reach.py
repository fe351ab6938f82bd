"""The commands people reach for: `mem edit` with a real (scripted) editor, `mem recent` and
the filters of `mem list`, aliases, and "did you mean" for entry paths and config keys."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from contextree import Memory

from .conftest import run_mem

BROKEN = "---\ntitle: [unclosed\n---\nBroken body.\n"


def editor_script(tmp_path: Path, steps: list[str]) -> Path:
    """An EDITOR that, on its Nth run, replaces the file with steps[N] (verbatim, or
    `sed:OLD:NEW` to change text in place), and counts its runs in `runs`."""
    folder = tmp_path / "editor"
    folder.mkdir(exist_ok=True)
    for number, step in enumerate(steps):
        (folder / f"step{number}").write_text(step)
    script = folder / "edit.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'cd_dir="{folder}"\n'
        'n=$(cat "$cd_dir/runs" 2>/dev/null || echo 0)\n'
        'echo $((n + 1)) > "$cd_dir/runs"\n'
        'step="$cd_dir/step$n"\n'
        'case "$(cat "$step")" in\n'
        '  sed:*) expr=$(cut -c5- "$step"); old=${expr%%:*}; new=${expr#*:};'
        ' sed -i "s/$old/$new/" "$1" ;;\n'
        '  *) cp "$step" "$1" ;;\n'
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def runs(script: Path) -> int:
    return int((script.parent / "runs").read_text())


@pytest.fixture
def entry(memory: Memory) -> str:
    memory.add("decisions/api/versioning", "We version the API in the URL path. Old versions live 12 months.")
    return "decisions/api/versioning"


def test_edit_saves_what_the_editor_wrote(entry: str, memory: Memory, tmp_path: Path) -> None:
    script = editor_script(tmp_path, ["sed:12 months:18 months"])
    completed = run_mem("edit", entry, env={"EDITOR": str(script), "VISUAL": ""})
    assert completed.returncode == 0, completed.stderr
    saved = memory.get(entry)
    assert "18 months" in saved.body and saved.importance == 55  # bumped like an update
    assert not list((memory.root / ".mem" / "edits").iterdir())  # the draft is gone


def test_edit_reopens_on_broken_frontmatter_and_keeps_the_text(entry: str, memory: Memory, tmp_path: Path) -> None:
    before = (memory.root / "decisions/api/versioning.md").read_bytes()
    fixed = "---\ntitle: Versioning\nimportance: 70\n---\nVersions live 18 months.\n"
    script = editor_script(tmp_path, [BROKEN, fixed])
    completed = run_mem("edit", entry, input="y\n", env={"EDITOR": str(script)})
    assert completed.returncode == 0, completed.stderr
    assert runs(script) == 2
    assert "not valid YAML" in completed.stderr or "frontmatter" in completed.stderr
    saved = memory.get(entry)
    assert saved.title == "Versioning" and saved.body == "Versions live 18 months.\n"
    assert before != (memory.root / "decisions/api/versioning.md").read_bytes()


def test_edit_refused_keeps_the_draft_and_the_entry(entry: str, memory: Memory, tmp_path: Path) -> None:
    file = memory.root / "decisions/api/versioning.md"
    before = file.read_bytes()
    script = editor_script(tmp_path, [BROKEN])
    completed = run_mem("edit", entry, input="n\n", env={"EDITOR": str(script)})
    assert completed.returncode == 5
    assert file.read_bytes() == before  # the entry is untouched
    drafts = list((memory.root / ".mem" / "edits").iterdir())
    assert len(drafts) == 1 and drafts[0].read_text() == BROKEN  # nothing typed is lost
    assert str(drafts[0]) in completed.stderr


def test_edit_with_no_change_writes_nothing(entry: str, memory: Memory, tmp_path: Path) -> None:
    file = memory.root / "decisions/api/versioning.md"
    before = file.read_bytes()
    completed = run_mem("edit", entry, env={"EDITOR": "true", "VISUAL": ""})
    assert completed.returncode == 0 and "No changes" in completed.stdout
    assert file.read_bytes() == before


def test_edit_of_an_entry_changed_meanwhile_is_refused(entry: str, memory: Memory, tmp_path: Path) -> None:
    file = memory.root / "decisions/api/versioning.md"
    script = tmp_path / "racing.sh"  # an editor during whose session someone else writes
    script.write_text(f'#!/bin/sh\necho "Another paragraph." >> "{file}"\necho "My text." >> "$1"\n')
    script.chmod(0o755)
    completed = run_mem("edit", entry, env={"EDITOR": str(script)})
    assert completed.returncode == 6, completed.stderr
    assert "Another paragraph." in file.read_text() and "My text." not in file.read_text()
    assert "your text is kept in" in completed.stderr


def test_edit_failing_editor_and_json(entry: str, memory: Memory) -> None:
    assert run_mem("edit", entry, env={"EDITOR": "false"}).returncode == 7
    assert run_mem("--json", "edit", entry, env={"EDITOR": "true"}).returncode == 5
    missing = run_mem("edit", "decisions/api/versionin", env={"EDITOR": "true"})
    assert missing.returncode == 3 and "did you mean 'decisions/api/versioning'" in missing.stderr


def test_aliases_run_the_command_people_meant(entry: str, mem) -> None:  # type: ignore[no-untyped-def]
    assert mem("--json", "get", entry).json["command"] == "show"
    assert mem("search", "versions url").code == 0
    assert mem("--json", "ls").data["count"] == 1
    assert mem("rm", entry).code == 0
    assert mem("--json", "list").data["count"] == 0


def test_did_you_mean_for_entries_folders_and_config_keys(entry: str, mem) -> None:  # type: ignore[no-untyped-def]
    missing = mem("show", "decisions/api/versionin")
    assert missing.code == 3 and "did you mean 'decisions/api/versioning'" in missing.stderr
    far = mem("show", "people/team/nobody")
    assert far.code == 3 and "did you mean" not in far.stderr
    folder = mem("show", "decisions/api")
    assert folder.code == 5 and "mem list decisions/api" in folder.stderr
    key = mem("config", "set", "recall.kk", "5")
    assert key.code == 3 and "did you mean 'recall.k'" in key.stderr
    assert "did you mean 'recall.k'" in mem("config", "get", "recall.kk").stderr


def test_recent_and_list_filters(memory: Memory, mem) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC).replace(microsecond=0)
    for days, path, tags, maturity in (
        (40, "runbooks/deploy/old", ["deploy"], "validated"),
        (3, "runbooks/deploy/new", ["deploy", "k8s"], "draft"),
        (1, "gotchas/redis/ttl", ["redis"], "core"),
    ):
        clock = lambda moment=now - timedelta(days=days): moment  # noqa: E731
        Memory(memory.root, clock=clock).add(path, f"About {path}.", tags=tags, maturity=maturity)
    recent = mem("--json", "recent").data
    assert [e["path"] for e in recent["entries"]] == ["gotchas/redis/ttl", "runbooks/deploy/new", "runbooks/deploy/old"]
    assert mem("--json", "recent", "-n", "1").data["count"] == 1
    assert [e["path"] for e in mem("--json", "list", "--since", "7d").data["entries"]] == [
        "gotchas/redis/ttl",
        "runbooks/deploy/new",
    ]
    since_date = (now - timedelta(days=2)).date().isoformat()
    assert mem("--json", "list", "--since", since_date).data["count"] == 1
    assert mem("--json", "list", "--tag", "deploy").data["count"] == 2
    assert mem("--json", "list", "--tag", "deploy", "--tag", "K8S").data["count"] == 1
    assert mem("--json", "list", "-m", "core", "-m", "validated").data["count"] == 2
    bad = mem("list", "--since", "last tuesday")
    assert bad.code == 5 and "7d" in bad.stderr


def test_scripted_editor_helper_really_edits(tmp_path: Path) -> None:
    script = editor_script(tmp_path, ["sed:a:b", "replaced\n"])
    target = tmp_path / "file.md"
    target.write_text("a\n")
    os.system(f"{script} {target}")
    assert target.read_text() == "b\n"
    os.system(f"{script} {target}")
    assert target.read_text() == "replaced\n" and runs(script) == 2
