"""The ``xpbackprop`` command line: train, predict, info, plots and its errors."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import reported
from helpers import run_cli as run

import xpbackprop as xb
from xpbackprop import datasets
from xpbackprop.backend import backend_unavailable_reason
from xpbackprop.cli import fold_standardization, main, parse_arguments

ROOT = Path(__file__).resolve().parents[1]




def numpy_logits(model: Path, X: np.ndarray) -> np.ndarray:
    """The saved MLP's output pre-activation, in float64 NumPy from the file's arrays alone
    (relu hidden layers, as the digits default uses), independent of the library's forward."""
    net = xb.load(model)
    assert net.hidden == ["relu"] * len(net.hidden)
    A = X
    for k, (W, b) in enumerate(zip(net.weights, net.biases)):
        Z = A @ xb.to_numpy(W).astype(np.float64) + xb.to_numpy(b).astype(np.float64)
        A = np.maximum(Z, 0.0) if k < len(net.weights) - 1 else Z
    return A


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One default ``xpbackprop train --save`` on digits, shared by the tests that read its model
    (captured by hand: capsys is function-scoped)."""
    model = tmp_path_factory.mktemp("digits") / "model.npz"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["train", "--save", str(model), "--no-progress"])
    return rc, out.getvalue(), err.getvalue(), model


# --- train on digits ---------------------------------------------------------------------------


def test_default_train_reaches_097_and_the_saved_model_agrees(digits_run):
    rc, out, err, model = digits_run
    assert rc == 0, err
    assert "digits, 1797 samples × 64 features, 10 classes; 1347 train / 450 test" in out
    test_acc = reported(out, "test accuracy")
    assert test_acc >= 0.97
    assert reported(out, "train accuracy") >= test_acc
    assert re.search(r"^trained 20 epochs in [0-9.]+ s", out, flags=re.MULTILINE)
    # recompute from the file: the same seeded split, raw pixels (the scaling is in the model)
    X, y = datasets.digits()
    _, test = datasets.split(len(X), 0.25, 0, y)
    assert len(test) == 450
    predicted = np.argmax(numpy_logits(model, X[test]), axis=1)
    assert round(float(np.mean(predicted == y[test])), 4) == test_acc


def test_shipped_digits_are_scikit_learns():
    sklearn_datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn (test extra) is missing")
    d = sklearn_datasets.load_digits()
    X, y = datasets.digits()
    np.testing.assert_array_equal(X, d.data)
    np.testing.assert_array_equal(y, d.target)


def test_split_is_seeded_stratified_and_disjoint():
    y = np.repeat(np.arange(3), [10, 20, 30])
    train, test = datasets.split(len(y), 0.25, 7, y)
    assert np.intersect1d(train, test).size == 0 and len(train) + len(test) == 60
    assert np.bincount(y[test]).tolist() == [2, 5, 8]  # round(0.25 · count) per class (2.5 rounds to 2)
    again = datasets.split(len(y), 0.25, 7, y)
    np.testing.assert_array_equal(again[1], test)
    assert not np.array_equal(datasets.split(len(y), 0.25, 8, y)[1], test)


def test_predict_equals_the_model_loaded_in_python(digits_run, tmp_path, capsys):
    _, _, _, model = digits_run
    X, y = datasets.digits()
    rows = X[:40]
    # the training file's layout: 64 feature columns and a label column (detected by its count)
    csv = tmp_path / "digits.csv"
    header = ",".join([f"p{i}" for i in range(64)] + ["digit"])
    np.savetxt(csv, np.column_stack([rows, y[:40]]), delimiter=",", header=header, comments="", fmt="%g")
    rc, out, err = run(capsys, ["predict", str(model), str(csv)])
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "prediction"
    expected = xb.to_numpy(xb.load(model).predict(rows))
    assert [int(v) for v in lines[1:]] == expected.tolist()
    assert "the last column ('digit') is read as labels" in err
    assert re.search(r"accuracy [0-9.]+ on 40 labelled rows", err)
    # NPZ input and an output file give the same
    npz = tmp_path / "rows.npz"
    np.savez(npz, X=rows)
    target = tmp_path / "predictions.csv"
    rc, out, err = run(capsys, ["predict", str(model), str(npz), "--output", str(target)])
    assert rc == 0, err
    assert out == ""
    assert target.read_text().splitlines()[1:] == lines[1:]
    plain = tmp_path / "plain"
    plain.write_bytes(b"")  # written whole under a temporary name, with the permissions open() gives
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    # probabilities: the softmax rows, one column per class, named by it, 6 significant digits
    rc, out, _ = run(capsys, ["predict", str(model), str(npz), "--proba"])
    assert rc == 0
    assert out.splitlines()[0] == ",".join(f"p_{k}" for k in range(10))
    proba = np.loadtxt(out.splitlines()[1:], delimiter=",")
    expected = xb.to_numpy(xb.load(model).predict_proba(rows))
    np.testing.assert_allclose(proba, expected, rtol=5e-6)  # 6 digits: half a unit in the 6th
    assert max(len(v) for line in out.splitlines()[1:] for v in line.split(",")) <= len("-1.23457e-05")
    rc, out, _ = run(capsys, ["predict", str(model), str(npz), "--proba", "--digits", "0"])
    assert rc == 0  # every digit: the float64 values exactly
    exact = np.loadtxt(out.splitlines()[1:], delimiter=",")
    np.testing.assert_array_equal(exact, expected.astype(np.float64))


def test_info_lists_backends_and_describes_a_model(digits_run, capsys):
    _, _, _, model = digits_run
    rc, out, _ = run(capsys, ["info"])
    assert rc == 0
    assert re.search(r"^numpy\s+available\s.*devices: cpu", out, flags=re.MULTILINE)
    for name in xb.BACKENDS:  # one line per backend: available, or why not
        line = next(line for line in out.splitlines() if line.split()[0] == name)
        assert ("unavailable:" in line) == (backend_unavailable_reason(name) is not None), line
    rc, out, _ = run(capsys, ["info", str(model)])
    assert rc == 0
    assert "MLP [64, 512, 10]" in out
    assert f"total: {xb.load(model).n_parameters:,} parameters" in out
    assert "dZ = (A − Y)/m" in out
    # digits are their own class indices: the file names no classes, info shows the indices
    assert "classes (10) (the file names none: the class indices): 0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in out


# --- folding the standardisation into the model ---------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_folded_scaling_gives_the_scaled_pipelines_predictions(dtype):
    rng = np.random.default_rng(3)
    X = rng.normal(5.0, [1.0, 30.0, 0.01, 2.0], size=(80, 4))
    X[:, 3] = 7.0  # a constant feature: scale 1
    y = (X[:, 0] + X[:, 1] / 30 > 5).astype(int)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    Xs = (X - mean) / scale
    net = xb.MLP([4, 6, 2], hidden="tanh", dtype=dtype, seed=1)
    net.fit(Xs, y, epochs=20, lr=0.05, batch_size=16)
    scaled = xb.to_numpy(net.forward(Xs)).astype(np.float64)
    labels = xb.to_numpy(net.predict(Xs))
    fold_standardization(net, mean, scale)
    raw = xb.to_numpy(net.forward(X)).astype(np.float64)
    rtol = 1e-12 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(raw, scaled, rtol=rtol, atol=rtol)
    np.testing.assert_array_equal(xb.to_numpy(net.predict(X)), labels)


def test_folded_target_scaling_for_regression():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 3)) * [1, 10, 100] + 50
    y = (X @ [1.0, 0.5, 0.01]).reshape(-1, 1) * 1000.0
    mean, scale = X.mean(axis=0), X.std(axis=0)
    ym, ys = y.mean(axis=0), y.std(axis=0)
    net = xb.MLP([3, 5, 1], hidden="relu", output="identity", loss="mse", dtype="float64", seed=0)
    net.fit((X - mean) / scale, (y - ym) / ys, epochs=10, lr=0.01)
    expected = xb.to_numpy(net.forward((X - mean) / scale)) * ys + ym
    fold_standardization(net, mean, scale, ym, ys)
    np.testing.assert_allclose(xb.to_numpy(net.forward(X)), expected, rtol=1e-12)


# --- data files ---------------------------------------------------------------------------------


@pytest.fixture
def xor_csv(tmp_path):
    X, y = datasets.xor(n_per_corner=30, seed=2)
    path = tmp_path / "xor.csv"
    # the label in the middle, named, to exercise --label-column by name and by index
    lines = ["a,label,b"] + [f"{float(a)!r},{int(t)},{float(b)!r}" for (a, b), t in zip(X, y)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_on_csv_by_label_name_and_index_then_predict(xor_csv, tmp_path, capsys):
    model = tmp_path / "m.npz"
    argv = ["train", str(xor_csv), "--hidden", "8", "--activation", "tanh", "--epochs", "60", "--lr", "0.02",
            "--dtype", "float64", "--no-progress", "--save", str(model)]
    rc, out, err = run(capsys, [*argv, "--label-column", "label"])
    assert rc == 0, err
    assert "120 samples × 2 features, 2 classes; 90 train / 30 test" in out
    assert reported(out, "test accuracy") >= 0.9
    rc2, out2, err2 = run(capsys, [*argv, "--label-column", "1"])
    assert rc2 == 0, err2
    assert reported(out2, "test accuracy") == reported(out, "test accuracy")
    # predict with the label column named: the remaining columns are the features
    rc, out, err = run(capsys, ["predict", str(model), str(xor_csv), "--label-column", "label"])
    assert rc == 0, err
    table = datasets.load_table(xor_csv, "label")
    assert [int(v) for v in out.splitlines()[1:]] == xb.to_numpy(xb.load(model).predict(table.X)).tolist()
    # the saved model on raw features gives what the reported accuracy says, recomputed by hand
    _, test = datasets.split(len(table.y), 0.25, 0, table.y.astype(int))
    accuracy = np.mean(xb.to_numpy(xb.load(model).predict(table.X[test])) == table.y[test])
    assert round(float(accuracy), 4) == reported(out2, "test accuracy")


def test_train_on_npz_and_string_labels(tmp_path, capsys):
    X, y = datasets.spirals(n_per_class=40, classes=2, seed=1)
    npz = tmp_path / "s.npz"
    np.savez(npz, X=X, y=np.array(["left", "right"])[y])
    rc, out, err = run(capsys, ["train", str(npz), "--epochs", "5", "--no-progress"])
    assert rc == 0, err
    assert "2 classes (network outputs 0=left, 1=right)" in out
    assert "test accuracy" in out


@pytest.mark.parametrize("labels", [(1, 2, 1000), ("cat", "dog, big", "owl")], ids=["numbers", "names"])
def test_predict_gives_back_the_labels_a_model_was_trained_on(tmp_path, capsys, labels):
    # labels that are not their own indices are numbered for training; the model file keeps them,
    # so predict prints them and scores a file's labels against them, even a file where some class
    # is missing (whose labels would all be valid indices)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = np.select([X[:, 0] < -0.4, X[:, 0] < 0.4], [0, 1], 2)
    names = np.array(labels, dtype=object)[y]
    train, subset = tmp_path / "train.csv", tmp_path / "subset.csv"
    for path, rows in ((train, range(300)), (subset, [i for i in range(300) if y[i] != 2])):
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["a", "b", "label"])
            writer.writerows([X[i, 0], X[i, 1], names[i]] for i in rows)
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", str(train), "--epochs", "60", "--lr", "0.01", "--no-progress",
                                "--save", str(model)])
    assert rc == 0, err
    assert xb.saved_classes(model) == sorted(labels)  # whole numbers stay whole numbers
    rc, out, err = run(capsys, ["predict", str(model), str(subset), "--label-column", "label"])
    assert rc == 0, err
    predicted = [row[0] for row in csv.reader(io.StringIO(out))][1:]
    table = datasets.load_table(subset, "last")
    loaded = xb.load(model)
    index = xb.to_numpy(loaded.predict_index(table.X))
    order = sorted(labels)  # the numbering training printed
    assert predicted == [str(order[k]) for k in index]
    assert [str(v) for v in loaded.predict(table.X)] == predicted  # the loaded model answers in them too
    truth = [str(int(v)) if isinstance(v, float) else str(v) for v in table.y.tolist()]
    accuracy = re.search(rf"^accuracy ([0-9.]+) on {len(truth)} labelled rows$", err, flags=re.MULTILINE)
    assert accuracy, err
    assert float(accuracy.group(1)) == round(float(np.mean(np.array(predicted) == np.array(truth))), 4)
    assert float(accuracy.group(1)) > 0.8  # and the model did learn: the comparison means something


def test_regression_on_csv_reports_r2_and_predicts_values(tmp_path, capsys):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 3)) * [1.0, 5.0, 0.2] + [0.0, 100.0, -3.0]
    y = 300.0 + 40.0 * X[:, 0] - 6.0 * X[:, 1] + 50.0 * X[:, 2] + rng.normal(0, 1.0, 200)
    csv = tmp_path / "reg.csv"
    np.savetxt(csv, np.column_stack([X, y]), delimiter=",", header="x0,x1,x2,y", comments="")
    model = tmp_path / "reg.npz"
    rc, out, err = run(capsys, ["train", str(csv), "--task", "regression", "--hidden", "16", "--epochs",
                                "200", "--lr", "0.01", "--dtype", "float64", "--no-progress",
                                "--save", str(model)])
    assert rc == 0, err
    r2 = reported(out, "test R²")
    assert r2 > 0.95
    # independent R² of the saved model on raw data: targets in their own units (the scaling is folded in)
    _, test = datasets.split(len(y), 0.25, 0)
    pred = xb.to_numpy(xb.load(model).predict(X[test]))[:, 0]
    independent = 1 - np.sum((y[test] - pred) ** 2) / np.sum((y[test] - y[test].mean()) ** 2)
    assert round(float(independent), 4) == r2
    rc, out, err = run(capsys, ["predict", str(model), str(csv), "--digits", "0"])
    assert rc == 0, err
    np.testing.assert_allclose([float(v) for v in out.splitlines()[1:]],
                               xb.to_numpy(xb.load(model).predict(X))[:, 0], rtol=1e-15)
    rc, out, err = run(capsys, ["predict", str(model), str(csv)])  # 6 significant digits
    assert rc == 0, err
    assert all(len(v.lstrip("-").replace(".", "")) <= 6 for v in out.splitlines()[1:] if "e" not in v)
    np.testing.assert_allclose([float(v) for v in out.splitlines()[1:]],
                               xb.to_numpy(xb.load(model).predict(X))[:, 0], rtol=5e-6)


def test_load_table_reads_headerless_csv_and_reports_bad_fields(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("1,2,0\n3,4,1\n")
    table = datasets.load_table(path)
    np.testing.assert_array_equal(table.X, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(table.y, [0, 1])
    assert table.columns == ["0", "1"] and table.label == "2"
    path.write_text("1,2,cat\n3,4,dog\n")  # text labels in every row: no header
    table = datasets.load_table(path)
    assert table.columns == ["0", "1"] and table.y.tolist() == ["cat", "dog"]
    path.write_text("a,b,y\n1,2,0\n3,x,1\n")
    with pytest.raises(ValueError, match=r"line 3, column 'b': 'x' is not a finite number"):
        datasets.load_table(path)
    path.write_text("a,b,y\n1,2,0\n3,4\n")
    with pytest.raises(ValueError, match="line 3 has 2 fields, the header 3"):
        datasets.load_table(path)


# --- demo, plots, progress, a real process ----------------------------------------------------------


def test_no_command_is_train_on_digits():
    args = parse_arguments([])
    assert args.command == "train" and args.data == "digits" and args.backend == "numpy"
    assert args.task == "auto" and args.handler is parse_arguments(["train"]).handler


def test_demo_is_train_spirals(capsys):
    rc, out, err = run(capsys, ["demo", "--epochs", "2", "--no-progress"])
    assert rc == 0, err
    assert "spirals, 600 samples × 2 features, 3 classes" in out
    assert re.search(r"^trained 2 epochs", out, flags=re.MULTILINE)


def test_plot_without_matplotlib_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    from xpbackprop.plot import plot_history

    with pytest.raises(ImportError, match=r"pip install 'xpbackprop\[plot\]'"):
        plot_history(xb.History(loss=[1.0]), tmp_path / "x.png")
    rc, out, err = run(capsys, ["train", "xor", "--plot", str(tmp_path / "x.png")])
    assert rc == 1 and out == ""  # refused before training
    assert err.count("\n") == 1 and "xpbackprop[plot]" in err


def test_train_with_plot_writes_the_curves(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="matplotlib (the plot extra) is not installed")
    png = tmp_path / "curve.png"
    rc, out, err = run(capsys, ["train", "xor", "--epochs", "3", "--no-progress", "--plot", str(png)])
    assert rc == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {png}" in out


def test_python_dash_m_in_a_real_process_with_progress(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "xpbackprop", "train", "xor", "--epochs", "4", "--seed", "1",
         "--save", "m.npz"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "test accuracy" in done.stdout
    assert "Traceback" not in done.stderr
    # piped, the progress is one plain line per epoch: no carriage-return frames, no bar
    assert "\r" not in done.stderr
    lines = done.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"epoch {k}/4" for k in range(1, 5)], done.stderr
    # a reader that leaves early (`| head -1`) ends the command quietly: 200,000 predictions
    # overflow the pipe's buffer, so the writer does meet the closed pipe
    np.savez(tmp_path / "many.npz", X=np.random.default_rng(0).normal(size=(200_000, 2)))
    head = subprocess.run(
        f"{sys.executable} -m xpbackprop predict m.npz many.npz | head -1; echo status ${{PIPESTATUS[0]}}",
        shell=True, executable="/bin/bash", capture_output=True, text=True, env=env, cwd=tmp_path,
        timeout=300,
    )
    assert head.stdout == "prediction\nstatus 1\n", head.stdout
    assert head.stderr == ""
    # a bad argument in a real process: one line on stderr, status 1, no traceback
    bad = subprocess.run(
        [sys.executable, "-m", "xpbackprop", "train", str(tmp_path / "missing.csv")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("xpbackprop: error: no data set or file")


# --- errors ---------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path, xor_csv):
    text = tmp_path / "text.csv"
    text.write_text("a,b,y\n1,2,0\n3,oops,1\n")
    floats = tmp_path / "floats.csv"
    floats.write_text("a,y\n1,0.5\n2,1.5\n3,2.5\n4,0.25\n")
    names = tmp_path / "names.csv"
    names.write_text("a,y\n1,cat\n2,dog\n3,cat\n4,dog\n")
    not_model = tmp_path / "not_model.npz"
    np.savez(not_model, X=np.zeros((2, 2)))
    return {"csv": str(xor_csv), "text": str(text), "floats": str(floats), "names": str(names),
            "not_model": str(not_model), "dir": str(tmp_path), "missing": str(tmp_path / "missing.csv")}


BAD = [
    # (argv with {placeholders}, exit status, a phrase of the message)
    (["train", "{missing}"], 1, "no data set or file"),
    (["train", "{csv}", "--label-column", "nope"], 1, "no column named 'nope'"),
    (["train", "{csv}", "--label-column", "7"], 1, "label column index 7 is out of range"),
    (["train", "{text}"], 1, "'oops' is not a finite number"),
    (["train", "{floats}", "--task", "classification"], 1, "whole numbers"),
    (["train", "{names}", "--task", "regression"], 1, "regression needs numeric labels"),
    (["train", "xor", "--label-column", "a"], 1, "--label-column applies to data files"),
    (["train", "{dir}"], 1, "a directory"),
    (["train", "xor", "--activation", "bogus"], 1, "unknown activation 'bogus'"),
    (["train", "xor", "--activation", "relu,tanh"], 1, "hidden lists 2 activations"),
    (["train", "xor", "--output-activation", "bogus"], 1, "unknown activation 'bogus'"),
    (["train", "xor", "--output-activation", "identity"], 1,
     "classification needs an output that gives classes"),
    (["train", "xor", "--output-activation", "sigmoid", "--hidden", "4", "--epochs", "1", "--test-size", "0",
      "--validation-fraction", "0", "--early-stopping"], 1, "--early-stopping watches a validation part"),
    (["train", "spirals", "--output-activation", "sigmoid"], 1, "sigmoid is one unit for two classes"),
    (["train", "xor", "--dropout", "1"], 2, "expected a rate in [0, 1)"),
    (["train", "xor", "--dropout", "0.5", "--hidden", "none"], 1, "--dropout applies after hidden layers"),
    (["train", "xor", "--patience", "3"], 1, "--patience applies with --early-stopping"),
    (["train", "xor", "--threads", "-1"], 2, "expected a non-negative integer"),
    (["train", "xor", "--validation-fraction", "1"], 2, "expected a fraction in [0, 1)"),
    (["train", "xor", "--loss", "bogus"], 1, "unknown loss 'bogus'"),
    (["train", "xor", "--device", "nodevice"], 1, "not a device of backend 'numpy'"),
    (["train", "xor", "--momentum", "0.9"], 1, "--momentum applies to --optimizer sgd"),
    (["train", "xor", "--backend", "bogus"], 2, "invalid choice: 'bogus'"),
    (["train", "xor", "--hidden", "a,b"], 2, "hidden sizes must be comma-separated"),
    (["train", "xor", "--epochs", "0"], 2, "expected a positive integer"),
    (["train", "xor", "--lr", "-1"], 2, "expected a finite number > 0"),
    (["train", "xor", "--test-size", "1.5"], 2, "expected a fraction in [0, 1)"),
    (["train", "xor", "--seed", "-1"], 2, "argument --seed: expected a non-negative integer, got -1"),
    (["train", "xor", "--seed", "x"], 2, "argument --seed: expected a non-negative integer, got 'x'"),
    (["predict", "{missing}", "{csv}"], 1, "missing.csv"),
    (["predict", "{not_model}", "{csv}"], 1, "not_model.npz"),
    (["predict", "{csv}", "{csv}"], 1, "xor.csv"),
    (["info", "{missing}"], 1, "missing.csv"),
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize(("argv", "status", "phrase"), BAD, ids=[" ".join(a) for a, _, _ in BAD])
def test_bad_arguments_give_one_line_and_a_status(argv, status, phrase, files, capsys):
    rc, _, err = run(capsys, [a.format(**files) for a in argv])
    assert rc == status
    assert err.count("\n") == 1, err
    assert err.startswith("xpbackprop")
    assert "error:" in err and phrase in err, err
    assert "Traceback" not in err


def test_predict_with_the_wrong_feature_count(digits_run, xor_csv, capsys):
    _, _, _, model = digits_run
    rc, _, err = run(capsys, ["predict", str(model), str(xor_csv)])
    assert rc == 1
    assert err.count("\n") == 1 and "3 feature columns, but the model" in err and "takes 64" in err


def test_an_unavailable_backend_is_one_line(capsys):
    missing = [name for name in xb.BACKENDS if backend_unavailable_reason(name) is not None]
    if not missing:
        pytest.skip("every backend runs here, so none can be refused")
    rc, _, err = run(capsys, ["train", "xor", "--backend", missing[0]])
    assert rc == 1
    assert err.count("\n") == 1 and f"backend {missing[0]!r} cannot run here" in err


@pytest.mark.parametrize("label", ["nan", "inf", "-inf", "1e400"])
def test_regression_names_a_label_that_is_not_a_finite_number(tmp_path, capsys, label):
    path = tmp_path / "labels.csv"
    path.write_text(f"a,b,y\n1,2,5\n3,4,{label}\n5,6,7\n1,1,2\n")
    rc, out, err = run(capsys, ["train", str(path), "--task", "regression", "--epochs", "1", "--no-progress"])
    assert rc == 1 and out == ""
    assert err == (f"xpbackprop: error: {path}: regression needs numeric labels, got {label!r} "
                   "(data row 2), which is not a finite number\n")


@pytest.mark.parametrize("output", ["sigmoid", "logistic", "softmax"])
def test_regression_with_a_classifier_output_is_refused_before_training(tmp_path, capsys, output):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    npz = tmp_path / "r.npz"
    np.savez(npz, X=X, y=1 / (1 + np.exp(-X[:, 0])))
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", str(npz), "--task", "regression", "--output-activation", output,
                                "--epochs", "1", "--no-progress", "--save", str(model)])
    assert rc == 1 and out == ""  # nothing trained, nothing reported
    assert err.count("\n") == 1 and "--task regression" in err and f"--output-activation {output!r}" in err
    assert not model.exists()
    # the same data as regression with the default (identity) output reports R², not accuracy
    rc, out, err = run(capsys, ["train", str(npz), "--task", "regression", "--epochs", "1", "--no-progress"])
    assert rc == 0, err
    assert "train R²" in out and "accuracy" not in out


@pytest.fixture(scope="module")
def xor_model(tmp_path_factory):
    """A model with 2 inputs (xor, one epoch), saved."""
    model = tmp_path_factory.mktemp("xor") / "xor.npz"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["train", "xor", "--epochs", "1", "--no-progress", "--save", str(model)]) == 0
    return model


@pytest.mark.parametrize("with_y", [True, False])
def test_predict_on_an_npz_one_column_too_wide_reports_the_width(xor_model, tmp_path, capsys, with_y):
    X = np.random.default_rng(0).normal(size=(10, 3))
    npz = tmp_path / "wide.npz"
    np.savez(npz, X=X, **({"y": (X[:, 0] > 0).astype(int)} if with_y else {}))
    rc, out, err = run(capsys, ["predict", str(xor_model), str(npz)])
    assert rc == 1 and out == ""
    # one line: no claim that a column is read as labels, no advice of --label-column (refused for .npz)
    assert err == f"xpbackprop: error: {npz}: 'X' has 3 columns, but the model {xor_model} takes 2 features\n"


def test_predict_on_a_csv_one_column_too_wide_reads_the_last_as_labels(xor_model, tmp_path, capsys):
    X = np.random.default_rng(0).normal(size=(10, 2))
    path = tmp_path / "wide.csv"
    path.write_text("".join(f"{float(a)!r},{float(b)!r},{int(a > 0)}\n" for a, b in X))
    rc, out, err = run(capsys, ["predict", str(xor_model), str(path)])
    assert rc == 0, err
    assert "the last column ('2') is read as labels" in err
    assert [int(v) for v in out.splitlines()[1:]] == xb.to_numpy(xb.load(xor_model).predict(X)).tolist()


# --- writing files ------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--save", "--plot"])
def test_train_refuses_an_unwritable_target_before_training(tmp_path, capsys, option):
    if option == "--plot":
        pytest.importorskip("matplotlib", reason="matplotlib (the plot extra) is not installed")
    suffix = ".npz" if option == "--save" else ".png"
    missing = tmp_path / "nodir" / f"out{suffix}"
    rc, out, err = run(capsys, ["train", "xor", "--epochs", "1", "--no-progress", option, str(missing)])
    assert rc == 1 and out == ""  # refused before the training run
    assert err.count("\n") == 1 and repr(str(missing)) in err and "no such directory" in err, err
    rc, out, err = run(capsys, ["train", "xor", "--epochs", "1", "--no-progress", option, str(tmp_path)])
    assert rc == 1 and out == ""
    assert err == f"xpbackprop: error: [Errno 21] a directory, not a file to write: {str(tmp_path)!r}\n"
    assert list(tmp_path.iterdir()) == []  # no temporary file left


def test_predict_output_onto_a_directory_names_it(xor_model, xor_csv, tmp_path, capsys):
    folder = tmp_path / "outdir"
    folder.mkdir()
    rc, out, err = run(capsys, ["predict", str(xor_model), str(xor_csv), "--label-column", "label",
                                "-o", str(folder)])
    assert rc == 1 and out == ""
    assert err == f"xpbackprop: error: [Errno 21] a directory, not a file to write: {str(folder)!r}\n"
    assert list(folder.iterdir()) == []


def test_saving_into_a_missing_folder_or_onto_a_directory_names_the_target(tmp_path):
    net = xb.MLP([2, 2], seed=0)
    missing = tmp_path / "nodir" / "m.npz"
    with pytest.raises(FileNotFoundError) as info:
        xb.save(net, missing)
    assert info.value.filename == str(missing) and str(tmp_path / "nodir") in str(info.value)
    with pytest.raises(IsADirectoryError) as info:
        xb.save(net, tmp_path)
    assert info.value.filename == str(tmp_path)
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    with pytest.raises(NotADirectoryError) as info:
        xb.save(net, plain / "m.npz")
    assert info.value.filename == str(plain / "m.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]  # no temporary file left


def test_saving_onto_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    old, new = xb.MLP([2, 2], seed=0), xb.MLP([2, 2], seed=1)
    target = tmp_path / "real_v1.npz"
    xb.save(old, target)
    link = tmp_path / "current.npz"
    link.symlink_to("real_v1.npz")
    xb.save(new, link)
    assert link.is_symlink() and os.readlink(link) == "real_v1.npz"
    np.testing.assert_array_equal(xb.to_numpy(xb.load(target).weights[0]), xb.to_numpy(new.weights[0]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.npz", "real_v1.npz"]
    # a link to a file not there yet: the file is created where the link points
    dangling = tmp_path / "next.npz"
    dangling.symlink_to("real_v2.npz")
    xb.save(old, dangling)
    assert dangling.is_symlink() and (tmp_path / "real_v2.npz").is_file()
