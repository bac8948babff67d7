"""Engines that run the stages growing with the input: import, resolution, aggregation.

``single`` (the default) reads every source into the store and resolves its posts in
one process (:mod:`mapper.pipeline`). ``dask`` reads the project's files in partitions
on a Dask cluster, resolves and aggregates each partition there and merges the partial
aggregates (:mod:`mapper.engine.dask`); the functions it runs on each partition are
plain Python, usable from any engine (:mod:`mapper.engine.partitions`). Everything
after aggregation (factions, bridges, alliances, maps, exports) runs on one machine
with either engine, on the same graph.
"""

from __future__ import annotations

#: The engines ``mapper run --engine`` and ``[run] engine`` accept.
ENGINES: tuple[str, ...] = ("single", "dask")

#: Default size of the byte ranges a large JSONL archive is cut into (``[run]
#: partition_mb``): big enough that per-task overhead is small, small enough that a
#: worker holds a partition's posts and events comfortably (about 10x its bytes).
DEFAULT_PARTITION_MB = 32

__all__ = ["DEFAULT_PARTITION_MB", "ENGINES"]
