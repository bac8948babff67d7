"""An import, or a live collection, killed with SIGKILL at a random point leaves a sound
store; running it again completes it (a collection resumes from its saved cursor), and
the result equals an uninterrupted run's."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mapper.collectors.x_archive import import_archive
from mapper.records import Post
from mapper.store import Store

ROOT = Path(__file__).resolve().parents[1]
MAKE_ARCHIVE = Path(__file__).parent / "fixtures" / "archive" / "make_archive.py"
N_POSTS = 20_000
BATCH = 500

_CHILD = """
import sys
from mapper.store import Store
from mapper.collectors.x_archive import import_archive
with Store(sys.argv[1]) as store:
    import_archive(store, sys.argv[2], batch_size=int(sys.argv[3]))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _count(db: Path) -> int:
    """Posts committed so far, read by a separate connection (WAL lets it read)."""
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT count(*) FROM posts").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0  # the schema is not there yet


@pytest.mark.slow
def test_sigkill_mid_import_then_rerun(tmp_path: Path) -> None:
    archive = tmp_path / "big.jsonl"
    subprocess.run(
        [sys.executable, str(MAKE_ARCHIVE), str(archive), str(N_POSTS), "7"],
        check=True,
        env=_env(),
    )
    seed = random.randrange(2**32)
    rnd = random.Random(seed)
    # kill once between one batch and a third of the posts are committed, a random
    # moment later (mid-parse or mid-transaction)
    threshold = rnd.randrange(BATCH, N_POSTS // 3)
    delay = rnd.random() * 0.02
    db = tmp_path / "killed.db"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db), str(archive), str(BATCH)],
        env=_env(),
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while _count(db) < threshold and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, f"the import ended before the kill (seed {seed})"

    killed_count = _count(db)
    assert 0 < killed_count < N_POSTS, f"seed {seed}"
    with Store(db) as store:
        assert store.integrity_check() == "ok", f"seed {seed}"
        assert store.import_status(archive) is None  # an unfinished import is not recorded
        rerun = import_archive(store, archive, batch_size=BATCH)
        assert not rerun.skipped_unchanged
        assert rerun.posts == N_POSTS
        assert rerun.added == N_POSTS - killed_count
        assert rerun.duplicates == killed_count
        assert store.integrity_check() == "ok"
        assert import_archive(store, archive).skipped_unchanged
        killed_then_rerun = list(store.iter_posts())

    with Store(tmp_path / "clean.db") as clean:
        full = import_archive(clean, archive)
        assert full.added == N_POSTS
        uninterrupted = list(clean.iter_posts())
    assert len(killed_then_rerun) == N_POSTS
    assert killed_then_rerun == uninterrupted, f"seed {seed}"


# --------------------------------------------------------------------------- live collection

_LIVE_CHILD = r"""
import json, re, sys, time
from urllib.parse import parse_qs, urlsplit

import responses

from mapper.collectors import x_live
from mapper.store import Store

store_path, archive, n_pages, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])


def page(i):
    ids = [str(10_000 * (n_pages - i) + 5 - j) for j in range(5)]  # newest first
    data = [
        {"id": tid, "text": f"page {i} @user{j} https://example.org/{i}/{j}",
         "author_id": str(100 + j), "created_at": "2016-08-01T12:00:00.000Z",
         "edit_history_tweet_ids": [tid],
         "entities": {"mentions": [{"start": 7, "end": 13 + len(str(j)), "username": f"user{j}",
                                    "id": str(200 + j)}]}}
        for j, tid in enumerate(ids)
    ]
    meta = {"result_count": 5, "newest_id": ids[0], "oldest_id": ids[-1]}
    if i < n_pages:
        meta["next_token"] = f"tok{i + 1}"
    users = [{"id": str(100 + j), "username": f"author{j}", "name": f"A {j}"} for j in range(5)]
    return {"data": data, "includes": {"users": users}, "meta": meta}


def answer(request):
    token = parse_qs(urlsplit(request.url).query).get("next_token", ["tok1"])[0]
    i = int(token[3:])
    print(f"page {i}", flush=True)
    time.sleep(delay)
    return 200, {"content-type": "application/json"}, json.dumps(page(i))


with responses.RequestsMock() as mock:
    mock.add_callback(responses.GET, re.compile(r"https://api\.twitter\.com/2/.*"), callback=answer)
    with Store(store_path) as store:
        result = x_live.search(x_live.make_client(), "q", store=store, archive_path=archive)
print("done", result.posts, result.added, result.duplicates, flush=True)
"""
N_PAGES = 8


