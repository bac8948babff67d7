"""Only public addresses are fetched: every form of a private address, every hop of a
redirect chain, names that resolve to private addresses, and names that change their
answer between the check and the connection.

Most tests run over :class:`httpx.MockTransport` with :func:`mapper.http.resolve_host`
replaced by a fake resolver; the connection-time check is exercised over real sockets
on 127.0.0.1, with ``socket.getaddrinfo`` faked so that a name reaches that server.
"""

from __future__ import annotations

import ipaddress
import itertools
import random
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

import mapper.http
from mapper.errors import CollectorError
from mapper.http import (
    HttpClient,
    PrivateAddressError,
    RetryPolicy,
    address_scope,
    ip_literal,
)

PUBLIC = "93.184.215.14"
PUBLIC6 = "2606:2800:220:1:248:1893:25c8:1946"


class FakeDNS:
    """A resolver: chosen answers for some names, a public address for any other name.

    An answer may be a list, or a callable returning one (for answers that change).
    """

    def __init__(self, answers: dict[str, list[str] | Callable[[], list[str]]] | None = None):
        self.answers = dict(answers or {})
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        answer = self.answers.get(host.lower())
        if answer is None:
            return ["127.0.0.1", "::1"] if host.lower() == "localhost" else [PUBLIC]
        return list(answer() if callable(answer) else answer)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS(
        {
            "intranet.example.org": ["10.1.2.3"],
            "mixed.example.org": [PUBLIC, "127.0.0.1"],
            "ula.example.org": [PUBLIC6, "fd00::5"],
            "mapped.example.org": ["::ffff:169.254.169.254"],
            "metadata.example.org": ["169.254.169.254"],
            "cgnat.example.org": ["100.100.100.200"],
        }
    )
    monkeypatch.setattr(mapper.http, "resolve_host", fake)
    return fake


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response], **kwargs: object
) -> tuple[HttpClient, list[str]]:
    seen: list[str] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return handler(request)

    options: dict[str, object] = {
        "transport": httpx.MockTransport(recording),
        "policy": RetryPolicy(max_attempts=2),
        "sleep": lambda s: None,
        "rng": random.Random(0),
    }
    options.update(kwargs)
    return HttpClient(**options), seen  # type: ignore[arg-type]


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="fine")


# --------------------------------------------------------------------------- scopes


@pytest.mark.parametrize(
    ("address", "scope"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.20.30.40", "private"),
        ("172.31.255.1", "private"),
        ("192.168.0.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::fb", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.100.100.200", "shared"),
        ("240.1.2.3", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.7", "reserved"),
        ("2001:db8::1", "reserved"),
        ("fec0::1", "site-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:a9fe:a9fe", "link-local"),
        ("::ffff:192.168.1.1", "private"),
        ("::127.0.0.1", "reserved"),
        ("2002:7f00:1::1", "loopback"),
        ("2002:a9fe:a9fe::", "link-local"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("64:ff9b::10.0.0.1", "private"),
        (PUBLIC, "public"),
        ("8.8.4.4", "public"),
        (PUBLIC6, "public"),
        ("::ffff:8.8.8.8", "public"),
        ("2002:808:808::1", "public"),
    ],
)
def test_address_scope_names_every_kind_of_non_public_address(address: str, scope: str) -> None:
    assert address_scope(address) == scope


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "0x7f000001",
        "017700000001",
        "0177.0.0.1",
        "0x7f.0.0.1",
        "127.1",
        "127.0.1",
        "10.1",
        "2852039166",
        "0xA9FEA9FE",
        "0251.0376.0251.0376",
        "3232235777",
        "0",
        "127.0.0.1",
        "::ffff:127.0.0.1",
        "::1",
        "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # full-width digits
        "127\u30020\u30020\u30021",  # ideographic full stops
        "169\uff0e254\uff0e169\uff0e254",
    ],
)
def test_numeric_hosts_are_read_as_the_system_resolver_reads_them(host: str) -> None:
    """Whatever spelling of an address the resolver would connect to, the check sees
    the same address (the resolver is asked for numbers only, which needs no network)."""
    answers = socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    expected = {ipaddress.ip_address(info[4][0]) for info in answers}
    assert ip_literal(host) in expected


@pytest.mark.parametrize(
    "host", ["example.org", "1e100.net", "cafe", "a.b", "0x.example", "bad-0x1"]
)
def test_names_are_not_taken_for_addresses(host: str) -> None:
    assert ip_literal(host) is None


# --------------------------------------------------------------------------- first URL


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1:8080/admin",
        "http://localhost/",
        "http://LOCALHOST:5000/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[0:0:0:0:0:ffff:169.254.169.254]/latest/",
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/latest/meta-data/",
        "http://[fe80::1%25eth0]/",
        "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/",
        "http://169\u3002254\u3002169\u3002254/latest/",
        "http://10.0.0.1/",
        "https://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.100.100.200/latest/meta-data/",
        "http://0.0.0.0:8000/",
        "http://[::]/",
        "http://224.0.0.1/",
        "http://[ff02::1]/",
        "http://[fc00::1]/",
        "http://[2002:7f00:1::]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://intranet.example.org/",
        "https://mixed.example.org/page",
        "https://ula.example.org/",
        "http://mapped.example.org/",
        "http://metadata.example.org/latest/",
        "http://cgnat.example.org/",
    ],
)
def test_a_non_public_address_is_refused_without_a_request(dns: FakeDNS, url: str) -> None:
    client, seen = mock_client(ok)
    with pytest.raises(PrivateAddressError, match="non-public address") as info:
        client.get(url)
    assert seen == []
    assert "--allow-private" in str(info.value)
    assert str(info.value).count("\n") == 0


