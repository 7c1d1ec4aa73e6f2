"""The training loop: full-batch, online and mini-batch descent are one loop.

``batch_size=None`` is full-batch gradient descent (000, 002), ``1`` online updates (000's
Python example, 001), ``k`` mini-batches (004). :func:`fit` is four named pieces: checking the
arguments (:func:`_check_arguments`), preparing the run (the data checked in one host read, the
trainer, the schedule, a resumed checkpoint: :func:`_prepare`), running one epoch
(:func:`xpbackprop.epochs.run_epoch`: the steps, the epoch's one host read, and the replay that
finds a diverging step) and ending it (:func:`_end_epoch`: history, validation, callbacks,
stopping, checkpoint).
Within an epoch nothing leaves the device.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import adapters, intake
from . import checkpoint as ckpt
from .backprop import assign, forward_loss
from .checks import check_bool, check_choice, check_integer, check_number, check_seed
from .epochs import Epoch, run_epoch
from .guards import InterruptFlag, progress_bar
from .history import DivergenceError, DivergenceWarning, History, TrainingInterrupted
from .init import host_rng
from .metrics import CLASSIFIER_OUTPUTS, accuracy, r2_score
from .optimizers import Optimizer, Schedule
from .trainer import Trainer
from .valuechecks import ValueChecks

__all__ = ["fit"]


# --- fit -----------------------------------------------------------------------------------------------


@dataclass
class _Run:
    """A training run as :func:`fit` prepared it: the data on the device, the trainer and schedule,
    the settings that decide when it stops, and what it has measured so far."""

    net: Any
    trainer: Trainer
    schedule: Schedule
    X: Any
    Y: Any
    validation: tuple[Any, Any] | None
    epochs: int
    batch: int
    shuffle: bool | str
    rng: Any
    stopping: dict[str, Any]
    callbacks: tuple[Callable[..., Any], ...]
    on_divergence: str
    checkpoint: Any
    checkpoint_every: int
    fit_args: dict[str, Any]
    history: History = field(default_factory=History)
    best: tuple[float, Any] = (math.inf, None)
    samples_seen: int = 0
    first_epoch: int = 0


def fit(
    net: Any,
    X: Any,
    Y: Any,
    epochs: int = 100,
    lr: float = 0.1,
    batch_size: int | None = None,
    shuffle: bool | str = True,
    optimizer: str | Optimizer = "sgd",
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    schedule: str = "constant",
    power_t: float = 0.5,
    n_iter_no_change: int = 10,
    tol: float = 1e-4,
    goal: float | None = None,
    stop_on_zero_errors: bool = False,
    validation_data: tuple[Any, Any] | None = None,
    early_stopping: bool = False,
    patience: int = 10,
    seed: int | None = None,
    callbacks: Sequence[Callable[..., Any]] = (),
    progress: bool = False,
    on_divergence: str = "raise",
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 1,
    resume: str | os.PathLike[str] | None = None,
) -> History:
    """Train ``net`` on ``(X, Y)``; returns a :class:`~xpbackprop.History` (see :data:`FIT_OPTIONS`)."""
    epochs, batch_size, patience, checkpoint_every, callbacks = _check_arguments(
        net, epochs=epochs, batch_size=batch_size, patience=patience, checkpoint_every=checkpoint_every,
        on_divergence=on_divergence, goal=goal, seed=seed, shuffle=shuffle, validation_data=validation_data,
        early_stopping=early_stopping, stop_on_zero_errors=stop_on_zero_errors, callbacks=callbacks,
        checkpoint=checkpoint, resume=resume, flags={"nesterov": nesterov, "progress": progress})
    with adapters.for_backend(net.backend).scope(net):
        run = _prepare(net, X, Y, validation_data, lr=lr, batch_size=batch_size, shuffle=shuffle,
                       seed=seed, epochs=epochs, callbacks=callbacks, on_divergence=on_divergence,
                       checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                       stopping={"goal": goal, "zero_errors": stop_on_zero_errors,
                                 "early_stopping": early_stopping, "patience": patience},
                       trainer=Trainer(net, lr, optimizer, momentum=momentum, nesterov=nesterov,
                                       weight_decay=weight_decay),
                       schedule=Schedule(schedule, lr, power_t=power_t, n_iter_no_change=n_iter_no_change,
                                         tol=tol))
        if resume is not None and _resume(run, resume):
            return run.history
        return _train(run, progress)


def _check_arguments(net: Any, *, epochs: Any, batch_size: Any, patience: Any, checkpoint_every: Any,
                     on_divergence: Any, goal: Any, seed: Any, shuffle: Any, validation_data: Any,
                     early_stopping: Any, stop_on_zero_errors: Any, callbacks: Any, checkpoint: Any,
                     resume: Any, flags: dict[str, Any]
                     ) -> tuple[int, int | None, int, int, tuple[Callable[..., Any], ...]]:
    """Every argument that is not data, checked before anything changes; returns ``epochs``,
    ``batch_size``, ``patience`` and ``checkpoint_every`` as Python integers, and the callbacks.
    ``flags``: more arguments that must be ``True`` or ``False``."""
    if not (hasattr(net, "layers") and hasattr(net, "loss_fn") and hasattr(net, "output_activation")):
        raise TypeError(f"fit needs an xpbackprop network (xb.MLP, xb.Sequential), got {type(net).__name__}")
    for name, value in {"early_stopping": early_stopping, "stop_on_zero_errors": stop_on_zero_errors,
                        **flags}.items():
        check_bool(name, value)
    counts = (check_integer("epochs", epochs), check_integer("batch_size", batch_size, allow_none=True),
              check_integer("patience", patience), check_integer("checkpoint_every", checkpoint_every))
    check_choice("on_divergence", on_divergence, ("raise", "warn"))
    check_number("goal", goal, allow_none=True, allow_infinite=True, what="a number (not NaN)")
    check_seed("seed", seed)
    if isinstance(shuffle, str) and shuffle != "batches":
        raise ValueError(f"shuffle must be True, False or 'batches', got {shuffle!r}")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)):
            raise TypeError(
                f"validation_data must be a pair (X_val, Y_val), got {type(validation_data).__name__}")
        if len(validation_data) != 2:
            raise ValueError(
                f"validation_data must be a pair (X_val, Y_val), got {len(validation_data)} items")
    if early_stopping and validation_data is None:
        raise ValueError("early_stopping=True needs validation_data=(X_val, Y_val)")
    if stop_on_zero_errors and net.output_activation not in CLASSIFIER_OUTPUTS:
        raise ValueError(
            f"stop_on_zero_errors needs a classifier output {list(CLASSIFIER_OUTPUTS)}, "
            f"the network's output is {net.output_activation!r}"
        )
    if callable(callbacks) or isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
        raise TypeError(
            f"callbacks must be a list of callables callback(net, epoch, logs), got "
            f"{type(callbacks).__name__} {callbacks!r} (put a single callback in a list)"
        )
    callbacks = tuple(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables callback(net, epoch, logs), got {cb!r}")
    ckpt.check_path("checkpoint", checkpoint, writing=True)
    ckpt.check_path("resume", resume, writing=False)
    return (*counts, callbacks)


def _prepare(net: Any, X: Any, Y: Any, validation_data: Any, *, lr: float, batch_size: int | None,
             shuffle: bool | str, seed: Any, epochs: int, callbacks: tuple[Callable[..., Any], ...],
             on_divergence: str, checkpoint: Any, checkpoint_every: int, stopping: dict[str, Any],
             trainer: Trainer, schedule: Schedule) -> _Run:
    """The data converted and checked once (structure first, then NaN/inf and label ranges of X, Y,
    X_val, Y_val in one host read), and the run around it. Nothing has changed yet, nor the
    generator's state."""
    checks = ValueChecks(net.xp)
    X, Y = intake.checked(net, X, Y, checks=checks)
    if validation_data is not None:
        validation_data = intake.checked(net, *validation_data, x_name="X_val", y_name="Y_val", checks=checks)
    checks.run()
    n = X.shape[0]
    # the settings a resumed run must share with the one that wrote the checkpoint, as JSON values
    # (the schedule's own settings only where it uses them)
    fit_args = {"batch_size": batch_size, "shuffle": shuffle if isinstance(shuffle, str) else bool(shuffle),
                "seed": ckpt.seed_record(seed), "optimizer": trainer.optimizer.config(),
                "schedule": schedule.kind, "n": n, "lr": float(lr), "weight_decay": trainer.weight_decay,
                "validation": validation_data is not None,
                "stop_on_zero_errors": bool(stopping["zero_errors"])}
    if schedule.kind == "invscaling":
        fit_args["power_t"] = schedule.power_t
    if schedule.kind == "adaptive":
        fit_args.update(n_iter_no_change=schedule.n_iter_no_change, tol=schedule.tol)
    rng = net.rng if seed is None else host_rng(seed)
    if checkpoint is not None:  # what it records, and the path itself (an OSError naming it)
        ckpt.check_writable(checkpoint, net, rng, fit_args)
    return _Run(net, trainer, schedule, X, Y, validation_data, epochs=epochs,
                batch=n if batch_size is None else min(batch_size, n), shuffle=shuffle,
                rng=rng, stopping=stopping, callbacks=callbacks,
                on_divergence=on_divergence, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                fit_args=fit_args)


