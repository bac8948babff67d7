"""Import X (Twitter) API v2 archives: twarc2 JSONL, flattened JSONL, raw API responses
and filtered-stream captures, into normalized :class:`~mapper.records.Post` records.

The file is read line by line (``orjson``, optionally gzip-compressed) and the shape of
*each line* is detected on its own, so a file mixing shapes still reads:

(a) a twarc2 response page: ``data`` (a list) with ``includes``, ``meta``, ``__twarc``;
(b) a flattened post (``twarc2 flatten``): one post a line with ``author``,
    ``in_reply_to_user``, mention users and referenced posts inlined (``{}`` where the
    API had nothing);
(c) a raw X API v2 response (``data`` a list or one object, ``includes``, maybe partial
    ``errors``); a whole file holding one pretty-printed response is read as one
    document, and a JSON array of posts or responses (of any size) one element at a
    time (:class:`~mapper.collectors.base.JsonArrayStream`);
(d) filtered-stream lines (``data`` one object plus ``matching_rules``), including
    error lines (``errors`` only) and keep-alive blank lines.

A line that cannot be used (truncated or invalid JSON, invalid UTF-8, NUL bytes, an
unknown shape, an error-only response) goes to ``on_bad(line, reason, excerpt)`` and
reading goes on; only a file with nothing readable at all raises
:class:`~mapper.errors.ImportFormatError`. X data that is not posts (a users lookup,
followers, lists, post counts, Spaces, direct messages: :data:`NOT_POSTS`) is named
for what it is: a page of it is set aside once, and a file of nothing else raises
``this is an X users lookup (12 user profiles), not posts: nothing imported``.
:func:`import_archive` stores the posts, quarantines the bad lines, keeps a pointer
(file, line, byte offset) to each post's raw line, and skips a file already imported
unchanged.

Decisions
---------
* **Authors and targets** are usernames (original case), looked up by id in the
  line's ``includes.users`` or the inlined objects. When an account's username is
  unknown its numeric id stands in (``target == target_id``, ``author == author_id``),
  so the reference is kept and still identifies the account.
* **Mentions** come from ``entities.mentions`` (``note_tweet.entities`` for long
  posts). A mention whose user is missing from ``includes`` (suspended, deleted) still
  becomes a reference to its username. One mention per distinct account per post. The
  mention of the account a post replies to is the platform's own prefix, not a
  separate act: it is folded into the ``reply`` reference instead of counted twice.
* **Reposts** carry only their ``repost`` reference (no mentions, links or hashtags):
  a repost's text and entities are the original post's, not the reposter's (the live
  X collector follows the same rule).
* **Replies** target ``in_reply_to_user_id`` (its username via ``includes``, the
  inlined ``in_reply_to_user``, or the post's own mention of that id); without it, the
  author of the ``replied_to`` post when known.
* **Reposts and quotes** target the author of the referenced post (``includes.tweets``
  plus ``includes.users``, or the inlined object). When the referenced post is missing
  (deleted), a repost falls back to its ``RT @user:`` mention and a quote to the
  username in the quoted post's URL; with neither, no reference is made.
* **Links** are ``entities.urls`` (``unwound_url``, else ``expanded_url``), one per
  distinct URL. Skipped: media links (``media_key`` or ``pic.twitter.com``/``pic.x.com``
  display URLs) and links to the post itself or to a post it references
  (``x.com/<user>/status/<id>``, ``twitter.com/i/web/status/<id>``): those are the
  platform's own links and are already a ``quote``/``repost``/``reply``. A link to
  any other X post is kept.
* **Referenced posts** that appear only in ``includes.tweets`` (or inlined in a
  flattened post) are *not* imported by default: they were not selected by the
  collection (a keyword search would otherwise gain off-topic posts and their authors'
  mentions), often arrive truncated, and ``twarc2 flatten`` and twarc-csv leave them
  out too. They still resolve the targets of reposts and quotes. Pass
  ``include_referenced=True`` to import them as posts as well.
* A post appearing on several pages, or both in ``data`` and in ``includes``, has one
  uid (``x:<id>``): the store keeps the first and counts the rest as duplicates.
* Texts are HTML-unescaped (the API sends ``&amp;``); ``lang`` ``und`` becomes ``None``.
"""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from mapper import __version__
from mapper.collectors.base import (
    CollectResult,
    JsonArrayStream,
    import_file,
    refuse_wide_text,
    require_file,
    wide_encoding,
)
from mapper.collectors.tables import SNIPPET_WIDTH, snippet_around
from mapper.errors import ImportFormatError
from mapper.records import Post, Provenance, Reference, utc
from mapper.store import DEFAULT_BATCH, RawPointer, Store

__all__ = [
    "COLLECTOR",
    "ArchiveRange",
    "archive_problem",
    "archive_splittable",
    "count_range_lines",
    "import_archive",
    "iter_archive",
    "posts_from_line",
    "posts_from_page",
]

COLLECTOR = "x-archive"
#: ``on_bad(line, reason, excerpt)``: called for each line (or post inside a line) set aside.
OnBad = Callable[[int, str, str], None]

#: A whole-file JSON object larger than this is not parsed in one piece (a top-level
#: array is streamed whatever its size).
DOCUMENT_LIMIT = 512 * 1024 * 1024
#: A first line longer than this that opens an array is read as one streamed document.
FIRST_LINE_LIMIT = 16 * 1024 * 1024
EXCERPT = 2048
_BOM = b"\xef\xbb\xbf"
_EMPTY: dict[str, Any] = {}

