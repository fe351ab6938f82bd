"""Claude's memory tool (`memory_20250818`) over the context tree.

Claude sends one command at a time - view, create, str_replace, insert, delete, rename - on
paths under `/memories`; the client runs it and sends back a string. `MemoryTool` runs those
commands on a memory root, so what Claude remembers is the same tree people and other agents
use. The answers are the strings Anthropic's documentation and reference implementation
give, so the model reads what it was trained on.

How the tree shows through `/memories` (the choices, see docs/agents.md):

- `/memories` is the memory root; folders are domains and topics; a file is an entry:
  `/memories/<domain>/<topic>/<entry>.md` or one subtopic deeper. Any other path (a file at
  the top, a `.txt`, a name that is not a slug) is refused with a message that teaches the
  layout, so the tree stays one that `mem` can search.
- A file is shown and edited as the text on disk, frontmatter included: the model sees the
  title, tags and importance, and may change them. Every write goes through `Memory`: it must
  parse as an entry (else nothing is written), it is atomic, `updated` is set and writes are
  serialized on the tree's lock. A file Claude creates without frontmatter gets one, with
  `source: agent:claude-memory-tool`.
- `delete` archives (the entry moves to `_archive/`, like `mem forget`): the model sees it
  gone, a person can still bring it back. `rename` is `mem mv`, so `related` links follow.
- Hidden names, `_archive/`, `_index.md` overviews and non-entry files are not listed.

Paths are checked before anything touches the disk: only `/memories` and below, no `..` or
`.` segments, no %-encoding, no backslashes or control characters, bounded length, and no
symlink anywhere below the root (one pointing outside is reported as an escape).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

import yaml

from .display import clip
from .entry import (
    Entry,
    EntryFormatError,
    body_start_line,
    entry_from_metadata,
    load_yaml,
    split_frontmatter,
    title_from_text,
)
from .errors import ExistsError, ExitCode, InvalidError, MemError, NotFoundError
from .memory import Memory
from .paths import (
    ARCHIVE_DIR,
    ENTRY_MAX_DEPTH,
    ENTRY_MIN_DEPTH,
    ENTRY_SUFFIX,
    entry_file,
    is_slug,
    refuse_symlinks,
    slugify,
)
from .store import decode_text, read_bytes_limited
from .tree import scan_tree

MEMORIES = "/memories"
TOOL_SOURCE = "agent:claude-memory-tool"
# What to put in the request's `tools` list to offer Claude the tool.
TOOL_DEFINITION = {"type": "memory_20250818", "name": "memory"}
MAX_PATH_CHARS = 1024  # an entry path is at most 4 slugs of 64; anything far longer is an attack or a mistake
MAX_LINES = 999_999  # from Anthropic's reference implementation
LINE_NUMBER_WIDTH = len(str(MAX_LINES))
DELETE_REASON = "deleted with Claude's memory tool"
LAYOUT_HINT = (
    "memory files live at /memories/<domain>/<topic>/<name>.md (or one subtopic deeper), "
    "names in lowercase a-z, 0-9 and '-', e.g. /memories/project/decisions/auth-tokens.md"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_T = TypeVar("_T")


class MemoryToolError(MemError):
    """A command that failed; `message` is the text to send back with `is_error: true`."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.INVALID) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _fail(message: str, exit_code: ExitCode = ExitCode.INVALID) -> MemoryToolError:
    return MemoryToolError(message, exit_code)


@dataclass(frozen=True)
class ToolResult:
    """What goes back to Claude in the `tool_result` block."""

    text: str
    is_error: bool = False


@dataclass(frozen=True)
class Location:
    """A checked `/memories` path: `shown` is its canonical form, `parts` the segments below
    the root (the last one with `.md` for a file)."""

    shown: str
    parts: tuple[str, ...]
    is_file: bool

    @property
    def entry_path(self) -> str:
        return "/".join([*self.parts[:-1], self.parts[-1][: -len(ENTRY_SUFFIX)]])

    @property
    def folder(self) -> str:
        return "/".join(self.parts)


