"""Tabular and graph-file inputs: edge tables, node tables, post tables and ready-made
graphs (GEXF, GraphML, GML: :mod:`mapper.collectors.graph_files`), plus the free-text
entity extractor other collectors share.

An *edge table* is a CSV with one relation a row (``source``, ``target`` and optional
``weight``, ``type``, ``time``, ``url``; Gephi's ``Source``/``Target``/``Weight`` and
NodeXL's ``Vertex 1``/``Vertex 2``/``Relationship`` are understood). Each row becomes a
``Post`` on platform ``table`` whose author is the source key and whose one reference
points at the target key, so edge tables go through the same store, resolver and graph
as collected posts. A *post table* (CSV or JSONL, as exported by 4CAT-like tools) holds
one post a row; mentions, hashtags and links are extracted from its text with
:func:`extract_entities`. Bad rows never stop a read: they go to the ``on_bad``
callback with their line number (for the store's quarantine); a file that is unusable
as a whole (empty, a required column missing, not the format its extension says)
raises :class:`~mapper.errors.ImportFormatError` naming the file.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import orjson

from mapper import __version__
from mapper.collectors.base import CollectResult, import_file
from mapper.collectors.graph_files import read_graph_file
from mapper.errors import ImportFormatError
from mapper.records import Post, Provenance, Reference, utc
from mapper.store import Store

__all__ = [
    "DEFAULT_KIND_TYPES",
    "EDGE_KIND_ALIASES",
    "Entities",
    "Entity",
    "extract_entities",
    "import_edge_table",
    "import_post_table",
    "iter_edge_table",
    "iter_post_table",
    "parse_time",
    "read_graph_file",
    "read_node_table",
    "snippet_around",
]

#: ``on_bad(line, reason, raw)``: called for every row that is set aside.
OnBad = Callable[[int, str, str], None]

COLLECTOR = "table"
SNIPPET_WIDTH = 140

# --------------------------------------------------------------------------- entities

# X handles: 1-15 of [A-Za-z0-9_]; not preceded by a word character (e-mail addresses),
# "/" (URL paths) or "@"; not followed by more handle characters (a 16th character
# means it is not a handle at all).
_MENTION_X = re.compile(r"(?<![\w@/.&+])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])")
# Other platforms: dotted handles (alice.bsky.social) and Fediverse user@instance.
_MENTION_ANY = re.compile(
    r"(?<![\w@/.&+])@([A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?"
    r"(?:@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?\.[A-Za-z]{2,})?)"
)
# Hashtags need one letter (#1 is not a tag); "&#39;" and "page#anchor" are not tags.
_HASHTAG = re.compile(r"(?<![\w&#/])[#＃](\w*[^\W\d_]\w*)")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`{}|\\^]+")
_URL_TRAIL = ".,;:!?'\"…»"


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity found in text: ``kind`` is ``mention``, ``hashtag`` or ``url``;
    ``value`` is the handle (no ``@``), the tag (lowercased, no ``#``) or the URL;
    ``start``/``end`` are character offsets of the match in the text."""

    kind: str
    value: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Entities:
    """What :func:`extract_entities` found.

    ``mentions``, ``hashtags`` and ``urls`` are distinct values in order of first
    appearance (mentions and hashtags compared case-insensitively); ``spans`` lists
    every match, in text order.
    """

    mentions: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    spans: tuple[Entity, ...] = ()

    def first(self, kind: str, value: str) -> Entity | None:
        """The first span of ``kind`` whose value equals ``value`` (case-insensitively)."""
        low = value.lower()
        for span in self.spans:
            if span.kind == kind and span.value.lower() == low:
                return span
        return None


def _trim_url(url: str) -> str:
    while url:
        last = url[-1]
        if (
            last in _URL_TRAIL
            or (last == ")" and url.count("(") < url.count(")"))
            or (last == "]" and url.count("[") < url.count("]"))
        ):
            url = url[:-1]
        else:
            break
    return url


