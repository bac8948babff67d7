"""The ``mapper timeline`` command: factions, moves, bridges and alliances window by
window (:mod:`mapper.timeline`), written to ``timeline/`` in the project's output."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mapper.cli.common import DEFAULT_PROJECT


def write_demo_timeline(project: Path, out: Path) -> None:
    """Run the demo's timeline project with its outputs in ``out/timeline`` and its own
    store beside them (never the demo run's store: the two projects read different
    posts)."""
    from mapper.cli import _load, progress_bar, say
    from mapper.pipeline import MAP_SEED
    from mapper.render.timeline import write_timeline
    from mapper.timeline import run_timeline

    proj = _load(project, out)
    proj.store = proj.output / "timeline-store.sqlite"
    with progress_bar() as step:
        tl = run_timeline(proj, progress=step)
        step("timeline outputs")
        write_timeline(
            tl,
            proj.output / "timeline",
            node_budget=proj.node_budget,
            seed=MAP_SEED,
            title=f"{proj.name}: timeline",
        )
    s = tl.summary()
    say(
        f"timeline: {s['windows']} windows of {s['every']}, {s['moves']} moves, "
        f"{s['merges']} merges, {s['splits']} splits; {proj.output / 'timeline' / 'timeline.html'}"
    )


def register(app: typer.Typer, roster_app: typer.Typer) -> None:
    """Add ``timeline`` to ``app``."""

    @app.command()
    def timeline(
        project: Path = typer.Argument(
            DEFAULT_PROJECT, help="The project file (default: ./mapper.toml).", show_default=False
        ),
        every: str | None = typer.Option(
            None, "--every", help="Window length: 3d, 1w, 2w, 1m (default: [timeline] every)."
        ),
        step: str | None = typer.Option(
            None,
            "--step",
            help="Start a window every STEP (sliding windows), e.g. --every 2w --step 1w.",
        ),
        windows: str | None = typer.Option(
            None,
            "--windows",
            help="Explicit windows start:end, comma-separated, e.g. "
            "2016-06-01:2016-07-01,2016-07-01:2016-08-01.",
        ),
        out: Path | None = typer.Option(
            None,
            "--out",
            "-o",
            help="Output folder (default: the project's output); files go to its timeline/ folder.",
        ),
        json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    ) -> None:
        """Cut the posts into time windows: factions matched from window to window, moves,
        splits and merges, bridges and alliance opportunities over time.

        Writes timeline.html (a time slider over the map), timeline.md, moves.csv, the
        per-window tables, timeline-alluvial.png and timeline.gexf (Gephi's timeline)
        into timeline/ in the output folder.

        Example:  mapper timeline mapper.toml --every 1w
        """
        from mapper.cli import _load, progress_bar, say
        from mapper.pipeline import MAP_SEED
        from mapper.render.timeline import write_timeline
        from mapper.timeline import run_timeline

        proj = _load(project, out)
        with progress_bar() as step_progress:
            tl = run_timeline(proj, every=every, step=step, windows=windows, progress=step_progress)
            step_progress("timeline outputs")
            folder = proj.output / "timeline"
            write_timeline(
                tl,
                folder,
                node_budget=proj.node_budget,
                seed=MAP_SEED,
                title=f"{proj.name}: timeline" if proj.name else None,
            )
        summary = tl.summary()
        if json_out:
            print(json.dumps(summary, indent=2, default=str))
        say(
            f"{summary['windows']} windows, {summary['supported_windows']} with supported "
            f"factions; {summary['factions']} factions followed, {summary['moves']} moves, "
            f"{summary['splits']} splits, {summary['merges']} merges"
        )
        for w in summary["warnings"]:
            say(f"  warning [{w['stage']}] {w['message']}")
        say(f"outputs in {folder}")
