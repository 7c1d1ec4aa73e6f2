"""What the command line keeps in a model file beside the network, and reads back: the one place
where it meets :mod:`xpbackprop.io`.

:class:`ModelInfo` is what the command line knows about a model's data: the label of each class,
the training file's feature names and its label column. Today's model files keep the classes
(``xb.save(..., classes=)``, :func:`xpbackprop.saved_classes`), one label per output; feature
names and the label column wait for the file format to hold them, and are ``None`` when read
(``predict`` then matches a file's columns by their count, not their names).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import xpbackprop as xb

__all__ = ["ModelInfo", "class_labels", "read_model", "unkept", "write_model"]


@dataclass
class ModelInfo:
    """``classes``: the label of each class in the order of the network's classes (``None``: the
    classes are the whole numbers ``0..k-1`` themselves); ``features``: the names of the inputs in
    their order; ``label``: the name of the training file's label column."""

    classes: list[Any] | None = None
    features: list[str] | None = None
    label: str | None = None


def _storable_classes(net: Any, info: ModelInfo) -> bool:
    """Whether today's file format keeps ``info.classes`` for ``net``: one label per output."""
    return info.classes is not None and len(info.classes) == net.n_outputs


def unkept(net: Any, info: ModelInfo) -> str | None:
    """What of ``info`` a model file of ``net`` would lose and ``predict`` needs (checked before
    training, so that nothing is trained in vain), or ``None``. Feature names and the label column
    are not needed: ``predict`` matches columns by their count without them."""
    if info.classes is None or _storable_classes(net, info):
        return None
    if list(info.classes) == [0, 1]:  # a sigmoid unit's own outputs
        return None
    return (f"a model file keeps one class label per output, and a one-unit sigmoid network has one "
            f"output for the two classes {info.classes}")


def write_model(net: Any, path: str | os.PathLike[str], info: ModelInfo) -> None:
    """Write ``net`` with what the file format keeps of ``info``."""
    xb.save(net, path, classes=info.classes if _storable_classes(net, info) else None)


def read_model(path: str | os.PathLike[str], backend: str = "numpy",
               device: Any = None) -> tuple[Any, ModelInfo]:
    """The network in the model file ``path`` on ``backend`` / ``device``, and what the file knows
    of its data."""
    net = xb.load(path, backend=backend, device=device)
    return net, ModelInfo(classes=xb.saved_classes(path))


def class_labels(net: Any, info: ModelInfo) -> list[Any] | None:
    """The label of each class a classifier predicts (``0..k-1`` where the file names none; ``0, 1``
    for one sigmoid unit), or ``None`` for a network that gives values."""
    if not net.is_classifier:
        return None
    if info.classes is not None:
        return list(info.classes)
    return [0, 1] if net.n_outputs == 1 else list(range(net.n_outputs))
