"""The files the command line reads and writes: an output is never an input, every output is proven
writable before the work, a final write that fails keeps the result elsewhere, and a network too
large for the machine is one line."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli as run

import xpbackprop as xb
from xpbackprop import datasets
from xpbackprop.cli import predict as predict_module
from xpbackprop.cli import train as train_module


@pytest.fixture
def data(tmp_path):
    X, y = datasets.xor(n_per_corner=20)
    path = tmp_path / "data.csv"
    path.write_text("a,b,y\n" + "".join(f"{a!r},{b!r},{t}\n" for (a, b), t in zip(X.tolist(), y.tolist())))
    return path


@pytest.fixture
def model(tmp_path, data, capsys):
    path = tmp_path / "m.npz"
    assert run(capsys, ["train", data, "--epochs", "1", "--no-progress", "--save", path])[0] == 0
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# --- an output is never an input ------------------------------------------------------------------


def test_train_refuses_to_save_or_plot_onto_its_training_data(tmp_path, data, capsys):
    (tmp_path / "link.csv").symlink_to(data)
    os.link(data, tmp_path / "hard.csv")
    before = snapshot(tmp_path)
    targets = [("--save", data), ("--save", tmp_path / "link.csv"), ("--plot", tmp_path / "hard.csv")]
    for option, target in targets:
        rc, out, err = run(capsys, ["train", data, option, target])
        assert rc == 1 and out == "", err
        assert err == (f"xpbackprop: error: {option} {target} is the training data {data} (the same file): "
                       "writing it would destroy it; choose another path\n")
    rc, out, err = run(capsys, ["train", data, "--save", tmp_path / "x.npz", "--plot", tmp_path / "x.npz"])
    assert rc == 1 and out == ""
    assert "--save" in err and "--plot" in err and "are the same file" in err and err.count("\n") == 1
    assert snapshot(tmp_path) == before  # nothing written, nothing replaced


def test_predict_refuses_to_write_onto_its_model_or_data(tmp_path, data, model, capsys):
    (tmp_path / "model-link.npz").symlink_to(model)
    before = snapshot(tmp_path)
    for target, what in [(data, "data"), (model, "model"), (tmp_path / "model-link.npz", "model")]:
        rc, out, err = run(capsys, ["predict", model, data, "-o", target])
        assert rc == 1 and out == ""
        source = data if what == "data" else model
        assert err == (f"xpbackprop: error: --output {target} is the {what} {source} (the same file): "
                       "writing it would destroy it; choose another path\n")
    assert snapshot(tmp_path) == before


# --- proven writable before the work ---------------------------------------------------------------


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_an_unwritable_output_is_refused_before_training(option, data, capsys):
    if option == "--plot":
        pytest.importorskip("matplotlib", reason="matplotlib (the plot extra) is not installed")
    # /proc takes no new files, whoever asks (root included: a mode-0555 folder would not do)
    target = Path("/proc") / f"xpbackprop-test{'.npz' if option == '--save' else '.png'}"
    if not Path("/proc").is_dir():
        pytest.skip("no /proc file system here to write into")
    rc, out, err = run(capsys, ["train", data, option, target])
    assert rc == 1 and out == ""  # nothing trained
    assert err.startswith("xpbackprop: error: ") and "in '/proc'" in err and str(target) in err
    assert err.count("\n") == 1


# --- a final write that fails keeps the result ------------------------------------------------------


def _failing(real, target: Path, code: int, position: int = 0):
    """``real`` (a writer taking the path as its argument number ``position``), failing with the
    ``OSError`` of ``code`` for ``target`` only."""
    def write(*args, **kwargs):
        path = args[position]
        if Path(path) == target:
            raise OSError(code, os.strerror(code), str(path))
        return real(*args, **kwargs)
    return write


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_model_whose_save_fails_after_training_goes_to_a_fallback_file(tmp_path, data, capsys, monkeypatch,
                                                                         code):
    fallback_folder = tmp_path / "fallback"
    fallback_folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(fallback_folder))
    target = tmp_path / "model.npz"
    monkeypatch.setattr(xb, "save", _failing(xb.save, target, code, position=1))
    rc, out, err = run(capsys, ["train", data, "--epochs", "3", "--no-progress", "--save", target,
                                "--dtype", "float64"])
    assert rc == 1 and not target.exists()
    kept = list(fallback_folder.iterdir())
    assert len(kept) == 1 and kept[0].name.startswith("xpbackprop-model-") and kept[0].suffix == ".npz"
    assert err == (f"xpbackprop: error: could not write the model to {target} ([Errno {code}] "
                   f"{os.strerror(code)}: '{target}'); it was written to {kept[0]} instead\n")
    # the kept file is the trained network: its test accuracy is the one reported
    X, y = datasets.xor(n_per_corner=20)
    _, test = datasets.split(len(y), 0.25, 0, y)
    accuracy = float(np.mean(xb.to_numpy(xb.load(kept[0]).predict(X[test])) == y[test]))
    assert f"test accuracy  {accuracy:.4f}" in out


def test_predictions_whose_write_fails_go_to_a_fallback_file(tmp_path, data, model, capsys, monkeypatch):
    fallback_folder = tmp_path / "fallback"
    fallback_folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(fallback_folder))
    expected = run(capsys, ["predict", model, data])[1]  # to stdout
    target = tmp_path / "p.csv"
    monkeypatch.setattr(predict_module, "write_atomically",
                        _failing(predict_module.write_atomically, target, errno.ENOSPC))
    rc, out, err = run(capsys, ["predict", model, data, "-o", target])
    assert rc == 1 and out == "" and not target.exists()
    [kept] = fallback_folder.iterdir()
    assert kept.read_text() == expected
    assert f"it was written to {kept} instead" in err


def test_when_the_fallback_fails_too_the_message_says_the_result_is_lost(tmp_path, data, capsys, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    target = tmp_path / "model.npz"
    monkeypatch.setattr(xb, "save", _failing(xb.save, target, errno.ENOSPC, position=1))
    rc, _, err = run(capsys, ["train", data, "--epochs", "1", "--no-progress", "--save", target])
    assert rc == 1
    assert err.startswith(f"xpbackprop: error: could not write the model to {target} ([Errno 28]")
    assert err.endswith("the model is lost\n") and err.count("\n") == 1


# --- memory ---------------------------------------------------------------------------------------


def test_a_network_beyond_the_machines_memory_is_one_line_before_anything_is_allocated(capsys):
    from xpbackprop.cli.runtime import physical_memory

    if physical_memory() is None:
        pytest.skip("this system does not say how much memory it has")
    rc, out, err = run(capsys, ["train", "digits", "--hidden", "100000000"])
    n = 64 * 10**8 + 10**8 + 10**8 * 10 + 10  # W1, b1, W2, b2 of [64, 1e8, 10]
    assert rc == 1 and out == ""
    assert err.startswith(f"xpbackprop: error: --hidden: an MLP [64, 100000000, 10] has {n:,} parameters; "
                          "training it needs about ")
    assert err.endswith(" GiB of memory\n") and err.count("\n") == 1


def test_running_out_of_memory_anyway_is_one_line(capsys, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError("Unable to allocate 47.7 GiB for an array")

    monkeypatch.setattr(train_module.xb, "MLP", exhausted)
    rc, out, err = run(capsys, ["train", "xor"])
    assert rc == 1 and out == ""
    assert err == ("xpbackprop: error: not enough memory: Unable to allocate 47.7 GiB for an array "
                   "(a smaller --hidden or --batch-size needs less)\n")
