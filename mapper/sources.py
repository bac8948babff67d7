"""The one place where source types are registered.

A project's ``[[sources]]`` entries and ``mapper import`` name a source type; this
module maps each type to the collector that reads it. Adding a source touches this
module and the collector, nothing else. Collectors are imported only when a source of
their type is read, so start-up stays fast.
"""

from __future__ import annotations

import glob
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapper.errors import ConfigError, ImportFormatError, MapperError

if TYPE_CHECKING:
    import networkx as nx

    from mapper.project import Project, Source
    from mapper.resolve import Roster
    from mapper.store import Store

#: File source type -> (module, function). Each function takes ``(store, path)``
#: plus keyword options and returns an object or dict with its counts.
FILE_IMPORTERS: dict[str, tuple[str, str]] = {
    "x-archive": ("mapper.collectors.x_archive", "import_archive"),
    "html": ("mapper.collectors.web", "import_html_file"),
    "feed": ("mapper.collectors.feed", "import_feed_file"),
    "bluesky-file": ("mapper.collectors.bluesky", "import_bluesky_file"),
    "mastodon-file": ("mapper.collectors.mastodon", "import_mastodon_file"),
    "edges-csv": ("mapper.collectors.tables", "import_edge_table"),
    "posts-csv": ("mapper.collectors.tables", "import_post_table"),
    "divisions": ("mapper.collectors.divisions", "import_division_file"),
}

#: File source types read as UTF-8 text only: a UTF-16 or UTF-32 file of these types is
#: refused with one line saying so (HTML pages and feeds declare their own encoding).
UTF8_TYPES = frozenset(
    ("x-archive", "bluesky-file", "mastodon-file", "edges-csv", "posts-csv", "divisions")
)

#: Suffixes that ``mapper import`` recognises when no ``--type`` is given.
SUFFIX_TYPES: dict[str, str] = {
    ".jsonl": "x-archive",
    ".ndjson": "x-archive",
    ".json": "x-archive",
    ".html": "html",
    ".htm": "html",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".csv": "edges-csv",
    ".gexf": "graph",
    ".graphml": "graph",
    ".gml": "graph",
}


def _function(module: str, name: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def guess_type(path: Path) -> str:
    """The source type for a file, from its suffix."""
    kind = SUFFIX_TYPES.get(path.suffix.lower())
    if kind is None:
        raise ImportFormatError(
            "cannot tell what kind of file this is",
            source=path,
            hint=f"pass --type, one of: {', '.join(FILE_IMPORTERS)}",
        )
    return kind


def _counts(result: Any) -> dict[str, Any]:
    if isinstance(result, dict):
        return dict(result)
    if hasattr(result, "_asdict"):
        return dict(result._asdict())
    if hasattr(result, "__dataclass_fields__"):
        return {k: getattr(result, k) for k in result.__dataclass_fields__}
    return {"result": str(result)}


#: Project options passed on to a file importer, as (option, keyword argument).
_IMPORT_OPTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "x-archive": (("include_referenced", "include_referenced"),),
    "mastodon-file": (("instance", "instance"),),
    "edges-csv": (("nodes", "nodes_path"), ("default_kind", "default_kind")),
    "posts-csv": (("platform", "platform"),),
    "divisions": (("format", "format"), ("parliament", "parliament")),
}


def import_file(
    kind: str,
    path: Path,
    store: Store,
    *,
    force: bool = False,
    options: dict[str, Any] | None = None,
    base: Path | None = None,
) -> dict[str, Any]:
    """Import one file of source type ``kind`` into ``store`` and return its counts.

    ``options`` are the source's options from the project file; those the importer
    takes (``instance``, ``nodes``, ``platform``...) are passed on, paths relative to
    ``base`` (the project file's folder).
    """
    if kind not in FILE_IMPORTERS:
        raise ConfigError(
            f"unknown file source type {kind!r}", hint=f"one of: {', '.join(FILE_IMPORTERS)}"
        )
    from mapper.collectors.base import refuse_wide_text, require_file

    path = require_file(path)
    if kind in UTF8_TYPES:
        try:
            with open(path, "rb") as fh:
                head = fh.read(256)
        except OSError as exc:
            raise ImportFormatError(f"cannot read: {exc.strerror or exc}", source=path) from None
        refuse_wide_text(path, head)
    func = _function(*FILE_IMPORTERS[kind])
    kwargs: dict[str, Any] = {}
    for option, keyword in _IMPORT_OPTIONS.get(kind, ()):
        if options and option in options:
            value = options[option]
            if option == "nodes":
                value = (base or Path.cwd()) / str(value)
            kwargs[keyword] = value
    result = func(store, path, force=force, **kwargs)
    counts = _counts(result)
    counts = {"source": str(path), "type": kind, **counts}
    return counts


