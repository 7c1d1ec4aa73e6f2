"""Row and column sums as products with ones, the row maximum, and the long-row forms of a
broadcast row or column, against NumPy's own operations."""

from __future__ import annotations

import numpy as np
import pytest
from array_api_compat import is_numpy_namespace
from helpers import assert_close

import xpbackprop as xb
from xpbackprop._reductions import (
    BIAS_LONG_ROW_WIDTH,
    MIN_ELEMENTS,
    WIDE_ROW,
    _rows_per_long_row,
    add_row_vector,
    clip_below_zero,
    column_sum,
    per_row,
    row_max,
    row_sum,
)
from xpbackprop.backend import enable_float64

# shapes on both sides of row_max's switch (on NumPy a running maximum for <= 10 columns and
# >= 64 rows, or <= 4 columns)
SHAPES = [(1, 1), (5, 3), (5, 5), (63, 10), (64, 10), (1024, 10), (3000, 2), (2048, 11), (1500, 1)]


@pytest.mark.parametrize("shape", SHAPES)
def test_reductions_equal_numpy(xp, shape):
    enable_float64(xp)
    M = np.random.default_rng(sum(shape)).normal(size=shape) * 10.0
    Mx = xp.asarray(M)
    assert_close(xb.to_numpy(row_sum(Mx, xp=xp)), M.sum(axis=0), rtol=1e-12)
    assert_close(xb.to_numpy(column_sum(Mx, xp=xp)), M.sum(axis=1), rtol=1e-12)
    top = row_max(Mx, xp=xp)
    assert tuple(top.shape) == (shape[0],)
    # a maximum is one of the entries: exactly equal, whichever way it is computed
    np.testing.assert_array_equal(xb.to_numpy(top), M.max(axis=1))


def test_row_max_of_ties_and_infinities(xp):
    M = np.zeros((2048, 4))
    M[::3, 2] = np.inf
    M[1::3, :] = -np.inf
    M[2::3, 1] = 5.0
    top = xb.to_numpy(row_max(xp.asarray(M), xp=xp))
    np.testing.assert_array_equal(top, M.max(axis=1))


# tall and narrow (long rows on NumPy), a row count with no useful divisor (4099 is prime),
# wide rows, and small matrices that keep the plain forms
LONG_SHAPES = [(4096, 64), (4096, 10), (4099, 16), (256, 512), (1024, 1024), (3, 70000), (64, 128), (64, 63),
               (7, 3)]


@pytest.mark.parametrize("shape", LONG_SHAPES)
def test_add_row_vector_and_clip_equal_the_broadcast_forms(xp, shape):
    rng = np.random.default_rng(shape[0])
    Z = rng.normal(size=shape).astype(np.float32)
    Z[0, : min(4, shape[1])] = [-0.0, 0.0, np.nan, -np.inf][: min(4, shape[1])]
    b = rng.normal(size=shape[1]).astype(np.float32)
    Zx = xp.asarray(Z)
    added = add_row_vector(xp.asarray(Z.copy()), xp.asarray(b), xp=xp)  # in place where writeable
    np.testing.assert_array_equal(xb.to_numpy(added), Z + b)
    clipped = clip_below_zero(Zx, xp=xp)
    long_rows = _rows_per_long_row(Zx, xp)
    if long_rows or (is_numpy_namespace(xp) and shape[1] >= WIDE_ROW):
        got = xb.to_numpy(clipped)
        assert got.shape == Z.shape
        np.testing.assert_array_equal(got, np.maximum(Z, np.float32(0)))
    else:
        assert clipped is None  # the caller's own formula applies
    v = rng.normal(size=shape[0]).astype(np.float32)
    np.testing.assert_array_equal(xb.to_numpy(Zx - per_row(xp.asarray(v), shape[1], xp=xp)), Z - v[:, None])


def test_long_rows_are_used_where_they_help_on_numpy():
    """On NumPy a tall narrow matrix is seen as rows of thousands of elements; small ones and other
    namespaces are left alone. (A test of the switch, so that the fast form cannot silently go unused.)"""
    import array_api_compat.numpy as npx
    import array_api_strict

    def rows(shape, xp=npx):
        return _rows_per_long_row(xp.zeros(shape, dtype=xp.float32), xp)

    assert rows((4096, 64)) == 64  # rows of 4096 elements
    assert rows((4096, 10)) == 256  # the largest divisor of 4096 with r * 10 <= 4096
    assert rows((4099, 16)) == 0  # prime: no long rows of >= 1024 elements
    assert rows((64, 128)) == 0  # below MIN_ELEMENTS
    assert 64 * 128 < MIN_ELEMENTS <= 4096 * 10
    assert rows((4096, 64), array_api_strict) == 0
    assert rows((1024, 1024)) == 4
    # the bias add takes them for narrow rows only (wider ones add a broadcast b faster)
    bias = _rows_per_long_row(npx.zeros((4096, 64), dtype=npx.float32), npx, widest=BIAS_LONG_ROW_WIDTH)
    assert bias == 64
    assert BIAS_LONG_ROW_WIDTH < 256
    assert _rows_per_long_row(npx.zeros((256, 512), dtype=npx.float32), npx, widest=BIAS_LONG_ROW_WIDTH) == 0
