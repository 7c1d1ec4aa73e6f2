"""What ``fit`` returns and raises: the per-epoch :class:`History`, divergence and interruption."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DivergenceError", "DivergenceWarning", "History", "TrainingInterrupted"]


class DivergenceError(FloatingPointError):
    """Training produced a non-finite loss or parameter; the network keeps its last finite state.

    ``epoch`` and ``step`` (both from 1) locate the first step that went non-finite;
    ``trainer`` is the :class:`~xpbackprop.Trainer` with the optimizer state of the last finite
    step, so ``error.trainer.step(...)`` continues from there (with a smaller ``trainer.lr``).
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
    ``lr``: the learning rate of each epoch. ``stop_reason``: why training stopped
    (``"epochs"``, ``"goal"``, ``"zero_errors"``, ``"early_stopping"``, ``"callback"``,
    ``"interrupted"``, ``"diverged"``; ``"write_failed"`` in the ``history`` of the ``OSError`` of a
    checkpoint that could not be written). ``best_epoch``: the epoch of the best validation loss.
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
