"""Bluesky collector: author feeds and post search through the atproto SDK, and saved
Bluesky JSON files, turned into :class:`~mapper.records.Post` records.

The same pure functions (:func:`post_from_view`, :func:`posts_from_feed_item`,
:func:`posts_from_feed_json`) read a live response and a saved one, so a collection and
an import of the same JSON give the same records. Raw JSON never leaves this module.

What each post points at:

- mention facets (``app.bsky.richtext.facet#mention``): the mentioned DID; its handle is
  taken from the profiles in the same response, else from the text at the facet's UTF-8
  byte offsets (``@handle``), else (when collecting) from ``app.bsky.actor.getProfiles``;
- link facets (``#link``) and external embeds (``app.bsky.embed.external``): link references;
- replies (``record.reply.parent``): the parent's author, from the feed item's
  ``reply.parent.author`` when present, else the DID in the parent's at-uri;
- quotes (``app.bsky.embed.record`` and ``recordWithMedia``): the quoted post's author;
- reposts (feed items with ``reason`` ``app.bsky.feed.defs#reasonRepost``): a separate
  post by the reposter, uid ``bluesky:repost:<reposter DID>:<original at-uri>``, with a
  ``repost`` reference to the original author; the original post is kept too.

Access. ``app.bsky.feed.getAuthorFeed`` and ``app.bsky.actor.getProfiles`` work without
an account on the public AppView (``https://public.api.bsky.app``), which is what
:func:`bluesky_posts` uses. ``app.bsky.feed.searchPosts`` is often refused there (403)
and never pages unauthenticated (a ``cursor`` is refused), so :func:`bluesky_search` logs
in with an app password from ``BLUESKY_HANDLE`` and ``BLUESKY_APP_PASSWORD`` when they
are set, and otherwise tries the public AppView and reports a :class:`CredentialsError`
that says what to set. The password is only sent to ``com.atproto.server.createSession``;
it is never logged, stored or put in an error message.

Network resilience: every SDK call goes through :func:`mapper.http.call_with_retries`
(429: wait until ``ratelimit-reset`` or ``retry-after``, capped, a bounded number of
times, then :class:`~mapper.errors.RateLimitError`; 5xx and transport errors:
exponential backoff, then :class:`~mapper.errors.CollectorError`); 401/403 become
:class:`~mapper.errors.CredentialsError` at once. Page cursors are saved in the store
after each page, so an interrupted collection resumes where it stopped.
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mapper.collectors.base import (
    MAX_ATTEMPTS,
    CollectResult,
    PostStore,
    collect_pages,
    failed,
    import_records,
    parse_iso_time,
    sdk_call,
    seconds_until,
    snippet,
    status_suffix,
    store_and_path,
)
from mapper.errors import CollectorError, CredentialsError, ImportFormatError, MapperError
from mapper.http import Retry, redact, register_secret
from mapper.records import Post, Provenance, Reference

if TYPE_CHECKING:
    from atproto import Client

__all__ = [
    "MAX_ATTEMPTS",
    "bluesky_client",
    "bluesky_posts",
    "bluesky_search",
    "import_bluesky_file",
    "post_from_view",
    "post_url",
    "posts_from_feed_item",
    "posts_from_feed_json",
]

COLLECTOR = "bluesky"
PLATFORM = "bluesky"
#: The public, unauthenticated Bluesky AppView.
PUBLIC_APPVIEW = "https://public.api.bsky.app"
#: Where an app password logs in (the SDK then switches to the account's own PDS).
LOGIN_SERVICE = "https://bsky.social"
HANDLE_ENV = "BLUESKY_HANDLE"
PASSWORD_ENV = "BLUESKY_APP_PASSWORD"

PAGE_LIMIT = 100  # the most getAuthorFeed and searchPosts return per page
PROFILE_BATCH = 25  # the most getProfiles accepts per call
IMPORT_BATCH = 500

POST_COLLECTION = "app.bsky.feed.post"
MENTION = "app.bsky.richtext.facet#mention"
LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"
REASON_REPOST = "app.bsky.feed.defs#reasonRepost"

_HANDLE_RE = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)

T = TypeVar("T")


# --------------------------------------------------------------------------- helpers


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _parse_at_uri(uri: Any) -> tuple[str, str, str] | None:
    """Split ``at://<authority>/<collection>/<rkey>``; ``None`` when it is not one."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def _did_of_uri(uri: Any) -> str | None:
    parsed = _parse_at_uri(uri)
    if parsed and parsed[0].startswith("did:"):
        return parsed[0]
    return None


