"""NumPy's variants: in-place updates, BLAS products with ones for sums, and long rows for broadcasts.

Why each pays on NumPy (measured figures: benchmarks/NOTES.md):

- NumPy runs an operation that broadcasts a row vector over a matrix as one inner loop per row;
  on a tall matrix of few columns the per-row cost dominates. Seen as rows of ``r·n`` elements
  (``r`` rows each, the vector repeated ``r`` times), the same elementwise operations run in
  long loops.
- ``Σ_rows M = 1ᵀ M`` and ``Σ_columns M = M 1`` are one BLAS call each, faster than a
  reduction along one axis, which walks the matrix row by row.
- ``maximum`` against a Python scalar takes a slow scalar loop; ``where`` on data of mixed signs
  a branchy one: a 0/1 mask times the data is faster.
- Updating in place saves a new array per parameter per step; the new parameter is written into
  the memory of its step (a store into lines this core already holds), not into ``θ``, which the
  other BLAS threads just read.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .variant import Variant

#: elements of one long row, and the smallest matrix worth the reshaping
LONG_ROW = 4096
MIN_ELEMENTS = 1 << 15
#: rows at least this long run a broadcast row operand well as they are
WIDE_ROW = 64
#: the widest rows for which the bias add takes long rows (wider ones add ``b`` broadcast faster)
BIAS_LONG_ROW_WIDTH = 128


@lru_cache(maxsize=64)
def _filled(xp: Any, n: int, value: float, dtype: Any) -> Any:
    return xp.full((n,), value, dtype=dtype)


@lru_cache(maxsize=256)
def _divisor_at_most(n: int, r: int) -> int:
    while n % r:
        r -= 1
    return r


def _rows_per_long_row(M: Any, widest: int | None = None) -> int:
    """``r`` such that ``M`` (N, n) is best handled as ``(N/r, r·n)``; 0: leave it as it is
    (C-contiguous matrices of at least :data:`MIN_ELEMENTS` whose long rows are ≥ 1024 long)."""
    if M.ndim != 2:
        return 0
    n_rows, n_cols = M.shape
    if n_rows * n_cols < MIN_ELEMENTS or not M.flags.c_contiguous:
        return 0
    if widest is not None and n_cols > widest:
        return 0
    r = _divisor_at_most(n_rows, max(1, min(n_rows, LONG_ROW // max(n_cols, 1))))
    return r if r * n_cols >= 1024 else 0


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


def relu(Z, /, *, xp):
    r = _rows_per_long_row(Z)
    if r:
        n_rows, n_cols = Z.shape
        long = xp.maximum(xp.reshape(Z, (n_rows // r, r * n_cols)), _filled(xp, r * n_cols, 0.0, Z.dtype))
        return xp.reshape(long, Z.shape)
    if Z.ndim == 2 and Z.shape[1] >= WIDE_ROW:
        return xp.maximum(Z, _filled(xp, Z.shape[1], 0.0, Z.dtype))
    mask = xp.astype(Z > 0, Z.dtype)
    mask *= Z
    return mask


def relu_backward(dA, Z, A, /, *, xp):
    mask = xp.astype(A > 0, dA.dtype)
    mask *= dA
    return mask


def dense_forward(A_prev, W, b, /, *, xp):
    Z = A_prev @ W  # a fresh array: the bias is added in place
    r = _rows_per_long_row(Z, widest=BIAS_LONG_ROW_WIDTH)
    if r > 1:
        long = xp.reshape(Z, (Z.shape[0] // r, r * Z.shape[1]))
        long += xp.tile(b, (r,))
        return xp.reshape(long, Z.shape)
    Z += b
    return Z


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
    "relu": Variant(relu, "maximum against a row of zeros in long rows, or a 0/1 mask product"),
    "relu_backward": Variant(relu_backward, "a 0/1 mask product instead of where"),
    "dense_forward": Variant(dense_forward, "the bias added in place, in long rows for narrow matrices"),
    "dense_backward": Variant(dense_backward, "db as one BLAS product with ones", ulps=64),
    "softmax_cross_entropy": Variant(softmax_cross_entropy, "row sums as products with ones, long rows, "
                                     "the loss as two dot products", ulps=64),
    "sgd_step": Variant(sgd_step, "in place, the new θ in the step's memory"),
    "adam_step": Variant(adam_step, "in place, the new θ in the step's memory"),
}
