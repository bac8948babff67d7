"""Tests for mapper.analysis.factions: known optima on classic graphs, planted
partitions, invariants (property-based), naming, fault lines and the writers."""

from __future__ import annotations

import csv
import math
import random

import community as community_louvain
import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapper.analysis.factions import (
    METHODS,
    FactionResult,
    _undirected,
    apply_factions,
    detect_factions,
    faction_summaries,
    fault_lines,
    name_factions,
    resolution_sweep,
    write_factions_csv,
    write_factions_md,
)
from mapper.errors import AnalysisError

# ---------------------------------------------------------------------------- helpers


def unweighted(G: nx.Graph) -> nx.Graph:
    """Same nodes (with their attributes) and edges, no edge attributes."""
    H = nx.Graph()
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from(G.edges())
    return H


def nmi(a, b) -> float:
    """Normalized mutual information, arithmetic normalization."""
    a = np.unique(np.asarray(a), return_inverse=True)[1].ravel()
    b = np.unique(np.asarray(b), return_inverse=True)[1].ravel()
    n = a.size
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1)
    pab = joint / n
    pa, pb = pab.sum(1), pab.sum(0)
    nz = pab > 0
    mi = float(np.sum(pab[nz] * np.log(pab[nz] / np.outer(pa, pb)[nz])))
    ha = -float(np.sum(pa * np.log(pa)))
    hb = -float(np.sum(pb * np.log(pb)))
    return 1.0 if ha + hb == 0 else 2 * mi / (ha + hb)


