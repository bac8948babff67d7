"""Tests for mapper.export: every format writes and reads back, whatever the attributes."""

from __future__ import annotations

import csv
import json
import math
import pickle
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapper.errors import ExportError
from mapper.export import (
    FORMATS,
    PALETTE,
    export_all,
    export_node_ids,
    neutralize_cell,
    restore_cell,
    sanitize_graph,
    write_csv,
    write_gexf,
    write_graphml,
    write_json,
    write_parquet,
    write_rows_csv,
)
from mapper.graph import apply_influence, build_graph, influence
from mapper.records import REFERENCE_KINDS, Actor, EdgeEvent

T0 = datetime(2016, 7, 1, tzinfo=UTC)


def state(G: nx.Graph) -> bytes:
    """Everything a graph holds, serialized: equal bytes means nothing was mutated."""
    return pickle.dumps(
        (G.graph, list(G.nodes(data=True)), list(G.edges(data=True)), G.is_directed())
    )


@pytest.fixture
def graph() -> nx.DiGraph:
    actors = {
        "owen-jones": Actor("owen-jones", "Owen Jones", kind="commentator", faction="left"),
        "compass": Actor("compass", '=HYPERLINK("http://evil")', kind="organisation"),
        "clive-lewis": Actor("clive-lewis", "Clive Lewis", kind="mp", party="Labour"),
    }
    events = [
        EdgeEvent("owen-jones", "compass", "mention", "x:1", T0, "hi <b>&amp;</b>", "https://x/1"),
        EdgeEvent("owen-jones", "compass", "repost", "x:2", T0.replace(hour=3), "@someone"),
        EdgeEvent("compass", "owen-jones", "link", "web:1", None, "-1+2", "https://c.org"),
        EdgeEvent("clive-lewis", "owen-jones", "quote", "x:3", T0, "", "", weight=-0.5),
        EdgeEvent("clive-lewis", "x:newbie", "mention", "x:4", T0, "line\nbreak", ""),
    ]
    G = build_graph(events, actors, topics={"owen-jones": {"#brexit": 3}}, name="demo")
    apply_influence(G, influence(G, weight=None))
    for i, node in enumerate(G):
        G.nodes[node]["faction"] = i % 2
    G.nodes["compass"]["x"] = "compass_handle"
    return G


def read_back(fmt: str, folder: Path) -> dict[str, object]:
    """Read an export with the tools users have: node ids, edges and weights."""
    if fmt == "gexf":
        H = nx.read_gexf(folder / "graph.gexf")
        return {
            "nodes": set(H),
            "weights": {(u, v): d.get("weight") for u, v, d in H.edges(data=True)},
        }
    if fmt == "graphml":
        H = nx.read_graphml(folder / "graph.graphml")
        g = ig.Graph.Read_GraphML(str(folder / "graph.graphml"))
        # igraph's reader (libxml2 without entity substitution) returns "&" inside an
        # XML attribute, such as a node id, as "&#38;"; the file itself is correct.
        ids = [i.replace("&#38;", "&") for i in g.vs["id"]]
        igraph_weights = {
            (ids[e.source], ids[e.target]): (e["weight"] if "weight" in g.es.attributes() else None)
            for e in g.es
        }
        igraph_weights = {
            k: (None if w is None or (isinstance(w, float) and math.isnan(w)) else w)
            for k, w in igraph_weights.items()
        }
        weights = {(u, v): d.get("weight") for u, v, d in H.edges(data=True)}
        assert set(ids) == set(H)
        assert g.is_directed()
        assert igraph_weights == weights
        return {"nodes": set(H), "weights": weights}
    if fmt == "json":
        with open(folder / "graph.json", encoding="utf-8") as fh:
            H = nx.node_link_graph(json.load(fh), edges="edges")
        return {
            "nodes": set(H),
            "weights": {(u, v): d.get("weight") for u, v, d in H.edges(data=True)},
        }
    if fmt == "csv":
        nodes = pd.read_csv(folder / "nodes.csv", dtype=str, keep_default_na=False)
        edges = pd.read_csv(folder / "edges.csv", dtype=str, keep_default_na=False)
        weights = {}
        for row in edges.to_dict("records"):
            cell = row.get("weight", "")
            weights[(restore_cell(row["source"]), restore_cell(row["target"]))] = (
                float(cell) if cell != "" else None
            )
        return {"nodes": {restore_cell(i) for i in nodes["id"]}, "weights": weights}
    nodes = pd.read_parquet(folder / "nodes.parquet")
    edges = pd.read_parquet(folder / "edges.parquet")
    weights = {}
    for row in edges.to_dict("records"):
        w = row.get("weight")
        weights[(row["source"], row["target"])] = None if w is None or pd.isna(w) else float(w)
    return {"nodes": set(nodes["id"]), "weights": weights}


