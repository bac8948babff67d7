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
import re
import sys
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
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
from mapper.records import REFERENCE_KINDS, utc

__all__ = [
    "EDGE_RENAMES",
    "FORMATS",
    "GRAPH_RENAMES",
    "NODE_RENAMES",
    "PALETTE",
    "clean_text",
    "export_all",
    "export_node_ids",
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

#: Faction colours for Gephi (Tableau 20 order: strong colours first).
PALETTE: tuple[tuple[int, int, int], ...] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
    (174, 199, 232),
    (255, 187, 120),
    (152, 223, 138),
    (255, 152, 150),
    (197, 176, 213),
    (196, 156, 148),
    (247, 182, 210),
    (199, 199, 199),
    (219, 219, 141),
    (158, 218, 229),
)
_NO_FACTION_COLOUR = (170, 170, 170)
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


def _json_data(value: Any) -> Any:
    """``value`` as plain JSON data (lists, dicts, str, numbers, bool, None)."""
    return json.loads(_json_text(value))


def _convert(value: Any, fmt: str) -> tuple[str, Any] | None:
    """Classify and convert one attribute value; ``None`` means drop it.

    Classes: ``bool``, ``int``, ``float``, ``str``, plus ``datetime`` (Parquet keeps
    timestamps) and ``json`` (node-link JSON keeps lists and dicts as JSON).
    """
    kind = type(value)  # exact types first: the common case, and fast
    if kind is str:
        return "str", clean_text(value)
    if kind is float:
        number = _finite(value)
        return None if number is None else ("float", number)
    if kind is bool:
        return "bool", value
    if kind is int:
        return ("int", value) if _INT64[0] <= value <= _INT64[1] else ("str", str(value))
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if value is None:
            return None
    if isinstance(value, bool):
        return "bool", bool(value)
    if isinstance(value, int):
        value = int(value)
        if _INT64[0] <= value <= _INT64[1]:
            return "int", value
        return "str", str(value)
    if isinstance(value, float):
        number = _finite(float(value))
        return None if number is None else ("float", number)
    if isinstance(value, str):
        return "str", clean_text(str(value))
    if isinstance(value, datetime):
        value = utc(value)
        return ("datetime", value) if fmt == "parquet" else ("str", value.isoformat())
    if isinstance(value, date | dtime):
        return "str", value.isoformat()
    if isinstance(value, bytes | bytearray):
        return "str", clean_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, Decimal | Fraction):
        number = _finite(float(value))
        return None if number is None else ("float", number)
    if isinstance(value, Mapping | list | tuple | set | frozenset | np.ndarray):
        if fmt == "json":
            return "json", _json_data(value)
        return "str", _json_text(value)
    return "str", clean_text(str(value))


def _finite(value: float) -> float | None:
    """A finite float, subnormals flushed to zero (igraph's GraphML reader rejects
    them as an overflow), or ``None`` for NaN and infinities."""
    if not math.isfinite(value):
        return None
    return 0.0 if abs(value) < _SMALLEST_NORMAL else value


def _as_text(cls: str, value: Any) -> str:
    if cls == "str":
        return value
    if cls == "bool":
        return "true" if value else "false"
    if cls == "datetime":
        return value.isoformat()
    if cls == "json":
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    return repr(value) if cls == "float" else str(value)


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


def _class_of(value: Any) -> str:
    """The class :func:`_convert` gave a converted value (read back from its type)."""
    kind = _CLASSES.get(type(value))
    if kind is not None:
        return kind
    if isinstance(value, datetime):
        return "datetime"
    return "json" if isinstance(value, list | dict) else "str"


