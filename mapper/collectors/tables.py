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
raises :class:`~mapper.errors.ImportFormatError` naming the file. CSV is split into
records by :mod:`mapper.csvrecords`, so a quote left open costs its row, not the rest
of the file (:func:`check_table` finds such rows without importing).

A table row's uid is keyed by its content and its file (:class:`RowKeys`), and
:func:`import_edge_table` and :func:`import_post_table` read a changed table as a
whole (:meth:`mapper.store.Store.file_pass`): its rows replace those it gave before.
Their bad rows reach the quarantine a batch at a time, one row each.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

from mapper import __version__
from mapper.collectors.base import CollectResult
from mapper.collectors.graph_files import read_graph_file
from mapper.csvrecords import (
    EXCERPT_CHARS,
    MAX_LINE_CHARS,
    FileLines,
    Record,
    Records,
    quote_left_open,
)
from mapper.errors import ImportFormatError
from mapper.records import Post, Provenance, Reference, utc
from mapper.store import DEFAULT_BATCH, Store, file_fingerprint, post_to_json

__all__ = [
    "DEFAULT_KIND_TYPES",
    "EDGE_KIND_ALIASES",
    "Entities",
    "Entity",
    "RowKeys",
    "TableImportResult",
    "check_table",
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


def _sniff_delimiter(header: str, path: Path) -> str:
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


#: ``(line, cells, reason, excerpt)``: a non-empty reason means the row is bad; cells
#: are ``None`` when the row could not be split into cells (then ``excerpt`` holds its
#: start).
_Row = tuple[int, list[str] | None, str, str]


@dataclass
class _Table:
    """A CSV opened for row-by-row reading with normalized headers."""

    path: Path
    header: list[str]
    columns: dict[str, int]  # normalized header -> index
    delimiter: str
    records: Records
    fh: BinaryIO
    #: Columns that never hold a line break: a quoted cell of one of them that spans
    #: lines is an unterminated quote that swallowed the rows below it.
    single_line: set[int] = field(default_factory=set)

    def find(self, aliases: tuple[str, ...]) -> int | None:
        for alias in aliases:
            if alias in self.columns:
                return self.columns[alias]
        return None

    def close(self) -> None:
        self.fh.close()

    @property
    def rows(self) -> Iterator[_Row]:
        """Every row after the header, in file order; the file is closed at the end."""
        return self._rows()

    def _rows(self) -> Iterator[_Row]:
        delimiter = self.delimiter
        try:
            for record in self.records:
                if record.problem:
                    yield record.first, None, record.problem, record.excerpt
                    continue
                try:
                    parsed = list(csv.reader(record.lines, delimiter=delimiter))
                except csv.Error as exc:
                    reason = str(exc)
                    if "field limit" in reason:
                        reason = f"a cell is longer than {csv.field_size_limit():,} characters"
                    yield record.first, None, f"unreadable CSV row: {reason}", _first_line(record)
                    continue
                for cells in parsed:
                    if not cells or all(not c.strip() for c in cells):
                        continue
                    broken = self._spanning(record, cells)
                    if broken is not None:
                        self.records.reread_after(record)
                        yield record.first, None, _spanning(record, broken), _first_line(record)
                        break
                    if record.repaired:
                        yield record.first, cells, "invalid UTF-8 or NUL byte in row", ""
                        continue
                    yield record.first, cells, "", ""
        except OSError as exc:
            raise ImportFormatError(
                f"cannot read: {exc.strerror or exc}", source=self.path
            ) from exc
        finally:
            self.fh.close()

    def _spanning(self, record: Record, cells: list[str]) -> str | None:
        """The header of a single-line column whose cell spans lines, else ``None``."""
        if not record.multiline:
            return None
        for index in sorted(self.single_line):
            if index < len(cells) and ("\n" in cells[index] or "\r" in cells[index]):
                return self.header[index] if index < len(self.header) else f"#{index + 1}"
        return None

    def problems(self) -> Iterator[tuple[int, str]]:
        """``(line, reason)`` for each record that loses rows: an unterminated quote, a
        record too long. Cells are only split for records spanning lines."""
        try:
            for record in self.records:
                if record.problem:
                    yield record.first, record.problem
                    continue
                if not record.multiline or not self.single_line:
                    continue
                try:
                    parsed = list(csv.reader(record.lines, delimiter=self.delimiter))
                except csv.Error:
                    continue
                for cells in parsed[:1]:
                    broken = self._spanning(record, cells)
                    if broken is not None:
                        self.records.reread_after(record)
                        yield record.first, _spanning(record, broken)
        finally:
            self.fh.close()


def _spanning(record: Record, column: str) -> str:
    return (
        f"unterminated quote: the quoted cell opened on line {record.first} runs over "
        f"lines {record.first}-{record.last} into the {_shown(column)} column"
    )


def _first_line(record: Record) -> str:
    return record.lines[0][:EXCERPT_CHARS].rstrip("\r\n") if record.lines else record.excerpt


def _open_csv(path: Path) -> _Table:
    """Open a CSV, read its header and sniff its delimiter.

    Raises
    ------
    ImportFormatError
        For a file that cannot be read, an empty file, or an unusable header (one
        that cannot be split into cells, or leaves a quote open).
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the table or on error below
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=path) from exc
    try:
        return _read_header(path, fh)
    except BaseException:
        fh.close()
        raise


def _read_header(path: Path, fh: BinaryIO) -> _Table:
    lines = FileLines(fh)
    try:
        while True:
            got = lines.read()
            if got is None:
                raise ImportFormatError(
                    "empty file", source=path, hint="expected a CSV with a header"
                )
            first, _repaired, cut = got
            if first.strip():
                break
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=path) from exc
    line = lines.number
    if cut:
        raise ImportFormatError(
            f"the header line is longer than {MAX_LINE_CHARS:,} characters",
            source=path,
            line=line,
            hint="expected a CSV with a header",
        )
    delimiter = _sniff_delimiter(first, path)
    if quote_left_open(first, delimiter):
        raise ImportFormatError(
            "unterminated quote in the header",
            source=path,
            line=line,
            hint="close the quote: the lines after it would be read as one column name",
        )
    try:
        header_cells = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error as exc:
        raise ImportFormatError(f"unreadable header: {exc}", source=path, line=line) from None
    header = [h.replace("\ufeff", "").strip() for h in header_cells]
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        columns.setdefault(_norm_header(name), index)
    return _Table(path, header, columns, delimiter, Records(lines, delimiter), fh)


def _require(table: _Table, role: str, aliases: tuple[str, ...]) -> int:
    index = table.find(aliases)
    if index is None:
        table.close()
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
    writer = csv.writer(buf, delimiter=delimiter)
    # a cell can be up to a megabyte: write only as much as the excerpt keeps
    kept: list[str] = []
    room = EXCERPT_CHARS
    for cell in cells:
        kept.append(cell[: room + 1])
        room -= len(kept[-1]) + 1
        if room < 0:
            break
    writer.writerow(kept)
    return buf.getvalue().rstrip("\r\n")[:EXCERPT_CHARS]


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
    table.single_line.add(key_index)
    names = [h.strip().lower() for h in table.header]
    nodes: dict[str, dict[str, str]] = {}
    for line, cells, reason, excerpt in table.rows:
        if reason or cells is None:
            if on_bad:
                on_bad(line, reason, excerpt or _raw_row(cells, table.delimiter))
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
    on_nodes_bad: OnBad | None = None,
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
    on_nodes_bad : callable, optional
        ``on_bad`` for the rows of the node table set aside.

    Yields
    ------
    Post
        ``author`` the source key, one ``Reference(kind, target key, weight=weight)``,
        ``created_at`` from ``time``, ``url`` from ``url``. The ``uid`` is
        ``table:<key>``, the key a hash of the file's absolute path and the row's
        content (see :class:`RowKeys`): the same row keeps its uid when rows are
        inserted or deleted around it, and an edited row is a new post.

    Raises
    ------
    ImportFormatError
        When the file is empty or a required column is missing (naming the column).

    Notes
    -----
    ``type`` values are mapped through :data:`EDGE_KIND_ALIASES` (``retweet`` is a
    ``repost``, ``Replies to`` a ``reply``...); Gephi's ``Directed``/``Undirected``
    mean the default kind. A weight must be a finite number >= 0; an empty weight
    leaves the graph's per-type weight in force. A quoted cell left open is set aside
    with the line where it opened and the rows after it are read (a source, target,
    weight, type or time cell never spans lines).
    """
    p = Path(path)
    nodes = read_node_table(nodes_path, on_bad=on_nodes_bad) if nodes_path is not None else None
    table = _open_csv(p)
    src_i = _require(table, "source", _EDGE_COLUMNS["source"])
    tgt_i = _require(table, "target", _EDGE_COLUMNS["target"])
    w_i = table.find(_EDGE_COLUMNS["weight"])
    type_i = table.find(_EDGE_COLUMNS["type"])
    time_i = table.find(_EDGE_COLUMNS["time"])
    url_i = table.find(_EDGE_COLUMNS["url"])
    table.single_line.update(i for i in (src_i, tgt_i, w_i, type_i, time_i) if i is not None)
    source = os.path.abspath(p)
    return _edge_rows(
        table, nodes, source, on_bad, default_kind, src_i, tgt_i, w_i, type_i, time_i, url_i
    )


def _edge_rows(
    table: _Table,
    nodes: Mapping[str, Mapping[str, str]] | None,
    source: str,
    on_bad: OnBad | None,
    default_kind: str,
    src_i: int,
    tgt_i: int,
    w_i: int | None,
    type_i: int | None,
    time_i: int | None,
    url_i: int | None,
) -> Iterator[Post]:
    def bad(line: int, reason: str, cells: list[str] | None, excerpt: str = "") -> None:
        if on_bad is not None:
            on_bad(line, reason, excerpt or _raw_row(cells, table.delimiter))

    keys = RowKeys(source)
    for line, cells, reason, excerpt in table.rows:
        if reason or cells is None:
            bad(line, reason, cells, excerpt)
            continue
        src = _cell(cells, src_i)
        tgt = _cell(cells, tgt_i)
        if not src or not tgt:
            bad(line, f"empty {'source' if not src else 'target'}", cells)
            continue
        if nodes is not None:
            missing = [k for k in (src, tgt) if k not in nodes]
            if missing:
                bad(line, f"node {_shown(missing[0])} is not in the node table", cells)
                continue
        weight: float | None = None
        w_text = _cell(cells, w_i)
        if w_text:
            try:
                weight = float(w_text.replace(",", ".") if w_text.count(",") == 1 else w_text)
            except ValueError:
                bad(line, f"weight {_shown(w_text)} is not a number", cells)
                continue
            if not math.isfinite(weight) or weight < 0:
                bad(line, f"weight {_shown(w_text)} is not a finite number >= 0", cells)
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
                    f"unknown edge type {_shown(type_text)} "
                    "(use mention, reply, repost, quote, link)",
                    cells,
                )
                continue
            kind = found
        try:
            when = parse_time(_cell(cells, time_i))
        except ValueError as exc:
            bad(line, str(exc)[:200], cells)
            continue
        author_name = ""
        if nodes is not None:
            attrs = nodes[src]
            author_name = attrs.get("label") or attrs.get("name") or ""
        post = Post(
            uid="",
            platform="table",
            author=src,
            created_at=when,
            url=_cell(cells, url_i),
            author_name=author_name,
            references=(Reference(kind=kind, target=tgt, weight=weight),),
        )
        yield replace(
            post,
            uid=keys.uid(post),
            provenance=Provenance(COLLECTOR, __version__, source, line),
        )


