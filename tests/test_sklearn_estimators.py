"""``xpbackprop.sklearn``: scikit-learn's estimator checks, and the estimators on every backend.

- ``check_estimator``'s checks, each its own test, run once per session on NumPy inputs (the
  checks build their own NumPy data).
- From the same ``random_state``, scikit-learn's MLP is the reference for weights, loss curves,
  predictions and probabilities (``tests/test_sklearn_parity.py`` holds the weight-for-weight
  comparisons of the start, the solvers and ``sample_weight``).
- "Everything follows X": these run on the backend under test (``xp``) and check that fitted
  arrays and predictions are arrays of that library, and that a failed call changes nothing.
"""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import warnings

import array_api_compat
import numpy as np
import pytest
from helpers import RTOL, assert_close, f64

import xpbackprop as xb

sklearn_nn = pytest.importorskip("sklearn.neural_network")
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from test_sklearn import EPOCHS, HIDDEN, N, _data  # noqa: E402

from xpbackprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

TOL = 1e-10  # tests/test_sklearn.py's: float64, the same updates in another order


# --- scikit-learn's own checks ----------------------------------------------------------------


# max_iter=100 as scikit-learn's own test suite sets it for its MLPs
@parametrize_with_checks([MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)])
# the checks fit with max_iter=100 on purpose (fast); scikit-learn's suite ignores this warning too
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_check_estimator(estimator, check):
    check(estimator)


# --- the optional dependency -------------------------------------------------------------------


def test_import_xpbackprop_does_not_import_sklearn():
    code = "import sys, xpbackprop; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_sklearn_names_the_extra():
    code = "import sys; sys.modules['sklearn'] = None; import xpbackprop.sklearn"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode != 0
    assert "ImportError: xpbackprop.sklearn needs scikit-learn" in out.stderr
    assert "pip install 'xpbackprop[sklearn]'" in out.stderr


# --- weight for weight against scikit-learn ----------------------------------------------------


def _ns(xp, a):
    """Host data as a float64 (or integer-label) array of the backend under test."""
    a = np.asarray(a)
    return f64(xp, a) if a.dtype.kind == "f" else xp.asarray(a)


def _estimator(task, **params):
    cls = MLPRegressor if task == "regression" else MLPClassifier
    base = dict(hidden_layer_sizes=HIDDEN, solver="sgd", alpha=0.0, batch_size=N, max_iter=EPOCHS,
                shuffle=False, momentum=0.0, tol=0.0, n_iter_no_change=10 * EPOCHS, random_state=7,
                dtype="float64")
    return cls(**{**base, **params})


def _assert_in_namespace(xp, *arrays):
    for a in arrays:
        assert array_api_compat.array_namespace(a) is array_api_compat.array_namespace(xp.asarray(0))


def _assert_same_weights(est, ref, rtol=TOL):
    for k, (w, c) in enumerate(zip(est.coefs_, ref.coefs_, strict=True)):
        assert_close(w, c, rtol, f"coefs_[{k}]")
    for k, (b, c) in enumerate(zip(est.intercepts_, ref.intercepts_, strict=True)):
        assert_close(b, c, rtol, f"intercepts_[{k}]")


