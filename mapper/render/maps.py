"""Interactive maps: self-contained HTML pages drawn by vis-network.

Four maps are written here: the network map (every actor, or the most influential
ones and every bridge figure when the graph is too large for a page), the faction
overview, an actor's neighbourhood and the alliance view. Each page works with no
network at all.

How the pyvis pitfalls are avoided (see ``PITFALLS.md``):

- **Offline.** vis-network 9.1.2, bundled inside the installed pyvis package, is
  inlined into our own template; no CDN, no Bootstrap, no tom-select, and no ``lib/``
  folder is ever copied into the working directory (``Network.write_html`` is never
  called). A Content-Security-Policy with ``default-src 'none'`` and script hashes
  blocks any request and any script that is not ours.
- **Script injection.** Pages are rendered by an autoescaping Jinja environment
  (pyvis's ``heading`` is never used, nor ``select_menu``/``filter_menu``); the data
  is embedded as JSON in a ``<script type="application/json">`` block with ``<``,
  ``>``, ``&``, U+2028 and U+2029 escaped, so no text can close the block; tooltips
  are plain text with ``\\n`` line breaks and never contain the substring ``href``
  (which would make pyvis's template switch popups to ``innerHTML``); node ids are
  actor ids, never display names; the page's own script only ever writes
  ``textContent``.
- **Size.** pyvis's ``Network`` is used as a data model only (``add_node`` and
  ``add_edge``; its id list is replaced by a set-backed list so membership tests are
  O(1)); positions are computed in Python and physics is off, so a 5,000-actor map
  appears in about a second; graphs above the node budget are reduced and the page
  says what was left out; tooltips are shortened, then ties dropped, until the page
  is under ``max_bytes``.
- **Mutation.** ``from_nx`` is never used; the input graph is only read.
"""

from __future__ import annotations

import base64
import dataclasses
import difflib
import functools
import hashlib
import json
import math
import re
from collections import Counter, deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import networkx as nx
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from mapper.errors import RenderError
from mapper.fsutil import atomic_open, safe_filename
from mapper.graph.evidence import edge_evidence
from mapper.render.layout import (
    BRIDGE_BORDER,
    EDGE_COLOURS,
    EDGE_DEFAULT_COLOUR,
    EDGE_TYPES,
    OTHER_GROUPS,
    UNASSIGNED,
    Grouping,
    View,
    cached,
    check_graph,
    clean_text,
    compute_positions,
    darken,
    dominant_type,
    edge_arrays,
    edge_type_counts,
    edge_weight,
    format_time,
    group_nodes,
    influence_scores,
    introduction_ends,
    kind_name,
    kind_shape,
    label_text,
    layout_method,
    node_kind,
    node_label,
    number,
    outlined_bridges,
    plain_title,
    select_view,
    shared_labels,
    truthy,
    vis_ids,
)
from mapper.text import display_text

#: Pages are kept under this many bytes (the brief's limit is 5 MB).
DEFAULT_MAX_BYTES = 4_500_000
#: Above this many actors a map is "large": no edge smoothing, edges hidden while
#: dragging or zooming, fainter edges.
LARGE_MAP = 400
#: vis-network version inlined into every page (bundled by pyvis 0.3.2).
VIS_VERSION = "9.1.2"
#: The faction overview draws at most this many factions one by one; the smaller
#: ones are drawn together as one "other factions" node.
OVERVIEW_FACTIONS = 60
#: Above this many actors shown, an actor map names its factions in large letters
#: at their centre (smaller maps name every actor instead).
FACTION_LABELS_FROM = 150
#: A faction is named on the map only when half its actors lie within this share of
#: the map's radius from its centre.
LABEL_SPREAD = 0.45
#: Most warnings listed in a page's banner (the rest are counted).
BANNER_WARNINGS = 12

_SNIPPET_LENGTH = 160
_LABEL_LENGTH = 60


# ------------------------------------------------------------------ page plumbing


@functools.lru_cache(maxsize=1)
def vis_library() -> str:
    """Return the vis-network JavaScript bundled with pyvis, ready to inline.

    The source-map comment is dropped (it would make developer tools fetch a file)
    and any ``</script`` or ``<!--`` is neutralised so the code cannot end its block.

    Raises
    ------
    RenderError
        When the installed pyvis does not carry vis-network.
    """
    try:
        source = resources.files("pyvis") / "templates" / "lib" / f"vis-{VIS_VERSION}"
        text = (source / "vis-network.min.js").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise RenderError(
            f"vis-network {VIS_VERSION} was not found in the installed pyvis package",
            hint="install pyvis 0.3.2 (pip install pyvis==0.3.2)",
        ) from exc
    text = re.sub(r"^//# sourceMappingURL=.*$", "", text, flags=re.M).rstrip() + "\n"
    text = re.sub(r"(?i)</(script)", r"<\\/\1", text)
    return text.replace("<!--", "<\\!--")


