"""The ``mapper`` command line: a thin layer over the library.

Each command translates its flags into calls of :mod:`mapper.pipeline`,
:mod:`mapper.project` and the stage modules, prints data on stdout (tables, or JSON
with ``--json``) and messages and progress on stderr. A :class:`~mapper.errors.MapperError`
becomes one line on stderr and exit code 1; a usage error exits with 2.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from mapper import __version__
from mapper.cli.common import DEFAULT_PROJECT, StoreOption
from mapper.errors import MapperError
from mapper.text import terminal_text

#: The options of ``mapper`` itself, accepted after the command too (``mapper run -v``).
_GLOBAL_FLAGS = re.compile(r"^(?:-v+|--verbose|-q|--quiet)$")


def _takes_value(command: Any, token: str) -> bool:
    """Whether ``token`` is an option of ``command`` that reads the next token as its value."""
    name = token.split("=", 1)[0]
    if "=" in token:
        return False
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") != "option":
            continue
        if name in (*param.opts, *param.secondary_opts):
            return not (getattr(param, "is_flag", False) or getattr(param, "count", False))
    return False


def _defines(command: Any, token: str) -> bool:
    return any(
        token in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ()))
        for param in getattr(command, "params", [])
    )


def hoist_global_options(group: Any, ctx: Any, args: list[str]) -> list[str]:
    """Move ``-v``, ``-q``, ``--verbose``, ``--quiet`` written after the command in
    front of it, where the ``mapper`` group reads them.

    Option values (``--focus -v`` would be odd, but it is a value), anything after
    ``--``, and options a command defines itself are left where they are.
    """
    command: Any = group
    hoisted: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            rest.extend(args[i:])
            break
        if command is not group and _GLOBAL_FLAGS.match(token) and not _defines(command, token):
            hoisted.append(token)
        elif token.startswith("-") and token != "-":
            rest.append(token)
            if _takes_value(command, token) and i + 1 < len(args):
                i += 1
                rest.append(args[i])
        else:
            rest.append(token)
            sub = command.get_command(ctx, token) if hasattr(command, "commands") else None
            if sub is not None:
                command = sub
        i += 1
    return hoisted + rest


class _MapperGroup(TyperGroup):
    """The ``mapper`` group: global options are accepted before or after the command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(self, ctx, args))


