"""mapper: map political influence networks.

Collect what commentators, MPs and organisations publish, resolve who mentions,
replies to, reposts and links to whom, find the factions, name the figures who bridge
them and point to alliance opportunities; write interactive maps and exports.
"""

from __future__ import annotations

__version__ = "0.1.0"

from mapper.errors import MapperError
from mapper.records import Actor, EdgeEvent, Post, Provenance, Reference

__all__ = [
    "Actor",
    "EdgeEvent",
    "MapperError",
    "Network",
    "Post",
    "Provenance",
    "Reference",
    "__version__",
    "check_project",
    "load_project",
    "run_project",
]

_LAZY = {
    "Network": "mapper.api",
    "load_project": "mapper.project",
    "check_project": "mapper.project",
    "run_project": "mapper.pipeline",
}


def __getattr__(name: str) -> object:
    # The notebook surface is imported on first use, so `import mapper` stays fast.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mapper' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The lazy names are listed too, so tab completion and dir(mapper) show them.
    return sorted(set(globals()) | set(_LAZY))