def _shown(value: str, width: int = 60) -> str:
    """``repr(value)``, cut to about ``width`` characters (for messages)."""
    if len(value) <= width:
        return repr(value)
    return repr(value[:width]) + f"… ({len(value):,} characters)"


class RowKeys:
    """Content keys for the rows of one table file.

    A row's key is a hash of the file's absolute path and of the post the row
    becomes (without its uid and provenance): the same row in the same file keeps its
    key wherever it moves, an edited row gets a new one, and the same row in another
    file is another post. The n-th repeat of identical content in a file gets the key
    with ``.n`` appended, so repeated rows still count once each.

    Parameters
    ----------
    source : str
        The file's absolute path.

    Notes
    -----
    The repeat counts take about 12 bytes a distinct row once more than
    :attr:`_Occurrences.RECENT` rows have been seen (a sorted array), so a table of
    millions of rows is keyed without holding its rows.
    """

    def __init__(self, source: str) -> None:
        self._prefix = source.encode("utf-8", "surrogatepass") + b"\x1f"
        self._seen = _Occurrences()

    def uid(self, post: Post) -> str:
        """The uid of the table post ``post`` (given without uid and provenance)."""
        digest = hashlib.blake2b(self._prefix + post_to_json(post), digest_size=12).digest()
        repeat = self._seen.next(int.from_bytes(digest[:8], "little"))
        return f"table:{digest.hex()}" + (f".{repeat}" if repeat else "")


