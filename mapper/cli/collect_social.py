"""``mapper collect bluesky ...`` and ``mapper collect mastodon ...``: thin commands over
:mod:`mapper.collectors.bluesky` and :mod:`mapper.collectors.mastodon`.

Each command opens the store, makes one library call, and prints a one-line summary on
stderr (``--json`` also prints the counts on stdout). A
:class:`~mapper.errors.MapperError` becomes one line on stderr and exit code 1. The
collectors are imported only when a command runs, so ``mapper --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from mapper.cli.common import JsonOption, ProjectOption, StoreOption, run_collection

MaxPostsOption = typer.Option(
    None, "--max-posts", "-n", min=1, help="Stop after this many posts (default: all)."
)
RestartOption = typer.Option(
    False,
    "--restart",
    help="Ignore the saved cursor of an interrupted run and start from the newest post.",
)
ForceOption = typer.Option(False, "--force", help="Re-import even if the file is unchanged.")


def register(collect_app: typer.Typer) -> None:
    """Add the ``bluesky`` and ``mastodon`` command groups to ``collect_app``."""
    bluesky_app = typer.Typer(
        help="Collect Bluesky posts: an account's feed, a search, or a saved JSON file.",
        no_args_is_help=True,
    )
    mastodon_app = typer.Typer(
        help="Collect Mastodon statuses: an account's public posts, or a saved JSON file.",
        no_args_is_help=True,
    )
    collect_app.add_typer(bluesky_app, name="bluesky")
    collect_app.add_typer(mastodon_app, name="mastodon")

    @bluesky_app.command("posts")
    def bluesky_posts_command(
        handle: str = typer.Argument(..., help="Handle or DID, e.g. neallawson.bsky.social."),
        max_posts: int | None = MaxPostsOption,
        restart: bool = RestartOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Collect an account's posts, replies and reposts (public: no login needed).

        Reads app.bsky.feed.getAuthorFeed on the public AppView. An interrupted run
        resumes from its saved cursor.

        Example:  mapper collect bluesky posts neallawson.bsky.social -n 500
        """
        from mapper.collectors.bluesky import bluesky_posts

        run_collection(
            lambda st, on_page: bluesky_posts(
                handle, store=st, max_posts=max_posts, resume=not restart, on_page=on_page
            ),
            store=store,
            project=project,
            label=f"bluesky posts {handle}",
            as_json=json_out,
        )

    @bluesky_app.command("search")
    def bluesky_search_command(
        query: str = typer.Argument(..., help='Search terms, e.g. "#progressivealliance".'),
        max_posts: int | None = MaxPostsOption,
        sort: str = typer.Option("latest", "--sort", help="latest or top."),
        since: str | None = typer.Option(None, "--since", help="Earliest date, e.g. 2016-07-01."),
        until: str | None = typer.Option(None, "--until", help="Latest date, e.g. 2016-10-01."),
        restart: bool = RestartOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Collect posts matching a search (app.bsky.feed.searchPosts).

        Search usually needs a login: set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (an
        app password). Without them the public AppView is tried, which often refuses
        search and never returns more than one page.

        Example:  mapper collect bluesky search "#fairvotes" --since 2016-07-01
        """
        from mapper.collectors.bluesky import bluesky_search

        run_collection(
            lambda st, on_page: bluesky_search(
                query,
                store=st,
                max_posts=max_posts,
                sort=sort,
                since=since,
                until=until,
                resume=not restart,
                on_page=on_page,
            ),
            store=store,
            project=project,
            label=f"bluesky search {query}",
            as_json=json_out,
        )

    @bluesky_app.command("import")
    def bluesky_import_command(
        file: Path = typer.Argument(
            ..., help="A saved getAuthorFeed/searchPosts JSON response, or JSONL of posts."
        ),
        force: bool = ForceOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Import saved Bluesky JSON; unreadable lines go to the quarantine.

        Example:  mapper collect bluesky import data/demo/corpus/bluesky_posts.json
        """
        from mapper.collectors.bluesky import import_bluesky_file

        run_collection(
            lambda st, _on_page: import_bluesky_file(file, store=st, force=force),
            store=store,
            project=project,
            label=f"import {file}",
            as_json=json_out,
        )

    @mastodon_app.command("posts")
    def mastodon_posts_command(
        account: str = typer.Argument(..., help="user@instance, e.g. someone@mastodon.social."),
        max_posts: int | None = MaxPostsOption,
        restart: bool = RestartOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Collect an account's public statuses, replies and boosts from its instance.

        No token is needed for public statuses. An instance that requires one: set
        MASTODON_ACCESS_TOKEN and MASTODON_API_BASE_URL=https://<that instance>.

        Example:  mapper collect mastodon posts someone@mastodon.social -n 400
        """
        from mapper.collectors.mastodon import mastodon_posts

        run_collection(
            lambda st, on_page: mastodon_posts(
                account, store=st, max_posts=max_posts, resume=not restart, on_page=on_page
            ),
            store=store,
            project=project,
            label=f"mastodon posts {account}",
            as_json=json_out,
        )

    @mastodon_app.command("import")
    def mastodon_import_command(
        file: Path = typer.Argument(..., help="A JSON list of statuses, or JSONL of statuses."),
        instance: str | None = typer.Option(
            None, "--instance", help="Instance the statuses came from (domain of local accounts)."
        ),
        force: bool = ForceOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Import saved Mastodon statuses; unreadable lines go to the quarantine.

        Example:  mapper collect mastodon import saved.json --instance mastodon.social
        """
        from mapper.collectors.mastodon import import_mastodon_file

        run_collection(
            lambda st, _on_page: import_mastodon_file(
                file, store=st, instance=instance, force=force
            ),
            store=store,
            project=project,
            label=f"import {file}",
            as_json=json_out,
        )
