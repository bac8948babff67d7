"""Render: interactive maps, static images and the written report.

Every page is a single self-contained HTML file that works with no network
(vis-network inlined, no CDN, a Content-Security-Policy that forbids any request),
escapes all text, and is written atomically. Renderers read the node and edge
attributes described in ``docs/architecture.md`` and never modify the graph; a graph
before analysis (no factions, no influence) is drawn too, coloured by declared
faction or party and sized by incoming ties.

Public API
----------
write_network_map(G, path, *, title, node_budget, seed)
    The actor-level map (reduced above ``node_budget``, and says so).
write_faction_map(G, path, *, names, brokers)
    One node per faction, ties summed, labelled with their brokers.
write_focus_map(G, actor, path, *, radius) / focus_map_path(folder, actor_label)
    An actor's neighbourhood, under a file name that cannot leave ``folder``.
write_alliance_map(G, report, path)
    Suggested alliances (dashed) and introductions.
write_network_png(G, path) / write_faction_png(G, path)
    Static images with matplotlib.
write_report(folder, *, G, ...)
    ``report.md`` and ``report.html``.
render_all(G, folder, ...)
    All of the above into one folder.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from mapper.render.images import write_faction_png, write_network_png
from mapper.render.layout import (
    check_graph,
    clean_text,
    node_label,
    number,
    render_cache,
    truthy,
)
from mapper.render.maps import (
    find_actor,
    focus_map_path,
    write_alliance_map,
    write_faction_map,
    write_focus_map,
    write_network_map,
)
from mapper.render.report import write_report

__all__ = [
    "find_actor",
    "focus_map_path",
    "render_all",
    "render_cache",
    "write_alliance_map",
    "write_faction_map",
    "write_faction_png",
    "write_focus_map",
    "write_network_map",
    "write_network_png",
    "write_report",
]


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def annotate(G: nx.Graph, factions: Any = None, bridges: Any = None) -> nx.Graph:
    """Return ``G`` with faction and bridge attributes taken from analysis results.

    When the nodes already carry ``faction`` (resp. ``is_bridge``) or no result is
    given, nothing is added. Otherwise a copy is annotated: ``G`` itself is never
    modified.

    Parameters
    ----------
    G : networkx.Graph
        The graph.
    factions : object or dict, optional
        A result with ``partition`` (node -> faction id), ``names`` and ``stability``.
    bridges : list of dict, optional
        Bridge rows (``actor``, ``score``, ``role``, ``is_bridge``).

    Returns
    -------
    networkx.Graph
        ``G`` itself, or an annotated copy.
    """
    partition = _get(factions, "partition")
    needs_factions = isinstance(partition, Mapping) and not any(
        "faction" in d for _, d in G.nodes(data=True)
    )
    rows = [r for r in (bridges or []) if isinstance(r, Mapping)]
    needs_bridges = bool(rows) and not any("is_bridge" in d for _, d in G.nodes(data=True))
    if not needs_factions and not needs_bridges:
        return G
    H = G.copy()
    if needs_factions:
        names = _get(factions, "names") or {}
        stability = _get(factions, "stability") or {}
        for node, gid in partition.items():
            if node in H:
                group = int(number(gid, -1))
                H.nodes[node]["faction"] = group
                name = names.get(group) if isinstance(names, Mapping) else None
                H.nodes[node]["faction_name"] = clean_text(name or f"Faction {group}")
                if isinstance(stability, Mapping) and node in stability:
                    H.nodes[node]["stability"] = number(stability[node])
    if needs_bridges:
        for row in rows:
            actor = row.get("actor", row.get("id"))
            if actor in H:
                data = H.nodes[actor]
                data["bridge_score"] = number(row.get("score"))
                data["is_bridge"] = truthy(row.get("is_bridge", True))
                if row.get("role"):
                    data["role"] = clean_text(row.get("role"), one_line=True)
                for key in ("betweenness", "participation"):
                    if row.get(key) is not None:
                        data[key] = number(row.get(key))
    return H


def _focus_actors(G: nx.Graph, bridges: Any, limit: int) -> list[Hashable]:
    rows = [r for r in (bridges or []) if isinstance(r, Mapping)]
    if rows:
        ordered = sorted(rows, key=lambda r: (number(r.get("rank"), 1e9), -number(r.get("score"))))
        actors = [r.get("actor", r.get("id")) for r in ordered]
        found = [a for a in actors if a is not None and a in G]
    else:
        found = sorted(
            (n for n, d in G.nodes(data=True) if truthy(d.get("is_bridge"))),
            key=lambda n: (-number(G.nodes[n].get("bridge_score")), str(n)),
        )
    return found[: max(0, limit)]


def render_all(
    G: nx.Graph,
    folder: str | Path,
    *,
    factions: Any = None,
    summaries: Any = None,
    fault_lines: Any = None,
    bridges: Any = None,
    alliances: Any = None,
    node_budget: int = 1500,
    title: str = "",
    seed: int = 0,
    focus_maps: int = 10,
    votes: Any = None,
) -> dict[str, Path]:
    """Write every map, image and the report into ``folder``.

    Writes ``map.html``, ``factions.html``, ``alliances.html`` (when ``alliances`` is
    given), ``network.png``, ``factions.png``, one neighbourhood map per top bridge
    figure under ``actors/`` (linked from the report), ``report.md`` and
    ``report.html``.

    Parameters
    ----------
    G : networkx.DiGraph
        The influence graph; never modified (analysis results given here but not yet
        on the nodes are applied to a copy).
    folder : str or Path
        Output folder (created if needed).
    factions, summaries, fault_lines, bridges, alliances
        Analysis results, all optional (see :func:`write_report`).
    node_budget : int
        Actors shown on the network map before it is reduced.
    title : str
        Title of the map and the report.
    seed : int
        Layout seed.
    focus_maps : int
        Number of neighbourhood maps written for the top bridge figures.
    votes : optional
        The vote results of the run (:class:`mapper.pipeline.VoteOutputs`): the
        report gains its votes sections (see :func:`write_report`).

    Returns
    -------
    dict
        File name (relative to ``folder``) -> path of everything written.
    """
    with render_cache():
        return _render_all(
            G,
            Path(folder),
            factions=factions,
            summaries=summaries,
            fault_lines=fault_lines,
            bridges=bridges,
            alliances=alliances,
            node_budget=node_budget,
            title=title,
            seed=seed,
            focus_maps=focus_maps,
            votes=votes,
        )


def _render_all(
    G: nx.Graph,
    base: Path,
    *,
    factions: Any,
    summaries: Any,
    fault_lines: Any,
    bridges: Any,
    alliances: Any,
    node_budget: int,
    title: str,
    seed: int,
    focus_maps: int,
    votes: Any = None,
) -> dict[str, Path]:
    check_graph(G)
    base.mkdir(parents=True, exist_ok=True)
    H = annotate(G, factions, bridges)
    names = _get(factions, "names")
    names = names if isinstance(names, Mapping) else None
    heading = clean_text(title or G.graph.get("name") or "Influence map", one_line=True)
    out: dict[str, Path] = {}
    out["map.html"] = write_network_map(
        H, base / "map.html", title=heading, node_budget=node_budget, seed=seed
    )["path"]
    out["factions.html"] = write_faction_map(
        H, base / "factions.html", names=names, title=f"{heading}: factions", seed=seed
    )["path"]
    if alliances is not None:
        out["alliances.html"] = write_alliance_map(
            H,
            alliances,
            base / "alliances.html",
            names=names,
            title=f"{heading}: alliance opportunities",
            seed=seed,
        )["path"]
    out["network.png"] = write_network_png(
        H, base / "network.png", title=heading, node_budget=node_budget, seed=seed
    )["path"]
    out["factions.png"] = write_faction_png(
        H, base / "factions.png", names=names, title=f"{heading}: factions", seed=seed
    )["path"]
    focus_links: dict[Hashable, str] = {}
    used: set[Path] = set()
    for actor in _focus_actors(H, bridges, focus_maps):
        label = node_label(H, actor)
        target = focus_map_path(base / "actors", label)
        if target in used:
            target = focus_map_path(base / "actors", f"{label} {actor}")
        used.add(target)
        write_focus_map(H, actor, target, seed=seed)
        relative = target.relative_to(base).as_posix()
        out[relative] = target
        focus_links[actor] = relative
    out.update(
        write_report(
            base,
            G=H,
            factions=factions,
            summaries=summaries,
            fault_lines=fault_lines,
            bridges=bridges,
            alliances=alliances,
            title=heading,
            focus_links=focus_links,
            votes=votes,
        )
    )
    return out
