"""Dropout masks: drawn on the host from a seeded generator, then moved to the network's backend.

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
from .layers import Layer, shape_after

__all__ = ["draw_masks"]


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
