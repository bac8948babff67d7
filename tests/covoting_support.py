"""Planted voting records for the co-voting tests: blocs, a cross-party bloc, members
who vote with another party's bloc, moderates close to the winners of close divisions,
and a social graph where some who vote together never talk (and some who talk vote
apart). Everything varies with the seed: sizes, number of divisions, abstention,
loyalty, which divisions are close."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import networkx as nx
import pandas as pd

COLUMNS = (
    "division",
    "number",
    "date",
    "title",
    "member",
    "member_id",
    "name",
    "party",
    "constituency",
    "actor",
    "vote",
    "teller",
    "proxy",
)
WORDS = {1: "aye", -1: "no", 0: "no_vote"}


@dataclass
class Record:
    """A planted record: the votes table and what the analysis must find."""

    votes: pd.DataFrame
    #: member name -> planted bloc ("X": Red + Green, "Y": Blue, "Z": Yellow, "": none)
    bloc: dict[str, str]
    party: dict[str, str]
    #: Red members who vote with the Blue bloc
    defectors: list[str]
    #: Blue members leaning to the X bloc, most leaning first
    moderates: list[str]
    #: division uid -> (winning side, X members who did not vote there)
    close: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    divisions: int = 0
    abstention: float = 0.0

    def actor(self, name: str) -> str:
        return "act-" + name.lower().replace(" ", "-")


def _rows(
    votes: dict[str, dict[str, int]],
    party: dict[str, str],
    order: list[str],
    start: datetime,
    *,
    actors: bool,
) -> pd.DataFrame:
    rows = []
    for d, uid in enumerate(order):
        when = start + timedelta(days=d)
        number = uid.rsplit("/", 1)[-1]
        for name in sorted(votes[uid]):
            rows.append(
                (
                    uid,
                    number,
                    when,
                    f"Motion {number}",
                    "test:name:" + name.lower(),
                    None,
                    name,
                    party[name],
                    f"Seat of {name}",
                    ("act-" + name.lower().replace(" ", "-")) if actors else None,
                    WORDS[votes[uid][name]],
                    False,
                    "",
                )
            )
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    frame["date"] = pd.to_datetime(frame["date"], utc=True).astype("datetime64[ns, UTC]")
    return frame


def planted_record(
    seed: int,
    *,
    divisions: int | None = None,
    close: int = 3,
    actors: bool = True,
) -> Record:
    """Blocs X (Red + Green, cross-party), Y (Blue) and Z (Yellow, mostly against Y),
    two Red members voting with Y, three Blue moderates following X with decreasing
    probability, two independents voting at random, and ``close`` close divisions won
    by X by 1 to 3 votes (some X members absent, the moderates voting with Y)."""
    rng = random.Random(seed)
    sizes = {
        "Red": rng.randint(25, 45),
        "Green": rng.randint(6, 12),
        "Blue": rng.randint(22, 40),
        "Yellow": rng.randint(8, 14),
    }
    n_div = divisions if divisions is not None else rng.randint(120, 220)
    abstention = rng.choice([0.0, 0.05, 0.15, 0.3])
    loyalty = rng.uniform(0.9, 0.97)
    party: dict[str, str] = {}
    bloc: dict[str, str] = {}
    for p, size in sizes.items():
        for i in range(size):
            name = f"{p} Member {i:02d}"
            party[name] = p
            bloc[name] = {"Red": "X", "Green": "X", "Blue": "Y", "Yellow": "Z"}[p]
    defectors = ["Red Member 03", "Red Member 07"]
    for name in defectors:
        bloc[name] = "Y"
    moderates = ["Blue Member 01", "Blue Member 04", "Blue Member 09"]
    leaning = dict(zip(moderates, (0.95, 0.8, 0.65), strict=True))
    for i in range(2):
        name = f"Indy Member {i}"
        party[name] = "Independent"
        bloc[name] = ""
    names = sorted(party)
    close_at = set(rng.sample(range(10, n_div), close)) if close else set()
    votes: dict[str, dict[str, int]] = {}
    order: list[str] = []
    record = Record(
        votes=pd.DataFrame(),
        bloc=bloc,
        party=party,
        defectors=defectors,
        moderates=moderates,
        divisions=n_div,
        abstention=abstention,
    )
    for d in range(n_div):
        uid = f"test:2021-01-01/{1000 + d}"
        order.append(uid)
        side = {"X": rng.choice((1, -1)), "Y": rng.choice((1, -1))}
        side["Z"] = -side["Y"] if rng.random() < 0.85 else side["Y"]
        is_close = d in close_at
        if is_close:
            side = {"X": 1, "Y": -1, "Z": -1}
        cast: dict[str, int] = {}
        for name in names:
            if bloc[name] == "":
                cast[name] = rng.choice((1, -1, 0))
                continue
            if not is_close and rng.random() < abstention:
                cast[name] = 0
                continue
            if name in leaning:
                follow = side["X"] if rng.random() < leaning[name] else side["Y"]
                cast[name] = side["Y"] if is_close else follow
                continue
            own = side[bloc[name]]
            cast[name] = own if is_close or rng.random() < loyalty else -own
        if is_close:
            # X wins by 1-3: X members stay away until the margin is small
            target = rng.randint(1, 3)
            absent: list[str] = []
            x_members = [n for n in names if bloc[n] == "X"]
            rng.shuffle(x_members)
            others = [n for n in names if bloc[n] in ("Y", "Z") and n not in leaning]
            rng.shuffle(others)
            while True:
                ayes = sum(1 for v in cast.values() if v == 1)
                noes = sum(1 for v in cast.values() if v == -1)
                if ayes - noes == target:
                    break
                if ayes - noes > target:
                    name = x_members.pop()
                    cast[name] = 0
                    absent.append(name)
                else:
                    cast[others.pop()] = 0
            record.close[uid] = ("aye", sorted(absent))
        votes[uid] = cast
    record.votes = _rows(votes, party, order, datetime(2021, 1, 1, tzinfo=UTC), actors=actors)
    return record


def random_record(seed: int, *, members: int | None = None, divisions: int | None = None):
    """Members voting at random: aye with the division's own probability (lopsided
    divisions included), some abstaining; three parties by label only."""
    rng = random.Random(seed)
    m = members if members is not None else rng.randint(40, 120)
    n_div = divisions if divisions is not None else rng.randint(40, 200)
    abstention = rng.choice([0.0, 0.1, 0.25])
    party = {f"M{i:03d}": ("Red", "Blue", "Green")[i % 3] for i in range(m)}
    votes: dict[str, dict[str, int]] = {}
    order = []
    for d in range(n_div):
        uid = f"rand:2021-01-01/{d}"
        order.append(uid)
        q = rng.uniform(0.1, 0.9)
        votes[uid] = {
            name: 0 if rng.random() < abstention else (1 if rng.random() < q else -1)
            for name in party
        }
    return _rows(votes, party, order, datetime(2021, 1, 1, tzinfo=UTC), actors=False)


def planted_social(record: Record, seed: int) -> tuple[nx.DiGraph, set[frozenset[str]]]:
    """Red and Green members talk among themselves but never to each other; Blue and
    Yellow members talk a lot across (each Yellow with a third of Blue, weights 2-5) while
    voting apart; commentators
    talk to everybody a little. Returns the graph and the planted Blue-Yellow pairs."""
    rng = random.Random(seed + 7)
    G = nx.DiGraph()
    by_party: dict[str, list[str]] = {}
    for name, p in record.party.items():
        by_party.setdefault(p, []).append(record.actor(name))
        G.add_node(record.actor(name), label=name, kind="mp", party=p)
    for p in ("Red", "Green", "Blue", "Yellow"):
        members = sorted(by_party[p])
        for a in members:
            for b in rng.sample(members, min(4, len(members) - 1)):
                if a != b:
                    G.add_edge(a, b, weight=1.0)
    loud: set[frozenset[str]] = set()
    blues, yellows = sorted(by_party["Blue"]), sorted(by_party["Yellow"])
    for y in yellows:
        for b in rng.sample(blues, max(8, len(blues) // 3)):
            G.add_edge(b, y, weight=float(rng.randint(2, 5)))
            loud.add(frozenset((b, y)))
    for k in range(6):
        c = f"commentator-{k}"
        G.add_node(c, label=f"Commentator {k}", kind="commentator")
        for a in rng.sample(sorted(G.nodes - {c}), 10):
            if not a.startswith("commentator"):
                G.add_edge(c, a, weight=1.0)
    return G, loud
