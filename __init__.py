"""contextree: a long-term memory for coding agents and the people who work with them.

from contextree import Memory
memory = Memory("path/to/.memory")
memory.add("architecture/auth/session-tokens", "Opaque tokens in Redis ...")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Entry", "ExitCode", "MemError", "Memory", "__version__"]

if TYPE_CHECKING:
    from .core import Entry, ExitCode, MemError, Memory


def __getattr__(name: str) -> Any:
    # Loaded on first use so `mem --help` does not pay for the core's imports.
    if name in __all__:
        from . import core

        return getattr(core, name)
    raise AttributeError(f"module 'contextree' has no attribute {name!r}")
