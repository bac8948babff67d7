"""Ready-made networks (GEXF, GraphML, GML): read them, and merge them into the actor
graph with everything they carry.

:func:`read_graph_file` reads a file as a weighted ``nx.DiGraph``: node keys are
strings, every node keeps the attributes the file gives it (a ground-truth ``value``,
a ``club``...), every edge gets a float ``weight`` taken from the file's ``weight``
attribute, its ``value`` attribute (GML's habit), or an attribute the project names
(``weight = "strength"`` in the source), and an int ``count``. An undirected file stays
one tie per pair: each tie becomes one arc marked ``undirected``, so 613 ties in the
file are 613 ties in mapper, not 1,226. :func:`merge_graph_file` adds such a file to
the graph built from posts: node keys that name roster actors join them, the file's
attributes reach the nodes (and so ``nodes.csv`` and every export), and an attribute
whose name mapper uses itself (``faction``, ``kind``, ``influence``...) is kept as
``file_<name>`` instead of being overwritten or overwriting mapper's.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from mapper.collectors.base import require_file, wide_encoding
from mapper.errors import ImportFormatError

if TYPE_CHECKING:
    from mapper.resolve import Roster

__all__ = [
    "EDGE_ATTRIBUTES",
    "FILE_PREFIX",
    "NODE_ATTRIBUTES",
    "describe_graph_file",
    "merge_graph_file",
    "read_graph_file",
]

_GRAPH_FORMATS = {".gexf": "gexf", ".graphml": "graphml", ".gml": "gml"}
#: Edge keys that are the file's structure, not data (ids, multigraph keys).
_STRUCTURE_EDGE_KEYS = frozenset(("id", "key", "networkx_key"))
#: Edge attributes read as the weight when the source names none, in this order.
WEIGHT_ATTRIBUTES = ("weight", "value")

#: Node attributes mapper writes itself (the roster's, the graph's, the analyses' and
#: the maps'). A graph file's attribute of one of these names is kept under
#: :data:`FILE_PREFIX` + name. ``label``, ``kind`` and ``party`` name a node mapper
#: does not know yet (neither a roster actor nor an actor of the posts); for the
#: others the file's values are kept the same way.
NODE_ATTRIBUTES = frozenset(
    (
        "label",
        "kind",
        "party",
        "declared_faction",
        "provisional",
        "x",
        "bluesky",
        "mastodon",
        "topics",
        "influence",
        "faction",
        "faction_name",
        "stability",
        "component",
        "unassigned",
        "pos_x",
        "pos_y",
        "bridge_score",
        "is_bridge",
        "betweenness",
        "participation",
        "within_z",
        "brokerage",
        "role",
        "viz",
        "original_id",
        "actor_id",
    )
)
#: Edge attributes mapper writes itself; a file's edge attribute of one of these names
#: is kept under :data:`FILE_PREFIX` + name.
EDGE_ATTRIBUTES = frozenset(
    (
        "weight",
        "count",
        "evidence",
        "first",
        "last",
        "mention",
        "reply",
        "repost",
        "quote",
        "link",
        "name",
        "undirected",
    )
)
#: What a file's attribute whose name mapper uses is renamed to: ``file_faction``...
FILE_PREFIX = "file_"

#: Parsed graph files by (path, size, mtime, weight option): a project's graph files
#: are read once when the run reports them and again when they are merged.
_CACHE: dict[tuple[str, int, int, str | None], nx.DiGraph] = {}
_CACHE_SIZE = 4


# --------------------------------------------------------------------------- reading


def read_graph_file(path: str | Path, *, weight: str | None = None) -> nx.DiGraph:
    """Read a GEXF, GraphML or GML file as a weighted ``nx.DiGraph``.

    Parameters
    ----------
    path : str or Path
        ``.gexf``, ``.graphml`` or ``.gml``.
    weight : str, optional
        The edge attribute that holds the tie weight. By default ``weight``, else
        ``value`` (the first that any edge of the file has); without either every
        edge weighs 1.

    Returns
    -------
    nx.DiGraph
        Node keys are strings: the file's node ids for GEXF and GraphML; for GML the
        labels when every node has a distinct one (networkx's convention), else the
        ids. Every node keeps the file's attributes and has a ``label`` (the file's, or
        the key). Every edge has a float ``weight`` (1.0 where the weight attribute is
        missing), an int ``count`` (file edges merged into it) and the file's other
        attributes (the weight attribute itself is not repeated). Graph attributes:
        ``directed_source`` (whether the file was directed), ``weight_attribute`` (the
        attribute read as weight, or ``None``).

    Raises
    ------
    ImportFormatError
        For an unknown extension, a missing file or a folder, a file that is not
        readable as its extension says, a weight that is not a finite number >= 0,
        or a ``weight`` attribute that no edge has (each naming the file).

    Notes
    -----
    Parallel edges are merged, their weights summed; GML files with repeated edges,
    which ``networkx.read_gml`` refuses unless the file declares ``multigraph 1``, are
    read as multigraphs and merged the same way. In an undirected file ``u -- v`` is
    one tie: it becomes the one arc ``u -> v`` (its ends in the order the file first
    gives them) with ``undirected=True``, and ``v -- u`` later in the file is the same
    tie. The analyses read ties on the undirected projection, where that arc weighs
    ``w`` like the file's tie; influence (PageRank) lets an ``undirected`` arc pass
    influence both ways.
    """
    p = Path(path)
    fmt = _GRAPH_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ImportFormatError(
            f"unknown graph file type {p.suffix!r}",
            source=p,
            hint="use .gexf, .graphml or .gml",
        )
    require_file(p)
    try:
        if fmt == "gexf":
            G = nx.read_gexf(p)
        elif fmt == "graphml":
            G = nx.read_graphml(p)
        else:
            G = _read_gml_lenient(p)
    except ImportFormatError:
        raise
    except Exception as exc:  # parsers raise anything from ParseError to KeyError
        message = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ImportFormatError(f"not a readable {fmt.upper()} file: {message}", source=p) from exc
    return _to_weighted_digraph(G, p, relabel_by_label=(fmt == "gml"), weight=weight)


def _read_gml_lenient(path: Path) -> nx.Graph:
    data = path.read_bytes()
    encoding = wide_encoding(data[:256])
    if encoding is not None:  # GML saved as UTF-16 or UTF-32 (Windows tools): decode it
        if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
            codec = encoding.lower()  # the byte order mark says the byte order
        else:
            codec = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        try:
            text = data.decode(codec).removeprefix("\ufeff")
        except UnicodeDecodeError:
            raise ImportFormatError(f"not a GML file ({encoding} text)", source=path) from None
    else:
        if b"\x00" in data[:4096]:
            raise ImportFormatError("not a GML file (binary data)", source=path)
        text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    match = re.search(r"\bgraph\s*\[", text)
    if match is None:
        raise ImportFormatError("not a GML file (no 'graph [' block)", source=path)
    body = re.sub(r"\bmultigraph\s+\d+", " ", text[match.end() :])
    text = text[: match.end()] + "\n  multigraph 1\n" + body
    return nx.parse_gml(text.splitlines(), label="id")


def _weight_attribute(G: nx.Graph, path: Path, option: str | None) -> str | None:
    """The edge attribute read as weight (see :func:`read_graph_file`)."""
    names: set[str] = set()
    for *_ends, data in G.edges(data=True):
        names.update(str(k) for k in data)
    if option:
        if option not in names and G.number_of_edges():
            found = ", ".join(sorted(names - _STRUCTURE_EDGE_KEYS)[:8]) or "none"
            raise ImportFormatError(
                f"no edge has a {option!r} attribute",
                source=path,
                field="weight",
                hint=f"edge attributes in the file: {found}",
            )
        return option
    return next((name for name in WEIGHT_ATTRIBUTES if name in names), None)


def _to_weighted_digraph(
    G: nx.Graph, path: Path, *, relabel_by_label: bool, weight: str | None
) -> nx.DiGraph:
    keys: dict[Any, str] = {n: str(n) for n in G.nodes}
    if relabel_by_label:
        labels = [G.nodes[n].get("label") for n in G.nodes]
        texts = [str(label) for label in labels if label not in (None, "")]
        if len(texts) == len(labels) and len(set(texts)) == len(texts):
            keys = {n: str(G.nodes[n]["label"]) for n in G.nodes}
    attribute = _weight_attribute(G, path, weight)
    drop = _STRUCTURE_EDGE_KEYS | {"weight", "count"} | ({attribute} if attribute else set())
    D = nx.DiGraph()
    D.graph.update(
        {
            k: v
            for k, v in G.graph.items()
            if k not in ("multigraph", "directed", "mode", "node_default", "edge_default")
        }
    )
    directed = G.is_directed()
    D.graph["directed_source"] = directed
    D.graph["weight_attribute"] = attribute
    for n, data in G.nodes(data=True):
        attrs = dict(data)
        label = attrs.get("label")
        attrs["label"] = str(label) if label not in (None, "") else keys[n]
        D.add_node(keys[n], **attrs)
    for u, v, data in G.edges(data=True):
        w = _edge_number(data.get(attribute, 1.0) if attribute else 1.0, path, attribute)
        count = int(_edge_number(data["count"], path, "count")) if "count" in data else 1
        a, b = keys[u], keys[v]
        if not directed and not D.has_edge(a, b) and D.has_edge(b, a):
            a, b = b, a  # the same undirected tie, given the other way round
        if D.has_edge(a, b):
            D[a][b]["weight"] += w
            D[a][b]["count"] += count
        else:
            attrs = {k: val for k, val in data.items() if k not in drop}
            if not directed:
                attrs["undirected"] = True
            D.add_edge(a, b, **attrs, weight=w, count=count)
    return D


def _edge_number(value: Any, path: Path, name: str | None) -> float:
    name = name or "weight"
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ImportFormatError(
            f"edge {name} {value!r} is not a number", source=path, field=name
        ) from exc
    if not math.isfinite(number):
        raise ImportFormatError(f"edge {name} {value!r} is not finite", source=path, field=name)
    if number < 0:
        raise ImportFormatError(
            f"edge {name} {value!r} is negative",
            source=path,
            field=name,
            hint="tie weights are strengths, 0 or more",
        )
    return number


def _cached(path: Path, weight: str | None) -> nx.DiGraph:
    """:func:`read_graph_file`, remembered while the file does not change."""
    require_file(path)
    st = path.stat()
    key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, weight)
    graph = _CACHE.get(key)
    if graph is None:
        graph = read_graph_file(path, weight=weight)
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = graph
    return graph


# --------------------------------------------------------------------------- merging


def _renamed(names: Iterable[str], reserved: Iterable[str]) -> dict[str, str]:
    """``{name: file_<name>}`` for the names among ``names`` that are ``reserved``."""
    taken = set(reserved)
    return {name: FILE_PREFIX + name for name in sorted(set(names) & taken)}


def describe_graph_file(path: str | Path, *, weight: str | None = None) -> dict[str, Any]:
    """What a graph file holds, for the import results of a run.

    Returns
    -------
    dict
        ``source``, ``type`` (``"graph"``), ``nodes``, ``ties`` (one per undirected
        tie; a node's tie to itself is not counted: a run leaves it out),
        ``self_loops`` (how many such ties the file has), ``directed``,
        ``weight_attribute`` (or ``None``), ``node_attributes``
        (the file's own, sorted) and ``renamed`` (``{name: file_<name>}`` for those
        mapper uses itself, :data:`NODE_ATTRIBUTES`; whether ``label``, ``kind`` and
        ``party`` are renamed depends on the graph, see :func:`merge_graph_file`).

    Raises
    ------
    ImportFormatError
        As :func:`read_graph_file`.
    """
    p = Path(path)
    other = _cached(p, weight)
    names = {str(k) for _n, data in other.nodes(data=True) for k in data}
    return {
        "source": str(p),
        "type": "graph",
        "nodes": other.number_of_nodes(),
        "ties": other.number_of_edges() - nx.number_of_selfloops(other),
        "self_loops": nx.number_of_selfloops(other),
        "directed": bool(other.graph.get("directed_source", True)),
        "weight_attribute": other.graph.get("weight_attribute"),
        "node_attributes": sorted(names - {"label"}),
        "renamed": _renamed(names - {"label", "kind", "party"}, NODE_ATTRIBUTES),
    }


def merge_graph_file(
    G: nx.DiGraph,
    path: str | Path,
    *,
    roster: Roster | None = None,
    weight: str | None = None,
) -> dict[str, Any]:
    """Add the nodes, attributes and weighted ties of a GEXF, GraphML or GML file to ``G``.

    Parameters
    ----------
    G : nx.DiGraph
        The actor graph (changed in place).
    path : str or Path
        The graph file.
    roster : Roster, optional
        Node keys that name a roster actor (by id, or by handle on any platform) join
        that actor.
    weight : str, optional
        The edge attribute holding the weight (see :func:`read_graph_file`).

    Returns
    -------
    dict
        :func:`describe_graph_file`'s summary, with ``renamed`` the attributes actually
        renamed on ``G``.

    Raises
    ------
    ImportFormatError
        As :func:`read_graph_file`; ``G`` is then unchanged.

    Notes
    -----
    A node new to ``G`` gets the roster actor's attributes, or (an actor mapper does
    not know) is provisional and takes its ``label``, ``kind`` and ``party`` from the
    file. Every other attribute of the file is copied onto the node, new or not; one
    whose name mapper uses itself (:data:`NODE_ATTRIBUTES`) is stored as
    ``file_<name>``, as are the file's ``label``, ``kind`` and ``party`` of an actor
    mapper already knows (when they differ from mapper's). A file tie adds its weight and count
    to an existing arc (for an undirected tie, the arc in either direction); a new
    arc keeps the file's edge attributes (``file_<name>`` for those in
    :data:`EDGE_ATTRIBUTES`), has no evidence and no times, and is marked
    ``undirected`` when the file was. ``G.graph["undirected_ties"]`` counts those
    arcs, for :func:`mapper.graph.influence`.
    """
    from mapper.graph.build import node_attributes

    p = Path(path)
    other = _cached(p, weight)
    summary = describe_graph_file(p, weight=weight)
    mapping: dict[str, str] = {}
    for node in other.nodes:
        key = str(node)
        actor = None
        if roster is not None:
            actor = roster.actors.get(key) or roster.by_handle("table", key)
        mapping[key] = actor.id if actor else key
    reserved = NODE_ATTRIBUTES | set(node_attributes("", None))
    renamed: dict[str, str] = {}
    for node, data in other.nodes(data=True):
        nid = mapping[str(node)]
        known = nid in G or (roster is not None and nid in roster.actors)
        if nid not in G:
            actor = roster.actors.get(nid) if roster is not None else None
            attrs = node_attributes(nid, actor)
            if actor is None:
                for name in ("label", "kind", "party"):
                    value = data.get(name)
                    if value not in (None, ""):
                        attrs[name] = str(value)
            G.add_node(nid, **attrs)
        target = G.nodes[nid]
        for name, value in data.items():
            key = str(name)
            if key in ("label", "kind", "party") and not known:
                continue  # taken as the node's own above
            if key in reserved:
                if key in ("label", "kind", "party") and str(value) == str(target.get(key)):
                    continue  # the file agrees with mapper: nothing to keep apart
                renamed[key] = FILE_PREFIX + key
                key = FILE_PREFIX + key
            target[key] = value
    undirected = 0
    for u, v, data in other.edges(data=True):
        a, b = mapping[str(u)], mapping[str(v)]
        if a == b:
            continue
        if data.get("undirected") and not G.has_edge(a, b) and G.has_edge(b, a):
            a, b = b, a
        w, count = float(data["weight"]), int(data["count"])
        if G.has_edge(a, b):
            arc = G[a][b]
            arc["weight"] = float(arc.get("weight", 0.0)) + w
            arc["count"] = int(arc.get("count", 0)) + count
            extra = _edge_extra(data)
            for key, value in extra.items():
                arc.setdefault(key, value)
        else:
            G.add_edge(
                a, b, **_edge_extra(data), weight=w, count=count, evidence=[], first=None, last=None
            )
            if data.get("undirected"):
                G[a][b]["undirected"] = True
                undirected += 1
    if undirected:
        G.graph["undirected_ties"] = int(G.graph.get("undirected_ties", 0)) + undirected
    summary["renamed"] = dict(sorted(renamed.items()))
    return summary


def _edge_extra(data: Mapping[str, Any]) -> dict[str, Any]:
    """A file edge's own attributes, renamed where mapper uses the name."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        key = str(name)
        if key in ("weight", "count", "undirected"):
            continue
        out[FILE_PREFIX + key if key in EDGE_ATTRIBUTES else key] = value
    return out
