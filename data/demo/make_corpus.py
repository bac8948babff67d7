"""Write the demo corpus: illustrative X API v2 pages, saved blog pages and an RSS feed.

Every post written here is an EXAMPLE made for the mapper demo. The actors are real
public figures and organisations of the 2016 "progressive alliance" debate, but no
post below is a real post and none states a view in anyone's name: each text only
says that it is an example and what it points at (a mention, a reply, a link, a
name). Post ids and user ids are synthetic.

The interaction structure is planted so that the demo has visible factions and
figures who bridge them. It is deterministic: ``python data/demo/make_corpus.py``
rewrites the same files byte for byte.

Run from the repository root::

    python data/demo/make_corpus.py
"""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
SEED = 2016
START = datetime(2016, 7, 1, 8, 0, tzinfo=UTC)
END = datetime(2016, 9, 24, 20, 0, tzinfo=UTC)

# Who talks mostly with whom (the planted structure). Members may also appear in
# BRIDGES, which spreads their ties over several groups.
GROUPS: dict[str, list[str]] = {
    "left": [
        "jeremy-corbyn",
        "john-mcdonnell",
        "diane-abbott",
        "rebecca-long-bailey",
        "richard-burgon",
        "cat-smith",
        "momentum",
        "novara-media",
        "unite",
        "len-mccluskey",
        "paul-mason",
        "aditya-chakrabortty",
    ],
    "plp": [
        "owen-smith",
        "angela-eagle",
        "tom-watson",
        "chuka-umunna",
        "tristram-hunt",
        "jess-phillips",
        "stephen-kinnock",
        "rachel-reeves",
        "progress",
        "polly-toynbee",
        "labourlist",
        "unison",
        "gmb",
    ],
    "plural": [
        "compass",
        "neal-lawson",
        "electoral-reform-society",
        "unlock-democracy",
        "make-votes-matter",
        "george-monbiot",
        "open-labour",
        "left-foot-forward",
        "john-harris",
        "demo-blogger",
    ],
    "other": [
        "caroline-lucas",
        "natalie-bennett",
        "jonathan-bartley",
        "green-party",
        "tim-farron",
        "nick-clegg",
        "liberal-democrats",
        "nicola-sturgeon",
        "angus-robertson",
        "snp",
        "leanne-wood",
        "plaid-cymru",
    ],
}
# Actors whose ties are planted across groups: {actor: {group: share}}.
BRIDGES: dict[str, dict[str, float]] = {
    "clive-lewis": {"left": 0.5, "plural": 0.5},
    "owen-jones": {"left": 0.5, "plp": 0.5},
    "lisa-nandy": {"plp": 0.5, "other": 0.5},
    "neal-lawson": {"plural": 0.5, "other": 0.5},
    "ellie-mae-ohagan": {"left": 0.6, "plp": 0.4},
    "tuc": {"left": 0.5, "plp": 0.5},
}
# Actors who spread their (fewer) posts over groups without being planted bridges.
SPREAD: dict[str, dict[str, float]] = {
    "the-guardian": {"left": 0.25, "plp": 0.25, "plural": 0.25, "other": 0.25},
    "new-statesman": {"left": 0.3, "plp": 0.4, "plural": 0.3},
    "labour-party": {"left": 0.5, "plp": 0.5},
    "george-osborne": {"plp": 0.7, "other": 0.3},
}
# Issues each group writes about most (issue id, hashtag).
GROUP_ISSUES: dict[str, list[tuple[str, str]]] = {
    "left": [("austerity", "austerity"), ("labour-leadership", "labourleadership")],
    "plp": [("labour-leadership", "labourleadership"), ("brexit", "brexit")],
    "plural": [
        ("progressive-alliance", "progressivealliance"),
        ("proportional-representation", "electoralreform"),
    ],
    "other": [
        ("proportional-representation", "electoralreform"),
        ("progressive-alliance", "progressivealliance"),
        ("brexit", "brexit"),
    ],
}
# Example accounts not in the roster: they become provisional actors in the demo.
EXAMPLE_ACCOUNTS = [f"example_member_{i:02d}" for i in range(1, 13)]
# A mentioned account deliberately left out of ``includes`` (as for a suspended
# account in real archives).
MISSING_USER = "example_suspended"


