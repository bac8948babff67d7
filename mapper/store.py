"""The post store: one SQLite database holding every collected post, where each came
from, the lines that could not be read, collection cursors and a record of imported files.

Collectors hand :class:`~mapper.records.Post` records to :meth:`Store.add_posts`; later
stages read them back with :meth:`Store.iter_posts`, streaming and ordered by uid. The
database runs in WAL mode with a busy timeout, and every write is a short
``BEGIN IMMEDIATE`` transaction, so two processes can import into the same store at
once and both finish with the union of their posts. A post is keyed by its uid
(``platform:id``) and inserted with ``INSERT OR IGNORE``: importing the same data twice
adds nothing. The normalized post is kept in its row's columns and a compact JSON array
of the rest (``brief``, see below), so ``iter_posts`` rebuilds equal ``Post`` objects,
and the raw payload stays recoverable, either stored in the row or as a pointer (file,
line, byte offset) into the archive it came from (:meth:`Store.raw_payload`).
References are queryable through the ``refs`` view, which unpacks them with SQLite's
JSON functions, so inserting a post costs one row.

Every post also records its **origin**: the file it was imported from, or the label of
the live collection that fetched it (:meth:`Store.origins` lists them with their post
counts). A post several origins gave keeps one in its row and the others in
``post_origins``, so removing one source (:meth:`Store.prune_origins`) keeps the posts
another source still gives. Posts stored inside :meth:`Store.attributed` are marked as
brought in by a project run; the others as added by hand. A file read again as a whole
inside :meth:`Store.file_pass` replaces what it gave before: posts it no longer gives
are removed (or, when another origin still gives them, detached from it).

Schema (``PRAGMA user_version`` 3)::

    posts(uid PRIMARY KEY, platform, author, author_id, created_at, url, text,
          record, raw, raw_source -> sources.id, raw_line, raw_offset,
          origin -> origins.id, seen, brief)
    origins(id, key UNIQUE, kind, added_by, project, passes, first_added, last_added)
    post_origins(uid, origin, seen)     -- the other origins of a post
    sources(id, path)                   -- archive files the raw pointers refer to
    refs                                -- VIEW (post, kind, target, target_id, weight)
    quarantine(id, source, line, reason, raw, recorded_at)
    cursors(key PRIMARY KEY, value, updated_at)
    imports(source PRIMARY KEY, size, mtime_ns, fingerprint, options, lines, posts,
            added, duplicates, quarantined, finished_at)
    content_version(id = 1, store_id, changes)  -- see "Content version" below
    divisions(uid PRIMARY KEY, house, number, division_id, date, title, aye_count,
              no_count, format, complete, fingerprint, source, line, retrieved_at,
              version, raw, stored_at)    -- parliamentary divisions (see below)
    votes(division, member, member_id, name, party, constituency, vote, teller, proxy,
          line; PRIMARY KEY (division, member))

``created_at`` is ISO 8601 UTC text with microseconds (``2021-04-08T19:34:16.000000+00:00``),
so text order is time order. A store of version 1 (before origins were recorded) is
migrated when it is opened: each post's origin is taken from its provenance, and those
origins are marked ``legacy`` (how they were added is not known).

**Brief, not record** (version 3). Up to version 2 every row also held the whole post
as a JSON object (``record``), written on import and decoded again to resolve: a
round trip that cost more than the columns it duplicated. A row now holds, beside its
columns, ``brief``: the author's display name, the references, the tags, the language
and the provenance as a small positional JSON array (:func:`post_brief`), and an empty
``record``. A version 2 store is migrated when opened: the column is added, empty, and
its rows keep their records and are read from them (the ``refs`` view and every read
take either kind of row); rows written from then on carry a brief. Older mappers
refuse a version 3 store, which they would misread.


**Content version.** :meth:`Store.content_version` names what the posts hold:
a random id given to the store when the table is created, and a counter that
triggers raise inside the very transaction that inserts, deletes or changes a post
or one of its other origins (a change to ``seen`` alone does not count). Equal
versions mean the same posts and origins; a run keys its cache of the resolved graph
on it (:mod:`mapper.reuse`). The triggers live in the database, so a write by any
program, an older mapper included, moves the version. The table and triggers are
added when a store without them is opened (older mappers ignore them).

Divisions and their votes (:meth:`Store.add_divisions`, :meth:`Store.iter_divisions`)
live in two tables of their own, created when a store is opened without them (a store
written before they existed is migrated in place; older mappers ignore them). A
division is keyed by its uid: importing it again adds nothing, and a division whose
votes changed (a re-export with a corrected row) replaces its stored rows, unless the
stored one is complete and the new one is not, or came from a richer source (the
Commons Votes API over a CSV export).
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import hashlib
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Union

import orjson

from mapper.errors import StoreError
from mapper.records import Division, Post, Provenance, Reference, Vote, now_utc, utc

__all__ = [
    "AddResult",
    "DivisionAddResult",
    "FileFingerprint",
    "FilePass",
    "ImportStatus",
    "OriginSummary",
    "PruneResult",
    "RawPointer",
    "Store",
    "division_fingerprint",
    "file_fingerprint",
    "post_brief",
    "post_for_resolution",
    "post_from_brief",
    "post_from_json",
    "post_to_json",
]

SCHEMA_VERSION = 3
#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 30.0
#: Posts per write transaction in :meth:`Store.add_posts`.
DEFAULT_BATCH = 5000
#: Characters of a bad line kept in the quarantine table.
QUARANTINE_EXCERPT = 2048
#: Bytes hashed at each end of a file for its fingerprint.
FINGERPRINT_BLOCK = 64 * 1024

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS posts (
    uid TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    author TEXT NOT NULL,
    author_id TEXT,
    created_at TEXT,
    url TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    record TEXT NOT NULL,
    raw TEXT,
    raw_source INTEGER REFERENCES sources(id),
    raw_line INTEGER,
    raw_offset INTEGER,
    origin INTEGER,
    seen INTEGER,
    brief TEXT
);
CREATE VIEW IF NOT EXISTS refs AS
    SELECT p.uid AS post,
           json_extract(r.value, '$.kind') AS kind,
           json_extract(r.value, '$.target') AS target,
           json_extract(r.value, '$.target_id') AS target_id,
           json_extract(r.value, '$.weight') AS weight
    FROM posts AS p,
         json_each(CASE WHEN p.brief IS NULL THEN p.record END, '$.references') AS r
    UNION ALL
    SELECT p.uid,
           json_extract(r.value, '$[0]'),
           json_extract(r.value, '$[1]'),
           json_extract(r.value, '$[2]'),
           json_extract(r.value, '$[4]')
    FROM posts AS p, json_each(p.brief, '$[1]') AS r;
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    line INTEGER,
    reason TEXT NOT NULL,
    raw TEXT,
    recorded_at TEXT NOT NULL,
    UNIQUE (source, line, reason)
);
CREATE TABLE IF NOT EXISTS cursors (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS origins (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL DEFAULT 'live',
    added_by TEXT NOT NULL DEFAULT 'hand',
    project TEXT,
    passes INTEGER NOT NULL DEFAULT 0,
    first_added TEXT,
    last_added TEXT
);
CREATE TABLE IF NOT EXISTS post_origins (
    uid TEXT NOT NULL,
    origin INTEGER NOT NULL,
    seen INTEGER,
    PRIMARY KEY (uid, origin)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS post_origins_by_origin ON post_origins (origin);
CREATE INDEX IF NOT EXISTS posts_by_origin ON posts (origin, seen);
CREATE TABLE IF NOT EXISTS imports (
    source TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '',
    lines INTEGER NOT NULL DEFAULT 0,
    posts INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT NOT NULL
);
"""

_OUR_TABLES = {
    "sources",
    "posts",
    "refs",
    "quarantine",
    "cursors",
    "imports",
    "origins",
    "post_origins",
    "divisions",
    "votes",
    "content_version",
}

# The content version (see the module docstring): one row, raised by triggers on every
# change to what the posts hold. ``seen`` (which pass last gave a post) is left out.
_POST_COLUMNS = (
    "uid, platform, author, author_id, created_at, url, text, record, raw, raw_source,"
    " raw_line, raw_offset, origin"
)
_BUMP = "BEGIN UPDATE content_version SET changes = changes + 1 WHERE id = 1; END"
_CONTENT_TRIGGERS = {
    "posts_inserted": f"AFTER INSERT ON posts {_BUMP}",
    "posts_deleted": f"AFTER DELETE ON posts {_BUMP}",
    "posts_updated": f"AFTER UPDATE OF {_POST_COLUMNS} ON posts {_BUMP}",
    "post_origins_inserted": f"AFTER INSERT ON post_origins {_BUMP}",
    "post_origins_deleted": f"AFTER DELETE ON post_origins {_BUMP}",
    "post_origins_updated": f"AFTER UPDATE OF uid, origin ON post_origins {_BUMP}",
}

