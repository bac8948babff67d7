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
    fields = {p.field for p in check_project(path)}
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
