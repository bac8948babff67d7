"""Per-division analysis: counts checked, each party's line, the rebels, turnout, margin.

:func:`division_summary` reads one :class:`~mapper.records.Division` and returns a
:class:`DivisionSummary` (plain data; :mod:`mapper.render.votes` writes it out):

- **Counts.** The ayes and noes listed (tellers apart) against the counts the division
  declares (the export's header, the API's ``AyeCount``/``NoCount``); a difference is
  an :class:`~mapper.analysis.strength.EvidenceWarning` ``division-count-mismatch``
  naming the division and both numbers. A division with rows set aside on import
  carries ``division-incomplete``.
- **Margin and result.** From the declared counts when there are any, else from the
  votes listed: ``margin = |ayes - noes|``, ``result`` ``aye``, ``no`` or ``tie``.
- **Party line.** A party's line is the side a majority of its voting members (ayes
  and noes, tellers included, abstentions and absences not) took. There is no line
  when the party's voting members split evenly, when fewer than
  :data:`MIN_PARTY_VOTING` of them voted, or for labels that carry no whip
  (:data:`UNWHIPPED_LABELS`: independents, the Speaker and deputies, non-affiliated
  and crossbench members); the reason is given. A label ``Party (Sub)`` is counted
  with ``Party`` when both sit in the division (``Labour (Co-op)`` with ``Labour``).
  When the line holds less than :data:`SPLIT_LINE_SHARE` of the party's voting members,
  the warning ``party-line-split`` says the party split.
- **Rebels.** Members who voted against their party's line. Not voting is not
  rebelling: ``no_vote`` members are counted per party as abstentions or absences,
  apart from the rebels.
- **Turnout** per party: voting members over the members the division lists for it,
  known only when the division lists those who did not vote (the CSV export lists
  every member; the API's ``NoVoteRecorded`` may be empty), else ``None``.

References: the party line as the majority of a party's voting members is the rule of
Cowley's studies of Commons rebellions and of the Public Whip's rebel counts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mapper.analysis.strength import EvidenceWarning, warning
from mapper.records import Division
from mapper.resolve.members import MemberIndex, fold_label

__all__ = [
    "MIN_PARTY_VOTING",
    "SPLIT_LINE_SHARE",
    "UNWHIPPED_LABELS",
    "DivisionSummary",
    "PartyLine",
    "Rebel",
    "division_summaries",
    "division_summary",
    "rebel_counts",
    "whip_groups",
]

#: A party needs at least this many voting members (ayes and noes) to have a line.
MIN_PARTY_VOTING = 3
#: A line held by less than this share of the party's voting members is a split.
SPLIT_LINE_SHARE = 2 / 3
#: Labels (folded) that carry no whip, so no line and no rebels.
UNWHIPPED_LABELS: frozenset[str] = frozenset(
    {
        "",
        "independent",
        "independents",
        "ind",
        "speaker",
        "deputy speaker",
        "non affiliated",
        "nonaffiliated",
        "non inscrits",
        "non attached",
        "crossbench",
        "crossbencher",
        "crossbenchers",
        "unaffiliated",
        # the House of Lords: the bishops and the Lord Speaker take no whip either
        "bishops",
        "bishop",
        "lords spiritual",
        "lord speaker",
    }
)
_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")
STAGE = "votes"


@dataclass(frozen=True, slots=True)
class PartyLine:
    """One party in one division.

    Attributes
    ----------
    party : str
        The party (its whip group: ``Labour (Co-op)`` counts with ``Labour``).
    members : int
        Its members listed in the division (voting or not).
    ayes, noes : int
        Its members voting each way, tellers included.
    no_vote : int
        Its members listed without a vote: abstentions and absences.
    tellers : int
        Its tellers.
    line : str or None
        ``aye`` or ``no``, or ``None`` when it has no line.
    share : float or None
        The line's share of its voting members.
    reason : str
        Why there is no line, or ``""``.
    rebels : int
        Its members voting against the line.
    turnout : float or None
        Voting members over members listed; ``None`` when the division lists only
        those who voted.
    """

    party: str
    members: int
    ayes: int
    noes: int
    no_vote: int
    tellers: int
    line: str | None
    share: float | None
    reason: str
    rebels: int
    turnout: float | None

    @property
    def voting(self) -> int:
        """Members who voted aye or no (tellers included)."""
        return self.ayes + self.noes


@dataclass(frozen=True, slots=True)
class Rebel:
    """A member who voted against their party's line in one division.

    Attributes
    ----------
    division, number, title : str
        The division's uid, number and title.
    date : datetime or None
        When it was held (UTC).
    member : str
        The member's key (canonical across divisions when a
        :class:`~mapper.resolve.members.MemberIndex` was given, else
        ``<house>:<key in the division>``).
    name : str
        The member's name as the division writes it.
    member_id : str or None
        The parliament's member id, when known.
    actor : str or None
        The roster actor, when the member resolved.
    party : str
        The party whose line was broken.
    vote : str
        ``aye`` or ``no``.
    party_line : str
        The party's line.
    party_share : float
        The line's share of the party's voting members.
    teller : bool
        The rebel told for the other side.
    """

    division: str
    number: str
    date: datetime | None
    title: str
    member: str
    name: str
    member_id: str | None
    actor: str | None
    party: str
    vote: str
    party_line: str
    party_share: float
    teller: bool = False


@dataclass(frozen=True)
class DivisionSummary:
    """What one division says: counts, result, party lines, rebels, warnings.

    Attributes
    ----------
    division, house, number, title : str
        The division's uid, house, number and title.
    date : datetime or None
        When it was held (UTC).
    ayes, noes, no_vote : int
        Votes listed (ayes and noes without tellers).
    aye_tellers, no_tellers : int
        Tellers listed for each side.
    declared_ayes, declared_noes : int or None
        The counts the division declares.
    counts_match : bool or None
        Whether the listed votes give the declared counts (``None``: none declared).
    margin : int
        ``|ayes - noes|``, from the declared counts when there are any.
    result : str
        ``aye``, ``no`` or ``tie`` (same source as the margin).
    complete : bool
        ``False`` when rows were set aside on import.
    lists_non_voters : bool
        Whether the division lists members who did not vote (turnout is known).
    parties : tuple of PartyLine
        Largest party first.
    rebels : tuple of Rebel
        By party, then name.
    warnings : tuple of EvidenceWarning
        ``division-count-mismatch``, ``division-incomplete``, ``party-line-split``.
    """

    division: str
    house: str
    number: str
    date: datetime | None
    title: str
    ayes: int
    noes: int
    no_vote: int
    aye_tellers: int
    no_tellers: int
    declared_ayes: int | None
    declared_noes: int | None
    counts_match: bool | None
    margin: int
    result: str
    complete: bool
    lists_non_voters: bool
    parties: tuple[PartyLine, ...] = ()
    rebels: tuple[Rebel, ...] = ()
    warnings: tuple[EvidenceWarning, ...] = field(default=())

    def party(self, name: str) -> PartyLine | None:
        """The line of party ``name`` (``None`` when no member of it is listed)."""
        return next((p for p in self.parties if p.party == name), None)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (parties, rebels and warnings as lists of dicts), for JSON."""
        return {
            "division": self.division,
            "house": self.house,
            "number": self.number,
            "date": self.date.isoformat() if self.date else None,
            "title": self.title,
            "ayes": self.ayes,
            "noes": self.noes,
            "no_vote": self.no_vote,
            "aye_tellers": self.aye_tellers,
            "no_tellers": self.no_tellers,
            "declared_ayes": self.declared_ayes,
            "declared_noes": self.declared_noes,
            "counts_match": self.counts_match,
            "margin": self.margin,
            "result": self.result,
            "complete": self.complete,
            "lists_non_voters": self.lists_non_voters,
            "parties": [
                {
                    "party": p.party,
                    "members": p.members,
                    "ayes": p.ayes,
                    "noes": p.noes,
                    "no_vote": p.no_vote,
                    "tellers": p.tellers,
                    "line": p.line,
                    "share": p.share,
                    "reason": p.reason,
                    "rebels": p.rebels,
                    "turnout": p.turnout,
                }
                for p in self.parties
            ],
            "rebels": [
                {
                    "division": r.division,
                    "member": r.member,
                    "name": r.name,
                    "member_id": r.member_id,
                    "actor": r.actor,
                    "party": r.party,
                    "vote": r.vote,
                    "party_line": r.party_line,
                    "party_share": r.party_share,
                    "teller": r.teller,
                }
                for r in self.rebels
            ],
            "warnings": [w.as_dict() for w in self.warnings],
        }