def _valid_handle(handle: Any) -> bool:
    return (
        isinstance(handle, str)
        and handle != "handle.invalid"
        and len(handle) <= 253
        and bool(_HANDLE_RE.match(handle))
    )


def post_url(handle_or_did: str, uri: str) -> str:
    """The bsky.app web address of the post ``uri`` by ``handle_or_did``.

    >>> post_url("example.bsky.social", "at://did:plc:abc/app.bsky.feed.post/3k2x")
    'https://bsky.app/profile/example.bsky.social/post/3k2x'
    """
    parsed = _parse_at_uri(uri)
    if not parsed:
        return ""
    return f"https://bsky.app/profile/{handle_or_did or parsed[0]}/post/{parsed[2]}"


def _byte_slice(text: str, start: Any, end: Any) -> tuple[str, int, int] | None:
    """The text between UTF-8 byte offsets, with its character offsets; ``None`` if invalid.

    Facet offsets count bytes of the UTF-8 encoding, not characters: ``"café @a.b"``
    puts ``@`` at byte 6 but character 5.
    """
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
        return None
    data = text.encode("utf-8")
    if not 0 <= start < end <= len(data):
        return None
    piece = data[start:end].decode("utf-8", errors="ignore")
    char_start = len(data[:start].decode("utf-8", errors="ignore"))
    return piece, char_start, char_start + len(piece)


def _handles_in(obj: Any, into: dict[str, str] | None = None) -> dict[str, str]:
    """Map DID to handle for every profile (a mapping with ``did`` and ``handle``) in ``obj``."""
    found = {} if into is None else into
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            did, handle = node.get("did"), node.get("handle")
            if isinstance(did, str) and did.startswith("did:") and _valid_handle(handle):
                found.setdefault(did, str(handle))
            stack.extend(v for v in node.values() if isinstance(v, Mapping | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, Mapping | list))
    return found


def _account(profile: Any, fallback_did: str | None, handles: Mapping[str, str]) -> tuple[str, str]:
    """Return ``(handle or DID, DID)`` for a profile view (or only a DID)."""
    profile = _map(profile)
    did = _str(profile.get("did")) or (fallback_did or "")
    handle = profile.get("handle")
    if not _valid_handle(handle):
        handle = handles.get(did, "")
    return (handle or did), did


def _dedupe(refs: Iterable[Reference]) -> tuple[Reference, ...]:
    seen: set[tuple[str, str]] = set()
    out = []
    for ref in refs:
        key = (ref.kind, ref.target_id or ref.target.lower())
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return tuple(out)


def _http_url(value: Any) -> str:
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else ""


# --------------------------------------------------------------------------- pure parsing


def _embed_parts(view: Mapping[str, Any], record: Mapping[str, Any]) -> tuple[Any, list[str]]:
    """From the view's embed (preferred) and the record's: the quoted record and link URLs."""
    quoted: Any = None
    links: list[str] = []
    for embed in (_map(view.get("embed")), _map(record.get("embed"))):
        kind = _str(embed.get("$type"))
        media: Mapping[str, Any] = {}
        if kind.startswith("app.bsky.embed.recordWithMedia"):
            inner = _map(embed.get("record"))
            candidate = inner.get("record") if "record" in inner else inner
            media = _map(embed.get("media"))
        elif kind.startswith("app.bsky.embed.record"):
            candidate = embed.get("record")
        else:
            candidate = None
            media = embed
        if quoted is None and isinstance(candidate, Mapping) and candidate.get("uri"):
            quoted = candidate
        if _str(media.get("$type")).startswith("app.bsky.embed.external"):
            url = _http_url(_map(media.get("external")).get("uri"))
            if url:
                links.append(url)
    return quoted, links


