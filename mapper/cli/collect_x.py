"""``mapper collect x ...``: thin commands over :mod:`mapper.collectors.x_live`.

``search``, ``mentions`` and ``posts`` each build the tweepy client (the bearer token
comes from ``X_BEARER_TOKEN`` or ``--token-file``, nowhere else), open the store and
make one library call. Every raw response page is appended to a twarc2-style JSONL
archive (by default ``x-archive/<command>-<target>.jsonl`` beside the store) before its
posts are stored, and an interrupted run resumes from its saved cursor. Progress goes
to stderr, then a one-line summary; a :class:`~mapper.errors.MapperError` becomes one
line on stderr and exit code 1. The collector is imported only when a command runs, so
``mapper --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mapper.cli.common import ProjectOption, StoreOption, open_store, store_path
from mapper.errors import MapperError

if TYPE_CHECKING:
    from mapper.collectors.x_live import CollectionResult

TokenFileOption = typer.Option(
    None,
    "--token-file",
    help="A file holding only the X API bearer token (default: $X_BEARER_TOKEN).",
)
MaxPostsOption = typer.Option(
    None,
    "--max-posts",
    "-n",
    min=1,
    help="Stop after reading this many posts: X reads are paid (default: all).",
)
SinceOption = typer.Option(
    None, "--since", help="Earliest post time, e.g. 2016-07-01 or 2016-07-01T12:00:00Z (UTC)."
)
UntilOption = typer.Option(None, "--until", help="Latest post time, e.g. 2016-10-01 (UTC).")
SinceIdOption = typer.Option(None, "--since-id", help="Only posts newer than this post id.")
ArchiveFileOption = typer.Option(
    None,
    "--archive-file",
    help="JSONL file every raw response page is appended to "
    "(default: x-archive/<command>-<target>.jsonl beside the store).",
)
RestartOption = typer.Option(
    False,
    "--restart",
    help="Ignore the saved cursor (of an interrupted or complete run) and start afresh.",
)
JsonOption = typer.Option(False, "--json", help="Also print the counts as JSON on stdout.")
HandleArgument = typer.Argument(..., help="An X handle, with or without @.")


@contextmanager
def collection_progress(label: str) -> Iterator[Callable[[CollectionResult], None]]:
    """The CLI's spinner on stderr, showing pages and posts so far.

    Yields the ``on_page`` callback the collectors accept.
    """
    from mapper.cli import progress_bar

    with progress_bar() as step:
        step(label)
        yield lambda result: step(f"{label}: {result.pages} pages, {result.posts} posts")


def summary_line(result: CollectionResult, *, unit: str = "pages") -> str:
    """One line saying what a collection did."""
    text = (
        f"{result.posts} posts from {result.pages} {unit}: {result.added} new, "
        f"{result.duplicates} already stored"
    )
    if result.errors:
        text += f", {result.errors} problems quarantined (see `mapper quarantine`)"
    if result.stopped_reason == "max-posts":
        text += "; stopped at --max-posts (run again to continue)"
    elif result.stopped_reason == "max-pages":
        text += "; stopped at --max-pages"
    return text


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn a :class:`~mapper.errors.MapperError` into one line on stderr and exit 1.

    An interrupt (Ctrl-C) says how to resume and exits 130.
    """
    try:
        yield
    except MapperError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        raise typer.Exit(130) from None


def report(
    result: CollectionResult, *, as_json: bool, unit: str = "pages", after: str = ""
) -> None:
    """Print the counts as JSON on stdout when asked, and the summary line on stderr."""
    from mapper.cli import say

    if as_json:
        print(json.dumps(asdict(result), indent=2))
    say(summary_line(result, unit=unit) + after)


def _archive_path(
    archive_file: Path | None, store: Path | None, project: Path | None, name: str
) -> Path:
    if archive_file is not None:
        return archive_file
    from mapper.fsutil import safe_filename

    return store_path(store, project).parent / "x-archive" / f"{safe_filename(name)}.jsonl"


