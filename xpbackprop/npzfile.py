"""Model files and checkpoints on disk: ``.npz`` files written whole or not at all, and read defensively.

Writing: to a temporary name beside the target, flushed, then renamed over it
(:func:`write_atomically`), so a reader sees the old file or the whole new one.

Reading never unpickles and is bounded: every member is a plain ``.npy`` array whose header is
checked (type, shape, the member's size against what the file can hold) before anything is
allocated; what damaged bytes make the zip, zlib or JSON readers raise becomes a
:class:`ModelFileError` naming the file. :mod:`xpbackprop.io` (models) and
:mod:`xpbackprop.checkpoint` (training checkpoints) read and write through this module.
"""

from __future__ import annotations

import ast
import errno
import json
import math
import os
import re
import reprlib
import stat
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "FILE_ERRORS",
    "MAX_CONFIG_CHARS",
    "REPR",
    "ModelFileError",
    "check_config_header",
    "check_integer_header",
    "check_param_header",
    "check_param_values",
    "check_target",
    "check_text_header",
    "clip",
    "member_names",
    "parse_config",
    "prove_writable",
    "read_array",
    "reading",
    "write_atomically",
    "write_npz_atomically",
    "zip_size",
]


class ModelFileError(ValueError):
    """A file that cannot be loaded as a network: not a saved model, damaged, too new, or inconsistent."""


# limits checked from the headers, before anything is allocated
MAX_ELEMENTS = 2**31  # elements of one array
MAX_CONFIG_CHARS = 2**20  # characters of the architecture's JSON text
MAX_HEADER_BYTES = 10_000  # an .npy header (numpy's own limit)
_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand further: a larger claimed size is a lie or a bomb
_READ_CHUNK = 2**24
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# the array types a model file may hold: bool, integers, floats, unicode text (no objects,
# records, bytes, complex, dates)
_DESCR = re.compile(r"[<>|=]?(?:b1|[iu][1248]|f[248]|U[0-9]{1,9})")
REPR = reprlib.Repr()  # a file's values in messages: shortened, nesting cut off
REPR.maxlevel, REPR.maxstring, REPR.maxother = 3, 80, 80
# what reading and decoding damaged bytes can raise (zipfile, zlib, struct, ast, json, numpy)
FILE_ERRORS = (
    OSError, EOFError, ValueError, LookupError, TypeError, ArithmeticError, MemoryError, RuntimeError,
    AttributeError, SyntaxError, zipfile.BadZipFile, zlib.error, struct.error,
)


def reading(path: Path, read: Callable[[Any], Any], *, what: str = ".npz model file",
            noun: str = "model file", passing: tuple[type[Exception], ...] = ()) -> Any:
    """``read(f)`` on the file ``path`` opened for reading (our own handle: closed whatever fails
    inside). A directory is ``IsADirectoryError``; what damaged bytes make reading raise is a
    :class:`ModelFileError` naming the file (``what`` it is not); ``passing`` exceptions go through."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"a directory, not a {noun}", str(path))
    with open(path, "rb") as f:
        try:
            return read(f)
        except (ModelFileError, *passing):
            raise
        except FILE_ERRORS as exc:
            raise ModelFileError(
                f"{path}: not a readable {what} ({type(exc).__name__}: {clip(str(exc))})"
            ) from exc


def zip_size(f: Any, path: Path, what: str, kind: str) -> int:
    """The size of the open file ``f`` once its first bytes say zip (``ModelFileError`` for a
    single ``.npy`` array or anything else); ``f`` is left at its start."""
    start = f.read(len(_NPY_MAGIC))
    if start.startswith(_NPY_MAGIC):
        raise ModelFileError(f"{path}: a single .npy array, not {what}")
    if not start.startswith(_ZIP_MAGICS):
        raise ModelFileError(f"{path}: not a readable {kind} (no zip signature at the start)")
    f.seek(0)
    return os.fstat(f.fileno()).st_size


def clip(message: str, limit: int = 500) -> str:
    return message if len(message) <= limit else message[:limit] + " ..."


def member_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Key -> member name, as ``numpy.load`` finds them: ``key`` itself, else ``key.npy``."""
    names = zf.namelist()
    members = {name[: -len(".npy")]: name for name in names if name.endswith(".npy")}
    members.update({name: name for name in names})
    return members