def post_from_view(
    view: Mapping[str, Any],
    *,
    reply: Mapping[str, Any] | None = None,
    handles: Mapping[str, str] | None = None,
    provenance: Provenance | None = None,
) -> Post:
    """Turn one ``app.bsky.feed.defs#postView`` (JSON) into a :class:`Post`.

    Parameters
    ----------
    view : mapping
        A post view as the AppView returns it (``uri``, ``author``, ``record``,
        ``embed``...), e.g. one of ``searchPosts``'s ``posts`` or a feed item's ``post``.
    reply : mapping, optional
        The feed item's ``reply`` (``app.bsky.feed.defs#replyRef``), whose ``parent``
        names the author replied to.
    handles : mapping, optional
        DID to handle for accounts known from elsewhere (the rest of the response, a
        profile lookup). Used for mentions and for replies and quotes without a profile.
    provenance : Provenance, optional
        Stamped on the post.

    Returns
    -------
    Post
        uid ``bluesky:<at-uri>``; ``author`` the handle (the DID when the handle is
        unknown or ``handle.invalid``); references in the order mentions and links of the
        text, reply, quote, external embed. A target whose handle is unknown is its DID.

    Raises
    ------
    ImportFormatError
        When ``view`` is not a post view (no ``at://`` post uri, no author DID).

    Examples
    --------
    >>> view = {"uri": "at://did:plc:a/app.bsky.feed.post/3k", "author": {"did": "did:plc:a",
    ...         "handle": "a.example.com"}, "record": {"text": "hi", "createdAt":
    ...         "2016-07-01T10:00:00Z"}, "indexedAt": "2016-07-01T10:00:01Z"}
    >>> post_from_view(view).url
    'https://bsky.app/profile/a.example.com/post/3k'
    """
    if not isinstance(view, Mapping):
        raise ImportFormatError("a Bluesky post view must be a JSON object")
    uri = view.get("uri")
    parsed = _parse_at_uri(uri)
    if parsed is None or parsed[1] != POST_COLLECTION:
        raise ImportFormatError(f"not a Bluesky post uri: {str(uri)[:80]!r}", field="uri")
    known = dict(handles or {})
    _handles_in(view, known)
    author, author_did = _account(view.get("author"), _did_of_uri(uri), known)
    if not author_did.startswith("did:"):
        raise ImportFormatError("the post has no author DID", field="author.did")
    record = _map(view.get("record"))
    text = _str(record.get("text"))
    created = parse_iso_time(record.get("createdAt")) or parse_iso_time(view.get("indexedAt"))
    langs = record.get("langs")
    language = (
        next((x for x in langs if isinstance(x, str) and x), None)
        if isinstance(langs, list)
        else None
    )

    refs: list[Reference] = []
    tags: list[str] = []
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else []:
        facet = _map(facet)
        index = _map(facet.get("index"))
        sliced = _byte_slice(text, index.get("byteStart"), index.get("byteEnd"))
        piece, start, end = sliced if sliced else ("", 0, 0)
        features = facet.get("features")
        for feature in features if isinstance(features, list) else []:
            feature = _map(feature)
            kind = _str(feature.get("$type"))
            if kind == MENTION:
                did = _str(feature.get("did"))
                if not did.startswith("did:"):
                    continue
                shown = piece.strip().removeprefix("@")
                handle = known.get(did) or (shown if _valid_handle(shown) else did)
                refs.append(Reference("mention", handle, did, snippet(text, start, end)))
            elif kind == LINK:
                url = _http_url(feature.get("uri"))
                if url:
                    refs.append(Reference("link", url, None, snippet(text, start, end)))
            elif kind == TAG:
                tag = _str(feature.get("tag")).strip().lstrip("#").lower()
                if tag:
                    tags.append(tag)
    outline_tags = record.get("tags")
    for tag in outline_tags if isinstance(outline_tags, list) else []:
        if isinstance(tag, str) and tag.strip():
            tags.append(tag.strip().lstrip("#").lower())

    default_snippet = snippet(text)
    parent_uri = _map(_map(record.get("reply")).get("parent")).get("uri")
    if _parse_at_uri(parent_uri):
        parent = _map(_map(reply).get("parent"))
        profile = parent.get("author") if parent.get("uri") == parent_uri else None
        target, did = _account(profile, _did_of_uri(parent_uri), known)
        if did:
            refs.append(Reference("reply", target, did, default_snippet))

    quoted, links = _embed_parts(view, record)
    if quoted is not None:
        quoted_uri = quoted.get("uri")
        quoted_parsed = _parse_at_uri(quoted_uri)
        if quoted_parsed and quoted_parsed[1] == POST_COLLECTION:
            target, did = _account(quoted.get("author"), _did_of_uri(quoted_uri), known)
            if did:
                refs.append(Reference("quote", target, did, default_snippet))
    refs.extend(Reference("link", url, None, default_snippet) for url in links)

    return Post(
        uid=f"{PLATFORM}:{uri}",
        platform=PLATFORM,
        author=author,
        created_at=created,
        text=text,
        url=post_url(author, str(uri)),
        author_id=author_did,
        author_name=_str(_map(view.get("author")).get("displayName")).strip(),
        language=language,
        references=_dedupe(refs),
        tags=tuple(dict.fromkeys(tags)),
        provenance=provenance,
    )


