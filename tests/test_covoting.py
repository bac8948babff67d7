"""Co-voting: agreement recomputed by hand, planted blocs (a cross-party one), members
voting with another party's bloc, random votes without structure, persuadable members
of close divisions ranked as planted, talk versus vote on a planted social graph, the
three real Commons exports (too few divisions for blocs), the outputs of a run, the
commands, and the maps' safety.

Planted records vary with the seed: party sizes, number of divisions (60-220),
abstention (0-30%), loyalty, which divisions are close (see ``covoting_support``)."""

from __future__ import annotations

import csv
import json
import math
import os
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from browser_support import HOSTILE_ATTR, HOSTILE_HREF, HOSTILE_IMG, HOSTILE_SCRIPT, page_data
from typer.testing import CliRunner

from mapper.analysis.covoting import (
    AGREEMENT_COLUMNS,
    BLOC_COLUMNS,
    COMPARE_COLUMNS,
    DEFECTOR_COLUMNS,
    MIN_SHARED_DIVISIONS,
    PERSUADABLE_COLUMNS,
    bh_qvalues,
    covoting,
    pair_agreement,
    persuadable_members,
    talk_vote,
    vote_matrix,
)
from mapper.analysis.strength import CODES
from mapper.cli import app
from mapper.collectors.divisions import import_division_file
from mapper.export import restore_cell
from mapper.render.covoting import write_covoting_map, write_talk_vote_map
from mapper.store import Store
from mapper.votes import (
    agreement_frame,
    blocs_frame,
    cohesion_frame,
    covoting_of,
    persuadable_frame,
    votes_frame,
)
from tests.covoting_support import (
    COLUMNS,
    planted_record,
    planted_social,
    random_record,
)
from tests.votes_support import EXPORTS, FIXTURES, UNWHIPPED, raw_export

runner = CliRunner()
#: Few random graphs and runs keep the tests quick; the significance rule is the same.
FAST = {"runs": 3, "significance_samples": 8}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as st:
        yield st


# --------------------------------------------------------------------- by hand


def _hand_chance(votes: dict[str, list[int]]) -> list[float]:
    """Per division, the probability that two distinct voters took the same side."""
    names = sorted(votes)
    chance = []
    for d in range(len(votes[names[0]])):
        a = sum(1 for m in names if votes[m][d] == 1)
        n = sum(1 for m in names if votes[m][d] == -1)
        v = a + n
        chance.append((a * (a - 1) + n * (n - 1)) / (v * (v - 1)) if v >= 2 else 1.0)
    return chance


def _hand_agreement(votes: dict[str, list[int]]) -> dict[tuple[str, str], tuple[int, int, float]]:
    """(shared, agreed, expected) per pair, with plain loops."""
    names = sorted(votes)
    n_div = len(votes[names[0]])
    chance = _hand_chance(votes)
    out = {}
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            both = [d for d in range(n_div) if votes[x][d] and votes[y][d]]
            agreed = sum(1 for d in both if votes[x][d] == votes[y][d])
            out[(x, y)] = (len(both), agreed, sum(chance[d] for d in both))
    return out


def _exact_tail(probabilities: list[float], observed: int) -> float:
    """P(X >= observed) for a Poisson-binomial X, by dynamic programming."""
    dist = np.zeros(len(probabilities) + 1)
    dist[0] = 1.0
    for p in probabilities:
        dist[1:] = dist[1:] * (1 - p) + dist[:-1] * p
        dist[0] *= 1 - p
    return float(dist[observed:].sum())


