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
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from mapper.errors import ConfigError, ImportFormatError, MapperError, StoreError
from mapper.progress import Meter, Progress
from mapper.project import Project, Source, own_outputs
from mapper.store import Store

if TYPE_CHECKING:
    from mapper.export import GraphFileReduction
    from mapper.origins import SourceScope

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
    warnings: list[Any] = field(default_factory=list)
    votes: Any = None
    #: Stages whose result came from the cache of the last run (:mod:`mapper.reuse`).
    reused: list[str] = field(default_factory=list)
    #: One-line notices for the user that are not findings (e.g. a cache ignored).
    notices: list[str] = field(default_factory=list)

    @classmethod
    def of_results(
        cls,
        project: Project,
        graph: nx.DiGraph,
        results: Mapping[str, Any],
        *,
        scope: SourceScope | None,
        **fields: Any,
    ) -> Analysis:
        """The run's record from what :func:`analyse` returned (or the cache of a run
        that returned it), with the scope's sources and warnings ahead of the
        analysis's own; ``fields`` are the other :class:`Analysis` fields."""
        return cls(
            project=project,
            graph=graph,
            factions=results.get("factions"),
            summaries=results.get("summaries"),
            fault_lines=results.get("fault_lines"),
            bridges=results.get("bridges"),
            alliances=results.get("alliances"),
            sources=scope.as_dict() if scope is not None else None,
            warnings=(scope.warnings() if scope is not None else [])
            + list(results.get("warnings", [])),
            **fields,
        )

    def summary(self) -> dict[str, Any]:
        """Counts and timings of the run, for ``summary.json`` and the CLI.

        ``warnings`` lists what the data cannot carry (``{"code", "message",
        "stage"}``, see :mod:`mapper.analysis.strength`), in stage order.
        """
        from mapper.analysis.strength import warnings_as_dicts

        G = self.graph
        out: dict[str, Any] = {
            "project": self.project.name,
            "actors": G.number_of_nodes(),
            "ties": G.number_of_edges(),
            "provisional_actors": sum(1 for _, d in G.nodes(data=True) if d.get("provisional")),
            "imports": self.imports,
            "seconds": {k: round(v, 3) for k, v in self.timings.items()},
            "warnings": warnings_as_dicts(self.warnings),
        }
        if self.sources is not None:
            out["sources"] = self.sources
        if self.resolution is not None:
            out["edge_events"] = self.resolution.event_count
        if self.reused:
            out["reused"] = list(self.reused)
        if self.factions is not None:
            result = self.factions
            out["factions"] = result.n_factions
            out["unassigned_actors"] = len(result.unassigned)
            out["modularity"] = round(float(result.modularity), 4)
            out["faction_method"] = result.method
            out["resolution"] = round(float(result.resolution), 6)
            if result.components is not None:
                out["components"] = result.components.as_dict()
            out["significance"] = (
                result.significance.as_dict() if result.significance is not None else None
            )
        if self.bridges is not None:
            out["bridge_figures"] = sum(1 for b in self.bridges if b.get("is_bridge"))
        if self.votes is not None:
            out["votes"] = self.votes.summary()
        if self.alliances is not None:
            out["opportunities"] = len(self.alliances.get("opportunities", []))
            out["introductions"] = len(self.alliances.get("introductions", []))
        return out


@contextmanager
def _timed(
    timings: dict[str, float], stage: str, progress: Progress | None, *, unit: str = ""
) -> Iterator[Meter]:
    """Time a stage, with the cyclic garbage collector paused, and report its progress.

    Yields the stage's :class:`~mapper.progress.Meter`: the stage counts through it and
    sets what it produced (``meter.counts``), reported when the stage ends.

    Every stage makes millions of small objects next to a graph that is already
    millions of containers; each automatic full collection then walks the whole heap
    (a second or more at 1M posts). Measured at 1M posts: the maps took 16.4 s with
    the collector running and 9.1 s without; resolve and graph 55.5 s against 48.2 s.
    The stages make little cyclic garbage; what they make is collected after.
    """
    from mapper.graph.build import gc_paused

    meter = Meter(progress, stage, unit=unit)
    meter.start()
    start = time.perf_counter()
    try:
        with gc_paused():
            yield meter
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start
    meter.finish()


