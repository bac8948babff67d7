"""Write the actor graph to the files other tools open: GEXF (Gephi), GraphML (igraph,
Cytoscape, yEd), node-link JSON (networkx, D3), CSV and Parquet tables (spreadsheets,
pandas, DuckDB).

networkx's writers fail, or worse write files that do not read back, on values a real
graph carries: ``None``, lists, dicts, sets, datetimes, numpy scalars, mixed types
under one key, control characters in display names, attribute names the formats
reserve (see ``PITFALLS.md``). Every writer here therefore goes through
:func:`sanitize_graph`, which returns a clean copy (the input is never mutated), and
every file is written atomically through :mod:`mapper.fsutil`. Table cells are
neutralised against spreadsheet formula injection. Failures raise
:class:`~mapper.errors.ExportError` naming the file.
"""

from __future__ import annotations

import csv
import json
import math
import operator
import re
import sys
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as dtime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from mapper.errors import ExportError, MapperError
from mapper.fsutil import atomic_open, atomic_path
from mapper.graph.build import gc_paused
from mapper.graph.evidence import IN_TABLE, evidence_table
from mapper.records import REFERENCE_KINDS, utc
from mapper.render.layout import OTHER_COLOUR as _OTHER_COLOUR
from mapper.render.layout import PALETTE as _MAP_PALETTE

__all__ = [
    "EDGE_RENAMES",
    "FORMATS",
    "GRAPH_FILE_FORMATS",
    "GRAPH_FILE_MAX_ACTORS",
    "GRAPH_FILE_MAX_TIES",
    "GRAPH_RENAMES",
    "NODE_RENAMES",
    "PALETTE",
    "GraphFileReduction",
    "clean_text",
    "export_all",
    "export_node_ids",
    "graph_file_reduction",
    "neutralize_cell",
    "restore_cell",
    "sanitize_graph",
    "write_csv",
    "write_gexf",
    "write_graphml",
    "write_json",
    "write_parquet",
    "write_rows_csv",
]

#: Formats :func:`sanitize_graph` prepares for, and :func:`export_all` writes.
FORMATS: tuple[str, ...] = ("gexf", "graphml", "json", "csv", "parquet")

#: Node attribute names some format consumes or reserves, and what they become. The
#: same renames apply to every format, so a column has one name in every export.
#: (``id``: the GEXF node id, igraph's GraphML vertex id, the node-link and CSV id;
#: ``pid``, ``start``, ``end``, ``spells``, ``slices``, ``parents``: GEXF structure;
#: ``key``, ``networkx_key``: the GEXF writer renames any ``key`` to ``networkx_key``;
#: ``node_for_adding``: the networkx readers call ``add_node(id, **attributes)``.)
#: ``label`` is kept: it is the GEXF node label. ``viz`` is renamed in GEXF only,
#: where :func:`sanitize_graph` writes Gephi's visual attributes there.
NODE_RENAMES: Mapping[str, str] = {
    "id": "actor_id",
    "pid": "attr_pid",
    "start": "attr_start",
    "end": "attr_end",
    "spells": "attr_spells",
    "slices": "attr_slices",
    "parents": "attr_parents",
    "key": "attr_key",
    "networkx_key": "attr_networkx_key",
    "node_for_adding": "attr_node_for_adding",
}

#: Edge attribute names some format consumes or reserves (GEXF: ``id``, ``label``,
#: ``type``, ``start``, ``end``, ``spells``, ``slices``, ``viz``, ``networkx_key``;
#: GraphML and node-link: ``key``; node-link and CSV: ``source``, ``target``; the
#: networkx readers call ``add_edge(u, v, **attributes)``, so its parameter names
#: ``u_of_edge``, ``v_of_edge``, ``u_for_edge``, ``v_for_edge`` too).
#: ``weight`` is kept and always a float.
EDGE_RENAMES: Mapping[str, str] = {
    "id": "edge_id",
    "label": "edge_label",
    "key": "edge_key",
    "type": "edge_type",
    "source": "attr_source",
    "target": "attr_target",
    "start": "attr_start",
    "end": "attr_end",
    "spells": "attr_spells",
    "slices": "attr_slices",
    "viz": "attr_viz",
    "networkx_key": "attr_networkx_key",
    "u_of_edge": "attr_u_of_edge",
    "v_of_edge": "attr_v_of_edge",
    "u_for_edge": "attr_u_for_edge",
    "v_for_edge": "attr_v_for_edge",
}

#: Graph attribute names the writers consume (GraphML: ``id``; GEXF: ``mode``; both
#: read ``node_default``/``edge_default`` as attribute defaults).
GRAPH_RENAMES: Mapping[str, str] = {
    "id": "attr_id",
    "mode": "attr_mode",
    "node_default": "attr_node_default",
    "edge_default": "attr_edge_default",
}


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


#: Group colours for Gephi: the same palette as the HTML maps and images
#: (:data:`mapper.render.layout.PALETTE`, by group size rank), as RGB tuples.
PALETTE: tuple[tuple[int, int, int], ...] = tuple(_hex_rgb(c) for c in _MAP_PALETTE)
#: Colour of actors with no group and of groups beyond the palette (as on the maps).
_NO_FACTION_COLOUR = _hex_rgb(_OTHER_COLOUR)
_SIZE_RANGE = (5.0, 50.0)
_DEFAULT_SIZE = 10.0

# Characters XML 1.0 cannot carry (and lone surrogates, which cannot be encoded).
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_UNENCODABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
_FORMULA_START = frozenset("=+-@\t\r'")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_INT64 = (-(2**63), 2**63 - 1)
_EXACT_FLOAT_INT = 2**53
_SMALLEST_NORMAL = sys.float_info.min
_CLASSES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    datetime: "datetime",
    list: "json",
    dict: "json",
}

NODE_COLUMNS: tuple[str, ...] = (
    "label",
    "kind",
    "party",
    "declared_faction",
    "faction",
    "faction_name",
    "provisional",
    "influence",
    "x",
    "bluesky",
    "mastodon",
)
EDGE_COLUMNS: tuple[str, ...] = ("weight", "count", *REFERENCE_KINDS, "first", "last")
EVIDENCE_COLUMNS: tuple[str, ...] = ("source", "target", "post", "type", "url", "time", "snippet")


# ---------------------------------------------------------------------------
# Text and value cleaning


def clean_text(text: str) -> str:
    """Remove what XML cannot carry: control characters ``[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]``,
    lone surrogates and the non-characters U+FFFE and U+FFFF. Tab, line feed and
    carriage return stay."""
    return _BAD_CHARS.sub("", text)


def _json_key(key: Any) -> str:
    """A dict key as JSON makes it: str as is, numbers, booleans and None as JSON."""
    if isinstance(key, str):
        return _clean_nested(str(key))
    if isinstance(key, np.generic):
        key = key.item()
    if key is None or isinstance(key, bool | int | float):
        return json.dumps(key)
    return _clean_nested(str(key))


def _clean_nested(text: str) -> str:
    """Text inside a JSON value: JSON escapes control characters itself, so only what
    UTF-8 or XML cannot carry at all (lone surrogates, U+FFFE, U+FFFF) is removed."""
    return _UNENCODABLE.sub("", text)


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: str keys, lists, finite numbers (NaN and
    infinities become null), ISO times, sets sorted."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return _clean_nested(str(value))
    if isinstance(value, Mapping):
        return {_json_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return _jsonable(_json_default(value))


def _json_default(value: Any) -> Any:
    """``json.dumps``'s fallback for the types it does not know."""
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date | dtime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True))
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, Decimal | Fraction):
        return float(value)
    return str(value)


def _json_text(value: Any) -> str:
    """``value`` as one line of JSON text that XML, CSV and Parquet can carry.

    The C encoder does the work; values it refuses (NaN, tuple keys) go through
    :func:`_jsonable` first. Both give the same text.
    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=_json_default)
    except (TypeError, ValueError):
        return json.dumps(_jsonable(value), ensure_ascii=False, allow_nan=False)
    return _clean_nested(text)


def _finite(value: float) -> float | None:
    """A finite float, subnormals flushed to zero (igraph's GraphML reader rejects
    them as an overflow), or ``None`` for NaN and infinities."""
    if not math.isfinite(value):
        return None
    return 0.0 if abs(value) < _SMALLEST_NORMAL else value


def _as_weight(value: Any) -> float | None:
    """An edge weight as a finite float, or ``None`` when it is not one."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int | float | Decimal | Fraction | str):
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
        return _finite(number)
    return None


# ---------------------------------------------------------------------------
# Keys and ids


@dataclass(frozen=True)
class _Generated:
    """An attribute key :func:`sanitize_graph` adds (``original_id``), kept apart from
    every key of the input graph until names are assigned."""

    name: str


def _key_names(
    keys: Iterable[Hashable], renames: Mapping[str, str], generated: Iterable[str] = ()
) -> dict[Hashable, str]:
    """Map original attribute keys (and generated ones) to unique, clean, safe names.

    Keys that are already clean str and not reserved keep their name; the others
    (renamed, cleaned, non-str) come next in first-seen order, then ``generated``;
    a name already taken gets ``_2``, ``_3``... appended.
    """
    ordered = list(dict.fromkeys(keys))
    names: dict[Hashable, str] = {}
    used: set[str] = set()
    for key in ordered:
        if type(key) is str and key not in renames and key and clean_text(key) == key:
            names[key] = key
            used.add(key)
    pending: list[tuple[Hashable, str]] = []
    for key in ordered:
        if key in names and names[key] == key and type(key) is str:
            continue
        text = clean_text(key if isinstance(key, str) else str(key))
        pending.append((key, renames.get(text, text) or "attr"))
    pending.extend((_Generated(name), name) for name in generated)
    for key, base in pending:
        name, i = base, 2
        while name in used:
            name = f"{base}_{i}"
            i += 1
        names[key] = name
        used.add(name)
    return names


