"""Resolve the members of parliamentary divisions to roster actors.

A division names each member by name, party and constituency, and the Commons Votes API
also by the parliament's member id. :class:`MemberResolver` maps a member to a roster
actor so that an MP's votes and posts meet on one actor:

1. **Member id.** When the division gives a member id and a roster actor has it as its
   ``parliament`` external id (the roster's ``parliament`` column), that actor.
2. **Name and constituency.** Otherwise the member's name is compared with every
   roster actor's name and aliases after folding (:func:`name_keys`: accents dropped,
   case folded, punctuation as spaces, ``Surname, Forename`` turned round, honorifics
   such as ``Mr``, ``Dame``, ``Sir``, ``Rt Hon`` and letters after the name such as
   ``MP``, ``QC``, ``CBE`` dropped while two words remain). A ``?`` in the member's name
   stands for the one letter the Commons export could not write (``Th?r?se Coffey``
   matches ``Thérèse Coffey``, and a roster name copied from an export with its ``?``
   matches the name written in full). Among the actors whose name matches, those whose
   ``constituency`` is the member's are preferred; an actor with another constituency,
   or with another member id, is never taken; an actor without a constituency is
   taken only when no actor has the member's.
3. **Ambiguity.** When two or more actors remain, the member stays unresolved and the
   report lists the candidates; when none does, it stays unresolved too.

Unresolved members are never dropped: they stay members, keyed by member id or by name
and constituency (:func:`member_key`), and their votes are counted like any other.
:func:`resolve_members` resolves many members at once and fills a
:class:`~mapper.resolve.resolver.ResolutionReport` (category ``member`` for members no
actor matches, ``name`` for ambiguous ones with the candidates in ``note``; counts are
numbers of divisions).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mapper.resolve.resolver import ResolutionReport
from mapper.resolve.roster import Roster

__all__ = [
    "HONORIFICS",
    "PARLIAMENT_ID",
    "POSTNOMINALS",
    "MemberIndex",
    "MemberMatch",
    "MemberResolution",
    "MemberResolver",
    "canonical_labels",
    "fold_label",
    "fold_name",
    "label_matches",
    "member_key",
    "name_keys",
    "resolve_members",
]

#: The roster's external-id kind that holds the parliament's member id.
PARLIAMENT_ID = "parliament"
#: Words dropped from the front of a name (while two words remain).
HONORIFICS: frozenset[str] = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "sir",
        "dame",
        "lord",
        "lady",
        "baroness",
        "baron",
        "viscount",
        "earl",
        "rt",
        "right",
        "hon",
        "honourable",
        "the",
        "rev",
        "reverend",
        "prof",
        "professor",
    }
)
#: Letters after a name dropped from its end (while two words remain).
POSTNOMINALS: frozenset[str] = frozenset(
    {"mp", "qc", "kc", "pc", "obe", "cbe", "mbe", "kbe", "dbe", "msp", "mla", "td", "mep"}
)

_PAREN = re.compile(r"\([^)]*\)")
_NOT_WORD = re.compile(r"[^0-9a-z?]+")


def _ascii_fold(text: str) -> str:
    """Case-folded text with accents dropped (``Thérèse`` -> ``therese``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.casefold()


@lru_cache(maxsize=1 << 16)
def fold_label(text: str) -> str:
    """The matching form of a label (a party, a constituency): accents dropped, case
    folded, ``&`` as ``and``, every other sign a space; ``?`` is kept.

    >>> fold_label("Ynys Môn"), fold_label("Brighton, Pavilion")
    ('ynys mon', 'brighton pavilion')
    """
    folded = _ascii_fold(text or "").replace("&", " and ")
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def _words(name: str) -> list[str]:
    text = _PAREN.sub(" ", name or "")
    if text.count(",") == 1:
        surname, _, forenames = text.partition(",")
        if forenames.strip() and surname.strip():
            text = f"{forenames} {surname}"
    return fold_label(text).split()


@lru_cache(maxsize=1 << 16)
def name_keys(name: str) -> tuple[str, ...]:
    """The folded forms a name is matched by: as written, and without honorifics and
    letters after it (each only while two words remain).

    >>> name_keys("Rt Hon Dame Margaret Beckett MP")
    ('rt hon dame margaret beckett mp', 'margaret beckett')
    >>> name_keys("Lady Hermon")
    ('lady hermon',)
    >>> name_keys("Abbott, Diane")
    ('diane abbott',)
    """
    words = _words(name)
    if not words:
        return ()
    keys = [" ".join(words)]
    stripped = list(words)
    while len(stripped) > 2 and stripped[0] in HONORIFICS:
        stripped.pop(0)
    while len(stripped) > 2 and stripped[-1] in POSTNOMINALS:
        stripped.pop()
    key = " ".join(stripped)
    if key not in keys:
        keys.append(key)
    return tuple(keys)


def fold_name(name: str) -> str:
    """The canonical folded form of a member's name (the last of :func:`name_keys`)."""
    keys = name_keys(name)
    return keys[-1] if keys else ""


@lru_cache(maxsize=4096)
def _wildcard(pattern: str) -> re.Pattern[str]:
    # the export writes one "?" for one letter it cannot encode; a letter that folds
    # to two (ß -> ss) is allowed for
    parts = (re.escape(p) for p in pattern.split("?"))
    return re.compile("[^ ]{1,2}".join(parts))


def label_matches(pattern: str, value: str) -> bool:
    """Whether folded ``value`` is folded ``pattern``, each ``?`` of ``pattern`` standing
    for one letter.

    >>> label_matches("Sinn F?in", "Sinn Féin"), label_matches("Sinn F?in", "Plaid")
    (True, False)
    """
    p, v = fold_label(pattern), fold_label(value)
    if "?" not in p:
        return p == v
    return _wildcard(p).fullmatch(v) is not None


@lru_cache(maxsize=1 << 16)
def member_key(name: str, constituency: str = "", member_id: str | None = None) -> str:
    """The key of a member inside a division: ``id:<member id>`` when the id is known,
    else ``name:<folded name>|<folded constituency>``.

    >>> member_key("Diane Abbott", "Hackney North and Stoke Newington", "172")
    'id:172'
    >>> member_key("Mr Diane Abbott", "Hackney North & Stoke Newington")
    'name:diane abbott|hackney north and stoke newington'
    """
    if member_id is not None and str(member_id).strip():
        return f"id:{str(member_id).strip()}"
    return f"name:{fold_name(name)}|{fold_label(constituency)}"


def canonical_labels(labels: Iterable[str]) -> dict[str, str]:
    """Map each label with ``?`` letters to the one other label it stands for.

    The Commons export writes ``Sinn F?in`` where the API writes ``Sinn Féin``: with
    both in the data, the first maps to the second. A label that matches no other
    label, or several, maps to itself.

    >>> canonical_labels(["Sinn F?in", "Sinn Féin", "Labour"])["Sinn F?in"]
    'Sinn Féin'
    """
    unique = sorted(set(labels))
    clean = [label for label in unique if "?" not in label]
    by_fold: dict[str, list[str]] = {}
    for label in clean:
        by_fold.setdefault(fold_label(label), []).append(label)
    out = {label: label for label in unique}
    for label in unique:
        if "?" not in label:
            continue
        found = {c for c in clean if label_matches(label, c)}
        folded = {fold_label(c) for c in found}
        if len(folded) == 1:
            out[label] = sorted(found)[0]
    return out


# --------------------------------------------------------------------------- resolver


@dataclass(frozen=True, slots=True)
class MemberMatch:
    """How one member resolved.

    Attributes
    ----------
    actor : str or None
        The roster actor, or ``None`` when unresolved.
    method : str
        ``parliament-id``, ``name+constituency``, ``name``, ``ambiguous`` or
        ``unresolved``.
    candidates : tuple of str
        The actors that matched by name (several for an ambiguous member).
    note : str
        Why a member did not resolve, in words.
    """

    actor: str | None
    method: str
    candidates: tuple[str, ...] = ()
    note: str = ""


class MemberResolver:
    """Resolve division members to the actors of ``roster`` (rules in the module doc).

    Parameters
    ----------
    roster : Roster
        The roster; its ``parliament`` external ids, names, aliases and
        ``constituency`` values are used.

    Examples
    --------
    >>> from mapper.records import Actor
    >>> roster = Roster([Actor("coffey", "Thérèse Coffey", kind="mp",
    ...                        constituency="Suffolk Coastal")])
    >>> MemberResolver(roster).resolve("Th?r?se Coffey", "Suffolk Coastal").actor
    'coffey'
    """

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self._names: dict[str, set[str]] = {}
        for actor in roster:
            for alias in (actor.name, *actor.aliases):
                for key in name_keys(alias.rstrip("!")):
                    self._names.setdefault(key, set()).add(actor.id)
        # roster names written with the export's "?" letters match as patterns too
        self._wild = [(_wildcard(k), ids) for k, ids in self._names.items() if "?" in k]
        self._cache: dict[tuple[str, str, str], MemberMatch] = {}

    def _by_name(self, name: str) -> set[str]:
        found: set[str] = set()
        keys = name_keys(name)
        if any("?" in key for key in keys):
            patterns = [_wildcard(key) for key in keys]
            for candidate, ids in self._names.items():
                if any(p.fullmatch(candidate) for p in patterns):
                    found |= ids
            return found
        for key in keys:
            found |= self._names.get(key, set())
            for pattern, ids in self._wild:
                if pattern.fullmatch(key):
                    found |= ids
        return found

    def resolve(
        self, name: str, constituency: str = "", member_id: str | None = None
    ) -> MemberMatch:
        """Resolve one member.

        Parameters
        ----------
        name : str
            The member's name as the division wrote it.
        constituency : str
            The member's seat, when known.
        member_id : str, optional
            The parliament's member id, when known.

        Returns
        -------
        MemberMatch
        """
        mid = str(member_id).strip() if member_id is not None else ""
        cache_key = (name, constituency, mid)
        found = self._cache.get(cache_key)
        if found is None:
            found = self._resolve(name, constituency, mid)
            self._cache[cache_key] = found
        return found

    def _resolve(self, name: str, constituency: str, mid: str) -> MemberMatch:
        if mid:
            actor = self.roster.by_external_id(PARLIAMENT_ID, mid)
            if actor is not None:
                return MemberMatch(actor.id, "parliament-id", (actor.id,))
        named = sorted(self._by_name(name))
        other_ids: list[str] = []
        if mid:  # an actor known under another member id is someone else
            other_ids = [
                a
                for a in named
                if self.roster.actors[a].external_ids.get(PARLIAMENT_ID, mid) != mid
            ]
            named = [a for a in named if a not in other_ids]
        if not named and other_ids:
            others = ", ".join(
                f"{a} (member id {self.roster.actors[a].external_ids[PARLIAMENT_ID]})"
                for a in other_ids
            )
            return MemberMatch(
                None,
                "unresolved",
                tuple(other_ids),
                f"the name matches {others}, for another member than id {mid}",
            )
        if not named:
            return MemberMatch(None, "unresolved", (), "no roster actor has this name")
        seat = fold_label(constituency)
        if seat:
            same = [a for a in named if self._seat_matches(constituency, a)]
            unknown = [a for a in named if not self.roster.actors[a].constituency]
            if same:
                pool, method = same, "name+constituency"
            elif unknown:
                pool, method = unknown, "name"
            else:
                others = ", ".join(f"{a} ({self.roster.actors[a].constituency})" for a in named)
                return MemberMatch(
                    None,
                    "unresolved",
                    tuple(named),
                    f"the name matches {others}, for another constituency",
                )
        else:
            pool, method = named, "name"
        if len(pool) == 1:
            return MemberMatch(pool[0], method, tuple(named))
        return MemberMatch(
            None,
            "ambiguous",
            tuple(pool),
            f"{len(pool)} roster actors match: " + "|".join(pool),
        )

    def _seat_matches(self, constituency: str, actor_id: str) -> bool:
        seat = self.roster.actors[actor_id].constituency
        return bool(seat) and (
            label_matches(constituency, seat) or label_matches(seat, constituency)
        )


@dataclass
class MemberResolution:
    """The members of many divisions, resolved.

    Attributes
    ----------
    actors : dict
        Member key -> roster actor id, for the members that resolved.
    matches : dict
        Member key -> :class:`MemberMatch`, for every member.
    report : ResolutionReport
        What did not resolve (categories ``member`` and ``name``), counted in
        divisions, with example division uids.
    """

    actors: dict[str, str]
    matches: dict[str, MemberMatch]
    report: ResolutionReport

    @property
    def unresolved(self) -> list[str]:
        """Keys of the members no actor was found for (ambiguous ones included)."""
        return sorted(k for k, m in self.matches.items() if m.actor is None)


def resolve_members(
    members: Iterable[tuple[str, str, str, str | None, str]],
    roster: Roster | None,
    *,
    max_examples: int = 3,
) -> MemberResolution:
    """Resolve many members.

    Parameters
    ----------
    members : iterable of (key, name, constituency, member_id, division)
        One tuple per vote (or per member and division): the member's key (as in
        :func:`member_key` or a frame's ``member`` column), what the division says
        about the member, and the division's uid (counted in the report).
    roster : Roster or None
        Without a roster every member stays unresolved and nothing is reported.
    max_examples : int
        Division uids kept per report entry.

    Returns
    -------
    MemberResolution
    """
    report = ResolutionReport(max_examples=max_examples)
    matches: dict[str, MemberMatch] = {}
    resolver = MemberResolver(roster) if roster is not None else None
    seen: set[tuple[str, str]] = set()
    for key, name, constituency, member_id, division in members:
        match = matches.get(key)
        if match is None:
            if resolver is None:
                match = MemberMatch(None, "unresolved", (), "no roster")
            else:
                match = resolver.resolve(name, constituency, member_id)
            matches[key] = match
        if resolver is None or match.actor is not None or (key, division) in seen:
            continue
        seen.add((key, division))
        shown = f"{name} ({constituency})" if constituency else name
        category = "name" if match.method == "ambiguous" else "member"
        report.add(category, shown, division, platform=PARLIAMENT_ID, note=match.note)
    actors = {k: m.actor for k, m in matches.items() if m.actor is not None}
    return MemberResolution(actors=actors, matches=matches, report=report)


# --------------------------------------------------------------------------- across divisions


class MemberIndex:
    """One key per member across divisions and formats, and the actor it resolves to.

    The same MP can come keyed by member id (the API's JSON) in one division and by
    name and constituency (the CSV export) in another, with ``?`` letters in one and
    accents in the other. The index gives every (house, in-division key) one
    *canonical* member key, ``<house>:<key>``:

    - a key with a member id stays as it is (``commons:id:172``);
    - a name key takes the member id that the same folded name and constituency
      carry elsewhere in the data, when exactly one id does; with ``?`` letters, the
      names and constituencies that match them with ``?`` as a wildcard count;
    - a name key with ``?`` letters otherwise takes the one name key without them that
      it matches, when there is exactly one;
    - anything else stays ``<house>:name:<folded name>|<folded constituency>``.

    Party and constituency labels written with ``?`` are mapped the same way to the one
    label they stand for (:func:`canonical_labels`). Each canonical member is resolved
    once against the roster (:func:`resolve_members`), with the fullest name seen
    (one without ``?``, from a source with member ids, first).

    Parameters
    ----------
    votes : iterable of (house, key, name, constituency, member_id, party, division)
        One tuple per vote.
    roster : Roster, optional
        Without one, no member resolves.
    """

    def __init__(
        self,
        votes: Iterable[tuple[str, str, str, str, str | None, str, str]],
        roster: Roster | None = None,
    ) -> None:
        rows = list(votes)
        self._ids: dict[tuple[str, str, str], set[str]] = {}
        names: set[tuple[str, str, str]] = set()
        for house, key, name, seat, member_id, _party, _division in rows:
            folded = (house, fold_name(name), fold_label(seat))
            if member_id:
                self._ids.setdefault(folded, set()).add(str(member_id))
            elif key.startswith("name:"):
                names.add(folded)
        self._names = names
        self._members: dict[tuple[str, str], str] = {}
        best: dict[str, tuple[tuple[int, int], str, str, str | None]] = {}
        uses: list[tuple[str, str, str, str | None, str]] = []
        for house, key, name, seat, member_id, _party, division in rows:
            canonical = self.member(house, key, name, seat)
            rank = (int("?" in name), int(member_id is None))
            if canonical not in best or rank < best[canonical][0]:
                best[canonical] = (rank, name, seat, member_id)
            uses.append((canonical, name, seat, member_id, division))
        self.parties = canonical_labels({row[5] for row in rows})
        self.seats = canonical_labels({row[3] for row in rows})
        self.resolution = resolve_members(
            (
                (canonical, best[canonical][1], best[canonical][2], best[canonical][3], division)
                for canonical, _name, _seat, _mid, division in uses
            ),
            roster,
        )

    def member(self, house: str, key: str, name: str = "", constituency: str = "") -> str:
        """The canonical key of the member keyed ``key`` in a division of ``house``."""
        cached = self._members.get((house, key))
        if cached is not None:
            return cached
        canonical = f"{house}:{key}"
        if key.startswith("name:"):
            folded_name, _, folded_seat = key[5:].partition("|")
            if not folded_name and name:
                folded_name, folded_seat = fold_name(name), fold_label(constituency)
            ids = set(self._ids.get((house, folded_name, folded_seat), ()))
            wild = "?" in folded_name or "?" in folded_seat
            plain: set[tuple[str, str, str]] = set()
            if wild:
                name_p, seat_p = _wildcard(folded_name), _wildcard(folded_seat)
                for candidate in (*self._ids, *self._names):
                    h, n, s = candidate
                    if h != house or "?" in n or "?" in s:
                        continue
                    if name_p.fullmatch(n) and seat_p.fullmatch(s):
                        ids |= self._ids.get(candidate, set())
                        if candidate in self._names:
                            plain.add(candidate)
            if len(ids) == 1:
                canonical = f"{house}:id:{next(iter(ids))}"
            elif not ids and len(plain) == 1:
                _h, n, s = next(iter(plain))
                canonical = f"{house}:name:{n}|{s}"
        self._members[(house, key)] = canonical
        return canonical

    def actor(self, member: str) -> str | None:
        """The roster actor of a canonical member, or ``None``."""
        return self.resolution.actors.get(member)

    def party(self, label: str) -> str:
        """A party label with ``?`` letters mapped to the one it stands for."""
        return self.parties.get(label, label)

    def seat(self, label: str) -> str:
        """A constituency with ``?`` letters mapped to the one it stands for."""
        return self.seats.get(label, label)

    @classmethod
    def from_divisions(cls, divisions: Iterable[Any], roster: Roster | None = None) -> MemberIndex:
        """Build the index from :class:`~mapper.records.Division` records."""
        return cls(
            (
                (d.house, v.member, v.name, v.constituency, v.member_id, v.party, d.uid)
                for d in divisions
                for v in d.votes
            ),
            roster,
        )
