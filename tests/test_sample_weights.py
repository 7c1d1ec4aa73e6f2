"""Sample weights in the losses, the engine and :func:`xpbackprop.epochs.run_epoch`.

The references: the same rows repeated (integer weights), central differences of the weighted
loss, and the penalty and update written out in NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_close, central_difference, f64

import xpbackprop as xb
from xpbackprop.backprop import loss_and_gradients
from xpbackprop.epochs import SampleWeights, run_epoch

REDUCTIONS = ["mean", "sum"]


def _normal(rng, n, k):
    return rng.normal(size=(n, k))


def _binary(rng, n, k):
    return (rng.uniform(size=(n, k)) < 0.5) * 1.0


def _one_hot(rng, n, k):
    return np.eye(k)[rng.integers(0, k, size=n)]


def _counts(rng, n, k):
    return rng.poisson(1.5, size=(n, k)) * 1.0


def _inside(rng, n, k):
    return rng.uniform(-0.9, 0.9, (n, k))


# name -> (output activation, loss(reduction), targets(rng, n, k))
CASES = {
    "mse": ("identity", lambda r: xb.MSE(reduction=r), _normal),
    "mse_half": ("identity", lambda r: xb.MSE(half=True, reduction=r), _normal),
    "bce": ("sigmoid", lambda r: xb.BCE(reduction=r), _binary),
    "bce_clip": ("sigmoid", lambda r: xb.BCE(reduction=r, clip=True), _binary),
    "cross_entropy": ("softmax", lambda r: xb.CrossEntropy(reduction=r), _one_hot),
    "cross_entropy_clip": ("softmax", lambda r: xb.CrossEntropy(reduction=r, clip=True), _one_hot),
    "poisson": ("exp", lambda r: xb.Poisson(reduction=r), _counts),
    # a loss whose output is not its canonical partner: the general chain rule with weights
    "mse_after_tanh": ("tanh", lambda r: xb.MSE(reduction=r), _inside),
}


def _net(backend, output, loss):
    return xb.MLP([3, 4, 2], hidden="tanh", output=output, loss=loss, backend=backend, dtype="float64",
                  seed=1)


def _case(name, reduction, backend, n=6):
    output, make, targets = CASES[name]
    rng = np.random.default_rng(30)
    return _net(backend, output, make(reduction)), rng.normal(size=(n, 3)), targets(rng, n, 2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_integer_weights_equal_repeated_rows(xp, backend, name, reduction):
    net, X, Y = _case(name, reduction, backend)
    w = np.array([0, 1, 2, 3, 1, 2])
    J, grads, _ = loss_and_gradients(net.layers, net.loss_fn, f64(xp, X), f64(xp, Y), xp=xp,
                                     weights=f64(xp, w))
    Jr, grads_r, _ = loss_and_gradients(net.layers, net.loss_fn, f64(xp, np.repeat(X, w, axis=0)),
                                        f64(xp, np.repeat(Y, w, axis=0)), xp=xp)
    assert float(J) == pytest.approx(float(Jr), rel=1e-12)
    for k, (g, gr) in enumerate(zip(grads, grads_r, strict=True)):
        assert_close(g, gr, 1e-12, f"gradient {k}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_weighted_gradients_match_central_differences(xp, backend, name, reduction):
    net, X, Y = _case(name, reduction, backend)
    w = np.random.default_rng(31).uniform(0.2, 2.0, size=X.shape[0])
    args = (f64(xp, X), f64(xp, Y))
    _, grads, _ = loss_and_gradients(net.layers, net.loss_fn, *args, xp=xp, weights=f64(xp, w))
    multiplied = loss_and_gradients(net.layers, net.loss_fn, *args, xp=xp, weights=f64(xp, w),
                                    multiplier=-0.5)[1]
    W0 = xb.to_numpy(net.weights[0]).copy()

    def J(W):
        net.set_parameters([W, *net.weights[1:]], net.biases)
        return float(loss_and_gradients(net.layers, net.loss_fn, *args, xp=xp, weights=f64(xp, w))[0])

    numeric = central_difference(J, W0)
    assert_close(grads[0], numeric, 1e-7, "dW1")
    assert_close(multiplied[0], -0.5 * numeric, 1e-7, "the multiplier with weights")


def test_weighted_mean_is_sum_over_sum_of_weights(xp, backend):
    # MSE(half=True): per row ½ Σ_k (A - Y)²; rows 0 and 1 with weights 1 and 3:
    # J = (1 · ½·(1² + 0²) + 3 · ½·(0² + 2²)) / 4 = (0.5 + 6) / 4 = 1.625; "sum": 6.5
    A, Y = np.array([[1.0, 0.0], [0.0, 2.0]]), np.zeros((2, 2))
    w = np.array([1.0, 3.0])
    for reduction, expected in (("mean", 1.625), ("sum", 6.5)):
        loss = xb.MSE(half=True, reduction=reduction)
        value = loss.value(f64(xp, A), f64(xp, Y), xp=xp, weights=f64(xp, w))
        assert float(value) == pytest.approx(expected, rel=1e-15)


# --- run_epoch ---------------------------------------------------------------------------------------


def test_run_epoch_applies_weights_and_alpha_as_sklearn(xp, backend):
    """One full batch: the penalty α/(2Σw)·Σ||W||² of the weights before the step, read with the
    loss; the step θ - η (∇J_w + α/Σw · W) for the weights, θ - η ∇J_w for the biases."""
    net, X, Y = _case("cross_entropy", "mean", backend)
    w = np.array([0.5, 1.0, 2.0, 0.0, 1.5, 3.0])
    alpha, lr = 0.7, 0.1
    Xd, Yd, wd = f64(xp, X), f64(xp, Y), f64(xp, w)
    before = [xb.to_numpy(p).copy() for p in net.parameters]
    J, grads, _ = loss_and_gradients(net.layers, net.loss_fn, Xd, Yd, xp=xp, weights=wd)
    trainer = xb.Trainer(net, lr=lr)
    epoch = run_epoch(trainer, Xd, Yd, batch=6, shuffle=False, rng=None, alpha=alpha,
                      weights=SampleWeights(wd, w))
    squares = sum(np.sum(W * W) for W in before[0::2])
    assert epoch.penalty == pytest.approx(alpha / (2 * w.sum()) * squares, rel=1e-13)
    assert epoch.loss == pytest.approx(float(J), rel=1e-13)
    for k, (p, p0, g) in enumerate(zip(net.parameters, before, grads, strict=True)):
        decay = alpha / w.sum() * p0 if k % 2 == 0 else 0.0
        assert_close(p, p0 - lr * (xb.to_numpy(g) + decay), 1e-13, f"parameter {k}")


def test_a_batch_whose_weights_sum_to_zero_is_refused_before_any_step(xp, backend):
    net, X, Y = _case("mse", "mean", backend)
    w = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    before = [xb.to_numpy(p).copy() for p in net.parameters]
    with pytest.raises(ValueError, match="the sample weights of a batch of 3 rows sum to 0"):
        run_epoch(xb.Trainer(net, lr=0.1), f64(xp, X), f64(xp, Y), batch=3, shuffle=False, rng=None,
                  weights=SampleWeights(f64(xp, w), w))
    for p, p0 in zip(net.parameters, before, strict=True):
        np.testing.assert_array_equal(xb.to_numpy(p), p0)
