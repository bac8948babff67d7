"""Pieces shared by the command modules: where the store is, how errors, progress and
the summary of a collection are shown.

The ``collect ...`` commands all run the same way: :func:`run_collection` opens the
store, shows a spinner with the pages and posts so far (:func:`collection_progress`),
makes one library call, prints the counts as JSON on stdout when asked and a one-line
summary on stderr (:func:`report`); :func:`reported_errors` turns a
:class:`~mapper.errors.MapperError` into one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mapper.errors import MapperError

if TYPE_CHECKING:
    from mapper.collectors.base import CollectResult
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
