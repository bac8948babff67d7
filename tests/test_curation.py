"""Roster curation: suggestions, merges and bulk imports edit the roster safely."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mapper.curation import import_actors, merge_actors, suggestions, write_candidates
from mapper.errors import RosterError
from mapper.resolve import load_roster


def test_suggestions_rank_unresolved_handles_with_example_urls(demo_copy: Path) -> None:
    rows = suggestions(demo_copy, top=5)
    assert rows, "the demo has accounts outside the roster"
    assert rows[0]["key"] == "example_suspended"  # mentioned by every example account
    assert rows[0]["count"] >= rows[-1]["count"]
    assert all(r["kind"] != "provisional" for r in rows)
    assert rows[0]["examples"][0].startswith("https://x.com/")


def test_candidates_file_loads_as_a_roster_once_kinds_are_filled(
    demo_copy: Path, tmp_path: Path
) -> None:
    out = write_candidates(suggestions(demo_copy, top=3), tmp_path / "candidates.csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["x"] == "example_suspended" and rows[0]["kind"] == ""
    for r in rows:
        r["kind"] = "other"
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    roster = load_roster(out)
    assert roster.by_handle("x", "EXAMPLE_SUSPENDED") is not None


def test_merging_a_provisional_handle_resolves_it_on_the_next_build(demo_copy: Path) -> None:
    roster_path = demo_copy.parent / "roster.csv"
    before = roster_path.read_text(encoding="utf-8")
    note = merge_actors(demo_copy, "clive-lewis", "x:example_suspended")
    assert "clive-lewis" in note
    roster = load_roster(roster_path)
    assert roster.by_handle("x", "example_suspended").id == "clive-lewis"
    # untouched rows and the comment lines stay as the user wrote them
    after = roster_path.read_text(encoding="utf-8")
    assert after.splitlines()[:3] == before.splitlines()[:3]
    log = list(csv.DictReader((demo_copy.parent / "merges.csv").open(encoding="utf-8")))
    assert (log[-1]["kept"], log[-1]["merged"]) == ("clive-lewis", "x:example_suspended")
    assert all(r["key"] != "example_suspended" for r in suggestions(demo_copy, top=50))


def test_merging_two_roster_actors_moves_handles_and_removes_the_row(demo_copy: Path) -> None:
    merge_actors(demo_copy, "unite", "len-mccluskey")
    roster = load_roster(demo_copy.parent / "roster.csv")
    assert "len-mccluskey" not in roster.actors
    assert roster.by_handle("x", "LenMcCluskey").id == "unite"
    assert "Len McCluskey" in roster.actors["unite"].aliases


def test_merge_unknown_actor_is_a_clear_error_and_leaves_the_file(demo_copy: Path) -> None:
    roster_path = demo_copy.parent / "roster.csv"
    before = roster_path.read_bytes()
    with pytest.raises(RosterError, match="no actor 'nobody'"):
        merge_actors(demo_copy, "nobody", "x:someone")
    assert roster_path.read_bytes() == before


def test_import_with_a_column_mapping_adds_new_actors_once(demo_copy: Path, tmp_path: Path) -> None:
    mps = tmp_path / "mps.csv"
    mps.write_text(
        "Full name,Twitter,Party\n"
        "Jo Stevens,JoStevensLabour,Labour\n"
        "Clive Lewis,labourlewis,Labour\n"  # already there by handle
        "Jonathan Reynolds,jreynoldsMP,Labour\n",
        encoding="utf-8",
    )
    mapping = {"name": "Full name", "x": "Twitter", "party": "Party"}
    added, skipped = import_actors(demo_copy, mps, mapping, kind="mp")
    assert (added, skipped) == (2, 1)
    roster = load_roster(demo_copy.parent / "roster.csv")
    assert roster.actors["jo-stevens"].kind == "mp"
    assert roster.by_handle("x", "jostevenslabour").id == "jo-stevens"
    assert import_actors(demo_copy, mps, mapping, kind="mp") == (0, 3)


def test_import_names_a_missing_column(demo_copy: Path, tmp_path: Path) -> None:
    mps = tmp_path / "mps.csv"
    mps.write_text("Name\nA\n", encoding="utf-8")
    with pytest.raises(RosterError) as err:
        import_actors(demo_copy, mps, {"name": "Name", "x": "Handle"}, kind="mp")
    assert err.value.field == "x" and str(mps) in str(err.value)


def test_import_adds_a_column_for_a_mapped_field_and_empty_kind_means_other(
    demo_copy: Path, tmp_path: Path
) -> None:
    orgs = tmp_path / "orgs.csv"
    orgs.write_text("Name,Mastodon,Notes\nExample Trust,trust@example.social,x\n", "utf-8")
    roster_path = demo_copy.parent / "roster.csv"
    before = roster_path.read_text(encoding="utf-8").splitlines()[2]  # the header row
    added, _ = import_actors(
        demo_copy, orgs, {"name": "Name", "mastodon": "Mastodon", "notes": "Notes"}
    )
    assert added == 1
    assert roster_path.read_text(encoding="utf-8").splitlines()[2] == before + ",notes"
    actor = load_roster(roster_path).actors["example-trust"]
    assert actor.kind == "other"
    assert actor.handles["mastodon"] == ("trust@example.social",)
