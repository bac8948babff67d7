"""Issue 13 tried as an outside checker would: a researcher's own folders, patterns and
files made here (not the repo's fixtures), and the places a real user loses data."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mapper.cli import app
from mapper.pipeline import import_sources
from mapper.project import load_project
from mapper.store import Store

runner = CliRunner()


def _project(folder: Path, sources: str, *, output: str = "outputs") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "roster.csv").write_text("id,name,kind\n", encoding="utf-8")
    toml = folder / "mapper.toml"
    toml.write_text(
        f'[project]\nname = "audit"\nroster = "roster.csv"\noutput = "{output}"\n\n' + sources,
        encoding="utf-8",
    )
    return toml


def _edges(rng: random.Random, n: int) -> tuple[str, dict[tuple[str, str], float]]:
    names = [f"actor{i}" for i in range(12)]
    rows, weights = [], {}
    for _ in range(n):
        a, b = rng.sample(names, 2)
        w = float(rng.randint(1, 5))
        rows.append(f"{a},{b},{w:g},mention")
        weights[(a, b)] = weights.get((a, b), 0.0) + w
    return "source,target,weight,type\n" + "\n".join(rows) + "\n", weights


def _stored_weights(store: Store) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for post in store.iter_posts():
        for ref in post.references:
            key = (post.author, ref.target)
            out[key] = out.get(key, 0.0) + float(ref.weight or 1.0)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("pattern", ["*/edges.csv", "*/*.csv"])
def test_a_wildcard_never_reads_the_runs_own_outputs_back(
    tmp_path: Path, seed: int, pattern: str
) -> None:
    """`*/edges.csv` (every folder's edge table) also matched `outputs/edges.csv`, the
    table a run writes: the second run imported its own export and every weight
    doubled. The run's outputs are left out, and said to be."""
    rng = random.Random(seed)
    folder = tmp_path / "proj"
    expected: dict[tuple[str, str], float] = {}
    for team in ("north", "south"):
        (folder / team).mkdir(parents=True)
        text, weights = _edges(rng, rng.randint(5, 15))
        (folder / team / "edges.csv").write_text(text, encoding="utf-8")
        for key, w in weights.items():
            expected[key] = expected.get(key, 0.0) + w
    toml = _project(folder, f'[[sources]]\ntype = "edges-csv"\npath = "{pattern}"\n')
    project = load_project(toml)
    # what an earlier run left in the output folder
    (folder / "outputs").mkdir()
    text, _ = _edges(rng, 8)
    (folder / "outputs" / "edges.csv").write_text(text, encoding="utf-8")
    with Store(folder / "outputs" / "store.sqlite") as store:
        results = import_sources(project, store)
        assert _stored_weights(store) == expected
    skipped = [r for r in results if r.get("skipped")]
    assert [r["source"] for r in skipped] == [str(folder / "outputs" / "edges.csv")]
    assert "output folder" in skipped[0]["skipped"]


def test_a_pattern_naming_the_output_folder_still_reads_it(tmp_path: Path) -> None:
    """An archive collected into the output folder is read when the pattern names it."""
    folder = tmp_path / "proj"
    (folder / "outputs" / "archives").mkdir(parents=True)
    text, expected = _edges(random.Random(5), 6)
    (folder / "outputs" / "archives" / "edges.csv").write_text(text, encoding="utf-8")
    toml = _project(folder, '[[sources]]\ntype = "edges-csv"\npath = "outputs/archives/*.csv"\n')
    with Store(folder / "outputs" / "store.sqlite") as store:
        results = import_sources(load_project(toml), store)
        assert _stored_weights(store) == expected
    assert not any(r.get("skipped") for r in results)


def test_the_run_says_which_outputs_it_left_out(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    (folder / "team").mkdir(parents=True)
    text, _ = _edges(random.Random(9), 10)
    (folder / "team" / "edges.csv").write_text(text, encoding="utf-8")
    (folder / "outputs").mkdir()
    (folder / "outputs" / "edges.csv").write_text(text, encoding="utf-8")
    toml = _project(folder, '[[sources]]\ntype = "edges-csv"\npath = "*/edges.csv"\n')
    result = runner.invoke(app, ["build", str(toml), "--json"])
    assert result.exit_code == 0, result.output
    assert "outputs/edges.csv: not read: a file in the project's output folder" in result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["ties"] == len({tuple(r.split(",")[:2]) for r in text.splitlines()[1:]})


# ------------------------------------------------------------------ non-post X files


def _v1_tweet(i: int) -> dict[str, object]:
    return {
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "id": 1050118621198921728 + i,
        "id_str": str(1050118621198921728 + i),
        "text": f"post {i} with @jack",
        "user": {"id": 6253282 + i, "id_str": str(6253282 + i), "screen_name": f"user{i}"},
        "entities": {"user_mentions": [{"screen_name": "jack", "id_str": "12"}]},
    }


@pytest.mark.parametrize("count", [1, 3])
def test_x_files_that_are_not_v2_posts_say_what_they_are(tmp_path: Path, count: int) -> None:
    """A v1.1 capture was set aside as 'post has no author'; a compliance job's
    results and a 401 problem body as 'not an X API object (keys: ...)'."""
    compliance = "".join(
        json.dumps(
            {
                "id": str(1382 + i),
                "action": "delete",
                "created_at": "2021-04-14T00:00:00.000Z",
                "redacted_at": "2021-04-14T00:00:00.000Z",
                "reason": "deleted",
            }
        )
        + "\n"
        for i in range(count)
    )
    v1 = "".join(json.dumps(_v1_tweet(i)) + "\n" for i in range(count))
    cases = {
        "compliance.jsonl": (compliance, 1, "X compliance results"),
        "v1.jsonl": (v1, 1, "X API v1.1 tweet"),
    }
    for name, (text, code, words) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = runner.invoke(app, ["import", str(path), "--store", str(tmp_path / "s.sqlite")])
        assert result.exit_code == code, result.output
        assert words in result.output and "has no author" not in result.output
    body = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    db = str(tmp_path / "s.sqlite")
    result = runner.invoke(app, ["import", str(path), "--store", db])
    assert "not an X API object" not in result.output
    listing = runner.invoke(app, ["quarantine", "--store", db])
    assert "X API error response: Unauthorized (HTTP 401)" in listing.output


# ------------------------------------------------------------------ project file


@pytest.mark.parametrize(
    ("source", "field", "words"),
    [
        ('type = "divisions"\nformat = "xml"', "sources[1].format", "unknown value 'xml'"),
        ('type = "divisions"\nparliament = 5', "sources[1].parliament", "must be text"),
        ('type = "divisions"\nparliament = ""', "sources[1].parliament", ""),
        ('type = "graph"\nweight = 2', "sources[1].weight", "must be text"),
        ('type = "graph"\nweight = ["a"]', "sources[1].weight", "must be text"),
    ],
)
def test_source_options_of_the_wrong_type_are_named_by_check(
    tmp_path: Path, source: str, field: str, words: str
) -> None:
    """These options were taken without a look: `parliament = 5` passed `mapper check`
    and `format = "xml"` was found only by the run, file by file."""
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "data.csv").write_text("member,division,vote\nAnn,1,aye\n", encoding="utf-8")
    toml = _project(folder, f'[[sources]]\npath = "data.csv"\n{source}\n')
    result = runner.invoke(app, ["check", str(toml)])
    assert result.exit_code == 1, result.output
    assert f": {field}: {words}" in result.output


def test_check_refuses_a_utf16_division_file_as_the_run_does(tmp_path: Path) -> None:
    """`mapper check` said 'no errors' for a division export saved as UTF-16, which
    the run could not read."""
    folder = tmp_path / "p"
    folder.mkdir()
    text = "member,division,vote\nAnn Lee,1,aye\nBob Roe,1,no\n"
    (folder / "votes.csv").write_bytes(text.encode("utf-16"))
    toml = _project(folder, '[[sources]]\ntype = "divisions"\npath = "votes.csv"\n')
    result = runner.invoke(app, ["check", str(toml)])
    assert result.exit_code == 1 and "UTF-16 text, not UTF-8" in result.output


def test_check_names_the_rows_a_division_import_would_set_aside(tmp_path: Path) -> None:
    """`mapper check` read edge and post tables for open quotes but never division
    files: an export with an open quote or an unknown vote was 'no errors'."""
    folder = tmp_path / "p"
    folder.mkdir()
    header = "Division Number: 5\r\nDivision Date: 05/05/2021\r\n\r\nM\r\n\r\n"
    rows = "".join(f'"M {i}","Red","S {i}","{"Aye" if i % 2 else "No"}",""\r\n' for i in range(12))
    head = header + "Aye Count: 6\r\nNoes Count: 6\r\n\r\nMembers recorded\r\n"
    head += "Member,Party,Constituency,Vote,Proxy Member\r\n"
    (folder / "Division5.csv").write_bytes((head + rows).encode())
    broken = rows.replace('"S 3","Aye",""', '"S 3","Aye","', 1).replace('"M 7"', "M 7", 1)
    broken = broken.replace('"No",""\r\n"M 9"', '"Maybe",""\r\n"M 9"', 1)
    (folder / "Division6.csv").write_bytes((head.replace(": 5", ": 6") + broken).encode())
    toml = _project(folder, '[[sources]]\ntype = "divisions"\npath = "Division*.csv"\n')
    result = runner.invoke(app, ["check", str(toml)])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert all("Division6.csv:" in line for line in errors) and len(errors) == 2
    assert "Division6.csv:14: unterminated quote" in result.output
    assert "unknown vote value 'Maybe' for M 8" in result.output
