"""Tests for the SQLite post store: round trips, idempotence, quarantine, cursors, raw
payload pointers, import records, errors, and two processes importing at once."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapper.collectors.x_archive import import_archive, iter_archive
from mapper.errors import StoreError
from mapper.records import Post, Provenance, Reference
from mapper.store import (
    AddResult,
    RawPointer,
    Store,
    file_fingerprint,
    post_for_resolution,
    post_from_json,
    post_to_json,
)

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures"
MAKE_ARCHIVE = FIX / "archive" / "make_archive.py"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_post(n: int, *, platform: str = "x", when: datetime | None = T0, **kw: object) -> Post:
    defaults: dict[str, object] = {
        "uid": f"{platform}:{n}",
        "platform": platform,
        "author": f"user{n % 7}",
        "created_at": when,
        "text": f"post {n} mentions @user{(n + 1) % 7} #Tag{n % 3}",
        "url": f"https://example.org/{n}",
        "author_id": str(100 + n % 7),
        "author_name": f"User {n % 7}",
        "language": "en",
        "references": (
            Reference("mention", f"user{(n + 1) % 7}", str(100 + (n + 1) % 7), "snip"),
            Reference("link", "https://example.org/a", weight=2.5),
        ),
        "tags": (f"tag{n % 3}",),
        "provenance": Provenance("test", "0", "/tmp/source.jsonl", n, T0),
    }
    defaults.update(kw)
    return Post(**defaults)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "posts.db") as s:
        yield s


# --------------------------------------------------------------------------- posts


def test_round_trip_is_exact(store: Store) -> None:
    posts = [make_post(n, when=T0 + timedelta(minutes=n)) for n in range(20)]
    posts.append(make_post(99, when=None, provenance=None, references=(), tags=(), language=None))
    odd_zone = datetime(2024, 6, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    posts.append(make_post(98, when=odd_zone))
    result = store.add_posts(posts)
    assert result == AddResult(added=22, duplicates=0)
    back = list(store.iter_posts())
    assert back == sorted(posts, key=lambda p: p.uid)
    stored = store.get_post("x:98")
    assert stored is not None and stored.created_at is not None
    assert stored.created_at.tzinfo == UTC and stored.created_at == odd_zone
    assert stored.references[1].weight == 2.5
    assert isinstance(stored.references, tuple) and isinstance(stored.tags, tuple)
    assert store.get_post("x:nope") is None
    # read for resolution: the same posts, in the same order, without provenance and
    # language (which resolution does not read)
    light = list(store.iter_posts(for_resolution=True))
    assert light == [replace(p, provenance=None, language=None) for p in back]


@settings(max_examples=50, deadline=None)
@given(
    text=st.text(max_size=300),
    author=st.text(min_size=1, max_size=30),
    target=st.text(min_size=1, max_size=30),
    weight=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    micro=st.integers(0, 999_999),
)
def test_json_record_round_trip(
    text: str, author: str, target: str, weight: float | None, micro: int
) -> None:
    # lone surrogates cannot be stored as UTF-8: not something a collector produces
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text + author + target):
        return
    post = make_post(
        1,
        text=text,
        author=author,
        when=T0.replace(microsecond=micro),
        references=(Reference("mention", target, None, text[:10], weight),),
    )
    assert post_from_json(post_to_json(post)) == post
    # what resolution reads: the same post but for its provenance and language
    light = post_for_resolution(post_to_json(post))
    assert light == replace(post, provenance=None, language=None)
    # the fast serializer writes exactly what orjson's generic dataclass path writes
    assert post_to_json(post) == orjson.dumps(post)


def test_add_twice_adds_nothing_and_counts_duplicates(store: Store) -> None:
    posts = [make_post(n) for n in range(10)]
    assert store.add_posts(posts, batch_size=3) == AddResult(10, 0)
    assert store.add_posts(posts, batch_size=3) == AddResult(0, 10)
    # duplicates inside one batch count too, the first one stays
    changed = make_post(50, text="first")
    assert store.add_posts([changed, make_post(50, text="second")]) == AddResult(1, 1)
    assert store.get_post("x:50").text == "first"  # type: ignore[union-attr]
    assert store.count_posts() == 11
    assert store.count_posts("x") == 11 and store.count_posts("bluesky") == 0
    assert AddResult(3, 4).total == 7


def test_iter_posts_filters_and_order(store: Store) -> None:
    posts = [
        make_post(3, platform="x", when=T0),
        make_post(1, platform="bluesky", when=T0 + timedelta(days=1)),
        make_post(2, platform="x", when=T0 + timedelta(days=2)),
        make_post(4, platform="mastodon", when=None),
        make_post(10, platform="x", when=T0 + timedelta(days=3, microseconds=1)),
    ]
    store.add_posts(posts)
    assert [p.uid for p in store.iter_posts()] == [
        "bluesky:1",
        "mastodon:4",
        "x:10",
        "x:2",
        "x:3",
    ]
    assert [p.uid for p in store.iter_posts(platforms=["x"])] == ["x:10", "x:2", "x:3"]
    assert list(store.iter_posts(platforms=[])) == []
    # since inclusive, until exclusive; posts without a time are left out
    since, until = T0 + timedelta(days=1), T0 + timedelta(days=2)
    assert [p.uid for p in store.iter_posts(since=since, until=until)] == ["bluesky:1"]
    assert [p.uid for p in store.iter_posts(since=T0 + timedelta(days=3))] == ["x:10"]
    naive = datetime(2024, 1, 3)  # taken as UTC
    assert [p.uid for p in store.iter_posts(until=naive)] == ["bluesky:1", "x:3"]


def test_iter_posts_streams_and_can_be_abandoned(store: Store) -> None:
    store.add_posts(make_post(n) for n in range(50))
    it = store.iter_posts(chunk=7)
    first = [next(it) for _ in range(10)]
    assert [p.uid for p in first] == sorted(f"x:{n}" for n in range(50))[:10]
    it.close()
    assert store.add_posts([make_post(100)]).added == 1
    assert store.count_posts() == 51


def test_refs_are_queryable(store: Store) -> None:
    store.add_posts([make_post(1), make_post(2)])
    rows = store.conn.execute(
        "SELECT post, kind, target, target_id, weight FROM refs ORDER BY post, kind"
    ).fetchall()
    assert rows == [
        ("x:1", "link", "https://example.org/a", None, 2.5),
        ("x:1", "mention", "user2", "102", None),
        ("x:2", "link", "https://example.org/a", None, 2.5),
        ("x:2", "mention", "user3", "103", None),
    ]
    mentions = list(store.iter_refs(kind="mention", target="USER3"))
    assert mentions == [("x:2", Reference("mention", "user3", "103"))]


def test_unserializable_post_is_a_store_error(store: Store) -> None:
    bad = make_post(1, text="lone \ud800 surrogate")
    with pytest.raises(StoreError, match="x:1"):
        store.add_posts([bad])


# --------------------------------------------------------------------------- quarantine


def test_quarantine_rows(store: Store) -> None:
    store.quarantine("a.jsonl", 3, "invalid JSON", b'{"trunc')
    store.quarantine("a.jsonl", 7, "NUL byte", "x\x00y")
    store.quarantine("a.jsonl", 9, "huge", "z" * 10_000)
    store.quarantine("b.jsonl", None, "whole file", None)
    store.quarantine("a.jsonl", 3, "invalid JSON", b'{"trunc')  # the same row once
    store.quarantine("c.jsonl", 1, "bad bytes", b"\xff\xfe")
    rows = store.quarantined()
    assert [(r["source"], r["line"], r["reason"]) for r in rows] == [
        ("a.jsonl", 3, "invalid JSON"),
        ("a.jsonl", 7, "NUL byte"),
        ("a.jsonl", 9, "huge"),
        ("b.jsonl", None, "whole file"),
        ("c.jsonl", 1, "bad bytes"),
    ]
    assert rows[0]["raw"] == '{"trunc'
    assert rows[1]["raw"] == "x\\x00y"
    assert len(rows[2]["raw"]) == 2048
    assert rows[3]["raw"] is None
    assert rows[4]["raw"] == "\\xff\\xfe"
    assert rows[0]["recorded_at"].tzinfo == UTC
    assert store.quarantine_count() == 5
    assert store.quarantine_count("a.jsonl") == 3
    assert [r["line"] for r in store.quarantined("a.jsonl")] == [3, 7, 9]
    assert store.clear_quarantine("a.jsonl") == 3
    assert store.quarantine_count() == 2


def test_import_quarantine_not_duplicated_on_force(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "a.jsonl"
    good = orjson.dumps({"id": "1", "author_id": "2", "text": "hi", "author": {"username": "u"}})
    path.write_bytes(good + b"\n{broken\n" + good + b"\nnot json\n")
    first = import_archive(store, path)
    assert (first.lines, first.posts, first.added, first.duplicates, first.quarantined) == (
        4,
        2,
        1,
        1,
        2,
    )
    assert [r["line"] for r in store.quarantined()] == [2, 4]
    import_archive(store, path, force=True)
    assert [r["line"] for r in store.quarantined()] == [2, 4]


# --------------------------------------------------------------------------- cursors


def test_cursors(store: Store) -> None:
    assert store.get_cursor("x-search:obama") is None
    store.set_cursor("x-search:obama", "token-1")
    store.set_cursor("x-search:obama", "token-2")
    store.set_cursor("feed:https://a", "etag")
    assert store.get_cursor("x-search:obama") == "token-2"
    assert store.cursors() == {"feed:https://a": "etag", "x-search:obama": "token-2"}
    updated = store.conn.execute("SELECT updated_at FROM cursors").fetchone()[0]
    assert datetime.fromisoformat(updated).tzinfo is not None


# --------------------------------------------------------------------------- raw payloads


def test_raw_payload_pointer_and_stored(tmp_path: Path, store: Store) -> None:
    archive = tmp_path / "a.jsonl"
    lines = [
        orjson.dumps({"id": str(n), "author_id": "9", "text": f"t{n}", "author": {"username": "u"}})
        for n in range(1, 6)
    ]
    archive.write_bytes(b"\n".join(lines) + b"\n")
    result = import_archive(store, archive)
    assert result.added == 5
    for n in range(1, 6):
        assert store.raw_payload(f"x:{n}") == lines[n - 1].decode()
    # offsets are stored, and the line number alone also works (no offset)
    offsets = [r[0] for r in store.conn.execute("SELECT raw_offset FROM posts ORDER BY uid")]
    assert offsets == [0, *[sum(len(x) + 1 for x in lines[:k]) for k in range(1, 5)]]
    store.add_posts([(make_post(7, provenance=None), RawPointer(str(archive), 3))])
    assert store.raw_payload("x:7") == lines[2].decode()
    # a post whose provenance has a line points there by default
    store.add_posts([make_post(8, provenance=Provenance("t", "0", str(archive), 4))])
    assert store.raw_payload("x:8") == lines[3].decode()
    # stored raw: as pair, mapping or callable
    store.add_posts([(make_post(20), '{"raw": 20}')])
    store.add_posts([make_post(21)], raw={"x:21": b'{"raw": 21}'})
    store.add_posts([make_post(22)], raw=lambda p: f'{{"raw": "{p.uid}"}}')
    assert store.raw_payload("x:20") == '{"raw": 20}'
    assert store.raw_payload("x:21") == '{"raw": 21}'
    assert store.raw_payload("x:22") == '{"raw": "x:22"}'
    assert store.raw_payload("x:404") is None
    store.add_posts([make_post(30, provenance=None)])
    assert store.raw_payload("x:30") is None
    # the archive changes after its import: the pointer is stale, not silently wrong
    archive.write_bytes(b"rewritten\n" * 6)
    assert store.raw_payload("x:1") is None
    archive.unlink()
    assert store.raw_payload("x:7") is None


# --------------------------------------------------------------------------- imports


def test_import_status_and_unchanged_skip(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(
        orjson.dumps({"id": "1", "author_id": "2", "text": "x", "author": {"username": "u"}})
        + b"\n"
    )
    assert store.import_status(path) is None
    first = import_archive(store, path)
    status = store.import_status(path)
    assert status is not None and status.unchanged
    assert (status.source, status.posts, status.added, status.lines) == (
        str(path.resolve()),
        1,
        1,
        1,
    )
    assert status.finished_at.tzinfo == UTC
    assert first.added == 1
    assert import_archive(store, path).skipped_unchanged
    with open(path, "ab") as fh:  # appended: re-read, only the new post is added
        fh.write(
            orjson.dumps({"id": "2", "author_id": "2", "text": "y", "author": {"username": "u"}})
            + b"\n"
        )
    assert not store.import_status(path).unchanged  # type: ignore[union-attr]
    again = import_archive(store, path)
    assert (again.skipped_unchanged, again.posts, again.added, again.duplicates) == (
        False,
        2,
        1,
        1,
    )


def test_file_fingerprint(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(300_000))
    fp = file_fingerprint(path)
    assert fp.size == 300_000 and len(fp.sha256) == 64
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # a change in the last block changes the fingerprint
    path.write_bytes(bytes(data))
    assert file_fingerprint(path).sha256 != fp.sha256


# --------------------------------------------------------------------------- errors


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is not sqlite at all, just some text " * 100)
    with pytest.raises(StoreError) as info:
        Store(path)
    assert str(path) in str(info.value) and "not a SQLite database" in str(info.value)


def test_folder_foreign_database_and_newer_schema(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="folder"):
        Store(tmp_path)
    for sql, message in (
        ("CREATE TABLE invoices (id INTEGER)", "not a mapper store"),
        ("PRAGMA user_version = 99", "newer"),
    ):
        other = tmp_path / f"{message.replace(' ', '-')}.db"
        con = sqlite3.connect(other)
        con.execute(sql)
        con.commit()
        con.close()
        with pytest.raises(StoreError, match=message):
            Store(other)


def test_closed_store_and_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "s.db"
    store = Store(path)
    assert path.is_file()
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    assert store.integrity_check() == "ok"
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.count_posts()
    # reopening an existing store works and keeps its data
    with Store(path) as again:
        again.add_posts([make_post(1)])
    with Store(path) as third:
        assert third.count_posts() == 1


# --------------------------------------------------------------------------- concurrency

_CHILD = """
import sys, time
from pathlib import Path
from mapper.store import Store
from mapper.collectors.x_archive import import_archive
db, archive, batch, ready, go = sys.argv[1:6]
Path(ready).touch()
deadline = time.monotonic() + 120
while not Path(go).exists() and time.monotonic() < deadline:
    time.sleep(0.005)
