"""contextree's core library: the context tree, its file format and the `Memory` API.

Nothing in this package imports typer, rich or mcp, and nothing here prints: it returns
data (frozen dataclasses) and raises `MemError`. docs/architecture.md gives the layers of
its modules; tests/test_architecture.py checks them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Entry", "ExitCode", "MemError", "Memory"]

if TYPE_CHECKING:
    from .entry import Entry
    from .errors import ExitCode, MemError
    from .memory import Memory

_HOMES = {"Entry": "entry", "ExitCode": "errors", "MemError": "errors", "Memory": "memory"}


def __getattr__(name: str) -> Any:
    # Submodules load on first use: `mem --help` and error handling need only `errors`.
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module 'contextree.core' has no attribute {name!r}")
