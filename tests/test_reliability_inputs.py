"""Every importer against random and mutated inputs (issue "Reliability and security").

The importers (X archives, saved HTML pages and feeds, Bluesky and Mastodon files, edge
and post tables, graph files, the roster) are fed valid fixtures after mutations
(truncation, flipped bytes, NUL bytes, invalid UTF-8, lines dropped or repeated),
documents of the wrong JSON shape, files of another importer's format, and files that
are unusable as a whole. Whatever the input:

* nothing but a :class:`~mapper.errors.MapperError` escapes;
* a file unusable as a whole gives one line naming the file (and its line where it
  applies), and leaves nothing behind in the store;
* otherwise every bad record is quarantined with a reason and counted, the counts
  agree with the store, and every record that is still readable is kept: a valid file
  with one line corrupted keeps every other post, and the bad line is in the
  quarantine with its line number.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapper.collectors.bluesky import import_bluesky_file
from mapper.collectors.feed import import_feed_file
from mapper.collectors.mastodon import import_mastodon_file
from mapper.collectors.tables import import_edge_table, import_post_table, read_graph_file
from mapper.collectors.web import import_html_file
from mapper.collectors.x_archive import import_archive
from mapper.errors import ImportFormatError, MapperError
from mapper.records import Post
from mapper.resolve import load_roster
from mapper.store import Store, post_to_json

FIX = Path(__file__).resolve().parent / "fixtures"
#: ``MAPPER_FUZZ_EXAMPLES=2000`` explores further, with fresh random inputs each run; by
#: default the run is short and the same every time.
_EXAMPLES = int(os.environ.get("MAPPER_FUZZ_EXAMPLES", "0"))
SETTINGS = settings(
    max_examples=_EXAMPLES or 60,
    deadline=None,
    derandomize=not _EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _x_pages() -> bytes:
    """Three X API v2 response pages and ten flattened posts, one a line (twarc2 JSONL)."""
    pages = [(FIX / "http" / f"x_search_page{n}.json").read_bytes() for n in (1, 2, 3)]
    lines = [json.dumps(json.loads(p)).encode() for p in pages]
    with open(FIX / "x-api-v2" / "flat.jsonl", "rb") as fh:
        lines += [next(fh).rstrip(b"\n") for _ in range(10)]
    return b"\n".join(lines) + b"\n"


@dataclass(frozen=True)
class Importer:
    """One importer: how to run it and the valid files (name, bytes) it starts from."""

    name: str
    run: Callable[[Store, Path], Any]
    seeds: tuple[tuple[str, bytes], ...]
    stores: bool = True  # imports into the store (a graph or roster is returned instead)


def _files(*paths: Path) -> tuple[tuple[str, bytes], ...]:
    return tuple((p.name, p.read_bytes()) for p in paths)


_TABLES, _HTTP = FIX / "tables", FIX / "http"
IMPORTERS = {
    importer.name: importer
    for importer in (
        Importer(
            "x-archive",
            import_archive,
            (
                ("pages.jsonl", _x_pages()),
                *_files(FIX / "x-api-v2" / "streaming_output_with_error.jsonl"),
            ),
        ),
        Importer(
            "html",
            import_html_file,
            _files(_HTTP / "blog_article.html", _HTTP / "blog_relative.html"),
        ),
        Importer("feed", import_feed_file, _files(_HTTP / "feed_atom.xml", _HTTP / "feed_rss.xml")),
        # the file registry's (store, path) order, which these two accept as well
        Importer(
            "bluesky-file",
            import_bluesky_file,
            _files(FIX / "bluesky" / "posts.jsonl", FIX / "bluesky" / "author_feed_page2.json"),
        ),
        Importer(
            "mastodon-file",
            import_mastodon_file,
            _files(FIX / "mastodon" / "statuses.jsonl", FIX / "mastodon" / "statuses_page1.json"),
        ),
        Importer(
            "edge-table",
            import_edge_table,
            _files(_TABLES / "gephi_edges.csv", _TABLES / "nodexl_edges.csv"),
        ),
        Importer(
            "post-table",
            import_post_table,
            _files(_TABLES / "posts_4cat.csv", _TABLES / "posts.jsonl"),
        ),
        Importer(
            "graph",
            lambda _store, path: read_graph_file(path),
            _files(
                _TABLES / "small.gexf", _TABLES / "parallel.graphml", _TABLES / "undirected.gml"
            ),
            stores=False,
        ),
        Importer(
            "roster",
            lambda _store, path: load_roster(path),
            _files(FIX / "roster" / "roster.csv", FIX / "roster" / "roster.yaml"),
            stores=False,
        ),
    )
}
JSON_IMPORTERS = ("x-archive", "bluesky-file", "mastodon-file", "post-table")
ALL_SEEDS = [seed for importer in IMPORTERS.values() for seed in importer.seeds]


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


_counter = [0]


def write(workdir: Path, name: str, data: bytes) -> Path:
    """``data`` in a fresh folder under ``workdir``, as the file ``name``."""
    _counter[0] += 1
    folder = workdir / str(_counter[0])
    folder.mkdir()
    path = folder / name
    path.write_bytes(data)
    return path


def check(importer: Importer, path: Path) -> tuple[Any, Store] | None:
    """Run ``importer`` on ``path`` and check the outcome; ``None`` when it refused the
    file (with a one-line error naming it), else ``(result, store)``."""
    store = Store(":memory:")
    try:
        result = importer.run(store, path)
    except MapperError as exc:
        line = exc.one_line()
        assert "\n" not in line and "\r" not in line, line
        assert path.name in line, f"the error does not name the file: {line}"
        if importer.stores:
            assert store.count_posts() == 0 or not isinstance(exc, ImportFormatError)
            assert store.quarantine_count(os.path.abspath(path)) == 0  # nothing left behind
        store.close()
        return None
    # anything else than a MapperError fails the test right here
    if importer.stores:
        assert result.posts == result.added + result.duplicates
        assert store.count_posts() == result.added
        rows = store.quarantined(os.path.abspath(path))
        assert len(rows) == result.quarantined, (rows, result)
        assert all(row["reason"].strip() for row in rows)
        assert not result.skipped_unchanged
    return result, store


# --------------------------------------------------------------------------- mutations

_BAD_UTF8 = (b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xf0\x28\x8c\x28", b"\x80")


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` after one to three random mutations."""
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                ["truncate", "flip", "nul", "utf8", "drop-line", "repeat-line", "splice"]
            )
        )
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "truncate":
            data = data[:pos]
        elif op == "flip" and data:
            data = data[:pos] + bytes([data[pos] ^ draw(st.integers(1, 255))]) + data[pos + 1 :]
        elif op == "nul":
            data = data[:pos] + b"\x00" + data[pos:]
        elif op == "utf8":
            data = data[:pos] + draw(st.sampled_from(_BAD_UTF8)) + data[pos:]
        elif op in ("drop-line", "repeat-line"):
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines[i : i + 1] = [] if op == "drop-line" else [lines[i], lines[i]]
            data = b"\n".join(lines)
        elif op == "splice":
            other = draw(st.sampled_from(ALL_SEEDS))[1]
            start = draw(st.integers(0, max(0, len(other) - 1)))
            data = data[:pos] + other[start : start + draw(st.integers(1, 200))] + data[pos:]
    return data


