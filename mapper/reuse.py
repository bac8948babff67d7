"""Reuse of the resolved graph between runs, keyed on content.

A run resolves every post of its sources against the roster and builds the graph
(``resolve`` and ``graph`` stages: most of a rerun at scale). When nothing they read
has changed, the next run loads the graph it built last time instead.

What they read is named by a **key** (:func:`build_key`), a digest of:

- the store's content version (:meth:`mapper.store.Store.content_version`: raised by
  triggers on every insert, delete or change of a post or of a post's origins) and
  the origins the project leaves out (:func:`mapper.origins.source_scope`);
- the bytes of the roster file and of each graph file the project merges, with the
  options of those sources;
- the project options that shape the graph: ``name``, ``weights``, ``max_evidence``,
  ``since``, ``until``, ``min_weight``, ``kinds``, ``largest_component``,
  ``drop_provisional``;
- the code that builds it (a digest of the ``mapper`` package's source files) and the
  Python and networkx versions (the graph is stored as a pickle).

No timestamp enters the key: touching a file changes nothing, and a store or roster
changed back to what it held gives its own (new) version for the store, the same
digest for the roster. A roster change re-resolves the stored posts without reading
the sources again (the import skips unchanged files on its own).

The cache is one file, ``.mapper-cache/graph.pickle`` in the output folder: a first
line of JSON (format and key) and the pickled graph, unresolved report and counts.
It is written atomically after a run that built the graph. A damaged or unreadable
file is ignored (the run says so and builds the graph again). The file is a pickle:
like the store, it is trusted as the user's own; do not take one from someone else.

A second file, ``.mapper-cache/run.pickle``, lets a rerun skip the analysis and the
outputs too (:func:`run_key`: the graph's key and every option of the project),
when the files the last run wrote are all still there with the same bytes (sizes and
SHA-256 digests recorded): it holds what the analysis wrote onto the nodes and its
results (:class:`CachedRun`).
"""

from __future__ import annotations

import hashlib
import pickle
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import orjson

if TYPE_CHECKING:
    from mapper.origins import SourceScope
    from mapper.project import Project
    from mapper.resolve.resolver import ResolutionReport
    from mapper.store import Store

__all__ = [
    "CACHE_FORMAT",
    "CachedBuild",
    "ReusedResolution",
    "build_key",
    "cache_path",
    "load_build",
    "save_build",
]

#: Version of the cache file's layout; a file of another version is not read.
CACHE_FORMAT = 1
#: Folder of the cache, inside the project's output folder.
CACHE_DIR = ".mapper-cache"
CACHE_FILE = "graph.pickle"

_code_digest: str | None = None


@dataclass
class ReusedResolution:
    """What a run needs of a resolution it did not redo: the unresolved report and
    the counts (see :class:`mapper.resolve.resolver.Resolution`)."""

    report: ResolutionReport
    event_count: int
    actor_count: int


@dataclass
class CachedBuild:
    """A graph loaded from the cache, with its resolution's report and counts."""

    graph: nx.DiGraph
    resolution: ReusedResolution


def cache_path(project: Project) -> Path:
    """Where the cache of ``project``'s graph lives."""
    return project.output / CACHE_DIR / CACHE_FILE


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _code() -> str:
    """Digest of the ``mapper`` package's source files (names and bytes)."""
    global _code_digest
    if _code_digest is None:
        root = Path(__file__).resolve().parent
        digest = hashlib.sha256()
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
        _code_digest = digest.hexdigest()
    return _code_digest


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def build_key(project: Project, store: Store, scope: SourceScope, graph_files: list[Path]) -> str:
    """The digest naming everything the resolve and graph stages of ``project`` read.

    Parameters
    ----------
    project : Project
        The loaded project.
    store : Store
        Its open store, after the import.
    scope : SourceScope
        Which origins the run maps (:func:`mapper.origins.source_scope`).
    graph_files : list of Path
        The graph files the graph stage merges, in order.

    Returns
    -------
    str
        A hex digest: equal digests mean an equal graph.
    """
    graph_sources = [
        (s.index, sorted((str(k), str(v)) for k, v in s.options.items()))
        for s in project.sources
        if s.type == "graph"
    ]
    key = {
        "format": CACHE_FORMAT,
        "code": _code(),
        "python": platform.python_version(),
        "networkx": nx.__version__,
        "store": store.content_version(),
        "excluded_origins": sorted(scope.excluded_ids),
        "roster": _file_digest(project.roster) if project.roster else None,
        "graph_sources": graph_sources,
        "graph_files": [(str(p), _file_digest(p)) for p in graph_files],
        "options": {
            "name": project.name,
            "weights": sorted((str(k), float(v)) for k, v in project.weights.items()),
            "max_evidence": project.max_evidence,
            "since": _iso(project.since),
            "until": _iso(project.until),
            "min_weight": float(project.min_weight or 0.0),
            "kinds": None if project.kinds is None else sorted(project.kinds),
            "largest_component": bool(project.largest_component),
            "drop_provisional": bool(project.drop_provisional),
        },
    }
    return hashlib.sha256(orjson.dumps(key, option=orjson.OPT_SORT_KEYS)).hexdigest()


class CacheDamaged(Exception):
    """The cache file exists but cannot be read; the message says why."""


#: What :func:`_load_cache` returns when there is no cache for the key.
_NO_CACHE = object()


