"""Divisions: the three real Commons exports, the API JSON, long tables, the store, the
per-division analysis and its writers, the frames and the commands.

Counts, party lines and rebels are recomputed in the tests from the raw rows of the
real exports (read with the csv module, not mapper's reader); planted records with
known lines and rebels vary in shape with the seed.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from mapper.analysis.divisions import division_summary, whip_groups
from mapper.analysis.strength import CODES
from mapper.cli import app
from mapper.collectors.divisions import (
    detect_format,
    division_from_api,
    import_division_file,
    iter_division_file,
    parse_vote,
    read_commons_csv,
)
from mapper.errors import ImportFormatError
from mapper.export import restore_cell
from mapper.records import Division, Post, Vote
from mapper.render.votes import REBEL_COLUMNS, write_divisions_md, write_rebels_csv
from mapper.store import Store
from mapper.votes import (
    DIVISION_COLUMNS,
    REBEL_FRAME_COLUMNS,
    VOTE_COLUMNS,
    division_summaries_of,
    divisions_frame,
    rebels_frame,
    votes_frame,
)
from tests.votes_support import (
    EXPORTS,
    FIXTURES,
    expected_lines,
    expected_rebels,
    planted,
    raw_export,
)

API = FIXTURES / "api"
runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "store.sqlite") as st:
        yield st


def summary_of(store: Store, uid: str):
    return division_summaries_of(store, divisions=[uid])[0]


def api_divisions() -> list[dict]:
    return [json.loads(line) for line in (API / "divisions.jsonl").read_text("utf-8").splitlines()]


# --------------------------------------------------------------------------- the real exports


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_counts_of_each_real_export_are_those_of_its_raw_rows(store: Store, name: str) -> None:
    raw = raw_export(FIXTURES / name)
    result = import_division_file(store, FIXTURES / name)
    assert (result.divisions, result.votes, result.quarantined) == (1, len(raw.rows), 0)
    s = summary_of(store, EXPORTS[name])
    tally = Counter(r["Vote"] for r in raw.rows)
    assert (s.ayes, s.noes, s.no_vote) == (tally["Aye"], tally["No"], tally["No Vote Recorded"])
    assert (s.declared_ayes, s.declared_noes) == (raw.ayes, raw.noes)
    assert s.counts_match is True
    assert {w.code for w in s.warnings} <= {"party-line-split"}
    assert s.margin == abs(raw.ayes - raw.noes)
    assert s.result == ("aye" if raw.ayes > raw.noes else "no")
    assert s.number == raw.number and s.title == raw.title
    day, month, year = raw.date.split("/")
    assert s.date == datetime(int(year), int(month), int(day), tzinfo=UTC)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_party_lines_and_rebels_of_each_real_export_match_the_raw_rows(
    store: Store, name: str
) -> None:
    raw = raw_export(FIXTURES / name)
    import_division_file(store, FIXTURES / name)
    s = summary_of(store, EXPORTS[name])
    lines = expected_lines(raw.rows)
    assert {p.party: p.line for p in s.parties if p.line} == lines
    assert {r.name for r in s.rebels} == expected_rebels(raw.rows)
    for p in s.parties:
        rows = [r for r in raw.rows if r["Party"] == p.party]
        tally = Counter(r["Vote"] for r in rows)
        assert (p.members, p.ayes, p.noes, p.no_vote) == (
            len(rows),
            tally["Aye"],
            tally["No"],
            tally["No Vote Recorded"],
        )
        assert p.turnout == pytest.approx((tally["Aye"] + tally["No"]) / len(rows))
        if p.line is None:
            assert p.reason and p.rebels == 0
    # not voting is never rebelling
    no_vote = {r["Member"] for r in raw.rows if r["Vote"] == "No Vote Recorded"}
    assert not no_vote & {r.name for r in s.rebels}


def test_the_labour_rebellion_on_the_confirmatory_vote_is_found(store: Store) -> None:
    # 27 March 2019, motion M: reported at the time as 27 Labour MPs voting against
    import_division_file(store, FIXTURES / "Division661.csv")
    s = summary_of(store, "commons:2019-03-27/392")
    labour = s.party("Labour")
    assert labour is not None and labour.line == "aye" and labour.rebels == 27
    assert {r.party for r in s.rebels} == {"Labour", "Conservative"}
    assert all(r.vote == "no" for r in s.rebels if r.party == "Labour")


@pytest.mark.parametrize(
    ("edit", "listed", "declared"),
    [
        ("Aye Count: 268", "268 ayes", "Aye Count: 270"),
        ("Noes Count: 295", "295 noes", "Noes Count: 290"),
    ],
)
def test_a_real_export_with_an_edited_count_is_flagged(
    store: Store, tmp_path: Path, edit: str, listed: str, declared: str
) -> None:
    edited = tmp_path / "Division661-edited.csv"
    edited.write_bytes(
        (FIXTURES / "Division661.csv").read_bytes().replace(edit.encode(), declared.encode())
    )
    import_division_file(store, edited)
    s = summary_of(store, "commons:2019-03-27/392")
    assert s.counts_match is False
    mismatch = [w for w in s.warnings if w.code == "division-count-mismatch"]
    assert len(mismatch) == 1
    message = mismatch[0].message
    assert "392" in message and "Confirmatory public vote" in message
    assert listed in message and declared.split(": ")[1] in message
    # the unedited export is not flagged
    import_division_file(store, FIXTURES / "Division661.csv")
    assert summary_of(store, "commons:2019-03-27/392").counts_match is True


def test_the_question_marks_of_the_export_are_kept_and_matched(store: Store) -> None:
    division = read_commons_csv(FIXTURES / "Division655.csv", on_bad=pytest.fail)
    assert division is not None
    coffey = next(v for v in division.votes if v.constituency == "Suffolk Coastal")
    assert coffey.name == "Th?r?se Coffey"
    assert {v.party for v in division.votes} >= {"Sinn F?in"}
    begley = next(v for v in division.votes if v.constituency == "West Tyrone")
    assert begley.name == "Órfhlaith Begley"


# --------------------------------------------------------------------------- API JSON


def test_api_json_gives_the_same_division_with_tellers_and_member_ids(store: Store) -> None:
    item = json.loads((API / "division-655.json").read_text("utf-8"))
    result = import_division_file(store, API / "division-655.json")
    assert (result.format, result.divisions, result.quarantined) == ("commons-json", 1, 0)
    division = store.get_division("commons:2019-03-27/386")
    assert division is not None and division.format == "commons-api"
    assert division.division_id == "655"
    tellers = {v.name: v.vote for v in division.votes if v.teller}
    assert tellers == {m["Name"]: "aye" for m in item["AyeTellers"]} | {
        m["Name"]: "no" for m in item["NoTellers"]
    }
    s = summary_of(store, division.uid)
    assert (
        (s.ayes, s.noes)
        == (item["AyeCount"], item["NoCount"])
        == (len(item["Ayes"]), len(item["Noes"]))
    )
    assert (s.aye_tellers, s.no_tellers) == (2, 2) and s.counts_match is True
    ids = {v.member_id for v in division.votes}
    assert None not in ids and len(ids) == len(division.votes)
    assert any(v.name == "Thérèse Coffey" for v in division.votes)
    # London time to UTC: 27 March 2019 was still GMT
    assert division.date == datetime(2019, 3, 27, 19, tzinfo=UTC)


def test_api_times_are_london_time(tmp_path: Path) -> None:
    item = api_divisions()[0]
    item["Date"] = "2019-07-02T19:00:00"  # summer: BST is UTC+1
    division = division_from_api(item)
    assert division.date == datetime(2019, 7, 2, 18, tzinfo=UTC)
    assert division.uid == "commons:2019-07-02/386"
    item["Date"] = "2019-07-02T00:30:00"  # after midnight: the sitting date as written
    assert division_from_api(item).uid == "commons:2019-07-02/386"


def test_a_json_array_and_jsonl_of_divisions_read_alike(store: Store, tmp_path: Path) -> None:
    array = tmp_path / "divisions.json"
    array.write_text(json.dumps(api_divisions()), encoding="utf-8")
    first = import_division_file(store, array)
    second = import_division_file(store, API / "divisions.jsonl")
    assert (first.divisions, first.added) == (3, 3)
    assert (second.divisions, second.duplicates, second.added) == (3, 3, 0)
    assert store.count_divisions() == 3 and store.count_votes() == 3 * 649


def test_the_csv_and_the_api_json_of_one_division_are_one_division(store: Store) -> None:
    csv_result = import_division_file(store, FIXTURES / "Division655.csv")
    api_result = import_division_file(store, API / "division-655.json")
    assert (csv_result.added, api_result.replaced) == (1, 1)
    assert store.count_divisions() == 1
    again = import_division_file(store, FIXTURES / "Division655.csv", force=True)
    assert again.kept == 1  # the API's copy (ids, tellers) stays
    assert store.get_division("commons:2019-03-27/386").format == "commons-api"


def test_members_keep_one_key_across_formats(store: Store, tmp_path: Path) -> None:
    one = tmp_path / "658.json"
    one.write_text(json.dumps(api_divisions()[1]), encoding="utf-8")
    import_division_file(store, FIXTURES / "Division655.csv")  # names only
    import_division_file(store, one)  # member ids
    votes = votes_frame(store)
    assert votes["member"].nunique() == 649
    assert votes["member"].str.startswith("commons:id:").all()
    coffey = votes[votes["constituency"] == "Suffolk Coastal"]
    assert coffey["member"].nunique() == 1
    assert set(coffey["name"]) == {"Th?r?se Coffey", "Thérèse Coffey"}
    assert set(votes.loc[votes["constituency"] == "West Tyrone", "party"]) == {"Sinn Féin"}


# --------------------------------------------------------------------------- long tables


@pytest.mark.parametrize("seed", range(6))
def test_planted_rebels_and_lines_are_found(store: Store, tmp_path: Path, seed: int) -> None:
    truth = planted(seed)
    path = truth.write(tmp_path / f"votes-{seed}.csv")
    result = import_division_file(store, path, parliament="testland")
    assert result.format == "table" and result.quarantined == 0
    assert result.divisions == len(truth.lines)
    summaries = {s.number: s for s in division_summaries_of(store)}
    assert set(summaries) == set(truth.lines)
    for number, lines in truth.lines.items():
        s = summaries[number]
        assert s.division.startswith("testland:2020-")
        found = {p.party: p.line for p in s.parties if p.line}
        assert found == lines  # Tiny, Even and Independent have no line
        assert {r.name for r in s.rebels} == truth.rebels[number]
        assert (s.ayes, s.noes) == truth.counts[number]
        assert s.aye_tellers + s.no_tellers == truth.tellers[number]
        assert not any(r.teller for r in s.rebels)  # planted tellers are loyal
        for party, absent in truth.no_vote[number].items():
            assert s.party(party).no_vote == absent
        assert s.party("Tiny").reason.startswith("fewer than 3")
        assert s.party("Even").reason.startswith("split evenly")
        assert s.party("Independent").reason.startswith("no whip")
        assert s.party("Red (Co-op)") is None  # counted with Red
        assert "Red (Co-op)" not in {r.party for r in s.rebels}


def test_proxies_and_tellers_of_a_table_are_recorded(store: Store, tmp_path: Path) -> None:
    truth = planted(2)
    import_division_file(store, truth.write(tmp_path / "t.csv"))
    votes = votes_frame(store)
    proxied = {(r[0], r[2]) for r in truth.rows if r[8]}
    assert proxied and set(
        zip(
            votes.loc[votes.proxy != "", "name"],
            votes.loc[votes.proxy != "", "division"].str.rsplit("/", n=1).str[1],
            strict=True,
        )
    ) == {(n, d) for n, d in proxied}
    assert votes["teller"].sum() == sum(truth.tellers.values())


def test_table_headers_and_vote_words_are_tolerant(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bundestag.csv"
    path.write_text(
        "Abgeordneter;Fraktion;Abstimmung;Datum;Titel;Vote\nx;y;z;w;v;u\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFormatError) as info:
        import_division_file(store, path)
    assert "'member' column" in info.value.one_line() and "bundestag.csv" in info.value.one_line()
    assert parse_vote("Yea") == ("aye", False) and parse_vote("NAY") == ("no", False)
    assert parse_vote("not_voting") == ("no_vote", False)
    assert parse_vote("Aye (teller)") == ("aye", True)
    assert parse_vote("tellers for the noes") == ("no", True)
    assert parse_vote("Teller") is None and parse_vote("") is None and parse_vote("1") is None


# --------------------------------------------------------------------------- bad input


def _cut(src: Path, dest: Path, *, drop_rows: int, mid_row: bool) -> Path:
    data = src.read_bytes()
    lines = data.split(b"\r\n")
    kept = lines[: len(lines) - drop_rows]
    out = b"\r\n".join(kept)
    if mid_row:
        out += b"\r\n" + lines[len(lines) - drop_rows][:14]
    dest.write_bytes(out)
    return dest


def test_a_truncated_export_is_quarantined_and_loses_nothing(store: Store, tmp_path: Path) -> None:
    import_division_file(store, FIXTURES / "Division655.csv")
    before = votes_frame(store)
    cut = _cut(FIXTURES / "Division655.csv", tmp_path / "cut.csv", drop_rows=40, mid_row=True)
    result = import_division_file(store, cut)
    assert result.quarantined == 1 and result.kept == 1
    line = len(cut.read_bytes().split(b"\r\n"))
    assert result.problems == [
        f"{cut}:{line}: truncated row (1 of 5 columns): the export ends in the middle of a row"
    ]
    quarantined = store.quarantined(cut.resolve())
    last = cut.read_bytes().decode("utf-8").split("\r\n")[-1]
    assert [(q["line"], q["raw"]) for q in quarantined] == [(line, last)]
    pd.testing.assert_frame_equal(votes_frame(store), before)  # nothing lost


def test_a_truncated_export_alone_is_stored_flagged(store: Store, tmp_path: Path) -> None:
    cut = _cut(FIXTURES / "Division661.csv", tmp_path / "cut.csv", drop_rows=100, mid_row=False)
    result = import_division_file(store, cut)
    assert (result.added, result.quarantined) == (1, 0)
    s = summary_of(store, "commons:2019-03-27/392")
    codes = {w.code for w in s.warnings}
    assert {"division-count-mismatch", "division-incomplete"} <= codes
    assert s.complete is False
    # the full export completes it
    assert import_division_file(store, FIXTURES / "Division661.csv").replaced == 1
    assert summary_of(store, "commons:2019-03-27/392").counts_match is True


def _edit_row(src: Path, dest: Path, member: str, new: str) -> tuple[Path, int]:
    lines = src.read_bytes().decode("utf-8").split("\r\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(f'"{member}"'))
    lines[at] = new
    dest.write_text("\r\n".join(lines), encoding="utf-8", newline="")
    return dest, at + 1


def test_an_unknown_vote_value_is_quarantined_with_its_line(store: Store, tmp_path: Path) -> None:
    bad, line = _edit_row(
        FIXTURES / "Division658.csv",
        tmp_path / "bad.csv",
        "Diane Abbott",
        '"Diane Abbott","Labour","Hackney North and Stoke Newington","Maybe",""',
    )
    result = import_division_file(store, bad)
    assert result.quarantined == 1 and result.votes == 648
    assert result.problems[0].startswith(
        f"{bad}:{line}: unknown vote value 'Maybe' for Diane Abbott"
    )
    s = summary_of(store, "commons:2019-03-27/389")
    assert not s.complete and "division-incomplete" in {w.code for w in s.warnings}


def test_a_member_listed_twice_is_quarantined(store: Store, tmp_path: Path) -> None:
    text = (FIXTURES / "Division655.csv").read_bytes().decode("utf-8")
    row = '"Peter Aldous","Conservative","Waveney","No",""'
    doubled = tmp_path / "doubled.csv"
    doubled.write_text(text + "\r\n" + row.replace('"No"', '"Aye"'), encoding="utf-8", newline="")
    first = text.split("\r\n").index(row) + 1
    result = import_division_file(store, doubled)
    assert result.quarantined == 1
    assert (
        f"member Peter Aldous listed twice in division 386 (first on line {first}"
        in (result.problems[0])
    )
    assert "a different vote" in result.problems[0]
    division = store.get_division("commons:2019-03-27/386")
    assert next(v for v in division.votes if v.name == "Peter Aldous").vote == "no"


def test_a_division_without_votes_is_quarantined(store: Store, tmp_path: Path) -> None:
    raw = raw_export(FIXTURES / "Division655.csv")
    head = (
        (FIXTURES / "Division655.csv").read_bytes().decode("utf-8").split("\r\n")[: raw.header_line]
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("\r\n".join(head) + "\r\n", encoding="utf-8", newline="")
    result = import_division_file(store, empty)
    assert (result.divisions, result.quarantined) == (0, 1)
    assert result.problems == [
        f"{empty}:{raw.header_line}: division 386 of 2019-03-27 has no votes"
    ]
    item = api_divisions()[0]
    for key in ("Ayes", "Noes", "AyeTellers", "NoTellers", "NoVoteRecorded"):
        item[key] = []
    none = tmp_path / "none.json"
    none.write_text(json.dumps(item), encoding="utf-8")
    result = import_division_file(store, none)
    assert result.quarantined == 1 and "has no votes" in result.problems[0]
    assert store.count_divisions() == 0


def test_the_api_error_bodies_are_quarantined_with_their_message(store: Store) -> None:
    import_division_file(store, API / "divisions.jsonl")
    for name, words in (
        ("error-400.json", "One or more validation errors occurred"),
        ("error-500.json", "An error has occurred"),
    ):
        result = import_division_file(store, API / name)
        assert result.quarantined == 1 and result.divisions == 0
        assert result.problems[0].startswith(f"{API / name}:1: an API error body")
        assert words in result.problems[0]
    assert store.count_votes() == 3 * 649


def test_a_search_listing_does_not_replace_the_divisions(store: Store) -> None:
    import_division_file(store, API / "divisions.jsonl")
    result = import_division_file(store, API / "search-2019-03-27.json")
    assert result.quarantined == 3 and result.divisions == 0
    assert "a search listing, not the division itself" in result.problems[0]
    assert store.count_votes() == 3 * 649


def test_a_truncated_json_document_and_a_broken_jsonl_line(store: Store, tmp_path: Path) -> None:
    text = (API / "division-655.json").read_text("utf-8")
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    result = import_division_file(store, cut)
    assert (result.divisions, result.quarantined) == (0, 1)
    assert "truncated or broken JSON document" in result.problems[0]
    assert result.problems[0].startswith(f"{cut}:1: ")
    lines = (API / "divisions.jsonl").read_text("utf-8").splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([lines[0], lines[1][:500], lines[2]]) + "\n", encoding="utf-8")
    result = import_division_file(store, broken)
    assert (result.divisions, result.quarantined) == (2, 1)
    assert result.problems[0].startswith(f"{broken}:2: invalid JSON")


def test_table_rows_that_cannot_be_read_are_quarantined(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_text(
        "member,party,division,date,title,vote\n"
        "Ann,Red,1,2021-02-03,Bill,aye\n"
        "Bob,Red,1,2021-02-03,Bill,perhaps\n"
        "Cat,Red,1,2021-02-31,Bill,no\n"
        "Ann,Red,1,2021-02-03,Bill,no\n"
        "Dan,Red,1,2021-02-03,Bill,aye\n",
        encoding="utf-8",
    )
    result = import_division_file(store, path)
    assert result.divisions == 1 and result.votes == 2 and result.quarantined == 3
    reasons = [p.split(": ", 1)[1] for p in result.problems]
    assert reasons[0].startswith("unknown vote value 'perhaps' for Bob")
    assert reasons[1] == "unreadable date '2021-02-31'"
    assert reasons[2].startswith("member Ann listed twice in division 1 (first on line 2")
    assert [p.split(": ", 1)[0] for p in result.problems] == [f"{path}:{n}" for n in (3, 4, 5)]


def test_not_a_division_file_fails_with_one_line(store: Store, tmp_path: Path) -> None:
    empty = tmp_path / "nothing.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ImportFormatError, match="empty file"):
        import_division_file(store, empty)
    headless = tmp_path / "headless.csv"
    headless.write_text("Division Number: 3\r\nfoo,bar\r\n", encoding="utf-8")
    with pytest.raises(ImportFormatError) as info:
        import_division_file(store, headless)
    assert "no member table" in info.value.one_line() and "headless.csv" in info.value.one_line()
    with pytest.raises(ImportFormatError, match="unknown division format"):
        import_division_file(store, FIXTURES / "Division655.csv", format="xml")


# --------------------------------------------------------------------------- the store


def test_reimporting_adds_nothing_and_a_corrected_export_replaces(
    store: Store, tmp_path: Path
) -> None:
    copy = tmp_path / "Division658.csv"
    shutil.copy(FIXTURES / "Division658.csv", copy)
    assert import_division_file(store, copy).added == 1
    assert import_division_file(store, copy).skipped_unchanged
    assert import_division_file(store, copy, force=True).duplicates == 1
    assert store.count_votes() == 649
    row = '"Diane Abbott","Labour","Hackney North and Stoke Newington","Aye",""'
    text = copy.read_bytes().decode("utf-8")
    assert row in text
    # the record corrected: she voted no (and the counts say so)
    corrected = text.replace(row, row.replace('"Aye"', '"No"'))
    corrected = corrected.replace("Aye Count: 265", "Aye Count: 264")
    corrected = corrected.replace("Noes Count: 271", "Noes Count: 272")
    copy.write_bytes(corrected.encode("utf-8"))
    result = import_division_file(store, copy)
    assert result.replaced == 1 and store.count_votes() == 649 and store.count_divisions() == 1
    division = store.get_division("commons:2019-03-27/389")
    assert next(v for v in division.votes if v.name == "Diane Abbott").vote == "no"
    assert (division.aye_count, division.no_count) == (264, 272)
    # a corrected row that leaves the listed votes short of the counts does not replace
    fixed = row.replace('"Aye"', '"No"')
    short = corrected.replace(fixed, fixed.replace('"No"', '"No Vote Recorded"'))
    copy.write_bytes(short.encode("utf-8"))
    assert import_division_file(store, copy).kept == 1


def test_divisions_round_trip_through_the_store(store: Store) -> None:
    for division, _raw in iter_division_file(FIXTURES / "Division661.csv"):
        store.add_divisions([division])
        assert store.get_division(division.uid) == division
    for division, raw in iter_division_file(API / "division-655.json"):
        store.add_divisions([(division, raw)])
        assert store.get_division(division.uid) == division


def test_an_existing_store_gets_the_vote_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with Store(path) as st:
        st.add_posts([Post(uid="x:1", platform="x", author="a", created_at=None, text="hi")])
    conn = sqlite3.connect(path)  # a store from before the vote tables
    conn.execute("DROP TABLE votes")
    conn.execute("DROP TABLE divisions")
    conn.commit()
    conn.close()
    with Store(path) as st:
        assert st.count_posts() == 1 and st.count_divisions() == 0
        import_division_file(st, FIXTURES / "Division655.csv")
    with Store(path) as st:
        assert st.count_divisions() == 1 and st.count_posts() == 1
        assert st.integrity_check() == "ok"


# --------------------------------------------------------------------------- analysis


def test_whip_groups_and_summary_edge_cases() -> None:
    groups = whip_groups(["Labour", "Labour (Co-op)", "Plaid (Wales)", "SNP"])
    assert groups == {
        "Labour": "Labour",
        "Labour (Co-op)": "Labour",
        "Plaid (Wales)": "Plaid (Wales)",
        "SNP": "SNP",
    }
    votes = tuple(
        Vote(f"name:{i}", f"M{i}", v, "Red", teller=(i == 0))
        for i, v in enumerate(["no", "aye", "aye", "no", "no", "no_vote"])
    )
    s = division_summary(Division("p:9", "p", "9", None, aye_count=2, no_count=2, votes=votes))
    red = s.party("Red")
    # the teller counts for the party's line but not in the declared counts
    assert (red.ayes, red.noes, red.tellers, red.line) == (2, 3, 1, "no")
    assert (s.ayes, s.noes, s.no_tellers, s.counts_match) == (2, 2, 1, True)
    assert {r.name for r in s.rebels} == {"M1", "M2"}
    assert s.result == "tie" and s.margin == 0
    assert {w.code for w in s.warnings} == {"party-line-split"}  # 3 of 5 is a split
    assert all(code in CODES for code in ("division-count-mismatch", "division-incomplete"))
    with pytest.raises(ValueError):
        division_summary(Division("p:9", "p", "9", None, votes=votes), min_voting=0)


def test_turnout_is_unknown_when_only_voters_are_listed(store: Store, tmp_path: Path) -> None:
    item = api_divisions()[2]
    item["NoVoteRecorded"] = []
    path = tmp_path / "voters-only.json"
    path.write_text(json.dumps(item), encoding="utf-8")
    import_division_file(store, path)
    s = summary_of(store, "commons:2019-03-27/392")
    assert s.lists_non_voters is False
    assert all(p.turnout is None for p in s.parties)


# --------------------------------------------------------------------------- writers and frames


HOSTILE = '=HYPERLINK("http://evil")|<img src=x onerror=alert(1)>'


def test_rebels_csv_and_divisions_md_are_safe_and_complete(store: Store, tmp_path: Path) -> None:
    votes = [Vote(f"name:{i}", f"Loyal {i}", "aye", "Red") for i in range(5)]
    votes.append(Vote("name:h", HOSTILE, "no", "Red", constituency="Somewhere"))
    store.add_divisions(
        [
            Division(
                "p:2021-01-01/1",
                "p",
                "1",
                datetime(2021, 1, 1, tzinfo=UTC),
                "[x](http://e)",
                votes=tuple(votes),
            )
        ]
    )
    summaries = division_summaries_of(store)
    csv_path = write_rebels_csv(summaries, tmp_path / "rebels.csv")
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    assert list(rows[0]) == list(REBEL_COLUMNS)
    assert rows[0]["member"].startswith("'=")  # a formula is not run
    assert restore_cell(rows[0]["member"]) == HOSTILE
    assert (rows[0]["vote"], rows[0]["party_line"], rows[0]["party"]) == ("no", "aye", "Red")
    md = write_divisions_md(summaries, tmp_path / "divisions.md").read_text(encoding="utf-8")
    assert "<img" not in md and "&lt;img" in md
    assert "[x](http" not in md and "\\[x\\](http" in md  # no link from a title
    assert "\\|" in md  # a name cannot break the table
    assert "Rebels (1)" in md and "Result: **aye** by 4" in md
    empty = write_rebels_csv([], tmp_path / "none.csv").read_text(encoding="utf-8")
    assert list(csv.reader(io.StringIO(empty))) == [list(REBEL_COLUMNS)]


def test_frames_have_fixed_typed_columns_even_when_empty(store: Store) -> None:
    for frame, columns in (
        (votes_frame(store), VOTE_COLUMNS),
        (divisions_frame(store), DIVISION_COLUMNS),
        (rebels_frame(store), REBEL_FRAME_COLUMNS),
    ):
        assert tuple(frame.columns) == columns and len(frame) == 0
        assert str(frame["date"].dtype) == "datetime64[ns, UTC]"
    import_division_file(store, FIXTURES / "Division655.csv")
    import_division_file(store, API / "divisions.jsonl")
    votes = votes_frame(store)
    assert len(votes) == 3 * 649 and str(votes["date"].dtype) == "datetime64[ns, UTC]"
    assert set(votes["vote"]) == {"aye", "no", "no_vote"} and votes["teller"].dtype == bool
    divisions = divisions_frame(store)
    assert list(divisions["division"]) == sorted(EXPORTS.values())
    assert divisions["counts_match"].tolist() == [True, True, True]
    rebels = rebels_frame(store)
    assert len(rebels) == divisions["rebels"].sum() > 0
    assert set(rebels["member"]) <= set(votes["member"])


# --------------------------------------------------------------------------- commands


def test_votes_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    files = [str(FIXTURES / name) for name in sorted(EXPORTS)]
    result = runner.invoke(app, ["votes", "import", *files, "--store", db, "--json"])
    assert result.exit_code == 0, result.output
    assert [r["added"] for r in json.loads(result.stdout)] == [1, 1, 1]
    result = runner.invoke(app, ["votes", "divisions", "--store", db, "--out", str(tmp_path)])
    assert result.exit_code == 0 and "commons:2019-03-27/392" in result.stdout
    assert (tmp_path / "divisions.md").exists()
    result = runner.invoke(
        app, ["votes", "rebels", "--store", db, "-d", "commons:2019-03-27/392", "--json"]
    )
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 35
    bad = tmp_path / "bad.csv"
    bad.write_text("Division Number: 1\r\n", encoding="utf-8")
    result = runner.invoke(app, ["votes", "import", str(bad), "--store", db])
    assert result.exit_code == 1 and "no member table" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_project_lists_divisions_and_the_pipeline_writes_their_tables(tmp_path: Path) -> None:
    from mapper.pipeline import has_divisions, import_sources, write_vote_outputs
    from mapper.project import check_project, load_project

    folder = tmp_path / "p"
    folder.mkdir()
    for name in EXPORTS:
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "roster.csv").write_text(
        "id,name,kind,party,constituency,parliament\n"
        "beckett,Dame Margaret Beckett,mp,Labour,Derby South,\n",
        encoding="utf-8",
    )
    (folder / "mapper.toml").write_text(
        '[project]\nname = "votes"\nroster = "roster.csv"\noutput = "out"\n\n'
        '[[sources]]\ntype = "divisions"\npath = "Division*.csv"\nformat = "commons-csv"\n',
        encoding="utf-8",
    )
    assert [p for p in check_project(folder / "mapper.toml") if p.is_error] == []
    project = load_project(folder / "mapper.toml")
    assert has_divisions(project)
    with Store(project.store) as st:
        imports = import_sources(project, st)
        assert [i["added"] for i in imports] == [1, 1, 1]
        outputs = write_vote_outputs(project, st)
    assert {"rebels.csv", "divisions.md", "unresolved-members.csv"} <= set(outputs.paths)
    # three divisions are too few for co-voting: the tables are written, and say so
    assert outputs.covoting is not None and outputs.covoting.graph.number_of_edges() == 0
    assert "covoting.html" not in outputs.paths
    assert "covoting-too-few-divisions" in {w.code for w in outputs.warnings}
    assert outputs.summary()["divisions"] == 3
    assert outputs.summary()["rebel_votes"] == sum(len(s.rebels) for s in outputs.summaries)
    assert (
        outputs.members.actor(
            outputs.members.member("commons", "name:margaret beckett|derby south")
        )
        == "beckett"
    )
    assert outputs.summary()["unresolved_members"] == 648
    rebels = (project.output / "rebels.csv").read_text(encoding="utf-8")
    assert rebels.count("\n") == outputs.summary()["rebel_votes"] + 1


def test_mapper_run_on_a_project_of_divisions_only_writes_the_vote_tables(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mapper.cli import app

    folder = tmp_path / "p"
    folder.mkdir()
    for name in EXPORTS:
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "mapper.toml").write_text(
        '[project]\nname = "votes"\noutput = "out"\n\n'
        '[[sources]]\ntype = "divisions"\npath = "Division*.csv"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["run", str(folder / "mapper.toml")])
    assert result.exit_code == 0, result.output
    out = folder / "out"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["votes"]["divisions"] == 3
    assert {"rebels.csv", "divisions.md"} <= set(summary["outputs"])
    assert (out / "rebels.csv").read_text(encoding="utf-8").count("\n") == (
        summary["votes"]["rebel_votes"] + 1
    )


def test_detect_format() -> None:
    assert detect_format(FIXTURES / "Division655.csv") == "commons-csv"
    assert detect_format(API / "divisions.jsonl") == "commons-json"
    assert detect_format(API / "division-655.json") == "commons-json"


def test_a_table_cut_in_the_middle_of_a_row(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes(
        "\ufeffmember;party;division;vote\r\nAnn;Red;7;aye\r\nBob;Red;7;no\r\nCat;Re".encode()
    )
    result = import_division_file(store, path, parliament="senedd")
    assert (result.divisions, result.votes, result.quarantined) == (1, 2, 1)
    assert result.problems == [
        f"{path}:4: truncated row (2 of 4 columns): the file ends in the middle of a row"
    ]
    division = store.get_division("senedd:7")
    assert division is not None and not division.complete and division.date is None
