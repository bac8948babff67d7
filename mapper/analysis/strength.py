"""Evidence strength: how much the data can carry, and the warnings that follow.

Every finding mapper reports (a faction, a split, a bridge figure, an alliance
opportunity, a voting bloc, a move between windows) rests on some amount of data. This
module holds, in one place, the tests and minimum counts that decide whether a finding
is supported, and the warnings that say so when it is not. The analysis modules call
it; the warnings travel with their results as data (``summary.json``'s ``warnings``),
so every renderer shows the same qualifications without deciding them itself.

What lives here:

- :class:`EvidenceWarning` and the registry of stable warning codes (:data:`CODES`);
- connected components (:func:`component_labels`, :func:`components`): factions are
  found only inside components large enough to hold structure;
- degree-preserving randomisation (:func:`rewired`) and the comparison of an observed
  statistic with its null distribution (:func:`significance`);
- the concentration of a group over a partition against random groups of the same
  size (:func:`group_concentration`), the test behind fault lines;
- counts against independent chances (:func:`binomial_excess`) and the
  Benjamini-Hochberg adjustment for testing many actors at once
  (:func:`fdr_adjust`), the tests behind bridge figures.

Thresholds are module constants so the documentation (``docs/concepts.md``) and the
code say the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

__all__ = [
    "CODES",
    "MIN_COMPONENT_SIZE",
    "MIN_DECLARED_WITH_TIES",
    "MIN_TIES_PER_ACTOR",
    "SIGNIFICANCE_ALPHA",
    "SIGNIFICANCE_FAR_Z",
    "SIGNIFICANCE_MIN_SAMPLES",
    "SIGNIFICANCE_SAMPLES",
    "SIGNIFICANCE_STEP",
    "SIGNIFICANCE_Z",
    "ComponentSummary",
    "Concentration",
    "EvidenceWarning",
    "Significance",
    "TieAlignment",
    "binomial_excess",
    "component_labels",
    "components",
    "fdr_adjust",
    "group_concentration",
    "reconnected",
    "rewired",
    "settled",
    "significance",
    "summarise_components",
    "tie_alignment",
    "warning",
    "warnings_as_dicts",
]

#: Connected components with fewer actors than this are *unassigned*: too small to
#: hold more than one group, so no faction is claimed for them.
MIN_COMPONENT_SIZE = 5
#: Fewer undirected ties than this many per actor (in the components that are
#: analysed) is "too few ties": a sparse, tree-like graph whose communities move with
#: every added tie.
MIN_TIES_PER_ACTOR = 1.0
#: Degree-preserving random graphs drawn for the significance of the factions.
SIGNIFICANCE_SAMPLES = 20
#: Community structure is significant when the observed modularity stands at least
#: this many standard deviations above the random graphs' mean ...
SIGNIFICANCE_Z = 3.0
#: ... and above every random graph drawn (empirical p below this when enough samples
#: were drawn; with fewer samples the z-score decides alone).
SIGNIFICANCE_ALPHA = 0.05
#: The random graphs are drawn in steps (see :func:`settled`); the verdict is looked
#: at first after this many, then after every :data:`SIGNIFICANCE_STEP` more.
SIGNIFICANCE_MIN_SAMPLES = 6
SIGNIFICANCE_STEP = 2
#: Drawing stops early, as significant, when the data stand at least this many
#: standard deviations above every random graph drawn so far (see :func:`settled`).
SIGNIFICANCE_FAR_Z = 10.0
#: A declared faction is judged (split or together) only when at least this many of
#: its members have ties inside the analysed components.
MIN_DECLARED_WITH_TIES = 5

#: Every warning code, by stage, with what it means. Codes are stable: scripts and
#: tests may match on them. The messages carry the numbers; these lines say the rule.
CODES: dict[str, str] = {
    # import --------------------------------------------------------------------
    "unlisted-sources": (
        "the store holds posts from sources the project no longer lists; the run leaves them out"
    ),
    # graph ---------------------------------------------------------------------
    "empty-graph": "no actor has a tie: there is nothing to analyse",
    "no-ties": "the actors have no ties between them",
    "too-few-ties": "fewer ties than actors in the analysed components",
    "fragmented-graph": "the largest connected component holds less than half of the actors",
    "unassigned-actors": "actors in components too small to hold a faction are left unassigned",
    # factions ------------------------------------------------------------------
    "no-factions": "no component is large enough to hold a faction",
    "factions-equal-components": (
        "every faction is a whole connected component: the groups are the graph's "
        "separate pieces, not communities found inside connected data"
    ),
    "no-significant-structure": (
        "the factions' modularity is not above what random graphs with the same "
        "degrees give: the split into factions is not supported by the data"
    ),
    "weak-structure": "significant, but modularity below 0.3: factions overlap heavily",
    "significance-not-tested": "the significance of the factions was not tested",
    "unstable-factions": "a faction's members change faction between runs",
    "factions-not-reached": "no resolution gives the number of factions asked for",
    # fault lines ---------------------------------------------------------------
    "declared-faction-too-thin": (
        "too few members of a declared faction have ties to judge where it stands"
    ),
    "declared-faction-no-signal": (
        "a declared faction's members sit in several factions, but no more apart than "
        "chance would place them"
    ),
    # bridges -------------------------------------------------------------------
    "no-bridges": "no actor's ties across factions stand out from chance",
    "bridges-too-few-factions": "fewer than two factions: there is nothing to bridge",
    "bridges-thin": (
        "too few actors have enough ties for their ties across factions to be judged against chance"
    ),
    "bridges-reduced": (
        "too many actors for exact betweenness: paths between factions were counted "
        "among the best-connected actors only"
    ),
    # alliances -----------------------------------------------------------------
    "alliances-too-thin": "faction pairs whose shared issues or expected ties are too few",
    "alliances-too-few-factions": "fewer than two factions: no alliance opportunity to look for",
    "no-alliance-opportunities": (
        "no pair of factions shares issues across several members while having "
        "significantly fewer ties than expected"
    ),
    # exports (mapper.export) -----------------------------------------------------
    "exports-reduced": (
        "the graph is larger than desktop graph tools open: the GEXF, GraphML and JSON "
        "files hold its most influential actors and strongest ties (the CSV and Parquet "
        "tables hold all of it)"
    ),
    # votes ---------------------------------------------------------------------
    "division-count-mismatch": (
        "the votes listed in a division differ from the counts it declares (its header "
        "or the API's AyeCount and NoCount)"
    ),
    "division-incomplete": (
        "rows of a division were set aside on import, or it lists fewer votes than it "
        "declares: its counts and rebels may be short"
    ),
    "party-line-split": (
        "a party's line is carried by a narrow majority of its voting members: its "
        "rebels may reflect a free vote or an open split rather than defiance of a whip"
    ),
    # co-voting (mapper.analysis.covoting) ----------------------------------------
    "covoting-conflicting-votes": (
        "members resolving to one actor voted differently in a division: those votes "
        "count as no vote"
    ),
    "covoting-too-few-divisions": (
        "fewer divisions than a pair of members needs to be scored: no co-voting ties, "
        "blocs, defectors or persuadable members"
    ),
    "covoting-thin-pairs": (
        "pairs of members sharing too few divisions (in which both voted) get no agreement score"
    ),
    "covoting-no-ties": (
        "no pair of members agrees significantly more than chance: no co-voting structure, "
        "no voting blocs"
    ),
    "blocs-are-components": (
        "the voting blocs are separate, dense pieces of the co-voting backbone: random "
        "graphs with the same degrees cannot differ from them, so the pairwise tests, not "
        "the modularity test, carry them"
    ),
    "blocs-too-small": (
        "communities of fewer members than a faction needs, found inside larger pieces of "
        "the co-voting backbone, are not called blocs"
    ),
    "party-split-across-blocs": (
        "no voting bloc holds half of a party's members: none of them is called a defector"
    ),
    "no-close-divisions": "no division was close enough to look for persuadable members",
    "unlisted-divisions": (
        "stored divisions from files the project does not list now (they are still mapped)"
    ),
    "tied-divisions-left-out": (
        "divisions that ended in a tie, left out of the persuadable members (no side won)"
    ),
    "persuadable-too-thin": (
        "members of close divisions who share too few other divisions with the side's "
        "members to be ranked"
    ),
    "talk-vote-no-overlap": (
        "too few members who voted are actors of the interaction graph to compare talk and votes"
    ),
    "talk-vote-too-thin": (
        "pairs or party pairs with too few shared divisions, too little activity or too "
        "few expected ties to compare talk and votes"
    ),
    # timeline (mapper.timeline) -------------------------------------------------
    "timeline-thin-window": (
        "a window whose factions the data do not support (none, or not significant): it "
        "tells no story, and no faction is named, matched or moved from it"
    ),
    "timeline-uncertain-changes": (
        "actors whose faction changed between windows on an unstable assignment or too "
        "few ties into the new faction: not reported as moves"
    ),
    "timeline-unchecked-moves": (
        "moves into the last window with factions (or of actors without a faction later) "
        "could not be checked against a later window: provisional"
    ),
    "timeline-transient-factions": (
        "factions that lasted one window (split off and merged back, or appeared and "
        "ended at once): their events are not reported"
    ),
    "timeline-too-few-windows": (
        "fewer than two windows with supported factions: nothing to compare over time"
    ),
    "timeline-undated": (
        "references without a time (or ties of graph files) fall in no window and are "
        "left out of the timeline"
    ),
    "timeline-source-not-read": "a source could not be read: its posts are in no window",
}


@dataclass(frozen=True)
class EvidenceWarning:
    """A qualification of a finding: the data cannot carry it, or only weakly.

    Attributes
    ----------
    code : str
        A stable code from :data:`CODES`.
    message : str
        One sentence with the numbers, for readers.
    stage : str
        The stage that raised it: ``graph``, ``factions``, ``fault_lines``,
        ``bridges``, ``alliances``, ``votes``, ``timeline``.
    """

    code: str
    message: str
    stage: str

    def as_dict(self) -> dict[str, str]:
        """``{"code", "message", "stage"}``, as written to ``summary.json``."""
        return {"code": self.code, "message": self.message, "stage": self.stage}


def warning(code: str, stage: str, message: str) -> EvidenceWarning:
    """Make a warning, checking that ``code`` is registered in :data:`CODES`."""
    if code not in CODES:
        raise ValueError(f"unknown warning code {code!r}")
    return EvidenceWarning(code=code, message=message, stage=stage)


def warnings_as_dicts(warnings: Iterable[EvidenceWarning]) -> list[dict[str, str]]:
    """Plain dicts, duplicates (same code and message) dropped, order kept."""
    seen: set[tuple[str, str]] = set()
    out = []
    for w in warnings:
        key = (w.code, w.message)
        if key not in seen:
            seen.add(key)
            out.append(w.as_dict())
    return out


# ------------------------------------------------------------------------- components


def component_labels(n: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Connected component of each of ``n`` nodes given undirected ties ``lo[j]-hi[j]``.

    Components are numbered by size descending (ties: smallest node index first), so
    label 0 is the largest component.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    adj = coo_matrix((np.ones(len(lo), dtype=np.int8), (lo, hi)), shape=(n, n)).tocsr()
    _, raw = connected_components(adj, directed=False)
    raw = raw.astype(np.int64)
    sizes = np.bincount(raw)
    first = np.full(sizes.size, n, dtype=np.int64)
    np.minimum.at(first, raw, np.arange(n, dtype=np.int64))
    order = np.lexsort((first, -sizes))  # size descending, then first node
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[raw]


@dataclass(frozen=True)
class ComponentSummary:
    """The connected components of a graph (directions ignored).

    Attributes
    ----------
    actors : int
        Number of actors.
    count : int
        Number of connected components (an isolated actor is one).
    sizes : tuple of int
        Component sizes, largest first.
    isolated : int
        Actors without any tie.
    min_size : int
        Components smaller than this are unassigned.
    analysed : int
        Components of at least ``min_size`` actors.
    analysed_actors : int
        Actors in them.
    """

    actors: int
    count: int
    sizes: tuple[int, ...]
    isolated: int
    min_size: int

    @property
    def largest(self) -> int:
        """Size of the largest component (0 for an empty graph)."""
        return self.sizes[0] if self.sizes else 0

    @property
    def largest_share(self) -> float:
        """Share of the actors in the largest component (0.0 for an empty graph)."""
        return self.largest / self.actors if self.actors else 0.0

    @property
    def analysed(self) -> int:
        return sum(1 for s in self.sizes if s >= self.min_size)

    @property
    def analysed_actors(self) -> int:
        return sum(s for s in self.sizes if s >= self.min_size)

    @property
    def unassigned(self) -> int:
        """Actors in components below ``min_size``."""
        return self.actors - self.analysed_actors

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for ``summary.json``."""
        return {
            "count": self.count,
            "largest": self.largest,
            "largest_share": round(self.largest_share, 4),
            "isolated": self.isolated,
            "min_size": self.min_size,
            "analysed": self.analysed,
            "analysed_actors": self.analysed_actors,
            "unassigned_actors": self.unassigned,
            "sizes": list(self.sizes[:20]),
        }


