"""Roster curation: suggestions, merges and bulk imports edit the roster safely."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mapper.curation import (
    ImportCounts,
    import_actors,
    merge_actors,
    suggestions,
    write_candidates,
)
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
    merge = merge_actors(demo_copy, "clive-lewis", "x:example_suspended")
    assert "clive-lewis" in merge.message
    assert merge.warnings and "no posts yet" in merge.warnings[0]  # nothing imported yet
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
    counts = import_actors(demo_copy, mps, mapping, kind="mp")
    assert (counts.added, counts.updated, counts.skipped) == (2, 0, 1)
    roster = load_roster(demo_copy.parent / "roster.csv")
    assert roster.actors["jo-stevens"].kind == "mp"
    assert roster.by_handle("x", "jostevenslabour").id == "jo-stevens"
    assert import_actors(demo_copy, mps, mapping, kind="mp") == ImportCounts(0, 0, 3)


def test_import_names_a_missing_column(demo_copy: Path, tmp_path: Path) -> None:
    mps = tmp_path / "mps.csv"
    mps.write_text("Name\nA\n", encoding="utf-8")
    with pytest.raises(RosterError) as err:
        import_actors(demo_copy, mps, {"name": "Name", "x": "Handle"}, kind="mp")
    assert err.value.field == "x" and str(mps) in str(err.value)


def test_import_fills_known_columns_and_empty_kind_means_other(
    demo_copy: Path, tmp_path: Path
) -> None:
    orgs = tmp_path / "orgs.csv"
    orgs.write_text("Name,Mastodon,Notes\nExample Trust,trust@example.social,x\n", "utf-8")
    roster_path = demo_copy.parent / "roster.csv"
    before = roster_path.read_text(encoding="utf-8").splitlines()[2]  # the header row
    counts = import_actors(demo_copy, orgs, {"name": "Name", "mastodon": "Mastodon"})
    assert counts.added == 1
    assert roster_path.read_text(encoding="utf-8").splitlines()[2] == before
    actor = load_roster(roster_path).actors["example-trust"]
    assert actor.kind == "other"
    assert actor.handles["mastodon"] == ("trust@example.social",)


# ------------------------------------------------------------ display names


def test_suggestions_and_candidates_carry_the_archives_display_names(
    demo_copy: Path, tmp_path: Path
) -> None:
    rows = suggestions(demo_copy, top=40)
    handles = {r["key"]: r for r in rows if r["kind"] == "handle" and r["platform"] == "x"}
    members = [k for k in handles if k.startswith("example_member_")]
    assert members, "the demo's example accounts are unresolved handles"
    for key in members:  # the archive's user objects say "Example account 7"
        assert handles[key]["name"] == f"Example account {int(key.rsplit('_', 1)[1])}"
    assert handles["example_suspended"]["name"] == ""  # never posts: no display name
    out = write_candidates(rows, tmp_path / "candidates.csv")
    cand = {r["x"]: r for r in csv.DictReader(out.open(encoding="utf-8")) if r["x"]}
    first = members[0]
    assert cand[first]["name"] == handles[first]["name"]
    assert cand[first]["id"] == handles[first]["name"].lower().replace(" ", "-")
    assert (cand["example_suspended"]["name"], cand["example_suspended"]["id"]) == (
        "example_suspended",
        "example-suspended",
    )


def _archive_project(tmp_path: Path, posts: list[dict[str, object]], roster: str = "") -> Path:
    import json

    (tmp_path / "a.jsonl").write_text(
        "".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8"
    )
    text = "[[sources]]\ntype = 'x-archive'\npath = 'a.jsonl'\n"
    if roster:
        (tmp_path / "roster.csv").write_text(roster, encoding="utf-8")
        text = "[project]\nroster = 'roster.csv'\n" + text
    project = tmp_path / "mapper.toml"
    project.write_text(text, encoding="utf-8")
    return project


def _tweet(i: int, author: str, display: str | None, text: str) -> dict[str, object]:
    user: dict[str, object] = {"id": str(abs(hash(author)) % 10**9), "username": author}
    if display is not None:
        user["name"] = display
    mentions = []
    for word in text.split():
        if word.startswith("@"):
            start = text.index(word)
            mentions.append({"start": start, "end": start + len(word), "username": word[1:]})
    return {
        "id": str(1000 + i),
        "text": text,
        "created_at": "2016-08-01T10:00:00.000Z",
        "author_id": user["id"],
        "author": user,
        "entities": {"mentions": mentions},
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_provisional_accounts_are_labelled_with_display_name_and_handle(
    tmp_path: Path, seed: int
) -> None:
    import random

    from mapper.pipeline import build, import_sources
    from mapper.project import load_project
    from mapper.render.report import write_report
    from mapper.store import Store

    rng = random.Random(seed)
    hostile = '<img src=x onerror="alert(1)"> & Co'
    names = {f"acct{i}": f"Person {rng.randint(1, 999)}" + " Ü" * (i % 2) for i in range(6)}
    names["acct0"] = hostile
    posts = []
    order = list(names)
    rng.shuffle(order)
    for i, author in enumerate(order):
        target = rng.choice([a for a in names if a != author])
        # some accounts are mentioned before any of their own posts is read
        posts.append(_tweet(i, author, names[author], f"@{target} hello"))
    posts.append(_tweet(99, "silent_poster", None, "@acct1 hi"))  # no display name known
    project = load_project(_archive_project(tmp_path, posts))
    with Store(project.store) as store:
        import_sources(project, store)
        G, _ = build(project, store)
    for author, display in names.items():
        assert G.nodes[f"x:{author}"]["label"] == f"{display} (@{author})"
    assert G.nodes["x:silent_poster"]["label"] == "@silent_poster"
    report = write_report(tmp_path / "out", G=G)
    html = report["report.html"].read_text(encoding="utf-8")
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<img" not in report["report.md"].read_text(encoding="utf-8")


# ------------------------------------------------------------ surnames as aliases


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_bare_surnames_found_alone_are_suggested_as_aliases(tmp_path: Path, seed: int) -> None:
    import random

    rng = random.Random(seed)
    people = [
        ("Ada", "Quill"),
        ("Ben", "Rook"),
        ("Cleo", "Marsh"),
        ("Dev", "Tarn"),
        ("Eve", "Smith"),
        ("Fay", "Smith"),
    ]
    rows = ["id,name,kind,aliases,x"]
    for first, last in people:
        ident = f"{first}-{last}".lower()
        rows.append(f"{ident},{first} {last},mp,,{first.lower()}{last.lower()}")
    rows.append("guild,Tarn Guild,organisation,,")  # an organisation: not a surname
    alone: dict[str, int] = {}
    posts = []
    for i in range(rng.randint(30, 60)):
        first, last = rng.choice(people)
        form = rng.choice(["full", "alone", "both", "lower"])
        if form == "full":
            text = f"{first} {last} spoke today"
        elif form == "both":
            text = f"{first} {last} spoke; {last} said more"
        elif form == "lower":
            text = f"the {last.lower()} is wet"  # not a capitalised name
        else:
            text = f"{last} said so"
            alone[last] = alone.get(last, 0) + 1
        posts.append(_tweet(i, f"someone{rng.randint(1, 5)}", "Someone", text))
    project = _archive_project(tmp_path, posts, "\n".join(rows) + "\n")
    found = {r["key"]: r for r in suggestions(project, top=100) if r["kind"] == "alias"}
    expected = {k: v for k, v in alone.items() if k != "Smith"}  # Smith: two people
    assert expected, "the generated posts use some surname alone"
    assert {k: r["count"] for k, r in found.items()} == expected
    for key, row in found.items():
        assert row["note"] == next(f"{a}-{b}".lower() for a, b in people if b == key)
    out = write_candidates(list(found.values()), tmp_path / "candidates.csv")
    cand = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {(r["id"], r["aliases"]) for r in cand} == {
        (row["note"], f"{key}!") for key, row in found.items()
    }
    if cand:  # --update applies them: the surname then counts alone
        counts = import_actors(project, out, {}, update=True)
        assert counts.updated == len(cand)
        assert not [r for r in suggestions(project, top=100) if r["kind"] == "alias"]


# ------------------------------------------------------------ import --update


def test_import_update_fills_new_columns_on_existing_rows(demo_copy: Path, tmp_path: Path) -> None:
    roster_path = demo_copy.parent / "roster.csv"
    mps = tmp_path / "mps.csv"
    mps.write_text(
        "Name,Twitter,QID,Also\n"
        "Clive Lewis,labourlewis,Q5133808,Clive\n"  # existing by handle: fill wikidata
        "Owen Jones,,Q7114986,\n"  # existing by id (from the name)
        "Jo Stevens,JoStevensLabour,Q6205972,\n",  # new
        encoding="utf-8",
    )
    mapping = {"name": "Name", "x": "Twitter", "wikidata": "QID", "aliases": "Also"}
    plain = import_actors(demo_copy, mps, mapping, kind="mp")
    assert (plain.added, plain.updated, plain.skipped) == (1, 0, 2)
    assert load_roster(roster_path).actors["clive-lewis"].external_ids.get("wikidata") is None
    counts = import_actors(demo_copy, mps, mapping, kind="mp", update=True)
    assert (counts.added, counts.updated, counts.skipped) == (0, 2, 1)
    actors = load_roster(roster_path).actors
    assert actors["clive-lewis"].external_ids["wikidata"] == "Q5133808"
    assert actors["owen-jones"].external_ids["wikidata"] == "Q7114986"
    assert "Clive" in actors["clive-lewis"].aliases
    assert actors["clive-lewis"].kind == "mp" and actors["owen-jones"].kind == "commentator"
    again = import_actors(demo_copy, mps, mapping, kind="mp", update=True)
    assert (again.added, again.updated) == (0, 0)


def test_update_never_overwrites_a_value(demo_copy: Path, tmp_path: Path) -> None:
    roster_path = demo_copy.parent / "roster.csv"
    before = load_roster(roster_path).actors["owen-jones"]
    other = tmp_path / "other.csv"
    other.write_text("id,name,party\nowen-jones,Someone Else,Green\n", encoding="utf-8")
    counts = import_actors(demo_copy, other, {}, update=True)
    assert counts.updated == 0
    after = load_roster(roster_path).actors["owen-jones"]
    assert (after.name, after.party) == (before.name, before.party)


@pytest.mark.parametrize("target", ["handle", "notes", "twiter", "wikidta"])
def test_mapping_to_a_column_the_roster_lacks_is_an_error(
    demo_copy: Path, tmp_path: Path, target: str
) -> None:
    roster_path = demo_copy.parent / "roster.csv"
    before = roster_path.read_bytes()
    mps = tmp_path / "mps.csv"
    mps.write_text("Name,Col\nJo Stevens,x\n", encoding="utf-8")
    with pytest.raises(RosterError) as err:
        import_actors(demo_copy, mps, {"name": "Name", target: "Col"}, kind="mp")
    assert err.value.field == target and str(roster_path) in str(err.value)
    assert "no " + repr(target) + " column" in err.value.message
    assert roster_path.read_bytes() == before


def test_mapping_to_a_synonym_fills_the_rosters_column(demo_copy: Path, tmp_path: Path) -> None:
    mps = tmp_path / "mps.csv"
    mps.write_text("Name,Handle\nJo Stevens,JoStevensLabour\n", encoding="utf-8")
    import_actors(demo_copy, mps, {"name": "Name", "twitter": "Handle"}, kind="mp")
    roster = load_roster(demo_copy.parent / "roster.csv")
    assert roster.by_handle("x", "jostevenslabour").id == "jo-stevens"


# ------------------------------------------------------------ merge warnings


@pytest.mark.parametrize(
    ("other", "warned"),
    [
        ("x:example_suspended", False),
        ("x:EXAMPLE_MEMBER_01", False),
        ("x:example_suspendd", True),
        ("bluesky:nobody.bsky.social", True),
        ("web:no-such-site.example", True),
    ],
)
def test_merging_a_handle_never_seen_in_the_data_warns(
    demo_copy: Path, other: str, warned: bool
) -> None:
    suggestions(demo_copy, top=1)  # imports the demo into the project's store
    merge = merge_actors(demo_copy, "clive-lewis", other)
    assert bool(merge.warnings) == warned
    if warned:
        assert other in merge.warnings[0] and "no post" in merge.warnings[0]
    handle = other.split(":", 1)[1]
    column = {"x": "x", "bluesky": "bluesky", "web": "domains"}[other.split(":")[0]]
    row = next(
        r
        for r in csv.DictReader(
            line
            for line in (demo_copy.parent / "roster.csv").open(encoding="utf-8")
            if not line.startswith("#")
        )
        if r["id"] == "clive-lewis"
    )
    assert handle in row[column]  # merged anyway: the user may know better


def test_cli_merge_prints_the_warning(demo_copy: Path) -> None:
    from typer.testing import CliRunner

    from mapper.cli import app

    suggestions(demo_copy, top=1)
    result = CliRunner().invoke(
        app, ["roster", "merge", "clive-lewis", "x:typo_handle", "--project", str(demo_copy)]
    )
    assert result.exit_code == 0, result.output
    assert "warning: 'x:typo_handle' appears in no post" in result.stderr


def test_roster_suggest_shows_hostile_display_names_inert(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from mapper.cli import app

    evil = "Eve\x1b[2J\u202eil\x07 Bot"
    posts = [_tweet(1, "evil_bot", evil, "@someone hi"), _tweet(2, "evil_bot", evil, "@x1 yo")]
    project = _archive_project(tmp_path, posts)
    runner = CliRunner()
    table = runner.invoke(app, ["roster", "suggest", str(project), "-q"])
    assert table.exit_code == 0, table.output
    line = next(line for line in table.stdout.splitlines() if "evil_bot" in line)
    assert "\x1b" not in line and "\u202e" not in line and "\x07" not in line
    assert "Eve\ufffd[2J\ufffdil\ufffd Bot" in line
    data = json.loads(runner.invoke(app, ["roster", "suggest", str(project), "--json"]).stdout)
    assert next(r for r in data if r["key"] == "evil_bot")["name"] == evil  # data: as written
