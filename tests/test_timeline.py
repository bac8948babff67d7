"""The timeline: windows, factions matched across them, moves, splits, merges, thin
windows, determinism, safe outputs; on planted scenarios with known answers."""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from timeline_support import MONDAY, edges_project, names
from typer.testing import CliRunner

from mapper.cli import app
from mapper.errors import ConfigError
from mapper.project import load_project
from mapper.render.timeline import write_timeline
from mapper.timeline import (
    Period,
    make_windows,
    match_factions,
    parse_period,
    parse_windows,
    run_timeline,
)


def planted(
    folder: Path,
    weeks: list[dict[str, list[str]]],
    *,
    seed: int,
    density: float = 0.6,
    cross: float = 0.01,
    start: datetime = MONDAY,
    factions_seed: int = 7,
) -> Path:
    """A project whose edges table plants, week by week, dense groups of actors (each
    pair of a group tied with probability ``density``) and rare ties across groups."""
    rng = random.Random(seed)
    rows = []
    for w, groups in enumerate(weeks):
        begin = start + timedelta(weeks=w)
        everyone = [(g, a) for g, members in groups.items() for a in members]
        for i, (g, a) in enumerate(everyone):
            for h, b in everyone[i + 1 :]:
                p = density if g == h else cross
                if rng.random() < p:
                    when = begin + timedelta(seconds=rng.randrange(7 * 86400))
                    rows.append((a, b, when.isoformat()))
    return edges_project(folder, rows, seed=factions_seed)


def moves_of(tl) -> set[tuple[str, str]]:
    return {(m["actor"], m["to_window"]) for m in tl.moves}


def faction_holding(tl, window: str, actor: str) -> str:
    rows = [r for r in tl.memberships if r["window"] == window and r["actor"] == actor]
    assert rows, (window, actor)
    return rows[0]["faction"]


# ------------------------------------------------------------------------- windows


def test_periods_and_windows_are_read_and_aligned() -> None:
    assert parse_period("1w") == Period(1, "w")
    assert parse_period("3 days") == Period(3, "d")
    assert parse_period("1m") == Period(1, "m")
    with pytest.raises(ConfigError, match="every"):
        parse_period("fortnight")
    # weekly windows start on the Monday on or before the first post
    first = datetime(2016, 7, 6, 15, tzinfo=UTC)  # a Wednesday
    weeks = make_windows(first, datetime(2016, 7, 20, tzinfo=UTC), Period(1, "w"))
    assert [w.start.date().isoformat() for w in weeks] == ["2016-07-04", "2016-07-11", "2016-07-18"]
    assert weeks[0].label == "2016-07-04 to 2016-07-10"
    # sliding: two-week windows starting every week overlap
    sliding = make_windows(
        first, datetime(2016, 7, 20, tzinfo=UTC), Period(2, "w"), step=Period(1, "w")
    )
    assert [(w.start.day, w.end.day) for w in sliding] == [(4, 18), (11, 25), (18, 1)]
    months = make_windows(
        datetime(2016, 1, 31, tzinfo=UTC), datetime(2016, 3, 2, tzinfo=UTC), Period(1, "m")
    )
    assert [w.start.month for w in months] == [1, 2, 3]
    assert months[1].end == datetime(2016, 3, 1, tzinfo=UTC)
    given = parse_windows("2016-06-01:2016-07-01, 2016-07-01T12:00:2016-08-01")
    assert given[1][0] == datetime(2016, 7, 1, 12, tzinfo=UTC)
    with pytest.raises(ConfigError, match="empty"):
        parse_windows("2016-07-01:2016-06-01")


def test_windows_are_half_open_like_since_and_until(tmp_path: Path) -> None:
    (tmp_path / "edges.csv").write_text(
        "source,target,time\n"
        "a,b,2016-07-10T23:59:59+00:00\n"
        "c,d,2016-07-11T00:00:00+00:00\n"
        "e,f,2016-07-17T23:59:59+00:00\n",
        encoding="utf-8",
    )
    (tmp_path / "mapper.toml").write_text(
        "[[sources]]\ntype = 'edges-csv'\npath = 'edges.csv'\n", encoding="utf-8"
    )
    tl = run_timeline(load_project(tmp_path / "mapper.toml"), every="1w")
    assert [sorted(r.graph.nodes) for r in tl.results] == [["a", "b"], ["c", "d", "e", "f"]]
    # too thin everywhere: the same warnings as a run, and no story
    assert not any(r.supported for r in tl.results)
    assert {w.code for w in tl.warnings} >= {"timeline-thin-window", "timeline-too-few-windows"}
    assert tl.moves == [] and tl.events == [] and tl.factions == {}
    assert all(r["faction"] == "" for r in tl.memberships)
    assert all(r.warnings for r in tl.results)


