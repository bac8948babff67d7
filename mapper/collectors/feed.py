"""Collect RSS and Atom feeds: each entry becomes a post with its links and tags.

feedparser never fetches anything itself (it has no timeout): a feed URL is fetched
through :class:`mapper.http.HttpClient` and the bytes are handed to
:func:`feedparser.parse` wrapped in a stream, so feedparser cannot mistake them for a
URL or a path. An entry becomes a :class:`~mapper.records.Post` with uid
``feed:<entry id or link>``, platform ``feed``, the author's name, the published (else
updated) time, the entry link as URL, the title and the HTML-stripped content as text,
the links of its content as ``link`` references and its categories as tags.

feedparser is lenient: a malformed feed (``bozo``) still yields the entries it could
read. They are stored, and the problem is recorded in the store's quarantine and
counted in the result, never silently dropped.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree
from lxml import html as lxml_html

from mapper import __version__
from mapper.collectors.base import CollectResult, OnBad, import_file
from mapper.collectors.web import link_references
from mapper.errors import CollectorError, ImportFormatError
from mapper.http import HttpClient, check_url
from mapper.records import Post, Provenance, now_utc

if TYPE_CHECKING:
    from mapper.store import Store

__all__ = ["MAX_FEED_BYTES", "collect_feed", "import_feed_file", "parse_feed"]

COLLECTOR = "feed"
#: Size cap of one feed document.
MAX_FEED_BYTES = 20 * 1024 * 1024
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


def _html_root(markup: str) -> etree._Element | None:
    if not markup or not markup.strip():
        return None
    try:
        return lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.LxmlError, ValueError):
        return None


def _plain(markup: str) -> str:
    root = _html_root(markup)
    if root is None:
        return " ".join((markup or "").split())
    return " ".join("".join(root.itertext()).split())


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime(*value[:6], tzinfo=UTC)
            except (ValueError, OverflowError):  # year 0 and the like
                continue
    return None


def _entry_author(entry: Mapping[str, Any]) -> str:
    detail = entry.get("author_detail") or {}
    name = str(detail.get("name") or "").strip()
    return name or str(entry.get("author") or "").strip()


def _entry_markup(entry: Mapping[str, Any]) -> str:
    """The richest HTML the entry has: full content, else summary."""
    contents = [c.get("value", "") for c in entry.get("content") or [] if c.get("value")]
    return "\n".join(contents) or str(entry.get("summary") or "")


def _entry_post(
    entry: Mapping[str, Any],
    *,
    source: str,
    base: str | None,
    language: str | None,
    retrieved_at: datetime | None,
) -> Post:
    key = str(entry.get("id") or entry.get("link") or "").strip()
    if not key:
        raise CollectorError("entry has neither an id nor a link")
    link = str(entry.get("link") or "").strip()
    markup = _entry_markup(entry)
    title = _plain(str(entry.get("title") or ""))
    body = _plain(markup)
    text = "\n\n".join(part for part in (title, body) if part)
    root = _html_root(markup)
    references = (
        link_references(root, base=link or base, exclude=(link, key)) if root is not None else []
    )
    tags = tuple(
        dict.fromkeys(
            str(tag.get("term") or "").strip()
            for tag in entry.get("tags") or []
            if str(tag.get("term") or "").strip()
        )
    )
    detail = entry.get("content", [{}])[0] if entry.get("content") else entry.get("summary_detail")
    entry_language = (detail or {}).get("language") or language
    author = _entry_author(entry)
    return Post(
        uid=f"feed:{key}",
        platform="feed",
        author=author,
        created_at=_entry_time(entry),
        text=text,
        url=link,
        author_name=author,
        language=(str(entry_language).split("-")[0].lower() if entry_language else None),
        references=tuple(references),
        tags=tags,
        provenance=Provenance(COLLECTOR, __version__, source, None, retrieved_at),
    )


def parse_feed(
    content: bytes,
    *,
    source: str,
    url: str | None = None,
    content_type: str | None = None,
    retrieved_at: datetime | None = None,
) -> tuple[list[tuple[Post, str]], list[tuple[int | None, str]]]:
    """Parse a feed document into posts and problems.

    Parameters
    ----------
    content : bytes
        The feed (RSS 0.9x/1.0/2.0 or Atom).
    source : str
        Provenance source (the URL or file).
    url : str, optional
        Where the feed came from (entries without a link of their own resolve
        relative links against it).
    content_type : str, optional
        The ``Content-Type`` the server sent (a non-XML type alone is not a problem).
    retrieved_at : datetime, optional
        When it was fetched.

    Returns
    -------
    posts : list of (Post, str)
        Each post with its entry's raw JSON.
    problems : list of (int or None, str)
        ``(entry number, reason)`` for what could not be read; entry number ``None``
        for a problem of the whole document (a ``bozo`` feed).
    """
    import feedparser

    headers = {"content-type": content_type or "application/xml"}
    if url:
        headers["content-location"] = url
    # Relative links are resolved by mapper against each entry's own link, so that an
    # in-page anchor ("#more") is recognised as a self-link rather than a feed link.
    try:
        parsed = feedparser.parse(
            io.BytesIO(content), response_headers=headers, resolve_relative_uris=False
        )
    except Exception as error:  # feedparser is lenient, but e.g. a NUL in the encoding name
        return [], [(None, f"unreadable feed: {type(error).__name__}: {error}"[:500])]
    problems: list[tuple[int | None, str]] = []
    exc = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(exc, feedparser.NonXMLContentType):
        problems.append((None, f"malformed feed: {type(exc).__name__}: {exc}"[:500]))
    language = (parsed.get("feed") or {}).get("language")
    posts: list[tuple[Post, str]] = []
    for number, entry in enumerate(parsed.get("entries") or [], start=1):
        try:
            post = _entry_post(
                entry, source=source, base=url, language=language, retrieved_at=retrieved_at
            )
        except CollectorError as exc:
            problems.append((number, exc.message))
            continue
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            problems.append((number, f"unreadable entry: {type(exc).__name__}: {exc}"[:500]))
            continue
        posts.append((post, json.dumps(entry, default=str, ensure_ascii=False)))
    if not posts and not parsed.get("version") and not problems:
        problems.append((None, "not a feed (no RSS or Atom document found)"))
    return posts, problems


def _store_feed(
    store: Store,
    content: bytes,
    *,
    source: str,
    url: str | None,
    content_type: str | None,
    retrieved_at: datetime | None,
) -> CollectResult:
    posts, problems = parse_feed(
        content, source=source, url=url, content_type=content_type, retrieved_at=retrieved_at
    )
    for line, reason in problems:
        store.quarantine(source, line, reason)
    result = CollectResult(source=source, pages=1, quarantined=len(problems))
    result.store_posts(store, posts)
    return result


def _read_feed_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a saved feed, refused when missing or over the size cap."""
    if not path.is_file():
        raise ImportFormatError("feed file not found", source=path)
    if path.stat().st_size > max_bytes:
        raise ImportFormatError(f"feed file is over the {max_bytes}-byte cap", source=path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=path) from None


