"""Cross-backend agreement: the same seeded network on the backend under test equals NumPy float64.

DESIGN.md: the same formulas on another backend agree to relative 1e-12 in float64;
a float32 run agrees with the float64 reference to 1e-5 (helpers.RTOL). The
reference is built in each test from the same seed on NumPy in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import RTOL, assert_close

import xpbackprop as xb

pytestmark = pytest.mark.agreement


def _conv(backend, dtype, seed):
    return xb.Sequential(
        [xb.Conv1D(1, 2, 4), xb.Activation("tanh"), xb.Flatten(), xb.Dense(12, 1), xb.Activation("tanh")],
        loss=xb.MSE(half=True, reduction="sum"), backend=backend, dtype=dtype, seed=seed,
    )


def _conv_channels(backend, dtype, seed):
    return xb.Sequential(
        [xb.Conv1D(2, 3, 3), xb.Activation("relu"), xb.Flatten(), xb.Dense(21, 3),
         xb.Activation("softmax")],
        loss=xb.CrossEntropy(reduction="sum"), backend=backend, dtype=dtype, seed=seed,
    )


def _data(kind, rng):
    """(X, Y) for each architecture: inputs and targets drawn on the host."""
    if kind == "conv":
        return rng.uniform(0, 1, size=(6, 9)), rng.choice([-1.0, 1.0], size=(6, 1))
    if kind == "conv_channels":
        return rng.normal(size=(4, 2, 9)), np.array([0, 2, 1, 2])
    # small shapes shared with test_network: JAX compiles each operation once per shape
    X = rng.normal(size=(4, 3))
    if kind == "labels":
        return X, np.array([1, 0, 0, 1])
    if kind == "binary":
        return X, np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    return X, rng.normal(size=(4, 2))


ARCHITECTURES = {
    "relu-softmax-ce": (
        lambda be, dt, s: xb.MLP([3, 3, 3, 2], hidden="relu", output="softmax", loss="cross_entropy",
                                 backend=be, dtype=dt, seed=s), "labels"),
    "tanh-sigmoid-bce": (
        lambda be, dt, s: xb.MLP([3, 3, 2], hidden="tanh", output="sigmoid", loss="bce",
                                 backend=be, dtype=dt, seed=s), "binary"),
    "sigmoid-identity-mse": (
        lambda be, dt, s: xb.MLP([3, 3, 3, 2], hidden="sigmoid", output="identity", loss="mse",
                                 backend=be, dtype=dt, seed=s), "real"),
    "gelu-tanh-mse-half-sum": (
        lambda be, dt, s: xb.MLP([3, 3, 2], hidden=["gelu"], output="tanh",
                                 loss=xb.MSE(half=True, reduction="sum"), backend=be, dtype=dt, seed=s),
        "real"),
    "conv-tanh-seed000": (_conv, "conv"),
    "conv-channels-relu-softmax": (_conv_channels, "conv_channels"),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_forward_loss_and_gradients_agree_with_numpy_float64(backend, arch, dtype):
    make, kind = ARCHITECTURES[arch]
    seed = 7
    X, Y = _data(kind, np.random.default_rng(60))
    reference = make("numpy", "float64", seed)
    net = make(backend, dtype, seed)
    rtol = RTOL[dtype]

    # same seed: the float32 parameters are the float64 ones rounded
    for p, ref in zip(net.parameters, reference.parameters, strict=True):
        ref = xb.to_numpy(ref)
        np.testing.assert_array_equal(xb.to_numpy(p), ref.astype(dtype))

    assert_close(net.forward(X), reference.forward(X), rtol, f"{arch} forward")
    assert net.loss(X, Y) == pytest.approx(reference.loss(X, Y), rel=rtol)
    loss, dW, db = net.gradients(X, Y)
    ref_loss, ref_dW, ref_db = reference.gradients(X, Y)
    assert loss == pytest.approx(ref_loss, rel=rtol)
    for i, (g, ref) in enumerate(zip(dW + db, ref_dW + ref_db, strict=True)):
        assert xb.to_numpy(g).dtype == np.dtype(dtype)
        assert_close(g, ref, rtol, f"{arch} gradient {i}")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_predict_agrees_with_numpy_float64(backend, dtype):
    rng = np.random.default_rng(61)
    X = rng.normal(size=(4, 3))
    make, _ = ARCHITECTURES["relu-softmax-ce"]
    reference = make("numpy", "float64", 3)
    net = make(backend, dtype, 3)
    A = xb.to_numpy(reference.forward(X))
    top2 = np.sort(A, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-4  # rows whose argmax float32 rounding cannot flip
    labels = xb.to_numpy(net.predict(X))
    np.testing.assert_array_equal(labels[clear], np.argmax(A, axis=1)[clear])


def test_a_moved_network_agrees_with_itself(backend):
    # NumPy float64 -> backend -> NumPy: parameters bit for bit, outputs to float64 agreement
    rng = np.random.default_rng(62)
    X, Y = _data("labels", rng)
    make, _ = ARCHITECTURES["relu-softmax-ce"]
    reference = make("numpy", "float64", 5)
    moved = make("numpy", "float64", 5).to(backend)
    for p, ref in zip(moved.parameters, reference.parameters):
        np.testing.assert_array_equal(xb.to_numpy(p), xb.to_numpy(ref))
    _, dW, db = moved.gradients(X, Y)
    _, ref_dW, ref_db = reference.gradients(X, Y)
    for g, ref in zip(dW + db, ref_dW + ref_db):
        assert_close(g, ref, RTOL["float64"], "gradient after .to")
