"""Saving and loading networks: one ``.npz`` file, no pickle, written atomically.

The file holds ``format_version`` (int), ``config`` (the architecture, loss and
dtype as JSON text) and ``param_0``, ``param_1``, ... in ``net.parameters``
order (``W1, b1, W2, b2, ...``) as float arrays. It is written to a temporary
file beside the target and renamed over it, so an interrupted save leaves any
existing file untouched.

Loading never unpickles and reads the file defensively: whatever its bytes, :func:`load`
returns a network or raises :class:`ModelFileError` (see :func:`load` for the limits).
Training checkpoints (:func:`write_checkpoint`, :func:`read_checkpoint`) are the same kind of
file with more members, read the same way.
"""

from __future__ import annotations

import ast
import errno
import functools
import json
import math
import os
import re
import reprlib
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import backend as _backend
from ._files import write_atomically
from .layers import Activation, Dense, get_layer
from .losses import get_loss
from .network import MLP, Sequential
from .validation import check_backend_and_device

__all__ = ["FORMAT_VERSION", "ModelFileError", "load", "save", "saved_classes"]

#: version of the file layout written by :func:`save`
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A file that cannot be loaded as a network: not a saved model, damaged, too new, or inconsistent."""


# limits checked from the headers, before anything is allocated
_MAX_ELEMENTS = 2**31  # elements of one array
_MAX_CONFIG_CHARS = 2**20  # characters of the architecture's JSON text
_MAX_HEADER_BYTES = 10_000  # an .npy header (numpy's own limit)
_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand further: a larger claimed size is a lie or a bomb
_READ_CHUNK = 2**24
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# the array types a model file may hold: bool, integers, floats, unicode text (no objects,
# records, bytes, complex, dates)
_DESCR = re.compile(r"[<>|=]?(?:b1|[iu][1248]|f[248]|U[0-9]{1,9})")
_JSON_SCALARS = (str, int, float, bool, type(None))
_REPR = reprlib.Repr()  # a file's values in messages: shortened, nesting cut off
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother = 3, 80, 80
# what reading and decoding damaged bytes can raise (zipfile, zlib, struct, ast, json, numpy)
_FILE_ERRORS = (
    OSError, EOFError, ValueError, LookupError, TypeError, ArithmeticError, MemoryError, RuntimeError,
    AttributeError, SyntaxError, zipfile.BadZipFile, zlib.error, struct.error,
)


def save(net: Sequential, path: str | os.PathLike[str], *, classes: Sequence[Any] | None = None) -> Path:
    """Write ``net`` to ``path`` (an ``.npz`` file) atomically; returns the path.

    ``classes``: the label each output stands for (one per output: strings, integers, finite
    floats or booleans, all different), stored beside the network for whoever predicts with it
    (:func:`saved_classes`; :func:`load` does not need it). ``TypeError``/``ValueError`` before
    anything is written when they are not that.
    """
    if not isinstance(net, Sequential):
        raise TypeError(f"save expects an xpbackprop network, got {type(net).__name__}")
    path = Path(path)
    arrays = {
        "format_version": np.asarray(FORMAT_VERSION, dtype=np.int64),
        "config": np.asarray(json.dumps(net.config())),
    }
    if classes is not None:
        arrays["classes"] = np.asarray(json.dumps({"classes": _class_list(classes, net.n_outputs)}))
    for i, p in enumerate(net.parameters):
        arrays[f"param_{i}"] = _backend.to_numpy(p)
    _write_npz_atomically(path, arrays)
    return path


def _class_list(classes: Any, n_out: int) -> list[Any]:
    """``classes`` as a list of JSON scalars, checked: one per output, all different."""
    if isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__"):
        raise TypeError(f"classes must be a list of labels, one per output, got {type(classes).__name__}")
    names = [c.item() if hasattr(c, "item") else c for c in classes]
    for c in names:
        if not isinstance(c, (str, int, float, bool)) or (isinstance(c, float) and not math.isfinite(c)):
            raise TypeError(f"classes must be strings, integers, finite floats or booleans, got {c!r}")
    if len(names) != n_out:
        raise ValueError(f"classes has {len(names)} labels but the network has {n_out} outputs")
    if len(set(names)) != len(names):
        raise ValueError(f"classes must all be different, got {names!r}")
    return names


def saved_classes(path: str | os.PathLike[str]) -> list[Any] | None:
    """The labels :func:`save` stored with ``classes=`` in the model file ``path``, else ``None``.

    Read with the bounds of :func:`load`; a member that is not such a list raises
    :class:`ModelFileError` naming the file."""
    path = Path(path)

    def read(f: Any) -> np.ndarray | None:
        disk_size = _zip_size(f, path, "a saved model", ".npz model file")
        with zipfile.ZipFile(f) as zf:
            members = _member_names(zf)
            if "classes" not in members:
                return None
            return _read_array(zf, members["classes"], "classes", path, disk_size,
                               lambda d, s: _check_text_header(d, s, "classes", _MAX_CONFIG_CHARS, path))

    text = _reading(path, read)
    if text is None:
        return None
    names = _parse_config(text, path, key="classes").get("classes")
    try:  # what save accepts
        if not isinstance(names, list):
            raise TypeError("not a list")
        return _class_list(names, len(names))
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: classes is not a list of different labels ({exc}): "
                             f"{_REPR.repr(names)}") from exc


def load(path: str | os.PathLike[str], backend: str = "numpy", device: Any = None) -> Sequential:
    """Read a network written by :func:`save` onto ``backend`` / ``device``.

    Whatever the file holds, the result is a network or :class:`ModelFileError`, whose
    message names the file and the problem: not an ``.npz`` file (a single ``.npy``
    array, text, anything else), a truncated or damaged zip (bad CRC, bad headers),
    a missing or malformed member, a ``format_version`` that is not an integer or not
    one this version reads, a ``config`` that is not JSON or not a valid architecture
    (``"invalid architecture: ..."``: wrong types, unknown class, layer, activation or
    loss names, a dtype other than float32/float64), parameter arrays that are not
    real floats, have the wrong shape, or hold NaN, infinities or values beyond the
    network's dtype. Nothing is ever unpickled: object arrays are refused.

    Reading is bounded: arrays whose header claims more than 2**31 elements, a config
    over 2**20 characters, an ``.npy`` header over 10 000 bytes, and members whose
    claimed size the file cannot hold are refused before anything is allocated; only
    the members named above are read; the parameter arrays' shapes are checked against
    the architecture before the network is built.

    The path itself is the caller's: a missing file raises ``FileNotFoundError``, a
    directory ``IsADirectoryError`` (on every platform), an unreadable one the
    ``OSError`` of ``open``; an unknown ``backend`` or ``device`` raises as in the
    network constructors.
    """
    path = Path(path)
    check_backend_and_device(backend, device)  # the caller's errors, not the file's
    config, build, params = _reading(path, lambda f: _read_model(f, path))
    common = {"backend": backend, "device": device, "dtype": config["dtype"], "seed": 0}
    try:
        net = build(**common)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: invalid architecture: {_clip(str(exc))}") from exc
    try:
        net._assign(params)
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    return net


def _reading(path: Path, read: Callable[[Any], Any]) -> Any:
    """``read(f)`` on the model file ``path`` opened for reading (our own handle: closed whatever
    fails inside). A directory is ``IsADirectoryError``; what damaged bytes make reading raise is a
    :class:`ModelFileError` naming the file."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "a directory, not a model file", str(path))
    with open(path, "rb") as f:
        try:
            return read(f)
        except ModelFileError:
            raise
        except _FILE_ERRORS as exc:
            raise ModelFileError(
                f"{path}: not a readable .npz model file ({type(exc).__name__}: {_clip(str(exc))})"
            ) from exc


