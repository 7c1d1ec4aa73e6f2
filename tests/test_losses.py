"""Losses: values by DESIGN.md's conventions, fused deltas, finite values from logits, names."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import RTOL, assert_close, central_difference
from helpers import f64 as _f64

import xpbackprop as xb
from xpbackprop.activations import get_activation
from xpbackprop.backend import enable_float64
from xpbackprop.losses import get_loss

REDUCTIONS = ["mean", "sum"]



def _value(loss, xp, A, Y, Z=None):
    Zx = None if Z is None else _f64(xp, Z)
    return float(loss.value(_f64(xp, A), _f64(xp, Y), xp=xp, Z=Zx))



def _np_softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _np_sigmoid(Z):
    return 1.0 / (1.0 + np.exp(-Z))


def _one_hot(labels, k):
    return np.eye(k)[labels]


# --- values by hand ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("half", "reduction", "expected"),
    [
        # A - Y = [[1, 0], [2, 3]]: per-sample Σ_k (A - Y)² = 1 and 4 + 9 = 13, total 14;
        # mean over N = 2 samples: 7; half: ½ of each.
        (False, "sum", 14.0),
        (False, "mean", 7.0),
        (True, "sum", 7.0),
        (True, "mean", 3.5),
    ],
)
def test_mse_by_hand(xp, half, reduction, expected):
    A = [[1.0, 2.0], [3.0, 4.0]]
    Y = [[0.0, 2.0], [1.0, 1.0]]
    assert _value(xb.MSE(half=half, reduction=reduction), xp, A, Y) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_by_hand(xp, reduction):
    # sample 1: y = 1, a = ½ -> -log ½ = ln 2; y = 0, a = ¼ -> -log ¾
    # sample 2: y = 0, a = ½ -> ln 2;        y = 1, a = ¾ -> -log ¾
    A = [[0.5, 0.25], [0.5, 0.75]]
    Y = [[1.0, 0.0], [0.0, 1.0]]
    total = 2 * np.log(2.0) - 2 * np.log(0.75)
    expected = total / 2 if reduction == "mean" else total
    assert _value(xb.BCE(reduction=reduction), xp, A, Y) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_by_hand(xp, reduction):
    # -Σ_k Y_k log A_k: sample 1 picks ½ -> ln 2, sample 2 picks ⅕ -> ln 5
    A = [[0.5, 0.25, 0.25], [0.4, 0.4, 0.2]]
    Y = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    total = np.log(2.0) + np.log(5.0)
    expected = total / 2 if reduction == "mean" else total
    assert _value(xb.CrossEntropy(reduction=reduction), xp, A, Y) == pytest.approx(expected, rel=1e-14)


# --- values against NumPy on random data ---------------------------------------------------------


def _np_loss(kind, A, Y, reduction, half=False):
    """The DESIGN.md conventions in NumPy: per-sample sums over output units, mean divides by N."""
    if kind == "mse":
        per_sample = np.sum((A - Y) ** 2, axis=1) * (0.5 if half else 1.0)
    elif kind == "bce":
        per_sample = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A), axis=1)
    else:
        per_sample = -np.sum(Y * np.log(A), axis=1)
    return per_sample.sum() / (len(A) if reduction == "mean" else 1.0)


def _random_case(kind, rng, n=4, k=3):
    Z = rng.normal(size=(n, k)) * 2
    if kind == "cross_entropy":
        return Z, _np_softmax(Z), _one_hot(rng.integers(0, k, size=n), k)
    if kind == "bce":
        return Z, _np_sigmoid(Z), (rng.uniform(size=(n, k)) < 0.5).astype(float)
    return Z, Z, rng.normal(size=(n, k))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("mse", lambda r: xb.MSE(reduction=r)),
        ("mse_half", lambda r: xb.MSE(half=True, reduction=r)),
        ("bce", lambda r: xb.BCE(reduction=r)),
        ("cross_entropy", lambda r: xb.CrossEntropy(reduction=r)),
    ],
)
def test_values_against_numpy(xp, kind, make, reduction):
    rng = np.random.default_rng(20)
    base = "mse" if kind.startswith("mse") else kind
    Z, A, Y = _random_case(base, rng)
    expected = _np_loss(base, A, Y, reduction, half=kind == "mse_half")
    loss = make(reduction)
    assert _value(loss, xp, A, Y) == pytest.approx(expected, rel=1e-13)
    if base != "mse":  # from the logits: same value
        assert _value(loss, xp, A, Y, Z=Z) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_float32_values_against_numpy(xp, reduction):
    rng = np.random.default_rng(21)
    for base, loss in (
        ("mse", xb.MSE(reduction=reduction)),
        ("bce", xb.BCE(reduction=reduction)),
        ("cross_entropy", xb.CrossEntropy(reduction=reduction)),
    ):
        _, A, Y = _random_case(base, rng)
        value = loss.value(xp.asarray(A.astype(np.float32)), xp.asarray(Y.astype(np.float32)), xp=xp)
        assert value.dtype == xp.float32
        assert float(value) == pytest.approx(_np_loss(base, A, Y, reduction), rel=RTOL["float32"])


# --- integer labels ------------------------------------------------------------------------------------


def test_integer_labels_equal_one_hot(xp):
    rng = np.random.default_rng(22)
    labels = np.array([2, 0, 1, 2])
    one_hot = _one_hot(labels, 3)
    loss = xb.CrossEntropy()
    enable_float64(xp)
    encoded = loss.encode_targets(xp.asarray(labels), 3, xp=xp, dtype=xp.float64)
    np.testing.assert_array_equal(xb.to_numpy(encoded), one_hot)
    # and through a network: the same loss and gradients with either form of target
    net = xb.MLP([3, 3, 3], backend=xp, dtype="float64", seed=1)
    X = rng.normal(size=(4, 3))
    assert net.loss(X, labels) == net.loss(X, one_hot)
    expected = _np_loss("cross_entropy", _np_softmax(_np_forward_logits(net, X)), one_hot, "mean")
    assert net.loss(X, labels) == pytest.approx(expected, rel=1e-12)
    _, dW_lab, db_lab = net.gradients(X, labels)
    _, dW_hot, db_hot = net.gradients(X, one_hot)
    for a, b in zip(dW_lab + db_lab, dW_hot + db_hot):
        np.testing.assert_array_equal(xb.to_numpy(a), xb.to_numpy(b))


def _np_forward_logits(net, X):
    """Logits of a relu-hidden MLP, in NumPy from the network's parameters."""
    W = [xb.to_numpy(w) for w in net.weights]
    b = [xb.to_numpy(v) for v in net.biases]
    A = X
    for k in range(len(W) - 1):
        A = np.maximum(A @ W[k] + b[k], 0.0)
    return A @ W[-1] + b[-1]


