"""A checkpoint's record checked whole before ``fit(resume=...)`` changes anything.

The record is a checkpoint's ``meta`` with its history (:mod:`xpbackprop.checkpoint`).
:func:`check_types` checks each field's type and range: counters are non-negative whole numbers,
rates finite and positive, losses numbers. :func:`check_consistency` checks the fields against
each other and against the run that resumes (whose settings :mod:`xpbackprop.checkpoint` has
already compared with the file's): the history has one entry per epoch done, the samples seen
are the epochs times the rows, the schedule's state is one the schedule reaches, Adam's step
count is the steps done, the best validation loss is the history's, and the optimizer's and the
generator's states fit the trainer's. Every problem is a :class:`ModelFileError`
"damaged checkpoint: ...".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from .history import History
from .npzfile import REPR, ModelFileError
from .optimizers import Adam

__all__ = ["HISTORY_ARRAYS", "STOP_REASONS", "check_consistency", "check_types"]

#: the history's per-epoch lists a version-2 checkpoint keeps as arrays, and their dtypes
HISTORY_ARRAYS = {"loss": "float64", "val_loss": "float64", "val_score": "float64", "errors": "int64",
                  "lr": "float64"}
#: the stop reasons a history may hold
STOP_REASONS = ("", "epochs", "goal", "zero_errors", "early_stopping", "callback", "interrupted", "diverged")


def _float(v: Any) -> bool:
    """A number (``NaN`` and infinities included: a loss may overflow)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v: Any) -> bool:
    return _float(v) and math.isfinite(v)


def _rate(v: Any) -> bool:
    return _finite(v) and v > 0


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _damaged(path: Path, message: str) -> ModelFileError:
    return ModelFileError(f"{path}: damaged checkpoint: {message}")


def _entry(path: Path, container: dict[str, Any], key: str, test: Callable[[Any], bool], what: str,
           where: str = "meta") -> Any:
    if key not in container:
        raise _damaged(path, f"{where} lacks {key!r}")
    if not test(container[key]):
        raise _damaged(path, f"{where}[{key!r}] is {REPR.repr(container[key])}, not {what}")
    return container[key]


def _best(record: dict[str, Any], container: dict[str, Any], key: str, where: str, path: Path) -> None:
    """A best loss so far: a finite number, or none yet (``null``; ``Infinity`` in version 1), as
    ``math.inf``."""
    if record["version"] == 1:
        _entry(path, container, key, lambda v: _finite(v) or v == math.inf, "a number", where)
    else:
        _entry(path, container, key, lambda v: v is None or _finite(v), "a finite number or null", where)
        if container[key] is None:
            container[key] = math.inf


def check_types(record: dict[str, Any], path: Path) -> None:
    """Each field of the record present, of its type and range."""
    entry = lambda *a: _entry(path, *a)  # noqa: E731
    epochs = entry(record, "epochs_done", lambda v: _count(v) and v >= 1, "a count of epochs (1 or more)")
    entry(record, "samples_seen", _count, "a count of samples")
    _best(record, record, "best_loss", "meta", path)
    entry(record, "fit", lambda v: isinstance(v, dict), "an object")
    schedule = entry(record, "schedule", lambda v: isinstance(v, dict), "an object")
    entry(schedule, "lr", _rate, "a positive finite number", "schedule")
    _best(record, schedule, "best", "schedule", path)
    entry(schedule, "bad_epochs", _count, "a count", "schedule")
    history = entry(record, "history", lambda v: isinstance(v, dict), "an object")
    names = {f.name for f in fields(History)}
    unknown = sorted(set(history) - names)
    if unknown:
        raise _damaged(path, f"history has unknown entries {unknown} (valid: {sorted(names)})")
    for key in ("loss", "val_loss", "val_score"):
        entry(history, key, lambda v: isinstance(v, list) and all(map(_float, v)), "a list of numbers",
              "history")
    entry(history, "lr", lambda v: isinstance(v, list) and all(map(_rate, v)),
          "a list of positive finite numbers", "history")
    entry(history, "errors", lambda v: isinstance(v, list) and all(map(_count, v)), "a list of counts",
          "history")
    entry(history, "stop_reason", lambda v: v in STOP_REASONS, f"one of {list(STOP_REASONS)}", "history")
    entry(history, "best_epoch", lambda v: v is None or (_count(v) and 1 <= v <= epochs),
          f"an epoch number in [1, {epochs}] or null", "history")
    entry(record, "state_layout", lambda v: isinstance(v, list) and all(x is None or _finite(x) for x in v),
          "a list of finite numbers and nulls")
    entry(record, "rng", lambda v: isinstance(v, dict), "a generator state")


