"""The training loop: full-batch, online and mini-batch descent are one loop.

``batch_size=None`` is full-batch gradient descent (000, 002), ``1`` online
updates (000's Python example, 001), ``k`` mini-batches (004). Within an epoch
nothing leaves the device: batch losses accumulate there and are read once per
epoch, together with a finiteness check of the parameters.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from array_api_compat import is_jax_namespace, is_writeable_array

try:  # the C functions behind the `signal` module, whose wrappers convert each handler to its enum
    # and back by raising and catching a ValueError: 9 µs for fit's three calls alone, 40-75 µs a
    # fit call between training steps, against 0.6 µs (benchmarks/NOTES.md)
    from _signal import getsignal as _getsignal
    from _signal import signal as _setsignal
except ImportError:  # pragma: no cover - a Python without the C module
    from signal import getsignal as _getsignal
    from signal import signal as _setsignal

from . import _dask, _malloc, validation
from . import backend as _backend
from ._jit import compiled_loss_and_gradients, compiled_update
from .init import batch_order, host_rng
from .metrics import accuracy, classification_errors, r2_score
from .optimizers import SGD, Optimizer, Schedule, get_optimizer, with_weight_decay

__all__ = ["DivergenceError", "DivergenceWarning", "History", "Trainer", "TrainingInterrupted", "fit"]

CLASSIFIER_OUTPUTS = ("softmax", "sigmoid")


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or parameter; the network keeps its last finite state.

    ``epoch`` and ``step`` (both from 1) locate the first step that went non-finite;
    ``trainer`` is the :class:`Trainer` with the optimizer state of the last finite step,
    so ``error.trainer.step(...)`` continues from there (with a smaller ``trainer.lr``).
    """

    def __init__(self, message: str, *, epoch: int, step: int | None = None, trainer: Any = None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step
        self.trainer = trainer


class DivergenceWarning(RuntimeWarning):
    """``fit(..., on_divergence="warn")``: training stopped at a non-finite loss or parameter."""


class TrainingInterrupted(UserWarning):
    """Ctrl-C stopped ``fit``; the network keeps the last completed step's parameters."""


@dataclass
class History:
    """What ``fit`` measured, one entry per completed epoch.

    ``loss``: the epoch's batch losses (each taken before that batch's update),
    summed for ``reduction="sum"``, averaged over the epoch's samples for ``"mean"``.
    ``val_loss`` / ``val_score``: on ``validation_data`` after the epoch
    (``val_score`` is accuracy for softmax/sigmoid outputs, R² otherwise).
    ``errors``: training samples misclassified during the epoch (with ``stop_on_zero_errors``).
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_score: list[float] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    stop_reason: str = ""
    best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.loss)


class Trainer:
    """An optimizer bound to a network: :meth:`step` is one update on one batch.

    ``trainer.step(X, Y)`` runs forward, backward and the update and returns the
    batch's loss as a 0-d array on the device: it never reads anything back to the
    host, so a loop of steps runs at the device's pace. ``fit`` is a loop of these
    steps. ``lr`` may be changed between steps (checked: a positive finite number).

    Errors: ``TypeError`` when ``net`` is not a network or an argument has the wrong
    type (``lr="0.1"``, ``optimizer=3``); ``ValueError`` for ``lr`` not a positive finite
    number, ``weight_decay < 0``, ``momentum`` outside ``[0, 1)``, an unknown optimizer
    (the valid names are listed), momentum with an optimizer other than ``"sgd"``.
    """

    def __init__(
        self,
        net: Any,
        lr: float = 0.1,
        optimizer: str | Optimizer = "sgd",
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        if not (hasattr(net, "param_layers") and hasattr(net, "_loss_and_gradients")):
            raise TypeError(
                f"Trainer needs an xpbackprop network (xb.MLP, xb.Sequential), got {type(net).__name__}"
            )
        validation.check_number("learning rate lr", lr, low=0.0, low_open=True,
                                what="a positive finite number")
        validation.check_number("weight_decay", weight_decay, low=0.0)
        validation.check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        if not isinstance(optimizer, (str, Optimizer)):
            get_optimizer(optimizer)  # the TypeError that lists the valid names
        if isinstance(optimizer, str) and optimizer == "sgd":
            opt: Optimizer = SGD(momentum=momentum, nesterov=nesterov)
        else:
            if momentum or nesterov:
                if isinstance(optimizer, Optimizer):
                    raise ValueError(
                        f"momentum and nesterov are set on an optimizer object itself "
                        f"(xb.SGD(momentum=0.9, nesterov=True)), not beside one; got "
                        f"{type(optimizer).__name__} with momentum={momentum!r}, nesterov={nesterov!r}"
                    )
                raise ValueError(f"momentum and nesterov apply to optimizer='sgd', not {optimizer!r}")
            opt = get_optimizer(optimizer)
        # the step's arrays are freed and allocated again each step: keep the freed heap
        # instead of returning it to the kernel and faulting it back in (xpbackprop/_malloc.py)
        _malloc.keep_heap_top()
        self.net, self.optimizer, self._lr = net, opt, float(lr)
        self.weight_decay = float(weight_decay)
        self._decay = [name == "W" for layer in net.param_layers for name in layer.params]
        self.state = opt.init_state(net.parameters, xp=net.xp)
        # JAX: forward and backward compiled with jax.jit (one dispatch instead of ~40 a step)
        self._loss_and_gradients = (compiled_loss_and_gradients(net) if is_jax_namespace(net.xp)
                                    else net._loss_and_gradients)
        # and the update (weight decay included), for optimizers written as split + apply
        splits = type(opt).update is Optimizer.update and type(opt).apply is not Optimizer.apply
        self._compiled_update = (compiled_update(opt, self._decay, net.xp)
                                 if is_jax_namespace(net.xp) and splits else None)
        self._update_config = opt.config() if self._compiled_update is not None else None
        self._xp = net.xp  # the namespace the state and the compiled functions belong to

    @property
    def lr(self) -> float:
        """The learning rate of the next step; may be set between steps (a positive finite number:
        ``TypeError``/``ValueError`` otherwise, and the rate stays as it was)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        validation.check_number("learning rate lr", value, low=0.0, low_open=True,
                                what="a positive finite number")
        self._lr = float(value)

    def step(self, X: Any, Y: Any) -> Any:
        """One update on the batch ``(X, Y)``; returns the loss before it (0-d device array).

        ``X`` and ``Y`` get every check that needs no host read (library, device, dtype,
        shapes, target encoding: ``TypeError``/``ValueError`` as for ``net.fit``, before
        anything changes). Their *values* (NaN/inf, label range) are not read here, so a
        loop of steps never waits for the device: ``fit`` checks them once per call.
        """
        X = self.net._input(X)
        return self._step(X, self.net._targets(Y, X.shape[0], sample_shape=tuple(X.shape[1:])))[0]

    def _kept_parameters(self) -> list[Any]:
        """The network's parameters as they are now, unchanged by later steps: copies where the
        optimizer writes into the arrays it is given (:attr:`Optimizer.overwrites_parameters`),
        else the arrays themselves (later steps give the network new ones)."""
        params = self.net.parameters
        return _snapshot(params, self.net.xp) if self.optimizer.overwrites_parameters else params

    def _step(self, X: Any, Y: Any, measure: Callable[[Any], Any] | None = None) -> tuple[Any, Any]:
        """:meth:`step` for arrays already on the device and encoded; returns ``(loss, A_L)``,
        or ``(loss, measure(A_L))`` when ``measure`` is given."""
        net, xp = self.net, self.net.xp
        if xp is not self._xp:
            raise ValueError(
                f"the network moved to {net.backend} (net.to) after this Trainer was made for it; "
                f"make a new Trainer (its optimizer state is on the old backend)"
            )
        # SGD's update is linear in η·g: the output delta carries -η, so the gradients arrive as
        # the step u = -η g itself and the update skips a pass over every gradient (lr = -1
        # below: θ - (-1)·u = θ + u)
        lr = -1.0 if self.optimizer.scaled_gradients else self._lr
        factor = self._lr / lr
        loss, grads, A_L = self._loss_and_gradients(X, Y, return_output=True, factor=factor)
        extra = A_L if measure is None else measure(A_L)
        params = net.parameters
        if self._compiled_update is not None:
            if self.optimizer.config() != self._update_config:  # changed since: compile its update
                self._compiled_update = compiled_update(self.optimizer, self._decay, xp)
                self._update_config = self.optimizer.config()
            params, self.state = self._compiled_update(params, grads, self.state, lr,
                                                       self.weight_decay * factor)
        else:
            if self.weight_decay:
                grads = with_weight_decay(grads, params, self._decay, self.weight_decay * factor)
            params, self.state = self.optimizer.update(params, grads, self.state, lr, xp=xp)
        if net.backend == "dask":
            # the step is one graph over the batch's chunks: materialise its results together
            # (parameters, state, loss, measure), so the next step's graph starts from them
            if measure is None:
                loss, params, self.state = _dask.persist(loss, params, self.state)
            else:
                loss, extra, params, self.state = _dask.persist(loss, extra, params, self.state)
        net._store(params)
        return loss, extra


def fit(
    net: Any,
    X: Any,
    Y: Any,
    epochs: int = 100,
    lr: float = 0.1,
    batch_size: int | None = None,
    shuffle: bool = True,
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
    """Train ``net`` on ``(X, Y)``; returns a :class:`History`.

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
      optimizer state from just before it, and :class:`DivergenceError` says which epoch and
      step (``on_divergence="warn"``: a :class:`DivergenceWarning` and the history so far).
    - Ctrl-C lets the running step finish, then returns the history of the completed epochs
      (``stop_reason="interrupted"``, with a :class:`TrainingInterrupted` warning); if a step of
      the cut epoch had diverged, that is handled as above instead.
    - ``checkpoint=path`` writes the network, optimizer state, schedule, the shuffling
      generator's state and the history every ``checkpoint_every`` epochs and at the last epoch
      of the run, whatever ended it (atomically; the folder must exist);
      ``resume=path`` continues from such a file, so that an interrupted and resumed run ends
      with exactly the weights of an uninterrupted one (``epochs`` counts the whole run; the
      other settings, ``lr`` included, must be those of the run that wrote it). A run that
      stopped on ``goal``, zero errors or early stopping, and would stop there again with the
      arguments given, trains no further; one stopped by a callback or Ctrl-C goes on.
    - bad arguments raise ``TypeError`` (wrong type) or ``ValueError`` (bad value, shape, NaN or
      infinity, labels, device) before anything changes (:mod:`xpbackprop.validation`).
    """
    if not (hasattr(net, "param_layers") and hasattr(net, "_checked")):
        raise TypeError(f"fit needs an xpbackprop network (xb.MLP, xb.Sequential), got {type(net).__name__}")
    epochs = validation.check_integer("epochs", epochs)
    batch_size = validation.check_integer("batch_size", batch_size, allow_none=True)
    patience = validation.check_integer("patience", patience)
    checkpoint_every = validation.check_integer("checkpoint_every", checkpoint_every)
    validation.check_choice("on_divergence", on_divergence, ("raise", "warn"))
    validation.check_number("goal", goal, allow_none=True, allow_infinite=True, what="a number (not NaN)")
    validation.check_seed("seed", seed)
    if isinstance(shuffle, str) and shuffle != "batches":
        raise ValueError(f"shuffle must be True, False or 'batches', got {shuffle!r}")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)):
            raise TypeError(
                f"validation_data must be a pair (X_val, Y_val), got {type(validation_data).__name__}"
            )
        if len(validation_data) != 2:
            raise ValueError(
                f"validation_data must be a pair (X_val, Y_val), got {len(validation_data)} items"
            )
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
    _check_checkpoint_path("checkpoint", checkpoint, writing=True)
    _check_checkpoint_path("resume", resume, writing=False)
    # The data, converted and checked once: structure first, then NaN/inf and label ranges
    # of X, Y, X_val, Y_val in one host read. Nothing has changed yet (nor the generator's state).
    checks = validation.ValueChecks(net.xp)
    X, Y = net._checked(X, Y, checks=checks)
    if validation_data is not None:
        validation_data = net._checked(*validation_data, x_name="X_val", y_name="Y_val", checks=checks)
    checks.run()
    trainer = Trainer(net, lr, optimizer, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    sched = Schedule(schedule, lr, power_t=power_t, n_iter_no_change=n_iter_no_change, tol=tol)

    xp = net.xp
    if validation_data is not None:
        Xv, Yv = validation_data
    n = X.shape[0]
    batch = n if batch_size is None else min(batch_size, n)
    rng = net.rng if seed is None else host_rng(seed)
    mean = net.loss_fn.reduction == "mean"
    is_classifier = net.output_activation in CLASSIFIER_OUTPUTS

    history = History()
    best: tuple[float, Any] = (math.inf, None)
    samples_seen, first_epoch = 0, 0
    # the settings a resumed run must share with the one that wrote the checkpoint, as JSON values
    # (the schedule's own settings only where it uses them)
    fit_args = {"batch_size": batch_size, "shuffle": shuffle if isinstance(shuffle, str) else bool(shuffle),
                "seed": _seed_record(seed), "optimizer": trainer.optimizer.config(), "schedule": schedule,
                "n": n, "lr": float(lr), "weight_decay": float(weight_decay)}
    if schedule == "invscaling":
        fit_args["power_t"] = float(power_t)
    if schedule == "adaptive":
        fit_args.update(n_iter_no_change=int(n_iter_no_change), tol=float(tol))
    if checkpoint is not None:
        _check_json("the training settings a checkpoint records", fit_args)
    if resume is not None:
        first_epoch, samples_seen, best = _restore_checkpoint(
            resume, net, trainer, sched, rng, history, fit_args
        )
        # a run that had stopped there (goal, zero errors, early stopping) and would stop there
        # again with these arguments trains no further, as the uninterrupted run did not; one
        # stopped by a callback or Ctrl-C goes on (that is what resuming it is for)
        if history.epochs and history.stop_reason and history.stop_reason == _stop_test(
                history, goal, stop_on_zero_errors, early_stopping, patience, asked=False, interrupted=False):
            return history
        history.stop_reason = ""  # training goes on: the file's reason no longer holds
    bar = _progress_bar(epochs) if progress else None
    if bar is not None and first_epoch:
        bar.update(first_epoch)
    interrupt = _InterruptFlag()
    try:
        with interrupt:
            for epoch in range(first_epoch, epochs):
                start = (trainer._kept_parameters(), _snapshot(trainer.state, xp))
                by_block = shuffle == "batches"  # shuffle whole blocks of rows, not rows
                order = batch_order(rng, -(-n // batch) if by_block else n, bool(shuffle) and batch < n)
                index = (None if order is None or by_block
                         else _backend.to_backend(order, xp, device=net.device))
                trainer.lr = sched.lr
                batches = _batches(X, Y, index, batch, xp)
                if by_block and order is not None:
                    batches = [batches[k] for k in order.tolist()]
                total, errors, steps = _run_epoch(trainer, batches, mean, stop_on_zero_errors, interrupt)
                cut = steps < len(batches)  # Ctrl-C ended the epoch after `steps` steps
                if cut:
                    # the steps that ran must not have diverged either (one read)
                    finite = bool(_all_finite([total, *net.parameters], xp))
                else:
                    # the one read per epoch: the loss, the errors, and whether every parameter is finite
                    summary = [total / n if mean else total, _all_finite(net.parameters, xp)]
                    if errors is not None:
                        summary.append(errors)
                    values = _backend.to_numpy(xp.stack([xp.astype(v, net.dtype) for v in summary]))
                    epoch_loss = float(values[0])
                    finite = math.isfinite(epoch_loss) and values[1] == 1
                failed = None
                if not finite:
                    # back to the epoch's start, then step by step to the last finite step
                    net._store(start[0])
                    trainer.state = start[1]
                    failed, replayed = _replay_until_non_finite(trainer, batches[:steps], mean, xp)
                    if failed is None and not cut:
                        # every step finite: only the epoch's sum overflowed the network's dtype;
                        # the epoch's loss from the steps' own losses, summed in float64
                        epoch_loss = math.fsum(replayed) / n if mean else math.fsum(replayed)
                if failed is not None:
                    message = (
                        f"training diverged in epoch {epoch + 1}, step {failed}: the loss or a "
                        f"parameter became non-finite. The network keeps the parameters and optimizer "
                        f"state after step {failed - 1} of that epoch. Try a smaller learning rate "
                        f"than lr={sched.lr:g}."
                    )
                    if on_divergence == "raise":
                        raise DivergenceError(message, epoch=epoch + 1, step=failed, trainer=trainer)
                    warnings.warn(message, DivergenceWarning, stacklevel=2)
                    history.stop_reason = "diverged"
                    break
                if cut:
                    history.stop_reason = "interrupted"
                    _warn_interrupted(epoch, steps)
                    break
                samples_seen += n
                history.loss.append(epoch_loss)
                history.lr.append(sched.lr)
                logs: dict[str, float] = {"loss": epoch_loss}
                if errors is not None:
                    history.errors.append(int(values[2]))
                    logs["errors"] = int(values[2])
                if validation_data is not None:
                    A_v, val_loss, _ = net._forward_loss(Xv, Yv)
                    val_loss = float(val_loss)
                    val_score = float(
                        accuracy(A_v, Yv, net.output_activation, xp=xp) if is_classifier
                        else r2_score(A_v, Yv, xp=xp)
                    )
                    history.val_loss.append(val_loss)
                    history.val_score.append(val_score)
                    logs.update(val_loss=val_loss, val_score=val_score)
                    if val_loss < best[0]:
                        best = (val_loss, trainer._kept_parameters())
                        history.best_epoch = epoch + 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()})
                sched.epoch_end(epoch_loss, samples_seen)
                # every callback sees every epoch, also when an earlier one asks to stop
                asked = [_asks_to_stop(cb(net, epoch + 1, dict(logs))) for cb in callbacks]
                stop = _stop_test(history, goal, stop_on_zero_errors, early_stopping, patience,
                                  asked=any(asked), interrupted=interrupt.requested)
                if stop == "early_stopping" and best[1] is not None:
                    net._store(best[1])
                if stop:
                    history.stop_reason = stop
                # the run's last epoch is written too, whatever ends it (with the reason: a run
                # resumed from it stops where the uninterrupted one did)
                last = bool(stop) or epoch + 1 == epochs
                if checkpoint is not None and ((epoch + 1) % checkpoint_every == 0 or last):
                    _write_checkpoint(checkpoint, net, trainer, sched, rng, history, best,
                                      epoch + 1, samples_seen, fit_args)
                if stop == "interrupted":
                    _warn_interrupted(epoch + 1, None)
                if stop:
                    break
            else:
                history.stop_reason = "epochs"
    finally:
        if bar is not None:
            bar.close()
    return history


def _write_checkpoint(path: Any, net: Any, trainer: Trainer, sched: Schedule, rng: Any,
                      history: History, best: tuple[float, Any], epochs_done: int,
                      samples_seen: int, fit_args: dict[str, Any]) -> None:
    """Everything ``resume`` needs to continue exactly: network, optimizer state, schedule,
    the shuffling generator's state, history and the best validation weights."""
    from .io import write_checkpoint

    layout = [None if hasattr(s, "shape") else s for s in trainer.state]  # None: an array's place
    meta = {
        "epochs_done": epochs_done,
        "samples_seen": samples_seen,
        "history": asdict(history),
        "schedule": sched.state(),
        "rng": rng.bit_generator.state,
        "state_layout": layout,
        "best_loss": best[0],
        "fit": fit_args,
    }
    arrays = {"state": [s for s in trainer.state if hasattr(s, "shape")], "best": best[1] or []}
    write_checkpoint(path, net, meta, arrays)


def _restore_checkpoint(path: Any, net: Any, trainer: Trainer, sched: Schedule, rng: Any,
                        history: History, fit_args: dict[str, Any]) -> tuple[int, int, tuple[float, Any]]:
    """Load a checkpoint into ``net``, ``trainer``, ``sched``, ``rng`` and ``history`` (after checking
    it belongs to this network and these training settings); returns where to continue."""
    from .io import read_checkpoint

    meta, params, arrays = read_checkpoint(path, net)
    _check_checkpoint_meta(meta, arrays, trainer, rng, path)  # all of it, before anything changes
    # a file written before a setting was recorded is taken on the others' word
    mismatched = {k: (meta["fit"].get(k), v) for k, v in fit_args.items()
                  if (k in meta["fit"] or k not in _LATER_FIT_KEYS) and meta["fit"].get(k) != v}
    if mismatched:
        detail = ", ".join(f"{k}: file {a!r}, now {b!r}" for k, (a, b) in mismatched.items())
        raise ValueError(f"checkpoint {path} was written with other training settings ({detail})")
    state_arrays = iter(arrays["state"])
    xp = net.xp

    def to_device(a: Any) -> Any:
        return _backend.to_backend(a, xp, dtype=net.dtype, device=net.device, copy=True)

    net._assign(params)
    trainer.state = [to_device(next(state_arrays)) if s is None else s for s in meta["state_layout"]]
    sched.lr, sched.best, sched.bad_epochs = (meta["schedule"][k] for k in ("lr", "best", "bad_epochs"))
    rng.bit_generator.state = meta["rng"]
    for key, value in meta["history"].items():
        setattr(history, key, value)
    best_params = [to_device(a) for a in arrays["best"]] or None
    return meta["epochs_done"], meta["samples_seen"], (meta["best_loss"], best_params)


#: settings checkpoints record since a later version (older files lack them)
_LATER_FIT_KEYS = ("lr", "weight_decay", "power_t", "n_iter_no_change", "tol")


def _check_checkpoint_meta(meta: dict[str, Any], arrays: dict[str, list[Any]], trainer: Trainer,
                           rng: Any, path: Any) -> None:
    """``ModelFileError`` unless ``meta`` is what :func:`_write_checkpoint` writes, consistent with
    the file's arrays and with ``trainer`` (its optimizer's state layout), so that restoring it
    cannot fail half-way."""
    from .io import _REPR, ModelFileError

    def bad(what: str) -> ModelFileError:
        return ModelFileError(f"{path}: damaged checkpoint: {what}")

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    def count(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    def entry(container: dict[str, Any], key: str, test: Callable[[Any], bool], what: str,
              where: str = "meta") -> Any:
        if key not in container:
            raise bad(f"{where} lacks {key!r}")
        if not test(container[key]):
            raise bad(f"{where}[{key!r}] is {_REPR.repr(container[key])}, not {what}")
        return container[key]

    epochs = entry(meta, "epochs_done", count, "a count of epochs")
    entry(meta, "samples_seen", count, "a count of samples")
    entry(meta, "best_loss", number, "a number")
    entry(meta, "fit", lambda v: isinstance(v, dict), "an object")
    schedule = entry(meta, "schedule", lambda v: isinstance(v, dict), "an object")
    entry(schedule, "lr", lambda v: number(v) and v > 0, "a positive number", "schedule")
    entry(schedule, "best", number, "a number", "schedule")
    entry(schedule, "bad_epochs", count, "a count", "schedule")
    history = entry(meta, "history", lambda v: isinstance(v, dict), "an object")
    names = {f.name for f in fields(History)}
    unknown = sorted(set(history) - names)
    if unknown:
        raise bad(f"history has unknown entries {unknown} (valid: {sorted(names)})")
    for key in ("loss", "val_loss", "val_score", "lr"):
        entry(history, key, lambda v: isinstance(v, list) and all(map(number, v)), "a list of numbers",
              "history")
    entry(history, "errors", lambda v: isinstance(v, list) and all(map(count, v)), "a list of counts",
          "history")
    entry(history, "stop_reason", lambda v: isinstance(v, str), "a string", "history")
    entry(history, "best_epoch", lambda v: v is None or count(v), "an epoch number or null", "history")
    if len(history["loss"]) != epochs:
        raise bad(f"{len(history['loss'])} epoch losses in the history for {epochs} epochs done")
    layout = entry(meta, "state_layout",
                   lambda v: isinstance(v, list) and all(x is None or number(x) for x in v),
                   "a list of numbers and nulls")
    slots = [hasattr(s, "shape") for s in trainer.state]
    if [x is None for x in layout] != slots:
        raise bad(f"optimizer state laid out as {_REPR.repr(layout)}; {type(trainer.optimizer).__name__} "
                  f"keeps {len(slots)} values, arrays at {[i for i, a in enumerate(slots) if a]}")
    expected = [tuple(s.shape) for s in trainer.state if hasattr(s, "shape")]
    found = [tuple(a.shape) for a in arrays["state"]]
    if found != expected:
        raise bad(f"optimizer state arrays of shapes {found}, where the optimizer keeps {expected}")
    state = entry(meta, "rng", lambda v: isinstance(v, dict), "a generator state")
    try:  # on a generator of the same kind, not the one training uses
        type(rng.bit_generator)().state = state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise bad(f"meta['rng'] is not a {type(rng.bit_generator).__name__} state ({exc})") from exc


def _stop_test(history: History, goal: float | None, zero_errors: bool, early_stopping: bool,
               patience: int, *, asked: bool, interrupted: bool) -> str:
    """Why training stops after the last epoch in ``history`` (``""``: it goes on)."""
    epoch = history.epochs
    if goal is not None and history.loss[-1] < goal:
        return "goal"
    if zero_errors and history.errors and history.errors[-1] == 0:
        return "zero_errors"
    if asked:
        return "callback"
    # epochs since the best validation loss, or since the start while none was finite
    if early_stopping and epoch - (history.best_epoch or 0) >= patience:
        return "early_stopping"
    return "interrupted" if interrupted else ""


def _asks_to_stop(result: Any) -> bool:
    """Whether a callback's return value asks ``fit`` to stop: ``True``, or a 0-d boolean array
    holding true (``numpy.bool_``, a 0-d tensor); anything else (``None``, numbers, other
    objects) lets training go on."""
    if result is True:
        return True
    dtype = getattr(result, "dtype", None)
    return dtype is not None and getattr(result, "ndim", None) == 0 and "bool" in str(dtype) and bool(result)


def _seed_record(seed: Any) -> Any:
    """``seed`` as a checkpoint records it: ``None``, a Python int, or ``"generator"`` for a
    generator (whose state the checkpoint keeps as the shuffling generator's)."""
    if seed is None:
        return None
    return "generator" if hasattr(seed, "bit_generator") or hasattr(seed, "generate_state") else int(seed)


def _check_json(what: str, value: Any) -> None:
    """``TypeError`` unless ``value`` can be written as JSON (checked before training starts)."""
    import json

    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} cannot be written to a checkpoint ({exc}): {value!r}") from exc


def _check_checkpoint_path(name: str, path: Any, *, writing: bool) -> None:
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


def _batches(X: Any, Y: Any, index: Any, batch: int, xp: Any) -> list[tuple[Any, Any, int]]:
    """The epoch's ``(X_b, Y_b, rows)``: slices in order, or gathered along ``index`` (on the device)."""
    n = X.shape[0]
    if index is None and batch == n:
        return [(X, Y, n)]
    out = []
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        if index is None:
            out.append((X[start:stop, ...], Y[start:stop, ...], stop - start))
        else:
            rows = index[start:stop]
            out.append((xp.take(X, rows, axis=0), xp.take(Y, rows, axis=0), stop - start))
    return out


def _run_epoch(trainer: Trainer, batches: list[Any], mean: bool, count_errors: bool,
               interrupt: _InterruptFlag) -> tuple[Any, Any, int]:
    """One epoch's steps: ``(Σ batch losses (× rows for "mean"), misclassified or None, steps run)``.

    Nothing is read back to the host. A Ctrl-C lets the current step finish, then ends the epoch.
    """
    net, xp = trainer.net, trainer.net.xp
    total = errors = None
    steps = 0
    for Xb, Yb, rows in batches:
        if count_errors:
            loss_b, e = trainer._step(
                Xb, Yb, lambda A, Yb=Yb: classification_errors(A, Yb, net.output_activation, xp=xp)
            )
            errors = e if errors is None else errors + e
        else:
            loss_b, _ = trainer._step(Xb, Yb)
        steps += 1
        weighted = loss_b * rows if mean else loss_b
        total = weighted if total is None else total + weighted
        if interrupt.requested:
            break
    return total, errors, steps


def _replay_until_non_finite(trainer: Trainer, batches: list[Any], mean: bool,
                             xp: Any) -> tuple[int | None, list[float]]:
    """Re-run the epoch one step at a time (a read per step); stop before the first step whose
    loss or result is non-finite, with that step's parameters and state restored. Returns its
    number (``None`` when every step is finite: only the epoch's summed loss overflowed) and the
    losses of the steps before it, each times its rows for a ``mean`` loss, as ``fit`` sums them."""
    net = trainer.net
    losses: list[float] = []
    for step, (Xb, Yb, rows) in enumerate(batches, start=1):
        before = (trainer._kept_parameters(), _snapshot(trainer.state, xp))
        loss_b, _ = trainer._step(Xb, Yb)
        if not bool(_all_finite([loss_b, *net.parameters], xp)):
            net._store(before[0])
            trainer.state = before[1]
            return step, losses
        losses.append(float(loss_b) * rows if mean else float(loss_b))
    return None, losses


def _all_finite(arrays: list[Any], xp: Any) -> Any:
    """A 0-d boolean array: every entry of every array is finite (no host read)."""
    flags = [xp.all(xp.isfinite(a)) for a in arrays]
    return xp.all(xp.stack(flags)) if len(flags) > 1 else flags[0]


def _warn_interrupted(epoch: int, steps: int | None) -> None:
    where = f"after epoch {epoch}" if steps is None else f"in epoch {epoch + 1} after step {steps}"
    warnings.warn(
        f"training interrupted {where}; the network keeps the parameters of the last completed "
        "step and the history of the completed epochs",
        TrainingInterrupted,
        stacklevel=3,
    )


class _InterruptFlag:
    """While active, Ctrl-C (SIGINT) only sets ``requested``: the running step completes, so the
    parameters are never left half-updated. A second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.requested = True
        _setsignal(signal.SIGINT, self._previous)  # the next Ctrl-C is an ordinary one

    def __enter__(self) -> _InterruptFlag:
        if threading.current_thread() is not threading.main_thread():
            return self  # signal handlers belong to the main thread
        current = _getsignal(signal.SIGINT)
        # left alone: an ignored Ctrl-C stays ignored, and a handler installed outside Python
        # (getsignal gives None) could not be put back afterwards
        if current is not None and current != signal.SIG_IGN:
            self._previous = _setsignal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None and _getsignal(signal.SIGINT) == self._handler:
            _setsignal(signal.SIGINT, self._previous)


def _snapshot(arrays: list[Any], xp: Any) -> list[Any]:
    """Copies of the arrays in ``arrays`` where they are updated in place (other entries as they are)."""
    return [xp.asarray(a, copy=True) if is_writeable_array(a) else a for a in arrays]


class _PrintProgress:
    """Fallback for ``progress=True`` without tqdm: one line per epoch."""

    def __init__(self, total: int) -> None:
        self.total, self.n, self.postfix = total, 0, {}

    def update(self, k: int) -> None:
        self.n += k

    def set_postfix(self, postfix: dict[str, str]) -> None:
        print(f"epoch {self.n}/{self.total} " + " ".join(f"{k}={v}" for k, v in postfix.items()))

    def close(self) -> None:
        pass


def _progress_bar(total: int) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _PrintProgress(total)
    return tqdm(total=total, unit="epoch")
