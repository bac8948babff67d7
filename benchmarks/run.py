"""The benchmark harness: times every stage of the pipeline on generated input.

Usage (from the repository root)::

    pip install -e '.[bench]'                      # twarc-network, the peer (optional)
    python benchmarks/run.py --size 10k            # smoke size, as in CI
    python benchmarks/run.py --size 100k --write   # and record in benchmarks/RESULTS.md
    python benchmarks/run.py --size 1m --write

    # 10M posts streamed from disk: generate once (13 GB, a million posts of random
    # draws in memory at a time), then run on that folder
    python benchmarks/generate.py --posts 10000000 --out /data/bench10m
    python benchmarks/run.py --size 10m --input /data/bench10m --no-references --write

``--write`` keeps the figures in ``benchmarks/results/<size>.json`` and renders
``benchmarks/RESULTS.md`` again from every JSON file there (``benchmarks/report.py``,
which can also be run on its own).

Each stage is timed separately (import, resolve, graph, factions, bridges, alliances,
layout, tables, maps, exports) and the whole; the process's peak resident memory is
read after each stage (forked helper processes are reported apart, as the largest
child), with the machine's 1-minute load average, since other jobs may share it. The
same run measures the reference points, so ratios hold on a noisy machine:

- the floor for reading the archive: a bare ``orjson.loads`` of every line;
- twarc's network plugin (``twarc-network``, the ``bench`` extra) building the same
  archive's user graph, in a subprocess after mapper's run (skipped, with a note,
  when it is not installed);
- a rerun of the whole pipeline on the unchanged store and roster (``--no-rerun``
  skips it);
- python-louvain against igraph's Leiden on the same graph (time and modularity);
- exact betweenness against networkx's sampled estimate (time, overlap of the top 20);
- name matching throughput (MB/s) with a roster of 10,000 aliases.

Nothing here asserts a time: the figures are written down, and ``RESULTS.md`` says
which targets were met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}


RESULTS_DIR = HERE / "results"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """Peak resident memory of the largest finished child process (forked runs), in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def load_1m() -> float:
    """The machine's 1-minute load average (other jobs count too)."""
    return round(os.getloadavg()[0], 2)