@functools.lru_cache(maxsize=1)
def _page_script() -> str:
    return (resources.files("mapper.render") / "templates" / "map.js").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja environment of every page: autoescaping on for all templates."""
    return Environment(
        loader=PackageLoader("mapper.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


_JSON_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def script_json(value: Any) -> Markup:
    """Serialise ``value`` as JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026`` (so
    neither ``</script>`` nor ``<!--`` can appear), U+2028 and U+2029 as escapes. The
    result is still valid JSON for ``JSON.parse``.

    Raises
    ------
    ValueError
        On NaN or infinity (they are not JSON).
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in _JSON_ESCAPES:
        text = text.replace(char, escape)
    return Markup(text)


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(*scripts: str) -> str:
    """The page's Content-Security-Policy: nothing may load, only our scripts run."""
    hashes = " ".join(_csp_hash(s) for s in scripts)
    return (
        "default-src 'none'; "
        f"script-src {hashes}; "
        "style-src 'unsafe-inline'; "
        "img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


@dataclass
class MapPage:
    """Everything the map template shows (all text is escaped by the template).

    ``warnings`` (the banner at the top) are dicts with ``code``, ``message`` and
    ``stage`` (see :func:`page_warnings`); ``links`` are ``{"href", "text"}`` dicts
    to other pages of the same folder (see :func:`page_link`).
    """

    title: str
    subtitle: str
    payload: dict[str, Any]
    notices: list[str] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    group_title: str = "Factions"
    groups: list[dict[str, Any]] = field(default_factory=list)
    kinds: list[dict[str, Any]] = field(default_factory=list)
    edge_types: list[dict[str, Any]] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    search_label: str = "Find an actor"
    #: Heading of the shape legend (``kinds``), e.g. "Parties (shape)".
    kind_title: str = "Kinds (shape)"
    #: Ties that can be switched on and off (``{"id", "name", "colour", "shown",
    #: "checked"}``); a tie belongs to the layer named by its ``layer`` field.
    layers: list[dict[str, Any]] = field(default_factory=list)
    layer_title: str = "Layers"


_LINK_TARGET = re.compile(r"^(?:\.\./)?[A-Za-z0-9][A-Za-z0-9._-]*\.html$")


def page_link(href: str, text: str) -> dict[str, str]:
    """A link from a map to another page of the same output folder.

    Raises
    ------
    RenderError
        Unless ``href`` is a plain file name ending in ``.html`` (optionally in the
        parent folder): links are made by mapper, never from the data.
    """
    if not isinstance(href, str) or not _LINK_TARGET.match(href):
        raise RenderError(f"not a page of the output folder: {href!r}", field="links")
    return {"href": href, "text": label_text(text)}


def page_warnings(warnings: Iterable[Any] | None) -> list[dict[str, str]]:
    """Normalise warnings for a page's banner.

    Accepts dicts with ``code``, ``message`` and ``stage`` (as in ``summary.json``)
    or objects with those attributes (``strength.EvidenceWarning``); the message is
    display text (:func:`mapper.text.display_text`), escaped by the template.
    """
    rows: list[dict[str, str]] = []
    for item in warnings or ():
        code, message, stage = (_field(item, key) for key in ("code", "message", "stage"))
        text = display_text(message, max_length=600, one_line=True)
        if text or code:
            rows.append(
                {"code": label_text(code, 60), "message": text, "stage": label_text(stage, 40)}
            )
    return rows


def _field(item: Any, key: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(key)
    return getattr(item, key, None)


def render_page(page: MapPage) -> str:
    """Render a :class:`MapPage` into a complete, self-contained HTML document."""
    vis_js = vis_library()
    app_js = _page_script()
    template = environment().get_template("map.html.j2")
    shown = page.warnings[:BANNER_WARNINGS]
    return template.render(
        page=page,
        banner=shown,
        banner_more=len(page.warnings) - len(shown),
        vis_js=Markup(vis_js),
        app_js=Markup(app_js),
        data_json=script_json(page.payload),
        csp=content_security_policy(vis_js, app_js),
        vis_version=VIS_VERSION,
    )


def _write_html(path: str | Path, html: str) -> Path:
    target = Path(path)
    try:
        with atomic_open(target, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
    except OSError as exc:
        raise RenderError(f"cannot write the map: {exc}", source=target) from exc
    return target


# ------------------------------------------------------------------ pyvis network


class _IdList(list[Any]):
    """A list with O(1) membership tests (pyvis checks ``id in node_ids`` per call)."""

    def __init__(self) -> None:
        super().__init__()
        self._members: set[Any] = set()

    def append(self, item: Any) -> None:
        super().append(item)
        self._members.add(item)

    def __contains__(self, item: object) -> bool:
        return item in self._members


def _network() -> Any:
    """A pyvis ``Network`` used as a data model (never rendered by pyvis itself)."""
    from pyvis.network import Network

    net = Network(height="100%", width="100%", directed=True, cdn_resources="in_line")
    net.node_ids = _IdList()
    return net


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 0.001:
        return f"{value:.4g}"
    return f"{value:.2e}"


def _group_styles(grouping: Grouping, groups: Iterable[int]) -> dict[str, Any]:
    """vis-network ``groups`` option: one plain and one bridge style per group."""
    styles: dict[str, Any] = {}
    for group in sorted(set(groups)):
        fill = grouping.colour(group)
        border = darken(fill, 0.65)
        key = _group_key(group)
        styles[key] = {
            "color": {
                "background": fill,
                "border": border,
                "highlight": {"background": fill, "border": "#000000"},
                "hover": {"background": fill, "border": "#000000"},
            },
            "borderWidth": 1,
        }
        styles[key + "b"] = {
            "color": {
                "background": fill,
                "border": BRIDGE_BORDER,
                "highlight": {"background": fill, "border": "#000000"},
                "hover": {"background": fill, "border": "#000000"},
            },
            "borderWidth": 3.5,
            "borderWidthSelected": 5,
        }
    return styles


def _group_key(group: int) -> str:
    if group == OTHER_GROUPS:
        return "go"
    return "gu" if group < 0 else f"g{group}"


def _options(*, large: bool, groups: Mapping[str, Any], font_scale: float = 1.0) -> dict[str, Any]:
    """vis-network options: physics off (positions come from Python)."""
    return {
        "autoResize": True,
        "groups": dict(groups),
        "nodes": {
            "borderWidthSelected": 3,
            "font": {
                "face": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
                "color": "#1d1d1d",
                "size": round(14 * font_scale, 1),
                "strokeWidth": 3,
                "strokeColor": "#ffffff",
            },
            "scaling": {"label": {"drawThreshold": 8, "maxVisible": 40}},
        },
        "edges": {
            "arrows": {"to": {"enabled": True, "scaleFactor": 0.45}},
            "color": {"inherit": False, "opacity": 0.55 if large else 0.8},
            "smooth": False if large else {"enabled": True, "type": "curvedCW", "roundness": 0.12},
            "selectionWidth": 2,
            "hoverWidth": 1,
            "font": {
                "size": round(12 * font_scale, 1),
                "align": "horizontal",
                "strokeWidth": 0,
                "background": "rgba(255,255,255,0.85)",
                "color": "#333333",
            },
        },
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False},
        "interaction": {
            "hover": not large,
            "tooltipDelay": 120,
            "hideEdgesOnDrag": large,
            "hideEdgesOnZoom": large,
            "navigationButtons": False,
            "keyboard": False,
            "multiselect": False,
        },
    }


# ----------------------------------------------------------------------- tooltips


@dataclass(frozen=True)
class _Detail:
    """How much a tooltip says (reduced step by step to keep pages small)."""

    node_evidence: int
    edge_snippets: int
    urls: bool
    topics: int


_DETAILS = (
    _Detail(node_evidence=2, edge_snippets=3, urls=True, topics=4),
    _Detail(node_evidence=1, edge_snippets=2, urls=False, topics=3),
    _Detail(node_evidence=0, edge_snippets=1, urls=False, topics=3),
    _Detail(node_evidence=0, edge_snippets=0, urls=False, topics=0),
)


def _snippet_line(item: Mapping[str, Any], *, extra: str = "", url: bool = False) -> list[str]:
    snippet = clean_text(item.get("snippet"), max_length=_SNIPPET_LENGTH, one_line=True)
    kind = clean_text(item.get("type"), one_line=True, max_length=20)
    when = format_time(item.get("time"))
    meta = ", ".join(p for p in (kind, extra, when) if p)
    lines = [f"“{snippet}”" + (f" ({meta})" if meta else "")] if snippet else []
    if not lines and meta:
        lines = [f"({meta})"]
    if url and lines:
        link = clean_text(item.get("url") or item.get("post"), max_length=90, one_line=True)
        if link:
            lines.append("   " + link)
    return lines


def _evidence(G: nx.Graph, u: Hashable, v: Hashable) -> list[Mapping[str, Any]]:
    """The evidence items of the tie ``u -> v`` (from the graph's evidence table or
    the edge's own list, see :func:`mapper.graph.evidence.edge_evidence`)."""
    return [item for item in edge_evidence(G, u, v) if isinstance(item, Mapping)]


class _Context:
    """Facts about the whole graph the tooltips need (computed once per map).

    Tooltip parts are cached per actor and tie, so rendering the same map again
    with shorter tooltips (to fit the size limit) costs only string joins.
    """

    def __init__(self, G: nx.Graph, grouping: Grouping, weight: str = "weight") -> None:
        self.G = G
        self.grouping = grouping
        self.weight = weight
        self.scores, self.basis = influence_scores(G, weight)
        ranked = sorted(G.nodes, key=lambda n: (-self.scores.get(n, 0.0), str(n)))
        self.rank = {n: i + 1 for i, n in enumerate(ranked)}
        self.ids = vis_ids(G)
        self.outlined = outlined_bridges(G)
        self._labels: dict[Hashable, str] = {}
        self._node_parts: dict[Hashable, tuple[str, list[str], list[str]]] = {}
        self._edge_parts: dict[tuple[Hashable, Hashable], tuple[str, list[list[str]]]] = {}
        self._edge_kind: dict[tuple[Hashable, Hashable], str | None] = {}
        self._titles: dict[Any, str] = {}

    def label(self, node: Hashable) -> str:
        """Display name of ``node`` (cached)."""
        if node not in self._labels:
            self._labels[node] = node_label(self.G, node)
        return self._labels[node]

    def edge_kind(self, u: Hashable, v: Hashable) -> str | None:
        """Dominant reference type of the tie ``u -> v`` (cached)."""
        key = (u, v)
        if key not in self._edge_kind:
            self._edge_kind[key] = dominant_type(self.G.edges[u, v])
        return self._edge_kind[key]

    def node_title(self, node: Hashable, detail: _Detail) -> str:
        """Plain-text tooltip of an actor (cached per detail level)."""
        key = (node, detail)
        if key not in self._titles:
            self._titles[key] = self._compose_node_title(node, detail)
        return self._titles[key]

    def _compose_node_title(self, node: Hashable, detail: _Detail) -> str:
        if node not in self._node_parts:
            self._node_parts[node] = self._node_title_parts(node)
        base, topics, said = self._node_parts[node]
        lines = [base]
        if detail.topics and topics:
            lines.append("Talks about: " + ", ".join(topics[: detail.topics]))
        if detail.node_evidence and said:
            lines.append("Said:")
            lines.extend(said[: detail.node_evidence])
        return plain_title("\n".join(lines))

    def edge_title(self, u: Hashable, v: Hashable, detail: _Detail) -> str:
        """Plain-text tooltip of a tie (cached per detail level)."""
        cache_key = ("edge", u, v, detail)
        if cache_key not in self._titles:
            self._titles[cache_key] = self._compose_edge_title(u, v, detail)
        return self._titles[cache_key]

    def _compose_edge_title(self, u: Hashable, v: Hashable, detail: _Detail) -> str:
        key = (u, v)
        if key not in self._edge_parts:
            self._edge_parts[key] = self._edge_title_parts(u, v)
        base, snippets = self._edge_parts[key]
        lines = [base]
        for snippet in snippets[: detail.edge_snippets]:
            lines.extend(snippet if detail.urls else snippet[:1])
        return plain_title("\n".join(lines))

    def _node_title_parts(self, node: Hashable) -> tuple[str, list[str], list[str]]:
        G, data = self.G, self.G.nodes[node]
        label = self.label(node)
        lines = [label]
        ident = label_text(node)
        if ident != label:
            lines.append(f"Actor id: {ident}")
        kind = node_kind(G, node)
        party = clean_text(data.get("party"), one_line=True, max_length=60)
        lines.append(kind_name(kind) + (f" · {party}" if party else ""))
        group = self.grouping.of_node.get(node, -1)
        gname = self.grouping.name(group)
        if self.grouping.basis == "faction":
            line = f"Faction: {gname}" if group >= 0 else "Faction: unassigned"
            stability = number(data.get("stability"), -1.0)
            if stability >= 0:
                line += f" (stability {stability:.2f})"
            lines.append(line)
        declared = clean_text(data.get("declared_faction"), one_line=True, max_length=60)
        if declared and declared != gname:
            lines.append(f"Declared faction: {declared}")
        score = self.scores.get(node, 0.0)
        what = "Influence" if self.basis == "influence" else "Share of incoming ties"
        lines.append(f"{what}: {_fmt(score)} (rank {self.rank[node]:,} of {len(self.rank):,})")
        is_bridge, bridge_score = truthy(data.get("is_bridge")), number(data.get("bridge_score"))
        role = clean_text(data.get("role"), one_line=True, max_length=40)
        if is_bridge or bridge_score > 0:
            parts = [f"score {bridge_score:.2f}"]
            if role:
                parts.append(f"role {role}")
            participation = number(data.get("participation"), -1.0)
            if participation >= 0:
                parts.append(f"participation {participation:.2f}")
            head = "Bridge figure" if is_bridge else "Bridge score"
            lines.append(f"{head}: " + ", ".join(parts))
        elif role:
            lines.append(f"Role: {role}")
        if G.is_directed():
            out_edges = list(G.out_edges(node, data=True))
            out_w = sum(edge_weight(d, self.weight) for _, _, d in out_edges)
            in_w = sum(edge_weight(d, self.weight) for _, _, d in G.in_edges(node, data=True))
            lines.append(
                f"Ties: {len(out_edges):,} out (weight {_fmt(out_w)}), "
                f"{G.in_degree(node):,} in (weight {_fmt(in_w)})"
            )
        else:
            out_edges = list(G.edges(node, data=True))
            lines.append(f"Ties: {len(out_edges):,}")
        if truthy(data.get("provisional")):
            lines.append("Provisional: an unknown handle, not in the roster")
        topics: list[str] = []
        raw_topics = data.get("topics")
        if isinstance(raw_topics, Mapping) and raw_topics:
            top = sorted(raw_topics.items(), key=lambda kv: (-number(kv[1]), str(kv[0])))
            topics = [
                f"{clean_text(k, one_line=True, max_length=40)} ({int(number(v))})"
                for k, v in top[: _DETAILS[0].topics]
            ]
        said: list[str] = []
        out_edges.sort(key=lambda e: (-edge_weight(e[2], self.weight), str(e[1])))
        for _, target, _edata in out_edges:
            for item in _evidence(G, node, target)[:1]:
                said.extend(_snippet_line(item, extra=f"to {self.label(target)}"))
            if len(said) >= _DETAILS[0].node_evidence:
                break
        return "\n".join(lines), topics, said[: _DETAILS[0].node_evidence]

    def _edge_title_parts(self, u: Hashable, v: Hashable) -> tuple[str, list[list[str]]]:
        G = self.G
        data = G.edges[u, v]
        arrow = "→" if G.is_directed() else "–"
        lines = [f"{self.label(u)} {arrow} {self.label(v)}"]
        counts = edge_type_counts(data)
        total = int(number(data.get("count"), sum(counts.values())))
        head = f"{total:,} reference{'s' if total != 1 else ''}, weight {_fmt(edge_weight(data))}"
        if counts:
            head += ": " + ", ".join(f"{k} {n:,}" for k, n in counts.items())
        lines.append(head)
        first, last = format_time(data.get("first")), format_time(data.get("last"))
        if first or last:
            lines.append(f"First {first or '?'} · last {last or '?'}")
        snippets = [
            _snippet_line(item, url=True)
            for item in _evidence(G, u, v)[: _DETAILS[0].edge_snippets]
        ]
        return "\n".join(lines), [s for s in snippets if s]


def _context(G: nx.Graph, grouping: Grouping) -> _Context:
    """A :class:`_Context` for ``G``, shared by the pages drawn inside
    :func:`mapper.render.layout.render_cache` (its tooltip caches included)."""
    return cached(("context", id(G), id(grouping)), (G, grouping), lambda: _Context(G, grouping))


# --------------------------------------------------------------------- actor maps


def _font_sizes(nodes: Sequence[Hashable], ctx: _Context, unit: float) -> dict[Hashable, float]:
    """Label sizes in canvas units.

    Small maps label everybody. Large maps give the most influential actors labels
    readable at the initial zoom (about 15-26 px on screen), the next tier labels
    that appear after a little zoom, and everybody else labels that appear only
    when zoomed in (vis-network skips labels under ``drawThreshold`` pixels).
    """
    n = len(nodes)
    ordered = sorted(nodes, key=lambda x: (ctx.rank[x], str(x)))
    small = n <= 150
    top = n if small else min(30, max(12, n // 100))
    mid = n if small else max(top, n // 15)
    shown_max = max((ctx.scores.get(x, 0.0) for x in nodes), default=0.0) or 1.0
    sizes: dict[Hashable, float] = {}
    for i, node in enumerate(ordered):
        share = math.sqrt(ctx.scores.get(node, 0.0) / shown_max)
        if i < top:
            base = 11 + 9 * share if small else 16 + 12 * share
        elif i < mid:
            base = 7
        else:
            base = 5
        sizes[node] = round(base * unit, 1)
    return sizes


def _actor_payload(
    ctx: _Context,
    view: View,
    positions: Mapping[Hashable, tuple[float, float]],
    detail: _Detail,
    *,
    focus: Hashable | None = None,
) -> dict[str, Any]:
    """Build the nodes, edges and options of an actor-level map."""
    G, grouping = ctx.G, ctx.grouping
    n = len(view.nodes)
    # Canvas units per "screen pixel at the initial zoom": the layout's radius grows
    # with sqrt(n), so sizes and fonts grow with it to look the same on screen.
    unit = max(1.0, math.sqrt(max(n, 1)) / 9.0)
    smallest = 6.0 if n <= 150 else 4.0 if n <= 1000 else 3.0
    largest = 30.0 if n <= 150 else 24.0 if n <= 1000 else 18.0
    shown_max = max((ctx.scores.get(x, 0.0) for x in view.nodes), default=0.0) or 1.0
    fonts = _font_sizes(view.nodes, ctx, unit)
    outlined = ctx.outlined
    net = _network()
    groups_used: set[int] = set()
    for node in view.nodes:
        data = G.nodes[node]
        group = grouping.shown_group(grouping.of_node.get(node, UNASSIGNED))
        groups_used.add(group)
        share = math.sqrt(ctx.scores.get(node, 0.0) / shown_max)
        size = (smallest + (largest - smallest) * share) * unit
        options: dict[str, Any] = {
            "title": ctx.node_title(node, detail),
            "x": positions[node][0],
            "y": positions[node][1],
            "size": round(size if node != focus else max(size * 1.4, 30 * unit), 1),
            "group": _group_key(group) + ("b" if node in outlined else ""),
            "font": {"size": fonts[node] if node != focus else round(22 * unit, 1)},
            "fac": group,
            "kind": node_kind(G, node),
        }
        if truthy(data.get("provisional")):
            options["shapeProperties"] = {"borderDashes": [4, 3]}
        net.add_node(
            ctx.ids[node],
            label=clean_text(ctx.label(node), max_length=_LABEL_LENGTH, one_line=True),
            shape=kind_shape(node_kind(G, node)),
            **options,
        )
    weights = [edge_weight(G.edges[u, v]) for u, v in view.edges]
    max_w = max(weights, default=1.0) or 1.0
    for (u, v), w in zip(view.edges, weights, strict=True):
        kind = ctx.edge_kind(u, v)
        net.add_edge(
            ctx.ids[u],
            ctx.ids[v],
            width=round((0.6 + 4.4 * math.sqrt(w / max_w)) * math.sqrt(unit), 2),
            color=EDGE_COLOURS.get(kind or "", EDGE_DEFAULT_COLOUR),
            title=ctx.edge_title(u, v, detail),
        )
    for edge in net.edges:
        # pyvis writes arrows="to" on every edge of a directed Network; the global
        # edge options already say so.
        if edge.get("arrows") == "to":
            del edge["arrows"]
    large = n > LARGE_MAP
    return {
        "nodes": net.nodes,
        "edges": net.edges,
        "options": _options(large=large, groups=_group_styles(grouping, groups_used)),
        "focus": ctx.ids[focus] if focus is not None else None,
        "labels": _faction_labels(ctx, view, positions, unit),
    }


def _faction_labels(
    ctx: _Context,
    view: View,
    positions: Mapping[Hashable, tuple[float, float]],
    unit: float,
) -> list[dict[str, Any]]:
    """Faction names drawn over a large actor map, each at its faction's centre.

    Only factions with a colour of their own and at least three actors on the map
    are named; the centre is the median position of those actors (robust to a few
    members placed far away). A faction whose actors are spread over the map (half
    of them further from its centre than :data:`LABEL_SPREAD` times the map's
    radius) has no centre worth naming and gets no label, nor does a faction whose
    label would cover the label of a larger one. The page draws the labels on the
    canvas as text.
    """
    if len(view.nodes) <= FACTION_LABELS_FROM:
        return []
    grouping = ctx.grouping
    members: dict[int, list[Hashable]] = {}
    for node in view.nodes:
        group = grouping.shown_group(grouping.of_node.get(node, UNASSIGNED))
        if group >= 0:
            members.setdefault(group, []).append(node)
    radii = sorted(math.hypot(*positions[n]) for n in view.nodes)
    radius = radii[int(0.95 * (len(radii) - 1))] or 1.0
    biggest = max((len(m) for m in members.values()), default=1)
    labels: list[dict[str, Any]] = []
    boxes: list[tuple[float, float, float, float]] = []
    for group in grouping.coloured:
        people = members.get(group, [])
        if len(people) < 3:
            continue
        mid = len(people) // 2
        x = sorted(positions[n][0] for n in people)[mid]
        y = sorted(positions[n][1] for n in people)[mid]
        spread = sorted(math.hypot(positions[n][0] - x, positions[n][1] - y) for n in people)
        if spread[mid] > LABEL_SPREAD * radius:
            continue
        share = math.sqrt(len(people) / biggest)
        text = label_text(grouping.name(group), 48)
        size = round((20 + 16 * share) * unit, 1)
        half_w, half_h = 0.3 * size * len(text), 0.6 * size  # about the text's box
        box = (x - half_w, y - half_h, x + half_w, y + half_h)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
            continue
        boxes.append(box)
        labels.append(
            {
                "text": text,
                "x": x,
                "y": y,
                "size": size,
                "colour": darken(grouping.colour(group), 0.55),
                "fac": group,
            }
        )
    return labels


def _legend(
    ctx: _Context, view: View, *, groups_total: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    G, grouping = ctx.G, ctx.grouping
    shown = Counter(grouping.of_node.get(n, UNASSIGNED) for n in view.nodes)
    groups = _group_rows(grouping, shown, groups_total=groups_total)
    kind_counts = Counter(node_kind(G, n) for n in view.nodes)
    kinds = [
        {"kind": k, "name": kind_name(k), "shape": kind_shape(k), "shown": c}
        for k, c in sorted(kind_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    type_counts = Counter(ctx.edge_kind(u, v) or "" for u, v in view.edges)
    edge_types = [
        {"name": t, "colour": EDGE_COLOURS[t], "shown": type_counts[t]}
        for t in EDGE_TYPES
        if type_counts.get(t)
    ]
    if type_counts.get(""):
        edge_types.append(
            {"name": "other", "colour": EDGE_DEFAULT_COLOUR, "shown": type_counts[""]}
        )
    extras: list[dict[str, Any]] = []
    outlined = sum(1 for n in view.nodes if n in ctx.outlined)
    if outlined:
        text = f"Bridge figure ({outlined:,})"
        bridges = sum(1 for _, d in G.nodes(data=True) if truthy(d.get("is_bridge")))
        if bridges > len(ctx.outlined):
            text = f"Bridge figure, top {len(ctx.outlined):,} of {bridges:,} ({outlined:,})"
        extras.append({"style": "bridge", "text": text})
    provisional = sum(1 for n in view.nodes if truthy(G.nodes[n].get("provisional")))
    if provisional:
        extras.append({"style": "provisional", "text": f"Provisional actor ({provisional:,})"})
    return groups, kinds, edge_types, extras


def _group_rows(
    grouping: Grouping, shown: Mapping[int, int], *, groups_total: bool = True
) -> list[dict[str, Any]]:
    """Legend and filter rows: one per coloured group with actors shown, then one
    for all the other groups together and one for the unassigned actors.

    ``shown`` counts the actors on the page by their own group; a row's ``id`` is
    the group the page's filter knows them by (:meth:`Grouping.shown_group`).
    """
    rows = []
    other_shown = other_total = 0
    other_groups = grouping.merged if shown.get(OTHER_GROUPS) else 0
    for group in grouping.order:
        if group < 0:
            continue
        if grouping.shown_group(group) == OTHER_GROUPS:
            other_groups += 1 if shown.get(group) else 0
            other_shown += shown.get(group, 0)
            other_total += grouping.sizes.get(group, 0)
        elif shown.get(group):
            rows.append(
                {
                    "id": group,
                    "name": grouping.name(group),
                    "colour": grouping.colour(group),
                    "shown": shown[group],
                    "total": grouping.sizes.get(group, 0) if groups_total else shown[group],
                }
            )
    other_shown += shown.get(OTHER_GROUPS, 0)
    other_total += grouping.sizes.get(OTHER_GROUPS, 0)
    if other_shown:
        rows.append(
            {
                "id": OTHER_GROUPS,
                "name": f"{grouping.name(OTHER_GROUPS)} ({other_groups:,})",
                "colour": grouping.colour(OTHER_GROUPS),
                "shown": other_shown,
                "total": other_total if groups_total else other_shown,
            }
        )
    if shown.get(UNASSIGNED):
        rows.append(
            {
                "id": UNASSIGNED,
                "name": grouping.name(UNASSIGNED),
                "colour": grouping.colour(UNASSIGNED),
                "shown": shown[UNASSIGNED],
                "total": grouping.sizes.get(UNASSIGNED, 0) if groups_total else shown[UNASSIGNED],
            }
        )
    return rows


def _size_note(ctx: _Context) -> str:
    if ctx.basis == "influence":
        return (
            "Size: influence (weighted PageRank); the radius grows with its square "
            "root. Edge width: tie weight. Edge colour: the most frequent kind of "
            "reference."
        )
    return (
        "Size: share of incoming tie weight (influence not computed yet); the "
        "radius grows with its square root. Edge width: tie weight. Edge colour: "
        "the most frequent kind of reference."
    )


def _title_bytes(ctx: _Context, view: View, detail: _Detail) -> int:
    """Approximate bytes the tooltips of ``view`` take in the page at ``detail``."""
    total = 0
    for node in view.nodes:
        title = ctx.node_title(node, detail)
        total += len(title.encode("utf-8")) + title.count("\n") + title.count('"')
    for u, v in view.edges:
        title = ctx.edge_title(u, v, detail)
        total += len(title.encode("utf-8")) + title.count("\n") + title.count('"')
    return total


def _fit_page(
    build: Any, *, ctx: _Context, view: View, max_bytes: int
) -> tuple[str, dict[str, Any]]:
    """Render ``build(detail, keep, notes)`` under ``max_bytes``.

    First with full tooltips; if too large, with the first shorter tooltip level
    predicted to fit (tooltip sizes are measured without rendering); then with the
    strongest ``keep`` share of the ties only.
    """
    notes: list[str] = []
    html, info = build(_DETAILS[0], 1.0, notes)
    size = len(html.encode("utf-8"))
    level = 0
    if size > max_bytes:
        notes.append("Tooltips were shortened to keep the page small.")
        full = _title_bytes(ctx, view, _DETAILS[0])
        for level in range(1, len(_DETAILS)):
            predicted = size - full + _title_bytes(ctx, view, _DETAILS[level])
            if predicted <= max_bytes or level == len(_DETAILS) - 1:
                html, info = build(_DETAILS[level], 1.0, notes)
                size = len(html.encode("utf-8"))
                if size <= max_bytes:
                    break
    if size <= max_bytes:
        info.pop("edge_bytes", None)
        info["tooltip_level"] = level
        return html, info
    edges = max(1, info["edges_shown"])
    per_edge = max(1.0, info.pop("edge_bytes", 0) / edges)
    keep = max(0.0, (edges - (size - max_bytes) * 1.05 / per_edge) / edges)
    for _ in range(20):
        html, info = build(_DETAILS[-1], keep, notes)
        if len(html.encode("utf-8")) <= max_bytes:
            info.pop("edge_bytes", None)
            info["tooltip_level"] = len(_DETAILS) - 1
            return html, info
        if keep <= 0:
            break
        keep = keep * 0.8 if keep > 0.01 else 0.0
    raise RenderError(
        f"the map does not fit in {max_bytes:,} bytes even without tooltips and ties",
        hint="use a smaller node_budget",
    )


def write_network_map(
    G: nx.Graph,
    path: str | Path,
    *,
    title: str = "",
    node_budget: int = 1500,
    edge_budget: int | None = None,
    seed: int = 0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    notices: Sequence[str] = (),
    links: Sequence[tuple[str, str]] = (),
    warnings: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """Write the interactive network map of ``G`` to ``path``.

    Actors are coloured by faction (the 20 largest factions one colour each, the
    smaller ones together as "other factions", actors in no faction as the grey
    "unassigned"; a legend names them; a graph before analysis is coloured by
    declared faction or party), sized by influence (radius proportional to the
    square root of the influence share), shaped by kind (MP diamond, party star,
    organisation square, media hexagon, union triangle, campaign inverted triangle,
    commentator and others dot); the most significant bridge figures (at most
    :data:`mapper.render.layout.BRIDGE_OUTLINES`) have a thick dark outline and
    provisional actors a dashed one. On maps of more than
    :data:`FACTION_LABELS_FROM` actors the coloured factions are named at their
    centre. Ties are arrows whose width follows the weight and whose colour is the
    most frequent reference type. Tooltips are plain text. The page has a search
    box and filters by faction and kind, and works offline.

    Parameters
    ----------
    G : networkx.DiGraph
        The influence graph (see ``docs/architecture.md``); never modified.
    path : str or Path
        Where to write the HTML page (written atomically).
    title : str
        Heading of the page (default: the graph's ``name``).
    node_budget : int
        Above this many actors the map shows the most influential actors, every
        bridge figure and the strongest ties among them, and says so on the page.
    edge_budget : int, optional
        Maximum number of ties drawn (default ``4 * node_budget``).
    seed : int
        Layout seed; the same graph and seed give a byte-identical page.
    max_bytes : int
        Size limit of the page; tooltips are shortened, then the weakest ties
        dropped, to stay under it.
    notices : sequence of str
        Sentences shown first in the page's notice (e.g. where to start on a
        large graph).
    links : sequence of (href, text)
        Links to other pages of the same folder (see :func:`page_link`).
    warnings : iterable, optional
        Evidence warnings shown in a banner at the top (see :func:`page_warnings`).

    Returns
    -------
    dict
        ``path``, ``bytes``, ``nodes_total``, ``edges_total``, ``nodes_shown``,
        ``edges_shown``, ``nodes_left_out``, ``edges_left_out``, ``bridges_total``,
        ``bridges_shown``, ``bridges_outlined`` (outlined on the page),
        ``reduced``, ``notice`` (the sentences on the page), ``layout``,
        ``tooltip_level`` (0 = full tooltips), ``labels`` (faction names drawn)
        and ``groups`` (faction id -> ``{name, shown, total}``).

    Raises
    ------
    RenderError
        If the page cannot be written or cannot be made small enough.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("a", "b", weight=1.0)
    >>> write_network_map(G, "map.html")["nodes_shown"]  # doctest: +SKIP
    2
    """
    check_graph(G)
    grouping = group_nodes(G)
    ctx = _context(G, grouping)
    first = select_view(G, node_budget=node_budget, edge_budget=edge_budget, scores=ctx.scores)
    heading = label_text(title or G.graph.get("name") or "Influence map")
    return _write_actor_map(
        ctx,
        first,
        path,
        heading=heading,
        notices=[display_text(n, one_line=True) for n in notices],
        reduced_notice=True,
        links=links,
        warnings=warnings,
        seed=seed,
        max_bytes=max_bytes,
    )


def _write_actor_map(
    ctx: _Context,
    first: View,
    path: str | Path,
    *,
    heading: str,
    notices: Sequence[str],
    reduced_notice: bool,
    links: Sequence[tuple[str, str]],
    warnings: Iterable[Any] | None,
    seed: int,
    max_bytes: int,
    focus: Hashable | None = None,
    extras_first: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Lay out, fit under ``max_bytes`` and write an actor-level map of ``first``."""
    grouping = ctx.grouping
    positions = _positions(ctx.G, first, seed)
    banner = page_warnings(warnings)
    page_links = [page_link(href, text) for href, text in links]

    def build(detail: _Detail, keep: float, notes: list[str]) -> tuple[str, dict[str, Any]]:
        view = first
        if keep < 1.0:
            kept = first.edges[len(first.edges) - int(len(first.edges) * keep) :]
            view = dataclasses.replace(first, edges=kept)
        payload = _actor_payload(ctx, view, positions, detail, focus=focus)
        groups, kinds, edge_types, extras = _legend(ctx, view)
        said = list(notices)
        if reduced_notice and view.reduced:
            said.append(view.notice())
        said.extend(notes)
        if keep < 1.0:
            said.append("The weakest ties were dropped to keep the page small.")
        page = MapPage(
            title=heading,
            subtitle=_subtitle(view),
            payload=payload,
            notices=said,
            warnings=banner,
            links=page_links,
            group_title=grouping.title,
            groups=groups,
            kinds=kinds,
            edge_types=edge_types,
            extras=[*extras_first, *extras],
            notes=[_size_note(ctx)],
        )
        info = _summary(view, grouping)
        info["bridges_outlined"] = sum(1 for n in view.nodes if n in ctx.outlined)
        info["labels"] = [label["text"] for label in payload["labels"]]
        info["notice"] = " ".join(said)
        info["edge_bytes"] = len(script_json(payload["edges"]).encode("utf-8"))
        return render_page(page), info

    html, info = _fit_page(build, ctx=ctx, view=first, max_bytes=max_bytes)
    target = _write_html(path, html)
    info.update(
        path=target, bytes=len(html.encode("utf-8")), layout=layout_method(len(first.nodes))
    )
    return info


def _positions(G: nx.Graph, view: View, seed: int) -> dict[Hashable, tuple[float, float]]:
    edges = [(u, v, edge_weight(G.edges[u, v])) for u, v in view.edges]
    return compute_positions(view.nodes, edges, seed=seed)


def _subtitle(view: View) -> str:
    return f"{len(view.nodes):,} actors · {len(view.edges):,} ties"


def _summary(view: View, grouping: Grouping) -> dict[str, Any]:
    shown = Counter(grouping.of_node.get(n, -1) for n in view.nodes)
    return {
        "nodes_total": view.nodes_total,
        "edges_total": view.edges_total,
        "nodes_shown": len(view.nodes),
        "edges_shown": len(view.edges),
        "nodes_left_out": view.nodes_total - len(view.nodes),
        "edges_left_out": view.edges_total - len(view.edges),
        "bridges_total": view.bridges_total,
        "bridges_shown": view.bridges_shown,
        "reduced": view.reduced,
        "groups": {
            g: {"name": grouping.name(g), "shown": shown.get(g, 0), "total": grouping.sizes[g]}
            for g in grouping.order
        },
    }


# ---------------------------------------------------------------------- focus map


def find_actor(G: nx.Graph, actor: Any) -> Hashable:
    """Return the node of ``G`` an actor id or display name refers to.

    The id is tried first, then the display name (exactly, then ignoring case).

    Raises
    ------
    RenderError
        When no actor matches; the hint lists the closest ids and names.
    """
    if actor in G:
        return actor
    text = label_text(actor)
    if text in G:
        return text
    by_label: dict[str, list[Hashable]] = {}
    for node in G.nodes:
        by_label.setdefault(node_label(G, node), []).append(node)
    if len(by_label.get(text, [])) == 1:
        return by_label[text][0]
    folded = [
        n for label, nodes in by_label.items() if label.casefold() == text.casefold() for n in nodes
    ]
    if len(folded) == 1:
        return folded[0]
    if len(folded) > 1 or len(by_label.get(text, [])) > 1:
        ids = ", ".join(sorted(str(n) for n in (folded or by_label[text]))[:5])
        raise RenderError(f"several actors are called {text!r}", hint=f"use an id: {ids}")
    candidates = sorted({str(n) for n in G.nodes} | set(by_label))
    close = difflib.get_close_matches(text, candidates, n=5, cutoff=0.5)
    if not close:
        lowered = {c.casefold(): c for c in candidates}
        close = [
            lowered[c] for c in difflib.get_close_matches(text.casefold(), lowered, n=5, cutoff=0.5)
        ]
    hint = "did you mean: " + ", ".join(close) if close else "check the actor id in the roster"
    raise RenderError(f"no actor {text!r} in the graph", field="actor", hint=hint)


def neighbourhood(G: nx.Graph, actor: Hashable, radius: int = 1) -> list[Hashable]:
    """Actors within ``radius`` ties of ``actor``, following ties in both directions.

    Returns the actors in the graph's node order (the actor itself included).
    """
    seen = {actor: 0}
    queue = deque([actor])
    directed = G.is_directed()
    while queue:
        node = queue.popleft()
        depth = seen[node]
        if depth >= radius:
            continue
        around: Iterable[Hashable] = G.neighbors(node)
        if directed:
            around = list(G.successors(node)) + list(G.predecessors(node))
        for other in around:
            if other not in seen:
                seen[other] = depth + 1
                queue.append(other)
    return [n for n in G.nodes if n in seen]


def _ordered_subgraph(G: nx.Graph, members: Sequence[Hashable]) -> nx.Graph:
    """The subgraph on ``members`` with nodes and edges in ``G``'s order.

    ``G.subgraph`` iterates a small subgraph in the order of a Python set (which
    changes with the hash seed), so pages drawn from it would not be reproducible.
    Attribute dicts are shallow copies; nothing is modified.
    """
    sub = G.__class__()
    sub.add_nodes_from((n, G.nodes[n]) for n in members)
    inside = set(members)
    for u in members:
        for v, data in G.adj[u].items():
            if v in inside:
                sub.add_edge(u, v, **data)
    return sub


def focus_map_path(folder: str | Path, actor_label: str) -> Path:
    """Return the path of an actor's neighbourhood map inside ``folder``.

    The file name is made by :func:`mapper.fsutil.safe_filename`, so no name (not
    even ``../../evil``) can place the file outside ``folder``.

    Raises
    ------
    RenderError
        If the resulting path would still leave ``folder`` (it cannot, by
        construction; the check guards against future changes).
    """
    base = Path(folder)
    target = base / f"{safe_filename(label_text(actor_label))}.html"
    if target.resolve().parent != base.resolve():
        raise RenderError("unsafe file name for a focus map", source=str(actor_label))
    return target


def write_focus_map(
    G: nx.Graph,
    actor: Any,
    path: str | Path,
    *,
    radius: int = 1,
    title: str = "",
    node_budget: int = 1500,
    seed: int = 0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    links: Sequence[tuple[str, str]] = (),
    warnings: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """Write the map of one actor's neighbourhood (ties in both directions).

    Parameters
    ----------
    G : networkx.DiGraph
        The influence graph; never modified.
    actor : str
        Actor id or display name.
    path : str or Path
        Where to write the page (see :func:`focus_map_path` for a safe name).
    radius : int
        How many ties away from the actor to go (1 = direct contacts).
    title, node_budget, seed, max_bytes, links, warnings
        As for :func:`write_network_map`; the actor is always kept.

    Returns
    -------
    dict
        The summary of :func:`write_network_map` plus ``actor`` and ``radius``.

    Raises
    ------
    RenderError
        If the actor is unknown (with close matches in the hint) or ``radius < 0``.
    """
    check_graph(G)
    if int(radius) < 0:
        raise RenderError("radius must be 0 or more", field="radius")
    node = find_actor(G, actor)
    members = neighbourhood(G, node, int(radius))
    sub = _ordered_subgraph(G, members)
    grouping = group_nodes(G)
    ctx = _context(G, grouping)
    first = select_view(
        sub, node_budget=node_budget, scores=ctx.scores, keep=[node], outlined=ctx.outlined
    )
    label = node_label(G, node)
    heading = label_text(title or f"Neighbourhood of {label}")
    if radius == 1:
        around = f"{len(members) - 1:,} direct contacts"
    else:
        around = f"{len(members) - 1:,} actors up to {radius} ties away"
    info = _write_actor_map(
        ctx,
        first,
        path,
        heading=heading,
        notices=[f"{label} and {around} (ties in both directions)."],
        reduced_notice=True,
        links=links,
        warnings=warnings,
        seed=seed,
        max_bytes=max_bytes,
        focus=node,
        extras_first=[{"style": "focus", "text": f"{label} (selected)"}],
    )
    info.update(actor=node, radius=int(radius))
    return info


# -------------------------------------------------------------------- faction maps


def _pair_key(key: Any) -> tuple[int, int] | None:
    if isinstance(key, str):
        parts = re.findall(r"(?<![0-9])-?[0-9]+", key)
    elif isinstance(key, Iterable):
        parts = list(key)
    else:
        return None
    if len(parts) != 2:
        return None
    try:
        a, b = (int(number(p, float("nan"))) for p in parts)
    except (ValueError, OverflowError):
        return None
    return (a, b) if a <= b else (b, a)


def faction_ties(
    G: nx.Graph, grouping: Grouping, weight: str = "weight"
) -> tuple[dict[tuple[int, int], dict[str, float]], dict[int, float]]:
    """Sum the ties between and within groups.

    Returns
    -------
    between : dict
        ``(a, b)`` with ``a < b`` -> ``{"weight", "count", "ab", "ba"}`` (``ab``: weight
        of ties from ``a`` to ``b``).
    within : dict
        Group -> total weight of the ties inside it.
    """
    return cached(
        ("faction_ties", id(G), id(grouping), weight),
        (G, grouping),
        lambda: _faction_ties(G, grouping, weight),
    )


def _faction_ties(
    G: nx.Graph, grouping: Grouping, weight: str
) -> tuple[dict[tuple[int, int], dict[str, float]], dict[int, float]]:
    import numpy as np

    arrays = edge_arrays(G, weight)
    between: dict[tuple[int, int], dict[str, float]] = {}
    within: dict[int, float] = {}
    if len(arrays.src) == 0:
        return between, within
    gid = _node_groups(arrays, grouping)
    a, b, w = gid[arrays.src], gid[arrays.dst], arrays.weight
    count = np.where(np.isnan(arrays.count), 1.0, np.trunc(arrays.count))
    # np.bincount adds in input order, as the loop over the edges did: same sums.
    same = a == b
    if same.any():
        keys, first, inverse = np.unique(a[same], return_index=True, return_inverse=True)
        sums = np.bincount(inverse, weights=w[same])
        for i in np.argsort(first, kind="stable"):  # in order of first appearance
            within[int(keys[i])] = float(sums[i])
    cross = ~same
    if cross.any():
        lo, hi = np.minimum(a[cross], b[cross]), np.maximum(a[cross], b[cross])
        wc, forward = w[cross], (a < b)[cross]
        pairs, first, inverse = np.unique(
            np.column_stack([lo, hi]), axis=0, return_index=True, return_inverse=True
        )
        inverse = inverse.ravel()
        size = len(pairs)
        weight_sum = np.bincount(inverse, weights=wc, minlength=size)
        count_sum = np.bincount(inverse, weights=count[cross], minlength=size)
        ab = np.bincount(inverse, weights=np.where(forward, wc, 0.0), minlength=size)
        ba = np.bincount(inverse, weights=np.where(forward, 0.0, wc), minlength=size)
        for i in np.argsort(first, kind="stable"):
            between[(int(pairs[i, 0]), int(pairs[i, 1]))] = {
                "weight": float(weight_sum[i]),
                "count": float(count_sum[i]),
                "ab": float(ab[i]),
                "ba": float(ba[i]),
            }
    return between, within


def _node_groups(arrays: Any, grouping: Grouping) -> Any:
    import numpy as np

    of_node = grouping.of_node
    return np.fromiter(
        (of_node.get(n, -1) for n in arrays.nodes), dtype=np.int64, count=len(arrays.nodes)
    )


def faction_brokers(
    G: nx.Graph, grouping: Grouping, *, top: int = 5, weight: str = "weight"
) -> dict[tuple[int, int], list[tuple[Hashable, float]]]:
    """The actors with most ties into both groups of every pair.

    An actor's score for a pair ``(a, b)`` is the smaller of its tie weights (both
    directions) with members of ``a`` and with members of ``b``; its own group counts,
    so members of either side and outsiders can broker.

    Returns
    -------
    dict
        ``(a, b)`` with ``a < b`` -> up to ``top`` ``(actor, score)``, best first.
    """
    # Computed once for up to 5 (or ``top``) per pair, then cut: the faction map
    # (top 5) and the faction image (top 1) share the work.
    if not isinstance(top, int) or top < 0:
        return _faction_brokers(G, grouping, top, weight)
    depth = max(top, _BROKERS_KEPT)
    found = cached(
        ("faction_brokers", id(G), id(grouping), weight, depth),
        (G, grouping),
        lambda: _faction_brokers(G, grouping, depth, weight),
    )
    return {pair: rows[:top] for pair, rows in found.items()}


_BROKERS_KEPT = 5


def _faction_brokers(
    G: nx.Graph, grouping: Grouping, top: int, weight: str
) -> dict[tuple[int, int], list[tuple[Hashable, float]]]:
    """Vectorised: each actor's tie weight into every group (both directions, in
    edge order, as a loop would add them), then every pair of its groups."""
    import numpy as np

    arrays = edge_arrays(G, weight)
    loop = arrays.src != arrays.dst
    src, dst, w = arrays.src[loop], arrays.dst[loop], arrays.weight[loop]
    if len(src) == 0:
        return {}
    gid = _node_groups(arrays, grouping)
    # per edge: the source's weight into the target's group, then the reverse
    actor = np.column_stack([src, dst]).ravel()
    group = np.column_stack([gid[dst], gid[src]]).ravel()
    values, code = np.unique(group, return_inverse=True)
    k = len(values)
    keys, inverse = np.unique(actor * k + code.ravel(), return_inverse=True)
    into = np.bincount(inverse.ravel(), weights=np.repeat(w, 2))  # actor x group, sorted
    row_actor, row_group = keys // k, keys % k
    total = np.bincount(row_actor, weights=into, minlength=len(arrays.nodes))
    starts = np.flatnonzero(np.r_[True, row_actor[1:] != row_actor[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    pair_a, pair_b, score, who = [], [], [], []
    for size in np.unique(sizes):
        if size < 2:
            continue
        at = starts[sizes == size][:, None] + np.arange(size)  # actors with `size` groups
        i, j = np.triu_indices(int(size), 1)
        pair_a.append(row_group[at[:, i]].ravel())
        pair_b.append(row_group[at[:, j]].ravel())
        score.append(np.minimum(into[at[:, i]], into[at[:, j]]).ravel())
        who.append(np.repeat(row_actor[at[:, 0]], len(i)))
    if not pair_a:
        return {}
    pa, pb = np.concatenate(pair_a), np.concatenate(pair_b)
    sc, ac = np.concatenate(score), np.concatenate(who)
    names = sorted(range(len(arrays.nodes)), key=lambda n: (str(arrays.nodes[n]), n))
    name_rank = np.empty(len(names), dtype=np.int64)
    name_rank[names] = np.arange(len(names))
    pair = pa * k + pb
    order = np.lexsort((name_rank[ac], -total[ac], -sc, pair))
    pair, sc, ac = pair[order], sc[order], ac[order]
    first = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    rank = np.arange(len(pair)) - np.repeat(first, np.diff(np.r_[first, len(pair)]))
    chosen = rank < top
    found: dict[tuple[int, int], list[tuple[Hashable, float]]] = {}
    nodes = arrays.nodes
    for p, s, a in zip(
        pair[chosen].tolist(), sc[chosen].tolist(), ac[chosen].tolist(), strict=True
    ):
        key = (int(values[p // k]), int(values[p % k]))
        found.setdefault(key, []).append((nodes[a], s))
    for p in np.unique(pair).tolist():  # pairs whose brokers all fall beyond `top`
        found.setdefault((int(values[p // k]), int(values[p % k])), [])
    return found


def _broker_names(G: nx.Graph, value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("name") or item.get("label") or item.get("actor") or item.get("id")
        elif isinstance(item, tuple) and item:
            item = item[0]
        if item is None:
            continue
        if item in G:
            names.append(node_label(G, item))
        else:
            names.append(clean_text(item, one_line=True, max_length=_LABEL_LENGTH))
    return [n for n in names if n]


def _faction_layout(
    grouping: Grouping,
    groups: Sequence[int],
    between: Mapping[tuple[int, int], Mapping[str, float]],
    seed: int,
    spread: float = 170.0,
) -> dict[int, tuple[float, float]]:
    edges = [(a, b, w["weight"]) for (a, b), w in between.items() if a in groups and b in groups]
    positions = compute_positions(groups, edges, seed=seed, spread=spread)
    return {group: positions[group] for group in groups}


def _faction_nodes(
    net: Any,
    G: nx.Graph,
    ctx: _Context,
    groups: Sequence[int],
    positions: Mapping[int, tuple[float, float]],
    within: Mapping[int, float],
    *,
    over: Grouping | None = None,
    links: Mapping[int, str] | None = None,
) -> None:
    """One node per group of ``over`` (default: the context's grouping), coloured and
    filtered as its actors are on the actor maps; ``links`` (group -> page) adds a
    double-click way into a faction's own map."""
    grouping = ctx.grouping
    over = over or grouping
    links = links or {}
    largest = max((over.sizes.get(g, 0) for g in groups), default=1) or 1
    # The layout's radius grows with sqrt(len(groups)): so do sizes and fonts, to
    # stay readable when the page first shows the whole overview.
    scale = max(1.0, math.sqrt(len(groups)) / 4.0)
    members: dict[int, list[Hashable]] = {}
    for node in G.nodes:
        members.setdefault(over.of_node.get(node, UNASSIGNED), []).append(node)
    for group in groups:
        people = members.get(group, [])
        size = over.sizes.get(group, 0)
        name = _overview_name(over, group)
        central = sorted(people, key=lambda n: (ctx.rank[n], str(n)))[:5]
        parties = Counter(label_text(G.nodes[n].get("party"), 60) for n in people)
        parties.pop("", None)
        kinds = Counter(node_kind(G, n) for n in people)
        bridges = sum(1 for n in people if n in ctx.outlined)
        lines = [name, f"{size:,} actors"]
        if group == OTHER_GROUPS:
            lines.append(f"{over.merged:,} smaller factions drawn as one")
        if central:
            lines.append("Most influential: " + ", ".join(node_label(G, n) for n in central))
        if parties:
            lines.append("Parties: " + ", ".join(f"{p} ({c})" for p, c in parties.most_common(4)))
        lines.append(
            "Kinds: " + ", ".join(f"{kind_name(k)} ({c})" for k, c in kinds.most_common(4))
        )
        if bridges:
            lines.append(f"Bridge figures (outlined on the maps): {bridges:,}")
        lines.append(f"Ties inside: weight {_fmt(within.get(group, 0.0))}")
        extra: dict[str, Any] = {}
        if group in links:
            extra["link"] = links[group]
            lines.append(f"Double-click to open its own map ({links[group]}).")
        shown = grouping.shown_group(group)
        net.add_node(
            f"faction:{group}",
            label=label_text(name, _LABEL_LENGTH) + f"\n{size:,} actors",
            shape="dot",
            title=plain_title("\n".join(lines)),
            x=positions[group][0],
            y=positions[group][1],
            size=round((14 + 46 * math.sqrt(size / largest)) * scale, 1),
            group=_group_key(shown),
            font={"size": round(18 * scale, 1)},
            fac=shown,
            kind="faction",
            **extra,
        )


def _overview_name(over: Grouping, group: int) -> str:
    name = over.name(group)
    return f"{name} ({over.merged:,})" if group == OTHER_GROUPS else name


def write_faction_map(
    G: nx.Graph,
    path: str | Path,
    *,
    names: Mapping[Any, Any] | None = None,
    brokers: Mapping[Any, Any] | None = None,
    title: str = "",
    seed: int = 0,
    faction_links: Mapping[int, str] | None = None,
    links: Sequence[tuple[str, str]] = (),
    warnings: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """Write the faction overview: one node per faction, ties summed between them.

    Node size follows the number of members and the label is the faction's name;
    every tie between two factions is labelled with its main brokers. The
    :data:`OVERVIEW_FACTIONS` largest factions are drawn one by one, the smaller
    ones as one "other factions" node, the actors in no faction as one "unassigned"
    node; colours and filters are those of the actor maps.

    Parameters
    ----------
    G : networkx.DiGraph
        The graph with ``faction`` node attributes (before analysis: declared
        factions or parties); never modified.
    path : str or Path
        Where to write the page.
    names : mapping, optional
        Faction id -> name (default: the nodes' ``faction_name``).
    brokers : mapping, optional
        ``(a, b)`` (tuple, frozenset or ``"a-b"``) -> actor ids, names or dicts with
        ``actor``/``name``; by default computed by :func:`faction_brokers`.
    title : str
        Heading of the page.
    seed : int
        Layout seed.
    faction_links : mapping, optional
        Faction id -> file name of its own map in the same folder (see
        :func:`write_faction_members_map`): double-clicking the faction opens it.
    links, warnings
        As for :func:`write_network_map`.

    Returns
    -------
    dict
        ``path``, ``bytes``, ``factions`` (number of faction nodes), ``ties`` (faction
        pairs with ties) and ``brokers`` (pair -> broker names shown).
    """
    check_graph(G)
    grouping = group_nodes(G, names)
    over = grouping.collapsed(OVERVIEW_FACTIONS)
    ctx = _context(G, grouping)
    between, within = faction_ties(G, over)
    groups = list(over.order)
    positions = _faction_layout(over, groups, between, seed)
    shown_brokers = _resolve_brokers(G, over, brokers)
    node_links = {int(g): page_link(href, "")["href"] for g, href in (faction_links or {}).items()}
    net = _network()
    _faction_nodes(net, G, ctx, groups, positions, within, over=over, links=node_links)
    max_w = max((w["weight"] for w in between.values()), default=1.0) or 1.0
    labels: dict[tuple[int, int], list[str]] = {}
    for i, ((a, b), tie) in enumerate(
        sorted(between.items(), key=lambda kv: (kv[1]["weight"], kv[0]))
    ):
        who = shown_brokers.get((a, b), [])
        labels[(a, b)] = who
        name_a, name_b = _overview_name(over, a), _overview_name(over, b)
        lines = [
            f"{name_a} – {name_b}",
            f"Ties: weight {_fmt(tie['weight'])} ({int(tie['count']):,} references)",
            f"{name_a} → {name_b}: weight {_fmt(tie['ab'])}",
            f"{name_b} → {name_a}: weight {_fmt(tie['ba'])}",
        ]
        if who:
            lines.append("Main brokers: " + ", ".join(who[:5]))
        net.add_edge(
            f"faction:{a}",
            f"faction:{b}",
            id=f"t{i}",
            width=round(1 + 13 * math.sqrt(tie["weight"] / max_w), 2),
            color="#8c8c8c",
            arrows={"to": {"enabled": False}},
            label=clean_text("via " + ", ".join(who[:2]), max_length=52, one_line=True)
            if who
            else "",
            title=plain_title("\n".join(lines)),
        )
    shown_groups = {grouping.shown_group(g) for g in groups}
    payload = {
        "nodes": net.nodes,
        "edges": net.edges,
        "options": _options(large=False, groups=_group_styles(grouping, shown_groups)),
        "focus": None,
    }
    payload["options"]["edges"]["smooth"] = False
    factions = sum(1 for g in grouping.order if g >= 0)
    notes = [
        "Node size: number of actors. Edge width: total weight of the ties between "
        "two factions (both directions). Edge label: the actors with most ties "
        "into both factions."
    ]
    if node_links:
        notes.insert(0, "Double-click a faction to open its own map.")
    page = MapPage(
        title=label_text(title or "Factions"),
        subtitle=(
            f"{factions:,} factions · {len(between):,} linked pairs · "
            f"{G.number_of_nodes():,} actors"
        ),
        payload=payload,
        warnings=page_warnings(warnings),
        links=[page_link(href, text) for href, text in links],
        group_title=grouping.title,
        groups=_group_rows(grouping, grouping.sizes),
        notes=notes,
        search_label="Find a faction",
    )
    html = render_page(page)
    target = _write_html(path, html)
    return {
        "path": target,
        "bytes": len(html.encode("utf-8")),
        "factions": len(groups),
        "ties": len(between),
        "brokers": labels,
    }


def write_faction_members_map(
    G: nx.Graph,
    faction: int,
    path: str | Path,
    *,
    names: Mapping[Any, Any] | None = None,
    title: str = "",
    node_budget: int = 1500,
    seed: int = 0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    links: Sequence[tuple[str, str]] = (),
    warnings: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """Write the map of one faction: its actors and the ties among them.

    The way into a faction of a graph too large for one map: drawn like the
    network map (same colours, outlines, tooltips) but only with the faction's
    members, reduced to ``node_budget`` when the faction itself is larger.

    Parameters
    ----------
    G : networkx.DiGraph
        The analysed graph (``faction`` node attributes; before analysis the
        declared factions or parties are the groups); never modified.
    faction : int
        The faction id.
    path : str or Path
        Where to write the page.
    names : mapping, optional
        Faction id -> name.
    title, node_budget, seed, max_bytes, links, warnings
        As for :func:`write_network_map`.

    Returns
    -------
    dict
        The summary of :func:`write_network_map` plus ``faction``.

    Raises
    ------
    RenderError
        When no actor belongs to ``faction`` (the hint lists the faction ids).
    """
    check_graph(G)
    grouping = group_nodes(G, names)
    group = int(number(faction, float(UNASSIGNED)))
    members = [n for n in G.nodes if grouping.of_node.get(n, UNASSIGNED) == group]
    if group < 0 or not members:
        known = ", ".join(str(g) for g in grouping.order if g >= 0)
        raise RenderError(
            f"no faction {faction!r} in the graph", field="faction", hint=f"factions: {known}"
        )
    ctx = _context(G, grouping)
    sub = _ordered_subgraph(G, members)
    first = select_view(sub, node_budget=node_budget, scores=ctx.scores, outlined=ctx.outlined)
    name = grouping.name(group)
    noun = {"faction": "Faction", "declared_faction": "Declared faction", "party": "Party"}
    heading = label_text(title or f"{noun.get(grouping.basis, 'Group')}: {name}")
    notice = (
        f"{name}: {len(members):,} actors and the {sub.number_of_edges():,} ties among "
        "them; ties to other factions are summed on the faction overview."
    )
    info = _write_actor_map(
        ctx,
        first,
        path,
        heading=heading,
        notices=[notice],
        reduced_notice=True,
        links=links,
        warnings=warnings,
        seed=seed,
        max_bytes=max_bytes,
    )
    info["faction"] = group
    return info


def write_faction_members_maps(
    G: nx.Graph,
    pages: Mapping[int, str | Path],
    *,
    n_jobs: int | None = None,
    **options: Any,
) -> dict[int, dict[str, Any]]:
    """Write the map of every faction in ``pages`` (faction id -> path), each as
    :func:`write_faction_members_map` with ``options`` writes it.

    The pages are independent (each is laid out and fitted on its own), so they are
    written by ``n_jobs`` processes (:func:`mapper.parallel.fork_map`; default: the
    available cores when there are several pages). Each page is the same file
    whichever process writes it; a page a child fails to deliver is written again
    here, so an error is raised as it would be without children.

    Returns
    -------
    dict
        Faction id -> the summary of :func:`write_faction_members_map`, in the
        order of ``pages``.
    """
    from mapper.parallel import cpu_count, fork_map

    groups = list(pages)
    jobs = n_jobs if n_jobs is not None else (cpu_count() if len(groups) > 1 else 1)
    infos = fork_map(
        lambda group: write_faction_members_map(G, group, pages[group], **options), groups, jobs
    )
    return dict(zip(groups, infos, strict=True))


def _resolve_brokers(
    G: nx.Graph, grouping: Grouping, brokers: Mapping[Any, Any] | None
) -> dict[tuple[int, int], list[str]]:
    if brokers is None:
        computed = faction_brokers(G, grouping)
        return {pair: [node_label(G, a) for a, _ in rows] for pair, rows in computed.items()}
    resolved: dict[tuple[int, int], list[str]] = {}
    for key, value in brokers.items():
        pair = _pair_key(key)
        if pair is not None:
            resolved[pair] = _broker_names(G, value)
    return resolved


# ------------------------------------------------------------------- alliance map


def write_alliance_map(
    G: nx.Graph,
    report: Mapping[str, Any] | None,
    path: str | Path,
    *,
    names: Mapping[Any, Any] | None = None,
    introductions: bool = True,
    max_introductions: int = 12,
    title: str = "",
    seed: int = 0,
    links: Sequence[tuple[str, str]] = (),
    warnings: Iterable[Any] | None = None,
) -> dict[str, Any]:
    """Write the alliance view: factions, their ties, and suggested alliances.

    Every opportunity of the alliance report is a dashed green link between two
    factions whose tooltip explains it (score, similarity, shared topics, reason).
    With ``introductions``, suggested introductions are dashed orange links between
    actors (placed beside their faction), with dotted links to the broker who could
    make the introduction.

    Parameters
    ----------
    G : networkx.DiGraph
        The analysed graph; never modified.
    report : mapping
        ``alliance_report`` output: ``pairs``, ``opportunities`` (``a``, ``b``,
        ``score``, ``similarity``, ``shared``, ``reason``) and ``introductions``
        (``source``, ``target``, ``broker``, ``score``, ``reason``, ``faction_a``,
        ``faction_b``). Missing keys are tolerated.
    path : str or Path
        Where to write the page.
    names : mapping, optional
        Faction id -> name.
    introductions : bool
        Also draw actor-level introductions.
    max_introductions : int
        Draw at most this many introductions (best score first).
    title : str
        Heading of the page.
    seed : int
        Layout seed.
    links, warnings
        As for :func:`write_network_map`.

    Returns
    -------
    dict
        ``path``, ``bytes``, ``factions``, ``opportunities`` and ``introductions``
        (numbers drawn).
    """
    check_graph(G)
    report = report or {}
    grouping = group_nodes(G, names)
    ctx = _context(G, grouping)
    between, within = faction_ties(G, grouping)
    opportunities = [
        o for o in _rows(report.get("opportunities")) if _pair_key((o.get("a"), o.get("b")))
    ]
    groups = list(grouping.order)
    extra_names: dict[int, str] = {}
    for opp in opportunities:
        for side in ("a", "b"):
            gid = _pair_key((opp.get(side), opp.get(side)))
            if gid is not None and gid[0] not in groups:
                groups.append(gid[0])
                extra_names[gid[0]] = label_text(opp.get(f"name_{side}") or f"Faction {gid[0]}")
    sim_edges = dict(between)
    for opp in opportunities:
        pair = _pair_key((opp.get("a"), opp.get("b")))
        if pair and pair not in sim_edges:
            sim_edges[pair] = {
                "weight": max(0.5, number(opp.get("score"))),
                "count": 0,
                "ab": 0,
                "ba": 0,
            }
    spread = 240.0 if introductions else 170.0
    positions = _faction_layout(grouping, groups, sim_edges, seed, spread)
    net = _network()
    known = [g for g in groups if g not in extra_names]
    _faction_nodes(net, G, ctx, known, positions, within)
    for extra_id, name in extra_names.items():
        net.add_node(
            f"faction:{extra_id}",
            label=clean_text(name, max_length=_LABEL_LENGTH, one_line=True),
            shape="dot",
            title=plain_title(f"{name}\nNot in this graph's factions"),
            x=positions[extra_id][0],
            y=positions[extra_id][1],
            size=14,
            group="gu",
            fac=extra_id,
            kind="faction",
        )
    max_w = max((w["weight"] for w in between.values()), default=1.0) or 1.0
    for i, ((a, b), tie) in enumerate(
        sorted(between.items(), key=lambda kv: (kv[1]["weight"], kv[0]))
    ):
        if a not in groups or b not in groups:
            continue
        net.add_edge(
            f"faction:{a}",
            f"faction:{b}",
            id=f"t{i}",
            width=round(1 + 7 * math.sqrt(tie["weight"] / max_w), 2),
            color="#c9c9c9",
            arrows={"to": {"enabled": False}},
            title=plain_title(
                f"{_gname(grouping, extra_names, a)} – {_gname(grouping, extra_names, b)}\n"
                f"Existing ties: weight {_fmt(tie['weight'])}"
            ),
        )
    drawn_opps = 0
    for i, opp in enumerate(
        sorted(
            opportunities, key=lambda o: (-number(o.get("score")), str(o.get("a")), str(o.get("b")))
        )
    ):
        pair = _pair_key((opp.get("a"), opp.get("b")))
        assert pair is not None
        a, b = int(number(opp.get("a"))), int(number(opp.get("b")))
        lines = [
            "Suggested alliance: "
            f"{_gname(grouping, extra_names, a)} + {_gname(grouping, extra_names, b)}",
            f"Score {number(opp.get('score')):.2f}, similarity {number(opp.get('similarity')):.2f}",
        ]
        shared = shared_labels(opp.get("shared"))
        if shared:
            lines.append("Shared: " + ", ".join(shared))
        brokers = _broker_names(G, opp.get("brokers")) if opp.get("brokers") else []
        if brokers:
            lines.append("Ties to both: " + ", ".join(brokers[:4]))
        reason = clean_text(opp.get("reason"), max_length=400)
        if reason:
            lines.append(reason)
        net.add_edge(
            f"faction:{a}",
            f"faction:{b}",
            id=f"o{i}",
            width=4,
            color="#2e9e4f",
            dashes=[12, 8],
            smooth={"enabled": True, "type": "curvedCW", "roundness": 0.18},
            arrows={"to": {"enabled": False}},
            label=f"alliance {number(opp.get('score')):.2f}",
            font={"color": "#1f6e37"},
            title=plain_title("\n".join(lines)),
        )
        drawn_opps += 1
    drawn_intros = 0
    if introductions:
        drawn_intros = _add_introductions(
            net, G, ctx, report, positions, extra_names, max_introductions
        )
    payload = {
        "nodes": net.nodes,
        "edges": net.edges,
        "options": _options(large=False, groups=_group_styles(grouping, [*groups, -1])),
        "focus": None,
    }
    payload["options"]["edges"]["smooth"] = False
    extras = [{"style": "alliance", "text": f"Suggested alliance ({drawn_opps:,})"}]
    if drawn_intros:
        extras.append(
            {"style": "introduction", "text": f"Suggested introduction ({drawn_intros:,})"}
        )
        extras.append({"style": "broker", "text": "Broker who could introduce them"})
    extras.append({"style": "tie", "text": "Existing ties between factions"})
    notices = [] if opportunities else ["The alliance report has no opportunities."]
    page = MapPage(
        title=label_text(title or "Alliance opportunities"),
        subtitle=(
            f"{len(groups):,} factions · {drawn_opps:,} suggested alliances · "
            f"{drawn_intros:,} introductions"
        ),
        payload=payload,
        notices=notices,
        warnings=page_warnings(warnings),
        links=[page_link(href, text) for href, text in links],
        group_title=grouping.title,
        groups=[
            {
                "id": g,
                "name": _gname(grouping, extra_names, g),
                "colour": grouping.colour(g),
                "shown": grouping.sizes.get(g, 0),
                "total": grouping.sizes.get(g, 0),
            }
            for g in groups
        ],
        extras=extras,
        notes=["Hover over a dashed link to read why it is suggested."],
        search_label="Find a faction or actor",
    )
    html = render_page(page)
    target = _write_html(path, html)
    return {
        "path": target,
        "bytes": len(html.encode("utf-8")),
        "factions": len(groups),
        "opportunities": drawn_opps,
        "introductions": drawn_intros,
    }


def _gname(grouping: Grouping, extra: Mapping[int, str], group: int) -> str:
    return extra.get(group) or grouping.name(group)


def _rows(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list | tuple):
        return []
    return [row for row in value if isinstance(row, Mapping)]


def _add_introductions(
    net: Any,
    G: nx.Graph,
    ctx: _Context,
    report: Mapping[str, Any],
    positions: Mapping[int, tuple[float, float]],
    extra_names: Mapping[int, str],
    limit: int,
) -> int:
    grouping = ctx.grouping
    rows = []
    for row in _rows(report.get("introductions")):
        source, target, broker, fa, fb = introduction_ends(row)
        if source in G and target in G and source != target:
            rows.append((source, target, broker, fa, fb, row))
    rows.sort(key=lambda r: (-number(r[5].get("score")), str(r[0]), str(r[1])))
    rows = rows[: max(0, limit)]
    placed: dict[Hashable, str] = {}
    slots: Counter[int] = Counter()

    def place(actor: Hashable) -> str:
        if actor in placed:
            return placed[actor]
        group = grouping.of_node.get(actor, -1)
        cx, cy = positions.get(group, (0.0, 0.0))
        slot = slots[group]
        slots[group] += 1
        angle = 2.399963 * slot  # golden angle: spread the actors around the faction
        radius = 95 + 14 * math.sqrt(slot)
        vid = "actor:" + ctx.ids[actor]
        net.add_node(
            vid,
            label=clean_text(node_label(G, actor), max_length=_LABEL_LENGTH, one_line=True),
            shape=kind_shape(node_kind(G, actor)),
            title=ctx.node_title(actor, _DETAILS[1]),
            x=round(cx + radius * math.cos(angle), 1),
            y=round(cy + radius * math.sin(angle), 1),
            size=9,
            group=_group_key(group) + ("b" if actor in ctx.outlined else ""),
            font={"size": 12},
            fac=group,
            kind=node_kind(G, actor),
        )
        placed[actor] = vid
        return vid

    for i, (source_actor, target_actor, broker, fa, fb, row) in enumerate(rows):
        source, target = place(source_actor), place(target_actor)
        broker_name = ""
        if broker is not None and broker in G:
            broker_id = place(broker)
            broker_name = node_label(G, broker)
            for j, end in enumerate((source, target)):
                net.add_edge(
                    broker_id,
                    end,
                    id=f"b{i}-{j}",
                    width=1,
                    color="#777777",
                    dashes=[2, 4],
                    arrows={"to": {"enabled": False}},
                    title=plain_title(f"{broker_name} knows both"),
                )
        elif broker:
            broker_name = clean_text(broker, one_line=True, max_length=_LABEL_LENGTH)
        lines = [
            "Suggested introduction: "
            f"{node_label(G, source_actor)} → {node_label(G, target_actor)}",
            f"Score {number(row.get('score')):.2f}",
        ]
        if broker_name:
            lines.append(f"Broker: {broker_name}")
        if fa is not None and fb is not None and _pair_key((fa, fb)):
            lines.append(
                f"Between {_gname(grouping, extra_names, int(number(fa)))} and "
                f"{_gname(grouping, extra_names, int(number(fb)))}"
            )
        reason = clean_text(row.get("reason"), max_length=400)
        if reason:
            lines.append(reason)
        net.add_edge(
            source,
            target,
            id=f"i{i}",
            width=2.5,
            color="#e07b39",
            dashes=[8, 6],
            title=plain_title("\n".join(lines)),
        )
    return len(rows)
