"""Turn posts into edge events between actors, with what each actor talks about.

:class:`Resolver` maps the author of every post and every reference in it to an actor
of the roster (by handle, external id, URL prefix or name) and emits one
:class:`~mapper.records.EdgeEvent` per post, target and reference type. An account
the roster does not know becomes a *provisional* actor (kind ``unknown``) instead of
being dropped, and everything that did not resolve is counted in a
:class:`ResolutionReport` (suggested roster additions). Alongside the events it
counts, per source actor, the issues, hashtags and linked domains of their posts
(``topics``), which the alliance analysis compares between factions.

Rules:

* **Authors.** X, Bluesky, Mastodon and other account platforms: the handle on the
  post's platform, then the platform's user id against the roster's external ids
  (``id_x``...), else a provisional ``platform:handle`` actor, named after the
  display name its posts carry (``Jane Doe (@janedoe)``; the first one met, in uid
  order) or the handle alone (``@janedoe``) when none does. Web platforms
  (``web``, ``feed``, ``rss``, ``atom``, ``blog``): the longest roster prefix of the
  post URL, then the author name as a roster name or alias, else a provisional
  ``web:<domain>``. Tables (``table``): an actor id, then a handle on any platform,
  else a provisional actor whose id is the key itself.
* **Mentions, replies, reposts, quotes.** The target handle on the post's platform,
  then its ``target_id`` against external ids, else a provisional
  ``platform:handle-lowercased`` actor (``x:<id>`` when only the id is known). A
  Mastodon handle without instance is taken to be on the author's instance.
* **Links.** A social profile or post URL (``x.com/<handle>``,
  ``bsky.app/profile/<handle>``, ``<instance>/@<user>``) resolves to that account
  (unknown X and Bluesky accounts become provisional actors); any other URL resolves
  to the roster actor with the longest covering domain or prefix. An unknown URL is
  not an actor: its domain is reported and counted in the author's topics.
* **Names** (``match_names=True``): roster names found in the text (see
  :mod:`mapper.resolve.names` for the surname rule) give ``name`` events.
* Self-references (source == target) are not events. One event per (post, target,
  type): a post mentioning ``@x`` twice is one mention.
* With ``provisional=False`` unknown accounts are only reported, and the posts of
  unknown authors give no events.

Report categories: ``handle`` (unresolved handles, per platform), ``domain``
(linked domains no actor owns), ``name`` (ambiguous names, with their candidates in
``note``), ``provisional`` (provisional actors), ``author`` (posts without any author
key), ``url`` (link targets that are not URLs) and ``kind`` (unknown reference kinds).
Counts are numbers of posts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mapper.records import PROVISIONAL_KIND, Actor, EdgeEvent, Post, Reference
from mapper.resolve.names import NameMatcher, NameScan
from mapper.resolve.roster import (
    WEB_PLATFORMS,
    Roster,
    canonical_platform,
    handle_key,
)
from mapper.resolve.urls import normalize_url, profile_handle, url_domain

__all__ = [
    "ACCOUNT_KINDS",
    "REPORT_CATEGORIES",
    "ReportEntry",
    "Resolution",
    "ResolutionReport",
    "Resolver",
    "snippet_around",
]

#: Reference kinds whose target is an account handle.
ACCOUNT_KINDS: frozenset[str] = frozenset({"mention", "reply", "repost", "quote"})
#: Categories of :class:`ResolutionReport` entries.
REPORT_CATEGORIES: tuple[str, ...] = (
    "handle",
    "domain",
    "name",
    "provisional",
    "author",
    "url",
    "kind",
)
_PROVISIONAL_LINK_PLATFORMS = frozenset({"x", "bluesky"})
# Posts matched for names in one automaton pass by resolve(): small batches keep the
# joined text in cache.
_BATCH = 64


def snippet_around(text: str, start: int, end: int, width: int = 140) -> str:
    """Return about ``width`` characters of ``text`` centred on ``text[start:end]``.

    Whitespace is collapsed and ``…`` marks a cut.

    >>> snippet_around("a b c Owen Jones d e f", 6, 16, width=14)
    '…c Owen Jones d…'
    """
    if len(text) <= width:
        return " ".join(text.split())
    room = max(width - (end - start), 0)
    left = max(start - room // 2, 0)
    right = min(left + max(width, end - start), len(text))
    left = max(min(left, right - width), 0)
    piece = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + piece + ("…" if right < len(text) else "")


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """One line of a :class:`ResolutionReport`.

    Attributes
    ----------
    category : str
        One of :data:`REPORT_CATEGORIES`.
    platform : str
        The platform for handles and provisional actors, else empty.
    key : str
        The handle (lowercased), domain, alias, actor id or URL.
    count : int
        Number of posts in which it occurred.
    examples : tuple of str
        Up to three post uids, in the order seen.
    note : str
        Extra detail (the candidates of an ambiguous name, separated by ``|``).
    """

    category: str
    platform: str
    key: str
    count: int
    examples: tuple[str, ...]
    note: str = ""


class ResolutionReport:
    """What did not resolve, counted by post, with example post uids.

    Parameters
    ----------
    max_examples : int, default 3
        Post uids kept per entry.
    """

    #: Column names of :meth:`to_rows`.
    FIELDS: tuple[str, ...] = ("category", "platform", "key", "count", "examples", "note")

    def __init__(self, *, max_examples: int = 3) -> None:
        self.max_examples = max_examples
        # (category, platform, key) -> [count, example post uids, note]
        self._entries: dict[tuple[str, str, str], list[Any]] = {}

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[tuple[str, str, str], tuple[int, Sequence[str], str]],
        *,
        max_examples: int = 3,
    ) -> ResolutionReport:
        """A report holding ``counts``: ``(category, platform, key) -> (count, example
        post uids, note)``, as partial reports merged elsewhere give them (see
        :mod:`mapper.engine.partitions`). Examples beyond ``max_examples`` are dropped."""
        report = cls(max_examples=max_examples)
        for marker, (count, examples, note) in counts.items():
            report._entries[marker] = [int(count), list(examples)[:max_examples], note]
        return report

    def counts(self) -> dict[tuple[str, str, str], tuple[int, tuple[str, ...], str]]:
        """Every entry as ``(category, platform, key) -> (count, example uids, note)``."""
        return {m: (v[0], tuple(v[1]), v[2]) for m, v in self._entries.items()}

    def add(
        self, category: str, key: str, post: str, *, platform: str = "", note: str = ""
    ) -> None:
        """Count one post for ``(category, platform, key)``; the caller counts each post once."""
        entry = self._entries.get((category, platform, key))
        if entry is None:
            self._entries[(category, platform, key)] = [1, [post], note]
            return
        entry[0] += 1
        if len(entry[1]) < self.max_examples:
            entry[1].append(post)

    def count(self, category: str, key: str, *, platform: str | None = None) -> int:
        """Number of posts for ``key`` in ``category`` (all platforms unless given)."""
        return sum(
            value[0]
            for (cat, plat, k), value in self._entries.items()
            if cat == category and k == key and (platform is None or plat == platform)
        )

    def entries(self, category: str | None = None) -> list[ReportEntry]:
        """All entries (of one category), most frequent first, then by category and key."""
        rows = [
            ReportEntry(cat, plat, key, value[0], tuple(value[1]), value[2])
            for (cat, plat, key), value in self._entries.items()
            if category is None or cat == category
        ]
        rows.sort(key=lambda e: (-e.count, e.category, e.platform, e.key))
        return rows

    def top(self, n: int = 20, category: str | None = None) -> list[ReportEntry]:
        """The ``n`` most frequent entries (of one category)."""
        return self.entries(category)[:n]

    def to_rows(self) -> list[dict[str, str | int]]:
        """Entries as dicts with the keys in :attr:`FIELDS` (examples space-separated),
        ready for :class:`csv.DictWriter`."""
        return [
            {
                "category": e.category,
                "platform": e.platform,
                "key": e.key,
                "count": e.count,
                "examples": " ".join(e.examples),
                "note": e.note,
            }
            for e in self.entries()
        ]

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(slots=True)
class Resolution:
    """The result of resolving posts.

    Attributes
    ----------
    events : list of EdgeEvent
        One per (post, target, type), in input order.
    actors : dict of str to Actor
        The roster's actors plus the provisional ones.
    topics : dict of str to Counter
        Per source actor: ``issue:<id>``, ``#hashtag`` and ``domain:<domain>`` counted
        by post.
    report : ResolutionReport
        What did not resolve.
    """

    events: list[EdgeEvent]
    actors: dict[str, Actor]
    topics: dict[str, Counter[str]]
    report: ResolutionReport

    @property
    def event_count(self) -> int:
        """Number of edge events."""
        return len(self.events)

    @property
    def actor_count(self) -> int:
        """Number of actors (roster and provisional)."""
        return len(self.actors)

    @property
    def provisional(self) -> dict[str, Actor]:
        """The provisional actors only."""
        return {k: a for k, a in self.actors.items() if a.provisional}


class Resolver:
    """Resolve posts against a roster into edge events, topics and a report.

    Parameters
    ----------
    roster : Roster
        The actors, issues and their lookups.
    provisional : bool, default True
        Create provisional actors for unknown accounts (otherwise only report them).
    match_names : bool, default True
        Look for roster names in post texts (``name`` events).
    snippet_width : int, default 140
        Length of the snippets made around names and handles.

    Examples
    --------
    >>> from mapper.records import Post, Reference
    >>> roster = Roster([Actor("a", "Ann", handles={"x": ("ann",)})])
    >>> post = Post("x:1", "x", "Ann", None, "hi @bob", references=(Reference("mention", "bob"),))
    >>> [(e.source, e.target, e.type) for e in Resolver(roster).resolve([post]).events]
    [('a', 'x:bob', 'mention')]

    Notes
    -----
    :meth:`resolve` starts a fresh resolution; :meth:`resolve_post` adds one post to
    the current one (see :attr:`resolution`), for streaming. Posts are assumed to be
    unique by uid (the store guarantees it).
    """

    def __init__(
        self,
        roster: Roster,
        *,
        provisional: bool = True,
        match_names: bool = True,
        snippet_width: int = 140,
    ) -> None:
        self.roster = roster
        self.provisional = provisional
        self.match_names = match_names
        self.snippet_width = snippet_width
        self._names: NameMatcher | None = roster.name_matcher if match_names else None
        self._issues: NameMatcher | None = roster.issue_matcher if roster.issues else None
        self._reset()

    @classmethod
    def empty(cls, **options: Any) -> Resolver:
        """A resolver with an empty roster: every account becomes a provisional actor.

        ``options`` are those of :class:`Resolver`.
        """
        return cls(Roster([]), **options)

    def _reset(self) -> None:
        self._events: list[EdgeEvent] = []
        self._provisional: dict[str, Actor] = {}
        self._display_named: set[str] = set()
        self._topics: dict[str, Counter[str]] = {}
        self._report = ResolutionReport()
        self._post_notes: set[tuple[str, str, str]] = set()
        self._post_uid = ""

    @property
    def resolution(self) -> Resolution:
        """The resolution so far (the lists and counters keep growing with new posts)."""
        actors = dict(self.roster.actors)
        actors.update(self._provisional)
        return Resolution(self._events, actors, self._topics, self._report)

    def resolve(self, posts: Iterable[Post]) -> Resolution:
        """Resolve ``posts`` (any iterable, consumed once) into a new :class:`Resolution`.

        Parameters
        ----------
        posts : iterable of Post
            The posts, streamed.

        Returns
        -------
        Resolution
        """
        self._reset()
        batch: list[Post] = []
        for post in posts:
            batch.append(post)
            if len(batch) == _BATCH:
                self._resolve_batch(batch)
                batch = []
        if batch:
            self._resolve_batch(batch)
        return self.resolution

    def _resolve_batch(self, posts: list[Post]) -> None:
        # Names and issues are matched for a batch of posts in one automaton pass.
        texts = [post.text or "" for post in posts]
        names = self._names.scan_many(texts) if self._names is not None else None
        issues = self._issues.scan_many(texts) if self._issues is not None else None
        for i, post in enumerate(posts):
            self._resolve(
                post,
                names[i] if names is not None else None,
                issues[i] if issues is not None else None,
            )

    def resolve_post(self, post: Post) -> list[EdgeEvent]:
        """Resolve one post, add it to :attr:`resolution` and return its events."""
        return self._resolve(post, None, None)

    def _resolve(
        self, post: Post, names: NameScan | None, issues: NameScan | None
    ) -> list[EdgeEvent]:
        self._post_uid = post.uid
        self._post_notes = set()
        platform = canonical_platform(post.platform)
        source = self._author(post, platform)
        if source is None:
            return []
        text = post.text or ""
        events: list[EdgeEvent] = []
        seen: set[tuple[str, str]] = set()
        topics: set[str] = set()
        for ref in post.references:
            target = self._target(post, platform, ref, topics)
            if target is None or target == source or (target, ref.kind) in seen:
                continue
            seen.add((target, ref.kind))
            events.append(
                EdgeEvent(
                    source,
                    target,
                    ref.kind,
                    post.uid,
                    post.created_at,
                    ref.snippet or self._account_snippet(text, ref),
                    post.url,
                    ref.weight,
                )
            )
        if self._names is not None and text:
            scan = names if names is not None else self._names.scan(text)
            for match in scan.matches:
                if match.actor_id == source or (match.actor_id, "name") in seen:
                    continue
                seen.add((match.actor_id, "name"))
                snippet = snippet_around(text, match.start, match.end, self.snippet_width)
                events.append(
                    EdgeEvent(
                        source, match.actor_id, "name", post.uid, post.created_at, snippet, post.url
                    )
                )
            for name in scan.ambiguous:
                self._note("name", name.alias, note="|".join(name.candidates))
        if self._issues is not None and text:
            found = issues if issues is not None else self._issues.scan(text)
            topics.update(f"issue:{m.actor_id}" for m in found.matches)
        for tag in post.tags:
            tag = tag.strip().lstrip("#").casefold()
            if tag:
                topics.add(f"#{tag}")
        if topics:
            counter = self._topics.get(source)
            if counter is None:
                counter = self._topics[source] = Counter()
            counter.update(topics)
        self._events.extend(events)
        return events

    # -- helpers ----------------------------------------------------------------

    def _note(self, category: str, key: str, *, platform: str = "", note: str = "") -> None:
        marker = (category, platform, key)
        if marker not in self._post_notes:
            self._post_notes.add(marker)
            self._report.add(category, key, self._post_uid, platform=platform, note=note)

    def _new_actor(
        self,
        actor_id: str,
        name: str,
        platform: str = "",
        *,
        handle: str = "",
        domain: str = "",
        external_id: str = "",
    ) -> str:
        """Return the id of a provisional actor, creating it on first use."""
        if actor_id in self.roster.actors:  # a curated roster may keep provisional ids
            return actor_id
        if actor_id not in self._provisional:
            self._provisional[actor_id] = Actor(
                id=actor_id,
                name=name,
                kind=PROVISIONAL_KIND,
                handles={platform: (handle,)} if handle else {},
                domains=(domain,) if domain else (),
                external_ids={platform: external_id} if external_id else {},
                provisional=True,
            )
        self._note("provisional", actor_id, platform=platform)
        return actor_id

    def _unknown_account(
        self, platform: str, handle: str, *, is_id: bool = False, display: str = ""
    ) -> str | None:
        """A handle (or a bare user id) the roster does not know: report it and, unless
        provisional actors are off, return a provisional actor for it.

        ``display`` is the account's display name when a post of the account gives it:
        the actor is then named ``Display Name (@handle)``, whether it was first met
        as an author or as a target.
        """
        handle = handle.strip().removeprefix("@")
        key = handle_key(platform, handle)
        self._note("handle", key, platform=platform)
        if not self.provisional:
            return None
        actor_id = f"{platform}:{key}"
        if is_id:
            name = f"{platform} user {handle}"
            actor_id = self._new_actor(actor_id, name, platform, external_id=handle)
        else:
            name = f"@{handle}" if platform in ("x", "mastodon") else handle
            actor_id = self._new_actor(actor_id, name, platform, handle=handle)
        display = _display_name(display)
        if display and actor_id in self._provisional and actor_id not in self._display_named:
            self._display_named.add(actor_id)
            actor = self._provisional[actor_id]
            if display.casefold() != handle.casefold():
                self._provisional[actor_id] = replace(actor, name=f"{display} ({name})")
        return actor_id

    def _author(self, post: Post, platform: str) -> str | None:
        roster = self.roster
        author = (post.author or "").strip()
        if platform == "table":
            if not author:
                self._note("author", "", platform=platform)
                return None
            actor = roster.by_key(author)
            if actor is not None:
                return actor.id
            self._note("handle", author, platform=platform)
            return self._new_actor(author, author) if self.provisional else None
        if platform in WEB_PLATFORMS:
            return self._web_author(post, author)
        if author:
            actor = roster.by_handle(platform, author)
            if actor is not None:
                return actor.id
        if post.author_id:
            actor = roster.by_external_id(platform, post.author_id)
            if actor is not None:
                return actor.id
        if author:
            return self._unknown_account(platform, author, display=post.author_name)
        if post.author_id:
            return self._unknown_account(
                platform, str(post.author_id), is_id=True, display=post.author_name
            )
        self._note("author", "", platform=platform)
        return None

    def _web_author(self, post: Post, author: str) -> str | None:
        roster = self.roster
        if post.url:
            actor = roster.by_url(post.url)
            if actor is not None:
                return actor.id
        for name in (post.author_name, author):
            if name:
                actor = roster.by_name(name)
                if actor is not None:
                    return actor.id
        if author and "." in author and normalize_url(author) is not None:
            actor = roster.by_url(author)
            if actor is not None:
                return actor.id
        domain = url_domain(post.url) if post.url else None
        if domain is None and author:
            domain = url_domain(author)
        key = domain or author.casefold()
        if not key:
            self._note("author", "", platform="web")
            return None
        self._note("handle", key, platform="web")
        if not self.provisional:
            return None
        return self._new_actor(f"web:{key}", domain or author, "web", domain=domain or "")

    def _target(self, post: Post, platform: str, ref: Reference, topics: set[str]) -> str | None:
        kind = ref.kind
        if kind in ACCOUNT_KINDS:
            return self._account(post, platform, ref)
        if kind == "link":
            return self._link(ref.target, topics)
        if kind == "name":
            actor = self.roster.by_id(ref.target)
            if actor is not None:
                return actor.id
            self._note("name", ref.target)
            return None
        self._note("kind", kind)
        return None

    def _account(self, post: Post, platform: str, ref: Reference) -> str | None:
        roster = self.roster
        target = (ref.target or "").strip()
        if platform == "table" or platform in WEB_PLATFORMS:
            if not target:
                return None
            actor = roster.by_key(target)
            if actor is not None:
                return actor.id
            if platform == "table":
                self._note("handle", target, platform=platform)
                return self._new_actor(target, target) if self.provisional else None
            return self._unknown_account(platform, target)
        if platform == "mastodon" and target and "@" not in target.removeprefix("@"):
            instance = _instance_of(post)
            if instance:
                target = f"{target.removeprefix('@')}@{instance}"
        if target:
            actor = roster.by_handle(platform, target)
            if actor is not None:
                return actor.id
        if ref.target_id:
            actor = roster.by_external_id(platform, str(ref.target_id))
            if actor is not None:
                return actor.id
        if target:
            return self._unknown_account(platform, target)
        if ref.target_id:
            return self._unknown_account(platform, str(ref.target_id), is_id=True)
        return None

    def _link(self, url: str, topics: set[str]) -> str | None:
        roster = self.roster
        found = profile_handle(url)
        if found is not None:
            actor = roster.by_handle(*found)
            if actor is not None:
                return actor.id
            if found[0] in _PROVISIONAL_LINK_PLATFORMS:
                return self._unknown_account(*found)
        domain = url_domain(url)
        if domain is None:
            self._note("url", url.strip()[:200])
            return None
        if found is None:
            topics.add(f"domain:{domain}")
        actor_id = roster.prefixes.lookup(url)
        if actor_id is not None:
            return actor_id
        self._note("domain", domain)
        return None

    def _account_snippet(self, text: str, ref: Reference) -> str:
        if not text:
            return ""
        width = self.snippet_width
        if ref.kind in ACCOUNT_KINDS and ref.target:
            needle = "@" + ref.target.strip().removeprefix("@").casefold()
            folded = text.casefold()
            at = folded.find(needle)
            if at >= 0 and len(folded) == len(text):
                return snippet_around(text, at, at + len(needle), width)
        elif ref.kind == "link" and ref.target:
            at = text.find(ref.target)
            if at >= 0:
                return snippet_around(text, at, at + len(ref.target), width)
        return snippet_around(text, 0, 0, width)


#: Longest display name kept in a provisional actor's name (display names are short
#: on every platform; anything longer is not a name).
_DISPLAY_MAX = 100


def _display_name(value: str) -> str:
    """A display name on one line, at most :data:`_DISPLAY_MAX` characters."""
    text = " ".join((value or "").split())
    return text if len(text) <= _DISPLAY_MAX else text[: _DISPLAY_MAX - 1] + "…"


def _instance_of(post: Post) -> str | None:
    author = (post.author or "").removeprefix("@")
    if "@" in author:
        return author.rsplit("@", 1)[1].lower() or None
    return url_domain(post.url) if post.url else None