def extract_entities(text: str, *, platform: str | None = None) -> Entities:
    """Find @handles, #hashtags and URLs in free text.

    Parameters
    ----------
    text : str
        The post's text.
    platform : str, optional
        ``"x"`` (or ``"twitter"``) restricts handles to X's rules (1-15 letters, digits
        or ``_``); otherwise dotted handles (``@alice.bsky.social``) and Fediverse
        addresses (``@user@instance.social``) are recognised too.

    Returns
    -------
    Entities
        Distinct mentions, hashtags (lowercased, without ``#``) and URLs (``www.``
        links get ``http://``), plus every span. Handles and tags inside URLs and
        e-mail addresses are not entities.

    Examples
    --------
    >>> e = extract_entities("Thanks @OwenJones84 for https://example.org/a. #NHS #nhs")
    >>> e.mentions, e.hashtags, e.urls
    (('OwenJones84',), ('nhs',), ('https://example.org/a',))
    """
    if not text:
        return Entities()
    spans: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for m in _URL.finditer(text):
        url = _trim_url(m.group(0))
        if len(url) < 8 or "." not in url:
            continue
        end = m.start() + len(url)
        if url[:4].lower() == "www.":
            url = "http://" + url
        spans.append(Entity("url", url, m.start(), end))
        taken.append((m.start(), end))

    def inside_url(pos: int) -> bool:
        return any(a <= pos < b for a, b in taken)

    mention_re = _MENTION_X if platform in ("x", "twitter") else _MENTION_ANY
    if "@" in text:
        for m in mention_re.finditer(text):
            if not inside_url(m.start()):
                spans.append(Entity("mention", m.group(1), m.start(), m.end()))
    if "#" in text or "＃" in text:
        for m in _HASHTAG.finditer(text):
            if not inside_url(m.start()):
                spans.append(Entity("hashtag", m.group(1).lower(), m.start(), m.end()))
    spans.sort(key=lambda s: s.start)
    return Entities(
        mentions=_distinct(s.value for s in spans if s.kind == "mention"),
        hashtags=_distinct(s.value for s in spans if s.kind == "hashtag"),
        urls=_distinct((s.value for s in spans if s.kind == "url"), fold=False),
        spans=tuple(spans),
    )


def _distinct(values: Iterable[str], *, fold: bool = True) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for v in values:
        key = v.lower() if fold else v
        if key not in seen:
            seen.add(key)
            out.append(v)
    return tuple(out)