def _sanitize_records(
    records: list[Mapping[Hashable, Any]],
    renames: Mapping[str, str],
    fmt: str,
    *,
    extras: list[dict[str, Any]] | None = None,
    float_keys: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Clean a list of attribute dicts (all nodes, or all edges) together.

    Every value is converted (see :func:`_convert`), ``None``, NaN and infinities are
    dropped, and each key ends with one type across all records: int mixed with float
    becomes float (when every int is exactly representable), any other mix becomes
    text for everyone. Keys in ``float_keys`` (edge ``weight``) are always floats;
    a value that is not a finite number is dropped.
    """
    if extras is None:
        extras = [{}] * len(records)
    generated = list(dict.fromkeys(k for extra in extras for k in extra))
    names = _key_names((k for rec in records for k in rec), renames, generated)
    float_names = {names[k] for k in float_keys if k in names}
    bad_chars = _BAD_CHARS.sub

    first_class: dict[str, str] = {}
    mixed: dict[str, set[str]] = {}
    result: list[dict[str, Any]] = []
    for rec, extra in zip(records, extras, strict=True):
        out: dict[str, Any] = {}
        items: Iterable[tuple[Hashable, Any]] = rec.items()
        if extra:
            items = [*items, *((_Generated(k), v) for k, v in extra.items())]
        for key, value in items:
            name = names[key]
            kind = type(value)
            # Inline fast paths for the common scalar types; _convert does the rest.
            if name in float_names:
                value = _as_weight(value)
                if value is None:
                    continue
                cls = "float"
            elif kind is str:
                if not value.isprintable():
                    value = bad_chars("", value)
                cls = "str"
            elif kind is float:
                value = _finite(value)
                if value is None:
                    continue
                cls = "float"
            elif kind is int and _INT64[0] <= value <= _INT64[1]:
                cls = "int"
            elif kind is bool:
                cls = "bool"
            else:
                item = _convert(value, fmt)
                if item is None:
                    continue
                cls, value = item
            out[name] = value
            seen = first_class.get(name)
            if seen is None:
                first_class[name] = cls
            elif seen != cls:
                mixed.setdefault(name, {seen}).add(cls)
        result.append(out)

    if not mixed:
        return result
    target: dict[str, str] = {}
    for name, seen_classes in mixed.items():
        target[name] = "float" if seen_classes == {"int", "float"} else "str"
    # Ints too large to be exact floats force their key to text.
    for out in result:
        for name, want in target.items():
            value = out.get(name)
            if want == "float" and type(value) is int and abs(value) > _EXACT_FLOAT_INT:
                target[name] = "str"
    for out in result:
        for name, want in target.items():
            if name not in out:
                continue
            value = out[name]
            cls = _class_of(value)
            if cls == want:
                continue
            out[name] = float(value) if want == "float" else _as_text(cls, value)
    return result


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


def _faction_key(value: Any) -> tuple[int, float, str]:
    number = _real(value)
    return (0, number, "") if number is not None else (1, 0.0, str(value))


def _viz(G: nx.Graph) -> dict[Hashable, dict[str, Any]]:
    """Gephi ``viz`` dicts for every node of ``G``.

    Colour: the node's ``color`` attribute when it parses (hex string, RGB(A)
    tuple or dict), else a palette colour for its ``faction`` (falling back to
    ``declared_faction``; integer factions take ``PALETTE[i % 20]``, so faction 0,
    the largest, is always blue; other values take palette slots in sorted order),
    grey without either. Size: ``influence`` scaled linearly to 5..50 (10 for
    everyone when no node has one). Position: the ``x`` and ``y`` attributes when
    both are numbers (``x`` is usually the X handle, a string, and then ignored).
    A node's own ``viz`` dict, where its parts are valid, overrides all three.
    """
    factions: dict[Hashable, Any] = {}
    for node, data in G.nodes(data=True):
        value = data.get("faction")
        if value is None or value == "":
            value = data.get("declared_faction")
        if isinstance(value, np.generic):
            value = value.item()
        if value is not None and value != "" and isinstance(value, Hashable):
            factions[node] = value
    distinct = sorted(set(factions.values()), key=_faction_key)
    slot: dict[Any, int] = {}
    for i, value in enumerate(distinct):
        number = _real(value)
        is_int = number is not None and number.is_integer() and not isinstance(value, float)
        slot[value] = int(number) % len(PALETTE) if is_int else i % len(PALETTE)

    sizes = {node: _real(data.get("influence")) for node, data in G.nodes(data=True)}
    known = [s for s in sizes.values() if s is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)

    result: dict[Hashable, dict[str, Any]] = {}
    for node, data in G.nodes(data=True):
        colour = _rgb(data.get("color"))
        if colour is None:
            r, g, b = PALETTE[slot[factions[node]]] if node in factions else _NO_FACTION_COLOUR
            colour = (r, g, b, 1.0)
        if not known:
            size = _DEFAULT_SIZE
        elif sizes[node] is None:
            size = _SIZE_RANGE[0]
        elif high > low:
            size = _SIZE_RANGE[0] + (sizes[node] - low) / (high - low) * (
                _SIZE_RANGE[1] - _SIZE_RANGE[0]
            )
        else:
            size = (_SIZE_RANGE[0] + _SIZE_RANGE[1]) / 2
        viz: dict[str, Any] = {
            "color": {"r": colour[0], "g": colour[1], "b": colour[2], "a": colour[3]},
            "size": float(size),
        }
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
          tuple or dict) or else a :data:`PALETTE` colour for its ``faction``
          (falling back to ``declared_faction``; integer faction ``i`` takes
          ``PALETTE[i % 20]``), grey without one; size from ``influence`` scaled
          linearly to 5..50; position from ``x`` and ``y`` when both are numbers
          (``x`` is normally the X handle, a string, and then ignored). The node's
          own ``viz`` is renamed ``attr_viz`` and its valid parts take precedence.

    Raises
    ------
    ExportError
        For an unknown format or a multigraph (collapse parallel edges first).
    """
    fmt = _check_format(for_format)
    if G.is_multigraph():
        raise ExportError(
            "multigraphs cannot be exported", hint="collapse parallel edges into weights first"
        )
    with gc_paused():
        return _sanitize(G, fmt, evidence=evidence)


