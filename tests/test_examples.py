"""The notes' worked examples, each against an independent reference written here.

Every reference below is a plain NumPy float64 computation following the note's
own equations, sample by sample where the note goes sample by sample; none
calls the library. The examples themselves run through the public API.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_close

import xpbackprop as xb

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))


def example(name):
    return importlib.import_module(name)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --- 000, TwoLayerPerceptron.m / TwoLayerPerceptron_softmax.m ------------------------------


def matlab_perceptron(W1, W2, X, y, rho, softmax, max_iter=10000):
    """The MATLAB loop, with the summed gradient accumulated one sample at a time.

    Layout as in the note: W1 is 3 × H (row 0 multiplies the constant 1), W2 is
    (H+1) × K. Returns (W1, W2, iter, costs).
    """
    W1, W2 = W1.copy(), W2.copy()
    K = W2.shape[1]
    T = np.eye(K)[y] if softmax else y[:, None].astype(float)
    it, errors, costs = 1, 1, []
    while it < max_iter and errors > 0:
        dW1, dW2 = np.zeros_like(W1), np.zeros_like(W2)
        cost, errors = 0.0, 0
        for x, t in zip(X, T):
            x1 = np.concatenate([[1.0], x])           # a column of X in the note
            a1 = sigmoid(x1 @ W1)
            A1 = np.concatenate([[1.0], a1])
            z2 = A1 @ W2
            if softmax:
                a2 = np.exp(z2 - z2.max()) / np.exp(z2 - z2.max()).sum()
                cost += -np.sum(t * np.log(a2))
            else:
                a2 = sigmoid(z2)
                cost += -np.sum(t * np.log(a2) + (1 - t) * np.log(1 - a2))
            dz2 = a2 - t                               # dJ/dz2 = a2 - y'
            dz1 = (W2[1:] @ dz2) * a1 * (1 - a1)       # (dJ_dz2 W2' M1') .* a1 .* (1 - a1)
            dW2 += np.outer(A1, dz2)
            dW1 += np.outer(x1, dz1)
            errors += int(np.any((a2 > 0.5) != (t > 0.5)))
        W2 -= rho * dW2
        W1 -= rho * dW1
        costs.append(cost)
        it += 1
    return W1, W2, it, costs


@pytest.mark.parametrize("softmax", [False, True], ids=["sigmoid_bce", "softmax_ce"])
def test_two_layer_perceptron(backend, softmax):
    ex = example("two_layer_perceptron")
    net, history, iterations = ex.train(softmax, backend)
    W1, W2 = ex.initial_weights(2 if softmax else 1)
    W1_ref, W2_ref, it_ref, costs = matlab_perceptron(W1, W2, ex.X, ex.y, ex.RHO, softmax)
    assert iterations == it_ref
    assert history.stop_reason == "zero_errors"
    assert_close(history.loss, costs, 1e-10, "cost per iteration")
    assert_close(net.weights[0], W1_ref[1:], 1e-10, "W1")
    assert_close(net.biases[0], W1_ref[0], 1e-10, "bias row of W1")
    assert_close(net.weights[1], W2_ref[1:], 1e-10, "W2")
    assert_close(net.biases[1], W2_ref[0], 1e-10, "bias row of W2")
    assert np.array_equal(xb.to_numpy(net.predict(ex.X)), ex.y)


# --- 000, backpropagate.py -------------------------------------------------------------------


def sliding_tanh_reference(X, Y, w1, w2, wo, lr, epochs, err_break):
    """Online descent on ½(y - o)², one sample at a time, windows built by hand."""
    w1, w2, wo = w1[:, 0].copy(), w2[:, 0].copy(), wo[:, 0].copy()
    k = len(w1) - 1
    losses = []
    for _ in range(epochs):
        total = 0.0
        for x, y in zip(X, Y[:, 0]):
            windows = np.array([np.append(x[s : s + k], 1.0) for s in range(len(x) - k + 1)])
            v1, v2 = np.tanh(windows @ w1), np.tanh(windows @ w2)
            v = np.concatenate([v1, v2, [1.0]])
            o = np.tanh(v @ wo)
            total += 0.5 * (y - o) ** 2
            d_out = (1 - o**2) * (o - y)
            back = wo[:-1] * d_out
            d1 = (1 - v1**2) * back[: len(v1)]
            d2 = (1 - v2**2) * back[len(v1) :]
            wo = wo - lr * v * d_out
            w1 = w1 - lr * windows.T @ d1
            w2 = w2 - lr * windows.T @ d2
        losses.append(total)
        if total < err_break:
            break
    return w1, w2, wo, losses


def test_weight_shared_tanh(backend):
    ex = example("weight_shared_tanh")
    net, history = ex.train(backend)
    w1, w2, wo, losses = sliding_tanh_reference(
        ex.X, ex.Y, ex.W1_INIT, ex.W2_INIT, ex.WO_INIT, ex.LR, ex.EPOCHS, ex.ERR_BREAK
    )
    assert history.epochs == len(losses)
    assert history.stop_reason == "goal"
    assert_close(history.loss, losses, 1e-10, "epoch losses")
    n1, n2, no = ex.to_note_layout(net)
    assert_close(n1[:, 0], w1, 1e-10, "w1")
    assert_close(n2[:, 0], w2, 1e-10, "w2")
    assert_close(no[:, 0], wo, 1e-10, "wo")


# --- 001 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["mse_sigmoid", "bce_sigmoid", "ce_softmax"])
def test_online_update_equals_note(backend, case):
    ex = example("online_updates")
    (W, b), net = ex.one_step(case, backend)
    _, _, n_out = ex.CASES[case]
    x, t = ex.sample(n_out)
    # forward, row vectors
    o = sigmoid(x @ W[0] + b[0])
    a2 = o @ W[1] + b[1]
    if case == "ce_softmax":
        y = np.exp(a2) / np.exp(a2).sum()
        delta2 = y - t                          # §3: ∂E/∂a_r = y_r - t_r
    elif case == "bce_sigmoid":
        y = sigmoid(a2)
        delta2 = y - t                          # §2: δ = y - t
    else:
        y = sigmoid(a2)
        delta2 = (y - t) * y * (1 - y)          # §1: δ_k = (o_k - t_k) h'(a_k)
    delta1 = o * (1 - o) * (delta2 @ W[1].T)    # δ_j = h'(a_j) Σ_k δ_k w_kj
    expected_W = [W[0] - ex.ETA * x.T @ delta1, W[1] - ex.ETA * o.T @ delta2]
    expected_b = [b[0] - ex.ETA * delta1[0], b[1] - ex.ETA * delta2[0]]
    for got, want in zip(net.weights + net.biases, expected_W + expected_b):
        assert_close(got, want, 1e-12, case)


# --- 002 ----------------------------------------------------------------------------------------


def test_bias_in_weights_gradients(backend):
    ex = example("bias_in_weights")
    X, Y = ex.data()
    net = ex.network(backend)
    aug = [np.vstack([xb.to_numpy(b)[None, :], xb.to_numpy(W)]) for W, b in zip(net.weights, net.biases)]
    # matrix form of eq. 9/11 with the bias as w_0 on a column of ones
    A = [np.hstack([np.ones((len(X), 1)), X])]
    for w in aug:
        A.append(np.hstack([np.ones((len(X), 1)), sigmoid(A[-1] @ w)]))
    h = A[-1][:, 1:]
    C = np.sum(Y * np.log(h) + (1 - Y) * np.log(1 - h))    # the note's C, a log-likelihood
    d = Y - h
    expected = [None] * len(aug)
    for layer in range(len(aug) - 1, -1, -1):
        expected[layer] = A[layer].T @ d                   # ∂C/∂[w_0; w], summed over p
        a = A[layer][:, 1:]
        d = a * (1 - a) * (d @ aug[layer][1:].T)
    loss, dW, db = net.gradients(X, Y)
    assert loss == pytest.approx(-C, rel=1e-12)
    for layer, g in enumerate(expected):
        ours = np.vstack([xb.to_numpy(db[layer])[None, :], xb.to_numpy(dW[layer])])
        assert_close(-ours, g, 1e-12, f"layer {layer + 1}")


# --- 003 ----------------------------------------------------------------------------------------


def test_relu_softmax_column_major(backend):
    ex = example("relu_softmax_column_major")
    X, Y = ex.data()
    net = ex.network(backend)
    W = [xb.to_numpy(w).T for w in net.weights]        # the note's W[l]: n_l × n_(l-1)
    b = [xb.to_numpy(v)[:, None] for v in net.biases]   # the note's b[l]: n_l × 1
    m = X.shape[1]
    Z1 = W[0] @ X + b[0]
    A1 = np.maximum(Z1, 0)
    Z2 = W[1] @ A1 + b[1]
    A2 = np.maximum(Z2, 0)
    Z3 = W[2] @ A2 + b[2]
    Yhat = np.exp(Z3) / np.exp(Z3).sum(axis=0)
    J = -np.sum(Y * np.log(Yhat)) / m
    delta3 = (Yhat - Y) / m
    delta2 = (W[2].T @ delta3) * (Z2 > 0)
    delta1 = (W[1].T @ delta2) * (Z1 > 0)
    dW_note = [delta1 @ X.T, delta2 @ A1.T, delta3 @ A2.T]
    db_note = [delta1.sum(axis=1), delta2.sum(axis=1), delta3.sum(axis=1)]
    loss, dW, db = net.gradients(X.T, Y.T)
    assert loss == pytest.approx(J, rel=1e-12)
    for layer in range(3):
        assert_close(xb.to_numpy(dW[layer]).T, dW_note[layer], 1e-12, f"dW[{layer + 1}]")
        assert_close(db[layer], db_note[layer], 1e-12, f"db[{layer + 1}]")


# --- 004 ----------------------------------------------------------------------------------------


def test_xor_minibatch(backend):
    ex = example("xor_minibatch")
    epochs = 200
    net, history, initial = ex.train(backend, epochs=epochs)
    W1, b1, W2, b2 = initial
    rng = np.random.default_rng(ex.SEED)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(ex.X))                  # shuffle(training_data)
        total = 0.0
        for start in range(0, len(order), ex.B):
            batch = order[start : start + ex.B]
            grads = [np.zeros_like(p) for p in (W1, b1, W2, b2)]   # zero_gradients()
            for i in batch:
                x, y = ex.X[i], ex.y[i]
                a1 = sigmoid(x @ W1 + b1)
                a2 = sigmoid(a1 @ W2 + b2)
                total += np.sum((a2 - y) ** 2)
                dz2 = 2 * (a2 - y) * a2 * (1 - a2)          # ∂C_i/∂z^L = 2(a - y) a(1 - a)
                dz1 = (W2 @ dz2) * a1 * (1 - a1)
                for g, v in zip(grads, (np.outer(x, dz1), dz1, np.outer(a1, dz2), dz2)):
                    g += v                                 # accumulate_gradients()
            W1, b1, W2, b2 = (p - ex.LR * g / len(batch) for p, g in zip((W1, b1, W2, b2), grads))
        losses.append(total / len(ex.X))
    assert_close(history.loss, losses, 1e-10, "epoch costs")
    for got, want in zip(net.parameters, (W1, b1, W2, b2)):
        assert_close(got, want, 1e-10, "parameters")


# --- every example runs as a script --------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "expect"),
    [
        ("two_layer_perceptron.py", "Number of iterations:"),
        ("weight_shared_tanh.py", "hidden layer 2, neuron 1 weights"),
        ("online_updates.py", "one online step"),
        ("bias_in_weights.py", "summed cost over P=8"),
        ("relu_softmax_column_major.py", "max |dW_note - dWᵀ|"),
        ("xor_minibatch.py", "(target 1)"),
    ],
)
def test_example_script_runs(script, expect):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert expect in result.stdout
