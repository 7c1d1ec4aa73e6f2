"""Networks: gradients against central differences and PyTorch, seeded init, the parameter contract."""

from __future__ import annotations

import contextlib
import math

import array_api_compat
import numpy as np
import pytest
from helpers import RTOL, assert_close, central_difference, relative_error

import xpbackprop as xb

# --- an independent NumPy float64 model of a network ------------------------------------------

_C = math.sqrt(2.0 / math.pi)


def _np_softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


NP_ACTIVATIONS = {
    "identity": lambda Z: Z,
    "sigmoid": lambda Z: 1.0 / (1.0 + np.exp(-Z)),
    "tanh": np.tanh,
    "relu": lambda Z: np.maximum(Z, 0.0),
    "leaky_relu": lambda Z: np.where(Z > 0, Z, 0.01 * Z),
    "softplus": lambda Z: np.logaddexp(0.0, Z),
    "gelu": lambda Z: 0.5 * Z * (1.0 + np.tanh(_C * (Z + 0.044715 * Z**3))),
    "exp": np.exp,
    "softmax": _np_softmax,
}


def np_conv1d(X, W, b):
    """Z[n, o, j] = Σ_c Σ_k W[o, c, k] X[n, c, j + k] + b[o]."""
    N, _, L = X.shape
    Co, _, K = W.shape
    Z = np.zeros((N, Co, L - K + 1))
    for j in range(L - K + 1):
        for k in range(K):
            Z[:, :, j] += X[:, :, j + k] @ W[:, :, k].T
    return Z + b[None, :, None]


def np_forward(net, params, X):
    """The network's output in NumPy float64, from its architecture and ``[W1, b1, ...]``."""
    A, p = np.asarray(X, dtype=np.float64), list(params)
    for layer in net.layers:
        if isinstance(layer, xb.Dense):
            W, b = p.pop(0), p.pop(0)
            A = A @ W + b
        elif isinstance(layer, xb.Conv1D):
            W, b = p.pop(0), p.pop(0)
            A = np_conv1d(A[:, None, :] if A.ndim == 2 else A, W, b)
        elif isinstance(layer, xb.Flatten):
            A = A.reshape(A.shape[0], -1)
        else:
            A = NP_ACTIVATIONS[layer.name](A)
    return A


def np_loss_value(loss, A, Y):
    """DESIGN.md: per-sample loss sums over output units; "mean" divides by N; half is ½ (a - y)²."""
    if loss.name == "mse":
        per_sample = np.sum((A - Y) ** 2, axis=1) * (0.5 if loss.half else 1.0)
    elif loss.name == "bce":
        per_sample = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A), axis=1)
    else:
        per_sample = -np.sum(Y * np.log(A), axis=1)
    return per_sample.sum() / (len(A) if loss.reduction == "mean" else 1.0)



def np_gradients(net, X, Y):
    """Central differences of the NumPy model's loss for every parameter array, in float64."""
    params = [xb.to_numpy(p).astype(np.float64) for p in net.parameters]

    def loss_with(k, value):
        moved = list(params)
        moved[k] = value
        return np_loss_value(net.loss_fn, np_forward(net, moved, X), Y)

    return [central_difference(lambda v, k=k: loss_with(k, v), p) for k, p in enumerate(params)]


def assert_gradients_match_central_differences(net, X, Y, Y_for_net=None, *, gradcheck=True):
    """net.gradients against NumPy central differences, and (``gradcheck``) xb.check_gradients.

    ``xb.check_gradients`` runs on the backend itself; on JAX every new shape compiles,
    so the extra architectures below rely on the NumPy central differences alone.
    """
    Y_for_net = Y if Y_for_net is None else Y_for_net
    params = [xb.to_numpy(p) for p in net.parameters]
    expected_loss = np_loss_value(net.loss_fn, np_forward(net, params, X), Y)
    loss, dW, db = net.gradients(X, Y_for_net)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert net.loss(X, Y_for_net) == pytest.approx(expected_loss, rel=1e-12)
    numeric = np_gradients(net, X, Y)
    analytic = [g for pair in zip(dW, db) for g in pair]
    assert len(analytic) == len(numeric)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        err = relative_error(a, n)
        assert err <= 1e-7, f"parameter array {i}: relative error {err:.2e} against central differences"
    if gradcheck:
        assert xb.check_gradients(net, X, Y_for_net) <= 1e-7


# --- gradients of every activation x every output/loss pair ------------------------------------------


def _targets(kind, rng, n, k):
    if kind == "one_hot":
        return np.eye(k)[rng.integers(0, k, size=n)]
    if kind == "binary":
        return (rng.uniform(size=(n, k)) < 0.5).astype(float)
    if kind == "unit":
        return rng.uniform(0.05, 0.95, size=(n, k))
    if kind == "signed":
        return rng.uniform(-0.9, 0.9, size=(n, k))
    return rng.normal(size=(n, k))


# (output activation, loss, targets): the canonical (fused) pairs and the general chain rule
OUTPUT_LOSS = [
    ("softmax", "cross_entropy", "one_hot"),
    ("softmax", xb.CrossEntropy(reduction="sum"), "one_hot"),
    ("sigmoid", "cross_entropy", "one_hot"),
    ("sigmoid", "bce", "binary"),
    ("sigmoid", xb.BCE(reduction="sum"), "binary"),
    ("identity", "mse", "real"),
    ("identity", xb.MSE(half=True, reduction="sum"), "real"),
    ("sigmoid", "mse", "unit"),
    ("tanh", "mse", "signed"),
    ("tanh", xb.MSE(half=True, reduction="sum"), "signed"),
    ("softmax", "mse", "unit"),
]


