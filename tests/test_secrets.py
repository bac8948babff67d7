"""Credentials never reach a file, a log line or an error message.

A known fake X bearer token, Bluesky app password and Mastodon access token are put in
the environment; each collector then runs through its real SDK client over mocked HTTP
(``responses`` for tweepy and Mastodon.py, ``respx`` for the atproto client): pages
collected, a 429 waited out, a 5xx given up on, a 401 refused (whose body echoes the
credential back, as a misbehaving proxy might). Logging runs at DEBUG into a file the
whole time (tweepy logs its request headers there). Then every file under the
temporary folder (the store with its ``-wal`` and ``-shm``, the X archive, the log, the
outputs of a whole pipeline run over the collected posts) and every exception message
and traceback is searched for the secrets, in plain and in URL-quoted form.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import requests
import responses
import respx
from typer.testing import CliRunner

from mapper.collectors import bluesky, mastodon, x_live
from mapper.errors import MapperError
from mapper.http import RetryPolicy
from mapper.store import Store

FIX = Path(__file__).resolve().parent / "fixtures"
X_TOKEN = "AAAAAAAAAAAAAAAAAAAAAfake-x-bearer-token%2Fsecret-4f2a9c"
BSKY_PASSWORD = "fake-app-pass-word-7c1d"
MASTO_TOKEN = "fake-mastodon-access-token-9e8f7a6b5c"
X_API = re.compile(r"https://api\.twitter\.com/2/.*")
MASTO_API = "https://mastodon.example/api/v1"
BSKY = "https://bsky.social/xrpc"
POLICY = RetryPolicy(max_attempts=2, backoff_initial=0.01, rate_limit_max_wait=120)


def _jwt(payload: dict[str, Any]) -> str:
    def enc(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{enc({'alg': 'ES256K', 'typ': 'at+jwt'})}.{enc(payload)}.c2lnbmF0dXJl"


EXP = int(time.time()) + 7200
SESSION = {
    "did": "did:plc:testertestertestertester",
    "handle": "tester.example.com",
    "accessJwt": _jwt({"scope": "com.atproto.appPass", "sub": "did:plc:tester", "exp": EXP}),
    "refreshJwt": _jwt({"scope": "com.atproto.refresh", "sub": "did:plc:tester", "exp": EXP}),
    "active": True,
}
SECRETS = {
    "X bearer token": X_TOKEN,
    "Bluesky app password": BSKY_PASSWORD,
    "Bluesky session token": SESSION["accessJwt"],
    "Bluesky refresh token": SESSION["refreshJwt"],
    "Mastodon access token": MASTO_TOKEN,
}


def forms(secret: str) -> set[bytes]:
    """The secret as it could be written: plain, URL-quoted, URL-unquoted."""
    return {v.encode() for v in (secret, quote(secret, safe=""), secret.replace("%2F", "/"))}


def leaks(data: bytes | str) -> list[str]:
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    return [name for name, secret in SECRETS.items() if any(f in raw for f in forms(secret))]


def load(folder: str, name: str) -> Any:
    return json.loads((FIX / folder / name).read_text(encoding="utf-8"))


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_BEARER_TOKEN", X_TOKEN)
    monkeypatch.setenv("BLUESKY_HANDLE", "tester.example.com")
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", BSKY_PASSWORD)
    monkeypatch.setenv("MASTODON_ACCESS_TOKEN", MASTO_TOKEN)
    monkeypatch.setenv("MASTODON_API_BASE_URL", "https://mastodon.example")


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Every log record of every library, at DEBUG, into a file under ``tmp_path``."""
    path = tmp_path / "logs" / "debug.log"
    path.parent.mkdir()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


class Errors(list[str]):
    """The text of every error the collectors raised: message, one line, hint, traceback."""

    def expect(self, exc_type: type[BaseException], fn: Any, *args: Any, **kwargs: Any) -> Any:
        with pytest.raises(exc_type) as info:
            fn(*args, **kwargs)
        exc = info.value
        self.extend([str(exc), repr(exc), "".join(traceback.format_exception(exc))])
        if isinstance(exc, MapperError):
            self.extend([exc.one_line(), exc.hint or ""])
        return exc