def export_node_ids(G: nx.Graph) -> dict[Hashable, str]:
    """The id every export gives each node of ``G``.

    A node id that is a ``str`` free of control characters is kept. Any other id (an
    int, a numpy scalar, a str with characters XML cannot carry) becomes its cleaned
    text, with ``~2``, ``~3``... appended if that text is already an id; an empty
    result becomes ``node``. The mapping is the same in every format, and
    :func:`sanitize_graph` keeps the original's ``repr`` in ``original_id``.

    Returns
    -------
    dict
        Original node -> export id (a one-to-one mapping).
    """
    ids: dict[Hashable, str] = {}
    used: set[str] = set()
    pending: list[Hashable] = []
    for node in G:
        if type(node) is str and node and clean_text(node) == node:
            ids[node] = node
            used.add(node)
        else:
            pending.append(node)
    for node in pending:
        if isinstance(node, np.generic):
            text = str(node.item())
        else:
            text = node if isinstance(node, str) else str(node)
        base = clean_text(text) or "node"
        candidate, i = base, 2
        while candidate in used:
            candidate = f"{base}~{i}"
            i += 1
        ids[node] = candidate
        used.add(candidate)
    return ids


# ---------------------------------------------------------------------------
# Columnar sanitizing
#
# The sanitizer works column by column (one attribute key over all nodes, or all
# edges): a column of one plain type is checked with a few C-level passes and reused
# as it is, and only the unusual values go through :func:`_neutral_value` one by
# one. It runs once per graph in two steps: a format-neutral pass (:func:`_neutral`:
# values cleaned, datetimes kept as UTC datetimes, lists and dicts wrapped in a
# lazily encoded :class:`_Json`) and a cheap per-format view (:func:`_view`: the
# datetimes and JSON values each format wants, then one type per key). The writers
# read the columns directly; :func:`sanitize_graph` builds a graph from them.

_NoneType = type(None)
_PLAIN_CLASS: dict[type, str] = {str: "str", int: "int", float: "float", bool: "bool"}
_PLAIN = frozenset(_PLAIN_CLASS)


class _Json:
    """A list, tuple, set, dict or array value, JSON-encoded only when asked."""

    __slots__ = ("_text", "raw")

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._text: str | None = None

    def text(self) -> str:
        """The value as one line of JSON text (:func:`_json_text`)."""
        if self._text is None:
            self._text = _json_text(self.raw)
        return self._text

    def data(self) -> Any:
        """The value as JSON data: ``json.loads(self.text())``, built directly when
        the value is a list of flat dicts or a flat dict of plain values."""
        value = _simple_json(self.raw)
        return json.loads(self.text()) if value is _NOT_SIMPLE else value


_NOT_SIMPLE = object()


def _nested_str(text: str) -> str:
    return text if text.isascii() else _UNENCODABLE.sub("", text)


def _simple_scalar(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value if value.isascii() else _UNENCODABLE.sub("", value)
    if value is None or kind is bool or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else _NOT_SIMPLE
    if kind is datetime:
        return (value if value.tzinfo is UTC else utc(value)).isoformat()
    return _NOT_SIMPLE


def _simple_dict(value: dict) -> Any:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str:
            return _NOT_SIMPLE
        kind = type(item)
        if kind is str:
            if not item.isascii():
                item = _UNENCODABLE.sub("", item)
        elif kind is datetime:
            item = (item if item.tzinfo is UTC else utc(item)).isoformat()
        elif not (item is None or kind is int or kind is bool):
            item = _simple_scalar(item)
            if item is _NOT_SIMPLE:
                return _NOT_SIMPLE
        out[key if key.isascii() else _UNENCODABLE.sub("", key)] = item
    return out


def _simple_json(value: Any) -> Any:
    """``json.loads(_json_text(value))`` for the common shapes (the evidence list, the
    topics dict), without the text; :data:`_NOT_SIMPLE` for anything else."""
    if type(value) is dict:
        return _simple_dict(value)
    if type(value) is not list:
        return _NOT_SIMPLE
    out: list[Any] = []
    for item in value:
        item = _simple_dict(item) if type(item) is dict else _simple_scalar(item)
        if item is _NOT_SIMPLE:
            return _NOT_SIMPLE
        out.append(item)
    return out


def _neutral_value(value: Any) -> Any:
    """One value, cleaned for every format (see :func:`sanitize_graph`), except that
    datetimes stay (aware UTC) datetimes and containers become :class:`_Json`, which
    each format converts its own way. ``None``: drop it."""
    kind = type(value)
    if kind is str:
        return value if value.isprintable() else _BAD_CHARS.sub("", value)
    if kind is float:
        return _finite(value)
    if kind is bool:
        return value
    if kind is int:
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if value is None:
            return None
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        value = int(value)
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if isinstance(value, float):
        return _finite(float(value))
    if isinstance(value, str):
        return clean_text(str(value))
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, date | dtime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return clean_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, Decimal | Fraction):
        return _finite(float(value))
    if isinstance(value, Mapping | list | tuple | set | frozenset | np.ndarray):
        return _Json(value)
    return clean_text(str(value))


def _neutral_column(values: list[Any], *, weight: bool = False) -> list[Any]:
    """Clean one column (``None`` where a value is missing or dropped).

    Columns of one plain type that need no change are returned as they are."""
    kinds = set(map(type, values))
    if weight:
        if kinds == {float}:
            finite = all(map(math.isfinite, values))
            if finite and (not values or min(map(abs, values)) >= _SMALLEST_NORMAL):
                return values
        return [None if v is None else _as_weight(v) for v in values]
    has_none = _NoneType in kinds
    kinds.discard(_NoneType)
    if len(kinds) == 1:
        kind = next(iter(kinds))
        present = [v for v in values if v is not None] if has_none else values
        if kind is str and all(map(str.isprintable, present)):
            return values
        if kind is bool:
            return values
        if kind is int and (not present or _INT64[0] <= min(present) <= max(present) <= _INT64[1]):
            return values
        if (
            kind is float
            and all(map(math.isfinite, present))
            and (not present or min(map(abs, present)) >= _SMALLEST_NORMAL)
        ):
            return values
        if kind is datetime and all(v.tzinfo is UTC for v in present):
            return values  # already what utc() makes of them
        if kind is list or kind is dict:
            return [None if v is None else _Json(v) for v in values]
    return [None if v is None else _neutral_value(v) for v in values]


@dataclass
class _Columns:
    """Format-neutral columns of a list of attribute dicts (all nodes, or all edges)."""

    size: int
    keys: list[Hashable]
    values: dict[Hashable, list[Any]]
    generated: list[str]


def _neutral(
    records: list[Mapping[Hashable, Any]],
    *,
    extras: Mapping[str, list[Any]] | None = None,
    float_keys: Iterable[str] = (),
    lazy: Iterable[str] = (),
) -> _Columns:
    """Split ``records`` into cleaned columns; ``extras`` are generated columns
    (``original_id``), named after every key of the records. Keys in ``lazy`` keep
    their raw values, for the caller to clean (the evidence held in a table)."""
    floats = set(float_keys)
    later = set(lazy)
    values: dict[Hashable, list[Any]] = {}
    raw = _same_keys_columns(records)  # every record has the same keys (edges do)
    keys = list(raw) if raw is not None else list(dict.fromkeys(k for rec in records for k in rec))
    for key in keys:
        column = raw[key] if raw is not None else [rec.get(key) for rec in records]
        if type(key) is str and key in later:
            values[key] = list(column)
            continue
        is_weight = type(key) is str and key in floats
        values[key] = _neutral_column(column, weight=is_weight)
    generated = list(extras or {})
    for name, column in (extras or {}).items():
        values[_Generated(name)] = _neutral_column(list(column))
    return _Columns(len(records), keys, values, generated)


def _same_keys_columns(records: list[Mapping[Hashable, Any]]) -> dict[Hashable, list[Any]] | None:
    """The records as columns, transposed at C speed, when every record is a dict
    with the keys of the first (the keys in its order); else ``None``."""
    if not records or type(records[0]) is not dict:
        return None
    first = records[0]
    keys = first.keys()
    if not keys or not all(type(rec) is dict and rec.keys() == keys for rec in records):
        return None
    order = list(first)
    if len(order) == 1:
        return {order[0]: [rec[order[0]] for rec in records]}
    getter = operator.itemgetter(*order)
    return {
        key: list(column)
        for key, column in zip(order, zip(*map(getter, records), strict=True), strict=True)
    }


@dataclass(frozen=True)
class _Column:
    """One sanitized column of one format: its name, its single type (``bool``,
    ``int``, ``float``, ``str``, ``datetime`` for Parquet, ``json`` for node-link
    JSON) and its values, ``None`` where a row has no value."""

    name: str
    cls: str
    values: list[Any]


def _class_of(kind: type, fmt: str) -> str:
    """The class, in ``fmt``, of the neutral values of type ``kind``."""
    plain = _PLAIN_CLASS.get(kind)
    if plain is not None:
        return plain
    if kind is _Json:
        return "json" if fmt == "json" else "str"
    if issubclass(kind, datetime):
        return "datetime" if fmt == "parquet" else "str"
    return "str"


def _in_format(value: Any, fmt: str) -> Any:
    """A neutral value as ``fmt`` carries it (its class being :func:`_class_of`)."""
    kind = type(value)
    if kind is _Json:
        return value.data() if fmt == "json" else value.text()
    if kind not in _PLAIN and isinstance(value, datetime) and fmt != "parquet":
        return value.isoformat()
    return value


