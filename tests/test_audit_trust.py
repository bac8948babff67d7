"""Issue 12 checked as an outside reviewer would: new graphs with known answers
(sparse random graphs, random trees, graphs of pieces, planted factions with brokers
and hubs, graph files with attributes), through the Python API and ``mapper run``."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from mapper.analysis.factions import detect_factions
from mapper.analysis.strength import component_labels, reconnected, rewired


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
