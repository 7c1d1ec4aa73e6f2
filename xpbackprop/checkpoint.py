"""Training checkpoints: everything ``fit(resume=...)`` needs to continue a run exactly, in one file.

A checkpoint is an ``.npz`` file like a model file (:mod:`xpbackprop.io`) with other members:
``checkpoint_version``, ``config``, ``meta`` (JSON: epochs done, samples seen, the schedule's
state, the shuffling generator's state, the layout of the optimizer's state, the best validation
loss, the history's stop reason and best epoch, and the training settings a resumed run must
share), the history's per-epoch values as arrays (``history_loss``, ``history_val_loss``,
``history_val_score``, ``history_errors``, ``history_lr``), ``param_i``, the optimizer's state
arrays and the best validation weights (``state_i`` and ``best_i``, with their counts
``n_state`` and ``n_best``). It is written atomically and read with the bounds of
:func:`xpbackprop.load`; everything read is checked, against itself (:mod:`xpbackprop.ckptcheck`)
and against the network and the trainer, before anything changes.

Version 1 (before the history moved into arrays) kept the history in ``meta``; such files still
resume. ``meta`` is standard JSON: a best loss that is not yet finite is ``null`` (version 1 wrote
``Infinity`` there, and only there is it accepted).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from . import backend as _backend
from .ckptcheck import HISTORY_ARRAYS, check_consistency, check_types
from .history import History
from .npzfile import (
    MAX_CONFIG_CHARS,
    Archive,
    ModelFileError,
    check_config_header,
    check_integer_header,
    check_param_header,
    check_param_values,
    check_text_header,
    check_text_length,
    parse_config,
    prove_writable,
    reading,
    write_npz_atomically,
)

__all__ = ["CHECKPOINT_VERSION", "check_path", "check_writable", "restore", "seed_record", "write",
           "write_failed"]

#: version of the checkpoint layout: 2 keeps the history in arrays (1 kept it in ``meta``)
CHECKPOINT_VERSION = 2
#: characters of a checkpoint's ``meta`` JSON
_MAX_META_CHARS = 2**24
#: arrays of optimizer state a checkpoint may list per parameter (Adam: two)
_MAX_STATE_PER_PARAM = 4
#: settings checkpoints record since a later version (older files lack them)
_LATER_FIT_KEYS = ("lr", "weight_decay", "power_t", "n_iter_no_change", "tol", "validation",
                   "stop_on_zero_errors")


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


def check_writable(path: Any, net: Any, rng: Any, fit_args: dict[str, Any]) -> None:
    """Before training: what a checkpoint records can be written as JSON, within what
    :func:`restore` reads (``TypeError``/``ValueError``), and ``path`` can be written (an
    ``OSError`` naming it: :func:`~xpbackprop.npzfile.prove_writable`)."""
    for what, value, key, limit in (
        ("the training settings a checkpoint records", fit_args, "meta", _MAX_META_CHARS // 2),
        ("the shuffling generator's state", rng.bit_generator.state, "meta", _MAX_META_CHARS // 4),
        ("the network's architecture", net.config(), "config", MAX_CONFIG_CHARS),
    ):
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{what} cannot be written to a checkpoint ({exc}): {value!r}") from exc
        check_text_length(key, text, limit, what)
    prove_writable(path)


# --- writing -----------------------------------------------------------------------------------------


def _finite_or_none(x: float) -> float | None:
    return None if x == float("inf") else x


def write(path: Any, net: Any, trainer: Any, schedule: Any, rng: Any, history: History,
          best: tuple[float, Any], epochs_done: int, samples_seen: int, fit_args: dict[str, Any]) -> Path:
    """Write everything ``resume`` needs to continue exactly: network, optimizer state, schedule,
    the shuffling generator's state, history and the best validation weights, atomically (an
    ``OSError`` names ``path``)."""
    state = schedule.state()
    meta = {
        "epochs_done": epochs_done,
        "samples_seen": samples_seen,
        "history": {"stop_reason": history.stop_reason, "best_epoch": history.best_epoch},
        "schedule": {**state, "best": _finite_or_none(state["best"])},
        "rng": rng.bit_generator.state,
        "state_layout": [None if hasattr(s, "shape") else s for s in trainer.state],  # None: an array
        "best_loss": _finite_or_none(best[0]),
        "fit": fit_args,
    }
    text = json.dumps(meta, allow_nan=False)
    check_text_length("meta", text, _MAX_META_CHARS, "the checkpoint's record")
    content = {
        "checkpoint_version": np.asarray(CHECKPOINT_VERSION, dtype=np.int64),
        "config": np.asarray(json.dumps(net.config())),
        "meta": np.asarray(text),
    }
    for key, dtype in HISTORY_ARRAYS.items():
        content[f"history_{key}"] = np.asarray(getattr(history, key), dtype=dtype)
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


def write_failed(exc: OSError, history: History, epochs: int) -> OSError:
    """The ``OSError`` of a checkpoint that could not be written after ``epochs`` epochs, saying what
    is kept: the network its trained parameters, the error's ``history`` attribute the run's history
    (``stop_reason="write_failed"``). The same ``errno`` and file name, hence the same subclass."""
    history.stop_reason = "write_failed"
    kept = (f"training stopped after epoch {epochs}: the network keeps its trained parameters and "
            f"error.history the history of the {epochs} epochs")
    if exc.errno is None:
        error = OSError(f"{exc}; {kept}")
    else:
        error = OSError(exc.errno, f"{exc.strerror}; {kept}", exc.filename)
    error.history = history  # type: ignore[attr-defined]
    return error


# --- reading and restoring ---------------------------------------------------------------------------


def restore(path: Any, net: Any, trainer: Any, schedule: Any, rng: Any, history: History,
            fit_args: dict[str, Any]) -> tuple[int, int, tuple[float, Any]]:
    """Load a checkpoint into ``net``, ``trainer``, ``schedule``, ``rng`` and ``history`` (after
    checking all of it, against itself and against them, so that nothing changes on error);
    returns ``(epochs done, samples seen, (best validation loss, best weights))``."""
    path = Path(path)
    record, params, arrays = reading(path, lambda f: _read(f, path, net), what="training checkpoint",
                                     noun="checkpoint", passing=(_DifferentNetworkError,))
    check_types(record, path)
    # a file written before a setting was recorded is taken on the others' word
    mismatched = {k: (record["fit"].get(k), v) for k, v in fit_args.items()
                  if (k in record["fit"] or k not in _LATER_FIT_KEYS) and record["fit"].get(k) != v}
    if mismatched:
        detail = ", ".join(f"{k}: file {a!r}, now {b!r}" for k, (a, b) in mismatched.items())
        raise ValueError(f"checkpoint {path} was written with other training settings ({detail})")
    check_consistency(record, path, trainer=trainer, rng=rng, schedule=schedule, fit_args=fit_args,
                      arrays=arrays)

    def to_device(a: Any) -> Any:
        return _backend.to_backend(a, net.xp, dtype=net.dtype, device=net.device, copy=True)

    net.set_parameters(params[0::2], params[1::2])
    state_arrays = iter(arrays["state"])
    trainer.state = [to_device(next(state_arrays)) if s is None else s for s in record["state_layout"]]
    saved = record["schedule"]
    schedule.lr, schedule.best, schedule.bad_epochs = saved["lr"], saved["best"], saved["bad_epochs"]
    rng.bit_generator.state = record["rng"]
    for key, value in record["history"].items():
        setattr(history, key, value)
    best_params = [to_device(a) for a in arrays["best"]] or None
    return record["epochs_done"], record["samples_seen"], (record["best_loss"], best_params)


def _read(f: Any, path: Path, net: Any) -> tuple[dict[str, Any], list[Any], dict[str, list[Any]]]:
    """``(record, parameters, {"state": [...], "best": [...]})`` of the open checkpoint ``f``,
    bounded as :func:`xpbackprop.load` reads, every member's type and shape checked; the record is
    ``meta`` with the history of either version in it. A checkpoint of another architecture or
    dtype is a ``ValueError`` naming both."""
    with Archive(f, path, what="a training checkpoint", kind="training checkpoint") as archive:
        for key in ("checkpoint_version", "config", "meta", "n_state", "n_best"):
            if key not in archive.keys:
                raise ModelFileError(f"{path}: missing {key!r}; not a checkpoint written by "
                                     "fit(checkpoint=...)")

        def count(key: str, high: int) -> int:
            value = int(archive.read(key, functools.partial(check_integer_header, key=key, path=path))[()])
            if not 0 <= value <= high:
                raise ModelFileError(f"{path}: {key} is {value}, outside [0, {high}]")
            return value

        version = count("checkpoint_version", 2**31)
        if version not in (1, CHECKPOINT_VERSION):
            raise ModelFileError(f"{path}: checkpoint version {version} is not supported "
                                 f"(this xpbackprop reads 1..{CHECKPOINT_VERSION})")
        config = parse_config(archive.read("config", lambda d, s: check_config_header(d, s, path)), path)
        if config != net.config():
            raise _DifferentNetworkError(
                f"checkpoint {path} is for a different network: {config} (this network: {net.config()})"
            )
        text = archive.read("meta", lambda d, s: check_text_header(d, s, "meta", _MAX_META_CHARS, path))
        # version 1 wrote Infinity for a best loss not yet finite (and NaN, Infinity in its history)
        record = parse_config(text, path, key="meta", nonfinite=version == 1)
        record["version"] = version
        target = np.dtype(net.dtype_name)
        shapes = [tuple(p.shape) for p in net.parameters]

        def param(key: str, shape: tuple[int, ...] | None) -> np.ndarray:
            # shape None: optimizer state, floats of any shape within the limits
            p = archive.read(key, functools.partial(check_param_header, expected=shape, key=key, path=path))
            check_param_values(p, target, key, path)
            return p

        n_state = count("n_state", _MAX_STATE_PER_PARAM * len(shapes))
        n_best = count("n_best", len(shapes))
        names = {f"{kind}_{i}" for kind, n in (("param", len(shapes)), ("state", n_state), ("best", n_best))
                 for i in range(n)}
        history = {f"history_{key}" for key in HISTORY_ARRAYS} if version > 1 else set()
        if n_best not in (0, len(shapes)):
            raise ModelFileError(f"{path}: n_best is {n_best}: the best weights are all {len(shapes)} "
                                 "parameter arrays or none")
        small = {"checkpoint_version", "config", "meta", "n_state", "n_best"}
        archive.refuse_unknown(small | names | history, f"version {version} checkpoint")
        if version > 1:
            _read_history(archive, record, path)
        params = [param(f"param_{i}", shape) for i, shape in enumerate(shapes)]
        arrays = {"state": [param(f"state_{i}", None) for i in range(n_state)],
                  "best": [param(f"best_{i}", shape) for i, shape in enumerate(shapes[:n_best])]}
    return record, params, arrays


def _read_history(archive: Archive, record: dict[str, Any], path: Path) -> None:
    """The history arrays of a version-2 checkpoint, into ``record["history"]`` as lists."""
    history = record.get("history")
    if not isinstance(history, dict):
        raise ModelFileError(f"{path}: damaged checkpoint: meta['history'] is not an object")
    for key, dtype in HISTORY_ARRAYS.items():
        member = f"history_{key}"
        kind = np.dtype(dtype).kind

        def check(d: np.dtype, s: tuple[int, ...], member: str = member, kind: str = kind) -> None:
            if len(s) != 1 or (d.kind != kind and not (kind == "f" and d.kind in "iu")):
                raise ModelFileError(f"{path}: damaged checkpoint: {member} is a {d} array of shape {s}, "
                                     f"not a list of {'counts' if kind == 'i' else 'numbers'}")

        if key in history:
            raise ModelFileError(f"{path}: damaged checkpoint: meta['history'] holds {key!r}, which a "
                                 f"version 2 checkpoint keeps in {member}")
        history[key] = archive.read(member, check).tolist()
