"""`mem edit PATH`: change an entry in your own editor, checked when you save it.

The text is edited in a draft under `.mem/edits/` (never the entry itself), so a save that
is not a valid entry, or that holds a secret, changes nothing: the error is shown and the
editor opens again on the same draft. Said no to, the draft stays where it is and its path
is printed. The entry is replaced only if nobody changed it meanwhile.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .base import app, complete_entry_path, use
from .output import emit

if TYPE_CHECKING:
    from rich.console import Console

DRAFTS = "edits"  # under .mem/: drafts of `mem edit`, kept when a save is refused


def editor_command() -> list[str]:
    """$VISUAL, else $EDITOR (either may carry arguments: `code --wait`), else vi."""
    from ..core.errors import InvalidError

    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            return shlex.split(value)
    if shutil.which("vi"):
        return ["vi"]
    raise InvalidError("no editor: set $VISUAL or $EDITOR (for example `export EDITOR=nano`)")


def _again(message: str) -> bool:
    """Show why the save was refused and ask whether to reopen the editor (no on end of input)."""
    sys.stderr.write(f"Error: {message}\n")
    try:
        return typer.confirm("Edit again?", default=True, err=True)
    except typer.Abort:
        return False


@app.command()
def edit(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="Entry path.", autocompletion=complete_entry_path)],
    allow_secrets: Annotated[
        bool, typer.Option("--allow-secrets", help="Save text even if it looks like it holds a secret.")
    ] = False,
) -> None:
    """Open an entry in $VISUAL or $EDITOR; checked on save (a broken save reopens the editor, nothing is lost)."""
    import tempfile

    from ..core.errors import ConflictError, ExternalError, InvalidError, RefusedError
    from ..core.paths import normalize_entry_path
    from ..core.safeio import state_dir

    state = use(ctx, "edit")
    if state.json:
        raise InvalidError("mem edit needs a person at an editor; agents change entries with `mem update`")
    location = normalize_entry_path(path)
    memory = state.memory()
    if not memory.exists(location):
        memory.get(location)  # raises "no entry ...", with a "did you mean" when one is close
    original = memory.read_text(location)
    command = editor_command()
    folder = state_dir(memory.root) / DRAFTS  # .mem/ checked to be a real folder, not a link
    folder.mkdir(exist_ok=True)
    if folder.is_symlink() or not folder.is_dir():
        raise InvalidError(f"{folder} is not a folder of mem's own; remove it (mem recreates it)")
    handle, name = tempfile.mkstemp(prefix=location.replace("/", "--") + "-", suffix=".md", dir=folder)
    draft = Path(name)
    with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
        file.write(original)

    def unchanged_since_opened(current: str) -> str:
        if current != original:
            raise ConflictError(f"{location} changed while you edited it; your text is kept in {draft}")
        return text

    while True:
        try:
            # The user's own editor command, as git runs $EDITOR: that is the point of `mem edit`.
            code = subprocess.run([*command, str(draft)], check=False).returncode  # noqa: S603
        except OSError as error:
            raise ExternalError(f"cannot start the editor {command[0]!r}: {error.strerror}") from None
        if code != 0:
            raise ExternalError(f"the editor exited with {code}; nothing was saved, your text is kept in {draft}")
        text = draft.read_text(encoding="utf-8")
        if text == original:
            draft.unlink()
            entry = None
            break
        try:
            entry, _ = memory.edit_text(location, unchanged_since_opened, allow_secrets=allow_secrets)
        except (InvalidError, RefusedError) as error:
            if _again(error.message):
                continue
            kind = RefusedError if isinstance(error, RefusedError) else InvalidError
            raise kind(f"{error.message}; nothing was saved, your text is kept in {draft}") from None
        draft.unlink()
        break

    def human(out: Console) -> None:
        if entry is None:
            out.print(f"No changes to [bold]{location}[/bold]")
        else:
            out.print(f"[green]Saved[/green] [bold]{entry.path}[/bold]  importance {entry.importance}")

    emit(state, {"path": location, "changed": entry is not None}, human, confirmation=True)
