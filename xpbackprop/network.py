"""Networks: ``Sequential`` strings layers together (``MLP``, in :mod:`xpbackprop.mlp`, is one).

A network holds its layers (and through them its parameters), its loss, where it lives (backend,
device, dtype) and its seeded host generator; it computes through the engine
(:mod:`xpbackprop.backprop`), takes its inputs through :mod:`xpbackprop.intake` and trains
through :func:`xpbackprop.training.fit`. Its predictions (``predict``, ``predict_index``,
``predict_proba``) and what they answer in (``classes``, ``features``, ``label``) are in
:mod:`xpbackprop.predictions`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from . import adapters, backprop, intake
from . import backend as _backend
from .architecture import check_dense_chain, check_memory, check_output_and_loss, count_parameters
from .checks import check_seed
from .history import History
from .init import host_rng, initial_parameters, skip_initial_parameters
from .layers import Layer, fixed_output, get_layer, shape_after
from .losses import Loss, get_loss
from .metrics import CLASSIFIER_OUTPUTS, accuracy, r2_score
from .predictions import Predicting
from .training import fit

__all__ = ["Sequential"]


class Sequential(Predicting):
    """A feed-forward network: ``layers`` applied in order, trained against ``loss``.

    Parameters are initialised on the host from ``seed`` (see :mod:`xpbackprop.init`)
    and moved to ``backend`` / ``device`` in ``dtype`` ("float32" or "float64"). With
    ``parameters`` (arrays in :attr:`parameters` order, ``W1, b1, W2, b2, ...``, checked as
    :meth:`set_parameters` checks them) the network starts from those instead and no initial
    weights are drawn; its generator is where drawing them would have left it.

    The constructor refuses (``ValueError``, before allocating anything) a cross-entropy or
    binary cross-entropy loss without an output in (0, 1) (softmax or sigmoid), and, on a
    backend in main memory, a network whose parameters, gradients and optimizer state would
    exceed the machine's physical memory (see :mod:`xpbackprop.architecture`: the environment
    variable ``XPBACKPROP_MEMORY_LIMIT`` overrides it).

    Errors (here and in every method; see :mod:`xpbackprop.validation`): ``TypeError``
    for arguments of the wrong type (a non-layer in ``layers``, a complex or string
    array, an array of another library than the network's); ``ValueError`` for values
    that are out of range or do not fit (unknown names, with the valid ones listed;
    shapes; NaN or infinite data; class labels outside ``[0, n_outputs)``; an array on
    another device than the network's). Each is raised before anything changes.

    Inputs ``X`` may be float, integer or bool arrays (cast to ``dtype``), as NumPy
    arrays or nested lists (host data, moved to the network's device) or arrays of the
    network's own library on its device. Targets ``Y``: ``(N, n_out)``; ``(N,)`` for one
    output; for cross-entropy also class labels ``(N,)``, integers (or whole-valued
    floats) in ``[0, n_out)``; binary cross-entropy targets lie in ``[0, 1]``; cross-entropy
    rows for a softmax output also sum to 1 (within ``n_out · 2⁻²⁰``, see
    :class:`~xpbackprop.losses.CrossEntropy`). ``n_out`` is the output's width: for a network
    ending in Conv1D and Flatten, ``C_out · L_out``. The public methods read NaN/inf, the label
    range and the row sums back to the host once per call.

    What the network knows of its data: ``classes`` (the label of each class), ``features`` (the
    input features' names), ``label`` (the label column's name), ``None`` for a network made in
    code until they are set (checked) and set by :func:`xpbackprop.load` from a model file; they
    survive :meth:`copy`, :meth:`to` and pickling. ``predict`` answers in the labels where
    ``classes`` holds them, ``predict_index`` in class indices (:mod:`xpbackprop.predictions`).
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        loss: str | Loss = "mse",
        *,
        backend: str | ModuleType = "numpy",
        device: Any = None,
        dtype: str = "float32",
        seed: int | None = 0,
        parameters: Sequence[Any] | None = None,
    ) -> None:
        if isinstance(layers, (Layer, str)) or not isinstance(layers, Sequence):
            raise TypeError(f"layers must be a list of xpbackprop layers, got {type(layers).__name__}")
        layers = list(layers)
        if not layers:
            raise ValueError("a network needs at least one layer, got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] is {layer!r}, not an xpbackprop layer")
        if not any(layer.params for layer in layers):
            raise ValueError("a network needs at least one layer with parameters (Dense or Conv1D)")
        check_dense_chain(layers)
        check_seed("seed", seed)
        loss_fn = get_loss(loss)
        check_output_and_loss(layers, loss_fn)
        if parameters is not None and (isinstance(parameters, (str, bytes)) or hasattr(parameters, "shape")
                                       or not isinstance(parameters, Sequence)):
            raise TypeError(f"parameters must be a list of arrays W1, b1, W2, b2, ..., "
                            f"got {type(parameters).__name__}")
        self._bind(backend, device, dtype)
        check_memory(count_parameters(layers), 8 if self.dtype_name == "float64" else 4,
                     host=_backend.on_host(self.xp, device))
        self.layers = layers
        self.loss_fn = loss_fn
        self.seed = seed
        #: the host generator: initial weights first, then every shuffled batch order
        self.rng = host_rng(seed)
        if parameters is None:
            host = initial_parameters(layers, self.rng)
            self._assign([p for layer_params in host for p in layer_params.values()])
        else:
            for layer in self.param_layers:  # parameters of another network these layers held
                for name in layer.params:
                    setattr(layer, name, None)
            flat = list(parameters)
            self.set_parameters(flat[0::2], flat[1::2])
            skip_initial_parameters(layers, self.rng)

    # --- backend, dtype, parameters ------------------------------------------------

    def _bind(self, backend: str | ModuleType, device: Any, dtype: str) -> None:
        xp = _backend.check_backend_and_device(backend, device)
        dtype_name = _backend.dtype_name(dtype)
        if dtype_name == "float64":
            _backend.enable_float64(xp)
            if not _backend.supports_float64(xp, device):
                raise ValueError(f"dtype='float64' but device {device!r} of backend {backend!r} holds no "
                                 f"float64 arrays; use dtype='float32' there")
        self.xp = xp
        self.backend = _backend.backend_name(backend)
        self.device = device
        self.dtype = _backend.resolve_dtype(xp, dtype_name)
        self.dtype_name = dtype_name
        self._adapter = adapters.for_backend(self.backend)

    @property
    def param_layers(self) -> list[Layer]:
        """The layers that hold parameters, in order."""
        return [layer for layer in self.layers if layer.params]

    @property
    def weights(self) -> list[Any]:
        """``W`` of every parametric layer, as backend arrays."""
        return [layer.W for layer in self.param_layers]

    @property
    def biases(self) -> list[Any]:
        """``b`` of every parametric layer, as backend arrays."""
        return [layer.b for layer in self.param_layers]

    @property
    def parameters(self) -> list[Any]:
        """``[W1, b1, W2, b2, ...]``: the order optimizers and files use."""
        return backprop.parameters(self.layers)

    @property
    def n_parameters(self) -> int:
        """Number of scalar parameters."""
        return count_parameters(self.layers)

    def _assign(self, flat: Sequence[Any]) -> None:
        """Set parameters from host or backend arrays in ``parameters`` order (shapes checked first)."""
        expected = [
            (i, name, shape)
            for i, layer in enumerate(self.layers)
            if layer.params
            for name, shape in layer.param_shapes().items()
        ]
        if len(flat) != len(expected):
            raise ValueError(f"expected {len(expected)} parameter arrays, got {len(flat)}")
        converted = []
        for (i, name, shape), value in zip(expected, flat):
            # a copy: the network never shares memory with the caller's arrays
            arr = _backend.to_backend(value, self.xp, dtype=self.dtype, device=self.device, copy=True)
            if tuple(arr.shape) != tuple(shape):
                raise ValueError(
                    f"layer {i} ({type(self.layers[i]).__name__}) parameter {name} must have shape "
                    f"{tuple(shape)}, got {tuple(arr.shape)}"
                )
            converted.append(arr)
        # every array converted and checked: only now change state
        for (i, name, _), arr in zip(expected, converted):
            setattr(self.layers[i], name, arr)

    def set_parameters(self, weights: Sequence[Any], biases: Sequence[Any]) -> None:
        """Replace every ``W`` and ``b`` (NumPy or backend arrays); nothing changes on error.

        ``TypeError``: ``weights``/``biases`` not lists, non-numeric or complex arrays, arrays
        of another library. ``ValueError``: the wrong number of arrays or a wrong shape (both
        named), NaN or infinite values, an array on another device than the network's.
        """
        with self._adapter.scope(self):
            self._assign(intake.parameter_lists(self, weights, biases))

    def copy(self, *, backend: str | ModuleType | None = None, device: Any = None,
             dtype: str | None = None) -> Sequential:
        """A new network with the same layers, loss and parameter values, optionally elsewhere.

        Nothing is shared with ``self``: the copy has its own generator in the same state (the
        same future batch orders, drawn independently)."""
        clone = object.__new__(type(self))
        clone.__dict__.update({k: copy.copy(v) if isinstance(v, (list, dict)) else v
                               for k, v in self.__dict__.items() if k not in self._TRANSIENT})
        clone.rng = copy.deepcopy(self.rng)
        clone.loss_fn = copy.copy(self.loss_fn)
        clone.layers = [get_layer(layer.config()) for layer in self.layers]
        clone._bind(
            backend if backend is not None else self.backend,
            device if backend is not None or device is not None else self.device,
            dtype if dtype is not None else self.dtype_name,
        )
        clone._assign([_backend.to_numpy(p) for p in self.parameters])
        return clone

    def to(self, backend: str | ModuleType, device: Any = None, *, dtype: str | None = None) -> Sequential:
        """Move the parameters to ``backend`` / ``device`` (and ``dtype``) in place; returns ``self``."""
        host = [_backend.to_numpy(p) for p in self.parameters]
        old = (self.xp, self.backend, self.device, self.dtype, self.dtype_name, self._adapter)
        self._bind(backend, device, dtype if dtype is not None else self.dtype_name)
        try:
            self._assign(host)
        except Exception:
            self.xp, self.backend, self.device, self.dtype, self.dtype_name, self._adapter = old
            raise
        return self

    # --- pickling and copy.deepcopy ------------------------------------------------------

    #: rebuilt after unpickling, never stored: the namespace module, its dtype object, its adapter
    _TRANSIENT = ("xp", "dtype", "_adapter")

    def __getstate__(self) -> dict[str, Any]:
        """What ``pickle`` stores and ``copy.deepcopy`` copies: the parameters as NumPy arrays, the
        backend by name, a device that does not pickle (JAX's) by its name, the host generator's
        state. The namespace and caches are rebuilt on the other side, on the same backend and
        device (``ValueError`` if that device does not exist there)."""
        state = {k: v for k, v in self.__dict__.items() if k not in self._TRANSIENT}
        layers = []
        for layer in self.layers:
            if layer.params:
                layer = copy.copy(layer)  # the same layer holding host copies of its parameters
                for name in layer.params:
                    setattr(layer, name, _backend.to_numpy(getattr(layer, name)))
            layers.append(layer)
        state["layers"] = layers
        state["device"] = _backend.portable_device(self.device)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        host = [getattr(layer, name) for layer in state["layers"] for name in layer.params]
        self.__dict__.update(state)
        self._bind(state["backend"], _backend.device_named(state["backend"], state["device"]),
                   state["dtype_name"])
        self._assign(host)

    # --- shapes and inputs -------------------------------------------------------------

    @property
    def n_outputs(self) -> int:
        """Width of the output ``(N, n_outputs)``: the last Dense layer's ``n_out`` for a network that
        ends with it (and an activation); in general the size of :meth:`output_shape` (a Conv1D and
        Flatten after the last Dense layer). ``ValueError`` for a network without a Dense layer,
        whose output width depends on the input's length: ``math.prod(net.output_shape((C, L)))``."""
        return math.prod(self.output_shape())

    def output_shape(self, input_shape: tuple[int, ...] | None = None) -> tuple[int, ...]:
        """One sample's output shape, for samples of shape ``input_shape``; without it, the shape the
        layers fix (from the last Dense layer on), ``ValueError`` where it depends on the input."""
        if input_shape is not None:
            shape, rest = tuple(input_shape), self.layers
        else:
            fixed = fixed_output(self.layers)
            if fixed is None:
                raise ValueError(
                    f"the output width of this network depends on its input's length (no Dense layer "
                    f"fixes it): give one sample's shape, net.output_shape((C, L)); layers {self.layers}"
                )
            shape, rest = fixed
        return shape_after(rest, shape)

    @property
    def output_activation(self) -> str:
        """Name of the last activation (``"identity"`` if the network ends with a parametric layer)."""
        return backprop.output_activation(self.layers)

    # --- public computations -----------------------------------------------------------

    def forward(self, X: Any) -> Any:
        """Output activations ``A_L``, shape ``(N, n_out)``, on the backend.

        ``TypeError``/``ValueError`` for bad ``X`` as the class describes (NaN/inf included).
        """
        with self._adapter.scope(self):
            X, _ = intake.checked(self, X)
            return backprop.forward(self.layers, X, xp=self.xp)[0]

    def loss(self, X: Any, Y: Any) -> float:
        """The loss of the whole batch, as a Python float (errors: see the class)."""
        with self._adapter.scope(self):
            X, Y = intake.checked(self, X, Y)
            return float(backprop.forward_loss(self.layers, self.loss_fn, X, Y, xp=self.xp)[1])

    def gradients(self, X: Any, Y: Any) -> tuple[float, list[Any], list[Any]]:
        """``(loss, dW, db)``: the loss as a float and gradients mirroring ``weights``, ``biases``
        (errors: see the class)."""
        with self._adapter.scope(self):
            X, Y = intake.checked(self, X, Y)
            loss, grads, _ = backprop.loss_and_gradients(self.layers, self.loss_fn, X, Y, xp=self.xp)
            return float(loss), grads[0::2], grads[1::2]

    def fit(self, X: Any, Y: Any, epochs: int = 100, lr: float = 0.1, **options: Any) -> History:
        """Train by gradient descent; see :func:`xpbackprop.training.fit` for every option.

        Every argument is checked before anything changes (parameters, the network's
        generator): ``TypeError`` for a wrong type (``lr="0.1"``, ``batch_size=2.5``,
        ``goal="low"``, a complex or string array, an array of another library, a callback
        that is not callable, ``validation_data`` that is not a pair); ``ValueError`` for a
        bad value (``lr <= 0`` or NaN, ``epochs``/``batch_size``/``patience < 1``,
        ``momentum`` outside ``[0, 1)``, ``weight_decay < 0``, unknown optimizer, schedule,
        activation or loss names, ``early_stopping`` without ``validation_data``) and for
        data that does not fit (feature count, rows of X and Y, target shape or encoding,
        labels outside ``[0, n_outputs)`` or not whole numbers, BCE targets outside
        ``[0, 1]``, cross-entropy rows for a softmax output that do not sum to 1, NaN or
        infinite values, empty arrays, another device). The values of
        ``X``, ``Y`` and ``validation_data`` are read back once for these checks.
        """
        return fit(self, X, Y, epochs=epochs, lr=lr, **options)

    @property
    def is_classifier(self) -> bool:
        """True for softmax and sigmoid outputs."""
        return self.output_activation in CLASSIFIER_OUTPUTS

    def score(self, X: Any, Y: Any) -> float:
        """Accuracy for classifiers (softmax/sigmoid output), R² otherwise (errors: see the class)."""
        with self._adapter.scope(self):
            X, Y = intake.checked(self, X, Y)
            A = backprop.forward(self.layers, X, xp=self.xp)[0]
            if self.is_classifier:
                return float(accuracy(A, Y, self.output_activation, xp=self.xp))
            return float(r2_score(A, Y, xp=self.xp))

    # --- description ----------------------------------------------------------------------

    def summary(self, input_shape: tuple[int, ...] | None = None) -> str:
        """Each layer with its input and output shapes, its parameter count and the forward and
        backward equations it applies, in the notes' notation; then the loss and the total.

        The equations come from the layer, activation and loss objects themselves
        (:mod:`xpbackprop.summary`). ``input_shape`` is one sample's shape, needed only where
        the layers do not fix it (a Conv1D first layer with no Dense layer after it).
        """
        from .summary import summary

        return summary(self, input_shape)

    def config(self) -> dict[str, Any]:
        """Architecture, loss and dtype as plain Python data (what :func:`xpbackprop.save` stores)."""
        return {
            "class": "Sequential",
            "layers": [layer.config() for layer in self.layers],
            "loss": self.loss_fn.config(),
            "dtype": self.dtype_name,
        }

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        return (
            f"{type(self).__name__}([\n    {inner}\n], loss={self.loss_fn!r}, "
            f"backend={self.backend!r}, dtype={self.dtype_name!r})"
        )
