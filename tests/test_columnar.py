"""The hot path from import to graph reads columns, not objects: a post is stored as its
row's columns and a compact brief instead of a JSON record, and must come back exactly
as it was given (whole, and as resolution reads it), on real and generated archives,
in a store written now and in one migrated from version 2, whose rows keep their
records; the refs view reads both kinds of row."""

from __future__ import annotations

import sqlite3
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mapper.collectors.x_archive import import_archive, iter_archive
from mapper.records import Post, Provenance, Reference
from mapper.store import SCHEMA_VERSION, Store, post_to_json

ROOT = Path(__file__).resolve().parents[1]
X_FIXTURES = sorted((ROOT / "tests" / "fixtures" / "x-api-v2").glob("*.jsonl"))


def _generated(folder: Path, posts: int, seed: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return Path(generate(folder, posts, seed=seed)["archive"])


def _given(archives: list[Path]) -> list[Post]:
    """The posts the archives give, the first of each uid (as the store keeps), by uid."""
    first: dict[str, Post] = {}
    for archive in archives:
        for post in iter_archive(archive):
            first.setdefault(post.uid, post)
    return [first[uid] for uid in sorted(first)]


def _for_resolution(posts: list[Post]) -> list[Post]:
    return [replace(p, language=None, provenance=None) for p in posts]


def _refs(store: Store) -> list[tuple[str, Reference]]:
    return sorted(store.iter_refs(), key=lambda x: (x[0], x[1].kind, x[1].target))


def _refs_of(posts: list[Post]) -> list[tuple[str, Reference]]:
    found = [
        (p.uid, Reference(r.kind, r.target, r.target_id, weight=r.weight))
        for p in posts
        for r in p.references
    ]
    return sorted(found, key=lambda x: (x[0], x[1].kind, x[1].target))


def _briefs(store: Store) -> list[str | None]:
    return [b for (b,) in store.conn.execute("SELECT brief FROM posts ORDER BY uid")]


@pytest.mark.parametrize("seed", [1, 2])
def test_briefs_give_the_posts_the_records_give(tmp_path: Path, seed: int) -> None:
    archives = [*X_FIXTURES, _generated(tmp_path / "gen", 3000, seed)]
    given = _given(archives)
    with Store(tmp_path / "s.sqlite") as store:
        for archive in archives:
            import_archive(store, archive)
        assert all(b is not None for b in _briefs(store))
        assert list(store.iter_posts()) == given
        assert store.get_post(given[-1].uid) == given[-1]
        read = list(store.iter_posts(for_resolution=True))
        assert len(read) == store.count_posts() > 3000
        assert read == _for_resolution(given)
        # the references and names of real pages survive: ids, snippets, display names
        assert any(p.author_name for p in read)
        assert any(r.target_id and r.snippet for p in read for r in p.references)
        assert _refs(store) == _refs_of(given)


def test_odd_values_survive_the_brief(tmp_path: Path) -> None:
    posts = [
        Post(
            "x:1",
            "x",
            "ann",
            None,
            'tab\tand "quotes" and \x1f and é',
            references=(
                Reference("mention", "bob", None, "line\nbreak", 2.5),
                Reference("link", "https://example.org/a?b=1", None, "", None),
            ),
            tags=("brexit", "nhs"),
            author_name="Ann \u2603",
            language="en",
            provenance=Provenance(
                "x-archive", "1.0", "/data/a.jsonl", 7, datetime(2020, 1, 2, 3, 4, 5, 6, UTC)
            ),
        ),
        Post(
            "bluesky:2",
            "bluesky",
            "c.bsky.social",
            datetime(2021, 5, 6, 7, 8, 9),  # naive: taken as UTC
            "",
            author_id="did:plc:1",
            provenance=Provenance("bluesky", "1.0", "feed", None, None),
        ),
    ]
    with Store(tmp_path / "s.sqlite") as store:
        store.add_posts(posts)
        # what a JSON record gives back is what the brief gives back
        expected = [_via_record(p) for p in posts]
        assert list(store.iter_posts()) == sorted(expected, key=lambda p: p.uid)
        assert list(store.iter_posts(for_resolution=True)) == _for_resolution(
            sorted(expected, key=lambda p: p.uid)
        )
        assert expected[1].created_at == datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC)


def _via_record(post: Post) -> Post:
    from mapper.store import post_from_json

    return post_from_json(post_to_json(post))


def test_a_version_2_store_is_migrated_and_its_posts_read_from_their_records(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.sqlite"
    archive = _generated(tmp_path / "gen", 500, 3)
    old = _given([archive])
    # a version 2 store: JSON records, no brief column, the refs view over the records
    with Store(db) as store:
        pass
    con = sqlite3.connect(db)
    con.execute("DROP VIEW refs")
    con.execute("ALTER TABLE posts DROP COLUMN brief")
    con.execute(
        "CREATE VIEW refs AS SELECT p.uid AS post, json_extract(r.value, '$.kind') AS kind,"
        " json_extract(r.value, '$.target') AS target,"
        " json_extract(r.value, '$.target_id') AS target_id,"
        " json_extract(r.value, '$.weight') AS weight"
        " FROM posts AS p, json_each(p.record, '$.references') AS r"
    )
    con.executemany(
        "INSERT INTO posts (uid, platform, author, author_id, created_at, url, text, record)"
        " VALUES (?,?,?,?,?,?,?,?)",
        [
            (p.uid, p.platform, p.author, p.author_id, None, p.url, p.text, post_to_json(p))
            for p in old
        ],
    )
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    with Store(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert set(_briefs(store)) == {None}  # not guessed: read from the records
        assert list(store.iter_posts()) == old
        assert list(store.iter_posts(for_resolution=True)) == _for_resolution(old)
        assert _refs(store) == _refs_of(old)
        # posts stored from now on carry a brief, and both kinds read together
        for fixture in X_FIXTURES:
            import_archive(store, fixture)
        briefs = _briefs(store)
        assert None in briefs and any(b is not None for b in briefs)
        both = _given([archive, *X_FIXTURES])
        assert list(store.iter_posts()) == both
        assert list(store.iter_posts(for_resolution=True)) == _for_resolution(both)
        assert _refs(store) == _refs_of(both)


def test_a_post_read_again_from_a_changed_file_gets_a_new_brief(tmp_path: Path) -> None:
    archive = tmp_path / "a.jsonl"
    line = (
        '{"data": [{"id": "1", "author_id": "9", "text": "hi @%s",'
        ' "entities": {"mentions": [{"start": 3, "end": 7, "username": "%s"}]}}],'
        ' "includes": {"users": [{"id": "9", "username": "ann", "name": "Ann"}]}}\n'
    )
    archive.write_text(line % ("bob", "bob"), encoding="utf-8")
    with Store(tmp_path / "s.sqlite") as store:
        with store.file_pass(archive):
            import_archive(store, archive)
        archive.write_text(line % ("cat", "cat"), encoding="utf-8")
        with store.file_pass(archive):
            import_archive(store, archive, force=True)
        (post,) = store.iter_posts()
        assert [r.target for r in post.references] == ["cat"]
        assert [post] == list(iter_archive(archive))
        assert [(uid, r.target) for uid, r in store.iter_refs()] == [("x:1", "cat")]
