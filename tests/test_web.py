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

import httpx
import pytest
import respx
from typer.testing import CliRunner

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


def page(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


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
    assert result.exit_code == 0, result.output
    assert not route.called
    with Store(store_path) as st:
        assert st.count_posts() == 0
        assert "robots.txt" in st.quarantined()[0]["reason"]
