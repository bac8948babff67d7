"""The project file (``mapper.toml``): what to read, how to weigh it, where to write.

A project names a roster, a list of sources, the options of each stage and an output
folder. Every relative path in the file is relative to the file itself, so a project
folder can be moved or shared as a whole. :func:`load_project` validates the file and
raises :class:`~mapper.errors.ConfigError` naming the file and the option at fault;
:func:`check_project` returns every problem at once for ``mapper check``.
"""

from __future__ import annotations

import glob
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mapper.errors import ConfigError, MapperError

#: Source types a project may list, with the option that names their input.
SOURCE_TYPES: dict[str, str] = {
    "x-archive": "path",
    "html": "path",
    "feed": "path",
    "bluesky-file": "path",
    "mastodon-file": "path",
    "edges-csv": "path",
    "posts-csv": "path",
    "graph": "path",
    "x-search": "query",
    "x-mentions": "handle",
    "x-posts": "handle",
    "web": "urls",
    "bluesky-posts": "handle",
    "bluesky-search": "query",
    "mastodon-posts": "account",
}
#: Options each source type takes besides ``type`` and the option naming its input.
SOURCE_OPTIONS: dict[str, frozenset[str]] = {
    "x-archive": frozenset({"include_referenced"}),
    "html": frozenset(),
    "feed": frozenset({"path", "url"}),
    "bluesky-file": frozenset(),
    "mastodon-file": frozenset({"instance"}),
    "edges-csv": frozenset({"nodes", "default_kind"}),
    "posts-csv": frozenset({"platform"}),
    "graph": frozenset(),
    "x-search": frozenset({"archive", "max_posts", "token_file"}),
    "x-mentions": frozenset({"max_posts", "token_file"}),
    "x-posts": frozenset({"max_posts", "token_file"}),
    "web": frozenset({"depth", "allowed_domains", "respect_robots"}),
    "bluesky-posts": frozenset({"max_posts"}),
    "bluesky-search": frozenset({"max_posts"}),
    "mastodon-posts": frozenset({"max_posts"}),
}
#: Source types that call a remote service (run only with ``mapper run --collect``).
LIVE_TYPES = frozenset(
    {
        "x-search",
        "x-mentions",
        "x-posts",
        "web",
        "bluesky-posts",
        "bluesky-search",
        "mastodon-posts",
    }
)
DEFAULT_WEIGHTS: dict[str, float] = {
    "mention": 1.0,
    "reply": 1.0,
    "repost": 2.0,
    "quote": 1.5,
    "link": 1.0,
    "name": 0.5,
}
EXPORT_FORMATS = ("gexf", "graphml", "json", "csv", "parquet")
_SECTIONS = {"project", "sources", "graph", "factions", "bridges", "alliances", "maps", "exports"}


@dataclass(frozen=True)
class Source:
    """One input of a project: its type, the options given, and its 1-based index."""

    type: str
    options: dict[str, Any]
    index: int

    @property
    def live(self) -> bool:
        """Whether reading this source calls a remote service."""
        return (self.type == "feed" and "url" in self.options) or self.type in LIVE_TYPES

    def describe(self) -> str:
        """A short label for messages: ``x-archive corpus/x.jsonl``."""
        key = SOURCE_TYPES.get(self.type, "path")
        value = self.options.get(key) or self.options.get("url") or ""
        if isinstance(value, list):
            value = f"{len(value)} URLs"
        return f"{self.type} {value}".strip()


@dataclass
class Project:
    """A loaded project file. Paths are absolute."""

    path: Path | None
    name: str
    roster: Path | None
    output: Path
    store: Path
    sources: list[Source] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    min_weight: float = 0.0
    since: datetime | None = None
    until: datetime | None = None
    kinds: list[str] | None = None
    drop_provisional: bool = False
    largest_component: bool = False
    max_evidence: int = 5
    faction_method: str = "leiden"
    resolution: float = 1.0
    runs: int = 10
    seed: int = 42
    bridges_top: int = 20
    alliances_top: int = 20
    node_budget: int = 1500
    focus: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=lambda: list(EXPORT_FORMATS))

    @property
    def base(self) -> Path:
        """The folder relative paths in the project file are taken from."""
        return self.path.parent if self.path else Path.cwd()

    def source_path(self, source: Source) -> Path:
        """The absolute path a file source names."""
        return (self.base / str(source.options["path"])).resolve()


