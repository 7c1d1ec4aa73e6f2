"""The estimators' parameters, checked before ``fit`` or ``partial_fit`` looks at the data or
changes anything: ``TypeError`` or ``ValueError`` naming the parameter and its value."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from .. import backend as _backend
from ..activations import get_activation
from ..checks import check_bool, check_choice, check_integer, check_number
from ..optimizers import SCHEDULES

__all__ = [
    "LOSSES",
    "SOLVERS",
    "activations",
    "batch_size",
    "check_params",
    "hidden_sizes",
    "stochastic_solver",
]

SOLVERS = ("lbfgs", "sgd", "adam")
#: MLPRegressor's losses
LOSSES = ("squared_error", "poisson")


def stochastic_solver(est: Any) -> bool:
    """``partial_fit`` is there for the stochastic solvers only (scikit-learn's message otherwise)."""
    if est.solver not in ("sgd", "adam"):
        raise AttributeError(f"partial_fit is only available for stochastic optimizers. {est.solver} is not "
                             "stochastic.")
    return True


def hidden_sizes(est: Any) -> list[int]:
    """``hidden_layer_sizes`` as a list of positive integers."""
    sizes = est.hidden_layer_sizes
    sizes = [sizes] if isinstance(sizes, numbers.Integral) else sizes
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
        raise TypeError(f"hidden_layer_sizes must be an integer or a list of integers, got {sizes!r}")
    for n in sizes:
        check_integer("hidden_layer_sizes entries", n)
    return [int(n) for n in sizes]


def activations(est: Any, n_hidden: int) -> list[str]:
    """``activation`` checked, as one name per hidden layer: one name for all, or a list."""
    if isinstance(est.activation, str):
        get_activation(est.activation)
        return [est.activation] * n_hidden
    if not isinstance(est.activation, (Sequence, np.ndarray)):
        raise TypeError(f"activation must be a name or a list of names, one per hidden layer, got "
                        f"{type(est.activation).__name__} {est.activation!r}")
    names = list(est.activation)
    for name in names:
        get_activation(name)
    if len(names) != n_hidden:
        raise ValueError(f"activation lists {len(names)} names but hidden_layer_sizes="
                         f"{est.hidden_layer_sizes!r} has {n_hidden} hidden layers")
    return names


def batch_size(est: Any, n: int) -> int:
    """scikit-learn's batch: ``min(200, n)`` for ``"auto"``, else ``batch_size`` clipped to ``n``
    (with scikit-learn's warning)."""
    if isinstance(est.batch_size, str):
        return min(200, n)
    if est.batch_size > n:
        warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                      UserWarning, stacklevel=4)
    return min(int(est.batch_size), n)


def check_params(est: Any) -> None:
    """Every parameter, with scikit-learn's ranges (``momentum`` excepted: ``[0, 1)``, see the docs)."""
    check_choice("solver", est.solver, SOLVERS)
    if "loss" in est.get_params():
        check_choice("loss", est.loss, LOSSES)
    check_choice("learning_rate", est.learning_rate, SCHEDULES)
    if not (isinstance(est.batch_size, str) and est.batch_size == "auto"):
        check_integer("batch_size", est.batch_size)
    check_integer("max_iter", est.max_iter)
    check_integer("max_fun", est.max_fun)
    if not (isinstance(est.n_iter_no_change, numbers.Real) and est.n_iter_no_change == math.inf):
        check_integer("n_iter_no_change", est.n_iter_no_change)
    check_number("alpha", est.alpha, low=0.0)
    check_number("tol", est.tol, low=0.0)
    check_number("validation_fraction", est.validation_fraction, low=0.0, high=1.0, high_open=True)
    check_number("learning_rate_init", est.learning_rate_init, low=0.0, low_open=True,
                 what="a positive finite number")
    check_number("power_t", est.power_t, low=0.0)
    if est.solver == "sgd":  # (scikit-learn takes any momentum in [0, 1] for adam, which ignores it)
        check_number("momentum", est.momentum, low=0.0, high=1.0, high_open=True)
    check_number("beta_1", est.beta_1, low=0.0, high=1.0, high_open=True)
    check_number("beta_2", est.beta_2, low=0.0, high=1.0, high_open=True)
    check_number("epsilon", est.epsilon, low=0.0, low_open=True, what="a positive finite number")
    for name in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
        check_bool(name, getattr(est, name))
    check_random_state(est.random_state)
    if est.backend is not None:
        _backend.backend_name(est.backend)
    if est.dtype is not None:
        _backend.dtype_name(est.dtype)
    activations(est, len(hidden_sizes(est)))
