"""Tests for the X archive importer against the real X API v2 fixtures
(tests/fixtures/x-api-v2, copied unchanged from DocNow/twarc-csv) and small synthetic
lines for every shape and every kind of broken line.

Expected counts were verified independently of mapper with jq while writing the
tests; each assertion names the command that produced its number.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import random
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapper import __version__
from mapper.collectors.x_archive import (
    COLLECTOR,
    import_archive,
    iter_archive,
    posts_from_page,
)
from mapper.errors import ImportFormatError, MapperError
from mapper.records import Post
from mapper.store import Store

FIX = Path(__file__).parent / "fixtures" / "x-api-v2"
NOFLAT = FIX / "noflat.jsonl"
FLAT = FIX / "flat.jsonl"
MENTIONS = FIX / "mentions_tweet.jsonl"
STREAM = FIX / "streaming_output_with_error.jsonl"


def read_all(path: Path, **kwargs: Any) -> tuple[list[Post], list[tuple[int, str, str]]]:
    bad: list[tuple[int, str, str]] = []
    posts = list(iter_archive(path, on_bad=lambda *a: bad.append(a), **kwargs))
    return posts, bad


def kinds(posts: list[Post]) -> Counter[str]:
    return Counter(r.kind for p in posts for r in p.references)


def without_provenance(posts: list[Post]) -> dict[str, Post]:
    return {p.uid: dataclasses.replace(p, provenance=None) for p in posts}


def write_lines(path: Path, lines: list[Any]) -> Path:
    with open(path, "wb") as fh:
        for line in lines:
            fh.write(line if isinstance(line, bytes) else orjson.dumps(line))
            fh.write(b"\n")
    return path


def tweet(tid: Any = "1", author: str = "alice", author_id: Any = "10", **extra: Any) -> dict:
    """A flattened post (twarc2 flatten shape) with ``author`` inlined."""
    t: dict[str, Any] = {
        "id": tid,
        "author_id": author_id,
        "text": extra.pop("text", "hello"),
        "created_at": "2024-03-01T12:00:00.000Z",
        "author": {"id": author_id, "username": author, "name": author.title()},
    }
    t.update(extra)
    return t


# --------------------------------------------------------------------------- real fixtures


def test_noflat_page_counts() -> None:
    posts, bad = read_all(NOFLAT)
    assert bad == []
    # jq '.data | length' noflat.jsonl -> 100
    assert len(posts) == 100
    assert len({p.uid for p in posts}) == 100
    # jq -r '.data[].author_id' noflat.jsonl | sort -u | wc -l -> 96
    assert len({p.author_id for p in posts}) == 96
    assert len({p.author for p in posts}) == 96
    counts = kinds(posts)
    # jq '[.data[] | select(.in_reply_to_user_id)] | length' -> 32
    assert counts["reply"] == 32
    # jq '[.data[].referenced_tweets // [] | .[] | .type] | group_by(.) | ...'
    #   -> retweeted 47, quoted 8, replied_to 31
    assert counts["repost"] == 47
    assert counts["quote"] == 8
    # 110 mention entities in all (jq '[.data[].entities.mentions // [] | length] | add');
    # mention references leave out reposts and the replied-to account, one per
    # distinct account per post:
    # jq '(.includes.users | map({(.id): (.username|ascii_downcase)}) | add) as $u
    #   | [.data[] | select(((.referenced_tweets // []) | map(.type)
    #        | index("retweeted")) | not)
    #   | ($u[.in_reply_to_user_id // ""] // "") as $r
    #   | [.entities.mentions // [] | .[] | .username | ascii_downcase] | unique
    #   | map(select(. != $r)) | length] | add' noflat.jsonl -> 20
    assert counts["mention"] == 20
    # links of non-reposts: no media_key, no pic.twitter.com, not a status URL of the
    # post or a post it references, distinct per post (jq, see the report) -> 9
    assert counts["link"] == 9
    assert set(counts) == {"reply", "repost", "quote", "mention", "link"}


def test_noflat_mention_missing_from_includes_is_still_a_reference() -> None:
    page = json.loads(NOFLAT.read_text(encoding="utf-8"))
    usernames = {u["username"].lower() for u in page["includes"]["users"]}
    assert "gatewaypundit" not in usernames  # the user twarc-network crashes on
    assert any("gatewaypundit" in e.get("resource_id", "") for e in page["errors"])
    posts = {p.uid: p for p in iter_archive(NOFLAT)}
    post = posts["x:1380242597881409537"]
    mentions = [r for r in post.references if r.kind == "mention"]
    assert [(r.target, r.target_id) for r in mentions] == [("gatewaypundit", None)]
    assert "@gatewaypundit" in mentions[0].snippet
    links = [r.target for r in post.references if r.kind == "link"]
    assert links and links[0].startswith("https://www.thegatewaypundit.com/2021/04/nasa")


def test_noflat_fields_and_provenance() -> None:
    posts = {p.uid: p for p in iter_archive(NOFLAT)}
    post = posts["x:1380242611781386245"]  # a retweet of williamserafino
    assert post.platform == "x"
    assert post.author_id == "1352661060663336960"
    assert post.url == f"https://x.com/{post.author}/status/1380242611781386245"
    assert post.created_at == datetime(2021, 4, 8, 19, 34, 16, tzinfo=UTC)
    assert post.language == "es"
    assert post.text.startswith("RT @williamserafino: De manera simultánea")
    assert [(r.kind, r.target, r.target_id) for r in post.references] == [
        ("repost", "williamserafino", "2718660392")
    ]
    assert post.tags == ()
    prov = post.provenance
    assert prov is not None
    assert (prov.collector, prov.version, prov.source, prov.line) == (
        COLLECTOR,
        __version__,
        str(NOFLAT.resolve()),
        1,
    )
    assert prov.retrieved_at == datetime(2021, 4, 8, 19, 34, 32, tzinfo=UTC)
    for p in posts.values():
        assert isinstance(p.author_id, str)
        assert p.created_at is not None and p.created_at.utcoffset().total_seconds() == 0
        for r in p.references:
            assert r.target_id is None or isinstance(r.target_id, str)
            assert r.snippet, (p.uid, r)
    # HTML entities are unescaped in the text
    assert not any("&amp;" in p.text for p in posts.values())
    assert any(" & " in p.text for p in posts.values())


def test_flat_counts_and_consistency_with_noflat() -> None:
    flat, bad = read_all(FLAT)
    assert bad == []
    # wc -l flat.jsonl -> 100; jq -r '.author_id' flat.jsonl | sort -u | wc -l -> 96
    assert len(flat) == 100
    assert len({p.author_id for p in flat}) == 96
    # Same mention rule on the flattened shape (reply user inlined):
    # jq -s '[.[] | select(((.referenced_tweets // []) | map(.type) | index("retweeted"))
    #   | not) | ((.in_reply_to_user.username // "") | ascii_downcase) as $r
    #   | [.entities.mentions // [] | .[] | .username | ascii_downcase] | unique
    #   | map(select(. != $r)) | length] | add' flat.jsonl -> 20
    assert kinds(flat)["mention"] == 20
    noflat = list(iter_archive(NOFLAT))
    # The same 100 posts in both shapes normalize to identical records.
    assert without_provenance(flat) == without_provenance(noflat)
    assert [p.provenance.line for p in flat] == list(range(1, 101))  # type: ignore[union-attr]
    assert {p.provenance.retrieved_at for p in flat} == {  # type: ignore[union-attr]
        datetime(2021, 4, 8, 19, 34, 32, tzinfo=UTC)
    }


def test_include_referenced_flat_and_noflat_agree() -> None:
    noflat = list(iter_archive(NOFLAT, include_referenced=True))
    flat = list(iter_archive(FLAT, include_referenced=True))
    # jq '.includes.tweets | length' noflat.jsonl -> 66, of which 2 are also in data:
    # jq '([.data[].id] - ([.data[].id] - [.includes.tweets[].id])) | length' -> 2
    assert len(noflat) == 164
    assert len({p.uid for p in noflat}) == 164
    assert {p.uid for p in flat} == {p.uid for p in noflat}
    # flattened lines inline the same referenced post more than once
    assert len(flat) > len({p.uid for p in flat})


def test_mentions_tweet_repost() -> None:
    posts, bad = read_all(MENTIONS)
    assert bad == []
    # jq '.data | length' mentions_tweet.jsonl -> 1; its author_id 68401342 is BaldManGamer
    assert len(posts) == 1
    post = posts[0]
    assert (post.uid, post.author, post.author_id, post.author_name) == (
        "x:1589681856941002753",
        "BaldManGamer",
        "68401342",
        "BmG",
    )
    # the "RT @S3NT1N3L17:" mention is the repost itself, not a separate mention
    assert [(r.kind, r.target, r.target_id) for r in post.references] == [
        ("repost", "S3NT1N3L17", "1221317221714157569")
    ]
    assert post.provenance.retrieved_at == datetime(2023, 1, 5, 17, 34, 4, tzinfo=UTC)  # type: ignore[union-attr]


def test_mentions_tweet_referenced_post_when_included() -> None:
    posts = {p.uid: p for p in iter_archive(MENTIONS, include_referenced=True)}
    # includes.tweets holds the post itself and the original (1589671906718134272)
    assert set(posts) == {"x:1589681856941002753", "x:1589671906718134272"}
    original = posts["x:1589671906718134272"]
    assert original.author == "S3NT1N3L17"
    # jq '.includes.tweets[1].entities.mentions | length' -> 8
    assert [r.target for r in original.references if r.kind == "mention"] == [
        "Xbox",
        "masseffect",
        "Ubisoft",
        "RockstarGames",
        "tombraider",
        "CallofDuty",
        "SonySantaMonica",
        "Naughty_Dog",
    ]
    assert original.tags == ("xbox", "playstation", "gaming")
    # its two URLs are the "show more" link to itself and a photo: no link references
    assert [r for r in original.references if r.kind == "link"] == []


def test_streaming_error_line_is_quarantined_not_fatal(tmp_path: Path) -> None:
    posts, bad = read_all(STREAM)
    # 7 complete lines (wc -l -> 7 newlines), the 8th is cut off after 44 bytes
    assert len(posts) == 7
    assert [b[0] for b in bad] == [8]
    assert "invalid JSON" in bad[0][1]
    assert bad[0][2] == '{"data": {"author_id": "1021159080151404544"'
    # jq -s '[.[].data.referenced_tweets // [] | .[].type]' (first 7 lines)
    #   -> quoted 1, replied_to 3; the 3 mentions are the replied-to accounts
    counts = kinds(posts)
    assert (counts["reply"], counts["quote"], counts["mention"], counts["repost"]) == (3, 1, 0, 0)
    # two instagram links; the quoted post's URL and the photo links are not links
    assert sorted(r.target[:30] for p in posts for r in p.references if r.kind == "link") == [
        "https://www.instagram.com/p/CN",
        "https://www.instagram.com/p/CN",
    ]
    with Store(tmp_path / "s.db") as store:
        result = import_archive(store, STREAM)
        assert (result.lines, result.posts, result.added, result.quarantined) == (8, 7, 7, 1)
        rows = store.quarantined()
        assert [(r["source"], r["line"]) for r in rows] == [(str(STREAM.resolve()), 8)]
        assert rows[0]["raw"].startswith('{"data": {"author_id"')


def test_fixture_copies_are_unchanged() -> None:
    shared = Path("/work/shared/fixtures/x-api-v2")
    if not shared.is_dir():
        pytest.skip("the shared fixture folder is not on this machine")
    for name in ("noflat.jsonl", "flat.jsonl", "mentions_tweet.jsonl", "README.md"):
        assert (FIX / name).read_bytes() == (shared / name).read_bytes(), name
    stream = "streaming_output_with_error.jsonl"
    assert (FIX / stream).read_bytes() == (shared / stream).read_bytes()


# --------------------------------------------------------------------------- shapes


def test_raw_response_with_single_data_object_and_int_ids(tmp_path: Path) -> None:
    # tweepy-style ids (int) and a single-object "data" (a lookup or stream message)
    response = {
        "data": {
            "id": 42,
            "author_id": 7,
            "text": "@bob hi @carol",
            "in_reply_to_user_id": 8,
            "entities": {
                "mentions": [
                    {"start": 0, "end": 4, "username": "bob", "id": "8"},
                    {"start": 8, "end": 14, "username": "carol", "id": 9},
                ]
            },
        },
        "includes": {"users": [{"id": 7, "username": "al"}, {"id": "8", "username": "bob"}]},
        "matching_rules": [{"id": 1, "tag": None}],
    }
    posts, bad = read_all(write_lines(tmp_path / "a.jsonl", [response]))
    assert bad == []
    (post,) = posts
    assert (post.uid, post.author, post.author_id) == ("x:42", "al", "7")
    assert [(r.kind, r.target, r.target_id) for r in post.references] == [
        ("reply", "bob", "8"),
        ("mention", "carol", "9"),
    ]
    assert post.provenance.retrieved_at is None  # type: ignore[union-attr]


def test_pretty_printed_document(tmp_path: Path) -> None:
    page = json.loads(MENTIONS.read_text(encoding="utf-8"))
    path = tmp_path / "response.json"
    path.write_text(json.dumps(page, indent=2), encoding="utf-8")
    posts, bad = read_all(path)
    assert bad == []
    assert [p.uid for p in posts] == ["x:1589681856941002753"]
    assert posts[0].provenance.line is None  # type: ignore[union-attr]
    with Store(tmp_path / "s.db") as store:
        result = import_archive(store, path)
        assert (result.posts, result.added) == (1, 1)
        raw = store.raw_payload("x:1589681856941002753")
        assert raw is not None and json.loads(raw)["id"] == "1589681856941002753"


def test_json_array_of_posts_and_of_pages(tmp_path: Path) -> None:
    path = tmp_path / "arr.json"
    path.write_text(json.dumps([tweet("1"), tweet("2", author="bob")], indent=1))
    assert [p.uid for p in iter_archive(path)] == ["x:1", "x:2"]
    line = write_lines(tmp_path / "arr.jsonl", [[{"data": [tweet("3")]}, tweet("4")]])
    assert [p.uid for p in iter_archive(line)] == ["x:3", "x:4"]


def test_error_only_and_empty_pages(tmp_path: Path) -> None:
    lines = [
        {"errors": [{"title": "operational-disconnect", "detail": "Stream closed"}]},
        {"meta": {"result_count": 0}, "__twarc": {"retrieved_at": "2024-01-01T00:00:00+00:00"}},
        {"data": [], "meta": {"result_count": 0}},
        tweet("5"),
        {"data": None, "errors": [{"title": "Not Found Error", "detail": "gone"}]},
    ]
    posts, bad = read_all(write_lines(tmp_path / "s.jsonl", lines))
    assert [p.uid for p in posts] == ["x:5"]
    assert [(line, reason.split(":")[0]) for line, reason, _ in bad] == [
        (1, "X API error response"),
        (5, "X API error response"),
    ]
    assert "operational-disconnect: Stream closed" in bad[0][1]


def test_bad_lines_are_quarantined_and_good_lines_kept(tmp_path: Path) -> None:
    good = orjson.dumps(tweet("1"))
    lines = [
        good,
        good[:30],  # truncated
        b'{"id": "2", "text": "caf\xe9", "author_id": "3"}',  # invalid UTF-8
        b'{"id": "3",\x00 "text": "x"}',  # NUL byte
        b"",  # blank (a stream keep-alive): skipped silently
        orjson.dumps({"hello": "world"}),  # wrong shape
        orjson.dumps(42),
        orjson.dumps(tweet("4", author="bob")),
        orjson.dumps({"data": [tweet("5"), "junk", {"id": "6"}, {"text": "no id"}]}),
    ]
    posts, bad = read_all(write_lines(tmp_path / "b.jsonl", lines))
    assert [p.uid for p in posts] == ["x:1", "x:4", "x:5"]
    reasons = {(line, reason.split(":")[0]) for line, reason, _ in bad}
    assert reasons == {
        (2, "invalid JSON (truncated line?)"),
        (3, "invalid UTF-8 at byte 24"),
        (4, "NUL byte in line"),
        (6, "not an X API object (keys"),
        (7, "not an X API object (a JSON int)"),
        (9, "post 2 of 4"),
        (9, "post 3 of 4"),
        (9, "post 4 of 4"),
    }
    assert all(len(excerpt) <= 2048 for _, _, excerpt in bad)


def test_empty_and_non_json_files_raise(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(ImportFormatError, match=r"empty\.jsonl: empty file"):
        list(iter_archive(empty))
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n\n  \n")
    with pytest.raises(ImportFormatError, match="empty file"):
        list(iter_archive(blank))
    csv = tmp_path / "edges.jsonl"
    csv.write_text("source,target\nalice,bob\n")
    bad: list[Any] = []
    with pytest.raises(ImportFormatError) as info:
        list(iter_archive(csv, on_bad=lambda *a: bad.append(a)))
    message = str(info.value)
    assert str(csv) in message and "no X API data found" in message and "\n" not in message
    assert len(bad) == 2
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(ImportFormatError, match=r"nope\.jsonl: file not found"):
        list(iter_archive(missing))


def test_rejected_file_leaves_no_quarantine_rows(tmp_path: Path) -> None:
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(b"not json\nstill not\n")
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(ImportFormatError):
            import_archive(store, path)
        assert store.quarantine_count() == 0
        assert store.import_status(path) is None


def test_gzip_bom_and_crlf(tmp_path: Path) -> None:
    body = b"\xef\xbb\xbf" + orjson.dumps(tweet("1")) + b"\r\n" + orjson.dumps(tweet("2")) + b"\r\n"
    plain = tmp_path / "a.jsonl"
    plain.write_bytes(body)
    zipped = tmp_path / "a.jsonl.gz"
    zipped.write_bytes(gzip.compress(body))
    assert [p.uid for p in iter_archive(plain)] == ["x:1", "x:2"]
    assert [p.uid for p in iter_archive(zipped)] == ["x:1", "x:2"]
    with Store(tmp_path / "s.db") as store:
        import_archive(store, zipped)
        raw = store.raw_payload("x:2")
        assert raw is not None and json.loads(raw)["id"] == "2"
    # a compressed capture cut short: what was decompressed is kept, the rest reported
    rnd = random.Random(1)
    many = b"".join(
        orjson.dumps(tweet(str(i), text=f"{rnd.random()} {rnd.random()}")) + b"\n"
        for i in range(1, 301)
    )
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(many)[:-200])
    posts, bad = read_all(cut)
    assert 100 < len(posts) < 300
    assert [p.uid for p in posts] == [f"x:{i}" for i in range(1, len(posts) + 1)]
    assert len(bad) == 1 and "unreadable data from here on" in bad[0][1]


def test_unknown_reply_user_keeps_the_id(tmp_path: Path) -> None:
    post = tweet("1", in_reply_to_user_id="555", text="no mention here")
    (p,) = iter_archive(write_lines(tmp_path / "r.jsonl", [post]))
    assert [(r.kind, r.target, r.target_id) for r in p.references] == [("reply", "555", "555")]
    # ... but a mention of that id in the post names it
    post = tweet(
        "2",
        in_reply_to_user_id="555",
        text="@dora yes",
        entities={"mentions": [{"start": 0, "end": 5, "username": "dora", "id": "555"}]},
    )
    (p,) = iter_archive(write_lines(tmp_path / "r2.jsonl", [post]))
    assert [(r.kind, r.target, r.target_id) for r in p.references] == [("reply", "dora", "555")]


def test_author_unknown_uses_id_and_missing_author_is_bad(tmp_path: Path) -> None:
    lines = [
        {"data": [{"id": "1", "author_id": "77", "text": "x"}]},  # no includes
        {"data": [{"id": "2", "text": "no author at all"}]},
    ]
    posts, bad = read_all(write_lines(tmp_path / "a.jsonl", lines))
    assert [(p.uid, p.author, p.author_id, p.url) for p in posts] == [
        ("x:1", "77", "77", "https://x.com/i/status/1")
    ]
    assert bad[0][0] == 2 and "no author" in bad[0][1]


def test_note_tweet_text_and_entities(tmp_path: Path) -> None:
    long_text = "Long post " + "word " * 60 + "@erin and #Budget2024"
    start = long_text.index("@erin")
    post = tweet(
        "9",
        text="Long post word word…",
        note_tweet={
            "text": long_text,
            "entities": {
                "mentions": [{"start": start, "end": start + 5, "username": "erin"}],
                "hashtags": [{"tag": "Budget2024"}],
            },
        },
        lang="und",
    )
    (p,) = iter_archive(write_lines(tmp_path / "n.jsonl", [post]))
    assert p.text == long_text
    assert p.tags == ("budget2024",)
    assert p.language is None
    (mention,) = p.references
    assert mention.target == "erin" and "@erin" in mention.snippet
    assert len(mention.snippet) <= 142 and mention.snippet.startswith("…")


def test_link_rules(tmp_path: Path) -> None:
    urls = [
        {"url": "https://t.co/a", "expanded_url": "https://example.org/story"},
        {"url": "https://t.co/a", "expanded_url": "https://example.org/story"},  # repeat
        {"url": "https://t.co/b", "expanded_url": "https://x.com/carl/status/99"},  # quoted
        {"url": "https://t.co/c", "expanded_url": "https://twitter.com/i/web/status/1"},  # self
        {"url": "https://t.co/d", "expanded_url": "https://twitter.com/al/status/1/photo/1"},
        {
            "url": "https://t.co/e",
            "expanded_url": "https://x.com/al/status/1/video/1",
            "media_key": "3_1",
        },
        {"url": "https://t.co/f", "display_url": "pic.x.com/f", "expanded_url": "https://t.co/f"},
        {"url": "https://t.co/g", "expanded_url": "https://x.com/other/status/123"},  # kept
        {
            "url": "https://t.co/h",
            "expanded_url": "https://bit.ly/x",
            "unwound_url": "https://news.example/x",
        },
    ]
    post = tweet(
        "1",
        author="al",
        referenced_tweets=[{"type": "quoted", "id": "99"}],
        entities={"urls": urls},
    )
    (p,) = iter_archive(write_lines(tmp_path / "l.jsonl", [post]))
    assert [(r.kind, r.target) for r in p.references] == [
        ("quote", "carl"),  # referenced post missing: the username comes from its URL
        ("link", "https://example.org/story"),
        ("link", "https://x.com/other/status/123"),
        ("link", "https://news.example/x"),
    ]


def test_repost_of_deleted_post_falls_back_to_rt_mention(tmp_path: Path) -> None:
    post = tweet(
        "1",
        text="RT @zed: original words #tag",
        referenced_tweets=[{"type": "retweeted", "id": "77"}],
        entities={
            "mentions": [{"start": 3, "end": 7, "username": "zed"}],
            "hashtags": [{"tag": "tag"}],
        },
    )
    page = {"data": [post], "includes": {"users": [{"id": "5", "username": "zed"}]}}
    (p,) = iter_archive(write_lines(tmp_path / "rt.jsonl", [page]))
    assert [(r.kind, r.target, r.target_id) for r in p.references] == [("repost", "zed", "5")]
    assert p.tags == ()


def test_duplicates_across_pages_stored_once(tmp_path: Path) -> None:
    page1 = {"data": [tweet("1"), tweet("2")], "includes": {"tweets": [tweet("3")]}}
    page2 = {"data": [tweet("2"), tweet("3")], "includes": {"tweets": [tweet("1")]}}
    path = write_lines(tmp_path / "d.jsonl", [page1, page2])
    assert [p.uid for p in iter_archive(path)] == ["x:1", "x:2", "x:2", "x:3"]
    with Store(tmp_path / "s.db") as store:
        result = import_archive(store, path, include_referenced=True)
        assert (result.posts, result.added, result.duplicates) == (6, 3, 3)
        assert [p.uid for p in store.iter_posts()] == ["x:1", "x:2", "x:3"]


def test_posts_from_page_for_live_collectors() -> None:
    page = json.loads(NOFLAT.read_text(encoding="utf-8"))
    when = datetime(2024, 5, 1, tzinfo=UTC)
    posts = posts_from_page(page, source="search:obama", retrieved_at=when, collector="x-live")
    assert len(posts) == 100
    assert {
        (p.provenance.source, p.provenance.collector, p.provenance.retrieved_at) for p in posts
    } == {  # type: ignore[union-attr]
        ("search:obama", "x-live", when)
    }
    archived = without_provenance(list(iter_archive(NOFLAT)))
    assert without_provenance(posts) == archived
    errors: list[Any] = []
    assert (
        posts_from_page(
            {"errors": [{"title": "x"}]}, source="q", on_bad=lambda *a: errors.append(a)
        )
        == []
    )
    assert errors and errors[0][0] == 0


def test_import_archive_idempotent_and_force(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        first = import_archive(store, NOFLAT)
        assert (first.posts, first.added, first.duplicates, first.skipped_unchanged) == (
            100,
            100,
            0,
            False,
        )
        again = import_archive(store, NOFLAT)
        assert again.skipped_unchanged and (again.posts, again.added) == (0, 0)
        forced = import_archive(store, NOFLAT, force=True)
        assert (forced.posts, forced.added, forced.duplicates) == (100, 0, 100)
        # another option re-reads the file
        more = import_archive(store, NOFLAT, include_referenced=True)
        assert not more.skipped_unchanged and more.added == 64
        assert store.count_posts() == 164


# --------------------------------------------------------------------------- properties

_handles = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=15)
_ids = st.one_of(st.integers(min_value=1, max_value=2**62), st.integers(1, 10**18).map(str))


@st.composite
def flat_posts(draw: st.DrawFn) -> dict[str, Any]:
    tid = draw(_ids)
    names = draw(st.lists(_handles, max_size=4))
    text = draw(st.text(max_size=200))
    return {
        "id": tid,
        "text": text,
        "author_id": draw(_ids),
        "author": {"username": draw(_handles)},
        "created_at": draw(st.sampled_from(["2024-01-01T00:00:00.000Z", "garbage", None])),
        "entities": {
            "mentions": [
                {"username": n, "start": draw(st.integers(-5, 300)), "end": 3} for n in names
            ],
            "urls": draw(
                st.lists(st.fixed_dictionaries({"expanded_url": st.text(max_size=30)}), max_size=2)
            ),
        },
    }


# keys of X API objects, so random objects reach deep into the normalizer
_KEYS = [
    "data", "includes", "errors", "meta", "users", "tweets", "__twarc", "retrieved_at",
    "id", "text", "author", "author_id", "username", "name", "created_at", "lang",
    "entities", "mentions", "hashtags", "tag", "urls", "url", "expanded_url", "display_url",
    "media_key", "start", "end", "referenced_tweets", "type", "in_reply_to_user_id",
    "in_reply_to_user", "note_tweet",
]  # fmt: skip
_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["retweeted", "quoted", "replied_to", "1", "https://x.com/a/status/1"])
)

_json = st.recursive(
    _leaf,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(_KEYS),
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)


def _mutate(line: bytes, rnd: random.Random) -> bytes:
    choice = rnd.randrange(4)
    if choice == 0 and line:
        return line[: rnd.randrange(len(line))]
    if choice == 1:
        pos = rnd.randrange(len(line) + 1)
        return line[:pos] + bytes([rnd.randrange(256)]) + line[pos:]
    if choice == 2:
        return bytes(rnd.randrange(256) for _ in range(rnd.randrange(40)))
    return line.replace(b'"', b"", 1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    good=st.lists(flat_posts(), min_size=0, max_size=5),
    junk=st.lists(
        st.one_of(_json.map(lambda v: json.dumps(v).encode()), st.binary(max_size=60)), max_size=5
    ),
    seed=st.integers(0, 2**32),
)
def test_random_lines_never_crash_and_keep_readable_lines(
    good: list[dict[str, Any]], junk: list[bytes], seed: int
) -> None:
    rnd = random.Random(seed)
    lines: list[tuple[bytes, bool]] = [(orjson.dumps(p), True) for p in good]
    lines += [(j.replace(b"\n", b" "), False) for j in junk]
    lines += [(_mutate(orjson.dumps(p), rnd).replace(b"\n", b" "), False) for p in good[:2]]
    rnd.shuffle(lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.jsonl"
        path.write_bytes(b"\n".join(line for line, _ in lines) + b"\n")
        bad: list[tuple[int, str, str]] = []
        try:
            posts = list(iter_archive(path, on_bad=lambda *a: bad.append(a)))
        except MapperError:
            # only allowed when nothing at all was readable
            assert not good
            return
    by_line: dict[int, list[Post]] = {}
    for p in posts:
        by_line.setdefault(p.provenance.line, []).append(p)  # type: ignore[union-attr]
    bad_lines = {b[0] for b in bad}
    for number, (line, is_good) in enumerate(lines, 1):
        if is_good:
            expected = "x:" + str(orjson.loads(line)["id"]).strip()
            assert [p.uid for p in by_line.get(number, [])] == [expected]
            assert number not in bad_lines
        for p in by_line.get(number, []):
            assert isinstance(p.author, str) and p.author
            assert all(isinstance(r.target, str) and r.target for r in p.references)
    assert all(len(excerpt) <= 2048 for _, _, excerpt in bad)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_mutated_fixture_lines(seed: int) -> None:
    rnd = random.Random(seed)
    lines = FLAT.read_bytes().splitlines()[:20]
    hit = set(rnd.sample(range(len(lines)), 5))
    mutated = [(_mutate(line, rnd) if i in hit else line) for i, line in enumerate(lines)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.jsonl"
        path.write_bytes(b"\n".join(m.replace(b"\n", b" ") for m in mutated) + b"\n")
        posts = list(iter_archive(path, on_bad=lambda *a: None))
    got = {p.uid for p in posts}
    for i, line in enumerate(lines):
        if i not in hit:
            assert "x:" + orjson.loads(line)["id"] in got


def test_fixture_readme_present() -> None:
    text = (FIX / "README.md").read_text(encoding="utf-8")
    assert "DocNow/twarc-csv" in text and "MIT" in text
    assert os.path.getsize(NOFLAT) == 415996


_small_json = st.recursive(
    _leaf,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(_KEYS), children, max_size=3)
    ),
    max_leaves=6,
)
_post_like = st.fixed_dictionaries(
    {"id": st.one_of(_ids, _leaf)},
    optional={key: _small_json for key in _KEYS[8:] if key != "id"},
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    posts=st.lists(_post_like, min_size=1, max_size=4),
    includes=st.one_of(st.none(), _small_json),
    wrap=st.booleans(),
)
def test_random_post_objects_never_crash(posts: list[dict], includes: Any, wrap: bool) -> None:
    page: Any = {"data": posts, "includes": includes} if wrap else posts
    bad: list[Any] = []
    try:
        got = posts_from_page(
            page, source="q", include_referenced=True, on_bad=lambda *a: bad.append(a)
        )
    except MapperError:  # pragma: no cover - posts_from_page reports, it does not raise
        raise AssertionError("posts_from_page raised") from None
    for p in got:
        assert p.uid.startswith("x:") and isinstance(p.author, str) and p.author
        assert p.created_at is None or p.created_at.utcoffset().total_seconds() == 0
        assert all(isinstance(r.target, str) and r.target for r in p.references)
        assert all(r.target_id is None or isinstance(r.target_id, str) for r in p.references)
    if wrap:  # every object in "data" is accounted for: a post, or a report
        assert len(got) + len(bad) >= len(posts)


def test_regression_a_line_break_inside_data_stays_out_of_the_one_line_error(
    tmp_path: Path,
) -> None:
    """Found by tests/test_reliability_inputs.py: a key ``"\\r"`` in the only line put a
    line break into the file's error message."""
    path = write_lines(tmp_path / "odd.jsonl", [{"\r": None}])
    with pytest.raises(ImportFormatError) as info:
        list(iter_archive(path))
    assert len(info.value.one_line().splitlines()) == 1


