"""Time the Dask engine against the single engine on benchmarks/generate.py data.

Both engines import, resolve and aggregate the same generated archive (with its
roster) into a graph; the graph tables (nodes, edges, evidence CSV) of both are
written and compared byte for byte. Timed apart:

- ``single``: ``import_sources`` into a fresh store, then ``build`` (resolve + graph);
- ``dask``: ``build_dask`` on a ``LocalCluster`` of ``--workers`` single-threaded
  worker processes (started before the clock starts; its start-up is timed apart),
  partitions of ``--partition-mb``.

The analysis and outputs after the graph are the same code for both engines and are
not timed here (see benchmarks/run.py). CPU seconds are reported beside wall-clock
seconds (the driver's and the workers' apart), since a shared machine's load moves
the wall-clock figures. Results go to benchmarks/results/dask.json.

Usage::

    python benchmarks/dask_engine.py --posts 100000 --workers 2
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _project(folder: Path, info: dict[str, Any], partition_mb: int) -> Path:
    toml = folder / "mapper.toml"
    toml.write_text(
        f'[project]\nname = "dask benchmark"\nroster = "{info["roster"]}"\n\n'
        f'[[sources]]\ntype = "x-archive"\npath = "{info["archive"]}"\n\n'
        f"[run]\npartition_mb = {partition_mb}\n",
        encoding="utf-8",
    )
    return toml


def run(posts: int, *, workers: int, partition_mb: int, workdir: Path) -> dict[str, Any]:
    from distributed import Client, LocalCluster
    from generate import generate

    from mapper.engine.dask import build_dask
    from mapper.export import export_all
    from mapper.pipeline import build, import_sources
    from mapper.project import load_project
    from mapper.store import Store

    info = generate(workdir / "input", posts, seed=1)
    toml = _project(workdir, info, partition_mb)
    result: dict[str, Any] = {
        "posts": posts,
        "archive_mb": round(Path(info["archive"]).stat().st_size / 1e6, 1),
        "workers": workers,
        "partition_mb": partition_mb,
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
    }

    project = load_project(toml, output=workdir / "single")
    project.store = workdir / "single" / "store.sqlite"
    project.output.mkdir(parents=True)
    start = time.perf_counter()
    cpu = cpu_seconds()
    with Store(project.store) as store:
        imports = import_sources(project, store)
        t_import = time.perf_counter() - start
        G1, _ = build(project, store)
    t_single = time.perf_counter() - start
    result["single"] = {
        "import_s": round(t_import, 2),
        "resolve_graph_s": round(t_single - t_import, 2),
        "total_s": round(t_single, 2),
        "cpu_s": round(cpu_seconds() - cpu, 2),
    }
    export_all(G1, project.output, formats=("csv",))
    result["load_after_single"] = [round(x, 2) for x in os.getloadavg()]

    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        t_cluster = time.perf_counter() - start
        project2 = load_project(toml, output=workdir / "dask")
        project2.store = workdir / "dask" / "store.sqlite"
        project2.output.mkdir(parents=True)
        timings: dict[str, float] = {}
        workers_cpu = sum(client.run(cpu_seconds).values())
        start = time.perf_counter()
        cpu = cpu_seconds()
        with Store(project2.store) as store:
            imports2, G2, _ = build_dask(project2, store, client=client, timings=timings)
        t_dask = time.perf_counter() - start
        driver_cpu = cpu_seconds() - cpu
        workers_cpu = sum(client.run(cpu_seconds).values()) - workers_cpu
    result["dask"] = {
        "cluster_start_s": round(t_cluster, 2),
        "distributed_s": round(timings.get("dask", 0.0), 2),
        "graph_here_s": round(timings.get("graph", 0.0), 2),
        "total_s": round(t_dask, 2),
        "driver_cpu_s": round(driver_cpu, 2),
        "workers_cpu_s": round(workers_cpu, 2),
    }
    result["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    export_all(G2, project2.output, formats=("csv",))
    result["graph"] = {"actors": G1.number_of_nodes(), "ties": G1.number_of_edges()}
    result["identical"] = {
        name: (project.output / name).read_bytes() == (project2.output / name).read_bytes()
        for name in ("nodes.csv", "edges.csv", "evidence.csv")
    }
    result["same_imports"] = imports == imports2
    result["speedup"] = round(t_single / t_dask, 2) if t_dask else None
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, nargs="+", default=[100_000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--partition-mb", type=int, default=32)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "dask.json")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    runs = []
    for n in args.posts:
        with tempfile.TemporaryDirectory(prefix="mapper-dask-bench-") as tmp:
            res = run(n, workers=args.workers, partition_mb=args.partition_mb, workdir=Path(tmp))
        print(orjson.dumps(res).decode(), flush=True)
        runs.append(res)
    data = {
        "command": "python benchmarks/dask_engine.py " + " ".join(sys.argv[1:]),
        "cpus": os.cpu_count(),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
