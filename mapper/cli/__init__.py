"""The ``mapper`` command line: a thin layer over the library.

Each command translates its flags into calls of :mod:`mapper.pipeline`,
:mod:`mapper.project` and the stage modules, prints data on stdout (tables, or JSON
with ``--json``) and messages and progress on stderr. A :class:`~mapper.errors.MapperError`
becomes one line on stderr and exit code 1; a usage error exits with 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from mapper import __version__
from mapper.cli.common import DEFAULT_PROJECT, StoreOption
from mapper.errors import MapperError

app = typer.Typer(
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
OutOption = typer.Option(None, "--out", "-o", help="Output folder (default: the project's).")
JsonOption = typer.Option(False, "--json", help="Print JSON on stdout instead of a table.")


def say(message: str, *, level: int = 1) -> None:
    """Print a message on stderr unless ``-q`` asked for quiet."""
    if _state["verbosity"] >= level:
        print(message, file=sys.stderr)


@contextmanager
def progress_bar() -> Iterator[Any]:
    """A spinner on stderr naming the current stage (off with -q or when not a terminal)."""
    if _state["verbosity"] < 1 or not sys.stderr.isatty():

        def step(name: str) -> None:
            if _state["verbosity"] >= 2:
                print(f"… {name}", file=sys.stderr)

        yield step
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def update(name: str) -> None:
            bar.update(task, description=name)

        yield update


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
    say(
        f"{summary['actors']} actors, {summary['ties']} ties"
        + (f", {summary['factions']} factions" if "factions" in summary else "")
        + (f", {summary['bridge_figures']} bridge figures" if "bridge_figures" in summary else "")
        + (
            f", {summary['opportunities']} alliance opportunities"
            if "opportunities" in summary
            else ""
        )
        + f" in {total:.1f} s"
    )
    quarantined = sum(int(i.get("quarantined", 0) or 0) for i in summary.get("imports", []))
    if quarantined:
        say(f"{quarantined} unreadable records quarantined (see `mapper quarantine`)")
    say(f"outputs in {out}")


def _run(project: Path, out: Path | None, collect: bool, force: bool, as_json: bool) -> None:
    from mapper.pipeline import run_project

    proj = _load(project, out)
    with progress_bar() as step:
        analysis = run_project(proj, collect=collect, force=force, progress=step)
    summary = analysis.summary()
    if as_json:
        print(json.dumps(summary, indent=2, default=str))
    _print_summary(summary, proj.output)


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


@app.command()
def demo(
    out: Path = typer.Option(Path("outputs/demo"), "--out", "-o", help="Output folder."),
    json_out: bool = JsonOption,
) -> None:
    """Run the embedded demo: the UK progressive-alliance debate of summer 2016.

    Example:  mapper demo --out outputs/demo
    """
    _run(demo_project(), out, collect=False, force=False, as_json=json_out)


@app.command()
def run(
    project: Path = ProjectArg,
    out: Path | None = OutOption,
    collect: bool = typer.Option(
        False, "--collect", help="Also run live sources (remote APIs; may cost credits)."
    ),
    force: bool = typer.Option(False, "--force", help="Re-import files even if unchanged."),
    json_out: bool = JsonOption,
) -> None:
    """Run a whole project: import, resolve, graph, factions, bridges, alliances, maps, exports.

    Example:  mapper run mapper.toml --out outputs/run1
    """
    _run(project, out, collect=collect, force=force, as_json=json_out)


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
) -> None:
    """Import files into the store (re-importing adds nothing twice).

    Example:  mapper import archive.jsonl blogs/*.html --store my.sqlite
    """
    from mapper.cli.common import open_store
    from mapper.sources import guess_type, import_file

    results = []
    with open_store(store, project) as st:
        for path in files:
            kind = type_ or guess_type(path)
            if kind == "graph":
                raise MapperError(
                    "graph files are not posts",
                    source=path,
                    hint='list it as a [[sources]] type = "graph" in the project file',
                )
            results.append(import_file(kind, path, st, force=force))
    if json_out:
        print(json.dumps(results, indent=2, default=str))
    for r in results:
        say(
            f"{r['source']}: {r.get('added', 0)} added, {r.get('duplicates', 0)} already there, "
            f"{r.get('quarantined', 0)} quarantined"
            + (" (unchanged, skipped)" if r.get("skipped_unchanged") else "")
        )


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
    from mapper.pipeline import import_sources
    from mapper.store import Store

    proj = _load(project, out)
    with progress_bar() as step, Store(proj.store) as st:
        import_sources(proj, st, progress=step)
        G, _ = build_graph(proj, st, progress=step)
    paths = export_all(G, proj.output, formats=tuple(proj.formats))
    info = {
        "actors": G.number_of_nodes(),
        "ties": G.number_of_edges(),
        "files": sorted(map(str, paths.values())),
    }
    if json_out:
        print(json.dumps(info, indent=2))
    say(f"{info['actors']} actors, {info['ties']} ties; exports in {proj.output}")


@app.command()
def export(
    project: Path = ProjectArg,
    out: Path | None = OutOption,
    formats: str = typer.Option(
        "gexf,graphml,json,csv,parquet", "--formats", "-f", help="Comma-separated formats."
    ),
) -> None:
    """Export the analysed graph (factions and bridge scores included) in the chosen formats.

    Example:  mapper export mapper.toml --formats gexf,csv
    """
    from mapper.export import export_all
    from mapper.pipeline import analyse, build, import_sources
    from mapper.store import Store

    proj = _load(project, out)
    wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
    with progress_bar() as step:
        with Store(proj.store) as st:
            import_sources(proj, st, progress=step)
            G, _ = build(proj, st, progress=step)
        analyse(proj, G, progress=step)
        paths = export_all(G, proj.output, formats=wanted)
    for p in sorted(paths.values()):
        print(p)


def _analysed(project: Path, out: Path | None, stages: tuple[str, ...], **overrides: Any) -> Any:
    from mapper.pipeline import analyse, build, import_sources
    from mapper.store import Store

    proj = _load(project, out)
    for key, value in overrides.items():
        if value is not None:
            setattr(proj, key, value)
    proj.output.mkdir(parents=True, exist_ok=True)
    with progress_bar() as step:
        with Store(proj.store) as st:
            import_sources(proj, st, progress=step)
            G, _ = build(proj, st, progress=step)
        results = analyse(proj, G, progress=step, stages=stages)
    return proj, G, results


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        say("(nothing to show)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, ""))[:60]) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        print("  ".join(str(r.get(c, ""))[:60].ljust(widths[c]) for c in columns))


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
            import_sources(proj, st)
            G, _ = build(proj, st)
        rows = resolution_sweep(
            G, values, method=method or proj.faction_method, seed=proj.seed, runs=proj.runs
        )
        if json_out:
            print(json.dumps(rows, indent=2, default=str))
        else:
            _table(rows, list(rows[0].keys()) if rows else [])
        return
    proj, G, res = _analysed(
        project, out, ("factions",), faction_method=method, resolution=resolution
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
            print(line.get("summary", ""))
    say(f"modularity {result.modularity:.3f} ({result.method}); factions.csv in {proj.output}")


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
        print(json.dumps(report, indent=2, default=str))
    else:
        for item in report.get("opportunities", [])[:10]:
            print(item.get("reason", ""))
        for item in report.get("introductions", [])[:10]:
            print(item.get("reason", ""))


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
    else:
        _table(rows, ["source", "line", "reason"])


def _register_collectors() -> None:
    for module in ("collect_x", "collect_web", "collect_social"):
        try:
            mod = __import__(f"mapper.cli.{module}", fromlist=["register"])
        except ImportError:  # pragma: no cover - a collector's optional dependency is missing
            continue
        mod.register(collect_app)


def _register_extras() -> None:
    for module in ("project_cmds", "store_cmds"):
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
