"""Time: how factions, bridges and alliances move, window by window.

A timeline cuts the project's posts into time windows, builds each window's graph from
the same store and runs the same analysis on it (factions with their significance
test, bridge figures, alliance opportunities). Factions are then matched from one
window to the next by the overlap of their members, so that a faction keeps its name
and colour while it lasts, and what changed between two windows can be said: who
moved, which faction split, merged, appeared or ended, which bridge rose, which
alliance opportunity opened or closed.

The posts are read and resolved once; each window is a slice of the resolved
references, in the half-open interval ``[start, end)``, as ``[graph] since`` and
``until`` filter a whole run (:func:`mapper.graph.filter_events`). A window whose
factions are not supported by the data (no faction, or a structure the significance
test does not carry) is *too thin*: it keeps the warnings a whole run would get and
tells no story (no names, no moves, no opened alliances).

The matching rules, thresholds and the definition of a move are described in
``docs/timeline.md``; the constants below are the numbers it quotes.
"""

from __future__ import annotations

import bisect
import calendar
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import networkx as nx

from mapper.analysis.strength import EvidenceWarning, warning
from mapper.errors import ConfigError, MapperError

if TYPE_CHECKING:
    import pandas as pd

    from mapper.progress import Progress
    from mapper.project import Project
    from mapper.store import Store

__all__ = [
    "CONTINUE_JACCARD",
    "MIN_HOME_PARTNERS",
    "MIN_MOVE_PARTNERS",
    "MIN_SHARED",
    "MOVE_ALPHA",
    "MOVE_SHARE",
    "MOVE_STABILITY",
    "PART_SHARE",
    "SEPARATION_ALPHA",
    "SEPARATION_SHARE",
    "Period",
    "Timeline",
    "Window",
    "WindowResult",
    "check_step",
    "make_windows",
    "match_factions",
    "parse_period",
    "parse_windows",
    "run_timeline",
    "separate_factions",
]

#: Two factions of consecutive windows are the same faction continued when the
#: Jaccard overlap of their members (shared / in either) is at least this ...
CONTINUE_JACCARD = 0.3
#: ... and they share at least this many members. Splits and merges need as many.
MIN_SHARED = 3
#: A faction is split from a faction of the previous window when at least this share
#: of its members were there; a faction merged into one of the next window when at
#: least this share of its members went there.
PART_SHARE = 0.5
#: A change of faction counts as a move only when the actor landed with its faction
#: in at least this share of the runs in both windows (``stability``) ...
MOVE_STABILITY = 0.5
#: ... has ties to at least this many members of its new faction in the new window, and
#: more there than to members of its old faction ...
MIN_MOVE_PARTNERS = 3
#: ... and had ties to at least this many members of its old faction in the old window.
MIN_HOME_PARTNERS = 2
#: At least this share of the actor's partners in followed factions are in the new
#: faction in the new window, and were in the old faction in the old window: an actor
#: whose ties spread over factions has no faction to move from or to.
MOVE_SHARE = 0.6
#: The shift of the actor's partners from the old faction to the new one between the two
#: windows must be significant at this level (one-sided Fisher exact test, adjusted over
#: every candidate move of the timeline by Benjamini-Hochberg).
MOVE_ALPHA = 0.05
#: Within a window, two detected factions are read as one when the references between
#: them are not significantly fewer than their activity predicts (one-sided Poisson
#: test of the shortage against the configuration model, at this level).
SEPARATION_ALPHA = 0.05
#: ... fewer than this share of what they would be were the two one faction. The
#: algorithm cuts where ties are fewest, so even one evenly mixed group cut in two has
#: fewer ties across the cut than the model of one faction predicts: about three
#: quarters of them in planted mixed groups with a few hundred ties, down to half or
#: less in thin windows. Ties between real factions are a small share.
SEPARATION_SHARE = 0.55

#: Stage name of the timeline's own warnings.
STAGE = "timeline"

_DAY = timedelta(days=1)


# --------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class Period:
    """A length of time written ``<n><unit>``: ``3d`` (days), ``2w`` (weeks), ``1m``
    (calendar months)."""

    count: int
    unit: str  # "d", "w" or "m"

    def __str__(self) -> str:
        return f"{self.count}{self.unit}"

    def add(self, moment: datetime, times: int = 1) -> datetime:
        """``moment`` plus ``times`` periods (months keep the day, clipped to the month)."""
        if self.unit == "d":
            return moment + timedelta(days=self.count * times)
        if self.unit == "w":
            return moment + timedelta(weeks=self.count * times)
        months = moment.month - 1 + self.count * times
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day)

    def align(self, moment: datetime) -> datetime:
        """The start of the day (``d``), the Monday (``w``) or the first of the month
        (``m``) on or before ``moment``, at midnight UTC."""
        day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if self.unit == "w":
            return day - timedelta(days=day.weekday())
        if self.unit == "m":
            return day.replace(day=1)
        return day


_PERIOD = re.compile(r"^\s*(\d+)\s*(d|day|days|w|week|weeks|m|month|months)\s*$", re.I)


def parse_period(text: str, *, field_name: str = "every") -> Period:
    """Read ``1w``, ``3d``, ``1m`` (also ``2 weeks``...) as a :class:`Period`.

    Raises :class:`~mapper.errors.ConfigError` naming ``field_name`` otherwise.
    """
    match = _PERIOD.match(str(text))
    if not match or int(match.group(1)) < 1:
        raise ConfigError(
            f"not a period: {str(text)!r}",
            field=field_name,
            hint="write a number and a unit: 3d (days), 1w (weeks) or 1m (months)",
        )
    return Period(int(match.group(1)), match.group(2)[0].lower())


def check_step(every: Period, step: Period) -> None:
    """Refuse a ``step`` longer than ``every``: the windows would leave stretches of
    time that no window covers, and a move in a gap would go unseen. Raises
    :class:`~mapper.errors.ConfigError` naming both options."""
    moment = datetime(2001, 1, 1, tzinfo=UTC)
    if step.add(moment) > every.add(moment):
        raise ConfigError(
            f"--step {step} is longer than --every {every}: the windows would leave gaps "
            "that no window covers",
            field="step",
            hint=f"use a step no longer than the windows, e.g. --every {step} or --step {every}",
        )


