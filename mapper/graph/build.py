"""Aggregate resolved edge events into the weighted directed actor graph.

The resolver emits one :class:`~mapper.records.EdgeEvent` per reference (a mention,
reply, repost, quote, link or name in a post). :func:`build_graph` streams those
events once, aggregating them in plain dictionaries keyed by ``(source, target)``, and
only then builds a :class:`networkx.DiGraph`, inserting nodes and edges in sorted
order. Every attribute is computed so that the same events in any order give the same
graph, bit for bit: the per-type part of a weight comes from integer counts, explicit
weights go through an exact partial-sum accumulator, and each edge keeps a bounded,
deterministic list of evidence (the earliest posts, ties broken by post uid).
"""

from __future__ import annotations

import gc
import math
import operator
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import networkx as nx

from mapper.errors import GraphError
from mapper.records import PROVISIONAL_KIND, REFERENCE_KINDS, Actor, EdgeEvent, utc

__all__ = [
    "DEFAULT_TYPE_WEIGHTS",
    "HANDLE_PLATFORMS",
    "UNKNOWN_TYPE_WEIGHT",
    "build_graph",
    "gc_paused",
    "node_attributes",
]

#: Weight of one event of each reference kind when the event carries no explicit weight.
DEFAULT_TYPE_WEIGHTS: Mapping[str, float] = {
    "mention": 1.0,
    "reply": 1.0,
    "repost": 2.0,
    "quote": 1.5,
    "link": 1.0,
    "name": 0.5,
}

#: Weight of an event whose type is neither a reference kind nor in ``type_weights``.
UNKNOWN_TYPE_WEIGHT = 1.0

#: Platforms whose first handle becomes a node attribute of the same name.
HANDLE_PLATFORMS: tuple[str, ...] = ("x", "bluesky", "mastodon")

# Sort key standing in for a missing time (never compared with a real time: the
# leading flag of the evidence key already orders missing times last).
_NO_TIME = datetime.min.replace(tzinfo=UTC)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small containers are made.

    Building or exporting a graph creates no reference cycles, but every allocation
    counts towards the collector's thresholds, and repeated full collections over a
    growing heap cost a third of the time. The previous state is restored on exit
    (the pause is process-wide: other threads see it too).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _add_exact(partials: list[float], x: float) -> None:
    """Add ``x`` to the exact sum held as non-overlapping ``partials`` (Shewchuk).

    ``math.fsum(partials)`` is then the correctly rounded sum of every value added,
    whatever the order they were added in.
    """
    i = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo:
            partials[i] = lo
            i += 1
        x = hi
    partials[i:] = [x]


def _checked_weight(value: Any, *, what: str, source: str | None = None) -> float:
    """Return ``value`` as a finite float or raise :class:`GraphError`."""
    try:
        weight = float(value)
    except (TypeError, ValueError):
        raise GraphError(f"weight {value!r} is not a number", source=source, field=what) from None
    if not math.isfinite(weight):
        raise GraphError(f"weight {value!r} is not finite", source=source, field=what)
    return weight


def node_attributes(actor_id: str, actor: Actor | None) -> dict[str, Any]:
    """The node attributes of the architecture's schema for one actor.

    Parameters
    ----------
    actor_id : str
        The node id.
    actor : Actor or None
        The roster (or provisional) actor; ``None`` when an event names an actor the
        ``actors`` mapping does not know, which then becomes a provisional node
        (kind ``unknown``, label = id).

    Returns
    -------
    dict
        ``label``, ``kind``, ``party``, ``declared_faction``, ``provisional`` and one
        key per platform in :data:`HANDLE_PLATFORMS` (the first handle, or ``""``).
    """
    if actor is None:
        attrs: dict[str, Any] = {
            "label": actor_id,
            "kind": PROVISIONAL_KIND,
            "party": "",
            "declared_faction": "",
            "provisional": True,
        }
        for platform in HANDLE_PLATFORMS:
            attrs[platform] = ""
        return attrs
    attrs = {
        "label": actor.name or actor.id,
        "kind": actor.kind or PROVISIONAL_KIND,
        "party": actor.party or "",
        "declared_faction": actor.faction or "",
        "provisional": bool(actor.provisional),
    }
    for platform in HANDLE_PLATFORMS:
        handles = actor.handles.get(platform, ()) if actor.handles else ()
        if isinstance(handles, str):
            handles = (handles,)
        attrs[platform] = str(handles[0]) if handles else ""
    return attrs


