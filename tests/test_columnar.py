"""The hot path from import to graph reads columns, not objects: the posts' briefs in
the store (what resolution reads beside the other columns) must give exactly the posts
the full records give, on real and generated archives, in a store written now and in
one migrated from version 2."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from mapper.collectors.x_archive import import_archive
from mapper.records import Post, Reference
from mapper.store import SCHEMA_VERSION, Store, post_for_resolution

ROOT = Path(__file__).resolve().parents[1]
X_FIXTURES = sorted((ROOT / "tests" / "fixtures" / "x-api-v2").glob("*.jsonl"))


def _generated(folder: Path, posts: int, seed: int) -> Path:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return Path(generate(folder, posts, seed=seed)["archive"])


def _from_records(store: Store) -> list[Post]:
    """What resolution read before briefs: every record decoded, in uid order."""
    rows = store.conn.execute("SELECT record FROM posts ORDER BY uid").fetchall()
    return [post_for_resolution(record) for (record,) in rows]


def _briefs(store: Store) -> list[str | None]:
    return [b for (b,) in store.conn.execute("SELECT brief FROM posts ORDER BY uid")]


@pytest.mark.parametrize("seed", [1, 2])
def test_briefs_give_the_posts_the_records_give(tmp_path: Path, seed: int) -> None:
    archives = [*X_FIXTURES, _generated(tmp_path / "gen", 3000, seed)]
    with Store(tmp_path / "s.sqlite") as store:
        for archive in archives:
            import_archive(store, archive)
        assert all(b is not None for b in _briefs(store))
        read = list(store.iter_posts(for_resolution=True))
        assert len(read) == store.count_posts() > 3000
        assert read == _from_records(store)
        # the references and names of real pages survive: ids, snippets, display names
        assert any(p.author_name for p in read)
        assert any(r.target_id and r.snippet for p in read for r in p.references)


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
        ),
        Post("bluesky:2", "bluesky", "c.bsky.social", None, "", author_id="did:plc:1"),
    ]
    with Store(tmp_path / "s.sqlite") as store:
        store.add_posts(posts)
        assert list(store.iter_posts(for_resolution=True)) == sorted(posts, key=lambda p: p.uid)


def test_a_version_2_store_is_migrated_and_its_posts_read_from_their_records(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.sqlite"
    archive = _generated(tmp_path / "gen", 500, 3)
    with Store(db) as store:
        import_archive(store, archive)
        expected = list(store.iter_posts(for_resolution=True))
    # what a version 2 store is: no brief column
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE posts DROP COLUMN brief")
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    with Store(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert set(_briefs(store)) == {None}  # not guessed: read from the records
        assert list(store.iter_posts(for_resolution=True)) == expected
        # posts stored from now on carry a brief, and both kinds read together
        for archive in X_FIXTURES:
            import_archive(store, archive)
        briefs = _briefs(store)
        assert None in briefs and any(b is not None for b in briefs)
        assert list(store.iter_posts(for_resolution=True)) == _from_records(store)


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
        (post,) = store.iter_posts(for_resolution=True)
        assert [r.target for r in post.references] == ["cat"]
        assert [post] == _from_records(store)
