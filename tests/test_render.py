"""Tests of mapper.render without a browser: offline pages, escaping of every text
route, reduction, immutability of the graph, safe file names, the report, images and
determinism."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import networkx as nx
import pytest
from browser_support import (
    HIDDEN_CHARS,
    HOSTILE_ATTR,
    HOSTILE_HREF,
    HOSTILE_IMG,
    HOSTILE_SCRIPT,
    hostile_report,
    make_bidi_graph,
    make_graph,
    make_hostile_graph,
    make_many_factions,
    page_data,
)

from mapper.errors import RenderError
from mapper.render import (
    annotate,
    find_actor,
    focus_map_path,
    render_all,
    write_alliance_map,
    write_faction_map,
    write_faction_png,
    write_focus_map,
    write_network_map,
    write_network_png,
    write_report,
)
from mapper.render.layout import compute_positions, group_nodes, plain_title, select_view
from mapper.render.maps import script_json, vis_library
from mapper.render.report import md_escape

# ----------------------------------------------------------------------- helpers


class _Tags(HTMLParser):
    """Collect start tags and attributes the way a browser tokenises them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def csp_of(html: str) -> str:
    for tag, attrs in tags_of(html):
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "content-security-policy":
            return attrs.get("content") or ""
    return ""


def snapshot(G: nx.Graph) -> Any:
    return (
        copy.deepcopy(dict(G.graph)),
        [(n, copy.deepcopy(d)) for n, d in G.nodes(data=True)],
        [(u, v, copy.deepcopy(d)) for u, v, d in G.edges(data=True)],
    )


def all_titles(data: dict[str, Any]) -> list[str]:
    return [item["title"] for item in data["nodes"] + data["edges"] if "title" in item]


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    return make_graph(80, 4)


@pytest.fixture(scope="module")
def hostile() -> nx.DiGraph:
    return make_hostile_graph()


@pytest.fixture(scope="module")
def hostile_pages(tmp_path_factory: pytest.TempPathFactory, hostile: nx.DiGraph) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    render_all(hostile, folder, alliances=hostile_report(hostile), title=HOSTILE_IMG)
    write_focus_map(hostile, next(iter(hostile.nodes)), folder / "focus.html", radius=2)
    return folder


# ----------------------------------------------------------------------- offline


