"""Helpers of the division tests: the real exports read with the csv module alone (so
the tests check mapper's reader against an independent reading), the party-line rule
restated on raw rows, and planted voting records with known lines and rebels."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "commons-votes"
EXPORTS = {
    "Division655.csv": "commons:2019-03-27/386",
    "Division658.csv": "commons:2019-03-27/389",
    "Division661.csv": "commons:2019-03-27/392",
}
UNWHIPPED = {"Independent", "Speaker", "Deputy Speaker"}


@dataclass
class RawExport:
    number: str
    date: str
    title: str
    ayes: int
    noes: int
    rows: list[dict[str, str]]
    header_line: int  # 1-based line of "Member,Party,..."


def raw_export(path: Path) -> RawExport:
    """An export read with str and csv only."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Member,"))
    head: dict[str, str] = {}
    title = ""
    for line in lines[:at]:
        key, sep, value = line.partition(": ")
        if sep and key in ("Division Number", "Division Date", "Aye Count", "Noes Count"):
            head[key] = value.strip()
        elif line.strip() and line.strip() != "Members recorded":
            title = line.strip()
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[at:]))))
    return RawExport(
        number=head["Division Number"],
        date=head["Division Date"],
        title=title,
        ayes=int(head["Aye Count"]),
        noes=int(head["Noes Count"]),
        rows=rows,
        header_line=at + 1,
    )


def expected_lines(
    rows: list[dict[str, str]], *, party: str = "Party", vote: str = "Vote", min_voting: int = 3
) -> dict[str, str]:
    """The rule restated: a party's line is the majority side of its members voting Aye
    or No, if at least ``min_voting`` voted, it is not a tie and the party is whipped."""
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        tally[row[party]][row[vote]] += 1
    lines = {}
    for name, counts in tally.items():
        voting = counts["Aye"] + counts["No"]
        if name in UNWHIPPED or voting < min_voting or counts["Aye"] == counts["No"]:
            continue
        lines[name] = "aye" if counts["Aye"] > counts["No"] else "no"
    return lines


def expected_rebels(rows: list[dict[str, str]]) -> set[str]:
    lines = expected_lines(rows)
    return {
        r["Member"]
        for r in rows
        if r["Party"] in lines
        and r["Vote"] in ("Aye", "No")
        and r["Vote"].lower() != lines[r["Party"]]
    }


# --------------------------------------------------------------------------- planted

#: (member, party, division, date, title, vote) column names, and vote words, per style.
STYLES = [
    {
        "columns": ("member", "party", "division", "date", "title", "vote"),
        "extra": ("constituency", "teller", "proxy"),
        "words": {"aye": "aye", "no": "no", "no_vote": "no vote"},
        "date": "{:%Y-%m-%d}",
    },
    {
        "columns": ("MP", "Party Group", "Division ID", "Vote Date", "Motion", "Position"),
        "extra": ("Seat", "Teller", "Proxy Name"),
        "words": {"aye": "Yes", "no": "No", "no_vote": "Abstain"},
        "date": "{:%d/%m/%Y}",
    },
    {
        "columns": ("Name", "Group", "Roll Call", "When", "Question", "Voted"),
        "extra": ("District", "is_teller", "Proxy"),
        "words": {"aye": "For", "no": "Against", "no_vote": "Absent"},
        "date": "{:%Y-%m-%dT10:30:00}",
    },
]


@dataclass
class Planted:
    """A planted voting record: the table's rows and what the analysis must find."""

    rows: list[list[str]]
    header: list[str]
    delimiter: str
    #: division number -> party -> planted line (absent: no line)
    lines: dict[str, dict[str, str]] = field(default_factory=dict)
    #: division number -> names of the rebels
    rebels: dict[str, set[str]] = field(default_factory=dict)
    #: division number -> party -> members not voting
    no_vote: dict[str, Counter[str]] = field(default_factory=dict)
    #: division number -> (ayes, noes) listed, tellers apart
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: division number -> tellers listed
    tellers: dict[str, int] = field(default_factory=dict)

    def write(self, path: Path) -> Path:
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=self.delimiter)
            writer.writerow(self.header)
            writer.writerows(self.rows)
        return path