def timed(results: dict[str, Any], name: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    value = fn()
    results["stages"][name] = {
        "seconds": round(time.perf_counter() - start, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "load_1m": load_1m(),
    }
    print(
        f"{name:<22} {results['stages'][name]['seconds']:>8.2f} s  (load {load_1m():.2f})",
        file=sys.stderr,
    )
    return value


def bare_parse(path: Path) -> int:
    import orjson

    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            page = orjson.loads(line)
            n += len(page.get("data", ()))
    return n


def name_throughput(aliases: int = 10_000, megabytes: int = 50) -> dict[str, float]:
    """MB/s of :class:`mapper.resolve.NameMatcher` over generated text."""
    import random

    from mapper.resolve import NameMatcher

    rng = random.Random(3)
    patterns = {f"Firstname{i} Lastname{i}": f"a{i}" for i in range(aliases)}
    words = ["the", "debate", "on", "a", "progressive", "alliance", "with", "party", "and"]
    chunks = []
    size = 0
    while size < megabytes * 1_000_000:
        parts = [rng.choice(words) for _ in range(60)]
        who = rng.randrange(aliases)
        parts[rng.randrange(60)] = f"Firstname{who} Lastname{who}"
        text = " ".join(parts)
        chunks.append(text)
        size += len(text)
    matcher = NameMatcher(patterns)
    start = time.perf_counter()
    hits = sum(len(matcher.find(t)) for t in chunks)
    secs = time.perf_counter() - start
    return {
        "aliases": aliases,
        "megabytes": round(size / 1e6, 1),
        "seconds": round(secs, 2),
        "mb_per_s": round(size / 1e6 / secs, 1),
        "matches": hits,
    }


def louvain_vs_leiden(G: Any) -> dict[str, Any]:
    import community as community_louvain
    import igraph as ig
    import networkx as nx

    from mapper.graph import undirected_projection

    U = undirected_projection(G)
    out: dict[str, Any] = {"nodes": U.number_of_nodes(), "edges": U.number_of_edges()}
    start = time.perf_counter()
    part = community_louvain.best_partition(U, weight="weight", random_state=1)
    out["python_louvain_s"] = round(time.perf_counter() - start, 2)
    out["python_louvain_q"] = round(community_louvain.modularity(part, U, weight="weight"), 4)
    nodes = list(U.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    edges = [(index[u], index[v]) for u, v in U.edges]
    weights = [d["weight"] for _, _, d in U.edges(data=True)]
    start = time.perf_counter()
    g = ig.Graph(n=len(nodes), edges=edges)
    cl = g.community_leiden(objective_function="modularity", weights=weights, n_iterations=-1)
    out["igraph_leiden_s"] = round(time.perf_counter() - start, 2)
    comms = [{nodes[i] for i in c} for c in cl]
    out["igraph_leiden_q"] = round(nx.community.modularity(U, comms, weight="weight"), 4)
    return out


def betweenness_reference(G: Any, max_nodes: int = 10_000) -> dict[str, Any]:
    """Exact (igraph) against sampled (networkx, k=500) betweenness: time and top-20 overlap."""
    import networkx as nx

    from mapper.analysis.bridges import betweenness
    from mapper.graph import undirected_projection

    U = undirected_projection(G)
    if U.number_of_nodes() > max_nodes:
        top = sorted(U.degree(weight="weight"), key=lambda x: (-x[1], x[0]))[:max_nodes]
        U = U.subgraph(n for n, _ in top).copy()
    D = nx.DiGraph(U)
    start = time.perf_counter()
    exact, method = betweenness(D, max_exact_nodes=max_nodes)
    exact_s = time.perf_counter() - start
    for _, _, d in D.edges(data=True):
        d["distance"] = 1.0 / d["weight"]
    start = time.perf_counter()
    sampled = nx.betweenness_centrality(
        D, k=min(500, D.number_of_nodes()), weight="distance", seed=1
    )
    sampled_s = time.perf_counter() - start

    def top20(values: dict[str, float]) -> set[str]:
        return {n for n, _ in sorted(values.items(), key=lambda x: (-x[1], x[0]))[:20]}

    return {
        "nodes": D.number_of_nodes(),
        "exact_method": method,
        "exact_s": round(exact_s, 2),
        "sampled_k500_s": round(sampled_s, 2),
        "top20_overlap": len(top20(exact) & top20(sampled)),
    }


PEER_SCRIPT = HERE / "peer_twarc.py"


def twarc_network_available() -> bool:
    """Whether twarc's network plugin can be imported (the ``bench`` extra)."""
    import importlib.util

    return importlib.util.find_spec("twarc_network") is not None


def twarc_network(archive: Path, parse_s: float) -> dict[str, Any]:
    """Build the same archive's graph with ``twarc-network`` in a subprocess
    (``benchmarks/peer_twarc.py``): its time, size and peak RSS, or why it was skipped."""
    import subprocess

    if not twarc_network_available():
        return {
            "skipped": "twarc-network is not installed: pip install -e '.[bench]' "
            "(or pip install twarc-network) to measure it"
        }
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(PEER_SCRIPT), str(archive)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"skipped": f"twarc-network failed (exit {proc.returncode}): {tail[0]}"}
    out: dict[str, Any] = json.loads(lines[-1])
    out["wall_s"] = round(wall, 3)
    out["vs_parse"] = round(out["graph_s"] / max(parse_s, 1e-9), 2)
    out["load_1m"] = load_1m()
    return out


def _input(workdir: Path, posts: int, given: Path | None) -> dict[str, Any]:
    if given is not None:  # an archive generated before (10M: generate once, run again)
        archive, roster = given / "archive.jsonl", given / "roster.csv"
        if not archive.is_file() or not roster.is_file():
            raise SystemExit(f"{given}: no archive.jsonl and roster.csv (benchmarks/generate.py)")
        with open(roster, encoding="utf-8") as fh:
            roster_rows = sum(1 for _ in fh) - 1
        accounts = max(50, posts // 10)  # generate.py's rule
        return {
            "archive": archive,
            "roster": roster,
            "accounts": accounts,
            "roster_rows": roster_rows,
        }
    return generate(workdir / "input", posts, seed=1)


def _project(spec: dict[str, Any]) -> Any:
    """The benchmark's project, from the few values that make it."""
    from mapper.project import Project, Source

    out = Path(spec["output"])
    return Project(
        path=None,
        name=spec["name"],
        roster=Path(spec["roster"]),
        output=out,
        store=out / "store.sqlite",
        sources=[Source("x-archive", {"path": spec["archive"]}, 1)],
        runs=5,
        seed=1,
        formats=["gexf", "graphml", "json", "csv", "parquet"],
    )


def rerun_child(spec: dict[str, Any]) -> dict[str, Any]:
    """``run_project`` on the benchmark's project, as a rerun in a new process does:
    the figures of this process alone (its peak RSS, its stages, what it reused)."""
    from mapper.pipeline import run_project

    start = time.perf_counter()
    analysis = run_project(_project(spec))
    return {
        "seconds": round(time.perf_counter() - start, 3),
        "stages": {k: round(v, 3) for k, v in analysis.timings.items()},
        "reused": analysis.reused,
        "notices": analysis.notices,
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a child started
        # by the harness would report the harness's own peak
        "peak_rss_mb": round(_vm_hwm_mb(), 1),
        "children_peak_rss_mb": round(children_peak_rss_mb(), 1),
        "load_1m": load_1m(),
    }


def _vm_hwm_mb() -> float:
    """Peak resident memory of this process's address space (since its exec), in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mb()


def rerun_in_new_process(spec: dict[str, Any]) -> dict[str, Any]:
    """A whole rerun (``run_project``) on the unchanged store and roster, in a fresh
    Python process (its start and imports counted in ``process_seconds``)."""
    import subprocess

    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--rerun-child", json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = round(time.perf_counter() - start, 3)
    return figures


def run(
    size: str,
    *,
    workdir: Path,
    references: bool = True,
    peers: bool = False,
    rerun: bool = False,
    input_dir: Path | None = None,
) -> dict[str, Any]:
    """Run every stage on a generated archive of ``size`` posts; return the figures.

    ``peers``: also build the archive's graph with twarc-network (a subprocess, after
    mapper's run so its memory is not counted as mapper's). ``rerun``: run the whole
    pipeline twice more, each in a new process, on the unchanged store and roster: the
    first reuses the graph, the second the whole run (what reuse saves).
    ``input_dir``: take ``archive.jsonl`` and ``roster.csv`` from there instead of
    generating them.
    """
    from mapper.origins import source_scope
    from mapper.pipeline import Analysis, analyse, build, write_outputs
    from mapper.reuse import build_key, cache_path, save_build
    from mapper.sources import import_file
    from mapper.store import Store

    posts = SIZES[size]
    results: dict[str, Any] = {
        "size": size,
        "posts": posts,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_at_start": list(os.getloadavg()),
        "stages": {},
    }
    info = timed(results, "generate (not counted)", lambda: _input(workdir, posts, input_dir))
    archive = Path(info["archive"])
    results["archive_mb"] = round(archive.stat().st_size / 1e6, 1)
    results["accounts"] = info["accounts"]
    timed(results, "bare orjson parse", lambda: bare_parse(archive))
    out = workdir / "out"
    spec = {
        "name": f"benchmark {size}",
        "roster": str(info["roster"]),
        "output": str(out),
        "archive": str(archive),
    }
    project = _project(spec)
    out.mkdir(parents=True, exist_ok=True)
    start_all = time.perf_counter()
    timings: dict[str, float] = {}
    with Store(project.store) as store:
        timed(results, "import", lambda: import_file("x-archive", archive, store))
        G, resolution = timed(
            results, "resolve + graph", lambda: build(project, store, timings=timings)
        )
        results["stages"]["resolve"] = {"seconds": round(timings.get("resolve", 0), 3)}
        results["stages"]["graph"] = {"seconds": round(timings.get("graph", 0), 3)}
        timed(results, "re-import unchanged", lambda: import_file("x-archive", archive, store))
        # what a run pays to let the next one reuse its graph (not in the whole pipeline)
        key = build_key(project, store, source_scope(project, store), [])
        timed(
            results,
            "graph cache write",
            lambda: save_build(cache_path(project), key, G, resolution),
        )
        results["graph_cache_mb"] = round(cache_path(project).stat().st_size / 1e6, 1)
    stage_t: dict[str, float] = {}
    res = timed(results, "analysis", lambda: analyse(project, G, timings=stage_t))
    for k in ("factions", "bridges", "alliances", "layout"):
        results["stages"][k] = {"seconds": round(stage_t.get(k, 0), 3)}
    analysis = Analysis(
        project=project,
        graph=G,
        resolution=resolution,
        factions=res["factions"],
        summaries=res["summaries"],
        fault_lines=res["fault_lines"],
        bridges=res["bridges"],
        alliances=res["alliances"],
        timings=stage_t,
    )
    timed(results, "outputs", lambda: write_outputs(analysis))
    for k in ("tables", "maps", "exports"):
        results["stages"][k] = {"seconds": round(stage_t.get(k, 0), 3)}
    not_counted = ("re-import unchanged", "graph cache write")
    results["whole_pipeline_s"] = round(
        time.perf_counter() - start_all - sum(results["stages"][k]["seconds"] for k in not_counted),
        2,
    )
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    results["children_peak_rss_mb"] = round(children_peak_rss_mb(), 1)
    results["load_at_end_of_pipeline"] = list(os.getloadavg())
    factions_found = len(set(res["factions"].partition.values()))
    betweenness_method = (res["bridges"] or [{}])[0].get("betweenness_method")
    results["graph_files"] = next(
        (w.message for w in analysis.warnings if getattr(w, "code", "") == "exports-reduced"),
        "whole graph",
    )
    results["graph"] = {"actors": G.number_of_nodes(), "ties": G.number_of_edges()}
    results["factions_found"] = factions_found
    results["map_mb"] = round((out / "map.html").stat().st_size / 1e6, 2)
    results["betweenness_method"] = betweenness_method
    results["output_mb"] = {
        p.name: round(p.stat().st_size / 1e6, 2)
        for p in sorted(out.iterdir())
        if p.is_file() and p.suffix != ".sqlite" and "sqlite" not in p.name
    }
    parse = results["stages"]["bare orjson parse"]["seconds"]
    results["import_plus_graph_vs_parse"] = round(
        (results["stages"]["import"]["seconds"] + results["stages"]["resolve + graph"]["seconds"])
        / max(parse, 1e-9),
        2,
    )
    if peers:
        results["twarc_network"] = twarc_network(archive, parse)
        note = results["twarc_network"].get("skipped")
        print(f"twarc-network: {note}" if note else "twarc-network: done", file=sys.stderr)
    if rerun:
        # The harness ran the stages itself: the first rerun reuses the graph only (and
        # stores the run's results), the second the whole run.
        results["rerun_graph"] = rerun_in_new_process(spec)
        print(f"rerun (graph cached) {results['rerun_graph']}", file=sys.stderr)
        results["rerun"] = rerun_in_new_process(spec)
        print(f"rerun (run cached) {results['rerun']}", file=sys.stderr)
    if references:
        results["louvain_vs_leiden"] = timed(
            results, "ref: louvain vs leiden", lambda: louvain_vs_leiden(G)
        )
        results["betweenness"] = timed(
            results, "ref: betweenness", lambda: betweenness_reference(G)
        )
        results["names"] = timed(results, "ref: name matching", name_throughput)
    return results


def machine() -> dict[str, Any]:
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    versions = {}
    for pkg in (
        "networkx",
        "igraph",
        "leidenalg",
        "python-louvain",
        "pyvis",
        "orjson",
        "pyahocorasick",
        "numpy",
        "scipy",
        "pyarrow",
        "matplotlib",
        "twarc",
        "twarc-network",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="Time every stage of mapper on generated input.")
    ap.add_argument("--size", choices=sorted(SIZES), default="10k")
    ap.add_argument(
        "--workdir", type=Path, default=None, help="Keep files here (default: a temp dir)."
    )
    ap.add_argument("--no-references", action="store_true", help="Skip the reference measurements.")
    ap.add_argument(
        "--no-peers",
        action="store_true",
        help="Skip twarc-network (the peer measured side by side).",
    )
    ap.add_argument(
        "--no-rerun", action="store_true", help="Skip the second run on the unchanged store."
    )
    ap.add_argument(
        "--input",
        type=Path,
        default=None,
        help="Use archive.jsonl and roster.csv from this folder (made by generate.py) "
        "instead of generating them.",
    )
    ap.add_argument("--json", type=Path, default=None, help="Also write the figures as JSON here.")
    ap.add_argument(
        "--write",
        action="store_true",
        help="Keep the figures in benchmarks/results/<size>.json and render "
        "benchmarks/RESULTS.md again from every file there.",
    )
    ap.add_argument("--rerun-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rerun_child is not None:
        print(json.dumps(rerun_child(json.loads(args.rerun_child))))
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"mapper-bench-{args.size}-"))
    try:
        results = run(
            args.size,
            workdir=workdir,
            references=not args.no_references,
            peers=not args.no_peers,
            rerun=not args.no_rerun,
            input_dir=args.input,
        )
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    results["machine"] = machine()
    text = json.dumps(results, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    if args.write:
        from report import write_results

        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / f"{args.size}.json").write_text(text + "\n", encoding="utf-8")
        print(f"wrote {write_results()}", file=sys.stderr)


if __name__ == "__main__":
    main()