# ------------------------------------------------------------------------ matching


def test_matching_rules_on_known_partitions() -> None:
    prev = {f"a{i}": 0 for i in range(10)} | {f"b{i}": 1 for i in range(6)}
    prev |= {f"c{i}": 2 for i in range(6)} | {f"d{i}": 3 for i in range(4)}
    cur = {f"a{i}": 0 for i in range(6)} | {f"a{i}": 1 for i in range(6, 10)}  # a splits
    cur |= {f"b{i}": 2 for i in range(6)} | {f"c{i}": 2 for i in range(6)}  # b and c merge
    cur |= {f"e{i}": 3 for i in range(5)}  # new; d ends
    m = match_factions(prev, cur)
    assert m.continued[0] == 0
    assert m.split_from == {1: 0}
    # b and c tie on overlap: the older faction (the lower key here) keeps the name
    assert m.continued[2] == 1 and m.merged_into == {2: 2}
    assert m.born == (3,) and m.ended == (3,)
    # a faction split in halves with no clear heir: the larger part carries the name
    halves = match_factions({f"x{i}": 5 for i in range(12)}, {f"x{i}": i % 4 for i in range(12)})
    assert len(halves.continued) == 1 and list(halves.continued.values()) == [5]
    assert set(halves.split_from.values()) <= {5}


# ----------------------------------------------------------------------- scenarios

SCENARIOS = [
    # (sizes of A, B, C; week of the move; movers; weeks; seed)
    ((12, 12, 10), 2, ["a00"], 5, 1),
    ((9, 14, 11), 3, ["a03", "a05"], 6, 11),
    ((15, 10, 8), 1, ["c02"], 4, 23),
]


@pytest.mark.parametrize(("sizes", "week", "movers", "weeks", "seed"), SCENARIOS)
def test_planted_moves_are_found_at_their_window_and_nothing_else(
    tmp_path: Path, sizes, week, movers, weeks, seed
) -> None:
    A, B, C = names("a", sizes[0]), names("b", sizes[1]), names("c", sizes[2])
    plan = []
    for w in range(weeks):
        groups = {"A": list(A), "B": list(B), "C": list(C)}
        if w >= week:
            for actor in movers:
                home = "A" if actor.startswith("a") else "C"
                groups[home].remove(actor)
                groups["B"].append(actor)
        plan.append(groups)
    tl = run_timeline(
        load_project(planted(tmp_path, plan, seed=seed, factions_seed=seed)), every="1w"
    )
    assert all(r.supported for r in tl.results)
    key = tl.windows[week].key
    assert moves_of(tl) == {(actor, key) for actor in movers}
    for move in tl.moves:
        # into the faction of B's members, from the faction of its old group-mates
        assert move["to_faction"] == faction_holding(tl, key, "b01")
        mate = "a01" if move["actor"].startswith("a") else "c01"
        assert move["from_faction"] == faction_holding(tl, tl.windows[week - 1].key, mate)
        assert move["partners"] >= 2 and move["ties"]
        assert move["window_start"] == tl.windows[week].start.date().isoformat()
        assert move["date"] >= move["window_start"]
        assert move["held"] == "yes"
    assert tl.events == [e for e in tl.events if e["event"] == "born" and e["window"] == "w01"]
    assert len(tl.factions) == 3


def test_a_split_and_a_merge_are_events_not_moves(tmp_path: Path) -> None:
    A, B, C = names("a", 16), names("b", 8), names("c", 8)
    plan = []
    for w in range(6):
        groups = {"A": A} if w < 3 else {"A1": A[:8], "A2": A[8:]}
        groups |= {"B": B, "C": C} if w < 2 else {"BC": B + C}
        plan.append(groups)
    tl = run_timeline(load_project(planted(tmp_path, plan, seed=3)), every="1w")
    assert tl.moves == []
    events = [(e["event"], e["window"]) for e in tl.events if e["event"] != "born"]
    assert events == [("merged", "w03"), ("split", "w04")]
    merged = next(e for e in tl.events if e["event"] == "merged")
    assert merged["faction"] in {
        faction_holding(tl, "w02", "b00"),
        faction_holding(tl, "w02", "c00"),
    }
    assert merged["other"] == faction_holding(tl, "w03", "c00") == faction_holding(tl, "w03", "b00")
    split = next(e for e in tl.events if e["event"] == "split")
    assert split["other"] == faction_holding(tl, "w03", "a00")
    # each half of A keeps one name: the old name goes on, the other half is new
    halves = {faction_holding(tl, "w04", "a00"), faction_holding(tl, "w04", "a12")}
    assert split["other"] in halves and split["faction"] in halves
    changes = {r["change"] for r in tl.memberships if r["window"] == "w04"}
    assert "moved" not in changes and "split with faction" in changes


