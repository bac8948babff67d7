"""Bridge figures: the actors who connect factions, and why.

Given the weighted influence graph and a faction partition, this module measures per
actor how much it sits *between* factions: weighted betweenness (Freeman 1977, computed
with Brandes' algorithm in igraph), the participation coefficient and within-faction
z-score with the cartographic role they imply (Guimerà & Amaral 2005), Burt's
constraint and effective size (Burt 1992), and the Gould & Fernandez (1989) brokerage
roles. :func:`bridge_figures` combines them into one ranked list, each row carrying
the evidence and a sentence that says in words why the actor is (or is not) a bridge.
Results are plain structures; :func:`apply_bridges` is the only function that writes
onto the graph. The CSV and Markdown writers neutralise hostile names.

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

from mapper.errors import AnalysisError
from mapper.fsutil import atomic_open, write_text

__all__ = [
    "BRIDGE_CSV_COLUMNS",
    "BROKERAGE_ROLES",
    "CROSS_FACTION_ROLES",
    "MAX_EXACT_NODES",
    "MIN_BRIDGE_PARTICIPATION",
    "MIN_BRIDGE_TIES",
    "REDUCED_NODES",
    "SCORE_WEIGHTS",
    "apply_bridges",
    "betweenness",
    "bridge_figures",
    "brokerage_roles",
    "cartographic_role",
    "constraint",
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
#: Weights of the rank-normalised components of the bridge score.
SCORE_WEIGHTS: dict[str, float] = {"betweenness": 0.4, "participation": 0.3, "brokerage": 0.3}
#: An actor is a bridge only with at least this many distinct neighbours outside the
#: faction that holds most of its neighbours ...
MIN_BRIDGE_TIES = 2
#: ... and a participation coefficient of at least this much ...
MIN_BRIDGE_PARTICIPATION = 0.2
#: ... and either real weight in a second faction (distinct neighbours there at least
#: this share of those in its main faction) ...
MIN_SECOND_SHARE = 1 / 3
#: ... or a betweenness among this top share of all actors (at least one actor).
TOP_BETWEENNESS_SHARE = 0.1
#: Default size of the candidate set for the reduced betweenness of large graphs.
REDUCED_NODES = 2500
#: Default largest number of actors for exact betweenness. Measured on the benchmark
#: graphs (``benchmarks/run.py``; 2 cores shared with other jobs, load 2-3): exact
#: igraph betweenness took 1.4 s at 2,000 actors (17k ties), 8 s at 5,000 (42k) and
#: 36-69 s at 10,000 (84k); the reduced computation on 2,500 candidates 1.7-1.9 s.
#: So the bridges stage stays under about 10 s at 10,000 actors.
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
    keep = (src != dst) & (w > 0)
    src, dst, w = src[keep], dst[keep], w[keep]
    arcs = sp.csr_matrix((w, (src, dst)), shape=(n, n))
    # An undirected Graph lists every edge in both directions already.
    sym = (arcs + arcs.T).tocsr() if G.is_directed() else arcs.tocsr()
    sym.sum_duplicates()
    sym.sort_indices()
    sym.eliminate_zeros()
    return _Arrays(nodes, index, src, dst, w, sym)


def _faction_codes(arrays: _Arrays, partition: Mapping[Any, int]) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(code, fid)``: a 0..K-1 code per node and the faction id of each code.

    Nodes missing from ``partition`` each form their own one-actor faction, with fresh
    ids above the largest given id, so they never inflate a real faction.
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


def _onehot(code: np.ndarray, k: int) -> sp.csr_matrix:
    n = len(code)
    return sp.csr_matrix((np.ones(n), (np.arange(n), code)), shape=(n, k))


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


def _betweenness_half(g: Any, weights: list[float], sources: list[int], conn: Any) -> None:
    """Child process body: betweenness from half the sources, sent back as an array."""
    try:
        conn.send(np.asarray(g.betweenness(weights=weights, directed=False, sources=sources)))
    finally:
        conn.close()


def _split_betweenness(g: Any, weights: list[float], n: int, jobs: int) -> np.ndarray:
    """igraph betweenness as the sum of the even-source and odd-source halves; the odd
    half in a forked child when ``jobs > 1`` and forking is safe (else, or if the child
    fails, here)."""
    from mapper.analysis.factions import _fork_available

    halves = [list(range(0, n, 2)), list(range(1, n, 2))]

    def half(i: int) -> np.ndarray:
        return np.asarray(g.betweenness(weights=weights, directed=False, sources=halves[i]))

    proc = recv = None
    if jobs > 1 and _fork_available():
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_betweenness_half, args=(g, weights, halves[1], send))
        proc.daemon = True
        try:
            proc.start()
        except OSError:  # no process to be had (limits, memory): do it here
            proc = None
        finally:
            send.close()
    try:
        first = half(0)
        other = None
        if proc is not None and recv is not None:
            try:
                other = recv.recv()
            except (EOFError, OSError):
                other = None
            proc.join()
            if proc.exitcode != 0 or not isinstance(other, np.ndarray) or other.shape != (n,):
                other = None
        if other is None:
            other = half(1)
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
    from mapper.analysis.factions import _cpu_count

    return min(2, _cpu_count())


def _igraph_betweenness(sym: sp.csr_matrix, n_jobs: int | None = None) -> np.ndarray:
    """Exact weighted betweenness of an undirected projection, normalised like networkx."""
    import igraph as ig

    n = sym.shape[0]
    if n < 3:
        return np.zeros(n)
    upper = sp.triu(sym, k=1).tocoo()
    if upper.nnz == 0:
        return np.zeros(n)
    g = ig.Graph(n=n, edges=np.column_stack([upper.row, upper.col]).tolist(), directed=False)
    weights = (1.0 / upper.data).tolist()
    if n >= SPLIT_BETWEENNESS_NODES:
        values = _split_betweenness(g, weights, n, _jobs(n_jobs))
    else:
        values = np.asarray(g.betweenness(weights=weights, directed=False))
    # igraph counts each unordered pair once; networkx's normalisation for undirected
    # graphs is 2 / ((n - 1)(n - 2)) on that count.
    return values * (2.0 / ((n - 1) * (n - 2)))


def _default_candidates(sym: sp.csr_matrix, size: int) -> np.ndarray:
    strength = np.asarray(sym.sum(axis=1)).ravel()
    order = np.lexsort((np.arange(len(strength)), -strength))
    return order[:size]


def _reduced_betweenness(
    sym: sp.csr_matrix, candidates: np.ndarray, size: int, n_jobs: int | None = None
) -> np.ndarray:
    """Exact betweenness inside the subgraph induced by ``candidates`` (others get 0)."""
    n = sym.shape[0]
    chosen = np.unique(np.asarray(candidates, dtype=np.int64)[:size])
    out = np.zeros(n)
    if len(chosen) >= 3:
        sub = sym[chosen][:, chosen].tocsr()
        out[chosen] = _igraph_betweenness(sub, n_jobs)
    return out


def _betweenness_array(
    arrays: _Arrays,
    max_exact_nodes: int,
    reduced_nodes: int,
    candidates: np.ndarray | None,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, str]:
    n = arrays.n
    if n <= max_exact_nodes:
        return _igraph_betweenness(arrays.sym, n_jobs), "exact"
    if reduced_nodes < 3:
        return np.zeros(n), "none"
    if candidates is None:
        candidates = _default_candidates(arrays.sym, reduced_nodes)
    return _reduced_betweenness(arrays.sym, candidates, reduced_nodes, n_jobs), "reduced"


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


# --------------------------------------------------------------------------------------
# Participation, within-faction z, cartographic roles
# --------------------------------------------------------------------------------------


def _faction_strength(arrays: _Arrays, code: np.ndarray, k: int) -> sp.csr_matrix:
    """Node x faction matrix of tie weight to each faction (undirected projection)."""
    return (arrays.sym @ _onehot(code, k)).tocsr()


def _participation_array(kf: sp.csr_matrix) -> np.ndarray:
    strength = np.asarray(kf.sum(axis=1)).ravel()
    squares = np.asarray(kf.multiply(kf).sum(axis=1)).ravel()
    out = np.zeros(len(strength))
    ok = strength > 0
    out[ok] = 1.0 - squares[ok] / strength[ok] ** 2
    return np.clip(out, 0.0, 1.0)


def _within_z_array(kf: sp.csr_matrix, code: np.ndarray, k: int) -> np.ndarray:
    n = len(code)
    inside = np.asarray(kf[np.arange(n), code]).ravel()
    size = np.bincount(code, minlength=k).astype(float)
    mean = np.bincount(code, weights=inside, minlength=k) / np.maximum(size, 1)
    var = np.bincount(code, weights=inside**2, minlength=k) / np.maximum(size, 1) - mean**2
    std = np.sqrt(np.maximum(var, 0.0))
    sd = std[code]
    out = np.zeros(n)
    ok = sd > 1e-12 * np.maximum(1.0, np.abs(mean[code]))
    out[ok] = (inside[ok] - mean[code][ok]) / sd[ok]
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
        Actor -> faction id. Actors missing from it count as one-actor factions.
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
    code, fid = _faction_codes(arrays, partition)
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
        Actor -> faction id. Actors missing from it count as one-actor factions.
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
    code, fid = _faction_codes(arrays, partition)
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
    """``(n, 5)`` int array of open two-paths per broker and role (BROKERAGE_ROLES order)."""
    n = arrays.n
    src, dst = arrays.src, arrays.dst
    if len(src) == 0:
        return np.zeros((n, 5), dtype=np.int64)
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
        Actor -> faction id. Actors missing from it count as one-actor factions.

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
    code, fid = _faction_codes(arrays, partition)
    counts = _brokerage_array(arrays, code, len(fid), _triangles(arrays.sym))
    return {
        v: dict(zip(BROKERAGE_ROLES, (int(x) for x in counts[i]), strict=True))
        for i, v in enumerate(arrays.nodes)
    }


# --------------------------------------------------------------------------------------
# The bridge list
# --------------------------------------------------------------------------------------


def _positive_rank(x: np.ndarray) -> np.ndarray:
    """Rank-normalise to [0, 1]: 0 for values <= 0, else rank among positives / count."""
    out = np.zeros(len(x))
    pos = x > 0
    npos = int(pos.sum())
    if npos:
        out[pos] = rankdata(x[pos], method="average") / npos
    return out


def _strongest_neighbour(
    sym: sp.csr_matrix, code: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys ``node * k + faction`` and the strongest neighbour for each key."""
    rows = np.repeat(np.arange(sym.shape[0], dtype=np.int64), np.diff(sym.indptr))
    cols = sym.indices.astype(np.int64)
    keys = rows * k + code[cols]
    order = np.lexsort((cols, -sym.data, keys))
    keys, cols = keys[order], cols[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return keys[first], cols[first]


def _edge_evidence(G: nx.Graph, u: Any, v: Any, weight: str | None) -> dict[str, Any]:
    """The first evidence item of the stronger direction of the tie between u and v."""
    best: tuple[float, list[Any]] | None = None
    for a, b in ((u, v), (v, u)):
        data = G.get_edge_data(a, b)
        if not data:
            continue
        evidence = data.get("evidence")
        if not evidence or not isinstance(evidence, list):
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


def _reason(row: dict[str, Any], names: Mapping[int, str] | None, bt_rank: int, n: int) -> str:
    who = row["name"] or str(row["actor"])
    ties = row["ties"]
    factions = row["factions"]
    total = sum(ties.values())
    if not factions:
        return f"{who} has no ties, so cannot bridge factions."
    first = factions[0]
    if row["betweenness_method"] == "none":
        bt = "betweenness not computed"
    elif row["betweenness_method"] == "reduced":
        bt = f"betweenness rank {bt_rank} of {n} (reduced: among the best-connected actors)"
    else:
        bt = f"betweenness rank {bt_rank} of {n}"
    cross = [
        f"{row['brokerage'][role]} {role}"
        for role in CROSS_FACTION_ROLES
        if row["brokerage"][role] > 0
    ]
    n_cross = sum(row["brokerage"][role] for role in CROSS_FACTION_ROLES)
    if cross:
        brokerage = _join_words(cross) + (" brokerage path" if n_cross == 1 else " brokerage paths")
    else:
        brokerage = "no cross-faction brokerage paths"
    if row["is_bridge"]:
        shown = [f"{_faction_name(names, f)} ({_plural(ties[f], 'tie')})" for f in factions[:3]]
        more = len(factions) - 3
        text = _join_words(shown) + (f" and {_plural(more, 'more faction')}" if more > 0 else "")
        return f"{who} connects {text}; {brokerage}; {bt}."
    main = _faction_name(names, first)
    if len(factions) == 1:
        if total == 1:
            return f"Not a bridge: {who}'s only tie is within {main}; {bt}."
        return f"Not a bridge: all {total} of {who}'s ties are within {main}; {bt}."
    outside = total - ties[first]
    second = ties[factions[1]]
    if outside < MIN_BRIDGE_TIES:
        why = f"only {_plural(outside, 'tie')} outside {main}"
    elif row["participation"] < MIN_BRIDGE_PARTICIPATION:
        why = (
            f"its ties are concentrated in {main} "
            f"(participation {row['participation']:.2f} < {MIN_BRIDGE_PARTICIPATION})"
        )
    else:
        why = (
            f"its ties into any other faction are few ({second} against {ties[first]} in "
            f"{main}) and its betweenness is not in the top {TOP_BETWEENNESS_SHARE:.0%}"
        )
    return (
        f"Not a bridge: {who} has {ties[first]} of {_plural(total, 'tie')} in {main}, "
        f"{why}; {brokerage}; {bt}."
    )


def _second_largest_per_row(counts: Any) -> np.ndarray:
    """The second-largest stored value of each row of a CSR matrix (0 when fewer than two)."""
    out = np.zeros(counts.shape[0])
    indptr, data = counts.indptr, counts.data
    for i in np.flatnonzero(np.diff(indptr) >= 2):
        row = data[indptr[i] : indptr[i + 1]]
        out[i] = np.partition(row, -2)[-2]
    return out


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
    """The ranked list of bridge figures: who connects factions, with evidence and reasons.

    For every actor the function computes betweenness (:func:`betweenness`),
    participation coefficient and within-faction z (:func:`participation_coefficient`,
    :func:`within_faction_z`) with the cartographic role, Burt's constraint and
    effective size, and Gould & Fernandez brokerage (:func:`brokerage_roles`), then
    combines them:

    **Bridge score** (in [0, 1])::

        score = 0.4 * r(betweenness) + 0.3 * r(participation) + 0.3 * r(cross brokerage)

    where ``cross brokerage`` is the number of open two-paths the actor brokers in the
    liaison, gatekeeper, representative and itinerant roles (every role whose path
    crosses a faction boundary) and ``r`` is a rank normalisation: 0 for a value of
    0, otherwise the actor's rank among the actors with a positive value divided by
    their number (1 for the largest). Ranks make the three scales comparable and
    robust to the heavy tails of betweenness and brokerage counts. When betweenness
    is not computed (method ``"none"``) its weight is shared equally by the other two.

    **Bridge rule**: an actor ``is_bridge`` when at least ``MIN_BRIDGE_TIES`` (2) of
    its distinct neighbours lie outside its main faction (the one holding most of its
    neighbours; so it has ties into at least two factions), its participation
    coefficient is at least ``MIN_BRIDGE_PARTICIPATION`` (0.2), *and* either its
    second faction holds real weight (at least ``MIN_SECOND_SHARE`` (a third) as
    many of its neighbours as its main faction, and at least 2) or its betweenness is
    among the top ``TOP_BETWEENNESS_SHARE`` (10%) of actors. An actor whose ties
    are all (or nearly all) inside one faction is therefore never a bridge however
    central it is: with 20 ties inside and 2 outside, participation is 0.17; and an
    actor with a scatter of single ties outside its faction is not called a bridge
    either, unless it is also among the brokers of the whole network's shortest
    paths, as the Medici were, whose bridging ran through one marriage into each
    rival family (Padgett & Ansell 1993).

    Rows are ranked bridges first, then by score (ties broken by actor id).

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph (node attribute ``label`` is the display name; edge
        attribute ``evidence`` supplies the examples).
    partition : mapping
        Actor -> faction id (e.g. ``FactionResult.partition``). Actors missing from it
        count as one-actor factions.
    names : mapping, optional
        Faction id -> display name, used in the reasons (default ``"faction <id>"``).
    weight : str or None, default "weight"
        Edge attribute of the tie strength.
    top : int, optional
        Return only the first ``top`` rows (all rows by default). Ranks, scores and
        the betweenness ranks in the reasons are computed over every actor either way.
    seed : int, optional
        Accepted for symmetry with the other analysis functions; every computation
        here is deterministic, so the result does not depend on it.
    max_exact_nodes : int, default 5000 (:data:`MAX_EXACT_NODES`)
        See :func:`betweenness`. Above it, the reduced candidate set is made of the
        actors with the most tie weight *across* factions.
    reduced_nodes : int, default 2500
        See :func:`betweenness`.
    n_jobs : int, optional
        See :func:`betweenness`.

    Returns
    -------
    list of dict
        One row per actor with keys ``actor``, ``name``, ``rank`` (1-based),
        ``score``, ``factions`` (ids of the factions the actor has ties to, most
        ties first), ``ties`` (faction id -> distinct neighbours there),
        ``betweenness``, ``betweenness_method``, ``participation``, ``within_z``,
        ``role``, ``constraint`` and ``effective_size`` (None for isolated actors),
        ``brokerage`` (role -> count), ``evidence`` (for each of the two main
        factions: ``{faction, neighbour, neighbour_name, url, snippet, post}`` of the
        strongest tie there), ``reason`` (a sentence), ``is_bridge``, and
        ``faction_names`` (faction id -> display name for the ids in ``factions``,
        so the writers need no other input).

    Raises
    ------
    AnalysisError
        On a multigraph, or on a negative or non-numeric weight.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("b", "a1"), ("b", "a2"), ("a1", "a2")])
    >>> G.add_edges_from([("b", "c1"), ("b", "c2"), ("c1", "c2")])
    >>> rows = bridge_figures(G, {"b": 0, "a1": 0, "a2": 0, "c1": 1, "c2": 1})
    >>> rows[0]["actor"], rows[0]["is_bridge"], rows[0]["ties"]
    ('b', True, {0: 2, 1: 2})
    >>> print(rows[0]["reason"])  # doctest: +NORMALIZE_WHITESPACE
    b connects faction 0 (2 ties) and faction 1 (2 ties); 4 gatekeeper and
    4 representative brokerage paths; betweenness rank 1 of 5.
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
    """
    del seed  # deterministic; see the docstring
    arrays = _arrays(G, weight)
    n = arrays.n
    if n == 0:
        return []
    code, fid = _faction_codes(arrays, partition)
    k = len(fid)

    kf = _faction_strength(arrays, code, k)
    part = _participation_array(kf)
    wz = _within_z_array(kf, code, k)
    strength = np.asarray(kf.sum(axis=1)).ravel()
    inside = np.asarray(kf[np.arange(n), code]).ravel()

    cand = None
    if n > max_exact_nodes:
        cross = strength - inside
        cand = np.lexsort((np.arange(n), -strength, -cross))[:reduced_nodes]
    bt, method = _betweenness_array(arrays, max_exact_nodes, reduced_nodes, cand, n_jobs)

    tri = _triangles(arrays.sym)
    cons, esize = _structural_holes(arrays.sym, tri)
    brok = _brokerage_array(arrays, code, k, tri)
    cross_brokerage = brok[:, 1:].sum(axis=1)

    binary = arrays.sym.copy()
    binary.data = np.ones(len(binary.data))
    onehot = _onehot(code, k)
    tie_counts = (binary @ onehot).tocsr()
    tie_counts.sort_indices()
    kf.sort_indices()  # same sparsity pattern as tie_counts: data arrays align

    if method == "none":
        score = 0.5 * _positive_rank(part) + 0.5 * _positive_rank(cross_brokerage.astype(float))
    else:
        score = (
            SCORE_WEIGHTS["betweenness"] * _positive_rank(bt)
            + SCORE_WEIGHTS["participation"] * _positive_rank(part)
            + SCORE_WEIGHTS["brokerage"] * _positive_rank(cross_brokerage.astype(float))
        )
    total_ties = np.asarray(tie_counts.sum(axis=1)).ravel()
    main_ties = tie_counts.max(axis=1).toarray().ravel()
    second_ties = _second_largest_per_row(tie_counts)
    # betweenness rank: 1 + number of actors with strictly larger betweenness
    sorted_bt = np.sort(bt)
    bt_rank = n - np.searchsorted(sorted_bt, bt, side="right") + 1
    top_bt = (bt > 0) & (bt_rank <= max(1, math.ceil(TOP_BETWEENNESS_SHARE * n)))
    if method == "none":
        top_bt = np.zeros(n, dtype=bool)
    second_real = second_ties >= np.maximum(MIN_BRIDGE_TIES, np.ceil(MIN_SECOND_SHARE * main_ties))
    is_bridge = (
        (total_ties - main_ties >= MIN_BRIDGE_TIES)
        & (part >= MIN_BRIDGE_PARTICIPATION)
        & (second_real | top_bt)
    )
    actor_keys = [str(v) for v in arrays.nodes]
    order = sorted(range(n), key=lambda i: (not is_bridge[i], -score[i], actor_keys[i]))
    if top is not None:
        order = order[: max(0, int(top))]

    # factions per returned actor, most ties first (then most weight, then id)
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
            key=lambda t: (-t[1], -t[2], int(fid[t[0]])),
        )
        per_row.append(by)
    # strongest neighbour of each returned actor in each of its two main factions
    nb_keys, nb_node = _strongest_neighbour(arrays.sym, code, k)
    want = np.array(
        [i * k + c for i, by in zip(order, per_row, strict=True) for c, _, _ in by[:2]],
        dtype=np.int64,
    )
    pos, found = _lookup(nb_keys, want)
    strongest = iter(np.where(found, nb_node[pos], -1).tolist())

    rows: list[dict[str, Any]] = []
    for rank, (i, by) in enumerate(zip(order, per_row, strict=True), start=1):
        v = arrays.nodes[i]
        factions = [int(fid[c]) for c, _, _ in by]
        ties = {int(fid[c]): int(cnt) for c, cnt, _ in by}
        evidence = []
        for c, _, _ in by[:2]:
            j = next(strongest)
            if j < 0:
                continue
            u = arrays.nodes[j]
            item = {
                "faction": int(fid[c]),
                "neighbour": u,
                "neighbour_name": str(G.nodes[u].get("label") or u),
            }
            item.update(_edge_evidence(G, v, u, weight))
            evidence.append(item)
        row: dict[str, Any] = {
            "actor": v,
            "name": str(G.nodes[v].get("label") or v),
            "rank": rank,
            "score": float(score[i]),
            "factions": factions,
            "ties": ties,
            "betweenness": float(bt[i]),
            "betweenness_method": method,
            "participation": float(part[i]),
            "within_z": float(wz[i]),
            "role": cartographic_role(float(wz[i]), float(part[i])),
            "constraint": None if math.isnan(cons[i]) else float(cons[i]),
            "effective_size": None if math.isnan(esize[i]) else float(esize[i]),
            "brokerage": {role: int(x) for role, x in zip(BROKERAGE_ROLES, brok[i], strict=True)},
            "evidence": evidence,
            "reason": "",
            "is_bridge": bool(is_bridge[i]),
            "faction_names": {f: _faction_name(names, f) for f in factions},
        }
        row["reason"] = _reason(row, names, int(bt_rank[i]), n)
        rows.append(row)
    return rows


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
    return {int(f): str(names.get(f, f"faction {f}")) for f in row.get("factions", [])}


