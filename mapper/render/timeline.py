"""The files of a timeline: a page with a time slider, an alluvial chart, tables, a
report and a dynamic GEXF for Gephi's timeline.

Everything written here is deterministic for a given :class:`~mapper.timeline.Timeline`
(positions come from one layout of the union graph with a fixed seed) and safe against
hostile text: the page carries its data as script-safe JSON
(:func:`mapper.render.maps.script_json`) and its script writes every text with
``textContent``; the Markdown escapes its special characters; the CSV cells are
neutralised for spreadsheets; the GEXF escapes XML and drops the characters XML 1.0
cannot hold.
"""

from __future__ import annotations

import base64
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from mapper.fsutil import write_text
from mapper.text import display_label, display_text
from mapper.timeline import (
    ALLIANCE_COLUMNS,
    BRIDGE_COLUMNS,
    EVENT_COLUMNS,
    FACTION_COLUMNS,
    MEMBERSHIP_COLUMNS,
    MOVE_COLUMNS,
    WINDOW_COLUMNS,
    Timeline,
)

__all__ = [
    "EDGE_LIMIT",
    "alluvial_png",
    "write_timeline",
    "write_timeline_gexf",
    "write_timeline_html",
    "write_timeline_md",
]

#: At most this many ties (the strongest) are drawn per window on the page.
EDGE_LIMIT = 4000
_UNASSIGNED_COLOUR = "#c7c7c7"


def write_timeline(
    timeline: Timeline,
    folder: str | Path,
    *,
    node_budget: int = 1500,
    seed: int = 0,
    title: str | None = None,
) -> dict[str, Path]:
    """Write every timeline file into ``folder``; returns name -> path."""
    from mapper.export import write_rows_csv

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    title = title or f"{timeline.project_name}: timeline"
    paths: dict[str, Path] = {}
    tables = {
        "windows.csv": (timeline.window_rows(), WINDOW_COLUMNS),
        "moves.csv": (timeline.moves, MOVE_COLUMNS),
        "nodes_by_window.csv": (timeline.memberships, MEMBERSHIP_COLUMNS),
        "factions_by_window.csv": (timeline.faction_rows, FACTION_COLUMNS),
        "faction_events.csv": (timeline.events, EVENT_COLUMNS),
        "bridges_by_window.csv": (timeline.bridge_rows, BRIDGE_COLUMNS),
        "alliances_by_window.csv": (timeline.alliance_rows, ALLIANCE_COLUMNS),
        "edges_by_window.csv": (_edge_rows(timeline), EDGE_COLUMNS),
        "warnings_by_window.csv": (timeline.warning_rows(), ("window", "code", "stage", "message")),
    }
    for name, (rows, columns) in tables.items():
        paths[name] = write_rows_csv(rows, folder / name, columns=columns)
    png = alluvial_png(timeline)
    png_path = folder / "timeline-alluvial.png"
    png_path.write_bytes(png)
    paths["timeline-alluvial.png"] = png_path
    paths["timeline.md"] = write_timeline_md(timeline, folder / "timeline.md", title=title)
    positions = _positions(timeline, node_budget=node_budget, seed=seed)
    paths["timeline.gexf"] = write_timeline_gexf(
        timeline, folder / "timeline.gexf", positions=positions
    )
    paths["timeline.html"] = write_timeline_html(
        timeline,
        folder / "timeline.html",
        title=title,
        node_budget=node_budget,
        seed=seed,
        alluvial=png,
    )
    import orjson

    paths["timeline.json"] = write_text(
        folder / "timeline.json",
        orjson.dumps(
            timeline.summary() | {"outputs": sorted(paths)}, option=orjson.OPT_INDENT_2
        ).decode()
        + "\n",
    )
    return paths


EDGE_COLUMNS = ("window", "start", "source", "target", "weight", "count", "first", "last")


