"""The written report: ``report.md`` and a self-contained ``report.html``.

Both files are made from the same list of sections (tables of factions, fault
lines, bridge figures, alliance opportunities and introductions, plus the most
influential actors). Every input except the graph is optional and duck-typed: a
faction result may be an object with ``partition``/``names``/``stability``/
``modularity`` attributes or a dict with those keys; summaries, fault lines,
bridges and alliance rows are dicts read with ``.get``. Missing pieces are computed
from the graph's node attributes where possible, or left out.

Text is escaped for each format: in Markdown, HTML special characters become
entities and Markdown punctuation (``|``, ``*``, ``[``...) is backslash-escaped, so
a name cannot break a table or inject a link; the HTML is rendered by the same
autoescaping Jinja environment as the maps and carries a Content-Security-Policy
that allows no script and no remote resource.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from mapper.errors import RenderError
from mapper.fsutil import atomic_open
from mapper.render.layout import (
    check_graph,
    clean_text,
    edge_arrays,
    format_time,
    group_nodes,
    influence_scores,
    introduction_ends,
    kind_name,
    node_kind,
    node_label,
    number,
    shared_labels,
    truthy,
)

#: Files of a render folder the report links to, with their descriptions.
LINKED_FILES: tuple[tuple[str, str], ...] = (
    ("map.html", "Interactive network map"),
    ("factions.html", "Interactive faction overview"),
    ("alliances.html", "Interactive alliance view"),
    ("network.png", "Network map (image)"),
    ("factions.png", "Faction overview (image)"),
)

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|~])")
# An ampersand that would start a character reference (``&lt;``, ``&#60;``); any
# other ``&`` is shown as written by Markdown and stays readable in the raw file.
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def md_escape(value: Any) -> str:
    """Escape text for a Markdown table cell.

    ``<`` and ``>`` become entities (no raw tag survives), an ``&`` only when it would
    start an entity (``Marks & Spencer`` stays as written), Markdown punctuation
    including ``|`` is backslash-escaped and line breaks become spaces.

    >>> md_escape("a | <b> & c")
    'a \\\\| &lt;b&gt; & c'
    """
    text = clean_text(value, one_line=True)
    text = _MD_ENTITY.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


@dataclass
class Cell:
    """A table cell: text, optionally a link to a file of the render folder."""

    text: str
    href: str = ""

    @property
    def numeric(self) -> bool:
        """A rank, count, score or share: kept on one line in the HTML report."""
        return bool(_NUMBER.fullmatch(self.text))


_NUMBER = re.compile(r"[-+]?[\d.,]+%?")


@dataclass
class Section:
    """A titled table of the report."""

    title: str
    intro: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    empty: str = "Nothing to show."


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _rows(value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if isinstance(value, Mapping):
        value = list(value.values())
    if not isinstance(value, Iterable) or isinstance(value, str | bytes):
        return []
    return [row for row in value if isinstance(row, Mapping)]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    if isinstance(value, datetime | date):
        return format_time(value)
    return clean_text(value, one_line=True, max_length=300)


class _Names:
    """Turns faction ids and actor ids into display names."""

    def __init__(self, G: nx.Graph, faction_names: Mapping[int, str]) -> None:
        self.G = G
        self.factions = dict(faction_names)

    def faction(self, value: Any) -> str:
        if isinstance(value, Mapping):
            value = value.get("name") or value.get("id")
        if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
            return clean_text(value, one_line=True)
        gid = int(number(value, -1))
        if value is None:
            return ""
        return self.factions.get(gid, f"Faction {gid}")

    def actor(self, value: Any) -> str:
        if isinstance(value, Mapping):
            ident = value.get("actor") or value.get("id")
            if ident is not None and ident in self.G:
                return node_label(self.G, ident)
            return clean_text(value.get("name") or value.get("label") or ident, one_line=True)
        if value is not None and value in self.G:
            return node_label(self.G, value)
        return clean_text(value, one_line=True)

    def actors(self, values: Any, limit: int = 5) -> str:
        if values is None:
            return ""
        if isinstance(values, str | Mapping) or not isinstance(values, Iterable):
            values = [values]
        names = [self.actor(v) for v in list(values)[:limit]]
        return ", ".join(n for n in names if n)

    def factions_text(self, values: Any) -> str:
        if values is None:
            return ""
        if isinstance(values, Mapping):
            parts = sorted(values.items(), key=lambda kv: (-number(kv[1]), str(kv[0])))
            return ", ".join(f"{self.faction(k)} ({_fmt(v)})" for k, v in parts[:5])
        if isinstance(values, str) or not isinstance(values, Iterable):
            values = [values]
        return ", ".join(self.faction(v) for v in values)


def _faction_names(G: nx.Graph, factions: Any) -> dict[int, str]:
    names = _get(factions, "names") or {}
    grouping = group_nodes(G, names if isinstance(names, Mapping) else None)
    result = dict(grouping.names)
    if isinstance(names, Mapping):
        for key, value in names.items():
            gid = int(number(key, -1))
            if gid >= 0:
                result[gid] = clean_text(value, one_line=True)
    return result


# ------------------------------------------------------------------------ sections


def _overview(G: nx.Graph, factions: Any, names: Mapping[int, str]) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = [
        ("Actors", f"{G.number_of_nodes():,}"),
        ("Ties", f"{G.number_of_edges():,}"),
    ]
    provisional = sum(1 for _, d in G.nodes(data=True) if truthy(d.get("provisional")))
    if provisional:
        facts.append(("Provisional actors (unknown handles)", f"{provisional:,}"))
    counts = edge_arrays(G).count  # shared with the faction maps inside render_cache
    references = int(np.trunc(counts[~np.isnan(counts)]).sum()) if len(counts) else 0
    if references:
        facts.append(("References", f"{references:,}"))
    datas = [d for _, _, d in G.edges(data=True)]  # one pass over networkx's view
    firsts = [t for d in datas if (t := d.get("first"))]
    lasts = [t for d in datas if (t := d.get("last"))]
    try:
        if firsts and lasts:
            facts.append(("Period", f"{format_time(min(firsts))} to {format_time(max(lasts))}"))
    except TypeError:
        pass
    comp = _get(factions, "components")
    if comp is not None:
        facts.append(
            (
                "Connected components",
                f"{comp.count:,}; the largest holds {comp.largest:,} actors "
                f"({comp.largest_share:.0%})",
            )
        )
    unassigned = _get(factions, "unassigned")
    if unassigned:
        facts.append(
            ("Unassigned actors (components too small for factions)", f"{len(unassigned):,}")
        )
    partition = _get(factions, "partition")
    count = len(set(partition.values())) if isinstance(partition, Mapping) else None
    if count is None:
        count = len([g for g in names if g >= 0]) or None
    if count is not None or partition is not None:
        facts.append(("Factions", f"{count or 0:,}"))
    modularity = _get(factions, "modularity")
    if modularity is not None:
        facts.append(("Modularity", _fmt(number(modularity))))
    sig = _get(factions, "significance")
    if sig is not None:
        verdict = "significant" if sig.significant else "not significant"
        facts.append(("Community structure", f"{verdict}: {sig.describe()}"))
    method = _get(factions, "method")
    if method:
        extra = []
        for key in ("resolution", "seed", "runs"):
            value = _get(factions, key)
            if value is not None:
                extra.append(f"{key} {_fmt(value)}")
        facts.append(("Method", clean_text(method) + (f" ({', '.join(extra)})" if extra else "")))
    return facts


def _influential_section(G: nx.Graph, names: _Names, top: int = 15) -> Section:
    scores, basis = influence_scores(G)
    ranked = sorted(G.nodes, key=lambda n: (-scores.get(n, 0.0), str(n)))[:top]
    what = "Influence" if basis == "influence" else "Share of incoming ties"
    rows = []
    for rank, node in enumerate(ranked, 1):
        data = G.nodes[node]
        faction = data.get("faction_name") or (
            names.faction(data.get("faction")) if data.get("faction") is not None else ""
        )
        rows.append(
            [
                Cell(str(rank)),
                Cell(node_label(G, node)),
                Cell(kind_name(node_kind(G, node))),
                Cell(clean_text(data.get("party"), one_line=True)),
                Cell(clean_text(faction, one_line=True)),
                Cell(_fmt(scores.get(node, 0.0))),
            ]
        )
    return Section(
        "Most influential actors",
        intro=(
            "Ranked by weighted PageRank."
            if basis == "influence"
            else "Ranked by share of incoming tie weight (influence not computed)."
        ),
        columns=["#", "Actor", "Kind", "Party", "Faction", what],
        rows=rows,
    )


def _faction_section(
    G: nx.Graph, summaries: Any, factions: Any, names: _Names, faction_names: Mapping[int, str]
) -> Section:
    rows_in: Sequence[Mapping[str, Any]] = _rows(summaries) or _summaries_from_graph(
        G, faction_names
    )
    stability = _get(factions, "stability")
    cohesion = _get(factions, "cohesion")
    by_faction: dict[Any, list[Hashable]] | None = None  # members, built once
    rows = []
    for row in rows_in:
        gid = row.get("id", row.get("faction"))
        name = row.get("name") or names.faction(gid)
        central = names.actors(row.get("central") or row.get("top") or [])
        size = row.get("size")
        extra = []
        for key in ("cohesion", "density", "stability", "modularity"):
            if row.get(key) is not None:
                extra.append(f"{key} {_fmt(number(row.get(key)))}")
        if not any(e.startswith("cohesion") for e in extra) and isinstance(cohesion, Mapping):
            value = cohesion.get(gid)
            if value is not None:
                extra.append(f"cohesion {_fmt(number(value))}")
        if isinstance(stability, Mapping) and not any(e.startswith("stability") for e in extra):
            if by_faction is None:
                by_faction = {}
                for n, d in G.nodes(data=True):
                    key = d.get("faction")
                    with contextlib.suppress(TypeError):  # unhashable: matches no row id
                        by_faction.setdefault(key, []).append(n)
            try:
                members = by_faction.get(gid, [])
            except TypeError:
                members = [n for n, d in G.nodes(data=True) if d.get("faction") == gid]
            values = [number(stability.get(n)) for n in members if n in stability]
            if values:
                extra.append(f"stability {_fmt(sum(values) / len(values))}")
        parties = row.get("parties")
        topics = row.get("topics") or row.get("top_topics")
        rows.append(
            [
                Cell(_fmt(gid) if gid is not None else ""),
                Cell(clean_text(name, one_line=True)),
                Cell(_fmt(size) if size is not None else ""),
                Cell(central),
                Cell(_mapping_text(parties)),
                Cell(_mapping_text(topics)),
                Cell("; ".join(extra)),
            ]
        )
    sig = _get(factions, "significance")
    if sig is not None and _get(sig, "significant") is False:
        intro = (
            "Groups the detection drew, but no more separate than in random networks "
            "with the same number of ties per actor (see the warnings above): read them "
            "as one way to divide the actors, not as factions the data show."
        )
    else:
        intro = "Groups of actors who interact more with each other than with the rest."
    return Section(
        "Factions",
        intro=intro,
        columns=["Id", "Faction", "Actors", "Central actors", "Parties", "Topics", "Measures"],
        rows=rows,
        empty="No factions: run the faction analysis first.",
    )


def _mapping_text(value: Any, limit: int = 4) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping):
        parts = sorted(value.items(), key=lambda kv: (-number(kv[1]), str(kv[0])))[:limit]
        return ", ".join(f"{clean_text(k, one_line=True)} ({_fmt(v)})" for k, v in parts)
    if isinstance(value, str) or not isinstance(value, Iterable):
        return clean_text(value, one_line=True)
    items = []
    for item in list(value)[:limit]:
        if isinstance(item, list | tuple) and len(item) == 2:
            items.append(f"{clean_text(item[0], one_line=True)} ({_fmt(item[1])})")
        else:
            items.append(clean_text(item, one_line=True))
    return ", ".join(items)


def _summaries_from_graph(G: nx.Graph, faction_names: Mapping[int, str]) -> list[dict[str, Any]]:
    grouping = group_nodes(G, faction_names)
    if grouping.basis != "faction":
        return []
    scores, _ = influence_scores(G)
    members: dict[int, list[Hashable]] = {}
    for node, gid in grouping.of_node.items():
        members.setdefault(gid, []).append(node)
    rows = []
    for gid in grouping.order:
        people = members.get(gid, [])
        central = sorted(people, key=lambda n: (-scores.get(n, 0.0), str(n)))[:5]
        parties = Counter(clean_text(G.nodes[n].get("party"), one_line=True) for n in people)
        parties.pop("", None)
        rows.append(
            {
                "id": gid,
                "name": grouping.name(gid),
                "size": len(people),
                "central": central,
                "parties": dict(parties.most_common(3)),
            }
        )
    return rows


_PAIR_NUMBERS = (
    "ties",
    "weight",
    "count",
    "density",
    "expected",
    "ratio",
    "tension",
    "distance",
    "similarity",
    "score",
)


def _fault_section(fault_lines: Any, names: _Names) -> Section:
    rows_in = _rows(fault_lines)
    if rows_in and all("declared" in row for row in rows_in):
        return _declared_fault_section(rows_in, names)
    numeric: list[str] = []
    for row in rows_in:
        for key, value in row.items():
            if key in {"a", "b", "id", "faction_a", "faction_b"} or key in numeric:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                numeric.append(key)
    numeric.sort(key=lambda k: (_PAIR_NUMBERS.index(k) if k in _PAIR_NUMBERS else 99, k))
    numeric = numeric[:5]
    rows = []
    for row in rows_in:
        a = row.get("a", row.get("faction_a"))
        b = row.get("b", row.get("faction_b"))
        pair = (
            f"{row.get('name_a') or names.faction(a)} – {row.get('name_b') or names.faction(b)}"
            if a is not None and b is not None
            else names.factions_text(row.get("factions"))
        )
        brokers = row.get("brokers") or row.get("bridges")
        reason = row.get("reason") or row.get("description") or row.get("summary") or ""
        rows.append(
            [Cell(clean_text(pair, one_line=True))]
            + [Cell(_fmt(row.get(k))) for k in numeric]
            + [Cell(names.actors(brokers) if brokers else ""), Cell(clean_text(reason))]
        )
    return Section(
        "Fault lines",
        intro="Pairs of factions and how (little) they engage with each other.",
        columns=[
            "Factions",
            *(k.replace("_", " ").capitalize() for k in numeric),
            "Brokers",
            "Why",
        ],
        rows=rows,
        empty="No fault lines computed.",
    )


def _declared_fault_section(rows_in: list[Mapping[str, Any]], names: _Names) -> Section:
    """Fault lines as the faction analysis writes them: how each declared faction
    spreads over the detected factions."""
    rows = []
    for row in rows_in:
        spread = [s for s in row.get("spread") or [] if isinstance(s, Mapping)]
        spread_text = ", ".join(
            f"{clean_text(s.get('name'), one_line=True) or names.faction(s.get('faction'))}"
            f" ({_fmt(s.get('count'))})"
            for s in spread[:4]
        )
        share = row.get("main_share")
        verdict = row.get("verdict") or ("split" if truthy(row.get("split")) else "together")
        rows.append(
            [
                Cell(clean_text(row.get("declared"), one_line=True)),
                Cell(_fmt(row.get("size"))),
                Cell(_VERDICTS.get(str(verdict), clean_text(verdict, one_line=True))),
                Cell(f"{number(share):.0%}" if share is not None else ""),
                Cell(spread_text),
                Cell(clean_text(row.get("summary") or row.get("reason"))),
            ]
        )
    return Section(
        "Fault lines",
        intro=(
            "How each declared faction spreads over the detected factions, judged only "
            "where enough members have ties and the split is more than chance."
        ),
        columns=[
            "Declared faction",
            "Members with ties",
            "Verdict",
            "Main share",
            "Spread",
            "In words",
        ],
        rows=rows,
        empty="No fault lines computed.",
    )


#: How the fault-line verdicts read in the report.
_VERDICTS = {
    "split": "split",
    "together": "holds together",
    "no-signal": "no evidence either way",
    "too-thin": "too few ties to judge",
    "no-structure": "cannot judge (factions not significant)",
}


def _bridge_rows(G: nx.Graph, bridges: Any, top: int) -> list[Mapping[str, Any]]:
    rows = _rows(bridges)
    if rows:
        flagged = [r for r in rows if truthy(r.get("is_bridge"))]
        if flagged and any("is_bridge" in r for r in rows):
            rows = flagged
        return sorted(rows, key=lambda r: (number(r.get("rank"), 1e9), -number(r.get("score"))))[
            :top
        ]
    found = [
        (n, d)
        for n, d in G.nodes(data=True)
        if truthy(d.get("is_bridge")) or number(d.get("bridge_score")) > 0
    ]
    found.sort(key=lambda nd: (-number(nd[1].get("bridge_score")), str(nd[0])))
    return [
        {
            "actor": n,
            "rank": i + 1,
            "score": number(d.get("bridge_score")),
            "role": d.get("role"),
            "participation": d.get("participation"),
            "is_bridge": truthy(d.get("is_bridge")),
        }
        for i, (n, d) in enumerate(found[:top])
    ]


def _bridge_section(
    G: nx.Graph, bridges: Any, names: _Names, focus_links: Mapping[Hashable, str], top: int
) -> Section:
    rows = []
    for i, row in enumerate(_bridge_rows(G, bridges, top), 1):
        actor = row.get("actor", row.get("id"))
        name = row.get("name") or names.actor(actor)
        factions = row.get("ties") or row.get("factions")
        link = focus_links.get(actor, "") if actor is not None else ""
        rows.append(
            [
                Cell(_fmt(row.get("rank", i))),
                Cell(clean_text(name, one_line=True), href=link),
                Cell(_fmt(number(row.get("score")))),
                Cell(clean_text(row.get("role"), one_line=True)),
                Cell(names.factions_text(factions)),
                Cell(clean_text(row.get("reason"))),
            ]
        )
    return Section(
        "Bridge figures",
        intro="Actors whose ties span factions: the people who can carry a message across.",
        columns=["#", "Actor", "Score", "Role", "Factions reached", "Why"],
        rows=rows,
        empty="No bridge figures computed.",
    )


def _opportunity_section(alliances: Any, names: _Names) -> Section:
    def issue_counts(row: Mapping[str, Any], limit: int = 4) -> str:
        """``"progressive alliance (14 / 13)"``: members of each faction using a shared topic."""
        topics = _rows(row.get("issues")) or _rows(row.get("closest"))
        if not topics:
            return ", ".join(shared_labels(row.get("shared"), limit=6))
        parts = []
        for topic in topics[:limit]:
            label = clean_text(
                topic.get("label") or topic.get("item"), one_line=True, max_length=60
            )
            a, b = topic.get("actors_a"), topic.get("actors_b")
            parts.append(f"{label} ({_fmt(a)} / {_fmt(b)})" if a is not None else label)
        more = len(topics) - limit
        return ", ".join(parts) + (f", {more} more" if more > 0 else "")

    def ties_cell(row: Mapping[str, Any]) -> str:
        """``"29 / 44.5 (p = 0.009)"``: ties observed against expected, and the shortage p."""
        expected = row.get("expected_ties")
        if expected is None:
            return ""
        text = f"{_fmt(row.get('ties'))} / {number(expected):.1f}"
        p = row.get("p_shortage")
        if p is not None:
            text += " (p < 0.001)" if number(p) < 0.001 else f" (p = {number(p):.3f})"
        return text

    rows = []
    opportunities = sorted(
        _rows(_get(alliances, "opportunities")), key=lambda r: -number(r.get("score"))
    )
    thin = _rows(_get(alliances, "too_thin"))
    for verdict, group in (("opportunity", opportunities), ("not enough data", thin)):
        for row in group:
            a = row.get("name_a") or names.faction(row.get("a"))
            b = row.get("name_b") or names.faction(row.get("b"))
            score = _fmt(number(row.get("score"))) if verdict == "opportunity" else ""
            similarity = row.get("similarity")
            rows.append(
                [
                    Cell(clean_text(f"{a} + {b}", one_line=True)),
                    Cell(verdict),
                    Cell(score),
                    Cell(_fmt(number(similarity)) if similarity is not None else ""),
                    Cell(issue_counts(row)),
                    Cell(ties_cell(row)),
                    Cell(names.actors(row.get("brokers"), limit=3)),
                    Cell(clean_text(row.get("reason"))),
                ]
            )
    intro = (
        "Factions that talk about the same things (each shared issue used by several "
        "members on both sides; the numbers are members of each faction using it) but "
        "have significantly fewer ties than their activity predicts (ties observed / "
        "expected, with the p-value of the shortage). Pairs the data cannot judge are "
        "listed as not enough data, with the condition that failed."
    )
    return Section(
        "Alliance opportunities",
        intro=intro,
        columns=[
            "Factions",
            "Verdict",
            "Score",
            "Similarity",
            "Shared issues (members)",
            "Ties / expected",
            "Ties to both",
            "Why",
        ],
        rows=rows,
        empty="No alliance opportunities (or no alliance analysis).",
    )


def _introduction_section(alliances: Any, names: _Names, top: int = 30) -> Section:
    rows = []
    intros = sorted(_rows(_get(alliances, "introductions")), key=lambda r: -number(r.get("score")))
    for row in intros[:top]:
        source, target, broker, fa, fb = introduction_ends(row)
        between = ""
        if fa is not None and fb is not None:
            between = f"{row.get('name_a') or names.faction(fa)} → "
            between += str(row.get("name_b") or names.faction(fb))
        rows.append(
            [
                Cell(clean_text(row.get("actor_a_name") or names.actor(source), one_line=True)),
                Cell(clean_text(row.get("actor_b_name") or names.actor(target), one_line=True)),
                Cell(clean_text(row.get("broker_name") or names.actor(broker), one_line=True)),
                Cell(clean_text(between, one_line=True)),
                Cell(_fmt(number(row.get("score")))),
                Cell(clean_text(row.get("reason"))),
            ]
        )
    return Section(
        "Suggested introductions",
        intro=(
            "Who could introduce whom, for the alliance opportunities above only: two "
            "actors who share topics and contacts but have no tie, and who knows both."
        ),
        columns=["From", "To", "Broker", "Factions", "Score", "Why"],
        rows=rows,
        empty="No introductions suggested.",
    )


# ------------------------------------------------------------------------- writers


def _prune(section: Section) -> Section:
    """Drop the columns that are empty in every row."""
    if not section.rows:
        return section
    keep = [
        i
        for i in range(len(section.columns))
        if any(i < len(row) and row[i].text for row in section.rows)
    ]
    return Section(
        section.title,
        section.intro,
        [section.columns[i] for i in keep],
        [[row[i] for i in keep] for row in section.rows],
        section.empty,
    )


WARNINGS_TITLE = "What the data can and cannot carry"
WARNINGS_INTRO = (
    "Read these first: each says where a finding below rests on too little data "
    "or is no stronger than chance."
)


def _warning_lines(warnings: Any) -> list[tuple[str, str, str]]:
    """``(stage, message, code)`` per warning, cleaned for display."""
    out = []
    for w in warnings or []:
        out.append(
            tuple(
                clean_text(_get(w, key) or "", one_line=True)
                for key in ("stage", "message", "code")
            )
        )
    return out  # type: ignore[return-value]


def _markdown(
    title: str,
    facts: Sequence[tuple[str, str]],
    links: Sequence[tuple[str, str]],
    sections: Sequence[Section],
    warnings: Sequence[tuple[str, str, str]] = (),
) -> str:
    out = [f"# {md_escape(title)}", ""]
    if warnings:
        out += [f"## {WARNINGS_TITLE}", "", md_escape(WARNINGS_INTRO), ""]
        for stage, message, code in warnings:
            out.append(f"- **{md_escape(stage)}**: {md_escape(message)} ({md_escape(code)})")
        out.append("")
    for label, value in facts:
        out.append(f"- **{md_escape(label)}**: {md_escape(value)}")
    out.append("")
    if links:
        out += ["## Maps", ""]
        for href, text in links:
            out.append(f"- [{md_escape(text)}]({href})")
        out.append("")
    for section in sections:
        out += [f"## {md_escape(section.title)}", ""]
        if section.intro:
            out += [md_escape(section.intro), ""]
        if not section.rows:
            out += [f"_{md_escape(section.empty)}_", ""]
            continue
        out.append("| " + " | ".join(md_escape(c) for c in section.columns) + " |")
        out.append("|" + "|".join(" --- " for _ in section.columns) + "|")
        for row in section.rows:
            cells = []
            for cell in row:
                text = md_escape(cell.text)
                cells.append(f"[{text}]({cell.href})" if cell.href and text else text)
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _html(
    title: str,
    facts: Sequence[tuple[str, str]],
    links: Sequence[tuple[str, str]],
    images: Sequence[tuple[str, str]],
    sections: Sequence[Section],
    warnings: Sequence[Mapping[str, str]] = (),
) -> str:
    from mapper.render.maps import environment

    template = environment().get_template("report.html.j2")
    return template.render(
        title=title,
        facts=facts,
        links=links,
        images=images,
        sections=sections,
        warnings=warnings,
        warnings_title=WARNINGS_TITLE,
        warnings_intro=WARNINGS_INTRO,
    )


def _safe_href(href: str) -> str:
    """Only relative links to files of the render folder are allowed."""
    if not href or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href) or href.startswith(("/", "\\")):
        return ""
    if ".." in Path(href).parts:
        return ""
    return href


def write_report(
    folder: str | Path,
    *,
    G: nx.Graph,
    factions: Any = None,
    summaries: Any = None,
    fault_lines: Any = None,
    bridges: Any = None,
    alliances: Any = None,
    title: str = "",
    focus_links: Mapping[Hashable, str] | None = None,
    top: int = 20,
    warnings: Any = None,
    votes: Any = None,
) -> dict[str, Path]:
    """Write ``report.md`` and ``report.html`` into ``folder``.

    Parameters
    ----------
    folder : str or Path
        Output folder (created if needed). Maps and images already in it
        (``map.html``, ``factions.html``, ``alliances.html``, ``network.png``,
        ``factions.png``) are linked.
    G : networkx.DiGraph
        The graph (with analysis attributes when available); never modified.
    factions : object or dict, optional
        Faction detection result (``partition``, ``names``, ``stability``,
        ``modularity``, ``cohesion``, ``method``...).
    summaries : list of dict, optional
        Faction summaries (``id``, ``name``, ``size``, ``central``...); computed from
        the graph when missing.
    fault_lines : list of dict, optional
        Fault lines between factions (``a``, ``b``, numbers, ``reason``).
    bridges : list of dict, optional
        Bridge figures (``actor``, ``rank``, ``score``, ``role``, ``ties``,
        ``reason``); read from the node attributes when missing.
    alliances : dict, optional
        Alliance report (``opportunities``, ``introductions``).
    title : str
        Title of the report (default: the graph's ``name``).
    focus_links : mapping, optional
        Actor id -> relative path of the actor's neighbourhood map.
    top : int
        Number of bridge figures listed.
    warnings : list, optional
        What the data cannot carry: ``{"code", "message", "stage"}`` dicts or
        :class:`~mapper.analysis.strength.EvidenceWarning` objects. They head the
        report, before any finding. Default: the factions result's warnings.
    votes : optional
        Vote results (``summaries`` of the divisions and ``covoting``, as in
        :class:`mapper.pipeline.VoteOutputs`): sections on the rebels of each
        division, voting blocs, party cohesion, defectors, persuadable members and
        talk versus vote are added after the others (see :func:`vote_sections`),
        and the co-voting maps are linked.

    Returns
    -------
    dict
        ``{"report.md": path, "report.html": path}``.

    Raises
    ------
    RenderError
        If a file cannot be written.
    """
    check_graph(G)
    base = Path(folder)
    base.mkdir(parents=True, exist_ok=True)
    faction_names = _faction_names(G, factions)
    names = _Names(G, faction_names)
    heading = clean_text(title or G.graph.get("name") or "Influence report", one_line=True)
    focus = {k: _safe_href(v) for k, v in (focus_links or {}).items()}
    facts = _overview(G, factions, faction_names)
    sections = [
        _faction_section(G, summaries, factions, names, faction_names),
        _fault_section(fault_lines, names),
        _bridge_section(G, bridges, names, focus, top),
        _opportunity_section(alliances, names),
        _introduction_section(alliances, names),
        _influential_section(G, names),
    ]
    sections = [_prune(section) for section in sections]
    links = [(href, text) for href, text in LINKED_FILES if (base / href).exists()]
    if votes is not None:  # the votes sections (bottom of this module)
        sections += vote_sections(votes)
        links += [(href, text) for href, text in VOTE_LINKED_FILES if (base / href).exists()]
    images = [(href, text) for href, text in links if href.endswith(".png")]
    if warnings is None:
        warnings = _get(factions, "warnings") or []
    from mapper.render.maps import page_warnings

    warned = _warning_lines(warnings)
    outputs: dict[str, Path] = {}
    try:
        with atomic_open(base / "report.md", "w", newline="\n") as fh:
            fh.write(_markdown(heading, facts, links, sections, warned))
        outputs["report.md"] = base / "report.md"
        with atomic_open(base / "report.html", "w", newline="\n") as fh:
            fh.write(_html(heading, facts, links, images, sections, page_warnings(warnings)))
        outputs["report.html"] = base / "report.html"
    except OSError as exc:
        raise RenderError(f"cannot write the report: {exc}", source=base) from exc
    return outputs


# =========================================================================== votes
# The report's votes sections: the per-division rebels and the co-voting analysis of
# a run with divisions (mapper.pipeline.VoteOutputs). Kept apart from the sections
# above; write_report only appends them.

#: Vote maps of a render folder the report links to.
VOTE_LINKED_FILES: tuple[tuple[str, str], ...] = (
    ("covoting.html", "Co-voting map (voting blocs)"),
    ("talk-vote.html", "Who talks to whom, who votes with whom"),
)
#: Rebels named per division in the report (the others are in ``rebels.csv``).
REPORT_REBELS_NAMED = 12


def vote_sections(votes: Any, *, top: int = 15) -> list[Section]:
    """The report's sections on votes, from ``votes.summaries`` (per-division
    summaries) and ``votes.covoting`` (:class:`mapper.analysis.covoting.CoVoting`),
    each optional."""
    sections: list[Section] = []
    summaries = list(_get(votes, "summaries") or [])
    if summaries:
        sections.append(_rebels_section(summaries))
    result = _get(votes, "covoting")
    if result is not None:
        sections += [
            _blocs_section(result),
            _cohesion_section(result),
            _defectors_section(result, top),
            _persuadable_report_section(result, top),
        ]
        if result.talk_vote is not None:
            sections.append(_talk_vote_report_section(result, top))
    return [_prune(section) for section in sections]


def _rebels_section(summaries: list[Any]) -> Section:
    rows = []
    quiet = 0
    for s in summaries:
        rebels = list(s.rebels)
        if not rebels:
            quiet += 1
            continue
        names = ", ".join(
            f"{clean_text(r.name, one_line=True)} ({clean_text(r.party, one_line=True)})"
            for r in rebels[:REPORT_REBELS_NAMED]
        )
        if len(rebels) > REPORT_REBELS_NAMED:
            names += f" and {len(rebels) - REPORT_REBELS_NAMED} more"
        rows.append(
            [
                Cell(format_time(s.date) or ""),
                Cell(clean_text(s.number or s.division, one_line=True)),
                Cell(clean_text(s.title, one_line=True, max_length=120)),
                Cell(f"{s.result} by {s.margin}" if s.result != "tie" else "tie"),
                Cell(_fmt(len(rebels))),
                Cell(names),
            ]
        )
    none = f" {quiet:,} of the {len(summaries):,} divisions had no rebel." if quiet else ""
    return Section(
        "Rebels by division",
        "Members who voted against their party's line (the side most of its voting "
        "members took); all of them are in rebels.csv, the party lines in divisions.md." + none,
        ["date", "division", "title", "result", "rebels", "who"],
        rows,
        "No division had a rebel.",
    )


def _blocs_section(result: Any) -> Section:
    frame = result.blocs_frame()
    sig = result.blocs.result.significance if result.blocs.result is not None else None
    intro = (
        "Voting blocs: groups of members tied by agreement significantly above chance, "
        "found like the factions and named by their party make-up."
    )
    if sig is not None:
        intro += (
            f" Structure {'significant' if sig.significant else 'NOT significant'}: "
            f"{sig.describe()}."
        )
    rows = [
        [
            Cell(clean_text(r.name, one_line=True)),
            Cell(_fmt(int(r.size))),
            Cell("yes" if r.cross_party else "no"),
            Cell(_fmt(r.rice)),
            Cell(_fmt(r.cohesion)),
        ]
        for r in frame.itertuples(index=False)
    ]
    return Section(
        "Voting blocs",
        intro,
        ["bloc", "members", "cross-party", "Rice", "stability"],
        rows,
        "No voting blocs (see the warnings).",
    )


def _cohesion_section(result: Any) -> Section:
    frame = result.cohesion
    rows = []
    if len(frame):
        for r in frame[frame["group_type"] == "party"].itertuples(index=False):
            share = r.main_bloc_share
            rows.append(
                [
                    Cell(clean_text(r.group, one_line=True)),
                    Cell(_fmt(int(r.members))),
                    Cell(_fmt(int(r.divisions))),
                    Cell(_fmt(r.rice)),
                    Cell(_fmt(r.chance_rice)),
                    Cell(
                        ""
                        if not isinstance(r.main_bloc, str)
                        else f"{clean_text(r.main_bloc, one_line=True)} ({share:.0%})"
                    ),
                ]
            )
    return Section(
        "Party cohesion",
        "The Rice index, |ayes - noes| / (ayes + noes) of a party's voting members, "
        "averaged over the divisions; 'by chance' is what as many members voting at random "
        "would score.",
        ["party", "members", "divisions", "Rice", "by chance", "main bloc"],
        rows,
        "No party with enough voting members.",
    )


def _defectors_section(result: Any, top: int) -> Section:
    rows = [
        [
            Cell(clean_text(r.name, one_line=True)),
            Cell(clean_text(r.party, one_line=True)),
            Cell(clean_text(r.bloc_name, one_line=True)),
            Cell(clean_text(r.party_bloc_name, one_line=True)),
            Cell(_fmt(r.kappa_bloc)),
            Cell(_fmt(r.kappa_party)),
            Cell(r.evidence),
        ]
        for r in result.defectors.head(top).itertuples(index=False)
    ]
    return Section(
        "Members outside their party's bloc",
        "Their bloc is not the bloc most of their party sits in (another party's bloc, "
        "or a second bloc of their own party); kappa is their "
        "chance-corrected agreement with each (all of them in defectors.csv).",
        ["member", "party", "their bloc", "party's bloc", "kappa bloc", "kappa party", "evidence"],
        rows,
        "None found.",
    )


def _persuadable_report_section(result: Any, top: int) -> Section:
    frame = result.persuadable
    rows = (
        [
            [
                Cell(clean_text(r.number or r.division, one_line=True)),
                Cell(_fmt(int(r.rank))),
                Cell(clean_text(r.name, one_line=True)),
                Cell(clean_text(r.party, one_line=True)),
                Cell(r.voted),
                Cell(_fmt(r.closeness)),
                Cell(clean_text(r.reason, one_line=True, max_length=400)),
            ]
            for r in frame[frame["rank"] <= 5].head(top * 2).itertuples(index=False)
        ]
        if len(frame)
        else []
    )
    return Section(
        "Persuadable members of close divisions",
        "In each close division, the members who voted the other way or did not vote, "
        "ranked by their chance-corrected agreement with the winning side over the other "
        "divisions (the first five per division; all in persuadable.csv).",
        ["division", "rank", "member", "party", "voted", "closeness", "why"],
        rows,
        "No close division, or none with a member close to the winners.",
    )


def _talk_vote_report_section(result: Any, top: int) -> Section:
    tv = result.talk_vote
    rows = []
    groups = tv.groups[tv.groups["finding"].isin(["votes-not-talk", "talks-not-votes"])]
    for r in groups.itertuples(index=False):
        rows.append(
            [
                Cell(r.finding),
                Cell(
                    clean_text(r.party_a, one_line=True)
                    + (
                        ""
                        if r.party_a == r.party_b
                        else " / " + clean_text(r.party_b, one_line=True)
                    )
                ),
                Cell(clean_text(r.reason, one_line=True, max_length=400)),
            ]
        )
    for finding in ("votes-not-talk", "talks-not-votes"):
        pairs = tv.pairs[tv.pairs["finding"] == finding].head(top)
        for r in pairs.itertuples(index=False):
            rows.append(
                [
                    Cell(finding),
                    Cell(
                        f"{clean_text(r.name_a, one_line=True)} / "
                        f"{clean_text(r.name_b, one_line=True)}"
                    ),
                    Cell(clean_text(r.reason, one_line=True, max_length=400)),
                ]
            )
    return Section(
        "Alliance opportunities that votes reveal",
        "Party pairs and member pairs who vote together but do not talk (votes-not-talk), "
        "and who talk a lot but vote apart (talks-not-votes); all in talk-vote.csv.",
        ["finding", "who", "evidence"],
        rows,
        "No pair or party pair stands out (see the warnings).",
    )