def _sanitize(G: nx.Graph, fmt: str, *, evidence: bool = True) -> nx.DiGraph:
    """The body of :func:`sanitize_graph`, for a validated format."""
    ids = export_node_ids(G)
    node_renames = dict(NODE_RENAMES)
    if fmt == "gexf":
        node_renames["viz"] = "attr_viz"

    H = nx.DiGraph() if G.is_directed() else nx.Graph()
    graph_attrs = _sanitize_records([G.graph], GRAPH_RENAMES, fmt)[0]
    name = graph_attrs.get("name", "")
    if isinstance(name, datetime):
        name = name.isoformat()
    elif not isinstance(name, str):
        name = _json_text(name)  # GEXF writes the name as an XML attribute: text only
    graph_attrs["name"] = name
    H.graph.update(graph_attrs)

    nodes = list(G.nodes)
    extras = [
        {"original_id": repr(node)} if ids[node] != node or type(node) is not str else {}
        for node in nodes
    ]
    node_attrs = _sanitize_records([G.nodes[n] for n in nodes], node_renames, fmt, extras=extras)
    viz = _viz(G) if fmt == "gexf" else None
    for node, attrs in zip(nodes, node_attrs, strict=True):
        if viz is not None:
            attrs["viz"] = viz[node]
    # (node, dict) pairs, never **attrs: a key such as "node_for_adding" must not
    # collide with networkx's parameter names.
    H.add_nodes_from((ids[node], attrs) for node, attrs in zip(nodes, node_attrs, strict=True))

    edges = list(G.edges(data=True))
    records = [data for _, _, data in edges]
    if not evidence:
        records = [{k: v for k, v in data.items() if k != "evidence"} for data in records]
    edge_attrs = _sanitize_records(records, EDGE_RENAMES, fmt, float_keys=("weight",))
    H.add_edges_from(
        (ids[u], ids[v], attrs) for (u, v, _), attrs in zip(edges, edge_attrs, strict=True)
    )
    return H


# ---------------------------------------------------------------------------
# Graph writers


