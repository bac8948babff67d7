"""Tests of mapper.analysis.alliances: tie expectation, shared issues, opportunities and
introductions on hand-made and planted graphs, and hostile names in the writers."""

from __future__ import annotations

import csv
import math
import random
import re

import networkx as nx
import pytest

from mapper.analysis.alliances import (
    ALLIANCE_CSV_COLUMNS,
    alliance_report,
    faction_ties,
    shared_issues,
    write_alliances_csv,
    write_alliances_md,
)

TOPICS = {
    0: {"issue:nhs": 2, "#corbyn": 2, "#brexit": 1},
    1: {"issue:leadership": 2, "#labourleadership": 2, "#brexit": 1},
    2: {"issue:pr": 3, "#progressivealliance": 2, "domain:compass.org.uk": 1, "#brexit": 1},
    3: {"issue:pr": 2, "#progressivealliance": 3, "domain:compass.org.uk": 2, "#brexit": 1},
}


def planted(seed: int = 11):
    """Four dense factions of 25; factions 2 and 3 share issues, tied only via broker-23."""
    rng = random.Random(seed)
    G = nx.DiGraph()
    part: dict[str, int] = {}
    members = {f: [f"f{f}-{i:02d}" for i in range(25)] for f in range(4)}

    def tie(u: str, v: str) -> None:
        ev = [{"post": "x:1", "type": "reply", "url": "https://x.com/1", "snippet": "hi"}]
        G.add_edge(u, v, weight=rng.choice([1.0, 2.0]), evidence=ev)

    for f, ms in members.items():
        for v in ms:
            G.add_node(v, label=v.upper(), topics=dict(TOPICS[f]))
            part[v] = f
        for i, u in enumerate(ms):
            for v in ms[i + 1 :]:
                if rng.random() < 0.3:
                    tie(u, v)
                    tie(v, u)
    for _ in range(15):  # ordinary cross ties among 0, 1 and 2 only
        fa, fb = rng.sample([0, 1, 2], 2)
        tie(rng.choice(members[fa]), rng.choice(members[fb]))
    for b, (fa, fb) in {"broker-01": (0, 1), "broker-23": (2, 3)}.items():
        G.add_node(b, label=b.upper(), topics=TOPICS[fa] | TOPICS[fb])
        part[b] = fa
        for f in (fa, fb):
            for v in rng.sample(members[f], 6):
                tie(b, v)
                tie(v, b)
    names = {0: "Corbyn's left", 1: "Labour right", 2: "soft left", 3: "Greens"}
    return G, part, names


# --------------------------------------------------------------------------------------
# faction ties
# --------------------------------------------------------------------------------------


def test_faction_ties_hand_computed():
    # faction 0 = {a, b}, faction 1 = {c, d}; a-b weight 3 (2 + 1 both ways), b -> c 1,
    # c-d 2, a -> d 4
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=2)
    G.add_edge("b", "a", weight=1)
    G.add_edge("b", "c", weight=1)
    G.add_edge("c", "d", weight=2)
    G.add_edge("a", "d", weight=4)
    G.add_edge("d", "a", weight=1)
    (t,) = faction_ties(G, {"a": 0, "b": 0, "c": 1, "d": 1})
    # strengths (undirected, both directions summed): a 3+5=8, b 3+1=4, c 1+2=3, d 2+5=7
    assert (t["a"], t["b"]) == (0, 1)
    assert t["ties"] == 2  # b-c and a-d
    assert t["weight"] == pytest.approx(6.0)
    assert t["weight_ab"] == pytest.approx(5.0) and t["weight_ba"] == pytest.approx(1.0)
    assert t["expected"] == pytest.approx(12 * 10 / 22)
    assert t["ratio"] == pytest.approx(6.0 / (120 / 22))
    assert t["density"] == pytest.approx(2 / 4)


def test_faction_ties_all_pairs_and_isolated_faction():
    G = nx.Graph([(0, 1), (1, 2)])
    G.add_node(3)
    ties = faction_ties(G, {0: 0, 1: 1, 2: 2, 3: 3})
    assert [(t["a"], t["b"]) for t in ties] == [
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 2),
        (1, 3),
        (2, 3),
    ]
    by_pair = {(t["a"], t["b"]): t for t in ties}
    assert by_pair[0, 3]["ratio"] is None and by_pair[0, 3]["expected"] == 0
    assert by_pair[0, 2]["ties"] == 0 and by_pair[0, 2]["ratio"] == 0


