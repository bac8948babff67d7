"""The roster: who the actors are, how to recognize them, and the issues they argue about.

A roster is a file the user keeps under version control, in CSV (``.csv``, or
``.tsv`` tab-separated) or YAML (``.yaml``/``.yml``). :func:`load_roster` reads it into
a :class:`Roster` with fast lookups by handle, URL, external id and name;
:func:`validate_roster` returns every problem in it (file, line, field, what to do)
so ``mapper check`` can list them all; :func:`write_roster_csv` writes actors back
(roster curation).

CSV layout: one actor per row; the header (line 1) must have ``id`` and ``name``.
Other columns: ``kind`` (one of :data:`~mapper.records.ACTOR_KINDS`, default
``other``), ``party``, ``faction`` (a declared faction hint), ``constituency`` (the
seat an MP sits for: division members are matched by name and constituency),
``aliases`` (separated
by ``;`` or ``|``; the actor's name is always matched in text, a single-word alias
only next to a fuller name unless it ends with ``!``, see
:mod:`mapper.resolve.names`), handles ``x``, ``bluesky``, ``mastodon`` (several
separated by ``;``; a leading ``@`` is dropped; Mastodon as
``user@instance``; profile URLs are accepted too), ``domains`` (domains or URL
prefixes such as ``example.org/blog``, separated by ``;``), ``issues`` (issue ids the
actor is known for) and external ids: ``wikidata``, ``parliament`` and any
``id_<name>`` column (stored under ``<name>``; ``id_x`` holds the numeric X user id,
``id_bluesky`` the DID). Synonyms accepted: ``twitter`` for ``x``, ``bsky`` for
``bluesky``, ``domain``/``website`` for ``domains``, ``alias`` for ``aliases``,
``x_id``/``twitter_id`` for ``id_x``, ``bluesky_did`` for ``id_bluesky``,
``parliament_id``/``mnis_id`` for ``parliament`` (the member id of the UK
Parliament's APIs, the Commons Votes ``MemberId``), ``seat`` for ``constituency``. Columns
``notes``, ``note``, ``comment``, ``comments``, ``description`` and ``source`` are
ignored; any other column is reported as a warning and ignored. A line whose first
cell starts with ``#`` is a comment (line numbers still count it).

Issues in CSV: rows whose kind is ``issue`` (with ``id``, ``name`` and ``aliases``;
the other columns stay empty) and, when it exists, the file ``issues.csv`` beside
the roster (columns ``id``, ``name``, ``aliases``; its problems name that file).

YAML layout: a mapping with an ``actors:`` list and an optional ``issues:`` list.
Each actor is a mapping with the same fields as the CSV columns; lists may be YAML
lists or ``;``-separated strings; handles may also be nested under ``handles:`` and
external ids under ``external_ids:``::

    actors:
      - id: owen-jones
        name: Owen Jones
        kind: commentator
        aliases: [Jones]
        handles: {x: OwenJones84}
    issues:
      - id: progressive-alliance
        name: progressive alliance
        aliases: [progressive alliances]

Problems are errors (the roster cannot be used) or warnings (something was ignored).
Line numbers are those a text editor shows: in CSV the header is line 1 and a row's
line is where it starts; in YAML the line of the entry or of the offending key.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from mapper.csvrecords import Record, Records, TextLines
from mapper.errors import RosterError
from mapper.fsutil import atomic_open
from mapper.records import ACTOR_KINDS, PROVISIONAL_KIND, Actor
from mapper.resolve.names import NameMatcher, alias_text, fold
from mapper.resolve.urls import PrefixIndex, prefix_key, profile_handle

__all__ = [
    "HANDLE_PLATFORMS",
    "ISSUES_FILE",
    "ISSUE_KIND",
    "Issue",
    "Roster",
    "RosterProblem",
    "canonical_platform",
    "clean_handle",
    "handle_key",
    "load_roster",
    "validate_roster",
    "write_roster_csv",
]

#: Platforms on which the roster lists handles.
HANDLE_PLATFORMS: tuple[str, ...] = ("x", "bluesky", "mastodon")
#: The ``kind`` of CSV rows that declare an issue rather than an actor.
ISSUE_KIND = "issue"
#: Platforms whose posts are web pages (resolved by URL, not handle).
WEB_PLATFORMS: frozenset[str] = frozenset({"web", "feed", "rss", "atom", "blog"})

_PLATFORM_SYNONYMS = {"twitter": "x", "bsky": "bluesky"}
_SYNONYMS = {
    "twitter": "x",
    "bsky": "bluesky",
    "domain": "domains",
    "website": "domains",
    "alias": "aliases",
    "issue": "issues",
    "x_id": "id_x",
    "twitter_id": "id_x",
    "bluesky_did": "id_bluesky",
    "external_id": "external_ids",
    "ids": "external_ids",
    "parliament_id": "parliament",
    "mnis_id": "parliament",
    "seat": "constituency",
}
_IGNORED = frozenset({"notes", "note", "comment", "comments", "description", "source"})
_SCALAR_FIELDS = ("id", "name", "kind", "party", "faction", "constituency")
_LIST_FIELDS = ("aliases", "domains", "issues", *HANDLE_PLATFORMS)
_EXTERNAL_PLAIN = ("wikidata", "parliament")
_KNOWN = frozenset((*_SCALAR_FIELDS, *_LIST_FIELDS, *_EXTERNAL_PLAIN))
_REQUIRED = ("id", "name")
_ALIAS_SEPS = re.compile(r"[;|]")
_HANDLE_SEPS = re.compile(r"[;|,\s]+")
_DOMAIN_SEPS = re.compile(r"[;|\s]+")
_ISSUE_SEPS = re.compile(r"[;|,]")
_X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,50}$")
_BSKY_HANDLE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9-]+$")
_DID = re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]+$")
_MASTODON_HANDLE = re.compile(r"^[A-Za-z0-9_.-]+@[^\s@/]+\.[^\s@/]+$")
_EXTERNAL_KEY = re.compile(r"^[a-z0-9_]+$")

#: The longest value each field may hold, in characters (one alias, handle, domain or
#: issue of a list); ``id_<name>`` columns and ``wikidata``/``parliament`` take
#: :data:`MAX_EXTERNAL_ID_CHARS`. Longer values are errors: they are not names, and
#: the name matcher must never see them.
MAX_FIELD_CHARS: dict[str, int] = {
    "id": 200,
    "name": 300,
    "kind": 50,
    "party": 200,
    "faction": 200,
    "aliases": 300,
    "x": 100,
    "bluesky": 300,
    "mastodon": 300,
    "domains": 2000,
    "issues": 200,
}
MAX_EXTERNAL_ID_CHARS = 300
#: The longest cell (a whole list of aliases, handles or domains), in characters.
MAX_CELL_CHARS = 20_000
#: The longest CSV record of a roster, in characters.
MAX_ROSTER_RECORD_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class Issue:
    """A topic actors argue about ("progressive alliance"), found in text by its name
    and aliases."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RosterProblem:
    """One problem in a roster file.

    Attributes
    ----------
    source : str
        The roster file.
    line : int or None
        The line as a text editor numbers it (CSV header = 1).
    field : str or None
        The column or key at fault.
    message : str
        What is wrong.
    hint : str or None
        What to do about it.
    severity : str
        ``"error"`` (the roster cannot be loaded) or ``"warning"`` (ignored input).
    """

    source: str
    line: int | None
    field: str | None
    message: str
    hint: str | None = None
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        """Whether this problem prevents loading the roster."""
        return self.severity == "error"

    def to_error(self) -> RosterError:
        """Return the :class:`~mapper.errors.RosterError` describing this problem."""
        return RosterError(
            self.message, source=self.source, line=self.line, field=self.field, hint=self.hint
        )

    def one_line(self) -> str:
        """``file:line: field: message (hint)``, prefixed ``warning:`` for warnings."""
        text = self.to_error().one_line()
        return text if self.is_error else f"warning: {text}"


