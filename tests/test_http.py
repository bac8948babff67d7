"""The HTTP layer: caps, deadline, redirects, schemes, retries, rate limits, robots, redaction.

Every test runs offline over :class:`httpx.MockTransport`, with an injected sleep that
records instead of sleeping; each protection is exercised so that removing it fails.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from mapper.errors import CollectorError, RateLimitError
from mapper.http import (
    ROBOTS_MAX_BYTES,
    DeadlineExceededError,
    HttpClient,
    HttpStatusError,
    Retry,
    RetryPolicy,
    RobotsCache,
    RobotsDisallowedError,
    RobotsUnavailableError,
    call_with_retries,
    install_redaction,
    rate_limit_delay,
    redact,
    register_secret,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "http"
POLICY = RetryPolicy(
    max_attempts=4,
    backoff_initial=1.0,
    backoff_max=8.0,
    rate_limit_wait=30,
    rate_limit_max_wait=120,
)


class Sleeps(list[float]):
    """An injected sleep: records each requested sleep, never sleeps."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(
    handler: Callable[[httpx.Request], httpx.Response], **kwargs: object
) -> tuple[HttpClient, Sleeps, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    sleeps = Sleeps()
    options: dict[str, object] = {
        "transport": httpx.MockTransport(recording),
        "policy": POLICY,
        "sleep": sleeps,
        "rng": random.Random(0),
    }
    options.update(kwargs)
    return HttpClient(**options), sleeps, seen  # type: ignore[arg-type]


# --------------------------------------------------------------------------- basics


def test_get_sends_a_clear_user_agent() -> None:
    client, _, seen = make_client(lambda r: httpx.Response(200, text="ok"))
    response = client.get("https://example.org/page")
    assert response.text == "ok"
    assert response.status == 200
    assert seen[0].headers["user-agent"].startswith("mapper/")
    assert "(+" in seen[0].headers["user-agent"]


def test_user_agent_contact_is_configurable() -> None:
    client, _, seen = make_client(lambda r: httpx.Response(200), contact="ops@example.org")
    client.get("https://example.org/")
    assert seen[0].headers["user-agent"].endswith("(+ops@example.org)")


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/file", "file:///etc/passwd", "javascript:alert(1)", "data:text/html,hi"],
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    client, _, seen = make_client(lambda r: httpx.Response(200))
    with pytest.raises(CollectorError, match="refusing"):
        client.get(url)
    assert seen == []


def test_a_redirect_to_another_scheme_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "file:///etc/passwd"})

    client, _, seen = make_client(handler)
    with pytest.raises(CollectorError, match="refusing"):
        client.get("https://example.org/")
    assert len(seen) == 1


# --------------------------------------------------------------------------- size cap


def test_declared_oversized_body_is_refused_naming_the_url() -> None:
    client, _, _ = make_client(
        lambda r: httpx.Response(200, headers={"content-length": "5000"}, content=b"x" * 5000)
    )
    with pytest.raises(CollectorError) as info:
        client.get("https://example.org/big", max_bytes=1000)
    assert "https://example.org/big" in str(info.value)
    assert "cap" in str(info.value)