# ---------------------------------------------------------------------------
# Round trips of a built graph


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_same_nodes_edges_weights(graph, tmp_path, fmt):
    export_all(graph, tmp_path, formats=[fmt])
    back = read_back(fmt, tmp_path)
    assert back["nodes"] == set(graph)
    assert back["weights"] == {(u, v): d["weight"] for u, v, d in graph.edges(data=True)}


def test_export_all_writes_every_file(graph, tmp_path):
    before = state(graph)
    paths = export_all(graph, tmp_path / "out")
    assert set(paths) == {
        "gexf",
        "graphml",
        "json",
        "csv:nodes",
        "csv:edges",
        "csv:evidence",
        "parquet:nodes",
        "parquet:edges",
        "parquet:evidence",
    }
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths.values())
    assert not list((tmp_path / "out").glob(".*.tmp"))  # no temporary files left
    assert state(graph) == before


def test_export_all_in_two_processes_writes_the_same_files(graph, tmp_path):
    one = export_all(graph, tmp_path / "one", n_jobs=1)
    two = export_all(graph, tmp_path / "two", n_jobs=2)
    assert list(one) == list(two)
    for key, path in one.items():
        if key != "gexf":  # the GEXF carries the day it was written
            assert path.read_bytes() == two[key].read_bytes(), key
    assert dict(nx.read_gexf(one["gexf"]).nodes(data=True)) == dict(
        nx.read_gexf(two["gexf"]).nodes(data=True)
    )
    assert not list((tmp_path / "two").glob(".*.tmp"))
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError) as err:  # a failure in the child is raised here
        export_all(graph, blocker, formats=["gexf", "csv"], n_jobs=2)
    assert "file" in str(err.value)


def test_gexf_keeps_labels_and_gephi_viz(graph, tmp_path):
    graph.nodes["clive-lewis"]["x"] = 12.5  # numeric x and y: a position
    graph.nodes["clive-lewis"]["y"] = -3
    graph.nodes["x:newbie"]["color"] = "#ff0000"
    H = nx.read_gexf(write_gexf(graph, tmp_path / "g.gexf"))
    assert H.nodes["owen-jones"]["label"] == "Owen Jones"
    assert H.nodes["compass"]["label"] == '=HYPERLINK("http://evil")'  # XML: no neutralising
    viz = {n: H.nodes[n]["viz"] for n in H}
    assert all(set(v) >= {"color", "size"} for v in viz.values())
    top = max(graph, key=lambda n: graph.nodes[n]["influence"])
    low = min(graph, key=lambda n: graph.nodes[n]["influence"])
    assert viz[top]["size"] == 50.0 and viz[low]["size"] == 5.0
    assert all(5.0 <= v["size"] <= 50.0 for v in viz.values())
    r, g, b = PALETTE[graph.nodes["owen-jones"]["faction"]]
    assert viz["owen-jones"]["color"] == {"r": r, "g": g, "b": b, "a": 1.0}
    assert viz["x:newbie"]["color"] == {"r": 255, "g": 0, "b": 0, "a": 1.0}
    assert viz["clive-lewis"]["position"] == {"x": 12.5, "y": -3.0, "z": 0.0}
    assert "position" not in viz["compass"]  # x is a handle there, not a coordinate
    assert H.graph["name"] == "demo"


