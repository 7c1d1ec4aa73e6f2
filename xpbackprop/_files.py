"""Files written whole or not at all: to a temporary name beside the target, then renamed."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["check_target", "write_atomically"]


def _new_file_mode(path: Path) -> int:
    """The mode ``open(path, "w")`` would give: the existing file's, else 0o666 less the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask: read from /proc on Linux (setting it to read it back, the only
    portable way, would change it for every thread for a moment)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def check_target(path: str | os.PathLike[str]) -> Path:
    """The file that writing ``path`` replaces: ``path`` itself, or the file a symbolic link there
    points to (so that the link stays a link). Raises ``OSError`` naming ``path`` where no file can
    be written: ``path`` is a directory (``IsADirectoryError``) or its folder does not exist
    (``FileNotFoundError``) or is not a folder (``NotADirectoryError``)."""
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "a directory, not a file to write", str(path))
    folder = target.parent
    if not folder.exists():
        raise FileNotFoundError(errno.ENOENT, f"cannot write here: no such directory {str(folder)!r}",
                                str(path))
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"cannot write here: {str(folder)!r} is not a directory",
                                 str(path))
    return target


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], None], *,
                     suffix: str = ".tmp") -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, flush it to disk and rename it over
    ``path``: a reader sees the old file or the whole new one, never a part, and an error (or an
    interrupt) leaves the old file as it was and no temporary file behind. The new file gets the
    permissions a plain ``open`` would have given it (``mkstemp``'s own are owner-only).

    A symbolic link at ``path`` stays: its target gets the new content (as with ``open``). A
    target that cannot be written (see :func:`check_target`) raises before anything is written,
    naming ``path``, not the temporary file."""
    path = Path(path)
    target = check_target(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    except OSError as exc:  # e.g. a folder without write permission: name the target, not the temporary
        raise OSError(exc.errno, f"cannot create a file in {str(target.parent)!r} ({exc.strerror})",
                      str(path)) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), _new_file_mode(target))
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
