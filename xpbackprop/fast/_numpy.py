"""NumPy's variants: in-place updates, BLAS products with ones for sums, per-row values repeated.

Why each pays on NumPy (each one's gain on a whole step: benchmarks/NOTES.md):

- ``Σ_rows M = 1ᵀ M`` and ``Σ_columns M = M 1`` are one BLAS call each, faster than a
  reduction along one axis, which walks the matrix row by row.
- NumPy runs an operation that broadcasts a column of per-row values over a tall matrix of few
  columns as one short inner loop per row: repeated into the matrix's shape, it runs as one loop.
- ``where`` on data of mixed signs runs a branchy loop: a 0/1 mask times the data is faster.
- Updating in place saves a new array per parameter per step; the new parameter is written into
  the memory of its step (a store into lines this core already holds), not into ``θ``, which the
  other BLAS threads just read.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .variant import Variant

#: the smallest matrix for which a per-row operand is repeated into the matrix's shape
MIN_ELEMENTS = 1 << 15


@lru_cache(maxsize=64)
def _filled(xp: Any, n: int, value: float, dtype: Any) -> Any:
    return xp.full((n,), value, dtype=dtype)


def _column_sum(M, xp):
    return M @ _filled(xp, M.shape[1], 1.0, M.dtype)


def _per_row(v, n_cols, xp):
    """``v`` (N,) against an (N, n_cols) matrix: repeated into its shape where that runs one loop."""
    n_rows = v.shape[0]
    if n_cols <= 64 and n_rows * n_cols >= MIN_ELEMENTS:
        return xp.reshape(xp.repeat(v, n_cols), (n_rows, n_cols))
    return v[:, None]


def _row_max(M, xp):
    n, k = M.shape
    if not (k <= 10 and (n >= 64 or k <= 4)):
        return xp.max(M, axis=1)
    out = M[:, 0]
    for j in range(1, k):
        out = xp.maximum(out, M[:, j])
    return out


def relu_backward(dA, Z, A, /, *, xp):
    mask = xp.astype(A > 0, dA.dtype)
    mask *= dA
    return mask


def dense_backward(dZ, A_prev, W, /, *, xp, need_dA=True):
    dW = A_prev.T @ dZ
    db = _filled(xp, dZ.shape[0], 1.0, dZ.dtype) @ dZ
    dA_prev = dZ @ W.T if need_dA else None
    return dA_prev, dW, db


def softmax_cross_entropy(Z, Y, /, *, xp, divisor=1.0):
    # Σ_i (Σ_k Y_ik) log s_i - Σ_ik Y_ik S_ik: two dot products, no (N, K) temporary
    k = Z.shape[1]
    S = Z - _per_row(_row_max(Z, xp), k, xp)
    E = xp.exp(S)
    s = _column_sum(E, xp)
    total = xp.log(s) @ _column_sum(Y, xp) - xp.reshape(Y, (-1,)) @ xp.reshape(S, (-1,))
    return E / _per_row(s, k, xp), total / divisor


def sgd_step(params, steps, velocity, /, *, xp, momentum, nesterov):
    new = []
    for p, u, v in zip(params, steps, velocity or [None] * len(params)):
        if momentum == 0.0:
            u += p  # θ + u in the step's memory, which the new parameter keeps
            new.append(u)
            continue
        v *= momentum
        v += u
        if nesterov:
            p += momentum * v
            p += u
        else:
            p += v
        new.append(p)
    return new, velocity


def adam_step(params, grads, m, v, /, *, xp, lr, c1, c2, beta1, beta2, eps):
    new = []
    for p, g, mi, vi in zip(params, grads, m, v):
        mi *= beta1
        mi += (1.0 - beta1) * g
        vi *= beta2
        vi += (1.0 - beta2) * (g * g)
        u = (-lr) * (mi / c1) / (xp.sqrt(vi / c2) + eps)
        u += p  # θ + u in the step's own memory
        new.append(u)
    return new, m, v


VARIANTS: dict[str, Variant] = {
    "relu_backward": Variant(relu_backward, "a 0/1 mask product instead of where"),
    "dense_backward": Variant(dense_backward, "db as one BLAS product with ones", ulps=64),
    "softmax_cross_entropy": Variant(softmax_cross_entropy, "row sums as products with ones, long rows, "
                                     "the loss as two dot products", ulps=64),
    "sgd_step": Variant(sgd_step, "in place, the new θ in the step's memory"),
    "adam_step": Variant(adam_step, "in place, the new θ in the step's memory"),
}