def test_predictions_and_probabilities_are_sklearns(xp):
    """Fitted from the same random_state, the estimator predicts as scikit-learn's, in X's library."""
    for task in ("multiclass", "binary", "regression"):
        X, y = _data(task)
        est = _estimator(task, activation="tanh", learning_rate_init=0.2 if task != "regression" else 0.05)
        ref = getattr(sklearn_nn, type(est).__name__)(**{k: v for k, v in est.get_params().items()
                                                          if k not in ("backend", "device", "dtype")})
        with pytest.warns(ConvergenceWarning):
            est.fit(_ns(xp, X), _ns(xp, y))
        with pytest.warns(ConvergenceWarning):
            ref.fit(X, y)
        predicted = est.predict(_ns(xp, X))
        _assert_in_namespace(xp, *est.coefs_, *est.intercepts_, predicted)
        assert est.out_activation_ == ref.out_activation_ and est.n_outputs_ == ref.n_outputs_
        assert est.n_layers_ == ref.n_layers_
        if task == "regression":
            assert_close(predicted, ref.predict(X), TOL, "predict")
            assert est.score(_ns(xp, X), _ns(xp, y)) == pytest.approx(ref.score(X, y), rel=TOL)
            continue
        np.testing.assert_array_equal(xb.to_numpy(est.classes_), ref.classes_)
        np.testing.assert_array_equal(xb.to_numpy(predicted), ref.predict(X))
        proba = est.predict_proba(_ns(xp, X))
        _assert_in_namespace(xp, proba)
        assert_close(proba, ref.predict_proba(X), TOL, "predict_proba")
        assert est.score(_ns(xp, X), _ns(xp, y)) == ref.score(X, y)


# --- training on every backend ------------------------------------------------------------------


# once per session, on NumPy: the backends are held to scikit-learn weight for weight above, and a
# digits-sized network costs JAX a compilation per shape
def test_digits_accuracy():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split((X / 16.0).astype(np.float32), y, train_size=1350,
                                                        stratify=y, random_state=0)
    # five equal batches: one batch shape (JAX compiles once per shape)
    est = MLPClassifier(hidden_layer_sizes=(32,), max_iter=20, batch_size=270, learning_rate_init=0.02,
                        random_state=0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X_train, y_train)
    assert est.coefs_[0].dtype == np.float32  # X's dtype
    accuracy = np.mean(est.predict(X_test) == y_test)
    assert accuracy >= 0.96, f"test accuracy {accuracy:.3f}"
    assert est.score(X_test, y_test) == accuracy


def test_predict_proba_is_consistent_with_predict(xp):
    X, y = _data("multiclass", seed=13)
    est = _estimator("multiclass", activation=["tanh", "relu"], learning_rate_init=0.2)
    with pytest.warns(ConvergenceWarning):
        est.fit(_ns(xp, X), _ns(xp, y))
    assert est.net_.hidden == ["tanh", "relu"]  # per-layer activations
    P = est.predict_proba(_ns(xp, X))
    labels = est.predict(_ns(xp, X))
    _assert_in_namespace(xp, P, labels)
    P, labels = xb.to_numpy(P), xb.to_numpy(labels)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(xb.to_numpy(est.classes_)[P.argmax(axis=1)], labels)
    assert_close(est.predict_log_proba(_ns(xp, X)), np.log(P), 1e-12, "predict_log_proba")
    assert len(set(labels.tolist())) > 1  # not a constant prediction


def test_multioutput_regression(xp):
    X, _ = _data("regression", seed=14)
    Y = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
    est = _estimator("regression", activation="tanh", solver="adam", learning_rate_init=0.05, max_iter=300)
    with pytest.warns(ConvergenceWarning):
        est.fit(_ns(xp, X), _ns(xp, Y))
    predicted = est.predict(_ns(xp, X))
    _assert_in_namespace(xp, predicted)
    assert tuple(predicted.shape) == (N, 2)
    P = xb.to_numpy(predicted)
    r2 = np.mean(1 - ((Y - P) ** 2).sum(axis=0) / ((Y - Y.mean(axis=0)) ** 2).sum(axis=0))
    assert est.score(_ns(xp, X), _ns(xp, Y)) == pytest.approx(r2, rel=1e-12)
    assert r2 > 0.8
    # scikit-learn's loss divides the squared error by the number of outputs as well as samples:
    # epoch 3's full-batch loss is taken at the weights that 2 epochs end with
    short = [_estimator("regression", activation="tanh", solver="adam", learning_rate_init=0.05, max_iter=k)
             for k in (2, 3)]
    for s in short:
        with pytest.warns(ConvergenceWarning):
            s.fit(_ns(xp, X), _ns(xp, Y))
    before = xb.to_numpy(short[0].predict(_ns(xp, X)))
    assert short[1].loss_curve_[-1] == pytest.approx(0.5 * np.mean((before - Y) ** 2), rel=1e-12)


