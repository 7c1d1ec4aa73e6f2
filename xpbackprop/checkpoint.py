"""Training checkpoints: everything ``fit(resume=...)`` needs to continue a run exactly, in one file.

A checkpoint is a model file (:mod:`xpbackprop.io`) with more members: ``checkpoint_version``,
``config``, ``meta`` (JSON: epochs done, samples seen, the history, the schedule's state, the
shuffling generator's state, the layout of the optimizer's state, the best validation loss and
the training settings a resumed run must share), ``param_i``, the optimizer's state arrays and
the best validation weights (``state_i`` and ``best_i``, with their counts ``n_state`` and
``n_best``). It is written atomically and read with the bounds of :func:`xpbackprop.load`;
everything read is checked against the network and the trainer before anything changes.
"""

from __future__ import annotations

import functools
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

from . import backend as _backend
from .history import History
from .npzfile import (
    REPR,
    ModelFileError,
    check_config_header,
    check_integer_header,
    check_param_header,
    check_param_values,
    check_text_header,
    member_names,
    parse_config,
    read_array,
    reading,
    write_npz_atomically,
    zip_size,
)

__all__ = ["CHECKPOINT_VERSION", "check_json", "check_path", "restore", "seed_record", "write"]

#: version of the checkpoint layout
CHECKPOINT_VERSION = 1
#: characters of a checkpoint's ``meta`` JSON (the history grows with the epochs)
_MAX_META_CHARS = 2**24
#: arrays of optimizer state a checkpoint may list per parameter (Adam: two)
_MAX_STATE_PER_PARAM = 4
#: settings checkpoints record since a later version (older files lack them)
_LATER_FIT_KEYS = ("lr", "weight_decay", "power_t", "n_iter_no_change", "tol")


class _DifferentNetworkError(ValueError):
    """A readable checkpoint written for another architecture or dtype."""


# --- before training ------------------------------------------------------------------------------


def check_path(name: str, path: Any, *, writing: bool) -> None:
    """``checkpoint``/``resume``: ``None`` or a path (``str``, ``os.PathLike``); a checkpoint to
    write needs an existing folder and must not name a folder itself."""
    if path is None:
        return
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{name} must be a file path (str or os.PathLike), got {type(path).__name__} {path!r}"
        )
    if not writing:
        return
    target = os.fspath(path)
    if os.path.isdir(target):
        raise ValueError(f"{name}={target!r} is a folder; give a file path inside it")
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise ValueError(f"{name}={target!r}: its folder {folder!r} does not exist")


def seed_record(seed: Any) -> Any:
    """``seed`` as a checkpoint records it: ``None``, a Python int, or ``"generator"`` for a
    generator (whose state the checkpoint keeps as the shuffling generator's)."""
    if seed is None:
        return None
    return "generator" if hasattr(seed, "bit_generator") or hasattr(seed, "generate_state") else int(seed)


def check_json(what: str, value: Any) -> None:
    """``TypeError`` unless ``value`` can be written as JSON (checked before training starts)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} cannot be written to a checkpoint ({exc}): {value!r}") from exc


# --- writing -----------------------------------------------------------------------------------------


def write(path: Any, net: Any, trainer: Any, schedule: Any, rng: Any, history: History,
          best: tuple[float, Any], epochs_done: int, samples_seen: int, fit_args: dict[str, Any]) -> Path:
    """Write everything ``resume`` needs to continue exactly: network, optimizer state, schedule,
    the shuffling generator's state, history and the best validation weights, atomically."""
    layout = [None if hasattr(s, "shape") else s for s in trainer.state]  # None: an array's place
    meta = {
        "epochs_done": epochs_done,
        "samples_seen": samples_seen,
        "history": asdict(history),
        "schedule": schedule.state(),
        "rng": rng.bit_generator.state,
        "state_layout": layout,
        "best_loss": best[0],
        "fit": fit_args,
    }
    content = {
        "checkpoint_version": np.asarray(CHECKPOINT_VERSION, dtype=np.int64),
        "config": np.asarray(json.dumps(net.config())),
        "meta": np.asarray(json.dumps(meta)),
    }
    arrays = {"param": net.parameters, "state": [s for s in trainer.state if hasattr(s, "shape")],
              "best": best[1] or []}
    for name, values in arrays.items():
        if name != "param":
            content[f"n_{name}"] = np.asarray(len(values), dtype=np.int64)
        for i, value in enumerate(values):
            content[f"{name}_{i}"] = _backend.to_numpy(value)
    path = Path(path)
    write_npz_atomically(path, content)
    return path


