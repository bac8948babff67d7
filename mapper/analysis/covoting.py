"""Co-voting: who votes with whom across divisions, the blocs that follow, party
cohesion, the persuadable members of close divisions, and who votes together without
talking (and the reverse).

The input is the votes table of :func:`mapper.votes.votes_frame` (one row per member and
division); everything here returns data (arrays, DataFrames, a networkx graph and
:class:`~mapper.analysis.strength.EvidenceWarning` objects), and
:mod:`mapper.render.covoting` writes it out. The steps:

1. :func:`vote_matrix`: members x divisions (``+1`` aye, ``-1`` no, ``0`` no vote).
   A member is the roster actor they resolve to, else their member key, so a node of
   the co-voting graph is the same node as in the interaction graph.
2. :func:`pair_agreement`: for every pair of members, over the divisions both voted in
   (aye or no; not voting is not a vote), how often they took the same side, how often
   chance would have them do so, a chance-corrected agreement (``kappa``) and one-sided
   p-values, with the Benjamini-Hochberg correction over all pairs. Pairs sharing
   fewer than :data:`MIN_SHARED_DIVISIONS` divisions get no score. Vectorised: five
   matrix products of the members x divisions matrix.
3. :func:`covoting_graph`: the members, tied where their agreement is significantly
   above chance (the backbone), weighted by ``kappa``.
4. :func:`voting_blocs`: :func:`mapper.analysis.factions.detect_factions` on that graph
   (components first, significance against degree-preserving random graphs), each bloc
   named by its party make-up; :func:`bloc_defectors`: members whose bloc is not their
   party's.
5. :func:`party_cohesion`: the Rice index per party (and per bloc) and division.
6. :func:`persuadable_members`: in close divisions, the members who voted the other way
   or did not vote, ranked by how close their record is to the winning side's.
7. :func:`talk_vote`: against the interaction (social) graph of the same actors: pairs
   and party pairs who vote together but do not talk, and who talk but vote apart.

:func:`covoting` runs them all and returns a :class:`CoVoting`.

*Chance.* The expected agreement of two members in a division is the probability that
two distinct members drawn from its voters took the same side,
``e = (a(a-1) + n(n-1)) / (v(v-1))`` for ``a`` ayes and ``n`` noes of ``v`` voters. It
depends on the division only: a lopsided division (everybody aye) gives agreement for
free, a 50/50 split gives none. Members' aye rates are deliberately not used: whether
a motion is put as "aye" or "no" is arbitrary (an amendment, its motion, a motion to
disagree), so a member's aye rate says more about the agenda than about the member,
and a chance model must not change when a division's sides are swapped. Agreement in
excess of ``e`` over many divisions is what the measure counts (Scott 1955's chance
agreement from pooled shares, applied per division; compare Cohen 1960's kappa).

References
----------
.. [1] Scott, W. A. (1955). Reliability of content analysis: the case of nominal scale
   coding. Public Opinion Quarterly, 19(3), 321-325.
.. [2] Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and
   Psychological Measurement, 20(1), 37-46.
.. [3] Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. J. R.
   Stat. Soc. B, 57(1), 289-300.
.. [4] Volkova, A. Y. (1996). A refinement of the central limit theorem for sums of
   independent random indicators. Theory Probab. Appl., 40(4), 791-794; Hong, Y. (2013).
   On computing the distribution function for the Poisson binomial distribution.
   Comput. Stat. Data Anal., 59, 41-51.
.. [5] Neal, Z. (2014). The backbone of bipartite projections: inferring relationships
   from co-authorship, co-sponsorship, co-attendance and other co-behaviors. Social
   Networks, 39, 84-97.
.. [6] Rice, S. A. (1928). Quantitative Methods in Politics. New York: Knopf;
   Desposato, S. W. (2005). Correcting for small group inflation of roll-call cohesion
   scores. British Journal of Political Science, 35(4), 731-744.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from mapper.analysis.divisions import MIN_PARTY_VOTING, UNWHIPPED_LABELS, whip_groups
from mapper.analysis.strength import (
    MIN_COMPONENT_SIZE,
    SIGNIFICANCE_SAMPLES,
    EvidenceWarning,
    warning,
)
from mapper.errors import AnalysisError
from mapper.resolve.members import fold_label

__all__ = [
    "AGREEMENT_COLUMNS",
    "BLOC_COLUMNS",
    "CLOSE_COLUMNS",
    "CLOSE_MARGIN_SHARE",
    "CLOSE_MARGIN_VOTES",
    "COHESION_COLUMNS",
    "COMPARE_COLUMNS",
    "DEFECTOR_COLUMNS",
    "GROUP_COLUMNS",
    "MEMBER_BLOC_COLUMNS",
    "MIN_BLOC_PARTY",
    "MIN_EXPECTED_TIES",
    "MIN_SHARED_DIVISIONS",
    "MIN_SOCIAL_TIES",
    "MIN_TALK_WEIGHT",
    "PERSUADABLE_COLUMNS",
    "PERSUADABLE_COVERAGE",
    "TIE_ALPHA",
    "Agreement",
    "Blocs",
    "CoVoting",
    "TalkVote",
    "VoteMatrix",
    "bh_qvalues",
    "bloc_defectors",
    "chance_agreement",
    "covoting",
    "covoting_graph",
    "pair_agreement",
    "party_cohesion",
    "persuadable_members",
    "talk_vote",
    "vote_matrix",
    "voting_blocs",
]

STAGE = "votes"

#: A pair of members is scored only over at least this many divisions in which both
#: voted (aye or no). Below it, even perfect agreement is not significant after the
#: correction over all pairs of a parliament, and one division moves the share by 10
#: points or more.
MIN_SHARED_DIVISIONS = 10
#: False discovery rate of the co-voting ties (Benjamini-Hochberg over every scored
#: pair): a tie is kept when its agreement is above chance at this level.
TIE_ALPHA = 0.05
#: A party counts in a bloc's make-up (and makes a bloc cross-party) with at least
#: this many members in it.
MIN_BLOC_PARTY = 3
#: A division is close when its margin is at most this many votes ...
CLOSE_MARGIN_VOTES = 20
#: ... and at most this share of the votes cast (so that a small house is not judged
#: by the Commons' yardstick).
CLOSE_MARGIN_SHARE = 0.05
#: A persuadable member is ranked only when at least this share of the winning side's
#: members share enough other divisions with them to be compared.
PERSUADABLE_COVERAGE = 0.5
#: A member's silence towards another counts only when the member has at least this
#: many ties in the interaction graph (someone who never posts is not "not talking").
MIN_SOCIAL_TIES = 3
#: "Talk a lot": a tie of at least this weight (both directions summed).
MIN_TALK_WEIGHT = 2.0
#: A group's "few ties" is judged only when chance would give it at least this many.
MIN_EXPECTED_TIES = 3.0
#: A group judged for talk versus vote needs at least this many scored member pairs.
MIN_GROUP_PAIRS = 10
#: Share of a group's scored pairs that must be significant ties (or significantly
#: apart) for the group to be said to vote together (or apart).
GROUP_SHARE = 0.5
#: When the bloc structure is not significant against random graphs with the same
#: degrees and one such rewiring moves less than this share of the ties, the random
#: graphs are the data (dense, separate blocs): the test cannot judge them.
MIN_REWIRABLE = 0.1
#: Bloc members whose stability (share of detection runs keeping them with their bloc)
#: is below this are reported as thin evidence.
UNSTABLE_MEMBER = 0.5

#: Columns of :meth:`Agreement.frame` (one row per scored pair).
AGREEMENT_COLUMNS: tuple[str, ...] = (
    "member_a",
    "member_b",
    "name_a",
    "name_b",
    "party_a",
    "party_b",
    "shared",
    "agreed",
    "agreement",
    "expected",
    "kappa",
    "z",
    "p_above",
    "q_above",
    "p_below",
    "q_below",
    "tie",
)
#: Columns of :meth:`CoVoting.blocs_frame` (one row per bloc).
BLOC_COLUMNS: tuple[str, ...] = (
    "bloc",
    "name",
    "size",
    "parties",
    "cross_party",
    "makeup",
    "cohesion",
    "rice",
    "divisions",
    "significant",
)
#: Columns of :meth:`CoVoting.members_frame` (one row per member).
MEMBER_BLOC_COLUMNS: tuple[str, ...] = (
    "member",
    "name",
    "party",
    "constituency",
    "actor",
    "divisions",
    "ties",
    "bloc",
    "bloc_name",
    "stability",
    "party_bloc",
    "defector",
)
#: Columns of :func:`bloc_defectors`.
DEFECTOR_COLUMNS: tuple[str, ...] = (
    "member",
    "name",
    "party",
    "bloc",
    "bloc_name",
    "party_bloc",
    "party_bloc_name",
    "party_share",
    "kappa_bloc",
    "kappa_party",
    "ties_bloc",
    "ties_party",
    "stability",
    "evidence",
    "reason",
)
#: Columns of the cohesion summary (:func:`party_cohesion`).
COHESION_COLUMNS: tuple[str, ...] = (
    "group_type",
    "group",
    "members",
    "divisions",
    "rice",
    "rice_min",
    "chance_rice",
    "blocs",
    "main_bloc",
    "main_bloc_share",
)
#: Columns of the per-division cohesion table.
COHESION_DIVISION_COLUMNS: tuple[str, ...] = (
    "group_type",
    "group",
    "division",
    "number",
    "date",
    "ayes",
    "noes",
    "no_vote",
    "rice",
)
#: Columns of the close divisions table.
CLOSE_COLUMNS: tuple[str, ...] = (
    "division",
    "number",
    "date",
    "title",
    "ayes",
    "noes",
    "margin",
    "result",
    "switches_to_flip",
    "candidates",
    "ranked",
    "thin",
)
#: Columns of :func:`persuadable_members`.
PERSUADABLE_COLUMNS: tuple[str, ...] = (
    "division",
    "number",
    "date",
    "title",
    "result",
    "margin",
    "rank",
    "member",
    "name",
    "party",
    "voted",
    "closeness",
    "closeness_other",
    "leaning",
    "shared",
    "side_members",
    "ties_to_side",
    "reason",
)
#: Columns of the talk-versus-vote pairs.
COMPARE_COLUMNS: tuple[str, ...] = (
    "finding",
    "member_a",
    "member_b",
    "name_a",
    "name_b",
    "party_a",
    "party_b",
    "cross_party",
    "shared",
    "agreement",
    "expected",
    "kappa",
    "q",
    "social_weight",
    "social_ties_a",
    "social_ties_b",
    "reason",
)
#: Columns of the talk-versus-vote groups (party pairs).
GROUP_COLUMNS: tuple[str, ...] = (
    "finding",
    "party_a",
    "party_b",
    "members_a",
    "members_b",
    "pairs",
    "scored",
    "vote_ties",
    "vote_share",
    "apart_share",
    "kappa",
    "social_ties",
    "expected_ties",
    "q_fewer",
    "q_more",
    "reason",
)

_VOTE_CODES = {"aye": 1, "no": -1, "no_vote": 0}


def _warn(code: str, message: str) -> EvidenceWarning:
    return warning(code, STAGE, message)


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    if not rows:
        return _empty(columns)
    return pd.DataFrame.from_records(rows, columns=list(columns))


# ----------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class VoteMatrix:
    """Members x divisions.

    Attributes
    ----------
    nodes : list of str
        Node ids, sorted: the roster actor a member resolves to, else the member key.
    divisions : list of str
        Division uids, by date.
    votes : numpy.ndarray
        ``int8`` (members x divisions): ``1`` aye, ``-1`` no, ``0`` no vote or not
        listed (tellers count as votes on their side).
    listed : numpy.ndarray
        ``bool``: the division lists the member (voting or not).
    party : numpy.ndarray
        ``int16``: index into ``parties`` of the member's party in that division (the
        label of the day, ``Party (Sub)`` folded into ``Party``), ``-1`` unlisted.
    parties : list of str
        Party labels (whip groups).
    members : pandas.DataFrame
        One row per node (same order): ``node``, ``member`` (the member key, the
        latest when several resolve to one actor), ``actor`` (or ``None``), ``name``,
        ``party`` (of the latest division), ``constituency``, ``divisions`` (voted in).
    division_info : pandas.DataFrame
        One row per division: ``division``, ``number``, ``date``, ``title``, ``ayes``,
        ``noes`` (declared when known, else listed without tellers), ``margin``,
        ``result`` (``aye``, ``no``, ``tie``), ``voters`` (aye or no, tellers included).
    conflicts : int
        Member-division cells where two member keys resolving to one actor voted
        differently (counted as no vote).
    """

    nodes: list[str]
    divisions: list[str]
    votes: np.ndarray
    listed: np.ndarray
    party: np.ndarray
    parties: list[str]
    members: pd.DataFrame
    division_info: pd.DataFrame
    conflicts: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        """``(members, divisions)``."""
        return (len(self.nodes), len(self.divisions))

    def index(self) -> dict[str, int]:
        """Node id -> row."""
        return {node: i for i, node in enumerate(self.nodes)}


def _whipped(label: str) -> bool:
    return fold_label(label) not in UNWHIPPED_LABELS


def vote_matrix(votes: pd.DataFrame, divisions: pd.DataFrame | None = None) -> VoteMatrix:
    """Turn the votes table into a :class:`VoteMatrix`.

    Parameters
    ----------
    votes : pandas.DataFrame
        :func:`mapper.votes.votes_frame` (columns ``division``, ``date``, ``title``,
        ``number``, ``member``, ``name``, ``party``, ``constituency``, ``actor``,
        ``vote``, ``teller``).
    divisions : pandas.DataFrame, optional
        :func:`mapper.votes.divisions_frame`: its ``margin`` and ``result`` (from the
        declared counts) are used for the close divisions; without it they come from
        the votes listed (tellers apart).

    Returns
    -------
    VoteMatrix

    Raises
    ------
    AnalysisError
        When a required column is missing or a vote is not ``aye``, ``no`` or
        ``no_vote``.
    """
    required = ("division", "member", "vote")
    missing = [c for c in required if c not in votes.columns]
    if missing:
        raise AnalysisError(
            f"the votes table lacks the column(s) {', '.join(missing)}",
            hint="pass mapper.votes.votes_frame(store)",
        )
    n_rows = len(votes)

    def column(name: str, default: Any = None) -> np.ndarray:
        if name in votes.columns:
            return votes[name].to_numpy(dtype=object)
        return np.full(n_rows, default, dtype=object)

    words = column("vote")
    code = np.full(n_rows, 9, dtype=np.int64)
    for word, value in _VOTE_CODES.items():
        code[words == word] = value
    if (code == 9).any():
        bad = words[int(np.argmax(code == 9))]
        raise AnalysisError(
            f"unknown vote value {bad!r} in the votes table", field="vote", hint="aye, no, no_vote"
        )
    member = np.array([str(m) for m in column("member")], dtype=object)
    actor = column("actor")
    resolved = np.array([isinstance(a, str) and a != "" for a in actor], dtype=bool)
    node = np.where(resolved, actor, member)
    # divisions by date (undated last), then uid
    div_code, div_uniques = pd.factorize(column("division"))
    div_uids = [str(u) for u in div_uniques]
    _, first_row = np.unique(div_code, return_index=True)
    dates = votes["date"] if "date" in votes.columns else pd.Series([None] * n_rows)
    first_dates = dates.iloc[first_row].tolist()
    order = sorted(
        range(len(div_uids)),
        key=lambda k: (
            first_dates[k] is None or pd.isna(first_dates[k]),
            _when(first_dates[k]),
            div_uids[k],
        ),
    )
    rank = np.empty(len(div_uids), dtype=np.int64)
    rank[order] = np.arange(len(div_uids))
    ci = rank[div_code] if n_rows else np.zeros(0, dtype=np.int64)
    division_list = [div_uids[k] for k in order]
    node_code, node_uniques = pd.factorize(node)
    nodes = sorted(str(u) for u in node_uniques)
    node_rank = {n: i for i, n in enumerate(nodes)}
    remap = np.array([node_rank[str(u)] for u in node_uniques], dtype=np.int64)
    ri = remap[node_code] if n_rows else np.zeros(0, dtype=np.int64)
    m, d = len(nodes), len(division_list)
    total = np.zeros((m, d), dtype=np.int32)
    count = np.zeros((m, d), dtype=np.int32)
    seen = np.zeros((m, d), dtype=np.int32)
    np.add.at(total, (ri, ci), code)
    np.add.at(count, (ri, ci), np.abs(code))
    np.add.at(seen, (ri, ci), 1)
    agree = (np.abs(total) == count) & (count > 0)
    matrix = np.where(agree, np.sign(total), 0).astype(np.int8)
    conflicts = int(np.count_nonzero((count > 0) & ~agree))
    labels = np.array(["" if not isinstance(x, str) else x for x in column("party", "")], object)
    label_code, label_uniques = pd.factorize(labels)
    groups = whip_groups([str(u) for u in label_uniques])
    grouped_uniques = [groups.get(str(u), str(u)) for u in label_uniques]
    parties = sorted(set(grouped_uniques))
    party_index = {p: k for k, p in enumerate(parties)}
    party_of_label = np.array([party_index[g] for g in grouped_uniques], dtype=np.int16)
    party = np.full((m, d), -1, dtype=np.int16)
    if n_rows:
        party[ri, ci] = party_of_label[label_code]
    # each node's attributes from its latest division (the last such row)
    latest = np.zeros(m, dtype=np.int64)
    if n_rows:
        by_time = np.lexsort((np.arange(n_rows), ci))
        backwards = by_time[::-1]
        _, first_back = np.unique(ri[backwards], return_index=True)
        latest = backwards[first_back]
    names = column("name", "")
    seats = column("constituency", "")
    grouped = np.array(grouped_uniques, dtype=object)
    voted = np.count_nonzero(matrix, axis=1)
    members = pd.DataFrame(
        {
            "node": nodes,
            "member": [str(member[r]) for r in latest],
            "actor": [str(actor[r]) if resolved[r] else None for r in latest],
            "name": [
                str(names[r]) if isinstance(names[r], str) and names[r] else nodes[k]
                for k, r in enumerate(latest)
            ],
            "party": [str(grouped[label_code[r]]) for r in latest],
            "constituency": [str(seats[r]) if isinstance(seats[r], str) else "" for r in latest],
            "divisions": voted.astype(np.int64),
        }
    )
    division_info = _division_info(votes, div_code, rank, order, code, matrix, divisions)
    return VoteMatrix(
        nodes=nodes,
        divisions=division_list,
        votes=matrix,
        listed=seen > 0,
        party=party,
        parties=parties,
        members=members,
        division_info=division_info,
        conflicts=conflicts,
    )


def _when(value: Any) -> Any:
    """A sortable form of a division's date (``0`` when there is none)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return 0
    return pd.Timestamp(value).value if not isinstance(value, str) else value