@pytest.mark.parametrize(("output", "loss", "targets"), OUTPUT_LOSS, ids=lambda v: repr(v))
@pytest.mark.parametrize("hidden", sorted(xb.ACTIVATIONS))
def test_gradients_match_central_differences(backend, hidden, output, loss, targets):
    rng = np.random.default_rng(40)
    # small, since check_gradients moves every entry on the backend: 3 -> 3 -> 2, 20 parameters
    net = xb.MLP([3, 3, 2], hidden=hidden, output=output, loss=loss, backend=backend,
                 dtype="float64", seed=2)
    X = rng.normal(size=(4, 3))
    Y = _targets(targets, rng, 4, 2)
    assert_gradients_match_central_differences(net, X, Y)


def test_gradients_with_integer_labels_match_central_differences(backend):
    rng = np.random.default_rng(41)
    net = xb.MLP([3, 3, 3, 2], hidden=["tanh", "relu"], output="softmax", loss="cross_entropy",
                 backend=backend, dtype="float64", seed=3)
    X = rng.normal(size=(4, 3))
    labels = np.array([1, 0, 1, 1])
    assert_gradients_match_central_differences(net, X, np.eye(2)[labels], Y_for_net=labels,
                                               gradcheck=False)


def test_single_output_with_one_dimensional_targets(backend):
    rng = np.random.default_rng(42)
    net = xb.MLP([3, 3, 1], hidden="tanh", output="sigmoid", loss="bce", backend=backend,
                 dtype="float64", seed=4)
    X = rng.normal(size=(4, 3))
    y = np.array([1.0, 0.0, 0.0, 1.0])
    assert_gradients_match_central_differences(net, X, y[:, None], Y_for_net=y, gradcheck=False)


# --- the weight-shared tanh network of seed 000 ------------------------------------------------------

# the seed's data: six signals of length 9, targets ±1
SEED_X = np.array([
    [0, 0, 0.8, 0.4, 0.4, 0.1, 0, 0, 0],
    [0, 0.3, 0.3, 0.8, 0.3, 0, 0, 0, 0],
    [0, 0, 0, 0, 0.3, 0.3, 0.8, 0.3, 0],
    [0, 0, 0, 0, 0, 0.8, 0.4, 0.4, 0.1],
    [0.8, 0.4, 0.4, 0.1, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0.3, 0.3, 0.8, 0.3],
])
SEED_Y = np.array([[-1.0, 1.0, 1.0, -1.0, -1.0, 1.0]]).T
# the seed's initial weights (bias last in each column)
SEED_WO = np.array([1.20973877, -1.07518386, 0.80691921, -0.29078347, -0.22094764, -0.16915604,
                    1.10083444, 0.08251052, -0.00437558, -1.72255825, 1.05755642, -2.51791281,
                    -1.91064012])
SEED_W1 = np.array([1.73673761, 1.89791391, -2.10677342, -0.14891209, 0.58306155])
SEED_W2 = np.array([-2.25923303, 0.13723954, -0.70121322, -0.62078008, -0.47961976])


def _seed_network(backend, dtype="float64", seed=0):
    return xb.Sequential(
        [xb.Conv1D(1, 2, 4), xb.Activation("tanh"), xb.Flatten(), xb.Dense(12, 1), xb.Activation("tanh")],
        loss=xb.MSE(half=True, reduction="sum"), backend=backend, dtype=dtype, seed=seed,
    )


def test_conv_network_gradients_match_central_differences(backend):
    net = _seed_network(backend, seed=0)
    assert_gradients_match_central_differences(net, SEED_X, SEED_Y)


def test_conv_network_with_several_channels_matches_central_differences(backend):
    rng = np.random.default_rng(43)
    net = xb.Sequential(
        [xb.Conv1D(2, 3, 3), xb.Activation("relu"), xb.Flatten(), xb.Dense(21, 3),
         xb.Activation("softmax")],
        loss=xb.CrossEntropy(reduction="sum"), backend=backend, dtype="float64", seed=5,
    )
    X = rng.normal(size=(4, 2, 9))
    assert_gradients_match_central_differences(net, X, np.eye(3)[[0, 2, 1, 2]], gradcheck=False)


def test_stacked_conv_layers_match_central_differences(backend):
    rng = np.random.default_rng(43)
    net = xb.Sequential(
        [xb.Conv1D(1, 2, 4), xb.Activation("gelu"), xb.Conv1D(2, 2, 3), xb.Activation("tanh"),
         xb.Flatten(), xb.Dense(8, 1), xb.Activation("tanh")],
        loss=xb.MSE(half=True, reduction="sum"), backend=backend, dtype="float64", seed=5,
    )
    Y = rng.uniform(-0.9, 0.9, size=(6, 1))
    assert_gradients_match_central_differences(net, SEED_X, Y, gradcheck=False)


