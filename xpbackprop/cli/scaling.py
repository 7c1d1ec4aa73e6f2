"""Feature (and target) standardisation, and folding it into the network's first (and last) layer,
so that a saved model takes raw features and gives targets in their own units."""

from __future__ import annotations

from typing import Any

import numpy as np

import xpbackprop as xb

__all__ = ["fold_standardization", "standardization"]


def standardization(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, scale)`` of each column of ``values`` (the training rows only); a constant column
    keeps scale 1."""
    mean = values.mean(axis=0)
    scale = values.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def fold_standardization(net: Any, mean: np.ndarray, scale: np.ndarray,
                         y_mean: np.ndarray | None = None, y_scale: np.ndarray | None = None) -> None:
    """Fold ``X' = (X - mean)/scale`` into the first Dense layer (and ``y = y'·y_scale + y_mean``
    into the last) so that ``net`` applied to raw ``X`` gives what it gave on scaled ``X``.

    ``Z = ((X - μ)/s) W + b = X (W/s) + (b - (μ/s) W)``: ``W' = W / s`` (row by row),
    ``b' = b - (μ/s) W``. An identity output ``Y' = A W + b`` with ``Y = Y' σ_y + μ_y`` becomes
    ``W' = W σ_y`` (column by column), ``b' = b σ_y + μ_y``. Computed in float64 on the host.
    """
    first, last = net.param_layers[0], net.param_layers[-1]
    if not isinstance(first, xb.Dense):
        raise TypeError(f"folding a feature scaling needs a Dense first layer, got {first!r}")
    weights = [xb.to_numpy(W).astype(np.float64) for W in net.weights]
    biases = [xb.to_numpy(b).astype(np.float64) for b in net.biases]
    weights[0], biases[0] = weights[0] / scale[:, None], biases[0] - (mean / scale) @ weights[0]
    if y_mean is not None and y_scale is not None:
        if not isinstance(last, xb.Dense) or net.output_activation != "identity":
            raise TypeError("folding a target scaling needs a Dense output layer with identity activation")
        weights[-1], biases[-1] = weights[-1] * y_scale[None, :], biases[-1] * y_scale + y_mean
    net.set_parameters(weights, biases)
