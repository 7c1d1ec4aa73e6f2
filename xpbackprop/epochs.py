"""One epoch of training: the steps over the batches, the epoch's one host read, and the replay
that finds a diverging step. :func:`~xpbackprop.training.fit` and the estimators' ``partial_fit``
both run :func:`run_epoch`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import backend as _backend
from .backprop import assign
from .guards import snapshot
from .init import batch_order
from .metrics import classification_errors
from .trainer import Trainer

__all__ = ["Epoch", "run_epoch"]


@dataclass
class Epoch:
    """What :func:`run_epoch` read back: the epoch's loss (``None`` for an epoch cut short), the
    misclassified training samples (``None`` unless counted), the steps run, whether Ctrl-C cut the
    epoch, and the step that diverged (``None`` if none did)."""

    loss: float | None
    errors: int | None
    steps: int
    cut: bool
    failed: int | None


def _batches(X: Any, Y: Any, batch: int, shuffle: bool | str, rng: Any, device: Any,
             xp: Any) -> list[tuple[Any, Any, int]]:
    """The epoch's ``(X_b, Y_b, rows)`` in the order the seeded host generator draws: rows shuffled
    (gathered on the device), whole blocks of rows shuffled (``"batches"``), or in order."""
    n = X.shape[0]
    by_block = shuffle == "batches"
    order = batch_order(rng, -(-n // batch) if by_block else n, bool(shuffle) and batch < n)
    if order is None and batch == n:
        return [(X, Y, n)]
    index = None if order is None or by_block else _backend.to_backend(order, xp, device=device)
    out = []
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        if index is None:
            out.append((X[start:stop, ...], Y[start:stop, ...], stop - start))
        else:
            rows = index[start:stop]
            out.append((xp.take(X, rows, axis=0), xp.take(Y, rows, axis=0), stop - start))
    return [out[k] for k in order.tolist()] if by_block and order is not None else out


def _all_finite(arrays: list[Any], xp: Any) -> Any:
    """A 0-d boolean array: every entry of every array is finite (no host read)."""
    flags = [xp.all(xp.isfinite(a)) for a in arrays]
    return xp.all(xp.stack(flags)) if len(flags) > 1 else flags[0]


def _steps(trainer: Trainer, batches: list[Any], mean: bool, count_errors: bool, interrupt: Any,
           alpha: float | None) -> tuple[Any, Any, int]:
    """The epoch's steps: ``(Σ batch losses (× rows for "mean"), misclassified or None, steps run)``.
    Nothing is read back. A Ctrl-C lets the current step finish, then ends the epoch. ``alpha``:
    the L2 penalty ``alpha/2 ||W||²`` over each batch's own rows (scikit-learn's)."""
    net, xp = trainer.net, trainer.net.xp
    total = errors = None
    steps = 0
    for Xb, Yb, rows in batches:
        if alpha is not None:
            trainer.weight_decay = alpha / rows
        if count_errors:
            loss_b, e = trainer.step_on_device(
                Xb, Yb, lambda A, Yb=Yb: classification_errors(A, Yb, net.output_activation, xp=xp))
            errors = e if errors is None else errors + e
        else:
            loss_b, _ = trainer.step_on_device(Xb, Yb)
        steps += 1
        weighted = loss_b * rows if mean else loss_b
        total = weighted if total is None else total + weighted
        if interrupt is not None and interrupt.requested:
            break
    return total, errors, steps


def _replay(trainer: Trainer, batches: list[Any], mean: bool,
            alpha: float | None) -> tuple[int | None, list[float]]:
    """Re-run the epoch one step at a time (a read per step); stop before the first step whose
    loss or result is non-finite, with that step's parameters and state restored. Returns its
    number (``None`` when every step is finite: only the epoch's summed loss overflowed) and the
    losses of the steps before it, each times its rows for a ``mean`` loss, as the epoch sums them."""
    net, xp = trainer.net, trainer.net.xp
    losses: list[float] = []
    for step, (Xb, Yb, rows) in enumerate(batches, start=1):
        before = (trainer.kept_parameters(), snapshot(trainer.state, xp))
        if alpha is not None:
            trainer.weight_decay = alpha / rows
        loss_b, _ = trainer.step_on_device(Xb, Yb)
        if not bool(_all_finite([loss_b, *net.parameters], xp)):
            assign(net.layers, before[0])
            trainer.state = before[1]
            return step, losses
        losses.append(float(loss_b) * rows if mean else float(loss_b))
    return None, losses


def run_epoch(trainer: Trainer, X: Any, Y: Any, *, batch: int, shuffle: bool | str, rng: Any,
              count_errors: bool = False, interrupt: Any = None, alpha: float | None = None) -> Epoch:
    """One epoch of steps over ``(X, Y)`` (on the device, encoded) and its one host read: the loss,
    the errors, and whether every parameter is finite.

    A non-finite loss or parameter sends the network back to the epoch's start, and the epoch is
    replayed step by step to the last finite step, where the network and optimizer state stay
    (:attr:`Epoch.failed` names the step after it). Used by :func:`fit` and by the estimators'
    ``partial_fit``.
    """
    net, xp = trainer.net, trainer.net.xp
    mean = net.loss_fn.reduction == "mean"
    n = X.shape[0]
    start = (trainer.kept_parameters(), snapshot(trainer.state, xp))
    batches = _batches(X, Y, batch, shuffle, rng, net.device, xp)
    total, errors, steps = _steps(trainer, batches, mean, count_errors, interrupt, alpha)
    cut = steps < len(batches)  # Ctrl-C ended the epoch after `steps` steps
    loss = None
    if cut:  # the steps that ran must not have diverged either (one read)
        finite = bool(_all_finite([total, *net.parameters], xp))
    else:
        summary = [total / n if mean else total, _all_finite(net.parameters, xp)]
        if errors is not None:
            summary.append(errors)
        values = _backend.to_numpy(xp.stack([xp.astype(v, net.dtype) for v in summary]))
        loss = float(values[0])
        finite = math.isfinite(loss) and values[1] == 1
        errors = int(values[2]) if errors is not None else None
    if finite:
        return Epoch(loss, errors, steps, cut, None)
    assign(net.layers, start[0])  # back to the epoch's start, then step by step
    trainer.state = start[1]
    failed, replayed = _replay(trainer, batches[:steps], mean, alpha)
    if failed is None and not cut:
        # every step finite: only the epoch's sum overflowed the network's dtype; the epoch's
        # loss from the steps' own losses, summed in float64
        loss = math.fsum(replayed) / n if mean else math.fsum(replayed)
    return Epoch(loss, errors, steps, cut, failed)
