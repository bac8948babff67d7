"""Graph files sized for their readers (issue 15, item 5).

Above ``[exports] max_actors`` / ``max_ties`` the GEXF, GraphML and JSON files hold the
map's selection of the graph and say so; CSV and Parquet always hold everything. The
limits are forced small here so the graphs stay tiny.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from mapper.errors import ExportError
from mapper.export import (
    GRAPH_FILE_MAX_ACTORS,
    GRAPH_FILE_MAX_TIES,
    export_all,
    graph_file_reduction,
)
from mapper.graph import build_graph
from mapper.project import load_project
from mapper.records import Actor, EdgeEvent

T0 = datetime(2016, 7, 1, tzinfo=UTC)
N = 30


def _planted() -> nx.DiGraph:
    """30 actors, influence falling with the number (a00 the most influential), ties
    of planted weights; a few carry evidence with hostile text."""
    actors = {
        f"a{i:02d}": Actor(
            f"a{i:02d}", f"Actor <{i}> & co", kind="mp", faction="left" if i % 2 else "right"
        )
        for i in range(N)
    }
    events = []
    post = 0
    for i in range(N):
        for j in range(N):
            if i == j or (i + 2 * j) % 3:
                continue
            for _ in range((i + j) % 6 + 1):  # planted weight 1..6
                post += 1
                events.append(
                    EdgeEvent(
                        f"a{i:02d}",
                        f"a{j:02d}",
                        "mention",
                        f"x:{post}",
                        T0 + timedelta(minutes=post),
                        f"post {post} <script>x</script>",
                        f"https://x.example/{post}",
                    )
                )
    G = build_graph(events, actors)
    for i in range(N):
        G.nodes[f"a{i:02d}"]["influence"] = (N - i) / 100
        G.nodes[f"a{i:02d}"]["pos_x"] = float(i)
        G.nodes[f"a{i:02d}"]["pos_y"] = float(-i)
    return G


def _expected(G: nx.DiGraph, max_actors: int, max_ties: int) -> tuple[set, set]:
    """The selection rule, written out: the most influential actors, then the
    strongest ties among them (ties by ids)."""
    ranked = sorted(G.nodes, key=lambda n: (-G.nodes[n]["influence"], n))
    chosen = set(ranked[:max_actors])
    among = [(u, v, d["weight"]) for u, v, d in G.edges(data=True) if u in chosen and v in chosen]
    among.sort(key=lambda e: (-e[2], e[0], e[1]))
    return chosen, {(u, v) for u, v, _ in among[:max_ties]}


@pytest.fixture(scope="module")
def planted() -> nx.DiGraph:
    return _planted()


def _read_all(folder: Path) -> dict[str, nx.Graph]:
    with open(folder / "graph.json", encoding="utf-8") as fh:
        data = json.load(fh)
    return {
        "gexf": nx.read_gexf(folder / "graph.gexf"),
        "graphml": nx.read_graphml(folder / "graph.graphml"),
        "json": nx.node_link_graph(data, edges="edges"),
    }


def test_planted_graph_is_large_enough_to_reduce(planted):
    assert planted.number_of_nodes() == N
    assert planted.number_of_edges() > 100
    assert len({d["weight"] for _, _, d in planted.edges(data=True)}) == 6


def test_reduced_files_hold_exactly_the_chosen_subgraph(planted, tmp_path):
    reduction = graph_file_reduction(planted, max_actors=10, max_ties=15)
    assert reduction is not None
    nodes, edges = _expected(planted, 10, 15)
    assert set(reduction.nodes) == nodes and set(reduction.edges) == edges
    export_all(planted, tmp_path, reduction=reduction, n_jobs=1)
    for fmt, H in _read_all(tmp_path).items():
        assert set(H.nodes) == nodes, fmt
        assert set(H.edges) == edges, fmt
        for u, v in edges:
            assert H.edges[u, v]["weight"] == planted.edges[u, v]["weight"], fmt
        for n in nodes:
            assert H.nodes[n]["label"] == planted.nodes[n]["label"], fmt
            assert H.nodes[n]["declared_faction"] == planted.nodes[n]["declared_faction"], fmt
            assert H.nodes[n]["influence"] == planted.nodes[n]["influence"], fmt


def test_reduced_files_say_so(planted, tmp_path):
    reduction = graph_file_reduction(planted, max_actors=10, max_ties=15)
    export_all(planted, tmp_path, reduction=reduction, n_jobs=1)
    ties = planted.number_of_edges()
    said = f"10 of {N} actors and 15 of {ties} ties"
    assert said in reduction.note
    # GEXF: <meta><description>
    from lxml import etree

    tree = etree.parse(str(tmp_path / "graph.gexf"))
    ns = {"g": "http://www.gexf.net/1.2draft"}
    description = tree.findtext("g:meta/g:description", namespaces=ns)
    assert description == reduction.note
    # GraphML: graph-level data keys (networkx and igraph read them)
    G_ml = nx.read_graphml(tmp_path / "graph.graphml")
    assert G_ml.graph["export_reduced"] is True
    assert G_ml.graph["export_note"] == reduction.note
    assert G_ml.graph["export_actors_total"] == N
    assert G_ml.graph["export_ties_total"] == ties
    # JSON: a top-level field
    data = json.loads((tmp_path / "graph.json").read_text(encoding="utf-8"))
    assert data["reduced"] == {
        "actors": 10,
        "ties": 15,
        "actors_total": N,
        "ties_total": ties,
        "max_actors": 10,
        "max_ties": 15,
        "note": reduction.note,
    }


def test_reduced_graphml_reads_in_igraph(planted, tmp_path):
    ig = pytest.importorskip("igraph")
    reduction = graph_file_reduction(planted, max_actors=10, max_ties=15)
    export_all(planted, tmp_path, formats=["graphml"], reduction=reduction)
    g = ig.Graph.Read_GraphML(str(tmp_path / "graph.graphml"))
    nodes, edges = _expected(planted, 10, 15)
    assert g.vcount() == 10 and g.ecount() == 15
    assert set(g.vs["id"]) == nodes
    assert {(g.vs[e.source]["id"], g.vs[e.target]["id"]) for e in g.es} == edges
    assert g["export_reduced"] is True or g["export_reduced"] == 1


def test_tables_stay_complete(planted, tmp_path):
    reduction = graph_file_reduction(planted, max_actors=10, max_ties=15)
    export_all(planted, tmp_path, reduction=reduction, n_jobs=1)
    with open(tmp_path / "nodes.csv", newline="", encoding="utf-8") as fh:
        assert {row["id"] for row in csv.DictReader(fh)} == set(planted.nodes)
    with open(tmp_path / "edges.csv", newline="", encoding="utf-8") as fh:
        assert {(r["source"], r["target"]) for r in csv.DictReader(fh)} == set(planted.edges)
    evidence = sum(len(d["evidence"]) for _, _, d in planted.edges(data=True))
    with open(tmp_path / "evidence.csv", newline="", encoding="utf-8") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == evidence
    assert len(pd.read_parquet(tmp_path / "nodes.parquet")) == N
    assert len(pd.read_parquet(tmp_path / "edges.parquet")) == planted.number_of_edges()
    assert len(pd.read_parquet(tmp_path / "evidence.parquet")) == evidence


def test_reduced_gexf_keeps_the_whole_graphs_colours_sizes_and_positions(planted, tmp_path):
    whole, part = tmp_path / "whole", tmp_path / "part"
    export_all(planted, whole, formats=["gexf"])
    reduction = graph_file_reduction(planted, max_actors=10, max_ties=15)
    export_all(planted, part, formats=["gexf"], reduction=reduction)
    W, P = nx.read_gexf(whole / "graph.gexf"), nx.read_gexf(part / "graph.gexf")
    for n in P.nodes:
        assert P.nodes[n]["viz"] == W.nodes[n]["viz"], n


def test_only_the_tie_limit_exceeded_keeps_every_actor(planted, tmp_path):
    reduction = graph_file_reduction(planted, max_actors=N, max_ties=20)
    assert reduction is not None and len(reduction.nodes) == N
    nodes, edges = _expected(planted, N, 20)
    export_all(planted, tmp_path, formats=["graphml"], reduction=reduction)
    H = nx.read_graphml(tmp_path / "graph.graphml")
    assert set(H.nodes) == nodes and set(H.edges) == edges


def test_below_the_limits_nothing_changes(planted, tmp_path):
    assert graph_file_reduction(planted) is None  # the defaults
    assert GRAPH_FILE_MAX_ACTORS == 20_000 and GRAPH_FILE_MAX_TIES == 50_000
    size = (planted.number_of_nodes(), planted.number_of_edges())
    assert graph_file_reduction(planted, max_actors=size[0], max_ties=size[1]) is None
    export_all(planted, tmp_path, n_jobs=1)
    for fmt, H in _read_all(tmp_path).items():
        assert set(H.nodes) == set(planted.nodes) and set(H.edges) == set(planted.edges), fmt
        assert "export_reduced" not in H.graph, fmt
    assert "reduced" not in json.loads((tmp_path / "graph.json").read_text(encoding="utf-8"))
    assert b"<description>" not in (tmp_path / "graph.gexf").read_bytes()


def test_same_files_with_and_without_a_second_process(planted, tmp_path):
    reduction = graph_file_reduction(planted, max_actors=10, max_ties=15)
    export_all(planted, tmp_path / "one", reduction=reduction, n_jobs=1)
    export_all(planted, tmp_path / "two", reduction=reduction, n_jobs=2)
    for name in ("graph.graphml", "graph.json", "edges.csv", "nodes.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_bad_limits_are_refused(planted):
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ExportError, match="max_actors"):
            graph_file_reduction(planted, max_actors=bad)
        with pytest.raises(ExportError, match="max_ties"):
            graph_file_reduction(planted, max_ties=bad)


# --------------------------------------------------------------------- project runs


def _with_exports(toml: Path, lines: str) -> Path:
    text = toml.read_text(encoding="utf-8")
    text = text.replace(
        '[exports]\nformats = ["gexf", "graphml", "json", "csv", "parquet"]',
        '[exports]\nformats = ["gexf", "graphml", "json", "csv", "parquet"]\n' + lines,
    )
    assert lines in text
    toml.write_text(text, encoding="utf-8")
    return toml


def test_project_options_are_read(demo_copy):
    project = load_project(demo_copy)
    assert (project.full_graph, project.export_max_actors, project.export_max_ties) == (
        False,
        GRAPH_FILE_MAX_ACTORS,
        GRAPH_FILE_MAX_TIES,
    )
    _with_exports(demo_copy, "full_graph = true\nmax_actors = 40\nmax_ties = 100")
    project = load_project(demo_copy)
    assert (project.full_graph, project.export_max_actors, project.export_max_ties) == (
        True,
        40,
        100,
    )


def test_bad_project_option_names_the_option(demo_copy):
    from mapper.errors import ConfigError

    _with_exports(demo_copy, "max_ties = 0")
    with pytest.raises(ConfigError, match="max_ties"):
        load_project(demo_copy)


def test_run_above_the_limit_reduces_and_reports_it(demo_copy):
    from mapper.pipeline import run_project

    _with_exports(demo_copy, "max_ties = 100")
    analysis = run_project(load_project(demo_copy))
    out = analysis.project.output
    G = analysis.graph
    assert G.number_of_edges() > 100
    H = nx.read_graphml(out / "graph.graphml")
    assert H.number_of_edges() == 100 and H.graph["export_reduced"] is True
    assert set(H.nodes) == set(G.nodes)  # only the tie limit was exceeded
    strongest = sorted((d["weight"] for _, _, d in G.edges(data=True)), reverse=True)
    assert sorted((d["weight"] for _, _, d in H.edges(data=True)), reverse=True) == strongest[:100]
    with open(out / "edges.csv", newline="", encoding="utf-8") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == G.number_of_edges()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    notices = [w for w in summary["warnings"] if w["code"] == "exports-reduced"]
    assert len(notices) == 1 and notices[0]["stage"] == "exports"
    assert f"100 of {G.number_of_edges()} ties" in notices[0]["message"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "exports-reduced" in report and f"100 of {G.number_of_edges()} ties" in report


def test_full_graph_option_writes_everything(demo_copy):
    from mapper.pipeline import run_project

    _with_exports(demo_copy, "max_ties = 100\nfull_graph = true")
    analysis = run_project(load_project(demo_copy))
    out, G = analysis.project.output, analysis.graph
    for fmt, H in _read_all(out).items():
        assert set(H.edges) == set(G.edges) and set(H.nodes) == set(G.nodes), fmt
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert all(w["code"] != "exports-reduced" for w in summary["warnings"])


def test_default_run_of_a_small_project_is_unchanged(demo_copy):
    from mapper.pipeline import run_project

    analysis = run_project(load_project(demo_copy))
    out, G = analysis.project.output, analysis.graph
    for fmt, H in _read_all(out).items():
        assert set(H.edges) == set(G.edges) and set(H.nodes) == set(G.nodes), fmt
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert all(w["code"] != "exports-reduced" for w in summary["warnings"])
    assert "export_reduced" not in nx.read_graphml(out / "graph.graphml").graph


def test_cli_export_full_overrides_the_limit(demo_copy):
    from typer.testing import CliRunner

    from mapper.cli import app

    _with_exports(demo_copy, "max_ties = 100")
    runner = CliRunner()
    out = demo_copy.parent / "out"
    result = runner.invoke(app, ["export", str(demo_copy), "--formats", "graphml,csv"])
    assert result.exit_code == 0, result.output
    reduced = nx.read_graphml(out / "graph.graphml")
    assert reduced.number_of_edges() == 100
    result = runner.invoke(app, ["export", str(demo_copy), "--formats", "graphml", "--full"])
    assert result.exit_code == 0, result.output
    whole = nx.read_graphml(out / "graph.graphml")
    assert whole.number_of_edges() > 100 and "export_reduced" not in whole.graph
