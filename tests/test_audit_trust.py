"""Issue 12 checked as an outside reviewer would: new graphs with known answers
(sparse random graphs, random trees, graphs of pieces, planted factions with brokers
and hubs, graph files with attributes), through the Python API and ``mapper run``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

from mapper.analysis.factions import detect_factions
from mapper.analysis.strength import component_labels, reconnected, rewired
from mapper.cli import app


def labelled(G: nx.Graph, prefix: str = "n") -> nx.Graph:
    """``G`` with string node ids and unit weights, as a graph file would give it."""
    H = nx.relabel_nodes(G, {v: f"{prefix}{v}" for v in G})
    nx.set_edge_attributes(H, 1.0, "weight")
    return H


def as_arrays(G: nx.Graph) -> tuple[int, np.ndarray, np.ndarray]:
    ends = np.array(sorted((min(a, b), max(a, b)) for a, b in G.edges), dtype=np.int64)
    return G.number_of_nodes(), ends[:, 0].copy(), ends[:, 1].copy()


# ------------------------------------------------------------------ random graphs


def forest(seed: int) -> nx.Graph:
    """Trees, a sparse random graph and a ring side by side: pieces of every shape."""
    parts = [
        nx.barabasi_albert_graph(300, 1, seed=seed),
        nx.random_labeled_tree(40, seed=seed),
        nx.gnp_random_graph(400, 1.3 / 399, seed=seed),
        nx.cycle_graph(9),
    ]
    return nx.convert_node_labels_to_integers(nx.disjoint_union_all(parts))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_graphs_of_the_test_keep_each_component_whole(seed: int) -> None:
    """The significance test's random graphs keep every degree, every weight, no
    repeated tie or self-loop, each component apart and each component in one piece
    (plain swaps break a tree-like component into a dozen)."""
    n, lo, hi = as_arrays(forest(seed))
    w = np.arange(lo.size, dtype=float) + 1.0
    groups = component_labels(n, lo, hi)
    swapped = rewired(n, lo, hi, w, seed=seed, groups=groups)
    broken = np.unique(np.stack((groups, component_labels(n, swapped[0], swapped[1]))), axis=1)
    assert broken.shape[1] > np.unique(groups).size  # the swaps alone split components
    new_lo, new_hi, new_w = reconnected(n, *swapped, groups, seed=seed)
    degree = np.bincount(lo, minlength=n) + np.bincount(hi, minlength=n)
    assert (np.bincount(new_lo, minlength=n) + np.bincount(new_hi, minlength=n) == degree).all()
    assert (new_lo < new_hi).all() and np.unique(new_lo * n + new_hi).size == lo.size
    assert sorted(new_w.tolist()) == sorted(w.tolist())
    assert (groups[new_lo] == groups[new_hi]).all()
    pieces = np.unique(np.stack((groups, component_labels(n, new_lo, new_hi))), axis=1)
    assert pieces.shape[1] == np.unique(groups).size
    again = reconnected(n, *swapped, groups, seed=seed)
    assert all((a == b).all() for a, b in zip((new_lo, new_hi, new_w), again, strict=True))
    # a random graph, not the data again
    assert not np.array_equal(new_lo * n + new_hi, lo * n + hi)


@pytest.mark.parametrize(
    ("make", "seed"),
    [
        # sparse Erdos-Renyi graphs near the percolation threshold: a tree-like giant
        # component and many small pieces (all three were called significant, z 3.2 to
        # 5.3, when the random graphs could fall apart)
        (lambda s: nx.gnp_random_graph(500, 1.5 / 499, seed=s), 101),
        (lambda s: nx.gnp_random_graph(500, 1.5 / 499, seed=s), 102),
        (lambda s: nx.gnp_random_graph(500, 1.5 / 499, seed=s), 103),
        (lambda s: nx.gnp_random_graph(1000, 1.2 / 999, seed=s), 4),
        # random trees grown by preferential attachment: hubs and one-tie accounts, the
        # shape of a mention network (z = 9 to 14 before)
        (lambda s: nx.barabasi_albert_graph(300, 1, seed=s), 0),
        (lambda s: nx.barabasi_albert_graph(300, 1, seed=s), 1),
        (lambda s: nx.barabasi_albert_graph(200, 1, seed=s), 7),
        # denser random graphs and a random regular graph
        (lambda s: nx.gnp_random_graph(150, 6 / 149, seed=s), 5),
        (lambda s: nx.random_regular_graph(3, 200, seed=s), 6),
    ],
)
def test_random_sparse_graphs_and_trees_have_no_significant_factions(make, seed: int) -> None:
    result = detect_factions(labelled(make(seed)), seed=seed, runs=3)
    assert result.significance is not None
    assert not result.significance.significant, result.significance
    assert "no-significant-structure" in [w.code for w in result.warnings]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("sizes", "p_in", "p_out"),
    [([20] * 4, 0.3, 0.01), ([30, 15, 10], 0.3, 0.02), ([50] * 5, 0.08, 0.004)],
)
def test_planted_factions_stay_significant_with_one_tie_accounts_around_them(
    sizes: list[int], p_in: float, p_out: float, seed: int
) -> None:
    """The stricter random graphs do not cost the test its power: planted factions,
    with a fringe of accounts that have a single tie each, are still found."""
    import random

    rng = random.Random(seed)
    G = nx.random_partition_graph(sizes, p_in, p_out, seed=seed)
    for j in range(len(G) // 2):
        G.add_edge(f"fringe{j}", rng.randrange(sum(sizes)))
    G = nx.relabel_nodes(G, {v: f"n{v}" for v in G})
    nx.set_edge_attributes(G, 1.0, "weight")
    result = detect_factions(G, seed=seed, runs=3)
    assert result.significance is not None and result.significance.significant
    assert result.significance.z >= 4


# ------------------------------------------------------------ brokers and hubs


def brokers_and_hubs(seed: int, k: int = 4, size: int = 30) -> tuple[nx.Graph, list, list, list]:
    """``k`` factions (pairs tied with probability 0.4), a hub per faction with 20 more
    ties at home, four brokers with 5 ties into each of two factions, and three
    members per faction with two random ties to other factions."""
    import random

    rng = random.Random(seed)
    G = nx.Graph()
    for f in range(k):
        members = [f"f{f}m{i}" for i in range(size)]
        for i in range(size):
            for j in range(i + 1, size):
                if rng.random() < 0.4:
                    G.add_edge(members[i], members[j])
        for m in rng.sample(members[1:], 20):
            G.add_edge(members[0], m)
    brokers = [f"broker{b}" for b in range(4)]
    for b, name in enumerate(brokers):
        for f in (b % k, (b + 1) % k):
            for m in rng.sample(range(1, size), 5):
                G.add_edge(name, f"f{f}m{m}")
    ordinary = []
    for f in range(k):
        for m in rng.sample(range(1, size), 3):
            ordinary.append(f"f{f}m{m}")
            for g in rng.sample([x for x in range(k) if x != f], 2):
                G.add_edge(f"f{f}m{m}", f"f{g}m{rng.randrange(1, size)}")
    return G, brokers, [f"f{f}m0" for f in range(k)], ordinary


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_brokers_rank_above_hubs_and_two_random_ties_make_no_bridge(seed: int) -> None:
    import mapper

    G, brokers, hubs, ordinary = brokers_and_hubs(seed)
    net = mapper.Network.from_graph(G, seed=seed)
    assert net.results["factions"].significance.significant
    table = net.bridges()
    rank = table["rank"].to_dict()
    assert all(table.loc[b, "is_bridge"] for b in brokers)
    assert max(rank[b] for b in brokers) <= 5
    assert not any(table.loc[h, "is_bridge"] for h in hubs)
    assert min(rank[h] for h in hubs) > max(rank[b] for b in brokers)
    home = {a: a.split("m")[0] for a in G if a.startswith("f")}
    for member in ordinary:
        outside = [n for n in G[member] if n in home and home[n] != home[member]]
        if len(outside) == 2:  # only its own two random ties out
            assert not table.loc[member, "is_bridge"], table.loc[member, "reason"]
    for b in brokers:
        assert "connects" in table.loc[b, "reason"]


# ------------------------------------------------------------------ mapper run


def graph_project(folder: Path, G: nx.Graph, fmt: str, weight: str | None = None) -> Path:
    """A project whose only source is ``G`` written as a ``fmt`` graph file."""
    folder.mkdir(parents=True, exist_ok=True)
    writers = {"gml": nx.write_gml, "graphml": nx.write_graphml, "gexf": nx.write_gexf}
    writers[fmt](G, folder / f"net.{fmt}")
    option = f'weight = "{weight}"\n' if weight else ""
    project = folder / "mapper.toml"
    project.write_text(
        "[project]\nname = 'audit'\noutput = 'out'\n"
        f"[[sources]]\ntype = 'graph'\npath = 'net.{fmt}'\n{option}"
        "[factions]\nseed = 3\n",
        encoding="utf-8",
    )
    return project


def run_cli(project: Path) -> tuple[str, dict]:
    result = CliRunner().invoke(app, ["run", str(project)])
    assert result.exit_code == 0, result.output
    summary = json.loads((project.parent / "out" / "summary.json").read_text(encoding="utf-8"))
    return result.output, summary


@pytest.mark.parametrize(
    ("fmt", "make"),
    [
        ("gml", lambda: nx.barabasi_albert_graph(250, 1, seed=11)),
        ("graphml", lambda: nx.gnp_random_graph(400, 1.5 / 399, seed=102)),
        ("gexf", lambda: nx.barabasi_albert_graph(300, 1, seed=12)),
    ],
)
def test_a_random_network_file_is_run_without_a_factions_story(
    tmp_path: Path, fmt: str, make
) -> None:
    """``mapper run`` on a random network: exit 0, the factions are said not to be
    significant in the summary line, summary.json and at the head of report.md."""
    output, summary = run_cli(graph_project(tmp_path, labelled(make(), "acct"), fmt))
    assert summary["significance"]["significant"] is False
    codes = [w["code"] for w in summary["warnings"]]
    assert "no-significant-structure" in codes
    assert "factions (not significant)" in output
    assert "community structure NOT significant" in output
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    head = report.split("## Maps")[0]
    assert "What the data can and cannot carry" in head
    assert "no significant community structure" in head
    # the factions section does not present the groups as factions
    for name in ("report.md", "report.html"):
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "interact more with each other than with the rest" not in text
        assert "not as factions the data show" in text


def karate_file() -> nx.Graph:
    """The karate club with a ground truth ``value`` per member, a ``strength`` and a
    ``value`` on every tie, and no ``weight``."""
    K = nx.karate_club_graph()
    for v in K:
        K.nodes[v]["value"] = 0 if K.nodes[v]["club"] == "Mr. Hi" else 1
    for i, (u, v) in enumerate(K.edges):
        del K[u][v]["weight"]
        K[u][v]["strength"] = float(1 + i % 3)
        K[u][v]["value"] = 2.0
    return nx.relabel_nodes(K, {v: f"member{v}" for v in K})


@pytest.mark.parametrize("fmt", ["gml", "graphml", "gexf"])
@pytest.mark.parametrize(("option", "weights"), [(None, {2.0}), ("strength", {1.0, 2.0, 3.0})])
def test_graph_files_keep_attributes_weights_and_undirected_ties(
    tmp_path: Path, fmt: str, option: str | None, weights: set[float]
) -> None:
    K = karate_file()
    output, summary = run_cli(graph_project(tmp_path, K, fmt, weight=option))
    out = tmp_path / "out"
    assert summary["actors"] == 34 and summary["ties"] == K.number_of_edges() == 78
    with open(out / "edges.csv", newline="", encoding="utf-8") as fh:
        edges = list(csv.DictReader(fh))
    assert len(edges) == 78
    assert {float(e["weight"]) for e in edges} == weights
    with open(out / "nodes.csv", newline="", encoding="utf-8") as fh:
        nodes = {row["id"] if "id" in row else row["actor"]: row for row in csv.DictReader(fh)}
    truth = nx.get_node_attributes(K, "value")
    assert {a: int(float(r["value"])) for a, r in nodes.items()} == truth
    assert {a: r["club"] for a, r in nodes.items()} == nx.get_node_attributes(K, "club")
    for written in (nx.read_gexf(out / "graph.gexf"), nx.read_graphml(out / "graph.graphml")):
        assert {a: int(d["value"]) for a, d in written.nodes(data=True)} == truth
    assert f"34 nodes, 78 undirected ties, weight from {option or 'value'}" in output


@pytest.mark.parametrize(
    ("edges", "nodes", "codes", "actors", "ties"),
    [
        ([("a", "b")], [], {"unassigned-actors", "no-factions"}, 2, 1),
        ([("a", "a"), ("b", "b")], [], {"no-ties"}, 2, 0),
        ([], ["a", "b", "c"], {"no-ties"}, 3, 0),
        (
            [(f"p{i}", f"q{i}") for i in range(30)],
            [f"s{i}" for i in range(10)],
            {"unassigned-actors", "fragmented-graph", "no-factions"},
            70,
            30,
        ),
    ],
)
def test_thin_and_broken_graphs_exit_zero_with_their_warnings(
    tmp_path: Path, edges, nodes, codes: set[str], actors: int, ties: int
) -> None:
    G = nx.Graph()
    G.add_nodes_from(nodes)
    G.add_edges_from(edges)
    output, summary = run_cli(graph_project(tmp_path, G, "gml"))
    assert summary["actors"] == actors and summary["ties"] == ties
    assert summary["factions"] == 0
    assert codes <= {w["code"] for w in summary["warnings"]}
    assert summary["bridge_figures"] == 0 and summary["opportunities"] == 0
    # the import line counts what the run keeps: a tie to oneself is left out
    loops = sum(1 for u, v in edges if u == v)
    assert f"{ties} undirected ties" in output
    assert (f"{loops} self-loops left out" in output) == bool(loops)


def test_separate_cliques_are_said_to_be_the_graphs_pieces(tmp_path: Path) -> None:
    cliques = nx.disjoint_union_all([nx.complete_graph(n) for n in (6, 7, 8, 6, 9)])
    _, summary = run_cli(graph_project(tmp_path, labelled(cliques), "graphml"))
    assert summary["factions"] == 5
    assert summary["components"]["count"] == 5
    codes = {w["code"] for w in summary["warnings"]}
    assert {"factions-equal-components", "no-significant-structure"} <= codes


# ---------------------------------------------------------------------- alliances


def alliance_posts(folder: Path, seed: int) -> Path:
    """Four groups of 15 accounts who mention each other. Groups P and Q never
    interact but 12 members of each post about the same three issues; one loud
    member of R repeats S's three issues 60 times (S's members use them widely) and
    R and S never interact either; P-R and Q-S have a few ordinary ties."""
    import random

    rng = random.Random(seed)
    groups = {g: [f"{g.lower()}{i:02d}" for i in range(15)] for g in "PQRS"}
    rows: list[dict[str, str]] = []

    def post(author: str, text: str) -> None:
        n = len(rows) + 1
        when = f"2016-07-{1 + n % 28:02d}T12:00:00+00:00"
        rows.append({"id": f"p{n}", "platform": "x", "author": author, "created_at": when})
        rows[-1]["text"] = text

    for members in groups.values():
        for a in members:
            for b in rng.sample([m for m in members if m != a], 5):
                post(a, f"talking with @{b} today")
    for g in "PQ":
        for a in groups[g][:12]:
            tags = rng.sample(["#housing", "#climate", "#electoralreform"], 2)
            post(a, "we need action on " + " ".join(tags))
    for _ in range(60):
        post(groups["R"][0], "again: #tax #nhs #wages")
    for a in groups["S"][:12]:
        post(a, "on " + " ".join(rng.sample(["#tax", "#nhs", "#wages"], 2)))
    for _ in range(6):
        post(rng.choice(groups["P"]), f"hello @{rng.choice(groups['R'])}")
        post(rng.choice(groups["Q"]), f"hello @{rng.choice(groups['S'])}")
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "posts.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    project = folder / "mapper.toml"
    project.write_text(
        "[project]\nname = 'alliances'\noutput = 'out'\n"
        "[[sources]]\ntype = 'posts-csv'\npath = 'posts.csv'\n[factions]\nseed = 2\n",
        encoding="utf-8",
    )
    return project


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shared_issues_across_many_actors_rank_first_and_a_loud_account_makes_none(
    tmp_path: Path, seed: int
) -> None:
    _, summary = run_cli(alliance_posts(tmp_path, seed))
    assert summary["factions"] == 4 and summary["significance"]["significant"]
    assert summary["opportunities"] == 1
    with open(tmp_path / "out" / "alliances.csv", newline="", encoding="utf-8") as fh:
        pairs = [r for r in csv.DictReader(fh) if r["row_type"] != "introduction"]

    def side(row: dict[str, str], key: str) -> str:
        return row[f"{key}_name"].lstrip("'")[1]  # '@p03, ... -> p

    first = pairs[0]
    assert first["status"] == "opportunity"
    assert {side(first, "faction_a"), side(first, "faction_b")} == {"p", "q"}
    assert int(first["ties"]) == 0
    assert set(first["shared"].split("; ")) == {"#housing", "#climate", "#electoralreform"}
    loud = [r for r in pairs if {side(r, "faction_a"), side(r, "faction_b")} == {"r", "s"}]
    assert loud and all(r["status"] == "too-thin" for r in loud)
    assert "1 and" in loud[0]["reason"]  # one member of R uses the issue
