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
write_faction_map(G, path, *, names, brokers, faction_links)
    One node per faction, ties summed, labelled with their brokers.
write_faction_members_map(G, faction, path)
    One faction's actors and their ties (the way into a faction of a large graph).
write_focus_map(G, actor, path, *, radius) / focus_map_path(folder, actor_label)
    An actor's neighbourhood, under a file name that cannot leave ``folder``.
write_alliance_map(G, report, path)
    Suggested alliances (dashed) and introductions.
write_network_png(G, path) / write_faction_png(G, path)
    Static images with matplotlib.
write_report(folder, *, G, ...)
    ``report.md`` and ``report.html``.
render_all(G, folder, ..., warnings)
    All of the above into one folder; above the node budget the faction overview
    is the entry point, with one map per large faction.

Every map takes ``warnings`` (evidence warnings, shown in a banner at the top) and
``links`` (to the other pages of the folder).
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from mapper.parallel import cpu_count, fork_map
from mapper.render.images import write_faction_png, write_network_png
from mapper.render.layout import (
    PALETTE,
    check_graph,
    group_nodes,
    label_text,
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
    write_faction_members_map,
    write_faction_members_maps,
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
    "write_faction_members_map",
    "write_faction_members_maps",
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
                H.nodes[node]["faction_name"] = label_text(name or f"Faction {group}")
                if isinstance(stability, Mapping) and node in stability:
                    H.nodes[node]["stability"] = number(stability[node])
        for node, data in H.nodes(data=True):
            if node not in partition:  # an unassigned actor (a component too small)
                data["faction_name"] = "unassigned"
    if needs_bridges:
        for row in rows:
            actor = row.get("actor", row.get("id"))
            if actor in H:
                data = H.nodes[actor]
                data["bridge_score"] = number(row.get("score"))
                data["is_bridge"] = truthy(row.get("is_bridge", True))
                if row.get("role"):
                    data["role"] = label_text(row.get("role"))
                for key in ("betweenness", "participation"):
                    if row.get(key) is not None:
                        data[key] = number(row.get(key))
    return H


def _focus_page(
    G: nx.Graph, actor: Hashable, target: Path, *, seed: int, warnings: list[Any]
) -> dict[str, Any]:
    """Write one focus map; its summary with ``path`` (as the other pages give it)."""
    write_focus_map(G, actor, target, seed=seed, warnings=warnings)
    return {"path": target}


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


#: A faction gets its own map (on a graph above the node budget) from this size.
FACTION_MAP_MIN = 5


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
    warnings: Sequence[Any] | None = None,
    votes: Any = None,
    n_jobs: int | None = None,
) -> dict[str, Path]:
    """Write every map, image and the report into ``folder``.

    Writes ``map.html``, ``factions.html``, ``alliances.html`` (when ``alliances`` is
    given), ``network.png``, ``factions.png``, one neighbourhood map per top bridge
    figure under ``actors/`` (linked from the report), ``report.md`` and
    ``report.html``.

    A graph of more than ``node_budget`` actors cannot be shown whole on one page:
    then the faction overview is the entry point. ``map.html`` says so and links
    to it, and each of the largest factions (those with a colour of their own and
    at least :data:`FACTION_MAP_MIN` actors) gets its own map,
    ``faction-<id>.html``, linked from the overview (double-click a faction, or
    the links at the top).

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
    warnings : sequence, optional
        Evidence warnings (dicts with ``code``, ``message`` and ``stage``, as in
        ``summary.json``, or ``EvidenceWarning`` objects), shown as a banner at
        the top of every map.
    votes : optional
        The vote results of the run (:class:`mapper.pipeline.VoteOutputs`): the
        report gains its votes sections (see :func:`write_report`).
    n_jobs : int, optional
        Processes that write the maps and images of a graph above ``node_budget``
        (default: the available cores; smaller graphs are written by this process).
        The files are the same whatever it is.

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
            warnings=list(warnings or ()),
            votes=votes,
            n_jobs=n_jobs,
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
    warnings: list[Any],
    votes: Any = None,
    n_jobs: int | None = None,
) -> dict[str, Path]:
    check_graph(G)
    base.mkdir(parents=True, exist_ok=True)
    H = annotate(G, factions, bridges)
    names = _get(factions, "names")
    names = names if isinstance(names, Mapping) else None
    heading = label_text(title or G.graph.get("name") or "Influence map")
    large = H.number_of_nodes() > max(1, int(node_budget))
    grouping = group_nodes(H, names)
    faction_pages: dict[int, str] = {}
    if large:
        for group in grouping.order[: len(PALETTE)]:
            if group >= 0 and grouping.sizes.get(group, 0) >= FACTION_MAP_MIN:
                faction_pages[group] = f"faction-{group}.html"
    faction_links = [
        (page, f"{grouping.name(g)} ({grouping.sizes.get(g, 0):,})")
        for g, page in faction_pages.items()
    ]
    map_notices: list[str] = []
    map_links: list[tuple[str, str]] = []
    if large:
        map_notices.append(
            f"This graph has {H.number_of_nodes():,} actors, more than one map can show: "
            "start from the faction overview, then open the map of one faction."
        )
        map_links = [("factions.html", "Faction overview"), *faction_links]
    # Every page and image below is independent of the others (each lays out and
    # fits its own view): on a graph too large for one map they are written by
    # parallel processes (mapper.parallel.fork_map), each file the same whichever
    # process writes it. The report, which links them, comes after.
    back = [("factions.html", "Faction overview"), ("map.html", "Network map")]
    tasks: list[tuple[str, Any]] = [
        (
            "map.html",
            lambda: write_network_map(
                H,
                base / "map.html",
                title=heading,
                node_budget=node_budget,
                seed=seed,
                notices=map_notices,
                links=map_links,
                warnings=warnings,
            ),
        ),
        (
            "factions.html",
            lambda: write_faction_map(
                H,
                base / "factions.html",
                names=names,
                title=f"{heading}: factions",
                seed=seed,
                faction_links=faction_pages,
                links=[("map.html", "Network map"), *faction_links] if large else [],
                warnings=warnings,
            ),
        ),
    ]
    for group, page in faction_pages.items():
        tasks.append(
            (
                page,
                functools.partial(
                    write_faction_members_map,
                    H,
                    group,
                    base / page,
                    names=names,
                    node_budget=node_budget,
                    seed=seed,
                    links=back,
                    warnings=warnings,
                ),
            )
        )
    if alliances is not None:
        tasks.append(
            (
                "alliances.html",
                lambda: write_alliance_map(
                    H,
                    alliances,
                    base / "alliances.html",
                    names=names,
                    title=f"{heading}: alliance opportunities",
                    seed=seed,
                    warnings=warnings,
                ),
            )
        )
    tasks.append(
        (
            "network.png",
            lambda: write_network_png(
                H, base / "network.png", title=heading, node_budget=node_budget, seed=seed
            ),
        )
    )
    tasks.append(
        (
            "factions.png",
            lambda: write_faction_png(
                H, base / "factions.png", names=names, title=f"{heading}: factions", seed=seed
            ),
        )
    )
    focus_links: dict[Hashable, str] = {}
    used: set[Path] = set()
    for actor in _focus_actors(H, bridges, focus_maps):
        label = node_label(H, actor)
        target = focus_map_path(base / "actors", label)
        if target in used:
            target = focus_map_path(base / "actors", f"{label} {actor}")
        used.add(target)
        relative = target.relative_to(base).as_posix()
        tasks.append(
            (
                relative,
                functools.partial(_focus_page, H, actor, target, seed=seed, warnings=warnings),
            )
        )
        focus_links[actor] = relative
    jobs = (n_jobs if n_jobs is not None else cpu_count()) if large else 1
    written = fork_map(lambda task: task[1](), tasks, jobs)
    out: dict[str, Path] = {}
    for (name, _), info in zip(tasks, written, strict=True):
        out[name] = info["path"]
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
            warnings=warnings,
            votes=votes,
        )
    )
    return out
