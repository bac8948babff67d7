"""Bridge figures: the actors who connect factions, how surely, and why.

Given the weighted influence graph and a faction partition, this module measures per
actor how much it sits *between* factions: weighted betweenness (Freeman 1977, computed
with Brandes' algorithm in igraph) and its restriction to the shortest paths between
actors of different factions, the participation coefficient and within-faction
z-score with the cartographic role they imply (Guimerà & Amaral 2005), Burt's
constraint and effective size (Burt 1992), and the Gould & Fernandez (1989) brokerage
roles. It also tests each actor's ties against random ties of the same number at its
faction's rate, so that only actors whose position across factions stands out from
chance are called bridges. :func:`bridge_figures` combines everything into one ranked
list, each row carrying the evidence, its strength, and a sentence that says in words
why the actor is (or is not) a bridge; :func:`bridge_warnings` says what the list
cannot claim. Actors missing from the partition are *unassigned*: no faction, no
bridge. Results are plain structures; :func:`apply_bridges` is the only function that
writes onto the graph. The CSV and Markdown writers neutralise hostile names.

Everything except brokerage works on the *undirected projection*: the tie between two
actors weighs the sum of both directions (``w(u, v) + w(v, u)``), not one of them as
``DiGraph.to_undirected`` would keep. Brokerage uses the directed graph, because its
roles are defined by who sends to whom.

The heavy lifting is vectorised (scipy sparse matrices, numpy) so the full bridge list
of a graph of 100,000 actors and a million edges takes seconds: triangles are
enumerated once with a degree-ordered orientation and reused for constraint, effective
size and the closed two-paths that brokerage must not count.
"""

from __future__ import annotations

import csv
import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.stats import rankdata

from mapper.analysis.strength import EvidenceWarning
from mapper.errors import AnalysisError
from mapper.fsutil import atomic_open, write_text
from mapper.graph.evidence import IN_TABLE, edge_evidence, evidence_table

__all__ = [
    "BRIDGE_CSV_COLUMNS",
    "BRIDGE_FDR",
    "BROKERAGE_ROLES",
    "CROSS_FACTION_ROLES",
    "MAX_EXACT_NODES",
    "MIN_BRIDGE_TIES",
    "MIN_CROSS_SHARE",
    "MIN_JUDGED_TIES",
    "MIN_OUTSIDE_SHARE",
    "PRIOR_TIES",
    "REDUCED_NODES",
    "ROUTING_SD",
    "SCORE_WEIGHTS",
    "apply_bridges",
    "betweenness",
    "bridge_figures",
    "bridge_warnings",
    "brokerage_roles",
    "cartographic_role",
    "constraint",
    "cross_faction_betweenness",
    "csv_cell",
    "effective_size",
    "md_link",
    "md_text",
    "participation_coefficient",
    "within_faction_z",
    "write_bridges_csv",
    "write_bridges_md",
]

#: Gould & Fernandez roles, in the order they are reported.
BROKERAGE_ROLES: tuple[str, ...] = (
    "coordinator",
    "itinerant",
    "representative",
    "gatekeeper",
    "liaison",
)
#: The roles whose two-path crosses a faction boundary (all but coordinator).
CROSS_FACTION_ROLES: tuple[str, ...] = ("liaison", "gatekeeper", "representative", "itinerant")
#: Weights of the components of the bridge score: cross-faction betweenness and
#: cross-faction brokerage, each as a share of the largest value among the actors,
#: and the percentile of the participation z-score (how far an actor's ties outside
#: its main faction exceed what random ties would give) among the actors tested.
SCORE_WEIGHTS: dict[str, float] = {
    "cross_betweenness": 0.4,
    "participation_z": 0.3,
    "brokerage": 0.3,
}
#: The bridge rule. An actor in a faction is a bridge when at least this many of its
#: distinct neighbours lie outside its main faction (the one holding most of them) ...
MIN_BRIDGE_TIES = 2
#: ... and at least this share of its distinct neighbours (a scatter of single ties out
#: of a large home network is not a bridge, however unusual) ...
MIN_OUTSIDE_SHARE = 0.2
#: ... and either (by ties) its ties outside that faction, or into one other faction,
#: exceed what random ties of the same number would give, at this false discovery
#: rate over all the actors tested (Benjamini-Hochberg adjusted p-value at most it) ...
BRIDGE_FDR = 0.05
#: ... or (by paths) it lies on at least this share of the shortest paths between
#: actors of different factions.
MIN_CROSS_SHARE = 0.25
#: A bridge by paths must not be a hub that merely routes its own faction to the
#: exits: its own ties must leave its main faction no more than this many standard
#: deviations less often than random ties at its faction's rate would.
ROUTING_SD = 1.0
#: The null model's baseline: an actor's ties leave faction ``g`` as often as the ties
#: of ``g``'s other members do, pulled towards the rate of the whole network as if by
#: this many more ties (so a faction with few ties gets a cautious baseline); and they
#: land in each other faction as the ties leaving ``g`` do, pulled the same way
#: towards each faction's share of all tie ends.
PRIOR_TIES = 10.0
#: The baseline is estimated again without the bridges found, at most this many
#: times in all (it stops as soon as no new bridge appears).
BASELINE_ROUNDS = 5
#: An actor with fewer distinct ties than this cannot be told apart from chance at
#: the usual baselines; when most actors have fewer, the bridge list is "thin".
MIN_JUDGED_TIES = 4
#: Default size of the candidate set for the reduced betweenness of large graphs.
REDUCED_NODES = 2500
#: Default largest number of actors for exact betweenness. Measured on the benchmark
#: graphs (``benchmarks/run.py``; 2 cores shared with other jobs, load 2-3): exact
#: igraph betweenness took 1.4 s at 2,000 actors (17k ties), 8 s at 5,000 (42k) and
#: 36-69 s at 10,000 (84k); the reduced computation on 2,500 candidates 1.7-1.9 s.
#: So the bridges stage stayed under about 10 s at 10,000 actors. Cross-faction
#: betweenness runs the same passes again from every faction but the largest, so
#: the bridge list now spends 1.7-2.0 times that CPU time on betweenness (measured:
#: 2,000 and 10,000 benchmark actors, one process).
MAX_EXACT_NODES = 5000
#: From this many actors, exact betweenness is summed from two halves (the sources of
#: even and of odd index), computed in two forked processes when that is safe and a
#: second core is available. The sum is exact, and the same whichever way it ran.
SPLIT_BETWEENNESS_NODES = 2000

_TRIANGLE_CHUNK = 2_000_000  # wedges tested per vectorised block


# --------------------------------------------------------------------------------------
# Arrays shared by every measure
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Arrays:
    """The graph as index arrays: nodes, directed arcs and the undirected projection."""

    nodes: list[Any]
    index: dict[Any, int]
    src: np.ndarray  # directed arcs (no self-loops, no zero weights)
    dst: np.ndarray
    w: np.ndarray
    sym: sp.csr_matrix  # undirected projection, both directions summed, sorted indices

    @property
    def n(self) -> int:
        return len(self.nodes)


def _arrays(G: nx.Graph, weight: str | None) -> _Arrays:
    """Read ``G`` once into numpy arrays (see :class:`_Arrays`)."""
    if G.is_multigraph():
        raise AnalysisError(
            "bridge measures need a simple graph, not a multigraph",
            hint="collapse parallel edges into one weighted edge first",
        )
    nodes = list(G)
    index = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    adj = G._adj  # the raw adjacency dicts: several times faster than G.adj views
    deg = np.fromiter((len(nbrs) for nbrs in adj.values()), dtype=np.int64, count=n)
    m = int(deg.sum())
    src = np.repeat(np.arange(n, dtype=np.int64), deg)
    dst = np.fromiter((index[v] for nbrs in adj.values() for v in nbrs), dtype=np.int64, count=m)
    if weight is None:
        w = np.ones(m)
    else:
        try:
            w = np.fromiter(
                (data.get(weight, 1.0) for nbrs in adj.values() for data in nbrs.values()),
                dtype=np.float64,
                count=m,
            )
        except (TypeError, ValueError) as exc:
            u, v, value = next(
                (
                    (u, v, x)
                    for u, v, x in G.edges(data=weight, default=1.0)
                    if not isinstance(x, int | float | np.integer | np.floating)
                ),
                (None, None, None),
            )
            raise AnalysisError(
                f"edge {u!r} -> {v!r} has a weight that is not a number: {value!r}",
                field=weight,
            ) from exc
    if m and (not np.all(np.isfinite(w)) or np.any(w < 0)):
        bad = int(np.flatnonzero(~np.isfinite(w) | (w < 0))[0])
        raise AnalysisError(
            f"edge {nodes[src[bad]]!r} -> {nodes[dst[bad]]!r} has weight {w[bad]!r}",
            field=weight,
            hint="weights must be finite and non-negative",
        )
    undirected = None
    if G.is_directed() and G.graph.get("undirected_ties"):
        # ties read from an undirected graph file are one arc marked ``undirected``
        undirected = np.fromiter(
            (bool(data.get("undirected")) for nbrs in adj.values() for data in nbrs.values()),
            dtype=bool,
            count=m,
        )
    keep = (src != dst) & (w > 0)
    src, dst, w = src[keep], dst[keep], w[keep]
    arcs = sp.csr_matrix((w, (src, dst)), shape=(n, n))
    # An undirected Graph lists every edge in both directions already.
    sym = (arcs + arcs.T).tocsr() if G.is_directed() else arcs.tocsr()
    sym.sum_duplicates()
    sym.sort_indices()
    sym.eliminate_zeros()
    if undirected is not None:
        # brokerage reads arcs: an undirected tie goes both ways (the weights of the
        # symmetric matrix above already count it once)
        both = undirected[keep]
        have = np.sort(_keys(src, dst, n))
        back_src, back_dst = dst[both], src[both]
        pos = np.searchsorted(have, _keys(back_src, back_dst, n)).clip(max=max(len(have) - 1, 0))
        new = have[pos] != _keys(back_src, back_dst, n) if len(have) else np.ones(0, bool)
        src = np.concatenate((src, back_src[new]))
        dst = np.concatenate((dst, back_dst[new]))
        w = np.concatenate((w, w[both][new]))
    return _Arrays(nodes, index, src, dst, w, sym)


