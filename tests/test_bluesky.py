"""The Bluesky collector: the atproto SDK over mocked HTTP (respx), the pure parsers, the
importer. Fixtures are in the shapes the AppView returns (tests/fixtures/bluesky/)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from mapper.collectors import bluesky
from mapper.collectors.bluesky import (
    bluesky_posts,
    bluesky_search,
    import_bluesky_file,
    post_from_view,
    posts_from_feed_item,
    posts_from_feed_json,
)
from mapper.errors import CollectorError, CredentialsError, ImportFormatError, RateLimitError
from mapper.records import Provenance
from mapper.store import Store

FIX = Path(__file__).resolve().parent / "fixtures" / "bluesky"
DEMO_FILE = Path(__file__).resolve().parents[1] / "data" / "demo" / "corpus" / "bluesky_posts.json"
XRPC = "https://public.api.bsky.app/xrpc"

ALICE = "did:plc:thvhturyezvlnwms2frfk5ns"
BOB = "did:plc:gak5vik6xbajdcthoubpfrfg"
CAROL = "did:plc:4tk5da7jhtt24hskok7hhmlv"
DAVE = "did:plc:cx52uemzspofrcyadlqsn76j"
ERIN = "did:plc:cptr7ft7s6tehhuatjsccgjx"


def load(name: str) -> dict:
    return json.loads((FIX / name).read_text(encoding="utf-8"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as st:
        yield st


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BLUESKY_HANDLE", raising=False)
    monkeypatch.delenv("BLUESKY_APP_PASSWORD", raising=False)


class Sleeps(list):
    """Records requested sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def refs_of(post, kind: str) -> list:
    return [r for r in post.references if r.kind == kind]


# --------------------------------------------------------------------------- pure parsing


def test_mention_handle_is_read_at_utf8_byte_offsets_after_non_ascii_text() -> None:
    view = load("author_feed_page1.json")["feed"][0]["post"]
    text = view["record"]["text"]
    facet = view["record"]["facets"][0]["index"]
    # the fixture really is a byte/character trap: the offsets differ
    assert text.index("@bob") != facet["byteStart"]
    post = post_from_view(view)  # no profile of Bob anywhere: the handle comes from the text
    (mention,) = refs_of(post, "mention")
    assert mention.target == "bob.example.org"
    assert mention.target_id == BOB
    assert "@bob.example.org" in mention.snippet
    (link,) = refs_of(post, "link")
    assert link.target == "https://example.org/pr"
    assert post.tags == ("fairvotes",)
    assert post.language == "fr"


def test_post_fields_follow_the_mapping() -> None:
    view = load("author_feed_page1.json")["feed"][0]["post"]
    post = post_from_view(view)
    assert post.uid == "bluesky:" + view["uri"]
    assert post.platform == "bluesky"
    assert post.author == "alice.example.com"
    assert post.author_id == ALICE
    assert post.author_name == "Alice Example"
    assert post.created_at.isoformat() == "2016-08-10T09:00:00+00:00"
    rkey = view["uri"].rsplit("/", 1)[1]
    assert post.url == f"https://bsky.app/profile/alice.example.com/post/{rkey}"
    assert post.text == view["record"]["text"]


def test_reply_takes_the_parent_author_from_the_feed_item() -> None:
    item = load("author_feed_page1.json")["feed"][1]
    (post,) = posts_from_feed_item(item)
    (reply,) = refs_of(post, "reply")
    assert (reply.target, reply.target_id) == ("carol.example.net", CAROL)


def test_reply_without_parent_view_targets_the_did_of_the_parent_uri() -> None:
    item = load("author_feed_page2.json")["feed"][1]  # parent is a notFoundPost
    (post,) = posts_from_feed_item(item)
    (reply,) = refs_of(post, "reply")
    assert (reply.target, reply.target_id) == (ERIN, ERIN)


def test_quote_targets_the_quoted_author() -> None:
    item = load("author_feed_page1.json")["feed"][2]
    (post,) = posts_from_feed_item(item)
    (quote,) = refs_of(post, "quote")
    assert (quote.target, quote.target_id) == ("dave.example.com", DAVE)


def test_quote_from_the_record_alone_targets_the_did() -> None:
    view = load("author_feed_page1.json")["feed"][2]["post"]
    view = {k: v for k, v in view.items() if k != "embed"}  # no hydrated view
    (quote,) = refs_of(post_from_view(view), "quote")
    assert quote.target_id == DAVE
    assert quote.target == DAVE


def test_quote_with_media_targets_the_quoted_author_and_keeps_an_external_link() -> None:
    view = load("author_feed_page1.json")["feed"][2]["post"]
    record_embed, view_embed = view["record"]["embed"], view["embed"]
    card = {"uri": "https://example.org/media", "title": "t", "description": "d"}
    record = dict(
        view["record"],
        embed={
            "$type": "app.bsky.embed.recordWithMedia",
            "record": record_embed,
            "media": {"$type": "app.bsky.embed.external", "external": card},
        },
    )
    with_media = dict(
        view,
        record=record,
        embed={
            "$type": "app.bsky.embed.recordWithMedia#view",
            "record": view_embed,
            "media": {"$type": "app.bsky.embed.external#view", "external": card},
        },
    )
    post = post_from_view(with_media)
    (quote,) = refs_of(post, "quote")
    assert (quote.target, quote.target_id) == ("dave.example.com", DAVE)
    assert [r.target for r in refs_of(post, "link")] == ["https://example.org/media"]
    bare = post_from_view({k: v for k, v in with_media.items() if k != "embed"})
    assert refs_of(bare, "quote")[0].target_id == DAVE


def test_repost_reason_gives_a_repost_by_the_reposter_and_keeps_the_original() -> None:
    item = load("author_feed_page1.json")["feed"][3]
    repost, original = posts_from_feed_item(item)
    assert repost.uid == f"bluesky:repost:{ALICE}:{item['post']['uri']}"
    assert repost.uid != original.uid
    assert (repost.author, repost.author_id) == ("alice.example.com", ALICE)
    assert repost.created_at.isoformat() == "2016-08-10T12:00:00+00:00"
    (ref,) = repost.references
    assert (ref.kind, ref.target, ref.target_id) == ("repost", "bob.example.org", BOB)
    assert original.author == "bob.example.org"
    assert original.uid == "bluesky:" + item["post"]["uri"]


def test_external_embed_is_a_link() -> None:
    item = load("author_feed_page2.json")["feed"][0]
    (post,) = posts_from_feed_item(item)
    assert [r.target for r in refs_of(post, "link")] == ["https://example.org/article"]


def test_link_in_facet_and_card_counts_once() -> None:
    view = load("author_feed_page1.json")["feed"][0]["post"]
    view = dict(
        view,
        embed={
            "$type": "app.bsky.embed.external#view",
            "external": {"uri": "https://example.org/pr", "title": "t", "description": "d"},
        },
    )
    assert len(refs_of(post_from_view(view), "link")) == 1


def test_mention_shown_as_a_name_keeps_the_did_until_resolved() -> None:
    view = load("author_feed_page2.json")["feed"][2]["post"]
    (mention,) = refs_of(post_from_view(view), "mention")
    assert (mention.target, mention.target_id) == (ERIN, ERIN)
    (resolved,) = refs_of(post_from_view(view, handles={ERIN: "erin.example.com"}), "mention")
    assert resolved.target == "erin.example.com"


def test_feed_json_uses_profiles_from_the_whole_document() -> None:
    posts = posts_from_feed_json(load("author_feed_page1.json"))
    assert len(posts) == 5  # four items, one of them a repost (two posts)
    # Bob's profile is in the document (the reposted post), so the mention uses it
    (mention,) = refs_of(posts[0], "mention")
    assert mention.target == "bob.example.org"


def test_feed_json_stamps_provenance_with_the_item_number() -> None:
    prov = Provenance("bluesky", "0", "saved.json")
    posts = posts_from_feed_json(load("author_feed_page2.json"), provenance=prov)
    assert [p.provenance.line for p in posts] == [1, 2, 3]


def test_feed_json_refuses_what_is_not_a_response() -> None:
    with pytest.raises(ImportFormatError):
        posts_from_feed_json({"profiles": []})
    bad = {"feed": [{"post": {"uri": "https://example.org/x"}}]}
    with pytest.raises(ImportFormatError) as info:
        posts_from_feed_json(bad)
    assert info.value.line == 1
    assert posts_from_feed_json(bad, strict=False) == []


def test_invalid_offsets_and_handle_invalid_do_not_crash() -> None:
    view = load("author_feed_page1.json")["feed"][0]["post"]
    record = dict(view["record"])
    record["facets"] = [
        {
            "index": {"byteStart": 5, "byteEnd": 9999},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": BOB}],
        },
    ]
    author = dict(view["author"], handle="handle.invalid")
    post = post_from_view(dict(view, record=record, author=author))
    assert post.author == ALICE  # the DID stands in for an invalid handle
    assert refs_of(post, "mention")[0].target == BOB


# --------------------------------------------------------------------------- collection


def feed_route(router: respx.Router, pages: dict[str | None, httpx.Response]) -> respx.Route:
    def reply(request: httpx.Request) -> httpx.Response:
        return pages[request.url.params.get("cursor")]

    return router.get("/app.bsky.feed.getAuthorFeed").mock(side_effect=reply)


def ok(name: str) -> httpx.Response:
    return httpx.Response(200, json=load(name))


def test_author_feed_pages_through_the_cursor_and_resolves_unknown_dids(store: Store) -> None:
    with respx.mock(base_url=XRPC, assert_all_called=True) as router:
        route = feed_route(
            router,
            {
                None: ok("author_feed_page1.json"),
                "2016-08-10T09:00:00.000Z": ok("author_feed_page2.json"),
            },
        )
        profiles = router.get("/app.bsky.actor.getProfiles").mock(
            return_value=ok("profiles_erin.json")
        )
        result = bluesky_posts("@alice.example.com", store=store, sleep=Sleeps())
    assert route.call_count == 2
    first = route.calls[0].request.url.params
    assert first["actor"] == "alice.example.com" and "cursor" not in first
    assert route.calls[1].request.url.params["cursor"] == "2016-08-10T09:00:00.000Z"
    assert profiles.calls[0].request.url.params.get_list("actors") == [ERIN]
    assert (result.items, result.posts, result.added, result.pages) == (7, 8, 8, 2)
    assert result.complete and store.get_cursor("bluesky:author:alice.example.com") == ""
    posts = {p.uid: p for p in store.iter_posts()}
    assert len(posts) == 8
    targets = {(r.kind, r.target) for p in posts.values() for r in p.references}
    assert ("reply", "erin.example.com") in targets  # a notFound parent, looked up
    assert ("mention", "erin.example.com") in targets  # a mention shown as "Erin"
    assert not any(t.startswith("did:") for _, t in targets)
    some = next(iter(posts.values()))
    assert some.provenance.collector == "bluesky"
    assert some.provenance.retrieved_at is not None
    assert json.loads(store.raw_payload(some.uid))  # the feed item is kept as raw JSON


def test_max_posts_is_a_budget_and_keeps_the_cursor(store: Store) -> None:
    with respx.mock(base_url=XRPC) as router:
        route = feed_route(router, {None: ok("author_feed_page1.json")})
        result = bluesky_posts("alice.example.com", store=store, max_posts=4, sleep=Sleeps())
    assert route.calls[0].request.url.params["limit"] == "4"
    assert route.call_count == 1
    assert not result.complete
    assert store.get_cursor("bluesky:author:alice.example.com") == "2016-08-10T09:00:00.000Z"
    assert "run again" in result.summary()


def test_resume_after_a_crash_uses_the_cursor_and_adds_no_duplicates(store: Store) -> None:
    sleeps = Sleeps()
    with respx.mock(base_url=XRPC) as router:
        feed_route(
            router,
            {
                None: ok("author_feed_page1.json"),
                "2016-08-10T09:00:00.000Z": httpx.Response(502, text="bad gateway"),
            },
        )
        with pytest.raises(CollectorError) as info:
            bluesky_posts("alice.example.com", store=store, sleep=sleeps)
    assert "502" in info.value.one_line()
    assert len(sleeps) == bluesky.MAX_ATTEMPTS - 1  # bounded retries, no real sleeping
    assert store.count_posts() == 5  # page 1 was stored before the crash
    assert store.get_cursor("bluesky:author:alice.example.com") == "2016-08-10T09:00:00.000Z"

    with respx.mock(base_url=XRPC) as router:
        route = feed_route(router, {"2016-08-10T09:00:00.000Z": ok("author_feed_page2.json")})
        router.get("/app.bsky.actor.getProfiles").mock(return_value=ok("profiles_erin.json"))
        result = bluesky_posts("alice.example.com", store=store, sleep=Sleeps())
    assert route.call_count == 1  # resumed at page 2, page 1 not fetched again
    assert (result.added, result.duplicates) == (3, 0)
    assert store.count_posts() == 8
    assert result.complete


def test_a_repeated_cursor_ends_the_collection(store: Store) -> None:
    page = dict(load("author_feed_page1.json"), cursor="same")
    with respx.mock(base_url=XRPC) as router:
        route = router.get("/app.bsky.feed.getAuthorFeed").mock(
            return_value=httpx.Response(200, json=page)
        )
        result = bluesky_posts("alice.example.com", store=store, sleep=Sleeps())
    assert route.call_count == 2 and result.complete


def test_a_did_without_profile_stays_a_did_and_is_asked_once(store: Store) -> None:
    with respx.mock(base_url=XRPC) as router:
        router.get("/app.bsky.feed.getAuthorFeed").mock(
            side_effect=[
                httpx.Response(200, json=dict(load("author_feed_page2.json"), cursor="next")),
                httpx.Response(200, json=load("author_feed_page2.json")),
            ]
        )
        profiles = router.get("/app.bsky.actor.getProfiles").mock(
            return_value=httpx.Response(200, json={"profiles": []})
        )
        bluesky_posts("alice.example.com", store=store, sleep=Sleeps())
    assert profiles.call_count == 1
    targets = {r.target for p in store.iter_posts() for r in p.references if r.kind != "link"}
    assert targets == {ERIN}


def test_server_error_then_success_is_retried(store: Store) -> None:
    sleeps = Sleeps()
    with respx.mock(base_url=XRPC) as router:
        router.get("/app.bsky.feed.getAuthorFeed").mock(
            side_effect=[
                httpx.Response(503, json={"error": "InternalServerError"}),
                ok("author_feed_page2.json"),
            ]
        )
        router.get("/app.bsky.actor.getProfiles").mock(return_value=ok("profiles_erin.json"))
        result = bluesky_posts("alice.example.com", store=store, sleep=sleeps)
    assert len(sleeps) == 1
    assert result.added == 3


def test_rate_limit_waits_until_reset_a_bounded_number_of_times(store: Store) -> None:
    sleeps = Sleeps()
    reset = str(int(time.time()) + 30)
    limited = httpx.Response(
        429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": reset,
            "ratelimit-policy": "3000;w=300",
        },
    )
    answered: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        answered.append(time.time())
        return limited

    with respx.mock(base_url=XRPC) as router:
        route = router.get("/app.bsky.feed.getAuthorFeed").mock(side_effect=answer)
        with pytest.raises(RateLimitError) as info:
            bluesky_posts("alice.example.com", store=store, sleep=sleeps)
    assert route.call_count == bluesky.MAX_ATTEMPTS
    assert len(sleeps) == bluesky.MAX_ATTEMPTS - 1
    # each wait lasts until ratelimit-reset, as seen when the 429 arrived (a loaded
    # machine may take seconds to get there, so the bound is taken from that moment)
    for wait, when in zip(sleeps, answered, strict=False):
        assert int(reset) - when - 2 <= wait <= int(reset) - when + 1, (sleeps, answered)
    assert "\n" not in info.value.one_line()


def test_rate_limit_far_in_the_future_fails_at_once(store: Store) -> None:
    sleeps = Sleeps()
    limited = httpx.Response(
        429,
        json={"error": "RateLimitExceeded"},
        headers={"ratelimit-reset": str(int(time.time()) + 6 * 3600)},
    )
    with respx.mock(base_url=XRPC) as router:
        router.get("/app.bsky.feed.getAuthorFeed").mock(return_value=limited)
        with pytest.raises(RateLimitError):
            bluesky_posts("alice.example.com", store=store, sleep=sleeps)
    assert sleeps == []


def test_unknown_account_is_one_collector_error(store: Store) -> None:
    with respx.mock(base_url=XRPC) as router:
        router.get("/app.bsky.feed.getAuthorFeed").mock(
            return_value=httpx.Response(
                400, json={"error": "InvalidRequest", "message": "Profile not found"}
            )
        )
        with pytest.raises(CollectorError) as info:
            bluesky_posts("nobody.example.com", store=store, sleep=Sleeps())
    assert not isinstance(info.value, CredentialsError)
    assert "not found" in info.value.one_line()


def test_search_pages_on_the_public_appview_without_credentials(store: Store) -> None:
    with respx.mock(base_url=XRPC) as router:
        route = router.get("/app.bsky.feed.searchPosts").mock(
            side_effect=[
                ok("search_page1.json"),
                ok("search_page2.json"),
            ]
        )
        result = bluesky_search("#fairvotes", store=store, sleep=Sleeps())
    assert route.calls[0].request.url.params["q"] == "#fairvotes"
    assert route.calls[0].request.url.params["sort"] == "latest"
    assert route.calls[1].request.url.params["cursor"] == "2"
    assert "authorization" not in route.calls[0].request.headers
    assert result.added == 3 and result.complete
    tags = {t for p in store.iter_posts() for t in p.tags}
    assert tags == {"fairvotes"}


def test_search_refused_without_login_says_what_to_set(store: Store) -> None:
    with respx.mock(base_url=XRPC) as router:
        router.get("/app.bsky.feed.searchPosts").mock(
            return_value=httpx.Response(403, json={"error": "Forbidden", "message": "Forbidden"})
        )
        with pytest.raises(CredentialsError) as info:
            bluesky_search("#fairvotes", store=store, sleep=Sleeps())
    assert "BLUESKY_APP_PASSWORD" in info.value.one_line()


def test_unauthenticated_search_keeps_page_one_when_paging_is_refused(store: Store) -> None:
    with respx.mock(base_url=XRPC) as router:
        router.get("/app.bsky.feed.searchPosts").mock(
            side_effect=[
                ok("search_page1.json"),
                httpx.Response(403, text="Request forbidden by administrative rules."),
            ]
        )
        with pytest.raises(CredentialsError):
            bluesky_search("#fairvotes", store=store, sleep=Sleeps())
    assert store.count_posts() == 2
    assert store.get_cursor("bluesky:search:#fairvotes|latest||") == "2"


