"""Parliamentary divisions into the store: the Commons Votes CSV export, the Commons Votes
API's JSON, a generic long table of votes, and live collection from the Commons Votes API.

Every reader turns its input into :class:`~mapper.records.Division` records carrying
one :class:`~mapper.records.Vote` per member (``aye``, ``no`` or ``no_vote``, tellers
and proxies recorded); raw payloads stop here. :func:`import_division_file` imports a
saved file of any of the three formats (told apart by :func:`detect_format`): it skips
a file imported unchanged before, quarantines what cannot be read (with its line and
the reason), stores the rest and records the import. :func:`collect_commons_divisions`
collects from the Commons Votes API through :class:`mapper.http.HttpClient` (timeouts,
retries, rate limits), paced, paged with a cursor saved after every division (an
interrupted run resumes where it stopped), each division's JSON appended to a JSONL
archive before it is stored, and never fetching a division the store already holds.

Formats:

- **Commons Votes CSV** (the website's "download" of one division): header lines
  (``Division Number: 386``, ``Division Date: 27/03/2019``, the title, ``Aye Count``,
  ``Noes Count``), then ``Member,Party,Constituency,Vote,Proxy Member`` rows with
  ``Aye``, ``No`` or ``No Vote Recorded``. CRLF line ends and the export's ``?`` for
  letters it cannot write are taken as they come (names are matched with ``?`` as a
  wildcard, see :mod:`mapper.resolve.members`).
- **Commons Votes API JSON**: one division object per file, a JSON array of them, or
  JSONL (one a line, as the live collector archives them), with ``DivisionId``,
  ``Number``, ``Date``, ``Title``, ``AyeCount``, ``NoCount`` and the member lists
  ``Ayes``, ``Noes``, ``AyeTellers``, ``NoTellers``, ``NoVoteRecorded`` (each member
  with ``MemberId``, ``Name``, ``Party``, ``MemberFrom``, ``ProxyName``). The API's
  times are London time and are stored in UTC.
- **Long table** (CSV, TSV or semicolon-separated), one vote a row, for any
  parliament: ``member``, ``division`` and ``vote`` are required; ``party``, ``date``,
  ``title``, ``member_id``, ``constituency``, ``teller``, ``proxy`` and ``parliament``
  are optional; common other names for each column are understood
  (:data:`TABLE_COLUMNS`). Vote words in several languages are understood
  (:func:`parse_vote`); anything else is quarantined, never guessed.

A division is keyed ``<house>:<YYYY-MM-DD>/<number>``, so the CSV export and the API
JSON of one division are one division in the store.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from mapper import __version__
from mapper.collectors.base import (
    raw_excerpt,
    raw_json,
    read_json_records,
    refuse_wide_text,
    require_file,
)
from mapper.csvrecords import FileLines, Record, Records
from mapper.errors import CollectorError, ImportFormatError
from mapper.http import HttpClient, HttpStatusError, redact
from mapper.records import Division, Provenance, Vote, now_utc, utc
from mapper.resolve.members import member_key
from mapper.store import file_fingerprint

if TYPE_CHECKING:
    from mapper.store import Store

__all__ = [
    "API_BASE",
    "COMMONS",
    "FORMATS",
    "SEARCH_PAGE_SIZE",
    "TABLE_COLUMNS",
    "CommonsVotesAPI",
    "DivisionCollectResult",
    "DivisionImportResult",
    "collect_commons_divisions",
    "detect_format",
    "division_from_api",
    "import_division_file",
    "iter_division_file",
    "parse_vote",
    "read_commons_csv",
    "read_division_table",
]

COLLECTOR = "divisions"
#: The formats :func:`import_division_file` reads (``auto`` tells them apart).
FORMATS: tuple[str, ...] = ("auto", "commons-csv", "commons-json", "table")
#: The house name of Commons divisions (the first part of their uid).
COMMONS = "commons"
#: The Commons Votes API.
API_BASE = "https://commonsvotes-api.parliament.uk/data"
#: Divisions per page of the API's search (its maximum ``take``).
SEARCH_PAGE_SIZE = 25
#: Seconds between two requests to the API (politeness).
MIN_INTERVAL = 0.5
#: Rows set aside held in memory before they are written to the quarantine.
QUARANTINE_BATCH = 1000
#: Problems kept word for word in an import's result (all are quarantined).
MAX_PROBLEMS = 20
#: The house a long table's votes belong to when neither a column nor an option says.
DEFAULT_PARLIAMENT = "parliament"

_LONDON = ZoneInfo("Europe/London")
_BOM = "\ufeff"

# --------------------------------------------------------------------------- votes

_AYE = frozenset(
    (
        *("aye", "ayes", "yes", "yea", "yeas", "y", "for", "content", "contents"),
        *("pour", "oui", "ja", "si", "sí", "sì", "tak", "da"),
        *("in favour", "in favor", "voted aye", "voted for", "voted yes"),
    )
)
_NO = frozenset(
    (
        *("no", "noes", "nay", "nays", "n", "against", "not content", "not contents"),
        *("contre", "non", "nein", "nie", "ne", "voted no", "voted against"),
    )
)
_NO_VOTE = frozenset(
    [
        "no vote recorded",
        "no vote",
        "novote",
        "did not vote",
        "not voting",
        "not voted",
        "absent",
        "abstain",
        "abstained",
        "abstention",
        "abstentions",
        "present",
        "present not voting",
        "paired",
        "excused",
        # the same in the languages whose aye and no words are read above
        *("enthaltung", "enthalten", "nicht abgegeben", "nicht abgestimmt", "abwesend"),
        *("abstenu", "absente", "ne prend pas part au vote", "non participation"),
        *("abstención", "abstencion", "ausente", "astenuto", "astensione", "assente"),
        *("wstrzymał się", "wstrzymała się", "wstrzymuję się", "nieobecny", "nieobecna"),
        *("uzdržan", "suzdržan", "odsutan"),
    ]
)
_TELLER = re.compile(r"\btellers?\b|\btelling\b")
_FILLER = re.compile(r"\b(?:for|the|of)\b")
_NOT_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=4096)
def parse_vote(value: str) -> tuple[str, bool] | None:
    """Read a vote word: ``(vote, teller)`` with vote one of ``aye``, ``no``,
    ``no_vote``, or ``None`` when the word is not understood.

    Case, spacing, ``_`` and ``-`` do not matter. ``Teller - Ayes``, ``Aye (teller)``
    and ``tellers for the noes`` are tellers for that side. Abstentions, absences and
    pairs are ``no_vote``.

    >>> parse_vote("No Vote Recorded"), parse_vote("AYE"), parse_vote("Teller - Noes")
    (('no_vote', False), ('aye', False), ('no', True))
    >>> parse_vote("maybe") is None
    True
    """
    text = " ".join(_NOT_WORD.sub(" ", str(value).casefold().replace("_", " ")).split())
    if not text:
        return None
    teller = False
    if _TELLER.search(text):
        teller = True
        text = " ".join(_FILLER.sub(" ", _TELLER.sub(" ", text)).split())
    if text in _AYE:
        return "aye", teller
    if text in _NO:
        return "no", teller
    if text in _NO_VOTE and not teller:
        return "no_vote", False
    return None


def _short(votes: Iterable[Vote], ayes: int | None, noes: int | None) -> bool:
    """Whether a division lists fewer ayes or noes (tellers apart) than it declares:
    a truncated or cut export, which must not replace a complete copy."""
    listed = {"aye": 0, "no": 0, "no_vote": 0}
    for vote in votes:
        if not vote.teller:
            listed[vote.vote] += 1
    return (ayes is not None and listed["aye"] < ayes) or (noes is not None and listed["no"] < noes)


def _division_uid(house: str, date_key: str, number: str) -> str:
    return f"{house}:{date_key}/{number}" if date_key else f"{house}:{number}"


def _clean(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


# --------------------------------------------------------------------------- results


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass
class DivisionImportResult:
    """What the import of one division file did.

    Attributes
    ----------
    source : str
        The file.
    format : str
        ``commons-csv``, ``commons-json`` or ``table``.
    lines : int
        Lines (JSONL lines, table rows) read.
    divisions : int
        Divisions read.
    votes : int
        Votes in them.
    added, duplicates, replaced, kept : int
        Divisions new to the store; stored before with the same votes; stored with
        other votes, now replaced; stored complete or from a richer source, left as
        they were (see :meth:`mapper.store.Store.add_divisions`).
    quarantined : int
        Rows, members and divisions set aside (in the store's quarantine, with their
        line and reason).
    skipped_unchanged : bool
        Imported before, unchanged, with the same options: nothing was read.
    problems : list of str
        The first :data:`MAX_PROBLEMS` problems, each ``file:line: reason``.
    """

    source: str = ""
    format: str = ""
    lines: int = 0
    divisions: int = 0
    votes: int = 0
    added: int = 0
    duplicates: int = 0
    replaced: int = 0
    kept: int = 0
    quarantined: int = 0
    skipped_unchanged: bool = False
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the user."""
        where = f"{self.source}: " if self.source else ""
        if self.skipped_unchanged:
            return f"{where}unchanged since it was imported, skipped (use --force)"
        text = (
            f"{where}{_plural(self.divisions, 'division')} ({_plural(self.votes, 'vote')}), "
            f"{self.added} new, {self.replaced} replaced, {self.duplicates} already stored"
        )
        if self.kept:
            text += f", {self.kept} kept as stored (the stored copy is complete or richer)"
        if self.quarantined:
            text += f", {self.quarantined} quarantined (see `mapper quarantine`)"
        return text


