"""Model files and checkpoints on disk: ``.npz`` files written whole or not at all, and read defensively.

Writing: to a temporary file beside the target, flushed, then renamed over it
(:func:`xpbackprop.atomic.write_atomically`, re-exported here), so a reader sees the old file or
the whole new one. The library writes its members uncompressed (``numpy.savez``).

Reading never unpickles and is bounded by the file's own size: only regular files are opened (a
named pipe or a device is refused before it is opened); every member is a plain ``.npy`` array
whose header is checked (type, shape, the member's size against what the file can hold) before
anything is allocated; and what the members read and the network built from them take
(:meth:`Archive.charge`) may not exceed :data:`MEMORY_FACTOR` times the file's size plus
:data:`MEMORY_SLACK` bytes, so a small file whose compressed members claim gigabytes is refused,
not unpacked. What damaged bytes make the zip, zlib or JSON readers raise becomes a
:class:`ModelFileError` naming the file; so does running out of memory on a file that passes.
:mod:`xpbackprop.io` (models) and :mod:`xpbackprop.checkpoint` (training checkpoints) read and
write through this module.
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
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import check_target, prove_writable, write_atomically

__all__ = [
    "FILE_ERRORS",
    "MAX_CLASSES_CHARS",
    "MAX_COLUMNS_CHARS",
    "MAX_CONFIG_CHARS",
    "MEMORY_FACTOR",
    "MEMORY_SLACK",
    "REPR",
    "Archive",
    "ModelFileError",
    "check_config_header",
    "check_integer_header",
    "check_param_header",
    "check_param_values",
    "check_target",
    "check_text_header",
    "check_text_length",
    "clip",
    "parse_config",
    "prove_writable",
    "reading",
    "write_atomically",
    "write_npz_atomically",
]


class ModelFileError(ValueError):
    """A file that cannot be loaded as a network: not a saved model, damaged, too new, inconsistent,
    or too large for the memory its size allows."""


# limits checked from the headers, before anything is allocated
MAX_ELEMENTS = 2**31  # elements of one array
MAX_CONFIG_CHARS = 2**20  # characters of the architecture's JSON text
MAX_CLASSES_CHARS = 2**26  # characters of the class list's JSON text
MAX_COLUMNS_CHARS = 2**26  # characters of the feature names' and the label column's JSON text
MAX_HEADER_BYTES = 10_000  # an .npy header (numpy's own limit)
#: what reading a file may take: this many times its size on disk, plus MEMORY_SLACK bytes
MEMORY_FACTOR = 4
MEMORY_SLACK = 2**20
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
_KINDS = {stat.S_IFIFO: "a named pipe", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket"}


def _not_regular(path: Path, mode: int, noun: str) -> Exception:
    if stat.S_ISDIR(mode):
        return IsADirectoryError(errno.EISDIR, f"a directory, not a {noun}", str(path))
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return ModelFileError(f"{path}: {kind}, not a {noun} (only regular files are read)")


def reading(path: Path, read: Callable[[Any], Any], *, what: str = ".npz model file",
            noun: str = "model file", passing: tuple[type[Exception], ...] = ()) -> Any:
    """``read(f)`` on the regular file ``path`` opened for reading (our own handle: closed whatever
    fails inside). A directory is ``IsADirectoryError``; a named pipe, device or socket a
    :class:`ModelFileError`, refused before it is opened (and again after, should it have been
    swapped in between: it is opened without waiting for a writer). What damaged bytes make
    reading raise is a :class:`ModelFileError` naming the file (``what`` it is not); ``passing``
    exceptions go through."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode, noun)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_regular(path, mode, noun)
    with os.fdopen(fd, "rb") as f:
        try:
            return read(f)
        except (ModelFileError, *passing):
            raise
        except MemoryError as exc:
            raise ModelFileError(f"{path}: reading it ran out of memory: the file does not fit in the memory "
                                 "this machine can give now") from exc
        except FILE_ERRORS as exc:
            raise ModelFileError(
                f"{path}: not a readable {what} ({type(exc).__name__}: {clip(str(exc))})"
            ) from exc


