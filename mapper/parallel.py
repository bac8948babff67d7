"""Processes on the ground floor: how many cores there are, whether forking is safe,
and one way to spread independent pieces of work over forked children.

Several stages have work that splits into independent pieces (Leiden runs with
different seeds, random graphs of a significance test, halves of a betweenness sum,
export files). They share these helpers, so that every stage follows the same rules:
fork only on Linux and only when no other Python thread is alive (forking a
multi-threaded process can deadlock the child), never from a daemonic process, and
redo here whatever a child failed to deliver, so the result never depends on whether
a child could run.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["cpu_count", "fork_available", "fork_map"]

T = TypeVar("T")
R = TypeVar("R")


def fork_available() -> bool:
    """Whether work may go to forked processes: Linux, no other Python thread alive,
    and not inside a daemonic process (which may not have children)."""
    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


def cpu_count() -> int:
    """Cores this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _child(func: Callable[[Any], Any], items: list[Any], conn: Any) -> None:
    try:
        conn.send([func(item) for item in items])
    finally:
        conn.close()


def fork_map(func: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R]:
    """``[func(item) for item in items]``, spread over ``jobs`` processes.

    Items are dealt round-robin to ``jobs - 1`` forked children and this process.
    Results come back in the order of ``items``. A child that cannot start, fails or
    dies has its items redone here, so the result is the same whatever ``jobs`` is
    (``func`` must not depend on which process runs it). Results travel through a
    pipe, so they must pickle; ``func`` itself need not, since children are forks.
    With ``jobs <= 1``, one item, or forking unsafe, everything runs here.
    """
    items = list(items)
    jobs = min(jobs, len(items))
    if jobs <= 1 or not fork_available():
        return [func(item) for item in items]
    ctx = multiprocessing.get_context("fork")
    index = list(range(len(items)))
    chunks = [index[i::jobs] for i in range(jobs)]
    children = []
    here = list(chunks[0])
    try:
        for chunk in chunks[1:]:
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(func, [items[i] for i in chunk], send))
            proc.daemon = True
            try:
                proc.start()
            except OSError:  # no process to be had (limits, memory): do it here
                recv.close()
                here += chunk
                continue
            finally:
                send.close()
            children.append((proc, recv, chunk))
        found = {i: func(items[i]) for i in here}
        for proc, recv, chunk in children:
            try:
                results = recv.recv()
            except (EOFError, OSError):
                results = None
            proc.join()
            if results is None or proc.exitcode != 0 or len(results) != len(chunk):
                results = [func(items[i]) for i in chunk]
            found.update(zip(chunk, results, strict=True))
    finally:
        for proc, recv, _ in children:
            recv.close()
            if proc.is_alive():
                proc.terminate()
                proc.join()
    return [found[i] for i in range(len(items))]
