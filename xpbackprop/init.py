"""Seeded initialisation on the host: one seed, the same initial weights on every backend.

Weights are drawn in float64 from ``numpy.random.default_rng(seed)`` and only
then cast and moved to the backend, so a float32 and a float64 network from
the same seed agree to float32 rounding, and every backend gets identical bits.

Scheme, chosen by the activation that follows the layer (skipping ``Flatten``):

==========================================  ==========================================
activation after the layer                  ``W ~ U(-r, r)``
==========================================  ==========================================
relu, leaky_relu, gelu, softplus            He: ``r = √(6 / fan_in)``
sigmoid                                     Glorot for the logistic: ``r = √(2 / (fan_in + fan_out))``
tanh, identity, softmax, none               Glorot: ``r = √(6 / (fan_in + fan_out))``
==========================================  ==========================================

(Glorot & Bengio 2010; He et al. 2015; the sigmoid factor is scikit-learn's.)
Biases start at zero. ``fan_in``/``fan_out`` are ``n_in``/``n_out`` for Dense and
``in_channels·K``/``out_channels·K`` for Conv1D.

:func:`sklearn_parameters` is scikit-learn's MLP start instead, for the estimators of
:mod:`xpbackprop.sklearn`: every weight *and* bias from ``U(±√(factor/(fan_in + fan_out)))``,
drawn W then b layer by layer from a ``numpy.random.RandomState``. It is the one place the
library draws from a ``RandomState`` rather than a ``Generator``: scikit-learn's estimators are
seeded with one (``random_state``), and only its draws, in its order, give its start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .layers import Activation, Conv1D, Dense, Flatten, Layer

__all__ = [
    "batch_order",
    "glorot_factor",
    "host_rng",
    "init_bound",
    "initial_parameters",
    "skip_initial_parameters",
    "sklearn_parameters",
]

_HE = {"relu", "leaky_relu", "gelu", "softplus"}


def init_bound(fan_in: int, fan_out: int, activation: str | None) -> float:
    """Half-width ``r`` of the uniform distribution for weights followed by ``activation``."""
    if activation in _HE:
        return float(np.sqrt(6.0 / fan_in))
    factor = 2.0 if activation == "sigmoid" else 6.0
    return float(np.sqrt(factor / (fan_in + fan_out)))


def _fans(layer: Layer) -> tuple[int, int]:
    if isinstance(layer, Dense):
        return layer.n_in, layer.n_out
    if isinstance(layer, Conv1D):
        k = layer.kernel_size
        return layer.in_channels * k, layer.out_channels * k
    raise TypeError(f"no initialisation rule for {type(layer).__name__}")


def _following_activation(layers: Sequence[Layer], i: int) -> str | None:
    for layer in layers[i + 1 :]:
        if isinstance(layer, Activation):
            return layer.name
        if not isinstance(layer, Flatten):
            return None
    return None


def initial_parameters(
    layers: Sequence[Layer], seed: int | np.random.Generator | None
) -> list[dict[str, np.ndarray]]:
    """Float64 host arrays ``{"W": ..., "b": ...}`` for each parametric layer, in order."""
    rng = np.random.default_rng(seed)
    out = []
    for i, layer in enumerate(layers):
        if not layer.params:
            continue
        shapes = layer.param_shapes()
        r = init_bound(*_fans(layer), _following_activation(layers, i))
        out.append({"W": rng.uniform(-r, r, size=shapes["W"]), "b": np.zeros(shapes["b"])})
    return out


def skip_initial_parameters(layers: Sequence[Layer], rng: np.random.Generator) -> None:
    """Leave ``rng`` where :func:`initial_parameters` would have left it, without drawing the arrays
    (a network given its parameters): a PCG64 generator jumps ahead by one 64-bit draw per weight
    (what ``uniform`` takes per value; biases take none), any other draws and drops one layer's
    weights at a time."""
    counts = [math.prod(layer.param_shapes()["W"]) for layer in layers if layer.params]
    if type(rng.bit_generator).__name__ in ("PCG64", "PCG64DXSM"):
        rng.bit_generator.advance(sum(counts))
        return
    for n in counts:
        rng.uniform(size=n)


def glorot_factor(activation: str | None) -> float:
    """scikit-learn's factor in ``r = √(factor / (fan_in + fan_out))``: 2 for the logistic, else 6."""
    return 2.0 if activation in ("sigmoid", "logistic") else 6.0


def sklearn_parameters(sizes: Sequence[int], factors: Sequence[float],
                       random_state: np.random.RandomState) -> list[dict[str, np.ndarray]]:
    """scikit-learn's MLP start as float64 host arrays ``{"W": ..., "b": ...}``, one per layer.

    For each layer ``k`` in turn, ``W`` of shape ``(sizes[k], sizes[k+1])`` and then ``b`` of shape
    ``(sizes[k+1],)`` from ``U(-r, r)``, ``r = √(factors[k] / (sizes[k] + sizes[k+1]))``, drawn by
    ``random_state`` (a ``RandomState``, advanced by the draws as scikit-learn's is).
    """
    if len(factors) != len(sizes) - 1:
        raise ValueError(f"one factor per layer: {len(sizes) - 1} layers, got {len(factors)} factors")
    out = []
    for fan_in, fan_out, factor in zip(sizes[:-1], sizes[1:], factors):
        r = np.sqrt(factor / (fan_in + fan_out))
        W = random_state.uniform(-r, r, (fan_in, fan_out))
        b = random_state.uniform(-r, r, fan_out)
        out.append({"W": W, "b": b})
    return out


def host_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """The seeded host generator that draws initial weights and batch orders."""
    return np.random.default_rng(seed)


def batch_order(rng: np.random.Generator, n: int, shuffle: bool) -> np.ndarray | None:
    """A permutation of ``range(n)`` for one epoch, or ``None`` for the data's own order.

    ``rng`` is anything with ``permutation(n)``: the network's ``Generator``, or an order of one's
    own (the estimators' is scikit-learn's, composed epoch after epoch from its ``RandomState``)."""
    return rng.permutation(n) if shuffle else None
