"""Tests of mapper.analysis.bridges: each measure against hand-computed values,
networkx and brute force, the Florentine families (Padgett & Ansell 1993), planted
networks with brokers and in-faction hubs (known answers), random graphs (no
answer to find), unassigned actors, and hostile names in the writers."""

from __future__ import annotations

import csv
import itertools
import math
import random
import re

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapper.analysis import bridges, strength
from mapper.analysis.bridges import (
    apply_bridges,
    betweenness,
    bridge_figures,
    bridge_warnings,
    brokerage_roles,
    cartographic_role,
    constraint,
    cross_faction_betweenness,
    effective_size,
    participation_coefficient,
    within_faction_z,
    write_bridges_csv,
    write_bridges_md,
)
from mapper.analysis.factions import detect_factions
from mapper.errors import AnalysisError

# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def both_ways(H: nx.Graph, weight: float = 1.0) -> nx.DiGraph:
    """A DiGraph with each edge of H in both directions."""
    G = nx.DiGraph()
    G.add_nodes_from(H.nodes(data=True))
    for u, v, d in H.edges(data=True):
        w = d.get("weight", weight)
        G.add_edge(u, v, weight=w)
        G.add_edge(v, u, weight=w)
    return G


def florentine() -> tuple[nx.DiGraph, dict[str, int]]:
    H = nx.florentine_families_graph()
    comms = nx.community.louvain_communities(H, seed=1)
    partition = {v: i for i, c in enumerate(comms) for v in c}
    return both_ways(H), partition


def planted_scenario(seed: int = 7):
    """Four factions of 25, three planted brokers, one hub inside faction 0 only.

    Factions 2 and 3 share issues and are tied only through broker-23.
    """
    rng = random.Random(seed)
    G = nx.DiGraph()
    partition: dict[str, int] = {}
    members = {f: [f"f{f}-{i:02d}" for i in range(25)] for f in range(4)}
    topics = {
        0: {"issue:nhs": 2, "#corbyn": 2, "#brexit": 1},
        1: {"issue:leadership": 2, "#labourleadership": 2, "#brexit": 1},
        2: {"issue:pr": 3, "#progressivealliance": 2, "domain:compass.org.uk": 1, "#brexit": 1},
        3: {"issue:pr": 2, "#progressivealliance": 3, "domain:compass.org.uk": 2, "#brexit": 1},
    }

    def tie(u: str, v: str, w: float | None = None) -> None:
        w = w or rng.choice([1.0, 1.0, 2.0, 3.0])
        ev = [
            {
                "post": f"x:{u}-{v}",
                "type": "mention",
                "url": f"https://x.com/{u}/status/1",
                "time": None,
                "snippet": f"{u} on {v}",
            }
        ]
        G.add_edge(u, v, weight=w, count=1, mention=1, evidence=ev)

    for f, ms in members.items():
        for v in ms:
            G.add_node(v, label=v.upper(), kind="commentator", party="", topics=dict(topics[f]))
            partition[v] = f
        for i, u in enumerate(ms):
            for v in ms[i + 1 :]:
                if rng.random() < 0.3:
                    tie(u, v)
                    tie(v, u)
    used: set[str] = set()
    for _ in range(6):  # a few stray cross ties, at most one per actor, never 2-3
        fa, fb = rng.sample([0, 1, 2], 2)
        u, v = rng.choice(members[fa]), rng.choice(members[fb])
        if u in used or v in used:
            continue
        used |= {u, v}
        tie(u, v)
    brokers = {"broker-01": (0, 1), "broker-12": (1, 2), "broker-23": (2, 3)}
    for b, (fa, fb) in brokers.items():
        G.add_node(b, label=b.upper(), kind="mp", topics=topics[fa] | topics[fb])
        partition[b] = fa
        for f in (fa, fb):
            for v in rng.sample([m for m in members[f] if m not in used], 6):
                tie(b, v)
                tie(v, b)
    hub = "hub-0"
    G.add_node(hub, label="HUB", topics=dict(topics[0]))
    partition[hub] = 0
    for v in members[0]:
        tie(hub, v, 3.0)
        tie(v, hub, 3.0)
    names = {0: "Corbyn's left", 1: "Labour right", 2: "soft left", 3: "Greens"}
    return G, partition, names, list(brokers), hub


def brute_force_brokerage(G: nx.DiGraph, part: dict) -> dict:
    out = {}
    for b in G:
        counts = dict.fromkeys(bridges.BROKERAGE_ROLES, 0)
        for a in G.predecessors(b):
            for c in G.successors(b):
                if len({a, b, c}) < 3 or G.has_edge(a, c):
                    continue
                fa, fb, fc = part[a], part[b], part[c]
                if fa == fb == fc:
                    role = "coordinator"
                elif fa == fc:
                    role = "itinerant"
                elif fa == fb:
                    role = "representative"
                elif fb == fc:
                    role = "gatekeeper"
                else:
                    role = "liaison"
                counts[role] += 1
        out[b] = counts
    return out


# --------------------------------------------------------------------------------------
# betweenness
# --------------------------------------------------------------------------------------


def test_betweenness_path_centre():
    values, method = betweenness(nx.path_graph(["a", "b", "c"]))
    assert method == "exact"
    assert values == {"a": 0.0, "b": 1.0, "c": 0.0}
    values, _ = betweenness(nx.path_graph(5))
    # node 2 lies on the paths of 4 of the 6 pairs that do not include it
    assert values[2] == pytest.approx(4 / 6)
    assert values[1] == pytest.approx(3 / 6)


def test_betweenness_distance_is_inverse_weight():
    # a -> c through b (weights 4: distance 0.5) beats through d (weights 1: distance 2)
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=4)
    G.add_edge("b", "c", weight=4)
    G.add_edge("a", "d", weight=1)
    G.add_edge("d", "c", weight=1)
    values, _ = betweenness(G)
    assert values["b"] > 0
    assert values["d"] == 0
    unweighted, _ = betweenness(G, weight=None)
    assert unweighted["b"] == unweighted["d"] > 0