def _topic_counts(values: Mapping[str, int] | None) -> dict[str, int]:
    """Topic counts as a plain dict, most frequent first, ties by topic."""
    if not values:
        return {}
    items = [(str(k), int(v)) for k, v in values.items()]
    items.sort(key=lambda kv: (-kv[1], kv[0]))
    return dict(items)


def build_graph(
    events: Iterable[EdgeEvent],
    actors: Mapping[str, Actor],
    *,
    type_weights: Mapping[str, float] | None = None,
    max_evidence: int = 5,
    topics: Mapping[str, Mapping[str, int]] | None = None,
    name: str = "",
    include_isolates: bool = False,
    evidence_table: bool = False,
) -> nx.DiGraph:
    """Aggregate edge events into a weighted directed graph of actors.

    Parameters
    ----------
    events : iterable of EdgeEvent
        Resolved references; consumed once, in a single streaming pass (a generator
        over millions of events is fine).
    actors : mapping of str to Actor
        The roster plus provisional actors, keyed by actor id. Node attributes come
        from here.
    type_weights : mapping of str to float, optional
        Per-type weights, merged over :data:`DEFAULT_TYPE_WEIGHTS` (mention 1,
        reply 1, repost 2, quote 1.5, link 1, name 0.5). An event of a type found in
        neither weighs :data:`UNKNOWN_TYPE_WEIGHT` (1.0). An event's own ``weight``,
        when not ``None``, replaces its type's weight.
    max_evidence : int, default 5
        How many evidence items each edge keeps (0 keeps none).
    topics : mapping of str to mapping of str to int, optional
        Per-actor topic counts (the resolver's ``topics``). When given, every node
        gets a ``topics`` dict (empty when the actor has none), most frequent first.
    name : str, default ""
        Stored as ``G.graph["name"]``.
    include_isolates : bool, default False
        By default only actors with at least one edge become nodes: a roster of
        thousands with a small corpus would otherwise fill the map with unconnected
        dots. ``True`` adds every actor of ``actors`` as well.
    evidence_table : bool, default False
        Keep the evidence items in one columnar
        :class:`~mapper.graph.evidence.EvidenceTable`, ``G.graph["evidence"]``, instead
        of a list of dicts in every edge (a fraction of the memory at scale); each
        edge's ``evidence`` is then the marker
        :data:`~mapper.graph.evidence.IN_TABLE`. Read the items with
        :func:`~mapper.graph.evidence.edge_evidence`, which serves both layouts with
        the same dicts.

    Returns
    -------
    networkx.DiGraph
        Nodes are actor ids with the attributes ``label``, ``kind``, ``party``,
        ``declared_faction``, ``provisional``, ``x``, ``bluesky``, ``mastodon`` (and
        ``topics`` when given). An edge ``u -> v`` means ``u`` pointed at ``v``; its
        attributes are ``weight`` (float), ``count`` (int), one int per reference kind
        (``mention`` ... ``name``, all six present), ``first`` and ``last`` (aware UTC
        datetimes, ``None`` when no event had a time) and ``evidence``: at most
        ``max_evidence`` dicts ``{post, type, url, time, snippet}``, earliest first,
        events without a time last, ties broken by post uid, then type, URL and
        snippet; exact duplicate items are kept once.

    Raises
    ------
    GraphError
        When ``max_evidence`` is negative, or a weight (in ``type_weights`` or on an
        event) is not a finite number.

    Notes
    -----
    One pass, ``O(E log k)`` time for ``E`` events and ``k = max_evidence`` (each
    edge buffers at most ``2k`` evidence candidates, pruned to the ``k`` smallest),
    memory proportional to the number of distinct edges. The cyclic garbage
    collector is paused during the build (it costs a third of the time on millions
    of small containers) and restored afterwards. The result depends only on the
    multiset of events, never on their order: the per-type weight is a fixed-order
    sum of count times type weight, explicit weights are summed exactly (correctly
    rounded, Shewchuk's partials), nodes and edges are inserted in sorted order.

    - An event whose source or target is missing from ``actors`` still makes a node:
      kind ``unknown``, ``provisional=True``, label = its id. Nothing is dropped.
    - Self-references (``source == target``) are not edges (the resolver's contract);
      such an event only ensures its actor is a node.
    - Events of a type outside :data:`~mapper.records.REFERENCE_KINDS` count in
      ``count`` and ``weight`` but have no per-kind column of their own.
    - Naive event times are taken as UTC.

    Examples
    --------
    >>> from mapper.records import Actor, EdgeEvent
    >>> actors = {"a": Actor("a", "Ann"), "b": Actor("b", "Bob")}
    >>> events = [EdgeEvent("a", "b", "repost", "x:1"), EdgeEvent("a", "b", "mention", "x:2")]
    >>> G = build_graph(events, actors)
    >>> G["a"]["b"]["weight"], G["a"]["b"]["count"], G["a"]["b"]["repost"]
    (3.0, 2, 1)
    """
    weights = checked_options(type_weights, max_evidence)
    with gc_paused():
        return _aggregate(
            events,
            actors,
            weights=weights,
            max_evidence=max_evidence,
            topics=topics,
            name=name,
            include_isolates=include_isolates,
            evidence_table=evidence_table,
        )