def collect_source(source: Source, store: Store, *, project: Project) -> dict[str, Any]:
    """Run one live source of a project (a remote API) into ``store``."""
    opts = dict(source.options)
    budget = opts.get("max_posts")
    kind = source.type
    if kind in ("x-search", "x-mentions", "x-posts"):
        from mapper.collectors import x_live

        archive = project.output / "archives" / f"source-{source.index}.jsonl"
        token_file = opts.get("token_file")
        if token_file:
            token_file = project.base / str(token_file)  # relative to the project file
        client = x_live.make_client(token_file=token_file)
        if kind == "x-search":
            result = x_live.search(
                client,
                opts["query"],
                archive=bool(opts.get("archive", False)),
                max_posts=budget,
                store=store,
                archive_path=archive,
            )
        else:
            func = x_live.mentions if kind == "x-mentions" else x_live.posts
            result = func(
                client, opts["handle"], max_posts=budget, store=store, archive_path=archive
            )
    elif kind == "web":
        from mapper.collectors.web import collect_web

        result = collect_web(
            list(opts["urls"]),
            store=store,
            depth=int(opts.get("depth", 0)),
            allowed_domains=opts.get("allowed_domains"),
            respect_robots=bool(opts.get("respect_robots", True)),
        )
    elif kind == "feed":
        from mapper.collectors.feed import collect_feed

        result = collect_feed(opts["url"], store=store)
    elif kind == "bluesky-posts":
        from mapper.collectors.bluesky import bluesky_posts

        result = bluesky_posts(opts["handle"], store=store, max_posts=budget)
    elif kind == "bluesky-search":
        from mapper.collectors.bluesky import bluesky_search

        result = bluesky_search(opts["query"], store=store, max_posts=budget)
    elif kind == "mastodon-posts":
        from mapper.collectors.mastodon import mastodon_posts

        result = mastodon_posts(opts["account"], store=store, max_posts=budget)
    else:  # pragma: no cover - project validation refuses unknown types first
        raise ConfigError(f"unknown live source type {kind!r}")
    return {"source": source.describe(), "type": kind, **_counts(result)}


def merge_graph_file(
    G: nx.DiGraph,
    path: Path,
    *,
    roster: Roster | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Add the nodes, attributes and weighted ties of a GEXF, GraphML or GML file to ``G``.

    ``options`` are the source's options from the project file (``weight`` names the
    edge attribute holding the tie weight). See
    :func:`mapper.collectors.graph_files.merge_graph_file` for what is merged and how
    attribute names mapper uses itself are kept apart; returns its summary.
    """
    from mapper.collectors.graph_files import merge_graph_file as merge

    weight = (options or {}).get("weight")
    return merge(G, path, roster=roster, weight=str(weight) if weight else None)


def describe_graph_source(path: Path, *, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a graph file of a project and say what it holds (nodes, ties, direction,
    weight attribute), for the import results; raises
    :class:`~mapper.errors.ImportFormatError` for a file that cannot be used."""
    from mapper.collectors.graph_files import describe_graph_file

    weight = (options or {}).get("weight")
    return describe_graph_file(path, weight=str(weight) if weight else None)


def source_file_problems(data: dict[str, Any], project_file: Path) -> list[tuple[MapperError, str]]:
    """What makes the files a project's ``[[sources]]`` name unusable, for ``mapper check``.

    For every file source whose pattern matches something (a pattern matching nothing
    is reported by :func:`mapper.project.check_project` itself), ``(problem,
    severity)``: errors for a pattern that matches only folders, a file that cannot be
    read or is UTF-16 text where UTF-8 is needed, and a graph file that cannot be read
    as its extension says (it is read in full, as a run would); a warning for an empty
    file (a run reports it and reads the others). Each problem names the file and the
    source.
    """
    from mapper.collectors.base import refuse_wide_text, require_file

    sources = data.get("sources", [])
    if not isinstance(sources, list):
        return []
    problems: list[tuple[MapperError, str]] = []
    for index, src in enumerate(sources, 1):
        if not isinstance(src, dict) or not isinstance(src.get("path"), str):
            continue
        kind = src.get("type")
        if kind not in FILE_IMPORTERS and kind != "graph":
            continue
        where = f"sources[{index}].path"
        found = sorted(Path(p) for p in glob.glob(str(project_file.parent / src["path"])))
        if found and all(p.is_dir() for p in found):
            folders = ConfigError(
                f"only folders match {src['path']!r}",
                source=project_file,
                field=where,
                hint="name the files inside, e.g. folder/*.jsonl",
            )
            problems.append((folders, "error"))
            continue
        for file in (p for p in found if not p.is_dir()):
            try:
                require_file(file)
                with open(file, "rb") as fh:
                    head = fh.read(256)
                if not head.strip():
                    empty = ImportFormatError("empty file", source=file, field=where)
                    problems.append((empty, "warning"))
                    continue
                if kind in UTF8_TYPES:
                    refuse_wide_text(file, head)
                if kind == "graph":
                    describe_graph_source(file, options=src)
            except OSError as exc:
                why = f"cannot read: {exc.strerror or exc}"
                problems.append((ImportFormatError(why, source=file, field=where), "error"))
            except MapperError as exc:
                exc.field = where  # the message says what in the file is wrong
                exc.args = (exc.one_line(),)
                problems.append((exc, "error"))
    return problems