def whip_groups(labels: Iterable[str]) -> dict[str, str]:
    """Map each party label to the group whose line it follows: ``Party (Sub)`` to
    ``Party`` when ``Party`` is among ``labels``, every other label to itself.

    >>> whip_groups(["Labour", "Labour (Co-op)", "Green (Scotland)"])["Labour (Co-op)"]
    'Labour'
    """
    present = {fold_label(label): label for label in sorted(set(labels))}
    out: dict[str, str] = {}
    for label in present.values():
        base = _QUALIFIER.sub("", label).strip()
        out[label] = present.get(fold_label(base), label) if base != label else label
    return out


def _describe(division: Division) -> str:
    when = division.date.date().isoformat() if division.date else "undated"
    title = f" ({division.title})" if division.title else ""
    return f"division {division.number or division.uid} of {when}{title}"


def division_summary(
    division: Division,
    *,
    index: MemberIndex | None = None,
    min_voting: int = MIN_PARTY_VOTING,
    split_share: float = SPLIT_LINE_SHARE,
    unwhipped: Iterable[str] = UNWHIPPED_LABELS,
) -> DivisionSummary:
    """Count one division, find each party's line and the rebels.

    Parameters
    ----------
    division : Division
        The division with its votes.
    index : MemberIndex, optional
        Canonical member keys and roster actors (rebels then carry both), and party
        labels with ``?`` letters mapped to the one they stand for.
    min_voting : int
        Fewer voting members than this: no line (default :data:`MIN_PARTY_VOTING`).
    split_share : float
        A line held by less than this share of voting members is flagged as a split.
    unwhipped : iterable of str
        Party labels without a whip (compared folded).

    Returns
    -------
    DivisionSummary

    Examples
    --------
    >>> from mapper.records import Division, Vote
    >>> votes = [Vote(f"name:{i}", f"M{i}", "aye", "Red") for i in range(4)]
    >>> votes.append(Vote("name:x", "X", "no", "Red"))
    >>> s = division_summary(Division("p:1", "p", "1", None, votes=tuple(votes)))
    >>> s.party("Red").line, [r.name for r in s.rebels]
    ('aye', ['X'])
    """
    if min_voting < 1:
        raise ValueError("min_voting must be at least 1")
    free = {fold_label(label) for label in unwhipped}
    party_of = index.party if index is not None else (lambda label: label)
    labels = [party_of(v.party) for v in division.votes]
    groups = whip_groups(labels)
    tally: dict[str, Counter[str]] = {}
    ayes = noes = no_vote = aye_tellers = no_tellers = 0
    for vote, label in zip(division.votes, labels, strict=True):
        counter = tally.setdefault(groups[label], Counter())
        counter["members"] += 1
        counter[vote.vote] += 1
        if vote.teller:
            counter["tellers"] += 1
            if vote.vote == "aye":
                aye_tellers += 1
            elif vote.vote == "no":
                no_tellers += 1
        elif vote.vote == "aye":
            ayes += 1
        elif vote.vote == "no":
            noes += 1
        if vote.vote == "no_vote":
            no_vote += 1
    lists_non_voters = no_vote > 0
    lines: dict[str, tuple[str | None, float | None, str]] = {}
    for party, counter in tally.items():
        voting = counter["aye"] + counter["no"]
        if fold_label(party) in free:
            lines[party] = (None, None, "no whip (independents, the Speaker and the like)")
        elif voting < min_voting:
            lines[party] = (None, None, f"fewer than {min_voting} members voted ({voting})")
        elif counter["aye"] == counter["no"]:
            lines[party] = (None, None, f"split evenly ({counter['aye']} each way)")
        else:
            side = "aye" if counter["aye"] > counter["no"] else "no"
            lines[party] = (side, counter[side] / voting, "")
    rebels: list[Rebel] = []
    for vote, label in zip(division.votes, labels, strict=True):
        party = groups[label]
        line, share, _reason = lines[party]
        if line is None or vote.vote == "no_vote" or vote.vote == line:
            continue
        member = (
            index.member(division.house, vote.member, vote.name, vote.constituency)
            if index is not None
            else f"{division.house}:{vote.member}"
        )
        rebels.append(
            Rebel(
                division=division.uid,
                number=division.number,
                date=division.date,
                title=division.title,
                member=member,
                name=vote.name,
                member_id=vote.member_id,
                actor=index.actor(member) if index is not None else None,
                party=party,
                vote=vote.vote,
                party_line=line,
                party_share=float(share or 0.0),
                teller=vote.teller,
            )
        )
    rebels.sort(key=lambda r: (r.party.casefold(), r.name.casefold(), r.member))
    rebel_count = Counter(r.party for r in rebels)
    parties = []
    for party, counter in tally.items():
        line, share, reason = lines[party]
        voting = counter["aye"] + counter["no"]
        parties.append(
            PartyLine(
                party=party,
                members=counter["members"],
                ayes=counter["aye"],
                noes=counter["no"],
                no_vote=counter["no_vote"],
                tellers=counter["tellers"],
                line=line,
                share=share,
                reason=reason,
                rebels=rebel_count.get(party, 0),
                turnout=voting / counter["members"] if lists_non_voters else None,
            )
        )
    parties.sort(key=lambda p: (-p.members, p.party.casefold()))

    warnings: list[EvidenceWarning] = []
    where = _describe(division)
    declared = (division.aye_count, division.no_count)
    counts_match: bool | None = None
    if declared != (None, None):
        problems = []
        if division.aye_count is not None and division.aye_count != ayes:
            problems.append(f"{ayes} ayes listed against {division.aye_count} declared")
        if division.no_count is not None and division.no_count != noes:
            problems.append(f"{noes} noes listed against {division.no_count} declared")
        counts_match = not problems
        if problems:
            warnings.append(
                warning("division-count-mismatch", STAGE, f"{where}: " + "; ".join(problems))
            )
    if not division.complete:
        warnings.append(
            warning(
                "division-incomplete",
                STAGE,
                f"{where}: rows were set aside on import (see `mapper quarantine`), or it "
                "lists fewer votes than it declares; its counts and rebels may be short",
            )
        )
    for p in parties:
        if p.line is not None and p.share is not None and p.share < split_share and p.rebels:
            warnings.append(
                warning(
                    "party-line-split",
                    STAGE,
                    f"{where}: the {p.party} line ({p.line}) is held by {p.share:.0%} of its "
                    f"{p.voting} voting members; its {p.rebels} rebels may reflect a free "
                    "vote or an open split",
                )
            )
    if declared[0] is not None and declared[1] is not None:
        for_, against = declared[0], declared[1]
    else:
        for_, against = ayes, noes
    result = "aye" if for_ > against else "no" if against > for_ else "tie"
    return DivisionSummary(
        division=division.uid,
        house=division.house,
        number=division.number,
        date=division.date,
        title=division.title,
        ayes=ayes,
        noes=noes,
        no_vote=no_vote,
        aye_tellers=aye_tellers,
        no_tellers=no_tellers,
        declared_ayes=division.aye_count,
        declared_noes=division.no_count,
        counts_match=counts_match,
        margin=abs(for_ - against),
        result=result,
        complete=division.complete,
        lists_non_voters=lists_non_voters,
        parties=tuple(parties),
        rebels=tuple(rebels),
        warnings=tuple(warnings),
    )


def division_summaries(
    divisions: Iterable[Division],
    *,
    index: MemberIndex | None = None,
    **options: Any,
) -> list[DivisionSummary]:
    """:func:`division_summary` of each division, in the order given.

    ``options`` are those of :func:`division_summary` (``min_voting``,
    ``split_share``, ``unwhipped``).
    """
    return [division_summary(d, index=index, **options) for d in divisions]


def rebel_counts(summaries: Iterable[DivisionSummary]) -> Mapping[str, int]:
    """How often each member rebelled over ``summaries`` (member key -> count)."""
    counts: Counter[str] = Counter()
    for summary in summaries:
        counts.update(r.member for r in summary.rebels)
    return dict(counts)