def _read_model(f: Any, path: Path) -> tuple[dict[str, Any], Callable[..., Sequential], list[Any]]:
    """``(config, builder, parameter arrays)`` from the open file ``f``, all checked; the
    builder makes the network given ``backend``, ``device``, ``dtype`` and ``seed``."""
    disk_size = _zip_size(f, path, "a saved model", ".npz model file")
    with zipfile.ZipFile(f) as zf:
        members = _member_names(zf)
        for key in ("format_version", "config"):
            if key not in members:
                raise ModelFileError(f"{path}: missing {key!r}; not a file written by xpbackprop.save")

        def read(key: str, check: Callable[[np.dtype, tuple[int, ...]], None]) -> np.ndarray:
            return _read_array(zf, members[key], key, path, disk_size, check)

        integer = functools.partial(_check_integer_header, key="format_version", path=path)
        version = int(read("format_version", integer)[()])
        if version > FORMAT_VERSION or version < 1:
            raise ModelFileError(f"{path}: format version {version} is not supported "
                                 f"(this xpbackprop reads 1..{FORMAT_VERSION})")
        text = read("config", lambda dtype, shape: _check_config_header(dtype, shape, path))
        config = _parse_config(text, path)
        build, shapes = _architecture(config, path)
        missing = [f"param_{i}" for i in range(len(shapes)) if f"param_{i}" not in members]
        if missing:
            raise ModelFileError(f"{path}: missing parameter arrays {missing}")
        target = np.dtype(config["dtype"])
        params = []
        for i, shape in enumerate(shapes):
            key = f"param_{i}"
            p = read(key, functools.partial(_check_param_header, expected=shape, key=key, path=path))
            _check_param_values(p, target, key, path)
            params.append(p)
    return config, build, params


