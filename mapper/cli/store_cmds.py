"""Commands that look after the store: ``mapper store sources`` (where the stored posts
came from, and which of them a run maps) and ``mapper store prune`` (remove a source's
posts). Both are thin layers over :meth:`mapper.store.Store.origins`,
:meth:`mapper.store.Store.prune_origins` and :func:`mapper.origins.source_scope`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mapper.cli.common import DEFAULT_PROJECT, StoreOption, reported_errors, say
from mapper.errors import MapperError

if TYPE_CHECKING:
    from mapper.origins import SourceScope
    from mapper.project import Project
    from mapper.store import OriginSummary, Store

_ProjectArg = typer.Argument(
    None,
    help="The project file (default: ./mapper.toml when it exists).",
    show_default=False,
)
_JsonOption = typer.Option(False, "--json", help="Print JSON on stdout instead of a table.")


def register(app: typer.Typer, roster_app: typer.Typer) -> None:
    """Add the ``store`` command group to ``app``."""
    store_app = typer.Typer(
        help="Look after the store: where its posts came from; remove a source's posts.",
        no_args_is_help=True,
    )
    app.add_typer(store_app, name="store")

    @store_app.command("sources")
    def sources(
        project: Path | None = _ProjectArg,
        store: Path | None = StoreOption,
        json_out: bool = _JsonOption,
    ) -> None:
        """List where the stored posts came from, and which of them `mapper run` maps.

        Each file or live source with its posts, how they were added (a project run,
        by hand, or before mapper recorded it) and, with a project, whether the
        project lists it. Posts from sources the project does not list are left out
        of its maps.

        Example:  mapper store sources mapper.toml
        """
        with reported_errors():
            proj = _project(project)
            st = _open(store, proj)
            with st:
                scope = _scope(proj, st)
                rows = _rows(scope, st, proj)
        if json_out:
            print(json.dumps(rows, indent=2, default=str))
        else:
            _print(rows, ["status", "posts", "kind", "added", "source"])
        total = sum(int(r["posts"]) for r in rows)
        say(f"{_count(total, 'post')} counted over {_count(len(rows), 'source')} in {st.path}")
        if scope is not None:
            message = scope.warning()
            if message:
                say(f"warning: {_plain(message)}")

    @store_app.command("prune")
    def prune(
        project: Path | None = _ProjectArg,
        store: Path | None = StoreOption,
        source: list[str] = typer.Option(
            [],
            "--source",
            "-s",
            help="A source to remove, as `mapper store sources` lists it (repeatable).",
        ),
        unlisted: bool = typer.Option(
            False, "--unlisted", help="Remove every source the project does not list."
        ),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Say what would be removed, remove nothing."
        ),
        json_out: bool = _JsonOption,
    ) -> None:
        """Remove sources from the store, with the posts only they gave.

        A post another source also gave stays. The import record of a removed file
        goes too, so listing it again reads it afresh.

        Example:  mapper store prune mapper.toml --unlisted --dry-run
        """
        with reported_errors():
            if not source and not unlisted:
                raise MapperError(
                    "say what to remove",
                    hint="--unlisted (sources the project does not list) or --source SOURCE",
                )
            proj = _project(project)
            if unlisted and proj is None:
                raise MapperError(
                    "--unlisted needs a project file",
                    hint="give it, e.g. `mapper store prune mapper.toml --unlisted`",
                )
            st = _open(store, proj)
            with st:
                chosen = _chosen(st, proj, source, unlisted)
                rows = [_plan_row(o, proj) for o in chosen]
                if dry_run or not chosen:
                    result = None
                else:
                    result = st.prune_origins([o.id if o.id is not None else o.key for o in chosen])
        if json_out:
            out: dict[str, Any] = {"sources": rows, "dry_run": dry_run}
            if result is not None:
                out.update(removed=result.removed, kept=result.kept)
            print(json.dumps(out, indent=2, default=str))
        else:
            _print(rows, ["posts", "removes", "source"])
        if not chosen:
            say("nothing to remove: the project lists every source in the store")
        elif result is None:
            removes = sum(int(r["removes"]) for r in rows)
            say(
                f"would remove {_count(len(rows), 'source')} and "
                f"{_count(removes, 'post')} (--dry-run)"
            )
        else:
            say(
                f"removed {_count(len(result.origins), 'source')} and "
                f"{_count(result.removed, 'post')}"
                + (f" ({result.kept:,} kept: another source gives them)" if result.kept else "")
            )


def _project(project: Path | None) -> Project | None:
    from mapper.project import load_project

    if project is None and DEFAULT_PROJECT.exists():
        project = DEFAULT_PROJECT
    return load_project(project) if project is not None else None


def _open(store: Path | None, project: Project | None) -> Store:
    from mapper.cli.common import DEFAULT_STORE
    from mapper.errors import StoreError
    from mapper.store import Store

    path = store or (project.store if project is not None else DEFAULT_STORE)
    if not Path(path).exists():
        raise StoreError("no store here yet", source=path, hint="import or run something first")
    return Store(path)


def _scope(project: Project | None, store: Store) -> SourceScope | None:
    from mapper.origins import source_scope

    return source_scope(project, store) if project is not None else None


def _shown_key(key: str, project: Project | None) -> str:
    """A file relative to the project's folder when it is inside it."""
    if not key:
        return "(posts stored without a source)"
    if project is not None and os.path.isabs(key):
        try:
            return os.path.relpath(key, project.base)
        except ValueError:
            return key
    return key


_ADDED = {"hand": "by hand", "project": "by a run", "legacy": "before tracking"}


def _rows(scope: SourceScope | None, store: Store, project: Project | None) -> list[dict[str, Any]]:
    if scope is not None:
        uses = [(u.origin, u.status) for u in scope.sources]
    else:
        uses = [(o, "") for o in store.origins()]
    return [
        {
            "status": status,
            "posts": o.posts,
            "kind": o.kind,
            "added": _ADDED.get(o.added_by, o.added_by),
            "source": _shown_key(o.key, project),
            "key": o.key,
            "last_added": o.last_added,
        }
        for o, status in uses
    ]


def _chosen(
    store: Store, project: Project | None, sources: list[str], unlisted: bool
) -> list[OriginSummary]:
    origins = store.origins(exclusive=True)
    by_key = {o.key: o for o in origins if o.id is not None}
    chosen: list[OriginSummary] = []
    if unlisted and project is not None:
        scope = _scope(project, store)
        assert scope is not None
        left_out = {u.origin.id for u in scope.left_out}
        chosen.extend(o for o in origins if o.id in left_out)
    for wanted in sources:
        found = by_key.get(wanted)
        if found is None:  # a path as written, relative to here or to the project
            candidates = [os.path.abspath(wanted)]
            if project is not None:
                candidates.append(os.path.abspath(project.base / wanted))
            found = next((by_key[c] for c in candidates if c in by_key), None)
        if found is None:
            raise MapperError(
                f"no stored posts come from {wanted!r}",
                source=store.path,
                hint="`mapper store sources` lists the sources as they are known",
            )
        if found not in chosen:
            chosen.append(found)
    return chosen


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _plan_row(origin: OriginSummary, project: Project | None) -> dict[str, Any]:
    return {
        "source": _shown_key(origin.key, project),
        "posts": origin.posts,
        "removes": origin.exclusive or 0,
        "key": origin.key,
    }


def _print(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        say("(nothing to show)")
        return
    widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        print("  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns).rstrip())
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return _plain(" ".join(("" if value is None else str(value)).split())[:120])


def _plain(text: str) -> str:
    """A file name or a query can hold terminal escapes and bidi controls: show them as ``?``."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)
