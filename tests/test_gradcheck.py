"""``check_gradients``: its number, its per-parameter report, and the warning when a ReLU's
pre-activation sits on the kink (the digits, with exact zeros and zero biases)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import xpbackprop as xb
from xpbackprop import datasets
from xpbackprop.gradcheck import GradientReport, KinkWarning


def _digits_relu_net(backend, biases=0.0):
    """The case of the issue: a ReLU network on the shipped digits (pixel counts with exact zeros),
    biases zero. The single unit of the first layer is off for most samples, so the second layer's
    pre-activations of those samples are exactly 0: ReLU's kink."""
    sizes = [64, 1, 8, 10]
    net = xb.MLP(sizes, hidden="relu", backend=backend, dtype="float64", seed=2)
    net.set_parameters([xb.to_numpy(W) for W in net.weights], [np.full(n, biases) for n in sizes[1:]])
    X, y = datasets.digits()
    return net, X[:30], y[:30]


def _numpy_loss(params, X, y):
    """Mean cross-entropy of the relu-relu-softmax network, in float64 NumPy, independently."""
    W1, b1, W2, b2, W3, b3 = params
    A1 = np.maximum(X @ W1 + b1, 0)
    A2 = np.maximum(A1 @ W2 + b2, 0)
    Z = A2 @ W3 + b3
    Z = Z - Z.max(axis=1, keepdims=True)
    log_p = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def test_the_digits_relu_case_is_reported_at_the_bias_on_the_kink(backend):
    net, X, y = _digits_relu_net(backend)
    with pytest.warns(KinkWarning) as caught:
        report = xb.check_gradients(net, X, y, report=True)
    assert isinstance(report, GradientReport) and float(report) == report.error
    # independently: the second layer's pre-activations that are within the step of 0
    host = [xb.to_numpy(p).astype(np.float64) for p in net.parameters]
    Z2 = np.maximum(X @ host[0] + host[1], 0) @ host[2] + host[3]
    near = np.abs(Z2) < 1e-6
    assert near.sum() > 0
    [kink] = report.kinks
    assert (kink.layer, kink.activation, kink.entries, kink.samples) == (3, "relu", near.sum(),
                                                                          near.any(axis=1).sum())
    message = str(caught[0].message)
    assert f"{near.sum()} pre-activation(s) of {near.any(axis=1).sum()} sample(s) at layer 3" in message
    # the worst array is b2, the bias whose step straddles the kink; its numeric value there is the
    # central difference computed here independently
    worst = max(report.parameters, key=lambda p: p.error)
    assert worst.name == "b2" and worst.layer == 2 and worst.error == report.error > 0.1
    moved = [p.copy() for p in host]
    moved[3][worst.index] += 1e-6
    up = _numpy_loss(moved, X, y)
    moved[3][worst.index] -= 2e-6
    numeric = (up - _numpy_loss(moved, X, y)) / 2e-6
    assert worst.numeric == pytest.approx(numeric, rel=1e-6)
    # every other array agrees with its differences
    assert all(p.error < 1e-6 for p in report.parameters if p.name != "b2")
    assert [p.name for p in report.parameters] == ["W1", "b1", "W2", "b2", "W3", "b3"]
    text = str(report)
    assert text.splitlines()[0].startswith(f"largest relative error {report.error:.3g}")
    assert "b2         2" in text and "warning:" in text


def test_the_number_alone_is_what_the_report_says_and_biases_off_the_kink_agree(backend):
    net, X, y = _digits_relu_net(backend)
    with pytest.warns(KinkWarning):
        number = xb.check_gradients(net, X, y)
    assert isinstance(number, float) and number > 0.1
    # the advice of the warning: biases off the kink, and the differences agree; nothing to warn of
    moved, X, y = _digits_relu_net(backend, biases=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", KinkWarning)
        report = xb.check_gradients(moved, X, y, report=True)
    assert report.error < 1e-6 and report.kinks == []


def test_gradients_at_the_rounding_level_are_named_as_such():
    # every unit of the first layer off for every sample: all gradients vanish but the output bias's
    X = np.abs(np.random.default_rng(0).normal(size=(8, 3)))
    net = xb.MLP([3, 2, 2], hidden="relu", dtype="float64", seed=0)
    net.set_parameters([-np.abs(xb.to_numpy(net.weights[0])), xb.to_numpy(net.weights[1])],
                       [np.zeros(2), np.zeros(2)])
    y = np.array([0, 1] * 4)  # the output bias's gradient, mean(softmax(0) - Y) = (½ - ½), vanishes too
    report = xb.check_gradients(net, X, y, report=True)
    assert all(p.rounding for p in report.parameters if p.name in ("W2", "b2"))
    assert "their relative error measures rounding" in str(report)


@pytest.mark.parametrize("eps", [0, -1e-6, float("nan"), "1e-6"])
def test_a_bad_step_is_refused(eps):
    net = xb.MLP([2, 2], dtype="float64")
    with pytest.raises(ValueError, match="eps must be a positive number"):
        xb.check_gradients(net, np.zeros((1, 2)), np.array([0]), eps=eps)
