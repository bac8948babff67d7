"""The Dask engine: import, resolution and aggregation as Dask tasks over partitions.

:func:`build_dask` stands in for the single engine's import and resolve + graph
stages (:func:`mapper.pipeline.import_sources` and :func:`mapper.pipeline.build`)
and returns what they return: the import results, the graph and the resolution.
The run then goes on on this machine as with the single engine.

How it runs (the partition functions are in :mod:`mapper.engine.partitions`):

1. The project's file sources are expanded and cut into partitions: one per file,
   and byte ranges of ``[run] partition_mb`` for a plain JSONL archive larger than
   that. The lines of each range are counted on the cluster, to number them.
2. The roster is loaded here (a bad roster stops the run before any work is sent)
   and broadcast to every worker once.
3. Each partition is read, resolved and aggregated on a worker. Only small things
   come back: import counts, the lines set aside, one 8-byte hash per post.
4. When partitions share posts (the same post in two files or two pages), those
   partitions run again holding the shared posts out; the first copy of each, in
   import order, is resolved here, as the store would keep it.
5. The partial aggregates are merged on the cluster, eight at a time (a tree), and
   the one left comes back and becomes the graph.

What it does not do, and the single engine does: it does not store the posts (each
run reads the files again; nothing is skipped as unchanged and ``mapper store`` or
``mapper quarantine`` see no posts of it, only the lines it set aside, which it
records in the store's quarantine as an import would); it maps only the project's
file sources (not posts added by hand with ``mapper import``, nor live sources: run
those with the single engine, whose X collector also writes archive files the Dask
engine can read). Graph files and division files are read here as the single engine
reads them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mapper.errors import ConfigError, MapperError, StoreError
from mapper.progress import Meter, Progress

if TYPE_CHECKING:
    import networkx as nx

    from mapper.engine.partitions import Partial, Partition, PartitionResult
    from mapper.project import Project
    from mapper.resolve import Resolution
    from mapper.store import Store

__all__ = ["SCHEDULER_ENV", "build_dask", "dask_client", "scheduler_address"]

#: The environment variable Dask itself reads for the scheduler's address.
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"

#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT = 30

#: Partials merged by one task. Each level of the merge tree sends every tie over the
#: network and through pickle once: at 1M posts in 17 partitions, pairwise merges (5
#: levels) took about as much worker time as reading and resolving the posts.
MERGE_FANIN = 8


def _require_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the dask engine needs dask and distributed, which are not installed",
            hint="pip install 'influence-mapper[dask]' (or run without --engine dask)",
        ) from None


def scheduler_address(project: Project | None = None, scheduler: str | None = None) -> str | None:
    """The scheduler to connect to: ``scheduler`` (``--scheduler``), else the
    ``DASK_SCHEDULER_ADDRESS`` environment variable, else the project's ``[run]
    scheduler``; ``None`` means a local cluster."""
    for value in (
        scheduler,
        os.environ.get(SCHEDULER_ENV),
        project.scheduler if project else None,
    ):
        if value and value.strip():
            return value.strip()
    return None


@contextmanager
def dask_client(address: str | None = None, *, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` on the scheduler at ``address``, or on a new
    ``LocalCluster`` of ``workers`` single-threaded worker processes (by default one
    per core) that is closed on exit."""
    _require_dask()
    from distributed import Client, LocalCluster

    if address:
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"cannot reach the Dask scheduler at {address}: {exc}",
                hint=f"check the address (--scheduler, {SCHEDULER_ENV} or [run] scheduler)",
            ) from None
        try:
            yield client
        finally:
            client.close()
            release_offload_thread()
        return
    n = workers or os.cpu_count() or 1
    try:
        with (
            LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
    finally:
        release_offload_thread()


def release_offload_thread() -> None:
    """Stop the idle thread that ``distributed`` keeps after its client is closed.

    ``distributed`` moves large messages through a module-wide one-thread executor
    whose thread lives on once started. While any other thread is alive, mapper's
    analysis stages do not fork (:func:`mapper.parallel.fork_available`), so the
    factions and bridges after a Dask run would lose their second process. The
    executor is swapped for a new one (its thread starts only when next used) and the
    old one is shut down. Nothing happens when ``distributed`` is not imported or no
    longer has this executor.
    """
    import sys
    from concurrent.futures import ThreadPoolExecutor

    utils = sys.modules.get("distributed.utils")
    old = getattr(utils, "_offload_executor", None)
    if utils is None or not isinstance(old, ThreadPoolExecutor):
        return
    utils._offload_executor = ThreadPoolExecutor(  # type: ignore[attr-defined]
        max_workers=1, thread_name_prefix="Dask-Offload"
    )
    old.shutdown(wait=True)


def build_dask(
    project: Project,
    store: Store,
    *,
    scheduler: str | None = None,
    collect: bool = False,
    timings: dict[str, float] | None = None,
    progress: Progress | None = None,
    client: Any = None,
    partition_bytes: int | None = None,
) -> tuple[list[dict[str, Any]], nx.DiGraph, Resolution]:
    """Import, resolve and aggregate ``project``'s files on a Dask cluster.

    Parameters
    ----------
    project : Project
        The project.
    store : Store
        Its open store: the quarantine of the lines set aside, and the divisions of
        division sources, go there (posts do not).
    scheduler : str, optional
        The scheduler's address (see :func:`scheduler_address`).
    collect : bool
        Refused: the Dask engine reads files only.
    timings : dict, optional
        Gets ``dask`` (the distributed part) and ``graph`` (building the graph here).
    progress : callable, optional
        Hears of the partitions done.
    client : distributed.Client, optional
        A client to use instead of connecting (tests, notebooks).
    partition_bytes : int, optional
        The size of the byte ranges large JSONL archives are cut into; by default
        the project's ``[run] partition_mb``.

    Returns
    -------
    (imports, graph, resolution)
        As :func:`mapper.pipeline.import_sources` and :func:`mapper.pipeline.build`
        return them for the same files read into an empty store.

    Raises
    ------
    ConfigError
        Without dask installed, with ``collect``, or when the scheduler cannot be
        reached.
    """
    import time

    from mapper.engine.partitions import Settings
    from mapper.pipeline import _timed, finish_graph
    from mapper.resolve import load_roster
    from mapper.resolve.roster import Roster

    _require_dask()
    if collect:
        raise ConfigError(
            "the dask engine reads files only: it cannot collect live sources",
            hint="collect with the single engine (mapper run --collect), then run with dask",
        )
    timings = timings if timings is not None else {}
    roster = load_roster(project.roster) if project.roster else None
    settings = Settings.of(project)
    start = time.perf_counter()
    slots, partitions = _plan(project, store, partition_bytes)
    if client is not None:
        partial, results = _run(client, partitions, roster or Roster([]), settings, progress)
    else:
        address = scheduler_address(project, scheduler)
        with dask_client(address, workers=project.workers) as own:
            partial, results = _run(own, partitions, roster or Roster([]), settings, progress)
    imports = _imports(slots, results, store)
    timings["dask"] = timings.get("dask", 0.0) + time.perf_counter() - start
    with _timed(timings, "graph", progress) as meter:
        G, resolution = partial.graph(roster or Roster([]), name=project.name)
        G = finish_graph(project, G, roster)
        meter.counts.update(actors=G.number_of_nodes(), ties=G.number_of_edges())
    return imports, G, resolution


# --------------------------------------------------------------------------- plan


def _plan(
    project: Project, store: Store, partition_bytes: int | None = None
) -> tuple[list[Any], list[Partition]]:
    """The import results in source order (a dict, or the partitions of a file to
    fill in later) and every partition, in import order."""
    from mapper.engine.partitions import plan_file
    from mapper.pipeline import _failure, _file_paths
    from mapper.sources import describe_graph_source, import_file

    slots: list[Any] = []
    partitions: list[Partition] = []
    part_bytes = partition_bytes or project.partition_mb * 1024 * 1024
    for source in project.sources:
        if source.live:
            slots.append({"source": source.describe(), "skipped": "live source (dask engine)"})
            continue
        try:
            paths = _file_paths(project, source)
        except ConfigError as exc:
            slots.append(_failure(source.describe(), source.type, exc))
            continue
        for path in paths:
            try:
                if source.type == "graph":
                    slots.append(describe_graph_source(path, options=source.options))
                    continue
                if source.type == "divisions":  # votes stay in the store, read as now
                    key = os.path.abspath(path)
                    with store.attributed(project=project.path, key=key, kind="file"):
                        slots.append(
                            import_file(
                                source.type,
                                path,
                                store,
                                options=source.options,
                                base=project.base,
                            )
                        )
                    continue
            except StoreError:
                raise
            except MapperError as exc:
                slots.append(_failure(str(path), source.type, exc))
                continue
            parts = plan_file(
                source.type,
                path,
                source=source.index,
                first_index=len(partitions),
                partition_bytes=part_bytes,
                options=source.options,
                base=project.base,
            )
            partitions.extend(parts)
            slots.append((str(path), source.type, [p.index for p in parts]))
    return slots, partitions


# --------------------------------------------------------------------------- run


def _run(
    client: Any,
    partitions: list[Partition],
    roster: Any,
    settings: Any,
    progress: Progress | None,
) -> tuple[Partial, list[PartitionResult]]:
    """Run every partition on the cluster; return the merged partial and the results
    (without partials), by partition index."""
    from dataclasses import replace

    from mapper.engine.partitions import (
        EdgeAggregate,
        Partial,
        count_lines,
        merge_partials,
        process_partition,
        resolve_posts,
    )

    if not partitions:
        empty = EdgeAggregate(dict(settings.type_weights), settings.max_evidence)
        return Partial(empty), []
    # number the lines of the byte ranges: a prefix sum of their line counts
    ranged = [p for p in partitions if not p.whole]
    if ranged:
        counts = client.gather(client.map(count_lines, ranged, pure=False))
        before: dict[str, int] = {}
        numbered = {}
        for part, n in zip(ranged, counts, strict=True):
            numbered[part.index] = replace(part, first_line=before.get(part.path, 0) + 1)
            before[part.path] = before.get(part.path, 0) + n
        partitions = [numbered.get(p.index, p) for p in partitions]

    [roster_f] = client.scatter([roster], broadcast=True, hash=False)
    meter = Meter(progress, "dask", unit="partitions", total=len(partitions))
    meter.start()
    futures = [
        client.submit(process_partition, part, roster_f, settings, None, pure=False)
        for part in partitions
    ]
    metas = _gather_metas(client, futures, meter)

    # posts read by several partitions: hold them out there, resolve the first copies here
    shared = _shared_hashes([m.hashes for m in metas])
    driver_part: Partial | None = None
    if shared.size:
        again = {
            m.partition.index: np.intersect1d(m.hashes, shared, assume_unique=True)
            for m in metas
            if np.intersect1d(m.hashes, shared, assume_unique=True).size
        }
        for index, hold in again.items():
            futures[index] = client.submit(
                process_partition, partitions[index], roster_f, settings, hold, pure=False
            )
        for index, meta in zip(
            again, client.gather([client.submit(_meta, futures[i]) for i in again]), strict=True
        ):
            metas[index] = meta
        first: dict[str, tuple[int, Any]] = {}
        for meta in metas:
            for post in meta.held:
                had = first.get(post.uid)
                if had is None or meta.partition.index < had[0]:
                    first[post.uid] = (meta.partition.index, post)
        losers: dict[int, int] = {}
        for meta in metas:
            for post in meta.held:
                if first[post.uid][0] != meta.partition.index:
                    losers[meta.partition.index] = losers.get(meta.partition.index, 0) + 1
        for index, n in losers.items():
            counts = metas[index].counts
            counts["added"] = counts.get("added", 0) - n
            counts["duplicates"] = counts.get("duplicates", 0) + n
            metas[index].held = []
        driver_part = resolve_posts([post for _i, post in first.values()], roster, settings)

    # merge the partials on the cluster, MERGE_FANIN at a time: every level of the tree
    # moves every tie once, so few levels
    level = futures
    while len(level) > 1:
        level = [
            client.submit(merge_partials, *level[i : i + MERGE_FANIN], pure=False)
            for i in range(0, len(level), MERGE_FANIN)
        ]
    merged: Partial = client.gather(level[0])
    if not isinstance(merged, Partial):  # one partition: its result
        merged = merge_partials(merged)
    del futures, level  # released on the cluster
    if driver_part is not None:
        merged.merge(driver_part)
    meter.finish(partitions=len(partitions), posts=merged.posts)
    return merged, metas


def _meta(result: PartitionResult) -> PartitionResult:
    return result.meta()


def _gather_metas(client: Any, futures: list[Any], meter: Meter) -> list[PartitionResult]:
    from distributed import as_completed

    meta_futures = [client.submit(_meta, f, pure=False) for f in futures]
    where = {f.key: i for i, f in enumerate(meta_futures)}
    metas: list[Any] = [None] * len(futures)
    for future, meta in as_completed(meta_futures, with_results=True):
        metas[where[future.key]] = meta
        meter.advance()
    return metas


def _shared_hashes(hashes: list[np.ndarray]) -> np.ndarray:
    """The hashes found in more than one of ``hashes`` (each already unique)."""
    if not hashes:
        return np.empty(0, dtype="<u8")
    every = np.sort(np.concatenate(hashes))
    return np.unique(every[1:][every[1:] == every[:-1]])


# --------------------------------------------------------------------------- results


def _imports(
    slots: list[Any], results: list[PartitionResult], store: Store
) -> list[dict[str, Any]]:
    """The import results in source order, and the lines set aside into the store's
    quarantine (replacing those of the file's last import, as an import does)."""
    from mapper.collectors.x_archive import archive_problem

    out: list[dict[str, Any]] = []
    by_index = {r.partition.index: r for r in results}
    for slot in slots:
        if isinstance(slot, dict):
            out.append(slot)
            continue
        label, kind, indices = slot
        parts = [by_index[i] for i in indices]
        source = os.path.abspath(label)
        error = next((p.error for p in parts if p.error), None)
        if error is None and len(parts) > 1:
            problem = _range_problem(label, parts, archive_problem)
            error = problem.one_line() if problem is not None else None
        store.clear_quarantine(source)
        if error is not None:
            out.append({"source": label, "type": kind, "error": error})
            continue
        counts: dict[str, Any] = {}
        for part in parts:
            for key, value in part.counts.items():
                if isinstance(value, bool) or not isinstance(value, int):
                    counts.setdefault(key, value)
                else:
                    counts[key] = counts.get(key, 0) + value
        counts["source"] = label
        out.append({"source": label, "type": kind, **counts})
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for part in parts:
            for src, line, reason, raw in part.bad:
                rows.setdefault(src, []).append((line, reason, raw))
        for src, items in rows.items():
            if src != source:
                store.clear_quarantine(src)
            store.quarantine_many(src, items)
    return out


def _range_problem(label: str, parts: list[PartitionResult], archive_problem: Any) -> Any:
    """The whole-file verdict of a file read in byte ranges."""
    from collections import Counter

    first = next(
        (p.reading["first_bad"] for p in parts if p.reading.get("first_bad") is not None), None
    )
    first_problem = " ".join(f"line {first[0]}: {first[1]}".splitlines()) if first else ""
    not_posts: Counter[str] = Counter()
    for part in parts:
        not_posts.update(part.reading.get("not_posts", {}))
    return archive_problem(
        Path(label),
        lines=max(p.reading.get("lines", 0) for p in parts),
        readable=sum(p.reading.get("readable", 0) for p in parts),
        bad_count=sum(p.reading.get("bad_count", 0) for p in parts),
        first_problem=first_problem,
        post_records=sum(p.reading.get("post_records", 0) for p in parts),
        not_posts=not_posts,
    )