# --- fused delta = general chain rule = central differences ----------------------------------------


CANONICAL = [
    ("softmax", lambda r: xb.CrossEntropy(reduction=r), "cross_entropy"),
    ("sigmoid", lambda r: xb.BCE(reduction=r), "bce"),
    ("identity", lambda r: xb.MSE(reduction=r), "mse"),
    ("identity", lambda r: xb.MSE(half=True, reduction=r), "mse"),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("activation", "make", "kind"), CANONICAL)
def test_fused_delta_equals_chain_rule_and_central_differences(xp, activation, make, kind, reduction):
    rng = np.random.default_rng(23)
    Z, _, Y = _random_case(kind, rng, n=4, k=3)
    loss = make(reduction)
    assert loss.canonical == activation
    _, (forward, backward) = get_activation(activation)
    Zx, Yx = _f64(xp, Z), _f64(xp, Y)
    A = forward(Zx, xp=xp)
    fused = loss.delta(A, Yx, xp=xp)
    chain = backward(loss.backward(A, Yx, xp=xp), Zx, A, xp=xp)
    assert_close(fused, chain, 1e-12, f"{kind} fused vs chain rule")

    # independent: dJ/dZ of J(Z) = loss(φ(Z), Y) by central differences
    def J(z):
        return float(loss.value(forward(_f64(xp, z), xp=xp), Yx, xp=xp))

    assert_close(fused, central_difference(J, Z), 1e-7, f"{kind} fused vs central differences")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("mse", lambda r: xb.MSE(reduction=r)),
        ("bce", lambda r: xb.BCE(reduction=r)),
        ("cross_entropy", lambda r: xb.CrossEntropy(reduction=r)),
    ],
)
def test_loss_backward_matches_central_differences_in_A(xp, kind, make, reduction):
    # dJ/dA for the general (non-fused) path
    rng = np.random.default_rng(24)
    _, A, Y = _random_case(kind, rng, n=4, k=3)
    loss = make(reduction)
    Yx = _f64(xp, Y)
    numeric = central_difference(lambda a: float(loss.value(_f64(xp, a), Yx, xp=xp)), A)
    assert_close(loss.backward(_f64(xp, A), Yx, xp=xp), numeric, 1e-7, kind)


