"""Import a large archive and record peak memory: streaming means bounded memory.

Generates a twarc2 archive of about ``--gb`` gigabytes (with ``benchmarks/generate.py``)
in a child process, then imports it into a fresh store in another child process and
reports that process's peak resident memory, the archive size and the time taken.
Each step runs in its own process so the figure is the importer's alone.

Usage::

    python benchmarks/import_memory.py --gb 1.0 --json benchmarks/import_memory.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BYTES_PER_POST = 532  # measured: 53.2 MB for 100k generated posts

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from mapper.collectors.x_archive import import_archive
from mapper.store import Store
start = time.perf_counter()
with Store({store!r}) as store:
    result = import_archive(store, {archive!r})
    count = store.count_posts()
print(json.dumps({{
    "seconds": round(time.perf_counter() - start, 1),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    "posts_in_store": count,
    "quarantined": getattr(result, "quarantined", None),
}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description="Peak memory of importing a large archive.")
    ap.add_argument("--gb", type=float, default=1.0, help="Archive size to generate (GB).")
    ap.add_argument("--json", type=Path, default=None, help="Write the figures here too.")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="mapper-import-memory-"))
    posts = int(args.gb * 1e9 / BYTES_PER_POST)
    gen = [sys.executable, str(HERE / "generate.py"), "--posts", str(posts), "--out", str(work)]
    subprocess.run(gen, check=True)
    archive = work / "archive.jsonl"
    code = CHILD.format(
        root=str(HERE.parent), store=str(work / "store.sqlite"), archive=str(archive)
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures.update(
        {
            "archive_gb": round(archive.stat().st_size / 1e9, 2),
            "posts_generated": posts,
            "wall_seconds": round(time.perf_counter() - start, 1),
        }
    )
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
