"""What the classifier and the regressor share: parameters, the fitted network, the solvers."""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import backend as _backend
from .. import backprop, intake
from ..guards import snapshot
from ..trainer import Trainer
from .hosts import check_features, check_library, is_host, placement, rows
from .lbfgs import fit_lbfgs
from .params import activations, batch_size, check_params, hidden_sizes
from .start import SampleOrder, checked_weights, device_weights, new_network, validation_split
from .stochastic import Progress, Run, new_trainer, train

__all__ = ["BaseMLP"]

#: the fitted attributes of the stochastic solvers (a first fit with lbfgs leaves none of them)
_STOCHASTIC = ("loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_")


class BaseMLP(BaseEstimator):
    """scikit-learn's MLP parameters, in its order, then where to train: ``backend``, ``device``
    (``None``: where ``X`` lives) and ``dtype`` (``None``: ``X``'s float dtype)."""

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
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
        max_fun: int = 15000,
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
        self.max_fun = max_fun
        self.backend = backend
        self.device = device
        self.dtype = dtype

    # --- what the classifier and the regressor define -------------------------------------------

    def _validate_xy(self, X: Any, y: Any, *, reset: bool, incremental: bool,
                     classes: Any = None) -> tuple[Any, Any]:
        raise NotImplementedError

    def _output_layer(self) -> tuple[str, Any]:
        raise NotImplementedError

    def _loss_scale(self) -> float:
        """The divisor of the data loss in ``loss_curve_`` (scikit-learn's squared error: the outputs)."""
        return 1.0

    def _stratify(self, y: Any) -> Any:
        """Host labels to stratify the ``early_stopping`` split by, or ``None``."""
        return None

    def _scorer(self, y_val: Any, w_val: Any) -> Any:
        """``score(A_val) -> float``: the validation score of the network's outputs."""
        raise NotImplementedError

    # --- fitted parameters ---------------------------------------------------------------------

    @property
    def coefs_(self) -> list[Any]:
        """``W`` of each layer, ``(n_in, n_out)``, in the namespace of the data given to ``fit``."""
        check_is_fitted(self, "net_")
        return [self._to_fit_namespace(W) for W in self.net_.weights]

    @coefs_.setter
    def coefs_(self, weights: list[Any]) -> None:
        check_is_fitted(self, "net_")
        self.net_.set_parameters(_like("coefs_", weights, self.net_.weights), self.net_.biases)

    @property
    def intercepts_(self) -> list[Any]:
        """``b`` of each layer, ``(n_out,)``, in the namespace of the data given to ``fit``."""
        check_is_fitted(self, "net_")
        return [self._to_fit_namespace(b) for b in self.net_.biases]

    @intercepts_.setter
    def intercepts_(self, biases: list[Any]) -> None:
        check_is_fitted(self, "net_")
        self.net_.set_parameters(self.net_.weights, _like("intercepts_", biases, self.net_.biases))

    def _to_fit_namespace(self, A: Any) -> Any:
        return _backend.to_numpy(A) if self._host_fit and self.net_.backend != "numpy" else A

    def _forward(self, X: Any) -> Any:
        """The network's outputs for ``X``, checked as a fitted estimator checks its input."""
        check_is_fitted(self)
        check_library(self, self.net_, X)
        return self.net_.forward(check_features(self, X, reset=False))

    # --- training ---------------------------------------------------------------------------------

    def _fit(self, X: Any, y: Any, sample_weight: Any, *, incremental: bool, classes: Any = None) -> BaseMLP:
        """scikit-learn's ``_fit``; a failed call leaves the estimator as it was.

        Every parameter is checked first. scikit-learn's ``validate_data`` resets ``n_features_in_``
        as it checks X, and the values of array-library data (NaN, infinity, labels) are checked
        after the new network is in place, so the attributes are shallow-copied (fitted ones are
        replaced, never changed in place) and put back on any error; a network that trains on
        (``partial_fit``, ``warm_start``) also gets its parameters back, and its optimizer its state
        and rate.
        """
        check_params(self)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        saved = dict(self.__dict__)
        net, trainer = saved.get("net_"), saved.get("_trainer")
        kept = None
        if net is not None and (incremental or self.warm_start):
            own = incremental and trainer is not None
            kept = (trainer.kept_parameters() if own else snapshot(net.parameters, net.xp),
                    (snapshot(trainer.state, net.xp), trainer.lr) if own else None)
        try:
            return self._fit_checked(X, y, sample_weight, incremental=incremental, classes=classes)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            if kept is not None:
                backprop.assign(net.layers, kept[0])
                if kept[1] is not None:
                    trainer.state, trainer.lr = kept[1]
            raise

    def _fit_checked(self, X: Any, y: Any, sample_weight: Any, *, incremental: bool, classes: Any) -> BaseMLP:
        first = not hasattr(self, "net_") or (not self.warm_start and not incremental)
        given = X
        if not first:
            check_library(self, self.net_, given)
        elif not is_host(X) and not is_host(y) and _backend.library_of(y) != _backend.library_of(X):
            raise TypeError(f"y is an array of {_backend.library_of(y)} but X is an array of "
                            f"{_backend.library_of(X)}; give y as an array of {_backend.library_of(X)} "
                            "or as NumPy data")
        X, y = self._validate_xy(X, y, reset=first, incremental=incremental, classes=classes)
        dtype = self.dtype or ("float32" if "float32" in str(X.dtype) else "float64")
        weights = checked_weights(sample_weight, int(X.shape[0]), np.dtype(dtype))
        random_state = check_random_state(self.random_state)  # at every call, as scikit-learn
        if first:
            self._initialize(given if not is_host(given) else X, y, random_state)
        check_library(self, self.net_, y, "y")
        net = self.net_
        X, Y = intake.checked(net, X, y, y_name="y")  # on the device, encoded, values checked once
        if self.solver == "lbfgs":
            fit_lbfgs(self, net, X, Y, device_weights(weights, None, net), scale=self._loss_scale())
        else:
            self._fit_stochastic(X, Y, y, weights, random_state, incremental=incremental)
        return self

    def _initialize(self, X: Any, y: Any, random_state: Any) -> None:
        """A new network started as scikit-learn starts its MLP, and the attributes of a first fit."""
        backend, device, dtype = placement(X, self.backend, self.device, self.dtype)
        output, loss = self._output_layer()
        hidden = hidden_sizes(self)
        n_out = 1 if y.ndim == 1 else int(y.shape[1])
        n_out = self._n_outputs(n_out)
        self.net_ = new_network([int(X.shape[1]), *hidden, n_out], activations(self, len(hidden)), output,
                                loss, random_state, backend=backend, device=device, dtype=dtype)
        self.n_layers_ = len(hidden) + 2
        self.n_outputs_ = n_out
        self.out_activation_ = "logistic" if output == "sigmoid" else output
        self.n_iter_, self.t_ = 0, 0
        self._host_fit = is_host(X)
        self._trainer = None
        self._progress = Progress(best_parameters=snapshot(self.net_.parameters, self.net_.xp))
        for name in _STOCHASTIC:
            self.__dict__.pop(name, None)
        if self.solver != "lbfgs":
            self.loss_curve_ = []
            self._reset_scores()

    def _n_outputs(self, n_targets: int) -> int:
        """The network's outputs for targets of ``n_targets`` columns (the classifier: its classes)."""
        return n_targets

    def _reset_scores(self) -> None:
        if self.early_stopping:
            self.validation_scores_, self.best_validation_score_, self.best_loss_ = [], -math.inf, None
        else:
            self.best_loss_, self.validation_scores_, self.best_validation_score_ = math.inf, None, None

    def _fit_stochastic(self, X: Any, Y: Any, y: Any, weights: Any, random_state: Any, *,
                        incremental: bool) -> None:
        """scikit-learn's ``_fit_stochastic``: its optimizer (kept by ``partial_fit``), its split, its
        epochs (:func:`xpbackprop.sklearn.stochastic.train`)."""
        net = self.net_
        if not incremental or self._trainer is None:
            self._trainer, self._lr_schedule = new_trainer(self, net)
        if self.early_stopping and self.validation_scores_ is None:  # warm start after a fit without
            self._reset_scores()
        train_rows, validation = None, None
        if self.early_stopping:
            labels = _backend.to_numpy(y)
            train_rows, val = validation_split(X.shape[0], self.validation_fraction, random_state,
                                               self._stratify(labels))
            w_val = None if weights is None else weights[val]
            validation = (rows(X, val), self._scorer(labels[val], w_val))
            X, Y = rows(X, train_rows), rows(Y, train_rows)
        run = Run(X, Y, device_weights(weights, train_rows, net), batch_size(self, int(X.shape[0])),
                  SampleOrder(random_state), validation, self._loss_scale())
        progress = copy.copy(self._progress)
        train(self, self._trainer, self._lr_schedule, progress, run, incremental=incremental)
        self._progress = progress

    # --- pickling: the network pickles itself (its arrays through NumPy); the optimizer is stored
    # as its settings and state (arrays through NumPy) and rebuilt around the restored network, so
    # that partial_fit continues as it would have (as scikit-learn's does) ---------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # a copy: object.__getstate__ gives __dict__ itself
        trainer = state.pop("_trainer", None)
        if trainer is not None:
            state["_trainer"] = {"optimizer": trainer.optimizer, "lr": trainer.lr,
                                 "state": [_host(a) for a in trainer.state]}
        progress = state.get("_progress")
        if progress is not None and progress.best_parameters is not None:
            state["_progress"] = Progress(progress.count, [_host(a) for a in progress.best_parameters])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        saved = state.pop("_trainer", None)
        super().__setstate__(state)
        net = self.__dict__.get("net_")
        if net is None:
            return
        self._trainer = None
        if isinstance(saved, dict):
            self._trainer = Trainer(net, saved["lr"], saved["optimizer"])
            self._trainer.state = [_device(a, net) for a in saved["state"]]
        progress = self.__dict__.get("_progress")
        if progress is not None and progress.best_parameters is not None:
            self._progress = Progress(progress.count, [_device(a, net) for a in progress.best_parameters])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags


def _like(name: str, given: Any, current: list[Any]) -> list[Any]:
    """``given`` as a list of arrays shaped as ``current``: ``TypeError``/``ValueError`` naming the
    attribute (``coefs_[1]``) otherwise."""
    if isinstance(given, (str, bytes)) or hasattr(given, "shape") or not hasattr(given, "__len__"):
        raise TypeError(f"{name} must be a list with one array per layer, got {type(given).__name__}")
    given = list(given)
    if len(given) != len(current):
        raise ValueError(f"{name} must have {len(current)} arrays, one per layer, got {len(given)}")
    for k, (a, c) in enumerate(zip(given, current)):
        if tuple(np.shape(a) if is_host(a) else a.shape) != tuple(c.shape):
            raise ValueError(f"{name}[{k}] must have shape {tuple(c.shape)}, got "
                             f"{tuple(np.shape(a) if is_host(a) else a.shape)}")
    return given


def _host(a: Any) -> Any:
    return a if isinstance(a, numbers.Number) else _backend.to_numpy(a)


def _device(a: Any, net: Any) -> Any:
    return a if isinstance(a, numbers.Number) else _backend.to_backend(a, net.xp, device=net.device)