def test_a_network_ending_in_conv1d_trains_against_its_output_width(backend):
    # Conv1D(1, 2, 3) on 6 positions gives 2 channels of 4 positions: 8 outputs once flattened
    rng = np.random.default_rng(45)
    net = xb.Sequential([xb.Conv1D(1, 2, 3), xb.Activation("tanh"), xb.Flatten()],
                        loss=xb.MSE(half=True, reduction="sum"), backend=backend, dtype="float64", seed=3)
    X, Y = rng.normal(size=(5, 6)), rng.uniform(-0.9, 0.9, size=(5, 8))
    assert net.output_shape((6,)) == (8,)
    assert tuple(net.forward(X).shape) == (5, 8)
    assert_gradients_match_central_differences(net, X, Y, gradcheck=False)
    with pytest.raises(ValueError, match=r"Y has 2 columns but the network has 8 outputs"):
        net.loss(X, Y[:, :2])
    with pytest.raises(ValueError, match=r"depends on its input's length"):
        net.n_outputs  # noqa: B018
    # one full-batch epoch of SGD is W - lr dW with the central-difference gradients
    start, lr = [xb.to_numpy(p) for p in net.parameters], 0.05
    numeric = np_gradients(net, X, Y)
    history = net.fit(X, Y, epochs=1, lr=lr, shuffle=False)
    expected_loss = np_loss_value(net.loss_fn, np_forward(net, start, X), Y)
    assert history.loss[0] == pytest.approx(expected_loss, rel=1e-12)
    for k, (p, p0, g) in enumerate(zip(net.parameters, start, numeric)):
        assert_close(xb.to_numpy(p) - p0, -lr * g, 1e-7, f"parameter {k}")
    # the public single step and the gradient check take it too (the input fixes the width)
    start, numeric = [xb.to_numpy(p) for p in net.parameters], np_gradients(net, X, Y)
    xb.Trainer(net, lr=lr).step(X, Y)
    for k, (p, p0, g) in enumerate(zip(net.parameters, start, numeric)):
        assert_close(xb.to_numpy(p) - p0, -lr * g, 1e-7, f"parameter {k} after Trainer.step")
    assert xb.check_gradients(net, X, Y) < 1e-6


def test_conv1d_after_the_last_dense_layer_fixes_the_output_width(backend):
    # Dense(3, 6) -> Conv1D(1, 2, 3): 2 channels of 4 positions, flattened: 8 classes
    rng = np.random.default_rng(46)
    net = xb.Sequential([xb.Dense(3, 6), xb.Activation("tanh"), xb.Conv1D(1, 2, 3), xb.Flatten(),
                         xb.Activation("softmax")], loss="cross_entropy", backend=backend, dtype="float64",
                        seed=4)
    assert net.n_outputs == 8
    X, labels = rng.normal(size=(6, 3)), np.array([0, 7, 3, 5, 1, 6])
    assert_gradients_match_central_differences(net, X, np.eye(8)[labels], labels, gradcheck=False)
    with pytest.raises(ValueError, match=r"outside \[0, 8\)"):
        net.loss(X, np.where(labels == 7, 8, labels))


def test_an_unflattened_conv1d_output_is_refused_as_a_training_target(backend):
    net = xb.Sequential([xb.Conv1D(1, 2, 3)], loss="mse", backend=backend, dtype="float64")
    X = np.ones((5, 6))
    assert tuple(net.forward(X).shape) == (5, 2, 4)
    for Y in (np.zeros((5, 8)), np.zeros((5, 2))):
        with pytest.raises(ValueError, match=r"output has shape \(2, 4\) per sample.*Flatten\(\)"):
            net.loss(X, Y)


def _seed_gradients_one_sample(x_tmp, y, wo, w1, w2):
    """The seed's own per-sample forward and backward (backpropagate.py), transcribed."""
    len_input = len(w1) - 1
    len_hidden = len(x_tmp) - (len_input - 1)
    x = np.asarray([x_tmp[s:s + len_input] for s in range(len_hidden)])
    x = np.hstack((x, np.ones((len(x), 1))))
    v1 = np.tanh(x @ w1)
    v2 = np.tanh(x @ w2)
    v = np.concatenate((np.vstack((v1, v2)), [[1]]))
    o = np.tanh(v.T @ wo)
    loss = ((y - o) * (y - o))[0][0] / 2.0
    delta_zo = (1 - o * o) * (o - y)
    delta_z1 = (1 - v1 * v1) * (wo @ delta_zo)[0:len_hidden]
    delta_z2 = (1 - v2 * v2) * (wo @ delta_zo)[len_hidden:-1]
    return loss, v @ delta_zo, x.T @ delta_z1, x.T @ delta_z2