def test_betweenness_sums_both_directions():
    # b-c is weak one way and strong the other: summed it must beat the a-d-c detour
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=2)
    G.add_edge("b", "c", weight=0.5)
    G.add_edge("c", "b", weight=1.5)  # summed: 2.0
    G.add_edge("a", "d", weight=1.1)
    G.add_edge("d", "c", weight=1.1)
    values, _ = betweenness(G)
    assert values["b"] > 0 and values["d"] == 0


@pytest.mark.parametrize("seed", range(5))
def test_betweenness_matches_networkx(seed):
    rng = random.Random(seed)
    H = nx.gnp_random_graph(30, 0.15, seed=seed)
    for u, v in H.edges:
        w = rng.choice([0.5, 1, 2, 4])  # powers of two: float path sums are exact
        H.edges[u, v]["weight"] = w
        H.edges[u, v]["distance"] = 1 / w
    ours, method = betweenness(H)
    theirs = nx.betweenness_centrality(H, weight="distance")
    assert method == "exact"
    for v in H:
        assert ours[v] == pytest.approx(theirs[v], abs=1e-12)


def test_betweenness_reduced_and_none():
    G = nx.karate_club_graph()
    exact, method = betweenness(G)
    assert method == "exact"
    reduced, method = betweenness(G, max_exact_nodes=10, reduced_nodes=12)
    assert method == "reduced"
    top12 = sorted(G, key=lambda v: -G.degree(v, weight="weight"))[:12]
    assert all(reduced[v] == 0.0 for v in G if v not in top12)
    assert reduced != exact
    chosen, method = betweenness(G, max_exact_nodes=10, reduced_nodes=5, candidates=[0, 1, 2, 3])
    assert method == "reduced"
    assert all(chosen[v] == 0.0 for v in G if v not in {0, 1, 2, 3})
    none, method = betweenness(G, max_exact_nodes=10, reduced_nodes=0)
    assert method == "none" and set(none.values()) == {0.0}


def test_florentine_medici_first_by_betweenness():
    G, _ = florentine()
    values, _ = betweenness(G)
    assert max(values, key=values.get) == "Medici"
    # unit weights: equals networkx's normalised betweenness (0.5219 for the Medici)
    ref = nx.betweenness_centrality(nx.florentine_families_graph())
    assert values["Medici"] == pytest.approx(ref["Medici"])


# --------------------------------------------------------------------------------------
# participation, z, roles
# --------------------------------------------------------------------------------------


def test_participation_two_and_two():
    G = both_ways(nx.star_graph(4))
    part = {0: 0, 1: 0, 2: 0, 3: 1, 4: 1}
    assert participation_coefficient(G, part)[0] == pytest.approx(0.5)
    # leaves have every tie in one faction
    assert participation_coefficient(G, part)[1] == 0.0


def test_participation_weighted_and_summed_directions():
    G = nx.DiGraph()
    G.add_edge("x", "a1", weight=1)
    G.add_edge("a1", "x", weight=2)  # summed: 3 to faction A
    G.add_edge("x", "b1", weight=1)  # 1 to faction B
    part = {"x": 0, "a1": 0, "b1": 1}
    # 1 - (0.75^2 + 0.25^2); to_undirected() would keep one direction and give 0.5 or 0.444
    assert participation_coefficient(G, part)["x"] == pytest.approx(0.375)
    assert participation_coefficient(G, part, weight=None)["x"] == pytest.approx(
        1 - (2 / 3) ** 2 - (1 / 3) ** 2
    )


def test_participation_isolated_and_missing_partition():
    G = nx.DiGraph()
    G.add_node("alone")
    G.add_edge("a", "b")
    G.add_edge("a", "c")
    G.add_edge("a", "d")
    p = participation_coefficient(G, {"a": 0, "b": 0, "d": 1})  # c and alone unassigned
    assert p["alone"] == 0.0
    # c is unassigned, not a faction of its own: a's ties count in factions 0 and 1 only
    assert p["a"] == pytest.approx(0.5)
    assert p["c"] == 0.0  # an unassigned actor gets no faction-based score
    assert participation_coefficient(G, {"a": 0, "b": 0})["a"] == 0.0


def test_within_faction_z_star():
    G = nx.star_graph(3)
    z = within_faction_z(G, dict.fromkeys(G, 0))
    # internal degrees 3, 1, 1, 1: mean 1.5, population std sqrt(0.75)
    assert z[0] == pytest.approx(1.5 / math.sqrt(0.75))
    assert z[1] == pytest.approx(-0.5 / math.sqrt(0.75))
    # a faction whose members are all alike: z = 0
    z2 = within_faction_z(nx.cycle_graph(4), dict.fromkeys(range(4), 0))
    assert set(z2.values()) == {0.0}


def test_within_faction_z_only_counts_own_faction():
    G = nx.Graph([("a", "b"), ("a", "x"), ("a", "y"), ("c", "b")])
    part = {"a": 0, "b": 0, "c": 0, "x": 1, "y": 1}
    z = within_faction_z(G, part)
    # internal degrees: a 1, b 2, c 1 -> b is the faction's hub, not a
    assert z["b"] > z["a"] == z["c"]


@pytest.mark.parametrize(
    ("z", "p", "role"),
    [
        (0.0, 0.0, "R1 ultra-peripheral"),
        (0.0, 0.05, "R1 ultra-peripheral"),
        (0.0, 0.06, "R2 peripheral"),
        (0.0, 0.62, "R2 peripheral"),
        (0.0, 0.63, "R3 non-hub connector"),
        (2.49, 0.80, "R3 non-hub connector"),
        (2.49, 0.81, "R4 non-hub kinless"),
        (2.5, 0.30, "R5 provincial hub"),
        (2.5, 0.31, "R6 connector hub"),
        (5.0, 0.75, "R6 connector hub"),
        (5.0, 0.76, "R7 kinless hub"),
    ],
)
def test_cartographic_role_thresholds(z, p, role):
    assert cartographic_role(z, p) == role


# --------------------------------------------------------------------------------------
# constraint and effective size
# --------------------------------------------------------------------------------------