def _live(db: Path, archive: Path, delay: float) -> subprocess.Popen[str]:
    env = _env()
    env["X_BEARER_TOKEN"] = "test-token-for-a-killed-run"
    return subprocess.Popen(
        [sys.executable, "-c", _LIVE_CHILD, str(db), str(archive), str(N_PAGES), str(delay)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _served(child: subprocess.Popen[str]) -> tuple[list[int], str]:
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    pages = [int(line.split()[1]) for line in out.splitlines() if line.startswith("page ")]
    return pages, out.splitlines()[-1]


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_sigkill_mid_live_collection_then_resume(tmp_path: Path) -> None:
    """A live X collection killed after k pages (at a random moment: waiting for the
    server, writing the archive, storing the posts or saving the cursor) leaves a sound
    store; the rerun resumes from the stored cursor, and the result equals an
    uninterrupted collection's."""
    seed = random.randrange(2**32)
    rnd = random.Random(seed)
    k = rnd.randrange(2, N_PAGES - 1)
    delay = 0.15
    db, archive = tmp_path / "killed.sqlite", tmp_path / "killed.jsonl"
    child = _live(db, archive, delay)
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() == f"page {k}":
            break
    time.sleep(rnd.random() * (delay + 0.05))  # mid-request, or mid-way through storing it
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, (
        f"the collection ended before the kill (seed {seed})"
    )

    with Store(db) as store:
        assert store.integrity_check() == "ok", f"seed {seed}"
        saved = store.cursors()
        killed_count = store.count_posts()
    token = json.loads(next(iter(saved.values())))["next_token"] if saved else None
    resume_at = int(token[3:]) if token else 1
    assert k - 1 <= resume_at <= k + 1, f"seed {seed}"

    rerun = _live(db, archive, 0.0)
    pages, done = _served(rerun)
    assert pages == list(range(resume_at, N_PAGES + 1)), f"did not resume (seed {seed})"
    assert int(done.split()[2]) == 5 * N_PAGES - killed_count, f"seed {seed}"  # added

    clean_db, clean_archive = tmp_path / "clean.sqlite", tmp_path / "clean.jsonl"
    clean_pages, clean_done = _served(_live(clean_db, clean_archive, 0.0))
    assert clean_pages == list(range(1, N_PAGES + 1)) and clean_done == f"done {5 * N_PAGES} 40 0"

    def posts(path: Path) -> list[Post]:
        with Store(path) as store:
            assert store.integrity_check() == "ok"
            rows = store.conn.execute("SELECT count(*), count(DISTINCT uid) FROM posts").fetchone()
            assert rows[0] == rows[1] == 5 * N_PAGES  # every post, none twice
            return [dataclasses.replace(p, provenance=None) for p in store.iter_posts()]

    assert posts(db) == posts(clean_db), f"seed {seed}"

    # The archive: every line whole, or one torn by the kill, which the importer sets
    # aside; the rerun's pages start on lines of their own.
    lines = archive.read_bytes().split(b"\n")
    assert lines.pop() == b""  # the rerun ended the file with a whole line
    torn = []
    for number, line in enumerate(lines, 1):
        try:
            json.loads(line)
        except ValueError:
            torn.append(number)
    assert len(torn) <= 1, f"seed {seed}"
    with Store(tmp_path / "reimport.sqlite") as store:
        result = import_archive(store, archive)
        assert [row["line"] for row in store.quarantined()] == torn
        assert result.quarantined == len(torn)
        reimported = [dataclasses.replace(p, provenance=None) for p in store.iter_posts()]
    assert reimported == posts(clean_db), f"seed {seed}"