def _zip_size(f: Any, path: Path, what: str, kind: str) -> int:
    """The size of the open file ``f`` once its first bytes say zip (``ModelFileError`` for a
    single ``.npy`` array or anything else); ``f`` is left at its start."""
    start = f.read(len(_NPY_MAGIC))
    if start.startswith(_NPY_MAGIC):
        raise ModelFileError(f"{path}: a single .npy array, not {what}")
    if not start.startswith(_ZIP_MAGICS):
        raise ModelFileError(f"{path}: not a readable {kind} (no zip signature at the start)")
    f.seek(0)
    return os.fstat(f.fileno()).st_size


def _clip(message: str, limit: int = 500) -> str:
    return message if len(message) <= limit else message[:limit] + " ..."


def _member_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Key -> member name, as ``numpy.load`` finds them: ``key`` itself, else ``key.npy``."""
    names = zf.namelist()
    members = {name[: -len(".npy")]: name for name in names if name.endswith(".npy")}
    members.update({name: name for name in names})
    return members


def _read_array(zf: zipfile.ZipFile, member: str, key: str, path: Path, disk_size: int,
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
        if header_size > _MAX_HEADER_BYTES:
            raise ModelFileError(f"{path}: {key} has a .npy header of {header_size} bytes")
        raw = fp.read(header_size)
        if len(raw) != header_size:
            raise ModelFileError(f"{path}: {key} is truncated in its .npy header")
        dtype, shape, fortran = _parse_npy_header(raw.decode("utf-8" if version == (3, 0) else "latin1"),
                                                  key, path)
        count = math.prod(shape)
        if count > _MAX_ELEMENTS:
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


def _parse_npy_header(text: str, key: str, path: Path) -> tuple[np.dtype, tuple[int, ...], bool]:
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


def _check_config_header(dtype: np.dtype, shape: tuple[int, ...], path: Path) -> None:
    _check_text_header(dtype, shape, "config", _MAX_CONFIG_CHARS, path)


def _check_text_header(dtype: np.dtype, shape: tuple[int, ...], key: str, limit: int, path: Path) -> None:
    if dtype.kind != "U" or shape != ():
        raise ModelFileError(f"{path}: {key} is not a JSON string (a {dtype} array of shape {shape})")
    if dtype.itemsize // 4 > limit:
        raise ModelFileError(f"{path}: {key} is {dtype.itemsize // 4} characters long, over the limit "
                             f"of {limit}")


def _parse_config(text: np.ndarray, path: Path, key: str = "config") -> dict[str, Any]:
    """The JSON object in the 0-d unicode array ``text`` (the member ``key``)."""
    # code points past U+10FFFF would make an invalid Python str: check the raw numbers first
    order = text.dtype.byteorder if text.dtype.byteorder in "<>" else "="
    codes = np.frombuffer(text.tobytes(), dtype=np.dtype(f"{order}u4"))
    if codes.size and int(codes.max()) > 0x10FFFF:
        raise ModelFileError(f"{path}: {key} holds invalid unicode characters")
    try:
        config = json.loads(str(text[()]))
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path}: {key} is not valid JSON ({type(exc).__name__}: {_clip(str(exc))})"
                             ) from exc
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: {key} is a JSON {type(config).__name__}, not an object")
    return config


def _architecture(
    config: dict[str, Any], path: Path
) -> tuple[Callable[..., Sequential], list[tuple[int, ...]]]:
    """``(builder, parameter shapes)`` of a config, its types checked: every
    problem is a ModelFileError "invalid architecture: ...". Builds only parameter-free
    layer objects, so a config claiming enormous layers allocates nothing here."""

    def invalid(message: str) -> ModelFileError:
        return ModelFileError(f"{path}: invalid architecture: {message}")

    kind = config.get("class")
    if kind not in ("MLP", "Sequential"):
        raise invalid(f"unknown network class {_REPR.repr(kind)}; valid classes are ['MLP', 'Sequential']")
    dtype = config.get("dtype")
    if dtype not in ("float32", "float64"):
        raise invalid(f"dtype must be 'float32' or 'float64', got {_REPR.repr(dtype)}")
    loss_config = config.get("loss")
    if isinstance(loss_config, dict):
        name = loss_config.get("name")
        if not isinstance(name, str) or not all(isinstance(v, _JSON_SCALARS) for v in loss_config.values()):
            raise invalid(f"loss must be a name or a dictionary of a name and scalar options, "
                          f"got {_REPR.repr(loss_config)}")
    elif not isinstance(loss_config, str):
        raise invalid(f"loss must be a name or a dictionary, got {_REPR.repr(loss_config)}")
    try:
        loss = get_loss(loss_config)
        layers: list[Any]
        if kind == "MLP":
            sizes, hidden, output = config.get("sizes"), config.get("hidden"), config.get("output")
            if not isinstance(sizes, list) or len(sizes) < 2 or not all(
                type(n) is int and n >= 1 for n in sizes
            ):
                raise invalid(f"sizes must be a list of at least two positive integers, "
                              f"got {_REPR.repr(sizes)}")
            hidden_list = [hidden] * (len(sizes) - 2) if isinstance(hidden, str) else hidden
            if not isinstance(hidden_list, list) or len(hidden_list) != len(sizes) - 2 or not all(
                isinstance(h, str) for h in hidden_list
            ):
                raise invalid(f"hidden must name one activation per hidden layer of {_REPR.repr(sizes)}, "
                              f"got {_REPR.repr(hidden)}")
            if not isinstance(output, str):
                raise invalid(f"output must be an activation name, got {_REPR.repr(output)}")
            layers = []
            for n_in, n_out, act in zip(sizes[:-1], sizes[1:], [*hidden_list, output]):
                layers += [Dense(n_in, n_out), Activation(act)]
        else:
            layer_configs = config.get("layers")
            if not isinstance(layer_configs, list) or not layer_configs:
                raise invalid(f"layers must be a non-empty list of layer configs, "
                              f"got {_REPR.repr(layer_configs)}")
            for c in layer_configs:
                if not isinstance(c, dict) or not isinstance(c.get("type"), str) or not all(
                    isinstance(v, _JSON_SCALARS) for v in c.values()
                ):
                    raise invalid(f"a layer config is a dictionary of a type name and scalar options, "
                                  f"got {_REPR.repr(c)}")
            layers = [get_layer(c) for c in layer_configs]
    except ModelFileError:
        raise
    except (ValueError, TypeError) as exc:
        raise invalid(_clip(str(exc))) from exc
    rebuilt = loss.config()
    if isinstance(loss_config, dict) and any(
        k not in rebuilt or rebuilt[k] != v or isinstance(rebuilt[k], bool) is not isinstance(v, bool)
        for k, v in loss_config.items() if k != "name"
    ):
        raise invalid(f"loss options {_REPR.repr(loss_config)} do not describe a loss "
                      f"(it would be {_REPR.repr(rebuilt)})")
    shapes = [tuple(layer.param_shapes()[name]) for layer in layers for name in layer.params]
    common = {"loss": loss}
    if kind == "MLP":
        def build(**kw: Any) -> Sequential:
            return MLP(config["sizes"], hidden=config["hidden"], output=config["output"], **common, **kw)
    else:
        def build(**kw: Any) -> Sequential:
            return Sequential(layers, **common, **kw)
    return build, shapes


def _check_integer_header(dtype: np.dtype, shape: tuple[int, ...], *, key: str, path: Path) -> None:
    if dtype.kind not in "iu" or shape != ():
        raise ModelFileError(f"{path}: {key} is not an integer")


def _check_param_header(dtype: np.dtype, shape: tuple[int, ...], *, expected: tuple[int, ...] | None,
                        key: str, path: Path) -> None:
    """Floats, of the shape ``expected`` (any shape when it is ``None``)."""
    if dtype.kind != "f":
        raise ModelFileError(f"{path}: {key} must hold finite floats, got dtype {dtype}")
    if expected is not None and shape != expected:
        raise ModelFileError(f"{path}: {key} has shape {shape}; the architecture needs {expected}")


def _check_param_values(p: np.ndarray, target: np.dtype, key: str, path: Path) -> None:
    """Finite, and finite still in the network's dtype (a float64 1e300 is inf as float32)."""
    if p.dtype.itemsize > target.itemsize:
        ok = bool(np.all(np.abs(p) <= float(np.finfo(target).max)))
    else:
        ok = bool(np.all(np.isfinite(p)))
    if not ok:
        raise ModelFileError(f"{path}: {key} must hold finite floats within {target}'s range "
                             "(it holds NaN, infinities or larger values)")