class _Occurrences:
    """How often each 64-bit key was seen: a dict for the recent keys, merged into
    sorted numpy arrays (8 + 4 bytes a key) when it grows past :attr:`RECENT`."""

    RECENT = 200_000

    def __init__(self) -> None:
        self.recent: dict[int, int] = {}
        self.keys = np.empty(0, dtype=np.uint64)
        self.counts = np.empty(0, dtype=np.uint32)

    def next(self, key: int) -> int:
        """How many times ``key`` was seen before (and count this time)."""
        count = self.recent.get(key)
        if count is not None:
            self.recent[key] = count + 1
            return count
        if len(self.keys):
            at = int(np.searchsorted(self.keys, np.uint64(key)))
            if at < len(self.keys) and int(self.keys[at]) == key:
                count = int(self.counts[at])
                self.counts[at] = count + 1
                return count
        self.recent[key] = 1
        if len(self.recent) >= self.RECENT:
            self._merge()
        return 0

    def _merge(self) -> None:
        keys = np.fromiter(self.recent.keys(), dtype=np.uint64, count=len(self.recent))
        counts = np.fromiter(self.recent.values(), dtype=np.uint32, count=len(self.recent))
        order = np.argsort(keys)
        keys, counts = keys[order], counts[order]
        at = np.searchsorted(self.keys, keys)
        self.keys = np.insert(self.keys, at, keys)
        self.counts = np.insert(self.counts, at, counts)
        self.recent = {}


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
        archive and a table is stored once), else ``table:<key>``, the key a hash
        of the file's path and the row's content (see :class:`RowKeys`).
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
    table.single_line.update(
        i for role, i in idx.items() if i is not None and role in _SINGLE_LINE_POST_COLUMNS
    )
    return _post_csv_rows(table, idx, source, default_platform, on_bad)


