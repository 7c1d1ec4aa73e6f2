"""Dropout masks (and rates): drawn on the host from a seeded generator, then moved to the network's backend.

A mask is ``M = [U ≥ p] / (1 - p)`` with ``U`` uniform on [0, 1), one entry per entry of the
:class:`~xpbackprop.layers.Dropout` layer's input. Drawing on the host (like the initial weights
and the batch order, :mod:`xpbackprop.init`) makes the same seed draw the same masks on every
backend, whatever random numbers the backend itself has (or lacks), and lets a compiled step
(JAX) take the masks as arguments instead of baking one draw into its trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .backend import to_backend
from .layers import Dropout, Layer, shape_after

__all__ = ["draw_masks", "dropout_rates"]


def draw_masks(layers: Sequence[Layer], rng: np.random.Generator, input_shape: tuple[int, ...], *,
               xp: Any, dtype: Any, device: Any) -> list[Any] | None:
    """One mask per stochastic layer (``None`` in the other layers' places), for a batch of inputs
    of shape ``input_shape``; ``None`` when no layer draws one (a rate of 0 draws nothing).

    The masks are drawn in layer order from ``rng``, in float64, then cast to ``dtype``:
    ``1 / (1 - p)`` rounds the same way on every backend."""
    if not any(layer.stochastic and layer.rate > 0 for layer in layers):
        return None
    masks: list[Any] = []
    n, sample = input_shape[0], tuple(input_shape[1:])
    for i, layer in enumerate(layers):
        if not (layer.stochastic and layer.rate > 0):
            masks.append(None)
            continue
        shape = (n, *shape_after(layers[:i], sample))
        keep = rng.random(shape) >= layer.rate
        masks.append(to_backend(keep / (1.0 - layer.rate), xp, dtype=dtype, device=device))
    return masks


def dropout_rates(dropout: Any, n_hidden: int) -> list[float]:
    """One dropout rate per hidden layer from ``MLP(dropout=...)`` (each checked by ``Dropout``)."""
    if isinstance(dropout, (str, bytes)) or not isinstance(dropout, (int, float, Sequence)):
        raise TypeError(f"dropout must be a rate in [0, 1) or a list of rates, one per hidden layer, "
                        f"got {type(dropout).__name__} {dropout!r}")
    if not isinstance(dropout, Sequence) and n_hidden == 0 and dropout:
        raise ValueError(f"dropout={dropout!r} but the network has no hidden layer to apply it to")
    rates = [dropout] * n_hidden if not isinstance(dropout, Sequence) else list(dropout)
    if len(rates) != n_hidden:
        raise ValueError(f"dropout lists {len(rates)} rates but the network has {n_hidden} hidden layers")
    return [Dropout(rate).rate for rate in rates]
