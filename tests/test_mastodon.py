"""The Mastodon collector: Mastodon.py over mocked HTTP (responses), the pure parser, the
HTML reduction and the importer. Fixtures follow the documented Status entity."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import responses
from responses import matchers

from mapper.collectors import mastodon as masto
from mapper.collectors.mastodon import (
    html_to_text,
    import_mastodon_file,
    mastodon_client,
    mastodon_posts,
    normalize_acct,
    parse_account,
    post_from_status,
    posts_from_status,
)
from mapper.errors import CollectorError, CredentialsError, ImportFormatError, RateLimitError
from mapper.store import Store

FIX = Path(__file__).resolve().parent / "fixtures" / "mastodon"
API = "https://mastodon.example/api/v1"
ALICE_ID = "109000000000000001"
BOB_ID = "109000000000000002"
ERIN_ID = "109000000000000005"


def load(name: str):
    return json.loads((FIX / name).read_text(encoding="utf-8"))


def status_by_id(name: str, id_: str) -> dict:
    return next(s for s in load(name) if s["id"] == id_)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as st:
        yield st


@pytest.fixture(autouse=True)
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASTODON_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("MASTODON_API_BASE_URL", raising=False)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def refs(post, kind: str) -> list:
    return [r for r in post.references if r.kind == kind]


# --------------------------------------------------------------------------- pure parsing


def test_accounts_are_parsed_and_normalized() -> None:
    assert parse_account("alice@Mastodon.Example") == ("alice", "mastodon.example")
    assert parse_account("@alice@mastodon.example") == ("alice", "mastodon.example")
    assert parse_account("https://mastodon.example/@alice") == ("alice", "mastodon.example")
    with pytest.raises(CollectorError):
        parse_account("alice")
    assert normalize_acct("bob", "mastodon.example") == "bob@mastodon.example"
    assert normalize_acct("carol@Other.Example", "mastodon.example") == "carol@other.example"


def test_status_fields_mentions_links_and_tags() -> None:
    status = status_by_id("statuses_page1.json", "105")
    post = post_from_status(status, instance="mastodon.example")
    assert post.uid == "mastodon:https://mastodon.example/@alice/105"
    assert (post.platform, post.author, post.author_id) == (
        "mastodon",
        "alice@mastodon.example",
        ALICE_ID,
    )
    assert post.author_name == "Alice Example"
    assert post.created_at == datetime(2016, 8, 10, 10, tzinfo=UTC)
    assert post.language == "en"
    assert post.tags == ("fairvotes",)
    mentions = refs(post, "mention")
    assert [(m.target, m.target_id) for m in mentions] == [
        ("bob@mastodon.example", BOB_ID),  # a local account: the instance is added
        ("carol@other.example", "109000000000000003"),  # a remote one keeps its domain
    ]
    assert "@bob" in mentions[0].snippet
    # mention and hashtag anchors are not links; the article link and the card are
    assert [r.target for r in refs(post, "link")] == [
        "https://example.org/pr-article",
        "https://example.org/card-page",
    ]
    assert post.text.startswith("[Example] Thanks @bob and @carol for the example:")
    assert "https://example.org/pr-article" in post.text  # hidden URL parts kept


def test_reply_to_a_mentioned_account() -> None:
    post = post_from_status(status_by_id("statuses_page1.json", "104"), instance="mastodon.example")
    (reply,) = refs(post, "reply")
    assert (reply.target, reply.target_id) == ("bob@mastodon.example", BOB_ID)


def test_reply_to_self_and_to_an_unknown_account() -> None:
    own = post_from_status(status_by_id("statuses_page2.json", "101"), instance="mastodon.example")
    assert refs(own, "reply")[0].target == "alice@mastodon.example"
    other = status_by_id("statuses_page2.json", "102")
    (reply,) = refs(post_from_status(other, instance="mastodon.example"), "reply")
    assert (reply.target, reply.target_id) == (f"id:{ERIN_ID}@mastodon.example", ERIN_ID)
    looked_up = post_from_status(
        other, instance="mastodon.example", accounts={ERIN_ID: "erin@third.example"}
    )
    assert refs(looked_up, "reply")[0].target == "erin@third.example"


def test_boost_is_a_repost_by_the_booster_and_keeps_the_original() -> None:
    status = status_by_id("statuses_page1.json", "103")
    boost, original = posts_from_status(status, instance="mastodon.example")
    assert boost.uid == "mastodon:https://mastodon.example/users/alice/statuses/103/activity"
    assert boost.author == "alice@mastodon.example"
    assert boost.text == ""
    (ref,) = boost.references
    assert (ref.kind, ref.target, ref.target_id) == (
        "repost",
        "dave@other.example",
        "109000000000000004",
    )
    assert "Dave" in ref.snippet
    assert original.uid == "mastodon:https://other.example/@dave/777"
    assert original.author == "dave@other.example"


def test_quote_of_mastodon_4_4() -> None:
    post = post_from_status(status_by_id("statuses_page2.json", "99"), instance="mastodon.example")
    (quote,) = refs(post, "quote")
    assert quote.target == "carol@other.example"
    assert refs(post, "link") == []  # the "RE:" link to the quoted post is the quote itself


def test_hostile_html_is_reduced_to_safe_text() -> None:
    status = status_by_id("statuses_page2.json", "100")
    post = post_from_status(status, instance="mastodon.example")
    assert "alert" not in post.text and "p{}" not in post.text
    assert "<b>bold</b> &" in post.text  # entities decoded: text, not markup
    assert post.text.endswith("line two\nline three")
    assert [r.target for r in refs(post, "link")] == ["https://example.org/safe"]
    text, anchors = html_to_text("<p>a<script>never closed")
    assert text == "a"
    assert html_to_text("x\x00y<br/>z")[0] == "xy\nz"
    hidden = html_to_text('<svg><a href="https://example.org/in-svg">s</a></svg>ok')
    assert hidden == ("ok", [])
    assert anchors == []


def test_mastodon_py_objects_are_normalized() -> None:
    """Mastodon.py returns dict subclasses with local-time datetimes and its own id type."""
    raw = status_by_id("statuses_page1.json", "104")
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/statuses/104", json=raw)
        obj = mastodon_client("mastodon.example").status("104")
    assert isinstance(obj["created_at"], datetime)  # what Mastodon.py hands over
    assert type(obj["id"]) is not str
    post = post_from_status(obj, instance="mastodon.example")
    assert post == post_from_status(raw, instance="mastodon.example")
    assert post.created_at.tzinfo is UTC
    assert type(post.author_id) is str and type(refs(post, "reply")[0].target_id) is str


def test_malformed_status_is_refused() -> None:
    with pytest.raises(ImportFormatError):
        post_from_status({"id": "1", "content": "x"}, instance="mastodon.example")


# --------------------------------------------------------------------------- collection


def mock_account(rsps: responses.RequestsMock) -> None:
    rsps.get(
        f"{API}/accounts/lookup",
        json=load("account_alice.json"),
        match=[matchers.query_param_matcher({"acct": "alice"})],
    )


def mock_pages(rsps: responses.RequestsMock, *, first_limit: str = "40") -> None:
    base = f"{API}/accounts/{ALICE_ID}/statuses"
    rsps.get(
        base,
        json=load("statuses_page1.json"),
        match=[matchers.query_param_matcher({"limit": first_limit})],
        headers={"Link": f'<{base}?max_id=103>; rel="next", <{base}?min_id=105>; rel="prev"'},
    )
    rsps.get(
        base,
        json=load("statuses_page2.json"),
        match=[matchers.query_param_matcher({"limit": "40", "max_id": "103"})],
        headers={"Link": f'<{base}?min_id=102>; rel="prev"'},
    )
    rsps.get(base, json=[], match=[matchers.query_param_matcher({"limit": "40", "max_id": "99"})])


def test_collects_pages_through_max_id(store: Store) -> None:
    with responses.RequestsMock() as rsps:
        mock_account(rsps)
        mock_pages(rsps)
        erin = rsps.get(f"{API}/accounts/{ERIN_ID}", json=load("account_erin.json"))
        result = mastodon_posts("alice@mastodon.example", store=store, sleep=Sleeps())
        assert erin.call_count == 1  # the reply target that is not mentioned, looked up once
        assert all("Authorization" not in c.request.headers for c in rsps.calls)
    assert (result.items, result.posts, result.pages) == (7, 8, 3)
    assert result.complete and store.get_cursor("mastodon:statuses:alice@mastodon.example") == ""
    posts = {p.uid: p for p in store.iter_posts()}
    assert len(posts) == 8
    reply = next(p for p in posts.values() if p.text.startswith("[Example] replying to someone"))
    assert refs(reply, "reply")[0].target == "erin@third.example"
    assert all(p.author.count("@") == 1 for p in posts.values())
    boost = posts["mastodon:https://mastodon.example/users/alice/statuses/103/activity"]
    assert json.loads(store.raw_payload(boost.uid))["reblog"]["id"] == "777"
    assert boost.provenance.collector == "mastodon" and boost.provenance.retrieved_at


def test_budget_and_resume_after_a_crash(store: Store) -> None:
    base = f"{API}/accounts/{ALICE_ID}/statuses"
    sleeps = Sleeps()
    with responses.RequestsMock() as rsps:
        mock_account(rsps)
        rsps.get(
            base,
            json=load("statuses_page1.json"),
            headers={"Link": f'<{base}?max_id=103>; rel="next"'},
            match=[matchers.query_param_matcher({"limit": "40"})],
        )
        rsps.get(
            base,
            status=500,
            json={"error": "oops"},
            match=[matchers.query_param_matcher({"limit": "40", "max_id": "103"})],
        )
        with pytest.raises(CollectorError) as info:
            mastodon_posts("alice@mastodon.example", store=store, sleep=sleeps)
    assert "500" in info.value.one_line()
    assert len(sleeps) == masto.MAX_ATTEMPTS - 1
    assert store.count_posts() == 4
    assert store.get_cursor("mastodon:statuses:alice@mastodon.example") == "103"

    with responses.RequestsMock() as rsps:
        mock_account(rsps)
        rsps.get(
            base,
            json=load("statuses_page2.json"),
            match=[matchers.query_param_matcher({"limit": "40", "max_id": "103"})],
        )
        rsps.get(
            base, json=[], match=[matchers.query_param_matcher({"limit": "40", "max_id": "99"})]
        )
        rsps.get(f"{API}/accounts/{ERIN_ID}", status=404, json={"error": "Record not found"})
        result = mastodon_posts("alice@mastodon.example", store=store, sleep=Sleeps())
    assert (result.added, result.duplicates) == (4, 0)
    assert store.count_posts() == 8
    reply = next(p for p in store.iter_posts() if p.text.startswith("[Example] replying to some"))
    assert refs(reply, "reply")[0].target == f"id:{ERIN_ID}@mastodon.example"


def test_max_posts_limits_the_page(store: Store) -> None:
    with responses.RequestsMock() as rsps:
        mock_account(rsps)
        base = f"{API}/accounts/{ALICE_ID}/statuses"
        rsps.get(
            base,
            json=load("statuses_page1.json")[:2],
            match=[matchers.query_param_matcher({"limit": "2"})],
            headers={"Link": f'<{base}?max_id=104>; rel="next"'},
        )
        result = mastodon_posts("alice@mastodon.example", store=store, max_posts=2, sleep=Sleeps())
    assert result.items == 2 and not result.complete
    assert store.get_cursor("mastodon:statuses:alice@mastodon.example") == "104"


def test_unknown_account_is_one_line(store: Store) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/accounts/lookup", status=404, json={"error": "Record not found"})
        with pytest.raises(CollectorError) as info:
            mastodon_posts("nobody@mastodon.example", store=store, sleep=Sleeps())
    line = info.value.one_line()
    assert line.startswith("Mastodon account not found: nobody@mastodon.example")
    assert "\n" not in line


def test_unauthorized_is_a_credentials_error(store: Store) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(
            f"{API}/accounts/lookup",
            status=401,
            json={"error": "This API requires an authenticated user"},
        )
        with pytest.raises(CredentialsError) as info:
            mastodon_posts("alice@mastodon.example", store=store, sleep=Sleeps())
    assert "MASTODON_ACCESS_TOKEN" in info.value.one_line()


def mock_rate_limited(rsps: responses.RequestsMock, seconds: int, **headers: str) -> None:
    """A 429 on the account lookup, its limit resetting in ``seconds``."""
    reset = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
    rsps.get(
        f"{API}/accounts/lookup",
        status=429,
        json={"error": "Too many requests"},
        headers={**headers, "X-RateLimit-Reset": reset},
    )


def test_rate_limit_waits_for_the_reset_then_continues(store: Store) -> None:
    sleeps = Sleeps()
    with responses.RequestsMock() as rsps:
        mock_rate_limited(rsps, 20, **{"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0"})
        mock_account(rsps)
        mock_pages(rsps)
        rsps.get(f"{API}/accounts/{ERIN_ID}", json=load("account_erin.json"))
        started = time.monotonic()
        result = mastodon_posts("alice@mastodon.example", store=store, sleep=sleeps)
    assert time.monotonic() - started < 5
    assert len(sleeps) == 1 and 15 <= sleeps[0] <= 21
    assert result.complete


def test_rate_limit_gives_up_after_bounded_attempts(store: Store) -> None:
    sleeps = Sleeps()
    with responses.RequestsMock() as rsps:
        mock_rate_limited(rsps, 10)
        with pytest.raises(RateLimitError):
            mastodon_posts("alice@mastodon.example", store=store, sleep=sleeps)
        assert len(rsps.calls) == masto.MAX_ATTEMPTS
    assert len(sleeps) == masto.MAX_ATTEMPTS - 1


def test_token_is_sent_only_to_its_own_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", "tok-secret-123456")
    monkeypatch.setenv("MASTODON_API_BASE_URL", "https://mastodon.example")
    assert mastodon_client("mastodon.example").access_token == "tok-secret-123456"
    assert mastodon_client("other.example").access_token is None


# --------------------------------------------------------------------------- import


def test_import_jsonl_quarantines_bad_lines(store: Store) -> None:
    result = import_mastodon_file(FIX / "statuses.jsonl", store=store)
    bad = {row["line"]: row["reason"] for row in store.quarantined()}
    assert sorted(bad) == [2, 3, 4]
    assert "invalid JSON" in bad[2] and "account" in bad[4]
    assert (result.items, result.added, result.quarantined) == (3, 3, 3)
    authors = {p.author for p in store.iter_posts()}
    assert authors == {"alice@mastodon.example", "dave@other.example"}


def test_import_json_list_without_instance_uses_account_urls(store: Store, tmp_path: Path) -> None:
    result = import_mastodon_file(FIX / "statuses_page1.json", store=store)
    assert (result.items, result.added) == (3, 4)
    post = store.get_post("mastodon:https://mastodon.example/@alice/105")
    assert refs(post, "mention")[0].target == "bob@mastodon.example"
    assert json.loads(store.raw_payload(post.uid))["id"] == "105"
    path = tmp_path / "not-statuses.json"
    path.write_text('{\n "data": 1\n}', encoding="utf-8")
    with pytest.raises(ImportFormatError):
        import_mastodon_file(path, store=store)


# --------------------------------------------------------------------------- command line


def test_cli_posts_and_import(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mapper.cli import app

    runner = CliRunner()
    db = str(tmp_path / "cli.sqlite")
    with responses.RequestsMock() as rsps:
        mock_account(rsps)
        mock_pages(rsps)
        rsps.get(f"{API}/accounts/{ERIN_ID}", json=load("account_erin.json"))
        result = runner.invoke(
            app, ["collect", "mastodon", "posts", "alice@mastodon.example", "--store", db]
        )
    assert result.exit_code == 0, result.output
    assert "mastodon posts alice@mastodon.example: 8 posts from 3 pages, 8 new" in result.output
    result = runner.invoke(
        app,
        [
            "collect",
            "mastodon",
            "import",
            str(FIX / "statuses.jsonl"),
            "--store",
            db,
            "--instance",
            "mastodon.example",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "3 quarantined" in result.output
    with responses.RequestsMock() as rsps:
        rsps.get(f"{API}/accounts/lookup", status=404, json={"error": "Record not found"})
        result = runner.invoke(
            app, ["collect", "mastodon", "posts", "nobody@mastodon.example", "--store", db]
        )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: Mastodon account not found: nobody@mastodon.example "
        "(check the account name and its instance)"
    ]


def test_regression_fields_of_the_wrong_type_are_ignored() -> None:
    """Found by tests/test_reliability_inputs.py: ``"mentions": true`` raised TypeError,
    and a list as a quoted status's URL was unhashable."""
    status = status_by_id("statuses_page1.json", "105")
    odd = {**status, "mentions": True, "tags": 3, "quote": {"quoted_status": {
        "url": ["not", "a", "url"], "account": {"acct": "dave", "id": "9"}}}}  # fmt: skip
    post = post_from_status(odd, instance="mastodon.example")
    assert refs(post, "mention") == [] and post.tags == ()
    assert refs(post, "quote")[0].target == "dave@mastodon.example"