def _frame_of(votes: dict[str, list[int]], parties: dict[str, str]) -> pd.DataFrame:
    rows = []
    words = {1: "aye", -1: "no", 0: "no_vote"}
    for name, cast in votes.items():
        for d, v in enumerate(cast):
            rows.append(
                (
                    f"h:2020-01-01/{d}",
                    str(d),
                    pd.Timestamp("2020-01-01", tz="UTC") + pd.Timedelta(days=d),
                    f"Motion {d}",
                    f"h:name:{name}",
                    None,
                    name,
                    parties[name],
                    "",
                    None,
                    words[v],
                    False,
                    "",
                )
            )
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_agreement_and_kappa_are_those_computed_by_hand(seed: int) -> None:
    rng = random.Random(seed)
    members = [f"M{i}" for i in range(rng.randint(6, 12))]
    n_div = rng.randint(12, 40)
    lean = {m: rng.choice((1, -1)) for m in members}
    votes = {
        m: [
            0
            if rng.random() < 0.2
            else (lean[m] if rng.random() < 0.7 else -lean[m]) * (1 if d % 3 else -1)
            for d in range(n_div)
        ]
        for m in members
    }
    frame = _frame_of(votes, {m: "P" for m in members})
    matrix = vote_matrix(frame)
    agreement = pair_agreement(matrix, min_shared=MIN_SHARED_DIVISIONS)
    index = matrix.index()
    hand = _hand_agreement(votes)
    chance = _hand_chance(votes)
    checked = 0
    for (x, y), (shared, agreed, expected) in hand.items():
        i, j = index[f"h:name:{x}"], index[f"h:name:{y}"]
        assert agreement.shared[i, j] == shared
        assert agreement.agreed[i, j] == agreed
        assert agreement.expected[i, j] == pytest.approx(expected)
        if shared < MIN_SHARED_DIVISIONS or shared - expected < 1e-9:
            assert math.isnan(agreement.kappa[i, j])
            continue
        checked += 1
        assert agreement.kappa[i, j] == pytest.approx((agreed - expected) / (shared - expected))
        both = [d for d in range(n_div) if votes[x][d] and votes[y][d]]
        exact = _exact_tail([chance[d] for d in both], agreed)
        # the refined normal approximation of the exact Poisson-binomial tail
        assert agreement.p_above[i, j] == pytest.approx(exact, abs=0.03)
    assert checked >= 3


def test_member_keys_are_the_frame_member_when_unresolved_else_the_actor() -> None:
    votes = {"A": [1, -1, 1], "B": [1, 1, -1], "C": [-1, -1, 1]}
    frame = _frame_of(votes, {"A": "P", "B": "P", "C": "Q"})
    frame.loc[frame["name"] == "A", "actor"] = "actor-a"
    matrix = vote_matrix(frame)
    assert matrix.nodes == ["actor-a", "h:name:B", "h:name:C"]
    assert matrix.votes.tolist() == [[1, -1, 1], [1, 1, -1], [-1, -1, 1]]


def test_two_keys_resolving_to_one_actor_merge_and_conflicts_are_counted() -> None:
    votes = {"A": [1, -1, 0, 1], "A2": [0, -1, 1, -1], "B": [1, 1, 1, 1]}
    frame = _frame_of(votes, {"A": "P", "A2": "P", "B": "P"})
    frame.loc[frame["name"].isin(["A", "A2"]), "actor"] = "same"
    matrix = vote_matrix(frame)
    row = matrix.index()["same"]
    assert matrix.votes[row].tolist() == [1, -1, 1, 0]  # the last: aye and no, conflicting
    assert matrix.conflicts == 1
    result = covoting(frame, **FAST)
    assert "covoting-conflicting-votes" in {w.code for w in result.warnings}


def test_bh_qvalues_follow_their_definition() -> None:
    rng = np.random.default_rng(3)
    for size in (1, 5, 200):
        p = rng.random(size) ** 3
        q = bh_qvalues(p)
        order = np.argsort(p)
        m = len(p)
        for rank, k in enumerate(order, start=1):
            expected = min(1.0, min(p[order[j]] * m / (j + 1) for j in range(rank - 1, m)))
            assert q[k] == pytest.approx(expected)
    assert np.isnan(bh_qvalues(np.array([np.nan, 0.1])))[0]


