"""The Dask engine gives what the single engine gives: the same nodes.csv, edges.csv and
evidence.csv, the same unresolved report, import counts and quarantine, on real X API
fixtures, generated multi-file archives cut into tiny byte ranges, and CSV tables.

A real ``distributed.LocalCluster`` with two worker processes runs every distributed
test (started once for the module, closed at the end)."""

from __future__ import annotations

import itertools
import pickle
import random
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# dask[distributed] is in the test extra: a missing install fails here, not skips
import distributed
import orjson
import pytest
from typer.testing import CliRunner

from mapper.cli import app
from mapper.collectors.x_archive import ArchiveRange, archive_problem, iter_archive
from mapper.engine.partitions import EdgeAggregate, plan_file
from mapper.graph import build_graph
from mapper.project import load_project
from mapper.records import Actor, EdgeEvent

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
X_FIXTURES = FIXTURES / "x-api-v2"
TABLES = ["nodes.csv", "edges.csv", "evidence.csv"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two single-threaded worker processes, as the issue asks for."""
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster: Any) -> Iterator[Any]:
    from mapper.engine.dask import release_offload_thread

    with distributed.Client(cluster) as c:
        yield c
    release_offload_thread()  # the tests after this module may fork


def test_no_dask_thread_outlives_the_engine() -> None:
    """After a Dask run the analysis forks again: distributed's idle offload thread is
    stopped (and offloading still works when next needed)."""
    import threading

    import distributed.utils

    from mapper import parallel
    from mapper.engine.dask import release_offload_thread

    def offload_threads() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.startswith("Dask-Offload")]

    distributed.utils._offload_executor.submit(lambda: None).result()
    assert offload_threads()
    release_offload_thread()
    assert offload_threads() == []
    assert parallel.fork_available()
    assert distributed.utils._offload_executor.submit(lambda: 7).result() == 7
    release_offload_thread()
    assert offload_threads() == []


# --------------------------------------------------------------------------- helpers


def _project(folder: Path, sources: str, extra: str = "", roster: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    head = '[project]\nname = "engines"\n'
    if roster:
        head += f'roster = "{roster}"\n'
    toml = folder / "mapper.toml"
    toml.write_text(head + sources + extra, encoding="utf-8")
    return toml


def _single(toml: Path, out: Path) -> dict[str, Any]:
    """The single engine's import and graph, with the graph tables exported."""
    from mapper.export import export_all
    from mapper.pipeline import build, import_sources
    from mapper.store import Store

    project = load_project(toml, output=out)
    project.store = out / "store.sqlite"
    out.mkdir(parents=True)
    with Store(project.store) as store:
        imports = import_sources(project, store)
        G, resolution = build(project, store)
        quarantine = _quarantine(store)
    export_all(G, out, formats=("csv",))
    return {"imports": imports, "resolution": resolution, "quarantine": quarantine, "G": G}


def _dask(toml: Path, out: Path, client: Any, partition_bytes: int | None = None) -> dict[str, Any]:
    from mapper.engine.dask import build_dask
    from mapper.export import export_all
    from mapper.store import Store

    project = load_project(toml, output=out)
    project.store = out / "store.sqlite"
    out.mkdir(parents=True)
    with Store(project.store) as store:
        imports, G, resolution = build_dask(
            project, store, client=client, partition_bytes=partition_bytes
        )
        quarantine = _quarantine(store)
    export_all(G, out, formats=("csv",))
    return {"imports": imports, "resolution": resolution, "quarantine": quarantine, "G": G}


def _quarantine(store: Any) -> list[tuple[Any, ...]]:
    return [(r["source"], r["line"], r["reason"], r["raw"]) for r in store.quarantined()]


def _same(a: dict[str, Any], b: dict[str, Any], out_a: Path, out_b: Path) -> None:
    """Byte-identical graph tables, and the same report, imports and quarantine."""
    for name in TABLES:
        assert (out_a / name).read_bytes() == (out_b / name).read_bytes(), name
    assert a["resolution"].report.to_rows() == b["resolution"].report.to_rows()
    assert len(a["resolution"].events) == len(b["resolution"].events)
    assert a["imports"] == b["imports"]
    assert a["quarantine"] == b["quarantine"]


def _compare(tmp: Path, toml: Path, client: Any, partition_bytes: int | None = None) -> Any:
    single = _single(toml, tmp / "single")
    dask = _dask(toml, tmp / "dask", client, partition_bytes)
    _same(single, dask, tmp / "single", tmp / "dask")
    return single, dask


def _generated(folder: Path, files: int, posts: int) -> Path:
    """A multi-file archive of benchmarks/generate.py data: each file another seed of the
    same generator, so post ids repeat across files with other content (the first copy,
    in import order, is the one that counts)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    data = folder / "data"
    for n in range(files):
        info = generate(folder / f"gen{n}", posts, seed=n + 1)
        data.mkdir(parents=True, exist_ok=True)
        shutil.move(info["archive"], data / f"part-{n}.jsonl")
        if n == 0:
            shutil.move(info["roster"], folder / "roster.csv")
            shutil.move(info["issues"], folder / "issues.csv")
    return data


# --------------------------------------------------------------------------- engines agree


def test_real_x_fixtures_give_identical_outputs(tmp_path: Path, client: Any) -> None:
    """The recorded X API v2 files (pages, flattened posts, a stream with an error line;
    flat.jsonl and noflat.jsonl hold the same 100 posts): same tables, same duplicates
    and quarantine."""
    data = tmp_path / "x"
    shutil.copytree(X_FIXTURES, data, ignore=shutil.ignore_patterns("*.md"))
    toml = _project(tmp_path, '[[sources]]\ntype = "x-archive"\npath = "x/*.jsonl"\n')
    single, dask = _compare(tmp_path, toml, client)
    counts = {Path(i["source"]).name: (i["added"], i["duplicates"]) for i in dask["imports"]}
    assert counts["noflat.jsonl"] == (0, 100)  # flat.jsonl came first
    assert sum(i["quarantined"] for i in dask["imports"]) == 1
    assert single["G"].number_of_edges() > 50


def test_generated_archive_in_tiny_byte_ranges(tmp_path: Path, client: Any) -> None:
    """Three generated files (ids repeated across files), a roster with aliases and
    issues, cut into 64 KiB ranges: dozens of partitions, every boundary mid-line."""
    data = _generated(tmp_path, files=3, posts=1500)
    toml = _project(
        tmp_path,
        '[[sources]]\ntype = "x-archive"\npath = "data/*.jsonl"\n',
        roster="roster.csv",
    )
    project = load_project(toml)
    parts = [
        p
        for n, f in enumerate(sorted(data.glob("*.jsonl")))
        for p in plan_file("x-archive", f, source=1, first_index=n, partition_bytes=65536)
    ]
    assert len(parts) > 20 and all(not p.whole for p in parts)
    single, dask = _compare(tmp_path, toml, client, partition_bytes=65536)
    assert [i["duplicates"] for i in dask["imports"]] == [0, 1500, 1500]
    names = [a for a in single["G"] if a.startswith("a")]  # roster actors
    assert names and project.roster is not None
    # provisional actors carry the display name of their first post, as resolved alone
    provisional = {k: a.name for k, a in dask["resolution"].actors.items() if a.provisional}
    assert provisional == {
        k: a.name for k, a in single["resolution"].actors.items() if a.provisional
    }


def test_time_window_and_weights(tmp_path: Path, client: Any) -> None:
    """[graph] since/until and weights apply to the aggregated events the same way."""
    _generated(tmp_path, files=1, posts=1200)
    extra = (
        "\n[graph]\nsince = 2016-07-15\nuntil = 2016-09-01\nmax_evidence = 2\n"
        "weights = { mention = 0.3, name = 0.1 }\n"
    )
    toml = _project(
        tmp_path,
        '[[sources]]\ntype = "x-archive"\npath = "data/*.jsonl"\n',
        extra,
        roster="roster.csv",
    )
    _compare(tmp_path, toml, client, partition_bytes=40000)


def test_tables_and_archives_together(tmp_path: Path, client: Any) -> None:
    """CSV edge and post tables (read whole, through their importers, with their bad
    rows) next to an X archive and a roster."""
    shutil.copy(FIXTURES / "tables" / "edges_messy.csv", tmp_path / "edges.csv")
    shutil.copy(FIXTURES / "tables" / "nodes.csv", tmp_path / "nodes.csv")
    shutil.copy(FIXTURES / "tables" / "posts_4cat.csv", tmp_path / "posts.csv")
    shutil.copy(X_FIXTURES / "flat.jsonl", tmp_path / "flat.jsonl")
    shutil.copy(FIXTURES / "roster" / "roster.csv", tmp_path / "roster.csv")
    sources = (
        '[[sources]]\ntype = "edges-csv"\npath = "edges.csv"\nnodes = "nodes.csv"\n\n'
        '[[sources]]\ntype = "posts-csv"\npath = "posts.csv"\nplatform = "x"\n\n'
        '[[sources]]\ntype = "x-archive"\npath = "flat.jsonl"\n'
    )
    toml = _project(tmp_path, sources, roster="roster.csv")
    _single_run, dask = _compare(tmp_path, toml, client, partition_bytes=100_000)
    assert [i["type"] for i in dask["imports"]] == ["edges-csv", "posts-csv", "x-archive"]
    assert dask["quarantine"] and {Path(q[0]).name for q in dask["quarantine"]} >= {"edges.csv"}


def _hostile_lines() -> list[bytes]:
    """Pages, flattened posts, a broken line, blank lines, NUL bytes, invalid UTF-8, an
    error-only response and a users page, with long and short lines."""
    lines = (X_FIXTURES / "noflat.jsonl").read_bytes().splitlines(keepends=True)
    flat = (X_FIXTURES / "flat.jsonl").read_bytes().splitlines(keepends=True)
    bad = [
        b'{"data": [{"id": "1", "text": "trunc',
        b"\n",
        b"   \n",
        b'{"data": [{"id": "2", "author_id": "3", "text": "a\x00b"}]}\n',
        b'{"data": [{"id": "4", "author_id": "5", "text": "\xff\xfe"}]}\n',
        orjson.dumps({"errors": [{"title": "Not Found", "detail": "gone"}]}) + b"\n",
        orjson.dumps({"data": [{"id": "9", "username": "someone", "name": "S"}]}) + b"\n",
    ]
    out = [b"\xef\xbb\xbf" + flat[0], *flat[1:40], *bad[:3], *lines, *bad[3:], *flat[40:]]
    out[-1] = out[-1].rstrip(b"\n")  # the last line without its newline
    return [line if line.endswith(b"\n") else line + b"\n" for line in out[:-1]] + [out[-1]]


def test_byte_ranges_read_what_the_whole_file_reads(tmp_path: Path) -> None:
    """Cut anywhere (ranges of 1 byte up to the whole file), the ranges together yield
    the posts, the lines set aside and the counts of one read of the file."""
    lines = _hostile_lines()
    small = tmp_path / "small.jsonl"  # every byte a boundary
    short = [
        orjson.dumps(
            {
                "data": [{"id": str(i), "author_id": "1", "text": f"hi @u{i}"}],
                "includes": {"users": [{"id": "1", "username": "ann"}]},
            }
        )
        + b"\n"
        for i in range(8)
    ]
    small.write_bytes(
        b"".join([b"\xef\xbb\xbf" + short[0], *lines[40:43], *short[1:], *lines[44:48]])
        + short[0].rstrip()  # the last line without its newline
    )
    big = tmp_path / "mixed.jsonl"
    big.write_bytes(b"".join(lines))
    for path, steps in ((small, (1, 2, 3)), (big, (997, 4096, 100_000, 10**7))):
        _check_ranges(path, steps)


def _check_ranges(path: Path, steps: tuple[int, ...]) -> None:
    whole_bad: list[tuple[int, str, str]] = []
    whole = [p for p in iter_archive(path, on_bad=lambda *a: whole_bad.append(a))]
    size = path.stat().st_size
    n_lines = len(path.read_bytes().splitlines())
    rng = random.Random(7)
    for step in steps:
        cuts = sorted({0, size, *(rng.randrange(size) for _ in range(5))})
        for ranges in (
            [(a, min(a + step, size)) for a in range(0, size, step)],
            list(itertools.pairwise(cuts)),
        ):
            posts: list[Any] = []
            bad: list[tuple[int, str, str]] = []
            report = bad.append
            first_line = 1
            total_lines = 0
            for start, end in ranges:
                reader = ArchiveRange(
                    path, start, end, first_line=first_line, on_bad=lambda *a, f=report: f(a)
                )
                posts.extend(post for post, _ in reader.items())
                first_line += reader.owned
                total_lines += reader.owned
            assert posts == whole, (step, ranges[:3])
            assert bad == whole_bad
            assert total_lines == n_lines


def test_range_verdict_matches_whole_file(tmp_path: Path) -> None:
    """A file of nothing but a users lookup is refused as a whole, whatever its cut."""
    path = tmp_path / "users.jsonl"
    path.write_bytes(
        b"".join(
            orjson.dumps({"data": [{"id": str(i), "username": f"u{i}", "name": "N"}]}) + b"\n"
            for i in range(20)
        )
    )
    with pytest.raises(Exception) as whole:
        list(iter_archive(path))
    readers = [ArchiveRange(path, a, a + 100, first_line=1) for a in range(0, 2000, 100)]
    for reader in readers:
        list(reader.items())
    problem = archive_problem(
        path,
        lines=sum(r.owned for r in readers),
        readable=sum(r.readable for r in readers),
        bad_count=sum(r.bad_count for r in readers),
        first_problem="",
        post_records=sum(r.post_records for r in readers),
        not_posts=sum((r.not_posts for r in readers), start=__import__("collections").Counter()),
    )
    assert problem is not None and str(problem) == str(whole.value)


def test_bad_lines_quarantined_and_counted_alike(tmp_path: Path, client: Any) -> None:
    """Bad lines spread over many ranges: the same quarantine rows (lines numbered in
    the whole file) and the same counts as the single engine."""
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "mixed.jsonl").write_bytes(b"".join(_hostile_lines()))
    toml = _project(tmp_path, '[[sources]]\ntype = "x-archive"\npath = "x/*.jsonl"\n')
    single, dask = _compare(tmp_path, toml, client, partition_bytes=5000)
    (item,) = dask["imports"]
    assert item["quarantined"] == 5 and item["lines"] == len(_hostile_lines())
    assert [q[1] for q in dask["quarantine"]] == [q[1] for q in single["quarantine"]]


def test_empty_and_unusable_files_are_reported_alike(tmp_path: Path, client: Any) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a-empty.jsonl").write_bytes(b"")
    (tmp_path / "x" / "b-garbage.jsonl").write_bytes(b"not json\n" * 5000)
    shutil.copy(X_FIXTURES / "mentions_tweet.jsonl", tmp_path / "x" / "c.jsonl")
    toml = _project(tmp_path, '[[sources]]\ntype = "x-archive"\npath = "x/*.jsonl"\n')
    _single_run, dask = _compare(tmp_path, toml, client, partition_bytes=4000)
    assert [("error" in i) for i in dask["imports"]] == [True, True, False]


# --------------------------------------------------------------------------- merge


def test_aggregates_merge_in_any_tree_to_build_graph() -> None:
    """Events split at random, aggregated apart and merged in a random order give the
    graph build_graph gives, attribute for attribute."""
    from datetime import UTC, datetime, timedelta

    rng = random.Random(3)
    names = [f"n{i}" for i in range(12)]
    kinds = ["mention", "reply", "repost", "quote", "link", "name"]
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    events = [
        EdgeEvent(
            rng.choice(names),
            rng.choice(names),
            rng.choice(kinds),
            f"x:{rng.randrange(400)}",
            None if rng.random() < 0.1 else t0 + timedelta(minutes=rng.randrange(500)),
            rng.choice(["", "a", "b"]),
            "",
            rng.choice([None, None, 0.1, 1e16, -1e16, 0.7]),
        )
        for _ in range(3000)
    ]
    actors = {"n1": Actor("n1", "One")}
    weights = {"mention": 0.3, "reply": 1.1}
    expected = build_graph(events, actors, type_weights=weights, max_evidence=3)
    for _ in range(5):
        rng.shuffle(events)
        cuts = sorted(rng.sample(range(1, len(events)), 9))
        chunks = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]
        parts = []
        for chunk in chunks:
            agg = EdgeAggregate(weights, 3)
            agg.add(chunk)
            parts.append(agg)
        while len(parts) > 1:
            i = rng.randrange(len(parts) - 1)
            if rng.random() < 0.5:  # as between processes: pickled as columns
                parts[i] = pickle.loads(pickle.dumps(parts[i]))
            parts[i : i + 2] = [parts[i].merge(parts[i + 1])]
        if rng.random() < 0.5:
            parts[0] = pickle.loads(pickle.dumps(parts[0]))
        G = parts[0].graph(actors)
        assert list(G.nodes(data=True)) == list(expected.nodes(data=True))
        assert list(G.edges(data=True)) == list(expected.edges(data=True))


# --------------------------------------------------------------------------- CLI


def _add_clients(cluster: Any) -> int:
    return sum(
        1
        for _time, event in cluster.scheduler.get_events("all")
        if isinstance(event, dict) and event.get("action") == "add-client"
    )


def test_cli_run_honours_dask_scheduler_address(
    tmp_path: Path, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mapper run --engine dask` with DASK_SCHEDULER_ADDRESS set runs on that scheduler
    and writes the nodes, edges and evidence tables `mapper run` writes."""
    shutil.copy(X_FIXTURES / "flat.jsonl", tmp_path / "flat.jsonl")
    shutil.copy(X_FIXTURES / "mentions_tweet.jsonl", tmp_path / "mentions.jsonl")
    extra = '\n[factions]\nruns = 1\n\n[exports]\nformats = ["csv"]\n'
    toml = _project(tmp_path, '[[sources]]\ntype = "x-archive"\npath = "*.jsonl"\n', extra)
    runner = CliRunner()
    single = runner.invoke(app, ["run", str(toml), "--out", str(tmp_path / "one")])
    assert single.exit_code == 0, single.output
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    before = _add_clients(cluster)
    dask = runner.invoke(
        app, ["run", str(toml), "--engine", "dask", "--out", str(tmp_path / "two")]
    )
    assert dask.exit_code == 0, dask.output
    assert _add_clients(cluster) > before
    for name in [*TABLES, "factions.csv", "bridges.csv", "unresolved.csv"]:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    summary = orjson.loads((tmp_path / "two" / "summary.json").read_bytes())
    assert "dask" in summary["seconds"] and summary["edge_events"] > 0


def test_engine_option_is_checked(tmp_path: Path) -> None:
    shutil.copy(X_FIXTURES / "mentions_tweet.jsonl", tmp_path / "m.jsonl")
    toml = _project(tmp_path, '[[sources]]\ntype = "x-archive"\npath = "*.jsonl"\n')
    toml.write_text(toml.read_text() + '\n[run]\nengine = "spark"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["run", str(toml)])
    assert result.exit_code != 0
    message = str(result.exception)
    assert "run.engine: unknown value 'spark' (one of: single, dask)" in message


def test_without_dask_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(X_FIXTURES / "mentions_tweet.jsonl", tmp_path / "m.jsonl")
    toml = _project(tmp_path, '[[sources]]\ntype = "x-archive"\npath = "*.jsonl"\n')
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = CliRunner().invoke(app, ["run", str(toml), "--engine", "dask"])
    assert result.exit_code != 0
    message = str(result.exception)
    assert "\n" not in message and "the dask engine needs dask" in message
    assert "pip install 'influence-mapper[dask]'" in message


# --------------------------------------------------------------------------- docs/scaling.md


def test_scaling_doc_python_blocks_run(
    cluster: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every python block of docs/scaling.md runs, in order, from the repository root;
    the by-hand Dask version (on the cluster DASK_SCHEDULER_ADDRESS names) finds the
    ties the plain map and reduce found."""
    from test_docs import _python_blocks

    blocks = _python_blocks((ROOT / "docs" / "scaling.md").read_text(encoding="utf-8"))
    assert len(blocks) == 2
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for number, block in enumerate(blocks, 1):
        exec(compile(block, f"scaling.md python block {number}", "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "True"
    assert len(namespace["parts"]) > 3 and namespace["G"].number_of_edges() > 20


def test_scaling_doc_command_on_the_demo(
    tmp_path: Path, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mapper run data/demo/mapper.toml --engine dask` (X pages, blog pages, a feed, a
    Bluesky file) writes the tables `mapper run` writes."""
    text = (ROOT / "docs" / "scaling.md").read_text(encoding="utf-8")
    assert "mapper run data/demo/mapper.toml --engine dask --out outputs/demo-dask" in text
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    toml = str(ROOT / "data" / "demo" / "mapper.toml")
    runner = CliRunner()
    for engine, out in (("dask", "two"), ("single", "one")):
        result = runner.invoke(app, ["run", toml, "--engine", engine, "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    for name in [*TABLES, "factions.csv", "bridges.csv", "alliances.csv", "unresolved.csv"]:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