def _format_size(size: int) -> str:
    """Sizes as the reference implementation writes them: 0B, 512B, 4K, 5.5K, 1.2M."""
    if size == 0:
        return "0B"
    units = ["B", "K", "M", "G"]
    index = min((size.bit_length() - 1) // 10, len(units) - 1)
    value = size / (1024**index)
    return f"{int(value)}{units[index]}" if value == int(value) else f"{value:.1f}{units[index]}"


def _number(lines: list[str], first: int) -> str:
    return "\n".join(f"{str(first + i).rjust(LINE_NUMBER_WIDTH)}\t{line}" for i, line in enumerate(lines))


def _require(command: Mapping[str, Any], key: str, kind: type[_T]) -> _T:
    value = command.get(key)
    if kind is int and isinstance(value, bool):
        value = None  # JSON true is not a line number
    if not isinstance(value, kind):
        name = {str: "a string", int: "an integer"}.get(kind, kind.__name__)
        raise _fail(f"Error: `{key}` is required and must be {name}", ExitCode.USAGE)
    if isinstance(value, str):
        _require_text(key, value)
    return value


def _require_text(key: str, value: str) -> None:
    """Refuse a lone surrogate: valid JSON ("\\ud800"), but not text (it has no UTF-8)."""
    found = _SURROGATE.search(value)
    if found is not None:
        raise _fail(f"Error: `{key}` holds a lone surrogate (U+{ord(found.group()):04X}), which is not text")


_SURROGATE = re.compile("[\ud800-\udfff]")


class MemoryTool:
    """Runs `memory_20250818` commands on a memory root.

    `execute(command)` returns the success text or raises `MemoryToolError` (its message is the
    error text for the model); `run(command)` never raises for a bad command and returns a
    `ToolResult` ready for a `tool_result` block.
    """

    def __init__(self, memory: Memory, *, source: str = TOOL_SOURCE) -> None:
        self.memory = memory
        self.root = memory.root
        self.source = source

    # --- dispatch -------------------------------------------------------------------------

    def run(self, command: Mapping[str, Any]) -> ToolResult:
        """Never raises on what the model sends: a MemError is the tool's error text, and any
        other failure (a bug, or input no check foresaw) is a one-line error result too, so an
        application's tool loop keeps going."""
        try:
            return ToolResult(self.execute(command))
        except MemError as error:
            return ToolResult(error.message, is_error=True)
        except RecursionError:
            return ToolResult("Error: the command is nested too deeply", is_error=True)
        except Exception as error:
            reason = f"{type(error).__name__}: {clip(str(error), 200)}"
            return ToolResult(f"Error: the command failed ({reason})", is_error=True)

    def execute(self, command: Mapping[str, Any]) -> str:
        if not isinstance(command, Mapping):
            raise _fail("Error: a memory command is a JSON object with a `command` field", ExitCode.USAGE)
        name = command.get("command")
        handlers: dict[str, Callable[[Mapping[str, Any]], str]] = {
            "view": self._view,
            "create": self._create,
            "str_replace": self._str_replace,
            "insert": self._insert,
            "delete": self._delete,
            "rename": self._rename,
        }
        handler = handlers.get(name) if isinstance(name, str) else None
        if handler is None:
            raise _fail(f"Error: unknown command {name!r}; use one of {', '.join(handlers)}", ExitCode.USAGE)
        try:
            return handler(command)
        except MemoryToolError:
            raise
        except MemError as error:  # from Memory: keep the kind, speak like the tool
            raise _fail(f"Error: {error.message}", error.exit_code) from None

    def view(self, path: str, view_range: list[int] | None = None) -> str:
        return self.execute({"command": "view", "path": path, "view_range": view_range})

    def create(self, path: str, file_text: str) -> str:
        return self.execute({"command": "create", "path": path, "file_text": file_text})

    def str_replace(self, path: str, old_str: str, new_str: str) -> str:
        return self.execute({"command": "str_replace", "path": path, "old_str": old_str, "new_str": new_str})

    def insert(self, path: str, insert_line: int, insert_text: str) -> str:
        return self.execute({"command": "insert", "path": path, "insert_line": insert_line, "insert_text": insert_text})

    def delete(self, path: str) -> str:
        return self.execute({"command": "delete", "path": path})

    def rename(self, old_path: str, new_path: str) -> str:
        return self.execute({"command": "rename", "old_path": old_path, "new_path": new_path})

    # --- paths ----------------------------------------------------------------------------

    def locate(self, raw: Any) -> Location:
        """Check a `/memories` path and map it to the tree, refusing anything that could escape."""
        if not isinstance(raw, str):
            raise _fail("Error: `path` must be a string such as /memories/project/notes/setup.md", ExitCode.USAGE)
        if len(raw) > MAX_PATH_CHARS:
            raise _fail(f"Error: The path is {len(raw):,} characters long; paths are at most {MAX_PATH_CHARS}")
        if _CONTROL.search(raw):
            raise _fail(f"Error: The path {raw!r} contains control characters (NUL, line breaks); it was refused")
        _require_text("path", raw)
        decoded = raw
        for _ in range(3):  # double encoding (%252e) hides a second layer
            decoded = unquote(decoded)
        if decoded != raw:
            if ".." in decoded or "\\" in decoded:
                raise _fail(f"Error: The path {raw} would escape {MEMORIES} (it hides '..' in %-encoding)")
            if _CONTROL.search(decoded):
                raise _fail(f"Error: The path {raw} hides control characters in %-encoding; it was refused")
            raise _fail(f"Error: The path {raw} contains %-encoded characters; write paths plainly, {LAYOUT_HINT}")
        if "\\" in raw:
            raise _fail(f"Error: The path {raw} contains a backslash; use '/' between folders")
        if raw != MEMORIES and not raw.startswith(MEMORIES + "/"):
            raise _fail(f"Error: The path {raw} is outside {MEMORIES}; every memory path starts with {MEMORIES}/")
        rest = raw[len(MEMORIES) :]
        if rest.endswith("/"):
            rest = rest[:-1]  # `/memories/project/` names the folder
        parts = tuple(rest.split("/")[1:]) if rest else ()
        for part in parts:
            if part in (".", ".."):
                raise _fail(f"Error: The path {raw} would escape {MEMORIES} ('{part}' is not allowed in memory paths)")
            if not part:
                raise _fail(f"Error: The path {raw} has an empty segment ('//')")
        is_file = bool(parts) and parts[-1].endswith(ENTRY_SUFFIX)
        for index, part in enumerate(parts):
            name = part[: -len(ENTRY_SUFFIX)] if is_file and index == len(parts) - 1 else part
            if not is_slug(name):
                hint = slugify(name)
                suggestion = f" (try '{hint}')" if hint else ""
                if index == len(parts) - 1 and "." in part and not is_file:
                    raise _fail(f"Error: {raw} is not a memory file: {LAYOUT_HINT}")
                raise _fail(f"Error: '{part}' in {raw} is not a valid name{suggestion}; {LAYOUT_HINT}")
        location = Location(MEMORIES + "".join("/" + part for part in parts), parts, is_file)
        self._confine(location)
        return location

    def _confine(self, location: Location) -> None:
        target = self.root.joinpath(*location.parts)
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(target)
        if real != real_root and not real.startswith(real_root + os.sep):
            raise _fail(f"Error: The path {location.shown} would escape {MEMORIES} through a symlink")
        try:
            refuse_symlinks(self.root, target)
        except InvalidError:
            raise _fail(
                f"Error: The path {location.shown} goes through a symlink; the memory tool does not follow symlinks"
            ) from None

    def _entry(self, location: Location) -> str:
        """The entry path of a file location, or a message that teaches the layout."""
        if not location.is_file:
            suggestion = f"; did you mean {location.shown}.md?" if location.parts else ""
            raise _fail(f"Error: {location.shown} is a folder path, memory files end in .md{suggestion}")
        if not ENTRY_MIN_DEPTH <= len(location.parts) <= ENTRY_MAX_DEPTH:
            raise _fail(f"Error: {location.shown} is not a place for a memory file: {LAYOUT_HINT}")
        return location.entry_path

    def _read_text(self, location: Location, missing: str) -> str:
        path = self._entry(location)
        file = entry_file(self.root, path)
        try:
            data = read_bytes_limited(file, self.memory.files.file_limit())
        except NotFoundError:
            raise _fail(missing, ExitCode.NOT_FOUND) from None
        except InvalidError as error:
            if file.is_dir():
                raise _fail(f"Error: The path {location.shown} is not a file.") from None
            raise _fail(f"Error: {location.shown}: {error.message}") from None
        return decode_text(data, location.shown)

    # --- view -----------------------------------------------------------------------------

    def _view(self, command: Mapping[str, Any]) -> str:
        location = self.locate(command.get("path"))
        missing = f"The path {location.shown} does not exist. Please provide a valid path."
        if location.is_file:
            text = self._read_text(location, missing)
            lines = text.split("\n")
            if len(lines) > MAX_LINES:
                raise _fail(f"File {location.shown} exceeds maximum line limit of 999,999 lines.")
            first = 1
            view_range = command.get("view_range")
            if view_range is not None:
                if (
                    not isinstance(view_range, list | tuple)
                    or len(view_range) != 2
                    or not all(isinstance(n, int) and not isinstance(n, bool) for n in view_range)
                ):
                    raise _fail("Error: `view_range` must be two line numbers [first, last]; last -1 means the end")
                start = max(1, view_range[0]) - 1
                end = len(lines) if view_range[1] == -1 else view_range[1]
                lines, first = lines[start:end], start + 1
            return f"Here's the content of {location.shown} with line numbers:\n" + _number(lines, first)

        folder = self.root.joinpath(*location.parts)
        if not folder.is_dir() or folder.is_symlink():
            raise _fail(missing, ExitCode.NOT_FOUND)
        listed: list[tuple[int, str]] = []
        total = self._list(folder, len(location.parts), "", 1, listed)
        header = (
            f"Here're the files and directories up to 2 levels deep in {location.shown}, "
            "excluding hidden items and node_modules:"
        )
        lines = [f"{_format_size(total)}\t{location.shown}"]
        lines += [f"{_format_size(size)}\t{location.shown}/{name}" for size, name in listed]
        return header + "\n" + "\n".join(lines)

    def _list(self, folder: Path, depth: int, prefix: str, level: int, out: list[tuple[int, str]]) -> int:
        """Append (size, name) of what the tool can use below `folder`, two levels deep;
        return the bytes of all entries below it (folders are shown with that total)."""
        total = 0
        try:
            items = sorted(os.scandir(folder), key=lambda item: item.name)
        except OSError:
            return 0
        for item in items:
            name = item.name
            if item.is_symlink() or not (is_slug(name) or name.endswith(ENTRY_SUFFIX)):
                continue  # hidden, `_archive`, `_index.md`, config.yaml and other non-entries
            shown = f"{prefix}{name}"
            if item.is_dir(follow_symlinks=False):
                if not is_slug(name) or depth + 1 > ENTRY_MAX_DEPTH - 1:
                    continue
                position = len(out)
                if level < 2:
                    size = self._list(Path(item.path), depth + 1, shown + "/", level + 1, out)
                else:
                    size = self._list(Path(item.path), depth + 1, shown + "/", level + 1, [])
                out.insert(position, (size, shown + "/"))
                total += size
            elif item.is_file(follow_symlinks=False):
                stem = name[: -len(ENTRY_SUFFIX)]
                if not is_slug(stem) or not ENTRY_MIN_DEPTH <= depth + 1 <= ENTRY_MAX_DEPTH:
                    continue
                try:
                    size = item.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
                if level <= 2:
                    out.append((size, shown))
                total += size
        return total

    # --- create ---------------------------------------------------------------------------

    def _create(self, command: Mapping[str, Any]) -> str:
        location = self.locate(command.get("path"))
        file_text = _require(command, "file_text", str)
        path = self._entry(location)
        if entry_file(self.root, path).exists():
            raise _fail(f"Error: File {location.shown} already exists", ExitCode.EXISTS)
        parsed = self._parse_new(path, file_text, location)
        title = parsed.title
        try:
            self.memory.add(
                path,
                parsed.body,
                title=title,
                summary=parsed.summary or None,
                tags=parsed.tags,
                keywords=parsed.keywords,
                related=parsed.related,
                importance=parsed.importance,
                maturity=parsed.maturity,
                decay=parsed.decay,
                source=self.source,
                extra=parsed.extra,
            )
        except ExistsError:
            raise _fail(f"Error: File {location.shown} already exists", ExitCode.EXISTS) from None
        return f"File created successfully at: {location.shown}"

    @staticmethod
    def _parse_new(path: str, file_text: str, location: Location) -> Entry:
        """The entry a new file's text describes. Frontmatter is optional, and so is its title:
        without one the first heading (else the first line) is the title."""
        try:
            frontmatter, body = split_frontmatter(file_text)
            meta = load_yaml(frontmatter) if frontmatter is not None else {}
        except (ValueError, yaml.YAMLError, RecursionError) as error:
            reason = str(error).replace("\n", " ")
            raise _fail(
                f"Error: the frontmatter of {location.shown} is not valid ({reason}); nothing was written"
            ) from None
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise _fail(f"Error: the frontmatter of {location.shown} must be a mapping of keys; nothing was written")
        if frontmatter is None or meta.get("title") in (None, ""):
            meta = {**meta, "title": title_from_text(body, path)[0]}
        try:
            return entry_from_metadata(path, meta, body, where=location.shown)
        except EntryFormatError as error:
            problems = "; ".join(error.problems)
            raise _fail(
                f"Error: the frontmatter of {location.shown} is not valid ({problems}); nothing was written"
            ) from None

    # --- edits ----------------------------------------------------------------------------

    def _edit(self, location: Location, change: Callable[[str], str]) -> tuple[str, str]:
        """Apply `change` to the file's text through Memory.edit_text; (text before, text stored)."""
        path = self._entry(location)
        before: list[str] = []

        def guarded(text: str) -> str:
            before.append(text)
            new = change(text)
            if split_frontmatter(text)[0] is not None and not new.startswith("---"):
                raise _fail(
                    f"Error: the edit would put text above the frontmatter of {location.shown} "
                    "(the lines between the first two '---'); edit below it"
                )
            return new

        try:
            _, stored = self.memory.edit_text(path, guarded, source=self.source)
        except EntryFormatError as error:
            problems = "; ".join(error.problems)
            raise _fail(
                f"Error: the edit would make {location.shown} an invalid entry ({problems}); nothing was changed"
            ) from None
        return before[-1], stored

    def _str_replace(self, command: Mapping[str, Any]) -> str:
        location = self.locate(command.get("path"))
        old_str = _require(command, "old_str", str)
        new_str = command.get("new_str", "")
        if not isinstance(new_str, str):
            raise _fail("Error: `new_str` must be a string", ExitCode.USAGE)
        if not old_str:
            raise _fail("Error: `old_str` is empty; give the exact text to replace")
        self._read_text(location, f"Error: The path {location.shown} does not exist. Please provide a valid path.")
        edited_at: list[int] = []

        def change(text: str) -> str:
            count = text.count(old_str)
            if count == 0:
                raise _fail(
                    f"No replacement was performed, old_str `{old_str}` did not appear verbatim in {location.shown}."
                )
            if count > 1:
                lines: dict[int, None] = {}  # each line once, in order
                start = 0
                while (found := text.find(old_str, start)) != -1:
                    lines[text.count("\n", 0, found) + 1] = None
                    start = found + 1
                raise _fail(
                    f"No replacement was performed. Multiple occurrences of old_str `{old_str}` in lines: "
                    f"{', '.join(map(str, lines))}. Please ensure it is unique"
                )
            position = text.index(old_str)
            edited_at.append(text.count("\n", 0, position))
            return text[:position] + new_str + text[position + len(old_str) :]

        before, stored = self._edit(location, change)
        edited = before.replace(old_str, new_str, 1)
        line = _moved_line(edited, stored, edited_at[-1])
        lines = stored.split("\n")
        first, last = max(0, line - 2), min(len(lines), line + 3)
        return (
            "The memory file has been edited. Here is the snippet showing the change (with line numbers):\n"
            + _number(lines[first:last], first + 1)
        )

    def _insert(self, command: Mapping[str, Any]) -> str:
        location = self.locate(command.get("path"))
        insert_line = _require(command, "insert_line", int)
        insert_text = _require(command, "insert_text", str)
        self._read_text(location, f"Error: The path {location.shown} does not exist")

        def change(text: str) -> str:
            # Split on '\n' only: str.splitlines would also break at \x0b, \u2028, ... and rewrite them.
            lines = (text[:-1] if text.endswith("\n") else text).split("\n") if text else []
            if not 0 <= insert_line <= len(lines):
                raise _fail(
                    f"Error: Invalid `insert_line` parameter: {insert_line}. "
                    f"It should be within the range of lines of the file: [0, {len(lines)}]"
                )
            lines.insert(insert_line, insert_text.rstrip("\n"))
            return "\n".join(lines) + "\n"

        self._edit(location, change)
        return f"The file {location.shown} has been edited."

    # --- delete and rename ----------------------------------------------------------------

    def _delete(self, command: Mapping[str, Any]) -> str:
        location = self.locate(command.get("path"))
        if not location.parts:
            raise _fail(f"Error: Cannot delete the {MEMORIES} directory itself")
        missing = f"Error: The path {location.shown} does not exist"
        if location.is_file:
            path = self._entry(location)
            if not entry_file(self.root, path).is_file():
                raise _fail(missing, ExitCode.NOT_FOUND)
            self._archive(path)
            self._prune(self.root.joinpath(*location.parts[:-1]))
            return f"Successfully deleted {location.shown}"
        folder = self.root.joinpath(*location.parts)
        if not folder.is_dir():
            raise _fail(missing, ExitCode.NOT_FOUND)
        for record in scan_tree(self.root, location.folder).records:
            if record.path.startswith(location.folder + "/"):  # not the entry `<folder>.md` beside it
                self._archive(record.path)
        self._prune_tree(folder)
        self._prune(folder.parent)
        if folder.exists():
            kept = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
            return (
                f"Successfully deleted the memory files in {location.shown}; kept {len(kept)} other file(s) "
                f"that are not memory files: {', '.join(kept[:5])}"
            )
        return f"Successfully deleted {location.shown}"

    def _archive(self, path: str) -> None:
        """Forget an entry into `_archive/`; an older copy already there keeps its place and
        this one takes the next free name (`name-2`, `name-3`, ...)."""
        head, _, name = path.rpartition("/")
        for number in range(1, 1000):
            candidate = path if number == 1 else f"{head}/{name[:60]}-{number}"
            if entry_file(self.root, candidate, archived=True).exists():
                continue
            try:
                self.memory.forget(path, reason=DELETE_REASON, archive_as=candidate)
                return
            except ExistsError:
                continue  # taken between the check and the move: try the next name
        raise _fail(f"Error: {ARCHIVE_DIR}/{path} has too many archived copies; clean the archive up")

    def _rename(self, command: Mapping[str, Any]) -> str:
        old = self.locate(command.get("old_path"))
        new = self.locate(command.get("new_path"))
        if not old.parts or not new.parts:
            raise _fail(f"Error: {MEMORIES} itself cannot be renamed, and nothing can become it")
        if old.is_file != new.is_file:
            raise _fail("Error: rename a memory file to a path ending in .md, and a folder to a folder path")
        old_target = self.root.joinpath(*old.parts)
        new_target = self.root.joinpath(*new.parts)
        if not (old_target.is_file() if old.is_file else old_target.is_dir()):
            raise _fail(f"Error: The path {old.shown} does not exist", ExitCode.NOT_FOUND)
        if new_target.exists():
            raise _fail(f"Error: The destination {new.shown} already exists", ExitCode.EXISTS)
        if old.is_file:
            source, destination = self._entry(old), self._entry(new)
            if self.root.joinpath(*destination.split("/")).is_dir():
                raise _fail(f"Error: {new.shown} cannot be used: a folder of the same name exists", ExitCode.EXISTS)
        else:
            source, destination = old.folder, new.folder
            if len(new.parts) > ENTRY_MAX_DEPTH - 1:
                raise _fail(f"Error: {new.shown} is too deep for a folder: {LAYOUT_HINT}")
        self.memory.move(source, destination)
        if not old.is_file:
            self._prune_tree(old_target)  # the entries moved; folders they leave empty go too
        self._prune(old_target.parent)
        return f"Successfully renamed {old.shown} to {new.shown}"

    # --- folders --------------------------------------------------------------------------

    def _prune(self, folder: Path) -> None:
        """Remove folders that a delete or rename left empty, up to (not including) the root."""
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return  # not empty, or gone already
            folder = folder.parent

    def _prune_tree(self, folder: Path) -> None:
        if not folder.is_dir() or folder.is_symlink():
            return
        for child in sorted(folder.iterdir(), reverse=True):
            if child.is_dir() and not child.is_symlink():
                self._prune_tree(child)
        with contextlib.suppress(OSError):  # something that is not ours is still in it
            folder.rmdir()


def _moved_line(edited: str, stored: str, line: int) -> int:
    """A line of the text as edited, in the text as stored (the frontmatter may be rewritten
    in mem's stable form, the body never is)."""
    start_edited, start_stored = body_start_line(edited), body_start_line(stored)
    return line - start_edited + start_stored if line >= start_edited else line