def checked_options(
    type_weights: Mapping[str, float] | None, max_evidence: int
) -> dict[str, float]:
    """The weight of each reference type (the defaults with ``type_weights`` over them),
    after checking ``type_weights`` and ``max_evidence``; a :class:`GraphError` names
    the option that is wrong."""
    if isinstance(max_evidence, bool) or not isinstance(max_evidence, int) or max_evidence < 0:
        raise GraphError(
            f"max_evidence must be a non-negative integer, not {max_evidence!r}",
            field="max_evidence",
        )
    weights: dict[str, float] = dict(DEFAULT_TYPE_WEIGHTS)
    for kind, value in (type_weights or {}).items():
        weights[str(kind)] = _checked_weight(value, what=f"type_weights.{kind}")
    return weights


def type_slots(weights: Mapping[str, float]) -> tuple[dict[str, int], list[str]]:
    """Each reference type's slot in an edge record (the known kinds first, in order,
    then the other weighted types) and the types in slot order."""
    type_index: dict[str, int] = {kind: i for i, kind in enumerate(REFERENCE_KINDS)}
    for kind in weights:
        type_index.setdefault(kind, len(type_index))
    return type_index, list(type_index)


def _aggregate(
    events: Iterable[EdgeEvent],
    actors: Mapping[str, Actor],
    *,
    weights: dict[str, float],
    max_evidence: int,
    topics: Mapping[str, Mapping[str, int]] | None,
    name: str,
    include_isolates: bool,
    evidence_table: bool = False,
) -> nx.DiGraph:
    """The single streaming pass of :func:`build_graph`, then the sorted build."""
    # Each event type gets a slot index; an edge record holds a flat list of counts,
    # two per type: [2*i] all events of type i, [2*i+1] those weighted by type.
    type_index, type_list = type_slots(weights)

    # rec = [counts, explicit-weight partials or None, first, last, evidence keys,
    #        threshold]. Evidence keys are appended unsorted and pruned to the k
    # smallest distinct ones whenever 2k accumulate; after a prune the k-th smallest
    # is the threshold a new key must beat, so most late events cost one comparison.
    edges: dict[tuple[str, str], list[Any]] = {}
    endpoints: set[str] = set()

    fold_events(events, edges, endpoints, type_index, type_list, max_evidence)
    return graph_from_records(
        edges,
        endpoints,
        actors,
        type_list=type_list,
        weights=weights,
        max_evidence=max_evidence,
        topics=topics,
        name=name,
        include_isolates=include_isolates,
        evidence_table=evidence_table,
    )