def _resume(run: _Run, path: Any) -> bool:
    """Continue from the checkpoint ``path``; ``True`` when the run it holds had stopped (goal, zero
    errors, early stopping) and would stop there again with these arguments, as the uninterrupted
    run did not go on. A run stopped by a callback or Ctrl-C goes on: that is what resuming is for."""
    run.first_epoch, run.samples_seen, run.best = ckpt.restore(
        path, run.net, run.trainer, run.schedule, run.rng, run.history, run.fit_args)
    history = run.history
    if history.epochs and history.stop_reason and history.stop_reason == _stop_test(
            history, run.stopping, asked=False, interrupted=False):
        return True
    history.stop_reason = ""  # training goes on: the file's reason no longer holds
    return False


def _train(run: _Run, progress: bool) -> History:
    """The epochs, from the first not yet done, until one of the stopping rules holds."""
    bar = progress_bar(run.epochs) if progress else None
    if bar is not None and run.first_epoch:
        bar.update(run.first_epoch)
    interrupt = InterruptFlag()
    try:
        with interrupt:
            for epoch in range(run.first_epoch, run.epochs):
                run.trainer.lr = run.schedule.lr
                result = run_epoch(run.trainer, run.X, run.Y, batch=run.batch, shuffle=run.shuffle,
                                   rng=run.rng, count_errors=run.stopping["zero_errors"], interrupt=interrupt)
                if _stopped_inside(run, epoch, result) or _end_epoch(run, epoch, result, bar, interrupt):
                    break
            else:
                run.history.stop_reason = "epochs"
    finally:
        if bar is not None:
            bar.close()
    return run.history


