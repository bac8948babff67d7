"""Write the co-voting results: tables, ``covoting.md``, the co-voting map and the
talk-versus-vote map.

Everything here reads a :class:`~mapper.analysis.covoting.CoVoting` (the analysis
computes, this module writes). Tables are CSV with cells a spreadsheet would run as a
formula neutralised, like every CSV mapper writes; Markdown escapes every name; the
two maps are pages of :mod:`mapper.render.maps` (vis-network inlined, works offline,
a Content-Security-Policy that blocks any request, plain-text tooltips that never
contain ``href``, node ids that are actor ids or member keys). Files are written
atomically.
"""

from __future__ import annotations

import contextlib
import csv
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from mapper.analysis.covoting import (
    AGREEMENT_COLUMNS,
    BLOC_COLUMNS,
    CLOSE_COLUMNS,
    COHESION_COLUMNS,
    COHESION_DIVISION_COLUMNS,
    COMPARE_COLUMNS,
    DEFECTOR_COLUMNS,
    GROUP_COLUMNS,
    MEMBER_BLOC_COLUMNS,
    PERSUADABLE_COLUMNS,
    CoVoting,
)
from mapper.errors import ExportError
from mapper.fsutil import atomic_open, write_text
from mapper.render.layout import (
    Grouping,
    clean_text,
    plain_title,
    vis_ids,
)

__all__ = [
    "PARTY_SHAPES",
    "TIES_SHOWN",
    "covoting_positions",
    "covoting_table_rows",
    "write_covoting_map",
    "write_covoting_md",
    "write_covoting_tables",
    "write_frame_csv",
    "write_talk_vote_map",
]

#: vis-network shapes given to the parties, largest party first; parties beyond them
#: share :data:`OTHER_PARTY_SHAPE`.
PARTY_SHAPES: tuple[str, ...] = ("dot", "diamond", "square", "triangle", "triangleDown", "hexagon")
OTHER_PARTY_SHAPE = "star"
#: The co-voting map draws each member's strongest significant ties, this many.
TIES_SHOWN = 6
#: Layers of the talk-versus-vote map: id -> (name, colour, dashes).
LAYERS: dict[str, tuple[str, str, bool]] = {
    "votes": ("Votes with (significant co-voting)", "#3c9d5d", False),
    "talks": ("Talks to (interaction graph)", "#4e79a7", False),
    "votes-not-talk": ("Vote together, no tie", "#e07b39", True),
    "talks-not-votes": ("Talk a lot, vote apart", "#c0392b", True),
}
_LABEL_LENGTH = 60


# ------------------------------------------------------------------------- tables


def write_frame_csv(frame: pd.DataFrame, path: str | Path, columns: Sequence[str]) -> Path:
    """Write a DataFrame as CSV the way :func:`mapper.export.write_rows_csv` does (text
    quoted and neutralised, numbers bare, missing values empty), fast for large tables
    (text cells are neutralised once per distinct value).

    Raises
    ------
    ExportError
        Naming ``path`` when it cannot be written.
    """
    from mapper.export import _cell  # the one CSV cell rule of mapper

    path = Path(path)
    cells: list[list[Any]] = []
    size = len(frame)
    for column in columns:
        if column not in frame.columns:
            cells.append([""] * size)
            continue
        series = frame[column]
        if pd.api.types.is_bool_dtype(series):
            cells.append(["true" if v else "false" for v in series.tolist()])
        elif pd.api.types.is_integer_dtype(series) and not series.isna().any():
            cells.append(series.astype(np.int64).tolist())
        elif pd.api.types.is_float_dtype(series):
            cells.append(["" if not math.isfinite(v) else v for v in series.tolist()])
        else:
            memo: dict[Any, Any] = {}
            out = []
            for value in series.tolist():
                if isinstance(value, float) and not math.isfinite(value):
                    out.append("")
                    continue
                try:
                    out.append(memo[value])
                except (KeyError, TypeError):
                    cell = _cell(value)
                    with contextlib.suppress(TypeError):  # unhashable values
                        memo[value] = cell
                    out.append(cell)
            cells.append(out)
    try:
        with atomic_open(path, "w", newline="") as fh:
            writer = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow([_cell(str(c)) for c in columns])
            writer.writerows(zip(*cells, strict=True))
    except OSError as exc:
        raise ExportError(f"cannot write {path.name}: {exc}", source=path) from exc
    return path


