"""The command line: help with examples everywhere, one-line errors, exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from mapper import __version__
from mapper.cli import app
from mapper.errors import MapperError

runner = CliRunner()


def all_commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    out: list[tuple[str, Any]] = []

    def walk(cmd: Any, prefix: str) -> None:
        # typer may ship its own copy of click: test for a group by its commands
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            out.append((prefix, cmd))

    walk(root, "")
    return out


def test_there_are_the_expected_commands() -> None:
    names = {name for name, _ in all_commands()}
    expected = {"demo", "run", "import", "build", "export", "factions", "bridges", "alliances"}
    expected |= {"map", "check", "init", "quarantine", "roster suggest", "roster merge"}
    expected |= {"roster import", "collect x search", "collect web", "collect feed"}
    expected |= {"collect bluesky posts", "collect mastodon posts"}
    assert expected <= names


@pytest.mark.parametrize("name", [n for n, _ in all_commands()])
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = runner.invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`mapper {name} --help` shows no example"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_usage_error_exits_2() -> None:
    result = runner.invoke(app, ["factions", "--resolution", "not-a-number"])
    assert result.exit_code == 2


def test_check_reports_every_problem_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "mapper.toml"
    bad.write_text("[[sources]]\ntype = 'nope'\n[factions]\nmethod = 'x'\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    assert "sources[1].type" in result.output
    assert "factions.method" in result.output


def test_check_warns_without_failing_on_an_unknown_roster_column(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("id,name,kind,favourite_colour\na,A,mp,red\n", "utf-8")
    project = tmp_path / "mapper.toml"
    project.write_text("[project]\nroster = 'roster.csv'\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(project)])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "favourite_colour" in result.output


def test_init_then_check_is_clean_and_init_twice_refuses(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    result = runner.invoke(app, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    for name in ("mapper.toml", "roster.csv", "issues.csv", "README.md"):
        assert (folder / name).exists()
    check = runner.invoke(app, ["check", str(folder / "mapper.toml")])
    assert check.exit_code == 0, check.output
    assert "warning:" in check.output and "no sources" in check.output
    run = runner.invoke(app, ["run", str(folder / "mapper.toml")])
    assert "no sources" in str(run.exception)
    again = runner.invoke(app, ["init", str(folder)])
    # the library error reaches main(), which prints it as one line (tested below)
    assert isinstance(again.exception, MapperError)
    assert "already there" in str(again.exception)


def test_library_error_is_one_line_on_stderr_with_exit_1(tmp_path: Path) -> None:
    import subprocess
    import sys

    missing = tmp_path / "nope.toml"
    proc = subprocess.run(
        [sys.executable, "-c", "from mapper.cli import main; main()", "run", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and str(missing) in lines[0]
    assert "Traceback" not in proc.stderr


def test_import_with_project_writes_the_store_that_run_reads(demo_copy: Path) -> None:
    from mapper.project import load_project
    from mapper.store import Store

    extra = demo_copy.parent / "extra.jsonl"
    fixture = Path(__file__).parent / "fixtures" / "x-api-v2" / "mentions_tweet.jsonl"
    extra.write_bytes(fixture.read_bytes())
    result = runner.invoke(app, ["import", str(extra), "--project", str(demo_copy)])
    assert result.exit_code == 0, result.output
    with Store(load_project(demo_copy).store) as store:
        assert store.count_posts() == 1


def test_error_messages_are_one_line_whatever_the_input() -> None:
    err = MapperError("bad\rvalue\u2028here", source="f.csv", line=3, field="x\ny")
    assert len(err.one_line().splitlines()) == 1


# ------------------------------------------------ global options before or after


def _clean_project(tmp_path: Path) -> Path:
    (tmp_path / "edges.csv").write_text("source,target\na,b\nb,c\n", encoding="utf-8")
    project = tmp_path / "mapper.toml"
    project.write_text("[[sources]]\ntype = 'edges-csv'\npath = 'edges.csv'\n", "utf-8")
    return project


@pytest.mark.parametrize(
    "args",
    [
        ["-q", "check", "{p}"],
        ["check", "-q", "{p}"],
        ["check", "{p}", "-q"],
        ["check", "{p}", "--quiet"],
    ],
)
def test_quiet_is_accepted_before_or_after_the_command(tmp_path: Path, args: list[str]) -> None:
    project = _clean_project(tmp_path)
    loud = runner.invoke(app, ["check", str(project)])
    assert loud.exit_code == 0 and "no errors" in loud.output
    result = runner.invoke(app, [a.replace("{p}", str(project)) for a in args])
    assert result.exit_code == 0, result.output
    assert "no errors" not in result.output


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("flag", ["-v", "-vv", "--verbose"])
def test_verbose_is_accepted_before_or_after_a_nested_command(
    tmp_path: Path, where: str, flag: str
) -> None:
    folder = tmp_path / "p"
    args = ["init", str(folder)]
    result = runner.invoke(app, [flag, *args] if where == "before" else [*args, flag])
    assert result.exit_code == 0, result.output
    assert (folder / "mapper.toml").exists()
    import mapper.cli

    assert mapper.cli._state["verbosity"] == 1 + (2 if flag == "-vv" else 1)
    roster = runner.invoke(app, ["roster", "suggest", "--help", flag])
    assert roster.exit_code == 0, roster.output


def test_option_values_and_arguments_after_double_dash_stay_in_place() -> None:
    import click

    from mapper.cli import hoist_global_options

    group = typer.main.get_command(app)
    ctx = click.Context(group)
    # -v as the value of --focus is a value; after -- it is an argument
    assert hoist_global_options(group, ctx, ["map", "p.toml", "--focus", "-v"]) == [
        "map",
        "p.toml",
        "--focus",
        "-v",
    ]
    assert hoist_global_options(group, ctx, ["map", "p.toml", "--", "-v"]) == [
        "map",
        "p.toml",
        "--",
        "-v",
    ]
    assert hoist_global_options(group, ctx, ["collect", "x", "search", "q", "-v", "-n", "5"]) == [
        "-v",
        "collect",
        "x",
        "search",
        "q",
        "-n",
        "5",
    ]


# ------------------------------------------------------------ the README's tour


def test_the_readme_tour_runs_as_written_after_the_set_up(tmp_path: Path) -> None:
    """The tour's commands work in a shell where only the README's set-up ran."""
    import os
    import re
    import shutil
    import subprocess

    root = Path(__file__).resolve().parents[1]
    venv = root / ".venv"
    if not (venv / "bin" / "activate").exists() or shutil.which("bash") is None:
        pytest.skip("needs the README's .venv and bash")
    readme = (root / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## A five-minute tour", 1)[1]
    block = re.search(r"```bash\n(.*?)```", tour, re.S)
    assert block is not None
    # up to the first `mapper check` (the run needs sources the reader adds by hand)
    lines = []
    for line in block.group(1).splitlines():
        lines.append(line)
        if line.startswith("mapper check"):
            break
    (tmp_path / ".venv").symlink_to(venv)  # the repository root, as the README assumes
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = "/usr/bin:/bin"  # no mapper on the PATH but the one the tour activates
    proc = subprocess.run(
        ["bash", "-e", "-c", "\n".join(lines)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "my-project" / "mapper.toml").exists()
    assert "no errors" in proc.stderr


# ------------------------------------------- outputs stay beside the project file


def test_a_copy_of_the_demo_writes_inside_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    root = Path(__file__).resolve().parents[1]
    user = tmp_path / "home" / "me"
    copy = user / "my-demo"
    shutil.copytree(root / "data" / "demo", copy, ignore=shutil.ignore_patterns("outputs"))
    monkeypatch.chdir(copy)
    result = runner.invoke(app, ["build", "mapper.toml"])
    assert result.exit_code == 0, result.output
    assert (copy / "outputs" / "graph.gexf").is_file()
    assert (copy / "outputs" / "store.sqlite").is_file()
    # nothing written next to the user's folder or above it
    assert sorted(p.name for p in user.iterdir()) == ["my-demo"]
    assert sorted(p.name for p in (tmp_path / "home").iterdir()) == ["me"]
    # asked for elsewhere: there, relative to where the command runs
    elsewhere = runner.invoke(app, ["build", "mapper.toml", "--out", "../asked"])
    assert elsewhere.exit_code == 0, elsewhere.output
    assert (user / "asked" / "graph.gexf").is_file()


def test_demo_writes_to_outputs_demo_at_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mapper.cli

    calls: list[tuple[Path, Path | None]] = []
    monkeypatch.setattr(mapper.cli, "_run", lambda project, out, **_: calls.append((project, out)))
    monkeypatch.setattr(
        mapper.cli, "_demo_timeline", lambda project, out: calls.append((project, out))
    )
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["demo"]).exit_code == 0
    assert runner.invoke(app, ["demo", "--out", "mine"]).exit_code == 0
    root = Path(__file__).resolve().parents[1]
    assert calls == [
        (root / "data" / "demo" / "mapper.toml", root / "outputs" / "demo"),
        (root / "data" / "demo" / "timeline.toml", root / "outputs" / "demo"),
        (root / "data" / "demo" / "mapper.toml", Path("mine")),
        (root / "data" / "demo" / "timeline.toml", Path("mine")),
    ]


def test_run_names_a_focus_actor_that_is_not_in_the_network(demo_copy: Path) -> None:
    text = demo_copy.read_text(encoding="utf-8")
    demo_copy.write_text(
        text.replace('"clive-lewis", "lisa-nandy"', '"clive-lewis", "nobody-here", "x:ghost"'),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["run", str(demo_copy)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert "'nobody-here'" in warnings[0] and "'x:ghost'" in warnings[1]
    assert all("maps.focus" in w for w in warnings)
    assert (demo_copy.parent / "out" / "focus-clive-lewis.html").is_file()
