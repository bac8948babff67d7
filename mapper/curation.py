"""Roster curation: what to add, what to merge, and bulk imports.

Curating the roster is most of a real user's work. This module edits the roster CSV
in place row by row (columns, order and untouched rows stay as the user wrote them),
validates the result before it replaces the file, and logs every merge in
``merges.csv`` beside the roster. :func:`import_members` adds the members of
parliamentary division files as MPs. Nothing here collects again: the next build reads
the store with the new roster.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from mapper.errors import ConfigError, RosterError
from mapper.fsutil import atomic_open, write_text
from mapper.records import ACTOR_KINDS, Post, now_utc
from mapper.resolve.resolver import ReportEntry

_LIST_FIELDS = ("aliases", "x", "bluesky", "mastodon", "domains", "issues")
_HANDLE_FIELDS = ("x", "bluesky", "mastodon")


def _roster_path(project: str | Path) -> Path:
    from mapper.project import load_project

    proj = load_project(project)
    if proj.roster is None:
        raise ConfigError("the project names no roster", source=proj.path, field="project.roster")
    if proj.roster.suffix.lower() != ".csv":
        raise RosterError(
            "curation commands edit CSV rosters only",
            source=proj.roster,
            hint="convert the roster to CSV, or edit the YAML by hand",
        )
    return proj.roster


def _read_rows(path: Path) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """Return (comment lines before the header, header, rows) of a CSV roster."""
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    comments = []
    while lines and lines[0].lstrip().startswith("#"):
        comments.append(lines.pop(0))
    reader = csv.DictReader(io.StringIO("".join(lines)))
    rows = [dict(r) for r in reader]
    return comments, list(reader.fieldnames or []), rows


def _write_rows(
    path: Path, comments: list[str], header: list[str], rows: list[dict[str, str]]
) -> None:
    """Write the roster, validate it, and restore the old file if it no longer loads."""
    from mapper.resolve.roster import validate_roster

    old = path.read_bytes()
    with atomic_open(path, "w", newline="") as fh:
        fh.writelines(comments)
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: (v or "") for k, v in r.items() if k is not None} for r in rows)
    errors = [p for p in validate_roster(path) if p.is_error]
    if errors:
        with atomic_open(path, "wb") as fh:
            fh.write(old)
        raise errors[0].to_error()


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in re.split(r"[;|]", value or "") if v.strip()]


def _union(*values: str | None) -> str:
    seen: dict[str, None] = {}
    for value in values:
        for item in _split(value):
            if item.casefold() not in {k.casefold() for k in seen}:
                seen[item] = None
    return ";".join(seen)


#: Roster kinds whose names are people's names (their surnames may be suggested).
_PERSON_KINDS = frozenset({"commentator", "mp"})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _surnames(roster: Any) -> dict[str, str]:
    """Bare surnames worth suggesting as aliases: ``{surname: actor id}``.

    The last word of the name of a person (kind ``commentator`` or ``mp``) whose name
    has several words, when no other actor has that word as the last word of its name
    or as an alias, and the actor does not already have it as a strong alias
    (``Surname!``): as a plain alias a surname counts only beside the full name.
    """
    from mapper.resolve.names import fold

    claims: dict[str, set[str]] = {}
    for actor in roster.actors.values():
        words = actor.name.split()
        names = [words[-1]] if len(words) > 1 else []
        names += [alias.rstrip("!") for alias in actor.aliases]
        for name in names:
            claims.setdefault(fold(name).strip(), set()).add(actor.id)
    out: dict[str, str] = {}
    for actor in roster.actors.values():
        words = actor.name.split()
        if actor.kind not in _PERSON_KINDS or len(words) < 2:
            continue
        surname = words[-1].strip(".,;:")
        if len(surname) < 3 or not surname[:1].isupper():
            continue
        strong = {a[:-1].casefold() for a in actor.aliases if a.endswith("!")}
        if surname.casefold() in strong or claims.get(fold(surname).strip()) != {actor.id}:
            continue
        out[surname] = actor.id
    return out


def suggestions(project: str | Path, *, top: int = 30) -> list[dict[str, Any]]:
    """The most frequent unresolved handles, names and link domains of a project, and
    the bare surnames of roster people that the text uses alone.

    The project's file sources are imported first (unchanged files are skipped), then
    the store is resolved against the roster. Each suggestion has ``kind``
    (handle, name, domain, alias...), ``platform``, ``key``, ``name`` (for a handle:
    the display name the account's posts carry, else empty), ``count`` (posts),
    ``examples`` (post URLs or uids) and ``note`` (the candidates of an ambiguous
    name; for an ``alias``, the roster id it belongs to).

    An ``alias`` suggestion is a surname of a roster person (``Jones`` for Owen Jones)
    found in posts that do not name that person in full: as ``Jones!`` in the
    person's aliases it would count on its own (see :mod:`mapper.resolve.names`).
    """
    from mapper.pipeline import import_sources
    from mapper.project import load_project
    from mapper.resolve import Resolver, load_roster
    from mapper.resolve.names import NameMatcher
    from mapper.resolve.roster import canonical_platform, handle_key
    from mapper.store import Store

    proj = load_project(project)
    with Store(proj.store) as store:
        import_sources(proj, store)
        roster = load_roster(proj.roster) if proj.roster else None
        resolver = Resolver(roster) if roster else Resolver.empty()
        surnames = _surnames(roster) if roster else {}
        matcher = (
            NameMatcher({f"{name}!": actor for name, actor in surnames.items()})
            if surnames
            else None
        )
        display: dict[tuple[str, str], str] = {}
        alone: dict[str, list[str]] = {}  # actor id -> uids of posts naming its surname

        def watched(posts: Iterable[Post]) -> Iterator[Post]:
            for post in posts:
                if post.author and post.author_name:
                    platform = canonical_platform(post.platform)
                    key = (platform, handle_key(platform, post.author.removeprefix("@")))
                    display.setdefault(key, " ".join(post.author_name.split()))
                if matcher is not None and post.text:
                    for actor in {m.actor_id for m in matcher.find(post.text)}:
                        alone.setdefault(actor, []).append(post.uid)
                yield post

        resolution = resolver.resolve(watched(store.iter_posts()))
        named = {(e.post, e.target) for e in resolution.events if e.type == "name"}
        entries = [e for e in resolution.report.entries() if e.category != "provisional"]
        # provisional actors are the same accounts as the handles
        for actor, uids in alone.items():
            unnamed = [uid for uid in uids if (uid, actor) not in named]
            if unnamed:
                surname = next(k for k, v in surnames.items() if v == actor)
                entries.append(
                    ReportEntry("alias", "", surname, len(unnamed), tuple(unnamed[:3]), actor)
                )
        entries.sort(key=lambda e: (-e.count, e.category, e.platform, e.key))
        out = []
        for entry in entries[:top]:
            examples = []
            for uid in entry.examples:
                post = store.get_post(uid)
                examples.append(post.url if post is not None and post.url else uid)
            out.append(
                {
                    "kind": entry.category,
                    "platform": entry.platform,
                    "key": entry.key,
                    "name": display.get((entry.platform, entry.key), "")
                    if entry.category == "handle"
                    else "",
                    "count": entry.count,
                    "examples": examples,
                    "note": entry.note,
                }
            )
    return out


def write_candidates(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Write suggestions as candidate roster rows for the user to complete.

    Handles go to their platform's column, domains to ``domains``, names to
    ``aliases``; ``name`` is the display name the account's posts carry (else the
    key) and ``id`` is made from it; ``kind`` is left for the user. A surname
    suggestion (``alias``) is a row with the existing actor's id and the surname,
    marked ``!``, in ``aliases``: ``mapper roster import candidates.csv --update``
    adds it to that actor.
    """
    columns = ["id", "name", "kind", "party", "faction", "aliases", "x", "bluesky", "mastodon"]
    columns += ["domains", "count", "examples"]
    used: set[str] = set()
    with atomic_open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            key = str(r["key"])
            row = {"count": r["count"], "examples": " ".join(r["examples"]), "kind": ""}
            if r["kind"] == "alias":
                row.update(id=str(r["note"]), aliases=f"{key}!")
                writer.writerow(row)
                continue
            name = str(r.get("name") or "") or key
            base = _slug(name) or _slug(key) or "actor"
            ident, n = base, 1
            while ident in used:
                n += 1
                ident = f"{base}-{n}"
            used.add(ident)
            row.update(id=ident, name=name)
            if r["kind"] == "handle" and r["platform"] in _HANDLE_FIELDS:
                row[r["platform"]] = key
            elif (r["kind"] == "handle" and r["platform"] == "web") or r["kind"] == "domain":
                row["domains"] = key
            elif r["kind"] == "name":
                row["aliases"] = key
            writer.writerow(row)
    return Path(path)


@dataclass(frozen=True)
class Merge:
    """What :func:`merge_actors` did: a sentence, and warnings about it."""

    message: str
    warnings: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message


def _seen_in_store(store_path: Path, platform: str, handle: str) -> bool | None:
    """Whether the store has a post by, or a reference to, ``platform:handle``
    (``None`` when there is no store yet)."""
    if not store_path.is_file():
        return None
    from mapper.resolve.roster import handle_key
    from mapper.store import Store

    key = handle_key(platform, handle.removeprefix("@"))
    with Store(store_path) as store:
        if store.count_posts() == 0:
            return None
        conn = store.conn
        if platform == "web":
            pattern = f"%{key}%"
            found = (
                conn.execute(
                    "SELECT 1 FROM posts WHERE lower(url) LIKE ? LIMIT 1", (pattern,)
                ).fetchone()
                or conn.execute(
                    "SELECT 1 FROM refs WHERE kind = 'link' AND lower(target) LIKE ? LIMIT 1",
                    (pattern,),
                ).fetchone()
            )
            return found is not None
        found = conn.execute(
            "SELECT 1 FROM posts WHERE platform = ? AND lower(author) IN (?, ?) LIMIT 1",
            (platform, key, "@" + key),
        ).fetchone()
        if found is None:
            found = conn.execute(
                "SELECT 1 FROM refs WHERE post LIKE ? AND lower(target) IN (?, ?) LIMIT 1",
                (f"{platform}:%", key, "@" + key),
            ).fetchone()
        return found is not None


def merge_actors(project: str | Path, keep: str, other: str) -> Merge:
    """Fold ``other`` into ``keep`` in the project's roster and log it in ``merges.csv``.

    ``other`` is a roster id (its aliases, handles, domains and issues move to ``keep``
    and its row is removed) or a provisional actor id such as ``x:handle``,
    ``bluesky:name.bsky.social``, ``mastodon:user@instance`` or ``web:example.org``
    (the handle or domain is added to ``keep``).

    Returns
    -------
    Merge
        A sentence saying what was merged, and a warning when ``other`` is a handle or
        domain the project's store has never seen (a typo merges nothing useful).
    """
    from mapper.project import load_project

    proj = load_project(project)
    path = _roster_path(project)
    comments, header, rows = _read_rows(path)
    by_id = {r.get("id", ""): r for r in rows}
    if keep not in by_id:
        raise RosterError(f"no actor {keep!r} in the roster", source=path, field="id")
    target = by_id[keep]
    warnings: list[str] = []
    if other in by_id:
        source = by_id[other]
        for name in _LIST_FIELDS:
            if name in header:
                target[name] = _union(target.get(name), source.get(name))
        if "aliases" in header:
            target["aliases"] = _union(target.get("aliases"), source.get("name"))
        rows = [r for r in rows if r is not source]
        moved = f"actor {other!r}"
    elif ":" in other:
        platform, handle = other.split(":", 1)
        column = "domains" if platform == "web" else platform
        if column not in (*_HANDLE_FIELDS, "domains"):
            raise RosterError(f"cannot merge {other!r}: unknown platform {platform!r}", source=path)
        seen = _seen_in_store(proj.store, platform, handle)
        if seen is False:
            warnings.append(
                f"{other!r} appears in no post of the store ({proj.store.name}): "
                "check the spelling (merged anyway)"
            )
        elif seen is None:
            warnings.append(
                f"the store holds no posts yet, so {other!r} could not be checked "
                "(run the project first)"
            )
        if column not in header:
            header.append(column)
        target[column] = _union(target.get(column), handle)
        moved = f"{column} {handle!r}"
    else:
        raise RosterError(
            f"no actor {other!r} in the roster",
            source=path,
            hint="give a roster id or a provisional id such as x:handle",
        )
    _write_rows(path, comments, header, rows)
    log = path.with_name("merges.csv")
    new = not log.exists()
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\n")
    if new:
        writer.writerow(["time", "kept", "merged"])
    writer.writerow([now_utc().isoformat(), keep, other])
    write_text(log, (log.read_text(encoding="utf-8") if not new else "") + line.getvalue())
    message = f"merged {moved} into {keep!r} ({path.name}); logged in {log.name}"
    return Merge(message, tuple(warnings))


@dataclass(frozen=True)
class ImportCounts:
    """What :func:`import_actors` did: rows added, existing rows updated, rows skipped."""

    added: int
    updated: int
    skipped: int


def _roster_field(name: str, header: list[str], roster: Path) -> str:
    """The roster column a ``--map`` target names (synonyms such as ``twitter`` are the
    column ``x``); an error when the roster has no such column."""
    from mapper.resolve.roster import _canonical_field

    wanted = _canonical_field(name)
    for column in header:
        if column == name or _canonical_field(column) == wanted:
            return column
    close = difflib.get_close_matches(name, header, n=1, cutoff=0.6)
    hint = f"the roster's columns: {', '.join(header)}"
    if close:
        hint = f"did you mean {close[0]!r}? " + hint
    raise RosterError(
        f"the roster has no {name!r} column, so nothing would be imported into it",
        source=roster,
        field=name,
        hint=hint + f"; add {name!r} to the roster's header first if you want it",
    )


def import_actors(
    project: str | Path,
    file: str | Path,
    mapping: Mapping[str, str],
    *,
    kind: str | None = None,
    update: bool = False,
) -> ImportCounts:
    """Add actors from a CSV with a column mapping (roster column -> column of ``file``).

    A roster column that is not mapped is read from the column of the same name in
    ``file``, when there is one. Mapping to a column the roster does not have is an
    error (add the column to the roster's header first). Rows whose id, or any of
    whose handles, is already in the roster are existing actors: skipped, or with
    ``update`` completed (empty cells filled, new aliases, handles, domains and issues
    added; values already there are kept). Importing the same list twice adds
    nothing. Without an ``id`` mapping, ids are made from the names (``Clive Lewis``
    -> ``clive-lewis``).

    Returns
    -------
    ImportCounts
        ``added``, ``updated`` and ``skipped`` rows.
    """
    path = _roster_path(project)
    file = Path(file)
    if kind is not None and kind not in ACTOR_KINDS:
        raise RosterError(
            f"unknown kind {kind!r}", field="kind", hint=f"one of: {', '.join(ACTOR_KINDS)}"
        )
    try:
        with open(file, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            incoming = list(reader)
            columns = set(reader.fieldnames or [])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RosterError(f"cannot read: {exc}", source=file) from None
    if "name" not in mapping and "name" not in columns:
        raise RosterError("no name column", source=file, hint="map one: --map name=COLUMN")
    for name, column in mapping.items():
        if column not in columns:
            raise RosterError(
                f"no column {column!r}",
                source=file,
                field=name,
                hint=f"columns: {', '.join(sorted(columns))}",
            )
    comments, header, rows = _read_rows(path)
    mapping = {_roster_field(name, header, path): column for name, column in mapping.items()}
    ids = {r.get("id", ""): r for r in rows}
    claimed = {
        (name, h.casefold().lstrip("@")): r
        for r in rows
        for name in _HANDLE_FIELDS
        for h in _split(r.get(name))
    }
    added = updated = skipped = 0
    for line, src in enumerate(incoming, start=2):
        new = {name: (src.get(mapping.get(name, name)) or "").strip() for name in header}
        if kind:
            new["kind"] = kind
        new["kind"] = new.get("kind") or "other"  # as in the roster: empty means other
        if not new.get("name") and not (update and new.get("id") in ids):
            skipped += 1
            continue
        new["id"] = new.get("id") or _slug(new["name"])
        handles = {
            (f, h.casefold().lstrip("@")) for f in _HANDLE_FIELDS for h in _split(new.get(f))
        }
        existing = ids.get(new["id"]) or next(
            (claimed[h] for h in sorted(handles) if h in claimed), None
        )
        if existing is not None:
            if update and _complete(existing, new, header):
                updated += 1
                claimed.update({h: existing for h in handles})
            else:
                skipped += 1
            continue
        if new.get("kind", "") not in ACTOR_KINDS:
            raise RosterError(
                f"unknown kind {new.get('kind')!r}",
                source=file,
                line=line,
                field="kind",
                hint="map a kind column or pass --kind",
            )
        rows.append(new)
        ids[new["id"]] = new
        claimed.update({h: new for h in handles})
        added += 1
    if added or updated:
        _write_rows(path, comments, header, rows)
    return ImportCounts(added, updated, skipped)


def _complete(row: dict[str, str], new: dict[str, str], header: list[str]) -> bool:
    """Fill ``row``'s empty cells from ``new`` and add new list items; never overwrite
    (``id`` and ``kind`` are left alone). Returns whether anything changed."""
    changed = False
    for name in header:
        if name in ("id", "kind"):
            continue
        value = new.get(name) or ""
        if not value:
            continue
        old = row.get(name) or ""
        if name in _LIST_FIELDS:
            merged = _union(old, value)
            if merged != _union(old):
                row[name] = merged
                changed = True
        elif not old.strip():
            row[name] = value
            changed = True
    return changed


class MemberImport(NamedTuple):
    """What :func:`import_members` did: actors ``added``, members ``skipped`` (already in
    the roster), the names ``unclear`` (written with the export's ``?`` letters: correct
    them in the roster), and roster actors ``updated`` with the member id they lacked."""

    added: int
    skipped: int
    unclear: list[str]
    updated: int = 0


def import_members(
    project: str | Path,
    files: Iterable[str | Path],
    *,
    kind: str = "mp",
    format: str = "auto",
    parliament: str | None = None,
) -> MemberImport:
    """Add the members of division files to the roster, as actors of kind ``kind``.

    Each member becomes a row with ``name``, ``party`` (from the latest division),
    ``constituency`` and, when the file gives it, the ``parliament`` member id. A member
    who already resolves to a roster actor (by member id, or by name and constituency:
    see :mod:`mapper.resolve.members`) is skipped, so importing the same divisions twice
    adds nothing; when the file gives that member's id and the actor has none, the id
    is recorded, so the member resolves by id from then on. Ids are made from the names
    (``Diane Abbott`` -> ``diane-abbott``; with the constituency when the name is taken).

    Parameters
    ----------
    project : str or Path
        The project file (its CSV roster is edited).
    files : iterable of str or Path
        Commons Votes CSV exports, API JSON/JSONL files, or long tables of votes.
    kind : str
        The kind of the added actors.
    format, parliament
        As for :func:`mapper.collectors.divisions.import_division_file`.

    Returns
    -------
    MemberImport
    """
    from mapper.collectors.divisions import iter_division_file
    from mapper.resolve.members import MemberIndex, MemberResolver, fold_label, fold_name
    from mapper.resolve.roster import load_roster

    if kind not in ACTOR_KINDS:
        raise RosterError(
            f"unknown kind {kind!r}", field="kind", hint=f"one of: {', '.join(ACTOR_KINDS)}"
        )
    path = _roster_path(project)
    divisions = [
        division
        for file in files
        for division, _raw in iter_division_file(file, format=format, parliament=parliament)
    ]
    divisions.sort(key=lambda d: (d.date is None, d.date, d.uid))
    index = MemberIndex.from_divisions(divisions)
    members: dict[str, dict[str, str]] = {}
    for division in divisions:  # oldest first: the latest party wins
        for vote in division.votes:
            key = index.member(division.house, vote.member, vote.name, vote.constituency)
            entry = members.setdefault(key, {"name": vote.name, "member_id": ""})
            if "?" in entry["name"] and "?" not in vote.name:
                entry["name"] = vote.name
            entry["member_id"] = entry["member_id"] or (vote.member_id or "")
            entry["party"] = index.party(vote.party) or entry.get("party", "")
            entry["constituency"] = index.seat(vote.constituency) or entry.get("constituency", "")
    comments, header, rows = _read_rows(path)
    for column in ("kind", "party", "constituency", "parliament"):
        if column not in header:
            header.append(column)
    resolver = MemberResolver(load_roster(path))
    ids = {r.get("id", "") for r in rows}
    by_id = {r.get("id", ""): r for r in rows}
    claimed = {r.get("parliament", "") for r in rows} - {""}
    added = skipped = updated = 0
    unclear: list[str] = []
    for key in sorted(members, key=lambda k: (fold_name(members[k]["name"]), k)):
        entry = members[key]
        match = resolver.resolve(entry["name"], entry["constituency"], entry["member_id"] or None)
        if match.actor is not None or match.method == "ambiguous":
            skipped += 1
            row = by_id.get(match.actor or "")
            member_id = entry["member_id"]
            lacking = row is not None and not row.get("parliament")
            if lacking and member_id and member_id not in claimed:
                row["parliament"] = member_id  # type: ignore[index]
                claimed.add(member_id)
                updated += 1
            continue
        base = re.sub(r"[^a-z0-9]+", "-", fold_name(entry["name"])).strip("-") or "member"
        actor_id = base
        if actor_id in ids:
            actor_id = f"{base}-" + re.sub(r"[^a-z0-9]+", "-", fold_label(entry["constituency"]))
            actor_id = actor_id.strip("-")
        suffix = 2
        while actor_id in ids:
            actor_id = f"{base}-{suffix}"
            suffix += 1
        ids.add(actor_id)
        if "?" in entry["name"]:
            unclear.append(entry["name"])
        rows.append(
            {
                "id": actor_id,
                "name": entry["name"],
                "kind": kind,
                "party": entry.get("party", ""),
                "constituency": entry.get("constituency", ""),
                "parliament": entry["member_id"],
            }
        )
        added += 1
    if added or updated:
        _write_rows(path, comments, header, rows)
    return MemberImport(added, skipped, unclear, updated)
