"""Saving and loading networks: one ``.npz`` file, no pickle, written atomically.

The file holds ``format_version`` (int), ``config`` (the architecture, loss and
dtype as JSON text) and ``param_0``, ``param_1``, ... in ``net.parameters``
order (``W1, b1, W2, b2, ...``) as float arrays. It is written to a temporary
file beside the target and renamed over it, so an interrupted save leaves any
existing file untouched. Loading never unpickles (``allow_pickle=False``).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import backend as _backend
from .layers import get_layer
from .losses import get_loss
from .network import MLP, Sequential

__all__ = ["FORMAT_VERSION", "ModelFileError", "load", "save"]

#: version of the file layout written by :func:`save`
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A file that cannot be loaded as a network: not a saved model, damaged, too new, or inconsistent."""


def save(net: Sequential, path: str | os.PathLike[str]) -> Path:
    """Write ``net`` to ``path`` (an ``.npz`` file) atomically; returns the path."""
    if not isinstance(net, Sequential):
        raise TypeError(f"save expects an xpbackprop network, got {type(net).__name__}")
    path = Path(path)
    arrays = {
        "format_version": np.asarray(FORMAT_VERSION, dtype=np.int64),
        "config": np.asarray(json.dumps(net.config())),
    }
    for i, p in enumerate(net.parameters):
        arrays[f"param_{i}"] = _backend.to_numpy(p)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | os.PathLike[str], backend: str = "numpy", device: Any = None) -> Sequential:
    """Read a network written by :func:`save` onto ``backend`` / ``device``.

    Raises :class:`ModelFileError` (naming the file and the problem) for anything
    that is not a complete model file of a known format version.
    """
    path = Path(path)
    _backend.namespace(backend)  # an unknown backend is the caller's error, not the file's
    with open(path, "rb") as f:  # our own handle: closed even when numpy fails half-way
        try:
            data = np.load(f, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ModelFileError(f"{path}: a single .npy array, not a saved model")
            with data:
                contents = {key: data[key] for key in data.files}
        except ModelFileError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
            raise ModelFileError(
                f"{path}: not a readable .npz model file ({type(exc).__name__}: {exc})"
            ) from exc
    for key in ("format_version", "config"):
        if key not in contents:
            raise ModelFileError(f"{path}: missing {key!r}; not a file written by xpbackprop.save")
    try:
        version = int(contents["format_version"])
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: format_version is not an integer") from exc
    if version > FORMAT_VERSION or version < 1:
        raise ModelFileError(
            f"{path}: format version {version} is not supported (this xpbackprop reads 1..{FORMAT_VERSION})"
        )
    try:
        config = json.loads(str(contents["config"]))
        net = _build(config, backend, device)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ModelFileError(f"{path}: invalid architecture in config ({exc})") from exc
    n = len(net.parameters)
    missing = [f"param_{i}" for i in range(n) if f"param_{i}" not in contents]
    if missing:
        raise ModelFileError(f"{path}: missing parameter arrays {missing}")
    params = [contents[f"param_{i}"] for i in range(n)]
    for i, p in enumerate(params):
        if p.dtype.kind != "f" or not np.all(np.isfinite(p)):
            raise ModelFileError(f"{path}: param_{i} must hold finite floats, got dtype {p.dtype}")
    try:
        net._assign(params)
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    return net


def _build(config: dict[str, Any], backend: str, device: Any) -> Sequential:
    kind = config["class"]
    common = {"backend": backend, "device": device, "dtype": config["dtype"], "seed": 0}
    if kind == "MLP":
        return MLP(config["sizes"], hidden=config["hidden"], output=config["output"],
                   loss=get_loss(config["loss"]), **common)
    if kind == "Sequential":
        return Sequential([get_layer(c) for c in config["layers"]], loss=get_loss(config["loss"]), **common)
    raise ValueError(f"unknown network class {kind!r}; valid classes are ['MLP', 'Sequential']")