@pytest.mark.parametrize(
    "url",
    [
        f"http://{PUBLIC}/",
        f"https://[{PUBLIC6}]/a",
        "https://example.org/",
        "http://news.example.com/x",
    ],
)
def test_public_addresses_are_fetched(dns: FakeDNS, url: str) -> None:
    client, seen = mock_client(ok)
    assert client.get(url).text == "fine"
    assert len(seen) == 1


def test_private_addresses_are_an_explicit_opt_in(dns: FakeDNS) -> None:
    urls = ["http://127.0.0.1:8000/", "http://intranet.example.org/", "http://[::1]/"]
    refusing, seen = mock_client(ok)
    for url in urls:
        with pytest.raises(PrivateAddressError):
            refusing.get(url)
    assert seen == []
    allowing, seen = mock_client(ok, allow_private=True)
    for url in urls:
        assert allowing.get(url).status == 200
    assert len(seen) == len(urls)


def test_a_name_that_does_not_resolve_is_left_to_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(mapper.http, "resolve_host", nowhere)
    client, seen = mock_client(ok)
    assert client.get("https://unknown.example.org/").status == 200  # the mock answers
    assert seen == ["https://unknown.example.org/"]


# --------------------------------------------------------------------------- redirects


def chain(*hops: str) -> Callable[[httpx.Request], httpx.Response]:
    """A site whose page ``hops[i]`` redirects to ``hops[i + 1]``; the last answers 200."""

    def handler(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        for here, there in itertools.pairwise(hops):
            if url == here:
                return httpx.Response(302, headers={"location": there.encode("utf-8")})
        return httpx.Response(200, text="reached")

    return handler


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::ffff:a9fe:a9fe]/latest/",
        "http://2852039166/latest/",
        "http://0251.0376.0251.0376/latest/",
        "http://0xA9FEA9FE/latest/",
        "http://localhost:8080/admin",
        "http://127.0.0.1:6379/",
        "http://[::1]:9200/_cat",
        "http://intranet.example.org/wiki",
        "http://metadata.example.org/computeMetadata/v1/",
        "//10.0.0.1/relative-to-the-scheme",
    ],
)
@pytest.mark.parametrize("hops", [1, 3])
def test_every_hop_of_a_redirect_chain_is_checked(dns: FakeDNS, target: str, hops: int) -> None:
    start = [f"https://blog.example.org/{n}" for n in range(hops)]
    client, seen = mock_client(chain(*start, target))
    with pytest.raises(PrivateAddressError) as info:
        client.get(start[0])
    assert seen == start  # every public hop, and not the private one
    message = str(info.value)
    assert "redirected to" in message and "non-public address" in message
    assert message.startswith(start[0])


