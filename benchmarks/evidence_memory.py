"""Memory of the built graph with evidence in every edge against evidence in a table.

Usage (from the repository root, on a store the harness made)::

    python benchmarks/run.py --size 1m --no-references --workdir /tmp/bench-1m
    python benchmarks/evidence_memory.py /tmp/bench-1m/out/store.sqlite \\
        --roster /tmp/bench-1m/input/roster.csv --json benchmarks/results/evidence_memory.json

Each layout is measured in its own fresh process: resolve every stored post, build
the graph (``build_graph(..., evidence_table=False)`` then ``True``), drop the
resolution, and read the resident memory (after a full garbage collection: it keeps
heap the resolution freed, so it overstates the graph), the process peak, the build
time and the pickled size of the graph (what the run's cache stores). The graph's
own size is then read by loading that pickle in another fresh process
(``loaded_graph_rss_mb``), as a rerun does. Times are wall-clock on a shared machine (load noted).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def measure(store_path: str, roster: str, table: bool) -> dict[str, Any]:
    """One layout, in this process."""
    from mapper.graph import build_graph
    from mapper.graph.build import gc_paused
    from mapper.resolve import Resolver, load_roster
    from mapper.store import Store

    base = _rss_mb()
    with Store(store_path) as store, gc_paused():
        resolution = Resolver(load_roster(roster)).resolve(store.iter_posts())
    start = time.perf_counter()
    with gc_paused():
        G = build_graph(
            resolution.events,
            resolution.actors,
            topics=resolution.topics,
            evidence_table=table,
        )
    seconds = time.perf_counter() - start
    del resolution
    gc.collect()
    graph_mb = _rss_mb() - base
    start = time.perf_counter()
    blob = pickle.dumps(G, protocol=pickle.HIGHEST_PROTOCOL)
    pickle_s = time.perf_counter() - start
    size = len(blob)
    items = G.graph["evidence"].n_items if table else None
    # the graph's own size: loaded in a fresh process (no freed-but-kept heap)
    dump = Path(store_path).with_name(f"evidence-memory-{os.getpid()}.pickle")
    dump.write_bytes(blob)
    del blob
    try:
        loaded = subprocess.run(
            [sys.executable, __file__, str(dump), "--roster", "", "--child", "load"],
            check=True,
            capture_output=True,
            text=True,
        )
        load = json.loads(loaded.stdout.strip().splitlines()[-1])
    finally:
        dump.unlink(missing_ok=True)
    return {
        "evidence": "table" if table else "edge dicts",
        "actors": G.number_of_nodes(),
        "ties": G.number_of_edges(),
        "evidence_items": items,
        "build_seconds": round(seconds, 2),
        "graph_rss_mb": round(graph_mb, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "pickle_mb": round(size / 1e6, 1),
        "pickle_seconds": round(pickle_s, 2),
        "loaded_graph_rss_mb": load["graph_rss_mb"],
        "load_seconds": load["seconds"],
        "load_1m": round(os.getloadavg()[0], 2),
    }


def load(path: str) -> dict[str, Any]:
    """Unpickle a graph in this (fresh) process: its resident size and the time taken."""
    import mapper.graph.evidence  # noqa: F401 - imported before the base is read
    from mapper.graph.build import gc_paused

    base = _rss_mb()
    start = time.perf_counter()
    with open(path, "rb") as fh, gc_paused():
        G = pickle.load(fh)
    seconds = time.perf_counter() - start
    return {
        "graph_rss_mb": round(_rss_mb() - base, 1),
        "seconds": round(seconds, 2),
        "ties": G.number_of_edges(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("store")
    ap.add_argument("--roster", required=True)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--child", choices=["dicts", "table", "load"], default=None, help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.child == "load":
        print(json.dumps(load(args.store)))
        return
    if args.child:
        print(json.dumps(measure(args.store, args.roster, args.child == "table")))
        return
    results = []
    for layout in ("dicts", "table"):
        done = subprocess.run(
            [sys.executable, __file__, args.store, "--roster", args.roster, "--child", layout],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
