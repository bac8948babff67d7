"""Division members resolved to roster actors: by member id, by name and constituency,
honorifics and the export's ``?`` letters; ambiguity reported, nobody dropped; the
roster's constituency column; ``mapper roster import --divisions``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mapper.cli import app
from mapper.collectors.divisions import import_division_file
from mapper.curation import import_members
from mapper.records import Actor, Division, Vote
from mapper.resolve.members import (
    MemberIndex,
    MemberResolver,
    canonical_labels,
    label_matches,
    member_key,
    name_keys,
    resolve_members,
)
from mapper.resolve.roster import Roster, load_roster, validate_roster, write_roster_csv
from mapper.store import Store
from mapper.votes import votes_frame
from tests.votes_support import FIXTURES

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as st:
        yield st


ROSTER = Roster(
    [
        Actor("beckett", "Margaret Beckett", kind="mp", constituency="Derby South"),
        Actor("coffey-t", "Thérèse Coffey", kind="mp", constituency="Suffolk Coastal"),
        Actor("coffey-a", "Ann Coffey", kind="mp", external_ids={"parliament": "4048"}),
        Actor("smith-p", "Angela Smith", kind="mp", constituency="Penistone and Stocksbridge"),
        Actor("smith-b", "Angela Smith", kind="mp", constituency="Basildon"),
        Actor("twin-1", "Chris Evans", kind="mp"),
        Actor("twin-2", "Chris Evans", kind="commentator"),
        Actor("hermon", "Sylvia Hermon", kind="mp", aliases=("Lady Hermon",)),
        Actor("davey", "Ed Davey", kind="mp", external_ids={"parliament": "188"}),
        Actor("ynys", "Albert Owen", kind="mp", constituency="Ynys Môn"),
    ]
)


@pytest.mark.parametrize(
    ("name", "seat", "member_id", "actor", "method"),
    [
        ("Ann Coffey", "Stockport", "4048", "coffey-a", "parliament-id"),
        ("Someone Else", "", "4048", "coffey-a", "parliament-id"),  # the id decides
        ("Rt Hon Dame Margaret Beckett MP", "Derby South", None, "beckett", "name+constituency"),
        ("Beckett, Margaret", "", None, "beckett", "name"),
        ("Th?r?se Coffey", "Suffolk Coastal", None, "coffey-t", "name+constituency"),
        ("THERESE COFFEY", "", None, "coffey-t", "name"),
        ("Angela Smith", "Penistone and Stocksbridge", None, "smith-p", "name+constituency"),
        ("Angela Smith", "Basildon", None, "smith-b", "name+constituency"),
        ("Lady Hermon", "North Down", None, "hermon", "name"),
        ("Albert Owen", "Ynys M?n", None, "ynys", "name+constituency"),
        ("Ann Coffey", "Stockport", None, "coffey-a", "name"),
    ],
)
def test_members_resolve(
    name: str, seat: str, member_id: str | None, actor: str, method: str
) -> None:
    match = MemberResolver(ROSTER).resolve(name, seat, member_id)
    assert (match.actor, match.method) == (actor, method)


@pytest.mark.parametrize(
    ("name", "seat", "member_id", "method", "note"),
    [
        ("Angela Smith", "", None, "ambiguous", "2 roster actors match: smith-b|smith-p"),
        ("Chris Evans", "Islwyn", None, "ambiguous", "twin-1|twin-2"),
        ("Angela Smith", "Leeds", None, "unresolved", "for another constituency"),
        ("Ed Davey", "Kingston", "999", "unresolved", "davey (member id 188), for another member"),
        ("Nobody Known", "", None, "unresolved", "no roster actor has this name"),
        ("Hermon", "", None, "unresolved", "no roster actor"),  # a bare surname is not a name
    ],
)
def test_members_that_do_not_resolve_say_why(
    name: str, seat: str, member_id: str | None, method: str, note: str
) -> None:
    match = MemberResolver(ROSTER).resolve(name, seat, member_id)
    assert match.actor is None and match.method == method
    assert note in match.note


def test_name_folding_and_keys() -> None:
    assert name_keys("Sir Vince Cable") == ("sir vince cable", "vince cable")
    assert name_keys("Mr Speaker") == ("mr speaker",)
    assert name_keys("Stephen Kinnock (Aberavon)") == ("stephen kinnock",)
    assert member_key("Dr Sarah Wollaston", "Totnes") == "name:sarah wollaston|totnes"
    assert member_key("x", "y", " 12 ") == "id:12"
    assert label_matches("Ynys M?n", "Ynys Môn") and not label_matches("Ynys M?n", "Ynys Mon Extra")
    assert canonical_labels(["Sinn F?in", "Sinn Féin", "Sinn Fein"])["Sinn F?in"] == "Sinn Fein"
    assert canonical_labels(["X?", "Xa", "Xb"])["X?"] == "X?"  # two candidates: left alone


def test_the_report_counts_divisions_and_lists_candidates() -> None:
    rows = [
        ("k1", "Angela Smith", "", None, "d1"),
        ("k1", "Angela Smith", "", None, "d2"),
        ("k1", "Angela Smith", "", None, "d2"),
        ("k2", "Nobody Known", "Nowhere", None, "d1"),
        ("k3", "Ann Coffey", "Stockport", "4048", "d1"),
    ]
    resolution = resolve_members(rows, ROSTER)
    assert resolution.actors == {"k3": "coffey-a"}
    assert resolution.unresolved == ["k1", "k2"]
    entries = {(e.category, e.key): e for e in resolution.report.entries()}
    ambiguous = entries[("name", "Angela Smith")]
    assert ambiguous.count == 2 and ambiguous.examples == ("d1", "d2")
    assert "smith-b|smith-p" in ambiguous.note
    assert entries[("member", "Nobody Known (Nowhere)")].count == 1
    assert resolve_members(rows, None).report.entries() == []


def test_unresolved_members_stay_in_the_votes(store: Store) -> None:
    import_division_file(store, FIXTURES / "Division655.csv")
    votes = votes_frame(store, ROSTER)
    assert len(votes) == 649  # nobody dropped
    resolved = votes.dropna(subset=["actor"])
    assert dict(zip(resolved["name"], resolved["actor"], strict=True)) == {
        "Margaret Beckett": "beckett",
        "Th?r?se Coffey": "coffey-t",
        "Ann Coffey": "coffey-a",
        "Lady Hermon": "hermon",
        "Albert Owen": "ynys",
        "Angela Smith": "smith-p",
    }
    # "Edward Davey" is not "Ed Davey" without an alias: unresolved, still counted
    assert votes.loc[votes["name"] == "Edward Davey", "actor"].tolist() == [None]
    assert votes["member"].nunique() == 649


def test_member_index_joins_name_keys_to_member_ids() -> None:
    csv_division = Division(
        "commons:2019-01-01/1",
        "commons",
        "1",
        None,
        votes=(
            Vote(
                member_key("Th?r?se Coffey", "Suffolk Coastal"),
                "Th?r?se Coffey",
                "aye",
                "Con",
                "Suffolk Coastal",
            ),
            Vote(member_key("Angela Smith", "Basildon"), "Angela Smith", "no", "Lab", "Basildon"),
            Vote(member_key("Only Here", "Nowhere"), "Only Here", "no", "Lab", "Nowhere"),
        ),
    )
    api_division = Division(
        "commons:2019-01-02/2",
        "commons",
        "2",
        None,
        votes=(
            Vote("id:7", "Thérèse Coffey", "no", "Con", "Suffolk Coastal", member_id="7"),
            Vote("id:8", "Angela Smith", "no", "Lab", "Penistone and Stocksbridge", member_id="8"),
        ),
    )
    index = MemberIndex.from_divisions([csv_division, api_division], ROSTER)
    key = csv_division.votes
    assert index.member("commons", key[0].member) == "commons:id:7"
    # same name, another seat: not the same member
    assert index.member("commons", key[1].member) == "commons:name:angela smith|basildon"
    assert index.member("commons", key[2].member) == "commons:name:only here|nowhere"
    assert index.actor("commons:id:7") == "coffey-t"
    assert index.actor("commons:id:8") == "smith-p"
    assert index.actor("commons:name:angela smith|basildon") == "smith-b"
    assert index.party("Con") == "Con"


def test_the_roster_keeps_constituencies_and_member_ids(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "id,name,kind,party,seat,parliament_id\n"
        "beckett,Margaret Beckett,mp,Labour,Derby South,357\n"
        "other,Someone,mp,Labour,,357\n",
        encoding="utf-8",
    )
    problems = [p for p in validate_roster(path) if p.is_error]
    assert len(problems) == 1 and "claimed by both" in problems[0].message
    header = "id,name,kind,party,seat,parliament_id\n"
    path.write_text(header + "beckett,Margaret Beckett,mp,Labour,Derby South,357\n", "utf-8")
    roster = load_roster(path)
    actor = roster.actors["beckett"]
    assert actor.constituency == "Derby South" and actor.external_ids == {"parliament": "357"}
    again = load_roster(write_roster_csv(roster, tmp_path / "copy.csv"))
    assert again.actors["beckett"] == actor


def _project(tmp_path: Path) -> Path:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "roster.csv").write_text(
        "id,name,kind,party\nbeckett,Margaret Beckett,mp,Labour\n", encoding="utf-8"
    )
    (folder / "mapper.toml").write_text('[project]\nroster = "roster.csv"\n', encoding="utf-8")
    return folder / "mapper.toml"


def test_roster_import_adds_the_members_of_a_division_file_once(tmp_path: Path) -> None:
    project = _project(tmp_path)
    done = import_members(project, [FIXTURES / "Division655.csv"])
    assert (done.added, done.skipped) == (648, 1)  # Margaret Beckett is there already
    assert done.unclear == ["Th?r?se Coffey"]
    roster = load_roster(project.parent / "roster.csv")
    assert len(roster) == 649 and roster.actors["beckett"].constituency == ""
    abbott = roster.actors["diane-abbott"]
    assert (abbott.kind, abbott.party, abbott.constituency) == (
        "mp",
        "Labour",
        "Hackney North and Stoke Newington",
    )
    assert import_members(project, [FIXTURES / "Division658.csv"]).added == 0
    # the API's file knows member ids: nobody is added twice, everybody gains an id
    done = import_members(project, [FIXTURES / "api" / "divisions.jsonl"])
    assert (done.added, done.updated) == (0, 649)
    roster = load_roster(project.parent / "roster.csv")
    item = json.loads((FIXTURES / "api" / "division-655.json").read_text("utf-8"))
    abbott = next(m for m in item["Noes"] if m["Name"] == "Diane Abbott")
    assert roster.by_external_id("parliament", str(abbott["MemberId"])).id == "diane-abbott"
    assert import_members(project, [FIXTURES / "api" / "divisions.jsonl"]) == (0, 649, [], 0)


def test_roster_import_from_api_json_records_member_ids(tmp_path: Path) -> None:
    project = _project(tmp_path)
    item = json.loads((FIXTURES / "api" / "division-655.json").read_text("utf-8"))
    done = import_members(project, [FIXTURES / "api" / "division-655.json"])
    assert done.added == 648 and done.unclear == []
    roster = load_roster(project.parent / "roster.csv")
    coffey = next(m for m in item["Noes"] + item["NoVoteRecorded"] if m["Name"] == "Thérèse Coffey")
    actor = roster.by_external_id("parliament", str(coffey["MemberId"]))
    assert actor is not None and actor.name == "Thérèse Coffey"
    assert actor.constituency == "Suffolk Coastal"


def test_roster_import_command(tmp_path: Path) -> None:
    project = _project(tmp_path)
    export = tmp_path / "Division661.csv"
    shutil.copy(FIXTURES / "Division661.csv", export)
    args = ["roster", "import", str(export), "--divisions", "--project", str(project)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "648 members added, 1 already in the roster" in result.output
    assert "Th?r?se Coffey" in result.output
    result = runner.invoke(app, [*args[:2], str(tmp_path / "missing.csv"), *args[3:]])
    assert result.exit_code == 1 and "file not found" in result.output
