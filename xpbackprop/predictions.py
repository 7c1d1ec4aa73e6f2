"""What a network's predictions answer in: the label of each class, the names of its input features
and of the label column, and ``predict``, ``predict_index``, ``predict_proba``.

:class:`Predicting` is the part of :class:`~xpbackprop.network.Sequential` that holds them. The
three attributes are ``None`` for a network made in code until they are set; :func:`xpbackprop.load`
sets them from the model file and :func:`xpbackprop.save` writes them. Every assignment is checked
against the network's layers, as ``save`` checks its arguments and ``load`` a file's members (the
functions below are those checks):

- ``classes``: the label of each class, one per output (strings, integers, finite floats or
  booleans, all different); for a network of one sigmoid unit also two, the labels of class 0
  (output below ½) and class 1 (output above ½). Where they are the labels of the class indices
  ``predict`` finds (``k`` labels for a softmax of ``k`` outputs, 2 for one sigmoid unit),
  ``predict`` returns the labels; otherwise (one label for each output of a sigmoid layer, or of
  a network that gives values) they name the outputs and ``predict`` is unchanged.
- ``features``: one non-empty string per input feature, all different, for a network that takes
  rows of features (its first layer with parameters is Dense, with only activations or dropout
  before it).
- ``label``: the name of the training data's label column, a string that is not a feature's name.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from . import adapters
from . import backend as _backend
from .backprop import output_activation
from .layers import Activation, Dense, Dropout, Layer, fixed_output, shape_after
from .metrics import labels

__all__ = ["Predicting", "check_classes", "check_features", "check_label", "input_width", "output_width"]


def input_width(layers: list[Layer]) -> int | None:
    """The number of input features of a network that takes rows of features (its first layer with
    parameters is Dense, only activations or dropout before it), else ``None``."""
    for layer in layers:
        if isinstance(layer, Dense):
            return layer.n_in
        if not isinstance(layer, (Activation, Dropout)):
            return None
    return None


def output_width(layers: list[Layer]) -> int | None:
    """The network's output width from its layers (nothing built), or ``None`` where it depends on
    the input or the layers do not chain."""
    fixed = fixed_output(layers)
    if fixed is None:
        return None
    try:
        return math.prod(shape_after(fixed[1], fixed[0]))
    except ValueError:
        return None


def _one_sigmoid_unit(layers: list[Layer]) -> bool:
    return output_width(layers) == 1 and output_activation(layers) == "sigmoid"


def _names(value: Any, what: str, of: str) -> list[Any]:
    """``value`` as a list of Python scalars (NumPy scalars unwrapped); ``TypeError`` for a string, a
    set or a dictionary (no order), or anything else that is not a sequence."""
    if isinstance(value, (str, bytes, set, frozenset, dict)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{what} must be a list of {of}, got {type(value).__name__}")
    return [v.item() if isinstance(v, np.generic) else v for v in value]


def check_classes(classes: Any, layers: list[Layer]) -> list[Any] | None:
    """``classes`` as a list of labels checked against ``layers`` (see the module), or ``None``."""
    if classes is None:
        return None
    names = _names(classes, "classes", "labels, one per output")
    for c in names:
        if not isinstance(c, (str, int, float, bool)) or (isinstance(c, float) and not math.isfinite(c)):
            raise TypeError(f"classes must be strings, integers, finite floats or booleans, got {_shown(c)}")
    n_out = output_width(layers)
    if n_out is None:
        raise ValueError("classes: the output width of this network depends on its input (no Dense layer "
                         "fixes it), so no list of labels can be checked against it")
    if len(names) != n_out and not (len(names) == 2 and _one_sigmoid_unit(layers)):
        unit = (" (or two, class 0 and class 1, for its one sigmoid unit)"
                if _one_sigmoid_unit(layers) else "")
        raise ValueError(f"classes has {len(names)} labels but the network has {n_out} "
                         f"output{'s' if n_out != 1 else ''}{unit}")
    if len(set(names)) != len(names):
        repeated = [c for c, n in Counter(names).items() if n > 1]
        raise ValueError(f"classes must all be different, got {_shown(repeated)} more than once")
    return names


def check_features(features: Any, layers: list[Layer]) -> list[str] | None:
    """``features`` as a list of names checked against ``layers`` (see the module), or ``None``."""
    if features is None:
        return None
    names = _names(features, "features", "names, one per input feature")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"features must be strings, got {_shown(name)}")
        if not name:
            raise ValueError(f"features must be non-empty strings, got '' at position {names.index(name)}")
    n_in = input_width(layers)
    if n_in is None:
        raise ValueError("features name the input columns of a network whose first layer with parameters "
                         "is Dense; this network's inputs are not rows of features")
    if len(names) != n_in:
        raise ValueError(f"features has {len(names)} names but the network has {n_in} inputs")
    repeated = [name for name, n in Counter(names).items() if n > 1]
    if repeated:
        raise ValueError(f"features must all be different, got {_shown(repeated)} more than once")
    return names


def check_label(label: Any, features: list[str] | None) -> str | None:
    """``label`` checked: ``None``, or a string that is not one of ``features``."""
    if label is None:
        return None
    if isinstance(label, np.str_):
        label = str(label)
    if not isinstance(label, str):
        raise TypeError(f"label must be the label column's name (a string), got {type(label).__name__}")
    if features is not None and label in features:
        raise ValueError(f"label {_shown(label)} is also the name of a feature; the columns' names must "
                         "say which is which")
    return label


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + " ..."


class Predicting:
    """``classes``, ``features``, ``label`` and the predictions that answer in them; mixed into
    :class:`~xpbackprop.network.Sequential`, whose ``layers``, ``forward``, ``is_classifier``,
    ``output_activation``, ``backend`` and ``xp`` it uses."""

    layers: list[Layer]  # the attributes and methods of Sequential it uses
    backend: str
    xp: Any
    forward: Any
    is_classifier: bool
    output_activation: str

    @property
    def classes(self) -> list[Any] | None:
        """The label of each class (see :mod:`xpbackprop.predictions`), or ``None``: ``predict``
        then returns class indices. Set it to a list, checked against the outputs, or ``None``."""
        value = self.__dict__.get("_classes")  # absent in networks pickled before it existed
        return None if value is None else list(value)

    @classes.setter
    def classes(self, value: Any) -> None:
        self.__dict__["_classes"] = check_classes(value, self.layers)

    @property
    def features(self) -> list[str] | None:
        """The names of the input features in their order (a training file's header), or ``None``."""
        value = self.__dict__.get("_features")
        return None if value is None else list(value)

    @features.setter
    def features(self, value: Any) -> None:
        names = check_features(value, self.layers)
        check_label(self.label, names)
        self.__dict__["_features"] = names

    @property
    def label(self) -> str | None:
        """The name of the training data's label column, or ``None``."""
        return self.__dict__.get("_label")

    @label.setter
    def label(self, value: Any) -> None:
        self.__dict__["_label"] = check_label(value, self.features)

    def predict(self, X: Any) -> Any:
        """Class predictions for softmax (argmax) and sigmoid (A > ½) outputs, else the outputs.

        Where :attr:`classes` holds the label of each class (``k`` labels for a softmax of ``k``
        outputs, two for one sigmoid unit), the labels, as a NumPy array (``net.classes[i]`` for
        the predicted class ``i``; of the labels' type, ``object`` where they mix types), as
        scikit-learn's ``predict`` gives them; otherwise the class indices of
        :meth:`predict_index`, on the network's backend. Errors: see
        :class:`~xpbackprop.network.Sequential`.
        """
        if not self.is_classifier:
            return self.forward(X)
        indices = self.predict_index(X)
        classes = self.__dict__.get("_classes")
        if classes is None or len(classes) == 1 or indices.ndim == 2:
            return indices  # no labels, or labels that name the outputs of a sigmoid layer
        same = len({type(c) for c in classes}) == 1
        table = np.asarray(classes) if same else np.asarray(classes, dtype=object)
        return table[_backend.to_numpy(indices)]

    def predict_index(self, X: Any) -> Any:
        """The class index of each row on the network's backend, whatever :attr:`classes` holds:
        ``argmax`` of a softmax row (shape ``(N,)``), ``A > ½`` for one sigmoid unit (``(N,)``) or
        for each unit of a wider sigmoid layer (``(N, k)``). ``ValueError`` for a network whose
        output gives values (identity, tanh, ...)."""
        if not self.is_classifier:
            raise ValueError(f"predict_index needs a softmax or sigmoid output; this network's output is "
                             f"{self.output_activation!r} (predict gives its values)")
        A = self.forward(X)
        with adapters.for_backend(self.backend).scope(self):
            predicted = labels(A, self.output_activation, xp=self.xp)
        return predicted[:, 0] if predicted.ndim == 2 and predicted.shape[1] == 1 else predicted

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities: softmax rows, or ``[1 - A, A]`` for a single sigmoid output (the
        columns in the order of :attr:`classes`)."""
        if not self.is_classifier:
            raise ValueError(
                f"predict_proba needs a softmax or sigmoid output; this network's output is "
                f"{self.output_activation!r}"
            )
        A = self.forward(X)
        if self.output_activation == "sigmoid" and A.shape[1] == 1:
            with adapters.for_backend(self.backend).scope(self):
                return self.xp.concat([1.0 - A, A], axis=1)
        return A