def _text_of(value: Any) -> str:
    """A neutral value as text, for a key whose values have mixed types."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        return repr(value)
    if kind is _Json:
        return value.text()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _view(
    cols: _Columns,
    renames: Mapping[str, str],
    fmt: str,
    *,
    drop: Iterable[str] = (),
    skip: Iterable[str] = (),
    cache: dict[tuple[int, str], list[Any]] | None = None,
    iso: dict[int, str] | None = None,
) -> list[_Column]:
    """The columns ``fmt`` writes: keys in ``drop`` left out before naming, names in
    ``skip`` after; each key of one type (int with float becomes float when every
    int is exact, any other mix becomes text for everyone); empty columns left out.

    ``cache`` keeps converted columns (datetimes and JSON as text) for the next
    format's view of the same columns; ``iso`` remembers the text of every datetime
    object (see :func:`_iso_column`)."""
    dropped = set(drop)
    keys = [k for k in cols.keys if not (isinstance(k, str) and k in dropped)]
    names = _key_names(keys, renames, cols.generated)
    skipped = set(skip)
    out: list[_Column] = []
    for key in [*keys, *(_Generated(g) for g in cols.generated)]:
        name = names[key]
        if name in skipped:
            continue
        values = cols.values[key]
        kinds = set(map(type, values))
        kinds.discard(_NoneType)
        if not kinds:
            continue
        if len(kinds) == 1 and kinds <= _PLAIN:
            out.append(_Column(name, _PLAIN_CLASS[kinds.pop()], values))
            continue
        classes = {_class_of(kind, fmt) for kind in kinds}
        if len(classes) == 1:
            cls = classes.pop()
            if cls in ("datetime", "json") or kinds <= _PLAIN:
                # JSON values stay _Json: the JSON writer serializes the common
                # shapes directly (see _json_ready); _rows() converts the rest.
                out.append(_Column(name, cls, values))
                continue
            slot = (id(values), cls)
            converted = cache.get(slot) if cache is not None else None
            if converted is None:
                if all(issubclass(kind, datetime) for kind in kinds):
                    converted = _iso_column(values, iso if iso is not None else {})
                else:
                    converted = [None if v is None else _in_format(v, fmt) for v in values]
                if cache is not None:
                    cache[slot] = converted
            out.append(_Column(name, cls, converted))
            continue
        want = "float" if classes == {"int", "float"} else "str"
        if want == "float" and any(type(v) is int and abs(v) > _EXACT_FLOAT_INT for v in values):
            want = "str"
        if want == "float":
            converted = [None if v is None else float(v) for v in values]
        else:
            converted = [None if v is None else _text_of(v) for v in values]
        out.append(_Column(name, want, converted))
    return out


def _iso_column(values: list[Any], memo: dict[int, str]) -> list[str | None]:
    """Datetimes as ISO text; one ``isoformat()`` per distinct object (an edge's
    ``first`` is often its ``last``, and both are post times), remembered in ``memo``
    by id (the objects outlive it)."""
    out: list[str | None] = []
    append = out.append
    get = memo.get
    for value in values:
        if value is None:
            append(None)
            continue
        text = get(id(value))
        if text is None:
            text = memo[id(value)] = value.isoformat()
        append(text)
    return out


def _rows(size: int, columns: list[_Column]) -> list[dict[str, Any]]:
    """The columns as one dict per row (missing values left out; :class:`_Json`
    values as JSON data)."""
    rows: list[dict[str, Any]] = [{} for _ in range(size)]
    for column in columns:
        name = column.name
        if column.cls == "json":
            for row, value in zip(rows, column.values, strict=True):
                if value is not None:
                    row[name] = value.data() if type(value) is _Json else value
            continue
        for row, value in zip(rows, column.values, strict=True):
            if value is not None:
                row[name] = value
    return rows


def _sanitize_records(
    records: list[Mapping[Hashable, Any]],
    renames: Mapping[str, str],
    fmt: str,
    *,
    float_keys: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Clean a list of attribute dicts together (see :func:`sanitize_graph`)."""
    cols = _neutral(records, float_keys=float_keys)
    return _rows(len(records), _view(cols, renames, fmt))


# ---------------------------------------------------------------------------
# Gephi visual attributes


def _rgb(value: Any) -> tuple[int, int, int, float] | None:
    """Parse a colour: ``#rrggbb``, ``#rgb``, ``(r, g, b[, a])`` or ``{"r", "g", "b"[, "a"]}``."""
    if isinstance(value, str):
        match = _HEX_COLOUR.fullmatch(value.strip())
        if not match:
            return None
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16), 1.0
    if isinstance(value, Mapping):
        parts = [value.get("r"), value.get("g"), value.get("b"), value.get("a", 1.0)]
    elif isinstance(value, list | tuple) and len(value) in (3, 4):
        parts = [*value, 1.0] if len(value) == 3 else list(value)
    else:
        return None
    numbers = []
    for part in parts:
        if isinstance(part, np.generic):
            part = part.item()
        if isinstance(part, bool) or not isinstance(part, int | float) or not math.isfinite(part):
            return None
        numbers.append(part)
    r, g, b, a = numbers
    if not all(0 <= c <= 255 for c in (r, g, b)) or not 0 <= a <= 1:
        return None
    return int(r), int(g), int(b), float(a)


def _real(value: Any) -> float | None:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _group_colours(G: nx.Graph) -> dict[Hashable, tuple[int, int, int]]:
    """Every node's fill colour on the HTML maps and images (one palette for all)."""
    from mapper.render.layout import group_nodes

    grouping = group_nodes(G)
    colours: dict[int, tuple[int, int, int]] = {}
    result: dict[Hashable, tuple[int, int, int]] = {}
    for node, group in grouping.of_node.items():
        colour = colours.get(group)
        if colour is None:
            parsed = _rgb(grouping.colour(group))
            colour = colours[group] = parsed[:3] if parsed else _NO_FACTION_COLOUR
        result[node] = colour
    return result


def _viz(G: nx.Graph, only: list[Hashable] | None = None) -> dict[Hashable, dict[str, Any]]:
    """Gephi ``viz`` dicts for every node of ``G`` (or of ``only``), in that order.

    With ``only`` (the actors of a reduced graph file), colours and the size scale
    are still those of the whole graph ``G``, so a reduced file looks like the maps.

    Colour: the node's ``color`` attribute when it parses (hex string, RGB(A)
    tuple or dict), else its group's colour on the maps: groups are the ``faction``
    (else ``declared_faction``, else ``party``), ranked by size, the largest taking
    ``PALETTE[0]``; groups beyond the palette and actors without one are grey
    (:func:`mapper.render.layout.group_nodes`). Size: ``influence`` scaled linearly
    to 5..50 (10 for everyone when no node has one). Position: ``pos_x``/``pos_y``
    (stored by the pipeline from the map layout) when both are numbers, else ``x``
    and ``y`` when both are numbers (``x`` is usually the X handle, a string, and
    then ignored). A node's own ``viz`` dict, where its parts are valid, overrides
    all three.
    """
    colours = _group_colours(G)
    sizes = {node: _real(data.get("influence")) for node, data in G.nodes(data=True)}
    known = [s for s in sizes.values() if s is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)

    result: dict[Hashable, dict[str, Any]] = {}
    nodes = G.nodes
    pairs = G.nodes(data=True) if only is None else ((n, nodes[n]) for n in only)
    for node, data in pairs:
        colour = _rgb(data.get("color")) if "color" in data else None
        if colour is None:
            r, g, b = colours.get(node, _NO_FACTION_COLOUR)
            colour = (r, g, b, 1.0)
        value = sizes[node]
        if not known:
            size = _DEFAULT_SIZE
        elif value is None:
            size = _SIZE_RANGE[0]
        elif high > low:
            size = _SIZE_RANGE[0] + (value - low) / (high - low) * (_SIZE_RANGE[1] - _SIZE_RANGE[0])
        else:
            size = (_SIZE_RANGE[0] + _SIZE_RANGE[1]) / 2
        viz: dict[str, Any] = {
            "color": {"r": colour[0], "g": colour[1], "b": colour[2], "a": colour[3]},
            "size": float(size),
        }
        x, y = _real(data.get("pos_x")), _real(data.get("pos_y"))
        if x is None or y is None:
            x, y = _real(data.get("x")), _real(data.get("y"))
        if x is not None and y is not None:
            viz["position"] = {"x": x, "y": y, "z": 0.0}
        own = data.get("viz")
        if isinstance(own, Mapping):
            own_colour = _rgb(own.get("color"))
            if own_colour is not None:
                viz["color"] = dict(zip("rgba", own_colour, strict=True))
            own_size = _real(own.get("size"))
            if own_size is not None and own_size >= 0:
                viz["size"] = own_size
            position = own.get("position")
            if isinstance(position, Mapping):
                coords = [_real(position.get(axis, 0.0)) for axis in "xyz"]
                if all(c is not None for c in coords):
                    viz["position"] = dict(zip("xyz", coords, strict=True))
        result[node] = viz
    return result


# ---------------------------------------------------------------------------
# Sanitizer


def _check_format(for_format: str) -> str:
    fmt = str(for_format).lower()
    if fmt not in FORMATS:
        raise ExportError(
            f"unknown export format {for_format!r}", hint=f"choose from {', '.join(FORMATS)}"
        )
    return fmt


