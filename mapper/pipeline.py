"""The pipeline: chains the stages of a project, from its sources to its outputs.

``run_project`` reads every source into the store (skipping files that did not
change), resolves the posts against the roster, builds the graph, finds the
factions, ranks the bridge figures, looks for alliance opportunities and writes the
maps, exports and report. Each stage is a plain call into its module; this file only
decides the order, times each stage and collects what the run summary reports.
Intermediate results are returned as an :class:`Analysis`, so notebooks and the CLI
can stop after any stage.
"""

from __future__ import annotations

import glob
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from mapper.errors import ConfigError, MapperError
from mapper.project import Project, Source
from mapper.store import Store

if TYPE_CHECKING:
    from mapper.origins import SourceScope

Progress = Callable[[str], None]

#: Layout seed of the maps, images and stored positions (``render_all``'s default).
MAP_SEED = 0


@dataclass
class Analysis:
    """Everything a run computed. Fields stay ``None`` for stages that did not run."""

    project: Project
    graph: nx.DiGraph
    resolution: Any = None
    factions: Any = None
    summaries: list[dict[str, Any]] | None = None
    fault_lines: list[dict[str, Any]] | None = None
    bridges: list[dict[str, Any]] | None = None
    alliances: dict[str, Any] | None = None
    imports: list[dict[str, Any]] = field(default_factory=list)
    #: Where the mapped posts came from (:meth:`mapper.origins.SourceScope.as_dict`).
    sources: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Counts and timings of the run, for ``summary.json`` and the CLI."""
        G = self.graph
        out: dict[str, Any] = {
            "project": self.project.name,
            "actors": G.number_of_nodes(),
            "ties": G.number_of_edges(),
            "provisional_actors": sum(1 for _, d in G.nodes(data=True) if d.get("provisional")),
            "imports": self.imports,
            "seconds": {k: round(v, 3) for k, v in self.timings.items()},
        }
        if self.sources is not None:
            out["sources"] = self.sources
        if self.resolution is not None:
            out["edge_events"] = len(self.resolution.events)
        if self.factions is not None:
            out["factions"] = len(set(self.factions.partition.values()))
            out["modularity"] = round(float(self.factions.modularity), 4)
            out["faction_method"] = self.factions.method
        if self.bridges is not None:
            out["bridge_figures"] = sum(1 for b in self.bridges if b.get("is_bridge"))
        if self.alliances is not None:
            out["opportunities"] = len(self.alliances.get("opportunities", []))
            out["introductions"] = len(self.alliances.get("introductions", []))
        return out


@contextmanager
def _timed(timings: dict[str, float], stage: str, progress: Progress | None) -> Iterator[None]:
    """Time a stage, with the cyclic garbage collector paused.

    Every stage makes millions of small objects next to a graph that is already
    millions of containers; each automatic full collection then walks the whole heap
    (a second or more at 1M posts). Measured at 1M posts: the maps took 16.4 s with
    the collector running and 9.1 s without; resolve and graph 55.5 s against 48.2 s.
    The stages make little cyclic garbage; what they make is collected after.
    """
    from mapper.graph.build import gc_paused

    if progress:
        progress(stage)
    start = time.perf_counter()
    try:
        with gc_paused():
            yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


def _file_paths(project: Project, source: Source) -> list[Path]:
    paths = sorted(Path(p) for p in glob.glob(str(project.source_path(source))))
    if not paths:
        raise ConfigError(
            "no file matches", source=project.path, field=f"sources[{source.index}].path"
        )
    return paths


def import_sources(
    project: Project,
    store: Store,
    *,
    collect: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Read every source of ``project`` into ``store``.

    File sources are imported (and skipped when unchanged unless ``force``); live
    sources run only when ``collect`` is true, since remote reads can be paid. Graph
    files are not posts: they are merged at the graph stage instead. The posts stored
    are recorded as the project's, under their file or live source
    (:mod:`mapper.origins`).

    Returns one dict per file or live source with its counts.
    """
    import os

    from mapper.origins import source_key
    from mapper.sources import collect_source, import_file

    results: list[dict[str, Any]] = []
    for source in project.sources:
        if source.type == "graph":
            continue
        if source.live:
            if not collect:
                results.append(
                    {"source": source.describe(), "skipped": "live source (use --collect)"}
                )
                continue
            if progress:
                progress(f"collect {source.describe()}")
            with store.attributed(project=project.path, key=source_key(source), kind="live"):
                results.append(collect_source(source, store, project=project))
            continue
        for path in _file_paths(project, source):
            if progress:
                progress(f"import {path.name}")
            with store.attributed(project=project.path, key=os.path.abspath(path), kind="file"):
                results.append(
                    import_file(
                        source.type,
                        path,
                        store,
                        force=force,
                        options=source.options,
                        base=project.base,
                    )
                )
    return results