def test_streamed_body_stops_at_the_cap() -> None:
    produced: list[int] = []

    class Endless(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            while True:
                produced.append(1)
                yield b"x" * 1000

    client, _, _ = make_client(lambda r: httpx.Response(200, stream=Endless()))
    with pytest.raises(CollectorError, match="cap") as info:
        client.get("https://example.org/endless", max_bytes=10_000)
    assert "https://example.org/endless" in str(info.value)
    assert len(produced) <= 12  # stopped right after the cap, not read forever


def test_body_under_the_cap_is_returned_whole() -> None:
    client, _, _ = make_client(lambda r: httpx.Response(200, content=b"y" * 999))
    assert client.get("https://example.org/", max_bytes=1000).content == b"y" * 999


# --------------------------------------------------------------------------- deadline


@pytest.mark.timeout(10)
def test_a_trickling_server_does_not_hang_the_run() -> None:
    class Trickle(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            while True:  # one byte every 20 ms, forever: no read timeout would fire
                time.sleep(0.02)
                yield b"x"

    client, sleeps, seen = make_client(
        lambda r: httpx.Response(200, stream=Trickle()), deadline=0.3
    )
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="not complete"):
        client.get("https://slow.example.org/")
    assert time.monotonic() - started < 3.0
    assert len(seen) == 1  # a trickling server is not retried
    assert sleeps == []


# --------------------------------------------------------------------------- real sockets


class SlowServer:
    """A real TCP server on 127.0.0.1 that misbehaves by path: ``/stall`` accepts and
    never answers, ``/trickle-headers`` sends its status line and then one header line
    every 50 ms forever, ``/trickle-body`` sends its headers and then one byte every
    50 ms forever; anything else is a small HTML page (``/robots.txt`` is a 404)."""

    PAGE = (
        b"<html><head><title>Fine</title></head><body><article><p>A page that answers at "
        b"once, with enough words in its body to be read as the main text of a page about "
        b"the progressive alliance and the summer of 2016.</p></article></body></html>"
    )

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                path = conn.recv(65536).split(b" ", 2)[1]
                if path == b"/stall":
                    self.stop.wait(30)
                elif path == b"/trickle-headers":
                    conn.sendall(b"HTTP/1.1 200 OK\r\n")
                    while not self.stop.wait(0.05):
                        conn.sendall(b"X-Slow: yes\r\n")
                elif path == b"/trickle-body":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>")
                    while not self.stop.wait(0.05):
                        conn.sendall(b"a")
                elif path == b"/robots.txt":
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                else:
                    length = f"Content-Length: {len(self.PAGE)}\r\n\r\n".encode()
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + length)
                    conn.sendall(self.PAGE)
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def slow_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowServer]:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    server = SlowServer()
    yield server
    server.close()


@pytest.mark.timeout(10)
def test_a_stalled_server_hits_the_read_timeout(slow_server: SlowServer) -> None:
    client = HttpClient(
        read_timeout=0.3, deadline=30, policy=RetryPolicy(max_attempts=1), allow_private=True
    )
    started = time.monotonic()
    with pytest.raises(CollectorError, match="ReadTimeout"):
        client.get(f"{slow_server.url}/stall")
    assert time.monotonic() - started < 2.0  # the timeout set, not httpx's default 5 s


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", ["/trickle-headers", "/trickle-body"])
def test_a_server_trickling_bytes_is_cut_at_the_deadline(
    slow_server: SlowServer, path: str
) -> None:
    """Each byte arrives well within the read timeout, so only the overall deadline of
    the exchange can end it (httpx has none: headers trickled forever would hang)."""
    client = HttpClient(
        read_timeout=5, deadline=0.5, policy=RetryPolicy(max_attempts=3), allow_private=True
    )
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="server too slow"):
        client.get(f"{slow_server.url}{path}")
    assert time.monotonic() - started < 3.0  # one attempt: a slow server is not retried
    assert client.get(f"{slow_server.url}/fine").status == 200  # the client still works


@pytest.mark.timeout(15)
def test_a_server_trickling_its_headers_does_not_hang_a_crawl(
    slow_server: SlowServer, tmp_path: Path
) -> None:
    """The web collector over real sockets, robots.txt included: the slow page is
    recorded as too slow and the crawl goes on to the next page."""
    from mapper.collectors.web import collect_web
    from mapper.store import Store

    client = HttpClient(
        deadline=0.5, read_timeout=5, policy=RetryPolicy(max_attempts=2), allow_private=True
    )
    started = time.monotonic()
    with Store(tmp_path / "s.sqlite") as store:
        urls = [f"{slow_server.url}/trickle-headers", f"{slow_server.url}/fine"]
        result = collect_web(urls, store=store, client=client)
        [row] = store.quarantined()
    assert time.monotonic() - started < 5
    assert (result.posts, result.quarantined) == (1, 1)
    assert row["source"].endswith("/trickle-headers") and "too slow" in row["reason"]


# --------------------------------------------------------------------------- redirects


def test_redirects_are_followed_and_recorded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"location": "/new"})
        return httpx.Response(200, text="moved here")

    client, _, _ = make_client(handler)
    response = client.get("https://example.org/old")
    assert response.url == "https://example.org/new"
    assert response.redirects == ("https://example.org/old",)


