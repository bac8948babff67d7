"""The notebook surface (mapper.Network): a short repr and HTML summary, one index
and one name column across the actor tables, typed empty frames, igraph conversion,
``Network`` listed by ``dir(mapper)`` and an inline map without warnings."""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
import warnings
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from browser_support import HOSTILE_IMG, HOSTILE_SCRIPT

import mapper
from mapper.api import Network
from mapper.graph.evidence import edge_evidence

BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")

ROOT = Path(__file__).resolve().parents[1]


def planted(seed: int, groups: int = 4, size: int = 15, *, isolated: int = 0) -> nx.DiGraph:
    """A directed planted-partition graph with labels, kinds and weights."""
    rng = random.Random(seed)
    U = nx.planted_partition_graph(groups, size, 0.5, 0.03, seed=seed)
    G = nx.DiGraph(name=f"planted {seed}")
    for n in U.nodes:
        G.add_node(f"a{n:03d}", label=f"Actor {n}", kind=rng.choice(["mp", "commentator"]))
    for u, v in U.edges:
        a, b = (u, v) if rng.random() < 0.5 else (v, u)
        G.add_edge(f"a{a:03d}", f"a{b:03d}", weight=float(rng.randint(1, 5)))
    for i in range(isolated):
        G.add_node(f"lone{i}", label=f"Lone {i}", kind="other")
    return G


@pytest.fixture(scope="module", params=[1, 2, 3])
def net(request: pytest.FixtureRequest) -> Network:
    seed = request.param
    return Network.from_graph(planted(seed, groups=3 + seed, isolated=seed), runs=3, seed=seed)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Network:
    out = tmp_path_factory.mktemp("demo")
    return Network.from_project(ROOT / "data" / "demo" / "mapper.toml", output=out)


# ----------------------------------------------------------------------- repr


def test_demo_repr_is_one_short_line(demo: Network) -> None:
    text = repr(demo)
    assert len(text) < 300, len(text)  # was 456,768 characters
    assert "\n" not in text
    assert f"{demo.graph.number_of_nodes():,} actors" in text
    assert f"{demo.graph.number_of_edges():,} ties" in text
    assert "factions" in text and "bridge figures" in text
    page = demo._repr_html_()
    assert len(page) < 6000
    assert "Labour" in page and "<table>" in page


def test_repr_and_html_repr_are_short_and_escaped(net: Network) -> None:
    G = net.graph.copy()
    first = next(iter(G.nodes))
    G.nodes[first]["label"] = HOSTILE_IMG + "\u202eevil" + "x" * 100_000
    G.graph["name"] = HOSTILE_SCRIPT + "\u202e"
    hostile = Network(graph=G, project=None, results=net.results)
    text = repr(hostile)
    assert len(text) < 400 and "\n" not in text
    page = hostile._repr_html_()
    assert len(page) < 8000
    assert "<img" not in page and "<script" not in page
    assert not set(page) & BIDI_CONTROLS
    assert "&lt;/script&gt;" in page
    unanalysed = Network(graph=G)
    assert "not analysed" in repr(unanalysed)
    assert "<table>" not in unanalysed._repr_html_()


# --------------------------------------------------------------------- tables


def test_actor_tables_share_one_index_and_one_name_column(net: Network) -> None:
    nodes, factions, bridges = net.nodes(), net.factions(), net.bridges()
    for frame in (nodes, factions, bridges):
        assert frame.index.name == "actor"
        assert "actor" not in frame.columns
        assert "name" in frame.columns
        assert "label" not in frame.columns
        assert frame.index.is_unique
    actors = set(net.graph.nodes)
    assert set(nodes.index) == set(factions.index) == set(bridges.index) == actors
    for actor in actors:
        name = net.graph.nodes[actor]["label"]
        assert nodes.at[actor, "name"] == factions.at[actor, "name"] == name
        assert bridges.at[actor, "name"] == name
    # the faction of every actor is the same in both tables
    same = factions["faction"].reindex(nodes.index).fillna(-1) == nodes["faction"].fillna(-1)
    assert same.all()


def test_unassigned_actors_are_listed_without_a_faction(net: Network) -> None:
    # The faction analysis leaves actors of small components out of the partition:
    # they carry no ``faction`` and are named "unassigned".
    result = net.results["factions"]
    lonely = sorted(n for n in net.graph.nodes if n.startswith("lone"))
    assert lonely and set(lonely) <= set(result.unassigned)
    assert all("faction" not in net.graph.nodes[a] for a in lonely)
    shown = net
    factions = shown.factions()
    assert str(factions["faction"].dtype) == "Int64"
    assert str(shown.nodes()["faction"].dtype) == "Int64"
    assert "1 unassigned" in repr(shown) or f"{len(lonely)} unassigned" in repr(shown)
    for actor in lonely:
        assert pd.isna(factions.at[actor, "faction"])
        assert factions.at[actor, "faction_name"] == "unassigned"
    assigned = factions.dropna(subset=["faction"])
    assert list(assigned["faction"]) == sorted(assigned["faction"])  # unassigned last
    assert list(factions.index[-len(lonely) :]) == sorted(lonely)