start = time.time()
with Store(db) as store:
    result = import_archive(store, archive, batch_size=int(batch))
print(result.added, start, time.time())
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_two_processes_import_into_one_store(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path, seed, start in ((a, 1, 10**17), (b, 2, 2 * 10**17)):
        subprocess.run(
            [sys.executable, str(MAKE_ARCHIVE), str(path), "6000", str(seed), str(start)],
            check=True,
            env=_env(),
        )
    db = tmp_path / "shared.db"  # not created yet: both processes race to create it
    go = tmp_path / "go"
    procs = []
    for n, path in enumerate((a, b)):
        ready = tmp_path / f"ready{n}"
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(db), str(path), "200", str(ready), str(go)],
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready{n}").exists() for n in range(2)):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.005)
    go.touch()  # both start importing at once
    outs = [p.communicate(timeout=300) for p in procs]
    spans = []
    for proc, (out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
        added, start, end = out.split()
        assert added == "6000"
        spans.append((float(start), float(end)))
    # the two imports really ran at the same time
    assert max(s for s, _ in spans) < min(e for _, e in spans)
    expected = {p.uid for p in iter_archive(a)} | {p.uid for p in iter_archive(b)}
    assert len(expected) == 12_000
    with Store(db) as store:
        assert {p.uid for p in store.iter_posts()} == expected
        assert store.integrity_check() == "ok"
        assert store.import_status(a).unchanged and store.import_status(b).unchanged  # type: ignore[union-attr]


def test_failing_source_keeps_posts_yielded_before(store: Store) -> None:
    def posts():
        yield make_post(1)
        yield make_post(2)
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        store.add_posts(posts(), batch_size=100)
    assert [p.uid for p in store.iter_posts()] == ["x:1", "x:2"]


# --------------------------------------------------------------------------- content version


def test_content_version_moves_with_the_posts_and_only_with_them(tmp_path: Path) -> None:
    path = tmp_path / "posts.db"
    with Store(path) as store:
        empty = store.content_version()
        store.add_posts([make_post(n) for n in range(5)])
        five = store.content_version()
        assert five != empty
        # the same posts again add nothing, so the version stays
        assert store.add_posts([make_post(n) for n in range(5)]).added == 0
        assert store.content_version() == five
        # cursors, quarantine and import records are not posts
        store.set_cursor("k", "v")
        store.quarantine("/tmp/x.jsonl", 3, "bad json", "{")
        assert store.content_version() == five
    with Store(path) as store:  # reopening keeps it
        assert store.content_version() == five
        with store.attributed(project=None, key="/tmp/other.jsonl", kind="file"):
            store.add_posts([make_post(n) for n in range(3)])  # a second origin of three posts
        second = store.content_version()
        assert second != five
        store.prune_origins(["/tmp/other.jsonl"])
        assert store.content_version() not in (five, second)


def test_content_version_sees_writes_by_other_programs(tmp_path: Path) -> None:
    path = tmp_path / "posts.db"
    with Store(path) as store:
        store.add_posts([make_post(n) for n in range(3)])
        before = store.content_version()
    conn = sqlite3.connect(path)
    with conn:  # another program edits a post's record
        conn.execute("UPDATE posts SET record = replace(record, 'post 1', 'post 9')")
    conn.close()
    with Store(path) as store:
        after_edit = store.content_version()
        assert after_edit != before
    conn = sqlite3.connect(path)
    with conn:  # 'seen' alone says which pass gave a post, not what it holds
        conn.execute("UPDATE posts SET seen = 7")
    conn.close()
    with Store(path) as store:
        assert store.content_version() == after_edit


def test_two_stores_with_the_same_history_have_different_versions(tmp_path: Path) -> None:
    versions = []
    for name in ("a.db", "b.db"):
        with Store(tmp_path / name) as store:
            store.add_posts([make_post(n) for n in range(3)])
            versions.append(store.content_version())
    assert versions[0] != versions[1]


def test_a_store_made_before_content_versions_gets_one(tmp_path: Path) -> None:
    path = tmp_path / "posts.db"
    with Store(path) as store:
        store.add_posts([make_post(n) for n in range(3)])
    conn = sqlite3.connect(path)
    with conn:  # what a store written by the previous mapper holds
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DROP TABLE content_version")
    conn.close()
    with Store(path) as store:
        version = store.content_version()
        assert store.count_posts() == 3
        store.add_posts([make_post(9)])
        assert store.content_version() != version
