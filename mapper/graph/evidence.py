"""Evidence kept beside the graph, in columns, instead of inside every edge.

:func:`~mapper.graph.build_graph` keeps, for each tie, up to ``max_evidence`` posts
that show it (post uid, reference type, URL, time, snippet). As dicts inside the
edges' attribute dicts they were most of the graph's memory at scale (about 1.7 GB of
networkx graph for 865k ties at 1M posts). With ``evidence_table=True`` (what the
pipeline asks for), the items go into one :class:`EvidenceTable` instead, stored as
``G.graph["evidence"]``: a few flat arrays (Arrow strings, NumPy times and offsets),
looked up by edge. Each edge keeps its ``evidence`` key, so attribute order (and every
file written from it) is unchanged, but its value is the marker :data:`IN_TABLE`.

Read evidence with :func:`edge_evidence` (any graph: the table when the edge's value
is the marker, the edge's own list otherwise); :func:`evidence_table` gives the table
itself, for readers that want columns (the exports). Copies and subgraphs keep
``G.graph`` and therefore the table; an edge the table does not hold has no evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import networkx as nx
import numpy as np

__all__ = [
    "IN_TABLE",
    "EvidenceTable",
    "edge_evidence",
    "evidence_table",
]

#: The item fields, in the order build_graph writes them.
FIELDS: tuple[str, ...] = ("post", "type", "url", "time", "snippet")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


class _InTable:
    """The value of an edge's ``evidence`` when its items are in the evidence table."""

    _instance: _InTable | None = None

    def __new__(cls) -> _InTable:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __reduce__(self) -> str:
        return "IN_TABLE"  # pickles as the module's singleton

    def __repr__(self) -> str:
        return "<evidence in G.graph['evidence']>"

    def __bool__(self) -> bool:
        return True


#: Marker stored as an edge's ``evidence`` when the graph's table holds its items.
IN_TABLE = _InTable()


