"""The ``mapper votes ...`` commands: import and collect divisions, list them, list
rebels; across divisions, the agreement of pairs of members, voting blocs, persuadable
members of close divisions, and who talks versus who votes together.

Each command opens the store (``--store``, else the project's, else ``./mapper.sqlite``)
and calls :mod:`mapper.collectors.divisions`, :mod:`mapper.votes`,
:mod:`mapper.render.votes` and :mod:`mapper.render.covoting`; tables and JSON go to
stdout, messages to stderr.
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
from mapper.text import terminal_text

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
    from mapper.text import display_text

    # names and titles are shown without bidi or zero-width characters, on one line
    cells = [
        {c: display_text(r.get(c, ""), max_length=width, one_line=True) for c in columns}
        for r in rows
    ]
    widths = {c: max(len(c), *(len(r[c]) for r in cells)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for r in cells:
        print("  ".join(r[c].ljust(widths[c]) for c in columns).rstrip())


def _known_divisions(st: Any, uids: list[str]) -> None:
    """Raise one line when a ``--division`` uid is not in the store (a typo gave an
    empty table and an empty file written over the last one)."""
    missing = [uid for uid in uids if st.get_division(uid) is None]
    if not missing:
        return
    import difflib

    from mapper.errors import MapperError

    stored = [d.uid for d in st.iter_divisions()]  # only on this error: the votes come too
    close = difflib.get_close_matches(missing[0], stored, n=3, cutoff=0.5)
    hint = (
        f"did you mean {', '.join(close)}?"
        if close
        else (f"{len(stored):,} divisions stored" + (f", e.g. {stored[0]}" if stored else ""))
    )
    hint += " (`mapper votes divisions` lists them)"
    raise MapperError(f"no division {missing[0]!r} in the store", field="--division", hint=hint)


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


MinSharedOption = typer.Option(
    None, "--min-shared", help="Divisions a pair must share to be scored (default 10)."
)
AlphaOption = typer.Option(
    None, "--alpha", help="False discovery rate of the co-voting ties (default 0.05)."
)
TopOption = typer.Option(20, "--top", "-n", help="Rows to print.")


def _covoting_options(min_shared: int | None, alpha: float | None, **more: Any) -> dict[str, Any]:
    options = {k: v for k, v in more.items() if v is not None}
    if min_shared is not None:
        options["min_shared"] = min_shared
    if alpha is not None:
        options["alpha"] = alpha
    return options


def _records(frame: Any, columns: list[str], top: int | None = None) -> list[dict[str, Any]]:
    rows = frame if top is None else frame.head(top)
    out = []
    for row in rows.to_dict(orient="records"):
        out.append({c: _plain(row.get(c)) for c in columns})
    return out


def _plain(value: Any) -> Any:
    """A value as JSON: numpy scalars to Python, NaN to None, times to ISO text."""
    import contextlib
    import math

    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(ValueError, TypeError):
            value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _warn(warnings: list[Any]) -> None:
    for w in warnings:
        say(f"warning: {w.code}: {w.message}")


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
        strict: bool = typer.Option(
            False, "--strict", help="Exit with code 1 when any file could not be read."
        ),
    ) -> None:
        """Import division files (re-importing adds nothing twice; a corrected export
        replaces its division).

        A file that cannot be read is reported and the others are imported; the exit
        code is 1 when no file could be read (or, with --strict, when any could not).

        Example:  mapper votes import Division655.csv divisions.jsonl --project mapper.toml
        """
        from dataclasses import asdict

        from mapper.collectors.divisions import import_division_file
        from mapper.errors import MapperError, StoreError

        results: list[dict[str, Any]] = []
        failures: list[str] = []
        with reported_errors(), open_store(store, project) as st:
            for path in files:
                try:
                    result = import_division_file(
                        st, path, format=format_, parliament=parliament, force=force
                    )
                except StoreError:
                    raise
                except MapperError as exc:
                    failures.append(exc.one_line())
                    results.append({"source": str(path), "error": exc.one_line()})
                    say(f"error: {exc.one_line()}")
                    continue
                results.append(asdict(result))
                say(result.summary())
                for problem in result.problems:
                    say(f"  {problem}")
                if result.quarantined > len(result.problems):
                    say(f"  ... and {result.quarantined - len(result.problems)} more")
        if json_out:
            print(json.dumps(results, indent=2, default=str))
        if failures and len(failures) == len(files):
            if len(files) > 1:
                say("nothing imported: no file could be read")
            raise typer.Exit(1)
        if failures and strict:
            say(f"{len(failures)} file(s) could not be read (--strict)")
            raise typer.Exit(1)

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
                    "counts": _counts_cell(s),
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
                _known_divisions(st, division)
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

    @votes_app.command("agreement")
    def agreement(
        member: str | None = typer.Option(
            None, "--member", "-m", help="Only pairs with this member (name, key or actor id)."
        ),
        ties_only: bool = typer.Option(
            False, "--ties", help="Only pairs whose agreement is significantly above chance."
        ),
        min_shared: int | None = MinSharedOption,
        alpha: float | None = AlphaOption,
        top: int = TopOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        roster: Path | None = RosterOption,
        out: Path | None = OutOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Agreement of every pair of members over the divisions both voted in, corrected
        for chance; write agreement.csv.

        Example:  mapper votes agreement --member "Diane Abbott" --project mapper.toml
        """
        from mapper.analysis.covoting import AGREEMENT_COLUMNS
        from mapper.render.covoting import write_frame_csv
        from mapper.votes import agreement_frame, member_index

        with reported_errors():
            proj = _project(project)
            with open_store(store, project) as st:
                index = member_index(st, _roster(roster, proj))
                frame = agreement_frame(st, index=index, **_covoting_options(min_shared, alpha))
            folder = _out(out, proj)
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                path = write_frame_csv(frame, folder / "agreement.csv", AGREEMENT_COLUMNS)
                say(f"{len(frame):,} scored pairs in {path}")
        if member and len(frame):
            needle = member.casefold()
            hit = False
            for column in ("member_a", "member_b", "name_a", "name_b"):
                text = frame[column].astype(str).str.casefold()
                hit = hit | text.str.contains(needle, regex=False)
            frame = frame[hit]
            if not len(frame):
                say(
                    f"no scored pair has a member matching {member!r} (a name, key or actor "
                    "id; a member needs the minimum of shared divisions with another)"
                )
        if ties_only and len(frame):
            frame = frame[frame["tie"]]
        columns = [
            "name_a",
            "party_a",
            "name_b",
            "party_b",
            "shared",
            "agreement",
            "expected",
            "kappa",
            "q_above",
            "tie",
        ]
        if json_out:
            print(json.dumps(_records(frame, list(AGREEMENT_COLUMNS), top), indent=2))
            return
        rows = _records(frame, columns, top)
        for row in rows:
            for c in ("agreement", "expected", "kappa"):
                row[c] = f"{row[c]:.2f}" if isinstance(row[c], float) else row[c]
            row["q_above"] = f"{row['q_above']:.2g}" if isinstance(row["q_above"], float) else ""
        _table(rows, columns, width=30)

    @votes_app.command("blocs")
    def blocs(
        count: int | None = typer.Option(
            None, "--blocs", "-k", help="Ask for this many blocs (default: what the data give)."
        ),
        seed: int | None = typer.Option(None, "--seed", help="Seed of the bloc detection."),
        samples: int | None = typer.Option(
            None, "--samples", help="Random graphs for the blocs' significance (default 20)."
        ),
        min_shared: int | None = MinSharedOption,
        alpha: float | None = AlphaOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        roster: Path | None = RosterOption,
        out: Path | None = OutOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Voting blocs named by their party make-up, party cohesion (Rice index) and the
        members voting outside their party's bloc; write the co-voting tables, covoting.md
        and covoting.html.

        Example:  mapper votes blocs --project mapper.toml
        """
        from mapper.render.covoting import (
            write_covoting_map,
            write_covoting_md,
            write_covoting_tables,
        )
        from mapper.votes import covoting_of, member_index

        with reported_errors():
            proj = _project(project)
            defaults: dict[str, Any] = {}
            if proj is not None:
                defaults = {
                    "seed": proj.seed,
                    "runs": proj.runs,
                    "min_component": proj.min_component,
                    "significance_samples": proj.significance_samples,
                }
            options = {
                **defaults,
                **_covoting_options(
                    min_shared, alpha, blocs=count, seed=seed, significance_samples=samples
                ),
            }
            with open_store(store, project) as st:
                index = member_index(st, _roster(roster, proj))
                result = covoting_of(st, index=index, **options)
            folder = _out(out, proj)
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                write_covoting_tables(result, folder)
                write_covoting_md(result, folder / "covoting.md")
                if result.graph.number_of_edges():
                    write_covoting_map(result, folder / "covoting.html")
                say(f"{result.blocs.count} blocs; tables, covoting.md and the map in {folder}")
        _warn(result.warnings)
        frame = result.blocs_frame()
        if json_out:
            print(
                json.dumps(
                    {
                        "summary": result.summary(),
                        "blocs": _records(frame, list(frame.columns)),
                        "defectors": _records(result.defectors, list(result.defectors.columns)),
                        "cohesion": _records(result.cohesion, list(result.cohesion.columns)),
                    },
                    indent=2,
                    default=str,
                )
            )
            return
        _table(
            _records(frame, ["name", "size", "cross_party", "rice", "cohesion"]),
            ["name", "size", "cross_party", "rice", "cohesion"],
            width=60,
        )
        if len(result.defectors):
            say(
                f"{len(result.defectors)} members sit outside their party's bloc "
                "(in another party's bloc, or in a bloc their party splits into):"
            )
            _table(
                _records(result.defectors, ["name", "party", "bloc_name", "evidence"]),
                ["name", "party", "bloc_name", "evidence"],
            )

    @votes_app.command("persuadable")
    def persuadable(
        division: list[str] = typer.Option(
            [], "--division", "-d", help="This division uid instead of the close ones."
        ),
        close_votes: int | None = typer.Option(
            None, "--close-votes", help="Close: margin at most this many votes (default 20)."
        ),
        close_share: float | None = typer.Option(
            None, "--close-share", help="... and at most this share of votes cast (0.05)."
        ),
        side: str = typer.Option(
            "winning", "--side", help="winning (who could join the winners) or losing."
        ),
        min_shared: int | None = MinSharedOption,
        top: int = typer.Option(10, "--top", "-n", help="Members printed per division."),
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        roster: Path | None = RosterOption,
        out: Path | None = OutOption,
        json_out: bool = JsonOption,
    ) -> None:
        """In close divisions, the members who voted the other way or did not vote, ranked
        by how close their record is to the winning side's; write persuadable.csv.

        Example:  mapper votes persuadable --close-votes 10 --project mapper.toml
        """
        from mapper.analysis.covoting import PERSUADABLE_COLUMNS
        from mapper.render.covoting import write_frame_csv
        from mapper.votes import member_index, persuadable_frame

        with reported_errors():
            proj = _project(project)
            options = _covoting_options(
                min_shared,
                None,
                close_votes=close_votes,
                close_share=close_share,
                side=side,
                divisions=division or None,
            )
            with open_store(store, project) as st:
                _known_divisions(st, division)
                index = member_index(st, _roster(roster, proj))
                frame = persuadable_frame(st, index=index, **options)
            folder = _out(out, proj)
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                path = write_frame_csv(frame, folder / "persuadable.csv", PERSUADABLE_COLUMNS)
                say(f"{len(frame):,} persuadable members in {path}")
        if len(frame):
            frame = frame[frame["rank"] <= top]
        if json_out:
            print(json.dumps(_records(frame, list(PERSUADABLE_COLUMNS)), indent=2, default=str))
            return
        if not len(frame):
            say("no persuadable member (no close division, or none close to the winners)")
            return
        for row in _records(frame, ["rank", "reason"]):
            print(terminal_text(f"{row['rank']:>3}. {row['reason']}"))

    @votes_app.command("compare")
    def compare(
        groups: bool = typer.Option(False, "--groups", help="Party pairs instead of member pairs."),
        top: int = TopOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        roster: Path | None = RosterOption,
        out: Path | None = OutOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Who talks versus who votes together: pairs (and party pairs) who vote together
        but have no tie in the project's interaction graph, and who talk a lot but vote
        apart; write talk-vote.csv, talk-vote-groups.csv and talk-vote.html.

        Example:  mapper votes compare --project mapper.toml
        """
        from mapper.errors import ConfigError
        from mapper.pipeline import build
        from mapper.render.covoting import (
            write_covoting_tables,
            write_talk_vote_map,
        )
        from mapper.votes import covoting_of, member_index

        with reported_errors():
            proj = _project(project)
            if proj is None:
                raise ConfigError(
                    "comparing talk and votes needs a project with posts and divisions",
                    hint="pass --project mapper.toml",
                )
            with open_store(store, project) as st:
                social, _ = build(proj, st)
                index = member_index(st, _roster(roster, proj))
                result = covoting_of(
                    st,
                    index=index,
                    social=social,
                    seed=proj.seed,
                    runs=proj.runs,
                    min_component=proj.min_component,
                    significance_samples=proj.significance_samples,
                )
            folder = _out(out, proj)
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                paths = write_covoting_tables(result, folder)
                if result.talk_vote is not None and result.talk_vote.common >= 2:
                    write_talk_vote_map(result, social, folder / "talk-vote.html")
                say(f"talk versus vote in {paths.get('talk-vote.csv', folder)}")
        _warn([w for w in result.warnings if w.code.startswith("talk-vote")])
        tv = result.talk_vote
        frame = (tv.groups if groups else tv.pairs) if tv is not None else None
        if frame is None or not len(frame):
            say("nothing to compare (see the warnings)")
            return
        if groups:
            frame = frame[frame["finding"] != "none"]
        if json_out:
            print(json.dumps(_records(frame, list(frame.columns), top), indent=2, default=str))
            return
        for row in _records(frame, ["finding", "reason"], top):
            print(terminal_text(f"{row['finding']}: {row['reason']}"))


def _counts_cell(s: Any) -> str:
    """The counts column of the divisions table: whether the listed votes give the
    declared counts, saying which side when only one count was declared."""
    if s.counts_match is None:
        return "-"
    text = "ok" if s.counts_match else "MISMATCH"
    if s.declared_ayes is None or s.declared_noes is None:
        text += " (ayes only)" if s.declared_noes is None else " (noes only)"
    return text
