"""The project file (``mapper.toml``): what to read, how to weigh it, where to write.

A project names a roster, a list of sources, the options of each stage and an output
folder. Every relative path in the file is relative to the file itself, so a project
folder can be moved or shared as a whole (the outputs included: ``output`` defaults to
``outputs`` beside the file). The options are declared once, in :data:`OPTIONS` (and
:data:`SOURCE_OPTIONS` for sources), each with the check its value must pass: an
unknown key, a value of the wrong type, a weight that is not a finite number, an
empty time window, a negative limit are all errors naming the file, the option and its
line. :func:`load_project` raises :class:`~mapper.errors.ConfigError` for the first
problem; :func:`check_project` returns every problem at once for ``mapper check``.
"""

from __future__ import annotations

import difflib
import glob
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from mapper.engine import DEFAULT_PARTITION_MB, ENGINES
from mapper.errors import ConfigError, MapperError
from mapper.records import ACTOR_KINDS, PROVISIONAL_KIND, REFERENCE_KINDS

#: The file a project folder holds.
DEFAULT_FILE = "mapper.toml"

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
    "divisions": "path",
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
    "graph": frozenset({"weight"}),
    "divisions": frozenset({"format", "parliament"}),
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
FACTION_METHODS = ("leiden", "louvain", "leidenalg")
#: Actor kinds ``[graph] kinds`` may keep (the roster's, and provisional actors').
ALL_KINDS = (*ACTOR_KINDS, PROVISIONAL_KIND)


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
    factions: int | None = None
    min_component: int = 5
    significance_samples: int = 20
    bridges_top: int = 20
    alliances_top: int = 20
    node_budget: int = 1500
    focus: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=lambda: list(EXPORT_FORMATS))
    engine: str = "single"
    scheduler: str | None = None
    workers: int | None = None
    partition_mb: int = DEFAULT_PARTITION_MB
    full_graph: bool = False
    export_max_actors: int = 20_000
    export_max_ties: int = 50_000
    timeline_every: str = ""
    timeline_step: str = ""
    timeline_windows: list[str] = field(default_factory=list)

    @property
    def base(self) -> Path:
        """The folder relative paths in the project file are taken from."""
        return self.path.parent if self.path else Path.cwd()

    def source_path(self, source: Source) -> Path:
        """The absolute path a file source names."""
        return (self.base / str(source.options["path"])).resolve()


class _Invalid(Exception):
    """A value the project file cannot hold: the message and, optionally, what to write."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


Check = Callable[[Any], Any]


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | date | time):
        return "a date or time"
    return type(value).__name__


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"must be text, not {_type_name(value)} ({_show(value)})")
    return value


def _nonempty_text(value: Any) -> str:
    text = _text(value)
    if not text.strip():
        raise _Invalid("must not be empty")
    return text


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"must be true or false, not {_show(value)}")
    return value


def _integer(low: int | None = None, high: int | None = None) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(f"must be a whole number, not {_type_name(value)} ({_show(value)})")
        if low is not None and value < low:
            raise _Invalid(f"must be {low} or more, not {value}")
        if high is not None and value > high:
            raise _Invalid(f"must be {high:,} or less, not {value:,}")
        return value

    return check


def _number(low: float | None = None, *, above: bool = False) -> Check:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(f"must be a number, not {_type_name(value)} ({_show(value)})")
        number = float(value)
        if not math.isfinite(number):
            raise _Invalid(f"must be a finite number, not {value}")
        if low is not None and (number <= low if above else number < low):
            raise _Invalid(f"must be {'above' if above else 'at least'} {low:g}, not {value}")
        return number

    return check


def _choice(options: Sequence[str]) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise _Invalid(f"unknown value {_show(value)}", _one_of(str(value), options))
        return value

    return check


def _list_of(item: Check, *, empty_is_none: bool = False) -> Check:
    def check(value: Any) -> list[Any] | None:
        if not isinstance(value, list):
            raise _Invalid(f"must be a list, not {_type_name(value)} ({_show(value)})")
        out = []
        for i, element in enumerate(value, 1):
            try:
                out.append(item(element))
            except _Invalid as exc:
                raise _Invalid(f"item {i}: {exc.message}", exc.hint) from None
        return None if empty_is_none and not out else out

    return check


def _date(value: Any) -> datetime | None:
    """A TOML date or date-time, or ISO text; naive times are taken as UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise _Invalid(f"not a date: {_show(value)}", "write it as 2016-07-01 or 2016-07-01T12:00:00Z")