def test_gexf_positions_from_pos_x_pos_y(graph, tmp_path):
    graph.nodes["owen-jones"]["pos_x"] = 10.5
    graph.nodes["owen-jones"]["pos_y"] = -4
    graph.nodes["clive-lewis"]["pos_x"] = 1.0  # pos_y missing: no position from pos_*
    graph.nodes["clive-lewis"]["x"] = 3.0  # ... but numeric x/y still count
    graph.nodes["clive-lewis"]["y"] = 4.0
    graph.nodes["compass"]["pos_x"] = 7.0  # pos_x/pos_y win over numeric x/y
    graph.nodes["compass"]["pos_y"] = 8.0
    graph.nodes["compass"]["y"] = 99.0  # x is the handle (a string) here anyway
    H = nx.read_gexf(write_gexf(graph, tmp_path / "g.gexf"))
    assert H.nodes["owen-jones"]["viz"]["position"] == {"x": 10.5, "y": -4.0, "z": 0.0}
    assert H.nodes["clive-lewis"]["viz"]["position"] == {"x": 3.0, "y": 4.0, "z": 0.0}
    assert H.nodes["compass"]["viz"]["position"] == {"x": 7.0, "y": 8.0, "z": 0.0}
    assert "position" not in H.nodes["x:newbie"]["viz"]
    assert H.nodes["owen-jones"]["pos_x"] == 10.5  # also an ordinary column


def test_gexf_layout_of_the_whole_graph_reads_back(tmp_path):
    """The pipeline's layout stage: every actor gets pos_x/pos_y, the actors on the
    network map keep the map's positions, and Gephi reads them all from the GEXF."""
    from mapper.render.layout import compute_positions, edge_weight, map_positions, select_view

    G = nx.gnm_random_graph(300, 900, seed=4, directed=True)
    G = nx.relabel_nodes(G, {i: f"a{i:03d}" for i in G})
    G.add_edge("lonely-1", "lonely-2")  # a component the map does not show
    for i, (*_, data) in enumerate(G.edges(data=True)):
        data["weight"] = 1.0 + i % 3
    positions = map_positions(G, node_budget=120, seed=0)
    assert set(positions) == set(G)
    view = select_view(G, node_budget=120)
    ties = [(u, v, edge_weight(G.edges[u, v])) for u, v in view.edges]
    shown = compute_positions(view.nodes, ties, seed=0)
    assert all(positions[n] == shown[n] for n in view.nodes)
    assert positions != map_positions(G, node_budget=120, seed=1)
    for node, (x, y) in positions.items():
        G.nodes[node]["pos_x"], G.nodes[node]["pos_y"] = x, y
    H = nx.read_gexf(write_gexf(G, tmp_path / "g.gexf"))
    for node, (x, y) in positions.items():
        assert H.nodes[node]["viz"]["position"] == {"x": x, "y": y, "z": 0.0}


def test_gexf_colours_are_the_maps_colours(tmp_path):
    from mapper.render.layout import OTHER_COLOUR, OTHER_GROUPS_COLOUR, group_nodes
    from mapper.render.layout import PALETTE as MAP_PALETTE

    def rgb(colour):
        return {"r": int(colour[1:3], 16), "g": int(colour[3:5], 16), "b": int(colour[5:7], 16)}

    assert tuple(tuple(rgb(c).values()) for c in MAP_PALETTE) == PALETTE
    G = nx.DiGraph()
    sizes = [3] * 21 + [5]  # faction 21 is the largest: it takes the first colour
    for faction, size in enumerate(sizes):
        for i in range(size):
            G.add_node(f"f{faction}-{i}", faction=faction)
    G.add_node("loner")  # no faction: grey, as on the maps
    G.add_edge("f0-0", "f21-0", weight=1.0)
    H = nx.read_gexf(write_gexf(G, tmp_path / "g.gexf"))
    grouping = group_nodes(G)
    for node in G:
        want = rgb(grouping.colour(grouping.of_node[node]))
        assert H.nodes[node]["viz"]["color"] == {**want, "a": 1.0}, node
    assert H.nodes["f21-0"]["viz"]["color"] == {**rgb(MAP_PALETTE[0]), "a": 1.0}
    assert H.nodes["loner"]["viz"]["color"] == {**rgb(OTHER_COLOUR), "a": 1.0}
    # the 21st group: "other factions", not the grey of the unassigned actors
    assert H.nodes["f20-0"]["viz"]["color"] == {**rgb(OTHER_GROUPS_COLOUR), "a": 1.0}


