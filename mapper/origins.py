"""Which of the store's posts a project uses: those of the sources it lists.

A store outlives the project file that fills it: a source removed from ``mapper.toml``
keeps its posts in the store, and two projects may share one store. So a run maps only
the posts of the sources its project lists (:func:`source_scope`), plus the posts added
by hand (``mapper import``, ``mapper collect``, a notebook), which no project lists but
the user put there on purpose. Posts from a source a project run brought in and the
project no longer lists are left out, and the scope says which sources and how many
posts, so the run can warn and point to ``mapper store prune``. Posts stored before
mapper recorded origins count as listed unless they came from a file the project does
not list (their files are known; how live posts were collected is not).
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mapper.store import (
    ADDED_BEFORE_TRACKING,
    ADDED_BY_HAND,
    OriginSummary,
    Store,
)

if TYPE_CHECKING:
    from mapper.analysis.strength import EvidenceWarning
    from mapper.project import Project, Source

__all__ = ["SourceScope", "SourceUse", "source_key", "source_scope"]

#: The warning code of posts left out because the project does not list their source.
UNLISTED_CODE = "unlisted-sources"


def source_key(source: Source) -> str:
    """The origin recorded for the posts of a live project source:
    ``bluesky-posts alice.bsky.social``, ``web https://a.org/ https://b.org/``."""
    from mapper.project import SOURCE_TYPES

    option = SOURCE_TYPES.get(source.type, "path")
    value = source.options.get(option)
    if value is None:
        value = source.options.get("url", "")
    if isinstance(value, list | tuple):
        value = " ".join(sorted(str(v) for v in value))
    return f"{source.type} {value}".strip()


def _listed_files(project: Project) -> set[str]:
    """Every file the project's file sources match now, by absolute and real path (a
    run's own outputs that a wildcard reaches are not sources)."""
    from pathlib import Path

    from mapper.project import own_outputs

    out: set[str] = set()
    for source in project.sources:
        if source.live or source.type == "graph" or "path" not in source.options:
            continue
        found = [Path(p) for p in glob.glob(str(project.source_path(source)))]
        own = set(own_outputs(project, source, found))
        for match in (p for p in found if p not in own):
            out.add(os.path.abspath(match))
            out.add(os.path.realpath(match))
    return out


@dataclass(frozen=True)
class SourceUse:
    """One origin of the store's posts, and whether a project run maps it.

    Attributes
    ----------
    origin : OriginSummary
        The origin, with its post count.
    listed : bool
        The project lists it (a file its sources match, or one of its live sources).
    used : bool
        Its posts are mapped: listed, added by hand, or stored before origins were
        recorded from a live collection.
    """

    origin: OriginSummary
    listed: bool
    used: bool

    @property
    def status(self) -> str:
        """``listed``, ``added by hand``, ``before tracking`` or ``not listed``."""
        if self.listed:
            return "listed"
        if self.origin.added_by == ADDED_BY_HAND:
            return "added by hand"
        if self.used:
            return "before tracking"
        return "not listed"

    def warnings(self) -> list[EvidenceWarning]:
        """The warning (code ``unlisted-sources``, stage ``import``) when sources are
        left out, as the run's shared warnings list takes it."""
        from mapper.analysis.strength import warning

        message = self.warning()
        return [warning(UNLISTED_CODE, "import", message)] if message else []

    def as_dict(self) -> dict[str, Any]:
        """A row of the run summary's per-source breakdown."""
        o = self.origin
        return {
            "source": o.key,
            "kind": o.kind,
            "posts": o.posts,
            "added_by": o.added_by,
            "project": o.project,
            "status": self.status,
            "used": self.used,
            "last_added": o.last_added.isoformat() if o.last_added else None,
        }


@dataclass(frozen=True)
class SourceScope:
    """The store's origins as one project sees them (see :func:`source_scope`).

    Attributes
    ----------
    sources : tuple of SourceUse
        Every origin of the store's posts, ordered by key.
    left_out_posts : int
        Posts a run leaves out: only origins it does not use gave them.
    project : str or None
        The project file.
    """

    sources: tuple[SourceUse, ...]
    left_out_posts: int
    project: str | None = None

    @property
    def left_out(self) -> tuple[SourceUse, ...]:
        """The origins a run does not map."""
        return tuple(s for s in self.sources if not s.used)

    @property
    def excluded_ids(self) -> list[int]:
        """Ids of the origins a run does not map (for :meth:`Store.iter_posts`)."""
        return [s.origin.id for s in self.left_out if s.origin.id is not None]

    def warning(self) -> str | None:
        """One sentence naming the sources left out and their posts, and what to do;
        ``None`` when nothing is left out."""
        gone = [s for s in self.left_out if s.origin.posts]
        if not gone or not self.left_out_posts:
            return None
        shown = ", ".join(f"{s.origin.key} ({s.origin.posts:,} posts)" for s in gone[:5])
        if len(gone) > 5:
            shown += f" and {len(gone) - 5} more"
        project = self.project or "mapper.toml"
        return (
            f"left out {self.left_out_posts:,} stored post{'s' if self.left_out_posts > 1 else ''} "
            f"from {len(gone)} source{'s' if len(gone) > 1 else ''} the project does not "
            f"list: {shown}. "
            f"List them in {os.path.basename(project)} to map them, or remove them with "
            f"`mapper store prune {project} --unlisted`"
        )

    def warnings(self) -> list[EvidenceWarning]:
        """The warning (code ``unlisted-sources``, stage ``import``) when sources are
        left out, as the run's shared warnings list takes it."""
        from mapper.analysis.strength import warning

        message = self.warning()
        return [warning(UNLISTED_CODE, "import", message)] if message else []

    def as_dict(self) -> dict[str, Any]:
        """The run summary's ``sources`` entry: the breakdown, what was left out, and
        the warning (``{"code", "message", "stage"}``) when there is one."""
        return {
            "breakdown": [s.as_dict() for s in self.sources],
            "left_out": {"sources": len(self.left_out), "posts": self.left_out_posts},
            "warnings": [w.as_dict() for w in self.warnings()],
        }


def source_scope(project: Project, store: Store, *, all_sources: bool = False) -> SourceScope:
    """Which of ``store``'s posts a run of ``project`` maps.

    Parameters
    ----------
    project : Project
        The loaded project.
    store : Store
        Its store.
    all_sources : bool
        Map every stored post, listed or not.

    Returns
    -------
    SourceScope
        An origin is used when the project lists it (a file one of its file sources
        matches now, or one of its live sources), when its posts were added by hand,
        or when they were stored before origins were recorded and did not come from a
        file the project does not list.
    """
    files = _listed_files(project)
    live = {source_key(s) for s in project.sources if s.live}
    uses: list[SourceUse] = []
    for origin in store.origins():
        if origin.kind == "file":
            listed = origin.key in files or os.path.realpath(origin.key) in files
        else:
            listed = origin.key in live
        used = (
            all_sources
            or listed
            or origin.added_by == ADDED_BY_HAND
            or origin.id is None
            or (origin.added_by == ADDED_BEFORE_TRACKING and origin.kind != "file")
        )
        uses.append(SourceUse(origin, listed, used))
    excluded = [u.origin.id for u in uses if not u.used and u.origin.id is not None]
    left_out = store.count_only_from(excluded) if excluded else 0
    path = str(project.path) if project.path is not None else None
    return SourceScope(tuple(uses), left_out, path)