def test_regression_a_first_line_starting_like_gzip_is_read_as_text(tmp_path: Path) -> None:
    """Found by tests/test_reliability_inputs.py: garbage starting with gzip's magic
    bytes on line 1 made the whole file unreadable; now only that line is set aside."""
    path = write_lines(tmp_path / "g.jsonl", [b"\x1f\x8b garbage", tweet("1"), tweet("2")])
    posts, bad = read_all(path)
    assert [p.uid for p in posts] == ["x:1", "x:2"] and [b[0] for b in bad] == [1]


# --------------------------------------------------------------------------- files without posts
# Realistic X API v2 responses that hold no posts, built from the field lists of the
# X API v2 reference (users lookup and followers, lists lookup, post counts), in the
# shapes they reach a user: raw API JSON (one pretty-printed response), twarc2 JSONL
# (one response page a line, with ``__twarc``), one object a line, and a one-object
# ``data`` (a lookup by id or username).

_TWARC = {"url": "https://api.x.com/2/...", "version": "2.14.0", "retrieved_at": ""}


def _user(rng: random.Random, n: int) -> dict[str, Any]:
    uid = str(rng.randrange(10**8, 10**19))
    user: dict[str, Any] = {"id": uid, "name": f"Member {n}", "username": f"member_{n}"}
    if rng.random() < 0.7:
        user.update(
            created_at="2013-12-14T04:35:55.000Z",
            description=f"MP for Somewhere {n}. Views my own.",
            protected=False,
            verified=rng.random() < 0.3,
            public_metrics={
                "followers_count": rng.randrange(10**6),
                "following_count": rng.randrange(5000),
                "tweet_count": rng.randrange(10**5),
                "listed_count": rng.randrange(2000),
            },
        )
    if rng.random() < 0.4:
        user["pinned_tweet_id"] = str(rng.randrange(10**18, 10**19))
    return user