def test_lopsided_divisions_give_no_agreement_beyond_chance() -> None:
    # everybody aye in every division: perfect agreement, none of it beyond chance
    votes = {m: [1] * 30 for m in "ABCDEF"}
    frame = _frame_of(votes, {m: "P" for m in votes})
    agreement = pair_agreement(vote_matrix(frame))
    assert not agreement.scored.any()
    assert not agreement.ties.any()


# --------------------------------------------------------------------- planted


@pytest.fixture(scope="module", params=[0, 1, 2, 3])
def planted(request: pytest.FixtureRequest):
    seed = request.param
    record = planted_record(seed, divisions=[60, 140, 220, 100][seed], close=3)
    social, loud = planted_social(record, seed)
    result = covoting(
        record.votes, social=social, seed=seed, close_votes=5, close_share=0.2, **FAST
    )
    return record, social, loud, result


def _bloc_of(result, record, planted_bloc: str) -> int:
    """The detected bloc holding most members of a planted bloc (loyal members only)."""
    members = [
        record.actor(n)
        for n, b in record.bloc.items()
        if b == planted_bloc and n not in record.defectors and n not in record.moderates
    ]
    counts = Counter(result.blocs.partition.get(m) for m in members)
    bloc, held = counts.most_common(1)[0]
    assert bloc is not None and held >= 0.9 * len(members), (planted_bloc, counts)
    return bloc


def test_planted_blocs_are_recovered_and_significant(planted) -> None:
    record, _, _, result = planted
    assert result.blocs.significant is True
    x, y, z = (_bloc_of(result, record, b) for b in "XYZ")
    assert len({x, y, z}) == 3
    # independents vote at random: no bloc claims them
    for name in ("Indy Member 0", "Indy Member 1"):
        assert record.actor(name) not in result.blocs.partition


def test_the_cross_party_bloc_is_named_by_its_make_up(planted) -> None:
    record, _, _, result = planted
    x, y, z = (_bloc_of(result, record, b) for b in "XYZ")
    counts = Counter(record.party[result.graph.nodes[n]["name"]] for n in result.blocs.members(x))
    name = result.blocs.names[x]
    assert name.startswith(f"Red {counts['Red']} + Green {counts['Green']}"), name
    assert result.blocs.cross_party[x] is True
    # the other blocs are one party each (two Red defectors in Y stay "others")
    assert result.blocs.cross_party[y] is False and result.blocs.names[y].startswith("Blue ")
    assert result.blocs.cross_party[z] is False and result.blocs.names[z].startswith("Yellow ")
    frame = result.blocs_frame()
    assert list(frame.columns) == list(BLOC_COLUMNS)
    assert frame.loc[frame["bloc"] == x, "cross_party"].item()


def test_members_voting_with_another_partys_bloc_are_found(planted) -> None:
    record, _, _, result = planted
    defectors = result.defectors
    assert list(defectors.columns) == list(DEFECTOR_COLUMNS)
    x, y, _ = (_bloc_of(result, record, b) for b in "XYZ")
    found = dict(zip(defectors["name"], defectors.to_dict(orient="records"), strict=True))
    for name in record.defectors:
        row = found[name]
        assert row["party"] == "Red" and row["bloc"] == y and row["party_bloc"] == x
        assert row["evidence"] == "strong"
        assert row["kappa_bloc"] > 0.3 > row["kappa_party"]
        assert name in row["reason"]
    # nobody else defects, except moderates who do lean to another bloc
    assert set(found) - set(record.defectors) <= set(record.moderates)
    members = result.members_frame()
    flagged = set(members.loc[members["defector"], "name"])
    assert set(record.defectors) <= flagged


