"""Benchmark the co-voting stage at House of Commons scale: 650 MPs, 1,000 divisions.

Generates a seeded voting record shaped like a Commons session: a governing party of
365 and a confidence partner of 8 (one bloc), an opposition of 200 + 48 + 11 + 4 + 1
members (two thirds of the time all on one side, otherwise the second party goes its
own way), 13 independents voting at random; 96% loyalty (85% for the government in one
division in 30, a rebellion that makes it close), about 12% of members not voting in
any division. Then it times, one after the
other, every step the pipeline's co-voting stage runs:

- ``import``: the long table into a store (``import_division_file``);
- the member index and the votes table, read back from the store at once
  (:func:`~mapper.votes.votes_with_index`, as the pipeline does), then the
  per-division summaries (the pipeline's ``votes`` stage, which runs anyway);
- ``vote_matrix``, ``pair_agreement``, ``covoting_graph``, ``voting_blocs``
  (detection with 10 runs and 20 random graphs), ``defectors + cohesion``,
  ``persuadable``, ``talk_vote`` (against a synthetic interaction graph of the same
  MPs), and the whole :func:`~mapper.analysis.covoting.covoting` call;
- ``outputs``: the tables, ``covoting.md``, ``covoting.html`` and the exports.

Memory: the process's peak resident set after each step, and (second pass, without
timing) the peak of Python-traced allocations (``tracemalloc``, numpy included) of
the whole analysis.

Examples::

    python benchmarks/covoting_scale.py
    python benchmarks/covoting_scale.py --members 650 --divisions 1000 \
        --json > benchmarks/results/covoting_scale.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mapper.analysis import covoting as cv

PARTIES = (  # (party, members, bloc)
    ("Conservative", 365, "government"),
    ("Democratic Unionist Party", 8, "government"),
    ("Labour", 200, "opposition"),
    ("Scottish National Party", 48, "second"),
    ("Liberal Democrat", 11, "opposition"),
    ("Plaid Cymru", 4, "second"),
    ("Green Party", 1, "opposition"),
    ("Independent", 13, ""),
)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def write_record(path: Path, members: int, divisions: int, seed: int) -> dict[str, str]:
    """Write the long table; return member name -> party."""
    rng = random.Random(seed)
    scale = members / sum(n for _, n, _ in PARTIES)
    roster: list[tuple[str, str, str]] = []
    for party, size, bloc in PARTIES:
        for i in range(max(1, round(size * scale))):
            roster.append((f"{party} MP {i:03d}", party, bloc))
    roster = roster[:members]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["member", "party", "division", "date", "title", "vote", "constituency"])
        for d in range(divisions):
            gov = rng.choice(("aye", "no"))
            opp = "no" if gov == "aye" else "aye"
            side = {"government": gov, "opposition": opp}
            side["second"] = opp if rng.random() < 2 / 3 else rng.choice(("aye", "no"))
            # one division in 30 is a government rebellion: a close division
            loyalty = {"government": 0.85 if rng.random() < 1 / 30 else 0.96}
            day = f"2020-{1 + d // 90 % 12:02d}-{1 + d % 28:02d}"
            for name, party, bloc in roster:
                if rng.random() < 0.12:
                    vote = "no vote"
                elif not bloc:
                    vote = rng.choice(("aye", "no"))
                else:
                    own = side[bloc]
                    loyal = loyalty.get(bloc, 0.96)
                    vote = own if rng.random() < loyal else ("no" if own == "aye" else "aye")
                w.writerow([name, party, d, day, f"Motion {d}", vote, f"Seat of {name}"])
    return {name: party for name, party, _ in roster}


def social_graph(names: list[str], seed: int) -> nx.DiGraph:
    """Each MP mentions 6 others, mostly of their own party (the actors are the
    member keys, as when no roster resolves them)."""
    rng = random.Random(seed)
    G = nx.DiGraph()
    by_party: dict[str, list[str]] = {}
    for node, party in names:
        by_party.setdefault(party, []).append(node)
    nodes = [n for n, _ in names]
    for node, party in names:
        for _ in range(6):
            pool = by_party[party] if rng.random() < 0.8 else nodes
            other = rng.choice(pool)
            if other != node:
                G.add_edge(node, other, weight=float(rng.randint(1, 3)))
    return G


def run(members: int, divisions: int, seed: int, trace: bool) -> dict[str, Any]:
    from mapper.collectors.divisions import import_division_file
    from mapper.export import export_all
    from mapper.render.covoting import (
        write_covoting_map,
        write_covoting_md,
        write_covoting_tables,
    )
    from mapper.store import Store
    from mapper.votes import division_summaries_of, divisions_frame, votes_with_index

    seconds: dict[str, float] = {}
    rss: dict[str, float] = {}
    out: dict[str, Any] = {"members": members, "divisions": divisions, "seed": seed}
    out["load_1m_start"] = _load()

    def step(name: str, started: float) -> None:
        seconds[name] = round(time.perf_counter() - started, 3)
        rss[name] = round(_rss_mb(), 1)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = folder / "votes.csv"
        write_record(table, members, divisions, seed)
        out["rows"] = members * divisions
        with Store(folder / "store.sqlite") as store:
            t = time.perf_counter()
            import_division_file(store, table)
            step("import", t)
            t = time.perf_counter()
            votes, index = votes_with_index(store)
            step("votes table and member index (one read of the store)", t)
            t = time.perf_counter()
            summaries = division_summaries_of(store, index=index)
            divs = divisions_frame(store, index=index, summaries=summaries)
            step("per-division summaries (the votes stage, before co-voting)", t)
        t = time.perf_counter()
        matrix = cv.vote_matrix(votes, divs)
        step("vote_matrix", t)
        t = time.perf_counter()
        agreement = cv.pair_agreement(matrix)
        step("pair_agreement", t)
        t = time.perf_counter()
        G = cv.covoting_graph(matrix, agreement)
        step("covoting_graph", t)
        t = time.perf_counter()
        blocs = cv.voting_blocs(G, seed=seed)
        step("voting_blocs", t)
        t = time.perf_counter()
        cv.bloc_defectors(G, blocs, matrix, agreement)
        cv.party_cohesion(matrix, blocs)
        step("defectors + cohesion", t)
        t = time.perf_counter()
        close, persuadable, _ = cv.persuadable_members(matrix, agreement)
        step("persuadable", t)
        parties = matrix.members["party"].tolist()
        social = social_graph(list(zip(matrix.nodes, parties, strict=True)), seed)
        t = time.perf_counter()
        cv.talk_vote(social, matrix, agreement)
        step("talk_vote", t)
        t = time.perf_counter()
        result = cv.covoting(votes, divisions=divs, social=social, seed=seed)
        step("covoting (all of the above)", t)
        t = time.perf_counter()
        write_covoting_tables(result, folder / "out")
        write_covoting_md(result, folder / "out" / "covoting.md")
        page = write_covoting_map(result, folder / "out" / "covoting.html")
        export_all(result.graph, folder / "out" / "covoting")
        step("outputs (tables, covoting.md, covoting.html, exports)", t)
        out["page_mb"] = round(page["path"].stat().st_size / 1e6, 2)
    out["seconds"] = seconds
    out["peak_rss_mb"] = rss
    summary = result.summary()
    out["result"] = {
        "scored_pairs": summary["scored_pairs"],
        "ties": summary["ties"],
        "blocs": [b["name"] for b in summary["blocs"]],
        "blocs_basis": result.blocs.basis,
        "significant": result.blocs.significant,
        "close_divisions": len(close),
        "persuadable": len(persuadable),
    }
    if trace:
        tracemalloc.start()
        cv.covoting(votes, divisions=divs, social=social, seed=seed)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["traced_peak_mb"] = round(peak / 1e6, 1)
    out["load_1m_end"] = _load()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--members", type=int, default=650)
    ap.add_argument("--divisions", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-trace", action="store_true", help="skip the tracemalloc pass")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    res = run(args.members, args.divisions, args.seed, trace=not args.no_trace)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    for name, value in res["seconds"].items():
        print(f"{name:60s} {value:8.2f} s   peak RSS {res['peak_rss_mb'][name]:8.1f} MB")
    print(json.dumps(res["result"], indent=1))
    if "traced_peak_mb" in res:
        print(f"traced peak of covoting(): {res['traced_peak_mb']} MB")


if __name__ == "__main__":
    main()