class _Prepared:
    """A graph's export ids and format-neutral columns, made once for every format
    :func:`export_all` writes; the per-format views are cached."""

    def __init__(
        self,
        G: nx.Graph,
        *,
        ids: Mapping[Hashable, str] | None = None,
        whole: nx.Graph | None = None,
        reduction: GraphFileReduction | None = None,
    ) -> None:
        if G.is_multigraph():
            raise ExportError(
                "multigraphs cannot be exported",
                hint="collapse parallel edges into weights first",
            )
        self.G = G
        self.directed = G.is_directed()
        # A reduced graph (see graph_file_reduction) keeps the whole graph's export
        # ids, Gephi colours and sizes, and says in each file what it leaves out.
        self.whole = G if whole is None else whole
        self.reduction = reduction
        ids = export_node_ids(G) if ids is None else ids
        self.ids = ids
        nodes = list(G.nodes)
        self.node_ids = [ids[node] for node in nodes]
        original = [
            repr(node) if ids[node] != node or type(node) is not str else None for node in nodes
        ]
        extras = {"original_id": original} if any(v is not None for v in original) else {}
        self.nodes = _neutral([G.nodes[n] for n in nodes], extras=extras)
        # One pass over networkx's edge view (a Python generator), split at C speed.
        sources, targets, records = (
            zip(*G.edges(data=True), strict=True) if G.number_of_edges() else ((), (), ())
        )
        if all(ids[node] is node for node in nodes):  # str ids, kept as they are
            self.edge_ends = list(zip(sources, targets, strict=True))
        else:
            get = ids.__getitem__
            self.edge_ends = list(zip(map(get, sources), map(get, targets), strict=True))
        # Evidence held in the graph's table (mapper.graph.evidence): the edges'
        # "evidence" values are a marker; the column is filled from the table when a
        # view needs it (JSON, sanitize_graph), the evidence table straight from its
        # columns. Nothing else about the columns changes.
        self.table = evidence_table(G)
        lazy = ("evidence",) if self.table is not None else ()
        self.edges = _neutral(list(records), float_keys=("weight",), lazy=lazy)
        self._lazy_evidence = bool(lazy) and "evidence" in self.edges.values
        self._edge_keys = list(zip(sources, targets, strict=True)) if self._lazy_evidence else []
        self._views: dict[tuple[Any, ...], list[_Column]] = {}
        self.converted: dict[tuple[int, str], list[Any]] = {}
        self.iso: dict[int, str] = {}  # datetime object id -> isoformat()
        self._evidence: list[list[Any]] | None = None

    def _fill_evidence(self) -> None:
        """Put the table's items into the ``evidence`` column (once), as the dicts
        build_graph would have left in the edges."""
        if not self._lazy_evidence or self.table is None:
            return
        self._lazy_evidence = False
        column = self.edges.values["evidence"]
        marked = [i for i, value in enumerate(column) if value is IN_TABLE]
        if marked:
            counts, cols = self.table.columns(self._edge_keys[i] for i in marked)
            fields = list(cols)
            rows = zip(*(cols[f] for f in fields), strict=True)
            for i, n in zip(marked, counts, strict=True):
                column[i] = [dict(zip(fields, next(rows), strict=True)) for _ in range(n)]
        self.edges.values["evidence"] = _neutral_column(column)

    def graph_attrs(self, fmt: str) -> dict[str, Any]:
        graph = self.G.graph
        if self.table is not None:  # the evidence table is not a graph attribute
            graph = {k: v for k, v in graph.items() if v is not self.table}
        attrs = _sanitize_records([graph], GRAPH_RENAMES, fmt)[0]
        name = attrs.get("name", "")
        if isinstance(name, datetime):
            name = name.isoformat()
        elif not isinstance(name, str):
            name = _json_text(name)  # GEXF writes the name as an XML attribute: text only
        attrs["name"] = name
        return attrs

    def node_view(self, fmt: str) -> list[_Column]:
        key = ("nodes", fmt)
        if key not in self._views:
            renames = dict(NODE_RENAMES)
            if fmt == "gexf":
                renames["viz"] = "attr_viz"
            self._views[key] = _view(self.nodes, renames, fmt, cache=self.converted, iso=self.iso)
        return self._views[key]

    def edge_view(self, fmt: str, *, evidence: bool = True, table: bool = False) -> list[_Column]:
        key = ("edges", fmt, evidence, table)
        if key not in self._views:
            if evidence and not table:
                self._fill_evidence()
            self._views[key] = _view(
                self.edges,
                EDGE_RENAMES,
                fmt,
                drop=() if evidence else ("evidence",),
                skip=("evidence",) if table else (),
                cache=self.converted,
                iso=self.iso,
            )
        return self._views[key]

    def evidence_table(self) -> list[list[Any]]:
        """The evidence table's columns (:data:`EVIDENCE_COLUMNS`): one row per item
        of the edge attribute the tables call ``evidence``, as JSON data."""
        if self._evidence is not None:
            return self._evidence
        names = _key_names(self.edges.keys, EDGE_RENAMES, self.edges.generated)
        lazy = self._lazy_evidence and names.get("evidence") == "evidence"
        if lazy and all(
            value is IN_TABLE or value is None or (type(value) is list and not value)
            for value in self.edges.values["evidence"]
        ):
            table = self._table_evidence()
        else:
            self._fill_evidence()
            table = self._dict_evidence(names)
        for i in (2, 3, 4, 6):  # what JSON data would have removed (see _clean_nested)
            col = table[i]
            if not all(type(v) is not str or v.isascii() for v in col):
                table[i] = [_nested_str(v) if type(v) is str else v for v in col]
        self._evidence = table
        return table

    def _table_evidence(self) -> list[list[Any]]:
        """The evidence rows from the graph's table: its columns, in edge order."""
        assert self.table is not None
        column = self.edges.values["evidence"]
        marked = [i for i, value in enumerate(column) if value is IN_TABLE]
        counts, cols = self.table.columns(self._edge_keys[i] for i in marked)
        sources: list[Any] = []
        targets: list[Any] = []
        ends = self.edge_ends
        for i, n in zip(marked, counts, strict=True):
            if n:
                u, v = ends[i]
                sources.extend([u] * n)
                targets.extend([v] * n)
        return [
            sources,
            targets,
            cols["post"],
            cols["type"],
            cols["url"],
            cols["time"],
            cols["snippet"],
        ]

    def _dict_evidence(self, names: Mapping[Any, str]) -> list[list[Any]]:
        """The evidence rows from the edges' own ``evidence`` lists."""
        column: list[Any] = []
        for key, name in names.items():
            if name == "evidence" and not isinstance(key, _Generated):
                column = self.edges.values[key]
        fields = EVIDENCE_COLUMNS[2:]
        table: list[list[Any]] = [[] for _ in EVIDENCE_COLUMNS]
        sources, targets = table[0], table[1]
        time_col = table[5]
        for (u, v), value in zip(self.edge_ends, column, strict=False):
            if type(value) is _Json:
                raw = value.raw
                if type(raw) is list and _json_ready(raw):
                    # build_graph's evidence: the values as JSON data would give
                    # them, but times kept as datetimes (text cleaned below)
                    for item in raw:
                        sources.append(u)
                        targets.append(v)
                        table[2].append(item["post"])
                        table[3].append(item["type"])
                        table[4].append(item["url"])
                        time_col.append(item["time"])
                        table[6].append(item["snippet"])
                    continue
                items = value.data()
            elif type(value) is str:
                try:
                    items = json.loads(value)
                except ValueError:
                    continue
            else:
                continue
            if not isinstance(items, list):
                continue
            for item in items:
                if isinstance(item, Mapping):
                    sources.append(u)
                    targets.append(v)
                    for i, field in enumerate(fields, start=2):
                        table[i].append(item.get(field))
        return table


def sanitize_graph(G: nx.Graph, *, for_format: str, evidence: bool = True) -> nx.DiGraph:
    """A copy of ``G`` that the writer of ``for_format`` accepts and that reads back.

    Parameters
    ----------
    G : networkx.DiGraph or networkx.Graph
        Not modified (not even its attribute dicts or the lists inside them).
    for_format : {"gexf", "graphml", "json", "csv", "parquet"}
    evidence : bool, default True
        Keep the ``evidence`` edge attribute. The GEXF and GraphML writers leave it
        out (it is in ``evidence.csv``/``.parquet``): as JSON text in XML it made a
        1M-event graph's GEXF 646 MB and a minute to write.

    Returns
    -------
    networkx.DiGraph
        (a ``Graph`` when ``G`` is undirected) with, for every node, edge and graph
        attribute:

        - ``None``, NaN and infinite values dropped (a missing value is the one thing
          every format represents; ``str(nan)`` would poison a numeric column);
          subnormal floats (below 2.2e-308, which igraph rejects) made 0.0;
        - numpy scalars made Python (``numpy.bool_`` to ``bool``); ints beyond 64
          bits made text;
        - lists, tuples, sets (sorted), dicts and arrays JSON-encoded to one string
          (for ``json``, kept as JSON lists and objects instead); datetimes made
          timezone-aware UTC and ISO 8601 text (Parquet keeps them as timestamps);
          dates and times ISO text; anything else ``str()``;
        - characters XML cannot carry removed from keys and text (control characters
          ``[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]``, lone surrogates, U+FFFE, U+FFFF);
          inside JSON-encoded values, where JSON escapes control characters, only
          the last three are removed;
        - one type per key across all nodes (and, separately, all edges): int with
          float becomes float, any other mix becomes text for everyone;
        - reserved names renamed (:data:`NODE_RENAMES`, :data:`EDGE_RENAMES`,
          :data:`GRAPH_RENAMES`; a clash gets ``_2``...); edge ``weight`` always a
          float (a weight that is not a finite number is dropped);
        - node ids made str (see :func:`export_node_ids`), the original's ``repr``
          kept in ``original_id`` when an id changed;
        - for ``gexf``, a ``viz`` dict per node that networkx writes as Gephi's
          visual attributes: colour from the node's ``color`` (``#rrggbb``, RGB(A)
          tuple or dict) or else its group's colour on the maps (:data:`PALETTE`,
          see :func:`mapper.render.layout.group_nodes`); size from ``influence``
          scaled linearly to 5..50; position from ``pos_x``/``pos_y`` (the layout
          the pipeline stores), else from ``x`` and ``y`` when both are numbers
          (``x`` is normally the X handle, a string, and then ignored). The node's
          own ``viz`` is renamed ``attr_viz`` and its valid parts take precedence.

    Raises
    ------
    ExportError
        For an unknown format or a multigraph (collapse parallel edges first).
    """
    fmt = _check_format(for_format)
    with gc_paused():
        return _sanitize(_Prepared(G), fmt, evidence=evidence)


def _sanitize(prep: _Prepared, fmt: str, *, evidence: bool = True) -> nx.DiGraph:
    """The body of :func:`sanitize_graph`, for a validated format."""
    H = nx.DiGraph() if prep.directed else nx.Graph()
    H.graph.update(prep.graph_attrs(fmt))
    rows = _rows(prep.nodes.size, prep.node_view(fmt))
    if fmt == "gexf":
        for row, viz in zip(rows, _viz(prep.G).values(), strict=True):
            row["viz"] = viz
    # (node, dict) pairs, never **attrs: a key such as "node_for_adding" must not
    # collide with networkx's parameter names.
    H.add_nodes_from(zip(prep.node_ids, rows, strict=True))
    edge_rows = _rows(prep.edges.size, prep.edge_view(fmt, evidence=evidence))
    H.add_edges_from((u, v, row) for (u, v), row in zip(prep.edge_ends, edge_rows, strict=True))
    return H


# ---------------------------------------------------------------------------
# Graph writers
#
# GEXF, GraphML and JSON are written from the sanitized columns by the writers
# below, in chunks of rows (bounded memory), instead of through networkx's
# element-per-value XML writers: the files have the same structure, types and
# values as networkx writes and read back with networkx, igraph and Gephi.

_CHUNK = 16_384
#: Rows of a CSV table turned into cells at a time (see _write_table_csv).
_CSV_BLOCK = 131_072
_XML_TEXT_SPECIAL = re.compile("[&<>\r]")
_XML_ATTR_SPECIAL = re.compile('[&<>"\r\n\t]')


