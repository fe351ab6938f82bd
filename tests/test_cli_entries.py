"""Every foundation command through the CLI, checked by parsing its --json output."""

from __future__ import annotations

from pathlib import Path

import yaml
from contextree.core.errors import ExitCode

from .conftest import run_mem


def test_init_creates_root_gitignore_and_config(mem, isolated: Path) -> None:
    data = mem("--json", "init").data
    assert data["created"] is True
    assert sorted(data["files"]) == [".gitignore", "config.yaml"]
    assert ".mem/" in (isolated / ".gitignore").read_text()
    assert yaml.safe_load((isolated / "config.yaml").read_text()) is None  # all commented defaults
    again = mem("--json", "init").data
    assert again["created"] is False and again["files"] == []


def test_init_at_explicit_path(mem, tmp_path: Path) -> None:
    data = mem("--json", "init", str(tmp_path / "project" / ".memory")).data
    assert Path(data["root"]) == (tmp_path / "project" / ".memory").resolve()


def test_envelope_shape(mem, root: Path) -> None:
    payload = mem("--json", "list").json
    assert set(payload) == {"schema", "command", "ok", "data", "errors", "warnings"}
    assert payload["schema"] == 1 and payload["command"] == "list" and payload["ok"] is True


def test_add_show_and_refuse_overwrite(mem, root: Path) -> None:
    added = mem(
        "--json",
        "add",
        "architecture/auth/session-tokens",
        "Opaque tokens in Redis.\n\nNo JWTs.",
        "--title",
        "Session tokens",
        "--tags",
        "auth,security",
        "--keywords",
        "redis",
        "--keywords",
        "jwt",
        "--importance",
        "70",
        "--source",
        "agent:test",
        "--maturity",
        "validated",
        "--decay",
        "slow",
    ).data["entry"]
    assert added["path"] == "architecture/auth/session-tokens"
    assert added["tags"] == ["auth", "security"] and added["keywords"] == ["redis", "jwt"]
    assert added["importance"] == 70 and added["source"] == "agent:test"
    assert added["created"].endswith("Z")
    shown = mem("--json", "show", "architecture/auth/session-tokens").data
    assert shown["entry"]["body"] == "Opaque tokens in Redis.\n\nNo JWTs.\n"
    assert shown["archived"] is False
    again = mem("--json", "add", "architecture/auth/session-tokens", "other")
    assert again.code == ExitCode.EXISTS
    assert "already exists" in again.json["errors"][0]["message"]
    assert mem("--json", "show", "architecture/auth/session-tokens").data["entry"]["body"].startswith("Opaque")


def test_add_reads_stdin_and_takes_title_from_first_line(mem, root: Path) -> None:
    data = mem("--json", "add", "runbooks/deploys/rollback", input="# Rolling back\n\nRun helm rollback.\n").data
    assert data["entry"]["title"] == "Rolling back"
    assert data["entry"]["body"] == "Run helm rollback.\n"
    plain = mem("--json", "add", "runbooks/deploys/canary", "-", input="Canary first, always.\nThen 50%.").data
    assert plain["entry"]["title"] == "Canary first, always"  # the first sentence, without its full stop
    empty = mem("--json", "add", "runbooks/deploys/empty-notes", input="")
    assert empty.code == ExitCode.INVALID and "empty" in empty.json["errors"][0]["message"]


def test_add_without_text_on_a_terminal_is_a_clear_error(mem, root: Path) -> None:
    result = mem("add", "a/b/c")  # input=None: stdin is a terminal
    assert result.code == ExitCode.INVALID
    assert result.stderr.strip() == "Error: give the entry text as an argument or pipe it on stdin"


def test_add_validates_related_and_importance(mem, root: Path) -> None:
    assert mem("--json", "add", "a/b/c", "x", "--related", "../x").code == ExitCode.INVALID
    assert mem("--json", "add", "a/b/c", "x", "--importance", "101").code == ExitCode.INVALID


def test_body_size_limit(mem, root: Path) -> None:
    mem("config", "set", "limits.max_body_bytes", "100")
    result = mem("--json", "add", "a/b/c", "x" * 101)
    assert result.code == ExitCode.INVALID
    assert "over the 100-byte limit" in result.json["errors"][0]["message"]
    assert not (root / "a").exists()


