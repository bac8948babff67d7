"""Safe file writing: every output goes to a temporary file beside its target and is
renamed into place, so a crash never leaves a half-written map or export. Also turns
actor names into safe file names."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    Use this for writers that take a file name (networkx, pyarrow). On an exception
    the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates the file 0600; give it the mode a plain open() would have
        # (or keep the mode of the file it replaces, e.g. a curated roster).
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(
    path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None
) -> Iterator[IO[Any]]:
    """Open a temporary file for writing and rename it onto ``path`` when closed cleanly."""
    if "b" in mode:
        encoding = None
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding, newline=newline) as fh:
        yield fh


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8) and return the path."""
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str, *, default: str = "actor", max_length: int = 80) -> str:
    """Turn any text (an actor's name or id) into a file name that stays in its folder.

    Accents are folded to ASCII, every other character outside ``[A-Za-z0-9._-]``
    becomes ``-``, leading dots are removed (no hidden files, no ``..``), and the
    result is never empty.

    >>> safe_filename("../../etc/passwd")
    'etc-passwd'
    >>> safe_filename("Ellie-Mae O’Hagan")
    'Ellie-Mae-OHagan'
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("-", folded).strip("-.")
    cleaned = re.sub(r"-{2,}", "-", cleaned)[:max_length].strip("-.")
    return cleaned or default