def _escape_text(text: str) -> str:
    """Escape element text (``\\r`` too, which XML parsers would turn into ``\\n``)."""
    if _XML_TEXT_SPECIAL.search(text) is None:
        return text
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _escape_attr(text: str) -> str:
    """Escape an attribute value (white space as character references, which XML
    attribute normalisation would otherwise turn into spaces)."""
    if _XML_ATTR_SPECIAL.search(text) is None:
        return text
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\r", "&#13;")
        .replace("\n", "&#10;")
        .replace("\t", "&#9;")
    )


def _escaped(values: list[Any], escape: Any) -> list[Any]:
    """Escape the text values of a column (most need nothing: one regex search)."""
    special = _XML_ATTR_SPECIAL if escape is _escape_attr else _XML_TEXT_SPECIAL
    search = special.search
    return [v if v is None or search(v) is None else escape(v) for v in values]


def _xml_values(column: _Column, start: int, stop: int, escape: Any) -> list[str | None]:
    """A slice of a column as XML text (``None`` where missing)."""
    values = column.values[start:stop]
    if column.cls == "str":
        return _escaped(values, escape)
    if column.cls == "float":
        return [None if v is None else repr(v) for v in values]
    if column.cls == "bool":
        return [None if v is None else ("true" if v else "false") for v in values]
    return [None if v is None else str(v) for v in values]


def _fragments(
    columns: list[tuple[str, str, _Column]], start: int, stop: int, escape: Any
) -> list[str]:
    """Per row of ``start:stop``, the concatenated ``prefix + value + suffix`` of
    every column that has a value there (``%`` templates mapped at C speed)."""
    parts: list[list[str]] = []
    for prefix, suffix, column in columns:
        values = column.values[start:stop]
        cls = column.cls
        template = prefix.replace("%", "%%") + ("%r" if cls == "float" else "%s")
        template += suffix.replace("%", "%%")
        if cls == "str":
            values = _escaped(values, escape)
        elif cls == "bool":
            values = [None if v is None else ("true" if v else "false") for v in values]
        elif cls != "float" and cls != "int":
            values = [None if v is None else str(v) for v in values]
        if None in values:
            parts.append(["" if v is None else template % (v,) for v in values])
        else:
            parts.append(list(map(template.__mod__, values)))
    if not parts:
        return [""] * (stop - start)
    return list(map("".join, zip(*parts, strict=True)))


def _xml_ids(prep: _Prepared) -> tuple[list[str], list[tuple[str, str]]]:
    """Node ids and edge ends escaped for XML attributes (usually unchanged)."""
    ids = prep.node_ids
    search = _XML_ATTR_SPECIAL.search
    if not any(search(i) for i in ids):
        return ids, prep.edge_ends
    escaped = {i: _escape_attr(i) for i in ids}
    return [escaped[i] for i in ids], [(escaped[u], escaped[v]) for u, v in prep.edge_ends]


_XML_TYPES = {"str": "string", "int": "long", "float": "double", "bool": "boolean"}
_GRAPHML_HEAD = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
)


def _plain_text(value: Any) -> str:
    if type(value) is bool:
        return "true" if value else "false"
    return repr(value) if type(value) is float else str(value)


def _write_graphml(prep: _Prepared, path: Path) -> Path:
    graph = prep.graph_attrs("graphml")
    nodes = prep.node_view("graphml")
    edges = prep.edge_view("graphml", evidence=False)
    keys: list[str] = []

    def key(scope: str, name: str, cls: str) -> str:
        kid = f"d{len(keys)}"
        keys.append(
            f'<key id="{kid}" for="{scope}" attr.name="{_escape_attr(name)}" '
            f'attr.type="{_XML_TYPES[cls]}"/>\n'
        )
        return kid

    graph_data = []
    for name, value in graph.items():
        kid = key("graph", name, _PLAIN_CLASS.get(type(value), "str"))
        graph_data.append(f'<data key="{kid}">{_escape_text(_plain_text(value))}</data>\n')
    node_cols = [(f'  <data key="{key("node", c.name, c.cls)}">', "</data>\n", c) for c in nodes]
    edge_cols = [(f'  <data key="{key("edge", c.name, c.cls)}">', "</data>\n", c) for c in edges]
    kind = "directed" if prep.directed else "undirected"
    with atomic_open(path, "w") as fh:
        fh.write(_GRAPHML_HEAD)
        fh.writelines(keys)
        fh.write(f'<graph edgedefault="{kind}">\n')
        fh.writelines(graph_data)
        ids, ends = _xml_ids(prep)
        node_row = '<node id="%s">\n%s</node>\n'.__mod__
        for start in range(0, len(ids), _CHUNK):
            stop = min(len(ids), start + _CHUNK)
            body = _fragments(node_cols, start, stop, _escape_text)
            fh.write("".join(map(node_row, zip(ids[start:stop], body, strict=True))))
        edge_row = '<edge source="%s" target="%s">\n%s</edge>\n'.__mod__
        for start in range(0, len(ends), _CHUNK):
            stop = min(len(ends), start + _CHUNK)
            body = _fragments(edge_cols, start, stop, _escape_text)
            rows = ((u, v, b) for (u, v), b in zip(ends[start:stop], body, strict=True))
            fh.write("".join(map(edge_row, rows)))
        fh.write("</graph>\n</graphml>\n")
    return path


_GEXF_HEAD = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<gexf xmlns="http://www.gexf.net/1.2draft" '
    'xmlns:viz="http://www.gexf.net/1.2draft/viz" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://www.gexf.net/1.2draft '
    'http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
)


def _viz_xml(viz: Mapping[str, Any]) -> str:
    parts = []
    colour = viz.get("color")
    if colour is not None:
        parts.append(
            f'        <viz:color r="{colour["r"]}" g="{colour["g"]}" b="{colour["b"]}" '
            f'a="{colour.get("a", 1.0)}" />\n'
        )
    size = viz.get("size")
    if size is not None:
        parts.append(f'        <viz:size value="{size}" />\n')
    position = viz.get("position")
    if position is not None:
        parts.append(
            f'        <viz:position x="{position["x"]}" y="{position["y"]}" '
            f'z="{position["z"]}" />\n'
        )
    return "".join(parts)


def _write_gexf(prep: _Prepared, path: Path) -> Path:
    import time as _time

    graph = prep.graph_attrs("gexf")
    nodes = prep.node_view("gexf")
    edges = prep.edge_view("gexf", evidence=False)
    labels = next((c for c in nodes if c.name == "label"), None)
    weights = next((c for c in edges if c.name == "weight"), None)
    declarations: dict[str, list[str]] = {"node": [], "edge": []}
    counter = iter(range(len(nodes) + len(edges)))

    def attribute(scope: str, column: _Column) -> tuple[str, str, _Column]:
        aid = str(next(counter))
        declarations[scope].append(
            f'      <attribute id="{aid}" title="{_escape_attr(column.name)}" '
            f'type="{_XML_TYPES[column.cls]}" />\n'
        )
        return (f'          <attvalue for="{aid}" value="', '" />\n', column)

    node_cols = [attribute("node", c) for c in nodes if c is not labels]
    edge_cols = [attribute("edge", c) for c in edges if c is not weights]
    viz = list(_viz(prep.whole, None if prep.whole is prep.G else list(prep.G)).values())
    kind = "directed" if prep.directed else "undirected"
    with atomic_open(path, "w") as fh:
        fh.write(_GEXF_HEAD)
        description = (
            f"    <description>{_escape_text(prep.reduction.note)}</description>\n"
            if prep.reduction is not None
            else ""
        )
        fh.write(
            f'  <meta lastmodifieddate="{_time.strftime("%Y-%m-%d")}">\n'
            f"    <creator>mapper</creator>\n{description}  </meta>\n"
        )
        fh.write(
            f'  <graph defaultedgetype="{kind}" mode="static" '
            f'name="{_escape_attr(str(graph.get("name", "")))}">\n'
        )
        for scope in ("node", "edge"):
            if declarations[scope]:
                fh.write(f'    <attributes mode="static" class="{scope}">\n')
                fh.writelines(declarations[scope])
                fh.write("    </attributes>\n")
        fh.write("    <nodes>\n")
        ids, ends = _xml_ids(prep)
        for start in range(0, len(ids), _CHUNK):
            stop = min(len(ids), start + _CHUNK)
            body = _fragments(node_cols, start, stop, _escape_attr)
            # networkx writes str(label): True, not true, for a boolean label
            names = (
                [None if v is None else _escape_attr(str(v)) for v in labels.values[start:stop]]
                if labels is not None
                else [None] * (stop - start)
            )
            out = []
            for i, node_id in enumerate(ids[start:stop]):
                label = names[i]
                attvalues = body[i]
                out.append(
                    f'      <node id="{node_id}" label="{node_id if label is None else label}">\n'
                    f"{_viz_xml(viz[start + i])}"
                    + (
                        f"        <attvalues>\n{attvalues}        </attvalues>\n"
                        if attvalues
                        else ""
                    )
                    + "      </node>\n"
                )
            fh.write("".join(out))
        fh.write("    </nodes>\n    <edges>\n")
        with_values = '      <edge source="%s" target="%s" id="%d"%s>\n        <attvalues>\n'
        with_values += "%s        </attvalues>\n      </edge>\n"
        without = '      <edge source="%s" target="%s" id="%d"%s>\n      </edge>\n'
        for start in range(0, len(ends), _CHUNK):
            stop = min(len(ends), start + _CHUNK)
            body = _fragments(edge_cols, start, stop, _escape_attr)
            ws = (
                _xml_values(weights, start, stop, _escape_attr)
                if weights is not None
                else [None] * (stop - start)
            )
            out = [
                (with_values % (u, v, i, w, b)) if b else (without % (u, v, i, w))
                for i, (u, v), w, b in zip(
                    range(start, stop),
                    ends[start:stop],
                    ["" if w is None else f' weight="{w}"' for w in ws],
                    body,
                    strict=True,
                )
            ]
            fh.write("".join(out))
        fh.write("    </edges>\n  </graph>\n</gexf>\n")
    return path


