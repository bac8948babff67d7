"""Benchmark the bridge list on planted influence graphs of 10,000 and 100,000 actors.

Generates a directed, weighted graph (numpy-vectorised, seeded): ``--nodes`` actors in
``--factions`` equal factions, about ``--degree`` arcs per actor (in + out), of which a
fraction ``--cross`` joins two factions. Activity (how many ties an actor has) is
heavy-tailed, and cross-faction ties concentrate on a heavy-tailed minority of
"bridging" actors, as in real mention networks, so the bridge ranking has a true top.
A quarter of the arcs are reciprocated; weights are small integers (repeated mentions).

Then it times :func:`mapper.analysis.bridges.bridge_figures` end to end, and each
measure separately (reading the graph, participation and z, betweenness alone and
with the cross-faction betweenness, triangles, constraint and effective size,
brokerage, one round of the ties test), then
:func:`mapper.analysis.alliances.alliance_report` (actors carry synthetic topics: their
faction's issue, an issue shared by pairs of factions, a hashtag everyone uses and a
random one), and prints seconds per step.

With ``--compare`` (meant for 10,000 actors) it also measures how well cheaper
betweenness computations find the true top actors: the top-20 overlap of exact
betweenness (igraph) with networkx's sampled estimator (``k=500`` pivots) and with
this module's ``"reduced"`` method (exact betweenness inside the candidate subgraph).

Examples::

    python benchmarks/bridges_scale.py --nodes 100000 --factions 100
    python benchmarks/bridges_scale.py --nodes 10000 --factions 20 --compare
    python benchmarks/bridges_scale.py --nodes 10000 --factions 10 --compare --uniform
    python benchmarks/bridges_scale.py --nodes 10000 100000 --json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mapper.analysis import alliances, bridges


def _sample_within(
    rng: np.random.Generator,
    factions: np.ndarray,
    weights: np.ndarray,
    wanted: np.ndarray,
) -> np.ndarray:
    """For each entry of ``wanted`` (a faction), draw a member with prob. ∝ ``weights``."""
    order = np.argsort(factions, kind="stable")
    cum = np.cumsum(weights[order])
    counts = np.bincount(factions, minlength=int(factions.max()) + 1)
    ends = np.cumsum(counts)
    starts = ends - counts
    lo = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    hi = cum[ends - 1]
    u = lo[wanted] + rng.random(len(wanted)) * (hi[wanted] - lo[wanted])
    pos = np.searchsorted(cum, u, side="right")
    pos = np.clip(pos, starts[wanted], ends[wanted] - 1)
    return order[pos]


def planted_arcs(
    nodes: int,
    factions: int,
    *,
    degree: float = 20.0,
    cross: float = 0.2,
    reciprocity: float = 0.25,
    uniform: bool = False,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(src, dst, weight, truth)`` of a planted influence graph (see module doc).

    With ``uniform=True`` every actor is equally active and equally likely to have
    cross-faction ties (a plain planted partition: no true top brokers to find).
    """
    rng = np.random.default_rng(seed)
    truth = rng.permutation(np.arange(nodes) % factions)
    if uniform:
        activity = np.ones(nodes)
        bridging = np.ones(nodes)
    else:
        activity = rng.pareto(2.5, nodes) + 1.0
        bridging = activity * (rng.pareto(1.5, nodes) + 0.05)
    target = int(nodes * degree / 2 / (1 + reciprocity))
    n_cross = int(target * cross)
    n_in = target - n_cross
    cum = np.cumsum(activity)
    s_in = np.searchsorted(cum, rng.random(n_in) * cum[-1], side="right")
    d_in = _sample_within(rng, truth, activity, truth[s_in])
    cumb = np.cumsum(bridging)
    s_x = np.searchsorted(cumb, rng.random(n_cross) * cumb[-1], side="right")
    f_x = (truth[s_x] + rng.integers(1, max(factions, 2), n_cross)) % factions
    d_x = _sample_within(rng, truth, bridging, f_x)
    src = np.concatenate([s_in, s_x])
    dst = np.concatenate([d_in, d_x])
    back = rng.random(len(src)) < reciprocity
    src, dst = np.concatenate([src, dst[back]]), np.concatenate([dst, src[back]])
    keep = src != dst
    key = np.unique(src[keep].astype(np.int64) * nodes + dst[keep])
    src, dst = key // nodes, key % nodes
    weight = rng.geometric(0.5, len(src)).astype(float)
    return src, dst, weight, truth