def test_partial_fit_checks_its_classes(xp):
    X, y = _data("multiclass", seed=6)
    steps = MLPClassifier(hidden_layer_sizes=HIDDEN, solver="adam", learning_rate_init=0.05, batch_size=6,
                          random_state=3, dtype="float64")
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        steps.partial_fit(_ns(xp, X), _ns(xp, y))
    for _ in range(2):
        steps.partial_fit(_ns(xp, X), _ns(xp, y), classes=_ns(xp, [0, 1, 2]))
    assert steps.n_iter_ == 1 and len(steps.loss_curve_) == 2
    with pytest.raises(ValueError, match=r"classes not in `self.classes_`"):
        steps.partial_fit(_ns(xp, X), _ns(xp, np.arange(N) % 4))
    with pytest.raises(ValueError, match=r"is not the same as on the last call"):
        steps.partial_fit(_ns(xp, X), _ns(xp, y), classes=_ns(xp, [0, 1, 2, 3]))


def test_warm_start_continues(xp):
    """Plain full-batch SGD keeps no optimizer state: two warm-started fits of k epochs are one of 2k."""
    X, y = _data("regression", seed=7)
    once = _estimator("regression", activation="relu", learning_rate_init=0.05, max_iter=2 * EPOCHS)
    with pytest.warns(ConvergenceWarning):
        once.fit(_ns(xp, X), _ns(xp, y))
    twice = _estimator("regression", activation="relu", learning_rate_init=0.05, warm_start=True)
    for _ in range(2):
        with pytest.warns(ConvergenceWarning):  # each fit runs its max_iter epochs, as scikit-learn's
            twice.fit(_ns(xp, X), _ns(xp, y))
    _assert_same_weights(twice, once, RTOL["float64"])
    # n_iter_ counts the last fit's epochs (scikit-learn 1.9); the loss curve goes on
    assert twice.n_iter_ == EPOCHS and len(twice.loss_curve_) == 2 * EPOCHS
    assert twice.loss_curve_ == pytest.approx(once.loss_curve_, rel=RTOL["float64"])


def test_dtype_follows_X_unless_given(xp):
    X, y = _data("regression", seed=15)
    X32 = xp.asarray(X.astype(np.float32))
    est = MLPRegressor(hidden_layer_sizes=HIDDEN, max_iter=2, random_state=7)
    with pytest.warns(ConvergenceWarning):
        est.fit(X32, xp.asarray(y.astype(np.float32)))
    assert est.coefs_[0].dtype == xp.float32 and est.predict(X32).dtype == xp.float32
    with pytest.warns(ConvergenceWarning):
        est.set_params(dtype="float64").fit(X32, xp.asarray(y.astype(np.float32)))
    assert est.coefs_[0].dtype == xp.float64 and est.predict(X32).dtype == xp.float64
    # the float32 data in float64 on NumPy, from the same seed: the same two epochs
    ref = _estimator("regression", max_iter=2, activation="relu", solver="adam", learning_rate_init=0.001,
                     alpha=0.0001, shuffle=True, batch_size="auto")
    with pytest.warns(ConvergenceWarning):
        ref.fit(X.astype(np.float32).astype(np.float64), y.astype(np.float32).astype(np.float64))
    _assert_same_weights(est, ref, 1e-12)


def test_pickle_keeps_backend_and_predictions(xp, backend):
    X, y = _data("multiclass", seed=8)
    est = _estimator("multiclass", activation="tanh", learning_rate_init=0.2)
    with pytest.warns(ConvergenceWarning):
        est.fit(_ns(xp, X), _ns(xp, y))
    copy = pickle.loads(pickle.dumps(est))
    assert copy.net_.backend == backend
    _assert_in_namespace(xp, copy.predict_proba(_ns(xp, X)))
    assert_close(copy.predict_proba(_ns(xp, X)), est.predict_proba(_ns(xp, X)), 0.0, "predict_proba")