def posts_from_feed_item(
    item: Mapping[str, Any],
    *,
    handles: Mapping[str, str] | None = None,
    provenance: Provenance | None = None,
) -> list[Post]:
    """Turn one feed item (``feedViewPost``) or a bare post view into posts.

    A repost item (``reason`` of type ``app.bsky.feed.defs#reasonRepost``) gives two
    posts: the repost by the reposter (uid ``bluesky:repost:<reposter DID>:<at-uri>``,
    time ``reason.indexedAt``, no text of its own, one ``repost`` reference to the
    original author, whose text is the snippet) and the original post.

    Raises
    ------
    ImportFormatError
        When the item is neither a feed item nor a post view.
    """
    if not isinstance(item, Mapping):
        raise ImportFormatError("a Bluesky feed item must be a JSON object")
    if "post" not in item:
        return [post_from_view(item, handles=handles, provenance=provenance)]
    original = post_from_view(
        _map(item.get("post")),
        reply=_map(item.get("reply")),
        handles=handles,
        provenance=provenance,
    )
    reason = _map(item.get("reason"))
    if reason.get("$type") != REASON_REPOST:
        return [original]
    known = dict(handles or {})
    _handles_in(reason, known)
    by_handle, by_did = _account(reason.get("by"), None, known)
    if not by_did.startswith("did:"):
        raise ImportFormatError("the repost reason has no reposter DID", field="reason.by.did")
    uri = original.id
    repost = Post(
        uid=f"{PLATFORM}:repost:{by_did}:{uri}",
        platform=PLATFORM,
        author=by_handle,
        created_at=parse_iso_time(reason.get("indexedAt")) or original.created_at,
        text="",
        url=original.url,
        author_id=by_did,
        author_name=_str(_map(reason.get("by")).get("displayName")).strip(),
        references=(
            Reference("repost", original.author, original.author_id, snippet(original.text)),
        ),
        provenance=provenance,
    )
    return [repost, original]


def _items_of(obj: Any) -> list[Any] | None:
    """The feed items or post views of a response document; ``None`` if it has none."""
    if isinstance(obj, list):
        return obj
    if isinstance(obj, Mapping):
        for key in ("feed", "posts"):
            if isinstance(obj.get(key), list):
                return obj[key]
        if "post" in obj or ("uri" in obj and "record" in obj):
            return [obj]
    return None


def posts_from_feed_json(
    obj: Any, *, provenance: Provenance | None = None, strict: bool = True
) -> list[Post]:
    """Turn a Bluesky response document into posts.

    Parameters
    ----------
    obj : dict or list
        A ``getAuthorFeed``/``getTimeline``/``getFeed`` response (``{"feed": [...]}``),
        a ``searchPosts``/``getPosts`` response (``{"posts": [...]}``), a list of feed
        items or post views, or one of them. Other top-level keys (``cursor``,
        ``hitsTotal``, a ``_comment``) are ignored.
    provenance : Provenance, optional
        Stamped on every post; its ``line`` is replaced by the item's 1-based position.
    strict : bool
        Raise on an unreadable item (default); when false, skip it.

    Returns
    -------
    list of Post
        In the document's order. Handles are resolved from every profile in the document.

    Raises
    ------
    ImportFormatError
        When ``obj`` has no feed items or post views, or (``strict``) an item is unreadable.
    """
    items = _items_of(obj)
    if items is None:
        raise ImportFormatError(
            "not a Bluesky feed or search response",
            hint="expected a JSON object with 'feed' or 'posts', or a list of post views",
        )
    handles = _handles_in(obj)
    posts: list[Post] = []
    for number, item in enumerate(items, 1):
        prov = replace(provenance, line=number) if provenance else None
        try:
            posts.extend(posts_from_feed_item(item, handles=handles, provenance=prov))
        except ImportFormatError as exc:
            if strict:
                raise ImportFormatError(exc.message, line=number, field=exc.field) from exc
    return posts