def planted(sizes, p_in, p_out, seed):
    """Edges ``(u, v)`` of a stochastic block model and the planted labels."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(sizes)), sizes)
    iu, ju = np.triu_indices(truth.size, 1)
    p = np.where(truth[iu] == truth[ju], p_in, p_out)
    keep = rng.random(iu.size) < p
    return list(zip(iu[keep].tolist(), ju[keep].tolist(), strict=True)), truth


def planted_digraph(seed=1, order_seed=None):
    """A directed, weighted planted graph with string ids; insertion order shuffled
    by ``order_seed`` (same graph for any order)."""
    edges, truth = planted([40, 30, 30, 20], 0.35, 0.03, seed)
    rng = np.random.default_rng(seed)
    rows = []
    for u, v in edges:
        w = float(rng.integers(1, 5))
        a, b = (f"n{u:03d}", f"n{v:03d}") if rng.random() < 0.5 else (f"n{v:03d}", f"n{u:03d}")
        rows.append((a, b, w))
        if rng.random() < 0.3:
            rows.append((b, a, float(rng.integers(1, 3))))
    nodes = [(f"n{i:03d}", {"label": f"Actor {i}"}) for i in range(truth.size)]
    if order_seed is not None:
        shuffler = random.Random(order_seed)
        shuffler.shuffle(rows)
        shuffler.shuffle(nodes)
    G = nx.DiGraph()
    G.add_nodes_from(nodes)
    G.add_weighted_edges_from(rows)
    return G, truth


def check_invariants(G: nx.Graph, result: FactionResult) -> None:
    # every actor is either in a faction or unassigned, never both
    assert set(result.partition) | set(result.unassigned) == set(G)
    assert not set(result.partition) & set(result.unassigned)
    # unassigned actors are exactly those in components below the minimum size
    H = nx.Graph(G.to_undirected()) if G.is_directed() else nx.Graph(G)
    small = {
        u for c in nx.connected_components(H) if len(c) < result.components.min_size for u in c
    }
    assert set(result.unassigned) == small
    k = result.n_factions
    assert sorted(set(result.partition.values())) == list(range(k))
    comms = result.communities()
    assert sum(len(c) for c in comms) == len(result.partition)
    sizes = [len(c) for c in comms]
    assert sizes == sorted(sizes, reverse=True)
    for c in comms:
        assert nx.is_connected(nx.Graph(G.subgraph(c)).to_undirected())
    assert set(result.stability) == set(result.partition)
    assert all(0.0 <= s <= 1.0 for s in result.stability.values())
    assert set(result.cohesion) == set(range(k))
    assert all(0.0 <= c <= 1.0 for c in result.cohesion.values())
    assert set(result.names) == set(range(k))
    assert len(set(result.names.values())) == k


# ------------------------------------------------------------------ known optima


def test_karate_reaches_proven_optimum():
    K = unweighted(nx.karate_club_graph())
    result = detect_factions(K)
    assert nx.community.modularity(K, result.communities()) >= 0.4197
    assert math.isclose(result.modularity, nx.community.modularity(K, result.communities()))
    assert result.n_factions == 4
    check_invariants(K, result)


def test_karate_two_factions_match_the_club_split():
    K = unweighted(nx.karate_club_graph())
    rows = resolution_sweep(K, [0.2, 0.4, 0.6, 0.8, 1.0])
    two = [row["resolution"] for row in rows if row["factions"] == 2]
    assert two, rows
    result = detect_factions(K, resolution=two[-1])
    assert result.n_factions == 2
    side = {u: result.partition[u] for u in K}
    hi = [u for u in K if K.nodes[u]["club"] == "Mr. Hi"]
    majority = max((0, 1), key=lambda f: sum(side[u] == f for u in hi))
    misplaced = sum((side[u] == majority) != (K.nodes[u]["club"] == "Mr. Hi") for u in K)
    assert misplaced <= 2


def test_les_miserables_near_proven_optimum():
    L = unweighted(nx.les_miserables_graph())
    result = detect_factions(L)
    assert nx.community.modularity(L, result.communities()) >= 0.555
    check_invariants(L, result)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_on_karate(method):
    K = unweighted(nx.karate_club_graph())
    result = detect_factions(K, method=method, runs=3)
    assert result.method == method
    assert result.modularity >= 0.40
    check_invariants(K, result)


def test_planted_partition_recovered():
    edges, truth = planted([60] * 5, 0.3, 0.02, seed=7)
    G = nx.Graph()
    G.add_nodes_from(range(truth.size))
    G.add_edges_from(edges)
    result = detect_factions(G, runs=5)
    found = [result.partition[i] for i in range(truth.size)]
    assert nmi(truth, found) >= 0.95
    check_invariants(G, result)


# ------------------------------------------------------------------- determinism


def test_same_seed_same_result_whatever_the_insertion_order():
    G1, _ = planted_digraph(order_seed=None)
    G2, _ = planted_digraph(order_seed=123)
    G3, _ = planted_digraph(order_seed=999)
    assert list(G1) != list(G2)
    r1, r2, r3 = (detect_factions(G, seed=5, runs=4) for G in (G1, G2, G3))
    assert r1.partition == r2.partition == r3.partition
    assert r1.stability == r2.stability == r3.stability
    assert r1.names == r2.names == r3.names
    assert r1.modularity == r2.modularity == r3.modularity
    check_invariants(G1, r1)


def test_seed_none_draws_and_records_a_seed():
    G, _ = planted_digraph()
    result = detect_factions(G, seed=None, runs=2)
    again = detect_factions(G, seed=result.seed, runs=2)
    assert again.partition == result.partition


def test_detection_does_not_modify_the_graph():
    G, _ = planted_digraph()
    before_nodes = {u: dict(d) for u, d in G.nodes(data=True)}
    before_edges = {(u, v): dict(d) for u, v, d in G.edges(data=True)}
    detect_factions(G, runs=2)
    result = detect_factions(G, runs=2)
    faction_summaries(G, result)
    fault_lines(G, result)
    assert {u: dict(d) for u, d in G.nodes(data=True)} == before_nodes
    assert {(u, v): dict(d) for u, v, d in G.edges(data=True)} == before_edges


# -------------------------------------------------------------------- projection


def test_projection_sums_both_directions():
    D = nx.DiGraph()
    D.add_edge("a", "b", weight=1.0)
    D.add_edge("b", "a", weight=2.0)
    D.add_edge("b", "c")  # missing weight counts 1
    H = _undirected(D)
    assert H["a"]["b"]["weight"] == 3.0
    assert H["b"]["c"]["weight"] == 1.0
    # the trap this avoids: to_undirected keeps one direction's weight
    assert D.to_undirected()["a"]["b"]["weight"] != 3.0


def test_projection_collapses_multigraph_and_drops_loops_and_zeros():
    M = nx.MultiDiGraph()
    M.add_edge("a", "b", weight=1.0)
    M.add_edge("a", "b", weight=1.5)
    M.add_edge("b", "a", weight=0.5)
    M.add_edge("a", "a", weight=4.0)
    M.add_edge("b", "c", weight=0.0)
    H = _undirected(M)
    assert dict(H["a"]) == {"b": {"weight": 3.0}}
    assert not H.has_edge("a", "a")
    assert not H.has_edge("b", "c")
    result = detect_factions(M, runs=2)
    assert any("self-loop" in note for note in result.notes)
    assert any("weight 0" in note for note in result.notes)


def test_undirected_input_is_not_double_counted():
    G = nx.Graph()
    G.add_edge(1, 2, weight=2.0)
    assert _undirected(G)[1][2]["weight"] == 2.0


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "heavy", None])
def test_bad_weights_raise(bad):
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=1.0)
    G.add_edge("b", "c", weight=bad)
    with pytest.raises(AnalysisError):
        detect_factions(G)


def test_weight_none_ignores_weights():
    G = nx.DiGraph()
    G.add_edge("a", "b", weight="not a number")
    result = detect_factions(G, weight=None, min_component=1)
    assert result.partition == {"a": 0, "b": 0}


def test_empty_graph_raises():
    with pytest.raises(AnalysisError, match="no actors"):
        detect_factions(nx.DiGraph())


def test_graph_without_ties_gives_no_faction_and_says_so():
    G = nx.DiGraph()
    G.add_nodes_from(["c", "a", "b"])
    result = detect_factions(G)
    assert result.partition == {}
    assert result.n_factions == 0
    assert result.unassigned == ("a", "b", "c")
    assert result.modularity == 0.0
    assert [w.code for w in result.warnings] == ["no-ties"]
    # with min_component=1 the old behaviour: one faction per actor
    old = detect_factions(G, min_component=1)
    assert old.partition == {"a": 0, "b": 1, "c": 2}
    assert all(s == 1.0 for s in old.stability.values())


def test_isolated_actors_and_tiny_components_are_unassigned():
    K = unweighted(nx.karate_club_graph())
    K.add_nodes_from(["lonely", "hermit"])
    K.add_edges_from([("p1", "p2"), ("p2", "p3")])
    result = detect_factions(K, runs=2)
    assert set(result.unassigned) == {"lonely", "hermit", "p1", "p2", "p3"}
    assert "lonely" not in result.partition
    assert result.n_factions == 4  # the karate club's optimum, untouched by the fringe
    assert result.components.count == 4 and result.components.isolated == 2
    assert [w.code for w in result.warnings] == ["unassigned-actors"]
    check_invariants(K, result)
    # singleton factions come back only when asked for
    every = detect_factions(K, runs=2, min_component=1)
    assert len(every.members(every.partition["lonely"])) == 1
    check_invariants(K, every)


@pytest.mark.parametrize(
    "kwargs",
    [{"method": "magic"}, {"resolution": 0}, {"resolution": -1.0}, {"runs": 0}, {"seed": "x"}],
)
def test_invalid_options_raise(kwargs):
    with pytest.raises(AnalysisError):
        detect_factions(nx.karate_club_graph(), **kwargs)


# ------------------------------------------------------------------ routing, runs


def test_louvain_below_resolution_one_avoids_python_louvain(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("python-louvain must not run here")

    monkeypatch.setattr(community_louvain, "best_partition", broken)
    K = unweighted(nx.karate_club_graph())
    result = detect_factions(K, method="louvain", resolution=0.5, runs=2)
    assert result.method == "louvain-networkx"
    assert any("python-louvain" in note for note in result.notes)
    with pytest.raises(RuntimeError):  # the patch is live: resolution 1 does use it
        detect_factions(K, method="louvain", resolution=1.0, runs=1)


def test_louvain_at_resolution_one_uses_python_louvain():
    K = unweighted(nx.karate_club_graph())
    result = detect_factions(K, method="louvain", runs=3)
    assert result.method == "louvain"
    assert result.modularity >= 0.41


def test_run_budget_reduces_runs_and_says_so():
    K = unweighted(nx.karate_club_graph())  # 78 ties
    result = detect_factions(K, runs=10, run_budget=200)
    assert result.runs == 2
    assert any("runs reduced from 10 to 2" in note for note in result.notes)
    assert detect_factions(K, runs=10, run_budget=None).runs == 10


def test_stability_measures_disagreement_between_runs():
    # Two triangles joined by a path: the middle node can go either way.
    G = nx.Graph([(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 6), (6, 4)])
    result = detect_factions(G, runs=20)
    assert all(0.0 <= s <= 1.0 for s in result.stability.values())
    assert result.stability[0] == 1.0
    check_invariants(G, result)


def test_resolution_sweep_rows():
    K = unweighted(nx.karate_club_graph())
    rows = resolution_sweep(K, [0.5, 1.0, 2.0], runs=2)
    assert [r["resolution"] for r in rows] == [0.5, 1.0, 2.0]
    assert rows[0]["factions"] <= rows[1]["factions"] <= rows[2]["factions"]
    for row in rows:
        assert set(row) >= {
            "resolution",
            "factions",
            "modularity",
            "mean_stability",
            "largest_share",
        }
        assert 0 < row["largest_share"] <= 1
        assert 0 <= row["mean_stability"] <= 1


# ------------------------------------------------------------ property-based check


@st.composite
def small_digraphs(draw):
    n = draw(st.integers(1, 14))
    edges = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(0, n - 1),
                st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5]),
            ),
            max_size=40,
        )
    )
    return n, edges


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_digraphs(), st.randoms(use_true_random=False))
def test_invariants_hold_on_random_graphs(graph, rnd):
    n, edges = graph
    G1 = nx.DiGraph()
    G1.add_nodes_from(f"v{i}" for i in range(n))
    G1.add_weighted_edges_from((f"v{u}", f"v{v}", w) for u, v, w in edges)
    nodes, rows = list(G1.nodes), list(G1.edges(data="weight"))
    rnd.shuffle(nodes)
    rnd.shuffle(rows)
    G2 = nx.DiGraph()
    G2.add_nodes_from(nodes)
    G2.add_weighted_edges_from(rows)
    r1 = detect_factions(G1, runs=3)
    r2 = detect_factions(G2, runs=3)
    assert r1.partition == r2.partition
    assert r1.stability == r2.stability
    # connectivity is judged on the ties that count (positive weight, not loops)
    H = _undirected(G1)
    check_invariants(H, r1)


# ------------------------------------------------------------ naming, fault lines


def two_blocs() -> nx.Graph:
    """Two cliques of 12 joined by one tie; 'soft left' has 9 members in bloc A and 5
    in bloc B, 'hard left' the other 7 of bloc B."""
    G = nx.Graph()
    a = [f"a{i:02d}" for i in range(12)]
    b = [f"b{i:02d}" for i in range(12)]
    for bloc in (a, b):
        G.add_edges_from((u, v) for i, u in enumerate(bloc) for v in bloc[i + 1 :])
    G.add_edge("a11", "b11")
    for u in G:
        G.nodes[u].update(label=f"Person {u.upper()}", declared_faction="", kind="commentator")
    for u in a[:9] + b[:5]:
        G.nodes[u]["declared_faction"] = "soft left"
    for u in b[5:]:
        G.nodes[u]["declared_faction"] = "hard left"
    return G


def test_names_follow_declared_majorities():
    G = two_blocs()
    result = detect_factions(G)
    assert result.partition["a00"] == 0 and result.partition["b00"] == 1
    assert result.names == {0: "soft left", 1: "hard left"}
    assert name_factions(G, result.partition) == result.names


def test_duplicate_declared_names_are_disambiguated():
    G = two_blocs()
    for u in G:
        if u.startswith("b"):
            G.nodes[u]["declared_faction"] = "soft left" if u < "b08" else "hard left"
    names = name_factions(G, {u: (0 if u.startswith("a") else 1) for u in G})
    # bloc A has 9 soft left, bloc B 8: A gets the plain name
    assert names == {0: "soft left", 1: "soft left (2)"}


def test_names_from_central_members_without_declared_factions():
    G = nx.Graph()
    G.add_weighted_edges_from(
        [("hub", "x", 5), ("hub", "y", 4), ("x", "y", 1), ("y", "z", 2), ("hub", "z", 1)]
    )
    for u in G:
        G.nodes[u]["label"] = u.title()
    part = dict.fromkeys(G, 0)
    assert name_factions(G, part) == {0: "Hub, Y, X & co"}
    assert name_factions(G, part, top=4) == {0: "Hub, Y, X & Z"}


def test_single_declared_member_does_not_name_a_faction():
    G = nx.Graph([("p", "q")])
    G.nodes["p"]["declared_faction"] = "greens"
    assert name_factions(G, {"p": 0, "q": 0}) == {0: "p & q"}


def test_fault_lines_report_the_nine_five_split_exactly():
    G = two_blocs()
    result = detect_factions(G)
    rows = fault_lines(G, result)
    assert [r["declared"] for r in rows] == ["soft left", "hard left"]
    soft, hard = rows
    assert soft["split"] is True and soft["verdict"] == "split"
    assert [(s["faction"], s["count"]) for s in soft["spread"]] == [(0, 9), (1, 5)]
    # the 36 + 10 ties among soft-left members all stay on their side of the split
    assert soft["internal_ties"] == 46 and soft["aligned"] == 1.0 and soft["aligned_p"] < 0.01
    assert soft["summary"].startswith(
        "soft left is split: 9 of 14 with faction 0 (soft left), "
        "5 of 14 with faction 1 (hard left); 100% of the 46 ties between members stay "
        "within a faction"
    )
    assert sorted(o["actor"] for o in soft["outliers"]) == ["b00", "b01", "b02", "b03", "b04"]
    assert hard["split"] is False and hard["verdict"] == "together"
    assert hard["summary"].startswith("hard left holds together: all 7 with faction 1 (hard left)")


def test_summaries_describe_each_faction():
    G = two_blocs()
    G.nodes["a00"].update(party="Labour", topics={"issue:nhs": 3, "#strike": 2})
    G.nodes["a01"].update(party="Labour", topics={"issue:nhs": 1, "domain:x.org": 4})
    result = detect_factions(G)
    rows = faction_summaries(G, result, top=2)
    assert [r["id"] for r in rows] == [0, 1]
    first = rows[0]
    assert first["size"] == 12
    assert first["parties"] == {"Labour": 2}
    assert first["kinds"] == {"commentator": 12}
    assert first["issues"] == [("issue:nhs", 4)]
    assert first["hashtags"] == [("#strike", 2)]
    assert first["ties"] == 66 and first["density"] == 1.0
    assert first["internal_weight"] == 66 and first["external_weight"] == 1
    assert len(first["central"]) == 2
    assert first["central"][0]["actor"] == "a11"  # the one with the outside tie
    assert first["cohesion"] == result.cohesion[0]


# ------------------------------------------------------------------ apply, writers


def test_apply_factions_writes_node_attributes():
    G = two_blocs()
    result = detect_factions(G)
    apply_factions(G, result)
    assert G.nodes["a00"]["faction"] == 0
    assert G.nodes["a00"]["faction_name"] == "soft left"
    assert isinstance(G.nodes["b03"]["stability"], float)


def test_write_factions_csv(tmp_path):
    G = two_blocs()
    G.nodes["a00"]["label"] = '=HYPERLINK("http://evil")'
    result = detect_factions(G)
    path = write_factions_csv(G, result, tmp_path / "out" / "factions.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "actor",
        "label",
        "faction",
        "faction_name",
        "stability",
        "declared_faction",
    ]
    assert len(rows) == 24
    assert [r["faction"] for r in rows] == ["0"] * 12 + ["1"] * 12
    first = rows[0]
    assert first["actor"] == "a00"
    assert first["label"].startswith("'=")
    assert first["declared_faction"] == "soft left"
    assert 0 <= float(first["stability"]) <= 1


def test_write_factions_md_escapes_hostile_names(tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    G = two_blocs()
    hostile = "<script>alert(1)</script> | [click](javascript:alert(1)) **x** `y` ![i](x.png)"
    for u in G:
        if u.startswith("a"):
            G.nodes[u]["declared_faction"] = hostile
    G.nodes["a03"]["label"] = "<img src=x onerror=alert(2)>\nline two | cell"
    result = detect_factions(G)
    assert result.names[0] == hostile  # names stay plain text
    path = write_factions_md(G, result, tmp_path / "factions.md")
    text = path.read_text(encoding="utf-8")
    assert "# Factions" in text and "## Fault lines" in text
    assert not list(tmp_path.glob(".*.tmp"))
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(text)
    for bad in ("<script", "<img", "<a ", "<strong", "<code", "<em"):
        assert bad not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, not run
    # every table row keeps its six cells
    for row in html.split("<tr>")[1:]:
        assert row.count("<td") + row.count("<th") == 6


def test_write_factions_md_without_declared_factions(tmp_path):
    K = unweighted(nx.karate_club_graph())
    result = detect_factions(K, runs=2)
    text = write_factions_md(K, result, tmp_path / "k.md").read_text(encoding="utf-8")
    assert "Fault lines" not in text
    assert text.count("## Faction ") == result.n_factions


# ----------------------------------------------------------------- parallel runs


def test_parallel_runs_give_the_same_result():
    from mapper import parallel

    if not parallel.fork_available():
        pytest.skip("runs cannot be forked here")
    G, _ = planted_digraph(order_seed=7)
    one = detect_factions(G, runs=5, n_jobs=1)
    three = detect_factions(G, runs=5, n_jobs=3)
    assert one == three


def test_a_failing_child_is_redone_here(monkeypatch):
    from mapper import parallel

    if not parallel.fork_available():
        pytest.skip("runs cannot be forked here")

    def crash(func, items, conn):
        conn.close()
        raise SystemExit(3)

    # every child dies: Leiden runs and significance samples are all redone here
    monkeypatch.setattr(parallel, "_child", crash)
    G, _ = planted_digraph()
    assert detect_factions(G, runs=4, n_jobs=2) == detect_factions(G, runs=4, n_jobs=1)


def test_invalid_n_jobs_raises():
    with pytest.raises(AnalysisError):
        detect_factions(nx.karate_club_graph(), n_jobs=0)


def test_stability_definition_on_a_hand_made_case():
    from mapper.analysis.factions import _stability

    reference = np.array([0, 0, 0, 1, 1, 1])
    moved = np.array([5, 5, 2, 2, 2, 2])  # actor 2 left its faction's plurality
    tie = np.array([0, 1, 2, 3, 3, 4])  # faction 0 scattered: plurality is run label 0
    got = _stability(reference, [reference, moved, tie])
    assert got.tolist() == pytest.approx([1, 2 / 3, 1 / 3, 1, 1, 2 / 3])


def test_a_faction_of_two_declared_groups_is_named_after_both() -> None:
    G = nx.Graph()
    members = {"p1": "pluralists", "p2": "pluralists", "p3": "pluralists"}
    members |= {"s1": "soft left", "s2": "soft left", "x1": "other", "u1": ""}
    names = list(members)
    G.add_edges_from((a, b, {"weight": 1.0}) for i, a in enumerate(names) for b in names[i + 1 :])
    for n, declared in members.items():
        G.nodes[n]["declared_faction"] = declared
        G.nodes[n]["label"] = n
    result = name_factions(G, dict.fromkeys(names, 0))
    assert result == {0: "pluralists + soft left"}
