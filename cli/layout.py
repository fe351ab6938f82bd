"""Lines that fit: how the human output of list, tree, recall and log is laid out.

On a terminal every line is cut to the terminal's width (display cells, so CJK titles count
double) and the cut is marked with '…'; what gets cut is the one flexible part of a line
(a title, a subject), never a path. When stdout is not a terminal (`mem list | grep`,
`mem show | less`) nothing is cut, padded or wrapped: one item per line, whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# Below this many cells a title is not worth showing on the path's line: it moves to a
# second, indented line instead (a hanging indent).
MIN_FLEXIBLE = 16
HANG = "    "


def line_width(out: Console) -> int | None:
    """The width lines must fit in, or None when output goes to a pipe or file (no limit)."""
    return out.width if out.is_terminal else None


def text(markup: str) -> Text:
    from rich.text import Text

    return Text.from_markup(markup)


def fit(line: Text, width: int | None) -> Text:
    """`line` cut to `width` cells with '…' (unchanged when width is None or it fits)."""
    if width is None or line.cell_len <= width:
        return line
    cut = line.copy()
    cut.truncate(max(1, width), overflow="ellipsis")
    return cut


def columns(fixed: Text, flexible: Text, after: Text | None, width: int | None) -> Text | None:
    """`fixed` + `flexible` + `after` on one line, the flexible part cut so the line fits.

    Returns None when fewer than MIN_FLEXIBLE cells are left for the flexible part: the
    caller then puts it on a line of its own.
    """
    from rich.text import Text

    tail = after if after is not None else Text()
    if width is None:
        return Text.assemble(fixed, flexible, tail)
    room = width - fixed.cell_len - tail.cell_len
    if flexible.cell_len <= room:
        return Text.assemble(fixed, flexible, tail)
    if room < MIN_FLEXIBLE:
        return None
    return Text.assemble(fixed, fit(flexible, room), tail)


def put(out: Console, line: Text) -> None:
    """Print one prepared line as it is: no wrapping, no trailing spaces (it was already fitted)."""
    line = line.copy()
    line.rstrip()
    out.print(line, soft_wrap=True, highlight=False)


def wrapped(out: Console, line: Text, width: int | None, indent: int = 2) -> None:
    """Print a long message (a note) wrapped to `width` with a hanging indent of `indent`."""
    if width is None or line.cell_len <= width:
        put(out, line)
        return
    from rich.text import Text

    first, *rest = line.wrap(out, width)
    put(out, first)
    for part in Text("\n").join(rest).wrap(out, max(1, width - indent)):
        put(out, Text.assemble(" " * indent, part))


def put_block(out: Console, renderable: object) -> None:
    """Draw a rich renderable (rendered markdown) at the console's width without the spaces
    rich pads every line with, which end up in whatever a person copies from the terminal.
    Padding with a background colour (a code block) is kept: it is what shows the block."""
    from rich.segment import Segment, Segments

    def padding(segment: Segment) -> bool:
        return not segment.control and not (segment.style and segment.style.bgcolor)

    segments: list[Segment] = []
    for line in out.render_lines(renderable, out.options, pad=False):  # type: ignore[arg-type]
        while line and padding(line[-1]) and not line[-1].text.strip():
            line.pop()
        if line and padding(line[-1]):
            line[-1] = Segment(line[-1].text.rstrip(), line[-1].style, line[-1].control)
        segments += [*line, Segment.line()]
    out.print(Segments(segments))