def _fail(what: str, path: Path, exc: BaseException) -> ExportError:
    return ExportError(f"cannot write {what}: {type(exc).__name__}: {exc}", source=path)


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
    attribute, colour/size/position are under each node's ``viz``. The per-edge
    ``evidence`` lists are left out (they are in the evidence table).
    """
    path = Path(path)
    try:
        H = sanitize_graph(G, for_format="gexf", evidence=False)
        with atomic_path(path) as tmp, gc_paused():
            nx.write_gexf(H, tmp)
    except MapperError:
        raise
    except Exception as exc:
        raise _fail("GEXF", path, exc) from exc
    return path


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
    igraph's ``Graph.Read_GraphML`` puts the node ids in the vertex attribute ``id``
    (hence the rename of a node attribute ``id`` to ``actor_id``). Its libxml2-based
    reader returns an ``&`` inside an XML attribute (a node id, a key name) as
    ``&#38;``; ``[i.replace("&#38;", "&") for i in g.vs["id"]]`` restores the ids
    exactly. Attribute values (``label``...) are element text and read back intact.
    The per-edge ``evidence`` lists are left out (they are in the evidence table).
    """
    path = Path(path)
    try:
        H = sanitize_graph(G, for_format="graphml", evidence=False)
        with atomic_path(path) as tmp, gc_paused():
            nx.write_graphml(H, tmp)
    except MapperError:
        raise
    except Exception as exc:
        raise _fail("GraphML", path, exc) from exc
    return path


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
    arrays; the file is strict JSON (no NaN).
    """
    path = Path(path)
    try:
        H = sanitize_graph(G, for_format="json")
        data = nx.node_link_data(H, edges="edges")
        with atomic_open(path, "w") as fh, gc_paused():
            json.dump(data, fh, ensure_ascii=False, allow_nan=False, indent=indent)
            fh.write("\n")
    except MapperError:
        raise
    except Exception as exc:
        raise _fail("JSON", path, exc) from exc
    return path


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


def _tables(
    G: nx.Graph, fmt: str
) -> tuple[
    tuple[list[str], list[dict[str, Any]]],
    tuple[list[str], list[dict[str, Any]]],
    tuple[list[str], list[dict[str, Any]]],
]:
    """Node, edge and evidence rows (with their column orders) of the sanitized graph."""
    H = sanitize_graph(G, for_format=fmt)
    node_rows = [{"id": node, **data} for node, data in H.nodes(data=True)]
    node_cols = ["id", *_ordered((k for _, d in H.nodes(data=True) for k in d), NODE_COLUMNS)]

    edge_rows: list[dict[str, Any]] = []
    evidence_rows: list[dict[str, Any]] = []
    for u, v, data in H.edges(data=True):
        row = {"source": u, "target": v}
        row.update((k, val) for k, val in data.items() if k != "evidence")
        edge_rows.append(row)
        items = data.get("evidence")
        if isinstance(items, str):
            try:
                items = json.loads(items)
            except ValueError:
                items = None
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, Mapping):
                evidence_rows.append(
                    {"source": u, "target": v, **{c: item.get(c) for c in EVIDENCE_COLUMNS[2:]}}
                )
    edge_keys = (k for _, _, d in H.edges(data=True) for k in d if k != "evidence")
    edge_cols = ["source", "target", *_ordered(edge_keys, EDGE_COLUMNS)]
    return (
        (node_cols, node_rows),
        (edge_cols, edge_rows),
        (list(EVIDENCE_COLUMNS), evidence_rows),
    )


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
    folder = Path(folder)
    nodes, edges, evidence = _tables(G, "csv")
    return {
        "nodes": write_rows_csv(nodes[1], folder / "nodes.csv", nodes[0]),
        "edges": write_rows_csv(edges[1], folder / "edges.csv", edges[0]),
        "evidence": write_rows_csv(evidence[1], folder / "evidence.csv", evidence[0]),
    }


def _parse_times(values: list[Any]) -> list[Any]:
    """ISO strings to aware datetimes when every non-empty one parses; else unchanged."""
    parsed: list[Any] = []
    for value in values:
        if value is None or value == "":
            parsed.append(None)
            continue
        if not isinstance(value, str):
            return values
        try:
            parsed.append(utc(datetime.fromisoformat(value)))
        except ValueError:
            return values
    return parsed


def _write_table(columns: list[str], rows: list[dict[str, Any]], path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for column in columns:
        values = [row.get(column) for row in rows]
        if column in ("time", "first", "last"):
            values = _parse_times(values)
        arrays[column] = pa.array(values)
    table = pa.table(arrays) if columns else pa.table({})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
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
    folder = Path(folder)
    nodes, edges, evidence = _tables(G, "parquet")
    paths: dict[str, Path] = {}
    for name, (columns, rows) in (("nodes", nodes), ("edges", edges), ("evidence", evidence)):
        path = folder / f"{name}.parquet"
        try:
            paths[name] = _write_table(columns, rows, path)
        except MapperError:
            raise
        except Exception as exc:
            raise _fail("Parquet", path, exc) from exc
    return paths


def export_all(
    G: nx.Graph,
    folder: str | Path,
    formats: Iterable[str] = FORMATS,
    *,
    stem: str = "graph",
) -> dict[str, Path]:
    """Write ``G`` in every format asked for, into ``folder``.

    Parameters
    ----------
    G : networkx.DiGraph
    folder : str or Path
    formats : iterable of str, default all of :data:`FORMATS`
    stem : str, default "graph"
        File name (without extension) of the single-file formats.

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
    """
    folder = Path(folder)
    if isinstance(formats, str):
        formats = (formats,)
    wanted = [_check_format(f) for f in formats]
    paths: dict[str, Path] = {}
    for fmt in dict.fromkeys(wanted):
        if fmt == "gexf":
            paths["gexf"] = write_gexf(G, folder / f"{stem}.gexf")
        elif fmt == "graphml":
            paths["graphml"] = write_graphml(G, folder / f"{stem}.graphml")
        elif fmt == "json":
            paths["json"] = write_json(G, folder / f"{stem}.json")
        elif fmt == "csv":
            paths.update({f"csv:{k}": p for k, p in write_csv(G, folder).items()})
        else:
            paths.update({f"parquet:{k}": p for k, p in write_parquet(G, folder).items()})
    return paths