@dataclass
class DivisionCollectResult:
    """What one collection from the Commons Votes API did.

    Attributes
    ----------
    source : str
        A label of what was asked (search terms, dates, division ids).
    pages : int
        Search pages fetched.
    fetched : int
        Divisions fetched.
    skipped : int
        Divisions found by the search but already stored (not fetched again).
    added, duplicates, replaced, kept : int
        As for :class:`DivisionImportResult`.
    votes : int
        Votes in the divisions stored.
    quarantined : int
        Divisions or members that could not be read, and API error bodies.
    stopped_reason : str
        ``complete``, or ``max-divisions`` (the budget was reached; running again
        continues).
    cursor : str or None
        The saved position a stopped search resumes from.
    archive : str or None
        The JSONL archive the divisions were appended to.
    """

    source: str = ""
    pages: int = 0
    fetched: int = 0
    skipped: int = 0
    added: int = 0
    duplicates: int = 0
    replaced: int = 0
    kept: int = 0
    votes: int = 0
    quarantined: int = 0
    stopped_reason: str = "complete"
    cursor: str | None = None
    archive: str | None = None

    @property
    def complete(self) -> bool:
        """Whether the run reached the end of what was asked."""
        return self.stopped_reason == "complete"

    def summary(self) -> str:
        """One line for the user."""
        text = (
            f"{self.source}: {_plural(self.fetched, 'division')} fetched"
            + (f" from {self.pages} pages" if self.pages else "")
            + f", {self.added} new, {self.replaced} replaced, {self.duplicates} unchanged"
        )
        if self.skipped:
            text += f", {self.skipped} already stored (not fetched)"
        if self.quarantined:
            text += f", {self.quarantined} quarantined (see `mapper quarantine`)"
        if self.stopped_reason == "max-divisions":
            text += "; stopped at --max-divisions (run again to continue)"
        return text


# --------------------------------------------------------------------------- Commons CSV

_CSV_KEYS = {
    "division number": "number",
    "division no": "number",
    "number": "number",
    "division date": "date",
    "date": "date",
    "aye count": "ayes",
    "ayes count": "ayes",
    "ayes": "ayes",
    "no count": "noes",
    "noes count": "noes",
    "noes": "noes",
    "division title": "title",
    "title": "title",
}
_KEY_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z .]*?)\s*:\s*(.*?)\s*$")
_OnBad = Callable[[int | None, str, Any], None]


def _norm_header(name: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", name.replace(_BOM, "").casefold()).split())


#: A time of day after a date written with slashes or dots (``27/03/2019 19:15:00``).
_CLOCK = re.compile(r"(?<=\d)[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


def _parse_day(text: str) -> date | None:
    """A date written ``27/03/2019``, ``27.03.2019``, ``2019-03-27``, ``2019/03/27``
    (or an ISO time); a spreadsheet's time of day after the date (``27/03/2019
    00:00:00``) is left out."""
    value = text.strip()
    if not value:
        return None
    if "/" in value[:10] or "." in value[:10]:
        value = _CLOCK.sub("", value)
    m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", value)
    try:
        if re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}", value):
            year, month, day = (int(part) for part in value.split("/"))
            return date(year, month, day)
        if m:
            first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            # day first (the UK and most of Europe), unless that cannot be a date
            if second > 12 >= first:
                first, second = second, first
            return date(year, second, first)
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _parse_when(text: str) -> tuple[datetime, str] | None:
    """``(UTC time, the sitting date as written)`` of a division date or time.

    A time without an offset is London time (as the Commons Votes API writes it); a
    date alone is midnight UTC of that date.
    """
    value = text.strip()
    if len(value) > 10 and value[4:5] == "-" and value[10:11] in ("T", " "):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            local = moment if moment.tzinfo is None else moment.astimezone(_LONDON)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=_LONDON)
            return utc(moment), local.date().isoformat()
    day = _parse_day(value)
    if day is None:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC), day.isoformat()


def _csv_cells(line: str) -> list[str]:
    try:
        return next(csv.reader([line.rstrip("\r\n")]), [])
    except csv.Error:
        return [line.rstrip("\r\n")]


def _csv_problem(exc: csv.Error) -> str:
    reason = str(exc)
    if "field limit" in reason:
        return f"a cell is longer than {csv.field_size_limit():,} characters"
    return reason


def _spans_lines(record: Record) -> str:
    return (
        f"unterminated quote: the quoted cell opened on line {record.first} runs over "
        f"lines {record.first}-{record.last} (a vote row never holds a line break)"
    )


def _count(value: str, path: Path, line: int, what: str) -> int:
    text = value.strip().replace(",", "")
    if not text.isdigit():
        raise ImportFormatError(f"{what} is not a number: {value!r}", source=path, line=line)
    return int(text)