def test_a_redirect_on_to_a_public_address_is_followed(dns: FakeDNS) -> None:
    hops = ["https://blog.example.org/a", f"http://{PUBLIC}/b", "https://news.example.com/c"]
    client, seen = mock_client(chain(*hops))
    response = client.get(hops[0])
    assert response.url == hops[-1] and response.text == "reached"
    assert seen == hops


@pytest.mark.parametrize(
    "location",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "javascript:void(0)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "mailto:editor@example.org",
        "file:///etc/passwd",
        "ftp://example.org/pub/x",
        "gopher://example.org:70/",
    ],
)
def test_a_redirect_to_another_scheme_is_a_one_line_refusal(dns: FakeDNS, location: str) -> None:
    """httpx itself failed on ``javascript:`` (it prepares the next request even when it
    does not follow it), so the crawl stopped with a traceback."""
    client, seen = mock_client(chain("https://blog.example.org/a", location))
    with pytest.raises(CollectorError, match="refusing to fetch") as info:
        client.get("https://blog.example.org/a")
    assert seen == ["https://blog.example.org/a"]
    assert "redirected to" in str(info.value)
    assert str(info.value).count("\n") == 0


@pytest.mark.parametrize(
    "location",
    ["http://999.1.1.1/", "http://\u2603.example/", "https://example.org/" + "b" * 70_000],
)
def test_a_redirect_to_a_url_httpx_cannot_read_is_a_one_line_problem(
    dns: FakeDNS, location: str
) -> None:
    client, seen = mock_client(chain("https://blog.example.org/a", location))
    with pytest.raises(CollectorError, match="not a valid URL") as info:
        client.get("https://blog.example.org/a")
    assert seen == ["https://blog.example.org/a"]
    assert str(info.value).count("\n") == 0


# --------------------------------------------------------------------------- real sockets


class CountingServer:
    """A real HTTP server on 127.0.0.1 that answers every request with a small page and
    counts the connections it accepted."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingServer]:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    running = CountingServer()
    yield running
    running.close()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"])
def test_a_server_on_this_machine_is_reached_only_when_allowed(
    server: CountingServer, host: str
) -> None:
    url = f"http://{host}:{server.port}/"
    with (
        HttpClient(policy=RetryPolicy(max_attempts=1)) as client,
        pytest.raises(PrivateAddressError),
    ):
        client.get(url)
    assert server.connections == 0
    if host.startswith("["):
        return  # a v4-mapped address needs a dual-stack socket to connect
    with HttpClient(policy=RetryPolicy(max_attempts=1), allow_private=True) as client:
        assert client.get(url).text == "ok"
    assert server.connections == 1


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    "late_answer", [["127.0.0.1"], [PUBLIC, "127.0.0.1"], ["::ffff:127.0.0.1"]]
)
def test_a_name_that_changes_its_answer_is_checked_again_as_it_connects(
    server: CountingServer, monkeypatch: pytest.MonkeyPatch, late_answer: list[str]
) -> None:
    """DNS rebinding: the name is public when first checked, then resolves to this
    machine. The connection is checked again and goes only to a checked address."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def rebinding(host: object, port: object, *args: object, **kwargs: object) -> list:
        if host != "rebind.example.org":
            return real(host, port, *args, **kwargs)  # type: ignore[arg-type]
        asked.append(str(host))
        answer = [PUBLIC] if len(asked) == 1 else late_answer
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port, 0, 0) if ":" in a else (a, port),
            )
            for a in answer
        ]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with (
        HttpClient(policy=RetryPolicy(max_attempts=1)) as client,
        pytest.raises(PrivateAddressError, match=r"127\.0\.0\.1") as info,
    ):
        client.get(f"http://rebind.example.org:{server.port}/")
    assert len(asked) == 2  # checked before the request, and again at the connection
    assert server.connections == 0
    assert str(info.value).startswith("http://rebind.example.org")


@pytest.mark.timeout(20)
def test_no_network_is_reported_as_a_name_that_does_not_resolve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def offline(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(mapper.http, "resolve_host", offline)
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    client = HttpClient(policy=RetryPolicy(max_attempts=2), sleep=lambda s: None)
    with pytest.raises(CollectorError) as info:
        client.get("https://blog.example.org/post")
    message = str(info.value)
    assert "cannot resolve blog.example.org" in message
    assert "Temporary failure in name resolution" in message and "no network" in message
    assert "gave up after 2 attempts" in message
