"""``MLPRegressor``: scikit-learn's MLP regressor, trained by xpbackprop."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d, validate_data

from .. import backend as _backend
from ..losses import MSE, Poisson
from .base import BaseMLP
from .hosts import check_features, follow, is_host
from .params import stochastic_solver

__all__ = ["MLPRegressor"]


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor trained by xpbackprop, with scikit-learn's API, parameters,
    start and solvers (``docs/sklearn.md`` lists each convention against scikit-learn 1.9).

    ``loss="squared_error"``: an identity output with half the squared error, averaged over the
    samples (weighted by ``sample_weight``); ``loss_curve_`` and ``loss_`` divide it by the number
    of outputs, as scikit-learn reports it. ``loss="poisson"``: an ``exp`` output (log link) with
    half the Poisson deviance (:class:`xpbackprop.Poisson`); ``y`` must be ``>= 0``. ``y`` may have
    several columns. Parameters and fitted attributes as for :class:`MLPClassifier` (without
    ``classes_``); ``validation_scores_`` are R².
    """

    def __init__(
        self,
        loss: str = "squared_error",
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
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
            max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction, beta_1=beta_1,
            beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            backend=backend, device=device, dtype=dtype,
        )
        self.loss = loss

    def _output_layer(self) -> tuple[str, Any]:
        if self.loss == "poisson":
            return "exp", Poisson(reduction="mean")
        return "identity", MSE(half=True, reduction="mean")

    def _loss_scale(self) -> float:
        # scikit-learn's squared error averages over the outputs too (its gradient does not)
        return float(self.n_outputs_) if self.loss == "squared_error" else 1.0

    def _scorer(self, y_val: Any, w_val: Any) -> Any:
        def score(A: Any) -> float:
            P = _backend.to_numpy(A)
            if not np.all(np.isfinite(P)):
                return math.nan
            return float(r2_score(y_val, P[:, 0] if P.shape[1] == 1 else P, sample_weight=w_val))

        return score

    def _validate_xy(self, X: Any, y: Any, *, reset: bool, incremental: bool,
                     classes: Any = None) -> tuple[Any, Any]:
        if is_host(X):
            X, y = validate_data(self, X, y, reset=reset, multi_output=True, y_numeric=True,
                                 dtype=(np.float64, np.float32))
        else:
            if y is None:
                raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
            X = check_features(self, X, reset=reset)
            y = np.asarray(y) if is_host(y) else y
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True) if isinstance(y, np.ndarray) else y[:, 0]
        n_targets = 1 if y.ndim == 1 else int(y.shape[1])
        if not reset and n_targets != self.n_outputs_:
            raise ValueError(f"y has {n_targets} outputs but the estimator was fitted with {self.n_outputs_}")
        if self.loss == "poisson" and _has_negative(y):
            raise ValueError("Some value(s) of y are negative, which is not allowed for loss='poisson' "
                             "(a Poisson regression predicts counts or rates, y >= 0)")
        return X, y

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train on ``(X, y)`` (a new network unless ``warm_start``), each sample's loss weighted by
        ``sample_weight``: up to ``max_iter`` epochs, or L-BFGS-B iterations for ``"lbfgs"``."""
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(stochastic_solver)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``(X, y)``, continuing the optimizer state of earlier calls (and of ``fit``)."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X: Any) -> Any:
        """Predicted values: ``(n_samples,)`` for one output, ``(n_samples, n_outputs)`` for more."""
        A = self._forward(X)
        return follow(A[:, 0] if A.shape[1] == 1 else A, X, self.net_)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of ``predict(X)`` against ``y``, averaged over outputs (scikit-learn's ``r2_score``)."""
        weight = None if sample_weight is None else _backend.to_numpy(sample_weight)
        return float(r2_score(_backend.to_numpy(y), _backend.to_numpy(self.predict(X)), sample_weight=weight))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _has_negative(y: Any) -> bool:
    if isinstance(y, np.ndarray):
        return bool(np.any(y < 0))
    xp = _backend.array_namespace(y)
    return bool(xp.any(y < 0))