def canonical_platform(platform: str) -> str:
    """Return the canonical platform name (``twitter`` -> ``x``, lowercased)."""
    name = platform.strip().lower()
    return _PLATFORM_SYNONYMS.get(name, name)


def clean_handle(platform: str, raw: str) -> str | None:
    """Return the handle written in ``raw`` in its display form, or ``None`` if invalid.

    The leading ``@`` is removed and a profile URL is reduced to its handle; the case
    is kept. X handles are letters, digits and ``_``; Bluesky handles are domain names
    or DIDs; Mastodon handles are ``user@instance``.

    >>> clean_handle("x", "@OwenJones84")
    'OwenJones84'
    >>> clean_handle("mastodon", "https://mastodon.social/@someone")
    'someone@mastodon.social'
    >>> clean_handle("x", "not a handle") is None
    True
    """
    platform = canonical_platform(platform)
    value = raw.strip()
    if not value:
        return None
    if "/" in value:
        found = profile_handle(value)
        if found is None or found[0] != platform:
            return None
        value = found[1]
    value = value.removeprefix("@")
    if platform == "x":
        valid = bool(_X_HANDLE.match(value))
    elif platform == "bluesky":
        valid = bool(_DID.match(value) or _BSKY_HANDLE.match(value))
    elif platform == "mastodon":
        valid = bool(_MASTODON_HANDLE.match(value))
    else:
        valid = bool(value) and not any(c.isspace() for c in value)
    return value if valid else None


def handle_key(platform: str, handle: str) -> str:
    """Return the lookup key of a handle: without ``@``, lowercased (never fails).

    Profile URLs are reduced to their handle. Unlike :func:`clean_handle` this does
    not validate, so any handle found in data gets a stable key.

    >>> handle_key("x", "@OwenJones84")
    'owenjones84'
    """
    value = handle.strip()
    if "/" in value:
        found = profile_handle(value)
        if found is not None:
            value = found[1]
    return value.removeprefix("@").lower()


