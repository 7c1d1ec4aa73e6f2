"""The training loop: full-batch, online and mini-batch descent are one loop.

``batch_size=None`` is full-batch gradient descent (000, 002), ``1`` online
updates (000's Python example, 001), ``k`` mini-batches (004). Within an epoch
nothing leaves the device: batch losses accumulate there and are read once per
epoch, together with a finiteness check of the parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from array_api_compat import is_writeable_array

from . import backend as _backend
from .init import batch_order, host_rng
from .metrics import accuracy, classification_errors, r2_score
from .optimizers import SGD, Optimizer, Schedule, get_optimizer

__all__ = ["DivergenceError", "History", "Trainer", "fit"]

CLASSIFIER_OUTPUTS = ("softmax", "sigmoid")


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or parameter; the network keeps its last finite state."""

    def __init__(self, message: str, *, epoch: int) -> None:
        super().__init__(message)
        self.epoch = epoch


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


def _check_positive_int(name: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        alternative = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a positive integer{alternative}, got {value!r}")


class Trainer:
    """An optimizer bound to a network: :meth:`step` is one update on one batch.

    ``trainer.step(X, Y)`` runs forward, backward and the update and returns the
    batch's loss as a 0-d array on the device: it never reads anything back to the
    host, so a loop of steps runs at the device's pace. ``fit`` is a loop of these
    steps. ``lr`` may be changed between steps.
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
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate lr must be a positive finite number, got {lr!r}")
        if not (isinstance(weight_decay, (int, float)) and math.isfinite(weight_decay) and weight_decay >= 0):
            raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
        if isinstance(optimizer, str) and optimizer == "sgd":
            opt: Optimizer = SGD(momentum=momentum, nesterov=nesterov)
        else:
            if momentum or nesterov:
                raise ValueError(f"momentum and nesterov apply to optimizer='sgd', not {optimizer!r}")
            opt = get_optimizer(optimizer)
        self.net, self.optimizer, self.lr = net, opt, float(lr)
        self.weight_decay = float(weight_decay)
        self._decay = [name == "W" for layer in net.param_layers for name in layer.params]
        self.state = opt.init_state(net.parameters, xp=net.xp)

    def step(self, X: Any, Y: Any) -> Any:
        """One update on the batch ``(X, Y)``; returns the loss before it (0-d device array)."""
        X = self.net._input(X)
        return self._step(X, self.net._targets(Y, X.shape[0]))[0]

    def _step(self, X: Any, Y: Any) -> tuple[Any, Any]:
        """:meth:`step` for arrays already on the device and encoded; returns ``(loss, A_L)``."""
        net, xp = self.net, self.net.xp
        loss, grads, A_L = net._loss_and_gradients(X, Y, return_output=True)
        params = net.parameters
        if self.weight_decay:
            wd = self.weight_decay
            grads = [g + wd * p if d else g for g, p, d in zip(grads, params, self._decay)]
        params, self.state = self.optimizer.update(params, grads, self.state, self.lr, xp=xp)
        net._store(params)
        return loss, A_L


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
) -> History:
    """Train ``net`` on ``(X, Y)``; returns a :class:`History`.

    - ``batch_size``: ``None`` full batch, ``1`` online, ``k`` mini-batches (the last may be smaller).
    - ``shuffle``: a new order every epoch from the seeded host generator (``seed``, or the
      network's own generator when ``seed`` is None), the same on every backend.
    - ``optimizer``: ``"sgd"`` (with ``momentum``, ``nesterov``), ``"adam"`` or an
      :class:`~xpbackprop.optimizers.Optimizer`; ``weight_decay``: L2 on weights.
    - ``schedule``: ``"constant"``, ``"invscaling"`` (``power_t``) or ``"adaptive"``
      (η/5 after ``n_iter_no_change`` epochs without improving by ``tol``).
    - stopping: after ``epochs``; when the epoch loss is below ``goal``; with
      ``stop_on_zero_errors`` once an epoch misclassifies no training sample;
      with ``early_stopping`` when the loss on ``validation_data`` has not improved
      for ``patience`` epochs (the best weights are restored); when a callback
      ``callback(net, epoch, logs)`` returns ``True``.
    - a non-finite loss or parameter restores the parameters of the epoch's start
      and raises :class:`DivergenceError`.
    """
    _check_positive_int("epochs", epochs)
    _check_positive_int("batch_size", batch_size, allow_none=True)
    _check_positive_int("patience", patience)
    if goal is not None and not isinstance(goal, (int, float)):
        raise ValueError(f"goal must be a number or None, got {goal!r}")
    if early_stopping and validation_data is None:
        raise ValueError("early_stopping=True needs validation_data=(X_val, Y_val)")
    if stop_on_zero_errors and net.output_activation not in CLASSIFIER_OUTPUTS:
        raise ValueError(
            f"stop_on_zero_errors needs a classifier output {list(CLASSIFIER_OUTPUTS)}, "
            f"the network's output is {net.output_activation!r}"
        )
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables callback(net, epoch, logs), got {cb!r}")
    trainer = Trainer(net, lr, optimizer, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    sched = Schedule(schedule, lr, power_t=power_t, n_iter_no_change=n_iter_no_change, tol=tol)

    xp = net.xp
    X = net._input(X)
    Y = net._targets(Y, X.shape[0])
    if validation_data is not None:
        Xv = net._input(validation_data[0], "X_val")
        Yv = net._targets(validation_data[1], Xv.shape[0])
    n = X.shape[0]
    batch = n if batch_size is None else min(batch_size, n)
    rng = net.rng if seed is None else host_rng(seed)
    mean = net.loss_fn.reduction == "mean"
    is_classifier = net.output_activation in CLASSIFIER_OUTPUTS

    history = History()
    best = (math.inf, None)
    bar = _progress_bar(epochs) if progress else None
    samples_seen = 0
    try:
        for epoch in range(epochs):
            start_params = _snapshot(net.parameters, xp)
            order = batch_order(rng, n, shuffle and batch < n)
            index = None if order is None else _backend.to_backend(order, xp, device=net.device)
            total = None
            errors = None
            for start in range(0, n, batch):
                stop = min(start + batch, n)
                if index is None:
                    Xb, Yb = (X, Y) if batch == n else (X[start:stop, ...], Y[start:stop, ...])
                else:
                    rows = index[start:stop]
                    Xb, Yb = xp.take(X, rows, axis=0), xp.take(Y, rows, axis=0)
                trainer.lr = sched.lr
                loss_b, A_L = trainer._step(Xb, Yb)
                weighted = loss_b * (stop - start) if mean else loss_b
                total = weighted if total is None else total + weighted
                if stop_on_zero_errors:
                    e = classification_errors(A_L, Yb, net.output_activation, xp=xp)
                    errors = e if errors is None else errors + e
            samples_seen += n
            # the one read per epoch: the loss and a probe that is non-finite if any parameter is
            params = net.parameters
            probe = sum(xp.sum(p) for p in params) * 0.0
            summary = [total / n if mean else total, probe]
            if errors is not None:
                summary.append(errors)
            values = _backend.to_numpy(xp.stack([xp.astype(v, net.dtype) for v in summary]))
            epoch_loss = float(values[0])
            if not (math.isfinite(epoch_loss) and math.isfinite(float(values[1]))):
                net._store(start_params)
                raise DivergenceError(
                    f"training diverged in epoch {epoch + 1}: the loss or a parameter became "
                    f"non-finite (epoch loss {epoch_loss}); the parameters of the epoch's start "
                    f"are kept. Try a smaller learning rate than lr={sched.lr:g}.",
                    epoch=epoch + 1,
                )
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
                    best = (val_loss, _snapshot(params, xp))
                    history.best_epoch = epoch + 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()})
            sched.epoch_end(epoch_loss, samples_seen)
            if goal is not None and epoch_loss < goal:
                history.stop_reason = "goal"
                break
            if stop_on_zero_errors and history.errors[-1] == 0:
                history.stop_reason = "zero_errors"
                break
            if any(cb(net, epoch + 1, dict(logs)) is True for cb in callbacks):
                history.stop_reason = "callback"
                break
            stale = epoch + 1 - (history.best_epoch or epoch + 1)
            if early_stopping and stale >= patience:
                net._store(best[1])
                history.stop_reason = "early_stopping"
                break
        else:
            history.stop_reason = "epochs"
    finally:
        if bar is not None:
            bar.close()
    return history


def _snapshot(params: list[Any], xp: Any) -> list[Any]:
    """Copies of ``params`` where they are updated in place; the arrays themselves otherwise."""
    if params and is_writeable_array(params[0]):
        return [xp.asarray(p, copy=True) for p in params]
    return list(params)


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