def fold_events(
    events: Iterable[EdgeEvent],
    edges: dict[tuple[str, str], list[Any]],
    endpoints: set[str],
    type_index: dict[str, int],
    type_list: list[str],
    k: int,
) -> None:
    """Add ``events`` into the aggregation records ``edges`` (see :func:`_aggregate`
    for their layout), in place: the streaming pass of :func:`build_graph`, shared by
    the engines that aggregate in parts (:mod:`mapper.engine.partitions`). Self-ties
    only add their actor to ``endpoints``; an unseen event type gets the next slot of
    ``type_index`` and ``type_list``. ``k`` is the number of evidence items kept."""
    prune_at = max(2 * k, 8)
    no_time = _NO_TIME
    width = 2 * len(type_index)
    for ev in events:
        source = ev.source
        target = ev.target
        if source == target:
            endpoints.add(source)
            continue
        rec = edges.get((source, target))
        if rec is None:
            rec = [[0] * width, None, None, None, [], None]
            edges[(source, target)] = rec
        etype = ev.type
        ti = type_index.get(etype)
        if ti is None:
            ti = len(type_index)
            type_index[etype] = ti
            type_list.append(etype)
            width += 2
        counts = rec[0]
        j = 2 * ti
        if j >= len(counts):
            counts.extend([0] * (j + 2 - len(counts)))
        counts[j] += 1
        w = ev.weight
        if w is None:
            counts[j + 1] += 1
        else:
            if w.__class__ is not float or not math.isfinite(w):
                w = _checked_weight(w, what="weight", source=ev.post)
            if rec[1] is None:
                rec[1] = [w]
            else:
                _add_exact(rec[1], w)

        time = ev.time
        if time is not None:
            if time.tzinfo is not UTC:
                time = utc(time)
            if rec[2] is None or time < rec[2]:
                rec[2] = time
            if rec[3] is None or time > rec[3]:
                rec[3] = time
            key = (False, time, ev.post, etype, ev.url or "", ev.snippet or "")
        else:
            key = (True, no_time, ev.post, etype, ev.url or "", ev.snippet or "")
        if k and (rec[5] is None or key < rec[5]):
            keys = rec[4]
            keys.append(key)
            if len(keys) >= prune_at:
                keys = sorted(set(keys))[:k]
                rec[4] = keys
                rec[5] = keys[-1] if len(keys) == k else None


