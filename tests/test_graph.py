"""Tests for mapper.graph: building, filtering, reducing and measuring the actor graph."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, datetime, timedelta

import networkx as nx
import pytest

from mapper.errors import GraphError
from mapper.graph import (
    DEFAULT_TYPE_WEIGHTS,
    apply_influence,
    backbone,
    build_graph,
    disparity_pvalues,
    filter_events,
    filter_graph,
    influence,
    reduce_graph,
    undirected_projection,
    undirected_weights,
)
from mapper.records import REFERENCE_KINDS, Actor, EdgeEvent

T0 = datetime(2016, 7, 1, 12, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture
def actors() -> dict[str, Actor]:
    return {
        "owen-jones": Actor(
            "owen-jones",
            "Owen Jones",
            kind="commentator",
            party="Labour",
            faction="left",
            handles={"x": ("OwenJones84", "other"), "bluesky": ("owenjones.bsky.social",)},
        ),
        "compass": Actor("compass", "Compass", kind="organisation", faction="soft left"),
        "clive-lewis": Actor("clive-lewis", "", kind="mp", party="Labour"),
        "lonely": Actor("lonely", "Nobody Mentions Me", kind="other"),
    }


def sample_events() -> list[EdgeEvent]:
    """Events with ties on time, duplicates, explicit non-binary weights and no times."""
    events = [
        EdgeEvent("owen-jones", "compass", "mention", "x:5", at(5), "five", "https://x.com/5"),
        EdgeEvent("owen-jones", "compass", "reply", "x:3", at(3), "three", "https://x.com/3"),
        EdgeEvent("owen-jones", "compass", "repost", "x:2", at(3), "two", "https://x.com/2"),
        EdgeEvent("owen-jones", "compass", "quote", "x:9", at(1), "nine", "https://x.com/9"),
        EdgeEvent("owen-jones", "compass", "link", "x:7", None, "no time", ""),
        EdgeEvent("owen-jones", "compass", "name", "x:8", at(8), "eight", ""),
        EdgeEvent("owen-jones", "compass", "name", "x:8", at(8), "eight", ""),  # duplicate
        EdgeEvent("compass", "owen-jones", "mention", "web:a", at(2), "", "", weight=0.1),
        EdgeEvent("compass", "owen-jones", "mention", "web:b", at(4), "", "", weight=0.2),
        EdgeEvent("compass", "owen-jones", "mention", "web:c", at(6), "", "", weight=0.7),
        EdgeEvent("compass", "owen-jones", "link", "web:d", at(7), "", ""),
        EdgeEvent("clive-lewis", "x:someuser", "mention", "x:11", at(2), "hi", ""),
        EdgeEvent("x:someuser", "owen-jones", "reply", "x:12", at(30), "", ""),
        EdgeEvent("compass", "compass", "mention", "web:self", at(1), "", ""),
    ]
    # Many events on one edge, to exercise the bounded evidence.
    for i in range(40):
        events.append(EdgeEvent("clive-lewis", "compass", "mention", f"x:{100 + i:03d}", at(i % 7)))
    return events


def state(G: nx.Graph) -> bytes:
    """Everything a graph holds, serialized (networkx caches its views on the instance,
    so pickling the graph object itself changes once a view is used)."""
    return pickle.dumps(
        (G.graph, list(G.nodes(data=True)), list(G.edges(data=True)), G.is_directed())
    )


def snapshot(G: nx.DiGraph) -> tuple:
    return (
        dict(G.graph),
        list(G.nodes(data=True)),
        list(G.edges(data=True)),
    )


# ---------------------------------------------------------------------------
# build_graph


def test_build_is_identical_whatever_the_event_order(actors):
    events = sample_events()
    reference = snapshot(build_graph(events, actors, max_evidence=3))
    for seed in range(8):
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        assert snapshot(build_graph(iter(shuffled), actors, max_evidence=3)) == reference


def test_explicit_weights_sum_exactly_in_any_order(actors):
    # 0.1 + 0.2 + 0.7 differs from 0.7 + 0.2 + 0.1 in plain float arithmetic.
    assert 0.1 + 0.2 + 0.7 != 0.7 + 0.2 + 0.1
    events = sample_events()
    weights = set()
    for seed in range(10):
        random.Random(seed).shuffle(events)
        weights.add(build_graph(events, actors)["compass"]["owen-jones"]["weight"])
    assert weights == {1.0 + 1.0}  # 0.1 + 0.2 + 0.7 exactly 1.0, plus one link (1.0)


def test_weights_and_counts_per_type(actors):
    G = build_graph(sample_events(), actors)
    edge = G["owen-jones"]["compass"]
    # mention 1 + reply 1 + repost 2 + quote 1.5 + link 1 + name 0.5 twice
    assert edge["weight"] == 1 + 1 + 2 + 1.5 + 1 + 0.5 * 2
    assert edge["count"] == 7
    assert [edge[k] for k in REFERENCE_KINDS] == [1, 1, 1, 1, 1, 2]
    assert isinstance(edge["weight"], float)
    assert all(type(edge[k]) is int for k in REFERENCE_KINDS)
    assert DEFAULT_TYPE_WEIGHTS == {
        "mention": 1.0,
        "reply": 1.0,
        "repost": 2.0,
        "quote": 1.5,
        "link": 1.0,
        "name": 0.5,
    }


def test_type_weights_override_defaults_and_unknown_types_weigh_one(actors):
    events = [
        EdgeEvent("compass", "owen-jones", "repost", "x:1"),
        EdgeEvent("compass", "owen-jones", "mention", "x:2"),
        EdgeEvent("compass", "owen-jones", "like", "x:3"),
        EdgeEvent("compass", "owen-jones", "boost", "x:4"),
    ]
    G = build_graph(events, actors, type_weights={"repost": 3.0, "boost": 0.25})
    edge = G["compass"]["owen-jones"]
    assert edge["weight"] == 3.0 + 1.0 + 1.0 + 0.25
    assert edge["count"] == 4
    assert edge["repost"] == 1 and edge["mention"] == 1
    assert edge["reply"] == edge["quote"] == edge["link"] == edge["name"] == 0
    assert "like" not in edge and "boost" not in edge


def test_explicit_event_weight_replaces_the_type_weight(actors):
    events = [
        EdgeEvent("compass", "owen-jones", "repost", "x:1", weight=0.25),
        EdgeEvent("compass", "owen-jones", "repost", "x:2"),
        EdgeEvent("compass", "owen-jones", "mention", "x:3", weight=4),
    ]
    edge = build_graph(events, actors)["compass"]["owen-jones"]
    assert edge["weight"] == 0.25 + 2.0 + 4.0
    assert edge["repost"] == 2 and edge["count"] == 3


def test_evidence_is_bounded_earliest_first_ties_by_post(actors):
    G = build_graph(sample_events(), actors, max_evidence=4)
    evidence = G["owen-jones"]["compass"]["evidence"]
    assert [e["post"] for e in evidence] == ["x:9", "x:2", "x:3", "x:5"]
    assert evidence[0] == {
        "post": "x:9",
        "type": "quote",
        "url": "https://x.com/9",
        "time": at(1),
        "snippet": "nine",
    }
    many = G["clive-lewis"]["compass"]
    assert many["count"] == 40
    assert len(many["evidence"]) == 4
    times = [e["time"] for e in many["evidence"]]
    assert times == [at(0)] * 4  # six events at hour 0; the four smallest uids
    assert [e["post"] for e in many["evidence"]] == ["x:100", "x:107", "x:114", "x:121"]


def test_events_without_time_come_last_and_duplicates_once(actors):
    G = build_graph(sample_events(), actors, max_evidence=10)
    evidence = G["owen-jones"]["compass"]["evidence"]
    assert evidence[-1]["post"] == "x:7" and evidence[-1]["time"] is None
    assert [e["post"] for e in evidence].count("x:8") == 1
    assert G["owen-jones"]["compass"]["name"] == 2  # the duplicate still counts
    assert (
        build_graph(sample_events(), actors, max_evidence=0)["owen-jones"]["compass"]["evidence"]
        == []
    )


def test_first_last_are_aware_utc(actors):
    naive = datetime(2016, 7, 1, 9, 0)
    events = [
        EdgeEvent("compass", "owen-jones", "mention", "x:1", naive),
        EdgeEvent("compass", "owen-jones", "mention", "x:2", at(10)),
        EdgeEvent("compass", "clive-lewis", "mention", "x:3", None),
    ]
    G = build_graph(events, actors)
    assert G["compass"]["owen-jones"]["first"] == naive.replace(tzinfo=UTC)
    assert G["compass"]["owen-jones"]["first"].tzinfo is not None
    assert G["compass"]["owen-jones"]["last"] == at(10)
    assert G["compass"]["clive-lewis"]["first"] is None
    assert G["compass"]["clive-lewis"]["last"] is None


def test_unknown_endpoints_become_provisional_nodes(actors):
    G = build_graph(sample_events(), actors)
    assert G.nodes["x:someuser"] == {
        "label": "x:someuser",
        "kind": "unknown",
        "party": "",
        "declared_faction": "",
        "provisional": True,
        "x": "",
        "bluesky": "",
        "mastodon": "",
    }
    assert G.has_edge("clive-lewis", "x:someuser")
    assert G.has_edge("x:someuser", "owen-jones")


def test_node_attributes_follow_the_schema(actors):
    G = build_graph(sample_events(), actors, name="demo")
    assert G.graph["name"] == "demo"
    assert G.nodes["owen-jones"] == {
        "label": "Owen Jones",
        "kind": "commentator",
        "party": "Labour",
        "declared_faction": "left",
        "provisional": False,
        "x": "OwenJones84",
        "bluesky": "owenjones.bsky.social",
        "mastodon": "",
    }
    assert G.nodes["clive-lewis"]["label"] == "clive-lewis"  # no name: the id
    assert list(G.nodes) == sorted(G.nodes)
    assert list(G.edges) == sorted(G.edges)


def test_isolates_only_on_request(actors):
    assert "lonely" not in build_graph(sample_events(), actors)
    G = build_graph(sample_events(), actors, include_isolates=True)
    assert "lonely" in G and G.degree("lonely") == 0
    assert G.nodes["lonely"]["label"] == "Nobody Mentions Me"


def test_self_references_are_not_edges(actors):
    G = build_graph([EdgeEvent("compass", "compass", "mention", "x:1")], actors)
    assert list(G.nodes) == ["compass"]
    assert G.number_of_edges() == 0


def test_topics_on_every_node_most_frequent_first(actors):
    topics = {"owen-jones": {"#brexit": 2, "issue:alliance": 5, "#nhs": 2}}
    G = build_graph(sample_events(), actors, topics=topics)
    assert list(G.nodes["owen-jones"]["topics"].items()) == [
        ("issue:alliance", 5),
        ("#brexit", 2),
        ("#nhs", 2),
    ]
    assert G.nodes["compass"]["topics"] == {}
    assert "topics" not in build_graph(sample_events(), actors).nodes["compass"]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "heavy"])
def test_bad_weights_raise_graph_error(actors, bad):
    with pytest.raises(GraphError, match="weight"):
        build_graph([EdgeEvent("compass", "owen-jones", "mention", "x:1", weight=bad)], actors)
    with pytest.raises(GraphError):
        build_graph([], actors, type_weights={"mention": bad})


def test_negative_max_evidence_raises(actors):
    with pytest.raises(GraphError, match="max_evidence"):
        build_graph([], actors, max_evidence=-1)


def test_non_str_ids_raise_graph_error(actors):
    events = [EdgeEvent("compass", 12345, "mention", "x:1"), EdgeEvent("a", "b", "mention", "x:2")]
    with pytest.raises(GraphError, match="str"):
        build_graph(events, actors)


# ---------------------------------------------------------------------------
# filters


def test_filter_events_half_open_window():
    events = [
        EdgeEvent("a", "b", "mention", "x:1", at(0)),
        EdgeEvent("a", "b", "mention", "x:2", at(1)),
        EdgeEvent("a", "b", "mention", "x:3", at(2)),
        EdgeEvent("a", "b", "mention", "x:4", None),
    ]
    kept = list(filter_events(iter(events), since=at(1), until=at(2)))
    assert [e.post for e in kept] == ["x:2"]
    assert len(list(filter_events(events))) == 4  # no window: everything, even untimed
    naive_since = at(1).replace(tzinfo=None)
    assert [e.post for e in filter_events(events, since=naive_since)] == ["x:2", "x:3"]
    with pytest.raises(GraphError):
        list(filter_events(events, since=at(2), until=at(1)))


def test_filter_events_then_build_gives_exact_window_weights(actors):
    events = sample_events()
    G = build_graph(filter_events(events, since=at(3), until=at(6)), actors)
    edge = G["owen-jones"]["compass"]
    assert edge["count"] == 3  # x:3, x:2 at hour 3; x:5 at hour 5
    assert edge["weight"] == 1.0 + 2.0 + 1.0


def test_filter_graph_time_window_keeps_overlapping_edges(actors):
    G = build_graph(sample_events(), actors)
    before = state(G)
    H = filter_graph(G, since=at(20), until=at(40))
    assert list(H.edges) == [("x:someuser", "owen-jones")]
    assert set(H) == {"x:someuser", "owen-jones"}  # the others lost every edge
    # An edge spanning the window is kept whole, its evidence trimmed to the window.
    H = filter_graph(G, since=at(4), until=at(6))
    edge = H["owen-jones"]["compass"]
    assert edge["weight"] == G["owen-jones"]["compass"]["weight"]
    assert [e["post"] for e in edge["evidence"]] == ["x:5"]
    assert state(G) == before  # input untouched
    assert len(G["owen-jones"]["compass"]["evidence"]) == 5


def test_filter_graph_weight_kinds_provisional_component(actors):
    G = build_graph(sample_events(), actors, include_isolates=True)
    assert set(filter_graph(G, min_weight=7.5).edges) == {
        ("owen-jones", "compass"),
        ("clive-lewis", "compass"),
    }
    H = filter_graph(G, kinds=["commentator", "organisation"])
    assert set(H) == {"owen-jones", "compass"}
    assert set(filter_graph(G, kinds="mp")) == {"clive-lewis"}  # selected: stays
    H = filter_graph(G, kinds="mp", min_weight=1.0)
    assert set(H) == {"clive-lewis"}
    H = filter_graph(G, drop_provisional=True)
    assert "x:someuser" not in H and "lonely" in H  # isolated in G: stays
    H = filter_graph(G, largest_component=True)
    assert "lonely" not in H and set(H) == {"owen-jones", "compass", "clive-lewis", "x:someuser"}
    assert list(H.nodes) == sorted(H.nodes)


def test_filter_graph_output_does_not_alias_input(actors):
    G = build_graph(sample_events(), actors, topics={"compass": {"#x": 1}})
    H = filter_graph(G)
    H.nodes["compass"]["topics"]["#y"] = 2
    H["owen-jones"]["compass"]["evidence"][0]["post"] = "changed"
    assert G.nodes["compass"]["topics"] == {"#x": 1}
    assert G["owen-jones"]["compass"]["evidence"][0]["post"] == "x:9"


def test_backbone_keeps_strong_edge_drops_uniform_noise():
    G = nx.DiGraph()
    G.add_edge("hub", "ally", weight=100.0)
    for leaf in ("a", "b", "c", "d", "e"):
        G.add_edge("hub", leaf, weight=1.0)
    # A node spreading its weight evenly: nothing stands out.
    for leaf in ("a", "b", "c", "d", "e"):
        G.add_edge("even", leaf, weight=3.0)
    pvalues = disparity_pvalues(G)
    assert pvalues[("hub", "ally")] < 1e-5
    # at "even": 3 of 15 over 5 edges; at "a": 3 of 4 over 2 in-edges (the smaller)
    assert pvalues[("even", "a")] == pytest.approx(min((1 - 3 / 15) ** 4, (1 - 3 / 4) ** 1))
    assert pvalues[("hub", "a")] == pytest.approx(min((1 - 1 / 105) ** 5, 0.75))
    B = backbone(G, alpha=0.05)
    assert list(B.edges) == [("hub", "ally")]
    assert set(B) == {"hub", "ally"}
    assert B["hub"]["ally"]["weight"] == 100.0
    # alpha = 1 keeps every edge with p < 1 (all here: each has a side of degree > 1)
    assert set(backbone(G, alpha=1.0).edges) == set(G.edges)
    # a lone edge has p = 1 at both ends: never significant
    assert backbone(nx.DiGraph([("a", "b")]), alpha=1.0).number_of_edges() == 0


def test_backbone_edge_significant_for_its_target_only():
    G = nx.DiGraph()
    # 'star' receives from five sources; one of them sends it almost everything.
    for src in ("p", "q", "r", "s"):
        G.add_edge(src, "star", weight=1.0)
    G.add_edge("big", "star", weight=50.0)
    for leaf in ("l1", "l2", "l3", "l4"):
        G.add_edge("big", leaf, weight=50.0)  # uniform among big's out-edges
    B = backbone(G, alpha=0.05)
    assert ("big", "star") in B.edges  # significant among star's in-edges
    assert ("big", "l1") not in B.edges


def test_backbone_undirected_and_bad_input():
    G = nx.Graph()
    G.add_edge("a", "b", weight=10.0)
    for x in "cdef":
        G.add_edge("a", x, weight=0.1)
    assert list(backbone(G, alpha=0.05).edges) == [("a", "b")]
    with pytest.raises(GraphError):
        backbone(G, alpha=0)
    G.add_edge("a", "z", weight=-1.0)
    with pytest.raises(GraphError, match="weight"):
        backbone(G)


def hub_graph() -> nx.DiGraph:
    G = nx.DiGraph()
    for i in range(10):
        G.add_edge(f"n{i}", "hub", weight=2.0)
        G.add_edge(f"n{i}", f"n{(i + 1) % 10}", weight=1.0)
    G.add_edge("hub", "n0", weight=1.0)
    G.add_edge("bridge", "n5", weight=0.5)
    return G


def test_reduce_graph_keeps_required_nodes_within_budget():
    G = hub_graph()
    H, summary = reduce_graph(G, max_nodes=4, keep=["bridge", "missing"])
    assert "bridge" in H and "hub" in H and "missing" not in H
    assert H.number_of_nodes() == 4
    assert summary["nodes_total"] == G.number_of_nodes()
    assert summary["nodes_shown"] == 4
    assert summary["edges_total"] == G.number_of_edges()
    assert summary["edges_shown"] == H.number_of_edges()
    assert all(G.has_edge(u, v) for u, v in H.edges)
    assert "3 most influential" in summary["rule"] and "1 kept" in summary["rule"]
    # keep alone can exceed the budget: every kept node is shown
    H, _ = reduce_graph(G, max_nodes=1, keep=["bridge", "n3"])
    assert set(H) == {"bridge", "n3"}


def test_reduce_graph_custom_score_and_edge_budget():
    G = hub_graph()
    score = {f"n{i}": float(i) for i in range(10)}
    H, summary = reduce_graph(G, max_nodes=3, score=score)
    assert set(H) == {"n9", "n8", "n7"}
    H, summary = reduce_graph(G, max_nodes=11, max_edges=5)
    weights = sorted((d["weight"] for _, _, d in H.edges(data=True)), reverse=True)
    assert len(weights) == 5 and weights[0] == 2.0
    assert summary["edges_shown"] == 5
    everything, summary = reduce_graph(G, max_nodes=100)
    assert set(everything.edges) == set(G.edges)
    assert summary["rule"].startswith("All 12 actors")
    with pytest.raises(GraphError):
        reduce_graph(G, max_nodes=-1)


# ---------------------------------------------------------------------------
# metrics


def test_influence_sums_to_one_and_ranks_the_hub_first():
    G = hub_graph()
    scores = influence(G)
    assert set(scores) == set(G)
    assert sum(scores.values()) == pytest.approx(1.0, abs=1e-12)
    assert max(scores, key=scores.get) == "hub"
    assert scores["bridge"] == min(scores.values())


def test_influence_matches_networkx_pagerank_and_ignores_insertion_order():
    G = nx.gnp_random_graph(60, 0.08, seed=3, directed=True)
    rng = random.Random(4)
    for u, v in G.edges:
        G[u][v]["weight"] = rng.choice([0.5, 1.0, 2.0, 7.0])
    G.add_node(99)  # dangling and isolated
    ours = influence(G)
    expected = nx.pagerank(G, alpha=0.85, weight="weight", tol=1e-14, max_iter=10_000)
    assert max(abs(ours[n] - expected[n]) for n in G) < 1e-10
    H = nx.DiGraph()
    H.add_nodes_from(reversed(list(G.nodes)))
    H.add_edges_from(reversed(list(G.edges(data=True))))
    assert influence(H) == ours
    unweighted = nx.pagerank(G, weight=None, tol=1e-14, max_iter=10_000)
    assert influence(G, weight=None)[0] == pytest.approx(unweighted[0], abs=1e-10)


def test_influence_edge_cases():
    assert influence(nx.DiGraph()) == {}
    G = nx.DiGraph()
    G.add_nodes_from("abc")
    assert influence(G) == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    G.add_edge("a", "b", weight=-1.0)
    with pytest.raises(GraphError, match="non-negative"):
        influence(G)
    G["a"]["b"]["weight"] = float("nan")
    with pytest.raises(GraphError):
        influence(G)
    with pytest.raises(GraphError):
        influence(nx.DiGraph([("a", "b")]), alpha=1.0)


def test_apply_influence_writes_every_node():
    G = hub_graph()
    apply_influence(G, {"hub": 0.5, "elsewhere": 1.0})
    assert G.nodes["hub"]["influence"] == 0.5
    assert G.nodes["n1"]["influence"] == 0.0
    assert "elsewhere" not in G


def test_undirected_projection_sums_both_directions():
    G = nx.DiGraph()
    G.add_node("w", label="W", topics={"#a": 1})
    G.add_edge("v", "u", weight=3.0, count=9)
    G.add_edge("u", "v", weight=2.0)
    G.add_edge("w", "u")  # no weight: counts 1
    before = state(G)
    U = undirected_projection(G)
    assert not U.is_directed()
    assert U["u"]["v"] == {"weight": 5.0}
    assert U["u"]["w"]["weight"] == 1.0
    assert list(U.nodes) == ["u", "v", "w"]
    assert U.nodes["w"] == {"label": "W", "topics": {"#a": 1}}
    U.nodes["w"]["topics"]["#b"] = 2
    assert state(G) == before
    assert undirected_weights(G) == {("u", "v"): 5.0, ("u", "w"): 1.0}
    # to_undirected would have kept one direction only
    assert G.to_undirected()["u"]["v"]["weight"] in (2.0, 3.0)


def test_influence_undirected_is_both_directions():
    U = nx.Graph()
    U.add_edge("a", "b", weight=2.0)
    U.add_edge("b", "c", weight=1.0)
    U.add_edge("c", "c", weight=1.0)
    D = nx.DiGraph()
    for u, v, d in U.edges(data=True):
        D.add_edge(u, v, **d)
        D.add_edge(v, u, **d)
    assert influence(U) == pytest.approx(influence(D), abs=1e-14)
