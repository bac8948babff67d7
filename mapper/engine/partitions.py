"""What a distributed run does to one partition of the inputs, and how partial results merge.

Plain functions and picklable objects, with no engine imported: Dask runs them
(:mod:`mapper.engine.dask`), and so could Spark (``mapPartitions`` then
``treeReduce``) or a process pool. A run over partitions:

1. :func:`plan_file` cuts each file of a source into :class:`Partition` objects: one
   per file, or byte ranges of a large plain JSONL archive (a line belongs to the
   range its first byte is in, so the ranges are cut at newlines);
   :func:`count_lines` numbers the lines of each range (a prefix sum over the ranges
   before it).
2. :func:`process_partition` reads one partition (a byte range with the X archive
   reader, a whole file with its importer into a private in-memory store), keeps the
   first copy of each post it read, resolves the posts against the roster in uid
   order and aggregates their edge events by ``(source, target)``. It returns a
   :class:`PartitionResult`: the import counts, the lines set aside, a hash of every
   post uid (to find posts that several partitions read) and the :class:`Partial`.
3. :func:`merge_partials` merges partials; it is associative and commutative, so any
   reduction tree gives the same result: weights and counts are sums (explicit
   weights exact, Shewchuk's partials), ``first``/``last`` are min/max, evidence is
   the ``k`` smallest distinct items by ``(time, post uid, type, url, snippet)``;
   provisional actors, their display names and the examples of the unresolved
   report are those of the smallest post uid, which is what the single-process
   resolver, reading the store in uid order, keeps.
4. :meth:`Partial.graph` and :meth:`Partial.resolution` give what
   :func:`mapper.pipeline.build` gives: the graph of
   :func:`mapper.graph.build_graph` (the same nodes, attributes, weights, counts,
   times and evidence) and the resolution (actors, topics, report, event count).

A post several partitions read (the same page in two files, overlapping pages) must
count once, as the store keeps one copy: the caller compares the uid hashes of every
partition, runs the partitions that share some again with those uids held out
(``hold_out``), and resolves the first copy of each (the partition earliest in
import order) itself with :func:`resolve_posts`.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from mapper.errors import GraphError, ImportFormatError, MapperError, StoreError
from mapper.graph.build import (
    _NO_TIME,
    _add_exact,
    checked_options,
    fold_events,
    gc_paused,
    graph_from_records,
    type_slots,
)
from mapper.records import Actor, EdgeEvent, Post
from mapper.resolve.resolver import Resolution, ResolutionReport, Resolver, _display_name
from mapper.resolve.roster import Roster

__all__ = [
    "EdgeAggregate",
    "EventCount",
    "Partial",
    "Partition",
    "PartitionResult",
    "Settings",
    "count_lines",
    "merge_partials",
    "plan_file",
    "process_partition",
    "resolve_posts",
    "uid_hashes",
]


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Partition:
    """One piece of the input, read by one task.

    Attributes
    ----------
    index : int
        Position in import order (sources in project order, files in sorted order,
        ranges in file order): the first copy of a post is the one of the lowest index.
    source : int
        The project source it belongs to (``[[sources]]`` index, from 1).
    kind : str
        The source type (``x-archive``, ``posts-csv``...).
    path : str
        The file, absolute.
    start, end : int or None
        The byte range; ``end`` is ``None`` for a whole file (read by its importer).
    first_line : int
        The number of the first line starting in the range.
    options : tuple of (str, Any)
        The source's options.
    base : str
        The project folder (options naming files are relative to it).
    """

    index: int
    source: int
    kind: str
    path: str
    start: int = 0
    end: int | None = None
    first_line: int = 1
    options: tuple[tuple[str, Any], ...] = ()
    base: str = ""

    @property
    def whole(self) -> bool:
        """Whether the partition is a whole file."""
        return self.end is None


def plan_file(
    kind: str,
    path: str | Path,
    *,
    source: int,
    first_index: int,
    partition_bytes: int,
    options: Mapping[str, Any] | None = None,
    base: str | Path = "",
) -> list[Partition]:
    """The partitions of one file: equal byte ranges of at most ``partition_bytes`` for
    a plain JSONL X archive larger than that, else the whole file.

    The ranges are numbered ``first_index`` on; their ``first_line`` is still 1 (set it
    from :func:`count_lines` of the ranges before).
    """
    from mapper.collectors.x_archive import archive_splittable

    if partition_bytes < 1:
        raise ValueError(f"partition_bytes must be at least 1, not {partition_bytes}")
    p = os.path.abspath(path)
    opts = tuple(sorted((str(k), v) for k, v in (options or {}).items()))
    common: dict[str, Any] = {
        "source": source,
        "kind": kind,
        "path": p,
        "options": opts,
        "base": str(base),
    }
    try:
        size = os.path.getsize(p)
    except OSError:
        size = 0
    if kind != "x-archive" or size <= partition_bytes or not archive_splittable(p):
        return [Partition(first_index, **common)]
    step = -(-size // -(-size // partition_bytes))  # equal ranges, none above the size
    return [
        Partition(first_index + n, start=at, end=min(at + step, size), **common)
        for n, at in enumerate(range(0, size, step))
    ]


def count_lines(partition: Partition) -> int:
    """How many lines start in a byte-range partition (0 for a whole file)."""
    from mapper.collectors.x_archive import count_range_lines

    if partition.whole:
        return 0
    return count_range_lines(partition.path, partition.start, partition.end or 0)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """What the graph stage takes from the project: the time window, the type weights
    and how much evidence each tie keeps (see :func:`mapper.graph.build_graph`)."""

    since: datetime | None = None
    until: datetime | None = None
    type_weights: tuple[tuple[str, float], ...] = ()
    max_evidence: int = 5

    @classmethod
    def of(cls, project: Any) -> Settings:
        """The settings of a :class:`~mapper.project.Project`."""
        return cls(
            since=project.since,
            until=project.until,
            type_weights=tuple(sorted((project.weights or {}).items())),
            max_evidence=project.max_evidence,
        )


# --------------------------------------------------------------------------- aggregate


class EdgeAggregate:
    """Edge events aggregated by ``(source, target)``, mergeable with another.

    The records are those of :func:`mapper.graph.build_graph`'s single pass (counts
    per type, exact partial sums of explicit weights, first and last time, the ``k``
    smallest evidence keys), so :meth:`graph` builds the same graph, attribute for
    attribute, as ``build_graph`` over the same events, however they were split.
    """

    __slots__ = ("edges", "endpoints", "k", "type_index", "type_list", "weights")

    def __init__(self, type_weights: Mapping[str, float] | None = None, max_evidence: int = 5):
        self.weights = checked_options(type_weights, max_evidence)
        self.type_index, self.type_list = type_slots(self.weights)
        self.k = max_evidence
        self.edges: dict[tuple[str, str], list[Any]] = {}
        self.endpoints: set[str] = set()

    def __len__(self) -> int:
        return len(self.edges)

    # Pickled as columns (node indexes, a counts matrix, times as microseconds, the
    # evidence as parallel lists): a partial crosses the network between workers and
    # back to the driver, and pickling a million small tuples and datetimes, with the
    # garbage collector counting every one, took seconds.

    def __getstate__(self) -> dict[str, Any]:
        with gc_paused():
            return self._columns()

    def __setstate__(self, state: dict[str, Any]) -> None:
        with gc_paused():
            self._from_columns(state)

    def _columns(self) -> dict[str, Any]:
        nodes: dict[str, int] = {}
        width = 2 * len(self.type_list)
        n = len(self.edges)
        src = np.empty(n, dtype=np.int64)
        dst = np.empty(n, dtype=np.int64)
        counts = np.zeros((n, width), dtype=np.int64)
        first = np.full(n, _NONE, dtype=np.int64)
        last = np.full(n, _NONE, dtype=np.int64)
        partials: dict[int, list[float]] = {}
        ev_edge: list[int] = []
        ev_flag: list[bool] = []
        ev_time: list[int] = []
        ev_post: list[str] = []
        ev_type: list[str] = []
        ev_url: list[str] = []
        ev_snippet: list[str] = []
        for i, ((source, target), rec) in enumerate(self.edges.items()):
            src[i] = nodes.setdefault(source, len(nodes))
            dst[i] = nodes.setdefault(target, len(nodes))
            row = rec[0]
            counts[i, : len(row)] = row
            if rec[1]:
                partials[i] = rec[1]
            if rec[2] is not None:
                first[i] = _micros(rec[2])
                last[i] = _micros(rec[3])
            keys = sorted(set(rec[4]))[: self.k]  # sorted: the last is the threshold
            for flag, time, post, etype, url, snippet in keys:
                ev_edge.append(i)
                ev_flag.append(flag)
                ev_time.append(_NONE if flag else _micros(time))
                ev_post.append(post)
                ev_type.append(etype)
                ev_url.append(url)
                ev_snippet.append(snippet)
        return {
            "weights": self.weights,
            "k": self.k,
            "type_list": self.type_list,
            "endpoints": sorted(self.endpoints),
            "nodes": list(nodes),
            "src": src,
            "dst": dst,
            "counts": counts,
            "partials": partials,
            "first": first,
            "last": last,
            "ev_edge": np.array(ev_edge, dtype=np.int64),
            "ev_flag": np.array(ev_flag, dtype=bool),
            "ev_time": np.array(ev_time, dtype=np.int64),
            "ev_post": ev_post,
            "ev_type": ev_type,
            "ev_url": ev_url,
            "ev_snippet": ev_snippet,
        }

    def _from_columns(self, state: dict[str, Any]) -> None:
        self.weights = state["weights"]
        self.k = state["k"]
        self.type_list = list(state["type_list"])
        self.type_index = {kind: i for i, kind in enumerate(self.type_list)}
        self.endpoints = set(state["endpoints"])
        nodes = state["nodes"]
        firsts = _datetimes(state["first"])
        lasts = _datetimes(state["last"])
        partials = state["partials"]
        edges: dict[tuple[str, str], list[Any]] = {}
        records = []
        for i, (s, t, row) in enumerate(
            zip(state["src"].tolist(), state["dst"].tolist(), state["counts"].tolist(), strict=True)
        ):
            rec = [row, partials.get(i), firsts[i], lasts[i], [], None]
            edges[(nodes[s], nodes[t])] = rec
            records.append(rec)
        times = _datetimes(state["ev_time"])
        for i, flag, time, post, etype, url, snippet in zip(
            state["ev_edge"].tolist(),
            state["ev_flag"].tolist(),
            times,
            state["ev_post"],
            state["ev_type"],
            state["ev_url"],
            state["ev_snippet"],
            strict=True,
        ):
            records[i][4].append((flag, _NO_TIME if flag else time, post, etype, url, snippet))
        for rec in records:
            keys = rec[4]
            if len(keys) == self.k:
                rec[5] = keys[-1]  # stored sorted: the k-th smallest is the threshold
        self.edges = edges

    def add(self, events: Iterable[EdgeEvent]) -> None:
        """Aggregate ``events`` (the loop of ``build_graph``, record for record)."""
        fold_events(events, self.edges, self.endpoints, self.type_index, self.type_list, self.k)

    def merge(self, other: EdgeAggregate) -> EdgeAggregate:
        """Add ``other`` into this aggregate (``other`` is consumed) and return it."""
        if other.k != self.k or other.weights != self.weights:
            raise GraphError("cannot merge aggregates built with other weights or evidence")
        for etype in other.type_list:
            if etype not in self.type_index:
                self.type_index[etype] = len(self.type_index)
                self.type_list.append(etype)
        slots = [self.type_index[t] for t in other.type_list]
        remap = slots != list(range(len(slots)))
        k = self.k
        for edge, orec in other.edges.items():
            counts = orec[0]
            if remap:
                moved = [0] * (2 * len(self.type_list))
                for i, slot in enumerate(slots):
                    if 2 * i < len(counts):
                        moved[2 * slot] = counts[2 * i]
                        moved[2 * slot + 1] = counts[2 * i + 1]
                counts = orec[0] = moved
            rec = self.edges.get(edge)
            if rec is None:
                self.edges[edge] = orec
                continue
            mine = rec[0]
            if len(mine) < len(counts):
                mine.extend([0] * (len(counts) - len(mine)))
            for i, n in enumerate(counts):
                mine[i] += n
            if orec[1]:
                if rec[1] is None:
                    rec[1] = list(orec[1])
                else:
                    for w in orec[1]:
                        _add_exact(rec[1], w)
            if orec[2] is not None and (rec[2] is None or orec[2] < rec[2]):
                rec[2] = orec[2]
            if orec[3] is not None and (rec[3] is None or orec[3] > rec[3]):
                rec[3] = orec[3]
            if k:
                keys = sorted(set(rec[4]) | set(orec[4]))[:k]
                rec[4] = keys
                rec[5] = keys[-1] if len(keys) == k else None
        self.endpoints |= other.endpoints
        return self

    def graph(
        self,
        actors: Mapping[str, Actor],
        *,
        topics: Mapping[str, Mapping[str, int]] | None = None,
        name: str = "",
    ) -> nx.DiGraph:
        """The graph :func:`mapper.graph.build_graph` makes of the same events (nodes and
        edges inserted in sorted order, the same attributes)."""
        with gc_paused():
            width = 2 * len(self.type_list)
            for rec in self.edges.values():  # records of parts that met fewer types
                if len(rec[0]) < width:
                    rec[0].extend([0] * (width - len(rec[0])))
            return graph_from_records(
                self.edges,
                self.endpoints,
                actors,
                type_list=self.type_list,
                weights=self.weights,
                max_evidence=self.k,
                topics=topics,
                name=name,
            )


#: A missing time, in the microsecond columns of a pickled aggregate.
_NONE = np.iinfo(np.int64).min
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _micros(time: datetime) -> int:
    """Microseconds since the epoch of an aware UTC time (exact)."""
    return (time - _EPOCH) // _MICRO


def _datetimes(micros: np.ndarray) -> list[datetime | None]:
    """Aware UTC datetimes of :func:`_micros` values (``None`` for :data:`_NONE`)."""
    out: list[datetime | None] = []
    epoch = _EPOCH
    for value in micros.tolist():
        out.append(None if value == _NONE else epoch + timedelta(microseconds=value))
    return out


# --------------------------------------------------------------------------- resolution


class _TracingResolver(Resolver):
    """A resolver that also records, for each provisional actor, the post that created
    it and the post whose display name named it (the merge keeps the smallest uid)."""

    def _reset(self) -> None:
        super()._reset()
        self.created: dict[str, tuple[str, int, Actor]] = {}
        self.named: dict[str, tuple[str, str | None]] = {}

    def _new_actor(
        self,
        actor_id: str,
        name: str,
        platform: str = "",
        *,
        handle: str = "",
        domain: str = "",
        external_id: str = "",
    ) -> str:
        fresh = actor_id not in self.roster.actors and actor_id not in self._provisional
        out = super()._new_actor(
            actor_id, name, platform, handle=handle, domain=domain, external_id=external_id
        )
        if fresh:
            self.created[actor_id] = (self._post_uid, len(self.created), self._provisional[out])
        return out

    def _unknown_account(
        self, platform: str, handle: str, *, is_id: bool = False, display: str = ""
    ) -> str | None:
        before = len(self._display_named)
        out = super()._unknown_account(platform, handle, is_id=is_id, display=display)
        if out is not None and len(self._display_named) > before:
            bare = handle.strip().removeprefix("@")
            renamed = _display_name(display).casefold() != bare.casefold()
            self.named[out] = (self._post_uid, self._provisional[out].name if renamed else None)
        return out


class EventCount(Sequence[EdgeEvent]):
    """Stands for :attr:`Resolution.events` after a distributed run: the events were
    aggregated where they were made, only their number came back."""

    def __init__(self, count: int) -> None:
        self.count_ = count

    def __len__(self) -> int:
        return self.count_

    def __getitem__(self, index: Any) -> Any:
        raise TypeError(
            "the events of a distributed run are aggregated on the workers and not kept;"
            " run with the single engine to list them"
        )

    def __repr__(self) -> str:
        return f"EventCount({self.count_})"


@dataclass
class Partial:
    """The mergeable result of resolving and aggregating some posts.

    Attributes
    ----------
    edges : EdgeAggregate
        Their edge events, aggregated.
    created : dict
        Provisional actor id -> ``(uid, order, actor)``: the post that created it first.
    named : dict
        Provisional actor id -> ``(uid, name or None)``: the first post that offered a
        display name for it, and the name it gave (``None`` when the display name was
        the handle itself).
    topics : dict
        Actor id -> topic counts.
    report : dict
        ``(category, platform, key) -> [posts, example uids, note]`` of what did not
        resolve.
    events : int
        Edge events made (before the time window).
    posts : int
        Posts resolved.
    """

    edges: EdgeAggregate
    created: dict[str, tuple[str, int, Actor]] = field(default_factory=dict)
    named: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    topics: dict[str, Counter[str]] = field(default_factory=dict)
    report: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
    events: int = 0
    posts: int = 0

    def merge(self, other: Partial) -> Partial:
        """Add ``other`` (consumed) into this partial and return it."""
        self.edges.merge(other.edges)
        for aid, made in other.created.items():
            mine = self.created.get(aid)
            if mine is None or made[:2] < mine[:2]:
                self.created[aid] = made
        for aid, named in other.named.items():
            had = self.named.get(aid)
            if had is None or named[0] < had[0]:
                self.named[aid] = named
        for aid, counts in other.topics.items():
            mine_topics = self.topics.get(aid)
            if mine_topics is None:
                self.topics[aid] = counts
            else:
                mine_topics.update(counts)
        for marker, (count, examples, note) in other.report.items():
            entry = self.report.get(marker)
            if entry is None:
                self.report[marker] = [count, list(examples), note]
                continue
            if examples and (not entry[1] or examples[0] < entry[1][0]):
                entry[2] = note  # the note of the entry's first post
            entry[0] += count
            entry[1] = sorted(set(entry[1]) | set(examples))[:_EXAMPLES]
        self.events += other.events
        self.posts += other.posts
        return self

    def resolution(self, roster: Roster) -> Resolution:
        """The :class:`~mapper.resolve.Resolution` the single-process resolver makes of
        the same posts (``events`` is an :class:`EventCount`)."""
        actors: dict[str, Actor] = dict(roster.actors)
        for aid, (_uid, _order, actor) in sorted(self.created.items(), key=lambda kv: kv[1][:2]):
            named = self.named.get(aid)
            if named is not None and named[1] is not None:
                actor = replace(actor, name=named[1])
            actors[aid] = actor
        report = ResolutionReport.from_counts(
            {m: (e[0], e[1], e[2]) for m, e in self.report.items()}, max_examples=_EXAMPLES
        )
        topics = dict(self.topics)
        return Resolution(EventCount(self.events), actors, topics, report)  # type: ignore[arg-type]

    def graph(self, roster: Roster, *, name: str = "") -> tuple[nx.DiGraph, Resolution]:
        """The graph and resolution :func:`mapper.pipeline.build` makes before its
        filters (graph files, ``min_weight``, kinds...) apply."""
        resolution = self.resolution(roster)
        G = self.edges.graph(resolution.actors, topics=resolution.topics, name=name)
        return G, resolution


#: Example post uids kept per entry of the unresolved report (ResolutionReport's default).
_EXAMPLES = 3


def resolve_posts(posts: list[Post], roster: Roster, settings: Settings) -> Partial:
    """Resolve ``posts`` (unique by uid) against ``roster`` and aggregate their events.

    The posts are resolved in uid order, the order the single-process pipeline reads
    them from the store, so the partial records what that order decides (which post
    created or named a provisional actor, the first examples of the report).
    """
    from mapper.graph.filters import filter_events

    posts = sorted(posts, key=_uid)
    resolver = _TracingResolver(roster)
    resolution = resolver.resolve(posts)
    events: Iterable[EdgeEvent] = resolution.events
    if settings.since or settings.until:
        events = filter_events(events, since=settings.since, until=settings.until)
    aggregate = EdgeAggregate(dict(settings.type_weights), settings.max_evidence)
    aggregate.add(events)
    report = {m: [c, list(ex), note] for m, (c, ex, note) in resolution.report.counts().items()}
    return Partial(
        edges=aggregate,
        created=resolver.created,
        named=resolver.named,
        topics=resolution.topics,
        report=report,
        events=len(resolution.events),
        posts=len(posts),
    )


def _uid(post: Post) -> str:
    return post.uid


def merge_partials(*items: Partial | PartitionResult) -> Partial:
    """Merge partials (or the partials of partition results) into one; associative and
    commutative, so any reduction tree gives the same :class:`Partial`."""
    found = [item.partial if isinstance(item, PartitionResult) else item for item in items]
    parts = [p for p in found if p is not None]
    if not parts:
        raise ValueError("nothing to merge")
    first = parts[0]
    with gc_paused():
        for other in parts[1:]:
            first.merge(other)
    return first


# --------------------------------------------------------------------------- one partition


def uid_hashes(uids: Iterable[str]) -> np.ndarray:
    """Sorted unique 64-bit hashes (BLAKE2b) of post uids: the same in every process,
    unlike ``hash()``."""
    digests = b"".join(hashlib.blake2b(u.encode(), digest_size=8).digest() for u in uids)
    return np.unique(np.frombuffer(digests, dtype="<u8"))


@dataclass
class PartitionResult:
    """What :func:`process_partition` found in one partition.

    Attributes
    ----------
    partition : Partition
    counts : dict
        The import counts (``lines``, ``posts``, ``added``, ``duplicates``,
        ``quarantined``... as the single engine's import reports them) of the
        partition; ``added`` counts the first copy of each post in it.
    error : str or None
        Why a whole file cannot be used (one line), as the single engine reports it.
    bad : list of (source, line, reason, excerpt)
        What was set aside, for the store's quarantine.
    reading : dict
        For a byte range: the reader's counts the whole-file verdict needs
        (:func:`mapper.collectors.x_archive.archive_problem`).
    hashes : numpy array
        :func:`uid_hashes` of the posts kept.
    held : list of Post
        The posts held out (their uid hash was in ``hold_out``).
    partial : Partial or None
        The resolved and aggregated posts; ``None`` in :meth:`meta`.
    """

    partition: Partition
    counts: dict[str, Any]
    error: str | None = None
    bad: list[tuple[str, int | None, str, Any]] = field(default_factory=list)
    reading: dict[str, Any] = field(default_factory=dict)
    hashes: np.ndarray = field(default_factory=lambda: np.empty(0, dtype="<u8"))
    held: list[Post] = field(default_factory=list)
    partial: Partial | None = None

    def meta(self) -> PartitionResult:
        """This result without its partial (what a driver gathers)."""
        return replace(self, partial=None)


def _read_whole(partition: Partition) -> tuple[list[Post], PartitionResult]:
    """A whole file, through its importer into a private in-memory store: the same
    posts (in uid order), counts, quarantine and errors as an import into the store."""
    from mapper.sources import import_file
    from mapper.store import Store

    result = PartitionResult(partition, counts={})
    with Store(":memory:") as temp:
        try:
            counts = import_file(
                partition.kind,
                Path(partition.path),
                temp,
                force=True,
                options=dict(partition.options),
                base=Path(partition.base) if partition.base else None,
            )
        except StoreError:
            raise
        except MapperError as exc:
            result.error = exc.one_line()
            return [], result
        result.counts = counts
        result.bad = [
            (row["source"], row["line"], row["reason"], row["raw"]) for row in temp.quarantined()
        ]
        posts = list(temp.iter_posts())
    return posts, result


def _read_range(partition: Partition) -> tuple[list[Post], PartitionResult]:
    """A byte range of a JSONL archive; the first copy of each post is kept."""
    from mapper.collectors.base import CollectResult
    from mapper.collectors.x_archive import ArchiveRange
    from mapper.sources import _counts

    source = os.path.abspath(partition.path)
    bad: list[tuple[str, int | None, str, Any]] = []
    reader = ArchiveRange(
        partition.path,
        partition.start,
        partition.end or 0,
        first_line=partition.first_line,
        on_bad=lambda line, reason, excerpt: bad.append((source, line, reason, excerpt)),
        include_referenced=bool(dict(partition.options).get("include_referenced", False)),
    )
    posts: list[Post] = []
    seen: set[str] = set()
    read = 0
    try:
        for post, _pointer in reader.items():
            read += 1
            if post.uid not in seen:
                seen.add(post.uid)
                posts.append(post)
    except ImportFormatError as exc:
        result = PartitionResult(partition, counts={}, error=exc.one_line())
        return [], result
    collected = CollectResult(source=partition.path)
    collected.lines = reader.owned
    collected.posts = read
    collected.added = len(posts)
    collected.duplicates = read - len(posts)
    collected.quarantined = len(bad)
    result = PartitionResult(partition, counts=_counts(collected), bad=bad)
    result.reading = {
        "lines": reader.lines,
        "readable": reader.readable,
        "bad_count": reader.bad_count,
        "first_bad": reader.first_bad,
        "post_records": reader.post_records,
        "not_posts": dict(reader.not_posts),
    }
    return posts, result


def process_partition(
    partition: Partition,
    roster: Roster,
    settings: Settings,
    hold_out: Sequence[int] | np.ndarray | None = None,
) -> PartitionResult:
    """Read, resolve and aggregate one partition.

    Parameters
    ----------
    partition : Partition
        What to read.
    roster : Roster
        The roster (an empty one when the project has none).
    settings : Settings
        The project's graph settings.
    hold_out : sequence of int, optional
        Uid hashes (:func:`uid_hashes`) of posts other partitions read too: these are
        returned in ``held`` instead of being resolved here.

    Returns
    -------
    PartitionResult
    """
    with gc_paused():  # millions of small objects, no cycles (see mapper.pipeline._timed)
        return _process(partition, roster, settings, hold_out)


def _process(
    partition: Partition,
    roster: Roster,
    settings: Settings,
    hold_out: Sequence[int] | np.ndarray | None,
) -> PartitionResult:
    reader = _read_whole if partition.whole else _read_range
    posts, result = reader(partition)
    if result.error is not None:
        result.partial = Partial(EdgeAggregate(dict(settings.type_weights), settings.max_evidence))
        return result
    result.hashes = uid_hashes(p.uid for p in posts)
    if hold_out is not None and len(hold_out):
        held = {int(h) for h in hold_out}
        keep: list[Post] = []
        for post in posts:
            (keep if int(uid_hashes((post.uid,))[0]) not in held else result.held).append(post)
        posts = keep
    result.partial = resolve_posts(posts, roster, settings)
    return result
