"""One epoch of training: the steps over the batches, the epoch's one host read, and the replay
that finds a diverging step. :func:`~xpbackprop.training.fit` and the estimators (``fit`` and
``partial_fit`` of :mod:`xpbackprop.sklearn`) run :func:`run_epoch`."""

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

__all__ = ["Epoch", "SampleWeights", "run_epoch"]


@dataclass
class Epoch:
    """What :func:`run_epoch` read back: the epoch's loss (``None`` for an epoch cut short), the
    misclassified training samples (``None`` unless counted), the steps run, whether Ctrl-C cut the
    epoch, the step that diverged (``None`` if none did), and, with ``alpha``, the epoch's L2
    penalty, reduced over the batches as the loss is (``None`` without ``alpha``)."""

    loss: float | None
    errors: int | None
    steps: int
    cut: bool
    failed: int | None
    penalty: float | None = None


@dataclass(frozen=True)
class SampleWeights:
    """Per-sample weights for :func:`run_epoch`: ``device`` ``(N,)`` on the network's device (in each
    batch's loss and gradients), ``host`` the same values as a NumPy array (each batch's ``Σ w``, the
    divisor of ``alpha``, is summed on the host: no read back inside the epoch)."""

    device: Any
    host: Any


@dataclass
class _Batch:
    X: Any
    Y: Any
    rows: int
    weights: Any  # the batch's weights on the device, or None
    divisor: float  # Σ w of the batch (its rows without weights): alpha's divisor