def _division_info(
    votes: pd.DataFrame,
    div_code: np.ndarray,
    rank: np.ndarray,
    order: list[int],
    code: np.ndarray,
    matrix: np.ndarray,
    divisions: pd.DataFrame | None,
) -> pd.DataFrame:
    d = len(order)
    teller = (
        votes["teller"].fillna(False).astype(bool).to_numpy()
        if "teller" in votes.columns
        else np.zeros(len(votes), dtype=bool)
    )
    ci = rank[div_code] if len(votes) else np.zeros(0, dtype=np.int64)
    ayes = np.bincount(ci[(code == 1) & ~teller], minlength=d)
    noes = np.bincount(ci[(code == -1) & ~teller], minlength=d)
    _, first_row = np.unique(div_code, return_index=True)
    rows = first_row[order] if d else np.zeros(0, dtype=np.int64)

    def first(name: str) -> list[Any]:
        if name not in votes.columns:
            return [None] * d
        return votes[name].iloc[rows].tolist()

    out = pd.DataFrame(
        {
            "division": [str(votes["division"].iat[r]) for r in rows],
            "number": ["" if v is None else str(v) for v in first("number")],
            "date": first("date"),
            "title": ["" if v is None else str(v) for v in first("title")],
            "ayes": ayes.astype(np.int64),
            "noes": noes.astype(np.int64),
        }
    )
    if divisions is not None and len(divisions):
        known = divisions.drop_duplicates("division").set_index("division").reindex(out["division"])
        declared = (known["declared_ayes"].notna() & known["declared_noes"].notna()).to_numpy()
        if declared.any():
            out.loc[declared, "ayes"] = known["declared_ayes"].to_numpy()[declared].astype(np.int64)
            out.loc[declared, "noes"] = known["declared_noes"].to_numpy()[declared].astype(np.int64)
    out["margin"] = (out["ayes"] - out["noes"]).abs()
    out["result"] = np.where(
        out["ayes"] > out["noes"], "aye", np.where(out["ayes"] < out["noes"], "no", "tie")
    )
    if divisions is not None and len(divisions):
        margin = known["margin"].to_numpy()
        has = pd.notna(margin)
        out.loc[has, "margin"] = margin[has].astype(np.int64)
        result = known["result"].to_numpy(dtype=object)
        has = np.array([isinstance(r, str) and r != "" for r in result], dtype=bool)
        out.loc[has, "result"] = result[has]
    out["voters"] = np.count_nonzero(matrix, axis=0).astype(np.int64)
    return out


# -------------------------------------------------------------------- agreement