def test_a_thin_window_is_skipped_and_moves_bridge_it(tmp_path: Path) -> None:
    A, B = names("a", 12), names("b", 12)
    plan = [{"A": A, "B": B}, {"A": A, "B": B}, {"A": A[:3]}]
    moved = {"A": A[1:], "B": [*B, "a00"]}
    plan += [moved, moved]
    tl = run_timeline(load_project(planted(tmp_path, plan, seed=5)), every="1w")
    assert [r.supported for r in tl.results] == [True, True, False, True, True]
    thin = [w for w in tl.warnings if w.code == "timeline-thin-window"]
    assert len(thin) == 1 and tl.windows[2].label in thin[0].message
    assert tl.results[2].warnings  # the warnings a whole run on it would get
    assert moves_of(tl) == {("a00", "w04")}
    assert tl.moves[0]["from_window"] == "w02"
    assert {r["change"] for r in tl.memberships if r["window"] == "w03"} == {"window too thin"}


def test_a_flicker_is_not_a_move(tmp_path: Path) -> None:
    A, B = names("a", 12), names("b", 12)
    plan = [{"A": A, "B": B}] * 2 + [{"A": A[1:], "B": [*B, "a00"]}] + [{"A": A, "B": B}] * 2
    tl = run_timeline(load_project(planted(tmp_path, plan, seed=9)), every="1w")
    assert tl.moves == []
    changes = [r["change"] for r in tl.memberships if r["actor"] == "a00"]
    assert changes[2:4] == ["did not hold", "returned"]
    assert any(w.code == "timeline-uncertain-changes" for w in tl.warnings)


# ------------------------------------------------------------------ outputs, CLI, API


def _plan() -> list[dict[str, list[str]]]:
    A, B = names("a", 10), names("b", 10)
    return [{"A": A, "B": B}] * 2 + [{"A": A[1:], "B": [*B, "a00"]}] * 2


def test_same_store_and_windows_give_the_same_files(tmp_path: Path) -> None:
    project = planted(tmp_path / "p", _plan(), seed=4)
    first = write_timeline(run_timeline(load_project(project), every="1w"), tmp_path / "one")
    second = write_timeline(run_timeline(load_project(project), every="1w"), tmp_path / "two")
    assert sorted(first) == sorted(second)
    for name, path in first.items():
        assert path.read_bytes() == second[name].read_bytes(), name
    moves = list(csv.DictReader(first["moves.csv"].read_text("utf-8").splitlines()))
    assert [(m["actor"], m["to_window"]) for m in moves] == [("a00", "w03")]
    gexf = first["timeline.gexf"].read_text(encoding="utf-8")
    assert 'mode="dynamic"' in gexf and 'timeformat="date"' in gexf
    assert '<spell start="2016-07-04" end="2016-07-10"/>' in gexf
    assert gexf.count("<viz:position") == gexf.count("<node ")
    edges = list(csv.DictReader(first["edges_by_window.csv"].read_text("utf-8").splitlines()))
    assert {e["window"] for e in edges} == {"w01", "w02", "w03", "w04"}


