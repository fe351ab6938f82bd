"""The one error type of contextree and the exit codes it maps to.

Core raises `MemError` (or a subclass naming the kind of failure); the CLI catches it in one
place and prints `Error: <message>` on stderr with the class's exit code. The codes are a
public contract (docs/cli.md) so scripts and agents can branch on them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Self

from .display import clip

MESSAGE_MAX = 1000  # characters: a message echoing hostile input stays one readable line


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # unexpected failure (a bug); the CLI shows a traceback only with --debug
    USAGE = 2  # bad command-line usage (also what click/typer use)
    NOT_FOUND = 3  # no such entry, folder, config key or memory root
    EXISTS = 4  # the target already exists (add, mv, forget into an occupied slot)
    INVALID = 5  # invalid input: path, frontmatter, value, size
    CONFLICT = 6  # the file changed underneath, or the lock could not be taken in time
    EXTERNAL = 7  # an external tool failed: git, the LLM provider, the disk (full, read-only), or no llm extra
    REFUSED = 8  # refused for safety (likely secret, unconfirmed destructive operation)
    UNHEALTHY = 9  # `mem doctor` found problems (errors; with --strict, warnings too)


class MemError(Exception):
    """Base of every error contextree raises on purpose.

    `message` is one readable line meant for a person; `exit_code` tells scripts what kind of
    failure it was.
    """

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str) -> None:
        # Messages often quote input (a path, a YAML value): clipping here is the last guard
        # against a 200 KB title or a newline or escape sequence reaching the terminal.
        message = clip(message, MESSAGE_MAX)
        super().__init__(message)
        self.message = message

    @property
    def kind(self) -> str:
        """A stable machine name for JSON output: `not_found`, `invalid`, ..."""
        return self.exit_code.name.lower()

    def with_message(self, message: str) -> Self:
        """The same error - class, exit code, fields - with another message: a caller that
        adds what it knows (which step of a plan failed) raises this one and leaves the
        caught error as it was. Built without `__init__`, whose signature subclasses change."""
        other = type(self).__new__(type(self))
        other.__dict__.update(self.__dict__)
        other.message = clip(message, MESSAGE_MAX)
        other.args = (other.message,)
        return other


class NotFoundError(MemError):
    exit_code = ExitCode.NOT_FOUND


class NoEntryError(NotFoundError):
    """No entry at `path` (the CLI adds a "did you mean" from the tree: core does not scan
    for one, since callers that poll for an entry would pay for it on every miss)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


class ExistsError(MemError):
    exit_code = ExitCode.EXISTS


class InvalidError(MemError):
    exit_code = ExitCode.INVALID


class ConflictError(MemError):
    exit_code = ExitCode.CONFLICT


class ExternalError(MemError):
    exit_code = ExitCode.EXTERNAL


class RefusedError(MemError):
    exit_code = ExitCode.REFUSED