def test_update_replaces_appends_and_bumps_importance(mem, root: Path) -> None:
    mem("add", "a/b/c", "first", "--importance", "50", "--tags", "x")
    data = mem("--json", "update", "a/b/c", "--append", "second").data["entry"]
    assert data["body"] == "first\n\nsecond\n"
    assert data["importance"] == 55
    data = mem("--json", "update", "a/b/c", "--text", "-", input="replaced").data["entry"]
    assert data["body"] == "replaced\n" and data["importance"] == 60
    data = mem("--json", "update", "a/b/c", "--importance", "20", "--tags", "y,z", "--title", "New").data["entry"]
    assert data["importance"] == 20 and data["tags"] == ["y", "z"] and data["title"] == "New"
    assert mem("--json", "update", "a/b/c").code == ExitCode.INVALID
    assert mem("--json", "update", "a/b/missing", "--append", "x").code == ExitCode.NOT_FOUND


def test_update_keeps_unknown_keys_and_body_bytes(mem, root: Path) -> None:
    file = root / "a" / "b" / "c.md"
    file.parent.mkdir(parents=True)
    file.write_text("---\ntitle: T\nowner: team-x\nreview: {every: 90d}\n---\nbody  \n\n\n")
    mem("update", "a/b/c", "--tags", "t")
    text = file.read_text()
    assert "owner: team-x" in text and "review:\n  every: 90d" in text
    assert text.endswith("---\nbody  \n\n\n")


def test_list_and_prefix(mem, root: Path) -> None:
    for path in ("a/b/one", "a/b/two", "a/c/three", "d/e/four"):
        mem("add", path, f"text of {path}")
    data = mem("--json", "list").data
    assert [e["path"] for e in data["entries"]] == ["a/b/one", "a/b/two", "a/c/three", "d/e/four"]
    assert "body" not in data["entries"][0]
    assert [e["path"] for e in mem("--json", "list", "a/b").data["entries"]] == ["a/b/one", "a/b/two"]
    assert mem("--json", "list", "zzz").data["count"] == 0
    human = mem("list", "a")
    assert "a/b/one" in human.stdout and "a/c/three" in human.stdout


def test_tree_nests_folders_with_overviews(mem, root: Path) -> None:
    mem("add", "a/b/one", "1", "--importance", "80")
    mem("add", "a/b/sub/two", "2")
    (root / "a" / "_index.md").write_text("---\ntitle: Area A\nsummary: All of A.\n---\n")
    data = mem("--json", "tree").data["root"]
    a = data["folders"][0]
    assert (a["name"], a["title"], a["summary"]) == ("a", "Area A", "All of A.")
    b = a["folders"][0]
    assert [e["path"] for e in b["entries"]] == ["a/b/one"]
    assert b["entries"][0]["importance"] == 80
    assert b["folders"][0]["entries"][0]["path"] == "a/b/sub/two"
    human = mem("tree", "a/b")
    assert "one" in human.stdout and "sub/" in human.stdout


def test_mv_entry_and_folder_rewrite_related_links(mem, root: Path) -> None:
    mem("add", "a/b/target", "target")
    mem("add", "a/b/linker", "links", "--related", "a/b/target")
    data = mem("--json", "mv", "a/b/target", "x/y/target").data
    assert data["moved"] == [{"from": "a/b/target", "to": "x/y/target"}]
    assert data["relinked"] == ["a/b/linker"]
    assert mem("--json", "show", "a/b/linker").data["entry"]["related"] == ["x/y/target"]
    data = mem("--json", "mv", "x/y", "z/w").data
    assert data["moved"] == [{"from": "x/y/target", "to": "z/w/target"}]
    assert mem("--json", "show", "a/b/linker").data["entry"]["related"] == ["z/w/target"]
    mem("add", "q/r/s", "s")
    assert mem("--json", "mv", "q/r/s", "z/w/target").code == ExitCode.EXISTS
    assert mem("--json", "show", "q/r/s").code == 0
    into = mem("--json", "mv", "q/r/s", "z/w").data
    assert into["moved"] == [{"from": "q/r/s", "to": "z/w/s"}]
    assert mem("--json", "mv", "nope/nope", "z/y").code == ExitCode.NOT_FOUND


