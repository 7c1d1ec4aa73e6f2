"""The command line decides nothing silently: the task, a sigmoid output on two classes, the
validation part and early stopping, class-named probabilities, one meaning per option name."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import reported
from helpers import run_cli as run

import xpbackprop as xb
from xpbackprop import datasets


def write_csv(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- --task auto ----------------------------------------------------------------------------------


@pytest.fixture
def diabetes_csv(tmp_path):
    sklearn_datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn (test extra) is missing")
    d = sklearn_datasets.load_diabetes(scaled=False)
    return write_csv(tmp_path / "diabetes.csv", [*d.feature_names, "progression"],
                     [[*x, int(t)] for x, t in zip(d.data, d.target)]), d.target


def test_a_many_valued_whole_number_target_is_regression_with_a_note(diabetes_csv, capsys):
    path, target = diabetes_csv
    distinct = len(np.unique(target))  # 214 whole numbers in 442 rows: about 2 rows per value
    assert np.all(target == np.round(target)) and len(target) < 5 * distinct
    rc, out, err = run(capsys, ["train", path, "--epochs", "5", "--no-progress"])
    assert rc == 0, err
    assert out.startswith(f"note: {path}: {distinct} distinct whole-number targets in {len(target)} rows")
    assert ", regression; 332 train / 110 test (seed 0)" in out and "test R²" in out
    # forced: classes, as before (and as asked)
    rc, out, err = run(capsys, ["train", path, "--epochs", "1", "--no-progress", "--task", "classification"])
    assert rc == 0, err
    assert "note:" not in out and f"{distinct} classes (network outputs 0=25, 1=31" in out


def test_a_continuous_target_is_regression_with_a_note(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    path = write_csv(tmp_path / "c.csv", ["a", "b", "y"], [[a, b, round(a + 0.25, 2)] for a, b in X])
    rc, out, err = run(capsys, ["train", path, "--epochs", "2", "--no-progress"])
    assert rc == 0, err
    first = next(v for v in (round(a + 0.25, 2) for a, _ in X) if v != round(v))
    assert out.startswith(f"note: {path}: the target is continuous (values such as {first:g} are not whole")
    assert "regression" in out and "train R²" in out


def test_auto_refuses_what_it_cannot_tell_and_names_the_option(tmp_path, capsys):
    # 30 whole numbers, 10 rows each: thirty classes, or a count? The command asks.
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(30), 10)
    path = write_csv(tmp_path / "k.csv", ["a", "y"], [[v, t] for v, t in zip(rng.normal(size=300), y)])
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", path, "--save", model])
    assert rc == 1 and out == "" and not model.exists()
    assert err == (f"xpbackprop: error: {path}: the target has 30 distinct whole numbers: classes or a "
                   "quantity? say --task classification or --task regression\n")
    for task in ("classification", "regression"):
        rc, out, err = run(capsys, ["train", path, "--task", task, "--epochs", "1", "--no-progress"])
        assert rc == 0, err
        assert ("30 classes" in out) == (task == "classification")


# --- one sigmoid unit for two classes ---------------------------------------------------------------


def test_sigmoid_output_on_two_classes_is_one_unit_with_binary_cross_entropy(tmp_path, capsys):
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", "xor", "--output-activation", "sigmoid", "--epochs", "80",
                                "--dtype", "float64", "--no-progress", "--save", model])
    assert rc == 0, err
    assert "2 classes (one sigmoid unit: A > ½ is 1, else 0)" in out
    assert "MLP [2, 8, 1]: tanh hidden, sigmoid output, bce loss" in out
    net = xb.load(model)
    assert net.n_outputs == 1 and isinstance(net.loss_fn, xb.BCE)
    # the file's arrays alone, in NumPy: P(class 1) = σ(tanh(X W1 + b1) W2 + b2)
    X, y = datasets.xor()
    W1, b1, W2, b2 = (xb.to_numpy(p) for p in net.parameters)
    p1 = 1 / (1 + np.exp(-(np.tanh(X @ W1 + b1) @ W2 + b2)))[:, 0]
    _, test = datasets.split(len(y), 0.25, 0, y)
    assert round(float(np.mean((p1[test] > 0.5) == y[test])), 4) == reported(out, "test accuracy") > 0.9
    npz = tmp_path / "rows.npz"
    np.savez(npz, X=X[:20], y=y[:20])
    rc, out, err = run(capsys, ["predict", model, npz, "--proba", "--digits", "0"])
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "p_0,p_1"
    np.testing.assert_allclose(np.loadtxt(lines[1:], delimiter=","), np.column_stack([1 - p1[:20], p1[:20]]),
                               rtol=1e-12)
    rc, out, err = run(capsys, ["predict", model, npz])
    assert rc == 0, err
    assert out.splitlines()[1:] == [str(int(v)) for v in p1[:20] > 0.5]


def test_a_sigmoid_model_of_named_classes_keeps_both_labels(tmp_path, capsys):
    # refused with --save before the model file kept two labels for one sigmoid unit
    X, y = datasets.xor(n_per_corner=20)
    rows = [[a, b, ["no", "yes"][t]] for (a, b), t in zip(X, y)]
    path = write_csv(tmp_path / "n.csv", ["a", "b", "kind"], rows)
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", path, "--output-activation", "sigmoid", "--epochs", "80",
                                "--dtype", "float64", "--no-progress", "--save", model])
    assert rc == 0, err
    assert "one sigmoid unit: A > ½ is yes, else no" in out
    net = xb.load(model)
    assert net.n_outputs == 1 and net.classes == ["no", "yes"]
    # the file's arrays alone, in NumPy: class "yes" where σ(max(X W1 + b1, 0) W2 + b2) > ½
    W1, b1, W2, b2 = (xb.to_numpy(p) for p in net.parameters)
    yes = (1 / (1 + np.exp(-(np.maximum(X @ W1 + b1, 0) @ W2 + b2))))[:, 0] > 0.5
    expected = np.where(yes, "yes", "no")
    assert net.predict(X).tolist() == expected.tolist()
    rc, out, err = run(capsys, ["predict", model, path])
    assert rc == 0, err
    assert out.splitlines() == ["prediction", *expected]
    assert f"accuracy {np.mean(yes == (y == 1)):.4f} on {len(y)} labelled rows" in err
    rc, out, err = run(capsys, ["predict", model, path, "--proba"])
    assert rc == 0 and out.splitlines()[0] == "p_no,p_yes"
    rc, out, err = run(capsys, ["info", model])
    assert rc == 0 and "classes (2): no, yes" in out


# --- validation part, early stopping ---------------------------------------------------------------


def test_the_validation_part_comes_from_the_training_rows_not_the_test_rows(tmp_path, capsys):
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", "xor", "--validation-fraction", "0.2", "--epochs", "30",
                                "--no-progress", "--save", model])
    assert rc == 0, err
    assert "120 train / 30 validation / 50 test (stratified, seed 0)" in out
    # the same seeded splits, recomputed: test from all rows, validation from the rest
    X, y = datasets.xor()
    train, test = datasets.split(len(y), 0.25, 0, y)
    keep, held = datasets.split(len(train), 0.2, 0, y[train])
    validation = train[held]
    assert np.intersect1d(validation, test).size == 0 and len(validation) == 30
    predicted = xb.to_numpy(xb.load(model).predict(X))
    for name, rows in (("validation", validation), ("test", test), ("train", train[keep])):
        assert reported(out, f"{name} accuracy") == round(float(np.mean(predicted[rows] == y[rows])), 4)


def test_early_stopping_keeps_the_weights_of_the_best_validation_epoch(tmp_path, capsys):
    # few noisy rows and a wide network overfit within a few epochs
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 5))
    y = X[:, 0] + rng.normal(0, 1.0, 120)
    npz = tmp_path / "noisy.npz"
    np.savez(npz, X=X, y=y)
    rc, out, err = run(capsys, ["train", npz, "--hidden", "128,128", "--lr", "0.01", "--epochs", "300",
                                "--early-stopping", "--patience", "5", "--batch-size", "8"])
    assert rc == 0, err
    epochs = [line for line in err.splitlines() if line.startswith("epoch ")]
    val_loss = [float(re.search(r"validation loss ([-0-9.e]+)", line).group(1)) for line in epochs]
    val_r2 = [float(re.search(r"validation R² ([-0-9.e]+)", line).group(1)) for line in epochs]
    best = int(np.argmin(val_loss)) + 1
    assert len(epochs) == best + 5 < 300  # stopped five epochs after the best one
    assert f"trained {best + 5} epochs" in out
    assert f"kept the weights of epoch {best}" in out
    # the network reported on is that epoch's: its validation R² is the best epoch's
    assert reported(out, "validation R²") == pytest.approx(val_r2[best - 1], abs=6e-4)


def test_early_stopping_holds_out_a_tenth_when_no_fraction_is_given(capsys):
    rc, out, err = run(capsys, ["train", "xor", "--early-stopping", "--epochs", "2", "--no-progress"])
    assert rc == 0, err
    assert "134 train / 16 validation / 50 test" in out  # round(0.1 · 75) = 8 per class


# --- one name, one meaning ------------------------------------------------------------------------


def test_train_output_is_a_deprecated_spelling_of_output_activation(capsys):
    rc, out, err = run(capsys, ["train", "xor", "--output", "sigmoid", "--epochs", "1", "--no-progress"])
    assert rc == 0
    assert err == ("xpbackprop: warning: --output in train is deprecated (it names the output activation, "
                   "not an output file): use --output-activation\n")
    assert "sigmoid output, bce loss" in out


# --- classes by name ------------------------------------------------------------------------------


def test_probabilities_are_named_by_class_and_info_lists_the_classes(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 2))
    names = np.array(["cat", 'dog "big"', "owl, small"])[np.digitize(X[:, 0], [-0.4, 0.4])]
    rows = [[a, b, t] for (a, b), t in zip(X, names)]
    path = write_csv(tmp_path / "animals.csv", ["a", "b", "animal"], rows)
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", path, "--epochs", "5", "--no-progress", "--save", model])
    assert rc == 0, err
    npz = tmp_path / "x.npz"
    np.savez(npz, X=X[:5])
    rc, out, err = run(capsys, ["predict", model, npz, "--proba"])
    assert rc == 0, err
    header = next(csv.reader([out.splitlines()[0]]))
    assert header == ["p_cat", 'p_dog "big"', "p_owl, small"]
    values = np.array([[float(v) for v in row] for row in csv.reader(out.splitlines()[1:])])
    np.testing.assert_allclose(values, xb.to_numpy(xb.load(model).predict_proba(X[:5])), rtol=5e-6)
    rc, out, err = run(capsys, ["info", model])
    assert rc == 0, err
    assert 'classes (3): cat, dog "big", owl, small' in out


# --- columns matched by name: the model file keeps the training file's header ------------------------


def _relu_classes(net, X):
    """The classes of an MLP with one ReLU hidden layer and a softmax output, from the file's arrays
    alone, in NumPy."""
    W1, b1, W2, b2 = (xb.to_numpy(p).astype(np.float64) for p in net.parameters)
    return np.argmax(np.maximum(X @ W1 + b1, 0) @ W2 + b2, axis=1)


def test_predict_matches_columns_by_name(tmp_path, capsys):
    # the same columns in another order gave other predictions, with exit status 0
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] - 2 * X[:, 2] > 0).astype(int)
    train = write_csv(tmp_path / "t.csv", ["a", "b", "c", "label"], [[*x, t] for x, t in zip(X, y)])
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", train, "--epochs", "20", "--no-progress", "--save", model])
    assert rc == 0, err
    net = xb.load(model)
    expected = _relu_classes(net, X)
    assert np.any(_relu_classes(net, X[:, [2, 0, 1]]) != expected)  # the order matters to this model
    rows = [[t, x[2], x[0], x[1]] for x, t in zip(X, y)]
    shuffled = write_csv(tmp_path / "s.csv", ["label", "c", "a", "b"], rows)
    rc, out, err = run(capsys, ["predict", model, shuffled])
    assert rc == 0, err
    assert [int(v) for v in out.splitlines()[1:]] == expected.tolist()
    assert "matched to the model's features by name" in err
    assert f"accuracy {np.mean(expected == y):.4f} on 80 labelled rows" in err
    assert net.features == ["a", "b", "c"] and net.label == "label"
    missing = write_csv(tmp_path / "m.csv", ["c", "a"], [[x[2], x[0]] for x in X])
    rc, out, err = run(capsys, ["predict", model, missing])
    assert rc == 1 and out == "" and "no column for the model's features ['b']" in err
    extra = write_csv(tmp_path / "e.csv", ["a", "b", "c", "d"], [[*x, 0] for x in X])
    rc, out, err = run(capsys, ["predict", model, extra])
    assert rc == 1 and out == "" and "the columns ['d'] are not features of the model" in err
    rc, out, err = run(capsys, ["info", model])
    assert rc == 0, err
    assert "features (3): a, b, c\nlabel column: label\n" in out


def test_a_label_column_of_names_is_left_out_without_naming_it_again(tmp_path, capsys):
    # the label column (first, of names) had to be given again with --label-column to predict
    rng = np.random.default_rng(5)
    X = rng.normal(size=(90, 2))
    names = np.array(["setosa", "virginica"])[(X[:, 0] + X[:, 1] > 0).astype(int)]
    path = write_csv(tmp_path / "iris.csv", ["species", "x1", "x2"], [[t, *x] for x, t in zip(X, names)])
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", path, "--label-column", "species", "--epochs", "20", "--no-progress",
                                "--save", model])
    assert rc == 0, err
    net = xb.load(model)
    expected = np.array(["setosa", "virginica"])[_relu_classes(net, X)]  # sorted, as training numbers them
    rc, out, err = run(capsys, ["predict", model, path])
    assert rc == 0, err
    assert out.splitlines() == ["prediction", *expected]
    assert f"accuracy {np.mean(expected == names):.4f} on 90 labelled rows" in err


def test_a_file_without_a_header_gives_the_model_no_names(tmp_path, capsys):
    X, y = datasets.xor(n_per_corner=10)
    path = tmp_path / "plain.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",")
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", path, "--epochs", "2", "--no-progress", "--save", model])
    assert rc == 0, err
    net = xb.load(model)
    assert (net.features, net.label) == (None, None)  # not the positions "0", "1", "2"
    rc, out, err = run(capsys, ["info", model])
    assert rc == 0 and "features" not in out and "label column" not in out


def test_columns_of_the_same_name_are_refused_before_training_a_model_to_save(tmp_path, capsys):
    X, y = datasets.xor(n_per_corner=10)
    path = write_csv(tmp_path / "twice.csv", ["x", "x", "label"], [[*x, t] for x, t in zip(X, y)])
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, ["train", path, "--save", model])
    assert rc == 1 and out == "" and not model.exists()
    assert "features must all be different, got ['x'] more than once" in err and err.count("\n") == 1
    rc, out, err = run(capsys, ["train", path, "--epochs", "1", "--no-progress"])
    assert rc == 0, err  # without --save the names are not kept: nothing to refuse
