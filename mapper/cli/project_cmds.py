"""Commands for starting a project and curating its roster: ``init`` and ``roster ...``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import typer

from mapper.cli.common import DEFAULT_PROJECT

# Control, bidirectional and zero-width characters of names taken from posts: shown as
# U+FFFD so that a display name cannot move the cursor or reverse the line.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def register(app: typer.Typer, roster_app: typer.Typer) -> None:
    """Add ``mapper init`` to ``app`` and the curation commands to ``roster_app``."""

    @app.command()
    def init(
        folder: Path = typer.Argument(..., help="Folder for the new project (created if missing)."),
        name: str | None = typer.Option(
            None, "--name", help="Project name (default: the folder's)."
        ),
        force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    ) -> None:
        """Start a project: a commented mapper.toml, a roster with two example rows, issues.csv.

        Example:  mapper init my-project && mapper check my-project/mapper.toml
        """
        from mapper.init import init_project

        for path in init_project(folder, name=name, force=force):
            print(path)
        print(f"next: edit {folder}/roster.csv and {folder}/mapper.toml", file=sys.stderr)

    @roster_app.command("suggest")
    def suggest(
        project: Path = typer.Argument(DEFAULT_PROJECT, help="The project file."),
        top: int = typer.Option(30, "--top", "-n", help="How many suggestions."),
        write: Path | None = typer.Option(
            None, "--write", help="Also write them as candidate roster rows (CSV)."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print JSON on stdout."),
    ) -> None:
        """List unresolved handles, names and domains by frequency, with example posts.

        Example:  mapper roster suggest mapper.toml --top 20 --write candidates.csv
        """
        from mapper.curation import suggestions, write_candidates

        rows = suggestions(project, top=top)
        if write:
            write_candidates(rows, write)
            print(
                f"{len(rows)} candidate rows in {write}: fill in id, name and kind", file=sys.stderr
            )
        if json_out:
            print(json.dumps(rows, indent=2, default=str))
            return
        for r in rows:
            examples = ", ".join(r.get("examples", [])[:2])
            key = r["key"] if r["kind"] != "alias" else f"{r['key']} (alias of {r['note']})"
            name = r.get("name") or ""
            line = f"{r['count']:>6}  {r['kind']:<8} {key:<40} {name:<30} {examples}"
            print(_CONTROL.sub("\N{REPLACEMENT CHARACTER}", line.rstrip()))

    @roster_app.command("merge")
    def merge(
        keep: str = typer.Argument(..., help="The actor to keep (a roster id)."),
        other: str = typer.Argument(
            ..., help="The actor or provisional handle to fold into it (x:handle, an id)."
        ),
        project: Path = typer.Option(DEFAULT_PROJECT, "--project", "-p", help="The project file."),
    ) -> None:
        """Join two actors: OTHER's handles, aliases and domains move to KEEP; logged in merges.csv.

        Example:  mapper roster merge clive-lewis x:clivelewis_old --project mapper.toml
        """
        from mapper.curation import merge_actors

        merge = merge_actors(project, keep, other)
        for warning in merge.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(merge.message, file=sys.stderr)

    @roster_app.command("import")
    def import_rows(
        file: Path = typer.Argument(..., help="A CSV of actors, e.g. a published list of MPs."),
        project: Path = typer.Option(DEFAULT_PROJECT, "--project", "-p", help="The project file."),
        map_: list[str] = typer.Option(
            [], "--map", "-m", help="Column mapping ROSTER_FIELD=CSV_COLUMN (repeatable)."
        ),
        kind: str | None = typer.Option(
            None, "--kind", help="Kind for every imported row (e.g. mp)."
        ),
        update: bool = typer.Option(
            False,
            "--update",
            help="Complete actors already in the roster: fill their empty cells, add new "
            "aliases, handles and domains (values already there are kept).",
        ),
        divisions: bool = typer.Option(
            False,
            "--divisions",
            help="FILE is a division file (Commons Votes CSV or JSON, or a long table of "
            "votes): add its members as MPs with party, constituency and member id.",
        ),
    ) -> None:
        """Add actors from a CSV with a column mapping; existing ids and handles are not duplicated.

        Example:  mapper roster import mps.csv --map name=Name --map x=Twitter --kind mp
        """
        from mapper.curation import import_actors

        if divisions:
            from mapper.cli.common import reported_errors
            from mapper.curation import import_members

            with reported_errors():
                done = import_members(project, [file], kind=kind or "mp")
            note = f" ({done.updated} given their member id)" if done.updated else ""
            print(
                f"{done.added} members added, {done.skipped} already in the roster{note}",
                file=sys.stderr,
            )
            if done.unclear:
                print(
                    f"{len(done.unclear)} names have letters the export could not write "
                    f"(e.g. {done.unclear[0]}): correct them in the roster",
                    file=sys.stderr,
                )
            return

        mapping = {}
        for item in map_:
            if "=" not in item:
                raise typer.BadParameter(
                    f"{item!r}: write ROSTER_FIELD=CSV_COLUMN", param_hint="--map"
                )
            key, col = item.split("=", 1)
            mapping[key.strip()] = col.strip()
        counts = import_actors(project, file, mapping, kind=kind, update=update)
        print(
            f"{counts.added} actors added, {counts.updated} updated, "
            f"{counts.skipped} already in the roster unchanged",
            file=sys.stderr,
        )
