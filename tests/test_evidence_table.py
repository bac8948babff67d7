"""Evidence kept in a columnar table beside the graph (mapper.graph.evidence) gives
the same items, the same files and the same maps as evidence kept in every edge."""

from __future__ import annotations

import pickle
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapper.export import export_all, sanitize_graph
from mapper.graph import apply_influence, build_graph, filter_graph, influence
from mapper.graph.evidence import IN_TABLE, EvidenceTable, edge_evidence, evidence_table
from mapper.records import Actor, EdgeEvent

T0 = datetime(2016, 6, 1, tzinfo=UTC)
HOSTILE = [
    "plain",
    "",
    "ünïcödé — “quoted”",
    '=HYPERLINK("http://evil")',
    "<script>alert(1)</script>",
    "line\nbreak\ttab",
    "ctrl\x00\x07\x1b",
    "\ufffe\uffff nonchars",
    "emoji 🗳️",
    "-1+2",
]


def _events(seed: int, n: int = 400, actors: int = 12) -> list[EdgeEvent]:
    rnd = random.Random(seed)
    ids = [f"a{i}" for i in range(actors)] + ["x:provisional", "é-actor"]
    kinds = ["mention", "reply", "repost", "quote", "link", "name", "custom"]
    out = []
    for _ in range(n):
        u, v = rnd.choice(ids), rnd.choice(ids)
        when = None if rnd.random() < 0.2 else T0 + timedelta(minutes=rnd.randrange(10**5))
        if when is not None and rnd.random() < 0.1:  # another offset, same instant
            when = when.astimezone(timezone(timedelta(hours=2)))
        out.append(
            EdgeEvent(
                u,
                v,
                rnd.choice(kinds),
                f"x:{rnd.randrange(n // 2 + 1)}",
                when,
                rnd.choice(HOSTILE),
                rnd.choice(["", "https://example.org/" + rnd.choice(HOSTILE)]),
                weight=rnd.choice([None, None, 0.5, 2.0]),
            )
        )
    return out


def _actors() -> dict[str, Actor]:
    return {f"a{i}": Actor(f"a{i}", HOSTILE[i % len(HOSTILE)] or f"A{i}") for i in range(12)}


def _both(events: list[EdgeEvent], k: int = 5) -> tuple[nx.DiGraph, nx.DiGraph]:
    out = []
    for table in (False, True):
        G = build_graph(
            events,
            _actors(),
            max_evidence=k,
            topics={"a1": {"#tag": 2}},
            name="both",
            evidence_table=table,
        )
        apply_influence(G, influence(G))
        out.append(G)
    return out[0], out[1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), k=st.integers(0, 6), n=st.integers(0, 200))
def test_the_table_holds_the_items_the_edges_held(seed: int, k: int, n: int) -> None:
    plain, tabled = _both(_events(seed, n), k)
    table = evidence_table(tabled)
    assert table is not None and evidence_table(plain) is None
    assert list(plain.edges) == list(tabled.edges)
    for u, v, data in tabled.edges(data=True):
        assert data["evidence"] is IN_TABLE
        assert list(data) == list(plain[u][v])  # the same keys, in the same order
        assert edge_evidence(tabled, u, v) == plain[u][v]["evidence"]
        assert edge_evidence(plain, u, v) == plain[u][v]["evidence"]
        assert (u, v) in table
    assert len(table) == plain.number_of_edges()
    assert table.n_items == sum(len(d["evidence"]) for _, _, d in plain.edges(data=True))
    counts, cols = table.columns(list(plain.edges)[::-1])
    expected = [item for u, v in list(plain.edges)[::-1] for item in plain[u][v]["evidence"]]
    assert counts == [len(plain[u][v]["evidence"]) for u, v in list(plain.edges)[::-1]]
    assert [
        dict(zip(cols, row, strict=True)) for row in zip(*cols.values(), strict=True)
    ] == expected
    assert ("a0", "nobody") not in table and edge_evidence(tabled, "a0", "nobody") == []


def test_times_come_back_as_the_same_aware_utc_datetimes() -> None:
    plain, tabled = _both(_events(3))
    for u, v in plain.edges:
        for a, b in zip(plain[u][v]["evidence"], edge_evidence(tabled, u, v), strict=True):
            assert a["time"] == b["time"]
            if a["time"] is not None:
                assert b["time"].tzinfo is UTC and b["time"].isoformat() == a["time"].isoformat()