# --------------------------------------------------------------------------- import


def import_bluesky_file(
    path: str | Path,
    store: PostStore | None = None,
    *,
    force: bool = False,
    batch_size: int = IMPORT_BATCH,
) -> CollectResult:
    """Import saved Bluesky JSON into ``store``.

    Parameters
    ----------
    path : str or Path
        Either one JSON document (a ``getAuthorFeed`` or ``searchPosts`` response, or a
        list of post views; extra top-level keys such as ``_comment`` are ignored), or
        JSONL with one feed item, post view or whole response per line.
    store : Store
        Where posts go (keyword or second argument; the file-source registry's
        ``(store, path)`` order is accepted too). Unreadable lines or items are
        quarantined there with their line number (JSONL) or item number (JSON document).
    force : bool
        Import even when the store records that this unchanged file was imported.
    batch_size : int
        Posts per ``add_posts`` call.

    Returns
    -------
    CollectResult
        ``source`` is the path; ``items`` the feed items and post views read.

    Raises
    ------
    ImportFormatError
        When the file is missing, not JSON/JSONL, or a JSON document that is not a
        Bluesky response (see :func:`mapper.collectors.base.import_records`).

    Notes
    -----
    The file is read twice, streaming: first for the DID-to-handle map of every profile
    in it (so a mention on line 3 can use a handle first seen on line 900), then for
    the posts. Each post from a JSON document keeps its item's JSON as raw payload;
    posts from JSONL point at their line.

    Examples
    --------
    >>> import_bluesky_file("data/demo/corpus/bluesky_posts.json", store=store)  # doctest: +SKIP
    """
    store, path = store_and_path(path, store)
    handles: dict[str, str] = {}

    def learn_handles(values: Iterable[Any]) -> None:
        for value in values:
            _handles_in(value, handles)

    return import_records(
        store,
        path,
        items_of=_items_of,
        build=lambda item, prov: posts_from_feed_item(item, handles=handles, provenance=prov),
        collector=COLLECTOR,
        not_a_document=ImportFormatError(
            "not a Bluesky feed or search response",
            hint="expected a JSON object with 'feed' or 'posts', or post views",
        ),
        not_an_item="not a Bluesky feed item or post view",
        prepare=learn_handles,
        force=force,
        batch_size=batch_size,
    )


# --------------------------------------------------------------------------- network


def _status(exc: BaseException) -> int | None:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _error_detail(exc: BaseException) -> str:
    """``error: message`` of an XRPC error body (never the request, so never a password)."""
    content = getattr(getattr(exc, "response", None), "content", None)
    parts = [getattr(content, "error", None), getattr(content, "message", None)]
    return redact(": ".join(str(x) for x in parts if x))[:200]


def _retry_verdict(exc: BaseException) -> Retry | None:
    """Which atproto SDK failures are worth another attempt, and after how long."""
    from atproto_client import exceptions as ex

    status = _status(exc)
    if isinstance(exc, ex.RateLimitExceededError):
        delay = exc.retry_after
        if delay is None and exc.reset_at is not None:
            delay = seconds_until(exc.reset_at.timestamp())
        return Retry(
            "rate-limit",
            delay,
            "HTTP 429 (ratelimit-reset "
            f"{exc.reset_at.isoformat() if exc.reset_at else 'not given'})",
        )
    if isinstance(exc, ex.NetworkError):
        if status is None:
            return Retry("network", None, f"{type(exc).__name__}: {exc.__cause__ or exc}")
        return Retry("server", None, f"HTTP {status}")
    if isinstance(exc, ex.RequestException) and status is not None and status >= 500:
        return Retry("server", None, f"HTTP {status}")
    return None


