"""Resolution: URL normalization and prefixes, names in text, and posts to edge events."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapper.records import Actor, EdgeEvent, Post, Reference
from mapper.resolve import (
    NameMatcher,
    PrefixIndex,
    Resolver,
    Roster,
    fold,
    load_roster,
    normalize_url,
    profile_handle,
    url_domain,
)

ROSTER_CSV = Path(__file__).resolve().parent / "fixtures" / "roster" / "roster.csv"
T0 = datetime(2016, 7, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def roster() -> Roster:
    return load_roster(ROSTER_CSV)


def x_post(uid: str, author: str, text: str = "", *refs: Reference, **kw: object) -> Post:
    return Post(
        f"x:{uid}",
        "x",
        author,
        T0,
        text,
        url=f"https://x.com/{author}/status/{uid}",
        references=tuple(refs),
        **kw,  # type: ignore[arg-type]
    )


def triples(events: list[EdgeEvent]) -> list[tuple[str, str, str]]:
    return [(e.source, e.target, e.type) for e in events]


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.Example.org/blog/x?utm_source=a", "example.org/blog/x"),
        ("http://example.org/", "example.org"),
        ("example.org", "example.org"),
        ("//example.org/a//b/", "example.org/a/b"),
        ("https://m.example.org/a#section", "example.org/a"),
        ("https://mobile.example.org/a", "example.org/a"),
        ("https://amp.example.org/a", "example.org/a"),
        ("https://EXAMPLE.org:443/a", "example.org/a"),
        ("http://example.org:80/a", "example.org/a"),
        ("http://example.org:8080/a", "example.org:8080/a"),
        ("https://user:secret@example.org/a", "example.org/a"),
        ("https://example.org/a?b=2&a=1&fbclid=x&gclid=y", "example.org/a?a=1&b=2"),
        ("https://example.org/a?ref=tw&igshid=1&mc_cid=2&mc_eid=3&ref_src=4", "example.org/a"),
        ("https://example.org/search?s=brexit&t=5", "example.org/search?s=brexit&t=5"),
        ("https://twitter.com/OwenJones84/status/1?s=20&t=abc", "x.com/OwenJones84/status/1"),
        ("https://youtube.com/watch?v=abc&si=share&t=30", "youtube.com/watch?t=30&v=abc"),
        ("https://bücher.example/straße", "xn--bcher-kva.example/stra%C3%9Fe"),
        ("https://xn--bcher-kva.example/stra%c3%9fe", "xn--bcher-kva.example/stra%C3%9Fe"),
        ("https://example.org/%7Euser/a%2fb", "example.org/~user/a%2Fb"),
        ("https://www.org/", "www.org"),
        ("http://[2001:db8::1]/a", "[2001:db8::1]/a"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "not a url",
        "mailto:someone@example.org",
        "javascript:alert(1)",
        "ftp://example.org/file",
        "http://",
        "http://[::1",
        "http://example.org:99999/",
        "https://exa mple.org/",
        "word",
        None,
        42,
    ],
)
def test_normalize_url_garbage_is_none(garbage: object) -> None:
    assert normalize_url(garbage) is None


def test_url_domain() -> None:
    assert url_domain("https://www.compassonline.org.uk/about/?ref=x") == "compassonline.org.uk"
    assert url_domain("http://localhost:8000/a") == "localhost"
    assert url_domain("nonsense") is None


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=120))
def test_normalize_url_never_raises_and_is_idempotent(text: str) -> None:
    for candidate in (text, "https://" + text, "example.org/" + text, "http://a.example/?" + text):
        result = normalize_url(candidate)
        assert result is None or isinstance(result, str)
        if result is not None:
            assert normalize_url(result) == result


def test_prefix_index_longest_prefix_on_segment_boundaries() -> None:
    index = PrefixIndex(
        [("example.org", "org"), ("example.org/blog", "blog"), ("example.org/blog/team", "team")]
    )
    assert index.lookup("https://www.example.org/blog/x?utm_source=a") == "blog"
    assert index.lookup("https://example.org/blog") == "blog"
    assert index.lookup("https://example.org/blog/team/post") == "team"
    assert index.lookup("https://example.org/blogger") == "org"
    assert index.lookup("https://example.org/BLOG/x") == "blog"  # case-insensitive
    assert index.lookup("https://example.org/about") == "org"
    assert index.match("https://example.org/blog/x") == ("example.org/blog", "blog")
    assert index.lookup("https://example.com/blog") is None
    assert index.lookup("garbage") is None
    assert len(index) == 3
    assert "https://www.example.org/blog/" in index


def test_prefix_index_subdomains() -> None:
    index = PrefixIndex(
        [("example.org", "org"), ("news.example.org", "news"), ("example.org/blog", "blog")]
    )
    assert index.lookup("https://deep.sub.example.org/x") == "org"
    assert index.lookup("https://news.example.org/x") == "news"
    assert index.lookup("https://live.news.example.org/x") == "news"
    # a path prefix on the parent domain does not cover a subdomain
    assert index.lookup("https://news.example.org/blog/x") == "news"
    assert index.lookup("https://other.example.org/blog/x") == "org"
    # a parent entry never matches a mere suffix of a label
    assert PrefixIndex([("ample.org", "a")]).lookup("https://example.org") is None


def test_prefix_index_refuses_conflicts_and_garbage() -> None:
    index = PrefixIndex([("example.org/blog", "a")])
    index.add("https://www.example.org/blog/", "a")  # same owner: fine
    with pytest.raises(ValueError, match="already belongs"):
        index.add("example.org/Blog", "b")
    with pytest.raises(ValueError, match="not a domain"):
        index.add("no such thing", "b")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/OwenJones84", ("x", "OwenJones84")),
        ("https://twitter.com/OwenJones84/status/123", ("x", "OwenJones84")),
        ("https://mobile.twitter.com/someone?s=20", ("x", "someone")),
        ("https://x.com/search?q=brexit", None),
        ("https://x.com/i/web/status/1", None),
        ("https://x.com", None),
        ("https://bsky.app/profile/name.bsky.social/post/3k", ("bluesky", "name.bsky.social")),
        ("https://bsky.app/search", None),
        ("https://mastodon.social/@someone", ("mastodon", "someone@mastodon.social")),
        (
            "https://mastodon.social/@someone@other.example/12",
            ("mastodon", "someone@other.example"),
        ),
        ("https://medium.com/@writer/post", None),
        ("https://example.org/about", None),
    ],
)
def test_profile_handle(url: str, expected: tuple[str, str] | None) -> None:
    assert profile_handle(url) == expected


# --------------------------------------------------------------------------- names


@pytest.fixture(scope="module")
def names() -> NameMatcher:
    return NameMatcher.from_actors(
        {
            "owen-jones": ["Owen Jones", "Jones"],
            "carwyn-jones": ["Carwyn Jones", "Jones"],
            "ohagan": ["Ellie-Mae O'Hagan", "O'Hagan"],
            "clive-lewis": ["Clive Lewis", "Lewis"],
            "paul-mason": ["Paul Mason", "Mason"],
            "corbyn": ["Jeremy Corbyn", "Corbyn!"],
            "compass": "Compass",
            "ellie": "Ellie Mae",
        }
    )


def found(matcher: NameMatcher, text: str) -> list[tuple[str, str]]:
    return [(m.actor_id, text[m.start : m.end]) for m in matcher.find(text)]


def test_names_whole_words_only(names: NameMatcher) -> None:
    assert found(names, "Lewisham Council and Clive Lewisham") == []
    assert found(names, "Clive Lewis in Lewisham") == [("clive-lewis", "Clive Lewis")]
    assert found(names, "xOwen Jones") == []
    assert found(names, "Owen Jonesy") == []
    assert found(names, "Owen Jones_") == []
    assert found(names, "Owen Jones2") == []
    assert found(names, "(Owen Jones)") == [("owen-jones", "Owen Jones")]
    assert found(names, "«Owen Jones»") == [("owen-jones", "Owen Jones")]
    assert found(names, "Owen Jones… and then") == [("owen-jones", "Owen Jones")]


def test_names_possessives_and_apostrophes(names: NameMatcher) -> None:
    assert found(names, "Owen Jones's column") == [("owen-jones", "Owen Jones")]
    assert found(names, "Owen Jones’s column") == [("owen-jones", "Owen Jones")]
    assert found(names, "the Owen Jones' fans") == [("owen-jones", "Owen Jones")]
    text = "Ellie-Mae O’Hagan wrote; O'Hagan's point and O’Hagan’s too"
    assert found(names, text) == [
        ("ohagan", "Ellie-Mae O’Hagan"),
        ("ohagan", "O'Hagan"),
        ("ohagan", "O’Hagan"),
    ]
    # an apostrophe followed by another letter is a different word
    assert found(names, "Owen Jones't") == []
    # "Hagan" is not a name on its own inside O'Hagan (and not in the roster anyway)
    assert found(NameMatcher.from_actors({"h": "Hagan"}), "O'Hagan and Hagan") == [("h", "Hagan")]


def test_names_multiword_aliases_ignore_case_and_spacing(names: NameMatcher) -> None:
    assert found(names, "OWEN JONES said") == [("owen-jones", "OWEN JONES")]
    assert found(names, "owen jones said") == [("owen-jones", "owen jones")]
    assert found(names, "Owen\nJones said") == [("owen-jones", "Owen\nJones")]
    assert found(names, "Owen\u00a0Jones said") == [("owen-jones", "Owen\u00a0Jones")]
    assert found(names, "Ellie Mae O'Hagan") == [("ohagan", "Ellie Mae O'Hagan")]


def test_names_single_words_need_their_capitals(names: NameMatcher) -> None:
    assert found(names, "Compass said") == [("compass", "Compass")]
    assert found(names, "a moral compass") == []
    assert found(names, "Jeremy Corbyn and the stonemason mason") == [("corbyn", "Jeremy Corbyn")]
    assert found(NameMatcher.from_actors({"pr": "PR"}), "PR and pr and Pr") == [("pr", "PR")]
    assert found(NameMatcher.from_actors({"b": "brexit"}), "Brexit and BREXIT") == [
        ("b", "Brexit"),
        ("b", "BREXIT"),
    ]


def test_ambiguous_surnames(names: NameMatcher) -> None:
    # a surname alone is not enough...
    assert found(names, "Mason argued") == []
    scan = names.scan("Mason argued")
    assert [(a.alias, a.candidates) for a in scan.ambiguous] == [("Mason", ("paul-mason",))]
    # ...unless the same text names the actor in full
    assert found(names, "Paul Mason wrote it. Mason argued") == [
        ("paul-mason", "Paul Mason"),
        ("paul-mason", "Mason"),
    ]
    # a surname two actors share resolves only to the one named in full
    assert found(names, "Jones said") == []
    assert found(names, "Carwyn Jones met them; Jones said") == [
        ("carwyn-jones", "Carwyn Jones"),
        ("carwyn-jones", "Jones"),
    ]
    both = names.scan("Owen Jones and Carwyn Jones; Jones said")
    assert [m.actor_id for m in both.matches] == ["owen-jones", "carwyn-jones"]
    assert [(a.alias, a.candidates) for a in both.ambiguous] == [
        ("Jones", ("carwyn-jones", "owen-jones"))
    ]
    # the roster can mark a surname as unambiguous
    assert found(names, "Corbyn said") == [("corbyn", "Corbyn")]


def test_marked_alias_shared_by_two_actors_stays_ambiguous() -> None:
    matcher = NameMatcher([("Smith!", "a"), ("Smith!", "b"), ("Ann Smith", "a")])
    assert found(matcher, "Smith said") == []
    assert found(matcher, "Ann Smith; Smith said") == [("a", "Ann Smith"), ("a", "Smith")]


def test_overlapping_aliases_keep_the_leftmost_longest(names: NameMatcher) -> None:
    assert found(names, "Ellie Mae O'Hagan") == [("ohagan", "Ellie Mae O'Hagan")]
    assert found(names, "Ellie Mae spoke") == [("ellie", "Ellie Mae")]
    matcher = NameMatcher.from_actors(
        {"a": ["New Labour", "Labour Party"], "b": "New Labour Party"}
    )
    assert found(matcher, "the New Labour Party line") == [("b", "New Labour Party")]
    assert found(matcher, "the New Labour party line") == [("b", "New Labour party")]
    matcher = NameMatcher.from_actors({"a": "Green Party", "b": "Party of Wales"})
    assert found(matcher, "Green Party of Wales") == [("a", "Green Party")]


def test_offsets_stay_valid_when_folding_changes_the_text(names: NameMatcher) -> None:
    text = "Straße ＯＷＥＮ ＪＯＮＥＳ and ﬁne Owen Jones"
    assert found(names, text) == [
        ("owen-jones", "ＯＷＥＮ ＪＯＮＥＳ"),
        ("owen-jones", "Owen Jones"),
    ]
    text = "İstanbul: Clive Lewis"
    assert found(names, text) == [("clive-lewis", "Clive Lewis")]
    text = "Zoe\u0308 Cafe\u0301 met Zoë Café"
    assert found(NameMatcher.from_actors({"z": "Zoë Café"}), text) == [
        ("z", "Zoe\u0308 Cafe\u0301"),
        ("z", "Zoë Café"),
    ]


def test_name_matcher_inputs_and_edges() -> None:
    pairs = NameMatcher([("Owen Jones", "owen-jones"), ("", "x"), ("--", "y")])
    assert len(pairs) == 1
    assert pairs.find("") == []
    assert NameMatcher({}).find("Owen Jones") == []
    # the mapping form goes from alias to actor id(s)
    by_alias = NameMatcher({"Owen Jones": "owen-jones", "Jones": ["owen-jones", "carwyn-jones"]})
    assert found(by_alias, "Owen Jones; Jones") == [
        ("owen-jones", "Owen Jones"),
        ("owen-jones", "Jones"),
    ]
    assert by_alias.scan("Jones").ambiguous[0].candidates == ("carwyn-jones", "owen-jones")
    issues = NameMatcher.from_actors(
        {"pr": ["proportional representation", "PR"]}, require_full_name=False
    )
    assert [m.actor_id for m in issues.find("PR now: proportional representation")] == ["pr", "pr"]


def test_scan_many_equals_scan_and_never_crosses_texts(names: NameMatcher) -> None:
    texts = [
        "Clive Lewis said",
        "talking to Owen",
        "Jones about it",
        "",
        "Mason only. Paul Mason's",
        "Straße Owen Jones",
        "Carwyn Jones; Jones",
    ]
    assert names.scan_many(texts) == [names.scan(text) for text in texts]
    scans = names.scan_many(texts)
    assert scans[1].matches == () and scans[2].matches == ()  # "Owen" + "Jones" across texts
    assert [(m.start, m.end) for m in scans[4].matches] == [(0, 5), (12, 22)]
    assert names.scan_many(["Owen Jones"]) == [names.scan("Owen Jones")]
    assert names.scan_many([]) == []


_WORDY = st.text(
    alphabet=st.sampled_from(list("OwenJonsClivLwiMa ’'-.,s\nßİ\u0301é_1ÉＯﬁ…\u00a0")), max_size=60
)


def _words(text: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", fold(text)).split())


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_WORDY, st.sampled_from(["Owen Jones", "Clive Lewis", "O'Hagan"]))))
def test_names_only_on_word_boundaries(parts: list[str]) -> None:
    matcher = NameMatcher.from_actors(
        {
            "owen-jones": ["Owen Jones", "Jones"],
            "clive-lewis": ["Clive Lewis", "Lewis!"],
            "ohagan": ["O'Hagan", "Hagan!"],
            "mason": "Mason",
        }
    )
    text = "".join(parts)
    previous_end = 0
    for match in matcher.find(text):
        assert 0 <= match.start < match.end <= len(text)
        assert match.start >= previous_end  # ordered, not overlapping
        previous_end = match.end
        assert match.start == 0 or not text[match.start - 1].isalnum()
        assert match.end == len(text) or not text[match.end].isalnum()
        assert text[match.start].isalnum()
        assert text[match.end - 1].isalnum()
        # the matched stretch of the original text spells the alias
        assert _words(text[match.start : match.end]) == _words(match.alias)


# --------------------------------------------------------------------------- resolver


def test_mentions_resolve_by_handle_and_unknowns_become_provisional(roster: Roster) -> None:
    post = x_post(
        "1",
        "OwenJones84",
        "@SomeOne and @paulmasonnews",
        Reference("mention", "SomeOne"),
        Reference("mention", "paulmasonnews"),
    )
    resolution = Resolver(roster).resolve([post])
    assert triples(resolution.events) == [
        ("owen-jones", "x:someone", "mention"),
        ("owen-jones", "paul-mason", "mention"),
    ]
    someone = resolution.actors["x:someone"]
    assert someone == Actor(
        "x:someone", "@SomeOne", kind="unknown", handles={"x": ("SomeOne",)}, provisional=True
    )
    assert set(resolution.provisional) == {"x:someone"}
    assert set(roster.actors) < set(resolution.actors)


def test_event_fields(roster: Roster) -> None:
    post = x_post(
        "7", "owenjones84", "Replying to @labourlewis about it", Reference("reply", "labourlewis")
    )
    (event,) = Resolver(roster, match_names=False).resolve([post]).events
    assert event == EdgeEvent(
        source="owen-jones",
        target="clive-lewis",
        type="reply",
        post="x:7",
        time=T0,
        snippet="Replying to @labourlewis about it",
        url="https://x.com/owenjones84/status/7",
        weight=None,
    )
    explicit = x_post("8", "owenjones84", "x", Reference("quote", "labourlewis", snippet="quoted"))
    (event,) = Resolver(roster).resolve([explicit]).events
    assert (event.type, event.snippet) == ("quote", "quoted")


def test_one_event_per_post_target_and_type(roster: Roster) -> None:
    post = x_post(
        "1",
        "OwenJones84",
        "@x @x",
        Reference("mention", "someone"),
        Reference("mention", "SOMEONE"),
        Reference("reply", "someone"),
        Reference("mention", "paulmasonnews"),
        Reference("mention", "@PaulMasonNews"),
    )
    assert triples(Resolver(roster).resolve([post]).events) == [
        ("owen-jones", "x:someone", "mention"),
        ("owen-jones", "x:someone", "reply"),
        ("owen-jones", "paul-mason", "mention"),
    ]


def test_self_references_are_not_events(roster: Roster) -> None:
    post = x_post(
        "1",
        "OwenJones84",
        "I, Owen Jones, wrote https://owenjones.example.net/a",
        Reference("mention", "owenjones84"),
        Reference("link", "https://owenjones.example.net/a"),
        Reference("quote", "OwenJones84"),
    )
    resolution = Resolver(roster).resolve([post])
    assert resolution.events == []
    assert resolution.topics["owen-jones"]["domain:owenjones.example.net"] == 1
    unknown = x_post("2", "stranger", "", Reference("mention", "Stranger"))
    assert Resolver(roster).resolve([unknown]).events == []


def test_links_resolve_by_longest_prefix_and_profiles(roster: Roster) -> None:
    post = x_post(
        "1",
        "neal_lawson",
        "",
        Reference("link", "https://www.example.org/blog/x?utm_source=a"),
        Reference("link", "https://example.org/about"),
        Reference("link", "https://example.org/blogger"),
        Reference("link", "https://twitter.com/labourlewis/status/9"),
        Reference("link", "https://bsky.app/profile/compass.example.org"),
        Reference("link", "https://x.com/NewPerson"),
        Reference("link", "https://unknown.example.com/a"),
        Reference("link", "not a url"),
    )
    resolution = Resolver(roster).resolve([post])
    assert triples(resolution.events) == [
        ("neal-lawson", "example-blog", "link"),
        ("neal-lawson", "example-org", "link"),
        ("neal-lawson", "clive-lewis", "link"),
        ("neal-lawson", "compass", "link"),
        ("neal-lawson", "x:newperson", "link"),
    ]
    assert "unknown.example.com" not in resolution.actors
    assert resolution.topics["neal-lawson"] == Counter(
        {"domain:example.org": 1, "domain:unknown.example.com": 1}
    )
    report = resolution.report
    assert report.count("domain", "unknown.example.com") == 1
    assert report.count("url", "not a url") == 1
    assert report.count("handle", "newperson", platform="x") == 1


def test_names_in_text_become_name_events(roster: Roster) -> None:
    post = x_post(
        "1",
        "OwenJones84",
        "Owen Jones here: Clive Lewis and Ellie-Mae O’Hagan’s plan. Jones and Mason agree.",
    )
    resolution = Resolver(roster).resolve([post])
    assert triples(resolution.events) == [
        ("owen-jones", "clive-lewis", "name"),
        ("owen-jones", "ellie-mae-ohagan", "name"),
    ]
    event = resolution.events[0]
    assert "Clive Lewis" in event.snippet
    assert event.weight is None
    # "Jones" (two actors, and the author's own full name) and "Mason" stay unresolved
    assert resolution.report.count("name", "Mason") == 1
    without = Resolver(roster, match_names=False).resolve([post])
    assert without.events == []


def test_name_snippet_is_about_140_characters_around_the_match(roster: Roster) -> None:
    text = "a " * 200 + "Clive Lewis" + " b" * 200
    (event,) = Resolver(roster).resolve([x_post("1", "OwenJones84", text)]).events
    assert "Clive Lewis" in event.snippet
    assert 130 <= len(event.snippet) <= 145


def test_topics_issues_hashtags_and_domains(roster: Roster) -> None:
    posts = [
        x_post(
            "1",
            "neal_lawson",
            "A Progressive Alliance now! The progressive alliance needs PR.",
            Reference("link", "https://news.example.net/story"),
            tags=("ProgressiveAlliance", "#PR"),
        ),
        x_post(
            "2",
            "neal_lawson",
            "Electoral reform, again: progressive alliances.",
            Reference("link", "https://news.example.net/other"),
            tags=("progressivealliance",),
        ),
    ]
    topics = Resolver(roster).resolve(posts).topics
    assert topics == {
        "neal-lawson": Counter(
            {
                "issue:progressive-alliance": 2,  # counted once per post
                "issue:proportional-representation": 2,
                "#progressivealliance": 2,
                "#pr": 1,
                "domain:news.example.net": 2,
            }
        )
    }


def test_report_counts_posts_and_keeps_three_examples(roster: Roster) -> None:
    posts = [
        x_post(str(i), "OwenJones84", "", Reference("mention", "fan"), Reference("reply", "Fan"))
        for i in range(5)
    ]
    posts.append(x_post("9", "OwenJones84", "", Reference("mention", "critic")))
    resolution = Resolver(roster).resolve(posts)
    report = resolution.report
    assert report.count("handle", "fan", platform="x") == 5
    assert report.count("provisional", "x:fan") == 5
    top = report.top(2, category="handle")
    assert [(e.key, e.count, e.examples) for e in top] == [
        ("fan", 5, ("x:0", "x:1", "x:2")),
        ("critic", 1, ("x:9",)),
    ]
    assert report.top(1)[0].count == 5
    rows = report.to_rows()
    # most frequent first; ties by category then key
    assert rows[:2] == [
        {
            "category": "handle",
            "platform": "x",
            "key": "fan",
            "count": 5,
            "examples": "x:0 x:1 x:2",
            "note": "",
        },
        {
            "category": "provisional",
            "platform": "x",
            "key": "x:fan",
            "count": 5,
            "examples": "x:0 x:1 x:2",
            "note": "",
        },
    ]
    assert len(rows) == 4


def test_provisional_false_only_reports(roster: Roster) -> None:
    posts = [
        x_post("1", "OwenJones84", "", Reference("mention", "someone")),
        x_post("2", "stranger", "", Reference("mention", "OwenJones84")),
    ]
    resolution = Resolver(roster, provisional=False).resolve(posts)
    assert resolution.events == []
    assert resolution.provisional == {}
    assert resolution.report.count("handle", "someone") == 1
    assert resolution.report.count("handle", "stranger") == 1


def test_numeric_ids_use_external_ids(roster: Roster) -> None:
    posts = [
        Post(
            "x:1",
            "x",
            "",
            T0,
            author_id="1001",
            references=(
                Reference("reply", "", target_id="1002"),
                Reference("mention", "", target_id="777"),
                Reference("mention", ""),
            ),
        )
    ]
    resolution = Resolver(roster).resolve(posts)
    assert triples(resolution.events) == [
        ("owen-jones", "paul-mason", "reply"),
        ("owen-jones", "x:777", "mention"),
    ]
    assert resolution.actors["x:777"].external_ids == {"x": "777"}
    # a changed handle still resolves through the id
    renamed = x_post("2", "OwenJonesNew", "", Reference("mention", "x"), author_id="1001")
    assert Resolver(roster).resolve([renamed]).events[0].source == "owen-jones"


def test_web_authors(roster: Roster) -> None:
    def web(uid: str, url: str, author: str = "", name: str = "") -> Post:
        return Post(
            f"web:{uid}",
            "web",
            author,
            T0,
            "",
            url=url,
            author_name=name,
            references=(Reference("link", "https://owenjones.example.net/x"),),
        )

    posts = [
        web("1", "https://compassonline.org.uk/blog/post"),
        web("2", "https://medium.example/post", author="someone", name="Paul Mason"),
        web("3", "https://www.new.example/post/1", author="A Writer"),
        web("4", "https://www.new.example/post/2"),
        Post(
            "feed:5",
            "feed",
            "Neal Lawson",
            T0,
            "",
            references=(Reference("link", "https://compassonline.org.uk"),),
        ),
    ]
    resolution = Resolver(roster).resolve(posts)
    assert triples(resolution.events) == [
        ("compass", "owen-jones", "link"),
        ("paul-mason", "owen-jones", "link"),
        ("web:new.example", "owen-jones", "link"),
        ("web:new.example", "owen-jones", "link"),
        ("neal-lawson", "compass", "link"),
    ]
    provisional = resolution.actors["web:new.example"]
    assert (provisional.kind, provisional.provisional, provisional.domains) == (
        "unknown",
        True,
        ("new.example",),
    )


def test_table_edges(roster: Roster) -> None:
    post = Post(
        "table:edges.csv:2",
        "table",
        "owen-jones",
        T0,
        references=(
            Reference("mention", "@labourlewis", weight=3.0),
            Reference("repost", "compass"),
            Reference("mention", "Some Group"),
        ),
    )
    unknown_author = Post(
        "table:edges.csv:3",
        "table",
        "Some Group",
        T0,
        references=(Reference("mention", "owen-jones"),),
    )
    resolution = Resolver(roster).resolve([post, unknown_author])
    assert [(e.source, e.target, e.type, e.weight) for e in resolution.events] == [
        ("owen-jones", "clive-lewis", "mention", 3.0),
        ("owen-jones", "compass", "repost", None),
        ("owen-jones", "Some Group", "mention", None),
        ("Some Group", "owen-jones", "mention", None),
    ]
    assert resolution.actors["Some Group"].provisional


def test_bluesky_and_mastodon(roster: Roster) -> None:
    posts = [
        Post(
            "bluesky:at://1",
            "bluesky",
            "owenjones.bsky.social",
            T0,
            references=(
                Reference("mention", "Compass.Example.org"),
                Reference("mention", "new.bsky.social"),
            ),
        ),
        Post(
            "mastodon:https://mastodon.example/@paulmason/1",
            "mastodon",
            "paulmason@mastodon.example",
            T0,
            url="https://mastodon.example/@paulmason/1",
            references=(
                Reference("mention", "friend"),
                Reference("mention", "other@elsewhere.example"),
            ),
        ),
    ]
    resolution = Resolver(roster).resolve(posts)
    assert triples(resolution.events) == [
        ("owen-jones", "compass", "mention"),
        ("owen-jones", "bluesky:new.bsky.social", "mention"),
        ("paul-mason", "mastodon:friend@mastodon.example", "mention"),
        ("paul-mason", "mastodon:other@elsewhere.example", "mention"),
    ]
    assert resolution.actors["mastodon:friend@mastodon.example"].name == "@friend@mastodon.example"


def test_resolve_is_fresh_and_resolve_post_streams(roster: Roster) -> None:
    resolver = Resolver(roster)
    first = x_post("1", "OwenJones84", "", Reference("mention", "someone"))
    second = x_post("2", "OwenJones84", "", Reference("mention", "other"))
    assert len(resolver.resolve([first]).events) == 1
    again = resolver.resolve([second])
    assert triples(again.events) == [("owen-jones", "x:other", "mention")]
    assert "x:someone" not in again.actors
    streamed = Resolver(roster)
    assert len(streamed.resolve_post(first)) == 1
    assert len(streamed.resolve_post(second)) == 1
    assert len(streamed.resolution.events) == 2
    assert {"x:someone", "x:other"} <= set(streamed.resolution.provisional)


def test_posts_without_author_are_reported(roster: Roster) -> None:
    post = Post("x:1", "x", "", T0, references=(Reference("mention", "someone"),))
    resolution = Resolver(roster).resolve([post])
    assert resolution.events == []
    assert resolution.report.count("author", "") == 1


def test_batched_resolve_equals_post_by_post(roster: Roster) -> None:
    texts = [
        "Owen Jones and Clive Lewis on the progressive alliance",
        "Jones alone",
        "",
        "Paul Mason",
        "Ellie-Mae O’Hagan’s PR plan",
    ]
    authors = ["neal_lawson", "OwenJones84", "labourlewis", "someone"]
    posts = [
        x_post(str(i), authors[i % 4], texts[i % 5], Reference("mention", "paulmasonnews"))
        for i in range(200)
    ]
    batched = Resolver(roster).resolve(posts)
    one_by_one = Resolver(roster)
    for post in posts:
        one_by_one.resolve_post(post)
    assert batched.events == one_by_one.resolution.events
    assert batched.topics == one_by_one.resolution.topics
    assert batched.report.to_rows() == one_by_one.resolution.report.to_rows()
    assert sum(e.type == "name" for e in batched.events) > 100


def test_resolve_streams_a_generator(roster: Roster) -> None:
    def posts():
        for i in range(1000):
            yield x_post(str(i), "OwenJones84", "", Reference("mention", f"user{i % 10}"))

    resolution = Resolver(roster).resolve(posts())
    assert len(resolution.events) == 1000
    assert len(resolution.provisional) == 10
    assert resolution.report.top(1, "handle")[0].count == 100


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(_WORDY, st.sampled_from(["Owen Jones", "Lewis", "Clive"]))), max_size=8
    )
)
def test_scan_many_matches_scan_on_random_texts(parts: list[list[str]]) -> None:
    matcher = NameMatcher.from_actors(
        {"owen-jones": ["Owen Jones", "Jones"], "clive-lewis": ["Clive Lewis", "Lewis"]}
    )
    texts = ["".join(p) for p in parts]
    assert matcher.scan_many(texts) == [matcher.scan(text) for text in texts]