#: Why a file matched by a source's pattern is not read (see :func:`mapper.project.own_outputs`).
OWN_OUTPUT_SKIPPED = (
    "not read: a file in the project's output folder (a run's own output); "
    "name the output folder in the pattern to read it"
)


def _file_paths(project: Project, source: Source, *, required: bool = True) -> list[Path]:
    """The files a file source names (its pattern expanded); folders are left out.

    Raises :class:`~mapper.errors.ConfigError` when nothing matches, unless not
    ``required`` (an empty list then).
    """
    found = sorted(Path(p) for p in glob.glob(str(project.source_path(source))))
    own = set(own_outputs(project, source, found))
    paths = [p for p in found if not p.is_dir() and p not in own]
    if not paths and required:
        what = (
            "only the project's own outputs match"
            if own
            else ("only folders match" if found else "no file matches")
        )
        raise ConfigError(
            f"{what} {source.options.get('path')!r}",
            source=project.path,
            field=f"sources[{source.index}].path",
            hint="paths are relative to the project file; a folder needs a pattern such as"
            " folder/*.jsonl",
        )
    return paths


def _failure(label: str, kind: str, exc: MapperError) -> dict[str, Any]:
    """The import result of a source that could not be read: its one-line reason."""
    return {"source": label, "type": kind, "error": exc.one_line()}


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
    files are not posts: they are read and described here (nodes, ties, whether
    directed) and merged at the graph stage. The posts stored are recorded as the
    project's, under their file or live source (:mod:`mapper.origins`).

    A source that cannot be used does not stop the others: a file unusable as a whole
    (empty, another format, UTF-16, a broken graph file), a pattern matching no file,
    a live service that cannot be reached or refuses the request. Its result carries
    ``error``, one line naming the file or source and why, and the other sources are
    read. Only a store that cannot be written stops the import.

    Returns one dict per file or live source with its counts (or its ``error``).
    ``progress`` hears of each file and of the posts read (with the share of the
    files' bytes read so far).
    """
    import os

    from mapper.origins import source_key
    from mapper.sources import collect_source, describe_graph_source, import_file

    results: list[dict[str, Any]] = []
    meter = Meter(progress, "import", unit="posts")
    meter.total_bytes = _total_bytes(project)
    done_bytes = 0
    for source in project.sources:
        if source.live:
            if not collect:
                results.append(
                    {"source": source.describe(), "skipped": "live source (use --collect)"}
                )
                continue
            meter.start(f"collect {source.describe()}")
            try:
                with store.attributed(project=project.path, key=source_key(source), kind="live"):
                    results.append(collect_source(source, store, project=project))
            except StoreError:
                raise
            except MapperError as exc:
                results.append(_failure(source.describe(), source.type, exc))
            continue
        try:
            paths = _file_paths(project, source)
        except ConfigError as exc:
            results.append(_failure(source.describe(), source.type, exc))
            continue
        found = sorted(Path(p) for p in glob.glob(str(project.source_path(source))))
        for path in own_outputs(project, source, found):
            results.append(
                {"source": str(path), "type": source.type, "skipped": OWN_OUTPUT_SKIPPED}
            )
        for path in paths:
            meter.start(path.name)
            try:
                if source.type == "graph":
                    results.append(describe_graph_source(path, options=source.options))
                else:
                    counted = meter.counting_store(store, done_bytes=done_bytes)
                    with store.attributed(
                        project=project.path, key=os.path.abspath(path), kind="file"
                    ):
                        results.append(
                            import_file(
                                source.type,
                                path,
                                counted,
                                force=force,
                                options=source.options,
                                base=project.base,
                            )
                        )
            except StoreError:
                raise
            except MapperError as exc:
                results.append(_failure(str(path), source.type, exc))
            done_bytes += _size(path)
            meter.fraction = done_bytes / meter.total_bytes if meter.total_bytes else None
    meter.finish(files=sum(1 for r in results if "skipped" not in r and "error" not in r))
    return results


def failed_imports(imports: list[dict[str, Any]]) -> list[str]:
    """The one-line reasons of the sources in ``imports`` that could not be read."""
    return [str(item["error"]) for item in imports if item.get("error")]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _total_bytes(project: Project) -> int:
    """Bytes of every file the project's file sources name (for the import's ETA)."""
    total = 0
    for source in project.sources:
        if source.type != "graph" and not source.live and "path" in source.options:
            total += sum(_size(Path(p)) for p in glob.glob(str(project.source_path(source))))
    return total


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
    from mapper.graph import build_graph, filter_events
    from mapper.graph.build import gc_paused
    from mapper.origins import source_scope
    from mapper.resolve import Resolver, load_roster

    timings = timings if timings is not None else {}
    with _timed(timings, "resolve", progress, unit="posts") as meter:
        roster = load_roster(project.roster) if project.roster else None
        resolver = Resolver(roster) if roster else Resolver.empty()
        if scope is None:
            scope = source_scope(project, store)
        meter.total = store.count_posts()
        posts = store.iter_posts(exclude_origins=scope.excluded_ids, for_resolution=True)
        with gc_paused():  # posts, events and counters only: no cycles to collect
            resolution = resolver.resolve(meter.count(posts))
        meter.counts.update(actors=len(resolution.actors), references=len(resolution.events))
    with _timed(timings, "graph", progress) as meter:
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
            evidence_table=True,
        )
        G = finish_graph(project, G, roster)
        meter.counts.update(actors=G.number_of_nodes(), ties=G.number_of_edges())
    return G, resolution


def finish_graph(project: Project, G: nx.DiGraph, roster: Any = None) -> nx.DiGraph:
    """The end of the graph stage, whichever engine aggregated the events: merge the
    project's graph files, apply its filters (``min_weight``, ``kinds``...) and set
    every node's ``influence``. Returns the graph (a new one when filtered)."""
    from mapper.graph import apply_influence, filter_graph, influence

    merged = False
    for source in project.sources:
        if source.type == "graph":
            from mapper.sources import merge_graph_file

            for path in _file_paths(project, source, required=False):
                try:
                    merge_graph_file(G, path, roster=roster, options=source.options)
                except ImportFormatError:
                    continue  # import_sources reported it; the graph goes on without it
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
    return G


