"""Visual layout shared by the maps, the images and the report.

This module decides how a graph looks before any HTML or PNG is written: which group
(faction) colours an actor, which shape its kind gets, how big it is drawn, which
actors and ties are shown when the graph is larger than a page can hold, and where
every actor sits. Everything here is deterministic for a given graph and seed and
never mutates the graph it is given.
"""

from __future__ import annotations

import contextvars
import functools
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import networkx as nx

from mapper.text import LABEL_LENGTH, TEXT_LENGTH, display_label, display_text

#: Fill colours for the groups (factions), in order of group size. Tableau-like hues
#: first, then lighter variants; groups beyond the palette share
#: :data:`OTHER_GROUPS_COLOUR`, actors in no group :data:`OTHER_COLOUR`.
PALETTE: tuple[str, ...] = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#59a14f",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#17becf",
    "#bcbd22",
    "#1f3a93",
    "#a0cbe8",
    "#ffbe7d",
    "#8cd17d",
    "#d4a6c8",
    "#86bcb6",
    "#f1ce63",
    "#d37295",
    "#6b6ecf",
)
#: Colour of actors in no group (the "unassigned" actors of the faction analysis).
OTHER_COLOUR = "#c7c7c7"
#: Colour of the groups beyond the palette ("other factions"): a warm grey-brown,
#: darker than :data:`OTHER_COLOUR` so the two never read as one group.
OTHER_GROUPS_COLOUR = "#9c8f7a"
#: Group id of actors in no group.
UNASSIGNED = -1
#: Group id that stands for every group beyond the palette on maps and legends.
OTHER_GROUPS = -2
#: At most this many bridge figures carry the bridge outline on a map, whatever the
#: size of the graph: the highest ``bridge_score`` among the ``is_bridge`` actors.
BRIDGE_OUTLINES = 20
#: Outline of bridge figures (drawn thicker than the ordinary outline).
BRIDGE_BORDER = "#111111"

#: vis-network shape for each actor kind (shapes with the label underneath).
KIND_SHAPES: dict[str, str] = {
    "commentator": "dot",
    "mp": "diamond",
    "party": "star",
    "organisation": "square",
    "media": "hexagon",
    "union": "triangle",
    "campaign": "triangleDown",
    "other": "dot",
    "unknown": "dot",
}
#: matplotlib marker for each actor kind, matching :data:`KIND_SHAPES`.
KIND_MARKERS: dict[str, str] = {
    "commentator": "o",
    "mp": "D",
    "party": "*",
    "organisation": "s",
    "media": "h",
    "union": "^",
    "campaign": "v",
    "other": "o",
    "unknown": "o",
}
#: Display names of the kinds, in legend order.
KIND_NAMES: dict[str, str] = {
    "commentator": "Commentator",
    "mp": "MP",
    "party": "Party",
    "organisation": "Organisation",
    "media": "Media",
    "union": "Union",
    "campaign": "Campaign",
    "other": "Other",
    "unknown": "Unknown (provisional)",
}

#: Reference types an edge counts, in legend order.
EDGE_TYPES: tuple[str, ...] = ("mention", "reply", "repost", "quote", "link", "name")
#: Edge colour by dominant reference type.
EDGE_COLOURS: dict[str, str] = {
    "mention": "#7f8fa6",
    "reply": "#e07b39",
    "repost": "#3c9d5d",
    "quote": "#8e6bbf",
    "link": "#b5895a",
    "name": "#c45c8a",
}
#: Edge colour when no type count is known.
EDGE_DEFAULT_COLOUR = "#9a9a9a"

_HREF = re.compile(r"(?i)(hr)(ef)")
_ZWSP = "\u200b"


# ------------------------------------------------------------------------- cache

_CACHE: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar(
    "mapper_render_cache", default=None
)


@contextmanager
def render_cache() -> Iterator[None]:
    """Reuse per-graph results (groups, tooltip context, faction sums and brokers)
    between the maps, images and report drawn inside this block.

    :func:`mapper.render.render_all` draws a dozen pages of one graph; without the
    cache each recomputed the same grouping (16 times), faction tie sums (3) and
    brokers (2). The graphs must not change inside the block. Nested blocks share
    the outer cache.
    """
    token = _CACHE.set({}) if _CACHE.get() is None else None
    try:
        yield
    finally:
        if token is not None:
            _CACHE.reset(token)