def load_roster() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    with open(HERE / "roster.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))]
    actors = {r["id"]: r for r in rows}
    with open(HERE / "issues.csv", encoding="utf-8") as fh:
        issues = {r["id"]: r for r in csv.DictReader(fh)}
    return actors, issues


def group_of(actor: str) -> str:
    for name, members in GROUPS.items():
        if actor in members:
            return name
    shares = BRIDGES.get(actor) or SPREAD[actor]
    return max(sorted(shares), key=shares.__getitem__)


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class XCorpus:
    """Builds illustrative X API v2 posts and groups them into twarc2 response pages."""

    def __init__(self, actors: dict[str, dict[str, str]], issues: dict[str, dict[str, str]]):
        self.rng = random.Random(SEED)
        self.actors = actors
        self.issues = issues
        self.users: dict[str, dict[str, str]] = {}
        self.tweets: list[dict] = []
        self.by_author: dict[str, list[dict]] = {}
        self.next_id = 760_000_000_000_000_000
        for i, (_aid, row) in enumerate(sorted(actors.items())):
            if row["x"]:
                self.users[row["x"]] = {
                    "id": str(100_000 + i),
                    "username": row["x"],
                    "name": row["name"],
                }
        for j, handle in enumerate([*EXAMPLE_ACCOUNTS, MISSING_USER]):
            self.users[handle] = {
                "id": str(900_000 + j),
                "username": handle,
                "name": f"Example account {j + 1}",
            }

    def handle(self, actor: str) -> str:
        return self.actors[actor]["x"]

    def pick_target(self, author: str) -> str:
        shares = BRIDGES.get(author) or SPREAD.get(author)
        if shares:
            groups, weights = zip(*sorted(shares.items()), strict=True)
            group = self.rng.choices(groups, weights)[0]
        else:
            home = group_of(author)
            group = home if self.rng.random() < 0.9 else self.rng.choice(sorted(GROUPS))
        pool = [a for a in GROUPS[group] if a != author and self.actors[a]["x"]]
        # Bridges are popular targets inside every group they belong to.
        pool += [b for b, g in BRIDGES.items() if group in g and b != author] * 2
        return self.rng.choice(sorted(pool))

    def issue_for(self, author: str) -> tuple[str, str]:
        group = group_of(author) if author in self.actors else "plural"
        if author in BRIDGES:
            group = self.rng.choice(sorted(BRIDGES[author]))
        return self.rng.choice(GROUP_ISSUES[group])

    def when(self) -> datetime:
        span = int((END - START).total_seconds())
        return START + timedelta(seconds=self.rng.randrange(span))

    def add(self, author_handle: str, text: str, created: datetime, **extra: object) -> dict:
        self.next_id += self.rng.randrange(1_000, 90_000)
        tid = str(self.next_id)
        tweet: dict = {
            "id": tid,
            "text": text,
            "author_id": self.users[author_handle]["id"],
            "created_at": iso(created),
            "lang": "en",
            "conversation_id": tid,
            "edit_history_tweet_ids": [tid],
        }
        entities = entities_of(text, self.users)
        if entities:
            tweet["entities"] = entities
        tweet.update(extra)
        self.tweets.append(tweet)
        self.by_author.setdefault(author_handle, []).append(tweet)
        return tweet

    def phrase(self, issue_id: str) -> str:
        aliases = self.issues[issue_id]["aliases"].split(";")
        return self.rng.choice(aliases)

    def write_post(self, author: str) -> None:
        me = self.handle(author)
        issue, tag = self.issue_for(author)
        phrase = self.phrase(issue)
        kind = self.rng.choices(
            ["mention", "reply", "repost", "quote", "link", "name"], [30, 20, 20, 10, 10, 10]
        )[0]
        target = self.pick_target(author)
        them = self.handle(target)
        created = self.when()
        earlier = [t for t in self.by_author.get(them, []) if t["created_at"] < iso(created)]
        if kind in ("reply", "repost", "quote") and not earlier:
            kind = "mention"
        if kind == "mention":
            text = f"[Example post for the mapper demo] Worth reading @{them} on {phrase}. #{tag}"
            self.add(me, text, created)
        elif kind == "reply":
            parent = self.rng.choice(earlier)
            text = f"@{them} [Example reply for the mapper demo] replying on {phrase}. #{tag}"
            self.add(
                me,
                text,
                created,
                in_reply_to_user_id=parent["author_id"],
                referenced_tweets=[{"type": "replied_to", "id": parent["id"]}],
                conversation_id=parent["conversation_id"],
            )
        elif kind == "repost":
            parent = self.rng.choice(earlier)
            text = f"RT @{them}: {parent['text']}"[:280]
            self.add(
                me, text, created, referenced_tweets=[{"type": "retweeted", "id": parent["id"]}]
            )
        elif kind == "quote":
            parent = self.rng.choice(earlier)
            text = f"[Example quote post for the mapper demo] On {phrase}, see this. #{tag}"
            self.add(me, text, created, referenced_tweets=[{"type": "quoted", "id": parent["id"]}])
        elif kind == "link":
            domains = [d for d in self.actors[target]["domains"].split(";") if d]
            if not domains:
                text = f"[Example post for the mapper demo] Thread by @{them} on {phrase}. #{tag}"
                self.add(me, text, created)
                return
            url = f"https://www.{domains[0]}/2016/{created:%m}/{issue}-{created:%d}"
            text = f"[Example post for the mapper demo] A piece on {phrase}: {url} #{tag}"
            self.add(me, text, created)
        else:
            name = self.actors[target]["name"]
            text = f"[Example post for the mapper demo] Reading {name}'s piece on {phrase}. #{tag}"
            self.add(me, text, created)

    def write_example_accounts(self) -> None:
        """Example (non-roster) accounts amplify a few figures: provisional actors."""
        for handle in EXAMPLE_ACCOUNTS:
            group = self.rng.choice(sorted(GROUPS))
            for _ in range(3):
                target = self.rng.choice([a for a in GROUPS[group] if self.actors[a]["x"]])
                them = self.handle(target)
                issue, tag = self.rng.choice(GROUP_ISSUES[group])
                created = self.when()
                earlier = [
                    t for t in self.by_author.get(them, []) if t["created_at"] < iso(created)
                ]
                if earlier and self.rng.random() < 0.5:
                    parent = self.rng.choice(earlier)
                    text = f"RT @{them}: {parent['text']}"[:280]
                    refs = [{"type": "retweeted", "id": parent["id"]}]
                    self.add(handle, text, created, referenced_tweets=refs)
                else:
                    text = (
                        f"[Example post for the mapper demo] @{them} and @{MISSING_USER} "
                        f"on {self.phrase(issue)}. #{tag}"
                    )
                    self.add(handle, text, created)

    def pages(self, per_page: int = 20) -> list[dict]:
        ordered = sorted(self.tweets, key=lambda t: (t["created_at"], t["id"]), reverse=True)
        by_id = {t["id"]: t for t in self.tweets}
        by_uid = {u["id"]: u for u in self.users.values()}
        out = []
        for start in range(0, len(ordered), per_page):
            chunk = ordered[start : start + per_page]
            user_ids: set[str] = set()
            ref_tweets: dict[str, dict] = {}
            for t in chunk:
                user_ids.add(t["author_id"])
                for m in t.get("entities", {}).get("mentions", []):
                    user_ids.add(m["id"])
                for r in t.get("referenced_tweets", []):
                    parent = by_id[r["id"]]
                    ref_tweets[parent["id"]] = parent
                    user_ids.add(parent["author_id"])
                if "in_reply_to_user_id" in t:
                    user_ids.add(t["in_reply_to_user_id"])
            user_ids.discard(self.users[MISSING_USER]["id"])
            page = {
                "data": chunk,
                "includes": {
                    "users": [by_uid[u] for u in sorted(user_ids)],
                    "tweets": [ref_tweets[k] for k in sorted(ref_tweets)],
                },
                "meta": {
                    "newest_id": chunk[0]["id"],
                    "oldest_id": chunk[-1]["id"],
                    "result_count": len(chunk),
                },
                "__twarc": {
                    "url": "https://api.twitter.com/2/tweets/search/all?query=(example)",
                    "version": "mapper-demo",
                    "retrieved_at": "2016-09-30T12:00:00+00:00",
                },
            }
            if start + per_page < len(ordered):
                page["meta"]["next_token"] = f"demo-page-{start // per_page + 1}"
            out.append(page)
        return out


def entities_of(text: str, users: dict[str, dict[str, str]]) -> dict:
    """X API v2 ``entities`` for the @mentions, #hashtags and URLs in ``text``."""
    import re

    ents: dict[str, list] = {}
    for m in re.finditer(r"@(\w{1,30})", text):
        user = users.get(m.group(1))
        item = {"start": m.start(), "end": m.end(), "username": m.group(1)}
        if user:
            item["id"] = user["id"]
        ents.setdefault("mentions", []).append(item)
    for m in re.finditer(r"#(\w+)", text):
        ents.setdefault("hashtags", []).append(
            {"start": m.start(), "end": m.end(), "tag": m.group(1)}
        )
    for i, m in enumerate(re.finditer(r"https?://\S+", text)):
        ents.setdefault("urls", []).append(
            {
                "start": m.start(),
                "end": m.end(),
                "url": f"https://t.co/demo{len(text)}{i}",
                "expanded_url": m.group(0),
                "display_url": m.group(0).split("://", 1)[1][:30],
            }
        )
    return ents


# --- saved blog pages -------------------------------------------------------------

BANNER = (
    "Illustrative example written for the mapper demo. This is not a real article, "
    "and it reports no one's words; it only describes which pieces and people an "
    "article of this debate pointed to."
)


def page_html(
    *, url: str, title: str, author: str, date: str, site: str, paragraphs: list[str]
) -> str:
    nav = (
        '<nav><a href="/">Home</a> <a href="/about">About</a> '
        '<a href="https://www.facebook.com/sharer.php">Share</a> '
        '<a href="https://x.com/intent/tweet">Post</a></nav>'
    )
    footer = (
        '<footer><p>Sponsored: <a href="https://ads.example.net/banner">an advertiser</a></p>'
        '<p><a href="https://www.theguardian.com/">Other news</a></p></footer>'
    )
    comments = (
        '<section class="comments" id="comments"><h3>Comments</h3>'
        '<div class="comment"><p>A reader: see <a href="https://spam.example.com/">this site</a>'
        "</p></div></section>"
    )
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "BlogPosting",
            "headline": title,
            "datePublished": date,
            "author": {"@type": "Person", "name": author},
        }
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(title)} | {escape(site)}</title>
<link rel="canonical" href="{escape(url)}">
<meta property="og:url" content="{escape(url)}">
<meta property="og:title" content="{escape(title)}">
<meta name="author" content="{escape(author)}">
<meta property="article:published_time" content="{escape(date)}">
<script type="application/ld+json">{ld}</script>
</head><body>
<header><h1 class="site">{escape(site)}</h1>{nav}</header>
<main><article>
<h1>{escape(title)}</h1>
<p class="byline">By {escape(author)}, {escape(date[:10])}</p>
<p><em>{BANNER}</em></p>
{body}
</article>
{comments}
</main>
{footer}
</body></html>
"""


BLOGS = [
    {
        "file": "labours-future.html",
        "url": "https://labours-future.example/2016/08/what-next-for-labour",
        "site": "Labour's Future (example blog)",
        "title": "What next for Labour? Notes on the progressive alliance debate",
        "author": "Example blogger (illustrative)",
        "date": "2016-08-14T09:30:00+00:00",
        "paragraphs": [
            "This example page summarises which contributions a blog post on Labour's "
            "future discussed in the summer of 2016.",
            'It discussed <a href="https://medium.com/@OwenJones84/questions-for-the-left">'
            "Owen Jones's critique of Jeremy Corbyn's leadership</a>, and Ellie Mae "
            "O'Hagan's reading of that piece.",
            "It set out the cases for a progressive alliance made by "
            '<a href="https://medium.com/@paulmasonnews/a-progressive-alliance">Paul Mason</a>'
            ' and by <a href="https://www.compassonline.org.uk/progressive-alliance/">Neal '
            "Lawson of Compass</a>.",
            "It noted that Clive Lewis had canvassed the idea in an interview with Owen Jones, "
            "and it discussed the Owen Smith leadership challenge, George Osborne, and the "
            "Parliamentary Labour Party.",
            'It pointed to <a href="http://www.charter88.org.uk/">Charter 88</a> as a model of '
            "a platform that brought parties, unions and civil society together.",
            "Its author also left a comment under "
            '<a href="https://medium.com/@paulmasonnews/a-progressive-alliance#comments">'
            "Paul Mason's post</a>.",
        ],
    },
    {
        "file": "compass-alliance.html",
        "url": "https://www.compassonline.org.uk/blog/alliance-summer-2016/",
        "site": "Compass (example page)",
        "title": "Example: a progressive alliance reading list",
        "author": "Neal Lawson",
        "date": "2016-07-20T10:00:00+00:00",
        "paragraphs": [
            "An example page listing pieces on cross-party cooperation.",
            'It links to the <a href="https://www.electoral-reform.org.uk/campaigns/">'
            "Electoral Reform Society</a>, the "
            '<a href="https://www.greenparty.org.uk/news/">Green Party</a> and the '
            '<a href="https://www.libdems.org.uk/news">Liberal Democrats</a>.',
            "It names Caroline Lucas, Tim Farron and Leanne Wood as party leaders in the "
            "debate about proportional representation.",
        ],
    },
    {
        "file": "lff-fair-votes.html",
        "url": "https://leftfootforward.org/2016/08/example-fair-votes/",
        "site": "Left Foot Forward (example page)",
        "title": "Example: where the parties stand on fair votes",
        "author": "Example contributor (illustrative)",
        "date": "2016-08-02T12:00:00+00:00",
        "paragraphs": [
            "An example page about electoral reform.",
            'It links to <a href="https://www.makevotesmatter.org.uk/">Make Votes Matter</a> '
            'and to <a href="https://www.unlockdemocracy.org.uk/">Unlock Democracy</a>.',
            "It names Jonathan Bartley and Natalie Bennett of the Greens, and Nicola Sturgeon.",
        ],
    },
    {
        "file": "labourlist-contest.html",
        "url": "https://labourlist.org/2016/09/example-leadership-contest/",
        "site": "LabourList (example page)",
        "title": "Example: the leadership contest in links",
        "author": "Example contributor (illustrative)",
        "date": "2016-09-05T08:00:00+00:00",
        "paragraphs": [
            "An example page collecting links about the Labour leadership contest.",
            'It links to <a href="https://www.jeremycorbyn.org.uk/">the Corbyn campaign</a>, '
            'to <a href="https://www.progressonline.org.uk/">Progress</a> and to '
            '<a href="https://x.com/OwenSmith_MP">Owen Smith</a>.',
            "It names Angela Eagle, Tom Watson and John McDonnell.",
        ],
    },
    {
        "file": "novara-momentum.html",
        "url": "https://novaramedia.com/2016/07/example-momentum/",
        "site": "Novara Media (example page)",
        "title": "Example: Momentum and the unions",
        "author": "Example contributor (illustrative)",
        "date": "2016-07-28T18:00:00+00:00",
        "paragraphs": [
            "An example page about the campaign inside the party.",
            'It links to <a href="https://peoplesmomentum.com/">Momentum</a> and to '
            '<a href="https://www.unitetheunion.org/">Unite the Union</a>.',
            "It names Len McCluskey, Diane Abbott and Richard Burgon.",
        ],
    },
    {
        "file": "newstatesman-alternative.html",
        "url": "https://www.newstatesman.com/politics/2016/09/example-the-alternative",
        "site": "New Statesman (example page)",
        "title": "Example: The Alternative, a cross-party book",
        "author": "Example contributor (illustrative)",
        "date": "2016-09-12T07:00:00+00:00",
        "paragraphs": [
            "An example page about the 2016 book <em>The Alternative</em>, edited by Lisa "
            "Nandy, Caroline Lucas and Chris Bowers, with contributors from several parties.",
            'It links to <a href="https://x.com/lisanandy">Lisa Nandy</a>, to '
            '<a href="https://x.com/CarolineLucas">Caroline Lucas</a> and to '
            '<a href="https://www.compassonline.org.uk/">Compass</a>.',
        ],
    },
]


# --- RSS feed ---------------------------------------------------------------------


def feed_xml(rng: random.Random, actors: dict[str, dict[str, str]]) -> str:
    """An illustrative RSS 2.0 feed of a campaign blog (Compass), 15 entries."""
    items = []
    linkable = sorted(a for a, r in actors.items() if r["domains"] and a != "compass")
    for i in range(15):
        when = START + timedelta(days=5 * i + 1, hours=9)
        target = rng.choice(linkable)
        domain = actors[target]["domains"].split(";")[0]
        named = rng.choice(sorted(GROUPS["other"] + GROUPS["plural"]))
        name = actors[named]["name"]
        link = f"https://www.compassonline.org.uk/blog/example-{i + 1:02d}/"
        desc = (
            f"<p>[Illustrative example entry] This example entry names {escape(name)} "
            f'and links to <a href="https://www.{domain}/">{escape(actors[target]["name"])}</a>'
            " in the debate about a progressive alliance.</p>"
        )
        items.append(
            f"""  <item>
    <title>Example entry {i + 1}: notes on the progressive alliance</title>
    <link>{link}</link>
    <guid isPermaLink="true">{link}</guid>
    <author>office@compassonline.org.uk (Compass)</author>
    <pubDate>{when.strftime("%a, %d %b %Y %H:%M:%S +0000")}</pubDate>
    <category>progressivealliance</category>
    <description>{escape(desc)}</description>
  </item>"""
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
        "  <title>Compass blog (illustrative example feed for the mapper demo)</title>\n"
        "  <link>https://www.compassonline.org.uk/</link>\n"
        "  <description>Example entries written for the mapper demo; not real posts."
        "</description>\n" + "\n".join(items) + "\n</channel>\n</rss>\n"
    )


# --- the timeline corpus -------------------------------------------------------------
#
# A second, separate set of example posts for `mapper timeline timeline.toml`: the same
# roster, with an interaction structure that changes over the summer. The changes are
# PLANTED FOR ILLUSTRATION (who points at whom, week by week), as the static structure
# above is; they are not a record or a claim about anyone's politics. The story:
#
# - from 25 July, Clive Lewis's example posts point mostly at the pluralist group
#   instead of the Labour left group (the blog page describes him canvassing a
#   progressive alliance);
# - from 22 August, Lisa Nandy's point mostly at the pluralist group instead of the
#   Labour MPs' group (she co-edited the cross-party book The Alternative);
# - from 5 September, the pluralist group and the other parties point at each other as
#   much as within themselves: the two groups become one.
# - posts stop on 24 September, the day the leadership result was announced, so the
#   last two-week window holds less than a week of posts.

TIMELINE_SEED = 2017
TIMELINE_START = datetime(2016, 6, 27, 8, 0, tzinfo=UTC)
TIMELINE_END = datetime(2016, 9, 24, 12, 0, tzinfo=UTC)
#: Example posts per poster and week (bridges and movers post twice as much).
TIMELINE_POSTS_PER_WEEK = 3
MOVES: dict[str, tuple[datetime, str]] = {
    "clive-lewis": (datetime(2016, 7, 25, tzinfo=UTC), "plural"),
    "lisa-nandy": (datetime(2016, 8, 22, tzinfo=UTC), "plural"),
}
HOMES_BEFORE: dict[str, str] = {"clive-lewis": "left", "lisa-nandy": "plp"}
MERGE_FROM = datetime(2016, 9, 5, tzinfo=UTC)
MERGED = ("plural", "other")


class TimelineCorpus(XCorpus):
    """Example posts whose planted groups change over time (see the notes above)."""

    def __init__(self, actors: dict[str, dict[str, str]], issues: dict[str, dict[str, str]]):
        super().__init__(actors, issues)
        self.rng = random.Random(TIMELINE_SEED)
        self.next_id = 770_000_000_000_000_000
        self.now = TIMELINE_START

    def when(self) -> datetime:
        return self.now

    def home(self, actor: str) -> str:
        if actor in MOVES:
            moved_on, group = MOVES[actor]
            return group if self.now >= moved_on else HOMES_BEFORE[actor]
        return group_of(actor)

    def members(self, group: str) -> list[str]:
        out = [a for a in GROUPS[group] if a not in MOVES]
        out += [a for a in sorted(MOVES) if self.home(a) == group]
        return out

    def pick_target(self, author: str) -> str:
        shares = None if author in MOVES else BRIDGES.get(author) or SPREAD.get(author)
        if shares:
            groups, weights = zip(*sorted(shares.items()), strict=True)
            group = self.rng.choices(groups, weights)[0]
        else:
            home = self.home(author)
            group = home if self.rng.random() < 0.9 else self.rng.choice(sorted(GROUPS))
        if self.now >= MERGE_FROM and group in MERGED:
            group = self.rng.choice(MERGED)
        pool = [a for a in self.members(group) if a != author and self.actors[a]["x"]]
        pool += [b for b, g in BRIDGES.items() if group in g and b != author and b not in MOVES]
        return self.rng.choice(sorted(pool))


def timeline_corpus(actors: dict[str, dict[str, str]], issues: dict[str, dict[str, str]]) -> list:
    """The X pages of the timeline corpus (deterministic)."""
    corpus = TimelineCorpus(actors, issues)
    posters = sorted(a for a, r in actors.items() if r["x"])
    week = TIMELINE_START
    while week < TIMELINE_END:
        end = min(week + timedelta(days=7), TIMELINE_END)
        span = int((end - week).total_seconds())
        for author in posters:
            n = TIMELINE_POSTS_PER_WEEK * (2 if author in BRIDGES or author in MOVES else 1)
            for _ in range(n):
                corpus.now = week + timedelta(seconds=corpus.rng.randrange(span))
                corpus.write_post(author)
        week = end
    return corpus.pages()


def main() -> None:
    actors, issues = load_roster()
    corpus = XCorpus(actors, issues)
    posters = sorted(a for a, r in actors.items() if r["x"])
    # Several rounds so that replies and reposts find earlier posts to point at.
    for _ in range(7):
        for author in posters:
            n = 2 if author in BRIDGES else 1
            for _ in range(n):
                corpus.write_post(author)
    corpus.write_example_accounts()
    CORPUS.mkdir(parents=True, exist_ok=True)
    with open(CORPUS / "x_pages.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for page in corpus.pages():
            fh.write(json.dumps(page, ensure_ascii=False, sort_keys=True) + "\n")
    blogs = CORPUS / "blogs"
    blogs.mkdir(exist_ok=True)
    for blog in BLOGS:
        html = page_html(**{k: v for k, v in blog.items() if k != "file"})
        (blogs / blog["file"]).write_text(html, encoding="utf-8")
    (CORPUS / "compass_feed.xml").write_text(feed_xml(corpus.rng, actors), encoding="utf-8")
    print(f"{len(corpus.tweets)} X posts, {len(BLOGS)} blog pages, 15 feed entries")
    pages = timeline_corpus(actors, issues)
    with open(CORPUS / "x_pages_timeline.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for page in pages:
            fh.write(json.dumps(page, ensure_ascii=False, sort_keys=True) + "\n")
    posts = sum(len(p["data"]) for p in pages)
    print(f"timeline corpus: {posts} X posts, 27 June to 24 September 2016")


if __name__ == "__main__":
    main()
