"""Write the per-division results: ``rebels.csv`` and a readable ``divisions.md``.

Both take :class:`~mapper.analysis.divisions.DivisionSummary` objects (the analysis
computes, this module only writes). The CSV goes through
:func:`mapper.export.write_rows_csv`, so cells that a spreadsheet would run as a
formula are neutralised like every other CSV mapper writes; the Markdown escapes every
name and title (:func:`mapper.render.report.md_escape`), so a hostile name can neither
break a table nor inject a link or HTML. Both files are written atomically.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mapper.analysis.divisions import (
    MIN_PARTY_VOTING,
    SPLIT_LINE_SHARE,
    DivisionSummary,
    Rebel,
)
from mapper.fsutil import write_text

__all__ = ["REBEL_COLUMNS", "rebel_rows", "write_divisions_md", "write_rebels_csv"]

#: Columns of ``rebels.csv``: ``member`` is the member's name as the division writes
#: it, ``member_key`` the key that is the same across divisions.
REBEL_COLUMNS: tuple[str, ...] = (
    "division",
    "date",
    "title",
    "member",
    "actor",
    "party",
    "vote",
    "party_line",
    "number",
    "member_id",
    "member_key",
    "party_share",
    "teller",
)


def rebel_rows(summaries: Iterable[DivisionSummary]) -> list[dict[str, Any]]:
    """One dict per rebel (keys :data:`REBEL_COLUMNS`), division by division."""
    rows = []
    for summary in summaries:
        for rebel in summary.rebels:
            rows.append(_rebel_row(rebel))
    return rows


def _rebel_row(rebel: Rebel) -> dict[str, Any]:
    return {
        "division": rebel.division,
        "date": rebel.date.isoformat() if rebel.date else "",
        "title": rebel.title,
        "member": rebel.name,
        "actor": rebel.actor or "",
        "party": rebel.party,
        "vote": rebel.vote,
        "party_line": rebel.party_line,
        "number": rebel.number,
        "member_id": rebel.member_id or "",
        "member_key": rebel.member,
        "party_share": round(rebel.party_share, 4),
        "teller": rebel.teller,
    }


def write_rebels_csv(summaries: Iterable[DivisionSummary], path: str | Path) -> Path:
    """Write ``rebels.csv``: one row per member who voted against their party's line.

    Parameters
    ----------
    summaries : iterable of DivisionSummary
        From :func:`mapper.analysis.divisions.division_summaries`.
    path : str or Path
        The file (written atomically; a header row even without rebels).

    Returns
    -------
    Path
    """
    return _write_csv(rebel_rows(summaries), path)


def _write_csv(rows: list[dict[str, Any]], path: str | Path) -> Path:
    from mapper.export import write_rows_csv

    return write_rows_csv(rows, path, columns=REBEL_COLUMNS)


def _md(value: Any) -> str:
    from mapper.render.report import md_escape

    return md_escape(value)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def write_divisions_md(
    summaries: Iterable[DivisionSummary], path: str | Path, *, title: str = "Divisions"
) -> Path:
    """Write ``divisions.md``: per division the result and margin, the counts checked,
    each party's line, turnout and abstentions, and the rebels; warnings first.

    Parameters
    ----------
    summaries : iterable of DivisionSummary
        The divisions, in the order to show them.
    path : str or Path
        The file (written atomically).
    title : str
        The page's heading.

    Returns
    -------
    Path
    """
    items = list(summaries)
    rebels = sum(len(s.rebels) for s in items)
    out: list[str] = [f"# {_md(title)}", ""]
    out.append(
        f"{len(items)} division{'s' if len(items) != 1 else ''}, {rebels} "
        f"rebel vote{'s' if rebels != 1 else ''}. A party's line is the side most of its "
        f"voting members took (at least {MIN_PARTY_VOTING} voting, not an even split, not "
        "independents or the Speaker); a rebel voted against it; not voting is counted "
        "apart, as abstention or absence. A line held by less than "
        f"{SPLIT_LINE_SHARE:.0%} of the party is flagged as a split."
    )
    out.append("")
    warnings = [w for s in items for w in s.warnings]
    if warnings:
        out += ["## Warnings", ""]
        out += [f"- {_md(w.code)}: {_md(w.message)}" for w in warnings]
        out.append("")
    if not items:
        out += ["No divisions in the store.", ""]
    for s in items:
        out += _division_section(s)
    return write_text(path, "\n".join(out).rstrip("\n") + "\n")


def _division_section(s: DivisionSummary) -> list[str]:
    when = s.date.date().isoformat() if s.date else "undated"
    head = f"## Division {_md(s.number or s.division)} of {when}"
    if s.title:
        head += f": {_md(s.title)}"
    out = [head, ""]
    if s.result == "tie":
        line = f"Result: a tie ({s.ayes} each way)."
    else:
        line = f"Result: **{s.result}** by {s.margin}."
    line += f" Listed: {s.ayes} ayes, {s.noes} noes"
    if s.aye_tellers or s.no_tellers:
        line += f" (tellers {s.aye_tellers} and {s.no_tellers} apart)"
    line += f", {s.no_vote} without a vote."
    if s.counts_match is None:
        line += " No declared counts to check against."
    elif s.declared_ayes is None or s.declared_noes is None:
        # one count declared (the other unreadable or absent): only that side is checked
        side, count = (
            ("noes", s.declared_noes) if s.declared_ayes is None else ("ayes", s.declared_ayes)
        )
        other = "ayes" if side == "noes" else "noes"
        verdict = "it matches" if s.counts_match else "**it does not match**"
        line += f" Declared: {count} {side} only ({verdict}; no count of {other} to check)."
    elif s.counts_match:
        line += f" Declared: {s.declared_ayes} ayes, {s.declared_noes} noes (the counts match)."
    else:
        line += (
            f" Declared: {s.declared_ayes} ayes, {s.declared_noes} noes: "
            "**the counts do not match**."
        )
    if not s.complete:
        line += " Rows of this division were set aside on import."
    out += [line, "", f"Key: {_md(s.division)}", ""]
    out += [
        "| party | members | aye | no | no vote | turnout | line | share | rebels |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for p in s.parties:
        line_text = p.line if p.line else f"none: {_md(p.reason)}"
        out.append(
            f"| {_md(p.party or '(no party)')} | {p.members} | {p.ayes} | {p.noes} | "
            f"{p.no_vote} | {_pct(p.turnout)} | {line_text} | {_pct(p.share)} | {p.rebels} |"
        )
    if not s.lists_non_voters:
        out += ["", "Turnout is unknown: the division lists only the members who voted."]
    out.append("")
    if s.rebels:
        out += [
            f"Rebels ({len(s.rebels)}):",
            "",
            "| member | party | voted | party line | actor |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in s.rebels:
            teller = " (teller)" if r.teller else ""
            out.append(
                f"| {_md(r.name)}{teller} | {_md(r.party)} | {r.vote} | {r.party_line} | "
                f"{_md(r.actor or '')} |"
            )
    else:
        out.append("No rebels.")
    out.append("")
    return out
