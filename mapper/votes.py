"""Votes as tables: the Python API for notebooks and for the analyses built on divisions.

Everything here reads the store (never the network) and returns pandas DataFrames with
fixed columns, typed even when the store holds no division:

- :func:`votes_frame`: one row per member and division (:data:`VOTE_COLUMNS`);
- :func:`divisions_frame`: one row per division, with its counts checked, margin,
  result and number of rebels (:data:`DIVISION_COLUMNS`);
- :func:`rebels_frame`: one row per member who voted against their party's line
  (:data:`REBEL_FRAME_COLUMNS`).

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
    from mapper.resolve.roster import Roster
    from mapper.store import Store

__all__ = [
    "DIVISION_COLUMNS",
    "REBEL_FRAME_COLUMNS",
    "VOTE_COLUMNS",
    "division_summaries_of",
    "divisions_frame",
    "member_index",
    "rebels_frame",
    "votes_frame",
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
    rows = list(store.vote_rows())
    if index is None:
        index = MemberIndex(
            ((r[1], r[5], r[7], r[9], r[6], r[8], r[0]) for r in rows), _roster(roster)
        )
    out = []
    for (
        uid,
        house,
        number,
        when,
        title,
        key,
        member_id,
        name,
        party,
        seat,
        vote,
        teller,
        proxy,
    ) in rows:
        member = index.member(house, key, name, seat)
        out.append(
            (
                uid,
                number,
                when,
                title,
                member,
                member_id,
                name,
                index.party(party),
                index.seat(seat),
                index.actor(member),
                vote,
                bool(teller),
                proxy,
            )
        )
    return _frame(out, VOTE_COLUMNS)


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