def test_conv_network_reproduces_the_seed_000_gradients(backend):
    # Seed 000 keeps each kernel and its bias in one column (bias last) and the output
    # weights as [v1 (6 positions), v2 (6 positions), bias]; Flatten's channel-0-first
    # order is that layout. With reduction="sum", the batch gradient is the sum of
    # the seed's per-sample gradients at the same weights.
    net = _seed_network(backend)
    net.set_parameters(
        [np.stack([SEED_W1[:4], SEED_W2[:4]])[:, None, :], SEED_WO[:12, None]],
        [np.array([SEED_W1[4], SEED_W2[4]]), SEED_WO[12:]],
    )
    wo, w1, w2 = SEED_WO[:, None], SEED_W1[:, None], SEED_W2[:, None]
    total, dwo, dw1, dw2 = 0.0, 0.0, 0.0, 0.0
    for x_tmp, y in zip(SEED_X, SEED_Y):
        loss, gwo, g1, g2 = _seed_gradients_one_sample(x_tmp, y, wo, w1, w2)
        total, dwo, dw1, dw2 = total + loss, dwo + gwo, dw1 + g1, dw2 + g2
    loss, dW, db = net.gradients(SEED_X, SEED_Y)
    assert loss == pytest.approx(total, rel=1e-12)
    assert_close(dW[0], np.stack([dw1[:4, 0], dw2[:4, 0]])[:, None, :], 1e-12, "conv kernel")
    assert_close(db[0], np.array([dw1[4, 0], dw2[4, 0]]), 1e-12, "conv bias")
    assert_close(dW[1], dwo[:12], 1e-12, "output weights")
    assert_close(db[1], dwo[12], 1e-12, "output bias")
    # one sample alone is the seed's online step
    loss0, dW0, _ = net.gradients(SEED_X[:1], SEED_Y[:1])
    seed0 = _seed_gradients_one_sample(SEED_X[0], SEED_Y[0], wo, w1, w2)
    assert loss0 == pytest.approx(seed0[0], rel=1e-12)
    assert_close(dW0[1], seed0[1][:12], 1e-12, "output weights, one sample")


# --- PyTorch autograd ---------------------------------------------------------------------------------


