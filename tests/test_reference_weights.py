"""Seeded float64 NumPy training runs end at the parameters recorded in tests/data/reference_float64.npz.

The file was written by ``benchmarks/reference_weights.py record tests/data/reference_float64.npz
--small`` on the code before a refactor; the runs (benchmark configurations with SGD, Nesterov
and Adam, and the notes' worked examples) are that script's. Each array must agree to 1e-12
relative to its norm. Runs in the numpy session only (or wherever ``XPBACKPROP_BACKENDS`` names numpy).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import BACKEND_NAMES

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import reference_weights

FIXTURE = Path(__file__).resolve().parent / "data" / "reference_float64.npz"
RUNS = reference_weights.runs(small=True)

pytestmark = pytest.mark.skipif("numpy" not in BACKEND_NAMES,
                                reason="the float64 reference runs use the numpy backend, which this session "
                                       "leaves out")


@pytest.fixture(scope="module")
def recorded() -> dict[str, np.ndarray]:
    with np.load(FIXTURE) as f:
        return {k: f[k] for k in f.files}


@pytest.mark.parametrize("backend", ["numpy"], indirect=True)
@pytest.mark.parametrize("run", list(RUNS))
def test_run_matches_recorded_parameters(backend, run, recorded):
    got = reference_weights.arrays(run, RUNS[run]())
    assert got, f"{run} produced no arrays"
    for key, value in got.items():
        assert key in recorded, f"{key} is not in {FIXTURE.name}"
        rel = reference_weights.relative_difference(value, recorded[key])
        assert rel <= reference_weights.TOLERANCE, f"{key}: ‖a − b‖/‖b‖ = {rel:.3e}"


def test_fixture_holds_only_these_runs(recorded):
    produced = {f"{run}." for run in RUNS}
    stray = [k for k in recorded if not any(k.startswith(p) for p in produced)]
    assert not stray, f"arrays of runs no longer made: {stray}"


def test_relative_difference_sees_a_change():
    b = np.arange(1.0, 5.0)
    assert reference_weights.relative_difference(b, b) == 0.0
    assert reference_weights.relative_difference(b + 1e-9, b) > reference_weights.TOLERANCE
    assert reference_weights.relative_difference(b[:3], b) == np.inf