def _as_mapper_error(
    exc: BaseException, what: str, *, authenticated: bool, needs_login: bool
) -> MapperError:
    """Translate a non-retryable atproto SDK failure into a one-line mapper error."""
    from atproto_client import exceptions as ex

    status, detail = _status(exc), _error_detail(exc)
    suffix = status_suffix(status, detail)
    if isinstance(exc, ex.UnauthorizedError):
        if authenticated:
            hint = f"check {HANDLE_ENV} and {PASSWORD_ENV} (use an app password)"
        elif needs_login:
            hint = (
                f"post search needs a login on the public AppView: set {HANDLE_ENV} and "
                f"{PASSWORD_ENV} (Settings > Privacy and security > App passwords)"
            )
        else:
            hint = f"set {HANDLE_ENV} and {PASSWORD_ENV} to use an account"
        return CredentialsError(f"{what}: refused{suffix}", hint=hint)
    if isinstance(exc, ex.BadRequestError):
        lowered = detail.lower()
        if "not found" in lowered or "actor" in lowered:
            return CollectorError(
                f"{what}: account not found{suffix}",
                hint="check the handle (did the account change it or leave Bluesky?)",
            )
        return CollectorError(f"{what}: rejected{suffix}", hint="check the handle or the query")
    if isinstance(exc, ex.LoginRequiredError):
        return CredentialsError(
            f"{what}: a login is required", hint=f"set {HANDLE_ENV} and {PASSWORD_ENV}"
        )
    return failed(what, status, detail, exc)


def _call(
    fn: Callable[[], T],
    *,
    what: str,
    sleep: Callable[[float], None],
    authenticated: bool,
    needs_login: bool = False,
) -> T:
    """Run one SDK call under the shared retry policy; SDK errors become mapper errors."""
    from atproto_core.exceptions import AtProtocolError

    return sdk_call(
        fn,
        classify=_retry_verdict,
        errors=AtProtocolError,
        translate=lambda exc: _as_mapper_error(
            exc, what, authenticated=authenticated, needs_login=needs_login
        ),
        what=what,
        sleep=sleep,
    )


def bluesky_client(
    *, login: bool | None = None, timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep
) -> Client:
    """Create an atproto ``Client``: public AppView, or logged in with an app password.

    Parameters
    ----------
    login : bool or None
        ``None`` (default): log in when ``BLUESKY_HANDLE`` and ``BLUESKY_APP_PASSWORD``
        are both set, else use the public AppView. ``True``: log in, and raise
        :class:`CredentialsError` when the variables are missing. ``False``: public AppView.
    timeout : float
        Seconds before an HTTP request is abandoned.
    sleep : callable
        Used between retries of the login.

    Returns
    -------
    atproto.Client
        Its ``_mapper_authenticated`` attribute says whether it is logged in.

    Raises
    ------
    CredentialsError
        The variables are missing (``login=True``) or the login is refused. The message
        names the handle, never the password.

    Examples
    --------
    >>> client = bluesky_client(login=False)  # the public AppView, no account
    >>> client._base_url
    'https://public.api.bsky.app/xrpc'
    """
    from atproto import Client
    from atproto_client.request import Request

    handle = os.environ.get(HANDLE_ENV, "").strip().lstrip("@")
    password = os.environ.get(PASSWORD_ENV, "")
    if login is None:
        login = bool(handle and password)
    if not login:
        client = Client(base_url=PUBLIC_APPVIEW, request=Request(timeout=timeout))
        client._mapper_authenticated = False
        return client
    if not (handle and password):
        raise CredentialsError(
            "Bluesky login needs an account",
            hint=f"set {HANDLE_ENV} and {PASSWORD_ENV} (an app password, not your main one)",
        )
    register_secret(password)
    client = Client(base_url=LOGIN_SERVICE, request=Request(timeout=timeout))
    _call(
        lambda: client.login(handle, password, fetch_bsky_profile=False),
        what=f"Bluesky login of {handle}",
        sleep=sleep,
        authenticated=True,
    )
    client._mapper_authenticated = True
    return client