def test_hostile_names_are_escaped_everywhere(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    A = [f"{evil}{i}" for i in range(8)]
    B = names("b", 8)
    project = planted(tmp_path / "p", [{"A": A, "B": B}] * 2, seed=2)
    paths = write_timeline(run_timeline(load_project(project), every="1w"), tmp_path / "out")
    html = paths["timeline.html"].read_text(encoding="utf-8")
    assert "<script>alert" not in html and html.count("<script") == 2
    assert "\\u003cscript\\u003ealert" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    md = paths["timeline.md"].read_text(encoding="utf-8")
    assert "<script>" not in md
    gexf = paths["timeline.gexf"].read_text(encoding="utf-8")
    assert "<script>" not in gexf and "&lt;script&gt;" in gexf


def test_cli_writes_the_timeline_into_the_project_output(tmp_path: Path) -> None:
    project = planted(tmp_path, _plan(), seed=4)
    result = CliRunner().invoke(app, ["timeline", str(project), "--every", "1w", "-q"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "outputs" / "timeline"
    for name in ("timeline.html", "timeline.md", "moves.csv", "timeline-alluvial.png"):
        assert (folder / name).exists(), name
    bad = CliRunner().invoke(app, ["timeline", str(project), "--every", "soon"])
    assert bad.exit_code == 1 and isinstance(bad.exception, ConfigError)
    assert "every: not a period: 'soon'" in str(bad.exception)
    assert "import" not in bad.output  # refused before reading anything


def test_project_timeline_section_and_python_api(tmp_path: Path) -> None:
    from mapper.api import Network

    project = planted(tmp_path, _plan(), seed=4)
    project.write_text(
        project.read_text(encoding="utf-8") + "[timeline]\nevery = '1w'\n", encoding="utf-8"
    )
    assert load_project(project).timeline_every == "1w"
    tl = Network.from_project(project).timeline()
    assert list(tl.windows_frame()["window"]) == ["w01", "w02", "w03", "w04"]
    moves = tl.moves_frame()
    assert list(moves["actor"]) == ["a00"] and list(moves["to_window"]) == ["w03"]
    members = tl.memberships_frame()
    assert set(members.columns) >= {"window", "actor", "faction", "change"}
    assert tl.graph("w03").has_node("a00")
    explicit = tmp_path / "explicit.toml"
    explicit.write_text(
        project.read_text(encoding="utf-8").replace(
            "every = '1w'", "windows = ['2016-07-04:2016-07-18', '2016-07-18:2016-08-01']"
        ),
        encoding="utf-8",
    )
    given = run_timeline(load_project(explicit))
    assert [(w.start.day, w.end.day) for w in given.windows] == [(4, 18), (18, 1)]
    assert [m["to_window"] for m in given.moves] == ["w02"]
    bad = tmp_path / "bad.toml"
    bad.write_text(
        project.read_text(encoding="utf-8").replace("every = '1w'", "every = 'weekly'"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"timeline\.every"):
        load_project(bad)


def test_the_demo_timeline_tells_its_planted_story(demo_copy: Path) -> None:
    project = demo_copy.with_name("timeline.toml")
    tl = run_timeline(load_project(project))
    assert [r.window.start.date().isoformat() for r in tl.results][::3] == [
        "2016-06-27",
        "2016-08-08",
        "2016-09-19",
    ]
    assert all(r.supported for r in tl.results)
    moves = {(m["actor"], m["from_faction"], m["to_faction"], m["window_start"]) for m in tl.moves}
    assert moves == {
        ("clive-lewis", "Labour left", "pluralists", "2016-07-25"),
        ("lisa-nandy", "Labour right", "pluralists", "2016-08-22"),
    }
    merges = [(e["faction"], e["other"], e["start"]) for e in tl.events if e["event"] == "merged"]
    assert merges == [("pluralists", "other parties", "2016-09-05")]
    assert not [e for e in tl.events if e["event"] in ("split", "ended")]
    # the corpus says it is illustrative, post by post
    text = (demo_copy.parent / "corpus" / "x_pages_timeline.jsonl").read_text(encoding="utf-8")
    posts = [p for line in text.splitlines() for p in json.loads(line)["data"]]
    assert all("Example" in p["text"] or p["text"].startswith("RT @") for p in posts)


def test_sliding_windows_see_a_move_once_against_the_window_before_it(tmp_path: Path) -> None:
    A, B, C = names("a", 12), names("b", 12), names("c", 10)
    before = {"A": A, "B": B, "C": C}
    after = {"A": A[1:], "B": [*B, "a00"], "C": C}
    plan = [before] * 3 + [after] * 4
    tl = run_timeline(
        load_project(planted(tmp_path, plan, seed=13, density=0.45)), every="2w", step="1w"
    )
    starts = [w.start.date().isoformat() for w in tl.windows]
    assert starts[:4] == ["2016-07-04", "2016-07-11", "2016-07-18", "2016-07-25"]
    assert all(r.supported for r in tl.results)
    # the move (from 25 July) dominates the window of 18 July (half its ties) or shows in
    # that of 25 July (all of them); it is tested against the last window that does not
    # overlap, and reported once
    assert len(tl.moves) == 1
    move = tl.moves[0]
    assert move["actor"] == "a00" and move["window_start"] in ("2016-07-18", "2016-07-25")
    reference = {"2016-07-18": "w01", "2016-07-25": "w02"}[move["window_start"]]
    assert move["from_window"] == reference
