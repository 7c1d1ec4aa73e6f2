"""Row and column operations on a matrix, written the way the array libraries run fastest.

``Σ_rows M = 1ᵀ M`` and ``Σ_columns M = M 1`` are one BLAS call each: several
times faster on NumPy than a reduction along a single axis, which walks the
matrix row by row (benchmarks/NOTES.md). The ones vectors are cached per
namespace, length, dtype and device, so a training step does not rebuild them.

NumPy runs an operation that broadcasts a row vector over a matrix as one inner
loop per row; on a tall matrix of few columns the per-row cost dominates. Seen as
rows of ``r·n`` elements (``r`` rows each, the vector repeated ``r`` times), the
same elementwise operations run in long loops (:func:`add_row_vector`,
:func:`clip_below_zero`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from array_api_compat import device as _device
from array_api_compat import is_numpy_namespace, is_writeable_array

__all__ = ["add_row_vector", "clip_below_zero", "column_sum", "per_row", "row_max", "row_sum"]


@lru_cache(maxsize=64)
def _filled(xp: Any, n: int, value: float, dtype: Any, device: Any) -> Any:
    return xp.full((n,), value, dtype=dtype, device=device)


def _constant(M: Any, n: int, value: float, xp: Any) -> Any:
    """A vector of ``n`` entries ``value`` in ``M``'s dtype and device (cached)."""
    if is_numpy_namespace(xp):  # one device: no need to ask the array (a step asks four times)
        return _filled(xp, n, value, M.dtype, "cpu")
    device = _device(M)
    if device is None:  # a JAX tracer (inside jax.jit): what it makes must not outlive the trace
        return xp.full((n,), value, dtype=M.dtype)
    try:
        return _filled(xp, n, value, M.dtype, device)
    except TypeError:  # an unhashable device or dtype: build it each time
        return xp.full((n,), value, dtype=M.dtype, device=device)


def _ones_like_axis(M: Any, axis: int, xp: Any) -> Any:
    return _constant(M, M.shape[axis], 1.0, xp)


def row_sum(M, /, *, xp):
    """Σ over the rows of ``M`` (shape ``(n,)`` for ``M`` of shape ``(N, n)``): ``1ᵀ M``."""
    return _ones_like_axis(M, 0, xp) @ M


def column_sum(M, /, *, xp):
    """Σ over the columns of ``M`` (shape ``(N,)``): ``M 1``."""
    return M @ _ones_like_axis(M, 1, xp)


def row_max(M, /, *, xp):
    """The maximum of each row of ``M``, shape ``(N,)`` (``max(M, axis=1)``).

    NumPy's reduction along a short last axis costs about 1.5 µs plus 40 ns a row; a running
    maximum over the columns about 0.45 µs a column, nearly flat in the rows. So for a matrix
    of at most 10 columns (the logits of a classifier) the running maximum is the same numbers
    faster from 64 rows on (256 x 10: 12.0 -> 4.5 µs, 4096 x 10: 171 -> 17 µs), and at any
    row count for at most 4 columns (4 x 3: 2.0 -> 1.4 µs; benchmarks/NOTES.md).
    """
    n, k = M.shape
    if not (is_numpy_namespace(xp) and k <= 10 and (n >= 64 or k <= 4)):
        return xp.max(M, axis=1)
    out = M[:, 0]
    for j in range(1, k):
        out = xp.maximum(out, M[:, j])
    return out


#: Elements of one long row (:func:`_rows_per_long_row`), and the smallest matrix worth the
#: reshaping (below it the few extra calls cost more than the loops save).
LONG_ROW = 4096
MIN_ELEMENTS = 1 << 15
#: Rows at least this long run a broadcast row operand well as they are (:func:`clip_below_zero`).
WIDE_ROW = 64
#: The widest rows for which :func:`add_row_vector` takes long rows: from 256 columns on, adding
#: ``b`` broadcast is faster than adding it tiled (256 x 512 float32 right after its product,
#: medians 19.4 against 26.6 µs; 1024 x 1024: 317 against 351 µs; benchmarks/NOTES.md).
BIAS_LONG_ROW_WIDTH = 128