def register(collect_app: typer.Typer) -> None:
    """Add the ``x`` command group (``search``, ``mentions``, ``posts``) to ``collect_app``."""
    x_app = typer.Typer(
        help="Collect posts from the X API v2 (needs a bearer token: X_BEARER_TOKEN or "
        "--token-file). Every response page is archived as twarc2 JSONL.",
        no_args_is_help=True,
    )
    collect_app.add_typer(x_app, name="x")

    @x_app.command("search")
    def search_command(
        query: str = typer.Argument(..., help='An X search query, e.g. "progressive alliance".'),
        archive: bool = typer.Option(
            False,
            "--archive",
            help="Full-archive search (needs Pro or Academic access; 1 request a second). "
            "Default: recent search, the last 7 days.",
        ),
        max_posts: int | None = MaxPostsOption,
        since: str | None = SinceOption,
        until: str | None = UntilOption,
        since_id: str | None = SinceIdOption,
        archive_file: Path | None = ArchiveFileOption,
        token_file: Path | None = TokenFileOption,
        restart: bool = RestartOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Search X posts into the store (recent search, or the full archive with --archive).

        Example:  mapper collect x search '"progressive alliance" -is:retweet' --max-posts 500
        """
        from mapper.collectors import x_live

        kind = "search-all" if archive else "search"
        path = _archive_path(archive_file, store, project, f"{kind}-{query}")
        with reported_errors():
            client = x_live.make_client(token_file=token_file)
            with open_store(store, project) as st, collection_progress(f"X {kind}") as on_page:
                result = x_live.search(
                    client,
                    query,
                    store=st,
                    archive=archive,
                    max_posts=max_posts,
                    since_id=since_id,
                    start_time=since,
                    end_time=until,
                    archive_path=path,
                    resume=not restart,
                    on_page=on_page,
                )
        report(result, as_json=json_out, after=f"; pages archived in {path}")

    @x_app.command("mentions")
    def mentions_command(
        handle: str = HandleArgument,
        max_posts: int | None = MaxPostsOption,
        since: str | None = SinceOption,
        until: str | None = UntilOption,
        since_id: str | None = SinceIdOption,
        archive_file: Path | None = ArchiveFileOption,
        token_file: Path | None = TokenFileOption,
        restart: bool = RestartOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Collect the posts that mention an account (the latest 800 at most).

        Example:  mapper collect x mentions @CompassOffice --since 2016-07-01 -n 800
        """
        _timeline(
            "mentions",
            handle,
            max_posts=max_posts,
            since=since,
            until=until,
            since_id=since_id,
            archive_file=archive_file,
            token_file=token_file,
            restart=restart,
            store=store,
            project=project,
            json_out=json_out,
        )

    @x_app.command("posts")
    def posts_command(
        handle: str = HandleArgument,
        max_posts: int | None = MaxPostsOption,
        since: str | None = SinceOption,
        until: str | None = UntilOption,
        since_id: str | None = SinceIdOption,
        archive_file: Path | None = ArchiveFileOption,
        token_file: Path | None = TokenFileOption,
        restart: bool = RestartOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Collect the posts an account published (the latest 3200 at most).

        Example:  mapper collect x posts neal_lawson --max-posts 1000
        """
        _timeline(
            "posts",
            handle,
            max_posts=max_posts,
            since=since,
            until=until,
            since_id=since_id,
            archive_file=archive_file,
            token_file=token_file,
            restart=restart,
            store=store,
            project=project,
            json_out=json_out,
        )


def _timeline(
    kind: str,
    handle: str,
    *,
    max_posts: int | None,
    since: str | None,
    until: str | None,
    since_id: str | None,
    archive_file: Path | None,
    token_file: Path | None,
    restart: bool,
    store: Path | None,
    project: Path | None,
    json_out: bool,
) -> None:
    """The body of ``collect x mentions`` and ``collect x posts``."""
    from mapper.collectors import x_live

    func = x_live.mentions if kind == "mentions" else x_live.posts
    name = handle.strip().removeprefix("@")
    path = _archive_path(archive_file, store, project, f"{kind}-{name}")
    with reported_errors():
        client = x_live.make_client(token_file=token_file)
        with open_store(store, project) as st, collection_progress(f"X {kind} @{name}") as on_page:
            result = func(
                client,
                handle,
                store=st,
                max_posts=max_posts,
                since_id=since_id,
                start_time=since,
                end_time=until,
                archive_path=path,
                resume=not restart,
                on_page=on_page,
            )
    report(result, as_json=json_out, after=f"; pages archived in {path}")
