"""The factions' significance test on random graphs: how often it calls them
structured, and what it costs.

Part 1 draws sparse random graphs (Erdos-Renyi at mean degree 1.5 and 2.5, random
trees grown by preferential attachment) and counts how many ``detect_factions``
calls significant: none should be. Part 2 times the test alone (CPU seconds, one
process) on three larger graphs: a sparse random graph, a random tree and a denser
random graph.

    python benchmarks/significance_null.py [--seeds 60] [--json]
"""

from __future__ import annotations

import argparse
import json
import time

import networkx as nx
import numpy as np

from mapper.analysis import factions as F
from mapper.analysis.strength import component_labels


def _labelled(G: nx.Graph) -> nx.Graph:
    H = nx.relabel_nodes(G, {v: f"n{v}" for v in G})
    nx.set_edge_attributes(H, 1.0, "weight")
    return H


def false_positives(seeds: int) -> dict[str, dict[str, float]]:
    makers = {
        "erdos-renyi 500, mean degree 1.5": lambda s: nx.gnp_random_graph(500, 1.5 / 499, seed=s),
        "erdos-renyi 300, mean degree 2.5": lambda s: nx.gnp_random_graph(300, 2.5 / 299, seed=s),
        "preferential-attachment tree, 200": lambda s: nx.barabasi_albert_graph(200, 1, seed=s),
    }
    out = {}
    for name, make in makers.items():
        zs, hits = [], 0
        for s in range(seeds):
            result = F.detect_factions(_labelled(make(1000 + s)), seed=s, runs=2)
            zs.append(result.significance.z or 0.0)
            hits += bool(result.significance.significant)
        out[name] = {
            "graphs": seeds,
            "significant": hits,
            "mean_z": round(float(np.mean(zs)), 2),
            "sd_z": round(float(np.std(zs)), 2),
        }
    return out


def cost() -> dict[str, dict[str, float]]:
    import igraph as ig

    ig.set_random_number_generator(__import__("random").Random(0))
    graphs = {
        "erdos-renyi 100,000 nodes, 150,000 ties": ig.Graph.Erdos_Renyi(n=100_000, m=150_000),
        "preferential-attachment tree, 100,000 nodes": ig.Graph.Barabasi(100_000, 1),
        "erdos-renyi 20,000 nodes, 200,000 ties": ig.Graph.Erdos_Renyi(n=20_000, m=200_000),
    }
    out = {}
    for name, g in graphs.items():
        G = nx.Graph()
        G.add_edges_from((f"n{a}", f"n{b}", {"weight": 1.0}) for a, b in g.get_edgelist())
        proj = F._project(G, "weight")
        groups = component_labels(proj.n, proj.lo, proj.hi)
        start = time.process_time()
        sig, _ = F._significance_test(
            proj,
            groups,
            resolution=1.0,
            seed=1,
            samples=F.SIGNIFICANCE_SAMPLES,
            budget=F.SIGNIFICANCE_BUDGET,
            n_jobs=1,
        )
        out[name] = {
            "cpu_s": round(time.process_time() - start, 2),
            "samples": sig.samples,
            "z": round(float(sig.z or 0.0), 2),
            "significant": bool(sig.significant),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {"false_positives": false_positives(args.seeds), "cost": cost()}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for part, rows in results.items():
        print(part)
        for name, row in rows.items():
            print(f"  {name}: {row}")


if __name__ == "__main__":
    main()