def clip(message: str, limit: int = 500) -> str:
    return message if len(message) <= limit else message[:limit] + " ..."


class Archive:
    """An open ``.npz`` file, read within the memory its size allows.

    ``keys``: its members' names (``name.npy`` as ``name``, as ``numpy.load`` names them); a name
    twice is refused. :meth:`read` reads one member after checking its header; :meth:`charge`
    counts what a member or the network built from the file will take against the budget,
    ``MEMORY_FACTOR × size + MEMORY_SLACK``.
    """

    def __init__(self, f: Any, path: Path, *, what: str, kind: str) -> None:
        start = f.read(len(_NPY_MAGIC))
        if start.startswith(_NPY_MAGIC):
            raise ModelFileError(f"{path}: a single .npy array, not {what}")
        if not start.startswith(_ZIP_MAGICS):
            raise ModelFileError(f"{path}: not a readable {kind} (no zip signature at the start)")
        f.seek(0)
        self.path = path
        self.disk_size = os.fstat(f.fileno()).st_size
        self.budget = MEMORY_FACTOR * self.disk_size + MEMORY_SLACK
        self.spent = 0
        self.zf = zipfile.ZipFile(f)
        names = self.zf.namelist()
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ModelFileError(f"{path}: members named twice: {REPR.repr(twice)}")
        self.members = {name[: -len(".npy")] if name.endswith(".npy") else name: name for name in names}
        self.keys = set(self.members)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zf.close()

    def refuse_unknown(self, known: set[str], kind: str) -> None:
        """:class:`ModelFileError` listing the members not in ``known`` (a damaged name, or
        something the format does not know, is not silently skipped)."""
        unknown = sorted(self.keys - known)
        if unknown:
            raise ModelFileError(f"{self.path}: members a {kind} does not have: {REPR.repr(unknown)}")

    def declared(self, key: str) -> int:
        """The size the member ``key`` claims, uncompressed (nothing read)."""
        return self.zf.getinfo(self.members[key]).file_size

    def charge(self, nbytes: int, what: str) -> None:
        """Count ``nbytes`` of memory for ``what`` against the file's budget."""
        if self.spent + nbytes > self.budget:
            raise ModelFileError(
                f"{self.path}: {what} would take {self.spent + nbytes} bytes of memory in all, more than "
                f"{MEMORY_FACTOR} times the file's {self.disk_size} bytes (plus {MEMORY_SLACK}) that "
                "reading it may take (xpbackprop writes its members uncompressed; compressed ones "
                f"may shrink to 1/{MEMORY_FACTOR} at most)")
        self.spent += nbytes

    def read(self, key: str, check: Callable[[np.dtype, tuple[int, ...]], None]) -> np.ndarray:
        """The member ``key``, its header checked by ``check(dtype, shape)`` and against the
        limits, the member's size and the budget before its data are read."""
        path = self.path
        if key not in self.members:
            raise ModelFileError(f"{path}: missing {key!r}")
        info = self.zf.getinfo(self.members[key])
        fits = info.header_offset + info.compress_size <= self.disk_size
        if info.compress_type == zipfile.ZIP_STORED:
            fits = fits and info.compress_size == info.file_size
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            fits = fits and info.file_size <= MEMORY_FACTOR * info.compress_size + MEMORY_SLACK
        else:
            raise ModelFileError(f"{path}: {key} uses zip compression method {info.compress_type}, "
                                 "which numpy never writes")
        if not fits:
            raise ModelFileError(f"{path}: {key} claims {info.file_size} bytes, more than the file holds "
                                 f"({info.compress_size} bytes, compressed at most {MEMORY_FACTOR} times)")
        self.charge(info.file_size, f"reading {key}")
        with self.zf.open(info) as fp:
            dtype, shape, fortran, data_size = _npy_header(fp, key, info.file_size, path)
            check(dtype, shape)
            nbytes = math.prod(shape) * dtype.itemsize
            if nbytes != data_size:
                raise ModelFileError(f"{path}: {key} of shape {shape} and dtype {dtype} needs {nbytes} bytes "
                                     f"of data; the member holds {data_size}")
            data = _read_data(fp, nbytes, key, path)
        if nbytes == 0:
            return np.zeros(shape, dtype=dtype)
        return data.view(dtype).reshape(shape, order="F" if fortran else "C")