def _edge_rows(timeline: Timeline) -> Iterable[dict[str, Any]]:
    for r in timeline.results:
        w = r.window
        for u, v, d in sorted(r.graph.edges(data=True), key=lambda e: (str(e[0]), str(e[1]))):
            yield {
                "window": w.key,
                "start": w.start.date().isoformat(),
                "source": u,
                "target": v,
                "weight": float(d.get("weight", 1.0)),
                "count": int(d.get("count", 1)),
                "first": d["first"].isoformat() if d.get("first") else "",
                "last": d["last"].isoformat() if d.get("last") else "",
            }


# ------------------------------------------------------------------------ alluvial


def _supported(timeline: Timeline) -> list[Any]:
    return [r for r in timeline.results if r.supported]


def alluvial_png(timeline: Timeline, *, dpi: int = 110) -> bytes:
    """An alluvial chart of faction membership over the supported windows, as PNG.

    Each supported window is a column of blocks, one per tracked faction (height: its
    members), in the factions' colours; bands between two columns carry the actors
    who were in one faction and then in the other.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    windows = _supported(timeline)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(windows) + 2), 5.5))
    if not windows:
        ax.text(0.5, 0.5, "No window with supported factions", ha="center", va="center")
        ax.set_axis_off()
        return _png(fig, dpi)
    gap = 0.02
    width = 0.12
    blocks: list[dict[int, tuple[float, float]]] = []
    members: list[dict[Any, int]] = []
    for r in windows:
        members.append({a: r.keys[f] for a, f in r.factions.partition.items() if f in r.keys})
    total = max(len(m) for m in members) or 1
    for keys in members:
        sizes = Counter(keys.values())
        y = 0.0
        out: dict[int, tuple[float, float]] = {}
        for key in sorted(sizes):
            h = sizes[key] / total
            out[key] = (y, y + h)
            y += h + gap
        blocks.append(out)
    for i, out in enumerate(blocks):
        for key, (lo, hi) in out.items():
            colour = timeline.factions[key].colour
            ax.add_patch(plt.Rectangle((i - width / 2, lo), width, hi - lo, color=colour, zorder=2))
    for i in range(len(windows) - 1):
        flows: Counter[tuple[int, int]] = Counter()
        for actor, key in members[i].items():
            nxt = members[i + 1].get(actor)
            if nxt is not None:
                flows[(key, nxt)] += 1
        out_y = {k: lo for k, (lo, _hi) in blocks[i].items()}
        in_y = {k: lo for k, (lo, _hi) in blocks[i + 1].items()}
        xs = np.linspace(i + width / 2, i + 1 - width / 2, 40)
        s = (xs - xs[0]) / (xs[-1] - xs[0])
        s = s * s * (3 - 2 * s)
        for (a, b), n in sorted(flows.items(), key=lambda f: (f[0][0], f[0][1])):
            h = n / total
            y0, y1 = out_y[a], in_y[b]
            out_y[a] += h
            in_y[b] += h
            bottom = y0 + (y1 - y0) * s
            ax.fill_between(
                xs, bottom, bottom + h, color=timeline.factions[a].colour, alpha=0.35, lw=0
            )
    ax.set_xticks(range(len(windows)))
    ax.set_xticklabels([r.window.start.strftime("%Y-%m-%d") for r in windows], rotation=30)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlim(-0.5, len(windows) - 0.5)
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=t.colour)
        for t in sorted(timeline.factions.values(), key=lambda t: t.key)
    ]
    names = [_short(t.name, 40) for t in sorted(timeline.factions.values(), key=lambda t: t.key)]
    if handles:
        ax.legend(handles[:20], names[:20], loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title("Faction membership by window (supported windows only)", fontsize=10)
    fig.tight_layout()
    return _png(fig, dpi)


def _png(fig: Any, dpi: int) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _short(text: str, limit: int) -> str:
    return display_label(text, max_length=limit)


# ------------------------------------------------------------------------ markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$#!])")


def _md(value: Any) -> str:
    """Text safe in a Markdown table cell: one line, special characters escaped."""
    text = display_text("" if value is None else value, one_line=True, max_length=300)
    return _MD_SPECIAL.sub(r"\\\1", text)


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> list[str]:
    if not rows:
        return ["(none)", ""]
    out = [
        "| " + " | ".join(title for _, title in columns) + " |",
        "|" + "---|" * len(columns),
    ]
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            if isinstance(value, float):
                value = f"{value:.3g}"
            cells.append(_md(value))
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    return out


def write_timeline_md(timeline: Timeline, path: str | Path, *, title: str) -> Path:
    """``timeline.md``: the windows, what changed between them, and the warnings."""
    lines = [f"# {_md(title)}", ""]
    s = timeline.summary()
    period = f"every {s['every']}" + (f", step {s['step']}" if s["step"] else "")
    lines += [
        f"{s['windows']} windows ({period if s['every'] else 'given windows'}), "
        f"{s['supported_windows']} with factions the data support; "
        f"{s['factions']} factions followed, {s['moves']} moves, {s['splits']} splits, "
        f"{s['merges']} merges.",
        "",
        "A window is *supported* when its factions pass the significance test of a whole "
        "run; other windows are too thin and tell no story. Factions are matched from one "
        "supported window to the next by their members (see docs/timeline.md).",
        "",
        "## Windows",
        "",
    ]
    lines += _table(
        timeline.window_rows(),
        [
            ("window", "window"),
            ("label", "dates"),
            ("references", "references"),
            ("actors", "actors"),
            ("factions", "factions"),
            ("z", "z"),
            ("supported", "supported"),
            ("reason", "why not"),
        ],
    )
    lines += ["## What happened to the factions", ""]
    lines += _table(
        timeline.events,
        [("window", "window"), ("start", "from"), ("event", "event"), ("detail", "detail")],
    )
    lines += ["## Moves", ""]
    lines += [
        "An actor moved when it was in one faction in a supported window and is in "
        "another in the next, clearly (a stable assignment, most of its partners on each "
        "side, a shift of its ties beyond chance once adjusted for the many actors "
        "tested) and for good (still there in the window after). The ties listed are "
        "those that drove the move, new ones first (rules: docs/timeline.md).",
        "",
    ]
    lines += _table(
        timeline.moves,
        [
            ("label", "actor"),
            ("from_faction", "from"),
            ("to_faction", "to"),
            ("to_window", "window"),
            ("date", "first new tie"),
            ("ties", "ties into the new faction"),
        ],
    )
    lines += ["## Factions over time", ""]
    by_faction: dict[str, dict[str, Any]] = defaultdict(dict)
    supported = [r.window.key for r in timeline.results if r.supported]
    for row in timeline.faction_rows:
        by_faction[row["faction"]][row["window"]] = row
    if by_faction and supported:
        lines.append("Members per supported window (cohesion in brackets).")
        lines.append("")
        lines.append("| faction | " + " | ".join(supported) + " |")
        lines.append("|---|" + "---|" * len(supported))
        for t in sorted(timeline.factions.values(), key=lambda t: t.key):
            cells = []
            for key in supported:
                row = by_faction.get(t.name, {}).get(key)
                cells.append("" if row is None else f"{row['size']} ({row['cohesion']:.2f})")
            lines.append(f"| {_md(t.name)} | " + " | ".join(cells) + " |")
        lines.append("")
    else:
        lines += ["(none)", ""]
    lines += ["## Bridge figures over time", ""]
    top = [r for r in timeline.bridge_rows if (r["rank"] or 99) <= 5]
    lines += _table(
        top,
        [("window", "window"), ("rank", "rank"), ("label", "actor"), ("faction", "faction")],
    )
    lines += ["## Alliance opportunities opened and closed", ""]
    changes = [r for r in timeline.alliance_rows if r["event"] != "open"]
    lines += _table(
        changes,
        [
            ("window", "window"),
            ("faction_a", "faction"),
            ("faction_b", "faction"),
            ("event", "event"),
            ("status", "verdict now"),
        ],
    )
    lines += ["## Warnings", ""]
    rows = timeline.warning_rows()
    lines += _table(rows, [("window", "window"), ("code", "code"), ("message", "message")])
    return write_text(path, "\n".join(lines).rstrip() + "\n")


# --------------------------------------------------------------------------- GEXF

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _attr(value: Any) -> str:
    return quoteattr(_XML_BAD.sub("", display_text(str(value), one_line=True)))


def _when(moment: Any, dates: bool) -> str:
    return moment.strftime("%Y-%m-%d") if dates else moment.strftime("%Y-%m-%dT%H:%M:%S")


def _span(start: Any, end: Any, dates: bool) -> str:
    """GEXF interval attributes of a window ``[start, end)``: whole-day windows as the
    first and last day, both included (what every GEXF reader takes); others with the
    end excluded (``endopen``)."""
    from datetime import timedelta

    if dates:
        last = end - timedelta(days=1)
        return f'start="{_when(start, True)}" end="{_when(last, True)}"'
    return f'start="{_when(start, False)}" endopen="{_when(end, False)}"'


def write_timeline_gexf(
    timeline: Timeline,
    path: str | Path,
    *,
    positions: dict[Any, tuple[float, float]] | None = None,
) -> Path:
    """A dynamic GEXF 1.2 graph Gephi's timeline reads: every actor and tie with the
    windows it appears in (``spells``, start included, end excluded) and, per window,
    the actor's faction and the tie's weight (dynamic attributes). ``positions`` (one
    layout for all windows) are written as ``viz:position``."""
    from mapper.timeline import _midnight

    results = timeline.results
    dates = all(_midnight(r.window.start) and _midnight(r.window.end) for r in results)
    fmt = "date" if dates else "dateTime"
    nodes: dict[Any, list[tuple[Any, Any, str]]] = defaultdict(list)
    edges: dict[tuple[Any, Any], list[tuple[Any, Any, float]]] = defaultdict(list)
    labels: dict[Any, str] = {}
    for i, r in enumerate(results):
        # sliding windows overlap, and a GEXF value holds over disjoint intervals only:
        # each window then stands for the time until the next one starts
        end = r.window.end
        if i + 1 < len(results) and results[i + 1].window.start < end:
            end = results[i + 1].window.start
        for actor in r.graph.nodes:
            key = r.faction_of(actor)
            name = timeline.factions[key].name if key is not None else ""
            nodes[actor].append((r.window.start, end, name))
            labels.setdefault(actor, str(r.graph.nodes[actor].get("label") or actor))
        for u, v, d in r.graph.edges(data=True):
            edges[(u, v)].append((r.window.start, end, float(d.get("weight", 1.0))))
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gexf xmlns="http://www.gexf.net/1.2draft" '
        'xmlns:viz="http://www.gexf.net/1.2draft/viz" version="1.2">',
        f"  <meta><creator>mapper</creator><description>{escape(timeline.project_name)}"
        " timeline</description></meta>",
        f'  <graph mode="dynamic" defaultedgetype="directed" timeformat="{fmt}" '
        'timerepresentation="interval">',
        '    <attributes class="node" mode="dynamic">',
        '      <attribute id="faction" title="faction" type="string"/>',
        "    </attributes>",
        '    <attributes class="edge" mode="dynamic">',
        '      <attribute id="weight" title="weight" type="double"/>',
        "    </attributes>",
        "    <nodes>",
    ]
    for actor in sorted(nodes, key=str):
        spans = nodes[actor]
        out.append(f"      <node id={_attr(actor)} label={_attr(labels[actor])}>")
        out.append("        <attvalues>")
        for start, end, name in spans:
            out.append(
                f'          <attvalue for="faction" value={_attr(name)} '
                f"{_span(start, end, dates)}/>"
            )
        out.append("        </attvalues>")
        out.append("        <spells>")
        for start, end, _ in spans:
            out.append(f"          <spell {_span(start, end, dates)}/>")
        out.append("        </spells>")
        if positions and actor in positions:
            x, y = positions[actor]
            out.append(f'        <viz:position x="{x:g}" y="{-y:g}" z="0"/>')
        out.append("      </node>")
    out.append("    </nodes>")
    out.append("    <edges>")
    for i, (u, v) in enumerate(sorted(edges, key=lambda e: (str(e[0]), str(e[1])))):
        spans = edges[(u, v)]
        out.append(f'      <edge id="{i}" source={_attr(u)} target={_attr(v)}>')
        out.append("        <attvalues>")
        for start, end, weight in spans:
            out.append(
                f'          <attvalue for="weight" value="{weight:g}" {_span(start, end, dates)}/>'
            )
        out.append("        </attvalues>")
        out.append("        <spells>")
        for start, end, _ in spans:
            out.append(f"          <spell {_span(start, end, dates)}/>")
        out.append("        </spells>")
        out.append("      </edge>")
    out += ["    </edges>", "  </graph>", "</gexf>", ""]
    return write_text(path, "\n".join(out))


# --------------------------------------------------------------------------- page


def _positions(
    timeline: Timeline, *, node_budget: int, seed: int
) -> dict[Any, tuple[float, float]]:
    """One layout of the union graph, for every window (cached on the timeline)."""
    from mapper.render.layout import map_positions

    cache = getattr(timeline, "_positions", None)
    if cache is not None and cache[0] == (node_budget, seed):
        return cache[1]
    pos = map_positions(timeline.union, node_budget=node_budget, seed=seed)
    timeline._positions = ((node_budget, seed), pos)  # type: ignore[attr-defined]
    return pos


def _payload(timeline: Timeline, *, node_budget: int, seed: int) -> dict[str, Any]:
    from mapper.render.layout import select_view

    union = timeline.union
    shown: list[Any] = []
    pos: dict[Any, tuple[float, float]] = {}
    if union.number_of_nodes():
        view = select_view(union, node_budget=node_budget)
        shown = sorted(view.nodes, key=str)
        pos = _positions(timeline, node_budget=node_budget, seed=seed)
    index = {a: i for i, a in enumerate(shown)}
    nodes = [
        {
            "id": str(a),
            "label": display_label(union.nodes[a].get("label") or a, max_length=80),
            "x": pos.get(a, (0.0, 0.0))[0],
            "y": pos.get(a, (0.0, 0.0))[1],
        }
        for a in shown
    ]
    moves_by: dict[str, list[dict[str, str]]] = defaultdict(list)
    for m in timeline.moves:
        moves_by[m["to_window"]].append(
            {
                "actor": display_label(m["label"], max_length=80),
                "from": m["from_faction"],
                "to": m["to_faction"],
                "date": m["date"],
                "ties": display_text(m["ties"], one_line=True, max_length=300),
            }
        )
    events_by: dict[str, list[str]] = defaultdict(list)
    for e in timeline.events:
        events_by[e["window"]].append(display_text(e["detail"], one_line=True, max_length=300))
    windows = []
    for r in timeline.results:
        w = r.window
        factions = []
        colours = []
        for a in shown:
            key = r.faction_of(a) if a in r.graph else None
            factions.append(-1 if key is None else key)
            colours.append(a in r.graph)
        ties = sorted(
            (
                (float(d.get("weight", 1.0)), index[u], index[v])
                for u, v, d in r.graph.edges(data=True)
                if u in index and v in index
            ),
            key=lambda t: (-t[0], t[1], t[2]),
        )[:EDGE_LIMIT]
        windows.append(
            {
                "key": w.key,
                "label": w.label,
                "supported": r.supported,
                "reason": display_text(r.reason, one_line=True, max_length=400),
                "actors": r.graph.number_of_nodes(),
                "ties": r.graph.number_of_edges(),
                "references": r.references,
                "faction": factions,
                "present": [1 if p else 0 for p in colours],
                "edges": [[i, j, round(wt, 3)] for wt, i, j in ties],
                "moves": moves_by.get(w.key, []),
                "movers": sorted(
                    index[m["actor"]]
                    for m in timeline.moves
                    if m["to_window"] == w.key and m["actor"] in index
                ),
                "events": events_by.get(w.key, []),
                "warnings": list(
                    dict.fromkeys(
                        display_text(x.message, one_line=True, max_length=400) for x in r.warnings
                    )
                ),
            }
        )
    return {
        "nodes": nodes,
        "factions": {
            str(t.key): {"name": display_label(t.name, max_length=80), "colour": t.colour}
            for t in timeline.factions.values()
        },
        "windows": windows,
        "hidden": max(0, union.number_of_nodes() - len(shown)),
        "warnings": [
            display_text(w.message, one_line=True, max_length=400) for w in timeline.warnings
        ],
    }


_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("timeline-data").textContent);
  var svg = document.getElementById("map");
  var NS = "http://www.w3.org/2000/svg";
  var slider = document.getElementById("slider");
  var xs = data.nodes.map(function (n) { return n.x; });
  var ys = data.nodes.map(function (n) { return n.y; });
  var minX = Math.min.apply(null, xs.concat([0])), maxX = Math.max.apply(null, xs.concat([1]));
  var minY = Math.min.apply(null, ys.concat([0])), maxY = Math.max.apply(null, ys.concat([1]));
  var W = 900, H = 620, pad = 20;
  function px(x) { return pad + (x - minX) / ((maxX - minX) || 1) * (W - 2 * pad); }
  function py(y) { return pad + (y - minY) / ((maxY - minY) || 1) * (H - 2 * pad); }
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  var edgeLayer = document.createElementNS(NS, "g");
  var nodeLayer = document.createElementNS(NS, "g");
  var labelLayer = document.createElementNS(NS, "g");
  svg.appendChild(edgeLayer);
  svg.appendChild(nodeLayer);
  svg.appendChild(labelLayer);
  var circles = data.nodes.map(function (n) {
    var c = document.createElementNS(NS, "circle");
    c.setAttribute("cx", px(n.x));
    c.setAttribute("cy", py(n.y));
    c.setAttribute("r", 5);
    var t = document.createElementNS(NS, "title");
    c.appendChild(t);
    nodeLayer.appendChild(c);
    return c;
  });
  function text(id, value) { document.getElementById(id).textContent = value; }
  function list(id, items) {
    var ul = document.getElementById(id);
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    items.forEach(function (s) {
      var li = document.createElement("li");
      li.textContent = s;
      ul.appendChild(li);
    });
    if (!items.length) {
      var li = document.createElement("li");
      li.textContent = "(none)";
      ul.appendChild(li);
    }
  }
  function show(i) {
    var w = data.windows[i];
    text("window-label", w.key + ": " + w.label);
    text("window-counts", w.references + " references, " + w.actors + " actors, " +
      w.ties + " ties");
    var thin = document.getElementById("thin");
    if (w.supported) {
      thin.hidden = true;
      thin.textContent = "";
    } else {
      thin.hidden = false;
      thin.textContent = "Too thin to tell a story: " + w.reason +
        ". Actors are shown grey; no faction is named or moved from this window.";
    }
    while (edgeLayer.firstChild) { edgeLayer.removeChild(edgeLayer.firstChild); }
    w.edges.forEach(function (e) {
      var a = data.nodes[e[0]], b = data.nodes[e[1]];
      var l = document.createElementNS(NS, "line");
      l.setAttribute("x1", px(a.x)); l.setAttribute("y1", py(a.y));
      l.setAttribute("x2", px(b.x)); l.setAttribute("y2", py(b.y));
      l.setAttribute("stroke", "#999");
      l.setAttribute("stroke-opacity", "0.35");
      l.setAttribute("stroke-width", Math.min(4, 0.5 + Math.log(1 + e[2])));
      edgeLayer.appendChild(l);
    });
    circles.forEach(function (c, j) {
      var key = w.faction[j];
      var present = w.present[j];
      var f = key >= 0 ? data.factions[String(key)] : null;
      c.setAttribute("fill", f ? f.colour : "#c7c7c7");
      c.setAttribute("fill-opacity", present ? "1" : "0.12");
      c.setAttribute("stroke", present ? "#333" : "none");
      c.firstChild.textContent = data.nodes[j].label + (f ? " (" + f.name + ")" :
        (present ? " (no faction)" : " (not active in this window)"));
    });
    while (labelLayer.firstChild) { labelLayer.removeChild(labelLayer.firstChild); }
    circles.forEach(function (c) { c.setAttribute("r", 5); c.setAttribute("stroke-width", 1); });
    w.movers.forEach(function (j) {
      var c = circles[j];
      c.setAttribute("r", 8);
      c.setAttribute("stroke", "#000");
      c.setAttribute("stroke-width", 2.5);
      var t = document.createElementNS(NS, "text");
      t.setAttribute("x", Number(c.getAttribute("cx")) + 10);
      t.setAttribute("y", Number(c.getAttribute("cy")) + 4);
      t.setAttribute("font-size", "13");
      t.textContent = data.nodes[j].label;
      labelLayer.appendChild(t);
    });
    var legend = {};
    w.faction.forEach(function (k) { if (k >= 0) { legend[k] = (legend[k] || 0) + 1; } });
    list("legend", Object.keys(legend).sort(function (a, b) { return a - b; }).map(function (k) {
      return data.factions[k].name + ": " + legend[k] + " shown";
    }));
    list("moves", w.moves.map(function (m) {
      var when = m.date ? " (from " + m.date + ")" : "";
      return m.actor + ": " + m.from + " \u2192 " + m.to + when + "; ties: " + m.ties;
    }));
    list("events", w.events);
    list("warnings", w.warnings);
    slider.setAttribute("aria-valuetext", w.label);
  }
  slider.max = String(data.windows.length - 1);
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  list("global-warnings", data.warnings);
  if (data.hidden) {
    text("hidden", data.hidden + " less active actors are not drawn (see nodes_by_window.csv).");
  }
  show(0);
  window.mapperReady = true;
})();
"""


