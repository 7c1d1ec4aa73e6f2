"""What the command line keeps in a model file beside the network, and reads back: the one place
where it meets :mod:`xpbackprop.io`.

:class:`ModelInfo` is what the command line knows about a model's data: the label of each class,
the training file's feature names (its header) and its label column. The model file keeps all
three (``xb.save(..., classes=, features=, label=)``; ``xb.load`` sets them as the network's
``classes``, ``features`` and ``label``): ``predict`` prints the labels and matches a CSV file's
columns to the features by name. A file of an earlier format, or a model trained on data without
a header, has no names: ``predict`` then matches the columns by their count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import xpbackprop as xb

from ..predictions import check_classes, check_features, check_label

__all__ = ["ModelInfo", "class_labels", "read_model", "unkept", "write_model"]


@dataclass
class ModelInfo:
    """``classes``: the label of each class in the order of the network's classes (``None``: the
    classes are the whole numbers ``0..k-1`` themselves); ``features``: the names of the inputs in
    their order; ``label``: the name of the training file's label column."""

    classes: list[Any] | None = None
    features: list[str] | None = None
    label: str | None = None


def unkept(net: Any, info: ModelInfo) -> str | None:
    """Why a model file of ``net`` could not keep ``info`` (checked before training, so that nothing
    is trained in vain: the checks of ``xb.save``), or ``None``."""
    try:
        check_classes(info.classes, net.layers)
    except (TypeError, ValueError) as exc:
        return f"the model file cannot keep the class labels: {exc}"
    try:
        check_label(info.label, check_features(info.features, net.layers))
    except (TypeError, ValueError) as exc:
        return (f"the model file cannot keep the data's column names ({exc}); give each column its own "
                "non-empty name in the header")
    return None


def write_model(net: Any, path: str | os.PathLike[str], info: ModelInfo) -> None:
    """Write ``net`` with ``info``."""
    xb.save(net, path, classes=info.classes, features=info.features, label=info.label)


def read_model(path: str | os.PathLike[str], backend: str = "numpy",
               device: Any = None) -> tuple[Any, ModelInfo]:
    """The network in the model file ``path`` on ``backend`` / ``device``, and what the file knows
    of its data."""
    net = xb.load(path, backend=backend, device=device)
    return net, ModelInfo(classes=net.classes, features=net.features, label=net.label)


def class_labels(net: Any, info: ModelInfo) -> list[Any] | None:
    """The label of each class a classifier predicts (``0..k-1`` where the file names none; ``0, 1``
    for one sigmoid unit), or ``None`` for a network that gives values."""
    if not net.is_classifier:
        return None
    count = 2 if net.n_outputs == 1 else net.n_outputs
    if info.classes is not None and len(info.classes) == count:  # not labels that name a sigmoid unit
        return list(info.classes)
    return list(range(count))
