"""Peak memory of importing tables full of bad rows: it must not grow with them.

Generates, in a work folder, the two inputs of issue 13 (item 10) and imports each into
a fresh store in a child process, reporting that process's peak resident memory, the
time, the posts stored and the quarantine rows written:

* ``bad_rows.csv``: an edge table of ``--rows`` rows (2,000,000 by default) whose
  weights are not numbers, so every row is quarantined;
* ``quoted_cell.csv``: an edge table with one good row, then a row whose quoted cell
  holds ``--cell-mb`` megabytes (50 by default) of short lines (``x`` and a line
  break: once the csv module gives up on the cell, each of them reads as a bad row of
  its own), then one more good row.

``--code DIR`` runs the import with another checkout's ``mapper`` package first on the
path (for a before/after comparison). Each import runs in its own process, so the
figure is the importer's alone.

Usage::

    python benchmarks/bad_rows_memory.py --workdir /tmp/bad-rows
    python benchmarks/bad_rows_memory.py --workdir /tmp/bad-rows --code /tmp/old-checkout
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = """
import json, resource, sys, time
import mapper
from mapper.collectors.tables import import_edge_table
from mapper.store import Store
start = time.perf_counter()
with Store(sys.argv[1]) as store:
    result = import_edge_table(store, sys.argv[2])
    posts = store.count_posts()
    rows = store.quarantine_count()
print(json.dumps({
    "seconds": round(time.perf_counter() - start, 1),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    "posts_in_store": posts,
    "quarantine_rows": rows,
    "quarantined": result.quarantined,
    "mapper": mapper.__file__,
}))
"""


def make_bad_rows(path: Path, rows: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("source,target,weight\n")
        for i in range(rows):
            fh.write(f"user{i},user{i + 1},heavy{i}\n")


def make_quoted_cell(path: Path, megabytes: float) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('source,target,weight\nalice,bob,1\ncarol,"')
        block = "x\n" * (1 << 19)
        for _ in range(int(megabytes)):
            fh.write(block)
        fh.write('",2\ndave,erin,3\n')


def run(code: Path, store: Path, table: Path) -> dict[str, object]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code) + os.pathsep + env.get("PYTHONPATH", "")
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(store), str(table)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=store.parent,  # not a checkout: `python -c` puts the current folder first
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:], "returncode": out.returncode}
    figures: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    figures["wall_seconds"] = round(time.perf_counter() - start, 1)
    figures["file_mb"] = round(table.stat().st_size / 1e6, 1)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description="Peak memory of importing bad rows.")
    ap.add_argument("--rows", type=int, default=2_000_000, help="Bad rows in bad_rows.csv.")
    ap.add_argument("--cell-mb", type=float, default=50, help="Megabytes of the quoted cell.")
    ap.add_argument("--code", type=Path, default=HERE.parent, help="Checkout to import with.")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--only", choices=("bad-rows", "quoted-cell"), default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mapper-bad-rows-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"code": str(args.code)}
    cases = {
        "bad-rows": ("bad_rows.csv", lambda p: make_bad_rows(p, args.rows)),
        "quoted-cell": ("quoted_cell.csv", lambda p: make_quoted_cell(p, args.cell_mb)),
    }
    for name, (file_name, make) in cases.items():
        if args.only and name != args.only:
            continue
        table = work / file_name
        if not table.exists():
            make(table)
        store = work / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)
        results[name] = run(args.code, store, table)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
