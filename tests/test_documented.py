"""What the documentation says about options and output files is what mapper does:
every option is documented, `until` is excluded, the GEXF carries the maps' positions
and colours, every node column is described, and the report reads cleanly."""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from mapper.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
runner = CliRunner()


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo run once (maps, exports, report) into a temporary folder."""
    from mapper.pipeline import run_project
    from mapper.project import load_project

    folder = tmp_path_factory.mktemp("demo")
    shutil.copytree(
        ROOT / "data" / "demo", folder / "demo", ignore=shutil.ignore_patterns("outputs")
    )
    project = load_project(folder / "demo" / "mapper.toml", output=folder / "out")
    run_project(project)
    yield folder / "out"


def test_every_project_and_source_option_is_documented() -> None:
    from mapper.project import OPTIONS, SOURCE_OPTIONS, SOURCE_TYPES

    text = _doc("sources.md")
    missing = [f"[{o.section}] {o.key}" for o in OPTIONS if f"`{o.key}`" not in text]
    for kind, options in SOURCE_OPTIONS.items():
        for key in {*options, SOURCE_TYPES[kind]}:
            if f"`{key}`" not in text:
                missing.append(f"{kind}: {key}")
    assert not missing, f"options not documented in docs/sources.md: {missing}"


def test_include_referenced_says_it_changes_the_graph() -> None:
    text = _doc("sources.md")
    section = text[text.index("**Referenced posts**") :]
    section = section[: section.index("\n\n**")]
    assert "include_referenced = true" in section
    assert "graph changes" in section and "mentions" in section


def test_until_is_documented_as_excluded_and_is(tmp_path: Path) -> None:
    """A reference at the ``until`` instant is left out; one at ``since`` is kept."""
    from mapper.pipeline import build, import_sources
    from mapper.project import load_project
    from mapper.store import Store

    row = re.search(r"`\[graph\]` \|[^\n]*", _doc("sources.md"))
    assert row is not None and "`until` (excluded" in row.group(0)
    assert "half-open window" in _doc("concepts.md")
    (tmp_path / "edges.csv").write_text(
        "source,target,time\n"
        "a,b,2016-07-01T00:00:00Z\n"  # at since: kept
        "b,c,2016-09-30T23:59:59Z\n"  # just before until: kept
        "c,d,2016-10-01T00:00:00Z\n"  # at until: left out
        "d,e,2016-06-30T23:59:59Z\n",  # before since: left out
        encoding="utf-8",
    )
    (tmp_path / "mapper.toml").write_text(
        "[[sources]]\ntype = 'edges-csv'\npath = 'edges.csv'\n"
        "[graph]\nsince = 2016-07-01\nuntil = 2016-10-01\n",
        encoding="utf-8",
    )
    project = load_project(tmp_path / "mapper.toml")
    with Store(project.store) as store:
        import_sources(project, store)
        G, _ = build(project, store)
    assert sorted(G.edges) == [("a", "b"), ("b", "c")]


def test_gexf_has_the_maps_positions_and_colours_as_documented(demo_run: Path) -> None:
    from mapper.render.layout import group_nodes

    text = _doc("exports.md")
    assert "no positions" not in text and "different palette" not in text
    assert "`pos_x`" in text and "`pos_y`" in text
    G = nx.read_gexf(demo_run / "graph.gexf")
    nodes = {row["id"]: row for row in csv.DictReader((demo_run / "nodes.csv").open())}
    grouping = group_nodes(G)
    for node, data in G.nodes(data=True):
        position = data["viz"]["position"]
        assert (position["x"], position["y"]) == (
            float(nodes[node]["pos_x"]),
            float(nodes[node]["pos_y"]),
        )
        colour = data["viz"]["color"]
        expected = grouping.colour(grouping.of_node[node]) if node in grouping.of_node else None
        if expected is not None:
            assert "#{:02x}{:02x}{:02x}".format(colour["r"], colour["g"], colour["b"]) == expected


def test_every_node_column_is_documented(demo_run: Path) -> None:
    table = _doc("outputs.md").split("## `nodes.csv`", 1)[1].split("\n## ", 1)[0]
    documented = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            documented.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    with (demo_run / "nodes.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert not set(header) - documented, f"undocumented: {set(header) - documented}"
    attributes = _doc("exports.md").split("**Node attributes:**", 1)[1].split("\n\n", 1)[0]
    assert not {h for h in header if h != "id"} - set(re.findall(r"`([a-z_]+)`", attributes))


# ------------------------------------------------------------------------ report


@pytest.mark.parametrize(
    "name", ["Marks & Spencer", "Tom & Jerry's & co", "R&D Unit", "A&amp;B Ltd", "x &lt; y"]
)
def test_report_md_shows_ampersands_as_written(tmp_path: Path, name: str) -> None:
    from mapper.render.report import write_report

    G = nx.DiGraph()
    G.add_node("a", label=name, kind="organisation", faction=0, influence=0.6)
    G.add_node("b", label="<b>bold</b> & <i>", kind="mp", faction=0, influence=0.4)
    G.add_edge("a", "b", weight=1.0, count=1)
    out = write_report(tmp_path, G=G)
    md = out["report.md"].read_text(encoding="utf-8")
    row = next(line for line in md.splitlines() if line.startswith("| 1 |"))
    if "&lt;" in name or "&amp;" in name:
        # text that looks like an entity keeps showing the entity's letters
        assert name.replace("&", "&amp;") in row
    else:
        assert name in row and "&amp;" not in row
    assert "<b>" not in md and "&lt;b&gt;bold&lt;/b&gt; &" in md


def test_report_html_keeps_ranks_and_numbers_on_one_line(tmp_path: Path) -> None:
    from mapper.render.report import write_report

    G = nx.gnm_random_graph(40, 120, seed=7, directed=True)
    G = nx.relabel_nodes(G, {n: f"n{n}" for n in G})
    for n in G:
        G.nodes[n].update(label=f"Actor with a long name number {n}", kind="mp", influence=0.01)
    html = write_report(tmp_path, G=G)["report.html"].read_text(encoding="utf-8")
    assert "td.num" in html and "white-space: nowrap" in html.split("td.num", 1)[1][:80]
    ranks = re.findall(r'<td class="num">(\d+)</td><td>Actor', html)
    assert ranks[:3] == ["1", "2", "3"]


def test_sweep_table_prints_short_numbers(demo_copy: Path) -> None:
    result = runner.invoke(app, ["factions", str(demo_copy), "--sweep", "0.5,1,1.7"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == [
        "resolution",
        "factions",
        "singletons",
        "unassigned",
        "modularity",
    ]
    numbers = [cell for line in lines[1:] for cell in line.split() if re.match(r"^-?\d", cell)]
    assert numbers and all(len(cell.replace("-", "")) <= 6 for cell in numbers), numbers