_KEYS = [
    "data",
    "includes",
    "users",
    "tweets",
    "id",
    "text",
    "author_id",
    "author",
    "username",
    "entities",
    "mentions",
    "urls",
    "referenced_tweets",
    "type",
    "in_reply_to_user_id",
    "note_tweet",
    "created_at",
    "meta",
    "errors",
    "feed",
    "posts",
    "post",
    "uri",
    "record",
    "reason",
    "by",
    "did",
    "handle",
    "facets",
    "index",
    "byteStart",
    "features",
    "embed",
    "external",
    "reply",
    "parent",
    "statuses",
    "account",
    "acct",
    "content",
    "tags",
    "reblog",
    "quote",
    "card",
    "url",
    "in_reply_to_account_id",
    "source",
    "target",
    "weight",
]  # keys of the X, Bluesky, Mastodon and table formats, at any depth
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["at://did:plc:a/app.bsky.feed.post/1", "did:plc:a", "https://x.org/"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=20,
)


def _replace_somewhere(value: Any, new: Any, choice: int) -> Any:
    """``value`` with one of its sub-values (picked by ``choice``) replaced by ``new``."""
    nodes: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            nodes.extend((node, k) for k in node)
            stack.extend(node.values())
        elif isinstance(node, list):
            nodes.extend((node, i) for i in range(len(node)))
            stack.extend(node)
    if not nodes:
        return new
    parent, key = nodes[choice % len(nodes)]
    parent[key] = new
    return value


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("name", list(IMPORTERS))
@SETTINGS
@given(data=st.data())
def test_mutated_files_never_crash_an_importer(name: str, workdir: Path, data: Any) -> None:
    importer = IMPORTERS[name]
    file_name, seed = data.draw(st.sampled_from(importer.seeds))
    check(importer, write(workdir, file_name, data.draw(mutated(seed))))


