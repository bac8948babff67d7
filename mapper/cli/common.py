"""Pieces shared by the command modules: where the store is, how errors are shown."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from mapper.store import Store

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


def store_path(store: Path | None = None, project: Path | None = None) -> Path:
    """Return the store path: ``--store``, else the project's ``store``, else ``mapper.sqlite``."""
    if store is not None:
        return store
    project = project or (DEFAULT_PROJECT if DEFAULT_PROJECT.exists() else None)
    if project is not None and project.exists():
        with open(project, "rb") as fh:
            data = tomllib.load(fh)
        configured = data.get("project", {}).get("store")
        if configured:
            return (project.parent / configured).resolve()
    return DEFAULT_STORE


def open_store(store: Path | None = None, project: Path | None = None) -> Store:
    """Open the store chosen by :func:`store_path`."""
    from mapper.store import Store

    return Store(store_path(store, project))


def say(message: str) -> None:
    """Print a message for the user on stderr (data goes to stdout)."""
    print(message, file=sys.stderr)
