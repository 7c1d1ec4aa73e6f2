"""A checkpoint's record checked whole before ``fit(resume=...)`` changes anything.

The record is a checkpoint's ``meta`` with its history (:mod:`xpbackprop.checkpoint`).
:func:`check_types` checks each field's type and range: counters are non-negative whole numbers,
rates finite and positive, losses numbers. :func:`check_consistency` checks the fields against
each other and against the run that resumes (whose settings :mod:`xpbackprop.checkpoint` has
already compared with the file's): the history has one entry per epoch done, the samples seen
are the epochs times the rows, the history's rates and the schedule's state are what the schedule
gives over the epoch losses (replayed), Adam's step count is the steps done, the best validation
loss is the history's first smallest and its epoch, and the optimizer's and the generator's states
fit the trainer's (the generator's reads back as written). Every problem is a :class:`ModelFileError`
"damaged checkpoint: ...".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from .history import History
from .npzfile import REPR, ModelFileError
from .optimizers import Adam, Schedule

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
    """The rates in the history and the schedule's state are what the schedule gives from the run's
    rate over the epoch losses (replayed: the same operations, the same floats)."""
    saved, history = record["schedule"], record["history"]
    replay = Schedule(schedule.kind, schedule.lr0, power_t=schedule.power_t,
                      n_iter_no_change=schedule.n_iter_no_change, tol=schedule.tol)
    for epoch, (loss, lr) in enumerate(zip(history["loss"], history["lr"])):
        if not math.isclose(lr, replay.lr, rel_tol=1e-12):
            raise _damaged(path, f"history['lr'][{epoch}] is {lr!r}; the {schedule.kind} schedule gives "
                                 f"{replay.lr!r} from lr={schedule.lr0:g} there")
        replay.epoch_end(loss, (epoch + 1) * n)
    state = replay.state()
    if not (math.isclose(saved["lr"], state["lr"], rel_tol=1e-12) and saved["best"] == state["best"]
            and saved["bad_epochs"] == state["bad_epochs"]):
        raise _damaged(path, f"the {schedule.kind} schedule's state {REPR.repr(saved)} is not the "
                             f"{REPR.repr(state)} it reaches from lr={schedule.lr0:g} in "
                             f"{record['epochs_done']} epochs of {n} samples")


def _best_weights(record: dict[str, Any], n_best: int, path: Path) -> None:
    """A best validation loss, its epoch and its weights: all three, or none; and, where every epoch
    was validated, they are the history's first smallest validation loss and its epoch."""
    history, best = record["history"], record["best_loss"]
    epoch, val = history["best_epoch"], history["val_loss"]
    if not ((epoch is None) == (best == math.inf) == (n_best == 0)):
        raise _damaged(path, f"best validation loss {best!r}, best epoch {epoch!r} and {n_best} best "
                             "weight arrays do not belong together")
    if len(val) == record["epochs_done"]:
        first, at = math.inf, None
        for i, v in enumerate(val):
            if v < first:
                first, at = v, i + 1
        if (first, at) != (best, epoch):
            raise _damaged(path, f"best validation loss {best!r} at epoch {epoch!r} is not the history's "
                                 f"({first!r} at epoch {at!r})")


def _values(record: dict[str, Any], n: int, measures: tuple[bool, bool], path: Path) -> None:
    """What the epochs measured, within what they can be: losses that are numbers (an epoch whose
    loss is NaN diverged: no checkpoint follows it) and, for the library's losses, not negative;
    validation scores that are accuracies (in [0, 1]) for a classifier, R² (at most 1) otherwise;
    error counts within the samples; a run stopped on zero errors that had none. ``measures``:
    (the loss is never negative, the score is an accuracy)."""
    history = record["history"]
    non_negative, accuracy = measures
    if any(math.isnan(v) for v in history["loss"]):
        raise _damaged(path, "history['loss'] holds NaN, which no completed epoch has")
    for key in ("loss", "val_loss") if non_negative else ():
        if any(v < 0 for v in history[key]):
            raise _damaged(path, f"history[{key!r}] holds negative losses: {REPR.repr(history[key])}")
    scores = history["val_score"]
    valid = all(0 <= v <= 1 for v in scores) if accuracy else all(math.isnan(v) or v <= 1 for v in scores)
    if not valid:
        raise _damaged(path, f"history['val_score'] holds values no {'accuracy' if accuracy else 'R²'} "
                             f"takes: {REPR.repr(scores)}")
    if any(e > n for e in history["errors"]):
        raise _damaged(path, f"history['errors'] counts more than the {n} samples: "
                             f"{REPR.repr(history['errors'])}")
    if history["stop_reason"] == "zero_errors" and not (history["errors"] and history["errors"][-1] == 0):
        raise _damaged(path, "the run stopped on zero errors, but its last epoch had errors")


def _generator(record: dict[str, Any], rng: Any, path: Path) -> None:
    """A state a generator of ``rng``'s kind takes, and gives back as written (not a float or a
    boolean where it keeps an integer)."""
    kind = type(rng.bit_generator).__name__
    try:  # on a generator of the same kind, not the one training uses
        probe = type(rng.bit_generator)()
        probe.state = record["rng"]
        if json.dumps(probe.state, sort_keys=True) != json.dumps(record["rng"], sort_keys=True):
            raise ValueError(f"it reads back as {REPR.repr(probe.state)}")
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise _damaged(path, f"meta['rng'] is not a {kind} state ({exc})") from exc


def check_consistency(record: dict[str, Any], path: Path, *, trainer: Any, rng: Any, schedule: Any,
                      fit_args: dict[str, Any], arrays: dict[str, list[Any]]) -> None:
    """The record against itself and the resuming run (``fit_args``: its settings, which the file's
    match; ``trainer.net`` its network), and the optimizer state ``arrays["state"]`` and generator
    state against ``trainer`` and ``rng``."""
    n = fit_args["n"]
    _lengths(record, path)
    if record["samples_seen"] != record["epochs_done"] * n:
        raise _damaged(path, f"{record['samples_seen']} samples seen in {record['epochs_done']} epochs "
                             f"of {n} samples")
    net = trainer.net
    _values(record, n, (net.loss_fn.name in ("mse", "bce", "cross_entropy"), net.is_classifier), path)
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
        if layout[-1] != steps or not isinstance(layout[-1], int):
            raise _damaged(path, f"Adam's step count is {layout[-1]!r}, but {record['epochs_done']} epochs "
                                 f"of {-(-n // batch)} steps make {steps}")
    _generator(record, rng, path)
