"""Factions: find the groups of actors who mostly talk to each other, say how stable
they are, name them and show where declared factions split.

Community detection runs on the undirected projection of the influence graph, where
the weight of a tie is the sum of both directions (``u -> v`` plus ``v -> u``; never
``DiGraph.to_undirected()``, which keeps one direction). The default algorithm is
Leiden (igraph's C implementation, modularity objective), run several times with
consecutive seeds; the run with the highest modularity becomes the partition, the
other runs measure how stable each actor's assignment is. Everything is sorted before
it reaches an algorithm, so a given seed gives the same factions whatever order the
nodes and edges were inserted in.

Public API: :func:`detect_factions`, :func:`resolution_sweep`, :func:`name_factions`,
:func:`faction_summaries`, :func:`fault_lines`, :func:`apply_factions`,
:func:`write_factions_csv`, :func:`write_factions_md` and :class:`FactionResult`.
"""

from __future__ import annotations

import csv
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from mapper.analysis.strength import (
    MIN_COMPONENT_SIZE,
    MIN_DECLARED_WITH_TIES,
    MIN_TIES_PER_ACTOR,
    SIGNIFICANCE_ALPHA,
    SIGNIFICANCE_MIN_SAMPLES,
    SIGNIFICANCE_SAMPLES,
    SIGNIFICANCE_STEP,
    ComponentSummary,
    EvidenceWarning,
    Significance,
    component_labels,
    group_concentration,
    reconnected,
    rewired,
    settled,
    significance,
    summarise_components,
    tie_alignment,
    warning,
)
from mapper.errors import AnalysisError
from mapper.fsutil import atomic_open, write_text
from mapper.parallel import cpu_count, fork_map

__all__ = [
    "DEFAULT_RUN_BUDGET",
    "METHODS",
    "UNASSIGNED",
    "FactionResult",
    "apply_factions",
    "detect_factions",
    "faction_summaries",
    "fault_line_warnings",
    "fault_lines",
    "name_factions",
    "resolution_for_factions",
    "resolution_sweep",
    "write_factions_csv",
    "write_factions_md",
]

#: Methods accepted by :func:`detect_factions`.
METHODS = ("leiden", "leidenalg", "louvain", "louvain-networkx")

#: Default cap on ``runs x ties`` (undirected ties of the projection). Above it the
#: number of runs is reduced, never below 2. Measured with
#: ``benchmarks/factions_planted.py`` (100,000 actors, 1,000,000 ties, 2 cores shared
#: with other jobs, load about 2.5): the whole stage takes 8.6-9.0 s with 2 runs in
#: 2 processes, 10.2 s with 2 runs in one, 9.8 s with 3 runs and 20 s with 5 runs.
DEFAULT_RUN_BUDGET = 2_000_000

#: With ``n_jobs=None``, runs go to parallel processes from this many ties on.
_PARALLEL_MIN_TIES = 200_000
#: ... and the significance test's random graphs from this many.
_PARALLEL_SAMPLES_MIN_TIES = 20_000
#: From this many ties on, the significance test may stop drawing random graphs once
#: its verdict is settled (:func:`mapper.analysis.strength.settled`); below it every
#: planned graph is drawn (they cost milliseconds), so that the empirical p-value can
#: reach its floor (1/21 with 20 graphs) and small networks read as they always did.
_EARLY_STOP_MIN_TIES = 20_000

#: ``faction_name`` of the actors no faction is claimed for.
UNASSIGNED = "unassigned"

#: A declared faction whose largest detected share is below this is reported split.
SPLIT_THRESHOLD = 0.75

#: Cap on ``samples x runs x ties`` for the significance test; above it fewer random
#: graphs are drawn (never fewer than ``_MIN_SAMPLES``) and a note says so.
SIGNIFICANCE_BUDGET = 2_000_000
#: Leiden iterations of the significance test's fixed procedure (data and random
#: graphs alike). Measured on a 2,000-actor random graph: 2 iterations take 0.04 s,
#: iterating to convergence 0.24-0.76 s for a modularity 0.01 higher, the same on
#: both sides of the comparison.
_TEST_ITERATIONS = 2
#: Up to this many ties the random graphs get 10 swap attempts per tie, above it 3
#: (each round of swaps sorts the tie list: about 0.3 s a round at 1M ties).
_FULL_SWAPS_TIES = 200_000
#: Runs per resolution tried when searching the resolution for a number of factions.
_SEARCH_RUNS = 3
_MIN_SAMPLES = 3
#: A faction whose mean stability is below this is reported unstable.
UNSTABLE_COHESION = 0.5
#: Below this modularity, significant structure is still called weak.
WEAK_MODULARITY = 0.3

# Leiden runs first at this multiple of the requested resolution for one iteration,
# then at the requested resolution until an iteration no longer improves modularity,
# starting from that finer partition. Measured on a 100k-node planted graph (100
# factions, 40% of ties across): cold start needs ~8 s and merges true factions (NMI
# 0.987); this coarse-to-fine start needs ~4.5 s and reaches NMI 0.994-0.9997. On an
# LFR graph (5,000 nodes, mixing 0.5) it raised the mean modularity over 8 seeds from
# 0.3135 to 0.3217 and NMI from 0.57 to 0.65; on the karate club and Les Misérables
# both starts reach the proven optimum with every seed tried (20).
_FINE_FACTOR = 2.0


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class FactionResult:
    """The factions found in a graph.

    Attributes
    ----------
    partition : dict
        Actor id -> faction id. Faction ids are ``0..k-1`` by size descending, ties
        broken by the smallest member id (in sorted order).
    names : dict
        Faction id -> display name (see :func:`name_factions`).
    stability : dict
        Actor id -> fraction of runs in which the actor landed with the plurality of
        its faction, in ``[0, 1]`` (see :func:`detect_factions`).
    cohesion : dict
        Faction id -> mean stability of its members, in ``[0, 1]``.
    modularity : float
        Weighted modularity (resolution 1) of ``partition`` on the undirected
        projection; 0.0 for a graph without ties.
    method : str
        The implementation that ran: ``"leiden"``, ``"leidenalg"``, ``"louvain"``
        (python-louvain) or ``"louvain-networkx"``.
    resolution : float
        The resolution parameter used.
    seed : int
        The first seed; run ``i`` used ``seed + i``.
    runs : int
        Number of runs actually done (may be lower than requested, see ``notes``).
    notes : tuple of str
        Sentences on anything a reader should know: runs reduced, ties dropped,
        routing to another implementation, the resolution search.
    unassigned : tuple
        Actors (sorted) in connected components smaller than ``min_component``,
        isolated actors included: no faction is claimed for them and they are not in
        ``partition``.
    components : ComponentSummary or None
        The connected components of the graph (directions ignored).
    significance : Significance or None
        The partition's modularity against degree-preserving random graphs (see
        :func:`detect_factions`); ``None`` when not tested.
    warnings : tuple of EvidenceWarning
        What the data cannot carry (see :mod:`mapper.analysis.strength`).
    requested_factions : int or None
        The number of factions asked for (``factions=K``), if any.
    """

    partition: dict[Hashable, int]
    names: dict[int, str]
    stability: dict[Hashable, float]
    cohesion: dict[int, float]
    modularity: float
    method: str
    resolution: float
    seed: int
    runs: int
    notes: tuple[str, ...] = field(default=())
    unassigned: tuple[Hashable, ...] = field(default=())
    components: ComponentSummary | None = None
    significance: Significance | None = None
    warnings: tuple[EvidenceWarning, ...] = field(default=())
    requested_factions: int | None = None

    @property
    def significant(self) -> bool | None:
        """Whether the community structure is significant (``None``: not tested)."""
        return None if self.significance is None else self.significance.significant

    @property
    def n_factions(self) -> int:
        """Number of factions."""
        return len(self.cohesion)

    def communities(self) -> list[set[Hashable]]:
        """Return the factions as a list of sets of actor ids, indexed by faction id."""
        out: list[set[Hashable]] = [set() for _ in range(self.n_factions)]
        for actor, fid in self.partition.items():
            out[fid].add(actor)
        return out

    def members(self, faction: int) -> list[Hashable]:
        """Return the members of one faction in partition order (sorted actor ids)."""
        return [a for a, f in self.partition.items() if f == faction]


# ----------------------------------------------------------------------- projection


@dataclass(frozen=True)
class _Projection:
    """Undirected projection as arrays: node ``i`` is ``nodes[i]`` (sorted); tie ``j``
    joins ``lo[j] < hi[j]`` with weight ``w[j] > 0``; ties sorted by ``(lo, hi)``."""

    nodes: list[Hashable]
    index: dict[Hashable, int]
    lo: np.ndarray
    hi: np.ndarray
    w: np.ndarray
    strength: np.ndarray
    dropped_zero: int
    dropped_loops: int

    @property
    def n(self) -> int:
        return len(self.nodes)

    @property
    def m(self) -> int:
        return len(self.w)


def _sorted_nodes(nodes: Iterable[Hashable]) -> list[Hashable]:
    """Sort node ids; mixed, unorderable types fall back to (type name, repr)."""
    nodes = list(nodes)
    try:
        return sorted(nodes)
    except TypeError:
        return sorted(nodes, key=lambda u: (type(u).__name__, repr(u)))


