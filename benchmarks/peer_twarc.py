"""Build the user graph of a twarc2 JSONL archive with twarc's network plugin, timed.

Run by ``benchmarks/run.py`` in a subprocess (so its peak memory is its own)::

    python benchmarks/peer_twarc.py ARCHIVE.jsonl [--gexf OUT.gexf]

It calls ``twarc_network.get_graph``, the function behind ``twarc2 network
ARCHIVE.jsonl`` (users as nodes; retweet, reply, quote and mention edges, the
plugin's defaults), on the open file, as the command does, and prints one JSON
object: seconds to build the graph (reading and parsing included), nodes, edges,
this process's peak RSS, and with ``--gexf`` the seconds networkx took to write it
as GEXF (what ``twarc2 network --format gexf`` does next). Needs the ``bench``
extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from importlib import metadata


def peak_rss_mb() -> float:
    """This program's peak resident memory, in MB: ``VmHWM`` (Linux), which starts
    afresh at ``exec``, unlike ``ru_maxrss``, which keeps what the forking parent had."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive")
    ap.add_argument("--gexf", default=None, help="also write the graph as GEXF here")
    args = ap.parse_args()
    try:
        import networkx
        from twarc_network import get_graph
    except ImportError as exc:
        print(json.dumps({"error": f"twarc-network is not installed ({exc})"}))
        sys.exit(2)
    edge_types = ("retweet", "reply", "quote", "mention")
    start = time.perf_counter()
    with open(args.archive, encoding="utf-8") as fh:
        g = get_graph(fh, "users", edge_types, False)
    seconds = time.perf_counter() - start
    out = {
        "tool": "twarc-network",
        "version": metadata.version("twarc-network"),
        "twarc": metadata.version("twarc"),
        "graph_s": round(seconds, 3),
        "nodes": g.number_of_nodes(),
        "edges": g.number_of_edges(),
        "peak_rss_mb": peak_rss_mb(),
    }
    if args.gexf:
        start = time.perf_counter()
        networkx.write_gexf(g, args.gexf)
        out["gexf_s"] = round(time.perf_counter() - start, 3)
        out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
