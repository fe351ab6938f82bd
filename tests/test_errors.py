"""The one error type: a caller that adds context raises a copy, never edits what it caught."""

from __future__ import annotations

import errno

from contextree.core.errors import MESSAGE_MAX, ExitCode, MemError, NoEntryError
from contextree.core.safeio import StorageError


def test_with_message_keeps_the_class_exit_code_and_fields_and_leaves_the_original_alone() -> None:
    original = NoEntryError("no entry at 'a/b/c'", "a/b/c")
    copy = original.with_message("UPDATE a/b/c: no entry (nothing was applied)")
    assert type(copy) is NoEntryError and copy.exit_code == ExitCode.NOT_FOUND and copy.kind == "not_found"
    assert copy.path == "a/b/c"
    assert copy.message == str(copy) == "UPDATE a/b/c: no entry (nothing was applied)"
    assert original.message == str(original) == "no entry at 'a/b/c'"


def test_with_message_keeps_a_storage_errors_errno_and_clips_like_any_message() -> None:
    full = StorageError("write a/b/c.md: no space left on device", errno.ENOSPC)
    copy = full.with_message("x" * 100_000)
    assert copy.errno == errno.ENOSPC and copy.exit_code == ExitCode.EXTERNAL
    assert len(copy.message) <= MESSAGE_MAX and "\n" not in copy.message
    assert isinstance(copy, MemError)
