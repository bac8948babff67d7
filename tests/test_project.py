"""The project file: loading, paths relative to the file, every problem named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.errors import ConfigError
from mapper.project import DEFAULT_WEIGHTS, check_project, load_project


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "mapper.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_demo_project_loads_with_paths_relative_to_the_file(demo_copy: Path) -> None:
    proj = load_project(demo_copy)
    assert proj.roster == demo_copy.parent / "roster.csv"
    assert proj.output == demo_copy.parent / "out"
    assert proj.store == proj.output / "store.sqlite"
    assert [s.type for s in proj.sources][:2] == ["x-archive", "html"]
    assert proj.weights["repost"] == 2.0
    assert proj.focus == ["clive-lewis", "lisa-nandy"]


def test_defaults_when_sections_are_missing(tmp_path: Path) -> None:
    proj = load_project(write(tmp_path, "[project]\nname = 'x'\n"))
    assert proj.weights == DEFAULT_WEIGHTS
    assert proj.faction_method == "leiden"
    assert proj.sources == []


def test_unknown_source_type_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "[[sources]]\ntype = 'myspace'\npath = 'x'\n")
    with pytest.raises(ConfigError) as err:
        load_project(path)
    assert "sources[1].type" in str(err.value)
    assert str(path) in str(err.value)


def test_check_lists_every_problem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[project]\nroster = 'missing.csv'\n"
        "[[sources]]\ntype = 'x-archive'\npath = 'nothing-*.jsonl'\n"
        "[graph]\nweights = { mention = -1, hug = 2 }\n"
        "[factions]\nmethod = 'kmeans'\n",
    )
    problems = check_project(path)
    assert all(p.is_error for p in problems)
    fields = {p.error.field for p in problems}
    assert {
        "project.roster",
        "sources[1].path",
        "graph.weights.mention",
        "graph.weights.hug",
        "factions.method",
    } <= fields


def test_invalid_toml_is_one_line_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[project\nname=")
    with pytest.raises(ConfigError) as err:
        load_project(path)
    assert str(path) in err.value.one_line()
    assert "\n" not in err.value.one_line()


def test_bad_date_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, "[graph]\nsince = 'last tuesday'\n"))
    assert err.value.field == "graph.since"


def test_live_sources_are_marked_live(tmp_path: Path) -> None:
    proj = load_project(
        write(
            tmp_path,
            "[[sources]]\ntype = 'x-search'\nquery = 'progressive alliance'\n"
            "[[sources]]\ntype = 'feed'\nurl = 'https://example.org/feed'\n",
        )
    )
    assert [s.live for s in proj.sources] == [True, True]


def test_a_misspelt_source_option_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text("{}\n", encoding="utf-8")
    path = write(tmp_path, "[[sources]]\ntype = 'x-archive'\npath = 'a.jsonl'\nmax_post = 5\n")
    problems = check_project(path)
    assert [p.error.field for p in problems] == ["sources[1].max_post"]
    assert "include_referenced" in problems[0].error.hint


def test_source_options_reach_the_importer(tmp_path: Path) -> None:
    from mapper.pipeline import import_sources
    from mapper.store import Store

    (tmp_path / "edges.csv").write_text("source,target\na,b\n", encoding="utf-8")
    (tmp_path / "nodes.csv").write_text("id,label\na,Alice\nb,Bob\n", encoding="utf-8")
    (tmp_path / "posts.csv").write_text("id,author,text\n1,carol,hello @dave\n", encoding="utf-8")
    path = write(
        tmp_path,
        "[[sources]]\ntype = 'edges-csv'\npath = 'edges.csv'\ndefault_kind = 'reply'\n"
        "[[sources]]\ntype = 'posts-csv'\npath = 'posts.csv'\nplatform = 'bluesky'\n",
    )
    proj = load_project(path)
    with Store(tmp_path / "s.sqlite") as store:
        import_sources(proj, store)
        posts = list(store.iter_posts())
    kinds = {p.platform: [r.kind for r in p.references] for p in posts}
    assert kinds["table"] == ["reply"]
    assert "bluesky" in kinds


def test_a_time_window_counts_only_the_references_inside_it(demo_copy: Path) -> None:
    from datetime import UTC, datetime

    from mapper.pipeline import build, import_sources
    from mapper.store import Store

    proj = load_project(demo_copy)
    with Store(proj.store) as store:
        import_sources(proj, store)
        full, _ = build(proj, store)
        proj.since = datetime(2016, 8, 1, tzinfo=UTC)
        proj.until = datetime(2016, 9, 1, tzinfo=UTC)
        window, _ = build(proj, store)
    assert 0 < window.number_of_edges() < full.number_of_edges()
    for _, _, d in window.edges(data=True):
        assert proj.since <= d["first"] and d["last"] < proj.until
        assert all(proj.since <= e["time"] < proj.until for e in d["evidence"])
    total = sum(d["count"] for *_, d in window.edges(data=True))
    assert total < sum(d["count"] for *_, d in full.edges(data=True))