def build_reusing(
    project: Project,
    store: Store,
    *,
    scope: SourceScope,
    timings: dict[str, float] | None = None,
    progress: Progress | None = None,
    read_cache: bool = True,
    write_cache: bool = True,
    notices: list[str] | None = None,
    keys: dict[str, str] | None = None,
) -> tuple[nx.DiGraph, Any, bool]:
    """:func:`build`, or the graph the last run built from the same inputs.

    The inputs are named by a content key (:func:`mapper.reuse.build_key`: the store's
    content version, the origins left out, the roster's and graph files' bytes, the
    options that shape the graph, the code). When the cache in the output folder
    holds a graph of that key, it is loaded (stage ``reuse``) and ``resolve`` and
    ``graph`` do not run; the resolution returned then carries only the unresolved
    report and the counts (:class:`mapper.reuse.ReusedResolution`). Otherwise the
    graph is built and, when ``write_cache``, stored for the next run (stage
    ``cache``). A damaged cache file is ignored, with a line in ``notices``. The key
    is put in ``keys["graph"]`` when ``keys`` is given.

    Returns
    -------
    tuple
        ``(graph, resolution, reused)``.
    """
    from mapper.reuse import CacheDamaged, build_key, cache_path, load_build, save_build

    timings = timings if timings is not None else {}
    notices = notices if notices is not None else []
    path = cache_path(project)
    graph_files = [
        p
        for source in project.sources
        if source.type == "graph"
        for p in _file_paths(project, source, required=False)
    ]
    with _timed(timings, "reuse", progress) as meter:
        key = build_key(project, store, scope, graph_files)
        if keys is not None:
            keys["graph"] = key
        cached = None
        if read_cache:
            try:
                cached = load_build(path, key)
            except CacheDamaged as exc:
                notices.append(f"{path}: cache ignored, {exc}: the graph is built again")
        if cached is not None:
            meter.counts.update(
                actors=cached.graph.number_of_nodes(), ties=cached.graph.number_of_edges()
            )
    if cached is not None:
        return cached.graph, cached.resolution, True
    G, resolution = build(project, store, timings=timings, progress=progress, scope=scope)
    if write_cache:
        with _timed(timings, "cache", progress):
            try:
                save_build(path, key, G, resolution)
            except OSError as exc:
                notices.append(f"{path}: cache not written: {exc.strerror or exc}")
    return G, resolution, False