def _json_chunks(rows: list[dict[str, Any]]) -> bytes:
    """``rows`` as the inside of a JSON array (orjson, or the standard library for
    what orjson refuses, such as integers beyond 64 bits)."""
    import orjson

    try:
        return orjson.dumps(rows)[1:-1]
    except (TypeError, orjson.JSONEncodeError):
        text = json.dumps(rows, ensure_ascii=False, allow_nan=False)
        return text[1:-1].encode("utf-8")


def _write_json(prep: _Prepared, path: Path, indent: int | None) -> Path:
    graph = prep.graph_attrs("json")
    nodes = prep.node_view("json")
    edges = prep.edge_view("json")
    head: dict[str, Any] = {"directed": prep.directed, "multigraph": False, "graph": graph}
    if prep.reduction is not None:
        head["reduced"] = prep.reduction.as_dict()
    if indent is not None:  # pretty-printed: the standard library, all at once
        node_rows = _rows(prep.nodes.size, nodes)
        for row, node_id in zip(node_rows, prep.node_ids, strict=True):
            row["id"] = node_id
        edge_rows = _rows(prep.edges.size, edges)
        for row, (u, v) in zip(edge_rows, prep.edge_ends, strict=True):
            row["source"], row["target"] = u, v
        data = {**head, "nodes": node_rows, "edges": edge_rows}
        with atomic_open(path, "w") as fh:
            fh.write(json.dumps(data, ensure_ascii=False, allow_nan=False, indent=indent))
            fh.write("\n")
        return path
    with atomic_open(path, "wb") as fh:
        fh.write(_json_chunks([head])[:-1])  # the head object, still open
        for field, size, columns, extra in (
            ("nodes", prep.nodes.size, nodes, None),
            ("edges", prep.edges.size, edges, prep.edge_ends),
        ):
            fh.write(f', "{field}": ['.encode())
            for start in range(0, size, _CHUNK):
                stop = min(size, start + _CHUNK)
                part = [_Column(c.name, c.cls, c.values[start:stop]) for c in columns]
                if start:
                    fh.write(b",")
                fh.write(_json_rows(part, stop - start, prep, start, extra))
            fh.write(b"]")
        fh.write(b"}\n")
    return path


def _json_rows(
    columns: list[_Column],
    size: int,
    prep: _Prepared,
    start: int,
    ends: list[tuple[str, str]] | None,
) -> bytes:
    """One chunk of node or edge objects as the inside of a JSON array.

    The common JSON values (build_graph's evidence lists and topic counts) go to
    orjson as they are, which writes the same text the conversion to JSON data would
    give; if orjson refuses the chunk, or it would carry U+FFFE/U+FFFF (which the
    sanitizer removes), the chunk is converted the slow way instead."""
    import orjson

    def build(fast: bool) -> list[dict[str, Any]]:
        names = [c.name for c in columns]
        lists: list[list[Any]] = []
        for column in columns:
            values = column.values
            if column.cls == "json":
                values = [
                    v
                    if type(v) is not _Json
                    else (v.raw if fast and _json_ready(v.raw) else v.data())
                    for v in values
                ]
            lists.append(values)
        if ends is None:
            names.append("id")
            lists.append(prep.node_ids[start : start + size])
        else:
            part = ends[start : start + size]
            names += ["source", "target"]
            lists += [[u for u, _ in part], [v for _, v in part]]
        rows = [dict(zip(names, row, strict=True)) for row in zip(*lists, strict=True)]
        for name, values in zip(names, lists, strict=True):
            if None in values:  # a missing value is no key at all
                for row, value in zip(rows, values, strict=True):
                    if value is None:
                        del row[name]
        return rows

    if any(c.cls == "json" for c in columns):
        try:
            text = orjson.dumps(build(True))[1:-1]
        except (TypeError, orjson.JSONEncodeError):
            text = None
        if text is not None and b"\xef\xbf\xbe" not in text and b"\xef\xbf\xbf" not in text:
            return text
    return _json_chunks(build(False))


_EVIDENCE_KEYS = frozenset(EVIDENCE_COLUMNS[2:])


def _json_ready(raw: Any) -> bool:
    """Whether orjson writes ``raw`` exactly as its JSON data would be written: an
    evidence list as build_graph makes it (dicts of exactly the evidence keys, text
    or None, times None or UTC datetimes, which orjson writes as ``isoformat()``
    does) or a dict of str to int (topic counts). Text orjson cannot encode (lone
    surrogates) makes it refuse, and U+FFFE/U+FFFF are looked for in its output."""
    kind = type(raw)
    if kind is list:
        for item in raw:
            if type(item) is not dict or item.keys() != _EVIDENCE_KEYS:
                return False
            time = item["time"]
            if time is not None and (type(time) is not datetime or time.tzinfo is not UTC):
                return False
            for key in ("post", "type", "url", "snippet"):
                value = item[key]
                if value is not None and type(value) is not str:
                    return False
        return True
    if kind is dict:
        return all(type(k) is str for k in raw) and all(type(v) is int for v in raw.values())
    return False


def _fail(what: str, path: Path, exc: BaseException) -> ExportError:
    return ExportError(f"cannot write {what}: {type(exc).__name__}: {exc}", source=path)


_WHAT = {"gexf": "GEXF", "graphml": "GraphML", "json": "JSON"}


def _write_graph(prep: _Prepared, path: Path, fmt: str, *, indent: int | None = None) -> Path:
    try:
        with gc_paused():
            if fmt == "gexf":
                return _write_gexf(prep, path)
            if fmt == "graphml":
                return _write_graphml(prep, path)
            return _write_json(prep, path, indent)
    except MapperError:
        raise
    except Exception as exc:
        raise _fail(_WHAT[fmt], path, exc) from exc


def _prepare_for(G: nx.Graph, path: Path, fmt: str) -> _Prepared:
    try:
        return _prepare(G)
    except MapperError:
        raise
    except Exception as exc:
        raise _fail(_WHAT[fmt], path, exc) from exc


def write_gexf(G: nx.Graph, path: str | Path) -> Path:
    """Write ``G`` as GEXF 1.2 for Gephi, with node colours, sizes and positions.

    Parameters
    ----------
    G : networkx.DiGraph
    path : str or Path
        The file to write (atomically; parent folders are created).

    Returns
    -------
    Path

    Raises
    ------
    ExportError
        Naming ``path`` when the file cannot be written.

    Notes
    -----
    Read back with :func:`networkx.read_gexf`; node labels are the ``label``
    attribute, colour/size/position are under each node's ``viz`` (colours are the
    maps' group colours, positions the ``pos_x``/``pos_y`` layout; see
    :func:`sanitize_graph`). The per-edge ``evidence`` lists are left out (they are
    in the evidence table). The file is written directly from the sanitized
    columns, with the structure networkx's writer gives.
    """
    path = Path(path)
    return _write_graph(_prepare_for(G, path, "gexf"), path, "gexf")


def write_graphml(G: nx.Graph, path: str | Path) -> Path:
    """Write ``G`` as GraphML (igraph, Cytoscape, yEd, networkx).

    Parameters
    ----------
    G : networkx.DiGraph
    path : str or Path

    Returns
    -------
    Path

    Raises
    ------
    ExportError
        Naming ``path`` when the file cannot be written.

    Notes
    -----
    Key types are ``string``, ``long``, ``double`` and ``boolean`` (``true`` and
    ``false``), as networkx writes them. igraph's ``Graph.Read_GraphML`` puts the
    node ids in the vertex attribute ``id`` (hence the rename of a node attribute
    ``id`` to ``actor_id``). Its libxml2-based reader returns an ``&`` inside an XML
    attribute (a node id, a key name) as ``&#38;``;
    ``[i.replace("&#38;", "&") for i in g.vs["id"]]`` restores the ids exactly.
    Attribute values (``label``...) are element text and read back intact. The
    per-edge ``evidence`` lists are left out (they are in the evidence table).
    """
    path = Path(path)
    return _write_graph(_prepare_for(G, path, "graphml"), path, "graphml")


def write_json(G: nx.Graph, path: str | Path, *, indent: int | None = None) -> Path:
    """Write ``G`` as node-link JSON (the edge list under ``"edges"``).

    Parameters
    ----------
    G : networkx.DiGraph
    path : str or Path
    indent : int, optional
        Pretty-print with this indent (default compact).

    Returns
    -------
    Path

    Raises
    ------
    ExportError
        Naming ``path`` when the file cannot be written.

    Notes
    -----
    Read back with ``networkx.node_link_graph(json.load(fh), edges="edges")``.
    Datetimes are ISO 8601 strings; ``topics`` and ``evidence`` are JSON objects and
    arrays; the file is strict JSON (no NaN), UTF-8.
    """
    path = Path(path)
    return _write_graph(_prepare_for(G, path, "json"), path, "json", indent=indent)


# ---------------------------------------------------------------------------
# Tables


def neutralize_cell(text: str) -> str:
    """Defuse a spreadsheet formula: prefix ``'`` to text starting with ``=``, ``+``,
    ``-``, ``@``, tab, carriage return or ``'`` itself, unless the text is a plain
    number (``-0.5``). Undo with :func:`restore_cell`.

    >>> neutralize_cell('=HYPERLINK("http://evil")'), neutralize_cell("-0.5")
    ('\\'=HYPERLINK("http://evil")', '-0.5')
    """
    if text and text[0] in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def restore_cell(text: str) -> str:
    """Undo :func:`neutralize_cell`: ``restore_cell(neutralize_cell(s)) == s`` for
    every string (a leading ``'`` is always one the writer added)."""
    return text[1:] if text.startswith("'") else text


def _cell(value: Any) -> Any:
    """A CSV cell: numbers as they are, text neutralised, missing as empty."""
    if value is None:
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else ""
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date | dtime):
        return value.isoformat()
    if isinstance(value, str):
        return neutralize_cell(clean_text(value))
    if isinstance(value, Mapping | list | tuple | set | frozenset | np.ndarray):
        return neutralize_cell(_json_text(value))
    if isinstance(value, bytes | bytearray):
        return neutralize_cell(clean_text(bytes(value).decode("utf-8", "replace")))
    if isinstance(value, Decimal | Fraction):
        return _cell(float(value))
    return neutralize_cell(clean_text(str(value)))