def _lengths(record: dict[str, Any], path: Path) -> None:
    """One history entry per epoch done; validation values and error counts for every epoch, or
    for none (as the run's recorded settings say, where a version-2 file records them)."""
    epochs, history, settings = record["epochs_done"], record["history"], record["fit"]
    for key in ("loss", "lr"):
        if len(history[key]) != epochs:
            raise _damaged(path, f"{len(history[key])} entries in history[{key!r}] for {epochs} epochs done")
    for keys, flag in ((("val_loss", "val_score"), "validation"), (("errors",), "stop_on_zero_errors")):
        expected = {epochs if settings[flag] else 0} if flag in settings else {0, epochs}
        for key in keys:
            if len(history[key]) not in expected or len(history[key]) != len(history[keys[0]]):
                raise _damaged(path, f"{len(history[key])} entries in history[{key!r}] for {epochs} epochs "
                                     f"done (expected {' or '.join(map(str, sorted(expected)))})")


def _schedule(record: dict[str, Any], schedule: Any, n: int, path: Path) -> None:
    """The schedule's state is one it reaches after the epochs done."""
    saved, losses = record["schedule"], record["history"]["loss"]
    lr, lr0 = saved["lr"], schedule.lr0
    if schedule.kind == "adaptive":
        best = math.inf
        for loss in losses:
            best = min(best, loss)
        k = round(math.log(lr0 / lr, 5.0))
        ok = k >= 0 and math.isclose(lr, lr0 / 5.0**k, rel_tol=1e-9) and saved["best"] == best and (
            saved["bad_epochs"] < schedule.n_iter_no_change)
    else:
        expected = (lr0 if schedule.kind == "constant"
                    else lr0 / (record["samples_seen"] + 1) ** schedule.power_t)
        ok = (math.isclose(lr, expected, rel_tol=1e-9) and saved["best"] == math.inf
              and saved["bad_epochs"] == 0)
    if not ok:
        raise _damaged(path, f"the {schedule.kind} schedule's state {REPR.repr(saved)} is not one it reaches "
                             f"from lr={lr0:g} in {record['epochs_done']} epochs of {n} samples")


def _best_weights(record: dict[str, Any], n_best: int, path: Path) -> None:
    """A best validation loss, its epoch and its weights: all three, or none, and the loss is the
    history's at that epoch."""
    history, best = record["history"], record["best_loss"]
    epoch, val = history["best_epoch"], history["val_loss"]
    if not ((epoch is None) == (best == math.inf) == (n_best == 0)):
        raise _damaged(path, f"best validation loss {best!r}, best epoch {epoch!r} and {n_best} best "
                             "weight arrays do not belong together")
    if epoch is not None and len(val) == record["epochs_done"] and val[epoch - 1] != best:
        raise _damaged(path, f"best validation loss {best!r} is not the history's at epoch {epoch} "
                             f"({val[epoch - 1]!r})")


def check_consistency(record: dict[str, Any], path: Path, *, trainer: Any, rng: Any, schedule: Any,
                      fit_args: dict[str, Any], arrays: dict[str, list[Any]]) -> None:
    """The record against itself and the resuming run (``fit_args``: its settings, which the file's
    match), and the optimizer state ``arrays["state"]`` and generator state against ``trainer`` and
    ``rng``."""
    n = fit_args["n"]
    _lengths(record, path)
    if record["samples_seen"] != record["epochs_done"] * n:
        raise _damaged(path, f"{record['samples_seen']} samples seen in {record['epochs_done']} epochs "
                             f"of {n} samples")
    _schedule(record, schedule, n, path)
    _best_weights(record, len(arrays["best"]), path)
    layout = record["state_layout"]
    slots = [hasattr(s, "shape") for s in trainer.state]
    if [x is None for x in layout] != slots:
        raise _damaged(path, f"optimizer state laid out as {REPR.repr(layout)}; "
                             f"{type(trainer.optimizer).__name__} keeps {len(slots)} values, arrays at "
                             f"{[i for i, a in enumerate(slots) if a]}")
    expected = [tuple(s.shape) for s in trainer.state if hasattr(s, "shape")]
    found = [tuple(a.shape) for a in arrays["state"]]
    if found != expected:
        raise _damaged(path, f"optimizer state arrays of shapes {found}, where the optimizer keeps "
                             f"{expected}")
    if isinstance(trainer.optimizer, Adam):
        batch = n if fit_args["batch_size"] is None else min(fit_args["batch_size"], n)
        steps = record["epochs_done"] * -(-n // batch)
        if layout[-1] != steps:
            raise _damaged(path, f"Adam's step count is {layout[-1]!r}, but {record['epochs_done']} epochs "
                                 f"of {-(-n // batch)} steps make {steps}")
    try:  # on a generator of the same kind, not the one training uses
        type(rng.bit_generator)().state = record["rng"]
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        kind = type(rng.bit_generator).__name__
        raise _damaged(path, f"meta['rng'] is not a {kind} state ({exc})") from exc
