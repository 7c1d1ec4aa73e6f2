"""The training loop against a plain NumPy float64 reference loop written here.

Every test trains a small network with ``net.fit`` on the backend under test and
compares what comes out (weights, biases, ``History``) with ``reference_fit``: a
per-step loop over the same batches, with forward and backward passes written
out by hand in NumPy float64. Shuffled batch orders are reproduced with
``numpy.random.default_rng(seed).permutation(n)``, one permutation per epoch,
as DESIGN.md and README ("Training") describe the host boundary.
"""

from __future__ import annotations

import math

import array_api_compat
import numpy as np
import pytest
import sklearn.metrics
from helpers import RTOL, assert_close

import xpbackprop as xb

TOL = RTOL["float64"]  # 1e-12: float64, the same formulas in a different order


# --- the NumPy float64 reference ---------------------------------------------------------


def _act(name, Z):
    if name == "identity":
        return Z
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.maximum(Z, 0.0)
    if name in ("sigmoid", "logistic"):
        return 1.0 / (1.0 + np.exp(-Z))
    if name == "softmax":
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
    raise AssertionError(name)


def _act_derivative(name, Z, A):
    """phi'(Z) for the elementwise hidden activations."""
    if name == "identity":
        return np.ones_like(Z)
    if name == "tanh":
        return 1.0 - A**2
    if name == "relu":
        return (Z > 0).astype(np.float64)
    if name in ("sigmoid", "logistic"):
        return A * (1.0 - A)
    raise AssertionError(name)


