"""Votes as tables: the Python API for notebooks and for the analyses built on divisions.

Everything here reads the store (never the network) and returns pandas DataFrames with
fixed columns, typed even when the store holds no division:

- :func:`votes_frame`: one row per member and division (:data:`VOTE_COLUMNS`);
- :func:`divisions_frame`: one row per division, with its counts checked, margin,
  result and number of rebels (:data:`DIVISION_COLUMNS`);
- :func:`rebels_frame`: one row per member who voted against their party's line
  (:data:`REBEL_FRAME_COLUMNS`);
- across divisions (:mod:`mapper.analysis.covoting`): :func:`covoting_of` runs the
  co-voting analysis once, and :func:`agreement_frame`, :func:`blocs_frame`,
  :func:`bloc_members_frame`, :func:`cohesion_frame`, :func:`persuadable_frame`,
  :func:`compare_frame` and :func:`covoting_graph_of` return its pieces (pass
  ``result=`` to reuse one run).

Members are keyed across divisions and formats by :class:`~mapper.resolve.members.MemberIndex`
(the ``member`` column: ``<house>:id:<member id>`` when the id is known anywhere in the
data, else ``<house>:name:<folded name>|<folded constituency>``), and resolved to roster
actors when a roster is given (the ``actor`` column, ``None`` for members that did not
resolve: they stay in every table). :func:`member_index` builds the index once, so
several frames can share it. :func:`division_summaries_of` returns the per-division
analysis (:mod:`mapper.analysis.divisions`) the frames are made from.

Examples
--------
>>> from mapper.store import Store  # doctest: +SKIP
>>> with Store("store.sqlite") as store:  # doctest: +SKIP
...     votes = votes_frame(store, roster="roster.csv")
...     votes.pivot_table(index="member", columns="division", values="vote", aggfunc="first")
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mapper.analysis.divisions import DivisionSummary, division_summaries
from mapper.resolve.members import MemberIndex

if TYPE_CHECKING:
    import networkx as nx

    from mapper.analysis.covoting import CoVoting
    from mapper.resolve.roster import Roster
    from mapper.store import Store

__all__ = [
    "DIVISION_COLUMNS",
    "REBEL_FRAME_COLUMNS",
    "VOTE_COLUMNS",
    "agreement_frame",
    "bloc_members_frame",
    "blocs_frame",
    "cohesion_frame",
    "compare_frame",
    "covoting_graph_of",
    "covoting_of",
    "division_summaries_of",
    "divisions_frame",
    "member_index",
    "persuadable_frame",
    "rebels_frame",
    "votes_frame",
    "votes_with_index",
]

#: Columns of :func:`votes_frame`.
VOTE_COLUMNS: tuple[str, ...] = (
    "division",
    "number",
    "date",
    "title",
    "member",
    "member_id",
    "name",
    "party",
    "constituency",
    "actor",
    "vote",
    "teller",
    "proxy",
)
#: Columns of :func:`divisions_frame`.
DIVISION_COLUMNS: tuple[str, ...] = (
    "division",
    "house",
    "number",
    "date",
    "title",
    "ayes",
    "noes",
    "no_vote",
    "aye_tellers",
    "no_tellers",
    "declared_ayes",
    "declared_noes",
    "counts_match",
    "margin",
    "result",
    "complete",
    "rebels",
)
#: Columns of :func:`rebels_frame`.
REBEL_FRAME_COLUMNS: tuple[str, ...] = (
    "division",
    "number",
    "date",
    "title",
    "member",
    "member_id",
    "name",
    "actor",
    "party",
    "vote",
    "party_line",
    "party_share",
    "teller",
)
_DTYPES: dict[str, str] = {
    "date": "datetime64[ns, UTC]",
    "teller": "bool",
    "ayes": "int64",
    "noes": "int64",
    "no_vote": "int64",
    "aye_tellers": "int64",
    "no_tellers": "int64",
    "declared_ayes": "Int64",
    "declared_noes": "Int64",
    "counts_match": "boolean",
    "margin": "int64",
    "complete": "bool",
    "rebels": "int64",
    "party_share": "float64",
}


def _roster(roster: Roster | str | Path | None) -> Roster | None:
    if roster is None or not isinstance(roster, str | Path):
        return roster
    from mapper.resolve.roster import load_roster

    return load_roster(roster)


def _frame(rows: list[Any], columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=list(columns)) if rows else None
    if frame is None:
        frame = pd.DataFrame({c: pd.Series(dtype=_DTYPES.get(c, "object")) for c in columns})
        return frame
    for column in columns:
        dtype = _DTYPES.get(column, "object")
        if column == "date":
            when = pd.to_datetime(frame[column], utc=True, format="ISO8601")
            frame[column] = when.astype("datetime64[ns, UTC]")
        elif dtype != "object":
            frame[column] = frame[column].astype(dtype)
        else:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def member_index(store: Store, roster: Roster | str | Path | None = None) -> MemberIndex:
    """The :class:`~mapper.resolve.members.MemberIndex` of every stored vote.

    Parameters
    ----------
    store : Store
        The store.
    roster : Roster, str or Path, optional
        A roster (or its file) to resolve members to actors.

    Returns
    -------
    MemberIndex
        ``index.resolution.report`` lists the members no actor matched (``member``)
        and the ambiguous ones (``name``, candidates in ``note``).
    """
    return MemberIndex(
        ((r[1], r[5], r[7], r[9], r[6], r[8], r[0]) for r in store.vote_rows()),
        _roster(roster),
    )


def votes_frame(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
) -> pd.DataFrame:
    """Every stored vote, one row per member and division.

    Parameters
    ----------
    store : Store
        The store.
    roster : Roster, str or Path, optional
        Resolve members to roster actors (the ``actor`` column).
    index : MemberIndex, optional
        A ready index (from :func:`member_index`); ``roster`` is then not used.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VOTE_COLUMNS`: ``division`` (uid), ``number``, ``date`` (UTC),
        ``title``, ``member`` (the key across divisions), ``member_id`` (or ``None``),
        ``name`` (as the division writes it), ``party`` and ``constituency`` (``?``
        letters mapped to the label they stand for when the data has it), ``actor``
        (roster id or ``None``), ``vote`` (``aye``, ``no``, ``no_vote``), ``teller``
        (bool), ``proxy`` (the proxy's name or ``""``). Ordered by date, division and
        the source's order.
    """
    return votes_with_index(store, roster, index=index)[0]


def votes_with_index(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
) -> tuple[pd.DataFrame, MemberIndex]:
    """:func:`votes_frame` and the :class:`~mapper.resolve.members.MemberIndex` it used,
    from one read of the stored votes (without ``index``, the index is built from the
    same rows: what :func:`member_index` would return)."""
    columns: list[list[Any]] = [[] for _ in range(13)]
    same: dict[Any, Any] = {}
    for row in store.vote_rows():
        # one object per distinct value (a division's title, a member's name...): the
        # rows repeat them hundreds of times
        for column, value in zip(columns, row, strict=True):
            column.append(same.setdefault(value, value))
    if index is None:
        uid, house, _, _, _, key, member_id, name, party, seat = columns[:10]
        index = MemberIndex(
            zip(house, key, name, seat, member_id, party, uid, strict=True), _roster(roster)
        )
    return _votes_table(columns, index), index


def _votes_table(columns: list[list[Any]], index: MemberIndex) -> pd.DataFrame:
    """The votes frame from the columns of :meth:`Store.vote_rows`: members, parties,
    constituencies and actors are looked up once per distinct value."""
    if not columns or not columns[0]:
        return _frame([], VOTE_COLUMNS)
    (uid, house, number, when, title, key, member_id, name, party, seat, vote, teller, proxy) = (
        columns
    )
    known: dict[tuple[str, str], str] = {}
    members = []
    for h, k, n, c in zip(house, key, name, seat, strict=True):
        member = known.get((h, k))
        if member is None:
            member = known[(h, k)] = index.member(h, k, n, c)
        members.append(member)
    parties = {label: index.party(label) for label in set(party)}
    seats = {label: index.seat(label) for label in set(seat)}
    actors = {m: index.actor(m) for m in set(members)}
    days = {text: text for text in set(when)}
    if days:
        parsed = pd.to_datetime(pd.Series(list(days), dtype=object), utc=True, format="ISO8601")
        days = dict(zip(days, parsed.astype("datetime64[ns, UTC]"), strict=True))
    table: dict[str, Any] = {
        "division": uid,
        "number": number,
        "date": pd.Series([days[d] for d in when], dtype="datetime64[ns, UTC]"),
        "title": title,
        "member": members,
        "member_id": member_id,
        "name": name,
        "party": [parties[p] for p in party],
        "constituency": [seats[c] for c in seat],
        "actor": [actors[m] for m in members],
        "vote": vote,
        "teller": pd.Series([bool(t) for t in teller], dtype="bool"),
        "proxy": proxy,
    }
    frame = pd.DataFrame(
        {c: v if isinstance(v, pd.Series) else pd.Series(v, dtype=object) for c, v in table.items()}
    )
    for column in VOTE_COLUMNS:
        if frame[column].dtype == object:
            frame[column] = frame[column].where(frame[column].notna(), None)
    return frame[list(VOTE_COLUMNS)]


def division_summaries_of(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    divisions: Iterable[str] | None = None,
    **options: Any,
) -> list[DivisionSummary]:
    """The per-division analysis of stored divisions, by date.

    Parameters
    ----------
    store : Store
        The store.
    roster : Roster, str or Path, optional
        Resolve rebels to roster actors.
    index : MemberIndex, optional
        A ready index (``roster`` is then not used).
    divisions : iterable of str, optional
        Only these division uids.
    **options
        ``min_voting``, ``split_share``, ``unwhipped`` of
        :func:`mapper.analysis.divisions.division_summary`.

    Returns
    -------
    list of DivisionSummary
    """
    if index is None:
        index = member_index(store, roster)
    return division_summaries(store.iter_divisions(uids=divisions), index=index, **options)


def divisions_frame(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    summaries: Iterable[DivisionSummary] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """One row per stored division: counts listed and declared, margin, result, rebels.

    Parameters
    ----------
    store : Store
        The store.
    roster, index
        As for :func:`votes_frame` (they only matter for the rebels' keys).
    summaries : iterable of DivisionSummary, optional
        Ready summaries (from :func:`division_summaries_of`).
    **options
        Options of :func:`mapper.analysis.divisions.division_summary`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DIVISION_COLUMNS`; ``declared_ayes``/``declared_noes`` are
        nullable integers, ``counts_match`` a nullable boolean (``<NA>`` when the
        division declares no counts).
    """
    if summaries is None:
        summaries = division_summaries_of(store, roster, index=index, **options)
    rows = [
        {
            "division": s.division,
            "house": s.house,
            "number": s.number,
            "date": s.date.isoformat() if s.date else None,
            "title": s.title,
            "ayes": s.ayes,
            "noes": s.noes,
            "no_vote": s.no_vote,
            "aye_tellers": s.aye_tellers,
            "no_tellers": s.no_tellers,
            "declared_ayes": s.declared_ayes,
            "declared_noes": s.declared_noes,
            "counts_match": s.counts_match,
            "margin": s.margin,
            "result": s.result,
            "complete": s.complete,
            "rebels": len(s.rebels),
        }
        for s in summaries
    ]
    return _frame(rows, DIVISION_COLUMNS)


def rebels_frame(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    summaries: Iterable[DivisionSummary] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """One row per member who voted against their party's line, division by division.

    Parameters
    ----------
    store : Store
        The store.
    roster, index
        As for :func:`votes_frame`.
    summaries : iterable of DivisionSummary, optional
        Ready summaries (from :func:`division_summaries_of`).
    **options
        ``min_voting``, ``split_share``, ``unwhipped`` of
        :func:`mapper.analysis.divisions.division_summary`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REBEL_FRAME_COLUMNS` (``party_line`` the line broken,
        ``party_share`` the share of the party's voting members that held it).
    """
    if summaries is None:
        summaries = division_summaries_of(store, roster, index=index, **options)
    rows = [
        {
            "division": r.division,
            "number": r.number,
            "date": r.date.isoformat() if r.date else None,
            "title": r.title,
            "member": r.member,
            "member_id": r.member_id,
            "name": r.name,
            "actor": r.actor,
            "party": r.party,
            "vote": r.vote,
            "party_line": r.party_line,
            "party_share": r.party_share,
            "teller": r.teller,
        }
        for s in summaries
        for r in s.rebels
    ]
    return _frame(rows, REBEL_FRAME_COLUMNS)


# ------------------------------------------------------------------ across divisions


def covoting_of(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    social: nx.Graph | None = None,
    summaries: Iterable[DivisionSummary] | None = None,
    votes: pd.DataFrame | None = None,
    **options: Any,
) -> CoVoting:
    """Run the co-voting analysis (:func:`mapper.analysis.covoting.covoting`) on the
    stored divisions.

    Parameters
    ----------
    store : Store
        The store.
    roster : Roster, str or Path, optional
        Resolve members to roster actors, so that co-voting nodes are the actors of
        the interaction graph.
    index : MemberIndex, optional
        A ready index (``roster`` is then not used).
    social : networkx graph, optional
        The interaction graph of the same actors (e.g. ``mapper.Network.graph``), for
        the talk-versus-vote comparison.
    summaries : iterable of DivisionSummary, optional
        Ready per-division summaries (their declared margins and results are used).
    votes : pandas.DataFrame, optional
        The votes table, when already read (:func:`votes_with_index`).
    **options
        ``min_shared``, ``alpha``, ``seed``, ``runs``, ``blocs``, ``min_component``,
        ``significance_samples``, ``close_votes``, ``close_share``, ``side``.

    Returns
    -------
    CoVoting
        ``result.agreement_frame()``, ``blocs_frame()``, ``members_frame()``,
        ``cohesion``, ``defectors``, ``persuadable``, ``compare_frame()``, ``graph``,
        ``warnings``.
    """
    from mapper.analysis.covoting import covoting

    if votes is None:
        votes, index = votes_with_index(store, roster, index=index)
    divisions = divisions_frame(store, index=index, summaries=summaries)
    return covoting(votes, divisions=divisions, social=social, **options)


def _covoting(
    store: Store,
    roster: Roster | str | Path | None,
    index: MemberIndex | None,
    result: CoVoting | None,
    options: dict[str, Any],
) -> CoVoting:
    if result is not None:
        return result
    return covoting_of(store, roster, index=index, **options)


def agreement_frame(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    result: CoVoting | None = None,
    **options: Any,
) -> pd.DataFrame:
    """One row per pair of members sharing enough divisions: agreement, chance
    agreement, ``kappa``, p- and q-values and whether it is a co-voting ``tie``
    (:data:`mapper.analysis.covoting.AGREEMENT_COLUMNS`), strongest first.

    ``result`` reuses a :func:`covoting_of` run; ``options`` are its options.
    """
    if result is not None:
        return result.agreement_frame()
    matrix, agreement = _agreement_of(store, roster, index, options)
    return agreement.frame(matrix.members)


def _agreement_of(
    store: Store,
    roster: Roster | str | Path | None,
    index: MemberIndex | None,
    options: dict[str, Any],
) -> tuple[Any, Any]:
    """The vote matrix and the pair agreement only (no blocs): what the agreement and
    the persuadable members need."""
    from mapper.analysis.covoting import pair_agreement, vote_matrix

    if index is None:
        index = member_index(store, roster)
    summaries = options.pop("summaries", None)
    matrix = vote_matrix(
        votes_frame(store, index=index), divisions_frame(store, index=index, summaries=summaries)
    )
    shared = {k: options.pop(k) for k in ("min_shared", "alpha") if k in options}
    return matrix, pair_agreement(matrix, **shared)


def blocs_frame(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    result: CoVoting | None = None,
    **options: Any,
) -> pd.DataFrame:
    """One row per voting bloc: its name by party make-up, size, cross-party status,
    Rice index and stability (:data:`mapper.analysis.covoting.BLOC_COLUMNS`)."""
    return _covoting(store, roster, index, result, options).blocs_frame()


def bloc_members_frame(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    result: CoVoting | None = None,
    **options: Any,
) -> pd.DataFrame:
    """One row per member: their bloc, their party's bloc and whether they defect
    from it (:data:`mapper.analysis.covoting.MEMBER_BLOC_COLUMNS`)."""
    return _covoting(store, roster, index, result, options).members_frame()


def cohesion_frame(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    result: CoVoting | None = None,
    by_division: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """The Rice index per party and per bloc, averaged over the divisions
    (:data:`mapper.analysis.covoting.COHESION_COLUMNS`), or with ``by_division`` one
    row per group and division."""
    found = _covoting(store, roster, index, result, options)
    return found.cohesion_divisions if by_division else found.cohesion


def persuadable_frame(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    result: CoVoting | None = None,
    **options: Any,
) -> pd.DataFrame:
    """In close divisions, the members who did not vote with the winning side, ranked
    by how close their record is to its members', with the reason
    (:data:`mapper.analysis.covoting.PERSUADABLE_COLUMNS`).

    ``options``: ``min_shared``, ``alpha``, and those of
    :func:`mapper.analysis.covoting.persuadable_members` (``close_votes``,
    ``close_share``, ``side``, ``divisions``: these division uids instead of the close
    ones). Without ``result`` no blocs are computed.
    """
    if result is not None:
        return result.persuadable
    from mapper.analysis.covoting import persuadable_members

    matrix, agreement = _agreement_of(store, roster, index, options)
    return persuadable_members(matrix, agreement, **options)[1]


def compare_frame(
    store: Store,
    social: nx.Graph,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    result: CoVoting | None = None,
    groups: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """Talk versus vote: the pairs who vote together but have no tie in ``social``,
    and those who talk a lot but vote apart
    (:data:`mapper.analysis.covoting.COMPARE_COLUMNS`); with ``groups`` the party
    pairs (:data:`mapper.analysis.covoting.GROUP_COLUMNS`)."""
    from mapper.analysis.covoting import talk_vote

    found = (
        result
        if result is not None
        else covoting_of(store, roster, index=index, social=social, **options)
    )
    compared = found.talk_vote
    if compared is None:
        compared = talk_vote(social, found.matrix, found.agreement)
    return compared.groups if groups else compared.pairs


def covoting_graph_of(
    store: Store,
    roster: Roster | str | Path | None = None,
    *,
    index: MemberIndex | None = None,
    result: CoVoting | None = None,
    **options: Any,
) -> nx.Graph:
    """The co-voting graph: members (actor ids where they resolve, else member keys)
    with ``party``, ``name``, ``constituency``, ``bloc``; ties where agreement is
    significantly above chance, ``weight`` = ``kappa``."""
    return _covoting(store, roster, index, result, options).graph
