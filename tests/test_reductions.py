"""Row and column sums as products with ones, and the row maximum, against NumPy's reductions."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_close

import xpbackprop as xb
from xpbackprop._reductions import column_sum, row_max, row_sum
from xpbackprop.backend import enable_float64

# shapes on both sides of row_max's switch (a running maximum for >= 1024 rows of <= 10 columns)
SHAPES = [(1, 1), (5, 3), (64, 10), (1024, 10), (3000, 2), (2048, 11), (1500, 1)]


@pytest.mark.parametrize("shape", SHAPES)
def test_reductions_equal_numpy(xp, shape):
    enable_float64(xp)
    M = np.random.default_rng(sum(shape)).normal(size=shape) * 10.0
    Mx = xp.asarray(M)
    assert_close(xb.to_numpy(row_sum(Mx, xp=xp)), M.sum(axis=0), rtol=1e-12)
    assert_close(xb.to_numpy(column_sum(Mx, xp=xp)), M.sum(axis=1), rtol=1e-12)
    top = row_max(Mx, xp=xp)
    assert tuple(top.shape) == (shape[0], 1)
    # a maximum is one of the entries: exactly equal, whichever way it is computed
    np.testing.assert_array_equal(xb.to_numpy(top), M.max(axis=1, keepdims=True))


def test_row_max_of_ties_and_infinities(xp):
    M = np.zeros((2048, 4))
    M[::3, 2] = np.inf
    M[1::3, :] = -np.inf
    M[2::3, 1] = 5.0
    top = xb.to_numpy(row_max(xp.asarray(M), xp=xp))
    np.testing.assert_array_equal(top, M.max(axis=1, keepdims=True))