# --- training checkpoints ------------------------------------------------------------------------

#: version of the checkpoint layout written by :func:`write_checkpoint`
CHECKPOINT_VERSION = 1


def _write_npz_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to a temporary file beside ``path``, then rename it over ``path``."""
    write_atomically(path, lambda f: np.savez(f, **arrays))


def write_checkpoint(path: str | os.PathLike[str], net: Sequential, meta: dict[str, Any],
                     arrays: dict[str, list[Any]]) -> Path:
    """Write a training checkpoint (used by ``fit(checkpoint=...)``): the network as :func:`save`
    writes it, plus ``meta`` (JSON) and named lists of arrays, atomically."""
    path = Path(path)
    content = {
        "checkpoint_version": np.asarray(CHECKPOINT_VERSION, dtype=np.int64),
        "config": np.asarray(json.dumps(net.config())),
        "meta": np.asarray(json.dumps(meta)),
    }
    for i, p in enumerate(net.parameters):
        content[f"param_{i}"] = _backend.to_numpy(p)
    for name, values in arrays.items():
        content[f"n_{name}"] = np.asarray(len(values), dtype=np.int64)
        for i, value in enumerate(values):
            content[f"{name}_{i}"] = _backend.to_numpy(value)
    _write_npz_atomically(path, content)
    return path


def read_checkpoint(
    path: str | os.PathLike[str], net: Sequential
) -> tuple[dict[str, Any], list[Any], dict[str, list[Any]]]:
    """``(meta, parameters, arrays)`` of a checkpoint written for a network like ``net``.

    Read as :func:`load` reads a model: bounded (the limits of :func:`load`, and a ``meta`` text
    of at most 2**24 characters), never unpickling, only the members named here. A file that is
    not a readable checkpoint (not a zip of ``.npy`` members, damaged, members missing or of the
    wrong type or shape, parameters not finite) raises :class:`ModelFileError`; one written for a
    different architecture or dtype raises ``ValueError`` naming both. ``meta`` is the JSON
    object the training loop wrote; its fields are the loop's to check.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "a directory, not a checkpoint", str(path))
    with open(path, "rb") as f:
        try:
            return _read_checkpoint(f, path, net)
        except (ModelFileError, _DifferentNetworkError):
            raise
        except _FILE_ERRORS as exc:
            raise ModelFileError(
                f"{path}: not a readable training checkpoint ({type(exc).__name__}: {_clip(str(exc))})"
            ) from exc


