"""``xpbackprop.sklearn`` against scikit-learn's own MLP, started from the same ``random_state``.

scikit-learn (installed in the test environment) is the reference throughout: its initial
``coefs_``/``intercepts_``, its weight trajectories and ``loss_curve_``, its L-BFGS loss, its
``sample_weight`` and its signatures. Each estimator here is fitted on the backend under test
(``xp``), in float64; scikit-learn on the same data in NumPy.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from helpers import assert_close, f64

import xpbackprop as xb

sklearn_nn = pytest.importorskip("sklearn.neural_network")
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import xpbackprop.sklearn as xs  # noqa: E402
from xpbackprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

N = 24
HIDDEN = (4, 4)
TOL = 1e-10  # float64: the same updates, some sums in another order
OURS = {"classifier": MLPClassifier, "regressor": MLPRegressor}
THEIRS = {"classifier": sklearn_nn.MLPClassifier, "regressor": sklearn_nn.MLPRegressor}


def _data(task, seed=0, n=N):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    if task == "multiclass":
        y = rng.permutation(np.arange(n) % 3)
    elif task == "binary":
        y = rng.permutation(np.arange(n) % 2)
    elif task == "two-outputs":
        y = np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
    else:
        y = np.sin(X @ np.array([1.0, -2.0, 0.5])) + 0.1 * rng.normal(size=n)
    return X, y


def _kind(task):
    return "classifier" if task in ("multiclass", "binary") else "regressor"


def _ns(xp, a):
    """Host data as a float64 (or integer-label) array of the backend under test."""
    a = np.asarray(a)
    return f64(xp, a) if a.dtype.kind == "f" else xp.asarray(a)


def _pair(task, **params):
    """(ours, scikit-learn's), the same parameters."""
    params = {"hidden_layer_sizes": HIDDEN, **params}
    return OURS[_kind(task)](**params), THEIRS[_kind(task)](**params)


def _fit_both(xp, task, X, y, ours, theirs, **fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y, **fit)
        fit = {k: (_ns(xp, v) if v is not None else None) for k, v in fit.items()}
        ours.fit(_ns(xp, X), _ns(xp, y), **fit)
    return ours, theirs


def _assert_same_weights(ours, theirs, rtol=TOL):
    for k, (w, c) in enumerate(zip(ours.coefs_, theirs.coefs_, strict=True)):
        assert_close(w, c, rtol, f"coefs_[{k}]")
    for k, (b, c) in enumerate(zip(ours.intercepts_, theirs.intercepts_, strict=True)):
        assert_close(b, c, rtol, f"intercepts_[{k}]")


def _moved(est, X, y):
    """How far the weights moved from the start scikit-learn's same-seeded estimator has."""
    start = _start(type(est).__name__, est.get_params(), X, y)
    return max(np.max(np.abs(xb.to_numpy(w) - s)) for w, s in zip(est.coefs_, start.coefs_))


def _start(name, params, X, y):
    """scikit-learn's initial weights: one SGD step at a rate of 1e-300 moves no weight by an ulp."""
    cls = getattr(sklearn_nn, name)
    keep = {k: v for k, v in params.items() if k in inspect.signature(cls).parameters}
    est = cls(**{**keep, "solver": "sgd", "learning_rate_init": 1e-300, "max_iter": 1, "momentum": 0.0,
                 "early_stopping": False, "alpha": 0.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


# --- the start ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("random_state", [0, 1, 42])
@pytest.mark.parametrize(
    ("task", "activation", "hidden"),
    [("multiclass", "relu", (4, 4)), ("binary", "logistic", (5,)), ("regression", "tanh", (3, 2, 6)),
     ("two-outputs", "identity", (4, 4)), ("multiclass", "logistic", (7, 3))],
)
def test_initial_weights_are_sklearns(xp, task, activation, hidden, random_state):
    """The same ``random_state`` gives scikit-learn's ``coefs_`` and ``intercepts_``: its
    distribution (factor 2 for the logistic), its RandomState, its order (W then b, layer by layer)."""
    X, y = _data(task, seed=random_state)
    params = dict(hidden_layer_sizes=hidden, activation=activation, random_state=random_state)
    theirs = _start(THEIRS[_kind(task)].__name__, params, X, y)
    ours = OURS[_kind(task)](**params, solver="sgd", learning_rate_init=1e-300, max_iter=1, momentum=0.0)
    with pytest.warns(ConvergenceWarning):
        ours.fit(_ns(xp, X), _ns(xp, y))
    for w, c in zip([*ours.coefs_, *ours.intercepts_], [*theirs.coefs_, *theirs.intercepts_], strict=True):
        np.testing.assert_array_equal(xb.to_numpy(w), c)
    # and the start is not zero biases or He weights: every bias is drawn
    assert all(np.all(b != 0) for b in theirs.intercepts_)


def test_a_random_state_object_is_drawn_from_as_sklearn_draws(xp):
    """A ``RandomState`` passed in is advanced by each fit, as scikit-learn advances it: two fits from
    equal generators give the same two starts in both."""
    X, y = _data("multiclass", seed=3)
    ours = MLPClassifier(HIDDEN, random_state=np.random.RandomState(5), solver="sgd",
                         learning_rate_init=1e-300, max_iter=1)
    theirs = sklearn_nn.MLPClassifier(HIDDEN, random_state=np.random.RandomState(5), solver="sgd",
                                      learning_rate_init=1e-300, max_iter=1)
    for _ in range(2):
        _fit_both(xp, "multiclass", X, y, ours, theirs)
        _assert_same_weights(ours, theirs, 0.0)


# --- trajectories ------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.9, True)],
                         ids=["plain", "momentum", "nesterov"])
@pytest.mark.parametrize("task", ["multiclass", "binary", "regression", "two-outputs"])
def test_full_batch_sgd_follows_sklearn(xp, task, momentum, nesterov, alpha):
    """Unshuffled full-batch SGD: scikit-learn's weights and loss_curve_ (with the L2 penalty) to 1e-10."""
    X, y = _data(task, seed=1)
    lr = 0.05 if momentum else 0.2
    ours, theirs = _pair(task, solver="sgd", batch_size=N, shuffle=False, learning_rate_init=lr,
                         momentum=momentum, nesterovs_momentum=nesterov, alpha=alpha, max_iter=25,
                         tol=0.0, random_state=7, activation="tanh")
    _fit_both(xp, task, X, y, ours, theirs)
    assert ours.n_iter_ == theirs.n_iter_ == 25
    _assert_same_weights(ours, theirs)
    assert_close(np.array(ours.loss_curve_), np.array(theirs.loss_curve_), TOL, "loss_curve_")
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=TOL)
    assert _moved(ours, X, y) > 1e-3  # the weights moved: not two untouched copies


@pytest.mark.parametrize(
    "params",
    [dict(solver="adam", batch_size=5, learning_rate_init=0.01),
     dict(solver="adam", batch_size=10, alpha=0.5, learning_rate_init=0.02, beta_1=0.5, epsilon=1e-3),
     dict(solver="sgd", batch_size=7, alpha=0.1, learning_rate="invscaling", power_t=0.3,
          learning_rate_init=0.3, momentum=0.5)],
    ids=["adam", "adam-alpha-epsilon", "sgd-invscaling"],
)
@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_shuffled_minibatches_follow_sklearn(xp, task, params):
    """Shuffled mini-batches (the last one smaller: alpha over its own rows) with scikit-learn's
    epoch orders and Adam (ε added to √v): its weights and loss_curve_. Measured on NumPy, torch,
    JAX, array-api-strict and Dask: within 2e-15 of the weights' scale after 30 epochs."""
    X, y = _data(task, seed=2)
    ours, theirs = _pair(task, max_iter=30, tol=0.0, random_state=11, **params)
    _fit_both(xp, task, X, y, ours, theirs)
    _assert_same_weights(ours, theirs, 1e-12)
    assert_close(np.array(ours.loss_curve_), np.array(theirs.loss_curve_), 1e-12, "loss_curve_")
    assert ours.t_ == theirs.t_ == 30 * N


@pytest.mark.parametrize(
    ("task", "params"),
    [("multiclass", dict(tol=1e-2, n_iter_no_change=3, learning_rate_init=0.2, solver="sgd")),
     ("regression", dict(tol=1e-3, n_iter_no_change=2, learning_rate_init=0.05, solver="sgd", alpha=0.1)),
     ("binary", dict(tol=0.05, n_iter_no_change=2, learning_rate="adaptive", learning_rate_init=0.5,
                     solver="sgd")),
     ("binary", dict(early_stopping=True, validation_fraction=0.25, learning_rate_init=0.05)),
     ("multiclass", dict(early_stopping=True, validation_fraction=0.3, learning_rate_init=0.02)),
     ("regression", dict(early_stopping=True, validation_fraction=0.2, learning_rate_init=0.02))],
    ids=["tol-multiclass", "tol-regression-alpha", "adaptive-binary", "early-stopping-binary",
         "early-stopping-multiclass", "early-stopping-regression"],
)
def test_stopping_rules_follow_sklearn(xp, task, params):
    """The same epoch count, loss curve, validation scores (so the same split, drawn from the same
    RandomState after the start) and final (for early stopping: best) weights as scikit-learn."""
    X, y = _data(task, seed=5)
    ours, theirs = _pair(task, max_iter=300, batch_size=8, random_state=4, activation="tanh", **params)
    _fit_both(xp, task, X, y, ours, theirs)
    assert 2 < theirs.n_iter_ < 300  # a rule stopped it, not max_iter
    assert ours.n_iter_ == theirs.n_iter_
    assert_close(np.array(ours.loss_curve_), np.array(theirs.loss_curve_), TOL, "loss_curve_")
    _assert_same_weights(ours, theirs)
    if params.get("early_stopping"):
        assert ours.validation_scores_ == pytest.approx(theirs.validation_scores_, rel=1e-12, abs=1e-12)
        assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_, rel=1e-12)
        assert ours.best_loss_ is None is theirs.best_loss_
    else:
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=TOL)
        assert ours.validation_scores_ is None is theirs.validation_scores_


