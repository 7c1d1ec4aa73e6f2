"""Each backend fast path equals the reference formula it replaces, on both sides of every size switch.

The reference is the formula module's own function, run on the same backend and the same inputs;
a variant claims the same values (``ulps == 0``: equal entry by entry, -0 and +0 alike) or a
difference of at most ``ulps`` units of the dtype's epsilon relative to the result's largest
entry. Inputs include the shapes around each variant's switches (long rows from 2**15 elements,
rows of 64 and 128 columns, at most 10 columns and 64 rows for the row maximum).
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

import xpbackprop as xb
from xpbackprop import fast
from xpbackprop.backend import enable_float64

#: shapes (rows, columns) of the matrices each formula works on, around the switches
MATRICES = [(4, 3), (4, 6), (32, 10), (64, 10), (64, 128), (256, 512), (2048, 128), (2048, 129),
            (4096, 64), (4099, 3), (512, 64)]


def _reference(name):
    for module in fast.REFERENCE_MODULES:
        found = getattr(importlib.import_module(module), name, None)
        if found is not None:
            return found
    raise AssertionError(f"no reference formula named {name!r} in {fast.REFERENCE_MODULES}")


def _array(xp, host, dtype):
    return xp.asarray(np.array(host, dtype=dtype))


def _special(rng, shape, dtype):
    """Random values with the edge cases a cast or comparison could get wrong in the mix."""
    values = rng.normal(size=shape)
    flat = values.reshape(-1)
    info = np.finfo(dtype)
    edge = [0.0, -0.0, info.tiny / 4, -info.tiny / 4, 1 + info.eps, -(1 + info.eps), info.max / 8,
            -info.max / 8]
    flat[: min(len(edge), flat.size)] = edge[: flat.size]
    return values


def _inputs(name, xp, dtype, shape, rng):
    """``(args, kwargs)`` for formula ``name`` on matrices of ``shape``."""
    n, k = shape
    if name == "relu":
        return (_array(xp, _special(rng, shape, dtype), dtype),), {}
    if name == "relu_backward":
        Z = _special(rng, shape, dtype)
        A = np.maximum(Z, 0.0)
        return (_array(xp, rng.normal(size=shape), dtype), None, _array(xp, A, dtype)), {}
    if name == "dense_forward":
        return (_array(xp, rng.normal(size=(n, 7)), dtype), _array(xp, rng.normal(size=(7, k)), dtype),
                _array(xp, rng.normal(size=k), dtype)), {}
    if name == "dense_backward":
        return (_array(xp, rng.normal(size=shape), dtype), _array(xp, rng.normal(size=(n, 5)), dtype),
                _array(xp, rng.normal(size=(5, k)), dtype)), {}
    if name == "softmax_cross_entropy":
        Z = rng.normal(size=shape) * 5
        Y = np.eye(k)[rng.integers(0, k, n)]
        return (_array(xp, Z, dtype), _array(xp, Y, dtype)), {}
    params = [_array(xp, rng.normal(size=s), dtype) for s in ((k, 3), (3,))]
    grads = [_array(xp, rng.normal(size=s), dtype) for s in ((k, 3), (3,))]
    if name == "sgd_step":
        velocity = [_array(xp, rng.normal(size=s), dtype) for s in ((k, 3), (3,))]
        return (params, grads, velocity), {"momentum": 0.9, "nesterov": bool(n % 2)}
    if name == "adam_step":
        m = [_array(xp, rng.normal(size=s), dtype) for s in ((k, 3), (3,))]
        v = [_array(xp, rng.uniform(size=s), dtype) for s in ((k, 3), (3,))]
        return (params, grads, m, v), {"lr": 0.01, "c1": 0.1, "c2": 0.002, "beta1": 0.9, "beta2": 0.999,
                                       "eps": 1e-8}
    raise AssertionError(f"tests/test_fast.py has no inputs for the variant {name!r}: add them")


def _copies(value, xp):
    """Fresh copies of every array (variants may update in place)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_copies(v, xp) for v in value)
    return xp.asarray(value, copy=True) if hasattr(value, "shape") else value


def _flat_arrays(result):
    if isinstance(result, (list, tuple)):
        return [a for r in result for a in _flat_arrays(r)]
    return [] if result is None else [result]


def _compare(got, expected, ulps, dtype, what):
    got, expected = _flat_arrays(got), _flat_arrays(expected)
    assert len(got) == len(expected), what
    for g, e in zip(got, expected):
        g, e = xb.to_numpy(g).astype(np.float64), xb.to_numpy(e).astype(np.float64)
        assert g.shape == e.shape, what
        if ulps == 0:
            np.testing.assert_array_equal(g, e, err_msg=what)
        else:
            scale = np.max(np.abs(e)) if e.size else 0.0
            assert np.max(np.abs(g - e)) <= ulps * np.finfo(dtype).eps * scale, what


def _table(xp):
    table = fast.table_name(xp)
    if table is None:
        pytest.skip(f"{xp.__name__} has no table of fast paths: it runs the reference formulas")
    return table


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_variant_equals_its_reference(xp, dtype):
    table = _table(xp)
    enable_float64(xp)
    rng = np.random.default_rng(0)
    for name, variant in fast.variants(table).items():
        reference = _reference(name)
        for shape in MATRICES:
            args, kwargs = _inputs(name, xp, dtype, shape, rng)
            expected = reference(*_copies(args, xp), xp=xp, **kwargs)
            got = variant.function(*_copies(args, xp), xp=xp, **kwargs)
            _compare(got, expected, variant.ulps, dtype, f"{table} {name} {shape} {dtype}")


def test_every_variant_has_its_reference_signature():
    for table in ("numpy", "torch"):
        for name, variant in fast.variants(table).items():
            reference = _reference(name)
            assert inspect.signature(variant.function) == inspect.signature(reference), f"{table} {name}"
            assert variant.reason, f"{table} {name} says why it exists"


def test_disabled_runs_the_references_and_gives_the_same_training(xp):
    _table(xp)
    X = np.random.default_rng(1).normal(size=(96, 8))
    y = np.arange(96) % 3

    def train(optimizer):
        net = xb.MLP([8, 16, 3], backend=xp, dtype="float64", seed=2)
        net.fit(X, y, epochs=3, lr=0.05, batch_size=32, optimizer=optimizer, seed=0)
        return [xb.to_numpy(p) for p in net.parameters]

    for optimizer in ("sgd", "adam"):
        with_variants = train(optimizer)
        with fast.disabled():
            plain = train(optimizer)
        for a, b in zip(with_variants, plain):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