def planted_graph(nodes: int, factions: int, **kwargs: Any) -> tuple[nx.DiGraph, dict[str, int]]:
    """The planted graph as a networkx ``DiGraph`` like mapper builds, and its partition."""
    src, dst, weight, truth = planted_arcs(nodes, factions, **kwargs)
    ids = [f"a{i}" for i in range(nodes)]
    # topics: the faction's own issue, an issue shared by factions 2j and 2j + 1, the
    # hashtag everyone uses and one of 50 random hashtags
    rng = np.random.default_rng(kwargs.get("seed", 0) + 1)
    tags = rng.integers(0, 50, nodes).tolist()
    counts = rng.integers(1, 4, nodes).tolist()
    G = nx.DiGraph()
    G.add_nodes_from(
        (
            v,
            {
                "label": f"Actor {i}",
                "kind": "commentator",
                "topics": {
                    f"issue:own{f}": counts[i],
                    f"issue:shared{f // 2}": 1,
                    "#brexit": 1,
                    f"#tag{tags[i]}": 1,
                },
            },
        )
        for i, (v, f) in enumerate(zip(ids, truth.tolist(), strict=True))
    )
    evidence = [{"post": "x:1", "type": "mention", "url": "https://example.org/1", "snippet": "…"}]
    G.add_edges_from(
        (ids[u], ids[v], {"weight": w, "count": int(w), "mention": int(w), "evidence": evidence})
        for u, v, w in zip(src.tolist(), dst.tolist(), weight.tolist(), strict=True)
    )
    return G, {v: int(truth[i]) for i, v in enumerate(ids)}


def _timed(label: str, times: dict[str, float], fn: Any, *args: Any, **kwargs: Any) -> Any:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    times[label] = round(time.perf_counter() - t0, 3)
    return out


def run_scale(nodes: int, factions: int, args: argparse.Namespace) -> dict[str, Any]:
    """Time every bridge measure and the full bridge list on one planted graph."""
    t0 = time.perf_counter()
    G, partition = planted_graph(
        nodes, factions, degree=args.degree, cross=args.cross, uniform=args.uniform, seed=args.seed
    )
    build = time.perf_counter() - t0
    times: dict[str, float] = {}
    arrays = _timed("read graph", times, bridges._arrays, G, "weight")
    code, fid = bridges._assigned_codes(arrays, partition)
    k = len(fid)
    kf = _timed("faction strengths", times, bridges._faction_strength, arrays, code, k)
    _timed("participation", times, bridges._participation_array, kf)
    _timed("within-faction z", times, bridges._within_z_array, kf, code, k)
    strength = np.asarray(kf.sum(axis=1)).ravel()
    inside = np.asarray(kf[np.arange(arrays.n), code]).ravel()
    cand = np.lexsort((np.arange(arrays.n), -strength, -(strength - inside)))
    _, method = _timed(
        "betweenness",
        times,
        bridges._betweenness_array,
        arrays,
        args.max_exact_nodes,
        args.reduced_nodes,
        cand if arrays.n > args.max_exact_nodes else None,
    )
    _timed(
        "betweenness + cross-faction",
        times,
        bridges._betweenness_pair,
        arrays,
        args.max_exact_nodes,
        args.reduced_nodes,
        cand if arrays.n > args.max_exact_nodes else None,
        None,
        code,
    )
    tri = _timed("triangles", times, bridges._triangles, arrays.sym)
    _timed("constraint + effective size", times, bridges._structural_holes, arrays.sym, tri)
    _timed("brokerage", times, bridges._brokerage_array, arrays, code, k, tri)
    binary = arrays.sym.copy()
    binary.data[:] = 1.0
    _timed("ties test (one round)", times, bridges._tie_tests, binary, arrays.sym, code, k)
    rows = _timed(
        "bridge_figures (total)",
        times,
        bridges.bridge_figures,
        G,
        partition,
        max_exact_nodes=args.max_exact_nodes,
        reduced_nodes=args.reduced_nodes,
    )
    report = _timed("alliance_report", times, alliances.alliance_report, G, partition)
    return {
        "nodes": nodes,
        "factions": factions,
        "opportunities": len(report["opportunities"]),
        "introductions": len(report["introductions"]),
        "edges": G.number_of_edges(),
        "triangles": len(tri),
        "betweenness_method": method,
        "bridges": sum(r["is_bridge"] for r in rows),
        "build_graph_s": round(build, 2),
        "seconds": times,
    }


