"""Class labels: NumPy for host data, the array's own namespace for an array library's labels.

Host labels of any kind (strings too) are encoded with ``numpy.unique``; labels given as an array
of torch, JAX, CuPy or array-api-strict stay in that library (``classes_`` and predictions too).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import adapters
from .. import backend as _backend
from ..backend import device_of
from .hosts import is_host

__all__ = ["as_namespace", "check_label_values", "encode", "same", "unique"]


def unique(y: Any) -> Any:
    """The sorted distinct labels of ``y``, in its namespace (NumPy for host data)."""
    if isinstance(y, np.ndarray) or is_host(y):
        return np.unique(np.asarray(y))
    xp = _backend.array_namespace(y)
    return adapters.for_namespace(xp).known_shape(xp.unique_values(y))


def check_label_values(y: Any) -> None:
    """Class labels of an array library: integers, bools, or floats holding whole numbers."""
    xp = _backend.array_namespace(y)
    if xp.isdtype(y.dtype, "real floating") and bool(xp.any(y != xp.floor(y))):
        raise ValueError("Unknown label type: continuous. y holds floats that are not whole numbers; "
                         "a classifier needs class labels (use MLPRegressor for continuous targets)")


def as_namespace(values: Any, like: Any) -> Any:
    """``values`` (host data, or already an array of ``like``'s library) as an array like ``like``."""
    xp = _backend.array_namespace(like)
    return values if not is_host(values) else xp.asarray(np.asarray(values), device=device_of(like))


def same(a: Any, b: Any) -> bool:
    """Whether two label arrays (of any libraries) hold the same labels in the same order."""
    a, b = _backend.to_numpy(a), _backend.to_numpy(b)
    return a.shape == b.shape and bool(np.all(a == b))


def encode(y: Any, classes: Any) -> Any:
    """Class indices of ``y`` in ``classes`` (sorted); ``ValueError`` for labels not among them."""
    if isinstance(classes, np.ndarray):
        y = np.asarray(y)
        index = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
        unknown = classes[index] != y
        if np.any(unknown):
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{classes.tolist()}. 'y' has {np.unique(y[unknown]).tolist()}.")
        return index
    xp = _backend.array_namespace(classes)
    sorted_, values = _comparable(classes, y, xp)
    index = xp.searchsorted(sorted_, values)
    index = xp.clip(index, 0, classes.shape[0] - 1) if hasattr(xp, "clip") else index
    unknown = xp.take(sorted_, index, axis=0) != values
    if bool(xp.any(unknown)):
        extra = np.unique(_backend.to_numpy(y)[_backend.to_numpy(unknown)])
        raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                         f"{_backend.to_numpy(classes).tolist()}. 'y' has {extra.tolist()}.")
    return index


def _comparable(classes: Any, y: Any, xp: Any) -> tuple[Any, Any]:
    """``classes`` and ``y`` in one numeric dtype, for ``searchsorted`` and ``==``: torch and
    array-api-strict search no bools, and array-api-strict promotes no integer with a float
    (``partial_fit(classes=[0, 1, 2])`` with float labels). Bools become 0/1; an integer array
    meeting a float one takes its dtype (the labels are whole numbers, checked before)."""
    if classes.dtype == xp.bool:
        classes = xp.astype(classes, xp.int32)
    if y.dtype == xp.bool:
        y = xp.astype(y, xp.int32)
    if classes.dtype == y.dtype:
        return classes, y
    if xp.isdtype(classes.dtype, "real floating") and not xp.isdtype(y.dtype, "real floating"):
        return classes, xp.astype(y, classes.dtype)
    if xp.isdtype(y.dtype, "real floating") and not xp.isdtype(classes.dtype, "real floating"):
        return xp.astype(classes, y.dtype), y
    common = xp.result_type(classes, y)
    return xp.astype(classes, common), xp.astype(y, common)
