"""Saving and loading networks: one ``.npz`` file, no pickle, written atomically.

The file (layout version :data:`FORMAT_VERSION`, 2) holds ``format_version`` (int), ``config``
(the architecture, loss and dtype as JSON text) and ``param_0``, ``param_1``, ... in
``net.parameters`` order (``W1, b1, W2, b2, ...``) as float arrays; optionally ``classes`` (the
label of each class, as JSON text ``{"classes": [...]}``) and ``columns`` (the input features'
names and the label column's name, as JSON text ``{"features": [...] or null, "label": ... or
null}``), uncompressed. It is written to a temporary file beside the target and renamed over it,
so an interrupted save leaves any existing file untouched. Files of version 1 (no ``columns``)
still load.

Loading never unpickles and reads the file defensively (:mod:`xpbackprop.npzfile`): whatever its
bytes, :func:`load` returns a network or raises :class:`ModelFileError` (see :func:`load` for
the limits, the memory bound among them).
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import backend as _backend
from .architecture import check_dense_chain, check_memory, check_output_and_loss, mlp_layers
from .backend import check_backend_and_device
from .layers import Layer, get_layer
from .losses import Loss, get_loss
from .mlp import MLP
from .network import Sequential
from .npzfile import (
    MAX_CLASSES_CHARS,
    MAX_COLUMNS_CHARS,
    MAX_CONFIG_CHARS,
    REPR,
    Archive,
    ModelFileError,
    check_config_header,
    check_integer_header,
    check_param_header,
    check_param_values,
    check_text_header,
    check_text_length,
    clip,
    parse_config,
    reading,
    write_npz_atomically,
)
from .predictions import check_classes, check_features, check_label

__all__ = ["FORMAT_VERSION", "ModelFileError", "load", "save", "saved_classes"]

#: version of the file layout written by :func:`save` (2: the ``columns`` member; 1 still loads)
FORMAT_VERSION = 2
#: the members a file of each version may hold besides ``param_0``, ``param_1``, ...
_MEMBERS = {1: {"format_version", "config", "classes"}, 2: {"format_version", "config", "classes", "columns"}}

_JSON_SCALARS = (str, int, float, bool, type(None))


def save(net: Sequential, path: str | os.PathLike[str], *, classes: Sequence[Any] | None = None,
         features: Sequence[str] | None = None, label: str | None = None) -> Path:
    """Write ``net`` to ``path`` (an ``.npz`` file) atomically; returns the path.

    Beside the network, what it knows of its data (:mod:`xpbackprop.predictions`), for whoever
    predicts with it; each argument left out (or ``None``) is the network's own attribute, so
    ``save(net, path)`` keeps what ``net`` carries:

    - ``classes``: the label of each class, one per output (strings, integers, finite floats or
      booleans, all different), or two for a network of one sigmoid unit (class 0: output below
      ½, class 1: above). :func:`load` sets them as ``net.classes``; :func:`saved_classes` reads
      them alone.
    - ``features``: one non-empty string per input feature, all different, for a network whose
      first layer with parameters is Dense (a training file's header).
    - ``label``: the name of the label column, a string that is not a feature's name.

    ``TypeError``/``ValueError`` before anything is written when they are not that, or when the
    architecture, the labels or the names are longer than :func:`load` reads (2**20, 2**26 and
    2**26 characters of JSON). An ``OSError`` names ``path``.
    """
    if not isinstance(net, Sequential):
        raise TypeError(f"save expects an xpbackprop network, got {type(net).__name__}")
    path = Path(path)
    config = json.dumps(net.config(), allow_nan=False)
    check_text_length("config", config, MAX_CONFIG_CHARS, "the network's architecture")
    arrays = {"format_version": np.asarray(FORMAT_VERSION, dtype=np.int64), "config": np.asarray(config)}
    classes = check_classes(net.classes if classes is None else classes, net.layers)
    features = check_features(net.features if features is None else features, net.layers)
    label = check_label(net.label if label is None else label, features)
    if classes is not None:
        text = json.dumps({"classes": classes}, allow_nan=False)
        check_text_length("classes", text, MAX_CLASSES_CHARS, "the list of classes")
        arrays["classes"] = np.asarray(text)
    if features is not None or label is not None:
        text = json.dumps({"features": features, "label": label})
        check_text_length("columns", text, MAX_COLUMNS_CHARS, "the text of the column names")
        arrays["columns"] = np.asarray(text)
    for i, p in enumerate(net.parameters):
        arrays[f"param_{i}"] = _backend.to_numpy(p)
    write_npz_atomically(path, arrays)
    return path


def saved_classes(path: str | os.PathLike[str]) -> list[Any] | None:
    """The labels :func:`save` stored with ``classes=`` in the model file ``path``, else ``None``
    (what ``load(path).classes`` is, without reading the parameters).

    Read with the bounds of :func:`load`, and checked as it checks them: a member that is not a
    list of different labels, one per output of the network the file holds (or two for one
    sigmoid unit), raises
    :class:`ModelFileError` naming the file (as do the other errors :func:`load` finds before
    reading the parameters)."""
    path = Path(path)

    def read(f: Any) -> list[Any] | None:
        with Archive(f, path, what="a saved model", kind=".npz model file") as archive:
            model = _Model(archive)
            return model.classes() if "classes" in archive.keys else None

    return reading(path, read)


def load(path: str | os.PathLike[str], backend: str = "numpy", device: Any = None) -> Sequential:
    """Read a network written by :func:`save` onto ``backend`` / ``device``.

    Whatever the file holds, the result is a network or :class:`ModelFileError`, whose
    message names the file and the problem: not an ``.npz`` file (a single ``.npy``
    array, text, anything else), a truncated or damaged zip (bad CRC, bad headers, a member
    name twice), a missing, malformed or unknown member, a ``format_version`` that is not an
    integer or not one this version reads, a ``config`` that is not JSON or not a valid
    architecture (``"invalid architecture: ..."``: wrong types, unknown class, layer,
    activation or loss names, a dtype other than float32/float64, a loss without the output it
    needs), parameter arrays that are not real floats, have the wrong shape, or hold NaN,
    infinities or values beyond the network's dtype, a ``classes`` list that is not one label
    per output (or two for one sigmoid unit), ``columns`` that do not name the inputs and the
    label column as :func:`save` requires. Nothing is ever unpickled: object arrays are refused.
    Files of format version 1 (without ``columns``) load too.

    The network's ``classes``, ``features`` and ``label`` are those the file keeps (``None``
    where it keeps none): its ``predict`` then answers in the labels
    (:mod:`xpbackprop.predictions`).

    Reading is bounded by the file's size: arrays whose header claims more than 2**31
    elements, a config over 2**20 characters, an ``.npy`` header over 10 000 bytes, members
    whose claimed size the file cannot hold are refused before anything is allocated; and the
    members read plus the network built from them may take at most 4 times the file's size
    plus 1 MiB (``xb.save`` writes its members uncompressed: a member compressed more than 4
    times is refused). The architecture's parameter count is checked against the members
    before they are read, and the network is built from the file's arrays without drawing
    initial weights: the peak memory of ``load`` stays a small multiple of the file's size. A
    network too large for the machine (see :class:`Sequential`), or memory that runs out while
    reading, is a :class:`ModelFileError` too.

    The path itself is the caller's: a missing file raises ``FileNotFoundError``, a
    directory ``IsADirectoryError`` (on every platform), an unreadable one the
    ``OSError`` of ``open``; a named pipe or device is refused before it is opened
    (:class:`ModelFileError`); an unknown ``backend`` or ``device`` raises as in the
    network constructors.
    """
    path = Path(path)
    xp = check_backend_and_device(backend, device)  # the caller's errors, not the file's
    host = _backend.on_host(xp, device)
    build, params, names = reading(path, lambda f: _read_model(f, path, host))
    try:
        net = build(backend=backend, device=device, seed=0, parameters=params)
    except MemoryError as exc:
        raise ModelFileError(f"{path}: the network does not fit in the memory this machine can give now "
                             f"({type(exc).__name__})") from exc
    except RuntimeError as exc:  # PyTorch's allocator out of memory
        if "memory" not in str(exc).lower():
            raise
        raise ModelFileError(f"{path}: the network does not fit in memory ({clip(str(exc))})") from exc
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: invalid architecture: {clip(str(exc))}") from exc
    net.classes, net.features, net.label = names  # checked against the same layers already
    return net


def _read_model(f: Any, path: Path, host: bool
                ) -> tuple[Callable[..., Sequential], list[np.ndarray], tuple[Any, Any, Any]]:
    """``(builder, parameter arrays, (classes, features, label))`` from the open file ``f``, all
    checked; the builder makes the network given ``backend``, ``device``, ``seed`` and
    ``parameters``."""
    with Archive(f, path, what="a saved model", kind=".npz model file") as archive:
        model = _Model(archive)
        classes = model.classes() if "classes" in archive.keys else None
        features, label = model.columns() if "columns" in archive.keys else (None, None)
        shapes = model.shapes
        count = sum(math.prod(shape) for shape in shapes)
        held = sum(archive.declared(f"param_{i}") for i in range(len(shapes)))
        if 2 * count > held:  # float16, the narrowest float a member may hold, takes 2 bytes a value
            raise ModelFileError(f"{path}: the architecture has {count} parameters; its parameter "
                                 f"members hold {held} bytes, too few for them")
        itemsize = np.dtype(model.config["dtype"]).itemsize
        archive.charge(count * itemsize, f"the network of {count} parameters")
        try:
            check_memory(count, itemsize, host=host)
        except ValueError as exc:
            raise ModelFileError(f"{path}: {exc}") from exc
        target = np.dtype(model.config["dtype"])
        params = []
        for i, shape in enumerate(shapes):
            key = f"param_{i}"
            p = archive.read(key, functools.partial(check_param_header, expected=shape, key=key, path=path))
            check_param_values(p, target, key, path)
            params.append(p)
    return model.build, params, (classes, features, label)


class _Model:
    """What a model file's small members say, checked: the version, the architecture (``config``,
    ``build``, ``layers`` without parameters, ``shapes`` of the parameters) and that no member is
    unknown to its version; :meth:`classes` and :meth:`columns` read the optional members."""

    def __init__(self, archive: Archive) -> None:
        path = self.path = archive.path
        self.archive = archive
        for key in ("format_version", "config"):
            if key not in archive.keys:
                raise ModelFileError(f"{path}: missing {key!r}; not a file written by xpbackprop.save")
        integer = functools.partial(check_integer_header, key="format_version", path=path)
        version = int(archive.read("format_version", integer)[()])
        if version not in _MEMBERS:
            raise ModelFileError(f"{path}: format version {version} is not supported "
                                 f"(this xpbackprop reads 1..{FORMAT_VERSION})")
        text = archive.read("config", lambda dtype, shape: check_config_header(dtype, shape, path))
        self.config = parse_config(text, path)
        self.build, self.layers = _architecture(self.config, path)
        self.shapes = [tuple(layer.param_shapes()[name]) for layer in self.layers for name in layer.params]
        params = {f"param_{i}" for i in range(len(self.shapes))}
        archive.refuse_unknown(_MEMBERS[version] | params, f"model file of version {version}")
        missing = sorted(params - archive.keys, key=lambda k: int(k[len("param_"):]))
        if missing:
            raise ModelFileError(f"{path}: missing parameter arrays {missing}")

    def classes(self) -> list[Any]:
        """The ``classes`` member, checked as :func:`save` checks it against the outputs."""
        path = self.path
        text = self.archive.read(
            "classes", lambda d, s: check_text_header(d, s, "classes", MAX_CLASSES_CHARS, path))
        names = parse_config(text, path, key="classes").get("classes")
        try:  # what save accepts
            if not isinstance(names, list):
                raise TypeError("not a list")
            return check_classes(names, self.layers)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: classes is not a list of different labels, one per output or "
                                 f"two for one sigmoid unit ({exc}): {REPR.repr(names)}") from exc

    def columns(self) -> tuple[list[str] | None, str | None]:
        """``(features, label)`` of the ``columns`` member, checked as :func:`save` checks them."""
        path = self.path
        text = self.archive.read(
            "columns", lambda d, s: check_text_header(d, s, "columns", MAX_COLUMNS_CHARS, path))
        columns = parse_config(text, path, key="columns")
        try:  # what save writes
            if set(columns) != {"features", "label"}:
                raise ValueError(f"keys {sorted(columns)[:5]}, not ['features', 'label']")
            if columns["features"] is not None and not isinstance(columns["features"], list):
                raise TypeError("features is not a list")
            features = check_features(columns["features"], self.layers)
            return features, check_label(columns["label"], features)
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: columns does not name the network's inputs and label column "
                                 f"({clip(str(exc), 300)}): {REPR.repr(columns)}") from exc


# --- the architecture a config describes ------------------------------------------------------------


def _architecture(config: dict[str, Any], path: Path) -> tuple[Callable[..., Sequential], list[Layer]]:
    """``(builder, parameter-free layers)`` of a config, its types checked: every problem is a
    ModelFileError "invalid architecture: ...". Builds only parameter-free layer objects, so a
    config claiming enormous layers allocates nothing here."""
    kind = config.get("class")
    if kind not in ("MLP", "Sequential"):
        raise _invalid(path, f"unknown network class {REPR.repr(kind)}; "
                             "valid classes are ['MLP', 'Sequential']")
    dtype = config.get("dtype")
    if dtype not in ("float32", "float64"):
        raise _invalid(path, f"dtype must be 'float32' or 'float64', got {REPR.repr(dtype)}")
    try:
        loss = _loss(config.get("loss"), path)
        layers = _mlp_layers(config, path) if kind == "MLP" else _sequential_layers(config, path)
        check_dense_chain(layers)
        check_output_and_loss(layers, loss)
    except ModelFileError:
        raise
    except (ValueError, TypeError) as exc:
        raise _invalid(path, clip(str(exc))) from exc
    common = {"loss": loss, "dtype": dtype}
    if kind == "MLP":
        def build(**kw: Any) -> Sequential:
            return MLP(config["sizes"], hidden=config["hidden"], output=config["output"], **common, **kw)
    else:
        def build(**kw: Any) -> Sequential:
            return Sequential(layers, **common, **kw)
    return build, layers


def _invalid(path: Path, message: str) -> ModelFileError:
    return ModelFileError(f"{path}: invalid architecture: {message}")


def _loss(loss_config: Any, path: Path) -> Loss:
    """The loss a config names: a name, or a dictionary of a name and scalar options that
    describes a loss exactly (the options it rebuilds to)."""
    if isinstance(loss_config, dict):
        name = loss_config.get("name")
        if not isinstance(name, str) or not all(isinstance(v, _JSON_SCALARS) for v in loss_config.values()):
            raise _invalid(path, f"loss must be a name or a dictionary of a name and scalar options, "
                                 f"got {REPR.repr(loss_config)}")
    elif not isinstance(loss_config, str):
        raise _invalid(path, f"loss must be a name or a dictionary, got {REPR.repr(loss_config)}")
    loss = get_loss(loss_config)
    rebuilt = loss.config()
    if isinstance(loss_config, dict) and any(
        k not in rebuilt or rebuilt[k] != v or isinstance(rebuilt[k], bool) is not isinstance(v, bool)
        for k, v in loss_config.items() if k != "name"
    ):
        raise _invalid(path, f"loss options {REPR.repr(loss_config)} do not describe a loss "
                             f"(it would be {REPR.repr(rebuilt)})")
    return loss


def _mlp_layers(config: dict[str, Any], path: Path) -> list[Layer]:
    sizes = config.get("sizes")
    if not isinstance(sizes, list) or not all(type(n) is int for n in sizes):  # JSON: no 2.0 for 2
        raise _invalid(path, f"sizes must be a list of at least two positive integers, "
                             f"got {REPR.repr(sizes)}")
    return mlp_layers(sizes, config.get("hidden"), config.get("output"))[1]


def _sequential_layers(config: dict[str, Any], path: Path) -> list[Layer]:
    layer_configs = config.get("layers")
    if not isinstance(layer_configs, list) or not layer_configs:
        raise _invalid(path, f"layers must be a non-empty list of layer configs, "
                             f"got {REPR.repr(layer_configs)}")
    for c in layer_configs:
        if not isinstance(c, dict) or not isinstance(c.get("type"), str) or not all(
            isinstance(v, _JSON_SCALARS) for v in c.values()
        ):
            raise _invalid(path, f"a layer config is a dictionary of a type name and scalar options, "
                                 f"got {REPR.repr(c)}")
    return [get_layer(c) for c in layer_configs]