def _period(value: Any) -> str:
    """A window length such as ``1w``, ``3d`` or ``1m`` (see :mod:`mapper.timeline`)."""
    from mapper.timeline import parse_period

    try:
        return str(parse_period(value if isinstance(value, str) else repr(value)))
    except ConfigError as exc:
        raise _Invalid(exc.message, exc.hint) from None


def _window(value: Any) -> str:
    """One explicit window ``start:end`` (see :func:`mapper.timeline.parse_windows`)."""
    from mapper.timeline import parse_windows

    if not isinstance(value, str):
        raise _Invalid(f"must be text such as '2016-06-01:2016-07-01', not {_show(value)}")
    try:
        parse_windows(value)
    except ConfigError as exc:
        raise _Invalid(exc.message, exc.hint) from None
    return value


def _weights(value: Any) -> dict[str, float]:
    """The weight table merged over the defaults (each entry is checked on its own)."""
    if not isinstance(value, dict):
        raise _Invalid(f"must be a table such as {{ mention = 1.0 }}, not {_show(value)}")
    given = {
        k: float(v)
        for k, v in value.items()
        if k in DEFAULT_WEIGHTS and isinstance(v, int | float) and not isinstance(v, bool)
    }
    return dict(DEFAULT_WEIGHTS) | given


@dataclass(frozen=True)
class Option:
    """One option of the project file: where it is written, how it is checked, and the
    :class:`Project` attribute that receives the checked value (its default when absent).
    """

    section: str
    key: str
    check: Check
    attr: str


#: Every option of the project file outside ``[[sources]]``. Adding an option is one
#: line here plus a field (with its default) on :class:`Project`.
OPTIONS: tuple[Option, ...] = (
    Option("project", "name", _text, "name"),
    Option("project", "roster", _nonempty_text, "roster"),
    Option("project", "output", _nonempty_text, "output"),
    Option("project", "store", _nonempty_text, "store"),
    Option("graph", "weights", _weights, "weights"),
    Option("graph", "min_weight", _number(0), "min_weight"),
    Option("graph", "since", _date, "since"),
    Option("graph", "until", _date, "until"),
    Option("graph", "kinds", _list_of(_choice(ALL_KINDS), empty_is_none=True), "kinds"),
    Option("graph", "drop_provisional", _bool, "drop_provisional"),
    Option("graph", "largest_component", _bool, "largest_component"),
    Option("graph", "max_evidence", _integer(0), "max_evidence"),
    Option("factions", "method", _choice(FACTION_METHODS), "faction_method"),
    Option("factions", "resolution", _number(0, above=True), "resolution"),
    Option("factions", "runs", _integer(1), "runs"),
    Option("factions", "seed", _integer(0, 2**32 - 1), "seed"),
    Option("factions", "factions", _integer(1), "factions"),
    Option("factions", "min_component", _integer(1), "min_component"),
    Option("factions", "significance_samples", _integer(0), "significance_samples"),
    Option("bridges", "top", _integer(0), "bridges_top"),
    Option("alliances", "top", _integer(0), "alliances_top"),
    Option("maps", "node_budget", _integer(1), "node_budget"),
    Option("maps", "focus", _list_of(_nonempty_text), "focus"),
    Option("exports", "formats", _list_of(_choice(EXPORT_FORMATS)), "formats"),
    Option("run", "engine", _choice(ENGINES), "engine"),
    Option("run", "scheduler", _nonempty_text, "scheduler"),
    Option("run", "workers", _integer(1), "workers"),
    Option("run", "partition_mb", _integer(1), "partition_mb"),
    Option("exports", "full_graph", _bool, "full_graph"),
    Option("exports", "max_actors", _integer(1), "export_max_actors"),
    Option("exports", "max_ties", _integer(1), "export_max_ties"),
    Option("timeline", "every", _period, "timeline_every"),
    Option("timeline", "step", _period, "timeline_step"),
    Option("timeline", "windows", _list_of(_window), "timeline_windows"),
)
#: How each option of a ``[[sources]]`` table is checked (options not listed here are
#: taken as they are).
SOURCE_OPTION_CHECKS: dict[str, Check] = {
    "type": _text,
    "path": _nonempty_text,
    "url": _nonempty_text,
    "query": _nonempty_text,
    "handle": _nonempty_text,
    "account": _nonempty_text,
    "urls": _list_of(_nonempty_text),
    "include_referenced": _bool,
    "instance": _nonempty_text,
    "nodes": _nonempty_text,
    "default_kind": _choice(REFERENCE_KINDS),
    "platform": _nonempty_text,
    "archive": _bool,
    "max_posts": _integer(1),
    "token_file": _nonempty_text,
    "depth": _integer(0),
    "allowed_domains": _list_of(_nonempty_text),
    "respect_robots": _bool,
    "weight": _nonempty_text,
    # divisions (mapper.collectors.divisions.FORMATS)
    "format": _choice(("auto", "commons-csv", "commons-json", "table")),
    "parliament": _nonempty_text,
}
#: The sections of the project file (``sources`` is a list of tables).
SECTIONS: tuple[str, ...] = (
    "project",
    "sources",
    *dict.fromkeys(o.section for o in OPTIONS if o.section != "project"),
)