# --- finite values from huge logits ---------------------------------------------------------------


def _np_ce_from_logits(Z, Y, reduction):
    lse = np.logaddexp.reduce(Z, axis=1, keepdims=True)
    return np.sum(Y * (lse - Z)) / (len(Z) if reduction == "mean" else 1.0)


def _np_bce_from_logits(Z, Y, reduction):
    # -[y log σ(z) + (1 - y) log(1 - σ(z))] = log(1 + e^z) - y z
    return np.sum(np.logaddexp(0.0, Z) - Y * Z) / (len(Z) if reduction == "mean" else 1.0)


HUGE_Z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [3.0, -2.0, 1e4], [-1e4, -1e4, -1e4]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_from_huge_logits_is_finite_and_right(xp, reduction, dtype):
    if dtype == "float64":
        enable_float64(xp)
    # wrong classes on purpose: the loss is of order 1e4, far beyond log(eps)
    Y = _one_hot(np.array([1, 0, 1, 2]), 3)
    Z = xp.asarray(HUGE_Z.astype(dtype))
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        loss = xb.CrossEntropy(reduction=reduction)
        A = get_activation("softmax")[1][0](Z, xp=xp)
        value = float(loss.value(A, xp.asarray(Y.astype(dtype)), xp=xp, Z=Z))
    assert np.isfinite(value)
    assert value == pytest.approx(_np_ce_from_logits(HUGE_Z, Y, reduction), rel=RTOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_from_huge_logits_is_finite_and_right(xp, reduction, dtype):
    if dtype == "float64":
        enable_float64(xp)
    Y = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    Z = xp.asarray(HUGE_Z.astype(dtype))
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        loss = xb.BCE(reduction=reduction)
        A = get_activation("sigmoid")[1][0](Z, xp=xp)
        value = float(loss.value(A, xp.asarray(Y.astype(dtype)), xp=xp, Z=Z))
    assert np.isfinite(value)
    assert value == pytest.approx(_np_bce_from_logits(HUGE_Z, Y, reduction), rel=RTOL[dtype])


def test_losses_from_huge_logits_match_torch(xp):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    labels = np.array([1, 0, 1, 2])
    Zt = torch.tensor(HUGE_Z, dtype=torch.float64)
    Y_bce = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    Zx = _f64(xp, HUGE_Z)
    for reduction in REDUCTIONS:
        ce = xb.CrossEntropy(reduction=reduction)
        A = get_activation("softmax")[1][0](Zx, xp=xp)
        ours = float(ce.value(A, _f64(xp, _one_hot(labels, 3)), xp=xp, Z=Zx))
        theirs = float(F.cross_entropy(Zt, torch.tensor(labels), reduction=reduction))
        assert ours == pytest.approx(theirs, rel=1e-12)
        bce = xb.BCE(reduction=reduction)
        A = get_activation("sigmoid")[1][0](Zx, xp=xp)
        ours = float(bce.value(A, _f64(xp, Y_bce), xp=xp, Z=Zx))
        # torch's "mean" divides by every element; DESIGN.md's divides by the samples
        theirs = float(F.binary_cross_entropy_with_logits(Zt, torch.tensor(Y_bce), reduction="sum"))
        assert ours == pytest.approx(theirs / (len(HUGE_Z) if reduction == "mean" else 1), rel=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_network_loss_from_huge_logits(xp, dtype):
    # One Dense layer 2 -> 3 with weights ±5000: the logits reach ±1e4.
    W = np.array([[5000.0, -5000.0, 0.0], [5000.0, 5000.0, -5000.0]])
    b = np.array([0.0, 1.0, -2.0])
    X = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [0.5, 0.0]])
    Z = X @ W + b  # e.g. row 1: [1e4, 1, -5002]
    labels = np.array([2, 0, 1, 1])
    net = xb.MLP([2, 3], output="softmax", loss="cross_entropy", backend=xp, dtype=dtype)
    net.set_parameters([W], [b])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        value = net.loss(X, labels)
        loss, dW, db = net.gradients(X, labels)
    expected = _np_ce_from_logits(Z, _one_hot(labels, 3), "mean")
    assert np.isfinite(value)
    assert value == pytest.approx(expected, rel=RTOL[dtype])
    assert loss == pytest.approx(expected, rel=RTOL[dtype])
    # gradients by the fused delta: dZ = (softmax(Z) - Y) / N, dW = Xᵀ dZ
    dZ = (_np_softmax(Z) - _one_hot(labels, 3)) / len(X)
    assert_close(dW[0], X.T @ dZ, RTOL[dtype], "dW")
    assert_close(db[0], dZ.sum(axis=0), RTOL[dtype], "db")

    bnet = xb.MLP([2, 3], output="sigmoid", loss=xb.BCE(reduction="sum"), backend=xp, dtype=dtype)
    bnet.set_parameters([W], [b])
    Y = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        value = bnet.loss(X, Y)
    assert np.isfinite(value)
    assert value == pytest.approx(_np_bce_from_logits(Z, Y, "sum"), rel=RTOL[dtype])