@lru_cache(maxsize=256)
def _divisor_at_most(n: int, r: int) -> int:
    while n % r:
        r -= 1
    return r


def _rows_per_long_row(M: Any, xp: Any, widest: int | None = None) -> int:
    """``r`` such that ``M`` (N, n) is best handled as ``(N/r, r·n)``; 0: leave it as it is.

    NumPy only, for C-contiguous matrices (where the reshape is a view) of at least
    :data:`MIN_ELEMENTS` whose rows of ``r·n`` elements are at least 1024 long (and, with
    ``widest``, whose own rows are at most that long).
    """
    if not is_numpy_namespace(xp) or M.ndim != 2:
        return 0
    n_rows, n_cols = M.shape
    if n_rows * n_cols < MIN_ELEMENTS or not M.flags.c_contiguous:
        return 0
    if widest is not None and n_cols > widest:
        return 0
    r = _divisor_at_most(n_rows, max(1, min(n_rows, LONG_ROW // max(n_cols, 1))))
    return r if r * n_cols >= 1024 else 0


def add_row_vector(Z, b, /, *, xp):
    """``Z + b`` for ``Z`` (N, n) and ``b`` (n,); in place when ``Z`` is writeable (a fresh product).

    On NumPy ``Z`` is seen as rows of ``r`` of its rows and ``b`` repeated ``r`` times: the
    same additions, in loops of thousands of elements instead of ``n`` (4096 x 64 float32:
    39 -> 31 µs; benchmarks/NOTES.md), for rows of at most :data:`BIAS_LONG_ROW_WIDTH` elements.
    """
    if not is_writeable_array(Z):
        return Z + b
    r = _rows_per_long_row(Z, xp, widest=BIAS_LONG_ROW_WIDTH)
    if r > 1:
        long = xp.reshape(Z, (Z.shape[0] // r, r * Z.shape[1]))
        long += xp.tile(b, (r,))
        return xp.reshape(long, Z.shape)
    Z += b
    return Z


def clip_below_zero(Z, /, *, xp):
    """``max(Z, 0)`` elementwise (NaN stays NaN), or ``None`` where neither form below pays (the
    caller then uses its own formula).

    On NumPy, ``maximum`` against a scalar runs a slow scalar loop, and against a row of zeros
    broadcast over short rows one short loop per row; against a cached row of zeros as long
    as ``r`` rows of ``Z`` (:func:`_rows_per_long_row`) it is one fast loop per ``r`` rows
    (4096 x 64 float32: 59 µs for the mask product ``Z ⊙ [Z > 0]``, 27-40 µs this way). A
    matrix without long rows but with rows of at least :data:`WIDE_ROW` elements takes the
    broadcast row of zeros itself (64 x 128: 3.2 -> 1.8 µs, 256 x 512: 19.6 -> 16.8 µs).
    """
    r = _rows_per_long_row(Z, xp)
    if not r:
        if is_numpy_namespace(xp) and Z.ndim == 2 and Z.shape[1] >= WIDE_ROW:
            return xp.maximum(Z, _constant(Z, Z.shape[1], 0.0, xp))
        return None
    n_rows, n_cols = Z.shape
    zeros = _constant(Z, r * n_cols, 0.0, xp)
    return xp.reshape(xp.maximum(xp.reshape(Z, (n_rows // r, r * n_cols)), zeros), Z.shape)


def per_row(v, n_cols: int, /, *, xp):
    """``v`` (N,), one value per row, as an operand against an (N, ``n_cols``) matrix: ``v[:, None]``.

    On NumPy, for a tall matrix of few columns, ``v`` repeated into (N, n_cols) instead:
    an operation with the broadcast column runs one loop of ``n_cols`` elements per row, with
    the repeated matrix one loop over all (4096 x 10 float32: 16 µs for ``Z - m[:, None]``,
    7 + 3 µs to repeat and subtract). The results are the same.
    """
    n_rows = v.shape[0]
    if is_numpy_namespace(xp) and n_cols <= 64 and n_rows * n_cols >= MIN_ELEMENTS:
        return xp.reshape(xp.repeat(v, n_cols), (n_rows, n_cols))
    return v[:, None]
