"""An import killed with SIGKILL at a random point leaves a sound store; running the
import again completes it, and the result equals an uninterrupted import's."""

from __future__ import annotations

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