def _torch_loss(net, params, X, Y):
    """The same network and loss in PyTorch float64, built from the network's parameters."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    acts = {
        "identity": lambda z: z, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "softplus": F.softplus,
        "gelu": lambda z: F.gelu(z, approximate="tanh"), "softmax": lambda z: torch.softmax(z, 1),
    }
    p = list(params)
    A = torch.tensor(X, dtype=torch.float64)
    Z = None
    for layer in net.layers:
        if isinstance(layer, xb.Dense):
            A = A @ p.pop(0) + p.pop(0)
        elif isinstance(layer, xb.Conv1D):
            A = F.conv1d(A[:, None, :] if A.ndim == 2 else A, p.pop(0), p.pop(0))
        elif isinstance(layer, xb.Flatten):
            A = A.reshape(A.shape[0], -1)
        else:
            Z, A = A, acts[layer.name](A)
    Yt = torch.tensor(Y, dtype=torch.float64)
    loss = net.loss_fn
    if loss.name == "cross_entropy" and net.output_activation == "softmax":
        total = F.cross_entropy(Z, Yt, reduction="sum")  # from logits, probability targets
    elif loss.name == "bce" and net.output_activation == "sigmoid":
        total = F.binary_cross_entropy_with_logits(Z, Yt, reduction="sum")
    elif loss.name == "mse":
        total = F.mse_loss(A, Yt, reduction="sum") * (0.5 if loss.half else 1.0)
    else:
        raise AssertionError(f"no torch loss for {loss!r}")
    return total / (len(X) if loss.reduction == "mean" else 1.0)


TORCH_CASES = [
    (lambda be: xb.MLP([3, 3, 3, 2], hidden=["gelu", "tanh"], output="softmax", loss="cross_entropy",
                       backend=be, dtype="float64", seed=6), "one_hot"),
    (lambda be: xb.MLP([3, 3, 2], hidden="softplus", output="sigmoid", loss="bce",
                       backend=be, dtype="float64", seed=7), "binary"),
    (lambda be: xb.MLP([3, 3, 3, 2], hidden=["leaky_relu", "sigmoid"], output="identity",
                       loss=xb.MSE(half=True, reduction="sum"), backend=be, dtype="float64", seed=8),
     "real"),
    (lambda be: xb.MLP([3, 3, 2], hidden="relu", output="tanh", loss="mse",
                       backend=be, dtype="float64", seed=9), "signed"),
]


@pytest.mark.parametrize(("make", "targets"), TORCH_CASES)
def test_loss_and_gradients_match_torch_autograd(backend, make, targets):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(44)
    net = make(backend)
    X = rng.normal(size=(4, 3))
    Y = _targets(targets, rng, 4, net.n_outputs)
    params = [torch.tensor(xb.to_numpy(p), requires_grad=True) for p in net.parameters]
    expected = _torch_loss(net, params, X, Y)
    expected.backward()
    loss, dW, db = net.gradients(X, Y)
    # the same float64 formulas in another library's order of operations
    assert loss == pytest.approx(expected.item(), rel=RTOL["float64"])
    ours = [g for pair in zip(dW, db) for g in pair]
    for i, (a, p) in enumerate(zip(ours, params)):
        assert_close(a, p.grad.numpy(), RTOL["float64"], f"parameter {i}")


def test_conv_network_matches_torch_autograd(backend):
    torch = pytest.importorskip("torch")
    net = _seed_network(backend, seed=11)
    params = [torch.tensor(xb.to_numpy(p), requires_grad=True) for p in net.parameters]
    expected = _torch_loss(net, params, SEED_X, SEED_Y)
    expected.backward()
    loss, dW, db = net.gradients(SEED_X, SEED_Y)
    assert loss == pytest.approx(expected.item(), rel=RTOL["float64"])
    for i, (a, p) in enumerate(zip([dW[0], db[0], dW[1], db[1]], params)):
        assert_close(a, p.grad.numpy(), RTOL["float64"], f"parameter {i}")
    assert_close(net.forward(SEED_X), np_forward(net, [p.detach().numpy() for p in params], SEED_X),
                 1e-12, "forward")


# --- seeded initialisation ----------------------------------------------------------------------------


def test_same_seed_same_weights_on_every_backend(backend):
    sizes = [5, 7, 4, 3]
    reference = xb.MLP(sizes, hidden="tanh", backend="numpy", dtype="float64", seed=123)
    net64 = xb.MLP(sizes, hidden="tanh", backend=backend, dtype="float64", seed=123)
    net32 = xb.MLP(sizes, hidden="tanh", backend=backend, dtype="float32", seed=123)
    for ref, p64, p32 in zip(reference.parameters, net64.parameters, net32.parameters):
        ref = xb.to_numpy(ref)
        np.testing.assert_array_equal(xb.to_numpy(p64), ref)  # identical bits
        assert xb.to_numpy(p32).dtype == np.float32
        np.testing.assert_array_equal(xb.to_numpy(p32), ref.astype(np.float32))


def test_seeded_weights_are_the_documented_draws(backend):
    # init.py: W ~ U(-r, r) from numpy.random.default_rng(seed), layer by layer, biases zero.
    # relu hidden: He r = √(6/fan_in); softmax output: Glorot r = √(6/(fan_in + fan_out))
    net = xb.MLP([5, 7, 3], hidden="relu", output="softmax", backend=backend, dtype="float64", seed=9)
    rng = np.random.default_rng(9)
    W1 = rng.uniform(-math.sqrt(6 / 5), math.sqrt(6 / 5), size=(5, 7))
    W2 = rng.uniform(-math.sqrt(6 / 10), math.sqrt(6 / 10), size=(7, 3))
    np.testing.assert_array_equal(xb.to_numpy(net.weights[0]), W1)
    np.testing.assert_array_equal(xb.to_numpy(net.weights[1]), W2)
    for b, n in zip(net.biases, (7, 3)):
        np.testing.assert_array_equal(xb.to_numpy(b), np.zeros(n))


def test_different_seeds_give_different_weights(backend):
    a = xb.MLP([4, 6, 2], backend=backend, seed=0)
    b = xb.MLP([4, 6, 2], backend=backend, seed=1)
    for wa, wb in zip(a.weights, b.weights):
        assert not np.any(xb.to_numpy(wa) == xb.to_numpy(wb))


def _expected_bound(fan_in, fan_out, activation):
    """The table in xpbackprop/init.py."""
    if activation in ("relu", "leaky_relu", "gelu", "softplus"):
        return math.sqrt(6.0 / fan_in)  # He
    if activation == "sigmoid":
        return math.sqrt(2.0 / (fan_in + fan_out))
    return math.sqrt(6.0 / (fan_in + fan_out))  # Glorot


def _assert_uniform_with_bound(W, r, what):
    """W looks like n draws of U(-r, r): inside ±r, reaching close to ±r, spread r/√3.

    Tolerances are five standard errors of each statistic for n draws (max: the chance
    that no draw comes within 20 r / n of an end is e^-10).
    """
    W = xb.to_numpy(W).astype(np.float64).ravel()
    n = W.size
    assert np.max(np.abs(W)) <= r * (1 + 1e-7), f"{what}: max |W| above r = {r}"
    assert np.max(W) >= r * (1 - 20 / n) and np.min(W) <= -r * (1 - 20 / n), what
    # sd of U(-r, r) is r/√3; the sample sd's standard error is about 0.258 r / √n
    assert abs(np.std(W) - r / math.sqrt(3.0)) <= 5 * 0.258 * r / math.sqrt(n), what
    assert abs(np.mean(W)) <= 5 * r / math.sqrt(3.0 * n), what


@pytest.mark.parametrize("hidden", sorted(xb.ACTIVATIONS))
def test_init_bound_follows_the_scheme(backend, hidden):
    # 400 -> 200 -> 50: He √(6/400) ≈ 0.122, Glorot √(6/600) = 0.1, logistic √(2/600) ≈ 0.058
    net = xb.MLP([400, 200, 50], hidden=hidden, output="sigmoid", loss="bce", backend=backend, seed=1)
    _assert_uniform_with_bound(net.weights[0], _expected_bound(400, 200, hidden), f"hidden {hidden}")
    _assert_uniform_with_bound(net.weights[1], _expected_bound(200, 50, "sigmoid"), "sigmoid output")
    for b in net.biases:
        np.testing.assert_array_equal(xb.to_numpy(b), 0.0)


def test_init_bound_of_conv_layers(backend):
    # Conv1D fans are in_channels·K and out_channels·K; the activation after Flatten counts
    net = xb.Sequential(
        [xb.Conv1D(16, 32, 5), xb.Activation("relu"), xb.Conv1D(32, 8, 3), xb.Flatten(),
         xb.Activation("tanh"), xb.Dense(8 * 2, 1)],
        loss="mse", backend=backend, seed=2,
    )
    _assert_uniform_with_bound(net.weights[0], math.sqrt(6 / (16 * 5)), "conv He")
    _assert_uniform_with_bound(net.weights[1], math.sqrt(6 / (32 * 3 + 8 * 3)), "Glorot through Flatten")
    assert np.max(np.abs(xb.to_numpy(net.weights[2]))) <= math.sqrt(6 / 17)  # Dense, no activation
    seed_net = _seed_network(backend)
    assert np.max(np.abs(xb.to_numpy(seed_net.weights[0]))) <= math.sqrt(6 / (4 + 8))


# --- dtype and device -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
def test_dtype_is_preserved(backend, xp, dtype):
    kwargs = {} if dtype is None else {"dtype": dtype}
    expected = getattr(xp, dtype or "float32")  # float32 is the default
    rng = np.random.default_rng(45)
    X = rng.normal(size=(4, 3))
    for net, Y in (
        (xb.MLP([3, 3, 3, 2], backend=backend, **kwargs), np.array([0, 1, 1, 0])),
        (_seed_network(backend, dtype=dtype or "float32"), SEED_Y),
    ):
        Xn = X if isinstance(net, xb.MLP) else SEED_X
        for p in net.parameters:
            assert p.dtype == expected
        assert net.forward(Xn).dtype == expected
        assert net.forward(xp.asarray(Xn.astype(np.float32))).dtype == expected
        loss, dW, db = net.gradients(Xn, Y)
        assert isinstance(loss, float)
        for g in dW + db:
            assert g.dtype == expected


def test_device_is_preserved(backend, xp):
    devices = [None]
    if backend == "array_api_strict":
        devices.append(xp.Device("device1"))
    rng = np.random.default_rng(46)
    for dev in devices:
        net = xb.MLP([3, 3, 2], backend=backend, device=dev)
        X = xp.asarray(rng.normal(size=(4, 3)).astype(np.float32), device=dev)
        expected = array_api_compat.device(X)
        for p in net.parameters:
            assert array_api_compat.device(p) == expected
        assert array_api_compat.device(net.forward(X)) == expected
        assert array_api_compat.device(net.forward(xb.to_numpy(X))) == expected
        _, dW, db = net.gradients(X, np.array([0, 1, 1, 0]))
        for g in dW + db:
            assert array_api_compat.device(g) == expected
        assert array_api_compat.device(net.predict(X)) == expected


# --- the parameter contract ---------------------------------------------------------------------------


def test_weights_biases_and_layers_contract(backend, xp):
    net = xb.MLP([3, 5, 4, 2], hidden="tanh", backend=backend)
    assert [tuple(w.shape) for w in net.weights] == [(3, 5), (5, 4), (4, 2)]
    assert [tuple(b.shape) for b in net.biases] == [(5,), (4,), (2,)]
    assert net.layers[0].W is net.weights[0]
    assert net.layers[0].b is net.biases[0]
    assert net.layers[2].W is net.weights[1]
    for p in net.weights + net.biases:
        assert array_api_compat.array_namespace(p) is xp
    conv = _seed_network(backend)
    assert [tuple(w.shape) for w in conv.weights] == [(2, 1, 4), (12, 1)]
    assert [tuple(b.shape) for b in conv.biases] == [(2,), (1,)]
    assert conv.layers[0].W is conv.weights[0]
    assert conv.layers[3].W is conv.weights[1]
    assert conv.forward(SEED_X).shape == (6, 1)


def test_forward_matches_numpy(backend):
    rng = np.random.default_rng(47)
    net = xb.MLP([3, 3, 3, 2], hidden=["gelu", "leaky_relu"], output="softmax", backend=backend,
                 dtype="float64", seed=12)
    X = rng.normal(size=(4, 3))
    params = [xb.to_numpy(p) for p in net.parameters]
    A = net.forward(X)
    assert A.shape == (4, 2)
    assert_close(A, np_forward(net, params, X), 1e-12, "forward")


def test_hidden_list_gives_per_layer_activations(backend):
    rng = np.random.default_rng(48)
    net = xb.MLP([3, 3, 3, 3, 2], hidden=["tanh", "relu", "logistic"], output="identity", loss="mse",
                 backend=backend, dtype="float64", seed=13)
    assert net.hidden == ["tanh", "relu", "sigmoid"]
    assert [layer.name for layer in net.layers[1::2]] == ["tanh", "relu", "sigmoid", "identity"]
    X = rng.normal(size=(4, 3))
    W = [xb.to_numpy(w) for w in net.weights]
    b = [xb.to_numpy(v) for v in net.biases]
    # by hand: tanh, then relu, then the logistic, then the identity output
    A1 = np.tanh(X @ W[0] + b[0])
    A2 = np.maximum(A1 @ W[1] + b[1], 0.0)
    A3 = 1 / (1 + np.exp(-(A2 @ W[2] + b[2])))
    assert_close(net.forward(X), A3 @ W[3] + b[3], 1e-12, "forward")


def test_set_parameters_accepts_numpy_and_backend_arrays(backend, xp):
    rng = np.random.default_rng(49)
    net = xb.MLP([3, 3, 2], backend=backend, dtype="float64")
    W = [rng.normal(size=(3, 3)), rng.normal(size=(3, 2))]
    b = [rng.normal(size=3), rng.normal(size=2)]
    net.set_parameters(W, b)
    for p, ref in zip(net.parameters, [W[0], b[0], W[1], b[1]]):
        np.testing.assert_array_equal(xb.to_numpy(p), ref)
        assert array_api_compat.array_namespace(p) is xp
    X = rng.normal(size=(4, 3))
    assert_close(net.forward(X), _np_softmax(np.maximum(X @ W[0] + b[0], 0) @ W[1] + b[1]), 1e-12, "A")
    # backend arrays, and float32 ones cast to the network's dtype
    W2 = [w * 2 for w in W]
    net.set_parameters([xp.asarray(w.astype(np.float32)) for w in W2], [xp.asarray(v) for v in b])
    for p, ref in zip(net.weights, W2):
        np.testing.assert_array_equal(xb.to_numpy(p), ref.astype(np.float32).astype(np.float64))
        assert p.dtype == xp.float64


def _snapshot(net):
    return [xb.to_numpy(p).copy() for p in net.parameters]


def _assert_unchanged(net, before):
    for p, ref in zip(net.parameters, before, strict=True):
        np.testing.assert_array_equal(xb.to_numpy(p), ref)


def test_set_parameters_rejects_bad_input_and_changes_nothing(backend):
    net = xb.MLP([3, 4, 2], backend=backend)
    before = _snapshot(net)
    good_W = [np.ones((3, 4)), np.ones((4, 2))]
    good_b = [np.ones(4), np.ones(2)]
    bad = [
        ([np.ones((3, 4)), np.ones((2, 4))], good_b),  # second W transposed
        (good_W, [np.ones(4), np.ones(3)]),  # second b too long
        ([np.ones((3, 4))], good_b),  # too few weights
        (good_W, [np.ones(4)]),  # too few biases
        ([*good_W, np.ones((2, 2))], [*good_b, np.ones(2)]),  # too many
        ([np.ones((4, 3)), np.ones((4, 2))], good_b),  # first W wrong
    ]
    for W, b in bad:
        with pytest.raises(ValueError):
            net.set_parameters(W, b)
        _assert_unchanged(net, before)


def test_predict(backend):
    rng = np.random.default_rng(50)
    X = rng.normal(size=(4, 3))
    # softmax: the argmax of the output row
    net = xb.MLP([3, 3, 3], hidden="tanh", output="softmax", backend=backend, dtype="float64", seed=14)
    A = np_forward(net, [xb.to_numpy(p) for p in net.parameters], X)
    np.testing.assert_array_equal(xb.to_numpy(net.predict(X)), np.argmax(A, axis=1))
    # identity: the outputs themselves
    net = xb.MLP([3, 3, 2], hidden="tanh", output="identity", loss="mse", backend=backend,
                 dtype="float64", seed=15)
    A = np_forward(net, [xb.to_numpy(p) for p in net.parameters], X)
    assert_close(net.predict(X), A, 1e-12, "identity predict")


def _default_jax_precision(backend, dtype):
    """JAX as a fresh process has it (no 64-bit types) for a float32 network, else nothing."""
    if backend == "jax" and dtype == "float32":
        import jax

        return jax.enable_x64(False)
    return contextlib.nullcontext()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_sigmoid_gives_zero_one_labels(backend, dtype):
    rng = np.random.default_rng(51)
    X = rng.normal(size=(4, 3))
    with _default_jax_precision(backend, dtype):
        for n_out in (1, 2):
            net = xb.MLP([3, 3, n_out], hidden="tanh", output="sigmoid", loss="bce", backend=backend,
                         dtype=dtype, seed=16)
            net.set_parameters([xb.to_numpy(w) * 4 for w in net.weights], net.biases)
            A = np_forward(net, [xb.to_numpy(p).astype(np.float64) for p in net.parameters], X)
            expected = (A > 0.5).astype(int)
            labels = xb.to_numpy(net.predict(X))
            assert np.issubdtype(labels.dtype, np.integer)
            assert set(np.unique(labels)) <= {0, 1}
            np.testing.assert_array_equal(labels, expected[:, 0] if n_out == 1 else expected)


def test_to_another_backend_keeps_values(backend):
    rng = np.random.default_rng(52)
    X = rng.normal(size=(4, 3))
    net = xb.MLP([3, 3, 2], hidden="tanh", backend=backend, dtype="float64", seed=17)
    before = _snapshot(net)
    out = xb.to_numpy(net.forward(X))
    for target in ("numpy", "array_api_strict", backend):
        assert net.to(target) is net
        assert net.backend == target
        assert array_api_compat.array_namespace(net.weights[0]) is xb.namespace(target)
        _assert_unchanged(net, before)
        assert_close(net.forward(X), out, 1e-12, f"forward after .to({target!r})")
    net.to("numpy", dtype="float32")
    for p, ref in zip(net.parameters, before):
        np.testing.assert_array_equal(xb.to_numpy(p), ref.astype(np.float32))


# --- MLP arguments -----------------------------------------------------------------------------------------


def test_mlp_rejects_wrong_hidden_length():
    with pytest.raises(ValueError, match="hidden"):
        xb.MLP([3, 4, 5, 2], hidden=["relu"])
    with pytest.raises(ValueError, match="hidden"):
        xb.MLP([3, 2], hidden=["relu"])
    assert xb.MLP([3, 2], hidden=[]).hidden == []


@pytest.mark.parametrize("sizes", [[3, 0, 2], [3, -4, 2], [3], [], [3, 2.5, 2], [0, 2]])
def test_mlp_rejects_bad_sizes(sizes):
    error = TypeError if 2.5 in sizes else ValueError  # a non-integer is a TypeError
    with pytest.raises(error, match="positive integers"):
        xb.MLP(sizes)


def test_mlp_unknown_names_list_the_valid_ones():
    for kwargs in ({"hidden": "rectifier"}, {"hidden": ["relu", "swish"]}, {"output": "argmax"}):
        with pytest.raises(ValueError, match="valid names") as info:
            xb.MLP([3, 4, 4, 2], **kwargs)
        for name in ("relu", "tanh", "sigmoid", "softmax", "identity"):
            assert name in str(info.value)
    with pytest.raises(ValueError, match="valid names") as info:
        xb.MLP([3, 4, 2], loss="hinge")
    for name in ("mse", "bce", "cross_entropy"):
        assert name in str(info.value)
    with pytest.raises(ValueError, match="valid backends"):
        xb.MLP([3, 4, 2], backend="tensorflow")
    with pytest.raises(ValueError, match="float32"):
        xb.MLP([3, 4, 2], dtype="float16")


def test_inputs_of_the_wrong_shape_are_rejected(backend):
    net = xb.MLP([3, 4, 2], backend=backend)
    with pytest.raises(ValueError):
        net.forward(np.ones((5, 4)))
    with pytest.raises(ValueError):
        net.gradients(np.ones((5, 3)), np.array([0, 1, 0]))  # 3 labels for 5 rows
    with pytest.raises(ValueError):
        net.gradients(np.ones((5, 3)), np.ones((5, 3)))  # 3 target columns for 2 outputs


# --- copy.deepcopy and pickle --------------------------------------------------------------------


@pytest.mark.parametrize("how", ["deepcopy", "pickle", "copy"])
def test_a_copied_network_is_the_same_network_and_independent(backend, how):
    import copy
    import pickle

    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(24, 4)), rng.integers(0, 3, 24)
    layers = [xb.Conv1D(1, 2, 2), xb.Activation("tanh"), xb.Flatten(), xb.Dense(6, 3),
              xb.Activation("softmax")]
    nets = [xb.MLP([4, 5, 3], hidden="relu", backend=backend, dtype="float64", seed=1),
            xb.Sequential(layers, loss="cross_entropy", backend=backend, dtype="float64", seed=2)]
    for net in nets:
        net.fit(X, y, epochs=2, lr=0.1, batch_size=8, shuffle=True)  # parameters and generator moved on
        # net.copy(): its own generator in the same state, and no compiled JAX step of net's
        twin = {"deepcopy": copy.deepcopy, "pickle": lambda n: pickle.loads(pickle.dumps(n)),
                "copy": lambda n: n.copy()}[how](net)
        assert twin.rng is not net.rng
        assert (twin.backend, twin.dtype_name, twin.config()) == (net.backend, net.dtype_name, net.config())
        assert str(twin.device) == str(net.device)
        for a, b in zip(twin.parameters, net.parameters):
            assert array_api_compat.array_namespace(a) is array_api_compat.array_namespace(b)
            np.testing.assert_array_equal(xb.to_numpy(a), xb.to_numpy(b))
        np.testing.assert_array_equal(xb.to_numpy(twin.forward(X)), xb.to_numpy(net.forward(X)))
        # the same generator state: the same shuffled epochs, so the same weights after them
        before = [xb.to_numpy(p).copy() for p in net.parameters]
        twin.fit(X, y, epochs=2, lr=0.1, batch_size=8, shuffle=True)
        for a, b in zip(net.parameters, before):
            np.testing.assert_array_equal(xb.to_numpy(a), b)  # the original did not move
        net.fit(X, y, epochs=2, lr=0.1, batch_size=8, shuffle=True)
        for a, b in zip(twin.parameters, net.parameters):
            np.testing.assert_array_equal(xb.to_numpy(a), xb.to_numpy(b))


def test_a_jax_device_pickles_by_its_name():
    import pickle

    from xpbackprop.backend import backend_unavailable_reason

    if (reason := backend_unavailable_reason("jax")) is not None:
        pytest.skip(f"jax cannot run here: {reason}")
    import jax

    device = jax.devices()[0]
    net = xb.MLP([3, 2], backend="jax", device=device, seed=0)
    with pytest.raises(TypeError):  # the reason for the name: a jax Device itself does not pickle
        pickle.dumps(device)
    twin = pickle.loads(pickle.dumps(net))
    assert twin.device == device
    assert all(p.devices() == {device} for p in twin.parameters)


def test_a_copy_does_not_reuse_the_original_compiled_step():
    # JAX's compiled step is a closure over the network that built it: a copy must build its own
    from xpbackprop.backend import backend_unavailable_reason

    if (reason := backend_unavailable_reason("jax")) is not None:
        pytest.skip(f"jax cannot run here: {reason}")
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(32, 3)), rng.integers(0, 2, 32)
    net = xb.MLP([3, 4, 2], backend="jax", dtype="float32", seed=0)
    net.fit(X, y, epochs=1, lr=0.1)  # compiles and caches the step on net
    twin, fresh = net.copy(), xb.MLP([3, 4, 2], backend="jax", dtype="float32", seed=0)
    for other in (twin, fresh):  # the same new parameters; net's stay as they are
        other.set_parameters([np.full((3, 4), 0.5), np.full((4, 2), -0.25)], [np.zeros(4), np.ones(2)])
    expected = fresh.fit(X, y, epochs=2, lr=0.1, shuffle=False).loss
    assert twin.fit(X, y, epochs=2, lr=0.1, shuffle=False).loss == pytest.approx(expected, rel=1e-6)
    for a, b in zip(twin.parameters, fresh.parameters):
        np.testing.assert_allclose(xb.to_numpy(a), xb.to_numpy(b), rtol=1e-6, atol=1e-7)
