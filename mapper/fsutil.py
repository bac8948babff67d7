"""Safe file writing: every output goes to a temporary file beside its target and is
renamed into place, so a crash never leaves a half-written map or export. A writer
killed before its rename (SIGKILL, a power cut) leaves its temporary file behind; the
first atomic write of each later process into that folder removes such leftovers, and
only those: files named by mapper's own pattern whose writing process has ended. Also
turns actor names into safe file names."""

from __future__ import annotations

import os
import re
import stat
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_open",
    "atomic_path",
    "remove_stale_temporaries",
    "safe_filename",
    "write_text",
]

#: A temporary file of an atomic write: ``.<target>.mapper-<pid>.<random>.tmp``. The
#: process id says whose it is, so a leftover can be told from a write in progress.
_TEMPORARY = re.compile(r"^\.(?P<target>.+)\.mapper-(?P<pid>[0-9]{1,10})\.[a-z0-9_]{4,32}\.tmp$")
#: Seconds a temporary file must predate the process now holding its process id to be
#: counted as left by an earlier process (covers clock adjustments and coarse times).
_CLOCK_SLACK = 60.0
_swept: set[str] = set()
_swept_lock = threading.Lock()


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    Use this for writers that take a file name (networkx, pyarrow). On an exception
    the temporary file is removed and ``path`` is left as it was. The first atomic
    write of a process into a folder also removes the temporary files that killed
    writers left there (see :func:`remove_stale_temporaries`).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_once(target.parent)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.mapper-{os.getpid()}.", suffix=".tmp", dir=target.parent
    )
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


# --------------------------------------------------------------------------- leftovers


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files that killed atomic writers left in ``folder``.

    A file is removed only when all of these hold: its name follows mapper's pattern
    (``.<target>.mapper-<pid>.<random>.tmp``); it is a regular file (not a link, not a folder);
    it belongs to the current user; and the process named in it is gone (no such
    process, or a zombie), or that process id now belongs to a process started after
    the file was last written (the id was reused). The temporary file of a writer still
    running is never removed. Where a process's start time cannot be read (no
    ``/proc``), a file whose process id is in use is kept; on Windows, where probing a
    process id is not safe, every file is kept.

    Parameters
    ----------
    folder : str or Path
        The folder to clean (not its subfolders).

    Returns
    -------
    list of Path
        The files removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(".tmp")):
            continue
        match = _TEMPORARY.match(name)
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        if uid is not None and info.st_uid != uid:
            continue
        if not _writer_gone(int(match["pid"]), info.st_mtime):
            continue
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            continue  # another process cleaned it first
        except OSError:
            continue  # not ours to remove after all (permissions): leave it
        removed.append(Path(entry.path))
    return removed


def _sweep_once(folder: Path) -> None:
    """:func:`remove_stale_temporaries` on ``folder``, once per process and folder (a
    run writing thousands of files into one folder lists it once)."""
    key = os.path.abspath(folder)
    with _swept_lock:
        if key in _swept:
            return
        _swept.add(key)
    remove_stale_temporaries(folder)


def _writer_gone(pid: int, written: float) -> bool:
    """Whether process ``pid``, which last wrote its temporary file at ``written`` (Unix
    time), has ended."""
    if os.name == "nt" or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # the id is in use, by another user's process
    except OSError:
        return False
    status = _process_status(pid)
    if status is None:
        return False  # cannot tell: keep the file
    state, started = status
    if state in ("Z", "X"):
        return True  # a zombie: killed, not yet reaped, never writing again
    return started is not None and written < started - _CLOCK_SLACK


def _process_status(pid: int) -> tuple[str, float | None] | None:
    """The state letter and the start time (Unix time) of process ``pid`` from
    ``/proc``; ``None`` where ``/proc`` cannot tell."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            line = fh.read()
        fields = line[line.rindex(")") + 2 :].split()
        state, ticks = fields[0], int(fields[19])
    except (OSError, ValueError, IndexError):
        return None
    try:
        boot = _boot_time()
        hertz = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return state, None
    return state, boot + ticks / hertz


def _boot_time() -> float:
    with open("/proc/stat", encoding="ascii", errors="replace") as fh:
        for line in fh:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise ValueError("no btime in /proc/stat")


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