def _stopped_inside(run: _Run, epoch: int, result: Epoch) -> bool:
    """A divergence (raised, or warned about) or a Ctrl-C inside the epoch: ``True``, training stops."""
    if result.failed is not None:
        message = (
            f"training diverged in epoch {epoch + 1}, step {result.failed}: the loss or a "
            f"parameter became non-finite. The network keeps the parameters and optimizer "
            f"state after step {result.failed - 1} of that epoch. Try a smaller learning rate "
            f"than lr={run.schedule.lr:g}."
        )
        if run.on_divergence == "raise":
            raise DivergenceError(message, epoch=epoch + 1, step=result.failed, trainer=run.trainer)
        warnings.warn(message, DivergenceWarning, stacklevel=4)
        run.history.stop_reason = "diverged"
        return True
    if result.cut:
        run.history.stop_reason = "interrupted"
        _warn_interrupted(epoch, result.steps)
        return True
    return False


def _validate(run: _Run, epoch: int, logs: dict[str, float]) -> None:
    """The validation loss and score after ``epoch``, into the history and ``logs``; the best weights."""
    net, xp = run.net, run.net.xp
    Xv, Yv = run.validation
    A_v, val_loss, _ = forward_loss(net.layers, net.loss_fn, Xv, Yv, xp=xp)
    val_loss = float(val_loss)
    val_score = float(accuracy(A_v, Yv, net.output_activation, xp=xp)
                      if net.output_activation in CLASSIFIER_OUTPUTS else r2_score(A_v, Yv, xp=xp))
    run.history.val_loss.append(val_loss)
    run.history.val_score.append(val_score)
    logs.update(val_loss=val_loss, val_score=val_score)
    if val_loss < run.best[0]:
        run.best = (val_loss, run.trainer.kept_parameters())
        run.history.best_epoch = epoch + 1


