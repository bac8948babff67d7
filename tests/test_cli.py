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