def test_host_data_on_another_backend_gives_numpy(xp, backend):
    """``backend=`` with NumPy data: the network trains there, results come back as NumPy."""
    X, y = _data("binary", seed=9)
    est = _estimator("binary", activation="tanh", learning_rate_init=0.2, backend=backend)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y.astype(str))
    assert est.net_.backend == backend
    assert isinstance(est.coefs_[0], np.ndarray) and isinstance(est.predict_proba(X), np.ndarray)
    assert set(est.predict(X)) <= {"0", "1"}
    ref = _estimator("binary", activation="tanh", learning_rate_init=0.2, backend="numpy")
    with pytest.warns(ConvergenceWarning):
        ref.fit(X, y)
    _assert_same_weights(est, ref, RTOL["float64"])


def test_string_labels_with_arrays_of_another_library(xp):
    """Labels need NumPy (strings): ``classes_`` and ``predict`` are NumPy; the rest follows ``X``."""
    X, y = _data("multiclass", seed=16)
    names = np.array(["cat", "dog", "emu"])[y]
    est = _estimator("multiclass", activation="tanh", learning_rate_init=0.2, early_stopping=True,
                     validation_fraction=0.34, batch_size="auto", max_iter=5)
    with pytest.warns(ConvergenceWarning):
        est.fit(_ns(xp, X), names)
    np.testing.assert_array_equal(est.classes_, ["cat", "dog", "emu"])
    predicted = est.predict(_ns(xp, X))
    assert isinstance(predicted, np.ndarray) and set(predicted) <= {"cat", "dog", "emu"}
    proba = est.predict_proba(_ns(xp, X))
    _assert_in_namespace(xp, proba, *est.coefs_)
    np.testing.assert_array_equal(est.classes_[xb.to_numpy(proba).argmax(axis=1)], predicted)
    assert len(est.validation_scores_) == est.n_iter_ == 5


def test_verbose_prints_sklearns_lines(xp, capsys):
    X, y = _data("regression", seed=10)
    est = _estimator("regression", activation="tanh", learning_rate_init=0.05, max_iter=3, verbose=True)
    with pytest.warns(ConvergenceWarning):
        est.fit(_ns(xp, X), _ns(xp, y))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"Iteration {i + 1}, loss = {v:.8f}" for i, v in enumerate(est.loss_curve_)]


# --- bad input ------------------------------------------------------------------------------