def read_commons_csv(path: str | Path, *, on_bad: _OnBad, house: str = COMMONS) -> Division | None:
    """Read a Commons Votes CSV export (one division).

    Parameters
    ----------
    path : str or Path
        The export.
    on_bad : callable
        ``on_bad(line, reason, raw)`` for each member row set aside: a truncated row,
        an unknown vote, a member listed twice, an undecodable line. The division is
        then marked incomplete. A division without any vote is set aside as a whole
        (``on_bad`` with the line of the member table's header) and ``None`` returned.
    house : str
        The house the division belongs to.

    Returns
    -------
    Division or None

    Raises
    ------
    ImportFormatError
        The file is not such an export: no member table, no division number or date,
        an unreadable date (naming the line). An unreadable count is set aside with
        ``on_bad`` and left unknown.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            return _read_commons_csv(p, fh, on_bad, house)
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=p) from None


def _read_commons_csv(p: Path, fh: BinaryIO, on_bad: _OnBad, house: str) -> Division | None:
    """:func:`read_commons_csv` on an open file, streamed: a record is never longer
    than :data:`~mapper.csvrecords.MAX_RECORD_CHARS`, whatever the file holds."""
    newlines, tail = 0, b"\n"
    for block in iter(lambda: fh.read(1 << 20), b""):
        newlines += block.count(b"\n")
        tail = block[-1:]
    ends_clean = tail in (b"\n", b"\r")
    last = newlines + (0 if tail == b"\n" else 1)  # the number of the last line
    fh.seek(0)
    source = FileLines(fh)
    head: dict[str, tuple[str, int]] = {}
    title = ""
    header_at = 0
    columns: dict[str, int] = {}
    bare_cr = False
    while (got := source.read()) is not None:
        text, lineno = got[0], source.number
        if not text.strip():
            continue
        bare_cr = bare_cr or "\r" in text.rstrip("\r\n")
        cells = _csv_cells(text)
        names = [_norm_header(c) for c in cells]
        if "member" in names and "vote" in names:
            header_at = lineno
            for index, name in enumerate(names):
                columns.setdefault(name, index)
            break
        joined = ",".join(cells).strip()
        m = _KEY_LINE.match(joined)
        key = _CSV_KEYS.get(_norm_header(m.group(1))) if m else None
        if m and key and key not in head:
            head[key] = (m.group(2).strip(), lineno)
        elif _norm_header(joined) == "members recorded":
            continue
        elif not title:
            title = joined
    if not header_at:
        raise ImportFormatError(
            "no member table: no 'Member,Party,Constituency,Vote' header line",
            source=p,
            hint="its lines end with a bare carriage return (CR): save it with LF or CRLF line ends"
            if bare_cr
            else "is this a Commons Votes CSV export? other tables: --format table",
        )
    for key, label in (("number", "Division Number"), ("date", "Division Date")):
        if not head.get(key, ("", 0))[0]:
            raise ImportFormatError(
                f"no '{label}:' line before the member table",
                source=p,
                line=header_at,
                hint="a long table with division and date columns reads with --format table",
            )
    number = head["number"][0].strip()
    when = _parse_when(head["date"][0])
    if when is None:
        raise ImportFormatError(
            f"unreadable division date {head['date'][0]!r}", source=p, line=head["date"][1]
        )
    moment, date_key = when
    if "title" in head and not title:
        title = head["title"][0]
    counts: dict[str, int | None] = {}
    for key, label in (("ayes", "Aye Count"), ("noes", "Noes Count")):
        if key not in head:
            counts[key] = None
            continue
        try:
            counts[key] = _count(head[key][0], p, head[key][1], label)
        except ImportFormatError as exc:  # the votes are kept, their count unchecked
            counts[key] = None
            on_bad(head[key][1], f"{exc.message}: the declared count is unknown", head[key][0])
    ayes, noes = counts["ayes"], counts["noes"]

    member_col = columns["member"]
    vote_col = columns["vote"]
    party_col = columns.get("party")
    seat_col = columns.get("constituency")
    proxy_col = next(
        (columns[c] for c in ("proxy member", "proxy", "proxy name") if c in columns), None
    )
    need = max(i for i in (member_col, vote_col, party_col, seat_col) if i is not None) + 1
    votes: list[Vote] = []
    first_line: dict[str, tuple[int, str]] = {}
    complete = True
    records = Records(source, ",")
    for record in records:
        start = record.first
        if record.problem and not (start == last and not ends_clean):
            complete = False
            on_bad(start, record.problem, record.excerpt)
            continue
        if record.problem:  # a quote open in the last line, cut short: read what it has
            record.lines = [record.excerpt]
        try:
            parsed_rows = list(csv.reader(record.lines))
        except csv.Error as exc:
            complete = False
            on_bad(start, f"unreadable CSV row: {_csv_problem(exc)}", record.lines[0][:2000])
            continue
        cells = parsed_rows[0] if parsed_rows else []
        if not cells or all(not c.strip() for c in cells):
            continue
        raw = "".join(record.lines).rstrip("\r\n")
        if record.multiline and any("\n" in c or "\r" in c for c in cells):
            # no cell of a member row holds a line break: a quote was left open
            records.reread_after(record)
            complete = False
            on_bad(start, _spans_lines(record), record.lines[0][:2000].rstrip("\r\n"))
            continue
        if record.repaired:
            complete = False
            on_bad(start, "invalid UTF-8 or NUL byte in row", raw)
            continue
        if len(cells) < need:
            complete = False
            if record.last >= last and not ends_clean:
                reason = (
                    f"truncated row ({len(cells)} of {len(columns)} columns): "
                    "the export ends in the middle of a row"
                )
            else:
                reason = f"truncated row ({len(cells)} of {len(columns)} columns)"
            on_bad(start, reason, raw)
            continue
        name = cells[member_col].strip()
        if not name:
            complete = False
            on_bad(start, "no member name", raw)
            continue
        parsed = parse_vote(cells[vote_col])
        if parsed is None:
            complete = False
            on_bad(
                start,
                f"unknown vote value {cells[vote_col].strip()!r} for {name} "
                "(expected Aye, No or No Vote Recorded)",
                raw,
            )
            continue
        seat = cells[seat_col].strip() if seat_col is not None else ""
        key = member_key(name, seat)
        if key in first_line:
            complete = False
            seen_line, seen_vote = first_line[key]
            same = "the same vote" if seen_vote == parsed[0] else "a different vote"
            on_bad(
                start,
                f"member {name} listed twice in division {number} (first on line {seen_line}, "
                f"{same}); the first is kept",
                raw,
            )
            continue
        first_line[key] = (start, parsed[0])
        votes.append(
            Vote(
                member=key,
                name=name,
                vote=parsed[0],
                party=cells[party_col].strip() if party_col is not None else "",
                constituency=seat,
                teller=parsed[1],
                proxy=cells[proxy_col].strip()
                if proxy_col is not None and proxy_col < len(cells)
                else "",
                line=start,
            )
        )
    if not votes:
        on_bad(header_at, f"division {number} of {date_key} has no votes", None)
        return None
    return Division(
        uid=_division_uid(house, date_key, number),
        house=house,
        number=number,
        date=moment,
        title=title,
        aye_count=ayes,
        no_count=noes,
        votes=tuple(votes),
        format="commons-csv",
        complete=complete and not _short(votes, ayes, noes),
        provenance=Provenance("commons-csv", __version__, os.path.abspath(p), 1, None),
    )


# --------------------------------------------------------------------------- API JSON

#: The member lists of an API division: (key, vote, teller).
_API_LISTS: tuple[tuple[str, str, bool], ...] = (
    ("Ayes", "aye", False),
    ("Noes", "no", False),
    ("AyeTellers", "aye", True),
    ("NoTellers", "no", True),
    ("NoVoteRecorded", "no_vote", False),
)
_ERROR_KEYS = ("title", "message", "Message", "detail", "errors", "error", "status")


def _api_error_message(value: Any) -> str | None:
    """The message of an API error body (``None`` when ``value`` is not one)."""
    if not isinstance(value, dict) or "DivisionId" in value:
        return None
    if not any(k in value for k in _ERROR_KEYS):
        return None
    parts: list[str] = []
    for key in ("status", "title", "message", "Message", "detail", "error"):
        item = value.get(key)
        if isinstance(item, str | int) and str(item).strip():
            parts.append(str(item).strip())
    errors = value.get("errors")
    if isinstance(errors, dict):
        for key, messages in list(errors.items())[:3]:
            text = "; ".join(str(m) for m in messages) if isinstance(messages, list) else messages
            parts.append(f"{key}: {text}")
    elif isinstance(errors, list):
        parts.extend(str(e) for e in errors[:3])
    return redact(" ".join(" ".join(parts).split()))[:300] or "an error without a message"


def _int_or_none(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ImportFormatError(f"{name} is not a number: {value!r}", field=name)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ImportFormatError(f"{name} is not a number: {value!r}", field=name) from None
    if number < 0:
        raise ImportFormatError(f"{name} is negative: {value!r}", field=name)
    return number


def division_from_api(
    item: Any,
    *,
    provenance: Provenance | None = None,
    on_bad: _OnBad | None = None,
    house: str = COMMONS,
) -> Division:
    """Build a :class:`~mapper.records.Division` from one Commons Votes API division.

    Parameters
    ----------
    item : dict
        The division as the API serves it (``/data/division/{id}.json``).
    provenance : Provenance, optional
        Where it came from; its ``line`` is given to ``on_bad``.
    on_bad : callable, optional
        ``on_bad(line, reason, raw)`` for each member entry set aside (not an object,
        no name or id, listed twice); the division is then marked incomplete.
    house : str
        The house.

    Returns
    -------
    Division

    Raises
    ------
    ImportFormatError
        An API error body, an object that is not a division, an unreadable date or
        count, or a division without any vote.
    """
    if not isinstance(item, dict):
        raise ImportFormatError(f"not a division object (a JSON {type(item).__name__})")
    message = _api_error_message(item)
    if message is not None:
        raise ImportFormatError(f"an API error body, not a division: {message}")
    if not any(k in item for k in ("DivisionId", "Number", "Date")):
        raise ImportFormatError(
            "not a Commons Votes division (no DivisionId, Number or Date)",
            hint="other tables: --format table",
        )
    division_id = _clean(item.get("DivisionId")) or None
    number_value = _int_or_none(item.get("Number"), "Number")
    number = str(number_value) if number_value else ""
    when = _parse_when(str(item.get("Date") or ""))
    if when is None:
        raise ImportFormatError(f"unreadable or missing Date {item.get('Date')!r}", field="Date")
    moment, date_key = when
    if not number and not division_id:
        raise ImportFormatError("a division needs a Number or a DivisionId", field="Number")
    uid = _division_uid(house, date_key, number) if number else f"{house}:id/{division_id}"
    line = provenance.line if provenance is not None else None
    label = f"division {number or division_id}"

    def bad(reason: str, raw: Any) -> None:
        if on_bad is not None:
            on_bad(line, f"{label}: {reason}", raw_excerpt(raw))

    def declared(name: str) -> int | None:
        # an unreadable count is set aside; the votes are kept, their count unchecked
        try:
            return _int_or_none(item.get(name), name)
        except ImportFormatError as exc:
            bad(f"{exc.message}: the declared count is unknown", {name: item.get(name)})
            return None

    ayes = declared("AyeCount")
    noes = declared("NoCount")

    votes: list[Vote] = []
    where: dict[str, str] = {}
    complete = True
    position = 0
    for list_name, vote, teller in _API_LISTS:
        members = item.get(list_name)
        if members is None:
            continue
        if not isinstance(members, list):
            complete = False
            bad(f"{list_name} is not a list", members)
            continue
        for index, member in enumerate(members):
            position += 1
            if not isinstance(member, dict):
                complete = False
                bad(f"{list_name}[{index}] is not a member object", member)
                continue
            member_id = _clean(member.get("MemberId")) or None
            name = _clean(member.get("Name")) or _list_as(member.get("ListAs"))
            if not name and member_id is None:
                complete = False
                bad(f"{list_name}[{index}] has neither a Name nor a MemberId", member)
                continue
            name = name or f"member {member_id}"
            seat = _clean(member.get("MemberFrom"))
            key = member_key(name, seat, member_id)
            if key in where:
                complete = False
                bad(
                    f"member {name}"
                    + (f" (MemberId {member_id})" if member_id else "")
                    + f" listed twice ({where[key]} and {list_name}); the first is kept",
                    member,
                )
                continue
            where[key] = list_name
            votes.append(
                Vote(
                    member=key,
                    name=name,
                    vote=vote,
                    party=_clean(member.get("Party")),
                    constituency=seat,
                    member_id=member_id,
                    teller=teller,
                    proxy=_clean(member.get("ProxyName")),
                    line=position,
                )
            )
    if not votes:
        raise ImportFormatError(f"{label} of {date_key} has no votes")
    if not item.get("Ayes") and not item.get("Noes") and (ayes or noes):
        raise ImportFormatError(
            f"{label} of {date_key} lists no ayes and no noes against {ayes} and {noes} "
            "declared: a search listing, not the division itself",
            hint="fetch it with `mapper votes collect --division ID`",
        )
    return Division(
        uid=uid,
        house=house,
        number=number,
        date=moment,
        title=_clean(item.get("Title")),
        aye_count=ayes,
        no_count=noes,
        division_id=division_id,
        votes=tuple(votes),
        format="commons-api",
        complete=complete and not _short(votes, ayes, noes),
        provenance=provenance,
    )


def _list_as(value: Any) -> str:
    """``Abbott, Diane`` -> ``Diane Abbott`` (the API's ``ListAs``)."""
    text = _clean(value)
    if text.count(",") == 1:
        surname, _, forenames = text.partition(",")
        return f"{forenames.strip()} {surname.strip()}".strip()
    return text


def _api_items(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return None


def _read_api_file(path: Path, on_bad: _OnBad, house: str) -> Iterator[tuple[Division, str | None]]:
    source = os.path.abspath(path)
    with open(path, "rb") as fh:
        head = fh.read(512).removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<"):  # an error page or a login page saved under the API's name
        kind = "an HTML page" if head[:100].lower().find(b"html") >= 0 else "markup (XML or HTML)"
        raise ImportFormatError(
            f"not JSON: the file is {kind}",
            source=path,
            hint="the API may have answered with an error page; fetch the division again",
        )
    if head and head[:1] not in b"[{":  # a CSV export or a table read as JSON
        first = head.split(b"\n", 1)[0][:60].decode("utf-8", errors="replace").strip()
        raise ImportFormatError(
            f"not JSON: the file starts with {first!r}",
            source=path,
            hint="CSV exports and long tables read with --format auto (the default)",
        )
    try:
        for number, value, error, _element in read_json_records(path):
            if error is not None:
                on_bad(number, error, raw_excerpt(value))
                continue
            items = _api_items(value)
            if items is None:
                on_bad(
                    number or None, "not a division object or a list of them", raw_excerpt(value)
                )
                continue
            for index, item in enumerate(items, 1):
                line = number or index
                prov = Provenance("commons-api", __version__, source, line, _stamp(item))
                try:
                    division = division_from_api(item, provenance=prov, on_bad=on_bad, house=house)
                except ImportFormatError as exc:
                    on_bad(line, exc.message, raw_excerpt(item))
                    continue
                # a whole JSON document is not addressable by line: keep each item's JSON
                yield division, (raw_json(item) if number == 0 else None)
    except ImportFormatError as exc:
        if "not valid JSON" not in exc.message and "nested too deeply" not in exc.message:
            raise
        # a truncated or broken JSON document: the file's one record, set aside
        tail = path.read_bytes()[-300:].decode("utf-8", errors="replace")
        on_bad(exc.line, f"{exc.message} (a truncated or broken JSON document)", tail)


def _stamp(item: Any) -> datetime | None:
    """The retrieval time the live collector stamped on an archived division."""
    meta = item.get("__mapper") if isinstance(item, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("retrieved_at"), str):
        try:
            return utc(datetime.fromisoformat(meta["retrieved_at"]))
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------- long tables

#: Accepted column names of a long table (compared without case, spaces, ``_``, ``-``).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "member": (
        "member",
        "member name",
        "name",
        "mp",
        "mp name",
        "legislator",
        "representative",
        "deputy",
        "senator",
        "voter",
        "person",
    ),
    "division": (
        "division",
        "division id",
        "division number",
        "division no",
        "vote id",
        "vote number",
        "rollcall",
        "roll call",
        "rollnumber",
        "roll number",
        "ballot",
        "ballot id",
        "motion id",
    ),
    "vote": (
        "vote",
        "voted",
        "position",
        "vote cast",
        "choice",
        "decision",
        "lobby",
        "result",
    ),
    "party": ("party", "party name", "group", "political group", "party group", "caucus"),
    "date": ("date", "division date", "vote date", "datetime", "time", "when"),
    "title": ("title", "division title", "motion", "question", "subject", "description"),
    "member_id": ("member id", "mp id", "person id", "legislator id", "mnis id", "parliament id"),
    "constituency": (
        "constituency",
        "member from",
        "seat",
        "district",
        "riding",
        "electorate",
        "state",
    ),
    "teller": ("teller", "is teller"),
    "proxy": ("proxy", "proxy member", "proxy name"),
    "parliament": ("parliament", "house", "chamber", "assembly"),
}
_TRUE = frozenset({"1", "true", "yes", "y", "x", "teller"})


