"""The JAX backend's compiled forward and backward pass: same numbers as the step run op by op."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_close

import xpbackprop as xb
from xpbackprop.backend import backend_unavailable_reason

REASON = backend_unavailable_reason("jax")
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"jax cannot run here: {REASON}")


@pytest.mark.parametrize("options", [{}, {"momentum": 0.9, "nesterov": True}, {"optimizer": "adam"},
                                     {"weight_decay": 0.01}])
def test_compiled_steps_equal_eager_steps(options):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 3, 30)
    nets = [xb.MLP([5, 8, 7, 3], hidden=["relu", "tanh"], backend="jax", dtype="float64", seed=4)
            for _ in range(2)]
    compiled, eager = (xb.Trainer(net, lr=0.1, **options) for net in nets)
    eager._loss_and_gradients = nets[1]._loss_and_gradients  # the formulas run op by op
    assert compiled._loss_and_gradients is not nets[0]._loss_and_gradients
    for step in range(6):
        compiled.lr = eager.lr = 0.1 / (1 + step)  # a new rate each step: no new compilation
        Xs, ys = X[: 20 + step], y[: 20 + step]
        loss_c, loss_e = compiled.step(Xs, ys), eager.step(Xs, ys)
        assert float(loss_c) == pytest.approx(float(loss_e), rel=1e-13)
        for a, b in zip(nets[0].parameters, nets[1].parameters):
            assert_close(xb.to_numpy(a), xb.to_numpy(b), rtol=1e-12)
    # one trace per batch shape (20..25 rows), none for the new learning rates
    assert compiled._loss_and_gradients.compiled._cache_size() == 6


def test_parameters_stay_concrete_after_tracing():
    net = xb.MLP([4, 5, 2], backend="jax", dtype="float64", seed=0)
    trainer = xb.Trainer(net, lr=0.5)
    X, y = np.eye(4), np.array([0, 1, 1, 0])
    trainer.step(X, y)
    # the layers hold the updated arrays, not tracers, and eager calls still work
    before = xb.to_numpy(net.forward(X))
    trainer.step(X, y)
    assert not np.allclose(xb.to_numpy(net.forward(X)), before)
    _, dW, _ = net.gradients(X, y)
    assert all(np.all(np.isfinite(xb.to_numpy(g))) for g in dW)