def write_rows_csv(
    rows: Iterable[Mapping[str, Any]],
    path: str | Path,
    columns: Iterable[str] | None = None,
) -> Path:
    """Write dicts as a CSV table (UTF-8, header row), atomically.

    Parameters
    ----------
    rows : iterable of mapping
        One dict per row; keys outside ``columns`` are ignored, missing keys are
        empty cells.
    path : str or Path
    columns : iterable of str, optional
        Column order; default every key in first-seen order.

    Returns
    -------
    Path

    Raises
    ------
    ExportError
        Naming ``path`` when the file cannot be written.

    Notes
    -----
    RFC 4180 layout (CRLF line ends), text quoted and numbers bare. Cells are safe
    to open in a spreadsheet: text starting with ``=``, ``+``, ``-``,
    ``@``, tab, CR or ``'`` gets a leading ``'`` (:func:`neutralize_cell`; numbers
    are left alone, so ``-0.5`` stays a number); ``None`` and NaN are empty; lists
    and dicts are JSON; datetimes ISO 8601 UTC; control characters are removed.
    With pandas, read text columns with ``dtype=str, keep_default_na=False`` (ids
    such as ``007`` or ``NA`` stay text) and undo the prefix with
    :func:`restore_cell`.
    """
    path = Path(path)
    try:
        if columns is None:
            rows = list(rows)
            columns = list(dict.fromkeys(k for row in rows for k in row))
        else:
            columns = list(columns)
        with atomic_open(path, "w", newline="") as fh:
            # Text quoted, numbers bare: a cell of spaces is not a blank line, and CR
            # inside a cell is quoted (with a "\n" terminator it would not be).
            writer = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow([_cell(str(c)) for c in columns])
            for row in rows:
                writer.writerow([_cell(row.get(c)) for c in columns])
    except MapperError:
        raise
    except Exception as exc:
        raise _fail("CSV", path, exc) from exc
    return path


def _ordered(keys: Iterable[str], preferred: Iterable[str]) -> list[str]:
    seen = list(dict.fromkeys(keys))
    first = [k for k in preferred if k in seen]
    return first + sorted(k for k in seen if k not in first)


@dataclass
class _Table:
    """A table to write: column names and one list of values per column."""

    columns: list[str]
    values: list[list[Any]]
    classes: list[str | None]  # the single type of a sanitized column; None: anything


def _tables(prep: _Prepared, fmt: str) -> tuple[_Table, _Table, _Table]:
    """Node, edge and evidence tables of the sanitized graph."""
    node_cols = {c.name: c for c in prep.node_view(fmt)}
    order = _ordered(node_cols, NODE_COLUMNS)
    nodes = _Table(
        ["id", *order],
        [prep.node_ids, *(node_cols[n].values for n in order)],
        ["str", *(node_cols[n].cls for n in order)],
    )
    edge_cols = {c.name: c for c in prep.edge_view(fmt, table=True)}
    order = _ordered(edge_cols, EDGE_COLUMNS)
    sources = [u for u, _ in prep.edge_ends]
    targets = [v for _, v in prep.edge_ends]
    edges = _Table(
        ["source", "target", *order],
        [sources, targets, *(edge_cols[n].values for n in order)],
        ["str", "str", *(edge_cols[n].cls for n in order)],
    )
    classes: list[str | None] = ["str", "str", None, None, None, None, None]
    return nodes, edges, _Table(list(EVIDENCE_COLUMNS), prep.evidence_table(), classes)


def _neutralized(values: list[Any]) -> list[Any]:
    """:func:`neutralize_cell` over a column of clean text (``None``: empty)."""
    start = _FORMULA_START
    plain = _PLAIN_NUMBER.fullmatch
    return [
        "" if v is None else ("'" + v if v and v[0] in start and not plain(v) else v)
        for v in values
    ]


def _cells(values: list[Any], cls: str | None, iso: dict[int, str] | None = None) -> list[Any]:
    """A column as CSV cells (:func:`_cell`), with fast paths for sanitized columns."""
    if cls in ("int", "float"):
        return ["" if v is None else v for v in values]
    if cls == "bool":
        return ["" if v is None else ("true" if v else "false") for v in values]
    if cls == "str":
        return _neutralized(values)
    kinds = set(map(type, values))
    if kinds <= {datetime, _NoneType} and all(v is None or v.tzinfo is UTC for v in values):
        memo = iso if iso is not None else {}
        return ["" if t is None else t for t in _iso_column(values, memo)]
    if kinds <= {str, _NoneType}:
        bad = _BAD_CHARS.sub
        return _neutralized([v if v is None or v.isprintable() else bad("", v) for v in values])
    return [_cell(v) for v in values]


def _write_table_csv(table: _Table, path: Path, iso: dict[int, str] | None = None) -> Path:
    # The cells are made a block of rows at a time, so what converting them needs
    # (without ``iso``, the text of each time) lasts one block. Each block gives the
    # cells the whole column would (every fast path of _cells gives what _cell
    # gives, so the path a block takes does not change its cells).
    try:
        size = len(table.values[0]) if table.values else 0
        with atomic_open(path, "w", newline="") as fh:
            writer = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow([_cell(str(c)) for c in table.columns])
            for start in range(0, size, _CSV_BLOCK):
                stop = start + _CSV_BLOCK
                cells = [
                    _cells(v[start:stop], c, iso)
                    for v, c in zip(table.values, table.classes, strict=True)
                ]
                for at in range(0, len(cells[0]), _CHUNK):
                    writer.writerows(zip(*(c[at : at + _CHUNK] for c in cells), strict=True))
    except MapperError:
        raise
    except Exception as exc:
        raise _fail("CSV", path, exc) from exc
    return path


def write_csv(G: nx.Graph, folder: str | Path) -> dict[str, Path]:
    """Write ``nodes.csv``, ``edges.csv`` and ``evidence.csv`` into ``folder``.

    Parameters
    ----------
    G : networkx.DiGraph
    folder : str or Path
        Created if missing.

    Returns
    -------
    dict
        ``{"nodes": path, "edges": path, "evidence": path}``.

    Raises
    ------
    ExportError
        Naming the file that cannot be written.

    Notes
    -----
    ``nodes.csv``: ``id``, the schema's attributes first (``label``, ``kind``,
    ``party``, ``declared_faction``, ``faction``...), then every other attribute in
    name order; ``topics`` is JSON. ``edges.csv``: ``source``, ``target``,
    ``weight``, ``count``, one column per reference kind, ``first``, ``last``, then
    the rest (evidence goes to its own table). ``evidence.csv``: one row per evidence
    item (``source``, ``target``, ``post``, ``type``, ``url``, ``time``,
    ``snippet``). Cells are neutralised as in :func:`write_rows_csv`.
    """
    return _write_csv(_prepare(G), Path(folder))


def _write_csv(prep: _Prepared, folder: Path) -> dict[str, Path]:
    with gc_paused():
        nodes, edges, evidence = _tables(prep, "csv")
        return {
            "nodes": _write_table_csv(nodes, folder / "nodes.csv"),
            "edges": _write_table_csv(edges, folder / "edges.csv"),
            # the items' times are objects of their own (read from the evidence table):
            # remembering their text for later formats held ~250 MB at 1M posts for
            # nothing; each block of rows remembers its own (see _write_table_csv)
            "evidence": _write_table_csv(evidence, folder / "evidence.csv"),
        }


def _parse_times(values: list[Any]) -> list[Any]:
    """A time column for Parquet: aware UTC datetimes when every non-empty value is a
    datetime or ISO text that parses; else the values as text (datetimes ISO)."""
    if all(v is None or (type(v) is datetime and v.tzinfo is UTC) for v in values):
        return values
    parsed: list[Any] = []
    for value in values:
        if value is None or value == "":
            parsed.append(None)
        elif isinstance(value, datetime):
            parsed.append(utc(value))
        elif not isinstance(value, str):
            return _times_as_text(values)
        else:
            try:
                parsed.append(utc(datetime.fromisoformat(value)))
            except ValueError:
                return _times_as_text(values)
    return parsed


def _times_as_text(values: list[Any]) -> list[Any]:
    if not any(isinstance(v, datetime) for v in values):
        return values
    return [utc(v).isoformat() if isinstance(v, datetime) else v for v in values]