#: Version 1 -> 2: every post records its origin (see the module docstring).
_MIGRATE_1_TO_2 = (
    "ALTER TABLE posts ADD COLUMN origin INTEGER",
    "ALTER TABLE posts ADD COLUMN seen INTEGER",
    # the tables and indexes of _SCHEMA come next; then the origins of stored posts:
    "INSERT OR IGNORE INTO origins (key, kind, added_by, first_added, last_added)"
    " SELECT src, CASE WHEN src IN (SELECT source FROM imports) THEN 'file' ELSE 'live' END,"
    " 'legacy', :now, :now FROM (SELECT DISTINCT json_extract(record, '$.provenance.source')"
    " AS src FROM posts) WHERE src IS NOT NULL AND src <> ''",
    "UPDATE posts SET origin = (SELECT id FROM origins"
    " WHERE key = json_extract(posts.record, '$.provenance.source'))",
)

#: Origins: how their posts were added.
ADDED_BY_HAND = "hand"
ADDED_BY_PROJECT = "project"
ADDED_BEFORE_TRACKING = "legacy"

#: Version 2 -> 3: a post's fields beyond its columns, compactly (``brief``, see
#: :func:`post_brief`). Rows stored before have none and are read from their record;
#: the refs view reads both.
_MIGRATE_2_TO_3 = "ALTER TABLE posts ADD COLUMN brief TEXT"