app = typer.Typer(
    cls=_MapperGroup,
    name="mapper",
    help=(
        "Map political influence networks: who mentions, replies to, reposts and links "
        "to whom; factions, bridge figures and alliance opportunities.\n\n"
        "Start with `mapper demo`, or `mapper init my-project` for your own data."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
collect_app = typer.Typer(
    help="Collect posts from remote sources (X, the web, feeds, Bluesky, Mastodon) into the store.",
    no_args_is_help=True,
)
roster_app = typer.Typer(
    help="Curate the roster: suggestions, merges, bulk imports.", no_args_is_help=True
)
app.add_typer(collect_app, name="collect")
app.add_typer(roster_app, name="roster")

_state: dict[str, int] = {"verbosity": 1}

ProjectArg = typer.Argument(
    DEFAULT_PROJECT, help="The project file (default: ./mapper.toml).", show_default=False
)
OutOption = typer.Option(
    None,
    "--out",
    "-o",
    help="Output folder (default: the project's output, relative to the project file).",
)
JsonOption = typer.Option(False, "--json", help="Print JSON on stdout instead of a table.")


def say(message: str, *, level: int = 1) -> None:
    """Print a message on stderr unless ``-q`` asked for quiet."""
    if _state["verbosity"] >= level:
        print(terminal_text(message), file=sys.stderr)


@contextmanager
def progress_bar() -> Iterator[Any]:
    """Progress on stderr while a command runs; yields the ``progress`` callback.

    On a terminal: a bar with the stage, its counts, rate and time left. Otherwise
    (a log, a pipe, CI): plain lines, one when a stage starts and then at most one
    every few seconds (every second with ``-v``). Nothing with ``-q``. The callback
    takes a :class:`~mapper.progress.ProgressEvent` or a line of text.
    """
    from mapper.cli.common import plain_progress, rich_progress

    verbosity = _state["verbosity"]
    if verbosity < 1:
        yield lambda event: None
        return
    if not sys.stderr.isatty():
        yield plain_progress(sys.stderr, verbose=verbosity >= 2)
        return
    with rich_progress(verbose=verbosity >= 2) as step:
        yield step


def _version(value: bool) -> None:
    if value:
        print(f"mapper {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More messages on stderr."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
) -> None:
    _state["verbosity"] = 0 if quiet else 1 + verbose


def _load(project: Path, out: Path | None = None) -> Any:
    from mapper.project import load_project

    return load_project(project, output=out)


def _print_summary(summary: dict[str, Any], out: Path) -> None:
    secs = summary.get("seconds", {})
    total = sum(secs.values())
    sig = summary.get("significance")
    # factions no stronger than chance are never announced without saying so
    weak = " (not significant)" if sig is not None and not sig["significant"] else ""
    votes = summary.get("votes") or {}
    only_votes = bool(votes) and not summary.get("actors")
    covoting = votes.get("covoting") or {}
    if votes:
        blocs = covoting.get("blocs")
        say(
            f"{votes.get('divisions', 0)} divisions, {votes.get('rebel_votes', 0)} rebel votes"
            + (f", {covoting['members']} members" if "members" in covoting else "")
            + (f", {len(blocs)} voting blocs" if isinstance(blocs, list) else "")
            + (" (not supported by the data)" if covoting.get("blocs_supported") is False else "")
            + (" (divisions only: no posts to map)" if only_votes else "")
        )
    say(
        f"{summary['actors']} actors, {summary['ties']} ties"
        + (f", {summary['factions']} factions{weak}" if "factions" in summary else "")
        + (f", {summary['bridge_figures']} bridge figures" if "bridge_figures" in summary else "")
        + (
            f", {summary['opportunities']} alliance opportunities"
            if "opportunities" in summary
            else ""
        )
        + f" in {total:.1f} s"
    )
    if sig is not None and summary.get("factions"):
        verdict = "significant" if sig["significant"] else "NOT significant"
        z = "undefined" if sig["z"] is None else f"{sig['z']:.1f}"
        say(
            f"community structure {verdict} (modularity {sig['observed']:.3f} against "
            f"{sig['null_mean']:.3f} in random graphs, z = {z})"
        )
    warnings = summary.get("warnings") or []
    if warnings:
        codes = ", ".join(dict.fromkeys(w["code"] for w in warnings))
        see = "covoting.md and divisions.md" if only_votes else "report.md"
        say(
            f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''} on what the data "
            f"can carry: {codes} (see {see})"
        )
        for w in warnings:
            say(f"  warning [{w['stage']}] {w['message']}")
    reused = summary.get("reused") or []
    if "exports" in reused:
        say(
            "store, roster, options and output files unchanged since the last run: its "
            "results were reused (" + ", ".join(reused) + " not run again)"
        )
    elif reused:
        say(
            "store, roster and graph options unchanged since the last run: its graph was "
            "reused (" + " and ".join(reused) + " skipped)"
        )
    quarantined = sum(int(i.get("quarantined", 0) or 0) for i in summary.get("imports", []))
    if quarantined:
        say(f"{quarantined} unreadable records quarantined (see `mapper quarantine`)")
    _report_failures(summary.get("imports", []))
    say(f"outputs in {out}")


def _report_failures(imports: list[dict[str, Any]]) -> int:
    """Say what each graph file held and which sources could not be read, one line
    each; return how many could not."""
    from mapper.pipeline import failed_imports

    for item in imports:
        if item.get("type") == "graph" and "ties" in item:
            renamed = ", ".join(f"{a} as {b}" for a, b in item.get("renamed", {}).items())
            say(
                f"{item['source']}: {item['nodes']} nodes, {item['ties']}"
                + ("" if item.get("directed") else " undirected")
                + f" ties, weight from {item.get('weight_attribute') or 'none (1 each)'}"
                + (f"; kept {renamed}" if renamed else "")
                + (
                    f"; {item['self_loops']} self-loops left out (a tie to oneself)"
                    if item.get("self_loops")
                    else ""
                )
            )
    for item in imports:
        if (
            item.get("skipped")
            and item.get("type") != "live"
            and "live source" not in str(item["skipped"])
        ):
            say(f"{item['source']}: {item['skipped']}")
    failures = failed_imports(imports)
    for line in failures:
        say(f"not read: {line}")
    return len(failures)


def _strict_exit(failures: int, strict: bool) -> None:
    if failures and strict:
        say(f"{failures} source(s) could not be read (--strict)")
        raise typer.Exit(1)


StrictOption = typer.Option(
    False, "--strict", help="Exit with code 1 when a file or source could not be read."
)


def _run(
    project: Path,
    out: Path | None,
    collect: bool,
    force: bool,
    as_json: bool,
    factions: int | None = None,
    strict: bool = False,
    engine: str | None = None,
    scheduler: str | None = None,
) -> None:
    from mapper.pipeline import failed_imports, run_project

    proj = _load(project, out)
    if factions is not None:
        proj.factions = factions
    with progress_bar() as step:
        analysis = run_project(
            proj,
            collect=collect,
            force=force,
            progress=step,
            engine=engine,
            scheduler=scheduler,
        )
    for notice in analysis.notices:
        say(f"note: {notice}")
    summary = analysis.summary()
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
    for actor in proj.focus:
        if actor not in analysis.graph:
            say(
                f"warning: {proj.path}: maps.focus: no actor {actor!r} in the network, "
                "so no focus map for it (check the id with `mapper check`)"
            )
    _print_summary(summary, proj.output)
    _strict_exit(len(failed_imports(summary.get("imports", []))), strict)


def demo_project() -> Path:
    """The demo's project file: ``data/demo/mapper.toml`` in a checkout."""
    here = Path(__file__).resolve().parents[2] / "data" / "demo" / "mapper.toml"
    if not here.exists():
        raise MapperError(
            "the demo data is not installed",
            source=here,
            hint="run `mapper demo` from a checkout of the repository (pip install -e .)",
        )
    return here


FactionsOption = typer.Option(
    None,
    "--factions",
    "-k",
    min=1,
    help="Ask for this many factions: the resolution giving them is searched and reported.",
)


def demo_output() -> Path:
    """Where ``mapper demo`` writes by default: ``outputs/demo`` at the repository root."""
    return demo_project().parents[2] / "outputs" / "demo"


@app.command()
def demo(
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default: outputs/demo in the repository)."
    ),
    json_out: bool = JsonOption,
) -> None:
    """Run the embedded demo: the UK progressive-alliance debate of summer 2016.

    Also writes the demo's timeline (two-week windows) to timeline/ in the output.

    Example:  mapper demo --out outputs/demo
    """
    project = demo_project()
    target = out or demo_output()
    _run(project, target, collect=False, force=False, as_json=json_out)
    _demo_timeline(project.with_name("timeline.toml"), target)


