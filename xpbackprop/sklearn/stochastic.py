"""scikit-learn's stochastic solvers (``"sgd"``, ``"adam"``): its epoch loop over
:func:`xpbackprop.epochs.run_epoch`.

Per epoch, as scikit-learn's ``_fit_stochastic``: the steps (with the L2 penalty over each batch's
rows or ``Σ w``, in the gradients and in the loss), the loss recorded, the no-improvement count on
the training loss or (``early_stopping``) the validation score, the ``invscaling`` rate, and after
more than ``n_iter_no_change`` epochs without improvement either a stop or, for the ``adaptive``
schedule, the rate divided by 5 (stopping once it is at most 1e-6). Each epoch reads back once,
and once more for the validation score.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sklearn.exceptions import ConvergenceWarning

from ..backprop import assign, forward
from ..epochs import Epoch, SampleWeights, run_epoch
from ..guards import InterruptFlag
from ..optimizers import SGD, Adam, Schedule
from ..trainer import Trainer

__all__ = ["Progress", "Run", "new_trainer", "train"]


@dataclass
class Progress:
    """What scikit-learn keeps between epochs and across warm-started fits: the epochs in a row
    without improvement, and the parameters at the best validation score (at first the initial
    ones)."""

    count: int = 0
    best_parameters: list[Any] | None = None


@dataclass
class Run:
    """One call's training data: on the device and encoded, with its weights and epoch order;
    ``validation`` is ``(X_val on the device, score(A_val) -> float)`` with ``early_stopping``;
    ``scale`` divides the data loss as scikit-learn reports it (the outputs, for squared error)."""

    X: Any
    Y: Any
    weights: SampleWeights | None
    batch: int
    order: Any
    validation: tuple[Any, Callable[[Any], float]] | None
    scale: float


def new_trainer(est: Any, net: Any) -> tuple[Trainer, Schedule]:
    """scikit-learn's optimizer for ``est.solver`` (Adam with ε on ``√v``, as scikit-learn adds it)
    and the rate schedule of ``"invscaling"`` (``"sgd"`` only, as in scikit-learn)."""
    if est.solver == "adam":
        optimizer: Any = Adam(est.beta_1, est.beta_2, est.epsilon, eps_on="v")
    else:
        optimizer = SGD(momentum=est.momentum, nesterov=bool(est.nesterovs_momentum))
    kind = "invscaling" if est.solver == "sgd" and est.learning_rate == "invscaling" else "constant"
    return (Trainer(net, est.learning_rate_init, optimizer),
            Schedule(kind, est.learning_rate_init, power_t=est.power_t))


def train(est: Any, trainer: Trainer, schedule: Schedule, progress: Progress, run: Run, *,
          incremental: bool) -> None:
    """Up to ``max_iter`` epochs (one for ``partial_fit``), setting ``est``'s fitted attributes as
    scikit-learn does: ``n_iter_`` counts this call's epochs, ``t_`` and ``loss_curve_`` go on."""
    est.n_iter_ = 0
    alpha = float(est.alpha) or None
    with InterruptFlag() as interrupt:
        for _ in range(est.max_iter):
            if est.shuffle and run.batch >= run.X.shape[0]:
                # scikit-learn shuffles a single batch too: the same draws (the rows' order in one
                # batch changes only the order of its sums)
                run.order.permutation(run.X.shape[0])
            epoch = run_epoch(trainer, run.X, run.Y, batch=run.batch, shuffle=bool(est.shuffle),
                              rng=run.order, interrupt=interrupt, alpha=alpha, weights=run.weights)
            if epoch.cut:
                warnings.warn("Training interrupted by user.", UserWarning, stacklevel=4)
                break
            _record(est, epoch, run, trainer.lr)
            _count(est, trainer, progress, run)
            if schedule.kind == "invscaling":
                trainer.lr = schedule.epoch_end(est.loss_, est.t_)
            if progress.count > est.n_iter_no_change:
                if _stops(est, trainer):
                    break
                progress.count = 0
            if incremental:
                break
            if est.n_iter_ == est.max_iter:
                warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and the "
                              "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=4)
    if est.early_stopping and progress.best_parameters is not None:
        assign(trainer.net.layers, progress.best_parameters)


def _record(est: Any, epoch: Epoch, run: Run, lr: float) -> None:
    """The epoch's loss, scikit-learn's: the data loss (over ``scale``) plus the L2 penalty."""
    if epoch.failed is not None or epoch.loss is None or not math.isfinite(epoch.loss):
        where = f", step {epoch.failed}" if epoch.failed is not None else ""
        raise ValueError(f"training diverged in epoch {est.n_iter_ + 1}{where}: the solver produced "
                         "non-finite parameter weights. The input data may contain large values and need "
                         f"to be preprocessed, or learning_rate_init may be too large (the rate was {lr:g}).")
    loss = epoch.loss / run.scale + (epoch.penalty or 0.0)
    est.n_iter_ += 1
    est.loss_ = loss
    est.t_ += run.X.shape[0]
    est.loss_curve_ = [*est.loss_curve_, loss]  # a new list: a failed call puts the old one back
    if est.verbose:
        print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")


def _count(est: Any, trainer: Trainer, progress: Progress, run: Run) -> None:
    """scikit-learn's no-improvement count: on the validation score with ``early_stopping`` (whose
    best parameters are kept), else on the training loss."""
    if run.validation is None:
        loss = est.loss_curve_[-1]
        progress.count = progress.count + 1 if loss > est.best_loss_ - est.tol else 0
        est.best_loss_ = min(est.best_loss_, loss)
        return
    X_val, score_of = run.validation
    score = score_of(forward(trainer.net.layers, X_val, xp=trainer.net.xp)[0])
    est.validation_scores_ = [*est.validation_scores_, score]
    if est.verbose:
        print(f"Validation score: {score:f}")
    progress.count = progress.count + 1 if score < est.best_validation_score_ + est.tol else 0
    if score > est.best_validation_score_:
        est.best_validation_score_ = score
        progress.best_parameters = trainer.kept_parameters()


def _stops(est: Any, trainer: Trainer) -> bool:
    """scikit-learn's ``trigger_stopping``: stop, or for ``"adaptive"`` SGD divide the rate by 5 (stop
    once it is at most 1e-6)."""
    what = "Validation score" if est.early_stopping else "Training loss"
    message = (f"{what} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} consecutive "
               "epochs.")
    if est.solver != "sgd" or est.learning_rate != "adaptive":
        stop = " Stopping."
    elif trainer.lr <= 1e-6:
        stop = " Learning rate too small. Stopping."
    else:
        trainer.lr = trainer.lr / 5.0
        stop = ""
    if est.verbose:
        print(message + (stop or f" Setting learning rate to {trainer.lr:f}"))
    return bool(stop)