def planted(seed: int) -> Planted:
    """Parties with known lines and rebels over several divisions.

    Shapes vary with the seed: party sizes, number of divisions, header names, vote
    words, date format, delimiter, row order. Always present: a sub-party label
    (``Red (Co-op)``) that follows its party's line, a two-member party (no line), a
    four-member party split two and two (no line), independents (no whip), tellers on
    both sides, proxy votes, and members who do not vote (never rebels).
    """
    rng = random.Random(seed)
    style = STYLES[seed % len(STYLES)]
    sizes = {"Red": rng.randint(25, 60), "Blue": rng.randint(20, 50), "Green": rng.randint(6, 15)}
    members: list[tuple[str, str, str]] = []  # (name, party label, whip group)
    for party, size in sizes.items():
        for i in range(size):
            label = "Red (Co-op)" if party == "Red" and i % 7 == 3 else party
            members.append((f"{party} Member {i:02d}", label, party))
    members += [(f"Tiny Member {i}", "Tiny", "Tiny") for i in range(2)]
    members += [(f"Even Member {i}", "Even", "Even") for i in range(4)]
    members += [(f"Indy Member {i}", "Independent", "Independent") for i in range(3)]
    out = Planted(rows=[], header=[*style["columns"], *style["extra"]], delimiter=",")
    out.delimiter = [",", ";", "\t"][seed % 3]
    words = style["words"]
    for d in range(rng.randint(3, 6)):
        number = str(100 + d * 3 + seed)
        day = date(2020, 1 + d, 10 + seed % 10)
        when = style["date"].format(day)
        title = f"Motion {number}: the question ({seed})"
        lines = {p: rng.choice(["aye", "no"]) for p in sizes}
        out.lines[number] = dict(lines)
        out.rebels[number] = set()
        out.no_vote[number] = Counter()
        votes: dict[str, str] = {}
        for party in sizes:
            group = [m for m in members if m[2] == party]
            rng.shuffle(group)
            absent = rng.randint(0, len(group) // 5)
            voting = group[absent:]
            # rebels: fewer than a third of those voting, so the line stays the majority
            n_rebels = rng.randint(1, max(1, (len(voting) - 1) // 3))
            for name, _label, _g in group[:absent]:
                votes[name] = "no_vote"
                out.no_vote[number][party] += 1
            for k, (name, _label, _g) in enumerate(voting):
                if k < n_rebels:
                    votes[name] = "no" if lines[party] == "aye" else "aye"
                    out.rebels[number].add(name)
                else:
                    votes[name] = lines[party]
        tiny = ["aye", "no"]
        rng.shuffle(tiny)
        for i, side in enumerate(tiny):
            votes[f"Tiny Member {i}"] = side
        even = ["aye", "aye", "no", "no"]
        rng.shuffle(even)
        for i, side in enumerate(even):
            votes[f"Even Member {i}"] = side
        for i in range(3):
            votes[f"Indy Member {i}"] = rng.choice(["aye", "no", "no_vote"])
        # tellers: two loyal members of a party on each side (a party with that line)
        tellers: set[str] = set()
        for side in ("aye", "no"):
            parties = [p for p in sizes if lines[p] == side]
            pool = [
                m[0]
                for m in members
                if m[2] in parties and votes[m[0]] == side and m[0] not in out.rebels[number]
            ]
            tellers |= set(sorted(pool)[:2])
        ayes = sum(1 for n, v in votes.items() if v == "aye" and n not in tellers)
        noes = sum(1 for n, v in votes.items() if v == "no" and n not in tellers)
        out.counts[number] = (ayes, noes)
        out.tellers[number] = len(tellers)
        for name, label, _group in members:
            vote = words[votes[name]]
            teller = "1" if name in tellers else ""
            proxy = "Proxy Person" if rng.random() < 0.1 else ""
            row = [name, label, number, when, title, vote, f"Seat of {name}", teller, proxy]
            out.rows.append(row)
    if seed % 2:
        rng.shuffle(out.rows)  # a table not grouped by division
    return out