def covoting_table_rows(result: CoVoting) -> dict[str, tuple[pd.DataFrame, Sequence[str]]]:
    """File name -> (table, columns) of every co-voting table (the talk-versus-vote
    ones only when the analysis had an interaction graph)."""
    tables: dict[str, tuple[pd.DataFrame, Sequence[str]]] = {
        "agreement.csv": (result.agreement_frame(), AGREEMENT_COLUMNS),
        "blocs.csv": (result.blocs_frame(), BLOC_COLUMNS),
        "bloc-members.csv": (result.members_frame(), MEMBER_BLOC_COLUMNS),
        "defectors.csv": (result.defectors, DEFECTOR_COLUMNS),
        "cohesion.csv": (result.cohesion, COHESION_COLUMNS),
        "cohesion-divisions.csv": (result.cohesion_divisions, COHESION_DIVISION_COLUMNS),
        "close-divisions.csv": (result.close, CLOSE_COLUMNS),
        "persuadable.csv": (result.persuadable, PERSUADABLE_COLUMNS),
    }
    if result.talk_vote is not None:
        tables["talk-vote.csv"] = (result.talk_vote.pairs, COMPARE_COLUMNS)
        tables["talk-vote-groups.csv"] = (result.talk_vote.groups, GROUP_COLUMNS)
    return tables


def write_covoting_tables(result: CoVoting, folder: str | Path) -> dict[str, Path]:
    """Write every co-voting table (see :func:`covoting_table_rows`) into ``folder``.

    Returns
    -------
    dict
        File name -> path.
    """
    base = Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    return {
        name: write_frame_csv(frame, base / name, columns)
        for name, (frame, columns) in covoting_table_rows(result).items()
    }


# ----------------------------------------------------------------------- markdown


def _md(value: Any) -> str:
    from mapper.render.report import md_escape

    return md_escape(value)


def _num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return f"{float(value):.{digits}f}"