def _demo_timeline(project: Path, out: Path) -> None:
    """The demo's timeline (``data/demo/timeline.toml``) into ``out/timeline``."""
    from mapper.cli.timeline_cmd import write_demo_timeline

    if project.exists():
        write_demo_timeline(project, out)


@app.command()
def run(
    project: Path = ProjectArg,
    out: Path | None = OutOption,
    collect: bool = typer.Option(
        False, "--collect", help="Also run live sources (remote APIs; may cost credits)."
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Re-import files even if unchanged, and build the graph again instead of reusing"
        " the last run's.",
    ),
    factions: int | None = FactionsOption,
    json_out: bool = JsonOption,
    strict: bool = StrictOption,
    engine: str | None = typer.Option(
        None,
        "--engine",
        help="single (default) or dask: import, resolve and aggregate on a Dask cluster"
        " ([run] engine).",
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="With --engine dask: the scheduler's address (default: DASK_SCHEDULER_ADDRESS,"
        " [run] scheduler, else a local cluster).",
    ),
) -> None:
    """Run a whole project: import, resolve, graph, factions, bridges, alliances, maps, exports.

    A file or live source that cannot be read is reported and the run goes on without it
    (exit code 1 at the end with --strict).

    Example:  mapper run mapper.toml --out outputs/run1
    Example:  mapper run mapper.toml --engine dask --scheduler tcp://10.0.0.5:8786
    """
    _run(
        project,
        out,
        collect=collect,
        force=force,
        as_json=json_out,
        factions=factions,
        strict=strict,
        engine=engine,
        scheduler=scheduler,
    )