def test_poisson_regression_follows_sklearn(xp):
    X, _ = _data("regression", seed=6)
    y = np.random.default_rng(6).poisson(np.exp(0.5 * X[:, 0]))
    ours, theirs = _pair("regression", loss="poisson", max_iter=30, batch_size=10, random_state=2,
                         learning_rate_init=0.01)
    _fit_both(xp, "regression", X, y.astype(float), ours, theirs)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    _assert_same_weights(ours, theirs, 1e-12)
    assert_close(np.array(ours.loss_curve_), np.array(theirs.loss_curve_), 1e-12, "loss_curve_")
    assert_close(ours.predict(_ns(xp, X)), theirs.predict(X), 1e-12, "predict")
    with pytest.raises(ValueError, match=r"y are negative, which is not allowed for loss='poisson'"):
        MLPRegressor(loss="poisson").fit(_ns(xp, X), _ns(xp, -y.astype(float)))


# --- n_iter_, warm_start and partial_fit as scikit-learn 1.9 counts them ---------------------------


def test_warm_start_counts_each_fit_as_sklearn(xp):
    """Two warm-started fits of max_iter=10: n_iter_ is 10 (this fit's epochs), loss_curve_ and t_
    go on, each fit starts a new optimizer: scikit-learn's weights after both."""
    X, y = _data("multiclass", seed=7)
    ours, theirs = _pair("multiclass", warm_start=True, max_iter=10, batch_size=8, random_state=1,
                         learning_rate_init=0.01)
    for _ in range(2):
        with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(10\)"):
            ours.fit(_ns(xp, X), _ns(xp, y))
        with pytest.warns(ConvergenceWarning):
            theirs.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 10
    assert len(ours.loss_curve_) == len(theirs.loss_curve_) == 20 and ours.t_ == theirs.t_ == 20 * N
    _assert_same_weights(ours, theirs, 1e-12)