def _query(client: Client, nsid: str, params: Any) -> dict[str, Any]:
    """Call an XRPC query through the SDK and return the JSON body as it arrived.

    The raw body (not the SDK's pydantic model) goes to the same parser as saved files:
    one odd post is quarantined instead of failing the model of the whole page.
    """
    response = client.invoke_query(nsid, params=params)
    content = response.content
    if not isinstance(content, dict):
        raise CollectorError(f"Bluesky answered {nsid} with something other than JSON")
    return content


def _resolve_dids(
    client: Client,
    posts: list[tuple[Post, str]],
    cache: dict[str, str],
    missing: set[str],
    call: Callable[[Callable[[], dict[str, Any]], str], dict[str, Any]],
) -> list[tuple[Post, str]]:
    """Replace DID targets by handles, looking unknown DIDs up with ``getProfiles``.

    ``cache`` (DID to handle) and ``missing`` (DIDs without a profile: deleted or
    suspended accounts, which keep their DID as target) last for a whole collection.
    """
    from atproto import models

    wanted = sorted(
        {
            ref.target
            for post, _raw in posts
            for ref in post.references
            if ref.target.startswith("did:")
            and ref.target not in cache
            and ref.target not in missing
        }
    )
    for start in range(0, len(wanted), PROFILE_BATCH):
        batch = wanted[start : start + PROFILE_BATCH]
        params = models.AppBskyActorGetProfiles.Params(actors=batch)
        body = call(
            functools.partial(_query, client, "app.bsky.actor.getProfiles", params),
            "Bluesky getProfiles",
        )
        _handles_in(body.get("profiles", []), cache)
        missing.update(did for did in batch if did not in cache)
    out = []
    for post, raw in posts:
        if any(ref.target.startswith("did:") for ref in post.references):
            refs = tuple(
                replace(ref, target=cache.get(ref.target, ref.target))
                if ref.target.startswith("did:")
                else ref
                for ref in post.references
            )
            post = replace(post, references=refs)
        out.append((post, raw))
    return out


