"""Where stored posts came from (issue 13, item 2): every post records its origin, a
run maps only the sources its project lists (plus what was added by hand) and says
what it left out, the store lists its sources and prunes them, and a store written
before origins were recorded is migrated, not misread.

Projects and tables are generated from seeds."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mapper.cli import app
from mapper.collectors.tables import import_edge_table, import_post_table
from mapper.origins import SourceScope, source_scope
from mapper.pipeline import build, import_sources, run_project
from mapper.project import load_project
from mapper.records import Post, Provenance, Reference
from mapper.store import SCHEMA_VERSION, Store, post_to_json

SEEDS = [3, 11, 42]
runner = CliRunner()


def make_tables(folder: Path, rnd: random.Random, names: list[str]) -> dict[str, set[str]]:
    """One edge table a name, each with its own people (``<name>-<n>``); returns the
    people of each."""
    folder.mkdir(parents=True, exist_ok=True)
    people: dict[str, set[str]] = {}
    for name in names:
        crowd = [f"{name}-{i}" for i in range(rnd.randint(3, 8))]
        rows = ["source,target,weight"]
        for _ in range(rnd.randint(4, 25)):
            a, b = rnd.sample(crowd, 2)
            rows.append(f"{a},{b},{rnd.randint(1, 5)}")
        (folder / f"{name}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        people[name] = {p for row in rows[1:] for p in row.split(",")[:2]}
    return people


def write_project(folder: Path, paths: list[str], extra: str = "") -> Path:
    sources = "".join(f'[[sources]]\ntype = "edges-csv"\npath = "{p}"\n\n' for p in paths)
    toml = folder / "mapper.toml"
    toml.write_text(
        f'[project]\nname = "t"\noutput = "out"\nstore = "store.sqlite"\n\n{sources}{extra}',
        encoding="utf-8",
    )
    return toml


def graph_of(toml: Path) -> tuple[set[str], SourceScope]:
    project = load_project(toml)
    with Store(project.store) as store:
        import_sources(project, store)
        scope = source_scope(project, store)
        G, _ = build(project, store, scope=scope)
    return set(G.nodes), scope


@pytest.mark.parametrize("seed", SEEDS)
def test_a_run_maps_only_the_sources_its_project_lists(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    names = ["alpha", "beta", "gamma", "delta"][: rnd.randint(2, 4)]
    people = make_tables(tmp_path / "tables", rnd, names)
    toml = write_project(tmp_path, [f"tables/{n}.csv" for n in names])
    nodes, scope = graph_of(toml)
    assert nodes == set().union(*people.values())
    assert scope.left_out == () and scope.warning() is None

    kept = rnd.sample(names, rnd.randint(1, len(names) - 1))
    write_project(tmp_path, [f"tables/{n}.csv" for n in kept])  # narrowed
    nodes, scope = graph_of(toml)
    assert nodes == set().union(*(people[n] for n in kept))
    dropped = sorted(set(names) - set(kept))
    gone = {Path(u.origin.key).stem: u.origin.posts for u in scope.left_out}
    assert sorted(gone) == dropped
    with Store(load_project(toml).store) as store:
        rows = {o.key: o.posts for o in store.origins()}
    for name in dropped:
        assert gone[name] == rows[str(tmp_path / "tables" / f"{name}.csv")] > 0
    assert scope.left_out_posts == sum(gone.values())
    message = scope.warning()
    assert message is not None and "mapper store prune" in message
    for name in dropped:
        assert f"{name}.csv ({gone[name]:,} posts)" in message


def test_a_pattern_narrowed_to_fewer_files(tmp_path: Path) -> None:
    rnd = random.Random(5)
    people = make_tables(tmp_path / "tables", rnd, ["a1", "a2", "b1"])
    toml = write_project(tmp_path, ["tables/*.csv"])
    assert graph_of(toml)[0] == people["a1"] | people["a2"] | people["b1"]
    write_project(tmp_path, ["tables/a*.csv"])
    nodes, scope = graph_of(toml)
    assert nodes == people["a1"] | people["a2"]
    assert [Path(u.origin.key).name for u in scope.left_out] == ["b1.csv"]


@pytest.mark.parametrize("seed", SEEDS)
def test_posts_added_by_hand_are_mapped_and_said_to_be(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    people = make_tables(tmp_path / "tables", rnd, ["listed", "byhand"])
    toml = write_project(tmp_path, ["tables/listed.csv"])
    project = load_project(toml)
    with Store(project.store) as store:
        import_edge_table(store, tmp_path / "tables" / "byhand.csv")  # `mapper import`
        live = Post(
            uid="bluesky:1",
            platform="bluesky",
            author="someone.bsky.social",
            created_at=None,
            references=(Reference("mention", "other.bsky.social"),),
            provenance=Provenance("bluesky", "0", "bluesky posts someone.bsky.social", 1),
        )
        store.add_posts([live])  # `mapper collect bluesky posts ...`
    nodes, scope = graph_of(toml)
    assert people["listed"] | people["byhand"] <= nodes
    assert {"someone.bsky.social", "other.bsky.social"} <= {str(n).split(":")[-1] for n in nodes}
    status = {Path(u.origin.key).name: u.status for u in scope.sources}
    assert status == {
        "listed.csv": "listed",
        "byhand.csv": "added by hand",
        "bluesky posts someone.bsky.social": "added by hand",
    }
    assert scope.left_out == ()


def test_a_post_a_listed_source_also_gives_is_kept(tmp_path: Path) -> None:
    posts = tmp_path / "tables"
    posts.mkdir()
    (posts / "one.csv").write_text("id,author,text\n1,ann,hi @bob\n2,cat,hi @dan\n", "utf-8")
    (posts / "two.csv").write_text("id,author,text\n2,cat,hi @dan\n3,eve,hi @fay\n", "utf-8")
    sources = "".join(
        f'[[sources]]\ntype = "posts-csv"\npath = "tables/{n}.csv"\nplatform = "x"\n\n'
        for n in ("one", "two")
    )
    toml = tmp_path / "mapper.toml"
    head = '[project]\nname = "t"\noutput = "out"\n\n'
    toml.write_text(head + sources, "utf-8")
    graph_of(toml)
    toml.write_text(head + sources.split("\n\n")[0] + "\n", "utf-8")  # only one.csv
    nodes, scope = graph_of(toml)
    assert {"ann", "bob", "cat", "dan"} <= {str(n).split(":")[-1] for n in nodes}
    assert not {"eve", "fay"} & {str(n).split(":")[-1] for n in nodes}
    assert scope.left_out_posts == 1  # x:3 only; x:2 is also in one.csv


@pytest.mark.parametrize("seed", SEEDS)
def test_prune_removes_a_source_and_keeps_what_another_gives(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    folder = tmp_path / "t"
    folder.mkdir()
    ids = list(range(1, rnd.randint(10, 30)))
    shared = set(rnd.sample(ids, len(ids) // 3))
    only_b = [i for i in ids if i not in shared and rnd.random() < 0.5]
    a_rows = [i for i in ids if i not in only_b]
    b_rows = sorted(shared | set(only_b))

    def table(rows: list[int] | set[int]) -> str:
        lines = ["id,author,text"] + [f"{i},u{i},hi @u{i + 1}" for i in sorted(rows)]
        return "\n".join(lines) + "\nbad row without text\n"

    (folder / "a.csv").write_text(table(a_rows), "utf-8")
    (folder / "b.csv").write_text(table(b_rows), "utf-8")
    with Store(tmp_path / "s.db") as store:
        import_post_table(store, folder / "a.csv", platform="x")
        import_post_table(store, folder / "b.csv", platform="x")
        assert store.quarantine_count(folder / "b.csv") == 1
        before = {o.key: (o.posts, o.exclusive) for o in store.origins(exclusive=True)}
        assert before[str(folder / "b.csv")] == (len(b_rows), len(only_b))
        result = store.prune_origins([str(folder / "b.csv")])
        assert (result.removed, result.kept) == (len(only_b), len(shared & set(b_rows)))
        assert sorted(int(p.uid[2:]) for p in store.iter_posts()) == sorted(a_rows)
        assert [o.key for o in store.origins()] == [str(folder / "a.csv")]
        assert store.quarantine_count(folder / "b.csv") == 0
        assert store.import_status(folder / "b.csv") is None
        again = import_post_table(store, folder / "b.csv", platform="x")  # read afresh
        assert not again.skipped_unchanged and again.added == len(only_b)


def test_store_commands_list_and_prune_sources(tmp_path: Path) -> None:
    rnd = random.Random(8)
    make_tables(tmp_path / "tables", rnd, ["keep", "drop"])
    toml = write_project(tmp_path, ["tables/keep.csv", "tables/drop.csv"])
    graph_of(toml)
    write_project(tmp_path, ["tables/keep.csv"])
    result = runner.invoke(app, ["store", "sources", str(toml), "--json"])
    assert result.exit_code == 0, result.output
    rows = {Path(r["key"]).name: r for r in json.loads(result.stdout)}
    assert rows["keep.csv"]["status"] == "listed"
    assert rows["drop.csv"]["status"] == "not listed"
    assert "store prune" in result.stderr
    checked = runner.invoke(app, ["check", str(toml)])  # a warning, not an error
    assert checked.exit_code == 0 and "drop.csv" in checked.stderr and "warning" in checked.stderr
    dry = runner.invoke(app, ["store", "prune", str(toml), "--unlisted", "--dry-run"])
    assert dry.exit_code == 0 and "drop.csv" in dry.stdout
    with Store(load_project(toml).store) as store:
        assert len(store.origins()) == 2  # a dry run removes nothing
    done = runner.invoke(app, ["store", "prune", str(toml), "--unlisted"])
    assert done.exit_code == 0, done.output
    assert "drop.csv" not in runner.invoke(app, ["check", str(toml)]).stderr
    with Store(load_project(toml).store) as store:
        assert [Path(o.key).name for o in store.origins()] == ["keep.csv"]
    nothing = runner.invoke(app, ["store", "prune", str(toml)])
    assert nothing.exit_code == 1 and "--unlisted" in nothing.stderr
    unknown = runner.invoke(app, ["store", "prune", str(toml), "--source", "nope.csv"])
    assert unknown.exit_code == 1 and "nope.csv" in unknown.stderr


def test_the_run_summary_has_the_breakdown_and_the_warning(demo_copy: Path) -> None:
    run_project(load_project(demo_copy), write=False)
    text = demo_copy.read_text("utf-8")
    text = text.replace('type = "bluesky-file"', 'type = "feed"\n#').replace(
        "corpus/bluesky_posts.json", "corpus/compass_feed.xml"
    )
    demo_copy.write_text(text, "utf-8")  # the Bluesky source is no longer listed
    summary = run_project(load_project(demo_copy), write=False).summary()
    sources = summary["sources"]
    by_name = {Path(r["source"]).name: r for r in sources["breakdown"]}
    assert by_name["bluesky_posts.json"]["status"] == "not listed"
    assert by_name["x_pages.jsonl"]["status"] == "listed"
    assert sources["left_out"]["posts"] == by_name["bluesky_posts.json"]["posts"] > 0
    [warning] = sources["warnings"]
    assert warning["code"] == "unlisted-sources" and "bluesky_posts.json" in warning["message"]


# --------------------------------------------------------------------------- migration

_VERSION_1 = """
CREATE TABLE sources (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
CREATE TABLE posts (uid TEXT PRIMARY KEY, platform TEXT NOT NULL, author TEXT NOT NULL,
    author_id TEXT, created_at TEXT, url TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '',
    record TEXT NOT NULL, raw TEXT, raw_source INTEGER REFERENCES sources(id), raw_line INTEGER,
    raw_offset INTEGER);
CREATE VIEW refs AS SELECT p.uid AS post, json_extract(r.value, '$.kind') AS kind,
    json_extract(r.value, '$.target') AS target, json_extract(r.value, '$.target_id') AS target_id,
    json_extract(r.value, '$.weight') AS weight
    FROM posts AS p, json_each(p.record, '$.references') AS r;
CREATE TABLE quarantine (id INTEGER PRIMARY KEY, source TEXT NOT NULL, line INTEGER,
    reason TEXT NOT NULL, raw TEXT, recorded_at TEXT NOT NULL, UNIQUE (source, line, reason));
CREATE TABLE cursors (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE imports (source TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    fingerprint TEXT NOT NULL, options TEXT NOT NULL DEFAULT '', lines INTEGER NOT NULL DEFAULT 0,
    posts INTEGER NOT NULL DEFAULT 0, added INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0, quarantined INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT NOT NULL);
PRAGMA user_version = 1;
"""


def _old_post(n: int, source: str | None) -> Post:
    return Post(
        uid=f"x:{n}",
        platform="x",
        author=f"old{n}",
        created_at=None,
        text=f"hi @old{n + 1}",
        references=(Reference("mention", f"old{n + 1}"),),
        provenance=None if source is None else Provenance("x-archive", "0", source, n),
    )


def test_a_version_1_store_is_migrated_and_read_as_it_was(tmp_path: Path) -> None:
    archive = str(tmp_path / "archive.jsonl")
    posts = [_old_post(1, archive), _old_post(2, archive), _old_post(3, "bluesky posts x")]
    posts.append(_old_post(4, None))
    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.executescript(_VERSION_1)
    con.executemany(
        "INSERT INTO posts (uid, platform, author, record) VALUES (?,?,?,?)",
        [(p.uid, p.platform, p.author, post_to_json(p).decode()) for p in posts],
    )
    con.execute(
        "INSERT INTO imports (source, size, mtime_ns, fingerprint, finished_at)"
        " VALUES (?, 1, 1, 'f', '2020-01-01T00:00:00+00:00')",
        (archive,),
    )
    con.commit()
    con.close()
    with Store(db) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert list(store.iter_posts()) == posts  # nothing misread
        origins = {o.key: (o.kind, o.added_by, o.posts) for o in store.origins()}
        assert origins == {
            "": ("unknown", "legacy", 1),
            archive: ("file", "legacy", 2),
            "bluesky posts x": ("live", "legacy", 1),
        }
        # a project that lists none of them: the legacy file is left out (its file is
        # known); the live posts and the posts without a source cannot be told apart
        (tmp_path / "e.csv").write_text("source,target\na,b\n", "utf-8")
        toml = write_project(tmp_path, ["e.csv"])
        scope = source_scope(load_project(toml), store)
        assert [u.origin.key for u in scope.left_out] == [archive]
        kept = [p.uid for p in store.iter_posts(exclude_origins=scope.excluded_ids)]
        assert kept == ["x:3", "x:4"]
    with Store(db) as again:  # opening it again migrates nothing twice
        assert len(list(again.iter_posts())) == 4 and len(again.origins()) == 3