def test_a_redirect_loop_is_an_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        other = "/b" if request.url.path == "/a" else "/a"
        return httpx.Response(302, headers={"location": other})

    client, _, seen = make_client(handler)
    with pytest.raises(CollectorError, match="redirect loop"):
        client.get("https://example.org/a")
    assert len(seen) == 2


def test_regression_a_redirect_or_url_that_does_not_parse_is_a_collector_error() -> None:
    """Found by tests/test_reliability_inputs.py: urllib's ValueError ("Invalid IPv6
    URL") escaped from a redirect target and from a URL given to the client."""
    client, _, seen = make_client(lambda r: httpx.Response(302, headers={"location": "http://[x/"}))
    with pytest.raises(CollectorError, match="redirect to an invalid URL"):
        client.get("https://example.org/")
    with pytest.raises(CollectorError, match="not a valid URL"):
        client.get("http://[oops/")
    assert len(seen) == 1


def test_redirects_are_bounded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.path.strip("/") or 0)
        return httpx.Response(302, headers={"location": f"/{n + 1}"})

    client, _, seen = make_client(handler, max_redirects=5)
    with pytest.raises(CollectorError, match="more than 5 redirects"):
        client.get("https://example.org/0")
    assert len(seen) == 6


def test_each_redirect_target_is_checked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/start":
            return httpx.Response(302, headers={"location": "/private/x"})
        return httpx.Response(200)

    def check(url: str) -> None:
        if "/private/" in url:
            raise RobotsDisallowedError("no", source=url)

    client, _, seen = make_client(handler)
    with pytest.raises(RobotsDisallowedError):
        client.get("https://example.org/start", check=check)
    assert [str(r.url) for r in seen] == ["https://example.org/start"]


# --------------------------------------------------------------------------- retries


def test_server_errors_are_retried_with_backoff_then_succeed() -> None:
    answers = iter([503, 502, 200])
    client, sleeps, seen = make_client(lambda r: httpx.Response(next(answers), text="fine"))
    assert client.get("https://example.org/").text == "fine"
    assert len(seen) == 3
    assert len(sleeps) == 2
    assert sleeps[0] >= POLICY.backoff_initial
    assert sleeps[1] > sleeps[0]  # exponential
    assert all(s <= POLICY.backoff_max for s in sleeps)


def test_persistent_server_errors_give_up_after_max_attempts() -> None:
    client, sleeps, seen = make_client(lambda r: httpx.Response(500))
    with pytest.raises(CollectorError, match="gave up after 4 attempts") as info:
        client.get("https://example.org/down")
    assert not isinstance(info.value, RateLimitError)
    assert len(seen) == POLICY.max_attempts
    assert len(sleeps) == POLICY.max_attempts - 1


def test_network_errors_are_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, text="back")

    client, sleeps, _ = make_client(handler)
    assert client.get("https://example.org/").text == "back"
    assert len(sleeps) == 2


def test_client_errors_are_not_retried() -> None:
    client, sleeps, seen = make_client(lambda r: httpx.Response(404))
    with pytest.raises(HttpStatusError) as info:
        client.get("https://example.org/missing")
    assert info.value.status == 404
    assert len(seen) == 1
    assert sleeps == []


def test_jitter_is_reproducible_with_a_seed() -> None:
    a = [POLICY.backoff(n, random.Random(7)) for n in (1, 2, 3)]
    b = [POLICY.backoff(n, random.Random(7)) for n in (1, 2, 3)]
    assert a == b


# --------------------------------------------------------------------------- rate limits


def test_429_with_retry_after_sleeps_what_the_server_asks() -> None:
    answers = iter([httpx.Response(429, headers={"retry-after": "7"}), httpx.Response(200)])
    client, sleeps, _ = make_client(lambda r: next(answers))
    client.get("https://example.org/")
    assert sleeps == [7.0]


