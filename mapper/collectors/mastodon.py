"""Mastodon collector: an account's public statuses through Mastodon.py, and saved status
JSON files, turned into :class:`~mapper.records.Post` records.

:func:`post_from_status` and :func:`posts_from_status` are pure and read both the plain
JSON of the API and the ``AttribAccessDict`` objects Mastodon.py returns (datetimes in
local time, ids as strings or ints): times become UTC, ids ``str``. Accounts are keyed
``user@instance``: a local account's ``acct`` has no domain, so the instance is added.

What each status points at:

- ``mentions[]``: ``mention`` references (target ``user@instance``, ``target_id`` the
  account id *on the instance that served the status*);
- ``in_reply_to_account_id``: a ``reply`` reference. The target is the status's own
  author when the id is the author's (a thread), else the mention with that id, else an
  account the collector looked up, else ``id:<account id>@<instance>`` (an id the
  resolver reports as unresolved instead of dropping the edge);
- ``reblog`` (a boost): the post is the boost itself (uid from the boost's own ``uri``,
  author the booster, no text) with a ``repost`` reference to the boosted account; the
  boosted status is kept as its own post;
- ``quote`` (Mastodon 4.4+, a ``quoted_status``): a ``quote`` reference;
- links: ``<a href>`` in the content that are not mentions or hashtags (Mastodon marks
  those with the classes ``mention``, ``hashtag`` and ``u-url``), and ``card.url``.

The content HTML is reduced to text with the standard library's ``HTMLParser``: no
network, no entity expansion, ``<script>``/``<style>`` content dropped, only ``http(s)``
links kept. The text is plain text, to be escaped by whatever displays it.

Access: ``GET /api/v1/accounts/lookup`` and ``GET /api/v1/accounts/:id/statuses`` are
public on Mastodon since 2.7 (some instances require a token). An access token is read
from ``MASTODON_ACCESS_TOKEN`` and sent only to the instance named by
``MASTODON_API_BASE_URL``, never to another server.
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from mapper.collectors.base import (
    MAX_ATTEMPTS,
    CollectResult,
    PostStore,
    check_max_posts,
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
from mapper.errors import (
    CollectorError,
    CredentialsError,
    ImportFormatError,
    MapperError,
    RateLimitError,
)
from mapper.http import Retry, default_user_agent, redact, register_secret
from mapper.records import Post, Provenance, Reference

if TYPE_CHECKING:
    from mastodon import Mastodon

__all__ = [
    "MAX_ATTEMPTS",
    "html_to_text",
    "import_mastodon_file",
    "mastodon_client",
    "mastodon_posts",
    "normalize_acct",
    "parse_account",
    "post_from_status",
    "posts_from_status",
]

COLLECTOR = "mastodon"
PLATFORM = "mastodon"
TOKEN_ENV = "MASTODON_ACCESS_TOKEN"
BASE_URL_ENV = "MASTODON_API_BASE_URL"
PAGE_LIMIT = 40  # the most /api/v1/accounts/:id/statuses returns per page
IMPORT_BATCH = 500

_ACCOUNT_RE = re.compile(
    r"^@?(?P<user>[A-Za-z0-9_.-]+)@(?P<host>[A-Za-z0-9.-]+\.[A-Za-z]{2,}|localhost)$"
)
_URL_ACCOUNT_RE = re.compile(r"^/@(?P<user>[A-Za-z0-9_.-]+)/?$")
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg"})
_BLOCK_TAGS = frozenset(
    {"p", "div", "blockquote", "li", "ul", "ol", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_LINK_CLASSES = frozenset({"mention", "hashtag", "u-url"})

T = TypeVar("T")


# --------------------------------------------------------------------------- helpers


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """``obj[key]`` for dicts (and Mastodon.py's dict subclasses), else ``default``."""
    if isinstance(obj, Mapping):
        value = obj.get(key, default)
        return default if value is None else value
    return default


def _list(obj: Any, key: str) -> list[Any]:
    """``obj[key]`` when it is a list (``mentions``, ``tags``), else ``[]``."""
    value = _get(obj, key)
    return value if isinstance(value, list) else []


def _id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _host(url: Any) -> str:
    if not isinstance(url, str):
        return ""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def parse_account(account: str) -> tuple[str, str]:
    """Split ``user@instance`` (also ``@user@instance`` or ``https://instance/@user``).

    Returns
    -------
    tuple of str
        ``(username, instance)`` with the instance lowercased.

    Raises
    ------
    CollectorError
        When ``account`` is none of these forms.

    Examples
    --------
    >>> parse_account("@Alice@Mastodon.Social")
    ('Alice', 'mastodon.social')
    >>> parse_account("https://mastodon.social/@alice")
    ('alice', 'mastodon.social')
    """
    text = account.strip()
    if text.startswith(("https://", "http://")):
        parts = urlsplit(text)
        match = _URL_ACCOUNT_RE.match(parts.path)
        if parts.hostname and match:
            return match.group("user"), parts.hostname.lower()
    else:
        match = _ACCOUNT_RE.match(text)
        if match:
            return match.group("user"), match.group("host").lower()
    raise CollectorError(
        f"not a Mastodon account: {account!r}",
        field="account",
        hint="write it as user@instance, e.g. someone@mastodon.social",
    )


def normalize_acct(acct: str, instance: str) -> str:
    """Return ``user@instance`` for an ``acct`` (a local account's acct has no domain).

    >>> normalize_acct("alice", "mastodon.social")
    'alice@mastodon.social'
    >>> normalize_acct("@bob@Other.Example", "mastodon.social")
    'bob@other.example'
    """
    acct = acct.strip().lstrip("@")
    user, _, domain = acct.partition("@")
    domain = (domain or instance).lower()
    return f"{user}@{domain}" if domain else user


# --------------------------------------------------------------------------- HTML


class _ContentParser(HTMLParser):
    """Collect the text and the anchors of a status's HTML content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.anchors: list[tuple[str, frozenset[str]]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
            return
        if self._skip:  # nothing inside <template>, <svg>... counts, links included
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag == "a":
            values = dict(attrs)
            classes = frozenset((values.get("class") or "").split())
            self.anchors.append(((values.get("href") or "").strip(), classes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._skip:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, list[tuple[str, frozenset[str]]]]:
    """Reduce status HTML to plain text and its anchors.

    Parameters
    ----------
    html : str
        The status ``content``.

    Returns
    -------
    text : str
        Paragraphs separated by a blank line, ``<br>`` as a line break, entities decoded,
        the content of ``<script>``, ``<style>`` and similar elements dropped, control
        characters removed. Mastodon's hidden URL parts (``span.invisible``) are kept, so
        a link reads in full.
    anchors : list of (href, classes)
        Every ``<a>`` in order.

    Examples
    --------
    >>> html_to_text('<p>Hi <a href="https://x.org/" class="u-url mention">@a</a></p>')[0]
    'Hi @a'
    """
    parser = _ContentParser()
    parser.feed(html or "")
    parser.close()
    raw = _CONTROL_RE.sub("", "".join(parser.parts))
    lines = [" ".join(line.split()) for line in raw.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, parser.anchors


# --------------------------------------------------------------------------- pure parsing


def _account_key(account: Any, instance: str) -> tuple[str, str | None, str]:
    """``(user@instance, id, display name)`` of an account object."""
    acct = _get(account, "acct") or _get(account, "username")
    if not isinstance(acct, str) or not acct.strip():
        raise ImportFormatError("the status has no account acct", field="account.acct")
    local = instance or _host(_get(account, "url")) or _host(_get(account, "uri"))
    name = _get(account, "display_name", "")
    return normalize_acct(acct, local), _id(_get(account, "id")), str(name).strip()


def _mention_snippet(text: str, username: str) -> str:
    at = text.lower().find(f"@{username.lower()}") if username else -1
    if at < 0:
        return snippet(text)
    return snippet(text, at, at + len(username) + 1)


def post_from_status(
    status: Mapping[str, Any],
    *,
    instance: str | None = None,
    accounts: Mapping[str, str] | None = None,
    provenance: Provenance | None = None,
) -> Post:
    """Turn one Mastodon status (JSON or Mastodon.py's object) into a :class:`Post`.

    A boost becomes the boost itself (see :func:`posts_from_status` for both posts).

    Parameters
    ----------
    status : mapping
        A ``Status`` entity.
    instance : str, optional
        The instance that served the status (``mastodon.social``): the domain of local
        accounts. When ``None``, the host of each account's ``url`` is used.
    accounts : mapping, optional
        Account id (on ``instance``) to ``user@instance``, for replies to accounts that
        are not mentioned.
    provenance : Provenance, optional
        Stamped on the post.

    Returns
    -------
    Post
        uid ``mastodon:<url or uri>`` (a boost: ``mastodon:<the boost's uri>``), author
        ``user@instance``, text the content as plain text (after the content warning).

    Raises
    ------
    ImportFormatError
        When ``status`` is not an object, or lacks an account (with an ``acct``) or
        both ``url`` and ``uri``.

    Examples
    --------
    >>> status = {"id": "1", "uri": "https://m.example/users/a/statuses/1",
    ...           "url": "https://m.example/@a/1", "created_at": "2016-07-01T10:00:00Z",
    ...           "content": "<p>hi</p>", "account": {"id": "9", "acct": "a"},
    ...           "mentions": [], "tags": []}
    >>> post = post_from_status(status, instance="m.example")
    >>> post.uid, post.author, post.text
    ('mastodon:https://m.example/@a/1', 'a@m.example', 'hi')
    """
    if not isinstance(status, Mapping):
        raise ImportFormatError("a Mastodon status must be a JSON object")
    instance = (instance or "").lower()
    account = _get(status, "account")
    if not isinstance(account, Mapping):
        raise ImportFormatError("the status has no account", field="account")
    author, author_id, author_name = _account_key(account, instance)
    local = instance or author.partition("@")[2]
    uri, url = _get(status, "uri"), _get(status, "url")
    reblog = _get(status, "reblog")
    key = uri if isinstance(reblog, Mapping) else (url or uri)
    if not isinstance(key, str) or not key:
        raise ImportFormatError("the status has neither url nor uri", field="uri")
    created = parse_iso_time(_get(status, "created_at"))

    if isinstance(reblog, Mapping):
        original = post_from_status(reblog, instance=instance, accounts=accounts)
        return Post(
            uid=f"{PLATFORM}:{key}",
            platform=PLATFORM,
            author=author,
            created_at=created or original.created_at,
            text="",
            url=url if isinstance(url, str) and url else original.url,
            author_id=author_id,
            author_name=author_name,
            references=(
                Reference("repost", original.author, original.author_id, snippet(original.text)),
            ),
            provenance=provenance,
        )

    text, anchors = html_to_text(str(_get(status, "content", "")))
    spoiler = " ".join(str(_get(status, "spoiler_text", "")).split())
    if spoiler:
        text = f"{spoiler}\n\n{text}" if text else spoiler
    default_snippet = snippet(text)
    refs: list[Reference] = []
    skip_urls: set[str] = set()

    mentioned: dict[str, str] = {}
    for mention in _list(status, "mentions"):
        acct = _get(mention, "acct") or _get(mention, "username")
        if not isinstance(acct, str) or not acct:
            continue
        target = normalize_acct(acct, instance or _host(_get(mention, "url")) or local)
        mention_id = _id(_get(mention, "id"))
        if mention_id:
            mentioned[mention_id] = target
        if isinstance(_get(mention, "url"), str):
            skip_urls.add(_get(mention, "url"))
        username = str(_get(mention, "username") or acct.partition("@")[0])
        refs.append(Reference("mention", target, mention_id, _mention_snippet(text, username)))

    tags: list[str] = []
    for tag in _list(status, "tags"):
        name = _get(tag, "name")
        if isinstance(name, str) and name.strip():
            tags.append(name.strip().lstrip("#").lower())
        if isinstance(_get(tag, "url"), str):
            skip_urls.add(_get(tag, "url"))

    reply_to = _id(_get(status, "in_reply_to_account_id"))
    if reply_to:
        if reply_to == author_id:
            target = author
        else:
            target = (
                mentioned.get(reply_to)
                or (accounts or {}).get(reply_to)
                or f"id:{reply_to}@{local}"
            )
        refs.append(Reference("reply", target, reply_to, default_snippet))

    quoted = _get(_get(status, "quote"), "quoted_status")
    if isinstance(quoted, Mapping) and isinstance(_get(quoted, "account"), Mapping):
        target, target_id, _ = _account_key(_get(quoted, "account"), instance)
        refs.append(Reference("quote", target, target_id, default_snippet))
        skip_urls.update(
            u for u in (_get(quoted, "url"), _get(quoted, "uri")) if isinstance(u, str)
        )

    links = [
        href
        for href, classes in anchors
        if href.startswith(("http://", "https://"))
        and not classes & _NOT_LINK_CLASSES
        and href not in skip_urls
    ]
    card_url = _get(_get(status, "card"), "url")
    if isinstance(card_url, str) and card_url.startswith(("http://", "https://")):
        links.append(card_url)
    for link in dict.fromkeys(links):
        refs.append(Reference("link", link, None, default_snippet))

    language = _get(status, "language")
    return Post(
        uid=f"{PLATFORM}:{key}",
        platform=PLATFORM,
        author=author,
        created_at=created,
        text=text,
        url=url if isinstance(url, str) else "",
        author_id=author_id,
        author_name=author_name,
        language=language if isinstance(language, str) and language else None,
        references=tuple(refs),
        tags=tuple(dict.fromkeys(tags)),
        provenance=provenance,
    )


def posts_from_status(
    status: Mapping[str, Any],
    *,
    instance: str | None = None,
    accounts: Mapping[str, str] | None = None,
    provenance: Provenance | None = None,
) -> list[Post]:
    """Like :func:`post_from_status`, but a boost gives ``[boost, boosted status]``."""
    post = post_from_status(status, instance=instance, accounts=accounts, provenance=provenance)
    reblog = _get(status, "reblog")
    if not isinstance(reblog, Mapping):
        return [post]
    original = post_from_status(reblog, instance=instance, accounts=accounts, provenance=provenance)
    return [post, original]


# --------------------------------------------------------------------------- import


def _statuses_of(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        if isinstance(value.get("statuses"), list):
            return value["statuses"]
        if any(key in value for key in ("account", "uri", "url", "content")):
            return [value]
    return None


def import_mastodon_file(
    path: str | Path,
    store: PostStore | None = None,
    *,
    instance: str | None = None,
    force: bool = False,
    batch_size: int = IMPORT_BATCH,
) -> CollectResult:
    """Import saved Mastodon statuses into ``store``.

    Parameters
    ----------
    path : str or Path
        A JSON list of statuses (as ``/api/v1/accounts/:id/statuses`` returns), an object
        with a ``statuses`` list (other keys ignored), or JSONL with one status (or one
        page, a list) per line.
    store : Store
        Where posts go (keyword or second argument; the file-source registry's
        ``(store, path)`` order is accepted too). Unreadable lines or statuses are
        quarantined there with their line (JSONL) or item number (JSON document).
    instance : str, optional
        The instance the statuses came from (the domain of local accounts). When not
        given, each account's own URL says it.
    force : bool
        Import even when the store records that this unchanged file was imported.
    batch_size : int
        Posts per ``add_posts`` call.

    Returns
    -------
    CollectResult
        ``source`` is the path.

    Raises
    ------
    ImportFormatError
        The file is missing, not JSON/JSONL, or a JSON document without statuses.

    Examples
    --------
    >>> import_mastodon_file("statuses.jsonl", store=store)  # doctest: +SKIP
    """
    store, path = store_and_path(path, store)
    return import_records(
        store,
        path,
        items_of=_statuses_of,
        build=lambda status, prov: posts_from_status(status, instance=instance, provenance=prov),
        collector=COLLECTOR,
        not_a_document=ImportFormatError(
            "not a list of Mastodon statuses",
            hint="expected a JSON list of statuses or JSONL, one status a line",
        ),
        not_an_item="not a Mastodon status",
        own_raw_when_many=True,
        force=force,
        batch_size=batch_size,
    )


# --------------------------------------------------------------------------- network


def mastodon_client(instance: str, *, timeout: float = 30.0) -> Mastodon:
    """A Mastodon.py client for ``https://<instance>`` that raises on rate limits.

    The access token in ``MASTODON_ACCESS_TOKEN`` is used only when
    ``MASTODON_API_BASE_URL`` names this same instance: a token is never sent to
    another server. Without one, only public statuses are read.

    Examples
    --------
    >>> mastodon_client("mastodon.social").api_base_url
    'https://mastodon.social'
    """
    from mastodon import Mastodon

    instance = instance.lower()
    token = os.environ.get(TOKEN_ENV, "").strip() or None
    if token and _host(os.environ.get(BASE_URL_ENV, "")) != instance:
        token = None
    if token:
        register_secret(token)
    return Mastodon(
        api_base_url=f"https://{instance}",
        access_token=token,
        ratelimit_method="throw",  # mapper.http waits, bounded, with an injectable sleep
        request_timeout=timeout,
        version_check_mode="none",
        user_agent=default_user_agent(),
    )


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status of a Mastodon.py API error (its second argument)."""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def _retry_verdict(client: Any) -> Callable[[BaseException], Retry | None]:
    """Which Mastodon.py failures are worth another attempt, and after how long."""
    from mastodon import errors as mx

    def classify(exc: BaseException) -> Retry | None:
        if isinstance(exc, mx.MastodonRatelimitError):
            reset = getattr(client, "ratelimit_reset", None)
            delay = seconds_until(reset) if isinstance(reset, int | float) else None
            return Retry("rate-limit", delay, "HTTP 429")
        if isinstance(exc, mx.MastodonServerError):
            return Retry("server", None, f"HTTP {_http_status(exc)}")
        if isinstance(exc, mx.MastodonNetworkError):
            return Retry("network", None, redact(str(exc))[:200])
        return None

    return classify


def _as_mapper_error(exc: BaseException, what: str, *, not_found: str) -> MapperError:
    """Translate a non-retryable Mastodon.py failure into a one-line mapper error."""
    from mastodon import errors as mx

    status = _http_status(exc)
    args: tuple[Any, ...] = getattr(exc, "args", ())
    detail = redact(str(args[3]))[:200] if len(args) > 3 and args[3] else ""
    suffix = status_suffix(status, detail)
    if isinstance(exc, mx.MastodonNotFoundError):
        return CollectorError(not_found, hint="check the account name and its instance")
    if isinstance(exc, mx.MastodonUnauthorizedError) or status == 403:
        return CredentialsError(
            f"{what}: refused{suffix}",
            hint=f"this instance wants a token: set {TOKEN_ENV} and "
            f"{BASE_URL_ENV}=https://<instance>",
        )
    if status == 410:
        return CollectorError(f"{not_found} (gone: suspended or deleted)")
    return failed(what, status, detail, exc)


def _next_max_id(page: Any) -> str | None:
    """The ``max_id`` of the next page (from the Link header), else the last status's id."""
    info = getattr(page, "_pagination_next", None)
    if isinstance(info, Mapping) and info.get("max_id") is not None:
        return str(info["max_id"])
    if isinstance(page, list) and page:
        return _id(_get(page[-1], "id"))
    return None


def mastodon_posts(
    account: str,
    *,
    store: PostStore,
    client: Mastodon | None = None,
    max_posts: int | None = None,
    resume: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    on_page: Callable[[CollectResult], None] | None = None,
) -> CollectResult:
    """Collect an account's public statuses, replies and boosts.

    Parameters
    ----------
    account : str
        ``user@instance`` (``@user@instance`` and ``https://instance/@user`` work too).
        The statuses are read from the account's own instance.
    store : Store
        Where posts go, each with its status JSON as raw payload. The page position
        (``max_id``) is saved under ``mastodon:statuses:<user@instance>`` after each page.
    client : mastodon.Mastodon, optional
        Defaults to :func:`mastodon_client` for the account's instance.
    max_posts : int, optional
        Stop after this many statuses (the cursor stays saved: the next run continues
        further back).
    resume : bool
        Start from the saved position (default). A collection that reached the oldest
        status clears it, so the next one starts again from the newest.
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
        The account is not found, or the instance kept failing.
    CredentialsError
        The instance requires a token (401/403).
    RateLimitError
        Still rate limited after bounded waits.

    Examples
    --------
    >>> mastodon_posts("someone@mastodon.social", store=store, max_posts=400)  # doctest: +SKIP
    """
    from mastodon.errors import MastodonError

    username, instance = parse_account(account)
    full = f"{username}@{instance}"
    check_max_posts(max_posts)
    client = client or mastodon_client(instance)
    label = f"mastodon posts {full}"
    not_found = f"Mastodon account not found: {full}"
    classify = _retry_verdict(client)

    def call(fn: Callable[[], T], what: str) -> T:
        return sdk_call(
            fn,
            classify=classify,
            errors=MastodonError,
            translate=lambda exc: _as_mapper_error(exc, what, not_found=not_found),
            what=what,
            sleep=sleep,
        )

    found = call(lambda: client.account_lookup(username), f"Mastodon lookup of {full}")
    account_id = _id(_get(found, "id"))
    if not account_id:
        raise CollectorError(not_found)
    accounts: dict[str, str] = {}

    def fetch(max_id: str | None, limit: int) -> tuple[list[Any], str | None]:
        page = call(lambda: client.account_statuses(account_id, max_id=max_id, limit=limit), label)
        statuses = list(page or [])
        _lookup_reply_accounts(client, statuses, instance, accounts, call)
        return statuses, _next_max_id(page)

    return collect_pages(
        label=label,
        key=f"mastodon:statuses:{full.lower()}",
        store=store,
        fetch=fetch,
        build=lambda status, prov: posts_from_status(
            status, instance=instance, accounts=accounts, provenance=prov
        ),
        collector=COLLECTOR,
        page_limit=PAGE_LIMIT,
        max_posts=max_posts,
        resume=resume,
        on_page=on_page,
    )


def _lookup_reply_accounts(
    client: Any,
    statuses: Iterable[Any],
    instance: str,
    accounts: dict[str, str],
    call: Callable[[Callable[[], Any], str], Any],
) -> None:
    """Look up accounts replied to but neither the author nor mentioned (cached).

    An account that cannot be found keeps the ``id:<id>@<instance>`` target; a rate
    limit or a refusal stops the collection as any other call would.
    """
    for status in statuses:
        reply_to = _id(_get(status, "in_reply_to_account_id"))
        if not reply_to or reply_to in accounts:
            continue
        if reply_to == _id(_get(_get(status, "account"), "id")):
            continue
        if any(_id(_get(m, "id")) == reply_to for m in _list(status, "mentions")):
            continue
        try:
            found = call(functools.partial(client.account, reply_to), "Mastodon account")
        except (RateLimitError, CredentialsError):
            raise
        except MapperError:
            accounts[reply_to] = f"id:{reply_to}@{instance}"
            continue
        acct = _get(found, "acct")
        accounts[reply_to] = (
            normalize_acct(acct, instance)
            if isinstance(acct, str) and acct
            else f"id:{reply_to}@{instance}"
        )