# --- names and options ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hinge", "MSE", "crossentropy", ""])
def test_unknown_loss_name_lists_valid_names(name):
    with pytest.raises(ValueError, match="valid names") as info:
        get_loss(name)
    for valid in ("mse", "bce", "cross_entropy"):
        assert valid in str(info.value)
    with pytest.raises(ValueError, match="valid names"):
        xb.MLP([2, 3, 2], loss=name)


def test_loss_names_give_the_documented_classes():
    assert get_loss("mse") == xb.MSE()
    assert get_loss("bce") == xb.BCE()
    assert get_loss("cross_entropy") == xb.CrossEntropy()
    assert get_loss("poisson") == xb.Poisson()
    assert get_loss("mse") != xb.MSE(half=True)
    assert set(xb.LOSSES) == {"mse", "bce", "cross_entropy", "poisson"}


@pytest.mark.parametrize("make", [xb.BCE, xb.CrossEntropy, xb.MSE, lambda **kw: xb.MSE(half=True, **kw)])
@pytest.mark.parametrize("reduction", ["avg", "none", "Mean", ""])
def test_bad_reduction_raises(make, reduction):
    with pytest.raises(ValueError, match="reduction") as info:
        make(reduction=reduction)
    assert "mean" in str(info.value)
    assert "sum" in str(info.value)


@pytest.mark.parametrize("half", ["no", "False", None, 0.5, [True]])
def test_mse_half_must_be_a_boolean(half):
    with pytest.raises(TypeError, match=r"half must be True or False"):
        xb.MSE(half=half)
    with pytest.raises(TypeError, match=r"half must be True or False"):
        get_loss({"name": "mse", "half": half})


def test_mse_half_takes_numpy_booleans():
    assert xb.MSE(half=np.True_) == xb.MSE(half=True)
    assert xb.MSE(half=np.False_) == xb.MSE()