def _one_of(value: str, options: Iterable[str]) -> str:
    """``did you mean 'x'?`` when one option is close to ``value``, else the list."""
    options = list(options)
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"one of: {', '.join(options)}"


# ---------------------------------------------------------------------------- lines


_KEY_PART = r'(?:[A-Za-z0-9_-]+|"[^"\n]*"|\'[^\'\n]*\')'
_KEY_LINE = re.compile(rf"^\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]\]?")


def _key_parts(text: str) -> list[str]:
    parts = re.findall(_KEY_PART, text)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def _key_lines(text: str) -> dict[str, int]:
    """The line of every table header and key of a TOML text, by field name
    (``graph``, ``graph.min_weight``, ``sources[2].path``).

    A line scan, not a parser: it runs on files :mod:`tomllib` accepted, skips the
    inside of multi-line strings, and misses keys it cannot place (the caller then
    reports the problem without a line).
    """
    lines: dict[str, int] = {}
    table = ""
    counts: dict[str, int] = {}
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if in_string is not None:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header:
            name = ".".join(_key_parts(header.group(2)))
            if header.group(1) == "[[":
                counts[name] = counts.get(name, 0) + 1
                name = f"{name}[{counts[name]}]"
            table = name
            lines.setdefault(table, number)
        else:
            key = _KEY_LINE.match(line)
            if key:
                field_name = ".".join(_key_parts(key.group(1)))
                lines.setdefault(f"{table}.{field_name}" if table else field_name, number)
        for quote in ('"""', "'''"):
            if line.count(quote) % 2 == 1:
                in_string = quote
                break
    return lines


def _line_of(lines: Mapping[str, int], field_name: str) -> int | None:
    """The line of ``field_name``, else of the closest enclosing table or key."""
    name = field_name
    while name:
        if name in lines:
            return lines[name]
        cut = max(name.rfind("."), name.rfind("["))
        name = name[:cut] if cut > 0 else ""
    return None


# ----------------------------------------------------------------------- validation