def scan(root: Path) -> dict[str, list[str]]:
    """Every file under ``root`` that holds a secret, with the secrets it holds."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and (names := leaks(path.read_bytes())):
            found[str(path)] = names
    return found


# --------------------------------------------------------------------------- X


class FakeX:
    """Queued answers to any X API call, served to tweepy's own ``requests`` session."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.answers: list[tuple[int, Any, dict[str, str]]] = []
        self.headers: list[str] = []
        mock.add_callback(responses.GET, X_API, callback=self._answer)

    def push(self, status: int, body: Any, **headers: str) -> FakeX:
        self.answers.append((status, body, headers))
        return self

    def _answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.headers.append(str(request.headers.get("Authorization")))
        status, body, headers = self.answers.pop(0)
        return status, {"content-type": "application/json", **headers}, json.dumps(body)


def collect_x(store: Store, archive: Path, errors: Errors) -> None:
    page1, page2, page3 = (load("http", f"x_search_page{n}.json") for n in (1, 2, 3))
    echo = {"title": "Unauthorized", "detail": f"token Bearer {X_TOKEN} was revoked ({X_TOKEN})"}
    clock = Sleeps()
    options = {"store": store, "archive_path": archive, "policy": POLICY, "sleep": clock}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        api = FakeX(mock)
        client = x_live.make_client()
        # pages, a 429 waited out (reset header), then the last page
        api.push(200, page1).push(200, page2)
        api.push(
            429, load("http", "x_429.json"), **{"x-rate-limit-reset": str(int(time.time()) + 5)}
        )
        api.push(200, page3)
        result = x_live.search(client, "progressive alliance", **options)
        assert result.posts == 7 and len(clock) == 1
        # a 5xx that does not go away
        api.push(503, {**load("http", "x_503.json"), "detail": f"upstream saw {X_TOKEN}"})
        api.push(503, load("http", "x_503.json"))
        errors.expect(MapperError, x_live.search, client, "alliance", resume=False, **options)
        # a refused token, echoed back in the body
        api.push(401, echo)
        errors.expect(MapperError, x_live.search, client, "alliance", resume=False, **options)
        # a 429 with no end in sight
        api.push(
            429,
            load("http", "x_429.json"),
            **{"x-rate-limit-reset": str(int(time.time()) + 86_400)},
        )
        errors.expect(MapperError, x_live.search, client, "other", resume=False, **options)
    assert api.headers and all(h == f"Bearer {X_TOKEN}" for h in api.headers)  # it was sent


# --------------------------------------------------------------------------- Bluesky


def collect_bluesky(store: Store, errors: Errors) -> None:
    reset = str(int(time.time()) + 3)
    limited = httpx.Response(
        429,
        json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": reset},
    )
    failing = httpx.Response(502, json={"error": "UpstreamFailure", "message": BSKY_PASSWORD})
    refused = httpx.Response(
        401, json={"error": "AuthenticationRequired", "message": f"bad password {BSKY_PASSWORD}"}
    )
    sleeps = Sleeps()
    with respx.mock(assert_all_called=False) as router:
        login = router.post(f"{BSKY}/com.atproto.server.createSession")
        login.mock(return_value=httpx.Response(200, json=SESSION))
        search = router.get(f"{BSKY}/app.bsky.feed.searchPosts")
        page1, page2 = (
            httpx.Response(200, json=load("bluesky", f"search_page{n}.json")) for n in (1, 2)
        )
        search.mock(side_effect=[page1, limited, page2])
        result = bluesky.bluesky_search("#fairvotes", store=store, sleep=sleeps)
        assert result.added == 3 and len(sleeps) == 1
        assert json.loads(login.calls[0].request.content)["password"] == BSKY_PASSWORD  # sent
        search.mock(side_effect=[failing] * bluesky.MAX_ATTEMPTS)
        errors.expect(MapperError, bluesky.bluesky_search, "#other", store=store, sleep=sleeps)
        login.mock(return_value=refused)
        errors.expect(MapperError, bluesky.bluesky_search, "#third", store=store, sleep=sleeps)