def snippet_around(
    text: str, start: int | None = None, end: int | None = None, width: int = SNIPPET_WIDTH
) -> str:
    """About ``width`` characters of ``text`` centred on ``text[start:end]``.

    Whitespace runs become single spaces; a cut end is marked with ``…``. Without a
    position, the start of the text is used.

    >>> snippet_around("a " * 100, 100, 101, width=10)
    '… a a a a a …'
    """
    if not text:
        return ""
    n = len(text)
    if n <= width:
        return " ".join(text.split())
    if start is None or not 0 <= start <= n:
        start = end = 0
    if end is None or end < start:
        end = start
    centre = (start + min(end, n)) // 2
    lo = max(0, centre - width // 2)
    hi = min(n, lo + width)
    lo = max(0, hi - width)
    piece = " ".join(text[lo:hi].split())
    if lo > 0:
        piece = "…" + piece
    if hi < n:
        piece += "…"
    return piece


# --------------------------------------------------------------------------- times


def parse_time(value: Any) -> datetime | None:
    """Parse a time cell: ISO 8601, Unix seconds (or milliseconds), RFC 2822, or X v1's
    ``Wed Oct 10 20:19:24 +0000 2018``. Naive times are taken as UTC.

    Returns ``None`` for an empty value; raises ``ValueError`` for anything else it
    cannot read.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    s = str(value).strip()
    if not s:
        return None
    try:
        return utc(datetime.fromisoformat(s))
    except ValueError:
        pass
    try:
        return _from_epoch(float(s))
    except ValueError:
        pass
    for fmt in ("%a %b %d %H:%M:%S %z %Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            return utc(datetime.strptime(s, fmt))
        except ValueError:
            pass
    try:
        return utc(parsedate_to_datetime(s))
    except (TypeError, ValueError, IndexError):
        pass
    raise ValueError(f"not a time: {s!r}")


def _from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds):
        raise ValueError(f"not a time: {seconds!r}")
    if abs(seconds) > 1e11:  # milliseconds
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"not a time: {seconds!r}") from exc


# --------------------------------------------------------------------------- CSV reading


def _norm_header(name: str) -> str:
    """``"Tweet Date (UTC)"`` -> ``"tweet date utc"``; ``"author_id"`` -> ``"author id"``."""
    name = name.replace("\ufeff", "").lower()
    return " ".join(re.split(r"[\W_]+", name)).strip()


_EDGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "source": ("source", "from", "src", "sender", "vertex 1", "vertex1", "source id", "author"),
    "target": ("target", "to", "dst", "receiver", "vertex 2", "vertex2", "target id"),
    "weight": ("weight", "value", "count", "edge weight", "w"),
    "type": ("type", "kind", "relationship", "edge type", "interaction", "relation"),
    "time": (
        "time",
        "when",
        "timestamp",
        "date",
        "datetime",
        "created at",
        "relationship date utc",
        "tweet date utc",
    ),
    "url": ("url", "link", "permalink", "evidence", "twitter page for tweet"),
}

#: Edge-table ``type`` values and the reference kind each means (keys without spaces,
#: ``_`` or ``-``, lowercased). Empty cells and the values of :data:`DEFAULT_KIND_TYPES`
#: (Gephi's ``Type`` column says ``Directed``/``Undirected``) mean the default kind.
EDGE_KIND_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        ("mention", "mentions", "mentioned", "mentionsinretweet", "mentionsinreply", "at"),
        "mention",
    ),
    **dict.fromkeys(
        ("reply", "replies", "repliesto", "replyto", "replied", "repliedto", "inreplyto"),
        "reply",
    ),
    **dict.fromkeys(
        ("repost", "reposts", "reposted", "retweet", "retweets", "retweeted", "rt"), "repost"
    ),
    **dict.fromkeys(("boost", "boosted", "reblog", "reblogged", "share", "shared"), "repost"),
    **dict.fromkeys(("quote", "quotes", "quoted", "quotetweet", "quotepost"), "quote"),
    **dict.fromkeys(("link", "links", "linked", "linksto", "hyperlink", "url"), "link"),
    **dict.fromkeys(("name", "named", "namecheck"), "name"),
}
#: ``type`` values that say nothing about the kind of reference.
DEFAULT_KIND_TYPES = frozenset(("", "directed", "undirected", "mutual", "edge"))


def _open_text_lines(path: Path, bad_lines: set[int]) -> Iterator[str]:
    """Decode a file line by line as UTF-8; undecodable lines and NUL bytes are
    replaced and their numbers added to ``bad_lines``."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                bad_lines.add(number)
                text = raw.decode("utf-8", errors="replace")
            if "\x00" in text:
                bad_lines.add(number)
                text = text.replace("\x00", "")
            yield text


def _sniff_delimiter(header: str, path: Path) -> str:
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass
class _Table:
    """A CSV opened for row-by-row reading with normalized headers."""

    path: Path
    header: list[str]
    columns: dict[str, int]  # normalized header -> index
    delimiter: str
    #: (line, cells or None, reason): a non-empty reason means the row is bad.
    rows: Iterator[tuple[int, list[str] | None, str]]

    def find(self, aliases: tuple[str, ...]) -> int | None:
        for alias in aliases:
            if alias in self.columns:
                return self.columns[alias]
        return None


def _open_csv(path: Path) -> _Table:
    bad_lines: set[int] = set()
    try:
        lines = _LineCounter(_open_text_lines(path, bad_lines))
        first = next(lines, None)
        while first is not None and not first.strip():
            first = next(lines, None)
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=path) from exc
    if first is None:
        raise ImportFormatError("empty file", source=path, hint="expected a CSV with a header")
    delimiter = _sniff_delimiter(first, path)
    try:
        header_cells = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error as exc:
        raise ImportFormatError(
            f"unreadable header: {exc}", source=path, line=lines.count
        ) from None
    header = [h.replace("\ufeff", "").strip() for h in header_cells]
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        columns.setdefault(_norm_header(name), index)

    def rows() -> Iterator[tuple[int, list[str] | None, str]]:
        reader = csv.reader(lines, delimiter=delimiter)
        while True:
            start = lines.count + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except OSError as exc:
                raise ImportFormatError(
                    f"cannot read: {exc.strerror or exc}", source=path, line=start
                ) from exc
            except csv.Error as exc:
                yield start, None, f"unreadable CSV row: {exc}"
                continue
            if not cells or all(not c.strip() for c in cells):
                continue
            if any(n in bad_lines for n in range(start, lines.count + 1)):
                yield start, cells, "invalid UTF-8 or NUL byte in row"
                continue
            yield start, cells, ""

    return _Table(path, header, columns, delimiter, rows())