def graph_from_records(
    edges: dict[tuple[str, str], list[Any]],
    endpoints: set[str],
    actors: Mapping[str, Actor],
    *,
    type_list: list[str],
    weights: Mapping[str, float],
    max_evidence: int,
    topics: Mapping[str, Mapping[str, int]] | None,
    name: str,
    include_isolates: bool = False,
    evidence_table: bool = False,
) -> nx.DiGraph:
    """The graph of the aggregation records: nodes and edges inserted in sorted order.
    ``endpoints`` is not changed; with ``evidence_table`` the records are freed once
    their evidence is in the table."""
    endpoints = set(endpoints)
    for source, target in edges:
        endpoints.add(source)
        endpoints.add(target)
    if include_isolates:
        endpoints.update(actors)

    try:
        node_order = sorted(endpoints)
        edge_order = sorted(edges)
    except TypeError:
        raise GraphError(
            "actor ids must all be str", hint="convert platform ids with str() upstream"
        ) from None
    G = nx.DiGraph()
    G.graph["name"] = name
    for node in node_order:
        attrs = node_attributes(node, actors.get(node))
        if topics is not None:
            attrs["topics"] = _topic_counts(topics.get(node))
        G.add_node(node, **attrs)

    type_weight_list = [weights.get(t, UNKNOWN_TYPE_WEIGHT) for t in type_list]
    collected: dict[str, list[Any]] | None = None
    item_counts: list[int] = []
    if evidence_table:
        collected = {name: [] for name in ("post", "type", "url", "time", "snippet")}
    rows = _edge_rows(
        edge_order, edges, type_weight_list, max_evidence, collect=collected, counts=item_counts
    )
    succ, pred = getattr(G, "_succ", None), getattr(G, "_pred", None)
    if isinstance(succ, dict) and isinstance(pred, dict) and G.edge_attr_dict_factory is dict:
        # What add_edges_from does for new edges between existing nodes, without
        # copying every attribute dict into a fresh one (a fifth of the build at
        # 1M posts): both adjacency sides share the one dict, as networkx's do.
        for u, v, data in rows:
            succ[u][v] = data
            pred[v][u] = data
    else:  # pragma: no cover - a networkx without these internals
        G.add_edges_from(rows)
    if collected is not None:
        from mapper.graph.evidence import EvidenceTable

        edges.clear()  # the aggregation records are done with: free them first
        G.graph["evidence"] = EvidenceTable(node_order, edge_order, item_counts, collected)
    return G


def _edge_rows(
    order: list[tuple[str, str]],
    edges: dict[tuple[str, str], list[Any]],
    type_weights: list[float],
    k: int,
    *,
    collect: dict[str, list[Any]] | None = None,
    counts: list[int] | None = None,
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Turn the aggregation records into ``(source, target, attributes)`` in ``order``.

    The per-type part of the weight is a fixed-order sum of count times type weight
    (the counts do not depend on event order); explicit weights join it through
    ``math.fsum`` of their exact partial sums. With ``collect`` (columns ``post``,
    ``type``, ``url``, ``time``, ``snippet``), each edge's evidence items are
    appended there (their number to ``counts``) and its ``evidence`` is the marker
    :data:`~mapper.graph.evidence.IN_TABLE`.
    """
    from mapper.graph.evidence import IN_TABLE

    if collect is not None:
        posts, types, urls = collect["post"], collect["type"], collect["url"]
        times, snippets = collect["time"], collect["snippet"]
        n_items = counts if counts is not None else []
    mul = operator.mul
    # The record layout the literal below relies on: REFERENCE_KINDS take the first
    # slots (counts[0:12:2]), in this order, and every record is at least that wide.
    assert REFERENCE_KINDS == ("mention", "reply", "repost", "quote", "link", "name")
    for edge in order:
        counts, partials, first, last, keys, _ = edges[edge]
        weight = sum(map(mul, counts[1::2], type_weights))
        if partials:
            weight = math.fsum([weight, *partials])
        if len(keys) > 1:
            keys = sorted(set(keys))[:k]
        evidence: Any
        if collect is not None:
            for key in keys:
                posts.append(key[2])
                types.append(key[3])
                urls.append(key[4])
                times.append(None if key[0] else key[1])
                snippets.append(key[5])
            n_items.append(len(keys))
            evidence = IN_TABLE
        else:
            evidence = [
                {
                    "post": key[2],
                    "type": key[3],
                    "url": key[4],
                    "time": None if key[0] else key[1],
                    "snippet": key[5],
                }
                for key in keys
            ]
        data: dict[str, Any] = {
            "weight": float(weight),
            "count": sum(counts[0::2]),
            "mention": counts[0],
            "reply": counts[2],
            "repost": counts[4],
            "quote": counts[6],
            "link": counts[8],
            "name": counts[10],
            "first": first,
            "last": last,
            "evidence": evidence,
        }
        yield edge[0], edge[1], data