# --------------------------------------------------------------------------- Mastodon


def collect_mastodon(store: Store, errors: Errors) -> None:
    alice = load("mastodon", "account_alice.json")
    statuses = f"{MASTO_API}/accounts/{alice['id']}/statuses"
    reset = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    sleeps = Sleeps()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{MASTO_API}/accounts/lookup", status=429, json={"error": "Too many requests"},
                 headers={"X-RateLimit-Reset": reset})  # fmt: skip
        rsps.get(f"{MASTO_API}/accounts/lookup", json=alice)
        rsps.get(statuses, json=load("mastodon", "statuses_page1.json"))
        rsps.get(
            f"{MASTO_API}/accounts/109000000000000005", json=load("mastodon", "account_erin.json")
        )
        result = mastodon.mastodon_posts("alice@mastodon.example", store=store, sleep=sleeps)
        assert result.added >= 3 and len(sleeps) == 1
        sent = [c.request.headers.get("Authorization") for c in rsps.calls]
        assert f"Bearer {MASTO_TOKEN}" in sent  # the token was used
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{MASTO_API}/accounts/lookup", status=500, json={"error": f"oops {MASTO_TOKEN}"})
        errors.expect(MapperError, mastodon.mastodon_posts, "bob@mastodon.example", store=store,
                      sleep=sleeps)  # fmt: skip
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(f"{MASTO_API}/accounts/lookup", status=401,
                 json={"error": f"The access token {MASTO_TOKEN} is invalid"})  # fmt: skip
        errors.expect(MapperError, mastodon.mastodon_posts, "carol@mastodon.example", store=store,
                      sleep=sleeps)  # fmt: skip


# --------------------------------------------------------------------------- the test


def test_no_secret_in_any_file_log_or_message(
    credentials: None, debug_log: Path, tmp_path: Path, demo_copy: Path
) -> None:
    from mapper.pipeline import run_project
    from mapper.project import load_project

    project = load_project(demo_copy)
    errors = Errors()
    with Store(project.store) as store:
        collect_x(store, project.output / "archives" / "x-search.jsonl", errors)
        collect_bluesky(store, errors)
        collect_mastodon(store, errors)
        assert store.count_posts() >= 13
        assert store.quarantine_count() >= 1  # the partial errors of the second X page
        # while the store is open its recent writes are in the -wal file: search it too
        wal = [Path(f"{project.store}-wal"), Path(f"{project.store}-shm")]
        assert all(p.exists() for p in wal) and wal[0].stat().st_size > 0
        assert scan(tmp_path) == {}, "a secret was written to a file"
    logging.getLogger("mapper.test").debug("collection done")

    log_text = debug_log.read_text(encoding="utf-8")
    assert "Bearer" in log_text  # tweepy logged its request headers...
    assert not leaks(log_text), "a secret is in the debug log"  # ...with the token masked

    run_project(project)  # maps, exports and the report over the collected posts
    assert any(project.output.rglob("*.html")) and any(project.output.rglob("*.gexf"))

    assert len(errors) >= 8 * 3
    bad = [text for text in errors if leaks(text)]
    assert not bad, f"a secret is in an error message: {bad[0][:300]}"
    assert scan(tmp_path) == {}, "a secret was written to a file"


def test_cli_errors_do_not_show_the_token(credentials: None, tmp_path: Path) -> None:
    from mapper.cli import app

    echo = {"title": "Unauthorized", "detail": f"bad token {X_TOKEN}"}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeX(mock).push(401, echo)
        result = CliRunner().invoke(
            app, ["collect", "x", "search", "alliance", "--store", str(tmp_path / "s.sqlite")]
        )
    assert result.exit_code == 1
    assert "refused the bearer token" in result.output
    assert not leaks(result.output)
    assert scan(tmp_path) == {}