@pytest.mark.parametrize("name", list(IMPORTERS))
@SETTINGS
@given(data=st.data())
def test_files_of_another_format_are_refused_or_quarantined(
    name: str, workdir: Path, data: Any
) -> None:
    """A file that is not what its extension says: another importer's fixture."""
    importer = IMPORTERS[name]
    own_name = data.draw(st.sampled_from(importer.seeds))[0]
    other = data.draw(st.sampled_from([s for s in ALL_SEEDS if s[0] != own_name]))[1]
    check(importer, write(workdir, own_name, other))


@pytest.mark.parametrize("name", JSON_IMPORTERS)
@SETTINGS
@given(data=st.data())
def test_json_of_the_wrong_shape_never_crashes(name: str, workdir: Path, data: Any) -> None:
    importer = IMPORTERS[name]
    if data.draw(st.booleans(), label="jsonl"):
        values = data.draw(st.lists(json_values, min_size=1, max_size=5))
        body = b"\n".join(json.dumps(v).encode() for v in values) + b"\n"
        check(importer, write(workdir, "shapes.jsonl", body))
    else:
        body = json.dumps(data.draw(json_values), indent=1).encode()
        check(importer, write(workdir, "shape.json", body))


@pytest.mark.parametrize("name", JSON_IMPORTERS)
@SETTINGS
@given(data=st.data())
def test_a_record_with_one_field_of_the_wrong_type_is_quarantined_or_read(
    name: str, workdir: Path, data: Any
) -> None:
    """A valid line with one of its values (anywhere, at any depth) replaced."""
    importer = IMPORTERS[name]
    file_name, seed = next(s for s in importer.seeds if s[0].endswith(".jsonl"))
    lines = seed.rstrip(b"\n").split(b"\n")
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    try:
        record = json.loads(lines[i])
    except ValueError:
        record = {}
    new = data.draw(json_values, label="new value")
    record = _replace_somewhere(record, new, data.draw(st.integers(0, 10_000), label="where"))
    lines[i] = json.dumps(record).encode()
    check(importer, write(workdir, file_name, b"\n".join(lines) + b"\n"))


# --------------------------------------------------------------------------- one bad line


def _identity(post: Post) -> str:
    """The post's uid, or for a table row (keyed by its file's path and its content)
    its content, so posts of two copies of a file in two folders compare equal."""
    if not post.uid.startswith("table:"):
        return post.uid
    return post_to_json(replace(post, uid="", provenance=None)).decode()


def _posts_by_line(importer: Importer, path: Path) -> dict[int, set[str]]:
    outcome = check(importer, path)
    assert outcome is not None
    _result, store = outcome
    by_line: dict[int, set[str]] = defaultdict(set)
    for post in store.iter_posts():
        assert post.provenance is not None and post.provenance.line is not None
        by_line[post.provenance.line].add(_identity(post))
    store.close()
    return by_line


_CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda line: line[: len(line) // 2],
    "NUL byte": lambda line: line[:5] + b"\x00" + line[5:],
    "invalid UTF-8": lambda line: line[:5] + b"\xff\xfe" + line[5:],
    "garbage": lambda line: b"\x1f\x8b garbage %% <html>",
}
_LINE_FILES = {
    "x-archive": "pages.jsonl",
    "bluesky-file": "posts.jsonl",
    "mastodon-file": "statuses.jsonl",
    "post-table": "posts.jsonl",
    "edge-table": "nodexl_edges.csv",
}


@pytest.mark.parametrize("corruption", list(_CORRUPTIONS))
@pytest.mark.parametrize("name", list(_LINE_FILES))
@settings(max_examples=_EXAMPLES or 6, deadline=None, derandomize=not _EXAMPLES)
@given(data=st.data())
def test_one_corrupted_line_is_quarantined_and_every_other_post_kept(
    name: str, corruption: str, workdir: Path, data: Any
) -> None:
    importer = IMPORTERS[name]
    seed = dict(importer.seeds)[_LINE_FILES[name]]
    clean = _posts_by_line(importer, write(workdir, _LINE_FILES[name], seed))
    if name == "edge-table" and corruption == "truncated":
        return  # half a CSV row can still be a row: the other mutations cover tables
    line = data.draw(st.sampled_from(sorted(clean)), label="line")
    lines = seed.split(b"\n")
    lines[line - 1] = _CORRUPTIONS[corruption](lines[line - 1])
    path = write(workdir, _LINE_FILES[name], b"\n".join(lines))

    outcome = check(importer, path)
    assert outcome is not None, "one bad line must not reject the whole file"
    result, store = outcome
    kept = {_identity(p) for p in store.iter_posts()}
    expected = set().union(*(uids for n, uids in clean.items() if n != line))
    assert expected <= kept, f"posts of other lines were lost: {sorted(expected - kept)[:5]}"
    assert not clean[line] & kept - expected, "the corrupted line's posts were still read"
    bad = [row for row in store.quarantined() if row["line"] == line]
    assert bad and bad[0]["reason"], f"line {line} is not in the quarantine"
    assert result.quarantined >= 1
    store.close()