# --------------------------------------------------------------------------------------
# shared issues
# --------------------------------------------------------------------------------------


def test_shared_issues_idf_and_items():
    G = nx.Graph()
    G.add_node("a1", topics={"issue:pr": 4, "#brexit": 4})
    G.add_node("b1", topics={"issue:pr": 4, "#brexit": 4})
    G.add_node("c1", topics={"issue:nhs": 4, "#brexit": 4})
    G.add_node("d1", topics={"domain:compass.org.uk": 1, "#brexit": 4})
    part = {"a1": 0, "b1": 1, "c1": 2, "d1": 3}
    res = {(r["a"], r["b"]): r for r in shared_issues(G, part)}
    # 0 and 1 share a distinctive issue; 0 and 2 only the hashtag everyone uses
    assert res[0, 1]["similarity"] == pytest.approx(1.0)
    assert res[0, 2]["similarity"] < 0.2
    top = res[0, 1]["shared"]["issues"][0]
    assert top["label"] == "pr" and top["kind"] == "issues"
    assert top["count_a"] == 4 and top["count_b"] == 4
    # contributions add up to the similarity
    total = sum(it["contribution"] for items in res[0, 1]["shared"].values() for it in items)
    assert total == pytest.approx(res[0, 1]["similarity"])
    pr = res[0, 1]["shared"]["issues"][0]["contribution"]
    brexit = res[0, 1]["shared"]["hashtags"][0]["contribution"]
    assert pr > 5 * brexit
    assert res[0, 1]["similarity_by_kind"]["issues"] == pytest.approx(1.0)
    assert res[0, 2]["similarity_by_kind"]["issues"] == 0.0
    assert res[0, 3]["shared"]["domains"] == []


def test_shared_issues_min_count_and_missing_topics():
    G = nx.Graph()
    G.add_node("a", topics={"issue:pr": 1})
    G.add_node("b", topics={"issue:pr": 1})
    G.add_node("c")  # no topics at all
    G.add_node("d", topics="not a dict")
    assert len(shared_issues(G, {"a": 0, "b": 1, "c": 2, "d": 3})) == 1
    assert shared_issues(G, {"a": 0, "b": 1, "c": 2, "d": 3}, min_count=2) == []


# --------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------


def test_planted_opportunity_and_introduction():
    G, part, names = planted()
    report = alliance_report(G, part, names=names)
    top = report["opportunities"][0]
    assert (top["a"], top["b"]) == (2, 3)
    assert top["brokers"][0]["actor"] == "broker-23"
    assert top["ratio"] < 0.3 and top["similarity"] > 0.9
    assert "soft left and Greens share issues" in top["reason"]
    assert "BROKER-23" in top["reason"]
    labels = [it["label"] for it in top["shared"]["issues"]]
    assert labels == ["pr"]
    intros = [it for it in report["introductions"] if {it["a"], it["b"]} == {2, 3}]
    assert intros, report["introductions"]
    first = intros[0]
    assert first["broker"] == "broker-23"
    assert part[first["actor_a"]] == 2 and part[first["actor_b"]] == 3
    assert not G.has_edge(first["actor_a"], first["actor_b"])
    assert not G.has_edge(first["actor_b"], first["actor_a"])
    assert first["common_neighbours"] >= 1 and first["similarity"] > 0
    assert "BROKER-23 knows both" in first["reason"]
    assert first["actor_a_name"] in first["reason"] and "Greens" in first["reason"]
    for key in ("pairs", "opportunities", "introductions"):
        for item in report[key]:
            assert isinstance(item["reason"], str) and item["reason"].endswith(".")