class Roster:
    """The actors and issues of a roster, with lookups.

    Parameters
    ----------
    actors : mapping of id to Actor, or iterable of Actor
        The actors.
    issues : iterable of Issue, optional
        The issues.
    path : str or Path, optional
        The file the roster came from.

    Raises
    ------
    RosterError
        If two actors share an id, a handle, a domain or an external id (files are
        checked with :func:`validate_roster` first, which reports these with lines).

    Notes
    -----
    Handle, id and external-id lookups are dictionary lookups; URL lookups use a
    :class:`~mapper.resolve.urls.PrefixIndex` (longest prefix on segment boundaries).
    """

    def __init__(
        self,
        actors: Mapping[str, Actor] | Iterable[Actor],
        issues: Iterable[Issue] = (),
        *,
        path: str | Path | None = None,
    ) -> None:
        items = list(actors.values()) if isinstance(actors, Mapping) else list(actors)
        self.path = Path(path) if path is not None else None
        self.actors: dict[str, Actor] = {}
        self.issues: list[Issue] = list(issues)
        self.prefixes = PrefixIndex()
        self._handles: dict[tuple[str, str], str] = {}
        self._any_handle: dict[str, str] = {}
        self._external: dict[tuple[str, str], str] = {}
        self._folded_ids: dict[str, str] = {}
        source = str(path) if path is not None else None
        for actor in items:
            if actor.id in self.actors:
                raise RosterError(f"duplicate actor id {actor.id!r}", source=source, field="id")
            self.actors[actor.id] = actor
            self._folded_ids.setdefault(actor.id.casefold(), actor.id)
            for platform, handles in actor.handles.items():
                platform = canonical_platform(platform)
                for handle in handles:
                    key = (platform, handle_key(platform, handle))
                    owner = self._handles.setdefault(key, actor.id)
                    if owner != actor.id:
                        raise RosterError(
                            f"handle @{handle} on {platform} is claimed by both {owner!r} "
                            f"and {actor.id!r}",
                            source=source,
                            field=platform,
                        )
                    self._any_handle.setdefault(key[1], actor.id)
            for domain in actor.domains:
                try:
                    self.prefixes.add(domain, actor.id)
                except ValueError as exc:
                    raise RosterError(
                        f"actor {actor.id!r}: {exc}", source=source, field="domains"
                    ) from None
            for id_name, value in actor.external_ids.items():
                owner = self._external.setdefault((id_name, str(value)), actor.id)
                if owner != actor.id:
                    raise RosterError(
                        f"external id {id_name}={value} is claimed by both {owner!r} "
                        f"and {actor.id!r}",
                        source=source,
                        field=id_name,
                    )

    def __len__(self) -> int:
        return len(self.actors)

    def __iter__(self) -> Iterator[Actor]:
        return iter(self.actors.values())

    def __contains__(self, actor_id: object) -> bool:
        return actor_id in self.actors

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        return f"<Roster{where}: {len(self.actors)} actors, {len(self.issues)} issues>"

    def by_id(self, key: str) -> Actor | None:
        """Return the actor whose id is ``key`` (exactly, else case-insensitively)."""
        actor = self.actors.get(key)
        if actor is None:
            real = self._folded_ids.get(key.strip().casefold())
            actor = self.actors.get(real) if real is not None else None
        return actor

    def by_handle(self, platform: str, handle: str) -> Actor | None:
        """Return the actor with ``handle`` on ``platform`` (case-insensitive, ``@`` optional).

        Parameters
        ----------
        platform : str
            ``x`` (or ``twitter``), ``bluesky``, ``mastodon``; ``table`` accepts an
            actor id or a handle on any platform; web platforms (``web``, ``feed``,
            ``rss``) look ``handle`` up as a URL.
        handle : str
            The handle, with or without ``@``, or a profile URL.
        """
        platform = canonical_platform(platform)
        if platform == "table":
            return self.by_key(handle)
        if platform in WEB_PLATFORMS:
            return self.by_url(handle)
        actor_id = self._handles.get((platform, handle_key(platform, handle)))
        return self.actors[actor_id] if actor_id is not None else None

    def by_key(self, key: str) -> Actor | None:
        """Return the actor whose id, or whose handle on any platform, is ``key``."""
        actor = self.by_id(key)
        if actor is not None:
            return actor
        actor_id = self._any_handle.get(handle_key("", key))
        return self.actors[actor_id] if actor_id is not None else None

    def by_external_id(self, key: str, value: str) -> Actor | None:
        """Return the actor whose external id ``key`` (``x``, ``wikidata``...) is ``value``."""
        actor_id = self._external.get((canonical_platform(key), str(value).strip()))
        return self.actors[actor_id] if actor_id is not None else None

    def by_url(self, url: str) -> Actor | None:
        """Return the owner of ``url``: a social profile's account, else the actor with
        the longest domain or URL prefix covering it."""
        found = profile_handle(url)
        if found is not None:
            actor_id = self._handles.get((found[0], handle_key(found[0], found[1])))
            if actor_id is not None:
                return self.actors[actor_id]
        actor_id = self.prefixes.lookup(url)
        return self.actors[actor_id] if actor_id is not None else None

    def by_name(self, name: str) -> Actor | None:
        """Return the one actor whose name or alias is exactly ``name`` (after folding);
        ``None`` if none or several."""
        ids = self._names.get(fold(alias_text(name)[0]))
        if ids is None or len(ids) != 1:
            return None
        return self.actors[next(iter(ids))]

    @cached_property
    def _names(self) -> dict[str, set[str]]:
        names: dict[str, set[str]] = {}
        for actor in self.actors.values():
            for alias in (actor.name, *actor.aliases):
                key = fold(alias_text(alias)[0])
                if key:
                    names.setdefault(key, set()).add(actor.id)
        return names

    @cached_property
    def name_matcher(self) -> NameMatcher:
        """A :class:`~mapper.resolve.names.NameMatcher` over every actor's name and aliases."""
        # An actor's own name counts on its own even when it is one word ("Compass").
        return NameMatcher.from_actors(
            {
                a.id: [a.name if " " in a.name.strip() else a.name + "!", *a.aliases]
                for a in self.actors.values()
            }
        )

    @cached_property
    def issue_matcher(self) -> NameMatcher:
        """A :class:`~mapper.resolve.names.NameMatcher` over issue names and aliases
        (no surname rule: every keyword counts on its own)."""
        return NameMatcher.from_actors(
            {issue.id: [issue.name, *issue.aliases] for issue in self.issues},
            require_full_name=False,
        )


