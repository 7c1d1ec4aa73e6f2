"""A large batch on NumPy runs in blocks of rows: the same loss, gradients, output and training.

The reference is the same network computing the batch whole (``block_elements = None``),
whose gradients the rest of the suite checks against central differences and autograd.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import assert_close

import xpbackprop as xb

CASES = {
    "softmax_ce_mean": dict(sizes=[6, 9, 7, 4], hidden="relu", output="softmax", loss="cross_entropy"),
    "softmax_ce_sum": dict(sizes=[6, 9, 4], hidden="tanh", output="softmax",
                           loss=xb.CrossEntropy(reduction="sum")),
    "sigmoid_bce": dict(sizes=[6, 5, 1], hidden="relu", output="sigmoid", loss="bce"),
    "identity_mse_half_sum": dict(sizes=[6, 8, 3], hidden="sigmoid", output="identity",
                                  loss=xb.MSE(half=True, reduction="sum")),
    "sigmoid_mse_not_fused": dict(sizes=[6, 8, 3], hidden="relu", output="sigmoid", loss="mse"),
}


def _nets(case, block_rows):
    kwargs = dict(CASES[case])
    sizes = kwargs.pop("sizes")
    whole = xb.MLP(sizes, **kwargs, dtype="float64", seed=1)
    blocked = xb.MLP(sizes, **kwargs, dtype="float64", seed=1)
    whole.block_elements, blocked.block_elements = None, block_rows * sum(sizes)
    return whole, blocked


def _data(case, n=101):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, 6))
    n_out = CASES[case]["sizes"][-1]
    if CASES[case]["output"] == "softmax":
        return X, rng.integers(0, n_out, n)
    if CASES[case]["output"] == "sigmoid":
        return X, rng.uniform(size=(n, n_out))
    return X, rng.normal(size=(n, n_out))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("block_rows", [14, 50])  # 7 or 2 blocks of the 101 rows
def test_blocked_batch_equals_the_whole_batch(case, block_rows):
    whole, blocked = _nets(case, block_rows)
    assert len(blocked._row_blocks(101)) == 101 // block_rows
    X, Y = _data(case)
    assert blocked._row_blocks(X.shape[0]) is not None and whole._row_blocks(X.shape[0]) is None
    loss_w, dW_w, db_w = whole.gradients(X, Y)
    loss_b, dW_b, db_b = blocked.gradients(X, Y)
    assert loss_b == pytest.approx(loss_w, rel=1e-13)
    for a, b in zip(dW_w + db_w, dW_b + db_b):
        assert_close(xb.to_numpy(b), xb.to_numpy(a), rtol=1e-12)
    # the output of a training step is the whole batch's, rows in order
    Xd, Yd = blocked._checked(X, Y)
    _, _, A_blocked = blocked._loss_and_gradients(Xd, Yd, return_output=True)
    assert_close(xb.to_numpy(A_blocked), xb.to_numpy(whole.forward(X)), rtol=1e-13)


@pytest.mark.parametrize("options", [{"optimizer": "sgd", "momentum": 0.9}, {"optimizer": "adam"}])
def test_blocked_training_equals_whole_batch_training(options):
    whole, blocked = _nets("softmax_ce_mean", 40)  # batches of 120 rows in 3 blocks
    X, Y = _data("softmax_ce_mean", n=240)
    kwargs = dict(epochs=6, lr=0.05, batch_size=120, seed=3, **options)
    h_w, h_b = whole.fit(X, Y, **kwargs), blocked.fit(X, Y, **kwargs)
    np.testing.assert_allclose(h_b.loss, h_w.loss, rtol=1e-12)
    for a, b in zip(whole.parameters, blocked.parameters):
        assert_close(xb.to_numpy(b), xb.to_numpy(a), rtol=1e-11)


def test_default_block_size_leaves_small_batches_whole():
    net = xb.MLP([784, 512, 512, 10])
    per_row = 784 + 512 + 512 + 10
    rows = net.block_elements // per_row
    assert net._row_blocks(rows) is None and net._row_blocks(2 * rows - 1) is None
    blocks = net._row_blocks(16384)
    assert blocks[0][0] == 0 and blocks[-1][1] == 16384
    assert all(a[1] == b[0] for a, b in itertools.pairwise(blocks))
    assert min(stop - start for start, stop in blocks) >= rows
