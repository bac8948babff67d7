"""One unusable source never stops an import or a run (issue 13 items 4 and 13).

A file that cannot be used as a whole (empty, another format, UTF-16, a folder where a
file should be) or a live source that cannot be reached is reported in one line that
names it and says why, in the import results, the run summary and on the command
line; the other files and sources are still read, and the exit code is 1 at the end
only with ``--strict`` (or for ``mapper import`` when no file at all could be read).
The messages say what the problem is: a folder is not "file not found", UTF-16 text
is not "NUL byte".
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from mapper.cli import app
from mapper.collectors.base import import_file, read_json_records
from mapper.collectors.graph_files import read_graph_file
from mapper.collectors.x_archive import import_archive
from mapper.errors import ImportFormatError, MapperError
from mapper.pipeline import import_sources, run_project
from mapper.project import check_project, load_project
from mapper.sources import FILE_IMPORTERS
from mapper.sources import import_file as import_source_file
from mapper.store import Store

FIX = Path(__file__).parent / "fixtures"
runner = CliRunner()


def x_lines(seed: int, count: int) -> bytes:
    """``count`` flattened X posts (twarc2 flatten shape) mentioning each other."""
    rng = random.Random(seed)
    names = [f"user{seed}_{i}" for i in range(6)]
    lines = []
    for n in range(count):
        author, target = rng.sample(names, 2)
        post = {
            "id": f"{seed}{n:05d}",
            "author_id": str(names.index(author) + 100),
            "text": f"@{target} hello",
            "created_at": "2024-03-01T12:00:00.000Z",
            "author": {"id": str(names.index(author) + 100), "username": author},
            "entities": {
                "mentions": [
                    {"start": 0, "end": len(target) + 1, "username": target, "id": str(200 + n)}
                ]
            },
        }
        lines.append(json.dumps(post).encode())
    return b"\n".join(lines) + b"\n"


#: Files unusable as a whole, as an x-archive source would meet them.
UNUSABLE: dict[str, tuple[bytes, str]] = {
    "empty.jsonl": (b"", "empty file"),
    "blank.jsonl": (b"\n \n\t\n", "empty file"),
    "table.jsonl": (b"source,target\nalice,bob\n", "no X API data found"),
    "utf16.jsonl": (
        '{"id": "1", "text": "hi", "author_id": "2"}\n'.encode("utf-16"),
        "UTF-16 text",
    ),
}


def write_project(tmp_path: Path, sources: str) -> Path:
    path = tmp_path / "mapper.toml"
    path.write_text(f'[project]\nname = "t"\noutput = "out"\n{sources}', encoding="utf-8")
    return path


# --------------------------------------------------------------------------- runs


@pytest.mark.parametrize("bad", sorted(UNUSABLE))
def test_an_unusable_file_among_three_is_reported_and_the_others_read(
    tmp_path: Path, bad: str
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.jsonl").write_bytes(x_lines(1, 30))
    (corpus / "c.jsonl").write_bytes(x_lines(2, 25))
    content, reason = UNUSABLE[bad]
    (corpus / f"b_{bad}").write_bytes(content)
    (corpus / "sub.jsonl").mkdir()  # a folder the pattern matches is not a file to read
    proj = load_project(
        write_project(tmp_path, '[[sources]]\ntype = "x-archive"\npath = "corpus/*.jsonl"\n')
    )
    with Store(proj.store) as store:
        results = import_sources(proj, store)
        assert store.count_posts() == 55
    assert [Path(r["source"]).name for r in results] == ["a.jsonl", f"b_{bad}", "c.jsonl"]
    assert [r.get("added") for r in results] == [30, None, 25]
    error = results[1]["error"]
    assert error.startswith(f"{corpus / ('b_' + bad)}: {reason}") and "\n" not in error
    assert "NUL byte" not in error


def test_a_run_goes_on_and_strict_fails_at_the_end(tmp_path: Path) -> None:
    (tmp_path / "good.jsonl").write_bytes(x_lines(3, 40))
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "edges.csv").write_bytes(b"")
    (tmp_path / "m.json").write_bytes(b'{"data": 1}')
    sources = "".join(
        f'[[sources]]\ntype = "{kind}"\npath = "{name}"\n'
        for kind, name in (
            ("x-archive", "empty.jsonl"),
            ("edges-csv", "edges.csv"),
            ("x-archive", "good.jsonl"),
            ("mastodon-file", "m.json"),
        )
    )
    path = write_project(tmp_path, sources)
    result = runner.invoke(app, ["run", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    errors = [i.get("error") for i in summary["imports"]]
    assert errors[2] is None and summary["imports"][2]["added"] == 40
    for name, error in zip(
        ("empty.jsonl", "edges.csv", "m.json"), errors[:2] + errors[3:], strict=True
    ):
        assert error and str(tmp_path / name) in error
        assert f"not read: {error}" in result.output
    assert summary["actors"] > 0
    strict = runner.invoke(app, ["run", str(path), "--strict"])
    assert strict.exit_code == 1
    assert "3 source(s) could not be read (--strict)" in strict.output
    assert (tmp_path / "out" / "map.html").is_file()  # the outputs were still written


def test_a_run_with_nothing_readable_says_what_was_not_read(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    path = write_project(tmp_path, '[[sources]]\ntype = "x-archive"\npath = "empty.jsonl"\n')
    with pytest.raises(MapperError) as info:
        run_project(load_project(path))
    line = info.value.one_line()
    assert "the graph is empty" in line and f"not read: {tmp_path / 'empty.jsonl'}" in line


# --------------------------------------------------------------------------- live sources


def test_run_collect_goes_on_after_an_unreachable_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three live feeds: the first host refuses connections, the second answers 503
    every time, the third works. The run reads the third and reports the other two."""
    from mapper.collectors import feed
    from mapper.http import HttpClient, RetryPolicy

    rss = (FIX / "http" / "feed_rss.xml").read_bytes()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        if request.url.host == "down.example.org":
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.host == "busy.example.org":
            return httpx.Response(503)
        return httpx.Response(200, headers={"content-type": "application/rss+xml"}, content=rss)

    def client(**kwargs: Any) -> HttpClient:
        return HttpClient(
            transport=httpx.MockTransport(handler),
            sleep=lambda s: None,
            policy=RetryPolicy(max_attempts=2),
            **kwargs,
        )

    monkeypatch.setattr(feed, "HttpClient", client)
    sources = "".join(
        f'[[sources]]\ntype = "feed"\nurl = "https://{host}/feed.xml"\n'
        for host in ("down.example.org", "busy.example.org", "up.example.org")
    )
    proj = load_project(write_project(tmp_path, sources))
    with Store(proj.store) as store:
        results = import_sources(proj, store, collect=True)
        assert store.count_posts() == results[2]["added"] > 0
    assert "down.example.org" in results[0]["error"] and "\n" not in results[0]["error"]
    assert "busy.example.org" in results[1]["error"] and "503" in results[1]["error"]
    assert "error" not in results[2]
    assert seen.count("up.example.org") == 1


