"""Deterministic generator of realistic benchmark input at any size.

Writes X API v2 response pages in the twarc2 JSONL format (one page of 100 posts a
line, with ``includes.users`` and ``includes.tweets``) with a planted faction
structure, plus a roster that names part of the accounts (with aliases, so that
names in text resolve) and an issues file.

- accounts: about one per ten posts, spread over ``factions`` planted factions;
- a few brokers per faction whose ties are spread over two factions;
- posts: mentions (most), replies, reposts, quotes, links to other accounts'
  domains, full names in text, hashtags per faction;
- ``cross`` of the ties go to another faction at random.

Usage::

    python benchmarks/generate.py --posts 100000 --out /tmp/bench100k
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import orjson

PER_PAGE = 100
TAGS = ["brexit", "nhs", "austerity", "electoralreform", "climate", "housing", "labour", "union"]


#: Posts whose random draws are held in memory at once (see ``generate``).
CHUNK = 1_000_000


def _user(number: int, handle: str, name: str) -> dict:
    """An ``includes.users`` object with the fields a real page's users carry."""
    return {
        "id": str(number),
        "username": handle,
        "name": name,
        "created_at": "2012-03-04T05:06:07.000Z",
        "description": "Politics, policy and the occasional football result.",
        "location": "United Kingdom",
        "protected": False,
        "verified": False,
        "profile_image_url": f"https://pbs.example.org/profile/{number}.jpg",
        "public_metrics": {
            "followers_count": number % 5000,
            "following_count": number % 700,
            "tweet_count": number % 20000,
            "listed_count": number % 40,
        },
    }


