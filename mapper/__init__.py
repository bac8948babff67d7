"""mapper: map political influence networks.

Collect what commentators, MPs and organisations publish, resolve who mentions,
replies to, reposts and links to whom, find the factions, name the figures who bridge
them and point to alliance opportunities; write interactive maps and exports.
"""

from __future__ import annotations

__version__ = "0.1.0"

from mapper.errors import MapperError
from mapper.records import Actor, EdgeEvent, Post, Provenance, Reference

__all__ = ["Actor", "EdgeEvent", "MapperError", "Post", "Provenance", "Reference", "__version__"]