def _sniff(header: str, path: Path) -> str:
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Rows:
    """The rows of a long table with their starting line, streamed from the file (it
    is read twice: never held in memory whole)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header_line = 0
        header = ""
        try:
            with open(path, "rb") as fh:
                for number, raw in enumerate(fh, 1):
                    if number == 1:
                        raw = raw.removeprefix(b"\xef\xbb\xbf")
                    if raw.strip():
                        self.header_line = number
                        header = raw.decode("utf-8", errors="replace")
                        break
                fh.seek(0)
                newlines, last = 0, b"\n"
                for block in iter(lambda: fh.read(1 << 20), b""):
                    newlines += block.count(b"\n")
                    last = block[-1:]
                self.ends_clean = last in (b"\n", b"\r")
                #: the number of the file's last line
                self.last_line = newlines + (0 if last == b"\n" else 1)
        except OSError as exc:
            raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=path) from None
        if not self.header_line:
            raise ImportFormatError("empty file", source=path, hint="expected a table of votes")
        self.delimiter = _sniff(header, path)
        try:
            cells = next(csv.reader([header.rstrip("\r\n")], delimiter=self.delimiter), [])
        except csv.Error as exc:
            why = str(exc)
            if "\r" in header.rstrip("\r\n"):
                why = "its lines end with a bare carriage return (CR), as old Mac files do"
            raise ImportFormatError(
                f"unreadable header line: {why}",
                source=path,
                line=self.header_line,
                hint="save it with LF or CRLF line ends",
            ) from None
        self.header = [c.replace(_BOM, "").strip() for c in cells]
        normalized: dict[str, int] = {}
        for index, name in enumerate(self.header):
            normalized.setdefault(_norm_header(name), index)
        self.columns: dict[str, int] = {}
        for role, names in TABLE_COLUMNS.items():
            found = next((normalized[n] for n in names if n in normalized), None)
            if found is not None and found not in self.columns.values():
                self.columns[role] = found
        self._absent = [role for role in TABLE_COLUMNS if role not in self.columns]
        for role in ("member", "division", "vote"):
            if role not in self.columns:
                hint = f"found columns {self.header!r}; accepted names: " + ", ".join(
                    TABLE_COLUMNS[role]
                )
                if _CSV_HEAD.match(header):
                    hint = "this is a Commons Votes CSV export: --format commons-csv, or auto"
                raise ImportFormatError(
                    f"no {role!r} column", source=path, line=self.header_line, field=role, hint=hint
                )

    def __iter__(self) -> Iterator[tuple[int, list[str] | None, str]]:
        """``(line, cells, problem)``: a non-empty problem means the row is unusable."""
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed in finally
        except OSError as exc:
            raise ImportFormatError(
                f"cannot read: {exc.strerror or exc}", source=self.path
            ) from None
        try:
            source = FileLines(fh)
            while source.number < self.header_line and source.read() is not None:
                pass
            records = Records(source, self.delimiter)
            need = max(self.columns.values()) + 1
            for record in records:
                start = record.first
                if record.problem and (start < self.last_line or self.ends_clean):
                    yield start, None, record.problem
                    continue
                if record.problem:  # a quote open in the last line, cut short
                    record.lines = [record.excerpt]
                try:
                    parsed = list(csv.reader(record.lines, delimiter=self.delimiter))
                except csv.Error as exc:
                    yield start, None, f"unreadable CSV row: {_csv_problem(exc)}"
                    continue
                cells = parsed[0] if parsed else []
                if not cells or all(not c.strip() for c in cells):
                    continue
                if record.multiline and any(
                    "\n" in cells[i] or "\r" in cells[i]
                    for i in self.columns.values()
                    if i < len(cells)
                ):
                    # names, votes, dates and ids never hold a line break: a quote was
                    # left open, and the lines after it are read again as rows
                    records.reread_after(record)
                    yield start, None, _spans_lines(record)
                elif record.repaired:
                    yield start, cells, "invalid UTF-8 or NUL byte in row"
                elif len(cells) < need:
                    # the last row of a file that does not end with a line end: cut short
                    last = not self.ends_clean and record.last >= self.last_line
                    yield (
                        start,
                        cells,
                        f"truncated row ({len(cells)} of {len(self.header)} columns)"
                        + (": the file ends in the middle of a row" if last else ""),
                    )
                else:
                    yield start, cells, ""
        except OSError as exc:
            raise ImportFormatError(
                f"cannot read: {exc.strerror or exc}", source=self.path
            ) from None
        finally:
            fh.close()

    def values(self, cells: list[str]) -> dict[str, str]:
        """Every role's cell of a row (``""`` for roles without a column)."""
        n = len(cells)
        out = {role: (cells[i].strip() if i < n else "") for role, i in self.columns.items()}
        for role in self._absent:
            out[role] = ""
        return out

    def cell(self, cells: list[str], role: str) -> str:
        index = self.columns.get(role)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

    def raw(self, cells: list[str] | None) -> str:
        if cells is None:
            return ""
        buf = io.StringIO()
        csv.writer(buf, delimiter=self.delimiter).writerow(cells)
        return buf.getvalue().rstrip("\r\n")[:2000]