class Reference:
    """A fully connected network in NumPy float64 with the canonical output/loss pairs.

    ``params`` is ``[W1, b1, W2, b2, ...]`` with ``W (n_in, n_out)``; the loss is
    ``kind`` in {"ce" (softmax), "bce" (sigmoid), "mse" (identity)}, per sample
    summed over output units, then averaged over the batch ("mean") or summed.
    """

    def __init__(self, hidden, kind, reduction="mean", half=False):
        self.hidden = list(hidden)
        self.kind, self.reduction, self.half = kind, reduction, half
        self.output = {"ce": "softmax", "bce": "sigmoid", "mse": "identity"}[kind]

    def targets(self, Y, n_out):
        Y = np.asarray(Y)
        if Y.ndim == 1 and self.kind == "ce" and n_out > 1:
            return np.eye(n_out)[Y]
        return Y.reshape(len(Y), -1).astype(np.float64)

    def forward(self, params, X):
        """Pre-activations Zs and activations As (As[0] = X)."""
        As, Zs = [np.asarray(X, dtype=np.float64)], []
        n_layers = len(params) // 2
        for k in range(n_layers):
            Z = As[-1] @ params[2 * k] + params[2 * k + 1]
            name = self.hidden[k] if k < n_layers - 1 else self.output
            Zs.append(Z)
            As.append(_act(name, Z))
        return Zs, As

    def loss_value(self, A, Y):
        if self.kind == "ce":
            per_sample = -np.sum(Y * np.log(A), axis=1)
        elif self.kind == "bce":
            per_sample = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A), axis=1)
        else:
            per_sample = np.sum((A - Y) ** 2, axis=1) * (0.5 if self.half else 1.0)
        return per_sample.mean() if self.reduction == "mean" else per_sample.sum()

    def loss_and_gradients(self, params, X, Y):
        Zs, As = self.forward(params, X)
        n = X.shape[0]
        scale = n if self.reduction == "mean" else 1.0
        if self.kind == "mse" and not self.half:
            scale *= 0.5  # d/dA (A - Y)^2 = 2 (A - Y)
        dZ = (As[-1] - Y) / scale  # the canonical pairs: dL/dZ_L = (A - Y) / scale
        grads = [None] * len(params)
        for k in range(len(params) // 2 - 1, -1, -1):
            grads[2 * k] = As[k].T @ dZ
            grads[2 * k + 1] = dZ.sum(axis=0)
            if k > 0:
                dZ = (dZ @ params[2 * k].T) * _act_derivative(self.hidden[k - 1], Zs[k - 1], As[k])
        return self.loss_value(As[-1], Y), grads, As[-1]

    def errors(self, A, Y):
        if self.kind == "ce":
            return int(np.sum(A.argmax(axis=1) != Y.argmax(axis=1)))
        return int(np.sum(np.any((A > 0.5) != (Y > 0.5), axis=1)))

    def score(self, params, X, Y):
        A = self.forward(params, X)[1][-1]
        if self.kind == "mse":
            return float(sklearn.metrics.r2_score(Y, A))
        return 1.0 - self.errors(A, Y) / X.shape[0]


def reference_fit(ref, params, X, Y, *, epochs, lr, batch_size=None, shuffle=False, rng=None,
                  optimizer="sgd", momentum=0.0, nesterov=False, betas=(0.9, 0.999), eps=1e-8,
                  weight_decay=0.0, goal=None, stop_on_zero_errors=False, validation=None,
                  patience=None):
    """The training loop, step by step. ``lr`` is a number or a function epoch -> lr (0-based).

    Returns a dict: ``params`` (final), ``loss``/``errors``/``val_loss`` per epoch,
    ``snapshots`` (params after each epoch), ``best_epoch``.
    """
    params = [np.array(p, dtype=np.float64) for p in params]
    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    batch = n if batch_size is None else min(batch_size, n)
    is_weight = [i % 2 == 0 for i in range(len(params))]
    velocity = [np.zeros_like(p) for p in params]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    t = 0
    out = {"loss": [], "errors": [], "val_loss": [], "snapshots": [], "best_epoch": None, "lr": []}
    best = math.inf
    for epoch in range(epochs):
        rate = lr(epoch) if callable(lr) else lr
        out["lr"].append(rate)
        order = rng.permutation(n) if shuffle and batch < n else np.arange(n)
        total, errors = 0.0, 0
        for start in range(0, n, batch):
            rows = order[start : start + batch]
            loss, grads, A = ref.loss_and_gradients(params, X[rows], Y[rows])
            total += loss * len(rows) if ref.reduction == "mean" else loss
            errors += ref.errors(A, Y[rows]) if ref.kind != "mse" else 0
            grads = [g + weight_decay * p if w else g for g, p, w in zip(grads, params, is_weight)]
            if optimizer == "adam":
                t += 1
                b1, b2 = betas
                m1 = [b1 * m + (1 - b1) * g for m, g in zip(m1, grads)]
                m2 = [b2 * v + (1 - b2) * g * g for v, g in zip(m2, grads)]
                params = [
                    p - rate * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
                    for p, m, v in zip(params, m1, m2)
                ]
            elif momentum:
                velocity = [momentum * v - rate * g for v, g in zip(velocity, grads)]
                if nesterov:
                    params = [p + momentum * v - rate * g for p, v, g in zip(params, velocity, grads)]
                else:
                    params = [p + v for p, v in zip(params, velocity)]
            else:
                params = [p - rate * g for p, g in zip(params, grads)]
        epoch_loss = total / n if ref.reduction == "mean" else total
        out["loss"].append(epoch_loss)
        out["errors"].append(errors)
        out["snapshots"].append(params)
        if validation is not None:
            Xv, Yv = validation
            val = ref.loss_value(ref.forward(params, Xv)[1][-1], Yv)
            out["val_loss"].append(val)
            if val < best:
                best, out["best_epoch"] = val, epoch + 1
        if goal is not None and epoch_loss < goal:
            break
        if stop_on_zero_errors and errors == 0:
            break
        if patience is not None and epoch + 1 - out["best_epoch"] >= patience:
            break
    out["params"] = params
    return out


# --- helpers ---------------------------------------------------------------------------------


def host(net):
    """The network's parameters as NumPy float64 arrays ``[W1, b1, ...]``."""
    return [xb.to_numpy(p).astype(np.float64) for p in net.parameters]


def assert_params(net, expected, rtol=TOL, what="parameters"):
    actual = net.parameters
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert_close(a, e, rtol, f"{what} [{i}]")


def assert_on_backend(net, xp):
    for p in net.parameters:
        assert array_api_compat.array_namespace(p) is xp


def classification_data(n=12, n_in=3, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.integers(0, n_classes, size=n)


def multilabel_data(n=12, n_in=3, n_out=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), (rng.random((n, n_out)) > 0.5).astype(np.float64)


def regression_data(n=12, n_in=3, n_out=3, seed=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    Y = np.tanh(X @ rng.normal(size=(n_in, n_out))) + 0.1 * rng.normal(size=(n, n_out))
    return X, Y


# name -> (network factory, reference, data, lr). One data shape (12, 3) -> 3 outputs and
# (almost) one architecture throughout: JAX compiles every operation once per shape.
CASES = {
    "softmax-ce-mean": (
        lambda b: xb.MLP([3, 4, 3], hidden="tanh", output="softmax",
                         loss=xb.CrossEntropy(reduction="mean"), backend=b, dtype="float64", seed=1),
        Reference(["tanh"], "ce", "mean"), classification_data, 0.5,
    ),
    "softmax-ce-sum": (
        lambda b: xb.MLP([3, 4, 3], hidden="relu", output="softmax",
                         loss=xb.CrossEntropy(reduction="sum"), backend=b, dtype="float64", seed=2),
        Reference(["relu"], "ce", "sum"), classification_data, 0.05,
    ),
    "sigmoid-bce-sum": (
        lambda b: xb.MLP([3, 4, 3], hidden="relu", output="sigmoid",
                         loss=xb.BCE(reduction="sum"), backend=b, dtype="float64", seed=3),
        Reference(["relu"], "bce", "sum"), multilabel_data, 0.05,
    ),
    "identity-halfmse-sum": (
        lambda b: xb.MLP([3, 4, 4, 3], hidden=["tanh", "relu"], output="identity",
                         loss=xb.MSE(half=True, reduction="sum"), backend=b, dtype="float64", seed=4),
        Reference(["tanh", "relu"], "mse", "sum", half=True), regression_data, 0.02,
    ),
    "identity-mse-mean": (
        lambda b: xb.MLP([3, 4, 3], hidden="sigmoid", output="identity",
                         loss=xb.MSE(half=False, reduction="mean"), backend=b, dtype="float64", seed=5),
        Reference(["sigmoid"], "mse", "mean"), regression_data, 0.2,
    ),
}


def _setup(case, backend):
    make, ref, data, lr = CASES[case]
    net = make(backend)
    X, Y = data()
    Yref = ref.targets(Y, net.n_outputs)
    return net, ref, X, Y, Yref, lr


# --- full batch, online, mini-batch ------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
def test_full_batch_matches_the_reference_loop(xp, backend, case):
    net, ref, X, Y, Yref, lr = _setup(case, backend)
    expected = reference_fit(ref, host(net), X, Yref, epochs=15, lr=lr)
    history = net.fit(X, Y, epochs=15, lr=lr, batch_size=None, shuffle=True)
    assert history.epochs == 15 and history.stop_reason == "epochs"
    assert_params(net, expected["params"])
    assert_close(np.array(history.loss), np.array(expected["loss"]), TOL, "epoch losses")
    assert all(isinstance(v, float) for v in history.loss)
    assert history.lr == [lr] * 15
    assert_on_backend(net, xp)


@pytest.mark.parametrize(("case", "shuffle"), [("softmax-ce-mean", False), ("identity-halfmse-sum", False),
                                               ("softmax-ce-mean", True)])
def test_online_matches_the_reference_loop(xp, backend, case, shuffle):
    net, ref, X, Y, Yref, lr = _setup(case, backend)
    lr = lr / 4
    expected = reference_fit(ref, host(net), X, Yref, epochs=4, lr=lr, batch_size=1, shuffle=shuffle,
                             rng=np.random.default_rng(17))
    history = net.fit(X, Y, epochs=4, lr=lr, batch_size=1, shuffle=shuffle, seed=17)
    assert_params(net, expected["params"])
    assert_close(np.array(history.loss), np.array(expected["loss"]), TOL, "epoch losses")
    assert_on_backend(net, xp)


@pytest.mark.parametrize("case", ["softmax-ce-mean", "identity-mse-mean"])
def test_shuffled_minibatches_match_the_reference_loop(xp, backend, case):
    batch_size = 5  # 12 samples in batches of 5, 5, 2: the last batch is smaller
    net, ref, X, Y, Yref, lr = _setup(case, backend)
    lr = lr / 4
    W0 = host(net)
    expected = reference_fit(ref, W0, X, Yref, epochs=5, lr=lr, batch_size=batch_size,
                             shuffle=True, rng=np.random.default_rng(11))
    history = net.fit(X, Y, epochs=5, lr=lr, batch_size=batch_size, shuffle=True, seed=11)
    assert_params(net, expected["params"])
    assert_close(np.array(history.loss), np.array(expected["loss"]), TOL, "epoch losses")
    assert_on_backend(net, xp)
    # the order matters: the same run in data order ends elsewhere
    unshuffled = reference_fit(ref, W0, X, Yref, epochs=5, lr=lr, batch_size=batch_size)
    assert max(np.max(np.abs(a - b)) for a, b in zip(unshuffled["params"], expected["params"])) > 1e-6


def test_shuffle_without_seed_draws_from_the_networks_own_generator(xp, backend):
    """seed=None: the orders come from default_rng(net seed) after it has drawn the initial weights."""
    net = xb.MLP([3, 4, 3], hidden="tanh", output="softmax", backend=backend, dtype="float64", seed=21)
    rng = np.random.default_rng(21)
    # initial weights drawn first, Glorot before tanh and softmax: r = sqrt(6 / (fan_in + fan_out))
    W1 = rng.uniform(-math.sqrt(6 / 7), math.sqrt(6 / 7), size=(3, 4))
    W2 = rng.uniform(-math.sqrt(6 / 7), math.sqrt(6 / 7), size=(4, 3))
    initial = [W1, np.zeros(4), W2, np.zeros(3)]
    assert_params(net, initial, 0.0, "initial parameters")
    X, y = classification_data()
    ref = Reference(["tanh"], "ce")
    expected = reference_fit(ref, initial, X, ref.targets(y, 3), epochs=3, lr=0.2, batch_size=5,
                             shuffle=True, rng=rng)
    net.fit(X, y, epochs=3, lr=0.2, batch_size=5, shuffle=True)
    assert_params(net, expected["params"])


def test_epoch_loss_averages_over_samples_for_mean_and_sums_for_sum(xp, backend):
    """Batches of 5, 5, 2: 'mean' weighs each batch mean by its size, 'sum' adds batch sums."""
    X, Y = regression_data()
    for reduction in ("mean", "sum"):
        net = xb.MLP([3, 4, 3], hidden="tanh", output="identity", loss=xb.MSE(half=True, reduction=reduction),
                     backend=backend, dtype="float64", seed=6)
        W = host(net)
        history = net.fit(X, Y, epochs=1, lr=0.01, batch_size=5, shuffle=False)
        # by hand: each batch's loss is taken with the parameters before that batch's update
        ref = Reference(["tanh"], "mse", reduction, half=True)
        params, batch_sums = W, []
        for rows in (slice(0, 5), slice(5, 10), slice(10, 12)):
            _, grads, A = ref.loss_and_gradients(params, X[rows], Y[rows])
            batch_sums.append(0.5 * np.sum((A - Y[rows]) ** 2))
            params = [p - 0.01 * g for p, g in zip(params, grads)]
        expected = sum(batch_sums) / 12 if reduction == "mean" else sum(batch_sums)
        assert history.loss[0] == pytest.approx(expected, rel=TOL)
        if reduction == "mean":  # not the plain average of the three batch means
            plain = np.mean([batch_sums[0] / 5, batch_sums[1] / 5, batch_sums[2] / 2])
            assert abs(plain - expected) > 1e-6 * abs(expected)


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adam"])
def test_optimizers_and_weight_decay_in_the_loop_match_the_reference(xp, backend, optimizer):
    net, ref, X, Y, Yref, _ = _setup("softmax-ce-mean", backend)
    options = {"momentum": {"momentum": 0.8}, "nesterov": {"momentum": 0.8, "nesterov": True},
               "adam": {"optimizer": "adam"}}[optimizer]
    lr = 0.02 if optimizer == "adam" else 0.1
    expected = reference_fit(ref, host(net), X, Yref, epochs=6, lr=lr, batch_size=5, shuffle=True,
                             rng=np.random.default_rng(5), weight_decay=0.03, **options)
    net.fit(X, Y, epochs=6, lr=lr, batch_size=5, shuffle=True, seed=5, weight_decay=0.03, **options)
    assert_params(net, expected["params"])


def test_an_optimizer_object_is_used_as_given(xp, backend):
    net, ref, X, Y, Yref, _ = _setup("softmax-ce-mean", backend)
    expected = reference_fit(ref, host(net), X, Yref, epochs=5, lr=0.05, optimizer="adam",
                             betas=(0.7, 0.9), eps=1e-3)
    net.fit(X, Y, epochs=5, lr=0.05, optimizer=xb.Adam(beta1=0.7, beta2=0.9, eps=1e-3))
    assert_params(net, expected["params"])


def test_trainer_step_is_one_update_on_one_batch(xp, backend):
    """Trainer.step: forward, backward, update; returns the batch loss before the update, on the device."""
    net, ref, X, Y, Yref, _ = _setup("softmax-ce-mean", backend)
    W = host(net)
    # two steps on rows 0-4 and 5-9, Nesterov momentum carried from the first to the second
    expected = reference_fit(ref, W, X[:10], Yref[:10], epochs=1, lr=0.3, batch_size=5, momentum=0.5,
                             nesterov=True)
    first_loss = ref.loss_and_gradients(W, X[:5], Yref[:5])[0]
    trainer = xb.Trainer(net, lr=0.3, momentum=0.5, nesterov=True)
    loss = trainer.step(X[:5], Y[:5])
    assert array_api_compat.array_namespace(loss) is xp and tuple(loss.shape) == ()
    assert float(loss) == pytest.approx(first_loss, rel=TOL)
    second_loss = trainer.step(X[5:10], Y[5:10])
    assert (float(loss) * 5 + float(second_loss) * 5) / 10 == pytest.approx(expected["loss"][0], rel=TOL)
    assert_params(net, expected["params"])


def test_training_leaves_the_callers_arrays_alone(xp, backend):
    """Updates may happen in place on the network's own arrays, never on the data or on arrays given
    to set_parameters."""
    net, ref, X, Y, Yref, lr = _setup("softmax-ce-mean", backend)
    given = host(net)
    net.set_parameters(given[0::2], given[1::2])
    copies = [g.copy() for g in given]
    X0, Y0 = X.copy(), Y.copy()
    expected = reference_fit(ref, copies, X, Yref, epochs=3, lr=lr, batch_size=5, momentum=0.5)
    net.fit(X, Y, epochs=3, lr=lr, batch_size=5, shuffle=False, momentum=0.5)
    assert_params(net, expected["params"])
    for g, c in zip(given, copies):
        np.testing.assert_array_equal(g, c)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)


# --- learning-rate schedules inside fit ---------------------------------------------------------


def test_invscaling_schedule_in_fit(xp, backend):
    """η_e = η / (samples seen before epoch e + 1)^power_t, by hand; the loop uses it."""
    net, ref, X, Y, Yref, _ = _setup("softmax-ce-mean", backend)
    n = X.shape[0]  # 12

    def rate(e):
        return 0.5 if e == 0 else 0.5 / (e * n + 1) ** 0.25

    expected = reference_fit(ref, host(net), X, Yref, epochs=6, lr=rate, batch_size=5, shuffle=True,
                             rng=np.random.default_rng(2))
    history = net.fit(X, Y, epochs=6, lr=0.5, batch_size=5, seed=2, schedule="invscaling", power_t=0.25)
    assert history.lr == pytest.approx([0.5, 0.5 / 13**0.25, 0.5 / 25**0.25, 0.5 / 37**0.25,
                                        0.5 / 49**0.25, 0.5 / 61**0.25], rel=1e-15)
    assert_params(net, expected["params"])


def test_adaptive_schedule_in_fit(xp, backend):
    """With tol larger than any possible improvement every epoch after the first is 'bad':
    n_iter_no_change=3 bad epochs in a row divide η by 5 (epochs 1-4: η, 5-7: η/5, 8-10: η/25)."""
    net, ref, X, Y, Yref, _ = _setup("softmax-ce-mean", backend)

    def rate(e):
        return 0.5 / 5 ** ((e - 1) // 3) if e >= 1 else 0.5

    expected = reference_fit(ref, host(net), X, Yref, epochs=10, lr=rate)
    history = net.fit(X, Y, epochs=10, lr=0.5, schedule="adaptive", n_iter_no_change=3, tol=100.0)
    assert history.lr == pytest.approx([0.5] * 4 + [0.1] * 3 + [0.02] * 3, rel=1e-15)
    assert_params(net, expected["params"])


# --- stopping rules ----------------------------------------------------------------------------


def test_goal_stops_at_the_first_epoch_below_it(xp, backend):
    net, ref, X, Y, Yref, lr = _setup("softmax-ce-mean", backend)
    W = host(net)
    trajectory = reference_fit(ref, W, X, Yref, epochs=30, lr=lr)["loss"]
    goal = 0.5 * (trajectory[11] + trajectory[12])  # between epochs 12 and 13
    first = next(e for e, loss in enumerate(trajectory, 1) if loss < goal)
    assert first < 30
    expected = reference_fit(ref, W, X, Yref, epochs=30, lr=lr, goal=goal)
    history = net.fit(X, Y, epochs=30, lr=lr, goal=goal)
    assert history.stop_reason == "goal"
    assert history.epochs == first == len(expected["loss"])
    assert history.loss[-1] < goal <= min(history.loss[:-1])
    assert_params(net, expected["params"])


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_Y = np.array([0, 1, 1, 0])


def test_stop_on_zero_errors_on_xor(xp, backend):
    """2-4-1, tanh hidden, sigmoid output, BCE: stops at the first epoch that misclassifies nothing."""
    net = xb.MLP([2, 4, 1], hidden="tanh", output="sigmoid", loss="bce", backend=backend,
                 dtype="float64", seed=0)
    ref = Reference(["tanh"], "bce")
    expected = reference_fit(ref, host(net), XOR_X, ref.targets(XOR_Y, 1), epochs=5000, lr=0.5,
                             stop_on_zero_errors=True)
    first = len(expected["errors"])
    assert expected["errors"][-1] == 0 and min(expected["errors"][:-1]) > 0 and first < 5000
    history = net.fit(XOR_X, XOR_Y, epochs=5000, lr=0.5, stop_on_zero_errors=True)
    assert history.stop_reason == "zero_errors"
    assert history.errors == expected["errors"]
    assert history.epochs == first
    assert_params(net, expected["params"], 1e-10)
    # the errors are counted before each update; the network after the last one still solves XOR
    labels = (ref.forward(expected["params"], XOR_X)[1][-1][:, 0] > 0.5).astype(np.int64)
    np.testing.assert_array_equal(labels, XOR_Y)
    np.testing.assert_array_equal(xb.to_numpy(net.predict(XOR_X)), labels)


def test_stop_on_zero_errors_counts_every_minibatch(xp, backend):
    net, ref, X, Y, Yref, _ = _setup("softmax-ce-mean", backend)
    expected = reference_fit(ref, host(net), X, Yref, epochs=8, lr=0.1, batch_size=5, shuffle=True,
                             rng=np.random.default_rng(4))
    history = net.fit(X, Y, epochs=8, lr=0.1, batch_size=5, seed=4, stop_on_zero_errors=True)
    assert min(expected["errors"]) > 0  # the run does not stop, so all 8 epochs compare
    assert history.errors == expected["errors"]


def _early_stopping_setup(backend):
    """Train on 2 f(X), validate on f(X): the validation loss falls, then rises again (lr 0.1)."""
    net = xb.MLP([3, 4, 3], hidden="tanh", output="identity", loss=xb.MSE(half=True),
                 backend=backend, dtype="float64", seed=1)
    rng = np.random.default_rng(7)
    X, Xv, w = rng.normal(size=(12, 3)), rng.normal(size=(12, 3)), 0.5 * rng.normal(size=(3, 3))

    def f(X):
        return np.tanh(X @ w) + 0.5

    return net, Reference(["tanh"], "mse", half=True), X, 2.0 * f(X), Xv, f(Xv)


def test_early_stopping_restores_the_best_validation_weights(xp, backend):
    net, ref, X, Y, Xv, Yv = _early_stopping_setup(backend)
    patience = 4
    expected = reference_fit(ref, host(net), X, Y, epochs=300, lr=0.1, validation=(Xv, Yv),
                             patience=patience)
    best = expected["best_epoch"]
    assert 1 < best < len(expected["val_loss"]) < 300  # an interior minimum: the test can fail
    recorded = {}

    def record(net_, epoch, logs):
        recorded[epoch] = [xb.to_numpy(p).copy() for p in net_.parameters]

    history = net.fit(X, Y, epochs=300, lr=0.1, validation_data=(Xv, Yv), early_stopping=True,
                      patience=patience, callbacks=[record])
    assert history.stop_reason == "early_stopping"
    assert history.best_epoch == best
    assert history.epochs == best + patience == len(expected["val_loss"])
    assert_close(np.array(history.val_loss), np.array(expected["val_loss"]), TOL, "val_loss")
    for actual, kept in zip(net.parameters, recorded[best]):
        np.testing.assert_array_equal(xb.to_numpy(actual), kept)
    assert_params(net, expected["snapshots"][best - 1])
    # and not the last epoch's weights
    assert any(not np.array_equal(a, b) for a, b in zip(recorded[best], recorded[history.epochs]))


def test_without_early_stopping_validation_is_only_recorded(xp, backend):
    net, ref, X, Y, Xv, Yv = _early_stopping_setup(backend)
    expected = reference_fit(ref, host(net), X, Y, epochs=40, lr=0.1, validation=(Xv, Yv))
    history = net.fit(X, Y, epochs=40, lr=0.1, validation_data=(Xv, Yv))
    assert history.epochs == 40 and history.stop_reason == "epochs"
    assert history.best_epoch == expected["best_epoch"]
    assert_params(net, expected["params"])


def test_a_callback_returning_true_stops_training(xp, backend):
    net, ref, X, Y, Yref, lr = _setup("softmax-ce-mean", backend)
    expected = reference_fit(ref, host(net), X, Yref, epochs=3, lr=lr)
    seen = []

    def stop_after_three(net_, epoch, logs):
        seen.append((epoch, logs["loss"]))
        return epoch == 3

    calls = []
    history = net.fit(X, Y, epochs=50, lr=lr, callbacks=[stop_after_three, lambda *a: calls.append(a[1])])
    assert history.stop_reason == "callback"
    assert history.epochs == 3
    assert [e for e, _ in seen] == [1, 2, 3]
    assert calls == [1, 2, 3]  # a callback after the one that stops still sees the last epoch
    assert [loss for _, loss in seen] == history.loss
    assert_params(net, expected["params"])


def test_a_callback_returning_a_non_true_value_does_not_stop(xp, backend):
    net, _, X, Y, _, lr = _setup("softmax-ce-mean", backend)
    history = net.fit(X, Y, epochs=4, lr=lr, callbacks=[lambda net_, epoch, logs: None,
                                                       lambda net_, epoch, logs: 1,
                                                       lambda net_, epoch, logs: np.False_])
    assert history.epochs == 4 and history.stop_reason == "epochs"


def test_a_callback_returning_a_true_boolean_array_stops(xp, backend):
    net, _, X, Y, _, lr = _setup("softmax-ce-mean", backend)

    def on_device(net_, epoch, logs):  # a 0-d boolean array of the network's library
        return xp.asarray(logs["loss"]) > -1.0 if epoch == 2 else None

    history = net.fit(X, Y, epochs=9, lr=lr, callbacks=[on_device])
    assert history.epochs == 2 and history.stop_reason == "callback"
    history = net.fit(X, Y, epochs=9, lr=lr, callbacks=[lambda net_, epoch, logs: np.bool_(epoch == 3)])
    assert history.epochs == 3 and history.stop_reason == "callback"


# --- validation metrics and predictions ---------------------------------------------------------


@pytest.mark.parametrize("case", ["softmax-ce-mean", "sigmoid-bce-sum", "identity-mse-mean"])
def test_validation_loss_and_score(xp, backend, case):
    net, ref, X, Y, Yref, lr = _setup(case, backend)
    data = CASES[case][2]
    Xv, Yv = data(seed=40)
    Yv_ref = ref.targets(Yv, net.n_outputs)
    expected = reference_fit(ref, host(net), X, Yref, epochs=6, lr=lr, validation=(Xv, Yv_ref))
    scores = [ref.score(p, Xv, Yv_ref) for p in expected["snapshots"]]
    history = net.fit(X, Y, epochs=6, lr=lr, validation_data=(Xv, Yv))
    assert_close(np.array(history.val_loss), np.array(expected["val_loss"]), TOL, "val_loss")
    if ref.kind == "mse":  # R² against scikit-learn
        assert_close(np.array(history.val_score), np.array(scores), 1e-10, "R²")
    else:  # accuracy: a fraction of 12 samples
        np.testing.assert_allclose(history.val_score, scores, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", ["softmax-ce-mean", "sigmoid-bce-sum", "identity-mse-mean"])
def test_predict_predict_proba_and_score(xp, backend, case):
    net, ref, X, Y, Yref, lr = _setup(case, backend)
    net.fit(X, Y, epochs=3, lr=lr)
    params = host(net)
    A = ref.forward(params, X)[1][-1]
    predicted = net.predict(X)
    assert array_api_compat.array_namespace(predicted) is xp
    if ref.kind == "ce":
        np.testing.assert_array_equal(xb.to_numpy(predicted), A.argmax(axis=1))
        assert_close(net.predict_proba(X), A, TOL, "predict_proba")
        assert net.score(X, Y) == pytest.approx(np.mean(A.argmax(axis=1) == Y), abs=1e-12)
    elif ref.kind == "bce":
        np.testing.assert_array_equal(xb.to_numpy(predicted), (A > 0.5).astype(np.int64))
        assert_close(net.predict_proba(X), A, TOL, "predict_proba")
        exact = np.mean(np.all((A > 0.5) == (Yref > 0.5), axis=1))
        assert net.score(X, Y) == pytest.approx(exact, abs=1e-12)
    else:
        assert_close(predicted, A, TOL, "predict")
        assert net.score(X, Y) == pytest.approx(sklearn.metrics.r2_score(Y, A), rel=1e-10)
        with pytest.raises(ValueError, match="predict_proba"):
            net.predict_proba(X)


def test_single_sigmoid_output_predictions(xp, backend):
    net = xb.MLP([2, 4, 1], hidden="tanh", output="sigmoid", loss="bce", backend=backend,
                 dtype="float64", seed=0)
    net.fit(XOR_X, XOR_Y, epochs=20, lr=0.5)
    a = Reference(["tanh"], "bce").forward(host(net), XOR_X)[1][-1][:, 0]
    labels = net.predict(XOR_X)
    assert tuple(labels.shape) == (4,)
    np.testing.assert_array_equal(xb.to_numpy(labels), (a > 0.5).astype(np.int64))
    assert_close(net.predict_proba(XOR_X), np.stack([1 - a, a], axis=1), TOL, "predict_proba")
    assert net.score(XOR_X, XOR_Y) == pytest.approx(np.mean((a > 0.5) == XOR_Y), abs=1e-12)


# --- divergence -----------------------------------------------------------------------------


def test_divergence_raises_and_keeps_the_parameters_of_the_epochs_start(xp, backend):
    net = xb.MLP([3, 4, 3], hidden="identity", output="identity", loss="mse", backend=backend,
                 dtype="float64", seed=0)
    X, Y = regression_data()
    initial = host(net)
    ref = Reference(["identity"], "mse")
    with np.errstate(all="ignore"):  # the reference overflows on purpose
        trajectory = reference_fit(ref, initial, X, Y, epochs=40, lr=1e20)
    finite = [
        math.isfinite(loss) and all(np.all(np.isfinite(p)) for p in params)
        for loss, params in zip(trajectory["loss"], trajectory["snapshots"])
    ]
    failing = finite.index(False) + 1  # 1-based epoch of the first non-finite loss or parameter
    assert failing > 2
    recorded = {0: initial}

    def record(net_, epoch, logs):
        recorded[epoch] = [xb.to_numpy(p).astype(np.float64) for p in net_.parameters]

    with np.errstate(all="ignore"), pytest.raises(xb.DivergenceError) as info:
        net.fit(X, Y, epochs=40, lr=1e20, callbacks=[record])
    assert isinstance(info.value, FloatingPointError)
    assert info.value.epoch == failing
    assert f"epoch {failing}" in str(info.value)
    assert max(recorded) == failing - 1
    kept = host(net)
    assert all(np.all(np.isfinite(p)) for p in kept)
    for actual, start in zip(kept, recorded[failing - 1]):
        np.testing.assert_array_equal(actual, start)
    assert_params(net, trajectory["snapshots"][failing - 2], 1e-10)
    assert_on_backend(net, xp)


# --- cross-backend agreement of whole runs ---------------------------------------------------


def _agreement_run(backend, dtype, optimizer):
    X, y = classification_data(seed=8)
    options = {"nesterov": {"momentum": 0.9, "nesterov": True, "lr": 0.05},
               "adam": {"optimizer": "adam", "lr": 0.01}}[optimizer]
    make = lambda b, d: xb.MLP([3, 4, 3], hidden="tanh", output="softmax", backend=b,  # noqa: E731
                               dtype=d, seed=9)
    ref = Reference(["tanh"], "ce")
    start = host(make("numpy", "float64"))
    lr = options.pop("lr")
    expected = reference_fit(ref, start, X, ref.targets(y, 3), epochs=20, lr=lr, batch_size=5,
                             shuffle=True, rng=np.random.default_rng(13), **options)
    net = make(backend, dtype)
    net.fit(X, y, epochs=20, lr=lr, batch_size=5, shuffle=True, seed=13, **options)
    return net, expected


@pytest.mark.agreement
@pytest.mark.parametrize("optimizer", ["nesterov", "adam"])
def test_seeded_minibatch_run_agrees_with_numpy_float64(xp, backend, optimizer):
    net, expected = _agreement_run(backend, "float64", optimizer)
    assert_params(net, expected["params"], RTOL["float64"], f"{backend} float64 {optimizer}")
    assert_on_backend(net, xp)
    # the numpy backend of the library gives the same numbers
    numpy_net, _ = _agreement_run("numpy", "float64", optimizer)
    assert_params(net, host(numpy_net), RTOL["float64"], "against the numpy backend")


@pytest.mark.agreement
@pytest.mark.parametrize("optimizer", ["nesterov", "adam"])
def test_seeded_minibatch_run_in_float32_is_close_to_float64(xp, backend, optimizer):
    net, expected = _agreement_run(backend, "float32", optimizer)
    for p in net.parameters:
        assert p.dtype == xp.float32
    assert_params(net, expected["params"], RTOL["float32"], f"{backend} float32 {optimizer}")
    assert_on_backend(net, xp)


# --- argument checks of fit ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -3}, "batch_size"),
        ({"patience": 0}, "patience"),
        ({"weight_decay": -1.0}, "weight_decay"),
        ({"early_stopping": True}, "validation_data"),
        ({"optimizer": "adam", "momentum": 0.9}, "momentum"),
    ],
)
def test_fit_rejects_bad_arguments_before_training(xp, backend, options, match):
    net, _, X, Y, _, _ = _setup("softmax-ce-mean", backend)
    before = host(net)
    with pytest.raises(ValueError, match=match):
        net.fit(X, Y, **{"epochs": 3, "lr": 0.1, **options})
    assert_params(net, before, 0.0, "untouched parameters")


def test_stop_on_zero_errors_needs_a_classifier(xp, backend):
    net, _, X, Y, _, _ = _setup("identity-mse-mean", backend)
    with pytest.raises(ValueError, match="classifier"):
        net.fit(X, Y, epochs=2, stop_on_zero_errors=True)


# --- progress ---------------------------------------------------------------------------------


def _xor_net():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    return xb.MLP([2, 3, 2], hidden="tanh", dtype="float64", seed=0), X, y


def test_progress_without_tqdm_prints_one_line_per_epoch(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError("tqdm hidden by the test")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    net, X, y = _xor_net()
    history = net.fit(X, y, epochs=3, lr=0.1, progress=True)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    # each line shows that epoch's loss, as history recorded it (4 significant digits)
    for line, loss in zip(lines, history.loss):
        shown = float(line.split("loss=")[1].split()[0])
        assert shown == pytest.approx(loss, rel=1e-3)


def test_progress_with_tqdm_shows_a_bar(capsys):
    pytest.importorskip("tqdm")
    net, X, y = _xor_net()
    history = net.fit(X, y, epochs=2, lr=0.1, progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err and "epoch" in err
    assert f"loss={history.loss[-1]:.4g}" in err
