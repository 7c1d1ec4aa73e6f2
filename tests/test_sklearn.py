"""Full-batch SGD against scikit-learn's MLPClassifier / MLPRegressor, weight for weight.

scikit-learn is the reference: it starts from our initial weights (``coefs_`` /
``intercepts_`` replaced after a one-iteration fit that initialises the estimator),
trains 20 full-batch epochs with ``solver="sgd"``, and we train the same 20 epochs.
The loss conventions that make this exact (README, "Against scikit-learn"):
log-loss is ``CrossEntropy()`` with a softmax output or ``BCE()`` with one sigmoid
output, squared error is ``MSE(half=True)``, all with ``reduction="mean"``; sklearn's
``alpha`` is ``weight_decay = alpha / batch_size``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import assert_close

import xpbackprop as xb

sklearn_nn = pytest.importorskip("sklearn.neural_network")
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

EPOCHS = 20
TOL = 1e-10
N = 12
HIDDEN = (4, 4)  # the shapes of the other training tests: JAX compiles once per shape
ACTIVATIONS = ["relu", "tanh", "logistic"]


def _data(task, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, 3))
    if task == "multiclass":
        y = np.arange(N) % 3  # every class present, so sklearn's classes_ are [0, 1, 2]
        rng.shuffle(y)
    elif task == "binary":
        y = np.arange(N) % 2
        rng.shuffle(y)
    else:
        y = np.sin(X @ np.array([1.0, -2.0, 0.5])) + 0.1 * rng.normal(size=N)
    return X, y


def _ours(task, activation, backend):
    sizes = [3, *HIDDEN, {"multiclass": 3, "binary": 1, "regression": 1}[task]]
    if task == "multiclass":
        output, loss = "softmax", xb.CrossEntropy(reduction="mean")
    elif task == "binary":
        output, loss = "sigmoid", "bce"
    else:
        output, loss = "identity", xb.MSE(half=True, reduction="mean")
    return xb.MLP(sizes, hidden=activation, output=output, loss=loss, backend=backend,
                  dtype="float64", seed=7)


def _sklearn(task, activation, net, X, y, lr, *, alpha=0.0, momentum=0.0, nesterov=False,
             schedule="constant", power_t=0.5):
    """scikit-learn, started from ``net``'s initial weights, after EPOCHS full-batch epochs."""
    cls = sklearn_nn.MLPRegressor if task == "regression" else sklearn_nn.MLPClassifier
    est = cls(hidden_layer_sizes=HIDDEN, activation=activation, solver="sgd", alpha=alpha,
              batch_size=N, learning_rate=schedule, learning_rate_init=lr, power_t=power_t,
              max_iter=1, shuffle=False, momentum=momentum, nesterovs_momentum=nesterov, tol=0.0,
              n_iter_no_change=10 * EPOCHS, early_stopping=False, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)  # one iteration, to initialise the estimator
    weights = [xb.to_numpy(w).astype(np.float64) for w in net.weights]
    biases = [xb.to_numpy(b).astype(np.float64) for b in net.biases]
    assert [c.shape for c in est.coefs_] == [w.shape for w in weights]
    assert [c.shape for c in est.intercepts_] == [b.shape for b in biases]
    est.coefs_ = [w.copy() for w in weights]
    est.intercepts_ = [b.copy() for b in biases]
    est.t_ = 0  # samples seen: a fresh start's count (only invscaling reads it)
    est.set_params(max_iter=EPOCHS)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        est.fit(X, y)
    assert est.n_iter_ == EPOCHS
    if task == "binary":
        assert est.out_activation_ == "logistic" and est.coefs_[-1].shape[1] == 1
    elif task == "multiclass":
        assert est.out_activation_ == "softmax"
        np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    else:
        assert est.out_activation_ == "identity"
    return est


def _assert_same_weights(net, est, rtol=TOL):
    for k, (w, c) in enumerate(zip(net.weights, est.coefs_, strict=True)):
        assert_close(w, c, rtol, f"W{k + 1}")
    for k, (b, c) in enumerate(zip(net.biases, est.intercepts_, strict=True)):
        assert_close(b, c, rtol, f"b{k + 1}")


