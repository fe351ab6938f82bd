"""Showing untrusted text inside messages: short, on one line, with nothing invisible.

Every message that echoes something a file or a user supplied (a title, a path, a YAML
value) goes through `shown()` or `clip()`: a 200 KB title must not become a 200 KB warning,
a newline in a file name must not split a warning in two, and an escape sequence in a title
must not reach the terminal.
"""

from __future__ import annotations

import re

SHOWN_MAX = 60  # characters of untrusted text echoed in one message

# C0/C1 controls (except tab), DEL, and the invisible or direction-changing format characters
# that make text read differently from what it holds (Trojan Source, ASCII smuggling).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with control and invisible characters written as escapes (`\\x1b`, `\\u200b`);
    with `keep_newlines`, line breaks (LF, CRLF) stay as they are (for a body shown whole)."""
    if keep_newlines:
        return "\n".join(_INVISIBLE.sub(_escape, line) for line in text.replace("\r\n", "\n").split("\n"))
    return _INVISIBLE.sub(_escape, text)


def clip(text: str, limit: int = SHOWN_MAX) -> str:
    """`text` made printable and cut to about `limit` characters, marking the cut with '…'."""
    if len(text) > limit * 4:  # escaping can only grow the text: cut before, then again after
        text = text[: limit * 4]
    text = printable(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value: object, limit: int = SHOWN_MAX) -> str:
    """A quoted, clipped rendering of an untrusted value for a message: `'abc…'`."""
    if isinstance(value, str):
        return "'" + clip(value, limit).replace("'", "\\'") + "'"
    if isinstance(value, (list, tuple, dict, set)):
        # Never repr a container: a YAML alias bomb reprs to gigabytes.
        return f"a {type(value).__name__} of {len(value)} item(s)"
    try:
        text = repr(value)
    except Exception:  # e.g. an int too long to print (Python refuses > 4300 digits)
        text = f"<{type(value).__name__}>"
    return clip(text, limit)
