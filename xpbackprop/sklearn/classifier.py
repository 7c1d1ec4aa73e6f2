"""``MLPClassifier``: scikit-learn's MLP classifier, trained by xpbackprop."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .. import backend as _backend
from ..losses import BCE, CrossEntropy
from ..metrics import labels
from .base import BaseMLP
from .hosts import check_features, check_library, follow, is_host
from .labels import as_namespace, check_label_values, encode, same, unique
from .params import stochastic_solver

__all__ = ["MLPClassifier"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier trained by xpbackprop, with scikit-learn's API, parameters,
    start and solvers (``docs/sklearn.md`` lists each convention against scikit-learn 1.9).

    Two classes use one sigmoid output with binary cross-entropy, more use softmax with
    cross-entropy, both averaged over the samples (weighted by ``sample_weight``): scikit-learn's
    log-loss. ``activation`` is one name (``identity``, ``logistic``, ``tanh``, ``relu``, and
    xpbackprop's others, e.g. ``leaky_relu``, ``gelu``) or a list with one per hidden layer.
    ``backend``, ``device``: where to train (``None``: where ``X`` lives); ``dtype``:
    ``"float32"``, ``"float64"`` or ``None`` (``X``'s float dtype; float64 for other host data).

    Fitted attributes: scikit-learn's (``classes_``, ``n_features_in_``, ``feature_names_in_``
    for a DataFrame, ``coefs_``, ``intercepts_``, ``loss_``, ``n_iter_``, ``t_``, ``n_layers_``,
    ``n_outputs_``, ``out_activation_``; for ``"sgd"`` and ``"adam"`` ``loss_curve_``,
    ``best_loss_``, ``validation_scores_``, ``best_validation_score_``), and ``net_``, the
    :class:`xpbackprop.MLP`. Host labels of any kind (strings too) are encoded with
    ``numpy.unique``; labels given as an array of ``X``'s library stay in it (``classes_`` and
    predictions too).
    """

    def _n_outputs(self, n_targets: int) -> int:
        n_classes = int(self.classes_.shape[0])
        return 1 if n_classes == 2 else n_classes

    def _output_layer(self) -> tuple[str, Any]:
        # scikit-learn's log-loss: its value from the probabilities clipped to [ε, 1 - ε]
        if self.classes_.shape[0] == 2:
            return "sigmoid", BCE(reduction="mean", clip=True)
        return "softmax", CrossEntropy(reduction="mean", clip=True)

    def _stratify(self, y: Any) -> Any:
        return y if self.n_outputs_ == 1 else None  # as scikit-learn: binary classification only

    def _scorer(self, y_val: Any, w_val: Any) -> Any:
        net = self.net_

        def score(A: Any) -> float:
            index = _backend.to_numpy(labels(A, net.output_activation, xp=net.xp))
            index = index[:, 0] if index.ndim == 2 else index
            return float(accuracy_score(y_val, index, sample_weight=w_val))

        return score

    def _validate_xy(self, X: Any, y: Any, *, reset: bool, incremental: bool,
                     classes: Any = None) -> tuple[Any, Any]:
        X, y = self._validated(X, y, reset=reset)
        if classes is not None:
            classes = unique(classes if is_host(y) else as_namespace(classes, y))
        if reset:  # a new network: classes from partial_fit's classes= or from y
            known = unique(y) if classes is None else classes
            if known.shape[0] < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes in y; got 1 class: "
                                 f"{_backend.to_numpy(known).tolist()}")
        else:
            known = self.classes_
            if classes is not None and not same(classes, known):
                raise ValueError(f"`classes={_backend.to_numpy(classes).tolist()}` is not the same as on "
                                 f"the last call to partial_fit, was: {_backend.to_numpy(known).tolist()}")
            if classes is None and not incremental and not same(unique(y), known):
                raise ValueError("warm_start can only be used where `y` has the same classes as in the "
                                 f"previous call to fit. Previously got {_backend.to_numpy(known).tolist()}, "
                                 f"`y` has {_backend.to_numpy(unique(y)).tolist()}")
        Y = encode(y, known)
        self.classes_ = known  # only once every label is known to be one of them
        return X, Y

    def _validated(self, X: Any, y: Any, *, reset: bool) -> tuple[Any, Any]:
        """``(X, y)`` checked: by scikit-learn for host ``X``, by shape otherwise; ``y`` 1-d labels."""
        if is_host(X):
            X, y = validate_data(self, X, y, reset=reset, dtype=(np.float64, np.float32))
        else:
            if y is None:
                raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
            X = check_features(self, X, reset=reset)
        if is_host(y):
            y = np.asarray(y)
            if y.ndim == 2 and y.shape[1] == 1:
                y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-d (n_samples,) class labels, got shape {tuple(y.shape)} "
                             "(multi-label targets are not supported)")
        if isinstance(y, np.ndarray):
            check_classification_targets(y)
        else:
            check_label_values(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}; they must match")
        return X, y

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Train on ``(X, y)`` (a new network unless ``warm_start``), each sample's loss weighted by
        ``sample_weight``: up to ``max_iter`` epochs, or L-BFGS-B iterations for ``"lbfgs"``."""
        return self._fit(X, y, sample_weight, incremental=False)

    @available_if(stochastic_solver)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> MLPClassifier:
        """One epoch over ``(X, y)``; ``classes`` (every label) is required on the first call."""
        if not hasattr(self, "classes_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        check_library(self, self.net_, X)
        given = X
        X = check_features(self, X, reset=False)
        return follow(self.net_.predict_proba(X), given, self.net_)

    def predict_log_proba(self, X: Any) -> Any:
        """``log(predict_proba(X))``."""
        P = self.predict_proba(X)
        return np.log(P) if isinstance(P, np.ndarray) else _backend.array_namespace(P).log(P)

    def predict(self, X: Any) -> Any:
        """The class of each sample, from ``classes_``."""
        A = self._forward(X)
        index = labels(A, self.net_.output_activation, xp=self.net_.xp)
        index = index[:, 0] if index.ndim == 2 else index
        if isinstance(self.classes_, np.ndarray):
            return self.classes_[_backend.to_numpy(index)]
        return follow(self.net_.xp.take(self.classes_, index, axis=0), X, self.net_)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (scikit-learn's ``accuracy_score``)."""
        weight = None if sample_weight is None else _backend.to_numpy(sample_weight)
        return float(accuracy_score(_backend.to_numpy(y), _backend.to_numpy(self.predict(X)),
                                    sample_weight=weight))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags
