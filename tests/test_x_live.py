"""The live X collector, driven through the real tweepy ``Client`` over recorded responses.

The fixtures in ``tests/fixtures/http/x_*.json`` follow the documented X API v2 shapes:
pages with ``data``, ``includes`` and ``meta.next_token``, a 200 page carrying partial
``errors``, and the 400/401/403/429/503 problem bodies. ``responses`` serves them to
tweepy's own ``requests`` session; sleeping and clocks are injected, so nothing waits.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from typer.testing import CliRunner

from mapper.collectors import x_live
from mapper.collectors.base import CollectResult
from mapper.errors import CollectorError, CredentialsError, RateLimitError
from mapper.http import RetryPolicy
from mapper.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "http"
TOKEN = "AAAA-test-token-XYZ"
API = re.compile(r"https://api\.twitter\.com/2/.*")
POLICY = RetryPolicy(
    max_attempts=3,
    backoff_initial=1.0,
    backoff_max=4.0,
    rate_limit_wait=30,
    rate_limit_max_wait=900,
)


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


PAGE1, PAGE2, PAGE3 = (fixture(f"x_search_page{n}.json") for n in (1, 2, 3))


class FakeX:
    """Serves queued (status, body, headers) answers to any X API call, recording requests."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.answers: deque[tuple[int, Any, dict[str, str]]] = deque()
        self.requests: list[requests.PreparedRequest] = []
        mock.add_callback(responses.GET, API, callback=self._answer)

    def push(self, status: int, body: Any, headers: dict[str, str] | None = None) -> FakeX:
        self.answers.append((status, body, headers or {}))
        return self

    def pages(self, *pages: dict[str, Any]) -> FakeX:
        for page in pages:
            self.push(200, page, {"x-rate-limit-remaining": "449"})
        return self

    def _answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.url}")
        status, body, headers = self.answers.popleft()
        return status, {"content-type": "application/json", **headers}, json.dumps(body)

    def params(self, n: int) -> dict[str, str]:
        query = parse_qs(urlsplit(self.requests[n].url or "").query)
        return {k: v[0] for k, v in query.items()}

    def path(self, n: int) -> str:
        return urlsplit(self.requests[n].url or "").path


class Recorder:
    """Injected sleep and monotonic clock: sleeping advances the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def api() -> Iterator[FakeX]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeX(mock)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)
    return x_live.make_client()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as s:
        yield s


@pytest.fixture
def clock() -> Recorder:
    return Recorder()


def run_search(client: Any, store: Store, clock: Recorder, **kwargs: Any) -> CollectResult:
    options: dict[str, Any] = {
        "store": store,
        "policy": POLICY,
        "sleep": clock.sleep,
        "monotonic": clock.monotonic,
        "rng": random.Random(0),
    }
    options.update(kwargs)
    return x_live.search(client, "progressive alliance", **options)


def posts_by_uid(store: Store) -> dict[str, Any]:
    return {p.uid: p for p in store.iter_posts()}


# --------------------------------------------------------------------------- the client


def test_make_client_turns_off_tweepy_waiting_and_sets_timeouts(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    assert client.wait_on_rate_limit is False
    assert client.return_type is requests.Response
    api.pages(PAGE3)
    run_search(client, store, clock)
    request = api.requests[0]
    assert request.req_kwargs["timeout"] == (10.0, 60.0)  # type: ignore[attr-defined]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "mapper/" in request.headers["User-Agent"]


def test_missing_token_is_a_credentials_error_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    with pytest.raises(CredentialsError, match="X_BEARER_TOKEN") as info:
        x_live.make_client()
    assert "\n" not in info.value.one_line()
    assert "--token-file" in info.value.one_line()


def test_token_file_is_read_and_env_is_not_needed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    path = tmp_path / "token"
    path.write_text(TOKEN + "-from-file\n")
    assert x_live.make_client(token_file=path).bearer_token == TOKEN + "-from-file"
    path.write_text("  \n")
    with pytest.raises(CredentialsError, match="empty"):
        x_live.make_client(token_file=path)
    with pytest.raises(CredentialsError, match="cannot read"):
        x_live.make_client(token_file=tmp_path / "missing")


# --------------------------------------------------------------------------- pagination


def test_search_iterates_pages_and_resolves_users_from_includes(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.pages(PAGE1, PAGE2, PAGE3)
    result = run_search(client, store, clock)

    assert (result.pages, result.posts, result.added) == (3, 7, 7)
    assert result.stopped_reason == "complete"
    assert api.path(0) == "/2/tweets/search/recent"
    first = api.params(0)
    assert first["query"] == "progressive alliance"
    assert set(first["expansions"].split(",")) >= set(x_live.EXPANSIONS)
    assert set(first["tweet.fields"].split(",")) >= {"created_at", "entities", "note_tweet"}
    assert "next_token" not in first
    assert api.params(1)["next_token"] == PAGE1["meta"]["next_token"]
    assert api.params(2)["next_token"] == PAGE2["meta"]["next_token"]

    posts = posts_by_uid(store)
    original = posts["x:7700000000000000001"]
    assert original.author == "neal_lawson" and original.author_id == "1001"
    mention = next(r for r in original.references if r.kind == "mention")
    assert (mention.target, mention.target_id) == ("paulmasonnews", "1002")
    assert any(r.kind == "link" and "theguardian.com" in r.target for r in original.references)

    reply = posts["x:7700000000000000002"]
    assert [(r.kind, r.target, r.target_id) for r in reply.references] == [
        ("reply", "neal_lawson", "1001")
    ]
    quote = posts["x:7700000000000000003"]
    assert ("quote", "neal_lawson") in {(r.kind, r.target) for r in quote.references}
    repost = posts["x:7699999999999999998"]
    assert ("repost", "neal_lawson") in {(r.kind, r.target) for r in repost.references}

    # a mention whose user is absent from includes (suspended) is still a reference
    thanks = posts["x:7699999999999999997"]
    ghost = [r for r in thanks.references if r.target == "ghost_account_2016"]
    assert len(ghost) == 1 and ghost[0].kind == "mention"

    # a long post: its mentions come from note_tweet
    long_post = posts["x:7699999999999999990"]
    assert {"CompassOffice", "labourlewis"} <= {r.target for r in long_post.references}
    for post in posts.values():
        assert isinstance(post.author_id, str)
        assert all(r.target_id is None or isinstance(r.target_id, str) for r in post.references)
        assert post.created_at is not None and post.created_at.tzinfo is not None


def test_partial_errors_in_a_200_page_are_recorded_not_fatal(
    client: Any, api: FakeX, store: Store, clock: Recorder, tmp_path: Path
) -> None:
    api.pages(PAGE1, PAGE2, PAGE3)
    result = run_search(client, store, clock, archive_path=tmp_path / "a.jsonl")
    assert result.quarantined == len(PAGE2["errors"]) == 3
    rows = store.quarantined()
    assert len(rows) == 3
    assert all(row["line"] == 2 for row in rows)  # the page's line in the archive
    assert any("ghost_account_2016" in row["reason"] for row in rows)
    assert result.posts == 7


# --------------------------------------------------------------------------- archive


def test_every_page_is_archived_unchanged_and_reimports_to_the_same_posts(
    client: Any, api: FakeX, store: Store, clock: Recorder, tmp_path: Path
) -> None:
    from mapper.collectors.x_archive import iter_archive

    archive = tmp_path / "archives" / "search.jsonl"
    api.pages(PAGE1, PAGE2, PAGE3)
    run_search(client, store, clock, archive_path=archive)

    lines = [json.loads(line) for line in archive.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3
    for line, page in zip(lines, (PAGE1, PAGE2, PAGE3), strict=True):
        stamp = line.pop("__twarc")
        assert line == page  # unchanged
        assert set(stamp) == {"url", "version", "retrieved_at"}
        assert stamp["url"].startswith("https://api.twitter.com/2/tweets/search/recent?")
        assert stamp["version"].startswith("mapper ")

    live = posts_by_uid(store)
    reimported = {p.uid: p for p in iter_archive(archive)}
    assert reimported.keys() == live.keys()
    for uid, post in reimported.items():
        assert replace(post, provenance=None) == replace(live[uid], provenance=None)
        assert post.provenance.line == live[uid].provenance.line

    # the store points each post at its page in the archive
    raw = json.loads(store.raw_payload("x:7699999999999999997") or "{}")
    assert raw["meta"] == PAGE2["meta"]


def test_a_torn_last_archive_line_is_ended_before_the_next_page(
    client: Any, api: FakeX, store: Store, clock: Recorder, tmp_path: Path
) -> None:
    """A run killed while appending a page leaves half a line: the next run's pages must
    not be glued to it, and the importer sets the fragment aside."""
    from mapper.collectors.x_archive import import_archive

    archive = tmp_path / "a.jsonl"
    whole = json.dumps(PAGE1)
    archive.write_text(whole + "\n" + whole[:100], encoding="utf-8")
    api.pages(PAGE3)
    run_search(client, store, clock, archive_path=archive)
    lines = archive.read_text(encoding="utf-8").split("\n")
    assert lines[1] == whole[:100] and json.loads(lines[2])["data"] == PAGE3["data"]
    assert {p.provenance.line for p in store.iter_posts()} == {3}
    with Store(tmp_path / "again.sqlite") as again:
        result = import_archive(again, archive)
        assert [row["line"] for row in again.quarantined()] == [2]
        assert result.posts == len(PAGE1["data"]) + len(PAGE3["data"])


def test_without_an_archive_the_store_keeps_each_posts_json(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.pages(PAGE3)
    run_search(client, store, clock)
    raw = json.loads(store.raw_payload("x:7699999999999999990") or "{}")
    assert raw == PAGE3["data"][0]


# --------------------------------------------------------------------------- resumption


class CrashingStore(Store):
    """A store whose second ``add_posts`` dies, like a process killed mid-collection."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.calls = 0

    def add_posts(self, posts: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 2:
            raise KeyboardInterrupt("killed")
        return super().add_posts(posts, **kwargs)


def test_an_interrupted_collection_resumes_from_its_cursor_without_duplicates(
    client: Any, api: FakeX, tmp_path: Path, clock: Recorder
) -> None:
    path = tmp_path / "store.sqlite"
    archive = tmp_path / "search.jsonl"
    api.pages(PAGE1, PAGE2)
    crashing = CrashingStore(path)
    with pytest.raises(KeyboardInterrupt):
        run_search(client, crashing, clock, archive_path=archive)
    crashing.close()
    assert len(api.requests) == 2

    api.requests.clear()
    api.pages(PAGE2, PAGE3)
    with Store(path) as store:
        assert store.count_posts() == 3  # page 1 only
        result = run_search(client, store, clock, archive_path=archive)
        # the first request of the second run carries the saved next_token
        assert api.params(0)["next_token"] == PAGE1["meta"]["next_token"]
        assert api.params(1)["next_token"] == PAGE2["meta"]["next_token"]
        assert (result.pages, result.posts, result.added, result.duplicates) == (2, 4, 4, 0)
        assert store.count_posts() == 7  # nothing lost, nothing twice
        assert len(list(store.iter_posts())) == len({p.uid for p in store.iter_posts()})
    # page 2 was archived by the interrupted run and again by the resumed one
    assert len(archive.read_text().splitlines()) == 4
    from mapper.collectors.x_archive import iter_archive

    assert {p.uid for p in iter_archive(archive)} == set(posts_by_uid(Store(path)))


def test_an_interrupted_newer_only_pass_resumes_with_the_same_parameters(
    client: Any, api: FakeX, tmp_path: Path, clock: Recorder
) -> None:
    path = tmp_path / "store.sqlite"
    with Store(path) as store:
        api.pages(PAGE3)
        run_search(client, store, clock, start_time="2016-08-01")
    floor = PAGE3["meta"]["newest_id"]

    api.requests.clear()
    api.pages(PAGE1, PAGE2)
    crashing = CrashingStore(path)
    with pytest.raises(KeyboardInterrupt):
        run_search(client, crashing, clock, start_time="2016-08-01")
    crashing.close()
    assert api.params(0)["since_id"] == floor and "start_time" not in api.params(0)

    api.requests.clear()
    api.pages(PAGE2)
    api.pages({"meta": {"result_count": 0}})
    with Store(path) as store:
        run_search(client, store, clock, start_time="2016-08-01")
        cursor = json.loads(next(v for k, v in store.cursors().items() if "search" in k))
    # the token only works with the parameters that produced it: they are resent as they were
    resumed = api.params(0)
    assert resumed["next_token"] == PAGE1["meta"]["next_token"]
    assert resumed["since_id"] == floor and "start_time" not in resumed
    assert cursor["complete"] and cursor["newest_id"] == PAGE1["meta"]["newest_id"]


def test_after_a_complete_collection_a_rerun_fetches_only_newer_posts(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.pages(PAGE1, PAGE2, PAGE3)
    run_search(client, store, clock)
    api.requests.clear()
    api.pages({"meta": {"result_count": 0}})
    result = run_search(client, store, clock)
    assert api.params(0)["since_id"] == PAGE1["meta"]["newest_id"]
    assert "next_token" not in api.params(0)
    assert (result.pages, result.posts) == (1, 0)


def test_resume_false_starts_over(client: Any, api: FakeX, store: Store, clock: Recorder) -> None:
    api.pages(PAGE1)
    run_search(client, store, clock, max_posts=3)
    api.requests.clear()
    api.pages(PAGE3)
    run_search(client, store, clock, resume=False)
    assert "next_token" not in api.params(0) and "since_id" not in api.params(0)


# --------------------------------------------------------------------------- budget


def test_max_posts_stops_the_collection_and_page_sizes_do_not_overshoot(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.pages(PAGE1, PAGE2, PAGE3)
    result = run_search(client, store, clock, max_posts=5)
    assert result.stopped_reason == "max-posts"
    assert len(api.requests) == 2  # page 3 is never paid for
    assert [int(api.params(n)["max_results"]) for n in range(2)] == [10, 10]  # minimum is 10
    assert result.posts == 6


def test_page_size_follows_the_remaining_budget(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.pages(PAGE1, PAGE2, PAGE3)
    run_search(client, store, clock, max_posts=150)
    assert [int(api.params(n)["max_results"]) for n in range(3)] == [100, 100, 100]
    api.requests.clear()
    api.pages(PAGE3)
    run_search(client, store, clock, max_posts=42, resume=False)
    assert int(api.params(0)["max_results"]) == 42


def test_full_archive_search_is_paced_at_one_request_a_second(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.pages(PAGE1, PAGE2, PAGE3)
    run_search(client, store, clock, archive=True)
    assert api.path(0) == "/2/tweets/search/all"
    assert clock.sleeps == [1.0, 1.0]
    assert int(api.params(0)["max_results"]) == 500


# --------------------------------------------------------------------------- errors


def test_401_is_a_credentials_error_without_the_token(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.push(401, fixture("x_401.json"))
    with pytest.raises(CredentialsError, match="refused the bearer token") as info:
        run_search(client, store, clock)
    assert len(api.requests) == 1
    assert TOKEN not in info.value.one_line()
    assert "X_BEARER_TOKEN" in info.value.one_line()


def test_403_says_which_access_is_missing(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.push(403, fixture("x_403_client_not_enrolled.json"))
    with pytest.raises(CredentialsError) as info:
        run_search(client, store, clock, archive=True)
    text = info.value.one_line()
    assert "Client Forbidden" in text
    assert "Pro" in text and "full-archive" in text
    assert len(api.requests) == 1


def test_400_bad_query_is_reported(client: Any, api: FakeX, store: Store, clock: Recorder) -> None:
    api.push(400, fixture("x_400_bad_query.json"))
    with pytest.raises(CollectorError, match="Unbalanced parentheses"):
        run_search(client, store, clock)


def test_429_with_reset_header_sleeps_until_the_reset_then_continues(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    reset = str(int(time.time()) + 60)
    api.push(
        429, fixture("x_429.json"), {"x-rate-limit-reset": reset, "x-rate-limit-remaining": "0"}
    )
    api.pages(PAGE3)
    result = run_search(client, store, clock)
    assert result.posts == 1
    assert len(clock.sleeps) == 1
    assert 55 <= clock.sleeps[0] <= 62


def test_429_without_reset_header_is_bounded_and_capped(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    for _ in range(10):
        api.push(429, fixture("x_429.json"))
    with pytest.raises(RateLimitError, match="still rate limited after 3 attempts") as info:
        run_search(client, store, clock)
    assert len(api.requests) == POLICY.max_attempts  # no retry storm (tweepy recursed 982x)
    assert len(clock.sleeps) == POLICY.max_attempts - 1
    assert all(POLICY.rate_limit_wait <= s <= POLICY.rate_limit_max_wait for s in clock.sleeps)
    assert "resumes" in info.value.one_line()


def test_429_with_a_far_reset_fails_at_once_instead_of_sleeping_for_hours(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.push(429, fixture("x_429.json"), {"x-rate-limit-reset": str(int(time.time()) + 86_400)})
    with pytest.raises(RateLimitError, match="resets in"):
        run_search(client, store, clock)
    assert clock.sleeps == []
    assert len(api.requests) == 1


def test_usage_cap_is_not_retried(client: Any, api: FakeX, store: Store, clock: Recorder) -> None:
    api.push(429, fixture("x_429_usage_cap.json"))
    with pytest.raises(RateLimitError, match="usage cap"):
        run_search(client, store, clock)
    assert len(api.requests) == 1 and clock.sleeps == []


def test_5xx_is_retried_then_succeeds(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.push(503, fixture("x_503.json")).pages(PAGE3)
    result = run_search(client, store, clock)
    assert result.posts == 1
    assert len(api.requests) == 2
    assert len(clock.sleeps) == 1 and clock.sleeps[0] <= POLICY.backoff_max


def test_persistent_5xx_fails_clearly_and_keeps_what_was_collected(
    client: Any, api: FakeX, store: Store, clock: Recorder, tmp_path: Path
) -> None:
    archive = tmp_path / "a.jsonl"
    api.pages(PAGE1)
    for _ in range(POLICY.max_attempts):
        api.push(503, fixture("x_503.json"))
    with pytest.raises(CollectorError, match="gave up after 3 attempts") as info:
        run_search(client, store, clock, archive_path=archive)
    assert "HTTP 503" in info.value.one_line()
    assert store.count_posts() == 3
    assert len(archive.read_text().splitlines()) == 1
    cursor = json.loads(next(iter(store.cursors().values())))
    assert cursor["next_token"] == PAGE1["meta"]["next_token"]


def test_network_errors_are_retried(client: Any, api: FakeX, store: Store, clock: Recorder) -> None:
    answers = iter([requests.ConnectionError("reset by peer")])

    def flaky(request: requests.PreparedRequest) -> Any:
        error = next(answers, None)
        if error is not None:
            api.requests.append(request)
            raise error
        return api._answer(request)

    api.pages(PAGE3)
    with responses.RequestsMock() as mock:
        mock.add_callback(responses.GET, API, callback=flaky)
        result = run_search(client, store, clock)
    assert result.posts == 1 and len(clock.sleeps) == 1


# --------------------------------------------------------------------------- timelines


def test_mentions_resolve_the_handle_once_and_paginate_with_pagination_token(
    client: Any, api: FakeX, store: Store, clock: Recorder
) -> None:
    api.push(200, fixture("x_user_owenjones.json")).pages(PAGE1, PAGE3)
    options = {"store": store, "policy": POLICY, "sleep": clock.sleep, "monotonic": clock.monotonic}
    result = x_live.mentions(client, "@OwenJones84", **options)
    assert api.path(0) == "/2/users/by/username/OwenJones84"
    assert api.path(1) == "/2/users/1003/mentions"
    assert api.params(2)["pagination_token"] == PAGE1["meta"]["next_token"]
    assert result.posts == 4

    api.requests.clear()
    api.pages({"meta": {"result_count": 0}})
    x_live.posts(client, "OwenJones84", **options)
    assert [api.path(0)] == ["/2/users/1003/tweets"]  # the id came from the store


def test_unknown_and_invalid_handles(client: Any, api: FakeX, store: Store) -> None:
    api.push(200, fixture("x_user_not_found.json"))
    with pytest.raises(CollectorError, match="no X account @nobody_here_123"):
        x_live.mentions(client, "nobody_here_123", store=store)
    with pytest.raises(CollectorError, match="not an X handle"):
        x_live.posts(client, "not a handle!", store=store)
    assert len(api.requests) == 1


# --------------------------------------------------------------------------- secrets


def test_the_token_never_reaches_a_file_a_message_or_a_log(
    client: Any,
    api: FakeX,
    tmp_path: Path,
    clock: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store_path = tmp_path / "store.sqlite"
    archive = tmp_path / "archive.jsonl"
    messages = []
    api.pages(PAGE1, PAGE2)
    api.push(401, fixture("x_401.json"))
    with caplog.at_level(logging.DEBUG), Store(store_path) as store:
        with pytest.raises(CredentialsError) as info:
            run_search(client, store, clock, archive_path=archive)
        messages.append(info.value.one_line())
        messages.append(str(info.value.__cause__))
    assert "Bearer" in caplog.text  # tweepy logged its request headers...
    assert TOKEN not in caplog.text  # ...with the token masked
    assert all(TOKEN not in m for m in messages)
    for path in tmp_path.iterdir():
        assert TOKEN.encode() not in path.read_bytes(), path


# --------------------------------------------------------------------------- command line


def cli() -> Any:
    import typer

    from mapper.cli.collect_x import register

    app = typer.Typer()
    collect = typer.Typer()
    register(collect)
    app.add_typer(collect, name="collect")
    return app


def test_cli_help_has_examples() -> None:
    runner = CliRunner()
    for command in (["search"], ["mentions"], ["posts"]):
        result = runner.invoke(cli(), ["collect", "x", *command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Example" in result.output


def test_cli_missing_token_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    result = CliRunner().invoke(
        cli(), ["collect", "x", "search", "alliance", "--store", str(tmp_path / "s.sqlite")]
    )
    assert result.exit_code == 1
    assert "X_BEARER_TOKEN" in result.output
    assert "Traceback" not in result.output


def test_cli_search_collects_into_the_store_and_archive(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, api: FakeX
) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)
    api.pages(PAGE1, PAGE2, PAGE3)
    store_path = tmp_path / "s.sqlite"
    archive = tmp_path / "pages.jsonl"
    result = CliRunner().invoke(
        cli(),
        [
            "collect", "x", "search", "progressive alliance",
            "--store", str(store_path), "--archive-file", str(archive), "--max-posts", "100",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "7 posts" in result.output
    assert len(archive.read_text().splitlines()) == 3
    with Store(store_path) as store:
        assert store.count_posts() == 7
