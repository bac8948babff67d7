"""The web collector: article-body links only, byline and date, and every fetch protection.

Pages are served by :class:`httpx.MockTransport` from the saved HTML fixtures in
``tests/fixtures/http``; the command-line test mocks httpx with ``respx``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import respx
from typer.testing import CliRunner

import mapper.http
from mapper.collectors.web import collect_web, import_html_file, parse_html, read_html_file
from mapper.http import HttpClient, RetryPolicy
from mapper.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "http"
ARTICLE = "https://leftfutures.example.org/2016/08/progressive-alliance/"
RELATED = "https://leftfutures.example.org/2016/07/lucas-pacts/"
BODY_LINKS = {
    "https://www.compassonline.org.uk/progressive-alliance/",
    RELATED,
    "https://www.theguardian.com/commentisfree/2016/aug/01/progressive-alliance-mason",
}
NOT_BODY = (
    "nav-only.example.com",
    "footer-only.example.com",
    "sidebar-blog.example.com",
    "comment-link.example.net",
    "commenter.example.net",
    "twitter.com/leftfutures",
    "/about/",
    "/2016/07/related/",
    "mailto:",
    "javascript:",
    "#footnote",
)
HTML = {"content-type": "text/html; charset=utf-8"}
SIMPLE_PAGE = (
    "<html><head><title>{title}</title></head><body><article><p>{title}: a page with enough "
    "words in its body to be taken as the main text of the page by the extractor, about "
    "the progressive alliance and the leadership contest of the summer.</p></article>"
    "</body></html>"
)


PUBLIC = "93.184.215.14"
#: Names the fake resolver gives a private address.
PRIVATE_NAMES = {"intranet.example.org": ["10.1.2.3"], "metadata.example.net": ["169.254.169.254"]}


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No test asks the real resolver: any name is public except ``PRIVATE_NAMES``."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host == "localhost":
            return ["127.0.0.1"]
        return PRIVATE_NAMES.get(host, [PUBLIC])

    monkeypatch.setattr(mapper.http, "resolve_host", resolve)
    return asked


class Site:
    """A fake web: path -> response, with every requested URL recorded."""

    def __init__(self, routes: dict[str, Callable[[], httpx.Response]]) -> None:
        self.routes = routes
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.seen.append(url)
        make = self.routes.get(url)
        if make is None:
            return httpx.Response(404, text="not found")
        return make()


def html(content: bytes | str, status: int = 200) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(status, headers=HTML, content=content)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as s:
        yield s


def client_for(site: Site, **kwargs: object) -> HttpClient:
    options: dict[str, object] = {
        "transport": httpx.MockTransport(site),
        "policy": RetryPolicy(max_attempts=2),
        "sleep": lambda s: None,
        "rng": random.Random(0),
    }
    options.update(kwargs)
    return HttpClient(**options)  # type: ignore[arg-type]


def standard_site(**extra: Callable[[], httpx.Response]) -> Site:
    routes = {
        "https://leftfutures.example.org/robots.txt": lambda: httpx.Response(
            200, text=page("robots.txt").decode()
        ),
        ARTICLE: html(page("blog_article.html")),
        RELATED: html(SIMPLE_PAGE.format(title="Lucas on pacts")),
        "https://www.theguardian.com/commentisfree/2016/aug/01/progressive-alliance-mason": html(
            SIMPLE_PAGE.format(title="Mason")
        ),
        "https://www.theguardian.com/robots.txt": lambda: httpx.Response(404),
    }
    routes.update(extra)
    return Site(routes)


# --------------------------------------------------------------------------- extraction


def test_only_the_article_body_links_become_references() -> None:
    post = parse_html(page("blog_article.html"), url=ARTICLE, source=ARTICLE)
    targets = {r.target for r in post.references}
    assert targets == BODY_LINKS
    for ref in post.references:
        assert ref.kind == "link"
        assert not any(bad in ref.target for bad in NOT_BODY)
    compass = next(r for r in post.references if "compassonline" in r.target)
    assert "Compass has argued for months" in compass.snippet
    assert "soft left" in compass.snippet  # the sentence around the anchor


def test_byline_date_canonical_url_and_text() -> None:
    post = parse_html(page("blog_article.html"), url=ARTICLE + "?utm_source=x", source="s")
    assert post.uid == f"web:{ARTICLE}"  # the canonical URL, not the fetched one
    assert post.url == ARTICLE
    assert post.platform == "web"
    assert post.author == "Neal Lawson"
    assert post.created_at == datetime(2016, 8, 14, 8, 30, tzinfo=UTC)
    assert post.language == "en"
    assert post.text.startswith("Why a progressive alliance is the only way")
    assert "Owen Jones remains sceptical" in post.text
    assert "Angry Commenter" not in post.text and "Blogroll" not in post.text


def test_relative_links_resolve_against_the_page_and_json_ld_graph_is_read() -> None:
    post = read_html_file(FIXTURES / "blog_relative.html")
    assert post.uid == "web:https://soft-left.example.net/2016/09/hard-choices/"  # from og:url
    assert {r.target for r in post.references} == {
        "https://soft-left.example.net/2016/08/nandy-speech/",
        "https://www.compassonline.org.uk/",
        "https://soft-left.example.net/2016/09/hard-choices/notes/",
    }
    assert post.author == "Ellie Mae O'Hagan"
    assert post.created_at == datetime(2016, 9, 2, 18, 45, tzinfo=UTC)
    assert post.tags == ("soft left", "leadership")


def test_read_html_file_prefers_a_given_url(tmp_path: Path) -> None:
    post = read_html_file(FIXTURES / "blog_article.html", url="https://mirror.example.com/p")
    assert post.uid == "web:https://mirror.example.com/p"
    assert post.provenance is not None and post.provenance.source.endswith("blog_article.html")
    bare = tmp_path / "bare.html"
    bare.write_text(SIMPLE_PAGE.format(title="No URL anywhere"))
    assert read_html_file(bare).url == bare.resolve().as_uri()


def test_regression_links_that_are_not_urls_are_dropped(tmp_path: Path) -> None:
    """Found by tests/test_reliability_inputs.py: an href with a control character made
    lxml raise ValueError, and one with a broken IPv6 host made urllib raise."""
    bare = tmp_path / "odd.html"
    body = SIMPLE_PAGE.format(title="Odd links").replace(
        "</p>", '<a href="/a\x01b">x</a> <a href="http://[oops/">y</a> <a href="/ok">z</a></p>'
    )
    bare.write_text(body, encoding="utf-8")
    post = read_html_file(bare, url="https://example.org/page")
    assert [r.target for r in post.references] == ["https://example.org/ok"]


def test_import_html_file_records_the_import_and_quarantines_empty_pages(store: Store) -> None:
    good = import_html_file(store, FIXTURES / "blog_article.html")
    assert (good.posts, good.added) == (1, 1)
    assert import_html_file(store, FIXTURES / "blog_article.html").skipped_unchanged is True
    empty = import_html_file(store, FIXTURES / "blog_nobody.html")
    assert empty.quarantined == 1
    assert "no main text" in store.quarantined()[0]["reason"]
    import_html_file(store, FIXTURES / "blog_nobody.html", force=True)
    assert store.quarantine_count() == 1  # a forced re-import replaces, not repeats


# --------------------------------------------------------------------------- fetching


def test_collect_web_stores_a_page(store: Store) -> None:
    site = standard_site()
    result = collect_web([ARTICLE], store=store, client=client_for(site))
    assert (result.pages, result.posts, result.added, result.quarantined) == (1, 1, 1, 0)
    post = store.get_post(f"web:{ARTICLE}")
    assert post is not None and {r.target for r in post.references} == BODY_LINKS
    assert post.provenance is not None and post.provenance.retrieved_at is not None


def test_a_page_without_a_body_is_quarantined_not_fatal(store: Store) -> None:
    empty = "https://leftfutures.example.org/tag/alliance/"
    site = standard_site(**{empty: html(page("blog_nobody.html"))})
    result = collect_web([empty, ARTICLE], store=store, client=client_for(site))
    assert (result.posts, result.quarantined) == (1, 1)
    [row] = store.quarantined()
    assert row["source"] == empty and "no main text" in row["reason"]


def test_robots_txt_refusal_is_recorded_and_the_page_never_fetched(store: Store) -> None:
    refused = "https://leftfutures.example.org/no-mapper/secret"
    site = standard_site(**{refused: html(SIMPLE_PAGE.format(title="secret"))})
    result = collect_web([refused], store=store, client=client_for(site))
    assert result.posts == 0 and result.quarantined == 1
    assert refused not in site.seen
    assert "robots.txt" in store.quarantined()[0]["reason"]

    again = collect_web([refused], store=store, client=client_for(site), respect_robots=False)
    assert again.posts == 1 and refused in site.seen


def test_an_oversized_page_is_refused(store: Store) -> None:
    big = "https://leftfutures.example.org/big"
    site = standard_site(**{big: html(b"<html><body>" + b"x" * 50_000 + b"</body></html>")})
    result = collect_web([big, ARTICLE], store=store, client=client_for(site), max_bytes=20_000)
    assert (result.posts, result.quarantined) == (1, 1)
    assert "cap" in store.quarantined()[0]["reason"]


def test_a_redirect_loop_is_recorded(store: Store) -> None:
    a, b = "https://leftfutures.example.org/a", "https://leftfutures.example.org/b"
    site = standard_site(
        **{
            a: lambda: httpx.Response(301, headers={"location": b}),
            b: lambda: httpx.Response(301, headers={"location": a}),
        }
    )
    result = collect_web([a], store=store, client=client_for(site))
    assert result.quarantined == 1
    assert "redirect loop" in store.quarantined()[0]["reason"]


def test_non_http_urls_are_refused_without_a_request(store: Store) -> None:
    site = standard_site()
    result = collect_web(
        ["file:///etc/passwd", "ftp://example.org/x"], store=store, client=client_for(site)
    )
    assert result.quarantined == 2 and site.seen == []
    assert all("refusing" in row["reason"] for row in store.quarantined())


def test_non_html_answers_are_skipped_and_recorded(store: Store) -> None:
    pdf = "https://leftfutures.example.org/report.pdf"
    site = standard_site(
        **{
            pdf: lambda: httpx.Response(
                200, headers={"content-type": "application/pdf"}, content=b"%PDF"
            )
        }
    )
    result = collect_web([pdf], store=store, client=client_for(site))
    assert result.quarantined == 1 and result.posts == 0
    assert "not an HTML page (application/pdf)" in store.quarantined()[0]["reason"]


@pytest.mark.timeout(10)
def test_a_trickling_server_does_not_hang_the_crawl(store: Store) -> None:
    slow = "https://leftfutures.example.org/slow"

    class Trickle(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b"<html><body><p>"
            while True:
                time.sleep(0.02)
                yield b"a "

    site = standard_site(**{slow: lambda: httpx.Response(200, headers=HTML, stream=Trickle())})
    started = time.monotonic()
    result = collect_web([slow, ARTICLE], store=store, client=client_for(site, deadline=0.3))
    assert time.monotonic() - started < 5
    assert (result.posts, result.quarantined) == (1, 1)
    assert "too slow" in store.quarantined()[0]["reason"]


# --------------------------------------------------------------------------- crawling


def test_depth_follows_body_links_within_the_allowed_domains(store: Store) -> None:
    site = standard_site()
    result = collect_web([ARTICLE], store=store, client=client_for(site), depth=1)
    assert result.posts == 2  # the article and its same-site body link
    assert RELATED in site.seen
    assert not any("theguardian" in url or "compassonline" in url for url in site.seen)
    assert not any("nav-only" in url or "/2016/07/related/" in url for url in site.seen)


def test_allowed_domains_open_the_crawl_to_other_sites(store: Store) -> None:
    site = standard_site()
    result = collect_web(
        [ARTICLE],
        store=store,
        client=client_for(site),
        depth=1,
        allowed_domains=["leftfutures.example.org", "theguardian.com"],
    )
    assert result.posts == 3
    assert not any("compassonline" in url for url in site.seen)


def test_depth_zero_fetches_only_the_start_pages(store: Store) -> None:
    site = standard_site()
    collect_web([ARTICLE], store=store, client=client_for(site))
    assert [u for u in site.seen if not u.endswith("robots.txt")] == [ARTICLE]


def test_pages_already_stored_are_not_downloaded_again(store: Store) -> None:
    site = standard_site()
    collect_web([ARTICLE], store=store, client=client_for(site))
    site.seen.clear()
    result = collect_web([ARTICLE], store=store, client=client_for(site), depth=1)
    assert ARTICLE not in site.seen  # its stored links drive the crawl
    assert RELATED in site.seen
    assert (result.pages, result.duplicates) == (1, 1)


def test_max_pages_stops_the_crawl(store: Store) -> None:
    site = standard_site()
    result = collect_web([ARTICLE], store=store, client=client_for(site), depth=1, max_pages=1)
    assert result.stopped_reason == "max-pages" and result.pages == 1


# --------------------------------------------------------------------------- redirects


def redirect(location: str, status: int = 302) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(status, headers={"location": location})


def hosts(urls: list[str]) -> set[str]:
    return {urlsplit(u).hostname or "" for u in urls}


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.net/landing",
        "https://example.org/the-parent-domain",
        "https://leftfutures.example.org.evil.example.net/lookalike",
        "https://notleftfutures.example.org/suffix",
        "//elsewhere.example.com/scheme-relative",
    ],
)
def test_a_redirect_off_the_allowed_domains_is_refused_and_reported(
    store: Store, target: str
) -> None:
    start = "https://leftfutures.example.org/go"
    site = standard_site(**{start: redirect(target)})
    result = collect_web([start, ARTICLE], store=store, client=client_for(site))
    assert (result.posts, result.quarantined) == (1, 1)  # the crawl went on
    other = urlsplit(urljoin(start, target)).hostname
    assert other not in hosts(site.seen)  # not even its robots.txt
    [row] = store.quarantined()
    assert row["source"] == start and row["line"] is None
    assert "outside the allowed domains" in row["reason"] and f"on {other}" in row["reason"]
    assert result.problems == [
        {"url": start, "reason": row["reason"], "hint": f"add --allow-domain {other} to follow it"}
    ]


@pytest.mark.parametrize(
    "target",
    [
        "https://www.leftfutures.example.org/2016/07/moved/",
        "http://leftfutures.example.org/2016/07/moved/",
        "https://news.leftfutures.example.org/2016/07/moved/",
        "/2016/07/moved/",
    ],
)
@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_within_the_allowed_domains_is_followed(
    store: Store, target: str, status: int
) -> None:
    start = "https://leftfutures.example.org/old-address"
    landing = urljoin(start, target)
    site = standard_site(
        **{start: redirect(target, status), landing: html(SIMPLE_PAGE.format(title="Moved"))}
    )
    result = collect_web([start], store=store, client=client_for(site))
    assert (result.posts, result.quarantined) == (1, 0), store.quarantined()
    assert landing in site.seen


def test_allowed_domains_open_redirects_to_other_sites_and_a_start_page_keeps_its_host(
    store: Store,
) -> None:
    guardian = "https://www.theguardian.com/commentisfree/2016/aug/01/progressive-alliance-mason"
    start = "https://leftfutures.example.org/to-the-guardian"
    outside = "https://www.theguardian.com/short"
    site = standard_site(**{start: redirect(guardian), outside: redirect(guardian)})
    opened = collect_web(
        [start],
        store=store,
        client=client_for(site),
        allowed_domains=["leftfutures.example.org", "theguardian.com"],
    )
    assert (opened.posts, opened.quarantined) == (1, 0)
    store.clear_quarantine()
    # A start page outside the allowed domains is still fetched, and may move within
    # its own host.
    own = collect_web(
        [outside],
        store=store,
        client=client_for(site),
        refetch=True,
        allowed_domains=["leftfutures.example.org"],
    )
    assert (own.posts, own.quarantined) == (1, 0)


@pytest.mark.parametrize(
    "location",
    [
        "javascript:alert(1)",
        "javascript:void(0)",
        "JAVASCRIPT:alert(document.domain)",
        "data:text/html,<script>alert(1)</script>",
        "mailto:editor@leftfutures.example.org",
        "file:///etc/passwd",
        "ftp://leftfutures.example.org/archive",
    ],
)
def test_a_redirect_to_another_scheme_is_a_problem_and_the_crawl_goes_on(
    store: Store, location: str
) -> None:
    start = "https://leftfutures.example.org/go-elsewhere"
    site = standard_site(**{start: redirect(location)})
    result = collect_web([start, ARTICLE], store=store, client=client_for(site))
    assert (result.posts, result.quarantined) == (1, 1)
    [row] = store.quarantined()
    assert row["source"] == start
    assert "redirected to" in row["reason"] and "refusing to fetch" in row["reason"]


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/",
        "http://[::ffff:a9fe:a9fe]/latest/",
        "http://2852039166/latest/",
        "http://0251.0376.0251.0376/latest/",
        "http://metadata.example.net/computeMetadata/v1/",
        "http://intranet.example.org/wiki",
        "http://localhost:8080/admin",
        "http://[::1]/",
    ],
)
def test_a_redirect_to_a_private_address_is_refused_even_on_an_allowed_domain(
    store: Store, target: str
) -> None:
    start = "https://leftfutures.example.org/moved"
    site = standard_site(**{start: redirect(target), target: html(SIMPLE_PAGE.format(title="x"))})
    host = urlsplit(target).hostname or ""
    result = collect_web(
        [start, ARTICLE],
        store=store,
        client=client_for(site),
        allowed_domains=["leftfutures.example.org", host],
    )
    assert (result.posts, result.quarantined) == (1, 1)
    assert host not in hosts(site.seen)
    [row] = store.quarantined()
    assert "non-public address" in row["reason"] and "redirected to" in row["reason"]


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://intranet.example.org/"]
)
def test_private_start_pages_are_fetched_only_when_allowed(store: Store, url: str) -> None:
    site = standard_site(**{url: html(SIMPLE_PAGE.format(title="Intranet"))})
    refused = collect_web([url], store=store, client=client_for(site))
    assert refused.posts == 0 and site.seen == []
    assert "non-public address" in refused.problems[0]["reason"]
    allowed = collect_web([url], store=store, client=client_for(site, allow_private=True))
    assert allowed.posts == 1


def test_collect_web_makes_a_client_that_refuses_private_addresses_unless_allowed(
    store: Store,
) -> None:
    """No client given: the one collect_web makes refuses before any network use."""
    result = collect_web(["http://127.0.0.1:9/", "http://[::1]:9/"], store=store)
    assert result.quarantined == 2
    assert all("non-public address" in p["reason"] for p in result.problems)


# --------------------------------------------------------------------------- canonical URLs

OWN = "https://leftfutures.example.org/2016/09/own-page/"
FOREIGN = "https://www.theguardian.com/politics/2016/sep/01/claimed"


def claiming(canonical: str | None = None, og_url: str | None = None) -> str:
    head = ""
    if canonical is not None:
        head += f'<link rel="canonical" href="{canonical}">'
    if og_url is not None:
        head += f'<meta property="og:url" content="{og_url}">'
    return SIMPLE_PAGE.format(title="Own page").replace("</head>", head + "</head>")


@pytest.mark.parametrize(
    ("canonical", "og_url"),
    [
        (FOREIGN, None),
        (None, FOREIGN),
        (FOREIGN, FOREIGN),
        ("https://leftfutures.example.org.evil.example.net/2016/09/own-page/", None),
        ("//www.theguardian.com/politics/claimed", None),
        ("https://example.org/", "https://evil.example.net/"),
    ],
)
def test_a_canonical_url_on_another_site_is_ignored_and_noted(
    store: Store, canonical: str | None, og_url: str | None
) -> None:
    site = standard_site(**{OWN: html(claiming(canonical, og_url))})
    result = collect_web([OWN], store=store, client=client_for(site))
    assert result.posts == 1
    post = store.get_post(f"web:{OWN}")
    assert post is not None and post.url == OWN
    assert store.count_posts() == 1
    [note] = result.notes
    assert note["url"] == OWN and "on another site" in note["note"]


@pytest.mark.parametrize(
    "canonical",
    [
        "https://leftfutures.example.org/2016/09/canonical/",
        "https://www.leftfutures.example.org/2016/09/canonical/",
        "http://leftfutures.example.org/2016/09/canonical/",
        "/2016/09/canonical/",
    ],
)
def test_a_canonical_url_on_the_same_site_is_the_posts_address(
    store: Store, canonical: str
) -> None:
    site = standard_site(**{OWN: html(claiming(canonical))})
    result = collect_web([OWN], store=store, client=client_for(site))
    expected = urljoin(OWN, canonical)
    assert store.get_post(f"web:{expected}") is not None
    assert result.notes == []


def test_a_foreign_canonical_falls_back_to_a_same_site_og_url() -> None:
    og = "https://leftfutures.example.org/2016/09/og-address/"
    notes: list[str] = []
    post = parse_html(claiming(FOREIGN, og), url=OWN, source=OWN, on_note=notes.append)
    assert post.url == og and len(notes) == 1


def test_a_saved_file_takes_its_canonical_url_from_any_site(tmp_path: Path) -> None:
    saved = tmp_path / "saved.html"
    saved.write_text(claiming(FOREIGN), encoding="utf-8")
    assert read_html_file(saved).url == FOREIGN  # no fetched address to compare with


# --------------------------------------------------------------------------- robots.txt


def unreachable() -> httpx.Response:
    raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution")


@pytest.mark.parametrize(
    ("answer", "cause"),
    [
        (lambda: httpx.Response(503), "HTTP 503"),
        (lambda: httpx.Response(500, text="oops"), "HTTP 500"),
        (unreachable, "Temporary failure in name resolution"),
        (redirect("http://169.254.169.254/robots.txt"), "non-public address"),
    ],
)
def test_an_unreadable_robots_txt_is_reported_with_its_cause_not_as_a_rule(
    store: Store, answer: Callable[[], httpx.Response], cause: str
) -> None:
    site = standard_site(**{"https://leftfutures.example.org/robots.txt": answer})
    result = collect_web([ARTICLE, RELATED], store=store, client=client_for(site))
    assert result.posts == 0 and result.quarantined == 2
    assert ARTICLE not in site.seen and RELATED not in site.seen
    for row in store.quarantined():
        assert "could not be read" in row["reason"] and cause in row["reason"]
        assert "disallows" not in row["reason"]
    assert sum(u.endswith("/robots.txt") for u in site.seen) <= 2  # fetched once (2 tries)


def padded_robots(size: int) -> bytes:
    rules = "User-agent: *\nDisallow: /private/\n\n"
    padding = "# " + "x" * 60 + "\n"
    late = "\nUser-agent: mapper\nDisallow: /\n"  # beyond the cap: never read
    return (rules + padding * (size // len(padding)) + late).encode()


@pytest.mark.parametrize("size", [600 * 1024, 2 * 1024 * 1024])
@pytest.mark.parametrize("declared", [True, False])
def test_an_oversized_robots_txt_is_read_up_to_the_cap(
    store: Store, size: int, declared: bool
) -> None:
    """RFC 9309: at least the first 500 KiB are parsed; before, the whole site was
    refused as if robots.txt disallowed it."""
    body = padded_robots(size)

    def robots() -> httpx.Response:
        if declared:
            return httpx.Response(200, content=body, headers={"content-type": "text/plain"})
        chunks = [body[i : i + 8192] for i in range(0, len(body), 8192)]
        return httpx.Response(200, stream=httpx.ByteStream(b"".join(chunks)))

    secret = "https://leftfutures.example.org/private/notes"
    site = standard_site(
        **{
            "https://leftfutures.example.org/robots.txt": robots,
            secret: html(SIMPLE_PAGE.format(title="secret")),
        }
    )
    result = collect_web([ARTICLE, secret], store=store, client=client_for(site))
    assert result.posts == 1 and result.quarantined == 1
    assert ARTICLE in site.seen and secret not in site.seen
    assert "robots.txt disallows" in store.quarantined()[0]["reason"]


# --------------------------------------------------------------------------- command line


def cli() -> object:
    import typer

    from mapper.cli.collect_web import register

    app = typer.Typer()
    collect = typer.Typer()
    register(collect)
    app.add_typer(collect, name="collect")
    return app


def test_cli_help_has_examples() -> None:
    for command in ("web", "feed"):
        result = CliRunner().invoke(cli(), ["collect", command, "--help"])  # type: ignore[arg-type]
        assert result.exit_code == 0 and "Example" in result.output


def test_cli_web_fetches_pages_from_a_url_file(tmp_path: Path) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# reading list\n\n{ARTICLE}\n")
    store_path = tmp_path / "s.sqlite"
    with respx.mock(assert_all_called=False) as mock:
        mock.get("https://leftfutures.example.org/robots.txt").respond(404)
        route = mock.get(ARTICLE).respond(200, headers=HTML, content=page("blog_article.html"))
        result = CliRunner().invoke(
            cli(),  # type: ignore[arg-type]
            ["collect", "web", "--from-file", str(urls), "--store", str(store_path)],
        )
    assert result.exit_code == 0, result.output
    assert route.called
    assert route.calls[0].request.headers["user-agent"].startswith("mapper/")
    assert "1 posts from 1 pages" in result.output
    with Store(store_path) as st:
        assert st.count_posts() == 1


def test_cli_web_without_urls_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), ["collect", "web", "--store", str(tmp_path / "s.sqlite")])  # type: ignore[arg-type]
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "no URLs given" in result.output


def test_cli_web_obeys_robots_txt_by_default(tmp_path: Path) -> None:
    store_path = tmp_path / "s.sqlite"
    refused = "https://leftfutures.example.org/no-mapper/secret"
    with respx.mock(assert_all_called=False) as mock:
        mock.get("https://leftfutures.example.org/robots.txt").respond(
            200, text=page("robots.txt").decode()
        )
        route = mock.get(refused).respond(200, headers=HTML, content=page("blog_article.html"))
        result = CliRunner().invoke(cli(), ["collect", "web", refused, "--store", str(store_path)])  # type: ignore[arg-type]
    assert result.exit_code == 1, result.output  # the only URL was refused: nothing read
    assert f"error: {refused}: robots.txt disallows fetching this page" in result.output
    assert "--ignore-robots" in result.output
    assert not route.called
    with Store(store_path) as st:
        assert st.count_posts() == 0
        assert "robots.txt" in st.quarantined()[0]["reason"]


def invoke_web(tmp_path: Path, *args: str) -> object:
    return CliRunner().invoke(
        cli(),  # type: ignore[arg-type]
        ["collect", "web", *args, "--store", str(tmp_path / "s.sqlite")],
    )


@pytest.mark.parametrize(
    "refused",
    [
        ["http://169.254.169.254/latest/meta-data/"],
        ["ftp://leftfutures.example.org/archive"],
        ["https://leftfutures.example.org/no-mapper/a", "http://[::1]/", "file:///etc/passwd"],
        ["https://leftfutures.example.org/gone", "https://leftfutures.example.org/report.pdf"],
    ],
)
def test_cli_web_that_reads_nothing_exits_1_naming_every_reason(
    tmp_path: Path, refused: list[str]
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.get("https://leftfutures.example.org/robots.txt").respond(
            200, text=page("robots.txt").decode()
        )
        mock.get("https://leftfutures.example.org/gone").respond(404)
        mock.get("https://leftfutures.example.org/report.pdf").respond(
            200, headers={"content-type": "application/pdf"}, content=b"%PDF"
        )
        result = invoke_web(tmp_path, *refused)
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]  # type: ignore[attr-defined]
    assert len(errors) == len(refused) + 1
    for url, line in zip(refused, errors, strict=False):
        assert line.startswith(f"error: {url}: ")
    assert errors[-1] == "error: no page could be read"
    assert "Traceback" not in result.output  # type: ignore[attr-defined]


def test_cli_web_that_reads_some_pages_exits_0_despite_problems(tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.get("https://leftfutures.example.org/robots.txt").respond(404)
        mock.get(ARTICLE).respond(200, headers=HTML, content=page("blog_article.html"))
        result = invoke_web(tmp_path, ARTICLE, "http://10.0.0.5/", "javascript:alert(1)")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "2 quarantined" in result.output  # type: ignore[attr-defined]


def test_cli_web_allow_private_opens_an_intranet(tmp_path: Path) -> None:
    intranet = "http://10.0.0.5/news/item"
    with respx.mock(assert_all_called=False) as mock:
        mock.get("http://10.0.0.5/robots.txt").respond(404)
        route = mock.get(intranet).respond(
            200, headers=HTML, content=SIMPLE_PAGE.format(title="In")
        )
        refused = invoke_web(tmp_path, intranet)
        assert not route.called
        allowed = invoke_web(tmp_path, intranet, "--allow-private")
    assert refused.exit_code == 1 and "non-public address" in refused.output  # type: ignore[attr-defined]
    assert "--allow-private" in refused.output  # type: ignore[attr-defined]
    assert allowed.exit_code == 0, allowed.output  # type: ignore[attr-defined]
    assert route.called


def test_cli_web_says_when_a_canonical_url_was_ignored(tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.get("https://leftfutures.example.org/robots.txt").respond(404)
        mock.get(OWN).respond(200, headers=HTML, content=claiming(FOREIGN))
        result = invoke_web(tmp_path, OWN)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert f"note: {OWN}: the page names {FOREIGN} as its address" in result.output  # type: ignore[attr-defined]


def test_the_quarantine_listing_shows_no_line_for_a_whole_page(tmp_path: Path) -> None:
    from mapper.cli import app

    path = tmp_path / "s.sqlite"
    with Store(path) as st:
        st.quarantine("https://leftfutures.example.org/page", None, "no main text found")
        st.quarantine("edges.csv", 7, "weight is not a number")
    result = CliRunner().invoke(app, ["quarantine", "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert "None" not in result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert rows["https://leftfutures.example.org/page"][1] == "no"  # the reason comes next
    assert rows["edges.csv"][1] == "7"