def test_bad_input_names_the_problem(xp, backend):
    X, y = _data("multiclass", seed=11)
    Xb = np.array(X)
    Xb[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier(max_iter=2).fit(_ns(xp, Xb), _ns(xp, y))
    with pytest.raises(ValueError, match=r"unknown solver 'newton'; valid names are \['lbfgs', 'sgd', 'adam"):
        MLPClassifier(solver="newton").fit(_ns(xp, X), _ns(xp, y))
    with pytest.raises(ValueError, match=r"unknown loss 'huber'; valid names are \['squared_error', 'pois"):
        MLPRegressor(loss="huber").fit(_ns(xp, X), _ns(xp, y))
    with pytest.raises(ValueError, match="hidden_layer_sizes entries must be a positive integer, got 0"):
        MLPRegressor(hidden_layer_sizes=(4, 0)).fit(_ns(xp, X), _ns(xp, y))
    with pytest.raises(ValueError, match=r"activation lists 1 names but hidden_layer_sizes=\(4, 4\) has 2"):
        MLPRegressor(hidden_layer_sizes=(4, 4), activation=["tanh"]).fit(_ns(xp, X), _ns(xp, y))
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MLPRegressor(activation="swish").fit(_ns(xp, X), _ns(xp, y))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MLPClassifier().fit(_ns(xp, X), _ns(xp, X[:, 0]))
    # scikit-learn's message for NumPy data, ours ("multi-label targets are not supported") otherwise
    with pytest.raises(ValueError, match=r"y should be a 1d array, got an array of shape \(12, 2\)|"
                                         r"got shape \(12, 2\) \(multi-label targets are not supported\)"):
        MLPClassifier().fit(_ns(xp, X), _ns(xp, np.stack([y % 2, y // 2], axis=1)))
    with pytest.raises(ValueError, match="needs at least 2 classes in y; got 1 class"):
        MLPClassifier().fit(_ns(xp, X), _ns(xp, np.zeros(N, dtype=np.int64)))
    est = _estimator("multiclass", activation="tanh", learning_rate_init=0.2, max_iter=2)
    with pytest.warns(ConvergenceWarning):
        est.fit(_ns(xp, X), _ns(xp, y))
    with pytest.raises(ValueError, match="X has 2 features, but MLPClassifier is expecting 3 features"):
        est.predict(_ns(xp, X[:, :2]))
    with pytest.warns(UserWarning, match="It is going to be clipped"), pytest.warns(ConvergenceWarning):
        _estimator("multiclass", activation="tanh", batch_size=50, max_iter=2).fit(_ns(xp, X), _ns(xp, y))


def test_early_stopping_needs_a_validation_set(xp):
    X, y = _data("regression", seed=12)
    with pytest.raises(ValueError, match=r"The validation set is too small.*12 samples"):
        MLPRegressor(early_stopping=True, validation_fraction=0.05).fit(_ns(xp, X), _ns(xp, y))
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        MLPRegressor(early_stopping=True).partial_fit(_ns(xp, X), _ns(xp, y))


# --- meta-estimators -------------------------------------------------------------------------


# iris in 40 epochs: some folds stop at max_iter, which is not what these checks are about
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pipeline_and_grid_search_agree_with_a_manual_search():
    X, y = load_iris(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(max_iter=40, learning_rate_init=0.02, random_state=0))])
    grid = {"mlp__alpha": [1e-4, 1.0], "mlp__hidden_layer_sizes": [(4,), (16,)]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    # the reference: every candidate by hand, a new scaler and estimator per fold, accuracy in NumPy
    for params, mean_score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        scores = []
        for train, test in cv.split(X, y):
            scaler = StandardScaler().fit(X[train])
            est = MLPClassifier(max_iter=40, learning_rate_init=0.02, random_state=0,
                                alpha=params["mlp__alpha"],
                                hidden_layer_sizes=params["mlp__hidden_layer_sizes"])
            est.fit(scaler.transform(X[train]), y[train])
            scores.append(np.mean(est.predict(scaler.transform(X[test])) == y[test]))
        assert mean_score == pytest.approx(np.mean(scores), abs=1e-12), params
    assert search.best_score_ > 0.9
    best = search.best_estimator_.named_steps["mlp"]
    assert best.get_params()["alpha"] == search.best_params_["mlp__alpha"]
    assert not hasattr(search.estimator.named_steps["mlp"], "net_")  # the template stays unfitted


# --- a failed call leaves the estimator as it was -----------------------------------------------


def _fitted_state(est, X):
    """What a failed call must not change: the fitted attributes and the model's outputs."""
    out = est.predict_proba(X) if hasattr(est, "classes_") else est.predict(X)
    return {"n_features_in_": est.n_features_in_, "n_iter_": est.n_iter_, "t_": est.t_,
            "loss_curve_": list(est.loss_curve_), "net_": est.net_, "out": xb.to_numpy(out).copy(),
            "classes_": xb.to_numpy(est.classes_).tolist() if hasattr(est, "classes_") else None,
            "coefs_": [xb.to_numpy(w).copy() for w in est.coefs_]}


def _assert_unchanged(est, X, before):
    after = _fitted_state(est, X)
    assert after["net_"] is before["net_"]
    for key in ("n_features_in_", "n_iter_", "t_", "loss_curve_", "classes_"):
        assert after[key] == before[key], key
    np.testing.assert_array_equal(after["out"], before["out"])
    for w, w0 in zip(after["coefs_"], before["coefs_"], strict=True):
        np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (dict(activation="bogus"), ValueError, r"unknown activation 'bogus'; valid names are \["),
        (dict(activation=["relu", "tanh", "relu"]), ValueError,
         r"activation lists 3 names but hidden_layer_sizes=\(4, 4\) has 2 hidden layers"),
        (dict(learning_rate_init=-1.0), ValueError,
         "learning_rate_init must be a positive finite number, got -1.0"),
        (dict(learning_rate_init="0.1"), TypeError,
         "learning_rate_init must be a positive finite number, got str '0.1'"),
        (dict(momentum=2.0), ValueError, r"momentum must be a finite number in \[0, 1\), got 2.0"),
        (dict(beta_1=1.5), ValueError, r"beta_1 must be a finite number in \[0, 1\), got 1.5"),
        (dict(beta_2=1.0), ValueError, r"beta_2 must be a finite number in \[0, 1\), got 1.0"),
        (dict(epsilon=0.0), ValueError, "epsilon must be a positive finite number, got 0.0"),
        (dict(power_t=float("nan")), ValueError, "power_t must be a finite number >= 0, got nan"),
        (dict(shuffle="yes"), TypeError, "shuffle must be True or False, got str 'yes'"),
        (dict(backend="numpyy"), ValueError, "numpyy"),
    ],
)
def test_failed_refit_with_bad_parameters_keeps_the_fitted_estimator(xp, bad, error, message):
    """Every parameter is checked before anything changes: a refit on other data (5 features, string
    labels) with one bad parameter raises and leaves the fitted estimator as it was."""
    X, y = _data("multiclass", seed=17)
    est = _estimator("multiclass", activation="tanh", learning_rate_init=0.2, max_iter=3)
    with pytest.warns(ConvergenceWarning):
        est.fit(_ns(xp, X), _ns(xp, y))
    before = _fitted_state(est, _ns(xp, X))
    X5 = np.random.default_rng(1).normal(size=(N, 5))
    with pytest.raises(error, match=message):
        est.set_params(**bad).fit(X5, np.array(["a", "b"])[y % 2])
    with pytest.raises(error, match=message):
        est.partial_fit(_ns(xp, X), _ns(xp, y))
    _assert_unchanged(est, _ns(xp, X), before)
    # a fresh estimator stays unfitted
    fresh = clone(est)
    with pytest.raises(error, match=message):
        fresh.fit(_ns(xp, X), _ns(xp, y))
    assert not hasattr(fresh, "net_") and not hasattr(fresh, "classes_")
    assert not hasattr(fresh, "n_features_in_")


@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_failed_fit_on_bad_values_keeps_the_estimator(xp, where, value):
    """NaN or infinity in arrays of any library is found before the fitted network is replaced: the
    estimator keeps its network, attributes and predictions (a fresh one stays unfitted)."""
    X, y = _data("regression", seed=18)
    est = _estimator("regression", activation="tanh", learning_rate_init=0.05, max_iter=3)
    with pytest.warns(ConvergenceWarning):
        est.fit(_ns(xp, X), _ns(xp, y))
    before = _fitted_state(est, _ns(xp, X))
    Xb, yb = X.copy(), y.copy()
    (Xb if where == "X" else yb)[3, ...] = value
    with pytest.raises(ValueError, match="NaN" if np.isnan(value) else "inf"):
        est.fit(_ns(xp, Xb), _ns(xp, yb))
    with pytest.raises(ValueError, match="NaN" if np.isnan(value) else "inf"):
        est.partial_fit(_ns(xp, Xb), _ns(xp, yb))
    _assert_unchanged(est, _ns(xp, X), before)
    fresh = _estimator("regression", activation="tanh", max_iter=3)
    with pytest.raises(ValueError, match="NaN" if np.isnan(value) else "inf"):
        fresh.fit(_ns(xp, Xb), _ns(xp, yb))
    with pytest.raises(NotFittedError):
        fresh.predict(_ns(xp, X))
    assert not hasattr(fresh, "n_features_in_")


@pytest.mark.parametrize("params", [dict(solver="sgd", momentum=0.9), dict(solver="sgd", momentum=0.0),
                                    dict(solver="adam")], ids=["momentum", "plain", "adam"])
def test_a_partial_fit_that_diverges_keeps_the_estimator_as_it_was(xp, params):
    """Training that diverges in ``partial_fit`` (or a warm-started ``fit``) changed the network
    itself: its parameters, optimizer state and generator come back with the attributes, so the
    next call continues as if the failed one had not happened."""
    X, y = _data("regression", seed=24)
    kw = dict(activation="tanh", learning_rate_init=0.01, batch_size=10, shuffle=True, **params)
    est, twin = _estimator("regression", **kw), _estimator("regression", **kw)
    for model in (est, twin):
        model.partial_fit(_ns(xp, X), _ns(xp, y))
    before = _fitted_state(est, _ns(xp, X))
    with np.errstate(all="ignore"), pytest.raises((ValueError, FloatingPointError), match="diverged"):
        est.partial_fit(_ns(xp, X), _ns(xp, y * 1e200))
    _assert_unchanged(est, _ns(xp, X), before)
    for model in (est, twin):  # and it goes on exactly as the one that never failed
        model.partial_fit(_ns(xp, X), _ns(xp, y))
    _assert_same_weights(est, twin, 0.0)


def test_failed_partial_fit_sets_no_classes(xp):
    """A label outside ``classes=`` is refused before ``classes_`` is set: the next call still needs
    ``classes=``; on a fitted estimator, an unknown label changes nothing."""
    X, y = _data("multiclass", seed=19)
    est = _estimator("multiclass", activation="tanh")
    with pytest.raises(ValueError, match=r"`y` has classes not in `self.classes_`\. `self.classes_` has "
                                         r"\[0, 1\]\. 'y' has \[2\]"):
        est.partial_fit(_ns(xp, X), _ns(xp, y), classes=[0, 1])
    assert not hasattr(est, "classes_") and not hasattr(est, "n_features_in_") and not hasattr(est, "net_")
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        est.partial_fit(_ns(xp, X), _ns(xp, y))
    est.partial_fit(_ns(xp, X), _ns(xp, y), classes=[0, 1, 2])
    before = _fitted_state(est, _ns(xp, X))
    with pytest.raises(ValueError, match=r"'y' has \[3\]"):
        est.partial_fit(_ns(xp, X), _ns(xp, y + 1))
    _assert_unchanged(est, _ns(xp, X), before)


# --- labels of every kind, on every backend -------------------------------------------------------


def test_bool_labels_as_on_numpy(xp):
    """Bool labels (which torch and array-api-strict cannot searchsorted) train as on NumPy: the same
    classes_, weights and predictions, the predictions bools of the backend."""
    X, y = _data("binary", seed=20)
    yb = y.astype(bool)
    ref = _estimator("binary", activation="tanh", learning_rate_init=0.2, max_iter=3)
    with pytest.warns(ConvergenceWarning):
        ref.fit(X, yb)
    np.testing.assert_array_equal(ref.classes_, [False, True])
    est = _estimator("binary", activation="tanh", learning_rate_init=0.2, max_iter=3)
    with pytest.warns(ConvergenceWarning):
        est.fit(_ns(xp, X), xp.asarray(yb))
    _assert_same_weights(est, ref, RTOL["float64"])
    np.testing.assert_array_equal(xb.to_numpy(est.classes_), ref.classes_)
    predicted = est.predict(_ns(xp, X))
    _assert_in_namespace(xp, predicted)
    assert predicted.dtype == xp.bool
    np.testing.assert_array_equal(xb.to_numpy(predicted), ref.predict(X))
    assert 0 < np.sum(ref.predict(X)) < N  # both classes predicted: the comparison means something
    # partial_fit too, with classes= as host bools
    steps = _estimator("binary", activation="tanh", learning_rate_init=0.2)
    steps.partial_fit(_ns(xp, X), xp.asarray(yb), classes=[False, True])
    np.testing.assert_array_equal(xb.to_numpy(steps.classes_), [False, True])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_partial_fit_float_labels_with_integer_classes(xp, dtype):
    """``classes=[0, 1, 2]`` with labels held as floats (array-api-strict promotes no integer with a
    float): the same training as with integer labels, ``classes_`` as given."""
    X, y = _data("multiclass", seed=21)
    ints = _estimator("multiclass", activation="tanh", learning_rate_init=0.2)
    floats = _estimator("multiclass", activation="tanh", learning_rate_init=0.2)
    for _ in range(2):
        ints.partial_fit(_ns(xp, X), xp.asarray(y), classes=[0, 1, 2])
        floats.partial_fit(_ns(xp, X), xp.asarray(y.astype(dtype)), classes=[0, 1, 2])
    np.testing.assert_array_equal(xb.to_numpy(floats.classes_), [0, 1, 2])
    _assert_same_weights(floats, ints, 0.0)
    np.testing.assert_array_equal(xb.to_numpy(floats.predict(_ns(xp, X))),
                                  xb.to_numpy(ints.predict(_ns(xp, X))))
    with pytest.raises(ValueError, match=r"'y' has \[3.0\]"):
        floats.partial_fit(_ns(xp, X), xp.asarray((y + 1).astype(dtype)))


# --- pickling in the middle of partial_fit ---------------------------------------------------------


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize(
    "params",
    [dict(solver="adam", learning_rate_init=0.05),
     dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1, momentum=0.9, shuffle=True,
          batch_size=5)],
    ids=["adam", "sgd-momentum-invscaling"],
)
def test_partial_fit_continues_after_pickling(xp, how, params):
    """Adam's moments and step count, the momentum and the learning-rate schedule travel with the
    estimator: one call, a round trip, two calls end where three calls end."""
    X, y = _data("regression", seed=23)
    kw = dict(hidden_layer_sizes=HIDDEN, activation="tanh", random_state=7, dtype="float64", **params)
    straight = MLPRegressor(**kw)
    for _ in range(3):
        straight.partial_fit(_ns(xp, X), _ns(xp, y))
    est = MLPRegressor(**kw).partial_fit(_ns(xp, X), _ns(xp, y))
    est = pickle.loads(pickle.dumps(est)) if how == "pickle" else copy.deepcopy(est)
    for _ in range(2):
        est.partial_fit(_ns(xp, X), _ns(xp, y))
    _assert_same_weights(est, straight, 0.0)
    assert est.loss_curve_ == straight.loss_curve_
    # and both are scikit-learn's three calls, whose optimizer state carries from call to call
    ref = sklearn_nn.MLPRegressor(**{k: v for k, v in kw.items() if k != "dtype"})
    for _ in range(3):
        ref.partial_fit(X, y)
    _assert_same_weights(est, ref, 1e-12)


def test_momentum_is_checked_for_sgd_only():
    """scikit-learn takes any ``momentum`` in [0, 1] with adam, which does not use it."""
    X, y = _data("regression", seed=25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPRegressor(hidden_layer_sizes=HIDDEN, solver="adam", momentum=1.0, max_iter=2).fit(X, y)
        sklearn_nn.MLPRegressor(hidden_layer_sizes=HIDDEN, solver="adam", momentum=1.0, max_iter=2).fit(X, y)
    assert ours.n_iter_ == 2
    with pytest.raises(ValueError, match=r"momentum must be a finite number in \[0, 1\), got 1\.0"):
        MLPRegressor(hidden_layer_sizes=HIDDEN, solver="sgd", momentum=1.0).fit(X, y)
