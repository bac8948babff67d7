"""Progress: counts, rates and time left reach a callback; the CLI shows them on stderr
(plain lines when stderr is not a terminal), never on stdout."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mapper.progress
from mapper.cli import app
from mapper.cli.common import plain_progress
from mapper.progress import Meter, ProgressEvent, format_seconds

runner = CliRunner()


def _archive(path: Path, rng: random.Random, posts: int) -> None:
    """A flattened X archive: one post a line, each mentioning one or two accounts."""
    users = [f"user{i}" for i in range(rng.randint(20, 60))]
    with path.open("w", encoding="utf-8") as fh:
        for i in range(posts):
            author = rng.choice(users)
            named = rng.sample(users, rng.randint(1, 2))
            text = " ".join(f"@{u}" for u in named) + " hello"
            mentions = []
            for u in named:
                start = text.index("@" + u)
                mentions.append({"start": start, "end": start + len(u) + 1, "username": u})
            tweet = {
                "id": str(10_000 + i + rng.randint(0, 10) * 1_000_000),
                "text": text,
                "created_at": "2016-08-01T10:00:00.000Z",
                "author_id": str(users.index(author) + 1),
                "author": {"id": str(users.index(author) + 1), "username": author},
                "entities": {"mentions": mentions},
            }
            fh.write(json.dumps(tweet) + "\n")


def _project(tmp_path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    (tmp_path / "corpus").mkdir()
    for n in range(rng.randint(2, 3)):
        _archive(tmp_path / "corpus" / f"part{n}.jsonl", rng, rng.randint(600, 1500))
    project = tmp_path / "mapper.toml"
    project.write_text(
        "[[sources]]\ntype = 'x-archive'\npath = 'corpus/*.jsonl'\n", encoding="utf-8"
    )
    return project


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_pipeline_reports_counts_shares_and_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    from mapper.pipeline import build, import_sources
    from mapper.project import load_project
    from mapper.store import Store

    monkeypatch.setattr(mapper.progress, "INTERVAL", 0.0)  # report at every check
    project = load_project(_project(tmp_path, seed))
    events: list[ProgressEvent] = []
    with Store(project.store) as store:
        import_sources(project, store, progress=events.append)
        G, _ = build(project, store, progress=events.append)
        stored = store.count_posts()

    imported = [e for e in events if e.stage == "import"]
    running = [e for e in imported if not e.finished and e.done]
    assert len(running) >= 2, "a long import reports while it runs"
    assert [e.done for e in running] == sorted(e.done for e in running)
    shares = [e.share for e in running]
    assert all(s is not None and 0 < s <= 1 for s in shares)
    assert shares == sorted(shares)  # the share of the files' bytes read grows
    last = imported[-1]
    assert last.finished and last.done is not None and last.done >= stored
    assert last.counts["files"] == len(list((tmp_path / "corpus").glob("*.jsonl")))

    resolved = [e for e in events if e.stage == "resolve"]
    assert all(e.total == stored for e in resolved if e.done is not None)
    assert any(not e.finished and 0 < (e.done or 0) < stored for e in resolved)
    assert resolved[-1].finished and resolved[-1].done == stored
    graph = [e for e in events if e.stage == "graph"][-1]
    assert graph.counts == {"actors": G.number_of_nodes(), "ties": G.number_of_edges()}


def test_a_project_run_prints_nothing_itself(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mapper.pipeline import run_project
    from mapper.project import load_project

    run_project(load_project(_project(tmp_path, 4)), write=False)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "left"),
    [(250, 1000, 10.0, 30.0), (900, 1000, 90.0, 10.0), (1, 4, 2.0, 6.0)],
)
def test_rate_and_time_left(done: int, total: int, elapsed: float, left: float) -> None:
    event = ProgressEvent("resolve", done=done, total=total, unit="posts", elapsed=elapsed)
    assert event.rate == pytest.approx(done / elapsed)
    assert event.eta == pytest.approx(left)
    text = str(event)
    assert f"{done:,} of {total:,} posts" in text and f"about {format_seconds(left)} left" in text
    by_bytes = ProgressEvent(
        "import", done=done, unit="posts", fraction=done / total, elapsed=elapsed
    )
    assert by_bytes.eta == pytest.approx(left)
    assert ProgressEvent("import", done=done, unit="posts", elapsed=elapsed).eta is None
    finished = ProgressEvent("resolve", done=done, unit="posts", elapsed=elapsed, finished=True)
    assert finished.eta is None and "left" not in str(finished) and "in " in str(finished)


def test_meter_counts_without_a_callback() -> None:
    meter = Meter(None, "resolve", unit="posts", total=10)
    assert list(meter.count(range(10))) == list(range(10))
    assert meter.event().done == 10


def _feed(step: object, events: list[ProgressEvent | str]) -> None:
    for event in events:
        step(event)  # type: ignore[operator]


def test_plain_lines_name_each_stage_and_its_counts() -> None:
    stream = io.StringIO()
    step = plain_progress(stream, interval=3600)
    _feed(
        step,
        [
            ProgressEvent("import", "a.jsonl"),
            ProgressEvent("import", "a.jsonl", done=10, unit="posts", elapsed=0.1),
            ProgressEvent("import", "b.jsonl", done=20, unit="posts", elapsed=0.2),
            ProgressEvent("import", done=30, unit="posts", elapsed=0.3, finished=True),
            ProgressEvent("factions"),
            ProgressEvent("factions", elapsed=2.0, finished=True, counts={"factions": 4}),
            ProgressEvent("maps"),
            ProgressEvent("maps", elapsed=2.0, finished=True),
        ],
    )
    lines = stream.getvalue().splitlines()
    assert lines == [
        "mapper: import a.jsonl",
        "mapper: import: 30 posts (100/s) in 0.3 s",
        "mapper: factions",
        "mapper: factions: 4 factions in 2.0 s",
        "mapper: maps",
    ]


def test_plain_lines_come_again_once_the_interval_passed() -> None:
    stream = io.StringIO()
    step = plain_progress(stream, interval=0.0)
    _feed(
        step,
        [
            ProgressEvent("resolve", done=0, total=100, unit="posts"),
            ProgressEvent("resolve", done=50, total=100, unit="posts", elapsed=5.0),
            "collect x search: 3 pages, 250 posts",
            "collect x search: 4 pages, 350 posts",
        ],
    )
    lines = stream.getvalue().splitlines()
    assert lines[1] == "mapper: resolve: 50 of 100 posts (10/s), about 5 s left"
    # a collection's first line waits for the interval: a quick one prints nothing
    assert lines[2:] == ["mapper: collect x search: 4 pages, 350 posts"]


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_cli_progress_goes_to_stderr_only(tmp_path: Path, json_flag: list[str]) -> None:
    project = _project(tmp_path, 5)
    result = runner.invoke(app, ["build", str(project), *json_flag])
    assert result.exit_code == 0, result.output
    assert "mapper: import" in result.stderr
    assert "mapper: resolve" in result.stderr and "posts" in result.stderr
    assert "mapper:" not in result.stdout
    if json_flag:
        assert json.loads(result.stdout)["actors"] > 0


@pytest.mark.parametrize("quiet", [["-q", "build"], ["build", "-q"]])
def test_quiet_shows_no_progress(tmp_path: Path, quiet: list[str]) -> None:
    project = _project(tmp_path, 6)
    result = runner.invoke(app, [*quiet, str(project)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_rich_bar_takes_events_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    from mapper.cli.common import rich_progress

    with rich_progress(verbose=True) as step:
        step(ProgressEvent("resolve", done=5, total=10, unit="posts", elapsed=1.0))
        step(ProgressEvent("import", done=5, unit="posts", elapsed=1.0))
        step("collect web: 2 pages, 2 posts")
        step(ProgressEvent("resolve", done=10, unit="posts", elapsed=2.0, finished=True))
    out, err = capsys.readouterr()
    assert out == ""
    assert "resolve: 10 posts" in err