# --- reading and restoring ---------------------------------------------------------------------------


def restore(path: Any, net: Any, trainer: Any, schedule: Any, rng: Any, history: History,
            fit_args: dict[str, Any]) -> tuple[int, int, tuple[float, Any]]:
    """Load a checkpoint into ``net``, ``trainer``, ``schedule``, ``rng`` and ``history`` (after
    checking all of it against them, so that nothing changes on error); returns
    ``(epochs done, samples seen, (best validation loss, best weights))``."""
    path = Path(path)
    meta, params, arrays = reading(path, lambda f: _read(f, path, net), what="training checkpoint",
                                   noun="checkpoint", passing=(_DifferentNetworkError,))
    _check_meta(meta, path)
    _check_state(meta, arrays, trainer, rng, path)
    # a file written before a setting was recorded is taken on the others' word
    mismatched = {k: (meta["fit"].get(k), v) for k, v in fit_args.items()
                  if (k in meta["fit"] or k not in _LATER_FIT_KEYS) and meta["fit"].get(k) != v}
    if mismatched:
        detail = ", ".join(f"{k}: file {a!r}, now {b!r}" for k, (a, b) in mismatched.items())
        raise ValueError(f"checkpoint {path} was written with other training settings ({detail})")

    def to_device(a: Any) -> Any:
        return _backend.to_backend(a, net.xp, dtype=net.dtype, device=net.device, copy=True)

    net.set_parameters(params[0::2], params[1::2])
    state_arrays = iter(arrays["state"])
    trainer.state = [to_device(next(state_arrays)) if s is None else s for s in meta["state_layout"]]
    saved = meta["schedule"]
    schedule.lr, schedule.best, schedule.bad_epochs = saved["lr"], saved["best"], saved["bad_epochs"]
    rng.bit_generator.state = meta["rng"]
    for key, value in meta["history"].items():
        setattr(history, key, value)
    best_params = [to_device(a) for a in arrays["best"]] or None
    return meta["epochs_done"], meta["samples_seen"], (meta["best_loss"], best_params)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _entry(path: Path, container: dict[str, Any], key: str, test: Callable[[Any], bool], what: str,
           where: str = "meta") -> Any:
    if key not in container:
        raise ModelFileError(f"{path}: damaged checkpoint: {where} lacks {key!r}")
    if not test(container[key]):
        raise ModelFileError(f"{path}: damaged checkpoint: {where}[{key!r}] is "
                             f"{REPR.repr(container[key])}, not {what}")
    return container[key]


def _check_meta(meta: dict[str, Any], path: Path) -> None:
    """``ModelFileError`` unless ``meta`` has the fields :func:`write` writes, of their types."""
    entry = functools.partial(_entry, path)
    epochs = entry(meta, "epochs_done", _count, "a count of epochs")
    entry(meta, "samples_seen", _count, "a count of samples")
    entry(meta, "best_loss", _number, "a number")
    entry(meta, "fit", lambda v: isinstance(v, dict), "an object")
    schedule = entry(meta, "schedule", lambda v: isinstance(v, dict), "an object")
    entry(schedule, "lr", lambda v: _number(v) and v > 0, "a positive number", "schedule")
    entry(schedule, "best", _number, "a number", "schedule")
    entry(schedule, "bad_epochs", _count, "a count", "schedule")
    history = entry(meta, "history", lambda v: isinstance(v, dict), "an object")
    names = {f.name for f in fields(History)}
    unknown = sorted(set(history) - names)
    if unknown:
        raise ModelFileError(f"{path}: damaged checkpoint: history has unknown entries {unknown} "
                             f"(valid: {sorted(names)})")
    for key in ("loss", "val_loss", "val_score", "lr"):
        entry(history, key, lambda v: isinstance(v, list) and all(map(_number, v)), "a list of numbers",
              "history")
    entry(history, "errors", lambda v: isinstance(v, list) and all(map(_count, v)), "a list of counts",
          "history")
    entry(history, "stop_reason", lambda v: isinstance(v, str), "a string", "history")
    entry(history, "best_epoch", lambda v: v is None or _count(v), "an epoch number or null", "history")
    if len(history["loss"]) != epochs:
        raise ModelFileError(f"{path}: damaged checkpoint: {len(history['loss'])} epoch losses in the "
                             f"history for {epochs} epochs done")
    entry(meta, "state_layout", lambda v: isinstance(v, list) and all(x is None or _number(x) for x in v),
          "a list of numbers and nulls")
    entry(meta, "rng", lambda v: isinstance(v, dict), "a generator state")


