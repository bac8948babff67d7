"""Reuse of the resolved graph between runs (mapper.reuse): keyed on the store's
content, the roster's bytes and the options that shape the graph, never on times."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from mapper.cli import app
from mapper.origins import source_scope
from mapper.pipeline import REUSED_RUN_STAGES, build_reusing, import_sources, run_project
from mapper.project import Project, load_project
from mapper.records import Post, Reference
from mapper.reuse import cache_path
from mapper.store import Store

OUTPUTS = ("nodes.csv", "edges.csv", "evidence.csv", "unresolved.csv", "graph.json")


def _build(project: Project, **kw: object) -> tuple[nx.DiGraph, object, bool, dict, list]:
    """Import (unchanged files are skipped) and build or reuse, as a run does."""
    timings: dict[str, float] = {}
    notices: list[str] = []
    with Store(project.store) as store:
        import_sources(project, store)
        scope = source_scope(project, store)
        G, resolution, reused = build_reusing(
            project, store, scope=scope, timings=timings, notices=notices, **kw
        )
    return G, resolution, reused, timings, notices


def _same_graph(a: nx.DiGraph, b: nx.DiGraph) -> None:
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(data=True)) == list(b.edges(data=True))
    assert a.graph == b.graph


def test_a_rerun_reuses_the_last_run_and_writes_the_same_files(demo_copy: Path) -> None:
    first = run_project(load_project(demo_copy))
    assert first.reused == [] and "resolve" in first.timings and "graph" in first.timings
    out = first.project.output
    before = {name: (out / name).read_bytes() for name in OUTPUTS}
    second = run_project(load_project(demo_copy))
    assert second.reused == REUSED_RUN_STAGES
    for stage in REUSED_RUN_STAGES:
        assert stage not in second.timings, stage
    assert "reuse" in second.timings
    for name in OUTPUTS:
        assert (out / name).read_bytes() == before[name], name
    one, two = first.summary(), second.summary()
    assert two["reused"] == REUSED_RUN_STAGES and "reused" not in one
    for field in ("actors", "ties", "edge_events", "factions", "bridge_figures", "warnings"):
        assert one[field] == two[field], field
    assert sorted(first.outputs) == sorted(second.outputs)
    assert {k: str(p) for k, p in first.outputs.items()} == {
        k: str(p) for k, p in second.outputs.items()
    }
    assert [w.code for w in first.warnings] == [w.code for w in second.warnings]
    # the analysis results are those of the first run, on the same graph
    assert second.factions.partition == first.factions.partition
    assert second.bridges == first.bridges
    assert list(second.graph.nodes(data=True)) == list(first.graph.nodes(data=True))


def test_an_output_option_or_a_changed_file_runs_the_analysis_on_the_reused_graph(
    demo_copy: Path,
) -> None:
    first = run_project(load_project(demo_copy))
    out = first.project.output
    before = (out / "edges.csv").read_bytes()
    (out / "edges.csv").write_bytes(before + b"tampered\n")  # a changed output
    second = run_project(load_project(demo_copy))
    assert second.reused == ["resolve", "graph"] and "factions" in second.timings
    assert (out / "edges.csv").read_bytes() == before  # written again
    (out / "bridges.md").unlink()  # a missing output
    third = run_project(load_project(demo_copy))
    assert third.reused == ["resolve", "graph"] and (out / "bridges.md").is_file()
    project = load_project(demo_copy)
    project.node_budget = 10  # an option of the maps only
    fourth = run_project(project)
    assert fourth.reused == ["resolve", "graph"] and "maps" in fourth.timings
    assert run_project(project).reused == REUSED_RUN_STAGES


def test_an_unchanged_store_and_roster_hit_even_when_files_are_touched(demo_copy: Path) -> None:
    project = load_project(demo_copy)
    G1, res1, reused1, t1, _ = _build(project)
    assert not reused1 and "resolve" in t1
    roster = project.roster
    assert roster is not None
    stat = roster.stat()
    os.utime(roster, ns=(stat.st_atime_ns + 10**10, stat.st_mtime_ns + 10**10))
    G2, res2, reused2, t2, notices = _build(load_project(demo_copy))
    assert reused2 and "resolve" not in t2 and "graph" not in t2 and notices == []
    _same_graph(G1, G2)
    assert res2.event_count == res1.event_count
    assert res2.report.to_rows() == res1.report.to_rows()


def test_a_roster_change_re_resolves_without_re_importing(demo_copy: Path) -> None:
    project = load_project(demo_copy)
    G1, _, _, _, _ = _build(project)
    assert G1.nodes["owen-jones"]["label"] == "Owen Jones"
    roster = project.roster
    assert roster is not None
    text = roster.read_text(encoding="utf-8")
    roster.write_text(text.replace("owen-jones,Owen Jones,", "owen-jones,Renamed,", 1))
    with Store(project.store) as store:
        imports = import_sources(load_project(demo_copy), store)
    assert imports and all(r["skipped_unchanged"] for r in imports)
    G2, _, reused, timings, _ = _build(load_project(demo_copy))
    assert not reused and "resolve" in timings
    assert G2.nodes["owen-jones"]["label"] == "Renamed"
    # back to the old bytes: built again (the cache holds the last graph only), equal
    roster.write_text(text)
    G3, _, reused3, _, _ = _build(load_project(demo_copy))
    assert not reused3
    _same_graph(G1, G3)


def test_a_change_to_the_stored_posts_misses(demo_copy: Path) -> None:
    project = load_project(demo_copy)
    G1, _, _, _, _ = _build(project)
    before = (
        G1["owen-jones"]["paul-mason"]["mention"] if G1.has_edge("owen-jones", "paul-mason") else 0
    )
    with Store(project.store) as store:  # a post added by hand
        store.add_posts(
            [
                Post(
                    uid="x:planted-1",
                    platform="x",
                    author="OwenJones84",
                    created_at=datetime(2016, 7, 1, tzinfo=UTC),
                    text="thanks @paulmasonnews",
                    references=(Reference("mention", "paulmasonnews"),),
                )
            ]
        )
    G2, _, reused, timings, _ = _build(load_project(demo_copy))
    assert not reused and "resolve" in timings
    assert G2["owen-jones"]["paul-mason"]["mention"] == before + 1
    _, _, reused3, _, _ = _build(load_project(demo_copy))
    assert reused3


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("min_weight", 2.0),
        ("weights", {"mention": 3.0}),
        ("max_evidence", 1),
        ("drop_provisional", True),
        ("largest_component", True),
        ("kinds", ["person"]),
        ("since", "2016-07-01T00:00:00+00:00"),
    ],
)
def test_an_option_that_shapes_the_graph_misses(
    demo_copy: Path, option: str, value: object
) -> None:
    _build(load_project(demo_copy))
    project = load_project(demo_copy)
    if option == "since":
        value = datetime.fromisoformat(str(value))
    if option == "weights":
        value = {**project.weights, **value}  # type: ignore[dict-item]
    setattr(project, option, value)
    _, _, reused, timings, _ = _build(project)
    assert not reused and "graph" in timings


def test_an_option_of_the_outputs_only_hits(demo_copy: Path) -> None:
    _build(load_project(demo_copy))
    project = load_project(demo_copy)
    project.node_budget = 10
    project.seed = 7
    project.bridges_top = 3
    _, _, reused, _, _ = _build(project)
    assert reused


def test_force_builds_again(demo_copy: Path) -> None:
    _build(load_project(demo_copy))
    _, _, reused, timings, _ = _build(load_project(demo_copy), read_cache=False)
    assert not reused and "resolve" in timings


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not json at all\n",
        b"[1, 2]\n",
        "keep-header-truncate",
        "keep-header-garbage",
    ],
)
def test_a_damaged_cache_is_ignored_with_a_notice(demo_copy: Path, damage: object) -> None:
    G1, _, _, _, _ = _build(load_project(demo_copy))
    path = cache_path(load_project(demo_copy))
    data = path.read_bytes()
    head = data[: data.index(b"\n") + 1]
    if damage == "keep-header-truncate":
        path.write_bytes(data[: len(head) + (len(data) - len(head)) // 2])
    elif damage == "keep-header-garbage":
        path.write_bytes(head + b"\x80\x05garbage" * 10)
    else:
        path.write_bytes(damage)  # type: ignore[arg-type]
    G2, _, reused, timings, notices = _build(load_project(demo_copy))
    assert not reused and "resolve" in timings
    assert len(notices) == 1 and "cache ignored" in notices[0] and str(path) in notices[0]
    _same_graph(G1, G2)
    # the cache was written again, and the next run reuses it
    _, _, reused_again, _, notices_again = _build(load_project(demo_copy))
    assert reused_again and notices_again == []


def test_the_command_line_says_when_it_reused_and_when_the_cache_was_damaged(
    demo_copy: Path,
) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["run", str(demo_copy)])
    assert first.exit_code == 0, first.output
    assert "reused" not in first.output
    second = runner.invoke(app, ["run", str(demo_copy)])
    assert second.exit_code == 0, second.output
    assert "its results were reused (resolve, graph, factions" in second.output
    cache_path(load_project(demo_copy)).write_bytes(b"\x00\x01")
    third = runner.invoke(app, ["run", str(demo_copy)])
    assert third.exit_code == 0, third.output
    assert "note:" in third.output and "cache ignored" in third.output
    assert "reused" not in third.output


def test_resolving_light_posts_gives_the_same_resolution(demo_copy: Path) -> None:
    from mapper.resolve import Resolver, load_roster

    project = load_project(demo_copy)
    with Store(project.store) as store:
        import_sources(project, store)
        assert project.roster is not None
        roster = load_roster(project.roster)
        full = Resolver(roster).resolve(store.iter_posts())
        light = Resolver(roster).resolve(store.iter_posts(for_resolution=True))
    assert full.events and full.events == light.events
    assert full.actors == light.actors and full.topics == light.topics
    assert full.report.to_rows() == light.report.to_rows()