def cached(key: tuple[Any, ...], pin: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """``compute()``, or its earlier result for ``key`` inside :func:`render_cache`.

    ``key`` names objects by ``id()``; ``pin`` holds those objects for as long as
    the cache lives, so an id cannot be reused by another object meanwhile.
    """
    cache = _CACHE.get()
    if cache is None:
        return compute()
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = (pin, compute())
    return hit[1]


# --------------------------------------------------------------------------- text


def check_graph(G: Any) -> None:
    """Refuse inputs the renderers cannot draw (not a graph, or a multigraph).

    Raises
    ------
    RenderError
        With a hint on what to pass instead.
    """
    from mapper.errors import RenderError

    if not isinstance(G, nx.Graph):
        raise RenderError(
            f"expected a networkx graph, got {type(G).__name__}",
            hint="pass the graph returned by mapper.graph.build_graph",
        )
    if G.is_multigraph():
        raise RenderError(
            "multigraphs are not supported",
            hint="collapse parallel edges into one weighted edge (build_graph does)",
        )


def clean_text(value: Any, *, max_length: int | None = TEXT_LENGTH, one_line: bool = False) -> str:
    """Return ``value`` as display text: :func:`mapper.text.display_text`.

    Control, bidirectional and zero-width characters are removed, lone surrogates
    replaced (so the text can always be written as UTF-8) and text longer than
    ``max_length`` (by default :data:`mapper.text.TEXT_LENGTH`) is cut at a word
    boundary with an ellipsis.

    Parameters
    ----------
    value : object
        Anything; ``None`` becomes the empty string.
    max_length : int, optional
        Maximum number of characters of the result; ``None`` for no cap.
    one_line : bool
        Fold line breaks and runs of white space into single spaces.

    Returns
    -------
    str
    """
    return display_text(value, max_length=max_length, one_line=one_line)


def label_text(value: Any, max_length: int = LABEL_LENGTH) -> str:
    """A name on one line, capped at :data:`mapper.text.LABEL_LENGTH` characters."""
    return display_label(value, max_length)


def plain_title(text: str) -> str:
    """Make ``text`` safe as a vis-network tooltip (a plain-text ``title``).

    Control characters are removed and every ``href`` (any case) gets a zero-width
    space inside it: pyvis switches every popup of a page to ``innerHTML`` as soon as
    one title contains the substring ``href``, so no title may ever contain it.
    """
    return _HREF.sub(lambda m: m.group(1) + _ZWSP + m.group(2), clean_text(text, max_length=4000))


def format_time(value: Any) -> str:
    """Format a datetime or date (or ISO text) as ``YYYY-MM-DD``; empty when unknown."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    text = clean_text(value, one_line=True)
    return text[:10]


def number(value: Any, default: float = 0.0) -> float:
    """Return ``value`` as a finite float, or ``default`` (None, NaN, text, bool...)."""
    if value is None or isinstance(value, bool):
        return default
    try:
        result = float(value)
    except (TypeError, ValueError):
        return default
    return result if math.isfinite(result) else default


def truthy(value: Any) -> bool:
    """Interpret a flag that may arrive as bool, number or text (``"true"``, ``"1"``)."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y"}
    if value is None:
        return False
    try:
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


def node_label(G: nx.Graph, node: Hashable) -> str:
    """Display name of ``node``: its ``label`` attribute, else its id (one line, at
    most :data:`mapper.text.LABEL_LENGTH` characters)."""
    label = label_text(G.nodes[node].get("label"))
    return label or label_text(node) or "?"


def node_kind(G: nx.Graph, node: Hashable) -> str:
    """Kind of ``node`` (``commentator``, ``mp``...), ``unknown`` when missing."""
    kind = label_text(G.nodes[node].get("kind"), 60).lower()
    return kind or "unknown"


def kind_shape(kind: str) -> str:
    """vis-network shape for an actor kind (``dot`` for kinds the map does not know)."""
    return KIND_SHAPES.get(kind, "dot")


def kind_marker(kind: str) -> str:
    """matplotlib marker for an actor kind (``o`` for kinds the map does not know)."""
    return KIND_MARKERS.get(kind, "o")


def kind_name(kind: str) -> str:
    """Legend name of an actor kind."""
    return KIND_NAMES.get(kind, label_text(kind, 60).capitalize() or "Unknown")


#: Actor ids longer than this are shortened in the pages (with a digest, so they stay
#: distinct): an id is written once per actor and twice per tie.
VIS_ID_LENGTH = 256


def vis_ids(G: nx.Graph) -> dict[Hashable, str]:
    """Map every node to the string id used in the page (actor ids are strings already).

    Two nodes whose ``str()`` collide (``1`` and ``"1"``) get distinct ids; ids
    longer than :data:`VIS_ID_LENGTH` characters are shortened to their start and a
    SHA-256 digest.
    """
    import hashlib

    ids: dict[Hashable, str] = {}
    used: set[str] = set()
    for node in G.nodes:
        base = node if isinstance(node, str) else str(node)
        if len(base) > VIS_ID_LENGTH:
            digest = hashlib.sha256(base.encode("utf-8", "replace")).hexdigest()[:24]
            base = f"{base[:160]}…#{digest}"
        candidate = base
        suffix = 1
        while candidate in used:
            suffix += 1
            candidate = f"{base}#{suffix}"
        used.add(candidate)
        ids[node] = candidate
    return ids


def shared_labels(shared: Any, limit: int = 8) -> list[str]:
    """Readable labels of what an alliance opportunity's factions share.

    Accepts a list of strings, or the alliance analysis' mapping of kind ->
    list of ``{"label", "contribution", ...}`` (largest contribution first).
    """
    if shared is None or shared == "":
        return []
    if isinstance(shared, str):
        return [label_text(shared, 60)]
    items: list[tuple[float, str]] = []
    values: Iterable[Any]
    if isinstance(shared, Mapping):
        values = [v for group in shared.values() if isinstance(group, list | tuple) for v in group]
    elif isinstance(shared, Iterable):
        values = shared
    else:
        values = [shared]
    for value in values:
        if isinstance(value, Mapping):
            text = value.get("label") or value.get("item") or value.get("name")
            items.append((-number(value.get("contribution")), label_text(text)))
        else:
            items.append((0.0, label_text(value)))
    items.sort(key=lambda item: item[0])
    labels = [label_text(text, 60) for _, text in items if text]
    return labels[:limit]