def test_partial_fit_counts_and_continues_as_sklearn(xp):
    """``partial_fit`` after ``fit`` continues fit's optimizer (Adam's moments and step count); each
    call is one epoch and reports n_iter_ = 1, as scikit-learn 1.9 does."""
    X, y = _data("regression", seed=8)
    ours, theirs = _pair("regression", max_iter=5, batch_size=8, random_state=3, learning_rate_init=0.01)
    _fit_both(xp, "regression", X, y, ours, theirs)
    for _ in range(3):
        ours.partial_fit(_ns(xp, X), _ns(xp, y))
        theirs.partial_fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 1
    assert len(ours.loss_curve_) == len(theirs.loss_curve_) == 8 and ours.t_ == theirs.t_
    _assert_same_weights(ours, theirs, 1e-12)
    assert_close(np.array(ours.loss_curve_), np.array(theirs.loss_curve_), 1e-12, "loss_curve_")


def test_partial_fit_from_scratch_follows_sklearn(xp):
    X, y = _data("multiclass", seed=9)
    ours, theirs = _pair("multiclass", solver="sgd", batch_size=10, alpha=1.0, random_state=5,
                         learning_rate_init=0.1)
    for _ in range(3):
        ours.partial_fit(_ns(xp, X), _ns(xp, y), classes=_ns(xp, [0, 1, 2]))
        theirs.partial_fit(X, y, classes=[0, 1, 2])
    _assert_same_weights(ours, theirs, 1e-12)
    assert_close(np.array(ours.loss_curve_), np.array(theirs.loss_curve_), 1e-12, "loss_curve_")


