"""Merges, splits and moves planted day by day: the timeline reports exactly the
planted events, at the right window, and no move between the arbitrary halves that
modularity cuts an evenly mixed group into (issue 16)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import networkx as nx
import pytest
from timeline_support import MONDAY, edges_project, names
from typer.testing import CliRunner

from mapper.cli import app
from mapper.errors import ConfigError
from mapper.project import load_project
from mapper.timeline import Period, check_step, run_timeline, separate_factions

Groups = dict[str, list[str]]


A, B, C = names("a", 12), names("b", 12), names("c", 12)


def planted(
    folder: Path,
    days: int,
    groups_on: Callable[[int], Groups],
    *,
    seed: int,
    within: float = 0.5 / 7,
    across: float = 0.01 / 7,
    per_day: float = 2.0,
) -> Path:
    """A project whose edges table plants, day by day, the groups ``groups_on(day)``:
    each pair of a group referring to each other that day with probability
    ``within * per_day``, pairs of different groups with ``across * per_day``."""
    rng = random.Random(seed)
    rows = []
    for day in range(days):
        everyone = [(g, a) for g, members in groups_on(day).items() for a in members]
        for i, (g, a) in enumerate(everyone):
            for h, b in everyone[i + 1 :]:
                if rng.random() < (within if g == h else across) * per_day:
                    when = MONDAY + timedelta(days=day, seconds=rng.randrange(86400))
                    rows.append((a, b, when.isoformat()))
    return edges_project(folder, rows, seed=5)


def three(day: int) -> Groups:
    return {"A": list(A), "B": list(B), "C": list(C)}


def merge_and_apart(day: int) -> Groups:
    """A and C mix evenly in weeks 3 and 4 (days 14-27), then part again while B
    splits in two halves."""
    if 14 <= day < 28:
        return {"AC": A + C, "B": list(B)}
    if day >= 28:
        return {"A": list(A), "B1": B[:6], "B2": B[6:], "C": list(C)}
    return three(day)


def merge_from_week_4(day: int) -> Groups:
    return {"AC": A + C, "B": list(B)} if day >= 21 else three(day)


def split_from_week_4(day: int) -> Groups:
    return {"A": list(A), "B1": B[:6], "B2": B[6:], "C": list(C)} if day >= 21 else three(day)


def two_move_in_week_4(day: int) -> Groups:
    return {"A": A[2:], "B": [*B, *A[:2]], "C": list(C)} if day >= 21 else three(day)


def later_events(tl) -> list[tuple[str, str]]:
    return [(e["window"], e["event"]) for e in tl.events if e["window"] != "w01"]


def members_of(tl, window: str, faction: str) -> set[str]:
    return {r["actor"] for r in tl.memberships if r["window"] == window and r["faction"] == faction}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_merge_and_its_undoing_are_events_not_moves(tmp_path: Path, seed: int) -> None:
    tl = run_timeline(load_project(planted(tmp_path, 42, merge_and_apart, seed=seed)), every="1w")
    assert all(r.supported for r in tl.results)
    assert tl.moves == []
    assert later_events(tl) == [("w03", "merged"), ("w05", "split"), ("w05", "split")]
    # the merged faction holds A and C together in both weeks of the merge
    merge = next(e for e in tl.events if e["event"] == "merged")
    for window in ("w03", "w04"):
        assert members_of(tl, window, merge["other"]) == set(A + C)
    # then one split takes A or C back out of it, the other is half of B
    halves = {
        frozenset(members_of(tl, "w05", e["faction"])): e["other"]
        for e in tl.events
        if e["event"] == "split"
    }
    b_name = next(
        e["faction"] for e in tl.events if e["window"] == "w01" and e["faction"].startswith("b")
    )
    assert set(halves.values()) == {merge["other"], b_name}
    assert {k for k, v in halves.items() if v == merge["other"]} < {frozenset(A), frozenset(C)}
    assert {k for k, v in halves.items() if v == b_name} < {frozenset(B[:6]), frozenset(B[6:])}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_merge_alone_is_one_merge_at_its_week(tmp_path: Path, seed: int) -> None:
    tl = run_timeline(load_project(planted(tmp_path, 42, merge_from_week_4, seed=seed)), every="1w")
    assert tl.moves == []
    assert later_events(tl) == [("w04", "merged")]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_split_alone_is_one_split_at_its_week(tmp_path: Path, seed: int) -> None:
    tl = run_timeline(load_project(planted(tmp_path, 42, split_from_week_4, seed=seed)), every="1w")
    assert tl.moves == []
    assert later_events(tl) == [("w04", "split")]
    split = next(e for e in tl.events if e["event"] == "split")
    assert members_of(tl, "w04", split["faction"]) in (set(B[:6]), set(B[6:]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_movers_are_the_only_moves(tmp_path: Path, seed: int) -> None:
    tl = run_timeline(
        load_project(planted(tmp_path, 42, two_move_in_week_4, seed=seed)), every="1w"
    )
    assert later_events(tl) == []
    assert sorted((m["actor"], m["to_window"]) for m in tl.moves) == [
        ("a00", "w04"),
        ("a01", "w04"),
    ]


def _graph(groups: list[list[str]], within: float, across: float, seed: int) -> nx.DiGraph:
    rng = random.Random(seed)
    G = nx.DiGraph()
    everyone = [(g, a) for g, members in enumerate(groups) for a in members]
    for i, (g, a) in enumerate(everyone):
        G.add_node(a)
        for h, b in everyone[i + 1 :]:
            n = sum(rng.random() < (within if g == h else across) for _ in range(3))
            if n:
                G.add_edge(a, b, count=n, weight=float(n))
    return G


def test_halves_of_one_mixed_group_are_joined_and_separate_groups_are_not() -> None:
    mixed = names("m", 20)
    G = _graph([mixed, names("o", 10)], within=0.4, across=0.01, seed=3)
    # an arbitrary cut of the mixed group: its halves are one faction
    partition = {a: (0 if i < 10 else 1) for i, a in enumerate(mixed)} | {
        a: 2 for a in names("o", 10)
    }
    assert separate_factions(G, partition) == {0: 0, 1: 0, 2: 2}
    # two groups planted apart stay apart
    H = _graph([names("x", 12), names("y", 12)], within=0.4, across=0.02, seed=4)
    apart = {a: 0 for a in names("x", 12)} | {a: 1 for a in names("y", 12)}
    assert separate_factions(H, apart) == {0: 0, 1: 1}


def test_factions_without_a_tie_between_them_or_too_small_are_never_joined() -> None:
    # two pairs of references: far too little to show a shortage, but no tie joins them
    G = nx.DiGraph()
    G.add_edge("a", "b", count=1)
    G.add_edge("b", "c", count=1)
    G.add_edge("x", "y", count=1)
    G.add_edge("y", "z", count=1)
    partition = {"a": 0, "b": 0, "c": 0, "x": 1, "y": 1, "z": 1}
    assert separate_factions(G, partition) == {0: 0, 1: 1}
    # a faction of two members is not followed, so it is not joined either
    G.add_edge("c", "p", count=3)
    G.add_edge("p", "q", count=1)
    assert separate_factions(G, partition | {"p": 2, "q": 2}) == {0: 0, 1: 1, 2: 2}


def test_the_joining_does_not_depend_on_the_order_of_the_graph() -> None:
    mixed = names("m", 24)
    G = _graph([mixed, names("o", 12)], within=0.3, across=0.01, seed=8)
    partition = {a: i % 3 for i, a in enumerate(mixed)} | {a: 3 for a in names("o", 12)}
    shuffled = nx.DiGraph()
    edges = list(G.edges(data=True))
    random.Random(1).shuffle(edges)
    shuffled.add_edges_from(edges)
    first = separate_factions(G, partition)
    assert first == separate_factions(shuffled, partition)
    assert first == {0: 0, 1: 0, 2: 0, 3: 3}


def test_a_step_longer_than_the_windows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"--step 2w is longer than --every 1w"):
        check_step(Period(1, "w"), Period(2, "w"))
    check_step(Period(2, "w"), Period(1, "w"))  # sliding windows are fine
    check_step(Period(1, "m"), Period(4, "w"))  # four weeks fit in any month
    project = planted(tmp_path, 14, three, seed=1)
    bad = CliRunner().invoke(app, ["timeline", str(project), "--every", "1w", "--step", "2w"])
    assert bad.exit_code == 1 and isinstance(bad.exception, ConfigError)
    assert "step: --step 2w is longer than --every 1w" in bad.exception.one_line()
    assert not (tmp_path / "outputs" / "timeline").exists()
