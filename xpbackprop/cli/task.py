"""Classification or regression, and the targets, outputs and loss that go with it.

``--task auto`` decides from the labels and says so where it is not plain:

- labels that are names, or whole numbers with at most :data:`MAX_AUTO_CLASSES` distinct values,
  are classes;
- labels that are not all whole numbers are a continuous target: regression, with a note;
- whole numbers with more distinct values than that are regression when there are fewer than
  :data:`MIN_ROWS_PER_CLASS` rows per value (too few to learn a class from: scikit-learn's diabetes
  target, 214 values in 442 rows), else refused with a message that names ``--task``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..activations import get_activation
from .common import CommandError

__all__ = ["MAX_AUTO_CLASSES", "MIN_ROWS_PER_CLASS", "Targets", "choose_task", "describe", "encode",
           "output_and_loss"]

#: ``--task auto``: at most this many distinct whole numbers are classes without further question
MAX_AUTO_CLASSES = 20
#: ``--task auto``: more distinct whole numbers than that, with fewer rows per value, are a quantity
MIN_ROWS_PER_CLASS = 5
#: labels that are whole numbers in [0, this] are their own class indices, so that ``predict`` answers
#: in the labels of the training file
MAX_IDENTITY_LABEL = 255


@dataclass
class Targets:
    """What the network is trained against: ``values`` (class indices, a 0/1 column for one sigmoid
    unit, or float targets ``(N, 1)``), the number of outputs, and the label of each class (``None``
    where the classes are the indices themselves, or for regression)."""

    task: str
    values: np.ndarray
    n_outputs: int
    classes: list[Any] | None


def _is_numeric(y: np.ndarray) -> bool:
    return y.dtype.kind in "biuf"


def choose_task(y: np.ndarray, requested: str, source: str) -> tuple[str, str | None]:
    """``(task, note)``: the task ``requested``, or the one ``auto`` finds, with the line that says
    why where the choice is not plain (``None`` otherwise)."""
    if requested != "auto":
        return requested, None
    if not _is_numeric(y):
        return "classification", None
    whole = np.all(y == np.round(y))
    if not whole:
        example = y[np.flatnonzero(y != np.round(y))[0]]
        return "regression", (f"{source}: the target is continuous (values such as {example:g} are not "
                              "whole numbers): regression (--task chooses)")
    distinct = len(np.unique(y))
    if distinct <= MAX_AUTO_CLASSES:
        return "classification", None
    if len(y) < MIN_ROWS_PER_CLASS * distinct:
        return "regression", (f"{source}: {distinct} distinct whole-number targets in {len(y)} rows "
                              f"(fewer than {MIN_ROWS_PER_CLASS} rows per value): regression "
                              "(--task classification makes them classes)")
    raise CommandError(f"{source}: the target has {distinct} distinct whole numbers: classes or a quantity? "
                       "say --task classification or --task regression")


def output_and_loss(task: str, output: str | None, loss: str | None) -> tuple[str, str]:
    """The output activation and the loss: the defaults of ``task`` where not given (a sigmoid
    output's loss is binary cross-entropy), and the output checked against the task."""
    given = output
    if task == "regression":
        output = get_activation(output)[0] if output else "identity"
        if output in ("softmax", "sigmoid"):
            raise CommandError(
                f"--task regression needs an output that gives values, not classes: --output-activation "
                f"{given!r} is a classifier's (its predictions are labels, its score accuracy); use "
                "identity (the default for regression) or, for targets in a range, tanh")
        return output, loss or "mse"
    output = get_activation(output)[0] if output else "softmax"
    if output not in ("softmax", "sigmoid"):
        raise CommandError(f"classification needs an output that gives classes: softmax, or sigmoid for "
                           f"two classes; --output-activation {given!r} gives values (--task regression "
                           "for those)")
    return output, loss or ("bce" if output == "sigmoid" else "cross_entropy")


def encode(y: np.ndarray, task: str, output: str, source: str) -> Targets:
    """The targets of ``y`` for ``task`` and the output activation ``output``."""
    if task == "regression":
        return Targets(task, _numbers(y, source).reshape(-1, 1), 1, None)
    if _is_numeric(y) and not np.all(y == np.round(y)):
        bad = y[np.flatnonzero(y != np.round(y))[0]]
        raise CommandError(f"{source}: class labels must be whole numbers or names, got {bad!r}; "
                           "for numeric targets use --task regression")
    classes, labels = np.unique(y, return_inverse=True)
    names = [c.item() if hasattr(c, "item") else c for c in classes]
    names = [int(c) if isinstance(c, float) else c for c in names]
    if len(names) < 2:
        raise CommandError(f"{source}: every label is {names[0]!r}; classification needs two classes")
    if output == "sigmoid":
        if len(names) != 2:
            raise CommandError(f"{source}: --output-activation sigmoid is one unit for two classes; the "
                               f"labels hold {len(names)} classes: use softmax (the default)")
        return Targets(task, labels.astype(np.float64), 1, None if names == [0, 1] else names)
    if _is_numeric(y) and y.min() >= 0 and y.max() <= MAX_IDENTITY_LABEL:
        indices = y.astype(np.int64)
        return Targets(task, indices, max(int(indices.max()) + 1, 2), None)
    return Targets(task, labels.astype(np.int64), len(names), names)


def _numbers(y: np.ndarray, source: str) -> np.ndarray:
    """``y`` as float64, or ``CommandError`` naming the first label that is not a finite number."""
    if not _is_numeric(y):
        for row, value in enumerate(y):
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise CommandError(f"{source}: regression needs numeric labels, got {str(value)!r} "
                                   f"(data row {row + 1}), which is not a finite number")
    return y.astype(np.float64)


def describe(targets: Targets, output: str) -> str:
    """The task in a few words: ``regression``, or the classes and what the outputs stand for."""
    if targets.task == "regression":
        return "regression"
    if output == "sigmoid":
        negative, positive = targets.classes or [0, 1]
        return f"2 classes (one sigmoid unit: A > ½ is {positive}, else {negative})"
    if targets.classes is None:
        return f"{targets.n_outputs} classes"
    shown = ", ".join(f"{i}={c}" for i, c in enumerate(targets.classes[:12]))
    more = ", ..." if len(targets.classes) > 12 else ""
    return f"{targets.n_outputs} classes (network outputs {shown}{more})"
