"""Atomic writes: all or nothing, with the permissions a plain write would give, and
the temporary files of killed writers cleaned up (never anyone else's)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mapper.fsutil import atomic_open, remove_stale_temporaries, safe_filename, write_text


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "map.html"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write("half")
        raise RuntimeError("crash")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        new = write_text(tmp_path / "new.csv", "a")
        assert stat.S_IMODE(new.stat().st_mode) == 0o644
        kept = tmp_path / "roster.csv"
        kept.write_text("x", encoding="utf-8")
        kept.chmod(0o664)
        write_text(kept, "y")
        assert stat.S_IMODE(kept.stat().st_mode) == 0o664
    finally:
        os.umask(old)


@pytest.mark.parametrize("name", ["../../etc/passwd", "..", "/abs/path", "a/b\\c", "", "<img>"])
def test_safe_filenames_stay_in_their_folder(tmp_path: Path, name: str) -> None:
    out = (tmp_path / safe_filename(name)).resolve()
    assert out.parent == tmp_path.resolve()
    assert out.name and not out.name.startswith(".")


# --------------------------------------------------------------------------- leftovers

WRITER = """
import sys
from mapper.fsutil import atomic_open

target, size = sys.argv[1], int(sys.argv[2])
with atomic_open(target, "wb") as fh:
    fh.write(b"x" * size)
    fh.flush()
    print("writing", flush=True)
    sys.stdin.readline()  # wait here, mid-write, until told to finish (or killed)
    fh.write(b"!")
"""


def start_writer(target: Path, size: int = 4096) -> subprocess.Popen[str]:
    """A child process stopped in the middle of an atomic write of ``target``."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), str(size)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "writing"
    return child


def temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".tmp"))


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def wait_until_zombie(pid: int) -> None:
    """Block until the killed process ``pid`` is a zombie (dead, not yet reaped)."""
    stat_file = Path(f"/proc/{pid}/stat")
    for _ in range(2000):
        text = stat_file.read_text()
        if text[text.rindex(")") + 2] == "Z":
            return
        time.sleep(0.005)
    raise AssertionError(f"process {pid} did not die")


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@pytest.mark.timeout(60)
@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("name", ["network.png", "report.html", "map data.v2.csv", ".hidden.json"])
@pytest.mark.parametrize("reaped", [True, False])
def test_a_writer_killed_mid_write_leaves_a_temporary_the_next_write_removes(
    tmp_path: Path, name: str, reaped: bool
) -> None:
    if not reaped and not Path("/proc/self/stat").exists():
        pytest.skip("telling a zombie needs /proc")
    out = tmp_path / "out"
    out.mkdir()
    child = start_writer(out / name)
    [left] = temporaries(out)
    assert left.name.startswith(f".{name}.") and left.stat().st_size == 4096
    os.kill(child.pid, signal.SIGKILL)
    if reaped:
        child.wait()
    else:
        wait_until_zombie(child.pid)
    try:
        assert temporaries(out) == [left]  # SIGKILL runs no cleanup: it is left behind
        write_text(out / "summary.json", "{}")  # the next write into the folder
        assert temporaries(out) == []
        assert sorted(p.name for p in out.iterdir()) == ["summary.json"]
    finally:
        child.wait()


@pytest.mark.timeout(60)
@pytest.mark.skipif(os.name == "nt", reason="POSIX processes")
@pytest.mark.parametrize("same_target", [False, True])
def test_the_temporary_of_a_live_writer_is_never_removed(tmp_path: Path, same_target: bool) -> None:
    child = start_writer(tmp_path / "network.png", size=10_000)
    try:
        [live] = temporaries(tmp_path)
        assert remove_stale_temporaries(tmp_path) == []
        write_text(tmp_path / ("network.png" if same_target else "factions.csv"), "mine")
        assert live in temporaries(tmp_path)
        assert child.stdin is not None
        child.stdin.write("finish\n")
        child.stdin.flush()
        assert child.wait() == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert (tmp_path / "network.png").read_bytes() == b"x" * 10_000 + b"!"  # renamed whole
    assert temporaries(tmp_path) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX processes")
def test_files_that_are_not_mapper_temporaries_are_never_removed(tmp_path: Path) -> None:
    gone = dead_pid()
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("keep me", encoding="utf-8")
    keep = [
        ".network.png.tmp",
        ".network.png.k2j3h4g5.tmp",  # another tool's (or an older mapper's) pattern
        f"network.png.mapper-{gone}.k2j3h4g5.tmp",  # not hidden
        f".network.png.mapper-{gone}.k2j3h4g5.tmp.bak",
        f".network.png.mapper-{gone}.k2j3h4g5.temp",
        f".network.png.mapper-x{gone}.k2j3h4g5.tmp",
        "notes.tmp",
    ]
    for name in keep:
        (tmp_path / name).write_text("theirs", encoding="utf-8")
    folder = tmp_path / f".folder.mapper-{gone}.k2j3h4g5.tmp"
    folder.mkdir()
    link = tmp_path / f".link.mapper-{gone}.k2j3h4g5.tmp"
    link.symlink_to(outside)
    stale = tmp_path / f".report.html.mapper-{gone}.k2j3h4g5.tmp"
    stale.write_text("half", encoding="utf-8")

    assert remove_stale_temporaries(tmp_path) == [stale]
    for name in keep:
        assert (tmp_path / name).read_text(encoding="utf-8") == "theirs"
    assert folder.is_dir() and link.is_symlink()
    assert outside.read_text(encoding="utf-8") == "keep me"


@needs_proc
@pytest.mark.parametrize("holder", ["self", "parent"])
def test_a_leftover_whose_process_id_was_reused_is_removed_if_older_than_that_process(
    tmp_path: Path, holder: str
) -> None:
    """After a reboot or a long time, the id in a leftover's name can belong to a new,
    live process: a file older than that process cannot be its file."""
    pid = os.getpid() if holder == "self" else os.getppid()
    old = tmp_path / f".map.html.mapper-{pid}.k2j3h4g5.tmp"
    recent = tmp_path / f".report.md.mapper-{pid}.q8w7e6r5.tmp"
    old.write_text("from before", encoding="utf-8")
    recent.write_text("being written", encoding="utf-8")
    long_ago = 946684800  # 2000-01-01: before any running process started
    os.utime(old, (long_ago, long_ago))
    assert remove_stale_temporaries(tmp_path) == [old]
    assert recent.exists()  # maybe a write in progress by that very process


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_a_leftover_of_another_user_is_never_removed(tmp_path: Path) -> None:
    theirs = tmp_path / f".map.html.mapper-{dead_pid()}.k2j3h4g5.tmp"
    theirs.write_text("x", encoding="utf-8")
    os.chown(theirs, 65534, 65534)
    assert remove_stale_temporaries(tmp_path) == []
    assert theirs.exists()


def test_atomic_writes_name_their_temporary_with_the_process_id(tmp_path: Path) -> None:
    with atomic_open(tmp_path / "edges.csv") as fh:
        [tmp] = temporaries(tmp_path)
        assert tmp.name.startswith(f".edges.csv.mapper-{os.getpid()}.")
        fh.write("a,b\n")
    assert temporaries(tmp_path) == []