def read_array(zf: zipfile.ZipFile, member: str, key: str, path: Path, disk_size: int,
                check: Callable[[np.dtype, tuple[int, ...]], None]) -> np.ndarray:
    """One ``.npy`` member, its header checked by ``check(dtype, shape)`` and against the
    limits and the member's size before its data are read."""
    info = zf.getinfo(member)
    fits = info.header_offset + info.compress_size <= disk_size
    if info.compress_type == zipfile.ZIP_STORED:
        fits = fits and info.compress_size == info.file_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        fits = fits and info.file_size <= _DEFLATE_MAX_RATIO * info.compress_size + 64
    else:
        raise ModelFileError(f"{path}: {key} uses zip compression method {info.compress_type}, "
                             "which numpy never writes")
    if not fits:
        raise ModelFileError(f"{path}: {key} claims {info.file_size} bytes, more than the file holds")
    with zf.open(info) as fp:
        magic = fp.read(8)
        if len(magic) < 8 or not magic.startswith(_NPY_MAGIC):
            raise ModelFileError(f"{path}: {key} is not a .npy array")
        version = (magic[6], magic[7])
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ModelFileError(f"{path}: {key} has an unknown .npy format version {version}")
        size_bytes = 2 if version == (1, 0) else 4
        header_size = int.from_bytes(fp.read(size_bytes), "little")
        if header_size > MAX_HEADER_BYTES:
            raise ModelFileError(f"{path}: {key} has a .npy header of {header_size} bytes")
        raw = fp.read(header_size)
        if len(raw) != header_size:
            raise ModelFileError(f"{path}: {key} is truncated in its .npy header")
        dtype, shape, fortran = parse_npy_header(raw.decode("utf-8" if version == (3, 0) else "latin1"),
                                                  key, path)
        count = math.prod(shape)
        if count > MAX_ELEMENTS:
            raise ModelFileError(f"{path}: {key} claims shape {shape}, more than 2**31 elements")
        check(dtype, shape)
        nbytes = count * dtype.itemsize
        if nbytes != info.file_size - 8 - size_bytes - header_size:
            raise ModelFileError(f"{path}: {key} of shape {shape} and dtype {dtype} needs {nbytes} bytes "
                                 f"of data; the member holds {info.file_size - 8 - size_bytes - header_size}")
        data = np.empty(nbytes, dtype=np.uint8)
        done = 0
        while done < nbytes:  # the last read reaches the member's end: zipfile checks its CRC there
            chunk = fp.read(min(_READ_CHUNK, nbytes - done))
            if not chunk:
                raise ModelFileError(f"{path}: {key} is truncated")
            data[done : done + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            done += len(chunk)
    if count == 0 or dtype.itemsize == 0:
        return np.zeros(shape, dtype=dtype)
    return data.view(dtype).reshape(shape, order="F" if fortran else "C")


def parse_npy_header(text: str, key: str, path: Path) -> tuple[np.dtype, tuple[int, ...], bool]:
    """``(dtype, shape, fortran_order)`` from an ``.npy`` header, accepting only plain types."""
    try:
        header = ast.literal_eval(text)  # literals only: never evaluates code
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError) as exc:
        raise ModelFileError(f"{path}: {key} has a malformed .npy header ({type(exc).__name__})") from exc
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ModelFileError(f"{path}: {key} has a malformed .npy header")
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if not isinstance(fortran, bool) or not isinstance(shape, tuple) or not all(
        type(n) is int and n >= 0 for n in shape
    ):
        raise ModelFileError(f"{path}: {key} has a malformed .npy header")
    if not isinstance(descr, str) or not _DESCR.fullmatch(descr):
        raise ModelFileError(f"{path}: {key} holds arrays of type {descr!r}, which a model file never does "
                             "(no objects, records, bytes, complex numbers or dates)")
    return np.dtype(descr), shape, fortran


def check_config_header(dtype: np.dtype, shape: tuple[int, ...], path: Path) -> None:
    check_text_header(dtype, shape, "config", MAX_CONFIG_CHARS, path)


def check_text_header(dtype: np.dtype, shape: tuple[int, ...], key: str, limit: int, path: Path) -> None:
    if dtype.kind != "U" or shape != ():
        raise ModelFileError(f"{path}: {key} is not a JSON string (a {dtype} array of shape {shape})")
    if dtype.itemsize // 4 > limit:
        raise ModelFileError(f"{path}: {key} is {dtype.itemsize // 4} characters long, over the limit "
                             f"of {limit}")


def parse_config(text: np.ndarray, path: Path, key: str = "config") -> dict[str, Any]:
    """The JSON object in the 0-d unicode array ``text`` (the member ``key``)."""
    # code points past U+10FFFF would make an invalid Python str: check the raw numbers first
    order = text.dtype.byteorder if text.dtype.byteorder in "<>" else "="
    codes = np.frombuffer(text.tobytes(), dtype=np.dtype(f"{order}u4"))
    if codes.size and int(codes.max()) > 0x10FFFF:
        raise ModelFileError(f"{path}: {key} holds invalid unicode characters")
    try:
        config = json.loads(str(text[()]))
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: {key} is not valid JSON ({type(exc).__name__}: {clip(str(exc))})"
                             ) from exc
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: {key} is a JSON {type(config).__name__}, not an object")
    return config


def check_integer_header(dtype: np.dtype, shape: tuple[int, ...], *, key: str, path: Path) -> None:
    if dtype.kind not in "iu" or shape != ():
        raise ModelFileError(f"{path}: {key} is not an integer")


def check_param_header(dtype: np.dtype, shape: tuple[int, ...], *, expected: tuple[int, ...] | None,
                        key: str, path: Path) -> None:
    """Floats, of the shape ``expected`` (any shape when it is ``None``)."""
    if dtype.kind != "f":
        raise ModelFileError(f"{path}: {key} must hold finite floats, got dtype {dtype}")
    if expected is not None and shape != expected:
        raise ModelFileError(f"{path}: {key} has shape {shape}; the architecture needs {expected}")


def check_param_values(p: np.ndarray, target: np.dtype, key: str, path: Path) -> None:
    """Finite, and finite still in the network's dtype (a float64 1e300 is inf as float32)."""
    if p.dtype.itemsize > target.itemsize:
        ok = bool(np.all(np.abs(p) <= float(np.finfo(target).max)))
    else:
        ok = bool(np.all(np.isfinite(p)))
    if not ok:
        raise ModelFileError(f"{path}: {key} must hold finite floats within {target}'s range "
                             "(it holds NaN, infinities or larger values)")


def write_npz_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to a temporary file beside ``path``, then rename it over ``path``."""
    write_atomically(path, lambda f: np.savez(f, **arrays))



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
    """Create and remove a file beside ``path`` (where :func:`write_atomically` will write), so that a
    path that cannot be written is found before long work rather than after it. Returns the file that
    writing ``path`` replaces (:func:`check_target`); raises ``OSError`` naming ``path`` otherwise
    (a read-only file system, no permission, a full disk)."""
    target = check_target(path)
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=target.parent)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write in {str(target.parent)!r} ({exc.strerror})",
                      str(path)) from exc
    os.close(fd)
    Path(probe).unlink(missing_ok=True)
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