def build(
    project: Project,
    store: Store,
    *,
    timings: dict[str, float] | None = None,
    progress: Progress | None = None,
    scope: SourceScope | None = None,
) -> tuple[nx.DiGraph, Any]:
    """Resolve the store's posts against the roster and build the filtered graph.

    Only the posts of the sources the project lists (and those added by hand) are
    used: ``scope`` (:func:`mapper.origins.source_scope`, computed when not given)
    says which.

    Returns the graph (with ``influence`` on every node) and the resolution (events,
    actors, topics, report).
    """
    from mapper.graph import apply_influence, build_graph, filter_events, filter_graph, influence
    from mapper.origins import source_scope
    from mapper.resolve import Resolver, load_roster

    timings = timings if timings is not None else {}
    with _timed(timings, "resolve", progress):
        roster = load_roster(project.roster) if project.roster else None
        resolver = Resolver(roster) if roster else Resolver.empty()
        if scope is None:
            scope = source_scope(project, store)
        resolution = resolver.resolve(store.iter_posts(exclude_origins=scope.excluded_ids))
    with _timed(timings, "graph", progress):
        events: Any = resolution.events
        if project.since or project.until:
            # exact weights, counts and evidence for the window (filter_graph can only
            # keep or drop whole edges)
            events = filter_events(events, since=project.since, until=project.until)
        G = build_graph(
            events,
            resolution.actors,
            type_weights=project.weights,
            max_evidence=project.max_evidence,
            topics=resolution.topics,
            name=project.name,
        )
        merged = False
        for source in project.sources:
            if source.type == "graph":
                from mapper.sources import merge_graph_file

                for path in _file_paths(project, source):
                    merge_graph_file(G, path, roster=roster)
                    merged = True
        min_weight = project.min_weight or None
        filtered = (
            min_weight is not None
            or project.kinds is not None
            or project.largest_component
            or project.drop_provisional
        )
        # Without a filter or a merged graph file, filter_graph would only copy the
        # graph build_graph has just made (fresh attribute dicts, nodes and edges
        # already in sorted order): a third of this stage at 100k posts. Skip it.
        if merged or filtered:
            G = filter_graph(
                G,
                min_weight=min_weight,
                kinds=project.kinds,
                largest_component=project.largest_component,
                drop_provisional=project.drop_provisional,
            )
        apply_influence(G, influence(G))
    return G, resolution


def analyse(
    project: Project,
    G: nx.DiGraph,
    *,
    timings: dict[str, float] | None = None,
    progress: Progress | None = None,
    stages: tuple[str, ...] = ("factions", "bridges", "alliances", "layout"),
) -> dict[str, Any]:
    """Run the analysis stages on ``G``, writing their results onto its nodes.

    The ``layout`` stage gives every actor a position (node attributes ``pos_x``,
    ``pos_y``): the network map's layout for the actors the map shows (the map and
    the PNG then reuse it), the others placed near their neighbours
    (:func:`mapper.render.layout.map_positions`). The GEXF export hands these
    positions to Gephi.
    """
    from mapper.analysis.factions import (
        apply_factions,
        detect_factions,
        faction_summaries,
        fault_lines,
    )

    timings = timings if timings is not None else {}
    out: dict[str, Any] = {}
    if G.number_of_nodes() == 0:
        raise MapperError(
            "the graph is empty: no post referred to anyone",
            hint="check the sources and the roster (`mapper roster suggest`)",
        )
    with _timed(timings, "factions", progress):
        result = detect_factions(
            G,
            method=project.faction_method,
            resolution=project.resolution,
            seed=project.seed,
            runs=project.runs,
        )
        apply_factions(G, result)
        out["factions"] = result
        out["summaries"] = faction_summaries(G, result)
        out["fault_lines"] = fault_lines(G, result)
    if "bridges" in stages or "alliances" in stages:
        from mapper.analysis.bridges import apply_bridges, bridge_figures

        with _timed(timings, "bridges", progress):
            rows = bridge_figures(G, result.partition, names=result.names, seed=project.seed)
            apply_bridges(G, rows)
            out["bridges"] = rows
    if "alliances" in stages:
        from mapper.analysis.alliances import alliance_report

        with _timed(timings, "alliances", progress):
            out["alliances"] = alliance_report(
                G, result.partition, names=result.names, top=project.alliances_top
            )
    if "layout" in stages:
        from mapper.render.layout import map_positions

        with _timed(timings, "layout", progress):
            positions = map_positions(G, node_budget=project.node_budget, seed=MAP_SEED)
            nodes = G.nodes
            for node, (x, y) in positions.items():
                data = nodes[node]
                data["pos_x"] = x
                data["pos_y"] = y
    return out


