"""Render ``benchmarks/RESULTS.md`` from the recorded benchmark figures.

Reads, from ``benchmarks/results/``:

- ``10k.json``, ``100k.json``, ``1m.json``, ``10m.json``: ``python benchmarks/run.py
  --size S --write`` (or ``--json benchmarks/results/S.json``); with twarc-network
  installed (``pip install -e '.[bench]'``) they hold its figures on the same archive;
- ``dask-1m.json`` (optional): ``{"seconds", "workers", "same_outputs", "note"}`` of
  ``mapper run --engine dask`` on the 1M archive, for the targets table;
- ``factions_planted.jsonl``: ``python benchmarks/factions_planted.py --methods
  detect_factions,igraph-leiden --json > benchmarks/results/factions_planted.jsonl``;
- ``bridges_scale.json``: ``python benchmarks/bridges_scale.py --nodes 100000
  --factions 100 --json > benchmarks/results/bridges_scale.json``;
- ``covoting_scale.json``: ``python benchmarks/covoting_scale.py --json >
  benchmarks/results/covoting_scale.json`` (650 MPs, 1,000 divisions);
- ``exports_scale-<size>.json`` (optional): ``python benchmarks/exports_scale.py
  --store DIR/out/store.sqlite --roster ... --archive ... --json ...`` on the store a
  harness run kept (``--workdir DIR``): one graph exported whole and reduced;
- ``notes.json`` (optional): ``{"targets": {target key: why}, "notes": [paragraphs]}``,
  the explanations a person writes (why a target is missed, what the load was);
- ``before-<size>.json`` (optional): the same harness's figures for the code before
  the performance work (``"note"`` says where they come from), for a before/after
  table;

and the browser test's records of the 5,000-actor map page
(``test-artifacts/map-5000-actors-budget-*.json``, from ``pytest tests/test_browser.py``).
Any file may be missing: its section is left out.

Sections other jobs add to ``RESULTS.md`` by hand are kept: a ``## Dask``, ``## Timeline`` or
``## Significance test on random graphs`` section
of the existing file is carried over to the end of the new one, and every
``benchmarks/results/*.md`` snippet is appended (in name order). Usage::

    python benchmarks/report.py            # writes benchmarks/RESULTS.md
    python benchmarks/report.py --stdout
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
RESULTS_MD = HERE / "RESULTS.md"
ARTIFACTS = HERE.parent / "test-artifacts"
SIZES = ("10k", "100k", "1m", "10m")
_GROUP = {
    "import": "import",
    "resolve": "resolve + graph",
    "graph": "resolve + graph",
    "factions": "analysis",
    "bridges": "analysis",
    "alliances": "analysis",
    "layout": "analysis",
    "tables": "outputs",
    "maps": "outputs",
    "exports": "outputs",
}
STAGES = (
    ("import", "import (parse + store)"),
    ("resolve", "resolve"),
    ("graph", "graph"),
    ("factions", "factions"),
    ("bridges", "bridges"),
    ("alliances", "alliances"),
    ("layout", "layout (positions for the maps and Gephi)"),
    ("tables", "tables"),
    ("maps", "maps"),
    ("exports", "exports"),
)


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    rows = []
    for line in lines:
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


def _s(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _machine(runs: dict[str, dict[str, Any]]) -> list[str]:
    first = next(iter(runs.values()))
    m = first.get("machine", {})
    lines = ["## Machine", ""]
    lines.append(
        f"- {m.get('cores', '?')} cores, {m.get('memory_gb', '?')} GB memory, "
        f"Python {m.get('python', '?')}, {m.get('platform', '?')}"
    )
    versions = m.get("versions", {})
    if versions:
        lines.append("- " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for size, run in runs.items():
        loads = [st.get("load_1m") for st in run["stages"].values() if st.get("load_1m")]
        if loads:
            lines.append(
                f"- load (1-minute average, other jobs included) during the {size} run "
                f"(started {run.get('started', '?')}): {min(loads):.2f} to {max(loads):.2f}"
            )
    lines.append("")
    return lines


def _size_section(size: str, run: dict[str, Any]) -> list[str]:
    st = run["stages"]
    g = run.get("graph", {})
    lines = [
        f"## {size}: {run['posts']:,} posts",
        "",
        f"{run.get('accounts', 0):,} accounts in the archive ({run.get('archive_mb', '?')} MB); "
        f"graph of {g.get('actors', 0):,} actors and {g.get('ties', 0):,} ties; "
        f"{run.get('factions_found', '?')} factions found; betweenness "
        f"{run.get('betweenness_method', '?')}.",
        "",
    ]
    rows = []
    for key, label in STAGES:
        if key in st:
            group = st.get(_GROUP[key], {})
            rows.append(
                [
                    label,
                    _s(st[key]["seconds"], 2),
                    _s(group.get("peak_rss_mb")),
                    _s(group.get("load_1m"), 2),
                ]
            )
    rows.append(
        [
            "**whole pipeline**",
            f"**{_s(run.get('whole_pipeline_s'), 2)}**",
            f"**{_s(run.get('peak_rss_mb'))}**",
            "",
        ]
    )
    for key, label in (
        ("bare orjson parse", "reference: bare orjson parse of the archive"),
        ("re-import unchanged", "re-import of the unchanged archive"),
    ):
        if key in st:
            rows.append([label, _s(st[key]["seconds"], 2), "", _s(st[key].get("load_1m"), 2)])
    lines += _table(
        ["stage", "seconds", "peak RSS after its group (MB)", "load after its group"], rows
    )
    lines.append("")
    lines.append(
        "Groups (timed as a whole, with peak RSS and load read at their end): import; "
        "resolve + graph; analysis (factions, bridges, alliances, layout); outputs "
        "(tables, maps, exports)."
    )
    if run.get("children_peak_rss_mb"):
        lines.append(
            f"Largest forked helper process (parallel runs): {_s(run['children_peak_rss_mb'])} "
            "MB peak RSS."
        )
    tw = run.get("twarc_network") or {}
    if tw.get("graph_s") is not None:
        lines.append(
            f"twarc-network {tw.get('version')} (twarc {tw.get('twarc')}) on the same archive: "
            f"graph in {_s(tw['graph_s'], 2)} s ({_s(tw.get('vs_parse'), 2)}x the bare parse), "
            f"{tw.get('nodes', 0):,} users and {tw.get('edges', 0):,} edges, peak RSS "
            f"{_s(tw.get('peak_rss_mb'))} MB (load {_s(tw.get('load_1m'), 2)})."
        )
    if run.get("graph_files"):
        lines.append(f"GEXF, GraphML and JSON: {run['graph_files']}")
    if run.get("output_mb"):
        sizes = ", ".join(f"{k} {v} MB" for k, v in run["output_mb"].items())
        total = sum(run["output_mb"].values())
        lines.append(f"Output files ({total:,.1f} MB): {sizes}.")
    lines.append("")
    return lines


def _before_after(runs: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]]) -> list[str]:
    """Stage by stage against ``before-<size>.json`` (the same harness run on the
    code before the performance work, or figures recorded from it)."""
    lines: list[str] = []
    for size, old in before.items():
        new = runs.get(size)
        if not new:
            continue
        lines += [f"## Before and after: {size}", ""]
        if old.get("note"):
            lines += [old["note"], ""]
        rows = []
        for key, label in (("import", "import"), *STAGES[1:]):
            a = old.get("stages", {}).get(key, {}).get("seconds")
            b = new["stages"].get(key, {}).get("seconds")
            if a is None and b is None:
                continue
            ratio = f"{a / b:.1f}x" if a and b else ""
            rows.append([label, _s(a, 2), _s(b, 2), ratio])
        a, b = old.get("whole_pipeline_s"), new.get("whole_pipeline_s")
        rows.append(
            [
                "**whole pipeline**",
                f"**{_s(a, 1)}**",
                f"**{_s(b, 1)}**",
                f"**{a / b:.1f}x**" if a and b else "",
            ]
        )
        rows.append(["peak RSS (MB)", _s(old.get("peak_rss_mb")), _s(new.get("peak_rss_mb")), ""])
        lines += _table(["stage", "before (s)", "after (s)", "speed-up"], rows)
        lines.append("")
    return lines


def _ratios(runs: dict[str, dict[str, Any]]) -> list[str]:
    rows = []
    for size, run in runs.items():
        st = run["stages"]
        ll = run.get("louvain_vs_leiden") or {}
        bt = run.get("betweenness") or {}
        nm = run.get("names") or {}
        rows.append(
            [
                size,
                f"{_s(run.get('import_plus_graph_vs_parse'), 2)}x "
                f"({_s(st['import']['seconds'] + st['resolve + graph']['seconds'], 2)} s vs "
                f"{_s(st['bare orjson parse']['seconds'], 2)} s)",
                (
                    f"{_s(ll.get('python_louvain_s'), 2)} s / Q {ll.get('python_louvain_q')} vs "
                    f"{_s(ll.get('igraph_leiden_s'), 2)} s / Q {ll.get('igraph_leiden_q')}"
                    if ll
                    else "–"
                ),
                (
                    f"{bt.get('nodes', 0):,} actors: exact {_s(bt.get('exact_s'), 2)} s vs "
                    f"sampled (k=500) {_s(bt.get('sampled_k500_s'), 2)} s; top-20 overlap "
                    f"{bt.get('top20_overlap')}/20"
                    if bt
                    else "–"
                ),
                f"{nm.get('mb_per_s')} MB/s ({nm.get('aliases', 0):,} aliases)" if nm else "–",
            ]
        )
    lines = ["## Reference points measured in the same runs", ""]
    lines += _table(
        [
            "size",
            "import + graph vs bare parse",
            "python-louvain vs igraph Leiden (time, modularity)",
            "exact vs sampled betweenness",
            "names",
        ],
        rows,
    )
    lines.append("")
    return lines


def _factions(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    header = rows[0] if "method" not in rows[0] else {}
    lines = ["## Factions on a planted graph (`benchmarks/factions_planted.py`)", ""]
    if header:
        lines.append(
            f"{header.get('nodes', 0):,} actors, {header.get('factions')} planted factions, "
            f"{header.get('edges', 0):,} ties, {header.get('cross_fraction')} of ties across "
            f"(planted modularity {header.get('planted_modularity')})."
        )
        lines.append("")
    table = [
        [
            str(r["method"]),
            _s(r.get("seconds"), 2),
            _s(r.get("modularity"), 4),
            _s(r.get("nmi"), 4),
            str(r.get("factions", "")),
            _s(r.get("load_1m"), 2) if r.get("load_1m") is not None else "",
        ]
        for r in rows
        if "method" in r
    ]
    lines += _table(["method", "seconds", "modularity", "NMI", "factions", "load"], table)
    lines.append("")
    return lines


def _bridges(data: Any) -> list[str]:
    if not data:
        return []
    lines = ["## Bridges at scale (`benchmarks/bridges_scale.py`)", ""]
    for res in data:
        lines.append(
            f"{res['nodes']:,} actors, {res['factions']} factions, {res['edges']:,} ties, "
            f"{res['triangles']:,} triangles; betweenness {res['betweenness_method']}; "
            f"{res['bridges']:,} bridge figures"
            + (f" (load {res['load_1m']:.2f})." if res.get("load_1m") is not None else ".")
        )
        lines.append("")
        lines += _table(["measure", "seconds"], [[k, _s(v, 2)] for k, v in res["seconds"].items()])
        lines.append("")
    return lines


def _covoting(data: Any) -> list[str]:
    if not data:
        return []
    load = [data.get("load_1m_start"), data.get("load_1m_end")]
    lines = ["## Co-voting at Commons scale (`benchmarks/covoting_scale.py`)", ""]
    result = data.get("result", {})
    lines.append(
        f"{data['members']:,} MPs, {data['divisions']:,} divisions ({data['rows']:,} votes), "
        f"seed {data.get('seed')}; {result.get('scored_pairs', 0):,} pairs scored, "
        f"{result.get('ties', 0):,} co-voting ties, blocs: "
        + "; ".join(result.get("blocs", []))
        + f" (basis {result.get('blocs_basis')}); {result.get('close_divisions', 0)} close "
        f"divisions, {result.get('persuadable', 0)} persuadable members ranked. Load "
        + " to ".join(f"{x:.2f}" for x in load if x is not None)
        + "."
    )
    lines.append("")
    if data.get("note"):
        lines += [data["note"], ""]
    rss = data.get("peak_rss_mb", {})
    lines += _table(
        ["step", "seconds", "process peak RSS after it (MB)"],
        [[k, _s(v, 2), _s(rss.get(k), 0)] for k, v in data["seconds"].items()],
    )
    lines.append("")
    if data.get("traced_peak_mb") is not None:
        lines.append(
            f"Peak of the allocations traced during `covoting()` (tracemalloc, numpy "
            f"included): {data['traced_peak_mb']:,.0f} MB. The co-voting map is "
            f"{data.get('page_mb')} MB."
        )
        lines.append("")
    return lines


def _map_pages(artifacts: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(artifacts.glob("map-5000-actors-budget-*.json")):
        record = _load(path)
        if isinstance(record, dict):
            out.append(record)
    return out


def _map_section(pages: list[dict[str, Any]]) -> list[str]:
    if not pages:
        return []
    lines = ["## The 5,000-actor map page (`tests/test_browser.py`, headless Chromium)", ""]
    rows = [
        [
            f"{p['node_budget']:,}",
            f"{p['nodes_shown']:,} / {p['edges_shown']:,}",
            f"{p['page_bytes'] / 1e6:.2f}",
            _s(p.get("write_seconds"), 2),
            _s(p.get("ready_seconds_wall"), 2),
            str(p.get("tooltip_level")),
        ]
        for p in pages
    ]
    lines += _table(
        [
            "node budget",
            "actors / ties drawn",
            "page MB",
            "written in (s)",
            "ready in the browser (s)",
            "tooltip level",
        ],
        rows,
    )
    lines.append("")
    return lines


def _side_by_side(runs: dict[str, dict[str, Any]]) -> list[str]:
    """mapper, twarc-network and a bare orjson parse on the same archives."""
    rows = []
    notes = []
    for size, run in runs.items():
        st = run["stages"]
        parse = st.get("bare orjson parse", {}).get("seconds")
        mine = st["import"]["seconds"] + st["resolve + graph"]["seconds"]
        tw = run.get("twarc_network") or {}
        if tw.get("graph_s") is not None:
            twarc = (
                f"{_s(tw['graph_s'], 2)} s ({_s(tw.get('vs_parse'), 2)}x); "
                f"{tw.get('nodes', 0):,} users, {tw.get('edges', 0):,} edges; "
                f"{_s(tw.get('peak_rss_mb'))} MB"
            )
        else:
            twarc = "not run"
            if tw.get("skipped"):
                notes.append(f"{size}: {tw['skipped']}.")
        rows.append(
            [
                size,
                f"{run.get('archive_mb', '?')} MB",
                _s(parse, 2),
                twarc,
                f"{_s(mine, 2)} s ({_s(run.get('import_plus_graph_vs_parse'), 2)}x); "
                f"{run.get('graph', {}).get('actors', 0):,} actors, "
                f"{run.get('graph', {}).get('ties', 0):,} ties",
                f"{_s(run.get('whole_pipeline_s'), 1)} s, {_s(run.get('peak_rss_mb'))} MB",
            ]
        )
    lines = ["## Side by side: bare parse, twarc-network, mapper", ""]
    lines.append(
        "Same generated archive for the three, in one run of `benchmarks/run.py`. Bare "
        "parse: `orjson.loads` of every line, nothing kept. twarc-network: "
        "`twarc_network.get_graph` (what `twarc2 network` runs before writing a file) in a "
        "subprocess, reading and parsing included; its peak memory is the subprocess's own. "
        "mapper import + graph: import into the store, resolve against the roster, build "
        "the graph (times in parentheses: ratio to the bare parse). The two graphs differ "
        "in what they hold: twarc-network has one node per account and counts retweets, "
        "replies, quotes and mentions; mapper also resolves links and names in text "
        "against the roster, keeps up to five evidence items per tie, and its whole "
        "pipeline goes on to factions, bridges, alliances, maps and exports (per stage "
        "below)."
    )
    lines.append("")
    lines += _table(
        [
            "size",
            "archive",
            "bare orjson parse (s)",
            "twarc-network graph (s, ratio; size; peak RSS)",
            "mapper import + graph (s, ratio; size)",
            "mapper whole pipeline (s, peak RSS)",
        ],
        rows,
    )
    lines.append("")
    for note in notes:
        lines += [note, ""]
    return lines


def _issue15_targets(
    runs: dict[str, dict[str, Any]], why: dict[str, str], results: Path = RESULTS_DIR
) -> list[str]:
    """The targets table of issue 15, with verdicts from the recorded runs."""
    rows: list[list[str]] = []
    big = runs.get("1m")

    def row(key: str, measure: str, target: str, measured: str, verdict: str) -> None:
        rows.append([measure, target, measured, verdict, why.get(key, "")])

    for size in ("1m", "100k"):
        run = runs.get(size)
        if not run:
            continue
        tw = run.get("twarc_network") or {}
        twarc = (
            f"; twarc-network {_s(tw['vs_parse'], 2)}x" if tw.get("vs_parse") is not None else ""
        )
        label = "1M" if size == "1m" else "100k"
        row(
            f"ratio_{size}",
            f"import + graph, {label} posts, ratio to bare orjson parse",
            "at most 3x (twarc-network: about 5x)",
            f"mapper {_s(run.get('import_plus_graph_vs_parse'), 2)}x{twarc}",
            _verdict(run.get("import_plus_graph_vs_parse"), 3.0),
        )
    if big:
        secs = big.get("whole_pipeline_s")
        peak = big.get("peak_rss_mb") or 0.0
        child = big.get("children_peak_rss_mb") or 0.0
        time_ok = secs is not None and secs <= 60
        mem_ok = peak <= 1500
        verdict = "**met**" if time_ok and mem_ok else "**missed**"
        if not (time_ok and mem_ok):
            parts = []
            if not time_ok:
                parts.append(f"time {secs / 60:.1f}x the limit" if secs else "time")
            if not mem_ok:
                parts.append(f"memory {peak / 1500:.1f}x the limit")
            verdict += " (" + ", ".join(parts) + ")"
        row(
            "pipeline_1m",
            "whole pipeline, 1M posts",
            "at most 60 s and 1.5 GB",
            f"{_s(secs, 1)} s, {_s(peak)} MB (largest forked helper {_s(child)} MB, mostly "
            "shared with the parent)",
            verdict,
        )
    ten = runs.get("10m")
    if ten:
        secs = ten.get("whole_pipeline_s")
        peak = ten.get("peak_rss_mb") or 0.0
        ok = secs is not None and secs <= 720 and peak <= 4000
        row(
            "pipeline_10m",
            "whole pipeline, 10M posts, one machine",
            "at most 12 min and 4 GB",
            f"{_s((secs or 0) / 60, 1)} min, {_s(peak)} MB",
            "**met**" if ok else "**missed**",
        )
    else:
        row(
            "pipeline_10m",
            "whole pipeline, 10M posts, one machine",
            "at most 12 min and 4 GB",
            "not run",
            "**not measured**",
        )
    dask = _load(results / "dask-1m.json")
    if not isinstance(dask, dict):  # benchmarks/dask_engine.py's figures, its 1M run
        engine = _load(results / "dask.json")
        runs = engine.get("runs", []) if isinstance(engine, dict) else []
        big_run = next((r for r in runs if r.get("posts") == 1_000_000), None)
        if big_run is not None:
            dask = {
                "seconds": big_run["dask"]["total_s"],
                "workers": big_run.get("workers"),
                "same_outputs": all(big_run.get("identical", {}).values()),
            }
    if isinstance(dask, dict):
        row(
            "dask",
            "Dask LocalCluster, 2 workers, 1M posts",
            "same outputs as one process; time reported",
            f"{_s(dask.get('seconds'), 1)} s, {dask.get('workers', '?')} workers; same "
            f"outputs: {dask.get('same_outputs')}",
            "**met**" if dask.get("same_outputs") else "**missed**",
        )
    else:
        row(
            "dask",
            "Dask LocalCluster, 2 workers, 1M posts",
            "same outputs as one process; time reported",
            "not measured by this harness",
            "**not measured**",
        )
    if big:
        again = (big.get("rerun") or {}).get("seconds")
        row(
            "rerun_1m",
            "rerun, unchanged store, 1M posts",
            "at most 15 s",
            f"{_s(again, 1)} s" if again is not None else "not run",
            _verdict(again, 15.0) if again is not None else "**not measured**",
        )
        files = big.get("output_mb", {})
        graph_mb = sum(files.get(f"graph.{ext}", 0.0) for ext in ("gexf", "graphml", "json"))
        total = sum(files.values())
        reduced = big.get("graph_files", "whole graph") != "whole graph"
        row(
            "exports_1m",
            "outputs sized for their readers, 1M posts",
            "GEXF/GraphML/JSON a desktop tool opens; CSV/Parquet complete",
            f"GEXF + GraphML + JSON {graph_mb:,.1f} MB, all files {total:,.1f} MB; exports "
            f"{_s(big['stages'].get('exports', {}).get('seconds'), 1)} s",
            "**met**" if reduced else "**missed** (whole graph in every format)",
        )
    lines = ["## Targets of issue 15", ""]
    lines += _table(["measure", "target", "measured", "verdict", "why / notes"], rows)
    lines.append("")
    return lines


def _exports_scale(found: dict[str, Any]) -> list[str]:
    """``exports_scale-<size>.json``: one graph exported whole and reduced, back to back."""
    if not found:
        return []
    lines = [
        "## Graph files, whole and reduced (`benchmarks/exports_scale.py`)",
        "",
        "One graph (as `mapper build` exports it: no factions yet, every evidence list), "
        "written by `export_all` in the five formats twice in one process, under the same "
        "load: whole, then with the GEXF, GraphML and JSON reduced to the map's selection "
        "(20,000 actors, 50,000 ties). CSV and Parquet are the same in both.",
        "",
    ]
    rows = []
    for size, data in found.items():
        g = data.get("graph", {})
        for mode in ("whole", "reduced"):
            run = data.get(mode)
            if not run:
                continue
            files = run.get("files_mb", {})
            graph_mb = sum(files.get(f"graph.{ext}", 0.0) for ext in ("gexf", "graphml", "json"))
            rows.append(
                [
                    f"{size} ({g.get('actors', 0):,} actors, {g.get('ties', 0):,} ties)",
                    mode,
                    _s(run.get("seconds"), 1),
                    " / ".join(
                        f"{files.get(f'graph.{ext}', 0.0):,.1f}"
                        for ext in ("gexf", "graphml", "json")
                    ),
                    f"{graph_mb:,.1f}",
                    f"{sum(files.values()):,.1f}",
                    f"{_s(run.get('load_1m'), 2)} to {_s(run.get('load_1m_end'), 2)}",
                ]
            )
        if data.get("select_s") is not None:
            rows.append(
                [size, "choosing the reduced graph", _s(data["select_s"], 1), "", "", "", ""]
            )
    lines += _table(
        [
            "graph",
            "graph files",
            "seconds",
            "GEXF / GraphML / JSON (MB)",
            "graph files (MB)",
            "all exports (MB)",
            "load",
        ],
        rows,
    )
    lines.append("")
    return lines


def _verdict(value: float | None, limit: float, *, at_most: bool = True) -> str:
    if value is None:
        return "not measured"
    ok = value <= limit if at_most else value >= limit
    if ok:
        return "**met**"
    if at_most:
        return f"**missed** by {value - limit:,.2f} ({value / limit:.1f}x the limit)"
    return f"**missed** by {limit - value:,.2f}"


def _targets(
    runs: dict[str, dict[str, Any]],
    factions: list[dict[str, Any]],
    bridges: Any,
    pages: list[dict[str, Any]],
    why: dict[str, str],
) -> list[str]:
    rows: list[list[str]] = []

    def row(key: str, target: str, measured: str, verdict: str) -> None:
        rows.append([target, measured, verdict, why.get(key, "")])

    names = next((r["names"] for r in reversed(runs.values()) if r.get("names")), None)
    if names:
        row(
            "names",
            "names at least 50 MB/s with 10,000 aliases",
            f"{names['mb_per_s']} MB/s",
            _verdict(names["mb_per_s"], 50.0, at_most=False),
        )
    mine = next((r for r in factions if r.get("method") == "detect_factions"), None)
    if mine:
        row(
            "factions",
            "factions at 100k actors / 1M ties under 10 s, NMI at least 0.99",
            f"{_s(mine['seconds'], 2)} s, NMI {mine['nmi']:.4f}",
            "**met**"
            if mine["seconds"] <= 10 and mine["nmi"] >= 0.99
            else _verdict(mine["seconds"], 10.0)
            + (f"; NMI {mine['nmi']:.4f}" if mine["nmi"] < 0.99 else ""),
        )
    if bridges:
        at = next((r for r in bridges if r["nodes"] >= 100_000), None)
        if at:
            secs = at["seconds"].get("bridge_figures (total)")
            row(
                "bridges",
                "bridges at 100k actors under 20 s",
                f"{_s(secs, 2)} s ({at['betweenness_method']} betweenness)",
                _verdict(secs, 20.0),
            )
    for size, run in runs.items():
        if run.get("map_mb") is not None:
            row(
                f"map_{size}",
                f"map under 5 MB ({size})",
                f"{run['map_mb']} MB",
                _verdict(run["map_mb"], 5.0),
            )
    for page in pages:
        row(
            f"appear_{page['node_budget']}",
            f"map appears in under 3 s (5,000 actors, budget {page['node_budget']:,})",
            f"{_s(page.get('ready_seconds_wall'), 2)} s, {page['page_bytes'] / 1e6:.2f} MB",
            _verdict(page.get("ready_seconds_wall"), 3.0),
        )
    for size, run in runs.items():
        st = run["stages"]
        again = run.get("rerun")
        if again and again.get("reused"):
            stages = again.get("stages", {})
            parts = ", ".join(
                f"{k} {v:.2f}" for k, v in stages.items() if k in ("import", "reuse") or v >= 1
            )
            row(
                f"rerun_{size}",
                f"whole rerun on an unchanged store and roster at most 15 s ({size})",
                f"{again['seconds']:.2f} s in run_project ({again['process_seconds']:.2f} s as a"
                f" new process), {again['peak_rss_mb']:,.1f} MB peak; {parts} s;"
                f" {', '.join(again['reused'])} reused from the caches (graph cache"
                f" {run.get('graph_cache_mb', '?')} MB, written in"
                f" {st.get('graph cache write', {}).get('seconds', 0):.2f} s by the first run)"
                + (
                    f"; with the graph alone reused (an output option changed):"
                    f" {run['rerun_graph']['seconds']:.2f} s"
                    if run.get("rerun_graph")
                    else ""
                ),
                _verdict(again["seconds"], 15.0),
            )
        elif "re-import unchanged" in st:
            row(
                f"reuse_{size}",
                f"re-running on an unchanged store reuses what it can ({size})",
                f"re-import {st['re-import unchanged']['seconds']:.3f} s vs import "
                f"{st['import']['seconds']:.2f} s",
                "**met** for the import"
                if st["re-import unchanged"]["seconds"] < 0.1 * st["import"]["seconds"]
                else "**missed**",
            )
    lines = ["## Targets of earlier work", ""]
    lines += _table(["target", "measured", "verdict", "why / notes"], rows)
    lines.append("")
    return lines


def render(results: Path = RESULTS_DIR, artifacts: Path = ARTIFACTS) -> str:
    """The text of ``RESULTS.md`` from the files in ``results`` (and ``artifacts``)."""
    runs = {s: r for s in SIZES if (r := _load(results / f"{s}.json"))}
    before = {s: r for s in SIZES if (r := _load(results / f"before-{s}.json"))}
    factions = _jsonl(results / "factions_planted.jsonl")
    bridges = _load(results / "bridges_scale.json")
    covoting = _load(results / "covoting_scale.json")
    notes = _load(results / "notes.json") or {}
    pages = _map_pages(artifacts)
    lines = [
        "# Benchmark results",
        "",
        "Rendered by `python benchmarks/report.py` from `benchmarks/results/` (see its "
        "docstring for the commands that make each file). Times are wall-clock seconds on "
        "a shared machine: the load column says how busy it was.",
        "",
    ]
    for paragraph in notes.get("notes", []):
        lines += [paragraph, ""]
    if runs:
        lines += _machine(runs)
        lines += _side_by_side(runs)
        lines += _issue15_targets(runs, notes.get("targets", {}), results)
        lines += _targets(runs, factions, bridges, pages, notes.get("targets", {}))
        lines += _before_after(runs, before)
        for size, run in runs.items():
            lines += _size_section(size, run)
        lines += _ratios(runs)
    exports = {s: r for s in SIZES if (r := _load(results / f"exports_scale-{s}.json"))}
    lines += _exports_scale(exports)
    lines += _factions(factions)
    lines += _bridges(bridges)
    lines += _map_section(pages)
    lines += _covoting(covoting)
    for snippet in sorted(results.glob("*.md")):
        text = snippet.read_text(encoding="utf-8").strip()
        if text:
            lines += [text, ""]
    return "\n".join(lines).rstrip() + "\n"


#: Sections of an existing ``RESULTS.md`` that are written by hand (or by other
#: tools) and carried over when it is rendered again.
KEPT_SECTIONS = ("## Dask", "## Timeline", "## Significance test on random graphs")


def kept_sections(text: str) -> list[str]:
    """The sections of ``text`` whose heading starts with one of :data:`KEPT_SECTIONS`,
    each from its heading to the next ``## `` heading (or the end)."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].rstrip().startswith(KEPT_SECTIONS):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("## "):
                j += 1
            out.append("\n".join(lines[i:j]).rstrip())
            i = j
        else:
            i += 1
    return out


def write_results(path: Path = RESULTS_MD, results: Path = RESULTS_DIR) -> Path:
    """Write ``RESULTS.md`` (by default ``benchmarks/RESULTS.md``) and return its path.

    The sections of the file already there named in :data:`KEPT_SECTIONS` are kept, at
    the end."""
    text = render(results)
    try:
        old = path.read_text(encoding="utf-8")
    except OSError:
        old = ""
    kept = [k for k in kept_sections(old) if k not in text]
    if kept:
        text = text.rstrip() + "\n\n" + "\n\n".join(kept) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description="Render benchmarks/RESULTS.md from the figures.")
    ap.add_argument("--stdout", action="store_true", help="print instead of writing the file")
    args = ap.parse_args()
    if args.stdout:
        sys.stdout.write(render())
    else:
        print(write_results())


if __name__ == "__main__":
    main()
