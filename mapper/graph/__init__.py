"""The graph stage: aggregate edge events into the weighted directed actor graph,
filter and reduce it, and compute the measures other stages share (influence,
undirected projection).

``build_graph`` is the entry point; see ``docs/architecture.md`` for the node and edge
attribute schema every later stage relies on.
"""

from __future__ import annotations

from mapper.graph.build import (
    DEFAULT_TYPE_WEIGHTS,
    UNKNOWN_TYPE_WEIGHT,
    build_graph,
    node_attributes,
)
from mapper.graph.filters import (
    backbone,
    disparity_pvalues,
    filter_events,
    filter_graph,
    reduce_graph,
)
from mapper.graph.metrics import (
    apply_influence,
    copy_attrs,
    edge_arrays,
    influence,
    sorted_nodes,
    undirected_projection,
    undirected_weights,
)

__all__ = [
    "DEFAULT_TYPE_WEIGHTS",
    "UNKNOWN_TYPE_WEIGHT",
    "apply_influence",
    "backbone",
    "build_graph",
    "copy_attrs",
    "disparity_pvalues",
    "edge_arrays",
    "filter_events",
    "filter_graph",
    "influence",
    "node_attributes",
    "reduce_graph",
    "sorted_nodes",
    "undirected_projection",
    "undirected_weights",
]