def test_429_with_x_rate_limit_reset_sleeps_until_the_reset() -> None:
    now = 1_700_000_000.0
    reset = str(int(now) + 40)
    answers = iter(
        [httpx.Response(429, headers={"x-rate-limit-reset": reset}), httpx.Response(200)]
    )
    client, sleeps, _ = make_client(lambda r: next(answers), clock=lambda: now)
    client.get("https://example.org/")
    assert sleeps == [41.0]


def test_429_without_headers_backs_off_boundedly_then_raises() -> None:
    client, sleeps, seen = make_client(lambda r: httpx.Response(429))
    with pytest.raises(RateLimitError, match="still rate limited after 4 attempts"):
        client.get("https://example.org/")
    assert len(seen) == POLICY.max_attempts  # no retry storm
    assert len(sleeps) == POLICY.max_attempts - 1
    assert all(POLICY.rate_limit_wait <= s <= POLICY.rate_limit_max_wait for s in sleeps)


def test_429_asking_for_a_wait_beyond_the_cap_fails_at_once() -> None:
    now = 1_700_000_000.0
    headers = {"x-rate-limit-reset": str(int(now) + 10_000)}
    client, sleeps, seen = make_client(
        lambda r: httpx.Response(429, headers=headers), clock=lambda: now
    )
    with pytest.raises(RateLimitError, match="longer than the 120 s"):
        client.get("https://example.org/")
    assert sleeps == []
    assert len(seen) == 1


def test_rate_limit_delay_reads_every_header_form() -> None:
    assert rate_limit_delay({"Retry-After": "12"}) == 12.0
    assert rate_limit_delay({"X-Rate-Limit-Reset": "1060"}, now=1000.0) == 61.0
    assert rate_limit_delay({"x-rate-limit-reset": "900"}, now=1000.0) == 1.0  # already past
    date = "Wed, 21 Oct 2015 07:28:30 GMT"
    assert rate_limit_delay({"retry-after": date}, now=1445412480.0) == pytest.approx(30.0)
    assert rate_limit_delay({"retry-after": "soon"}) is None
    assert rate_limit_delay({}) is None
    assert rate_limit_delay(None) is None


def test_call_with_retries_lets_unclassified_errors_through_unchanged() -> None:
    calls = []

    def fn() -> None:
        calls.append(1)
        raise KeyError("not transient")

    with pytest.raises(KeyError):
        call_with_retries(fn, classify=lambda e: None, sleep=Sleeps())
    assert len(calls) == 1


def test_call_with_retries_applies_the_policy_to_any_callable() -> None:
    calls = []
    sleeps = Sleeps()

    def fn() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("flaky")
        return "done"

    result = call_with_retries(
        fn,
        classify=lambda e: Retry("network", None, str(e)),
        policy=POLICY,
        sleep=sleeps,
        rng=random.Random(1),
    )
    assert result == "done"
    assert len(sleeps) == 2


# --------------------------------------------------------------------------- robots.txt


def robots_handler(status: int = 200, body: str | None = None) -> Callable[..., httpx.Response]:
    text = body if body is not None else (FIXTURES / "robots.txt").read_text()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(status, text=text)
        return httpx.Response(200, text="<html></html>")

    return handler


def test_robots_rules_are_obeyed_and_fetched_once_per_host() -> None:
    client, _, seen = make_client(robots_handler())
    robots = RobotsCache(client)
    assert robots.allowed("https://blog.example.org/2016/post")
    assert not robots.allowed("https://blog.example.org/no-mapper/page")
    assert robots.allowed("https://blog.example.org/private/x")  # only for other agents
    with pytest.raises(RobotsDisallowedError, match=r"robots\.txt"):
        robots.check("https://blog.example.org/no-mapper/page")
    assert [r.url.path for r in seen] == ["/robots.txt"]


def test_robots_404_means_everything_is_allowed() -> None:
    client, _, _ = make_client(robots_handler(404, "gone"))
    assert RobotsCache(client).allowed("https://example.org/anything")


def test_robots_server_error_means_nothing_is_allowed() -> None:
    client, _, _ = make_client(robots_handler(503, "down"))
    assert not RobotsCache(client).allowed("https://example.org/anything")


def offline(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)