def test_graphml_types_and_igraph(graph, tmp_path):
    path = write_graphml(graph, tmp_path / "g.graphml")
    H = nx.read_graphml(path)
    node = H.nodes["owen-jones"]
    assert node["provisional"] is False and isinstance(node["influence"], float)
    assert json.loads(node["topics"]) == {"#brexit": 3}
    edge = H["owen-jones"]["compass"]
    assert edge["count"] == 2 and edge["repost"] == 1
    assert edge["first"] == T0.isoformat()
    assert "evidence" not in edge  # in the evidence table; too big as text in XML
    g = ig.Graph.Read_GraphML(str(path))
    assert sorted(g.vs["label"]) == sorted(graph.nodes[n]["label"] for n in graph)


def test_json_is_node_link_with_iso_times_and_native_nesting(graph, tmp_path):
    path = write_json(graph, tmp_path / "g.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) >= {"directed", "graph", "nodes", "edges"} and data["directed"]
    H = nx.node_link_graph(data, edges="edges")
    edge = H["owen-jones"]["compass"]
    assert edge["first"] == T0.isoformat()
    assert edge["evidence"][0] == {
        "post": "x:1",
        "type": "mention",
        "url": "https://x/1",
        "time": T0.isoformat(),
        "snippet": "hi <b>&amp;</b>",
    }
    assert H.nodes["owen-jones"]["topics"] == {"#brexit": 3}
    assert "first" not in H["compass"]["owen-jones"]  # None is dropped, not null


def test_csv_tables_columns_and_injection(graph, tmp_path):
    paths = write_csv(graph, tmp_path)
    nodes = pd.read_csv(paths["nodes"], dtype=str, keep_default_na=False)
    assert list(nodes.columns[:5]) == ["id", "label", "kind", "party", "declared_faction"]
    labels = dict(zip(nodes["id"], nodes["label"], strict=True))
    assert labels["compass"] == '\'=HYPERLINK("http://evil")'  # neutralised
    assert restore_cell(labels["compass"]) == '=HYPERLINK("http://evil")'
    assert json.loads(nodes.set_index("id").loc["owen-jones", "topics"]) == {"#brexit": 3}

    edges = pd.read_csv(paths["edges"], dtype={"source": str, "target": str})
    assert list(edges.columns) == [
        "source",
        "target",
        "weight",
        "count",
        *REFERENCE_KINDS,
        "first",
        "last",
    ]
    assert edges["weight"].dtype == np.float64  # -0.5 stays a number
    assert -0.5 in set(edges["weight"])
    evidence = pd.read_csv(paths["evidence"], dtype=str, keep_default_na=False)
    assert list(evidence.columns) == ["source", "target", "post", "type", "url", "time", "snippet"]
    assert len(evidence) == sum(len(d["evidence"]) for _, _, d in graph.edges(data=True))
    snippets = set(evidence["snippet"])
    assert "'@someone" in snippets and "'-1+2" in snippets and "line\nbreak" in snippets
    with open(paths["evidence"], newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            assert all(not cell or cell[0] not in "=+@\t\r" for cell in row)


def test_parquet_types(graph, tmp_path):
    paths = write_parquet(graph, tmp_path)
    edges = pd.read_parquet(paths["edges"])
    assert str(edges["first"].dtype) == "datetime64[us, UTC]"
    assert edges["weight"].dtype == np.float64 and edges["count"].dtype == np.int64
    row = edges[(edges.source == "owen-jones") & (edges.target == "compass")].iloc[0]
    assert row["first"] == pd.Timestamp(T0)
    nodes = pd.read_parquet(paths["nodes"])
    assert nodes["provisional"].dtype == bool
    assert nodes.set_index("id").loc["compass", "label"] == '=HYPERLINK("http://evil")'
    evidence = pd.read_parquet(paths["evidence"])
    assert str(evidence["time"].dtype) == "datetime64[us, UTC]"
    assert evidence["time"].isna().sum() == 1  # the link without a time


# ---------------------------------------------------------------------------
# The sanitizer


def test_sanitize_renames_reserved_keys_and_unifies_types():
    G = nx.DiGraph()
    G.add_nodes_from(
        [
            ("a", {"id": 123, "pid": 1, "start": 2, "end": 3, "spells": [(1, 2)], "mixed": 1}),
            ("b", {"label": 5, "mixed": "one", "num": 2, "actor_id": "taken"}),
            ("c", {"num": 2.5, "flag": np.bool_(True), "n": np.int64(7), "none": None}),
        ]
    )
    G.add_edge("a", "b", id="e1", label="L", key="k", type="t", weight=np.int64(3))
    G.add_edge("b", "c", weight=float("nan"), start=T0, score=float("inf"))
    H = sanitize_graph(G, for_format="graphml")
    a, b, c = (H.nodes[n] for n in "abc")
    assert a["actor_id_2"] == 123 and b["actor_id"] == "taken"  # clash resolved
    assert {"attr_pid", "attr_start", "attr_end", "attr_spells"} <= set(a)
    assert not {"id", "pid", "start", "end", "spells"} & set(a)
    assert a["attr_spells"] == "[[1, 2]]"
    assert a["mixed"] == "1" and b["mixed"] == "one"  # int and str: text for everyone
    assert b["num"] == 2.0 and isinstance(b["num"], float) and c["num"] == 2.5
    assert c["flag"] is True and type(c["n"]) is int and "none" not in c
    e = H["a"]["b"]
    assert e == {
        "edge_id": "e1",
        "edge_label": "L",
        "edge_key": "k",
        "edge_type": "t",
        "weight": 3.0,
    }
    assert type(e["weight"]) is float
    assert H["b"]["c"] == {"attr_start": T0.isoformat()}  # NaN weight and inf dropped


def test_sanitize_ids_and_control_characters():
    G = nx.DiGraph()
    G.add_node("ok")
    G.add_node("bad\x00id\x1f", label="Ann\x07 \ufffe<&>\"'", **{"k\x01ey": "v\x0b"})
    G.add_node(7)
    G.add_node("7")
    G.add_node("\x00")
    G.add_edge(7, "bad\x00id\x1f", weight=1)
    ids = export_node_ids(G)
    assert ids == {"ok": "ok", "bad\x00id\x1f": "badid", 7: "7~2", "7": "7", "\x00": "node"}
    H = sanitize_graph(G, for_format="gexf")
    assert set(H) == {"ok", "badid", "7", "7~2", "node"}
    assert H.nodes["badid"]["label"] == "Ann <&>\"'"
    assert H.nodes["badid"]["attr_key"] == "v"  # cleaned to "key", which GEXF reserves
    assert H.nodes["badid"]["original_id"] == repr("bad\x00id\x1f")
    assert H.nodes["7~2"]["original_id"] == "7"
    assert "original_id" not in H.nodes["ok"]
    assert H.has_edge("7~2", "badid")


def test_sanitize_never_mutates_input(graph):
    graph.nodes["compass"]["viz"] = {"size": 3.0}
    graph.nodes["compass"]["tags"] = {"b", "a"}
    before = state(graph)
    for fmt in FORMATS:
        sanitize_graph(graph, for_format=fmt)
    assert state(graph) == before


def test_sanitize_rejects_unknown_format_and_multigraph(graph):
    with pytest.raises(ExportError, match="unknown export format"):
        sanitize_graph(graph, for_format="xlsx")
    with pytest.raises(ExportError, match="multigraph"):
        sanitize_graph(nx.MultiDiGraph(graph), for_format="gexf")
    with pytest.raises(ExportError):
        export_all(graph, "/nonexistent-never-written", formats=["gexf", "pdf"])


def test_write_errors_name_the_path(graph, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    target = blocker / "graph.gexf"
    with pytest.raises(ExportError) as err:
        write_gexf(graph, target)
    assert str(target) in str(err.value)
    with pytest.raises(ExportError) as err:
        write_csv(graph, blocker)
    assert "nodes.csv" in str(err.value)


def test_write_rows_csv_neutralises_strings_not_numbers(tmp_path):
    rows = [
        {"name": "=1+1", "score": -0.5, "n": -3, "when": T0, "tags": ["a", "b"]},
        {"name": "-0.5", "score": float("nan"), "extra": "ignored?", "n": None},
        {"name": "@SUM(A1)", "score": 1.0, "n": 2, "day": date(2016, 7, 1)},
    ]
    path = write_rows_csv(rows, tmp_path / "t.csv", columns=["name", "score", "n", "when", "tags"])
    table = pd.read_csv(path, keep_default_na=False, dtype={"name": str})
    assert list(table["name"]) == ["'=1+1", "-0.5", "'@SUM(A1)"]
    scores = pd.read_csv(path)["score"]
    assert scores.dtype == np.float64 and scores[0] == -0.5 and math.isnan(scores[1])
    assert table.loc[1, "score"] == "" and table.loc[1, "n"] == ""  # NaN, None: empty
    assert table.loc[0, "when"] == T0.isoformat()
    assert json.loads(table.loc[0, "tags"]) == ["a", "b"]
    assert "extra" not in table.columns
    auto = write_rows_csv(iter(rows), tmp_path / "auto.csv")
    assert pd.read_csv(auto).columns.tolist() == [
        "name",
        "score",
        "n",
        "when",
        "tags",
        "extra",
        "day",
    ]


@given(st.text())
def test_neutralize_is_reversible_and_defuses(text):
    cell = neutralize_cell(text)
    assert restore_cell(cell) == text
    if cell and cell[0] in "=+-@\t\r":
        assert cell[0] in "+-" and float(cell) is not None  # only plain numbers pass


# ---------------------------------------------------------------------------
# Hostile attributes, every format

SPECIAL = [
    "",
    " ",
    "\x00",
    "a\x01b",
    "\x1f",
    "\ud800",
    "x\udfffy",
    "\ufffe",
    "\uffff",
    "<&>\"'",
    "]]>",
    "😀🇬🇧",
    '=HYPERLINK("http://x")',
    "-1",
    "-0.5",
    "+44",
    "@user",
    "\tTab",
    "\rCR",
    "line\r\nbreak",
    "007",
    "1e5",
    "NaN",
    "null",
    "None",
    "true",
    "x" * 3000,
]
RESERVED = [
    "id",
    "label",
    "pid",
    "spells",
    "slices",
    "parents",
    "start",
    "end",
    "key",
    "weight",
    "viz",
    "type",
    "source",
    "target",
    "networkx_key",
    "node_for_adding",
    "u_of_edge",
    "u_for_edge",
    "mode",
    "name",
    "original_id",
    "actor_id",
    "attr_id",
    "x",
    "y",
    "color",
    "faction",
    "influence",
    "evidence",
]

texts = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=12))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
    st.datetimes(timezones=st.sampled_from([None, UTC])),
    st.dates(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(np.int64),
    st.floats(allow_nan=True).map(np.float64),
    st.booleans().map(np.bool_),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.tuples(scalars, scalars),
    st.sets(st.one_of(st.integers(), st.text(max_size=4)), max_size=3),
    st.dictionaries(texts, scalars, max_size=3),
    st.just(
        [{"post": "x:1", "type": "mention", "url": "u", "time": T0, "snippet": "=x"}, {"a": None}]
    ),
)
keys = st.one_of(st.sampled_from(RESERVED), texts, st.integers(min_value=-3, max_value=3))
attr_dicts = st.dictionaries(keys, values, max_size=6)
node_ids = st.one_of(
    texts,
    st.integers(min_value=-5, max_value=2**70),
    st.integers(min_value=0, max_value=5).map(np.int64),
)
weights = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(min_value=-1e6, max_value=1e6).map(np.float64),
    st.none(),
    st.just(float("nan")),
    st.just("heavy"),
)