def _when(value: Any, *, source: Path, field_name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"not a date: {value!r}",
            source=source,
            field=field_name,
            hint="write it as 2016-07-01 or 2016-07-01T12:00:00Z",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _problems(data: dict[str, Any], path: Path) -> list[ConfigError]:
    """Every problem in a parsed project file, each naming the option."""
    out: list[ConfigError] = []

    def bad(field_name: str, message: str, hint: str | None = None) -> None:
        out.append(ConfigError(message, source=path, field=field_name, hint=hint))

    for key in sorted(set(data) - _SECTIONS):
        bad(key, "unknown section", f"known sections: {', '.join(sorted(_SECTIONS))}")
    sources = data.get("sources", [])
    if not isinstance(sources, list):
        bad("sources", "must be a list of [[sources]] tables")
        sources = []
    for i, src in enumerate(sources, 1):
        where = f"sources[{i}]"
        if not isinstance(src, dict) or "type" not in src:
            bad(where, "needs a type", f"one of: {', '.join(SOURCE_TYPES)}")
            continue
        kind = src["type"]
        if kind not in SOURCE_TYPES:
            bad(
                f"{where}.type",
                f"unknown source type {kind!r}",
                f"one of: {', '.join(SOURCE_TYPES)}",
            )
            continue
        need = SOURCE_TYPES[kind]
        if kind == "feed" and "url" in src:
            need = "url"
        allowed = SOURCE_OPTIONS[kind] | {"type", SOURCE_TYPES[kind]}
        for key in sorted(set(src) - allowed):
            hint = f"{kind} takes: {', '.join(sorted(allowed - {'type'}))}"
            bad(f"{where}.{key}", "unknown option", hint)
        if need not in src:
            bad(f"{where}.{need}", f"a {kind} source needs {need} = ...")
        elif need == "path" and not glob.glob(str(path.parent / str(src["path"]))):
            bad(
                f"{where}.path",
                f"no file matches {src['path']!r}",
                "paths are relative to the project file",
            )
    weights = data.get("graph", {}).get("weights", {})
    for key, value in weights.items():
        if key not in DEFAULT_WEIGHTS:
            bad(
                f"graph.weights.{key}",
                "unknown reference kind",
                f"one of: {', '.join(DEFAULT_WEIGHTS)}",
            )
        elif not isinstance(value, int | float) or value < 0:
            bad(f"graph.weights.{key}", f"must be a number >= 0, not {value!r}")
    method = data.get("factions", {}).get("method", "leiden")
    if method not in ("leiden", "louvain", "leidenalg"):
        bad("factions.method", f"unknown method {method!r}", "leiden or louvain")
    for fmt in data.get("exports", {}).get("formats", []):
        if fmt not in EXPORT_FORMATS:
            bad(
                "exports.formats", f"unknown format {fmt!r}", f"one of: {', '.join(EXPORT_FORMATS)}"
            )
    roster = data.get("project", {}).get("roster")
    if roster and not (path.parent / roster).exists():
        bad("project.roster", f"no roster at {roster!r}", "paths are relative to the project file")
    return out


def _no_sources(path: Path | None) -> ConfigError:
    return ConfigError(
        "the project lists no sources",
        source=path,
        field="sources",
        hint="add a [[sources]] table (the project file has commented examples)",
    )


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(
            "no such project file", source=path, hint="create one with `mapper init DIR`"
        )
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=path) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", source=path) from None


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`check_project`: an error (blocks a run) or a warning."""

    error: MapperError
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        """Whether this problem stops the project from running."""
        return self.severity == "error"

    def one_line(self) -> str:
        """``error: file:line: field: message`` (or ``warning: ...``)."""
        return f"{self.severity}: {self.error.one_line()}"


def check_project(path: str | Path) -> list[Problem]:
    """Return every problem of the project file at ``path`` (an empty list when it is fine).

    The roster (and its ``issues.csv``) is checked too when the project names one, and
    so are the CSV tables listed as ``edges-csv`` and ``posts-csv`` sources (an
    unterminated quote, a record too long, a missing column: each with file and line).
    Unknown columns and similar slips are warnings; everything else is an error.
    """
    path = Path(path)
    try:
        data = _read_toml(path)
    except ConfigError as exc:
        return [Problem(exc)]
    problems = [Problem(p) for p in _problems(data, path)]
    if not data.get("sources"):
        problems.append(Problem(_no_sources(path), "warning"))
    roster = data.get("project", {}).get("roster")
    if roster and (path.parent / roster).exists():
        from mapper.resolve.roster import validate_roster

        problems.extend(
            Problem(p.to_error(), "error" if p.is_error else "warning")
            for p in validate_roster(path.parent / roster)
        )
    problems.extend(Problem(e) for e in _table_problems(data, path))
    if not any(p.is_error for p in problems):
        problems.extend(Problem(w, "warning") for w in _unlisted_in_store(path))
    return problems


def _unlisted_in_store(path: Path) -> list[MapperError]:
    """A warning when the project's store holds posts from sources it does not list."""
    from mapper.origins import source_scope
    from mapper.store import Store

    try:
        project = load_project(path)
        if not project.store.is_file():
            return []
        with Store(project.store) as store:
            message = source_scope(project, store).warning()
    except MapperError:
        return []
    return [MapperError(message, source=project.store)] if message else []