def _table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    out = ["| " + " | ".join(columns) + " |", "|" + "|".join(" --- " for _ in columns) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def _sig_sentence(result: CoVoting) -> str:
    blocs = result.blocs
    if blocs.result is None:
        return "No co-voting tie: no blocs."
    sig = blocs.result.significance
    if sig is None:
        return "The blocs were not tested against random graphs."
    verdict = "significant" if sig.significant else "**not significant**"
    return (
        f"Bloc structure {verdict}: modularity {sig.observed:.3f} against "
        f"{sig.null_mean:.3f} ± {sig.null_std:.3f} on {sig.samples} random graphs with the "
        f"same degrees (p = {sig.p:.3g})."
    )


def write_covoting_md(
    result: CoVoting, path: str | Path, *, title: str = "Co-voting", top: int = 25
) -> Path:
    """Write ``covoting.md``: warnings first, then the method in one paragraph, the
    blocs, party cohesion, defectors, the strongest cross-party ties, the close
    divisions and their persuadable members, and talk versus vote.

    Parameters
    ----------
    result : CoVoting
    path : str or Path
        The file (written atomically).
    title : str
        The page's heading.
    top : int
        Rows shown in the longer tables (the CSV files hold all of them).

    Returns
    -------
    Path
    """
    m, d = result.matrix.shape
    agreement = result.agreement
    summary = result.summary()
    out = [f"# {_md(title)}", ""]
    if result.warnings:
        out += ["## What the data can and cannot carry", ""]
        out += [f"- {_md(w.code)}: {_md(w.message)}" for w in result.warnings]
        out.append("")
    out += [
        f"{m:,} members, {d:,} divisions. Two members' agreement is the share of the "
        "divisions both voted in (aye or no) where they took the same side, against the "
        "share chance would give (two members drawn from each division's voters taking "
        "the same side); *kappa* is the agreement beyond chance (1: always together, 0: "
        "as chance, negative: less). A pair needs "
        f"{agreement.min_shared} shared divisions to be scored ({summary['scored_pairs']:,} "
        f"of {summary['pairs']:,} pairs are); a co-voting tie is kept when its agreement is "
        f"above chance at a false discovery rate of {agreement.alpha:g} "
        f"({summary['ties']:,} ties).",
        "",
    ]
    out += ["## Voting blocs", "", _sig_sentence(result), ""]
    blocs = result.blocs_frame()
    if len(blocs):
        out += _table(
            ["bloc", "members", "cross-party", "Rice (mean)", "stability"],
            (
                [
                    _md(r.name),
                    _num(int(r.size)),
                    "yes" if r.cross_party else "no",
                    _num(r.rice),
                    _num(r.cohesion),
                ]
                for r in blocs.itertuples(index=False)
            ),
        )
        out.append("")
        unassigned = summary["unassigned_members"]
        if unassigned:
            out += [f"{unassigned:,} members have too few significant ties for a bloc.", ""]
    else:
        out += ["No blocs.", ""]
    out += ["## Party cohesion (Rice index)", ""]
    parties = (
        result.cohesion[result.cohesion["group_type"] == "party"]
        if len(result.cohesion)
        else result.cohesion
    )
    if len(parties):
        out += [
            "Rice = |ayes - noes| / (ayes + noes) of the party's voting members, per "
            "division, averaged; *by chance* is what the same numbers of members voting at "
            "random would score (small parties look cohesive by chance).",
            "",
        ]
        out += _table(
            ["party", "members", "divisions", "Rice", "lowest", "by chance", "blocs", "main bloc"],
            (
                [
                    _md(r.group),
                    _num(int(r.members)),
                    _num(int(r.divisions)),
                    _num(r.rice),
                    _num(r.rice_min),
                    _num(r.chance_rice),
                    "" if r.blocs is None or pd.isna(r.blocs) else _num(int(r.blocs)),
                    ""
                    if not isinstance(r.main_bloc, str)
                    else f"{_md(r.main_bloc)} ({_num(r.main_bloc_share * 100, 0)}%)",
                ]
                for r in parties.itertuples(index=False)
            ),
        )
        out.append("")
    else:
        out += ["No party with a line to measure.", ""]
    out += ["## Members outside their party's bloc", ""]
    if len(result.defectors):
        out += _table(
            [
                "member",
                "party",
                "their bloc",
                "party's bloc",
                "kappa bloc",
                "kappa party",
                "evidence",
            ],
            (
                [
                    _md(r.name),
                    _md(r.party),
                    _md(r.bloc_name),
                    _md(r.party_bloc_name),
                    _num(r.kappa_bloc),
                    _num(r.kappa_party),
                    r.evidence,
                ]
                for r in result.defectors.head(top).itertuples(index=False)
            ),
        )
        out.append("")
    else:
        out += ["None found.", ""]
    out += _cross_party_section(result, top)
    out += _persuadable_section(result, top)
    out += _talk_vote_section(result, top)
    return write_text(path, "\n".join(out).rstrip("\n") + "\n")


def _cross_party_section(result: CoVoting, top: int) -> list[str]:
    out = ["## Strongest cross-party co-voting ties", ""]
    G = result.graph
    rows = [
        (data["kappa"], u, v, data)
        for u, v, data in G.edges(data=True)
        if G.nodes[u].get("party") != G.nodes[v].get("party")
    ]
    if not rows:
        return [*out, "None.", ""]
    rows.sort(key=lambda r: (-r[0], str(r[1]), str(r[2])))
    out += _table(
        ["member", "member", "parties", "agreement", "by chance", "kappa", "shared"],
        (
            [
                _md(G.nodes[u].get("name")),
                _md(G.nodes[v].get("name")),
                f"{_md(G.nodes[u].get('party'))} / {_md(G.nodes[v].get('party'))}",
                f"{data['agreement']:.0%}",
                f"{data['expected']:.0%}",
                _num(kappa),
                _num(int(data["shared"])),
            ]
            for kappa, u, v, data in rows[:top]
        ),
    )
    return [*out, ""]


def _persuadable_section(result: CoVoting, top: int) -> list[str]:
    options = result.options
    out = [
        "## Close divisions and persuadable members",
        "",
        f"A division is close when won by {options.get('close_votes')} votes or fewer and "
        f"{options.get('close_share', 0):.0%} of the votes cast or less. Its persuadable "
        f"members ({options.get('side', 'winning')} side) are those who voted the other way "
        "or did not vote, ranked by their chance-corrected agreement with the side's "
        "members over the other divisions.",
        "",
    ]
    if not len(result.close):
        return [*out, "No close division.", ""]
    for row in result.close.itertuples(index=False):
        head = f"### Division {_md(row.number or row.division)}"
        if row.title:
            head += f": {_md(row.title)}"
        out += [
            head,
            "",
            f"{row.ayes:,} ayes, {row.noes:,} noes: {row.result} by {row.margin} "
            f"({row.switches_to_flip} switched votes would have turned it); "
            f"{row.candidates:,} candidates, {row.ranked:,} ranked, {row.thin:,} too thin.",
            "",
        ]
        ranked = result.persuadable[result.persuadable["division"] == row.division]
        if len(ranked):
            out += _table(
                ["rank", "member", "party", "voted", "closeness", "other side", "ties"],
                (
                    [
                        _num(int(r.rank)),
                        _md(r.name),
                        _md(r.party),
                        r.voted,
                        _num(r.closeness),
                        _num(r.closeness_other),
                        _num(int(r.ties_to_side)),
                    ]
                    for r in ranked.head(min(top, 10)).itertuples(index=False)
                ),
            )
            out.append("")
    return out


def _talk_vote_section(result: CoVoting, top: int) -> list[str]:
    tv = result.talk_vote
    out = ["## Talk versus vote", ""]
    if tv is None:
        return [*out, "No interaction graph to compare with.", ""]
    out += [
        f"{tv.common:,} members who voted are actors of the interaction graph; {tv.active:,} "
        "of them have enough ties there for their silence to count.",
        "",
    ]
    groups = tv.groups[tv.groups["finding"].isin(["votes-not-talk", "talks-not-votes"])]
    if len(groups):
        out += ["Party pairs:", ""]
        out += [f"- **{r.finding}**: {_md(r.reason)}" for r in groups.itertuples(index=False)]
        out.append("")
    for finding, heading in (
        ("votes-not-talk", "Pairs who vote together but have no tie (cross-party first)"),
        ("talks-not-votes", "Pairs who talk a lot but vote apart"),
    ):
        rows = tv.pairs[tv.pairs["finding"] == finding]
        out += [f"{heading}: {len(rows):,}.", ""]
        out += [f"- {_md(r.reason)}" for r in rows.head(top).itertuples(index=False)]
        out.append("")
    return out


# ------------------------------------------------------------------------- maps


def _party_shapes(parties: Iterable[str]) -> dict[str, str]:
    counts = Counter(parties)
    ranked = sorted(counts, key=lambda p: (-counts[p], p))
    return {
        p: PARTY_SHAPES[k] if k < len(PARTY_SHAPES) else OTHER_PARTY_SHAPE
        for k, p in enumerate(ranked)
    }


def _bloc_grouping(G: nx.Graph, names: Mapping[int, str]) -> Grouping:
    of_node = {n: int(G.nodes[n].get("bloc", -1)) for n in G.nodes}
    sizes = Counter(of_node.values())
    order = sorted((g for g in sizes if g >= 0), key=lambda g: (-sizes[g], g))
    if -1 in sizes:
        order.append(-1)
    group_names = {g: names.get(g, f"Bloc {g + 1}") for g in sizes if g >= 0}
    if -1 in sizes:
        group_names[-1] = "No bloc"
    return Grouping("faction", of_node, group_names, dict(sizes), order)


def _shown_ties(
    G: nx.Graph, nodes: Sequence[Hashable], per_member: int, budget: int
) -> list[tuple[Hashable, Hashable]]:
    """Each member's ``per_member`` strongest ties (by kappa), at most ``budget`` in all,
    weakest first (so the strongest are drawn on top)."""
    chosen: set[tuple[Hashable, Hashable]] = set()
    keep = set(nodes)
    position = {n: i for i, n in enumerate(G.nodes)}
    for node in nodes:
        ranked = sorted(
            ((float(G[node][v].get("weight", 0.0)), v) for v in G[node] if v in keep),
            key=lambda t: (-t[0], str(t[1])),
        )
        for _, v in ranked[:per_member]:
            a, b = (node, v) if position[node] <= position[v] else (v, node)
            chosen.add((a, b))
    ties = sorted(
        chosen, key=lambda e: (-float(G.edges[e].get("weight", 0.0)), str(e[0]), str(e[1]))
    )
    ties = ties[:budget]
    return sorted(ties, key=lambda e: (float(G.edges[e].get("weight", 0.0)), str(e[0]), str(e[1])))


def covoting_positions(
    nodes: Sequence[Hashable],
    ties: Iterable[tuple[Hashable, Hashable, float]],
    *,
    groups: Mapping[Hashable, int] | None = None,
    seed: int = 0,
    spacing: float = 60.0,
) -> dict[Hashable, tuple[float, float]]:
    """Positions for a co-voting map: each group (a voting bloc, from ``groups``; for
    members without one, each connected piece of the drawn ties) laid out on its own
    (igraph's Fruchterman-Reingold on its ties, seeded), scaled to a disc whose area
    grows with its members, and the discs packed in rows, largest first; members with
    neither a bloc nor a drawn tie in a grid below. Dense blocs then fill their disc
    instead of collapsing into a point, and each bloc is a disc of its own colour.
    Deterministic for the same input and seed.
    """
    import random as random_module

    import igraph as ig

    order = list(nodes)
    index = {n: i for i, n in enumerate(order)}
    pairs = sorted({tuple(sorted((index[u], index[v]))) for u, v, _ in ties if u != v})
    graph = ig.Graph(n=len(order), edges=pairs, directed=False)
    of = {index[n]: g for n, g in (groups or {}).items() if n in index and g >= 0}
    pieces: list[list[int]] = []
    for bloc in sorted(set(of.values())):
        pieces.append(sorted(i for i, g in of.items() if g == bloc))
    rest = graph.subgraph([i for i in range(len(order)) if i not in of])
    rest_ids = [i for i in range(len(order)) if i not in of]
    loners: list[int] = []
    for component in rest.connected_components():
        members = sorted(rest_ids[k] for k in component)
        if len(members) > 1:
            pieces.append(members)
        else:
            loners += members
    pieces.sort(key=lambda c: (-len(c), c[0]))
    out: dict[Hashable, tuple[float, float]] = {}
    x, y, row_height = 0.0, 0.0, 0.0
    width = spacing * math.sqrt(max(len(order), 4)) * 2.2
    for piece in pieces:
        sub = graph.subgraph(piece)
        ig.set_random_number_generator(random_module.Random(seed))
        try:
            coords = sub.layout_fruchterman_reingold(niter=500).coords
        finally:
            ig.set_random_number_generator(random_module)
        cx = sum(c[0] for c in coords) / len(coords)
        cy = sum(c[1] for c in coords) / len(coords)
        reach = max(math.hypot(a - cx, b - cy) for a, b in coords) or 1.0
        radius = spacing * math.sqrt(len(piece)) * 0.6
        if x > 0 and x + 2 * radius > width:
            x, y, row_height = 0.0, y + row_height + spacing, 0.0
        for k, (a, b) in zip(piece, coords, strict=True):
            out[order[k]] = (
                round(x + radius + (a - cx) / reach * radius, 1),
                round(y + radius + (b - cy) / reach * radius, 1),
            )
        x += 2 * radius + spacing
        row_height = max(row_height, 2 * radius)
    y += row_height + spacing * 1.5
    per_row = max(1, int(width // spacing))
    for k, i in enumerate(sorted(loners)):
        out[order[i]] = (round((k % per_row) * spacing, 1), round(y + (k // per_row) * spacing, 1))
    return out


def _member_title(G: nx.Graph, node: Hashable, names: Mapping[Hashable, str]) -> str:
    data = G.nodes[node]
    lines = [clean_text(data.get("name") or node, one_line=True, max_length=80)]
    ident = clean_text(node, one_line=True)
    if ident != lines[0]:
        lines.append(f"Id: {ident}")
    party = clean_text(data.get("party"), one_line=True, max_length=60)
    seat = clean_text(data.get("constituency"), one_line=True, max_length=60)
    lines.append(" · ".join(p for p in (party or "no party", seat) if p))
    bloc = data.get("bloc_name")
    if bloc:
        line = f"Bloc: {clean_text(bloc, one_line=True, max_length=80)}"
        if data.get("stability") is not None:
            line += f" (stability {float(data['stability']):.2f})"
        lines.append(line)
    else:
        lines.append("Bloc: none (too few significant ties)")
    if data.get("defector"):
        lines.append("Votes with another bloc than most of their party")
    lines.append(f"Voted in {int(data.get('divisions', 0)):,} divisions")
    nbrs = sorted(
        ((float(G.edges[node, v].get("kappa", 0.0)), v) for v in G[node]),
        key=lambda t: (-t[0], str(t[1])),
    )
    lines.append(f"Significant co-voting ties: {len(nbrs):,}")
    if nbrs:
        closest = ", ".join(f"{names[v]} ({k:.2f})" for k, v in nbrs[:3])
        lines.append(f"Closest: {closest}")
    return plain_title("\n".join(lines))


def _tie_title(G: nx.Graph, u: Hashable, v: Hashable, names: Mapping[Hashable, str]) -> str:
    d = G.edges[u, v]
    return plain_title(
        f"{names[u]} – {names[v]}\n"
        f"Same side in {float(d['agreement']):.0%} of {int(d['shared']):,} shared divisions "
        f"({float(d['expected']):.0%} by chance)\n"
        f"kappa {float(d['kappa']):.2f}, q {float(d['q']):.2g}"
    )


def _member_nodes(
    G: nx.Graph,
    nodes: Sequence[Hashable],
    positions: Mapping[Hashable, tuple[float, float]],
    grouping: Grouping,
    shapes: Mapping[str, str],
    ids: Mapping[Hashable, str],
    names: Mapping[Hashable, str],
) -> list[dict[str, Any]]:
    from mapper.render.maps import _group_key

    n = len(nodes)
    unit = max(1.0, math.sqrt(max(n, 1)) / 9.0)
    degree = {node: G.degree(node) for node in nodes}
    top = max(degree.values(), default=1) or 1
    out = []
    for node in nodes:
        data = G.nodes[node]
        party = str(data.get("party") or "")
        size = (7.0 + 11.0 * math.sqrt(degree[node] / top)) * unit
        entry: dict[str, Any] = {
            "id": ids[node],
            "label": clean_text(names[node], max_length=_LABEL_LENGTH, one_line=True),
            "shape": shapes.get(party, OTHER_PARTY_SHAPE),
            "title": _member_title(G, node, names),
            "x": positions[node][0],
            "y": positions[node][1],
            "size": round(size, 1),
            "group": _group_key(grouping.of_node.get(node, -1)),
            "font": {"size": round((12 if n <= 150 else 7) * unit, 1)},
            "fac": grouping.of_node.get(node, -1),
            "kind": party or "(no party)",
        }
        if data.get("defector"):
            entry["borderWidth"] = 3.5
            entry["shapeProperties"] = {"borderDashes": [5, 3]}
        out.append(entry)
    return out


#: Longest bloc or party name in a map's legend (bloc names come from party labels).
_LEGEND_LENGTH = 80


def _legends(
    G: nx.Graph, nodes: Sequence[Hashable], grouping: Grouping, shapes: Mapping[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    shown = Counter(grouping.of_node.get(n, -1) for n in nodes)
    groups = [
        {
            "id": g,
            "name": clean_text(grouping.name(g), one_line=True, max_length=_LEGEND_LENGTH),
            "colour": grouping.colour(g),
            "shown": shown[g],
            "total": grouping.sizes.get(g, 0),
        }
        for g in grouping.order
        if shown.get(g)
    ]
    parties = Counter(str(G.nodes[n].get("party") or "") for n in nodes)
    kinds = [
        {
            "kind": p or "(no party)",  # the filter's key: the label as the data hold it
            "name": clean_text(p, one_line=True, max_length=_LEGEND_LENGTH) or "(no party)",
            "shape": shapes.get(p, OTHER_PARTY_SHAPE),
            "shown": c,
        }
        for p, c in sorted(parties.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return groups, kinds


def _render(
    path: str | Path,
    *,
    title: str,
    subtitle: str,
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    grouping: Grouping,
    groups_used: Iterable[int],
    notices: list[str],
    groups: list[dict[str, Any]],
    kinds: list[dict[str, Any]],
    edge_types: list[dict[str, Any]],
    layers: list[dict[str, Any]],
    notes: list[str],
) -> Path:
    from mapper.render.maps import (
        LARGE_MAP,
        MapPage,
        _group_styles,
        _options,
        _write_html,
        render_page,
    )

    options = _options(large=len(nodes) > LARGE_MAP, groups=_group_styles(grouping, groups_used))
    options["edges"]["arrows"] = {"to": {"enabled": False}}
    page = MapPage(
        title=title,
        subtitle=subtitle,
        payload={"nodes": nodes, "edges": edges, "options": options, "focus": None},
        notices=notices,
        group_title="Voting blocs (colour)",
        groups=groups,
        kinds=kinds,
        kind_title="Parties (shape)",
        edge_types=edge_types,
        layers=layers,
        notes=notes,
        search_label="Find a member",
    )
    return _write_html(path, render_page(page))


def write_covoting_map(
    result: CoVoting,
    path: str | Path,
    *,
    title: str = "Co-voting",
    seed: int = 0,
    ties_per_member: int = TIES_SHOWN,
) -> dict[str, Any]:
    """Write ``covoting.html``: members coloured by voting bloc, shaped by party.

    Members whose bloc is not their party's have a thick dashed outline. Each member's
    ``ties_per_member`` strongest significant co-voting ties are drawn (width by
    kappa); the page says how many of all ties that is. Tooltips give the member's
    party, constituency, bloc, divisions voted and closest co-voters; a tie's gives
    the agreement, the chance agreement, kappa and q. Positions follow the drawn ties.

    Returns
    -------
    dict
        ``path``, ``nodes``, ``ties_total``, ``ties_shown``.
    """
    G = result.graph
    nodes = list(G.nodes)
    grouping = _bloc_grouping(G, result.blocs.names)
    shapes = _party_shapes(str(G.nodes[n].get("party") or "") for n in nodes)
    ids = vis_ids(G)
    names = {n: clean_text(G.nodes[n].get("name") or n, one_line=True) for n in nodes}
    ties = _shown_ties(G, nodes, ties_per_member, budget=max(1, 8 * len(nodes)))
    weights = [(u, v, float(G.edges[u, v].get("weight", 0.0))) for u, v in ties]
    positions = covoting_positions(nodes, weights, groups=grouping.of_node, seed=seed)
    payload_nodes = _member_nodes(G, nodes, positions, grouping, shapes, ids, names)
    top = max((w for _, _, w in weights), default=1.0) or 1.0
    unit = max(1.0, math.sqrt(max(len(nodes), 1)) / 9.0)
    edges = [
        {
            "from": ids[u],
            "to": ids[v],
            "width": round((0.5 + 3.5 * max(w, 0.0) / top) * math.sqrt(unit), 2),
            "color": "#9a9a9a",
            "title": _tie_title(G, u, v, names),
        }
        for u, v, w in weights
    ]
    notices = []
    total = G.number_of_edges()
    if len(ties) < total:
        notices.append(
            f"Showing each member's {ties_per_member} strongest co-voting ties ({len(ties):,} of "
            f"{total:,} significant ties); all of them are in the exports."
        )
    if total == 0:
        notices.append("No co-voting tie: no pair agrees significantly more than chance.")
    notices += [_sentence(w.message) for w in result.warnings[:6]]
    groups, kinds = _legends(G, nodes, grouping, shapes)
    m, d = result.matrix.shape
    target = _render(
        path,
        title=clean_text(title, one_line=True) or "Co-voting",
        subtitle=f"{m:,} members · {d:,} divisions · {total:,} co-voting ties",
        nodes=payload_nodes,
        edges=edges,
        grouping=grouping,
        groups_used=set(grouping.of_node.values()),
        notices=notices,
        groups=groups,
        kinds=kinds,
        edge_types=[{"name": "Votes with (kappa)", "colour": "#9a9a9a", "shown": len(edges)}],
        layers=[],
        notes=[
            "A tie: the two members took the same side significantly more often than chance "
            "(two members drawn from each division's voters) over the divisions both voted "
            "in. Width: kappa, the agreement beyond chance. Colour: voting bloc; shape: "
            "party; dashed outline: a member whose bloc is not their party's.",
        ],
    )
    return {"path": target, "nodes": len(nodes), "ties_total": total, "ties_shown": len(ties)}


def write_talk_vote_map(
    result: CoVoting,
    social: nx.Graph,
    path: str | Path,
    *,
    title: str = "Who talks to whom, who votes with whom",
    seed: int = 0,
    ties_per_member: int = TIES_SHOWN,
    findings_shown: int = 400,
) -> dict[str, Any]:
    """Write ``talk-vote.html``: the members who are in both graphs, with switchable
    layers of ties: who votes with whom (each member's strongest significant co-voting
    ties), who talks to whom (ties of the interaction graph among them), and the pairs
    who vote together without a tie and who talk a lot but vote apart
    (:func:`mapper.analysis.covoting.talk_vote`). Colour: voting bloc; shape: party;
    positions follow the co-voting ties.

    Returns
    -------
    dict
        ``path``, ``nodes``, and the ties shown per layer (``layers``).
    """
    G = result.graph
    members = [n for n in G.nodes if n in social]
    H = G.subgraph(members)
    grouping = _bloc_grouping(G, result.blocs.names)
    shapes = _party_shapes(str(G.nodes[n].get("party") or "") for n in members)
    ids = vis_ids(H)
    names = {n: clean_text(G.nodes[n].get("name") or n, one_line=True) for n in members}
    vote_ties = _shown_ties(H, members, ties_per_member, budget=max(1, 8 * len(members)))
    weights = [(u, v, float(H.edges[u, v].get("weight", 0.0))) for u, v in vote_ties]
    positions = covoting_positions(members, weights, groups=grouping.of_node, seed=seed)
    keep = set(members)
    talk: dict[tuple[Hashable, Hashable], float] = {}
    order = {n: i for i, n in enumerate(members)}
    for u, v, data in social.edges(data=True):
        if u in keep and v in keep and u != v:
            a, b = (u, v) if order[u] <= order[v] else (v, u)
            w = data.get("weight", 1.0)
            talk[(a, b)] = talk.get((a, b), 0.0) + (float(w) if isinstance(w, int | float) else 1.0)
    edges: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    top_vote = max((w for _, _, w in weights), default=1.0) or 1.0
    for u, v, w in weights:
        edges.append(
            _layer_edge(
                "votes",
                ids[u],
                ids[v],
                0.5 + 3.0 * max(w, 0) / top_vote,
                _tie_title(G, u, v, names),
            )
        )
        counts["votes"] += 1
    top_talk = max(talk.values(), default=1.0) or 1.0
    for (u, v), w in sorted(talk.items(), key=lambda kv: (kv[1], str(kv[0][0]), str(kv[0][1]))):
        title_ = plain_title(
            f"{names[u]} – {names[v]}\nTie of weight {w:g} in the interaction graph"
        )
        edges.append(
            _layer_edge("talks", ids[u], ids[v], 0.5 + 3.0 * math.sqrt(w / top_talk), title_)
        )
        counts["talks"] += 1
    notices = []
    if result.talk_vote is not None and len(result.talk_vote.pairs):
        pairs = result.talk_vote.pairs
        for finding in ("votes-not-talk", "talks-not-votes"):
            rows = pairs[pairs["finding"] == finding]
            shown = rows.head(findings_shown)
            for r in shown.itertuples(index=False):
                if r.member_a in ids and r.member_b in ids:
                    edges.append(
                        _layer_edge(
                            finding,
                            ids[r.member_a],
                            ids[r.member_b],
                            2.0,
                            plain_title(clean_text(r.reason)),
                            dashes=True,
                        )
                    )
                    counts[finding] += 1
            if len(rows) > len(shown):
                notices.append(
                    f"{LAYERS[finding][0]}: the first {len(shown):,} of {len(rows):,} pairs "
                    "are drawn (cross-party and strongest first); all are in talk-vote.csv."
                )
    if len(vote_ties) < H.number_of_edges():
        notices.append(
            f"Votes with: each member's {ties_per_member} strongest co-voting ties "
            f"({len(vote_ties):,} of {H.number_of_edges():,})."
        )
    if not members:
        notices.append("No member who voted is an actor of the interaction graph.")
    layers = [
        {"id": key, "name": name, "colour": colour, "shown": counts[key], "checked": True}
        for key, (name, colour, _) in LAYERS.items()
    ]
    payload_nodes = _member_nodes(H, members, positions, grouping, shapes, ids, names)
    for entry, node in zip(payload_nodes, members, strict=True):
        entry["title"] = _member_title(G, node, names)
    groups, kinds = _legends(G, members, grouping, shapes)
    target = _render(
        path,
        title=clean_text(title, one_line=True),
        subtitle=f"{len(members):,} members in both graphs",
        nodes=payload_nodes,
        edges=edges,
        grouping=grouping,
        groups_used={grouping.of_node.get(n, -1) for n in members},
        notices=notices,
        groups=groups,
        kinds=kinds,
        edge_types=[],
        layers=layers,
        notes=[
            "Switch the layers on and off to compare who talks to whom with who votes with "
            "whom. Positions follow the co-voting ties. Colour: voting bloc; shape: party.",
        ],
    )
    return {"path": target, "nodes": len(members), "layers": dict(counts)}


def _sentence(text: str) -> str:
    text = clean_text(text, one_line=True)
    return text if text.endswith((".", "!", "?")) else text + "."


def _layer_edge(
    layer: str, a: str, b: str, width: float, title: str, *, dashes: bool = False
) -> dict[str, Any]:
    edge: dict[str, Any] = {
        "from": a,
        "to": b,
        "width": round(width, 2),
        "color": LAYERS[layer][1],
        "title": title,
        "layer": layer,
    }
    if dashes:
        edge["dashes"] = [6, 4]
    return edge