def test_a_table_backed_graph_pickles_and_copies_with_its_evidence() -> None:
    plain, tabled = _both(_events(5))
    back = pickle.loads(pickle.dumps(tabled))
    copied = tabled.copy()
    undirected = tabled.to_undirected()
    for u, v in plain.edges:
        assert back[u][v]["evidence"] is IN_TABLE
        assert edge_evidence(back, u, v) == plain[u][v]["evidence"]
        assert edge_evidence(copied, u, v) == plain[u][v]["evidence"]
        assert edge_evidence(tabled.subgraph([u, v]), u, v) == plain[u][v]["evidence"]
    # an undirected copy keeps one direction's data: the items of that direction
    for u, v in undirected.edges:
        assert edge_evidence(undirected, u, v) in (
            edge_evidence(plain, u, v) if plain.has_edge(u, v) else None,
            edge_evidence(plain, v, u) if plain.has_edge(v, u) else None,
        )


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_export_is_byte_identical(tmp_path: Path, seed: int) -> None:
    plain, tabled = _both(_events(seed))
    formats = ("gexf", "graphml", "json", "csv", "parquet")
    export_all(plain, tmp_path / "plain", formats=formats)
    export_all(tabled, tmp_path / "tabled", formats=formats)
    a, b = _files(tmp_path / "plain"), _files(tmp_path / "tabled")
    assert set(a) == set(b) and "evidence.csv" in a and "graph.json" in a
    for name in a:
        assert a[name] == b[name], name
    for fmt in formats:
        one, two = (sanitize_graph(G, for_format=fmt) for G in (plain, tabled))
        assert list(one.edges(data=True)) == list(two.edges(data=True)), fmt
        assert one.graph == two.graph, fmt


def test_merged_arcs_with_their_own_lists_export_the_same(tmp_path: Path) -> None:
    plain, tabled = _both(_events(7))
    for G in (plain, tabled):  # what merging a graph file adds: arcs with no evidence
        G.add_edge("a0", "file-only", weight=1.0, count=1, evidence=[], first=None, last=None)
        G.add_edge("file-only", "a1", weight=1.0, count=1, file_note="x", evidence=[])
    export_all(plain, tmp_path / "plain", formats=("json", "csv", "parquet"))
    export_all(tabled, tmp_path / "tabled", formats=("json", "csv", "parquet"))
    assert _files(tmp_path / "plain") == _files(tmp_path / "tabled")


def test_maps_and_focus_maps_are_byte_identical(tmp_path: Path) -> None:
    from mapper.render.maps import write_focus_map, write_network_map

    plain, tabled = _both(_events(11, n=600))
    for name, G in (("plain", plain), ("tabled", tabled)):
        write_network_map(G, tmp_path / f"{name}.html", seed=0)
        write_focus_map(G, "a1", tmp_path / f"focus-{name}.html", radius=1)
    assert (tmp_path / "plain.html").read_bytes() == (tmp_path / "tabled.html").read_bytes()
    assert (tmp_path / "focus-plain.html").read_bytes() == (
        tmp_path / "focus-tabled.html"
    ).read_bytes()


def test_a_time_window_on_a_table_backed_graph_keeps_the_items_inside_it() -> None:
    plain, tabled = _both(_events(13))
    since, until = T0 + timedelta(days=10), T0 + timedelta(days=40)
    one = filter_graph(plain, since=since, until=until)
    two = filter_graph(tabled, since=since, until=until)
    assert evidence_table(two) is None  # the window's items are the edges' own lists
    assert list(one.edges(data=True)) == list(two.edges(data=True))
    assert evidence_table(tabled) is not None  # the input keeps its table
    # without a window the table goes along
    three = filter_graph(tabled, min_weight=2.0)
    assert isinstance(three.graph["evidence"], EvidenceTable)
    for u, v in three.edges:
        assert edge_evidence(three, u, v) == plain[u][v]["evidence"]


def test_bridges_read_the_same_evidence() -> None:
    from mapper.analysis.bridges import bridge_figures
    from mapper.analysis.factions import apply_factions, detect_factions

    plain, tabled = _both(_events(17, n=800, actors=12))
    results = []
    for G in (plain, tabled):
        found = detect_factions(G, seed=1, runs=2)
        apply_factions(G, found)
        results.append(bridge_figures(G, found.partition))
    assert results[0] == results[1]


def test_the_api_lists_the_evidence_of_a_tie() -> None:
    from mapper.api import Network

    plain, tabled = _both(_events(19))
    u, v = next((u, v) for u, v, d in plain.edges(data=True) if d["evidence"])
    frames = [Network(graph=G).evidence() for G in (plain, tabled)]
    assert frames[0].equals(frames[1])
    assert len(frames[1]) == sum(len(d["evidence"]) for _, _, d in plain.edges(data=True))
    one = Network(graph=tabled).evidence(u, v)
    assert list(one["post"]) == [item["post"] for item in plain[u][v]["evidence"]]
    assert set(Network(graph=tabled).evidence(source=u)["source"]) == {u}
    assert Network(graph=tabled).evidence("nobody").empty
    graphs = [Network(graph=G).to_igraph() for G in (plain, tabled)]
    assert graphs[0].es["evidence"] == graphs[1].es["evidence"]
