"""Atomic writes: all or nothing, with the permissions a plain write would give."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mapper.fsutil import atomic_open, safe_filename, write_text


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
