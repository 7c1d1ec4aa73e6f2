"""Activation functions as forward / backward pairs, in the array namespace ``xp`` only.

Every forward is ``A = phi(Z)``; every backward is ``dZ = dA ⊙ phi'(Z)`` and takes
both ``Z`` and ``A`` so that a derivative can use whichever is cheaper
(``sigmoid' = A (1 - A)``, ``tanh' = 1 - A²``, as in scikit-learn's DERIVATIVES).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["ACTIVATIONS", "ALIASES", "FORMULAS", "LEAKY_SLOPE", "OUTPUT_DERIVATIVE", "get_activation"]

Array = Any

#: slope of leaky_relu for Z < 0
LEAKY_SLOPE = 0.01
_GELU_C = math.sqrt(2.0 / math.pi)


def identity(Z, /, *, xp):
    """A = Z."""
    return Z


def identity_backward(dA, Z, A, /, *, xp):
    """dZ = dA."""
    return dA


def sigmoid(Z, /, *, xp):
    """A = 1 / (1 + exp(-Z)), computed from exp(-|Z|) so that it never overflows."""
    E = xp.exp(-xp.abs(Z))
    S = 1.0 / (1.0 + E)
    # For Z < 0, E·S = exp(Z)/(1 + exp(Z)) keeps full relative precision in the tail.
    return xp.where(Z >= 0, S, E * S)


def sigmoid_backward(dA, Z, A, /, *, xp):
    """dZ = dA ⊙ A ⊙ (1 - A)."""
    return dA * A * (1.0 - A)


def tanh(Z, /, *, xp):
    """A = tanh(Z)."""
    return xp.tanh(Z)


def tanh_backward(dA, Z, A, /, *, xp):
    """dZ = dA ⊙ (1 - A²)."""
    return dA * (1.0 - A * A)


def relu(Z, /, *, xp):
    """A = max(Z, 0)."""
    return xp.maximum(Z, 0.0)


def relu_backward(dA, Z, A, /, *, xp):
    """dZ = dA ⊙ [Z > 0], read from the output: A > 0 exactly where Z > 0."""
    return xp.where(A > 0, dA, 0.0)


def leaky_relu(Z, /, *, xp):
    """A = Z for Z > 0, else 0.01 Z."""
    return xp.where(Z > 0, Z, LEAKY_SLOPE * Z)


def leaky_relu_backward(dA, Z, A, /, *, xp):
    """dZ = dA ⊙ (1 for Z > 0, else 0.01), read from the output: A > 0 exactly where Z > 0."""
    return xp.where(A > 0, dA, LEAKY_SLOPE * dA)


def softplus(Z, /, *, xp):
    """A = log(1 + exp(Z)) = max(Z, 0) + log1p(exp(-|Z|)), which never overflows."""
    return xp.maximum(Z, 0.0) + xp.log1p(xp.exp(-xp.abs(Z)))


def softplus_backward(dA, Z, A, /, *, xp):
    """dZ = dA ⊙ σ(Z)."""
    return dA * sigmoid(Z, xp=xp)


def gelu(Z, /, *, xp):
    """A = ½ Z (1 + tanh(√(2/π) (Z + 0.044715 Z³))), the tanh form of GELU.

    The standard has no ``erf``, so this is the tanh approximation
    (PyTorch's ``gelu(approximate="tanh")``).
    """
    return 0.5 * Z * (1.0 + xp.tanh(_GELU_C * (Z + 0.044715 * Z * Z * Z)))


def gelu_backward(dA, Z, A, /, *, xp):
    """dZ = dA ⊙ (½ (1 + T) + ½ Z (1 - T²) √(2/π) (1 + 3·0.044715 Z²)),  T = tanh(√(2/π)(Z + 0.044715 Z³))."""
    Z2 = Z * Z
    T = xp.tanh(_GELU_C * Z * (1.0 + 0.044715 * Z2))
    return dA * (0.5 * (1.0 + T) + 0.5 * Z * (1.0 - T * T) * _GELU_C * (1.0 + 0.134145 * Z2))


def exp(Z, /, *, xp):
    """A = exp(Z): the output of a log link (Poisson regression)."""
    return xp.exp(Z)


def exp_backward(dA, Z, A, /, *, xp):
    """dZ = dA ⊙ A."""
    return dA * A


def softmax(Z, /, *, xp):
    """A = exp(Z - max Z) / Σ_k exp(Z - max Z), row by row.

    Subtracting the row maximum changes nothing mathematically (it cancels in the
    ratio) but keeps exp from overflowing for large logits.
    """
    E = xp.exp(Z - xp.max(Z, axis=1, keepdims=True))
    return E / xp.sum(E, axis=1, keepdims=True)


def softmax_backward(dA, Z, A, /, *, xp):
    """dZ = A ⊙ (dA - Σ_k dA ⊙ A), the Jacobian-vector product of softmax, row by row."""
    return A * (dA - xp.sum(dA * A, axis=1, keepdims=True))


Pair = tuple[Callable[..., Array], Callable[..., Array]]

#: name -> (forward, backward)
ACTIVATIONS: dict[str, Pair] = {
    "identity": (identity, identity_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "relu": (relu, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "softplus": (softplus, softplus_backward),
    "gelu": (gelu, gelu_backward),
    "exp": (exp, exp_backward),
    "softmax": (softmax, softmax_backward),
}

#: name -> (forward, backward) as the notes write them, next to the pairs they describe
#: (``net.summary()`` prints these; tests/test_summary.py checks the keys against ACTIVATIONS)
FORMULAS: dict[str, tuple[str, str]] = {
    "identity": ("A = Z", "dZ = dA"),
    "sigmoid": ("A = σ(Z)", "dZ = dA ⊙ A(1−A)"),
    "tanh": ("A = tanh(Z)", "dZ = dA ⊙ (1−A²)"),
    "relu": ("A = max(Z, 0)", "dZ = dA ⊙ [Z > 0]"),
    "leaky_relu": (f"A = max(Z, {LEAKY_SLOPE:g} Z)", f"dZ = dA ⊙ (1 if Z > 0 else {LEAKY_SLOPE:g})"),
    "softplus": ("A = log(1 + exp(Z))", "dZ = dA ⊙ σ(Z)"),
    "gelu": ("A = ½ Z (1 + T),  T = tanh(√(2/π) (Z + 0.044715 Z³))",
             "dZ = dA ⊙ (½ (1 + T) + ½ Z (1 − T²) √(2/π) (1 + 3·0.044715 Z²))"),
    "exp": ("A = exp(Z)", "dZ = dA ⊙ A"),
    "softmax": ("A = exp(Z) / Σ_k exp(Z_k)", "dZ = A ⊙ (dA − Σ_k dA_k A_k)"),
}

#: activations whose backward reads only the output A: their input Z need not be kept
OUTPUT_DERIVATIVE = frozenset({"identity", "sigmoid", "tanh", "relu", "leaky_relu", "exp", "softmax"})

#: other names users know the same functions by
ALIASES = {"logistic": "sigmoid", "linear": "identity"}


def get_activation(name: str) -> tuple[str, Pair]:
    """``(canonical name, (forward, backward))`` for ``name``; ``ValueError`` lists the valid names."""
    valid = sorted([*ACTIVATIONS, *ALIASES])
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name, one of {valid}, got {type(name).__name__} {name!r}")
    key = ALIASES.get(name, name)
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; valid names are {valid}")
    return key, ACTIVATIONS[key]