def _micros(value: datetime) -> int:
    """Microseconds since the epoch of an aware UTC datetime, exactly."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class EvidenceTable:
    """The evidence items of a graph's ties, in columns, looked up by ``(source, target)``.

    Built by :func:`~mapper.graph.build_graph` (``evidence_table=True``); read with
    :meth:`items` or :func:`edge_evidence`. Immutable.

    The edges are held as sorted ``source_index * n + target_index`` codes over the
    sorted node ids; the items of edge ``i`` are rows ``offsets[i]:offsets[i + 1]``
    of the columns ``post``, ``type``, ``url``, ``snippet`` (Arrow large strings)
    and ``time`` (microseconds since the epoch, ``has_time`` false where an item has
    no time).
    """

    def __init__(
        self,
        nodes: Sequence[str],
        edges: Sequence[tuple[str, str]],
        counts: Sequence[int],
        columns: dict[str, list[Any]],
    ) -> None:
        import pyarrow as pa

        self._node_index: dict[str, int] = {n: i for i, n in enumerate(nodes)}
        width = max(len(self._node_index), 1)
        index = self._node_index
        codes = np.fromiter(
            (index[u] * width + index[v] for u, v in edges), dtype=np.int64, count=len(edges)
        )
        sizes = np.asarray(counts, dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        if len(order) and not np.all(order == np.arange(len(order))):
            starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
            rows = np.concatenate(
                [np.arange(starts[i], starts[i] + sizes[i]) for i in order]
                or [np.zeros(0, dtype=np.int64)]
            )
            codes, sizes = codes[order], sizes[order]
            columns = {k: [col[r] for r in rows] for k, col in columns.items()}
        self._width = width
        self._codes = codes
        self._offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        self._strings = {
            name: pa.array(columns[name], type=pa.large_string())
            for name in ("post", "type", "url", "snippet")
        }
        times = columns["time"]
        self._has_time = np.fromiter((t is not None for t in times), dtype=bool, count=len(times))
        self._time = np.fromiter(
            (0 if t is None else _micros(t) for t in times), dtype=np.int64, count=len(times)
        )

    def __eq__(self, other: object) -> bool:
        """Equal when they hold the same edges with the same items."""
        if not isinstance(other, EvidenceTable):
            return NotImplemented
        return (
            self._node_index == other._node_index
            and np.array_equal(self._codes, other._codes)
            and np.array_equal(self._offsets, other._offsets)
            and np.array_equal(self._has_time, other._has_time)
            and np.array_equal(self._time, other._time)
            and all(self._strings[k].equals(other._strings[k]) for k in self._strings)
        )

    __hash__ = None  # type: ignore[assignment]

    # -- size ------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of edges held (with or without items)."""
        return len(self._codes)

    @property
    def n_items(self) -> int:
        """Number of evidence items held."""
        return int(self._offsets[-1])

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays (not counting the node index)."""
        arrays = (self._codes, self._offsets, self._has_time, self._time)
        return sum(a.nbytes for a in arrays) + sum(s.nbytes for s in self._strings.values())

    # -- lookup ----------------------------------------------------------------------

    def _position(self, u: Any, v: Any) -> int | None:
        iu = self._node_index.get(u)
        iv = self._node_index.get(v)
        if iu is None or iv is None:
            return None
        code = iu * self._width + iv
        i = int(np.searchsorted(self._codes, code))
        if i < len(self._codes) and self._codes[i] == code:
            return i
        return None

    def __contains__(self, edge: object) -> bool:
        if not isinstance(edge, tuple) or len(edge) != 2:
            return False
        return self._position(edge[0], edge[1]) is not None

    def items(self, u: Any, v: Any) -> list[dict[str, Any]] | None:
        """The evidence of ``u -> v`` as build_graph's dicts (``post``, ``type``,
        ``url``, ``time``, ``snippet``), earliest first; ``None`` when the table does
        not hold the edge (``[]`` when it holds it without items)."""
        i = self._position(u, v)
        if i is None:
            return None
        return self._rows(int(self._offsets[i]), int(self._offsets[i + 1]))

    def _rows(self, start: int, stop: int) -> list[dict[str, Any]]:
        if start == stop:
            return []
        cols = {k: s[start:stop].to_pylist() for k, s in self._strings.items()}
        times = self._times(start, stop)
        return [
            {
                "post": cols["post"][j],
                "type": cols["type"][j],
                "url": cols["url"][j],
                "time": times[j],
                "snippet": cols["snippet"][j],
            }
            for j in range(stop - start)
        ]

    def _times(self, start: int, stop: int) -> list[datetime | None]:
        epoch, one = _EPOCH, _ONE_US
        return [
            epoch + one * int(us) if has else None
            for us, has in zip(
                self._time[start:stop].tolist(), self._has_time[start:stop].tolist(), strict=True
            )
        ]

    def columns(self, edges: Iterable[tuple[Any, Any]]) -> tuple[list[int], dict[str, list[Any]]]:
        """The items of ``edges``, in that order, as columns.

        Returns
        -------
        tuple
            ``(counts, columns)``: the number of items of each edge (0 for an edge the
            table does not hold) and the columns :data:`FIELDS` over all of them
            (times as aware UTC datetimes or ``None``).
        """
        starts: list[int] = []
        stops: list[int] = []
        offsets = self._offsets
        for u, v in edges:
            i = self._position(u, v)
            if i is None:
                starts.append(0)
                stops.append(0)
            else:
                starts.append(int(offsets[i]))
                stops.append(int(offsets[i + 1]))
        counts = [b - a for a, b in zip(starts, stops, strict=True)]
        total = sum(counts)
        if total == self.n_items and starts == offsets[:-1].tolist():
            rows = None  # every item, in stored order
        else:
            rows = np.concatenate(
                [np.arange(a, b, dtype=np.int64) for a, b in zip(starts, stops, strict=True)]
                or [np.zeros(0, dtype=np.int64)]
            )
        out: dict[str, list[Any]] = {}
        for name, strings in self._strings.items():
            out[name] = (strings if rows is None else strings.take(rows)).to_pylist()
        us = self._time if rows is None else self._time[rows]
        has = self._has_time if rows is None else self._has_time[rows]
        epoch, one = _EPOCH, _ONE_US
        out["time"] = [
            epoch + one * t if h else None for t, h in zip(us.tolist(), has.tolist(), strict=True)
        ]
        return counts, {name: out[name] for name in FIELDS}


def evidence_table(G: nx.Graph) -> EvidenceTable | None:
    """``G``'s evidence table, or ``None`` when its edges carry their own lists."""
    table = G.graph.get("evidence")
    return table if isinstance(table, EvidenceTable) else None


def edge_evidence(G: nx.Graph, u: Any, v: Any) -> list[dict[str, Any]]:
    """The evidence items of the edge ``u -> v`` of ``G`` (``[]`` when it has none or
    there is no such edge), as build_graph's dicts, from the graph's table or from
    the edge's own ``evidence`` list.

    On an undirected graph made from a table-backed one, the stored direction is
    tried when the other is not held.
    """
    data = G.get_edge_data(u, v)
    if not isinstance(data, dict):
        return []
    value = data.get("evidence")
    if value is IN_TABLE:
        table = evidence_table(G)
        if table is None:
            return []
        items = table.items(u, v)
        if items is None and not G.is_directed():
            items = table.items(v, u)
        return items or []
    if isinstance(value, list):
        return value
    return list(value) if isinstance(value, tuple) else []
