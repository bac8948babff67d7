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

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mapper.cli.common import (
    JsonOption,
    OnPage,
    ProjectOption,
    StoreOption,
    reported_errors,
    run_collection,
    store_path,
)

if TYPE_CHECKING:
    from mapper.collectors.base import CollectResult
    from mapper.store import Store

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
HandleArgument = typer.Argument(..., help="An X handle, with or without @.")


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
        window = _window(max_posts, since, until, since_id, restart)
        _run_x(
            f"{kind}-{query}",
            f"X {kind}",
            lambda client, st, path, on_page: x_live.search(
                client,
                query,
                store=st,
                archive=archive,
                archive_path=path,
                on_page=on_page,
                **window,
            ),
            archive_file=archive_file,
            token_file=token_file,
            store=store,
            project=project,
            json_out=json_out,
        )

    x_app.command("mentions")(
        _timeline_command(
            "mentions",
            """Collect the posts that mention an account (the latest 800 at most).

        Example:  mapper collect x mentions @CompassOffice --since 2016-07-01 -n 800
        """,
        )
    )
    x_app.command("posts")(
        _timeline_command(
            "posts",
            """Collect the posts an account published (the latest 3200 at most).

        Example:  mapper collect x posts neal_lawson --max-posts 1000
        """,
        )
    )


def _window(
    max_posts: int | None, since: str | None, until: str | None, since_id: str | None, restart: bool
) -> dict[str, Any]:
    """The collector options every X command shares."""
    return {
        "max_posts": max_posts,
        "since_id": since_id,
        "start_time": since,
        "end_time": until,
        "resume": not restart,
    }


def _timeline_command(kind: str, doc: str) -> Callable[..., None]:
    """The ``collect x mentions`` or ``collect x posts`` command."""

    def command(
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
        from mapper.collectors import x_live

        func = x_live.mentions if kind == "mentions" else x_live.posts
        name = handle.strip().removeprefix("@")
        window = _window(max_posts, since, until, since_id, restart)
        _run_x(
            f"{kind}-{name}",
            f"X {kind} @{name}",
            lambda client, st, path, on_page: func(
                client, handle, store=st, archive_path=path, on_page=on_page, **window
            ),
            archive_file=archive_file,
            token_file=token_file,
            store=store,
            project=project,
            json_out=json_out,
        )

    command.__name__ = f"{kind}_command"
    command.__doc__ = doc
    return command


def _run_x(
    name: str,
    label: str,
    collect: Callable[[Any, Store, Path, OnPage], CollectResult],
    *,
    archive_file: Path | None,
    token_file: Path | None,
    store: Path | None,
    project: Path | None,
    json_out: bool,
) -> None:
    """Build the client, then run ``collect(client, store, archive path, on_page)``."""
    from mapper.collectors import x_live

    path = _archive_path(archive_file, store, project, name)
    with reported_errors():
        client = x_live.make_client(token_file=token_file)
    run_collection(
        lambda st, on_page: collect(client, st, path, on_page),
        store=store,
        project=project,
        label=label,
        as_json=json_out,
        after=f"; pages archived in {path}",
    )
