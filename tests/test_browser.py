"""Browser tests of the rendered pages in a real headless Chromium (Playwright, sync
API), with every non-file request aborted and recorded.

Run with ``pytest -m browser``; skipped with a reason when Chromium is missing or
cannot be launched. Screenshots and measurements go to ``test-artifacts/``.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    HOSTILE_ATTR,
    HOSTILE_IMG,
    HOSTILE_SCRIPT,
    Offline,
    chromium_path,
    hostile_report,
    make_graph,
    make_hostile_graph,
    page_data,
)

from mapper.render import render_all, write_focus_map, write_network_map

pytestmark = pytest.mark.browser

READY = "() => window.mapperReady === true"


def wait_until(tab: Any, function: str, timeout: float = 20.0, arg: Any = None) -> Any:
    """Poll ``function`` in the page until it returns a truthy value.

    ``page.wait_for_function`` evaluates its predicate with ``eval`` inside the
    page, which the pages' Content-Security-Policy (rightly) forbids; evaluating
    through the DevTools protocol is not subject to the page's policy.
    """
    deadline = time.perf_counter() + timeout
    while True:
        value = tab.evaluate(function, arg)
        if value:
            return value
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {function}")
        tab.wait_for_timeout(20)


def _no_browser(reason: str) -> None:
    """Skip, or fail where a browser is required (CI sets MAPPER_REQUIRE_BROWSER=1)."""
    if os.environ.get("MAPPER_REQUIRE_BROWSER"):
        pytest.fail(f"browser tests are required here but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        _no_browser("no Chromium found at /usr/bin/chromium or on PATH")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        _no_browser("playwright is not installed")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except Exception as exc:  # the browser exists but cannot start here
            _no_browser(f"Chromium at {executable} cannot be launched: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[tuple[Any, Offline]]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    tab = context.new_page()
    guard = Offline(tab)
    yield tab, guard
    context.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, nx.DiGraph]:
    G = make_graph(80, 4)
    folder = tmp_path_factory.mktemp("pages")
    render_all(G, folder, alliances=hostile_report(G), title="Progressive alliance 2016")
    return folder, G


@pytest.fixture(scope="module")
def hostile_pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    G = make_hostile_graph()
    folder = tmp_path_factory.mktemp("hostile")
    warnings = [
        {"code": HOSTILE_ATTR, "message": HOSTILE_IMG, "stage": HOSTILE_SCRIPT},
        {"code": "factions-thin", "message": HOSTILE_SCRIPT + " \u202eevil", "stage": "x"},
    ]
    render_all(
        G,
        folder,
        alliances=hostile_report(G),
        title=HOSTILE_IMG + HOSTILE_SCRIPT,
        warnings=warnings,
    )
    write_focus_map(G, next(iter(G.nodes)), folder / "focus.html", radius=2)
    return folder


def _load(tab: Any, path: Path) -> None:
    tab.goto(path.resolve().as_uri())
    if path.name != "report.html":
        wait_until(tab, READY)


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


# ------------------------------------------------------------ (a) and (b): draws


def test_every_page_draws_offline_without_errors(
    page: tuple[Any, Offline], pages: tuple[Path, nx.DiGraph]
) -> None:
    tab, guard = page
    folder, G = pages
    html_pages = sorted(folder.rglob("*.html"))
    assert len(html_pages) >= 6
    for path in html_pages:
        _load(tab, path)
        if path.name == "report.html":
            images = tab.evaluate(
                "Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])"
            )
            assert images and all(width > 0 for _, width in images), images
            continue
        data = page_data(path.read_text(encoding="utf-8"))
        drawn = tab.evaluate(
            "[window.mapperNodes.length, window.mapperEdges.length,"
            " Object.keys(window.mapperNetwork.body.nodes).length]"
        )
        assert drawn[0] == len(data["nodes"]) == drawn[2], path.name
        assert drawn[1] == len(data["edges"]), path.name
        if path.name == "map.html":
            assert drawn[:2] == [G.number_of_nodes(), G.number_of_edges()]
        assert tab.evaluate("typeof vis") == "object"
    assert guard.requests == [], guard.requests
    assert guard.errors == [], guard.errors
    assert guard.dialogs == []


# ------------------------------------------------------------- (c): hostile text

_NODE_POINT = """id => {
  const net = window.mapperNetwork;
  const p = net.canvasToDOM(net.getPosition(id));
  const box = document.getElementById('mapper-canvas').getBoundingClientRect();
  return [box.left + p.x, box.top + p.y];
}"""

_EDGE_POINT = """id => {
  const net = window.mapperNetwork;
  const p = net.canvasToDOM(net.body.edges[id].edgeType.getPoint(0.5));
  const box = document.getElementById('mapper-canvas').getBoundingClientRect();
  return [box.left + p.x, box.top + p.y];
}"""

_TOOLTIP = """() => {
  const tip = document.querySelector('div.vis-tooltip');
  return tip && getComputedStyle(tip).visibility === 'visible'
    ? [tip.innerText, tip.querySelectorAll(':not(br)').length] : null;
}"""


def _is_hostile(text: str) -> bool:
    return any(h in text for h in (HOSTILE_IMG, HOSTILE_SCRIPT, HOSTILE_ATTR))


def _hover(tab: Any, point: list[float]) -> tuple[str, int] | None:
    tab.mouse.move(5, 5)
    tab.wait_for_timeout(30)
    tab.mouse.move(point[0], point[1], steps=2)
    try:
        text, children = wait_until(tab, _TOOLTIP, timeout=1.0)
    except TimeoutError:
        return None
    return text, children


def _assert_clean(tab: Any, guard: Offline, where: str) -> None:
    assert tab.evaluate("typeof window.__pwned") == "undefined", where
    assert guard.dialogs == [], where
    injected = tab.evaluate(
        "Array.from(document.querySelectorAll('img, a[href^=\"javascript\"]'))"
        ".filter(e => !(e.tagName === 'IMG' && /\\.png$/.test(e.getAttribute('src') || '')))"
        ".length"
    )
    assert injected == 0, where


def test_hostile_text_never_runs(page: tuple[Any, Offline], hostile_pages: Path) -> None:
    tab, guard = page
    hovered_nodes = hovered_edges = 0
    seen_hostile_tooltip = False
    for path in sorted(hostile_pages.rglob("*.html")):
        _load(tab, path)
        _assert_clean(tab, guard, path.name)
        if path.name == "report.html":
            continue
        # The page's own title and legend render the hostile text as text.
        assert tab.evaluate("document.querySelectorAll('script').length") == 3
        data = page_data(path.read_text(encoding="utf-8"))
        hostile_first = sorted(data["nodes"], key=lambda n: not _is_hostile(n["title"]))
        for node in hostile_first[:3]:
            result = _hover(tab, tab.evaluate(_NODE_POINT, node["id"]))
            if result is None:
                continue  # hidden under another node
            hovered_nodes += 1
            text, children = result
            # innerText turns each line break into a <br>; any other element means
            # the text was parsed as HTML.
            assert children == 0, "tooltip contains elements: it was parsed as HTML"
            assert text.split("\n")[0] == node["title"].split("\n")[0]
            if _is_hostile(text) and not seen_hostile_tooltip:
                seen_hostile_tooltip = True
                tab.screenshot(path=str(_artifact("hostile-tooltip.png")))
            _assert_clean(tab, guard, f"{path.name} hover {node['id']}")
        edge_ids = tab.evaluate(
            "window.mapperEdges.get().sort((a, b) => (b.title || '').length"
            " - (a.title || '').length).map(e => e.id)"
        )
        for edge_id in edge_ids[:2]:
            result = _hover(tab, tab.evaluate(_EDGE_POINT, edge_id))
            if result is None:
                continue
            hovered_edges += 1
            assert result[1] == 0
            _assert_clean(tab, guard, f"{path.name} hover edge")
        # Details panel (textContent) and search status routes.
        first = data["nodes"][0]["id"]
        tab.evaluate("id => window.mapperNetwork.selectNodes([id])", first)
        tab.evaluate("id => window.mapperNetwork.emit('click', {nodes: [id], edges: []})", first)
        assert tab.evaluate("document.getElementById('mapper-details').children.length") == 0
        tab.fill("#mapper-search", HOSTILE_SCRIPT)
        tab.press("#mapper-search", "Enter")
        tab.fill("#mapper-search", HOSTILE_IMG + "zz")
        tab.press("#mapper-search", "Enter")
        assert tab.evaluate("document.getElementById('mapper-status').children.length") == 0
        _assert_clean(tab, guard, f"{path.name} search")
    assert hovered_nodes >= 10 and hovered_edges >= 5, (hovered_nodes, hovered_edges)
    assert seen_hostile_tooltip, "no tooltip carrying hostile text was shown"
    assert guard.requests == []
    assert guard.errors == []


# ------------------------------------------------------------------ (d): 5,000


@pytest.fixture(scope="module")
def big_graph() -> nx.DiGraph:
    return make_graph(5000, 12, seed=3, degree=3)


@pytest.mark.slow
@pytest.mark.parametrize("budget", [1500, 5000])
def test_large_map_appears_quickly(
    page: tuple[Any, Offline], big_graph: nx.DiGraph, tmp_path: Path, budget: int
) -> None:
    tab, guard = page
    path = tmp_path / f"map-{budget}.html"
    started = time.perf_counter()
    info = write_network_map(big_graph, path, node_budget=budget)
    write_seconds = time.perf_counter() - started
    size = path.stat().st_size
    assert size < 5_000_000, f"page is {size:,} bytes"
    started = time.perf_counter()
    tab.goto(path.as_uri())
    wait_until(tab, READY, timeout=60.0)
    wall = time.perf_counter() - started
    ready_ms = tab.evaluate("window.mapperReadyAt")
    drawn = tab.evaluate("[window.mapperNodes.length, window.mapperEdges.length]")
    assert drawn == [info["nodes_shown"], info["edges_shown"]]
    assert info["nodes_shown"] == min(budget, 5000)
    assert guard.requests == [] and guard.errors == []
    tab.screenshot(path=str(_artifact(f"map-5000-actors-budget-{budget}.png")))
    record = {
        "actors": big_graph.number_of_nodes(),
        "ties": big_graph.number_of_edges(),
        "node_budget": budget,
        "nodes_shown": info["nodes_shown"],
        "edges_shown": info["edges_shown"],
        "tooltip_level": info["tooltip_level"],
        "page_bytes": size,
        "write_seconds": round(write_seconds, 2),
        "ready_ms_after_navigation": round(ready_ms, 1),
        "ready_seconds_wall": round(wall, 2),
    }
    _artifact(f"map-5000-actors-budget-{budget}.json").write_text(json.dumps(record, indent=2))
    print(json.dumps(record))


# ------------------------------------------------------------ (e): search, filter


def test_search_box_finds_and_selects_an_actor(
    page: tuple[Any, Offline], pages: tuple[Path, nx.DiGraph]
) -> None:
    tab, guard = page
    folder, G = pages
    _load(tab, folder / "map.html")
    actor = sorted(G.nodes)[17]
    label = G.nodes[actor]["label"]
    tab.fill("#mapper-search", label.lower())
    tab.press("#mapper-search", "Enter")
    assert tab.evaluate("window.mapperNetwork.getSelectedNodes()") == [actor]
    assert label in tab.inner_text("#mapper-status")
    assert label in tab.inner_text("#mapper-details")
    tab.wait_for_timeout(500)  # let the focus animation finish for the screenshot
    tab.screenshot(path=str(_artifact("search-selected.png")))
    # A prefix finds an actor too; nonsense says so and selects nothing new.
    found = tab.evaluate("q => window.mapperFind(q)", label[:4])
    assert found is not None and G.nodes[found]["label"].lower().startswith(label[:4].lower())
    tab.fill("#mapper-search", "zzzz-nobody")
    tab.press("#mapper-search", "Enter")
    assert "Nothing matches" in tab.inner_text("#mapper-status")
    assert guard.errors == [] and guard.requests == []


def test_filters_hide_factions_and_kinds(
    page: tuple[Any, Offline], pages: tuple[Path, nx.DiGraph]
) -> None:
    tab, guard = page
    folder, G = pages
    _load(tab, folder / "map.html")
    hidden = "window.mapperNodes.get({filter: n => n.hidden}).length"
    tab.uncheck('input[data-filter="faction"][value="0"]')
    in_zero = sum(1 for _, d in G.nodes(data=True) if d["faction"] == 0)
    assert tab.evaluate(hidden) == in_zero
    tab.uncheck('input[data-filter="kind"][value="mp"]')
    mps_elsewhere = sum(1 for _, d in G.nodes(data=True) if d["kind"] == "mp" and d["faction"] != 0)
    assert tab.evaluate(hidden) == in_zero + mps_elsewhere
    tab.click('button[data-set="all"][data-filter-group="faction"]')
    tab.click('button[data-set="all"][data-filter-group="kind"]')
    assert tab.evaluate(hidden) == 0
    tab.click('button[data-set="none"][data-filter-group="faction"]')
    assert tab.evaluate(hidden) == G.number_of_nodes()
    assert guard.errors == []


def test_realistic_map_screenshot(
    page: tuple[Any, Offline], pages: tuple[Path, nx.DiGraph]
) -> None:
    tab, guard = page
    folder, _ = pages
    for name in ("map.html", "factions.html", "alliances.html"):
        _load(tab, folder / name)
        tab.wait_for_timeout(200)
        tab.screenshot(path=str(_artifact(f"realistic-{name.replace('.html', '')}.png")))
    _load(tab, folder / "report.html")
    tab.screenshot(path=str(_artifact("realistic-report.png")), full_page=True)
    assert guard.errors == [] and guard.requests == []


# ------------------------------------------- (f): hidden characters, huge text


_CHAR_LEFTS = """([selector, text]) => {
  // The left edge of every character of the first occurrence of `text` inside
  // the element, as laid out on screen.
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const at = node.data.indexOf(text);
    if (at < 0) continue;
    const lefts = [];
    for (let i = at; i < at + text.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      lefts.push(range.getBoundingClientRect().left);
    }
    return lefts;
  }
  return null;
}"""


def _reads_left_to_right(lefts: list[float] | None) -> bool:
    return bool(lefts) and all(b > a for a, b in itertools.pairwise(lefts or []))


@pytest.mark.parametrize("seed", [0, 1])
def test_hostile_bidi_names_read_in_order(
    page: tuple[Any, Offline], tmp_path: Path, seed: int
) -> None:
    tab, guard = page
    G = make_graph(30, 3, seed=seed)
    actor = sorted(G.nodes)[4]
    # U+202E reverses what follows; the isolate and the marks try the same
    G.nodes[actor]["label"] = "Anna \u202eKarenina\u202c \u2067Vronsky\u2069 \u200fLevin"
    for _, data in G.nodes(data=True):
        if data["faction"] == G.nodes[actor]["faction"]:
            data["faction_name"] = "Tolstoy \u202efans\u202c club"
    render_all(G, tmp_path)
    name = "Anna Karenina Vronsky Levin"
    _load(tab, tmp_path / "map.html")
    assert tab.evaluate("q => window.mapperFind(q)", "anna") == actor
    details = tab.inner_text("#mapper-details")
    assert details.split("\n")[0] == name
    assert _reads_left_to_right(tab.evaluate(_CHAR_LEFTS, ["#mapper-details", name]))
    assert _reads_left_to_right(tab.evaluate(_CHAR_LEFTS, ["#mapper-status", name]))
    # the legend row of its faction
    assert _reads_left_to_right(tab.evaluate(_CHAR_LEFTS, ["aside", "Tolstoy fans club"]))
    _load(tab, tmp_path / "report.html")
    lefts = tab.evaluate(_CHAR_LEFTS, ["body", name])
    assert _reads_left_to_right(lefts)
    assert guard.errors == [] and guard.requests == []


def test_a_megabyte_label_does_not_break_the_page(
    page: tuple[Any, Offline], tmp_path: Path
) -> None:
    tab, guard = page
    G = make_graph(40, 3, seed=4)
    actor = sorted(G.nodes)[7]
    G.nodes[actor]["label"] = "Megabyte " + "x" * 1_000_000
    G.nodes[actor]["party"] = "P" * 1_000_000
    for _, _, data in G.edges(actor, data=True):
        data["evidence"][0]["snippet"] = "said " * 200_000
    render_all(G, tmp_path, alliances=hostile_report(G))
    for name in ("map.html", "factions.html", "alliances.html"):
        _load(tab, tmp_path / name)
        assert tab.evaluate("typeof vis") == "object"
    _load(tab, tmp_path / "map.html")
    assert tab.evaluate("q => window.mapperFind(q)", "megabyte") == actor
    label = tab.evaluate("id => window.mapperNodes.get(id).label", actor)
    assert label.startswith("Megabyte") and label.endswith("…") and len(label) <= 60
    details = tab.inner_text("#mapper-details")
    assert len(details) < 5000 and details.startswith("Megabyte")
    _load(tab, tmp_path / "report.html")
    assert tab.evaluate("document.body.innerText.length") < 100_000
    assert guard.errors == [] and guard.requests == []


# ------------------------------------------------------- (g): large graphs


@pytest.mark.slow
def test_large_graph_starts_from_the_faction_overview(
    page: tuple[Any, Offline], tmp_path: Path
) -> None:
    tab, guard = page
    G = make_graph(900, 8, seed=6, degree=5)
    for _, data in G.nodes(data=True):
        data["faction_name"] = f"Faction number {data['faction']}"
    out = render_all(G, tmp_path, node_budget=300)
    _load(tab, tmp_path / "map.html")
    assert "faction overview" in tab.inner_text("#mapper-notice")
    hrefs = tab.evaluate(
        "Array.from(document.querySelectorAll('#mapper-links a')).map(a => a.getAttribute('href'))"
    )
    assert hrefs[0] == "factions.html" and all(h in out for h in hrefs)
    drawn = wait_until(tab, "() => window.mapperLabelsDrawn")
    assert drawn >= 2
    labelled = tab.evaluate(
        "() => JSON.parse(document.getElementById('mapper-data')"
        ".textContent).labels.map(l => l.fac)"
    )
    tab.uncheck(f'input[data-filter="faction"][value="{labelled[0]}"]')
    wait_until(tab, f"() => window.mapperLabelsDrawn === {drawn - 1}")
    tab.screenshot(path=str(_artifact("large-map-faction-labels.png")))
    # the overview opens a faction's own map on double-click
    _load(tab, tmp_path / "factions.html")
    target = tab.evaluate("window.mapperNodes.get({filter: n => n.link})[0]")
    tab.evaluate(
        "id => window.mapperNetwork.emit('doubleClick', {nodes: [id], edges: []})", target["id"]
    )
    tab.wait_for_url("**/" + target["link"])
    wait_until(tab, READY)
    faction = int(target["id"].split(":")[1])
    shown = tab.evaluate("window.mapperNodes.get().map(n => n.id)")
    assert shown and all(G.nodes[n]["faction"] == faction for n in shown)
    tab.click("#mapper-links a[href='factions.html']")
    tab.wait_for_url("**/factions.html")
    assert guard.errors == [] and guard.requests == []