# --------------------------------------------------------------------------- mapper import


def test_import_command_goes_on_past_unusable_files(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(x_lines(4, 12))
    (tmp_path / "b.jsonl").write_bytes(x_lines(5, 8))
    (tmp_path / "empty.jsonl").write_bytes(b"")
    (tmp_path / "folder.jsonl").mkdir()
    store = tmp_path / "s.db"
    files = [tmp_path / n for n in ("a.jsonl", "empty.jsonl", "folder.jsonl", "b.jsonl")]
    args = ["import", *map(str, files), "--store", str(store)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"not read: {files[1]}: empty file" in result.output
    assert f"not read: {files[2]}: is a folder, not a file" in result.output
    assert f"{files[0]}: 12 added" in result.output and f"{files[3]}: 8 added" in result.output
    with Store(store) as st:
        assert st.count_posts() == 20

    strict = runner.invoke(app, [*args, "--strict", "--force"])
    assert strict.exit_code == 1 and "2 source(s) could not be read" in strict.output

    as_json = runner.invoke(app, [*args, "--json"])
    data = json.loads(as_json.stdout)
    assert [bool(r.get("error")) for r in data] == [False, True, True, False]

    nothing = runner.invoke(app, ["import", str(files[1]), str(files[2]), "--store", str(store)])
    assert nothing.exit_code == 1 and "nothing imported" in nothing.output


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize("kind", sorted(FILE_IMPORTERS))
def test_a_folder_is_called_a_folder(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "export.json"
    folder.mkdir()
    with Store(":memory:") as store, pytest.raises(ImportFormatError) as info:
        import_source_file(kind, folder, store)
    assert info.value.one_line().startswith(f"{folder}: is a folder, not a file")
    missing = tmp_path / "missing.json"
    with Store(":memory:") as store, pytest.raises(ImportFormatError) as info:
        import_source_file(kind, missing, store)
    assert info.value.one_line() == f"{missing}: file not found"


def test_library_readers_call_a_folder_a_folder(tmp_path: Path) -> None:
    for name in ("g.gexf", "x.jsonl", "r.json"):
        (tmp_path / name).mkdir()
    with pytest.raises(ImportFormatError, match="is a folder, not a file"):
        read_graph_file(tmp_path / "g.gexf")
    with Store(":memory:") as store, pytest.raises(ImportFormatError, match="is a folder"):
        import_archive(store, tmp_path / "x.jsonl")
    with pytest.raises(ImportFormatError, match="is a folder"):
        list(read_json_records(tmp_path / "r.json"))
    with Store(":memory:") as store, pytest.raises(ImportFormatError, match="is a folder"):
        import_file(store, tmp_path / "r.json", lambda on_bad: [])


WIDE = {
    "utf-16 (BOM)": ("utf-16", "UTF-16"),
    "utf-16-le": ("utf-16-le", "UTF-16"),
    "utf-16-be": ("utf-16-be", "UTF-16"),
    "utf-32 (BOM)": ("utf-32", "UTF-32"),
}
TEXTS = {
    "x-archive": ("x.jsonl", '{"id": "1", "text": "hi @bob", "author_id": "2"}\n'),
    "edges-csv": ("edges.csv", "source,target,weight\nalice,bob,2\ncarol,bob,1\n"),
    "posts-csv": ("posts.csv", "author,text\nalice,hello @bob\n"),
    "mastodon-file": ("m.jsonl", '{"id": "1", "content": "<p>hi</p>", "account": {}}\n'),
    "bluesky-file": ("b.json", '{"feed": []}\n'),
}


@pytest.mark.parametrize("encoding", sorted(WIDE))
@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_utf16_text_is_named_not_called_nul_bytes(tmp_path: Path, kind: str, encoding: str) -> None:
    codec, name = WIDE[encoding]
    file_name, text = TEXTS[kind]
    path = tmp_path / file_name
    path.write_bytes(text.encode(codec))
    with Store(":memory:") as store, pytest.raises(ImportFormatError) as info:
        import_source_file(kind, path, store)
    line = info.value.one_line()
    assert line == f"{path}: {name} text, not UTF-8 (save it as UTF-8 (most editors and " + (
        "spreadsheets offer it under Save As))"
    )
    with Store(":memory:") as store:
        assert store.count_posts() == 0 and store.quarantined() == []


def test_an_x_archive_read_directly_names_utf16_too(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(json.dumps({"data": [{"id": "1", "text": "hi"}]}, indent=2).encode("utf-16"))
    with Store(":memory:") as store, pytest.raises(ImportFormatError, match="UTF-16 text"):
        import_archive(store, path)
    with pytest.raises(ImportFormatError, match="UTF-16 text"):
        list(read_json_records(path))


def test_a_utf16_gml_file_is_read(tmp_path: Path) -> None:
    text = 'graph [\n node [ id 1 label "Zoë" ]\n node [ id 2 label "b" ]\n'
    text += " edge [ source 1 target 2 weight 2.5 ]\n]\n"
    for codec in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        path = tmp_path / f"{codec}.gml"
        path.write_bytes(text.encode(codec))
        G = read_graph_file(path)
        assert G["Zoë"]["b"]["weight"] == 2.5


@pytest.mark.parametrize(
    ("sources", "reason"),
    [
        (
            '[[sources]]\ntype = "graph"\npath = "g.graphml"\n',
            "its graph files and edge tables hold no node and no tie",
        ),
        (
            '[[sources]]\ntype = "graph"\npath = "g.graphml"\n'
            '[[sources]]\ntype = "x-archive"\npath = "posts.jsonl"\n',
            "no post referred to anyone, and the graph files and edge tables hold no tie",
        ),
    ],
)
def test_an_empty_graph_says_why_in_the_terms_of_its_sources(
    tmp_path: Path, sources: str, reason: str
) -> None:
    # an empty but well-formed graph file: there are no posts to blame
    (tmp_path / "g.graphml").write_text(
        '<?xml version="1.0"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
        '<graph edgedefault="undirected"></graph></graphml>\n',
        encoding="utf-8",
    )
    (tmp_path / "posts.jsonl").write_bytes(b"")
    with pytest.raises(MapperError) as info:
        run_project(load_project(write_project(tmp_path, sources)))
    assert f"the graph is empty: {reason}" in info.value.one_line()


@pytest.mark.parametrize("kind", ["edges-csv", "posts-csv"])
@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_check_names_an_empty_table_once(tmp_path: Path, kind: str, content: bytes) -> None:
    # it was a warning from the file check and an error from the table check
    (tmp_path / "t.csv").write_bytes(content)
    path = write_project(tmp_path, f'[[sources]]\ntype = "{kind}"\npath = "t.csv"\n')
    found = [p for p in check_project(path) if "t.csv" in p.one_line()]
    assert len(found) == 1 and "empty file" in found[0].one_line()
    assert not found[0].is_error
