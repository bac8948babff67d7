"""Tests for tabular inputs: the free-text entity extractor, edge and node tables (Gephi,
NodeXL, messy hand-made CSVs), post tables (CSV and JSONL) and graph files (GEXF,
GraphML, GML with duplicate edges). Fixtures are in tests/fixtures/tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import networkx as nx
import pytest

from mapper.collectors.tables import (
    extract_entities,
    import_edge_table,
    import_post_table,
    iter_edge_table,
    iter_post_table,
    parse_time,
    read_graph_file,
    read_node_table,
    snippet_around,
)
from mapper.errors import ImportFormatError
from mapper.records import Post, Reference
from mapper.store import Store

FIX = Path(__file__).parent / "fixtures" / "tables"


def collect(reader: Callable[..., object], path: Path, **kw: object) -> tuple[list, list]:
    bad: list[tuple[int, str, str]] = []
    items = list(reader(path, on_bad=lambda *a: bad.append(a), **kw))  # type: ignore[call-overload]
    return items, bad


def refs(post: Post) -> list[tuple[str, str]]:
    return [(r.kind, r.target) for r in post.references]


# --------------------------------------------------------------------------- entities


def test_extract_entities_basics() -> None:
    text = (
        "Thanks @OwenJones84 and @owenjones84 (see https://example.org/a_(b)). "
        "Mail me@example.com, not @. #NHS #nhs #1 #Zoë https://x.org/@user#frag www.bbc.co.uk."
    )
    e = extract_entities(text, platform="x")
    assert e.mentions == ("OwenJones84",)
    assert e.hashtags == ("nhs", "zoë")
    assert e.urls == (
        "https://example.org/a_(b)",
        "https://x.org/@user#frag",
        "http://www.bbc.co.uk",
    )
    first = e.first("mention", "owenjones84")
    assert first is not None and text[first.start : first.end] == "@OwenJones84"
    assert [s.kind for s in e.spans].count("mention") == 2


def test_extract_entities_platform_handles() -> None:
    text = "cc @alice.bsky.social @bob@mastodon.social @a_very_long_handle_over_15."
    generic = extract_entities(text)
    assert generic.mentions == (
        "alice.bsky.social",
        "bob@mastodon.social",
        "a_very_long_handle_over_15",
    )
    on_x = extract_entities(text, platform="x")
    # X handles have no dots and at most 15 characters
    assert on_x.mentions == ("alice",)
    assert extract_entities("") == extract_entities("no entities here")
    assert extract_entities("&#39;tis #fine").hashtags == ("fine",)


def test_snippet_around() -> None:
    assert snippet_around("short\n text") == "short text"
    long = "x" * 100 + " @target " + "y" * 100
    snip = snippet_around(long, 101, 108)
    assert "@target" in snip and snip.startswith("…") and snip.endswith("…")
    assert len(snip) <= 142
    assert snippet_around(long).startswith("xxx") and snippet_around(long).endswith("…")
    assert snippet_around("") == ""


def test_parse_time() -> None:
    utc = datetime(2021, 4, 8, 19, 34, 16, tzinfo=UTC)
    assert parse_time("2021-04-08 19:34:16") == utc
    assert parse_time("2021-04-08T21:34:16+02:00") == utc
    assert parse_time("2021-04-08T19:34:16.000Z") == utc
    assert parse_time("1617910456") == utc
    assert parse_time(1617910456000) == utc  # milliseconds
    assert parse_time("Thu Apr 08 19:34:16 +0000 2021") == utc
    assert parse_time("Thu, 08 Apr 2021 19:34:16 GMT") == utc
    assert parse_time("") is None and parse_time(None) is None
    with pytest.raises(ValueError):
        parse_time("yesterday-ish")


# --------------------------------------------------------------------------- edge tables


def test_gephi_edge_table() -> None:
    posts, bad = collect(iter_edge_table, FIX / "gephi_edges.csv")
    assert bad == []
    assert [(p.author, p.references[0]) for p in posts] == [
        ("owen-jones", Reference("mention", "ash-sarkar", weight=3.0)),
        ("ash-sarkar", Reference("mention", "owen-jones", weight=1.5)),
        ("owen-jones", Reference("mention", "novara-media")),
    ]
    # keyed by content and file: distinct, and the same on every read
    assert all(p.uid.startswith("table:") for p in posts)
    assert len({p.uid for p in posts}) == 3
    assert [p.uid for p in collect(iter_edge_table, FIX / "gephi_edges.csv")[0]] == [
        p.uid for p in posts
    ]
    post = posts[0]
    assert post.platform == "table" and post.created_at is None
    assert post.provenance is not None
    assert (post.provenance.collector, post.provenance.line) == ("table", 2)
    assert post.provenance.source == str((FIX / "gephi_edges.csv").resolve())


def test_nodexl_edge_table() -> None:
    posts, bad = collect(iter_edge_table, FIX / "nodexl_edges.csv")
    assert [(p.author, *refs(p)[0], p.url[-1]) for p in posts] == [
        ("alice", "mention", "bob", "1"),
        ("carol", "reply", "alice", "2"),
        ("dave", "repost", "alice", "3"),
        ("frank", "mention", "alice", "5"),
    ]
    assert [p.created_at for p in posts[:3]] == [
        datetime(2021, 4, 8, 19, 34, 16, tzinfo=UTC),
        datetime(2021, 4, 8, 20, 0, tzinfo=UTC),
        datetime(2021, 4, 8, 19, 26, 40, tzinfo=UTC),
    ]
    # a NodeXL "Tweet" row is a self-loop, not a reference: set aside with its line
    assert [(line, reason.split(" (")[0]) for line, reason, _ in bad] == [
        (5, "unknown edge type 'Tweet'")
    ]


def test_messy_edge_table_quarantines_bad_rows_with_lines() -> None:
    posts, bad = collect(iter_edge_table, FIX / "edges_messy.csv")
    assert [(p.provenance.line, p.author, *refs(p)[0]) for p in posts] == [  # type: ignore[union-attr]
        (2, "a", "mention", "b"),
        (9, "f", "repost", "g"),  # a quoted field over lines 9-10; the blank line 8 skipped
        (11, "g", "link", "h"),
        (12, "h", "mention", "i"),
        (14, "k", "mention", "l"),
    ]
    assert posts[0].created_at == datetime(2024, 1, 1, 8, 0, tzinfo=UTC)  # "when" column
    assert posts[0].url == "https://example.org/1"
    assert posts[1].url == "https://example.org/multi\nline"
    assert posts[0].references[0].weight == 2.0 and posts[1].references[0].weight is None
    assert [(line, reason.split(" (")[0]) for line, reason, _ in bad] == [
        (3, "empty target"),
        (4, "weight 'heavy' is not a number"),
        (5, "weight '-1' is not a finite number >= 0"),
        (6, "unknown edge type 'follows'"),
        (7, "not a time: 'yesterday-ish'"),
        (13, "invalid UTF-8 or NUL byte in row"),
    ]
    assert bad[0][2] == "a,,1,mention,,"
    assert bad[5][2].startswith("j,k,1,mention,caf")


def test_edge_table_missing_column_and_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "edges.csv"
    path.write_text("Source,Weight\na,1\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as info:
        list(iter_edge_table(path))
    err = info.value
    assert err.field == "target" and err.source == str(path)
    assert str(path) in str(err) and "no 'target' column" in str(err)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ImportFormatError, match=r"empty\.csv: empty file"):
        list(iter_edge_table(empty))


def test_edge_table_with_node_table() -> None:
    nodes_bad: list[tuple[int, str, str]] = []
    nodes = read_node_table(FIX / "nodes.csv", on_bad=lambda *a: nodes_bad.append(a))
    assert nodes == {
        "owen-jones": {"label": "Owen Jones", "party": "Labour", "kind": "commentator"},
        "ash-sarkar": {"label": "Ash Sarkar", "kind": "commentator"},
    }
    assert [(line, reason) for line, reason, _ in nodes_bad] == [
        (4, "node 'owen-jones' repeated (first row kept)"),
        (5, "empty node id"),
    ]
    posts, bad = collect(iter_edge_table, FIX / "gephi_edges.csv", nodes_path=FIX / "nodes.csv")
    assert [(p.author, p.author_name) for p in posts] == [
        ("owen-jones", "Owen Jones"),
        ("ash-sarkar", "Ash Sarkar"),
    ]
    assert [(line, reason) for line, reason, _ in bad] == [
        (4, "node 'novara-media' is not in the node table")
    ]


def test_import_edge_table_into_store(tmp_path: Path) -> None:
    path = FIX / "edges_messy.csv"
    with Store(tmp_path / "s.db") as store:
        first = import_edge_table(store, path)
        assert (first.lines, first.posts, first.added, first.quarantined) == (14, 5, 5, 6)
        assert [r["line"] for r in store.quarantined(path.resolve())] == [3, 4, 5, 6, 7, 13]
        assert import_edge_table(store, path).skipped_unchanged
        assert sorted(p.provenance.line for p in store.iter_posts(platforms=["table"])) == [  # type: ignore[union-attr]
            2,
            9,
            11,
            12,
            14,
        ]
        again = import_edge_table(store, path, force=True)
        assert (again.added, again.duplicates) == (0, 5)
        assert store.quarantine_count() == 6


# --------------------------------------------------------------------------- post tables


def test_post_table_csv_4cat_style() -> None:
    posts, bad = collect(iter_post_table, FIX / "posts_4cat.csv", platform="twitter")
    assert [p.uid for p in posts] == ["x:1380242611781386245", "x:1380242611781386246"]
    first = posts[0]
    assert (first.platform, first.author, first.author_name, first.author_id, first.language) == (
        "x",
        "SimonJ",
        "Simon J",
        "42",
        "en",
    )
    assert first.created_at == datetime(2021, 4, 8, 19, 34, 16, tzinfo=UTC)
    assert refs(first) == [
        ("mention", "OwenJones84"),
        ("mention", "AshSarkar"),
        ("link", "https://example.org/story?a=1"),
        ("link", "http://www.novaramedia.com"),
    ]
    assert first.tags == ("nhs", "budget")
    assert all(
        "@" in r.snippet or "http" in r.snippet or "www" in r.snippet for r in first.references
    )
    # the e-mail address and "#1" are not entities; the list columns are used
    second = posts[1]
    assert refs(second) == [
        ("mention", "listedone"),
        ("mention", "listedtwo"),
        ("link", "https://listed.example/x"),
    ]
    assert second.tags == ("extra",)
    assert [(line, reason) for line, reason, _ in bad] == [
        (4, "not a time: 'not a date'"),
        (5, "empty author"),
    ]


def test_post_table_without_platform_is_keyed_by_content() -> None:
    posts, _ = collect(iter_post_table, FIX / "posts_4cat.csv")
    assert [p.provenance.line for p in posts] == [2, 3]  # type: ignore[union-attr]
    assert all(p.uid.startswith("table:") for p in posts) and len({p.uid for p in posts}) == 2
    assert {p.platform for p in posts} == {"table"}


def test_post_table_jsonl() -> None:
    posts, bad = collect(iter_post_table, FIX / "posts.jsonl")
    assert [(p.uid, p.platform, p.author) for p in posts] == [
        ("bluesky:at://did:plc:abc/app.bsky.feed.post/1", "bluesky", "alice.bsky.social"),
        ("mastodon:https://mastodon.social/@dave/2", "mastodon", "dave@mastodon.social"),
    ]
    assert refs(posts[0]) == [
        ("mention", "bob.bsky.social"),
        ("mention", "carol@mastodon.social"),
    ]
    assert posts[0].tags == ("politics",)
    assert refs(posts[1]) == [("mention", "erin@example.social")]
    assert posts[1].created_at == datetime(2024, 2, 1, 10, 0, tzinfo=UTC)
    assert [(line, reason.split(":")[0]) for line, reason, _ in bad] == [
        (3, "invalid JSON"),
        (4, "empty text"),
        (5, "not a JSON object"),
    ]


def test_post_table_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,author,created_at\n1,a,2024-01-01\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as info:
        list(iter_post_table(path))
    assert info.value.field == "text" and str(path) in str(info.value)
    junk = tmp_path / "p.jsonl"
    junk.write_text("nope\n[1]\n", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="no JSON object"):
        list(iter_post_table(junk))


def test_import_post_table(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        result = import_post_table(store, FIX / "posts_4cat.csv", platform="x")
        assert (result.posts, result.added, result.quarantined) == (2, 2, 2)
        assert store.get_post("x:1380242611781386245") is not None
        assert import_post_table(store, FIX / "posts_4cat.csv", platform="x").skipped_unchanged
        # another platform option is another import
        assert not import_post_table(store, FIX / "posts_4cat.csv").skipped_unchanged


# --------------------------------------------------------------------------- graph files


def test_gml_with_duplicate_edges(tmp_path: Path) -> None:
    path = FIX / "duplicate_edges.gml"
    # networkx refuses this file twice over: a non-ASCII label, and a repeated edge
    with pytest.raises(nx.NetworkXError, match="not ASCII"):
        nx.read_gml(path)
    ascii_copy = tmp_path / "ascii.gml"
    ascii_copy.write_text(path.read_text(encoding="utf-8").replace("Zoë", "Zoe"))
    with pytest.raises(nx.NetworkXError, match="duplicated"):
        nx.read_gml(ascii_copy)
    assert read_graph_file(ascii_copy)["a"]["b"]["weight"] == 5.5
    G = read_graph_file(path)
    assert isinstance(G, nx.DiGraph) and not G.is_multigraph()
    assert G.graph["directed_source"] is True
    assert sorted(G.nodes) == ["Zoë", "a", "b"]
    assert G.nodes["a"] == {"label": "a", "party": "Labour"}
    assert G["a"]["b"] == {"weight": 5.5, "count": 2}
    assert G["b"]["a"] == {"weight": 1.0, "count": 1}  # weight defaults to 1.0
    assert G["Zoë"]["a"]["kind"] == "mention"


def test_undirected_gml_is_one_arc_per_tie() -> None:
    G = read_graph_file(FIX / "undirected.gml")
    assert G.graph["directed_source"] is False
    # duplicate labels: the ids are the keys, the labels stay as attributes
    assert dict(G.nodes(data="label")) == {"10": "x", "11": "x", "12": "12"}
    # 10 -- 11 and 11 -- 10 are one undirected tie: one arc, weights summed
    assert G["10"]["11"] == {"weight": 5.0, "count": 2, "undirected": True}
    assert not G.has_edge("11", "10")
    assert G["12"]["12"]["weight"] == 2.0
    assert G.number_of_edges() == 2


def test_gexf_and_graphml() -> None:
    G = read_graph_file(FIX / "small.gexf")
    assert dict(G.nodes(data="label")) == {
        "owen-jones": "Owen Jones",
        "ash-sarkar": "Ash Sarkar",
        "n3": "n3",
    }
    assert G.nodes["owen-jones"]["party"] == "Labour"
    assert G["owen-jones"]["ash-sarkar"] == {"weight": 2.5, "count": 2}
    assert G["ash-sarkar"]["n3"]["weight"] == 1.0
    H = read_graph_file(FIX / "parallel.graphml")
    assert H.graph["directed_source"] is False
    assert H.nodes["p"]["label"] == "Person P" and H.nodes["q"]["label"] == "q"
    assert H["p"]["q"]["weight"] == 4.0 and not H.has_edge("q", "p")


def test_round_trip_through_networkx_writers(tmp_path: Path) -> None:
    D = nx.DiGraph()
    D.add_edge("a", "b", weight=2.0)
    D.add_edge("b", "c", weight=0.5)
    for suffix, writer in ((".gexf", nx.write_gexf), (".graphml", nx.write_graphml)):
        path = tmp_path / f"g{suffix}"
        writer(D, path)
        G = read_graph_file(path)
        assert {(u, v): d["weight"] for u, v, d in G.edges(data=True)} == {
            ("a", "b"): 2.0,
            ("b", "c"): 0.5,
        }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not_really.gexf", "not a readable GEXF file"),
        ("not_really.gml", "not a GML file"),
        ("broken.graphml", "not a readable GRAPHML file"),
        ("bad_weight.gml", "edge weight 'heavy' is not a number"),
    ],
)
def test_graph_file_not_what_its_extension_says(name: str, message: str) -> None:
    path = FIX / name
    with pytest.raises(ImportFormatError) as info:
        read_graph_file(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_graph_file_unknown_extension_and_missing(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="unknown graph file type"):
        read_graph_file(tmp_path / "g.dot")
    with pytest.raises(ImportFormatError, match="file not found"):
        read_graph_file(tmp_path / "g.gml")


def test_regression_a_carriage_return_inside_the_header_is_one_line(tmp_path: Path) -> None:
    """Found by tests/test_reliability_inputs.py: csv.Error escaped from the header."""
    path = tmp_path / "edges.csv"
    path.write_bytes(b"sour\rce,target\nalice,bob\n")
    with Store(tmp_path / "s.db") as store, pytest.raises(ImportFormatError) as info:
        import_edge_table(store, path)
    assert str(path) in info.value.one_line() and "header" in info.value.one_line()