#: Post-table columns that never hold a line break.
_SINGLE_LINE_POST_COLUMNS = frozenset(
    ("id", "author", "author_id", "created_at", "platform", "language")
)
#: The longest JSONL line read whole (bytes); a longer one is set aside.
MAX_JSON_LINE = 16 << 20


def _post_csv_rows(
    table: _Table,
    idx: Mapping[str, int | None],
    source: str,
    default_platform: str | None,
    on_bad: OnBad | None,
) -> Iterator[Post]:
    keys = RowKeys(source)
    for line, cells, reason, excerpt in table.rows:
        if reason or cells is None:
            if on_bad:
                on_bad(line, reason, excerpt or _raw_row(cells, table.delimiter))
            continue
        row = {role: _cell(cells, i) for role, i in idx.items()}
        post_or_reason = _post_from_row(row, line, source, default_platform, keys)
        if isinstance(post_or_reason, str):
            if on_bad:
                on_bad(line, post_or_reason, _raw_row(cells, table.delimiter))
            continue
        yield post_or_reason


def _json_lines(fh: BinaryIO) -> Iterator[tuple[int, bytes, bool]]:
    """``(line number, line, cut)``: a line longer than :data:`MAX_JSON_LINE` is cut
    (the rest skipped) so one line never fills memory."""
    number = 0
    while True:
        raw = fh.readline(MAX_JSON_LINE)
        if not raw:
            return
        number += 1
        cut = len(raw) >= MAX_JSON_LINE and not raw.endswith(b"\n")
        if cut:
            while True:
                more = fh.readline(MAX_JSON_LINE)
                if not more or more.endswith(b"\n"):
                    break
        yield number, raw, cut


def _post_json_rows(
    path: Path, source: str, default_platform: str | None, on_bad: OnBad | None
) -> Iterator[Post]:
    readable = 0
    keys = RowKeys(source)
    alias_of = {alias: role for role, aliases in _POST_COLUMNS.items() for alias in aliases}
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below; open errors differ
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=path) from exc
    with fh:
        for line, raw, cut in _json_lines(fh):
            if not raw.strip():
                continue
            excerpt = raw[:EXCERPT_CHARS].decode("utf-8", "replace")
            if cut:
                if on_bad:
                    on_bad(line, f"line longer than {MAX_JSON_LINE:,} bytes", excerpt)
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                if on_bad:
                    on_bad(line, f"invalid JSON: {exc}"[:300], excerpt)
                continue
            if not isinstance(obj, dict):
                if on_bad:
                    on_bad(line, "not a JSON object", excerpt)
                continue
            readable += 1
            row: dict[str, Any] = {}
            for key, value in obj.items():
                role = alias_of.get(_norm_header(str(key)))
                if role is not None and role not in row and value is not None:
                    row[role] = value
            post_or_reason = _post_from_row(row, line, source, default_platform, keys)
            if isinstance(post_or_reason, str):
                if on_bad:
                    on_bad(line, post_or_reason, excerpt)
                continue
            yield post_or_reason
    if readable == 0:
        raise ImportFormatError(
            "no JSON object found", source=path, hint="expected one post object a line"
        )