# --- Poisson: half the deviance with a log link ------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_by_hand(xp, reduction):
    # Z = 0, A = 1: per row Σ_k [Y log Y - Y log A - Y + A]: (0 - 0 - 0 + 1) + (0 - 0 - 1 + 1)
    # + (2 ln 2 - 0 - 2 + 1) = 2 ln 2 for the first row; the second, A = e: Y = 0 gives e,
    # Y = e gives e - e·1 - e + e = 0, Y = 1 gives 0 - 1 - 1 + e = e - 2: 2e - 2
    Z = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    Y = np.array([[0.0, 1.0, 2.0], [0.0, np.e, 1.0]])
    per_row = np.array([2 * np.log(2.0), 2 * np.e - 2])
    expected = per_row.sum() / (2 if reduction == "mean" else 1)
    loss = xb.Poisson(reduction=reduction)
    assert _value(loss, xp, np.exp(Z), Y) == pytest.approx(expected, rel=1e-14)
    assert _value(loss, xp, np.exp(Z), Y, Z=Z) == pytest.approx(expected, rel=1e-14)
    assert loss.canonical == "exp"


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_delta_and_backward_match_central_differences(xp, reduction):
    rng = np.random.default_rng(25)
    Z = rng.normal(size=(4, 3))
    Y = rng.poisson(2.0, size=(4, 3)).astype(float)
    loss = xb.Poisson(reduction=reduction)
    _, (forward, backward) = get_activation("exp")
    Zx, Yx = _f64(xp, Z), _f64(xp, Y)
    A = forward(Zx, xp=xp)
    fused = loss.delta(A, Yx, xp=xp)
    assert_close(fused, backward(loss.backward(A, Yx, xp=xp), Zx, A, xp=xp), 1e-12, "chain rule")
    numeric = central_difference(lambda z: float(loss.value(forward(_f64(xp, z), xp=xp), Yx, xp=xp)), Z)
    assert_close(fused, numeric, 1e-7, "central differences")


def test_a_poisson_network_trains_through_its_fused_delta(xp, backend):
    """xb.MLP(output="exp", loss="poisson"): the engine's gradients are central differences'."""
    rng = np.random.default_rng(26)
    X, Y = rng.normal(size=(6, 3)), rng.poisson(1.5, size=(6, 2)).astype(float)
    net = xb.MLP([3, 4, 2], hidden="tanh", output="exp", loss="poisson", backend=backend, dtype="float64")
    assert xb.check_gradients(net, X, Y) < 1e-6
    history = net.fit(X, Y, epochs=30, lr=0.05, shuffle=False)
    assert history.loss[-1] < history.loss[0]


# --- clip: scikit-learn's log-loss value ------------------------------------------------------------------


@pytest.mark.parametrize("make", [xb.BCE, xb.CrossEntropy])
def test_clip_takes_the_value_from_clipped_probabilities(xp, make):
    """``clip=True`` is scikit-learn's log-loss (probabilities clipped to [ε, 1 - ε]): equal to the
    logits' value where nothing saturates, ``-log ε`` per saturated wrong answer where it does; the
    gradient is the same."""
    from sklearn.metrics import log_loss

    k = 1 if make is xb.BCE else 3
    mild = np.array([[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]])[:, :k]
    huge = np.array([[60.0, -50.0, 2.0], [0.1, 0.2, -0.3]])[:, :k]
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])[:, :k]
    clipped, plain = make(clip=True), make()
    probabilities = _np_sigmoid if k == 1 else _np_softmax
    for Z in (mild, huge):
        if k == 1:
            P = np.concatenate([1 - _np_sigmoid(Z), _np_sigmoid(Z)], axis=1)
            labels = Y[:, 0]
        else:
            P, labels = _np_softmax(Z), Y.argmax(axis=1)
        expected = log_loss(labels, P, labels=list(range(max(k, 2))))  # scikit-learn clips at ε too
        assert _value(clipped, xp, probabilities(Z), Y, Z=Z) == pytest.approx(expected, rel=1e-12)
    A = probabilities(mild)
    assert _value(plain, xp, A, Y, Z=mild) == pytest.approx(_value(clipped, xp, A, Y, Z=mild), rel=1e-12)
    # saturated: the logits give the exact 60 (or 110), the clipped value stops at -log ε ≈ 36
    A = probabilities(huge)
    assert _value(plain, xp, A, Y, Z=huge) > _value(clipped, xp, A, Y, Z=huge) + 10
    Ax = _f64(xp, A)
    np.testing.assert_array_equal(xb.to_numpy(clipped.delta(Ax, _f64(xp, Y), xp=xp)),
                                  xb.to_numpy(plain.delta(Ax, _f64(xp, Y), xp=xp)))
    assert get_loss(clipped.config()) == clipped and "clip" not in plain.config()
