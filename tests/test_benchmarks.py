"""Smoke test of the benchmark harness (``benchmarks/run.py``) at its smallest size.

No timing is asserted: the harness only has to run every stage and produce a
non-trivial graph, and its figures must render into ``RESULTS.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def harness():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import report
        import run

        yield run, report
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_harness_runs_every_stage_at_10k(harness, tmp_path):
    run, report = harness
    results = run.run("10k", workdir=tmp_path, references=False, peers=True, rerun=True)
    stages = results["stages"]
    expected = {
        "bare orjson parse",
        "import",
        "resolve + graph",
        "resolve",
        "graph",
        "re-import unchanged",
        "analysis",
        "factions",
        "bridges",
        "alliances",
        "layout",
        "outputs",
        "tables",
        "maps",
        "exports",
    }
    assert expected <= set(stages)
    assert all(stage["seconds"] >= 0 for stage in stages.values())
    assert results["graph"]["actors"] > 100 and results["graph"]["ties"] > 100
    assert results["factions_found"] >= 2
    assert results["whole_pipeline_s"] > 0 and results["peak_rss_mb"] > 0
    assert results["import_plus_graph_vs_parse"] > 0
    assert 0 < results["map_mb"] < 5
    # the rerun, in a new process, reuses the graph the first run cached
    graph_only = results["rerun_graph"]
    assert graph_only["reused"] == ["resolve", "graph"] and graph_only["notices"] == []
    assert "reuse" in graph_only["stages"] and "resolve" not in graph_only["stages"]
    assert "factions" in graph_only["stages"]
    again = results["rerun"]
    assert again["reused"][-1] == "exports" and again["notices"] == []
    assert "factions" not in again["stages"] and "exports" not in again["stages"]
    out = tmp_path / "out"
    for name in ("map.html", "graph.gexf", "graph.graphml", "nodes.csv", "edges.parquet"):
        assert (out / name).is_file(), name

    # The figures render into RESULTS.md (in a scratch folder, not the repository's).
    results["machine"] = run.machine()
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "10k.json").write_text(json.dumps(results, default=str), encoding="utf-8")
    # twarc-network on the same archive, or a clear note when it is not installed
    peer = results["twarc_network"]
    if run.twarc_network_available():
        assert peer["nodes"] > 100 and peer["edges"] > 100 and peer["graph_s"] > 0
        assert peer["vs_parse"] > 0 and peer["peak_rss_mb"] > 0
    else:
        assert "not installed" in peer["skipped"] and "bench" in peer["skipped"]
    assert results["graph_files"] == "whole graph"  # 10k is below the export limits

    # A "## Timeline" section of the existing file survives the rewrite, and snippets
    # in the results folder are rendered.
    target = tmp_path / "RESULTS.md"
    target.write_text(
        "# old\n\n## 10k: stale\n\nold table\n\n## Timeline\n\n- 09:00 merged\n",
        encoding="utf-8",
    )
    (folder / "extra.md").write_text("## Extra\n\nA snippet.\n", encoding="utf-8")
    text = report.write_results(target, folder).read_text(encoding="utf-8")
    assert "## 10k: 10,000 posts" in text and "## Targets of issue 15" in text
    assert "| exports |" in text and "map under 5 MB (10k)" in text
    assert "whole rerun on an unchanged store and roster at most 15 s (10k)" in text
    assert "## Side by side" in text and "old table" not in text
    assert text.rstrip().endswith("## Timeline\n\n- 09:00 merged")
    assert "## Extra\n\nA snippet." in text
    assert "whole pipeline, 10M posts, one machine | at most 12 min and 4 GB | not run" in text


def test_twarc_network_missing_is_skipped_with_a_note(harness, tmp_path, monkeypatch):
    run, report = harness
    monkeypatch.setattr(run, "twarc_network_available", lambda: False)
    result = run.twarc_network(tmp_path / "archive.jsonl", 1.0)
    assert set(result) == {"skipped"}
    assert "pip install -e '.[bench]'" in result["skipped"]
    lines = report._side_by_side(
        {
            "10k": {
                "stages": {
                    "bare orjson parse": {"seconds": 0.1},
                    "import": {"seconds": 1.0},
                    "resolve + graph": {"seconds": 1.0},
                },
                "twarc_network": result,
                "import_plus_graph_vs_parse": 20.0,
            }
        }
    )
    text = "\n".join(lines)
    assert "| not run |" in text and "twarc-network is not installed" in text