def _top(values: dict[Any, float], k: int) -> list[Any]:
    return [v for v, _ in sorted(values.items(), key=lambda t: (-t[1], str(t[0])))[:k]]


def run_compare(nodes: int, factions: int, args: argparse.Namespace) -> dict[str, Any]:
    """Top-20 overlap of exact betweenness with sampled (networkx) and reduced methods."""
    G, partition = planted_graph(
        nodes, factions, degree=args.degree, cross=args.cross, uniform=args.uniform, seed=args.seed
    )
    out: dict[str, Any] = {"nodes": nodes, "edges": G.number_of_edges()}
    t0 = time.perf_counter()
    exact, method = bridges.betweenness(G, max_exact_nodes=nodes)
    out["exact_s"] = round(time.perf_counter() - t0, 2)
    assert method == "exact"
    truth20 = set(_top(exact, 20))
    truth10 = set(_top(exact, 10))

    H = nx.Graph()
    H.add_nodes_from(G)
    for u, v, w in G.edges(data="weight"):
        if H.has_edge(u, v):
            H[u][v]["weight"] += w
        else:
            H.add_edge(u, v, weight=w)
    for _, _, d in H.edges(data=True):
        d["distance"] = 1.0 / d["weight"]
    t0 = time.perf_counter()
    sampled = nx.betweenness_centrality(H, k=args.pivots, weight="distance", seed=args.seed)
    out["sampled_s"] = round(time.perf_counter() - t0, 2)
    out["sampled_k"] = args.pivots
    out["sampled_top20_overlap"] = len(truth20 & set(_top(sampled, 20)))
    out["sampled_top10_overlap"] = len(truth10 & set(_top(sampled, 10)))

    for size in (1000, 2500):
        t0 = time.perf_counter()
        reduced, method = bridges.betweenness(G, max_exact_nodes=0, reduced_nodes=size)
        out[f"reduced{size}_s"] = round(time.perf_counter() - t0, 2)
        out[f"reduced{size}_top20_overlap"] = len(truth20 & set(_top(reduced, 20)))
        out[f"reduced{size}_top10_overlap"] = len(truth10 & set(_top(reduced, 10)))
    # as bridge_figures does it: candidates are the actors with most cross-faction weight
    t0 = time.perf_counter()
    rows = bridges.bridge_figures(G, partition, max_exact_nodes=0)
    out["bridge_figures_reduced_s"] = round(time.perf_counter() - t0, 2)
    bt = {r["actor"]: r["betweenness"] for r in rows}
    out["bridge_figures_reduced_top20_overlap"] = len(truth20 & set(_top(bt, 20)))
    out["bridge_figures_reduced_top10_overlap"] = len(truth10 & set(_top(bt, 10)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--factions", type=int, default=None, help="default: nodes / 1000")
    parser.add_argument("--degree", type=float, default=20.0)
    parser.add_argument("--cross", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--uniform", action="store_true", help="equal activity for all (plain planted partition)"
    )
    parser.add_argument("--max-exact-nodes", type=int, default=bridges.MAX_EXACT_NODES)
    parser.add_argument("--reduced-nodes", type=int, default=bridges.REDUCED_NODES)
    parser.add_argument("--compare", action="store_true", help="exact vs sampled vs reduced")
    parser.add_argument("--pivots", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)

    results = []
    for nodes in args.nodes:
        factions = args.factions or max(2, nodes // 1000)
        res = run_scale(nodes, factions, args)
        if args.compare:
            res["compare"] = run_compare(nodes, factions, args)
        results.append(res)
        if not args.json:
            print(
                f"{res['nodes']} actors, {res['edges']} edges, {factions} factions, "
                f"{res['triangles']} triangles; betweenness {res['betweenness_method']}; "
                f"{res['bridges']} bridges (graph built in {res['build_graph_s']} s)"
            )
            for label, secs in res["seconds"].items():
                print(f"  {label:<30} {secs:8.2f} s")
            if args.compare:
                print("  compare:", json.dumps(res["compare"]))
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