#: Source types whose files hold ties as they are (nodes and edges), not posts.
_TIE_SOURCES = frozenset({"graph", "edges-csv"})


def _empty_reason(project: Project) -> tuple[str, str]:
    """Why a run found no actor, in the terms of the sources the project lists, and
    what to check."""
    kinds = {source.type for source in project.sources if source.type != "divisions"}
    if kinds and kinds <= _TIE_SOURCES:
        return (
            "its graph files and edge tables hold no node and no tie",
            "check the files (`mapper check`)",
        )
    hint = "check the sources and the roster (`mapper roster suggest`)"
    if kinds & _TIE_SOURCES:
        return "no post referred to anyone, and the graph files and edge tables hold no tie", hint
    return "no post referred to anyone", hint


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
        fault_line_warnings,
        fault_lines,
    )

    timings = timings if timings is not None else {}
    out: dict[str, Any] = {}
    if G.number_of_nodes() == 0:
        reason, hint = _empty_reason(project)
        raise MapperError(f"the graph is empty: {reason}", hint=hint)
    warned: list[Any] = []
    with _timed(timings, "factions", progress) as meter:
        result = detect_factions(
            G,
            method=project.faction_method,
            resolution=project.resolution,
            seed=project.seed,
            runs=project.runs,
            factions=project.factions,
            min_component=project.min_component,
            significance_samples=project.significance_samples,
        )
        apply_factions(G, result)
        out["factions"] = result
        meter.counts["factions"] = len(set(result.partition.values()))
        out["summaries"] = faction_summaries(G, result)
        out["fault_lines"] = fault_lines(G, result)
        warned += list(result.warnings) + fault_line_warnings(out["fault_lines"])
    if "bridges" in stages or "alliances" in stages:
        from mapper.analysis.bridges import apply_bridges, bridge_figures, bridge_warnings

        with _timed(timings, "bridges", progress) as meter:
            rows = bridge_figures(G, result.partition, names=result.names, seed=project.seed)
            apply_bridges(G, rows)
            out["bridges"] = rows
            meter.counts["bridge figures"] = sum(1 for r in rows if r.get("is_bridge"))
            warned += bridge_warnings(rows)
    if "alliances" in stages:
        from mapper.analysis.alliances import alliance_report

        with _timed(timings, "alliances", progress):
            report = alliance_report(
                G, result.partition, names=result.names, top=project.alliances_top
            )
            out["alliances"] = report
            warned += list(report.get("warnings", []))
    out["warnings"] = warned
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

    from mapper.analysis.alliances import write_alliances_csv, write_alliances_md
    from mapper.analysis.bridges import write_bridges_csv, write_bridges_md
    from mapper.analysis.factions import write_factions_csv, write_factions_md
    from mapper.export import export_all, write_rows_csv
    from mapper.fsutil import safe_filename
    from mapper.render import render_all, render_cache, write_focus_map

    project, G, out = analysis.project, analysis.graph, analysis.project.output
    timings = analysis.timings
    if analysis.factions is None and G.number_of_nodes() == 0:
        # only divisions: no social network to map (the vote outputs are written apart)
        return _write_summary(analysis, dict(analysis.outputs))
    paths: dict[str, Path] = {}
    with _timed(timings, "exports", None):  # decided before the maps: they show the notice
        reduction = export_reduction(project, G)
        if reduction is not None:
            analysis.warnings.append(reduction.warning())
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
                warnings=analysis.warnings,
                votes=analysis.votes,
            )
        )
        for actor in project.focus:
            if actor in G:
                name = f"focus-{safe_filename(actor)}.html"
                write_focus_map(G, actor, out / name, radius=1, warnings=analysis.warnings)
                paths[name] = out / name
    # Inside the render cache too: the GEXF colours reuse the maps' grouping.
    with _timed(timings, "exports", progress), render_cache():
        paths.update(export_all(G, out, formats=tuple(project.formats), reduction=reduction))
    analysis.outputs.update(paths)
    return _write_summary(analysis, dict(analysis.outputs))


