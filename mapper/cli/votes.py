"""The ``mapper votes ...`` commands: import and collect divisions, list them, list rebels.

Each command opens the store (``--store``, else the project's, else ``./mapper.sqlite``)
and calls :mod:`mapper.collectors.divisions`, :mod:`mapper.votes` and
:mod:`mapper.render.votes`; tables and JSON go to stdout, messages to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from mapper.cli.common import (
    ProjectOption,
    StoreOption,
    open_store,
    reported_errors,
    say,
)

JsonOption = typer.Option(False, "--json", help="Print JSON on stdout instead of a table.")
RosterOption = typer.Option(
    None, "--roster", help="Roster to resolve members with (default: the project's)."
)
OutOption = typer.Option(
    None, "--out", "-o", help="Folder to write the file to (default: the project's output)."
)


def _table(rows: list[dict[str, Any]], columns: list[str], width: int = 50) -> None:
    if not rows:
        say("(nothing to show)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))[:width]) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        print("  ".join(str(r.get(c, ""))[:width].ljust(widths[c]) for c in columns).rstrip())


def _project(project: Path | None) -> Any:
    from mapper.cli.common import DEFAULT_PROJECT

    path = project or (DEFAULT_PROJECT if DEFAULT_PROJECT.exists() else None)
    if path is None:
        return None
    from mapper.project import load_project

    return load_project(path)


def _roster(roster: Path | None, proj: Any) -> Any:
    from mapper.resolve import load_roster

    if roster is not None:
        return load_roster(roster)
    if proj is not None and proj.roster is not None:
        return load_roster(proj.roster)
    return None


def _out(out: Path | None, proj: Any) -> Path | None:
    if out is not None:
        return out
    return proj.output if proj is not None else None


def register(app: typer.Typer, _roster_app: typer.Typer | None = None) -> None:
    """Add the ``votes`` command group to ``app``."""
    votes_app = typer.Typer(
        help="Parliamentary divisions: import, collect, per-division results and rebels.",
        no_args_is_help=True,
    )
    app.add_typer(votes_app, name="votes")

    @votes_app.command("import")
    def import_(
        files: list[Path] = typer.Argument(
            ..., help="Commons Votes CSV exports, API JSON/JSONL files, or long tables."
        ),
        format_: str = typer.Option(
            "auto", "--format", "-f", help="auto, commons-csv, commons-json or table."
        ),
        parliament: str | None = typer.Option(
            None, "--parliament", help="The house a long table's votes belong to."
        ),
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        force: bool = typer.Option(False, "--force", help="Re-import even if unchanged."),
        json_out: bool = JsonOption,
    ) -> None:
        """Import division files (re-importing adds nothing twice; a corrected export
        replaces its division).

        Example:  mapper votes import Division655.csv divisions.jsonl --project mapper.toml
        """
        from dataclasses import asdict

        from mapper.collectors.divisions import import_division_file

        results = []
        with reported_errors(), open_store(store, project) as st:
            for path in files:
                result = import_division_file(
                    st, path, format=format_, parliament=parliament, force=force
                )
                results.append(result)
                say(result.summary())
                for problem in result.problems:
                    say(f"  {problem}")
                if result.quarantined > len(result.problems):
                    say(f"  ... and {result.quarantined - len(result.problems)} more")
        if json_out:
            print(json.dumps([asdict(r) for r in results], indent=2, default=str))

    @votes_app.command("collect")
    def collect(
        search: str | None = typer.Option(
            None, "--search", "-s", help="Words of the division titles (or a number)."
        ),
        start: str | None = typer.Option(None, "--from", help="First date, YYYY-MM-DD."),
        end: str | None = typer.Option(None, "--to", help="Last date, YYYY-MM-DD."),
        division: list[str] = typer.Option(
            [], "--division", "-d", help="A DivisionId to fetch (repeatable; no search then)."
        ),
        max_divisions: int | None = typer.Option(
            None, "--max-divisions", help="Fetch at most this many (run again to continue)."
        ),
        archive: Path | None = typer.Option(
            None,
            "--archive",
            help="JSONL archive of the fetched divisions (default with a project: "
            "<output>/archives/commons-votes.jsonl).",
        ),
        no_resume: bool = typer.Option(
            False, "--no-resume", help="Start the search again from its first page."
        ),
        refresh: bool = typer.Option(
            False, "--refresh", help="Fetch divisions the store already holds again."
        ),
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = typer.Option(False, "--json", help="Also print the counts as JSON."),
    ) -> None:
        """Collect Commons divisions from the Commons Votes API (by search or by id).

        Example:  mapper votes collect --from 2019-03-25 --to 2019-04-03 --project mapper.toml
        """
        from dataclasses import asdict

        from mapper.cli import progress_bar
        from mapper.collectors.divisions import collect_commons_divisions

        with reported_errors():
            proj = _project(project)
            if archive is None and proj is not None:
                archive = proj.output / "archives" / "commons-votes.jsonl"
            with open_store(store, project) as st, progress_bar() as step:
                step("commons votes")
                result = collect_commons_divisions(
                    st,
                    search_term=search,
                    start_date=start,
                    end_date=end,
                    division_ids=division,
                    max_divisions=max_divisions,
                    archive_path=archive,
                    resume=not no_resume,
                    refresh=refresh,
                    on_page=lambda r: step(
                        f"commons votes: {r.pages} pages, {r.fetched} divisions"
                    ),
                )
        if json_out:
            print(json.dumps(asdict(result), indent=2, default=str))
        say(result.summary())

    @votes_app.command("divisions")
    def divisions(
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        roster: Path | None = RosterOption,
        out: Path | None = OutOption,
        json_out: bool = JsonOption,
    ) -> None:
        """List the stored divisions with counts checked, margin and rebels; write divisions.md.

        Example:  mapper votes divisions --project mapper.toml
        """
        from mapper.render.votes import write_divisions_md
        from mapper.votes import division_summaries_of, member_index

        with reported_errors():
            proj = _project(project)
            with open_store(store, project) as st:
                index = member_index(st, _roster(roster, proj))
                summaries = division_summaries_of(st, index=index)
            folder = _out(out, proj)
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                path = write_divisions_md(summaries, folder / "divisions.md")
                say(f"{len(summaries)} divisions in {path}")
        for summary in summaries:
            for w in summary.warnings:
                say(f"warning: {w.code}: {w.message}")
        if json_out:
            print(json.dumps([s.as_dict() for s in summaries], indent=2, default=str))
            return
        _table(
            [
                {
                    "division": s.division,
                    "title": s.title,
                    "ayes": s.ayes,
                    "noes": s.noes,
                    "result": s.result,
                    "margin": s.margin,
                    "counts": {None: "-", True: "ok", False: "MISMATCH"}[s.counts_match],
                    "rebels": len(s.rebels),
                }
                for s in summaries
            ],
            ["division", "title", "ayes", "noes", "result", "margin", "counts", "rebels"],
        )

    @votes_app.command("rebels")
    def rebels(
        division: list[str] = typer.Option(
            [], "--division", "-d", help="Only this division uid (repeatable)."
        ),
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        roster: Path | None = RosterOption,
        out: Path | None = OutOption,
        json_out: bool = JsonOption,
    ) -> None:
        """List the members who voted against their party's line; write rebels.csv.

        Example:  mapper votes rebels --project mapper.toml --division commons:2019-03-27/392
        """
        from mapper.render.votes import rebel_rows, write_rebels_csv
        from mapper.votes import division_summaries_of, member_index

        with reported_errors():
            proj = _project(project)
            with open_store(store, project) as st:
                index = member_index(st, _roster(roster, proj))
                summaries = division_summaries_of(st, index=index, divisions=division or None)
            folder = _out(out, proj)
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                path = write_rebels_csv(summaries, folder / "rebels.csv")
                say(f"{sum(len(s.rebels) for s in summaries)} rebel votes in {path}")
        rows = rebel_rows(summaries)
        if json_out:
            print(json.dumps(rows, indent=2, default=str))
            return
        _table(rows, ["division", "member", "party", "vote", "party_line", "actor"])