def read_division_table(
    path: str | Path, *, on_bad: _OnBad, parliament: str | None = None
) -> Iterator[Division]:
    """Read a long table of votes (one row per member and division) as divisions.

    Rows are grouped by (parliament, division, date). A division is built when its
    last row has been read, so a table sorted by division is read one division at a
    time (a table in another order keeps the divisions it has started in memory).

    Parameters
    ----------
    path : str or Path
        The table (CSV, TSV, ``;``- or ``|``-separated; see :data:`TABLE_COLUMNS`).
    on_bad : callable
        ``on_bad(line, reason, raw)`` for each row set aside (an unknown vote, a member
        listed twice, an unreadable date, a truncated row); its division is then
        marked incomplete (every division of the file, when the row's division cannot
        be read).
    parliament : str, optional
        The house of rows without a ``parliament`` column (default ``parliament``).

    Yields
    ------
    Division
        ``format`` ``table``, without declared counts.

    Raises
    ------
    ImportFormatError
        An empty file, or a required column (member, division, vote) missing.
    """
    p = Path(path)
    rows = _Rows(p)
    default_house = (parliament or DEFAULT_PARLIAMENT).strip() or DEFAULT_PARLIAMENT
    source = os.path.abspath(p)

    def key_of(values: dict[str, str]) -> tuple[str, str, str]:
        return values["parliament"] or default_house, values["division"], values["date"]

    # pass 1: where each division's last row is, and whether some unusable row cannot
    # be told apart (no division cell): then no division of the file is complete
    last_line: dict[tuple[str, str, str], int] = {}
    orphans = False
    for line, cells, problem in rows:
        if cells is None or (problem and not rows.cell(cells, "division")):
            orphans = True
        else:
            last_line[key_of(rows.values(cells))] = line
    # pass 2: build each division once its last row is read
    open_: dict[tuple[str, str, str], dict[str, Any]] = {}
    dates: dict[str, tuple[datetime, str] | None] = {}
    for line, cells, problem in rows:
        values = rows.values(cells) if cells is not None else None
        key = key_of(values) if values is not None else None
        group = None
        if key is not None:
            group = open_.get(key)
            if group is None:
                group = open_[key] = {"votes": [], "seen": {}, "complete": not orphans,
                                      "line": line, "title": ""}  # fmt: skip
        if problem or values is None or key is None or group is None:
            reason, parsed, mkey = problem or "unreadable row", None, ""
        else:
            reason, parsed, mkey = _table_row_problem(values, key, group, dates)
        if reason or parsed is None or values is None or group is None:
            if group is not None:
                group["complete"] = False
            on_bad(line, reason, rows.raw(cells))
        else:
            group["seen"][mkey] = (line, parsed[0])
            group["title"] = group["title"] or values["title"]
            group["votes"].append(
                Vote(
                    member=mkey,
                    name=values["member"],
                    vote=parsed[0],
                    party=values["party"],
                    constituency=values["constituency"],
                    member_id=values["member_id"] or None,
                    teller=parsed[1] or values["teller"].casefold() in _TRUE,
                    proxy=values["proxy"],
                    line=line,
                )
            )
        if key is not None and last_line.get(key) == line:
            built = open_.pop(key)
            division = _table_division(key, built, dates, source)
            if division is not None:
                yield division
    for key, built in open_.items():  # only rows whose key cell was unreadable
        division = _table_division(key, built, dates, source)
        if division is not None:
            yield division


