"""Collect web pages and blog posts: main text, byline, date and the article's own links.

A page becomes one :class:`~mapper.records.Post` (uid ``web:<canonical url>``, platform
``web``). trafilatura finds the main text, so navigation, footers, sidebars and comment
boxes are left out; only the links *inside the article body* become ``link``
references, resolved against the page URL (or its ``<base href>``), with self-links,
in-page anchors, ``mailto:`` and ``javascript:`` dropped. Each reference carries a
snippet: the anchor text in its sentence. The byline and the publication date come from
the page's meta tags and JSON-LD first, then from trafilatura's metadata.

Fetching goes through :class:`mapper.http.HttpClient` (timeouts, deadline, retries,
size cap, bounded redirects, only http/https, only public addresses unless allowed)
and, by default, robots.txt; redirects must stay on the allowed domains. A page's
canonical URL is believed only on the host it was fetched from: a page cannot claim
another site's address. A page that cannot be used (refused by robots.txt, not HTML,
no main text, an HTTP error, a refused redirect or address) is recorded in the store's
quarantine with the reason and in the result's ``problems``, and the run goes on.
Saved HTML files are read with :func:`read_html_file` and :func:`import_html_file`.
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

from mapper import __version__
from mapper.collectors.base import CollectResult, OnBad, import_file
from mapper.collectors.tables import parse_time, snippet_around
from mapper.errors import CollectorError, ImportFormatError
from mapper.http import HttpClient, RobotsCache
from mapper.records import Post, Provenance, Reference, now_utc

if TYPE_CHECKING:
    from mapper.store import Store

__all__ = [
    "HTML_TYPES",
    "MAX_PAGE_BYTES",
    "WebCollectResult",
    "clean_link",
    "collect_web",
    "import_html_file",
    "link_references",
    "parse_html",
    "read_html_file",
]

COLLECTOR = "web"
#: Size cap of one fetched page.
MAX_PAGE_BYTES = 5 * 1024 * 1024
#: Media types read as HTML.
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
_SNIPPET = 240
#: Elements whose text is "the sentence around a link", in trafilatura XML and in HTML.
_BLOCKS = frozenset(
    {
        "p", "head", "item", "cell", "quote", "li", "blockquote", "td", "th", "dd", "dt",
        "h1", "h2", "h3", "h4", "h5", "h6", "pre", "figcaption", "caption",
    }
)  # fmt: skip
_ARTICLE_TYPES = frozenset(
    {
        "article", "blogposting", "newsarticle", "reportagenewsarticle", "opinionnewsarticle",
        "analysisnewsarticle", "socialmediaposting", "webpage", "report", "scholarlyarticle",
    }
)  # fmt: skip
_DATE_META = (
    ("property", "article:published_time"),
    ("itemprop", "datePublished"),
    ("name", "article:published_time"),
    ("name", "date"),
    ("name", "dc.date.issued"),
    ("name", "dc.date"),
    ("name", "dcterms.date"),
    ("name", "parsely-pub-date"),
    ("name", "sailthru.date"),
    ("name", "pubdate"),
    ("property", "og:published_time"),
)
_AUTHOR_META = (
    ("name", "author"),
    ("property", "article:author"),
    ("name", "parsely-author"),
    ("name", "sailthru.author"),
    ("name", "dc.creator"),
    ("name", "byl"),
    ("itemprop", "author"),
)
_BY = re.compile(r"^\s*by\s+", re.IGNORECASE)


# --------------------------------------------------------------------------- links


def _defrag(url: str) -> str:
    try:
        return urlunsplit(urlsplit(url)._replace(fragment=""))
    except ValueError:  # not a URL (an invalid IPv6 host...): nothing to remove
        return url


def _join(base: str | None, href: str) -> str | None:
    """``href`` resolved against ``base``; ``None`` when the result is not a valid URL."""
    try:
        target = urljoin(base, href) if base else href
        urlsplit(target)
    except ValueError:
        return None
    return target


def clean_link(href: str | None, base: str | None, *, exclude: Iterable[str] = ()) -> str | None:
    """Resolve one link target and keep it only if it points to another web page.

    Parameters
    ----------
    href : str
        The raw ``href`` (may be relative).
    base : str, optional
        The URL relative links are resolved against; without it, relative links are
        dropped.
    exclude : iterable of str
        URLs of the page itself (its URL, its canonical URL): links to them are
        self-links and dropped.

    Returns
    -------
    str or None
        The absolute ``http``/``https`` URL without its fragment, or ``None`` for an
        anchor, a self-link, ``mailto:``, ``javascript:``, ``tel:`` and the like.

    Examples
    --------
    >>> clean_link("../b/?x=1#top", "https://example.org/a/page")
    'https://example.org/b/?x=1'
    >>> clean_link("#comments", "https://example.org/a") is None
    True
    >>> clean_link("mailto:ed@example.org", "https://example.org/") is None
    True
    """
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    target = _join(base, href)
    if target is None:
        return None
    parts = urlsplit(target)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    target = _defrag(target)
    if target in {_defrag(u) for u in exclude if u}:
        return None
    return target


def _block_text(element: etree._Element) -> str:
    block = element
    for ancestor in element.iterancestors():
        block = ancestor
        if isinstance(ancestor.tag, str) and ancestor.tag.lower() in _BLOCKS:
            break
    return " ".join("".join(block.itertext()).split())


def _snippet(anchor: str, context: str) -> str:
    """``context`` cut to about :data:`_SNIPPET` characters around ``anchor``."""
    at = context.find(anchor) if anchor else -1
    if at < 0:
        return snippet_around(context, width=_SNIPPET)
    return snippet_around(context, at, at + len(anchor), width=_SNIPPET)


def link_references(
    root: etree._Element,
    *,
    base: str | None,
    exclude: Iterable[str] = (),
    tag: str = "a",
    attribute: str = "href",
) -> list[Reference]:
    """``link`` references for the links under ``root``, one per distinct target.

    Parameters
    ----------
    root : lxml element
        An article body: trafilatura XML (``tag="ref"``, ``attribute="target"``) or
        HTML (``<a href>``).
    base : str, optional
        URL relative links are resolved against.
    exclude : iterable of str
        The page's own URLs (self-links are dropped).
    tag, attribute : str
        The link element and its target attribute.

    Returns
    -------
    list of Reference
        In document order; the snippet is the link's sentence around its anchor text.
    """
    exclude = tuple(exclude)
    seen: set[str] = set()
    out: list[Reference] = []
    for element in root.iter(tag):
        target = clean_link(element.get(attribute), base, exclude=exclude)
        if target is None or target in seen:
            continue
        seen.add(target)
        anchor = " ".join("".join(element.itertext()).split())
        out.append(Reference("link", target, None, _snippet(anchor, _block_text(element))))
    return out


# --------------------------------------------------------------------------- metadata


def _parse_date(value: Any) -> datetime | None:
    """A page date: ISO 8601, RFC 2822..., else a leading ``YYYY-MM-DD``; ``None`` if none."""
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        pass
    match = re.match(r"^\s*(\d{4})-(\d{2})-(\d{2})", value)
    if match:
        try:
            year, month, day = map(int, match.groups())
            return datetime(year, month, day, tzinfo=UTC)
        except ValueError:
            return None
    return None


def _meta(tree: lxml_html.HtmlElement, pairs: Iterable[tuple[str, str]]) -> Iterator[str]:
    metas = tree.findall(".//meta")
    for attribute, name in pairs:
        for meta in metas:
            if (meta.get(attribute) or "").strip().lower() == name.lower():
                content = (meta.get("content") or "").strip()
                if content:
                    yield content


def _json_ld(tree: lxml_html.HtmlElement) -> Iterator[Mapping[str, Any]]:
    """Article-like JSON-LD objects of the page (``@graph`` flattened)."""
    for script in tree.iterfind(".//script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                if "@graph" in item:
                    stack.extend(item["@graph"] if isinstance(item["@graph"], list) else [])
                kinds = item.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(str(k).lower() in _ARTICLE_TYPES for k in kinds):
                    yield item


def _ld_author(value: Any) -> str:
    if isinstance(value, list):
        names = [_ld_author(v) for v in value]
        return ", ".join(n for n in names if n)
    if isinstance(value, dict):
        return str(value.get("name") or "").strip()
    return str(value or "").strip()


def _page_author(tree: lxml_html.HtmlElement, ld: list[Mapping[str, Any]]) -> str:
    for item in ld:
        name = _ld_author(item.get("author"))
        if name:
            return name
    for content in _meta(tree, _AUTHOR_META):
        if not content.startswith(("http://", "https://")):
            return _BY.sub("", content).strip()
    return ""


def _page_date(tree: lxml_html.HtmlElement, ld: list[Mapping[str, Any]]) -> datetime | None:
    for content in _meta(tree, _DATE_META[:1]):
        if (parsed := _parse_date(content)) is not None:
            return parsed
    for item in ld:
        if (parsed := _parse_date(item.get("datePublished"))) is not None:
            return parsed
    for content in _meta(tree, _DATE_META[1:]):
        if (parsed := _parse_date(content)) is not None:
            return parsed
    return None  # trafilatura's date search (htmldate) is the fallback


def _link_rel(tree: lxml_html.HtmlElement, rel: str) -> str | None:
    for link in tree.iterfind(".//link"):
        if rel in (link.get("rel") or "").lower().split() and (link.get("href") or "").strip():
            return link.get("href", "").strip()
    return None


def _same_site(a: str, b: str) -> bool:
    """Whether two URLs are on the same host (a leading ``www.`` aside)."""
    return bool(_host(a)) and _host(a) == _host(b)


def _page_urls(
    tree: lxml_html.HtmlElement, url: str | None
) -> tuple[str | None, str | None, str | None]:
    """The page's canonical URL, the base for its relative links, and a canonical URL
    the page claims on another site (refused: ``url`` stays the page's address)."""
    canonical = _link_rel(tree, "canonical")
    og_url = next(_meta(tree, [("property", "og:url")]), None)
    chosen = None
    foreign = None
    for candidate in (canonical, og_url):
        if candidate:
            absolute = _join(url, candidate)
            if absolute is not None and urlsplit(absolute).scheme in ("http", "https"):
                absolute = _defrag(absolute)
                if url and not _same_site(absolute, url):
                    foreign = foreign or absolute
                    continue
                chosen = absolute
                break
    base = url or chosen
    base_el = tree.find(".//base")
    if base_el is not None and base_el.get("href"):
        base = _join(base, base_el.get("href", "").strip()) or base
    return chosen, base, foreign


def _body_text(body: etree._Element) -> str:
    blocks: list[str] = []
    for child in body:
        if child.tag == "list":
            rows = ["".join(item.itertext()) for item in child.iter("item")]
        elif child.tag == "table":
            rows = [
                " | ".join(" ".join("".join(c.itertext()).split()) for c in row.iter("cell"))
                for row in child.iter("row")
            ]
        else:
            rows = ["".join(child.itertext())]
        blocks.extend(" ".join(r.split()) for r in rows)
    return "\n".join(b for b in blocks if b)


# --------------------------------------------------------------------------- pages


def parse_html(
    content: bytes | str,
    *,
    url: str | None,
    source: str,
    retrieved_at: datetime | None = None,
    prefer_given_url: bool = False,
    default_url: str | None = None,
    on_note: Callable[[str], None] | None = None,
) -> Post:
    """Turn one HTML page into a post: main text, byline, date, body links.

    The post's address is the page's canonical URL (``<link rel=canonical>``, else
    ``og:url``) when it is on the same host as ``url`` (a leading ``www.`` aside); a
    page cannot claim another site's address: such a canonical URL is ignored, the
    post keeps ``url``, and ``on_note`` is told.

    Parameters
    ----------
    content : bytes or str
        The page (bytes are decoded by the page's own declaration).
    url : str, optional
        Where the page was fetched from (relative links resolve against it).
    source : str
        Provenance source (the URL or the file).
    retrieved_at : datetime, optional
        When it was fetched.
    prefer_given_url : bool
        Use ``url`` as the post's URL even when the page names a canonical URL (for
        saved files whose URL the user gave).
    default_url : str, optional
        The post's URL when neither ``url`` nor the page names one.
    on_note : callable, optional
        Called with a one-line note about the page that did not stop it (a canonical
        URL on another site, ignored).

    Returns
    -------
    Post
        uid ``web:<canonical url>``, platform ``web``, ``author`` the byline name (or
        ``""``), ``created_at`` the publication date, ``text`` the title and main
        text, ``references`` the body's outgoing links.

    Raises
    ------
    CollectorError
        When the page has no main text or no usable URL.
    """
    import trafilatura

    if not content.strip():
        raise CollectorError("empty page", source=source)
    try:
        tree = lxml_html.fromstring(content)
    except (etree.LxmlError, ValueError) as exc:
        raise CollectorError(f"cannot parse the HTML ({exc})", source=source) from None
    canonical, base, foreign = _page_urls(tree, url)
    page_url = url if (prefer_given_url and url) else (canonical or url or default_url)
    if foreign is not None and on_note is not None and not prefer_given_url:
        on_note(
            f"the page names {_shown(foreign)} as its address, on another site: "
            "kept the address it was fetched from"
        )
    if not page_url:
        raise CollectorError(
            "the page names no URL (no <link rel=canonical> or og:url)",
            source=source,
            hint="give the page's URL",
        )
    ld = list(_json_ld(tree))
    author = _page_author(tree, ld)
    created = _page_date(tree, ld)
    language = (tree.get("lang") or "").split("-")[0].strip().lower() or None
    tags = tuple(dict.fromkeys(_meta(tree, [("property", "article:tag")])))

    # trafilatura resolves relative links against the site's root, not the page: make
    # every href absolute against the page's base first, so its answer is the right one.
    for anchor in tree.iter("a"):
        href = (anchor.get("href") or "").strip()
        if href and base:
            target = _join(base, href)
            try:
                if target is None:
                    raise ValueError(href)
                anchor.set("href", target)
            except ValueError:  # not a URL, or control characters: a link to nothing
                del anchor.attrib["href"]
    # Precision over recall, without the fallback extractors: on a page with no article
    # they return the navigation, whose links are exactly what must not become edges.
    document = trafilatura.bare_extraction(
        tree,
        url=None,
        fast=True,
        favor_precision=True,
        include_links=True,
        include_comments=False,
        include_images=False,
        include_tables=True,
        with_metadata=True,
    )
    body = getattr(document, "body", None)
    text = _body_text(body) if body is not None else ""
    if not text:
        raise CollectorError("no main text found in the page", source=source)
    title = (getattr(document, "title", None) or "").strip()
    if title and not text.startswith(title):
        text = f"{title}\n\n{text}"
    author = author or (getattr(document, "author", None) or "").strip()
    created = created or _parse_date(getattr(document, "date", None))
    references = link_references(
        body,
        base=base,
        exclude=(page_url, url or "", canonical or ""),
        tag="ref",
        attribute="target",
    )
    return Post(
        uid=f"web:{page_url}",
        platform="web",
        author=author,
        created_at=created,
        text=text,
        url=page_url,
        author_name=author,
        language=language,
        references=tuple(references),
        tags=tags,
        provenance=Provenance(COLLECTOR, __version__, source, None, retrieved_at),
    )


def read_html_file(path: str | Path, *, url: str | None = None) -> Post:
    """Read a saved HTML page into a post.

    Parameters
    ----------
    path : str or Path
        The saved page.
    url : str, optional
        The page's URL. By default the page's ``<link rel=canonical>``, else its
        ``og:url``, else the file's ``file://`` URI.

    Returns
    -------
    Post

    Raises
    ------
    ImportFormatError
        The file cannot be read.
    CollectorError
        The page has no main text.

    Examples
    --------
    >>> post = read_html_file("data/demo/corpus/blogs/compass-alliance.html")  # doctest: +SKIP
    >>> post.author, [r.target for r in post.references][:1]  # doctest: +SKIP
    ('Neal Lawson', ['https://www.electoral-reform.org.uk/campaigns/'])
    """
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ImportFormatError(
            f"cannot read the file ({exc.strerror or exc})", source=path
        ) from None
    return parse_html(
        content,
        url=url,
        source=str(path),
        prefer_given_url=url is not None,
        default_url=path.resolve().as_uri(),
    )


def import_html_file(store: Store, path: str | Path, *, force: bool = False) -> CollectResult:
    """Import one saved HTML page into ``store`` (skipped when unchanged since last time).

    Parameters
    ----------
    store : Store
        Destination; a page without main text is quarantined there.
    path : str or Path
        The saved page.
    force : bool
        Import even if the file was imported before and has not changed.

    Returns
    -------
    CollectResult
        ``posts`` (1, or 0 for a quarantined page), ``added``, ``duplicates``,
        ``quarantined`` and ``skipped_unchanged`` (see
        :func:`mapper.collectors.base.import_file`).
    """

    def read(on_bad: OnBad) -> list[Post]:
        try:
            return [read_html_file(os.path.abspath(path))]
        except CollectorError as exc:
            on_bad(None, exc.message, None)
            return []

    return import_file(store, path, read, force=force)


# --------------------------------------------------------------------------- crawling


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


def _in_domains(url: str, domains: frozenset[str]) -> bool:
    host = _host(url)
    return any(host == d or host.endswith("." + d) for d in domains)


def _is_html(content_type: str, content: bytes) -> bool:
    if content_type:
        return content_type in HTML_TYPES
    head = content[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


@dataclass
class WebCollectResult(CollectResult):
    """What one web collection did: the counts of :class:`CollectResult`, and what
    went wrong, page by page.

    Attributes
    ----------
    problems : list of dict
        ``{"url": ..., "reason": ...}`` for each page refused or not read in this run
        (each is also in the store's quarantine), with a ``"hint"`` on what to do
        when there is one.
    notes : list of dict
        ``{"url": ..., "note": ...}`` for pages read with something worth knowing
        (a canonical URL on another site, ignored).
    """

    problems: list[dict[str, str]] = field(default_factory=list)
    notes: list[dict[str, str]] = field(default_factory=list)

    @property
    def fetched_nothing(self) -> bool:
        """Whether no page was read or already stored, and at least one failed: every
        URL was refused or could not be used."""
        return self.posts == 0 and self.duplicates == 0 and bool(self.problems)


def _shown(url: str, limit: int = 200) -> str:
    """``url`` fit to quote in a message: control characters escaped, length capped."""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in url)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def collect_web(
    urls: Iterable[str],
    *,
    store: Store,
    client: HttpClient | None = None,
    depth: int = 0,
    allowed_domains: Iterable[str] | None = None,
    respect_robots: bool = True,
    allow_private: bool = False,
    max_bytes: int = MAX_PAGE_BYTES,
    max_pages: int = 500,
    refetch: bool = False,
    on_page: Callable[[CollectResult], None] | None = None,
) -> WebCollectResult:
    """Fetch web pages into ``store``, optionally following their body links.

    Every request stays on the allowed domains: a link off them is not followed, and
    a redirect off them is refused (the page is recorded as a problem). Only public
    addresses are fetched unless ``allow_private`` (see :class:`~mapper.http.HttpClient`).

    Parameters
    ----------
    urls : iterable of str
        Pages to start from (``http``/``https`` only; anything else is recorded and
        skipped).
    store : Store
        Destination; problems go to its quarantine with the URL and the reason.
    client : HttpClient, optional
        The HTTP client (default: a new :class:`~mapper.http.HttpClient`).
    depth : int
        How many link hops to follow from the start pages (0: only them).
    allowed_domains : iterable of str, optional
        Domains a crawl may enter, by links or redirects (a domain covers its
        subdomains). Default: the domains of the start pages. A start page is fetched
        even when it is outside them, and may redirect within its own host.
    respect_robots : bool
        Obey robots.txt (default). Pages it forbids are recorded, not fetched.
    allow_private : bool
        Let the client mapper makes (no ``client`` given) fetch private, loopback and
        link-local addresses too, e.g. an intranet. A given ``client`` keeps its own
        setting.
    max_bytes : int
        Size cap of one page.
    max_pages : int
        Stop after fetching this many pages.
    refetch : bool
        Fetch pages the store already has (by default their stored links are reused
        for the crawl and nothing is downloaded again).
    on_page : callable, optional
        Called with the running totals after each page.

    Returns
    -------
    WebCollectResult
        ``pages`` fetched, ``posts`` read, ``added`` to the store, ``quarantined``
        problems recorded, ``duplicates`` already stored; ``stopped_reason`` is
        ``"complete"`` or ``"max-pages"``; ``problems`` and ``notes`` say what went
        wrong with which page.

    Examples
    --------
    >>> collect_web(["https://example.org/blog/"], store=store, depth=1)  # doctest: +SKIP
    """
    if depth < 0:
        raise CollectorError("--depth cannot be negative", field="depth")
    seeds = [u.strip() for u in urls if u and u.strip()]
    own_client = client is None
    http = client or HttpClient(max_bytes=max_bytes, allow_private=allow_private)
    robots = RobotsCache(http) if respect_robots else None
    domains = frozenset(
        d.strip().lower().removeprefix("www.")
        for d in (allowed_domains if allowed_domains is not None else map(_host, seeds))
        if d and d.strip()
    )
    queue: deque[tuple[str, int]] = deque((u, 0) for u in seeds)
    seen = {_defrag(u) for u in seeds}
    label = f"web {seeds[0]}" if len(seeds) == 1 else f"web {len(seeds)} URLs"
    result = WebCollectResult(source=label)

    def problem(url: str, message: str, hint: str | None = None) -> None:
        store.quarantine(url, None, message)
        result.quarantined += 1
        result.problems.append({"url": url, "reason": message, **({"hint": hint} if hint else {})})

    def hop_check(start: str) -> Callable[[str], None]:
        """The check of each URL fetching ``start`` leads to: the start URL itself,
        then each redirect, which must stay on the allowed domains (or ``start``'s
        own host); robots.txt for all."""
        home = _host(start)

        def check(hop: str) -> None:
            if hop != start and not (_host(hop) == home or _in_domains(hop, domains)):
                raise CollectorError(
                    f"redirected to {_shown(hop)}, on {_host(hop) or 'no host'}, outside "
                    "the allowed domains: not followed",
                    source=start,
                    hint=f"add --allow-domain {_host(hop)} to follow it",
                )
            if robots is not None:
                robots.check(hop)

        return check

    try:
        while queue:
            url, level = queue.popleft()
            post = None if refetch else store.get_post(f"web:{_defrag(url)}")
            if post is not None:
                result.duplicates += 1
            else:
                if result.pages >= max_pages:
                    result.stopped_reason = "max-pages"
                    break
                try:
                    response = http.get(
                        url,
                        max_bytes=max_bytes,
                        headers={"Accept": _ACCEPT},
                        check=hop_check(url),
                    )
                except CollectorError as exc:
                    problem(url, exc.message, exc.hint)
                    continue
                result.pages += 1
                if not _is_html(response.content_type, response.content):
                    problem(url, f"not an HTML page ({response.content_type or 'unknown type'})")
                    continue
                notes: list[str] = []
                try:
                    post = parse_html(
                        response.content,
                        url=response.url,
                        source=url,
                        retrieved_at=now_utc(),
                        on_note=notes.append,
                    )
                except CollectorError as exc:
                    problem(url, exc.message)
                    continue
                result.notes.extend({"url": url, "note": note} for note in notes)
                seen.update({_defrag(response.url), _defrag(post.url)})
                result.store_posts(store, [post])
                if on_page is not None:
                    on_page(result.running())
            if level >= depth:
                continue
            for ref in post.references:
                if (
                    ref.kind == "link"
                    and ref.target not in seen
                    and _in_domains(ref.target, domains)
                ):
                    seen.add(ref.target)
                    queue.append((ref.target, level + 1))
    finally:
        if own_client:
            http.close()
    return result
