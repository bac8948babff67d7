"""Helpers for the render tests: synthetic analysed graphs, hostile text, and a
headless Chromium that is refused every network request.

The graph builders produce exactly the node and edge attributes the render layer
reads (see docs/architecture.md), so the tests do not depend on the graph and
analysis stages.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: Hostile strings, each trying one injection route.
HOSTILE_IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE_SCRIPT = "</script><script>window.__pwned=2</script>"
HOSTILE_ATTR = '" onmouseover="window.__pwned=3'
HOSTILE_HREF = '<a href="javascript:window.__pwned=4">click</a>'

FACTION_NAMES = ["Labour left", "Green-Lib", "Centrist Labour", "Nationalists", "Unions"]
KINDS = [
    "commentator",
    "commentator",
    "commentator",
    "mp",
    "organisation",
    "media",
    "party",
    "union",
    "campaign",
    "other",
]
PARTIES = ["Labour", "Green", "Liberal Democrat", "SNP", "Plaid Cymru", ""]
FIRST = [
    "Alex",
    "Sam",
    "Jo",
    "Priya",
    "Owen",
    "Caroline",
    "Tom",
    "Nadia",
    "Clive",
    "Zoe",
    "Rhys",
    "Aisha",
    "Gary",
    "Helen",
    "Ivan",
    "Kate",
    "Lewis",
    "Mona",
    "Neil",
    "Ruth",
]
LAST = [
    "Morgan",
    "Jones",
    "Lucas",
    "Khan",
    "Patel",
    "Evans",
    "Hughes",
    "Reid",
    "Shah",
    "Walsh",
    "Ward",
    "Price",
    "Cole",
    "Baker",
    "Doyle",
    "Fox",
    "Grant",
    "Hale",
    "Irwin",
    "Kerr",
    "Lamb",
    "Moss",
    "Nash",
    "Owen",
    "Pike",
]
SNIPPETS = [
    "A progressive alliance is the only way to beat the Tories in marginal seats.",
    "Electoral pacts rarely survive contact with local parties.",
    "Why won't Labour talk to the Greens about Richmond Park?",
    "Proportional representation has to be the price of any deal.",
    "Unite the left or lose again in 2020.",
]


def actor_name(i: int) -> str:
    """A unique, realistic-looking display name for actor number ``i``."""
    name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]}"
    return name if i < len(FIRST) * len(LAST) else f"{name} {i}"


def make_graph(
    n: int = 80,
    factions: int = 4,
    *,
    seed: int = 1,
    degree: float = 4.0,
    analysed: bool = True,
) -> nx.DiGraph:
    """Return a planted, analysed influence graph with ``n`` actors.

    Parameters
    ----------
    n : int
        Number of actors.
    factions : int
        Number of planted factions.
    seed : int
        Random seed.
    degree : float
        Average out-degree.
    analysed : bool
        Whether to add the analysis attributes (faction, influence, bridges).
    """
    rng = random.Random(seed)
    G = nx.DiGraph(name="synthetic")
    members: dict[int, list[str]] = {f: [] for f in range(factions)}
    for i in range(n):
        faction = i % factions if i < factions * 2 else rng.randrange(factions)
        actor = f"actor-{i:05d}"
        members[faction].append(actor)
        kind = KINDS[i % len(KINDS)]
        G.add_node(
            actor,
            label=actor_name(i),
            kind=kind,
            party=PARTIES[faction % len(PARTIES)],
            declared_faction=FACTION_NAMES[faction % len(FACTION_NAMES)],
            provisional=(i % 17 == 16),
            topics={"issue:progressive-alliance": rng.randint(1, 9), "#pr": rng.randint(0, 4)},
            x="",
        )
        G.nodes[actor]["_faction"] = faction
    start = datetime(2016, 5, 1, tzinfo=UTC)
    nodes = list(G.nodes)
    for u in nodes:
        fu = G.nodes[u]["_faction"]
        for _ in range(max(1, int(rng.expovariate(1 / degree)))):
            v = rng.choice(members[fu]) if rng.random() < 0.85 else rng.choice(nodes)
            if u == v:
                continue
            kind = rng.choice(["mention", "reply", "repost", "quote", "link", "name"])
            if G.has_edge(u, v):
                data = G.edges[u, v]
                data[kind] += 1
                data["count"] += 1
                data["weight"] += 1.0
                continue
            first = start + timedelta(days=rng.randint(0, 120))
            counts = dict.fromkeys(["mention", "reply", "repost", "quote", "link", "name"], 0)
            counts[kind] = 1
            G.add_edge(
                u,
                v,
                weight=1.0,
                count=1,
                first=first,
                last=first + timedelta(days=rng.randint(0, 30)),
                evidence=[
                    {
                        "post": f"x:{rng.randint(10**9, 10**10)}",
                        "type": kind,
                        "url": f"https://x.com/i/status/{rng.randint(10**9, 10**10)}",
                        "time": first,
                        "snippet": rng.choice(SNIPPETS),
                    }
                ],
                **counts,
            )
    if not analysed:
        for node in nodes:
            del G.nodes[node]["_faction"]
        return G
    pr = nx.pagerank(G, weight="weight")
    for node in nodes:
        data = G.nodes[node]
        faction = data.pop("_faction")
        data["influence"] = pr[node]
        data["faction"] = faction
        data["faction_name"] = FACTION_NAMES[faction % len(FACTION_NAMES)]
        data["stability"] = 0.9
        data["bridge_score"] = 0.0
        data["is_bridge"] = False
        data["role"] = "peripheral"
        data["betweenness"] = 0.0
        data["participation"] = 0.0
    # Bridges: the actors with most ties outside their faction.
    cross = {
        node: sum(
            1
            for nb in set(G.successors(node)) | set(G.predecessors(node))
            if G.nodes[nb]["faction"] != G.nodes[node]["faction"]
        )
        for node in nodes
    }
    ranked = sorted(nodes, key=lambda a: (-cross[a], a))[: max(2, n // 20)]
    for rank, node in enumerate(ranked):
        G.nodes[node]["is_bridge"] = True
        G.nodes[node]["bridge_score"] = round(1.0 - rank / (len(ranked) + 1), 3)
        G.nodes[node]["role"] = "connector"
        G.nodes[node]["participation"] = 0.6
    return G


def make_hostile_graph() -> nx.DiGraph:
    """A small analysed graph whose text fields carry every hostile string."""
    G = make_graph(12, 3, seed=5)
    nodes = list(G.nodes)
    G.nodes[nodes[0]]["label"] = HOSTILE_IMG
    G.nodes[nodes[1]]["label"] = HOSTILE_SCRIPT
    G.nodes[nodes[2]]["label"] = HOSTILE_ATTR
    G.nodes[nodes[3]]["label"] = "Mr href " + HOSTILE_HREF
    G.nodes[nodes[4]]["party"] = HOSTILE_IMG
    G.nodes[nodes[5]]["kind"] = HOSTILE_SCRIPT
    for node in nodes:
        if G.nodes[node]["faction"] == 0:
            G.nodes[node]["faction_name"] = HOSTILE_SCRIPT + HOSTILE_IMG
        elif G.nodes[node]["faction"] == 1:
            G.nodes[node]["faction_name"] = HOSTILE_ATTR + " href"
    for i, (_u, _v, data) in enumerate(G.edges(data=True)):
        hostile = [HOSTILE_IMG, HOSTILE_SCRIPT, HOSTILE_ATTR, HOSTILE_HREF][i % 4]
        data["evidence"] = [
            {
                "post": "x:1",
                "type": "mention",
                "url": 'javascript:alert(1)"><img src=x>',
                "time": datetime(2016, 6, 1, tzinfo=UTC),
                "snippet": "said " + hostile,
            }
        ]
    return G


def hostile_report(G: nx.DiGraph) -> dict[str, Any]:
    """An alliance report whose reasons and shared topics are hostile."""
    nodes = list(G.nodes)
    return {
        "pairs": [{"a": 0, "b": 1, "ties": 3, "reason": HOSTILE_IMG}],
        "opportunities": [
            {
                "a": 0,
                "b": 2,
                "score": 0.8,
                "similarity": 0.6,
                "shared": [HOSTILE_SCRIPT, "#pr"],
                "reason": HOSTILE_ATTR + " and " + HOSTILE_HREF,
            }
        ],
        "introductions": [
            {
                "source": nodes[0],
                "target": nodes[2],
                "broker": nodes[1],
                "score": 0.5,
                "reason": HOSTILE_IMG,
                "faction_a": 0,
                "faction_b": 2,
            }
        ],
    }


_DATA = re.compile(r'<script type="application/json" id="mapper-data">(.*?)</script>', re.S)


def page_data(html: str) -> dict[str, Any]:
    """Return the JSON payload (nodes, edges, options) embedded in a written map."""
    match = _DATA.search(html)
    assert match, "no mapper-data script in the page"
    return json.loads(match.group(1))


def chromium_path() -> str | None:
    """Path of a Chromium executable, or None."""
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Offline:
    """Attach to a Playwright page: abort every non-file request and record it, and
    collect console errors, page errors and dialogs."""

    def __init__(self, page: Any) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.route("**/*", self._route)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("dialog", self._dialog)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def iter_pages(folder: Path) -> Iterator[Path]:
    """Every HTML page under ``folder``."""
    yield from sorted(folder.rglob("*.html"))


#: Bidirectional controls and zero-width characters (issue 13, item 8).
HIDDEN_CHARS = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u200d\u2060\ufeff"
)


def sprinkle(text: str, rng: random.Random, rate: float = 0.3) -> str:
    """``text`` with bidi controls and zero-width characters inserted at random."""
    out = []
    for char in text:
        if rng.random() < rate:
            out.append(rng.choice(HIDDEN_CHARS))
        out.append(char)
    return "".join(out) + rng.choice(HIDDEN_CHARS)


def make_bidi_graph(seed: int, n: int = 60, factions: int = 4) -> nx.DiGraph:
    """An analysed graph whose every text field carries hidden characters."""
    rng = random.Random(seed)
    G = make_graph(n, factions, seed=seed)
    G.graph["name"] = sprinkle("Hidden characters test", rng)
    names = {f: sprinkle(f"Faction {f} \u202eylno", rng) for f in range(factions)}
    for _node, data in G.nodes(data=True):
        data["label"] = sprinkle(data["label"], rng)
        data["party"] = sprinkle(data["party"] or "Independent", rng)
        data["declared_faction"] = sprinkle(data["declared_faction"], rng)
        data["role"] = sprinkle(data["role"], rng)
        data["faction_name"] = names[data["faction"]]
        data["topics"] = {sprinkle("#pr", rng): 3}
    for _u, _v, data in G.edges(data=True):
        for item in data["evidence"]:
            item["snippet"] = sprinkle(item["snippet"], rng, 0.1)
    return G


def make_many_factions(
    n: int, factions: int, *, seed: int = 1, unassigned: int = 0, degree: float = 4.0
) -> nx.DiGraph:
    """An analysed graph with ``factions`` factions of uneven sizes, each with its own
    name, and ``unassigned`` actors without a faction (``faction_name`` "unassigned")."""
    rng = random.Random(seed)
    G = make_graph(n, factions, seed=seed, degree=degree)
    weights = [1.0 / (1 + i) ** 0.7 for i in range(factions)]
    nodes = list(G.nodes)
    for node in nodes:  # uneven sizes: reassign by a Zipf-like draw
        G.nodes[node]["faction"] = rng.choices(range(factions), weights)[0]
    for node in nodes:
        G.nodes[node]["faction_name"] = f"Group {G.nodes[node]['faction']:03d}"
    for node in rng.sample(nodes, unassigned):
        del G.nodes[node]["faction"]
        G.nodes[node]["faction_name"] = "unassigned"
    return G
