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
    from mapper.graph.evidence import edge_evidence

    for u, v, d in window.edges(data=True):
        assert proj.since <= d["first"] and d["last"] < proj.until
        assert all(proj.since <= e["time"] < proj.until for e in edge_evidence(window, u, v))
    total = sum(d["count"] for *_, d in window.edges(data=True))
    assert total < sum(d["count"] for *_, d in full.edges(data=True))


# ------------------------------------------------- every problem: one line, field, line

BAD_VALUES = [
    # (section body, field at fault, words of the message)
    ("[factions]\nresolutoin = 3.0\n", "factions.resolutoin", "did you mean 'resolution'"),
    ("[factions]\nresolution = 'high'\n", "factions.resolution", "must be a number"),
    ("[factions]\nresolution = 0\n", "factions.resolution", "above 0"),
    ("[factions]\nruns = 0\n", "factions.runs", "1 or more"),
    ("[factions]\nseed = 1.5\n", "factions.seed", "whole number"),
    ("[factions]\nseed = -1\n", "factions.seed", "0 or more"),
    ("[factions]\nseed = 99999999999\n", "factions.seed", "or less"),
    ("[factions]\nmethod = 'leidn'\n", "factions.method", "did you mean 'leiden'"),
    ("[graph]\nweights = { mention = nan }\n", "graph.weights.mention", "finite"),
    ("[graph]\nweights = { repost = inf }\n", "graph.weights.repost", "finite"),
    ("[graph]\nweights = { reply = -1 }\n", "graph.weights.reply", "at least 0"),
    ("[graph]\nweights = { mentoin = 1 }\n", "graph.weights.mentoin", "did you mean 'mention'"),
    ("[graph]\nweights = 3\n", "graph.weights", "must be a table"),
    ("[graph]\nmin_weight = -0.5\n", "graph.min_weight", "at least 0"),
    ("[graph]\nmin_weight = nan\n", "graph.min_weight", "finite"),
    ("[graph]\nmax_evidence = -1\n", "graph.max_evidence", "0 or more"),
    ("[graph]\ndrop_provisional = 'no'\n", "graph.drop_provisional", "true or false"),
    ("[graph]\nkinds = ['mp', 'journalist']\n", "graph.kinds", "journalist"),
    ("[graph]\nkinds = 'mp'\n", "graph.kinds", "must be a list"),
    ("[graph]\nsince = 'last tuesday'\n", "graph.since", "not a date"),
    ("[graph]\nsince = 2016-09-01\nuntil = 2016-08-01\n", "graph.until", "window is empty"),
    ("[graph]\nsince = 2016-09-01\nuntil = '2016-09-01'\n", "graph.until", "window is empty"),
    ("[graph]\nmin_wieght = 2\n", "graph.min_wieght", "did you mean 'min_weight'"),
    ("[bridges]\ntop = -3\n", "bridges.top", "0 or more"),
    ("[alliances]\ntop = 'ten'\n", "alliances.top", "whole number"),
    ("[maps]\nnode_budget = 0\n", "maps.node_budget", "1 or more"),
    ("[maps]\nfocus = 'clive-lewis'\n", "maps.focus", "must be a list"),
    ("[maps]\nfocus = [3]\n", "maps.focus", "must be text"),
    ("[exports]\nformats = ['gexf', 'pdf']\n", "exports.formats", "pdf"),
    ("[project]\nname = 3\n", "project.name", "must be text"),
    ("[project]\nouptut = 'out'\n", "project.ouptut", "did you mean 'output'"),
    ("[bridge]\ntop = 3\n", "bridge", "did you mean 'bridges'"),
    ("graph = 3\n", "graph", "must be a table"),
    ("resolution = 2\n", "resolution", "under [factions]"),
]


@pytest.mark.parametrize(("body", "field", "words"), BAD_VALUES)
def test_every_bad_value_is_one_line_with_file_field_and_line(
    tmp_path: Path, body: str, field: str, words: str
) -> None:
    # a few lines above, so the line number is not trivially 1
    path = write(tmp_path, "# my project\n# (comments)\n\n" + body)
    problems = [p for p in check_project(path) if p.is_error]
    assert [p.error.field for p in problems] == [field]
    error = problems[0].error
    assert words in error.one_line()
    text = path.read_text(encoding="utf-8").splitlines()
    assert error.line is not None and field.split(".")[-1].split("[")[0] in text[error.line - 1]
    assert f"{path}:{error.line}: {field}: " in error.one_line()
    with pytest.raises(ConfigError) as err:  # the run refuses it the same way
        load_project(path)
    assert err.value.field == field