# --- lbfgs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("task", "alpha"), [("multiclass", 1.0), ("binary", 0.1), ("regression", 0.1),
                                           ("two-outputs", 1.0)])
def test_lbfgs_reaches_sklearns_loss(xp, task, alpha):
    """From the same start, L-BFGS-B converges to scikit-learn's loss (within 1 %; these runs agree
    far closer). Its path is scikit-learn's until rounding differences, growing through the line
    searches, part them (after some 50 to 150 evaluations on these problems); where the loss has
    several minima the two may then settle in different ones, so these problems are regularised."""
    X, y = _data(task, seed=10)
    ours, theirs = _pair(task, solver="lbfgs", alpha=alpha, max_iter=1000, random_state=0)
    _fit_both(xp, task, X, y, ours, theirs)  # no ConvergenceWarning (filterwarnings=error would fail)
    assert theirs.n_iter_ < 1000
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=0.01)
    assert not hasattr(ours, "loss_curve_") and not hasattr(theirs, "loss_curve_")


@pytest.mark.parametrize("alpha", [0.0, 0.01])
@pytest.mark.parametrize("task", ["multiclass", "binary", "regression", "two-outputs"])
def test_lbfgs_follows_sklearns_first_iterations(xp, task, alpha):
    """max_iter=5: scikit-learn's n_iter_, its warning, its loss and weights (to 1e-8)."""
    X, y = _data(task, seed=10)
    ours, theirs = _pair(task, solver="lbfgs", alpha=alpha, max_iter=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"lbfgs failed to converge after 5 iteration\(s\)"):
        ours.fit(_ns(xp, X), _ns(xp, y))
    with pytest.warns(ConvergenceWarning):
        theirs.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ == 5
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-8)
    _assert_same_weights(ours, theirs, 1e-8)