class _DifferentNetworkError(ValueError):
    """A readable checkpoint written for another architecture or dtype."""


#: characters of a checkpoint's ``meta`` JSON (the history grows with the epochs)
_MAX_META_CHARS = 2**24
#: arrays of optimizer state a checkpoint may list per parameter (Adam: two)
_MAX_STATE_PER_PARAM = 4


def _read_checkpoint(f: Any, path: Path, net: Sequential
                     ) -> tuple[dict[str, Any], list[Any], dict[str, list[Any]]]:
    disk_size = _zip_size(f, path, "a training checkpoint", "training checkpoint")
    with zipfile.ZipFile(f) as zf:
        members = _member_names(zf)
        for key in ("checkpoint_version", "config", "meta", "n_state", "n_best"):
            if key not in members:
                raise ModelFileError(f"{path}: missing {key!r}; not a checkpoint written by "
                                     "fit(checkpoint=...)")

        def read(key: str, check: Callable[[np.dtype, tuple[int, ...]], None]) -> np.ndarray:
            if key not in members:
                raise ModelFileError(f"{path}: missing {key!r}")
            return _read_array(zf, members[key], key, path, disk_size, check)

        def count(key: str, high: int) -> int:
            value = int(read(key, functools.partial(_check_integer_header, key=key, path=path))[()])
            if not 0 <= value <= high:
                raise ModelFileError(f"{path}: {key} is {value}, outside [0, {high}]")
            return value

        version = count("checkpoint_version", 2**31)
        if version != CHECKPOINT_VERSION:
            raise ModelFileError(f"{path}: checkpoint version {version} is not supported "
                                 f"(this xpbackprop reads {CHECKPOINT_VERSION})")
        config = _parse_config(read("config", lambda d, s: _check_config_header(d, s, path)), path)
        if config != net.config():
            raise _DifferentNetworkError(
                f"checkpoint {path} is for a different network: {config} (this network: {net.config()})"
            )
        text = read("meta", lambda d, s: _check_text_header(d, s, "meta", _MAX_META_CHARS, path))
        meta = _parse_config(text, path, key="meta")
        target = np.dtype(net.dtype_name)
        shapes = [tuple(p.shape) for p in net.parameters]

        def param(key: str, shape: tuple[int, ...] | None) -> np.ndarray:
            # shape None: optimizer state, floats of any shape within the limits
            p = read(key, functools.partial(_check_param_header, expected=shape, key=key, path=path))
            _check_param_values(p, target, key, path)
            return p

        params = [param(f"param_{i}", shape) for i, shape in enumerate(shapes)]
        n_state = count("n_state", _MAX_STATE_PER_PARAM * len(shapes))
        n_best = count("n_best", len(shapes))
        if n_best not in (0, len(shapes)):
            raise ModelFileError(f"{path}: n_best is {n_best}: the best weights are all {len(shapes)} "
                                 "parameter arrays or none")
        arrays = {"state": [param(f"state_{i}", None) for i in range(n_state)],
                  "best": [param(f"best_{i}", shape) for i, shape in enumerate(shapes[:n_best])]}
    return meta, params, arrays
