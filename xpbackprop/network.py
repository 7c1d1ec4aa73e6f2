"""Networks: ``Sequential`` strings layers together; ``MLP`` builds the Dense/Activation stack.

The forward pass keeps each layer's cache; the backward pass walks the layers in
reverse. When the output activation is the loss's canonical partner (softmax +
cross-entropy, sigmoid + BCE, identity + MSE) the backward pass starts from the
fused ``dZ_L = (A_L - Y) / scale`` and skips the output activation's own backward.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from . import backend as _backend
from .init import host_rng, initial_parameters
from .layers import Activation, Dense, Layer, get_layer
from .losses import Loss, get_loss
from .metrics import accuracy, labels, r2_score
from .training import CLASSIFIER_OUTPUTS, History, fit

__all__ = ["MLP", "Sequential"]


class Sequential:
    """A feed-forward network: ``layers`` applied in order, trained against ``loss``.

    Parameters are initialised on the host from ``seed`` (see :mod:`xpbackprop.init`)
    and moved to ``backend`` / ``device`` in ``dtype`` ("float32" or "float64").
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
        layers = list(layers)
        if not layers:
            raise ValueError("a network needs at least one layer, got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] is {layer!r}, not an xpbackprop layer")
        if not any(layer.params for layer in layers):
            raise ValueError("a network needs at least one layer with parameters (Dense or Conv1D)")
        _check_dense_chain(layers)
        self.layers = layers
        self.loss_fn = get_loss(loss)
        self._bind(backend, device, dtype)
        self.seed = seed
        #: the host generator: initial weights first, then every shuffled batch order
        self.rng = host_rng(seed)
        host = initial_parameters(layers, self.rng)
        self._assign([p for layer_params in host for p in layer_params.values()])

    # --- backend, dtype, parameters ------------------------------------------------

    def _bind(self, backend: str | ModuleType, device: Any, dtype: str) -> None:
        xp = _backend.namespace(backend)
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
        """Replace every ``W`` and ``b`` (NumPy or backend arrays); nothing changes on error."""
        weights, biases = list(weights), list(biases)
        n = len(self.param_layers)
        if len(weights) != n or len(biases) != n:
            raise ValueError(
                f"the network has {n} parametric layers; got {len(weights)} weights "
                f"and {len(biases)} biases"
            )
        self._assign([p for pair in zip(weights, biases) for p in pair])

    def copy(self, *, backend: str | ModuleType | None = None, device: Any = None,
             dtype: str | None = None) -> Sequential:
        """A new network with the same layers, loss and parameter values, optionally elsewhere."""
        clone = object.__new__(type(self))
        clone.__dict__.update({k: v for k, v in self.__dict__.items()})
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

    # --- shapes and inputs -------------------------------------------------------------

    @property
    def n_outputs(self) -> int:
        """Width of the output layer."""
        last = self.param_layers[-1]
        return last.n_out if isinstance(last, Dense) else last.out_channels

    @property
    def output_activation(self) -> str:
        """Name of the last activation (``"identity"`` if the network ends with a parametric layer)."""
        last = self.layers[-1]
        return last.name if isinstance(last, Activation) else "identity"

    @property
    def _fused(self) -> bool:
        return self.output_activation == self.loss_fn.canonical

    def _input(self, X: Any, name: str = "X") -> Any:
        X = _backend.to_backend(X, self.xp, device=self.device)
        if not self.xp.isdtype(X.dtype, ("real floating", "integral", "bool")):
            raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
        if X.ndim < 2:
            raise ValueError(f"{name} must have one row per sample (N, features), got shape {tuple(X.shape)}")
        shape = tuple(X.shape[1:])
        for layer in self.layers:
            shape = layer.output_shape(shape)
        return X if X.dtype == self.dtype else self.xp.astype(X, self.dtype)

    def _targets(self, Y: Any, n_rows: int) -> Any:
        Y = _backend.to_backend(Y, self.xp, device=self.device)
        if Y.shape[0] != n_rows:
            raise ValueError(f"X has {n_rows} rows but Y has {Y.shape[0]}; they must match")
        return self.loss_fn.encode_targets(Y, self.n_outputs, xp=self.xp, dtype=self.dtype)

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

    def _loss_and_gradients(self, X: Any, Y: Any, *, return_output: bool = False) -> tuple[Any, ...]:
        """The loss (0-d device array) and ``[dW1, db1, ...]`` (and ``A_L``), without leaving the device."""
        xp = self.xp
        A_L, loss, caches = self._forward_loss(X, Y)
        if self._fused:
            # dZ_L = (A_L - Y)/scale replaces the output activation's backward (if there is one)
            d = self.loss_fn.delta(A_L, Y, xp=xp)
        else:
            d = self.loss_fn.backward(A_L, Y, xp=xp)
        first = next(i for i, layer in enumerate(self.layers) if layer.params)
        grads: list[Any] = []
        for i in range(len(caches) - 1, first - 1, -1):
            d, g = self.layers[i].backward(d, caches[i], xp=xp, need_input_grad=i > first)
            caches[i] = None  # release this layer's activations as soon as they are used
            grads[:0] = g
        return (loss, grads, A_L) if return_output else (loss, grads)

    # --- public computations -----------------------------------------------------------

    def forward(self, X: Any) -> Any:
        """Output activations ``A_L``, shape ``(N, n_out)``, on the backend."""
        return self._forward(self._input(X))[0]

    def loss(self, X: Any, Y: Any) -> float:
        """The loss of the whole batch, as a Python float."""
        X = self._input(X)
        return float(self._forward_loss(X, self._targets(Y, X.shape[0]))[1])

    def gradients(self, X: Any, Y: Any) -> tuple[float, list[Any], list[Any]]:
        """``(loss, dW, db)``: the loss as a float and gradients mirroring ``weights``, ``biases``."""
        X = self._input(X)
        Y = self._targets(Y, X.shape[0])
        loss, grads = self._loss_and_gradients(X, Y)
        return float(loss), grads[0::2], grads[1::2]

    def fit(self, X: Any, Y: Any, epochs: int = 100, lr: float = 0.1, **options: Any) -> History:
        """Train by gradient descent; see :func:`xpbackprop.training.fit` for every option."""
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
        """Accuracy for classifiers (softmax/sigmoid output), R² otherwise."""
        X = self._input(X)
        Y = self._targets(Y, X.shape[0])
        A = self._forward(X)[0]
        if self.is_classifier:
            return float(accuracy(A, Y, self.output_activation, xp=self.xp))
        return float(r2_score(A, Y, xp=self.xp))

    # --- description ----------------------------------------------------------------------

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
        sizes = list(sizes)
        if len(sizes) < 2 or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes):
            raise ValueError(f"sizes must be at least two positive integers [n0, ..., nL], got {sizes!r}")
        n_hidden = len(sizes) - 2
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