def _write_table(table: _Table, path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for column, values in zip(table.columns, table.values, strict=True):
        if column in ("time", "first", "last"):
            values = _parse_times(values)
        arrays[column] = pa.array(values)
    result = pa.table(arrays) if table.columns else pa.table({})
    with atomic_path(path) as tmp:
        pq.write_table(result, tmp)
    return path


def write_parquet(G: nx.Graph, folder: str | Path) -> dict[str, Path]:
    """Write ``nodes.parquet``, ``edges.parquet`` and ``evidence.parquet`` into ``folder``.

    The same tables as :func:`write_csv`, typed: booleans, 64-bit ints, doubles,
    strings, and UTC timestamps for ``first``, ``last`` and evidence ``time``
    (missing values are nulls). Lists and dicts are JSON strings.

    Returns
    -------
    dict
        ``{"nodes": path, "edges": path, "evidence": path}``.

    Raises
    ------
    ExportError
        Naming the file that cannot be written.
    """
    return _write_parquet(_prepare(G), Path(folder))


def _write_parquet(prep: _Prepared, folder: Path) -> dict[str, Path]:
    with gc_paused():
        tables = _tables(prep, "parquet")
    paths: dict[str, Path] = {}
    for name, table in zip(("nodes", "edges", "evidence"), tables, strict=True):
        path = folder / f"{name}.parquet"
        try:
            paths[name] = _write_table(table, path)
        except MapperError:
            raise
        except Exception as exc:
            raise _fail("Parquet", path, exc) from exc
    return paths


def _prepare(G: nx.Graph) -> _Prepared:
    with gc_paused():
        return _Prepared(G)


# ---------------------------------------------------------------------------
# Graph files sized for their readers

#: Above this many actors, or :data:`GRAPH_FILE_MAX_TIES` ties, a run writes a
#: reduced graph into the GEXF, GraphML and JSON files (unless ``[exports]
#: full_graph``); the CSV and Parquet tables always hold everything. Why these
#: numbers: ``docs/exports.md`` ("Large graphs").
GRAPH_FILE_MAX_ACTORS = 20_000
#: See :data:`GRAPH_FILE_MAX_ACTORS`.
GRAPH_FILE_MAX_TIES = 50_000
#: The formats a reduction applies to (the tables are always whole).
GRAPH_FILE_FORMATS: tuple[str, ...] = ("gexf", "graphml", "json")


@dataclass(frozen=True)
class GraphFileReduction:
    """What the GEXF, GraphML and JSON files of a large graph hold instead of all of it.

    Attributes
    ----------
    nodes : tuple
        The actors kept, in the graph's node order.
    edges : frozenset
        The ties kept, ``(source, target)`` as the graph holds them.
    actors_total, ties_total : int
        Size of the whole graph.
    max_actors, max_ties : int
        The limits that were exceeded.
    """

    nodes: tuple[Hashable, ...]
    edges: frozenset[tuple[Hashable, Hashable]]
    actors_total: int
    ties_total: int
    max_actors: int
    max_ties: int

    @property
    def note(self) -> str:
        """The sentence each reduced file, the report and ``summary.json`` carry."""
        return (
            f"Reduced graph: {len(self.nodes):,} of {self.actors_total:,} actors and "
            f"{len(self.edges):,} of {self.ties_total:,} ties (the most influential actors "
            "and the top bridge figures, with the strongest ties among them, chosen as the "
            f"network map chooses; limits {self.max_actors:,} actors and {self.max_ties:,} "
            "ties, for desktop graph tools). nodes, edges and evidence (.csv, .parquet) hold "
            "the whole graph; set [exports] full_graph = true, or run `mapper export --full`, "
            "for the whole graph in GEXF, GraphML and JSON too."
        )

    def as_dict(self) -> dict[str, Any]:
        """The counts and the note (the JSON file's top-level ``reduced`` field)."""
        return {
            "actors": len(self.nodes),
            "ties": len(self.edges),
            "actors_total": self.actors_total,
            "ties_total": self.ties_total,
            "max_actors": self.max_actors,
            "max_ties": self.max_ties,
            "note": self.note,
        }

    def warning(self) -> Any:
        """The ``exports-reduced`` notice for ``summary.json`` and ``report.md``."""
        from mapper.analysis.strength import warning

        return warning("exports-reduced", "exports", self.note)


def graph_file_reduction(
    G: nx.Graph,
    *,
    max_actors: int = GRAPH_FILE_MAX_ACTORS,
    max_ties: int = GRAPH_FILE_MAX_TIES,
) -> GraphFileReduction | None:
    """The part of ``G`` its GEXF, GraphML and JSON files hold, or ``None`` for all of it.

    ``None`` when ``G`` has at most ``max_actors`` actors and ``max_ties`` ties.
    Above either limit the map's own rule picks what is kept
    (:func:`mapper.render.layout.select_view` with ``max_actors`` and ``max_ties`` as
    its budgets): the outlined bridge figures, then the most influential actors up to
    ``max_actors``, and the ``max_ties`` strongest ties among them (ties broken by
    id: deterministic). Actors left without a tie stay (the map keeps them too).

    Parameters
    ----------
    G : networkx.DiGraph
    max_actors, max_ties : int
        At least 1.

    Raises
    ------
    ExportError
        When a limit is not a positive integer.
    """
    for name, value in (("max_actors", max_actors), ("max_ties", max_ties)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ExportError(f"{name} must be a positive integer, not {value!r}")
    if G.number_of_nodes() <= max_actors and G.number_of_edges() <= max_ties:
        return None
    from mapper.render.layout import select_view

    view = select_view(G, node_budget=max_actors, edge_budget=max_ties)
    return GraphFileReduction(
        nodes=tuple(view.nodes),
        edges=frozenset(view.edges),
        actors_total=G.number_of_nodes(),
        ties_total=G.number_of_edges(),
        max_actors=max_actors,
        max_ties=max_ties,
    )


def _reduced_graph(G: nx.Graph, reduction: GraphFileReduction) -> nx.Graph:
    """The subgraph ``reduction`` names, in ``G``'s node and edge order, with its
    attributes (shallow copies) and graph-level keys saying it is reduced."""
    H = G.__class__()
    H.graph.update(G.graph)
    H.graph.update(
        {
            "export_reduced": True,
            "export_note": reduction.note,
            "export_actors_total": reduction.actors_total,
            "export_ties_total": reduction.ties_total,
        }
    )
    nodes = G.nodes
    H.add_nodes_from((n, nodes[n]) for n in reduction.nodes)
    kept = reduction.edges
    H.add_edges_from((u, v, d) for u, v, d in G.edges(data=True) if (u, v) in kept)
    return H


def export_all(
    G: nx.Graph,
    folder: str | Path,
    formats: Iterable[str] = FORMATS,
    *,
    stem: str = "graph",
    n_jobs: int | None = None,
    reduction: GraphFileReduction | None = None,
) -> dict[str, Path]:
    """Write ``G`` in every format asked for, into ``folder``.

    Parameters
    ----------
    G : networkx.DiGraph
    folder : str or Path
    formats : iterable of str, default all of :data:`FORMATS`
    stem : str, default "graph"
        File name (without extension) of the single-file formats.
    n_jobs : int, optional
        With 2 or more, the GEXF, GraphML and JSON files are written by a forked
        process while this one writes the tables (when both are asked for and
        forking is safe: Linux, no other Python thread). Default: 2 from
        :data:`PARALLEL_EXPORT_TIES` ties on when two cores are available, else 1.
        The files are the same either way; a failure in the child is redone here,
        so errors are raised as without it.
    reduction : GraphFileReduction, optional
        From :func:`graph_file_reduction`: the GEXF, GraphML and JSON files hold only
        that subgraph, and say so (GEXF ``<meta><description>``, GraphML graph keys
        ``export_reduced``, ``export_note``, ``export_actors_total``,
        ``export_ties_total``, the same keys in the JSON ``graph`` object and a
        top-level ``reduced`` object in the JSON). The CSV and Parquet tables hold
        the whole of ``G``. Default: every file holds the whole graph.

    Returns
    -------
    dict
        ``"gexf"``, ``"graphml"``, ``"json"`` -> ``<stem>.<ext>``; ``"csv:nodes"``,
        ``"csv:edges"``, ``"csv:evidence"``, ``"parquet:nodes"``... -> the tables.

    Raises
    ------
    ExportError
        For an unknown format (before anything is written) or a file that cannot
        be written.

    Notes
    -----
    The graph is sanitized once (:func:`sanitize_graph`'s rules) for every format.
    """
    folder = Path(folder)
    if isinstance(formats, str):
        formats = (formats,)
    wanted = list(dict.fromkeys(_check_format(f) for f in formats))
    if not wanted:
        return {}
    graph_files = [f for f in wanted if f in GRAPH_FILE_FORMATS]
    tables = [f for f in wanted if f not in graph_files]
    prep = _prepare(G)
    graph_prep = prep
    if reduction is not None and graph_files:
        with gc_paused():
            graph_prep = _Prepared(
                _reduced_graph(G, reduction), ids=prep.ids, whole=G, reduction=reduction
            )
    # Sized on the whole graph: the tables are what takes the time; a reduced graph's
    # files are written by the child meanwhile (measured at 1M posts under load: 137 s
    # written one after the other, against 112 s for the whole graph in two processes).
    jobs = n_jobs if n_jobs is not None else _auto_export_jobs(G)
    done: dict[str, dict[str, Path]] = {}
    if jobs > 1 and graph_files and tables:
        # The child takes the writers that need no pyarrow (whose thread pool must
        # not be forked), this process the tables.
        child = _fork_writers(graph_prep, folder, stem, graph_files)
        try:
            for fmt in tables:
                done[fmt] = _write_format(prep, folder, stem, fmt)
        finally:
            found = _join_writers(child)
        for fmt in graph_files:  # what the child did not write is written here
            done[fmt] = found.get(fmt) or _write_format(graph_prep, folder, stem, fmt)
    else:
        for fmt in wanted:
            done[fmt] = _write_format(graph_prep if fmt in graph_files else prep, folder, stem, fmt)
    paths: dict[str, Path] = {}
    for fmt in wanted:
        paths.update(done[fmt])
    return paths


#: :func:`export_all` writes in two processes from this many ties on (by default).
PARALLEL_EXPORT_TIES = 200_000


def _auto_export_jobs(G: nx.Graph) -> int:
    if G.number_of_edges() < PARALLEL_EXPORT_TIES:
        return 1
    from mapper.parallel import cpu_count as _cpu_count

    return min(2, _cpu_count())


def _write_format(prep: _Prepared, folder: Path, stem: str, fmt: str) -> dict[str, Path]:
    if fmt in ("gexf", "graphml", "json"):
        return {fmt: _write_graph(prep, folder / f"{stem}.{fmt}", fmt)}
    if fmt == "csv":
        return {f"csv:{k}": p for k, p in _write_csv(prep, folder).items()}
    return {f"parquet:{k}": p for k, p in _write_parquet(prep, folder).items()}


def _child_writers(prep: _Prepared, folder: Path, stem: str, formats: list[str], conn: Any) -> None:
    """Forked child: write ``formats``, send back ``{format: paths}`` of those done."""
    done: dict[str, dict[str, Path]] = {}
    try:
        for fmt in formats:
            try:
                done[fmt] = _write_format(prep, folder, stem, fmt)
            except Exception:  # the parent writes it again and raises the error
                continue
    finally:
        try:
            conn.send(done)
        finally:
            conn.close()


def _fork_writers(prep: _Prepared, folder: Path, stem: str, formats: list[str]) -> Any:
    from mapper.parallel import fork_available as _fork_available

    if not _fork_available():
        return None
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_writers, args=(prep, folder, stem, formats, send))
    proc.daemon = True
    try:
        proc.start()
    except OSError:  # no process to be had: everything is written here
        recv.close()
        return None
    finally:
        send.close()
    return proc, recv


def _join_writers(child: Any) -> dict[str, dict[str, Path]]:
    if child is None:
        return {}
    proc, recv = child
    try:
        try:
            found = recv.recv()
        except (EOFError, OSError):
            found = {}
        proc.join()
        if proc.exitcode != 0 or not isinstance(found, dict):
            found = {}
        return {f: p for f, p in found.items() if all(Path(x).is_file() for x in p.values())}
    finally:
        recv.close()
        if proc.is_alive():
            proc.terminate()
            proc.join()