def _load_cache(path: Path, key: str, what: str) -> Any:
    """The pickled object of the cache file at ``path`` when its header carries this
    format and ``key``; when there is no file or it was made from other
    inputs, :data:`_NO_CACHE`. ``what`` names the object in the :class:`CacheDamaged` message."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except FileNotFoundError:
        return _NO_CACHE
    except OSError as exc:
        raise CacheDamaged(f"cannot open it: {exc.strerror or exc}") from exc
    with fh:
        try:
            head = orjson.loads(fh.readline())
            if not isinstance(head, dict):
                raise ValueError("no header")
        except (ValueError, OSError) as exc:
            raise CacheDamaged("its first line is not a cache header") from exc
        if head.get("format") != CACHE_FORMAT or head.get("key") != key:
            return _NO_CACHE
        try:
            return pickle.load(fh)
        except Exception as exc:  # a damaged pickle raises many kinds of error
            raise CacheDamaged(f"{what} cannot be read ({type(exc).__name__})") from exc


def load_build(path: Path, key: str) -> CachedBuild | None:
    """The cached graph at ``path`` when its key is ``key``; ``None`` when there is no
    file or it was made from other inputs.

    Raises
    ------
    CacheDamaged
        When the file exists but is not a readable cache (truncated, overwritten,
        made by something else); the caller ignores it and builds the graph again.
    """
    payload = _load_cache(path, key, "its graph")
    if payload is _NO_CACHE:
        return None
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("graph"), nx.DiGraph)
        or not isinstance(payload.get("resolution"), ReusedResolution)
    ):
        raise CacheDamaged("it does not hold a graph")
    return CachedBuild(payload["graph"], payload["resolution"])


def save_build(path: Path, key: str, graph: nx.DiGraph, resolution: Any) -> Path:
    """Write the cache of ``graph`` (just built, before any analysis wrote onto it)
    and of ``resolution``'s report and counts under ``key``, atomically."""
    from mapper.fsutil import atomic_path
    from mapper.graph.build import gc_paused

    reused = ReusedResolution(
        report=resolution.report,
        event_count=resolution.event_count,
        actor_count=resolution.actor_count,
    )
    head = orjson.dumps({"format": CACHE_FORMAT, "key": key}) + b"\n"
    with atomic_path(path) as tmp, open(tmp, "wb") as fh, gc_paused():
        fh.write(head)
        pickle.dump({"graph": graph, "resolution": reused}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


# --------------------------------------------------------------------------- whole runs
# A rerun whose project is unchanged too (every option: factions, bridges, maps,
# exports...) and whose output files are still what the last run wrote needs neither
# the analysis nor the outputs again: the run cache holds what the analysis wrote onto
# the nodes, its results, and the name, size and digest of every file written.

RUN_FILE = "run.pickle"


@dataclass
class CachedRun:
    """What a run computed after the graph, to stand in for the analysis and outputs."""

    node_attrs: dict[Any, dict[str, Any]]
    graph_attrs: dict[str, Any]
    results: dict[str, Any]
    outputs: dict[str, tuple[str, int, str]]  # name -> (path relative to output, size, sha256)


def run_path(project: Project) -> Path:
    """Where the cache of ``project``'s last whole run lives."""
    return project.output / CACHE_DIR / RUN_FILE


def run_key(graph_key: str, project: Project) -> str:
    """The digest naming a whole run: the graph's key and every option of ``project``."""
    import dataclasses

    fields = {f.name: getattr(project, f.name) for f in dataclasses.fields(project)}
    text = orjson.dumps(
        {"format": CACHE_FORMAT, "graph": graph_key, "project": fields},
        default=str,
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
    )
    return hashlib.sha256(text).hexdigest()


def _digest_of(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def output_record(output: Path, paths: dict[str, Path]) -> dict[str, tuple[str, int, str]]:
    """Name -> (path relative to ``output``, size, sha256) of the files a run wrote."""
    record: dict[str, tuple[str, int, str]] = {}
    for name, path in paths.items():
        p = Path(path)
        try:
            rel = p.resolve().relative_to(output.resolve()).as_posix()
        except ValueError:
            rel = str(p)
        record[name] = (rel, p.stat().st_size, _digest_of(p))
    return record


def outputs_unchanged(output: Path, record: dict[str, tuple[str, int, str]]) -> bool:
    """Whether every file of ``record`` is still there with the same bytes."""
    for rel, size, digest in record.values():
        path = output / rel
        try:
            if path.stat().st_size != size or _digest_of(path) != digest:
                return False
        except OSError:
            return False
    return True


def save_run(path: Path, key: str, run: CachedRun) -> Path:
    """Write the run cache under ``key``, atomically."""
    from mapper.fsutil import atomic_path
    from mapper.graph.build import gc_paused

    head = orjson.dumps({"format": CACHE_FORMAT, "key": key}) + b"\n"
    with atomic_path(path) as tmp, open(tmp, "wb") as fh, gc_paused():
        fh.write(head)
        pickle.dump(run, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def load_run(path: Path, key: str) -> CachedRun | None:
    """The run cache at ``path`` when its key is ``key``, else ``None``.

    Raises
    ------
    CacheDamaged
        When the file exists but cannot be read.
    """
    run = _load_cache(path, key, "its results")
    if run is _NO_CACHE:
        return None
    if not isinstance(run, CachedRun):
        raise CacheDamaged("it does not hold a run")
    return run
