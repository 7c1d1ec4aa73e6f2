"""Writing files whole or not at all: a temporary file beside the target, flushed, renamed over it.

:func:`write_atomically` is how the library writes every file (models, checkpoints, plots,
predictions), so that a reader sees the old file or the whole new one. Its temporary files are
named ``.<target>.xpbackprop-<host>-<pid>-<random><suffix>``: recognisable as the library's, and
as the writing process's. A write removes the temporary files of the same target that a process
of this machine left behind when it was killed (its pid is gone); one whose process still runs,
or that another machine wrote, is never touched.

:func:`prove_writable` creates, writes and removes such a file beside a path, so that a path that
cannot be written is found before long work rather than after it. Every ``OSError`` either raises
names the path given (not the temporary file).
"""

from __future__ import annotations

import errno
import os
import re
import socket
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["check_target", "leftover_temporaries", "prove_writable", "write_atomically"]

_TAG = "xpbackprop"


def _host() -> str:
    """This machine's name as it may stand in a file name (letters, digits, ``.``, ``_``)."""
    return re.sub(r"[^A-Za-z0-9._]", "_", socket.gethostname())[:64] or "host"


def _prefix(target: Path) -> str:
    return f".{target.name}.{_TAG}-{_host()}-{os.getpid()}-"


def _named(exc: OSError, path: str | os.PathLike[str], doing: str) -> OSError:
    """``exc`` again, naming ``path`` and what was being done (the same ``errno``, hence the same
    ``OSError`` subclass: ``PermissionError``, ``FileNotFoundError``, ...)."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno is None:
        return OSError(f"{doing} {os.fspath(path)!r}: {reason}")
    return OSError(exc.errno, f"{doing} ({reason})", os.fspath(path))


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine (a process of another user counts)."""
    if pid == os.getpid() or os.name != "posix":  # Windows' os.kill ends the process it is given
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError, ValueError):
        return True  # exists but is not ours, or cannot be asked: keep its files
    return True


def leftover_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """The temporary files of writes to ``target`` (the file itself, links resolved) that processes
    of this machine left behind and no longer run: regular files named as :func:`write_atomically`
    names them, whose pid is gone."""
    target = Path(target)
    pattern = re.compile(rf"\.{re.escape(target.name)}\.{_TAG}-{re.escape(_host())}-(\d{{1,10}})-")
    found = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        try:
            if stat.S_ISREG(entry.stat(follow_symlinks=False).st_mode):
                found.append(Path(entry.path))
        except OSError:
            continue
    return found


def _remove_leftovers(target: Path) -> None:
    for leftover in leftover_temporaries(target):
        try:
            leftover.unlink()
        except OSError:  # gone already, or not ours to remove: the write goes on
            pass


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


def prove_writable(path: str | os.PathLike[str]) -> Path:
    """Create a file beside ``path`` (where :func:`write_atomically` will write), write a byte to it,
    flush it to disk and remove it, so that a path that cannot be written is found before long work
    rather than after it. Returns the file that writing ``path`` replaces (:func:`check_target`).

    Raises ``OSError`` naming ``path`` otherwise: a read-only file system (``EROFS``), no
    permission, a full disk (``ENOSPC``), a folder where files cannot be created (``/proc``).
    A disk with room for one byte may still fill up later: :func:`write_atomically` names the
    path then too."""
    target = check_target(path)
    try:
        fd, probe = tempfile.mkstemp(prefix=_prefix(target), suffix=".probe", dir=target.parent)
    except OSError as exc:
        raise _named(exc, path, f"cannot create a file in {str(target.parent)!r}") from exc
    try:
        try:
            os.write(fd, b"\0")
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        Path(probe).unlink(missing_ok=True)
        raise _named(exc, path, f"cannot write a file in {str(target.parent)!r}") from exc
    try:
        os.unlink(probe)
    except OSError as exc:
        raise _named(exc, path, f"cannot remove the file {probe!r} just written") from exc
    return target


def write_atomically(path: str | os.PathLike[str], write: Callable[[BinaryIO], None], *,
                     suffix: str = ".tmp") -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, flush it to disk and rename it over
    ``path``: a reader sees the old file or the whole new one, never a part, and an error (or an
    interrupt) leaves the old file as it was and no temporary file behind. The new file gets the
    permissions a plain ``open`` would have given it (``mkstemp``'s own are owner-only).

    A symbolic link at ``path`` stays: its target gets the new content (as with ``open``). A
    target that cannot be written (see :func:`check_target`) raises before anything is written,
    naming ``path``, not the temporary file; so does an ``OSError`` while writing (a full disk).
    Temporary files that killed writers of the same target left behind are removed first
    (:func:`leftover_temporaries`)."""
    path = Path(path)
    target = check_target(path)
    _remove_leftovers(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_prefix(target), suffix=suffix, dir=target.parent)
    except OSError as exc:  # e.g. a folder without write permission: name the target, not the temporary
        raise _named(exc, path, f"cannot create a file in {str(target.parent)!r}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), _new_file_mode(target))
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _named(exc, path, "cannot write the file") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
