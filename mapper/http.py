"""All network resilience in one place: timeouts, retries, rate limits, caps, robots.txt.

Every collector that talks to the network goes through this module. :class:`HttpClient`
wraps an :mod:`httpx` client with connect and read timeouts plus an overall deadline per
exchange (a server that trickles one byte a second cannot hang a run), bounded retries
with exponential backoff and jitter on server and network errors, ``429`` handling that
reads ``Retry-After`` / ``x-rate-limit-reset`` and never sleeps longer than a cap, a
response size cap, a bounded number of redirects (a loop is an error), a refusal of
every scheme but ``http`` and ``https``, a refusal of every address that is not on the
public internet (private, loopback, link-local...: checked for the first URL and each
redirect, and again as the socket connects, unless private addresses are allowed),
and a clear ``User-Agent``. SDK clients that
bring their own HTTP stack (tweepy uses :mod:`requests`) get the same policy through
:func:`call_with_retries`. :class:`RobotsCache` answers robots.txt questions with
:mod:`urllib.robotparser` fed through the same client. :func:`redact` masks secrets
(bearer tokens, app passwords) before any text reaches a message, a log or a file.

Sleeping, the clock and the jitter are injectable, so tests never really wait, and
name resolution goes through :func:`resolve_host`, which tests replace.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import os
import random
import re
import socket
import ssl
import threading
import time
import unicodedata
import urllib.robotparser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import httpcore
import httpx

from mapper import __version__
from mapper.errors import CollectorError, RateLimitError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ROBOTS_MAX_BYTES",
    "DeadlineExceededError",
    "HttpClient",
    "HttpResponse",
    "HttpStatusError",
    "PrivateAddressError",
    "RedactingFilter",
    "Retry",
    "RetryPolicy",
    "RobotsCache",
    "RobotsDisallowedError",
    "RobotsUnavailableError",
    "address_scope",
    "call_with_retries",
    "check_url",
    "default_user_agent",
    "install_redaction",
    "ip_literal",
    "rate_limit_delay",
    "redact",
    "register_secret",
    "resolve_host",
]

T = TypeVar("T")

#: Default response size cap (bytes) for one response body.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: Where mapper says it comes from in its User-Agent unless told otherwise.
DEFAULT_CONTACT = "https://pypi.org/project/influence-mapper/"
_ALLOWED_SCHEMES = frozenset({"http", "https"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


# --------------------------------------------------------------------------- secrets


#: Environment variables whose values are always secrets.
SECRET_ENV_VARS: tuple[str, ...] = (
    "X_BEARER_TOKEN",
    "BLUESKY_APP_PASSWORD",
    "BLUESKY_PASSWORD",
    "MASTODON_ACCESS_TOKEN",
)
_SECRET_NAME = re.compile(r"(TOKEN|PASSWORD|SECRET|API_?KEY)", re.IGNORECASE)
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/%=-]+")
_MIN_SECRET_LENGTH = 6
_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember ``value`` as a secret :func:`redact` must mask (a token read from a file).

    Parameters
    ----------
    value : str or None
        The secret. Empty or very short values are ignored (masking them would mangle
        ordinary text).
    """
    if value and len(value.strip()) >= _MIN_SECRET_LENGTH:
        with _registered_lock:
            _registered.add(value.strip())


def _secrets() -> set[str]:
    found = set(_registered)
    for name, value in os.environ.items():
        if (name in SECRET_ENV_VARS or _SECRET_NAME.search(name)) and value:
            value = value.strip()
            if len(value) >= _MIN_SECRET_LENGTH:
                found.add(value)
    variants = set()
    for secret in found:
        variants.update({secret, quote(secret, safe=""), unquote(secret)})
    return {v for v in variants if len(v) >= _MIN_SECRET_LENGTH}


def redact(text: str) -> str:
    """Mask every known secret in ``text``.

    Secrets are the values of :data:`SECRET_ENV_VARS` and of any environment variable
    whose name says it holds a token, password, secret or API key, plus values given
    to :func:`register_secret`; each is also masked in its URL-quoted and unquoted
    forms. Any ``Bearer <token>`` is masked as well.

    Parameters
    ----------
    text : str
        Any text about to be shown, logged or written.

    Returns
    -------
    str
        ``text`` with each secret replaced by ``***``.

    Examples
    --------
    >>> redact("Authorization: Bearer abc.def-123")
    'Authorization: Bearer ***'
    """
    if not text:
        return text
    for secret in sorted(_secrets(), key=len, reverse=True):
        text = text.replace(secret, "***")
    return _BEARER.sub(lambda m: f"{m.group(1)} ***", text)