def test_problems_come_in_file_order_and_load_names_the_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[maps]\nnode_budget = -1\n[factions]\nresolution = 'high'\n[graph]\nmin_weight = -1\n",
    )
    problems = [p for p in check_project(path) if p.is_error]
    assert [p.error.line for p in problems] == [2, 4, 6]
    with pytest.raises(ConfigError) as err:
        load_project(path)
    assert err.value.field == "maps.node_budget" and "2 more problems" in str(err.value)


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("include_referenced", "'yes'", "true or false"),
        ("max_posts", "-5", "1 or more"),
        ("max_posts", "0", "1 or more"),
        ("depth", "-1", "0 or more"),
        ("urls", "'https://example.org'", "must be a list"),
        ("default_kind", "'hug'", "unknown value"),
        ("respect_robots", "1", "true or false"),
    ],
)
def test_source_options_are_checked_by_type(
    tmp_path: Path, option: str, value: str, words: str
) -> None:
    (tmp_path / "a.csv").write_text("source,target\na,b\n", encoding="utf-8")
    kind, need = {
        "include_referenced": ("x-archive", "path = 'a.csv'"),
        "max_posts": ("x-search", "query = 'q'"),
        "depth": ("web", "urls = ['https://example.org']"),
        "urls": ("web", ""),
        "default_kind": ("edges-csv", "path = 'a.csv'"),
        "respect_robots": ("web", "urls = ['https://example.org']"),
    }[option]
    path = write(tmp_path, f"[[sources]]\ntype = '{kind}'\n{need}\n{option} = {value}\n")
    problems = [p for p in check_project(path) if p.is_error]
    assert [p.error.field for p in problems] == [f"sources[1].{option}"]
    assert words in problems[0].error.message
    assert problems[0].error.line == 4


def test_the_second_source_table_is_located(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text("", encoding="utf-8")
    path = write(
        tmp_path,
        "[[sources]]\ntype = 'x-archive'\npath = 'a.jsonl'\n\n"
        "[[sources]]\ntype = 'x-archive'\npath = 'a.jsonl'\ninclude_referenced = 'no'\n",
    )
    # (the empty archive itself is a warning: only the option is an error)
    [problem] = [p for p in check_project(path) if p.is_error]
    assert (problem.error.field, problem.error.line) == ("sources[2].include_referenced", 8)


def test_deeply_nested_value_is_an_error_not_a_crash(tmp_path: Path) -> None:
    for depth in (3000, 20000):
        path = write(tmp_path, "x = " + "[" * depth + "]" * depth + "\n")
        [problem] = check_project(path)
        assert "nested too deeply" in problem.error.message
        with pytest.raises(ConfigError):
            load_project(path)
    path = write(tmp_path, "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_project(path)


def test_invalid_toml_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[project]\nname = 'x'\n\n[graph]\nsince = \n")
    with pytest.raises(ConfigError) as err:
        load_project(path)
    assert err.value.line == 5 and "at line" not in err.value.message


def test_a_folder_holding_mapper_toml_is_accepted(demo_copy: Path) -> None:
    assert load_project(demo_copy.parent).path == demo_copy
    assert check_project(demo_copy.parent) == check_project(demo_copy)


def test_a_folder_without_a_project_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"folder without a mapper\.toml"):
        load_project(tmp_path)
    [problem] = check_project(tmp_path)
    assert "folder without" in problem.error.message


@pytest.mark.parametrize("where", ["in_file", "override"])
def test_output_naming_an_existing_file_is_an_error(tmp_path: Path, where: str) -> None:
    (tmp_path / "taken").write_text("not a folder", encoding="utf-8")
    if where == "in_file":
        path = write(tmp_path, "[project]\noutput = 'taken'\n")
        with pytest.raises(ConfigError) as err:
            load_project(path)
        assert (err.value.field, err.value.line) == ("project.output", 2)
    else:
        path = write(tmp_path, "[project]\nname = 'x'\n")
        with pytest.raises(ConfigError) as err:
            load_project(path, output=tmp_path / "taken")
        assert err.value.field == "--out"
    assert "is a file" in str(err.value)


def test_store_naming_a_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, "[project]\nstore = 'db'\n"))
    assert err.value.field == "project.store"


def test_checked_values_reach_the_project(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[graph]\nweights = { name = 0 }\nmin_weight = 2\nuntil = 2016-10-01\n"
        "kinds = []\n[factions]\nresolution = 2\nmethod = 'louvain'\n[maps]\nfocus = ['a']\n",
    )
    proj = load_project(path)
    assert proj.weights == {**DEFAULT_WEIGHTS, "name": 0.0}
    assert isinstance(proj.resolution, float) and proj.resolution == 2.0
    assert proj.min_weight == 2.0 and proj.kinds is None and proj.focus == ["a"]
    assert proj.faction_method == "louvain" and proj.until is not None and proj.since is None
    assert proj.output == tmp_path / "outputs"  # beside the project file


def test_unknown_focus_actor_is_a_warning_naming_it(demo_copy: Path) -> None:
    text = demo_copy.read_text(encoding="utf-8")
    demo_copy.write_text(
        text.replace(
            'focus = ["clive-lewis", "lisa-nandy"]', 'focus = ["clive-lewsi", "x:someone"]'
        ),
        encoding="utf-8",
    )
    problems = check_project(demo_copy)
    assert not any(p.is_error for p in problems)
    [warning] = [p for p in problems if p.error.field == "maps.focus"]
    assert (
        "clive-lewsi" in warning.one_line() and "did you mean 'clive-lewis'" in warning.one_line()
    )
    assert warning.error.line is not None