def _collect(
    client: Client,
    store: PostStore,
    *,
    label: str,
    key: str,
    nsid: str,
    params: Callable[[str | None, int], Any],
    list_key: str,
    max_posts: int | None,
    resume: bool,
    sleep: Callable[[float], None],
    on_page: Callable[[CollectResult], None] | None,
    needs_login: bool = False,
) -> CollectResult:
    """Page through the XRPC query ``nsid`` (:func:`~mapper.collectors.base.collect_pages`),
    turning the DIDs the posts point at into handles."""
    authenticated = bool(getattr(client, "_mapper_authenticated", False))

    def call(fn: Callable[[], dict[str, Any]], what: str) -> dict[str, Any]:
        return _call(
            fn, what=what, sleep=sleep, authenticated=authenticated, needs_login=needs_login
        )

    cache: dict[str, str] = {}
    missing: set[str] = set()

    def fetch(cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
        page = call(lambda: _query(client, nsid, params(cursor, limit)), label)
        _handles_in(page, cache)
        items, next_cursor = page.get(list_key), page.get("cursor")
        return (
            items if isinstance(items, list) else [],
            next_cursor if isinstance(next_cursor, str) else None,
        )

    return collect_pages(
        label=label,
        key=key,
        store=store,
        fetch=fetch,
        build=lambda item, prov: posts_from_feed_item(item, handles=cache, provenance=prov),
        collector=COLLECTOR,
        page_limit=PAGE_LIMIT,
        max_posts=max_posts,
        resume=resume,
        finish=lambda posts: _resolve_dids(client, posts, cache, missing, call),
        on_page=on_page,
    )


def bluesky_posts(
    handle: str,
    *,
    store: PostStore,
    client: Client | None = None,
    max_posts: int | None = None,
    resume: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    on_page: Callable[[CollectResult], None] | None = None,
) -> CollectResult:
    """Collect an account's posts, replies and reposts (``app.bsky.feed.getAuthorFeed``).

    Parameters
    ----------
    handle : str
        A handle (``@`` allowed) or a DID.
    store : Store
        Where posts go, each with its feed item's JSON as raw payload. The page cursor
        is saved under ``bluesky:author:<handle>`` after each page.
    client : atproto.Client, optional
        Defaults to the public AppView, no account needed (see :func:`bluesky_client`).
    max_posts : int, optional
        Stop after this many feed items. The cursor stays saved, so the next run
        continues further back.
    resume : bool
        Start from the saved cursor of an interrupted or budget-limited run (default).
        A collection that reached the end clears its cursor, so the next one starts
        again from the newest post (already stored posts are counted as duplicates).
    sleep : callable
        Waits between retries (injectable for tests).
    on_page : callable, optional
        Called with the running totals after each page.

    Returns
    -------
    CollectResult

    Raises
    ------
    CollectorError
        The account does not exist, or Bluesky kept failing (5xx, network).
    RateLimitError
        Still rate limited after bounded waits (or asked to wait too long).
    CredentialsError
        The request was refused (401/403).

    Examples
    --------
    >>> bluesky_posts("neallawson.bsky.social", store=store, max_posts=200)  # doctest: +SKIP
    """
    from atproto import models

    actor = handle.strip().lstrip("@")
    if not actor:
        raise CollectorError("no Bluesky handle given", field="handle")
    client = client or bluesky_client(login=False)

    def params(cursor: str | None, limit: int) -> Any:
        return models.AppBskyFeedGetAuthorFeed.Params(
            actor=actor, cursor=cursor, limit=limit, filter="posts_with_replies"
        )

    key, nsid = f"bluesky:author:{actor.lower()}", "app.bsky.feed.getAuthorFeed"
    return _collect(
        client,
        store,
        label=f"bluesky posts {actor}",
        key=key,
        nsid=nsid,
        params=params,
        list_key="feed",
        max_posts=max_posts,
        resume=resume,
        sleep=sleep,
        on_page=on_page,
    )


def bluesky_search(
    query: str,
    *,
    store: PostStore,
    client: Client | None = None,
    max_posts: int | None = None,
    sort: str = "latest",
    since: str | None = None,
    until: str | None = None,
    resume: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    on_page: Callable[[CollectResult], None] | None = None,
) -> CollectResult:
    """Collect posts matching a search (``app.bsky.feed.searchPosts``).

    Parameters
    ----------
    query : str
        Bluesky search syntax (``"progressive alliance"``, ``#fairvotes``,
        ``from:handle``...).
    store : Store
        Where posts go; the cursor is saved under ``bluesky:search:<query>|...``.
    client : atproto.Client, optional
        Defaults to :func:`bluesky_client`: logged in when ``BLUESKY_HANDLE`` and
        ``BLUESKY_APP_PASSWORD`` are set, else the public AppView. Unauthenticated
        search is often refused (403) and never pages, so set the variables.
    max_posts : int, optional
        Stop after this many posts (the cursor stays saved).
    sort : {"latest", "top"}
        Result order.
    since, until : str, optional
        ISO dates or datetimes bounding ``createdAt`` (``2016-07-01``).
    resume, sleep, on_page
        As in :func:`bluesky_posts`.

    Returns
    -------
    CollectResult

    Raises
    ------
    CredentialsError
        Search refused without login, or the login refused.
    RateLimitError, CollectorError
        As in :func:`bluesky_posts`.

    Examples
    --------
    >>> bluesky_search("#progressivealliance", store=store, max_posts=500)  # doctest: +SKIP
    """
    from atproto import models

    query = query.strip()
    if not query:
        raise CollectorError("empty Bluesky search query", field="query")
    if sort not in ("latest", "top"):
        raise CollectorError(f"unknown sort {sort!r}", field="sort", hint="use latest or top")
    client = client or bluesky_client(sleep=sleep)

    def params(cursor: str | None, limit: int) -> Any:
        return models.AppBskyFeedSearchPosts.Params(
            q=query, cursor=cursor, limit=limit, sort=sort, since=since, until=until
        )

    key = f"bluesky:search:{query}|{sort}|{since or ''}|{until or ''}"
    nsid = "app.bsky.feed.searchPosts"
    return _collect(
        client,
        store,
        label=f"bluesky search {query}",
        key=key,
        nsid=nsid,
        params=params,
        list_key="posts",
        max_posts=max_posts,
        resume=resume,
        sleep=sleep,
        on_page=on_page,
        needs_login=True,
    )
