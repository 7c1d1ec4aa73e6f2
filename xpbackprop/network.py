"""Networks: ``Sequential`` strings layers together; ``MLP`` builds the Dense/Activation stack.

The forward pass keeps each layer's cache; the backward pass walks the layers in
reverse. When the output activation is the loss's canonical partner (softmax +
cross-entropy, sigmoid + BCE, identity + MSE) the backward pass starts from the
fused ``dZ_L = (A_L - Y) / scale`` and skips the output activation's own backward.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from array_api_compat import is_numpy_namespace, is_writeable_array

from . import backend as _backend
from . import validation
from .init import host_rng, initial_parameters
from .layers import Activation, Dense, Layer, get_layer
from .losses import Loss, get_loss
from .metrics import accuracy, labels, r2_score
from .training import CLASSIFIER_OUTPUTS, History, fit

__all__ = ["MLP", "Sequential"]


def _shape_after(shape: tuple[int, ...], layers: Sequence[Layer]) -> tuple[int, ...]:
    """One sample's shape after ``layers``, from ``shape`` before them."""
    for layer in layers:
        shape = layer.output_shape(shape)
    return shape


class Sequential:
    """A feed-forward network: ``layers`` applied in order, trained against ``loss``.

    Parameters are initialised on the host from ``seed`` (see :mod:`xpbackprop.init`)
    and moved to ``backend`` / ``device`` in ``dtype`` ("float32" or "float64").

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
        _check_dense_chain(layers)
        validation.check_seed("seed", seed)
        loss_fn = get_loss(loss)
        self._bind(backend, device, dtype)
        self.layers = layers
        self.loss_fn = loss_fn
        self.seed = seed
        #: the host generator: initial weights first, then every shuffled batch order
        self.rng = host_rng(seed)
        host = initial_parameters(layers, self.rng)
        self._assign([p for layer_params in host for p in layer_params.values()])

    # --- backend, dtype, parameters ------------------------------------------------

    def _bind(self, backend: str | ModuleType, device: Any, dtype: str) -> None:
        xp = validation.check_backend_and_device(backend, device)
        dtype_name = _backend.dtype_name(dtype)
        if dtype_name == "float64":
            _backend.enable_float64(xp)
        self.xp = xp
        self.backend = _backend.backend_name(backend)
        self.device = device
        self.dtype = _backend.resolve_dtype(xp, dtype_name)
        self.dtype_name = dtype_name

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
        return [getattr(layer, name) for layer in self.param_layers for name in layer.params]

    @property
    def n_parameters(self) -> int:
        """Number of scalar parameters."""
        total = 0
        for layer in self.param_layers:
            for shape in layer.param_shapes().values():
                size = 1
                for s in shape:
                    size *= s
                total += size
        return total

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

    def _store(self, flat: Sequence[Any]) -> None:
        """Set parameters from backend arrays already checked (the training loop's fast path)."""
        it = iter(flat)
        for layer in self.param_layers:
            for name in layer.params:
                setattr(layer, name, next(it))

    def set_parameters(self, weights: Sequence[Any], biases: Sequence[Any]) -> None:
        """Replace every ``W`` and ``b`` (NumPy or backend arrays); nothing changes on error.

        ``TypeError``: ``weights``/``biases`` not lists, non-numeric or complex arrays, arrays
        of another library. ``ValueError``: the wrong number of arrays or a wrong shape (both
        named), NaN or infinite values, an array on another device than the network's.
        """
        for label, given in (("weights", weights), ("biases", biases)):
            if isinstance(given, (str, bytes)) or hasattr(given, "shape") or not isinstance(given, Sequence):
                raise TypeError(
                    f"{label} must be a list with one array per parametric layer, got {type(given).__name__}"
                )
        weights, biases = list(weights), list(biases)
        n = len(self.param_layers)
        if len(weights) != n or len(biases) != n:
            raise ValueError(
                f"the network has {n} parametric layers; got {len(weights)} weights "
                f"and {len(biases)} biases"
            )
        checks = validation.ValueChecks(self.xp)
        converted = []
        for k, layer in enumerate(self.param_layers):
            shapes = layer.param_shapes()
            for label, value, key in (("weights", weights[k], "W"), ("biases", biases[k], "b")):
                name = f"{label}[{k}]"
                arr = validation.as_array(value, self.xp, name=name, device=self.device,
                                          expected_device=self._param_device, backend=self.backend)
                if tuple(arr.shape) != tuple(shapes[key]):
                    raise ValueError(
                        f"{name} must have shape {tuple(shapes[key])} for {layer!r}, got {tuple(arr.shape)}"
                    )
                arr = validation.cast(arr, self.xp, self.dtype)
                checks.finite(arr, name)
                converted.append(arr)
        checks.run()
        self._assign(converted)

    def copy(self, *, backend: str | ModuleType | None = None, device: Any = None,
             dtype: str | None = None) -> Sequential:
        """A new network with the same layers, loss and parameter values, optionally elsewhere.

        Nothing is shared with ``self``: the copy has its own generator in the same state (the
        same future batch orders, drawn independently) and none of the per-namespace caches
        (:attr:`_TRANSIENT`: a JAX compiled step is bound to the network that built it)."""
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
        old = (self.xp, self.backend, self.device, self.dtype, self.dtype_name)
        self._bind(backend, device, dtype if dtype is not None else self.dtype_name)
        try:
            self._assign(host)
        except Exception:
            self.xp, self.backend, self.device, self.dtype, self.dtype_name = old
            raise
        return self

    # --- pickling and copy.deepcopy ------------------------------------------------------

    #: rebuilt after unpickling, never stored: the namespace module, its dtype object and the
    #: per-namespace caches (row-block width, the JAX backend's compiled step)
    _TRANSIENT = ("xp", "dtype", "_per_row", "_compiled_loss_and_gradients")

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
            fixed = self._fixed_output()
            if fixed is None:
                raise ValueError(
                    f"the output width of this network depends on its input's length (no Dense layer "
                    f"fixes it): give one sample's shape, net.output_shape((C, L)); layers {self.layers}"
                )
            shape, rest = fixed
        return _shape_after(shape, rest)

    def _fixed_output(self) -> tuple[tuple[int, ...], list[Layer]] | None:
        """``((n_out,), layers after it)`` of the last Dense layer, or ``None`` without one."""
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if isinstance(layer, Dense):
                return (layer.n_out,), self.layers[i + 1:]
        return None

    @property
    def output_activation(self) -> str:
        """Name of the last activation (``"identity"`` if the network ends with a parametric layer)."""
        last = self.layers[-1]
        return last.name if isinstance(last, Activation) else "identity"

    @property
    def _fused(self) -> bool:
        return self.output_activation == self.loss_fn.canonical

    def _param_device(self) -> Any:
        """The device the parameters are on (what ``device=None`` resolved to); a method, so that
        input checks ask for it only when an input is an array of the network's own library."""
        return validation.device_of(next(layer for layer in self.layers if layer.params).W)

    def _input(self, X: Any, name: str = "X", checks: validation.ValueChecks | None = None) -> Any:
        """``X`` on the backend in the network's dtype, after the checks that need no host read
        (library, device, dtype, shape); with ``checks``, its finiteness joins them (read later)."""
        X = validation.as_array(X, self.xp, name=name, device=self.device,
                                expected_device=self._param_device, backend=self.backend)
        validation.check_samples(X, self.layers, name=name)
        X = validation.cast(X, self.xp, self.dtype)
        if checks is not None:
            checks.finite(X, name)
        return X

    def _targets(self, Y: Any, n_rows: int, name: str = "Y", x_name: str = "X",
                 checks: validation.ValueChecks | None = None, *,
                 sample_shape: tuple[int, ...] | None = None) -> Any:
        """``Y`` encoded as ``(N, n_out)`` floats, after the structural checks; with ``checks``,
        the value checks (finite, label range, target range, cross-entropy row sums) join them
        (read later). ``sample_shape``, one input sample's shape, is needed only where the layers
        do not fix the output width (a network without a Dense layer)."""
        Y = validation.as_array(Y, self.xp, name=name, device=self.device,
                                expected_device=self._param_device, backend=self.backend)
        n_out = self._target_width(sample_shape)
        validation.check_targets(Y, self.loss_fn, n_out, n_rows, name=name, x_name=x_name)
        given = Y.dtype
        if (Y.dtype != self.dtype and validation.is_floating(Y.dtype, self.xp)
                and not validation.is_label_vector(Y, self.loss_fn, n_out)):
            # targets in the network's dtype (out-of-range values: inf, reported below); class
            # labels keep theirs, so that 1.0000001 is not rounded into a whole number first
            Y = validation.cast(Y, self.xp, self.dtype)
        encoded = self.loss_fn.encode_targets(Y, n_out, xp=self.xp, dtype=self.dtype)
        if checks is not None:
            checks.targets(Y, encoded, self.loss_fn, n_out, name, output=self.output_activation,
                           given_dtype=given)
        return encoded

    def _target_width(self, sample_shape: tuple[int, ...] | None) -> int:
        """``n_out`` of the targets: the output's width, which must be one row per sample."""
        fixed = self._fixed_output()
        if fixed is None:
            if sample_shape is None:
                raise ValueError(
                    "the targets' width of a network without a Dense layer depends on the input's "
                    "length: pass the input sample shape (sample_shape=X.shape[1:])"
                )
            fixed = (tuple(sample_shape), self.layers)
        out = _shape_after(*fixed)
        if len(out) != 1:
            raise ValueError(
                f"the network's output has shape {out} per sample, but a loss compares one row of "
                f"targets per sample: end the network with Flatten() to train it against "
                f"(N, {math.prod(out)}) targets"
            )
        return out[0]

    def _checked(self, X: Any, Y: Any = None, *, x_name: str = "X", y_name: str = "Y",
                 checks: validation.ValueChecks | None = None) -> tuple[Any, Any]:
        """``(X, Y)`` converted and fully checked (one host read unless ``checks`` is given,
        in which case the caller runs it); ``Y`` may be None."""
        own = checks is None
        checks = validation.ValueChecks(self.xp) if own else checks
        X = self._input(X, x_name, checks)
        if Y is not None:
            Y = self._targets(Y, X.shape[0], y_name, x_name, checks, sample_shape=tuple(X.shape[1:]))
        if own:
            checks.run()
        return X, Y

    # --- formulas -------------------------------------------------------------------------

    def _forward(self, X: Any, layers: Sequence[Layer] | None = None) -> tuple[Any, list[Any]]:
        """The output of ``layers`` (all by default) and each layer's cache, for arrays on the backend."""
        A, caches = X, []
        for layer in self.layers if layers is None else layers:
            A, cache = layer.forward(A, xp=self.xp)
            caches.append(cache)
        return A, caches

    def _forward_loss(self, X: Any, Y: Any) -> tuple[Any, Any, list[Any]]:
        """``(A_L, loss, caches)``. With the canonical output the activation and the loss are
        computed together from the logits (log-sum-exp / softplus forms: finite for any logit)."""
        if self._fused and isinstance(self.layers[-1], Activation):
            Z_L, caches = self._forward(X, self.layers[:-1])
            A_L, loss = self.loss_fn.forward_value(Z_L, Y, xp=self.xp)
            return A_L, loss, caches
        A_L, caches = self._forward(X)
        return A_L, self.loss_fn.value(A_L, Y, xp=self.xp), caches

    #: Activations a batch may hold at once on NumPy (elements, all layers together): a larger
    #: batch runs in blocks of rows whose gradients are summed, so each block's elementwise
    #: passes work on data still in the CPU's cache (benchmarks/NOTES.md). ``None``: never.
    block_elements: int | None = 1 << 22

    def _row_blocks(self, n: int) -> list[tuple[int, int]] | None:
        """``[(start, stop), ...]`` when a batch of ``n`` rows runs in blocks, else ``None``."""
        if self.block_elements is None:
            return None
        cached = self.__dict__.get("_per_row")  # (namespace, elements per row or None)
        if cached is None or cached[0] is not self.xp:
            dense = [layer for layer in self.layers if isinstance(layer, Dense)]
            width = dense[0].n_in + sum(layer.n_out for layer in dense) if dense else 0
            # NumPy only; not with Conv1D, whose per-row size is not the layers' widths
            blocked = is_numpy_namespace(self.xp) and len(dense) == len(self.param_layers)
            cached = self._per_row = (self.xp, width if blocked else None)
        if cached[1] is None:
            return None
        count = n // max(1, self.block_elements // cached[1])
        if count < 2:
            return None
        return [(n * k // count, n * (k + 1) // count) for k in range(count)]

    def _loss_and_gradients(self, X: Any, Y: Any, *, return_output: bool = False,
                            factor: float = 1.0) -> tuple[Any, ...]:
        """The loss (0-d device array) and ``[dW1, db1, ...]`` (and ``A_L``), without leaving the device.

        ``factor`` scales the output delta and so, the backward pass being linear in it, every
        gradient (``factor · dW``): the SGD step passes its learning rate (see ``Trainer``).
        A large batch on NumPy runs in blocks of rows (:attr:`block_elements`): the gradient of a
        sum over samples is the sum of the blocks' gradients.
        """
        blocks = self._row_blocks(X.shape[0])
        if blocks is None:
            return self._block_loss_and_gradients(X, Y, return_output, factor, X.shape[0])
        xp, n, mean = self.xp, X.shape[0], self.loss_fn.reduction == "mean"
        loss = grads = None
        outputs = []
        for start, stop in blocks:
            out = self._block_loss_and_gradients(X[start:stop, ...], Y[start:stop, ...], return_output,
                                                 factor, n)
            part = out[0] * ((stop - start) / n) if mean else out[0]
            loss = part if loss is None else loss + part
            if grads is None:
                grads = out[1]
            elif is_writeable_array(grads[0]):
                for g, h in zip(grads, out[1]):
                    g += h
            else:
                grads = [g + h for g, h in zip(grads, out[1])]
            if return_output:
                outputs.append(out[2])
        return (loss, grads, xp.concat(outputs, axis=0)) if return_output else (loss, grads)

    def _block_loss_and_gradients(self, X: Any, Y: Any, return_output: bool, factor: float,
                                  n: int) -> tuple[Any, ...]:
        """:meth:`_loss_and_gradients` of rows ``X`` of a batch of ``n`` rows (the loss their own)."""
        xp = self.xp
        if X.shape[0] != n:  # a block: its delta is scaled as the whole batch's
            factor = factor * self.loss_fn.scale(X.shape[0]) / self.loss_fn.scale(n)
        A_L, loss, caches = self._forward_loss(X, Y)
        if self._fused:
            # dZ_L = (A_L - Y)/scale replaces the output activation's backward (if there is one)
            d = self.loss_fn.delta(A_L, Y, xp=xp, factor=factor)
        else:
            d = self.loss_fn.backward(A_L, Y, xp=xp)
            if factor != 1.0:
                d = d * factor
        first = next(i for i, layer in enumerate(self.layers) if layer.params)
        grads: list[Any] = []
        for i in range(len(caches) - 1, first - 1, -1):
            d, g = self.layers[i].backward(d, caches[i], xp=xp, need_input_grad=i > first)
            caches[i] = None  # release this layer's activations as soon as they are used
            grads[:0] = g
        return (loss, grads, A_L) if return_output else (loss, grads)

    # --- public computations -----------------------------------------------------------

    def forward(self, X: Any) -> Any:
        """Output activations ``A_L``, shape ``(N, n_out)``, on the backend.

        ``TypeError``/``ValueError`` for bad ``X`` as the class describes (NaN/inf included).
        """
        return self._forward(self._checked(X)[0])[0]

    def loss(self, X: Any, Y: Any) -> float:
        """The loss of the whole batch, as a Python float (errors: see the class)."""
        X, Y = self._checked(X, Y)
        return float(self._forward_loss(X, Y)[1])

    def gradients(self, X: Any, Y: Any) -> tuple[float, list[Any], list[Any]]:
        """``(loss, dW, db)``: the loss as a float and gradients mirroring ``weights``, ``biases``
        (errors: see the class)."""
        X, Y = self._checked(X, Y)
        loss, grads = self._loss_and_gradients(X, Y)
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

    def predict(self, X: Any) -> Any:
        """Class labels for softmax (argmax) and sigmoid (A > ½) outputs, else the outputs."""
        A = self.forward(X)
        if not self.is_classifier:
            return A
        predicted = labels(A, self.output_activation, xp=self.xp)
        return predicted[:, 0] if predicted.ndim == 2 and predicted.shape[1] == 1 else predicted

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities: softmax rows, or ``[1 - A, A]`` for a single sigmoid output."""
        if not self.is_classifier:
            raise ValueError(
                f"predict_proba needs a softmax or sigmoid output; this network's output is "
                f"{self.output_activation!r}"
            )
        A = self.forward(X)
        if self.output_activation == "sigmoid" and A.shape[1] == 1:
            return self.xp.concat([1.0 - A, A], axis=1)
        return A

    def score(self, X: Any, Y: Any) -> float:
        """Accuracy for classifiers (softmax/sigmoid output), R² otherwise (errors: see the class)."""
        X, Y = self._checked(X, Y)
        A = self._forward(X)[0]
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


class MLP(Sequential):
    """Multi-layer perceptron ``sizes = [n0, n1, ..., nL]``: Dense + activation per layer.

    ``hidden`` is one activation name for every hidden layer or a list with one
    name per hidden layer; ``output`` is the output activation.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        hidden: str | Sequence[str] = "relu",
        output: str = "softmax",
        loss: str | Loss = "cross_entropy",
        *,
        backend: str | ModuleType = "numpy",
        device: Any = None,
        dtype: str = "float32",
        seed: int | None = 0,
    ) -> None:
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
            raise TypeError(
                f"sizes must be a list of at least two positive integers [n0, ..., nL], "
                f"got {type(sizes).__name__} {sizes!r}"
            )
        sizes = list(sizes)
        if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) for n in sizes):
            raise TypeError(f"sizes must be at least two positive integers [n0, ..., nL], got {sizes!r}")
        if len(sizes) < 2 or any(n < 1 for n in sizes):
            raise ValueError(f"sizes must be at least two positive integers [n0, ..., nL], got {sizes!r}")
        sizes = [int(n) for n in sizes]
        n_hidden = len(sizes) - 2
        if not isinstance(hidden, str) and not isinstance(hidden, Sequence):
            raise TypeError(
                f"hidden must be an activation name or a list of names, "
                f"got {type(hidden).__name__} {hidden!r}"
            )
        hidden_list = [hidden] * n_hidden if isinstance(hidden, str) else list(hidden)
        if len(hidden_list) != n_hidden:
            raise ValueError(
                f"hidden lists {len(hidden_list)} activations but sizes {sizes} has {n_hidden} hidden layers"
            )
        layers: list[Layer] = []
        for n_in, n_out, act in zip(sizes[:-1], sizes[1:], [*hidden_list, output]):
            layers += [Dense(n_in, n_out), Activation(act)]
        self.sizes = sizes
        self.hidden = [layer.name for layer in layers[1:-2:2]]
        self.output = layers[-1].name
        super().__init__(layers, loss, backend=backend, device=device, dtype=dtype, seed=seed)

    def config(self) -> dict[str, Any]:
        return {
            "class": "MLP",
            "sizes": list(self.sizes),
            "hidden": list(self.hidden),
            "output": self.output,
            "loss": self.loss_fn.config(),
            "dtype": self.dtype_name,
        }


def _check_dense_chain(layers: Sequence[Layer]) -> None:
    previous: Dense | None = None
    for i, layer in enumerate(layers):
        if isinstance(layer, Dense):
            if previous is not None and previous.n_out != layer.n_in:
                raise ValueError(
                    f"layer {i} is Dense({layer.n_in}, {layer.n_out}) but the Dense layer before it "
                    f"gives {previous.n_out} features"
                )
            previous = layer
        elif layer.params:
            previous = None
