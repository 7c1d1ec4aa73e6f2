"""Comparison helpers shared by the tests."""

from __future__ import annotations

import numpy as np

import xpbackprop as xb
from xpbackprop.backend import enable_float64

#: cross-backend agreement of the same formulas (DESIGN.md, Testing)
RTOL = {"float64": 1e-12, "float32": 1e-5}


def relative_error(actual, expected) -> float:
    """``max|a - e| / max|e|``: error relative to the reference array's largest entry.

    Relative to the array's scale rather than entry by entry, so an entry that is
    zero in exact arithmetic (a cancellation) is judged against the array it sits in.
    """
    a = np.asarray(xb.to_numpy(actual), dtype=np.float64)
    e = np.asarray(xb.to_numpy(expected), dtype=np.float64)
    assert a.shape == e.shape, f"shape {a.shape} != reference shape {e.shape}"
    scale = np.max(np.abs(e)) if e.size else 0.0
    diff = np.max(np.abs(a - e)) if e.size else 0.0
    if scale == 0.0:
        return float(diff)
    return float(diff / scale)


def assert_close(actual, expected, rtol: float, what: str = "") -> None:
    """Fail unless ``relative_error(actual, expected) <= rtol``."""
    err = relative_error(actual, expected)
    assert err <= rtol, f"{what}: relative error {err:.3e} > {rtol:.0e}"


def central_difference(f, x, eps=1e-6):
    """∂f/∂x by (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), entry by entry, in float64."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def f64(xp, host):
    """``host`` as a float64 array of ``xp`` (JAX switched to 64-bit first)."""
    enable_float64(xp)
    return xp.asarray(np.asarray(host, dtype=np.float64))


def run_cli(capsys, argv):
    """``(exit status, stdout, stderr)`` of the command line's ``main(argv)`` in this process
    (argparse's exits included); arguments may be paths or numbers."""
    from xpbackprop.cli import main

    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def reported(out: str, name: str) -> float:
    """The number on the command line's output line ``name <number>``."""
    import re

    match = re.search(rf"^{name}\s+(-?[0-9.]+)$", out, flags=re.MULTILINE)
    assert match, f"no '{name}' line in:\n{out}"
    return float(match.group(1))


#: the test suite's data files (recorded parameters, files of earlier format versions)
DATA = __import__("pathlib").Path(__file__).parent / "data"


def version1_writer():
    """tests/data/make_version1_files.py, the script that wrote the version-1 files there."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_version1_files", DATA / "make_version1_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
