"""Alliance opportunities: which factions share issues but not ties, and who could help.

For every pair of factions this module compares the ties between them with what the
configuration model expects from the factions' activity, and tests the shortage (a
Poisson test on the number of distinct ties); it measures how much the two talk about
the same things by counting, for each topic (roster issue, hashtag, linked domain),
how many *distinct members* of each faction use it, so that one loud account cannot
make a shared agenda; and it lists the brokers who already have ties into both.
:func:`alliance_report` sorts every pair into one of four verdicts: an *opportunity*
(at least :data:`MIN_SHARED_ISSUES` topics each used by at least
:data:`MIN_ISSUE_ACTORS` members on both sides, and significantly fewer ties than
expected), *too thin* to judge (the reason names the condition that failed, with its
numbers), *no shortage* of ties, or *nothing shared*. For the opportunities it
suggests *introductions* (two actors in different factions who share topics and
contacts but not a tie, with the common contact who could introduce them). Every item
carries a ``reason`` sentence with the counts it rests on, and the report carries
:class:`~mapper.analysis.strength.EvidenceWarning` objects when the data cannot carry
a finding. The writers produce a CSV (formula injection neutralised) and a Markdown
report (hostile names escaped).

Ties are read on the undirected projection (both directions summed), as for factions
and bridges; the directed weights each way are reported too. Actors missing from the
partition are *unassigned*: they and their ties are left out of every figure.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy import special, stats

from mapper.analysis.bridges import _arrays, _join_words, _plural, csv_cell, md_text
from mapper.analysis.strength import SIGNIFICANCE_ALPHA, EvidenceWarning, warning
from mapper.errors import AnalysisError
from mapper.fsutil import atomic_open, write_text

__all__ = [
    "ALLIANCE_CSV_COLUMNS",
    "AS_EXPECTED_RATIO",
    "MIN_EXPECTED_TIES",
    "MIN_ISSUE_ACTORS",
    "MIN_SHARED_ISSUES",
    "SHORTAGE_ALPHA",
    "STATUSES",
    "TOPIC_KINDS",
    "alliance_report",
    "faction_ties",
    "shared_issues",
    "write_alliances_csv",
    "write_alliances_md",
]

#: Topic kinds, from the key prefixes the resolver writes into node ``topics``.
TOPIC_KINDS: tuple[str, ...] = ("issues", "hashtags", "domains", "other")

#: A topic is *shared* by two factions only when at least this many distinct members
#: of each use it. One account is a voice, not an agenda; two can be one organisation
#: and its press officer; three is the smallest number that says several members of a
#: faction care about it (and a majority of the smallest faction, 5 actors).
MIN_ISSUE_ACTORS = 3
#: An opportunity needs at least this many shared topics: one hashtag in common is a
#: coincidence of vocabulary, two independent ones begin to be an agenda.
MIN_SHARED_ISSUES = 2
#: A shortage of ties is called only when the Poisson test gives ``p`` below this.
SHORTAGE_ALPHA = SIGNIFICANCE_ALPHA
#: Fewer expected ties than this and even a complete absence of ties would not be a
#: significant shortage (``P(0 ties) = exp(-expected) >= SHORTAGE_ALPHA``): the pair is
#: too thin to judge. ``-ln(0.05)``, about 3.0 ties.
MIN_EXPECTED_TIES = -math.log(SHORTAGE_ALPHA)
#: A pair without a significant shortage is *tied as expected* (no shortage) when the
#: data rule out a large one: the lower bound of its observed/expected ratio is at
#: least this. Below it, the data allow anything from a large shortage to none: too
#: thin to judge.
AS_EXPECTED_RATIO = 0.5

#: The verdicts of a pair of factions (``status`` of every pair).
STATUSES: tuple[str, ...] = ("opportunity", "too-thin", "no-shortage", "nothing-shared")

_STAGE = "alliances"


def _kind_and_label(item: str) -> tuple[str, str]:
    if item.startswith("issue:"):  # roster issue ids are slugs: "labour-leadership"
        return "issues", item[len("issue:") :].replace("-", " ").replace("_", " ")
    if item.startswith("#"):
        return "hashtags", item
    if item.startswith("domain:"):
        return "domains", item[len("domain:") :]
    return "other", item


_NOT_WORD = re.compile(r"[\W_]+")


def _topic_key(item: str) -> str:
    """The topic an item counts towards: ``issue:brexit`` and ``#brexit`` are one."""
    kind, label = _kind_and_label(item)
    if kind == "domains":
        return "domain:" + label.lower()
    letters = _NOT_WORD.sub("", label.lower())
    return "topic:" + (letters or item)


def _name(names: Mapping[int, str] | None, f: int) -> str:
    if names and f in names and names[f]:
        return str(names[f])
    return f"faction {f}"


def _label(G: nx.Graph, v: Any) -> str:
    return str(G.nodes[v].get("label") or v)


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


# --------------------------------------------------------------------------------------
# Ties between factions
# --------------------------------------------------------------------------------------