def write_outputs(analysis: Analysis, *, progress: Progress | None = None) -> dict[str, Path]:
    """Write the tables, exports, maps, images and report of an analysis."""
    import orjson

    from mapper.analysis.alliances import write_alliances_csv, write_alliances_md
    from mapper.analysis.bridges import write_bridges_csv, write_bridges_md
    from mapper.analysis.factions import write_factions_csv, write_factions_md
    from mapper.export import export_all, write_rows_csv
    from mapper.fsutil import safe_filename, write_text
    from mapper.render import render_all, render_cache, write_focus_map

    project, G, out = analysis.project, analysis.graph, analysis.project.output
    timings = analysis.timings
    paths: dict[str, Path] = {}
    with _timed(timings, "tables", progress):
        if analysis.factions is not None:
            paths["factions.csv"] = write_factions_csv(G, analysis.factions, out / "factions.csv")
            paths["factions.md"] = write_factions_md(
                G,
                analysis.factions,
                out / "factions.md",
                summaries=analysis.summaries,
                fault_lines=analysis.fault_lines,
            )
        if analysis.bridges is not None:
            paths["bridges.csv"] = write_bridges_csv(analysis.bridges, out / "bridges.csv")
            paths["bridges.md"] = write_bridges_md(
                analysis.bridges, out / "bridges.md", top=project.bridges_top
            )
        if analysis.alliances is not None:
            paths["alliances.csv"] = write_alliances_csv(analysis.alliances, out / "alliances.csv")
            paths["alliances.md"] = write_alliances_md(analysis.alliances, out / "alliances.md")
        if analysis.resolution is not None:
            paths["unresolved.csv"] = write_rows_csv(
                analysis.resolution.report.to_rows(), out / "unresolved.csv"
            )
    with _timed(timings, "maps", progress), render_cache():
        paths.update(
            render_all(
                G,
                out,
                factions=analysis.factions,
                summaries=analysis.summaries,
                fault_lines=analysis.fault_lines,
                bridges=analysis.bridges,
                alliances=analysis.alliances,
                node_budget=project.node_budget,
                title=project.name,
                seed=MAP_SEED,
            )
        )
        for actor in project.focus:
            if actor in G:
                name = f"focus-{safe_filename(actor)}.html"
                write_focus_map(G, actor, out / name, radius=1)
                paths[name] = out / name
    # Inside the render cache too: the GEXF colours reuse the maps' grouping.
    with _timed(timings, "exports", progress), render_cache():
        paths.update(export_all(G, out, formats=tuple(project.formats)))
    analysis.outputs.update(paths)
    summary = analysis.summary()
    summary["outputs"] = sorted(_relative(p, out) for p in paths.values())
    paths["summary.json"] = write_text(
        out / "summary.json", orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n"
    )
    analysis.outputs["summary.json"] = paths["summary.json"]
    return paths


def _relative(path: Path, folder: Path) -> str:
    try:
        return path.resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path)


def run_project(
    project: Project,
    *,
    collect: bool = False,
    force: bool = False,
    write: bool = True,
    progress: Progress | None = None,
) -> Analysis:
    """Run every stage of ``project`` and (unless ``write`` is false) write its outputs.

    Parameters
    ----------
    project : Project
        A loaded project (:func:`mapper.project.load_project`).
    collect : bool
        Also run live sources (remote APIs). Off by default: reads can be paid.
    force : bool
        Re-import files even when they did not change.
    write : bool
        Write maps, exports and the report to ``project.output``.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    Analysis
    """
    from mapper.origins import source_scope
    from mapper.project import _no_sources

    timings: dict[str, float] = {}
    if not project.sources:
        raise _no_sources(project.path)
    project.output.mkdir(parents=True, exist_ok=True)
    with Store(project.store) as store:
        with _timed(timings, "import", progress):
            imports = import_sources(
                project, store, collect=collect, force=force, progress=progress
            )
        scope = source_scope(project, store)
        G, resolution = build(project, store, timings=timings, progress=progress, scope=scope)
    results = analyse(project, G, timings=timings, progress=progress)
    analysis = Analysis(
        project=project,
        graph=G,
        resolution=resolution,
        factions=results.get("factions"),
        summaries=results.get("summaries"),
        fault_lines=results.get("fault_lines"),
        bridges=results.get("bridges"),
        alliances=results.get("alliances"),
        imports=imports,
        sources=scope.as_dict(),
        timings=timings,
    )
    if write:
        write_outputs(analysis, progress=progress)
    return analysis