@st.composite
def hostile_graphs(draw) -> nx.DiGraph:
    G = nx.DiGraph()
    ids = draw(st.lists(node_ids, min_size=1, max_size=6))
    for node in ids:
        G.add_nodes_from([(node, draw(attr_dicts))])
    nodes = list(G)
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)), max_size=8, unique=True)
    )
    for u, v in pairs:
        data = draw(attr_dicts)
        data.pop("weight", None)
        w = draw(weights)
        if w is not None:
            data["weight"] = w
        G.add_edges_from([(u, v, data)])
    for key, value in draw(attr_dicts).items():
        G.graph[key] = value
    return G


def expected_weight(value: object) -> float | None:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return number if abs(number) >= sys.float_info.min else 0.0  # subnormals flushed


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(hostile_graphs())
def test_hostile_graphs_write_and_read_back_in_every_format(G):
    before = state(G)
    ids = export_node_ids(G)
    assert len(set(ids.values())) == len(ids)  # one-to-one
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export_all(G, folder)
        for fmt in FORMATS:
            back = read_back(fmt, folder)
            assert back["nodes"] == set(ids.values()), fmt
            edges = {(ids[u], ids[v]): d.get("weight") for u, v, d in G.edges(data=True)}
            assert set(back["weights"]) == set(edges), fmt
            for edge, raw in edges.items():
                want = expected_weight(raw)
                if want is not None:
                    assert back["weights"][edge] == want, (fmt, edge, raw)
                elif raw is None or (isinstance(raw, float) and math.isnan(raw)):
                    assert back["weights"][edge] is None, (fmt, edge, raw)
        # Attributes survive exactly in the self-describing formats.
        for fmt, reader in (
            ("json", lambda p: nx.node_link_graph(json.loads(p.read_text("utf-8")), edges="edges")),
            ("graphml", nx.read_graphml),
        ):
            H = sanitize_graph(G, for_format=fmt, evidence=fmt != "graphml")
            R = reader(folder / f"graph.{fmt}")
            assert dict(R.nodes(data=True)) == dict(H.nodes(data=True)), fmt
            assert {(u, v): d for u, v, d in R.edges(data=True)} == {
                (u, v): d for u, v, d in H.edges(data=True)
            }, fmt
        gexf = nx.read_gexf(folder / "graph.gexf")
        for node in gexf:
            viz = gexf.nodes[node]["viz"]
            assert 0 <= viz["color"]["r"] <= 255 and viz["size"] >= 0
    assert state(G) == before


def test_undirected_graph_exports_stay_undirected(graph, tmp_path):
    from mapper.graph import undirected_projection

    U = undirected_projection(graph)
    export_all(U, tmp_path, formats=["graphml", "json", "gexf"])
    for R in (
        nx.read_graphml(tmp_path / "graph.graphml"),
        nx.node_link_graph(json.loads((tmp_path / "graph.json").read_text("utf-8")), edges="edges"),
        nx.read_gexf(tmp_path / "graph.gexf"),
    ):
        assert not R.is_directed()
        assert {frozenset(e) for e in R.edges} == {frozenset(e) for e in U.edges}
        assert sorted(d["weight"] for *_, d in R.edges(data=True)) == sorted(
            d["weight"] for *_, d in U.edges(data=True)
        )