def test_structural_holes_star_and_triangle():
    star = nx.star_graph(3)
    assert constraint(star)[0] == pytest.approx(1 / 3)
    assert effective_size(star)[0] == pytest.approx(3.0)
    tri = nx.complete_graph(3)
    # each contact holds half the investment and is tied to the other: (1/2 + 1/4)^2 * 2
    assert constraint(tri)[0] == pytest.approx(2 * 0.75**2)
    assert effective_size(tri)[0] == pytest.approx(1.0)  # n - 2t/n = 2 - 2/2
    G = nx.Graph()
    G.add_node("alone")
    assert math.isnan(constraint(G)["alone"]) and math.isnan(effective_size(G)["alone"])


@pytest.mark.parametrize("seed", range(6))
def test_structural_holes_match_networkx_directed(seed):
    rng = random.Random(seed)
    G = nx.gnp_random_graph(25, 0.2, directed=True, seed=seed)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = rng.choice([0.5, 1, 2, 3])
    ours_c, ours_e = constraint(G), effective_size(G)
    ref_c = nx.constraint(G, nodes=list(G), weight="weight")
    ref_e = nx.effective_size(G, nodes=list(G), weight="weight")
    for v in G:
        if G.out_degree(v) == 0:
            # networkx's per-node path tests G[v] (successors only) and returns NaN
            # for an actor that is only mentioned; we use all its ties
            continue
        assert ours_c[v] == pytest.approx(ref_c[v], rel=1e-9)
        assert ours_e[v] == pytest.approx(ref_e[v], rel=1e-9)


def test_structural_holes_match_networkx_karate():
    G = nx.karate_club_graph()
    ref_c = nx.constraint(G, nodes=list(G), weight="weight")
    ref_e = nx.effective_size(G, nodes=list(G), weight="weight")
    ours_c, ours_e = constraint(G), effective_size(G)
    for v in G:
        assert ours_c[v] == pytest.approx(ref_c[v], rel=1e-9)
        assert ours_e[v] == pytest.approx(ref_e[v], rel=1e-9)
    ref_borgatti = nx.effective_size(G, nodes=list(G))
    ours_unweighted = effective_size(G, weight=None)
    for v in G:
        assert ours_unweighted[v] == pytest.approx(ref_borgatti[v], rel=1e-9)


def test_triangles_listed_once():
    G = nx.karate_club_graph()
    arrays = bridges._arrays(G, "weight")
    tri = bridges._triangles(arrays.sym)
    assert len(tri) == sum(nx.triangles(G).values()) // 3
    assert len({frozenset(t) for t in tri.tolist()}) == len(tri)


# --------------------------------------------------------------------------------------
# brokerage
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factions", "role"),
    [
        ((0, 0, 0), "coordinator"),
        ((0, 1, 0), "itinerant"),
        ((0, 0, 1), "representative"),
        ((1, 0, 0), "gatekeeper"),
        ((0, 1, 2), "liaison"),
    ],
)
def test_brokerage_three_node_path(factions, role):
    G = nx.DiGraph([("a", "b"), ("b", "c")])
    part = dict(zip("abc", factions, strict=True))
    counts = brokerage_roles(G, part)
    expected = dict.fromkeys(bridges.BROKERAGE_ROLES, 0)
    expected[role] = 1
    assert counts["b"] == expected
    assert sum(counts["a"].values()) == sum(counts["c"].values()) == 0


def test_brokerage_closed_and_reciprocal_paths_do_not_count():
    G = nx.DiGraph([("a", "b"), ("b", "c"), ("a", "c")])
    assert sum(brokerage_roles(G, {"a": 0, "b": 1, "c": 2})["b"].values()) == 0
    # c -> a does not close a -> b -> c
    G = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a")])
    assert brokerage_roles(G, {"a": 0, "b": 1, "c": 2})["b"]["liaison"] == 1
    # a <-> b: a -> b -> a is not a two-path
    G = nx.DiGraph([("a", "b"), ("b", "a")])
    assert sum(brokerage_roles(G, {"a": 0, "b": 0})["b"].values()) == 0


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(3, 12),
    p=st.floats(0.1, 0.7),
    k=st.integers(1, 4),
    seed=st.integers(0, 10_000),
)
def test_brokerage_matches_enumeration(n, p, k, seed):
    rng = random.Random(seed)
    G = nx.gnp_random_graph(n, p, directed=True, seed=seed)
    part = {v: rng.randrange(k) for v in G}
    assert brokerage_roles(G, part) == brute_force_brokerage(G, part)


def test_brokerage_undirected_graph_counts_both_directions():
    G = nx.path_graph(["a", "b", "c"])
    counts = brokerage_roles(G, {"a": 0, "b": 1, "c": 2})
    assert counts["b"]["liaison"] == 2  # a -> b -> c and c -> b -> a


# --------------------------------------------------------------------------------------
# the bridge list
# --------------------------------------------------------------------------------------

ROW_KEYS = {
    "actor",
    "faction",
    "cross_betweenness",
    "ties_outside",
    "tested_ties",
    "tested_outside",
    "expected_outside",
    "participation_z",
    "p_value",
    "p_adjusted",
    "bridge_basis",
    "faction_names",
    "name",
    "rank",
    "score",
    "factions",
    "ties",
    "betweenness",
    "betweenness_method",
    "participation",
    "within_z",
    "role",
    "constraint",
    "effective_size",
    "brokerage",
    "evidence",
    "reason",
    "is_bridge",
}


def test_florentine_medici_first_bridge():
    G, part = florentine()
    rows = bridge_figures(G, part)
    assert rows[0]["actor"] == "Medici"
    assert rows[0]["is_bridge"]
    assert rows[0]["betweenness_method"] == "exact"
    assert "Medici connects" in rows[0]["reason"]
    assert "betweenness rank 1 of 15" in rows[0]["reason"]
    assert [r["rank"] for r in rows] == list(range(1, 16))
    for row in rows:
        assert set(row) >= ROW_KEYS