_X_STATUS = re.compile(
    r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/(?:i/web/|([^/?#]+)/)status(?:es)?/(\d+)",
    re.IGNORECASE,
)


class _BadPost(Exception):
    """A post object inside a readable line that cannot become a Post."""


# --------------------------------------------------------------------------- small helpers


def _sid(value: Any) -> str | None:
    """An id as ``str`` (tweepy gives int, twarc str); ``None`` when absent or unusable."""
    if type(value) is str:
        return value.strip() or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):  # a str subclass
        return str(value).strip() or None
    return None


def _str(value: Any) -> str:
    return value if type(value) is str else ""


def _obj(value: Any) -> dict[str, Any] | None:
    """A non-empty dict, else ``None`` (flatten writes ``{}`` for a missing expansion)."""
    return value if type(value) is dict and value else None


def _list(value: Any) -> list[Any]:
    return value if type(value) is list else []


def _username(user: dict[str, Any] | None) -> str | None:
    if user is None:
        return None
    name = user.get("username")
    if type(name) is str:
        if name[:1] == "@" or name[:1].isspace() or name[-1:].isspace():
            name = name.strip().lstrip("@")
        return name or None
    return None


def _time(value: Any) -> datetime | None:
    if type(value) is not str or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is UTC else utc(parsed)


def _excerpt(raw: bytes | str) -> str:
    if isinstance(raw, bytes):
        raw = raw[: EXCERPT * 2].decode("utf-8", errors="backslashreplace")
    return raw[:EXCERPT].rstrip("\r\n")


def _error_summary(errors: Any) -> str:
    parts = []
    for err in _list(errors)[:3]:
        if isinstance(err, dict):
            title = _str(err.get("title")) or _str(err.get("type"))
            detail = _str(err.get("detail")) or _str(err.get("message"))
            parts.append(": ".join(p for p in (title, detail) if p))
    return "; ".join(p for p in parts if p)[:300] or "no detail"


class _Index:
    """Lookups for one response: users by id, users by lowercased username (built on
    first use), posts by id."""

    __slots__ = ("_names", "tweets", "users")

    def __init__(self, includes: Any = None) -> None:
        known = includes if type(includes) is dict else _EMPTY
        self.users = _by_id(known.get("users"))
        self.tweets = _by_id(known.get("tweets"))
        self._names: dict[str, dict[str, Any]] | None = None

    @property
    def names(self) -> dict[str, dict[str, Any]]:
        if self._names is None:
            names: dict[str, dict[str, Any]] = {}
            for user in self.users.values():
                name = _username(user)
                if name is not None:
                    names.setdefault(name.lower(), user)
            self._names = names
        return self._names


def _by_id(objects: Any) -> dict[str, dict[str, Any]]:
    """The objects of an ``includes`` list by id (the first of each id)."""
    found: dict[str, dict[str, Any]] = {}
    for obj in _list(objects):
        if type(obj) is dict:
            oid = _sid(obj.get("id"))
            if oid is not None and oid not in found:
                found[oid] = obj
    return found


_NO_INCLUDES = _Index()


# --------------------------------------------------------------------------- one post


class _Text:
    """A post's text as the API sent it (entity offsets refer to it) with snippet helpers."""

    __slots__ = ("_whole", "lower", "raw")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.lower: str | None = None
        self._whole: str | None = None

    def snippet(self, start: int | None = None, end: int | None = None) -> str:
        raw = self.raw
        if len(raw) <= SNIPPET_WIDTH or start is None:
            # The whole (short) text, or its start: the same for every reference.
            if self._whole is None:
                piece = snippet_around(raw)
                self._whole = html.unescape(piece) if "&" in piece else piece
            return self._whole
        piece = snippet_around(raw, start, end)
        return html.unescape(piece) if "&" in piece else piece

    def snippet_of(self, entity: dict[str, Any], needle: str) -> str:
        """Snippet around an entity: its offsets when they match, else a text search."""
        raw = self.raw
        if len(raw) <= SNIPPET_WIDTH:
            return self.snippet()
        start, end = entity.get("start"), entity.get("end")
        if (
            type(start) is int
            and type(end) is int
            and 0 <= start < end <= len(raw)
            and raw[start:end].lower() == needle.lower()
        ):
            return self.snippet(start, end)
        if self.lower is None:
            self.lower = raw.lower()
        pos = self.lower.find(needle.lower()) if needle else -1
        if pos >= 0:
            return self.snippet(pos, pos + len(needle))
        return self.snippet()


def _referenced_author(
    ref: dict[str, Any], rid: str | None, idx: _Index
) -> tuple[str | None, str | None]:
    """(username, user id) of the author of a referenced post, as far as known."""
    tweet = ref if len(ref) > 2 else None  # flattened: the whole post is inlined
    if tweet is None and rid is not None:
        tweet = idx.tweets.get(rid)
    if tweet is None:
        return None, None
    _user, name, aid = _account(tweet.get("author"), _sid(tweet.get("author_id")), idx)
    return name, aid


def _account(
    inline: Any, uid: str | None, idx: _Index
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """(user object, username, id) of an account, from its inlined object (flattened
    posts) or its id looked up in the includes, as far as known."""
    user = _obj(inline)
    if user is None and uid is not None:
        user = idx.users.get(uid)
    if uid is None and user is not None:
        uid = _sid(user.get("id"))
    return user, _username(user), uid


def _status_link(url: str) -> tuple[str | None, str] | None:
    """``(username or None, status id)`` for an X/Twitter post URL, else ``None``."""
    if "twitter.com/" not in url and "x.com/" not in url:
        return None
    m = _X_STATUS.match(url)
    if m is None:
        return None
    user = m.group(1)
    return (None if user is None or user.lower() == "i" else user), m.group(2)


def _entity_start(entity: dict[str, Any]) -> int:
    start = entity.get("start")
    return start if type(start) is int else 0


def _references(
    tw: dict[str, Any],
    tid: str,
    text: _Text,
    ents: dict[str, Any],
    idx: _Index,
    is_repost: bool,
) -> tuple[Reference, ...]:
    refs: list[Reference] = []
    folded_names: set[str] = set()  # accounts already referenced by reply / repost
    folded_ids: set[str] = set()
    mentions = [m for m in _list(ents.get("mentions")) if isinstance(m, dict)]

    def fold(name: str | None, uid: str | None) -> None:
        if name:
            folded_names.add(name.lower())
        if uid:
            folded_ids.add(uid)

    referenced = [r for r in _list(tw.get("referenced_tweets")) if isinstance(r, dict)]
    ref_ids = {rid for rid in (_sid(r.get("id")) for r in referenced) if rid is not None}

    # reply
    _user, reply_name, reply_id = _account(
        tw.get("in_reply_to_user"), _sid(tw.get("in_reply_to_user_id")), idx
    )
    if reply_id is None and reply_name is None:
        for r in referenced:
            if r.get("type") == "replied_to":
                reply_name, reply_id = _referenced_author(r, _sid(r.get("id")), idx)
                break
    if reply_name is None and reply_id is not None:
        for m in mentions:
            if _sid(m.get("id")) == reply_id and _username(m):
                reply_name = _username(m)
                break
    if reply_name or reply_id:
        target = reply_name or reply_id
        refs.append(Reference("reply", target, reply_id, text.snippet()))  # type: ignore[arg-type]
        fold(reply_name, reply_id)

    # reposts and quotes
    for r in referenced:
        rtype = r.get("type")
        if rtype == "retweeted":
            kind = "repost"
        elif rtype == "quoted":
            kind = "quote"
        else:
            continue
        rid = _sid(r.get("id"))
        name, aid = _referenced_author(r, rid, idx)
        if name is None and aid is None:
            if kind == "repost" and text.raw.startswith("RT @") and mentions:
                first = min(mentions, key=_entity_start)
                name, aid = _username(first), _sid(first.get("id"))
                if name and aid is None and name.lower() in idx.names:
                    aid = _sid(idx.names[name.lower()].get("id"))
            elif kind == "quote" and rid is not None:
                for u in _list(ents.get("urls")):
                    if isinstance(u, dict):
                        link = _status_link(_str(u.get("expanded_url")))
                        if link is not None and link[1] == rid and link[0]:
                            name = link[0]
                            break
        if name or aid:
            refs.append(Reference(kind, name or aid, aid, text.snippet()))  # type: ignore[arg-type]
            if kind == "repost":
                fold(name, aid)

    if is_repost:
        # A repost's text, mentions and links are the original post's, not the reposter's.
        return tuple(refs)

    # mentions
    seen: set[str] = set()
    for m in mentions:
        name = _username(m)
        if name is None:
            continue
        key = name.lower()
        mid = _sid(m.get("id"))
        if mid is None:
            user = idx.names.get(key)
            if user is not None:
                mid = _sid(user.get("id"))
        if key in seen or key in folded_names or (mid is not None and mid in folded_ids):
            continue
        seen.add(key)
        refs.append(Reference("mention", name, mid, text.snippet_of(m, "@" + name)))

    # links
    seen_urls: set[str] = set()
    for u in _list(ents.get("urls")):
        if not isinstance(u, dict) or u.get("media_key"):
            continue
        display = _str(u.get("display_url")).lower()
        if display.startswith(("pic.twitter.com/", "pic.x.com/")):
            continue
        url = _str(u.get("unwound_url")) or _str(u.get("expanded_url")) or _str(u.get("url"))
        url = url.strip()
        if not url or url in seen_urls:
            continue
        link = _status_link(url)
        if link is not None and (link[1] == tid or link[1] in ref_ids):
            continue
        seen_urls.add(url)
        refs.append(Reference("link", url, None, text.snippet_of(u, _str(u.get("url")))))
    return tuple(refs)


def _post(tw: dict[str, Any], idx: _Index, prov: Provenance) -> Post:
    """Normalize one X API v2 post object (plain or flattened)."""
    tid = _sid(tw.get("id"))
    if tid is None:
        raise _BadPost("post without an id")
    author, username, author_id = _account(tw.get("author"), _sid(tw.get("author_id")), idx)
    if username is None and author_id is None:
        raise _BadPost(f"post {tid} has no author (no author_id or author)")
    note = _obj(tw.get("note_tweet"))
    if note is not None and isinstance(note.get("text"), str):
        raw_text = note["text"]
        entities = note.get("entities")
        if not isinstance(entities, dict):
            entities = tw.get("entities")
    else:
        raw_text = _str(tw.get("text"))
        entities = tw.get("entities")
    ents = entities if isinstance(entities, dict) else _EMPTY
    text = _Text(raw_text)
    tags: list[str] = []
    is_repost = False
    for r in _list(tw.get("referenced_tweets")):
        if type(r) is dict and r.get("type") == "retweeted":
            is_repost = True
            break
    if not is_repost:
        for h in _list(ents.get("hashtags")):
            if type(h) is dict:
                tag = _str(h.get("tag")).lstrip("#").lower()
                if tag and tag not in tags:
                    tags.append(tag)
    lang = _str(tw.get("lang")) or None
    if lang == "und":
        lang = None
    return Post(
        uid="x:" + tid,
        platform="x",
        author=username or author_id,  # type: ignore[arg-type]
        created_at=_time(tw.get("created_at")),
        text=html.unescape(raw_text) if "&" in raw_text else raw_text,
        url=f"https://x.com/{username}/status/{tid}"
        if username
        else f"https://x.com/i/status/{tid}",
        author_id=author_id,
        author_name=_str(author.get("name")) if author is not None else "",
        language=lang,
        references=_references(tw, tid, text, ents, idx, is_repost),
        tags=tuple(tags),
        provenance=prov,
    )


def _looks_like_post(obj: dict[str, Any]) -> bool:
    return _sid(obj.get("id")) is not None and (
        "text" in obj or "author_id" in obj or "note_tweet" in obj or "author" in obj
    )


#: Kinds of X API v2 objects that are not posts: (what a file of them is, one of them,
#: several of them).
NOT_POSTS: dict[str, tuple[str, str, str]] = {
    "user": ("an X users lookup", "user profile", "user profiles"),
    "list": ("an X lists lookup", "list", "lists"),
    "count": ("an X post counts response", "post count", "post counts"),
    "space": ("an X Spaces lookup", "Space", "Spaces"),
    "dm": ("X direct-message events", "direct-message event", "direct-message events"),
    "job": ("X compliance jobs", "compliance job", "compliance jobs"),
    "compliance": (
        "X compliance results (posts or accounts deleted, protected or suspended)",
        "compliance result",
        "compliance results",
    ),
    "trend": ("X trends", "trend", "trends"),
}
_LIST_FIELDS = frozenset(
    ("follower_count", "member_count", "owner_id", "private", "description", "created_at")
)
_SPACE_STATES = frozenset(("live", "scheduled", "ended", "canceled"))


#: Why a post of the X API v1.1 (``statuses``) format is set aside.
V1_TWEET = (
    "an X API v1.1 tweet (author under 'user'), not the API v2 format mapper reads: "
    "collect with the v2 API (twarc2) or convert the file to v2 first"
)


def _v1_tweet(obj: dict[str, Any]) -> bool:
    """Whether ``obj`` is a post of the v1.1 API: its author is a nested ``user``
    object (``screen_name``), with no v2 ``author_id``."""
    user = obj.get("user")
    return "author_id" not in obj and type(user) is dict and "screen_name" in user


def _record_kind(obj: Any) -> str | None:
    """``"post"``, a key of :data:`NOT_POSTS`, or ``None`` (not an X object mapper knows).

    Users lookups (and followers, following, list members, liking users), lists
    lookups, post counts, Spaces, direct-message events, compliance jobs and trends
    carry no posts: each is recognised by the fields only it has.
    """
    if type(obj) is not dict:
        return None
    keys = obj.keys()
    if "event_type" in keys and keys & {"dm_conversation_id", "sender_id", "participant_ids"}:
        return "dm"
    if "tweet_count" in keys and ("start" in keys or "end" in keys):
        return "count"
    if "action" in keys and "redacted_at" in keys:  # a line of a compliance job's result
        return "compliance"
    if _looks_like_post(obj):
        return "post"
    if _sid(obj.get("id")) is None:
        return (
            "job"
            if "upload_url" in keys or "download_url" in keys
            else ("trend" if "trend_name" in keys else None)
        )
    if "username" in keys:
        return "user"
    if "upload_url" in keys or "download_url" in keys:
        return "job"
    if obj.get("state") in _SPACE_STATES or ("state" in keys and "host_ids" in keys):
        return "space"
    if "name" in keys and (keys & _LIST_FIELDS or keys <= {"id", "name", "__twarc"}):
        return "list"
    return None


def _how_many(kind: str, count: int) -> str:
    _what, one, many = NOT_POSTS[kind]
    return f"{count} {one if count == 1 else many}"


def _not_posts_summary(found: Counter[str]) -> str:
    """``an X users lookup (3 user profiles) and an X lists lookup (1 list)``."""
    parts = [f"{NOT_POSTS[kind][0]} ({_how_many(kind, n)})" for kind, n in found.most_common()]
    return " and ".join(parts)


# --------------------------------------------------------------------------- one file


class _Reader:
    """Reads one archive file; collects counts; reports bad lines to ``on_bad``."""

    def __init__(
        self,
        path: Path,
        on_bad: OnBad | None,
        include_referenced: bool,
        *,
        source: str | None = None,
        collector: str = COLLECTOR,
        retrieved_at: datetime | None = None,
    ) -> None:
        self.path = path
        self.source = os.path.abspath(path) if source is None else source
        self.on_bad = on_bad
        self.include_referenced = include_referenced
        self.collector = collector
        self.retrieved_at = retrieved_at
        self.lines = 0
        self.readable = 0
        self.bad_count = 0
        self.first_problem = ""
        self.post_records = 0  # objects read as posts (whether they became one or not)
        self.not_posts: Counter[str] = Counter()  # X objects that are not posts, by kind

    def bad(self, line: int, reason: str, raw: bytes | str | Any) -> None:
        self.bad_count += 1
        if not self.first_problem:  # goes into a one-line message: no line breaks
            self.first_problem = " ".join(f"line {line}: {reason}".splitlines())
        if self.on_bad is not None:
            if not isinstance(raw, bytes | str):
                try:
                    raw = orjson.dumps(raw)
                except (TypeError, orjson.JSONEncodeError):
                    raw = repr(raw)
            self.on_bad(line, reason, _excerpt(raw))

    # -- objects -------------------------------------------------------------------

    def _prov(self, line: int | None, meta: Any) -> Provenance:
        retrieved = self.retrieved_at
        if retrieved is None and isinstance(meta, dict):
            retrieved = _time(meta.get("retrieved_at"))
        return Provenance(self.collector, __version__, self.source, line, retrieved)

    def _one(
        self,
        tw: Any,
        idx: _Index,
        prov: Provenance,
        line: int,
        raw: Any,
        where: str,
        keep_raw: bool = True,
    ) -> tuple[Post, Any] | None:
        if not isinstance(tw, dict):
            self.bad(line, f"{where}is not a post object", tw)
            return None
        kind = _record_kind(tw)
        if kind in NOT_POSTS:
            self.not_posts[kind] += 1
            self.bad(line, f"{where}{NOT_POSTS[kind][1]}, not a post", tw)
            return None
        self.post_records += 1
        try:
            post = _post(tw, idx, prov)
        except _BadPost as exc:
            self.bad(line, f"{where}{exc}", tw)
            return None
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            self.bad(line, f"{where}unreadable post: {exc}", tw)
            return None
        if raw is None and keep_raw:
            raw = orjson.dumps(tw)
        return post, raw

    def objects(
        self,
        obj: Any,
        line: int,
        pointer: RawPointer | None,
        prov_line: int | None = None,
        keep_raw: bool = True,
        where: str = "",
    ) -> Iterator[tuple[Post, Any]]:
        """``(post, raw)`` of one parsed line or document: ``raw`` is ``pointer`` when
        given, else the post's JSON object (``keep_raw``) or ``None``. ``where`` starts
        the reason of what is set aside (the element of an array it is in)."""
        if isinstance(obj, list):
            if not obj:
                self.bad(line, f"{where}empty JSON array", obj)
                return
            before = self.readable
            for n, element in enumerate(obj, 1):
                at = f"{where}element {n} of {len(obj)}: " if len(obj) > 1 else where
                if isinstance(element, list):
                    self.bad(line, f"{at}nested JSON array", element)
                else:
                    yield from self.objects(element, line, pointer, prov_line, keep_raw, at)
            if self.readable > before:
                self.readable = before + 1
            return
        if not isinstance(obj, dict):
            self.bad(line, f"{where}not an X API object (a JSON {type(obj).__name__})", obj)
            return
        if "data" in obj:
            data = obj["data"]
            if isinstance(data, dict):
                tweets = [data]
            elif isinstance(data, list):
                tweets = data
            elif data is None and "errors" in obj:
                self.bad(line, f"{where}X API error response: {_error_summary(obj['errors'])}", obj)
                self.readable += 1
                return
            else:
                self.bad(line, f"{where}'data' is neither a post nor a list of posts", obj)
                return
            found = [_record_kind(tw) for tw in tweets]
            kinds = Counter(kind for kind in found if kind in NOT_POSTS)
            if tweets and kinds.total() == len(found):  # a page of users, lists...
                self.not_posts.update(kinds)
                what = _not_posts_summary(kinds).replace(" (", " page (", 1)
                self.bad(line, f"{where}{what}, not posts", obj)
                return
            self.readable += 1
            includes = obj.get("includes")
            idx = _Index(includes) if includes else _NO_INCLUDES
            prov = self._prov(prov_line, obj.get("__twarc"))
            seen: set[str] = set()
            for n, tw in enumerate(tweets, 1):
                at = f"{where}post {n} of {len(tweets)}: " if len(tweets) > 1 else where
                item = self._one(tw, idx, prov, line, pointer, at, keep_raw)
                if item is not None:
                    seen.add(item[0].uid)
                    yield item
            if self.include_referenced:
                for tw in idx.tweets.values():
                    if "x:" + str(_sid(tw.get("id"))) in seen:
                        continue
                    at = f"{where}referenced post: "
                    item = self._one(tw, idx, prov, line, pointer, at, keep_raw)
                    if item is not None:
                        yield item
            return
        kind = _record_kind(obj)
        if kind in NOT_POSTS:  # one user profile, list... a line
            self.not_posts[kind] += 1
            self.bad(line, f"{where}{NOT_POSTS[kind][1]}, not a post", obj)
            return
        if kind == "post" and _v1_tweet(obj):
            self.bad(line, f"{where}{V1_TWEET}", obj)
            return
        if kind == "post":
            self.readable += 1
            prov = self._prov(prov_line, obj.get("__twarc"))
            item = self._one(obj, _NO_INCLUDES, prov, line, pointer, where, keep_raw)
            if item is None:
                return
            yield item
            if self.include_referenced:
                for ref in _list(obj.get("referenced_tweets")):
                    if isinstance(ref, dict) and len(ref) > 2 and _looks_like_post(ref):
                        at = f"{where}referenced: "
                        item = self._one(ref, _NO_INCLUDES, prov, line, pointer, at, keep_raw)
                        if item is not None:
                            yield item
            return
        if "errors" in obj:
            self.readable += 1
            self.bad(line, f"{where}X API error response: {_error_summary(obj['errors'])}", obj)
            return
        if "meta" in obj:  # a page without results: the API leaves out "data"
            self.readable += 1
            return
        if (
            isinstance(obj.get("status"), int)
            and "title" in obj
            and ("detail" in obj or "type" in obj)
        ):
            # an error answer in the API's problem format: {"title", "status", "detail"}
            self.readable += 1
            title, detail = _str(obj.get("title")), _str(obj.get("detail"))
            why = f"{title} (HTTP {obj['status']})" + (f": {detail}" if detail != title else "")
            self.bad(line, f"{where}X API error response: {why[:300]}", obj)
            return
        keys = ", ".join(sorted(json.dumps(str(k))[1:-1] for k in obj)[:6])
        self.bad(line, f"{where}not an X API object (keys: {keys or 'none'})", obj)

    # -- the file --------------------------------------------------------------------

    def items(self) -> Iterator[tuple[Post, Any]]:
        """Every ``(post, raw or RawPointer)`` of the file, in file order."""
        require_file(self.path)
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise ImportFormatError(
                f"cannot read: {exc.strerror or exc}", source=self.path
            ) from exc
        with fh:
            gz = fh.read(2) == b"\x1f\x8b" and _gzip_readable(fh)
            fh.seek(0)
            stream: Any = gzip.GzipFile(fileobj=fh) if gz else fh
            try:
                refuse_wide_text(self.path, stream.read(256))
                stream.seek(0)
                layout = self._layout(stream)
                if layout == "array":
                    yield from self._array(stream, gz)
                elif layout == "lines":
                    yield from self._lines(stream, gz)
                else:
                    self.lines = layout[1]
                    yield from self.objects(layout[0], 1, None)
            except (OSError, EOFError, zlib.error) as exc:
                # A compressed file cut short (a capture killed mid-write) or corrupt:
                # keep what was read, set the rest aside.
                self.bad(self.lines + 1, f"unreadable data from here on: {exc}", b"")
        problem = archive_problem(
            self.path,
            lines=self.lines,
            readable=self.readable,
            bad_count=self.bad_count,
            first_problem=self.first_problem,
            post_records=self.post_records,
            not_posts=self.not_posts,
        )
        if problem is not None:
            raise problem

    def _layout(self, stream: Any) -> Any:
        """How the file is laid out: ``"lines"`` (JSONL), ``"array"`` (one top-level
        JSON array over several lines, streamed) or ``(document, lines)`` (one
        pretty-printed response, read whole).

        A first line that is not JSON by itself but opens an object or an array starts
        a document, unless (a line broken in a JSONL file) the next line is a JSON
        object by itself.
        """
        found: list[bytes] = []
        cut = False
        while len(found) < 2:
            raw = stream.readline(FIRST_LINE_LIMIT)
            if not raw:
                break
            if raw.strip():
                found.append(raw)
                cut = not raw.endswith(b"\n") and bool(stream.read(1))
                if cut:
                    break
        stream.seek(0)
        body = found[0].strip().removeprefix(_BOM) if found else b""
        if not body or body[:1] not in (b"{", b"["):
            return "lines"
        if cut:  # a first line longer than FIRST_LINE_LIMIT
            return "array" if body[:1] == b"[" else "lines"
        try:
            orjson.loads(body)
            return "lines"  # line 1 is JSON by itself: JSONL
        except orjson.JSONDecodeError:
            pass
        if len(found) > 1:
            try:
                if isinstance(orjson.loads(found[1]), dict):
                    return "lines"  # a broken first line, then JSONL
            except orjson.JSONDecodeError:
                pass
        if body[:1] == b"[":
            return "array"
        data = _read_at_most(stream, DOCUMENT_LIMIT + 1)
        stream.seek(0)
        if len(data) > DOCUMENT_LIMIT:
            return "lines"
        try:
            return orjson.loads(data.removeprefix(_BOM)), data.count(b"\n") + (
                0 if data.endswith(b"\n") else 1
            )
        except orjson.JSONDecodeError:
            return "lines"

    def _array(self, stream: Any, gz: bool) -> Iterator[tuple[Post, Any]]:
        """The posts of a top-level JSON array, one element at a time: bad elements are
        set aside with the line they start on; invalid JSON sets the rest aside."""
        array = JsonArrayStream(stream)
        for element in array:
            self.lines = max(self.lines, element.line)
            if element.error is not None:
                if element.number == 1 and not array.elements:
                    # Not an array after all (a JSONL file whose first line is broken).
                    stream.seek(0)
                    yield from self._lines(stream, gz)
                    return
                reason = f"element {element.number}: {element.error}"
                if element.error.startswith("invalid JSON"):
                    reason += "; the rest of the file cannot be read"
                self.bad(element.line, reason, element.value)
                continue
            where = f"element {element.number}: "
            if isinstance(element.value, list):
                self.bad(element.line, f"{where}nested JSON array", element.value)
                continue
            yield from self.objects(element.value, element.line, None, where=where)
        self.lines = max(self.lines, array.lines)

    def _lines(self, stream: Any, gz: bool) -> Iterator[tuple[Post, Any]]:
        offset = 0
        number = 0
        for number, line in enumerate(stream, 1):
            start = offset
            offset += len(line)
            self.lines = number
            if number == 1 and line.startswith(_BOM):
                line = line[3:]
                start += 3
            yield from self.line_items(line, number, None if gz else start)

    def line_items(
        self, line: bytes, number: int, offset: int | None
    ) -> Iterator[tuple[Post, Any]]:
        """The ``(post, RawPointer)`` pairs of one JSONL line (``number``, starting at byte
        ``offset`` of the file when known); a blank line gives none, a bad one goes to
        :meth:`bad`."""
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            body = line.strip()
            if body:  # else a blank line (a stream keep-alive)
                self.bad(number, _why(body, exc), line)
            return
        yield from self.objects(obj, number, RawPointer(self.source, number, offset), number)


#: Posts per store transaction for a JSON document (see :func:`import_archive`).
DOCUMENT_BATCH = 1000


def _read_at_most(stream: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``stream``, read a megabyte at a time (``read(limit)``
    would set aside ``limit`` bytes however small the file)."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        part = stream.read(min(1 << 20, limit - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _opens_document(path: Path) -> bool:
    """Whether ``path`` (uncompressed) starts a JSON document spread over lines: its
    first non-blank line opens an object or array without being JSON by itself."""
    try:
        with open(path, "rb") as fh:
            for _ in range(1000):
                line = fh.readline(4096)
                if not line:
                    return False
                body = line.strip().removeprefix(_BOM)
                if body:
                    if body[:1] not in (b"{", b"["):
                        return False
                    try:
                        orjson.loads(body)
                    except orjson.JSONDecodeError:
                        return True
                    return False
    except OSError:
        return False
    return False


def _gzip_readable(fh: Any) -> bool:
    """Whether a file starting with gzip's magic bytes starts a gzip stream (else it is
    read as plain lines: a text file whose first line is garbage)."""
    fh.seek(0)
    try:
        gzip.GzipFile(fileobj=fh).read(1)
    except (OSError, EOFError, zlib.error):
        return False
    return True


def _why(body: bytes, exc: Exception) -> str:
    if b"\x00" in body:
        return "NUL byte in line"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"invalid UTF-8 at byte {err.start}"
    return f"invalid JSON (truncated line?): {exc}"


# --------------------------------------------------------------------------- public API


def iter_archive(
    path: str | Path,
    *,
    on_bad: OnBad | None = None,
    include_referenced: bool = False,
) -> Iterator[Post]:
    """Stream the posts of an X API v2 archive file, line by line.

    Parameters
    ----------
    path : str or Path
        twarc2 JSONL (pages or flattened), raw API responses, filtered-stream output,
        or one pretty-printed JSON response; gzip-compressed files are read too.
    on_bad : callable, optional
        ``on_bad(line, reason, excerpt)`` for each line (or post inside a line) that
        cannot be used; the excerpt is at most 2 KiB. Reading goes on.
    include_referenced : bool
        Also yield the referenced posts found only in ``includes.tweets`` (or inlined
        in flattened posts). Default ``False``; see the module notes.

    Yields
    ------
    Post
        ``uid`` ``x:<id>``, platform ``x``, author username, references (``reply``,
        ``repost``, ``quote``, ``mention``, ``link``), hashtags as ``tags``; provenance
        collector ``x-archive``, the file's absolute path, the line, and
        ``__twarc.retrieved_at`` when present. A post repeated in the file is yielded
        each time (the store keeps one).

    Raises
    ------
    ImportFormatError
        When the file cannot be opened, is empty, or has no readable X data at all
        (raised after reading it; lines before were reported to ``on_bad``).

    Examples
    --------
    >>> bad = []
    >>> report = lambda line, reason, excerpt: bad.append((line, reason))
    >>> posts = list(iter_archive("tweets.jsonl", on_bad=report))  # doctest: +SKIP
    """
    reader = _Reader(Path(path), on_bad, include_referenced)
    for post, _raw in reader.items():
        yield post


def posts_from_page(
    page: Any,
    *,
    source: str,
    line: int | None = None,
    retrieved_at: datetime | None = None,
    include_referenced: bool = False,
    on_bad: OnBad | None = None,
    collector: str = COLLECTOR,
) -> list[Post]:
    """Normalize one parsed X API v2 response (or flattened post) already in memory.

    The same rules as :func:`iter_archive`, for collectors that fetch pages
    themselves (the live X collector), so live and archived data agree.

    Parameters
    ----------
    page : dict or list
        A response (``data``, ``includes``...), a stream message, a flattened post, or
        a list of these.
    source : str
        Provenance source (a query or file).
    line : int, optional
        Provenance line.
    retrieved_at : datetime, optional
        Provenance time; by default the page's ``__twarc.retrieved_at``.
    include_referenced : bool
        Also return the referenced posts found only in ``includes``.
    on_bad : callable, optional
        ``on_bad(line or 0, reason, excerpt)`` for what cannot be used (an error-only
        response, a post without id or author).
    collector : str
        Provenance collector name.

    Returns
    -------
    list of Post
    """
    reader = _Reader(
        Path(source),
        on_bad,
        include_referenced,
        source=source,
        collector=collector,
        retrieved_at=retrieved_at,
    )
    return [post for post, _ in reader.objects(page, line or 0, None, line, keep_raw=False)]


def import_archive(
    store: Store,
    path: str | Path,
    *,
    force: bool = False,
    include_referenced: bool = False,
    batch_size: int | None = None,
) -> CollectResult:
    """Import an X archive file into ``store``, quarantining what cannot be read.

    Parameters
    ----------
    store : Store
        Where posts, quarantined lines and the import record go.
    path : str or Path
        The archive (see :func:`iter_archive`).
    force : bool
        Read the file even when it was imported before and has not changed (posts
        already stored are still not added twice).
    include_referenced : bool
        Import referenced posts too (see :func:`iter_archive`). Part of the import
        record: changing it re-reads the file.
    batch_size : int, optional
        Posts per store transaction. By default 5,000 for JSONL, whose posts point at
        their line, and 1,000 for a JSON document (an array or one response), whose
        posts each carry their JSON: a batch of those is several times larger.

    Returns
    -------
    CollectResult
        ``lines``, ``posts``, ``added``, ``duplicates``, ``quarantined`` and
        ``skipped_unchanged`` (the file was imported before, unchanged: nothing read).

    Raises
    ------
    ImportFormatError
        When the file cannot be read or holds no X data at all (nothing is stored
        from it, and its quarantine rows are removed).
    StoreError
        When the store cannot be written.

    Notes
    -----
    Each post keeps a pointer (file, line, byte offset) to its raw line
    (:meth:`Store.raw_payload`); posts from a whole-file JSON document store their raw
    object instead. See :func:`mapper.collectors.base.import_file` for the skip,
    quarantine and interruption rules.
    """
    p = Path(path)
    holder: list[_Reader] = []
    if batch_size is None:
        batch_size = DOCUMENT_BATCH if _opens_document(p) else DEFAULT_BATCH

    def read(on_bad: OnBad) -> Iterator[tuple[Post, Any]]:
        reader = _Reader(p, on_bad, include_referenced)
        holder.append(reader)
        return reader.items()

    return import_file(
        store,
        p,
        read,
        force=force,
        options="include_referenced" if include_referenced else "",
        batch_size=batch_size,
        lines=lambda: holder[0].lines if holder else 0,
    )


# --------------------------------------------------------------------------- partitions
# The pieces a distributed run needs (mapper.engine.partitions): one line parsed on
# its own, a JSONL file read by byte ranges cut at newlines, and the whole-file
# verdict computed from the counts of every range.


def archive_problem(
    path: str | Path,
    *,
    lines: int,
    readable: int,
    bad_count: int,
    first_problem: str,
    post_records: int,
    not_posts: Counter[str],
) -> ImportFormatError | None:
    """The error that makes an archive unusable as a whole, from its reading counts, or
    ``None`` when it is usable.

    ``lines`` read, ``readable`` lines (or documents) with X API data, ``bad_count``
    things set aside, ``first_problem`` the first of them (``line N: reason``),
    ``post_records`` objects read as posts, ``not_posts`` the X objects that are not
    posts, by kind. A file of nothing but non-post X data, an empty file and a file
    with no X data at all are unusable.
    """
    if post_records == 0 and not_posts:
        return ImportFormatError(
            f"this is {_not_posts_summary(not_posts)}, not posts: nothing imported",
            source=path,
            hint="mapper reads posts: search results, timelines, mentions or stream"
            " captures (twarc2 search, timeline, mentions, stream)",
        )
    if readable == 0:
        if lines == 0 or (bad_count == 0 and not first_problem):
            return ImportFormatError(
                "empty file", source=path, hint="expected X API v2 JSON or twarc2 JSONL"
            )
        return ImportFormatError(
            f"no X API data found ({first_problem})",
            source=path,
            hint="expected twarc2 JSONL (one response page or one flattened post a line)"
            " or an X API v2 JSON response",
        )
    return None


def posts_from_line(
    line: bytes | str,
    *,
    source: str | Path,
    number: int = 1,
    include_referenced: bool = False,
    on_bad: OnBad | None = None,
) -> list[Post]:
    """Normalize one line of a JSONL archive, by the rules of :func:`iter_archive`.

    A pure function of the line: what :func:`iter_archive` yields for the line
    ``number`` of the file ``source``, in the same order. A blank line gives no post;
    a line that cannot be used goes to ``on_bad(number, reason, excerpt)``.

    Parameters
    ----------
    line : bytes or str
        One line of twarc2 JSONL (a response page, a flattened post, a stream message).
    source : str or Path
        The file the line comes from (the posts' provenance).
    number : int
        The line's number in that file.
    include_referenced : bool
        Also return the referenced posts found only in ``includes``.
    on_bad : callable, optional
        Called for what is set aside.

    Returns
    -------
    list of Post

    Examples
    --------
    >>> line = b'{"data": [{"id": "1", "author_id": "9", "text": "hi @bob",'
    >>> line += b' "entities": {"mentions": [{"username": "bob"}]}}],'
    >>> line += b' "includes": {"users": [{"id": "9", "username": "ann"}]}}'
    >>> [(p.uid, p.author, [r.target for r in p.references])
    ...  for p in posts_from_line(line, source="a.jsonl")]
    [('x:1', 'ann', ['bob'])]
    """
    reader = _Reader(Path(source), on_bad, include_referenced)
    data = line.encode("utf-8") if isinstance(line, str) else line
    return [post for post, _raw in reader.line_items(data, number, None)]


def archive_splittable(path: str | Path) -> bool:
    """Whether an archive can be read in byte ranges: plain (uncompressed) UTF-8 JSONL.

    A gzip file, UTF-16 text, one JSON document over several lines (an array or a
    pretty-printed response) and an unreadable file are read whole.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(256)
            if head[:2] == b"\x1f\x8b" or wide_encoding(head) is not None:
                return False
            fh.seek(0)
            return _Reader(p, None, False)._layout(fh) == "lines"
    except OSError:
        return False


def count_range_lines(path: str | Path, start: int, end: int) -> int:
    """How many lines of ``path`` start in the byte range ``[start, end)``.

    The ranges of a file partition its lines: a line belongs to the range its first
    byte falls in, so summing this over the ranges before one gives the number of its
    first line.
    """
    count = 0
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        end = min(end, size)
        if start >= end:
            return 0
        if start == 0:
            count = 1  # the first line starts at byte 0
            fh.seek(0)
        else:
            fh.seek(start - 1)  # a newline just before the range starts a line in it
        left = end - 1 - fh.tell()  # newlines at byte i < end - 1 start a line before end
        while left > 0:
            chunk = fh.read(min(left, 1 << 23))
            if not chunk:
                break
            count += chunk.count(b"\n")
            left -= len(chunk)
    return count


class ArchiveRange(_Reader):
    """Reads the lines of a plain JSONL archive that start in the byte range
    ``[start, end)``, numbering them from ``first_line``.

    :meth:`items` yields ``(post, RawPointer)`` like the whole-file reader does for
    JSONL; the counts (``lines``, ``readable``, ``bad_count``, ``post_records``,
    ``not_posts``) are those of the range, and ``first_bad`` is ``(line, reason)`` of
    the first thing set aside. :func:`archive_problem` over the sums of every range
    of a file gives the whole file's verdict.
    """

    def __init__(
        self,
        path: str | Path,
        start: int,
        end: int,
        *,
        first_line: int = 1,
        on_bad: OnBad | None = None,
        include_referenced: bool = False,
    ) -> None:
        super().__init__(Path(path), on_bad, include_referenced)
        self.start = start
        self.end = end
        self.first_line = first_line
        self.owned = 0
        self.first_bad: tuple[int, str] | None = None

    def bad(self, line: int, reason: str, raw: bytes | str | Any) -> None:
        if self.first_bad is None:
            self.first_bad = (line, reason)
        super().bad(line, reason, raw)

    def items(self) -> Iterator[tuple[Post, Any]]:
        """Every ``(post, RawPointer)`` of the lines starting in the range."""
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise ImportFormatError(
                f"cannot read: {exc.strerror or exc}", source=self.path
            ) from exc
        with fh:
            pos = self.start
            if pos > 0:
                fh.seek(pos - 1)
                if fh.read(1) != b"\n":  # the line running into the range is not ours
                    pos += len(fh.readline())
            number = self.first_line - 1
            while pos < self.end:
                line = fh.readline()
                if not line:
                    break
                start = pos
                pos += len(line)
                number += 1
                self.owned += 1
                self.lines = number
                if start == 0 and line.startswith(_BOM):
                    line = line[3:]
                    start += 3
                yield from self.line_items(line, number, start)
