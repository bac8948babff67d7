"""The roster: CSV and YAML loading, lookups, validation with file/line/field, writing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapper.errors import RosterError
from mapper.records import ACTOR_KINDS, Actor
from mapper.resolve import (
    Issue,
    Roster,
    RosterProblem,
    clean_handle,
    handle_key,
    load_roster,
    validate_roster,
    write_roster_csv,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "roster"
ROSTER_CSV = FIXTURES / "roster.csv"
ROSTER_YAML = FIXTURES / "roster.yaml"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors(path: Path) -> list[RosterProblem]:
    return [p for p in validate_roster(path) if p.is_error]


def only_error(path: Path) -> RosterProblem:
    found = errors(path)
    assert len(found) == 1, [p.one_line() for p in found]
    return found[0]


# --------------------------------------------------------------------------- loading


@pytest.fixture(scope="module")
def roster() -> Roster:
    return load_roster(ROSTER_CSV)


def test_csv_and_yaml_rosters_load_to_equal_actors_and_issues() -> None:
    from_csv = load_roster(ROSTER_CSV)
    from_yaml = load_roster(ROSTER_YAML)
    assert len(from_csv.actors) == 10
    assert from_csv.actors == from_yaml.actors
    assert from_csv.issues == from_yaml.issues
    assert validate_roster(ROSTER_CSV) == []
    assert validate_roster(ROSTER_YAML) == []


def test_actor_fields_are_parsed(roster: Roster) -> None:
    owen = roster.actors["owen-jones"]
    assert owen == Actor(
        id="owen-jones",
        name="Owen Jones",
        kind="commentator",
        party="Labour",
        faction="soft left",
        aliases=("Jones",),
        handles={"x": ("OwenJones84",), "bluesky": ("owenjones.bsky.social",)},
        domains=("owenjones.example.net",),
        external_ids={"wikidata": "Q9000001", "x": "1001"},
        issues=("progressive-alliance",),
    )
    assert roster.actors["paul-mason"].handles["mastodon"] == ("paulmason@mastodon.example",)
    assert roster.actors["neal-lawson"].issues == (
        "progressive-alliance",
        "proportional-representation",
    )
    # aliases split on "|" as well as ";"
    assert roster.actors["ellie-mae-ohagan"].aliases == ("O'Hagan", "Ellie Mae O'Hagan")
    assert roster.actors["example-blog"].domains == ("example.org/blog",)


def test_issues_are_rows_of_kind_issue(roster: Roster) -> None:
    assert roster.issues == [
        Issue(
            "progressive-alliance",
            "progressive alliance",
            ("progressive alliances", "Progressive Alliance"),
        ),
        Issue(
            "proportional-representation", "proportional representation", ("PR", "electoral reform")
        ),
    ]
    assert "progressive-alliance" not in roster.actors


def test_issues_csv_beside_a_csv_roster(tmp_path: Path) -> None:
    roster = write(tmp_path, "roster.csv", "id,name,issues\na,Ann,pr\nb,Bob,pa\n")
    write(tmp_path, "issues.csv", "id,name,aliases\npr,proportional representation,PR;fair votes\n")
    loaded = load_roster(roster)
    assert loaded.issues == [Issue("pr", "proportional representation", ("PR", "fair votes"))]
    (problem,) = validate_roster(roster)  # "pa" is not declared anywhere
    assert (problem.source, problem.line, problem.severity) == (str(roster), 3, "warning")
    # problems inside issues.csv name that file and its line
    issues = write(tmp_path, "issues.csv", "id,name\npr,PR\npr,again\n,nameless\n")
    found = errors(roster)
    assert [(p.source, p.line, p.field) for p in found] == [
        (str(issues), 3, "id"),
        (str(issues), 4, "id"),
    ]
    # a YAML roster does not read it
    yaml_roster = write(tmp_path, "roster.yaml", "actors:\n  - {id: a, name: Ann}\n")
    assert load_roster(yaml_roster).issues == []


def test_demo_roster_loads_with_its_issues() -> None:
    demo = Path(__file__).resolve().parents[1] / "data" / "demo" / "roster.csv"
    if not demo.exists():
        pytest.skip("no demo roster")
    assert errors(demo) == []
    roster = load_roster(demo)
    assert len(roster.actors) > 20
    assert roster.issues


def test_kind_defaults_to_other_and_column_synonyms(tmp_path: Path) -> None:
    path = write(
        tmp_path, "r.csv", "ID,Name,Twitter,Website,X_ID\na,Ann,@ann_x,ann.example.org,42\n"
    )
    actor = load_roster(path).actors["a"]
    assert actor.kind == "other"
    assert actor.handles == {"x": ("ann_x",)}
    assert actor.domains == ("ann.example.org",)
    assert actor.external_ids == {"x": "42"}


def test_tsv_roster(tmp_path: Path) -> None:
    path = write(tmp_path, "r.tsv", "id\tname\tx\na\tAnn\tann\n")
    assert load_roster(path).by_handle("x", "ANN").id == "a"


# --------------------------------------------------------------------------- lookups


@pytest.mark.parametrize("handle", ["OwenJones84", "owenjones84", "@OWENJONES84", " @OwenJones84 "])
def test_handles_are_case_insensitive_and_without_at(roster: Roster, handle: str) -> None:
    assert roster.by_handle("x", handle).id == "owen-jones"
    assert roster.by_handle("twitter", handle).id == "owen-jones"


def test_handles_are_per_platform(roster: Roster) -> None:
    assert roster.by_handle("bluesky", "OwenJones84") is None
    assert roster.by_handle("bluesky", "@OwenJones.bsky.social").id == "owen-jones"
    assert roster.by_handle("mastodon", "@PaulMason@Mastodon.example").id == "paul-mason"
    assert roster.by_handle("x", "nobody") is None


def test_table_platform_accepts_ids_and_any_handle(roster: Roster) -> None:
    assert roster.by_handle("table", "clive-lewis").id == "clive-lewis"
    assert roster.by_handle("table", "Clive-Lewis").id == "clive-lewis"
    assert roster.by_handle("table", "@labourlewis").id == "clive-lewis"
    assert roster.by_handle("table", "compass.example.org").id == "compass"
    assert roster.by_handle("table", "paulmason@mastodon.example").id == "paul-mason"
    assert roster.by_handle("table", "unknown") is None


def test_by_url_longest_prefix(roster: Roster) -> None:
    assert roster.by_url("https://www.example.org/blog/x?utm_source=a").id == "example-blog"
    assert roster.by_url("https://example.org/about").id == "example-org"
    assert roster.by_url("https://example.org/blogger").id == "example-org"
    assert roster.by_url("http://news.example.org/today").id == "example-org"
    assert roster.by_url("https://example.com/blog") is None


def test_by_url_social_profiles(roster: Roster) -> None:
    assert roster.by_url("https://x.com/OwenJones84").id == "owen-jones"
    assert roster.by_url("https://mobile.twitter.com/owenjones84/status/1").id == "owen-jones"
    assert roster.by_url("https://bsky.app/profile/compass.example.org").id == "compass"
    assert roster.by_url("https://mastodon.example/@paulmason/1234").id == "paul-mason"
    assert roster.by_url("https://x.com/somebodyelse") is None


def test_by_external_id_and_name(roster: Roster) -> None:
    assert roster.by_external_id("x", "1002").id == "paul-mason"
    assert roster.by_external_id("twitter", "1001").id == "owen-jones"
    assert roster.by_external_id("wikidata", "Q9000001").id == "owen-jones"
    assert roster.by_external_id("x", "999") is None
    assert roster.by_name("owen  JONES").id == "owen-jones"
    assert roster.by_name("Ellie Mae O’Hagan").id == "ellie-mae-ohagan"
    assert roster.by_name("Jones") is None  # two actors use it
    assert roster.by_name("Corbyn").id == "jeremy-corbyn"


def test_name_matcher_finds_single_word_names_but_not_bare_surnames(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.csv",
        "id,name,aliases\ncompass,Compass,Compass Online\nowen,Owen Jones,Jones\n",
    )
    matcher = load_roster(path).name_matcher
    assert [m.actor_id for m in matcher.find("Compass said")] == ["compass"]
    assert matcher.find("Jones said") == []
    assert [m.actor_id for m in matcher.find("Owen Jones; Jones said")] == ["owen", "owen"]


def test_handle_helpers() -> None:
    assert clean_handle("x", "@Owen_Jones") == "Owen_Jones"
    assert clean_handle("x", "owen jones") is None
    assert clean_handle("mastodon", "@user") is None
    assert clean_handle("mastodon", "@user@example.social") == "user@example.social"
    assert clean_handle("bluesky", "did:plc:abc123") == "did:plc:abc123"
    assert clean_handle("bluesky", "https://bsky.app/profile/a.bsky.social") == "a.bsky.social"
    assert handle_key("x", " @OwenJones84") == "owenjones84"
    assert handle_key("x", "https://twitter.com/OwenJones84") == "owenjones84"


def test_roster_constructor_refuses_shared_handles() -> None:
    actors = [
        Actor("a", "A", handles={"x": ("same",)}),
        Actor("b", "B", handles={"x": ("SAME",)}),
    ]
    with pytest.raises(RosterError, match=r"'a'.*'b'"):
        Roster(actors)
    with pytest.raises(RosterError, match="duplicate"):
        Roster([Actor("a", "A"), Actor("a", "B")])
    with pytest.raises(RosterError, match="already belongs"):
        Roster([Actor("a", "A", domains=("x.org",)), Actor("b", "B", domains=("www.x.org/",))])


# --------------------------------------------------------------------------- validation


def test_duplicate_id_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "id,name\na,Ann\nb,Bob\na,Again\n")
    problem = only_error(path)
    assert (problem.source, problem.line, problem.field) == (str(path), 4, "id")
    assert "first used on line 2" in problem.message
    with pytest.raises(RosterError) as info:
        load_roster(path)
    assert info.value.line == 4
    assert info.value.field == "id"
    assert str(info.value).startswith(f"{path}:4: id: duplicate id 'a'")


def test_unknown_kind_lists_the_allowed_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "id,name,kind\na,Ann,mp\nb,Bob,pundit\n")
    problem = only_error(path)
    assert (problem.line, problem.field) == (3, "kind")
    assert "pundit" in problem.message
    assert all(kind in problem.hint for kind in ACTOR_KINDS)


def test_reserved_kind_unknown_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "id,name,kind\na,Ann,unknown\n")
    problem = only_error(path)
    assert (problem.line, problem.field) == (2, "kind")
    assert "reserved" in problem.message


def test_handle_claimed_twice_names_both_actors(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "id,name,x\nann,Ann,@Shared\nbob,Bob,bob_x\ncat,Cat,shared\n")
    problem = only_error(path)
    assert (problem.line, problem.field) == (4, "x")
    assert "'ann'" in problem.message
    assert "'cat'" in problem.message
    assert "line 2" in problem.message


def test_domain_claimed_twice_names_both_actors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.csv",
        "id,name,domains\nann,Ann,example.org/blog\nbob,Bob,https://www.example.org/blog/\n",
    )
    problem = only_error(path)
    assert (problem.line, problem.field) == (3, "domains")
    assert "'ann'" in problem.message
    assert "'bob'" in problem.message


def test_distinct_prefixes_on_one_domain_are_fine(tmp_path: Path) -> None:
    path = write(
        tmp_path, "r.csv", "id,name,domains\nann,Ann,example.org\nbob,Bob,example.org/blog\n"
    )
    assert validate_roster(path) == []


def test_missing_id_and_missing_name(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "id,name\na,Ann\n,Nobody\nc,\n")
    found = errors(path)
    assert [(p.line, p.field) for p in found] == [(3, "id"), (4, "name")]


def test_invalid_handles_are_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path, "r.csv", "id,name,x,mastodon\na,Ann,bad handle!,\nb,Bob,,user_without_instance\n"
    )
    found = errors(path)
    assert [(p.line, p.field) for p in found] == [(2, "x"), (3, "mastodon")]
    assert "instance" in found[1].hint


def test_empty_file(tmp_path: Path) -> None:
    for name, text in (("e.csv", ""), ("w.csv", " \n\n"), ("e.yaml", ""), ("c.yaml", "# only\n")):
        path = write(tmp_path, name, text)
        problem = only_error(path)
        assert problem.source == str(path)
        assert problem.line == 1
        assert "empty" in problem.message
        with pytest.raises(RosterError, match="empty"):
            load_roster(path)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("r.csv", "id,name,x\n"),
        ("r.csv", "id,name\n\n\n"),
        ("r.csv", "\ufeffid,name,kind,party,aliases,x,bluesky,domains,notes"),
        ("r.csv", "# curated by hand\nid,name,x\n# nobody yet\n"),
        ("r.tsv", "id\tname\tx\n"),
        ("r.yaml", "actors: []\n"),
        ("r.yaml", "actors: []\nissues: []\n"),
    ],
)
def test_header_only_is_an_empty_roster(tmp_path: Path, name: str, text: str) -> None:
    """Issue 13, item 18: a roster with only a header (or an empty actor list) loads."""
    path = write(tmp_path, name, text)
    roster = load_roster(path)
    assert len(roster) == 0 and roster.issues == []
    assert roster.by_handle("x", "anyone") is None
    assert roster.name_matcher.find("Owen Jones said so") == []
    problems = validate_roster(path)
    assert not [p for p in problems if p.is_error]
    assert any("no actors" in p.message for p in problems)  # said, as a warning


def test_csv_without_required_header_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "handle,display\nann,Ann\n")
    found = errors(path)
    assert [(p.line, p.field) for p in found] == [(1, "id"), (1, "name")]
    assert "handle" in found[0].hint  # says what the header has


def test_header_after_blank_lines_gets_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "\n\nid,name\na,Ann\na,Bob\n")
    assert only_error(path).line == 5


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"id,name\na,Ann\nb,B\xe9atrice\n")
    problem = only_error(path)
    assert problem.line == 3
    assert "UTF-8" in problem.message
    with pytest.raises(RosterError, match=r"r\.csv:3: not valid UTF-8"):
        load_roster(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes("\ufeffid,name\na,Ann\n".encode())
    assert load_roster(path).actors["a"].name == "Ann"


def test_multiline_cells_keep_editor_line_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", 'id,name,aliases\na,Ann,"one\ntwo"\nb,Bob,\na,Again,\n')
    problem = only_error(path)
    assert problem.line == 5


def test_extra_cells_are_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "id,name\na,Ann,surplus\n")
    problem = only_error(path)
    assert problem.line == 2
    assert "3 cells" in problem.message


def test_unknown_columns_are_warnings_that_do_not_raise(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "id,name,nickname,notes\na,Ann,annie,met at conference\n")
    problems = validate_roster(path)
    assert [(p.severity, p.line, p.field) for p in problems] == [("warning", 1, "nickname")]
    assert problems[0].one_line().startswith("warning: ")
    assert load_roster(path).actors["a"].name == "Ann"


def test_unknown_issue_reference_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "id,name,issues\na,Ann,nope\n")
    (problem,) = validate_roster(path)
    assert (problem.severity, problem.line, problem.field) == ("warning", 2, "issues")


def test_issue_rows_duplicate_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.csv",
        "id,name,kind\na,Ann,mp\npr,proportional representation,issue\npr,PR,issue\n",
    )
    problem = only_error(path)
    assert (problem.line, problem.field) == (4, "id")


def test_all_problems_are_collected_and_counted(tmp_path: Path) -> None:
    path = FIXTURES / "broken.csv"
    found = errors(path)
    assert [(p.line, p.field) for p in found] == [
        (3, "id"),
        (4, "kind"),
        (5, "id"),
        (6, "name"),
        (7, "x"),
        (8, "domains"),
    ]
    assert all(p.source == str(path) for p in found)
    with pytest.raises(RosterError) as info:
        load_roster(path)
    assert "(and 5 more problems)" in str(info.value)
    assert info.value.line == 3


def test_yaml_problems_have_lines_of_entries_and_keys() -> None:
    path = FIXTURES / "broken.yaml"
    found = errors(path)
    assert [(p.line, p.field) for p in found] == [
        (6, "id"),  # second "- id: owen-jones"
        (10, "kind"),  # the "kind: pundit" line
        (11, "actors"),  # "- just a string"
        (15, "x"),  # the nested "x:" under handles
    ]
    assert "'owen-jones'" in found[3].message
    assert "'imposter'" in found[3].message


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, "r.yaml", "actors:\n  - id: a\n    name: [unclosed\n  - id: b\n")
    problem = only_error(path)
    assert problem.line is not None
    assert problem.line >= 3
    assert "invalid YAML" in problem.message


def test_yaml_shapes(tmp_path: Path) -> None:
    no_actors = write(tmp_path, "a.yaml", "issues: []\n")
    assert only_error(no_actors).field == "actors"
    a_list = write(tmp_path, "b.yaml", "- id: a\n  name: A\n")
    assert "mapping" in only_error(a_list).message
    boolean = write(tmp_path, "c.yaml", "actors:\n  - id: a\n    name: yes\n")
    problem = only_error(boolean)
    assert (problem.line, problem.field) == (3, "name")


def test_format_and_file_problems(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match=r"\.json"):
        load_roster(write(tmp_path, "r.json", "{}"))
    with pytest.raises(RosterError, match="cannot read"):
        load_roster(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- writing


def test_write_roster_csv_round_trips(tmp_path: Path, roster: Roster) -> None:
    out = write_roster_csv(roster.actors, tmp_path / "out" / "roster.csv", issues=roster.issues)
    again = load_roster(out)
    assert again.actors == roster.actors
    assert again.issues == roster.issues


def test_write_roster_csv_makes_provisional_actors_loadable(tmp_path: Path) -> None:
    provisional = Actor(
        "x:someone", "@someone", kind="unknown", handles={"x": ("someone",)}, provisional=True
    )
    again = load_roster(write_roster_csv([provisional], tmp_path / "r.csv"))
    actor = again.actors["x:someone"]
    assert (actor.kind, actor.provisional) == ("other", False)
    assert again.by_handle("x", "SOMEONE") is actor


# --------------------------------------------------------------------------- properties


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400))
def test_random_csv_bytes_raise_only_roster_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(b"id,name,kind,x,domains,aliases\n" + data)
    try:
        roster = load_roster(path)
    except RosterError as exc:
        assert exc.source == str(path)
    else:
        assert isinstance(roster, Roster)
    assert all(isinstance(p, RosterProblem) for p in validate_roster(path))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_roster_errors(tmp_path: Path, data: bytes) -> None:
    for name in ("random.csv", "random.yaml"):
        path = tmp_path / name
        path.write_bytes(data)
        try:
            load_roster(path)
        except RosterError as exc:
            assert exc.source == str(path)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            st.text(min_size=0, max_size=8),
            st.text(min_size=0, max_size=12),
            st.sampled_from([*ACTOR_KINDS, "", "issue", "pundit"]),
        ),
        max_size=6,
    )
)
def test_random_csv_rows_raise_only_roster_errors(tmp_path: Path, rows: list) -> None:
    import csv

    path = tmp_path / "rows.csv"
    with path.open("w", encoding="utf-8", newline="", errors="surrogatepass") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name", "kind"])
        writer.writerows(rows)
    try:
        load_roster(path)
    except RosterError as exc:
        assert exc.line is None or exc.line >= 1


def test_comment_lines_are_skipped_and_line_numbers_still_count_them(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "# a comment before the header\nid,name,kind\n# a comment row\na,A,mp\na,Again,mp\n",
        encoding="utf-8",
    )
    problems = [p for p in validate_roster(path) if p.is_error]
    assert [(p.line, p.field) for p in problems] == [(5, "id")]


# --------------------------------------------------------------------------- issue 13


def _roster_rows(rnd: random.Random, n: int) -> list[list[str]]:
    parties = ["Labour", "Green", "Lib Dem", "SNP", ""]
    return [
        [f"actor-{i}", f"Name{i} Surname{i}", "mp", rnd.choice(parties), f"handle_{i}"]
        for i in range(n)
    ]


@pytest.mark.parametrize("seed", [2, 5, 13, 31])
@pytest.mark.parametrize("how", ["never-closed", "closed-later", "stray-quote"])
def test_an_unterminated_quote_in_a_csv_roster_costs_its_row_only(
    tmp_path: Path, seed: int, how: str
) -> None:
    """Issue 13, item 3: the quote is reported with its line; the rows after it are
    still read (a duplicate id further down is still found)."""
    rnd = random.Random(seed)
    rows = _roster_rows(rnd, rnd.randint(6, 40))
    k = rnd.randrange(len(rows) - 3)
    lines = [",".join(r) for r in rows]
    lines[k] = f'{rows[k][0]},"{rows[k][1]},{rows[k][2]},{rows[k][3]},{rows[k][4]}'
    j = rnd.randrange(k + 1, len(rows) - 1)
    if how == "closed-later":
        lines[j] = f'{rows[j][0]},"{rows[j][1]}",mp,,{rows[j][4]}'
    elif how == "stray-quote":
        lines[j] = f'{rows[j][0]},{rows[j][1]}",mp,,{rows[j][4]}'
    lines.append(f"actor-{j},Someone Else,mp,,")  # a duplicate id after the quote
    path = write(tmp_path, "r.csv", "id,name,kind,party,x\n" + "\n".join(lines) + "\n")
    found = [(p.line, p.message.split(":")[0].split(" (")[0]) for p in errors(path)]
    assert found == [(k + 2, "unterminated quote"), (len(lines) + 1, f"duplicate id 'actor-{j}'")]
    with pytest.raises(RosterError, match=rf"r\.csv:{k + 2}: (name: )?unterminated quote"):
        load_roster(path)


def test_mapper_check_reports_unterminated_quotes_with_file_and_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mapper.cli import app
    from mapper.project import check_project

    write(tmp_path, "roster.csv", 'id,name\na,Ann\nb,"Bob\nc,Cat\n')
    write(tmp_path, "edges.csv", 'source,target,weight\na,b,1\nc,"d,2\ne,f,3\n')
    write(tmp_path, "posts.csv", 'author,text\na,"hi @b\nc,hey @d\n')
    toml = write(
        tmp_path,
        "mapper.toml",
        '[project]\nroster = "roster.csv"\n\n[[sources]]\ntype = "edges-csv"\npath = "edges.csv"\n'
        '\n[[sources]]\ntype = "posts-csv"\npath = "posts.csv"\n',
    )
    found = sorted(
        (Path(p.error.source or "").name, p.error.line)
        for p in check_project(toml)
        if p.is_error and "unterminated quote" in p.error.message
    )
    assert found == [("edges.csv", 3), ("posts.csv", 2), ("roster.csv", 3)]
    result = CliRunner().invoke(app, ["check", str(toml)])
    assert result.exit_code == 1
    assert "edges.csv:3: unterminated quote" in result.stderr
    assert "3 error(s)" in result.stderr


_HUGE_FIELDS = [
    ("name", "Ann {}"),
    ("aliases", "Ann;{}"),
    ("x", "{}"),
    ("bluesky", "{}.bsky.social"),
    ("id", "{}"),
    ("party", "{}"),
    ("faction", "{}"),
    ("domains", "example.org/{}"),
    ("kind", "{}"),
    ("wikidata", "Q{}"),
]


@pytest.mark.parametrize(("field", "template"), _HUGE_FIELDS)
@pytest.mark.parametrize("fmt", ["csv", "yaml"])
@pytest.mark.parametrize("size", [5_000, 1_000_000])
def test_an_overlong_value_is_an_error_naming_file_line_and_field(
    tmp_path: Path, field: str, template: str, fmt: str, size: int
) -> None:
    """Issue 13, item 9: no value reaches the name matcher (or a handle pattern) unchecked."""
    value = template.format("a" * size)
    base = {"id": "ann", "name": "Ann Smith", "kind": "mp"}
    base[field] = value
    if fmt == "csv":
        header = list(base)
        text = ",".join(header) + "\n" + ",".join(base[h] for h in header) + "\n"
        text += ",".join(
            {"id": "bob", "name": "Bob Jones", "kind": "mp"}.get(h, "") for h in header
        )
        line = 2
    else:
        text = "actors:\n  - id: bob\n    name: Bob Jones\n  - " + "\n    ".join(
            f"{k}: {v}" for k, v in base.items()
        )
        line = 4 + list(base).index(field)
    path = write(tmp_path, f"r.{fmt}", text + "\n")
    found = errors(path)
    assert [(p.line, p.field) for p in found] == [(line, field)], [
        p.one_line()[:200] for p in found
    ]
    counts = {f"{len(value):,} characters", f"{len(value.split(';')[-1]):,} characters"}
    assert any(c in found[0].message for c in counts), found[0].message
    assert len(found[0].one_line()) < 400
    with pytest.raises(RosterError, match=rf"r\.{fmt}:{line}: {field}:"):
        load_roster(path)


def test_a_megabyte_name_is_refused_not_a_crash(tmp_path: Path) -> None:
    """The reported case, end to end in a child process: it used to die of SIGSEGV
    inside pyahocorasick when the resolver built its automaton."""
    import subprocess
    import sys

    path = write(tmp_path, "r.yaml", f"actors:\n  - id: a\n    name: {'x' * 1_000_000}\n")
    code = (
        "import sys\n"
        "from mapper.errors import MapperError\n"
        "from mapper.records import Post\n"
        "from mapper.resolve import Resolver, load_roster\n"
        "try:\n"
        f"    Resolver(load_roster({str(path)!r})).resolve([Post(uid='x:1', platform='x',"
        " author='a', created_at=None, text='x')])\n"
        "except MapperError as exc:\n"
        "    print(exc.one_line()[:300]); sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, (proc.returncode, proc.stderr[-500:])
    assert "r.yaml:3: name:" in proc.stdout and "1,000,000 characters" in proc.stdout


def test_the_name_matcher_refuses_an_overlong_alias() -> None:
    from mapper.resolve.names import MAX_ALIAS_CHARS, NameMatcher

    NameMatcher({"a" * MAX_ALIAS_CHARS: "fine"})
    for size in (MAX_ALIAS_CHARS + 1, 700_000):
        with pytest.raises(RosterError, match="characters long"):
            NameMatcher({"Owen Jones": "owen", "b" * size: "huge"})
    roster = Roster([Actor(id="a", name="y" * 600_000, kind="mp")])
    with pytest.raises(RosterError, match="aliases"):
        roster.name_matcher  # noqa: B018 - building it is the test