def _jwt(payload: dict) -> str:
    import base64

    def enc(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{enc({'alg': 'ES256K', 'typ': 'at+jwt'})}.{enc(payload)}.c2lnbmF0dXJl"


SECRET = "abcd-efgh-ijkl-mnop"


def test_search_logs_in_with_an_app_password_that_is_never_written(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUESKY_HANDLE", "tester.example.com")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", SECRET)
    exp = int(time.time()) + 7200
    session = {
        "did": "did:plc:testertestertestertester",
        "handle": "tester.example.com",
        "accessJwt": _jwt({"scope": "com.atproto.appPass", "sub": "did:plc:tester", "exp": exp}),
        "refreshJwt": _jwt(
            {"scope": "com.atproto.refresh", "sub": "did:plc:tester", "exp": exp + 86400}
        ),
        "active": True,
    }
    with respx.mock(assert_all_called=True) as router:
        login = router.post("https://bsky.social/xrpc/com.atproto.server.createSession").mock(
            return_value=httpx.Response(200, json=session)
        )
        search = router.get("https://bsky.social/xrpc/app.bsky.feed.searchPosts").mock(
            side_effect=[ok("search_page1.json"), ok("search_page2.json")]
        )
        result = bluesky_search("#fairvotes", store=store, sleep=Sleeps())
    assert result.added == 3
    assert json.loads(login.calls[0].request.content)["password"] == SECRET
    assert search.calls[0].request.headers["authorization"] == f"Bearer {session['accessJwt']}"
    assert all(SECRET not in str(c.request.url) for c in search.calls)
    store.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_refused_login_is_one_line_without_the_password(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUESKY_HANDLE", "tester.example.com")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", SECRET)
    with respx.mock() as router:
        router.post("https://bsky.social/xrpc/com.atproto.server.createSession").mock(
            return_value=httpx.Response(
                401,
                json={
                    "error": "AuthenticationRequired",
                    "message": "Invalid identifier or password",
                },
            )
        )
        with pytest.raises(CredentialsError) as info:
            bluesky_search("#fairvotes", store=store, sleep=Sleeps())
    line = info.value.one_line()
    assert "tester.example.com" in line and "BLUESKY_APP_PASSWORD" in line
    assert SECRET not in line and SECRET not in str(info.value) and "\n" not in line
    assert store.count_posts() == 0


def test_posts_never_send_credentials_even_when_set(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLUESKY_HANDLE", "tester.example.com")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", SECRET)
    with respx.mock(base_url=XRPC) as router:
        route = router.get("/app.bsky.feed.getAuthorFeed").mock(
            return_value=ok("author_feed_page2.json")
        )
        router.get("/app.bsky.actor.getProfiles").mock(return_value=ok("profiles_erin.json"))
        bluesky_posts("alice.example.com", store=store, sleep=Sleeps())
    assert "authorization" not in route.calls[0].request.headers


# --------------------------------------------------------------------------- import


def test_import_jsonl_quarantines_bad_lines_with_line_numbers(store: Store) -> None:
    result = import_bluesky_file(FIX / "posts.jsonl", store=store)
    bad = {row["line"]: row["reason"] for row in store.quarantined()}
    assert sorted(bad) == [2, 4, 5]
    assert "invalid JSON" in bad[2]
    assert "uri" in bad[5]
    assert result.quarantined == 3
    # line 1: a post view, line 3: a feed item, line 7: a whole page of three items
    # lines 1 and 3 are one item each, line 7 a page of three, line 5 an unreadable item
    assert (result.items, result.added) == (6, 5)
    uids = {p.uid for p in store.iter_posts()}
    assert len(uids) == 5
    post = next(p for p in store.iter_posts() if p.text.startswith("[Example] Replying"))
    assert post.provenance.line == 7
    assert store.raw_payload(post.uid).startswith('{"feed"')  # the line it came from


def test_import_document_ignores_unknown_top_level_keys(store: Store, tmp_path: Path) -> None:
    doc = dict(load("author_feed_page1.json"), _comment="saved for a test")
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    result = import_bluesky_file(path, store=store)
    assert (result.items, result.added, result.quarantined) == (4, 5, 0)
    again = import_bluesky_file(path, store=store)
    assert again.skipped_unchanged
    forced = import_bluesky_file(path, store=store, force=True)
    assert (forced.added, forced.duplicates) == (0, 5)
    uid = next(iter(store.iter_posts())).uid
    assert "uri" in json.loads(store.raw_payload(uid)).get("post", {})


def test_import_accepts_the_file_registry_argument_order(store: Store) -> None:
    result = import_bluesky_file(store, FIX / "author_feed_page2.json")
    assert result.added == 3


def test_import_refuses_a_file_that_is_not_a_bluesky_response(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{\n  "data": []\n}\n', encoding="utf-8")
    with pytest.raises(ImportFormatError) as info:
        import_bluesky_file(path, store=store)
    assert str(path) in info.value.one_line()
    with pytest.raises(ImportFormatError):
        import_bluesky_file(tmp_path / "missing.json", store=store)


@pytest.mark.skipif(not DEMO_FILE.exists(), reason="demo corpus not written yet")
def test_demo_file_imports_cleanly(store: Store) -> None:
    result = import_bluesky_file(DEMO_FILE, store=store)
    assert result.quarantined == 0
    posts = list(store.iter_posts())
    assert len(posts) >= 25
    kinds = {r.kind for p in posts for r in p.references}
    assert {"mention", "reply", "repost", "quote", "link"} <= kinds
    handles = {
        "compassoffice.bsky.social",
        "neallawson.bsky.social",
        "unlockdemocracy.bsky.social",
        "electoralreform.bsky.social",
        "greenparty.org.uk",
        "libdems.org.uk",
        "paulmason.bsky.social",
        "owenjones.bsky.social",
    }
    assert {p.author for p in posts} <= handles
    targets = {r.target for p in posts for r in p.references if r.kind != "link"}
    assert targets <= handles
    assert all(p.text.startswith("[Illustrative example]") for p in posts if p.text)
    assert all(p.created_at.year == 2016 and 7 <= p.created_at.month <= 9 for p in posts)
    assert {"progressivealliance", "proportionalrepresentation", "fairvotes"} <= {
        t for p in posts for t in p.tags
    }


# --------------------------------------------------------------------------- command line


def test_cli_import_and_posts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mapper.cli import app

    runner = CliRunner()
    db = tmp_path / "cli.sqlite"
    result = runner.invoke(
        app, ["collect", "bluesky", "import", str(FIX / "posts.jsonl"), "--store", str(db)]
    )
    assert result.exit_code == 0, result.output
    assert "5 new" in result.output and "3 quarantined" in result.output
    with respx.mock(base_url=XRPC) as router:
        router.get("/app.bsky.feed.getAuthorFeed").mock(
            side_effect=[ok("author_feed_page1.json"), httpx.Response(200, json={"feed": []})]
        )
        result = runner.invoke(
            app,
            ["collect", "bluesky", "posts", "alice.example.com", "--store", str(db), "--json"],
        )
    assert result.exit_code == 0, result.output
    assert '"added": 4' in result.output  # the reply to Carol was already imported
    assert "bluesky posts alice.example.com: 5 posts from 2 pages, 4 new" in result.output


def test_cli_errors_are_one_line_and_exit_1(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mapper.cli import app

    runner = CliRunner()
    db = str(tmp_path / "cli.sqlite")
    result = runner.invoke(app, ["collect", "bluesky", "import", "missing.json", "--store", db])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["error: missing.json: file not found"]
    with respx.mock(base_url=XRPC) as router:
        router.get("/app.bsky.feed.searchPosts").mock(
            return_value=httpx.Response(403, text="<html>403 Forbidden</html>")
        )
        result = runner.invoke(app, ["collect", "bluesky", "search", "#fairvotes", "--store", db])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "BLUESKY_APP_PASSWORD" in result.output