def generate(
    out: str | Path,
    posts: int,
    *,
    seed: int = 1,
    factions: int | None = None,
    cross: float = 0.2,
    roster_share: float = 0.3,
    chunk: int = CHUNK,
) -> dict[str, object]:
    """Write ``archive.jsonl``, ``roster.csv`` and ``issues.csv`` into ``out``.

    The archive is written page by page; the per-post random draws are held
    ``chunk`` posts at a time (memory stays flat at 10M posts and more). Up to
    ``chunk`` posts the output is the same as with one chunk.

    Returns a dict with the paths, the number of accounts and the planted faction of
    each account (``truth``: list of faction ids, index = account number).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_acc = max(50, posts // 10)
    k = factions or max(4, min(100, n_acc // 100))
    truth = rng.integers(0, k, size=n_acc)
    members = [np.flatnonzero(truth == f) for f in range(k)]
    for f in range(k):  # no empty faction
        if len(members[f]) == 0:
            truth[f] = f
    members = [np.flatnonzero(truth == f) for f in range(k)]
    brokers = set(rng.choice(n_acc, size=max(2, n_acc // 200), replace=False).tolist())
    broker_other = {b: int(rng.integers(0, k)) for b in brokers}
    handles = [f"user{i:07d}" for i in range(n_acc)]
    names = [f"Name{i:07d} Surname{i:07d}" for i in range(n_acc)]

    base_ts = np.datetime64("2016-07-01T00:00:00")
    # Per-post draws are made a chunk at a time, so that 10M posts stream to disk;
    # with one chunk (posts <= chunk) the draws, and so the archive, are those of
    # the generator before chunks existed.
    chunk = max(PER_PAGE, (int(chunk) // PER_PAGE) * PER_PAGE)
    authors = kinds = across = other_faction = picks = tag_idx = secs = np.empty(0)
    offset = 0  # index of the current chunk's first post

    def draw(start: int) -> None:
        nonlocal authors, kinds, across, other_faction, picks, tag_idx, secs, offset
        size = min(chunk, posts - start)
        authors = rng.integers(0, n_acc, size=size)
        kinds = rng.choice(6, size=size, p=[0.45, 0.15, 0.2, 0.05, 0.08, 0.07])
        across = rng.random(size) < cross
        other_faction = rng.integers(0, k, size=size)
        picks = rng.random(size)
        tag_idx = rng.integers(0, len(TAGS), size=size)
        secs = rng.integers(0, 90 * 86400, size=size)
        offset = start

    def target_of(i: int) -> int:
        a = int(authors[i])
        if a in brokers and picks[i] < 0.5:
            pool = members[broker_other[a]]
        elif across[i]:
            pool = members[int(other_faction[i])]
        else:
            pool = members[int(truth[a])]
        t = int(pool[int(picks[i] * len(pool)) % len(pool)])
        return t if t != a else int(pool[(int(picks[i] * len(pool)) + 1) % len(pool)])

    archive = out / "archive.jsonl"
    last_post_of: dict[int, str] = {}
    with open(archive, "wb") as fh:
        for start in range(0, posts, PER_PAGE):
            if start % chunk == 0:
                draw(start)
            data = []
            users: dict[int, dict] = {}
            refs: dict[str, dict] = {}
            for gi in range(start, min(posts, start + PER_PAGE)):
                i = gi - offset  # index into the chunk's draws
                a = int(authors[i])
                t = target_of(i)
                tid = str(800_000_000_000_000_000 + gi)
                ts = str(base_ts + np.timedelta64(int(secs[i]), "s")) + ".000Z"
                tag = TAGS[(int(tag_idx[i]) + int(truth[a])) % len(TAGS)]
                kind = int(kinds[i])
                tw: dict = {
                    "id": tid,
                    "author_id": str(a),
                    "created_at": ts,
                    "lang": "en",
                    "edit_history_tweet_ids": [tid],
                    # fields a real v2 page carries (see /work/shared/fixtures/x-api-v2);
                    # not read by the graph, but parsed by every tool
                    "conversation_id": tid,
                    "possibly_sensitive": False,
                    "reply_settings": "everyone",
                    "source": "Twitter Web App",
                    "public_metrics": {
                        "retweet_count": gi % 13,
                        "reply_count": gi % 5,
                        "like_count": gi % 29,
                        "quote_count": gi % 3,
                    },
                }
                th = handles[t]
                ents: dict = {"hashtags": [{"start": 0, "end": len(tag) + 1, "tag": tag}]}
                if kind == 0:  # mention
                    tw["text"] = f"#{tag} a post about this with @{th} in it"
                    ents["mentions"] = [
                        {"start": 25, "end": 26 + len(th), "username": th, "id": str(t)}
                    ]
                elif kind == 1 and t in last_post_of:  # reply
                    tw["text"] = f"@{th} #{tag} replying here"
                    tw["in_reply_to_user_id"] = str(t)
                    tw["referenced_tweets"] = [{"type": "replied_to", "id": last_post_of[t]}]
                    ents["mentions"] = [
                        {"start": 0, "end": 1 + len(th), "username": th, "id": str(t)}
                    ]
                elif kind in (2, 3) and t in last_post_of:  # repost / quote
                    pid = last_post_of[t]
                    typ = "retweeted" if kind == 2 else "quoted"
                    tw["text"] = f"RT @{th}: #{tag} something" if kind == 2 else f"#{tag} see this"
                    tw["referenced_tweets"] = [{"type": typ, "id": pid}]
                    refs[pid] = {
                        "id": pid,
                        "author_id": str(t),
                        "text": "original",
                        "created_at": ts,
                    }
                    if kind == 2:
                        ents["mentions"] = [
                            {"start": 3, "end": 4 + len(th), "username": th, "id": str(t)}
                        ]
                elif kind == 4:  # link
                    url = f"https://{th}.example.org/post/{gi}"
                    tw["text"] = f"#{tag} reading {url}"
                    ents["urls"] = [
                        {
                            "start": 15,
                            "end": 15 + len(url),
                            "url": "https://t.co/x",
                            "expanded_url": url,
                        }
                    ]
                else:  # a name in text
                    tw["text"] = f"#{tag} I agree with {names[t]} on this one"
                tw["entities"] = ents
                data.append(tw)
                users[a] = _user(a, handles[a], names[a])
                users[t] = _user(t, th, names[t])
                last_post_of[a] = tid
            page = {
                "data": data,
                "includes": {"users": list(users.values()), "tweets": list(refs.values())},
                "meta": {"result_count": len(data)},
                "__twarc": {
                    "url": "https://api.x.com/2/tweets/search/all",
                    "version": "bench",
                    "retrieved_at": "2016-10-01T00:00:00+00:00",
                },
            }
            fh.write(orjson.dumps(page))
            fh.write(b"\n")

    roster = out / "roster.csv"
    chosen = sorted(
        set(rng.choice(n_acc, size=int(n_acc * roster_share), replace=False).tolist()) | brokers
    )
    with open(roster, "w", newline="", encoding="utf-8") as out_csv:
        w = csv.writer(out_csv)
        w.writerow(["id", "name", "kind", "party", "faction", "aliases", "x", "domains"])
        for i in chosen:
            w.writerow(
                [
                    f"a{i}",
                    names[i],
                    "commentator",
                    "",
                    f"planted {truth[i]}",
                    names[i],
                    handles[i],
                    f"{handles[i]}.example.org",
                ]
            )
    issues = out / "issues.csv"
    with open(issues, "w", newline="", encoding="utf-8") as issues_csv:
        w = csv.writer(issues_csv)
        w.writerow(["id", "name", "aliases"])
        w.writerow(["reform", "electoral reform", "electoral reform;fair votes"])
    return {
        "archive": archive,
        "roster": roster,
        "issues": issues,
        "accounts": n_acc,
        "factions": k,
        "brokers": sorted(brokers),
        "truth": truth.tolist(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=CHUNK, help="posts drawn at a time (memory bound)")
    args = ap.parse_args()
    info = generate(args.out, args.posts, seed=args.seed, chunk=args.chunk)
    summary = f"{args.posts} posts, {info['accounts']} accounts, {info['factions']} factions"
    print(f"{summary} -> {info['archive']}")


if __name__ == "__main__":
    main()