def introduction_ends(row: Mapping[str, Any]) -> tuple[Any, Any, Any, Any, Any]:
    """``(source, target, broker, faction_a, faction_b)`` of a suggested introduction.

    Accepts both ``source``/``target``/``faction_a``/``faction_b`` and the alliance
    analysis' ``actor_a``/``actor_b``/``a``/``b``.
    """
    source = row.get("source", row.get("actor_a"))
    target = row.get("target", row.get("actor_b"))
    faction_a = row.get("faction_a", row.get("a"))
    faction_b = row.get("faction_b", row.get("b"))
    return source, target, row.get("broker"), faction_a, faction_b


# ------------------------------------------------------------------------ colours


def darken(colour: str, factor: float = 0.7) -> str:
    """Return ``#rrggbb`` ``colour`` with each channel multiplied by ``factor``."""
    value = colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return "#{:02x}{:02x}{:02x}".format(*(max(0, min(255, round(c * factor))) for c in (r, g, b)))


def _group_id(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    try:
        as_float = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(as_float) or as_float != int(as_float):
        return None
    return int(as_float)


@dataclass(frozen=True)
class Grouping:
    """How actors are grouped (and so coloured) on every map and image.

    The :data:`PALETTE` colours the largest groups, one colour each; the groups
    beyond it are drawn together as "other factions" (:data:`OTHER_GROUPS`, in
    :data:`OTHER_GROUPS_COLOUR`) and the actors in no group as "unassigned"
    (:data:`UNASSIGNED`, in :data:`OTHER_COLOUR`), so neither is mistaken for the
    other.

    Attributes
    ----------
    basis : str
        ``"faction"`` (from the analysis), ``"declared_faction"`` or ``"party"``
        (a graph before analysis), or ``"none"``.
    of_node : dict
        Group id of every node; ``-1`` means no group (``-2``, in a
        :meth:`collapsed` grouping, one of the smaller groups).
    names : dict[int, str]
        Display name of every group id (``-1`` included when used).
    sizes : dict[int, int]
        Number of actors in every group of the whole graph.
    order : list[int]
        Group ids by size (largest first), then ``-2`` and ``-1`` when used.
    merged : int
        In a :meth:`collapsed` grouping, the number of groups merged into ``-2``.
    """

    basis: str
    of_node: dict[Hashable, int]
    names: dict[int, str]
    sizes: dict[int, int]
    order: list[int] = field(default_factory=list)
    merged: int = 0
    rank: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ranked = (g for g in self.order if g >= 0)
        object.__setattr__(self, "rank", {g: i for i, g in enumerate(ranked)})

    @property
    def coloured(self) -> list[int]:
        """The groups with a colour of their own, largest first."""
        return [g for g, r in self.rank.items() if r < len(PALETTE)]

    def shown_group(self, group: int) -> int:
        """The group an actor of ``group`` is drawn and filtered as on a map: its own
        when it has a colour, :data:`OTHER_GROUPS` for the smaller groups,
        :data:`UNASSIGNED` for none."""
        if group < 0:
            return OTHER_GROUPS if group == OTHER_GROUPS else UNASSIGNED
        rank = self.rank.get(group)
        return group if rank is not None and rank < len(PALETTE) else OTHER_GROUPS

    def colour(self, group: int) -> str:
        """Fill colour of ``group``: the palette by size rank, then the colour of the
        other groups; the unassigned grey for no group (or a group not in the graph)."""
        if group == OTHER_GROUPS:
            return OTHER_GROUPS_COLOUR
        rank = self.rank.get(group) if group >= 0 else None
        if rank is None:
            return OTHER_COLOUR
        return PALETTE[rank] if rank < len(PALETTE) else OTHER_GROUPS_COLOUR

    def name(self, group: int) -> str:
        """Display name of ``group``."""
        if group in self.names:
            return self.names[group]
        if group == OTHER_GROUPS:
            return {
                "faction": "Other factions",
                "declared_faction": "Other declared factions",
                "party": "Other parties",
            }.get(self.basis, "Other groups")
        if group < 0:
            return "Unassigned" if self.basis == "faction" else "Not declared"
        return f"Faction {group}"

    def collapsed(self, keep: int) -> Grouping:
        """The same actors with the ``keep`` largest groups kept apart and the others
        merged into one group, :data:`OTHER_GROUPS` ("other factions").

        Returns ``self`` when there are no more than ``keep`` groups.
        """
        ranked = [g for g in self.order if g >= 0]
        if len(ranked) <= keep:
            return self
        kept = set(ranked[: max(0, keep)])
        of_node = {n: g if g < 0 or g in kept else OTHER_GROUPS for n, g in self.of_node.items()}
        sizes = dict(Counter(of_node.values()))
        names = {g: v for g, v in self.names.items() if g in kept or g == UNASSIGNED}
        order = [g for g in ranked if g in kept] + [OTHER_GROUPS]
        if UNASSIGNED in sizes:
            order.append(UNASSIGNED)
        merged = len(ranked) - len(kept) + self.merged
        return Grouping(self.basis, of_node, names, sizes, order, merged)

    @property
    def title(self) -> str:
        """What the colours mean, for legends."""
        return {
            "faction": "Factions (detected)",
            "declared_faction": "Declared factions (no analysis yet)",
            "party": "Parties (no analysis yet)",
        }.get(self.basis, "Actors")


def group_nodes(G: nx.Graph, names: Mapping[Any, Any] | None = None) -> Grouping:
    """Group the actors of ``G`` for colouring (see :func:`_group_nodes`); the same
    :class:`Grouping` object is returned again inside :func:`render_cache`."""
    try:
        key = None if names is None else tuple((type(k), k, v) for k, v in names.items())
        hash(key)
    except (TypeError, AttributeError):
        return _group_nodes(G, names)
    return cached(("group_nodes", id(G), key), (G,), lambda: _group_nodes(G, names))


def _group_nodes(G: nx.Graph, names: Mapping[Any, Any] | None = None) -> Grouping:
    """:func:`_grouping`; with ``names``, the groups of ``group_nodes(G)`` (cached)
    renamed, so the actors are grouped once however many name sets are asked for."""
    if not names:
        return _grouping(G, names)
    base = group_nodes(G)
    group_names = dict(base.names)
    for key, value in names.items():
        gid = _group_id(key)
        if gid == -1 and -1 in base.sizes:
            continue  # "Unassigned" / "Not declared" is not renamed
        if gid is not None and label_text(value):
            group_names[gid] = label_text(value)
    return Grouping(base.basis, base.of_node, group_names, base.sizes, base.order, base.merged)


def _grouping(G: nx.Graph, names: Mapping[Any, Any] | None = None) -> Grouping:
    """Group the actors of ``G`` for colouring.

    Uses the node attribute ``faction`` when any node has one (actors without one
    are unassigned; a graph whose actors are all ``faction_name = "unassigned"``
    has no faction at all); otherwise the roster's ``declared_faction``; otherwise
    ``party``; otherwise one group for everybody.

    Parameters
    ----------
    G : networkx.Graph
        The graph; not modified.
    names : mapping, optional
        Faction id -> display name; overrides the nodes' ``faction_name``.

    Returns
    -------
    Grouping
    """
    of_node: dict[Hashable, int] = {}
    raw = {n: _group_id(d.get("faction")) for n, d in G.nodes(data=True)}
    analysed = any(v is not None for v in raw.values()) or any(
        label_text(d.get("faction_name")).casefold() == "unassigned" for _, d in G.nodes(data=True)
    )
    if analysed:
        basis = "faction"
        name_votes: dict[int, Counter[str]] = {}
        for node, gid in raw.items():
            group = -1 if gid is None or gid < 0 else gid
            of_node[node] = group
            fname = label_text(G.nodes[node].get("faction_name"))
            if fname and group >= 0:
                name_votes.setdefault(group, Counter())[fname] += 1
        group_names = {
            g: sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            for g, votes in name_votes.items()
        }
    else:
        basis = "none"
        for attr in ("declared_faction", "party"):
            values = {n: label_text(d.get(attr)) for n, d in G.nodes(data=True)}
            if any(values.values()):
                basis = attr
                counts = Counter(v for v in values.values() if v)
                ranked = sorted(counts, key=lambda v: (-counts[v], v))
                index = {v: i for i, v in enumerate(ranked)}
                of_node = {n: index[v] if v else -1 for n, v in values.items()}
                group_names = {i: v for v, i in index.items()}
                break
        else:
            of_node = {n: 0 for n in G.nodes}
            group_names = {0: "All actors"} if of_node else {}
    if names:
        for key, value in names.items():
            gid = _group_id(key)
            if gid is not None and gid >= 0 and label_text(value):
                group_names[gid] = label_text(value)
    sizes = Counter(of_node.values())
    for gid in sizes:
        if gid >= 0:
            group_names.setdefault(gid, f"Faction {gid}")
    if -1 in sizes:
        group_names[-1] = "Unassigned" if basis == "faction" else "Not declared"
    order = sorted((g for g in sizes if g >= 0), key=lambda g: (-sizes[g], g))
    if -1 in sizes:
        order.append(-1)
    return Grouping(basis, of_node, group_names, dict(sizes), order)


# ---------------------------------------------------------------------- influence


def influence_scores(G: nx.Graph, weight: str = "weight") -> tuple[dict[Hashable, float], str]:
    """Return every actor's influence and what it is based on (see
    :func:`_influence_scores`; the same result again inside :func:`render_cache`,
    where it must not be modified)."""
    return cached(("influence_scores", id(G), weight), (G,), lambda: _influence_scores(G, weight))


def _influence_scores(G: nx.Graph, weight: str = "weight") -> tuple[dict[Hashable, float], str]:
    """Return every actor's influence and what it is based on.

    The node attribute ``influence`` (weighted PageRank) when any node has it;
    otherwise each actor's share of the weighted in-degree (a graph before analysis).

    Returns
    -------
    scores : dict
        Node -> non-negative score.
    basis : str
        ``"influence"`` or ``"in-weight"``.
    """
    if any(number(d.get("influence"), -1.0) >= 0 for _, d in G.nodes(data=True)):
        scores = {n: max(0.0, number(d.get("influence"))) for n, d in G.nodes(data=True)}
        return scores, "influence"
    if G.is_directed():
        strength = dict(G.in_degree(weight=weight))
    else:
        strength = dict(G.degree(weight=weight))
    total = sum(max(0.0, number(v)) for v in strength.values()) or 1.0
    return {n: max(0.0, number(strength.get(n))) / total for n in G.nodes}, "in-weight"


def bridge_info(data: Mapping[str, Any]) -> tuple[bool, float]:
    """Return ``(is_bridge, bridge_score)`` from a node's attributes."""
    return truthy(data.get("is_bridge")), number(data.get("bridge_score"))


def outlined_bridges(G: nx.Graph, limit: int = BRIDGE_OUTLINES) -> frozenset[Hashable]:
    """The bridge figures a map outlines: the ``limit`` actors with the highest
    ``bridge_score`` among those with ``is_bridge`` (ties broken by id).

    However many actors the analysis calls bridges (a tenth of a large graph can
    be), the outline marks only these few, so it still points at someone; maps and
    images of one graph outline the same actors. Cached inside :func:`render_cache`.
    """
    return cached(("outlined_bridges", id(G), limit), (G,), lambda: _outlined(G, limit))


def _outlined(G: nx.Graph, limit: int) -> frozenset[Hashable]:
    scored = [(n, bridge_info(d)) for n, d in G.nodes(data=True)]
    ranked = sorted(
        ((n, score) for n, (flag, score) in scored if flag), key=lambda x: (-x[1], str(x[0]))
    )
    return frozenset(n for n, _ in ranked[: max(0, int(limit))])


def edge_type_counts(data: Mapping[str, Any]) -> dict[str, int]:
    """Reference counts of an edge by type (only the types with a positive count)."""
    counts: dict[str, int] = {}
    for kind in EDGE_TYPES:
        value = int(number(data.get(kind)))
        if value > 0:
            counts[kind] = value
    return counts


def dominant_type(data: Mapping[str, Any]) -> str | None:
    """The reference type an edge carries most often (ties: legend order), or None."""
    counts = edge_type_counts(data)
    if not counts:
        return None
    return max(EDGE_TYPES, key=lambda k: (counts.get(k, 0), -EDGE_TYPES.index(k)))


def edge_weight(data: Mapping[str, Any], weight: str = "weight") -> float:
    """Weight of an edge: ``weight``, else ``count``, else 1."""
    value = number(data.get(weight), -1.0)
    if value < 0:
        value = number(data.get("count"), 1.0)
    return max(0.0, value)


@dataclass(frozen=True)
class EdgeArrays:
    """The ties of a graph as arrays, in edge order (for vectorised sums).

    Attributes
    ----------
    nodes : list
        The nodes, in graph order; ``src``/``dst`` index into it.
    src, dst : numpy.ndarray
        Endpoints of every tie.
    weight : numpy.ndarray
        :func:`edge_weight` of every tie.
    count : numpy.ndarray
        The ``count`` attribute as a float (:func:`number`), NaN where unusable.
    """

    nodes: list[Hashable]
    src: Any
    dst: Any
    weight: Any
    count: Any


def edge_arrays(G: nx.Graph, weight: str = "weight") -> EdgeArrays:
    """The ties of ``G`` as :class:`EdgeArrays` (once per graph inside
    :func:`render_cache`)."""
    return cached(("edge_arrays", id(G), weight), (G,), lambda: _edge_arrays(G, weight))


def _edge_arrays(G: nx.Graph, weight: str) -> EdgeArrays:
    import numpy as np

    nodes = list(G.nodes)
    m = G.number_of_edges()
    if m == 0:
        empty = np.empty(0)
        return EdgeArrays(nodes, empty.astype(np.int64), empty.astype(np.int64), empty, empty)
    get = {node: i for i, node in enumerate(nodes)}.__getitem__
    sources, targets, datas = zip(*G.edges(data=True), strict=True)
    src = np.fromiter(map(get, sources), dtype=np.int64, count=m)
    dst = np.fromiter(map(get, targets), dtype=np.int64, count=m)
    # The common case at C speed: every weight a finite, non-negative float (then
    # edge_weight() is the weight itself), every count an int.
    raw = [d.get(weight) for d in datas]
    weights = np.array(raw, dtype=np.float64) if set(map(type, raw)) == {float} else None
    if weights is None or not (np.isfinite(weights).all() and (weights >= 0).all()):
        weights = np.array([edge_weight(d, weight) for d in datas], dtype=np.float64)
    raw = [d.get("count") for d in datas]
    if set(map(type, raw)) == {int}:
        counts = np.array(raw, dtype=np.float64)
    else:
        nan = math.nan
        counts = np.array([number(d.get("count"), nan) for d in datas], dtype=np.float64)
    return EdgeArrays(nodes, src, dst, weights, counts)


# ---------------------------------------------------------------------- reduction


@dataclass
class View:
    """The part of a graph a map or image shows.

    Attributes
    ----------
    nodes : list
        Shown actors, in the graph's node order.
    edges : list[tuple]
        Shown ties ``(u, v)``, weakest first (so the strongest are drawn on top).
    nodes_total, edges_total : int
        Size of the whole graph.
    bridges_total, bridges_shown : int
        Bridge figures (``is_bridge``) in the graph and on the map.
    outlined_total, outlined_shown : int
        The bridge figures with the outline (:func:`outlined_bridges`) in the graph
        and on the map.
    """

    nodes: list[Hashable]
    edges: list[tuple[Hashable, Hashable]]
    nodes_total: int
    edges_total: int
    bridges_total: int = 0
    bridges_shown: int = 0
    outlined_total: int = 0
    outlined_shown: int = 0

    @property
    def reduced(self) -> bool:
        """True when some actors or ties are left out."""
        return len(self.nodes) < self.nodes_total or len(self.edges) < self.edges_total

    def notice(self) -> str:
        """A sentence saying what is shown, e.g. "Showing 1,500 of 48,210 actors..."."""
        if not self.reduced:
            return ""
        text = (
            f"Showing {len(self.nodes):,} of {self.nodes_total:,} actors and "
            f"{len(self.edges):,} of {self.edges_total:,} ties"
        )
        if len(self.nodes) < self.nodes_total:
            if not self.outlined_total:
                who = "the most influential actors"
            elif self.outlined_shown < self.outlined_total:
                who = (
                    f"the most influential actors and the top {self.outlined_shown:,} of "
                    f"{self.bridges_total:,} bridge figures"
                )
            elif self.bridges_shown == self.bridges_total:
                who = "the most influential actors and every bridge figure"
            else:
                who = (
                    f"the most influential actors and the {self.outlined_total:,} most "
                    f"significant of {self.bridges_total:,} bridge figures"
                )
            text += f" ({who}, with the strongest ties among them)"
        else:
            text += " (the strongest ties)"
        return text + "; the full graph is in the exports."


def select_view(
    G: nx.Graph,
    *,
    node_budget: int,
    edge_budget: int | None = None,
    weight: str = "weight",
    scores: Mapping[Hashable, float] | None = None,
    keep: Iterable[Hashable] = (),
    outlined: frozenset[Hashable] | None = None,
) -> View:
    """Choose what a map shows when the graph is larger than the budgets.

    The outlined bridge figures (:func:`outlined_bridges`: the most significant
    few; by ``bridge_score`` if they alone exceed the budget) are kept, then the
    most influential actors up to ``node_budget``; of the ties among them the
    ``edge_budget`` strongest are kept.

    Parameters
    ----------
    G : networkx.Graph
        The graph; not modified.
    node_budget : int
        Maximum number of actors shown (at least 1).
    edge_budget : int, optional
        Maximum number of ties shown; default ``4 * node_budget``.
    weight : str
        Edge attribute with the tie strength.
    scores : mapping, optional
        Influence per node (default: :func:`influence_scores`).
    keep : iterable, optional
        Actors shown whatever the budget (the focus of a neighbourhood map).
    outlined : frozenset, optional
        The outlined bridge figures (default ``outlined_bridges(G)``); a map of part
        of a graph passes those of the whole graph.

    Returns
    -------
    View

    Notes
    -----
    O(N log N + E log E). Ties are broken by node id so the result is deterministic.
    Inside :func:`render_cache` the same view is returned again for the same
    arguments (the network map and its PNG share it).
    """
    try:
        kept = tuple(keep)
        key = (
            "select_view",
            id(G),
            node_budget,
            edge_budget,
            weight,
            id(scores),
            kept,
            id(outlined),
        )
        hash(key)
    except TypeError:
        return _select_view(G, node_budget, edge_budget, weight, scores, keep, outlined)
    return cached(
        key,
        (G, scores, outlined),
        lambda: _select_view(G, node_budget, edge_budget, weight, scores, kept, outlined),
    )


def _select_view(
    G: nx.Graph,
    node_budget: int,
    edge_budget: int | None,
    weight: str,
    scores: Mapping[Hashable, float] | None,
    keep: Iterable[Hashable],
    outlined: frozenset[Hashable] | None = None,
) -> View:
    node_budget = max(1, int(node_budget))
    edge_budget = 4 * node_budget if edge_budget is None else max(0, int(edge_budget))
    if scores is None:
        scores, _ = influence_scores(G, weight)
    if outlined is None:
        outlined = outlined_bridges(G)
    bridges = [n for n, d in G.nodes(data=True) if bridge_info(d)[0]]
    significant = [n for n in bridges if n in outlined]
    chosen: set[Hashable] = {n for n in keep if n in G}
    if G.number_of_nodes() <= node_budget:
        chosen = set(G.nodes)
    else:
        ranked_bridges = sorted(
            significant,
            key=lambda n: (-bridge_info(G.nodes[n])[1], -scores.get(n, 0.0), str(n)),
        )
        for node in ranked_bridges:
            if len(chosen) >= node_budget:
                break
            chosen.add(node)
        rest = sorted(
            (n for n in G.nodes if n not in chosen), key=lambda n: (-scores.get(n, 0.0), str(n))
        )
        chosen.update(rest[: max(0, node_budget - len(chosen))])
    nodes = [n for n in G.nodes if n in chosen]
    among = [
        (u, v, edge_weight(d, weight))
        for u, v, d in G.edges(data=True)
        if u in chosen and v in chosen
    ]
    if len(among) > edge_budget:
        among.sort(key=lambda e: (-e[2], str(e[0]), str(e[1])))
        among = among[:edge_budget]
    among.sort(key=lambda e: (e[2], str(e[0]), str(e[1])))
    return View(
        nodes=nodes,
        edges=[(u, v) for u, v, _ in among],
        nodes_total=G.number_of_nodes(),
        edges_total=G.number_of_edges(),
        bridges_total=len(bridges),
        bridges_shown=sum(1 for n in bridges if n in chosen),
        outlined_total=len(significant),
        outlined_shown=sum(1 for n in significant if n in chosen),
    )


# ------------------------------------------------------------------------ layout

#: Up to this many actors the layout is ForceAtlas2 (networkx); above it igraph's
#: Fruchterman-Reingold, which is fast enough for tens of thousands of actors.
SMALL_LAYOUT = 300


def layout_method(n: int) -> str:
    """Name of the layout algorithm :func:`compute_positions` uses for ``n`` actors."""
    if n <= 2:
        return "fixed"
    return "forceatlas2" if n <= SMALL_LAYOUT else "fruchterman-reingold"


def compute_positions(
    nodes: Iterable[Hashable],
    edges: Iterable[tuple[Hashable, Hashable, float]],
    *,
    seed: int = 0,
    spread: float = 60.0,
) -> dict[Hashable, tuple[float, float]]:
    """Compute seeded, deterministic positions for a map.

    The ties are made undirected (reciprocal weights summed, log-damped) and laid out
    with ForceAtlas2 for small maps and igraph's Fruchterman-Reingold (grid variant)
    for large ones. Positions are centred and scaled so that the drawing's radius is
    about ``spread * sqrt(n)`` units (vis-network pixels at zoom 1).

    Parameters
    ----------
    nodes : iterable
        The actors, in a fixed order (the order matters for determinism).
    edges : iterable of (u, v, weight)
        Ties between those actors; others are ignored.
    seed : int
        Random seed; the same seed and input give the same positions.
    spread : float
        Scale of the drawing (see above).

    Returns
    -------
    dict
        Node -> ``(x, y)``, rounded to 0.1.

    Notes
    -----
    ForceAtlas2 (Jacomy et al. 2014, PLoS ONE 9(6): e98679) is O(n^2) per iteration;
    Fruchterman-Reingold with a grid (Fruchterman & Reingold 1991) about O(n + m)
    per iteration. The last few layouts are kept: the same nodes, ties and seed
    (the pipeline's layout, then the map and the PNG of the same view) are laid
    out once.
    """
    order = list(nodes)
    ties = list(edges)
    try:
        key = (tuple(order), tuple(ties), seed, float(spread))
        hash(key)
    except TypeError:
        return _compute_positions(order, ties, seed, spread)
    return dict(_cached_positions(*key))


@functools.lru_cache(maxsize=8)
def _cached_positions(
    order: tuple[Hashable, ...],
    ties: tuple[tuple[Hashable, Hashable, float], ...],
    seed: int,
    spread: float,
) -> dict[Hashable, tuple[float, float]]:
    return _compute_positions(list(order), list(ties), seed, spread)


def _compute_positions(
    order: list[Hashable],
    edges: Iterable[tuple[Hashable, Hashable, float]],
    seed: int,
    spread: float,
) -> dict[Hashable, tuple[float, float]]:
    index = {n: i for i, n in enumerate(order)}
    n = len(order)
    if n == 0:
        return {}
    pair_weight: dict[tuple[int, int], float] = {}
    for u, v, w in edges:
        if u not in index or v not in index or u == v:
            continue
        a, b = sorted((index[u], index[v]))
        pair_weight[(a, b)] = pair_weight.get((a, b), 0.0) + max(0.0, w)
    pairs = sorted(pair_weight)
    weights = [1.0 + math.log1p(pair_weight[p]) for p in pairs]
    method = layout_method(n)
    if method == "fixed":
        coords = [(0.0, 0.0)] if n == 1 else [(-1.0, 0.0), (1.0, 0.0)]
    elif method == "forceatlas2":
        H = nx.Graph()
        H.add_nodes_from(range(n))
        H.add_weighted_edges_from((a, b, w) for (a, b), w in zip(pairs, weights, strict=True))
        pos = nx.forceatlas2_layout(
            H,
            max_iter=400,
            scaling_ratio=2.0,
            gravity=1.0,
            weight="weight",
            seed=seed,
            strong_gravity=False,
            linlog=False,
        )
        coords = [(float(pos[i][0]), float(pos[i][1])) for i in range(n)]
    else:
        coords = _igraph_positions(n, pairs, weights, seed)
    return _normalise(order, coords, spread)


def _igraph_positions(
    n: int, pairs: list[tuple[int, int]], weights: list[float], seed: int
) -> list[tuple[float, float]]:
    import igraph as ig

    # igraph draws the random start layout from its RNG: seed it, restore it after.
    ig.set_random_number_generator(random.Random(seed))
    try:
        graph = ig.Graph(n=n, edges=pairs, directed=False)
        layout = graph.layout_fruchterman_reingold(
            weights=weights or None,
            niter=500 if n <= 5000 else 300,
            grid="auto",
        )
        return [(float(x), float(y)) for x, y in layout.coords]
    finally:
        ig.set_random_number_generator(random)


def _landscape(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Rotate centred points so their main axis is horizontal (pages are landscape)."""
    sxx = sum(x * x for x, _ in points)
    syy = sum(y * y for _, y in points)
    sxy = sum(x * y for x, y in points)
    if sxx + syy == 0:
        return points
    angle = 0.5 * math.atan2(2 * sxy, sxx - syy)  # direction of the main axis
    cos_a, sin_a = math.cos(-angle), math.sin(-angle)
    return [(x * cos_a - y * sin_a, x * sin_a + y * cos_a) for x, y in points]


def _normalise(
    order: list[Hashable], coords: list[tuple[float, float]], spread: float
) -> dict[Hashable, tuple[float, float]]:
    n = len(order)
    cx = sum(x for x, _ in coords) / n
    cy = sum(y for _, y in coords) / n
    centred = _landscape([(x - cx, y - cy) for x, y in coords])
    # Scale by a high percentile of the radius so a few outliers (isolated actors
    # thrown far out by the force layout) do not shrink the rest, and pull those
    # outliers in to the rim.
    radii = sorted(math.hypot(x, y) for x, y in centred)
    reference = radii[min(n - 1, int(0.95 * n))] or radii[-1] or 1.0
    rim = 1.12 * reference
    target = max(spread * math.sqrt(max(n, 4)), 420.0)
    factor = target / reference
    placed: dict[Hashable, tuple[float, float]] = {}
    for node, (x, y) in zip(order, centred, strict=True):
        r = math.hypot(x, y)
        if r > rim:
            x, y = x * rim / r, y * rim / r
        placed[node] = (round(x * factor, 1), round(y * factor, 1))
    return placed


def map_positions(
    G: nx.Graph,
    *,
    node_budget: int = 1500,
    edge_budget: int | None = None,
    seed: int = 0,
    weight: str = "weight",
) -> dict[Hashable, tuple[float, float]]:
    """Positions for every actor of ``G``, consistent with the network map.

    The actors the network map shows (the same view, ties and seed as
    :func:`mapper.render.maps.write_network_map` and the PNG, so those reuse this
    layout instead of computing it again) keep their map positions; every other
    actor is placed by :func:`extend_positions` near its neighbours.

    Returns
    -------
    dict
        Node -> ``(x, y)`` for every node, rounded to 0.1.
    """
    if G.number_of_nodes() == 0:
        return {}
    scores, _ = influence_scores(G, weight)
    view = select_view(
        G, node_budget=node_budget, edge_budget=edge_budget, weight=weight, scores=scores
    )
    ties = [(u, v, edge_weight(G.edges[u, v], weight)) for u, v in view.edges]
    return extend_positions(G, compute_positions(view.nodes, ties, seed=seed), seed=seed)


def extend_positions(
    G: nx.Graph, placed: Mapping[Hashable, tuple[float, float]], *, seed: int = 0
) -> dict[Hashable, tuple[float, float]]:
    """Give every node of ``G`` a position, keeping those in ``placed``.

    In rounds, every unplaced actor with placed neighbours (ties in either direction)
    goes to their mean position plus a small seeded offset of about the local
    spacing; actors never reached (other components) go on a ring around the
    drawing. Vectorised (scipy sparse products): O((n + m) * rounds), where the
    rounds are the distance to the placed actors.
    """
    import numpy as np
    import scipy.sparse as sp

    nodes = list(G.nodes)
    n = len(nodes)
    if n == 0:
        return {}
    index = {node: i for i, node in enumerate(nodes)}
    pos = np.zeros((n, 2))
    done = np.zeros(n, dtype=bool)
    for node, (x, y) in placed.items():
        i = index.get(node)
        if i is not None:
            pos[i] = (x, y)
            done[i] = True
    rows = np.fromiter((index[u] for u, v in G.edges if u != v), dtype=np.int64)
    cols = np.fromiter((index[v] for u, v in G.edges if u != v), dtype=np.int64)
    adj = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adj = ((adj + adj.T) > 0).astype(np.float64).tocsr()
    rng = np.random.default_rng(seed)
    if done.any():
        radius = float(np.percentile(np.hypot(pos[done, 0], pos[done, 1]), 95)) or 100.0
        step = max(1.0, radius / math.sqrt(done.sum()))
    else:  # nothing placed: start from the actor with most ties
        radius, step = 100.0, 10.0
        done[int(np.argmax(np.diff(adj.indptr)))] = True
    while not done.all():
        weight = adj @ done.astype(np.float64)
        frontier = ~done & (weight > 0)
        if not frontier.any():
            break
        sums = adj @ (pos * done[:, None])
        where = np.flatnonzero(frontier)
        angle = rng.uniform(0.0, 2 * math.pi, len(where))
        spread = step * np.sqrt(rng.uniform(0.25, 1.0, len(where)))
        pos[where] = sums[where] / weight[where, None]
        pos[where, 0] += spread * np.cos(angle)
        pos[where, 1] += spread * np.sin(angle)
        done[where] = True
    rest = np.flatnonzero(~done)
    if len(rest):
        angle = 2 * math.pi * np.arange(len(rest)) / len(rest)
        ring = 1.15 * radius + step * (np.arange(len(rest)) % 3)
        pos[rest, 0] = ring * np.cos(angle)
        pos[rest, 1] = ring * np.sin(angle)
    coords = np.round(pos, 1).tolist()
    out = {node: (x, y) for node, (x, y) in zip(nodes, coords, strict=True)}
    for node, xy in placed.items():  # exactly as given
        if node in out:
            out[node] = xy
    return out
