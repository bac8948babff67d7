"""The notebook surface: a project's network as a networkx graph and pandas tables.

:class:`Network` wraps one analysed graph. Build it from a project file
(:meth:`Network.from_project`, which imports, resolves, builds and analyses) or from a
graph made elsewhere (:meth:`Network.from_graph`), then read the results as
DataFrames, draw a map inline in Jupyter, or export::

    import mapper
    net = mapper.Network.from_project("data/demo/mapper.toml", output="outputs/nb")
    net.factions().head()
    net.bridges(top=10)[["name", "score", "reason"]]
    net.show()                      # the interactive map, inline in Jupyter
    net.export("outputs/nb", formats=("gexf", "csv"))

The actor tables (:meth:`Network.nodes`, :meth:`Network.factions`,
:meth:`Network.bridges`) share one index, the actor id (named ``actor``), and one
``name`` column (the display name as given); every table is a typed frame with its
columns even when empty. ``repr(net)`` is one line and ``net`` alone in a notebook
cell shows a short summary. Everything here calls the stage modules; nothing is
computed that the CLI does not compute the same way.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from mapper.graph.evidence import edge_evidence

if TYPE_CHECKING:
    import igraph
    import pandas as pd

    from mapper.project import Project
    from mapper.timeline import Timeline

#: Columns and dtypes of the tables, so that an empty result is a typed empty frame
#: (pandas maps ``"str"`` to its string dtype, as it infers for text).
NODE_COLUMNS: dict[str, str] = {
    "name": "str",
    "kind": "str",
    "faction": "Int64",
    "faction_name": "str",
}
FACTION_COLUMNS: dict[str, str] = {
    "name": "str",
    "faction": "Int64",
    "faction_name": "str",
    "stability": "float64",
    "declared_faction": "str",
}
BRIDGE_COLUMNS: dict[str, str] = {
    "name": "str",
    "rank": "int64",
    "score": "float64",
    "faction": "Int64",
    "factions": "object",
    "ties": "object",
    "betweenness": "float64",
    "betweenness_method": "str",
    "cross_betweenness": "float64",
    "participation": "float64",
    "within_z": "float64",
    "role": "str",
    "constraint": "float64",
    "effective_size": "float64",
    "brokerage": "object",
    "ties_outside": "int64",
    "tested_ties": "int64",
    "tested_outside": "int64",
    "expected_outside": "float64",
    "participation_z": "float64",
    "p_value": "float64",
    "p_adjusted": "float64",
    "bridge_basis": "str",
    "evidence": "object",
    "reason": "str",
    "is_bridge": "bool",
    "faction_names": "object",
}
EDGE_COLUMNS: dict[str, str] = {"source": "str", "target": "str", "weight": "float64"}
EVIDENCE_FIELDS = ("post", "type", "url", "time", "snippet")
EVIDENCE_COLUMNS: dict[str, str] = {
    "source": "str",
    "target": "str",
    "post": "str",
    "type": "str",
    "url": "str",
    "time": "object",
    "snippet": "str",
}
OPPORTUNITY_COLUMNS: dict[str, str] = {
    "a": "int64",
    "b": "int64",
    "name_a": "str",
    "name_b": "str",
    "size_a": "int64",
    "size_b": "int64",
    "ties": "int64",
    "weight": "float64",
    "expected": "float64",
    "ratio": "float64",
    "expected_ties": "float64",
    "ties_ratio": "float64",
    "ties_ratio_low": "float64",
    "ties_ratio_high": "float64",
    "p_shortage": "float64",
    "similarity": "float64",
    "shared": "object",
    "issues": "object",
    "shared_issues": "int64",
    "brokers": "object",
    "status": "str",
    "score": "float64",
    "reason": "str",
}
INTRODUCTION_COLUMNS: dict[str, str] = {
    "a": "int64",
    "b": "int64",
    "name_a": "str",
    "name_b": "str",
    "actor_a": "str",
    "actor_a_name": "str",
    "actor_b": "str",
    "actor_b_name": "str",
    "broker": "str",
    "broker_name": "str",
    "broker_ties_a": "int64",
    "broker_ties_b": "int64",
    "common_neighbours": "int64",
    "similarity": "float64",
    "shared": "object",
    "score": "float64",
    "reason": "str",
}


def _frame(
    rows: Sequence[dict[str, Any]], columns: dict[str, str], index: str | None = None
) -> pd.DataFrame:
    """A DataFrame of ``rows`` with ``columns`` first (typed when there is no row),
    indexed by ``index`` when given."""
    import pandas as pd

    if not rows:
        frame = pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
        if index is not None:
            frame.index = pd.Index([], dtype="str", name=index)
        return frame
    frame = pd.DataFrame(list(rows))
    if index is not None:
        frame = frame.set_index(index)
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    order = list(columns) + [c for c in frame.columns if c not in columns]
    frame = frame[order]
    for column, dtype in columns.items():
        if dtype == "Int64":
            # a user's own non-integer attribute is left as it is
            with contextlib.suppress(TypeError, ValueError):
                frame[column] = frame[column].astype("Int64")
    return frame


@dataclass(repr=False)
class Network:
    """An analysed influence network.

    Attributes
    ----------
    graph : networkx.DiGraph
        Actors and their weighted ties, with analysis results on the nodes
        (``faction``, ``faction_name``, ``stability``, ``influence``, ``bridge_score``...).
    project : Project or None
        The project it came from, if any.
    results : dict
        The raw analysis results: ``factions`` (a ``FactionResult``), ``summaries``,
        ``fault_lines``, ``bridges`` (list of dicts), ``alliances`` (dict).
    imports : list of dict
        What :meth:`from_project` read, one dict per file or live source; a source
        that could not be read has ``error`` (one line naming it and why).
    """

    graph: nx.DiGraph
    project: Project | None = None
    results: dict[str, Any] = field(default_factory=dict)
    resolution: Any = None
    imports: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_project(
        cls,
        path: str | Path,
        *,
        output: str | Path | None = None,
        collect: bool = False,
        analyse: bool = True,
    ) -> Network:
        """Import a project's sources, build its graph and (by default) analyse it.

        Parameters
        ----------
        path : str or Path
            The project file (``mapper.toml``).
        output : str or Path, optional
            Overrides the project's output folder (where the store lives by default).
        collect : bool
            Also run live sources (remote APIs; reads may be paid).
        analyse : bool
            Run factions, bridges and alliances too.
        """
        from mapper.pipeline import analyse as run_analysis
        from mapper.pipeline import build, has_divisions, import_sources
        from mapper.project import load_project
        from mapper.store import Store

        project = load_project(path, output=output)
        project.output.mkdir(parents=True, exist_ok=True)
        with Store(project.store) as store:
            imports = import_sources(project, store, collect=collect)
            G, resolution = build(project, store)
        net = cls(graph=G, project=project, resolution=resolution, imports=imports)
        # a project of divisions only has no interaction graph to analyse (as `mapper
        # run` does, its votes are read with mapper.votes: votes_frame, covoting_of...)
        if analyse and not (G.number_of_nodes() == 0 and has_divisions(project)):
            net.results = run_analysis(project, G)
        return net

    @classmethod
    def from_graph(
        cls,
        G: nx.Graph,
        *,
        resolution: float = 1.0,
        seed: int = 42,
        runs: int = 10,
        method: str = "leiden",
    ) -> Network:
        """Analyse a graph made elsewhere (weights in the ``weight`` edge attribute).

        An undirected graph becomes a directed one with both directions; parallel
        edges of a multigraph are summed into one weighted edge.
        """
        from mapper.graph import apply_influence, influence
        from mapper.pipeline import analyse as run_analysis
        from mapper.project import Project

        D = nx.DiGraph()
        D.add_nodes_from((str(n), dict(d)) for n, d in G.nodes(data=True))
        for u, v, d in G.edges(data=True):
            w = float(d.get("weight", 1.0))
            pairs = [(str(u), str(v))] if G.is_directed() else [(str(u), str(v)), (str(v), str(u))]
            for a, b in pairs:
                if a == b:
                    continue
                if D.has_edge(a, b):
                    D[a][b]["weight"] += w
                else:
                    D.add_edge(a, b, weight=w)
        for n, data in D.nodes(data=True):
            data["label"] = str(data.get("label") or data.get("name") or n)
            data.setdefault("kind", "other")
        apply_influence(D, influence(D))
        project = Project(
            path=None,
            name=str(G.graph.get("name", "")),
            roster=None,
            output=Path.cwd(),
            store=Path.cwd() / "store.sqlite",
            resolution=resolution,
            seed=seed,
            runs=runs,
            faction_method=method,
        )
        return cls(graph=D, project=project, results=run_analysis(project, D))

    # -- tables ---------------------------------------------------------------------

    def nodes(self) -> pd.DataFrame:
        """One row per actor, indexed by actor id: ``name`` (the display name, from the
        ``label`` attribute) and every other scalar node attribute."""
        rows = []
        for n, data in self.graph.nodes(data=True):
            row: dict[str, Any] = {"actor": n, "name": _name(n, data)}
            row.update(
                (k, v)
                for k, v in data.items()
                if k not in ("label", "name") and not isinstance(v, dict | list)
            )
            rows.append(row)
        frame = _frame(rows, NODE_COLUMNS, "actor")
        return frame.sort_index() if rows else frame

    def edges(self) -> pd.DataFrame:
        """One row per tie: source, target, weight, counts per type, first and last time."""
        rows = [
            {"source": u, "target": v, **{k: x for k, x in d.items() if k != "evidence"}}
            for u, v, d in self.graph.edges(data=True)
        ]
        return _frame(rows, EDGE_COLUMNS)

    def evidence(self, source: str | None = None, target: str | None = None) -> pd.DataFrame:
        """The posts that show each tie: one row per evidence item, ``source``,
        ``target``, ``post``, ``type``, ``url``, ``time``, ``snippet`` (the items
        ``evidence.csv`` lists), in tie order, earliest first within a tie.

        ``source`` and ``target`` narrow it to the ties from or to an actor (both:
        one tie). The items come from the graph's evidence table or the edges' own
        lists (:func:`mapper.graph.evidence.edge_evidence`).
        """
        G = self.graph
        if source is not None and target is not None:
            ties: Any = [(source, target)] if G.has_edge(source, target) else []
        elif source is not None:
            ties = G.out_edges(source) if source in G else []
        elif target is not None:
            ties = G.in_edges(target) if target in G else []
        else:
            ties = G.edges()
        rows = [
            {"source": u, "target": v, **{k: item.get(k) for k in EVIDENCE_FIELDS}}
            for u, v in ties
            for item in edge_evidence(G, u, v)
            if isinstance(item, dict)
        ]
        return _frame(rows, EVIDENCE_COLUMNS)

    def factions(self) -> pd.DataFrame:
        """Every actor's faction, indexed by actor id: ``name``, ``faction`` (an integer;
        missing for the unassigned actors, whose ``faction_name`` is
        ``"unassigned"``), ``stability`` and the roster's ``declared_faction``.

        Rows are ordered by faction, the unassigned actors last.
        """
        result = self._need("factions")
        partition = getattr(result, "partition", {}) or {}
        names = getattr(result, "names", {}) or {}
        stability = getattr(result, "stability", {}) or {}
        assigned = sorted(
            ((n, f) for n, f in partition.items() if n in self.graph),
            key=lambda x: (x[1], str(x[0])),
        )
        unassigned = sorted((n for n in self.graph.nodes if n not in partition), key=str)
        rows = []
        for n, f in [*assigned, *((n, None) for n in unassigned)]:
            data = self.graph.nodes[n]
            rows.append(
                {
                    "actor": n,
                    "name": _name(n, data),
                    "faction": f,
                    "faction_name": "unassigned" if f is None else names.get(f, str(f)),
                    "stability": stability.get(n) if f is not None else None,
                    "declared_faction": data.get("declared_faction", ""),
                }
            )
        frame = _frame(rows, FACTION_COLUMNS, "actor")
        if rows:
            frame["stability"] = frame["stability"].astype("float64")
        return frame

    def faction_summaries(self) -> list[dict[str, Any]]:
        """Per faction: size, kinds, parties, central members, issues, density."""
        return list(self._need("summaries"))

    def fault_lines(self) -> list[dict[str, Any]]:
        """For each declared faction, how its members spread over the detected ones."""
        return list(self._need("fault_lines"))

    def bridges(self, top: int | None = None) -> pd.DataFrame:
        """The ranked bridge figures, indexed by actor id, with the reason for each.

        Every actor has a row (bridges first, then the others by score); ``top``
        keeps the first ``top`` rows.
        """
        rows = list(self._need("bridges"))
        return _frame(rows if top is None else rows[: max(0, top)], BRIDGE_COLUMNS, "actor")

    def opportunities(self) -> pd.DataFrame:
        """Pairs of factions that share issues but have few ties, best first."""
        rows = self._need("alliances").get("opportunities", [])
        return _frame(rows, OPPORTUNITY_COLUMNS)

    def introductions(self) -> pd.DataFrame:
        """Suggested introductions across factions, each with a broker, best first."""
        rows = self._need("alliances").get("introductions", [])
        return _frame(rows, INTRODUCTION_COLUMNS)

    def timeline(
        self,
        every: str | None = None,
        *,
        step: str | None = None,
        windows: str | list[str] | None = None,
    ) -> Timeline:
        """Cut the project's posts into time windows and analyse each one.

        ``every`` is the window length (``"1w"``, ``"3d"``, ``"1m"``), ``step`` the
        distance between window starts for sliding windows, ``windows`` explicit
        windows (``"2016-06-01:2016-07-01,2016-07-01:2016-08-01"``); without any, the
        project's ``[timeline]`` options. The store is read once; each window's graph is
        built from it and analysed with the project's options and seed.

        Returns a :class:`mapper.timeline.Timeline`: ``windows_frame()``,
        ``memberships_frame()``, ``moves_frame()``, ``factions_frame()``,
        ``events_frame()``, ``bridges_frame()``, ``alliances_frame()`` give
        DataFrames and ``graph(window)`` (or ``results[i].graph``) each window's graph.
        :func:`mapper.render.timeline.write_timeline` writes its files.

        Raises
        ------
        MapperError
            For a network made with :meth:`from_graph` (no store to cut in time).
        """
        from mapper.errors import MapperError
        from mapper.timeline import run_timeline

        if self.project is None or self.project.path is None:
            raise MapperError(
                "a timeline needs a project's posts with their times",
                hint="use Network.from_project('mapper.toml')",
            )
        return run_timeline(self.project, every=every, step=step, windows=windows)

    def to_igraph(self) -> igraph.Graph:
        """The network as a directed, weighted :class:`igraph.Graph`.

        Vertices are in the graph's node order; the vertex attribute ``name`` is
        the actor id (so ``g.vs.find(name="clive-lewis")`` works) and every node
        attribute is carried over (a node attribute called ``name`` becomes
        ``node_name``). Every edge attribute is carried over too, ``weight``
        included. Attributes missing on some nodes or edges are ``None`` there.
        """
        import igraph as ig

        G = self.graph
        nodes = list(G.nodes)
        index = {n: i for i, n in enumerate(nodes)}
        graph = ig.Graph(
            n=len(nodes),
            edges=[(index[u], index[v]) for u, v in G.edges],
            directed=G.is_directed(),
        )
        keys: dict[str, None] = {}
        for _, data in G.nodes(data=True):
            keys.update(dict.fromkeys(data))
        graph.vs["name"] = [str(n) for n in nodes]
        for key in keys:
            values = [data.get(key) for _, data in G.nodes(data=True)]
            graph.vs["node_name" if key == "name" else key] = values
        edge_keys: dict[str, None] = {}
        for _, _, data in G.edges(data=True):
            edge_keys.update(dict.fromkeys(data))
        for key in edge_keys:
            if key == "evidence":  # the items, wherever the graph keeps them
                graph.es[key] = [
                    edge_evidence(G, u, v) if key in data else None
                    for u, v, data in G.edges(data=True)
                ]
                continue
            graph.es[key] = [data.get(key) for _, _, data in G.edges(data=True)]
        graph["name"] = self._title()
        return graph

    # -- notebook display -------------------------------------------------------------

    def _title(self) -> str:
        from mapper.text import display_label

        name = self.project.name if self.project is not None else ""
        return display_label(name or self.graph.graph.get("name") or "", 80)

    def _facts(self) -> list[str]:
        G = self.graph
        facts = [f"{G.number_of_nodes():,} actors", f"{G.number_of_edges():,} ties"]
        result = self.results.get("factions")
        if result is not None:
            partition = getattr(result, "partition", {}) or {}
            facts.append(f"{len(set(partition.values())):,} factions")
            unassigned = sum(1 for n in G.nodes if n not in partition)
            if unassigned:
                facts.append(f"{unassigned:,} unassigned")
        bridges = self.results.get("bridges")
        if bridges is not None:
            facts.append(f"{sum(1 for r in bridges if r.get('is_bridge')):,} bridge figures")
        alliances = self.results.get("alliances")
        if alliances is not None:
            facts.append(f"{len(alliances.get('opportunities') or []):,} alliance opportunities")
        warnings = self._warnings()
        if warnings:
            facts.append(f"{len(warnings):,} warnings")
        if not self.results:
            facts.append("not analysed")
        return facts

    def _warnings(self) -> list[Any]:
        found: list[Any] = list(self.results.get("warnings") or [])
        result = self.results.get("factions")
        found.extend(getattr(result, "warnings", None) or [])
        return found

    def __repr__(self) -> str:
        title = self._title()
        head = f"<mapper.Network {title!r}: " if title else "<mapper.Network: "
        return head + ", ".join(self._facts()) + ">"

    def _repr_html_(self) -> str:
        """A short summary for Jupyter: counts, the largest factions, the top bridge
        figures and any warnings; all text escaped."""
        from mapper.render.layout import UNASSIGNED, group_nodes, node_label, number
        from mapper.text import display_label, display_text

        def esc(text: Any, length: int = 80) -> str:
            return html.escape(display_label(text, length), quote=True)

        G = self.graph
        title = self._title()
        parts = [
            '<div class="mapper-network">',
            "<p><strong>mapper.Network</strong>"
            + (f" <em>{esc(title)}</em>" if title else "")
            + ": "
            + esc(", ".join(self._facts()), 400)
            + "</p>",
        ]
        if self.results.get("factions") is not None and G.number_of_nodes():
            grouping = group_nodes(G)
            members: dict[int, list[Any]] = {}
            for node in G.nodes:
                members.setdefault(grouping.of_node.get(node, UNASSIGNED), []).append(node)
            rank = {
                n: i
                for i, n in enumerate(
                    sorted(G.nodes, key=lambda n: (-number(G.nodes[n].get("influence")), str(n)))
                )
            }
            rows = []
            shown = [g for g in grouping.order if g >= 0][:8]
            if UNASSIGNED in grouping.sizes:
                shown.append(UNASSIGNED)
            for group in shown:
                people = sorted(members.get(group, []), key=lambda n: rank[n])[:3]
                rows.append(
                    "<tr>"
                    f'<td><span style="color:{grouping.colour(group)}">&#9679;</span> '
                    f"{esc(grouping.name(group))}</td>"
                    f"<td>{grouping.sizes.get(group, 0):,}</td>"
                    f"<td>{esc(', '.join(node_label(G, n) for n in people), 200)}</td>"
                    "</tr>"
                )
            more = sum(1 for g in grouping.order if g >= 0) - len([g for g in shown if g >= 0])
            parts.append(
                "<table><thead><tr><th>Faction</th><th>Actors</th>"
                "<th>Most influential</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
            )
            if more > 0:
                parts.append(f"<p>and {more:,} smaller factions</p>")
        bridges = [r for r in self.results.get("bridges") or [] if r.get("is_bridge")]
        if bridges:
            names = ", ".join(
                display_label(r.get("name") or r.get("actor"), 60) for r in bridges[:5]
            )
            parts.append(f"<p>Top bridge figures: {html.escape(names)}</p>")
        warnings = self._warnings()
        if warnings:
            items = "".join(
                "<li>"
                + html.escape(
                    display_text(
                        w.get("message") if isinstance(w, dict) else getattr(w, "message", w),
                        max_length=300,
                        one_line=True,
                    )
                )
                + "</li>"
                for w in warnings[:5]
            )
            parts.append(f"<p>Warnings:</p><ul>{items}</ul>")
        parts.append(
            "<p><code>net.nodes()</code> · <code>net.factions()</code> · "
            "<code>net.bridges()</code> · <code>net.show()</code></p></div>"
        )
        return "".join(parts)

    # -- maps and files ---------------------------------------------------------------

    def write_map(self, path: str | Path, *, node_budget: int = 1500) -> Path:
        """Write the interactive network map to ``path`` and return it (with the
        analysis warnings, if any, in a banner at the top)."""
        from mapper.render import write_network_map

        title = self.project.name if self.project else ""
        write_network_map(
            self.graph, path, title=title, node_budget=node_budget, warnings=self._warnings()
        )
        return Path(path)

    def show(self, *, height: int = 650, node_budget: int = 1500) -> Any:
        """The interactive map inline in Jupyter (an ``IPython.display.HTML`` iframe).

        The page is self-contained (no network needed) and sandboxed in the iframe.
        """
        import tempfile

        from IPython.display import HTML

        with tempfile.TemporaryDirectory() as tmp:
            page = self.write_map(Path(tmp) / "map.html", node_budget=node_budget)
            doc = page.read_text(encoding="utf-8")
        # Wrapped in a <div>: IPython warns about a bare <iframe> ("use IFrame"), which
        # cannot carry the page inline (srcdoc) as this must, to work offline.
        return HTML(
            '<div class="mapper-map">'
            f'<iframe sandbox="allow-scripts" style="width:100%;height:{int(height)}px;border:0" '
            f'srcdoc="{html.escape(doc, quote=True)}"></iframe></div>'
        )

    def export(
        self,
        folder: str | Path,
        formats: Sequence[str] = ("gexf", "graphml", "json", "csv", "parquet"),
    ) -> dict[str, Path]:
        """Write the graph in the given formats into ``folder``."""
        from mapper.export import export_all

        return export_all(self.graph, Path(folder), formats=tuple(formats))

    def write_all(self, folder: str | Path | None = None) -> dict[str, Path]:
        """Write every output the CLI's ``mapper run`` writes (maps, tables, exports, report)."""
        import dataclasses

        from mapper.errors import MapperError
        from mapper.pipeline import Analysis, write_outputs

        if self.project is None or (folder is None and self.project.path is None):
            raise MapperError("say where to write", hint="net.write_all('outputs/my-run')")
        project = self.project
        if folder is not None:
            project = dataclasses.replace(project, output=Path(folder))
        analysis = Analysis(
            project=project,
            graph=self.graph,
            resolution=self.resolution,
            factions=self.results.get("factions"),
            summaries=self.results.get("summaries"),
            fault_lines=self.results.get("fault_lines"),
            bridges=self.results.get("bridges"),
            alliances=self.results.get("alliances"),
        )
        return write_outputs(analysis)

    def _need(self, key: str) -> Any:
        from mapper.errors import AnalysisError

        if key not in self.results or self.results[key] is None:
            from mapper.pipeline import has_divisions

            if self.graph.number_of_nodes() == 0 and self.project and has_divisions(self.project):
                raise AnalysisError(
                    f"no {key} on this network: the project has divisions but no posts",
                    hint="read its votes with mapper.votes (votes_frame, rebels_frame, "
                    "covoting_of)",
                )
            raise AnalysisError(f"no {key} on this network", hint="build it with analyse=True")
        return self.results[key]


def _name(node: Any, data: dict[str, Any]) -> Any:
    """An actor's name as given: its ``label``, else a ``name`` attribute, else its id."""
    for key in ("label", "name"):
        value = data.get(key)
        if value is not None and value != "":
            return value
    return node