def _codes(nodes: list[Any], partition: Mapping[Any, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(code, fid)``: a code ``0..K-1`` per node (-1 when unassigned), faction ids."""
    given = [partition.get(v) for v in nodes]
    try:
        ids = np.array([-1 if f is None else int(f) for f in given], dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(
            "faction ids in the partition must be integers",
            hint="pass FactionResult.partition (actor -> int)",
        ) from exc
    assigned = np.array([f is not None for f in given], dtype=bool)
    fid, inverse = np.unique(ids[assigned], return_inverse=True)
    code = np.full(len(nodes), -1, dtype=np.int64)
    code[assigned] = inverse
    return code, fid


class _Context:
    """Arrays shared by the alliance measures, on the assigned actors only."""

    def __init__(self, G: nx.Graph, partition: Mapping[Any, int], weight: str | None):
        arrays = _arrays(G, weight)
        code, self.fid = _codes(arrays.nodes, partition)
        keep = np.flatnonzero(code >= 0)
        #: actors of ``G`` absent from the partition (left out of everything)
        self.unassigned = arrays.n - len(keep)
        self.nodes = [arrays.nodes[i] for i in keep.tolist()]
        self.index = {v: i for i, v in enumerate(self.nodes)}
        self.code = code[keep]
        self.k = len(self.fid)
        self.n = len(self.nodes)
        self.sym = arrays.sym[keep][:, keep].tocsr()
        self.sym.sort_indices()
        arcs = sp.csr_matrix((arrays.w, (arrays.src, arrays.dst)), shape=(arrays.n, arrays.n))
        self.arcs = arcs[keep][:, keep].tocsr()
        self.onehot = sp.csr_matrix(
            (np.ones(self.n), (np.arange(self.n), self.code)), shape=(self.n, self.k)
        )
        binary = self.sym.copy()
        binary.data = np.ones(len(binary.data))
        self.binary = binary.tocsr()
        self.strength = np.asarray(self.sym.sum(axis=1)).ravel()
        self.degree = np.diff(self.binary.indptr).astype(float)
        #: node x faction: distinct neighbours and tie weight there
        self.tie_counts = (self.binary @ self.onehot).tocsc()
        self.tie_weight = (self.sym @ self.onehot).tocsc()
        self.size = np.bincount(self.code, minlength=self.k)


def _poisson_bounds(counts: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact one-sided ``1 - alpha`` lower and upper bounds of Poisson means (Garwood).

    ``0.5 * chi2.ppf(alpha, 2x)`` and ``0.5 * chi2.ppf(1 - alpha, 2x + 2)``, written
    with the inverse regularised gamma function so that a whole matrix is one call.
    """
    x = np.asarray(counts, dtype=float)
    low = np.zeros_like(x)
    pos = x > 0
    low[pos] = special.gammaincinv(x[pos], alpha)
    high = special.gammaincinv(x + 1.0, 1.0 - alpha)
    return low, high


def _pair_arrays(ctx: _Context, alpha: float) -> dict[str, np.ndarray]:
    """K x K matrices: weights, distinct ties, their expectations and the shortage p."""
    F = ctx.onehot
    weight = (F.T @ ctx.sym @ F).toarray()
    upper = sp.triu(ctx.binary, k=1).tocsr()
    ties = (F.T @ upper @ F).toarray()
    ties = np.rint(ties + ties.T)
    directed = (F.T @ ctx.arcs @ F).toarray()
    s = np.bincount(ctx.code, weights=ctx.strength, minlength=ctx.k)
    total = s.sum()
    expected = np.outer(s, s) / total if total > 0 else np.zeros((ctx.k, ctx.k))
    d = np.bincount(ctx.code, weights=ctx.degree, minlength=ctx.k)
    ends = d.sum()  # twice the number of distinct ties
    expected_ties = np.outer(d, d) / ends if ends > 0 else np.zeros((ctx.k, ctx.k))
    p = np.ones((ctx.k, ctx.k))
    pos = expected_ties > 0
    p[pos] = stats.poisson.cdf(ties[pos], expected_ties[pos])
    low, high = _poisson_bounds(ties, alpha)
    return {
        "weight": weight,
        "ties": ties,
        "directed": directed,
        "expected": expected,
        "expected_ties": expected_ties,
        "p": np.minimum(p, 1.0),
        "low": low,
        "high": high,
    }


def _ties_item(ctx: _Context, m: dict[str, np.ndarray], i: int, j: int) -> dict[str, Any]:
    exp = float(m["expected"][i, j])
    obs = float(m["weight"][i, j])
    ties = round(float(m["ties"][i, j]))
    exp_ties = float(m["expected_ties"][i, j])
    pairs = int(ctx.size[i]) * int(ctx.size[j])
    low, high = float(m["low"][i, j]), float(m["high"][i, j])
    return {
        "a": int(ctx.fid[i]),
        "b": int(ctx.fid[j]),
        "ties": ties,
        "weight": obs,
        "weight_ab": float(m["directed"][i, j]),
        "weight_ba": float(m["directed"][j, i]),
        "expected": exp,
        "ratio": (obs / exp) if exp > 0 else None,
        "density": ties / pairs if pairs else 0.0,
        "expected_ties": exp_ties,
        "ties_ratio": (ties / exp_ties) if exp_ties > 0 else None,
        "ties_ratio_low": (low / exp_ties) if exp_ties > 0 else None,
        "ties_ratio_high": (high / exp_ties) if exp_ties > 0 else None,
        "p_shortage": float(m["p"][i, j]),
    }


def faction_ties(
    G: nx.Graph,
    partition: Mapping[Any, int],
    *,
    weight: str | None = "weight",
    alpha: float = SHORTAGE_ALPHA,
) -> list[dict[str, Any]]:
    """Observed against expected ties for every pair of factions, with a shortage test.

    For factions ``a < b`` (by id): ``ties``, the number of distinct actor pairs tied
    across them; ``weight``, the total tie weight between them on the undirected
    projection (both directions summed), with ``weight_ab`` and ``weight_ba`` the
    directed parts; ``expected``, the weight the configuration model expects given
    the factions' total strengths, ``s_a * s_b / (2m)`` (``s`` summed over members,
    ``2m`` the total strength of the graph); ``ratio = weight / expected`` (None when
    a faction has no ties at all); and ``density = ties / (n_a * n_b)``.

    The same expectation on the number of distinct ties, ``expected_ties = d_a * d_b /
    (2M)`` (``d`` the factions' summed degrees, ``M`` the number of distinct ties), is
    the mean of a Poisson count; ``p_shortage`` is the probability of ``ties`` or fewer
    under it (small: significantly fewer ties than the factions' activity predicts).
    ``ties_ratio = ties / expected_ties`` with ``ties_ratio_low`` and
    ``ties_ratio_high``, exact Poisson bounds each one-sided at ``1 - alpha`` (together
    a ``1 - 2 alpha`` interval): the ratios the observed count is compatible with.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph.
    partition : mapping
        Actor -> faction id. Actors missing from it are unassigned: they and their ties
        are left out (the expectations are computed on the assigned actors' ties).
    weight : str or None, default "weight"
        Edge attribute of the tie strength; ``None`` counts edges.
    alpha : float, default SHORTAGE_ALPHA
        Level of the bounds of ``ties_ratio``.

    Returns
    -------
    list of dict
        One item per pair ``a < b`` with keys ``a``, ``b``, ``ties``, ``weight``,
        ``weight_ab``, ``weight_ba``, ``expected``, ``ratio``, ``density``,
        ``expected_ties``, ``ties_ratio``, ``ties_ratio_low``, ``ties_ratio_high``,
        ``p_shortage``. Empty with fewer than two factions.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([(0, 1), (1, 2), (2, 3)])
    >>> [(t["a"], t["b"], t["ties"]) for t in faction_ties(G, {0: 0, 1: 0, 2: 1, 3: 1})]
    [(0, 1, 1)]

    Notes
    -----
    ``O(m + K^2)`` for ``K`` factions. Factions are found by grouping actors who talk
    to each other, so most pairs have fewer ties than this expectation: the test says
    whether a pair's shortage is larger than chance, not that it is unusual among
    pairs. The Poisson count is conservative for a shortage (the number of ties between
    two fixed groups varies less than a Poisson count of the same mean).

    References
    ----------
    .. [1] Newman, M. E. J. (2006). Modularity and community structure in networks.
       *PNAS* 103(23), 8577-8582 (the configuration-model expectation).
    .. [2] Garwood, F. (1936). Fiducial limits for the Poisson distribution.
       *Biometrika* 28(3/4), 437-442 (the exact bounds).
    """
    ctx = _Context(G, partition, weight)
    m = _pair_arrays(ctx, alpha)
    return [_ties_item(ctx, m, i, j) for i in range(ctx.k) for j in range(i + 1, ctx.k)]


# --------------------------------------------------------------------------------------
# Shared issues
# --------------------------------------------------------------------------------------


def _topic_matrix(G: nx.Graph, nodes: list[Any]) -> tuple[sp.csr_matrix, list[str]]:
    """Actor x item count matrix from node attribute ``topics`` (positive counts only)."""
    items: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, v in enumerate(nodes):
        topics = G.nodes[v].get("topics") or {}
        if not isinstance(topics, Mapping):
            continue
        for key, count in topics.items():
            try:
                c = float(count)
            except (TypeError, ValueError):
                continue
            if not c > 0 or not math.isfinite(c):
                continue
            rows.append(i)
            cols.append(items.setdefault(str(key), len(items)))
            vals.append(c)
    X = sp.csr_matrix((vals, (rows, cols)), shape=(len(nodes), len(items)))
    X.sum_duplicates()
    return X, list(items)


def _tfidf(counts: sp.csr_matrix) -> sp.csr_matrix:
    """Rows L2-normalised: ``count * ln((1 + D) / df)`` with ``D`` non-empty rows.

    The count is used as it is (here a number of actors, or 1 for presence): the
    ``1 + ln count`` damping of text retrieval is for repeated words, and repetitions
    are already gone.
    """
    X = counts.tocsr(copy=True)
    X.eliminate_zeros()
    X.sort_indices()
    if X.nnz == 0:
        return X
    docs = int((np.diff(X.indptr) > 0).sum())
    df = np.bincount(X.indices, minlength=X.shape[1])
    idf = np.log((1.0 + docs) / np.maximum(df, 1))
    X.data = X.data * idf[X.indices]
    X.eliminate_zeros()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    X.data *= np.repeat(scale, np.diff(X.indptr))  # in place: the pattern stays aligned
    return X


def _row(mat: sp.csr_matrix, i: int) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = mat.indptr[i], mat.indptr[i + 1]
    return mat.indices[lo:hi], mat.data[lo:hi]


_KIND_RANK = {kind: r for r, kind in enumerate(TOPIC_KINDS)}


class _Topics:
    """Who uses what: actors and factions against topics (items merged by spelling).

    A *topic* gathers the items that spell the same thing (``issue:brexit``,
    ``#brexit``, ``#Brexit``); it is named after its most readable item (a roster
    issue before a hashtag). An actor *uses* a topic when any of its items has a
    positive count in the actor's ``topics``; how often does not matter.
    """

    def __init__(self, ctx: _Context, G: nx.Graph, min_actors: int):
        X, items = _topic_matrix(G, ctx.nodes)
        self.has_topics = X.nnz > 0
        keys = [_topic_key(t) for t in items]
        names = sorted(set(keys))
        where = {key: g for g, key in enumerate(names)}
        members: list[list[str]] = [[] for _ in names]
        for t, key in zip(items, keys, strict=True):
            members[where[key]].append(t)
        self.items = [
            sorted(group, key=lambda t: (_KIND_RANK[_kind_and_label(t)[0]], t)) for group in members
        ]
        self.rep = [group[0] for group in self.items]
        self.kinds = np.array([_kind_and_label(t)[0] for t in self.rep])
        self.labels = [_kind_and_label(t)[1] for t in self.rep]
        n_items, n_topics = len(items), len(names)
        M = sp.csr_matrix(
            (np.ones(n_items), (np.arange(n_items), [where[key] for key in keys])),
            shape=(n_items, n_topics),
        )
        present = X.copy()
        present.data = np.ones(len(present.data))
        used = (present @ M).tocsr()
        used.data = np.ones(len(used.data))
        #: actor x topic, 1 when the actor uses the topic
        self.actor_topics = used
        F = ctx.onehot
        #: faction x topic: distinct members using it, and their summed mentions
        self.actors = (F.T @ used).tocsr()
        self.actors.sort_indices()
        self.mentions = (F.T @ (X @ M)).tocsr()
        self.mentions.sort_indices()
        profile = self.actors.copy()
        profile.data[profile.data < min_actors] = 0
        profile.eliminate_zeros()
        profile.sort_indices()
        #: faction x topic, tf-idf weighted, only topics with ``min_actors`` members
        self.vec = _tfidf(profile)
        self.sim = (self.vec @ self.vec.T).toarray()
        self.sim_by = {}
        for kind in TOPIC_KINDS:
            mask = sp.diags((self.kinds == kind).astype(float)) if n_topics else None
            v = _tfidf(profile @ mask) if mask is not None else self.vec
            self.sim_by[kind] = (v @ v.T).toarray()
        used_by = self.actors.copy()
        used_by.data = np.ones(len(used_by.data))
        #: K x K: topics used by at least one member on both sides
        self.any_shared = np.rint((used_by @ used_by.T).toarray()).astype(np.int64)

    def topic(self, g: int, a: float, b: float, ma: float, mb: float, c: float = 0.0) -> dict:
        return {
            "item": self.rep[g],
            "label": self.labels[g],
            "kind": str(self.kinds[g]),
            "items": list(self.items[g]),
            "contribution": float(c),
            "actors_a": round(float(a)),
            "actors_b": round(float(b)),
            "count_a": round(float(ma)),
            "count_b": round(float(mb)),
        }

    def pair(self, i: int, j: int, top: int = 5, listed: int = 20) -> dict[str, Any]:
        """What factions ``i`` and ``j`` share: similarity, topics and actor counts."""
        ri, ai = _row(self.actors, i)
        rj, aj = _row(self.actors, j)
        common, pi, pj = np.intersect1d(ri, rj, assume_unique=True, return_indices=True)
        mi_idx, mi_all = _row(self.mentions, i)
        mj_idx, mj_all = _row(self.mentions, j)
        mi = mi_all[np.searchsorted(mi_idx, common)]  # same pattern: counts are positive
        mj = mj_all[np.searchsorted(mj_idx, common)]
        vi_idx, vi = _row(self.vec, i)
        vj_idx, vj = _row(self.vec, j)
        both, qi, qj = np.intersect1d(vi_idx, vj_idx, assume_unique=True, return_indices=True)
        contrib = dict(zip(both.tolist(), (vi[qi] * vj[qj]).tolist(), strict=True))
        topics = [
            self.topic(int(g), ai[x], aj[y], mi[n], mj[n], contrib.get(int(g), 0.0))
            for n, (g, x, y) in enumerate(
                zip(common.tolist(), pi.tolist(), pj.tolist(), strict=True)
            )
        ]
        issues = [t for g, t in zip(common.tolist(), topics, strict=True) if g in contrib]
        issues.sort(key=lambda t: (-t["contribution"], t["item"]))
        shared: dict[str, list[dict[str, Any]]] = {kind: [] for kind in TOPIC_KINDS}
        for t in issues:
            if len(shared[t["kind"]]) < top:
                shared[t["kind"]].append(t)
        closest = sorted(
            topics,
            key=lambda t: (
                -min(t["actors_a"], t["actors_b"]),
                -max(t["actors_a"], t["actors_b"]),
                t["item"],
            ),
        )
        return {
            "similarity": float(sum(contrib.values())),
            "similarity_by_kind": {k: float(self.sim_by[k][i, j]) for k in TOPIC_KINDS},
            "shared": {k: v for k, v in shared.items() if v or k != "other"},
            "shared_issues": len(issues),
            "shared_any": len(topics),
            "issues": issues[:listed],
            "closest": closest[:3],
        }


def shared_issues(
    G: nx.Graph, partition: Mapping[Any, int], *, min_actors: int = MIN_ISSUE_ACTORS
) -> list[dict[str, Any]]:
    """How much each pair of factions talks about the same things, counted by actors.

    Items of node attribute ``topics`` (``issue:<id>``, ``#hashtag``,
    ``domain:<domain>`` keys, as the resolver writes them) that spell the same thing
    are one *topic* (``issue:brexit`` and ``#brexit``). A faction's profile counts, per
    topic, how many *distinct members* use it (how often each does is ignored, so one
    account repeating a hashtag counts once); topics used by fewer than ``min_actors``
    members are dropped from it. Profiles are weighted by tf-idf, ``members *
    ln((1 + K) / df)`` with ``df`` the number of factions whose profile holds the
    topic, so that a topic every faction uses counts for less than one only two
    share; the similarity is the cosine of the two weighted profiles (0 = nothing in
    common, 1 = the same mix). Each shared topic's *contribution* is its term of that
    cosine, so the contributions add up to the similarity.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph with node attribute ``topics`` (dict item -> count).
    partition : mapping
        Actor -> faction id. Actors missing from it are unassigned and left out.
    min_actors : int, default MIN_ISSUE_ACTORS
        Members of a faction who must use a topic for it to count in the profile.

    Returns
    -------
    list of dict
        One item per pair ``a < b`` with a positive similarity: ``a``, ``b``,
        ``similarity``, ``similarity_by_kind`` (the same cosine on each kind alone:
        ``issues``, ``hashtags``, ``domains``, ``other``; a hashtag spelling a roster
        issue counts with the issue), ``shared`` (kind -> up to five topics, largest
        contribution first), ``issues`` (every shared topic, largest contribution
        first, up to 20), ``shared_issues`` (their number) and ``shared_any`` (topics
        used by at least one member on each side). A topic is ``{item, label, kind,
        items, contribution, actors_a, actors_b, count_a, count_b}``: ``actors_*`` the
        distinct members using it, ``count_*`` their summed mentions.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> for i in range(3):
    ...     G.add_node(f"a{i}", topics={"issue:pr": 3, "#x": 1})
    ...     G.add_node(f"b{i}", topics={"#PR": 1})
    >>> part = {f"{s}{i}": int(s == "b") for s in "ab" for i in range(3)}
    >>> res = shared_issues(G, part)
    >>> [(r["a"], r["b"], r["issues"][0]["label"], r["issues"][0]["actors_b"]) for r in res]
    [(0, 1, 'pr', 3)]

    References
    ----------
    .. [1] Salton, G. & Buckley, C. (1988). Term-weighting approaches in automatic
       text retrieval. *Information Processing & Management* 24(5), 513-523.
    """
    ctx = _Context(G, partition, None)
    topics = _Topics(ctx, G, min_actors)
    out = []
    for i in range(ctx.k):
        for j in range(i + 1, ctx.k):
            if topics.sim[i, j] > 1e-12:
                item = topics.pair(i, j)
                item.pop("closest")
                out.append({"a": int(ctx.fid[i]), "b": int(ctx.fid[j]), **item})
    return out


# --------------------------------------------------------------------------------------
# Brokers, verdicts and reasons
# --------------------------------------------------------------------------------------


def _brokers(ctx: _Context, G: nx.Graph, i: int, j: int, limit: int | None) -> list[dict[str, Any]]:
    """Actors with ties into both factions ``i`` and ``j``, best first."""
    tc, tw = ctx.tie_counts, ctx.tie_weight
    ci = tc.indices[tc.indptr[i] : tc.indptr[i + 1]]
    cj = tc.indices[tc.indptr[j] : tc.indptr[j + 1]]
    both, pi, pj = np.intersect1d(ci, cj, assume_unique=True, return_indices=True)
    if len(both) == 0:
        return []
    ti = tc.data[tc.indptr[i] + pi]
    tj = tc.data[tc.indptr[j] + pj]
    wi = tw.data[tw.indptr[i] + pi]
    wj = tw.data[tw.indptr[j] + pj]
    # ties broken by graph order, so the result is deterministic for a given graph
    order = np.lexsort((both, -np.minimum(wi, wj), -np.minimum(ti, tj)))
    if limit is not None:
        order = order[:limit]
    out = []
    for o in order.tolist():
        v = ctx.nodes[int(both[o])]
        out.append(
            {
                "actor": v,
                "name": _label(G, v),
                "faction": int(ctx.fid[ctx.code[int(both[o])]]),
                "ties_a": int(ti[o]),
                "ties_b": int(tj[o]),
                "weight_a": float(wi[o]),
                "weight_b": float(wj[o]),
            }
        )
    return out


def _verdict(
    item: Mapping[str, Any], *, min_issues: int, alpha: float, min_expected: float
) -> tuple[str, list[str]]:
    """``(status, failed conditions)`` of a pair (see :func:`alliance_report`)."""
    testable = item["expected_ties"] >= min_expected
    significant = testable and item["p_shortage"] < alpha
    issues_ok = item["shared_issues"] >= min_issues and item["similarity"] > 0
    lighter = item["ratio"] is not None and item["ratio"] < 1.0
    if significant and issues_ok and lighter:
        return "opportunity", []
    low = item["ties_ratio_low"]
    no_gap = item["ties"] >= item["expected_ties"] or (low is not None and low >= AS_EXPECTED_RATIO)
    as_expected = testable and not significant and no_gap
    if as_expected or (significant and not lighter):
        return "no-shortage", []
    if item["shared_any"] == 0:
        return "nothing-shared", []
    failed = [] if issues_ok else ["shared-issues"]
    if not testable:
        failed.append("expected-ties")
    elif not significant:
        failed.append("shortage-unclear")
    return "too-thin", failed


def _topic_word(t: Mapping[str, Any]) -> str:
    if t["kind"] == "issues":
        return f"the issue {t['label']}"
    if t["kind"] == "domains":
        return f"links to {t['label']}"
    return str(t["label"])


def _topic_counts(topics: list[Mapping[str, Any]], limit: int = 3) -> str:
    words = [
        f"{_topic_word(t)}: {t['actors_a']} and {_plural(t['actors_b'], 'member')}"
        for t in topics[:limit]
    ]
    more = len(topics) - limit
    return "; ".join(words) + (f"; {more} more" if more > 0 else "")


def _ties_text(item: Mapping[str, Any]) -> str:
    """``"no ties where 41.2 were expected from their activity (p < 0.001)"``."""
    ties, exp = item["ties"], item["expected_ties"]
    have = "no ties" if ties == 0 else _plural(ties, "tie")
    return f"{have} where {exp:.1f} were expected from their activity"


def _brokers_text(brokers: list[Mapping[str, Any]]) -> str:
    if not brokers:
        return "nobody has ties to both yet"
    names = [br["name"] for br in brokers[:3]]
    return f"{_join_words(names)} already {'has' if len(names) == 1 else 'have'} ties to both"


def _opportunity_reason(item: Mapping[str, Any], min_actors: int, alpha: float) -> str:
    a, b = item["name_a"], item["name_b"]
    n = item["shared_issues"]
    bound = (
        f"{_p_text(item['p_shortage'])}; with {1 - alpha:.0%} confidence at most "
        f"{item['ties_ratio_high']:.2f} times the expected"
    )
    weight = "" if item["ties"] == 0 else f" and {item['ratio']:.2f} times the expected tie weight"
    return (
        f"{a} and {b} share {n} topics used by at least {min_actors} members on each side "
        f"({_topic_counts(item['issues'])}; similarity {item['similarity']:.2f}) but have "
        f"{_ties_text(item)} ({bound}){weight}; {_brokers_text(item['brokers'])}."
    )


def _thin_reason(
    item: Mapping[str, Any], *, min_actors: int, min_issues: int, min_expected: float
) -> str:
    parts = []
    failed = item["failed"]
    if "shared-issues" in failed:
        n = item["shared_issues"]
        if n == 0:
            near = item["closest"][0]
            parts.append(
                f"no topic is used by at least {min_actors} members on each side (closest: "
                f"{_topic_word(near)}, {near['actors_a']} and "
                f"{_plural(near['actors_b'], 'member')})"
            )
        else:
            parts.append(
                f"only {_plural(n, 'topic')} used by at least {min_actors} members on each "
                f"side ({_topic_counts(item['issues'])}) where {min_issues} are needed"
            )
    if "expected-ties" in failed:
        parts.append(
            f"their activity predicts only {item['expected_ties']:.1f} ties between them "
            f"({item['ties']} observed), too few for even none to be a significant "
            f"shortage (at least {min_expected:.1f} needed)"
        )
    if "shortage-unclear" in failed:
        parts.append(
            f"{_plural(item['ties'], 'tie')} against {item['expected_ties']:.1f} expected is "
            f"not a significant shortage ({_p_text(item['p_shortage'])}): the data allow "
            f"from {item['ties_ratio_low']:.2f} to {item['ties_ratio_high']:.2f} times the "
            f"expected"
        )
    return (
        f"Not enough data to judge {item['name_a']} and {item['name_b']}: " + "; ".join(parts) + "."
    )


def _pair_reason(item: Mapping[str, Any], min_actors: int, alpha: float) -> str:
    a, b = item["name_a"], item["name_b"]
    status = item["status"]
    if status == "opportunity":
        return _opportunity_reason(item, min_actors, alpha)
    if status == "too-thin":
        return item["reason"]
    ratio = item["ties_ratio"]
    ties = f"{_plural(item['ties'], 'tie')} against {item['expected_ties']:.1f} expected"
    if ratio is not None:
        ties += f" (ratio {ratio:.2f}, {_p_text(item['p_shortage'])})"
    if status == "no-shortage":
        text = f"{a} and {b} are tied about as their activity predicts: {ties}"
    else:
        text = f"{a} and {b} share no topic (no member of one uses a topic of the other)"
        text += f"; {ties}"
    if item["shared_issues"]:
        text += f"; shared topics: {_topic_counts(item['issues'])}"
    if item["brokers"]:
        top = item["brokers"][0]
        text += f"; best broker {top['name']} ({top['ties_a']} and {_plural(top['ties_b'], 'tie')})"
    return text + "."


def _introductions(
    ctx: _Context,
    G: nx.Graph,
    topics: _Topics,
    opportunities: list[dict[str, Any]],
    names: Mapping[int, str] | None,
    *,
    top: int,
    per_actor: int,
    per_side: int,
    brokers_per_pair: int,
) -> list[dict[str, Any]]:
    """Suggested introductions across the opportunity pairs (see alliance_report)."""
    code_of = {int(f): c for c, f in enumerate(ctx.fid.tolist())}
    sym = ctx.sym
    cand: dict[tuple[int, int], tuple[int, int, int]] = {}  # (u, v) -> (broker, i, j)
    for opp in opportunities:
        i, j = code_of[opp["a"]], code_of[opp["b"]]
        for br in _brokers(ctx, G, i, j, brokers_per_pair):
            w = ctx.index[br["actor"]]
            lo, hi = sym.indptr[w], sym.indptr[w + 1]
            nbrs, wts = sym.indices[lo:hi], sym.data[lo:hi]
            side = {}
            for c in (i, j):
                mask = ctx.code[nbrs] == c
                sel = np.lexsort((nbrs[mask], -wts[mask]))[:per_side]
                side[c] = nbrs[mask][sel].tolist()
            for u in side[i]:
                for v in side[j]:
                    if u != v and (u, v) not in cand:
                        cand[u, v] = (w, i, j)
    if not cand:
        return []
    pairs = np.array(list(cand), dtype=np.int64)
    us, vs = pairs[:, 0], pairs[:, 1]
    adjacent = np.asarray(ctx.binary[us, vs]).ravel() > 0
    actor_vec = _tfidf(topics.actor_topics).tocsr()
    sim = np.asarray(actor_vec[us].multiply(actor_vec[vs]).sum(axis=1)).ravel()
    common = np.asarray(ctx.binary[us].multiply(ctx.binary[vs]).sum(axis=1)).ravel()
    ratio_of = {}
    for opp in opportunities:
        ratio_of[code_of[opp["a"]], code_of[opp["b"]]] = opp["ratio"] or 0.0
    gap = np.array([1.0 - 0.5 * min(1.0, ratio_of[cand[u, v][1:]]) for u, v in cand])
    side_i = np.array([cand[u, v][1] for u, v in cand], dtype=np.int64)
    side_j = np.array([cand[u, v][2] for u, v in cand], dtype=np.int64)
    counts = ctx.tie_counts.tocsr()
    # ties each already has into the other's faction: an introduction matters most to
    # actors with none
    already = np.asarray(counts[us, side_j]).ravel() + np.asarray(counts[vs, side_i]).ravel()
    score = sim * np.log2(1.0 + common) * gap / (1.0 + already)
    ok = (~adjacent) & (sim > 0) & (common > 0)
    idx = np.flatnonzero(ok)
    keys = [str(ctx.nodes[int(us[x])]) + "\x1f" + str(ctx.nodes[int(vs[x])]) for x in idx]
    order = idx[np.lexsort((np.array(keys), -score[idx]))] if len(idx) else idx
    used: dict[int, int] = {}
    out: list[dict[str, Any]] = []
    for x in order.tolist():
        u, v = int(us[x]), int(vs[x])
        if used.get(u, 0) >= per_actor or used.get(v, 0) >= per_actor:
            continue
        used[u] = used.get(u, 0) + 1
        used[v] = used.get(v, 0) + 1
        w, i, j = cand[u, v]
        nu, nv, nw = (ctx.nodes[t] for t in (u, v, w))
        shared = _actor_shared(actor_vec, topics.rep, u, v)
        fa, fb = int(ctx.fid[i]), int(ctx.fid[j])
        item = {
            "a": fa,
            "b": fb,
            "name_a": _name(names, fa),
            "name_b": _name(names, fb),
            "actor_a": nu,
            "actor_a_name": _label(G, nu),
            "actor_b": nv,
            "actor_b_name": _label(G, nv),
            "broker": nw,
            "broker_name": _label(G, nw),
            "broker_ties_a": int(ctx.tie_counts[w, i]),
            "broker_ties_b": int(ctx.tie_counts[w, j]),
            "common_neighbours": int(common[x]),
            "similarity": float(sim[x]),
            "shared": shared,
            "score": float(score[x]),
        }
        item["reason"] = _introduction_reason(item)
        out.append(item)
        if len(out) >= top:
            break
    return out


def _actor_shared(vec: sp.csr_matrix, items: list[str], u: int, v: int) -> list[str]:
    ru, du = _row(vec, u)
    rv, dv = _row(vec, v)
    common, pu, pv = np.intersect1d(ru, rv, assume_unique=True, return_indices=True)
    contrib = du[pu] * dv[pv]
    order = np.lexsort((common, -contrib))[:5]
    return [items[t] for t in common[order].tolist()]


def _introduction_reason(item: dict[str, Any]) -> str:
    words = []
    for key in item["shared"][:3]:
        kind, label = _kind_and_label(key)
        if kind == "issues":
            words.append(f"the issue {label}")
        elif kind == "domains":
            words.append(f"links to {label}")
        else:
            words.append(label)
    contacts = _plural(item["common_neighbours"], "contact")
    return (
        f"Introduce {item['actor_a_name']} ({item['name_a']}) to {item['actor_b_name']} "
        f"({item['name_b']}): both talk about {_join_words(words)} and they have "
        f"{contacts} in common but no tie; {item['broker_name']} knows both and has ties "
        f"into both factions ({item['broker_ties_a']} and {item['broker_ties_b']})."
    )


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------

_OPPORTUNITY_KEYS = (
    "a",
    "b",
    "name_a",
    "name_b",
    "size_a",
    "size_b",
    "ties",
    "weight",
    "expected",
    "ratio",
    "expected_ties",
    "ties_ratio",
    "ties_ratio_low",
    "ties_ratio_high",
    "p_shortage",
    "similarity",
    "shared",
    "issues",
    "shared_issues",
    "brokers",
)
_THIN_KEYS = (*_OPPORTUNITY_KEYS, "shared_any", "closest", "failed")


def _warnings(
    ctx: _Context,
    topics: _Topics | None,
    verdicts: Mapping[str, int],
    thin: list[dict[str, Any]],
    *,
    min_actors: int,
    min_issues: int,
    min_expected: float,
) -> list[EvidenceWarning]:
    out: list[EvidenceWarning] = []
    if ctx.k < 2:
        left = f" ({_plural(ctx.unassigned, 'actor')} unassigned)" if ctx.unassigned else ""
        out.append(
            warning(
                "alliances-too-few-factions",
                _STAGE,
                f"{_plural(ctx.k, 'faction')}{left}: alliance opportunities need at least "
                "two factions, so none are looked for.",
            )
        )
        return out
    pairs = ctx.k * (ctx.k - 1) // 2
    if thin:
        issues = sum(1 for t in thin if "shared-issues" in t["failed"])
        expected = sum(1 for t in thin if "expected-ties" in t["failed"])
        unclear = sum(1 for t in thin if "shortage-unclear" in t["failed"])
        causes = []
        if issues:
            causes.append(
                f"{issues} share fewer than {min_issues} topics used by at least "
                f"{min_actors} members on each side"
            )
        if expected:
            causes.append(f"{expected} expect fewer than {min_expected:.1f} ties between them")
        if unclear:
            causes.append(f"{unclear} have fewer ties than expected but not significantly")
        out.append(
            warning(
                "alliances-too-thin",
                _STAGE,
                f"{len(thin)} of the {pairs} faction pairs cannot be judged as alliance "
                f"opportunities: {'; '.join(causes)}.",
            )
        )
    if not verdicts.get("opportunity"):
        if topics is not None and not topics.has_topics:
            why = (
                "no actor in the factions has topics (issues, hashtags or linked sites), "
                "so shared agendas cannot be compared"
            )
        else:
            words = {
                "too-thin": "too thin to judge",
                "no-shortage": "tied about as expected",
                "nothing-shared": "sharing no topic",
            }
            why = ", ".join(f"{verdicts[s]} {text}" for s, text in words.items() if verdicts.get(s))
        out.append(
            warning(
                "no-alliance-opportunities",
                _STAGE,
                f"No pair of the {pairs} faction pairs qualifies as an alliance "
                f"opportunity: {why}.",
            )
        )
    return out


def alliance_report(
    G: nx.Graph,
    partition: Mapping[Any, int],
    *,
    names: Mapping[int, str] | None = None,
    weight: str | None = "weight",
    top: int = 20,
    min_actors: int = MIN_ISSUE_ACTORS,
    min_issues: int = MIN_SHARED_ISSUES,
    alpha: float = SHORTAGE_ALPHA,
    max_brokers: int = 5,
    per_actor: int = 2,
    per_side: int = 8,
    brokers_per_pair: int = 20,
) -> dict[str, Any]:
    """Where alliances could be built: faction pairs, opportunities and introductions.

    Every pair of factions gets a verdict (``status``):

    - ``opportunity``: the two share at least ``min_issues`` topics each used by at
      least ``min_actors`` distinct members on *each* side (:func:`shared_issues`),
      and have significantly fewer distinct ties than the configuration model expects
      from their activity (:func:`faction_ties`: Poisson ``p_shortage < alpha``) and
      less tie weight than expected (``ratio < 1``);
    - ``too-thin``: not enough data to judge. ``failed`` names the conditions:
      ``shared-issues`` (fewer shared topics than ``min_issues``), ``expected-ties``
      (fewer than ``-ln(alpha)``, about 3.0, expected ties: even none would not be a
      significant shortage) or ``shortage-unclear`` (fewer ties than expected but not
      significantly, and the data do not rule out a large shortage);
    - ``no-shortage``: no significant shortage, and at least the expected ties or a
      lower bound of the ratio of observed to expected ties of at least
      :data:`AS_EXPECTED_RATIO` (or a significant shortage of ties but at least the
      expected tie weight);
    - ``nothing-shared``: no topic used by members of both (and not ``no-shortage``).

    Opportunities are ranked by::

        opportunity = similarity * (1 - min(1, ratio))

    with ``ratio`` the observed / expected tie *weight* (the configuration model of the
    weighted modularity that found the factions); the test uses the distinct ties, since
    a Poisson test needs counts of separate events and a weight sums repeated ones.

    ``introductions``: for the opportunity pairs only, actors ``u`` and ``v`` in the
    two factions with no tie between them, at least one common neighbour and shared
    topics. Candidates are bounded: only the ``brokers_per_pair`` best brokers of a
    pair are used, and for each only its ``per_side`` strongest contacts on each side
    (so the search is two-hop and never quadratic in faction size). Each candidate
    scores::

        introduction = cosine(u, v) * log2(1 + common) * (1 - min(1, ratio) / 2) / (1 + x)

    with ``cosine(u, v)`` the cosine of the sets of topics the two actors use (idf
    over actors), ``common`` their number of common neighbours, ``ratio`` the pair's
    and ``x`` the ties ``u`` already has into ``v``'s faction
    plus those ``v`` has into ``u``'s. An actor appears in at most ``per_actor``
    introductions. The broker named is the best-ranked broker of the pair who knows
    both.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph (node attributes ``label`` and ``topics``).
    partition : mapping
        Actor -> faction id. Actors missing from it are unassigned: left out of
        every figure (their ties count neither inside nor across factions).
    names : mapping, optional
        Faction id -> display name (default ``"faction <id>"``).
    weight : str or None, default "weight"
        Edge attribute of the tie strength.
    top : int, default 20
        Length of the opportunity, too-thin and introduction lists.
    min_actors : int, default MIN_ISSUE_ACTORS
        Distinct members of each faction who must use a topic for it to be shared.
    min_issues : int, default MIN_SHARED_ISSUES
        Shared topics an opportunity needs.
    alpha : float, default SHORTAGE_ALPHA
        Level of the shortage test.
    max_brokers : int, default 5
        Brokers listed per pair.
    per_actor, per_side, brokers_per_pair : int
        Bounds of the introduction search (see above).

    Returns
    -------
    dict
        ``factions``: ``{id, name, size, strength}`` per faction; ``unassigned``: the
        number of actors of ``G`` left out.

        ``pairs``: every pair with ties or a topic used on both sides: ``{a, b,
        name_a, name_b, size_a, size_b, ties, weight, weight_ab, weight_ba, expected,
        ratio, density, expected_ties, ties_ratio, ties_ratio_low, ties_ratio_high,
        p_shortage, similarity, similarity_by_kind, shared, issues, shared_issues,
        shared_any, brokers, status, failed, reason}`` (see :func:`faction_ties` and
        :func:`shared_issues`; ``brokers`` is a list of ``{actor, name, faction,
        ties_a, ties_b, weight_a, weight_b}``).

        ``opportunities``: ``{a, b, name_a, name_b, size_a, size_b, ties, weight,
        expected, ratio, expected_ties, ties_ratio, ties_ratio_low, ties_ratio_high,
        p_shortage, similarity, shared, issues, shared_issues, brokers, status, score,
        reason}``, best first; ``issues`` holds the actor counts of every shared topic.

        ``too_thin``: the same keys without ``score``, plus ``shared_any``,
        ``closest`` (the topics nearest to qualifying) and ``failed``; closest to
        qualifying first.

        ``introductions``: ``{a, b, name_a, name_b, actor_a, actor_a_name, actor_b,
        actor_b_name, broker, broker_name, broker_ties_a, broker_ties_b,
        common_neighbours, similarity, shared, score, reason}``, best first.

        ``verdicts``: status -> number of pairs (over all ``K (K - 1) / 2`` pairs);
        ``thresholds``: the constants used; ``warnings``: a list of
        :class:`~mapper.analysis.strength.EvidenceWarning` (codes
        ``alliances-too-few-factions``, ``alliances-too-thin``,
        ``no-alliance-opportunities``); ``scores``: the two formulas in words.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("a", "b"), ("b", "c")])
    >>> for v in G:
    ...     G.nodes[v]["topics"] = {"issue:pr": 1}
    >>> report = alliance_report(G, {"a": 0, "b": 0, "c": 1})
    >>> report["opportunities"], [w.code for w in report["warnings"]]
    ([], ['alliances-too-thin', 'no-alliance-opportunities'])

    References
    ----------
    .. [1] Newman, M. E. J. (2006). Modularity and community structure in networks.
       *PNAS* 103(23), 8577-8582.
    .. [2] Burt, R. S. (1992). *Structural Holes*. Harvard University Press.
    .. [3] Granovetter, M. S. (1973). The strength of weak ties. *American Journal of
       Sociology* 78(6), 1360-1380 (triadic closure through common contacts).
    """
    ctx = _Context(G, partition, weight)
    min_expected = -math.log(alpha)
    report: dict[str, Any] = {
        "factions": [
            {
                "id": int(f),
                "name": _name(names, int(f)),
                "size": int(ctx.size[c]),
                "strength": float(ctx.strength[ctx.code == c].sum()),
            }
            for c, f in enumerate(ctx.fid.tolist())
        ],
        "unassigned": ctx.unassigned,
        "pairs": [],
        "opportunities": [],
        "too_thin": [],
        "introductions": [],
        "verdicts": dict.fromkeys(STATUSES, 0),
        "thresholds": {
            "min_issue_actors": min_actors,
            "min_shared_issues": min_issues,
            "alpha": alpha,
            "min_expected_ties": round(min_expected, 3),
            "as_expected_ratio": AS_EXPECTED_RATIO,
        },
        "warnings": [],
        "scores": {
            "opportunity": "similarity * (1 - min(1, ratio))",
            "introduction": (
                "cosine(u, v) * log2(1 + common neighbours) * (1 - min(1, ratio) / 2)"
                " / (1 + ties either already has into the other's faction)"
            ),
        },
    }
    opts = {"min_actors": min_actors, "min_issues": min_issues, "min_expected": min_expected}
    if ctx.k < 2:
        report["warnings"] = _warnings(ctx, None, report["verdicts"], [], **opts)
        return report
    m = _pair_arrays(ctx, alpha)
    topics = _Topics(ctx, G, min_actors)
    linked = (m["ties"] > 0) | (topics.any_shared > 0)
    verdicts = report["verdicts"]
    pairs, opportunities, thin = [], [], []
    for i in range(ctx.k):
        for j in range(i + 1, ctx.k):
            if not linked[i, j]:
                verdicts["nothing-shared"] += 1
                continue
            item = _ties_item(ctx, m, i, j)
            item["name_a"] = _name(names, item["a"])
            item["name_b"] = _name(names, item["b"])
            item["size_a"], item["size_b"] = int(ctx.size[i]), int(ctx.size[j])
            item.update(topics.pair(i, j))
            item["brokers"] = _brokers(ctx, G, i, j, max_brokers)
            status, failed = _verdict(
                item, min_issues=min_issues, alpha=alpha, min_expected=min_expected
            )
            item["status"], item["failed"] = status, failed
            verdicts[status] += 1
            if status == "too-thin":
                item["reason"] = _thin_reason(item, **opts)
                thin.append({key: item[key] for key in (*_THIN_KEYS, "status", "reason")})
            item["reason"] = _pair_reason(item, min_actors, alpha)
            if status == "opportunity":
                opp = {key: item[key] for key in (*_OPPORTUNITY_KEYS, "status")}
                opp["score"] = item["similarity"] * (1.0 - min(1.0, item["ratio"]))
                opp["reason"] = item["reason"]
                opportunities.append(opp)
            item.pop("closest")
            pairs.append(item)
    report["pairs"] = pairs
    opportunities.sort(key=lambda o: (-o["score"], o["a"], o["b"]))
    thin.sort(key=lambda t: (-t["shared_issues"], -t["expected_ties"], t["a"], t["b"]))
    report["opportunities"] = opportunities[:top]
    report["too_thin"] = thin[:top]
    report["introductions"] = _introductions(
        ctx,
        G,
        topics,
        report["opportunities"],
        names,
        top=top,
        per_actor=per_actor,
        per_side=per_side,
        brokers_per_pair=brokers_per_pair,
    )
    report["warnings"] = _warnings(ctx, topics, verdicts, thin, **opts)
    return report


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------

ALLIANCE_CSV_COLUMNS: tuple[str, ...] = (
    "row_type",
    "rank",
    "score",
    "status",
    "faction_a",
    "faction_a_name",
    "faction_b",
    "faction_b_name",
    "ties",
    "weight",
    "expected",
    "ratio",
    "expected_ties",
    "ties_ratio",
    "ties_ratio_low",
    "ties_ratio_high",
    "p_shortage",
    "similarity",
    "shared",
    "shared_issues",
    "issue_actors",
    "brokers",
    "actor_a",
    "actor_a_name",
    "actor_b",
    "actor_b_name",
    "broker",
    "broker_name",
    "common_neighbours",
    "failed",
    "reason",
)


def _shared_text(shared: Any) -> str:
    if isinstance(shared, Mapping):
        flat = [it for kind in TOPIC_KINDS for it in shared.get(kind, [])]
        flat.sort(key=lambda it: -it["contribution"])
        return "; ".join(it["item"] for it in flat)
    return "; ".join(str(x) for x in shared or [])


def _issue_actors_text(item: Mapping[str, Any]) -> str:
    """``"issue:pr 24/25; #x 3/5"``: members of each faction using each shared topic."""
    topics = item.get("issues") or item.get("closest") or []
    return "; ".join(f"{t['item']} {t['actors_a']}/{t['actors_b']}" for t in topics)


def write_alliances_csv(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write the alliance report as one CSV file (atomically).

    One row per opportunity, introduction, too-thin pair and pair, told apart by the
    ``row_type`` column (``opportunity``, ``introduction``, ``too_thin``, ``pair``);
    columns that do not apply to a row type are empty. Shared topics, the members
    using them (``issue_actors``: ``topic a/b``), brokers and failed conditions are
    joined with ``"; "``. Every text cell is neutralised against spreadsheet formula
    injection; numbers stay numeric.

    Parameters
    ----------
    report : dict
        The result of :func:`alliance_report`.
    path : str or Path
        Output file.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ALLIANCE_CSV_COLUMNS)
        for row_type, key in (
            ("opportunity", "opportunities"),
            ("introduction", "introductions"),
            ("too_thin", "too_thin"),
            ("pair", "pairs"),
        ):
            for rank, item in enumerate(report.get(key, []), start=1):
                brokers = item.get("brokers") or []
                values = {
                    "row_type": row_type,
                    "rank": rank,
                    "score": item.get("score"),
                    "status": item.get("status"),
                    "faction_a": item.get("a"),
                    "faction_a_name": item.get("name_a"),
                    "faction_b": item.get("b"),
                    "faction_b_name": item.get("name_b"),
                    "ties": item.get("ties"),
                    "weight": item.get("weight"),
                    "expected": item.get("expected"),
                    "ratio": item.get("ratio"),
                    "expected_ties": item.get("expected_ties"),
                    "ties_ratio": item.get("ties_ratio"),
                    "ties_ratio_low": item.get("ties_ratio_low"),
                    "ties_ratio_high": item.get("ties_ratio_high"),
                    "p_shortage": item.get("p_shortage"),
                    "similarity": item.get("similarity"),
                    "shared": _shared_text(item.get("shared")),
                    "shared_issues": item.get("shared_issues"),
                    "issue_actors": _issue_actors_text(item) if row_type != "introduction" else "",
                    "brokers": "; ".join(str(b.get("name")) for b in brokers),
                    "actor_a": item.get("actor_a"),
                    "actor_a_name": item.get("actor_a_name"),
                    "actor_b": item.get("actor_b"),
                    "actor_b_name": item.get("actor_b_name"),
                    "broker": item.get("broker"),
                    "broker_name": item.get("broker_name"),
                    "common_neighbours": item.get("common_neighbours"),
                    "failed": "; ".join(item.get("failed") or []),
                    "reason": item.get("reason"),
                }
                writer.writerow([csv_cell(values[c]) for c in ALLIANCE_CSV_COLUMNS])
    return Path(path)


def _fmt_p(value: Any) -> str:
    if value is None:
        return ""
    p = float(value)
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def write_alliances_md(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write the alliance report as Markdown (atomically): warnings, opportunities, the
    pairs too thin to judge, introductions and the table of faction pairs, every name
    escaped.

    Parameters
    ----------
    report : dict
        The result of :func:`alliance_report`.
    path : str or Path
        Output file.

    Returns
    -------
    Path
        ``path``.
    """
    scores = report.get("scores", {})
    limits = report.get("thresholds", {})
    lines = ["# Alliance opportunities", ""]
    for w in report.get("warnings", []):
        message = w.message if isinstance(w, EvidenceWarning) else _get(w, "message")
        lines.append(f"> **Warning:** {md_text(message)}")
        lines.append(">")
    if lines[-1] == ">":
        lines[-1] = ""
    if limits:
        lines += [
            md_text(
                "An opportunity is a pair of factions sharing at least "
                f"{limits.get('min_shared_issues')} topics, each used by at least "
                f"{limits.get('min_issue_actors')} members on each side, with significantly "
                f"fewer ties than their activity predicts (Poisson test, p < "
                f"{limits.get('alpha')})."
            ),
            "",
        ]
    if scores:
        lines += [md_text(f"Opportunity score = {scores.get('opportunity', '')}."), ""]
    opps = report.get("opportunities", [])
    if opps:
        for n, o in enumerate(opps, start=1):
            lines.append(
                f"{n}. **{md_text(o['name_a'])} and {md_text(o['name_b'])}** "
                f"(score {float(o['score']):.2f}): {md_text(o['reason'])}"
            )
    else:
        lines.append(md_text("No pair of factions qualifies as an alliance opportunity."))
    thin = report.get("too_thin", [])
    if thin:
        lines += ["", "## Not enough data", ""]
        for t in thin:
            lines.append(f"- {md_text(t['reason'])}")
    lines += ["", "## Suggested introductions", ""]
    if scores:
        lines += [md_text(f"Introduction score = {scores.get('introduction', '')}."), ""]
    intros = report.get("introductions", [])
    if intros:
        for n, it in enumerate(intros, start=1):
            lines.append(f"{n}. {md_text(it['reason'])} (score {float(it['score']):.2f})")
    else:
        lines.append(md_text("No introduction suggested (they are made for opportunities only)."))
    lines += [
        "",
        "## Faction pairs",
        "",
        "| Faction A | Faction B | Verdict | Ties | Expected ties | p (shortage) "
        "| Similarity | Shared topics | Brokers |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for p in report.get("pairs", []):
        brokers = "; ".join(str(b.get("name")) for b in p.get("brokers", []))
        lines.append(
            f"| {md_text(p['name_a'])} | {md_text(p['name_b'])} "
            f"| {md_text(p.get('status', ''))} | {int(p['ties'])} "
            f"| {float(p.get('expected_ties', 0.0)):.1f} | {_fmt_p(p.get('p_shortage'))} "
            f"| {float(p['similarity']):.2f} | {int(p.get('shared_issues', 0))} "
            f"| {md_text(brokers)} |"
        )
    lines.append("")
    return write_text(path, "\n".join(lines))


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, "")