def _list(rng: random.Random, n: int) -> dict[str, Any]:
    item: dict[str, Any] = {"id": str(rng.randrange(10**17, 10**19)), "name": f"MPs {n}"}
    if rng.random() < 0.7:
        item.update(
            description="Members of Parliament",
            member_count=rng.randrange(650),
            follower_count=rng.randrange(10**4),
            private=False,
            owner_id=str(rng.randrange(10**8, 10**19)),
            created_at="2023-01-15T10:00:00.000Z",
        )
    return item


def _count(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "end": f"2021-05-{n % 28 + 1:02d}T00:00:00.000Z",
        "start": f"2021-05-{n % 28 + 1:02d}T23:00:00.000Z",
        "tweet_count": rng.randrange(5000),
    }


_NON_POSTS = {
    "users": (_user, "an X users lookup", "user profile"),
    "lists": (_list, "an X lists lookup", "list"),
    "counts": (_count, "an X post counts response", "post count"),
}


def _response(kind: str, rng: random.Random, size: int, start: int = 0) -> dict[str, Any]:
    make = _NON_POSTS[kind][0]
    page: dict[str, Any] = {"data": [make(rng, start + i) for i in range(size)]}
    if kind == "users":
        pinned = [u["pinned_tweet_id"] for u in page["data"] if "pinned_tweet_id" in u]
        if pinned:  # expansions=pinned_tweet_id: posts only in includes
            page["includes"] = {"tweets": [{"id": t, "text": "pinned"} for t in pinned]}
        page["meta"] = {"result_count": size, "next_token": "7140dibdnow9c7btw3w29grvxfcgvpb"}
    elif kind == "counts":
        page["meta"] = {"total_tweet_count": sum(c["tweet_count"] for c in page["data"])}
    else:
        page["meta"] = {"result_count": size}
    return page


