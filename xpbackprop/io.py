"""Saving and loading networks: one ``.npz`` file, no pickle, written atomically.

The file holds ``format_version`` (int), ``config`` (the architecture, loss and
dtype as JSON text) and ``param_0``, ``param_1``, ... in ``net.parameters``
order (``W1, b1, W2, b2, ...``) as float arrays, and optionally ``classes`` (the label each
output stands for, as JSON text). It is written to a temporary file beside the target and
renamed over it, so an interrupted save leaves any existing file untouched.

Loading never unpickles and reads the file defensively (:mod:`xpbackprop.npzfile`): whatever its
bytes, :func:`load` returns a network or raises :class:`ModelFileError` (see :func:`load` for
the limits).
"""

from __future__ import annotations

import functools
import json
import math
import os
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import backend as _backend
from .backend import check_backend_and_device
from .layers import Activation, Dense, get_layer
from .losses import get_loss
from .network import MLP, Sequential
from .npzfile import (
    MAX_CONFIG_CHARS,
    REPR,
    ModelFileError,
    check_config_header,
    check_integer_header,
    check_param_header,
    check_param_values,
    check_text_header,
    clip,
    member_names,
    parse_config,
    read_array,
    reading,
    write_npz_atomically,
    zip_size,
)

__all__ = ["FORMAT_VERSION", "ModelFileError", "load", "save", "saved_classes"]

#: version of the file layout written by :func:`save`
FORMAT_VERSION = 1

_JSON_SCALARS = (str, int, float, bool, type(None))


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
    write_npz_atomically(path, arrays)
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
        disk_size = zip_size(f, path, "a saved model", ".npz model file")
        with zipfile.ZipFile(f) as zf:
            members = member_names(zf)
            if "classes" not in members:
                return None
            return read_array(zf, members["classes"], "classes", path, disk_size,
                               lambda d, s: check_text_header(d, s, "classes", MAX_CONFIG_CHARS, path))

    text = reading(path, read)
    if text is None:
        return None
    names = parse_config(text, path, key="classes").get("classes")
    try:  # what save accepts
        if not isinstance(names, list):
            raise TypeError("not a list")
        return _class_list(names, len(names))
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: classes is not a list of different labels ({exc}): "
                             f"{REPR.repr(names)}") from exc


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
    config, build, params = reading(path, lambda f: _read_model(f, path))
    common = {"backend": backend, "device": device, "dtype": config["dtype"], "seed": 0}
    try:
        net = build(**common)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: invalid architecture: {clip(str(exc))}") from exc
    try:
        net.set_parameters(params[0::2], params[1::2])
    except ValueError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    return net