def export_reduction(
    project: Project, G: nx.DiGraph, *, full: bool = False
) -> GraphFileReduction | None:
    """What the project's GEXF, GraphML and JSON files hold of ``G``: a
    :class:`~mapper.export.GraphFileReduction` when ``G`` is above ``[exports]
    max_actors`` or ``max_ties`` and neither ``full`` nor ``[exports] full_graph``
    asks for the whole graph (and one of those formats is written), else ``None``."""
    from mapper.export import GRAPH_FILE_FORMATS, graph_file_reduction

    if full or project.full_graph or not set(project.formats) & set(GRAPH_FILE_FORMATS):
        return None
    return graph_file_reduction(
        G, max_actors=project.export_max_actors, max_ties=project.export_max_ties
    )


def _write_summary(analysis: Analysis, paths: dict[str, Path]) -> dict[str, Path]:
    """Write ``summary.json`` (counts, timings, warnings, the files written)."""
    import orjson

    from mapper.fsutil import write_text

    out = analysis.project.output
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
    engine: str | None = None,
    scheduler: str | None = None,
) -> Analysis:
    """Run every stage of ``project`` and (unless ``write`` is false) write its outputs.

    Parameters
    ----------
    project : Project
        A loaded project (:func:`mapper.project.load_project`).
    collect : bool
        Also run live sources (remote APIs). Off by default: reads can be paid.
    force : bool
        Re-import files even when they did not change, and build the graph again even
        when the last run's could be reused (:func:`build_reusing`).
    write : bool
        Write maps, exports and the report to ``project.output`` (and the graph's
        cache for the next run).
    progress : callable, optional
        Called with the name of each stage as it starts.
    engine : str, optional
        ``"single"`` or ``"dask"`` (:mod:`mapper.engine`); by default the project's
        ``[run] engine``. With ``"dask"`` the project's files are read, resolved and
        aggregated in partitions on a Dask cluster (:func:`mapper.engine.dask.build_dask`).
    scheduler : str, optional
        With the Dask engine: the scheduler's address (else ``DASK_SCHEDULER_ADDRESS``,
        else ``[run] scheduler``, else a local cluster).

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
    from mapper.engine import ENGINES

    engine = engine or project.engine
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}", hint=f"one of: {', '.join(ENGINES)}")
    scope: SourceScope | None = None
    notices: list[str] = []
    with Store(project.store) as store:
        if engine == "dask":
            from mapper.engine.dask import build_dask

            imports, G, resolution = build_dask(
                project,
                store,
                scheduler=scheduler,
                collect=collect,
                timings=timings,
                progress=progress,
            )
            reused = False
            whole_key = None
        else:
            with _timed(timings, "import", None):  # import_sources reports its own progress
                imports = import_sources(
                    project, store, collect=collect, force=force, progress=progress
                )
            scope = source_scope(project, store)
            keys: dict[str, str] = {}
            G, resolution, reused = build_reusing(
                project,
                store,
                scope=scope,
                timings=timings,
                progress=progress,
                read_cache=not force,
                write_cache=write,
                notices=notices,
                keys=keys,
            )
            # A whole run is reused only when it writes (the files are what is reused) and
            # maps no divisions (the votes are outside the store's content version).
            whole_key = None
            if write and not has_divisions(project):
                from mapper.reuse import run_key

                whole_key = run_key(keys["graph"], project)
            if whole_key is not None and reused:
                again = _reuse_run(
                    project,
                    G,
                    resolution,
                    whole_key,
                    imports=imports,
                    scope=scope,
                    timings=timings,
                    progress=progress,
                    notices=notices,
                )
                if again is not None:
                    return again
        votes = None
        if write and has_divisions(project):
            social = G if G.number_of_nodes() else None
            votes = write_vote_outputs(
                project, store, graph=social, timings=timings, progress=progress
            )
    only_votes = votes is not None and G.number_of_nodes() == 0
    try:
        results = {} if only_votes else analyse(project, G, timings=timings, progress=progress)
    except MapperError as exc:
        failures = failed_imports(imports)
        if failures:  # say what was not read: it may be why there is nothing to analyse
            more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
            exc.hint = f"{exc.hint + '; ' if exc.hint else ''}not read: {failures[0]}{more}"
            exc.args = (exc.one_line(),)
        raise
    analysis = Analysis.of_results(
        project,
        G,
        results,
        resolution=resolution,
        imports=imports,
        scope=scope,
        timings=timings,
        votes=votes,
        reused=["resolve", "graph"] if reused else [],
        notices=notices,
    )
    if votes is not None:
        analysis.warnings += list(votes.warnings)
        analysis.outputs.update(votes.paths)
    if write:
        write_outputs(analysis, progress=progress)
        if whole_key is not None and not only_votes:
            _save_run(analysis, whole_key, results, progress=progress)
    return analysis


def _save_run(
    analysis: Analysis, key: str, results: dict[str, Any], *, progress: Progress | None
) -> None:
    """Store what the run computed after the graph, for :func:`_reuse_run`."""
    from mapper.graph.evidence import EvidenceTable
    from mapper.reuse import CachedRun, output_record, run_path, save_run

    project, G = analysis.project, analysis.graph
    path = run_path(project)
    with _timed(analysis.timings, "cache", progress):
        paths = {k: p for k, p in analysis.outputs.items() if k != "summary.json"}
        try:
            run = CachedRun(
                node_attrs={n: dict(d) for n, d in G.nodes(data=True)},
                graph_attrs={k: v for k, v in G.graph.items() if not isinstance(v, EvidenceTable)},
                results={
                    k: results.get(k)
                    for k in ("factions", "summaries", "fault_lines", "bridges", "alliances")
                }
                | {"warnings": list(results.get("warnings", []))},
                outputs=output_record(project.output, paths),
            )
            save_run(path, key, run)
        except OSError as exc:
            analysis.notices.append(f"{path}: cache not written: {exc.strerror or exc}")


#: What a reused whole run did not run again.
REUSED_RUN_STAGES = [
    "resolve",
    "graph",
    "factions",
    "bridges",
    "alliances",
    "layout",
    "tables",
    "maps",
    "exports",
]


def _reuse_run(
    project: Project,
    G: nx.DiGraph,
    resolution: Any,
    key: str,
    *,
    imports: list[dict[str, Any]],
    scope: SourceScope,
    timings: dict[str, float],
    progress: Progress | None,
    notices: list[str],
) -> Analysis | None:
    """The last run again, when its project and inputs are unchanged (``key``) and its
    output files are still what it wrote: its analysis results and node attributes
    are put back on ``G`` (the graph it built, just loaded), only ``summary.json`` is
    written again. ``None`` when there is nothing to reuse."""
    from mapper.graph.evidence import evidence_table
    from mapper.reuse import CacheDamaged, load_run, outputs_unchanged, run_path

    path = run_path(project)
    with _timed(timings, "reuse", progress):
        try:
            run = load_run(path, key)
        except CacheDamaged as exc:
            notices.append(f"{path}: cache ignored, {exc}: the analysis runs again")
            return None
        if run is None or not outputs_unchanged(project.output, run.outputs):
            return None
        if set(run.node_attrs) != set(G.nodes):
            return None  # pragma: no cover - the key says the graphs are equal
        for node, attrs in run.node_attrs.items():
            data = G.nodes[node]
            data.clear()
            data.update(attrs)
        table = evidence_table(G)
        G.graph.clear()
        G.graph.update(run.graph_attrs)
        if table is not None:
            G.graph["evidence"] = table
    results = run.results
    analysis = Analysis.of_results(
        project,
        G,
        results,
        resolution=resolution,
        imports=imports,
        scope=scope,
        timings=timings,
        reused=list(REUSED_RUN_STAGES),
        notices=notices,
    )
    analysis.outputs.update(
        {name: project.output / rel for name, (rel, _, _) in run.outputs.items()}
    )
    _write_summary(analysis, dict(analysis.outputs))
    return analysis


# --------------------------------------------------------------------------- votes
# Parliamentary divisions (``[[sources]] type = "divisions"``) are stored beside the
# posts and analysed division by division. write_vote_outputs is self-contained: a run
# calls it with the open store after import_sources, when has_divisions(project).


@dataclass
class VoteOutputs:
    """What :func:`write_vote_outputs` computed and wrote.

    Attributes
    ----------
    summaries : list
        One :class:`~mapper.analysis.divisions.DivisionSummary` per stored division.
    warnings : list
        Their :class:`~mapper.analysis.strength.EvidenceWarning` objects (for
        ``summary.json``'s ``warnings``).
    members : Any
        The :class:`~mapper.resolve.members.MemberIndex` (members, their actors and
        the report of those that did not resolve).
    paths : dict
        File name -> path of what was written.
    """

    summaries: list[Any] = field(default_factory=list)
    warnings: list[Any] = field(default_factory=list)
    members: Any = None
    paths: dict[str, Path] = field(default_factory=dict)
    covoting: Any = None

    def summary(self) -> dict[str, Any]:
        """Counts for a run summary: divisions, rebels, unresolved members, and the
        co-voting analysis (``covoting``: pairs scored, ties, blocs with their
        significance, defectors, close divisions, persuadable members, talk versus
        vote; see :meth:`mapper.analysis.covoting.CoVoting.summary`)."""
        unresolved = len(self.members.resolution.unresolved) if self.members else 0
        out: dict[str, Any] = {
            "divisions": len(self.summaries),
            "rebel_votes": sum(len(s.rebels) for s in self.summaries),
            "unresolved_members": unresolved,
        }
        if self.covoting is not None:
            out["covoting"] = self.covoting.summary()
        return out


def has_divisions(project: Project) -> bool:
    """Whether the project lists a ``divisions`` source."""
    return any(source.type == "divisions" for source in project.sources)


def write_vote_outputs(
    project: Project,
    store: Store,
    *,
    graph: nx.Graph | None = None,
    timings: dict[str, float] | None = None,
    progress: Progress | None = None,
) -> VoteOutputs:
    """Analyse the store's divisions and write ``rebels.csv`` and ``divisions.md`` (and,
    with a roster, ``unresolved-members.csv``) into the project's output folder, then
    the co-voting analysis across divisions (:func:`write_covoting_outputs`).

    Parameters
    ----------
    project : Project
        The project (its roster, output folder, seed, runs and export formats).
    store : Store
        The open store, after :func:`import_sources`.
    graph : networkx graph, optional
        The interaction graph of the same actors: who talks versus who votes
        together (``talk-vote.csv``, ``talk-vote.html``).
    timings : dict, optional
        Stage timings to add ``votes`` and ``covoting`` to.
    progress : callable, optional
        Called with the stage name.

    Returns
    -------
    VoteOutputs
        Empty when the store holds no division.
    """
    from mapper.export import write_rows_csv
    from mapper.render.votes import write_divisions_md, write_rebels_csv
    from mapper.resolve import load_roster
    from mapper.votes import division_summaries_of, votes_with_index

    timings = timings if timings is not None else {}
    outputs = VoteOutputs()
    with _timed(timings, "votes", progress):
        if store.count_divisions() == 0:
            return outputs
        roster = load_roster(project.roster) if project.roster else None
        # one read of the stored votes gives the member index and the votes table
        votes, outputs.members = votes_with_index(store, roster)
        outputs.summaries = division_summaries_of(store, index=outputs.members)
        outputs.warnings = [w for s in outputs.summaries for w in s.warnings]
        out = project.output
        out.mkdir(parents=True, exist_ok=True)
        outputs.paths["rebels.csv"] = write_rebels_csv(outputs.summaries, out / "rebels.csv")
        outputs.paths["divisions.md"] = write_divisions_md(
            outputs.summaries, out / "divisions.md", title=f"{project.name}: divisions"
        )
        if roster is not None:
            outputs.paths["unresolved-members.csv"] = write_rows_csv(
                outputs.members.resolution.report.to_rows(),
                out / "unresolved-members.csv",
                columns=("category", "platform", "key", "count", "examples", "note"),
            )
    outputs.warnings.extend(unlisted_divisions(project, store))
    write_covoting_outputs(
        project, store, outputs, graph=graph, votes=votes, timings=timings, progress=progress
    )
    return outputs


def unlisted_divisions(project: Project, store: Store) -> list[Any]:
    """A warning (code ``unlisted-divisions``) when stored divisions come from files
    the project's division sources do not match now: narrowing ``path`` does not
    narrow the store, so they are still mapped. Divisions collected live (an archive
    in the output folder, an API address) are not files of the project: left out of it.
    """
    from mapper.analysis.strength import warning

    listed: set[str] = set()
    for source in project.sources:
        if source.type == "divisions":
            for path in _file_paths(project, source, required=False):
                listed.update((os.path.abspath(path), os.path.realpath(path)))
    out_dir = os.path.realpath(project.output)
    unlisted = {
        source: count
        for source, count in store.division_sources().items()
        if os.path.isabs(source)
        and source not in listed
        and os.path.realpath(source) not in listed
        and not os.path.realpath(source).startswith(out_dir + os.sep)
    }
    if not unlisted:
        return []
    total = sum(unlisted.values())
    first = sorted(unlisted)[:3]
    return [
        warning(
            "unlisted-divisions",
            "votes",
            f"{total:,} stored division(s) come from {len(unlisted):,} file(s) the project's "
            f"division sources do not list now ({', '.join(first)}"
            + (", ..." if len(unlisted) > 3 else "")
            + "): they are mapped with the others (imported by hand with `mapper votes "
            "import`, or listed before); list them in mapper.toml, or start the store "
            "afresh to leave them out",
        )
    ]


def write_covoting_outputs(
    project: Project,
    store: Store,
    outputs: VoteOutputs,
    *,
    graph: nx.Graph | None = None,
    votes: Any = None,
    timings: dict[str, float] | None = None,
    progress: Progress | None = None,
) -> VoteOutputs:
    """The co-voting analysis of the stored divisions, written next to the vote tables.

    Sets ``outputs.covoting`` (:class:`mapper.analysis.covoting.CoVoting`), adds its
    warnings to ``outputs.warnings`` and writes: ``agreement.csv``, ``blocs.csv``,
    ``bloc-members.csv``, ``defectors.csv``, ``cohesion.csv``,
    ``cohesion-divisions.csv``, ``close-divisions.csv``, ``persuadable.csv``,
    ``covoting.md``, ``covoting.html`` (when any pair is tied), the co-voting graph's
    exports under ``covoting/`` (the project's formats) and, with an interaction
    graph, ``talk-vote.csv``, ``talk-vote-groups.csv`` and ``talk-vote.html``.

    Parameters
    ----------
    project, store
        As for :func:`write_vote_outputs`.
    outputs : VoteOutputs
        What :func:`write_vote_outputs` computed (its member index and summaries).
    graph : networkx graph, optional
        The interaction graph.
    votes : pandas.DataFrame, optional
        The votes table (:func:`mapper.votes.votes_frame` with ``outputs.members``),
        when already read.

    Returns
    -------
    VoteOutputs
        ``outputs``, completed.
    """
    from mapper.export import export_all
    from mapper.render.covoting import (
        write_covoting_map,
        write_covoting_md,
        write_covoting_tables,
        write_talk_vote_map,
    )
    from mapper.render.layout import render_cache
    from mapper.votes import covoting_of

    timings = timings if timings is not None else {}
    if outputs.members is None:
        return outputs
    out = project.output
    with _timed(timings, "covoting", progress) as meter:
        result = covoting_of(
            store,
            index=outputs.members,
            social=graph,
            summaries=outputs.summaries,
            votes=votes,
            seed=project.seed,
            runs=project.runs,
            min_component=project.min_component,
            significance_samples=project.significance_samples,
        )
        outputs.covoting = result
        outputs.warnings += list(result.warnings)
        meter.counts.update(ties=result.graph.number_of_edges(), blocs=result.blocs.count)
    with _timed(timings, "covoting outputs", progress), render_cache():
        outputs.paths.update(write_covoting_tables(result, out))
        outputs.paths["covoting.md"] = write_covoting_md(
            result, out / "covoting.md", title=f"{project.name}: co-voting"
        )
        if result.graph.number_of_edges():
            outputs.paths["covoting.html"] = write_covoting_map(
                result, out / "covoting.html", title=f"{project.name}: co-voting", seed=MAP_SEED
            )["path"]
        if result.talk_vote is not None and result.talk_vote.common >= 2 and graph is not None:
            outputs.paths["talk-vote.html"] = write_talk_vote_map(
                result,
                graph,
                out / "talk-vote.html",
                title=f"{project.name}: who talks to whom, who votes with whom",
                seed=MAP_SEED,
            )["path"]
        for name, path in export_all(
            result.graph, out / "covoting", formats=tuple(project.formats)
        ).items():
            outputs.paths[f"covoting/{name}"] = path
    return outputs
