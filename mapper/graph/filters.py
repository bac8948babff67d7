"""Filters that cut the actor graph down to what a question or a map needs.

Two places to filter by time: :func:`filter_events` keeps the edge events inside a
window *before* aggregation, so weights, counts and evidence are exact for that
window; :func:`filter_graph` works on an already built graph, where evidence is
bounded and per-event times are gone, so its time window can only keep or drop whole
edges (by their ``first``/``last`` interval). :func:`backbone` extracts the
statistically significant edges of a large weighted graph (the disparity filter), and
:func:`reduce_graph` picks the most influential actors plus the ones a map must show,
returning a summary the map can print about what was left out. Every function returns
a new graph (nodes and edges inserted in sorted order) and never mutates its input.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import networkx as nx

from mapper.errors import GraphError
from mapper.graph.evidence import IN_TABLE, EvidenceTable, edge_evidence
from mapper.graph.metrics import copy_attrs, influence, sorted_nodes
from mapper.records import PROVISIONAL_KIND, EdgeEvent, utc

__all__ = [
    "backbone",
    "disparity_pvalues",
    "filter_events",
    "filter_graph",
    "reduce_graph",
]


def _window(
    since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """Validate a time window and return it in aware UTC (naive input taken as UTC)."""
    for label, value in (("since", since), ("until", until)):
        if value is not None and not isinstance(value, datetime):
            raise GraphError(f"{label} must be a datetime, not {value!r}", field=label)
    since = utc(since) if since is not None else None
    until = utc(until) if until is not None else None
    if since is not None and until is not None and since > until:
        raise GraphError(
            f"the time window ends ({until.isoformat()}) before it starts ({since.isoformat()})",
            field="until",
        )
    return since, until


def _in_window(time: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    if time is None:
        return False
    time = utc(time)
    return (since is None or time >= since) and (until is None or time < until)


def filter_events(
    events: Iterable[EdgeEvent],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[EdgeEvent]:
    """Yield the events whose time falls in the half-open window ``[since, until)``.

    Filter events before :func:`~mapper.graph.build_graph` for exact per-window
    weights, counts, first/last times and evidence.

    Parameters
    ----------
    events : iterable of EdgeEvent
        Streamed; nothing is held in memory.
    since, until : datetime, optional
        Window bounds (naive datetimes are taken as UTC); ``None`` leaves that side
        open. With both ``None`` every event passes, including those without a time.

    Yields
    ------
    EdgeEvent
        Events inside the window. When a bound is given, events without a time are
        dropped: they cannot be placed in the window.

    Raises
    ------
    GraphError
        When ``since`` is after ``until`` or a bound is not a datetime.
    """
    since, until = _window(since, until)
    if since is None and until is None:
        yield from events
        return
    for event in events:
        if _in_window(event.time, since, until):
            yield event


def _build_like(
    G: nx.Graph, nodes: Iterable[Hashable], edges: Iterable[tuple[Hashable, Hashable]]
) -> nx.Graph:
    """A new graph of G's class with copies of the given nodes' and edges' attributes.

    Nodes and edges are inserted in the deterministic sorted order.
    """
    H = G.__class__()
    H.graph.update(copy_attrs(G.graph))
    keep = set(nodes)
    order = [n for n in sorted_nodes(G) if n in keep]
    rank = {n: i for i, n in enumerate(order)}
    H.add_nodes_from((node, copy_attrs(G.nodes[node])) for node in order)
    chosen = [(u, v) for u, v in edges if u in rank and v in rank]
    chosen.sort(key=lambda e: (rank[e[0]], rank[e[1]]))
    H.add_edges_from((u, v, copy_attrs(G.edges[u, v])) for u, v in chosen)
    return H


def _largest_component(G: nx.Graph) -> set[Hashable]:
    """Nodes of the largest (weakly) connected component; ties go to the one holding
    the smallest node in sorted order."""
    if G.number_of_nodes() == 0:
        return set()
    components = (
        nx.weakly_connected_components(G) if G.is_directed() else nx.connected_components(G)
    )
    rank = {n: i for i, n in enumerate(sorted_nodes(G))}
    best = min(components, key=lambda c: (-len(c), min(rank[n] for n in c)))
    return set(best)


def filter_graph(
    G: nx.Graph,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    min_weight: float | None = None,
    kinds: Iterable[str] | str | None = None,
    largest_component: bool = False,
    drop_provisional: bool = False,
) -> nx.Graph:
    """A filtered copy of the actor graph.

    Parameters
    ----------
    G : networkx.DiGraph
        A graph from :func:`~mapper.graph.build_graph`.
    since, until : datetime, optional
        Time window ``[since, until)`` (naive datetimes are taken as UTC). An edge is
        kept when its ``[first, last]`` interval overlaps the window; an edge with no
        time is dropped once a bound is given. The edge's ``weight``, ``count`` and
        per-kind counts are **not** recomputed (the per-event times are gone once
        aggregated); its ``evidence`` keeps only the items inside the window (possibly
        none). For exact per-window weights, use :func:`filter_events` before
        building the graph.
    min_weight : float, optional
        Drop edges lighter than this (an edge without ``weight`` weighs 1).
    kinds : str or iterable of str, optional
        Keep only actors of these kinds (a node without ``kind`` is ``unknown``).
        ``None`` keeps every kind; an empty collection keeps no actor.
    largest_component : bool, default False
        After every other filter, keep only the largest weakly connected component
        (ties go to the component holding the smallest actor id).
    drop_provisional : bool, default False
        Drop provisional actors (unknown handles).

    Returns
    -------
    networkx.DiGraph
        A new graph; attribute dicts (and the ``topics``/``evidence`` inside them) are
        copies. Actors that lose every edge to the edge filters (time, weight) are
        dropped. The node filters (``kinds``, ``drop_provisional``) never drop an actor
        they select, even one with no edge left among the selection, and actors with
        no edge in ``G`` (built with ``include_isolates=True``) stay too.

    Raises
    ------
    GraphError
        When the window is inverted or a bound is not a datetime.
    """
    since, until = _window(since, until)
    if isinstance(kinds, str):
        kinds = {kinds}
    kind_set = set(kinds) if kinds is not None else None

    nodes = []
    for node, data in G.nodes(data=True):
        if kind_set is not None and data.get("kind", PROVISIONAL_KIND) not in kind_set:
            continue
        if drop_provisional and data.get("provisional", False):
            continue
        nodes.append(node)
    node_set = set(nodes)

    timed = since is not None or until is not None
    edges = []
    linked: set[Hashable] = set()  # actors with an edge among the selected actors
    for u, v, data in G.edges(data=True):
        if u not in node_set or v not in node_set:
            continue
        linked.add(u)
        linked.add(v)
        if min_weight is not None and data.get("weight", 1.0) < min_weight:
            continue
        if timed:
            first, last = data.get("first"), data.get("last")
            if first is None or last is None:
                continue
            if since is not None and utc(last) < since:
                continue
            if until is not None and utc(first) >= until:
                continue
        edges.append((u, v))

    # Actors isolated by the edge filters go; the node filters' selection stays.
    touched = {n for e in edges for n in e}
    nodes = [n for n in nodes if n in touched or n not in linked]
    H = _build_like(G, nodes, edges)

    if timed:
        # the items inside the window, as the edges' own lists (a table cannot keep
        # part of an edge's items): H no longer needs the table
        for u, v, data in H.edges(data=True):
            evidence = data.get("evidence")
            if evidence is IN_TABLE:
                evidence = edge_evidence(G, u, v)
            if isinstance(evidence, list):
                data["evidence"] = [
                    item
                    for item in evidence
                    if isinstance(item, Mapping) and _in_window(item.get("time"), since, until)
                ]
        if isinstance(H.graph.get("evidence"), EvidenceTable):
            del H.graph["evidence"]
    if largest_component and H.number_of_nodes():
        component = _largest_component(H)
        H.remove_nodes_from([n for n in list(H) if n not in component])
    return H


def disparity_pvalues(G: nx.Graph, *, weight: str = "weight") -> dict[tuple[Any, Any], float]:
    """The disparity filter's significance of every edge (smaller is more significant).

    Parameters
    ----------
    G : networkx.DiGraph or networkx.Graph
    weight : str, default "weight"
        Edge attribute holding the (non-negative) weight; missing means 1.

    Returns
    -------
    dict
        ``(u, v) -> alpha``, the smaller of the edge's p-values at its two endpoints:
        for a node of strength ``s`` and degree ``k`` (out-strength and out-degree at
        the source, in-strength and in-degree at the target of a directed edge), an
        edge of weight ``w`` has ``alpha = (1 - w/s) ** (k - 1)``: the probability
        that a uniformly random split of ``s`` over ``k`` edges gives one of them at
        least ``w``. An endpoint of degree one (or zero strength) gives 1.

    Raises
    ------
    GraphError
        When a weight is negative or not a finite number.

    References
    ----------
    .. [1] M. A. Serrano, M. Boguñá and A. Vespignani, "Extracting the multiscale
       backbone of complex weighted networks", PNAS 106 (16) (2009), 6483-6488.
    """
    directed = G.is_directed()
    out_strength: dict[Any, float] = {}
    in_strength: dict[Any, float] = {}
    weights: dict[tuple[Any, Any], float] = {}
    for u, v, data in G.edges(data=True):
        w = data.get(weight, 1.0)
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0:
            raise GraphError(
                f"edge {u!r} -> {v!r}: weight {w!r} is not a finite non-negative number",
                field=weight,
            )
        w = float(w)
        weights[(u, v)] = w
        out_strength[u] = out_strength.get(u, 0.0) + w
        in_strength[v] = in_strength.get(v, 0.0) + w
        if not directed and u != v:
            out_strength[v] = out_strength.get(v, 0.0) + w
            in_strength[u] = in_strength.get(u, 0.0) + w

    def side(w: float, strength: float, degree: int) -> float:
        if degree <= 1 or strength <= 0.0:
            return 1.0
        return (1.0 - w / strength) ** (degree - 1)

    result: dict[tuple[Any, Any], float] = {}
    for (u, v), w in weights.items():
        if directed:
            at_u = side(w, out_strength[u], G.out_degree(u))
            at_v = side(w, in_strength[v], G.in_degree(v))
        else:
            at_u = side(w, out_strength[u], G.degree(u))
            at_v = side(w, out_strength[v], G.degree(v))
        result[(u, v)] = min(at_u, at_v)
    return result


def backbone(G: nx.Graph, *, alpha: float = 0.05, weight: str = "weight") -> nx.Graph:
    """The backbone of a weighted graph by the disparity filter.

    An edge stays when its weight is significantly larger than a uniform split of its
    endpoint's strength would give, at level ``alpha``, for **either** endpoint (for a
    directed edge: among its source's outgoing edges, or among its target's incoming
    edges). Heavy ties survive at every scale, hubs do not keep all their weak ties.

    Parameters
    ----------
    G : networkx.DiGraph or networkx.Graph
    alpha : float, default 0.05
        Significance level in (0, 1]; smaller keeps fewer edges.
    weight : str, default "weight"

    Returns
    -------
    networkx.DiGraph
        A new graph with the significant edges, attributes copied. Actors left without
        any edge are dropped; actors without edges in ``G`` stay.

    Raises
    ------
    GraphError
        When ``alpha`` is outside (0, 1] or a weight is negative or not finite.

    Notes
    -----
    ``O(E)`` time. See :func:`disparity_pvalues` for the per-edge significance.

    References
    ----------
    .. [1] M. A. Serrano, M. Boguñá and A. Vespignani, "Extracting the multiscale
       backbone of complex weighted networks", PNAS 106 (16) (2009), 6483-6488.

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_edge("hub", "a", weight=100.0)
    >>> for leaf in "bcde":
    ...     G.add_edge("hub", leaf, weight=1.0)
    >>> sorted(backbone(G, alpha=0.05).edges())
    [('hub', 'a')]
    """
    if not 0.0 < alpha <= 1.0:
        raise GraphError(f"alpha must be in (0, 1], not {alpha!r}", field="alpha")
    pvalues = disparity_pvalues(G, weight=weight)
    edges = [edge for edge, p in pvalues.items() if p < alpha]
    touched = {n for e in edges for n in e}
    nodes = [n for n in G if n in touched or G.degree(n) == 0]
    return _build_like(G, nodes, edges)


def _scores(G: nx.Graph, weight: str) -> dict[Any, float]:
    """Node influence: the ``influence`` attribute when every node has a number there,
    else weighted PageRank computed now."""
    values: dict[Any, float] = {}
    for node, data in G.nodes(data=True):
        value = data.get("influence")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return influence(G, weight=weight)
        values[node] = float(value)
    return values


def reduce_graph(
    G: nx.Graph,
    *,
    max_nodes: int,
    keep: Iterable[Hashable] = (),
    score: Mapping[Any, float] | None = None,
    max_edges: int | None = None,
    weight: str = "weight",
) -> tuple[nx.Graph, dict[str, Any]]:
    """Reduce a large graph to a node budget for a readable map.

    Parameters
    ----------
    G : networkx.DiGraph
    max_nodes : int
        The node budget.
    keep : iterable of node ids, default ()
        Actors that must be shown whatever their score (bridge figures, the actors a
        user asked about). They count against the budget; when they alone exceed it,
        all of them are still shown. Ids not in ``G`` are ignored.
    score : mapping of node to float, optional
        Ranking of the actors; default their ``influence`` attribute when every node
        has one, else weighted PageRank (:func:`~mapper.graph.influence`). Missing
        nodes score 0; ties go to the smaller id.
    max_edges : int, optional
        Keep only the strongest ``max_edges`` edges among the chosen actors (ties by
        ids). Default: every edge among them.
    weight : str, default "weight"

    Returns
    -------
    H : networkx.DiGraph
        The chosen actors (at most ``max(max_nodes, len(keep))``) and the edges among
        them, attributes copied.
    summary : dict
        ``nodes_total``, ``nodes_shown``, ``edges_total``, ``edges_shown`` (ints) and
        ``rule``: one sentence saying what the map shows and what it leaves out.

    Raises
    ------
    GraphError
        When ``max_nodes`` or ``max_edges`` is negative or not an int.
    """
    for label, value in (("max_nodes", max_nodes), ("max_edges", max_edges)):
        if value is None and label == "max_edges":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise GraphError(f"{label} must be a non-negative integer, not {value!r}", field=label)

    kept: list[Hashable] = []
    for node in keep:
        if node in G and node not in kept:
            kept.append(node)
    kept_set = set(kept)
    values = dict(score) if score is not None else _scores(G, weight)
    order = sorted_nodes(G)
    rank = {n: i for i, n in enumerate(order)}
    others = sorted(
        (n for n in order if n not in kept_set),
        key=lambda n: (-float(values.get(n, 0.0)), rank[n]),
    )
    top = others[: max(max_nodes - len(kept), 0)]
    chosen = set(kept) | set(top)

    edges = [(u, v) for u, v in G.edges() if u in chosen and v in chosen]
    among = len(edges)
    if max_edges is not None and among > max_edges:
        edges.sort(key=lambda e: (-float(G.edges[e].get(weight, 1.0)), rank[e[0]], rank[e[1]]))
        edges = edges[:max_edges]
    H = _build_like(G, chosen, edges)

    nodes_total, edges_total = G.number_of_nodes(), G.number_of_edges()
    nodes_shown, edges_shown = H.number_of_nodes(), H.number_of_edges()
    if nodes_shown == nodes_total and edges_shown == edges_total:
        rule = f"All {nodes_total:,} actors and {edges_total:,} ties are shown."
    else:
        ranking = "highest-scoring" if score is not None else "most influential"
        rule = f"Showing the {len(top):,} {ranking} of {nodes_total:,} actors"
        if kept:
            rule += f" plus {len(kept):,} kept for their role (such as bridge figures)"
        rule += f", and {edges_shown:,} of the {edges_total:,} ties"
        if edges_shown < among:
            rule += f" (the strongest {edges_shown:,} of the {among:,} among them)"
        else:
            rule += " (every tie among them)"
        rule += f"; {nodes_total - nodes_shown:,} actors are left out of this map."
    summary = {
        "nodes_total": nodes_total,
        "nodes_shown": nodes_shown,
        "edges_total": edges_total,
        "edges_shown": edges_shown,
        "rule": rule,
    }
    return H, summary