def _table_row_problem(
    values: dict[str, str],
    key: tuple[str, str, str],
    group: dict[str, Any],
    dates: dict[str, tuple[datetime, str] | None],
) -> tuple[str, tuple[str, bool] | None, str]:
    """``(reason, parsed vote, member key)``; the reason is empty for a usable row."""
    name = values["member"]
    if not name:
        return "no member name", None, ""
    if not key[1]:
        return f"no division for {name}", None, ""
    date_text = key[2]
    if date_text:
        if date_text not in dates:
            dates[date_text] = _parse_when(date_text)
        if dates[date_text] is None:
            return f"unreadable date {date_text!r}", None, ""
    value = values["vote"]
    parsed = parse_vote(value)
    if parsed is None:
        return (
            f"unknown vote value {value!r} for {name} in division {key[1]} "
            "(expected aye, no or no vote, or a word for them)",
            None,
            "",
        )
    mkey = member_key(name, values["constituency"], values["member_id"] or None)
    if mkey in group["seen"]:
        seen_line, seen_vote = group["seen"][mkey]
        same = "the same vote" if seen_vote == parsed[0] else "a different vote"
        return (
            f"member {name} listed twice in division {key[1]} (first on line {seen_line}, "
            f"{same}); the first is kept",
            parsed,
            mkey,
        )
    return "", parsed, mkey


def _table_division(
    key: tuple[str, str, str],
    built: dict[str, Any],
    dates: dict[str, tuple[datetime, str] | None],
    source: str,
) -> Division | None:
    house, number, date_text = key
    when = dates.get(date_text) if date_text else None
    moment, date_key = when if when is not None else (None, "")
    if not built["votes"]:  # every row of it was set aside (and quarantined) already
        return None
    return Division(
        uid=_division_uid(house, date_key, number),
        house=house,
        number=number,
        date=moment,
        title=built["title"],
        votes=tuple(built["votes"]),
        format="table",
        complete=built["complete"],
        provenance=Provenance("table", __version__, source, built["line"], None),
    )


# --------------------------------------------------------------------------- files


_CSV_HEAD = re.compile(r'^\s*"?\s*division\s+(?:number|no|date)\s*:', re.IGNORECASE)


def _division_file(path: str | Path) -> Path:
    """``path`` when it names a regular file of UTF-8 text; else one line saying what it
    is (missing, a folder, UTF-16 or UTF-32 text as spreadsheets save it)."""
    p = require_file(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=p) from None
    refuse_wide_text(p, head)
    return p