@pytest.mark.parametrize(
    ("handler", "cause"),
    [
        (robots_handler(503, "down"), "HTTP 503"),
        (robots_handler(502, "bad gateway"), "HTTP 502"),
        (offline, "Temporary failure in name resolution"),
        (
            lambda r: httpx.Response(302, headers={"location": "http://10.0.0.1/robots.txt"}),
            "10.0.0.1",
        ),
    ],
)
def test_an_unreadable_robots_txt_is_reported_with_its_cause(
    handler: Callable[[httpx.Request], httpx.Response], cause: str
) -> None:
    """A failed robots.txt, or no network at all, was reported as "robots.txt
    disallows fetching this page"."""
    client, _, seen = make_client(handler)
    robots = RobotsCache(client)
    with pytest.raises(RobotsUnavailableError) as info:
        robots.check("https://example.org/2016/post")
    message = str(info.value)
    assert message.startswith("https://example.org/2016/post: robots.txt could not be read")
    assert "(https://example.org/robots.txt: " in message and cause in message
    assert "disallows" not in message and message.count("\n") == 0
    tries = len(seen)
    with pytest.raises(RobotsUnavailableError):
        robots.check("https://example.org/another")
    assert len(seen) == tries  # the failure is remembered for the run, not retried per page


@pytest.mark.parametrize("declared", [True, False])
def test_truncate_keeps_the_start_of_a_longer_body(declared: bool) -> None:
    body = bytes(range(256)) * 40

    def handler(request: httpx.Request) -> httpx.Response:
        if declared:
            return httpx.Response(200, content=body)
        return httpx.Response(200, stream=httpx.ByteStream(body))

    client, _, _ = make_client(handler)
    cut = client.get("https://example.org/", max_bytes=1000, truncate=True)
    assert cut.content == body[:1000] and cut.truncated
    whole = client.get("https://example.org/", max_bytes=len(body), truncate=True)
    assert whole.content == body and not whole.truncated
    with pytest.raises(CollectorError, match="cap"):
        client.get("https://example.org/", max_bytes=1000)


@pytest.mark.parametrize("extra", [0, 1, 2, 7])
def test_an_oversized_robots_txt_is_read_to_its_last_whole_line(extra: int) -> None:
    """The cap falls inside ``Disallow: /private/archive/``: read as ``Disallow: /`` it
    would close the whole site; the cut line is dropped instead."""
    head = "User-agent: *\nDisallow: /drafts/\n"
    filler = "# " + "-" * 70 + "\n"
    body = head + filler * (ROBOTS_MAX_BYTES // len(filler) + 1)
    body = body[: ROBOTS_MAX_BYTES - len("Disallow: /") - extra] + "\n"
    body += "Disallow: /private/archive/\n" + "# more\n" * 100
    assert body.index("Disallow: /private/") == ROBOTS_MAX_BYTES - len("Disallow: /") - extra + 1
    client, _, _ = make_client(robots_handler(200, body))
    robots = RobotsCache(client)
    assert robots.allowed("https://example.org/2016/post")
    assert not robots.allowed("https://example.org/drafts/x")


# --------------------------------------------------------------------------- secrets


def test_redact_masks_env_tokens_their_quoted_forms_and_bearer_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = "AAAA-test-token-XYZ%3Dabc"
    monkeypatch.setenv("X_BEARER_TOKEN", token)
    monkeypatch.setenv("SOME_SERVICE_APP_PASSWORD", "hunter2-secret")
    text = f"token={token} unquoted=AAAA-test-token-XYZ=abc pw=hunter2-secret"
    masked = redact(text)
    assert "AAAA-test-token-XYZ" not in masked
    assert "hunter2-secret" not in masked
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"


def test_registered_secrets_are_masked() -> None:
    register_secret("file-token-0123456789")
    assert "file-token" not in redact("read file-token-0123456789 from disk")


def test_log_records_are_redacted(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", "AAAA-test-token-XYZ")
    install_redaction("test.redaction")
    logger = logging.getLogger("test.redaction")
    with caplog.at_level(logging.DEBUG, logger="test.redaction"):
        logger.debug("Headers: %s", {"Authorization": "Bearer AAAA-test-token-XYZ"})
    assert caplog.records
    assert "AAAA-test-token-XYZ" not in caplog.text