def write_timeline_html(
    timeline: Timeline,
    path: str | Path,
    *,
    title: str,
    node_budget: int = 1500,
    seed: int = 0,
    alluvial: bytes | None = None,
) -> Path:
    """``timeline.html``: the map of each window under a time slider (one layout for
    all windows, so movement shows), the moves and faction events of the window shown,
    its warnings, and the alluvial chart. Offline: no file or network is loaded."""
    from mapper.render.maps import content_security_policy, script_json

    payload = _payload(timeline, node_budget=node_budget, seed=seed)
    script = _SCRIPT
    csp = content_security_policy(script)
    image = ""
    if alluvial:
        encoded = base64.b64encode(alluvial).decode("ascii")
        image = (
            '<h2>Faction membership over time</h2>\n<img alt="Alluvial chart of faction '
            f'membership by window" src="data:image/png;base64,{encoded}">'
        )
    n = max(0, len(payload["windows"]) - 1)
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(display_text(title, one_line=True, max_length=200))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1em 2em; color: #222; }}
#map {{ width: 100%; max-width: 900px; height: auto; border: 1px solid #ddd; background: #fff; }}
#thin {{ background: #fff3cd; border: 1px solid #e0c060; padding: .5em; max-width: 880px; }}
.row {{ display: flex; gap: 2em; flex-wrap: wrap; }}
.row > div {{ min-width: 280px; max-width: 600px; }}
img {{ max-width: 100%; }}
input[type=range] {{ width: 100%; max-width: 900px; }}
</style></head>
<body>
<h1>{escape(display_text(title, one_line=True, max_length=200))}</h1>
<p>Drag the slider to move through the windows. Positions are the same in every window:
an actor who changes colour changed faction. The actors who moved into the window shown
are circled and named. Grey actors have no faction in the window; faded actors are not
active in it.</p>
<input id="slider" type="range" min="0" max="{n}" value="0" step="1" aria-label="window">
<h2 id="window-label"></h2>
<p id="window-counts"></p>
<p id="thin" hidden></p>
<svg id="map" role="img" aria-label="network map of the window"></svg>
<p id="hidden"></p>
<div class="row">
<div><h3>Factions in this window</h3><ul id="legend"></ul></div>
<div><h3>Moves into this window</h3><ul id="moves"></ul></div>
<div><h3>Faction events</h3><ul id="events"></ul></div>
<div><h3>Warnings of this window</h3><ul id="warnings"></ul></div>
</div>
<h3>Warnings of the timeline</h3><ul id="global-warnings"></ul>
{image}
<script type="application/json" id="timeline-data">{script_json(payload)}</script>
<script>{script}</script>
</body></html>
"""
    return write_text(path, html)