# --------------------------------------------------------------------------- reading


@dataclass
class _Entry:
    line: int
    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.line)


class _LineList(list[Any]):
    """A YAML sequence that remembers the line of each item."""

    lines: list[int]


_LINE = object()
_KEY_LINES = object()


class _LineLoader(yaml.SafeLoader):
    """A safe YAML loader that records lines of mappings, their keys and list items."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[_LINE] = node.start_mark.line + 1
        mapping[_KEY_LINES] = {
            str(key.value): key.start_mark.line + 1
            for key, _value in node.value
            if isinstance(key, yaml.ScalarNode)
        }
        return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[_LineList]:
    data = _LineList()
    data.lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_sequence(node))


_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def _split(lines: list[str], delimiter: str) -> list[list[str]]:
    """The rows of one record. A cell longer than the csv module's limit is read whole
    (a roster line is at most a few megabytes), so that the field check names it."""
    size = sum(len(line) for line in lines)
    limit = csv.field_size_limit()
    if size <= limit:
        return list(csv.reader(lines, delimiter=delimiter))
    csv.field_size_limit(size + 1)
    try:
        return list(csv.reader(lines, delimiter=delimiter))
    finally:
        csv.field_size_limit(limit)


def _shown(value: Any, width: int = 60) -> str:
    """``repr(value)`` cut to about ``width`` characters, for messages."""
    text = str(value)
    if len(text) <= width:
        return repr(text)
    return repr(text[:width]) + f"… ({len(text):,} characters)"


def _canonical_field(name: str) -> str:
    name = name.strip().lower().replace("-", "_").replace(" ", "_")
    return _SYNONYMS.get(name, name)


def _blank(value: Any) -> bool:
    """Whether a field is absent (as opposed to present with the wrong type)."""
    return value is None or (isinstance(value, str) and not value.strip())


def _is_external(name: str) -> bool:
    return name in _EXTERNAL_PLAIN or (name.startswith("id_") and len(name) > 3)


class _Reader:
    """Collects problems while turning a roster file into actors and issues."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[RosterProblem] = []
        self.actors: dict[str, Actor] = {}
        self.issues: dict[str, Issue] = {}
        self._actor_lines: dict[str, int] = {}
        self._issue_lines: dict[str, int] = {}
        self._handles: dict[tuple[str, str], tuple[str, int]] = {}
        self._domains: dict[str, tuple[str, int]] = {}
        self._external: dict[tuple[str, str], tuple[str, int]] = {}
        self._issue_refs: list[tuple[str, int, tuple[str, ...]]] = []

    def problem(
        self,
        line: int | None,
        field_name: str | None,
        message: str,
        hint: str | None = None,
        *,
        warning: bool = False,
    ) -> None:
        if field_name is not None and len(field_name) > 80:  # a column name is any text
            field_name = field_name[:80] + "…"
        self.problems.append(
            RosterProblem(
                self.source, line, field_name, message, hint, "warning" if warning else "error"
            )
        )

    # -- values ---------------------------------------------------------------

    def text(self, entry: _Entry, name: str) -> str:
        value = entry.values.get(name)
        if value is None:
            return ""
        if isinstance(value, bool):
            self.problem(
                entry.line_of(name),
                name,
                f"expected text, got the YAML boolean {value}",
                "put the value in quotes",
            )
            return ""
        if isinstance(value, str | int | float):
            text = str(value).strip()
            return text if self.fits(entry, name, text) else ""
        self.problem(entry.line_of(name), name, f"expected text, got a {type(value).__name__}")
        return ""

    def fits(self, entry: _Entry, name: str, text: str, *, unit: str = "") -> bool:
        """Whether ``text`` is short enough for field ``name`` (``unit``: ``"cell"``
        for a whole list, ``"item"`` for one of its items); records the problem if not."""
        if unit == "cell":
            limit, what = MAX_CELL_CHARS, f"{name} is"
        else:
            limit = MAX_FIELD_CHARS.get(name, MAX_EXTERNAL_ID_CHARS)
            what = f"an item of {name} is" if unit == "item" else f"{name} is"
        if len(text) <= limit:
            return True
        self.problem(
            entry.line_of(name),
            name,
            f"{what} {len(text):,} characters long (at most {limit:,}): {_shown(text)}",
            "names, aliases, handles and ids are short texts: check this value",
        )
        return False

    def items(self, entry: _Entry, name: str, separators: re.Pattern[str]) -> list[str]:
        value = entry.values.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            if not self.fits(entry, name, value, unit="cell"):
                return []
            parts = separators.split(value)
        elif isinstance(value, list):
            parts = []
            for item in value:
                if isinstance(item, str | int | float) and not isinstance(item, bool):
                    parts.append(str(item))
                else:
                    self.problem(
                        entry.line_of(name),
                        name,
                        f"expected a list of texts, found a {type(item).__name__}",
                    )
        elif isinstance(value, int | float) and not isinstance(value, bool):
            parts = [str(value)]
        else:
            self.problem(
                entry.line_of(name),
                name,
                f"expected a list or a text separated by ';', got a {type(value).__name__}",
            )
            return []
        seen: list[str] = []
        for part in parts:
            part = part.strip()
            if part and part not in seen and self.fits(entry, name, part, unit="item"):
                seen.append(part)
        return seen

    # -- entries ----------------------------------------------------------------

    def add(self, entry: _Entry, *, issue: bool = False) -> None:
        actor_id = self.text(entry, "id")
        name = self.text(entry, "name")
        kind = self.text(entry, "kind").lower() or ("issue" if issue else "other")
        what = "issue" if kind == ISSUE_KIND else "actor"
        if not actor_id and _blank(entry.values.get("id")):
            self.problem(
                entry.line_of("id"),
                "id",
                f"missing id for this {what}",
                "give every row a unique id such as 'owen-jones'",
            )
        if not name and _blank(entry.values.get("name")):
            self.problem(
                entry.line_of("name"),
                "name",
                f"missing name for {what} {actor_id!r}" if actor_id else f"missing name for {what}",
                "give the display name, e.g. 'Owen Jones'",
            )
        if kind == ISSUE_KIND:
            self._add_issue(entry, actor_id, name)
            return
        if issue:
            self.problem(entry.line_of("kind"), "kind", f"an issue cannot have kind {kind!r}", None)
            return
        if kind == PROVISIONAL_KIND:
            self.problem(
                entry.line_of("kind"),
                "kind",
                f"kind {kind!r} is reserved for provisional actors",
                "use one of: " + ", ".join(ACTOR_KINDS),
            )
        elif kind not in ACTOR_KINDS:
            self.problem(
                entry.line_of("kind"),
                "kind",
                f"unknown kind {kind!r}",
                "use one of: " + ", ".join((*ACTOR_KINDS, ISSUE_KIND)),
            )
        if not actor_id:
            return
        if actor_id in self.actors:
            self.problem(
                entry.line_of("id"),
                "id",
                f"duplicate id {actor_id!r} (first used on line {self._actor_lines[actor_id]})",
                "ids must be unique; merge the two rows or rename one",
            )
            return
        self._actor_lines[actor_id] = entry.line
        handles: dict[str, tuple[str, ...]] = {}
        for platform in HANDLE_PLATFORMS:
            found = self._handles_of(entry, actor_id, platform)
            if found:
                handles[platform] = found
        external = self._external_ids(entry, actor_id)
        issues = tuple(self.items(entry, "issues", _ISSUE_SEPS))
        if issues:
            self._issue_refs.append((actor_id, entry.line_of("issues"), issues))
        self.actors[actor_id] = Actor(
            id=actor_id,
            name=name or actor_id,
            kind=kind if kind in ACTOR_KINDS else "other",
            party=self.text(entry, "party"),
            faction=self.text(entry, "faction"),
            constituency=self.text(entry, "constituency"),
            aliases=tuple(self.items(entry, "aliases", _ALIAS_SEPS)),
            handles=handles,
            domains=self._domains_of(entry, actor_id),
            external_ids=external,
            issues=issues,
        )

    def _handles_of(self, entry: _Entry, actor_id: str, platform: str) -> tuple[str, ...]:
        line = entry.line_of(platform)
        result: list[str] = []
        for raw in self.items(entry, platform, _HANDLE_SEPS):
            handle = clean_handle(platform, raw)
            if handle is None:
                hints = {
                    "x": "X handles are letters, digits and '_', e.g. @OwenJones84",
                    "bluesky": "Bluesky handles look like name.bsky.social or did:plc:...",
                    "mastodon": "Mastodon handles need the instance: user@instance.social",
                }
                self.problem(line, platform, f"invalid {platform} handle {raw!r}", hints[platform])
                continue
            key = (platform, handle.lower())
            owner = self._handles.get(key)
            if owner is not None and owner[0] != actor_id:
                self.problem(
                    line,
                    platform,
                    f"handle @{handle} on {platform} is claimed by both {owner[0]!r} "
                    f"(line {owner[1]}) and {actor_id!r}",
                    "a handle belongs to one actor; remove it from one of them",
                )
                continue
            self._handles[key] = (actor_id, line)
            if handle.lower() not in (h.lower() for h in result):
                result.append(handle)
        return tuple(result)

    def _domains_of(self, entry: _Entry, actor_id: str) -> tuple[str, ...]:
        line = entry.line_of("domains")
        result: list[str] = []
        for raw in self.items(entry, "domains", _DOMAIN_SEPS):
            key = prefix_key(raw)
            if key is None:
                self.problem(
                    line,
                    "domains",
                    f"not a domain or URL prefix: {raw!r}",
                    "write a domain or prefix such as example.org or example.org/blog",
                )
                continue
            owner = self._domains.get(key)
            if owner is not None and owner[0] != actor_id:
                self.problem(
                    line,
                    "domains",
                    f"domain {key} is claimed by both {owner[0]!r} (line {owner[1]}) "
                    f"and {actor_id!r}",
                    "a domain or prefix belongs to one actor; use a longer prefix for one",
                )
                continue
            self._domains[key] = (actor_id, line)
            if key not in result:
                result.append(key)
        return tuple(result)

    def _external_ids(self, entry: _Entry, actor_id: str) -> dict[str, str]:
        result: dict[str, str] = {}
        for name in entry.values:
            if not _is_external(name):
                continue
            key = canonical_platform(name[3:] if name.startswith("id_") else name)
            value = self.text(entry, name)
            if not value:
                continue
            owner = self._external.get((key, value))
            if owner is not None and owner[0] != actor_id:
                self.problem(
                    entry.line_of(name),
                    name,
                    f"{key} id {value} is claimed by both {owner[0]!r} (line {owner[1]}) "
                    f"and {actor_id!r}",
                    "an external id belongs to one actor",
                )
                continue
            self._external[(key, value)] = (actor_id, entry.line_of(name))
            result[key] = value
        return result

    def _add_issue(self, entry: _Entry, issue_id: str, name: str) -> None:
        for other in (*HANDLE_PLATFORMS, "domains", "party", "faction", "constituency", "issues"):
            if entry.values.get(other) not in (None, "", []):
                self.problem(
                    entry.line_of(other),
                    other,
                    f"ignored for issue {issue_id!r}",
                    "issues have only id, name and aliases",
                    warning=True,
                )
        if not issue_id:
            return
        if issue_id in self.issues:
            self.problem(
                entry.line_of("id"),
                "id",
                f"duplicate issue id {issue_id!r} (first used on line "
                f"{self._issue_lines[issue_id]})",
                "issue ids must be unique",
            )
            return
        self._issue_lines[issue_id] = entry.line
        self.issues[issue_id] = Issue(
            issue_id, name or issue_id, tuple(self.items(entry, "aliases", _ALIAS_SEPS))
        )

    def finish(self) -> None:
        for actor_id, line, issue_ids in self._issue_refs:
            for issue_id in issue_ids:
                if issue_id not in self.issues:
                    self.problem(
                        line,
                        "issues",
                        f"actor {actor_id!r} refers to unknown issue {issue_id!r}",
                        "declare it: a row of kind 'issue', a row of issues.csv, or "
                        "an entry under 'issues:' in YAML",
                        warning=True,
                    )
        if not self.actors and not any(p.is_error for p in self.problems):
            self.problem(
                1,
                None,
                "the roster lists no actors yet: every account becomes a provisional actor",
                "add one actor per row (`mapper roster suggest` lists the most frequent)",
                warning=True,
            )

    # -- formats --------------------------------------------------------------

    def read_csv(self, text: str, delimiter: str, *, issues: bool = False) -> None:
        records = Records(TextLines(text), delimiter, max_chars=MAX_ROSTER_RECORD_CHARS)
        header: list[str | None] | None = None
        for record in records:
            if record.problem:
                self.problem(
                    record.first,
                    None,
                    record.problem,
                    "close the quote or remove it; the rows after it are read on their own",
                )
                continue
            try:
                rows = _split(record.lines, delimiter)
            except csv.Error as exc:
                self.problem(record.first, None, f"unreadable CSV: {exc}")
                continue
            for row in rows:
                line = record.first
                if not any(cell.strip() for cell in row):
                    continue
                if row[0].lstrip().startswith("#"):
                    continue  # a comment line
                if header is None:
                    if record.multiline:
                        self.problem(
                            line,
                            None,
                            f"the header runs over lines {line}-{record.last}: "
                            "a quote is left open",
                            "the first line must name the columns, at least: id, name",
                        )
                        return
                    header = self._csv_header(row, line)
                    if header is None:
                        return
                    continue
                spanning = self._spanning(record, row, header)
                if spanning is not None:
                    records.reread_after(record)
                    self.problem(
                        line,
                        spanning,
                        f"unterminated quote: the quoted cell opened on line {line} runs "
                        f"over lines {line}-{record.last} into the {spanning!r} column",
                        "close the quote or remove it; the rows after it are read on their own",
                    )
                    break
                if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
                    self.problem(
                        line,
                        None,
                        f"this row has {len(row)} cells but the header has {len(header)}",
                        "quote cells that contain the delimiter",
                    )
                values = {
                    name: row[i] if i < len(row) else ""
                    for i, name in enumerate(header)
                    if name is not None
                }
                self.add(_Entry(line, values), issue=issues)
        if header is None and not issues:
            self.problem(1, None, "the roster is empty", "the first line must be a header")

    @staticmethod
    def _spanning(record: Record, row: list[str], header: list[str | None]) -> str | None:
        """The column whose cell spans lines in a multi-line record, among those that
        never hold a line break (ids, names, kinds, parties, factions, external ids;
        lists may be written one item a line), else ``None``."""
        if not record.multiline:
            return None
        for index, name in enumerate(header):
            if name is None or index >= len(row):
                continue
            if name not in _SCALAR_FIELDS and not _is_external(name):
                continue
            if "\n" in row[index] or "\r" in row[index]:
                return name
        return None

    def _csv_header(self, row: list[str], line: int) -> list[str | None] | None:
        names: list[str | None] = []
        seen: set[str] = set()
        for cell in row:
            raw = cell.strip().lstrip("\ufeff")
            name = _canonical_field(raw) if raw else ""
            if not name or name in _IGNORED:
                names.append(None)
                continue
            if name not in _KNOWN and not _is_external(name):
                self.problem(
                    line,
                    raw,
                    f"unknown column {_shown(raw)} (ignored)",
                    "known columns: " + ", ".join(sorted(_KNOWN)) + ", id_<name>",
                    warning=True,
                )
                names.append(None)
                continue
            if name in seen:
                self.problem(line, raw, f"column {_shown(raw)} appears twice", "keep one")
                names.append(None)
                continue
            seen.add(name)
            names.append(name)
        missing = [name for name in _REQUIRED if name not in seen]
        for name in missing:
            self.problem(
                line,
                name,
                f"the header has no {name!r} column",
                "the first line must name the columns, at least: id, name "
                f"(found: {', '.join(c.strip() for c in row) or 'nothing'})",
            )
        return None if missing else names

    def read_yaml(self, text: str) -> None:
        try:
            data = yaml.load(text, Loader=_LineLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            self.problem(line, None, f"invalid YAML: {exc.problem or exc}")
            return
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            self.problem(None, None, f"invalid YAML: {exc}")
            return
        if data is None:
            self.problem(1, None, "the roster is empty", "write 'actors:' followed by a list")
            return
        if not isinstance(data, dict):
            self.problem(
                1,
                None,
                f"expected a mapping with 'actors:', got a {type(data).__name__}",
                "write 'actors:' followed by a list of actors",
            )
            return
        key_lines: dict[str, int] = data.get(_KEY_LINES, {})
        for key in data:
            if key in (_LINE, _KEY_LINES, "actors", "issues"):
                continue
            self.problem(
                key_lines.get(str(key)),
                str(key),
                f"unknown top-level key {_shown(key)} (ignored)",
                "the roster has 'actors:' and 'issues:'",
                warning=True,
            )
        self._yaml_list(data, "issues", key_lines, issue=True)
        if "actors" not in data:
            self.problem(1, "actors", "no 'actors:' list", "write 'actors:' followed by a list")
            return
        self._yaml_list(data, "actors", key_lines, issue=False)

    def _yaml_list(
        self, data: dict[Any, Any], key: str, key_lines: dict[str, int], *, issue: bool
    ) -> None:
        items = data.get(key)
        if items is None:
            return
        if not isinstance(items, list):
            self.problem(key_lines.get(key), key, f"'{key}:' must be a list")
            return
        lines = getattr(items, "lines", [])
        for index, item in enumerate(items):
            line = lines[index] if index < len(lines) else key_lines.get(key, 1)
            if not isinstance(item, dict):
                self.problem(
                    line,
                    key,
                    f"entry {index + 1} of '{key}:' is a {type(item).__name__}, not a mapping",
                    "write each entry as 'id: ...', 'name: ...' lines",
                )
                continue
            self.add(self._yaml_entry(item, line), issue=issue)

    def _yaml_entry(self, item: dict[Any, Any], line: int) -> _Entry:
        entry = _Entry(item.get(_LINE, line), {})
        key_lines: dict[str, int] = item.get(_KEY_LINES, {})
        for raw_key, value in item.items():
            if raw_key in (_LINE, _KEY_LINES):
                continue
            raw = str(raw_key)
            name = _canonical_field(raw)
            at = key_lines.get(raw, entry.line)
            if name in ("handles", "external_ids"):
                if not isinstance(value, dict):
                    self.problem(at, raw, f"'{raw}:' must be a mapping")
                    continue
                inner_lines: dict[str, int] = value.get(_KEY_LINES, {})
                for inner_key, inner in value.items():
                    if inner_key in (_LINE, _KEY_LINES):
                        continue
                    inner_name = _canonical_field(str(inner_key))
                    if name == "external_ids" and not inner_name.startswith("id_"):
                        inner_name = "id_" + inner_name
                    if name == "handles" and inner_name not in HANDLE_PLATFORMS:
                        self.problem(
                            inner_lines.get(str(inner_key), at),
                            str(inner_key),
                            f"unknown platform {_shown(inner_key)} under handles (ignored)",
                            "platforms: " + ", ".join(HANDLE_PLATFORMS),
                            warning=True,
                        )
                        continue
                    entry.values[inner_name] = inner
                    entry.lines[inner_name] = inner_lines.get(str(inner_key), at)
                continue
            if name in _IGNORED:
                continue
            if name not in _KNOWN and not _is_external(name):
                self.problem(
                    at,
                    raw,
                    f"unknown key {_shown(raw)} (ignored)",
                    "known keys: " + ", ".join(sorted(_KNOWN)) + ", handles, external_ids",
                    warning=True,
                )
                continue
            entry.values[name] = value
            entry.lines[name] = at
        return entry


#: The file beside a CSV roster that lists issues (id, name, aliases), if it exists.
ISSUES_FILE = "issues.csv"


def _decode(reader: _Reader, path: Path, what: str) -> str | None:
    """Read ``path`` as UTF-8 text, or record the problem and return ``None``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reader.problem(None, None, f"cannot read the {what}: {exc.strerror or exc}")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        reader.problem(
            line,
            None,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "save the file as UTF-8",
        )
        return None


def _read(path: str | Path) -> _Reader:
    source = Path(path)
    reader = _Reader(str(path))
    suffix = source.suffix.lower()
    if suffix not in (".csv", ".tsv", ".yaml", ".yml"):
        reader.problem(
            None,
            None,
            f"unknown roster format {suffix or '(no extension)'!r}",
            "use a .csv, .tsv, .yaml or .yml file",
        )
        return reader
    text = _decode(reader, source, "roster")
    if text is None:
        return reader
    if not text.strip():
        reader.problem(1, None, "the roster is empty", "list one actor per row")
        return reader
    if suffix in (".yaml", ".yml"):
        reader.read_yaml(text)
    else:
        delimiter = "\t" if suffix == ".tsv" else ","
        reader.read_csv(text, delimiter)
        issues = source.with_name(ISSUES_FILE)
        if issues.name != source.name and issues.is_file():
            reader.source = str(issues)
            issues_text = _decode(reader, issues, "issues file")
            if issues_text is not None:
                reader.read_csv(issues_text, ",", issues=True)
            reader.source = str(path)
    reader.finish()
    reader.problems.sort(key=lambda p: (p.source != str(path), p.line or 0))
    return reader


def validate_roster(path: str | Path) -> list[RosterProblem]:
    """Return every problem in the roster at ``path`` (errors and warnings), in file order.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.tsv``, ``.yaml`` or ``.yml`` roster.

    Returns
    -------
    list of RosterProblem
        Empty when the roster is clean. Never raises for a bad file.
    """
    return _read(path).problems


def load_roster(path: str | Path) -> Roster:
    """Read the roster at ``path``.

    Parameters
    ----------
    path : str or Path
        A ``.csv``, ``.tsv``, ``.yaml`` or ``.yml`` roster (see the module docstring).

    Returns
    -------
    Roster

    Raises
    ------
    RosterError
        For the first error (file, line, field, hint), its message ending with
        ``(and N more problems)`` when there are others; warnings do not raise.

    Examples
    --------
    >>> roster = load_roster("data/demo/roster.csv")  # doctest: +SKIP
    >>> roster.by_handle("x", "@owenjones84").name  # doctest: +SKIP
    'Owen Jones'
    """
    reader = _read(path)
    errors = [p for p in reader.problems if p.is_error]
    if errors:
        first = errors[0]
        message = first.message
        if len(errors) > 1:
            more = len(errors) - 1
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise RosterError(
            message, source=first.source, line=first.line, field=first.field, hint=first.hint
        )
    return Roster(reader.actors, reader.issues.values(), path=path)


# --------------------------------------------------------------------------- writing

_CSV_COLUMNS = (
    "id",
    "name",
    "kind",
    "party",
    "faction",
    "aliases",
    "x",
    "bluesky",
    "mastodon",
    "domains",
    "issues",
)


def _external_column(key: str) -> str:
    return key if key in _EXTERNAL_PLAIN else f"id_{key}"


def write_roster_csv(
    actors: Mapping[str, Actor] | Iterable[Actor],
    path: str | Path,
    *,
    issues: Iterable[Issue] = (),
) -> Path:
    """Write actors (and issues, as rows of kind ``issue``) as a CSV roster, atomically.

    Parameters
    ----------
    actors : mapping of id to Actor, or iterable of Actor
        The actors, written in the given order. Provisional actors (kind ``unknown``)
        are written with kind ``other`` so the file loads as a roster.
    path : str or Path
        The CSV file to write.
    issues : iterable of Issue, optional
        Issues, written after the actors.

    Returns
    -------
    Path
        ``path``. Reading it back with :func:`load_roster` gives the same actors.

    Notes
    -----
    Lists are joined with ``;``; an alias that itself contains ``;`` or ``|`` cannot be
    represented and is dropped.
    """
    rows = list(actors.values()) if isinstance(actors, Mapping) else list(actors)
    issue_rows = list(issues)
    extra = sorted({_external_column(k) for actor in rows for k in actor.external_ids})
    seats = ["constituency"] if any(actor.constituency for actor in rows) else []
    columns = [*_CSV_COLUMNS, *seats, *extra]

    def joined(values: Iterable[str]) -> str:
        return ";".join(v for v in values if ";" not in v and "|" not in v)

    with atomic_open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for actor in rows:
            row = {
                "id": actor.id,
                "name": actor.name,
                "kind": actor.kind if actor.kind in ACTOR_KINDS else "other",
                "party": actor.party,
                "faction": actor.faction,
                "constituency": actor.constituency,
                "aliases": joined(actor.aliases),
                "domains": ";".join(actor.domains),
                "issues": ";".join(actor.issues),
            }
            for platform in HANDLE_PLATFORMS:
                row[platform] = ";".join(actor.handles.get(platform, ()))
            for key, value in actor.external_ids.items():
                row[_external_column(key)] = str(value)
            writer.writerow([row.get(column, "") for column in columns])
        for issue in issue_rows:
            row = {
                "id": issue.id,
                "name": issue.name,
                "kind": ISSUE_KIND,
                "aliases": joined(issue.aliases),
            }
            writer.writerow([row.get(column, "") for column in columns])
    return Path(path)
