"""The JAX backend's compiled forward and backward pass and optimizer update: the same numbers as
the step run op by op, and nothing compiled again for a new rate, a new step or a new fit."""

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
def test_compiled_steps_equal_steps_run_op_by_op(options):
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 3, 30)
    nets = [xb.MLP([5, 8, 7, 3], hidden=["relu", "tanh"], backend="jax", dtype="float64", seed=4)
            for _ in range(2)]
    compiled, eager = (xb.Trainer(net, lr=0.1, **options) for net in nets)
    for step in range(6):
        compiled.lr = eager.lr = 0.1 / (1 + step)
        Xs, ys = X[: 20 + step], y[: 20 + step]
        loss_c = compiled.step(Xs, ys)
        with jax.disable_jit():  # the same formulas, one operation at a time
            loss_e = eager.step(Xs, ys)
        assert float(loss_c) == pytest.approx(float(loss_e), rel=1e-13)
        for a, b in zip(nets[0].parameters, nets[1].parameters):
            assert_close(xb.to_numpy(a), xb.to_numpy(b), rtol=1e-12)


def _compilations(run):
    """How many functions JAX compiles while ``run()`` runs (its own log, jax.log_compiles)."""
    import logging

    import jax

    messages = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles():
            run()
    finally:
        logger.removeHandler(handler)
    return sum(m.startswith("Compiling") for m in messages)


def test_new_rates_steps_and_a_second_fit_compile_nothing():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 5)), rng.integers(0, 3, 40)
    net = xb.MLP([5, 6, 3], backend="jax", dtype="float64", seed=0)
    net.fit(X, y, epochs=2, lr=0.1, batch_size=16, optimizer="adam")  # batches of 16, 16, 8
    # a new fit (a new Trainer), a new rate, Adam's step count going on: arguments, not constants
    assert _compilations(lambda: net.fit(X, y, epochs=2, lr=0.05, batch_size=16, optimizer="adam")) == 0
    net.fit(X, y, epochs=1, lr=0.05, batch_size=16, optimizer="adam", weight_decay=0.1)
    assert _compilations(lambda: net.fit(X, y, epochs=1, lr=0.05, batch_size=16, optimizer="adam",
                                         weight_decay=0.2)) == 0  # the L2 term's weight is an argument
    # a new batch shape is compiled
    assert _compilations(lambda: net.fit(X, y, epochs=1, lr=0.05, batch_size=20, optimizer="adam")) > 0


def test_an_optimizer_with_its_own_update_runs_it_as_written():
    class Halving(xb.Optimizer):
        name = "halving"

        def update(self, params, grads, state, lr, /, *, xp):
            return [p - 0.5 * lr * g for p, g in zip(params, grads)], state

    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(12, 3)), rng.integers(0, 2, 12)
    jax_net, ref = (xb.MLP([3, 4, 2], backend=b, dtype="float64", seed=3) for b in ("jax", "numpy"))
    trainer = xb.Trainer(jax_net, lr=0.2, optimizer=Halving())
    trainer.step(X, y)
    _, dW, db = ref.gradients(X, y)
    expected = [p - 0.1 * g for p, g in zip(ref.parameters, [g for pair in zip(dW, db) for g in pair])]
    for a, b in zip(jax_net.parameters, expected):
        assert_close(xb.to_numpy(a), b, rtol=1e-12)


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


def _trained(backend, change):
    """A network trained one epoch, changed by ``change(net)``, then trained two more: the losses
    and first weights."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    net = xb.Sequential([xb.Dense(3, 4), xb.Activation("tanh"), xb.Dense(4, 2)], loss="mse", backend=backend,
                        dtype="float64", seed=0)
    net.fit(X, Y, epochs=1, lr=0.1, shuffle=False)
    change(net)
    history = net.fit(X, Y, epochs=2, lr=0.1, shuffle=False)
    return history.loss, xb.to_numpy(net.weights[0])


def _new_loss(net):
    net.loss_fn = xb.MSE(half=True, reduction="sum")


def _new_activation(net):
    net.layers[1] = xb.Activation("sigmoid")


@pytest.mark.parametrize("change", [_new_loss, _new_activation])
def test_a_network_whose_loss_or_layers_change_is_compiled_again(change):
    # the same shapes, so JAX alone would reuse its trace of the old loss or activation
    eager_losses, eager_w = _trained("numpy", change)
    losses, w = _trained("jax", change)
    assert losses == pytest.approx(eager_losses, rel=1e-12)
    assert_close(w, eager_w, rtol=1e-12)


def test_a_shared_update_does_not_follow_a_changed_optimizer_object():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(24, 4)), rng.integers(0, 3, 24)

    def run(backend, optimizer, before_steps=None):
        net = xb.MLP([4, 5, 3], backend=backend, dtype="float64", seed=1)
        trainer = xb.Trainer(net, lr=0.05, optimizer=optimizer)
        losses = []
        for k in range(4):
            if before_steps is not None:
                before_steps(trainer, k)
            losses.append(float(trainer.step(X, y)))
        return losses

    # one Trainer's Adam changed after its update was compiled and shared ...
    changed = xb.Adam()
    xb.Trainer(xb.MLP([4, 5, 3], backend="jax", dtype="float64", seed=1), lr=0.05, optimizer=changed)
    changed.beta1 = 0.5
    # ... a fresh Adam elsewhere still runs beta1 = 0.9, as on NumPy
    assert run("jax", xb.Adam()) == pytest.approx(run("numpy", xb.Adam()), rel=1e-12)

    # and a Trainer whose own optimizer changes between steps follows it, as on NumPy
    def halfway(trainer, k):
        if k == 2:
            trainer.optimizer.beta1 = 0.5

    assert run("jax", xb.Adam(), halfway) == pytest.approx(run("numpy", xb.Adam(), halfway), rel=1e-12)
