"""Activations: known values, central differences, PyTorch, dtype, device, extreme inputs."""

from __future__ import annotations

import math
import warnings

import array_api_compat
import numpy as np
import pytest
from helpers import RTOL, assert_close, central_difference
from helpers import f64 as _f64

import xpbackprop as xb
from xpbackprop.activations import get_activation
from xpbackprop.backend import enable_float64

NAMES = sorted(xb.ACTIVATIONS)
ELEMENTWISE = [name for name in NAMES if name != "softmax"]


def test_the_table_has_the_documented_names():
    assert set(xb.ACTIVATIONS) == {
        "identity", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "gelu", "exp", "softmax",
    }


def _pair(name):
    return get_activation(name)[1]




def _away_from_zero(rng, shape, low=0.1, high=2.5):
    """Values with |z| in [low, high], random sign: no kink of relu / leaky_relu within eps."""
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# --- known values by hand -----------------------------------------------------------------

LN2, LN3 = math.log(2.0), math.log(3.0)
C = math.sqrt(2.0 / math.pi)


def _gelu_by_hand(z):
    # ½ z (1 + tanh(√(2/π)(z + 0.044715 z³))), the tanh form
    return 0.5 * z * (1.0 + math.tanh(C * (z + 0.044715 * z**3)))


KNOWN = {
    # A = Z
    "identity": ([-2.0, 0.0, 3.5], [-2.0, 0.0, 3.5]),
    # σ(0) = ½; σ(ln 3) = 1/(1 + ⅓) = ¾; σ(-ln 3) = 1/(1 + 3) = ¼
    "sigmoid": ([0.0, LN3, -LN3], [0.5, 0.75, 0.25]),
    # tanh(ln 2) = (2 - ½)/(2 + ½) = 0.6; tanh is odd
    "tanh": ([0.0, LN2, -LN2], [0.0, 0.6, -0.6]),
    "relu": ([-2.0, 0.0, 3.0], [0.0, 0.0, 3.0]),
    # slope 0.01 below zero
    "leaky_relu": ([-2.0, 0.0, 3.0], [-0.02, 0.0, 3.0]),
    # log(1 + e^0) = ln 2; log(1 + 3) = ln 4; log(1 + ⅓) = ln 4/3
    "softplus": ([0.0, LN3, -LN3], [LN2, math.log(4.0), math.log(4.0 / 3.0)]),
    "gelu": ([0.0, 1.0, -1.0, 2.0], [0.0, _gelu_by_hand(1.0), _gelu_by_hand(-1.0), _gelu_by_hand(2.0)]),
    # e^0 = 1, e^(ln 2) = 2, e^(-ln 2) = ½
    "exp": ([0.0, LN2, -LN2], [1.0, 2.0, 0.5]),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_known_values(xp, name):
    z, expected = KNOWN[name]
    forward, _ = _pair(name)
    A = forward(_f64(xp, [z]), xp=xp)
    assert_close(A, np.array([expected]), 1e-14, name)


def test_logistic_is_an_alias_of_sigmoid(xp):
    key, (forward, _) = get_activation("logistic")
    assert key == "sigmoid"
    A = forward(_f64(xp, [[0.0, LN3, -LN3]]), xp=xp)
    assert_close(A, np.array([[0.5, 0.75, 0.25]]), 1e-14, "logistic")
    assert xb.Activation("logistic").name == "sigmoid"


def test_softmax_known_values(xp):
    forward, _ = _pair("softmax")
    # exp(0), exp(ln 2), exp(ln 3) = 1, 2, 3: the row normalises to 1/6, 2/6, 3/6;
    # a constant added to a row cancels; a row of equal entries is uniform.
    Z = _f64(xp, [[0.0, LN2, LN3], [1000.0, 1000.0 + LN2, 1000.0 + LN3], [-7.0, -7.0, -7.0]])
    expected = np.array([[1 / 6, 2 / 6, 3 / 6], [1 / 6, 2 / 6, 3 / 6], [1 / 3, 1 / 3, 1 / 3]])
    assert_close(forward(Z, xp=xp), expected, 1e-12, "softmax")


def test_relu_and_leaky_relu_derivatives_by_hand(xp):
    # relu' = [Z > 0] (0 at Z = 0); leaky_relu' = 1 for Z > 0, else 0.01
    Z = _f64(xp, [[-2.0, 0.0, 3.0]])
    dA = _f64(xp, [[5.0, 7.0, 11.0]])
    for name, expected in (("relu", [[0.0, 0.0, 11.0]]), ("leaky_relu", [[0.05, 0.07, 11.0]])):
        forward, backward = _pair(name)
        assert_close(backward(dA, Z, forward(Z, xp=xp), xp=xp), np.array(expected), 1e-14, name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_relu_and_its_derivative_exactly_at_the_edges(xp, dtype):
    """Whatever formula a namespace uses (a mask product on NumPy, clip and ceil(clip) elsewhere):
    max(Z, 0) and dA ⊙ [Z > 0] exactly, at ±0, the smallest subnormal, values near 1 and the largest."""
    if dtype == "float64":
        enable_float64(xp)
    info = np.finfo(dtype)
    z = np.array([-info.max, -1.0, -info.smallest_subnormal, -0.0, 0.0, info.smallest_subnormal,
                  info.tiny, 0.5, 1.0 - info.epsneg, 1.0, 1.0 + info.eps, 2.0, info.max], dtype=dtype)
    dA = np.linspace(1.0, 2.0, z.size).astype(dtype)
    forward, backward = _pair("relu")
    dt = getattr(xp, dtype)
    Z, dA_x = xp.asarray(z[None, :], dtype=dt), xp.asarray(dA[None, :], dtype=dt)
    A = forward(Z, xp=xp)
    got_A, got_dZ = xb.to_numpy(A)[0], xb.to_numpy(backward(dA_x, Z, A, xp=xp))[0]
    # the inputs as the backend's arithmetic sees them: XLA on the CPU flushes subnormals to zero
    seen = xb.to_numpy(Z * 1.0)[0]
    assert np.array_equal(seen, z) or (array_api_compat.is_jax_namespace(xp) and seen[5] == 0)
    np.testing.assert_array_equal(got_A, np.maximum(seen, 0))
    np.testing.assert_array_equal(got_dZ, np.where(seen > 0, dA, 0))
    assert got_A.dtype == got_dZ.dtype == np.dtype(dtype)


def test_sigmoid_and_tanh_derivatives_by_hand(xp):
    # σ'(ln 3) = ¾ · ¼ = 3/16; tanh'(ln 2) = 1 - 0.36 = 0.64
    Z = _f64(xp, [[LN3, LN2]])
    dA = _f64(xp, [[2.0, 2.0]])
    for name, expected in (("sigmoid", 2 * 3 / 16), ("tanh", 2 * 0.64)):
        forward, backward = _pair(name)
        dZ = xb.to_numpy(backward(dA, Z, forward(Z, xp=xp), xp=xp))
        col = 0 if name == "sigmoid" else 1
        assert abs(dZ[0, col] - expected) <= 1e-14


# --- backward against central differences ---------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_central_differences(xp, name):
    # J = Σ G ⊙ φ(Z); dJ/dZ is backward(G, Z, φ(Z)). For softmax this is the
    # vector-Jacobian product, since softmax couples the entries of a row.
    rng = np.random.default_rng(10)
    Z = _away_from_zero(rng, (4, 3))
    G = rng.normal(size=(4, 3))
    forward, backward = _pair(name)

    def J(z):
        return float(np.sum(G * xb.to_numpy(forward(_f64(xp, z), xp=xp))))

    numeric = central_difference(J, Z)
    Zx = _f64(xp, Z)
    analytic = backward(_f64(xp, G), Zx, forward(Zx, xp=xp), xp=xp)
    assert_close(analytic, numeric, 1e-7, name)


def test_softmax_backward_is_the_jacobian_product_by_hand(xp):
    # For one row, the Jacobian is diag(a) - a aᵀ; dZ = (diag(a) - a aᵀ) g.
    rng = np.random.default_rng(11)
    Z = rng.normal(size=(4, 3))
    G = rng.normal(size=(4, 3))
    forward, backward = _pair("softmax")
    expected = np.zeros_like(Z)
    for n in range(len(Z)):
        a = np.exp(Z[n] - Z[n].max())
        a /= a.sum()
        expected[n] = (np.diag(a) - np.outer(a, a)) @ G[n]
    Zx = _f64(xp, Z)
    assert_close(backward(_f64(xp, G), Zx, forward(Zx, xp=xp), xp=xp), expected, 1e-12, "softmax")


# --- PyTorch as a reference -------------------------------------------------------------------


def _torch_reference(name, Z, G):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    functions = {
        "gelu": lambda z: F.gelu(z, approximate="tanh"),
        "softplus": F.softplus,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
        "softmax": lambda z: torch.softmax(z, dim=1),
    }
    z = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    a = functions[name](z)
    (a * torch.tensor(G, dtype=torch.float64)).sum().backward()
    return a.detach().numpy(), z.grad.numpy()


@pytest.mark.parametrize("name", ["gelu", "softplus", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"])
def test_forward_and_backward_match_torch(xp, name):
    rng = np.random.default_rng(12)
    # |Z| <= 8 keeps torch's softplus away from its linear branch (threshold 20)
    Z = _away_from_zero(rng, (4, 3), 0.01, 8.0)
    G = rng.normal(size=(4, 3))
    A_ref, dZ_ref = _torch_reference(name, Z, G)
    forward, backward = _pair(name)
    Zx = _f64(xp, Z)
    A = forward(Zx, xp=xp)
    # the same formula in another library's order of operations: a few ulp apart
    assert_close(A, A_ref, RTOL["float64"], f"{name} forward")
    assert_close(backward(_f64(xp, G), Zx, A, xp=xp), dZ_ref, RTOL["float64"], f"{name} backward")


# --- dtype and device ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", NAMES)
def test_dtype_is_preserved(xp, name, dtype):
    if dtype == "float64":
        enable_float64(xp)
    rng = np.random.default_rng(13)
    Z = xp.asarray(rng.normal(size=(4, 3)).astype(dtype))
    dA = xp.asarray(rng.normal(size=(4, 3)).astype(dtype))
    forward, backward = _pair(name)
    A = forward(Z, xp=xp)
    dZ = backward(dA, Z, A, xp=xp)
    assert A.dtype == getattr(xp, dtype)
    assert dZ.dtype == getattr(xp, dtype)
    assert A.shape == dZ.shape == (4, 3)


def _devices(backend, xp):
    """The default device, and for array_api_strict also a non-default one."""
    default = array_api_compat.device(xp.asarray([0.0]))
    if backend == "array_api_strict":
        return [default, xp.Device("device1")]
    return [default]


@pytest.mark.parametrize("name", NAMES)
def test_device_is_preserved(backend, xp, name):
    rng = np.random.default_rng(14)
    forward, backward = _pair(name)
    for dev in _devices(backend, xp):
        Z = xp.asarray(rng.normal(size=(4, 3)).astype(np.float32), device=dev)
        dA = xp.asarray(rng.normal(size=(4, 3)).astype(np.float32), device=dev)
        A = forward(Z, xp=xp)
        dZ = backward(dA, Z, A, xp=xp)
        assert array_api_compat.device(A) == array_api_compat.device(Z) == dev
        assert array_api_compat.device(dZ) == dev


# --- extreme inputs ----------------------------------------------------------------------------


# exp (the log link's output) has no finite value at 1e4 in any float: it is the one unbounded one
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", [name for name in NAMES if name != "exp"])
def test_extreme_inputs_are_finite_without_warnings(xp, name, dtype):
    if dtype == "float64":
        enable_float64(xp)
    host = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 3.0]], dtype=dtype)
    Z = xp.asarray(host)
    forward, backward = _pair(name)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        A = forward(Z, xp=xp)
        dZ = backward(xp.ones_like(Z), Z, A, xp=xp)
    A, dZ = xb.to_numpy(A), xb.to_numpy(dZ)
    assert np.all(np.isfinite(A)), A
    assert np.all(np.isfinite(dZ)), dZ


def test_extreme_inputs_saturate_to_the_right_limits(xp):
    enable_float64(xp)
    Z = xp.asarray(np.array([[1e4, -1e4, 0.0]]))
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        # σ(±1e4) = 1, 0 (e^-1e4 underflows to 0); σ(0) = ½
        assert_close(_pair("sigmoid")[0](Z, xp=xp), np.array([[1.0, 0.0, 0.5]]), 1e-15, "sigmoid")
        # softplus(1e4) = 1e4 + log1p(e^-1e4) = 1e4; softplus(-1e4) = log1p(e^-1e4) ≈ 0
        assert_close(_pair("softplus")[0](Z, xp=xp), np.array([[1e4, 0.0, LN2]]), 1e-15, "softplus")
        assert_close(_pair("tanh")[0](Z, xp=xp), np.array([[1.0, -1.0, 0.0]]), 1e-15, "tanh")
        # row max 1e4: e^0 = 1 over 1 + e^-2e4 + e^-1e4 = 1
        assert_close(_pair("softmax")[0](Z, xp=xp), np.array([[1.0, 0.0, 0.0]]), 1e-15, "softmax")
        Zs = xp.asarray(np.array([[1e4, 1e4, -1e4]]))
        assert_close(_pair("softmax")[0](Zs, xp=xp), np.array([[0.5, 0.5, 0.0]]), 1e-15, "softmax")


def test_sigmoid_keeps_relative_precision_in_the_left_tail(xp):
    # σ(-40) = e^-40 / (1 + e^-40) ≈ 4.248e-18: 1 - σ(40) would round to 0
    enable_float64(xp)
    A = xb.to_numpy(_pair("sigmoid")[0](xp.asarray(np.array([-40.0, -700.0])), xp=xp))
    expected = np.exp([-40.0, -700.0]) / (1.0 + np.exp([-40.0, -700.0]))
    np.testing.assert_allclose(A, expected, rtol=1e-14)


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu6", "Sigmoid", "", "swish"])
def test_unknown_activation_name_lists_valid_names(name):
    for make in (get_activation, xb.Activation):
        with pytest.raises(ValueError, match="valid names") as info:
            make(name)
        message = str(info.value)
        for valid in ("identity", "sigmoid", "logistic", "tanh", "relu", "softmax", "gelu"):
            assert valid in message