class RedactingFilter(logging.Filter):
    """A logging filter that passes every record's message through :func:`redact`.

    tweepy logs request headers, bearer token included, at DEBUG level; this filter
    (installed by :func:`install_redaction`) removes it before any handler sees it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own handling
            return True
        record.msg = redact(message)
        record.args = ()
        return True


_FILTER = RedactingFilter()


def install_redaction(*logger_names: str) -> None:
    """Attach :class:`RedactingFilter` to the named loggers (idempotent).

    A logger's filters see only the records logged on that very logger, not those of
    its children: name the logger that emits (``"tweepy.client"``, not ``"tweepy"``).

    Parameters
    ----------
    *logger_names : str
        Logger names, e.g. ``"tweepy.client"``.
    """
    for name in logger_names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


# --------------------------------------------------------------------------- retry policy


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry.

    Attributes
    ----------
    max_attempts : int
        Attempts in all (the first one included) before giving up.
    backoff_initial : float
        Seconds before the second attempt after a server or network error.
    backoff_factor : float
        Growth of the backoff per attempt.
    backoff_max : float
        Upper bound of one backoff sleep.
    jitter : float
        Each backoff is multiplied by ``1 + jitter * U(0, 1)``.
    rate_limit_wait : float
        Seconds before retrying a ``429`` that carries no reset header; grows like
        the backoff, never beyond ``rate_limit_max_wait``.
    rate_limit_max_wait : float
        The longest mapper ever sleeps for a rate limit. When a server asks for a
        longer wait, the call fails at once with :class:`~mapper.errors.RateLimitError`
        saying when to come back, instead of sleeping for hours.
    """

    max_attempts: int = 5
    backoff_initial: float = 1.0
    backoff_factor: float = 2.0
    backoff_max: float = 60.0
    jitter: float = 0.25
    rate_limit_wait: float = 60.0
    rate_limit_max_wait: float = 900.0

    def backoff(
        self,
        attempt: int,
        rng: random.Random,
        *,
        initial: float | None = None,
        cap: float | None = None,
    ) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (1-based).

        Exponential from ``initial`` (default ``backoff_initial``), with jitter, never
        above ``cap`` (default ``backoff_max``).
        """
        base = self.backoff_initial if initial is None else initial
        cap = self.backoff_max if cap is None else cap
        delay = base * self.backoff_factor ** (attempt - 1)
        return min(cap, delay * (1.0 + self.jitter * rng.random()))


@dataclass(frozen=True, slots=True)
class Retry:
    """A classifier's verdict that a failure is worth another attempt.

    Attributes
    ----------
    reason : {"rate-limit", "server", "network"}
        What went wrong.
    delay : float, optional
        Seconds the server asked to wait (from its headers), if it said.
    detail : str
        A short description for messages (status line, exception text).
    """

    reason: Literal["rate-limit", "server", "network"]
    delay: float | None = None
    detail: str = ""


def rate_limit_delay(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds a server asks us to wait, from ``Retry-After`` or ``x-rate-limit-reset``.

    Parameters
    ----------
    headers : mapping
        Response headers (any mapping; names are matched case-insensitively).
    now : float, optional
        The current Unix time (default :func:`time.time`).

    Returns
    -------
    float or None
        Seconds to wait (at least 1), or ``None`` when no usable header is present.

    Examples
    --------
    >>> rate_limit_delay({"x-rate-limit-reset": "1000"}, now=940.0)
    61.0
    >>> rate_limit_delay({"Retry-After": "30"})
    30.0
    >>> rate_limit_delay({}) is None
    True
    """
    if not headers:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    now = time.time() if now is None else now
    retry_after = lowered.get("retry-after", "").strip()
    if retry_after:
        try:
            return max(1.0, float(retry_after))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max(1.0, when.timestamp() - now)
    reset = lowered.get("x-rate-limit-reset", "").strip()
    if reset:
        try:
            return max(1.0, float(reset) - now + 1.0)
        except ValueError:
            return None
    return None


def _retry_sleep(policy: RetryPolicy, verdict: Retry, attempt: int, rng: random.Random) -> float:
    """Seconds to wait before the next attempt: the server's word, else backoff; capped."""
    if verdict.reason == "rate-limit":
        if verdict.delay is not None:
            return min(verdict.delay, policy.rate_limit_max_wait)
        return policy.backoff(
            attempt, rng, initial=policy.rate_limit_wait, cap=policy.rate_limit_max_wait
        )
    if verdict.delay is not None:
        return min(verdict.delay, policy.backoff_max)
    return policy.backoff(attempt, rng)


