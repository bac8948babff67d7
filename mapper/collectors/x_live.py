"""Collect posts live from the X API v2 (tweepy ``Client``), paid read by paid read.

Recent and full-archive search, a user's mentions and a user's posts, with the
expansions a mention network needs. The collector iterates over raw response
*pages* (``data``, ``includes``, ``errors``, ``meta``), never over tweepy's
``Paginator.flatten()``, which drops ``includes``. Each page is appended unchanged to
a twarc2-style JSONL archive (stamped with ``__twarc``: url, version, retrieved_at)
*before* its posts reach the store, so nothing paid for is lost; then its posts are
stored, its partial ``errors`` quarantined, and the pagination token saved as a
cursor, so an interrupted collection resumes where it stopped. Posts are normalised by
the archive importer (:func:`mapper.collectors.x_archive.posts_from_page`), so a page
collected live and the same page re-imported from the archive give equal posts.

Every pitfall of tweepy is designed around: ``wait_on_rate_limit`` is off (with no
reset header tweepy retries at once, recursively) and 429, 5xx and network errors go
through :func:`mapper.http.call_with_retries` with capped sleeps and bounded attempts;
the HTTP session gets timeouts (tweepy sets none); full-archive search is paced to one
request a second (that limit is not in the headers); ids are normalised to ``str``; a
mention whose user is missing from ``includes`` is still a reference; the bearer token
comes only from ``X_BEARER_TOKEN`` or a file the user names, and is redacted from
every message and log line.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapper import __version__
from mapper.collectors.base import CollectResult, check_max_posts, sdk_call
from mapper.collectors.tables import parse_time
from mapper.collectors.x_archive import posts_from_page
from mapper.errors import CollectorError, CredentialsError, MapperError, RateLimitError
from mapper.http import (
    Retry,
    RetryPolicy,
    default_user_agent,
    install_redaction,
    rate_limit_delay,
    redact,
    register_secret,
)
from mapper.records import now_utc, utc

if TYPE_CHECKING:
    import tweepy

    from mapper.store import Store

__all__ = [
    "EXPANSIONS",
    "TOKEN_ENV",
    "TWEET_FIELDS",
    "USER_FIELDS",
    "load_bearer_token",
    "make_client",
    "mentions",
    "posts",
    "resolve_user_id",
    "search",
]

#: The environment variable holding the X API bearer token.
TOKEN_ENV = "X_BEARER_TOKEN"
COLLECTOR = "x-live"

EXPANSIONS: tuple[str, ...] = (
    "author_id",
    "entities.mentions.username",
    "referenced_tweets.id",
    "referenced_tweets.id.author_id",
    "in_reply_to_user_id",
)
TWEET_FIELDS: tuple[str, ...] = (
    "created_at",
    "author_id",
    "conversation_id",
    "entities",
    "referenced_tweets",
    "in_reply_to_user_id",
    "lang",
    "public_metrics",
    "note_tweet",
)
USER_FIELDS: tuple[str, ...] = ("username", "name", "verified", "description")

_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


@dataclass(frozen=True, slots=True)
class _Endpoint:
    """One paginated X API v2 endpoint as the collector drives it."""

    name: str
    method: str
    token_param: str
    page_min: int
    page_max: int
    min_interval: float
    access: str


_SEARCH_RECENT = _Endpoint(
    "search-recent",
    "search_recent_tweets",
    "next_token",
    10,
    100,
    0.0,
    "recent search needs an X API project with read access (Basic tier or above)",
)
_SEARCH_ALL = _Endpoint(
    "search-all",
    "search_all_tweets",
    "next_token",
    10,
    500,
    1.0,
    "full-archive search needs Pro (or Academic Research) access; without it, "
    "drop --archive to search the last 7 days",
)
_MENTIONS = _Endpoint(
    "mentions",
    "get_users_mentions",
    "pagination_token",
    5,
    100,
    0.0,
    "user mention timelines need an X API project with read access (Basic tier or above)",
)
_POSTS = _Endpoint(
    "posts",
    "get_users_tweets",
    "pagination_token",
    5,
    100,
    0.0,
    "user post timelines need an X API project with read access (Basic tier or above)",
)


# --------------------------------------------------------------------------- credentials


def load_bearer_token(token_file: str | Path | None = None) -> str:
    """Read the X API bearer token from ``token_file`` or from ``X_BEARER_TOKEN``.

    Parameters
    ----------
    token_file : str or Path, optional
        A file holding only the token. When given, the environment is not consulted.

    Returns
    -------
    str
        The token (also registered with :func:`mapper.http.register_secret`, so it is
        masked in every message).

    Raises
    ------
    CredentialsError
        No token, an empty file, or an unreadable file.
    """
    if token_file is not None:
        path = Path(token_file)
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CredentialsError(
                f"cannot read the token file ({exc.strerror or exc})",
                source=path,
                hint="pass --token-file FILE naming a file that holds only the bearer token",
            ) from None
        if not token:
            raise CredentialsError(
                "the token file is empty",
                source=path,
                hint="put the X API bearer token on its own in this file",
            )
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            raise CredentialsError(
                "no X API bearer token",
                hint=f"set {TOKEN_ENV} or pass --token-file FILE (a file holding only the token)",
            )
    register_secret(token)
    return token


def make_client(
    *,
    token_file: str | Path | None = None,
    connect_timeout: float = 10.0,
    read_timeout: float = 60.0,
) -> tweepy.Client:
    """Build the tweepy ``Client`` the collectors expect.

    The client returns raw :class:`requests.Response` objects (so ``includes``,
    ``errors`` and ``meta`` survive), never waits on rate limits by itself, and its
    session has connect and read timeouts.

    Parameters
    ----------
    token_file : str or Path, optional
        A file holding the bearer token; by default ``X_BEARER_TOKEN`` is read.
    connect_timeout, read_timeout : float
        Seconds.

    Returns
    -------
    tweepy.Client

    Raises
    ------
    CredentialsError
        No token available.
    """
    import requests
    import tweepy

    token = load_bearer_token(token_file)
    install_redaction("tweepy.client")  # it logs request headers at DEBUG
    client = tweepy.Client(
        bearer_token=token, return_type=requests.Response, wait_on_rate_limit=False
    )
    # tweepy sets no timeout on its session: a stalled connection would hang forever.
    client.session.request = functools.partial(
        client.session.request, timeout=(connect_timeout, read_timeout)
    )
    client.user_agent = f"{default_user_agent()} {client.user_agent}"
    return client


# --------------------------------------------------------------------------- errors


def _api_detail(exc: Any) -> str:
    """A short, redacted description of an X API error response."""
    response = getattr(exc, "response", None)
    parts: list[str] = []
    status = getattr(response, "status_code", None)
    if status is not None:
        parts.append(f"HTTP {status}")
    body: Any = None
    try:
        body = response.json() if response is not None else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        items = [body, *[e for e in body.get("errors", []) if isinstance(e, dict)]]
        for item in items:
            for key in ("title", "detail", "message", "reason", "required_enrollment"):
                value = item.get(key)
                if isinstance(value, str) and value and value not in parts:
                    parts.append(value)
    return redact(": ".join(parts))[:400]


def _is_usage_cap(exc: Any) -> bool:
    """Whether a 429 is the monthly usage cap (waiting minutes will not help)."""
    try:
        body = exc.response.json()
    except (AttributeError, ValueError):
        return False
    text = json.dumps(body).lower() if isinstance(body, dict | list) else ""
    return "usagecap" in text or "usage-capped" in text


def _classify(exc: BaseException, clock: Callable[[], float]) -> Retry | None:
    """Which tweepy/requests failures are worth another attempt."""
    import requests
    import tweepy

    if isinstance(exc, tweepy.TooManyRequests):
        if _is_usage_cap(exc):
            return None
        headers = getattr(exc.response, "headers", None)
        return Retry("rate-limit", rate_limit_delay(headers, now=clock()), _api_detail(exc))
    if isinstance(exc, tweepy.TwitterServerError):
        return Retry("server", None, _api_detail(exc))
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return Retry("network", None, f"{type(exc).__name__}: {exc}")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return Retry("network", None, f"{type(exc).__name__}: {exc}")
    return None


def _translate(exc: BaseException, endpoint: _Endpoint | None, what: str) -> MapperError:
    """Turn a tweepy error that was not retried into a mapper error with a hint."""
    import tweepy

    if not isinstance(exc, tweepy.HTTPException):
        return CollectorError(f"{what}: {redact(str(exc))}")
    detail = _api_detail(exc)
    if isinstance(exc, tweepy.Unauthorized):
        return CredentialsError(
            f"{what}: X refused the bearer token ({detail})",
            hint=f"check {TOKEN_ENV} or --token-file; regenerate the token in the X developer "
            "portal if it was revoked",
        )
    if isinstance(exc, tweepy.Forbidden):
        access = endpoint.access if endpoint else "this call needs more X API access"
        return CredentialsError(
            f"{what}: X refused access ({detail})",
            hint=f"{access}; check the app's project and access level in the developer portal",
        )
    if isinstance(exc, tweepy.TooManyRequests):
        return RateLimitError(
            f"{what}: the X API usage cap is reached ({detail})",
            hint="wait for the monthly cap to reset or raise it in the developer portal; "
            "running again later resumes where this stopped",
        )
    if isinstance(exc, tweepy.BadRequest):
        return CollectorError(
            f"{what}: X rejected the request ({detail})",
            hint="check the query syntax, the dates and the options",
        )
    if isinstance(exc, tweepy.NotFound):
        return CollectorError(f"{what}: not found ({detail})")
    return CollectorError(f"{what}: X API error ({detail})")


def _call(
    fn: Callable[[], Any],
    *,
    endpoint: _Endpoint | None,
    what: str,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    rng: random.Random,
) -> dict[str, Any]:
    """Call a tweepy method under the retry policy; return the page as a dict."""
    import tweepy

    response = sdk_call(
        fn,
        classify=lambda exc: _classify(exc, clock),
        errors=tweepy.TweepyException,
        translate=lambda exc: _translate(exc, endpoint, what),
        what=what,
        sleep=sleep,
        policy=policy,
        rng=rng,
    )
    if not hasattr(response, "json"):
        raise CollectorError(
            f"{what}: the tweepy client must return raw responses",
            hint="build it with mapper.collectors.x_live.make_client()",
        )
    try:
        page = response.json()
    except ValueError:
        raise CollectorError(
            f"{what}: the X API answered with something that is not JSON"
        ) from None
    if not isinstance(page, dict):
        raise CollectorError(f"{what}: unexpected X API answer (not a JSON object)")
    return {"page": page, "url": redact(str(getattr(response, "url", "")))}


def _str_id(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


# --------------------------------------------------------------------------- collection


def _cursor_key(identity: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    return f"x:{identity['endpoint']}:{digest}"


def _time_param(value: datetime | str | None) -> str | None:
    """A time bound as the API wants it (``YYYY-MM-DDTHH:MM:SSZ``); naive means UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parsed = parse_time(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise CollectorError(f"not a date or time: {value!r}", hint="use YYYY-MM-DD")
        value = parsed
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _open_archive(path: Path) -> int:
    """Lines already in the archive ``path`` (created with its folder when missing).

    A last line torn by a killed run (no newline at its end) is ended first, so the
    next page starts a line of its own and the torn one is set aside on import.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        return 0
    count = 0
    last = b"\n"
    with open(path, "r+b") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            count += block.count(b"\n")
            last = block[-1:]
        if last != b"\n":
            fh.write(b"\n")  # at the end: everything was read
            count += 1
    return count


def _collect(
    client: tweepy.Client,
    endpoint: _Endpoint,
    *,
    target: Mapping[str, Any],
    store: Store,
    max_posts: int | None,
    since_id: str | int | None,
    until_id: str | int | None,
    start_time: datetime | str | None,
    end_time: datetime | str | None,
    archive_path: str | Path | None,
    resume: bool,
    policy: RetryPolicy | None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    monotonic: Callable[[], float],
    rng: random.Random | None,
    on_page: Callable[[CollectResult], None] | None,
) -> CollectResult:
    """Drive one paginated endpoint: request, archive, store, quarantine, save cursor."""
    check_max_posts(max_posts)
    policy = policy or RetryPolicy()
    rng = rng or random.Random()
    params: dict[str, Any] = {
        "expansions": list(EXPANSIONS),
        "tweet_fields": list(TWEET_FIELDS),
        "user_fields": list(USER_FIELDS),
    }
    for key, value in (
        ("since_id", _str_id(since_id)),
        ("until_id", _str_id(until_id)),
        ("start_time", _time_param(start_time)),
        ("end_time", _time_param(end_time)),
    ):
        if value is not None:
            params[key] = value
    identity = {
        "endpoint": endpoint.name,
        **target,
        **{k: params.get(k) for k in ("since_id", "until_id", "start_time", "end_time")},
    }
    key = _cursor_key(identity)
    source = f"x {endpoint.name} " + " ".join(f"{k}={v}" for k, v in target.items())

    # Where to start: resume an interrupted pass with its exact parameters, or after a
    # complete pass fetch only what is newer than its newest post.
    state: dict[str, Any] = {}
    if resume:
        saved = store.get_cursor(key)
        if saved:
            try:
                state = json.loads(saved)
            except ValueError:
                state = {}
    token: str | None = None
    pass_newest: str | None = None  # newest post of this pass (its first page's newest_id)
    floor: str | None = None  # newest post of the last complete pass
    if state.get("next_token") and not state.get("complete"):
        token = str(state["next_token"])
        pass_newest = _str_id(state.get("newest_id"))
        if state.get("since_id") and state["since_id"] != params.get("since_id"):
            # an interrupted "only newer" pass: resend exactly what it sent
            params["since_id"] = str(state["since_id"])
            params.pop("start_time", None)
    elif state.get("complete") and state.get("newest_id") and since_id is None:
        floor = str(state["newest_id"])
        params["since_id"] = floor
        params.pop("start_time", None)  # since_id is the stricter bound
    pass_since = params.get("since_id")

    archive = Path(archive_path) if archive_path is not None else None
    line = _open_archive(archive) if archive is not None else 0
    method = getattr(client, endpoint.method)
    run = CollectResult(source=source)
    last_request = [float("-inf")]

    def request(call_params: dict[str, Any]) -> Any:
        if endpoint.min_interval:
            wait = last_request[0] + endpoint.min_interval - monotonic()
            if wait > 0:
                sleep(wait)
        last_request[0] = monotonic()
        args = [target["query"]] if "query" in target else [target["user_id"]]
        return method(*args, **call_params)

    reasons: list[str] = []  # what was set aside from the current page

    def unusable(_line: int | None, reason: str, _raw: Any) -> None:
        reasons.append(f"unusable post: {reason}")

    while True:
        if max_posts is not None and run.posts >= max_posts:
            run.stopped_reason = "max-posts"
            return run
        size = endpoint.page_max
        if max_posts is not None:
            size = min(endpoint.page_max, max(endpoint.page_min, max_posts - run.posts))
        call_params = {**params, "max_results": size}
        if token:
            call_params[endpoint.token_param] = token
        answer = _call(
            functools.partial(request, call_params),
            endpoint=endpoint,
            what=f"X {endpoint.name}",
            policy=policy,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )
        page: dict[str, Any] = answer["page"]
        retrieved = now_utc()
        run.pages += 1
        data = page.get("data")
        items = [data] if isinstance(data, dict) else data if isinstance(data, list) else []

        # 1. archive the page unchanged, before anything else can fail
        if archive is not None:
            stamped = dict(page)
            stamped["__twarc"] = {
                "url": answer["url"],
                "version": f"mapper {__version__}",
                "retrieved_at": retrieved.isoformat(),
            }
            with open(archive, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(stamped, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            line += 1
            # the store points each post at its page in the archive
            prov_source, prov_line, raw, where = str(archive.resolve()), line, None, line
        else:
            # no archive: the store keeps each post's own JSON instead
            raw = {
                f"x:{item['id']}": json.dumps(item, ensure_ascii=False)
                for item in items
                if isinstance(item, dict) and item.get("id") is not None
            }
            prov_source, prov_line, where = source, None, run.pages

        # 2. the posts (normalised as the archive importer does, so a page collected
        # live and re-imported from the archive gives equal posts), 3. the unusable
        # posts and the partial errors
        reasons.clear()
        page_posts = posts_from_page(
            {"data": items, "includes": page.get("includes")},
            source=prov_source,
            line=prov_line,
            retrieved_at=retrieved,
            on_bad=unusable,
            collector=COLLECTOR,
        )
        run.store_posts(store, page_posts, raw=raw)
        for error in page.get("errors") or []:
            if isinstance(error, dict):
                detail = "; ".join(str(error[k]) for k in ("title", "detail") if error.get(k))
                reasons.append(f"partial error: {detail or json.dumps(error)[:200]}")
        for reason in reasons:
            store.quarantine(prov_source, where, redact(reason))
        run.quarantined += len(reasons)

        # 4. the cursor
        meta = page.get("meta") or {}
        pass_newest = pass_newest or _str_id(meta.get("newest_id"))
        token = _str_id(meta.get("next_token"))
        store.set_cursor(
            key,
            json.dumps(
                {
                    "identity": identity,
                    "next_token": token,
                    "complete": token is None,
                    "newest_id": pass_newest or floor,
                    "since_id": pass_since,
                },
                sort_keys=True,
            ),
        )
        run.cursor = token
        if on_page is not None:
            on_page(run.running())
        if token is None:
            return run


def search(
    client: tweepy.Client,
    query: str,
    *,
    store: Store,
    archive: bool = False,
    max_posts: int | None = None,
    since_id: str | int | None = None,
    until_id: str | int | None = None,
    start_time: datetime | str | None = None,
    end_time: datetime | str | None = None,
    archive_path: str | Path | None = None,
    resume: bool = True,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    on_page: Callable[[CollectResult], None] | None = None,
) -> CollectResult:
    """Search X posts (recent: last 7 days; ``archive=True``: full archive) into ``store``.

    Parameters
    ----------
    client : tweepy.Client
        From :func:`make_client`.
    query : str
        An X search query (``"progressive alliance" -is:retweet``).
    store : Store
        Where posts, partial errors and the cursor go.
    archive : bool
        Full-archive search (Pro/Academic access; paced at one request a second).
    max_posts : int, optional
        Budget of posts to read (reads are paid). Page sizes never overshoot it by
        more than the endpoint's minimum page size (10).
    since_id, until_id : str or int, optional
        Post id bounds.
    start_time, end_time : datetime or str, optional
        Time bounds (``YYYY-MM-DD`` or ISO 8601; naive means UTC).
    archive_path : str or Path, optional
        JSONL file each raw page is appended to (twarc2 format) before its posts are
        stored. The command line always sets one.
    resume : bool
        Continue an interrupted collection of the same query from its saved cursor;
        after a complete one, fetch only posts newer than its newest.
    policy, sleep, clock, monotonic, rng
        Retry policy, sleep function, Unix clock, monotonic clock and jitter source
        (injected in tests).
    on_page : callable, optional
        Called with the running totals after each page (for progress display).

    Returns
    -------
    CollectResult

    Raises
    ------
    CredentialsError
        401 or 403 (what access is missing is in the hint).
    RateLimitError
        Still rate limited after the bounded attempts, or the usage cap is reached.
    CollectorError
        Server or network errors after retries, a rejected query. Pages collected
        before the failure stay in the store and the archive.

    Examples
    --------
    >>> client = make_client()  # doctest: +SKIP
    >>> search(client, "progressive alliance", store=store, max_posts=200)  # doctest: +SKIP
    CollectResult(source='x search-recent query=progressive alliance', pages=2, posts=200, ...)
    """
    if not query or not query.strip():
        raise CollectorError("the search query is empty", field="query")
    return _collect(
        client,
        _SEARCH_ALL if archive else _SEARCH_RECENT,
        target={"query": query},
        store=store,
        max_posts=max_posts,
        since_id=since_id,
        until_id=until_id,
        start_time=start_time,
        end_time=end_time,
        archive_path=archive_path,
        resume=resume,
        policy=policy,
        sleep=sleep,
        clock=clock,
        monotonic=monotonic,
        rng=rng,
        on_page=on_page,
    )


def resolve_user_id(
    client: tweepy.Client,
    handle: str,
    *,
    store: Store | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    rng: random.Random | None = None,
) -> str:
    """Return the numeric user id (a ``str``) of an X handle, via ``get_user``.

    The answer is cached in the store's cursors (``x:user-id:<handle>``), so a handle
    costs one lookup ever.

    Raises
    ------
    CollectorError
        Not a valid handle, or no such account.
    """
    name = handle.strip().removeprefix("@")
    if not _HANDLE.match(name):
        raise CollectorError(
            f"not an X handle: {handle!r}", hint="1 to 15 letters, digits or underscores"
        )
    key = f"x:user-id:{name.lower()}"
    if store is not None:
        cached = store.get_cursor(key)
        if cached:
            return cached
    answer = _call(
        lambda: client.get_user(username=name, user_fields=list(USER_FIELDS)),
        endpoint=None,
        what=f"X user lookup @{name}",
        policy=policy or RetryPolicy(),
        sleep=sleep,
        clock=clock,
        rng=rng or random.Random(),
    )
    data = answer["page"].get("data")
    if not isinstance(data, dict) or data.get("id") is None:
        errors = answer["page"].get("errors") or [{}]
        detail = errors[0].get("detail", "") if isinstance(errors[0], dict) else ""
        raise CollectorError(
            f"no X account @{name}" + (f" ({redact(str(detail))})" if detail else ""),
            hint="check the handle's spelling; suspended accounts cannot be collected",
        )
    user_id = str(data["id"])
    if store is not None:
        store.set_cursor(key, user_id)
    return user_id


def _timeline_collector(endpoint: _Endpoint, name: str, doc: str) -> Callable[..., CollectResult]:
    """The public collector of a user timeline endpoint (mentions or posts)."""

    def collect(
        client: tweepy.Client,
        handle: str,
        *,
        store: Store,
        max_posts: int | None = None,
        since_id: str | int | None = None,
        until_id: str | int | None = None,
        start_time: datetime | str | None = None,
        end_time: datetime | str | None = None,
        archive_path: str | Path | None = None,
        resume: bool = True,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        on_page: Callable[[CollectResult], None] | None = None,
    ) -> CollectResult:
        user_id = resolve_user_id(
            client, handle, store=store, policy=policy, sleep=sleep, clock=clock, rng=rng
        )
        return _collect(
            client,
            endpoint,
            target={"user_id": user_id, "handle": handle.strip().removeprefix("@").lower()},
            store=store,
            max_posts=max_posts,
            since_id=since_id,
            until_id=until_id,
            start_time=start_time,
            end_time=end_time,
            archive_path=archive_path,
            resume=resume,
            policy=policy,
            sleep=sleep,
            clock=clock,
            monotonic=monotonic,
            rng=rng,
            on_page=on_page,
        )

    collect.__name__ = collect.__qualname__ = name
    collect.__doc__ = doc
    return collect


mentions = _timeline_collector(
    _MENTIONS,
    "mentions",
    """Collect the posts that mention ``handle`` (at most the latest 800, an API limit).

    Parameters
    ----------
    client : tweepy.Client
        From :func:`make_client`.
    handle : str
        The X handle, with or without ``@``; resolved to its numeric id first
        (:func:`resolve_user_id`, cached in the store).
    store : Store
        Where posts, partial errors and the cursor go.
    max_posts, since_id, until_id, start_time, end_time, archive_path, resume
        As for :func:`search`.
    policy, sleep, clock, monotonic, rng, on_page
        As for :func:`search`.

    Returns
    -------
    CollectResult

    Raises
    ------
    CredentialsError, RateLimitError, CollectorError
        As for :func:`search`; also :class:`CollectorError` for an unknown handle.
    """,
)

posts = _timeline_collector(
    _POSTS,
    "posts",
    """Collect the posts ``handle`` published (at most the latest 3200, an API limit).

    Parameters, results and errors are as for :func:`mentions`.
    """,
)
