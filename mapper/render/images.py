"""Static images of the maps (PNG), drawn with matplotlib.

The images use the same colours, shapes, reduction and positions as the
interactive maps (same seed, same layout), label the most influential actors and
carry a legend. matplotlib is imported inside the functions and drawn through its
Agg canvas directly, so importing mapper never selects a backend and pyplot's global
state is never touched. Text is drawn with math parsing off (a ``$`` in a name is
just a dollar sign), and the same graph and seed give a byte-identical PNG.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Hashable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx

from mapper.errors import RenderError
from mapper.fsutil import atomic_open
from mapper.render.layout import (
    BRIDGE_BORDER,
    EDGE_COLOURS,
    EDGE_DEFAULT_COLOUR,
    EDGE_TYPES,
    OTHER_GROUPS,
    PALETTE,
    UNASSIGNED,
    check_graph,
    clean_text,
    compute_positions,
    darken,
    dominant_type,
    edge_weight,
    group_nodes,
    influence_scores,
    kind_marker,
    kind_name,
    node_kind,
    node_label,
    outlined_bridges,
    select_view,
)

#: Most factions listed in an image legend (the rest are summarised in one line).
LEGEND_GROUPS = 14


@contextmanager
def _drawing() -> Iterator[Any]:
    """matplotlib settings for every image: no math text, fixed fonts and hashing."""
    import matplotlib

    with (
        matplotlib.rc_context(
            {
                "text.parse_math": False,
                "svg.hashsalt": "mapper",
                "font.family": "DejaVu Sans",
                "axes.unicode_minus": False,
            }
        ),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message=r".*Glyph .* missing from font.*")
        warnings.filterwarnings("ignore", message=r".*does not have a glyph.*")
        yield matplotlib


def _figure(width: float, height: float, dpi: int) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | Path, dpi: int) -> Path:
    target = Path(path)
    try:
        with atomic_open(target, "wb") as fh:
            fig.savefig(fh, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
    except OSError as exc:
        raise RenderError(f"cannot write the image: {exc}", source=target) from exc
    return target


def _short(text: str, length: int = 32) -> str:
    return clean_text(text, max_length=length, one_line=True)


def write_network_png(
    G: nx.Graph,
    path: str | Path,
    *,
    title: str = "",
    node_budget: int = 1500,
    edge_budget: int | None = None,
    seed: int = 0,
    top_labels: int = 25,
    dpi: int = 150,
) -> dict[str, Any]:
    """Draw the network map of ``G`` as a PNG.

    Colours by faction, shapes by kind, size by influence, dark outlines for
    the most significant bridge figures and line colours by dominant reference
    type, as on the interactive map; the ``top_labels`` most influential actors are named. Above
    ``node_budget`` the same reduced graph as the interactive map is drawn and the
    image says so.

    Parameters
    ----------
    G : networkx.DiGraph
        The influence graph; never modified.
    path : str or Path
        Where to write the PNG (atomically).
    title : str
        Title of the image (default: the graph's ``name``).
    node_budget, edge_budget : int
        Reduction budgets (see :func:`mapper.render.maps.write_network_map`).
    seed : int
        Layout seed.
    top_labels : int
        How many actors get a name label.
    dpi : int
        Resolution.

    Returns
    -------
    dict
        ``path``, ``nodes_total``, ``edges_total``, ``nodes_shown``, ``edges_shown``,
        ``reduced`` and ``notice``.
    """
    check_graph(G)
    grouping = group_nodes(G)
    scores, basis = influence_scores(G)
    view = select_view(G, node_budget=node_budget, edge_budget=edge_budget, scores=scores)
    edges = [(u, v, edge_weight(G.edges[u, v])) for u, v in view.edges]
    pos = compute_positions(view.nodes, edges, seed=seed)
    n = len(view.nodes)
    outlined = outlined_bridges(G)
    heading = _short(title or G.graph.get("name") or "Influence map", 90)
    with _drawing():
        fig = _figure(13, 9, dpi)
        ax = fig.add_axes((0.01, 0.05, 0.72, 0.87))
        ax.set_axis_off()
        ax.set_aspect("equal")
        _draw_edges(ax, G, view.edges, pos, large=n > 400)
        shown_max = max((scores.get(x, 0.0) for x in view.nodes), default=0.0) or 1.0
        smallest = 4.0 if n <= 150 else 2.6 if n <= 1000 else 1.8
        by_marker: dict[str, list[Hashable]] = {}
        for node in view.nodes:
            by_marker.setdefault(kind_marker(node_kind(G, node)), []).append(node)
        for marker in sorted(by_marker):
            members = by_marker[marker]
            sizes, fills, borders, widths = [], [], [], []
            for node in members:
                share = math.sqrt(scores.get(node, 0.0) / shown_max)
                radius = smallest + (15 - smallest) * share
                if marker == "*":
                    radius *= 1.4
                sizes.append(radius**2)
                fill = grouping.colour(grouping.of_node.get(node, -1))
                fills.append(fill)
                bridge = node in outlined
                borders.append(BRIDGE_BORDER if bridge else darken(fill, 0.65))
                widths.append(1.8 if bridge else 0.4)
            ax.scatter(
                [pos[x][0] for x in members],
                [pos[x][1] for x in members],
                s=sizes,
                c=fills,
                marker=marker,
                edgecolors=borders,
                linewidths=widths,
                zorder=3,
            )
        labelled = sorted(view.nodes, key=lambda x: (-scores.get(x, 0.0), str(x)))
        for node in labelled[: max(0, top_labels)]:
            share = math.sqrt(scores.get(node, 0.0) / shown_max)
            _label(ax, pos[node], _short(node_label(G, node)), 6.5 + 3.5 * share)
        _frame(ax, pos)
        subtitle = f"{n:,} actors · {len(view.edges):,} ties"
        fig.text(0.01, 0.975, heading, fontsize=15, fontweight="bold", va="top")
        fig.text(0.01, 0.94, subtitle, fontsize=9.5, color="#555555", va="top")
        notice = view.notice()
        if notice:
            fig.text(0.01, 0.015, notice, fontsize=8, color="#6b5a00", va="bottom", wrap=True)
        size_text = (
            "Size: influence (weighted PageRank)"
            if basis == "influence"
            else "Size: share of incoming ties"
        )
        _network_legend(fig, G, view.nodes, view.edges, grouping, size_text, outlined)
        target = _save(fig, path, dpi)
    return {
        "path": target,
        "nodes_total": view.nodes_total,
        "edges_total": view.edges_total,
        "nodes_shown": n,
        "edges_shown": len(view.edges),
        "reduced": view.reduced,
        "notice": notice,
    }


def _draw_edges(
    ax: Any,
    G: nx.Graph,
    edges: list[tuple[Hashable, Hashable]],
    pos: Mapping[Hashable, tuple[float, float]],
    *,
    large: bool,
) -> None:
    from matplotlib.collections import LineCollection

    if not edges:
        return
    weights = [edge_weight(G.edges[u, v]) for u, v in edges]
    max_w = max(weights) or 1.0
    segments = [(pos[u], pos[v]) for u, v in edges]
    colours = [
        EDGE_COLOURS.get(dominant_type(G.edges[u, v]) or "", EDGE_DEFAULT_COLOUR) for u, v in edges
    ]
    widths = [(0.25 if large else 0.4) + 2.0 * math.sqrt(w / max_w) for w in weights]
    ax.add_collection(
        LineCollection(
            segments, colors=colours, linewidths=widths, alpha=0.35 if large else 0.6, zorder=1
        )
    )


def _label(ax: Any, xy: tuple[float, float], text: str, size: float) -> None:
    from matplotlib import patheffects

    ax.annotate(
        text,
        xy,
        xytext=(0, 7),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=size,
        color="#1d1d1d",
        zorder=5,
        path_effects=[patheffects.withStroke(linewidth=2.5, foreground="white")],
    )


def _frame(ax: Any, pos: Mapping[Any, tuple[float, float]]) -> None:
    if not pos:
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        return
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    pad_x = (max(xs) - min(xs)) * 0.06 or 50.0
    pad_y = (max(ys) - min(ys)) * 0.06 or 50.0
    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
    # Screen y grows downwards on the HTML map; flip so both look alike.
    ax.set_ylim(max(ys) + pad_y, min(ys) - pad_y)


def _network_legend(
    fig: Any,
    G: nx.Graph,
    nodes: list[Hashable],
    edges: list[tuple[Hashable, Hashable]],
    grouping: Any,
    size_text: str,
    outlined: frozenset[Hashable],
) -> None:
    from matplotlib.lines import Line2D

    handles: list[Any] = [Line2D([], [], linestyle="none", label=grouping.title)]
    shown = Counter(grouping.of_node.get(x, UNASSIGNED) for x in nodes)
    handles.extend(_group_handles(grouping, shown, marker_size=8))
    kinds = Counter(node_kind(G, x) for x in nodes)
    handles.append(Line2D([], [], linestyle="none", label=" "))
    handles.append(Line2D([], [], linestyle="none", label="Kinds (shape)"))
    for kind, count in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])):
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=kind_marker(kind),
                markersize=7,
                markerfacecolor="#9a9a9a",
                markeredgecolor="#555555",
                label=f"{_short(kind_name(kind), 28)} ({count:,})",
            )
        )
    bridges = sum(1 for x in nodes if x in outlined)
    if bridges:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="o",
                markersize=8,
                markerfacecolor="#dddddd",
                markeredgecolor=BRIDGE_BORDER,
                markeredgewidth=2,
                label=f"Bridge figure ({bridges:,})",
            )
        )
    types = Counter(dominant_type(G.edges[u, v]) for u, v in edges)
    if types:
        handles.append(Line2D([], [], linestyle="none", label=" "))
        handles.append(Line2D([], [], linestyle="none", label="Ties (colour)"))
        for kind in EDGE_TYPES:
            if types.get(kind):
                handles.append(Line2D([], [], color=EDGE_COLOURS[kind], linewidth=2.5, label=kind))
    handles.append(Line2D([], [], linestyle="none", label=" "))
    handles.append(Line2D([], [], linestyle="none", label=size_text))
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.75, 0.93),
        frameon=False,
        fontsize=8.5,
        handlelength=1.6,
        borderaxespad=0.0,
    )


def write_faction_png(
    G: nx.Graph,
    path: str | Path,
    *,
    names: Mapping[Any, Any] | None = None,
    title: str = "",
    seed: int = 0,
    dpi: int = 150,
) -> dict[str, Any]:
    """Draw the faction overview as a PNG: one circle per faction, ties between them.

    Circle area follows the number of members, line width the total tie weight;
    each line is labelled with its main broker, as on the interactive overview.

    Parameters
    ----------
    G : networkx.DiGraph
        The analysed graph; never modified.
    path : str or Path
        Where to write the PNG.
    names : mapping, optional
        Faction id -> name.
    title : str
        Title of the image.
    seed : int
        Layout seed.
    dpi : int
        Resolution.

    Returns
    -------
    dict
        ``path``, ``factions`` and ``ties``.
    """
    from mapper.render.maps import faction_brokers, faction_ties

    check_graph(G)
    grouping = group_nodes(G, names).collapsed(len(PALETTE))
    between, _ = faction_ties(G, grouping)
    groups = list(grouping.order)
    edges = [(a, b, w["weight"]) for (a, b), w in between.items()]
    pos = compute_positions(groups, edges, seed=seed, spread=170.0)
    brokers = faction_brokers(G, grouping, top=1)
    heading = _short(title or "Factions", 90)
    with _drawing():
        from matplotlib.collections import LineCollection

        fig = _figure(12, 9, dpi)
        ax = fig.add_axes((0.02, 0.04, 0.7, 0.86))
        ax.set_axis_off()
        ax.set_aspect("equal")
        ordered = sorted(between.items(), key=lambda kv: (kv[1]["weight"], kv[0]))
        max_w = max((w["weight"] for w in between.values()), default=1.0) or 1.0
        if ordered:
            ax.add_collection(
                LineCollection(
                    [(pos[a], pos[b]) for (a, b), _ in ordered],
                    colors="#9a9a9a",
                    linewidths=[1 + 11 * math.sqrt(w["weight"] / max_w) for _, w in ordered],
                    alpha=0.8,
                    zorder=1,
                )
            )
        largest = max((grouping.sizes.get(g, 0) for g in groups), default=1) or 1
        ax.scatter(
            [pos[g][0] for g in groups],
            [pos[g][1] for g in groups],
            s=[(14 + 40 * math.sqrt(grouping.sizes.get(g, 0) / largest)) ** 2 for g in groups],
            c=[grouping.colour(g) for g in groups],
            edgecolors=[darken(grouping.colour(g), 0.65) for g in groups],
            linewidths=1,
            zorder=3,
        )
        for (a, b), _tie in ordered[-12:]:
            who = brokers.get((a, b))
            if who:
                mid = ((pos[a][0] + pos[b][0]) / 2, (pos[a][1] + pos[b][1]) / 2)
                ax.annotate(
                    "via " + _short(node_label(G, who[0][0]), 24),
                    mid,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="#333333",
                    zorder=4,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
                )
        for group in groups:
            size = grouping.sizes.get(group, 0)
            name = grouping.name(group)
            if group == OTHER_GROUPS:
                name = f"{name} ({grouping.merged:,})"
            _label_below(ax, pos[group], f"{_short(name, 30)}\n{size:,} actors")
        _frame(ax, pos)
        # Leave room for the circles and their labels around the layout.
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        pad = max(abs(x1 - x0), abs(y0 - y1)) * 0.12 + 60
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 + pad, y1 - pad)
        fig.text(0.02, 0.975, heading, fontsize=15, fontweight="bold", va="top")
        fig.text(
            0.02,
            0.94,
            f"{sum(1 for g in groups if g >= 0) + grouping.merged:,} factions · "
            f"{len(between):,} linked pairs · "
            f"{G.number_of_nodes():,} actors",
            fontsize=9.5,
            color="#555555",
            va="top",
        )
        _faction_legend(fig, grouping)
        target = _save(fig, path, dpi)
    return {"path": target, "factions": len(groups), "ties": len(between)}


def _label_below(ax: Any, xy: tuple[float, float], text: str) -> None:
    from matplotlib import patheffects

    ax.annotate(
        text,
        xy,
        xytext=(0, 0),
        textcoords="offset points",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
        color="#1d1d1d",
        zorder=5,
        path_effects=[patheffects.withStroke(linewidth=3, foreground="white")],
    )


def _faction_legend(fig: Any, grouping: Any) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle="none", label=grouping.title)]
    handles.extend(_group_handles(grouping, grouping.sizes, marker_size=9))
    handles.append(Line2D([], [], linestyle="none", label=" "))
    handles.append(Line2D([], [], linestyle="none", label="Circle: members"))
    handles.append(Line2D([], [], linestyle="none", label="Line: ties between factions"))
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.74, 0.93),
        frameon=False,
        fontsize=9,
        handlelength=1.6,
        borderaxespad=0.0,
    )


def _group_handles(grouping: Any, shown: Mapping[int, int], *, marker_size: float) -> list[Any]:
    """Legend entries for the groups drawn: each coloured group (up to
    :data:`LEGEND_GROUPS`), then the other groups together, then the unassigned
    actors, as on the interactive maps. ``shown`` counts actors by group."""
    from matplotlib.lines import Line2D

    def entry(colour: str, label: str) -> Any:
        return Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=marker_size,
            markerfacecolor=colour,
            markeredgecolor=darken(colour, 0.65),
            label=label,
        )

    own = [g for g in grouping.order if g >= 0 and grouping.shown_group(g) == g and shown.get(g)]
    handles = [
        entry(grouping.colour(g), f"{_short(grouping.name(g), 28)} ({shown[g]:,})")
        for g in own[:LEGEND_GROUPS]
    ]
    if len(own) > LEGEND_GROUPS:
        rest = sum(shown[g] for g in own[LEGEND_GROUPS:])
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                label=f"+ {len(own) - LEGEND_GROUPS} more factions ({rest:,})",
            )
        )
    others = [g for g in grouping.order if g >= 0 and grouping.shown_group(g) == OTHER_GROUPS]
    actors = sum(shown.get(g, 0) for g in others) + shown.get(OTHER_GROUPS, 0)
    if actors:
        count = sum(1 for g in others if shown.get(g)) + (
            grouping.merged if shown.get(OTHER_GROUPS) else 0
        )
        label = f"{grouping.name(OTHER_GROUPS)} ({count:,} groups, {actors:,} actors)"
        handles.append(entry(grouping.colour(OTHER_GROUPS), label))
    if shown.get(UNASSIGNED):
        label = f"{grouping.name(UNASSIGNED)} ({shown[UNASSIGNED]:,})"
        handles.append(entry(grouping.colour(UNASSIGNED), label))
    return handles