def _end_epoch(run: _Run, epoch: int, result: Epoch, bar: Any, interrupt: InterruptFlag) -> bool:
    """History, validation, progress, schedule, callbacks, stopping and checkpoint after a completed
    epoch; ``True`` when training stops here."""
    history = run.history
    run.samples_seen += run.X.shape[0]
    history.loss.append(result.loss)
    history.lr.append(run.schedule.lr)
    logs: dict[str, float] = {"loss": result.loss}
    if result.errors is not None:
        history.errors.append(result.errors)
        logs["errors"] = result.errors
    if run.validation is not None:
        _validate(run, epoch, logs)
    if bar is not None:
        bar.update(1)
        bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()})
    run.schedule.epoch_end(result.loss, run.samples_seen)
    # every callback sees every epoch, also when an earlier one asks to stop
    asked = [_asks_to_stop(cb(run.net, epoch + 1, dict(logs))) for cb in run.callbacks]
    stop = _stop_test(history, run.stopping, asked=any(asked), interrupted=interrupt.requested)
    if stop == "early_stopping" and run.best[1] is not None:
        assign(run.net.layers, run.best[1])
    if stop:
        history.stop_reason = stop
    # the run's last epoch is written too, whatever ends it (with the reason: a run resumed from it
    # stops where the uninterrupted one did)
    last = bool(stop) or epoch + 1 == run.epochs
    if run.checkpoint is not None and ((epoch + 1) % run.checkpoint_every == 0 or last):
        try:
            ckpt.write(run.checkpoint, run.net, run.trainer, run.schedule, run.rng, history, run.best,
                       epoch + 1, run.samples_seen, run.fit_args)
        except OSError as exc:
            raise ckpt.write_failed(exc, history, epoch + 1) from exc
    if stop == "interrupted":
        _warn_interrupted(epoch + 1, None)
    return bool(stop)


def _stop_test(history: History, stopping: dict[str, Any], *, asked: bool, interrupted: bool) -> str:
    """Why training stops after the last epoch in ``history`` (``""``: it goes on)."""
    goal = stopping["goal"]
    if goal is not None and history.loss[-1] < goal:
        return "goal"
    if stopping["zero_errors"] and history.errors and history.errors[-1] == 0:
        return "zero_errors"
    if asked:
        return "callback"
    # epochs since the best validation loss, or since the start while none was finite
    if stopping["early_stopping"] and history.epochs - (history.best_epoch or 0) >= stopping["patience"]:
        return "early_stopping"
    return "interrupted" if interrupted else ""


