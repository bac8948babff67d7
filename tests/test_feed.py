"""The feed collector: RSS and Atom entries as posts, malformed feeds read as far as possible.

Feeds are saved fixtures in ``tests/fixtures/http``; fetched ones go through
:class:`httpx.MockTransport`, which also proves feedparser itself never fetches.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from mapper.collectors.feed import collect_feed, import_feed_file, parse_feed
from mapper.errors import CollectorError, ImportFormatError
from mapper.http import HttpClient, HttpStatusError, RetryPolicy
from mapper.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "http"
FEED_URL = "https://www.compassonline.org.uk/feed/"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as s:
        yield s


def posts_of(name: str) -> tuple[dict[str, object], list[tuple[int | None, str]]]:
    posts, problems = parse_feed((FIXTURES / name).read_bytes(), source=name, url=FEED_URL)
    return {post.uid: post for post, _raw in posts}, problems


def test_rss_entries_become_posts_with_links_and_tags() -> None:
    posts, problems = posts_of("feed_rss.xml")
    assert set(posts) == {
        "feed:compass-post-1842",
        "feed:https://www.compassonline.org.uk/blog/fair-votes/",
    }
    post = posts["feed:compass-post-1842"]
    assert post.platform == "feed"
    assert post.author == "Neal Lawson"
    assert post.created_at == datetime(2016, 8, 14, 8, 30, tzinfo=UTC)
    assert post.url == "https://www.compassonline.org.uk/blog/where-next/"
    assert post.text.startswith("The progressive alliance: where next?\n\nWe met Caroline Lucas")
    assert "<p>" not in post.text
    assert post.tags == ("progressive alliance", "electoral reform")
    assert post.language == "en"
    # full content is preferred to the summary; relative links resolve against the entry;
    # anchors, mailto and self-links are dropped
    assert [r.target for r in post.references] == [
        "https://www.greenparty.org.uk/people/caroline-lucas",
        "https://www.compassonline.org.uk/blog/ld-talks/",
    ]
    assert all(r.kind == "link" for r in post.references)
    assert "Caroline Lucas" in post.references[0].snippet
    second = posts["feed:https://www.compassonline.org.uk/blog/fair-votes/"]
    assert second.author == "Compass"  # the name, not "office@... (Compass)"
    # the entry without id or link is a recorded problem, not a crash
    assert problems == [(3, "entry has neither an id nor a link")]


def test_atom_entries_use_published_else_updated() -> None:
    posts, problems = posts_of("feed_atom.xml")
    assert problems == []
    hard = posts["feed:tag:soft-left.example.net,2016:hard-choices"]
    assert hard.author == "Ellie Mae O'Hagan"
    assert hard.created_at == datetime(2016, 9, 2, 18, 45, tzinfo=UTC)
    assert [r.target for r in hard.references] == ["https://www.lisanandy.example/speech"]
    assert hard.tags == ("soft left",)
    updated = posts["feed:tag:soft-left.example.net,2016:only-updated"]
    assert updated.created_at == datetime(2016, 9, 1, 7, 0, tzinfo=UTC)
    assert updated.references == ()


def test_a_malformed_feed_yields_what_it_can_and_records_the_problem(store: Store) -> None:
    result = collect_feed(FIXTURES / "feed_broken.xml", store=store)
    assert result.posts == 2 and result.added == 2
    assert result.quarantined == 1
    [row] = store.quarantined()
    assert row["source"].endswith("feed_broken.xml")
    assert row["reason"].startswith("malformed feed")
    first = store.get_post("feed:https://broken.example.org/first")
    assert first is not None
    assert [r.target for r in first.references] == ["https://www.unitetheunion.org/"]


def test_a_document_that_is_not_a_feed_is_recorded(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "page.xml"
    path.write_text("<html><body><p>not a feed</p></body></html>")
    result = collect_feed(path, store=store)
    assert result.posts == 0 and result.quarantined == 1


def test_feeds_are_fetched_through_the_mapper_client(store: Store) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if str(request.url) == FEED_URL:
            return httpx.Response(
                200,
                headers={"content-type": "application/rss+xml"},
                content=(FIXTURES / "feed_rss.xml").read_bytes(),
            )
        return httpx.Response(404)

    client = HttpClient(transport=httpx.MockTransport(handler), sleep=lambda s: None)
    result = collect_feed(FEED_URL, store=store, client=client)
    assert (result.pages, result.posts, result.added, result.quarantined) == (1, 2, 2, 1)
    assert [str(r.url) for r in seen] == [FEED_URL]  # feedparser fetched nothing itself
    assert seen[0].headers["user-agent"].startswith("mapper/")
    assert "rss" in seen[0].headers["accept"]
    post = store.get_post("feed:compass-post-1842")
    assert post is not None and post.provenance is not None
    assert post.provenance.source == FEED_URL and post.provenance.retrieved_at is not None
    assert store.raw_payload("feed:compass-post-1842") is not None


def test_fetch_failures_raise_clearly(store: Store) -> None:
    client = HttpClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(404)),
        policy=RetryPolicy(max_attempts=1),
        rng=random.Random(0),
    )
    with pytest.raises(HttpStatusError, match="404"):
        collect_feed("https://example.org/missing.xml", store=store, client=client)
    with pytest.raises(CollectorError, match="refusing"):
        collect_feed("ftp://example.org/feed.xml", store=store, client=client)
    with pytest.raises(ImportFormatError, match="not found"):
        collect_feed("no/such/feed.xml", store=store)


def test_import_feed_file_skips_an_unchanged_file(store: Store) -> None:
    first = import_feed_file(store, FIXTURES / "feed_atom.xml")
    assert (first.posts, first.added, first.skipped_unchanged) == (2, 2, False)
    again = import_feed_file(store, FIXTURES / "feed_atom.xml")
    assert again.skipped_unchanged is True
    forced = import_feed_file(store, FIXTURES / "feed_atom.xml", force=True)
    assert (forced.posts, forced.added, forced.duplicates) == (2, 0, 2)


def test_cli_feed_reads_files_and_reports_failures(tmp_path: Path) -> None:
    import typer

    from mapper.cli.collect_web import register

    app = typer.Typer()
    collect = typer.Typer()
    register(collect)
    app.add_typer(collect, name="collect")
    store_path = str(tmp_path / "s.sqlite")
    ok = CliRunner().invoke(
        app, ["collect", "feed", str(FIXTURES / "feed_atom.xml"), "--store", store_path]
    )
    assert ok.exit_code == 0, ok.output
    assert "2 posts from 1 feeds" in ok.output
    bad = CliRunner().invoke(
        app,
        ["collect", "feed", "missing.xml", str(FIXTURES / "feed_rss.xml"), "--store", store_path],
    )
    assert bad.exit_code == 1
    assert "feed file not found" in bad.output
    assert "2 posts from 1 feeds" in bad.output  # the good feed was still read


def test_regression_an_impossible_date_or_encoding_is_a_problem_not_a_crash(
    store: Store, tmp_path: Path
) -> None:
    """Found by tests/test_reliability_inputs.py: a year 0 date raised ValueError out of
    the importer, and so did a NUL byte in the declared encoding (inside feedparser)."""
    rss = (FIXTURES / "feed_rss.xml").read_bytes()
    year0 = tmp_path / "year0.xml"
    year0.write_bytes(rss.replace(b"<pubDate>Tue, 02 Aug", b"<pubDate>0000Tue, 02 Aug"))
    result = import_feed_file(store, year0)
    assert (
        result.posts == 2
        and store.get_post("feed:https://www.compassonline.org.uk/blog/fair-votes/").created_at
        is None
    )
    nul = tmp_path / "nul.xml"
    nul.write_bytes(b"<?xml version='1.0' encoding='utf\x00-8'?><rss><channel/></rss>")
    result = import_feed_file(store, nul)
    assert result.posts == 0 and result.quarantined == 1
    assert "unreadable feed" in store.quarantined(str(nul))[0]["reason"]
