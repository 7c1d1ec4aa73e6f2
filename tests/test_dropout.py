"""Dropout: inverted dropout in training only, host-drawn masks (the same on every backend), in
Sequential and MLP(dropout=...), saved and loaded, summarised with its equations."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import RTOL, assert_close, central_difference, f64

import xpbackprop as xb
from xpbackprop import backprop
from xpbackprop.backend import enable_float64
from xpbackprop.masks import draw_masks


def test_dropout_forward_and_backward_by_hand(xp):
    layer = xb.Dropout(0.5)
    A = xp.asarray([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    M = xp.asarray([[2.0, 0.0, 2.0], [0.0, 0.0, 2.0]])  # kept entries scaled by 1/(1 - 0.5)
    out, cache = layer.forward(A, xp=xp, mask=M)
    np.testing.assert_array_equal(xb.to_numpy(out), [[2.0, 0.0, 6.0], [0.0, 0.0, -12.0]])
    dA = xp.asarray([[1.0, 1.0, 1.0], [0.5, 0.5, 0.5]])
    dA_prev, grads = layer.backward(dA, cache, xp=xp)
    np.testing.assert_array_equal(xb.to_numpy(dA_prev), [[2.0, 0.0, 2.0], [0.0, 0.0, 1.0]])
    assert grads == ()
    # without a mask (predicting): the identity both ways
    out, cache = layer.forward(A, xp=xp)
    np.testing.assert_array_equal(xb.to_numpy(out), xb.to_numpy(A))
    np.testing.assert_array_equal(xb.to_numpy(layer.backward(dA, cache, xp=xp)[0]), xb.to_numpy(dA))


def test_masks_keep_one_minus_rate_of_the_entries_scaled_to_keep_the_mean():
    layers = [xb.Dense(3, 400), xb.Activation("relu"), xb.Dropout(0.3), xb.Dense(400, 2)]
    masks = draw_masks(layers, np.random.default_rng(0), (250, 3), xp=xb.namespace("numpy"), dtype=np.float64,
                       device=None)
    assert [m is None for m in masks] == [True, True, False, True]
    M = masks[2]
    assert M.shape == (250, 400)
    assert set(np.unique(M).tolist()) == {0.0, 1 / 0.7}
    kept = np.mean(M > 0)  # 100,000 Bernoulli(0.7) draws: standard error 0.0014
    assert abs(kept - 0.7) < 0.006
    assert abs(M.mean() - 1.0) < 0.01  # E[M] = 0.7 / 0.7
    assert draw_masks([xb.Dense(3, 2), xb.Dropout(0.0)], np.random.default_rng(0), (4, 3),
                      xp=xb.namespace("numpy"), dtype=np.float64, device=None) is None


def test_gradients_through_a_mask_match_central_differences(xp):
    enable_float64(xp)
    rng = np.random.default_rng(1)
    net = xb.Sequential([xb.Dense(3, 5), xb.Activation("tanh"), xb.Dropout(0.4), xb.Dense(5, 2)],
                        loss="mse", backend=xp, dtype="float64", seed=2)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    masks = draw_masks(net.layers, rng, (6, 3), xp=xp, dtype=net.dtype, device=net.device)
    Xd, Yd = f64(xp, X), f64(xp, Y)
    _, grads, _ = backprop.loss_and_gradients(net.layers, net.loss_fn, Xd, Yd, xp=xp, masks=masks)
    host = [xb.to_numpy(p) for p in net.parameters]

    def loss(flat_k, k):
        params = list(host)
        params[k] = flat_k
        net.set_parameters(params[0::2], params[1::2])
        return float(backprop.forward_loss(net.layers, net.loss_fn, Xd, Yd, xp=xp, masks=masks)[1])

    for k, g in enumerate(grads):
        numeric = central_difference(lambda p, k=k: loss(p, k), host[k])
        assert_close(g, numeric, 1e-7, f"parameter {k}")


def test_mlp_dropout_places_a_layer_after_each_hidden_activation():
    net = xb.MLP([4, 8, 6, 3], dropout=[0.5, 0.0])
    assert [type(layer).__name__ for layer in net.layers] == [
        "Dense", "Activation", "Dropout", "Dense", "Activation", "Dense", "Activation"]
    assert net.hidden == ["relu", "relu"] and net.output == "softmax" and net.dropout == [0.5, 0.0]
    assert [type(layer).__name__ for layer in xb.MLP([4, 8, 3], dropout=0.2).layers].count("Dropout") == 1


@pytest.mark.parametrize(("kwargs", "error", "phrase"), [
    ({"dropout": 1.0}, ValueError, r"Dropout rate must lie in \[0, 1\)"),
    ({"dropout": -0.1}, ValueError, r"Dropout rate must lie in \[0, 1\)"),
    ({"dropout": "0.5"}, TypeError, "dropout must be a rate"),
    ({"dropout": True}, TypeError, "Dropout rate must be a number"),
    ({"dropout": [0.5]}, ValueError, "dropout lists 1 rates but the network has 2 hidden layers"),
])
def test_bad_dropout_arguments_are_refused(kwargs, error, phrase):
    with pytest.raises(error, match=phrase):
        xb.MLP([4, 8, 8, 3], **kwargs)
    with pytest.raises(ValueError, match="no hidden layer to apply it to"):
        xb.MLP([4, 3], dropout=0.5)


def test_dropout_changes_training_not_prediction(xp):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)
    with_dropout = xb.MLP([4, 16, 3], dropout=0.5, backend=xp, seed=5)
    plain = xb.MLP([4, 16, 3], backend=xp, seed=5)
    # the same initial weights: predicting, the Dropout layer is the identity
    np.testing.assert_array_equal(xb.to_numpy(with_dropout.forward(X)), xb.to_numpy(plain.forward(X)))
    assert with_dropout.loss(X, y) == plain.loss(X, y)
    with_dropout.fit(X, y, epochs=2, lr=0.1, seed=0)
    plain.fit(X, y, epochs=2, lr=0.1, seed=0)
    assert not np.allclose(xb.to_numpy(with_dropout.weights[0]), xb.to_numpy(plain.weights[0]))


def test_a_saved_network_with_dropout_loads_with_its_layers(tmp_path, xp):
    net = xb.MLP([4, 8, 3], dropout=0.25, backend=xp, seed=1)
    xb.save(net, tmp_path / "m.npz")
    loaded = xb.load(tmp_path / "m.npz", backend=xp)
    assert [layer.config() for layer in loaded.layers] == [layer.config() for layer in net.layers]
    assert loaded.layers[2].rate == 0.25
    X = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(xb.to_numpy(loaded.predict_proba(X)), xb.to_numpy(net.predict_proba(X)))


def test_summary_shows_dropout_with_its_equations():
    text = xb.MLP([4, 8, 3], dropout=0.5).summary()
    assert "layer 1: Dense(n_in=4, n_out=8) → relu → Dropout(rate=0.5)" in text
    assert ("A ← A ⊙ M   (training: M = [U ≥ p] / (1 − p), U uniform on [0, 1); predicting: A as it is)"
            in text)
    assert "    backward  dA ← dA ⊙ M\n              dZ = dA ⊙ [Z > 0]" in text
    assert "layer 2: Dense(n_in=8, n_out=3) → softmax" in text


@pytest.mark.agreement
def test_training_with_dropout_agrees_with_numpy_float64(backend):
    """The same seed draws the same masks on every backend: the runs agree to float64 rounding."""
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(24, 3)), rng.integers(0, 2, 24)
    runs = {}
    for name in dict.fromkeys(["numpy", backend]):
        net = xb.MLP([3, 6, 5, 2], hidden="tanh", dropout=[0.5, 0.2], backend=name, dtype="float64", seed=11)
        history = net.fit(X, y, epochs=3, lr=0.05, batch_size=5, optimizer="adam")
        runs[name] = (history.loss, [xb.to_numpy(p) for p in net.parameters])
    np.testing.assert_allclose(runs[backend][0], runs["numpy"][0], rtol=RTOL["float64"])
    for ours, reference in zip(runs[backend][1], runs["numpy"][1]):
        assert_close(ours, reference, RTOL["float64"])
    # and dropout did act: without it the same seed trains to other weights
    plain = xb.MLP([3, 6, 5, 2], hidden="tanh", dtype="float64", seed=11)
    plain.fit(X, y, epochs=3, lr=0.05, batch_size=5, optimizer="adam")
    assert not np.allclose(xb.to_numpy(plain.weights[0]), runs["numpy"][1][0])