def _asks_to_stop(result: Any) -> bool:
    """Whether a callback's return value asks ``fit`` to stop: ``True``, or a 0-d boolean array
    holding true (``numpy.bool_``, a 0-d tensor); anything else lets training go on."""
    if result is True:
        return True
    dtype = getattr(result, "dtype", None)
    return dtype is not None and getattr(result, "ndim", None) == 0 and "bool" in str(dtype) and bool(result)


def _warn_interrupted(epoch: int, steps: int | None) -> None:
    where = f"after epoch {epoch}" if steps is None else f"in epoch {epoch + 1} after step {steps}"
    warnings.warn(
        f"training interrupted {where}; the network keeps the parameters of the last completed "
        "step and the history of the completed epochs",
        TrainingInterrupted,
        stacklevel=5,
    )


FIT_OPTIONS = """Train ``net`` on ``(X, Y)``; returns a :class:`~xpbackprop.History`.

- ``batch_size``: ``None`` full batch, ``1`` online, ``k`` mini-batches (the last may be smaller).
- ``shuffle``: a new order every epoch from the seeded host generator (``seed``, or the
  network's own generator when ``seed`` is None), the same on every backend.
  ``shuffle="batches"`` keeps each batch a contiguous block of rows (``X[k·b:(k+1)·b]``)
  and shuffles the order of the blocks: on Dask, with ``batch_size`` equal to the rows of
  a chunk, each step reads one chunk instead of gathering rows from all of them.
- ``optimizer``: ``"sgd"`` (with ``momentum``, ``nesterov``), ``"adam"`` or an
  :class:`~xpbackprop.optimizers.Optimizer`; ``weight_decay``: L2 on weights.
- ``schedule``: ``"constant"``, ``"invscaling"`` (``power_t``) or ``"adaptive"``
  (η/5 after ``n_iter_no_change`` epochs without improving by ``tol``).
- stopping: after ``epochs``; when the epoch loss is below ``goal``; with
  ``stop_on_zero_errors`` once an epoch misclassifies no training sample;
  with ``early_stopping`` when the loss on ``validation_data`` has not improved
  for ``patience`` epochs (the best weights are restored); when a callback
  ``callback(net, epoch, logs)`` returns ``True`` (or a 0-d boolean array holding true;
  every callback is still called for that epoch).
- a non-finite loss or parameter stops training: the epoch is replayed step by step
  from its start to find the step that failed, the network keeps the parameters and
  optimizer state from just before it, and :class:`~xpbackprop.DivergenceError` says which
  epoch and step (``on_divergence="warn"``: a :class:`~xpbackprop.DivergenceWarning` and the
  history so far).
- Ctrl-C lets the running step finish, then returns the history of the completed epochs
  (``stop_reason="interrupted"``, with a :class:`~xpbackprop.TrainingInterrupted` warning); if
  a step of the cut epoch had diverged, that is handled as above instead.
- ``checkpoint=path`` writes the network, optimizer state, schedule, the shuffling
  generator's state and the history every ``checkpoint_every`` epochs and at the last epoch
  of the run, whatever ended it (atomically; the folder must exist, and a file is created and
  removed there before training, so that a path that cannot be written raises an ``OSError``
  naming it before anything changes). A write that fails later (a full disk) stops training
  with an ``OSError`` naming the path: the network keeps its trained parameters, and the
  error's ``history`` attribute is the run's :class:`~xpbackprop.History`
  (``stop_reason="write_failed"``);
  ``resume=path`` continues from such a file, so that an interrupted and resumed run ends
  with exactly the weights of an uninterrupted one (``epochs`` counts the whole run; the
  other settings, ``lr`` included, must be those of the run that wrote it). A run that
  stopped on ``goal``, zero errors or early stopping, and would stop there again with the
  arguments given, trains no further; one stopped by a callback or Ctrl-C goes on.
- bad arguments raise ``TypeError`` (wrong type) or ``ValueError`` (bad value, shape, NaN or
  infinity, labels, device) before anything changes.
"""

fit.__doc__ = FIT_OPTIONS  # the whole description, for help(fit) and the API reference
