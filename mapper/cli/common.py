"""Pieces shared by the command modules: where the store is, how errors, progress and
the summary of a collection are shown.

Progress goes to stderr only: a rich bar on a terminal (:func:`rich_progress`), plain
lines otherwise (:func:`plain_progress`), fed by the library's
:class:`~mapper.progress.ProgressEvent` callbacks.

The ``collect ...`` commands all run the same way: :func:`run_collection` opens the
store, shows a spinner with the pages and posts so far (:func:`collection_progress`),
makes one library call, prints the counts as JSON on stdout when asked and a one-line
summary on stderr (:func:`report`); :func:`reported_errors` turns a
:class:`~mapper.errors.MapperError` into one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import typer

from mapper.errors import MapperError

if TYPE_CHECKING:
    from mapper.collectors.base import CollectResult
    from mapper.progress import ProgressEvent
    from mapper.store import Store

#: The ``on_page`` callback the collectors accept.
OnPage = Callable[["CollectResult"], None]

DEFAULT_PROJECT = Path("mapper.toml")
DEFAULT_STORE = Path("mapper.sqlite")

StoreOption = typer.Option(
    None,
    "--store",
    help="SQLite store to write to (default: the project's store, else ./mapper.sqlite).",
)
ProjectOption = typer.Option(
    None, "--project", "-p", help="Project file (default: ./mapper.toml when it exists)."
)
JsonOption = typer.Option(False, "--json", help="Also print the counts as JSON on stdout.")


def store_path(store: Path | None = None, project: Path | None = None) -> Path:
    """Return the store path: ``--store``, else the project's store (the one ``mapper run``
    uses: its ``store`` option, or ``store.sqlite`` in its output folder), else
    ``./mapper.sqlite``."""
    if store is not None:
        return store
    project = project or (DEFAULT_PROJECT if DEFAULT_PROJECT.exists() else None)
    if project is not None:
        from mapper.project import load_project

        return load_project(project).store
    return DEFAULT_STORE


def open_store(store: Path | None = None, project: Path | None = None) -> Store:
    """Open the store chosen by :func:`store_path`."""
    from mapper.store import Store

    return Store(store_path(store, project))


def say(message: str) -> None:
    """Print a message for the user on stderr (data goes to stdout); quiet with ``-q``."""
    from mapper.cli import say as cli_say

    cli_say(message)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a :class:`~mapper.errors.MapperError` into one line on stderr and exit 1.

    An interrupt (Ctrl-C) says how to resume and exits 130.
    """
    try:
        yield
    except MapperError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        raise typer.Exit(130) from None


#: Seconds between two plain progress lines of a running stage (``-v``: one second).
PLAIN_INTERVAL = 5.0


def plain_progress(
    stream: TextIO, *, verbose: bool = False, interval: float | None = None
) -> Callable[[ProgressEvent | str], None]:
    """A progress callback writing plain lines to ``stream`` (for logs and pipes).

    A line when a stage starts; while it runs, at most one line every ``interval``
    seconds (5, or 1 with ``verbose``) with its counts, rate and time left; a last line
    for a stage that counted something (posts, actors, ties). With ``verbose`` every
    part of a stage (each file imported) gets a line too. Text events (a collection's
    pages and posts so far) get a line only once ``interval`` has passed.
    """
    every = interval if interval is not None else (1.0 if verbose else PLAIN_INTERVAL)
    state: dict[str, Any] = {"stage": None, "part": None, "last": -math.inf}

    def write(text: str) -> None:
        state["last"] = time.monotonic()
        print(f"mapper: {text}", file=stream, flush=True)

    def step(event: ProgressEvent | str) -> None:
        now = time.monotonic()
        if isinstance(event, str):  # a line of text (the collectors' pages and posts)
            stage = event.split(":", 1)[0]
            if stage != state["stage"]:  # quiet at first: a quick command stays one line
                state["stage"], state["last"] = stage, now
            elif now - state["last"] >= every:
                write(event)
            return
        if event.finished:
            if event.done is not None or event.counts or verbose:
                write(str(event))
            state["stage"] = state["part"] = None
            return
        part = (event.stage, event.detail)
        if event.stage != state["stage"]:
            state["stage"], state["part"] = event.stage, part
            write(str(event))
        elif now - state["last"] >= every or (verbose and part != state["part"]):
            state["part"] = part
            write(str(event))

    return step


@contextmanager
def rich_progress(*, verbose: bool = False) -> Iterator[Callable[[ProgressEvent | str], None]]:
    """A progress bar on stderr (a terminal): stage, counts, rate and time left.

    With ``verbose``, the line of each finished stage stays on the screen.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def step(event: ProgressEvent | str) -> None:
            if isinstance(event, str):
                bar.update(task, description=event, total=None)
                return
            if event.finished:
                if verbose:
                    bar.console.print(str(event), markup=False, highlight=False)
                return
            share = event.share
            bar.update(
                task,
                description=str(event),
                total=None if share is None else 1000,
                completed=0 if share is None else round(share * 1000),
            )

        yield step


@contextmanager
def collection_progress(label: str) -> Iterator[OnPage]:
    """The CLI's spinner on stderr, showing pages and posts so far.

    Yields the ``on_page`` callback the collectors accept.
    """
    from mapper.cli import progress_bar

    with progress_bar() as step:
        step(label)
        yield lambda result: step(f"{label}: {result.pages} pages, {result.posts} posts")


def report(result: CollectResult, *, as_json: bool, unit: str = "pages", after: str = "") -> None:
    """Print the counts as JSON on stdout when asked, and the summary line on stderr."""
    if as_json:
        print(json.dumps(asdict(result), indent=2, default=str))
    say(result.summary(unit) + after)


def run_collection(
    work: Callable[[Store, OnPage], CollectResult],
    *,
    store: Path | None,
    project: Path | None,
    label: str,
    as_json: bool,
    unit: str = "pages",
    after: str = "",
) -> None:
    """Open the store, run ``work(store, on_page)`` under a spinner, and report.

    A :class:`~mapper.errors.MapperError` becomes one line on stderr and exit code 1.
    """
    with reported_errors(), open_store(store, project) as st, collection_progress(label) as step:
        result = work(st, step)
    report(result, as_json=as_json, unit=unit, after=after)