def _non_post_file(tmp_path: Path, kind: str, shape: str, seed: int) -> tuple[Path, int]:
    """A file of ``kind`` objects in ``shape``, and how many objects it holds."""
    rng = random.Random(seed)
    path = tmp_path / f"{kind}-{shape}-{seed}.{'json' if shape == 'raw' else 'jsonl'}"
    if shape == "raw":  # the API's own response, pretty-printed
        page = _response(kind, rng, rng.randint(1, 8))
        path.write_text(json.dumps(page, indent=2), encoding="utf-8")
        return path, len(page["data"])
    if shape == "twarc2":  # one page a line, stamped by twarc
        pages, total = [], 0
        for _ in range(rng.randint(1, 4)):
            page = _response(kind, rng, rng.randint(1, 6), total)
            page["__twarc"] = dict(_TWARC, retrieved_at="2024-05-01T10:00:00+00:00")
            total += len(page["data"])
            pages.append(page)
        return write_lines(path, pages), total
    if shape == "objects":  # one object a line
        make = _NON_POSTS[kind][0]
        count = rng.randint(1, 6)
        return write_lines(path, [make(rng, i) for i in range(count)]), count
    # a lookup of one account or list by id: "data" is one object
    page = _response(kind, rng, 1)
    page["data"] = page["data"][0]
    return write_lines(path, [page]), 1


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    ("kind", "shape"),
    [
        (kind, shape)
        for kind in sorted(_NON_POSTS)
        for shape in ("raw", "twarc2", "objects", "single")
        if (kind, shape) != ("counts", "single")  # the counts endpoints return a list
    ],
)
def test_a_file_without_posts_is_named_for_what_it_is(
    tmp_path: Path, kind: str, shape: str, seed: int
) -> None:
    path, count = _non_post_file(tmp_path, kind, shape, seed)
    _make, what, one = _NON_POSTS[kind]
    with Store(":memory:") as store, pytest.raises(ImportFormatError) as info:
        import_archive(store, path)
    line = info.value.one_line()
    unit = one if count == 1 else one + "s"
    assert f"{path}: this is {what} ({count} {unit}), not posts: nothing imported" in line
    assert "no author" not in line and "\n" not in line
    with Store(":memory:") as store:  # nothing half-imported, nothing quarantined
        with pytest.raises(ImportFormatError):
            import_archive(store, path)
        assert store.count_posts() == 0 and store.quarantined() == []