def test_party_cohesion_is_the_rice_index_recomputed(planted) -> None:
    record, _, _, result = planted
    votes = record.votes
    per = result.cohesion_divisions
    parties = per[per["group_type"] == "party"].set_index(["group", "division"])
    for (party, uid), group in votes.groupby(["party", "division"]):
        if party in UNWHIPPED:
            assert party not in set(per["group"])
            continue
        ayes = int((group["vote"] == "aye").sum())
        noes = int((group["vote"] == "no").sum())
        expected = abs(ayes - noes) / (ayes + noes) if ayes + noes >= 3 else None
        got = parties.loc[(party, uid), "rice"]
        assert (got is None and expected is None) or got == pytest.approx(expected, abs=1e-4)
    summary = result.cohesion.set_index("group")
    assert summary.loc["Red", "rice"] == pytest.approx(
        parties.loc["Red", "rice"].dropna().astype(float).mean(), abs=1e-4
    )
    # the planted parties vote together far above what as many random voters would
    for party in ("Red", "Blue", "Green", "Yellow"):
        assert summary.loc[party, "rice"] > summary.loc[party, "chance_rice"] + 0.3


def test_persuadable_members_are_ranked_as_planted(planted) -> None:
    record, _, _, result = planted
    assert set(record.close) <= set(result.close["division"])
    for uid, (side, absent) in record.close.items():
        rows = result.persuadable[result.persuadable["division"] == uid]
        assert (rows["result"] == side).all()
        # the winners' own absentees and the moderates who voted against: nobody else
        assert set(rows["name"]) == set(absent) | set(record.moderates)
        moderates = rows[rows["voted"] == "no"]
        assert moderates["name"].tolist() == record.moderates  # most leaning first
        assert (moderates["closeness"] > moderates["closeness_other"]).iloc[0]
        assert set(rows.loc[rows["name"].isin(absent), "voted"]) <= {"no_vote"}
        assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
        first = rows.iloc[0]
        assert first["name"] in first["reason"] and str(first["number"]) in first["reason"]
    assert list(result.persuadable.columns) == list(PERSUADABLE_COLUMNS)


def test_persuadable_for_the_losing_side_are_its_own_absentees(planted) -> None:
    record, _, _, result = planted
    for uid in sorted(record.close):
        close, frame, _ = persuadable_members(
            result.matrix, result.agreement, divisions=[uid], side="losing"
        )
        # the losers (no) could have turned it with the members who did not vote with
        # them: the winners (X, aye) are not close to them; the losers' own absentees are
        assert set(frame["voted"]) <= {"no_vote"}
        assert all(record.bloc[name] in ("Y", "Z") for name in frame["name"])
        assert close["switches_to_flip"].item() == close["margin"].item() // 2 + 1


def test_talk_versus_vote_on_a_planted_social_graph(planted) -> None:
    record, social, loud, result = planted
    tv = result.talk_vote
    assert tv is not None and list(tv.pairs.columns) == list(COMPARE_COLUMNS)
    groups = {(r.party_a, r.party_b): r.finding for r in tv.groups.itertuples(index=False)}
    assert groups[("Green", "Red")] == "votes-not-talk"
    assert groups[("Blue", "Yellow")] == "talks-not-votes"
    talking = {frozenset((u, v)) for u, v in social.edges}
    silent = tv.pairs[tv.pairs["finding"] == "votes-not-talk"]
    found = {frozenset((a, b)) for a, b in zip(silent["member_a"], silent["member_b"], strict=True)}
    assert not found & talking
    ties = result.agreement.ties
    index = result.matrix.index()
    degree = Counter(n for e in talking for n in e)
    reds = [record.actor(n) for n, p in record.party.items() if p == "Red"]
    greens = [record.actor(n) for n, p in record.party.items() if p == "Green"]
    for r in reds:
        for g in greens:
            if ties[index[r], index[g]] and degree[r] >= 3 and degree[g] >= 3:
                assert frozenset((r, g)) in found
    apart = tv.pairs[tv.pairs["finding"] == "talks-not-votes"]
    loud_found = {
        frozenset((a, b)) for a, b in zip(apart["member_a"], apart["member_b"], strict=True)
    }
    moderates = {record.actor(n) for n in record.moderates}
    assert {p for p in loud if not p & moderates} <= loud_found
    # any other pair talking but voting apart involves a member who left their bloc
    leavers = moderates | {record.actor(n) for n in record.defectors}
    assert all(p & leavers for p in loud_found - loud)
    assert (apart["social_weight"] >= 2).all() and (apart["kappa"] < 0).all()