@app.command("import")
def import_(
    files: list[Path] = typer.Argument(
        ..., help="Files to import (X archives, HTML, feeds, CSV...)."
    ),
    type_: str | None = typer.Option(
        None, "--type", "-t", help="Source type (default: from the suffix)."
    ),
    store: Path | None = StoreOption,
    project: Path | None = typer.Option(
        None, "--project", "-p", help="Project whose store to use."
    ),
    force: bool = typer.Option(False, "--force", help="Re-import even if unchanged."),
    json_out: bool = JsonOption,
    strict: bool = StrictOption,
) -> None:
    """Import files into the store (re-importing adds nothing twice).

    A file that cannot be read is reported and the others are imported; the exit code
    is 1 when no file could be read (or, with --strict, when any could not).

    Example:  mapper import archive.jsonl blogs/*.html --store my.sqlite
    """
    from mapper.cli.common import open_store
    from mapper.errors import StoreError
    from mapper.sources import guess_type, import_file

    results: list[dict[str, Any]] = []
    with open_store(store, project) as st:
        for path in files:
            try:
                kind = type_ or guess_type(path)
                if kind == "graph":
                    raise MapperError(
                        "graph files are not posts",
                        source=path,
                        hint='list it as a [[sources]] type = "graph" in the project file',
                    )
                results.append(import_file(kind, path, st, force=force))
            except StoreError:
                raise
            except MapperError as exc:
                results.append({"source": str(path), "error": exc.one_line()})
    if json_out:
        print(json.dumps(results, indent=2, default=str))
    for r in results:
        if r.get("error"):
            continue
        say(
            f"{r['source']}: {r.get('added', 0)} added, {r.get('duplicates', 0)} already there, "
            f"{r.get('quarantined', 0)} quarantined"
            + (" (unchanged, skipped)" if r.get("skipped_unchanged") else "")
        )
    failures = _report_failures(results)
    if failures and failures == len(results):
        say("nothing imported: no file could be read")
        raise typer.Exit(1)
    _strict_exit(failures, strict)


@app.command()
def build(
    project: Path = ProjectArg,
    out: Path | None = OutOption,
    json_out: bool = JsonOption,
) -> None:
    """Import the project's files and build the graph; write the exports only.

    Example:  mapper build mapper.toml
    """
    from mapper.export import export_all
    from mapper.pipeline import build as build_graph
    from mapper.pipeline import export_reduction, import_sources
    from mapper.store import Store

    proj = _load(project, out)
    with progress_bar() as step, Store(proj.store) as st:
        imports = import_sources(proj, st, progress=step)
        G, _ = build_graph(proj, st, progress=step)
    _report_failures(imports)
    reduction = export_reduction(proj, G)
    paths = export_all(G, proj.output, formats=tuple(proj.formats), reduction=reduction)
    info = {
        "actors": G.number_of_nodes(),
        "ties": G.number_of_edges(),
        "files": sorted(map(str, paths.values())),
        "graph_files_reduced": reduction.as_dict() if reduction is not None else None,
    }
    if json_out:
        print(json.dumps(info, indent=2))
    say(f"{info['actors']} actors, {info['ties']} ties; exports in {proj.output}")
    if reduction is not None:
        say(reduction.note)


@app.command()
def export(
    project: Path = ProjectArg,
    out: Path | None = OutOption,
    formats: str = typer.Option(
        "gexf,graphml,json,csv,parquet", "--formats", "-f", help="Comma-separated formats."
    ),
    full: bool = typer.Option(
        False,
        "--full",
        help="Whole graph in GEXF, GraphML and JSON even above [exports] max_actors / "
        "max_ties (desktop tools may not open it).",
    ),
) -> None:
    """Export the analysed graph (factions and bridge scores included) in the chosen formats.

    Above [exports] max_actors or max_ties (20,000 actors, 50,000 ties by default) the
    GEXF, GraphML and JSON files hold the map's selection and say so; CSV and Parquet
    always hold everything.

    Example:  mapper export mapper.toml --formats gexf,csv --full
    """
    from mapper.export import export_all
    from mapper.pipeline import analyse, build, export_reduction, import_sources
    from mapper.store import Store

    proj = _load(project, out)
    wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
    proj.formats = list(wanted)
    reduction = None
    imports: list[dict[str, Any]] = []
    try:
        with progress_bar() as step:
            with Store(proj.store) as st:
                imports = import_sources(proj, st, progress=step)
                G, _ = build(proj, st, progress=step)
            analyse(proj, G, progress=step)
            reduction = export_reduction(proj, G, full=full)
            paths = export_all(G, proj.output, formats=wanted, reduction=reduction)
    finally:
        _report_failures(imports)
    for p in sorted(paths.values()):
        print(p)
    if reduction is not None:
        say(reduction.note)


def _analysed(project: Path, out: Path | None, stages: tuple[str, ...], **overrides: Any) -> Any:
    from mapper.pipeline import analyse, build, import_sources
    from mapper.store import Store

    proj = _load(project, out)
    for key, value in overrides.items():
        if value is not None:
            setattr(proj, key, value)
    proj.output.mkdir(parents=True, exist_ok=True)
    imports: list[dict[str, Any]] = []
    try:
        with progress_bar() as step:
            with Store(proj.store) as st:
                imports = import_sources(proj, st, progress=step)
                G, _ = build(proj, st, progress=step)
            results = analyse(proj, G, progress=step, stages=stages)
    finally:
        _report_failures(imports)
    return proj, G, results