_INSERT_POST = (
    "INSERT OR IGNORE INTO posts (uid, platform, author, author_id, created_at, url, text,"
    " record, raw, raw_source, raw_line, raw_offset, origin, seen, brief)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
# Inside a file pass: a post the same origin gave before takes this pass's version.
_REFRESH_POST = (
    "UPDATE posts SET platform = ?, author = ?, author_id = ?, created_at = ?, url = ?,"
    " text = ?, record = ?, raw = ?, raw_source = ?, raw_line = ?, raw_offset = ?, seen = ?,"
    " brief = ? WHERE uid = ? AND origin = ? AND (seen IS NULL OR seen < ?)"
)
# A post already stored from another origin: record this origin too.
_ADD_ORIGIN = (
    "INSERT INTO post_origins (uid, origin, seen) SELECT ?1, ?2, ?3"
    " WHERE EXISTS (SELECT 1 FROM posts WHERE uid = ?1 AND origin IS NOT ?2)"
    " ON CONFLICT (uid, origin) DO UPDATE"
    " SET seen = max(coalesce(post_origins.seen, 0), coalesce(excluded.seen, 0))"
)


@dataclass(frozen=True, slots=True)
class AddResult:
    """What :meth:`Store.add_posts` did: ``added`` new posts, ``duplicates`` already stored."""

    added: int = 0
    duplicates: int = 0

    @property
    def total(self) -> int:
        """Posts offered to the store (``added + duplicates``)."""
        return self.added + self.duplicates


@dataclass(frozen=True, slots=True)
class RawPointer:
    """Where a post's raw payload lives when it is not stored in the database.

    Attributes
    ----------
    source : str
        The archive file.
    line : int
        1-based line number inside ``source``.
    offset : int, optional
        Byte offset of the start of that line, for a direct seek (``None`` for
        compressed files: the line is then found by counting).
    """

    source: str
    line: int
    offset: int | None = None


#: What may stand for a post's raw payload: the text itself, or a pointer to it.
RawValue = Union[str, bytes, RawPointer, None]  # noqa: UP007 - used at runtime


@dataclass(frozen=True, slots=True)
class FileFingerprint:
    """Size, modification time and a hash of the first and last blocks of a file."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ImportStatus:
    """The recorded import of one file (a row of the ``imports`` table).

    ``unchanged`` compares the record with the file as it is now: same size,
    modification time and fingerprint. It is ``False`` when the file is gone.
    """

    source: str
    size: int
    mtime_ns: int
    fingerprint: str
    options: str
    lines: int
    posts: int
    added: int
    duplicates: int
    quarantined: int
    finished_at: datetime
    unchanged: bool


@dataclass(frozen=True, slots=True)
class OriginSummary:
    """Where stored posts came from: one file, or one live collection, and its posts.

    Attributes
    ----------
    key : str
        The file (an absolute path) or the label of the live collection
        (``bluesky-posts alice.bsky.social``). ``""`` for posts stored without any.
    kind : str
        ``"file"`` or ``"live"`` (``"unknown"`` for posts stored without an origin).
    added_by : str
        ``"hand"`` (an import or collect command, a notebook), ``"project"`` (a project
        run, whose file is ``project``) or ``"legacy"`` (stored before mapper recorded
        origins): how its posts were last added.
    project : str or None
        The project file whose run last added its posts.
    posts : int
        Stored posts this origin gave (a post several origins gave counts for each).
    exclusive : int or None
        Of those, the posts no other origin gives: what removing it removes (``None``
        unless :meth:`Store.origins` was asked for it).
    last_added : datetime or None
        When its posts were last stored.
    id : int or None
        Its row in the ``origins`` table.
    """

    key: str
    kind: str
    added_by: str
    project: str | None
    posts: int
    exclusive: int | None
    last_added: datetime | None
    id: int | None


@dataclass(slots=True)
class FilePass:
    """One reading of a whole file inside :meth:`Store.file_pass`.

    ``removed`` (posts deleted: the file no longer gives them and no other origin
    does) and ``detached`` (posts the file no longer gives but another origin still
    does, so they stay) are set when the pass ends without an error.
    """

    origin: str
    generation: int
    removed: int = 0
    detached: int = 0


@dataclass(frozen=True, slots=True)
class PruneResult:
    """What :meth:`Store.prune_origins` did: the origins removed, the posts deleted with
    them, and the posts kept because another origin still gives them."""

    origins: tuple[str, ...]
    removed: int
    kept: int


@dataclass(frozen=True, slots=True)
class _Attribution:
    project: str | None
    key: str | None
    kind: str | None


def file_fingerprint(path: str | Path) -> FileFingerprint:
    """Fingerprint a file cheaply: size, ``mtime_ns`` and sha256 of its first and last 64 KiB.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    FileFingerprint

    Raises
    ------
    OSError
        When the file cannot be read.
    """
    p = Path(path)
    with open(p, "rb") as fh:
        st = os.fstat(fh.fileno())
        digest = hashlib.sha256(str(st.st_size).encode())
        digest.update(fh.read(FINGERPRINT_BLOCK))
        if st.st_size > FINGERPRINT_BLOCK:
            fh.seek(max(FINGERPRINT_BLOCK, st.st_size - FINGERPRINT_BLOCK))
            digest.update(fh.read(FINGERPRINT_BLOCK))
    return FileFingerprint(st.st_size, st.st_mtime_ns, digest.hexdigest())


# --------------------------------------------------------------------------- records


def _iso(value: datetime | None) -> str | None:
    """Fixed-width ISO 8601 UTC text (sorts like time), or ``None``."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = utc(value)
    return value.isoformat(timespec="microseconds")


def _parse_dt(value: str | None) -> datetime | None:
    if value is None:
        return None
    return utc(datetime.fromisoformat(value))


_POST_FIELDS = frozenset(f.name for f in fields(Post))
_REF_FIELDS = frozenset(f.name for f in fields(Reference))
_PROV_FIELDS = frozenset(f.name for f in fields(Provenance))


# A hand-built dict serializes faster than orjson's dataclass path, and the brief
# (post_brief) is positional; both are used only while the record classes have exactly
# these fields in this order (else the generic path is).
_KNOWN_POST_FIELDS = tuple(
    (
        "uid",
        "platform",
        "author",
        "created_at",
        "text",
        "url",
        "author_id",
        "author_name",
        "language",
        "references",
        "tags",
        "provenance",
    )
)
_KNOWN_REF_FIELDS = ("kind", "target", "target_id", "snippet", "weight")
_KNOWN_PROV_FIELDS = ("collector", "version", "source", "line", "retrieved_at")
_FAST_RECORDS = (
    tuple(f.name for f in fields(Post)) == _KNOWN_POST_FIELDS
    and tuple(f.name for f in fields(Reference)) == _KNOWN_REF_FIELDS
    and tuple(f.name for f in fields(Provenance)) == _KNOWN_PROV_FIELDS
)


def post_to_json(post: Post) -> bytes:
    """Serialize a :class:`Post` (with references and provenance) to JSON bytes.

    Datetimes become RFC 3339 text; :func:`post_from_json` reverses it exactly.
    """
    if not _FAST_RECORDS:
        return orjson.dumps(post)
    prov = post.provenance
    return orjson.dumps(
        {
            "uid": post.uid,
            "platform": post.platform,
            "author": post.author,
            "created_at": post.created_at,
            "text": post.text,
            "url": post.url,
            "author_id": post.author_id,
            "author_name": post.author_name,
            "language": post.language,
            "references": [
                {
                    "kind": r.kind,
                    "target": r.target,
                    "target_id": r.target_id,
                    "snippet": r.snippet,
                    "weight": r.weight,
                }
                for r in post.references
            ],
            "tags": post.tags,
            "provenance": None
            if prov is None
            else {
                "collector": prov.collector,
                "version": prov.version,
                "source": prov.source,
                "line": prov.line,
                "retrieved_at": prov.retrieved_at,
            },
        }
    )


def post_from_json(data: str | bytes) -> Post:
    """Rebuild the :class:`Post` that :func:`post_to_json` serialized.

    Keys the current ``Post`` does not know are ignored, so a store written by a newer
    version still reads.
    """
    d: dict[str, Any] = orjson.loads(data)
    refs = d.get("references") or ()
    prov = d.get("provenance")
    created = d.get("created_at")
    if not _POST_FIELDS.issuperset(d):
        d = {k: v for k, v in d.items() if k in _POST_FIELDS}
    d["created_at"] = utc(datetime.fromisoformat(created)) if created else None
    d["references"] = tuple(
        Reference(**(r if _REF_FIELDS.issuperset(r) else _known(r, _REF_FIELDS))) for r in refs
    )
    d["tags"] = tuple(d.get("tags") or ())
    if prov is not None:
        prov = dict(prov) if _PROV_FIELDS.issuperset(prov) else _known(prov, _PROV_FIELDS)
        if prov.get("retrieved_at"):
            prov["retrieved_at"] = utc(datetime.fromisoformat(prov["retrieved_at"]))
        d["provenance"] = Provenance(**prov)
    return Post(**d)


def post_for_resolution(data: str | bytes) -> Post:
    """:func:`post_from_json` without what resolution does not read: the post's
    ``provenance`` and ``language`` are left ``None``.

    Building the provenance (and parsing its time) is about a third of the cost of
    reading a post back (measured on the 1M-post benchmark store: 8.8 µs a post for
    :func:`post_from_json`, 5.3 µs for this, 2.5 µs for the JSON decoding alone).
    """
    if not _FAST_RECORDS:  # pragma: no cover - the record classes changed
        post = post_from_json(data)
        return replace(post, provenance=None, language=None)
    d: dict[str, Any] = orjson.loads(data)
    created = d.get("created_at")
    refs = d.get("references") or ()
    return Post(
        d["uid"],
        d["platform"],
        d["author"],
        utc(datetime.fromisoformat(created)) if created else None,
        d.get("text", ""),
        d.get("url", ""),
        d.get("author_id"),
        d.get("author_name", ""),
        None,
        tuple(
            Reference(**(r if _REF_FIELDS.issuperset(r) else _known(r, _REF_FIELDS))) for r in refs
        ),
        tuple(d.get("tags") or ()),
        None,
    )


def post_brief(post: Post) -> str | None:
    """A post's fields beyond the columns of its row, as a compact JSON array.

    ``[author_name, [[kind, target, target_id, snippet, weight], ...], [tag, ...],
    language, provenance]``, the provenance ``[collector, version, source, line,
    retrieved_at]`` or ``null``. With the row's columns (uid, platform, author,
    author_id, created_at, url, text) it gives the post back whole
    (:func:`post_from_brief`), in about a fifth of the time and half of the room of
    the JSON record (:func:`post_to_json`) it replaces in rows written since schema
    version 3. ``None`` when the record classes are not the ones it was written for
    (the row then keeps a JSON record).
    """
    if not _FAST_RECORDS:  # pragma: no cover - the record classes changed
        return None
    prov = post.provenance
    return orjson.dumps(
        [
            post.author_name,
            [[r.kind, r.target, r.target_id, r.snippet, r.weight] for r in post.references],
            post.tags,
            post.language,
            None
            if prov is None
            else [prov.collector, prov.version, prov.source, prov.line, prov.retrieved_at],
        ]
    ).decode()


def post_from_brief(
    uid: str,
    platform: str,
    author: str,
    author_id: str | None,
    created_at: str | None,
    url: str,
    text: str,
    brief: str | bytes,
    *,
    whole: bool = True,
) -> Post:
    """The post of a row's columns and its brief (:func:`post_brief`): equal to the
    stored post, or, without ``whole``, what :func:`post_for_resolution` gives (no
    ``language``, no ``provenance``)."""
    author_name, refs, tags, language, prov = orjson.loads(brief)
    provenance = None
    if whole:
        if prov is not None:
            retrieved = prov[4]
            provenance = Provenance(
                prov[0],
                prov[1],
                prov[2],
                prov[3],
                utc(datetime.fromisoformat(retrieved)) if retrieved else None,
            )
    else:
        language = None
    return Post(
        uid,
        platform,
        author,
        utc(datetime.fromisoformat(created_at)) if created_at else None,
        text,
        url,
        author_id,
        author_name,
        language,
        tuple([Reference(*r) for r in refs]),
        tuple(tags),
        provenance,
    )


#: What reading a post selects: see :func:`_post_of_row`.
_READ_COLUMNS = (
    "uid, platform, author, author_id, created_at, url, text, brief,"
    " CASE WHEN brief IS NULL THEN record END"
)


def _post_of_row(row: tuple[Any, ...], for_resolution: bool) -> Post:
    """The post of a row of :data:`_READ_COLUMNS`: from its brief, else its record."""
    if row[7] is None:
        return post_for_resolution(row[8]) if for_resolution else post_from_json(row[8])
    if not _FAST_RECORDS:  # pragma: no cover - the record classes changed
        raise StoreError(
            f"post {row[0]!r} is stored in a layout written for other record classes",
            hint="this needs a store schema migration",
        )
    return post_from_brief(*row[:8], whole=not for_resolution)


def _known(d: Mapping[str, Any], names: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k in names}


def _excerpt(raw: str | bytes | None, limit: int = QUARANTINE_EXCERPT) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw[: limit * 4].decode("utf-8", errors="backslashreplace")
    return raw[:limit].replace("\x00", "\\x00")


# --------------------------------------------------------------------------- store


class Store:
    """A SQLite database of posts, quarantined lines, cursors and imported files.

    Parameters
    ----------
    path : str or Path
        The database file; created (with its folder) when missing.
    busy_timeout : float
        Seconds to wait for another process's write transaction (default 30).

    Raises
    ------
    StoreError
        When the file is not a SQLite database, is a database of something else, was
        written by a newer mapper, or cannot be opened.

    Examples
    --------
    >>> with Store(tmp_path / "posts.db") as store:  # doctest: +SKIP
    ...     store.add_posts(posts)
    ...     for post in store.iter_posts(platforms=["x"]):
    ...         ...
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._source_ids: dict[str, int] = {}
        self._origin_ids: dict[str, int] = {}
        self._attribution: _Attribution | None = None
        self._pass: tuple[int, int] | None = None  # (origin id, generation)
        self._conn: sqlite3.Connection | None = None
        memory = str(path) == ":memory:"
        try:
            if not memory:
                if self.path.is_dir():
                    raise StoreError("is a folder, not a database file", source=self.path)
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None)
            self._setup(memory)
            self._setup_votes()
            self._setup_content_version()
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise self._error(exc, "cannot open the store") from exc
        except OSError as exc:
            self._close_quietly()
            raise StoreError(f"cannot open the store: {exc.strerror or exc}", source=path) from exc
        except StoreError:
            self._close_quietly()
            raise

    # -- lifecycle ---------------------------------------------------------------

    def _setup(self, memory: bool) -> None:
        conn = self.conn
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        # Fails with "file is not a database" for anything that is not SQLite.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store schema version {version} is newer than this mapper understands "
                f"({SCHEMA_VERSION})",
                source=self.path,
                hint="upgrade mapper",
            )
        if version == 0:
            # Larger pages suit rows of about 1-2 KB; only takes effect on a new file.
            conn.execute("PRAGMA page_size = 16384")
        if not memory:
            self._retry_locked(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB page cache
        conn.execute("PRAGMA temp_store = MEMORY")
        if version == SCHEMA_VERSION:
            return
        with self._write():
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:  # another process created it meanwhile
                return
            names = {
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                    " AND name NOT LIKE 'sqlite_%'"
                )
            }
            foreign = names - _OUR_TABLES
            if foreign:
                raise StoreError(
                    "is a SQLite database but not a mapper store "
                    f"(it has tables {', '.join(sorted(foreign)[:5])})",
                    source=self.path,
                    hint="choose another store file",
                )
            # version 1 (or an unversioned store with posts): add what version 2 records;
            # version 2: add the brief column (left empty: those rows read their record)
            migrate = "posts" in names
            if migrate:
                columns = {row[1] for row in conn.execute("PRAGMA table_info(posts)")}
                for statement in (*_MIGRATE_1_TO_2[:2], _MIGRATE_2_TO_3):
                    if statement.split()[-2] not in columns:
                        conn.execute(statement)
            if "refs" in names:  # the view of version 3 reads briefs too
                conn.execute("DROP VIEW refs")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if migrate:
                now = _iso(now_utc())
                for statement in _MIGRATE_1_TO_2[2:]:
                    conn.execute(statement, {"now": now})
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _retry_locked(self, fn: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def conn(self) -> sqlite3.Connection:
        """The underlying connection (for read-only SQL such as the ``refs`` view)."""
        if self._conn is None:
            raise StoreError("the store is closed", source=self.path)
        return self._conn

    def close(self) -> None:
        """Close the database. Safe to call twice."""
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    def _close_quietly(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def _error(self, exc: sqlite3.Error, what: str) -> StoreError:
        message = str(exc)
        hint = None
        if "not a database" in message:
            message = "not a SQLite database"
            hint = "pass a mapper store (.db) or a new file name"
        elif "locked" in message or "busy" in message:
            hint = f"another process held the store for more than {self._busy_timeout:g} s"
        elif "readonly" in message or "unable to open" in message:
            hint = "check the path and its permissions"
        return StoreError(f"{what}: {message}", source=self.path, hint=hint)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error)."""
        conn = self.conn
        self._retry_locked(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._retry_locked(lambda: conn.execute("COMMIT"))

    # -- posts ---------------------------------------------------------------------

    def _source_id(self, path: str) -> int:
        sid = self._source_ids.get(path)
        if sid is None:
            conn = self.conn
            conn.execute("INSERT OR IGNORE INTO sources (path) VALUES (?)", (path,))
            sid = conn.execute("SELECT id FROM sources WHERE path = ?", (path,)).fetchone()[0]
            self._source_ids[path] = sid
        return sid

    def add_posts(
        self,
        posts: Iterable[Post | tuple[Post, RawValue]],
        *,
        raw: Mapping[str, str | bytes] | Callable[[Post], RawValue] | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> AddResult:
        """Store posts; a uid already in the store is left as it is.

        Parameters
        ----------
        posts : iterable of Post or (Post, raw) pairs
            Consumed lazily, ``batch_size`` at a time, each batch in one transaction
            (an interrupted import keeps every batch committed before it). A pair's
            second item is the post's raw payload (``str`` or ``bytes``, stored in the
            row) or a :class:`RawPointer` to it.
        raw : mapping or callable, optional
            Raw payloads by uid, or a function ``post -> raw`` for posts given without
            one. When no raw is given, the pointer is the post's provenance
            (``source`` and ``line``), if it has a line.
        batch_size : int
            Posts per transaction (default 5000).

        Returns
        -------
        AddResult
            ``added`` new posts and ``duplicates`` (uids already stored, or repeated in
            ``posts``). When iterating ``posts`` raises, the posts it yielded before are
            stored and the exception propagates.

        Raises
        ------
        StoreError
            When the database cannot be written (locked beyond the busy timeout, disk
            full) or a post cannot be serialized.
        """
        raw_of: Callable[[Post], RawValue] | None
        if raw is None:
            raw_of = None
        elif callable(raw):
            raw_of = raw
        else:
            mapping = raw
            raw_of = lambda p: mapping.get(p.uid)  # noqa: E731
        added = offered = 0
        batch: list[tuple[Any, ...]] = []
        row = self._row
        # The cyclic collector is paused while posts are made and stored (its repeated
        # passes over the young objects of every post cost a tenth of an import) and
        # run once a batch over that batch's objects, so that cycles a source makes
        # (an exception for each bad line) are freed as they were.
        collecting = gc.isenabled()
        gc.disable()
        try:
            try:
                for item in posts:
                    if type(item) is tuple:
                        post, item_raw = item
                    else:
                        post, item_raw = item, None  # type: ignore[assignment]
                    if item_raw is None and raw_of is not None:
                        item_raw = raw_of(post)
                    batch.append(row(post, item_raw))
                    if len(batch) >= batch_size:
                        added += self._insert_posts(batch)
                        offered += len(batch)
                        batch = []
                        if collecting:
                            gc.collect(0)
            except (sqlite3.Error, StoreError):
                raise
            except Exception:
                # The posts' source failed part-way (an unreadable file): keep what it
                # gave before failing, then let the error through.
                if batch:
                    self._insert_posts(batch)
                raise
            if batch:
                added += self._insert_posts(batch)
                offered += len(batch)
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot store posts") from exc
        finally:
            if collecting:
                gc.enable()
        return AddResult(added, offered - added)

    def _row(self, post: Post, raw: RawValue) -> tuple[Any, ...]:
        try:
            brief = post_brief(post)
            # the JSON record only where there is no brief (see post_brief)
            record = "" if brief is not None else post_to_json(post).decode()
        except (orjson.JSONEncodeError, TypeError, AttributeError) as exc:
            raise StoreError(
                f"post {post.uid!r} cannot be serialized: {exc}", source=self.path
            ) from exc
        raw_text = raw_source = raw_line = raw_offset = None
        if raw is None:
            prov = post.provenance
            if prov is not None and prov.line is not None and prov.source:
                raw_source = self._source_id(prov.source)
                raw_line = prov.line
        elif isinstance(raw, RawPointer):
            raw_source = self._source_id(raw.source)
            raw_line = raw.line
            raw_offset = raw.offset
        elif isinstance(raw, bytes):
            raw_text = raw.decode("utf-8", errors="replace")
        else:
            raw_text = raw
        created = post.created_at
        origin: int | None
        seen: int | None
        if self._pass is not None:
            origin, seen = self._pass
        else:
            prov = post.provenance
            origin, seen = self._origin_for(prov.source if prov is not None else None), None
        return (
            post.uid,
            post.platform,
            post.author,
            post.author_id,
            None if created is None else _iso(created),
            post.url,
            post.text,
            record,
            raw_text,
            raw_source,
            raw_line,
            raw_offset,
            origin,
            seen,
            brief,
        )

    def _insert_posts(self, rows: list[tuple[Any, ...]]) -> int:
        """:meth:`_insert`, with a text no database can hold (a lone surrogate) named by
        its post: the JSON of a brief refuses it in :meth:`_row`, the columns here."""
        try:
            return self._insert(rows)
        except UnicodeEncodeError as exc:
            for row in rows:
                for value in row:
                    if isinstance(value, str):
                        try:
                            value.encode("utf-8")
                        except UnicodeEncodeError as bad:
                            raise StoreError(
                                f"post {row[0]!r} cannot be serialized: {bad}", source=self.path
                            ) from exc
            raise

    def _insert(self, rows: list[tuple[Any, ...]]) -> int:
        with self._write() as conn:
            cur = conn.executemany(_INSERT_POST, rows)
            added = max(cur.rowcount, 0)
            if added < len(rows):  # some were stored before: record where else they came from
                if self._pass is not None:
                    conn.executemany(
                        _REFRESH_POST,
                        [(*r[1:12], r[13], r[14], r[0], r[12], r[13]) for r in rows],
                    )
                conn.executemany(_ADD_ORIGIN, self._from_elsewhere(conn, rows))
            self._touch_origins(conn, {r[12] for r in rows if r[12] is not None})
            return added

    @staticmethod
    def _from_elsewhere(
        conn: sqlite3.Connection, rows: list[tuple[Any, ...]]
    ) -> list[tuple[str, int, int | None]]:
        """``(uid, origin, seen)`` of the rows whose post is stored under another origin
        (one query per origin and 500 rows, not one per row)."""
        by_origin: dict[int, list[tuple[Any, ...]]] = {}
        for r in rows:
            if r[12] is not None:
                by_origin.setdefault(r[12], []).append(r)
        out: list[tuple[str, int, int | None]] = []
        for origin, group in by_origin.items():
            seen = {r[0]: r[13] for r in group}
            uids = list(seen)
            for start in range(0, len(uids), 500):
                chunk = uids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for (uid,) in conn.execute(
                    f"SELECT uid FROM posts WHERE uid IN ({marks}) AND origin IS NOT ?",
                    (*chunk, origin),
                ):
                    out.append((uid, origin, seen[uid]))
        return out

    # -- origins ---------------------------------------------------------------------

    @contextlib.contextmanager
    def attributed(
        self,
        *,
        project: str | Path | None,
        key: str | None = None,
        kind: str | None = None,
    ) -> Iterator[None]:
        """Mark the posts stored inside the block as brought in by a project run.

        Parameters
        ----------
        project : str or Path, optional
            The project file.
        key : str, optional
            The origin to record for every post stored inside (a project source:
            the file being imported, or the label of a live source). Without it each
            post's origin is its provenance source.
        kind : str, optional
            ``"file"`` or ``"live"`` (by default: ``"file"`` for an absolute path).
        """
        saved = self._attribution
        self._attribution = _Attribution(str(project) if project is not None else None, key, kind)
        try:
            yield
        finally:
            self._attribution = saved

    def _origin_for(self, source: str | None) -> int | None:
        """The origin id of a post whose provenance source is ``source``."""
        att = self._attribution
        key = att.key if att is not None and att.key else source
        if not key:
            return None
        found = self._origin_ids.get(key)
        if found is None:
            kind = att.kind if att is not None and att.key else None
            found = self._origin_id(key, kind)
        return found

    def _origin_id(self, key: str, kind: str | None = None) -> int:
        """The id of origin ``key``, created when missing."""
        found = self._origin_ids.get(key)
        if found is not None:
            return found
        att = self._attribution
        kind = kind or ("file" if os.path.isabs(key) else "live")
        added_by = ADDED_BY_PROJECT if att is not None else ADDED_BY_HAND
        now = _iso(now_utc())
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO origins (key, kind, added_by, project, first_added,"
                    " last_added) VALUES (?,?,?,?,?,?)",
                    (key, kind, added_by, att.project if att else None, now, now),
                )
                found = int(
                    conn.execute("SELECT id FROM origins WHERE key = ?", (key,)).fetchone()[0]
                )
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot record where posts came from") from exc
        self._origin_ids[key] = found
        return found

    def _touch_origins(self, conn: sqlite3.Connection, ids: set[int]) -> None:
        """Record, in the current transaction, how and when these origins last added posts."""
        if not ids:
            return
        att = self._attribution
        added_by = ADDED_BY_PROJECT if att is not None else ADDED_BY_HAND
        kind = att.kind if att is not None and att.key else None
        now = _iso(now_utc())
        conn.executemany(
            "UPDATE origins SET added_by = ?, project = ?, last_added = ?,"
            " kind = coalesce(?, kind) WHERE id = ?",
            [(added_by, att.project if att else None, now, kind, i) for i in sorted(ids)],
        )

    @contextlib.contextmanager
    def file_pass(self, path: str | Path) -> Iterator[FilePass]:
        """Read a whole file again: the posts stored inside the block are what the file
        gives now, and when the block ends without an error, the posts it gave before
        and no longer gives are removed (or detached, when another origin still gives
        them).

        Inside the pass every post stored has the file as its origin, and a post the
        file gave before takes the new version (its record and raw pointer). An
        interrupted pass removes nothing: running it again completes it.

        Parameters
        ----------
        path : str or Path
            The file (its absolute path is the origin's key).

        Yields
        ------
        FilePass
            ``removed`` and ``detached`` are filled in when the block ends.
        """
        key = _abspath(path)
        origin = self._origin_id(key, "file")
        try:
            with self._write() as conn:
                conn.execute("UPDATE origins SET passes = passes + 1 WHERE id = ?", (origin,))
                row = conn.execute("SELECT passes FROM origins WHERE id = ?", (origin,)).fetchone()
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot start reading a file") from exc
        current = FilePass(key, int(row[0]) if row else 1)
        saved = self._pass
        self._pass = (origin, current.generation)
        try:
            yield current
        finally:
            self._pass = saved
        current.removed, current.detached = self._detach(origin, current.generation)

    def _detach(self, origin: int, generation: int | None) -> tuple[int, int]:
        """Take origin ``origin`` away from its posts: all of them (``generation`` None)
        or those it did not give in pass ``generation``. Posts no other origin gives are
        deleted. Returns ``(deleted, detached but kept)``."""
        # "< gen", not "<> gen": a later pass over the same file (another process)
        # marks what it reads with a higher generation, which this one must not remove
        stale = "" if generation is None else " AND (seen IS NULL OR seen < :gen)"
        params = {"origin": origin, "gen": generation}
        try:
            with self._write() as conn:
                moved = conn.execute(
                    "UPDATE posts SET (origin, seen) = (SELECT po.origin, po.seen"
                    " FROM post_origins AS po WHERE po.uid = posts.uid AND po.origin <> :origin"
                    " ORDER BY po.origin LIMIT 1)"
                    f" WHERE origin = :origin{stale} AND EXISTS (SELECT 1 FROM post_origins"
                    " AS po WHERE po.uid = posts.uid AND po.origin <> :origin)",
                    params,
                ).rowcount
                if moved > 0:  # their new origin is now in the row: drop the duplicate
                    conn.execute(
                        "DELETE FROM post_origins WHERE EXISTS (SELECT 1 FROM posts AS p"
                        " WHERE p.uid = post_origins.uid AND p.origin = post_origins.origin)"
                    )
                deleted = conn.execute(
                    f"DELETE FROM posts WHERE origin = :origin{stale}", params
                ).rowcount
                detached = conn.execute(
                    f"DELETE FROM post_origins WHERE origin = :origin{stale}", params
                ).rowcount
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot remove posts") from exc
        return max(deleted, 0), max(moved, 0) + max(detached, 0)

    def origins(self, *, exclusive: bool = False) -> list[OriginSummary]:
        """Where the stored posts came from, one entry an origin, ordered by key.

        Parameters
        ----------
        exclusive : bool
            Also count, for each origin, the posts no other origin gives (a pass over
            the posts; slower on a large store).

        Returns
        -------
        list of OriginSummary
            Origins that no longer have posts are listed with ``posts == 0``; posts
            stored without an origin appear under the key ``""``.
        """
        try:
            conn = self.conn
            counts: dict[int | None, int] = dict(
                conn.execute("SELECT origin, count(*) FROM posts GROUP BY origin").fetchall()
            )
            for origin, n in conn.execute(
                "SELECT origin, count(*) FROM post_origins GROUP BY origin"
            ):
                counts[origin] = counts.get(origin, 0) + n
            only: dict[int | None, int] = {}
            if exclusive:
                only = dict(
                    conn.execute(
                        "SELECT origin, count(*) FROM posts AS p WHERE NOT EXISTS (SELECT 1"
                        " FROM post_origins AS po WHERE po.uid = p.uid) GROUP BY origin"
                    ).fetchall()
                )
            rows = conn.execute(
                "SELECT id, key, kind, added_by, project, last_added FROM origins"
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read where posts came from") from exc
        out: list[OriginSummary] = []
        known: set[int | None] = set()
        for oid, key, kind, added_by, project, last in rows:
            known.add(oid)
            out.append(
                OriginSummary(
                    key=key,
                    kind=kind,
                    added_by=added_by,
                    project=project,
                    posts=counts.get(oid, 0),
                    exclusive=only.get(oid, 0) if exclusive else None,
                    last_added=_parse_dt(last),
                    id=oid,
                )
            )
        for oid, n in counts.items():  # posts without an origin, or whose origin was removed
            if oid not in known and n:
                out.append(
                    OriginSummary(
                        key="" if oid is None else f"#{oid}",
                        kind="unknown",
                        added_by=ADDED_BEFORE_TRACKING,
                        project=None,
                        posts=n,
                        exclusive=only.get(oid, 0) if exclusive else None,
                        last_added=None,
                        id=oid,
                    )
                )
        out.sort(key=lambda o: o.key)
        return out

    def prune_origins(self, origins: Iterable[str | int]) -> PruneResult:
        """Remove origins from the store, with the posts only they gave.

        A post another origin still gives is kept (and no longer counts for the pruned
        one). The import records and quarantined lines of a pruned file go too, so
        importing it again reads it afresh.

        Parameters
        ----------
        origins : iterable of str or int
            Origin keys (a file path, absolute or relative to the current folder, or a
            live label as :meth:`origins` lists it) or ids.

        Returns
        -------
        PruneResult

        Raises
        ------
        StoreError
            When one of them is not an origin in the store (nothing is removed then).
        """
        by_key = {o.key: o for o in self.origins() if o.id is not None}
        by_id = {o.id: o for o in by_key.values()}
        chosen: list[OriginSummary] = []
        for wanted in origins:
            found = by_id.get(wanted) if isinstance(wanted, int) else by_key.get(str(wanted))
            if found is None and isinstance(wanted, str | Path):
                found = by_key.get(_abspath(wanted))
            if found is None:
                raise StoreError(
                    f"no posts in the store come from {str(wanted)!r}",
                    source=self.path,
                    hint="`mapper store sources` lists where the stored posts came from",
                )
            if found not in chosen:
                chosen.append(found)
        removed = kept = 0
        for origin in chosen:
            assert origin.id is not None
            deleted, detached = self._detach(origin.id, None)
            removed += deleted
            kept += detached
            try:
                with self._write() as conn:
                    conn.execute("DELETE FROM origins WHERE id = ?", (origin.id,))
                    conn.execute("DELETE FROM imports WHERE source = ?", (origin.key,))
                    conn.execute("DELETE FROM quarantine WHERE source = ?", (origin.key,))
            except sqlite3.Error as exc:
                raise self._error(exc, "cannot remove a source") from exc
            self._origin_ids.pop(origin.key, None)
        return PruneResult(tuple(o.key for o in chosen), removed, kept)

    def iter_posts(
        self,
        platforms: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        exclude_origins: Iterable[int] | None = None,
        chunk: int = 2000,
        for_resolution: bool = False,
    ) -> Iterator[Post]:
        """Yield stored posts ordered by uid, streaming (never all in memory).

        Parameters
        ----------
        platforms : iterable of str, optional
            Only these platforms (``"x"``, ``"bluesky"``...).
        since, until : datetime, optional
            Only posts with ``since <= created_at < until`` (naive datetimes are taken
            as UTC). Posts without a time are left out when either bound is given.
        exclude_origins : iterable of int, optional
            Leave out the posts that only these origins (ids, see :meth:`origins`) gave;
            a post another origin also gave is kept.
        chunk : int
            Rows fetched at a time.
        for_resolution : bool
            Leave out what resolution does not read (``provenance`` and
            ``language`` are ``None``): faster (:func:`post_for_resolution`).

        Yields
        ------
        Post
            Equal to the post that was stored (but for ``provenance`` and
            ``language`` with ``for_resolution``).
        """
        where: list[str] = []
        params: list[Any] = []
        if platforms is not None:
            plats = list(platforms)
            if not plats:
                return
            where.append(f"platform IN ({','.join('?' * len(plats))})")
            params.extend(plats)
        if since is not None:
            where.append("created_at >= ?")
            params.append(_iso(since))
        if until is not None:
            where.append("created_at < ?")
            params.append(_iso(until))
        excluded = sorted(set(exclude_origins or ()))
        if excluded:
            marks = ",".join("?" * len(excluded))
            where.append(
                f"NOT (coalesce(origin, -1) IN ({marks}) AND NOT EXISTS (SELECT 1 FROM"
                f" post_origins AS po WHERE po.uid = posts.uid AND po.origin NOT IN ({marks})))"
            )
            params.extend(excluded * 2)
        # the columns and the brief; the record only where there is no brief
        sql = f"SELECT {_READ_COLUMNS} FROM posts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY uid"
        try:
            cur = self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read posts") from exc
        try:
            while True:
                try:
                    rows = cur.fetchmany(chunk)
                except sqlite3.Error as exc:
                    raise self._error(exc, "cannot read posts") from exc
                if not rows:
                    break
                for row in rows:
                    yield _post_of_row(row, for_resolution)
        finally:
            cur.close()

    def get_post(self, uid: str) -> Post | None:
        """The stored post with this uid, or ``None``."""
        row = self._query_one(f"SELECT {_READ_COLUMNS} FROM posts WHERE uid = ?", (uid,))
        return None if row is None else _post_of_row(row, False)

    def count_posts(self, platform: str | None = None) -> int:
        """Number of stored posts (on one platform when given)."""
        if platform is None:
            row = self._query_one("SELECT count(*) FROM posts", ())
        else:
            row = self._query_one("SELECT count(*) FROM posts WHERE platform = ?", (platform,))
        return int(row[0]) if row else 0

    def count_only_from(self, origins: Iterable[int]) -> int:
        """Number of posts that only these origins (ids) gave: what
        ``iter_posts(exclude_origins=origins)`` leaves out, and what pruning them
        removes."""
        ids = sorted(set(origins))
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        row = self._query_one(
            f"SELECT count(*) FROM posts WHERE origin IN ({marks}) AND NOT EXISTS (SELECT 1"
            f" FROM post_origins AS po WHERE po.uid = posts.uid AND po.origin NOT IN ({marks}))",
            (*ids, *ids),
        )
        return int(row[0]) if row else 0

    def iter_refs(
        self, kind: str | None = None, target: str | None = None
    ) -> Iterator[tuple[str, Reference]]:
        """Yield ``(post uid, Reference)`` for stored references, ordered by post uid.

        Parameters
        ----------
        kind : str, optional
            Only this reference kind (``mention``, ``reply``...).
        target : str, optional
            Only references to this target (compared case-insensitively).
        """
        sql = "SELECT post, kind, target, target_id, weight FROM refs"
        where: list[str] = []
        params: list[Any] = []
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if target is not None:
            where.append("lower(target) = lower(?)")
            params.append(target)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY post"
        try:
            cur = self.conn.execute(sql, params)
            for post, k, t, tid, w in cur:
                yield post, Reference(kind=k, target=t, target_id=tid, weight=w)
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read references") from exc

    def raw_payload(self, uid: str) -> str | None:
        """The raw payload a post was built from, or ``None`` when it cannot be recovered.

        A raw payload stored in the row is returned as is. Otherwise the pointer is
        followed: the line of the archive file (for a twarc2 page that is the whole
        response page the post is in). ``None`` when the post is unknown, the file is
        gone, or the file changed since it was imported (its recorded size, time and
        fingerprint no longer match).
        """
        row = self._query_one(
            "SELECT p.raw, s.path, p.raw_line, p.raw_offset FROM posts AS p"
            " LEFT JOIN sources AS s ON s.id = p.raw_source WHERE p.uid = ?",
            (uid,),
        )
        if row is None:
            return None
        raw, path, line, offset = row
        if raw is not None:
            return raw if isinstance(raw, str) else bytes(raw).decode("utf-8", "replace")
        if path is None or line is None:
            return None
        status = self.import_status(path)
        if status is not None and not status.unchanged:
            return None
        try:
            data = _read_line(Path(path), line, offset)
        except OSError:
            return None
        if data is None:
            return None
        return data.rstrip(b"\r\n").decode("utf-8", errors="replace")

    # -- quarantine ------------------------------------------------------------------

    def quarantine(
        self, source: str | Path, line: int | None, reason: str, raw: str | bytes | None = None
    ) -> None:
        """Record a line that could not be read (the same source, line and reason once).

        Parameters
        ----------
        source : str or Path
            The file (or query) the line came from.
        line : int, optional
            1-based line number.
        reason : str
            Why it was set aside.
        raw : str or bytes, optional
            The line; at most 2 KiB of it is kept.
        """
        self.quarantine_many(source, [(line, reason, raw)])

    def quarantine_many(
        self, source: str | Path, rows: Iterable[tuple[int | None, str, str | bytes | None]]
    ) -> int:
        """Record many ``(line, reason, raw)`` rows for one source in one transaction.

        Returns the number of rows newly recorded.
        """
        now = _iso(now_utc())
        src = str(source)
        data = [(src, line, reason, _excerpt(raw), now) for line, reason, raw in rows]
        if not data:
            return 0
        try:
            with self._write() as conn:
                cur = conn.executemany(
                    "INSERT OR IGNORE INTO quarantine (source, line, reason, raw, recorded_at)"
                    " VALUES (?,?,?,?,?)",
                    data,
                )
                return max(cur.rowcount, 0)
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot record a quarantined line") from exc

    def quarantined(self, source: str | Path | None = None) -> list[dict[str, Any]]:
        """Quarantined lines, oldest first, as dicts with ``source``, ``line``, ``reason``,
        ``raw`` and ``recorded_at`` (a UTC datetime); for one source when given."""
        sql = "SELECT source, line, reason, raw, recorded_at FROM quarantine"
        params: tuple[Any, ...] = ()
        if source is not None:
            sql += " WHERE source = ?"
            params = (str(source),)
        sql += " ORDER BY id"
        try:
            rows = self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read the quarantine") from exc
        return [
            {"source": s, "line": ln, "reason": r, "raw": raw, "recorded_at": _parse_dt(t)}
            for s, ln, r, raw, t in rows
        ]

    def quarantine_count(self, source: str | Path | None = None) -> int:
        """Number of quarantined lines (for one source when given)."""
        if source is None:
            row = self._query_one("SELECT count(*) FROM quarantine", ())
        else:
            row = self._query_one(
                "SELECT count(*) FROM quarantine WHERE source = ?", (str(source),)
            )
        return int(row[0]) if row else 0

    def clear_quarantine(self, source: str | Path | None = None) -> int:
        """Forget quarantined lines (of one source when given); returns how many."""
        try:
            with self._write() as conn:
                if source is None:
                    cur = conn.execute("DELETE FROM quarantine")
                else:
                    cur = conn.execute("DELETE FROM quarantine WHERE source = ?", (str(source),))
                return max(cur.rowcount, 0)
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot clear the quarantine") from exc

    # -- cursors ---------------------------------------------------------------------

    def get_cursor(self, key: str) -> str | None:
        """The value saved under ``key`` (a pagination token, a newest id...), or ``None``."""
        row = self._query_one("SELECT value FROM cursors WHERE key = ?", (key,))
        return None if row is None else row[0]

    def set_cursor(self, key: str, value: str) -> None:
        """Save ``value`` under ``key``, replacing any earlier value."""
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO cursors (key, value, updated_at) VALUES (?,?,?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    (key, str(value), _iso(now_utc())),
                )
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot save a cursor") from exc

    def cursors(self) -> dict[str, str]:
        """Every saved cursor, by key."""
        try:
            return dict(self.conn.execute("SELECT key, value FROM cursors ORDER BY key"))
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read cursors") from exc

    # -- imports ---------------------------------------------------------------------

    def import_status(self, path: str | Path) -> ImportStatus | None:
        """The recorded import of ``path`` (by absolute path), or ``None``.

        ``ImportStatus.unchanged`` tells whether the file is still the one imported.
        """
        source = _abspath(path)
        row = self._query_one(
            "SELECT source, size, mtime_ns, fingerprint, options, lines, posts, added,"
            " duplicates, quarantined, finished_at FROM imports WHERE source = ?",
            (source,),
        )
        if row is None:
            return None
        try:
            now = file_fingerprint(source)
            unchanged = (now.size, now.mtime_ns, now.sha256) == (row[1], row[2], row[3])
        except OSError:
            unchanged = False
        return ImportStatus(
            source=row[0],
            size=row[1],
            mtime_ns=row[2],
            fingerprint=row[3],
            options=row[4],
            lines=row[5],
            posts=row[6],
            added=row[7],
            duplicates=row[8],
            quarantined=row[9],
            finished_at=_parse_dt(row[10]) or now_utc(),
            unchanged=unchanged,
        )

    def record_import(
        self,
        path: str | Path,
        fingerprint: FileFingerprint,
        *,
        options: str = "",
        lines: int = 0,
        posts: int = 0,
        added: int = 0,
        duplicates: int = 0,
        quarantined: int = 0,
    ) -> None:
        """Record that ``path`` (as it was when ``fingerprint`` was taken) was imported.

        Call it after the posts are stored: a later import of the unchanged file with
        the same ``options`` can then be skipped.
        """
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT OR REPLACE INTO imports (source, size, mtime_ns, fingerprint,"
                    " options, lines, posts, added, duplicates, quarantined, finished_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        _abspath(path),
                        fingerprint.size,
                        fingerprint.mtime_ns,
                        fingerprint.sha256,
                        options,
                        lines,
                        posts,
                        added,
                        duplicates,
                        quarantined,
                        _iso(now_utc()),
                    ),
                )
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot record an import") from exc

    # -- divisions and votes ---------------------------------------------------------
    # Parliamentary divisions live in tables of their own (_VOTES_SCHEMA, at the end of
    # this module), created on open when missing: a store written before they existed
    # is migrated in place.

    def _setup_votes(self) -> None:
        conn = self.conn
        have = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE (type = 'table'"
            " AND name IN ('divisions', 'votes')) OR (type = 'index' AND name = 'votes_in_order')"
        ).fetchone()[0]
        if have == 3:
            return
        with self._write():
            for statement in _VOTES_SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)

    def _setup_content_version(self) -> None:
        conn = self.conn
        names = set(_CONTENT_TRIGGERS) | {"content_version"}
        marks = ",".join("?" * len(names))
        have = conn.execute(
            f"SELECT count(*) FROM sqlite_master WHERE name IN ({marks})", sorted(names)
        ).fetchone()[0]
        if have == len(names):
            return
        with self._write():
            conn.execute(
                "CREATE TABLE IF NOT EXISTS content_version (id INTEGER PRIMARY KEY"
                " CHECK (id = 1), store_id TEXT NOT NULL, changes INTEGER NOT NULL)"
            )
            conn.execute(
                "INSERT OR IGNORE INTO content_version (id, store_id, changes) VALUES (1, ?, 0)",
                (uuid.uuid4().hex,),
            )
            for name, body in _CONTENT_TRIGGERS.items():
                conn.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")

    def content_version(self) -> str:
        """What the posts and their origins hold, as ``"<store id>:<changes>"``.

        Two reads give the same version exactly when no post or post origin was
        inserted, deleted or changed in between (by this or any other process). The
        store id tells apart two stores that made the same number of changes.
        """
        row = self._query_one("SELECT store_id, changes FROM content_version WHERE id = 1", ())
        if row is None:  # pragma: no cover - the row is made when the store is opened
            raise StoreError("the store has no content version", source=self.path)
        return f"{row[0]}:{row[1]}"

    def add_divisions(
        self, divisions: Iterable[Division | tuple[Division, str | None]]
    ) -> DivisionAddResult:
        """Store divisions with their votes, one transaction per division.

        Parameters
        ----------
        divisions : iterable of Division or (Division, raw) pairs
            ``raw`` is the division's raw payload (its JSON), kept in the row when
            given; otherwise the division's provenance (file and line) points at it.

        Returns
        -------
        DivisionAddResult
            What happened to each division: ``added`` (new uid), ``duplicates`` (the
            same votes were stored), ``replaced`` (the stored votes differed and were
            replaced by these) or ``kept`` (the stored division is complete and this
            one is not, or the stored one came from a richer source: it stays).

        Raises
        ------
        StoreError
            When the database cannot be written. Divisions stored before stay stored.
        """
        outcomes: list[tuple[str, str]] = []
        batch: list[tuple[Division, str | None]] = []
        votes = 0
        try:
            try:
                for item in divisions:
                    if type(item) is tuple:
                        batch.append(item)
                    else:
                        batch.append((item, None))  # type: ignore[arg-type]
                    votes += len(batch[-1][0].votes)
                    if votes >= DIVISION_BATCH_VOTES:
                        outcomes += self._add_division_batch(batch)
                        batch, votes = [], 0
            except (sqlite3.Error, StoreError):
                raise
            except Exception:
                # the divisions' source failed part-way: keep what it gave, then fail
                outcomes += self._add_division_batch(batch)
                raise
            outcomes += self._add_division_batch(batch)
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot store divisions") from exc
        return DivisionAddResult.from_outcomes(outcomes)

    def _add_division_batch(
        self, batch: list[tuple[Division, str | None]]
    ) -> list[tuple[str, str]]:
        if not batch:
            return []
        with self._write() as conn:
            return [(d.uid, self._add_division(conn, d, raw)) for d, raw in batch]

    def _add_division(self, conn: sqlite3.Connection, division: Division, raw: str | None) -> str:
        fingerprint = division_fingerprint(division)
        prov = division.provenance
        row = (
            division.uid,
            division.house,
            division.number,
            division.division_id,
            _iso(division.date),
            division.title,
            division.aye_count,
            division.no_count,
            division.format,
            int(division.complete),
            fingerprint,
            prov.source if prov is not None else "",
            prov.line if prov is not None else None,
            _iso(prov.retrieved_at) if prov is not None else None,
            prov.version if prov is not None else "",
            raw,
            _iso(now_utc()),
        )
        stored = conn.execute(
            "SELECT fingerprint, complete, format FROM divisions WHERE uid = ?",
            (division.uid,),
        ).fetchone()
        if stored is not None:
            old_fingerprint, old_complete, old_format = stored
            if old_fingerprint == fingerprint:
                if division.complete and not old_complete:
                    conn.execute("UPDATE divisions SET complete = 1 WHERE uid = ?", (division.uid,))
                return "duplicates"
            if old_complete and (
                not division.complete
                or _FORMAT_RANK.get(division.format, 1) < _FORMAT_RANK.get(old_format, 1)
            ):
                return "kept"
            conn.execute("DELETE FROM votes WHERE division = ?", (division.uid,))
        conn.execute(
            "INSERT OR REPLACE INTO divisions (uid, house, number, division_id, date,"
            " title, aye_count, no_count, format, complete, fingerprint, source, line,"
            " retrieved_at, version, raw, stored_at)"
            f" VALUES ({','.join('?' * 17)})",
            row,
        )
        conn.executemany(
            "INSERT OR REPLACE INTO votes (division, member, member_id, name, party,"
            " constituency, vote, teller, proxy, line) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    division.uid,
                    v.member,
                    v.member_id,
                    v.name,
                    v.party,
                    v.constituency,
                    v.vote,
                    int(v.teller),
                    v.proxy,
                    v.line,
                )
                for v in division.votes
            ],
        )
        return "added" if stored is None else "replaced"

    def iter_divisions(
        self,
        *,
        house: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        uids: Iterable[str] | None = None,
    ) -> Iterator[Division]:
        """Yield stored divisions with their votes, by date then uid.

        Parameters
        ----------
        house : str, optional
            Only this house (``commons``, or a table's parliament).
        since, until : datetime, optional
            Only divisions with ``since <= date < until`` (naive means UTC).
        uids : iterable of str, optional
            Only these divisions.

        Yields
        ------
        Division
            Votes in the order of the source (line), provenance as stored.
        """
        where: list[str] = []
        params: list[Any] = []
        if house is not None:
            where.append("house = ?")
            params.append(house)
        if since is not None:
            where.append("date >= ?")
            params.append(_iso(since))
        if until is not None:
            where.append("date < ?")
            params.append(_iso(until))
        if uids is not None:
            wanted = list(uids)
            if not wanted:
                return
            where.append(f"uid IN ({','.join('?' * len(wanted))})")
            params.extend(wanted)
        sql = (
            "SELECT uid, house, number, division_id, date, title, aye_count, no_count,"
            " format, complete, source, line, retrieved_at, version FROM divisions"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY date, uid"
        try:
            heads = self.conn.execute(sql, params).fetchall()
            for head in heads:
                votes = self.conn.execute(
                    "SELECT member, name, vote, party, constituency, member_id, teller, proxy,"
                    " line FROM votes WHERE division = ? ORDER BY line, member",
                    (head[0],),
                ).fetchall()
                yield _division_from_row(head, votes)
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read divisions") from exc

    def get_division(self, uid: str) -> Division | None:
        """The stored division with this uid (with its votes), or ``None``."""
        return next(self.iter_divisions(uids=[uid]), None)

    def vote_rows(self) -> Iterator[tuple[Any, ...]]:
        """Yield one tuple per stored vote, with its division, by date, division and line.

        Columns: division uid, house, number, date (ISO text), title, member key,
        member id, name, party, constituency, vote, teller (0/1), proxy.
        """
        # Division by division (a small sort) and each division's votes through the
        # (division, line, member) index: no sort of every vote in the store.
        try:
            divisions = self.conn.execute(
                "SELECT uid, house, number, date, title FROM divisions ORDER BY date, uid"
            ).fetchall()
            for head in divisions:
                for row in self.conn.execute(
                    "SELECT member, member_id, name, party, constituency, vote, teller, proxy"
                    " FROM votes WHERE division = ? ORDER BY line, member",
                    (head[0],),
                ):
                    yield (*head, *row)
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read votes") from exc

    def has_division(self, house: str, division_id: str, *, format: str | None = None) -> bool:
        """Whether a complete division with this source id (the API's ``DivisionId``) is
        stored (from ``format`` only, when given)."""
        sql = "SELECT 1 FROM divisions WHERE house = ? AND division_id = ? AND complete = 1"
        params: tuple[Any, ...] = (house, str(division_id))
        if format is not None:
            sql += " AND format = ?"
            params = (*params, format)
        return self._query_one(sql + " LIMIT 1", params) is not None

    def count_divisions(self, house: str | None = None) -> int:
        """Number of stored divisions (of one house when given)."""
        if house is None:
            row = self._query_one("SELECT count(*) FROM divisions", ())
        else:
            row = self._query_one("SELECT count(*) FROM divisions WHERE house = ?", (house,))
        return int(row[0]) if row else 0

    def division_sources(self) -> dict[str, int]:
        """The number of stored divisions per source (the file they were read from, or
        the archive or label of a live collection)."""
        try:
            rows = self.conn.execute(
                "SELECT source, count(*) FROM divisions GROUP BY source"
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read the store") from exc
        return {str(source or ""): int(count) for source, count in rows}

    def count_votes(self) -> int:
        """Number of stored votes."""
        row = self._query_one("SELECT count(*) FROM votes", ())
        return int(row[0]) if row else 0

    # -- helpers ---------------------------------------------------------------------

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` result (``"ok"`` when healthy)."""
        row = self._query_one("PRAGMA integrity_check", ())
        return str(row[0]) if row else ""

    def _query_one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        try:
            return self.conn.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise self._error(exc, "cannot read the store") from exc


def _abspath(path: str | Path) -> str:
    return os.path.abspath(os.fspath(path))


def _read_line(path: Path, line: int, offset: int | None) -> bytes | None:
    """Line ``line`` (1-based) of a file, by seeking to ``offset`` when known."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
        fh.seek(0)
        if offset is not None and not gz:
            fh.seek(offset)
            data = fh.readline()
            return data or None
        with gzip.open(fh) if gz else contextlib.nullcontext(fh) as stream:
            for number, data in enumerate(stream, 1):
                if number == line:
                    return data
    return None


# --------------------------------------------------------------------------- divisions

_VOTES_SCHEMA = """
CREATE TABLE IF NOT EXISTS divisions (
    uid TEXT PRIMARY KEY,
    house TEXT NOT NULL,
    number TEXT NOT NULL DEFAULT '',
    division_id TEXT,
    date TEXT,
    title TEXT NOT NULL DEFAULT '',
    aye_count INTEGER,
    no_count INTEGER,
    format TEXT NOT NULL,
    complete INTEGER NOT NULL DEFAULT 1,
    fingerprint TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    line INTEGER,
    retrieved_at TEXT,
    version TEXT NOT NULL DEFAULT '',
    raw TEXT,
    stored_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS divisions_by_source_id ON divisions (house, division_id);
CREATE TABLE IF NOT EXISTS votes (
    division TEXT NOT NULL,
    member TEXT NOT NULL,
    member_id TEXT,
    name TEXT NOT NULL,
    party TEXT NOT NULL DEFAULT '',
    constituency TEXT NOT NULL DEFAULT '',
    vote TEXT NOT NULL CHECK (vote IN ('aye', 'no', 'no_vote')),
    teller INTEGER NOT NULL DEFAULT 0,
    proxy TEXT NOT NULL DEFAULT '',
    line INTEGER,
    PRIMARY KEY (division, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS votes_by_member ON votes (member);
CREATE INDEX IF NOT EXISTS votes_in_order ON votes (division, line, member);
"""

#: Votes per write transaction of :meth:`Store.add_divisions` (whole divisions).
DIVISION_BATCH_VOTES = 20000
#: Which source wins when two disagree about one division: the API's JSON (member ids,
#: tellers) over exports and tables.
_FORMAT_RANK = {"commons-api": 2}


@dataclass(frozen=True, slots=True)
class DivisionAddResult:
    """What :meth:`Store.add_divisions` did, per division and in total.

    Attributes
    ----------
    added, duplicates, replaced, kept : int
        Divisions new to the store; already stored with the same votes; stored with
        other votes, now replaced; stored complete (or from a richer source) and left
        as they were.
    outcomes : tuple of (uid, outcome)
        Each division offered, in order, with one of the four outcomes.
    """

    added: int = 0
    duplicates: int = 0
    replaced: int = 0
    kept: int = 0
    outcomes: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_outcomes(cls, outcomes: Iterable[tuple[str, str]]) -> DivisionAddResult:
        """Count a list of ``(uid, outcome)`` pairs."""
        items = tuple(outcomes)
        counts = {"added": 0, "duplicates": 0, "replaced": 0, "kept": 0}
        for _uid, outcome in items:
            counts[outcome] += 1
        return cls(**counts, outcomes=items)


def division_fingerprint(division: Division) -> str:
    """A hash of what a division says (header and votes, not where it was read from):
    equal for two reads of the same division, different when any vote differs."""
    digest = hashlib.sha256()
    head = (
        division.uid,
        division.number,
        _iso(division.date),
        division.title,
        division.aye_count,
        division.no_count,
        division.division_id,
    )
    digest.update(orjson.dumps(head))
    for vote in sorted(division.votes, key=lambda v: v.member):
        digest.update(
            orjson.dumps(
                (
                    vote.member,
                    vote.member_id,
                    vote.name,
                    vote.party,
                    vote.constituency,
                    vote.vote,
                    vote.teller,
                    vote.proxy,
                )
            )
        )
    return digest.hexdigest()


def _division_from_row(head: tuple[Any, ...], votes: list[tuple[Any, ...]]) -> Division:
    (uid, house, number, division_id, date, title, ayes, noes, fmt, complete, source, line,
     retrieved, version) = head  # fmt: skip
    return Division(
        uid=uid,
        house=house,
        number=number,
        date=_parse_dt(date),
        title=title,
        aye_count=ayes,
        no_count=noes,
        division_id=division_id,
        votes=tuple(
            Vote(
                member=member,
                name=name,
                vote=vote,
                party=party,
                constituency=seat,
                member_id=member_id,
                teller=bool(teller),
                proxy=proxy,
                line=vline,
            )
            for member, name, vote, party, seat, member_id, teller, proxy, vline in votes
        ),
        format=fmt,
        complete=bool(complete),
        provenance=Provenance(
            collector=fmt,
            version=version,
            source=source,
            line=line,
            retrieved_at=_parse_dt(retrieved),
        ),
    )