def components(G: nx.Graph, *, min_size: int = MIN_COMPONENT_SIZE) -> ComponentSummary:
    """Summarise the connected components of ``G`` (weakly connected if directed).

    Parameters
    ----------
    G : networkx graph
    min_size : int
        Components smaller than this count as unassigned.

    Examples
    --------
    >>> G = nx.Graph([(1, 2), (2, 3), (4, 5)])
    >>> G.add_node(6)
    >>> c = components(G, min_size=3)
    >>> c.count, c.sizes, c.isolated, c.unassigned
    (3, (3, 2, 1), 1, 3)
    """
    nodes = list(G.nodes)
    index = {u: i for i, u in enumerate(nodes)}
    lo: list[int] = []
    hi: list[int] = []
    for u, v in G.edges():
        if u != v:
            lo.append(index[u])
            hi.append(index[v])
    labels = component_labels(len(nodes), np.asarray(lo, np.int64), np.asarray(hi, np.int64))
    return summarise_components(labels, len(nodes), lo, hi, min_size=min_size)


def summarise_components(
    labels: np.ndarray,
    n: int,
    lo: Sequence[int] | np.ndarray,
    hi: Sequence[int] | np.ndarray,
    *,
    min_size: int = MIN_COMPONENT_SIZE,
) -> ComponentSummary:
    """:class:`ComponentSummary` from component labels and the tie endpoints."""
    sizes = np.bincount(labels) if n else np.zeros(0, dtype=np.int64)
    degree = np.zeros(n, dtype=np.int64)
    if n and len(lo):
        degree += np.bincount(np.asarray(lo), minlength=n)
        degree += np.bincount(np.asarray(hi), minlength=n)
    return ComponentSummary(
        actors=n,
        count=int(sizes.size),
        sizes=tuple(int(s) for s in sizes.tolist()),
        isolated=int(np.count_nonzero(degree == 0)),
        min_size=int(min_size),
    )