def _problems(
    data: dict[str, Any], path: Path, lines: Mapping[str, int] | None = None
) -> list[ConfigError]:
    """Every problem in a parsed project file, each naming the option (and its line)."""
    out: list[ConfigError] = []
    lines = lines or {}
    base = path.parent

    def bad(field_name: str, message: str, hint: str | None = None) -> None:
        out.append(
            ConfigError(
                message, source=path, line=_line_of(lines, field_name), field=field_name, hint=hint
            )
        )

    known: dict[str, dict[str, Option]] = {}
    for option in OPTIONS:
        known.setdefault(option.section, {})[option.key] = option
    for key in data:
        if key in SECTIONS:
            continue
        home = [o.section for o in OPTIONS if o.key == key]
        hint = f"put it under [{home[0]}]" if home else _one_of(key, SECTIONS)
        bad(key, "unknown section" if isinstance(data[key], dict) else "not in a section", hint)
    for section, options in known.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            bad(section, f"must be a table ([{section}]), not {_type_name(table)}")
            continue
        for key, value in table.items():
            option = options.get(key)
            if option is None:
                bad(f"{section}.{key}", "unknown option", _one_of(key, options))
                continue
            try:
                option.check(value)
            except _Invalid as exc:
                bad(f"{section}.{key}", exc.message, exc.hint)
    _check_weights(data.get("graph"), bad)
    _check_window(data.get("graph"), bad)
    _check_paths(data.get("project"), base, bad)
    sources = data.get("sources", [])
    if not isinstance(sources, list):
        bad("sources", "must be a list of [[sources]] tables")
        sources = []
    for i, src in enumerate(sources, 1):
        _check_source(i, src, base, bad)
    # in the order of the file (problems without a line last)
    return sorted(out, key=lambda e: e.line if e.line is not None else math.inf)


Bad = Callable[..., None]
_RELATIVE = "paths are relative to the project file"


def _check_weights(graph: Any, bad: Bad) -> None:
    weights = graph.get("weights") if isinstance(graph, dict) else None
    if not isinstance(weights, dict):
        return
    for key, value in weights.items():
        if key not in DEFAULT_WEIGHTS:
            bad(f"graph.weights.{key}", "unknown reference kind", _one_of(key, DEFAULT_WEIGHTS))
            continue
        try:
            _number(0)(value)
        except _Invalid as exc:
            bad(f"graph.weights.{key}", exc.message, exc.hint)


def _check_window(graph: Any, bad: Bad) -> None:
    if not isinstance(graph, dict):
        return
    try:
        since, until = _date(graph.get("since", "")), _date(graph.get("until", ""))
    except _Invalid:
        return  # reported with the option
    if since is not None and until is not None and since >= until:
        bad(
            "graph.until",
            f"the window is empty: until ({until.isoformat()}) is not after "
            f"since ({since.isoformat()})",
            "until is exclusive: posts at or after it are left out",
        )


def _check_paths(project: Any, base: Path, bad: Bad) -> None:
    if not isinstance(project, dict):
        return
    roster = project.get("roster")
    if isinstance(roster, str) and roster.strip():
        where = base / roster
        if not where.exists():
            bad(
                "project.roster",
                f"no roster at {roster!r}",
                "paths are relative to the project file",
            )
        elif where.is_dir():
            bad("project.roster", f"{roster!r} is a folder", "name the roster's CSV or YAML file")
    output = project.get("output")
    if isinstance(output, str) and output.strip() and (base / output).is_file():
        bad(
            "project.output", f"{output!r} is a file, not a folder", "name a folder for the outputs"
        )
    store = project.get("store")
    if isinstance(store, str) and store.strip() and (base / store).is_dir():
        bad("project.store", f"{store!r} is a folder", "name the store's file, e.g. store.sqlite")


def _check_source(i: int, src: Any, base: Path, bad: Bad) -> None:
    where = f"sources[{i}]"
    if not isinstance(src, dict) or "type" not in src:
        bad(where, "needs a type", f"one of: {', '.join(SOURCE_TYPES)}")
        return
    kind = src["type"]
    if not isinstance(kind, str) or kind not in SOURCE_TYPES:
        bad(f"{where}.type", f"unknown source type {_show(kind)}", _one_of(str(kind), SOURCE_TYPES))
        return
    need = SOURCE_TYPES[kind]
    if kind == "feed" and "url" in src:
        need = "url"
    allowed = SOURCE_OPTIONS[kind] | {"type", SOURCE_TYPES[kind]}
    for key, value in src.items():
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed - {"type"}, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            hint += f"{kind} takes: {', '.join(sorted(allowed - {'type'}))}"
            bad(f"{where}.{key}", "unknown option", hint)
            continue
        check = SOURCE_OPTION_CHECKS.get(key)
        if check is not None:
            try:
                check(value)
            except _Invalid as exc:
                bad(f"{where}.{key}", exc.message, exc.hint)
    if need not in src:
        bad(f"{where}.{need}", f"a {kind} source needs {need} = ...")
    elif (
        need == "path"
        and isinstance(src["path"], str)
        and src["path"].strip()
        and not glob.glob(str(base / src["path"]))
    ):
        bad(f"{where}.path", f"no file matches {src['path']!r}", _RELATIVE)
    nodes = src.get("nodes")
    if isinstance(nodes, str) and nodes.strip() and not (base / nodes).is_file():
        bad(f"{where}.nodes", f"no file at {nodes!r}", _RELATIVE)