class _LineCounter:
    """An iterator over lines that counts how many were handed out."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.count = 0

    def __iter__(self) -> _LineCounter:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.count += 1
        return line


def _require(table: _Table, role: str, aliases: tuple[str, ...]) -> int:
    index = table.find(aliases)
    if index is None:
        raise ImportFormatError(
            f"no {role!r} column",
            source=table.path,
            field=role,
            hint=f"found columns {table.header!r}; accepted names: {', '.join(aliases)}",
        )
    return index


def _cell(cells: list[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


def _raw_row(cells: list[str] | None, delimiter: str = ",") -> str:
    if cells is None:
        return ""
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerow(cells)
    return buf.getvalue().rstrip("\r\n")[:2048]


# --------------------------------------------------------------------------- edge tables


def read_node_table(path: str | Path, *, on_bad: OnBad | None = None) -> dict[str, dict[str, str]]:
    """Read a node table (CSV) into ``{node key: {column: value}}``.

    The key column is the first of ``id``, ``key``, ``node``, ``vertex``, ``name``,
    ``username``, ``handle`` (case-insensitive); every other non-empty cell becomes an
    attribute named by its lowercased header. A repeated key keeps its first row (the
    repeat goes to ``on_bad``).

    Raises
    ------
    ImportFormatError
        When the file is empty or has no key column.
    """
    p = Path(path)
    table = _open_csv(p)
    key_index = _require(table, "id", ("id", "key", "node", "vertex", "name", "username", "handle"))
    names = [h.strip().lower() for h in table.header]
    nodes: dict[str, dict[str, str]] = {}
    for line, cells, reason in table.rows:
        if reason or cells is None:
            if on_bad:
                on_bad(line, reason, _raw_row(cells, table.delimiter))
            continue
        key = _cell(cells, key_index)
        if not key:
            if on_bad:
                on_bad(line, "empty node id", _raw_row(cells, table.delimiter))
            continue
        if key in nodes:
            if on_bad:
                reason = f"node {key!r} repeated (first row kept)"
                on_bad(line, reason, _raw_row(cells, table.delimiter))
            continue
        attrs: dict[str, str] = {}
        for index, value in enumerate(cells):
            if index == key_index or index >= len(names):
                continue
            value = value.strip()
            if value and names[index] not in attrs:
                attrs[names[index]] = value
        nodes[key] = attrs
    return nodes


def iter_edge_table(
    path: str | Path,
    *,
    nodes_path: str | Path | None = None,
    on_bad: OnBad | None = None,
    default_kind: str = "mention",
) -> Iterator[Post]:
    """Read an edge table (CSV) as posts on platform ``table``, one a row.

    Parameters
    ----------
    path : str or Path
        CSV (``,``, ``;``, tab or ``|`` separated; UTF-8) with a header. Required
        columns ``source`` and ``target``; optional ``weight``, ``type``, ``time``,
        ``url``. Headers are case-insensitive and common aliases are accepted
        (Gephi ``Source``/``Target``/``Weight``/``Type``, NodeXL ``Vertex 1``/
        ``Vertex 2``/``Relationship``).
    nodes_path : str or Path, optional
        A node table (see :func:`read_node_table`). Its ``label`` (or ``name``)
        becomes the post's ``author_name``, and rows whose source or target is not in
        it are set aside.
    on_bad : callable, optional
        ``on_bad(line, reason, raw_row)`` for each row set aside.
    default_kind : str
        The reference kind for rows without a type (default ``mention``).

    Yields
    ------
    Post
        ``uid`` ``table:<file name>:<line>``, ``author`` the source key, one
        ``Reference(kind, target key, weight=weight)``, ``created_at`` from ``time``,
        ``url`` from ``url``.

    Raises
    ------
    ImportFormatError
        When the file is empty or a required column is missing (naming the column).

    Notes
    -----
    ``type`` values are mapped through :data:`EDGE_KIND_ALIASES` (``retweet`` is a
    ``repost``, ``Replies to`` a ``reply``...); Gephi's ``Directed``/``Undirected``
    mean the default kind. A weight must be a finite number >= 0; an empty weight
    leaves the graph's per-type weight in force.
    """
    p = Path(path)
    table = _open_csv(p)
    src_i = _require(table, "source", _EDGE_COLUMNS["source"])
    tgt_i = _require(table, "target", _EDGE_COLUMNS["target"])
    w_i = table.find(_EDGE_COLUMNS["weight"])
    type_i = table.find(_EDGE_COLUMNS["type"])
    time_i = table.find(_EDGE_COLUMNS["time"])
    url_i = table.find(_EDGE_COLUMNS["url"])
    nodes = read_node_table(nodes_path) if nodes_path is not None else None
    source = os.path.abspath(p)
    name = p.name
    return _edge_rows(
        table, nodes, source, name, on_bad, default_kind, src_i, tgt_i, w_i, type_i, time_i, url_i
    )


def _edge_rows(
    table: _Table,
    nodes: Mapping[str, Mapping[str, str]] | None,
    source: str,
    name: str,
    on_bad: OnBad | None,
    default_kind: str,
    src_i: int,
    tgt_i: int,
    w_i: int | None,
    type_i: int | None,
    time_i: int | None,
    url_i: int | None,
) -> Iterator[Post]:
    def bad(line: int, reason: str, cells: list[str] | None) -> None:
        if on_bad is not None:
            on_bad(line, reason, _raw_row(cells, table.delimiter))

    for line, cells, reason in table.rows:
        if reason or cells is None:
            bad(line, reason, cells)
            continue
        src = _cell(cells, src_i)
        tgt = _cell(cells, tgt_i)
        if not src or not tgt:
            bad(line, f"empty {'source' if not src else 'target'}", cells)
            continue
        if nodes is not None:
            missing = [k for k in (src, tgt) if k not in nodes]
            if missing:
                bad(line, f"node {missing[0]!r} is not in the node table", cells)
                continue
        weight: float | None = None
        w_text = _cell(cells, w_i)
        if w_text:
            try:
                weight = float(w_text.replace(",", ".") if w_text.count(",") == 1 else w_text)
            except ValueError:
                bad(line, f"weight {w_text!r} is not a number", cells)
                continue
            if not math.isfinite(weight) or weight < 0:
                bad(line, f"weight {w_text!r} is not a finite number >= 0", cells)
                continue
        type_text = _cell(cells, type_i)
        type_key = re.sub(r"[\s_\-]+", "", type_text.lower())
        if type_key in DEFAULT_KIND_TYPES:
            kind = default_kind
        else:
            found = EDGE_KIND_ALIASES.get(type_key)
            if found is None:
                bad(
                    line,
                    f"unknown edge type {type_text!r} (use mention, reply, repost, quote, link)",
                    cells,
                )
                continue
            kind = found
        try:
            when = parse_time(_cell(cells, time_i))
        except ValueError as exc:
            bad(line, str(exc), cells)
            continue
        author_name = ""
        if nodes is not None:
            attrs = nodes[src]
            author_name = attrs.get("label") or attrs.get("name") or ""
        yield Post(
            uid=f"table:{name}:{line}",
            platform="table",
            author=src,
            created_at=when,
            url=_cell(cells, url_i),
            author_name=author_name,
            references=(Reference(kind=kind, target=tgt, weight=weight),),
            provenance=Provenance(COLLECTOR, __version__, source, line),
        )


# --------------------------------------------------------------------------- post tables

_POST_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "post id", "item id", "tweet id", "status id", "uri"),
    "author": (
        "author",
        "username",
        "author username",
        "author handle",
        "screen name",
        "user screen name",
        "handle",
        "user",
        "account",
        "from user",
    ),
    "author_name": ("author fullname", "author name", "display name", "author display name"),
    "author_id": ("author id", "user id", "author did"),
    "text": ("text", "body", "content", "full text", "message", "tweet", "post"),
    "created_at": ("created at", "timestamp", "date", "time", "published", "datetime"),
    "url": ("url", "link", "permalink", "post url"),
    "platform": ("platform", "network", "datasource"),
    "language": ("lang", "language", "language guess"),
    "mentions": ("mentions",),
    "hashtags": ("hashtags", "tags"),
    "urls": ("urls", "links"),
}

_PLATFORM_ALIASES = {"twitter": "x", "x.com": "x", "twitter.com": "x", "bsky": "bluesky"}


def _norm_platform(value: str) -> str:
    v = value.strip().lower()
    return _PLATFORM_ALIASES.get(v, v)


def iter_post_table(
    path: str | Path,
    *,
    platform: str | None = None,
    on_bad: OnBad | None = None,
) -> Iterator[Post]:
    """Read a table of posts (CSV or JSONL) and extract their references from the text.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.tsv`` or ``.jsonl``/``.ndjson`` (other extensions are sniffed). The
        columns (or keys) ``author`` and ``text`` are required (aliases such as
        ``username``, ``body``, ``content`` accepted); ``id``, ``created_at``
        (``timestamp``), ``url``, ``platform``, ``author_id``, ``author_name``,
        ``lang`` and list columns ``mentions``, ``hashtags``, ``urls`` (comma
        separated) are used when present.
    platform : str, optional
        The platform when the table has no ``platform`` column (``twitter`` means
        ``x``).
    on_bad : callable, optional
        ``on_bad(line, reason, raw)`` for each row set aside (missing author or text,
        unreadable time, broken JSON).

    Yields
    ------
    Post
        ``uid`` ``<platform>:<id>`` when both are known (so the same post from an
        archive and a table is stored once), else ``table:<file name>:<line>``.
        References: one ``mention`` per distinct handle and one ``link`` per distinct
        URL, each with a snippet; ``tags`` are the hashtags.

    Raises
    ------
    ImportFormatError
        When the file is empty, has no author or text column, or (JSONL) no line is
        a JSON object.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        is_json = True
    elif suffix in (".csv", ".tsv", ".tab"):
        is_json = False
    else:
        try:
            with open(p, "rb") as fh:
                head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        except OSError as exc:
            raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=p) from exc
        is_json = head.startswith(b"{")
    default_platform = _norm_platform(platform) if platform else None
    source = os.path.abspath(p)
    if is_json:
        return _post_json_rows(p, source, default_platform, on_bad)
    table = _open_csv(p)
    idx = {role: table.find(aliases) for role, aliases in _POST_COLUMNS.items()}
    _require(table, "author", _POST_COLUMNS["author"])
    _require(table, "text", _POST_COLUMNS["text"])
    return _post_csv_rows(table, idx, source, default_platform, on_bad)