def test_bridges_top_keeps_the_first_rows(net: Network) -> None:
    everything = net.bridges()
    assert list(net.bridges(top=3).index) == list(everything.index[:3])
    assert net.bridges(top=0).empty  # zero means none (it meant all)
    assert list(net.bridges(top=0).columns) == list(everything.columns)


@pytest.mark.parametrize(
    ("method", "schema", "indexed"),
    [
        ("nodes", "NODE_COLUMNS", True),
        ("factions", "FACTION_COLUMNS", True),
        ("bridges", "BRIDGE_COLUMNS", True),
        ("opportunities", "OPPORTUNITY_COLUMNS", False),
        ("introductions", "INTRODUCTION_COLUMNS", False),
    ],
)
def test_empty_results_are_typed_frames_with_their_columns(
    net: Network, method: str, schema: str, indexed: bool
) -> None:
    import mapper.api
    from mapper.analysis.factions import FactionResult

    columns: dict[str, str] = getattr(mapper.api, schema)

    empty_factions = FactionResult(
        partition={},
        names={},
        stability={},
        cohesion={},
        modularity=0.0,
        method="leiden",
        resolution=1.0,
        seed=0,
        runs=1,
    )
    empty = Network(
        graph=nx.DiGraph(),
        results={
            "factions": empty_factions,
            "bridges": [],
            "alliances": {"opportunities": [], "introductions": []},
        },
    )
    frame = getattr(empty, method)()
    assert frame.empty
    assert list(frame.columns)[: len(columns)] == list(columns)
    if indexed:
        assert frame.index.name == "actor"
    full = getattr(net, method)()
    if full.empty:
        return
    # every column a populated result has is there, with the same dtype
    for column in columns:
        assert column in full.columns, column
        assert frame[column].dtype == full[column].dtype, (column, full[column].dtype)
    if method != "nodes":  # node attributes depend on the graph
        assert list(full.columns) == list(frame.columns)


# -------------------------------------------------------------------- igraph


def test_to_igraph_keeps_direction_weights_and_attributes(net: Network) -> None:
    g = net.to_igraph()
    G = net.graph
    assert g.is_directed()
    assert (g.vcount(), g.ecount()) == (G.number_of_nodes(), G.number_of_edges())
    assert g.vs["name"] == [str(n) for n in G.nodes]
    for edge in g.es:
        u, v = g.vs[edge.source]["name"], g.vs[edge.target]["name"]
        assert G.has_edge(u, v)
        assert edge["weight"] == G.edges[u, v]["weight"]
    for node, data in G.nodes(data=True):
        vertex = g.vs.find(name=node)
        for key in ("label", "kind", "influence", "faction_name", "is_bridge"):
            assert vertex[key] == data.get(key), key
    assert sum(g.es["weight"]) == pytest.approx(sum(w for _, _, w in G.edges(data="weight")))
    # igraph algorithms run on it as given
    assert len(g.pagerank(weights="weight")) == g.vcount()


def test_to_igraph_carries_evidence_and_odd_attributes(demo: Network) -> None:
    g = demo.to_igraph()
    G = demo.graph
    u, v, data = next(iter(G.edges(data=True)))
    edge = g.es[g.get_eid(g.vs.find(name=u).index, g.vs.find(name=v).index)]
    # the pipeline keeps evidence in the graph's table: read through the accessor
    assert edge["evidence"] and edge["evidence"] == edge_evidence(G, u, v)
    assert edge["first"] == data["first"]
    assert g.vs.find(name=u)["topics"] == G.nodes[u]["topics"]


# -------------------------------------------------------------- module, show


def test_network_is_listed_by_dir_mapper() -> None:
    assert "Network" in dir(mapper)
    code = "import mapper, sys; print('Network' in dir(mapper), 'mapper.api' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["True", "False"]  # listed, and still imported lazily


@pytest.mark.skipif(importlib.util.find_spec("IPython") is None, reason="needs IPython")
def test_show_raises_no_ipython_warning(net: Network) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        shown = net.show(node_budget=50)
    body = shown.data
    assert body.startswith("<div") and "<iframe" in body and "srcdoc=" in body
