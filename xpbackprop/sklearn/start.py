"""scikit-learn's start, and what it draws from the same ``RandomState``.

scikit-learn makes ``check_random_state(random_state)`` at every ``fit`` and ``partial_fit`` call
and draws from it, in this order: the initial weights of a new network (every ``W`` then ``b``,
layer by layer: :func:`xpbackprop.init.sklearn_parameters`), the ``early_stopping`` validation
split, and each epoch's shuffle. The estimators draw the same numbers in the same order, so that
the same ``random_state`` gives scikit-learn's start, split and batches. This is the one place the
library draws from a ``RandomState`` (see :mod:`xpbackprop.init`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import shuffle

from .. import backend as _backend
from ..epochs import SampleWeights
from ..init import glorot_factor, sklearn_parameters
from ..mlp import MLP

__all__ = ["SampleOrder", "checked_weights", "device_weights", "new_network", "validation_split"]


def new_network(sizes: list[int], hidden: list[str], output: str, loss: Any, random_state: Any, *,
                backend: str, device: Any, dtype: str) -> MLP:
    """An :class:`xpbackprop.MLP` started as scikit-learn starts its MLP from ``random_state``.

    scikit-learn's factor follows its one hidden activation for every layer; with a list of
    activations each layer takes the factor of the activation after it, the output layer that of
    the last hidden layer.
    """
    names = [*hidden, hidden[-1] if hidden else "identity"]
    host = sklearn_parameters(sizes, [glorot_factor(name) for name in names], random_state)
    net = MLP(sizes, hidden=hidden, output=output, loss=loss, backend=backend, device=device,
              dtype=dtype, seed=0)
    net.set_parameters([p["W"] for p in host], [p["b"] for p in host])
    return net


class SampleOrder:
    """scikit-learn's epoch order: each epoch shuffles the previous epoch's order
    (``sklearn.utils.shuffle``, from the estimator's ``RandomState``). :func:`xpbackprop.epochs.run_epoch`
    asks it for ``permutation(n)``; a new one starts from ``range(n)`` at every call, as scikit-learn's
    ``sample_idx`` does."""

    def __init__(self, random_state: np.random.RandomState) -> None:
        self.random_state = random_state
        self.order: np.ndarray | None = None

    def permutation(self, n: int) -> np.ndarray:
        if self.order is None or self.order.shape[0] != n:
            self.order = np.arange(n, dtype=int)
        self.order = shuffle(self.order, random_state=self.random_state)
        return self.order


def validation_split(n: int, fraction: float, random_state: Any, stratify: Any) -> tuple[Any, Any]:
    """``(train rows, validation rows)``: scikit-learn's ``train_test_split`` of ``range(n)`` from the
    estimator's ``RandomState`` (the same draws as splitting the data), stratified by ``stratify``
    (host labels, or ``None``)."""
    train, val = train_test_split(np.arange(n), random_state=random_state, test_size=fraction,
                                  stratify=stratify)
    if val.shape[0] < 2:
        raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size of "
                         f"your dataset (validation_fraction={fraction}, {n} samples).")
    return train, val


def checked_weights(sample_weight: Any, n: int, dtype: Any) -> np.ndarray | None:
    """``sample_weight`` as a host array ``(n,)`` of the data's float dtype (one read for an array
    library's weights): a number is every sample's weight; ``None`` stays ``None``. ``TypeError`` or
    ``ValueError`` naming ``sample_weight`` for anything else, or NaN or infinity."""
    if sample_weight is None:
        return None
    host = np.asarray(_backend.to_numpy(sample_weight) if _backend.library_of(sample_weight) in
                      _backend.BACKENDS else sample_weight)
    if host.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold real numbers, got dtype {host.dtype}")
    if host.ndim == 0:
        host = np.full(n, host.item())
    if host.ndim != 1:
        raise ValueError(f"Sample weights must be 1D array or scalar, got shape {host.shape}")
    if host.shape != (n,):
        raise ValueError(f"sample_weight.shape == {host.shape}, expected {(n,)}!")
    host = host.astype(dtype)
    if not np.all(np.isfinite(host)):
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if not np.any(host != 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return host


def device_weights(host: np.ndarray | None, rows: np.ndarray | None, net: Any) -> SampleWeights | None:
    """The weights of ``rows`` (all rows for ``None``) for :func:`xpbackprop.epochs.run_epoch`: on the
    network's device, and on the host."""
    if host is None:
        return None
    host = host if rows is None else host[rows]
    return SampleWeights(_backend.to_backend(host, net.xp, dtype=net.dtype, device=net.device), host)