def _post_csv_rows(
    table: _Table,
    idx: Mapping[str, int | None],
    source: str,
    default_platform: str | None,
    on_bad: OnBad | None,
) -> Iterator[Post]:
    for line, cells, reason in table.rows:
        if reason or cells is None:
            if on_bad:
                on_bad(line, reason, _raw_row(cells, table.delimiter))
            continue
        row = {role: _cell(cells, i) for role, i in idx.items()}
        post_or_reason = _post_from_row(row, line, table.path.name, source, default_platform)
        if isinstance(post_or_reason, str):
            if on_bad:
                on_bad(line, post_or_reason, _raw_row(cells, table.delimiter))
            continue
        yield post_or_reason


def _post_json_rows(
    path: Path, source: str, default_platform: str | None, on_bad: OnBad | None
) -> Iterator[Post]:
    readable = 0
    alias_of = {alias: role for role, aliases in _POST_COLUMNS.items() for alias in aliases}
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below; open errors differ
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=path) from exc
    with fh:
        for line, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                if on_bad:
                    on_bad(line, f"invalid JSON: {exc}", raw[:2048].decode("utf-8", "replace"))
                continue
            if not isinstance(obj, dict):
                if on_bad:
                    on_bad(line, "not a JSON object", raw[:2048].decode("utf-8", "replace"))
                continue
            readable += 1
            row: dict[str, Any] = {}
            for key, value in obj.items():
                role = alias_of.get(_norm_header(str(key)))
                if role is not None and role not in row and value is not None:
                    row[role] = value
            post_or_reason = _post_from_row(row, line, path.name, source, default_platform)
            if isinstance(post_or_reason, str):
                if on_bad:
                    on_bad(line, post_or_reason, raw[:2048].decode("utf-8", "replace"))
                continue
            yield post_or_reason
    if readable == 0:
        raise ImportFormatError(
            "no JSON object found", source=path, hint="expected one post object a line"
        )


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _post_from_row(
    row: Mapping[str, Any], line: int, name: str, source: str, default_platform: str | None
) -> Post | str:
    author = _text(row.get("author")).lstrip("@")
    text = row.get("text")
    text = "" if text is None else str(text)
    if not author:
        return "empty author"
    if not text.strip():
        return "empty text"
    try:
        created = parse_time(row.get("created_at"))
    except ValueError as exc:
        return str(exc)
    plat_cell = _text(row.get("platform"))
    platform = _norm_platform(plat_cell) if plat_cell else default_platform
    post_id = _text(row.get("id"))
    uid = f"{platform}:{post_id}" if platform and post_id else f"table:{name}:{line}"
    platform = platform or "table"
    entities = extract_entities(text, platform=platform)
    refs: list[Reference] = []
    seen: set[str] = set()
    for handle in (*entities.mentions, *(h.lstrip("@") for h in _as_list(row.get("mentions")))):
        key = handle.lower()
        if not handle or key in seen or key == author.lower():
            continue
        seen.add(key)
        span = entities.first("mention", handle)
        snippet = snippet_around(text, span.start, span.end) if span else snippet_around(text)
        refs.append(Reference("mention", handle, snippet=snippet))
    seen_urls: set[str] = set()
    for url in (*entities.urls, *_as_list(row.get("urls"))):
        if url in seen_urls:
            continue
        seen_urls.add(url)
        span = entities.first("url", url)
        snippet = snippet_around(text, span.start, span.end) if span else snippet_around(text)
        refs.append(Reference("link", url, snippet=snippet))
    tags = _distinct(
        (*entities.hashtags, *(t.lstrip("#").lower() for t in _as_list(row.get("hashtags"))))
    )
    lang = _text(row.get("language")) or None
    author_id = _text(row.get("author_id")) or None
    return Post(
        uid=uid,
        platform=platform,
        author=author,
        created_at=created,
        text=text,
        url=_text(row.get("url")),
        author_id=author_id,
        author_name=_text(row.get("author_name")),
        language=lang,
        references=tuple(refs),
        tags=tags,
        provenance=Provenance(COLLECTOR, __version__, source, line),
    )