def test_lbfgs_reads_max_fun_and_tol_as_sklearn(xp):
    X, y = _data("multiclass", seed=11)
    ours, theirs = _pair("multiclass", solver="lbfgs", max_fun=7, random_state=2)
    with pytest.warns(ConvergenceWarning, match=r"status=1\):\nSTOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS"):
        ours.fit(_ns(xp, X), _ns(xp, y))
    with pytest.warns(ConvergenceWarning):
        theirs.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ and ours.loss_ == pytest.approx(theirs.loss_, rel=1e-8)
    loose, loose_theirs = _pair("multiclass", solver="lbfgs", tol=1e-2, random_state=2)
    _fit_both(xp, "multiclass", X, y, loose, loose_theirs)  # converged: gradient below tol
    assert loose.n_iter_ == loose_theirs.n_iter_ < 100
    assert loose.loss_ == pytest.approx(loose_theirs.loss_, rel=1e-6)


def test_lbfgs_has_no_partial_fit(xp):
    for est in (MLPClassifier(solver="lbfgs"), MLPRegressor(solver="lbfgs")):
        assert not hasattr(est, "partial_fit")
        with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
            est.partial_fit(np.zeros((2, 1)), np.zeros(2))
        # scikit-learn's reason, chained as its own estimators chain it
        assert str(info.value.__cause__) == ("partial_fit is only available for stochastic optimizers. "
                                             "lbfgs is not stochastic.")
    assert hasattr(MLPClassifier(solver="sgd"), "partial_fit")


# --- sample_weight ---------------------------------------------------------------------------------------


def _repeated(X, y, w):
    return np.repeat(X, w, axis=0), np.repeat(y, w, axis=0)


@pytest.mark.parametrize("task", ["multiclass", "binary", "regression", "two-outputs"])
def test_integer_weights_equal_repeated_rows(xp, task):
    """Full-batch SGD with momentum and alpha, and L-BFGS: integer weights train as the rows
    repeated, in the loss, its gradients and the L2 divisor (Σw)."""
    X, y = _data(task, seed=12)
    w = np.random.default_rng(12).integers(0, 4, size=N)
    w[:3] = (0, 1, 2)
    Xr, yr = _repeated(X, y, w)
    for solver in ("sgd", "lbfgs"):
        params = dict(solver=solver, shuffle=False, alpha=0.2, learning_rate_init=0.05,
                      max_iter=15, tol=0.0, random_state=3)
        weighted, repeated = _pair(task, **params)[0], _pair(task, **params)[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            weighted.fit(_ns(xp, X), _ns(xp, y), sample_weight=_ns(xp, w.astype(float)))
            repeated.fit(_ns(xp, Xr), _ns(xp, yr))
        _assert_same_weights(weighted, repeated, 1e-10)
        assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-10)