def call_with_retries(
    fn: Callable[[], T],
    *,
    classify: Callable[[BaseException], Retry | None],
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    what: str = "request",
    on_retry: Callable[[int, Retry, float], None] | None = None,
) -> T:
    """Call ``fn`` until it succeeds, retrying what ``classify`` says is transient.

    The same policy as :class:`HttpClient`, for SDK clients with their own HTTP stack.

    Parameters
    ----------
    fn : callable
        The call, without arguments.
    classify : callable
        Given an exception raised by ``fn``, return a :class:`Retry` when it is worth
        another attempt, or ``None`` to let it propagate unchanged.
    policy : RetryPolicy, optional
        Attempts, backoff and rate-limit caps (default :class:`RetryPolicy()`).
    sleep : callable
        Sleeps the given seconds (inject a recorder in tests).
    rng : random.Random, optional
        Source of jitter (seed it for reproducible sleeps).
    what : str
        Names the call in error messages (e.g. ``"GET https://..."``).
    on_retry : callable, optional
        Called as ``on_retry(attempt, verdict, seconds)`` before each sleep.

    Returns
    -------
    object
        What ``fn`` returned.

    Raises
    ------
    RateLimitError
        Still rate limited after ``policy.max_attempts`` attempts, or the server asked
        for a wait longer than ``policy.rate_limit_max_wait``.
    CollectorError
        Still failing with server or network errors after ``policy.max_attempts``.
    Exception
        Whatever ``fn`` raised that ``classify`` did not mark as retryable.

    Notes
    -----
    The errors raised after the last attempt carry the classifier's redacted detail,
    not the failure itself as their cause: an SDK's exception can quote a response
    body, and a server may echo a credential back in it.
    """
    policy = policy or RetryPolicy()
    rng = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except Exception as exc:
            verdict = classify(exc)
            if verdict is None:
                raise
            detail = redact(verdict.detail or type(exc).__name__)
            limited = verdict.reason == "rate-limit"
            later = "run the same command again later; collection resumes where it stopped"
            if limited and verdict.delay is not None and verdict.delay > policy.rate_limit_max_wait:
                raise RateLimitError(
                    f"{redact(what)}: rate limited; the limit resets in {verdict.delay:.0f} s, "
                    f"longer than the {policy.rate_limit_max_wait:.0f} s mapper waits",
                    hint=later,
                ) from None
            if attempt >= policy.max_attempts:
                if limited:
                    raise RateLimitError(
                        f"{redact(what)}: still rate limited after {attempt} attempts ({detail})",
                        hint=later,
                    ) from None
                raise CollectorError(
                    f"{redact(what)}: {detail} (gave up after {attempt} attempts)",
                    hint="what was collected so far is kept; run again later",
                ) from None
            seconds = _retry_sleep(policy, verdict, attempt, rng)
            if on_retry is not None:
                on_retry(attempt, verdict, seconds)
            sleep(seconds)


# --------------------------------------------------------------------------- addresses