# ---------------------------------------------------------------------- random


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_random_votes_show_no_structure(seed: int) -> None:
    votes = random_record(seed)
    result = covoting(votes, seed=seed, close_votes=10, close_share=0.3, **FAST)
    assert result.graph.number_of_edges() <= 2
    assert result.blocs.count == 0
    assert len(result.defectors) == 0
    assert len(result.persuadable) == 0
    codes = {w.code for w in result.warnings}
    assert "covoting-no-ties" in codes or "no-factions" in codes or "unassigned-actors" in codes
    assert np.nanmean(result.agreement.kappa) == pytest.approx(0.0, abs=0.02)


# ------------------------------------------------------------ the real exports


def test_the_three_real_exports_are_too_few_for_blocs(store: Store) -> None:
    for name in sorted(EXPORTS):
        import_division_file(store, FIXTURES / name)
    result = covoting_of(store, **FAST)
    codes = {w.code for w in result.warnings}
    assert "covoting-too-few-divisions" in codes
    assert result.graph.number_of_nodes() >= 640 and result.graph.number_of_edges() == 0
    assert result.blocs.count == 0 and len(result.defectors) == 0
    assert len(result.persuadable) == 0 and not result.agreement.scored.any()
    assert set(CODES) >= codes
    # cohesion is still given, and is the Rice index of the raw rows
    per = cohesion_frame(store, result=result, by_division=True)
    for name, uid in EXPORTS.items():
        raw = raw_export(FIXTURES / name)
        labels = {r["Party"] for r in raw.rows}
        tally: dict[str, Counter[str]] = defaultdict(Counter)
        for r in raw.rows:
            party = r["Party"]
            base = party.split(" (")[0]
            if party != base and base in labels:
                party = base
            tally[party][r["Vote"]] += 1
        rows = per[(per["division"] == uid) & (per["group_type"] == "party")]
        got = dict(zip(rows["group"], rows["rice"], strict=True))
        for party, counts in tally.items():
            voting = counts["Aye"] + counts["No"]
            if party in UNWHIPPED or party == "Deputy Speaker":
                assert party not in got
            elif voting >= 3:
                assert got[party] == pytest.approx(
                    abs(counts["Aye"] - counts["No"]) / voting, abs=1e-4
                )


# ------------------------------------------------------------- store, run, CLI


