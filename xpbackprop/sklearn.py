"""scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor`` over :class:`xpbackprop.MLP`.

They follow scikit-learn's conventions (parameters stored by the constructor, ``fit`` /
``partial_fit`` / ``predict`` / ``score``, fitted attributes ending in ``_``) and its MLP's
parameter names, and they train with :func:`xpbackprop.fit`. Everything follows ``X``:
given arrays of torch, JAX, CuPy or array-api-strict, the network trains on that library and
device (``backend=None``, ``device=None``) in ``X``'s float dtype (``dtype=None``), and
``coefs_``, ``intercepts_``, predictions and probabilities come back as arrays of that
library. Any other ``X`` (NumPy, lists, pandas) is validated by scikit-learn and gives NumPy.

scikit-learn is an optional dependency: ``pip install 'xpbackprop[sklearn]'``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from array_api_compat import is_dask_array

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "xpbackprop.sklearn needs scikit-learn >= 1.6: pip install 'xpbackprop[sklearn]' "
        f"({exc})"
    ) from exc

from . import backend as _backend
from . import backprop, intake
from .activations import get_activation
from .backend import device_of
from .checks import check_choice, check_integer, check_number
from .epochs import run_epoch
from .guards import snapshot
from .losses import MSE, CrossEntropy
from .metrics import labels
from .network import MLP
from .optimizers import SCHEDULES, Adam, Schedule
from .trainer import Trainer
from .training import fit

__all__ = ["MLPClassifier", "MLPRegressor"]

_SOLVERS = ("sgd", "adam")
_CONVERGENCE = ("Stochastic Optimizer: Maximum iterations ({}) reached and the optimization hasn't "
                "converged yet.")


def _is_host(x: Any) -> bool:
    """Data scikit-learn validates (NumPy, lists, pandas, ...), as opposed to another array library's."""
    lib = _backend.library_of(x)
    return lib is None or lib == "numpy" or lib not in _backend.BACKENDS


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, the training loop, the namespace."""

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        backend: str | None = None,
        device: Any = None,
        dtype: str | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.backend = backend
        self.device = device
        self.dtype = dtype

    # --- what subclasses define -------------------------------------------------------------

    def _validate_xy(self, X: Any, y: Any, reset: bool, incremental: bool, classes: Any = None
                     ) -> tuple[Any, Any]:
        raise NotImplementedError

    def _output_layer(self) -> tuple[str, Any]:
        raise NotImplementedError

    #: the factor between the network's loss and scikit-learn's (its squared error divides by outputs)
    def _loss_scale(self) -> int:
        return 1

    # --- parameters ---------------------------------------------------------------------------

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else sizes
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
            raise TypeError(f"hidden_layer_sizes must be an integer or a list of integers, got {sizes!r}")
        for n in sizes:
            check_integer("hidden_layer_sizes entries", n)
        return [int(n) for n in sizes]

    def _check_params(self) -> None:
        """Every parameter, before ``fit`` or ``partial_fit`` looks at the data or changes anything."""
        check_choice("solver", self.solver, _SOLVERS)
        check_choice("learning_rate", self.learning_rate, SCHEDULES)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            check_integer("batch_size", self.batch_size)
        check_integer("max_iter", self.max_iter)
        check_integer("n_iter_no_change", self.n_iter_no_change)
        check_number("alpha", self.alpha, low=0.0)
        check_number("tol", self.tol, low=0.0)
        check_number("validation_fraction", self.validation_fraction, low=0.0, high=1.0,
                     low_open=True, high_open=True)
        check_number("learning_rate_init", self.learning_rate_init, low=0.0, low_open=True,
                     what="a positive finite number")
        check_number("power_t", self.power_t, low=0.0)
        if self.solver == "sgd":  # (scikit-learn takes any momentum in [0, 1] for adam, which ignores it)
            check_number("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        check_number("beta_1", self.beta_1, low=0.0, high=1.0, high_open=True)
        check_number("beta_2", self.beta_2, low=0.0, high=1.0, high_open=True)
        check_number("epsilon", self.epsilon, low=0.0, low_open=True, what="a positive finite number")
        for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
        check_random_state(self.random_state)
        if self.backend is not None:
            _backend.backend_name(self.backend)
        if self.dtype is not None:
            _backend.dtype_name(self.dtype)
        n_hidden = len(self._hidden_sizes())
        self._activations(n_hidden)

    def _activations(self, n_hidden: int) -> str | list[str]:
        """``activation`` checked: one name, or a list of names with one per hidden layer."""
        if isinstance(self.activation, str):
            get_activation(self.activation)
            return self.activation
        if not isinstance(self.activation, (Sequence, np.ndarray)):
            raise TypeError(f"activation must be a name or a list of names, one per hidden layer, got "
                            f"{type(self.activation).__name__} {self.activation!r}")
        names = list(self.activation)
        for name in names:
            get_activation(name)
        if len(names) != n_hidden:
            raise ValueError(f"activation lists {len(names)} names but hidden_layer_sizes="
                             f"{self.hidden_layer_sizes!r} has {n_hidden} hidden layers")
        return names

    def _batch(self, n: int) -> int:
        if isinstance(self.batch_size, str):
            return min(200, n)
        if self.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be "
                          "clipped", UserWarning, stacklevel=3)
        return min(int(self.batch_size), n)

    def _seed(self) -> Any:
        """``random_state`` as the network's seed: an integer as it is (``xb.MLP(seed=...)`` gives the
        same weights), a ``RandomState`` draws one, ``None`` is fresh entropy."""
        if self.random_state is None or isinstance(self.random_state, numbers.Integral):
            return self.random_state
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _optimizer(self) -> dict[str, Any]:
        if self.solver == "adam":
            return {"optimizer": Adam(self.beta_1, self.beta_2, self.epsilon)}
        return {"optimizer": "sgd", "momentum": self.momentum,
                "nesterov": bool(self.nesterovs_momentum) and self.momentum > 0}

    def _schedule_kind(self) -> str:
        return self.learning_rate if self.solver == "sgd" else "constant"

    def _schedule(self) -> Schedule:
        """scikit-learn's schedule: its adaptive rule acts after *more than* ``n_iter_no_change`` epochs
        without improvement, on its loss (divided by the number of outputs for regression)."""
        return Schedule(self._schedule_kind(), self.learning_rate_init, power_t=self.power_t,
                        n_iter_no_change=self.n_iter_no_change + 1, tol=self.tol * self._loss_scale())

    # --- the namespace ------------------------------------------------------------------------

    def _placement(self, X: Any) -> tuple[str, Any, str]:
        """``(backend, device, dtype)`` for a new network, following ``X`` where not given."""
        host = _is_host(X)
        lib = "numpy" if host else _backend.library_of(X)
        if self.backend is not None and not host and _backend.backend_name(self.backend) != lib:
            raise TypeError(
                f"X is an array of {lib} but backend={self.backend!r}; pass backend=None to train "
                f"where X lives, or convert X (xb.to_numpy)"
            )
        backend = lib if self.backend is None else _backend.backend_name(self.backend)
        device = self.device if self.device is not None or host else device_of(X)
        if self.dtype is not None:
            return backend, device, _backend.dtype_name(self.dtype)
        xp = _backend.namespace(lib)
        if str(X.dtype).split(".")[-1] in ("float32", "float64"):
            return backend, device, str(X.dtype).split(".")[-1]
        default = "float64" if host else str(xp.__array_namespace_info__().default_dtypes()["real floating"])
        return backend, device, default.split(".")[-1]

    def _follow(self, A: Any, X: Any) -> Any:
        """A network output in the namespace of ``X`` (NumPy for host data)."""
        return _backend.to_numpy(A) if _is_host(X) and self.net_.backend != "numpy" else A

    def _check_features(self, X: Any, reset: bool) -> Any:
        """``X`` validated: by scikit-learn for host data, by shape for array-library data."""
        if _is_host(X):
            return validate_data(self, X, reset=reset, dtype=(np.float64, np.float32))
        if X.ndim != 2:
            raise ValueError(f"X must be 2-d (n_samples, n_features), got shape {tuple(X.shape)}")
        if reset:
            self.n_features_in_ = int(X.shape[1])
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input."
            )
        return X

    def _forward(self, X: Any) -> tuple[Any, Any]:
        """``(output activations, X as given)`` for a fitted estimator."""
        check_is_fitted(self)
        given = X
        X = self._check_features(X, reset=False)
        return self.net_.forward(X), given

    # --- fitted parameters --------------------------------------------------------------------

    @property
    def coefs_(self) -> list[Any]:
        """``W`` of each layer, ``(n_in, n_out)``, in the namespace of the data given to ``fit``."""
        check_is_fitted(self, "net_")
        return [self._to_fit_namespace(W) for W in self.net_.weights]

    @coefs_.setter
    def coefs_(self, weights: Sequence[Any]) -> None:
        check_is_fitted(self, "net_")
        self.net_.set_parameters(list(weights), self.net_.biases)

    @property
    def intercepts_(self) -> list[Any]:
        """``b`` of each layer, ``(n_out,)``, in the namespace of the data given to ``fit``."""
        check_is_fitted(self, "net_")
        return [self._to_fit_namespace(b) for b in self.net_.biases]

    @intercepts_.setter
    def intercepts_(self, biases: Sequence[Any]) -> None:
        check_is_fitted(self, "net_")
        self.net_.set_parameters(self.net_.weights, list(biases))

    def _to_fit_namespace(self, A: Any) -> Any:
        return _backend.to_numpy(A) if self._host_fit and self.net_.backend != "numpy" else A

    # --- training -----------------------------------------------------------------------------

    def _new_network(self, X: Any, n_out: int) -> None:
        backend, device, dtype = self._placement(X)
        output, loss = self._output_layer()
        hidden = self._hidden_sizes()
        activation = self._activations(len(hidden))
        self.net_ = MLP([int(X.shape[1]), *hidden, n_out], hidden=activation, output=output,
                        loss=loss, backend=backend, device=device, dtype=dtype, seed=self._seed())
        self.n_layers_ = len(self.net_.sizes)
        self.n_outputs_ = n_out
        self.out_activation_ = "logistic" if output == "sigmoid" else output
        self.n_iter_, self.t_ = 0, 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self._host_fit = _is_host(X)
        self.__dict__.pop("_trainer", None)

    def _fit(self, X: Any, y: Any, *, incremental: bool, classes: Any = None) -> _BaseMLP:
        self._check_params()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        # A failed call leaves the estimator as it was: scikit-learn's validate_data resets
        # n_features_in_ as it checks X, and the values of array-library data (NaN, infinity,
        # labels) are checked by the training call, after the new network is in place. The
        # attributes are shallow-copied (fitted ones are replaced, not changed in place; the old
        # network is kept whole when a new one replaces it) and put back on any error; a network
        # that trains on (partial_fit, warm_start) also gets its parameters and partial_fit's
        # optimizer state and its generator's state back (partial_fit's trainer copies only what
        # its steps overwrite; without one yet, the parameters are copied).
        saved = dict(self.__dict__)
        net, trainer = saved.get("net_"), saved.get("_trainer")
        kept = None
        if net is not None and (incremental or self.warm_start):
            own = incremental and trainer is not None
            kept = (trainer.kept_parameters() if own else snapshot(net.parameters, net.xp),
                    snapshot(trainer.state, net.xp) if own else None,
                    net.rng.bit_generator.state)
        try:
            return self._fit_checked(X, y, incremental=incremental, classes=classes)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if kept is not None:
                backprop.assign(net.layers, kept[0])
                if kept[1] is not None:
                    trainer.state = kept[1]
                net.rng.bit_generator.state = kept[2]  # the batch orders drawn are undrawn
            raise

    def _fit_checked(self, X: Any, y: Any, *, incremental: bool, classes: Any) -> _BaseMLP:
        first = not hasattr(self, "net_") or (not self.warm_start and not incremental)
        given = X
        X, Y = self._validate_xy(X, y, reset=first, incremental=incremental, classes=classes)
        if first:
            self._new_network(given if not _is_host(given) else X, self._n_targets(Y))
        if incremental:
            return self._partial_epoch(X, Y)
        return self._fit_epochs(X, Y)

    def _n_targets(self, Y: Any) -> int:
        return 1 if Y.ndim == 1 else int(Y.shape[1])

    def _best_loss_so_far(self) -> float:
        """The best training loss of earlier epochs (after ``early_stopping``, which keeps none: inf)."""
        return self.best_loss_ if self.n_iter_ and self.best_loss_ is not None else np.inf

    def _split(self, X: Any, Y: Any) -> tuple[Any, Any, Any, Any]:
        """scikit-learn's validation split, indexed in ``X``'s namespace. As scikit-learn's, it is
        stratified for binary classification only (one output), and random for more classes."""
        n = X.shape[0]
        binary = isinstance(self, ClassifierMixin) and self.n_outputs_ == 1
        stratify = _backend.to_numpy(Y) if binary else None
        train, val = train_test_split(np.arange(n), random_state=check_random_state(self.random_state),
                                      test_size=self.validation_fraction, stratify=stratify)
        if val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size of "
                             f"your dataset (validation_fraction={self.validation_fraction}, {n} samples).")
        return _rows(X, train), _rows(Y, train), _rows(X, val), _rows(Y, val)

    def _fit_epochs(self, X: Any, Y: Any) -> _BaseMLP:
        net, scale = self.net_, self._loss_scale()
        validation_data = None
        if self.early_stopping:
            X, Y, X_val, Y_val = self._split(X, Y)
            validation_data = (X_val, Y_val)
        batch = self._batch(X.shape[0])
        stopper = _NoImprovement(self, best_loss=self._best_loss_so_far())
        history = fit(net, X, Y, epochs=self.max_iter, lr=self.learning_rate_init, batch_size=batch,
                      shuffle=bool(self.shuffle), weight_decay=self.alpha / batch,
                      schedule=self._schedule_kind(), power_t=self.power_t,
                      n_iter_no_change=self.n_iter_no_change + 1, tol=self.tol * scale,
                      validation_data=validation_data, callbacks=[stopper], **self._optimizer())
        started = self.n_iter_
        self.n_iter_ += history.epochs
        self.t_ += history.epochs * X.shape[0]
        self.loss_curve_ = [*self.loss_curve_, *(v / scale for v in history.loss)]
        self.loss_ = self.loss_curve_[-1]
        if self.early_stopping:
            if stopper.best_parameters is not None:
                net.set_parameters(stopper.best_parameters[0::2], stopper.best_parameters[1::2])
            self.validation_scores_ = list(history.val_score)
            self.validation_loss_curve_ = [v / scale for v in history.val_loss]
            self.best_validation_score_ = stopper.best_score
            self.best_loss_ = None
        else:
            self.validation_scores_ = self.validation_loss_curve_ = self.best_validation_score_ = None
            self.best_loss_ = stopper.best_loss
        if history.stop_reason == "epochs" and started == 0:
            warnings.warn(_CONVERGENCE.format(self.max_iter), ConvergenceWarning, stacklevel=3)
        return self

    def _partial_epoch(self, X: Any, Y: Any) -> _BaseMLP:
        """One epoch over ``(X, Y)`` with an optimizer (and schedule) kept between calls: ``fit``'s
        own epoch (:func:`xpbackprop.epochs.run_epoch`), with scikit-learn's penalty
        ``alpha / 2 ||W||²`` over each batch's own rows (the last may be fewer)."""
        net = self.net_
        X, Y = intake.checked(net, X, Y)  # converted, encoded and checked, with one host read
        if getattr(self, "_trainer", None) is None:
            opt = self._optimizer()
            self._trainer = Trainer(net, self.learning_rate_init, opt.pop("optimizer"), **opt)
            self._lr_schedule = self._schedule()
        trainer = self._trainer
        trainer.lr = self._lr_schedule.lr
        epoch = run_epoch(trainer, X, Y, batch=self._batch(X.shape[0]), shuffle=bool(self.shuffle),
                          rng=net.rng, alpha=self.alpha)
        if epoch.failed is not None or epoch.loss is None or not np.isfinite(epoch.loss):
            raise ValueError(f"training diverged in partial_fit at step {epoch.failed}: the loss or a "
                             f"parameter became non-finite; try a smaller learning_rate_init than "
                             f"{trainer.lr:g}")
        epoch_loss = epoch.loss / self._loss_scale()
        n = X.shape[0]
        self.n_iter_ += 1
        self.t_ += n
        self.loss_curve_ = [*self.loss_curve_, epoch_loss]
        self.loss_ = epoch_loss
        self.best_loss_ = min(self._best_loss_so_far(), epoch_loss)
        self._lr_schedule.epoch_end(epoch_loss * self._loss_scale(), self.t_)
        if self.verbose:
            print(f"Iteration {self.n_iter_}, loss = {epoch_loss:.8f}")
        return self

    # --- pickling: the network pickles itself (its arrays through NumPy); partial_fit's trainer is
    # stored as its optimizer, rate, decay and state (arrays through NumPy) and rebuilt around the
    # restored network, so that partial_fit continues as it would have (as scikit-learn's does) ----

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # a copy: object.__getstate__ gives __dict__ itself
        trainer = state.pop("_trainer", None)
        if trainer is not None:
            state["_trainer"] = {
                "optimizer": trainer.optimizer, "lr": trainer.lr, "weight_decay": trainer.weight_decay,
                "state": [a if isinstance(a, numbers.Number) else _backend.to_numpy(a)
                          for a in trainer.state],
            }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        saved = state.pop("_trainer", None)
        super().__setstate__(state)
        if isinstance(saved, dict):
            net = self.net_
            trainer = Trainer(net, saved["lr"], saved["optimizer"], weight_decay=saved["weight_decay"])
            trainer.state = [a if isinstance(a, numbers.Number) else
                             _backend.to_backend(a, net.xp, device=net.device) for a in saved["state"]]
            self._trainer = trainer

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags


class _NoImprovement:
    """scikit-learn's stopping rule as a ``fit`` callback.

    An epoch counts as "no improvement" when the training loss is above the best by more than
    ``-tol`` (with ``early_stopping``: the validation score is below the best plus ``tol``, and the
    best parameters are kept). More than ``n_iter_no_change`` such epochs in a row stop training, or,
    for the adaptive schedule, divide the rate by 5 (which ``fit``'s schedule does at the same
    epoch) until it is at most 1e-6.
    """

    def __init__(self, est: _BaseMLP, *, best_loss: float) -> None:
        self.est, self.count, self.best_loss, self.best_score = est, 0, best_loss, -np.inf
        self.best_parameters: list[Any] | None = None
        self.adaptive = est.solver == "sgd" and est.learning_rate == "adaptive"
        self.lr = float(est.learning_rate_init)

    def __call__(self, net: Any, epoch: int, logs: dict[str, float]) -> bool:
        est = self.est
        loss = logs["loss"] / est._loss_scale()
        if est.verbose:
            print(f"Iteration {est.n_iter_ + epoch}, loss = {loss:.8f}")
        if est.early_stopping:
            score = logs["val_score"]
            self.count = self.count + 1 if score < self.best_score + est.tol else 0
            if score > self.best_score:
                self.best_score = score
                self.best_parameters = [net.xp.asarray(p, copy=True) for p in net.parameters]
        else:
            self.count = self.count + 1 if loss > self.best_loss - est.tol else 0
            self.best_loss = min(self.best_loss, loss)
        if self.count > est.n_iter_no_change:
            if not self.adaptive or self.lr <= 1e-6:
                return True
            self.lr /= 5.0
            self.count = 0
        return False


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by xpbackprop (scikit-learn's API and parameters).

    Two classes use one sigmoid output with binary cross-entropy, more use softmax with
    cross-entropy, both averaged over the batch: scikit-learn's log-loss. ``activation`` is one
    name (``identity``, ``logistic``, ``tanh``, ``relu``, and xpbackprop's ``leaky_relu``,
    ``softplus``, ``gelu``) or a list with one per hidden layer. ``alpha`` is the L2 penalty of
    scikit-learn, ``weight_decay = alpha / rows`` of each batch in ``partial_fit``; ``fit`` uses
    ``alpha / batch_size`` for every batch, a smaller last one included (scikit-learn: its rows).
    ``backend``, ``device``: where to
    train (``None``: where ``X`` lives); ``dtype``: ``"float32"``, ``"float64"`` or ``None``
    (``X``'s float dtype; float64 for other host data, as scikit-learn).

    Fitted attributes: ``classes_``, ``n_features_in_`` (and ``feature_names_in_`` for a
    DataFrame), ``coefs_``, ``intercepts_``, ``loss_curve_`` (the data loss, without the
    penalty), ``loss_``, ``best_loss_``, ``n_iter_``, ``t_``, ``n_outputs_``, ``out_activation_``;
    with ``early_stopping``: ``validation_scores_`` (accuracy), ``validation_loss_curve_``,
    ``best_validation_score_`` (else ``None``); ``net_``: the :class:`xpbackprop.MLP`.
    Host labels of any kind (strings too) are encoded with ``numpy.unique``; labels given as
    an array of ``X``'s library stay in it (``classes_`` and predictions too).
    """

    def _n_targets(self, Y: Any) -> int:
        n_classes = int(self.classes_.shape[0])
        return 1 if n_classes == 2 else n_classes

    def _output_layer(self) -> tuple[str, Any]:
        if self.classes_.shape[0] == 2:
            return "sigmoid", "bce"
        return "softmax", CrossEntropy(reduction="mean")

    def _validate_xy(self, X: Any, y: Any, reset: bool, incremental: bool, classes: Any = None
                     ) -> tuple[Any, Any]:
        if _is_host(X):
            X, y = validate_data(self, X, y, reset=reset, dtype=(np.float64, np.float32))
        else:
            if y is None:
                raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
            X = self._check_features(X, reset=reset)
        if _is_host(y):
            y = np.asarray(y)
            if y.ndim == 2 and y.shape[1] == 1:
                y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-d (n_samples,) class labels, got shape {tuple(y.shape)} "
                             "(multi-label targets are not supported)")
        if isinstance(y, np.ndarray):
            check_classification_targets(y)
        else:
            _check_label_values(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}; they must match")
        if classes is not None:
            classes = _unique(classes if _is_host(y) else _as_namespace(classes, y))
        if reset:  # a new network: classes from partial_fit's classes= or from y
            known = _unique(y) if classes is None else classes
            if known.shape[0] < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes in y; got 1 class: "
                                 f"{_backend.to_numpy(known).tolist()}")
        else:
            known = self.classes_
            if classes is not None and not _same(classes, known):
                raise ValueError(f"`classes={_backend.to_numpy(classes).tolist()}` is not the same as on "
                                 f"the last call to partial_fit, was: {_backend.to_numpy(known).tolist()}")
            if classes is None and not incremental and not _same(_unique(y), known):
                raise ValueError("warm_start can only be used where `y` has the same classes as in the "
                                 f"previous call to fit. Previously got {_backend.to_numpy(known).tolist()}, "
                                 f"`y` has {_backend.to_numpy(_unique(y)).tolist()}")
        Y = _encode(y, known)
        self.classes_ = known  # only once every label is known to be one of them
        return X, Y

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train on ``(X, y)`` for up to ``max_iter`` epochs (a new network unless ``warm_start``)."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch over ``(X, y)``; ``classes`` (every label) is required on the first call."""
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        given = X
        X = self._check_features(X, reset=False)
        return self._follow(self.net_.predict_proba(X), given)

    def predict_log_proba(self, X: Any) -> Any:
        """``log(predict_proba(X))``."""
        P = self.predict_proba(X)
        return np.log(P) if isinstance(P, np.ndarray) else _backend.array_namespace(P).log(P)

    def predict(self, X: Any) -> Any:
        """The class of each sample, from ``classes_``."""
        A, given = self._forward(X)
        index = labels(A, self.net_.output_activation, xp=self.net_.xp)
        index = index[:, 0] if index.ndim == 2 else index
        if isinstance(self.classes_, np.ndarray):
            return self.classes_[_backend.to_numpy(index)]
        return self._follow(self.net_.xp.take(self.classes_, index, axis=0), given)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (scikit-learn's ``accuracy_score``)."""
        weight = None if sample_weight is None else _backend.to_numpy(sample_weight)
        return float(accuracy_score(_backend.to_numpy(y), _backend.to_numpy(self.predict(X)),
                                    sample_weight=weight))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by xpbackprop (scikit-learn's API and parameters).

    An identity output with half the squared error, averaged over the batch (scikit-learn's
    loss); ``y`` may have several columns. Parameters and fitted attributes as for
    :class:`MLPClassifier` (without ``classes_``); ``validation_scores_`` are R².
    ``loss_curve_`` is divided by the number of outputs, as scikit-learn reports it.
    """

    def _output_layer(self) -> tuple[str, Any]:
        return "identity", MSE(half=True, reduction="mean")

    def _loss_scale(self) -> int:
        return getattr(self, "n_outputs_", 1)

    def _validate_xy(self, X: Any, y: Any, reset: bool, incremental: bool, classes: Any = None
                     ) -> tuple[Any, Any]:
        if _is_host(X):
            X, y = validate_data(self, X, y, reset=reset, multi_output=True, y_numeric=True,
                                 dtype=(np.float64, np.float32))
        else:
            if y is None:
                raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
            X = self._check_features(X, reset=reset)
            y = np.asarray(y) if _is_host(y) else y
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True) if isinstance(y, np.ndarray) else y[:, 0]
        if not reset and self._n_targets(y) != self.n_outputs_:
            raise ValueError(f"y has {self._n_targets(y)} outputs but the network was fitted with "
                             f"{self.n_outputs_}")
        return X, y

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train on ``(X, y)`` for up to ``max_iter`` epochs (a new network unless ``warm_start``)."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch over ``(X, y)``, continuing the optimizer state of earlier ``partial_fit`` calls."""
        return self._fit(X, y, incremental=True)

    def predict(self, X: Any) -> Any:
        """Predicted values: ``(n_samples,)`` for one output, ``(n_samples, n_outputs)`` for more."""
        A, given = self._forward(X)
        return self._follow(A[:, 0] if A.shape[1] == 1 else A, given)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of ``predict(X)`` against ``y``, averaged over outputs (scikit-learn's ``r2_score``)."""
        weight = None if sample_weight is None else _backend.to_numpy(sample_weight)
        return float(r2_score(_backend.to_numpy(y), _backend.to_numpy(self.predict(X)), sample_weight=weight))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


# --- labels: NumPy for host data, the array's own namespace otherwise ------------------------------


def _unique(y: Any) -> Any:
    if isinstance(y, np.ndarray) or _is_host(y):
        return np.unique(np.asarray(y))
    classes = _backend.array_namespace(y).unique_values(y)
    if is_dask_array(classes):  # Dask leaves the number of unique values unknown until computed
        classes = classes.persist()
        classes.compute_chunk_sizes()
    return classes


def _check_label_values(y: Any) -> None:
    """Class labels of an array library: integers, bools, or floats holding whole numbers."""
    xp = _backend.array_namespace(y)
    if xp.isdtype(y.dtype, "real floating") and bool(xp.any(y != xp.floor(y))):
        raise ValueError("Unknown label type: continuous. y holds floats that are not whole numbers; "
                         "a classifier needs class labels (use MLPRegressor for continuous targets)")


def _rows(A: Any, index: np.ndarray) -> Any:
    """The rows ``index`` (host integers) of ``A``, in ``A``'s namespace."""
    if isinstance(A, np.ndarray):
        return A[index]
    xp = _backend.array_namespace(A)
    return xp.take(A, xp.asarray(index, device=device_of(A)), axis=0)


def _as_namespace(values: Any, like: Any) -> Any:
    xp = _backend.array_namespace(like)
    return values if not _is_host(values) else xp.asarray(np.asarray(values), device=device_of(like))


def _same(a: Any, b: Any) -> bool:
    a, b = _backend.to_numpy(a), _backend.to_numpy(b)
    return a.shape == b.shape and bool(np.all(a == b))


def _encode(y: Any, classes: Any) -> Any:
    """Class indices of ``y`` in ``classes`` (sorted); ``ValueError`` for labels not among them."""
    if isinstance(classes, np.ndarray):
        y = np.asarray(y)
        index = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
        unknown = classes[index] != y
        if np.any(unknown):
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{classes.tolist()}. 'y' has {np.unique(y[unknown]).tolist()}.")
        return index
    xp = _backend.array_namespace(classes)
    sorted_, values = _comparable(classes, y, xp)
    index = xp.searchsorted(sorted_, values)
    index = xp.clip(index, 0, classes.shape[0] - 1) if hasattr(xp, "clip") else index
    unknown = xp.take(sorted_, index, axis=0) != values
    if bool(xp.any(unknown)):
        extra = np.unique(_backend.to_numpy(y)[_backend.to_numpy(unknown)])
        raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                         f"{_backend.to_numpy(classes).tolist()}. 'y' has {extra.tolist()}.")
    return index


def _comparable(classes: Any, y: Any, xp: Any) -> tuple[Any, Any]:
    """``classes`` and ``y`` in one numeric dtype, for ``searchsorted`` and ``==``: torch and
    array-api-strict search no bools, and array-api-strict promotes no integer with a float
    (``partial_fit(classes=[0, 1, 2])`` with float labels). Bools become 0/1; an integer array
    meeting a float one takes its dtype (the labels are whole numbers, checked before)."""
    if classes.dtype == xp.bool:
        classes = xp.astype(classes, xp.int32)
    if y.dtype == xp.bool:
        y = xp.astype(y, xp.int32)
    if classes.dtype == y.dtype:
        return classes, y
    if xp.isdtype(classes.dtype, "real floating") and not xp.isdtype(y.dtype, "real floating"):
        return classes, xp.astype(y, classes.dtype)
    if xp.isdtype(y.dtype, "real floating") and not xp.isdtype(classes.dtype, "real floating"):
        return xp.astype(classes, y.dtype), y
    common = xp.result_type(classes, y)
    return xp.astype(classes, common), xp.astype(y, common)