LR = {"multiclass": 0.2, "binary": 0.2, "regression": 0.05}


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("task", ["multiclass", "binary", "regression"])
def test_full_batch_sgd_follows_sklearn(xp, backend, task, activation):
    X, y = _data(task)
    net = _ours(task, activation, backend)
    lr = LR[task]
    est = _sklearn(task, activation, net, X, y, lr)
    start = [xb.to_numpy(w).copy() for w in net.weights]
    history = net.fit(X, y, epochs=EPOCHS, lr=lr, batch_size=None, shuffle=False)
    _assert_same_weights(net, est)
    # scikit-learn's loss curve (its last EPOCHS entries: warm start keeps the first fit's) is our
    # epoch loss (alpha = 0)
    assert_close(np.array(history.loss), np.array(est.loss_curve_[-EPOCHS:]), TOL, "loss curve")
    # the weights moved: the comparison is not between two untouched copies
    assert max(np.max(np.abs(xb.to_numpy(w) - s)) for w, s in zip(net.weights, start)) > 1e-3
    # and the predictions agree
    if task == "regression":
        assert_close(net.predict(X)[:, 0], est.predict(X), TOL, "predict")
    else:
        np.testing.assert_array_equal(xb.to_numpy(net.predict(X)), est.predict(X))
        assert_close(net.predict_proba(X), est.predict_proba(X), TOL, "predict_proba")
        assert net.score(X, y) == pytest.approx(est.score(X, y), abs=1e-12)


def test_regression_score_is_sklearns_r2(xp, backend):
    X, y = _data("regression", seed=4)
    net = _ours("regression", "tanh", backend)
    est = _sklearn("regression", "tanh", net, X, y, LR["regression"])
    net.fit(X, y, epochs=EPOCHS, lr=LR["regression"], shuffle=False)
    assert net.score(X, y) == pytest.approx(est.score(X, y), rel=1e-10)
    assert 0.0 < est.score(X, y) < 1.0


@pytest.mark.parametrize("task", ["multiclass", "binary", "regression"])
def test_weight_decay_is_sklearns_alpha_over_the_batch_size(xp, backend, task):
    X, y = _data(task, seed=1)
    net = _ours(task, "tanh", backend)
    alpha, lr = 0.5, LR[task]
    est = _sklearn(task, "tanh", net, X, y, lr, alpha=alpha)
    net.fit(X, y, epochs=EPOCHS, lr=lr, shuffle=False, weight_decay=alpha / N)
    _assert_same_weights(net, est)
    # and the decay matters: without it the weights end elsewhere
    plain = _ours(task, "tanh", backend)
    plain.fit(X, y, epochs=EPOCHS, lr=lr, shuffle=False)
    assert max(np.max(np.abs(xb.to_numpy(a) - c)) for a, c in zip(plain.weights, est.coefs_)) > 1e-4


@pytest.mark.parametrize("nesterov", [True, False], ids=["nesterov", "classical"])
@pytest.mark.parametrize("task", ["multiclass", "binary", "regression"])
def test_momentum_follows_sklearn(xp, backend, task, nesterov):
    X, y = _data(task, seed=2)
    net = _ours(task, "relu", backend)
    lr = LR[task] / 4
    est = _sklearn(task, "relu", net, X, y, lr, momentum=0.9, nesterov=nesterov)
    net.fit(X, y, epochs=EPOCHS, lr=lr, shuffle=False, momentum=0.9, nesterov=nesterov)
    _assert_same_weights(net, est)


def test_invscaling_follows_sklearn(xp, backend):
    """η_t = η / (t + 1)^power_t with t the samples seen, updated at each epoch's end, in both."""
    X, y = _data("multiclass", seed=3)
    net = _ours("multiclass", "tanh", backend)
    est = _sklearn("multiclass", "tanh", net, X, y, 0.5, schedule="invscaling", power_t=0.3)
    history = net.fit(X, y, epochs=EPOCHS, lr=0.5, shuffle=False, schedule="invscaling", power_t=0.3)
    _assert_same_weights(net, est)
    assert history.lr[-1] == pytest.approx(0.5 / ((EPOCHS - 1) * N + 1) ** 0.3, rel=1e-15)