def test_planted_brokers_top_and_hub_not_bridge():
    G, part, names, brokers, hub = planted_scenario()
    rows = bridge_figures(G, part, names=names)
    assert {r["actor"] for r in rows[:3]} == set(brokers)
    assert all(r["is_bridge"] for r in rows[:3])
    hub_row = next(r for r in rows if r["actor"] == hub)
    assert not hub_row["is_bridge"]
    assert hub_row["within_z"] > 2.5 and hub_row["role"] == "R5 provincial hub"
    assert hub_row["betweenness"] > sorted(r["betweenness"] for r in rows)[len(rows) // 2]
    assert "all 25 of HUB's ties are within Corbyn's left" in hub_row["reason"]
    top = next(r for r in rows if r["actor"] == "broker-23")
    assert set(top["factions"]) == {2, 3}
    assert top["ties"] == {2: 6, 3: 6}
    assert "soft left (6 ties)" in top["reason"] and "Greens (6 ties)" in top["reason"]
    assert top["brokerage"]["gatekeeper"] > 0 and top["brokerage"]["representative"] > 0
    sides = {ev["faction"] for ev in top["evidence"]}
    assert sides == {2, 3}
    for ev in top["evidence"]:
        assert ev["url"].startswith("https://x.com/") and ev["snippet"]
        assert part[ev["neighbour"]] == ev["faction"]


def test_bridge_rule_ignores_centrality_inside_one_faction():
    # a star of 30 inside faction 0 with one stray tie out: central, but no bridge
    G = nx.star_graph(30)
    part = dict.fromkeys(G, 0)
    part[30] = 1
    row = next(r for r in bridge_figures(G, part) if r["actor"] == 0)
    assert row["betweenness"] == pytest.approx(1.0)
    assert not row["is_bridge"]
    assert "only 1 tie outside" in row["reason"]


def test_top_limits_rows_but_not_ranks():
    G, part = florentine()
    rows = bridge_figures(G, part, top=3)
    assert len(rows) == 3
    assert rows == bridge_figures(G, part)[:3]


def test_bridge_figures_does_not_mutate_and_apply_writes_plain_types():
    G, part, names, _, _ = planted_scenario()
    before_nodes = {v: dict(d) for v, d in G.nodes(data=True)}
    before_edges = {(u, v): dict(d) for u, v, d in G.edges(data=True)}
    rows = bridge_figures(G, part, names=names)
    assert {v: dict(d) for v, d in G.nodes(data=True)} == before_nodes
    assert {(u, v): dict(d) for u, v, d in G.edges(data=True)} == before_edges
    apply_bridges(G, rows)
    attrs = G.nodes["broker-23"]
    assert type(attrs["bridge_score"]) is float and type(attrs["is_bridge"]) is bool
    assert type(attrs["betweenness"]) is float and type(attrs["participation"]) is float
    assert type(attrs["within_z"]) is float and type(attrs["role"]) is str
    assert attrs["is_bridge"] is True


def test_reduced_betweenness_on_large_graph_flagged():
    G, part, names, brokers, _ = planted_scenario()
    rows = bridge_figures(G, part, names=names, max_exact_nodes=50, reduced_nodes=40)
    assert {r["betweenness_method"] for r in rows} == {"reduced"}
    assert "reduced" in rows[0]["reason"]
    assert {r["actor"] for r in rows[:3]} == set(brokers)


def test_errors_and_edge_cases():
    with pytest.raises(AnalysisError):
        bridge_figures(nx.MultiDiGraph([(1, 2)]), {1: 0, 2: 0})
    with pytest.raises(AnalysisError, match="weight"):
        betweenness(nx.DiGraph([(1, 2, {"weight": -1})]))
    with pytest.raises(AnalysisError):
        constraint(nx.DiGraph([(1, 2, {"weight": "heavy"})]))
    with pytest.raises(AnalysisError, match="integers"):
        bridge_figures(nx.DiGraph([(1, 2)]), {1: "left", 2: "right"})
    assert bridge_figures(nx.DiGraph(), {}) == []
    G = nx.DiGraph()
    G.add_node("solo", label="Solo")
    (row,) = bridge_figures(G, {"solo": 0})
    assert row["constraint"] is None and row["effective_size"] is None
    assert not row["is_bridge"] and "no ties" in row["reason"]


# --------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd",
    "<script>alert(1)</script>",
    "a | b",
    "[click](javascript:alert(1))",
    "**bold** _it_ `code`",
]


def hostile_graph() -> tuple[nx.DiGraph, dict[str, int], dict[int, str]]:
    """Hostile names in three small cliques; h0 and h4 bridge them (h0's posts carry a
    ``javascript:`` URL, the others https)."""
    G = nx.DiGraph()
    part = {}
    for i, name in enumerate(HOSTILE):
        G.add_node(f"h{i}", label=name)
        part[f"h{i}"] = 0 if i < 3 else 1 if i < 6 else 2
    groups = [["h0", "h1", "h2"], ["h3", "h4", "h5"], ["h6", "h7"]]
    pairs = [p for g in groups for p in itertools.permutations(g, 2)]
    pairs += [("h0", "h3"), ("h0", "h4"), ("h4", "h6"), ("h4", "h7")]
    for a, b in pairs:
        for u, v in ((a, b), (b, a)):
            ev = [
                {
                    "post": "x:1",
                    "type": "mention",
                    "url": "javascript:alert(1)" if u == "h0" else f"https://e.org/{u}?a=(1)",
                    "snippet": "=cmd|' /C calc'!A0 <b>|</b>",
                }
            ]
            G.add_edge(u, v, weight=1.0, evidence=ev)
    names = {0: "=evil()", 1: "<i>left</i>", 2: "| pipes |"}
    return G, part, names