def _batches(X: Any, Y: Any, batch: int, shuffle: bool | str, rng: Any, device: Any, xp: Any,
             weights: SampleWeights | None) -> list[_Batch]:
    """The epoch's batches in the order the seeded host generator draws: rows shuffled
    (gathered on the device), whole blocks of rows shuffled (``"batches"``), or in order."""
    n = X.shape[0]
    by_block = shuffle == "batches"
    order = batch_order(rng, -(-n // batch) if by_block else n, bool(shuffle) and batch < n)
    if order is None and batch == n:
        if weights is None:
            return [_Batch(X, Y, n, None, float(n))]
        return [_Batch(X, Y, n, weights.device, float(weights.host.sum()))]
    rows_order = None if order is None or by_block else order
    index = None if rows_order is None else _backend.to_backend(rows_order, xp, device=device)
    out = []
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        if index is None:
            parts = [A[start:stop, ...] for A in (X, Y)]
            w = None if weights is None else weights.device[start:stop]
            host_w = None if weights is None else weights.host[start:stop]
        else:
            rows = index[start:stop]
            parts = [xp.take(A, rows, axis=0) for A in (X, Y)]
            w = None if weights is None else xp.take(weights.device, rows, axis=0)
            host_w = None if weights is None else weights.host[rows_order[start:stop]]
        divisor = float(stop - start) if host_w is None else float(host_w.sum())
        if divisor == 0.0:
            raise ValueError(f"the sample weights of a batch of {stop - start} rows sum to 0: its weighted "
                             "mean loss is undefined; give those rows weight, or train in larger batches")
        out.append(_Batch(parts[0], parts[1], stop - start, w, divisor))
    return [out[k] for k in order.tolist()] if by_block and order is not None else out


def _all_finite(arrays: list[Any], xp: Any) -> Any:
    """A 0-d boolean array: every entry of every array is finite (no host read)."""
    flags = [xp.all(xp.isfinite(a)) for a in arrays]
    return xp.all(xp.stack(flags)) if len(flags) > 1 else flags[0]


def _penalty(trainer: Trainer, alpha: float, divisor: float) -> Any:
    """Set the step's ``weight_decay`` to ``alpha / Σw`` and return ``alpha/(2 Σw) · Σ ||W||²`` of the
    weights as they are before the step (a 0-d device array): the L2 term scikit-learn adds to a
    batch's loss."""
    trainer.weight_decay = alpha / divisor
    xp = trainer.net.xp
    squares = [xp.sum(layer.W * layer.W) for layer in trainer.net.layers if "W" in layer.params]
    return (0.5 * alpha) * sum(squares[1:], squares[0]) / divisor


def _steps(trainer: Trainer, batches: list[_Batch], mean: bool, count_errors: bool, interrupt: Any,
           alpha: float | None) -> tuple[Any, Any, Any, int]:
    """The epoch's steps: ``(Σ batch losses, Σ penalties (each × rows for "mean"), misclassified or
    None, steps run)``. Nothing is read back. A Ctrl-C lets the current step finish, then ends the
    epoch. ``alpha``: the L2 penalty ``alpha/2 ||W||²`` over each batch's own rows or ``Σ w``."""
    net, xp = trainer.net, trainer.net.xp
    total = penalties = errors = None
    steps = 0
    for b in batches:
        if alpha is not None:
            p = _penalty(trainer, alpha, b.divisor)
            p = p * b.rows if mean else p
            penalties = p if penalties is None else penalties + p
        if count_errors:
            loss_b, e = trainer.step_on_device(
                b.X, b.Y, lambda A, Yb=b.Y: classification_errors(A, Yb, net.output_activation, xp=xp),
                weights=b.weights)
            errors = e if errors is None else errors + e
        else:
            loss_b, _ = trainer.step_on_device(b.X, b.Y, weights=b.weights)
        steps += 1
        weighted = loss_b * b.rows if mean else loss_b
        total = weighted if total is None else total + weighted
        if interrupt is not None and interrupt.requested:
            break
    return total, penalties, errors, steps


def _replay(trainer: Trainer, batches: list[_Batch], mean: bool,
            alpha: float | None) -> tuple[int | None, list[float], list[float]]:
    """Re-run the epoch one step at a time (a read per step); stop before the first step whose
    loss or result is non-finite, with that step's parameters and state restored. Returns its
    number (``None`` when every step is finite: only the epoch's summed loss overflowed) and the
    losses and penalties of the steps before it, each times its rows for a ``mean`` loss, as the
    epoch sums them."""
    net, xp = trainer.net, trainer.net.xp
    losses: list[float] = []
    penalties: list[float] = []
    for step, b in enumerate(batches, start=1):
        before = (trainer.kept_parameters(), snapshot(trainer.state, xp))
        penalty = _penalty(trainer, alpha, b.divisor) if alpha is not None else None
        loss_b, _ = trainer.step_on_device(b.X, b.Y, weights=b.weights)
        if not bool(_all_finite([loss_b, *net.parameters], xp)):
            assign(net.layers, before[0])
            trainer.state = before[1]
            return step, losses, penalties
        factor = b.rows if mean else 1
        losses.append(float(loss_b) * factor)
        if penalty is not None:
            penalties.append(float(penalty) * factor)
    return None, losses, penalties


def run_epoch(trainer: Trainer, X: Any, Y: Any, *, batch: int, shuffle: bool | str, rng: Any,
              count_errors: bool = False, interrupt: Any = None, alpha: float | None = None,
              weights: SampleWeights | None = None) -> Epoch:
    """One epoch of steps over ``(X, Y)`` (on the device, encoded) and its one host read: the loss,
    the errors, the penalty, and whether every parameter is finite.

    ``rng`` draws the epoch's order (anything with ``permutation(n)``, see
    :func:`xpbackprop.init.batch_order`). ``alpha``: scikit-learn's L2 penalty; each step's
    ``weight_decay`` is ``alpha`` over the batch's rows (over its ``Σ w`` with weights), and the
    penalty ``alpha/(2 Σw) ||W||²`` of the weights before each step is summed as the loss is
    (:attr:`Epoch.penalty`). ``weights``: per-sample weights in each batch's loss and gradients.

    A non-finite loss or parameter sends the network back to the epoch's start, and the epoch is
    replayed step by step to the last finite step, where the network and optimizer state stay
    (:attr:`Epoch.failed` names the step after it). Used by :func:`fit` and by the estimators.
    """
    net, xp = trainer.net, trainer.net.xp
    mean = net.loss_fn.reduction == "mean"
    n = X.shape[0]
    start = (trainer.kept_parameters(), snapshot(trainer.state, xp))
    batches = _batches(X, Y, batch, shuffle, rng, net.device, xp, weights)
    total, penalties, errors, steps = _steps(trainer, batches, mean, count_errors, interrupt, alpha)
    cut = steps < len(batches)  # Ctrl-C ended the epoch after `steps` steps
    loss = penalty = None
    if cut:  # the steps that ran must not have diverged either (one read)
        finite = bool(_all_finite([total, *net.parameters], xp))
    else:
        summary = [total / n if mean else total, _all_finite(net.parameters, xp)]
        if penalties is not None:
            summary.append(penalties / n if mean else penalties)
        if errors is not None:
            summary.append(errors)
        values = _backend.to_numpy(xp.stack([xp.astype(v, net.dtype) for v in summary]))
        loss = float(values[0])
        finite = math.isfinite(loss) and values[1] == 1
        penalty = float(values[2]) if penalties is not None else None
        errors = int(values[-1]) if errors is not None else None
    if finite:
        return Epoch(loss, errors, steps, cut, None, penalty)
    assign(net.layers, start[0])  # back to the epoch's start, then step by step
    trainer.state = start[1]
    failed, replayed, replayed_penalties = _replay(trainer, batches[:steps], mean, alpha)
    if failed is None and not cut:
        # every step finite: only the epoch's sum overflowed the network's dtype; the epoch's
        # loss from the steps' own losses, summed in float64
        loss = math.fsum(replayed) / n if mean else math.fsum(replayed)
        if alpha is not None:
            penalty = math.fsum(replayed_penalties) / n if mean else math.fsum(replayed_penalties)
    return Epoch(loss, errors, steps, cut, failed, penalty)