BRIDGE_CSV_COLUMNS: tuple[str, ...] = (
    "rank",
    "actor",
    "name",
    "is_bridge",
    "score",
    "role",
    "factions",
    "faction_ids",
    "ties",
    "betweenness",
    "betweenness_method",
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
            values = [
                row.get("rank"),
                row.get("actor"),
                row.get("name"),
                row.get("is_bridge"),
                row.get("score"),
                row.get("role"),
                "; ".join(names[f] for f in factions),
                "; ".join(str(f) for f in factions),
                "; ".join(f"{names[f]}: {ties.get(f, 0)}" for f in factions),
                row.get("betweenness"),
                row.get("betweenness_method"),
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
    with their factions, score, role, betweenness and the reason sentence, then the
    evidence links, and explains the score. Every name and snippet is escaped with
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
            "Score = 0.4 x betweenness rank + 0.3 x participation rank + 0.3 x "
            "cross-faction brokerage rank (each rank-normalised to 0-1). A bridge has "
            f"at least {MIN_BRIDGE_TIES} ties outside its main faction, a participation "
            f"coefficient of at least {MIN_BRIDGE_PARTICIPATION}, and either a second "
            f"faction holding at least {MIN_SECOND_SHARE:.0%} as many of its ties as its main "
            f"one or a betweenness in the top {TOP_BETWEENNESS_SHARE:.0%}."
        ),
        "",
    ]
    if not bridges:
        lines += [md_text(f"No actor of {len(all_rows)} meets the bridge rule."), ""]
    else:
        lines += [
            "| Rank | Actor | Factions | Score | Role | Betweenness | Why |",
            "| ---: | --- | --- | ---: | --- | ---: | --- |",
        ]
        for r in bridges:
            names = _names_of(r)
            ties = r.get("ties", {})
            factions = "; ".join(f"{names[f]} ({ties.get(f, 0)})" for f in r.get("factions", []))
            lines.append(
                f"| {int(r.get('rank', 0))} | {md_text(r.get('name') or r.get('actor'))} "
                f"| {md_text(factions)} | {float(r.get('score', 0.0)):.3f} "
                f"| {md_text(r.get('role', ''))} | {float(r.get('betweenness', 0.0)):.4f} "
                f"({md_text(r.get('betweenness_method', ''))}) | {md_text(r.get('reason', ''))} |"
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
