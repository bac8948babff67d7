"""``mapper collect web ...`` and ``mapper collect feed ...``: thin commands over
:mod:`mapper.collectors.web` and :mod:`mapper.collectors.feed`.

``web`` fetches pages (robots.txt respected unless ``--ignore-robots``), keeps each
page's main text and the links of its article body, and can follow those links a few
hops within allowed domains. ``feed`` reads RSS/Atom feeds from URLs or files. Pages
and feeds that cannot be used are recorded in the store's quarantine and the run goes
on; when nothing at all could be read, each reason is printed and the exit code is 1.
Only public addresses are fetched unless ``--allow-private``. Progress goes to stderr,
then a one-line summary; a :class:`~mapper.errors.MapperError` becomes one line on
stderr and exit code 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from mapper.cli.common import (
    JsonOption,
    OnPage,
    ProjectOption,
    StoreOption,
    reported_errors,
    run_collection,
    say,
)
from mapper.errors import CollectorError, ImportFormatError, MapperError

if TYPE_CHECKING:
    from mapper.collectors.base import CollectResult
    from mapper.collectors.web import WebCollectResult
    from mapper.store import Store

#: Problems listed one by one when a collection read nothing; the rest are counted.
SHOWN_PROBLEMS = 20

AllowPrivateOption = typer.Option(
    False,
    "--allow-private",
    help="Also fetch private, loopback and link-local addresses (an intranet, this "
    "machine). Off by default.",
)


def read_url_list(path: Path) -> list[str]:
    """URLs from a file, one a line (``-`` reads stdin); blank lines and ``#`` comments skipped.

    Raises
    ------
    ImportFormatError
        The file cannot be read.
    """
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFormatError(f"cannot read the URL list ({exc})", source=path) from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def report_web_outcome(result: WebCollectResult | None) -> None:
    """Print the notes of a web collection, and when it read nothing at all, every
    reason on stderr and exit with code 1."""
    if result is None:
        return
    for item in result.notes:
        say(f"note: {item['url']}: {item['note']}")
    if not result.fetched_nothing:
        return
    for item in result.problems[:SHOWN_PROBLEMS]:
        hint = f" ({item['hint']})" if item.get("hint") else ""
        print(f"error: {item['url']}: {item['reason']}{hint}", file=sys.stderr)
    more = len(result.problems) - SHOWN_PROBLEMS
    if more > 0:
        print(f"error: ... and {more} more (mapper quarantine lists them)", file=sys.stderr)
    print("error: no page could be read", file=sys.stderr)
    raise typer.Exit(1)


def register(collect_app: typer.Typer) -> None:
    """Add the ``web`` and ``feed`` commands to ``collect_app``."""

    @collect_app.command("web")
    def web_command(
        urls: list[str] | None = typer.Argument(None, help="Pages to fetch (http/https)."),
        from_file: Path | None = typer.Option(
            None, "--from-file", "-f", help="A file of URLs, one a line ('-' for stdin)."
        ),
        depth: int = typer.Option(
            0, "--depth", "-d", min=0, help="Follow article links this many hops (default 0)."
        ),
        allow_domain: list[str] | None = typer.Option(
            None,
            "--allow-domain",
            help="A domain the crawl may enter (repeatable; default: the start pages' domains).",
        ),
        ignore_robots: bool = typer.Option(
            False,
            "--ignore-robots",
            help="Do not obey robots.txt (only for sites you have permission to collect).",
        ),
        max_pages: int = typer.Option(
            500, "--max-pages", min=1, help="Stop after this many pages."
        ),
        refetch: bool = typer.Option(
            False, "--refetch", help="Fetch pages the store already has again."
        ),
        allow_private: bool = AllowPrivateOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Fetch web pages and blog posts: main text, byline, date and the article's own links.

        Links in navigation, footers, sidebars and comments are left out. Pages that
        robots.txt forbids, non-HTML answers, pages without main text, redirects off
        the allowed domains and non-public addresses are recorded in the quarantine;
        when no page at all could be read, the reasons are printed and the exit code
        is 1.

        Example:  mapper collect web https://www.compassonline.org.uk/blog/ --depth 1
        """
        from mapper.collectors.web import collect_web

        with reported_errors():
            targets = list(urls or []) + (read_url_list(from_file) if from_file else [])
            if not targets:
                raise CollectorError("no URLs given", hint="pass URLs or --from-file FILE")
        outcome: list[WebCollectResult] = []

        def fetch(st: Store, on_page: OnPage) -> CollectResult:
            result = collect_web(
                targets,
                store=st,
                depth=depth,
                allowed_domains=allow_domain or None,
                respect_robots=not ignore_robots,
                allow_private=allow_private,
                max_pages=max_pages,
                refetch=refetch,
                on_page=on_page,
            )
            outcome.append(result)
            return result

        run_collection(fetch, store=store, project=project, label="web", as_json=json_out)
        report_web_outcome(outcome[0] if outcome else None)

    @collect_app.command("feed")
    def feed_command(
        sources: list[str] = typer.Argument(..., help="Feed URLs or saved feed files."),
        allow_private: bool = AllowPrivateOption,
        store: Path | None = StoreOption,
        project: Path | None = ProjectOption,
        json_out: bool = JsonOption,
    ) -> None:
        """Read RSS or Atom feeds: each entry becomes a post with its links and tags.

        A malformed feed still yields the entries that could be read; the problem is
        recorded in the quarantine. A feed that cannot be fetched is reported and the
        others are still read (exit code 1 at the end).

        Example:  mapper collect feed https://www.compassonline.org.uk/feed/ saved.xml
        """
        from mapper.collectors.base import CollectResult
        from mapper.collectors.feed import collect_feed
        from mapper.http import HttpClient

        failed: list[str] = []

        def read_feeds(st: Store, on_page: OnPage) -> CollectResult:
            totals = CollectResult()
            with HttpClient(allow_private=allow_private) as client:
                for source in sources:
                    try:
                        result = collect_feed(source, store=st, client=client, on_page=on_page)
                    except MapperError as exc:
                        print(f"error: {exc.one_line()}", file=sys.stderr)
                        failed.append(source)
                        continue
                    totals.include(result)
            return totals

        run_collection(
            read_feeds, store=store, project=project, label="feeds", as_json=json_out, unit="feeds"
        )
        if failed:
            raise typer.Exit(1)
