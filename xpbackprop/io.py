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
    _write_npz_atomically(path, arrays)
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


# --- training checkpoints ------------------------------------------------------------------------

#: version of the checkpoint layout written by :func:`write_checkpoint`
CHECKPOINT_VERSION = 1


def _write_npz_atomically(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to a temporary file beside ``path``, then rename it over ``path``."""
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

    A file that is not a readable checkpoint raises :class:`ModelFileError`; one written for a
    different architecture or dtype raises ``ValueError`` naming both.
    """
    path = Path(path)
    with open(path, "rb") as f:
        try:
            data = np.load(f, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ModelFileError(f"{path}: a single .npy array, not a training checkpoint")
            with data:
                contents = {key: data[key] for key in data.files}
            version = int(contents["checkpoint_version"])
            config = json.loads(str(contents["config"]))
            meta = json.loads(str(contents["meta"]))
            n_params = len(net.parameters)
            params = [contents[f"param_{i}"] for i in range(n_params)]
            arrays = {
                name: [contents[f"{name}_{i}"] for i in range(int(contents[f"n_{name}"]))]
                for name in ("state", "best")
            }
        except ModelFileError:
            raise
        except Exception as exc:
            raise ModelFileError(
                f"{path}: not a readable training checkpoint ({type(exc).__name__}: {exc})"
            ) from exc
    if version != CHECKPOINT_VERSION:
        raise ModelFileError(f"{path}: checkpoint version {version} is not supported")
    if config != net.config():
        raise ValueError(
            f"checkpoint {path} is for a different network: {config} (this network: {net.config()})"
        )
    return meta, params, arrays
