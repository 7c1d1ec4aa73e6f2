"""Backends by name and by module, what runs here, and the host boundary (to_numpy, mixing)."""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest

import xpbackprop as xb
from xpbackprop.backend import array_namespace, enable_float64


def _other_library(backend):
    """A backend name (installed here) whose arrays are not ``backend``'s."""
    return "array_api_strict" if backend != "array_api_strict" else "numpy"


# --- namespace -----------------------------------------------------------------------


def test_namespace_numpy_by_name_and_by_module():
    import array_api_compat.numpy as compat_numpy

    assert xb.namespace("numpy") is compat_numpy
    # the plain numpy module maps onto the compat wrapper, not onto numpy itself
    assert xb.namespace(np) is compat_numpy
    # a compat module names its library too
    assert xb.namespace(compat_numpy) is compat_numpy


def test_namespace_array_api_strict_by_name_and_by_module():
    import array_api_strict

    assert xb.namespace("array_api_strict") is array_api_strict
    assert xb.namespace(array_api_strict) is array_api_strict


def test_namespace_torch_by_name_and_by_module():
    torch = pytest.importorskip("torch")
    import array_api_compat.torch as compat_torch

    assert xb.namespace("torch") is compat_torch
    assert xb.namespace(torch) is compat_torch


def test_namespace_jax_by_name_and_by_module():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    assert xb.namespace("jax") is jnp
    assert xb.namespace(jax) is jnp
    assert xb.namespace(jnp) is jnp


def test_namespace_of_the_backend_under_test_is_the_namespace_of_its_arrays(xp):
    # the namespace array_api_compat infers from an array made with xp is xp itself
    x = xp.asarray([1.0, 2.0])
    assert array_api_compat.array_namespace(x) is xp
    assert array_namespace(x, x) is xp


@pytest.mark.parametrize("name", ["numpyy", "tensorflow", "", "NUMPY"])
def test_namespace_unknown_name_lists_valid_names(name):
    with pytest.raises(ValueError, match="valid backends") as info:
        xb.namespace(name)
    message = str(info.value)
    for valid in ("numpy", "cupy", "torch", "jax", "array_api_strict", "dask"):
        assert valid in message


def test_namespace_unrelated_module_is_rejected():
    import math

    with pytest.raises(ValueError, match="math"):
        xb.namespace(math)


def test_backends_constant_names_the_design_backends():
    assert set(xb.BACKENDS) == {"numpy", "cupy", "torch", "jax", "array_api_strict", "dask"}


# --- available_backends ------------------------------------------------------------------


def _cuda_device_count():
    """Independent of the library: how many CUDA devices CuPy sees here (0 without CuPy)."""
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no CuPy, or no CUDA runtime: no device either way
        return 0


def test_available_backends_contains_the_installed_ones():
    names = xb.available_backends()
    assert "numpy" in names
    assert "array_api_strict" in names
    assert len(names) == len(set(names))
    assert set(names) <= set(xb.BACKENDS)
    for name, module in (("torch", "torch"), ("jax", "jax")):
        try:
            __import__(module)
        except ImportError:
            assert name not in names
        else:
            assert name in names


def test_available_backends_has_cupy_only_with_a_cuda_device():
    names = xb.available_backends()
    assert ("cupy" in names) == (_cuda_device_count() > 0)


# --- to_numpy --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_to_numpy_round_trip_keeps_values_and_dtype(backend, xp, dtype):
    if backend == "jax" and dtype in ("float64", "int64"):
        enable_float64(xp)  # JAX keeps 32-bit types otherwise
    rng = np.random.default_rng(1)
    host = rng.normal(size=(3, 4)) * 100
    host = (host > 0) if dtype == "bool" else host.astype(dtype)
    x = xp.asarray(host)
    back = xb.to_numpy(x)
    assert isinstance(back, np.ndarray)
    assert back.dtype == np.dtype(dtype)
    assert back.shape == (3, 4)
    np.testing.assert_array_equal(back, host)


def test_to_numpy_of_a_backend_array_is_a_copy(backend, xp):
    # always a copy (numpy included): parameters are updated in place during training,
    # so a snapshot taken with to_numpy must never share their memory
    host = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    x = xp.asarray(host)
    back = xb.to_numpy(x)
    back[0, 0] = 100.0  # must be writable and must not write through to x
    np.testing.assert_array_equal(xb.to_numpy(x), host)


