"""What the faster analysis and output stages (issue 15) must keep: the same
verdicts, the same files, and the same text, whatever path computes them.

No timings here: the speed is measured by ``benchmarks/`` and written down there.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import mapper.text as text_module
from mapper.analysis import factions as factions_module
from mapper.analysis.factions import detect_factions
from mapper.analysis.strength import (
    SIGNIFICANCE_FAR_Z,
    SIGNIFICANCE_MIN_SAMPLES,
    rewired,
    settled,
    significance,
)
from mapper.text import display_label, display_text

# ------------------------------------------------------------------ display text

# Characters that the cleaning removes, folds or keeps, with plain letters between.
_ALPHABET = st.sampled_from(
    ["a", "b", " ", "\n", "\r", "\t", "\x85", "\u2028", "\u202e", "\u200b", "\xa0", "é", "\ud800"]
)


@settings(max_examples=1000, deadline=None)
@given(
    text=st.text(_ALPHABET, max_size=30),
    max_length=st.one_of(st.none(), st.integers(1, 40)),
    one_line=st.booleans(),
)
@example(text="a  b", max_length=None, one_line=False)
@example(text="a \nb", max_length=10, one_line=False)
@example(text="a\n\n\nb", max_length=10, one_line=False)
@example(text="a\nb", max_length=10, one_line=True)
@example(text="a\u2028b", max_length=10, one_line=False)
def test_display_text_gives_what_the_full_cleaning_gives(text, max_length, one_line):
    fast = display_text(text, max_length=max_length, one_line=one_line)
    shortcut = text_module._already_clean
    text_module._already_clean = lambda *args: False  # every text the long way
    try:
        slow = display_text(text, max_length=max_length, one_line=one_line)
    finally:
        text_module._already_clean = shortcut
    assert fast == slow


def test_clean_text_is_returned_as_it_is_and_unclean_text_is_still_cleaned():
    post = "A post about the budget.\nSecond line, with a link."
    assert display_text(post) == post
    assert display_text(post, one_line=True) == "A post about the budget. Second line, with a link."
    assert display_label("Anna \u202eSmith") == "Anna Smith"
    assert display_text(" padded ") == "padded"
    assert display_text("two  spaces") == "two spaces"
    assert display_text("a\n\n\nb") == "a\n\nb"
    assert display_text("x" * 50, max_length=10) == "x" * 9 + "…"


# ------------------------------------------------------------- significance test


def _blocks(sizes: list[int], p_in: float, p_out: float, seed: int) -> nx.Graph:
    k = len(sizes)
    probs = [[p_in if i == j else p_out for j in range(k)] for i in range(k)]
    return nx.stochastic_block_model(sizes, probs, seed=seed)


@pytest.fixture
def stop_early_at_any_size(monkeypatch):
    """Early stopping is for large networks; these small ones stand in for them."""
    monkeypatch.setattr(factions_module, "_EARLY_STOP_MIN_TIES", 0)


def test_small_networks_draw_every_planned_random_graph():
    # below the early-stopping size the p-value can reach its floor, 1/21 with 20
    G = _blocks([40, 40, 40, 40], 0.3, 0.01, seed=0)
    assert G.number_of_edges() < factions_module._EARLY_STOP_MIN_TIES
    sig = detect_factions(G, seed=0).significance
    assert sig is not None and sig.significant
    assert sig.samples == sig.planned == 20 and not sig.stopped_early
    assert sig.p == pytest.approx(1 / 21, abs=1e-4) and sig.p < 0.05
    assert "stopped before" not in sig.describe()


def test_strong_structure_stops_drawing_early_and_says_so(stop_early_at_any_size):
    G = _blocks([40, 40, 40, 40], 0.3, 0.01, seed=0)
    sig = detect_factions(G, seed=0).significance
    assert sig is not None and sig.significant
    assert sig.planned == 20 and SIGNIFICANCE_MIN_SAMPLES <= sig.samples < 20
    assert sig.stopped_early and sig.z >= SIGNIFICANCE_FAR_Z
    assert "stopped before the 20 planned" in sig.describe()
    assert sig.as_dict()["planned"] == 20 and sig.as_dict()["samples"] == sig.samples


@pytest.mark.parametrize(
    "G",
    [
        nx.gnp_random_graph(150, 0.05, seed=1),
        nx.gnp_random_graph(250, 0.03, seed=2),
        _blocks([50, 50], 0.12, 0.06, seed=3),
        _blocks([60, 60, 60], 0.2, 0.02, seed=4),
    ],
)
def test_stopping_early_gives_the_verdict_of_all_the_random_graphs(monkeypatch, G):
    monkeypatch.setattr(factions_module, "_EARLY_STOP_MIN_TIES", 0)
    early = detect_factions(G, seed=5).significance
    monkeypatch.setattr(factions_module, "settled", lambda observed, null: False)
    full = detect_factions(G, seed=5).significance
    assert full.samples == full.planned == 20 and not full.stopped_early
    assert early.significant == full.significant
    # the graphs drawn before stopping are the first graphs of the full test
    assert early.null == full.null[: early.samples]
    assert early.observed == full.observed


def test_the_significance_test_does_not_depend_on_the_number_of_processes(
    stop_early_at_any_size,
):
    G = _blocks([30, 30, 30], 0.25, 0.02, seed=6)
    one = detect_factions(G, seed=2, n_jobs=1).significance
    three = detect_factions(G, seed=2, n_jobs=3).significance
    assert one == three and one.null == three.null


def test_settled_needs_a_random_graph_at_the_data_or_a_large_distance():
    null = [0.30, 0.31, 0.29, 0.32, 0.30, 0.31]
    assert settled(0.31, null)  # reached: can no longer be significant
    assert not settled(0.34, null)  # above all, but only a few deviations
    assert settled(0.45, null)
    assert not settled(0.45, [])
    # the verdict then is what significance() says on those graphs
    assert not significance(0.31, null, planned=20).significant
    assert significance(0.45, null, planned=20).significant


def test_rewired_graphs_keep_degrees_and_are_simple_after_the_faster_lookup():
    G = _blocks([40, 40], 0.3, 0.05, seed=7)
    lo, hi = np.array(sorted(G.edges)).T
    n = G.number_of_nodes()
    l2, h2, _ = rewired(n, lo, hi, np.ones(lo.size), seed=3)
    assert np.array_equal(
        np.bincount(np.r_[lo, hi], minlength=n), np.bincount(np.r_[l2, h2], minlength=n)
    )
    assert np.all(l2 < h2)
    assert np.unique(l2 * n + h2).size == l2.size
    assert not np.array_equal(lo, l2) or not np.array_equal(hi, h2)


# ----------------------------------------------------------------- faction pages


def test_faction_pages_are_the_same_files_whatever_process_writes_them(tmp_path):
    from browser_support import make_many_factions

    from mapper.render import write_faction_members_map, write_faction_members_maps

    G = make_many_factions(600, 6, seed=3, unassigned=10)
    factions = sorted({d["faction"] for _, d in G.nodes(data=True) if "faction" in d})
    options = {"node_budget": 60, "seed": 2, "links": [("factions.html", "Overview")]}
    alone = {
        f: write_faction_members_map(G, f, tmp_path / "one" / f"faction-{f}.html", **options)
        for f in factions
    }
    forked = write_faction_members_maps(
        G, {f: tmp_path / "two" / f"faction-{f}.html" for f in factions}, n_jobs=3, **options
    )
    assert list(forked) == factions
    for f in factions:
        assert forked[f]["path"].read_bytes() == alone[f]["path"].read_bytes()
        assert forked[f]["nodes_shown"] == alone[f]["nodes_shown"]
        assert forked[f]["faction"] == f


def test_a_faction_page_that_fails_in_a_child_fails_here_too(tmp_path):
    from browser_support import make_many_factions

    from mapper.errors import RenderError
    from mapper.render import write_faction_members_maps

    G = make_many_factions(200, 4, seed=1)
    with pytest.raises(RenderError, match="no faction 99"):
        write_faction_members_maps(
            G, {0: tmp_path / "a.html", 99: tmp_path / "b.html"}, n_jobs=2, node_budget=50
        )


# ------------------------------------------------------------------ bridge rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bridge_evidence_read_in_one_pass_is_the_evidence_read_tie_by_tie(seed):
    from test_evidence_table import _both, _events

    from mapper.analysis.bridges import _edge_evidence, _first_evidence

    plain, tabled = _both(_events(seed, 300), k=3)
    tabled.add_edge("a0", "a1", weight=9.0, evidence=[{"post": "own", "snippet": "listed"}])
    nodes = sorted(tabled)
    pairs = [(u, v) for u in nodes for v in nodes if u != v]
    for G in (plain, tabled):
        expected = [_edge_evidence(G, u, v, "weight") for u, v in pairs]
        assert _first_evidence(G, pairs, "weight") == expected
        assert _first_evidence(G, pairs, None) == [_edge_evidence(G, u, v, None) for u, v in pairs]
    assert any(item["post"] for item in _first_evidence(tabled, pairs, "weight"))


# ---------------------------------------------------------------------- exports


@pytest.mark.parametrize("seed", [4, 5])
def test_csv_tables_made_in_blocks_are_the_tables_made_whole(tmp_path, monkeypatch, seed):
    from test_evidence_table import _both, _events

    import mapper.export as export_module
    from mapper.export import write_csv

    plain, tabled = _both(_events(seed, 300), k=4)
    for G in (plain, tabled):
        # a column whose kinds change from row to row (numbers, text, dates, none)
        for i, (_, data) in enumerate(G.nodes(data=True)):
            data["mixed"] = [3, "=SUM(A1)", None, 2.5, "tab\there", True][i % 6]
    whole = {name: p.read_bytes() for name, p in write_csv(tabled, tmp_path / "whole").items()}
    monkeypatch.setattr(export_module, "_CSV_BLOCK", 7)
    monkeypatch.setattr(export_module, "_CHUNK", 3)
    for G, folder in ((tabled, "blocks"), (plain, "plain")):
        blocks = write_csv(G, tmp_path / folder)
        assert {name: p.read_bytes() for name, p in blocks.items()} == whole
    assert whole["evidence"].count(b"\n") > 3 * 7


def test_render_all_writes_the_same_folder_in_one_process_or_several(tmp_path):
    from browser_support import make_many_factions

    from mapper.render import render_all

    G = make_many_factions(500, 8, seed=5, unassigned=10)
    bridges = [
        {"actor": n, "rank": i + 1, "score": 1.0 / (i + 1), "is_bridge": True}
        for i, n in enumerate(sorted(G)[:4])
    ]
    one = render_all(G, tmp_path / "one", node_budget=120, bridges=bridges, n_jobs=1)
    many = render_all(G, tmp_path / "many", node_budget=120, bridges=bridges, n_jobs=3)
    assert list(one) == list(many)
    assert any(name.startswith("faction-") for name in one)
    assert any(name.startswith("actors/") for name in one)
    for name, path in one.items():
        assert many[name].read_bytes() == path.read_bytes(), name