def chance_agreement(matrix: VoteMatrix) -> np.ndarray:
    """Per division, the probability that two distinct voters took the same side.

    ``(a(a-1) + n(n-1)) / (v(v-1))`` for ``a`` ayes and ``n`` noes among ``v = a + n``
    voters (tellers included); 1.0 for a division with fewer than two voters.

    Examples
    --------
    >>> import numpy as np
    >>> m = VoteMatrix(["a", "b", "c", "d"], ["x"], np.array([[1], [1], [-1], [-1]], np.int8),
    ...     np.ones((4, 1), bool), np.zeros((4, 1), np.int16), [""], pd.DataFrame(),
    ...     pd.DataFrame())
    >>> chance_agreement(m).round(4).tolist()
    [0.3333]
    """
    ayes = np.count_nonzero(matrix.votes == 1, axis=0).astype(np.float64)
    noes = np.count_nonzero(matrix.votes == -1, axis=0).astype(np.float64)
    voters = ayes + noes
    with np.errstate(invalid="ignore", divide="ignore"):
        e = (ayes * (ayes - 1) + noes * (noes - 1)) / (voters * (voters - 1))
    return np.where(voters >= 2, e, 1.0)


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) of ``p`` (NaN stays NaN).

    Examples
    --------
    >>> bh_qvalues(np.array([0.01, 0.04, 0.03, 0.5])).round(3).tolist()
    [0.04, 0.053, 0.053, 0.5]
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    values = p[ok]
    k = values.size
    if k == 0:
        return out
    order = np.argsort(values, kind="stable")
    ranked = values[order] * k / np.arange(1, k + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    adjusted = np.empty(k)
    adjusted[order] = np.minimum(q, 1.0)
    out[ok] = adjusted
    return out


def _tails(
    observed: np.ndarray, mean: np.ndarray, var: np.ndarray, third: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(z, P(X >= observed), P(X <= observed))`` of a Poisson-binomial count, by the
    refined normal approximation (continuity- and skewness-corrected)."""
    from scipy.special import ndtr

    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(var)
        gamma = third / (sd**3)
        z = (observed - mean) / sd
        up = (observed - 0.5 - mean) / sd
        lo = (observed + 0.5 - mean) / sd
        density_up = np.exp(-0.5 * up * up) / math.sqrt(2 * math.pi)
        density_lo = np.exp(-0.5 * lo * lo) / math.sqrt(2 * math.pi)
        above = ndtr(-up) + gamma * (up * up - 1) * density_up / 6
        below = ndtr(lo) + gamma * (1 - lo * lo) * density_lo / 6
    return z, np.clip(above, 0.0, 1.0), np.clip(below, 0.0, 1.0)


@dataclass(frozen=True)
class Agreement:
    """Agreement of every pair of members (symmetric members x members matrices).

    Attributes
    ----------
    nodes : list of str
        Row and column order (that of the :class:`VoteMatrix`).
    shared : numpy.ndarray
        Divisions both voted in (aye or no).
    agreed : numpy.ndarray
        Of those, divisions in which they took the same side.
    expected : numpy.ndarray
        Agreements expected by chance (the sum of the divisions' chance agreement).
    variance, third : numpy.ndarray
        Variance and third central moment of the agreements under chance.
    kappa : numpy.ndarray
        ``(agreed - expected) / (shared - expected)``: 1 for agreement in every shared
        division, 0 for chance, negative below chance; NaN when not scored.
    z : numpy.ndarray
        ``(agreed - expected) / sqrt(variance)``.
    p_above, p_below : numpy.ndarray
        One-sided p-values of agreement above (below) chance; NaN when not scored.
    q_above, q_below : numpy.ndarray
        Benjamini-Hochberg q-values over every scored pair.
    scored : numpy.ndarray
        ``bool``: the pair shares at least ``min_shared`` divisions, not all of them
        unanimous.
    min_shared : int
    alpha : float
        False discovery rate of the ties.
    """

    nodes: list[str]
    shared: np.ndarray
    agreed: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    third: np.ndarray
    kappa: np.ndarray
    z: np.ndarray
    p_above: np.ndarray
    p_below: np.ndarray
    q_above: np.ndarray
    q_below: np.ndarray
    scored: np.ndarray
    min_shared: int
    alpha: float

    @property
    def ties(self) -> np.ndarray:
        """``bool`` matrix: agreement significantly above chance (q below ``alpha``)."""
        with np.errstate(invalid="ignore"):
            return self.scored & (self.q_above < self.alpha)

    @property
    def apart(self) -> np.ndarray:
        """``bool`` matrix: agreement significantly below chance."""
        with np.errstate(invalid="ignore"):
            return self.scored & (self.q_below < self.alpha)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Row and column indices ``i < j`` of the scored pairs."""
        i, j = np.nonzero(np.triu(self.scored, k=1))
        return i, j

    def frame(self, members: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per scored pair (columns :data:`AGREEMENT_COLUMNS`), strongest first.

        ``members`` (the :class:`VoteMatrix`'s) gives the names and parties.
        """
        i, j = self.pairs()
        nodes = np.asarray(self.nodes, dtype=object)
        if members is not None and len(members):
            names = members["name"].to_numpy(dtype=object)
            parties = members["party"].to_numpy(dtype=object)
        else:
            names = nodes
            parties = np.full(len(nodes), "", dtype=object)
        shared = self.shared[i, j]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = pd.DataFrame(
                {
                    "member_a": nodes[i],
                    "member_b": nodes[j],
                    "name_a": names[i],
                    "name_b": names[j],
                    "party_a": parties[i],
                    "party_b": parties[j],
                    "shared": shared.astype(np.int64),
                    "agreed": self.agreed[i, j].astype(np.int64),
                    "agreement": np.round(self.agreed[i, j] / shared, 4),
                    "expected": np.round(self.expected[i, j] / shared, 4),
                    "kappa": np.round(self.kappa[i, j], 4),
                    "z": np.round(self.z[i, j], 2),
                    "p_above": self.p_above[i, j],
                    "q_above": self.q_above[i, j],
                    "p_below": self.p_below[i, j],
                    "q_below": self.q_below[i, j],
                    "tie": self.ties[i, j],
                }
            )
        if out.empty:
            return _empty(AGREEMENT_COLUMNS)
        order = np.lexsort((out["member_b"].to_numpy(), out["member_a"].to_numpy(), -out["kappa"]))
        return out.iloc[order].reset_index(drop=True)


def pair_agreement(
    matrix: VoteMatrix,
    *,
    min_shared: int = MIN_SHARED_DIVISIONS,
    alpha: float = TIE_ALPHA,
) -> Agreement:
    """Chance-corrected agreement and its significance for every pair of members.

    Parameters
    ----------
    matrix : VoteMatrix
    min_shared : int
        Pairs with fewer shared divisions (both voting aye or no) get no score.
    alpha : float
        False discovery rate of the ties (:attr:`Agreement.ties`).

    Returns
    -------
    Agreement

    Notes
    -----
    Over the ``s`` divisions both members voted in, the number of agreements is, by
    chance, a sum of independent indicators with probabilities ``e_d`` (the divisions'
    chance agreement, :func:`chance_agreement`): a Poisson-binomial count with mean
    ``E = sum e_d``. ``kappa = (A - E) / (s - E)`` for ``A`` agreements. Its one-sided
    p-values come from the refined normal approximation (mean, variance and skewness,
    with a continuity correction; Volkova 1996, Hong 2013), accurate in the tails for
    the ten or more divisions a pair needs; they are adjusted over every scored pair
    by Benjamini-Hochberg (the false discovery rate holds under the positive
    dependence pairs sharing a member have). Everything is five products of the
    members x divisions matrix: ``O(members^2 x divisions)`` time, ``O(members^2)``
    memory (a few seconds and about 40 MB for 650 members and 1,000 divisions).
    """
    if not isinstance(min_shared, int) or isinstance(min_shared, bool) or min_shared < 1:
        raise AnalysisError(f"min_shared must be an integer >= 1, not {min_shared!r}")
    if not 0.0 < alpha <= 1.0:
        raise AnalysisError(f"alpha must be in (0, 1], not {alpha!r}")
    votes = matrix.votes.astype(np.float64)
    voted = (matrix.votes != 0).astype(np.float64)
    e = chance_agreement(matrix)
    shared = voted @ voted.T
    agreed = 0.5 * (shared + votes @ votes.T)
    expected = (voted * e) @ voted.T
    variance = (voted * (e * (1 - e))) @ voted.T
    third = (voted * (e * (1 - e) * (1 - 2 * e))) @ voted.T
    m = len(matrix.nodes)
    scored = (shared >= min_shared) & (variance > 1e-9)
    np.fill_diagonal(scored, False)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(scored, (agreed - expected) / (shared - expected), np.nan)
    z, above, below = _tails(agreed, expected, variance, third)
    z = np.where(scored, z, np.nan)
    above = np.where(scored, above, np.nan)
    below = np.where(scored, below, np.nan)
    iu, ju = np.triu_indices(m, k=1)
    q_above = np.full((m, m), np.nan)
    q_below = np.full((m, m), np.nan)
    if iu.size:
        for p, q in ((above, q_above), (below, q_below)):
            adjusted = bh_qvalues(p[iu, ju])
            q[iu, ju] = adjusted
            q[ju, iu] = adjusted
    return Agreement(
        nodes=list(matrix.nodes),
        shared=shared,
        agreed=agreed,
        expected=expected,
        variance=variance,
        third=third,
        kappa=kappa,
        z=z,
        p_above=above,
        p_below=below,
        q_above=q_above,
        q_below=q_below,
        scored=scored,
        min_shared=min_shared,
        alpha=alpha,
    )


# ------------------------------------------------------------------------- graph


def covoting_graph(matrix: VoteMatrix, agreement: Agreement) -> nx.Graph:
    """The co-voting graph: every member, tied where agreement is above chance.

    Parameters
    ----------
    matrix : VoteMatrix
    agreement : Agreement
        From :func:`pair_agreement` on ``matrix``.

    Returns
    -------
    networkx.Graph
        Nodes are the matrix's nodes (roster actor ids where members resolve, else
        member keys) with ``label``, ``name``, ``kind`` (``mp``), ``party``,
        ``constituency``, ``member``, ``actor`` (``""`` when unresolved),
        ``divisions`` (voted in) and ``ties``. An edge joins two members whose
        agreement is significantly above chance (:attr:`Agreement.ties`), with
        ``weight`` = ``kappa``, ``agreement`` (share of shared divisions), ``expected``
        (share by chance), ``shared``, ``agreed``, ``z`` and ``q``. Members without a
        significant tie are kept as isolated nodes.
    """
    G = nx.Graph(name="co-voting")
    ties = agreement.ties
    degree = np.count_nonzero(ties, axis=1)
    for row, member in enumerate(matrix.members.itertuples(index=False)):
        G.add_node(
            member.node,
            label=member.name,
            name=member.name,
            kind="mp",
            party=member.party,
            constituency=member.constituency,
            member=member.member,
            actor=member.actor or "",
            divisions=int(member.divisions),
            ties=int(degree[row]),
        )
    i, j = np.nonzero(np.triu(ties, k=1))
    nodes = matrix.nodes
    shared = agreement.shared[i, j]
    kappa = np.round(agreement.kappa[i, j], 6).tolist()
    columns = zip(
        i.tolist(),
        j.tolist(),
        kappa,
        np.round(agreement.agreed[i, j] / shared, 6).tolist(),
        np.round(agreement.expected[i, j] / shared, 6).tolist(),
        shared.astype(np.int64).tolist(),
        agreement.agreed[i, j].astype(np.int64).tolist(),
        np.round(agreement.z[i, j], 3).tolist(),
        agreement.q_above[i, j].tolist(),
        strict=True,
    )
    G.add_edges_from(
        (
            nodes[a],
            nodes[b],
            {
                "weight": k,
                "kappa": k,
                "agreement": share,
                "expected": chance,
                "shared": n,
                "agreed": agreed,
                "z": z,
                "q": q,
            },
        )
        for a, b, k, share, chance, n, agreed, z, q in columns
    )
    return G


# -------------------------------------------------------------------------- blocs


@dataclass(frozen=True)
class Blocs:
    """Voting blocs: factions of the co-voting graph, named by their party make-up.

    Attributes
    ----------
    result : FactionResult or None
        :func:`~mapper.analysis.factions.detect_factions` on the co-voting graph;
        ``None`` when the graph has no tie.
    partition : dict
        Node -> bloc id (``0..k-1`` by size); members without a bloc are absent.
    names : dict
        Bloc id -> name (``"Red 30 + Green 8"``).
    makeup : dict
        Bloc id -> ``[(party, members), ...]``, largest first.
    cross_party : dict
        Bloc id -> whether two or more parties (independents apart) each have at
        least :data:`MIN_BLOC_PARTY` members in it.
    warnings : tuple of EvidenceWarning
    basis : str
        What supports the blocs: ``"modularity"`` (the faction machinery's test
        against degree-preserving random graphs), ``"components"`` (every bloc is a
        whole piece of the co-voting backbone, too dense for random graphs with the
        same degrees to differ from it: the pairwise tests carry the blocs) or ``""``
        (no bloc).
    rewirable : float or None
        Share of the ties one degree-preserving rewiring moves (how much room the
        modularity test's random graphs have).
    """

    result: Any
    partition: dict[str, int]
    names: dict[int, str]
    makeup: dict[int, list[tuple[str, int]]]
    cross_party: dict[int, bool]
    warnings: tuple[EvidenceWarning, ...] = ()
    basis: str = ""
    rewirable: float | None = None

    @property
    def significant(self) -> bool | None:
        """Whether the blocs are supported: by the modularity test, or (``basis``
        ``"components"``) as separate pieces of the backbone; ``None``: not tested."""
        if self.result is None:
            return None
        if self.basis == "components":
            return True
        return self.result.significant  # None when the test could not be run

    @property
    def count(self) -> int:
        """Number of blocs."""
        return len(self.names)

    def members(self, bloc: int) -> list[str]:
        """The members of ``bloc`` (node ids, sorted)."""
        return sorted(n for n, b in self.partition.items() if b == bloc)


def _makeup_name(makeup: list[tuple[str, int]], size: int, min_party: int) -> str:
    named = [(p, c) for p, c in makeup if c >= min_party][:4]
    if not named:
        named = makeup[:1]
    text = " + ".join(f"{p or '(no party)'} {c:,}" for p, c in named)
    rest = size - sum(c for _, c in named)
    if rest:
        text += f" + {rest:,} other{'s' if rest != 1 else ''}"
    return text


def voting_blocs(
    G: nx.Graph,
    *,
    seed: int = 0,
    runs: int = 10,
    factions: int | None = None,
    min_component: int = MIN_COMPONENT_SIZE,
    significance_samples: int = SIGNIFICANCE_SAMPLES,
    min_party: int = MIN_BLOC_PARTY,
) -> Blocs:
    """Find voting blocs in the co-voting graph.

    Parameters
    ----------
    G : networkx.Graph
        From :func:`covoting_graph` (node attribute ``party``).
    seed, runs, factions, min_component, significance_samples
        Passed to :func:`mapper.analysis.factions.detect_factions` (``factions``
        asks for a number of blocs).
    min_party : int
        Members a party needs in a bloc to count in its name and its cross-party
        status.

    Returns
    -------
    Blocs
        The detection's warnings are re-issued for the ``votes`` stage, prefixed
        ``voting blocs:``.
    """
    if G.number_of_edges() == 0:
        return Blocs(None, {}, {}, {}, {})
    from mapper.analysis.factions import detect_factions

    # Dense, separate blocs leave degree-preserving random graphs no room: they would
    # be the data itself. Measure the room first; without it the test cannot judge.
    moved = _rewirable_share(G, seed) if significance_samples > 0 else None
    testable = moved is None or moved >= MIN_REWIRABLE
    result = detect_factions(
        G,
        seed=seed,
        runs=runs,
        factions=factions,
        min_component=min_component,
        significance_samples=significance_samples if testable else 0,
    )
    partition = {str(node): bloc for node, bloc in result.partition.items()}
    # a community of fewer than min_component members inside a larger piece (a pair
    # tied by a chance agreement or two) is too small to be called a bloc
    sizes = Counter(partition.values())
    small = {b for b, n in sizes.items() if n < min_component}
    dropped = sum(sizes[b] for b in small)
    if small:
        partition = {n: b for n, b in partition.items() if b not in small}
        keep = sorted(set(partition.values()))  # sizes descending already
        renumber = {b: k for k, b in enumerate(keep)}
        partition = {n: renumber[b] for n, b in partition.items()}
    by_bloc: dict[int, Counter[str]] = {}
    for node, bloc in partition.items():
        by_bloc.setdefault(bloc, Counter())[str(G.nodes[node].get("party") or "")] += 1
    names: dict[int, str] = {}
    makeup: dict[int, list[tuple[str, int]]] = {}
    cross: dict[int, bool] = {}
    for bloc in sorted(by_bloc):
        counts = by_bloc[bloc]
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        makeup[bloc] = ranked
        size = sum(counts.values())
        names[bloc] = _makeup_name(ranked, size, min_party)
        cross[bloc] = sum(1 for p, c in ranked if c >= min_party and p and _whipped(p)) >= 2
    seen: Counter[str] = Counter(names.values())
    for bloc in sorted(names):
        if seen[names[bloc]] > 1:
            names[bloc] = f"{names[bloc]} (bloc {bloc + 1})"
    basis = "modularity"
    skipped = not testable and bool(partition)
    if skipped and _blocs_are_components(G.subgraph(partition), partition):
        basis = "components"
    warned = [
        _warn(w.code, f"voting blocs: {w.message}")
        for w in result.warnings
        if not (skipped and w.code == "significance-not-tested")
    ]
    if basis == "components":
        warned.append(
            _warn(
                "blocs-are-components",
                f"the {_plural(len(names), 'bloc')} are the separate pieces of the co-voting "
                "backbone (no pair across them agrees significantly above chance) and so "
                f"dense that random graphs with the same degrees move {moved:.0%} of their "
                "ties: the modularity test cannot judge them, and what carries them is the "
                "pairwise tests (every tie above chance at the false discovery rate)",
            )
        )
    if small:
        warned.append(
            _warn(
                "blocs-too-small",
                f"{_plural(len(small), 'group')} of fewer than {min_component} members found "
                f"inside larger pieces of the co-voting backbone are not called blocs; their "
                f"{_plural(dropped, 'member')} are left without a bloc",
            )
        )
    if basis != "components" and skipped:
        warned.append(
            _warn(
                "significance-not-tested",
                f"voting blocs: random graphs with the same degrees move only {moved:.0%} "
                "of the co-voting ties, too little for the modularity test to judge the "
                "blocs, and the blocs split connected pieces of the backbone: they are not "
                "tested",
            )
        )
    return Blocs(result, partition, names, makeup, cross, tuple(warned), basis, moved)


def _rewirable_share(G: nx.Graph, seed: int) -> float:
    """Share of the ties of ``G`` that one degree-preserving rewiring (within connected
    components, as in the faction machinery's test) moves."""
    from mapper.analysis.strength import component_labels, rewired

    nodes = sorted(G.nodes, key=str)
    index = {n: i for i, n in enumerate(nodes)}
    pairs = sorted((min(index[u], index[v]), max(index[u], index[v])) for u, v in G.edges)
    if not pairs:
        return 0.0
    lo = np.array([a for a, _ in pairs], dtype=np.int64)
    hi = np.array([b for _, b in pairs], dtype=np.int64)
    groups = component_labels(len(nodes), lo, hi)
    new_lo, new_hi, _ = rewired(len(nodes), lo, hi, np.ones(lo.size), seed=seed, groups=groups)
    kept = set(zip(lo.tolist(), hi.tolist(), strict=True)) & set(
        zip(new_lo.tolist(), new_hi.tolist(), strict=True)
    )
    return 1.0 - len(kept) / len(pairs)


def _blocs_are_components(G: nx.Graph, partition: Mapping[str, int]) -> bool:
    """Whether every bloc is a whole connected component of ``G``."""
    for component in nx.connected_components(G):
        blocs = {partition.get(n) for n in component}
        if len(blocs) != 1:
            return False
    by_bloc: Counter[int] = Counter(partition.values())
    pieces = Counter(
        partition[next(iter(c))] for c in nx.connected_components(G) if next(iter(c)) in partition
    )
    return all(pieces[b] == 1 for b in by_bloc)


def bloc_defectors(
    G: nx.Graph,
    blocs: Blocs,
    matrix: VoteMatrix,
    agreement: Agreement,
    *,
    min_party: int = MIN_BLOC_PARTY,
) -> tuple[pd.DataFrame, list[EvidenceWarning]]:
    """Members whose bloc is not the bloc most of their party sits in.

    A party's bloc is the bloc holding most of its members that have a bloc (ties:
    the larger bloc). Parties with fewer than ``min_party`` members in blocs, and
    labels without a whip (independents, the Speaker), have none. When a party's
    bloc holds less than half of them the party is split across blocs: nobody is a
    defector from it, and a ``party-split-across-blocs`` warning says so. Nothing is
    reported when the blocs are not significant.

    Returns
    -------
    (pandas.DataFrame, list of EvidenceWarning)
        Columns :data:`DEFECTOR_COLUMNS`: the member's bloc and their party's, the
        share of the party in its bloc, the member's mean chance-corrected agreement
        (``kappa``) with their bloc's other members and with their party's bloc
        members, their significant ties to each, their stability, ``evidence``
        (``strong``, or ``thin`` when the member moves between detection runs) and a
        sentence.
    """
    warned: list[EvidenceWarning] = []
    if not blocs.partition or blocs.significant is False:
        return _empty(DEFECTOR_COLUMNS), warned
    index = matrix.index()
    party_of = {n: str(G.nodes[n].get("party") or "") for n in blocs.partition}
    by_party: dict[str, list[str]] = {}
    for node in sorted(blocs.partition):
        by_party.setdefault(party_of[node], []).append(node)
    stability = blocs.result.stability if blocs.result is not None else {}
    ties = agreement.ties
    rows: list[dict[str, Any]] = []
    split: list[str] = []
    for party, members in sorted(by_party.items()):
        if not party or not _whipped(party) or len(members) < min_party:
            continue
        counts = Counter(blocs.partition[n] for n in members)
        main, held = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        share = held / len(members)
        if share < 0.5:
            split.append(f"{party} ({share:.0%} in its largest bloc)")
            continue
        party_rows = [index[n] for n in members if blocs.partition[n] == main]
        for node in members:
            bloc = blocs.partition[node]
            if bloc == main:
                continue
            i = index[node]
            bloc_rows = [index[n] for n in blocs.members(bloc) if n != node]
            k_bloc = _mean(agreement.kappa[i, bloc_rows])
            k_party = _mean(agreement.kappa[i, party_rows])
            t_bloc = int(np.count_nonzero(ties[i, bloc_rows]))
            t_party = int(np.count_nonzero(ties[i, party_rows]))
            stable = float(stability.get(node, 1.0))
            evidence = "strong" if stable >= UNSTABLE_MEMBER else "thin"
            name = str(G.nodes[node].get("name") or node)
            own = bool(blocs.makeup.get(bloc)) and blocs.makeup[bloc][0][0] == party
            reason = (
                f"{name} ({party}) sits in bloc '{blocs.names[bloc]}'"
                + (f" (mostly {party} itself: a split within the party)" if own else "")
                + f" while {held} of "
                f"{len(members)} {party} members sit in '{blocs.names[main]}': "
                f"chance-corrected agreement {_fmt(k_bloc)} with the other members of "
                f"their bloc and {_fmt(k_party)} with their party's bloc (significant "
                f"co-voting ties with {t_bloc} and {t_party} of them)"
            )
            if evidence == "thin":
                reason += (
                    f"; thin: the member stays with this bloc in only {stable:.0%} of "
                    "the detection runs"
                )
            rows.append(
                {
                    "member": node,
                    "name": name,
                    "party": party,
                    "bloc": bloc,
                    "bloc_name": blocs.names[bloc],
                    "party_bloc": main,
                    "party_bloc_name": blocs.names[main],
                    "party_share": round(share, 4),
                    "kappa_bloc": k_bloc,
                    "kappa_party": k_party,
                    "ties_bloc": t_bloc,
                    "ties_party": t_party,
                    "stability": round(stable, 4),
                    "evidence": evidence,
                    "reason": reason,
                }
            )
    if split:
        warned.append(
            _warn(
                "party-split-across-blocs",
                f"{_plural(len(split), 'party', 'parties')} split across voting blocs with no "
                "bloc holding half of their members, so no member is called a defector "
                "from them: " + ", ".join(split[:6]) + (" ..." if len(split) > 6 else ""),
            )
        )
    rows.sort(key=lambda r: (r["evidence"] != "strong", -(r["kappa_bloc"] or 0.0), r["name"]))
    return _frame(rows, DEFECTOR_COLUMNS), warned


def _mean(values: np.ndarray) -> float | None:
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    return round(float(values.mean()), 4) if values.size else None


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


# ----------------------------------------------------------------------- cohesion


def _chance_rice(max_voters: int) -> np.ndarray:
    """Expected Rice index of ``k`` members voting by coin flips, for ``k = 0..max``."""
    from scipy.special import gammaln

    out = np.zeros(max_voters + 1)
    for k in range(1, max_voters + 1):
        ayes = np.arange(k + 1)
        log_pmf = gammaln(k + 1) - gammaln(ayes + 1) - gammaln(k - ayes + 1) - k * math.log(2)
        out[k] = float((np.exp(log_pmf) * np.abs(2 * ayes - k)).sum() / k)
    return out


def party_cohesion(
    matrix: VoteMatrix,
    blocs: Blocs | None = None,
    *,
    min_voting: int = MIN_PARTY_VOTING,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Rice index of every party (and bloc) in every division, and its average.

    Rice = ``|ayes - noes| / (ayes + noes)`` among the group's members voting in the
    division (tellers included): 1 when all voted one way, 0 for an even split.
    Groups with fewer than ``min_voting`` voting members in a division get no value
    there. A party is the label of the day (``Party (Sub)`` counted with ``Party``);
    labels without a whip (independents, the Speaker) are not parties. A bloc is its
    members, whatever their label.

    Returns
    -------
    (summary, per_division) : pandas.DataFrame
        ``summary`` (columns :data:`COHESION_COLUMNS`): per group the mean and lowest
        Rice over the divisions it has one, ``chance_rice`` (the mean Rice the same
        numbers of members would reach voting by coin flips: small groups look
        cohesive by chance, Desposato 2005), and for parties the number of blocs
        their members sit in and the share in the main one. ``per_division``
        (columns :data:`COHESION_DIVISION_COLUMNS`).
    """
    m = len(matrix.nodes)
    votes = matrix.votes
    groups: list[tuple[str, str, np.ndarray]] = []  # (type, name, mask m x d)
    for k, party in enumerate(matrix.parties):
        if party and _whipped(party):
            groups.append(("party", party, matrix.party == k))
    if blocs is not None and blocs.partition:
        index = matrix.index()
        for bloc in sorted(blocs.names):
            mask = np.zeros((m, 1), dtype=bool)
            mask[[index[n] for n in blocs.members(bloc)]] = True
            groups.append(("bloc", blocs.names[bloc], mask & matrix.listed))
    max_voting = max(1, int(np.count_nonzero(votes, axis=0).max(initial=1)))
    chance = _chance_rice(max_voting)
    info = matrix.division_info
    numbers = info["number"].tolist() if len(info) else [""] * len(matrix.divisions)
    dates = info["date"].tolist() if len(info) else [None] * len(matrix.divisions)
    rows: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    node_party = matrix.members["party"].to_numpy(dtype=object) if m else np.zeros(0, object)
    for kind, name, mask in groups:
        ayes = np.count_nonzero(mask & (votes == 1), axis=0)
        noes = np.count_nonzero(mask & (votes == -1), axis=0)
        listed = np.count_nonzero(mask, axis=0)
        voting = ayes + noes
        with np.errstate(invalid="ignore", divide="ignore"):
            rice = np.where(voting >= min_voting, np.abs(ayes - noes) / voting, np.nan)
        rounded = np.round(rice, 4).tolist()
        for j in np.flatnonzero(listed).tolist():
            rows.append(
                {
                    "group_type": kind,
                    "group": name,
                    "division": matrix.divisions[j],
                    "number": numbers[j],
                    "date": dates[j],
                    "ayes": int(ayes[j]),
                    "noes": int(noes[j]),
                    "no_vote": int(listed[j] - voting[j]),
                    "rice": None if math.isnan(rounded[j]) else rounded[j],
                }
            )
        has = ~np.isnan(rice)
        entry: dict[str, Any] = {
            "group_type": kind,
            "group": name,
            "members": int(np.count_nonzero(mask.any(axis=1))),
            "divisions": int(has.sum()),
            "rice": round(float(rice[has].mean()), 4) if has.any() else None,
            "rice_min": round(float(rice[has].min()), 4) if has.any() else None,
            "chance_rice": round(float(chance[voting[has]].mean()), 4) if has.any() else None,
            "blocs": None,
            "main_bloc": None,
            "main_bloc_share": None,
        }
        if kind == "party" and blocs is not None and blocs.partition:
            nodes = [n for n, p in zip(matrix.nodes, node_party, strict=True) if p == name]
            placed = Counter(blocs.partition[n] for n in nodes if n in blocs.partition)
            if placed:
                main, held = sorted(placed.items(), key=lambda kv: (-kv[1], kv[0]))[0]
                entry["blocs"] = len(placed)
                entry["main_bloc"] = blocs.names[main]
                entry["main_bloc_share"] = round(held / sum(placed.values()), 4)
        summary.append(entry)
    summary.sort(key=lambda r: (r["group_type"] != "party", -r["members"], r["group"]))
    return _frame(summary, COHESION_COLUMNS), _frame(rows, COHESION_DIVISION_COLUMNS)


# -------------------------------------------------------------------- persuadable


def close_divisions(
    matrix: VoteMatrix,
    *,
    close_votes: int = CLOSE_MARGIN_VOTES,
    close_share: float = CLOSE_MARGIN_SHARE,
) -> np.ndarray:
    """Indices of the divisions whose margin is at most ``close_votes`` votes and at
    most ``close_share`` of the votes cast (ties excluded: no side won)."""
    info = matrix.division_info
    if info.empty:
        return np.zeros(0, dtype=np.int64)
    cast = (info["ayes"] + info["noes"]).to_numpy(dtype=np.float64)
    margin = info["margin"].to_numpy(dtype=np.float64)
    won = info["result"].isin(["aye", "no"]).to_numpy()
    close = won & (margin <= close_votes) & (margin <= close_share * cast)
    return np.flatnonzero(close)


def _division_label(info: pd.DataFrame, j: int, uid: str) -> str:
    """``division 392 (Motion M)`` for messages: the number, else the uid, and the
    title cut to 80 characters."""
    number = info["number"].iat[j] if "number" in info else None
    title = str(info["title"].iat[j] or "") if "title" in info else ""
    title = title if len(title) <= 80 else title[:79] + "…"
    return f"division {number or uid}" + (f" ({title})" if title else "")


def persuadable_members(
    matrix: VoteMatrix,
    agreement: Agreement,
    *,
    close_votes: int = CLOSE_MARGIN_VOTES,
    close_share: float = CLOSE_MARGIN_SHARE,
    side: str = "winning",
    divisions: Sequence[str] | None = None,
    coverage: float = PERSUADABLE_COVERAGE,
) -> tuple[pd.DataFrame, pd.DataFrame, list[EvidenceWarning]]:
    """In close divisions, who could have joined the winning (or losing) side.

    For each close division (see :func:`close_divisions`; or the ``divisions`` given),
    the candidates are the members it lists who did not vote with the side (they
    voted the other way, or did not vote). Each candidate's *closeness* is the mean
    chance-corrected agreement (``kappa``) with the side's members over the *other*
    divisions they share (this division taken out of every pair's counts), pairs
    sharing fewer than ``min_shared`` of them left out. A candidate is ranked when
    at least ``coverage`` of the side's members could be compared with them, the
    closeness is above chance (positive) and at least one significant co-voting tie
    joins them to the side; candidates failing the coverage are counted as too thin.

    Parameters
    ----------
    side : {"winning", "losing"}
        Whose persuadable members: those close to the winners who did not vote with
        them (default), or those close to the losers who did not vote with them (who
        could have turned the result).

    Returns
    -------
    (close, persuadable, warnings)
        ``close``: one row per close division (:data:`CLOSE_COLUMNS`), with the
        switches that would have turned it (``margin // 2 + 1``), the candidates, the
        ranked and the thin. ``persuadable``: one row per ranked candidate
        (:data:`PERSUADABLE_COLUMNS`), best first within each division, with the
        closeness to the side (``closeness``), to the members who voted the other way
        (``closeness_other``), ``leaning`` (their difference), the median shared
        divisions, the side's size, the significant ties to it and a sentence.
    """
    if side not in ("winning", "losing"):
        raise AnalysisError(f"side must be 'winning' or 'losing', not {side!r}", field="side")
    warned: list[EvidenceWarning] = []
    info = matrix.division_info
    if divisions is not None:
        wanted = set(divisions)
        chosen = [j for j, uid in enumerate(matrix.divisions) if uid in wanted]
        chosen = [j for j in chosen if info["result"].iat[j] in ("aye", "no")]
    else:
        chosen = close_divisions(matrix, close_votes=close_votes, close_share=close_share).tolist()
        tied = [
            j
            for j in range(len(matrix.divisions))
            if info["result"].iat[j] == "tie" and int(info["ayes"].iat[j]) > 0
        ]
        if tied:
            first = tied[0]
            warned.append(
                _warn(
                    "tied-divisions-left-out",
                    f"{len(tied):,} division(s) ended in a tie (the first: "
                    f"{_division_label(info, first, matrix.divisions[first])}, "
                    f"{int(info['ayes'].iat[first])} to {int(info['noes'].iat[first])}): "
                    "no side won, so no persuadable members are looked for in them, "
                    "although one vote would have decided each (in the Commons the "
                    "Speaker's casting vote does)",
                )
            )
    if not chosen:
        if divisions is None and len(matrix.divisions):
            warned.append(
                _warn(
                    "no-close-divisions",
                    f"no division of {len(matrix.divisions):,} was won by {close_votes} votes "
                    f"or fewer and {close_share:.0%} of the votes cast or less: no "
                    "persuadable members to look for",
                )
            )
        return _empty(CLOSE_COLUMNS), _empty(PERSUADABLE_COLUMNS), warned
    e = chance_agreement(matrix)
    votes = matrix.votes
    names = matrix.members["name"].to_numpy(dtype=object)
    parties = matrix.members["party"].to_numpy(dtype=object)
    ties = agreement.ties
    close_rows: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    thin_total = 0
    for j in chosen:
        result = info["result"].iat[j]
        sign = 1 if result == "aye" else -1
        if side == "losing":
            sign = -sign
        target = np.flatnonzero(votes[:, j] == sign)
        other = np.flatnonzero(votes[:, j] == -sign)
        cand = np.flatnonzero(matrix.listed[:, j] & (votes[:, j] != sign))
        towards = "aye" if sign == 1 else "no"
        meta = {
            "division": matrix.divisions[j],
            "number": info["number"].iat[j],
            "date": info["date"].iat[j],
            "title": info["title"].iat[j],
        }
        if cand.size == 0 or target.size == 0:
            close_rows.append(_close_row(meta, info, j, 0, 0, 0))
            continue
        opposite = (votes[cand, j] == -sign).astype(np.float64)[:, None]
        closeness, cover, shared_median = _closeness(
            agreement, cand, target, e[j], opposite, removed_agree=0.0
        )
        closeness_other, _, _ = _closeness(
            agreement, cand, other, e[j], opposite, removed_agree=1.0
        )
        side_ties = np.count_nonzero(ties[np.ix_(cand, target)], axis=1)
        enough = cover >= coverage
        thin = int(np.count_nonzero(~enough))
        thin_total += thin
        keep = enough & (closeness > 0) & (side_ties >= 1)
        picked = cand[keep]
        order = np.lexsort((picked, -closeness[keep]))
        ranked = 0
        for rank, k in enumerate(order, start=1):
            i = picked[k]
            c = float(closeness[keep][k])
            other_c = closeness_other[keep][k]
            ranked += 1
            voted = "no_vote" if votes[i, j] == 0 else ("no" if votes[i, j] == -1 else "aye")
            rows.append(
                {
                    **meta,
                    "result": result,
                    "margin": int(info["margin"].iat[j]),
                    "rank": rank,
                    "member": matrix.nodes[i],
                    "name": names[i],
                    "party": parties[i],
                    "voted": voted,
                    "closeness": round(c, 4),
                    "closeness_other": None if np.isnan(other_c) else round(float(other_c), 4),
                    "leaning": None if np.isnan(other_c) else round(c - float(other_c), 4),
                    "shared": int(shared_median[keep][k]),
                    "side_members": int(target.size),
                    "ties_to_side": int(side_ties[keep][k]),
                    "reason": _persuadable_reason(
                        names[i],
                        parties[i],
                        voted,
                        meta,
                        result,
                        int(info["margin"].iat[j]),
                        towards,
                        side,
                        c,
                        other_c,
                        int(target.size),
                        int(other.size),
                        int(side_ties[keep][k]),
                        int(shared_median[keep][k]),
                    ),
                }
            )
        close_rows.append(_close_row(meta, info, j, int(cand.size), ranked, thin))
    if thin_total:
        warned.append(
            _warn(
                "persuadable-too-thin",
                f"{_plural(thin_total, 'candidate')} in {_plural(len(chosen), 'close division')} "
                f"could not be compared with at least {coverage:.0%} of the side's members over "
                f"{agreement.min_shared} or more other divisions: they are not ranked",
            )
        )
    return _frame(close_rows, CLOSE_COLUMNS), _frame(rows, PERSUADABLE_COLUMNS), warned


def _close_row(
    meta: Mapping[str, Any], info: pd.DataFrame, j: int, candidates: int, ranked: int, thin: int
) -> dict[str, Any]:
    margin = int(info["margin"].iat[j])
    return {
        **meta,
        "ayes": int(info["ayes"].iat[j]),
        "noes": int(info["noes"].iat[j]),
        "margin": margin,
        "result": info["result"].iat[j],
        "switches_to_flip": margin // 2 + 1,
        "candidates": candidates,
        "ranked": ranked,
        "thin": thin,
    }


def _closeness(
    agreement: Agreement,
    rows: np.ndarray,
    cols: np.ndarray,
    e: float,
    opposite: np.ndarray,
    *,
    removed_agree: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean kappa of each row member with the column members, division ``j`` taken out.

    Every column member voted in the division; a row member who voted there too
    (``opposite`` = 1: against the side) shares it with them, agreeing
    ``removed_agree`` (0 with the side, 1 with the others)."""
    if cols.size == 0:
        nan = np.full(rows.size, np.nan)
        return nan, np.zeros(rows.size), np.zeros(rows.size)
    grid = np.ix_(rows, cols)
    shared = agreement.shared[grid] - opposite
    agreed = agreement.agreed[grid] - opposite * removed_agree
    expected = agreement.expected[grid] - opposite * e
    variance = agreement.variance[grid] - opposite * e * (1 - e)
    not_self = rows[:, None] != cols[None, :]
    valid = (shared >= agreement.min_shared) & (variance > 1e-9) & not_self
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(valid, (agreed - expected) / (shared - expected), np.nan)
        counted = valid.sum(axis=1)
        mean = np.where(counted > 0, np.nansum(kappa, axis=1) / np.maximum(counted, 1), np.nan)
    others = np.maximum(not_self.sum(axis=1), 1)
    cover = counted / others
    masked = np.where(valid, shared, np.nan)
    with warnings.catch_warnings():  # rows without a valid pair: "All-NaN slice"
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(masked, axis=1)
    median = np.where(np.isnan(median), 0, median)
    return mean, cover, median


def _persuadable_reason(
    name: str,
    party: str,
    voted: str,
    meta: Mapping[str, Any],
    result: str,
    margin: int,
    towards: str,
    side: str,
    closeness: float,
    closeness_other: float,
    side_size: int,
    other_size: int,
    side_ties: int,
    shared: int,
) -> str:
    did = "did not vote" if voted == "no_vote" else f"voted {voted}"
    number = meta.get("number") or meta.get("division")
    title = f" ({meta['title']})" if meta.get("title") else ""
    won = f"won by {result} by {margin}" if margin else f"won by {result}"
    who = "winning" if side == "winning" else "losing"
    text = (
        f"{name} ({party or 'no party'}) {did} in division {number}{title}, {won}; over "
        f"the other divisions they share (median {shared}), their chance-corrected "
        f"agreement with the {side_size:,} members of the {who} side ({towards}) is "
        f"{closeness:.2f}"
    )
    if not np.isnan(closeness_other):
        text += f", against {closeness_other:.2f} with the {other_size:,} who voted the other way"
    return text + f"; significant co-voting ties with {side_ties:,} of the {who} side"


# -------------------------------------------------------------------- talk vs vote


@dataclass(frozen=True)
class TalkVote:
    """Who votes together and who talks together, for the actors in both graphs.

    Attributes
    ----------
    pairs : pandas.DataFrame
        :data:`COMPARE_COLUMNS`: ``finding`` ``votes-not-talk`` (a significant
        co-voting tie across parties, both members active in the interaction graph, no
        tie between them) or ``talks-not-votes`` (a tie of at least :data:`MIN_TALK_WEIGHT`,
        agreement significantly below chance).
    groups : pandas.DataFrame
        :data:`GROUP_COLUMNS`: party pairs, ``finding`` ``votes-not-talk``,
        ``talks-not-votes``, ``none`` or ``thin``.
    common : int
        Co-voting members who are actors of the interaction graph.
    active : int
        Of those, members with at least :data:`MIN_SOCIAL_TIES` ties.
    warnings : tuple of EvidenceWarning
    """

    pairs: pd.DataFrame
    groups: pd.DataFrame
    common: int
    active: int
    warnings: tuple[EvidenceWarning, ...] = ()

    @property
    def findings(self) -> int:
        """Pairs and groups found (thin and empty groups apart)."""
        found = self.groups["finding"].isin(["votes-not-talk", "talks-not-votes"]).sum()
        return int(len(self.pairs) + found)


def _social(G: nx.Graph) -> tuple[dict[tuple[Hashable, Hashable], float], Counter[Hashable], int]:
    """Undirected tie weights (both directions summed), degrees, number of ties."""
    weights: dict[tuple[Hashable, Hashable], float] = {}
    for u, v, data in G.edges(data=True):
        if u == v:
            continue
        key = (u, v) if str(u) <= str(v) else (v, u)
        w = data.get("weight", 1.0)
        try:
            w = float(w)
        except (TypeError, ValueError):
            w = 1.0
        weights[key] = weights.get(key, 0.0) + (w if math.isfinite(w) and w > 0 else 0.0)
    degree: Counter[Hashable] = Counter()
    for u, v in weights:
        degree[u] += 1
        degree[v] += 1
    return weights, degree, len(weights)


def talk_vote(
    social: nx.Graph,
    matrix: VoteMatrix,
    agreement: Agreement,
    *,
    min_social: int = MIN_SOCIAL_TIES,
    min_talk: float = MIN_TALK_WEIGHT,
    min_expected: float = MIN_EXPECTED_TIES,
    min_pairs: int = MIN_GROUP_PAIRS,
    share: float = GROUP_SHARE,
) -> TalkVote:
    """Compare who votes together with who talks together.

    Parameters
    ----------
    social : networkx.Graph or DiGraph
        The interaction graph (actor ids as nodes, ``weight`` on ties).
    matrix, agreement
        The co-voting data; its nodes are actor ids where members resolved.
    min_social : int
        Ties a member needs in ``social`` for their silence towards another member
        to count.
    min_talk : float
        Weight of a tie (both directions summed) that counts as talking a lot.
    min_expected : float
        A party pair's "few ties" is judged only when chance gives it this many.
    min_pairs : int
        Scored member pairs a party pair needs to be judged.
    share : float
        Share of a party pair's scored pairs that must be co-voting ties (or
        significantly apart) for it to vote together (apart).

    Returns
    -------
    TalkVote

    Notes
    -----
    *Pairs.* "Votes together, no tie": a significant co-voting tie
    (:attr:`Agreement.ties`) between two members of different parties who each have
    ``min_social`` ties in the interaction graph, none between them (members of one
    party who vote together without talking are counted in the party's own pair of
    the groups below, not listed: they are no alliance to build). "Talks, votes
    apart": a tie of at
    least ``min_talk`` between two members whose agreement is significantly below
    chance (Benjamini-Hochberg, lower tail). A pair that talks a lot but shares too
    few divisions is counted as too thin, never called either way.

    *Groups.* For every pair of parties (and each party with itself) among the
    active members: the share of their scored member pairs that are co-voting ties
    (``vote_share``) or significantly apart (``apart_share``), and their ties in
    the interaction graph against the number expected from the members' degrees
    (``k_i k_j / 2M`` summed over the pairs, the configuration model; ``M`` ties in
    the whole interaction graph). Fewer (more) ties than expected is tested with a
    Poisson tail and Benjamini-Hochberg over the party pairs. A party pair that
    votes together and has significantly fewer ties than expected is
    ``votes-not-talk``; one that has significantly more and votes apart is
    ``talks-not-votes``; one whose expected ties are below ``min_expected`` or with
    fewer than ``min_pairs`` scored pairs is ``thin``.
    """
    weights, degree, ties_total = _social(social)
    index = matrix.index()
    common = [n for n in matrix.nodes if n in social]
    active = [n for n in common if degree.get(n, 0) >= min_social]
    warned: list[EvidenceWarning] = []
    if len(common) < 2:
        warned.append(
            _warn(
                "talk-vote-no-overlap",
                f"only {_plural(len(common), 'member')} of the {len(matrix.nodes):,} who "
                "voted is an actor of the interaction graph: who talks and who votes "
                "together cannot be compared (resolve members to the roster's actors)",
            )
        )
        empty = (_empty(COMPARE_COLUMNS), _empty(GROUP_COLUMNS))
        return TalkVote(*empty, len(common), 0, tuple(warned))
    names = matrix.members["name"].to_numpy(dtype=object)
    parties = matrix.members["party"].to_numpy(dtype=object)
    rows_idx = np.array([index[n] for n in common], dtype=np.int64)
    pos = {n: k for k, n in enumerate(common)}
    c = len(common)
    talk = np.zeros((c, c))
    for (u, v), w in weights.items():
        if u in pos and v in pos:
            talk[pos[u], pos[v]] = talk[pos[v], pos[u]] = w
    sub = np.ix_(rows_idx, rows_idx)
    scored = agreement.scored[sub]
    ties = agreement.ties[sub]
    apart = agreement.apart[sub]
    kappa = agreement.kappa[sub]
    deg = np.array([degree.get(n, 0) for n in common], dtype=np.float64)
    is_active = deg >= min_social
    upper = np.triu(np.ones((c, c), dtype=bool), k=1)
    pairs: list[dict[str, Any]] = []

    def pair_row(finding: str, a: int, b: int, q: float) -> dict[str, Any]:
        i, j = rows_idx[a], rows_idx[b]
        s = float(agreement.shared[i, j])
        agree = float(agreement.agreed[i, j]) / s if s else None
        expect = float(agreement.expected[i, j]) / s if s else None
        k = float(kappa[a, b])
        na, nb = str(names[i]), str(names[j])
        if finding == "votes-not-talk":
            reason = (
                f"{na} and {nb} voted the same way in {agree:.0%} of the {int(s)} divisions "
                f"they share ({expect:.0%} by chance, kappa {k:.2f}, q {q:.2g}), yet neither "
                f"has a tie to the other, though they have {int(deg[a])} and {int(deg[b])} "
                "ties in the interaction graph"
            )
        else:
            reason = (
                f"{na} and {nb} have a tie of weight {talk[a, b]:g} in the interaction "
                f"graph, yet voted the same way in only {agree:.0%} of the {int(s)} "
                f"divisions they share ({expect:.0%} by chance, kappa {k:.2f}, q {q:.2g})"
            )
        return {
            "finding": finding,
            "member_a": common[a],
            "member_b": common[b],
            "name_a": na,
            "name_b": nb,
            "party_a": parties[i],
            "party_b": parties[j],
            "cross_party": bool(parties[i] != parties[j]),
            "shared": int(s),
            "agreement": round(agree, 4) if agree is not None else None,
            "expected": round(expect, 4) if expect is not None else None,
            "kappa": round(k, 4),
            "q": q,
            "social_weight": float(talk[a, b]),
            "social_ties_a": int(deg[a]),
            "social_ties_b": int(deg[b]),
            "reason": reason,
        }

    both_active = is_active[:, None] & is_active[None, :]
    party_codes = pd.factorize(np.asarray([parties[i] for i in rows_idx], dtype=object))[0]
    cross = party_codes[:, None] != party_codes[None, :]
    # members of one party voting together without talking are no alliance to build:
    # the party pairs below cover them
    silent = upper & ties & both_active & (talk == 0) & cross
    for a, b in zip(*np.nonzero(silent), strict=True):
        q = float(agreement.q_above[rows_idx[a], rows_idx[b]])
        pairs.append(pair_row("votes-not-talk", int(a), int(b), q))
    loud = upper & (talk >= min_talk)
    apart_pairs = loud & apart
    for a, b in zip(*np.nonzero(apart_pairs), strict=True):
        q = float(agreement.q_below[rows_idx[a], rows_idx[b]])
        pairs.append(pair_row("talks-not-votes", int(a), int(b), q))
    thin_pairs = int(np.count_nonzero(loud & ~scored))
    thin_pairs += int(np.count_nonzero(upper & ties & (talk == 0) & cross & ~both_active))
    pairs.sort(
        key=lambda r: (
            r["finding"] != "votes-not-talk",
            not r["cross_party"],
            -(r["kappa"] if r["finding"] == "votes-not-talk" else r["social_weight"]),
            r["member_a"],
            r["member_b"],
        )
    )
    groups = _talk_vote_groups(
        common,
        [parties[i] for i in rows_idx],
        is_active,
        deg,
        ties_total,
        talk,
        scored,
        ties,
        apart,
        kappa,
        min_expected=min_expected,
        min_pairs=min_pairs,
        share=share,
        alpha=agreement.alpha,
    )
    thin_groups = int((groups["finding"] == "thin").sum()) if len(groups) else 0
    if thin_pairs or thin_groups:
        parts = []
        if thin_pairs:
            parts.append(
                f"{_plural(thin_pairs, 'pair')} (talking with fewer than "
                f"{agreement.min_shared} shared divisions, or voting together while one of "
                "them has too few ties in the interaction graph)"
            )
        if thin_groups:
            parts.append(
                f"{_plural(thin_groups, 'party pair')} (fewer than {min_expected:g} ties "
                f"expected by chance or {min_pairs} scored pairs)"
            )
        warned.append(
            _warn(
                "talk-vote-too-thin",
                " and ".join(parts) + " are too thin to compare talk and votes",
            )
        )
    return TalkVote(_frame(pairs, COMPARE_COLUMNS), groups, len(common), len(active), tuple(warned))


def _talk_vote_groups(
    common: Sequence[Hashable],
    parties: list[str],
    is_active: np.ndarray,
    deg: np.ndarray,
    ties_total: int,
    talk: np.ndarray,
    scored: np.ndarray,
    ties: np.ndarray,
    apart: np.ndarray,
    kappa: np.ndarray,
    *,
    min_expected: float,
    min_pairs: int,
    share: float,
    alpha: float,
) -> pd.DataFrame:
    from scipy.special import gammainc, gammaincc

    by_party: dict[str, list[int]] = {}
    for k, party in enumerate(parties):
        if is_active[k] and party:
            by_party.setdefault(party, []).append(k)
    names = sorted(by_party)
    prob = (
        np.minimum(1.0, np.outer(deg, deg) / (2.0 * ties_total))
        if ties_total
        else np.zeros_like(talk)
    )
    rows: list[dict[str, Any]] = []
    for x, pa in enumerate(names):
        for pb in names[x:]:
            a, b = by_party[pa], by_party[pb]
            block = np.ix_(a, b)
            mask = np.ones((len(a), len(b)), dtype=bool)
            if pa == pb:
                mask = np.triu(mask, k=1)
            n_pairs = int(mask.sum())
            if n_pairs == 0:
                continue
            sc = scored[block] & mask
            n_scored = int(sc.sum())
            vote_ties = int((ties[block] & mask).sum())
            n_apart = int((apart[block] & mask).sum())
            social_ties = int(((talk[block] > 0) & mask).sum())
            expected = float((prob[block] * mask).sum())
            k_values = kappa[block][sc]
            rows.append(
                {
                    "party_a": pa,
                    "party_b": pb,
                    "members_a": len(a),
                    "members_b": len(b),
                    "pairs": n_pairs,
                    "scored": n_scored,
                    "vote_ties": vote_ties,
                    "vote_share": round(vote_ties / n_scored, 4) if n_scored else None,
                    "apart_share": round(n_apart / n_scored, 4) if n_scored else None,
                    "kappa": round(float(np.mean(k_values)), 4) if k_values.size else None,
                    "social_ties": social_ties,
                    "expected_ties": round(expected, 3),
                    # Poisson tails: P(X <= k) = Q(k + 1, mean), P(X >= k) = P(k, mean)
                    "p_fewer": float(gammaincc(social_ties + 1, expected)) if expected > 0 else 1.0,
                    "p_more": (
                        float(gammainc(social_ties, expected))
                        if expected > 0 and social_ties > 0
                        else 1.0
                    ),
                }
            )
    if not rows:
        return _empty(GROUP_COLUMNS)
    q_fewer = bh_qvalues(np.array([r["p_fewer"] for r in rows]))
    q_more = bh_qvalues(np.array([r["p_more"] for r in rows]))
    for r, qf, qm in zip(rows, q_fewer.tolist(), q_more.tolist(), strict=True):
        r["q_fewer"], r["q_more"] = qf, qm
        together = r["vote_share"] is not None and r["vote_share"] >= share
        apart_ = r["apart_share"] is not None and r["apart_share"] >= share
        same = r["party_a"] == r["party_b"]
        pa, pb = r["party_a"], r["party_b"]
        whom = f"members of {pa}" if same else f"{pa} and {pb} members"
        if r["scored"] < min_pairs or r["expected_ties"] < min_expected:
            r["finding"] = "thin"
            r["reason"] = (
                f"too thin: {r['scored']} scored pairs of {whom}, {r['expected_ties']:.1f} ties "
                "expected by chance"
            )
        elif together and qf < alpha:
            r["finding"] = "votes-not-talk"
            r["reason"] = (
                f"{r['vote_share']:.0%} of the {r['scored']:,} pairs of {whom} are significant "
                f"co-voting ties (mean kappa {r['kappa']:.2f}), yet they have "
                f"{r['social_ties']:,} ties between them where their activity would give "
                f"{r['expected_ties']:.1f} (q {qf:.2g})"
            )
        elif apart_ and qm < alpha:
            r["finding"] = "talks-not-votes"
            r["reason"] = (
                f"{whom} have {r['social_ties']:,} ties between them where their activity "
                f"would give {r['expected_ties']:.1f} (q {qm:.2g}), yet {r['apart_share']:.0%} "
                f"of their {r['scored']:,} scored pairs vote apart significantly (mean kappa "
                f"{r['kappa']:.2f})"
            )
        else:
            r["finding"] = "none"
            r["reason"] = ""
    order = {"votes-not-talk": 0, "talks-not-votes": 1, "none": 2, "thin": 3}
    rows.sort(key=lambda r: (order[r["finding"]], -(r["pairs"]), r["party_a"], r["party_b"]))
    return _frame(rows, GROUP_COLUMNS)


# ----------------------------------------------------------------------- together


@dataclass
class CoVoting:
    """Everything :func:`covoting` computed.

    Attributes
    ----------
    matrix : VoteMatrix
    agreement : Agreement
    graph : networkx.Graph
        The co-voting graph (:func:`covoting_graph`), with ``bloc``, ``bloc_name``,
        ``faction``, ``faction_name`` and ``stability`` on the members of a bloc.
    blocs : Blocs
    defectors : pandas.DataFrame
    cohesion : pandas.DataFrame
        Per party and bloc (:data:`COHESION_COLUMNS`).
    cohesion_divisions : pandas.DataFrame
        Per party (bloc) and division.
    close : pandas.DataFrame
        The close divisions (:data:`CLOSE_COLUMNS`).
    persuadable : pandas.DataFrame
    talk_vote : TalkVote or None
        ``None`` without an interaction graph.
    warnings : list of EvidenceWarning
    options : dict
        The thresholds used.
    """

    matrix: VoteMatrix
    agreement: Agreement
    graph: nx.Graph
    blocs: Blocs
    defectors: pd.DataFrame
    cohesion: pd.DataFrame
    cohesion_divisions: pd.DataFrame
    close: pd.DataFrame
    persuadable: pd.DataFrame
    talk_vote: TalkVote | None = None
    warnings: list[EvidenceWarning] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    def agreement_frame(self) -> pd.DataFrame:
        """One row per scored pair (:data:`AGREEMENT_COLUMNS`)."""
        return self.agreement.frame(self.matrix.members)

    def blocs_frame(self) -> pd.DataFrame:
        """One row per bloc (:data:`BLOC_COLUMNS`), largest first."""
        blocs = self.blocs
        rice = {}
        if len(self.cohesion):
            rows = self.cohesion[self.cohesion["group_type"] == "bloc"]
            rice = {r.group: (r.rice, r.divisions) for r in rows.itertuples(index=False)}
        cohesion = blocs.result.cohesion if blocs.result is not None else {}
        out = []
        for bloc in sorted(blocs.names):
            size = sum(c for _, c in blocs.makeup[bloc])
            r, n = rice.get(blocs.names[bloc], (None, 0))
            out.append(
                {
                    "bloc": bloc,
                    "name": blocs.names[bloc],
                    "size": size,
                    "parties": len(blocs.makeup[bloc]),
                    "cross_party": blocs.cross_party[bloc],
                    "makeup": "; ".join(f"{p or '(no party)'}: {c}" for p, c in blocs.makeup[bloc]),
                    "cohesion": round(float(cohesion.get(bloc, 0.0)), 4),
                    "rice": r,
                    "divisions": n,
                    "significant": blocs.significant,
                }
            )
        return _frame(out, BLOC_COLUMNS)

    def members_frame(self) -> pd.DataFrame:
        """One row per member with their bloc and their party's (:data:`MEMBER_BLOC_COLUMNS`)."""
        G = self.graph
        defecting = set(self.defectors["member"]) if len(self.defectors) else set()
        party_bloc: dict[str, str] = {}
        if len(self.cohesion):
            for r in self.cohesion[self.cohesion["group_type"] == "party"].itertuples(index=False):
                if isinstance(r.main_bloc, str):
                    party_bloc[r.group] = r.main_bloc
        stability = self.blocs.result.stability if self.blocs.result is not None else {}
        rows = []
        for node, data in G.nodes(data=True):
            bloc = self.blocs.partition.get(node)
            rows.append(
                {
                    "member": node,
                    "name": data.get("name", ""),
                    "party": data.get("party", ""),
                    "constituency": data.get("constituency", ""),
                    "actor": data.get("actor", ""),
                    "divisions": data.get("divisions", 0),
                    "ties": data.get("ties", 0),
                    "bloc": bloc,
                    "bloc_name": self.blocs.names.get(bloc, "") if bloc is not None else "",
                    "stability": round(float(stability[node]), 4) if node in stability else None,
                    "party_bloc": party_bloc.get(str(data.get("party", "")), ""),
                    "defector": node in defecting,
                }
            )
        return _frame(rows, MEMBER_BLOC_COLUMNS)

    def compare_frame(self) -> pd.DataFrame:
        """Talk-versus-vote pairs (:data:`COMPARE_COLUMNS`); empty without a social graph."""
        return self.talk_vote.pairs if self.talk_vote is not None else _empty(COMPARE_COLUMNS)

    def summary(self) -> dict[str, Any]:
        """Plain data for ``summary.json``'s ``votes`` section."""
        m, d = self.matrix.shape
        i, _ = self.agreement.pairs()
        blocs = self.blocs
        sig = blocs.result.significance if blocs.result is not None else None
        out: dict[str, Any] = {
            "members": m,
            "divisions": d,
            "min_shared_divisions": self.agreement.min_shared,
            "tie_fdr": self.agreement.alpha,
            "scored_pairs": int(i.size),
            "pairs": m * (m - 1) // 2,
            "ties": self.graph.number_of_edges(),
            "blocs": [
                {
                    "bloc": r.bloc,
                    "name": r.name,
                    "size": int(r.size),
                    "cross_party": bool(r.cross_party),
                    "rice": r.rice,
                }
                for r in self.blocs_frame().itertuples(index=False)
            ],
            "unassigned_members": m - len(blocs.partition),
            "blocs_supported": blocs.significant,
            "blocs_basis": blocs.basis,
            "blocs_significance": sig.as_dict() if sig is not None else None,
            "blocs_modularity": (
                round(float(blocs.result.modularity), 4) if blocs.result is not None else None
            ),
            "defectors": int((self.defectors["evidence"] == "strong").sum())
            if len(self.defectors)
            else 0,
            "close_divisions": len(self.close),
            "persuadable": len(self.persuadable),
        }
        if len(self.cohesion):
            parties = self.cohesion[self.cohesion["group_type"] == "party"]
            out["party_rice"] = {
                r.group: r.rice for r in parties.itertuples(index=False) if r.rice is not None
            }
        if self.talk_vote is not None:
            tv = self.talk_vote
            found = tv.pairs["finding"].value_counts().to_dict() if len(tv.pairs) else {}
            groups = tv.groups["finding"].value_counts().to_dict() if len(tv.groups) else {}
            out["talk_vote"] = {
                "members_in_both": tv.common,
                "active_members": tv.active,
                "votes_not_talk_pairs": int(found.get("votes-not-talk", 0)),
                "talks_not_votes_pairs": int(found.get("talks-not-votes", 0)),
                "votes_not_talk_groups": int(groups.get("votes-not-talk", 0)),
                "talks_not_votes_groups": int(groups.get("talks-not-votes", 0)),
                "thin_groups": int(groups.get("thin", 0)),
            }
        return out


def _matrix_warnings(matrix: VoteMatrix, agreement: Agreement) -> list[EvidenceWarning]:
    warned: list[EvidenceWarning] = []
    m, d = matrix.shape
    if matrix.conflicts:
        warned.append(
            _warn(
                "covoting-conflicting-votes",
                f"{_plural(matrix.conflicts, 'vote')} of members resolving to one actor "
                "disagree within a division and count as no vote (check the roster for "
                "two MPs sharing an actor)",
            )
        )
    if m < 2:
        return warned
    if d < agreement.min_shared:
        warned.append(
            _warn(
                "covoting-too-few-divisions",
                f"only {_plural(d, 'division')}: agreement needs {agreement.min_shared} or more "
                "divisions shared by a pair, so no co-voting tie, voting bloc, defector or "
                "persuadable member can be found (party cohesion is still given)",
            )
        )
        return warned
    i, _ = agreement.pairs()
    total = m * (m - 1) // 2
    thin = total - int(i.size)
    if thin and total:
        warned.append(
            _warn(
                "covoting-thin-pairs",
                f"{_plural(thin, 'pair')} of members ({thin / total:.0%}) share fewer than "
                f"{agreement.min_shared} divisions in which both voted (or only unanimous "
                "ones): they get no agreement score",
            )
        )
    if i.size and not np.triu(agreement.ties, k=1).any():
        warned.append(
            _warn(
                "covoting-no-ties",
                f"no pair of the {i.size:,} scored agrees significantly more than chance "
                f"(false discovery rate {agreement.alpha:g}): the votes show no co-voting "
                "structure, so there are no voting blocs",
            )
        )
    return warned


def covoting(
    votes: pd.DataFrame,
    *,
    divisions: pd.DataFrame | None = None,
    social: nx.Graph | None = None,
    min_shared: int = MIN_SHARED_DIVISIONS,
    alpha: float = TIE_ALPHA,
    seed: int = 0,
    runs: int = 10,
    blocs: int | None = None,
    min_component: int = MIN_COMPONENT_SIZE,
    significance_samples: int = SIGNIFICANCE_SAMPLES,
    close_votes: int = CLOSE_MARGIN_VOTES,
    close_share: float = CLOSE_MARGIN_SHARE,
    side: str = "winning",
) -> CoVoting:
    """Run the whole co-voting analysis on a votes table.

    Parameters
    ----------
    votes : pandas.DataFrame
        :func:`mapper.votes.votes_frame`.
    divisions : pandas.DataFrame, optional
        :func:`mapper.votes.divisions_frame` (declared margins and results).
    social : networkx graph, optional
        The interaction graph of the same actors, for :func:`talk_vote`.
    min_shared, alpha
        See :func:`pair_agreement`.
    seed, runs, blocs, min_component, significance_samples
        See :func:`voting_blocs` (``blocs`` asks for a number of blocs).
    close_votes, close_share, side
        See :func:`persuadable_members`.

    Returns
    -------
    CoVoting

    Examples
    --------
    >>> from mapper.votes import votes_frame  # doctest: +SKIP
    >>> result = covoting(votes_frame(store, roster="roster.csv"))  # doctest: +SKIP
    >>> result.blocs_frame()[["name", "size", "cross_party"]]  # doctest: +SKIP
    """
    matrix = vote_matrix(votes, divisions)
    agreement = pair_agreement(matrix, min_shared=min_shared, alpha=alpha)
    G = covoting_graph(matrix, agreement)
    warned = _matrix_warnings(matrix, agreement)
    found = voting_blocs(
        G,
        seed=seed,
        runs=runs,
        factions=blocs,
        min_component=min_component,
        significance_samples=significance_samples,
    )
    warned += list(found.warnings)
    stability = found.result.stability if found.result is not None else {}
    for node, bloc in found.partition.items():
        data = G.nodes[node]
        data["bloc"] = data["faction"] = bloc
        data["bloc_name"] = data["faction_name"] = found.names[bloc]
        data["stability"] = round(float(stability.get(node, 1.0)), 4)
    defectors, defector_warnings = bloc_defectors(G, found, matrix, agreement)
    warned += defector_warnings
    cohesion, cohesion_divisions = party_cohesion(matrix, found)
    if len(defectors):
        strong = set(defectors.loc[defectors["evidence"] == "strong", "member"])
        for node in strong:
            G.nodes[node]["defector"] = True
    close, persuadable, persuadable_warnings = (
        persuadable_members(
            matrix, agreement, close_votes=close_votes, close_share=close_share, side=side
        )
        if matrix.shape[1] >= min_shared
        else (_empty(CLOSE_COLUMNS), _empty(PERSUADABLE_COLUMNS), [])
    )
    warned += persuadable_warnings
    tv = None
    if social is not None and social.number_of_nodes():
        tv = talk_vote(social, matrix, agreement)
        warned += list(tv.warnings)
    return CoVoting(
        matrix=matrix,
        agreement=agreement,
        graph=G,
        blocs=found,
        defectors=defectors,
        cohesion=cohesion,
        cohesion_divisions=cohesion_divisions,
        close=close,
        persuadable=persuadable,
        talk_vote=tv,
        warnings=warned,
        options={
            "min_shared": min_shared,
            "alpha": alpha,
            "seed": seed,
            "runs": runs,
            "blocs": blocs,
            "min_component": min_component,
            "significance_samples": significance_samples,
            "close_votes": close_votes,
            "close_share": close_share,
            "side": side,
        },
    )