def _check_state(meta: dict[str, Any], arrays: dict[str, list[Any]], trainer: Any, rng: Any,
                 path: Path) -> None:
    """``ModelFileError`` unless the optimizer state and the generator state fit ``trainer`` and ``rng``."""
    layout = meta["state_layout"]
    slots = [hasattr(s, "shape") for s in trainer.state]
    if [x is None for x in layout] != slots:
        raise ModelFileError(
            f"{path}: damaged checkpoint: optimizer state laid out as {REPR.repr(layout)}; "
            f"{type(trainer.optimizer).__name__} keeps {len(slots)} values, arrays at "
            f"{[i for i, a in enumerate(slots) if a]}")
    expected = [tuple(s.shape) for s in trainer.state if hasattr(s, "shape")]
    found = [tuple(a.shape) for a in arrays["state"]]
    if found != expected:
        raise ModelFileError(f"{path}: damaged checkpoint: optimizer state arrays of shapes {found}, "
                             f"where the optimizer keeps {expected}")
    try:  # on a generator of the same kind, not the one training uses
        type(rng.bit_generator)().state = meta["rng"]
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ModelFileError(f"{path}: damaged checkpoint: meta['rng'] is not a "
                             f"{type(rng.bit_generator).__name__} state ({exc})") from exc


def _read(f: Any, path: Path, net: Any) -> tuple[dict[str, Any], list[Any], dict[str, list[Any]]]:
    """``(meta, parameters, {"state": [...], "best": [...]})`` of the open checkpoint ``f``,
    bounded as :func:`xpbackprop.load` reads, every member's type and shape checked; a checkpoint
    of another architecture or dtype is a ``ValueError`` naming both."""
    disk_size = zip_size(f, path, "a training checkpoint", "training checkpoint")
    with zipfile.ZipFile(f) as zf:
        members = member_names(zf)
        for key in ("checkpoint_version", "config", "meta", "n_state", "n_best"):
            if key not in members:
                raise ModelFileError(f"{path}: missing {key!r}; not a checkpoint written by "
                                     "fit(checkpoint=...)")

        def read(key: str, check: Callable[[np.dtype, tuple[int, ...]], None]) -> np.ndarray:
            if key not in members:
                raise ModelFileError(f"{path}: missing {key!r}")
            return read_array(zf, members[key], key, path, disk_size, check)

        def count(key: str, high: int) -> int:
            value = int(read(key, functools.partial(check_integer_header, key=key, path=path))[()])
            if not 0 <= value <= high:
                raise ModelFileError(f"{path}: {key} is {value}, outside [0, {high}]")
            return value

        version = count("checkpoint_version", 2**31)
        if version != CHECKPOINT_VERSION:
            raise ModelFileError(f"{path}: checkpoint version {version} is not supported "
                                 f"(this xpbackprop reads {CHECKPOINT_VERSION})")
        config = parse_config(read("config", lambda d, s: check_config_header(d, s, path)), path)
        if config != net.config():
            raise _DifferentNetworkError(
                f"checkpoint {path} is for a different network: {config} (this network: {net.config()})"
            )
        meta = parse_config(read("meta", lambda d, s: check_text_header(d, s, "meta", _MAX_META_CHARS, path)),
                            path, key="meta")
        target = np.dtype(net.dtype_name)
        shapes = [tuple(p.shape) for p in net.parameters]

        def param(key: str, shape: tuple[int, ...] | None) -> np.ndarray:
            # shape None: optimizer state, floats of any shape within the limits
            p = read(key, functools.partial(check_param_header, expected=shape, key=key, path=path))
            check_param_values(p, target, key, path)
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