#: Carrier-grade NAT space (RFC 6598): not private by ``ipaddress``'s reckoning, not
#: public either (cloud metadata services live there too).
_SHARED = ipaddress.ip_network("100.64.0.0/10")
#: NAT64 (RFC 6052): an IPv6 form of any IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: The networks set aside for private use (RFC 1918, RFC 4193).
_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")
#: The characters IDNA reads as label dots (RFC 3490, section 3.1).
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class PrivateAddressError(CollectorError):
    """A URL, or a redirect, leads to an address that is not on the public internet
    (private, loopback, link-local, multicast, reserved...)."""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, as text, in the resolver's order.

    The one place mapper asks the system resolver (``getaddrinfo``) before it
    connects; tests replace it to give a name a chosen address.

    Parameters
    ----------
    host : str
        A host name (or an address).
    port : int
        The port to connect to.

    Returns
    -------
    list of str

    Raises
    ------
    OSError
        The name does not resolve (``socket.gaierror``): no such host, or no network.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def ip_literal(host: str) -> Address | None:
    """The address a host written as a number stands for, or ``None`` for a name.

    Every form the system resolver reads as an address counts: dotted IPv4, IPv6
    (brackets, zone and IPv4 tail allowed), and the old IPv4 forms ``inet_aton``
    accepts (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``), which all
    reach 127.0.0.1, also when written with full-width digits or ideographic dots
    (IDNA turns them into ASCII before the resolver sees them).

    Examples
    --------
    >>> str(ip_literal("2130706433")), str(ip_literal("[::ffff:127.0.0.1]"))
    ('127.0.0.1', '::ffff:7f00:1')
    >>> ip_literal("example.org") is None
    True
    """
    text = unicodedata.normalize("NFKC", host.strip()).translate(_IDNA_DOTS)
    text = text.removeprefix("[").removesuffix("]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(text) and any(c.isdigit() for c in text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def address_scope(address: str | Address) -> str:
    """Where an address leads: ``"public"``, or the kind of address it is otherwise.

    IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, 6to4
    ``2002::/16``, NAT64 ``64:ff9b::/96``) are judged by the IPv4 address they carry.

    Parameters
    ----------
    address : str or ipaddress address

    Returns
    -------
    str
        ``"public"``, ``"loopback"``, ``"private"``, ``"link-local"``, ``"multicast"``,
        ``"unspecified"``, ``"shared"`` (carrier-grade NAT), ``"site-local"`` or
        ``"reserved"`` (anything else not routed on the internet: documentation and
        benchmarking ranges, future use, ...).

    Examples
    --------
    >>> address_scope("169.254.169.254"), address_scope("::ffff:10.0.0.1")
    ('link-local', 'private')
    >>> address_scope("93.184.215.14")
    'public'
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ipaddress.IPv6Address(ip.packed)  # the zone (%eth0) plays no part
        if ip.ipv4_mapped is not None:
            return address_scope(ip.ipv4_mapped)
        carried = ip.sixtofour
        if ip in _NAT64:
            carried = ipaddress.IPv4Address(ip.packed[-4:])
        if carried is not None and address_scope(carried) != "public":
            return address_scope(carried)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.version == 4 and ip in _SHARED:
        return "shared"
    if ip.version == 6 and ip.is_site_local:
        return "site-local"
    if any(ip in network for network in _PRIVATE if network.version == ip.version):
        return "private"
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return "reserved"
    return "public"


# --------------------------------------------------------------------------- HTTP client


class HttpStatusError(CollectorError):
    """A server answered with an HTTP error status that is not worth retrying."""

    def __init__(self, message: str, *, status: int, url: str, hint: str | None = None) -> None:
        self.status = status
        super().__init__(message, source=url, hint=hint)


class DeadlineExceededError(CollectorError):
    """One HTTP exchange took longer than the client's overall deadline."""


class RobotsDisallowedError(CollectorError):
    """robots.txt forbids fetching a URL."""


class RobotsUnavailableError(CollectorError):
    """A site's robots.txt could not be read, so none of its pages is fetched."""


class _RetryableStatus(Exception):
    """Internal: a ``429`` or ``5xx`` answer, carried to the retry loop."""

    def __init__(self, status: int, headers: httpx.Headers, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.headers = headers
        self.url = url


def default_user_agent(contact: str | None = None) -> str:
    """Return ``mapper/<version> (+<contact>)``.

    ``contact`` defaults to the environment variable ``MAPPER_CONTACT`` (an e-mail
    address or URL where site owners can reach whoever runs the collection), else to
    the project's page.
    """
    contact = contact or os.environ.get("MAPPER_CONTACT") or DEFAULT_CONTACT
    return f"mapper/{__version__} (+{contact})"


def check_url(url: str) -> str:
    """Return ``url`` when it is an absolute ``http``/``https`` URL; raise otherwise.

    Raises
    ------
    CollectorError
        For any other scheme (``file:``, ``ftp:``, ``javascript:`` ...) or no host.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        raise CollectorError(f"not a valid URL ({exc})", source=url) from None
    if parts.scheme.lower() not in _ALLOWED_SCHEMES:
        raise CollectorError(
            f"refusing to fetch a {parts.scheme or 'scheme-less'} URL",
            source=url,
            hint="only http:// and https:// URLs are fetched",
        )
    if not parts.hostname:
        raise CollectorError("URL has no host", source=url)
    return url


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete, size-checked response.

    Attributes
    ----------
    url : str
        The final URL, after redirects.
    status : int
        HTTP status code.
    headers : httpx.Headers
        Response headers.
    content : bytes
        The body (never more than the size cap).
    redirects : tuple of str
        The URLs that redirected, in order.
    truncated : bool
        The body was longer than the cap and only its start was read (only when
        asked for with ``truncate=True``).
    """

    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    redirects: tuple[str, ...] = field(default=())
    truncated: bool = False

    @property
    def content_type(self) -> str:
        """The media type, lower-cased, without parameters (``""`` when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        """The body decoded with the declared charset (UTF-8 when absent or unknown)."""
        charset = "utf-8"
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip("\"'")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


class HttpClient:
    """A polite, bounded HTTP client for collectors.

    Only public addresses are fetched unless ``allow_private``: before each request,
    the first and every redirect, the host is resolved and every address it resolves
    to must be public (see :func:`address_scope`); when the client makes its own
    connections (no ``transport`` given), the address is checked once more as the
    connection is made and the connection goes to that checked address, so a name
    that changes its answer in between (DNS rebinding) gains nothing.

    Parameters
    ----------
    transport : httpx.BaseTransport, optional
        Transport to use (tests pass :class:`httpx.MockTransport`). It is used as
        given: the address check before each request applies, the one at connection
        time does not.
    user_agent : str, optional
        Full User-Agent (default :func:`default_user_agent`).
    contact : str, optional
        Contact for the default User-Agent.
    connect_timeout, read_timeout : float
        Seconds to connect, and to wait for each chunk.
    deadline : float
        Seconds one exchange (one request and its whole body) may take in all.
    max_bytes : int
        Default body size cap.
    max_redirects : int
        Redirects followed before giving up.
    allow_private : bool
        Also fetch private, loopback, link-local and other non-public addresses (an
        intranet, a server on this machine). Off by default: a page or a redirect
        must not make mapper reach into the network it runs in (a cloud metadata
        service at 169.254.169.254, a router's admin page).
    policy : RetryPolicy, optional
        Retry and rate-limit policy.
    sleep : callable
        Sleep function (inject a recorder in tests).
    clock : callable
        Unix time, used to read ``x-rate-limit-reset``.
    monotonic : callable
        Monotonic clock used for the deadline.
    rng : random.Random, optional
        Jitter source.

    Examples
    --------
    >>> import httpx
    >>> mock = httpx.MockTransport(lambda request: httpx.Response(200, text="hi"))
    >>> with HttpClient(transport=mock) as client:
    ...     client.get("https://example.org/").text
    'hi'
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        user_agent: str | None = None,
        contact: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        deadline: float = 120.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 10,
        allow_private: bool = False,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.user_agent = user_agent or default_user_agent(contact)
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.allow_private = allow_private
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.monotonic = monotonic
        self.rng = rng or random.Random()
        self._deadline = _Deadline()
        self._location = threading.local()
        vet = None if allow_private else _public_addresses
        self._client = httpx.Client(
            transport=transport or _deadline_transport(self._deadline, vet),
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=False,
            headers={"User-Agent": self.user_agent},
            trust_env=transport is None,
            event_hooks={"response": [self._remember_location]},
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def get(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        headers: Mapping[str, str] | None = None,
        check: Callable[[str], None] | None = None,
        raise_for_status: bool = True,
        truncate: bool = False,
    ) -> HttpResponse:
        """Fetch ``url`` with retries, redirects, a size cap and a deadline.

        Parameters
        ----------
        url : str
            An absolute ``http``/``https`` URL.
        max_bytes : int, optional
            Body size cap for this call (default: the client's).
        headers : mapping, optional
            Extra request headers (e.g. ``Accept``).
        check : callable, optional
            Called with every URL before it is requested, the first one and each
            redirect target; raise to refuse it (the robots.txt check goes here).
            It is called after the client's own checks (scheme, public address).
        raise_for_status : bool
            Raise :class:`HttpStatusError` on a final status of 400 or more.
        truncate : bool
            Keep the first ``max_bytes`` of a longer body (``truncated`` is then
            true) instead of refusing the response.

        Returns
        -------
        HttpResponse

        Raises
        ------
        PrivateAddressError
            The URL or a redirect leads to a non-public address (unless the client
            allows them).
        CollectorError
            Non-http(s) URL or redirect, body over the cap (naming the URL), redirect
            loop or too many redirects, deadline exceeded, or server/network errors
            after retries.
        RateLimitError
            Still ``429`` after the bounded attempts.
        HttpStatusError
            A 4xx answer (other than 429) when ``raise_for_status``.
        """
        check_url(url)
        limit = self.max_bytes if max_bytes is None else max_bytes
        response = call_with_retries(
            lambda: self._fetch(url, limit=limit, headers=headers, check=check, truncate=truncate),
            classify=self._classify,
            policy=self.policy,
            sleep=self.sleep,
            rng=self.rng,
            what=f"GET {url}",
        )
        if raise_for_status and response.status >= 400:
            raise HttpStatusError(
                f"HTTP {response.status}", status=response.status, url=response.url
            )
        return response

    def check_address(self, url: str) -> None:
        """Refuse ``url`` unless its host is public (or the client allows private ones).

        A host written as an address is judged as it is; a name is resolved with
        :func:`resolve_host` and every address it has must be public. A name that
        does not resolve passes here: the connection will fail, and say so.

        Raises
        ------
        PrivateAddressError
            The host is, or resolves to, a non-public address.
        """
        if self.allow_private:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        literal = ip_literal(host)
        if literal is not None:
            scope = address_scope(literal)
            if scope != "public":
                raise _private(host, None, scope, source=url)
            return
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
            addresses = resolve_host(host, port)
        except (OSError, UnicodeError, ValueError):
            return
        for address in addresses:
            scope = address_scope(address)
            if scope != "public":
                raise _private(host, address, scope, source=url)

    def _remember_location(self, response: httpx.Response) -> None:
        """Response hook: keep the status and the ``Location`` header, for when httpx
        cannot read the redirect."""
        self._location.value = (response.status_code, response.headers.get("location"))

    def _classify(self, exc: BaseException) -> Retry | None:
        if isinstance(exc, _RetryableStatus):
            delay = rate_limit_delay(exc.headers, now=self.clock())
            if exc.status == 429:
                return Retry("rate-limit", delay, f"HTTP 429 from {exc.url}")
            return Retry("server", delay, f"HTTP {exc.status} from {exc.url}")
        if isinstance(exc, httpx.TransportError):
            return Retry("network", None, f"{type(exc).__name__}: {exc}")
        return None

    def _fetch(
        self,
        url: str,
        *,
        limit: int,
        headers: Mapping[str, str] | None,
        check: Callable[[str], None] | None,
        truncate: bool = False,
    ) -> HttpResponse:
        """One attempt: follow redirects by hand, then read the body under the caps."""
        seen = [url]
        while True:
            current = seen[-1]
            try:
                check_url(current)
                self.check_address(current)
            except CollectorError as exc:
                if current == url:
                    raise
                raise type(exc)(
                    f"redirected to {_shown(current)}: {exc.message}", source=url, hint=exc.hint
                ) from None
            if check is not None:
                check(current)
            answer = self._exchange(current, headers=headers, limit=limit, truncate=truncate)
            if isinstance(answer, HttpResponse):
                return replace(answer, redirects=tuple(seen[:-1]))
            if answer in seen:
                raise CollectorError("redirect loop: " + " -> ".join([*seen, answer]), source=url)
            if len(seen) - 1 >= self.max_redirects:
                raise CollectorError(f"more than {self.max_redirects} redirects", source=url)
            seen.append(answer)

    def _exchange(
        self, url: str, *, headers: Mapping[str, str] | None, limit: int, truncate: bool = False
    ) -> HttpResponse | str:
        """One request and its whole answer within the deadline: the response, or the
        URL a redirect points to."""
        started = self.monotonic()
        try:
            request = self._client.build_request("GET", url, headers=dict(headers or {}))
        except httpx.InvalidURL as exc:
            raise CollectorError(f"not a valid URL ({exc})", source=url) from None
        self._deadline.start(self.deadline)
        self._location.value = None
        try:
            try:
                response = self._client.send(request, stream=True)
            except (httpx.InvalidURL, httpx.RemoteProtocolError):
                # httpx prepares the request a redirect points to even when it does not
                # follow it, and fails on a Location it cannot read (javascript:...,
                # 0251.0376.0251.0376): judge the Location here instead.
                status, location = self._location.value or (None, None)
                if status not in _REDIRECT_STATUSES or location is None:
                    raise
                return _redirect_target(url, location)
            try:
                status = response.status_code
                if status in _REDIRECT_STATUSES and "location" in response.headers:
                    return _redirect_target(url, response.headers["location"])
                if status == 429 or status >= 500:
                    raise _RetryableStatus(status, response.headers, url)
                content, cut = self._read_body(
                    response, url=url, limit=limit, started=started, truncate=truncate
                )
                return HttpResponse(
                    url=url, status=status, headers=response.headers, content=content, truncated=cut
                )
            finally:
                response.close()
        except _AddressRefused as refused:
            raise _private(refused.host, refused.address, refused.scope, source=url) from None
        except httpx.TimeoutException:
            if not self._deadline.passed():
                raise  # an ordinary timeout: retried as a network error
            raise self._too_slow(url) from None
        except httpx.TransportError:
            raise  # retried as a network error
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise CollectorError(f"{type(exc).__name__}: {exc}", source=url) from None
        finally:
            self._deadline.stop()

    def _too_slow(self, url: str) -> DeadlineExceededError:
        return DeadlineExceededError(
            f"response not complete after {self.deadline:g} s (server too slow)", source=url
        )

    def _read_body(
        self,
        response: httpx.Response,
        *,
        url: str,
        limit: int,
        started: float,
        truncate: bool = False,
    ) -> tuple[bytes, bool]:
        """The body and whether it was cut at ``limit`` (only when ``truncate``)."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit and not truncate:
            raise CollectorError(
                f"response is {int(declared)} bytes, over the {limit}-byte cap", source=url
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            if size + len(chunk) > limit:
                if not truncate:
                    raise CollectorError(f"response exceeds the {limit}-byte cap", source=url)
                chunks.append(chunk[: limit - size])
                return b"".join(chunks), True
            size += len(chunk)
            chunks.append(chunk)
            if self.monotonic() - started > self.deadline:
                raise self._too_slow(url)
        return b"".join(chunks), False


def _shown(url: str, limit: int = 200) -> str:
    """``url`` fit to quote in a message: control characters escaped, length capped."""
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in url)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _private(host: str, address: str | None, scope: str, *, source: str) -> PrivateAddressError:
    if address is None:
        what = f"{host} is a non-public address ({scope})"
    else:
        what = f"{host} resolves to {address}, a non-public address ({scope})"
    return PrivateAddressError(
        f"refused: {what}",
        source=source,
        hint="mapper fetches only public addresses; pass --allow-private for your own network",
    )


class _AddressRefused(Exception):
    """Internal: the connection was about to go to a non-public address."""

    def __init__(self, host: str, address: str, scope: str) -> None:
        super().__init__(f"{host} -> {address} ({scope})")
        self.host = host
        self.address = address
        self.scope = scope


def _public_addresses(host: str, port: int) -> list[str]:
    """The addresses to connect to for ``host``, each checked to be public.

    Raises
    ------
    _AddressRefused
        One of them is not public.
    httpcore.ConnectError
        The name does not resolve.
    """
    literal = ip_literal(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = resolve_host(host, port)
        except (OSError, UnicodeError, ValueError) as exc:
            raise httpcore.ConnectError(
                f"cannot resolve {host} ({exc}): no network, or no such host"
            ) from None
    for address in addresses:
        scope = address_scope(address)
        if scope != "public":
            raise _AddressRefused(host, address, scope)
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}: no address")
    return addresses


def _redirect_target(url: str, location: str) -> str:
    """Where a redirect from ``url`` points, without its fragment."""
    try:
        target = urljoin(url, location)
        return urlunsplit(urlsplit(target)._replace(fragment=""))
    except ValueError:
        shown = location.encode("unicode_escape").decode()[:200]
        raise CollectorError(f"redirect to an invalid URL: {shown}", source=url) from None


class _Deadline(threading.local):
    """The monotonic time by which the current exchange of this thread must be over."""

    at: float | None = None

    def start(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def stop(self) -> None:
        self.at = None

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def clamp(self, timeout: float | None, error: type[Exception]) -> float | None:
        """``timeout`` shortened to what is left of the deadline (raise ``error`` when
        nothing is)."""
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise error("the deadline of the exchange has passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the exchange's deadline."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        timeout = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._stream.start_tls(ssl_context, server_hostname, timeout), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network backend with the exchange's deadline on every socket call,
    and, unless private addresses are allowed, connections only to public addresses.

    httpx has no overall timeout: its read timeout restarts with every byte, so a
    server sending its status line and headers one byte at a time would hold a
    request for hours. Here each read waits at most what is left of the deadline.

    With ``vet``, the host is resolved here, every address is checked, and the socket
    connects to a checked address (not to the name again), so the address connected
    to is the address checked.
    """

    def __init__(
        self,
        backend: httpcore.NetworkBackend,
        deadline: _Deadline,
        vet: Callable[[str, int], list[str]] | None = None,
    ) -> None:
        self._backend = backend
        self._deadline = deadline
        self._vet = vet

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        if self._vet is None:
            timeout = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
            stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
            return _DeadlineStream(stream, self._deadline)
        failure: Exception | None = None
        for address in self._vet(host, port):
            try:
                limit = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
                stream = self._backend.connect_tcp(
                    address, port, limit, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # try the host's next address, as create_connection does
                continue
            return _DeadlineStream(stream, self._deadline)
        assert failure is not None  # _vet returns at least one address
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        timeout = self._deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_unix_socket(path, timeout, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _deadline_transport(
    deadline: _Deadline, vet: Callable[[str, int], list[str]] | None = None
) -> httpx.HTTPTransport:
    """httpx's default transport, its sockets bounded by ``deadline`` and, with
    ``vet``, connected only to the addresses ``vet`` returns for a host."""
    transport = httpx.HTTPTransport()
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(backend, httpcore.NetworkBackend):  # httpx 0.28 / httpcore 1.0
        pool._network_backend = _DeadlineBackend(backend, deadline, vet)  # type: ignore[union-attr]
    return transport


# --------------------------------------------------------------------------- robots.txt


#: How much of a robots.txt is read; RFC 9309 asks crawlers to parse at least 500 KiB.
ROBOTS_MAX_BYTES = 512 * 1024


class RobotsCache:
    """Answers "may mapper fetch this URL?" from each host's robots.txt, fetched once.

    robots.txt is read through ``client`` (so it gets the same timeouts, caps, address
    checks and User-Agent). Following RFC 9309: a 4xx answer means no rules
    (everything allowed); a robots.txt longer than :data:`ROBOTS_MAX_BYTES` is read
    up to there (up to its last whole line); a 5xx answer, a network failure or a
    refused address means the site's rules cannot be known, and everything on it is
    disallowed for this run, with the reason said (:class:`RobotsUnavailableError`),
    not taken for a rule.

    Parameters
    ----------
    client : HttpClient
        The client to fetch robots.txt with.
    agent : str
        The product token matched against ``User-agent`` lines.
    """

    def __init__(self, client: HttpClient, *, agent: str = "mapper") -> None:
        self.client = client
        self.agent = agent
        self._rules: dict[str, urllib.robotparser.RobotFileParser | CollectorError] = {}

    def _origin_rules(self, url: str) -> urllib.robotparser.RobotFileParser | CollectorError:
        """The parsed robots.txt of ``url``'s site, or the error that kept it unread."""
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        known = self._rules.get(origin)
        if known is not None:
            return known
        robots_url = origin + "/robots.txt"
        rules: urllib.robotparser.RobotFileParser | CollectorError
        try:
            response = self.client.get(
                robots_url, max_bytes=ROBOTS_MAX_BYTES, raise_for_status=False, truncate=True
            )
        except CollectorError as exc:
            rules = exc
        else:
            rules = urllib.robotparser.RobotFileParser(robots_url)
            if response.status >= 400:
                rules.allow_all = True  # type: ignore[attr-defined]
            else:
                text = response.text
                if response.truncated:  # a rule cut in half could say more than it did
                    text = text[: text.rfind("\n") + 1]
                rules.parse(text.splitlines())
        self._rules[origin] = rules
        return rules

    def allowed(self, url: str) -> bool:
        """Return whether robots.txt lets mapper fetch ``url`` (``False`` when the
        site's robots.txt could not be read)."""
        rules = self._origin_rules(url)
        if isinstance(rules, CollectorError):
            return False
        return rules.can_fetch(self.agent, url)

    def check(self, url: str) -> None:
        """Raise when mapper may not fetch ``url``.

        Raises
        ------
        RobotsDisallowedError
            robots.txt forbids it.
        RobotsUnavailableError
            The site's robots.txt could not be read (server error, no network, a
            refused address); the reason is in the message.
        """
        rules = self._origin_rules(url)
        if isinstance(rules, CollectorError):
            parts = urlsplit(url)
            robots_url = f"{parts.scheme.lower()}://{parts.netloc.lower()}/robots.txt"
            reason = rules.message.removeprefix(f"GET {robots_url}: ")
            raise RobotsUnavailableError(
                f"robots.txt could not be read ({robots_url}: {reason}); a site whose "
                "robots.txt cannot be read is treated as closed for this run",
                source=url,
                hint="run again later; pass --ignore-robots only for sites you have "
                "permission to collect",
            )
        if not rules.can_fetch(self.agent, url):
            raise RobotsDisallowedError(
                "robots.txt disallows fetching this page",
                source=url,
                hint="pass --ignore-robots only for pages you have permission to collect",
            )
