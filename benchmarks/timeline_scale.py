"""Benchmark the timeline: weekly windows over a year of posts.

Generates the harness's planted X archive (``benchmarks/generate.py``), spreads its
post times over a year (the generator spreads them over 90 days: every time is
stretched from 1 July 2016 by 365/90, referenced posts included, so the order of the
posts is kept), then runs :func:`mapper.timeline.run_timeline` with ``--every 1w`` on
a fresh project (import once, resolve once, then each window's graph and analysis:
factions with 10 runs and 20 random graphs, bridges, alliances) and writes the timeline
files. Reports the time of each part (import + resolve, the windows, the outputs), the
slowest window, and the process's peak resident set.

Examples::

    python benchmarks/timeline_scale.py --posts 100000
    python benchmarks/timeline_scale.py --posts 1000000 --json \
        > benchmarks/results/timeline_scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

BASE = datetime(2016, 7, 1, tzinfo=UTC)
STRETCH = 365 / 90


def _stretch(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moved = BASE + timedelta(seconds=(moment - BASE).total_seconds() * STRETCH)
    return moved.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def spread_over_a_year(archive: Path) -> None:
    """Rewrite ``archive`` with every ``created_at`` stretched over a year."""
    tmp = archive.with_suffix(".tmp")
    with open(archive, "rb") as src, open(tmp, "wb") as dst:
        for line in src:
            page = orjson.loads(line)
            for tweet in page.get("data", []) + page.get("includes", {}).get("tweets", []):
                if "created_at" in tweet:
                    tweet["created_at"] = _stretch(tweet["created_at"])
            dst.write(orjson.dumps(page) + b"\n")
    os.replace(tmp, archive)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(posts: int, workdir: Path, *, every: str = "1w", seed: int = 1) -> dict[str, Any]:
    from generate import generate

    from mapper.project import load_project
    from mapper.render.timeline import write_timeline
    from mapper.timeline import run_timeline

    out: dict[str, Any] = {"posts": posts, "every": every, "seed": seed}
    start = time.perf_counter()
    info = generate(workdir, posts, seed=seed)
    spread_over_a_year(Path(info["archive"]))
    out["generate_s"] = round(time.perf_counter() - start, 2)
    out["accounts"] = info["accounts"]
    out["planted_factions"] = info["factions"]
    project = workdir / "mapper.toml"
    project.write_text(
        "[project]\nname = 'timeline benchmark'\nroster = 'roster.csv'\n"
        "[[sources]]\ntype = 'x-archive'\npath = 'archive.jsonl'\n",
        encoding="utf-8",
    )
    stamps: list[tuple[str, float]] = []

    tracking: list[float] = []

    def progress(event: Any) -> None:
        if isinstance(event, str) and event.startswith("window "):
            stamps.append((event, time.perf_counter()))
        elif isinstance(event, str) and event.startswith("timeline: "):
            tracking.append(time.perf_counter())

    proj = load_project(project)
    start = time.perf_counter()
    tl = run_timeline(proj, every=every, progress=progress)
    end = time.perf_counter()
    out["timeline_s"] = round(end - start, 2)
    out["import_and_resolve_s"] = round(stamps[0][1] - start, 2) if stamps else None
    windows_end = tracking[0] if tracking else end
    out["union_graph_and_matching_s"] = round(end - windows_end, 2) if tracking else None
    durations = []
    for i, (label, t) in enumerate(stamps):
        nxt = stamps[i + 1][1] if i + 1 < len(stamps) else windows_end
        durations.append((round(nxt - t, 2), label))
    out["windows_s"] = round(sum(d for d, _ in durations), 2)
    out["slowest_window"] = max(durations) if durations else None
    out["peak_rss_mb_after_timeline"] = round(peak_mb())
    start = time.perf_counter()
    write_timeline(tl, workdir / "outputs" / "timeline")
    out["outputs_s"] = round(time.perf_counter() - start, 2)
    out["peak_rss_mb"] = round(peak_mb())
    summary = tl.summary()
    out["windows"] = summary["windows"]
    out["supported_windows"] = summary["supported_windows"]
    out["factions_followed"] = summary["factions"]
    out["moves"] = summary["moves"]
    rows = tl.window_rows()
    out["references_per_window"] = [r["references"] for r in rows]
    out["actors_per_window_max"] = max(r["actors"] for r in rows)
    out["load"] = [round(x, 2) for x in os.getloadavg()]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--every", default="1w")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        result = run(args.posts, workdir, every=args.every, seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            if key != "references_per_window":
                print(f"{key}: {value}")


if __name__ == "__main__":
    main()