#: Problems :func:`check_table` lists before it says how many more there are.
CHECK_LIMIT = 20


def check_table(path: str | Path, *, kind: str = "edges-csv") -> list[ImportFormatError]:
    """Find what would cost rows when a CSV table is imported, without importing it.

    Parameters
    ----------
    path : str or Path
        An edge table (``kind="edges-csv"``) or a post table in CSV
        (``kind="posts-csv"``; a JSONL post table is not checked).
    kind : str
        The source type.

    Returns
    -------
    list of ImportFormatError
        Each names the file and the line: an unusable file or header, a missing
        column, an unterminated quote (which would swallow the rows after it), a
        record too long. The first :data:`CHECK_LIMIT`, then one saying how many more.
    """
    p = Path(path)
    if kind == "posts-csv" and p.suffix.lower() not in (".csv", ".tsv", ".tab"):
        return []
    try:
        table = _open_csv(p)
        if kind == "posts-csv":
            idx = {role: table.find(aliases) for role, aliases in _POST_COLUMNS.items()}
            _require(table, "author", _POST_COLUMNS["author"])
            _require(table, "text", _POST_COLUMNS["text"])
            table.single_line.update(
                i for role, i in idx.items() if i is not None and role in _SINGLE_LINE_POST_COLUMNS
            )
        else:
            roles = ("source", "target", "weight", "type", "time")
            for role in ("source", "target"):
                _require(table, role, _EDGE_COLUMNS[role])
            found = (table.find(_EDGE_COLUMNS[role]) for role in roles)
            table.single_line.update(i for i in found if i is not None)
    except ImportFormatError as exc:
        return [exc]
    out: list[ImportFormatError] = []
    more = 0
    try:
        for line, reason in table.problems():
            if len(out) < CHECK_LIMIT:
                out.append(ImportFormatError(reason, source=p, line=line))
            else:
                more += 1
    except ImportFormatError as exc:
        out.append(exc)
    if more:
        out.append(ImportFormatError(f"and {more} more rows that cannot be read", source=p))
    return out


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
    row: Mapping[str, Any],
    line: int,
    source: str,
    default_platform: str | None,
    keys: RowKeys,
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
        return str(exc)[:200]
    plat_cell = _text(row.get("platform"))
    platform = _norm_platform(plat_cell) if plat_cell else default_platform
    post_id = _text(row.get("id"))
    uid = f"{platform}:{post_id}" if platform and post_id else ""
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
    post = Post(
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
    )
    return replace(
        post,
        uid=uid or keys.uid(post),
        provenance=Provenance(COLLECTOR, __version__, source, line),
    )


# --------------------------------------------------------------------------- importers


#: Quarantine rows written at a time while a table is read.
QUARANTINE_BATCH = 1000
#: Characters of a reason kept in the quarantine.
REASON_CHARS = 500
#: Recorded with each import: tables imported before rows were keyed by content are
#: read again (and their old posts replaced).
_KEYING = "keys=content"


@dataclass(slots=True)
class TableImportResult(CollectResult):
    """What one table import did: :class:`~mapper.collectors.base.CollectResult`'s
    counts, plus ``removed``: posts the file gave when it was last imported and no
    longer gives (deleted, or no longer counted for this file when another source still
    gives them)."""

    removed: int = 0

    def summary(self, unit: str = "pages") -> str:
        """One line for the user (see :meth:`CollectResult.summary`)."""
        text = CollectResult.summary(self, unit)
        if self.removed and not self.skipped_unchanged:
            text += f", {self.removed} no longer in the file removed"
        return text


