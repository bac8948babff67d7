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

Everything here calls the stage modules; nothing is computed that the CLI does not
compute the same way.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

if TYPE_CHECKING:
    import pandas as pd

    from mapper.project import Project


@dataclass
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
        from mapper.pipeline import build, import_sources
        from mapper.project import load_project
        from mapper.store import Store

        project = load_project(path, output=output)
        project.output.mkdir(parents=True, exist_ok=True)
        with Store(project.store) as store:
            imports = import_sources(project, store, collect=collect)
            G, resolution = build(project, store)
        net = cls(graph=G, project=project, resolution=resolution, imports=imports)
        if analyse:
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
            data.setdefault("label", str(data.get("label") or n))
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
        """One row per actor with every scalar node attribute, indexed by actor id."""
        import pandas as pd

        rows = []
        for n, data in self.graph.nodes(data=True):
            row = {"actor": n}
            row.update({k: v for k, v in data.items() if not isinstance(v, dict | list)})
            rows.append(row)
        return pd.DataFrame(rows).set_index("actor").sort_index()

    def edges(self) -> pd.DataFrame:
        """One row per tie: source, target, weight, counts per type, first and last time."""
        import pandas as pd

        rows = [
            {"source": u, "target": v, **{k: x for k, x in d.items() if k != "evidence"}}
            for u, v, d in self.graph.edges(data=True)
        ]
        return pd.DataFrame(rows)

    def factions(self) -> pd.DataFrame:
        """Actor, name, faction id and name, stability, declared faction."""
        import pandas as pd

        result = self._need("factions")
        rows = [
            {
                "actor": n,
                "name": self.graph.nodes[n].get("label", n),
                "faction": f,
                "faction_name": result.names.get(f, str(f)),
                "stability": result.stability.get(n),
                "declared_faction": self.graph.nodes[n].get("declared_faction", ""),
            }
            for n, f in sorted(result.partition.items(), key=lambda x: (x[1], x[0]))
        ]
        return pd.DataFrame(rows)

    def faction_summaries(self) -> list[dict[str, Any]]:
        """Per faction: size, kinds, parties, central members, issues, density."""
        return list(self._need("summaries"))

    def fault_lines(self) -> list[dict[str, Any]]:
        """For each declared faction, how its members spread over the detected ones."""
        return list(self._need("fault_lines"))

    def bridges(self, top: int | None = None) -> pd.DataFrame:
        """The ranked bridge figures, with the reason for each."""
        import pandas as pd

        rows = self._need("bridges")
        return pd.DataFrame(rows[:top] if top else rows)

    def opportunities(self) -> pd.DataFrame:
        """Pairs of factions that share issues but have few ties, best first."""
        import pandas as pd

        return pd.DataFrame(self._need("alliances").get("opportunities", []))

    def introductions(self) -> pd.DataFrame:
        """Suggested introductions across factions, each with a broker, best first."""
        import pandas as pd

        return pd.DataFrame(self._need("alliances").get("introductions", []))

    # -- maps and files ---------------------------------------------------------------

    def write_map(self, path: str | Path, *, node_budget: int = 1500) -> Path:
        """Write the interactive network map to ``path`` and return it."""
        from mapper.render import write_network_map

        title = self.project.name if self.project else ""
        write_network_map(self.graph, path, title=title, node_budget=node_budget)
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
        return HTML(
            f'<iframe sandbox="allow-scripts" style="width:100%;height:{int(height)}px;border:0" '
            f'srcdoc="{html.escape(doc, quote=True)}"></iframe>'
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
            raise AnalysisError(f"no {key} on this network", hint="build it with analyse=True")
        return self.results[key]
