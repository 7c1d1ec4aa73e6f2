"""``benchmarks/gpu_benchmark.py`` runs every section on a tiny network and reports consistent figures.

Timings never decide a test. What is checked: the script exits 0 with no section error, each
ratio is the quotient of the medians it reports, the memory budget equals a hand count of the
network's bytes, and every peer that ran (PyTorch eager, JAX, scikit-learn) computed the same
first-step loss as xpbackprop from the same weights and data.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_benchmark.py"
BATCH, SIZES = 32, (12, 8, 3)
TIMED = ("numpy", "torch", "jax", "array_api_strict", "cupy")  # the script's --backend choices


def _run(backend: str, tmp_path: Path) -> dict:
    out = tmp_path / "figures.json"
    widths = ",".join(map(str, SIZES))
    command = [
        sys.executable, str(SCRIPT), "--backend", backend, "--all", "--json", str(out),
        "--config", f"{BATCH}:{widths}", "--sweep-widths", widths, "--sweep-batches", "16,32",
        "--repeats", "2", "--warmup", "1", "--min-time", "0.001", "--settle", "0", "--epoch-batches", "2",
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads(out.read_text())


def _quotient(ratio: float, numerator: float, denominator: float) -> None:
    assert ratio > 0 and math.isclose(ratio, numerator / denominator, rel_tol=1e-9)


def test_every_section_runs_and_its_figures_agree(backend, tmp_path):
    if backend not in TIMED:
        pytest.skip(f"gpu_benchmark.py times {', '.join(TIMED)}; {backend} is not one of them")
    figures = _run(backend, tmp_path)
    assert figures["errors"] == []
    assert figures["backend"]["name"] == backend
    sections = figures["sections"]

    (main,) = sections["main"]
    assert main["config"] == f"{BATCH}:{','.join(map(str, SIZES))}"
    _quotient(main["ratio_floor"], main["ours"]["median_ms"], main["floor"]["median_ms"])
    assert main["flops"] == 6 * BATCH * (12 * 8 + 8 * 3) - 2 * BATCH * 12 * 8  # no dX for the first layer
    if main.get("torch"):
        _quotient(main["ratio_torch"], main["ours"]["median_ms"], main["torch"]["median_ms"])
        assert main["loss_check"]["max_rel_diff"] < 1e-5
    if backend == "numpy":  # the same step written out in NumPy: the same first loss, to the bit
        _quotient(main["ratio_hand_floor"], main["numpy_by_hand"]["median_ms"], main["floor"]["median_ms"])
        assert main["loss_check"]["first_step_loss"]["numpy by hand"] == main["ours"]["first_loss"]
    else:
        assert main["numpy_by_hand"] is None

    rows = sections["sweep"]["rows"]
    assert [row["batch"] for row in rows] == [16, 32]
    for row in rows:
        _quotient(row["ratio_floor"], row["ours"]["median_ms"], row["floor"]["median_ms"])

    (epoch,) = sections["epoch"]
    _quotient(epoch["ratio"], epoch["fit"]["median_ms"], epoch["steps"]["median_ms"])

    (memory,) = sections["memory"]  # on NumPy, whatever backend is timed
    params = 4 * (12 * 8 + 8 + 8 * 3 + 3)
    assert memory["budget_bytes"] == {
        "params": params, "grads": params, "optimizer_state": 0,
        "activations": 4 * 2 * BATCH * (8 + 3), "batch": 4 * BATCH * (12 + 3),
    }
    _quotient(memory["ratio"], memory["step_peak_bytes"], memory["budget_total_bytes"])

    (peers,) = sections["peers"]
    ran = {name: figures for name, figures in peers["peers"].items() if figures is not None}
    assert set(ran) <= {"torch", "jax", "sklearn"}  # the others were not installed (None)
    for name, figures in ran.items():
        _quotient(peers["peer_over_ours"][name], figures["median_ms"], peers["ours"]["median_ms"])
    compared = {"ours", *(("jax.jit" if name == "jax" else name) for name in ran)}
    assert set(peers["loss_check"]["first_step_loss"]) == compared
    assert peers["loss_check"]["max_rel_diff"] < 1e-5, peers["loss_check"]


def test_the_numpy_step_written_by_hand_gives_the_librarys_bits():
    # the benchmark sets a NumPy step written out by hand beside ours as what NumPy itself allows:
    # it must compute the same step, or the comparison says nothing
    import numpy as np

    import xpbackprop as xb

    environ = dict(os.environ)  # the script sets its thread counts on import
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from gpu_benchmark import LR, numpy_by_hand
    finally:
        sys.path.remove(str(SCRIPT.parent))
        os.environ.clear()
        os.environ.update(environ)
    for batch, sizes in ((32, [12, 8, 3]), (64, [20, 16, 16, 5])):
        rng = np.random.default_rng(batch)
        X = rng.normal(size=(batch, sizes[0])).astype(np.float32)
        y = rng.integers(0, sizes[-1], batch)
        net = xb.MLP(sizes, hidden="relu", seed=1)
        by_hand = numpy_by_hand(X, np.eye(sizes[-1], dtype=np.float32)[y],
                                [xb.to_numpy(p).copy() for p in net.parameters], LR)
        trainer = xb.Trainer(net, lr=LR)
        for _ in range(4):
            loss, hand = by_hand()
            ours = trainer.step(X, y)
            assert float(loss) == float(ours)
        for ours, theirs in zip(net.parameters, hand):
            np.testing.assert_array_equal(xb.to_numpy(ours), theirs)


def _script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=cwd)


def test_bad_output_and_device_are_refused_before_anything_runs(tmp_path):
    tiny = ["--backend", "numpy", "--config", "8:4,2", "--repeats", "1", "--settle", "0"]
    result = _script(*tiny, "--json", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert f"cannot write --json {tmp_path}: it is a directory" in result.stderr
    assert "Training step" not in result.stdout  # nothing was timed first
    result = _script("--backend", "numpy", "--device", "no-such-device", "--config", "8:4,2", cwd=tmp_path)
    assert result.returncode == 2 and "no-such-device" in result.stderr


def test_a_jax_device_is_found_by_its_platform_name(tmp_path):
    pytest.importorskip("jax")
    out = tmp_path / "jax.json"
    result = _script("--backend", "jax", "--device", "cpu", "--config", "8:4,2", "--main", "--repeats", "1",
                     "--warmup", "1", "--min-time", "0.001", "--settle", "0", "--json", str(out),
                     cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert json.loads(out.read_text())["sections"]["main"][0]["ratio_floor"] > 0