@pytest.mark.parametrize(
    ("task", "params"),
    [("multiclass", dict(batch_size=7)), ("regression", dict(solver="sgd", batch_size=5, alpha=0.3)),
     ("binary", dict(early_stopping=True, validation_fraction=0.25, learning_rate_init=0.05)),
     ("two-outputs", dict(solver="lbfgs", max_iter=5))],
    ids=["adam", "sgd-alpha", "early-stopping", "lbfgs"],
)
def test_sample_weight_follows_sklearn(xp, task, params):
    """Real-valued weights in mini-batches, the alpha divisor and the validation score: scikit-learn's
    weights, losses and validation scores."""
    X, y = _data(task, seed=13)
    w = np.random.default_rng(13).uniform(0.1, 3.0, size=N)
    ours, theirs = _pair(task, random_state=6, **{"max_iter": 20, **params})
    _fit_both(xp, task, X, y, ours, theirs, sample_weight=w)
    _assert_same_weights(ours, theirs, 1e-8 if params.get("solver") == "lbfgs" else 1e-12)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-10)
    if params.get("early_stopping"):
        assert ours.validation_scores_ == pytest.approx(theirs.validation_scores_, abs=1e-12)
    # and the weights mattered
    plain = _pair(task, random_state=6, **{"max_iter": 20, **params})[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain.fit(_ns(xp, X), _ns(xp, y))
    assert abs(plain.loss_ - ours.loss_) > 1e-6


def test_bad_sample_weight_is_named(xp):
    X, y = _data("multiclass", seed=14)
    est = MLPClassifier(HIDDEN, max_iter=2)
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\), expected \(24,\)!"):
        est.fit(_ns(xp, X), _ns(xp, y), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero number"):
        est.fit(_ns(xp, X), _ns(xp, y), sample_weight=np.zeros(N))
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        est.fit(_ns(xp, X), _ns(xp, y), sample_weight=np.full(N, np.nan))
    assert not hasattr(est, "net_")


# --- the API to the letter ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_signatures_are_sklearns(name):
    """Constructor and methods: scikit-learn's parameters in its order, kinds and defaults; ours add
    only keyword-only ``backend``, ``device``, ``dtype`` (default None) at the end."""
    ours, theirs = getattr(xs, name), getattr(sklearn_nn, name)
    for method in ("__init__", "fit", "partial_fit", "predict", "score",
                   *(("predict_proba", "predict_log_proba") if name == "MLPClassifier" else ())):
        a = list(inspect.signature(getattr(ours, method)).parameters.values())
        b = list(inspect.signature(getattr(theirs, method)).parameters.values())
        described = [(p.name, p.kind, p.default) for p in a[: len(b)]]
        assert described == [(p.name, p.kind, p.default) for p in b], method
        extra = a[len(b):]
        assert [p.name for p in extra] == (["backend", "device", "dtype"] if method == "__init__" else [])
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is None for p in extra)
    assert sorted(ours().get_params()) == sorted([*theirs().get_params(), "backend", "device", "dtype"])


def test_a_fitted_estimator_speaks_of_itself_not_of_its_network(xp, backend):
    """Data of another array library than the one fitted on: the message names the estimator and its
    data, and suggests nothing an estimator user cannot do (no ``net.to``)."""
    X, y = _data("multiclass", seed=15)
    est = MLPClassifier(HIDDEN, max_iter=2)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)  # NumPy data: fitted on NumPy
    other = xp if backend != "numpy" else xb.namespace("array_api_strict")
    Xo = other.asarray(X)
    for method in (est.predict, est.predict_proba, lambda A: est.partial_fit(A, y),
                   lambda A: est.set_params(warm_start=True).fit(A, y)):
        message = r"X is an array of \w+ but this MLPClassifier was fitted on numpy arrays"
        with pytest.raises(TypeError, match=message) as info:
            method(Xo)
        assert "net." not in str(info.value) and "network" not in str(info.value)


def test_y_of_another_library_and_bad_coefs_are_named_as_the_estimator_names_them(xp, backend):
    X, y = _data("binary", seed=16)
    if backend not in ("numpy", "array_api_strict"):  # y of array-api-strict beside X of another library
        with pytest.raises(TypeError, match=r"y is an array of array_api_strict but X is an array of"):
            MLPClassifier(HIDDEN).fit(_ns(xp, X), xb.namespace("array_api_strict").asarray(y))
    est = MLPClassifier(HIDDEN, max_iter=2)
    with pytest.warns(ConvergenceWarning):
        est.fit(_ns(xp, X), _ns(xp, y))
    with pytest.raises(ValueError, match=r"coefs_\[1\] must have shape \(4, 4\), got \(4, 5\)"):
        est.coefs_ = [np.zeros((3, 4)), np.zeros((4, 5)), np.zeros((4, 1))]
    with pytest.raises(ValueError, match="intercepts_ must have 3 arrays, one per layer, got 1"):
        est.intercepts_ = [np.zeros(4)]
    est.intercepts_ = [np.zeros(4), np.zeros(4), np.full(1, 50.0)]  # the output unit saturates
    np.testing.assert_array_equal(xb.to_numpy(est.predict(_ns(xp, X))), np.ones(N, dtype=int))
