"""One backend list feeds one ``xp`` fixture; every test is written once.

``XPBACKPROP_BACKENDS=numpy,torch`` (comma-separated) chooses the backends. A
backend named there that cannot run here fails the run (so a GPU run cannot pass
by skipping); without the variable every backend below runs where it can and
skips with its reason where it cannot.

``XPBACKPROP_DEVICE`` moves the whole suite onto a device: for torch, its default device
(``cuda``, ``cuda:1``: every array a test makes without naming a device lands there, and so do
the networks' parameters); for CuPy, the current device (``1``). benchmarks/gpu_check.sh runs the
suite on ``XPBACKPROP_BACKENDS=torch XPBACKPROP_DEVICE=cuda``.
"""

from __future__ import annotations

import os

import pytest

import xpbackprop as xb
from xpbackprop.backend import backend_unavailable_reason

ENV = "XPBACKPROP_BACKENDS"
DEFAULT_BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "cupy")


def _requested() -> tuple[list[str], bool]:
    value = os.environ.get(ENV, "").strip()
    if not value:
        return list(DEFAULT_BACKENDS), False
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in xb.BACKENDS]
    if unknown:
        raise pytest.UsageError(f"{ENV} names unknown backends {unknown}; valid: {list(xb.BACKENDS)}")
    return names, True


BACKEND_NAMES, EXPLICIT = _requested()
DEVICE = os.environ.get("XPBACKPROP_DEVICE", "").strip() or None


def _use_device() -> None:
    """Make ``XPBACKPROP_DEVICE`` the default device of the backends that take one."""
    if DEVICE is None:
        return
    if "torch" in BACKEND_NAMES and backend_unavailable_reason("torch") is None:
        import torch

        torch.set_default_device(DEVICE)
    if "cupy" in BACKEND_NAMES and backend_unavailable_reason("cupy") is None:
        import cupy

        cupy.cuda.Device(int(DEVICE.rsplit(":", 1)[-1])).use()


_use_device()


@pytest.fixture(params=BACKEND_NAMES)
def backend(request) -> str:
    """Name of the backend under test; skips (or fails, if requested explicitly) where it cannot run."""
    name = request.param
    reason = backend_unavailable_reason(name)
    if reason is not None:
        if EXPLICIT:
            pytest.fail(f"backend {name!r} was requested in {ENV} but cannot run: {reason}")
        pytest.skip(f"backend {name!r} cannot run here: {reason}")
    return name


@pytest.fixture
def xp(backend):
    """The array namespace of the backend under test."""
    return xb.namespace(backend)


def pytest_report_header(config):
    how = f"from {ENV}" if EXPLICIT else "default list; missing ones skip"
    where = f"; device {DEVICE} (XPBACKPROP_DEVICE)" if DEVICE else ""
    return f"xpbackprop backends: {', '.join(BACKEND_NAMES)} ({how}){where}"
