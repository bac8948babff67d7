"""What every collector shares: the result of a run, the import of a saved file, the
reading of saved JSON and JSONL, the page loop of cursor-paged APIs, and the retry
policy of the social-platform SDKs.

:class:`CollectResult` is the one result type of every collection and every import
(live X, web pages, feeds, Bluesky, Mastodon, X archives, tables). :func:`import_file`
imports one saved file: it skips a file imported unchanged before, quarantines the
lines the reader sets aside, stores the rest in batches and records the import, so an
interrupted import completes on the next run. :func:`read_json_records` streams a
saved JSONL file or top-level JSON array (:class:`JsonArrayStream`, in bounded
memory whatever its size), handing back each unreadable line or element (invalid
JSON, invalid UTF-8, NUL bytes) instead of failing the file, and :func:`import_records`
turns the items of such a file into posts through a collector's parser.
:func:`require_file` and :func:`refuse_wide_text` give the one-line reasons a path
cannot be read (a folder, UTF-16 text...).
:func:`collect_pages` drives an API that pages with a cursor (Bluesky's ``cursor``,
Mastodon's ``max_id``): fetch a page, quarantine what cannot be read, store the rest,
save the cursor, so a run stopped by a budget or an error resumes where it stopped.
:func:`sdk_call` runs one call of an SDK client under :func:`mapper.http.call_with_retries`
and turns the SDK's remaining errors into one-line mapper errors.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, Protocol, TypeVar, Union, cast

from mapper import __version__
from mapper.errors import CollectorError, ImportFormatError, MapperError
from mapper.http import Retry, RetryPolicy, call_with_retries, redact
from mapper.records import Post, Provenance, now_utc, utc
from mapper.store import DEFAULT_BATCH, file_fingerprint

if TYPE_CHECKING:
    import random

    from mapper.store import RawValue, Store

__all__ = [
    "MAX_ATTEMPTS",
    "MAX_RATE_LIMIT_WAIT",
    "SOCIAL_RETRY_POLICY",
    "ArrayElement",
    "CollectResult",
    "JsonArrayStream",
    "JsonRecord",
    "OnBad",
    "PostStore",
    "check_max_posts",
    "collect_pages",
    "failed",
    "import_file",
    "import_records",
    "json_layout",
    "parse_iso_time",
    "raw_excerpt",
    "raw_json",
    "read_json_records",
    "refuse_wide_text",
    "require_file",
    "sdk_call",
    "seconds_until",
    "snippet",
    "status_suffix",
    "store_and_path",
    "wide_encoding",
]

T = TypeVar("T")

#: ``on_bad(line, reason, excerpt)``: called for each line, row or item set aside.
OnBad = Callable[[int | None, str, Any], None]

#: Characters of an unreadable item kept in the quarantine.
EXCERPT = 2000
MAX_ATTEMPTS = 5  # one call and four retries
MAX_RATE_LIMIT_WAIT = 900.0  # never sleep longer than this for one 429
#: Attempts, backoff and the longest wait for a rate limit of the Bluesky and
#: Mastodon SDK clients (see :mod:`mapper.http`).
SOCIAL_RETRY_POLICY = RetryPolicy(
    max_attempts=MAX_ATTEMPTS, rate_limit_max_wait=MAX_RATE_LIMIT_WAIT
)

_FRACTION_RE = re.compile(r"(\.\d{6})\d+")
_BOM = b"\xef\xbb\xbf"


# --------------------------------------------------------------------------- results


class PostStore(Protocol):
    """What a live collector needs from :class:`mapper.store.Store`."""

    def add_posts(self, posts: Iterable[Post | tuple[Post, Any]]) -> Any:
        """Store posts (or ``(post, raw)`` pairs); return ``added`` and ``duplicates``."""

    def quarantine(self, source: str, line: int | None, reason: str, raw: Any = None) -> Any:
        """Record input that could not be read."""

    def get_cursor(self, key: str) -> str | None:
        """Return the saved cursor for ``key`` (``None`` when there is none)."""

    def set_cursor(self, key: str, value: str) -> Any:
        """Save ``value`` as the cursor for ``key``."""


@dataclass(slots=True)
class CollectResult:
    """What one collection or one import did.

    Attributes
    ----------
    source : str
        What was read: the imported file, or a label such as ``bluesky posts <handle>``
        or ``x search-recent query=...``.
    pages : int
        API pages or documents (web pages, feeds) fetched; 0 for a file import.
    lines : int
        Lines (or rows) of an imported file read.
    items : int
        Feed items, search hits, statuses or file records read (Bluesky, Mastodon).
    posts : int
        ``Post`` records read (a repost item can give two: the repost and the original).
    added : int
        Posts new to the store.
    duplicates : int
        Posts the store already had (or repeated in the input).
    quarantined : int
        Lines, items, pages or partial errors set aside in the store's quarantine.
    skipped_unchanged : bool
        The file was imported before with the same options and has not changed:
        nothing was read and every count is 0.
    stopped_reason : str
        ``"complete"`` (the end of the feed or file was reached), ``"max-posts"`` (the
        budget was reached; running again resumes), ``"max-pages"`` (a crawl's page
        limit), or ``"running"`` in the totals handed to progress callbacks.
    cursor : str or None
        The saved cursor a stopped collection resumes from.
    """

    source: str = ""
    pages: int = 0
    lines: int = 0
    items: int = 0
    posts: int = 0
    added: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped_unchanged: bool = False
    stopped_reason: str = "complete"
    cursor: str | None = None

    @property
    def complete(self) -> bool:
        """Whether the run reached the end (of the feed, the search or the file)."""
        return self.stopped_reason == "complete"

    def store_posts(
        self, store: PostStore, posts: Sequence[Post | tuple[Post, Any]], **options: Any
    ) -> None:
        """Add ``posts`` (or ``(post, raw)`` pairs) to ``store`` and count the outcome."""
        if not posts:
            return
        outcome = store.add_posts(list(posts), **options)
        self.posts += len(posts)
        self.added += int(getattr(outcome, "added", 0))
        self.duplicates += int(getattr(outcome, "duplicates", 0))

    def include(self, other: CollectResult) -> None:
        """Add the counts of ``other`` to these (totals over several feeds or files)."""
        for name in ("pages", "lines", "items", "posts", "added", "duplicates", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def running(self) -> CollectResult:
        """A copy of the totals so far, for a progress callback."""
        return replace(self, stopped_reason="running")

    def summary(self, unit: str = "pages") -> str:
        """One line for the user, e.g. ``bluesky posts x: 120 posts from 2 pages, 100 new, ...``.

        ``unit`` names what ``pages`` counts (``"feeds"`` for the feed command).
        """
        where = f"{self.source}: " if self.source else ""
        if self.skipped_unchanged:
            return f"{where}unchanged since it was imported, skipped (use --force)"
        text = f"{where}{self.posts} posts"
        if self.pages:
            text += f" from {self.pages} {unit}"
        text += f", {self.added} new, {self.duplicates} already stored"
        if self.quarantined:
            text += f", {self.quarantined} quarantined (see `mapper quarantine`)"
        if self.stopped_reason == "max-posts":
            text += "; stopped at --max-posts (run again to continue)"
        elif self.stopped_reason == "max-pages":
            text += "; stopped at --max-pages"
        return text


def check_max_posts(max_posts: int | None) -> None:
    """Refuse a budget below one post."""
    if max_posts is not None and max_posts < 1:
        raise CollectorError("--max-posts must be at least 1", field="max_posts")


# --------------------------------------------------------------------------- importing a file

#: ``read(on_bad)`` for :func:`import_file`: the posts of one file, or ``(post, raw)``.
FileReader = Callable[[OnBad], Iterable[Union[Post, tuple[Post, "RawValue"]]]]  # noqa: UP007


def import_file(
    store: Store,
    path: str | Path,
    read: FileReader,
    *,
    force: bool = False,
    options: str = "",
    batch_size: int = DEFAULT_BATCH,
    lines: Callable[[], int] | None = None,
) -> CollectResult:
    """Import one file's posts into ``store``: skip it when unchanged, quarantine its bad
    lines, record the import.

    Parameters
    ----------
    store : Store
        Destination.
    path : str or Path
        The file (its quarantine rows and import record are kept by absolute path).
    read : callable
        ``read(on_bad)`` returns the file's posts (or ``(post, raw)`` pairs), calling
        ``on_bad(line, reason, excerpt)`` for what it sets aside. It may raise
        :class:`~mapper.errors.ImportFormatError` for a file unusable as a whole.
    force : bool
        Read the file even when it was imported unchanged before.
    options : str
        Reading options that change the result; a recorded import with other options
        is not skipped.
    batch_size : int
        Posts per store transaction.
    lines : callable, optional
        Returns the number of lines read once ``read`` is exhausted; by default the
        highest line number seen in post provenance and bad lines.

    Returns
    -------
    CollectResult
        ``source`` is ``path`` as given; ``lines``, ``posts``, ``added``,
        ``duplicates``, ``quarantined`` and ``skipped_unchanged``.

    Raises
    ------
    ImportFormatError
        When the file is missing or cannot be read, or ``read`` rejects it; its
        quarantine rows are then removed and no import is recorded.
    StoreError
        When the store cannot be written.

    Notes
    -----
    The quarantine rows of a file are replaced by those of its latest import. An
    interrupted import leaves every committed batch in the store and no import record,
    so running it again completes it (stored posts are not added twice).
    """
    p = require_file(path)
    result = CollectResult(source=str(p))
    source = os.path.abspath(p)
    try:
        fingerprint = file_fingerprint(p)
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=p) from exc
    if not force:
        status = store.import_status(source)
        if status is not None and status.unchanged and status.options == options:
            result.skipped_unchanged = True
            return result
    store.clear_quarantine(source)
    pending: list[tuple[int | None, str, Any]] = []
    highest = [0]

    def on_bad(line: int | None, reason: str, excerpt: Any) -> None:
        result.quarantined += 1
        if line is not None and line > highest[0]:
            highest[0] = line
        pending.append((line, reason, excerpt))

    def items() -> Iterator[Post | tuple[Post, RawValue]]:
        for item in read(on_bad):
            result.posts += 1
            post = item[0] if type(item) is tuple else item
            prov = post.provenance  # type: ignore[union-attr]
            if prov is not None and prov.line is not None and prov.line > highest[0]:
                highest[0] = prov.line
            yield item
            if len(pending) >= 1000:
                store.quarantine_many(source, pending)
                pending.clear()

    try:
        added = store.add_posts(items(), batch_size=batch_size)
    except ImportFormatError:
        pending.clear()
        store.clear_quarantine(source)
        raise
    if pending:
        store.quarantine_many(source, pending)
        pending.clear()
    result.added, result.duplicates = added.added, added.duplicates
    result.lines = lines() if lines is not None else highest[0]
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


def store_and_path(first: Any, second: Any) -> tuple[Store, Path]:
    """Accept ``(path, store)`` and the file registry's ``(store, path)`` order."""
    if hasattr(first, "add_posts") and not hasattr(second, "add_posts"):
        first, second = second, first
    if second is None or not hasattr(second, "add_posts"):
        raise TypeError("a store is required: import_*_file(path, store=store)")
    return cast("Store", second), Path(first)