def detect_format(path: str | Path) -> str:
    """Tell a division file's format from its name and first line: ``commons-json``
    (``.json``/``.jsonl``/``.ndjson``, or text starting with ``[`` or ``{``),
    ``commons-csv`` (a first line ``Division Number: ...``) or ``table``.

    Raises
    ------
    ImportFormatError
        For a missing, unreadable or empty file.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=p) from None
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace").lstrip()
    if not text:
        raise ImportFormatError("empty file", source=p, hint="expected a division file")
    if p.suffix.lower() in (".json", ".jsonl", ".ndjson") or text[:1] in "[{":
        return "commons-json"
    first = text.splitlines()[0] if text else ""
    if _CSV_HEAD.match(first):
        return "commons-csv"
    return "table"


def iter_division_file(
    path: str | Path,
    *,
    format: str = "auto",
    on_bad: _OnBad | None = None,
    parliament: str | None = None,
) -> Iterator[tuple[Division, str | None]]:
    """Read the divisions of one file without storing them.

    Parameters
    ----------
    path : str or Path
        A Commons Votes CSV export, an API JSON/JSONL file, or a long table.
    format : str
        One of :data:`FORMATS` (``auto``: :func:`detect_format`).
    on_bad : callable, optional
        ``on_bad(line, reason, raw)`` for what is set aside (ignored when not given).
    parliament : str, optional
        The house of a long table's rows (Commons files are ``commons``).

    Yields
    ------
    (Division, raw)
        ``raw`` is the division's JSON when the file cannot point at it by line (an
        item of a JSON document), else ``None``.
    """
    p = _division_file(path)
    kind = detect_format(p) if format == "auto" else format
    if kind not in FORMATS or kind == "auto":
        raise ImportFormatError(
            f"unknown division format {format!r}", source=p, hint=f"one of: {', '.join(FORMATS)}"
        )
    bad: _OnBad = on_bad or (lambda _line, _reason, _raw: None)
    if kind == "commons-csv":
        division = read_commons_csv(p, on_bad=bad)
        if division is not None:
            yield division, None
    elif kind == "commons-json":
        yield from _read_api_file(p, bad, COMMONS)
    else:
        for division in read_division_table(p, on_bad=bad, parliament=parliament):
            yield division, None


def _undated_clash(store: Store, division: Division, source: str) -> str:
    """Why ``division`` must not replace the stored division with its uid, or ``""``.

    A division of a table without dates is keyed by its parliament and number only
    (``parliament:1``): two sessions' tables both numbering from 1 share keys. A stored
    copy from another file whose members are mostly others is another division, not an
    earlier export of this one: it is kept, and this one set aside with the reason.
    """
    if division.date is not None:
        return ""
    stored = store.get_division(division.uid)
    if stored is None or stored.provenance is None or stored.provenance.source == source:
        return ""
    old = {v.member for v in stored.votes}
    new = {v.member for v in division.votes}
    if len(old & new) >= 0.5 * min(len(old), len(new)):
        return ""  # the same members: a corrected copy, which replaces the stored one
    return (
        f"division {division.number} has no date and its key {division.uid} is held by "
        f"{stored.provenance.source}, with other members ({len(old & new)} of {len(new)} in "
        "common): another division with the same number, kept; this one is set aside "
        "(give the table a date column, or each session its own --parliament name)"
    )


#: Rows a check of a division file names one by one (then how many more).
CHECK_LIMIT = 10


def check_division_file(
    path: str | Path, *, format: str = "auto", parliament: str | None = None
) -> list[ImportFormatError]:
    """What an import of a division file would set aside, without importing it: the
    file as a whole (not a division file, UTF-16...) or each row, member or division
    with its line and reason (an unterminated quote, an unknown vote, a member listed
    twice...). The first :data:`CHECK_LIMIT`, then one saying how many more."""
    p = Path(path)
    out: list[ImportFormatError] = []
    more = [0]

    def bad(line: int | None, reason: str, _raw: Any) -> None:
        if len(out) < CHECK_LIMIT:
            out.append(ImportFormatError(reason, source=p, line=line))
        else:
            more[0] += 1

    try:
        for _division in iter_division_file(p, format=format, on_bad=bad, parliament=parliament):
            pass
    except ImportFormatError as exc:
        out.append(exc)
    if more[0]:
        out.append(ImportFormatError(f"and {more[0]} more that cannot be read", source=p))
    return out


def import_division_file(
    store: Store | Path | str,
    path: Store | Path | str,
    *,
    format: str = "auto",
    parliament: str | None = None,
    force: bool = False,
) -> DivisionImportResult:
    """Import one division file into ``store``.

    Parameters
    ----------
    store : Store
        Destination (``(store, path)`` and ``(path, store)`` are both accepted, as the
        project's file registry passes them).
    path : str or Path
        The file.
    format : str
        One of :data:`FORMATS`.
    parliament : str, optional
        The house of a long table's rows.
    force : bool
        Read the file even when it was imported unchanged before.

    Returns
    -------
    DivisionImportResult

    Raises
    ------
    ImportFormatError
        A file missing, empty or not a division file at all (naming it). Rows,
        members and divisions that cannot be read are quarantined instead, with
        their line: what was imported before is never lost.
    StoreError
        When the store cannot be written (divisions stored before stay).
    """
    if hasattr(path, "add_divisions") and not hasattr(store, "add_divisions"):
        store, path = path, store
    st: Store = store  # type: ignore[assignment]
    p = _division_file(path)  # type: ignore[arg-type]
    if format not in FORMATS:
        raise ImportFormatError(
            f"unknown division format {format!r}", source=p, hint=f"one of: {', '.join(FORMATS)}"
        )
    kind = detect_format(p) if format == "auto" else format
    result = DivisionImportResult(source=str(p), format=kind)
    source = os.path.abspath(p)
    options = f"format={kind};parliament={parliament or ''}"
    try:
        fingerprint = file_fingerprint(p)
    except OSError as exc:
        raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=p) from None
    if not force:
        status = st.import_status(source)
        if status is not None and status.unchanged and status.options == options:
            result.skipped_unchanged = True
            return result
    st.clear_quarantine(source)
    pending: list[tuple[int | None, str, Any]] = []
    highest = [0]

    def on_bad(line: int | None, reason: str, raw: Any) -> None:
        result.quarantined += 1
        if line is not None:
            highest[0] = max(highest[0], line)
        pending.append((line, reason, raw))
        if len(pending) >= QUARANTINE_BATCH:  # bounded memory, however many rows are bad
            st.quarantine_many(source, pending)
            pending.clear()
        if len(result.problems) < MAX_PROBLEMS:
            where = f"{p}:{line}" if line is not None else str(p)
            result.problems.append(f"{where}: {reason}")

    def divisions() -> Iterator[tuple[Division, str | None]]:
        for division, raw in iter_division_file(
            p, format=kind, on_bad=on_bad, parliament=parliament
        ):
            last = max((v.line or 0 for v in division.votes), default=0)
            if division.format != "commons-api":
                highest[0] = max(highest[0], last)
            elif division.provenance is not None and division.provenance.line:
                highest[0] = max(highest[0], division.provenance.line)
            clash = _undated_clash(st, division, source)
            if clash:
                on_bad(division.provenance.line if division.provenance else None, clash, None)
                continue
            result.divisions += 1
            result.votes += len(division.votes)
            yield division, raw

    try:
        added = st.add_divisions(divisions())
    except ImportFormatError:
        st.clear_quarantine(source)
        raise
    finally:
        if pending:
            st.quarantine_many(source, pending)
    result.added, result.duplicates = added.added, added.duplicates
    result.replaced, result.kept = added.replaced, added.kept
    result.lines = highest[0]
    st.record_import(
        source,
        fingerprint,
        options=options,
        lines=result.lines,
        posts=result.divisions,
        added=result.added + result.replaced,
        duplicates=result.duplicates + result.kept,
        quarantined=result.quarantined,
    )
    return result


# --------------------------------------------------------------------------- live API


class CommonsVotesAPI:
    """The Commons Votes API over mapper's HTTP client.

    Parameters
    ----------
    client : HttpClient, optional
        The client (timeouts, retries, rate limits, size cap); tests pass one with an
        :class:`httpx.MockTransport`. Created (and closed by :meth:`close`) when not
        given.
    base_url : str
        The API's data root.
    min_interval : float
        Seconds between two requests; the wait uses the client's ``sleep`` and
        ``monotonic`` clock.
    """

    def __init__(
        self,
        client: HttpClient | None = None,
        *,
        base_url: str = API_BASE,
        min_interval: float = MIN_INTERVAL,
    ) -> None:
        self._own = client is None
        self.client = client or HttpClient()
        self.base_url = base_url.rstrip("/")
        self.min_interval = min_interval
        self._last = float("-inf")

    def __enter__(self) -> CommonsVotesAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client when this object made it."""
        if self._own:
            self.client.close()

    def search_url(
        self,
        *,
        skip: int = 0,
        take: int = SEARCH_PAGE_SIZE,
        search_term: str | None = None,
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> str:
        """The URL of one page of ``/divisions.json/search``."""
        params: dict[str, str] = {}
        if search_term:
            params["queryParameters.searchTerm"] = search_term
        if start_date is not None:
            params["queryParameters.startDate"] = start_date.isoformat()
        if end_date is not None:
            params["queryParameters.endDate"] = end_date.isoformat()
        params["queryParameters.skip"] = str(skip)
        params["queryParameters.take"] = str(take)
        return f"{self.base_url}/divisions.json/search?{urlencode(params)}"

    def division_url(self, division_id: str | int) -> str:
        """The URL of one division, ``/division/{id}.json``."""
        return f"{self.base_url}/division/{division_id}.json"

    def get_json(self, url: str) -> Any:
        """GET ``url`` (paced) and return its JSON.

        Raises
        ------
        HttpStatusError
            A 4xx answer (429 aside), with the API's own message when its body has one.
        CollectorError
            A body that is not JSON, or server and network errors after the retries.
        """
        wait = self._last + self.min_interval - self.client.monotonic()
        if wait > 0:
            self.client.sleep(wait)
        self._last = self.client.monotonic()
        response = self.client.get(
            url, headers={"Accept": "application/json"}, raise_for_status=False
        )
        try:
            value = json.loads(response.content.decode("utf-8")) if response.content else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            value = None
            if response.status < 400:
                raise CollectorError(
                    "the Commons Votes API answered with something that is not JSON",
                    source=url,
                    hint="run again later; collection resumes where it stopped",
                ) from None
        if response.status >= 400:
            detail = _api_error_message(value) if value is not None else None
            detail = detail or " ".join(response.text.split())[:200] or "no message"
            raise HttpStatusError(
                f"the Commons Votes API answered HTTP {response.status}: {detail}",
                status=response.status,
                url=url,
                hint="check the division id, dates and search terms",
            )
        return value


def _day(value: date | datetime | str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parsed = _parse_day(str(value))
    if parsed is None:
        raise CollectorError(f"not a date: {value!r}", field=name, hint="use YYYY-MM-DD")
    return parsed


def _open_archive(path: Path) -> int:
    """Lines already in ``path`` (created with its folder when missing); a last line
    torn by a killed run is ended, so the next division starts a line of its own."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        return 0
    count = 0
    last = b"\n"
    with open(path, "r+b") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            count += block.count(b"\n")
            last = block[-1:]
        if last != b"\n":
            fh.write(b"\n")
            count += 1
    return count


class _Collector:
    """One collection run: fetch, archive, parse, store, quarantine."""

    def __init__(
        self,
        store: Store,
        api: CommonsVotesAPI,
        result: DivisionCollectResult,
        archive: Path | None,
        refresh: bool,
    ) -> None:
        self.store = store
        self.api = api
        self.result = result
        self.archive = archive
        self.refresh = refresh
        self.line = _open_archive(archive) if archive is not None else 0

    def wanted(self, division_id: str) -> bool:
        if self.refresh or not self.store.has_division(COMMONS, division_id, format="commons-api"):
            return True
        self.result.skipped += 1
        return False

    def quarantine(self, where: str, line: int | None, reason: str, raw: Any = None) -> None:
        self.store.quarantine(where, line, redact(reason), raw_excerpt(raw) if raw else None)
        self.result.quarantined += 1

    def fetch(self, division_id: str) -> None:
        url = self.api.division_url(division_id)
        label = f"commons-votes division {division_id}"
        try:
            payload = self.api.get_json(url)
        except HttpStatusError as exc:
            if 400 <= exc.status < 500:
                self.quarantine(label, None, exc.one_line())
                return
            raise
        retrieved = now_utc()
        self.result.fetched += 1
        raw: str | None = None
        if self.archive is not None and isinstance(payload, dict):
            stamped = dict(payload)
            stamped["__mapper"] = {
                "url": url,
                "version": f"mapper {__version__}",
                "retrieved_at": retrieved.isoformat(),
            }
            with open(self.archive, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(stamped, ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self.line += 1
            where, line = str(self.archive.resolve()), self.line
        else:
            where, line, raw = label, None, raw_json(payload)
        prov = Provenance("commons-api", __version__, where, line, retrieved)

        def on_bad(_line: int | None, reason: str, excerpt: Any) -> None:
            self.quarantine(where, line, reason, excerpt)

        try:
            division = division_from_api(payload, provenance=prov, on_bad=on_bad)
        except ImportFormatError as exc:
            self.quarantine(where, line, f"{label}: {exc.message}", payload)
            return
        outcome = self.store.add_divisions([(division, raw)])
        self.result.added += outcome.added
        self.result.duplicates += outcome.duplicates
        self.result.replaced += outcome.replaced
        self.result.kept += outcome.kept
        self.result.votes += len(division.votes)


def collect_commons_divisions(
    store: Store,
    *,
    search_term: str | None = None,
    start_date: date | datetime | str | None = None,
    end_date: date | datetime | str | None = None,
    division_ids: Iterable[str | int] = (),
    max_divisions: int | None = None,
    archive_path: str | Path | None = None,
    resume: bool = True,
    refresh: bool = False,
    api: CommonsVotesAPI | None = None,
    on_page: Callable[[DivisionCollectResult], None] | None = None,
) -> DivisionCollectResult:
    """Collect Commons divisions from the Commons Votes API into ``store``.

    With ``division_ids``, those divisions are fetched; otherwise the API's search is
    paged through (``search_term`` in the title or number, ``start_date`` and
    ``end_date`` inclusive) and every division it lists is fetched.

    Parameters
    ----------
    store : Store
        Destination.
    search_term : str, optional
        Words of the title (or a division number).
    start_date, end_date : date or str, optional
        The date range (``YYYY-MM-DD``).
    division_ids : iterable of str or int
        The API's ``DivisionId`` of divisions to fetch (no search then).
    max_divisions : int, optional
        Fetch at most this many divisions; the search's position is saved, so the next
        run continues (``stopped_reason`` ``max-divisions``).
    archive_path : str or Path, optional
        A JSONL file each division's JSON is appended to (stamped with ``__mapper``:
        url, version, retrieval time) before it is stored; the store then points at its
        line. Without it the store keeps each division's JSON. The archive reads back
        with :func:`import_division_file`.
    resume : bool
        Continue an interrupted search from its saved position.
    refresh : bool
        Fetch divisions the store already holds from the API (by default they are not
        fetched again).
    api : CommonsVotesAPI, optional
        The API client (tests pass one over a mock transport).
    on_page : callable, optional
        Called with the running totals after each search page or division.

    Returns
    -------
    DivisionCollectResult

    Raises
    ------
    CollectorError
        Bad arguments, an API error on a search page, or server and network errors
        after the retries; what was collected before stays in the store and the
        archive, and the saved position lets the next run resume.
    RateLimitError
        Still rate limited after the bounded waits.

    Notes
    -----
    A division the API refuses with a 4xx answer, a JSON that is not a division (an
    error body) and member entries that cannot be read are quarantined and counted;
    the collection goes on.
    """
    if max_divisions is not None and max_divisions < 1:
        raise CollectorError("--max-divisions must be at least 1", field="max_divisions")
    ids = [str(i).strip() for i in division_ids if str(i).strip()]
    start, end = _day(start_date, "start_date"), _day(end_date, "end_date")
    if start and end and start > end:
        raise CollectorError("the start date is after the end date", field="start_date")
    own = api is None
    api = api or CommonsVotesAPI()
    archive = Path(archive_path) if archive_path is not None else None
    try:
        if ids:
            result = DivisionCollectResult(
                source="commons-votes divisions " + ",".join(ids),
                archive=str(archive) if archive else None,
            )
            run = _Collector(store, api, result, archive, refresh)
            for division_id in ids:
                if max_divisions is not None and result.fetched >= max_divisions:
                    result.stopped_reason = "max-divisions"
                    break
                if run.wanted(division_id):
                    run.fetch(division_id)
                if on_page is not None:
                    on_page(result)
            return result
        return _search(
            store, api, archive, search_term, start, end, max_divisions, resume, refresh, on_page
        )
    finally:
        if own:
            api.close()


def _search(
    store: Store,
    api: CommonsVotesAPI,
    archive: Path | None,
    search_term: str | None,
    start: date | None,
    end: date | None,
    max_divisions: int | None,
    resume: bool,
    refresh: bool,
    on_page: Callable[[DivisionCollectResult], None] | None,
) -> DivisionCollectResult:
    identity = {
        "term": search_term or "",
        "start": start.isoformat() if start else "",
        "end": end.isoformat() if end else "",
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    key = f"commons-votes:search:{digest}"
    label = "commons-votes search" + "".join(
        f" {name}={value}" for name, value in identity.items() if value
    )
    result = DivisionCollectResult(source=label, archive=str(archive) if archive else None)
    run = _Collector(store, api, result, archive, refresh)
    skip = 0
    if resume:
        saved = store.get_cursor(key)
        if saved:
            try:
                skip = max(0, int(json.loads(saved).get("skip", 0)))
            except (ValueError, AttributeError, TypeError):
                skip = 0
    while True:
        url = api.search_url(
            skip=skip, take=SEARCH_PAGE_SIZE, search_term=search_term, start_date=start,
            end_date=end,
        )  # fmt: skip
        page = api.get_json(url)
        result.pages += 1
        if not isinstance(page, list):
            message = _api_error_message(page) or f"a JSON {type(page).__name__}, not a list"
            raise CollectorError(
                f"the Commons Votes API's search answered with an error: {message}",
                source=url,
                hint="run again later; collection resumes where it stopped",
            )
        for index, summary in enumerate(page):
            if max_divisions is not None and result.fetched >= max_divisions:
                store.set_cursor(key, json.dumps({"skip": skip + index}))
                result.stopped_reason, result.cursor = "max-divisions", str(skip + index)
                return result
            division_id = _clean(summary.get("DivisionId")) if isinstance(summary, dict) else ""
            if not division_id:
                run.quarantine(key, skip + index + 1, "search result without a DivisionId", summary)
            elif run.wanted(division_id):
                run.fetch(division_id)
            store.set_cursor(key, json.dumps({"skip": skip + index + 1}))
        skip += len(page)
        if on_page is not None:
            on_page(result)
        if len(page) < SEARCH_PAGE_SIZE:
            store.set_cursor(key, "")
            result.cursor = None
            return result
        result.cursor = str(skip)
