"""contextree's core library: the context tree, its file format and the `Memory` API.

Nothing in this package imports typer, rich or mcp, and nothing here prints: it returns
data (frozen dataclasses) and raises `MemError`.
"""

from .entry import Entry
from .errors import ExitCode, MemError
from .memory import Memory

__all__ = ["Entry", "ExitCode", "MemError", "Memory"]