def _npy_header(fp: Any, key: str, member_size: int, path: Path
                ) -> tuple[np.dtype, tuple[int, ...], bool, int]:
    """``(dtype, shape, fortran_order, bytes of data after the header)`` of an ``.npy`` member."""
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
    text = raw.decode("utf-8" if version == (3, 0) else "latin1")
    dtype, shape, fortran = parse_npy_header(text, key, path)
    if math.prod(shape) > MAX_ELEMENTS:
        raise ModelFileError(f"{path}: {key} claims shape {shape}, more than 2**31 elements")
    return dtype, shape, fortran, member_size - 8 - size_bytes - header_size


def _read_data(fp: Any, nbytes: int, key: str, path: Path) -> np.ndarray:
    """``nbytes`` bytes of ``fp`` into a new array, in chunks (the last read reaches the member's end:
    zipfile checks its CRC there)."""
    try:
        data = np.empty(nbytes, dtype=np.uint8)
    except MemoryError as exc:
        raise ModelFileError(f"{path}: {key} needs {nbytes} bytes of memory, which this machine "
                             "cannot give now") from exc
    done = 0
    while done < nbytes:
        chunk = fp.read(min(_READ_CHUNK, nbytes - done))
        if not chunk:
            raise ModelFileError(f"{path}: {key} is truncated")
        data[done : done + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
        done += len(chunk)
    return data


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


class _NonFiniteError(ValueError):
    """A JSON number that is not finite (``Infinity``, ``NaN``, ``1e400``)."""


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFiniteError(f"the number {clip(text, 40)} is not finite")
    return value


def _no_constant(text: str) -> float:
    raise _NonFiniteError(f"{text} is not a JSON number")


def parse_config(text: np.ndarray, path: Path, key: str = "config", *, nonfinite: bool = False
                 ) -> dict[str, Any]:
    """The JSON object in the 0-d unicode array ``text`` (the member ``key``). Standard JSON only:
    ``Infinity``, ``NaN`` and numbers that overflow to infinity are refused (Python's reader
    accepts them), unless ``nonfinite`` (then they are floats, for the caller to check)."""
    # code points past U+10FFFF would make an invalid Python str: check the raw numbers first
    order = text.dtype.byteorder if text.dtype.byteorder in "<>" else "="
    codes = np.frombuffer(text.tobytes(), dtype=np.dtype(f"{order}u4"))
    if codes.size and int(codes.max()) > 0x10FFFF:
        raise ModelFileError(f"{path}: {key} holds invalid unicode characters")
    hooks = {} if nonfinite else {"parse_float": _finite_float, "parse_constant": _no_constant}
    try:
        config = json.loads(str(text[()]), **hooks)
    except _NonFiniteError as exc:
        raise ModelFileError(f"{path}: {key} holds a non-finite number: {exc}") from exc
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


def check_text_length(key: str, text: str, limit: int, what: str) -> None:
    """``ValueError`` before writing a JSON text member that the reader would refuse: ``what`` it
    holds is ``len(text)`` characters long, over ``limit``."""
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text)} characters of JSON, over the {limit} that a file's "
                         f"{key!r} may hold; nothing was written")


def write_npz_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` (members uncompressed) to a temporary file beside ``path``, then rename it over
    ``path``; an ``OSError`` names ``path``."""
    write_atomically(path, lambda f: np.savez(f, **arrays))