# --------------------------------------------------------------------------- saved files


def require_file(path: str | Path) -> Path:
    """Return ``path`` if it names a regular file; else raise one line that says what it is.

    Raises
    ------
    ImportFormatError
        ``file not found``; ``is a folder, not a file`` (with a hint to name the files
        inside it); ``not a regular file`` (a pipe, a device); ``cannot read: ...``.
    """
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise ImportFormatError("file not found", source=p) from None
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=p) from None
    if stat.S_ISDIR(mode):
        raise ImportFormatError(
            "is a folder, not a file",
            source=p,
            hint="name the files inside it, e.g. folder/*.jsonl in a project's path",
        )
    if not stat.S_ISREG(mode):
        raise ImportFormatError("not a regular file", source=p)
    return p


def wide_encoding(head: bytes) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` when ``head`` (a file's first bytes) starts text in
    that encoding (a byte order mark, or ASCII text with every other byte NUL); else
    ``None``.

    >>> wide_encoding("id,name".encode("utf-16"))
    'UTF-16'
    >>> wide_encoding(b'{"id": 1}') is None
    True
    """
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    sample = head[:256]
    sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    for text, zeros in ((even, odd), (odd, even)):
        if zeros.count(0) == len(zeros) and 0 not in text:
            return "UTF-16"
    return None


def refuse_wide_text(path: Path, head: bytes) -> None:
    """Raise :class:`~mapper.errors.ImportFormatError` when ``head`` starts UTF-16 or
    UTF-32 text (which would otherwise read as lines full of NUL bytes)."""
    encoding = wide_encoding(head)
    if encoding is not None:
        raise ImportFormatError(
            f"{encoding} text, not UTF-8",
            source=path,
            hint="save it as UTF-8 (most editors and spreadsheets offer it under Save As)",
        )


def raw_json(value: Any) -> str:
    """Compact JSON of a raw item, as kept beside its post."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def raw_excerpt(value: Any, limit: int = EXCERPT) -> str:
    """At most ``limit`` characters of a raw item, for the quarantine."""
    if isinstance(value, bytes):
        value = value[: limit * 4].decode("utf-8", errors="backslashreplace")
    return (value if isinstance(value, str) else raw_json(value))[:limit]


def _decode_line(raw: bytes) -> tuple[Any, str | None]:
    """``(value, None)`` for a JSON line, else ``(raw line, reason)``."""
    if b"\x00" in raw:
        return raw, "NUL byte in line"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return raw, f"invalid UTF-8 at byte {exc.start}"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        # json's messages for some errors end in "at" ("Invalid control character at")
        return text, f"invalid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"
    except RecursionError:
        return text, "invalid JSON (nested too deeply)"


class ArrayElement(NamedTuple):
    """One element of a streamed JSON array (see :class:`JsonArrayStream`)."""

    number: int
    """1-based position in the array."""
    line: int
    """1-based line of the file where the element starts."""
    value: Any
    """The parsed element, or the text where reading failed when ``error`` is set."""
    error: str | None
    """Why the element cannot be read (``None`` when it was)."""


_WS = re.compile(r"[ \t\r\n]*")
_ESCAPED = re.compile("[\udc80-\udcff]")  # invalid UTF-8 bytes, as surrogateescape keeps them
#: An error this close to the end of what has been read may only mean "read more".
_NEAR_END = 32


class JsonArrayStream:
    """The elements of a top-level JSON array, read a chunk at a time.

    A pretty-printed or minified array of any size is read in chunks of ``chunk_size``
    bytes; only the element being parsed (and one chunk) is held in memory. Each
    element is parsed by the standard library's C scanner.

    Iterating yields :class:`ArrayElement` items. An element holding bytes that are
    not UTF-8 is yielded with its ``error`` set and reading goes on (the JSON around it
    is intact). Invalid JSON ends the array: the element where it happens is yielded
    with its ``error`` (naming the line and column) and nothing after it, since the
    rest cannot be split into elements reliably. An array cut short (no closing
    ``]``) ends the same way.

    Attributes
    ----------
    lines : int
        Lines read so far; once iteration ended, the lines of the whole stream.
    elements : int
        Elements read so far.

    Examples
    --------
    >>> import io
    >>> [e.value for e in JsonArrayStream(io.BytesIO(b'[\\n {"a": 1},\\n 2\\n]'))]
    [{'a': 1}, 2]
    """

    def __init__(self, stream: BinaryIO, *, chunk_size: int = 1 << 20) -> None:
        self._stream = stream
        self._chunk = max(64, int(chunk_size))
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._buf = ""
        self._pos = 0
        self._line = 1  # the line at self._pos
        self._eof = False
        self._started = False
        self._dirty = False  # the buffer holds bytes that were not UTF-8
        self._ends_line = False  # the last text read ended with a line break
        self.lines = 0
        self.elements = 0

    # -- the buffer -----------------------------------------------------------------

    def _fill(self, at_least: int = 0) -> bool:
        """Read another chunk (at least ``at_least`` bytes); ``False`` at the end.

        Reading appends to the buffer and moves its start to the current position, so
        offsets taken before a call that returns ``True`` are stale.
        """
        if self._eof:
            return False
        data = self._stream.read(max(self._chunk, at_least))
        text = self._decoder.decode(data, final=not data)
        if not data:
            self._eof = True
        if text and not self._started:
            text = text.removeprefix("\ufeff")
            self._started = True
        if not text:
            return not self._eof  # a partial UTF-8 sequence: read on
        self._ends_line = text.endswith("\n")
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        self._dirty = bool(_ESCAPED.search(self._buf))
        return True

    def _advance(self, to: int) -> None:
        self._line += self._buf.count("\n", self._pos, to)
        self._pos = to

    def _skip_space(self) -> bool:
        """Move past whitespace; ``True`` when a character follows."""
        while True:
            self._advance(_WS.match(self._buf, self._pos).end())  # type: ignore[union-attr]
            if self._pos < len(self._buf):
                return True
            if not self._fill():
                return False

    def _excerpt(self, start: int) -> str:
        text = self._buf[start : start + EXCERPT]
        if self._dirty:  # bytes that were not UTF-8 back as \\xNN escapes
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        return text

    def _failed(self, index: int, start: int, where: int, message: str) -> ArrayElement:
        line = self._line + self._buf.count("\n", self._pos, where)
        column = where - (self._buf.rfind("\n", 0, where) + 1) + 1
        self.lines = max(self.lines, line)
        return ArrayElement(
            index, self._line, self._excerpt(start), f"{message} at line {line}, column {column}"
        )

    # -- elements -------------------------------------------------------------------

    def __iter__(self) -> Iterator[ArrayElement]:
        scan = json.JSONDecoder().raw_decode
        index = 0
        if not self._skip_space() or self._buf[self._pos] != "[":
            yield self._failed(1, self._pos, self._pos, "not a JSON array")
            return
        self._advance(self._pos + 1)
        expect_value = False  # after a comma an element must follow
        while True:
            if not self._skip_space():
                yield self._failed(
                    index + 1, self._pos, self._pos, "invalid JSON: the array is cut short"
                )
                return
            if self._buf[self._pos] == "]" and not expect_value:
                self._advance(self._pos + 1)
                break
            index += 1
            while True:
                try:
                    value, end = scan(self._buf, self._pos)
                except json.JSONDecodeError as exc:
                    incomplete = exc.pos >= len(self._buf) - _NEAR_END or exc.msg.startswith(
                        "Unterminated string"
                    )
                    if incomplete and self._fill(len(self._buf) - self._pos):
                        continue
                    why = exc.msg
                    if why.startswith("Unterminated string"):
                        why = "a string is not closed"
                    yield self._failed(index, self._pos, exc.pos, f"invalid JSON ({why})")
                    return
                except RecursionError:
                    yield self._failed(
                        index, self._pos, self._pos, "invalid JSON (nested too deeply)"
                    )
                    return
                if end > len(self._buf) - _NEAR_END and self._fill(len(self._buf) - self._pos):
                    continue  # a number at the end of a chunk may go on in the next
                break
            start_line = self._line
            bad = _ESCAPED.search(self._buf, self._pos, end) if self._dirty else None
            if bad is not None:  # the JSON is intact around bytes that are not UTF-8
                line = self._line + self._buf.count("\n", self._pos, bad.start())
                element = ArrayElement(
                    index, start_line, self._excerpt(self._pos), f"invalid UTF-8 at line {line}"
                )
            else:
                element = ArrayElement(index, start_line, value, None)
            self._advance(end)
            self.elements = index
            yield element
            if not self._skip_space():
                yield self._failed(
                    index + 1, self._pos, self._pos, "invalid JSON: the array is cut short"
                )
                return
            char = self._buf[self._pos]
            if char == "]":
                self._advance(self._pos + 1)
                break
            if char != ",":
                yield self._failed(
                    index + 1, self._pos, self._pos, "invalid JSON (expecting ',' or ']')"
                )
                return
            self._advance(self._pos + 1)
            expect_value = True
        if self._skip_space():
            yield self._failed(index + 1, self._pos, self._pos, "data after the JSON array")
            return
        self.lines = self._line - (1 if self._ends_line else 0)


class JsonRecord(NamedTuple):
    """One record of a saved JSON or JSONL file (see :func:`read_json_records`)."""

    line: int
    """1-based line of a JSONL record or of an array element; 0 for a whole document."""
    value: Any
    """The parsed record, or its raw text when ``error`` is set."""
    error: str | None
    """Why the record cannot be read (``None`` when it was)."""
    element: int = 0
    """1-based position of an element of a top-level JSON array, else 0."""


#: A first line longer than this that opens an array is read as one streamed document.
_FIRST_LINE_LIMIT = 16 * 1024 * 1024


def json_layout(path: Path) -> str:
    """How a saved JSON file is laid out: ``"empty"``, ``"jsonl"`` (one value a line),
    ``"array"`` (one top-level array, pretty-printed or not) or ``"document"`` (one
    other JSON value spread over lines).

    ``.jsonl``/``.ndjson`` files are JSONL. Otherwise a first non-empty line that is a
    complete JSON value (or, when it is broken, a second line that is a JSON object)
    makes JSONL; a first line that opens an array without closing it makes an array,
    as does one longer than 16 MB that starts with ``[`` (one that does not is JSONL).
    """
    lines: list[bytes] = []
    cut = False
    with open(path, "rb") as fh:
        while len(lines) < 2:
            line = fh.readline(_FIRST_LINE_LIMIT)
            if not line:
                break
            if not lines:
                line = line.removeprefix(_BOM)
            if line.strip():
                lines.append(line)
                cut = not line.endswith(b"\n") and bool(fh.read(1))
                if cut:
                    break
    if not lines:
        return "empty"
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return "jsonl"
    if cut:  # a first line longer than the limit: an array to stream, else JSONL
        return "array" if lines[0].lstrip().startswith(b"[") else "jsonl"
    if lines[0].lstrip().startswith(b"[") and _decode_line(lines[0])[1] is not None:
        second = _decode_line(lines[1])[0] if len(lines) > 1 else None
        return "jsonl" if isinstance(second, dict) else "array"
    for position, line in enumerate(lines):
        value, error = _decode_line(line)
        if error is None:
            return "jsonl" if position == 0 or isinstance(value, dict) else "document"
    return "document"


def read_json_records(path: str | Path) -> Iterator[JsonRecord]:
    """Yield a :class:`JsonRecord` ``(line, value, error, element)`` for each record of
    a JSON or JSONL file.

    JSONL is streamed: ``line`` is the 1-based line, ``value`` the parsed line, or the
    raw line with ``error`` set when it is not JSON (invalid JSON, invalid UTF-8, a NUL
    byte). A top-level JSON array is streamed too (:class:`JsonArrayStream`), one
    record per element with ``element`` its 1-based position and ``line`` the line it
    starts on; an element that is not UTF-8 comes with its ``error`` set, and invalid
    JSON after the first element ends the file with one record whose ``error`` says
    where. An empty array, and any other JSON document, is yielded whole as
    ``(0, document, None, 0)``.

    Raises
    ------
    ImportFormatError
        A file that cannot be read, is empty, is UTF-16 or UTF-32 text, or a JSON
        document that does not parse or is not UTF-8 from its first element on
        (naming the file and the line).
    """
    path = require_file(path)
    try:
        with open(path, "rb") as fh:
            refuse_wide_text(path, fh.read(256))
        layout = json_layout(path)
        if layout == "empty":
            raise ImportFormatError("empty file", source=path, hint="expected JSON or JSONL")
        if layout == "array":
            with open(path, "rb") as fh:
                array = JsonArrayStream(fh)
                for item in array:
                    if item.error is not None and item.number == 1 and not array.elements:
                        why = item.error.removeprefix("invalid JSON").lstrip(": ")
                        raise ImportFormatError(f"not valid JSON or JSONL: {why}", source=path)
                    yield JsonRecord(item.line, item.value, item.error, item.number)
                if not array.elements:
                    yield JsonRecord(0, [], None, 0)
            return
        if layout == "document":
            data = path.read_bytes().removeprefix(_BOM)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = data.count(b"\n", 0, exc.start) + 1
                raise ImportFormatError("not UTF-8 text", source=path, line=line) from None
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ImportFormatError(
                    f"not valid JSON or JSONL ({exc.msg})", source=path, line=exc.lineno
                ) from None
            except RecursionError:
                raise ImportFormatError("JSON nested too deeply", source=path) from None
            yield JsonRecord(0, doc, None, 0)
            return
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, 1):
                if number == 1:
                    raw = raw.removeprefix(_BOM)
                if not raw.strip():
                    continue
                value, error = _decode_line(raw)
                yield JsonRecord(number, value, error, 0)
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=path) from None


def import_records(
    store: Store,
    path: str | Path,
    *,
    items_of: Callable[[Any], list[Any] | None],
    build: Callable[[Any, Provenance], list[Post]],
    collector: str,
    not_a_document: ImportFormatError,
    not_an_item: str,
    own_raw_when_many: bool = False,
    prepare: Callable[[Iterable[Any]], None] | None = None,
    force: bool = False,
    batch_size: int = DEFAULT_BATCH,
) -> CollectResult:
    """Import a saved JSON or JSONL file of platform records with :func:`import_file`.

    Parameters
    ----------
    store : Store
        Destination; unreadable lines and items are quarantined there with their line
        (JSONL) or item number (JSON document).
    path : str or Path
        The file.
    items_of : callable
        The items of one document or line (``None``: it holds none). The elements of
        a top-level JSON array are its items (the array is streamed, never handed
        whole to ``items_of``).
    build : callable
        ``build(item, provenance)`` returns the item's posts or raises
        :class:`~mapper.errors.ImportFormatError`.
    collector : str
        Provenance collector name.
    not_a_document : ImportFormatError
        Raised (with the file named) when a JSON document holds no items.
    not_an_item : str
        The quarantine reason of a JSONL line without items.
    own_raw_when_many : bool
        Keep each item's own JSON as raw payload when a line holds several items
        (else the post points at its line, as it does for a one-item line).
    prepare : callable, optional
        Called with the readable values of the whole file before any post is built (a
        first pass, e.g. to learn every handle the file names).
    force, batch_size
        As for :func:`import_file`.

    Returns
    -------
    CollectResult
        With ``items`` the records read.

    Raises
    ------
    ImportFormatError
        When the file is empty, a JSON document holds no items, or not one line of a
        JSONL file does (nothing is then stored from it).
    """
    p = Path(path)
    source = os.path.abspath(p)
    count = [0]

    def build_one(
        item: Any, line: int, where: str, raw_whole: bool, on_bad: OnBad
    ) -> Iterator[Post | tuple[Post, str]]:
        count[0] += 1
        prov = Provenance(collector, __version__, source, line, None)
        try:
            posts = build(item, prov)
        except ImportFormatError as exc:
            reason = exc.message if not exc.field else f"{exc.field}: {exc.message}"
            on_bad(line, where + reason, raw_excerpt(item))
            return
        if raw_whole:
            raw = raw_json(item)  # a line pointer would not single the item out
            yield from ((post, raw) for post in posts)
        else:
            yield from posts

    def read(on_bad: OnBad) -> Iterator[Post | tuple[Post, str]]:
        if prepare is not None:
            prepare(rec.value for rec in read_json_records(p) if rec.error is None)
        readable, first_problem = 0, ""
        for number, value, error, element in read_json_records(p):
            if element:  # one element of a top-level array: one item, numbered as such
                if error is not None:
                    on_bad(element, f"item {element} (line {number}): {error}", raw_excerpt(value))
                    continue
                readable += 1
                yield from build_one(value, element, "", True, on_bad)
                continue
            items = items_of(value) if error is None else None
            if items is None:
                if number == 0:
                    raise ImportFormatError(
                        not_a_document.message, source=p, hint=not_a_document.hint
                    )
                reason = error or not_an_item
                first_problem = first_problem or f"line {number}: {reason}"
                on_bad(number, reason, raw_excerpt(value))
                continue
            readable += 1
            many = len(items) > 1
            for index, item in enumerate(items, 1):
                where = f"item {index} of {len(items)}: " if number and many else ""
                raw_whole = number == 0 or (own_raw_when_many and many)
                yield from build_one(item, number or index, where, raw_whole, on_bad)
        if not readable:  # not one line of the file is a record: not such a file at all
            raise ImportFormatError(
                f"{not_a_document.message} (no line is; {first_problem})",
                source=p,
                hint=not_a_document.hint,
            )

    result = import_file(store, p, read, force=force, batch_size=batch_size)
    result.items = count[0]
    return result


# --------------------------------------------------------------------------- paged APIs


def collect_pages(
    *,
    label: str,
    key: str,
    store: PostStore,
    fetch: Callable[[str | None, int], tuple[list[Any], str | None]],
    build: Callable[[Any, Provenance], list[Post]],
    collector: str,
    page_limit: int,
    max_posts: int | None,
    resume: bool,
    finish: Callable[[list[tuple[Post, str]]], list[tuple[Post, str]]] | None = None,
    on_page: Callable[[CollectResult], None] | None = None,
) -> CollectResult:
    """Page through an API that pages with a cursor, storing each page as it arrives.

    Parameters
    ----------
    label : str
        The result's ``source`` and the posts' provenance source.
    key : str
        Where the cursor is saved in the store (and the quarantine source).
    store : Store
        Destination.
    fetch : callable
        ``fetch(cursor, limit)`` returns ``(items, next cursor or None)``.
    build : callable
        ``build(item, provenance)`` returns the item's posts, or raises
        :class:`~mapper.errors.ImportFormatError` (the item is quarantined).
    collector : str
        Provenance collector name.
    page_limit : int
        The most items the API returns a page.
    max_posts : int, optional
        Stop after this many items; the cursor stays saved, so the next run continues.
    resume : bool
        Start from the saved cursor.
    finish : callable, optional
        Rewrites a page's ``(post, raw)`` pairs before they are stored (e.g. resolving
        account ids to handles).
    on_page : callable, optional
        Called with the running totals after each page.

    Returns
    -------
    CollectResult
        ``stopped_reason`` ``"complete"`` (the cursor is then cleared, so the next run
        starts again from the newest item) or ``"max-posts"``.
    """
    check_max_posts(max_posts)
    result = CollectResult(source=label)
    cursor = (store.get_cursor(key) or None) if resume else None
    while True:
        limit = page_limit if max_posts is None else min(page_limit, max_posts - result.items)
        items, next_cursor = fetch(cursor, limit)
        result.pages += 1
        retrieved = now_utc()
        posts: list[tuple[Post, str]] = []
        for item in items:
            result.items += 1
            prov = Provenance(collector, __version__, label, result.items, retrieved)
            try:
                built = build(item, prov)
            except ImportFormatError as exc:
                store.quarantine(key, result.items, exc.one_line(), raw_excerpt(item))
                result.quarantined += 1
                continue
            raw = raw_json(item)
            posts.extend((post, raw) for post in built)
        result.store_posts(store, finish(posts) if finish is not None else posts)
        if on_page is not None:
            on_page(result.running())
        if not items or not next_cursor or next_cursor == cursor:
            store.set_cursor(key, "")
            result.stopped_reason, result.cursor = "complete", None
            return result
        cursor = next_cursor
        store.set_cursor(key, cursor)
        result.cursor = cursor
        if max_posts is not None and result.items >= max_posts:
            result.stopped_reason = "max-posts"
            return result


# --------------------------------------------------------------------------- SDK calls


def sdk_call(
    fn: Callable[[], T],
    *,
    classify: Callable[[BaseException], Retry | None],
    errors: type[BaseException] | tuple[type[BaseException], ...],
    translate: Callable[[BaseException], MapperError],
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    policy: RetryPolicy = SOCIAL_RETRY_POLICY,
    rng: random.Random | None = None,
) -> T:
    """Run one SDK call under the retry policy; the SDK's remaining errors become
    mapper errors.

    Parameters
    ----------
    fn : callable
        The call.
    classify : callable
        Which failures are worth another attempt (see :func:`mapper.http.call_with_retries`).
    errors : exception type or tuple
        The SDK's own errors, handed to ``translate`` when they are not retried (or
        are still failing after the attempts).
    translate : callable
        Turns one of them into a :class:`~mapper.errors.MapperError` with a hint.
    what : str
        Names the call in messages.
    sleep, policy, rng
        As for :func:`mapper.http.call_with_retries`.
    """
    try:
        return call_with_retries(
            fn, classify=classify, policy=policy, sleep=sleep, rng=rng, what=what
        )
    except errors as exc:
        raise translate(exc) from None


def status_suffix(status: int | None, detail: str = "") -> str:
    """`` (HTTP 403: detail)`` for an error message, or ``""`` without a status."""
    if not status:
        return ""
    return f" (HTTP {status}{': ' + detail if detail else ''})"


def failed(what: str, status: int | None, detail: str, exc: BaseException) -> CollectorError:
    """The error of an SDK call that failed for no reason a collector knows better."""
    return CollectorError(
        f"{what}: failed{status_suffix(status, detail) or ': ' + redact(str(exc))[:200]}"
    )


def snippet(text: str, start: int = 0, end: int = 0, width: int = 140) -> str:
    """About ``width`` characters of ``text`` around ``text[start:end]``, whitespace
    folded (the snippets of Bluesky and Mastodon references)."""
    if len(text) <= width:
        piece = text
    else:
        centre = (start + end) // 2
        lo = max(0, min(centre - width // 2, len(text) - width))
        hi = lo + width
        piece = ("…" if lo > 0 else "") + text[lo:hi] + ("…" if hi < len(text) else "")
    return " ".join(piece.split())


def seconds_until(timestamp: float) -> float:
    """Seconds from now until a Unix time a server named (at least 1)."""
    return max(1.0, timestamp - time.time())


def parse_iso_time(value: Any) -> datetime | None:
    """Parse an ISO 8601 time (``Z``, offsets, up to nanoseconds) into UTC, or ``None``."""
    if isinstance(value, datetime):
        return utc(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    text = _FRACTION_RE.sub(r"\1", text)
    try:
        return utc(datetime.fromisoformat(text))
    except ValueError:
        return None