def _write_project(folder: Path, seed: int = 2, divisions: int = 60) -> Path:
    record = planted_record(seed, divisions=divisions)
    social, _ = planted_social(record, seed)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "roster.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "name", "kind", "party", "constituency"])
        for name, party in sorted(record.party.items()):
            w.writerow([record.actor(name), name, "mp", party, f"Seat of {name}"])
        for n in sorted(social.nodes):
            if n.startswith("commentator"):
                w.writerow([n, social.nodes[n]["label"], "commentator", "", ""])
    with open(folder / "edges.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source", "target", "weight"])
        for u, v, d in sorted(social.edges(data=True)):
            w.writerow([u, v, d["weight"]])
    with open(folder / "votes.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["member", "party", "division", "date", "title", "vote", "constituency"])
        for r in record.votes.itertuples(index=False):
            word = {"aye": "aye", "no": "no", "no_vote": "no vote"}[r.vote]
            w.writerow(
                [r.name, r.party, r.number, f"{r.date:%Y-%m-%d}", r.title, word, r.constituency]
            )
    (folder / "mapper.toml").write_text(
        '[project]\nname = "planted"\nroster = "roster.csv"\noutput = "out"\n\n'
        "[factions]\nruns = 3\nsignificance_samples = 8\n\n"
        '[[sources]]\ntype = "divisions"\npath = "votes.csv"\n\n'
        '[[sources]]\ntype = "edges-csv"\npath = "edges.csv"\n',
        encoding="utf-8",
    )
    return folder / "mapper.toml"


@pytest.fixture(scope="module")
def run_project_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    toml = _write_project(tmp_path_factory.mktemp("covote") / "p")
    result = runner.invoke(app, ["run", str(toml)])
    assert result.exit_code == 0, result.output
    return toml.parent


def test_mapper_run_writes_the_covoting_outputs(run_project_folder: Path) -> None:
    out = run_project_folder / "out"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    cov = summary["votes"]["covoting"]
    assert cov["divisions"] == 60 and cov["ties"] > 0
    assert cov["blocs_supported"] is True and cov["blocs_basis"] in ("modularity", "components")
    if cov["blocs_basis"] == "modularity":
        assert cov["blocs_significance"]["significant"] is True
    names = [b["name"] for b in cov["blocs"]]
    assert any(n.startswith("Red ") and " + Green " in n for n in names)
    assert any(b["cross_party"] for b in cov["blocs"])
    assert cov["defectors"] >= 2 and cov["talk_vote"]["votes_not_talk_groups"] >= 1
    for name in (
        "agreement.csv",
        "blocs.csv",
        "bloc-members.csv",
        "defectors.csv",
        "cohesion.csv",
        "persuadable.csv",
        "talk-vote.csv",
        "covoting.md",
        "covoting.html",
        "talk-vote.html",
        "covoting/graph.gexf",
        "covoting/nodes.csv",
    ):
        assert name in summary["outputs"], name
        assert (out / name).exists(), name
    codes = {w["code"] for w in summary["warnings"] if w["stage"] == "votes"}
    assert codes <= set(CODES)
    report = (out / "report.md").read_text(encoding="utf-8")
    for heading in ("Rebels by division", "Voting blocs", "Party cohesion"):
        assert f"## {heading}" in report
    assert "(covoting.html)" in report and "(talk-vote.html)" in report
    exported = nx.read_gexf(out / "covoting" / "graph.gexf")
    assert exported.number_of_edges() == cov["ties"]
    assert {d["party"] for _, d in exported.nodes(data=True)} >= {"Red", "Blue"}
    agreement = pd.read_csv(out / "agreement.csv", dtype=str, keep_default_na=False)
    assert list(agreement.columns) == list(AGREEMENT_COLUMNS)
    assert (agreement["tie"] == "true").sum() == cov["ties"]


def test_votes_commands_for_agreement_blocs_persuadable_and_compare(
    run_project_folder: Path, tmp_path: Path
) -> None:
    toml = str(run_project_folder / "mapper.toml")
    out = str(tmp_path)
    result = runner.invoke(
        app,
        [
            "votes",
            "agreement",
            "--project",
            toml,
            "--member",
            "Green Member 01",
            "--ties",
            "--json",
            "--out",
            out,
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all("Green Member 01" in (r["name_a"], r["name_b"]) for r in rows)
    assert all(r["tie"] for r in rows)
    assert (tmp_path / "agreement.csv").exists()
    result = runner.invoke(app, ["votes", "blocs", "--project", toml, "--json", "--out", out])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert any(b["cross_party"] for b in data["blocs"])
    assert {"Red Member 03", "Red Member 07"} <= {d["name"] for d in data["defectors"]}
    assert (tmp_path / "covoting.html").exists() and (tmp_path / "blocs.csv").exists()
    result = runner.invoke(
        app,
        [
            "votes",
            "persuadable",
            "--project",
            toml,
            "--close-votes",
            "5",
            "--close-share",
            "0.2",
            "--json",
            "--out",
            out,
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and {"Blue Member 01", "Blue Member 04"} <= {r["name"] for r in rows}
    result = runner.invoke(app, ["votes", "compare", "--project", toml, "--groups", "--out", out])
    assert result.exit_code == 0, result.output
    assert "votes-not-talk" in result.stdout and "talks-not-votes" in result.stdout
    assert (tmp_path / "talk-vote.html").exists() and (tmp_path / "talk-vote.csv").exists()


def test_frames_of_the_api_have_fixed_columns(store: Store) -> None:
    assert list(agreement_frame(store).columns) == list(AGREEMENT_COLUMNS)
    assert list(persuadable_frame(store).columns) == list(PERSUADABLE_COLUMNS)
    for name in sorted(EXPORTS):
        import_division_file(store, FIXTURES / name)
    result = covoting_of(store, **FAST)
    assert list(blocs_frame(store, result=result).columns) == list(BLOC_COLUMNS)
    assert list(result.compare_frame().columns) == list(COMPARE_COLUMNS)
    assert len(votes_frame(store)) == result.matrix.votes.size - int((~result.matrix.listed).sum())


def test_the_talk_vote_comparison_says_when_nobody_is_in_both_graphs(planted) -> None:
    _, _, _, result = planted
    other = nx.DiGraph([("x", "y"), ("y", "z")])
    tv = talk_vote(other, result.matrix, result.agreement)
    assert tv.common == 0 and len(tv.pairs) == 0
    assert [w.code for w in tv.warnings] == ["talk-vote-no-overlap"]


# --------------------------------------------------------------------- safety


class _TagParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Start tags as a browser tokenises them (script bodies are not parsed as tags)."""
    parser = _TagParser()
    parser.feed(html)
    return parser.tags


def _hostile_record():
    record = planted_record(5, divisions=60)
    votes = record.votes.copy()
    swap = {
        "Red Member 05": HOSTILE_IMG,
        "Green Member 02": HOSTILE_SCRIPT,
        "Blue Member 06": HOSTILE_ATTR,
        "Yellow Member 01": HOSTILE_HREF,
    }
    votes["name"] = votes["name"].replace(swap)
    votes.loc[votes["name"] == HOSTILE_HREF, "party"] = "=cmd|' /C calc'!A0"
    return record, votes


def test_maps_and_tables_are_safe_against_hostile_names(tmp_path: Path) -> None:
    from mapper.render.covoting import write_covoting_md, write_covoting_tables

    record, votes = _hostile_record()
    social, _ = planted_social(record, 5)
    result = covoting(votes, social=social, **FAST)
    write_covoting_map(result, tmp_path / "covoting.html", title=HOSTILE_IMG)
    write_talk_vote_map(result, social, tmp_path / "talk-vote.html")
    for page in ("covoting.html", "talk-vote.html"):
        html = (tmp_path / page).read_text(encoding="utf-8")
        for needle in ("<img src=x", "<script>window.__pwned", '" onmouseover="', HOSTILE_HREF):
            assert needle not in html, (page, needle)
        policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
        assert policy and "default-src 'none'" in unescape(policy.group(1))
        tags = _tags(html)
        assert [t for t, _ in tags].count("script") == 3  # data, vis-network, page script
        for tag, attrs in tags:
            assert tag not in ("img", "a", "link", "iframe"), (page, tag)
            assert not any(a.startswith("on") or a == "src" for a in attrs), (page, tag, attrs)
        data = page_data(html)
        titles = [i["title"] for i in data["nodes"] + data["edges"] if "title" in i]
        assert titles and all("href" not in t.lower() for t in titles)
        labels = {n["label"] for n in data["nodes"]}
        assert HOSTILE_IMG in labels or page == "talk-vote.html"
        assert all(isinstance(n["id"], str) and n["label"] != n["id"] for n in data["nodes"])
    layers = {
        e.get("layer")
        for e in page_data((tmp_path / "talk-vote.html").read_text(encoding="utf-8"))["edges"]
    }
    assert {"votes", "talks"} <= layers
    write_covoting_tables(result, tmp_path)
    write_covoting_md(result, tmp_path / "covoting.md", title=HOSTILE_IMG)
    md = (tmp_path / "covoting.md").read_text(encoding="utf-8")
    assert "<img" not in md and "<script" not in md
    with open(tmp_path / "bloc-members.csv", encoding="utf-8", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not any(c.startswith("=") for c in cells)
    assert "=cmd|' /C calc'!A0" in {restore_cell(c) for c in cells}


def test_covoting_map_has_every_member_and_the_strongest_ties(planted, tmp_path: Path) -> None:
    _, _, _, result = planted
    info = write_covoting_map(result, tmp_path / "c.html", ties_per_member=4)
    data = page_data((tmp_path / "c.html").read_text(encoding="utf-8"))
    G = result.graph
    assert {n["id"] for n in data["nodes"]} == set(G.nodes)
    assert info["ties_shown"] == len(data["edges"]) <= info["ties_total"]
    for edge in data["edges"]:
        assert G.has_edge(edge["from"], edge["to"])
    shapes = {n["kind"]: n["shape"] for n in data["nodes"]}
    assert len({shapes[p] for p in ("Red", "Blue", "Green", "Yellow")}) == 4
    blocs = {n["id"]: n["fac"] for n in data["nodes"]}
    for node, bloc in result.blocs.partition.items():
        assert blocs[node] == bloc
    # each member's strongest tie is drawn
    drawn = {frozenset((e["from"], e["to"])) for e in data["edges"]}
    for node in G.nodes:
        if G.degree(node):
            best = max(G[node], key=lambda v: (G[node][v]["weight"], str(v)))
            top = G[node][best]["weight"]
            assert any(
                frozenset((node, v)) in drawn for v in G[node] if G[node][v]["weight"] == top
            )


def test_results_are_deterministic() -> None:
    record = planted_record(7, divisions=80)
    a = covoting(record.votes, seed=3, **FAST)
    b = covoting(record.votes.sample(frac=1.0, random_state=1), seed=3, **FAST)
    assert a.blocs.partition == b.blocs.partition and a.blocs.names == b.blocs.names
    pd.testing.assert_frame_equal(a.agreement_frame(), b.agreement_frame())
    pd.testing.assert_frame_equal(a.persuadable, b.persuadable)


# -------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from browser_support import CHROMIUM_ARGS, chromium_path

    executable = chromium_path()
    if executable is None:
        if os.environ.get("MAPPER_REQUIRE_BROWSER"):
            pytest.fail("browser tests are required here but no Chromium was found")
        pytest.skip("no Chromium found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.mark.browser
def test_the_maps_draw_offline_and_the_layers_switch(chromium: Any, tmp_path: Path) -> None:
    from browser_support import Offline

    record, votes = _hostile_record()
    social, _ = planted_social(record, 5)
    result = covoting(votes, social=social, **FAST)
    write_covoting_map(result, tmp_path / "covoting.html", title=HOSTILE_SCRIPT)
    write_talk_vote_map(result, social, tmp_path / "talk-vote.html")
    context = chromium.new_context(viewport={"width": 1300, "height": 850})
    tab = context.new_page()
    guard = Offline(tab)
    try:
        for name in ("covoting.html", "talk-vote.html"):
            tab.goto((tmp_path / name).resolve().as_uri())
            for _ in range(1500):  # polled through DevTools: the page's policy forbids eval
                if tab.evaluate("() => window.mapperReady === true"):
                    break
                tab.wait_for_timeout(20)
            data = page_data((tmp_path / name).read_text(encoding="utf-8"))
            drawn = tab.evaluate("[window.mapperNodes.length, window.mapperEdges.length]")
            assert drawn == [len(data["nodes"]), len(data["edges"])]
        hidden = "window.mapperEdges.get({filter: e => e.hidden}).length"
        assert tab.evaluate(hidden) == 0
        talks = sum(1 for e in data["edges"] if e.get("layer") == "talks")
        assert talks > 0
        tab.uncheck('input[data-filter="layer"][value="talks"]')
        assert tab.evaluate(hidden) == talks
        tab.click('button[data-set="none"][data-filter-group="layer"]')
        assert tab.evaluate(hidden) == len(data["edges"])
        tab.click('button[data-set="all"][data-filter-group="layer"]')
        assert tab.evaluate(hidden) == 0
        assert tab.evaluate("window.__pwned === undefined")
    finally:
        context.close()
    assert guard.requests == [] and guard.errors == [] and guard.dialogs == []