def _import_table(
    store: Store,
    path: str | Path,
    read: Callable[[OnBad, OnBad], Iterable[Post]],
    *,
    force: bool,
    options: str,
    nodes_path: str | Path | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> TableImportResult:
    """Import one table file as a whole: its posts replace those of its last import.

    ``read(on_bad, on_nodes_bad)`` gives the file's posts. An unchanged file imported
    before with the same options is skipped unless ``force``. Bad rows go to the
    quarantine a batch at a time (a file of bad rows never piles up in memory), one
    row each, its reason and excerpt capped. Posts the file gave before and no longer
    gives are removed when the reading ends without an error.
    """
    p = Path(path)
    result = TableImportResult(source=str(p))
    if not p.is_file():
        raise ImportFormatError("file not found", source=p)
    source = os.path.abspath(p)
    nodes_source = os.path.abspath(nodes_path) if nodes_path is not None else None
    try:
        fingerprint = file_fingerprint(p)
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=p) from exc
    options = ";".join(part for part in (_KEYING, options) if part)
    if not force:
        status = store.import_status(source)
        if status is not None and status.unchanged and status.options == options:
            result.skipped_unchanged = True
            return result
    pending: dict[str, list[tuple[int | None, str, str]]] = {source: []}
    if nodes_source is not None:
        pending[nodes_source] = []
    for where in pending:
        store.clear_quarantine(where)
    highest = [0]

    def flush() -> None:
        for where, rows in pending.items():
            if rows:
                store.quarantine_many(where, rows)
                rows.clear()

    def sink(where: str) -> OnBad:
        rows = pending[where]

        def on_bad(line: int, reason: str, excerpt: str) -> None:
            result.quarantined += 1
            if where == source and line > highest[0]:
                highest[0] = line
            rows.append((line, reason[:REASON_CHARS], str(excerpt)[:EXCERPT_CHARS]))
            if len(rows) >= QUARANTINE_BATCH:
                flush()

        return on_bad

    def items() -> Iterator[Post]:
        nodes_sink = sink(nodes_source) if nodes_source is not None else sink(source)
        for post in read(sink(source), nodes_sink):
            result.posts += 1
            prov = post.provenance
            if prov is not None and prov.line is not None and prov.line > highest[0]:
                highest[0] = prov.line
            yield post

    try:
        with store.file_pass(source) as reading:
            added = store.add_posts(items(), batch_size=batch_size)
            flush()
    except ImportFormatError:
        for where in pending:
            pending[where].clear()
            store.clear_quarantine(where)
        raise
    result.added, result.duplicates = added.added, added.duplicates
    result.removed = reading.removed + reading.detached
    result.lines = highest[0]
    store.record_import(
        source,
        fingerprint,
        options=options,
        lines=result.lines,
        posts=result.posts,
        added=result.added,
        duplicates=result.duplicates,
        quarantined=result.quarantined,
    )
    return result


def import_edge_table(
    store: Store,
    path: str | Path,
    *,
    force: bool = False,
    nodes_path: str | Path | None = None,
    default_kind: str = "mention",
    batch_size: int = DEFAULT_BATCH,
) -> TableImportResult:
    """Import an edge table (see :func:`iter_edge_table`) into ``store``.

    The file's rows replace those of its last import: an edited row replaces the old
    one, a deleted row leaves the store (unless another source gives the same post),
    and an unchanged file imported before is skipped (``skipped_unchanged``) unless
    ``force``. Bad rows are quarantined with their line numbers (those of the node
    table under the node table's path).

    Raises
    ------
    ImportFormatError
        When the file is missing, empty or a required column is missing.
    """
    options = f"nodes={os.path.abspath(nodes_path)}" if nodes_path is not None else ""
    if default_kind != "mention":
        options += f";kind={default_kind}"

    def read(on_bad: OnBad, on_nodes_bad: OnBad) -> Iterator[Post]:
        return iter_edge_table(
            path,
            nodes_path=nodes_path,
            on_bad=on_bad,
            default_kind=default_kind,
            on_nodes_bad=on_nodes_bad,
        )

    return _import_table(
        store,
        path,
        read,
        force=force,
        options=options,
        nodes_path=nodes_path,
        batch_size=batch_size,
    )


def import_post_table(
    store: Store,
    path: str | Path,
    *,
    force: bool = False,
    platform: str | None = None,
    batch_size: int = DEFAULT_BATCH,
) -> TableImportResult:
    """Import a post table (see :func:`iter_post_table`) into ``store``, like
    :func:`import_edge_table`; it raises when the file has no author or text column."""

    def read(on_bad: OnBad, _on_nodes_bad: OnBad) -> Iterator[Post]:
        return iter_post_table(path, platform=platform, on_bad=on_bad)

    options = f"platform={platform}" if platform else ""
    return _import_table(store, path, read, force=force, options=options, batch_size=batch_size)
