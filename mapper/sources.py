"""The one place where source types are registered.

A project's ``[[sources]]`` entries and ``mapper import`` name a source type; this
module maps each type to the collector that reads it. Adding a source touches this
module and the collector, nothing else. Collectors are imported only when a source of
their type is read, so start-up stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapper.errors import ConfigError, ImportFormatError

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


def merge_graph_file(G: nx.DiGraph, path: Path, *, roster: Roster | None = None) -> None:
    """Add the nodes and weighted edges of a GEXF, GraphML or GML file to ``G``.

    Node keys that name a roster actor (by id or by handle) are mapped to it; edge
    weights are added to an existing edge's weight.
    """
    from mapper.collectors.tables import read_graph_file

    other = read_graph_file(path)
    mapping: dict[str, str] = {}
    for node in other.nodes:
        key = str(node)
        actor = None
        if roster is not None:
            actor = roster.actors.get(key) or roster.by_handle("table", key)
        mapping[key] = actor.id if actor else key
    for node, data in other.nodes(data=True):
        nid = mapping[str(node)]
        if nid not in G:
            actor = roster.actors.get(nid) if roster is not None else None
            G.add_node(
                nid,
                label=(actor.name if actor else str(data.get("label") or nid)),
                kind=(actor.kind if actor else str(data.get("kind") or "unknown")),
                party=(actor.party if actor else str(data.get("party") or "")),
                declared_faction=(actor.faction if actor else ""),
                provisional=actor is None,
            )
    for u, v, data in other.edges(data=True):
        a, b = mapping[str(u)], mapping[str(v)]
        if a == b:
            continue
        w = float(data.get("weight", 1.0))
        if G.has_edge(a, b):
            G[a][b]["weight"] = float(G[a][b].get("weight", 0.0)) + w
            G[a][b]["count"] = int(G[a][b].get("count", 0)) + 1
        else:
            G.add_edge(a, b, weight=w, count=1, evidence=[], first=None, last=None)
