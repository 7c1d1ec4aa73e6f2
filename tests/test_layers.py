"""Layers: Dense, Conv1D and Flatten against NumPy formulas, loops, central differences, PyTorch."""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest
from helpers import RTOL, assert_close, central_difference
from helpers import f64 as _f64

import xpbackprop as xb
from xpbackprop.backend import enable_float64
from xpbackprop.layers import conv1d_forward, dense_backward, dense_forward

# --- Dense ------------------------------------------------------------------------------------


def test_dense_forward_by_hand(xp):
    # [1, 2] @ [[1, 0, -1], [2, 1, 0]] + [0.5, 0, 1] = [1 + 4, 2, -1] + b = [5.5, 2, 0]
    A = _f64(xp, [[1.0, 2.0]])
    W = _f64(xp, [[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    b = _f64(xp, [0.5, 0.0, 1.0])
    assert_close(dense_forward(A, W, b, xp=xp), np.array([[5.5, 2.0, 0.0]]), 1e-15, "Z")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_forward_and_backward_match_numpy(xp, dtype):
    if dtype == "float64":
        enable_float64(xp)
    rng = np.random.default_rng(30)
    A, W, b, dZ = (rng.normal(size=s) for s in ((4, 3), (3, 2), (2,), (4, 2)))
    layer = xb.Dense(3, 2)
    layer.W, layer.b = xp.asarray(W.astype(dtype)), xp.asarray(b.astype(dtype))
    Ax = xp.asarray(A.astype(dtype))
    Z, cache = layer.forward(Ax, xp=xp)
    assert Z.dtype == getattr(xp, dtype)
    assert_close(Z, A @ W + b, RTOL[dtype], "Z")
    dA, (dW, db) = layer.backward(xp.asarray(dZ.astype(dtype)), cache, xp=xp)
    assert_close(dW, A.T @ dZ, RTOL[dtype], "dW")  # dW = Aᵀ dZ
    assert_close(db, dZ.sum(axis=0), RTOL[dtype], "db")  # db = Σ_rows dZ
    assert_close(dA, dZ @ W.T, RTOL[dtype], "dA_prev")  # dA_prev = dZ Wᵀ
    for g in (dA, dW, db):
        assert g.dtype == getattr(xp, dtype)
    assert (dW.shape, db.shape, dA.shape) == ((3, 2), (2,), (4, 3))
    none, _ = layer.backward(xp.asarray(dZ.astype(dtype)), cache, xp=xp, need_input_grad=False)
    assert none is None


def test_dense_backward_matches_central_differences(xp):
    # J = Σ G ⊙ (A W + b): dJ/dA, dJ/dW, dJ/db from the layer's own forward
    rng = np.random.default_rng(31)
    A, W, b, G = (rng.normal(size=s) for s in ((4, 3), (3, 2), (2,), (4, 2)))

    def J(A, W, b):
        return float(np.sum(G * xb.to_numpy(dense_forward(_f64(xp, A), _f64(xp, W), _f64(xp, b), xp=xp))))

    dA, dW, db = dense_backward(_f64(xp, G), _f64(xp, A), _f64(xp, W), xp=xp)
    assert_close(dA, central_difference(lambda a: J(a, W, b), A), 1e-7, "dA")
    assert_close(dW, central_difference(lambda w: J(A, w, b), W), 1e-7, "dW")
    assert_close(db, central_difference(lambda v: J(A, W, v), b), 1e-7, "db")


def test_dense_rejects_bad_sizes():
    for args in ((0, 3), (3, -1), (2.0, 3), (True, 2)):
        # a non-integer is a TypeError (xpbackprop.validation), a size below 1 a ValueError
        error = TypeError if any(isinstance(a, (bool, float)) for a in args) else ValueError
        with pytest.raises(error, match="positive integer"):
            xb.Dense(*args)


# --- Conv1D ------------------------------------------------------------------------------------


def conv1d_loops(X, W, b):
    """Z[n, o, j] = Σ_c Σ_k W[o, c, k] X[n, c, j + k] + b[o], with plain loops."""
    N, C, L = X.shape
    Co, _, K = W.shape
    Z = np.zeros((N, Co, L - K + 1))
    for n in range(N):
        for o in range(Co):
            for j in range(L - K + 1):
                total = b[o]
                for c in range(C):
                    for k in range(K):
                        total += W[o, c, k] * X[n, c, j + k]
                Z[n, o, j] = total
    return Z


def _conv_layer(xp, W, b, dtype="float64"):
    Co, C, K = W.shape
    layer = xb.Conv1D(C, Co, K)
    if dtype == "float64":
        enable_float64(xp)
    layer.W, layer.b = xp.asarray(W.astype(dtype)), xp.asarray(b.astype(dtype))
    return layer


def test_conv1d_forward_by_hand(xp):
    # one channel, kernel [1, 0, -1], bias 0.5, signal [1, 2, 4, 8]:
    # windows [1, 2, 4] and [2, 4, 8] -> 1 - 4 + 0.5 = -2.5 and 2 - 8 + 0.5 = -5.5
    layer = _conv_layer(xp, np.array([[[1.0, 0.0, -1.0]]]), np.array([0.5]))
    Z, _ = layer.forward(_f64(xp, [[[1.0, 2.0, 4.0, 8.0]]]), xp=xp)
    assert_close(Z, np.array([[[-2.5, -5.5]]]), 1e-15, "Z")


SHAPES = [
    # (N, C, Co, K, L): the first two are the networks' layers in test_network (JAX compiles
    # each operation once per shape); then a 1-tap kernel and one as long as the signal
    (6, 1, 2, 4, 9),
    (4, 2, 3, 3, 9),
    (2, 2, 3, 1, 5),
    (2, 2, 1, 5, 5),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("N", "C", "Co", "K", "L"), SHAPES)
def test_conv1d_forward_matches_loops(xp, N, C, Co, K, L, dtype):
    rng = np.random.default_rng(32)
    X, W, b = rng.normal(size=(N, C, L)), rng.normal(size=(Co, C, K)), rng.normal(size=(Co,))
    layer = _conv_layer(xp, W, b, dtype)
    Z, _ = layer.forward(xp.asarray(X.astype(dtype)), xp=xp)
    assert Z.shape == (N, Co, L - K + 1)
    assert Z.dtype == getattr(xp, dtype)
    assert_close(Z, conv1d_loops(X, W, b), RTOL[dtype], "Z")


@pytest.mark.parametrize(("N", "C", "Co", "K", "L"), SHAPES)
def test_conv1d_backward_matches_central_differences(xp, N, C, Co, K, L):
    # J = Σ G ⊙ conv(X; W, b), differentiated by the layer and by central differences
    rng = np.random.default_rng(33)
    X, W, b = rng.normal(size=(N, C, L)), rng.normal(size=(Co, C, K)), rng.normal(size=(Co,))
    G = rng.normal(size=(N, Co, L - K + 1))

    def J(X, W, b):
        Z, _ = conv1d_forward(_f64(xp, X), _f64(xp, W), _f64(xp, b), xp=xp)
        return float(np.sum(G * xb.to_numpy(Z)))

    layer = _conv_layer(xp, W, b)
    _, cache = layer.forward(_f64(xp, X), xp=xp)
    dX, (dW, db) = layer.backward(_f64(xp, G), cache, xp=xp)
    assert (dX.shape, dW.shape, db.shape) == (X.shape, W.shape, b.shape)
    assert_close(dX, central_difference(lambda x: J(x, W, b), X), 1e-7, "dX")
    assert_close(dW, central_difference(lambda w: J(X, w, b), W), 1e-7, "dW")
    assert_close(db, central_difference(lambda v: J(X, W, v), b), 1e-7, "db")
    none, (dW2, _) = layer.backward(_f64(xp, G), cache, xp=xp, need_input_grad=False)
    assert none is None
    assert_close(dW2, xb.to_numpy(dW), 0.0, "dW without dX")


def test_conv1d_backward_by_hand(xp):
    # x = [1, 3, 5, 7], w = [2, -1, 1], b = 0: Z = [x0 w0 + x1 w1 + x2 w2, x1 w0 + x2 w1 + x3 w2].
    # With G = dJ/dZ = [1, 2]:
    #   dW_k = G0 x_k + G1 x_(k+1) = [1 + 6, 3 + 10, 5 + 14] = [7, 13, 19];  db = G0 + G1 = 3
    #   dX = [G0 w0, G0 w1 + G1 w0, G0 w2 + G1 w1, G1 w2] = [2, -1 + 4, 1 - 2, 2] = [2, 3, -1, 2]
    layer = _conv_layer(xp, np.array([[[2.0, -1.0, 1.0]]]), np.array([0.0]))
    _, cache = layer.forward(_f64(xp, [[[1.0, 3.0, 5.0, 7.0]]]), xp=xp)
    dX, (dW, db) = layer.backward(_f64(xp, [[[1.0, 2.0]]]), cache, xp=xp)
    assert_close(dW, np.array([[[7.0, 13.0, 19.0]]]), 1e-15, "dW")
    assert_close(db, np.array([3.0]), 1e-15, "db")
    assert_close(dX, np.array([[[2.0, 3.0, -1.0, 2.0]]]), 1e-15, "dX")


def test_conv1d_two_dimensional_input_for_one_channel(xp):
    rng = np.random.default_rng(34)
    X, W, b = rng.normal(size=(6, 9)), rng.normal(size=(2, 1, 4)), rng.normal(size=(2,))
    G = rng.normal(size=(6, 2, 6))
    layer = _conv_layer(xp, W, b)
    Z, cache = layer.forward(_f64(xp, X), xp=xp)
    assert_close(Z, conv1d_loops(X[:, None, :], W, b), 1e-12, "Z from (N, L)")
    dX, (dW, db) = layer.backward(_f64(xp, G), cache, xp=xp)
    assert dX.shape == (6, 9)  # the gradient has the input's own shape

    def J(x):
        Z, _ = layer.forward(_f64(xp, x), xp=xp)
        return float(np.sum(G * xb.to_numpy(Z)))

    assert_close(dX, central_difference(J, X), 1e-7, "dX for (N, L)")
    _, cache3 = layer.forward(_f64(xp, X[:, None, :]), xp=xp)
    dX3, (dW3, db3) = layer.backward(_f64(xp, G), cache3, xp=xp)
    assert_close(dX, xb.to_numpy(dX3)[:, 0, :], 1e-15, "dX (N, L) vs (N, 1, L)")
    assert_close(dW, xb.to_numpy(dW3), 1e-15, "dW (N, L) vs (N, 1, L)")
    assert_close(db, xb.to_numpy(db3), 1e-15, "db (N, L) vs (N, 1, L)")


def test_conv1d_output_shape_and_bad_inputs():
    layer = xb.Conv1D(1, 2, 4)
    assert layer.output_shape((9,)) == (2, 6)
    assert layer.output_shape((1, 9)) == (2, 6)
    assert layer.param_shapes() == {"W": (2, 1, 4), "b": (2,)}
    with pytest.raises(ValueError):
        layer.output_shape((2, 9))  # two channels into a one-channel layer
    with pytest.raises(ValueError):
        layer.output_shape((3,))  # shorter than the kernel
    with pytest.raises(ValueError):
        xb.Conv1D(2, 2, 3).output_shape((9,))  # (L,) only for one channel
    for args in ((0, 1, 1), (1, 0, 1), (1, 1, 0), (1, 1, 2.5)):
        error = TypeError if 2.5 in args else ValueError  # a non-integer is a TypeError
        with pytest.raises(error, match="positive integer"):
            xb.Conv1D(*args)


def test_conv1d_preserves_device(backend, xp):
    devices = [array_api_compat.device(xp.asarray([0.0]))]
    if backend == "array_api_strict":
        devices.append(xp.Device("device1"))
    rng = np.random.default_rng(35)
    for dev in devices:
        layer = xb.Conv1D(2, 3, 3)
        layer.W = xp.asarray(rng.normal(size=(3, 2, 3)).astype(np.float32), device=dev)
        layer.b = xp.asarray(np.zeros(3, dtype=np.float32), device=dev)
        X = xp.asarray(rng.normal(size=(4, 2, 9)).astype(np.float32), device=dev)
        Z, cache = layer.forward(X, xp=xp)
        dX, (dW, db) = layer.backward(xp.ones_like(Z), cache, xp=xp)
        for a in (Z, dX, dW, db):
            assert array_api_compat.device(a) == dev
            assert a.dtype == xp.float32


def test_conv1d_matches_torch(xp):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(36)
    X, W, b = rng.normal(size=(4, 2, 9)), rng.normal(size=(3, 2, 3)), rng.normal(size=(3,))
    G = rng.normal(size=(4, 3, 7))
    Xt, Wt, bt = (torch.tensor(a, requires_grad=True) for a in (X, W, b))
    Zt = torch.nn.functional.conv1d(Xt, Wt, bt)  # cross-correlation, valid, stride 1
    (Zt * torch.tensor(G)).sum().backward()
    layer = _conv_layer(xp, W, b)
    Z, cache = layer.forward(_f64(xp, X), xp=xp)
    dX, (dW, db) = layer.backward(_f64(xp, G), cache, xp=xp)
    # the same sums in another order: float64 agreement
    assert_close(Z, Zt.detach().numpy(), RTOL["float64"], "Z")
    assert_close(dX, Xt.grad.numpy(), RTOL["float64"], "dX")
    assert_close(dW, Wt.grad.numpy(), RTOL["float64"], "dW")
    assert_close(db, bt.grad.numpy(), RTOL["float64"], "db")


# --- Flatten ---------------------------------------------------------------------------------------


def test_flatten_is_row_major_and_backward_restores_the_shape(xp):
    # X[n, c, j] = 100 n + 10 c + j: after flattening, row n is channel 0's positions, then channel 1's
    X = np.array([[[100 * n + 10 * c + j for j in range(3)] for c in range(2)] for n in range(2)], float)
    layer = xb.Flatten()
    A, cache = layer.forward(_f64(xp, X), xp=xp)
    expected = np.array([[0, 1, 2, 10, 11, 12], [100, 101, 102, 110, 111, 112]], dtype=float)
    assert_close(A, expected, 0.0, "flatten")
    assert layer.output_shape((2, 3)) == (6,)
    dA = np.arange(12.0).reshape(2, 6)
    dX, grads = layer.backward(_f64(xp, dA), cache, xp=xp)
    assert grads == ()
    assert tuple(dX.shape) == (2, 2, 3)
    # dX[n, c, j] = dA[n, 3 c + j]
    assert_close(dX, np.array([[[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 11]]], float), 0.0, "dX")


def test_flatten_after_conv_puts_channel_zero_first(xp):
    # the seed 000 layout: v = [v1 (6 positions), v2 (6 positions)]
    rng = np.random.default_rng(37)
    X, W, b = rng.normal(size=(6, 9)), rng.normal(size=(2, 1, 4)), rng.normal(size=(2,))
    Z, _ = _conv_layer(xp, W, b).forward(_f64(xp, X), xp=xp)
    A, _ = xb.Flatten().forward(Z, xp=xp)
    ref = conv1d_loops(X[:, None, :], W, b)
    assert_close(A, np.concatenate([ref[:, 0, :], ref[:, 1, :]], axis=1), 1e-12, "flatten")


def test_activation_layer_caches_and_uses_its_output(xp):
    rng = np.random.default_rng(38)
    Z = rng.normal(size=(4, 3))
    G = rng.normal(size=(4, 3))
    layer = xb.Activation("tanh")
    A, cache = layer.forward(_f64(xp, Z), xp=xp)
    dZ, grads = layer.backward(_f64(xp, G), cache, xp=xp)
    assert grads == ()
    assert_close(A, np.tanh(Z), 1e-14, "A")
    assert_close(dZ, G * (1 - np.tanh(Z) ** 2), 1e-14, "dZ")  # tanh' = 1 - A²