def test_map_is_offline_and_inlines_vis_network(
    tmp_path: Path, graph: nx.DiGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    render_all(graph, out, alliances=hostile_report(graph))
    assert not (tmp_path / "lib").exists(), "pyvis's lib/ folder leaked into the CWD"
    assert not (out / "lib").exists()
    for page in sorted(out.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        for tag, attrs in tags_of(html):
            assert tag != "link", f"{page.name}: <link> tag"
            if tag == "script":
                assert "src" not in attrs, f"{page.name}: external script"
            for name in ("src", "href"):
                value = attrs.get(name) or ""
                assert not re.match(r"(?i)\s*(https?:)?//", value), f"{page.name}: {value}"
        assert "@import" not in html
        assert not re.search(r"(?i)url\(\s*['\"]?(https?:)?//", html)
        assert "default-src 'none'" in csp_of(html)
        if page.name != "report.html":
            assert vis_library()[:2000] in html, f"{page.name}: vis-network not inlined"
            assert "cdn" not in html.lower().replace("cdn_resources", "")


def test_csp_allows_exactly_the_inline_scripts(tmp_path: Path, graph: nx.DiGraph) -> None:
    write_network_map(graph, tmp_path / "m.html")
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    policy_text = csp_of(html)
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 2  # vis-network and the page script; the data is JSON
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        assert f"'sha256-{digest}'" in policy_text
    assert "unsafe-inline" not in policy_text.split("script-src")[1].split(";")[0]


def test_vis_library_cannot_end_its_script_block() -> None:
    js = vis_library()
    assert "</script" not in js.lower()
    assert "<!--" not in js
    assert "sourceMappingURL" not in js
    assert "DataSet" in js and "Network" in js


# ---------------------------------------------------------------------- escaping


def test_script_json_escapes_markup_characters() -> None:
    text = script_json({"a": "</script><script>x</script><!-- & \u2028\u2029 >"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(str(text)) == {"a": "</script><script>x</script><!-- & \u2028\u2029 >"}


def test_plain_title_removes_every_href() -> None:
    assert "href" not in plain_title("x href HREF hReF y").lower()
    assert plain_title('<a href="x">').replace("\u200b", "") == '<a href="x">'


def test_titles_never_contain_href(hostile_pages: Path) -> None:
    for page in sorted(hostile_pages.rglob("*.html")):
        if page.name == "report.html":
            continue
        data = page_data(page.read_text(encoding="utf-8"))
        titles = all_titles(data)
        assert titles, page.name
        for title in titles:
            assert "href" not in title.lower(), f"{page.name}: {title!r}"


def test_hostile_text_is_never_live_markup(hostile_pages: Path) -> None:
    pages = sorted(hostile_pages.rglob("*.html"))
    assert len(pages) >= 6
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for needle in ("<img src=x", "<script>window.__pwned", '" onmouseover="', HOSTILE_HREF):
            assert needle not in html, f"{page.name}: {needle!r} present raw"
        tags = tags_of(html)
        names = [tag for tag, _ in tags]
        assert "img" not in names or page.name == "report.html"
        assert "a" not in names or page.name == "report.html"
        for tag, attrs in tags:
            for attr, value in attrs.items():
                assert not attr.startswith("on"), f"{page.name}: <{tag} {attr}>"
                if tag == "img":
                    assert value is None or not value.startswith("x"), page.name
                if attr == "href":
                    assert value and not value.lower().startswith("javascript"), page.name
        if page.name == "report.html":
            assert names.count("script") == 0
        else:
            assert names.count("script") == 3, page.name


def test_hostile_text_survives_as_text(hostile_pages: Path, hostile: nx.DiGraph) -> None:
    html = (hostile_pages / "map.html").read_text(encoding="utf-8")
    data = page_data(html)
    labels = {node["label"] for node in data["nodes"]}
    assert HOSTILE_IMG in labels and HOSTILE_SCRIPT in labels and HOSTILE_ATTR in labels
    assert any(HOSTILE_SCRIPT in t for t in all_titles(data))
    assert "&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt;" in html  # the heading
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned=2&lt;/script&gt;" in html  # legend


def test_node_ids_are_actor_ids(tmp_path: Path, hostile: nx.DiGraph) -> None:
    write_network_map(hostile, tmp_path / "m.html")
    data = page_data((tmp_path / "m.html").read_text(encoding="utf-8"))
    assert {node["id"] for node in data["nodes"]} == set(hostile.nodes)
    assert {(e["from"], e["to"]) for e in data["edges"]} == set(hostile.edges)


# ------------------------------------------------------------------ counts/budget


def test_node_and_edge_counts_match_graph(tmp_path: Path, graph: nx.DiGraph) -> None:
    info = write_network_map(graph, tmp_path / "m.html")
    data = page_data((tmp_path / "m.html").read_text(encoding="utf-8"))
    assert len(data["nodes"]) == graph.number_of_nodes() == info["nodes_shown"]
    assert len(data["edges"]) == graph.number_of_edges() == info["edges_shown"]
    assert not info["reduced"] and info["nodes_left_out"] == 0
    assert data["options"]["physics"]["enabled"] is False


def test_budget_reduces_and_says_so(tmp_path: Path) -> None:
    G = make_graph(300, 5, seed=2)
    bridges = {n for n, d in G.nodes(data=True) if d["is_bridge"]}
    info = write_network_map(G, tmp_path / "m.html", node_budget=100, edge_budget=150)
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    data = page_data(html)
    ids = {node["id"] for node in data["nodes"]}
    assert len(ids) == 100 == info["nodes_shown"]
    assert len(data["edges"]) == 150 == info["edges_shown"]
    assert bridges <= ids, "every bridge figure must be kept"
    top = sorted(G.nodes, key=lambda n: -G.nodes[n]["influence"])[:50]
    assert set(top) <= ids
    assert f"Showing 100 of 300 actors and 150 of {G.number_of_edges():,} ties" in html
    assert "the full graph is in the exports" in html
    assert info["nodes_left_out"] == 200
    # the strongest ties among the shown actors are the ones kept
    among = sorted(
        (d["weight"] for u, v, d in G.edges(data=True) if u in ids and v in ids), reverse=True
    )
    shown = sorted((G.edges[e["from"], e["to"]]["weight"] for e in data["edges"]), reverse=True)
    assert shown == among[:150]


def test_page_is_kept_under_max_bytes(tmp_path: Path) -> None:
    G = make_graph(400, 5, seed=4, degree=5)
    full = write_network_map(G, tmp_path / "full.html")
    assert full["tooltip_level"] == 0
    limit = full["bytes"] - 40_000
    info = write_network_map(G, tmp_path / "small.html", max_bytes=limit)
    assert info["bytes"] <= limit
    assert (tmp_path / "small.html").stat().st_size <= limit
    assert info["tooltip_level"] > 0
    assert "shortened" in (tmp_path / "small.html").read_text(encoding="utf-8")
    with pytest.raises(RenderError):
        write_network_map(G, tmp_path / "tiny.html", max_bytes=100_000)
    assert not (tmp_path / "tiny.html").exists()


def test_select_view_keeps_forced_actor() -> None:
    G = make_graph(200, 4, seed=3)
    weakest = min(G.nodes, key=lambda n: G.nodes[n]["influence"])
    view = select_view(G, node_budget=20, keep=[weakest])
    assert weakest in view.nodes and len(view.nodes) == 20


# ------------------------------------------------------------------- immutability


def test_rendering_never_mutates_the_graph(tmp_path: Path, graph: nx.DiGraph) -> None:
    G = graph.copy()
    before = snapshot(G)
    render_all(G, tmp_path, alliances=hostile_report(G), node_budget=30)
    write_focus_map(G, list(G.nodes)[3], tmp_path / "f.html", radius=2)
    assert snapshot(G) == before


def test_annotate_copies_instead_of_mutating() -> None:
    G = make_graph(30, 3, analysed=False)
    before = snapshot(G)

    result = SimpleNamespace(
        partition={n: i % 3 for i, n in enumerate(G.nodes)},
        names={0: "A", 1: "B", 2: "C"},
        stability=dict.fromkeys(G.nodes, 0.5),
        modularity=0.4,
    )
    bridges = [{"actor": next(iter(G.nodes)), "score": 0.9, "role": "connector"}]
    H = annotate(G, result, bridges)
    assert H is not G
    assert snapshot(G) == before
    assert H.nodes[next(iter(G.nodes))]["is_bridge"] is True
    assert {H.nodes[n]["faction_name"] for n in H} == {"A", "B", "C"}


# -------------------------------------------------------------------- focus maps


@pytest.mark.parametrize(
    "name", ["../../evil", "/etc/passwd", "..", "", "a/../../b", "C:\\x\\..\\y", "Ellie O’Hagan"]
)
def test_focus_map_path_stays_in_folder(tmp_path: Path, name: str) -> None:
    path = focus_map_path(tmp_path / "actors", name)
    assert path.parent == tmp_path / "actors"
    assert path.suffix == ".html"
    assert path.resolve().parent == (tmp_path / "actors").resolve()


def test_focus_map_for_hostile_name_is_written_inside(tmp_path: Path) -> None:
    G = make_graph(20, 2)
    node = next(iter(G.nodes))
    G.nodes[node]["label"] = "../../evil"
    folder = tmp_path / "out" / "actors"
    target = focus_map_path(folder, G.nodes[node]["label"])
    info = write_focus_map(G, node, target)
    assert target.exists() and info["actor"] == node
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == [target]


def test_focus_map_contains_neighbourhood(tmp_path: Path, graph: nx.DiGraph) -> None:
    actor = list(graph.nodes)[10]
    info = write_focus_map(graph, graph.nodes[actor]["label"], tmp_path / "f.html")
    data = page_data((tmp_path / "f.html").read_text(encoding="utf-8"))
    expected = {actor} | set(graph.successors(actor)) | set(graph.predecessors(actor))
    assert {n["id"] for n in data["nodes"]} == expected
    assert data["focus"] == actor and info["radius"] == 1


def test_unknown_actor_suggests_close_matches(graph: nx.DiGraph) -> None:
    label = graph.nodes[list(graph.nodes)[4]]["label"]
    with pytest.raises(RenderError) as caught:
        find_actor(graph, label[:-1] + "x")
    assert label in (caught.value.hint or "")
    with pytest.raises(RenderError):
        write_focus_map(graph, "nobody-at-all-zzz", Path("/nonexistent/never.html"))
    assert find_actor(graph, label.upper()) == list(graph.nodes)[4]


# ------------------------------------------------------------- faction/alliance


def test_faction_map_has_one_node_per_faction(tmp_path: Path, graph: nx.DiGraph) -> None:
    info = write_faction_map(graph, tmp_path / "f.html")
    data = page_data((tmp_path / "f.html").read_text(encoding="utf-8"))
    factions = {d["faction"] for _, d in graph.nodes(data=True)}
    assert len(data["nodes"]) == len(factions) == info["factions"]
    sizes = {n["id"]: n["label"] for n in data["nodes"]}
    assert "27 actors" in sizes["faction:0"]
    assert all(e["label"].startswith("via ") for e in data["edges"])
    brokers = {(0, 1): ["actor-00000"], "1-2": [{"name": "Someone Else"}]}
    info = write_faction_map(graph, tmp_path / "g.html", brokers=brokers, names={0: "Zero"})
    data = page_data((tmp_path / "g.html").read_text(encoding="utf-8"))
    labels = {(e["from"], e["to"]): e["label"] for e in data["edges"]}
    assert labels[("faction:0", "faction:1")] == "via " + graph.nodes["actor-00000"]["label"]
    assert labels[("faction:1", "faction:2")] == "via Someone Else"
    assert any(n["label"].startswith("Zero\n") for n in data["nodes"])


def test_alliance_map_draws_dashed_explained_links(tmp_path: Path, graph: nx.DiGraph) -> None:
    report = hostile_report(graph)
    info = write_alliance_map(graph, report, tmp_path / "a.html")
    data = page_data((tmp_path / "a.html").read_text(encoding="utf-8"))
    dashed = [e for e in data["edges"] if e.get("dashes")]
    assert info["opportunities"] == 1 and info["introductions"] == 1
    opportunity = [e for e in dashed if e["from"].startswith("faction:")]
    assert len(opportunity) == 1
    assert "Suggested alliance" in opportunity[0]["title"]
    assert HOSTILE_ATTR in opportunity[0]["title"]
    intro = [e for e in dashed if e["from"].startswith("actor:") and "introduction" in e["title"]]
    assert len(intro) == 1
    empty = write_alliance_map(graph, {}, tmp_path / "b.html")
    assert empty["opportunities"] == 0


# ------------------------------------------------------------------------ report


def test_markdown_escape() -> None:
    assert md_escape("a | b") == "a \\| b"
    assert md_escape("<img src=x>") == "&lt;img src=x&gt;"
    assert md_escape("[x](javascript:y)") == "\\[x\\](javascript:y)"
    assert md_escape("line\nbreak") == "line break"


def test_report_md_escapes_pipes_and_html(tmp_path: Path, hostile: nx.DiGraph) -> None:
    bridges = [
        {
            "actor": next(iter(hostile.nodes)),
            "rank": 1,
            "score": 0.9,
            "role": "con|nector",
            "reason": "a | b " + HOSTILE_SCRIPT,
            "ties": {0: 3, 1: 2},
        }
    ]
    fault_lines = [{"a": 0, "b": 1, "ties": 2, "reason": "x|y " + HOSTILE_IMG}]
    out = write_report(
        tmp_path,
        G=hostile,
        bridges=bridges,
        fault_lines=fault_lines,
        alliances=hostile_report(hostile),
        title="T | " + HOSTILE_IMG,
    )
    md = out["report.md"].read_text(encoding="utf-8")
    assert "<img" not in md and "<script" not in md and "<a href" not in md
    assert "](javascript" not in md
    # Every row of a table has as many unescaped pipes as its header.
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|")):
            width = len(re.split(r"(?<!\\)\|", line))
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                assert len(re.split(r"(?<!\\)\|", lines[j])) == width, lines[j]
                j += 1
    assert any("con\\|nector" in line for line in lines)
    html = out["report.html"].read_text(encoding="utf-8")
    assert "<img src=x" not in html and "<script" not in html
    assert "&lt;img src=x" in html


def test_report_accepts_objects_and_missing_inputs(tmp_path: Path, graph: nx.DiGraph) -> None:
    result = SimpleNamespace(
        partition={n: d["faction"] for n, d in graph.nodes(data=True)},
        names={0: "Left", 1: "Greens", 2: "Centre", 3: "Nations"},
        modularity=0.512,
        method="leiden",
        resolution=1.0,
    )
    out = write_report(tmp_path, G=graph, factions=result, summaries=None)
    md = out["report.md"].read_text(encoding="utf-8")
    assert "Modularity**: 0.512" in md and "Greens" in md
    bare = nx.DiGraph()
    bare.add_edge("a", "b")
    out = write_report(tmp_path / "bare", G=bare)
    assert "No factions" in out["report.md"].read_text(encoding="utf-8")


def test_render_all_links_everything(tmp_path: Path, graph: nx.DiGraph) -> None:
    out = render_all(graph, tmp_path, alliances=hostile_report(graph))
    for name in ("map.html", "factions.html", "alliances.html", "network.png", "factions.png"):
        assert out[name].exists()
    html = out["report.html"].read_text(encoding="utf-8")
    for href in re.findall(r'href="([^"]+)"', html):
        assert (tmp_path / href).exists(), href
    assert any(key.startswith("actors/") for key in out)
    assert not list(tmp_path.rglob("*.tmp"))


# ------------------------------------------------------------------------ images


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data[-8:-4] == b"IEND"
    return width, height


def test_pngs_are_valid_and_deterministic(tmp_path: Path, hostile: nx.DiGraph) -> None:
    G = make_graph(300, 5, seed=7)
    G.nodes[next(iter(G.nodes))]["label"] = "$\\frac{1}{0}$ " + HOSTILE_IMG  # no math text
    info = write_network_png(G, tmp_path / "a.png", node_budget=100)
    write_network_png(G, tmp_path / "b.png", node_budget=100)
    assert info["reduced"] and info["nodes_shown"] == 100
    assert _png_size(tmp_path / "a.png")[0] > 1000
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    write_faction_png(G, tmp_path / "f.png")
    assert _png_size(tmp_path / "f.png")[0] > 1000
    write_network_png(hostile, tmp_path / "h.png")
    _png_size(tmp_path / "h.png")


# ------------------------------------------------------------------- determinism


def test_same_graph_and_seed_give_identical_pages(tmp_path: Path) -> None:
    G = make_graph(500, 6, seed=11)  # large enough for igraph's layout
    for name, kwargs in (("a", {}), ("b", {}), ("c", {"seed": 1})):
        write_network_map(G, tmp_path / f"{name}.html", node_budget=400, **kwargs)
    a, b, c = ((tmp_path / f"{x}.html").read_bytes() for x in "abc")
    assert a == b
    assert a != c
    small = make_graph(40, 3)
    write_network_map(small, tmp_path / "s1.html")
    write_network_map(small.copy(), tmp_path / "s2.html")
    assert (tmp_path / "s1.html").read_bytes() == (tmp_path / "s2.html").read_bytes()


def test_positions_are_seeded() -> None:
    nodes = [f"n{i}" for i in range(400)]
    edges = [(nodes[i], nodes[(i * 7 + 1) % 400], 1.0) for i in range(400)]
    assert compute_positions(nodes, edges, seed=3) == compute_positions(nodes, edges, seed=3)
    assert compute_positions(nodes, edges, seed=3) != compute_positions(nodes, edges, seed=4)


# ------------------------------------------------------------- before analysis


def test_graph_before_analysis_and_without_attributes(tmp_path: Path) -> None:
    G = make_graph(60, 3, analysed=False)
    info = write_network_map(G, tmp_path / "m.html")
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "Declared factions (no analysis yet)" in html
    assert info["nodes_shown"] == 60
    assert group_nodes(G).basis == "declared_faction"
    bare = nx.DiGraph()
    bare.add_edge("a", "b")
    bare.add_edge("b", "c", weight=float("nan"))
    bare.add_node(7)
    render_all(bare, tmp_path / "bare")
    data = page_data((tmp_path / "bare" / "map.html").read_text(encoding="utf-8"))
    assert {n["id"] for n in data["nodes"]} == {"a", "b", "c", "7"}
    empty = nx.DiGraph()
    render_all(empty, tmp_path / "empty")
    assert page_data((tmp_path / "empty" / "map.html").read_text(encoding="utf-8"))["nodes"] == []


# --------------------------------------------------------- with the real analysis


def test_render_all_with_real_analysis_results(tmp_path: Path) -> None:
    """The shapes the analysis modules really return (FactionResult object,
    declared-faction fault lines, alliance rows with actor_a/actor_b and shared
    topics by kind) are all rendered."""
    factions_mod = pytest.importorskip("mapper.analysis.factions")
    bridges_mod = pytest.importorskip("mapper.analysis.bridges")
    alliances_mod = pytest.importorskip("mapper.analysis.alliances")
    G = make_graph(90, 4, seed=8, analysed=False)
    for node, score in nx.pagerank(G).items():
        G.nodes[node]["influence"] = score
    result = factions_mod.detect_factions(G, seed=0)
    rows = bridges_mod.bridge_figures(G, result.partition)
    summaries = factions_mod.faction_summaries(G, result)
    faults = factions_mod.fault_lines(G, result)
    report = alliances_mod.alliance_report(G, result.partition, names=result.names)
    before = snapshot(G)
    out = render_all(
        G,
        tmp_path,
        factions=result,
        summaries=summaries,
        fault_lines=faults,
        bridges=rows,
        alliances=report,
        title="Integration",
    )
    assert snapshot(G) == before, "render_all must annotate a copy"
    data = page_data(out["map.html"].read_text(encoding="utf-8"))
    assert {n["fac"] for n in data["nodes"]} == set(result.partition.values())
    md = out["report.md"].read_text(encoding="utf-8")
    assert "Declared faction" in md and "Labour left" in md
    if report["opportunities"]:
        alliance = page_data(out["alliances.html"].read_text(encoding="utf-8"))
        assert any("Shared:" in e.get("title", "") for e in alliance["edges"])
    if report["introductions"]:
        first = report["introductions"][0]
        assert G.nodes[first["actor_a"]]["label"] in md


def test_focus_maps_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """Regression: G.subgraph iterates a small subgraph in set order, which made the
    neighbourhood maps differ between runs."""
    script = (
        "import sys; sys.path[:0] = ['tests', '.']\n"
        "from browser_support import make_graph\n"
        "from mapper.render import write_focus_map\n"
        "G = make_graph(120, 4, seed=5)\n"
        "write_focus_map(G, 'actor-00007', sys.argv[1], radius=2)\n"
    )
    root = Path(__file__).resolve().parent.parent
    outputs = []
    for seed in ("1", "2"):
        target = tmp_path / f"focus-{seed}.html"
        subprocess.run(
            [sys.executable, "-c", script, str(target)],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]


def test_multigraphs_and_non_graphs_are_refused(tmp_path: Path) -> None:
    M = nx.MultiDiGraph()
    M.add_edge("a", "b")
    M.add_edge("a", "b")
    with pytest.raises(RenderError, match="multigraph"):
        write_network_map(M, tmp_path / "m.html")
    with pytest.raises(RenderError, match="multigraph"):
        render_all(M, tmp_path / "all")
    with pytest.raises(RenderError):
        write_network_png({"a": 1}, tmp_path / "x.png")  # type: ignore[arg-type]


# ------------------------------------------------ hidden characters (issue 13.8)


def _shown_text(path: Path) -> str:
    """What a person can be shown of a written page: the page without the inlined
    vis-network library, and without the zero-width space that breaks every "href"
    in a tooltip on purpose (pyvis would otherwise read tooltips as HTML)."""
    text = path.read_text(encoding="utf-8").replace(vis_library(), "")
    return re.sub("(?i)hr\u200bef", "href", text)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hidden_characters_never_reach_maps_reports_or_images(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mapper.render.images as images

    G = make_bidi_graph(seed)
    drawn: list[str] = []
    for name in ("_label", "_label_below"):
        original = getattr(images, name)

        def record(ax: Any, xy: Any, text: str, *args: Any, _f: Any = original) -> None:
            drawn.append(text)
            _f(ax, xy, text, *args)

        monkeypatch.setattr(images, name, record)
    out = render_all(G, tmp_path, alliances=hostile_report(G), node_budget=40)
    hidden = set(HIDDEN_CHARS)
    pages = [p for p in out.values() if p.suffix in (".html", ".md")]
    assert len(pages) >= 8
    for page in pages:
        found = set(_shown_text(page)) & hidden
        assert not found, (page.name, sorted(f"U+{ord(c):04X}" for c in found))
    assert drawn and not {c for text in drawn for c in text} & hidden
    # the visible letters are all there, in order
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    for item in page_data(page)["nodes"][:10]:
        visible = "".join(c for c in G.nodes[item["id"]]["label"] if c not in hidden)
        assert item["label"] == visible


def test_exports_keep_the_names_as_given(tmp_path: Path) -> None:
    import csv
    import json

    from mapper.export import export_all

    G = make_bidi_graph(5, n=20, factions=2)
    export_all(G, tmp_path, formats=("csv", "json", "graphml"))
    raw = {n: d["label"] for n, d in G.nodes(data=True)}
    with (tmp_path / "nodes.csv").open(encoding="utf-8", newline="") as fh:
        rows = {row["id"]: row for row in csv.DictReader(fh)}
    assert {n: rows[n]["label"] for n in raw} == raw
    data = json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))
    assert {n["id"]: n["label"] for n in data["nodes"]} == raw
    H = nx.read_graphml(next(tmp_path.glob("*.graphml")))
    assert {n: H.nodes[n]["label"] for n in raw} == raw


MEGABYTE = 1_000_000


@pytest.mark.parametrize("field", ["label", "faction_name", "party", "role", "snippet", "id"])
def test_a_megabyte_of_text_is_capped_on_every_page(tmp_path: Path, field: str) -> None:
    G = make_graph(40, 3, seed=9)
    node = sorted(G.nodes)[5]
    huge = "Wordy " * (MEGABYTE // 6)
    if field == "id":
        G = nx.relabel_nodes(G, {node: huge})
        node = huge
    elif field == "snippet":
        for _, _, data in G.edges(node, data=True):
            data["evidence"][0]["snippet"] = huge
    elif field == "faction_name":
        for _, data in G.nodes(data=True):
            if data["faction"] == G.nodes[node]["faction"]:
                data["faction_name"] = huge
    else:
        G.nodes[node][field] = huge
    out = render_all(G, tmp_path, alliances=hostile_report(G))
    for name in ("map.html", "factions.html", "alliances.html"):
        size = out[name].stat().st_size
        assert size < 1_500_000, (name, size)  # the library is ~700 KB of it
    data = page_data(out["map.html"].read_text(encoding="utf-8"))
    for item in data["nodes"]:
        assert len(item["id"]) <= 300
        assert len(item["label"]) <= 60
        # a line names at most two actors and a snippet
        assert max(len(line) for line in item["title"].split("\n")) <= 600
    for item in data["edges"]:
        assert max(len(line) for line in item["title"].split("\n")) <= 600
    assert "…" in out["map.html"].read_text(encoding="utf-8")
    report = out["report.md"].read_text(encoding="utf-8")
    assert len(report) < 200_000
    focus = write_focus_map(G, node, tmp_path / "focus.html")
    assert focus["bytes"] < 1_500_000


# ---------------------------------------------------------- large maps (issue 13.20)


def _colours(data: dict[str, Any]) -> dict[str, str]:
    """Node id -> fill colour, through the page's group styles."""
    groups = data["options"]["groups"]
    return {n["id"]: groups[n["group"]]["color"]["background"] for n in data["nodes"]}


@pytest.mark.parametrize(("factions", "seed"), [(25, 1), (45, 2), (120, 3)])
def test_largest_factions_are_coloured_and_the_rest_grouped(
    tmp_path: Path, factions: int, seed: int
) -> None:
    from mapper.render import layout
    from mapper.render.layout import OTHER_COLOUR, PALETTE

    G = make_many_factions(700, factions, seed=seed, unassigned=30)
    write_network_map(G, tmp_path / "m.html", node_budget=1000)
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    colours = _colours(page_data(html))
    sizes = Counter(d["faction"] for _, d in G.nodes(data=True) if "faction" in d)
    ranked = sorted(sizes, key=lambda f: (-sizes[f], f))
    top = set(ranked[:20])
    seen: dict[int, set[str]] = {}
    rest: set[str] = set()
    for node, data in G.nodes(data=True):
        colour = colours[node]
        if "faction" not in data:
            assert colour == OTHER_COLOUR
        elif data["faction"] in top:
            assert colour in PALETTE
            seen.setdefault(data["faction"], set()).add(colour)
        else:
            rest.add(colour)
    # the smaller factions share one colour, neither a faction's nor the unassigned grey
    assert len(rest) == 1 and not rest & {*PALETTE, OTHER_COLOUR}
    assert rest == {layout.OTHER_GROUPS_COLOUR}
    assert len(seen) == 20 and all(len(c) == 1 for c in seen.values())
    assert len({c for cs in seen.values() for c in cs}) == 20  # 20 distinct colours
    # legend and filter: one row per coloured faction, one for the rest, one unassigned
    values = re.findall(r'data-filter="faction" value="(-?\d+)"', html)
    assert len(values) == 22 and values[-2:] == ["-2", "-1"]
    assert f"Other factions ({len(sizes) - 20:,})" in html
    assert "Unassigned" in html


@pytest.mark.parametrize(("n", "seed"), [(300, 1), (2000, 2)])
def test_bridge_outline_marks_only_the_most_significant(tmp_path: Path, n: int, seed: int) -> None:
    import random

    outlines = 20  # whatever the size of the graph
    G = make_graph(n, 8, seed=seed, degree=3)
    rng = random.Random(seed)
    for _, data in G.nodes(data=True):  # a tenth of the actors called bridges
        data["is_bridge"] = rng.random() < 0.1
        data["bridge_score"] = round(rng.random(), 6) if data["is_bridge"] else 0.0
    bridges = sorted(
        (n for n, d in G.nodes(data=True) if d["is_bridge"]),
        key=lambda x: (-G.nodes[x]["bridge_score"], x),
    )
    assert len(bridges) > outlines
    info = write_network_map(G, tmp_path / "m.html", node_budget=500)
    html = (tmp_path / "m.html").read_text(encoding="utf-8")
    outlined = {item["id"] for item in page_data(html)["nodes"] if item["group"].endswith("b")}
    assert outlined == set(bridges[:outlines])
    assert info["bridges_outlined"] == outlines
    assert f"top {outlines} of {len(bridges):,}" in html


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_factions_are_named_at_their_centre(tmp_path: Path, seed: int) -> None:
    G = make_graph(400, 6, seed=seed, degree=6)  # planted: factions sit together
    for _, data in G.nodes(data=True):
        data["faction_name"] = f"Faction number {data['faction']}"
    info = write_network_map(G, tmp_path / "m.html")
    data = page_data((tmp_path / "m.html").read_text(encoding="utf-8"))
    positions = {n["id"]: (n["x"], n["y"]) for n in data["nodes"]}
    labels = data["labels"]
    assert labels and info["labels"] == [label["text"] for label in labels]
    for label in labels:
        members = [n for n, d in G.nodes(data=True) if d.get("faction") == label["fac"]]
        assert label["text"] == G.nodes[members[0]]["faction_name"]
        xs = sorted(positions[m][0] for m in members)
        ys = sorted(positions[m][1] for m in members)
        assert (label["x"], label["y"]) == (xs[len(xs) // 2], ys[len(ys) // 2])
    small = make_many_factions(100, 4, seed=seed)
    write_network_map(small, tmp_path / "s.html")
    assert page_data((tmp_path / "s.html").read_text(encoding="utf-8"))["labels"] == []


def _nav(html: str) -> list[str]:
    match = re.search(r'<nav class="links"[^>]*>(.*?)</nav>', html, re.S)
    return re.findall(r'href="([^"]+)"', match.group(1)) if match else []


@pytest.mark.parametrize(("n", "factions", "seed"), [(900, 30, 1), (700, 8, 2)])
def test_faction_overview_is_the_entry_point_of_a_large_graph(
    tmp_path: Path, n: int, factions: int, seed: int
) -> None:
    G = make_many_factions(n, factions, seed=seed, unassigned=20)
    out = render_all(G, tmp_path / "a", node_budget=300)
    sizes = Counter(d["faction"] for _, d in G.nodes(data=True) if "faction" in d)
    ranked = sorted(sizes, key=lambda f: (-sizes[f], f))
    expected = [f"faction-{f}.html" for f in ranked[:20] if sizes[f] >= 5]
    assert sorted(k for k in out if k.startswith("faction-")) == sorted(expected)
    page = out["map.html"].read_text(encoding="utf-8")
    assert "start from the faction overview" in page
    assert _nav(page) == ["factions.html", *expected]
    overview = out["factions.html"].read_text(encoding="utf-8")
    assert _nav(overview) == ["map.html", *expected]
    links = {item["id"]: item["link"] for item in page_data(overview)["nodes"] if "link" in item}
    assert links == {f"faction:{name[8:-5]}": name for name in expected}
    for name in expected:
        faction = int(name[8:-5])
        html = out[name].read_text(encoding="utf-8")
        ids = {item["id"] for item in page_data(html)["nodes"]}
        members = {x for x, d in G.nodes(data=True) if d.get("faction") == faction}
        assert ids <= members and len(ids) == min(len(members), 300)
        assert _nav(html) == ["factions.html", "map.html"]
    again = render_all(G, tmp_path / "b", node_budget=300)
    for name in ["map.html", "factions.html", *expected]:
        assert again[name].read_bytes() == out[name].read_bytes(), name
    small = render_all(G, tmp_path / "c", node_budget=5000)
    assert not [k for k in small if k.startswith("faction-")]
    assert _nav(small["map.html"].read_text(encoding="utf-8")) == []


def test_overview_draws_the_smallest_factions_as_one(tmp_path: Path) -> None:
    from mapper.render.maps import OVERVIEW_FACTIONS

    G = make_many_factions(900, 90, seed=4, unassigned=10)
    write_faction_map(G, tmp_path / "f.html")
    data = page_data((tmp_path / "f.html").read_text(encoding="utf-8"))
    ids = [item["id"] for item in data["nodes"]]
    assert len(ids) == OVERVIEW_FACTIONS + 2
    assert "faction:-2" in ids and "faction:-1" in ids
    other = next(item for item in data["nodes"] if item["id"] == "faction:-2")
    factions = len({d["faction"] for _, d in G.nodes(data=True) if "faction" in d})
    assert f"{factions - OVERVIEW_FACTIONS:,} smaller factions" in other["title"]
    assert other["fac"] == -2


def test_faction_members_map_refuses_an_unknown_faction(tmp_path: Path) -> None:
    from mapper.render import write_faction_members_map

    G = make_graph(60, 3)
    with pytest.raises(RenderError) as caught:
        write_faction_members_map(G, 7, tmp_path / "x.html")
    assert sorted((caught.value.hint or "").removeprefix("factions: ").split(", ")) == [
        "0",
        "1",
        "2",
    ]
    info = write_faction_members_map(G, 1, tmp_path / "one.html")
    assert info["faction"] == 1
    assert info["nodes_shown"] == sum(1 for _, d in G.nodes(data=True) if d["faction"] == 1)


# ------------------------------------------------------------------ warnings banner


def test_every_map_shows_the_warnings_banner_escaped(tmp_path: Path, graph: nx.DiGraph) -> None:
    from mapper.analysis.strength import EvidenceWarning

    warnings = [
        {"code": "factions-not-significant", "message": HOSTILE_IMG, "stage": "factions"},
        EvidenceWarning(code="x-thin", message="Only \u202e12 ties.", stage="bridges"),
    ] + [{"code": f"c{i}", "message": f"note {i}", "stage": "graph"} for i in range(15)]
    out = render_all(
        graph, tmp_path / "w", alliances=hostile_report(graph), warnings=warnings, node_budget=30
    )
    maps = [p for name, p in out.items() if name.endswith(".html") and name != "report.html"]
    assert len(maps) >= 5 and any(p.name.startswith("faction-") for p in maps)
    for path in maps:
        html = path.read_text(encoding="utf-8")
        banner = re.search(r'<div class="warnings" id="mapper-warnings"(.*?)</div>', html, re.S)
        assert banner, path.name
        text = banner.group(1)
        assert "&lt;img src=x onerror=" in text and "<img" not in text
        assert "Only 12 ties." in text and "\u202e" not in text
        assert "[x-thin, bridges]" in text
        assert "and 5 more (see summary.json)" in text
    plain = render_all(graph, tmp_path / "p")
    assert 'id="mapper-warnings"' not in plain["map.html"].read_text(encoding="utf-8")


def test_report_template_has_the_same_banner_hook() -> None:
    from mapper.render.maps import environment, page_warnings

    template = environment().get_template("report.html.j2")
    common = {"title": "T", "facts": [], "links": [], "images": [], "sections": []}
    assert 'id="mapper-warnings"' not in template.render(**common)
    warnings = page_warnings([{"code": "c", "message": HOSTILE_SCRIPT, "stage": "graph"}])
    html = template.render(**common, warnings=warnings)
    assert 'id="mapper-warnings"' in html
    assert "&lt;/script&gt;&lt;script&gt;" in html and "window.__pwned=2</script>" not in html
