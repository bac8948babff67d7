"""Evidence strength: components first, significance of the factions, the number of
factions on request, fault lines only with enough evidence, and the warnings that
reach summary.json, the report and the command line.

The graphs are generated with known answers (planted factions, disconnected pieces,
Erdős–Rényi graphs, thin data), several of each, so that no single shape decides a
test.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

from mapper.analysis.factions import (
    detect_factions,
    fault_line_warnings,
    fault_lines,
    resolution_for_factions,
    resolution_sweep,
)
from mapper.analysis.strength import (
    CODES,
    component_labels,
    components,
    group_concentration,
    rewired,
    significance,
    tie_alignment,
    warning,
)
from mapper.cli import app

# ---------------------------------------------------------------------------- helpers


def planted(sizes: list[int], p_in: float, p_out: float, seed: int) -> tuple[nx.Graph, list[int]]:
    """A stochastic block model with string ids and the planted block of each node."""
    G = nx.stochastic_block_model(sizes, _probs(len(sizes), p_in, p_out), seed=seed)
    truth = [G.nodes[u]["block"] for u in sorted(G)]
    H = nx.relabel_nodes(G, {u: f"n{u:04d}" for u in G})
    for u in H:
        H.nodes[u].pop("block", None)
    return H, truth


def _probs(k: int, p_in: float, p_out: float) -> list[list[float]]:
    return [[p_in if i == j else p_out for j in range(k)] for i in range(k)]


def codes(result) -> list[str]:
    return [w.code for w in result.warnings]


def purity(truth: list[int], found: list[int]) -> float:
    """Share of nodes in a found faction whose majority block is their own block."""
    hits = 0
    for f in set(found):
        blocks = [t for t, g in zip(truth, found, strict=True) if g == f]
        hits += max(blocks.count(b) for b in set(blocks))
    return hits / len(truth)


def agreement(truth: list[int], found: list[int]) -> float:
    """Share of nodes whose found faction's majority block is their own block, with as
    many found factions as blocks (1.0: the same grouping)."""
    if len(set(found)) != len(set(truth)):
        return 0.0
    majority = {}
    for f in set(found):
        blocks = [t for t, g in zip(truth, found, strict=True) if g == f]
        majority[f] = max(set(blocks), key=blocks.count)
    if len(set(majority.values())) != len(majority):
        return 0.0
    return sum(majority[g] == t for t, g in zip(truth, found, strict=True)) / len(truth)


# ------------------------------------------------------------------------- strength


def test_every_code_used_is_registered():
    with pytest.raises(ValueError):
        warning("no-such-code", "factions", "x")
    assert all(code == code.lower() and " " not in code for code in CODES)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rewiring_keeps_degrees_groups_and_weights(seed):
    G = nx.disjoint_union_all(
        [nx.karate_club_graph(), nx.les_miserables_graph(), nx.cycle_graph(7)]
    )
    G = nx.convert_node_labels_to_integers(G)
    e = np.array(G.edges())
    lo, hi = e.min(1), e.max(1)
    w = np.arange(lo.size, dtype=float) + 1
    groups = component_labels(G.number_of_nodes(), lo, hi)
    l2, h2, w2 = rewired(G.number_of_nodes(), lo, hi, w, seed=seed, groups=groups)
    n = G.number_of_nodes()
    assert np.array_equal(
        np.bincount(np.r_[lo, hi], minlength=n), np.bincount(np.r_[l2, h2], minlength=n)
    )
    assert (groups[l2] == groups[h2]).all()  # no tie crosses a component
    assert (l2 < h2).all() and len(set(zip(l2.tolist(), h2.tolist(), strict=True))) == lo.size
    assert sorted(w2.tolist()) == sorted(w.tolist())
    moved = set(zip(l2.tolist(), h2.tolist(), strict=True)) - set(
        zip(lo.tolist(), hi.tolist(), strict=True)
    )
    assert len(moved) > lo.size // 3  # the graph really was shuffled
    again = rewired(n, lo, hi, w, seed=seed, groups=groups)
    assert all(np.array_equal(x, y) for x, y in zip(again, (l2, h2, w2), strict=True))


def test_significance_needs_distance_and_no_random_graph_above():
    assert significance(0.5, [0.3, 0.31, 0.29, 0.3]).significant
    assert not significance(0.32, [0.3, 0.31, 0.29, 0.3]).significant  # z = 2.4
    assert not significance(0.6, [0.3, 0.31, 0.29, 0.3] * 5 + [0.61]).significant  # reached
    assert not significance(0.31, [0.3, 0.31, 0.29, 0.3]).significant
    assert not significance(0.5, []).significant


def test_components_summary():
    G = nx.Graph([(1, 2), (2, 3), (4, 5)])
    G.add_nodes_from([6, 7])
    c = components(G, min_size=3)
    assert (c.count, c.sizes, c.isolated, c.unassigned, c.largest_share) == (
        4,
        (3, 2, 1, 1),
        2,
        4,
        3 / 7,
    )


def test_concentration_and_alignment_tell_groups_from_random_sets():
    rng = np.random.default_rng(5)
    part = {i: i % 4 for i in range(80)}
    together = [i for i in range(80) if i % 4 == 1][:10]
    assert group_concentration(together, part, seed=1).p < 0.01
    random_hits = sum(
        group_concentration(rng.choice(80, 10, replace=False).tolist(), part, seed=s).p < 0.05
        for s in range(40)
    )
    assert random_hits <= 6  # about 5% expected
    sides = [0] * 6 + [1] * 6
    lo = [i for i in range(12) for j in range(i + 1, 12) if (i < 6) == (j < 6)]
    hi = [j for i in range(12) for j in range(i + 1, 12) if (i < 6) == (j < 6)]
    assert tie_alignment(sides, lo, hi, seed=2).p < 0.01
    mixed_lo = [i for i in range(12) for j in range(i + 1, 12)]
    mixed_hi = [j for i in range(12) for j in range(i + 1, 12)]
    assert tie_alignment(sides, mixed_lo, mixed_hi, seed=2).p > 0.2


# ------------------------------------------------------------------ components first


@pytest.mark.parametrize("sizes", [[6] * 8, [5, 7, 9, 11], [12, 12, 6, 6, 6]])
def test_separate_pieces_are_not_presented_as_communities(sizes):
    G = nx.disjoint_union_all([nx.complete_graph(s) for s in sizes])
    result = detect_factions(G)
    assert result.n_factions == len(sizes)
    assert "factions-equal-components" in codes(result)
    # within each piece there is nothing beyond the pieces themselves
    assert result.significance is not None and not result.significance.significant
    assert "no-significant-structure" in codes(result)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_graph_of_tiny_pieces_has_no_factions(seed):
    rng = np.random.default_rng(seed)
    pieces = [nx.path_graph(int(rng.integers(2, 5))) for _ in range(52)]
    G = nx.disjoint_union_all(pieces)
    G.add_nodes_from(range(1000, 1010))  # isolated actors
    result = detect_factions(G)
    assert result.n_factions == 0 and result.partition == {}
    assert set(result.unassigned) == set(G)
    assert {"unassigned-actors", "fragmented-graph", "no-factions"} <= set(codes(result))
    rows = resolution_sweep(G, [0.5, 1, 2])
    assert all(r["factions"] == 0 and r["unassigned"] == G.number_of_nodes() for r in rows)


def test_the_sweep_counts_neither_singletons_nor_unassigned_actors():
    G = nx.karate_club_graph()
    G.add_nodes_from(["a", "b"])
    G.add_edge("c", "d")
    rows = resolution_sweep(G, [1.0, 8.0], weight=None)
    assert rows[0]["factions"] == 4 and rows[0]["unassigned"] == 4
    for row in rows:
        assert row["factions"] + row["singletons"] >= row["factions"]
    high = rows[1]
    assert high["factions"] >= 4
    found = detect_factions(G, weight=None, resolution=8.0)
    sizes = np.bincount(list(found.partition.values()))
    assert high["factions"] == int((sizes >= 2).sum())


# ------------------------------------------------------------------------ significance


@pytest.mark.parametrize(
    ("n", "p", "seed"),
    [
        (120, 0.05, 0),
        (200, 0.03, 1),
        (300, 0.02, 2),
        (400, 0.012, 3),
        (150, 0.1, 4),
        (250, 0.04, 5),
    ],
)
def test_erdos_renyi_graphs_show_no_significant_structure(n, p, seed):
    G = nx.gnp_random_graph(n, p, seed=seed)
    result = detect_factions(G, seed=seed)
    assert result.significance is not None
    assert not result.significance.significant, result.significance
    assert "no-significant-structure" in codes(result)
    # fault lines are not judged on factions that are not there
    rng = np.random.default_rng(seed)
    for u in G:
        G.nodes[u]["declared_faction"] = ["red", "blue", "green"][int(rng.integers(3))]
    rows = fault_lines(G, result)
    assert rows and all(not r["split"] for r in rows)
    assert all(r["verdict"] in ("no-structure", "too-thin") for r in rows)


@pytest.mark.parametrize(
    ("sizes", "p_in", "p_out", "seed"),
    [
        ([40, 40, 40, 40], 0.25, 0.02, 0),
        ([60, 30, 30], 0.2, 0.02, 1),
        ([25, 25, 25, 25, 25, 25], 0.3, 0.03, 2),
        ([100, 80], 0.08, 0.01, 3),
    ],
)
def test_planted_factions_are_significant_and_found(sizes, p_in, p_out, seed):
    G, truth = planted(sizes, p_in, p_out, seed)
    result = detect_factions(G, seed=seed)
    assert result.significance.significant
    assert result.significance.z > 5
    assert not {"no-significant-structure", "factions-equal-components"} & set(codes(result))
    # modularity may cut a sparse block in two, but never mixes blocks
    found = [result.partition[u] for u in sorted(G)]
    assert purity(truth, found) >= 0.95


# ---------------------------------------------------------------- number of factions


@pytest.mark.parametrize(("blocks", "seed"), [(2, 0), (3, 1), (5, 2), (7, 3)])
def test_asking_for_the_planted_number_of_factions_finds_them(blocks, seed):
    G, truth = planted([30] * blocks, 0.3, 0.01, seed)
    result = detect_factions(G, factions=blocks, seed=seed)
    assert result.n_factions == blocks
    assert result.requested_factions == blocks
    assert any("resolution searched" in note for note in result.notes)
    assert agreement(truth, [result.partition[u] for u in sorted(G)]) >= 0.95
    assert "factions-not-reached" not in codes(result)


def test_fewer_factions_than_pieces_cannot_be_reached_and_the_run_says_why():
    G = nx.disjoint_union_all([nx.complete_graph(6) for _ in range(4)])
    result = detect_factions(G, factions=2)
    assert result.n_factions == 4
    [missed] = [w for w in result.warnings if w.code == "factions-not-reached"]
    assert "4 separate components" in missed.message


def test_resolution_for_factions_on_the_karate_club():
    gamma, count = resolution_for_factions(nx.karate_club_graph(), 2, weight=None)
    assert count == 2 and gamma < 1
    gamma, count = resolution_for_factions(nx.karate_club_graph(), 6, weight=None)
    assert count == 6 and gamma > 1


# ------------------------------------------------------------------------ fault lines


def split_scenario(seed: int, blocs: int = 2, members: int = 12) -> nx.Graph:
    """Planted blocs; 'soft left' has half its members in bloc 0, half in bloc 1, each
    half tied to its own bloc; 'bloc two' is bloc 2 when there is one."""
    G, truth = planted([30] * blocs, 0.3, 0.01, seed)
    nodes = sorted(G)
    rng = np.random.default_rng(seed)
    in0 = [u for u, t in zip(nodes, truth, strict=True) if t == 0]
    in1 = [u for u, t in zip(nodes, truth, strict=True) if t == 1]
    chosen = list(rng.choice(in0, members // 2, replace=False)) + list(
        rng.choice(in1, members - members // 2, replace=False)
    )
    for u in chosen:
        G.nodes[u]["declared_faction"] = "soft left"
    return G


@pytest.mark.parametrize(("seed", "blocs"), [(0, 2), (1, 2), (2, 3), (3, 4)])
def test_a_real_split_is_reported_with_its_evidence(seed, blocs):
    G = split_scenario(seed, blocs)
    result = detect_factions(G, seed=seed)
    [row] = fault_lines(G, result)
    assert row["verdict"] == "split" and row["split"]
    assert row["aligned_p"] < 0.05 or row["p"] < 0.05
    assert row["summary"].startswith("soft left is split: 6 of 12")


def test_no_claim_from_zero_ties():
    # what `drop_provisional = true` left in a real run: 9 roster actors, no tie
    G = nx.DiGraph()
    for i, party in enumerate(["Conservative"] * 4 + ["Labour"] * 5):
        G.add_node(f"mp{i}", declared_faction=party)
    result = detect_factions(G)
    assert result.n_factions == 0 and codes(result) == ["no-ties"]
    rows = fault_lines(G, result)
    assert [r["verdict"] for r in rows] == ["too-thin", "too-thin"]
    assert all("split" not in r["summary"].replace("not enough", "") for r in rows)
    assert all(r["summary"].startswith("not enough ties to judge") for r in rows)
    [thin] = fault_line_warnings(rows)
    assert thin.code == "declared-faction-too-thin" and "Labour (0 of 5)" in thin.message


@pytest.mark.parametrize("with_ties", [1, 3, 4])
def test_too_few_members_with_ties_are_not_judged(with_ties):
    G = split_scenario(7, 2)
    members = [u for u in G if G.nodes[u].get("declared_faction") == "soft left"]
    for u in members[with_ties:]:
        G.remove_node(u)
        G.add_node(u, declared_faction="soft left")  # back, without ties
    result = detect_factions(G)
    [row] = fault_lines(G, result)
    assert row["verdict"] == "too-thin" and row["size"] == with_ties
    assert not row["split"]


# ------------------------------------------------------------------ the whole pipeline


def thin_project(tmp_path: Path) -> Path:
    """A project of 15 actors with ties in five pieces of three, with declared
    factions."""
    edges = tmp_path / "edges.csv"
    lines = ["source,target,weight,type"]
    for a, b, c in ("abc", "def", "ghi", "jkl", "mno"):
        lines += [f"{a},{b},1,mention", f"{b},{c},2,reply"]
    edges.write_text("\n".join(lines) + "\n", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    rows = ["id,name,kind,party,declared_faction"]
    for i, who in enumerate("abcdefghijklmno"):
        rows.append(
            f"{who},Person {who.upper()},mp,{'Labour' if i % 2 else 'Green'},"
            f"{'soft left' if i % 3 else 'hard left'}"
        )
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    toml = tmp_path / "mapper.toml"
    toml.write_text(
        '[project]\nname = "thin"\nroster = "roster.csv"\noutput = "out"\n\n'
        '[[sources]]\ntype = "edges-csv"\npath = "edges.csv"\n',
        encoding="utf-8",
    )
    return toml


def test_thin_data_runs_with_exit_zero_and_every_output_says_it_is_thin(tmp_path):
    toml = thin_project(tmp_path)
    result = CliRunner().invoke(app, ["run", str(toml)])
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "no-factions" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    found = {w["code"] for w in summary["warnings"]}
    assert {"no-factions", "unassigned-actors", "fragmented-graph"} <= found
    assert all(set(w) == {"code", "message", "stage"} for w in summary["warnings"])
    assert summary["factions"] == 0 and summary["components"]["count"] >= 3
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    # the warnings come first, before any finding
    assert report.index("What the data can and cannot carry") < report.index("## Factions")
    assert "is split" not in report
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "no-factions" in html


def test_the_run_summary_line_never_announces_chance_factions_bare(tmp_path):
    """On a random graph the one-line summary of ``mapper run`` qualifies the faction
    count itself, not only the line after it."""
    G = nx.gnp_random_graph(60, 0.1, seed=3)
    lines = ["source,target,weight,type"] + [f"a{u},a{v},1,mention" for u, v in G.edges()]
    (tmp_path / "edges.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    toml = tmp_path / "mapper.toml"
    toml.write_text(
        '[project]\nname = "random"\noutput = "out"\n\n'
        '[[sources]]\ntype = "edges-csv"\npath = "edges.csv"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["run", str(toml)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["factions"] >= 2 and summary["significance"]["significant"] is False
    first = next(
        line for line in result.output.splitlines() if " ties, " in line and " in " in line
    )
    assert f"{summary['factions']} factions (not significant)" in first