def _table_problems(data: dict[str, Any], path: Path) -> list[MapperError]:
    """What would cost rows in the project's CSV tables (see :func:`check_table`)."""
    from mapper.collectors.tables import check_table

    sources = data.get("sources")
    found: list[MapperError] = []
    for src in sources if isinstance(sources, list) else []:
        if not isinstance(src, dict) or src.get("type") not in ("edges-csv", "posts-csv"):
            continue
        if not isinstance(src.get("path"), str):
            continue
        for match in sorted(glob.glob(str(path.parent / src["path"]))):
            found.extend(check_table(match, kind=src["type"]))
    return found


def load_project(path: str | Path, *, output: str | Path | None = None) -> Project:
    """Load and validate a project file.

    Parameters
    ----------
    path : str or Path
        The ``mapper.toml`` file.
    output : str or Path, optional
        Overrides the project's output folder (relative to the current directory).

    Returns
    -------
    Project

    Raises
    ------
    ConfigError
        Naming the file and the option, for the first problem found.
    """
    path = Path(path).resolve()
    data = _read_toml(path)
    problems = _problems(data, path)
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.message += f" (and {len(problems) - 1} more problems: run `mapper check`)"
            first.args = (first.one_line(),)
        raise first
    base = path.parent
    proj = data.get("project", {})
    graph = data.get("graph", {})
    factions = data.get("factions", {})
    maps = data.get("maps", {})
    out_dir = Path(output).resolve() if output else (base / proj.get("output", "outputs")).resolve()
    store = (base / proj["store"]).resolve() if proj.get("store") else out_dir / "store.sqlite"
    weights = dict(DEFAULT_WEIGHTS)
    weights.update({k: float(v) for k, v in graph.get("weights", {}).items()})
    return Project(
        path=path,
        name=str(proj.get("name", path.parent.name)),
        roster=(base / proj["roster"]).resolve() if proj.get("roster") else None,
        output=out_dir,
        store=store,
        sources=[Source(s["type"], dict(s), i) for i, s in enumerate(data.get("sources", []), 1)],
        weights=weights,
        min_weight=float(graph.get("min_weight", 0) or 0),
        since=_when(graph.get("since"), source=path, field_name="graph.since"),
        until=_when(graph.get("until"), source=path, field_name="graph.until"),
        kinds=list(graph["kinds"]) if graph.get("kinds") else None,
        drop_provisional=bool(graph.get("drop_provisional", False)),
        largest_component=bool(graph.get("largest_component", False)),
        max_evidence=int(graph.get("max_evidence", 5)),
        faction_method=str(factions.get("method", "leiden")),
        resolution=float(factions.get("resolution", 1.0)),
        runs=int(factions.get("runs", 10)),
        seed=int(factions.get("seed", 42)),
        bridges_top=int(data.get("bridges", {}).get("top", 20)),
        alliances_top=int(data.get("alliances", {}).get("top", 20)),
        node_budget=int(maps.get("node_budget", 1500)),
        focus=[str(f) for f in maps.get("focus", [])],
        formats=list(data.get("exports", {}).get("formats", EXPORT_FORMATS)),
    )
