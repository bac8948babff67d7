"""The records passed between stages: ``Post``, ``Reference``, ``Provenance``,
``Actor``, ``EdgeEvent``, and the parliamentary ``Division`` with its ``Vote`` records.

These are the only shapes that cross a stage boundary. Collectors turn raw payloads
into ``Post`` records (raw JSON never leaks past a collector); the resolver turns
posts into ``EdgeEvent`` records between ``Actor`` ids; the graph aggregates edge
events. All ids are strings, all times are timezone-aware UTC, all records are
immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

#: Kinds of reference a post can make to another account, page or name.
REFERENCE_KINDS: tuple[str, ...] = ("mention", "reply", "repost", "quote", "link", "name")
ReferenceKind = Literal["mention", "reply", "repost", "quote", "link", "name"]

#: Kinds of actor a roster may declare. ``unknown`` is reserved for provisional actors.
ACTOR_KINDS: tuple[str, ...] = (
    "commentator",
    "mp",
    "organisation",
    "party",
    "media",
    "union",
    "campaign",
    "other",
)
PROVISIONAL_KIND = "unknown"

#: Platforms whose handles the roster knows.
PLATFORMS: tuple[str, ...] = ("x", "bluesky", "mastodon", "web")


def utc(value: datetime) -> datetime:
    """Return ``value`` as a timezone-aware UTC datetime (naive input is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def now_utc() -> datetime:
    """The current time, timezone-aware UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class Reference:
    """One thing a post points at.

    Attributes
    ----------
    kind : str
        One of :data:`REFERENCE_KINDS`.
    target : str
        For ``mention``, ``reply``, ``repost`` and ``quote``: the target account's
        handle on the post's platform, without ``@`` (original case kept). For
        ``link``: the absolute URL. For ``name``: the roster actor id the name
        resolved to (``name`` references are added by the resolver, not collectors).
    target_id : str, optional
        The platform's own id of the target account (X user id, Bluesky DID), when known.
    snippet : str
        A short piece of the post's text around the reference (may be empty).
    weight : float, optional
        An explicit weight (edge tables carry one); ``None`` means the graph's
        per-type weight applies.
    """

    kind: str
    target: str
    target_id: str | None = None
    snippet: str = ""
    weight: float | None = None


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a post came from: which collector, from which query or file and line, when."""

    collector: str
    version: str
    source: str
    line: int | None = None
    retrieved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Post:
    """One published item (a post, an article, a feed entry), normalized.

    ``uid`` is ``platform:id`` and is the key of the store: importing the same post
    twice adds nothing.
    """

    uid: str
    platform: str
    author: str
    created_at: datetime | None
    text: str = ""
    url: str = ""
    author_id: str | None = None
    author_name: str = ""
    language: str | None = None
    references: tuple[Reference, ...] = ()
    tags: tuple[str, ...] = ()
    provenance: Provenance | None = None

    @property
    def id(self) -> str:
        """The platform's own id (the part of ``uid`` after ``platform:``)."""
        return self.uid.split(":", 1)[1] if ":" in self.uid else self.uid


@dataclass(frozen=True, slots=True)
class Actor:
    """A person or organisation in the network.

    Attributes mirror the roster's columns. ``handles`` maps a platform
    (``x``, ``bluesky``, ``mastodon``) to that actor's handles there. ``provisional``
    actors were created for an unknown handle; their kind is ``unknown``.
    """

    id: str
    name: str
    kind: str = "other"
    party: str = ""
    faction: str = ""
    aliases: tuple[str, ...] = ()
    handles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    domains: tuple[str, ...] = ()
    external_ids: Mapping[str, str] = field(default_factory=dict)
    issues: tuple[str, ...] = ()
    provisional: bool = False
    constituency: str = ""

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(frozen=True, slots=True)
class EdgeEvent:
    """One resolved reference: ``source`` actor pointed at ``target`` actor in a post."""

    source: str
    target: str
    type: str
    post: str
    time: datetime | None = None
    snippet: str = ""
    url: str = ""
    weight: float | None = None


# --------------------------------------------------------------------------- votes

#: The values a recorded vote can take: for the motion, against it, or no vote recorded
#: (absent, abstaining, paired, or the Speaker).
VOTE_VALUES: tuple[str, ...] = ("aye", "no", "no_vote")
VoteValue = Literal["aye", "no", "no_vote"]


@dataclass(frozen=True, slots=True)
class Vote:
    """How one member voted in one division.

    Attributes
    ----------
    member : str
        The member's key inside the division: ``id:<member id>`` when the source gives
        the parliament's member id, else ``name:<folded name>|<folded constituency>``
        (see :func:`mapper.resolve.members.member_key`). One vote per key and division.
    name : str
        The member's name as the source wrote it (``?`` letters of the Commons export
        included).
    vote : str
        One of :data:`VOTE_VALUES`.
    party : str
        The party label the division gives the member.
    constituency : str
        The seat the member sits for, when known.
    member_id : str, optional
        The parliament's own member id (the Commons ``MemberId``), when known.
    teller : bool
        The member told (counted the votes) for this side; tellers are not in the
        declared counts.
    proxy : str
        The name of the member who cast this vote as proxy, when one did.
    line : int, optional
        The line (or member number) of the source it was read from.
    """

    member: str
    name: str
    vote: str
    party: str = ""
    constituency: str = ""
    member_id: str | None = None
    teller: bool = False
    proxy: str = ""
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Division:
    """One division (recorded vote) of a parliament, with its votes.

    ``uid`` is ``<house>:<YYYY-MM-DD>/<number>`` (the house's name, the sitting date as
    the source wrote it, the division number), so that the Commons Votes CSV export and
    the API's JSON of the same division share one key; the store keeps one division
    per uid.

    Attributes
    ----------
    uid : str
        The key of the store.
    house : str
        ``commons`` for the House of Commons, else the parliament a table names.
    number : str
        The division number (unique within a session in the Commons), or the table's
        division id.
    date : datetime, optional
        When the division was held, timezone-aware UTC (a date without a time is
        midnight UTC of that date).
    title : str
        What was voted on.
    aye_count, no_count : int, optional
        The counts the source declares (the export's header, the API's ``AyeCount`` and
        ``NoCount``), tellers excluded; ``None`` when it declares none.
    division_id : str, optional
        The Commons Votes API's ``DivisionId``.
    votes : tuple of Vote
        One per member.
    format : str
        What it was read from: ``commons-csv``, ``commons-api`` or ``table``.
    complete : bool
        ``False`` when rows of the division were set aside on import (an unknown vote,
        a member listed twice, a truncated row), or when it lists fewer ayes or noes
        than it declares (a file cut between rows): such a division never replaces a
        complete one in the store.
    provenance : Provenance, optional
        Collector, file or query, line and retrieval time.
    """

    uid: str
    house: str
    number: str
    date: datetime | None
    title: str = ""
    aye_count: int | None = None
    no_count: int | None = None
    division_id: str | None = None
    votes: tuple[Vote, ...] = ()
    format: str = "table"
    complete: bool = True
    provenance: Provenance | None = None
