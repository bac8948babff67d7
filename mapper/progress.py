"""Progress of the long stages, reported to a callback: the library never prints.

The pipeline calls a ``progress`` callback with a :class:`ProgressEvent` when a stage
starts, at most every half second while a metered stage runs (import: posts read and
bytes of the files; resolve: posts of the store), and when it ends (with its counts:
posts, actors, ties...). Each event carries what was done, of how much, how fast and,
when the total is known, how long is left; ``str(event)`` is a readable line. The
command line shows the events as a bar on a terminal and as plain lines otherwise;
a notebook may pass ``print``.

:class:`Meter` is the library's side: a stage gets one, counts through it
(:meth:`Meter.count` wraps an iterable, :meth:`Meter.counting_store` wraps a store so
that the posts an importer stores are counted), and the meter decides when to call
back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Meter", "Progress", "ProgressEvent", "format_seconds"]

#: Seconds between two events of a running stage.
INTERVAL = 0.5
# Items between two looks at the clock (a clock read per post would cost more than
# the counting).
_CHECK_EVERY = 256


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3 min 5 s``, ``1 h 02 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@dataclass(frozen=True)
class ProgressEvent:
    """Where a stage stands.

    Attributes
    ----------
    stage : str
        ``import``, ``resolve``, ``graph``, ``factions``, ``bridges``, ``alliances``,
        ``layout``, ``tables``, ``maps``, ``exports`` (or ``collect ...``).
    detail : str
        What the stage is on (a file name), may be empty.
    done : int or None
        Units done so far (``None`` for a stage that is not metered).
    total : int or None
        Units expected, when known.
    unit : str
        What is counted (``posts``).
    fraction : float or None
        Share of the stage done (0..1) when it is known by another measure than the
        units (the bytes of the files being imported).
    elapsed : float
        Seconds since the stage started.
    finished : bool
        The stage has ended (the last event of the stage).
    counts : mapping
        What the stage produced, for its last event (``{"actors": 70, "ties": 471}``).
    """

    stage: str
    detail: str = ""
    done: int | None = None
    total: int | None = None
    unit: str = ""
    fraction: float | None = None
    elapsed: float = 0.0
    finished: bool = False
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        """Units per second so far (``None`` until a measurable time has passed)."""
        if self.done is None or self.elapsed < 0.05:
            return None
        return self.done / self.elapsed

    @property
    def share(self) -> float | None:
        """Share of the stage done (0..1), when it can be told."""
        if self.total:
            return min(1.0, (self.done or 0) / self.total)
        if self.fraction is not None:
            return min(1.0, max(0.0, self.fraction))
        return None

    @property
    def eta(self) -> float | None:
        """Seconds left at the pace so far, when the share done is known."""
        share = self.share
        if self.finished or share is None or share <= 0.0 or self.elapsed < 1.0:
            return None
        return self.elapsed * (1.0 - share) / share

    def __str__(self) -> str:
        head = self.stage + (f" {self.detail}" if self.detail else "")
        parts: list[str] = []
        if self.done is not None and self.unit:
            if self.total is not None and not self.finished:
                count = f"{self.done:,} of {self.total:,} {self.unit}"
            else:
                count = f"{self.done:,} {self.unit}"
            rate = self.rate
            parts.append(count + (f" ({rate:,.0f}/s)" if rate is not None and self.done else ""))
        parts.extend(f"{value:,} {name}" for name, value in self.counts.items())
        text = ", ".join(parts)
        if self.finished:
            text += f" in {self.elapsed:.1f} s" if text else f"done in {self.elapsed:.1f} s"
        else:
            eta = self.eta
            if eta is not None:
                text += f", about {format_seconds(eta)} left"
        return f"{head}: {text}" if text else head


#: The callback the pipeline reports to.
Progress = Callable[[ProgressEvent], None]


class Meter:
    """Counts the work of one stage and reports it to ``progress`` now and then.

    Parameters
    ----------
    progress : callable or None
        Called with a :class:`ProgressEvent`; ``None`` makes the meter silent (it
        still counts).
    stage : str
        The stage's name.
    unit : str
        What :meth:`advance` counts.
    total : int, optional
        How many units are expected.
    """

    def __init__(
        self,
        progress: Progress | None,
        stage: str,
        *,
        unit: str = "",
        total: int | None = None,
    ) -> None:
        self.progress = progress
        self.stage = stage
        self.unit = unit
        self.total = total
        self.detail = ""
        self.done = 0
        self.fraction: float | None = None
        self.counts: dict[str, int] = {}
        #: Bytes of all the files the stage reads (for :meth:`counting_store`).
        self.total_bytes = 0
        self.metered = False
        self._start = time.perf_counter()
        self._last = self._start
        self._tick = 0

    @property
    def elapsed(self) -> float:
        """Seconds since the meter started."""
        return time.perf_counter() - self._start

    def event(self, *, finished: bool = False) -> ProgressEvent:
        """The stage as it stands."""
        return ProgressEvent(
            stage=self.stage,
            detail=self.detail,
            done=self.done if self.metered else None,
            total=self.total,
            unit=self.unit,
            fraction=self.fraction,
            elapsed=self.elapsed,
            finished=finished,
            counts=dict(self.counts) if finished else {},
        )

    def emit(self, *, finished: bool = False) -> None:
        """Report now."""
        self._last = time.perf_counter()
        if self.progress is not None:
            self.progress(self.event(finished=finished))

    def start(self, detail: str = "") -> None:
        """Report that the stage (or its next part, ``detail``) started."""
        self.detail = detail
        self.emit()

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more units; report when the last report is old enough."""
        self.metered = True
        self.done += n
        self._tick += n
        if self._tick >= _CHECK_EVERY:
            self._tick = 0
            if time.perf_counter() - self._last >= INTERVAL:
                self.emit()

    def count(self, items: Iterable[Any]) -> Iterator[Any]:
        """Yield ``items``, counting each."""
        self.metered = True
        for item in items:
            self.advance()
            yield item

    def finish(self, **counts: int) -> None:
        """Report the end of the stage with what it produced."""
        self.counts.update(counts)
        self.detail = ""
        self.emit(finished=True)

    def counting_store(self, store: Any, *, done_bytes: int = 0) -> Any:
        """``store`` with its ``add_posts`` counting the posts an importer stores.

        When the importer hands raw pointers with byte offsets into its file (X
        archives) and :attr:`total_bytes` is set, :attr:`fraction` follows the
        position in the file: ``done_bytes`` (of the files imported before) plus the
        offset, over :attr:`total_bytes`.
        """
        return _CountingStore(store, self, done_bytes)


class _CountingStore:
    """A store whose ``add_posts`` counts the posts through a :class:`Meter`; every
    other attribute is the store's own."""

    def __init__(self, store: Any, meter: Meter, done_bytes: int) -> None:
        self._store = store
        self._meter = meter
        self._done_bytes = done_bytes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def add_posts(self, posts: Iterable[Any], **options: Any) -> Any:
        return self._store.add_posts(self._counted(posts), **options)

    def _counted(self, posts: Iterable[Any]) -> Iterator[Any]:
        meter = self._meter
        total = meter.total_bytes
        for item in posts:
            if total and type(item) is tuple:
                offset = getattr(item[1], "offset", None)
                if offset is not None:
                    meter.fraction = (self._done_bytes + offset) / total
            meter.advance()
            yield item