def _faction_codes(arrays: _Arrays, partition: Mapping[Any, int]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(code, fid)``: a 0..K-1 code per node and the faction id of each code.

    Nodes missing from ``partition`` each form their own one-actor faction, with fresh
    ids above the largest given id, so they never inflate a real faction. (Kept for
    :mod:`mapper.analysis.alliances`; the bridge measures use :func:`_assigned_codes`,
    which leaves such nodes unassigned.)
    """
    given = [partition.get(v) for v in arrays.nodes]
    try:
        known = [int(f) for f in given if f is not None]
    except (TypeError, ValueError) as exc:
        raise AnalysisError(
            "faction ids in the partition must be integers",
            hint="pass FactionResult.partition (actor -> int)",
        ) from exc
    nxt = (max(known) + 1) if known else 0
    ids = np.empty(arrays.n, dtype=np.int64)
    for i, f in enumerate(given):
        if f is None:
            ids[i] = nxt
            nxt += 1
        else:
            ids[i] = int(f)
    fid, code = np.unique(ids, return_inverse=True)
    return code.astype(np.int64), fid


def _assigned_codes(arrays: _Arrays, partition: Mapping[Any, int]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(code, fid)``: a 0..k-1 code per node (-1 when the node is missing from
    ``partition``, i.e. *unassigned*) and the faction id of each code.

    Unassigned actors form no faction: their ties are neither inside nor across
    factions, and they get no faction-based measure (see ``factions_interface``).
    """
    given = [partition.get(v) for v in arrays.nodes]
    try:
        ids = np.array([-1 if f is None else int(f) for f in given], dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(
            "faction ids in the partition must be integers",
            hint="pass FactionResult.partition (actor -> int)",
        ) from exc
    assigned = np.array([f is not None for f in given], dtype=bool)
    code = np.full(arrays.n, -1, dtype=np.int64)
    if not assigned.any():
        return code, np.zeros(0, dtype=np.int64)
    fid, inverse = np.unique(ids[assigned], return_inverse=True)
    code[assigned] = inverse
    return code, fid


def _onehot(code: np.ndarray, k: int) -> sp.csr_matrix:
    """Node x faction indicator matrix; nodes with a negative code get an empty row."""
    n = len(code)
    rows = np.flatnonzero(code >= 0)
    return sp.csr_matrix((np.ones(len(rows)), (rows, code[rows])), shape=(n, k))


def _keys(rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    return rows.astype(np.int64) * np.int64(n) + cols.astype(np.int64)


def _lookup(sorted_keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``query`` in ``sorted_keys`` and whether each was found."""
    if len(sorted_keys) == 0:
        return np.zeros(len(query), dtype=np.int64), np.zeros(len(query), dtype=bool)
    pos = np.searchsorted(sorted_keys, query)
    pos = np.minimum(pos, len(sorted_keys) - 1)
    return pos, sorted_keys[pos] == query


def _sym_keys(sym: sp.csr_matrix) -> np.ndarray:
    rows = np.repeat(np.arange(sym.shape[0], dtype=np.int64), np.diff(sym.indptr))
    return _keys(rows, sym.indices, sym.shape[0])


def _triangles(sym: sp.csr_matrix) -> np.ndarray:
    """All triangles of the undirected projection as an ``(t, 3)`` array of indices.

    Each triangle is listed once: nodes are ranked by degree, every edge is oriented
    from lower to higher rank, and each wedge of a node's forward neighbours is
    closed by a binary search among the oriented edges (the "forward" algorithm of
    Schank & Wagner 2005, vectorised in blocks). The cost is the number of forward
    wedges, at most ``O(m^1.5)``.
    """
    n = sym.shape[0]
    if n < 3 or sym.nnz == 0:
        return np.empty((0, 3), dtype=np.int64)
    deg = np.diff(sym.indptr)
    order = np.lexsort((np.arange(n), deg))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    coo = sym.tocoo()
    r, c = rank[coo.row], rank[coo.col]
    keep = r < c
    fwd = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.int8), (r[keep], c[keep])), shape=(n, n))
    fwd.sort_indices()
    indptr = fwd.indptr.astype(np.int64)
    indices = fwd.indices.astype(np.int64)
    e = len(indices)
    row_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    keys = _keys(row_of, indices, n)
    partners = indptr[row_of + 1] - np.arange(e, dtype=np.int64) - 1
    cum = np.cumsum(partners)
    found: list[np.ndarray] = []
    start = 0
    while start < e:
        base = cum[start - 1] if start else 0
        end = int(np.searchsorted(cum, base + _TRIANGLE_CHUNK, side="right"))
        end = max(end, start + 1)
        cnt = partners[start:end]
        total = int(cnt.sum())
        if total:
            left = np.repeat(np.arange(start, end, dtype=np.int64), cnt)
            offs = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            right = left + 1 + offs
            v, x = indices[left], indices[right]
            _, hit = _lookup(keys, _keys(v, x, n))
            if hit.any():
                found.append(np.column_stack([row_of[left[hit]], v[hit], x[hit]]))
        start = end
    if not found:
        return np.empty((0, 3), dtype=np.int64)
    return order[np.concatenate(found)]


# --------------------------------------------------------------------------------------
# Betweenness
# --------------------------------------------------------------------------------------


#: One betweenness job: the sources whose shortest paths are followed and the targets
#: they are counted to (``None``: every actor).
_Task = tuple[np.ndarray, np.ndarray | None]


def _run_tasks(g: Any, weights: list[float], tasks: Sequence[_Task], part: int) -> np.ndarray:
    """igraph subset betweenness of every task from the sources of one parity.

    ``part`` 0 takes the sources at even positions of each task, 1 those at odd
    positions, -1 all of them. Returns a ``(len(tasks), n)`` array; subset betweenness
    is a sum over sources, so the two parities add up to the whole.
    """
    out = np.zeros((len(tasks), g.vcount()))
    for i, (sources, targets) in enumerate(tasks):
        chosen = sources if part < 0 else sources[part::2]
        if len(chosen) == 0 or (targets is not None and len(targets) == 0):
            continue
        out[i] = g.betweenness(
            weights=weights,
            directed=False,
            sources=chosen.tolist(),
            targets=None if targets is None else targets.tolist(),
        )
    return out


def _tasks_half(g: Any, weights: list[float], tasks: Sequence[_Task], conn: Any) -> None:
    """Child process body: the odd-position sources of every task, sent back as an array."""
    try:
        conn.send(_run_tasks(g, weights, tasks, 1))
    finally:
        conn.close()


def _split_tasks(g: Any, weights: list[float], tasks: Sequence[_Task], jobs: int) -> np.ndarray:
    """:func:`_run_tasks` as the sum of the even-source and odd-source halves; the odd
    half in a forked child when ``jobs > 1`` and forking is safe (else, or if the child
    fails, here)."""
    from mapper.parallel import fork_available as _fork_available

    shape = (len(tasks), g.vcount())
    proc = recv = None
    if jobs > 1 and _fork_available():
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_tasks_half, args=(g, weights, tasks, send))
        proc.daemon = True
        try:
            proc.start()
        except OSError:  # no process to be had (limits, memory): do it here
            proc = None
        finally:
            send.close()
    try:
        first = _run_tasks(g, weights, tasks, 0)
        other = None
        if proc is not None and recv is not None:
            try:
                other = recv.recv()
            except (EOFError, OSError):
                other = None
            proc.join()
            if proc.exitcode != 0 or not isinstance(other, np.ndarray) or other.shape != shape:
                other = None
        if other is None:
            other = _run_tasks(g, weights, tasks, 1)
    finally:
        if recv is not None:
            recv.close()
        if proc is not None and proc.is_alive():
            proc.terminate()
            proc.join()
    return first + other


def _jobs(n_jobs: int | None) -> int:
    if n_jobs is not None:
        return max(1, int(n_jobs))
    from mapper.parallel import cpu_count as _cpu_count

    return min(2, _cpu_count())


def _cross_tasks(code: np.ndarray) -> list[_Task]:
    """Subset-betweenness jobs that visit every pair of actors in different factions once.

    Factions are taken from the smallest to the largest: the members of each are the
    sources, the members of every *later* faction the targets. A pair of factions is
    then counted from one side only, and the largest faction is never a source, so the
    jobs run ``A - (largest faction)`` single-source passes for ``A`` assigned actors,
    fewer than the ``n`` of full betweenness. Unassigned actors (code -1) are neither.
    """
    assigned = code >= 0
    if not assigned.any():
        return []
    k = int(code.max()) + 1
    sizes = np.bincount(code[assigned], minlength=k)
    present = np.flatnonzero(sizes)
    order = present[np.lexsort((present, sizes[present]))]  # smallest first, by id
    members = {int(f): np.flatnonzero(code == f) for f in order.tolist()}
    tasks: list[_Task] = []
    later: list[np.ndarray] = []
    for f in order[::-1].tolist():  # largest first: accumulate the targets
        if later:
            tasks.append((members[f], np.concatenate(later)))
        later.append(members[f])
    return tasks[::-1]


def _igraph_of(sym: sp.csr_matrix) -> tuple[Any, list[float]] | None:
    """The undirected projection as an igraph Graph with distances ``1 / weight``."""
    import igraph as ig

    upper = sp.triu(sym, k=1).tocoo()
    if upper.nnz == 0:
        return None
    edges = np.column_stack([upper.row, upper.col]).tolist()
    g = ig.Graph(n=sym.shape[0], edges=edges, directed=False)
    return g, (1.0 / upper.data).tolist()


def _cross_pairs(sym: sp.csr_matrix, code: np.ndarray) -> np.ndarray:
    """Per actor, the pairs of actors in different factions that a path can join and
    that do not include the actor itself: the denominator of cross-faction betweenness.

    Pairs in different connected components have no path and are not counted.
    """
    from mapper.analysis.strength import component_labels

    n = sym.shape[0]
    assigned = code >= 0
    if not assigned.any():
        return np.zeros(n)
    coo = sp.triu(sym, k=1).tocoo()
    comp = component_labels(n, coo.row.astype(np.int64), coo.col.astype(np.int64))
    k = int(code.max()) + 1
    c = int(comp.max()) + 1
    keys = comp[assigned] * k + code[assigned]
    uniq, counts = np.unique(keys, return_counts=True)
    total_c = np.bincount(comp[assigned], minlength=c).astype(float)
    squares_c = np.bincount(uniq // k, weights=counts.astype(float) ** 2, minlength=c)
    total = float(((total_c**2 - squares_c) / 2.0).sum())
    own = np.zeros(n)
    same = counts[np.searchsorted(uniq, keys)]
    own[assigned] = total_c[comp[assigned]] - same
    return total - own


def _igraph_betweenness(
    sym: sp.csr_matrix, n_jobs: int | None = None, code: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Exact weighted betweenness of an undirected projection, normalised like networkx,
    and (when ``code`` gives factions) the cross-faction betweenness share.

    Both come from one pass plan: the ``n`` sources of full betweenness plus the jobs of
    :func:`_cross_tasks`, split by source parity over two processes from
    :data:`SPLIT_BETWEENNESS_NODES` actors on.
    """
    n = sym.shape[0]
    zeros = np.zeros(n)
    built = _igraph_of(sym) if n >= 3 else None
    if built is None:
        return zeros, zeros.copy()
    g, weights = built
    tasks: list[_Task] = [(np.arange(n), None)]
    cross_tasks = _cross_tasks(code) if code is not None else []
    tasks += cross_tasks
    if n >= SPLIT_BETWEENNESS_NODES:
        values = _split_tasks(g, weights, tasks, _jobs(n_jobs))
    else:
        values = _run_tasks(g, weights, tasks, -1)
    # igraph halves undirected subset betweenness: with every actor as a source each
    # unordered pair is met twice, so the full value counts each pair once; networkx's
    # normalisation for undirected graphs is 2 / ((n - 1)(n - 2)) on that count.
    full = values[0] * (2.0 / ((n - 1) * (n - 2)))
    cross = zeros.copy()
    if cross_tasks and code is not None:
        # each cross pair was met once (from its earlier faction), so undo the halving
        raw = 2.0 * values[1:].sum(axis=0)
        pairs = _cross_pairs(sym, code)
        ok = pairs > 0
        cross[ok] = np.clip(raw[ok] / pairs[ok], 0.0, 1.0)
    return full, cross


def _default_candidates(sym: sp.csr_matrix, size: int) -> np.ndarray:
    strength = np.asarray(sym.sum(axis=1)).ravel()
    order = np.lexsort((np.arange(len(strength)), -strength))
    return order[:size]


def _reduced_betweenness(
    sym: sp.csr_matrix,
    candidates: np.ndarray,
    size: int,
    n_jobs: int | None = None,
    code: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact betweenness (and cross-faction share) inside the subgraph induced by
    ``candidates``; every other actor gets 0."""
    n = sym.shape[0]
    chosen = np.unique(np.asarray(candidates, dtype=np.int64)[:size])
    full, cross = np.zeros(n), np.zeros(n)
    if len(chosen) >= 3:
        sub = sym[chosen][:, chosen].tocsr()
        sub_code = None if code is None else code[chosen]
        full[chosen], cross[chosen] = _igraph_betweenness(sub, n_jobs, sub_code)
    return full, cross


def _betweenness_pair(
    arrays: _Arrays,
    max_exact_nodes: int,
    reduced_nodes: int,
    candidates: np.ndarray | None,
    n_jobs: int | None = None,
    code: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(betweenness, cross-faction share, method)`` by the exact/reduced strategy."""
    n = arrays.n
    if n <= max_exact_nodes:
        return (*_igraph_betweenness(arrays.sym, n_jobs, code), "exact")
    if reduced_nodes < 3:
        return np.zeros(n), np.zeros(n), "none"
    if candidates is None:
        candidates = _default_candidates(arrays.sym, reduced_nodes)
    return (
        *_reduced_betweenness(arrays.sym, candidates, reduced_nodes, n_jobs, code),
        "reduced",
    )


def _betweenness_array(
    arrays: _Arrays,
    max_exact_nodes: int,
    reduced_nodes: int,
    candidates: np.ndarray | None,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, str]:
    full, _, method = _betweenness_pair(arrays, max_exact_nodes, reduced_nodes, candidates, n_jobs)
    return full, method


def betweenness(
    G: nx.Graph,
    *,
    weight: str | None = "weight",
    max_exact_nodes: int = MAX_EXACT_NODES,
    reduced_nodes: int = REDUCED_NODES,
    candidates: Iterable[Any] | None = None,
    n_jobs: int | None = None,
) -> tuple[dict[Any, float], str]:
    """Weighted betweenness centrality of every actor, and how it was computed.

    Betweenness is computed on the undirected projection of ``G`` (the weights of
    ``u -> v`` and ``v -> u`` summed), with the *distance* of a tie equal to
    ``1 / weight``: a tie built from many mentions, replies and reposts is a short
    path, a single passing mention a long one (Newman 2001; Brandes 2001). The
    undirected projection is used because a bridge carries attention both ways: on
    the directed graph an actor who is often mentioned but seldom mentions anyone
    (most politicians) would have no betweenness at all.

    Up to ``max_exact_nodes`` actors the values are exact (Brandes' algorithm in
    igraph, C code) and normalised like
    ``networkx.betweenness_centrality(normalized=True)`` on an undirected graph, i.e.
    divided by ``(n - 1)(n - 2) / 2``. Above it, exact betweenness takes hours, and
    sampled estimators proved useless for finding the top brokers, so the values are
    the exact betweenness *inside the subgraph induced by a candidate set* of
    ``reduced_nodes`` actors (by default the strongest ones), normalised by that
    subgraph's size; every other actor gets 0.0. The method is reported so that a
    reduced value is never mistaken for an exact one.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph.
    weight : str or None, default "weight"
        Edge attribute holding the tie strength (missing means 1); ``None`` counts
        every edge as 1.
    max_exact_nodes : int, default 5000 (:data:`MAX_EXACT_NODES`)
        Largest number of actors for which exact betweenness is computed.
    reduced_nodes : int, default 2500
        Size of the candidate set above ``max_exact_nodes``; below 3 the result is
        all zeros with method ``"none"``.
    candidates : iterable of nodes, optional
        The candidate actors for the reduced computation, best first (only the
        first ``reduced_nodes`` are used). Defaults to the actors with the largest
        strength (weighted degree).
    n_jobs : int, optional
        Processes for graphs (or candidate sets) of at least
        :data:`SPLIT_BETWEENNESS_NODES` actors: the computation is split in two
        halves by source, the second in a forked process when ``n_jobs`` (default:
        the available cores, at most 2) is above 1 and forking is safe. The values
        do not depend on it.

    Returns
    -------
    values : dict
        Actor -> betweenness (a float in [0, 1]).
    method : str
        ``"exact"``, ``"reduced"`` or ``"none"``.

    Raises
    ------
    AnalysisError
        On a multigraph, or on a negative or non-numeric weight.

    Examples
    --------
    >>> import networkx as nx
    >>> values, method = betweenness(nx.path_graph(["a", "b", "c"]))
    >>> values["b"], method
    (1.0, 'exact')

    Notes
    -----
    Exact: ``O(n m + n^2 log n)`` time (Brandes 2001). Measured on the benchmark
    graphs (2 shared cores): 1.4 s for 2,000 actors (17k ties), 8 s for 5,000 (42k),
    36-69 s for 10,000 (84k) in one process, 10-19 s in two. Reduced: the same on the
    candidate subgraph, about 2 s for 2,500 candidates.

    References
    ----------
    .. [1] Freeman, L. C. (1977). A set of measures of centrality based on
       betweenness. *Sociometry* 40(1), 35-41.
    .. [2] Brandes, U. (2001). A faster algorithm for betweenness centrality.
       *Journal of Mathematical Sociology* 25(2), 163-177.
    .. [3] Newman, M. E. J. (2001). Scientific collaboration networks. II. Shortest
       paths, weighted networks, and centrality. *Physical Review E* 64, 016132.
    """
    arrays = _arrays(G, weight)
    cand = None
    if candidates is not None:
        cand = np.array([arrays.index[v] for v in candidates if v in arrays.index], dtype=np.int64)
    values, method = _betweenness_array(arrays, max_exact_nodes, reduced_nodes, cand, n_jobs)
    return dict(zip(arrays.nodes, values.tolist(), strict=True)), method


def cross_faction_betweenness(
    G: nx.Graph,
    partition: Mapping[Any, int],
    *,
    weight: str | None = "weight",
    max_exact_nodes: int = MAX_EXACT_NODES,
    reduced_nodes: int = REDUCED_NODES,
    candidates: Iterable[Any] | None = None,
    n_jobs: int | None = None,
) -> tuple[dict[Any, float], str]:
    """Cross-faction betweenness: the share of the shortest paths *between actors of
    different factions* that run through each actor.

    ``c(v) = sum over pairs {s, t} with faction(s) != faction(t) and v not in {s, t} of
    sigma_st(v) / sigma_st``, divided by the number of such pairs that a path can join
    (pairs in different connected components have no path). ``sigma_st`` counts the
    shortest ``s``-``t`` paths and ``sigma_st(v)`` those through ``v``; paths are
    measured as in :func:`betweenness` (undirected projection, distance
    ``1 / weight``). 0.25 means a quarter of all shortest routes between factions pass
    through the actor. Paths inside one faction do not count, however many run
    through an actor, and unassigned actors (missing from ``partition``) are neither
    ends of a counted path nor given a value (0.0).

    It is computed with igraph's subset betweenness (Brandes 2008): the members of
    each faction, smallest faction first, are the sources and the members of the
    later factions the targets, so each pair is visited once and the largest faction
    is never a source; the cost is at most that of full betweenness. Above
    ``max_exact_nodes`` actors it is computed inside the candidate subgraph, as
    :func:`betweenness` does, and the method says so.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph.
    partition : mapping
        Actor -> faction id (integers).
    weight, max_exact_nodes, reduced_nodes, candidates, n_jobs
        As for :func:`betweenness`.

    Returns
    -------
    values : dict
        Actor -> share in [0, 1].
    method : str
        ``"exact"``, ``"reduced"`` or ``"none"``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.path_graph(["a", "b", "c", "d"])
    >>> values, _ = cross_faction_betweenness(G, {"a": 0, "b": 0, "c": 1, "d": 1})
    >>> values["b"]  # the cross pairs without b, a-c and a-d, both pass b
    1.0
    >>> values, _ = cross_faction_betweenness(G, {"a": 0, "b": 1, "c": 1, "d": 1})
    >>> values["b"], values["c"]  # a-c and a-d pass b; only a-d passes c, of a-b and a-d
    (1.0, 0.5)

    References
    ----------
    .. [1] Freeman, L. C. (1977). A set of measures of centrality based on
       betweenness. *Sociometry* 40(1), 35-41.
    .. [2] Brandes, U. (2008). On variants of shortest-path betweenness centrality
       and their generic computation. *Social Networks* 30(2), 136-145.
    """
    arrays = _arrays(G, weight)
    code, _ = _assigned_codes(arrays, partition)
    cand = None
    if candidates is not None:
        cand = np.array([arrays.index[v] for v in candidates if v in arrays.index], dtype=np.int64)
    _, cross, method = _betweenness_pair(arrays, max_exact_nodes, reduced_nodes, cand, n_jobs, code)
    cross[code < 0] = 0.0
    return dict(zip(arrays.nodes, cross.tolist(), strict=True)), method


# --------------------------------------------------------------------------------------
# Participation, within-faction z, cartographic roles
# --------------------------------------------------------------------------------------


def _faction_strength(arrays: _Arrays, code: np.ndarray, k: int) -> sp.csr_matrix:
    """Node x faction matrix of tie weight to each faction (undirected projection).

    Ties to unassigned actors (code -1) count nowhere, and the rows of unassigned
    actors are empty: they have no faction to be inside or outside of.
    """
    onehot = _onehot(code, k)
    keep = sp.diags((code >= 0).astype(float))
    return (keep @ arrays.sym @ onehot).tocsr()


def _participation_array(kf: sp.csr_matrix) -> np.ndarray:
    strength = np.asarray(kf.sum(axis=1)).ravel()
    squares = np.asarray(kf.multiply(kf).sum(axis=1)).ravel()
    out = np.zeros(len(strength))
    ok = strength > 0
    out[ok] = 1.0 - squares[ok] / strength[ok] ** 2
    return np.clip(out, 0.0, 1.0)


def _within_z_array(kf: sp.csr_matrix, code: np.ndarray, k: int) -> np.ndarray:
    n = len(code)
    out = np.zeros(n)
    rows = np.flatnonzero(code >= 0)
    if len(rows) == 0:
        return out
    own = code[rows]
    inside = np.asarray(kf[rows, own]).ravel()
    size = np.bincount(own, minlength=k).astype(float)
    mean = np.bincount(own, weights=inside, minlength=k) / np.maximum(size, 1)
    var = np.bincount(own, weights=inside**2, minlength=k) / np.maximum(size, 1) - mean**2
    std = np.sqrt(np.maximum(var, 0.0))
    sd = std[own]
    ok = sd > 1e-12 * np.maximum(1.0, np.abs(mean[own]))
    out[rows[ok]] = (inside[ok] - mean[own][ok]) / sd[ok]
    return out


def participation_coefficient(
    G: nx.Graph, partition: Mapping[Any, int], *, weight: str | None = "weight"
) -> dict[Any, float]:
    """Participation coefficient of every actor: how evenly its ties spread over factions.

    ``P_i = 1 - sum_s (k_is / k_i)^2`` where ``k_is`` is the weight of actor ``i``'s
    ties to faction ``s`` and ``k_i`` its total, on the undirected projection (both
    directions summed). 0 means every tie is in one faction; the maximum,
    ``1 - 1/K``, means ties spread evenly over ``K`` factions. Isolated actors get 0.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph.
    partition : mapping
        Actor -> faction id. Actors missing from it are *unassigned*: their ties
        count in no faction, and their own coefficient is 0.
    weight : str or None, default "weight"
        Edge attribute of the tie strength; ``None`` counts edges.

    Returns
    -------
    dict
        Actor -> participation coefficient in [0, 1).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.star_graph(4)
    >>> participation_coefficient(G, {0: 0, 1: 0, 2: 0, 3: 1, 4: 1})[0]
    0.5

    References
    ----------
    .. [1] Guimerà, R. & Amaral, L. A. N. (2005). Functional cartography of complex
       metabolic networks. *Nature* 433, 895-900.
    """
    arrays = _arrays(G, weight)
    code, fid = _assigned_codes(arrays, partition)
    values = _participation_array(_faction_strength(arrays, code, len(fid)))
    return dict(zip(arrays.nodes, values.tolist(), strict=True))


def within_faction_z(
    G: nx.Graph, partition: Mapping[Any, int], *, weight: str | None = "weight"
) -> dict[Any, float]:
    """Within-faction degree z-score: how central an actor is inside its own faction.

    ``z_i = (k_i,s_i - mean_s) / std_s`` where ``k_i,s_i`` is the weight of ``i``'s
    ties inside its own faction ``s_i`` (undirected projection, both directions
    summed) and the mean and (population) standard deviation run over the members of
    ``s_i``. A faction whose members are all alike has z = 0 for everyone.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph.
    partition : mapping
        Actor -> faction id. Actors missing from it are *unassigned*: their ties
        count in no faction, and their own z is 0.
    weight : str or None, default "weight"
        Edge attribute of the tie strength; ``None`` counts edges.

    Returns
    -------
    dict
        Actor -> z-score.

    Examples
    --------
    >>> import networkx as nx
    >>> z = within_faction_z(nx.star_graph(3), {0: 0, 1: 0, 2: 0, 3: 0})
    >>> round(z[0], 4)
    1.7321

    References
    ----------
    .. [1] Guimerà, R. & Amaral, L. A. N. (2005). Functional cartography of complex
       metabolic networks. *Nature* 433, 895-900.
    """
    arrays = _arrays(G, weight)
    code, fid = _assigned_codes(arrays, partition)
    kf = _faction_strength(arrays, code, len(fid))
    values = _within_z_array(kf, code, len(fid))
    return dict(zip(arrays.nodes, values.tolist(), strict=True))


def cartographic_role(z: float, p: float) -> str:
    """The Guimerà & Amaral role of an actor from its within-faction z and participation.

    Hubs have ``z >= 2.5``. Non-hubs: R1 ultra-peripheral (``p <= 0.05``), R2
    peripheral (``p <= 0.62``), R3 non-hub connector (``p <= 0.80``), R4 non-hub
    kinless (above). Hubs: R5 provincial hub (``p <= 0.30``), R6 connector hub
    (``p <= 0.75``), R7 kinless hub (above).

    Parameters
    ----------
    z : float
        Within-faction degree z-score.
    p : float
        Participation coefficient.

    Returns
    -------
    str
        ``"R1 ultra-peripheral"`` ... ``"R7 kinless hub"``.

    Examples
    --------
    >>> cartographic_role(3.0, 0.5)
    'R6 connector hub'
    >>> cartographic_role(0.1, 0.0)
    'R1 ultra-peripheral'

    References
    ----------
    .. [1] Guimerà, R. & Amaral, L. A. N. (2005). Functional cartography of complex
       metabolic networks. *Nature* 433, 895-900.
    """
    if z >= 2.5:
        if p <= 0.30:
            return "R5 provincial hub"
        if p <= 0.75:
            return "R6 connector hub"
        return "R7 kinless hub"
    if p <= 0.05:
        return "R1 ultra-peripheral"
    if p <= 0.62:
        return "R2 peripheral"
    if p <= 0.80:
        return "R3 non-hub connector"
    return "R4 non-hub kinless"


# --------------------------------------------------------------------------------------
# Burt's structural holes
# --------------------------------------------------------------------------------------


def _structural_holes(sym: sp.csr_matrix, tri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Burt's constraint and effective size of every node from the triangle list.

    With ``p_ij = a_ij / sum_k a_ik`` and ``m_jq = a_jq / max_k a_jk`` on the
    symmetric projection ``a``: the indirect part of ``i``'s investment in ``j`` and
    the redundancy of ``j`` for ``i`` are sums over the third node ``q`` of triangles
    ``{i, j, q}``; every other term of Burt's formulas is a single edge.
    """
    n = sym.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(sym.indptr))
    a = sym.data
    strength = np.bincount(rows, weights=a, minlength=n).astype(float)
    rowmax = sym.max(axis=1).toarray().ravel()
    p = a / strength[rows]
    mnorm = a / rowmax[rows]
    deg = np.diff(sym.indptr).astype(float)

    indirect = np.zeros(len(a))
    redundancy = np.zeros(n)
    if len(tri):
        keys = _sym_keys(sym)
        pos = {}
        for s, t in ((0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1)):
            pos[s, t], _ = _lookup(keys, _keys(tri[:, s], tri[:, t], n))
        for i, j, q in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
            # constraint: i's indirect investment in j through q
            indirect += np.bincount(
                pos[i, j], weights=p[pos[i, q]] * p[pos[q, j]], minlength=len(a)
            )
            # effective size: redundancy of alter j for ego i through q
            redundancy += np.bincount(
                tri[:, i], weights=p[pos[i, q]] * mnorm[pos[j, q]], minlength=n
            )
    cons = np.bincount(rows, weights=(p + indirect) ** 2, minlength=n).astype(float)
    esize = deg - redundancy
    isolated = deg == 0
    cons[isolated] = np.nan
    esize[isolated] = np.nan
    return cons, esize


def constraint(G: nx.Graph, *, weight: str | None = "weight") -> dict[Any, float]:
    """Burt's constraint of every actor: how much its contacts are tied to each other.

    ``c_i = sum_j (p_ij + sum_q p_iq p_qj)^2`` over the neighbours ``j`` of ``i``,
    where ``p_ij`` is the share of ``i``'s tie weight invested in ``j`` on the
    undirected projection (both directions summed, which is networkx's "mutual
    weight"). Low constraint means many structural holes: the actor's contacts do
    not know one another, so it brokers between them. Isolated actors get NaN, as in
    networkx.

    The result equals ``networkx.constraint(G, weight=weight)`` but is computed from
    one vectorised triangle enumeration instead of a Python loop over ego networks
    or a dense ``n x n`` product, so it runs on graphs of a million edges.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph.
    weight : str or None, default "weight"
        Edge attribute of the tie strength; ``None`` counts edges.

    Returns
    -------
    dict
        Actor -> constraint (NaN for isolated actors).

    Examples
    --------
    >>> import networkx as nx
    >>> round(constraint(nx.star_graph(3))[0], 4)
    0.3333

    Notes
    -----
    ``O(m + W)`` where ``W`` is the number of forward wedges of the degree-ordered
    orientation (at most ``O(m^1.5)``).

    References
    ----------
    .. [1] Burt, R. S. (1992). *Structural Holes: The Social Structure of
       Competition*. Harvard University Press.
    """
    arrays = _arrays(G, weight)
    cons, _ = _structural_holes(arrays.sym, _triangles(arrays.sym))
    return dict(zip(arrays.nodes, cons.tolist(), strict=True))


def effective_size(G: nx.Graph, *, weight: str | None = "weight") -> dict[Any, float]:
    """Burt's effective size of every actor's network: its non-redundant contacts.

    ``e_i = sum_j (1 - sum_q p_iq m_jq)`` over the neighbours ``j`` of ``i``, where
    ``p_iq`` is ``i``'s share of tie weight invested in ``q`` and ``m_jq`` the weight
    of ``j``'s tie to ``q`` divided by ``j``'s strongest tie, on the undirected
    projection. For unweighted ties this is Borgatti's ``n - 2t/n``. Isolated actors
    get NaN, as in networkx, whose ``effective_size`` this equals.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph.
    weight : str or None, default "weight"
        Edge attribute of the tie strength; ``None`` counts edges.

    Returns
    -------
    dict
        Actor -> effective size (NaN for isolated actors).

    Examples
    --------
    >>> import networkx as nx
    >>> effective_size(nx.star_graph(3))[0]
    3.0

    References
    ----------
    .. [1] Burt, R. S. (1992). *Structural Holes: The Social Structure of
       Competition*. Harvard University Press.
    .. [2] Borgatti, S. P. (1997). Structural holes: unpacking Burt's redundancy
       measures. *Connections* 20(1), 35-38.
    """
    arrays = _arrays(G, weight)
    _, esize = _structural_holes(arrays.sym, _triangles(arrays.sym))
    return dict(zip(arrays.nodes, esize.tolist(), strict=True))


# --------------------------------------------------------------------------------------
# Gould & Fernandez brokerage
# --------------------------------------------------------------------------------------


def _brokerage_array(arrays: _Arrays, code: np.ndarray, k: int, tri: np.ndarray) -> np.ndarray:
    """``(n, 5)`` int array of open two-paths per broker and role (BROKERAGE_ROLES order).

    Only arcs between assigned actors (code >= 0) take part: a two-path that touches
    an unassigned actor has no faction pattern.
    """
    n = arrays.n
    both = (code[arrays.src] >= 0) & (code[arrays.dst] >= 0)
    src, dst = arrays.src[both], arrays.dst[both]
    if len(src) == 0:
        return np.zeros((n, 5), dtype=np.int64)
    if len(tri):
        tri = tri[(code[tri] >= 0).all(axis=1)]
    same = code[src] == code[dst]
    in_tot = np.bincount(dst, minlength=n).astype(np.int64)
    out_tot = np.bincount(src, minlength=n).astype(np.int64)
    in_own = np.bincount(dst[same], minlength=n).astype(np.int64)
    out_own = np.bincount(src[same], minlength=n).astype(np.int64)
    ones = np.ones(len(src))
    cin = sp.csr_matrix((ones, (dst, code[src])), shape=(n, k))
    cout = sp.csr_matrix((ones, (src, code[dst])), shape=(n, k))
    # sum over factions f of (in-neighbours in f) * (out-neighbours in f)
    same_pairs = np.rint(np.asarray(cin.multiply(cout).sum(axis=1)).ravel()).astype(np.int64)

    # a -> b -> a is not a two-path: remove a == c (same faction as itself)
    dkeys = _keys(src, dst, n)
    order = np.argsort(dkeys)
    dkeys_sorted = dkeys[order]
    _, recip = _lookup(dkeys_sorted, _keys(dst, src, n))
    mutual_own = np.bincount(src[recip & same], minlength=n).astype(np.int64)
    mutual_all = np.bincount(src[recip], minlength=n).astype(np.int64)

    coord = in_own * out_own - mutual_own
    itin = same_pairs - in_own * out_own - (mutual_all - mutual_own)
    rep = in_own * (out_tot - out_own)
    gate = (in_tot - in_own) * out_own
    liaison = in_tot * out_tot - same_pairs - rep - gate
    counts = np.column_stack([coord, itin, rep, gate, liaison])

    # closed two-paths a -> b -> c with a -> c are not brokerage: all lie in triangles
    if len(tri):
        arc = {}
        for s in range(3):
            for t in range(3):
                if s != t:
                    _, arc[s, t] = _lookup(dkeys_sorted, _keys(tri[:, s], tri[:, t], n))
        for a, b, c in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
            closed = arc[a, b] & arc[b, c] & arc[a, c]
            if not closed.any():
                continue
            fa, fb, fc = (code[tri[closed, x]] for x in (a, b, c))
            role = np.full(len(fa), 4)  # liaison
            role[(fa == fb) & (fb == fc)] = 0
            role[(fa == fc) & (fa != fb)] = 1
            role[(fa == fb) & (fb != fc)] = 2
            role[(fb == fc) & (fa != fb)] = 3
            np.subtract.at(counts, (tri[closed, b], role), 1)
    return counts


def brokerage_roles(G: nx.Graph, partition: Mapping[Any, int]) -> dict[Any, dict[str, int]]:
    """Gould & Fernandez brokerage roles of every actor on the directed graph.

    Actor ``b`` brokers every *open* two-path ``a -> b -> c``: ``a``, ``b``, ``c``
    distinct and no arc ``a -> c`` (if ``a`` reaches ``c`` directly, ``b`` is not
    needed; this is the definition of Gould & Fernandez and of ``sna::brokerage``;
    an arc ``c -> a`` does not close the path). Each path is classified by the
    factions of its three actors:

    - coordinator: all three in one faction;
    - itinerant (consultant): ``a`` and ``c`` together, ``b`` from another faction;
    - representative: ``a`` and ``b`` together, ``c`` in another faction;
    - gatekeeper: ``b`` and ``c`` together, ``a`` from another faction;
    - liaison: three different factions.

    An undirected graph counts every edge as two arcs.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph (edge weights are ignored).
    partition : mapping
        Actor -> faction id. Actors missing from it are *unassigned*: a two-path
        through, from or to one of them has no faction pattern and is not counted,
        so an unassigned actor brokers nothing.

    Returns
    -------
    dict
        Actor -> {role: number of open two-paths it brokers in that role}, with all
        five roles present.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("a", "b"), ("b", "c")])
    >>> brokerage_roles(G, {"a": 0, "b": 1, "c": 2})["b"]["liaison"]
    1

    Notes
    -----
    No two-path is enumerated. For broker ``b`` with ``I_f`` in-neighbours and
    ``O_f`` out-neighbours in faction ``f``, the number of pairs ``(a, c)`` in
    factions ``(f, g)`` is ``I_f * O_g``; the sums of those products per role are
    taken from per-faction counts, then the pairs with ``a == c`` (reciprocated
    ties) and the closed pairs (transitive triads, found among the triangles of the
    undirected projection) are subtracted. Exact, in ``O(m + W)`` (see
    :func:`constraint`).

    References
    ----------
    .. [1] Gould, R. V. & Fernandez, R. M. (1989). Structures of mediation: a formal
       approach to brokerage in transaction networks. *Sociological Methodology* 19,
       89-126.
    """
    arrays = _arrays(G, None)
    code, fid = _assigned_codes(arrays, partition)
    counts = _brokerage_array(arrays, code, len(fid), _triangles(arrays.sym))
    return {
        v: dict(zip(BROKERAGE_ROLES, (int(x) for x in counts[i]), strict=True))
        for i, v in enumerate(arrays.nodes)
    }


# --------------------------------------------------------------------------------------
# The bridge list
# --------------------------------------------------------------------------------------


def _share_of_max(x: np.ndarray) -> np.ndarray:
    """Each value as a share of the largest (all zeros when none is positive)."""
    top = float(x.max()) if len(x) else 0.0
    return np.clip(x / top, 0.0, 1.0) if top > 0 else np.zeros(len(x))


def _percentile(x: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Rank of each value among the entries selected by ``among``, divided by their
    number (average ranks for ties; 1 for the largest); 0 outside the selection."""
    out = np.zeros(len(x))
    count = int(among.sum())
    if count:
        out[among] = rankdata(x[among], method="average") / count
    return out


def _strongest_neighbour(
    sym: sp.csr_matrix, code: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys ``node * k + faction`` and the strongest neighbour for each key
    (neighbours in a faction only: unassigned ones are left out)."""
    rows = np.repeat(np.arange(sym.shape[0], dtype=np.int64), np.diff(sym.indptr))
    cols = sym.indices.astype(np.int64)
    data = sym.data
    keep = code[cols] >= 0
    rows, cols, data = rows[keep], cols[keep], data[keep]
    keys = rows * k + code[cols]
    order = np.lexsort((cols, -data, keys))
    keys, cols = keys[order], cols[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return keys[first], cols[first]


@dataclass(frozen=True)
class _TieTests:
    """Per actor: its ties by faction and how they compare with random ties.

    Arrays of length n. ``main`` is the code of the faction holding most of the
    actor's distinct neighbours (-1 for actors without ties in a faction); ``outside``
    the neighbours outside it; ``q`` the chance that a random tie of an actor whose
    main faction is ``main`` leaves it; ``expected``, ``z``, ``p_outside`` compare
    ``outside`` with ``Binomial(degree, q)``. ``pair`` is the other faction where the
    actor's ties are most concentrated against chance, with ``pair_count`` ties there
    where ``pair_expected`` were expected and tail probability ``p_pair`` (already
    multiplied by the number of other factions); ``p`` the actor's p-value (the
    smaller of the two tests, doubled when both ran), ``p_adjusted`` its
    Benjamini-Hochberg adjustment over the actors tested (NaN when not tested).
    """

    degree: np.ndarray
    main: np.ndarray
    outside: np.ndarray
    q: np.ndarray
    expected: np.ndarray
    z: np.ndarray
    p_outside: np.ndarray
    pair: np.ndarray
    pair_count: np.ndarray
    pair_expected: np.ndarray
    p_pair: np.ndarray
    p: np.ndarray
    p_adjusted: np.ndarray
    tested: np.ndarray


def _tie_tests(
    binary: sp.csr_matrix,
    sym: sp.csr_matrix,
    code: np.ndarray,
    k: int,
    exclude: np.ndarray | None = None,
) -> _TieTests:
    """Test every assigned actor's ties against random ties of the same number.

    ``binary`` is the 0/1 undirected adjacency, ``sym`` the weighted one (for
    tie-breaks), ``exclude`` the actors set aside with all their ties (the bridges
    found so far): their ties count neither in any baseline nor in any actor's test.

    The null model is a block model of the observed mixing between factions (a
    degree-corrected stochastic block model, Karrer & Newman 2011, read on distinct
    ties): each of an actor's ``d`` distinct neighbours independently lies outside
    its main faction ``m`` with probability ``q_m``, the share of the ties of ``m``'s
    members that leave ``m``, counted without the actor's own ties, pulled towards
    the whole network's share by :data:`PRIOR_TIES`; a tie that leaves ``m`` lands in
    faction ``h`` in proportion to the ties from ``m`` to ``h``, pulled towards
    ``h``'s share of all tie ends. Two one-sided binomial tests follow: are there
    more ties outside ``m`` than ``Binomial(d, q_m)`` gives (a spread-out
    connector), and, with three factions or more, more ties in some one other faction
    ``h`` than ``Binomial(d, q_mh)`` gives (a broker between two factions;
    Bonferroni over the ``k - 1`` factions ``h``)? The actor's p-value is the
    smaller, doubled (Bonferroni over the two tests); with two factions the tests
    coincide and only the first runs.
    """
    from mapper.analysis.strength import binomial_excess, fdr_adjust

    n = len(code)
    kk = max(k, 1)
    assigned = code >= 0
    kept = assigned if exclude is None else assigned & ~exclude
    onehot_kept = _onehot(np.where(kept, code, -1), kk)
    rows_assigned = sp.diags(assigned.astype(float))
    counts = (rows_assigned @ binary @ onehot_kept).tocsr()  # neighbours that count
    counts.sort_indices()
    weights = (rows_assigned @ sym @ onehot_kept).tocsr()  # same sparsity pattern
    weights.sort_indices()
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(counts.indptr))
    cols = counts.indices.astype(np.int64)
    c = counts.data.astype(float)
    w = weights.data.astype(float)
    degree = np.bincount(rows, weights=c, minlength=n) if len(rows) else np.zeros(n)
    main = np.full(n, -1, dtype=np.int64)
    main_count = np.zeros(n)
    if len(rows):
        own = (cols == code[rows]).astype(np.int64)
        order = np.lexsort((cols, -w, -own, -c, rows))
        first = np.ones(len(order), dtype=bool)
        first[1:] = rows[order][1:] != rows[order][:-1]
        pick = order[first]
        main[rows[pick]] = cols[pick]
        main_count[rows[pick]] = c[pick]
    outside = degree - main_count
    has_main = main >= 0
    m = np.where(has_main, main, 0)

    # the baseline: the mixing between factions of the ties between kept actors ...
    mixing = (onehot_kept.T @ counts).tocsr()  # k x k, sparse: k can be large
    total_g = np.asarray(mixing.sum(axis=1)).ravel()
    inside_g = mixing.diagonal()
    total_m = total_g[m]
    out_m = total_m - inside_g[m]
    # ... without the actor's own ties: its row of the mixing (when it counts in its
    # main faction) and its main faction's members' ties to it
    mine = np.asarray(counts[np.arange(n), m]).ravel()  # its neighbours in m
    in_main = kept & has_main & (code == m)
    elsewhere = kept & has_main & (code != m)
    total_i = total_m - np.where(in_main, degree + mine, 0.0) - np.where(elsewhere, mine, 0.0)
    out_i = out_m - np.where(in_main, degree - mine, 0.0) - np.where(elsewhere, mine, 0.0)
    total_i, out_i = np.maximum(total_i, 0.0), np.maximum(out_i, 0.0)
    all_total = float(total_g.sum())
    # the prior's rate: the whole network's share of tie ends outside their faction,
    # bridges included (setting them aside must not make a faction look sealed)
    everyone = (rows_assigned @ binary @ _onehot(code, kk)).tocsr()
    ends = float(everyone.sum())
    inside = float(everyone[np.flatnonzero(assigned), code[assigned]].sum()) if ends else 0.0
    overall = (ends - inside) / ends if ends > 0 else 0.0
    q = (out_i + PRIOR_TIES * overall) / (total_i + PRIOR_TIES)
    q = np.where(has_main, np.clip(q, 0.0, 1.0), 0.0)
    expected, z, p_outside = binomial_excess(outside, degree, q)

    k_eff = int(np.count_nonzero(np.bincount(code[code >= 0], minlength=kk)))
    pair = np.full(n, -1, dtype=np.int64)
    pair_count = np.zeros(n)
    pair_expected = np.zeros(n)
    p_pair = np.ones(n)
    if k_eff >= 3 and len(rows):
        sel = cols != main[rows]
        r, h, ch = rows[sel], cols[sel], c[sel]
        mr = main[r]
        # ties from the main faction to h, the actor's own left out
        flow = np.asarray(mixing[mr, h]).ravel() - np.where(in_main[r], ch, 0.0)
        flow -= np.where(elsewhere[r] & (h == code[r]), mine[r], 0.0)
        flow = np.maximum(flow, 0.0)
        h_share = total_g[h] / np.maximum(all_total - total_g[mr], 1e-12)  # of tie ends
        share = (flow + PRIOR_TIES * h_share) / (out_i[r] + PRIOR_TIES)
        qh = np.clip(q[r] * share, 0.0, 1.0)
        exp_h, _, p_h = binomial_excess(ch, degree[r], qh)
        p_h = np.minimum(1.0, p_h * (k_eff - 1))
        best = np.lexsort((h, p_h, r))
        first = np.ones(len(best), dtype=bool)
        first[1:] = r[best][1:] != r[best][:-1]
        pick = best[first]
        pair[r[pick]] = h[pick]
        pair_count[r[pick]] = ch[pick]
        pair_expected[r[pick]] = exp_h[pick]
        p_pair[r[pick]] = p_h[pick]
        p = np.minimum(1.0, 2.0 * np.minimum(p_outside, p_pair))
    else:
        p = p_outside.copy()
    tested = has_main & (code >= 0) & (degree > 0) & (k_eff >= 2)
    p = np.where(tested, p, np.nan)
    return _TieTests(
        degree=degree,
        main=main,
        outside=outside,
        q=q,
        expected=expected,
        z=np.where(tested, z, 0.0),
        p_outside=p_outside,
        pair=pair,
        pair_count=pair_count,
        pair_expected=pair_expected,
        p_pair=p_pair,
        p=p,
        p_adjusted=fdr_adjust(p),
        tested=tested,
    )


def _edge_evidence(G: nx.Graph, u: Any, v: Any, weight: str | None) -> dict[str, Any]:
    """The first evidence item of the stronger direction of the tie between u and v."""
    best: tuple[float, list[Any]] | None = None
    for a, b in ((u, v), (v, u)):
        data = G.get_edge_data(a, b)
        if not data:
            continue
        evidence = edge_evidence(G, a, b)
        if not evidence:
            continue
        w = float(data.get(weight, 1.0)) if weight is not None else 1.0
        if best is None or w > best[0]:
            best = (w, evidence)
    if best is not None and isinstance(best[1][0], Mapping):
        item = best[1][0]
        return {
            "post": str(item.get("post") or ""),
            "url": str(item.get("url") or ""),
            "snippet": str(item.get("snippet") or ""),
        }
    return {"post": "", "url": "", "snippet": ""}


def _first_evidence(
    G: nx.Graph, pairs: Sequence[tuple[Any, Any]], weight: str | None
) -> list[dict[str, Any]]:
    """:func:`_edge_evidence` of every ``(u, v)`` of ``pairs``, with the graph's
    evidence table read once for all of them instead of once per tie (at 1M posts
    the bridge rows ask for about 200,000 ties)."""
    table = evidence_table(G)
    if table is None or not G.is_directed():
        return [_edge_evidence(G, u, v, weight) for u, v in pairs]
    lookups: list[tuple[Any, Any]] = []
    candidates: list[list[tuple[Mapping[str, Any], Any]]] = []
    for u, v in pairs:
        found: list[tuple[Mapping[str, Any], Any]] = []
        for a, b in ((u, v), (v, u)):
            data = G.get_edge_data(a, b)
            if not data:
                continue
            if data.get("evidence") is IN_TABLE:
                found.append((data, len(lookups)))
                lookups.append((a, b))
            else:
                found.append((data, edge_evidence(G, a, b)))
        candidates.append(found)
    counts, cols = table.columns(lookups)
    firsts: list[dict[str, Any] | None] = []
    at = 0
    for n in counts:
        firsts.append(
            {"post": cols["post"][at], "url": cols["url"][at], "snippet": cols["snippet"][at]}
            if n
            else None
        )
        at += n
    out: list[dict[str, Any]] = []
    for found in candidates:
        best: tuple[float, Any] | None = None
        for data, ref in found:
            item = firsts[ref] if type(ref) is int else (ref[0] if ref else None)
            if item is None:
                continue
            w = float(data.get(weight, 1.0)) if weight is not None else 1.0
            if best is None or w > best[0]:
                best = (w, item)
        if best is not None and isinstance(best[1], Mapping):
            item = best[1]
            out.append(
                {
                    "post": str(item.get("post") or ""),
                    "url": str(item.get("url") or ""),
                    "snippet": str(item.get("snippet") or ""),
                }
            )
        else:
            out.append({"post": "", "url": "", "snippet": ""})
    return out


def _faction_name(names: Mapping[int, str] | None, f: int) -> str:
    if names and f in names and names[f]:
        return str(names[f])
    return f"faction {f}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _join_words(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _p_text(p: float) -> str:
    """``p = 0.03`` / ``p < 0.001``."""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.2g}" if p < 0.01 else f"p = {p:.2f}"


def _share_text(x: float) -> str:
    """A share as a percentage, with a decimal below 10%."""
    pct = 100.0 * x
    if pct == 0:
        return "0%"
    if pct < 0.1:
        return "under 0.1%"
    return f"{pct:.1f}%" if pct < 10 else f"{pct:.0f}%"


@dataclass(frozen=True)
class _Context:
    """What the reason of one row needs besides the row itself."""

    names: Mapping[int, str] | None
    n: int  # actors
    k: int  # factions
    tested: int  # actors whose ties were tested
    method: str  # betweenness method
    degree: int  # distinct neighbours, assigned or not
    bt_rank: int
    cross_rank: int
    sd: float  # spread of the outside ties under the null
    pair_faction: int | None  # the other faction, when its test decided
    pair_count: int
    pair_expected: float
    p_outside: float  # the outside test alone
    p_pair: float  # the one-other-faction test alone (Bonferroni over factions)
    test_main: str  # the main faction in the test (when ties were set aside, it may differ)
    crosses: bool  # its ties leave its main faction at least as often as ordinary members'


def _paths_text(row: Mapping[str, Any], ctx: _Context) -> str:
    if ctx.method == "none":
        return "paths between factions not computed"
    where = " (reduced: among the best-connected actors)" if ctx.method == "reduced" else ""
    return (
        f"lies on {_share_text(row['cross_betweenness'])} of the shortest paths between "
        f"actors of different factions (rank {ctx.cross_rank} of {ctx.n}){where}"
    )


def _betweenness_text(ctx: _Context) -> str:
    if ctx.method == "none":
        return "betweenness not computed"
    if ctx.method == "reduced":
        return (
            f"betweenness rank {ctx.bt_rank} of {ctx.n} (reduced: among the best-connected actors)"
        )
    return f"betweenness rank {ctx.bt_rank} of {ctx.n}"


def _brokerage_text(row: Mapping[str, Any]) -> str:
    cross = [
        f"{row['brokerage'][role]} {role}"
        for role in CROSS_FACTION_ROLES
        if row["brokerage"][role] > 0
    ]
    n_cross = sum(row["brokerage"][role] for role in CROSS_FACTION_ROLES)
    if not cross:
        return "no cross-faction brokerage paths"
    return _join_words(cross) + (" brokerage path" if n_cross == 1 else " brokerage paths")


def _test_text(row: Mapping[str, Any], ctx: _Context, main: str) -> str:
    """The ties test in words: observed against random ties, and how sure."""
    exp = float(row["expected_outside"])
    z = float(row["participation_z"])
    p, q = float(row["p_value"]), float(row["p_adjusted"])
    total = int(row["tested_ties"])
    where = ctx.test_main or main
    head = f"{int(row['tested_outside'])} of {_plural(total, 'tie')} outside {where}"
    aside = sum(row["ties"].values()) - total
    if aside:
        head += f" (leaving aside {_plural(aside, 'tie')} to other bridges)"
    numbers = f"{exp:.1f} expected, {_p_text(ctx.p_outside)}"
    if q <= BRIDGE_FDR:
        if z > 0:
            text = f"{head}, {z:.1f} sd more than random ties of the same number would give"
        else:
            text = f"{head}, no more than random ties of the same number would give"
        text += f" ({numbers})"
        if ctx.pair_faction is not None:
            text += (
                f"; {ctx.pair_count} in {_faction_name(ctx.names, ctx.pair_faction)} alone, "
                f"where random ties would put {ctx.pair_expected:.1f} ({_p_text(ctx.p_pair)})"
            )
        return text
    if p <= BRIDGE_FDR:
        return (
            f"{head} ({numbers}); {_p_text(p)} for its ties as a whole, not significant "
            f"once all {ctx.tested} actors are tested (adjusted p = {q:.2g})"
        )
    if z > 0:
        return (
            f"{head}, not significantly more than random ties of the same number would "
            f"give ({numbers})"
        )
    return f"{head}, no more than random ties of the same number would give ({numbers})"


def _reason(row: dict[str, Any], ctx: _Context) -> str:
    who = row["name"] or str(row["actor"])
    ties = row["ties"]
    factions = row["factions"]
    total = sum(ties.values())
    bt = _betweenness_text(ctx)
    if row["faction"] is None:
        if not ctx.degree:
            return f"{who} has no ties, so cannot bridge factions."
        return (
            f"Not a bridge: {who} belongs to no faction (unassigned), so it cannot "
            f"bridge factions; {bt}."
        )
    if not factions:
        return f"{who} has no ties, so cannot bridge factions."
    if ctx.k < 2:
        return (
            f"Not a bridge: there is only one faction, so there is nothing to bridge; "
            f"{who} has {_plural(total, 'tie')}; {bt}."
        )
    first = factions[0]
    main = _faction_name(ctx.names, first)
    paths = _paths_text(row, ctx)
    brokerage = _brokerage_text(row)
    if row["is_bridge"]:
        shown = [f"{_faction_name(ctx.names, f)} ({_plural(ties[f], 'tie')})" for f in factions[:3]]
        more = len(factions) - 3
        text = _join_words(shown) + (f" and {_plural(more, 'more faction')}" if more > 0 else "")
        evidence = [_test_text(row, ctx, main), paths]
        if row["bridge_basis"] == "paths":  # the paths carry it: say so first
            evidence = [f"{paths}, at least the {MIN_CROSS_SHARE:.0%} the rule asks", evidence[0]]
        return f"{who} connects {text}: " + "; ".join([*evidence, brokerage, bt]) + "."
    if len(factions) == 1:
        if total == 1:
            head = f"Not a bridge: {who}'s only tie is within {main}"
        else:
            head = f"Not a bridge: all {total} of {who}'s ties are within {main}"
        return f"{head}; {paths}; {bt}."
    outside = int(row["ties_outside"])
    if outside < MIN_BRIDGE_TIES:
        why = f"only {_plural(outside, 'tie')} outside {main}"
    elif outside < MIN_OUTSIDE_SHARE * total:
        why = (
            f"too few of its ties outside {main} ({outside} of {total}, under the "
            f"{MIN_OUTSIDE_SHARE:.0%} a bridge needs)"
        )
    else:
        exp = float(row["expected_outside"])
        p, q = float(row["p_value"]), float(row["p_adjusted"])
        tested, tested_out = int(row["tested_ties"]), int(row["tested_outside"])
        aside = total - tested
        counted = f"{tested_out} of {tested}"
        if aside:
            counted += f", leaving aside {_plural(aside, 'tie')} to bridges"
        numbers = (
            f"{counted}; random ties of the same number would give {exp:.1f} ± "
            f"{ctx.sd:.1f}, {_p_text(ctx.p_outside)}"
        )
        where = ctx.test_main or main
        if p <= BRIDGE_FDR < q:
            why = (
                f"its ties outside {where} exceed chance ({numbers}; {_p_text(p)} for "
                f"its ties as a whole) but not by enough once all {ctx.tested} actors "
                f"are tested (adjusted p = {q:.2g})"
            )
        else:
            why = f"too few ties outside {where} to stand out from chance ({numbers})"
    if ctx.method != "none" and row["cross_betweenness"] < MIN_CROSS_SHARE:
        paths += f", under the {MIN_CROSS_SHARE:.0%} that would make it a bridge"
    elif ctx.method != "none" and not ctx.crosses:
        paths += (
            ", but its own ties cross factions less often than its faction's members' "
            "do, so the paths run through it rather than across it"
        )
    return (
        f"Not a bridge: {who} has {ties[first]} of {_plural(total, 'tie')} in {main}, "
        f"{why}; {paths}; {brokerage}; {bt}."
    )


def _crosses(outside: np.ndarray, degree: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Whether an actor's own ties leave its main faction about as often as ordinary
    members' do: no more than :data:`ROUTING_SD` standard deviations below. A hub that
    routes its own faction to the exits lies on many cross-faction paths too, but its
    ties cross far less often than its members' do."""
    spread = np.sqrt(np.maximum(degree * q * (1.0 - q), 0.0))
    return outside >= degree * q - ROUTING_SD * spread


def _bridge_rule(
    tests: _TieTests,
    full: _TieTests,
    cross: np.ndarray,
    method: str,
    k: int,
    assigned: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(by_ties, by_paths)``: who meets the bridge rule, and on which evidence.

    ``full`` counts all of an actor's ties (the floors and the crossing condition
    use them); ``tests`` holds the test with the bridges found so far set aside.
    """
    enough = (
        assigned
        & (full.outside >= MIN_BRIDGE_TIES)
        & (full.outside >= MIN_OUTSIDE_SHARE * full.degree)
        & (k >= 2)
    )
    adjusted = np.nan_to_num(tests.p_adjusted, nan=1.0)
    by_ties = enough & tests.tested & (adjusted <= BRIDGE_FDR)
    crosses = _crosses(full.outside, full.degree, tests.q)
    by_paths = enough & crosses & (method != "none") & (cross >= MIN_CROSS_SHARE)
    return by_ties, by_paths


def bridge_figures(
    G: nx.Graph,
    partition: Mapping[Any, int],
    *,
    names: Mapping[int, str] | None = None,
    weight: str | None = "weight",
    top: int | None = None,
    seed: int | None = 0,
    max_exact_nodes: int = MAX_EXACT_NODES,
    reduced_nodes: int = REDUCED_NODES,
    n_jobs: int | None = None,
) -> list[dict[str, Any]]:
    """The ranked list of bridge figures: who connects factions, how surely, and why.

    For every actor the function computes betweenness (:func:`betweenness`) and
    cross-faction betweenness (:func:`cross_faction_betweenness`), participation
    coefficient and within-faction z (:func:`participation_coefficient`,
    :func:`within_faction_z`) with the cartographic role, Burt's constraint and
    effective size, Gould & Fernandez brokerage (:func:`brokerage_roles`), and a test
    of its ties against random ties of the same number; then it decides who is a
    bridge and ranks everyone.

    **The ties test** (null model). Each of the actor's ``d`` distinct neighbours in a
    faction is taken to lie outside its *main faction* ``m`` (the one holding most of
    them; its own faction on a tie) with probability ``q_m``: the share of the ties
    of ``m``'s other members that leave ``m``, pulled towards the network-wide share
    as if by :data:`PRIOR_TIES` more ties. This is a block model of the observed
    mixing between factions (Karrer & Newman 2011): it expects of an actor what its
    faction's members do, so a member with many ties at home and two outside is
    ordinary wherever members have a few outside ties, and an actor with balanced
    ties to two factions is not. Two one-sided exact binomial tests: more ties
    outside ``m`` than ``Binomial(d, q_m)`` gives, and (three factions or more) more
    ties in some one other faction ``h`` than its share of ``m``'s outgoing ties
    gives (Bonferroni over the other factions); the actor's ``p_value`` is the
    smaller, doubled. ``p_adjusted`` is the Benjamini-Hochberg adjustment over all
    actors tested, and ``participation_z`` is ``(outside - expected) / sd`` of the
    first test. The baseline should describe *ordinary* members, so once bridges
    are found they are set aside with all their ties (in the baselines and in every
    actor's counts) and the tests run again, until no new bridge appears (at most
    :data:`BASELINE_ROUNDS` rounds); ``tested_ties`` and ``tested_outside`` are the
    counts of the last round.

    **Bridge rule** (``is_bridge``): an actor in a faction, with at least
    :data:`MIN_BRIDGE_TIES` (2) distinct neighbours outside its main faction and at
    least :data:`MIN_OUTSIDE_SHARE` (a fifth) of its neighbours there, that either

    - *by ties*: has ``p_adjusted <= BRIDGE_FDR`` (0.05: among the actors called
      bridges this way, at most about 5% would be so by chance), or
    - *by paths*: lies on at least :data:`MIN_CROSS_SHARE` (25%) of the shortest
      paths between actors of different factions (as the Medici did among the
      Florentine families, through one marriage into each rival family; Padgett &
      Ansell 1993), while its own ties leave its main faction no more than
      :data:`ROUTING_SD` (1) standard deviation less often than its faction's
      members' do: a hub that routes its own faction to the exits lies on many
      such paths too, without crossing itself.

    With fewer than two factions nobody is a bridge. Unassigned actors (missing from
    ``partition``) are never bridges: they have no faction, their ties count in no
    faction, and their faction-based measures are 0.

    **Bridge score** (in [0, 1]), for the order::

        score = 0.4 * c / max(c) + 0.3 * b / max(b) + 0.3 * percentile(participation_z)

    where ``c`` is cross-faction betweenness, ``b`` the cross-faction brokerage (open
    two-paths brokered in the liaison, gatekeeper, representative and itinerant
    roles), each divided by the largest value among the actors (so an actor with
    half the top value gets half the weight: the score keeps how much more the top
    broker carries), and the percentile is the actor's rank among the actors tested
    divided by their number. When betweenness is not computed (method ``"none"``)
    the other two weigh 0.5 each. Rows are ranked bridges first, then by score (ties
    by id): the score orders, the rule decides.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph (node attribute ``label`` is the display name; edge
        attribute ``evidence`` supplies the examples).
    partition : mapping
        Actor -> faction id (e.g. ``FactionResult.partition``). Actors missing from it
        are unassigned.
    names : mapping, optional
        Faction id -> display name, used in the reasons (default ``"faction <id>"``).
    weight : str or None, default "weight"
        Edge attribute of the tie strength.
    top : int, optional
        Return only the first ``top`` rows (all rows by default). Ranks, scores,
        tests and the ranks in the reasons are computed over every actor either way.
    seed : int, optional
        Accepted for symmetry with the other analysis functions; every computation
        here is deterministic, so the result does not depend on it.
    max_exact_nodes : int, default 5000 (:data:`MAX_EXACT_NODES`)
        See :func:`betweenness`. Above it, both betweenness measures are computed in
        the subgraph of the actors with the most tie weight *across* factions.
    reduced_nodes : int, default 2500
        See :func:`betweenness`.
    n_jobs : int, optional
        See :func:`betweenness`.

    Returns
    -------
    list of dict
        One row per actor with keys ``actor``, ``name``, ``rank`` (1-based),
        ``score``, ``faction`` (its own faction id, None when unassigned),
        ``factions`` (ids of the factions the actor has ties to, most ties first),
        ``ties`` (faction id -> distinct neighbours there), ``betweenness``,
        ``betweenness_method``, ``cross_betweenness`` (share of the shortest paths
        between factions through it), ``participation``, ``within_z``, ``role``
        (``"unassigned"`` for unassigned actors), ``constraint`` and
        ``effective_size`` (None for isolated actors), ``brokerage`` (role ->
        count), ``ties_outside`` (neighbours outside the main faction),
        ``tested_ties`` and ``tested_outside`` (the same counts without the ties to
        bridges set aside by the test), ``expected_outside`` (what random ties of
        ``tested_ties`` would give), ``participation_z``, ``p_value`` and
        ``p_adjusted`` (None when not tested), ``bridge_basis``
        (``"ties"``, ``"paths"``, ``"ties and paths"`` or ``""``), ``evidence`` (for
        each of the two main factions: ``{faction, neighbour, neighbour_name, url,
        snippet, post}`` of the strongest tie there), ``reason`` (a sentence with the
        figures and the strength of the evidence), ``is_bridge``, and
        ``faction_names`` (faction id -> display name for the actor's faction and
        the ids in ``factions``, so the writers need no other input).

    Raises
    ------
    AnalysisError
        On a multigraph, or on a negative or non-numeric weight, or on faction ids
        that are not integers.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("b", "a1"), ("b", "a2"), ("a1", "a2")])
    >>> G.add_edges_from([("b", "c1"), ("b", "c2"), ("c1", "c2")])
    >>> rows = bridge_figures(G, {"b": 0, "a1": 0, "a2": 0, "c1": 1, "c2": 1})
    >>> rows[0]["actor"], rows[0]["is_bridge"], rows[0]["bridge_basis"], rows[0]["ties"]
    ('b', True, 'paths', {0: 2, 1: 2})
    >>> rows[0]["cross_betweenness"]  # every path from a1 or a2 to c1 or c2 passes b
    1.0
    >>> rows[1]["is_bridge"]
    False

    References
    ----------
    .. [1] Freeman, L. C. (1977). A set of measures of centrality based on
       betweenness. *Sociometry* 40(1), 35-41.
    .. [2] Brandes, U. (2001). A faster algorithm for betweenness centrality.
       *Journal of Mathematical Sociology* 25(2), 163-177.
    .. [3] Guimerà, R. & Amaral, L. A. N. (2005). Functional cartography of complex
       metabolic networks. *Nature* 433, 895-900.
    .. [4] Burt, R. S. (1992). *Structural Holes*. Harvard University Press.
    .. [5] Gould, R. V. & Fernandez, R. M. (1989). Structures of mediation.
       *Sociological Methodology* 19, 89-126.
    .. [6] Karrer, B. & Newman, M. E. J. (2011). Stochastic blockmodels and
       community structure in networks. *Physical Review E* 83, 016107.
    .. [7] Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery
       rate. *Journal of the Royal Statistical Society B* 57(1), 289-300.
    .. [8] Padgett, J. F. & Ansell, C. K. (1993). Robust action and the rise of the
       Medici, 1400-1434. *American Journal of Sociology* 98(6), 1259-1319.
    """
    del seed  # deterministic; see the docstring
    arrays = _arrays(G, weight)
    n = arrays.n
    if n == 0:
        return []
    code, fid = _assigned_codes(arrays, partition)
    k = len(fid)
    assigned = code >= 0

    kf = _faction_strength(arrays, code, k)
    kf.sort_indices()
    part = _participation_array(kf)
    wz = _within_z_array(kf, code, k)
    binary = arrays.sym.copy()
    binary.data = np.ones(len(binary.data))
    keep = sp.diags(assigned.astype(float))
    tie_counts = (keep @ binary @ _onehot(code, k)).tocsr()
    tie_counts.sort_indices()  # same sparsity pattern as kf: data arrays align
    degree = np.diff(arrays.sym.indptr)

    cand = None
    if n > max_exact_nodes:
        strength = np.asarray(kf.sum(axis=1)).ravel()
        inside = np.zeros(n)
        rows_a = np.flatnonzero(assigned)
        if len(rows_a):
            inside[rows_a] = np.asarray(kf[rows_a, code[rows_a]]).ravel()
        total = np.asarray(arrays.sym.sum(axis=1)).ravel()
        cand = np.lexsort((np.arange(n), -total, -(strength - inside)))[:reduced_nodes]
    bt, cross, method = _betweenness_pair(
        arrays, max_exact_nodes, reduced_nodes, cand, n_jobs, code if k >= 2 else None
    )
    cross[~assigned] = 0.0

    tri = _triangles(arrays.sym)
    cons, esize = _structural_holes(arrays.sym, tri)
    brok = _brokerage_array(arrays, code, k, tri)
    cross_brokerage = brok[:, 1:].sum(axis=1).astype(float)
    # The baseline describes ordinary members: each round leaves out the ties of the
    # bridges found so far, until no new one appears (bridges' ties to each other's
    # factions must not raise the bar for one another).
    exclude = np.zeros(n, dtype=bool)
    full = tests = _tie_tests(binary, arrays.sym, code, k)
    for _ in range(BASELINE_ROUNDS):
        if exclude.any():
            tests = _tie_tests(binary, arrays.sym, code, k, exclude)
        by_ties, by_paths = _bridge_rule(tests, full, cross, method, k, assigned)
        found = by_ties | by_paths
        if not (found & ~exclude).any():
            break
        exclude |= found
    is_bridge = by_ties | by_paths
    crosses = _crosses(full.outside, full.degree, tests.q)

    z_part = _percentile(tests.z, tests.tested)
    if method == "none":
        score = 0.5 * _share_of_max(cross_brokerage) + 0.5 * z_part
    else:
        score = (
            SCORE_WEIGHTS["cross_betweenness"] * _share_of_max(cross)
            + SCORE_WEIGHTS["participation_z"] * z_part
            + SCORE_WEIGHTS["brokerage"] * _share_of_max(cross_brokerage)
        )

    # rank: 1 + number of actors with a strictly larger value
    def ranks(x: np.ndarray) -> np.ndarray:
        return n - np.searchsorted(np.sort(x), x, side="right") + 1

    bt_rank, cross_rank = ranks(bt), ranks(cross)
    actor_keys = [str(v) for v in arrays.nodes]
    order = sorted(range(n), key=lambda i: (not is_bridge[i], -score[i], actor_keys[i]))
    if top is not None:
        order = order[: max(0, int(top))]

    # factions per returned actor: most ties first, then its own, most weight, id
    per_row: list[list[tuple[int, int, float]]] = []
    for i in order:
        lo, hi = tie_counts.indptr[i], tie_counts.indptr[i + 1]
        by = sorted(
            zip(
                tie_counts.indices[lo:hi].tolist(),
                tie_counts.data[lo:hi].tolist(),
                kf.data[lo:hi].tolist(),
                strict=True,
            ),
            key=lambda t, own=int(code[i]): (-t[1], t[0] != own, -t[2], int(fid[t[0]])),
        )
        per_row.append(by)
    # strongest neighbour of each returned actor in each of its two main factions
    kk = max(k, 1)
    nb_keys, nb_node = _strongest_neighbour(arrays.sym, code, kk)
    want = np.array(
        [i * kk + c for i, by in zip(order, per_row, strict=True) for c, _, _ in by[:2]],
        dtype=np.int64,
    )
    pos, hit = _lookup(nb_keys, want)
    strongest = iter(np.where(hit, nb_node[pos], -1).tolist())
    n_tested = int(tests.tested.sum())

    def maybe(x: float) -> float | None:
        return None if math.isnan(x) else float(x)

    neighbours = [
        [(c, next(strongest)) for c, _, _ in by[:2]] for by in per_row
    ]  # (faction code, strongest neighbour index or -1) per returned actor
    tie_evidence = iter(
        _first_evidence(
            G,
            [
                (arrays.nodes[i], arrays.nodes[j])
                for i, pairs in zip(order, neighbours, strict=True)
                for _, j in pairs
                if j >= 0
            ],
            weight,
        )
    )
    rows: list[dict[str, Any]] = []
    for rank, (i, by, pairs) in enumerate(zip(order, per_row, neighbours, strict=True), start=1):
        v = arrays.nodes[i]
        own = int(fid[code[i]]) if code[i] >= 0 else None
        factions = [int(fid[c]) for c, _, _ in by]
        ties = {int(fid[c]): int(cnt) for c, cnt, _ in by}
        evidence = []
        for c, j in pairs:
            if j < 0:
                continue
            u = arrays.nodes[j]
            item = {
                "faction": int(fid[c]),
                "neighbour": u,
                "neighbour_name": str(G.nodes[u].get("label") or u),
            }
            item.update(next(tie_evidence))
            evidence.append(item)
        basis = " and ".join(
            word for word, on in (("ties", by_ties[i]), ("paths", by_paths[i])) if on
        )
        shown = factions if own is None or own in factions else [own, *factions]
        row: dict[str, Any] = {
            "actor": v,
            "name": str(G.nodes[v].get("label") or v),
            "rank": rank,
            "score": float(score[i]),
            "faction": own,
            "factions": factions,
            "ties": ties,
            "betweenness": float(bt[i]),
            "betweenness_method": method,
            "cross_betweenness": float(cross[i]),
            "participation": float(part[i]),
            "within_z": float(wz[i]),
            "role": cartographic_role(float(wz[i]), float(part[i]))
            if own is not None
            else "unassigned",
            "constraint": None if math.isnan(cons[i]) else float(cons[i]),
            "effective_size": None if math.isnan(esize[i]) else float(esize[i]),
            "brokerage": {role: int(x) for role, x in zip(BROKERAGE_ROLES, brok[i], strict=True)},
            "ties_outside": int(full.outside[i]),
            "tested_ties": int(tests.degree[i]),
            "tested_outside": int(tests.outside[i]),
            "expected_outside": float(tests.expected[i]),
            "participation_z": float(tests.z[i]),
            "p_value": maybe(float(tests.p[i])),
            "p_adjusted": maybe(float(tests.p_adjusted[i])),
            "bridge_basis": basis,
            "evidence": evidence,
            "reason": "",
            "is_bridge": bool(is_bridge[i]),
            "faction_names": {f: _faction_name(names, f) for f in shown},
        }
        pair_decides = tests.pair[i] >= 0 and tests.p_pair[i] < tests.p_outside[i]
        d, q = float(tests.degree[i]), float(tests.q[i])
        ctx = _Context(
            names=names,
            n=n,
            k=k,
            tested=n_tested,
            method=method,
            degree=int(degree[i]),
            bt_rank=int(bt_rank[i]),
            cross_rank=int(cross_rank[i]),
            sd=math.sqrt(max(d * q * (1.0 - q), 0.0)),
            pair_faction=int(fid[tests.pair[i]]) if pair_decides else None,
            pair_count=int(tests.pair_count[i]),
            pair_expected=float(tests.pair_expected[i]),
            p_outside=float(tests.p_outside[i]),
            p_pair=float(tests.p_pair[i]),
            test_main=_faction_name(names, int(fid[tests.main[i]])) if tests.main[i] >= 0 else "",
            crosses=bool(crosses[i]),
        )
        row["reason"] = _reason(row, ctx)
        rows.append(row)
    return rows


def bridge_warnings(
    rows: Sequence[Mapping[str, Any]], *, stage: str = "bridges"
) -> list[EvidenceWarning]:
    """What the bridge list cannot claim, as evidence warnings.

    - ``bridges-too-few-factions``: fewer than two factions hold actors, so there is
      nothing to bridge (and no other warning follows);
    - ``bridges-thin``: fewer than half of the actors in factions have
      :data:`MIN_JUDGED_TIES` (4) or more ties in factions; an actor with fewer cannot
      be told apart from chance, so most "not a bridge" verdicts only mean "too few
      ties to tell";
    - ``bridges-reduced``: betweenness was computed in a reduced subgraph (or not at
      all), so the shares of paths are approximate;
    - ``no-bridges``: no actor meets the bridge rule.

    Parameters
    ----------
    rows : sequence of dict
        All rows of :func:`bridge_figures` (not a ``top`` slice: the counts would be
        wrong).
    stage : str, default "bridges"
        The stage named in the warnings.

    Returns
    -------
    list of EvidenceWarning
        Codes registered in :data:`mapper.analysis.strength.CODES`.

    Examples
    --------
    >>> import networkx as nx
    >>> rows = bridge_figures(nx.path_graph(4), dict.fromkeys(range(4), 0))
    >>> [w.code for w in bridge_warnings(rows)]
    ['bridges-too-few-factions']
    """
    from mapper.analysis.strength import warning

    if not rows:
        return []
    members = [r for r in rows if r.get("faction") is not None]
    factions = {int(r["faction"]) for r in members}
    out: list[EvidenceWarning] = []
    if len(factions) < 2:
        which = "no faction" if not factions else "one faction"
        out.append(
            warning(
                "bridges-too-few-factions",
                stage,
                f"{len(rows):,} actors but {which}: there is nothing to bridge, so no "
                "bridge figure is named.",
            )
        )
        return out
    judged = sum(1 for r in members if sum(r.get("ties", {}).values()) >= MIN_JUDGED_TIES)
    if judged < len(members) / 2:
        out.append(
            warning(
                "bridges-thin",
                stage,
                f"Only {judged:,} of {len(members):,} actors in factions have "
                f"{MIN_JUDGED_TIES} or more ties in factions; with fewer, ties across "
                "factions cannot be told apart from chance, so most bridge verdicts rest "
                "on too few ties.",
            )
        )
    methods = {r.get("betweenness_method") for r in rows}
    if "reduced" in methods:
        out.append(
            warning(
                "bridges-reduced",
                stage,
                f"{len(rows):,} actors is too many for exact betweenness: paths between "
                f"factions were counted among the best-connected {REDUCED_NODES:,} or so "
                "actors only, so the path shares are approximate.",
            )
        )
    elif "none" in methods:
        out.append(
            warning(
                "bridges-reduced",
                stage,
                "Betweenness was not computed: bridges are judged on their ties alone.",
            )
        )
    if not any(r.get("is_bridge") for r in rows):
        tested = sum(1 for r in rows if r.get("p_value") is not None)
        out.append(
            warning(
                "no-bridges",
                stage,
                f"No actor's ties across factions stand out from chance: none of "
                f"{tested:,} actors tested has significantly more ties outside its main "
                f"faction than that faction's members have (false discovery rate "
                f"{BRIDGE_FDR:.0%}), and none lies on {MIN_CROSS_SHARE:.0%} or more of "
                f"the shortest paths between {len(factions)} factions.",
            )
        )
    return out


def apply_bridges(G: nx.Graph, rows: Iterable[Mapping[str, Any]]) -> None:
    """Write the bridge measures of ``rows`` onto the nodes of ``G``.

    Sets node attributes ``bridge_score`` (float), ``is_bridge`` (bool),
    ``betweenness`` (float), ``participation`` (float), ``within_z`` (float) and
    ``role`` (str), as plain Python types so every exporter accepts them. Rows whose
    actor is not in ``G`` are ignored; nodes without a row are left untouched.

    Parameters
    ----------
    G : networkx.Graph
        The graph to annotate (modified in place).
    rows : iterable of dict
        Rows from :func:`bridge_figures`.
    """
    for row in rows:
        v = row["actor"]
        if v not in G:
            continue
        G.nodes[v].update(
            bridge_score=float(row["score"]),
            is_bridge=bool(row["is_bridge"]),
            betweenness=float(row["betweenness"]),
            participation=float(row["participation"]),
            within_z=float(row["within_z"]),
            role=str(row["role"]),
        )


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------


def csv_cell(value: Any) -> Any:
    """A CSV-safe cell: numbers stay numbers, text that a spreadsheet would run is defused.

    Strings starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are
    prefixed with an apostrophe (OWASP's advice against CSV/formula injection);
    ``None`` becomes the empty string. Booleans become ``true``/``false``.
    """
    kind = type(value)  # the plain types first: this runs ~30 times per actor
    if kind is str:
        return _neutralize()(value)
    if kind is float or kind is int:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating):
        return value.item() if isinstance(value, np.generic) else value
    return _neutralize()(str(value))


@functools.cache
def _neutralize() -> Any:
    from mapper.export import neutralize_cell  # one rule for every CSV mapper writes

    return neutralize_cell


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LINE_START = re.compile(r"^([-+#=]|\d+(?=[.)]))")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def md_text(value: Any) -> str:
    """Text safe anywhere in a Markdown line or table cell: no HTML, links or markup.

    ``&``, ``<`` and ``>`` become entities (no raw HTML, no autolinks, no block
    quotes); backslash, backtick, ``*``, ``_``, ``[``, ``]``, ``|`` and ``~`` are
    backslash-escaped (no emphasis, code, links, images or table breaks); a leading
    list, heading or underline marker is escaped; newlines become spaces; control,
    bidirectional and zero-width characters are removed and the text is capped
    (:func:`mapper.text.display_text`).
    """
    from mapper.text import display_text

    text = display_text(value, one_line=True)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    match = _MD_LINE_START.match(text)
    if match:
        end = match.end() if match.group(1)[0].isdigit() else 0
        text = text[:end] + "\\" + text[end:]
    return text


def md_link(label: str, url: str) -> str:
    """A Markdown link to an http(s) URL, or the escaped label alone for anything else
    (and for a URL longer than :data:`mapper.text.TEXT_LENGTH`)."""
    from mapper.text import TEXT_LENGTH

    url = url or ""
    if len(url) > TEXT_LENGTH or not re.match(r"^https?://", url, flags=re.IGNORECASE):
        return md_text(label)
    safe = quote(url, safe=":/?#@!$&'*+,;=%~-._")
    safe = safe.replace("'", "%27").replace("*", "%2A")
    return f"[{md_text(label)}]({safe})"


def _names_of(row: Mapping[str, Any]) -> dict[int, str]:
    names = row.get("faction_names") or {}
    ids = list(row.get("factions", []))
    if row.get("faction") is not None:
        ids.append(row["faction"])
    return {int(f): str(names.get(f, f"faction {f}")) for f in ids}


def _outside_text(row: Mapping[str, Any]) -> str:
    """``"9 of 14 (2.8 expected, 3.7 sd; adjusted p = 0.002)"``: the ties test."""
    if row.get("p_value") is None:
        return ""
    tested = row.get("tested_ties", sum(row.get("ties", {}).values()))
    out = row.get("tested_outside", row.get("ties_outside", 0))
    z = float(row.get("participation_z") or 0.0)
    expected = float(row.get("expected_outside") or 0.0)
    q = row.get("p_adjusted")
    adjusted = "" if q is None else f"; adjusted {_p_text(float(q))}"
    return f"{int(out)} of {int(tested)} ({expected:.1f} expected, {z:.1f} sd{adjusted})"


BRIDGE_CSV_COLUMNS: tuple[str, ...] = (
    "rank",
    "actor",
    "name",
    "is_bridge",
    "bridge_basis",
    "score",
    "role",
    "faction",
    "factions",
    "faction_ids",
    "ties",
    "ties_outside",
    "tested_ties",
    "tested_outside",
    "expected_outside",
    "participation_z",
    "p_value",
    "p_adjusted",
    "betweenness",
    "betweenness_method",
    "cross_betweenness",
    "participation",
    "within_z",
    "constraint",
    "effective_size",
    *(f"brokerage_{role}" for role in BROKERAGE_ROLES),
    "evidence_1_faction",
    "evidence_1_neighbour",
    "evidence_1_url",
    "evidence_1_snippet",
    "evidence_2_faction",
    "evidence_2_neighbour",
    "evidence_2_url",
    "evidence_2_snippet",
    "reason",
)


def write_bridges_csv(rows: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write the bridge list as a flat CSV file (atomically), one row per actor.

    Columns are :data:`BRIDGE_CSV_COLUMNS`: factions by name joined with ``"; "``,
    ties as ``"name: n; ..."``, one column per brokerage role and the two evidence
    items spread over columns. Every text cell goes through :func:`csv_cell`, so a
    hostile name cannot become a spreadsheet formula; numbers stay numeric.

    Parameters
    ----------
    rows : iterable of dict
        Rows from :func:`bridge_figures`.
    path : str or Path
        Output file.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(BRIDGE_CSV_COLUMNS)
        for row in rows:
            names = _names_of(row)
            factions = [int(f) for f in row.get("factions", [])]
            ties = row.get("ties", {})
            brokerage = row.get("brokerage", {})
            evidence = list(row.get("evidence", []))[:2]
            ev_cells: list[Any] = []
            for slot in range(2):
                if slot < len(evidence):
                    ev = evidence[slot]
                    f = int(ev.get("faction"))
                    ev_cells += [
                        names.get(f, f"faction {f}"),
                        ev.get("neighbour_name") or ev.get("neighbour"),
                        ev.get("url"),
                        ev.get("snippet"),
                    ]
                else:
                    ev_cells += [None, None, None, None]
            own = row.get("faction")
            values = [
                row.get("rank"),
                row.get("actor"),
                row.get("name"),
                row.get("is_bridge"),
                row.get("bridge_basis"),
                row.get("score"),
                row.get("role"),
                "unassigned" if own is None else names.get(int(own), f"faction {own}"),
                "; ".join(names[f] for f in factions),
                "; ".join(str(f) for f in factions),
                "; ".join(f"{names[f]}: {ties.get(f, 0)}" for f in factions),
                row.get("ties_outside"),
                row.get("tested_ties"),
                row.get("tested_outside"),
                row.get("expected_outside"),
                row.get("participation_z"),
                row.get("p_value"),
                row.get("p_adjusted"),
                row.get("betweenness"),
                row.get("betweenness_method"),
                row.get("cross_betweenness"),
                row.get("participation"),
                row.get("within_z"),
                row.get("constraint"),
                row.get("effective_size"),
                *(brokerage.get(role, 0) for role in BROKERAGE_ROLES),
                *ev_cells,
                row.get("reason"),
            ]
            writer.writerow([csv_cell(x) for x in values])
    return Path(path)


def write_bridges_md(rows: Iterable[Mapping[str, Any]], path: str | Path, *, top: int = 20) -> Path:
    """Write the top bridge figures as a Markdown report (atomically).

    Lists up to ``top`` actors with ``is_bridge`` set (or says that none qualifies),
    with their factions, score, the strength of the evidence (ties outside the main
    faction against random ties: sd and p-value; the share of the shortest paths
    between factions through them), role and the reason sentence, then the evidence
    links, and explains the rule and the score. Every name and snippet is escaped with
    :func:`md_text`; only http(s) URLs become links.

    Parameters
    ----------
    rows : iterable of dict
        Rows from :func:`bridge_figures` (in rank order).
    path : str or Path
        Output file.
    top : int, default 20
        Number of bridges listed.

    Returns
    -------
    Path
        ``path``.
    """
    all_rows = list(rows)
    bridges = [r for r in all_rows if r.get("is_bridge")][: max(0, top)]
    lines = [
        "# Bridge figures",
        "",
        md_text(
            f"A bridge is an actor in a faction with at least {MIN_BRIDGE_TIES} ties, and "
            f"at least {MIN_OUTSIDE_SHARE:.0%} of its ties, outside its main faction, that "
            "either has more ties outside it (or into one other faction) than random ties "
            "of the same number would give at its faction's rate (binomial test; "
            f"Benjamini-Hochberg adjusted p at most {BRIDGE_FDR}, a false discovery rate "
            f"of {BRIDGE_FDR:.0%} over all actors tested), or lies on at least "
            f"{MIN_CROSS_SHARE:.0%} of the shortest paths between actors of different "
            "factions without being a hub of its own faction. Outside ties: of its ties "
            "counted by the test, how many lie outside its main faction, how many random "
            "ties would give, how many standard deviations (sd) above that it is, and the "
            "adjusted p-value. Score = 0.4 x cross-faction path share + 0.3 x "
            "cross-faction brokerage (each as a share of the largest) + 0.3 x percentile "
            "of the sd: it orders the list; the rule decides who is a bridge."
        ),
        "",
    ]
    if not bridges:
        lines += [md_text(f"No actor of {len(all_rows)} meets the bridge rule."), ""]
    else:
        lines += [
            "| Rank | Actor | Factions | Score | Outside ties | Cross-faction paths | Role | Why |",
            "| ---: | --- | --- | ---: | --- | ---: | --- | --- |",
        ]
        for r in bridges:
            names = _names_of(r)
            ties = r.get("ties", {})
            factions = "; ".join(f"{names[f]} ({ties.get(f, 0)})" for f in r.get("factions", []))
            share = float(r.get("cross_betweenness") or 0.0)
            lines.append(
                f"| {int(r.get('rank', 0))} | {md_text(r.get('name') or r.get('actor'))} "
                f"| {md_text(factions)} | {float(r.get('score', 0.0)):.3f} "
                f"| {md_text(_outside_text(r))} "
                f"| {md_text(_share_text(share))} ({md_text(r.get('betweenness_method', ''))}) "
                f"| {md_text(r.get('role', ''))} | {md_text(r.get('reason', ''))} |"
            )
        lines += ["", "## Evidence", ""]
        for r in bridges:
            names = _names_of(r)
            for ev in r.get("evidence", []):
                f = int(ev.get("faction"))
                who = ev.get("neighbour_name") or ev.get("neighbour")
                label = f"{r.get('name') or r.get('actor')} and {who} ({names.get(f, f)})"
                snippet = ev.get("snippet") or ""
                link = md_link("source", str(ev.get("url") or ""))
                text = f"- {md_text(label)}"
                if snippet:
                    text += f": “{md_text(snippet)}”"
                if ev.get("url"):
                    text += f" ({link})"
                lines.append(text)
        lines.append("")
    return write_text(path, "\n".join(lines))