def _no_sources(path: Path | None) -> ConfigError:
    return ConfigError(
        "the project lists no sources",
        source=path,
        field="sources",
        hint="add a [[sources]] table (the project file has commented examples)",
    )


def project_file(path: str | Path) -> Path:
    """The project file ``path`` names: the file itself, or ``mapper.toml`` inside a folder.

    Raises
    ------
    ConfigError
        When there is no such file, or the folder holds no ``mapper.toml``.
    """
    path = Path(path)
    if path.is_dir():
        inside = path / DEFAULT_FILE
        if not inside.is_file():
            raise ConfigError(
                f"is a folder without a {DEFAULT_FILE}",
                source=path,
                hint="name the project file, or create one with `mapper init FOLDER`",
            )
        return inside
    if not path.exists():
        raise ConfigError(
            "no such project file", source=path, hint="create one with `mapper init DIR`"
        )
    return path


_TOML_AT = re.compile(r"\s*\(at line (\d+), column \d+\)\s*$")


def _read_toml(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    """The parsed file and the line of each of its keys."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", source=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", source=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_AT.search(message)
        line = int(found.group(1)) if found else None
        raise ConfigError(
            f"not valid TOML: {_TOML_AT.sub('', message)}", source=path, line=line
        ) from None
    except RecursionError:
        raise ConfigError(
            "not usable: values are nested too deeply",
            source=path,
            hint="a project file needs tables, lists and plain values only",
        ) from None
    return data, _key_lines(text)


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

    ``path`` may be the file or a folder holding ``mapper.toml``. The roster (and its
    ``issues.csv``) is checked too when the project names one, and so are the CSV
    tables listed as ``edges-csv`` and ``posts-csv`` sources (an unterminated quote, a
    record too long, a missing column: each with file and line) and the division files
    (what their import would set aside). Unknown columns, a
    project without sources and ``[maps] focus`` ids the roster does not hold are
    warnings; everything else is an error.
    """
    try:
        path = project_file(path)
        data, lines = _read_toml(path)
    except ConfigError as exc:
        return [Problem(exc)]
    problems = [Problem(p) for p in _problems(data, path, lines)]
    from mapper.sources import source_file_problems

    problems.extend(Problem(p, severity) for p, severity in source_file_problems(data, path))
    if not data.get("sources"):
        problems.append(Problem(_no_sources(path), "warning"))
    project = data.get("project")
    roster = project.get("roster") if isinstance(project, dict) else None
    if isinstance(roster, str) and roster.strip() and (path.parent / roster).is_file():
        from mapper.resolve.roster import load_roster, validate_roster

        found = validate_roster(path.parent / roster)
        problems.extend(Problem(p.to_error(), "error" if p.is_error else "warning") for p in found)
        if not any(p.is_error for p in found):
            ids = set(load_roster(path.parent / roster).actors)
            problems.extend(
                Problem(p, "warning") for p in _unknown_focus(data.get("maps"), ids, path, lines)
            )
    problems.extend(Problem(e) for e in _table_problems(data, path))
    if not any(p.is_error for p in problems):
        problems.extend(Problem(w, "warning") for w in _unlisted_in_store(path))
    return problems


def _unknown_focus(
    maps: Any, ids: set[str], path: Path, lines: Mapping[str, int]
) -> list[ConfigError]:
    """``[maps] focus`` entries that are not roster ids (provisional ids such as
    ``x:handle`` are left to the run, which says when they are not in the network)."""
    focus = maps.get("focus") if isinstance(maps, dict) else None
    if not isinstance(focus, list):
        return []
    return [
        ConfigError(
            f"no actor {actor!r} in the roster: its focus map will not be drawn",
            source=path,
            line=_line_of(lines, "maps.focus"),
            field="maps.focus",
            hint=_one_of(actor, sorted(ids)) if ids else "the roster is empty",
        )
        for actor in focus
        if isinstance(actor, str) and actor not in ids and ":" not in actor
    ]


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
    from mapper.collectors.base import wide_encoding
    from mapper.collectors.divisions import FORMATS, check_division_file
    from mapper.collectors.tables import check_table

    sources = data.get("sources")
    found: list[MapperError] = []
    for src in sources if isinstance(sources, list) else []:
        kind = src.get("type") if isinstance(src, dict) else None
        if kind not in ("edges-csv", "posts-csv", "divisions"):
            continue
        if not isinstance(src.get("path"), str):
            continue
        for match in sorted(glob.glob(str(path.parent / src["path"]))):
            try:
                with open(match, "rb") as fh:
                    head = fh.read(256)
            except OSError:
                continue  # a folder or an unreadable file: said by the file check
            if not head.strip():
                continue  # an empty file: said once, by the file check
            if kind != "divisions":
                found.extend(check_table(match, kind=kind))
                continue
            fmt, house = src.get("format", "auto"), src.get("parliament")
            if not (Path(match).is_file() and fmt in FORMATS and isinstance(house, str | None)):
                continue
            if wide_encoding(head) is None:  # else said by the file check
                found.extend(check_division_file(match, format=fmt, parliament=house))
    return found


def own_outputs(project: Project, source: Source, found: list[Path]) -> list[Path]:
    """The files of ``found`` inside the project's output folder, when the pattern
    reaches them only through a wildcard (``*/edges.csv`` also matches the
    ``outputs/edges.csv`` a run writes): reading them would feed a run's own exports
    back in as sources. A pattern that names the output folder itself (an archive
    collected into ``outputs/archives``) keeps them."""
    out = project.output.resolve()
    pattern = project.source_path(source)
    literal = Path(pattern.anchor)
    for part in pattern.parts[1:]:
        if glob.has_magic(part):
            break
        literal = literal / part
    if literal == out or out in literal.parents:
        return []
    return [p for p in found if out in p.resolve().parents and not p.is_dir()]


def load_project(path: str | Path, *, output: str | Path | None = None) -> Project:
    """Load and validate a project file.

    Parameters
    ----------
    path : str or Path
        The ``mapper.toml`` file, or a folder holding one.
    output : str or Path, optional
        Overrides the project's output folder (relative to the current directory).
        Without it the outputs go to ``[project] output``, relative to the project
        file (default ``outputs`` beside it).

    Returns
    -------
    Project

    Raises
    ------
    ConfigError
        Naming the file, the option and its line, for the first problem found.
    """
    path = project_file(path).resolve()
    data, lines = _read_toml(path)
    problems = _problems(data, path, lines)
    if problems:
        first = problems[0]
        if len(problems) > 1:
            first.message += f" (and {len(problems) - 1} more problems: run `mapper check`)"
            first.args = (first.one_line(),)
        raise first
    base = path.parent
    values: dict[str, Any] = {}
    for option in OPTIONS:
        section = data.get(option.section, {})
        if option.key in section:
            values[option.attr] = option.check(section[option.key])
    written = values.pop("output", "outputs")
    out_dir = (Path(output) if output else base / written).resolve()
    if out_dir.is_file():
        raise ConfigError(
            "is a file, not a folder",
            source=out_dir,
            field="--out" if output else "project.output",
            hint="name a folder for the outputs",
        )
    store = values.pop("store", None)
    roster = values.pop("roster", None)
    return Project(
        path=path,
        name=values.pop("name", base.name),
        roster=(base / roster).resolve() if roster else None,
        output=out_dir,
        store=(base / store).resolve() if store else out_dir / "store.sqlite",
        sources=[Source(s["type"], dict(s), i) for i, s in enumerate(data.get("sources", []), 1)],
        **values,
    )
