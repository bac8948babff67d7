"""Issue 16 checked as an outside reviewer would: new planted stores (moves at known
dates, a week without posts, random posts with no structure), cut into windows of
several kinds, through the Python API and ``mapper timeline``."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from timeline_support import MONDAY as START  # weekly windows start on this Monday
from timeline_support import edges_project, names
from typer.testing import CliRunner

from mapper.cli import app
from mapper.project import load_project
from mapper.timeline import run_timeline

A, B, C = names("a", 12), names("b", 12), names("c", 12)


def write_project(folder: Path, rows: list[tuple[str, str, str]], seed: int = 5) -> Path:
    return edges_project(folder, rows, seed=seed, name="audit", output="out")


def planted_days(
    folder: Path,
    days: int,
    groups_on: Callable[[int], dict[str, list[str]]],
    *,
    seed: int,
    density: float = 0.5,
    cross: float = 0.01,
    silent: range = range(0),
) -> Path:
    """Day by day, each pair of a group ties with probability ``density / 7`` (so a
    week holds about ``density`` of the pairs), pairs across groups with ``cross / 7``;
    no tie at all on the ``silent`` days."""
    rng = random.Random(seed)
    rows = []
    for day in range(days):
        if day in silent:
            continue
        everyone = [(g, a) for g, members in groups_on(day).items() for a in members]
        for i, (g, a) in enumerate(everyone):
            for h, b in everyone[i + 1 :]:
                if rng.random() < (density if g == h else cross) / 7:
                    when = START + timedelta(days=day, seconds=rng.randrange(86400))
                    rows.append((a, b, when.isoformat()))
    return write_project(folder, rows)


def two_moves(day: int) -> dict[str, list[str]]:
    """a03 leaves A for B on day 21 (the fourth week); c05 leaves C for A on day 28."""
    a, b, c = list(A), list(B), list(C)
    if day >= 21:
        a.remove("a03")
        b.append("a03")
    if day >= 28:
        c.remove("c05")
        a.append("c05")
    return {"A": a, "B": b, "C": c}


def random_posts(folder: Path, actors: int, mean_degree: float, weeks: int, seed: int) -> Path:
    """Every week ``actors * mean_degree / 2`` ties between random pairs: no faction
    and no move to find."""
    rng = random.Random(seed)
    rows = []
    for week in range(weeks):
        for _ in range(int(actors * mean_degree / 2)):
            a, b = rng.sample(range(actors), 2)
            when = START + timedelta(weeks=week, seconds=rng.randrange(7 * 86400))
            rows.append((f"u{a}", f"u{b}", when.isoformat()))
    return write_project(folder, rows)


def attention_posts(folder: Path, actors: int, weeks: int, seed: int) -> Path:
    """Every week each account mentions one other, picked in proportion to the
    mentions it already had (preferential attachment): hubs and one-tie accounts, a
    random tree-like network with nothing planted in it."""
    rng = random.Random(seed)
    rows = []
    for week in range(weeks):
        pool = ["u0", "u1"]
        rows.append(("u1", "u0", (START + timedelta(weeks=week)).isoformat()))
        for i in range(2, actors):
            target = rng.choice(pool)
            when = START + timedelta(weeks=week, seconds=rng.randrange(7 * 86400))
            rows.append((f"u{i}", target, when.isoformat()))
            pool += [target, f"u{i}"]
    return write_project(folder, rows)


def moves(tl) -> set[tuple[str, str]]:
    return {(m["actor"], m["to_window"]) for m in tl.moves}


def changes(tl) -> list[str]:
    """Faction events other than the births of the first window."""
    first = next((r.window.key for r in tl.results if r.supported), None)
    return [
        f"{e['window']} {e['event']} {e['faction']}"
        for e in tl.events
        if not (e["event"] == "born" and e["window"] == first)
    ]


# ------------------------------------------------------------------- planted moves


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        ({"every": "1w"}, {("a03", "w04"), ("c05", "w05")}),
        (
            {"windows": "2016-07-04:2016-07-25,2016-07-25:2016-08-01,2016-08-01:2016-08-15"},
            {("a03", "w02"), ("c05", "w03")},
        ),
    ],
)
def test_planted_moves_at_their_window_and_nothing_else(
    tmp_path: Path, seed: int, windows: dict[str, str], expected: set[tuple[str, str]]
) -> None:
    tl = run_timeline(load_project(planted_days(tmp_path, 42, two_moves, seed=seed)), **windows)
    assert moves(tl) == expected
    assert changes(tl) == []
    by_actor = {m["actor"]: m for m in tl.moves}
    # the move is dated inside the window that shows it, on or after the planted day
    assert by_actor["a03"]["date"] >= "2016-07-25"
    assert by_actor["c05"]["date"] >= "2016-08-01"
    assert by_actor["c05"]["date"] < "2016-08-15"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sliding_windows_report_only_the_planted_actors_once(tmp_path: Path, seed: int) -> None:
    """Two-week windows a week apart see each move in a window that covers its date;
    no other actor moves and no faction splits, merges or ends."""
    tl = run_timeline(
        load_project(planted_days(tmp_path, 42, two_moves, seed=seed)), every="2w", step="1w"
    )
    found = [m["actor"] for m in tl.moves]
    assert set(found) <= {"a03", "c05"} and len(found) == len(set(found))
    assert "c05" in found
    windows = {r.window.key: r.window for r in tl.results}
    planted = {"a03": datetime(2016, 7, 25, tzinfo=UTC), "c05": datetime(2016, 8, 1, tzinfo=UTC)}
    for m in tl.moves:
        window = windows[m["to_window"]]
        assert window.start <= planted[m["actor"]] < window.end
    assert changes(tl) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_week_without_posts_is_thin_and_the_move_is_seen_across_it(
    tmp_path: Path, seed: int
) -> None:
    """a03 changes sides during a week with no post at all: that week is too thin
    (no reference), and the move is reported between the weeks around it."""

    def one_move(day: int) -> dict[str, list[str]]:
        groups = two_moves(day)
        groups["C"] = list(C)
        groups["A"] = [a for a in groups["A"] if a != "c05"]
        return groups

    tl = run_timeline(
        load_project(planted_days(tmp_path, 42, one_move, seed=seed, silent=range(21, 28))),
        every="1w",
    )
    thin = [r for r in tl.results if not r.supported]
    assert [r.window.key for r in thin] == ["w04"]
    assert "no reference" in thin[0].reason
    assert [(m["actor"], m["from_window"], m["to_window"]) for m in tl.moves] == [
        ("a03", "w03", "w05")
    ]
    assert changes(tl) == []


# --------------------------------------------------------------- nothing to find


@pytest.mark.parametrize(
    ("make", "seed"),
    [
        (lambda folder, seed: random_posts(folder, 400, 1.5, 5, seed), 1),
        (lambda folder, seed: random_posts(folder, 400, 1.5, 5, seed), 2),
        (lambda folder, seed: random_posts(folder, 300, 1.0, 5, seed), 4),
        (lambda folder, seed: random_posts(folder, 200, 3.0, 5, seed), 3),
        (lambda folder, seed: attention_posts(folder, 300, 4, seed), 1),
        (lambda folder, seed: attention_posts(folder, 200, 4, seed), 2),
    ],
)
def test_random_posts_tell_no_story(tmp_path: Path, make, seed: int) -> None:
    """Weeks of random ties (sparse, or hubs with one-tie accounts) hold no faction:
    every window is too thin, nothing is born, split, merged or moved."""
    tl = run_timeline(load_project(make(tmp_path, seed)), every="1w")
    assert [r.supported for r in tl.results] == [False] * len(tl.results)
    assert tl.moves == [] and tl.events == []
    codes = [w.code for w in tl.warnings]
    assert codes.count("timeline-thin-window") == len(tl.results)
    assert "timeline-too-few-windows" in codes


# ------------------------------------------------------------------- determinism


def test_two_runs_write_the_same_files_byte_for_byte(tmp_path: Path) -> None:
    project = planted_days(tmp_path / "p", 35, two_moves, seed=9, silent=range(14, 17))
    runner = CliRunner()
    outputs = []
    for name in ("first", "second"):
        out = tmp_path / name
        result = runner.invoke(app, ["timeline", str(project), "--every", "1w", "--out", str(out)])
        assert result.exit_code == 0, result.output
        outputs.append(out / "timeline")
    files = sorted(p.name for p in outputs[0].iterdir() if p.is_file())
    assert {"moves.csv", "timeline.md", "timeline.html", "timeline.gexf"} <= set(files)
    assert files == sorted(p.name for p in outputs[1].iterdir() if p.is_file())
    for name in files:
        assert (outputs[0] / name).read_bytes() == (outputs[1] / name).read_bytes(), name
