"""URL normalization, web entities by longest prefix, and social profile URLs.

A "web entity" is an actor known by where it publishes: a domain (``compass.org.uk``)
or a URL prefix (``example.org/blog``). This module turns any URL into one canonical
form (:func:`normalize_url`) so that the same page written a dozen ways compares
equal, finds the owner of a URL by the longest roster prefix that covers it
(:class:`PrefixIndex`, a handful of dictionary lookups per URL whatever the size of the
roster), and recognizes links to social profiles (``x.com/<handle>``,
``bsky.app/profile/<handle>``, ``<instance>/@<user>``) so that they resolve to the
account's owner (:func:`profile_handle`).

Normalization rules (all of them, in order):

* only ``http``/``https`` or scheme-less URLs (``example.org/x``, ``//example.org/x``)
  are URLs; ``mailto:``, ``javascript:``, ``ftp:`` and garbage give ``None``;
* the scheme, user name/password, fragment and default ports (80, 443) are dropped;
* the host is lowercased and IDNA-encoded (``bücher.de`` -> ``xn--bcher-kva.de``), a
  trailing dot is removed, and the prefixes ``www.``, ``m.``, ``mobile.`` and
  ``amp.`` are removed (repeatedly, as long as a registrable name remains);
  ``twitter.com`` is rewritten to ``x.com``;
* the path keeps its case; non-ASCII characters are percent-encoded, escapes of
  unreserved characters are decoded and other escapes upper-cased, repeated slashes
  are collapsed and a trailing slash is removed;
* query parameters used only for tracking are removed (see :data:`TRACKING_PARAMS`,
  any ``utm_*`` key, and the per-site keys in :data:`SITE_TRACKING_PARAMS`: ``s``
  and ``t`` on ``x.com``, ``si`` and ``feature`` on YouTube); the others are kept,
  sorted by key then value.

The result has no scheme: ``https://www.Example.org/blog/?utm_source=a#top`` becomes
``example.org/blog``.

Prefix matching rules: a prefix covers the URLs whose path continues it at a segment
boundary (``example.org/blog`` covers ``example.org/blog`` and ``example.org/blog/x``
but not ``example.org/blogger``); the longest covering prefix wins; prefixes are
compared case-insensitively (path included); and a bare-domain prefix also covers
its subdomains (``example.org`` covers ``blog.example.org/x``) unless an entry for the
more specific host exists. A path prefix on a parent domain does not cover
subdomains (``example.org/blog`` does not cover ``news.example.org/blog``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

__all__ = [
    "SITE_TRACKING_PARAMS",
    "TRACKING_PARAMS",
    "PrefixIndex",
    "normalize_url",
    "prefix_key",
    "profile_handle",
    "split_normalized",
    "url_domain",
]

#: Query keys removed everywhere (compared case-insensitively). Any key starting with
#: ``utm_`` is removed too.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "__twitter_impression",
    }
)

#: Query keys removed only on one site (the host after normalization), because
#: elsewhere they carry meaning (``s`` is a search query, ``t`` a time offset).
SITE_TRACKING_PARAMS: dict[str, frozenset[str]] = {
    "x.com": frozenset({"s", "t"}),
    "youtube.com": frozenset({"si", "feature"}),
    "youtu.be": frozenset({"si", "feature"}),
}

_STRIPPED_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")
_HOST_ALIASES = {"twitter.com": "x.com"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SLASHES = re.compile(r"/{2,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = "!$&'()*+,/:;=@%~-._[]"
_QUERY_SAFE = "!$'()*,/:;@~-._"
_MAX_URL = 16384

# Paths on x.com whose first segment is not a user name.
_X_RESERVED = frozenset(
    {
        "home",
        "i",
        "intent",
        "share",
        "search",
        "hashtag",
        "explore",
        "settings",
        "notifications",
        "messages",
        "compose",
        "login",
        "logout",
        "signup",
        "tos",
        "privacy",
        "about",
        "download",
        "jobs",
        "account",
        "oauth",
        "widgets",
        "status",
        "statuses",
    }
)
_X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,50}$")
# Sites that use ``/@name`` paths but are not Mastodon servers.
_NOT_MASTODON = frozenset(
    {"x.com", "bsky.app", "medium.com", "youtube.com", "tiktok.com", "threads.net", "threads.com"}
)


def _fix_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _normalize_escapes(text: str, safe: str) -> str:
    text = quote(text, safe=safe)
    text = _STRAY_PCT.sub("%25", text)
    return _PCT.sub(_fix_escape, text)


def _normalize_host(raw: str) -> str | None:
    host = raw.strip().rstrip(".")
    if not host:
        return None
    if ":" in host:  # IPv6 literal (urlsplit removed the brackets)
        return f"[{ipaddress.IPv6Address(host).compressed}]"
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    host = host.lower().rstrip(".")
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        return None
    if len(labels) < 2 and host != "localhost":
        return None
    stripped = True
    while stripped:
        stripped = False
        for prefix in _STRIPPED_HOST_PREFIXES:
            if host.startswith(prefix) and "." in host[len(prefix) :]:
                host = host[len(prefix) :]
                stripped = True
    return _HOST_ALIASES.get(host, host)


def normalize_url(url: object) -> str | None:
    """Return the canonical, scheme-less form of ``url``, or ``None`` if it is not a URL.

    Parameters
    ----------
    url : str
        An absolute URL (``https://...``), a protocol-relative one (``//host/path``) or
        a bare ``host/path``. Anything else (including non-strings) gives ``None``;
        this function never raises.

    Returns
    -------
    str or None
        ``host[:port][/path][?query]`` following the module's rules.

    Examples
    --------
    >>> normalize_url("https://www.Example.org/blog/?utm_source=a&b=2&a=1#top")
    'example.org/blog?a=1&b=2'
    >>> normalize_url("https://twitter.com/OwenJones84?s=20")
    'x.com/OwenJones84'
    >>> normalize_url("mailto:someone@example.org") is None
    True
    """
    if not isinstance(url, str):
        return None
    return _normalize_cached(url)


@lru_cache(maxsize=1 << 16)
def _normalize_cached(url: str) -> str | None:
    # Corpora link the same pages over and over: the cache makes repeats a dict lookup.
    try:
        return _normalize(url)
    except (ValueError, UnicodeError):
        return None


def _normalize(url: str) -> str | None:
    text = url.strip()
    if not text or len(text) > _MAX_URL:
        return None
    if _CONTROL.search(text):
        return None
    lowered = text[:32].lower()
    if lowered.startswith("//"):
        text = "http:" + text
    else:
        scheme = _SCHEME.match(lowered)
        if scheme and lowered[scheme.end() :].startswith("//"):
            if scheme.group(1) not in ("http", "https"):
                return None
        elif scheme and not lowered[scheme.end() :][:1].isdigit():
            return None  # mailto:, javascript:, data:, tel: ...
        else:
            text = "http://" + text
    parts = urlsplit(text)
    if parts.hostname is None:
        return None
    host = _normalize_host(parts.hostname)
    if host is None:
        return None
    port = parts.port
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    path = _SLASHES.sub("/", _normalize_escapes(parts.path, _PATH_SAFE)).rstrip("/")
    if path and not path.startswith("/"):
        path = "/" + path
    query = ""
    if parts.query:
        site_params = SITE_TRACKING_PARAMS.get(host, frozenset())
        kept = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            folded = key.lower()
            if folded.startswith("utm_") or folded in TRACKING_PARAMS or folded in site_params:
                continue
            kept.append((key, value))
        kept.sort()
        query = urlencode(kept, quote_via=quote, safe=_QUERY_SAFE)
        query = _PCT.sub(_fix_escape, query)
    return host + path + ("?" + query if query else "")


def split_normalized(normalized: str) -> tuple[str, list[str], str]:
    """Split a normalized URL into ``(host, path segments, query)``.

    The host keeps a non-default port (``localhost:8080``). ``normalized`` must come from
    :func:`normalize_url`.
    """
    rest, _, query = normalized.partition("?")
    host, _, path = rest.partition("/")
    segments = [s for s in path.split("/") if s] if path else []
    return host, segments, query


def url_domain(url: str) -> str | None:
    """Return the normalized host of ``url`` without port (``None`` if not a URL).

    >>> url_domain("https://www.compass.org.uk/about/?ref=x")
    'compass.org.uk'
    """
    normalized = normalize_url(url)
    if normalized is None:
        return None
    host = split_normalized(normalized)[0]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def prefix_key(prefix: str) -> str | None:
    """Return the lookup key of a roster prefix (``None`` if it is not a URL).

    The key is the normalized URL without query or port, lowercased:
    ``https://www.Example.org/Blog/`` -> ``example.org/blog``.
    """
    normalized = normalize_url(prefix)
    if normalized is None:
        return None
    host, segments, _ = split_normalized(normalized.lower())
    if host.startswith("["):
        host = host.split("]", 1)[0] + "]"
    elif ":" in host:
        host = host.rsplit(":", 1)[0]
    return "/".join([host, *segments])


class PrefixIndex:
    """Map URL prefixes to values (actor ids) with longest-matching-prefix lookup.

    Parameters
    ----------
    items : iterable of (prefix, value), optional
        Initial entries, added with :meth:`add`.

    Notes
    -----
    A lookup normalizes the URL once, then tries the host with successively shorter
    path prefixes (longest first) and then the parent domains of the host, each a
    dictionary lookup: ``O(depth + labels)`` per URL whatever the number of entries.
    See the module docstring for the covering rules.

    Examples
    --------
    >>> index = PrefixIndex([("example.org", "org"), ("example.org/blog", "blog")])
    >>> index.lookup("https://www.example.org/blog/post-1?utm_source=x")
    'blog'
    >>> index.lookup("https://example.org/blogger")
    'org'
    >>> index.lookup("https://news.example.org/today")
    'org'
    """

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._entries: dict[str, str] = {}
        self._max_depth = 0
        for prefix, value in items:
            self.add(prefix, value)

    def add(self, prefix: str, value: str) -> str:
        """Add ``prefix`` for ``value`` and return its key.

        Raises
        ------
        ValueError
            If ``prefix`` is not a URL, or its key already belongs to another value.
        """
        key = prefix_key(prefix)
        if key is None:
            raise ValueError(f"not a domain or URL prefix: {prefix!r}")
        owner = self._entries.get(key)
        if owner is not None and owner != value:
            raise ValueError(f"prefix {key!r} already belongs to {owner!r}")
        self._entries[key] = value
        self._max_depth = max(self._max_depth, key.count("/"))
        return key

    def get(self, prefix: str) -> str | None:
        """Return the value stored for exactly this prefix (not a longest match)."""
        key = prefix_key(prefix)
        return None if key is None else self._entries.get(key)

    def match(self, url: str) -> tuple[str, str] | None:
        """Return ``(prefix key, value)`` of the longest prefix covering ``url``, or ``None``."""
        key = prefix_key(url)
        if key is None or not self._entries:
            return None
        host, _, path = key.partition("/")
        entries = self._entries
        if path:
            segments = path.split("/")[: self._max_depth]
            for depth in range(len(segments), 0, -1):
                candidate = host + "/" + "/".join(segments[:depth])
                value = entries.get(candidate)
                if value is not None:
                    return candidate, value
        value = entries.get(host)
        if value is not None:
            return host, value
        if host.startswith("["):
            return None
        labels = host.split(".")
        for start in range(1, len(labels) - 1):
            parent = ".".join(labels[start:])
            value = entries.get(parent)
            if value is not None:
                return parent, value
        return None

    def lookup(self, url: str) -> str | None:
        """Return the value of the longest prefix covering ``url``, or ``None``."""
        found = self.match(url)
        return None if found is None else found[1]

    def items(self) -> Iterator[tuple[str, str]]:
        """Iterate over ``(prefix key, value)`` pairs."""
        return iter(self._entries.items())

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, prefix: object) -> bool:
        return isinstance(prefix, str) and self.get(prefix) is not None


def profile_handle(url: str) -> tuple[str, str] | None:
    """Recognize a link to a social account and return ``(platform, handle)``.

    Parameters
    ----------
    url : str
        Any URL.

    Returns
    -------
    tuple of (str, str) or None
        ``("x", "OwenJones84")`` for ``x.com/OwenJones84`` or
        ``twitter.com/OwenJones84/status/1`` (a link to a post points at its author);
        ``("bluesky", "name.bsky.social")`` for ``bsky.app/profile/name.bsky.social``;
        ``("mastodon", "user@instance")`` for ``instance/@user`` (or
        ``instance/@user@other``); ``None`` otherwise. Handles keep their case.

    Examples
    --------
    >>> profile_handle("https://mobile.twitter.com/OwenJones84/status/123")
    ('x', 'OwenJones84')
    >>> profile_handle("https://mastodon.social/@someone/1098")
    ('mastodon', 'someone@mastodon.social')
    """
    normalized = normalize_url(url)
    if normalized is None:
        return None
    host, segments, _ = split_normalized(normalized)
    if not segments:
        return None
    first = segments[0]
    if host == "x.com":
        if _X_HANDLE.match(first) and first.lower() not in _X_RESERVED:
            return "x", first
        return None
    if host == "bsky.app":
        if first == "profile" and len(segments) > 1:
            return "bluesky", segments[1]
        return None
    if first.startswith("@") and len(first) > 1 and host not in _NOT_MASTODON:
        user = first[1:]
        if ":" in host:
            return None
        if "@" in user:
            name, _, instance = user.partition("@")
            return ("mastodon", user) if name and "." in instance else None
        return "mastodon", f"{user}@{host}"
    return None