# ----------------------------------------------------------------------- significance


def rewired(
    n: int,
    lo: np.ndarray,
    hi: np.ndarray,
    w: np.ndarray,
    *,
    seed: int,
    groups: np.ndarray | None = None,
    swaps_per_tie: int = 10,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A degree-preserving random version of an undirected weighted graph.

    Every actor keeps its number of ties; ties are rewired by double-edge swaps
    (``a-b, c-d -> a-d, c-b`` or ``a-c, b-d``), never creating a self-loop or a
    second tie between the same pair, about ``swaps_per_tie`` attempts per tie. With
    ``groups`` (a label per node, e.g. its connected component), swaps pair ties of
    the same group only, so the random graph keeps the groups apart as the data
    does. Each tie keeps its weight through the swaps, so the weight distribution is
    kept too. The same ``seed`` gives the same graph.

    Swaps run in rounds: each round pairs the ties at random (within groups) and
    applies every acceptable swap of the pairing at once, so the cost is a few sorts
    of the tie list per round (vectorised), ``2 * swaps_per_tie`` rounds.

    Returns ``(lo, hi, w)`` with ``lo < hi``, sorted by ``(lo, hi)``.
    """
    lo = np.asarray(lo, dtype=np.int64).copy()
    hi = np.asarray(hi, dtype=np.int64).copy()
    w = np.asarray(w, dtype=float).copy()
    m = lo.size
    rng = np.random.default_rng(seed)
    if m >= 2:
        group = np.zeros(m, dtype=np.int64) if groups is None else np.asarray(groups)[lo]
        width = np.int64(max(n, 1))
        shift = group.astype(float) if groups is not None else np.zeros(m)
        for _ in range(2 * swaps_per_tie):
            # a random pairing of the ties, inside each group
            order = (
                rng.permutation(m) if groups is None else np.argsort(shift + 0.5 * rng.random(m))
            )
            first, second = order[0:-1:2], order[1::2]
            same = group[first] == group[second]
            first, second = first[same], second[same]
            a, b = lo[first], hi[first]
            c, d = lo[second], hi[second]
            flip = rng.random(first.size) < 0.5  # a-d, c-b  or  a-c, b-d
            x1, y1 = a, np.where(flip, d, c)
            x2, y2 = np.where(flip, c, b), np.where(flip, b, d)
            ok = (x1 != y1) & (x2 != y2)
            k1 = np.minimum(x1, y1) * width + np.maximum(x1, y1)
            k2 = np.minimum(x2, y2) * width + np.maximum(x2, y2)
            existing = np.sort(lo * width + hi)
            ok &= _absent(existing, k1) & _absent(existing, k2)
            ok &= k1 != k2
            # two swaps of the round must not create the same tie
            keys = np.concatenate((k1[ok], k2[ok]))
            owner = np.concatenate((np.flatnonzero(ok), np.flatnonzero(ok)))
            _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
            ok[owner[counts[inverse] > 1]] = False
            f, g = first[ok], second[ok]
            nx1, ny1, nx2, ny2 = x1[ok], y1[ok], x2[ok], y2[ok]
            lo[f], hi[f] = np.minimum(nx1, ny1), np.maximum(nx1, ny1)
            lo[g], hi[g] = np.minimum(nx2, ny2), np.maximum(nx2, ny2)
    final = np.lexsort((hi, lo))
    return lo[final], hi[final], w[final]


def _absent(existing: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is missing from the sorted, non-empty ``existing``.

    The keys are looked up in sorted order (then put back in theirs): a binary
    search of sorted keys walks ``existing`` forwards and stays in cache, about 3x
    faster than searching them in random order at 80,000 ties.
    """
    order = np.argsort(keys)
    ordered = keys[order]
    pos = np.searchsorted(existing, ordered).clip(max=existing.size - 1)
    out = np.empty(keys.size, dtype=bool)
    out[order] = existing[pos] != ordered
    return out


def reconnected(
    n: int,
    lo: np.ndarray,
    hi: np.ndarray,
    w: np.ndarray,
    groups: np.ndarray,
    *,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join again the pieces a rewiring broke each group into, keeping every degree.

    Double-edge swaps keep every actor's number of ties but not connectivity: two
    ties to actors with a single tie each can be swapped into a pair of their own, so
    a sparse, tree-like component of the data falls into a dozen pieces. The data's
    groups (its connected components) are in one piece by definition, and modularity
    rewards pieces: comparing connected data with broken random graphs makes any
    sparse graph look structured (a random tree scored z = 10).

    Each extra piece of a group is joined to the group's *hub* piece (the one with
    the most ties that close a cycle) by one more swap: a tie ``x-y`` of the piece
    and a tie ``u-v`` of the hub become ``x-u, y-v`` (or ``x-v, y-u``, at random),
    where at least one of the two ties closes a cycle of its piece (is not in a
    spanning forest), so both pieces stay attached. Degrees, weights (each tie keeps
    its weight) and the absence of self-loops and repeated ties are kept. A round
    joins as many pieces as the hub has ties to swap; rounds repeat until every group
    is one piece, which always happens because a group of ``k`` pieces holds at least
    ``k - 1`` ties that close cycles. Groups are labels per node, as for
    :func:`rewired`; the ties of ``lo``/``hi`` must stay inside their group. The same
    ``seed`` gives the same graph.

    Returns ``(lo, hi, w)`` with ``lo < hi``, sorted by ``(lo, hi)``.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    lo = np.asarray(lo, dtype=np.int64).copy()
    hi = np.asarray(hi, dtype=np.int64).copy()
    w = np.asarray(w, dtype=float)
    groups = np.asarray(groups, dtype=np.int64)
    m = lo.size
    rng = np.random.default_rng(seed)
    for _ in range(max(n, 1)):  # each round joins at least one piece
        pieces = component_labels(n, lo, hi) if m else np.zeros(n, dtype=np.int64)
        pairs = np.unique(np.stack((groups, pieces)), axis=1)
        per_group = np.bincount(pairs[0], minlength=int(groups.max(initial=0)) + 1)
        if not (per_group > 1).any():
            break
        # ties in a spanning forest; the others close a cycle of their piece
        forest = minimum_spanning_tree(
            coo_matrix((np.ones(m), (lo, hi)), shape=(n, n)).tocsr()
        ).tocoo()
        width = np.int64(n)
        keys = lo * width + hi
        order = np.argsort(keys)
        fkeys = np.minimum(forest.row, forest.col) * width + np.maximum(forest.row, forest.col)
        in_forest = np.zeros(m, dtype=bool)
        in_forest[order[np.searchsorted(keys[order], fkeys)]] = True
        tie_piece = pieces[lo]
        shuffled = rng.permutation(m)
        by_piece = shuffled[np.argsort(tie_piece[shuffled], kind="stable")]
        bounds = np.searchsorted(tie_piece[by_piece], np.arange(int(pieces.max()) + 2))
        for g in np.flatnonzero(per_group > 1).tolist():
            mine = pairs[1][pairs[0] == g].tolist()
            ties = {p: by_piece[bounds[p] : bounds[p + 1]] for p in mine}
            cycles = {p: ties[p][~in_forest[ties[p]]] for p in mine}
            hub = max(mine, key=lambda p: (cycles[p].size, ties[p].size, -p))
            spare_cycle = list(cycles[hub].tolist())
            spare_tree = list(ties[hub][in_forest[ties[hub]]].tolist())
            others = [p for p in mine if p != hub]
            others = [others[i] for i in rng.permutation(len(others)).tolist()]
            # pieces without a cycle need one of the hub's cycle ties; the others
            # bring their own and take any hub tie (tree ties first)
            plan = []
            for p in others:
                if cycles[p].size == 0 and spare_cycle:
                    plan.append((int(ties[p][0]), spare_cycle.pop()))
            for p in others:
                if cycles[p].size:
                    spare = spare_tree or spare_cycle
                    if spare:
                        plan.append((int(cycles[p][0]), spare.pop()))
            for e, f in plan:
                x, y, u, v = lo[e], hi[e], lo[f], hi[f]
                if rng.random() < 0.5:
                    u, v = v, u
                lo[e], hi[e] = min(x, u), max(x, u)
                lo[f], hi[f] = min(y, v), max(y, v)
    final = np.lexsort((hi, lo))
    return lo[final], hi[final], w[final]


@dataclass(frozen=True)
class Significance:
    """An observed statistic against its values on random graphs.

    Attributes
    ----------
    observed : float
        The statistic on the data (e.g. the factions' modularity).
    null_mean, null_std : float
        Mean and standard deviation over the random graphs.
    z : float or None
        ``(observed - null_mean) / null_std``; ``None`` when ``null_std`` is 0
        (then ``observed`` above the mean counts as infinitely far).
    p : float
        Empirical p-value ``(1 + #{null >= observed}) / (1 + samples)``.
    samples : int
        Number of random graphs.
    significant : bool
        ``z >= SIGNIFICANCE_Z`` and no random graph reached ``observed`` (when at
        least ``1 / SIGNIFICANCE_ALPHA - 1`` graphs were drawn, ``p <
        SIGNIFICANCE_ALPHA`` follows).
    null : tuple of float
        The random graphs' values, in draw order.
    planned : int
        Random graphs the test was to draw; more than ``samples`` when drawing
        stopped early because the verdict was settled (:func:`settled`).
    """

    observed: float
    null_mean: float
    null_std: float
    z: float | None
    p: float
    samples: int
    significant: bool
    null: tuple[float, ...] = field(default=(), repr=False)
    planned: int = 0

    @property
    def stopped_early(self) -> bool:
        """Whether fewer random graphs were drawn than planned (the verdict was settled)."""
        return self.planned > self.samples

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for ``summary.json`` (the null values left out)."""
        return {
            "observed": round(self.observed, 4),
            "null_mean": round(self.null_mean, 4),
            "null_std": round(self.null_std, 4),
            "z": None if self.z is None else round(self.z, 2),
            "p": round(self.p, 4),
            "samples": self.samples,
            "planned": max(self.planned, self.samples),
            "significant": self.significant,
        }

    def describe(self) -> str:
        """``"z = 8.1, p = 0.048 over 20 random graphs with the same degrees"``."""
        z = "z undefined" if self.z is None else f"z = {self.z:.1f}"
        graphs = "random graph" if self.samples == 1 else "random graphs"
        text = (
            f"{z}, p = {self.p:.3g} over {self.samples} {graphs} with the same degrees "
            f"(their modularity {self.null_mean:.3f} ± {self.null_std:.3f})"
        )
        if self.stopped_early:
            why = (
                f"the data stood more than {SIGNIFICANCE_FAR_Z:g} standard deviations above "
                "every one"
                if self.significant
                else "a random graph had already reached the data"
            )
            text += f"; stopped before the {self.planned} planned: {why}"
        return text


def settled(observed: float, null: Sequence[float], *, far_z: float = SIGNIFICANCE_FAR_Z) -> bool:
    """Whether more random graphs than ``null`` could no longer change the verdict
    of :func:`significance` in practice, so drawing may stop.

    Two cases. A random graph already reached ``observed``: the structure cannot be
    significant whatever the rest give (the verdict needs none to reach it). Or
    ``observed`` stands at least ``far_z`` standard deviations above the mean of the
    random graphs, and above every one: then for a later graph to reach it, or to
    pull the z-score below :data:`SIGNIFICANCE_Z`, it would have to fall far outside
    what the graphs drawn so far spread over (with 6 graphs and ``far_z`` 10, a
    normal null estimated from them gives each later graph a chance of about 1 in
    8,000 to reach the data). The caller decides how many graphs to draw before
    asking (:data:`SIGNIFICANCE_MIN_SAMPLES`).

    Examples
    --------
    >>> settled(0.42, [0.30, 0.31, 0.29, 0.32, 0.30, 0.31])
    True
    >>> settled(0.33, [0.30, 0.31, 0.29, 0.32, 0.30, 0.31])
    False
    >>> settled(0.31, [0.30, 0.31, 0.29])
    True
    """
    values = np.asarray(list(null), dtype=float)
    if values.size == 0:
        return False
    if np.any(values >= observed - 1e-12):
        return True
    if values.size < 2:
        return False
    std = float(values.std(ddof=1))
    return std > 1e-12 and (observed - float(values.mean())) / std >= far_z


def significance(
    observed: float,
    null: Sequence[float],
    *,
    z_threshold: float = SIGNIFICANCE_Z,
    planned: int | None = None,
) -> Significance:
    """Compare ``observed`` with its values ``null`` on random graphs.

    ``planned``: how many random graphs the test was to draw, when it stopped
    early (:func:`settled`); by default ``len(null)``.

    Examples
    --------
    >>> s = significance(0.42, [0.30, 0.31, 0.29, 0.32, 0.30])
    >>> round(s.z, 1), s.p, s.significant
    (10.2, 0.1667, True)
    """
    values = np.asarray(list(null), dtype=float)
    k = int(values.size)
    if k == 0:
        return Significance(
            float(observed), math.nan, math.nan, None, 1.0, 0, False, (), int(planned or 0)
        )
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if k > 1 else 0.0
    reached = int(np.count_nonzero(values >= observed - 1e-12))
    p = (1 + reached) / (1 + k)
    if std > 1e-12:
        z: float | None = (observed - mean) / std
        above = z >= z_threshold
    else:
        z = None
        above = observed > mean + 1e-9
    return Significance(
        observed=float(observed),
        null_mean=mean,
        null_std=std,
        z=z,
        p=round(p, 4),
        samples=k,
        significant=bool(above and reached == 0),
        null=tuple(float(x) for x in values.tolist()),
        planned=max(k, int(planned or 0)),
    )


# ---------------------------------------------------------------------- concentration


@dataclass(frozen=True)
class Concentration:
    """How concentrated a group is over a partition, against random groups.

    Attributes
    ----------
    size : int
        Members of the group that the partition covers.
    main_share : float
        Share of them in the faction that holds most of them.
    observed : float
        Probability that two distinct members sit in the same faction (Simpson's
        index of the group's spread; 1.0 when all are together).
    expected : float
        Mean of the same index over random groups of the same size drawn from the
        partition's actors (faction labels permuted).
    p : float
        Share of random groups at least as concentrated (``(1 + hits) / (1 +
        samples)``): small means the group sits together far more than chance.
    samples : int
    """

    size: int
    main_share: float
    observed: float
    expected: float
    p: float
    samples: int


def _pair_same(counts: np.ndarray, size: int) -> np.ndarray:
    """Simpson's index per row of ``counts`` (members per faction)."""
    if size < 2:
        return np.ones(counts.shape[0])
    return (counts * (counts - 1)).sum(axis=-1) / (size * (size - 1))


def group_concentration(
    members: Iterable[Hashable],
    partition: Mapping[Hashable, int],
    *,
    samples: int = 2000,
    seed: int = 0,
) -> Concentration:
    """Test whether a group's members sit together more than random actors would.

    The statistic is the probability that two members sit in the same faction. Its
    null distribution comes from ``samples`` random groups of the same size drawn
    without replacement from all actors of ``partition`` (equivalently, faction
    labels permuted over the actors). Members missing from ``partition`` are left
    out.

    Examples
    --------
    >>> part = {i: i % 4 for i in range(40)}
    >>> c = group_concentration([0, 4, 8, 12, 16, 1], part, seed=1)
    >>> round(c.main_share, 2), c.p < 0.05
    (0.83, True)
    """
    labels = [partition[m] for m in members if m in partition]
    size = len(labels)
    all_labels = np.asarray(list(partition.values()), dtype=np.int64)
    if size == 0 or all_labels.size == 0:
        return Concentration(0, 0.0, 0.0, 0.0, 1.0, 0)
    k = int(all_labels.max()) + 1
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=k)
    observed = float(_pair_same(counts[None, :], size)[0])
    main_share = float(counts.max() / size)
    rng = np.random.default_rng(seed)
    if size < all_labels.size:
        # A random group of `size` actors drawn without replacement holds, per faction,
        # a multivariate hypergeometric number of members: drawing those counts costs
        # samples x factions, not samples x actors (a permutation of 100,000 actors
        # per sample took minutes and gigabytes at the scale of a million posts).
        colors = np.bincount(all_labels, minlength=k)
        null_counts = rng.multivariate_hypergeometric(colors, size, size=samples)
        null = _pair_same(null_counts, size)
    else:
        null = np.full(samples, observed)
    hits = int(np.count_nonzero(null >= observed - 1e-12))
    return Concentration(
        size=size,
        main_share=main_share,
        observed=observed,
        expected=float(null.mean()),
        p=(1 + hits) / (1 + samples),
        samples=samples,
    )


@dataclass(frozen=True)
class TieAlignment:
    """Whether a group's ties among its own members follow a division of the group.

    Attributes
    ----------
    ties : int
        Ties between two members of the group.
    observed : float
        Share of their weight joining two members on the same side of the division.
    expected : float
        The same share, averaged over random divisions with the same side sizes
        (side labels permuted among the members).
    p : float
        Share of random divisions with at least ``observed`` (``(1 + hits) / (1 +
        samples)``); 1.0 without ties.
    samples : int
    """

    ties: int
    observed: float
    expected: float
    p: float
    samples: int


def tie_alignment(
    sides: Sequence[int],
    lo: Sequence[int],
    hi: Sequence[int],
    w: Sequence[float] | None = None,
    *,
    samples: int = 2000,
    seed: int = 0,
) -> TieAlignment:
    """Test whether a group's internal ties stay inside the sides of a division.

    ``sides[i]`` is the side (e.g. the faction) of member ``i``; the ties join
    members ``lo[j]`` and ``hi[j]`` (member indices) with weight ``w[j]``. Under the
    null the side labels are permuted among the members, so each side keeps its
    size: a real fault line keeps markedly more of the group's tie weight inside
    the sides than such random divisions do.

    Examples
    --------
    >>> sides = [0] * 5 + [1] * 5
    >>> ties = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    >>> ties += [(i + 5, j + 5) for i, j in ties] + [(0, 5)]
    >>> t = tie_alignment(sides, [a for a, _ in ties], [b for _, b in ties], seed=1)
    >>> t.ties, round(t.observed, 2), t.p < 0.05
    (21, 0.95, True)
    """
    labels = np.asarray(list(sides), dtype=np.int64)
    a = np.asarray(list(lo), dtype=np.int64)
    b = np.asarray(list(hi), dtype=np.int64)
    weights = np.ones(a.size) if w is None else np.asarray(list(w), dtype=float)
    total = float(weights.sum())
    if a.size == 0 or total <= 0:
        return TieAlignment(int(a.size), 0.0, 0.0, 1.0, 0)
    observed = float(weights[labels[a] == labels[b]].sum() / total)
    rng = np.random.default_rng(seed)
    perms = np.argsort(rng.random((samples, labels.size)), axis=1)
    shuffled = labels[perms]  # (samples, members)
    same = shuffled[:, a] == shuffled[:, b]
    null = (same * weights).sum(axis=1) / total
    hits = int(np.count_nonzero(null >= observed - 1e-12))
    return TieAlignment(
        ties=int(a.size),
        observed=observed,
        expected=float(null.mean()),
        p=(1 + hits) / (1 + samples),
        samples=samples,
    )


# --- bridges --------------------------------------------------------------------------


def fdr_adjust(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values ("q-values") of a family of tests.

    Calling every test with an adjusted value at most ``alpha`` a finding keeps the
    expected share of false findings among them at most ``alpha`` (for independent
    or positively dependent tests); when no finding is real, the chance of calling
    any is at most ``alpha``. NaN entries are left out of the family and stay NaN.

    Examples
    --------
    >>> [round(float(x), 3) for x in fdr_adjust([0.01, 0.04, 0.03, 0.5])]
    [0.04, 0.053, 0.053, 0.5]

    References
    ----------
    .. [1] Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate:
       a practical and powerful approach to multiple testing. *Journal of the Royal
       Statistical Society B* 57(1), 289-300.
    """
    values = np.asarray(p, dtype=float)
    out = np.full(values.shape, np.nan)
    ok = ~np.isnan(values)
    m = int(ok.sum())
    if m == 0:
        return out
    tested = values[ok]
    order = np.argsort(tested, kind="stable")
    ranked = tested[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]  # monotone from the top
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(ranked, 1.0)
    out[ok] = adjusted
    return out


def binomial_excess(
    observed: np.ndarray | Sequence[float],
    trials: np.ndarray | Sequence[float],
    prob: np.ndarray | Sequence[float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How far counts exceed what independent chances would give.

    For each entry, ``observed`` successes in ``trials`` tries that each succeed with
    probability ``prob``: returns ``(expected, z, p)`` with ``expected = trials *
    prob``, ``z = (observed - expected) / sqrt(trials * prob * (1 - prob))`` (0 when
    the spread is 0) and the exact one-sided binomial tail ``p = P(X >= observed)``.

    Examples
    --------
    >>> e, z, p = binomial_excess([9], [14], [0.2])
    >>> round(float(e[0]), 1), round(float(z[0]), 2), float(p[0]) < 0.001
    (2.8, 4.14, True)
    """
    from scipy.stats import binom

    k = np.asarray(observed, dtype=float)
    n = np.asarray(trials, dtype=float)
    q = np.clip(np.asarray(prob, dtype=float), 0.0, 1.0)
    expected = n * q
    spread = np.sqrt(n * q * (1.0 - q))
    z = np.zeros(np.broadcast(k, n, q).shape)
    ok = spread > 1e-12
    z[ok] = ((k - expected) / np.where(ok, spread, 1.0))[ok]
    p = np.where(k <= 0, 1.0, binom.sf(k - 1, n, q))
    return expected, z, np.clip(p, 0.0, 1.0)