def test_pages_without_posts_among_posts_are_set_aside_once(tmp_path: Path) -> None:
    rng = random.Random(7)
    posts = [json.loads(p.read_text(encoding="utf-8").splitlines()[0]) for p in (NOFLAT, FLAT)]
    users = _response("users", rng, 5)
    lists = _response("lists", rng, 3)
    path = write_lines(tmp_path / "mixed.jsonl", [posts[0], users, posts[1], lists, _user(rng, 9)])
    with Store(":memory:") as store:
        result = import_archive(store, path)
        alone = list(iter_archive(write_lines(tmp_path / "only.jsonl", posts)))
        assert result.added == len({p.uid for p in alone}) > 0
        rows = {row["line"]: row["reason"] for row in store.quarantined()}
    assert rows == {
        2: "an X users lookup page (5 user profiles), not posts",
        4: "an X lists lookup page (3 lists), not posts",
        5: "user profile, not a post",
    }
    assert result.quarantined == 3


def test_import_command_names_a_file_without_posts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mapper.cli import app

    path, count = _non_post_file(tmp_path, "users", "twarc2", 3)
    result = CliRunner().invoke(app, ["import", str(path), "--store", str(tmp_path / "s.db")])
    assert result.exit_code == 1
    assert f"this is an X users lookup ({count} user profiles), not posts" in result.output
    assert "quarantined" not in result.output