def test_to_numpy_of_a_numpy_array_and_of_python_data():
    a = np.arange(3.0)
    np.testing.assert_array_equal(xb.to_numpy(a), a)
    assert xb.to_numpy(a).dtype == np.float64
    np.testing.assert_array_equal(xb.to_numpy([1.0, 2.0]), np.array([1.0, 2.0]))


# --- mixing libraries ----------------------------------------------------------------------


def test_array_namespace_of_two_libraries_names_both(backend, xp):
    other = _other_library(backend)
    a = xp.asarray([1.0, 2.0])
    b = xb.namespace(other).asarray([1.0, 2.0])
    for args in ((a, b), (b, a)):
        with pytest.raises(TypeError) as info:
            array_namespace(*args)
        assert backend in str(info.value)
        assert other in str(info.value)


def test_array_namespace_numpy_and_torch_names_both():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError) as info:
        array_namespace(np.ones(2), torch.ones(2))
    assert "numpy" in str(info.value)
    assert "torch" in str(info.value)


def test_array_namespace_of_scalars_only_is_a_type_error():
    with pytest.raises(TypeError):
        array_namespace(1.0, None)


def test_torch_tensor_into_a_numpy_network_names_both():
    torch = pytest.importorskip("torch")
    net = xb.MLP([2, 3, 2], backend="numpy")
    with pytest.raises(TypeError) as info:
        net.forward(torch.ones((4, 2)))
    assert "torch" in str(info.value)
    assert "numpy" in str(info.value)


def test_foreign_array_into_a_network_names_both(backend, xp):
    # NumPy arrays are host data and accepted everywhere; another library's arrays are not.
    available = xb.available_backends()
    others = [n for n in ("torch", "array_api_strict", "jax") if n != backend and n in available]
    if not others:
        pytest.skip(f"no array library besides numpy and {backend} is installed to be the foreign one")
    other = others[0]
    net = xb.MLP([2, 3, 2], backend=backend)
    X = xb.namespace(other).asarray(np.ones((4, 2), dtype=np.float32))
    with pytest.raises(TypeError) as info:
        net.forward(X)
    assert backend in str(info.value)
    assert other in str(info.value)
    with pytest.raises(TypeError):
        net.gradients(np.ones((4, 2)), xb.namespace(other).asarray([0, 1, 1, 0]))


# --- host data of every layout -------------------------------------------------------------


def test_host_data_in_any_byte_order_and_order_gives_the_numpy_numbers(backend):
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(6, 3)), np.array([0, 1, 1, 0, 1, 0])
    expected = xb.MLP([3, 4, 2], dtype="float64", seed=0).loss(X, y)
    net = xb.MLP([3, 4, 2], dtype="float64", backend=backend, seed=0)
    for given in (X.astype(">f8"), np.asfortranarray(X), X[:, ::-1][:, ::-1].copy(order="F")):
        assert net.loss(given, y) == pytest.approx(expected, rel=1e-12)


def test_a_zero_dimensional_host_array_stays_zero_dimensional(backend, xp):
    enable_float64(xp)
    for given in (np.array(1.5), np.float64(1.5)):
        moved = xb.backend.to_backend(given, xp)
        assert tuple(moved.shape) == ()
        assert float(xb.to_numpy(moved)) == 1.5
    # so 0-d targets are refused on every backend, as on NumPy
    with pytest.raises(ValueError, match=r"got 0-d shape \(\)"):
        xb.MLP([3, 4, 2], dtype="float64", backend=backend, seed=0).loss(np.zeros((1, 3)), np.array(1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float32", np.dtype("float64")])
def test_a_dtype_may_be_given_as_a_numpy_scalar_type(dtype):
    net = xb.MLP([2, 3, 2], dtype=dtype, seed=0)
    assert net.dtype_name == np.dtype(dtype).name
    with pytest.raises(ValueError, match=r"dtype must be 'float32' or 'float64', got <class 'numpy\.int64'>"):
        xb.MLP([2, 3, 2], dtype=np.int64)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_to_numpy_of_an_ndarray_subclass_is_a_plain_ndarray():
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    out = xb.to_numpy(m)
    assert type(out) is np.ndarray and out.shape == (2, 2)
    np.testing.assert_array_equal(out, np.asarray(m))
    out[0, 0] = 9.0
    assert m[0, 0] == 1.0  # a copy