def _cell(value: Any) -> str:
    """A table cell: numbers to four significant digits (``0.4331``, not
    ``0.43305215518702994``), text cut to 60 characters."""
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    from mapper.text import display_text

    return display_text(value, max_length=60, one_line=True)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        say("(nothing to show)")
        return
    cells = [{c: _cell(r.get(c)) for c in columns} for r in rows]
    widths = {c: max(len(c), *(len(r[c]) for r in cells)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for r in cells:
        print("  ".join(r[c].ljust(widths[c]) for c in columns).rstrip())


@app.command()
def factions(
    project: Path = ProjectArg,
    out: Path | None = OutOption,
    method: str | None = typer.Option(None, "--method", help="leiden (default) or louvain."),
    resolution: float | None = typer.Option(
        None, "--resolution", "-r", help="Higher: more, smaller factions."
    ),
    sweep: str | None = typer.Option(
        None, "--sweep", help="Comma-separated resolutions to compare, e.g. 0.5,1,2."
    ),
    factions: int | None = FactionsOption,
    json_out: bool = JsonOption,
) -> None:
    """Find the factions; write factions.csv and factions.md. --sweep compares resolutions.

    Example:  mapper factions mapper.toml --sweep 0.25,0.5,1,2
    """
    from mapper.analysis.factions import resolution_sweep, write_factions_csv, write_factions_md

    if sweep:
        from mapper.pipeline import build, import_sources
        from mapper.store import Store

        proj = _load(project, out)
        values = [float(v) for v in sweep.split(",") if v.strip()]
        with Store(proj.store) as st:
            _report_failures(import_sources(proj, st))
            G, _ = build(proj, st)
        rows = resolution_sweep(
            G,
            values,
            method=method or proj.faction_method,
            seed=proj.seed,
            runs=proj.runs,
            min_component=proj.min_component,
        )
        if json_out:
            print(json.dumps(rows, indent=2, default=str))
        else:
            _table(rows, list(rows[0].keys()) if rows else [])
        return
    proj, G, res = _analysed(
        project,
        out,
        ("factions",),
        faction_method=method,
        resolution=resolution,
        factions=factions,
    )
    result = res["factions"]
    write_factions_csv(G, result, proj.output / "factions.csv")
    write_factions_md(
        G,
        result,
        proj.output / "factions.md",
        summaries=res["summaries"],
        fault_lines=res["fault_lines"],
    )
    if json_out:
        print(
            json.dumps(
                {"summaries": res["summaries"], "fault_lines": res["fault_lines"]},
                indent=2,
                default=str,
            )
        )
    else:
        _table(
            [{"faction": s["id"], "name": s["name"], "size": s["size"]} for s in res["summaries"]],
            ["faction", "name", "size"],
        )
        for line in res["fault_lines"]:
            print(terminal_text(str(line.get("summary", ""))))
    sig = result.significance
    strength = (
        f", {'significant' if sig.significant else 'NOT significant'}: {sig.describe()}"
        if sig is not None
        else ""
    )
    say(
        f"modularity {result.modularity:.3f} ({result.method}, resolution "
        f"{result.resolution:.4g}){strength}; factions.csv in {proj.output}"
    )
    for w in res.get("warnings", []):
        say(f"warning [{w.stage}] {w.message}")


@app.command()
def bridges(
    project: Path = ProjectArg,
    out: Path | None = OutOption,
    top: int = typer.Option(20, "--top", "-n", help="How many to print."),
    json_out: bool = JsonOption,
) -> None:
    """Rank the bridge figures who connect factions; write bridges.csv and bridges.md.

    Example:  mapper bridges mapper.toml --top 10
    """
    from mapper.analysis.bridges import write_bridges_csv, write_bridges_md

    proj, _G, res = _analysed(project, out, ("factions", "bridges"))
    rows = res["bridges"]
    write_bridges_csv(rows, proj.output / "bridges.csv")
    write_bridges_md(rows, proj.output / "bridges.md", top=top)
    shown = rows[:top]
    if json_out:
        print(json.dumps(shown, indent=2, default=str))
    else:
        _table(
            [
                {
                    "rank": r["rank"],
                    "name": r["name"],
                    "score": f"{r['score']:.3f}",
                    "why": r["reason"],
                }
                for r in shown
            ],
            ["rank", "name", "score", "why"],
        )


@app.command()
def alliances(
    project: Path = ProjectArg,
    out: Path | None = OutOption,
    json_out: bool = JsonOption,
) -> None:
    """Point to alliance opportunities and suggested introductions; write alliances.csv/.md.

    Example:  mapper alliances mapper.toml --json
    """
    from mapper.analysis.alliances import write_alliances_csv, write_alliances_md

    proj, _G, res = _analysed(project, out, ("factions", "bridges", "alliances"))
    report = res["alliances"]
    write_alliances_csv(report, proj.output / "alliances.csv")
    write_alliances_md(report, proj.output / "alliances.md")
    if json_out:
        from mapper.analysis.strength import warnings_as_dicts

        shown = dict(report, warnings=warnings_as_dicts(report.get("warnings", [])))
        print(json.dumps(shown, indent=2, default=str))
    else:
        for item in report.get("opportunities", [])[:10]:
            print(terminal_text(str(item.get("reason", ""))))
        for item in report.get("introductions", [])[:10]:
            print(terminal_text(str(item.get("reason", ""))))


@app.command("map")
def map_(
    project: Path = ProjectArg,
    out: Path | None = OutOption,
    focus: str | None = typer.Option(
        None, "--focus", help="Actor id or name: draw one actor's neighbourhood."
    ),
    radius: int = typer.Option(1, "--radius", help="Steps around the focus actor."),
) -> None:
    """Write the interactive maps (or one actor's neighbourhood with --focus).

    Example:  mapper map mapper.toml --focus clive-lewis --radius 2
    """
    from mapper.fsutil import safe_filename
    from mapper.render import render_all, write_focus_map

    proj, G, res = _analysed(project, out, ("factions", "bridges", "alliances"))
    if focus:
        actor = (
            focus
            if focus in G
            else next((n for n, d in G.nodes(data=True) if d.get("label") == focus), focus)
        )
        path = proj.output / f"focus-{safe_filename(actor)}.html"
        write_focus_map(G, actor, path, radius=radius)
        print(path)
        return
    paths = render_all(
        G,
        proj.output,
        factions=res["factions"],
        summaries=res["summaries"],
        fault_lines=res["fault_lines"],
        bridges=res["bridges"],
        alliances=res["alliances"],
        node_budget=proj.node_budget,
        title=proj.name,
    )
    for p in sorted(paths.values()):
        print(p)


@app.command()
def check(project: Path = ProjectArg) -> None:
    """Validate the project file and roster; print every problem with file, line and field.

    Example:  mapper check mapper.toml
    """
    from mapper.project import check_project

    problems = check_project(project)
    for p in problems:
        print(p.one_line(), file=sys.stderr)
    errors = sum(1 for p in problems if p.is_error)
    if errors:
        say(f"{errors} error(s), {len(problems) - errors} warning(s)")
        raise typer.Exit(1)
    say(f"{project}: no errors" + (f", {len(problems)} warning(s)" if problems else ""))


@app.command()
def quarantine(
    store: Path | None = StoreOption,
    project: Path | None = typer.Option(
        None, "--project", "-p", help="Project whose store to use."
    ),
    json_out: bool = JsonOption,
) -> None:
    """List the records that could not be read, with file, line and reason.

    Example:  mapper quarantine --project mapper.toml
    """
    from mapper.cli.common import open_store

    with open_store(store, project) as st:
        rows = st.quarantined()
    if json_out:
        print(json.dumps(rows, indent=2, default=str))
    else:  # a whole page or file has no line: leave the cell empty
        shown = [{**r, "line": "" if r["line"] is None else r["line"]} for r in rows]
        _table(shown, ["source", "line", "reason"])


def _register_collectors() -> None:
    for module in ("collect_x", "collect_web", "collect_social"):
        try:
            mod = __import__(f"mapper.cli.{module}", fromlist=["register"])
        except ImportError:  # pragma: no cover - a collector's optional dependency is missing
            continue
        mod.register(collect_app)


def _register_extras() -> None:
    for module in ("project_cmds", "votes", "store_cmds", "timeline_cmd"):
        try:
            mod = __import__(f"mapper.cli.{module}", fromlist=["register"])
        except ImportError:
            continue
        mod.register(app, roster_app)


_register_collectors()
_register_extras()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``mapper`` console script."""
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        os.environ.setdefault("NO_COLOR", "1")
    try:
        app(args=argv, standalone_mode=True)
    except MapperError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        sys.exit(1)
