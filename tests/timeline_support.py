"""What the timeline tests share: the Monday their weekly windows start on, actor
names, and a project over an edges table of timed ties."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

#: A Monday: weekly windows start here.
MONDAY = datetime(2016, 7, 4, tzinfo=UTC)


def names(prefix: str, n: int) -> list[str]:
    """``n`` actor ids: ``prefix`` and a two-digit number."""
    return [f"{prefix}{i:02d}" for i in range(n)]


def edges_project(
    folder: Path,
    rows: list[tuple[str, str, str]],
    *,
    seed: int,
    name: str = "planted",
    output: str | None = None,
) -> Path:
    """Write ``rows`` (source, target, ISO time) as ``folder/edges.csv`` and a
    ``mapper.toml`` reading it, factions seeded with ``seed``; return the project."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "edges.csv", "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["source", "target", "time"])
        out.writerows(rows)
    project = folder / "mapper.toml"
    where = f"output = '{output}'\n" if output else ""
    project.write_text(
        f"[project]\nname = '{name}'\n{where}"
        "[[sources]]\ntype = 'edges-csv'\npath = 'edges.csv'\n"
        f"[factions]\nseed = {seed}\n",
        encoding="utf-8",
    )
    return project
