"""Git, driven through its command line: finding the repository, committing memory writes,
history, undo and sync.

Git is run as a subprocess (`git ...`) rather than through a binding: the command line is
what people use, it honours the user's own configuration and credential helpers, and its
behaviour is documented and stable. What a repository carries is data, not control: mem's own
git calls never run the repository's hooks or `core.fsmonitor`, and refuse a repository whose
own config (`.git/config`) names a command to run, unless the user opts in with
MEM_GIT_TRUST_REPOSITORY=1 (an environment variable: a setting inside the memory folder
would arrive with the folder it is meant to distrust). See docs/security.md.

Every function here returns data or raises a `MemError` whose one-line message carries git's
own reason (its first `fatal:`/`error:` line).

Finding the repository is done on the file system (a `.git` folder or file upward from the
root), so a memory that is not in a repository never starts a git process.

All paths given to git are relative to the repository's top level (git runs there) and
marked `:(literal)` so that a folder name with `*` or `[` is never read as a pattern.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

from .config import CONFIG_FILE, SOURCE_ENV, GitConfig
from .entry import has_conflict_markers
from .errors import ConflictError, ExternalError, InvalidError, MemError, NotFoundError, RefusedError
from .paths import ENTRY_SUFFIX, STATE_DIR

GIT_DIR_NAME = ".git"
AUTHOR_NAME_ENV = "MEM_GIT_AUTHOR_NAME"
AUTHOR_EMAIL_ENV = "MEM_GIT_AUTHOR_EMAIL"
# The actions of mem's commits, `mem {action}: {subject}`: what `files.EntryFiles.after_write`
# accepts and what `mem log` and `mem undo` recognise, so a writer cannot commit under an action
# they do not know (mypy checks the callers). "edit" is sync's commit of changes made outside
# mem, "undo" the revert `mem undo` makes, "init" the first commit of `mem init --git`.
WriteAction = Literal[
    "init", "add", "update", "mv", "forget", "restore", "undo", "edit", "consolidate", "doctor", "import"
]
MEM_ACTIONS: tuple[WriteAction, ...] = get_args(WriteAction)
TRUST_ENV = "MEM_GIT_TRUST_REPOSITORY"  # "1": run the repository's hooks and config commands
DEFAULT_BRANCH = "main"  # `mem init --git` when git's init.defaultBranch is unset
# "mem add: a/b/c", "mem undo: mem add: a/b/c": how mem's own commits are recognised.
MEM_SUBJECT = re.compile(r"^mem (" + "|".join(MEM_ACTIONS) + r")(?::|$)")
# Files under the root that belong to the memory (besides entry files): sync commits pending
# changes to these and refuses to sweep in anything else.
MEMORY_ROOT_FILES = frozenset({CONFIG_FILE, ".gitignore"})
SYNC_ATTEMPTS = 3  # a push rejected because someone pushed meanwhile is retried this often
SECRET_SCAN_LIMIT = 16 * 1024 * 1024  # bytes of a hand-edited file sync scans for secrets
SHOWN_FILES = 5  # how many file names a one-line message lists before "and N more"


# --- locating the repository ---------------------------------------------------------------


@dataclass(frozen=True)
class Repo:
    """The git repository a memory root lives in."""

    top: Path  # the working tree's top level (where git runs)
    git_dir: Path  # git's state folder (not top/.git in worktrees and submodules)
    prefix: str  # the memory root relative to `top`, '' when the root is the top level

    @property
    def standalone(self) -> bool:
        """The memory root is the repository's top level: a repository of its own."""
        return self.prefix == ""

    def rel(self, file: Path) -> str:
        """A file under the root as git names it: relative to the top level, with '/'."""
        return file.relative_to(self.top).as_posix()

    def from_root(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def to_root(self, name: str) -> str | None:
        """A top-level-relative name as seen from the memory root; None if outside it."""
        if not self.prefix:
            return name
        return name[len(self.prefix) + 1 :] if name.startswith(self.prefix + "/") else None


def locate(root: Path, notes: list[str] | None = None) -> Repo | None:
    """The repository holding `root`, found on disk alone (no git process), or None.

    A `.git` *file* ("gitdir: <path>") is followed only when git itself made it: a linked
    worktree (its git dir points back at this file) or a submodule (its git dir is under an
    enclosing folder's `.git/modules/`). Any other gitfile, e.g. one in a folder received as an
    archive that points into someone else's repository, makes the folder "not a repository"
    (with a note in `notes`), so no commit is sent there.
    """
    for folder in (root, *root.parents):
        marker = folder / GIT_DIR_NAME
        if marker.is_symlink():
            _note(notes, f"{marker} is a symbolic link; mem does not commit through it")
            return None
        if marker.is_dir():
            git_dir = marker
        elif marker.is_file():  # a worktree or submodule: "gitdir: <path>"
            try:
                text = marker.read_bytes()[:4096].decode("utf-8").strip()
            except (OSError, UnicodeDecodeError):
                continue
            if not text.startswith("gitdir:"):
                continue
            git_dir = (folder / text.removeprefix("gitdir:").strip()).resolve()
            if not _gitfile_made_by_git(marker, git_dir):
                _note(
                    notes,
                    f"{marker} points at {git_dir}, which is not a worktree or submodule of this folder; "
                    "mem treats the folder as not a repository (no commits)",
                )
                return None
        else:
            continue
        prefix = "" if folder == root else root.relative_to(folder).as_posix()
        return Repo(top=folder, git_dir=git_dir, prefix=prefix)
    return None


def _note(notes: list[str] | None, text: str) -> None:
    if notes is not None and text not in notes:
        notes.append(text)


def _gitfile_made_by_git(marker: Path, git_dir: Path) -> bool:
    """A worktree's git dir names this `.git` file in its `gitdir` file; a submodule's git
    dir lies in `<ancestor>/.git/modules/`."""
    back = git_dir / "gitdir"
    try:
        if back.is_file() and not back.is_symlink():
            pointed = Path(back.read_bytes()[:4096].decode("utf-8").strip())
            if pointed.resolve() == marker.resolve():
                return True
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    for ancestor in marker.parent.resolve().parents:
        modules = ancestor / GIT_DIR_NAME / "modules"
        if git_dir.is_relative_to(modules) and git_dir != modules:
            return True
    return False


def operation_in_progress(repo: Repo) -> str | None:
    """The git operation that stopped half-way in this repository (a rebase, a merge...)."""
    for marker, name in (
        ("rebase-merge", "rebase"),
        ("rebase-apply", "rebase"),
        ("MERGE_HEAD", "merge"),
        ("CHERRY_PICK_HEAD", "cherry-pick"),
        ("REVERT_HEAD", "revert"),
    ):
        if (repo.git_dir / marker).exists():
            return name
    return None


# --- running git ---------------------------------------------------------------------------


def git_reason(stderr: str, returncode: int) -> str:
    """The line of git's error output that says what went wrong."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for prefix in ("fatal:", "error:"):
        for line in lines:
            if line.startswith(prefix):
                return line.removeprefix(prefix).strip()
    for line in lines:
        if not line.startswith("hint:"):
            return line
    return f"exit code {returncode}"


def run(
    top: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    read_only: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `git ARGS` in `top`; a failure becomes ExternalError with git's own reason.

    Unless the user trusts the repository (MEM_GIT_TRUST_REPOSITORY=1), hooks and
    `core.fsmonitor` are switched off for this call and a repository whose own config names a
    command (a filter, an ssh command, a credential helper...) is refused: see `_guard`.
    """
    full_env = {**os.environ, **(env or {})}
    if read_only:
        full_env["GIT_OPTIONAL_LOCKS"] = "0"  # `status` must not take index.lock from a user's git
    guard = _guard(top, full_env)
    try:
        # The user's own git from PATH, with an argument list (no shell).
        completed = subprocess.run(  # noqa: S603
            ["git", *guard, *args],  # noqa: S607
            cwd=top,
            env=full_env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise ExternalError("git is not installed or not on PATH") from None
    except OSError as error:
        raise ExternalError(f"cannot run git: {error.strerror or error}") from None
    if check and completed.returncode != 0:
        raise ExternalError(f"git {args[0]} failed: {git_reason(completed.stderr, completed.returncode)}")
    return completed


# Repository config keys whose value git runs as a command (or that pull in more config).
# A folder received as an archive, on a shared drive or in a container volume carries its
# `.git/config`; mem's own git calls must not run what it names. Hooks and core.fsmonitor are
# switched off per call instead (they are common, and harmless once off).
_COMMAND_KEYS = re.compile(
    r"^(?:core\.(?:sshcommand|editor|pager|askpass|gitproxy|alternaterefscommand)"
    r"|sequence\.editor|diff\.external|diff\..+\.(?:command|textconv)|merge\..+\.driver"
    r"|filter\..+\.(?:clean|smudge|process)|gpg(?:\..+)?\.program|credential(?:\..+)?\.helper"
    r"|remote\..+\.(?:uploadpack|receivepack|vcs)|uploadpack\.packobjectshook"
    r"|include\.path|includeif\..+\.path|protocol\..*allow)$",
    re.IGNORECASE,
)
_NO_HOOKS = ("-c", f"core.hooksPath={os.devnull}", "-c", "core.fsmonitor=false")
_checked_configs: dict[tuple[str, int, int], str | None] = {}


def trusted(env: Mapping[str, str]) -> bool:
    return env.get(TRUST_ENV, "").strip().lower() in {"1", "true", "yes"}


def _guard(top: Path, env: Mapping[str, str]) -> tuple[str, ...]:
    """The `-c` options that keep a repository's hooks and fsmonitor from running, after
    refusing a repository whose own config names a command (RefusedError)."""
    if trusted(env):
        return ()
    found = _command_key(top)
    if found is not None:
        raise RefusedError(
            f"the repository at {top} has `{found}` in its own git config, which makes git run a command; "
            f"mem does not run commands a repository brings: remove it (`git -C {top} config --unset {found}`), "
            f"or set {TRUST_ENV}=1 if you trust this repository"
        )
    return _NO_HOOKS


def _command_key(top: Path) -> str | None:
    """The first command-running key in the repository's local config, if any. Read with
    `git config --local` (reading runs nothing), once per config file version."""
    config = _local_config_file(top)
    if config is None:
        return None
    try:
        info = config.stat()
    except OSError:
        return None
    cache_key = (str(config), info.st_mtime_ns, info.st_size)
    if cache_key not in _checked_configs:
        completed = subprocess.run(
            ["git", "config", "--local", "--includes", "--name-only", "--list", "-z"],  # noqa: S607
            cwd=top,
            capture_output=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        names = completed.stdout.decode("utf-8", "replace").split("\0")
        _checked_configs[cache_key] = next((name for name in names if _COMMAND_KEYS.match(name.strip())), None)
    return _checked_configs[cache_key]


def _local_config_file(top: Path) -> Path | None:
    repo = locate(top)
    if repo is None:
        return None
    common = repo.git_dir
    pointer = repo.git_dir / "commondir"  # a linked worktree shares the main repository's config
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if pointer.is_file():
            common = (repo.git_dir / pointer.read_bytes()[:4096].decode("utf-8").strip()).resolve()
    config = common / "config"
    return config if config.is_file() else None


def literal(name: str) -> str:
    return f":(literal){name}"


def _split_z(text: str) -> list[str]:
    return [item for item in text.split("\0") if item]


@dataclass(frozen=True)
class FileStatus:
    code: str  # git's two-letter status: " M", "??", "UU", ...
    name: str  # relative to the top level


def status(repo: Repo, pathspecs: Iterable[str]) -> tuple[FileStatus, ...]:
    """Uncommitted changes (staged, unstaged, untracked) among `pathspecs`."""
    completed = run(
        repo.top,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--no-renames",
        "--",
        *pathspecs,
        read_only=True,
    )
    return tuple(FileStatus(item[:2], item[3:]) for item in _split_z(completed.stdout))


def _memory_pathspecs(repo: Repo) -> list[str]:
    """Everything under the memory root except its local state folder."""
    state = repo.from_root(STATE_DIR)
    return [literal(repo.prefix or "."), f":(exclude,literal){state}"]


def has_commits(repo: Repo) -> bool:
    return run(repo.top, "rev-parse", "--verify", "--quiet", "HEAD", check=False, read_only=True).returncode == 0


def current_branch(repo: Repo) -> str | None:
    completed = run(repo.top, "symbolic-ref", "--quiet", "--short", "HEAD", check=False, read_only=True)
    return completed.stdout.strip() or None if completed.returncode == 0 else None


# --- authorship ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who mem's commits are attributed to; None fields are left to git's own configuration."""

    name: str | None
    email: str | None
    explicit: bool  # both came from mem's configuration (config.yaml or MEM_GIT_AUTHOR_*)

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        if self.name:
            values["GIT_AUTHOR_NAME"] = self.name
        if self.email:
            values["GIT_AUTHOR_EMAIL"] = self.email
        if self.explicit:
            # A fully configured identity also commits, so a machine without any git
            # identity (a CI runner, a container) can still record writes.
            values["GIT_COMMITTER_NAME"] = values["GIT_AUTHOR_NAME"]
            values["GIT_COMMITTER_EMAIL"] = values["GIT_AUTHOR_EMAIL"]
        return values


def identity(config: GitConfig, env: Mapping[str, str]) -> Identity:
    """config.yaml, then MEM_GIT_AUTHOR_*, then "NAME (mem)" for MEM_SOURCE=agent:NAME."""
    name = config.author_name or env.get(AUTHOR_NAME_ENV) or None
    email = config.author_email or env.get(AUTHOR_EMAIL_ENV) or None
    explicit = bool(name and email)
    if not name:
        source = env.get(SOURCE_ENV) or ""
        if source.startswith("agent:") and source[len("agent:") :].strip():
            name = f"{source[len('agent:') :].strip()} (mem)"
    return Identity(name=name, email=email, explicit=explicit)


# --- committing ----------------------------------------------------------------------------

_COMMIT_LINE = re.compile(r"^\[[^\]]*?([0-9a-f]{7,40})\]", re.MULTILINE)


def commit_files(repo: Repo, names: Iterable[str], message: str, author: Identity) -> str | None:
    """Commit exactly these files (top-relative names) as they are on disk.

    Only files that really changed are committed, and other changes a person has staged stay
    staged and out of the commit (`git commit -- <paths>` commits just those paths). Returns
    the new commit's short id, or None when there was nothing to commit.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return None
    found = status(repo, map(literal, wanted))
    if not found:
        return None
    # Only changes not staged yet need `git add` (a staged deletion is no longer in the index,
    # and `git add` would call its path a pathspec that matches nothing).
    unstaged = [literal(item.name) for item in found if item.code[1] != " "]
    if unstaged:
        run(repo.top, "add", "--all", "--", *unstaged)
    specs = [literal(item.name) for item in found]
    completed = run(repo.top, "commit", "--no-edit", "-m", message, "--", *specs, env=author.env())
    made = _COMMIT_LINE.search(completed.stdout)
    return made.group(1) if made else None


def init_repository(root: Path) -> Repo:
    """Make `root` a repository of its own (`git init`), unless it already is one."""
    repo = locate(root)
    if repo is not None and repo.standalone:
        return repo
    configured = run(root, "config", "--get", "init.defaultBranch", check=False, read_only=True).stdout.strip()
    run(root, "init", "--quiet", f"--initial-branch={configured or DEFAULT_BRANCH}")
    created = locate(root)
    if created is None or not created.standalone:  # pragma: no cover - git init always makes .git
        raise ExternalError(f"git init did not make a repository in {root}")
    return created


def pending_changes(repo: Repo) -> tuple[FileStatus, ...]:
    return status(repo, _memory_pathspecs(repo))


# --- history -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commit:
    commit: str
    short: str
    author: str
    email: str
    date: datetime
    subject: str
    action: str | None  # add, update, mv, ... for mem's own commits; None for anyone else's


def parse_action(subject: str) -> str | None:
    found = MEM_SUBJECT.match(subject)
    return found.group(1) if found else None


_FIELD, _RECORD = "\x1f", "\x1e"
_LOG_FORMAT = _FIELD.join(("%H", "%h", "%an", "%ae", "%aI", "%s")) + _RECORD


def _commits(stdout: str) -> tuple[Commit, ...]:
    commits: list[Commit] = []
    for record in stdout.split(_RECORD):
        fields = record.strip("\n").split(_FIELD)
        if len(fields) != 6:
            continue
        full, short, author, email, date, subject = fields
        commits.append(Commit(full, short, author, email, datetime.fromisoformat(date), subject, parse_action(subject)))
    return tuple(commits)


def log(repo: Repo, name: str | None, *, follow: bool, limit: int | None) -> tuple[Commit, ...]:
    """Commits touching `name` (a file or folder, top-relative; None: the whole memory)."""
    if not has_commits(repo):
        return ()
    args = ["log", f"--format={_LOG_FORMAT}"]
    if limit is not None:
        args.append(f"--max-count={limit}")
    if follow:
        args.append("--follow")  # through `mem mv` and `mem forget`, which git sees as renames
    pathspecs = [literal(name)] if name is not None else _memory_pathspecs(repo)
    return _commits(run(repo.top, *args, "--", *pathspecs, read_only=True).stdout)


def head_commit(repo: Repo) -> Commit | None:
    if not has_commits(repo):
        return None
    return _commits(run(repo.top, "log", "-1", f"--format={_LOG_FORMAT}", read_only=True).stdout)[0]


# --- undo ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UndoResult:
    undone: Commit  # the commit that was reverted
    commit: str | None  # the new "mem undo: ..." commit
    files: tuple[str, ...]  # files put back, relative to the memory root


def undo(repo: Repo, author: Identity) -> UndoResult:
    """Revert the last commit if mem made it and nothing uncommitted would be overwritten.

    The revert is a new commit ("mem undo: <subject>"): history is never rewritten, so an
    undo is safe after a sync and can itself be undone.
    """
    operation = operation_in_progress(repo)
    if operation is not None:
        raise ConflictError(f"a git {operation} is in progress; finish it (`mem sync --continue`) or abort it first")
    head = head_commit(repo)
    if head is None:
        raise RefusedError("nothing to undo: the repository has no commits yet")
    if head.action is None:
        raise RefusedError(
            f"the last commit ({head.short} {head.subject!r}) was not made by mem; "
            "`mem undo` only reverts mem's own last commit"
        )
    if head.action == "init":
        raise RefusedError("the last commit is `mem init`; there is no memory change to undo")
    parents = run(repo.top, "rev-list", "--parents", "-n", "1", "HEAD", read_only=True).stdout.split()[1:]
    if len(parents) != 1:
        raise RefusedError(f"the last commit ({head.short}) is a merge or a root commit; undo it with git")
    changed = _split_z(
        run(
            repo.top, "diff-tree", "--no-commit-id", "--name-only", "-r", "-z", "--no-renames", "HEAD", read_only=True
        ).stdout
    )
    outside = [name for name in changed if repo.to_root(name) is None]
    if outside:
        raise RefusedError(
            f"the last commit ({head.short}) also changed {outside[0]}, outside the memory; undo it with git"
        )
    dirty = [item.name for item in status(repo, map(literal, changed))] if changed else []
    if dirty:
        raise RefusedError(
            f"cannot undo {head.subject!r}: {_names(dirty)} has uncommitted changes that undo would overwrite; "
            "commit or discard them first"
        )
    if changed:
        run(repo.top, "restore", "--source=HEAD~1", "--staged", "--worktree", "--", *map(literal, changed))
    commit = commit_files(repo, changed, f"mem undo: {head.subject}", author)
    return UndoResult(
        undone=head,
        commit=commit,
        files=tuple(sorted(rooted for name in changed if (rooted := repo.to_root(name)) is not None)),
    )


def _names(names: Iterable[str]) -> str:
    items = list(names)
    shown = ", ".join(items[:SHOWN_FILES])
    return shown + (f" and {len(items) - SHOWN_FILES} more" if len(items) > SHOWN_FILES else "")


# --- sync ----------------------------------------------------------------------------------

SyncAction = Literal["sync", "continue", "abort"]


@dataclass(frozen=True)
class SyncResult:
    action: SyncAction
    remote: str
    branch: str
    committed: tuple[str, ...]  # uncommitted memory files committed before pulling ("mem edit")
    received: tuple[str, ...]  # files changed by the pulled commits, relative to the memory root
    pulled: int  # commits that came from the remote
    pushed: int  # local commits sent to the remote
    upstream_set: bool  # this sync made `remote/branch` the branch's upstream
    aborted: bool = False
    warnings: tuple[str, ...] = ()  # e.g. the remote's default branch is not this one


def is_memory_file(relative: str) -> bool:
    """Entry files, folder overviews and archived entries, config.yaml and .gitignore."""
    return relative in MEMORY_ROOT_FILES or ("/" in relative and relative.endswith(ENTRY_SUFFIX))


def conflicted_files(repo: Repo) -> tuple[str, ...]:
    completed = run(repo.top, "diff", "--name-only", "--diff-filter=U", "-z", read_only=True)
    return tuple(dict.fromkeys(_split_z(completed.stdout)))


def conflict_message(repo: Repo, names: Iterable[str], where: Path) -> str:
    shown = _names(repo.to_root(name) or name for name in names)
    return (
        f"sync stopped on a conflict: both sides changed {shown} (in {where}); "
        "edit each file to keep the right text and remove the <<<<<<< ======= >>>>>>> lines, "
        "then run `mem sync --continue` (or `mem sync --abort` to go back to before the sync)"
    )


class Sync:
    """One `mem sync`: commit pending memory edits, pull with rebase, push.

    `lock` is the memory's write lock: it is held while git changes the working tree (the
    commit of pending edits, the rebase) so no mem write lands in the middle, and released
    during the network steps.
    """

    def __init__(
        self,
        repo: Repo,
        root: Path,
        config: GitConfig,
        author: Identity,
        lock: Callable[[], AbstractContextManager[object]],
        *,
        commit_pending: bool,
        allow_secrets: bool = False,
    ) -> None:
        self.repo = repo
        self.allow_secrets = allow_secrets
        self.warnings: list[str] = []
        self.root = root
        self.config = config
        self.author = author
        self.lock = lock
        self.commit_pending = commit_pending
        self.remote = config.remote

    def run(self, action: SyncAction) -> SyncResult:
        if not self.repo.standalone:
            raise RefusedError(
                f"{self.root} is part of the git repository at {self.repo.top}, which mem leaves to you: "
                "sync it with `git pull --rebase` and `git push` (`mem sync` works on a memory that is "
                "a repository of its own, see `mem init --git`)"
            )
        in_progress = operation_in_progress(self.repo)
        if action == "abort":
            if in_progress is None:
                raise InvalidError("there is no stopped sync to abort")
            with self.lock():
                run(self.repo.top, "rebase", "--abort")
            branch = current_branch(self.repo) or ""
            return SyncResult("abort", self.remote, branch, (), (), 0, 0, False, aborted=True)
        if action == "continue":
            if in_progress is None:
                raise InvalidError("there is no stopped sync to continue; run `mem sync`")
            if in_progress != "rebase":
                raise ConflictError(f"a git {in_progress} is in progress; finish it with git first")
            with self.lock():
                self._continue_rebase()
            return self._push_loop("continue", committed=())
        if in_progress is not None:
            conflicts = conflicted_files(self.repo)
            if conflicts:
                raise ConflictError(conflict_message(self.repo, conflicts, self.root))
            raise ConflictError(
                f"a git {in_progress} is in progress in {self.repo.top}; "
                "finish it (`mem sync --continue`) or abort it (`mem sync --abort`)"
            )
        branch = self._branch()
        self._check_remote()
        with self.lock():
            committed = self._commit_pending()
        return self._push_loop("sync", committed=committed, branch=branch, pull_first=True)

    # -- steps ---------------------------------------------------------------------------

    def _branch(self) -> str:
        current = current_branch(self.repo)
        if current is None:
            raise RefusedError(f"the repository at {self.repo.top} is not on a branch (detached HEAD); check one out")
        wanted = self.config.branch
        if wanted and wanted != current:
            raise RefusedError(
                f"the repository is on branch '{current}' but git.branch is '{wanted}'; "
                f"run `git -C {self.repo.top} checkout {wanted}` or change git.branch"
            )
        return current

    def _check_remote(self) -> None:
        found = run(self.repo.top, "remote", read_only=True).stdout.split()
        if self.remote not in found:
            raise NotFoundError(
                f"the memory repository has no remote '{self.remote}'; "
                f"add one with `git -C {self.repo.top} remote add {self.remote} URL`"
            )

    def _commit_pending(self) -> tuple[str, ...]:
        """Commit changes made outside mem (a person's editor, a write whose commit failed)."""
        pending = pending_changes(self.repo)
        if not pending:
            return ()
        rooted = [(item, self.repo.to_root(item.name) or item.name) for item in pending]
        foreign = [relative for _, relative in rooted if not is_memory_file(relative)]
        if foreign:
            raise RefusedError(
                f"uncommitted changes outside the memory entries: {_names(foreign)}; "
                "commit or remove them before `mem sync`"
            )
        if not self.commit_pending:
            raise RefusedError(
                f"uncommitted changes in {_names(relative for _, relative in rooted)} and git.autocommit is false; "
                "commit them before `mem sync`"
            )
        self._refuse_pending_secrets(rooted)
        names = [item.name for item, _ in rooted]
        relatives = sorted(relative for _, relative in rooted)
        subject = relatives[0].removesuffix(ENTRY_SUFFIX) if len(relatives) == 1 else f"{len(relatives)} files"
        message = f"mem edit: {subject}"
        if len(relatives) > 1:
            message += "\n\n" + "\n".join(relatives)
        commit_files(self.repo, names, message, self.author)
        return tuple(relatives)

    def _refuse_pending_secrets(self, rooted: list[tuple[FileStatus, str]]) -> None:
        """A hand-edited file is published only if it brings in no likely secret (exit 8),
        unless `--allow-secrets`: the same check `mem add` makes, against the committed text."""
        from .safety import new_secrets
        from .store import read_bytes_limited

        if self.allow_secrets:
            return
        for item, relative in rooted:
            file = self.repo.top / item.name
            if file.is_symlink() or not file.is_file():
                continue
            try:
                text = read_bytes_limited(file, SECRET_SCAN_LIMIT).decode("utf-8", "replace")
            except MemError:
                continue  # unreadable or huge: doctor reports it; it is not an entry mem would write
            before = run(self.repo.top, "show", f"HEAD:{item.name}", check=False, read_only=True)
            findings = new_secrets(text, before.stdout if before.returncode == 0 else "")
            if findings:
                first = findings[0]
                raise RefusedError(
                    f"not syncing: {relative} was edited outside mem and holds a likely secret ({first.kind} at "
                    f"line {first.line}: {first.excerpt!r}); remove it, or run `mem sync --allow-secrets` "
                    "to publish it anyway"
                )

    def _upstream_ref(self, branch: str) -> str:
        return f"refs/remotes/{self.remote}/{branch}"

    def _ref_exists(self, ref: str) -> bool:
        completed = run(self.repo.top, "rev-parse", "--verify", "--quiet", ref, check=False, read_only=True)
        return completed.returncode == 0

    def _count(self, spec: str) -> int:
        return int(run(self.repo.top, "rev-list", "--count", spec, read_only=True).stdout.strip() or 0)

    def _pull(self, branch: str) -> tuple[int, tuple[str, ...]]:
        """Fetch, then rebase local commits onto the remote branch: what `git pull --rebase`
        does, in two steps so a remote without the branch yet (first push) is not an error."""
        run(self.repo.top, "fetch", "--quiet", self.remote)
        upstream = self._upstream_ref(branch)
        self._check_branches(branch)
        if not self._ref_exists(upstream):
            return 0, ()
        with self.lock():
            if not has_commits(self.repo):
                # A clone made while the remote was empty, with nothing of its own to replay:
                # take the remote's history as it is (refused if it would overwrite a file).
                self._refuse_incoming(None, upstream)
                run(self.repo.top, "merge", "--ff-only", "--quiet", upstream)
                files = run(self.repo.top, "ls-files", "-z", read_only=True).stdout
                return self._count(upstream), tuple(sorted(self._rooted(_split_z(files))))
            incoming = self._count(f"HEAD..{upstream}")
            if incoming == 0:
                return 0, ()
            base = run(self.repo.top, "merge-base", "HEAD", upstream, read_only=True).stdout.strip()
            self._refuse_incoming(base, upstream)
            received = _split_z(
                run(self.repo.top, "diff", "--name-only", "-z", "--no-renames", base, upstream, read_only=True).stdout
            )
            rebase = run(
                self.repo.top,
                "rebase",
                "--no-autostash",
                upstream,
                env={"GIT_EDITOR": "true"},
                check=False,
            )
            if rebase.returncode != 0:
                self._raise_stopped(rebase)
        return incoming, tuple(sorted(self._rooted(received)))

    def _refuse_incoming(self, base: str | None, upstream: str) -> None:
        """What arrives through git is data: refuse (before anything is checked out) commits
        that bring symbolic links, submodules, or anything under `.mem/`, mem's local state
        (its databases, locks and move journal are never shared)."""
        if base:
            listing = run(self.repo.top, "diff", "--raw", "-z", "--no-renames", base, upstream, read_only=True).stdout
            fields = _split_z(listing)
            pairs = [(fields[i].split()[1], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]
        else:
            listing = run(self.repo.top, "ls-tree", "-r", "-z", "--full-tree", upstream, read_only=True).stdout
            pairs = [(item.split()[0], item.split("\t", 1)[1]) for item in _split_z(listing) if "\t" in item]
        state = self.repo.from_root(STATE_DIR)
        for mode, name in pairs:
            what = None
            if name == state or name.startswith(state + "/"):
                what = f"a change to {name} (mem's local state, never shared)"
            elif mode == "120000":
                what = f"a symbolic link {name}"
            elif mode == "160000":
                what = f"a submodule {name}"
            if what is not None:
                raise RefusedError(
                    f"not syncing: {self.remote}/{upstream.rsplit('/', 1)[-1]} brings {what}; mem takes only "
                    "regular files from git. Remove it on the remote (e.g. revert that commit), "
                    "or pull with git yourself if you trust it"
                )

    def _check_branches(self, branch: str) -> None:
        """Refuse to start a second history: the remote has branches, but not this one (a
        clone of a remote whose HEAD names a missing branch checks out an empty one)."""
        remote_branches = self._remote_branches()
        if remote_branches and branch not in remote_branches and self.config.branch != branch:
            others = ", ".join(f"'{name}'" for name in remote_branches[:SHOWN_FILES])
            raise RefusedError(
                f"{self.remote} has no branch '{branch}' but has {others}: the memory's history is there; "
                f"check it out (`git -C {self.repo.top} checkout {remote_branches[0]}`), or set git.branch: "
                f"{branch} to start a separate history"
            )

    def _remote_branches(self) -> list[str]:
        listed = run(
            self.repo.top,
            "for-each-ref",
            "--format=%(refname:strip=3)",
            f"refs/remotes/{self.remote}/",
            read_only=True,
        ).stdout.split()
        return [name for name in listed if name != "HEAD"]

    def _check_remote_head(self, branch: str) -> None:
        """Warn when the remote's HEAD (what a clone checks out) is not this branch."""
        remote_branches = self._remote_branches()
        head = run(self.repo.top, "ls-remote", "--symref", self.remote, "HEAD", check=False, read_only=True)
        if head.returncode != 0:
            return
        pointed = next(
            (
                line.split()[1].removeprefix("refs/heads/")
                for line in head.stdout.splitlines()
                if line.startswith("ref:") and len(line.split()) >= 2
            ),
            None,
        )
        if pointed == branch or (pointed is None and not remote_branches):
            return
        default = f"'{pointed}'" if pointed else "a branch that does not exist"
        self.warnings.append(
            f"the default branch of {self.remote} (its HEAD) is {default}, not '{branch}': a fresh clone of it "
            f"checks out nothing of the memory; make them match (in the remote repository: "
            f"`git symbolic-ref HEAD refs/heads/{branch}`)"
        )

    def _rooted(self, names: Iterable[str]) -> set[str]:
        return {rooted for name in names if (rooted := self.repo.to_root(name)) is not None}

    def _raise_stopped(self, completed: subprocess.CompletedProcess[str]) -> None:
        conflicts = conflicted_files(self.repo)
        if conflicts:
            raise ConflictError(conflict_message(self.repo, conflicts, self.root))
        reason = git_reason(completed.stderr, completed.returncode)
        if operation_in_progress(self.repo) is not None:
            raise ConflictError(
                f"sync stopped: git rebase said: {reason}; fix it, then `mem sync --continue` (or `mem sync --abort`)"
            )
        raise ExternalError(f"git rebase failed: {reason}")

    def _continue_rebase(self) -> None:
        conflicts = conflicted_files(self.repo)
        unresolved = []
        for name in conflicts:
            file = self.repo.top / name
            with contextlib.suppress(OSError, UnicodeDecodeError):
                if file.is_file() and has_conflict_markers(file.read_text(encoding="utf-8")):
                    unresolved.append(name)
        if unresolved:
            raise ConflictError(
                f"{_names(self.repo.to_root(n) or n for n in unresolved)} still has conflict markers "
                "(<<<<<<< ======= >>>>>>>); keep the right text, remove the marker lines, then `mem sync --continue`"
            )
        if conflicts:
            run(self.repo.top, "add", "--all", "--", *map(literal, conflicts))
        staged = run(self.repo.top, "diff", "--cached", "--quiet", check=False, read_only=True).returncode != 0
        # A resolution that keeps exactly the remote's text leaves this commit nothing to do.
        step = "--continue" if staged else "--skip"
        completed = run(self.repo.top, "rebase", step, env={"GIT_EDITOR": "true"}, check=False)
        if completed.returncode != 0:
            self._raise_stopped(completed)

    def _push_loop(
        self,
        action: SyncAction,
        *,
        committed: tuple[str, ...],
        branch: str | None = None,
        pull_first: bool = False,
    ) -> SyncResult:
        """Push, pulling first (and again after a push rejected because others pushed)."""
        branch = branch or self._branch()
        if not pull_first:
            self._check_remote()
        total_pulled, all_received = 0, set[str]()
        for attempt in range(SYNC_ATTEMPTS):
            if pull_first or attempt > 0:
                count, files = self._pull(branch)
                total_pulled += count
                all_received.update(files)
            pushed, upstream_set, rejected = self._push(branch)
            if not rejected:
                self._check_remote_head(branch)
                return SyncResult(
                    action,
                    self.remote,
                    branch,
                    committed,
                    tuple(sorted(all_received)),
                    total_pulled,
                    pushed,
                    upstream_set,
                    warnings=tuple(self.warnings),
                )
        raise ConflictError(
            f"git push to {self.remote}/{branch} was rejected {SYNC_ATTEMPTS} times because others pushed meanwhile; "
            "run `mem sync` again"
        )

    def _push(self, branch: str) -> tuple[int, bool, bool]:
        """(commits pushed, upstream set now, rejected because the remote moved)."""
        configured = run(
            self.repo.top, "config", "--get", f"branch.{branch}.remote", check=False, read_only=True
        ).stdout.strip()
        set_upstream = configured != self.remote
        upstream = self._upstream_ref(branch)
        outgoing = self._count(f"{upstream}..HEAD") if self._ref_exists(upstream) else self._count("HEAD")
        if outgoing == 0 and not set_upstream:
            return 0, False, False
        args = ["push", "--quiet", "--porcelain"]
        if set_upstream:
            args.append("--set-upstream")
        completed = run(self.repo.top, *args, self.remote, branch, check=False)
        if completed.returncode != 0:
            if "\t[rejected]" in completed.stdout:  # the remote moved on since the fetch
                return 0, False, True
            raise ExternalError(f"git push failed: {git_reason(completed.stderr, completed.returncode)}")
        return outgoing, set_upstream, False