# --------------------------------------------------------------------------- importers


def import_edge_table(
    store: Store,
    path: str | Path,
    *,
    force: bool = False,
    nodes_path: str | Path | None = None,
    default_kind: str = "mention",
) -> CollectResult:
    """Import an edge table (see :func:`iter_edge_table`) into ``store``.

    Bad rows are quarantined with their line numbers; an unchanged file imported before
    is skipped (``skipped_unchanged``) unless ``force`` (see
    :func:`mapper.collectors.base.import_file`).

    Raises
    ------
    ImportFormatError
        When the file is empty or a required column is missing.
    """
    options = f"nodes={os.path.abspath(nodes_path)}" if nodes_path is not None else ""
    if default_kind != "mention":
        options += f";kind={default_kind}"

    def read(on_bad: OnBad) -> Iterator[Post]:
        return iter_edge_table(
            path, nodes_path=nodes_path, on_bad=on_bad, default_kind=default_kind
        )

    return import_file(store, path, read, force=force, options=options)


def import_post_table(
    store: Store, path: str | Path, *, force: bool = False, platform: str | None = None
) -> CollectResult:
    """Import a post table (see :func:`iter_post_table`) into ``store``, like
    :func:`import_edge_table`; it raises when the file has no author or text column."""

    def read(on_bad: OnBad) -> Iterator[Post]:
        return iter_post_table(path, platform=platform, on_bad=on_bad)

    options = f"platform={platform}" if platform else ""
    return import_file(store, path, read, force=force, options=options)