def test_mv_rewrites_every_kind_of_link(mem, root: Path) -> None:
    """`reply_to` (imported conversations), `supersedes` and `superseded_by` name an entry as
    `related` does: a move rewrites them too, in the entries that stay and in those moved."""

    def write(path: str, extra: str) -> None:
        file = root / (path + ".md")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(f"---\ntitle: {path}\n{extra}---\nbody of {path}\n", encoding="utf-8")

    write("talk/one/turn-0001", "")
    write("talk/one/turn-0002", "reply_to: talk/one/turn-0001\n")
    write("notes/misc/new-way", "supersedes: talk/one/turn-0001\n")
    write("notes/misc/old-way", "superseded_by: talk/one/turn-0002\nreply_to: somewhere/else/kept\n")
    data = mem("--json", "mv", "talk/one", "talk/two").data
    assert sorted(data["relinked"]) == ["notes/misc/new-way", "notes/misc/old-way"]
    extra = {path: mem("--json", "show", path).data["entry"]["extra"] for path in data["relinked"]}
    assert extra["notes/misc/new-way"]["supersedes"] == "talk/two/turn-0001"
    assert extra["notes/misc/old-way"] == {
        "superseded_by": "talk/two/turn-0002",
        "reply_to": "somewhere/else/kept",  # not a moved entry: left as it is
    }
    moved = mem("--json", "show", "talk/two/turn-0002").data["entry"]
    assert moved["extra"]["reply_to"] == "talk/two/turn-0001"  # moved with its target
    assert "reply_to" not in mem("--json", "show", "talk/two/turn-0001").data["entry"]["extra"]


def test_forget_and_restore(mem, root: Path) -> None:
    mem("add", "a/b/c", "remember me")
    data = mem("--json", "forget", "a/b/c", "--reason", "obsolete").data
    assert data["archived"] is True and data["entry"]["extra"]["archived_reason"] == "obsolete"
    assert (root / "_archive" / "a" / "b" / "c.md").is_file() and not (root / "a" / "b" / "c.md").exists()
    assert mem("--json", "list").data["count"] == 0
    assert mem("--json", "list", "--archived").data["count"] == 1
    missing = mem("--json", "show", "a/b/c")
    assert missing.code == ExitCode.NOT_FOUND and "archived" in missing.json["errors"][0]["message"]
    assert mem("--json", "show", "_archive/a/b/c").data["archived"] is True
    restored = mem("--json", "forget", "--restore", "a/b/c").data["entry"]
    assert "archived_reason" not in restored["extra"]
    assert mem("--json", "show", "a/b/c").data["entry"]["body"] == "remember me\n"


def test_config_get_set_path(mem, root: Path) -> None:
    assert mem("--json", "config", "get", "limits.max_body_bytes").data["value"] == 1048576
    assert mem("--json", "config", "set", "limits.lock_timeout_seconds", "3").data["value"] == 3.0
    assert mem("--json", "config", "get", "limits").data["value"]["lock_timeout_seconds"] == 3.0
    text = (root / "config.yaml").read_text()
    assert "# contextree configuration" in text  # comments survive
    mem("config", "set", "limits.max_body_bytes", "5000")
    assert "# contextree configuration" in (root / "config.yaml").read_text()
    assert mem("--json", "config", "get", "limits.max_body_bytes").data["value"] == 5000
    assert mem("--json", "config", "set", "limits.max_body_bytes", "lots").code == ExitCode.INVALID
    assert mem("--json", "config", "get", "nope.key").code == ExitCode.NOT_FOUND
    assert mem("--json", "config", "path").data["path"] == str(root / "config.yaml")


def test_unknown_config_key_is_a_warning(mem, root: Path) -> None:
    (root / "config.yaml").write_text("limits:\n  max_body_byts: 3\n")
    payload = mem("--json", "list").json
    assert payload["ok"] and "max_body_byts" in payload["warnings"][0]


def test_global_flags_anywhere_and_no_root(mem, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MEM_ROOT")
    result = mem("list", "--json")
    assert result.code == ExitCode.NOT_FOUND
    assert "run `mem init`" in result.json["errors"][0]["message"]
    (tmp_path / "proj" / "src").mkdir(parents=True)
    mem("init", str(tmp_path / "proj" / ".memory"))
    monkeypatch.chdir(tmp_path / "proj" / "src")
    assert mem("--json", "list").code == 0  # found upward, like git


def test_usage_error_in_json_mode(mem, root: Path) -> None:
    result = mem("--json", "add", "a/b/c", "text", "--no-such-option")
    assert result.code == ExitCode.USAGE
    assert result.json["ok"] is False and result.json["errors"][0]["kind"] == "usage"


def test_real_executable_and_python_dash_m(root: Path) -> None:
    added = run_mem("--json", "add", "a/b/c", input="from stdin")
    assert added.returncode == 0, added.stderr
    import json
    import subprocess
    import sys

    shown = subprocess.run(
        [sys.executable, "-m", "contextree", "show", "a/b/c", "--json"], capture_output=True, text=True, check=False
    )
    assert json.loads(shown.stdout)["data"]["entry"]["body"] == "from stdin\n"
    error = run_mem("show", "a/b/nope")
    assert error.returncode == ExitCode.NOT_FOUND
    assert error.stderr == "Error: no entry 'a/b/nope'\n"
    assert "Traceback" not in error.stderr