def test_write_bridges_csv_neutralises_formulas(tmp_path):
    G, part, names = hostile_graph()
    rows = bridge_figures(G, part, names=names)
    path = write_bridges_csv(rows, tmp_path / "bridges.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    header, body = table[0], table[1:]
    assert header == list(bridges.BRIDGE_CSV_COLUMNS)
    assert len(body) == len(G)
    for line in body:
        for cell in line:
            assert not cell.startswith(("=", "+", "@")), cell
            if cell.startswith("-"):  # only numbers may start with a minus sign
                float(cell)
    names_col = {line[header.index("name")] for line in body}
    assert '\'=HYPERLINK("http://evil.example","x")' in names_col
    assert "'-2+3" in names_col
    factions_col = [line[header.index("factions")] for line in body]
    assert any(cell.startswith("'=evil()") for cell in factions_col)
    assert any("; =evil()" in cell for cell in factions_col)  # inside a cell it is inert
    # numbers stay numeric
    assert float(body[0][header.index("score")]) >= 0
    assert body[0][header.index("rank")] == "1"


def test_write_bridges_md_escapes(tmp_path):
    G, part, names = hostile_graph()
    rows = bridge_figures(G, part, names=names)
    path = write_bridges_md(rows, tmp_path / "bridges.md", top=20)
    text = path.read_text(encoding="utf-8")
    assert {r["actor"] for r in rows if r["is_bridge"]} == {"h0", "h4"}
    assert "<script>" not in text and "<i>" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text
    assert not re.search(r"(?<!\\)\]\(javascript:", text)  # no live link
    assert "\\[click\\]" in text
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            unescaped = [i for i, ch in enumerate(line) if ch == "|" and line[i - 1 : i] != "\\"]
            assert len(unescaped) == 9, line  # 8 columns
    assert "https://e.org/" in text  # http(s) evidence becomes a link


def test_write_bridges_md_without_bridges(tmp_path):
    G = nx.path_graph(3)
    rows = bridge_figures(G, dict.fromkeys(G, 0))
    text = write_bridges_md(rows, tmp_path / "b.md").read_text(encoding="utf-8")
    assert "No actor of 3 meets the bridge rule" in text


def test_a_scatter_of_single_outside_ties_is_not_a_bridge() -> None:
    # Two dense factions of 30; eight brokers split evenly between them; one member of
    # A with 12 ties inside and a single tie to each of two B members. Apart from the
    # brokers nobody else has a tie out, so its two ties are rare; but 2 of 14 is under
    # the fifth of its ties a bridge needs outside its main faction: not a bridge. The
    # brokers are.
    import random

    rng = random.Random(7)
    G = nx.DiGraph()
    a = [f"a{i}" for i in range(30)]
    b = [f"b{i}" for i in range(30)]
    for group in (a, b):
        for i, u in enumerate(group):
            for v in group[i + 1 :]:
                if rng.random() < 0.5:
                    G.add_edge(u, v, weight=1.0)
                    G.add_edge(v, u, weight=1.0)
    partition = {n: 0 for n in a} | {n: 1 for n in b}
    for j in range(8):
        y = f"broker{j}"
        partition[y] = j % 2
        for v in rng.sample(a, 6) + rng.sample(b, 6):
            G.add_edge(y, v, weight=1.0)
    x = "scatter"
    partition[x] = 0
    for v in a[:12] + b[:2]:
        G.add_edge(x, v, weight=1.0)
    rows = {r["actor"]: r for r in bridge_figures(G, partition)}
    assert rows[x]["ties"] == {0: 12, 1: 2}
    assert rows[x]["participation"] >= 0.2
    assert not rows[x]["is_bridge"]
    assert "few" in rows[x]["reason"]
    assert all(rows[f"broker{j}"]["is_bridge"] for j in range(8))


# --------------------------------------------------------------------------------------
# planted brokers and hubs (issue 12): what crosses factions, judged against chance
# --------------------------------------------------------------------------------------


def planted_brokers(
    *,
    factions: int = 4,
    size: int = 40,
    p_in: float = 0.25,
    outside: int = 2,
    brokers: int = 4,
    broker_ties: int | None = None,
    hub_share: float = 0.8,
    seed: int = 0,
) -> tuple[nx.DiGraph, dict[str, int], list[str], list[str]]:
    """A planted influence network with known bridges.

    ``factions`` groups of ``size`` members tied at random with density ``p_in``;
    every member has at most ``outside`` random ties to members of other factions (a
    few random ties out); one hub per faction with strong ties (weight 3) to a
    ``hub_share`` of its own faction's members and none outside; ``brokers`` actors
    with balanced ties to two factions each, ``broker_ties`` into each (by default as
    many as a member has inside its faction), assigned to the first of the two.
    Returns ``(G, partition, brokers, hubs)``.
    """
    rng = random.Random(seed)
    G = nx.DiGraph()
    part: dict[str, int] = {}
    members = {f: [f"f{f}-{i:02d}" for i in range(size)] for f in range(factions)}
    out_count: dict[str, int] = {}

    def tie(u: str, v: str, w: float | None = None) -> None:
        w = w if w is not None else rng.choice([1.0, 1.0, 2.0, 3.0])
        G.add_edge(u, v, weight=w)
        G.add_edge(v, u, weight=w)

    for f, ms in members.items():
        for v in ms:
            G.add_node(v, label=v.upper())
            part[v] = f
            out_count[v] = 0
        for i, u in enumerate(ms):
            for v in ms[i + 1 :]:
                if rng.random() < p_in:
                    tie(u, v)
    everyone = [v for ms in members.values() for v in ms]
    for u in everyone:
        for _ in range(rng.randint(0, outside)):
            if out_count[u] >= outside:
                break
            options = [
                v
                for v in everyone
                if part[v] != part[u] and out_count[v] < outside and not G.has_edge(u, v)
            ]
            if not options:
                break
            v = rng.choice(options)
            tie(u, v)
            out_count[u] += 1
            out_count[v] += 1
    hubs = []
    for f, ms in members.items():
        hub = f"hub-{f}"
        G.add_node(hub, label=hub.upper())
        part[hub] = f
        hubs.append(hub)
        for v in rng.sample(ms, round(hub_share * size)):
            tie(hub, v, 3.0)
    if broker_ties is None:
        broker_ties = max(5, round(p_in * (size - 1)))
    pairs = [(a, b) for a in range(factions) for b in range(a + 1, factions)]
    rng.shuffle(pairs)
    planted = []
    for j in range(brokers):
        a, b = pairs[j % len(pairs)]
        x = f"broker-{j}"
        G.add_node(x, label=x.upper())
        part[x] = a
        planted.append(x)
        for f in (a, b):
            for v in rng.sample(members[f], broker_ties):
                tie(x, v)
    return G, part, planted, hubs


PLANTED = [
    # (factions, size, p_in, outside ties per member, brokers), several seeds each
    *[((4, 40, 0.25, 2, 4), seed) for seed in (0, 1, 2)],
    ((3, 30, 0.25, 2, 4), 3),
    ((6, 25, 0.35, 2, 4), 4),
    ((4, 60, 0.15, 3, 4), 5),
    ((5, 40, 0.2, 1, 4), 6),
    ((2, 50, 0.2, 2, 3), 7),
    ((8, 20, 0.4, 2, 6), 8),
]


def assert_brokers_found(rows: list[dict], brokers: list[str], hubs: list[str]) -> None:
    rank = {r["actor"]: r["rank"] for r in rows}
    by_actor = {r["actor"]: r for r in rows}
    worst_broker = max(rank[b] for b in brokers)
    others = [v for v in rank if v not in brokers]
    assert worst_broker < min(rank[v] for v in others), "a hub or member outranks a broker"
    assert all(by_actor[b]["is_bridge"] for b in brokers)
    assert not [v for v in others if by_actor[v]["is_bridge"]], "a hub or member is a bridge"
    for h in hubs:
        assert not by_actor[h]["is_bridge"]
        assert by_actor[h]["within_z"] > 2.5  # a hub of its faction ...
        assert by_actor[h]["ties_outside"] == 0  # ... with no tie out
        assert "ties are within" in by_actor[h]["reason"]
    for b in brokers:
        row = by_actor[b]
        assert row["bridge_basis"] in ("ties", "ties and paths")
        assert row["p_adjusted"] <= bridges.BRIDGE_FDR
        assert "sd more than random ties of the same number would give" in row["reason"]
        assert len(row["factions"]) >= 2 and row["ties_outside"] >= row["expected_outside"]


@pytest.mark.parametrize(("shape", "seed"), PLANTED)
def test_planted_brokers_outrank_hubs_and_members(shape, seed):
    factions, size, p_in, outside, n_brokers = shape
    G, part, brokers, hubs = planted_brokers(
        factions=factions, size=size, p_in=p_in, outside=outside, brokers=n_brokers, seed=seed
    )
    rows = bridge_figures(G, part)
    assert_brokers_found(rows, brokers, hubs)
    # members do have random ties out: some have two or more, and none is a bridge
    by_actor = {r["actor"]: r for r in rows}
    with_ties_out = [v for v, r in by_actor.items() if v.startswith("f") and r["ties_outside"] >= 2]
    assert with_ties_out
    assert all(not by_actor[v]["is_bridge"] for v in with_ties_out)


def test_planted_hubs_are_central_but_not_bridges():
    # the network: weighted betweenness puts the in-faction hubs on top; the
    # bridge list must not
    G, part, brokers, hubs = planted_brokers(seed=0)
    rows = bridge_figures(G, part)
    by_actor = {r["actor"]: r for r in rows}
    top_betweenness = max(rows, key=lambda r: r["betweenness"])["actor"]
    assert top_betweenness in hubs
    assert max(by_actor[h]["betweenness"] for h in hubs) > max(
        by_actor[b]["betweenness"] for b in brokers
    )
    assert_brokers_found(rows, brokers, hubs)
    # the score alone also puts every broker above every hub
    assert min(by_actor[b]["score"] for b in brokers) > max(by_actor[h]["score"] for h in hubs)


@pytest.mark.parametrize(("shape", "seed"), [((4, 40, 0.25, 2, 4), 11), ((5, 40, 0.2, 1, 4), 12)])
def test_planted_brokers_with_detected_factions(shape, seed):
    factions, size, p_in, outside, n_brokers = shape
    G, planted_part, brokers, hubs = planted_brokers(
        factions=factions, size=size, p_in=p_in, outside=outside, brokers=n_brokers, seed=seed
    )
    result = detect_factions(G, seed=seed)
    members = [v for v in G if v.startswith("f")]
    # detection recovers the planted factions (else this test would test detection)
    pairs = {(planted_part[v], result.partition[v]) for v in members}
    assert len(pairs) == factions == len({f for _, f in pairs})
    assert_brokers_found(bridge_figures(G, result.partition), brokers, hubs)


def test_florentine_medici_first_with_detected_factions():
    H = nx.florentine_families_graph()
    result = detect_factions(H, seed=0)
    rows = bridge_figures(H, result.partition)
    top = rows[0]
    assert top["actor"] == "Medici" and top["is_bridge"]
    assert "paths" in top["bridge_basis"]
    assert top["cross_betweenness"] >= bridges.MIN_CROSS_SHARE
    assert top["cross_betweenness"] == max(r["cross_betweenness"] for r in rows)
    assert "of the shortest paths between actors of different factions" in top["reason"]
    # the Medici married into rival families one tie each: few ties out, a central place
    assert top["ties_outside"] == 2
    assert top["score"] == max(r["score"] for r in rows)


ER_GRAPHS = [
    (n, d, seed) for n, d in ((60, 6), (100, 8), (200, 10), (300, 6)) for seed in (0, 1, 2)
]


def test_random_graph_has_almost_no_bridges():
    """Erdős–Rényi graphs have no community structure, so no real bridges: whatever
    factions detection draws in them, at most one actor per graph may be called a
    bridge, and at most 0.5% of all actors over the 12 graphs (actors tested: ~2,000).
    With the false discovery rate at 5% the ties test flags none in expectation; the
    25% path share is the riskier route in small sparse graphs."""
    total = flagged = 0
    for n, degree, seed in ER_GRAPHS:
        H = nx.gnp_random_graph(n, degree / (n - 1), seed=seed)
        result = detect_factions(H, seed=seed)
        assert len(set(result.partition.values())) >= 2
        rows = bridge_figures(H, result.partition)
        found = sum(r["is_bridge"] for r in rows)
        assert found <= 1, (n, degree, seed)
        total += n
        flagged += found
        if found == 0:
            assert "no-bridges" in {w.code for w in bridge_warnings(rows)}
    assert flagged <= 0.005 * total


# --------------------------------------------------------------------------------------
# cross-faction betweenness
# --------------------------------------------------------------------------------------


def brute_cross_share(G: nx.Graph, part: dict, weight: str = "distance") -> dict:
    """Share of shortest paths between actors of different factions through each
    actor, by enumerating every shortest path (unassigned actors: not ends, 0)."""
    raw = dict.fromkeys(G, 0.0)
    nodes = [v for v in G if v in part]
    pairs = [
        (s, t)
        for i, s in enumerate(nodes)
        for t in nodes[i + 1 :]
        if part[s] != part[t] and nx.has_path(G, s, t)
    ]
    for s, t in pairs:
        paths = list(nx.all_shortest_paths(G, s, t, weight=weight))
        for path in paths:
            for x in path[1:-1]:
                raw[x] += 1.0 / len(paths)
    out = {}
    for v in G:
        own = sum(1 for s, t in pairs if v in (s, t))
        denom = len(pairs) - own
        out[v] = raw[v] / denom if v in part and denom > 0 else 0.0
    return out


def test_igraph_subset_betweenness_counts_each_pair_half():
    # the convention cross_faction_betweenness relies on: on an undirected graph,
    # igraph's betweenness with disjoint sources and targets counts each source-target
    # pair with weight 1/2, exactly half of networkx's betweenness_centrality_subset
    import igraph as ig

    rng = random.Random(3)
    H = nx.gnp_random_graph(14, 0.3, seed=3)
    for u, v in H.edges:
        H.edges[u, v]["distance"] = rng.choice([0.5, 1.0, 2.0])
    edges = list(H.edges)
    g = ig.Graph(n=14, edges=edges, directed=False)
    dist = [H.edges[e]["distance"] for e in edges]
    sources, targets = [0, 1, 2, 3, 4], [7, 8, 9, 10, 11, 12]
    ours = g.betweenness(weights=dist, directed=False, sources=sources, targets=targets)
    ref = nx.betweenness_centrality_subset(H, sources, targets, normalized=False, weight="distance")
    for v in H:
        assert 2 * ours[v] == pytest.approx(2 * ref[v], abs=1e-9)  # networkx halves too
    brute = dict.fromkeys(H, 0.0)
    for s in sources:
        for t in targets:
            if nx.has_path(H, s, t):
                paths = list(nx.all_shortest_paths(H, s, t, weight="distance"))
                for path in paths:
                    for x in path[1:-1]:
                        brute[x] += 1.0 / len(paths)
    for v in H:
        assert 2 * ours[v] == pytest.approx(brute[v], abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(4, 14),
    p=st.floats(0.15, 0.6),
    k=st.integers(2, 4),
    missing=st.integers(0, 2),
    seed=st.integers(0, 10_000),
)
def test_cross_faction_betweenness_matches_brute_force(n, p, k, missing, seed):
    rng = random.Random(seed)
    H = nx.gnp_random_graph(n, p, seed=seed)  # may be disconnected
    for u, v in H.edges:
        w = rng.choice([0.5, 1.0, 2.0, 4.0])  # powers of two: path sums are exact
        H.edges[u, v]["weight"] = w
        H.edges[u, v]["distance"] = 1.0 / w
    part = {v: rng.randrange(k) for v in H}
    for v in rng.sample(list(H), min(missing, n)):
        del part[v]  # unassigned actors: neither ends nor values
    ours, method = cross_faction_betweenness(H, part)
    assert method == "exact"
    ref = brute_cross_share(H, part)
    for v in H:
        assert ours[v] == pytest.approx(ref[v], abs=1e-9), v


def test_cross_faction_betweenness_visits_each_pair_once():
    code = np.array([0, 0, 1, 1, 1, 2, -1, 2, 1, 0])
    tasks = bridges._cross_tasks(code)
    met = [(int(s), int(t)) for sources, targets in tasks for s in sources for t in targets]
    assigned = np.flatnonzero(code >= 0)
    cross = {(int(a), int(b)) for a in assigned for b in assigned if a < b and code[a] != code[b]}
    assert {tuple(sorted(x)) for x in met} == cross and len(met) == len(cross)
    # the cost: single-source passes = assigned actors minus the largest faction
    passes = sum(len(sources) for sources, _ in tasks)
    assert passes == len(assigned) - np.bincount(code[code >= 0]).max() < len(code)


def test_cross_faction_betweenness_split_over_processes_is_exact(monkeypatch):
    G, part, _, _ = planted_brokers(factions=3, size=20, seed=5)
    one, _ = cross_faction_betweenness(G, part, n_jobs=1)
    full_one, _ = betweenness(G, n_jobs=1)
    monkeypatch.setattr(bridges, "SPLIT_BETWEENNESS_NODES", 10)
    two, _ = cross_faction_betweenness(G, part, n_jobs=2)
    full_two, _ = betweenness(G, n_jobs=2)
    for v in G:
        assert two[v] == pytest.approx(one[v], abs=1e-12)
        assert full_two[v] == pytest.approx(full_one[v], abs=1e-12)


def test_cross_faction_betweenness_ignores_paths_inside_a_faction():
    # a-b-c-d inside faction 0, d-e into faction 1: b and c carry only faction-0 pairs
    # to each other, but every path from a, b, c to e runs through d
    G = nx.path_graph(["a", "b", "c", "d", "e"])
    part = {"a": 0, "b": 0, "c": 0, "d": 0, "e": 1}
    values, _ = cross_faction_betweenness(G, part)
    assert values["d"] == 1.0  # a-e, b-e, c-e all pass d (d-e is its own pair)
    assert values["b"] == pytest.approx(1 / 3)  # of a-e, c-e, d-e only a-e passes b
    full, _ = betweenness(G)
    assert full["c"] > full["d"] * 0.9 and values["c"] < values["d"]


# --------------------------------------------------------------------------------------
# unassigned actors, no or one faction, warnings
# --------------------------------------------------------------------------------------


def test_unassigned_actors_are_no_faction_and_no_bridge():
    G, part, brokers, _ = planted_brokers(factions=3, size=30, seed=9)
    # a small component outside every faction, and a member dropped from the partition
    G.add_edge("x1", "x2", weight=1.0)
    G.add_edge("x2", "x3", weight=1.0)
    G.add_node("alone")
    dropped = "f0-00"
    part = {v: f for v, f in part.items() if v != dropped}
    rows = {r["actor"]: r for r in bridge_figures(G, part)}
    for v in ("x1", "x2", "x3", "alone", dropped):
        row = rows[v]
        assert row["faction"] is None and row["role"] == "unassigned"
        assert not row["is_bridge"] and row["bridge_basis"] == ""
        assert row["factions"] == [] and row["ties"] == {}
        assert row["p_value"] is None and row["cross_betweenness"] == 0.0
        assert row["participation"] == 0.0 and row["within_z"] == 0.0
        assert sum(row["brokerage"].values()) == 0
    assert "belongs to no faction" in rows["x2"]["reason"]
    assert "no ties" in rows["alone"]["reason"]
    assert rows["x2"]["betweenness"] > 0  # faction-free measures still computed
    # no actor counts the unassigned member as a faction of its own
    for v, row in rows.items():
        assert set(row["ties"]) <= {0, 1, 2}
        if G.has_edge(v, dropped) and v in part:
            assert sum(row["ties"].values()) == len(set(G[v]) - {dropped})
    assert all(rows[b]["is_bridge"] for b in brokers)


@pytest.mark.parametrize("k", [0, 1])
def test_no_or_one_faction_gives_rows_without_bridges(k):
    G = nx.karate_club_graph()
    part = {} if k == 0 else dict.fromkeys(G, 3)
    rows = bridge_figures(G, part)
    assert len(rows) == G.number_of_nodes()
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert not any(r["is_bridge"] for r in rows)
    assert all(r["cross_betweenness"] == 0.0 for r in rows)
    for row in rows:
        assert set(row) >= ROW_KEYS
    if k == 0:
        assert all("belongs to no faction" in r["reason"] for r in rows)
        assert all(r["faction"] is None for r in rows)
    else:
        assert all("only one faction" in r["reason"] for r in rows)
        assert all(r["p_value"] is None for r in rows)
    (warning,) = bridge_warnings(rows)
    assert warning.code == "bridges-too-few-factions" and warning.stage == "bridges"
    assert "nothing to bridge" in warning.message


def test_bridge_warnings():
    G, part, _, _ = planted_brokers(seed=0)
    rows = bridge_figures(G, part)
    assert bridge_warnings(rows) == []
    reduced = bridge_figures(G, part, max_exact_nodes=50, reduced_nodes=60)
    assert [w.code for w in bridge_warnings(reduced)] == ["bridges-reduced"]
    # a sparse tree: most actors have one to three ties, too few to be judged
    T = nx.random_labeled_tree(60, seed=1)
    result = detect_factions(T, seed=1)
    codes = {w.code for w in bridge_warnings(bridge_figures(T, result.partition))}
    assert "bridges-thin" in codes
    for rows_ in (rows, reduced):
        for w in bridge_warnings(rows_):
            assert w.code in strength.CODES
    assert bridge_warnings([]) == []


def test_reasons_carry_the_strength_of_the_evidence():
    G, part, brokers, _ = planted_brokers(seed=1)
    rows = {r["actor"]: r for r in bridge_figures(G, part)}
    broker = rows[brokers[0]]
    text = broker["reason"]
    assert re.search(r"\d+ of \d+ ties outside ", text)
    assert re.search(r"\d+\.\d sd more than random ties of the same number would give", text)
    assert re.search(r"\(\d+\.\d expected, p [<=] ", text)
    assert "of the shortest paths between actors of different factions" in text
    member = next(
        r
        for v, r in rows.items()
        if v.startswith("f")
        and r["ties_outside"] >= 2
        and r["ties_outside"] >= 0.2 * sum(r["ties"].values())
    )
    assert "to stand out from chance" in member["reason"]
    assert "random ties of the same number would give" in member["reason"]
    expected = member["expected_outside"]
    assert f"{expected:.1f} ±" in member["reason"]


def test_strength_helpers():
    adjusted = strength.fdr_adjust([0.01, 0.04, 0.03, 0.5, float("nan")])
    assert adjusted[:4] == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    assert math.isnan(adjusted[4])
    assert strength.fdr_adjust([]).size == 0
    expected, z, p = strength.binomial_excess([9, 0, 3], [14, 5, 3], [0.2, 0.2, 0.0])
    assert expected.tolist() == pytest.approx([2.8, 1.0, 0.0])
    assert z[0] == pytest.approx((9 - 2.8) / math.sqrt(14 * 0.2 * 0.8))
    from scipy.stats import binom

    assert p[0] == pytest.approx(binom.sf(8, 14, 0.2))
    assert p[1] == 1.0  # nothing observed: nothing to explain
    assert p[2] == 0.0 and z[2] == 0.0  # impossible under the null, no spread to scale


def test_csv_carries_the_test(tmp_path):
    G, part, brokers, _ = planted_brokers(seed=2)
    path = write_bridges_csv(bridge_figures(G, part), tmp_path / "b.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        by_actor = {line["actor"]: line for line in csv.DictReader(fh)}
    line = by_actor[brokers[0]]
    for column in ("cross_betweenness", "expected_outside", "participation_z", "p_value"):
        float(line[column])
    assert line["bridge_basis"] in ("ties", "ties and paths")
    assert float(line["p_adjusted"]) <= bridges.BRIDGE_FDR
    assert int(line["ties_outside"]) >= 2 and line["faction"].startswith("faction ")
    assert by_actor["hub-0"]["is_bridge"] == "false" and by_actor["hub-0"]["bridge_basis"] == ""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ties_from_an_undirected_file_broker_both_ways(seed):
    # A graph file read as undirected gives one arc per tie, marked ``undirected``
    # (mapper.collectors.graph_files); brokerage must read it as the undirected tie.
    H = nx.gnm_random_graph(40, 90, seed=seed)
    partition = {v: v % 3 for v in H}
    D = nx.DiGraph(undirected_ties=H.number_of_edges())
    D.add_nodes_from(H)
    rng = np.random.default_rng(seed)
    for u, v in H.edges():
        a, b = (u, v) if rng.random() < 0.5 else (v, u)
        D.add_edge(a, b, weight=1.0, undirected=True)
    assert brokerage_roles(D, partition) == brokerage_roles(H, partition)
    plain = nx.DiGraph(D)
    plain.graph.pop("undirected_ties")
    assert brokerage_roles(plain, partition) != brokerage_roles(H, partition)