def _read_model(f: Any, path: Path) -> tuple[dict[str, Any], Callable[..., Sequential], list[Any]]:
    """``(config, builder, parameter arrays)`` from the open file ``f``, all checked; the
    builder makes the network given ``backend``, ``device``, ``dtype`` and ``seed``."""
    disk_size = zip_size(f, path, "a saved model", ".npz model file")
    with zipfile.ZipFile(f) as zf:
        members = member_names(zf)
        for key in ("format_version", "config"):
            if key not in members:
                raise ModelFileError(f"{path}: missing {key!r}; not a file written by xpbackprop.save")

        def read(key: str, check: Callable[[np.dtype, tuple[int, ...]], None]) -> np.ndarray:
            return read_array(zf, members[key], key, path, disk_size, check)

        integer = functools.partial(check_integer_header, key="format_version", path=path)
        version = int(read("format_version", integer)[()])
        if version > FORMAT_VERSION or version < 1:
            raise ModelFileError(f"{path}: format version {version} is not supported "
                                 f"(this xpbackprop reads 1..{FORMAT_VERSION})")
        text = read("config", lambda dtype, shape: check_config_header(dtype, shape, path))
        config = parse_config(text, path)
        build, shapes = _architecture(config, path)
        missing = [f"param_{i}" for i in range(len(shapes)) if f"param_{i}" not in members]
        if missing:
            raise ModelFileError(f"{path}: missing parameter arrays {missing}")
        target = np.dtype(config["dtype"])
        params = []
        for i, shape in enumerate(shapes):
            key = f"param_{i}"
            p = read(key, functools.partial(check_param_header, expected=shape, key=key, path=path))
            check_param_values(p, target, key, path)
            params.append(p)
    return config, build, params


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
        raise invalid(f"unknown network class {REPR.repr(kind)}; valid classes are ['MLP', 'Sequential']")
    dtype = config.get("dtype")
    if dtype not in ("float32", "float64"):
        raise invalid(f"dtype must be 'float32' or 'float64', got {REPR.repr(dtype)}")
    loss_config = config.get("loss")
    if isinstance(loss_config, dict):
        name = loss_config.get("name")
        if not isinstance(name, str) or not all(isinstance(v, _JSON_SCALARS) for v in loss_config.values()):
            raise invalid(f"loss must be a name or a dictionary of a name and scalar options, "
                          f"got {REPR.repr(loss_config)}")
    elif not isinstance(loss_config, str):
        raise invalid(f"loss must be a name or a dictionary, got {REPR.repr(loss_config)}")
    try:
        loss = get_loss(loss_config)
        layers: list[Any]
        if kind == "MLP":
            sizes, hidden, output = config.get("sizes"), config.get("hidden"), config.get("output")
            if not isinstance(sizes, list) or len(sizes) < 2 or not all(
                type(n) is int and n >= 1 for n in sizes
            ):
                raise invalid(f"sizes must be a list of at least two positive integers, "
                              f"got {REPR.repr(sizes)}")
            hidden_list = [hidden] * (len(sizes) - 2) if isinstance(hidden, str) else hidden
            if not isinstance(hidden_list, list) or len(hidden_list) != len(sizes) - 2 or not all(
                isinstance(h, str) for h in hidden_list
            ):
                raise invalid(f"hidden must name one activation per hidden layer of {REPR.repr(sizes)}, "
                              f"got {REPR.repr(hidden)}")
            if not isinstance(output, str):
                raise invalid(f"output must be an activation name, got {REPR.repr(output)}")
            layers = []
            for n_in, n_out, act in zip(sizes[:-1], sizes[1:], [*hidden_list, output]):
                layers += [Dense(n_in, n_out), Activation(act)]
        else:
            layer_configs = config.get("layers")
            if not isinstance(layer_configs, list) or not layer_configs:
                raise invalid(f"layers must be a non-empty list of layer configs, "
                              f"got {REPR.repr(layer_configs)}")
            for c in layer_configs:
                if not isinstance(c, dict) or not isinstance(c.get("type"), str) or not all(
                    isinstance(v, _JSON_SCALARS) for v in c.values()
                ):
                    raise invalid(f"a layer config is a dictionary of a type name and scalar options, "
                                  f"got {REPR.repr(c)}")
            layers = [get_layer(c) for c in layer_configs]
    except ModelFileError:
        raise
    except (ValueError, TypeError) as exc:
        raise invalid(clip(str(exc))) from exc
    rebuilt = loss.config()
    if isinstance(loss_config, dict) and any(
        k not in rebuilt or rebuilt[k] != v or isinstance(rebuilt[k], bool) is not isinstance(v, bool)
        for k, v in loss_config.items() if k != "name"
    ):
        raise invalid(f"loss options {REPR.repr(loss_config)} do not describe a loss "
                      f"(it would be {REPR.repr(rebuilt)})")
    shapes = [tuple(layer.param_shapes()[name]) for layer in layers for name in layer.params]
    common = {"loss": loss}
    if kind == "MLP":
        def build(**kw: Any) -> Sequential:
            return MLP(config["sizes"], hidden=config["hidden"], output=config["output"], **common, **kw)
    else:
        def build(**kw: Any) -> Sequential:
            return Sequential(layers, **common, **kw)
    return build, shapes


