"""Split CSV text into records, and catch the quotes that would swallow the rest of a file.

Python's :mod:`csv` reader treats a quote that is never closed as the start of one cell
running to the end of the file: every row after it is lost, and one cell holds them
all (``"gina,1,mention\\n...``). :class:`Records` finds where each record starts and
ends by following the quotes the way the reader does (a quote opens a quoted cell only
at the start of a cell; ``""`` inside it is a quote), so that such a record can be set
aside, with the line where the quote opened, and the lines after it read again as rows
of their own. A quoted cell that runs over several lines is taken to be unterminated
when the file ends inside it, or when its closing quote is followed by anything but a
delimiter or the end of the line (the quote that "closed" it opened another cell
further down). The reader using the records may also reject a record whose cell spans
lines where no line break belongs (:meth:`Records.reread_after`): a handle or a weight
never holds one. Memory is bounded whatever the input: a record longer than
``max_chars`` is kept as an excerpt only and reported as too long (one record, however
many lines it spans), and a line longer than :data:`MAX_LINE_CHARS` is cut.

The records are handed back as their physical lines, for :func:`csv.reader` to split
into cells.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol, cast

__all__ = [
    "EXCERPT_CHARS",
    "MAX_LINE_CHARS",
    "MAX_RECORD_CHARS",
    "FileLines",
    "Record",
    "Records",
    "TextLines",
    "quote_left_open",
]

#: The longest record kept whole (characters); a longer one is set aside as one record.
MAX_RECORD_CHARS = 1 << 20
#: The longest physical line read; the rest of a longer line is skipped.
MAX_LINE_CHARS = 4 << 20
#: Characters of a set-aside record kept for the quarantine.
EXCERPT_CHARS = 2048

_BOM = b"\xef\xbb\xbf"


@dataclass(slots=True)
class Record:
    """One CSV record: its lines, or why it cannot be read.

    Attributes
    ----------
    first, last : int
        The lines (1-based, as a text editor numbers them) it starts and ends on.
    lines : list of str
        Its physical lines with their line ends (empty when ``problem`` is set).
    problem : str
        Why the record cannot be read (an unterminated quote, too long), or ``""``.
    repaired : bool
        A line had invalid UTF-8 or a NUL byte (replaced, or removed).
    excerpt : str
        The start of the record (at most :data:`EXCERPT_CHARS` characters).
    """

    first: int
    last: int
    lines: list[str] = field(default_factory=list)
    problem: str = ""
    repaired: bool = False
    excerpt: str = ""

    @property
    def multiline(self) -> bool:
        """Whether a quoted cell carries it over more than one line."""
        return self.last > self.first


class LineSource(Protocol):
    """Lines for :class:`Records`, with a way to read again from a saved point."""

    number: int

    def read(self) -> tuple[str, bool, bool] | None:
        """The next line with its line end, whether it was repaired, and whether it
        was cut for being longer than the limit; ``None`` at the end."""

    def mark(self) -> object:
        """A point to come back to: just after the line last read."""

    def rewind(self, mark: object) -> None:
        """Read again from ``mark``."""


# A source may also offer ``skip_to_quote() -> (characters skipped, at the end)``: skip
# whole lines up to the next that holds a quote (see FileLines.skip_to_quote).


class FileLines:
    """The lines of a binary file, decoded as UTF-8 (invalid bytes replaced, NUL bytes
    removed, both flagged); lines end at ``\\n``. A UTF-8 byte-order mark is dropped."""

    def __init__(self, fh: BinaryIO, *, max_line: int = MAX_LINE_CHARS) -> None:
        self.fh = fh
        self.number = 0
        self.max_line = max_line

    def read(self) -> tuple[str, bool, bool] | None:
        raw = self.fh.readline(self.max_line)
        if not raw:
            return None
        self.number += 1
        cut = False
        if len(raw) >= self.max_line and not raw.endswith(b"\n"):
            cut = True
            while True:  # skip the rest of the line, a block at a time
                more = self.fh.readline(self.max_line)
                if not more or more.endswith(b"\n"):
                    break
        if self.number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        repaired = False
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            repaired = True
            text = raw.decode("utf-8", errors="replace")
        if "\x00" in text:
            repaired = True
            text = text.replace("\x00", "")
        return text, repaired and not cut, cut

    def mark(self) -> object:
        return (self.fh.tell(), self.number)

    def skip_to_quote(self) -> tuple[int, bool]:
        """Skip whole lines up to the first that holds a quote, a block at a time (the
        inside of a quoted cell too long to keep needs nothing else). Returns the
        bytes skipped and whether the end of the file was reached."""
        fh = self.fh
        start = line_start = position = fh.tell()
        while True:
            block = fh.read(1 << 20)
            if not block:
                if position > line_start:  # a last line without a line break
                    self.number += 1
                return position - start, True
            quote = block.find(b'"')
            end = quote if quote >= 0 else len(block)
            newline = block.rfind(b"\n", 0, end)
            if newline >= 0:
                self.number += block.count(b"\n", 0, newline + 1)
                line_start = position + newline + 1
            position += len(block)
            if quote >= 0:
                fh.seek(line_start)
                return line_start - start, False

    def rewind(self, mark: object) -> None:
        offset, number = cast("tuple[int, int]", mark)
        self.fh.seek(offset)
        self.number = number


class TextLines:
    """The lines of a text already in memory (a roster): split at ``\\n``, ``\\r\\n``
    and ``\\r``, as :func:`csv.reader` over ``io.StringIO(text, newline="")`` splits."""

    def __init__(self, text: str, *, max_line: int = MAX_LINE_CHARS) -> None:
        self.lines = io.StringIO(text, newline="").readlines()
        self.number = 0
        self.max_line = max_line

    def read(self) -> tuple[str, bool, bool] | None:
        if self.number >= len(self.lines):
            return None
        line = self.lines[self.number]
        self.number += 1
        if len(line) > self.max_line:
            return line[: self.max_line], False, True
        return line, False, False

    def mark(self) -> object:
        return self.number

    def rewind(self, mark: object) -> None:
        self.number = cast(int, mark)


def _never_closed(first: int) -> str:
    return f"unterminated quote: the quoted cell opened on line {first} is never closed"


def _excerpt(line: str) -> str:
    return line[:EXCERPT_CHARS].rstrip("\r\n")


def _scan(line: str, pos: int, quoted: bool, carried: bool, delimiter: str) -> tuple[bool, bool]:
    """Follow the quotes of one physical line from ``pos``.

    ``quoted``: a quoted cell is open at ``pos``; ``carried``: it was opened on an
    earlier line. Returns ``(a quoted cell is still open at the end of the line, a cell
    carried from an earlier line was closed by a quote followed by something other
    than a delimiter or the line end)``.
    """
    n = len(line)
    while True:
        if quoted:
            close = line.find('"', pos)
            if close < 0:
                return True, False
            after = close + 1
            if after < n and line[after] == '"':  # "" is a quote inside the cell
                pos = after + 1
                continue
            following = line[after] if after < n else ""
            if following == delimiter:
                quoted, carried, pos = False, False, after + 1
            elif following in ("", "\n", "\r"):
                return False, False
            elif carried:
                return False, True
            else:  # text after a closing quote stays in the cell (as csv reads it)
                stop = line.find(delimiter, after)
                if stop < 0:
                    return False, False
                quoted, pos = False, stop + 1
        # at the start of a cell
        if pos < n and line[pos] == '"':
            quoted, carried, pos = True, False, pos + 1
            continue
        stop = line.find(delimiter, pos)
        if stop < 0:
            return False, False
        pos = stop + 1


def quote_left_open(line: str, delimiter: str) -> bool:
    """Whether a quoted cell is still open at the end of ``line`` (read on its own)."""
    return '"' in line and _scan(line, 0, False, False, delimiter)[0]


class Records:
    """The records of CSV text, one :class:`Record` each, in file order.

    Parameters
    ----------
    source : FileLines or TextLines
        The lines, positioned after the header.
    delimiter : str
        The cell delimiter.
    max_chars : int, optional
        The longest record kept whole (default :data:`MAX_RECORD_CHARS`).

    Notes
    -----
    Blank lines between records are skipped. An unterminated quote gives one record
    with ``problem`` set, naming the line where the quote opened; reading then goes on
    from the next line. A record longer than ``max_chars`` that does close gives one
    record with ``problem`` set, and reading goes on after it.
    """

    def __init__(self, source: LineSource, delimiter: str, *, max_chars: int | None = None) -> None:
        self.source = source
        self.delimiter = delimiter
        self.max_chars = MAX_RECORD_CHARS if max_chars is None else max_chars
        self._reread = False

    def reread_after(self, record: Record) -> None:
        """Set ``record`` aside as an unterminated quote: the next record is read from
        its second line. Call it before asking for the next record."""
        if record.multiline:
            self._reread = True

    def __iter__(self) -> Iterator[Record]:
        source, delimiter = self.source, self.delimiter
        while True:
            got = source.read()
            if got is None:
                return
            line, repaired, cut = got
            first = source.number
            if cut:
                yield Record(
                    first,
                    first,
                    problem=f"line {first} is longer than {MAX_LINE_CHARS:,} characters",
                    excerpt=_excerpt(line),
                )
                continue
            if '"' not in line or not _scan(line, 0, False, False, delimiter)[0]:
                if line.strip():
                    yield Record(first, first, [line], repaired=repaired)
                continue
            # a quoted cell goes on past the end of this line
            mark = source.mark()
            excerpt = _excerpt(line)
            parts: list[str] | None = [line]
            size = len(line)
            while True:
                got = source.read()
                if got is None:
                    yield Record(first, first, problem=_never_closed(first), excerpt=excerpt)
                    source.rewind(mark)
                    break
                line, more_repaired, cut = got
                repaired = repaired or more_repaired
                last = source.number
                if cut:  # the quotes cannot be followed through it: the record ends here
                    yield Record(
                        first,
                        last,
                        problem=(
                            f"the quoted cell opened on line {first} runs into line {last}, "
                            f"which is longer than {MAX_LINE_CHARS:,} characters"
                        ),
                        excerpt=excerpt,
                    )
                    break
                still_open, bad_close = _scan(line, 0, True, True, delimiter)
                if bad_close:
                    yield Record(
                        first,
                        first,
                        problem=(
                            f"unterminated quote: the quoted cell opened on line {first} "
                            f"runs on to line {last}"
                        ),
                        excerpt=excerpt,
                    )
                    source.rewind(mark)
                    break
                size += len(line)
                if parts is not None:
                    if size > self.max_chars:
                        parts = None
                    else:
                        parts.append(line)
                if still_open:
                    skip = getattr(source, "skip_to_quote", None)
                    if parts is None and skip is not None:  # nothing to keep: jump ahead
                        skipped, at_end = skip()
                        size += skipped
                        if at_end:
                            yield Record(
                                first, first, problem=_never_closed(first), excerpt=excerpt
                            )
                            source.rewind(mark)
                            break
                    continue
                if parts is None:
                    yield Record(
                        first,
                        last,
                        problem=(
                            f"record too long: lines {first}-{last} hold {size:,} characters "
                            f"(at most {self.max_chars:,})"
                        ),
                        excerpt=excerpt,
                    )
                    break
                yield Record(first, last, parts, repaired=repaired)
                if self._reread:
                    self._reread = False
                    source.rewind(mark)
                break