def test_a_torn_last_line_is_quarantined_and_the_rest_kept(workdir: Path) -> None:
    """A capture killed mid-write: the last line stops in the middle, without newline."""
    seed = _x_pages()
    path = write(workdir, "torn.jsonl", seed[: len(seed) - 300])
    outcome = check(IMPORTERS["x-archive"], path)
    assert outcome is not None
    result, store = outcome
    n_lines = seed.count(b"\n")
    [row] = store.quarantined()
    assert row["line"] == n_lines and "truncated" in row["reason"]
    assert result.lines == n_lines and store.count_posts() > 0
    store.close()


# --------------------------------------------------------------------------- unusable files

_UNUSABLE: list[tuple[str, str, bytes]] = [
    (name, file_name, content)
    for name, importer in IMPORTERS.items()
    for file_name in {s[0] for s in importer.seeds}
    for content in (b"", b"\n  \n\t\n", b"\x00\x01\x02\xff\xfe binary \x00")
] + [
    ("html", "page.html", b"<html><head><title>no body</title></head></html>"),
    ("html", "page.html", b"<html><body></body></html>"),
    ("feed", "feed.xml", b"<?xml version='1.0'?><rss><channel><item><title>x</title>"),
    ("feed", "feed.xml", b"<?xml version='1.0' encoding='\x00'?><rss/>"),
    ("edge-table", "edges.csv", b"from_who,to_whom\nalice,bob\n"),
    ("edge-table", "edges.csv", b"source\nalice\n"),
    ("post-table", "posts.csv", b"author,when\nalice,2024-01-01\n"),
    ("graph", "g.gexf", b"source,target\na,b\n"),
    ("graph", "g.graphml", b"graph [ node [ id 1 ] ]"),
    ("graph", "g.gml", b"<?xml version='1.0'?><gexf/>"),
    ("x-archive", "x.jsonl", b"source,target\nalice,bob\n"),
    ("x-archive", "x.json", b'{"hello": "world"}'),
    ("bluesky-file", "b.json", b'{"data": []}'),
    ("bluesky-file", "b.jsonl", b"not json\nstill not\n"),
    ("mastodon-file", "m.json", b'{"data": 1}'),
    ("mastodon-file", "m.jsonl", b"\xff\xfe\n\x00\n"),
    ("roster", "roster.csv", b"foo,bar\n1,2\n"),
    ("roster", "roster.yaml", b"actors: [\n"),
]


@pytest.mark.parametrize(("name", "file_name", "content"), _UNUSABLE)
def test_a_file_unusable_as_a_whole_is_one_line_naming_it(
    name: str, file_name: str, content: bytes, workdir: Path
) -> None:
    """Refused with one line naming the file; the page and feed importers may instead
    record the file itself in the quarantine (as collecting the same page would)."""
    importer = IMPORTERS[name]
    path = write(workdir, file_name, content)
    outcome = check(importer, path)
    if outcome is None:
        return
    assert name in ("html", "feed"), f"{name} accepted an unusable file"
    result, store = outcome
    assert result.posts == 0 and result.quarantined >= 1
    assert all(row["source"] == os.path.abspath(path) for row in store.quarantined())
    store.close()


@pytest.mark.parametrize("name", [n for n, imp in IMPORTERS.items() if imp.stores])
def test_a_missing_file_and_a_folder_are_one_line(name: str, workdir: Path) -> None:
    importer = IMPORTERS[name]
    file_name = importer.seeds[0][0]
    folder = write(workdir, "placeholder", b"").parent
    assert check(importer, folder / file_name) is None
    (folder / "sub" / file_name).mkdir(parents=True)
    assert check(importer, folder / "sub" / file_name) is None


def test_errors_of_a_roster_name_the_line_and_field(workdir: Path) -> None:
    path = write(workdir, "roster.csv", b"id,name,kind\nowen,Owen,mp\nowen,Again,mp\n")
    with pytest.raises(MapperError) as info:
        load_roster(path)
    line = info.value.one_line()
    assert str(path) in line and ":3:" in line and "id" in line