def _moment(text: str, *, field_name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"not a date: {text.strip()!r}",
            field=field_name,
            hint="write windows as 2016-06-01:2016-07-01,2016-07-01:2016-08-01",
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_windows(text: str | Sequence[str], *, field_name: str = "windows") -> list[tuple]:
    """Read explicit windows: ``start:end`` pairs separated by commas (or a list of
    them). Each window is ``[start, end)``; dates may carry a time
    (``2016-07-01T12:00``), which is then written with a ``T``.

    Returns ``[(start, end), ...]`` (aware UTC datetimes) in the order given.
    """
    items = [text] if isinstance(text, str) else list(text)
    pieces = [p.strip() for item in items for p in str(item).split(",") if p.strip()]
    if not pieces:
        raise ConfigError("no window given", field=field_name, hint="e.g. 2016-06-01:2016-07-01")
    out = []
    for piece in pieces:
        # a date-time holds colons too: split on the colon that starts the second date
        match = re.match(r"^(.+?):(\d{4}-\d{2}-\d{2}.*)$", piece)
        if not match:
            raise ConfigError(
                f"not a window: {piece!r}",
                field=field_name,
                hint="write start:end, e.g. 2016-06-01:2016-07-01",
            )
        start = _moment(match.group(1), field_name=field_name)
        end = _moment(match.group(2), field_name=field_name)
        if end <= start:
            raise ConfigError(
                f"the window {piece!r} is empty: its end is not after its start",
                field=field_name,
                hint="the end is exclusive: posts at or after it are left out",
            )
        out.append((start, end))
    return out


@dataclass(frozen=True)
class Window:
    """One time window ``[start, end)`` of a timeline."""

    index: int
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        """``w01``, ``w02``...: a short id, in order."""
        return f"w{self.index + 1:02d}"

    @property
    def label(self) -> str:
        """``2016-07-04 to 2016-07-10`` (the last day inside the window), or the exact
        bounds when they do not fall at midnight."""
        if _midnight(self.start) and _midnight(self.end):
            last = self.end - _DAY
            if last == self.start:
                return f"{self.start:%Y-%m-%d}"
            return f"{self.start:%Y-%m-%d} to {last:%Y-%m-%d}"
        return f"{self.start:%Y-%m-%dT%H:%M} to {self.end:%Y-%m-%dT%H:%M} (excluded)"


def _midnight(moment: datetime) -> bool:
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def make_windows(
    first: datetime,
    last: datetime,
    every: Period,
    *,
    step: Period | None = None,
    aligned: bool = True,
) -> list[Window]:
    """Windows of length ``every`` covering ``[first, last]``.

    Consecutive windows start ``step`` apart (default: ``every``, windows side by
    side; a shorter step gives sliding, overlapping windows). With ``aligned``, the
    first window starts at the start of the day, week (Monday) or month holding
    ``first``, so weekly windows run Monday to Sunday; otherwise at ``first``.
    """
    step = step or every
    start = every.align(first) if aligned else first
    out: list[Window] = []
    i = 0
    while True:
        begin = step.add(start, i)
        if begin > last:
            break
        out.append(Window(len(out), begin, every.add(begin)))
        i += 1
        if len(out) > 100_000:
            raise ConfigError(
                "more than 100,000 windows", field="every", hint="choose a longer period"
            )
    return out


# ------------------------------------------------------------------------- results


@dataclass
class WindowResult:
    """One window: its graph and what the analysis found in it.

    ``supported`` is false for a window too thin to tell a story: no faction, or
    factions the significance test does not carry (``reason`` says which). Its
    ``warnings`` are those a whole run on the same posts would get.
    """

    window: Window
    graph: nx.DiGraph
    references: int
    #: the window's :class:`~mapper.analysis.factions.FactionResult`
    factions: Any = None
    #: the bridge figures (``is_bridge``) only: ``actor``, ``rank``, ``score``
    bridges: list[dict[str, Any]] | None = None
    #: ``opportunities`` (``a``, ``b``, names, ``score``) and ``pairs`` (``a``, ``b``,
    #: ``status``) of the alliance report, by local faction id
    alliances: dict[str, Any] | None = None
    warnings: list[EvidenceWarning] = field(default_factory=list)
    supported: bool = False
    reason: str = ""
    #: local faction id -> stable faction key (supported windows only)
    keys: dict[int, int] = field(default_factory=dict)
    #: factions found by the algorithm before those not separated were read as one
    #: (``None``: none were joined)
    detected: int | None = None
    #: derived lookups, computed once the keys are set (see :func:`_partition_keys`)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def faction_of(self, actor: Any) -> int | None:
        """The stable faction key of ``actor`` in this window (``None``: none)."""
        if not self.supported or self.factions is None:
            return None
        local = self.factions.partition.get(actor)
        return None if local is None else self.keys.get(local)


@dataclass
class TrackedFaction:
    """A faction followed across windows: one name and one colour while it lasts."""

    key: int
    name: str
    colour: str
    born: int  # index of the window it first appears in
    origin: str = "new"  # "new" or "split from <name>"
    last: int = -1  # index of the last window it appears in
    ended: str = ""  # "", "ended", "merged into <name>"
    parent: int | None = None  # the faction it split from
    merged_into: int | None = None  # the faction it merged into


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Match:
    """How the factions of two consecutive supported windows relate.

    ``continued`` maps a current local faction to the previous faction's key it
    continues; ``split_from`` a current local faction to the key it split from;
    ``merged_into`` a previous key to the current local faction it merged into;
    ``born`` lists current local factions with no predecessor; ``ended`` lists the
    previous keys with no successor.
    """

    continued: dict[int, int]
    split_from: dict[int, int]
    merged_into: dict[int, int]
    born: tuple[int, ...]
    ended: tuple[int, ...]
    overlap: dict[tuple[int, int], int]


def match_factions(
    previous: Mapping[Any, int],
    current: Mapping[Any, int],
    *,
    order: Mapping[int, tuple] | None = None,
    continue_jaccard: float = CONTINUE_JACCARD,
    min_shared: int = MIN_SHARED,
    part_share: float = PART_SHARE,
) -> Match:
    """Match the factions of two windows by their members.

    Parameters
    ----------
    previous : mapping
        Actor -> faction key in the earlier window.
    current : mapping
        Actor -> local faction id in the later window.
    order : mapping, optional
        Previous key -> sort key used to break ties (default: the key itself); the
        timeline passes ``(window of birth, key)``, so an older faction wins a tie.

    Rules, applied in this order:

    1. *continuation*: pairs sharing at least ``min_shared`` members with a Jaccard
       overlap of at least ``continue_jaccard`` are taken one to one, the largest
       overlap first (ties: more shared members, then the older previous faction,
       then the lower current id);
    2. *split*: a current faction left over, at least ``part_share`` of whose members
       (and ``min_shared`` or more) were in one previous faction, split from it; when
       that previous faction has no continuation, its largest such part continues it;
    3. *merge*: a previous faction left over, at least ``part_share`` of whose members
       (and ``min_shared`` or more) are in one current faction, merged into it;
    4. *birth*: a current faction still left over is new;
    5. *end*: a previous faction still left over has ended.
    """
    order = order or {}
    size_prev: Counter[int] = Counter(previous.values())
    size_cur: Counter[int] = Counter(current.values())
    overlap: Counter[tuple[int, int]] = Counter()
    for actor, key in previous.items():
        local = current.get(actor)
        if local is not None:
            overlap[(key, local)] += 1

    def rank(pair: tuple[int, int]) -> tuple:
        key, local = pair
        return (order.get(key, (key,)), key, local)

    candidates = []
    for (key, local), shared in overlap.items():
        jaccard = shared / (size_prev[key] + size_cur[local] - shared)
        if shared >= min_shared and jaccard >= continue_jaccard:
            candidates.append((-jaccard, -shared, rank((key, local)), key, local))
    candidates.sort()
    continued: dict[int, int] = {}
    taken: set[int] = set()
    for _j, _s, _r, key, local in candidates:
        if key in taken or local in continued:
            continue
        continued[local] = key
        taken.add(key)

    # splits: the previous faction that gave a leftover current faction most of it
    split_from: dict[int, int] = {}
    for local in sorted(size_cur):
        if local in continued:
            continue
        best = None
        for key in sorted(size_prev, key=lambda k: (order.get(k, (k,)), k)):
            shared = overlap.get((key, local), 0)
            big = shared >= min_shared and shared >= part_share * size_cur[local]
            if big and (best is None or shared > best[0]):
                best = (shared, key)
        if best is not None:
            split_from[local] = best[1]
    # a split faction whose parent has no continuation: its largest part continues it
    parts: dict[int, list[int]] = defaultdict(list)
    for local, key in split_from.items():
        parts[key].append(local)
    for key in sorted(parts):
        if key in taken:
            continue
        heir = min(parts[key], key=lambda c: (-overlap[(key, c)], -size_cur[c], c))
        continued[heir] = key
        taken.add(key)
        del split_from[heir]

    merged_into: dict[int, int] = {}
    for key in sorted(size_prev):
        if key in taken:
            continue
        best = None
        for local in sorted(size_cur):
            shared = overlap.get((key, local), 0)
            big = shared >= min_shared and shared >= part_share * size_prev[key]
            if big and (best is None or shared > best[0]):
                best = (shared, local)
        if best is not None and best[1] in continued:
            merged_into[key] = best[1]
    born = tuple(c for c in sorted(size_cur) if c not in continued and c not in split_from)
    ended = tuple(k for k in sorted(size_prev) if k not in taken and k not in merged_into)
    return Match(continued, split_from, merged_into, born, ended, dict(overlap))


# --------------------------------------------------------------------------- timeline


@dataclass
class Timeline:
    """Everything a timeline computed.

    The tables (:meth:`windows_frame`, :meth:`memberships_frame`,
    :meth:`moves_frame`, :meth:`factions_frame`, :meth:`bridges_frame`,
    :meth:`alliances_frame`) are lists of dicts here and pandas DataFrames through
    the ``*_frame`` methods; :attr:`results` holds each window's graph and analysis.
    """

    project_name: str
    results: list[WindowResult]
    factions: dict[int, TrackedFaction]
    memberships: list[dict[str, Any]]
    moves: list[dict[str, Any]]
    faction_rows: list[dict[str, Any]]
    events: list[dict[str, Any]]
    bridge_rows: list[dict[str, Any]]
    alliance_rows: list[dict[str, Any]]
    warnings: list[EvidenceWarning]
    union: nx.DiGraph
    undated: int = 0
    every: str = ""
    step: str = ""

    @property
    def windows(self) -> list[Window]:
        """The windows, in order."""
        return [r.window for r in self.results]

    def window_rows(self) -> list[dict[str, Any]]:
        """One row per window: bounds, counts, significance, whether supported."""
        rows = []
        for r in self.results:
            res = r.factions
            sig = res.significance if res is not None else None
            rows.append(
                {
                    "window": r.window.key,
                    "start": r.window.start.isoformat(),
                    "end": r.window.end.isoformat(),
                    "label": r.window.label,
                    "references": r.references,
                    "actors": r.graph.number_of_nodes(),
                    "ties": r.graph.number_of_edges(),
                    "factions": res.n_factions if res is not None else 0,
                    "modularity": round(float(res.modularity), 4) if res is not None else None,
                    "z": None if sig is None or sig.z is None else round(float(sig.z), 2),
                    "p": None if sig is None else round(float(sig.p), 4),
                    "significant": None if sig is None else bool(sig.significant),
                    "supported": r.supported,
                    "reason": r.reason,
                    "warnings": "; ".join(dict.fromkeys(w.code for w in r.warnings)),
                }
            )
        return rows

    def warning_rows(self) -> list[dict[str, str]]:
        """Every warning with its window (``""`` for the timeline's own)."""
        rows = [{"window": "", **w.as_dict()} for w in self.warnings]
        for r in self.results:
            seen: set[tuple[str, str]] = set()
            for w in r.warnings:
                if (w.code, w.message) not in seen:
                    seen.add((w.code, w.message))
                    rows.append({"window": r.window.key, **w.as_dict()})
        return rows

    def graph(self, window: int | str) -> nx.DiGraph:
        """The graph of one window, by index or key (``"w03"``)."""
        for r in self.results:
            if window in (r.window.index, r.window.key):
                return r.graph
        raise KeyError(window)

    def _frame(self, rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(rows, columns=list(columns))

    def windows_frame(self) -> pd.DataFrame:
        """:meth:`window_rows` as a DataFrame."""
        return self._frame(self.window_rows(), WINDOW_COLUMNS)

    def memberships_frame(self) -> pd.DataFrame:
        """Actor x window: the faction (stable name) and what changed."""
        return self._frame(self.memberships, MEMBERSHIP_COLUMNS)

    def moves_frame(self) -> pd.DataFrame:
        """The moves, with their date and the ties that drove them."""
        return self._frame(self.moves, MOVE_COLUMNS)

    def factions_frame(self) -> pd.DataFrame:
        """Faction x window: size, cohesion, significance of the window, event."""
        return self._frame(self.faction_rows, FACTION_COLUMNS)

    def events_frame(self) -> pd.DataFrame:
        """Births, splits, merges and ends of factions."""
        return self._frame(self.events, EVENT_COLUMNS)

    def bridges_frame(self) -> pd.DataFrame:
        """Bridge figures per supported window, with their rank."""
        return self._frame(self.bridge_rows, BRIDGE_COLUMNS)

    def alliances_frame(self) -> pd.DataFrame:
        """Alliance opportunities per supported window: opened, open, closed."""
        return self._frame(self.alliance_rows, ALLIANCE_COLUMNS)

    def summary(self) -> dict[str, Any]:
        """Counts for the CLI and ``timeline.json``."""
        from mapper.analysis.strength import warnings_as_dicts

        return {
            "project": self.project_name,
            "every": self.every,
            "step": self.step,
            "windows": len(self.results),
            "supported_windows": sum(1 for r in self.results if r.supported),
            "thin_windows": [r.window.key for r in self.results if not r.supported],
            "factions": len(self.factions),
            "moves": len(self.moves),
            "splits": sum(1 for e in self.events if e["event"] == "split"),
            "merges": sum(1 for e in self.events if e["event"] == "merged"),
            "undated_references": self.undated,
            "warnings": warnings_as_dicts(self.warnings),
        }


WINDOW_COLUMNS = (
    "window",
    "start",
    "end",
    "label",
    "references",
    "actors",
    "ties",
    "factions",
    "modularity",
    "z",
    "p",
    "significant",
    "supported",
    "reason",
    "warnings",
)
MEMBERSHIP_COLUMNS = (
    "window",
    "start",
    "actor",
    "label",
    "faction",
    "faction_key",
    "stability",
    "change",
    "previous",
)
MOVE_COLUMNS = (
    "actor",
    "label",
    "from_faction",
    "to_faction",
    "from_window",
    "to_window",
    "window_start",
    "date",
    "stability_before",
    "stability_after",
    "partners",
    "new_ties",
    "p_shift",
    "p_adjusted",
    "held",
    "ties",
    "evidence",
)
FACTION_COLUMNS = (
    "window",
    "start",
    "faction",
    "faction_key",
    "colour",
    "size",
    "cohesion",
    "modularity",
    "z",
    "significant",
    "event",
)
EVENT_COLUMNS = ("window", "start", "event", "faction", "other", "shared", "detail")
BRIDGE_COLUMNS = ("window", "start", "actor", "label", "faction", "rank", "score", "is_bridge")
ALLIANCE_COLUMNS = ("window", "start", "faction_a", "faction_b", "event", "status", "score")


def _colour(key: int) -> str:
    from mapper.render.layout import OTHER_GROUPS_COLOUR, PALETTE

    return PALETTE[key] if key < len(PALETTE) else OTHER_GROUPS_COLOUR


def _unique(name: str, used: set[str]) -> str:
    out, n = name, 2
    while out in used:
        out = f"{name} ({n})"
        n += 1
    used.add(out)
    return out


def _label(G: nx.Graph, actor: Any) -> str:
    from mapper.text import display_label

    data = G.nodes[actor] if actor in G else {}
    return display_label(data.get("label") or actor)


# ----------------------------------------------------------------------- the run


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def window_specs(
    first: datetime | None,
    last: datetime | None,
    *,
    every: str | Period | None = None,
    step: str | Period | None = None,
    windows: str | Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Window]:
    """The windows of a timeline, from ``--every``/``--step`` or explicit ``--windows``.

    Periodic windows cover the first to the last dated reference (``since`` and
    ``until`` of the project, when set, bound them: the first window then starts at
    ``since`` exactly and the last ends at ``until`` at the latest). Explicit windows
    are used as given, cut to ``[since, until)``.
    """
    if windows:
        pairs = parse_windows(windows)
        out = []
        for start, end in pairs:
            start = max(start, since) if since else start
            end = min(end, until) if until else end
            if end > start:
                out.append(Window(len(out), start, end))
        if not out:
            raise ConfigError(
                "every window lies outside the project's [graph] since/until",
                field="windows",
            )
        return out
    if every is None:
        raise ConfigError(
            "no windows: give --every (e.g. 1w) or --windows",
            field="every",
            hint="mapper timeline mapper.toml --every 1w",
        )
    period = every if isinstance(every, Period) else parse_period(every)
    stride = None
    if step:
        stride = step if isinstance(step, Period) else parse_period(step, field_name="step")
    lo = since or first
    hi = (until - timedelta(microseconds=1)) if until else last
    if lo is None or hi is None or hi < lo:
        raise MapperError(
            "no dated post to cut into windows",
            hint="a timeline needs posts with a time (or [graph] since and until)",
        )
    out = make_windows(lo, hi, period, step=stride, aligned=since is None)
    if until:
        out = [Window(w.index, w.start, min(w.end, until)) for w in out]
    return out


def resolve_once(project: Project, store: Store, *, progress: Progress | None = None) -> Any:
    """Resolve the store's posts of the project once (the run's ``resolve`` stage)."""
    from mapper.origins import source_scope
    from mapper.pipeline import _timed
    from mapper.resolve import Resolver, load_roster

    timings: dict[str, float] = {}
    with _timed(timings, "resolve", progress, unit="posts") as meter:
        roster = load_roster(project.roster) if project.roster else None
        resolver = Resolver(roster) if roster else Resolver.empty()
        scope = source_scope(project, store)
        meter.total = store.count_posts()
        resolution = resolver.resolve(
            meter.count(store.iter_posts(exclude_origins=scope.excluded_ids))
        )
        meter.counts.update(actors=len(resolution.actors), references=len(resolution.events))
    return resolution, scope


def graph_of(
    project: Project, events: Iterable[Any], resolution: Any, *, evidence: bool = True
) -> nx.DiGraph:
    """The graph of some resolved references, built and filtered as a run builds its
    graph (weights, evidence, ``[graph]`` filters, influence); graph files are not
    merged (their ties carry no time). ``evidence=False`` keeps no evidence items."""
    from mapper.graph import apply_influence, build_graph, filter_graph, influence

    G = build_graph(
        events,
        resolution.actors,
        type_weights=project.weights,
        max_evidence=project.max_evidence if evidence else 0,
        topics=resolution.topics,
        name=project.name,
    )
    if (
        project.min_weight
        or project.kinds is not None
        or project.largest_component
        or project.drop_provisional
    ):
        G = filter_graph(
            G,
            min_weight=project.min_weight or None,
            kinds=project.kinds,
            largest_component=project.largest_component,
            drop_provisional=project.drop_provisional,
        )
    apply_influence(G, influence(G))
    return G


def separation_p(observed: int, expected: float) -> float:
    """One-sided Poisson p of seeing ``observed`` references or fewer between two
    factions when ``expected`` are predicted: small when the shortage is significant."""
    from scipy.stats import poisson

    if expected <= 0:
        return 1.0
    return float(poisson.cdf(observed, expected))


def separate_factions(
    G: nx.DiGraph,
    partition: Mapping[Any, int],
    *,
    alpha: float = SEPARATION_ALPHA,
    share: float = SEPARATION_SHARE,
    min_size: int = MIN_SHARED,
) -> dict[int, int]:
    """Which detected factions of one window are separated from each other.

    Modularity often cuts an evenly mixed group in two halves, and a window of sparse
    ties makes such halves look like factions. Two factions ``f`` and ``g`` are
    *separated* when the references between them are significantly fewer than they
    would be if the two were one faction. Read as one faction, the configuration model
    of that faction predicts ``d_f * d_g / (d_f + d_g)`` references between the two
    parts, where ``d_f`` counts the references of ``f``'s members inside the pair (twice
    those within ``f``, once those between). Since the algorithm chose the cut with the
    fewest references across, that prediction is scaled by ``share``, and the observed
    count is compared with it by a one-sided Poisson test of the shortage at ``alpha``.

    The factions are joined greedily: the pair whose shortage is least significant is
    joined first, the counts recomputed, and so on until every remaining pair with a
    reference between them is significantly short. Factions with no reference between
    them are never joined (nothing in the data puts them together), nor are factions of
    fewer than ``min_size`` members (they are not followed). Ties go to the pair of
    lowest ids, so the result is deterministic.

    Returns
    -------
    dict
        Faction id -> id of the group it belongs to (the lowest faction id of the
        group); every faction of ``partition`` is a key.
    """
    sizes = Counter(partition.values())
    group = {f: f for f in sorted(sizes)}
    big = {f for f in sizes if sizes[f] >= min_size}
    if len(big) < 2:
        return group
    inside: Counter[int] = Counter()
    between: Counter[tuple[int, int]] = Counter()
    for u, v, data in G.edges(data=True):
        fu, fv = partition.get(u), partition.get(v)
        if u == v or fu not in big or fv not in big:
            continue
        n = int(data.get("count", 1) or 0)
        if fu == fv:
            inside[fu] += n
        else:
            between[(min(fu, fv), max(fu, fv))] += n
    live = {f: {f} for f in sorted(big)}
    ties = {pair: n for pair, n in between.items() if n > 0}
    while len(live) > 1:
        best = None
        for (a, b), n in sorted(ties.items()):
            da, db = 2 * inside[a] + n, 2 * inside[b] + n
            p = separation_p(n, share * da * db / (da + db))
            if p >= alpha and (best is None or p > best[0]):
                best = (p, a, b)
        if best is None:
            break
        _, a, b = best
        live[a] |= live.pop(b)
        inside[a] += inside.pop(b) + ties[(a, b)]
        merged: Counter[tuple[int, int]] = Counter()
        for (x, y), n in ties.items():
            x, y = (a if x == b else x), (a if y == b else y)
            if x != y:
                merged[(min(x, y), max(x, y))] += n
        ties = dict(merged)
    for head, joined in live.items():
        for f in joined:
            group[f] = head
    return group


def _join_factions(G: nx.DiGraph, res: Any, group: Mapping[int, int]) -> tuple[Any, dict]:
    """The window's factions with each group of :func:`separate_factions` read as one:
    ids renumbered by size (then smallest member), names given afresh, cohesion the mean
    stability of the members. Returns the new result and old id -> new id."""
    from dataclasses import replace

    from mapper.analysis.factions import name_factions

    members: dict[int, list[Any]] = defaultdict(list)
    for actor, f in res.partition.items():
        members[group[f]].append(actor)
    heads = sorted(members, key=lambda h: (-len(members[h]), min(str(a) for a in members[h])))
    new_id = {h: i for i, h in enumerate(heads)}
    old_to_new = {f: new_id[group[f]] for f in group}
    partition = {a: old_to_new[f] for a, f in res.partition.items()}
    cohesion = {
        new_id[h]: sum(float(res.stability.get(a, 0.0)) for a in ms) / len(ms)
        for h, ms in members.items()
    }
    kept = {
        old_to_new[f]: name
        for f, name in res.names.items()
        if f in old_to_new and sum(1 for g in group.values() if g == group[f]) == 1
    }
    names = dict(kept)
    if len(kept) < len(heads):
        fresh = name_factions(G, partition)
        used = set(kept.values())
        for i in range(len(heads)):
            if i not in names:
                names[i] = _unique(fresh[i], used)
                used.add(names[i])
    joined = replace(res, partition=partition, names=names, cohesion=cohesion)
    return joined, old_to_new


def _analyse_window(project: Project, window: Window, G: nx.DiGraph, references: int) -> Any:
    from mapper.pipeline import analyse

    result = WindowResult(window=window, graph=G, references=references)
    if G.number_of_nodes() == 0:
        result.warnings = [
            warning(
                "empty-graph",
                "graph",
                f"window {window.label}: no post referred to anyone: there is nothing to analyse.",
            )
        ]
        result.reason = "no reference between actors"
        return result
    out = analyse(project, G, stages=("factions", "bridges", "alliances"))
    result.factions = out["factions"]
    # only what the timeline reads is kept: a year of weekly windows would otherwise
    # hold every actor's bridge measures and every faction pair of every window
    result.bridges = [
        {k: row.get(k) for k in ("actor", "rank", "score", "is_bridge")}
        for row in out.get("bridges") or []
        if row.get("is_bridge")
    ]
    report = out.get("alliances") or {}
    result.alliances = {
        "opportunities": [
            {k: o.get(k) for k in ("a", "b", "name_a", "name_b", "score")}
            for o in report.get("opportunities", [])
        ],
        "pairs": [{k: p.get(k) for k in ("a", "b", "status")} for p in report.get("pairs", [])],
    }
    result.warnings = list(out.get("warnings", []))
    res = result.factions
    codes = {w.code for w in res.warnings}
    if res.n_factions >= 2 and "factions-equal-components" in codes:
        # separate pieces of the graph: random graphs that keep the pieces apart cannot
        # differ from them, but nothing in the data ties the factions together either
        result.supported = True
    elif res.n_factions < 2:
        result.reason = "fewer than two factions"
    elif res.significance is None:
        result.reason = "the significance of the factions was not tested"
    elif not res.significance.significant:
        result.reason = "the factions are not significant (" + res.significance.describe() + ")"
    else:
        result.supported = True
    if result.supported and not res.requested_factions:
        _read_joined(result)
    return result


def _read_joined(result: WindowResult) -> None:
    """Read as one the factions of a supported window that are not separated (see
    :func:`separate_factions`); a window left with fewer than two factions is too thin."""
    res = result.factions
    group = separate_factions(result.graph, res.partition)
    if all(f == g for f, g in group.items()):
        return
    joined, old_to_new = _join_factions(result.graph, res, group)
    result.detected = res.n_factions
    result.factions = joined
    if joined.n_factions < 2:
        result.supported = False
        result.reason = (
            "the factions are not separated (the references between them are not "
            "significantly fewer than their activity predicts)"
        )
        return
    pairs: set[tuple[str, int, int]] = set()
    for kind in ("opportunities", "pairs"):
        kept = []
        for item in (result.alliances or {}).get(kind, []):
            a, b = old_to_new.get(item["a"]), old_to_new.get(item["b"])
            if a is None or b is None or a == b or (kind, min(a, b), max(a, b)) in pairs:
                continue
            pairs.add((kind, min(a, b), max(a, b)))
            item = item | {"a": a, "b": b}
            if "name_a" in item:
                item |= {"name_a": joined.names.get(a), "name_b": joined.names.get(b)}
            kept.append(item)
        if result.alliances is not None:
            result.alliances[kind] = kept


def run_timeline(
    project: Project,
    *,
    every: str | Period | None = None,
    step: str | Period | None = None,
    windows: str | Sequence[str] | None = None,
    collect: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> Timeline:
    """Import the project's sources once, then build and analyse every window.

    Parameters
    ----------
    project : Project
        A loaded project; its ``[graph]`` options shape each window's graph, its
        ``[factions]`` options (and seed) each window's factions.
    every, step : str or Period, optional
        Window length and, for sliding windows, the distance between window starts
        (``"1w"``, ``"3d"``, ``"1m"``). Default: the project's ``[timeline]`` options.
    windows : str or list of str, optional
        Explicit windows instead (``"2016-06-01:2016-07-01,2016-07-01:2016-08-01"``).
    collect, force : bool
        As for :func:`mapper.pipeline.run_project`.
    progress : callable, optional
        Hears each stage and each window.

    Returns
    -------
    Timeline
    """
    from mapper.pipeline import import_sources
    from mapper.project import _no_sources
    from mapper.store import Store

    if not project.sources:
        raise _no_sources(project.path)
    if windows is None and every is None:
        windows = project.timeline_windows or None
        if windows is None:
            every = project.timeline_every or None
            step = step or project.timeline_step or None
    # bad options fail before anything is read
    if windows:
        parse_windows(windows)
    if isinstance(every, str):
        every = parse_period(every)
    if isinstance(step, str):
        step = parse_period(step, field_name="step")
    if not windows and isinstance(every, Period) and isinstance(step, Period):
        check_step(every, step)
    with Store(project.store) as store:
        imports = import_sources(project, store, collect=collect, force=force, progress=progress)
        resolution, scope = resolve_once(project, store, progress=progress)
    dated = []
    undated = 0
    for event in resolution.events:
        if event.time is None:
            undated += 1
        else:
            dated.append((_aware(event.time), event))
    dated.sort(key=lambda pair: pair[0])
    times = [t for t, _ in dated]
    specs = window_specs(
        times[0] if times else None,
        times[-1] if times else None,
        every=every,
        step=step,
        windows=windows,
        since=project.since,
        until=project.until,
    )
    tl_warnings: list[EvidenceWarning] = list(scope.warnings())
    failed = [i for i in imports if i.get("error")]
    for item in failed:
        tl_warnings.append(warning("timeline-source-not-read", STAGE, f"not read: {item['error']}"))
    if undated:
        tl_warnings.append(
            warning(
                "timeline-undated",
                STAGE,
                f"{undated} reference{'s' if undated != 1 else ''} without a time "
                "fall in no window and are left out of the timeline.",
            )
        )
    if any(s.type == "graph" for s in project.sources):
        tl_warnings.append(
            warning(
                "timeline-undated",
                STAGE,
                "the ties of graph files carry no time: they are left out of every window.",
            )
        )
    results: list[WindowResult] = []
    for window in specs:
        lo = bisect.bisect_left(times, window.start)
        hi = bisect.bisect_left(times, window.end)
        events = [e for _, e in dated[lo:hi]]
        if progress is not None:
            progress(f"window {window.key} {window.label}: {len(events)} references")
        G = graph_of(project, events, resolution)
        results.append(_analyse_window(project, window, G, len(events)))
    if progress is not None:
        progress("timeline: one layout graph of the whole period; factions matched")
    lo = bisect.bisect_left(times, specs[0].start)
    hi = bisect.bisect_left(times, max(w.end for w in specs))
    # the union graph only places the actors (one layout for every window)
    union = graph_of(project, (e for _, e in dated[lo:hi]), resolution, evidence=False)
    timeline = _track(project.name, results, union)
    timeline.undated = undated
    timeline.warnings = tl_warnings + timeline.warnings
    timeline.every = "" if windows else str(every if every is not None else "")
    timeline.step = "" if windows else str(step or "")
    return timeline


# ------------------------------------------------------------------------- tracking


def _tie_rows(G: nx.DiGraph, actor: Any, members: set[Any]) -> list[tuple[Any, float, dict]]:
    """``(partner, weight, edge data)`` of the ties between ``actor`` and ``members``
    (both directions summed), strongest first, then by partner id."""
    found: dict[Any, list] = {}
    for _, other, data in G.out_edges(actor, data=True):
        if other in members and other != actor:
            found.setdefault(other, [0.0, []])
            found[other][0] += float(data.get("weight", 1.0))
            found[other][1].append(data)
    for other, _, data in G.in_edges(actor, data=True):
        if other in members and other != actor:
            found.setdefault(other, [0.0, []])
            found[other][0] += float(data.get("weight", 1.0))
            found[other][1].append(data)
    rows = [(other, w, items) for other, (w, items) in found.items()]
    rows.sort(key=lambda r: (-r[1], str(r[0])))
    return rows


def _first_time(items: list[dict]) -> datetime | None:
    times = [d.get("first") for d in items if d.get("first") is not None]
    return min(times) if times else None


def _evidence(items: list[dict], limit: int = 2) -> list[str]:
    out = []
    for data in items:
        for ev in data.get("evidence") or []:
            ref = ev.get("url") or ev.get("post") or ""
            if ref and ref not in out:
                out.append(str(ref))
            if len(out) >= limit:
                return out
    return out


def _track(name: str, results: list[WindowResult], union: nx.DiGraph) -> Timeline:
    """Match the factions of consecutive supported windows and derive the stories."""
    tracked: dict[int, TrackedFaction] = {}
    used_names: set[str] = set()
    memberships: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    supported_so_far: list[WindowResult] = []
    moved_into: dict[Any, tuple[int, int]] = {}
    faction_rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    bridge_rows: list[dict[str, Any]] = []
    alliance_rows: list[dict[str, Any]] = []
    warned: list[EvidenceWarning] = []
    previous: WindowResult | None = None
    uncertain = 0
    open_pairs: dict[tuple[str, str], dict[str, Any]] = {}

    def new_faction(r: WindowResult, local: int, origin: str = "new") -> int:
        key = len(tracked)
        display = r.factions.names.get(local, f"faction {local + 1}")
        tracked[key] = TrackedFaction(
            key=key,
            name=_unique(str(display), used_names),
            colour=_colour(key),
            born=r.window.index,
            origin=origin,
        )
        return key

    for r in results:
        w = r.window
        base = {"window": w.key, "start": w.start.date().isoformat()}
        event_of: dict[int, str] = {}
        if r.supported:
            res = r.factions
            sizes = Counter(res.partition.values())
            locals_ = sorted(f for f, n in sizes.items() if n >= MIN_SHARED)
            if previous is None:
                for local in locals_:
                    r.keys[local] = new_faction(r, local)
                    event_of[r.keys[local]] = "first seen"
                    events.append(
                        {**base, "event": "born", "faction": tracked[r.keys[local]].name}
                        | {
                            "other": "",
                            "shared": None,
                            "detail": f"{tracked[r.keys[local]].name}: in the first supported "
                            "window",
                        }
                    )
                match = None
            else:
                prev_map = {a: k for a, k in _partition_keys(previous).items()}
                order = {k: (t.born, k) for k, t in tracked.items()}
                tracked_now = {a: f for a, f in res.partition.items() if sizes[f] >= MIN_SHARED}
                match = match_factions(prev_map, tracked_now, order=order)
                for local, key in match.continued.items():
                    r.keys[local] = key
                    event_of[key] = "continued"
                for local in sorted(match.split_from):
                    parent = tracked[match.split_from[local]]
                    key = new_faction(r, local, origin=f"split from {parent.name}")
                    tracked[key].parent = parent.key
                    r.keys[local] = key
                    event_of[key] = f"split from {parent.name}"
                    events.append(
                        {**base, "event": "split", "faction": tracked[key].name}
                        | {
                            "other": parent.name,
                            "shared": match.overlap.get((parent.key, local), 0),
                            "detail": f"{tracked[key].name} split from {parent.name}",
                        }
                    )
                for local in match.born:
                    key = new_faction(r, local)
                    r.keys[local] = key
                    event_of[key] = "born"
                    events.append(
                        {**base, "event": "born", "faction": tracked[key].name}
                        | {
                            "other": "",
                            "shared": None,
                            "detail": f"{tracked[key].name} appeared (no predecessor)",
                        }
                    )
                for old, local in sorted(match.merged_into.items()):
                    into = tracked[r.keys[local]]
                    tracked[old].ended = f"merged into {into.name}"
                    tracked[old].merged_into = into.key
                    event_of.setdefault(into.key, "continued")
                    event_of[into.key] += f"; {tracked[old].name} merged in"
                    events.append(
                        {**base, "event": "merged", "faction": tracked[old].name}
                        | {
                            "other": into.name,
                            "shared": match.overlap.get((old, local), 0),
                            "detail": f"{tracked[old].name} merged into {into.name}",
                        }
                    )
                for old in match.ended:
                    tracked[old].ended = "ended"
                    events.append(
                        {**base, "event": "ended", "faction": tracked[old].name}
                        | {
                            "other": "",
                            "shared": None,
                            "detail": f"{tracked[old].name} ended (no successor)",
                        }
                    )
            for local in locals_:
                t = tracked[r.keys[local]]
                t.last = w.index
                size = sizes[local]
                sig = res.significance
                faction_rows.append(
                    {**base, "faction": t.name, "faction_key": t.key, "colour": t.colour}
                    | {
                        "size": size,
                        "cohesion": round(float(res.cohesion.get(local, 0.0)), 4),
                        "modularity": round(float(res.modularity), 4),
                        "z": None if sig is None or sig.z is None else round(float(sig.z), 2),
                        "significant": None if sig is None else bool(sig.significant),
                        "event": event_of.get(t.key, ""),
                    }
                )
            reference = next(
                (p for p in reversed(supported_so_far) if p.window.end <= w.start), previous
            )
            uncertain += _memberships_and_moves(
                r,
                previous,
                match,
                tracked,
                base,
                memberships,
                candidates,
                reference=reference,
                earlier=next(
                    (
                        p
                        for p in reversed(supported_so_far)
                        if p.window.end <= reference.window.start
                    ),
                    None,
                )
                if reference is not None
                else None,
                moved_into=moved_into,
            )
            supported_so_far.append(r)
            bridge_rows += _bridge_rows(r, tracked, base)
            _alliance_rows(r, tracked, base, open_pairs, alliance_rows)
            previous = r
        else:
            for actor in sorted(r.graph.nodes, key=str):
                memberships.append(
                    {**base, "actor": actor, "label": _label(r.graph, actor)}
                    | {"faction": "", "faction_key": None, "stability": None}
                    | {"change": "window too thin", "previous": ""}
                )
            warned.append(
                warning(
                    "timeline-thin-window",
                    STAGE,
                    f"window {w.label} is too thin to tell a story ({r.reason}): no faction "
                    "is named, matched or moved from it.",
                )
            )
    transient = _drop_transient(events, [r.window.key for r in results if r.supported])
    if transient:
        warned.append(
            warning(
                "timeline-transient-factions",
                STAGE,
                f"{transient} faction{'s' if transient != 1 else ''} lasted a single window "
                "(split off and merged back, or appeared and ended at once): their events "
                "are not reported.",
            )
        )
    uncertain += _resolve_pending(candidates, [r for r in results if r.supported], tracked)
    uncertain += _adjust_shifts(candidates)
    moves, set_aside = _confirm_moves(memberships, candidates)
    uncertain += set_aside
    if uncertain:
        warned.append(
            warning(
                "timeline-uncertain-changes",
                STAGE,
                f"{uncertain} change{'s' if uncertain != 1 else ''} of faction did not meet "
                "the conditions of a move (a stable assignment in both windows; ties to "
                f"at least {MIN_HOME_PARTNERS} members of the old faction before and "
                f"{MIN_MOVE_PARTNERS} of the new one after, {MOVE_SHARE:.0%} of the "
                "actor's partners in factions on each side; a significant shift of its "
                "ties, adjusted over every candidate; held in the next window): they are "
                "not reported as moves.",
            )
        )
    unchecked = sum(1 for m in moves if m["held"] != "yes")
    if unchecked:
        warned.append(
            warning(
                "timeline-unchecked-moves",
                STAGE,
                f"{unchecked} move{'s' if unchecked != 1 else ''} could not be checked "
                "against a later window (no later supported window has the actor in a "
                "faction): treat them as provisional (held = not checked in moves.csv).",
            )
        )
    supported = sum(1 for r in results if r.supported)
    if supported < 2:
        warned.append(
            warning(
                "timeline-too-few-windows",
                STAGE,
                f"{supported} window{'s' if supported != 1 else ''} with supported factions: "
                "there is nothing to compare over time.",
            )
        )
    return Timeline(
        project_name=name,
        results=results,
        factions=tracked,
        memberships=memberships,
        moves=moves,
        faction_rows=faction_rows,
        events=events,
        bridge_rows=bridge_rows,
        alliance_rows=alliance_rows,
        warnings=warned,
        union=union,
    )


def _drop_transient(events: list[dict[str, Any]], supported: list[str]) -> int:
    """Drop the events of factions that last one supported window: a split followed in
    the next window by a merge back into the faction it split from, or a birth followed
    at once by an end. Such a flicker is noise of one window, not a change of the map.
    Returns how many factions were dropped."""
    nxt = dict(pairwise(supported))
    drop: set[int] = set()
    for i, e in enumerate(events):
        if e["event"] not in ("split", "born") or e["window"] not in nxt:
            continue
        if e["event"] == "born" and e["window"] == supported[0]:
            continue
        for j, later in enumerate(events):
            if later["window"] != nxt[e["window"]] or later["faction"] != e["faction"]:
                continue
            undone = (
                e["event"] == "split"
                and later["event"] == "merged"
                and later["other"] == e["other"]
            ) or (e["event"] == "born" and later["event"] == "ended")
            if undone:
                drop.update((i, j))
    events[:] = [e for i, e in enumerate(events) if i not in drop]
    return len(drop) // 2


def _belonged(into_old: int, in_factions: int) -> bool:
    """Whether an actor belonged to its old faction: ties to at least
    :data:`MIN_HOME_PARTNERS` of its members, :data:`MOVE_SHARE` of its partners in
    factions."""
    return into_old >= MIN_HOME_PARTNERS and into_old >= MOVE_SHARE * in_factions


def _leans(into_new: int, into_old: int, in_factions: int) -> bool:
    """Whether an actor's partners now lean to its new faction: at least
    :data:`MIN_MOVE_PARTNERS` there, more than in its old one, and
    :data:`MOVE_SHARE` of its partners in factions."""
    return (
        into_new >= MIN_MOVE_PARTNERS
        and into_new > into_old
        and into_new >= MOVE_SHARE * in_factions
    )


def _partner_set(r: WindowResult, actor: Any) -> set[Any]:
    """The actor's partners (either direction) in the followed factions of ``r``."""
    G = r.graph
    if actor not in G:
        return set()
    assigned = _partition_keys(r)
    partners = (set(G.successors(actor)) | set(G.predecessors(actor))) - {actor}
    return {a for a in partners if a in assigned}


def _members_by_key(r: WindowResult) -> dict[int, set[Any]]:
    """Stable faction key -> its members in ``r`` (computed once)."""
    cached = r._cache.get("members")
    if cached is None:
        cached = defaultdict(set)
        for actor, key in _partition_keys(r).items():
            cached[key].add(actor)
        r._cache["members"] = cached
    return cached


def _merge_ties(*lists: list[tuple[Any, float, list[dict]]]) -> list[tuple[Any, float, list]]:
    merged: dict[Any, list] = {}
    for rows in lists:
        for other, weight, items in rows:
            entry = merged.setdefault(other, [0.0, []])
            entry[0] += weight
            entry[1].extend(items)
    out = [(other, w, items) for other, (w, items) in merged.items()]
    out.sort(key=lambda t: (-t[1], str(t[0])))
    return out


def _resolve_pending(
    candidates: list[dict[str, Any]],
    supported: list[WindowResult],
    tracked: dict[int, TrackedFaction],
) -> int:
    """Judge the candidate moves on the ties of their window and of the next one.

    A move must hold in the next supported window where the actor has a faction; when
    it does, that window's ties into the new and the old faction are added to the
    evidence (a week of ties is often too few on its own), and the move keeps the
    window where it showed. The actor's partners must then lean to the new faction
    (:func:`_leans`). Returns the number of changes set aside.
    """
    order = {id(r): i for i, r in enumerate(supported)}
    kept: list[dict[str, Any]] = []
    dropped = 0
    for c in candidates:
        pending = c.pop("_pending", None)
        if pending is None:
            kept.append(c)
            continue
        reference, home, key, r, ties, staying, before_ties = pending
        row = c["_membership"]
        nxt = next(
            (n for n in supported[order[id(r)] + 1 :] if n.faction_of(c["actor"]) is not None),
            None,
        )
        ok = False
        actor = c["actor"]
        # judged on the window of the change alone, or with the next one's ties added
        # (when the move holds there); tested with them
        ties_all, staying_all = ties, staying
        partners = _partner_set(r, actor)
        leans = _leans(len(ties), len(staying), len(partners))
        if nxt is not None and nxt.faction_of(actor) == key:
            members = _members_by_key(nxt)
            ties_all = _merge_ties(ties, _tie_rows(nxt.graph, actor, members[key] - {actor}))
            staying_all = _merge_ties(
                staying, _tie_rows(nxt.graph, actor, members.get(home, set()) - {actor})
            )
            partners |= _partner_set(nxt, actor)
            leans = leans or _leans(len(ties_all), len(staying_all), len(partners))
        if leans:
            ok = True
            move = _move_row(r, reference, actor, home, key, ties_all, tracked)
            move["p_shift"] = _shift_p(
                len(before_ties), c["_before_new"], len(staying_all), len(ties_all)
            )
            move["_membership"] = row
            kept.append(move)
        if not ok:
            row["change"] = "uncertain change"
            dropped += 1
    candidates[:] = kept
    return dropped


def _adjust_shifts(candidates: list[dict[str, Any]]) -> int:
    """Adjust the shift tests of every candidate move of the timeline together
    (Benjamini-Hochberg): many actors are tested in many windows, so a few shifts
    below 0.05 would come by chance alone. Candidates whose adjusted p is not below
    :data:`MOVE_ALPHA` are set aside; returns how many."""
    from mapper.analysis.strength import fdr_adjust

    if not candidates:
        return 0
    adjusted = fdr_adjust([c["p_shift"] for c in candidates])
    kept = []
    for c, q in zip(candidates, adjusted, strict=True):
        c["p_shift"] = round(float(c["p_shift"]), 6)
        c["p_adjusted"] = round(float(q), 6)
        if q < MOVE_ALPHA:
            kept.append(c)
        else:
            c["_membership"]["change"] = "uncertain change"
    dropped = len(candidates) - len(kept)
    candidates[:] = kept
    return dropped


def _shift_p(old_before: int, new_before: int, old_after: int, new_after: int) -> float:
    """One-sided Fisher exact p of the shift of an actor's partners from the old
    faction to the new one between two windows (2 x 2 table: windows x factions)."""
    from scipy.stats import fisher_exact

    table = [[old_before, new_before], [old_after, new_after]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def _partners_in_factions(G: nx.DiGraph, actor: Any, anywhere: set[Any]) -> int:
    """How many of ``actor``'s partners (either direction) are in ``anywhere`` (the
    actors of the followed factions)."""
    partners = (set(G.successors(actor)) | set(G.predecessors(actor))) - {actor}
    return len(partners & anywhere)


def _bridge_set(r: WindowResult) -> set[Any]:
    """The bridge figures of a window (``is_bridge``)."""
    return {row.get("actor") for row in r.bridges or [] if row.get("is_bridge")}


def _partition_keys(r: WindowResult) -> dict[Any, int]:
    """Actor -> stable faction key in ``r`` (followed factions only). Computed once:
    call it only after the window's keys are set."""
    cached = r._cache.get("keys")
    if cached is None:
        keys = r.keys
        cached = {a: keys[f] for a, f in r.factions.partition.items() if f in keys}
        r._cache["keys"] = cached
    return cached


def _confirm_moves(
    memberships: list[dict[str, Any]], candidates: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int]:
    """Keep the changes of faction that hold: a change into faction B in one window is
    a move when the actor is still in B in the next supported window where it has a
    faction (or there is none). A change that does not hold is not a move, and the
    return to the faction it left is not a move either.

    Returns the moves and the number of changes set aside.
    """
    by_actor: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in memberships:
        if row["faction_key"] is not None:
            by_actor[row["actor"]].append(row)
    position = {id(row): i for rows in by_actor.values() for i, row in enumerate(rows)}
    moves: list[dict[str, Any]] = []
    set_aside = 0
    for move in candidates:
        row = move.pop("_membership")
        if row["change"] != "moved?":
            continue  # a return, decided by an earlier change
        rows = by_actor[move["actor"]]
        i = position[id(row)]
        after = rows[i + 1] if i + 1 < len(rows) else None
        went_with = after is not None and (
            after["change"] in ("merged with faction", "split with faction")
            and after["previous"] == row["faction"]
        )
        if after is None or after["faction_key"] == row["faction_key"] or went_with:
            row["change"] = "moved"
            move["held"] = "yes" if after is not None else "not checked"
            moves.append(move)
            continue
        row["change"] = "did not hold"
        set_aside += 1
        if after["change"] in ("moved?", "uncertain change") and (
            after["faction"] == row["previous"]
        ):
            after["change"] = "returned"
    # a "move" out of a faction the actor sat in for one window on no evidence, back to
    # the faction it had before, is a return, not a move
    where = {(row["actor"], row["window"]): row for row in memberships}
    kept = []
    for move in moves:
        left = where.get((move["actor"], move["from_window"]))
        if (
            left is not None
            and left["change"] in ("uncertain change", "did not hold", "returned")
            and left["previous"] == move["to_faction"]
        ):
            where[(move["actor"], move["to_window"])]["change"] = "returned"
            set_aside += 1
        else:
            kept.append(move)
    return kept, set_aside


def _memberships_and_moves(
    r: WindowResult,
    previous: WindowResult | None,
    match: Match | None,
    tracked: dict[int, TrackedFaction],
    base: dict[str, Any],
    memberships: list[dict[str, Any]],
    moves: list[dict[str, Any]],
    *,
    reference: WindowResult | None = None,
    earlier: WindowResult | None = None,
    moved_into: dict[Any, tuple[int, int]] | None = None,
) -> int:
    """Rows of ``memberships`` and candidate ``moves`` for a supported window; returns
    the count of changes too uncertain to be moves.

    ``previous`` is the previous supported window (the changes are labelled against
    it); ``reference`` the last supported window that does not overlap this one (the
    moves are tested against it: the same as ``previous`` unless the windows slide).
    ``earlier`` is the supported window before ``reference`` (not overlapping it): its
    ties complete the reference's when those are too few. ``moved_into`` (actor ->
    (window index, faction key)) keeps a move that sliding windows see twice from being
    counted twice.
    """
    res = r.factions
    G = r.graph
    reference = reference or previous
    moved_into = moved_into if moved_into is not None else {}
    prev_keys = _partition_keys(previous) if previous is not None else {}
    ref_keys = _partition_keys(reference) if reference is not None else {}
    ref_stab = reference.factions.stability if reference is not None else {}
    split_parent = {r.keys[c]: k for c, k in (match.split_from.items() if match else [])}
    merged = dict(match.merged_into) if match else {}
    bridges_now = _bridge_set(r)
    bridges_before = _bridge_set(reference) if reference is not None else set()
    ref_members: dict[int, set[Any]] = defaultdict(set)
    for actor, key in ref_keys.items():
        ref_members[key].add(actor)
    members: dict[int, set[Any]] = defaultdict(set)
    for actor, local in res.partition.items():
        if local in r.keys:
            members[r.keys[local]].add(actor)
    assigned_before = set(ref_keys)

    def faction_event(old: int, new: int) -> bool:
        """Whether ``old`` -> ``new`` is a split or a merge rather than a move."""
        return (
            split_parent.get(new) == old
            or (old in merged and r.keys[merged[old]] == new)
            or tracked[new].parent == old
            or tracked[old].merged_into == new
        )

    uncertain = 0
    for actor in sorted(G.nodes, key=str):
        local = res.partition.get(actor)
        key = None if local is None else r.keys.get(local)
        before = prev_keys.get(actor)
        stability = res.stability.get(actor)
        candidate = None
        if key is None:
            change = "unassigned" if local is None else "in a small group"
            if before is not None:
                change += " (left its faction)"
        elif previous is None:
            change = ""
        elif before is None:
            change = "joined"
        elif before == key:
            change = "stayed"
        elif split_parent.get(key) == before:
            change = "split with faction"
        elif before in merged and r.keys[merged[before]] == key:
            change = "merged with faction"
        else:
            change = "changed"
        home = ref_keys.get(actor)
        seen = moved_into.get(actor)
        tested = (
            key is not None
            and reference is not None
            and home is not None
            and home != key
            and not faction_event(home, key)
            and not (seen is not None and seen[1] == key and seen[0] > reference.window.index)
        )
        if tested:
            assert reference is not None and home is not None and key is not None
            old = reference.graph
            ties = _tie_rows(G, actor, members[key] - {actor})
            stable = (stability or 0.0) >= MOVE_STABILITY and (
                ref_stab.get(actor, 0.0) >= MOVE_STABILITY
            )
            # it belonged to the old faction, and now leans to the new one
            before_ties = _tie_rows(old, actor, ref_members[home] - {actor})
            staying = _tie_rows(G, actor, members.get(home, set()) - {actor})
            before_partners = _partners_in_factions(old, actor, assigned_before)
            before_new = len(_tie_rows(old, actor, ref_members.get(key, set()) - {actor}))
            belonged = _belonged(len(before_ties), before_partners)
            if earlier is not None and earlier.faction_of(actor) == home:
                # the window before the reference, where the actor was in the same
                # faction, adds its ties to the evidence that it belonged there: it is
                # judged on the reference alone or on both, and tested on both
                members_e = _members_by_key(earlier)
                ties_e = _tie_rows(earlier.graph, actor, members_e[home] - {actor})
                new_e = _tie_rows(earlier.graph, actor, members_e.get(key, set()) - {actor})
                before_ties = _merge_ties(before_ties, ties_e)
                before_new = len(
                    {t[0] for t in _tie_rows(old, actor, ref_members.get(key, set()) - {actor})}
                    | {t[0] for t in new_e}
                )
                seen = _partner_set(reference, actor) | _partner_set(earlier, actor)
                belonged = belonged or _belonged(len(before_ties), len(seen))
            if actor in bridges_now and actor in bridges_before:
                # a bridge figure in both windows straddles factions: it is not moving
                change = "bridging"
            elif stable and belonged:
                # judged with the next window's ties too (see _resolve_pending)
                change = "moved?"
                moved_into[actor] = (r.window.index, key)
                candidate = {
                    "actor": actor,
                    "_pending": (reference, home, key, r, ties, staying, before_ties),
                    "_before_new": before_new,
                }
            elif change == "changed" or home != before:
                change = "uncertain change"
                uncertain += 1
        elif change == "changed":
            change = "uncertain change"
            uncertain += 1
        row = {**base, "actor": actor, "label": _label(G, actor)} | {
            "faction": tracked[key].name if key is not None else "",
            "faction_key": key,
            "stability": None if stability is None else round(float(stability), 4),
            "change": change,
            "previous": tracked[before].name if before is not None else "",
        }
        memberships.append(row)
        if candidate is not None:
            candidate["_membership"] = row
            moves.append(candidate)
    return uncertain


def _move_row(
    r: WindowResult,
    previous: WindowResult,
    actor: Any,
    before: int,
    key: int,
    ties: list[tuple[Any, float, list[dict]]],
    tracked: dict[int, TrackedFaction],
) -> dict[str, Any]:
    old = previous.graph
    new = [t for t in ties if not (old.has_edge(actor, t[0]) or old.has_edge(t[0], actor))]
    shown = (new or ties)[:5]
    date = _first_time([d for t in (new or ties) for d in t[2]])
    evidence: list[str] = []
    for t in shown:
        for ref in _evidence(t[2]):
            if ref not in evidence:
                evidence.append(ref)
    G = r.graph
    return {
        "actor": actor,
        "label": _label(G, actor),
        "from_faction": tracked[before].name,
        "to_faction": tracked[key].name,
        "from_window": previous.window.key,
        "to_window": r.window.key,
        "window_start": r.window.start.date().isoformat(),
        "date": date.date().isoformat() if date is not None else "",
        "stability_before": round(float(previous.factions.stability.get(actor, 0.0)), 4),
        "stability_after": round(float(r.factions.stability.get(actor, 0.0)), 4),
        "partners": len(ties),
        "new_ties": len(new),
        "ties": "; ".join(f"{_label(G, t[0])} ({t[1]:g})" for t in shown),
        "evidence": " ".join(evidence[:6]),
    }


def _bridge_rows(
    r: WindowResult, tracked: dict[int, TrackedFaction], base: dict[str, Any]
) -> list[dict[str, Any]]:
    out = []
    for row in r.bridges or []:
        if not row.get("is_bridge"):
            continue
        actor = row.get("actor")
        key = r.faction_of(actor)
        out.append(
            {**base, "actor": actor, "label": _label(r.graph, actor)}
            | {
                "faction": tracked[key].name if key is not None else "",
                "rank": row.get("rank"),
                "score": None if row.get("score") is None else round(float(row["score"]), 4),
                "is_bridge": True,
            }
        )
    out.sort(key=lambda x: (x["rank"] if x["rank"] is not None else 1e9, str(x["actor"])))
    return out


def _alliance_rows(
    r: WindowResult,
    tracked: dict[int, TrackedFaction],
    base: dict[str, Any],
    open_pairs: dict[tuple[str, str], dict[str, Any]],
    rows: list[dict[str, Any]],
) -> None:
    report = r.alliances or {}
    now: dict[tuple[str, str], dict[str, Any]] = {}
    for opp in report.get("opportunities", []):
        ka, kb = r.keys.get(opp["a"]), r.keys.get(opp["b"])
        if ka is None or kb is None:
            continue
        pair = tuple(sorted((tracked[ka].name, tracked[kb].name)))
        now[pair] = opp  # type: ignore[index]
    status: dict[tuple[str, str], str] = {}
    for pair in report.get("pairs", []):
        ka, kb = r.keys.get(pair["a"]), r.keys.get(pair["b"])
        if ka is not None and kb is not None:
            status[tuple(sorted((tracked[ka].name, tracked[kb].name)))] = str(pair["status"])  # type: ignore[index]
    alive = {tracked[k].name for k in r.keys.values()}
    for pair in sorted(set(now) | set(open_pairs)):
        if pair in now and pair not in open_pairs:
            event = "opened"
        elif pair in now:
            event = "open"
        else:
            gone = [p for p in pair if p not in alive]
            if gone:
                event = f"closed ({', '.join(gone)} gone)"
            elif status.get(pair) == "too-thin":
                event = "not judged now (too thin)"
            else:
                event = "closed"
        opp = now.get(pair)
        rows.append(
            {**base, "faction_a": pair[0], "faction_b": pair[1], "event": event}
            | {
                "status": status.get(pair, "opportunity" if opp else ""),
                "score": None if opp is None else round(float(opp.get("score", 0.0)), 4),
            }
        )
    open_pairs.clear()
    open_pairs.update(now)
