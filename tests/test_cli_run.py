"""How the command line runs: its progress report (plain lines or a bar), its thread settings, and
the same numbers on every backend."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from helpers import run_cli as run

import xpbackprop as xb
from xpbackprop.cli.progress import EpochReport
from xpbackprop.cli.runtime import run_settings

LOGS = [{"loss": 0.9, "val_loss": 1.25, "val_score": 0.5},
        {"loss": 0.5, "val_loss": 0.75, "val_score": 0.625},
        {"loss": 0.25, "val_loss": 0.5, "val_score": 0.875}]


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_without_a_terminal_each_epoch_is_one_plain_line():
    stream = io.StringIO()
    report = EpochReport(3, "validation accuracy", stream)
    for epoch, logs in enumerate(LOGS, start=1):
        report(None, epoch, dict(logs))
    report.close()
    assert stream.getvalue() == (
        "epoch 1/3: loss 0.9, validation loss 1.25, validation accuracy 0.5\n"
        "epoch 2/3: loss 0.5, validation loss 0.75, validation accuracy 0.625\n"
        "epoch 3/3: loss 0.25, validation loss 0.5, validation accuracy 0.875\n")


def test_on_a_terminal_each_frame_of_the_bar_shows_the_numbers_of_the_epoch_it_counts():
    pytest.importorskip("tqdm", reason="tqdm (the progress extra) is not installed")
    stream = Terminal()
    report = EpochReport(3, "validation accuracy", stream)
    for epoch, logs in enumerate(LOGS, start=1):
        report(None, epoch, dict(logs))
    report.close()
    frames = [frame for frame in re.split(r"[\r\n]", stream.getvalue()) if re.search(r"\d/3", frame)]
    counted = [frame for frame in frames if not re.search(r"\b0/3", frame)]
    assert counted, stream.getvalue()
    for frame in counted:
        epoch = int(re.search(r"(\d)/3", frame).group(1))
        assert f"loss={LOGS[epoch - 1]['loss']:.4g}," in frame, frame  # never the epoch before's
        assert f"validation loss={LOGS[epoch - 1]['val_loss']:.4g}" in frame, frame
    assert any("3/3" in frame for frame in counted)


def test_a_piped_training_run_prints_one_line_per_epoch_and_no_bar(capsys):
    rc, _, err = run(capsys, ["train", "xor", "--epochs", "4", "--validation-fraction", "0.2"])
    assert rc == 0, err
    assert "\r" not in err
    lines = err.splitlines()
    assert len(lines) == 4
    for k, line in enumerate(lines, start=1):
        assert re.fullmatch(rf"epoch {k}/4: loss [0-9.e-]+, validation loss [0-9.e-]+, "
                            rf"validation accuracy [0-9.e-]+", line), line


# --- threads ----------------------------------------------------------------------------------------


def test_torch_runs_on_one_thread_unless_told_otherwise_and_gets_its_setting_back():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    before = torch.get_num_threads()
    with run_settings("torch", None, None):
        assert torch.get_num_threads() == 1
        assert torch.is_inference_mode_enabled()
    assert torch.get_num_threads() == before and not torch.is_inference_mode_enabled()
    with run_settings("torch", None, 3):
        assert torch.get_num_threads() == 3
    with run_settings("torch", None, 0):  # every library's own setting
        assert torch.get_num_threads() == before
    with run_settings("torch", "cuda", None):  # a GPU run's CPU threads are left alone
        assert torch.get_num_threads() == before
    assert torch.get_num_threads() == before


def test_threads_limit_the_blas_pool_where_threadpoolctl_is_installed():
    threadpoolctl = pytest.importorskip("threadpoolctl", reason="threadpoolctl is not installed")
    def blas_threads():
        return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    if not before:
        pytest.skip("no BLAS thread pool loaded here")
    for threads in (None, 1):  # automatic: one thread on the CPU
        with run_settings("numpy", None, threads):
            assert set(blas_threads()) == {1}
    assert blas_threads() == before


# --- the same run on every backend -------------------------------------------------------------------


def test_the_command_line_gives_the_same_model_on_every_backend(backend, tmp_path, capsys):
    if backend == "cupy":
        pytest.skip("a CUDA run of the command line is the GPU tests' part")
    models = {}
    reports = {}
    for name in dict.fromkeys(["numpy", backend]):
        models[name] = tmp_path / f"{name}.npz"
        rc, out, err = run(capsys, ["train", "xor", "--backend", name, "--dtype", "float64", "--epochs", "15",
                                    "--dropout", "0.25", "--validation-fraction", "0.2", "--no-progress",
                                    "--save", models[name]])
        assert rc == 0, err
        reports[name] = [line for line in out.splitlines()
                         if "accuracy" in line or line.startswith("trained")]
    assert [r.split(" in ")[0] if r.startswith("trained") else r for r in reports[backend]] == [
        r.split(" in ")[0] if r.startswith("trained") else r for r in reports["numpy"]]
    for ours, reference in zip(xb.load(models[backend]).parameters, xb.load(models["numpy"]).parameters):
        np.testing.assert_allclose(xb.to_numpy(ours), xb.to_numpy(reference), rtol=1e-10, atol=1e-12)