def test_opportunity_score_formula_and_order():
    G, part, names = planted()
    report = alliance_report(G, part, names=names, top=50)
    pairs = {(p["a"], p["b"]): p for p in report["pairs"]}
    for o in report["opportunities"]:
        p = pairs[o["a"], o["b"]]
        ratio = p["ratio"] or 0.0
        assert o["score"] == pytest.approx(p["similarity"] * (1 - min(1.0, ratio)))
    scores = [o["score"] for o in report["opportunities"]]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_pairs_brokers_and_ratio():
    G, part, names = planted()
    report = alliance_report(G, part, names=names, max_brokers=3)
    pairs = {(p["a"], p["b"]): p for p in report["pairs"]}
    assert set(pairs) == {(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)}  # all share #brexit
    p01 = pairs[0, 1]
    assert p01["brokers"][0]["actor"] == "broker-01"
    assert p01["brokers"][0]["ties_a"] == 6 and p01["brokers"][0]["ties_b"] == 6
    assert len(p01["brokers"]) <= 3
    assert pairs[0, 3]["ties"] == 0 and pairs[0, 3]["brokers"] == []
    assert pairs[2, 3]["ties"] == 6  # only broker-23's ties
    sizes = {f["id"]: f["size"] for f in report["factions"]}
    assert sizes == {0: 26, 1: 25, 2: 26, 3: 25}


def test_introductions_bounded_per_actor():
    G, part, names = planted()
    report = alliance_report(G, part, names=names, top=100, per_actor=1)
    seen: dict[str, int] = {}
    for it in report["introductions"]:
        for v in (it["actor_a"], it["actor_b"]):
            seen[v] = seen.get(v, 0) + 1
    assert seen and max(seen.values()) == 1
    scores = [it["score"] for it in report["introductions"]]
    assert scores == sorted(scores, reverse=True)


def test_report_on_graph_without_topics_or_ties():
    H = nx.florentine_families_graph()
    report = alliance_report(H, {v: i % 3 for i, v in enumerate(sorted(H))})
    assert report["opportunities"] == [] and report["introductions"] == []
    assert report["pairs"] and all(p["similarity"] == 0 for p in report["pairs"])
    empty = alliance_report(nx.DiGraph(), {})
    assert empty["pairs"] == [] and empty["introductions"] == []


def test_report_does_not_mutate_graph():
    G, part, names = planted()
    before = {v: dict(d) for v, d in G.nodes(data=True)}
    edges = G.number_of_edges()
    alliance_report(G, part, names=names)
    assert {v: dict(d) for v, d in G.nodes(data=True)} == before
    assert G.number_of_edges() == edges


# --------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------


def hostile_report():
    G, part, _ = planted()
    for v in G:
        if v == "broker-23":
            G.nodes[v]["label"] = '=HYPERLINK("http://evil")|<script>alert(1)</script>'
        elif v.startswith("f3-"):
            G.nodes[v]["label"] = "@evil [x](javascript:alert(1)) " + v
    names = {0: "-2+3", 1: "+cmd", 2: "=SUM(A1)", 3: "| <b>Greens</b> |"}
    return alliance_report(G, part, names=names)


def test_write_alliances_csv(tmp_path):
    report = hostile_report()
    path = write_alliances_csv(report, tmp_path / "alliances.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(ALLIANCE_CSV_COLUMNS)
    kinds = [r["row_type"] for r in rows]
    assert kinds.count("opportunity") == len(report["opportunities"])
    assert kinds.count("introduction") == len(report["introductions"])
    assert kinds.count("pair") == len(report["pairs"])
    for row in rows:
        for key, cell in row.items():
            assert not cell.startswith(("=", "+", "@")), (key, cell)
            if cell.startswith("-"):
                float(cell)
    opp = next(r for r in rows if r["row_type"] == "opportunity")
    assert opp["faction_a_name"] == "'=SUM(A1)"
    assert float(opp["score"]) > 0 and opp["rank"] == "1"
    intro = next(r for r in rows if r["row_type"] == "introduction")
    assert intro["broker"] == "broker-23" and intro["broker_name"].startswith("'=HYPERLINK")
    assert intro["actor_b_name"].startswith("'@evil")
    assert int(intro["common_neighbours"]) >= 1


def test_write_alliances_md(tmp_path):
    report = hostile_report()
    text = write_alliances_md(report, tmp_path / "alliances.md").read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>" not in text
    assert not re.search(r"(?<!\\)\]\(javascript:", text)
    assert "## Suggested introductions" in text and "## Faction pairs" in text
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            unescaped = [i for i, ch in enumerate(line) if ch == "|" and line[i - 1 : i] != "\\"]
            assert len(unescaped) == 9, line  # 8 columns
    assert re.search(r"^1\. \*\*", text, flags=re.MULTILINE)


def test_similarity_is_a_cosine():
    G, part, _ = planted()
    for r in shared_issues(G, part):
        assert 0 < r["similarity"] <= 1 + 1e-9
        assert not math.isnan(r["similarity"])
