"""Exports of one large graph, whole and reduced, back to back in one process.

The graph files of a large graph hold the map's selection above ``[exports]
max_actors`` / ``max_ties`` (``mapper.export.graph_file_reduction``). This measures
what that saves: the graph is built once from a store the harness filled
(``benchmarks/run.py --workdir DIR`` keeps ``DIR/out/store.sqlite``), then written
with ``export_all`` in every format twice, whole and reduced, under the same load::

    python benchmarks/exports_scale.py --store /tmp/bench1m/out/store.sqlite \\
        --roster /tmp/bench1m/input/roster.csv --archive /tmp/bench1m/input/archive.jsonl \\
        --json benchmarks/results/exports_scale-1m.json

The graph is the one ``mapper build`` exports (no factions or bridge scores yet:
the evidence lists, which dominate the files, are all there). Work copies go to a
temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _mb(path: Path) -> float:
    return round(path.stat().st_size / 1e6, 2)


def measure(store: Path, roster: Path, archive: Path, work: Path) -> dict[str, Any]:
    from mapper.export import export_all, graph_file_reduction
    from mapper.graph.build import gc_paused
    from mapper.pipeline import build
    from mapper.project import Project, Source
    from mapper.store import Store

    copy = work / "store.sqlite"
    shutil.copyfile(store, copy)  # the harness may still be using its own
    project = Project(
        path=None,
        name="exports scale",
        roster=roster,
        output=work,
        store=copy,
        sources=[Source("x-archive", {"path": str(archive)}, 1)],
    )
    out: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S")}
    start = time.perf_counter()
    with Store(copy) as st:
        G, _ = build(project, st)
    out["build_s"] = round(time.perf_counter() - start, 2)
    out["graph"] = {"actors": G.number_of_nodes(), "ties": G.number_of_edges()}
    # The cyclic collector is paused as in the pipeline's stages (mapper.pipeline._timed).
    start = time.perf_counter()
    with gc_paused():
        reduction = graph_file_reduction(G)
    out["select_s"] = round(time.perf_counter() - start, 2)
    for mode, red in (("whole", None), ("reduced", reduction)):
        folder = work / mode
        load = os.getloadavg()[0]
        start = time.perf_counter()
        with gc_paused():
            paths = export_all(G, folder, reduction=red)
        secs = time.perf_counter() - start
        out[mode] = {
            "seconds": round(secs, 2),
            "load_1m": round(load, 2),
            "load_1m_end": round(os.getloadavg()[0], 2),
            "files_mb": {p.name: _mb(p) for p in sorted(set(paths.values()))},
        }
        print(f"{mode}: {secs:.1f} s", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)
    if reduction is not None:
        out["reduced"]["note"] = reduction.note
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, required=True)
    ap.add_argument("--roster", type=Path, required=True)
    ap.add_argument("--archive", type=Path, required=True)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mapper-exports-"))
    try:
        result = measure(args.store, args.roster, args.archive, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
