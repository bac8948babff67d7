"""Graph files (GEXF, GraphML, GML) keep what they carry (issue 12 item 7, issue 13 item 6).

Generated networks with a planted ground truth go through a whole project run: their
node attributes must reach the graph's nodes, ``nodes.csv`` and every export (without
overwriting mapper's own ``label``, ``kind``, ``faction``...), the weight attribute
the file (or the project) names must be the tie weight, an undirected file must count
each tie once, and a broken or missing graph file must neither stop the run nor pass
``mapper check`` silently.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pytest
from typer.testing import CliRunner

from mapper.cli import app
from mapper.collectors.graph_files import merge_graph_file, read_graph_file
from mapper.errors import ImportFormatError
from mapper.graph import influence
from mapper.pipeline import build, import_sources, run_project
from mapper.project import check_project, load_project
from mapper.store import Store

FORMATS = ("gml", "gexf", "graphml")


def planted(seed: int, *, groups: int = 3, size: int = 10) -> nx.Graph:
    """Undirected planted factions; every node carries its group as ``value`` (the
    ground truth), a clashing ``faction`` and ``kind``, and a free-text ``club``; every
    edge a ``strength``."""
    rng = random.Random(seed)
    G = nx.Graph()
    for n in range(groups * size):
        G.add_node(
            f"n{n}",
            label=f"Person {n} <b>&</b>",
            value=n // size,
            faction=f"truth-{n // size}",
            kind="person",
            club=rng.choice(["Chess", "Rowing", "=cmd|' /C calc'!A0"]),
        )
    nodes = list(G)
    for i, u in enumerate(nodes):
        for v in nodes[i + 1 :]:
            same = int(u[1:]) // size == int(v[1:]) // size
            if rng.random() < (0.5 if same else 0.03):
                G.add_edge(u, v, strength=rng.choice([1, 2, 3]))
    return G


def write_graph(G: nx.Graph, path: Path) -> Path:
    """``G`` in the format of ``path``'s suffix. GML is written by hand: a GML node is
    known by its ``label`` (networkx's convention), so the node key is written there
    and the ``label`` attribute is left out."""
    if path.suffix == ".gexf":
        nx.write_gexf(G, path)
    elif path.suffix == ".graphml":
        nx.write_graphml(G, path)
    else:
        ids = {n: i for i, n in enumerate(G)}

        def value(v: Any) -> str:
            return repr(v) if isinstance(v, int | float) else json.dumps(str(v))

        lines = ["graph [", f"  directed {int(G.is_directed())}"]
        for n, data in G.nodes(data=True):
            attrs = " ".join(f"{k} {value(v)}" for k, v in data.items() if k != "label")
            lines.append(f"  node [ id {ids[n]} label {json.dumps(n)} {attrs} ]")
        for u, v, data in G.edges(data=True):
            attrs = " ".join(f"{k} {value(w)}" for k, w in data.items())
            lines.append(f"  edge [ source {ids[u]} target {ids[v]} {attrs} ]")
        lines.append("]")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def project(tmp_path: Path, sources: str, roster: str | None = None) -> Path:
    head = '[project]\nname = "g"\noutput = "out"\n'
    if roster is not None:
        (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
        head += 'roster = "roster.csv"\n'
    path = tmp_path / "mapper.toml"
    path.write_text(head + sources, encoding="utf-8")
    return path


def graph_source(name: str, **options: str) -> str:
    extra = "".join(f'{k} = "{v}"\n' for k, v in options.items())
    return f'[[sources]]\ntype = "graph"\npath = "{name}"\n{extra}'


# --------------------------------------------------------------------------- attributes


@pytest.mark.parametrize(("fmt", "seed"), [("gml", 1), ("gexf", 2), ("graphml", 3)])
def test_node_attributes_reach_nodes_csv_and_every_export(
    tmp_path: Path, fmt: str, seed: int
) -> None:
    G = planted(seed)
    write_graph(G, tmp_path / f"g.{fmt}")
    proj = load_project(project(tmp_path, graph_source(f"g.{fmt}", weight="strength")))
    analysis = run_project(proj)
    truth = {n: d["value"] for n, d in G.nodes(data=True)}

    [report] = analysis.imports
    assert report["ties"] == G.number_of_edges() and report["directed"] is False
    assert report["weight_attribute"] == "strength"
    assert report["renamed"] == {"faction": "file_faction"}
    assert report["node_attributes"] == ["club", "faction", "kind", "value"]
    # mapper's own attributes are mapper's; the file's are kept beside them
    H = analysis.graph
    for node, value in truth.items():
        data = H.nodes[node]
        assert data["value"] == value and data["file_faction"] == f"truth-{value}"
        assert isinstance(data["faction"], int) and data["provisional"] is True
        # an actor mapper does not know takes its label and kind from the file
        label = node if fmt == "gml" else G.nodes[node]["label"]
        assert (data["label"], data["kind"]) == (label, "person")
        assert "file_kind" not in data and "file_label" not in data

    out = proj.output
    nodes = pd.read_csv(out / "nodes.csv", dtype=str, keep_default_na=False).set_index("id")
    assert {n: int(nodes.loc[n, "value"]) for n in truth} == truth
    assert set(nodes["file_faction"]) == {f"truth-{v}" for v in set(truth.values())}
    # the spreadsheet-formula club is neutralised, the label kept as text
    assert not any(c.startswith("=") for c in nodes["club"])
    parquet = pd.read_parquet(out / "nodes.parquet").set_index("id")
    assert {n: int(parquet.loc[n, "value"]) for n in truth} == truth
    for reader, name in ((nx.read_gexf, "graph.gexf"), (nx.read_graphml, "graph.graphml")):
        back = reader(out / name)
        assert {n: int(back.nodes[n]["value"]) for n in truth} == truth, name
        assert all(isinstance(back.nodes[n]["faction"], int) for n in truth), name
    data = json.loads((out / "graph.json").read_text(encoding="utf-8"))
    assert {n["id"]: n["value"] for n in data["nodes"]} == truth


def test_file_attributes_join_roster_actors_without_overwriting_them(tmp_path: Path) -> None:
    G = nx.Graph()
    G.add_node("owen", label="O. Jones (file)", kind="person", party="Lab", value=7)
    G.add_node("stranger", label="A Stranger", kind="media", party="none", value=3)
    G.add_edge("owen", "stranger", weight=2.5)
    write_graph(G, tmp_path / "g.gexf")
    roster = "id,name,kind,party\nowen,Owen Jones,commentator,Labour\n"
    proj = load_project(project(tmp_path, graph_source("g.gexf"), roster=roster))
    with Store(proj.store) as store:
        import_sources(proj, store)
        H, _ = build(proj, store)
    owen, stranger = H.nodes["owen"], H.nodes["stranger"]
    # the roster names owen; the file's own label, kind and party are kept apart
    assert (owen["label"], owen["kind"], owen["party"]) == ("Owen Jones", "commentator", "Labour")
    assert (owen["file_label"], owen["file_kind"], owen["file_party"]) == (
        "O. Jones (file)",
        "person",
        "Lab",
    )
    assert owen["value"] == 7 and not owen["provisional"]
    # an actor mapper does not know takes its label, kind and party from the file
    assert (stranger["label"], stranger["kind"], stranger["party"]) == (
        "A Stranger",
        "media",
        "none",
    )
    assert "file_label" not in stranger and stranger["provisional"]
    assert H["owen"]["stranger"]["weight"] == 2.5


# --------------------------------------------------------------------------- weights


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_weight_attribute_is_honoured(tmp_path: Path, fmt: str) -> None:
    rng = random.Random(fmt)
    for attribute in ("weight", "value", "strength"):
        G = nx.gnm_random_graph(12, 20, seed=len(attribute), directed=True)
        G = nx.relabel_nodes(G, {n: f"a{n}" for n in G})
        expected = {}
        for u, v in G.edges:
            w = rng.choice([0.5, 1.0, 4.0])
            G[u][v][attribute] = w
            expected[(u, v)] = w
        path = write_graph(G, tmp_path / f"{attribute}.{fmt}")
        option = attribute if attribute == "strength" else None
        D = read_graph_file(path, weight=option)
        assert D.graph["weight_attribute"] == attribute
        assert {(u, v): d["weight"] for u, v, d in D.edges(data=True)} == expected
        if attribute != "weight":  # read as the weight, not kept twice
            assert all(attribute not in d for *_e, d in D.edges(data=True))
        if attribute == "strength":  # without the option it is not the weight
            plain = read_graph_file(path)
            assert plain.graph["weight_attribute"] is None
            assert {d["weight"] for *_e, d in plain.edges(data=True)} == {1.0}
            assert {d["strength"] for *_e, d in plain.edges(data=True)} <= {0.5, 1.0, 4.0}


def test_weight_problems_name_the_file(tmp_path: Path) -> None:
    G = nx.DiGraph([("a", "b")])
    G["a"]["b"]["strength"] = 2
    path = write_graph(G, tmp_path / "g.gml")
    with pytest.raises(ImportFormatError) as info:
        read_graph_file(path, weight="strenght")
    line = info.value.one_line()
    assert str(path) in line and "no edge has a 'strenght' attribute" in line
    assert "strength" in line  # the attributes the file has are listed
    G["a"]["b"]["weight"] = -1.5
    path = write_graph(G, tmp_path / "negative.gml")
    with pytest.raises(ImportFormatError, match="negative"):
        read_graph_file(path)


def test_the_project_weight_option_reaches_the_graph(tmp_path: Path) -> None:
    G = nx.DiGraph()
    G.add_edge("a", "b", strength=3.0, weight=1.0)
    G.add_edge("b", "c", strength=0.5, weight=1.0)
    write_graph(G, tmp_path / "g.graphml")
    proj = load_project(project(tmp_path, graph_source("g.graphml", weight="strength")))
    with Store(proj.store) as store:
        [report] = import_sources(proj, store)
        H, _ = build(proj, store)
    assert report["weight_attribute"] == "strength"
    assert H["a"]["b"]["weight"] == 3.0 and H["b"]["c"]["weight"] == 0.5
    assert check_project(proj.path) == []


# --------------------------------------------------------------------------- undirected


@pytest.mark.parametrize(("ties", "seed"), [(613, 0), (90, 1), (250, 2)])
@pytest.mark.parametrize("fmt", FORMATS)
def test_an_undirected_file_counts_each_tie_once(
    tmp_path: Path, fmt: str, ties: int, seed: int
) -> None:
    G = nx.gnm_random_graph(ties // 3, ties, seed=seed)
    G = nx.relabel_nodes(G, {n: f"p{n}" for n in G})
    rng = random.Random(seed)
    for u, v in G.edges:
        G[u][v]["weight"] = rng.choice([1.0, 2.0])
    write_graph(G, tmp_path / f"g.{fmt}")
    proj = load_project(project(tmp_path, graph_source(f"g.{fmt}")))
    with Store(proj.store) as store:
        [report] = import_sources(proj, store)
        H, _ = build(proj, store)
    assert report["directed"] is False and report["ties"] == ties
    assert H.number_of_edges() == ties
    assert H.graph["undirected_ties"] == ties
    assert all(d["undirected"] for *_e, d in H.edges(data=True))
    # each file tie is one arc with the file's weight, whichever way round
    weights = {frozenset((u, v)): d["weight"] for u, v, d in H.edges(data=True)}
    assert weights == {frozenset((u, v)): d["weight"] for u, v, d in G.edges(data=True)}


def test_undirected_ties_pass_influence_both_ways(tmp_path: Path) -> None:
    """A star written leaf-first or hub-first: the hub has the most influence either
    way, and the leaves share it equally (an arbitrary arc direction would not)."""
    for order in ("hub-first", "leaf-first"):
        G = nx.Graph()
        for i in range(6):
            leaf = f"leaf{i}"
            G.add_edge(*(("hub", leaf) if order == "hub-first" else (leaf, "hub")))
        G.add_edge("leaf0", "leaf1")
        D = nx.DiGraph()
        merge_graph_file(D, write_graph(G, tmp_path / f"{order}.gexf"))
        scores = influence(D)
        assert max(scores, key=scores.__getitem__) == "hub", order
        others = [scores[f"leaf{i}"] for i in range(2, 6)]
        assert max(others) - min(others) < 1e-9, order
        assert scores["leaf0"] == pytest.approx(scores["leaf1"])


def test_an_undirected_tie_joins_an_existing_arc_in_either_direction(tmp_path: Path) -> None:
    G = nx.DiGraph()
    G.add_edge("b", "a", weight=1.0, count=1, evidence=[], first=None, last=None)
    other = nx.Graph()
    other.add_edge("a", "b", weight=2.0)
    other.add_edge("a", "c", weight=1.0)
    summary = merge_graph_file(G, write_graph(other, tmp_path / "g.graphml"))
    assert summary["ties"] == 2
    assert not G.has_edge("a", "b") and G["b"]["a"]["weight"] == 3.0
    assert G["b"]["a"]["count"] == 2 and "undirected" not in G["b"]["a"]
    assert G["a"]["c"]["undirected"] is True and G.graph["undirected_ties"] == 1


# --------------------------------------------------------------------------- broken files


BROKEN = {
    "bad_target.gml": b"graph [ node [ id 1 ] edge [ source 1 target 9 ] ]",
    "not_xml.gexf": b"source,target\na,b\n",
    "cut.graphml": b'<?xml version="1.0"?><graphml><graph edgedefault="undirected"><node id="a"/>',
    "bad_weight.gml": b"graph [ node [ id 1 ] node [ id 2 ]"
    b' edge [ source 1 target 2 weight "x" ] ]',
}


def test_broken_graph_files_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    write_graph(planted(5), tmp_path / "good.gexf")
    names = sorted(BROKEN)
    for name in names:
        (tmp_path / name).write_bytes(BROKEN[name])
    sources = "".join(graph_source(name) for name in [names[0], "good.gexf", *names[1:]])
    proj = load_project(project(tmp_path, sources))
    analysis = run_project(proj)
    good = analysis.imports.pop(1)
    assert good["ties"] == analysis.graph.number_of_edges() > 0
    for name, bad in zip(names, analysis.imports, strict=True):
        assert name in bad["error"] and "\n" not in bad["error"] and "ties" not in bad
    summary = json.loads((proj.output / "summary.json").read_text(encoding="utf-8"))
    assert [i.get("error") for i in summary["imports"]] == [
        analysis.imports[0]["error"],
        None,
        *(bad["error"] for bad in analysis.imports[1:]),
    ]

    errors = [p.one_line() for p in check_project(proj.path) if p.is_error]
    assert len(errors) == len(names)
    for index, (name, line) in enumerate(zip(names, errors, strict=True)):
        assert name in line and f"sources[{index + (index > 0) + 1}].path" in line

    runner = CliRunner()
    result = runner.invoke(app, ["run", str(proj.path)])
    assert result.exit_code == 0, result.output
    for bad in analysis.imports:
        assert f"not read: {bad['error']}" in result.output
    assert f"{good['source']}: {good['nodes']} nodes, {good['ties']} undirected ties" in (
        result.output
    )
    strict = runner.invoke(app, ["run", str(proj.path), "--strict"])
    assert strict.exit_code == 1 and "4 source(s) could not be read (--strict)" in strict.output
    checked = runner.invoke(app, ["check", str(proj.path)])
    assert checked.exit_code == 1 and "no errors" not in checked.output


def test_check_reports_missing_and_folder_sources(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "inner").mkdir()
    (tmp_path / "utf16.csv").write_bytes("source,target\nalice,bob\n".encode("utf-16"))
    sources = (
        graph_source("missing.gexf")
        + '[[sources]]\ntype = "x-archive"\npath = "corpus/*"\n'
        + '[[sources]]\ntype = "edges-csv"\npath = "utf16.csv"\n'
    )
    problems = check_project(project(tmp_path, sources))
    lines = [p.one_line() for p in problems if p.is_error]
    assert any("sources[1].path" in line and "no file matches" in line for line in lines)
    assert any("sources[2].path" in line and "only folders match" in line for line in lines)
    assert any("utf16.csv" in line and "UTF-16 text" in line for line in lines)
    assert len(lines) == 3