def _edge_arrays(
    G: nx.Graph, weight: str | None, index: dict[Hashable, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(source index, target index, weight)`` arrays, one entry per edge of
    ``G`` (each undirected edge once, each parallel edge separately), validated."""
    get = index.__getitem__
    src: list[int] = []
    dst: list[int] = []
    raw: list[Any] = []
    for u, nbrs in G.adj.items():
        iu = get(u)
        if G.is_multigraph():
            for v, keyed in nbrs.items():
                iv = get(v)
                for data in keyed.values():
                    src.append(iu)
                    dst.append(iv)
                    raw.append(1.0 if weight is None else data.get(weight, 1.0))
        else:
            src.extend([iu] * len(nbrs))
            dst.extend(map(get, nbrs))
            if weight is None:
                raw.extend([1.0] * len(nbrs))
            else:
                raw.extend([data.get(weight, 1.0) for data in nbrs.values()])
    a = np.array(src, dtype=np.int64)
    b = np.array(dst, dtype=np.int64)
    if not G.is_directed():
        once = a <= b  # undirected adjacency lists every edge from both ends
        a, b, raw = (
            a[once],
            b[once],
            [x for x, keep in zip(raw, once.tolist(), strict=True) if keep],
        )
    try:
        w = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(
            f"an edge weight is not a number ({exc})",
            field=weight,
            hint="edge weights must be numbers >= 0; pass weight=None to ignore them",
        ) from None
    if w.ndim != 1:
        raise AnalysisError("an edge weight is not a number", field=weight)
    if not np.all(np.isfinite(w)):
        raise AnalysisError("an edge weight is not finite (NaN or infinity)", field=weight)
    if np.any(w < 0):
        bad = int(np.argmax(w < 0))
        raise AnalysisError(
            f"negative edge weight {w[bad]!r} on {_node_at(index, a[bad])!r} -> "
            f"{_node_at(index, b[bad])!r}",
            field=weight,
            hint="modularity needs weights >= 0",
        )
    return a, b, w


def _node_at(index: dict[Hashable, int], i: int) -> Hashable:
    return next(u for u, j in index.items() if j == i)


def _project(G: nx.Graph, weight: str | None) -> _Projection:
    """Build the undirected projection of ``G`` (any networkx graph type).

    Weights of ``u -> v``, ``v -> u`` and parallel edges are summed (in sorted order,
    so the float sum does not depend on insertion order). A missing attribute counts
    as 1; ``weight=None`` counts every edge as 1. Self-loops and ties whose summed
    weight is 0 are dropped. Negative, non-finite or non-numeric weights raise.
    """
    if G.number_of_nodes() == 0:
        raise AnalysisError(
            "the graph has no actors", hint="check the filters and the input of the graph stage"
        )
    nodes = _sorted_nodes(G)
    index = {u: i for i, u in enumerate(nodes)}
    n = len(nodes)
    m = G.number_of_edges()
    empty_i = np.zeros(0, dtype=np.int64)
    if m == 0:
        return _Projection(
            nodes,
            index,
            empty_i,
            empty_i,
            np.zeros(0),
            np.zeros(n),
            dropped_zero=0,
            dropped_loops=0,
        )
    a, b, w = _edge_arrays(G, weight, index)
    lo = np.minimum(a, b)
    hi = np.maximum(a, b)
    keep = lo != hi
    loops = int(m - np.count_nonzero(keep))
    key = lo[keep] * n + hi[keep]
    w = w[keep]
    order = np.lexsort((w, key))
    key, w = key[order], w[order]
    if key.size:
        uniq, start = np.unique(key, return_index=True)
        wsum = np.add.reduceat(w, start)
    else:
        uniq, wsum = empty_i, np.zeros(0)
    positive = wsum > 0
    zero = int(uniq.size - np.count_nonzero(positive))
    uniq, wsum = uniq[positive], wsum[positive]
    lo, hi = uniq // n, uniq % n
    strength = np.bincount(lo, wsum, minlength=n) + np.bincount(hi, wsum, minlength=n)
    return _Projection(nodes, index, lo, hi, wsum, strength, zero, loops)


def _undirected(G: nx.Graph, weight: str | None = "weight") -> nx.Graph:
    """Return the undirected projection of ``G`` as an ``nx.Graph``.

    Nodes are inserted in sorted order, edges sorted by their endpoints' positions;
    the summed weight is stored under ``"weight"``. Node attributes are not copied.
    """
    return _projection_graph(_project(G, weight))


def _projection_graph(proj: _Projection) -> nx.Graph:
    H = nx.Graph()
    H.add_nodes_from(proj.nodes)
    nodes = proj.nodes
    H.add_weighted_edges_from(
        (nodes[u], nodes[v], w)
        for u, v, w in zip(proj.lo.tolist(), proj.hi.tolist(), proj.w.tolist(), strict=True)
    )
    return H


# ----------------------------------------------------------------------- algorithms


def _igraph(proj: _Projection) -> Any:
    import igraph as ig

    flat = iter(np.column_stack((proj.lo, proj.hi)).ravel().tolist())
    return ig.Graph(n=proj.n, edges=list(zip(flat, flat, strict=True)), directed=False)


class _Runner:
    """Runs one method on one projection, converting the graph once."""

    def __init__(self, proj: _Projection, method: str) -> None:
        self.proj = proj
        self.method = method
        self._graph: Any = None
        self._weights = proj.w.tolist()

    def graph(self) -> Any:
        if self._graph is None:
            if self.method in ("leiden", "leidenalg"):
                self._graph = _igraph(self.proj)
            else:
                self._graph = _projection_graph(self.proj)
        return self._graph

    def run(self, resolution: float, seed: int) -> np.ndarray:
        """Return a membership array (one label per node index) for one seed."""
        g = self.graph()
        proj = self.proj
        if self.method == "leiden":
            import igraph as ig

            ig.set_random_number_generator(random.Random(seed))
            try:
                fine = g.community_leiden(
                    objective_function="modularity",
                    weights=self._weights,
                    resolution=resolution * _FINE_FACTOR,
                    n_iterations=1,
                )
                cl = g.community_leiden(
                    objective_function="modularity",
                    weights=self._weights,
                    resolution=resolution,
                    n_iterations=-1,
                    initial_membership=fine.membership,
                )
            finally:
                ig.set_random_number_generator(random)
            return np.asarray(cl.membership, dtype=np.int64)
        if self.method == "leidenalg":
            import leidenalg

            part = leidenalg.find_partition(
                g,
                leidenalg.RBConfigurationVertexPartition,
                weights=self._weights,
                resolution_parameter=resolution,
                n_iterations=-1,
                seed=seed,
            )
            return np.asarray(part.membership, dtype=np.int64)
        if self.method == "louvain":
            import community as community_louvain

            part = community_louvain.best_partition(g, weight="weight", random_state=seed)
            return np.fromiter((part[u] for u in proj.nodes), dtype=np.int64, count=proj.n)
        if self.method == "louvain-networkx":
            comms = nx.community.louvain_communities(
                g, weight="weight", resolution=resolution, seed=seed
            )
            member = np.empty(proj.n, dtype=np.int64)
            for label, comm in enumerate(comms):
                member[[proj.index[u] for u in comm]] = label
            return member
        raise AssertionError(self.method)  # pragma: no cover - validated earlier


def _auto_jobs(ties: int) -> int:
    return cpu_count() if ties >= _PARALLEL_MIN_TIES else 1


def _all_runs(runner: _Runner, resolution: float, seeds: list[int], jobs: int) -> list[np.ndarray]:
    """Membership of every seed, in seed order, over ``jobs`` processes
    (:func:`mapper.parallel.fork_map`). Each run seeds its own generator, so the
    memberships are the same whatever ``jobs`` is."""
    if min(jobs, len(seeds)) > 1:
        runner.graph()  # convert once, before forking, so children share it
    return fork_map(lambda seed: runner.run(resolution, seed), seeds, jobs)


def _split_disconnected(proj: _Projection, membership: np.ndarray) -> np.ndarray:
    """Split every community into its connected parts; relabel by first node index.

    Splitting a disconnected community never lowers modularity (it removes no
    internal tie and shrinks the degree term), and Louvain can return such
    communities. Labels come out as ``0, 1, ...`` in order of each community's
    smallest node index.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    inside = membership[proj.lo] == membership[proj.hi]
    n = proj.n
    adj = coo_matrix(
        (np.ones(int(inside.sum()), dtype=np.int8), (proj.lo[inside], proj.hi[inside])),
        shape=(n, n),
    ).tocsr()
    _, labels = connected_components(adj, directed=False)
    return _first_occurrence_labels(labels)


def _first_occurrence_labels(labels: np.ndarray) -> np.ndarray:
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[inverse.ravel()]


def _modularity(proj: _Projection, membership: np.ndarray, resolution: float = 1.0) -> float:
    """Weighted modularity of ``membership`` on the projection (0.0 without ties)."""
    total = float(proj.w.sum())
    if total <= 0:
        return 0.0
    k = int(membership.max()) + 1
    cu = membership[proj.lo]
    inside = cu == membership[proj.hi]
    internal = float(proj.w[inside].sum())
    tot = np.bincount(membership, weights=proj.strength, minlength=k)
    return internal / total - resolution * float(np.sum((tot / (2.0 * total)) ** 2))


def _by_size(membership: np.ndarray) -> np.ndarray:
    """Relabel 0..k-1 by size descending, ties by smallest member index."""
    k = int(membership.max()) + 1
    sizes = np.bincount(membership, minlength=k)
    first = np.full(k, membership.size, dtype=np.int64)
    np.minimum.at(first, membership, np.arange(membership.size))
    order = np.lexsort((first, -sizes))
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank[membership]


def _stability(reference: np.ndarray, runs: list[np.ndarray]) -> np.ndarray:
    """Fraction of runs in which each node sits in the run community that holds the
    largest part of its reference faction (ties: the smallest run label)."""
    hits = np.zeros(reference.size, dtype=np.float64)
    for member in runs:
        width = int(member.max()) + 1
        pairs, counts = np.unique(reference * width + member, return_counts=True)
        ref_of, run_of = pairs // width, pairs % width
        order = np.lexsort((run_of, -counts, ref_of))
        ref_sorted = ref_of[order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = ref_sorted[1:] != ref_sorted[:-1]
        plural = np.empty(int(reference.max()) + 1, dtype=np.int64)
        plural[ref_sorted[first]] = run_of[order][first]
        hits += member == plural[reference]
    return hits / len(runs)


# ------------------------------------------------------------------------ detection


def _check_options(method: str, resolution: float, runs: int, n_jobs: int | None = None) -> None:
    if n_jobs is not None and (
        not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1
    ):
        raise AnalysisError(
            f"n_jobs must be an integer >= 1 or None, not {n_jobs!r}", field="n_jobs"
        )
    if method not in METHODS:
        raise AnalysisError(
            f"unknown method {method!r}", field="method", hint=f"choose one of {', '.join(METHODS)}"
        )
    if not (isinstance(resolution, int | float) and math.isfinite(resolution) and resolution > 0):
        raise AnalysisError(
            f"resolution must be a positive number, not {resolution!r}", field="resolution"
        )
    if not isinstance(runs, int) or isinstance(runs, bool) or runs < 1:
        raise AnalysisError(f"runs must be an integer >= 1, not {runs!r}", field="runs")


def _effective_method(method: str, resolution: float) -> tuple[str, list[str]]:
    if method == "louvain" and resolution != 1.0:
        return "louvain-networkx", [
            f"python-louvain is wrong for resolution != 1 (asked {resolution:g}): "
            "ran networkx's louvain_communities instead"
        ]
    return method, []


def _effective_runs(runs: int, ties: int, run_budget: int | None) -> tuple[int, list[str]]:
    if run_budget is None or runs <= 2 or ties * runs <= run_budget:
        return runs, []
    done = max(2, min(runs, run_budget // max(ties, 1)))
    if done == runs:
        return runs, []
    return done, [
        f"runs reduced from {runs} to {done} for {ties:,} ties "
        f"(run_budget={run_budget:,}); pass run_budget=None to do all runs"
    ]


def _resolve_seed(seed: int | None) -> int:
    if seed is None:
        return random.SystemRandom().randrange(2**31)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise AnalysisError(f"seed must be an integer or None, not {seed!r}", field="seed")
    return seed


@dataclass(frozen=True)
class _Detection:
    labels: np.ndarray  # faction per node index, 0..k-1 by size
    stability: np.ndarray
    modularity: float
    method: str
    runs: int
    notes: list[str]


def _detect(
    proj: _Projection,
    runner_cache: dict[str, _Runner],
    *,
    method: str,
    resolution: float,
    seed: int,
    runs: int,
    run_budget: int | None,
    n_jobs: int | None,
) -> _Detection:
    notes: list[str] = []
    if proj.dropped_loops:
        notes.append(f"{proj.dropped_loops:,} self-loops ignored")
    if proj.dropped_zero:
        notes.append(f"{proj.dropped_zero:,} ties of weight 0 ignored")
    if proj.m == 0:
        notes.append("no ties between actors: every actor is its own faction")
        labels = np.arange(proj.n, dtype=np.int64)
        return _Detection(labels, np.ones(proj.n), 0.0, method, runs, notes)
    actual, routed = _effective_method(method, resolution)
    notes += routed
    done, reduced = _effective_runs(runs, proj.m, run_budget)
    notes += reduced
    runner = runner_cache.get(actual)
    if runner is None:
        runner = runner_cache[actual] = _Runner(proj, actual)
    jobs = n_jobs if n_jobs is not None else _auto_jobs(proj.m)
    raw = _all_runs(runner, resolution, [seed + i for i in range(done)], jobs)
    memberships = [_split_disconnected(proj, mem) for mem in raw]
    scores = [_modularity(proj, mem, resolution) for mem in memberships]
    best = int(np.argmax(scores))  # first of equal maxima
    reference = memberships[best]
    stability = _stability(reference, memberships)
    labels = _by_size(reference)
    return _Detection(labels, stability, _modularity(proj, labels), actual, done, notes)


def _subprojection(proj: _Projection, keep: np.ndarray) -> _Projection:
    """The projection restricted to the nodes where ``keep`` is true (node order kept)."""
    new_index = np.cumsum(keep) - 1
    nodes = [u for u, k in zip(proj.nodes, keep.tolist(), strict=True) if k]
    tie = keep[proj.lo] & keep[proj.hi]
    lo, hi, w = new_index[proj.lo[tie]], new_index[proj.hi[tie]], proj.w[tie]
    n = len(nodes)
    strength = np.bincount(lo, w, minlength=n) + np.bincount(hi, w, minlength=n)
    return _Projection(
        nodes,
        {u: i for i, u in enumerate(nodes)},
        lo,
        hi,
        w,
        strength,
        proj.dropped_zero,
        proj.dropped_loops,
    )


def _with_ties(proj: _Projection, lo: np.ndarray, hi: np.ndarray, w: np.ndarray) -> _Projection:
    n = proj.n
    strength = np.bincount(lo, w, minlength=n) + np.bincount(hi, w, minlength=n)
    return _Projection(proj.nodes, proj.index, lo, hi, w, strength, 0, 0)


def _test_statistic(proj: _Projection, resolution: float, seed: int) -> float:
    """The significance test's statistic: modularity (resolution 1) of the partition
    that one fixed, short Leiden run (igraph, modularity objective, two iterations,
    at ``resolution``) finds. The same procedure runs on the data and on every
    random graph, so neither side gets more optimisation than the other."""
    import igraph as ig

    if proj.m == 0:
        return 0.0
    g = _igraph(proj)
    ig.set_random_number_generator(random.Random(seed))
    try:
        cl = g.community_leiden(
            objective_function="modularity",
            weights=proj.w.tolist(),
            resolution=resolution,
            n_iterations=_TEST_ITERATIONS,
        )
    finally:
        ig.set_random_number_generator(random)
    return _modularity(proj, np.asarray(cl.membership, dtype=np.int64))


def _significance_test(
    proj: _Projection,
    groups: np.ndarray,
    *,
    resolution: float,
    seed: int,
    samples: int,
    budget: int | None,
    n_jobs: int | None = None,
) -> tuple[Significance | None, list[str]]:
    """Compare the data's modularity with degree-preserving random graphs.

    Each random graph keeps every actor's number of ties and each connected
    component apart (:func:`mapper.analysis.strength.rewired` with the components as
    groups) and in one piece, as in the data
    (:func:`mapper.analysis.strength.reconnected`); the statistic is
    :func:`_test_statistic` on each. Drawing stops before ``samples`` once the
    verdict is settled (:func:`_null_values`).
    """
    notes: list[str] = []
    if samples <= 0 or proj.m == 0:
        return None, notes
    if budget is not None and samples * proj.m > budget:
        fewer = max(_MIN_SAMPLES, budget // max(proj.m, 1))
        if fewer < samples:
            notes.append(
                f"significance tested on {fewer} random graphs instead of {samples} "
                f"({proj.m:,} ties; significance budget {budget:,})"
            )
            samples = fewer
    swaps = 10 if proj.m <= _FULL_SWAPS_TIES else 3
    if swaps < 10:
        notes.append(f"random graphs made with 3 swaps per tie ({proj.m:,} ties), not 10")

    def statistic(i: int) -> float:
        """The statistic on the data (``i = -1``) or on random graph ``i``."""
        if i < 0:
            return _test_statistic(proj, resolution, seed)
        sample_seed = seed + 1_000_003 * (i + 1)
        lo, hi, w = rewired(
            proj.n, proj.lo, proj.hi, proj.w, seed=sample_seed, groups=groups, swaps_per_tie=swaps
        )
        lo, hi, w = reconnected(proj.n, lo, hi, w, groups, seed=sample_seed)
        return _test_statistic(_with_ties(proj, lo, hi, w), resolution, sample_seed)

    # Each random graph costs about 0.5 s at 85,000 ties (20 rounds of swaps, then the
    # short Leiden run): from _PARALLEL_SAMPLES_MIN_TIES on they are drawn in parallel
    # processes. Each sample seeds its own generator, so the result is the same
    # whatever jobs is.
    if n_jobs is not None:
        jobs = n_jobs
    else:
        jobs = cpu_count() if proj.m >= _PARALLEL_SAMPLES_MIN_TIES else 1
    observed, null = _null_values(statistic, samples, jobs, may_stop=proj.m >= _EARLY_STOP_MIN_TIES)
    return significance(observed, null, planned=samples), notes


def _checkpoints(planned: int) -> list[int]:
    """Sample counts after which the significance test looks at its verdict:
    :data:`SIGNIFICANCE_MIN_SAMPLES`, then every :data:`SIGNIFICANCE_STEP`, and
    ``planned`` itself."""
    return [*range(SIGNIFICANCE_MIN_SAMPLES, planned, SIGNIFICANCE_STEP), planned]


def _null_values(
    statistic: Callable[[int], float], planned: int, jobs: int, *, may_stop: bool = True
) -> tuple[float, list[float]]:
    """``statistic(-1)`` (the data) and ``statistic(i)`` for random graphs ``i = 0,
    1, ...``: all ``planned`` of them, or (when ``may_stop``) the first ``k`` when
    the verdict is settled at checkpoint ``k`` (:func:`mapper.analysis.strength.settled`).

    The graphs are drawn in batches of at least ``jobs`` (one per process), up to a
    checkpoint, the data's statistic in the first batch beside them; the
    checkpoints are then looked at in order, so the graphs kept, and the verdict,
    do not depend on ``jobs`` (a batch may draw a graph or two past the checkpoint
    where drawing stops; those are left out).
    """
    pending = _checkpoints(planned) if may_stop else [planned]
    observed: float | None = None
    values: list[float] = []
    while pending:
        first = observed is None
        need = len(values) + max(1, jobs - first)
        target = next((c for c in pending if c >= need), planned)
        items = [-1] * first + list(range(len(values), target))
        found = fork_map(statistic, items, jobs)
        if first:
            observed = found.pop(0)
        values += found
        while pending and pending[0] <= len(values):
            count = pending.pop(0)
            if count == planned or settled(observed, values[:count]):
                return observed, values[:count]
    assert observed is not None  # planned >= 1: the loop ran
    return observed, values


def _cohesion(labels: np.ndarray, stability: np.ndarray) -> dict[int, float]:
    k = int(labels.max()) + 1
    sums = np.bincount(labels, weights=stability, minlength=k)
    sizes = np.bincount(labels, minlength=k)
    return {f: float(sums[f] / sizes[f]) for f in range(k)}


def detect_factions(
    G: nx.Graph,
    *,
    method: str = "leiden",
    resolution: float = 1.0,
    seed: int | None = 0,
    runs: int = 10,
    weight: str | None = "weight",
    run_budget: int | None = DEFAULT_RUN_BUDGET,
    n_jobs: int | None = None,
    declared: str = "declared_faction",
    min_component: int = MIN_COMPONENT_SIZE,
    significance_samples: int = SIGNIFICANCE_SAMPLES,
    significance_budget: int | None = SIGNIFICANCE_BUDGET,
    factions: int | None = None,
) -> FactionResult:
    """Find factions: communities of the undirected projection, with their stability.

    Parameters
    ----------
    G : networkx graph
        Any networkx graph; directed and multi-edges are projected (weights of
        ``u -> v``, ``v -> u`` and parallel edges summed). ``G`` is not modified.
    method : {"leiden", "leidenalg", "louvain", "louvain-networkx"}
        ``"leiden"`` (default): igraph's ``community_leiden`` with the modularity
        objective (one iteration at twice the resolution, then iterated at the
        requested resolution until it stops improving). ``"leidenalg"``:
        ``leidenalg.RBConfigurationVertexPartition``. ``"louvain"``: python-louvain's
        ``best_partition`` at resolution 1; any other resolution is routed to
        networkx's ``louvain_communities`` (python-louvain 0.16 applies the
        resolution inconsistently and is wrong below 1) and ``result.method`` says
        ``"louvain-networkx"``.
    resolution : float
        Modularity resolution (> 0); higher gives more, smaller factions.
    seed : int or None
        Run ``i`` uses ``seed + i``. ``None`` draws a seed, recorded in the result.
    runs : int
        Number of runs (>= 1). Reduced on large graphs, see ``run_budget``.
    weight : str or None
        Edge attribute holding the weight (missing means 1); ``None`` counts each
        edge as 1.
    run_budget : int or None
        Cap on ``runs x ties``; above it runs are reduced (never below 2) and a note
        says so. ``None`` always does all runs.
    n_jobs : int or None
        Processes for the runs. ``None`` (default): one per available core when the
        projection has at least 200,000 ties, else 1. Runs go to forked processes
        only on Linux and when no other Python thread is alive; otherwise they run
        here, one after the other. The result does not depend on ``n_jobs``.
    declared : str
        Node attribute with the declared faction, used for the names.
    min_component : int
        Connected components with fewer actors are left *unassigned* (default 5,
        :data:`mapper.analysis.strength.MIN_COMPONENT_SIZE`); ``1`` assigns every
        actor, isolated ones becoming one-actor factions as before.
    significance_samples : int
        Degree-preserving random graphs to compare the modularity with (default 20;
        0 skips the test, and a warning says it was not tested).
    significance_budget : int or None
        Cap on ``samples x runs x ties`` for the test (fewer samples above it, never
        fewer than 3; a note says so). ``None``: no cap.
    factions : int or None
        Ask for this many factions: the resolution that yields them is found by
        search (:func:`resolution_for_factions`), used instead of ``resolution``
        and reported in ``result.resolution`` and ``result.notes``.

    Returns
    -------
    FactionResult
        ``partition`` (assigned actors only; faction ids ``0..k-1`` by size
        descending, ties by smallest member id), ``unassigned``, ``names``,
        ``stability``, ``cohesion``, ``modularity`` (on the assigned actors),
        ``components``, ``significance``, ``warnings`` and the options actually used.

    Raises
    ------
    AnalysisError
        If ``G`` has no nodes, a weight is negative, non-finite or not a number, or
        an option is invalid.

    Notes
    -----
    *Components first.* Communities never span two connected components, so the
    components are found first. Those smaller than ``min_component`` actors cannot
    hold more than one group; their actors are *unassigned* rather than called
    factions. Detection, modularity and stability concern the other actors.

    *Significance.* Modularity is high in random graphs too, the more so the sparser
    they are (Guimerà, Sales-Pardo & Amaral 2004). One fixed, short Leiden procedure
    (two iterations, at ``resolution``) runs on the data and on
    ``significance_samples`` random graphs that keep every actor's number of ties and
    every component apart (double-edge swaps inside each component); the factions are
    significant when the data's modularity under that procedure is at least
    :data:`~mapper.analysis.strength.SIGNIFICANCE_Z` standard deviations above the
    random graphs' mean and above all of them (``result.significance``). The same
    procedure on both sides keeps the comparison fair whatever ``method`` and
    ``runs`` the detection used.

    *Partition.* Each run's communities are split into connected parts (Leiden's
    are connected already; Louvain's may not be). The run with the highest
    modularity at ``resolution`` (the first one on ties) is the partition.

    *Stability.* For each faction ``F`` and run ``r``, the plurality community
    ``c(F, r)`` is the run-``r`` community holding the most members of ``F`` (ties:
    the community whose smallest member comes first). The stability of actor ``a``
    in faction ``F`` is the fraction of runs ``r`` with ``a`` in ``c(F, r)``; the
    chosen run counts, so stability is at least ``1 / runs``. With one run every
    stability is 1. A run that splits ``F`` lowers the stability of the members it
    moves away from the plurality; a run that merges ``F`` with another faction does
    not. *Cohesion* of a faction is the mean stability of its members.

    *Edge cases.* Self-loops and ties of total weight 0 are ignored. A node without
    ties is unassigned (with ``min_component=1``, its own faction). A graph with
    nodes but no ties gives no faction and a ``no-ties`` warning. A graph without
    nodes raises.

    *Determinism.* Nodes are sorted and ties sorted by endpoint, so a given seed
    gives the same result whatever the insertion order of nodes and edges, and
    whatever ``n_jobs``. igraph draws from a ``random.Random(seed + i)`` during run
    ``i``; its generator is then reset to the ``random`` module (igraph's default).

    *Cost.* Each run is one Leiden iteration at twice the resolution (a finer
    partition) followed by Leiden at the resolution, from that partition, until an
    iteration no longer improves; this coarse-to-fine start was faster and better
    than a cold start on every graph measured (it avoids merged factions). One run
    is near-linear in the number of ties, about 4-5 s at 1,000,000 ties, so the
    default ``run_budget`` does 2 runs there, in 2 processes on 2 cores: the whole
    stage measured 8.6-9.0 s at 100,000 actors / 1,000,000 ties on a shared 2-core
    machine, where one plain igraph Leiden run took 6.7 s and merged 8 of the 100
    planted factions (``benchmarks/factions_planted.py``; NMI 0.998 against 0.987).

    Examples
    --------
    >>> G = nx.karate_club_graph()
    >>> result = detect_factions(G, weight=None, runs=3)
    >>> result.n_factions, round(result.modularity, 4), result.significance.significant
    (4, 0.4198, True)

    References
    ----------
    .. [1] Traag, V. A., Waltman, L., & van Eck, N. J. (2019). From Louvain to Leiden:
       guaranteeing well-connected communities. Scientific Reports, 9, 5233.
    .. [2] Blondel, V. D., Guillaume, J.-L., Lambiotte, R., & Lefebvre, E. (2008).
       Fast unfolding of communities in large networks. J. Stat. Mech., P10008.
    .. [3] Newman, M. E. J. (2006). Modularity and community structure in networks.
       PNAS, 103(23), 8577-8582.
    .. [4] Guimerà, R., Sales-Pardo, M., & Amaral, L. A. N. (2004). Modularity from
       fluctuations in random graphs and complex networks. Physical Review E, 70,
       025101.
    """
    _check_options(method, resolution, runs, n_jobs)
    _check_count(min_component, "min_component", 1)
    _check_count(significance_samples, "significance_samples", 0)
    if factions is not None:
        _check_count(factions, "factions", 1)
    seed = _resolve_seed(seed)
    full = _project(G, weight)
    comp = component_labels(full.n, full.lo, full.hi)
    summary = summarise_components(comp, full.n, full.lo, full.hi, min_size=min_component)
    keep = np.bincount(comp)[comp] >= min_component if full.n else np.zeros(0, dtype=bool)
    proj = _subprojection(full, keep)
    groups = comp[keep]
    notes: list[str] = []
    cache: dict[str, _Runner] = {}
    if factions is not None and proj.n:
        resolution, _, search_notes = _search_resolution(
            proj,
            cache,
            factions,
            method=method,
            seed=seed,
            runs=runs,
            n_jobs=n_jobs,
            components=int(np.unique(groups).size),
        )
        notes += search_notes
    if proj.n:
        det = _detect(
            proj,
            cache,
            method=method,
            resolution=resolution,
            seed=seed,
            runs=runs,
            run_budget=run_budget,
            n_jobs=n_jobs,
        )
        sig, sig_notes = _significance_test(
            proj,
            groups,
            resolution=resolution,
            seed=seed,
            samples=significance_samples,
            budget=significance_budget,
            n_jobs=n_jobs,
        )
    else:
        det = _Detection(np.zeros(0, dtype=np.int64), np.zeros(0), 0.0, method, 0, [])
        sig, sig_notes = None, []
    det.notes[:0] = notes
    det.notes.extend(sig_notes)
    if not proj.n:
        if full.dropped_loops:
            det.notes.append(f"{full.dropped_loops:,} self-loops ignored")
        if full.dropped_zero:
            det.notes.append(f"{full.dropped_zero:,} ties of weight 0 ignored")
    unassigned = tuple(u for u, k in zip(full.nodes, keep.tolist(), strict=True) if not k)
    result = _result(
        G,
        proj,
        det,
        resolution=resolution,
        seed=seed,
        declared=declared,
        unassigned=unassigned,
        components=summary,
        significance=sig,
        requested=factions,
    )
    return _with_warnings(
        result, full, proj, groups, samples=significance_samples, requested=factions
    )


def _check_count(value: Any, name: str, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise AnalysisError(f"{name} must be an integer >= {minimum}, not {value!r}", field=name)


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def _with_warnings(
    result: FactionResult,
    full: _Projection,
    proj: _Projection,
    groups: np.ndarray,
    *,
    samples: int,
    requested: int | None,
) -> FactionResult:
    """Attach the warnings that the components, ties and test call for."""
    from dataclasses import replace

    out: list[EvidenceWarning] = []
    comp = result.components
    assert comp is not None
    n, k = full.n, result.n_factions

    def add(code: str, message: str) -> None:
        out.append(warning(code, "factions", message))

    if full.m == 0:
        add(
            "no-ties",
            f"no ties between the {_plural(n, 'actor')}: no faction, bridge or alliance "
            "can be found",
        )
    elif comp.unassigned:
        add(
            "unassigned-actors",
            f"{_plural(comp.unassigned, 'actor')} ({comp.unassigned / n:.0%}) sit in "
            f"components of fewer than {comp.min_size} actors "
            f"({_plural(comp.isolated, 'isolated actor')}) and are left unassigned",
        )
    if full.m and n >= 2 * comp.min_size and comp.largest_share < 0.5:
        add(
            "fragmented-graph",
            f"the graph falls into {_plural(comp.count, 'connected piece')}; the largest "
            f"holds {comp.largest:,} of {n:,} actors ({comp.largest_share:.0%})",
        )
    if full.m and not proj.n:
        add(
            "no-factions",
            f"no connected component has {comp.min_size} or more actors (the largest has "
            f"{comp.largest}): the data are too thin to find factions",
        )
    if proj.n and proj.m < MIN_TIES_PER_ACTOR * proj.n:
        add(
            "too-few-ties",
            f"only {_plural(proj.m, 'tie')} among the {proj.n:,} assigned actors "
            f"(fewer than one per actor): factions this sparse change with every new tie",
        )
    analysed = int(np.unique(groups).size) if groups.size else 0
    if k >= 2 and k == analysed:
        add(
            "factions-equal-components",
            f"each of the {k} factions is a whole connected component: they are separate "
            "pieces of the graph, not communities found within connected data",
        )
    sig = result.significance
    if k >= 1 and proj.m:
        if sig is None:
            if samples <= 0:
                add(
                    "significance-not-tested",
                    "the factions were not tested against random graphs (significance_samples = 0)",
                )
        elif not sig.significant:
            add(
                "no-significant-structure",
                f"no significant community structure: modularity {sig.observed:.3f}, "
                f"{sig.describe()}; the factions may be an artefact",
            )
        elif sig.observed < WEAK_MODULARITY:
            add(
                "weak-structure",
                f"the community structure is significant but weak (modularity "
                f"{sig.observed:.3f}): factions overlap heavily",
            )
    unstable = [
        f"{result.names.get(f, f'faction {f}')} ({c:.2f})"
        for f, c in result.cohesion.items()
        if c < UNSTABLE_COHESION
    ]
    if unstable and result.runs > 1:
        add(
            "unstable-factions",
            f"{_plural(len(unstable), 'faction')} change members between runs "
            f"(cohesion below {UNSTABLE_COHESION}): "
            + ", ".join(unstable[:5])
            + (f" and {len(unstable) - 5} more" if len(unstable) > 5 else ""),
        )
    if requested is not None and k != requested:
        add(
            "factions-not-reached",
            f"{requested} factions were asked for; the closest the data give is {k} "
            f"(resolution {result.resolution:.4g})"
            + (
                f"; {analysed} separate components cannot be fewer than {analysed} factions"
                if requested < analysed
                else ""
            ),
        )
    return replace(result, warnings=tuple(out))


def resolution_for_factions(
    G: nx.Graph,
    factions: int,
    *,
    method: str = "leiden",
    seed: int | None = 0,
    runs: int = 3,
    weight: str | None = "weight",
    min_component: int = MIN_COMPONENT_SIZE,
    n_jobs: int | None = None,
) -> tuple[float, int]:
    """Find the resolution at which detection gives ``factions`` factions.

    The number of factions grows with the resolution (not strictly: it can step
    over a value). The search brackets the target by doubling or halving from 1,
    then bisects on a log scale (at most 24 detections of ``runs`` runs each), on
    the assigned actors only (see :func:`detect_factions`).

    Returns
    -------
    (resolution, count)
        The resolution found and the number of factions it gives: ``factions`` when
        reachable, else the closest count found (ties: the resolution nearest 1).

    Examples
    --------
    >>> gamma, k = resolution_for_factions(nx.karate_club_graph(), 2, weight=None)
    >>> k
    2
    """
    _check_options(method, 1.0, runs, n_jobs)
    _check_count(factions, "factions", 1)
    seed = _resolve_seed(seed)
    full = _project(G, weight)
    comp = component_labels(full.n, full.lo, full.hi)
    keep = np.bincount(comp)[comp] >= min_component if full.n else np.zeros(0, dtype=bool)
    proj = _subprojection(full, keep)
    if not proj.n:
        return 1.0, 0
    gamma, count, _ = _search_resolution(
        proj,
        {},
        factions,
        method=method,
        seed=seed,
        runs=runs,
        n_jobs=n_jobs,
        components=int(np.unique(comp[keep]).size),
    )
    return gamma, count


def _search_resolution(
    proj: _Projection,
    cache: dict[str, _Runner],
    target: int,
    *,
    method: str,
    seed: int,
    runs: int,
    n_jobs: int | None,
    components: int,
) -> tuple[float, int, list[str]]:
    """Resolution giving ``target`` factions on ``proj`` (see resolution_for_factions),
    the count it gives, and a note on the search."""
    runs = min(runs, _SEARCH_RUNS)
    tried: dict[float, int] = {}

    def count(gamma: float) -> int:
        if gamma not in tried:
            det = _detect(
                proj,
                cache,
                method="leidenalg" if method == "louvain" else method,
                resolution=gamma,
                seed=seed,
                runs=runs,
                run_budget=None,
                n_jobs=n_jobs,
            )
            tried[gamma] = int(det.labels.max()) + 1 if det.labels.size else 0
        return tried[gamma]

    lo_g, hi_g = 1.0, 1.0
    if count(1.0) < target:
        while count(hi_g) < target and hi_g < 2.0**12:
            lo_g, hi_g = hi_g, hi_g * 2
    elif count(1.0) > target:
        while count(lo_g) > target and lo_g > 2.0**-12:
            lo_g, hi_g = lo_g / 2, lo_g
    for _ in range(24):
        if count(lo_g) == target or count(hi_g) == target or hi_g / lo_g < 1.0001:
            break
        mid = math.sqrt(lo_g * hi_g)
        if count(mid) < target:
            lo_g = mid
        else:
            hi_g = mid
    best = min(tried, key=lambda g: (abs(tried[g] - target), abs(math.log(g))))
    note = (
        f"resolution searched for {target} factions ({len(tried)} resolutions tried): "
        f"resolution {best:.4g} gives {tried[best]} factions"
    )
    if tried[best] != target and target < components:
        note += f" (the {components} separate components are at least {components} factions)"
    return best, tried[best], [note]


def _result(
    G: nx.Graph,
    proj: _Projection,
    det: _Detection,
    *,
    resolution: float,
    seed: int,
    declared: str,
    unassigned: tuple[Hashable, ...] = (),
    components: ComponentSummary | None = None,
    significance: Significance | None = None,
    requested: int | None = None,
) -> FactionResult:
    nodes = proj.nodes
    labels = det.labels.tolist()
    stab = det.stability.tolist()
    return FactionResult(
        partition=dict(zip(nodes, labels, strict=True)),
        names=_names(G, proj, det.labels, declared=declared, top=3) if nodes else {},
        stability=dict(zip(nodes, stab, strict=True)),
        cohesion=_cohesion(det.labels, det.stability) if nodes else {},
        modularity=det.modularity,
        method=det.method,
        resolution=float(resolution),
        seed=seed,
        runs=det.runs,
        notes=tuple(det.notes),
        unassigned=unassigned,
        components=components,
        significance=significance,
        requested_factions=requested,
    )


def resolution_sweep(
    G: nx.Graph,
    resolutions: Iterable[float],
    *,
    method: str = "leiden",
    seed: int | None = 0,
    runs: int = 5,
    weight: str | None = "weight",
    run_budget: int | None = DEFAULT_RUN_BUDGET,
    n_jobs: int | None = None,
    min_component: int = MIN_COMPONENT_SIZE,
) -> list[dict[str, Any]]:
    """Detect factions at several resolutions and tabulate the outcome.

    Parameters
    ----------
    G : networkx graph
        As in :func:`detect_factions`.
    resolutions : iterable of float
        Resolutions to try, reported in the given order.
    method, seed, runs, weight, run_budget, n_jobs, min_component
        As in :func:`detect_factions`; the graph is projected and converted once.
        Only the assigned actors (components of ``min_component`` actors or more)
        take part, as in :func:`detect_factions`.

    Returns
    -------
    list of dict
        One dict per resolution: ``resolution``, ``factions`` (communities of two
        actors or more), ``singletons`` (communities of one actor, not counted as
        factions), ``unassigned`` (actors left out), ``modularity`` (weighted,
        resolution 1, comparable across rows), ``mean_stability``, ``largest_share``
        (share of assigned actors in the largest faction), ``method`` and ``runs``
        actually used.

    Examples
    --------
    >>> rows = resolution_sweep(nx.karate_club_graph(), [0.5, 1.0], weight=None, runs=2)
    >>> [row["factions"] for row in rows]
    [2, 4]

    References
    ----------
    .. [1] Reichardt, J., & Bornholdt, S. (2006). Statistical mechanics of community
       detection. Physical Review E, 74, 016110.
    """
    resolutions = list(resolutions)
    for gamma in resolutions:
        _check_options(method, gamma, runs, n_jobs)
    _check_count(min_component, "min_component", 1)
    seed = _resolve_seed(seed)
    full = _project(G, weight)
    comp = component_labels(full.n, full.lo, full.hi)
    keep = np.bincount(comp)[comp] >= min_component if full.n else np.zeros(0, dtype=bool)
    proj = _subprojection(full, keep)
    unassigned = full.n - proj.n
    cache: dict[str, _Runner] = {}
    rows = []
    for gamma in resolutions:
        if not proj.n:
            rows.append(
                {
                    "resolution": float(gamma),
                    "factions": 0,
                    "singletons": 0,
                    "unassigned": unassigned,
                    "modularity": 0.0,
                    "mean_stability": 0.0,
                    "largest_share": 0.0,
                    "method": method,
                    "runs": 0,
                }
            )
            continue
        det = _detect(
            proj,
            cache,
            method=method,
            resolution=gamma,
            seed=seed,
            runs=runs,
            run_budget=run_budget,
            n_jobs=n_jobs,
        )
        sizes = np.bincount(det.labels)
        rows.append(
            {
                "resolution": float(gamma),
                "factions": int(np.count_nonzero(sizes >= 2)),
                "singletons": int(np.count_nonzero(sizes == 1)),
                "unassigned": unassigned,
                "modularity": det.modularity,
                "mean_stability": float(det.stability.mean()),
                "largest_share": float(sizes.max() / proj.n),
                "method": det.method,
                "runs": det.runs,
            }
        )
    return rows


# --------------------------------------------------------------------------- naming


def _labels_of(proj: _Projection, partition: Mapping[Hashable, int]) -> np.ndarray:
    """Faction per node index, -1 for nodes the partition does not cover."""
    labels = np.full(proj.n, -1, dtype=np.int64)
    for actor, fid in partition.items():
        i = proj.index.get(actor)
        if i is None:
            raise AnalysisError(f"actor {actor!r} of the partition is not in the graph")
        if isinstance(fid, bool) or not isinstance(fid, int | np.integer) or fid < 0:
            raise AnalysisError(f"faction of {actor!r} must be an integer >= 0, not {fid!r}")
        labels[i] = fid
    return labels


def _inner_strength(proj: _Projection, labels: np.ndarray) -> np.ndarray:
    """Weighted degree of each node inside its own faction."""
    fu = labels[proj.lo]
    inside = (fu == labels[proj.hi]) & (fu >= 0)
    w = proj.w[inside]
    return np.bincount(proj.lo[inside], w, minlength=proj.n) + np.bincount(
        proj.hi[inside], w, minlength=proj.n
    )


def _central(proj: _Projection, labels: np.ndarray, top: int) -> dict[int, list[int]]:
    """Node indices of each faction's ``top`` members by internal weighted degree
    (ties: overall weighted degree, then node order)."""
    inner = _inner_strength(proj, labels)
    idx = np.flatnonzero(labels >= 0)
    order = idx[np.lexsort((idx, -proj.strength[idx], -inner[idx], labels[idx]))]
    out: dict[int, list[int]] = {}
    for i in order.tolist():
        bucket = out.setdefault(int(labels[i]), [])
        if len(bucket) < top:
            bucket.append(i)
    return out


def _label(G: nx.Graph, actor: Hashable) -> str:
    label = G.nodes[actor].get("label")
    text = str(label).strip() if label is not None else ""
    return text or str(actor)


def _declared_of(G: nx.Graph, actor: Hashable, declared: str) -> str:
    value = G.nodes[actor].get(declared)
    return str(value).strip() if value is not None else ""


def _names(
    G: nx.Graph, proj: _Projection, labels: np.ndarray, *, declared: str, top: int
) -> dict[int, str]:
    factions = sorted({int(f) for f in labels.tolist() if f >= 0})
    members: dict[int, list[int]] = {f: [] for f in factions}
    for i, f in enumerate(labels.tolist()):
        if f >= 0:
            members[f].append(i)
    # Declared majorities: faction -> (declared name, count).
    claims: dict[str, list[tuple[int, int]]] = {}
    for f in factions:
        counts = Counter(
            d for d in (_declared_of(G, proj.nodes[i], declared) for i in members[f]) if d
        )
        if not counts:
            continue
        total = sum(counts.values())
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        best, count = ranked[0]
        if count >= 2 and 2 * count > total:
            claims.setdefault(best, []).append((f, count))
        elif len(ranked) > 1 and ranked[1][1] >= 2 and 2 * (count + ranked[1][1]) > total:
            # two declared factions that together hold the majority: a coalition
            claims.setdefault(f"{best} + {ranked[1][0]}", []).append((f, count + ranked[1][1]))
    names: dict[int, str] = {}
    for name, holders in claims.items():
        for rank, (f, _) in enumerate(sorted(holders, key=lambda fc: (-fc[1], fc[0])), 1):
            names[f] = name if rank == 1 else f"{name} ({rank})"
    central = _central(proj, labels, max(top, 1))
    for f in factions:
        if f in names:
            continue
        shown = [_label(G, proj.nodes[i]) for i in central.get(f, [])]
        rest = len(members[f]) - len(shown)
        if rest > 0:
            names[f] = ", ".join(shown) + " & co"
        elif len(shown) > 1:
            names[f] = ", ".join(shown[:-1]) + " & " + shown[-1]
        else:
            names[f] = shown[0] if shown else f"faction {f}"
    # Final pass: no two factions share a name.
    seen: Counter[str] = Counter()
    for f in factions:
        base = names[f]
        seen[base] += 1
        if seen[base] > 1:
            candidate = f"{base} ({seen[base]})"
            while candidate in names.values():
                seen[base] += 1
                candidate = f"{base} ({seen[base]})"
            names[f] = candidate
    return names


def name_factions(
    G: nx.Graph,
    partition: Mapping[Hashable, int],
    *,
    declared: str = "declared_faction",
    top: int = 3,
    weight: str | None = "weight",
) -> dict[int, str]:
    """Give each faction a readable name.

    Parameters
    ----------
    G : networkx graph
        The graph the partition was computed on (node attributes ``label`` and
        ``declared``).
    partition : mapping
        Actor id -> faction id (actors of ``G`` missing from it are ignored).
    declared : str
        Node attribute holding the declared faction; empty values are ignored.
    top : int
        How many central members a name lists.
    weight : str or None
        Edge weight for centrality within the faction.

    Returns
    -------
    dict
        Faction id -> name, all names distinct.

    Notes
    -----
    A faction is named after a declared faction when that declared faction is
    carried by a strict majority of the faction's members that declare one, and by
    at least two of them (one member is not evidence). Failing that, when the two
    largest declared factions among its members (two or more members each) together
    make a strict majority, it is named after both: ``"pluralists + soft left"``.
    When several factions claim
    the same declared name, the one holding most of its members (then the lowest
    id) gets it plain and the others ``"name (2)"``, ``"name (3)"``... Any other
    faction is named after its ``top`` members with the highest weighted degree
    inside the faction (ties: overall weighted degree, then id), using the ``label``
    attribute: ``"Owen Jones, Paul Mason, Ash Sarkar & co"``, or ``"A & B"`` when
    those are all its members. Names are plain text: escape them for the output
    format.

    Examples
    --------
    >>> G = nx.Graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    >>> name_factions(G, {"a": 0, "b": 0, "c": 0, "d": 1})
    {0: 'c, a & b', 1: 'd'}
    """
    if not isinstance(top, int) or top < 1:
        raise AnalysisError(f"top must be an integer >= 1, not {top!r}", field="top")
    proj = _project(G, weight)
    return _names(G, proj, _labels_of(proj, partition), declared=declared, top=top)


# ------------------------------------------------------------------------ summaries


def faction_summaries(
    G: nx.Graph,
    result: FactionResult,
    *,
    top: int = 5,
    weight: str | None = "weight",
) -> list[dict[str, Any]]:
    """Describe each faction: size, make-up, central members, topics, ties.

    Parameters
    ----------
    G : networkx graph
        The graph the factions were found in.
    result : FactionResult
        From :func:`detect_factions`.
    top : int
        How many central members and topics to list.
    weight : str or None
        Edge weight, as for detection.

    Returns
    -------
    list of dict
        One dict per faction, by id: ``id``, ``name``, ``size``, ``kinds`` and
        ``parties`` and ``declared`` (``Counter`` of node attributes ``kind``,
        ``party``, ``declared_faction``; empty values skipped), ``central`` (list
        of ``{"actor", "label", "strength"}``, strength being the weighted degree
        inside the faction), ``topics`` (``Counter`` of the members' ``topics``
        dicts summed; ``top_topics``, ``issues``, ``hashtags``, ``domains``: the
        ``top`` most common as ``(item, count)`` lists, by prefix ``issue:``,
        ``#``, ``domain:``), ``ties`` (ties inside the faction, undirected),
        ``density`` (``ties / (size (size - 1) / 2)``, 0.0 for one actor),
        ``internal_weight`` (summed weight of ties inside), ``external_weight``
        (summed weight of ties with one end inside), ``internal_share``
        (``internal / (internal + external)``, 0.0 without ties), ``cohesion``
        and ``mean_stability`` (both the mean member stability).
    """
    proj = _project(G, weight)
    labels = _labels_of(proj, result.partition)
    k = result.n_factions
    fu, fv = labels[proj.lo], labels[proj.hi]
    inside = (fu == fv) & (fu >= 0)
    internal_w = np.bincount(fu[inside], proj.w[inside], minlength=k)
    internal_n = np.bincount(fu[inside], minlength=k)
    cross = ~inside
    external_w = np.zeros(k)
    for side in (fu, fv):
        sel = cross & (side >= 0)
        external_w += np.bincount(side[sel], proj.w[sel], minlength=k)
    central = _central(proj, labels, max(top, 1))
    inner = _inner_strength(proj, labels)
    members: dict[int, list[Hashable]] = {f: [] for f in range(k)}
    for actor, fid in result.partition.items():
        members[fid].append(actor)
    out = []
    for f in range(k):
        size = len(members[f])
        attrs = [G.nodes[a] for a in members[f]]
        topics: Counter[str] = Counter()
        for data in attrs:
            tdict = data.get("topics") or {}
            if isinstance(tdict, Mapping):
                for item, count in tdict.items():
                    if isinstance(count, int | float) and not isinstance(count, bool):
                        topics[str(item)] += int(count)

        def most(prefix: str, topics: Counter[str] = topics) -> list[tuple[str, int]]:
            hits = Counter({t: c for t, c in topics.items() if t.startswith(prefix)})
            return sorted(hits.items(), key=lambda tc: (-tc[1], tc[0]))[:top]

        iw, ew = float(internal_w[f]), float(external_w[f])
        pairs = size * (size - 1) / 2
        out.append(
            {
                "id": f,
                "name": result.names.get(f, f"faction {f}"),
                "size": size,
                "kinds": _counter(attrs, "kind"),
                "parties": _counter(attrs, "party"),
                "declared": _counter(attrs, "declared_faction"),
                "central": [
                    {
                        "actor": proj.nodes[i],
                        "label": _label(G, proj.nodes[i]),
                        "strength": float(inner[i]),
                    }
                    for i in central.get(f, [])[:top]
                ],
                "topics": topics,
                "top_topics": sorted(topics.items(), key=lambda tc: (-tc[1], tc[0]))[:top],
                "issues": most("issue:"),
                "hashtags": most("#"),
                "domains": most("domain:"),
                "ties": int(internal_n[f]),
                "density": float(internal_n[f] / pairs) if pairs else 0.0,
                "internal_weight": iw,
                "external_weight": ew,
                "internal_share": iw / (iw + ew) if iw + ew > 0 else 0.0,
                "cohesion": result.cohesion.get(f, 0.0),
                "mean_stability": result.cohesion.get(f, 0.0),
            }
        )
    return out


def _counter(attrs: list[Mapping[str, Any]], key: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for data in attrs:
        value = data.get(key)
        text = str(value).strip() if value is not None else ""
        if text:
            counts[text] += 1
    return counts


def fault_lines(
    G: nx.Graph,
    result: FactionResult,
    *,
    declared: str = "declared_faction",
    threshold: float = SPLIT_THRESHOLD,
    min_members: int = MIN_DECLARED_WITH_TIES,
    alpha: float = SIGNIFICANCE_ALPHA,
    samples: int = 2000,
    seed: int | None = None,
    weight: str | None = "weight",
) -> list[dict[str, Any]]:
    """Show how each declared faction spreads over the detected factions, and whether
    the data can say so.

    Parameters
    ----------
    G : networkx graph
        The graph the factions were found in.
    result : FactionResult
        From :func:`detect_factions`.
    declared : str
        Node attribute holding the declared faction; empty values are ignored.
    threshold : float
        A declared faction *holds together* when one detected faction holds at least
        this share of its members with ties (default 0.75).
    min_members : int
        Fewest members with ties (members in the partition) for any verdict
        (default 5, :data:`mapper.analysis.strength.MIN_DECLARED_WITH_TIES`).
    alpha : float
        Significance level of the concentration test (default 0.05).
    samples : int
        Random groups drawn for the test.
    seed : int, optional
        Seed of the tests (default: ``result.seed``).
    weight : str or None
        Edge weight for the ties among members.

    Returns
    -------
    list of dict
        One dict per declared faction, largest first (ties by name): ``declared``,
        ``members`` (actors of ``G`` declaring it), ``size`` (those in the partition,
        i.e. with ties in the analysed components), ``verdict`` (see Notes),
        ``split`` (``verdict == "split"``), ``spread`` (list of ``{"faction",
        "name", "count", "share", "members"}``, largest first, ties by faction id),
        ``main_faction`` and ``main_share`` (the first entry of ``spread``, ``None``
        and 0.0 without members), ``concentration`` (probability that two members
        share a faction), ``expected`` (the same for random groups of that size),
        ``p`` (share of random groups as concentrated), ``internal_ties`` (ties
        between two members), ``aligned`` (share of their weight inside one
        faction), ``aligned_expected`` and ``aligned_p`` (the same for random
        divisions of the members with the same sizes), ``outliers`` (members outside
        the main faction, as ``{"actor", "label", "faction", "faction_name"}``) and
        ``summary``, one sentence with the numbers.

    Notes
    -----
    The verdict is one of:

    - ``"too-thin"``: fewer than ``min_members`` members have ties in the analysed
      components (or the partition has no faction): "not enough ties to judge".
    - ``"no-structure"``: the factions themselves are not significant (see
      :func:`detect_factions`), so where the members fall says nothing.
    - ``"together"``: one faction holds at least ``threshold`` of the members.
    - ``"split"``: no faction holds ``threshold`` of them, at least two factions
      hold two or more, and the division is more than chance would give: either the
      members' ties among themselves keep to the factions far more than random
      divisions of the members (``aligned_p < alpha``: a real fault line inside the
      group), or the members sit together in a few factions far more than random
      actors would (``p < alpha``: a real group, divided).
    - ``"no-signal"``: no faction holds ``threshold`` of them and neither test
      separates the division from chance: the data do not say whether they are
      split.

    Both tests permute faction labels (:func:`mapper.analysis.strength.tie_alignment`
    among the members, :func:`mapper.analysis.strength.group_concentration` over all
    actors), ``samples`` times each.
    """
    seed = result.seed if seed is None else seed
    groups: dict[str, list[Hashable]] = {}
    for actor in _sorted_nodes(G.nodes):
        d = _declared_of(G, actor, declared)
        if d:
            groups.setdefault(d, []).append(actor)
    untested = result.significance is not None and not result.significance.significant
    proj = _project(G, weight)
    rows = []
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    for number, (name, everyone) in enumerate(ordered):
        actors = [a for a in everyone if a in result.partition]
        size = len(actors)
        by_faction: dict[int, list[Hashable]] = {}
        for a in actors:
            by_faction.setdefault(result.partition[a], []).append(a)
        spread = [
            {
                "faction": f,
                "name": result.names.get(f, f"faction {f}"),
                "count": len(ms),
                "share": len(ms) / size,
                "members": ms,
            }
            for f, ms in sorted(by_faction.items(), key=lambda fm: (-len(fm[1]), fm[0]))
        ]
        main = spread[0] if spread else None
        conc = group_concentration(actors, result.partition, samples=samples, seed=seed + number)
        align = _member_alignment(proj, actors, result.partition, samples, seed + number)
        parts = [
            f"{s['count']} of {size} with faction {s['faction']} ({s['name']})" for s in spread
        ]
        chance = (
            f"two members share a faction {conc.observed:.0%} of the time, random sets of "
            f"{size} actors {conc.expected:.0%} (p = {conc.p:.3g})"
        )
        if size < min_members or main is None:
            verdict = "too-thin"
            summary = (
                f"not enough ties to judge {name}: {size} of {len(everyone)} members have "
                f"ties in the analysed network (at least {min_members} needed)."
            )
        elif untested:
            verdict = "no-structure"
            summary = (
                f"cannot judge {name}: the factions themselves are not significant "
                f"({size} of {len(everyone)} members with ties)."
            )
        elif main["share"] >= threshold:
            verdict = "together"
            if len(spread) == 1:
                summary = (
                    f"{name} holds together: all {size} with faction {main['faction']} "
                    f"({main['name']}); {chance}."
                )
            else:
                summary = f"{name} mostly holds together: " + ", ".join(parts) + f"; {chance}."
        elif sum(1 for x in spread if x["count"] >= 2) >= 2 and (align.p < alpha or conc.p < alpha):
            verdict = "split"
            evidence = (
                f"{align.observed:.0%} of the {align.ties} ties between members stay within "
                f"a faction, {align.expected:.0%} for random divisions (p = {align.p:.3g})"
                if align.p < alpha
                else chance
            )
            summary = f"{name} is split: " + ", ".join(parts) + f"; {evidence}."
        else:
            verdict = "no-signal"
            ties_text = (
                f"{align.observed:.0%} of the {align.ties} ties between members within a "
                f"faction against {align.expected:.0%} by chance"
                if align.ties
                else "no ties between members"
            )
            summary = (
                f"not enough evidence to call {name} split: " + ", ".join(parts) + f"; "
                f"{ties_text}; {chance}."
            )
        outliers = (
            [
                {
                    "actor": a,
                    "label": _label(G, a),
                    "faction": s["faction"],
                    "faction_name": s["name"],
                }
                for s in spread[1:]
                for a in s["members"]
            ]
            if verdict in ("split", "together")
            else []
        )
        rows.append(
            {
                "declared": name,
                "members": len(everyone),
                "size": size,
                "verdict": verdict,
                "spread": spread,
                "main_faction": main["faction"] if main else None,
                "main_share": main["share"] if main else 0.0,
                "split": verdict == "split",
                "concentration": conc.observed,
                "expected": conc.expected,
                "p": conc.p,
                "internal_ties": align.ties,
                "aligned": align.observed,
                "aligned_expected": align.expected,
                "aligned_p": align.p,
                "outliers": outliers,
                "summary": summary,
            }
        )
    return rows


def _member_alignment(
    proj: _Projection,
    actors: list[Hashable],
    partition: Mapping[Hashable, int],
    samples: int,
    seed: int,
) -> Any:
    """:func:`tie_alignment` of the members' ties among themselves, by faction."""
    local = np.full(proj.n, -1, dtype=np.int64)
    for i, a in enumerate(actors):
        local[proj.index[a]] = i
    a_loc, b_loc = local[proj.lo], local[proj.hi]
    inner = (a_loc >= 0) & (b_loc >= 0)
    sides = [partition[a] for a in actors]
    return tie_alignment(
        sides, a_loc[inner], b_loc[inner], proj.w[inner], samples=samples, seed=seed
    )


def fault_line_warnings(rows: Iterable[Mapping[str, Any]]) -> list[EvidenceWarning]:
    """Warnings for the declared factions the data cannot judge (one per verdict)."""
    rows = list(rows)
    out = []
    thin = [r for r in rows if r["verdict"] == "too-thin"]
    if thin:
        names = ", ".join(f"{r['declared']} ({r['size']} of {r['members']})" for r in thin[:8])
        more = f" and {len(thin) - 8} more" if len(thin) > 8 else ""
        out.append(
            warning(
                "declared-faction-too-thin",
                "fault_lines",
                f"too few members with ties to judge {_plural(len(thin), 'declared faction')}"
                f": {names}{more}; at least {MIN_DECLARED_WITH_TIES} needed",
            )
        )
    quiet = [r for r in rows if r["verdict"] == "no-signal"]
    if quiet:
        names = ", ".join(str(r["declared"]) for r in quiet[:8])
        out.append(
            warning(
                "declared-faction-no-signal",
                "fault_lines",
                f"{names}: members in several factions, but neither their ties nor their "
                "placement differ from chance; not enough evidence to call them split",
            )
        )
    return out


# ``write_factions_md`` takes a ``fault_lines`` argument that shadows the function.
_fault_lines: Callable[..., list[dict[str, Any]]] = fault_lines


# --------------------------------------------------------------------------- output


def apply_factions(G: nx.Graph, result: FactionResult) -> None:
    """Write node attributes ``faction`` (int), ``faction_name`` (str) and
    ``stability`` (float) onto the actors of ``G`` that ``result`` covers.

    This is the one function here that modifies ``G``. Unassigned actors
    (``result.unassigned``) get ``faction_name = "unassigned"`` and lose any
    ``faction`` and ``stability`` left from an earlier run; other actors of ``G``
    missing from the result are left as they are.
    """
    for actor, fid in result.partition.items():
        if actor in G:
            data = G.nodes[actor]
            data["faction"] = int(fid)
            data["faction_name"] = str(result.names.get(fid, f"faction {fid}"))
            data["stability"] = float(result.stability.get(actor, 0.0))
    for actor in result.unassigned:
        if actor in G:
            data = G.nodes[actor]
            data.pop("faction", None)
            data.pop("stability", None)
            data["faction_name"] = UNASSIGNED


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _csv_text(value: Any) -> str:
    """Plain text for a CSV cell: control characters removed; a leading ``= + - @``
    gets a ``'`` so spreadsheets do not run it as a formula."""
    from mapper.export import neutralize_cell

    return neutralize_cell(_CONTROL.sub("", "" if value is None else str(value)))


def _ordered_actors(result: FactionResult) -> list[Hashable]:
    return sorted(result.partition, key=lambda a: result.partition[a])  # stable: id order


def write_factions_csv(G: nx.Graph, result: FactionResult, path: str | Path) -> Path:
    """Write one row per actor (atomically): ``actor, label, faction, faction_name,
    stability, declared_faction``, by faction then actor id, the unassigned actors
    last (empty ``faction`` and ``stability``, ``faction_name`` "unassigned"). Text
    cells that start like a spreadsheet formula are prefixed with ``'``. Returns the
    path."""
    with atomic_open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["actor", "label", "faction", "faction_name", "stability", "declared_faction"]
        )
        for actor in _ordered_actors(result):
            fid = result.partition[actor]
            data = G.nodes[actor] if actor in G else {}
            label = data.get("label") or actor
            writer.writerow(
                [
                    _csv_text(actor),
                    _csv_text(label),
                    fid,
                    _csv_text(result.names.get(fid, f"faction {fid}")),
                    f"{result.stability.get(actor, 0.0):.4f}",
                    _csv_text(data.get("declared_faction") or ""),
                ]
            )
        for actor in result.unassigned:
            data = G.nodes[actor] if actor in G else {}
            writer.writerow(
                [
                    _csv_text(actor),
                    _csv_text(data.get("label") or actor),
                    "",
                    UNASSIGNED,
                    "",
                    _csv_text(data.get("declared_faction") or ""),
                ]
            )
    return Path(path)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$])")


def _md(value: Any) -> str:
    """Escape inline text for Markdown (tables included).

    Control characters and line breaks become spaces; ``\\ ` * _ [ ] < > | ~ & $``
    are backslash-escaped, so a hostile name can neither break a table row, nor
    open emphasis, code, a link or an image, nor inject HTML or an entity. Text is
    never placed at the start of a line, so block syntax (``#``, ``-``, ``1.``) is
    inert."""
    text = " ".join(_CONTROL.sub(" ", "" if value is None else str(value)).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def _fmt_counter(counts: Mapping[str, int] | Iterable[tuple[str, int]], top: int = 5) -> str:
    items = counts.items() if isinstance(counts, Mapping) else counts
    ranked = sorted(items, key=lambda kv: (-kv[1], kv[0]))[:top]
    return ", ".join(f"{_md(k)} {v}" for k, v in ranked) or "none"


def write_factions_md(
    G: nx.Graph,
    result: FactionResult,
    path: str | Path,
    *,
    summaries: list[dict[str, Any]] | None = None,
    fault_lines: list[dict[str, Any]] | None = None,
) -> Path:
    """Write a readable Markdown report of the factions (atomically).

    The report has an overview table (id, name, size, cohesion, internal share,
    central members), one section per faction (make-up, central members, topics)
    and, when actors declare factions, the fault lines. Every name, label and topic
    is escaped (see ``_md``). ``summaries`` and ``fault_lines`` are computed when
    not given. Returns the path.
    """
    if summaries is None:
        summaries = faction_summaries(G, result)
    lines_of_fault = fault_lines if fault_lines is not None else _fault_lines(G, result)
    graph_name = G.graph.get("name") if hasattr(G, "graph") else None
    title = f"Factions of {_md(graph_name)}" if graph_name else "Factions"
    out = [f"# {title}", ""]
    warned = list(result.warnings) + fault_line_warnings(lines_of_fault or [])
    if warned:
        out += ["**How far the data carry these factions:**", ""]
        out += [f"- {_md(w.message)} (`{w.code}`)" for w in warned]
        out.append("")
    out.append(
        f"{len(result.partition):,} actors in {result.n_factions:,} factions; "
        f"method {_md(result.method)}, resolution {result.resolution:.4g}, seed {result.seed}, "
        f"{result.runs} run{'s' if result.runs != 1 else ''}; "
        f"modularity {result.modularity:.4f}."
    )
    out.append("")
    comp = result.components
    if comp is not None:
        out.append(
            f"- Components: {_plural(comp.count, 'connected component')}, the largest "
            f"with {comp.largest:,} of {comp.actors:,} actors ({comp.largest_share:.0%}); "
            f"{_plural(comp.unassigned, 'actor')} unassigned (components of fewer than "
            f"{comp.min_size})."
        )
    sig = result.significance
    if sig is not None:
        verdict = "significant" if sig.significant else "not significant"
        out.append(f"- Community structure {verdict}: {_md(sig.describe())}.")
    if comp is not None or sig is not None:
        out.append("")
    for note in result.notes:
        out.append(f"- Note: {_md(note)}")
    if result.notes:
        out.append("")
    out += [
        "| id | name | size | cohesion | internal share | central members |",
        "| ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for s in summaries:
        central = ", ".join(_md(c["label"]) for c in s["central"])
        out.append(
            f"| {s['id']} | {_md(s['name'])} | {s['size']} | {s['cohesion']:.2f} | "
            f"{s['internal_share']:.2f} | {central} |"
        )
    out.append("")
    for s in summaries:
        out.append(f"## Faction {s['id']}: {_md(s['name'])}")
        out.append("")
        out.append(
            f"- {s['size']} actors, {s['ties']} ties inside (density {s['density']:.3f}); "
            f"cohesion {s['cohesion']:.2f}; internal weight {s['internal_weight']:g}, "
            f"external weight {s['external_weight']:g} "
            f"(internal share {s['internal_share']:.2f})"
        )
        out.append(f"- Kinds: {_fmt_counter(s['kinds'])}")
        out.append(f"- Parties: {_fmt_counter(s['parties'])}")
        if s["declared"]:
            out.append(f"- Declared factions: {_fmt_counter(s['declared'])}")
        central = ", ".join(
            f"{_md(c['label'])} ({_md(c['actor'])}, {c['strength']:g})" for c in s["central"]
        )
        out.append(f"- Central members: {central or 'none'}")
        if s["top_topics"]:
            out.append(f"- Topics: {_fmt_counter(s['top_topics'])}")
        out.append("")
    if lines_of_fault:
        out += ["## Fault lines", ""]
        for row in lines_of_fault:
            out.append(f"- {_md(row['summary'])}")
            if row.get("verdict", "split" if row["split"] else "") == "split" and row["outliers"]:
                who = ", ".join(
                    f"{_md(o['label'])} (faction {o['faction']})" for o in row["outliers"][:20]
                )
                more = len(row["outliers"]) - 20
                out.append(f"  - Outside faction {row['main_faction']}: {who}")
                if more > 0:
                    out[-1] += f" and {more} more"
        out.append("")
    return write_text(path, "\n".join(out))
