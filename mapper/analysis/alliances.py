"""Alliance opportunities: which factions share issues but not ties, and who could help.

For every pair of factions this module compares the ties between them with what the
configuration model expects from the factions' total tie strength, measures how much
they talk about the same things (roster issues, hashtags, linked domains: a tf-idf
weighted cosine of their topic profiles, with the shared items named), and lists the
brokers who already have ties into both. :func:`alliance_report` turns that into
ranked *opportunities* (similar agendas, few ties) and suggested *introductions*
(two actors in different factions who share issues and contacts but not a tie, with
the common contact who could introduce them). Every item carries a ``reason`` sentence
in plain words. The writers produce a CSV (formula injection neutralised) and a
Markdown report (hostile names escaped).

Ties are read on the undirected projection (both directions summed), as for factions
and bridges; the directed weights each way are reported too.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from mapper.analysis.bridges import (
    _arrays,
    _faction_codes,
    _join_words,
    _onehot,
    _plural,
    csv_cell,
    md_text,
)
from mapper.fsutil import atomic_open, write_text

__all__ = [
    "ALLIANCE_CSV_COLUMNS",
    "TOPIC_KINDS",
    "alliance_report",
    "faction_ties",
    "shared_issues",
    "write_alliances_csv",
    "write_alliances_md",
]

#: Topic kinds, from the key prefixes the resolver writes into node ``topics``.
TOPIC_KINDS: tuple[str, ...] = ("issues", "hashtags", "domains", "other")


def _kind_and_label(item: str) -> tuple[str, str]:
    if item.startswith("issue:"):  # roster issue ids are slugs: "labour-leadership"
        return "issues", item[len("issue:") :].replace("-", " ").replace("_", " ")
    if item.startswith("#"):
        return "hashtags", item
    if item.startswith("domain:"):
        return "domains", item[len("domain:") :]
    return "other", item


def _name(names: Mapping[int, str] | None, f: int) -> str:
    if names and f in names and names[f]:
        return str(names[f])
    return f"faction {f}"


def _label(G: nx.Graph, v: Any) -> str:
    return str(G.nodes[v].get("label") or v)


# --------------------------------------------------------------------------------------
# Ties between factions
# --------------------------------------------------------------------------------------


class _Context:
    """Arrays shared by the alliance measures (read from the graph once)."""

    def __init__(self, G: nx.Graph, partition: Mapping[Any, int], weight: str | None):
        self.arrays = _arrays(G, weight)
        self.code, self.fid = _faction_codes(self.arrays, partition)
        self.k = len(self.fid)
        self.n = self.arrays.n
        self.onehot = _onehot(self.code, self.k)
        sym = self.arrays.sym
        binary = sym.copy()
        binary.data = np.ones(len(binary.data))
        self.binary = binary.tocsr()
        self.strength = np.asarray(sym.sum(axis=1)).ravel()
        #: node x faction: distinct neighbours and tie weight there
        self.tie_counts = (self.binary @ self.onehot).tocsc()
        self.tie_weight = (sym @ self.onehot).tocsc()
        self.size = np.bincount(self.code, minlength=self.k)


def _pair_arrays(ctx: _Context) -> dict[str, np.ndarray]:
    """K x K matrices: undirected weight, distinct ties, directed weight, expected."""
    a = ctx.arrays
    F = ctx.onehot
    weight = (F.T @ a.sym @ F).toarray()
    upper = sp.triu(ctx.binary, k=1).tocsr()
    ties = (F.T @ upper @ F).toarray()
    ties = ties + ties.T
    arcs = sp.csr_matrix((a.w, (a.src, a.dst)), shape=(ctx.n, ctx.n))
    directed = (F.T @ arcs @ F).toarray()
    s = np.bincount(ctx.code, weights=ctx.strength, minlength=ctx.k)
    total = s.sum()
    expected = np.outer(s, s) / total if total > 0 else np.zeros((ctx.k, ctx.k))
    return {"weight": weight, "ties": ties, "directed": directed, "expected": expected}


def _ties_item(ctx: _Context, m: dict[str, np.ndarray], i: int, j: int) -> dict[str, Any]:
    exp = float(m["expected"][i, j])
    obs = float(m["weight"][i, j])
    ties = round(float(m["ties"][i, j]))
    pairs = int(ctx.size[i]) * int(ctx.size[j])
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
    }


def faction_ties(
    G: nx.Graph, partition: Mapping[Any, int], *, weight: str | None = "weight"
) -> list[dict[str, Any]]:
    """Observed against expected ties for every pair of factions.

    For factions ``a < b`` (by id): ``ties``, the number of distinct actor pairs tied
    across them; ``weight``, the total tie weight between them on the undirected
    projection (both directions summed), with ``weight_ab`` and ``weight_ba`` the
    directed parts; ``expected``, the weight the configuration model expects given
    the factions' total strengths, ``s_a * s_b / (2m)`` (``s`` summed over members,
    ``2m`` the total strength of the graph); ``ratio = weight / expected`` (None when
    a faction has no ties at all); and ``density = ties / (n_a * n_b)``.

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
    list of dict
        One item per pair ``a < b`` with keys ``a``, ``b``, ``ties``, ``weight``,
        ``weight_ab``, ``weight_ba``, ``expected``, ``ratio``, ``density``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([(0, 1), (1, 2), (2, 3)])
    >>> [(t["a"], t["b"], t["ties"]) for t in faction_ties(G, {0: 0, 1: 0, 2: 1, 3: 1})]
    [(0, 1, 1)]

    Notes
    -----
    ``O(m + K^2)`` for ``K`` factions. A ratio well below 1 means the two factions
    talk to each other less than their overall activity predicts.

    References
    ----------
    .. [1] Newman, M. E. J. (2006). Modularity and community structure in networks.
       *PNAS* 103(23), 8577-8582 (the configuration-model expectation).
    """
    ctx = _Context(G, partition, weight)
    m = _pair_arrays(ctx)
    return [_ties_item(ctx, m, i, j) for i in range(ctx.k) for j in range(i + 1, ctx.k)]


# --------------------------------------------------------------------------------------
# Shared issues
# --------------------------------------------------------------------------------------


def _topic_matrix(G: nx.Graph, nodes: list[Any]) -> tuple[sp.csr_matrix, list[str]]:
    """Actor x topic count matrix from node attribute ``topics``."""
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
    """Rows L2-normalised: ``(1 + ln count) * ln((1 + D) / df)`` with ``D`` non-empty rows."""
    X = counts.tocsr(copy=True)
    X.eliminate_zeros()
    if X.nnz == 0:
        return X
    docs = int((np.diff(X.indptr) > 0).sum())
    df = np.bincount(X.indices, minlength=X.shape[1])
    idf = np.log((1.0 + docs) / np.maximum(df, 1))
    X.data = (1.0 + np.log(np.maximum(X.data, 1.0))) * idf[X.indices]
    X.eliminate_zeros()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    X.data *= np.repeat(scale, np.diff(X.indptr))  # in place: the pattern stays aligned
    return X


def _faction_profiles(ctx: _Context, G: nx.Graph, min_count: int) -> dict[str, Any]:
    X, items = _topic_matrix(G, ctx.arrays.nodes)
    counts = (ctx.onehot.T @ X).tocsr()
    counts.data[counts.data < min_count] = 0
    counts.eliminate_zeros()
    counts.sort_indices()  # vec has exactly this pattern (tf-idf weights are positive)
    kinds = np.array([_kind_and_label(t)[0] for t in items])
    vec = _tfidf(counts).tocsr()
    by_kind = {}
    for kind in TOPIC_KINDS:
        mask = sp.diags((kinds == kind).astype(float)) if len(items) else None
        by_kind[kind] = _tfidf(counts @ mask).tocsr() if mask is not None else vec
    sim_by = {kind: (v @ v.T).toarray() for kind, v in by_kind.items()}
    return {
        "X": X,
        "items": items,
        "kinds": kinds,
        "counts": counts,
        "vec": vec,
        "by": by_kind,
        "sim_by": sim_by,
    }


def _shared_item(prof: dict[str, Any], i: int, j: int, top: int = 5) -> dict[str, Any]:
    """Similarity of factions ``i``, ``j`` and their top shared items per kind."""
    vec: sp.csr_matrix = prof["vec"]
    counts: sp.csr_matrix = prof["counts"]
    ri = vec.indices[vec.indptr[i] : vec.indptr[i + 1]]
    rj = vec.indices[vec.indptr[j] : vec.indptr[j + 1]]
    common, pi, pj = np.intersect1d(ri, rj, assume_unique=True, return_indices=True)
    contrib = vec.data[vec.indptr[i] + pi] * vec.data[vec.indptr[j] + pj]
    shared: dict[str, list[dict[str, Any]]] = {kind: [] for kind in TOPIC_KINDS}
    order = np.lexsort((common, -contrib))
    count_i = counts.data[counts.indptr[i] + pi]
    count_j = counts.data[counts.indptr[j] + pj]
    for o in order.tolist():
        t, c = int(common[o]), float(contrib[o])
        item = prof["items"][t]
        kind, label = _kind_and_label(item)
        if len(shared[kind]) < top:
            shared[kind].append(
                {
                    "item": item,
                    "label": label,
                    "kind": kind,
                    "contribution": float(c),
                    "count_a": round(float(count_i[o])),
                    "count_b": round(float(count_j[o])),
                }
            )
    by_kind = {kind: float(prof["sim_by"][kind][i, j]) for kind in TOPIC_KINDS}
    return {
        "similarity": float(contrib.sum()),
        "similarity_by_kind": by_kind,
        "shared": {k: v for k, v in shared.items() if v or k != "other"},
    }


def shared_issues(
    G: nx.Graph, partition: Mapping[Any, int], *, min_count: int = 1
) -> list[dict[str, Any]]:
    """How much each pair of factions talks about the same things, and what.

    A faction's topic profile is the sum of its members' node attribute ``topics``
    (``issue:<id>``, ``#hashtag``, ``domain:<domain>`` keys, as the resolver writes
    them); items summing to less than ``min_count`` in a faction are dropped from its
    profile. Profiles are weighted by tf-idf, ``(1 + ln count) * ln((1 + K) / df)``
    with ``df`` the number of factions using the item, so that a hashtag everyone
    uses counts for little and a distinctive shared issue for a lot; the similarity
    is the cosine of the two weighted profiles (0 = nothing in common, 1 = the same
    mix). Each shared item's *contribution* is its term of that cosine, so the
    contributions add up to the similarity; the top five per kind are named.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph with node attribute ``topics`` (dict item -> count).
    partition : mapping
        Actor -> faction id. Actors missing from it count as one-actor factions.
    min_count : int, default 1
        Minimum total count of an item in a faction's profile.

    Returns
    -------
    list of dict
        One item per pair ``a < b`` with a positive similarity: ``a``, ``b``,
        ``similarity``, ``similarity_by_kind`` (the same cosine on each kind alone:
        ``issues``, ``hashtags``, ``domains``, ``other``) and ``shared`` (kind -> up
        to five ``{item, label, kind, contribution, count_a, count_b}``, largest
        contribution first).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_node("a", topics={"issue:pr": 3, "#x": 1})
    >>> G.add_node("b", topics={"issue:pr": 2})
    >>> G.add_node("c", topics={"#y": 5})
    >>> res = shared_issues(G, {"a": 0, "b": 1, "c": 2})
    >>> [(r["a"], r["b"], r["shared"]["issues"][0]["label"]) for r in res]
    [(0, 1, 'pr')]

    References
    ----------
    .. [1] Salton, G. & Buckley, C. (1988). Term-weighting approaches in automatic
       text retrieval. *Information Processing & Management* 24(5), 513-523.
    """
    ctx = _Context(G, partition, None)
    prof = _faction_profiles(ctx, G, min_count)
    sim = (prof["vec"] @ prof["vec"].T).tocoo()
    out = []
    for i, j in sorted(zip(sim.row.tolist(), sim.col.tolist(), strict=True)):
        if i < j:
            item = _shared_item(prof, i, j)
            if item["similarity"] > 0:
                out.append({"a": int(ctx.fid[i]), "b": int(ctx.fid[j]), **item})
    return out


# --------------------------------------------------------------------------------------
# Brokers and the report
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
        v = ctx.arrays.nodes[int(both[o])]
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


def _shared_words(shared: Mapping[str, list[dict[str, Any]]], limit: int = 3) -> list[str]:
    """The top shared items across kinds, by contribution, as readable words."""
    flat = [item for kind in TOPIC_KINDS for item in shared.get(kind, [])]
    flat.sort(key=lambda it: (-it["contribution"], it["item"]))
    words = []
    for it in flat[:limit]:
        if it["kind"] == "issues":
            words.append(f"the issue {it['label']}")
        elif it["kind"] == "domains":
            words.append(f"links to {it['label']}")
        else:
            words.append(it["label"])
    return words


def _pair_reason(item: dict[str, Any]) -> str:
    a, b = item["name_a"], item["name_b"]
    if item["ties"]:
        text = (
            f"{a} and {b} have {_plural(item['ties'], 'tie')} (weight {item['weight']:g}) "
            f"against {item['expected']:.1f} expected from their activity"
        )
        if item["ratio"] is not None:
            text += f" (ratio {item['ratio']:.2f})"
    else:
        text = f"{a} and {b} have no ties (expected weight {item['expected']:.1f})"
    words = _shared_words(item["shared"])
    if item["similarity"] > 0:
        text += f"; issue similarity {item['similarity']:.2f}"
        if words:
            text += f" ({_join_words(words)})"
    else:
        text += "; they share no issues, hashtags or linked sites"
    if item["brokers"]:
        top = item["brokers"][0]
        text += f"; best broker {top['name']} ({top['ties_a']} and {_plural(top['ties_b'], 'tie')})"
    return text + "."


def _opportunity_reason(item: dict[str, Any]) -> str:
    a, b = item["name_a"], item["name_b"]
    words = _shared_words(item["shared"])
    about = f": {_join_words(words)}" if words else ""
    if item["ties"] == 0:
        gap = f"but have no ties at all (expected weight {item['expected']:.1f})"
    else:
        gap = (
            f"but have only {_plural(item['ties'], 'tie')}, {item['ratio']:.2f} times the "
            f"{item['expected']:.1f} expected"
        )
    text = f"{a} and {b} share issues (similarity {item['similarity']:.2f}{about}) {gap}"
    if item["brokers"]:
        names = [br["name"] for br in item["brokers"][:3]]
        text += f"; {_join_words(names)} already {'has' if len(names) == 1 else 'have'} "
        text += "ties to both"
    else:
        text += "; nobody has ties to both yet"
    return text + "."


def _introductions(
    ctx: _Context,
    G: nx.Graph,
    prof: dict[str, Any],
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
    sym = ctx.arrays.sym
    cand: dict[tuple[int, int], tuple[int, int, int]] = {}  # (u, v) -> (broker, i, j)
    for opp in opportunities:
        i, j = code_of[opp["a"]], code_of[opp["b"]]
        for br in _brokers(ctx, G, i, j, brokers_per_pair):
            w = ctx.arrays.index[br["actor"]]
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
    actor_vec = _tfidf(prof["X"]).tocsr()
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
    keys = [
        str(ctx.arrays.nodes[int(us[x])]) + "\x1f" + str(ctx.arrays.nodes[int(vs[x])]) for x in idx
    ]
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
        nu, nv, nw = (ctx.arrays.nodes[t] for t in (u, v, w))
        shared = _actor_shared(actor_vec, prof["items"], u, v)
        fa, fb = int(ctx.fid[i]), int(ctx.fid[j])
        ti = int(ctx.tie_counts[w, i])
        tj = int(ctx.tie_counts[w, j])
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
            "broker_ties_a": ti,
            "broker_ties_b": tj,
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
    ru, du = (
        vec.indices[vec.indptr[u] : vec.indptr[u + 1]],
        vec.data[vec.indptr[u] : vec.indptr[u + 1]],
    )
    rv, dv = (
        vec.indices[vec.indptr[v] : vec.indptr[v + 1]],
        vec.data[vec.indptr[v] : vec.indptr[v + 1]],
    )
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


def alliance_report(
    G: nx.Graph,
    partition: Mapping[Any, int],
    *,
    names: Mapping[int, str] | None = None,
    weight: str | None = "weight",
    top: int = 20,
    min_count: int = 1,
    max_brokers: int = 5,
    per_actor: int = 2,
    per_side: int = 8,
    brokers_per_pair: int = 20,
) -> dict[str, Any]:
    """Where alliances could be built: faction pairs, opportunities and introductions.

    ``pairs``: every pair of factions with ties or shared topics (a pair with neither
    is left out) with its ties against the configuration-model expectation
    (:func:`faction_ties`), its issue similarity and shared items
    (:func:`shared_issues`) and its brokers: actors with ties into both factions,
    ranked by the smaller of their two tie counts, then of their two tie weights.

    ``opportunities``: pairs that talk about the same things but not to each other,
    ranked by::

        opportunity = similarity * (1 - min(1, ratio))

    where ``ratio`` is observed / expected tie weight (0 when they have no ties). A
    pair tied as much as expected or more scores 0 and is left out; an untied pair
    scores its full similarity.

    ``introductions``: for the opportunity pairs, actors ``u`` and ``v`` in the two
    factions with no tie between them, at least one common neighbour and shared
    topics. Candidates are bounded: only the ``brokers_per_pair`` best brokers of a
    pair are used, and for each only its ``per_side`` strongest contacts on each side
    (so the search is two-hop and never quadratic in faction size). Each candidate
    scores::

        introduction = cosine(u, v) * log2(1 + common) * (1 - min(1, ratio) / 2) / (1 + x)

    with ``cosine(u, v)`` the cosine of the actors' own tf-idf topic vectors (idf over
    actors), ``common`` their number of common neighbours, and ``x`` the ties ``u``
    already has into ``v``'s faction plus those ``v`` has into ``u``'s: an
    introduction matters most to actors who have no contact on the other side yet. An
    actor appears in at most ``per_actor`` introductions. The broker named for the
    introduction is the best-ranked broker of the pair who knows both.

    Parameters
    ----------
    G : networkx.Graph or networkx.DiGraph
        The influence graph (node attributes ``label`` and ``topics``).
    partition : mapping
        Actor -> faction id. Actors missing from it count as one-actor factions.
    names : mapping, optional
        Faction id -> display name (default ``"faction <id>"``).
    weight : str or None, default "weight"
        Edge attribute of the tie strength.
    top : int, default 20
        Length of the opportunity and introduction lists.
    min_count : int, default 1
        See :func:`shared_issues`.
    max_brokers : int, default 5
        Brokers listed per pair.
    per_actor, per_side, brokers_per_pair : int
        Bounds of the introduction search (see above).

    Returns
    -------
    dict
        ``factions``: ``{id, name, size, strength}`` per faction.

        ``pairs``: ``{a, b, name_a, name_b, ties, weight, weight_ab, weight_ba,
        expected, ratio, density, similarity, similarity_by_kind, shared, brokers,
        reason}`` (see :func:`faction_ties` and :func:`shared_issues`; ``brokers`` is a
        list of ``{actor, name, faction, ties_a, ties_b, weight_a, weight_b}``).

        ``opportunities``: ``{a, b, name_a, name_b, ties, weight, expected, ratio,
        similarity, shared, brokers, score, reason}``, best first.

        ``introductions``: ``{a, b, name_a, name_b, actor_a, actor_a_name, actor_b,
        actor_b_name, broker, broker_name, broker_ties_a, broker_ties_b,
        common_neighbours, similarity, shared, score, reason}``, best first, where
        ``actor_a`` is in faction ``a``, ``shared`` lists the topic keys the two
        actors share (largest contribution first) and ``similarity`` is their cosine.

        ``scores``: the two formulas in words.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("a", "b"), ("b", "c")])
    >>> for v in G:
    ...     G.nodes[v]["topics"] = {"issue:pr": 1}
    >>> report = alliance_report(G, {"a": 0, "b": 0, "c": 1})
    >>> sorted(report)
    ['factions', 'introductions', 'opportunities', 'pairs', 'scores']

    References
    ----------
    .. [1] Newman, M. E. J. (2006). Modularity and community structure in networks.
       *PNAS* 103(23), 8577-8582.
    .. [2] Burt, R. S. (1992). *Structural Holes*. Harvard University Press.
    .. [3] Granovetter, M. S. (1973). The strength of weak ties. *American Journal of
       Sociology* 78(6), 1360-1380 (triadic closure through common contacts).
    """
    ctx = _Context(G, partition, weight)
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
        "pairs": [],
        "opportunities": [],
        "introductions": [],
        "scores": {
            "opportunity": "similarity * (1 - min(1, ratio))",
            "introduction": (
                "cosine(u, v) * log2(1 + common neighbours) * (1 - min(1, ratio) / 2)"
                " / (1 + ties either already has into the other's faction)"
            ),
        },
    }
    if ctx.n == 0:
        return report
    m = _pair_arrays(ctx)
    prof = _faction_profiles(ctx, G, min_count)
    sim = (prof["vec"] @ prof["vec"].T).tocsr()
    linked = (m["ties"] > 0) | (sim.toarray() > 1e-12)
    pairs = []
    for i in range(ctx.k):
        for j in range(i + 1, ctx.k):
            if not linked[i, j]:
                continue
            item = _ties_item(ctx, m, i, j)
            item["name_a"] = _name(names, item["a"])
            item["name_b"] = _name(names, item["b"])
            item.update(_shared_item(prof, i, j))
            item["brokers"] = _brokers(ctx, G, i, j, max_brokers)
            item["reason"] = _pair_reason(item)
            pairs.append(item)
    report["pairs"] = pairs

    opportunities = []
    for p in pairs:
        ratio = p["ratio"] if p["ratio"] is not None else 0.0
        score = p["similarity"] * (1.0 - min(1.0, ratio))
        if score > 0:
            opp = {
                key: p[key]
                for key in (
                    "a",
                    "b",
                    "name_a",
                    "name_b",
                    "ties",
                    "weight",
                    "expected",
                    "ratio",
                    "similarity",
                    "shared",
                    "brokers",
                )
            }
            opp["score"] = score
            opp["reason"] = _opportunity_reason(opp)
            opportunities.append(opp)
    opportunities.sort(key=lambda o: (-o["score"], o["a"], o["b"]))
    report["opportunities"] = opportunities[:top]
    report["introductions"] = _introductions(
        ctx,
        G,
        prof,
        report["opportunities"],
        names,
        top=top,
        per_actor=per_actor,
        per_side=per_side,
        brokers_per_pair=brokers_per_pair,
    )
    return report


# --------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------

ALLIANCE_CSV_COLUMNS: tuple[str, ...] = (
    "row_type",
    "rank",
    "score",
    "faction_a",
    "faction_a_name",
    "faction_b",
    "faction_b_name",
    "ties",
    "weight",
    "expected",
    "ratio",
    "similarity",
    "shared",
    "brokers",
    "actor_a",
    "actor_a_name",
    "actor_b",
    "actor_b_name",
    "broker",
    "broker_name",
    "common_neighbours",
    "reason",
)


def _shared_text(shared: Any) -> str:
    if isinstance(shared, Mapping):
        flat = [it for kind in TOPIC_KINDS for it in shared.get(kind, [])]
        flat.sort(key=lambda it: -it["contribution"])
        return "; ".join(it["item"] for it in flat)
    return "; ".join(str(x) for x in shared or [])


def write_alliances_csv(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write the alliance report as one CSV file (atomically).

    One row per pair, per opportunity and per introduction, told apart by the
    ``row_type`` column (``pair``, ``opportunity``, ``introduction``); columns that do
    not apply to a row type are empty. Shared items and brokers are joined with
    ``"; "``. Every text cell is neutralised against spreadsheet formula injection;
    numbers stay numeric.

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
            ("pair", "pairs"),
        ):
            for rank, item in enumerate(report.get(key, []), start=1):
                brokers = item.get("brokers") or []
                values = {
                    "row_type": row_type,
                    "rank": rank,
                    "score": item.get("score"),
                    "faction_a": item.get("a"),
                    "faction_a_name": item.get("name_a"),
                    "faction_b": item.get("b"),
                    "faction_b_name": item.get("name_b"),
                    "ties": item.get("ties"),
                    "weight": item.get("weight"),
                    "expected": item.get("expected"),
                    "ratio": item.get("ratio"),
                    "similarity": item.get("similarity"),
                    "shared": _shared_text(item.get("shared")),
                    "brokers": "; ".join(str(b.get("name")) for b in brokers),
                    "actor_a": item.get("actor_a"),
                    "actor_a_name": item.get("actor_a_name"),
                    "actor_b": item.get("actor_b"),
                    "actor_b_name": item.get("actor_b_name"),
                    "broker": item.get("broker"),
                    "broker_name": item.get("broker_name"),
                    "common_neighbours": item.get("common_neighbours"),
                    "reason": item.get("reason"),
                }
                writer.writerow([csv_cell(values[c]) for c in ALLIANCE_CSV_COLUMNS])
    return Path(path)


def write_alliances_md(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write the alliance report as Markdown (atomically): opportunities, introductions
    and the table of faction pairs, every name escaped.

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
    lines = ["# Alliance opportunities", ""]
    if scores:
        lines += [
            md_text(f"Opportunity score = {scores.get('opportunity', '')}."),
            "",
        ]
    opps = report.get("opportunities", [])
    if opps:
        for n, o in enumerate(opps, start=1):
            lines.append(
                f"{n}. **{md_text(o['name_a'])} and {md_text(o['name_b'])}** "
                f"(score {float(o['score']):.2f}): {md_text(o['reason'])}"
            )
    else:
        lines.append(md_text("No pair of factions shares issues while being under-connected."))
    lines += ["", "## Suggested introductions", ""]
    if scores:
        lines += [md_text(f"Introduction score = {scores.get('introduction', '')}."), ""]
    intros = report.get("introductions", [])
    if intros:
        for n, it in enumerate(intros, start=1):
            lines.append(f"{n}. {md_text(it['reason'])} (score {float(it['score']):.2f})")
    else:
        lines.append(md_text("No introduction found (no shared issues through common contacts)."))
    lines += [
        "",
        "## Faction pairs",
        "",
        "| Faction A | Faction B | Ties | Weight | Expected | Ratio | Similarity | Brokers |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for p in report.get("pairs", []):
        ratio = "" if p.get("ratio") is None else f"{float(p['ratio']):.2f}"
        brokers = "; ".join(str(b.get("name")) for b in p.get("brokers", []))
        lines.append(
            f"| {md_text(p['name_a'])} | {md_text(p['name_b'])} | {int(p['ties'])} "
            f"| {float(p['weight']):g} | {float(p['expected']):.1f} | {ratio} "
            f"| {float(p['similarity']):.2f} | {md_text(brokers)} |"
        )
    lines.append("")
    return write_text(path, "\n".join(lines))