def collect_feed(
    url_or_path: str | Path,
    *,
    store: Store,
    client: HttpClient | None = None,
    max_bytes: int = MAX_FEED_BYTES,
    on_page: Callable[[CollectResult], None] | None = None,
) -> CollectResult:
    """Read one feed (a URL or a local file) into ``store``.

    Parameters
    ----------
    url_or_path : str or Path
        An ``http``/``https`` URL, or the path of a saved feed.
    store : Store
        Destination; problems (a malformed feed, an entry without id) go to its
        quarantine.
    client : HttpClient, optional
        For URLs (default: a new :class:`~mapper.http.HttpClient`).
    max_bytes : int
        Size cap of the feed.
    on_page : callable, optional
        Called with the totals once the feed is stored.

    Returns
    -------
    CollectResult
        ``quarantined`` counts the recorded problems.

    Raises
    ------
    CollectorError
        The URL cannot be fetched (refused scheme, HTTP error, too big, too slow).
    ImportFormatError
        The file cannot be read.

    Examples
    --------
    >>> collect_feed("https://www.compassonline.org.uk/feed/", store=store)  # doctest: +SKIP
    CollectResult(source='https://www.compassonline.org.uk/feed/', pages=1, posts=10, ...)
    """
    target = str(url_or_path)
    if isinstance(url_or_path, Path) or "://" not in target:
        path = Path(target)
        result = _store_feed(
            store,
            _read_feed_file(path, max_bytes),
            source=str(path),
            url=None,
            content_type=None,
            retrieved_at=None,
        )
    else:
        check_url(target)
        own_client = client is None
        http = client or HttpClient(max_bytes=max_bytes)
        try:
            response = http.get(target, max_bytes=max_bytes, headers={"Accept": _ACCEPT})
        finally:
            if own_client:
                http.close()
        result = _store_feed(
            store,
            response.content,
            source=target,
            url=response.url,
            content_type=response.headers.get("content-type"),
            retrieved_at=now_utc(),
        )
    if on_page is not None:
        on_page(result)
    return result


def import_feed_file(
    store: Store, path: str | Path, *, force: bool = False, max_bytes: int = MAX_FEED_BYTES
) -> CollectResult:
    """Import a saved feed file into ``store`` (skipped when unchanged since last time).

    Parameters
    ----------
    store : Store
        Destination; the feed's problems are quarantined there.
    path : str or Path
        The saved RSS or Atom document.
    force : bool
        Import even if the file was imported before and has not changed.
    max_bytes : int
        Size cap of the file.

    Returns
    -------
    CollectResult
        ``posts``, ``added``, ``duplicates``, ``quarantined`` and ``skipped_unchanged``
        (see :func:`mapper.collectors.base.import_file`).
    """
    source = Path(os.path.abspath(path))

    def read(on_bad: OnBad) -> list[tuple[Post, str]]:
        content = _read_feed_file(source, max_bytes)
        posts, problems = parse_feed(content, source=str(source))
        for line, reason in problems:
            on_bad(line, reason, None)
        return posts

    return import_file(store, path, read, force=force)
