"""Layers: pure forward / backward formulas and the thin objects that hold their parameters.

Layout is batch first (rows are samples). Each layer object has

- ``forward(A_prev, /, *, xp) -> (A, cache)``
- ``backward(dA, cache, /, *, xp, need_input_grad=True) -> (dA_prev, grads)``

where ``grads`` mirrors ``params`` (``("W", "b")`` for the parametric layers, ``()``
otherwise). A layer that draws noise in training (``Dropout``: ``stochastic`` is true) also
takes ``forward(A_prev, xp=xp, mask=M)``, the noise drawn for it on the host
(:mod:`xpbackprop.masks`); without a mask it is the identity. The network strings them
together; nothing here imports NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from array_api_compat import device as _device

from . import fast
from .activations import FORMULAS, OUTPUT_DERIVATIVE, get_activation
from .checks import check_integer

__all__ = [
    "Activation",
    "Conv1D",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "conv1d_backward",
    "conv1d_forward",
    "dense_backward",
    "dense_forward",
    "fixed_output",
    "get_layer",
    "shape_after",
]


# --- formulas ------------------------------------------------------------------------


def dense_forward(A_prev, W, b, /, *, xp):
    """Z = A_prev W + b."""
    return A_prev @ W + b


def dense_backward(dZ, A_prev, W, /, *, xp, need_dA=True):
    """dW = A_prevᵀ dZ,  db = Σ_rows dZ,  dA_prev = dZ Wᵀ (skipped for the first layer)."""
    dW = A_prev.T @ dZ
    db = xp.sum(dZ, axis=0)
    dA_prev = dZ @ W.T if need_dA else None
    return dA_prev, dW, db


def _window_index(length, kernel_size, /, *, xp, device):
    """Flat indices (j·K + k ↦ j + k) of the L_out = L - K + 1 windows of a length-L signal."""
    l_out = length - kernel_size + 1
    starts = xp.arange(l_out, device=device)
    offsets = xp.arange(kernel_size, device=device)
    return xp.reshape(starts[:, None] + offsets[None, :], (-1,))


def conv1d_forward(X, W, b, /, *, xp):
    """Z[n, o, j] = Σ_c Σ_k W[o, c, k] X[n, c, j + k] + b[o], as one unfold and one matmul.

    Returns ``(Z, cols)``: the ``(N·L_out, C·K)`` matrix of windows is the cache the
    backward pass needs for ``dW``.
    """
    n, c, length = X.shape
    c_out, _, k = W.shape
    l_out = length - k + 1
    index = _window_index(length, k, xp=xp, device=_device(X))
    windows = xp.reshape(xp.take(X, index, axis=2), (n, c, l_out, k))
    cols = xp.reshape(xp.permute_dims(windows, (0, 2, 1, 3)), (n * l_out, c * k))
    Z = cols @ xp.reshape(W, (c_out, c * k)).T + b
    return xp.permute_dims(xp.reshape(Z, (n, l_out, c_out)), (0, 2, 1)), cols


def conv1d_backward(dZ, cols, W, /, *, xp, need_dX=True):
    """dW = dZᵀ cols,  db = Σ dZ,  dX = fold(dZ W): each window's gradient added back at its offset."""
    n, c_out, l_out = dZ.shape
    _, c, k = W.shape
    dZ2 = xp.reshape(xp.permute_dims(dZ, (0, 2, 1)), (n * l_out, c_out))
    dW = xp.reshape(dZ2.T @ cols, W.shape)
    db = xp.sum(dZ2, axis=0)
    if not need_dX:
        return None, dW, db
    dcols = xp.reshape(dZ2 @ xp.reshape(W, (c_out, c * k)), (n, l_out, c, k))
    dcols = xp.permute_dims(dcols, (0, 2, 3, 1))  # (N, C, K, L_out)
    dX = None
    for offset in range(k):
        # window position j, kernel tap `offset` touches input position j + offset
        pieces = [dcols[:, :, offset, :]]
        if offset:
            pieces.insert(0, xp.zeros((n, c, offset), dtype=dZ.dtype, device=_device(dZ)))
        if k - 1 - offset:
            pieces.append(xp.zeros((n, c, k - 1 - offset), dtype=dZ.dtype, device=_device(dZ)))
        term = xp.concat(pieces, axis=2) if len(pieces) > 1 else pieces[0]
        dX = term if dX is None else dX + term
    return dX, dW, db


# --- layer objects ---------------------------------------------------------------------


class Layer:
    """Base class. Parametric layers list their parameter names in ``params``."""

    params: tuple[str, ...] = ()
    #: whether the layer takes a ``mask`` drawn for each training step (:class:`Dropout`)
    stochastic: ClassVar[bool] = False
    #: the equations in the notes' notation (``net.summary()`` prints them): the forward pass,
    #: the parameter gradients, and the input gradient (not computed for the first parametric layer)
    formulas: ClassVar[dict[str, tuple[str, ...]]] = {"forward": (), "grads": (), "input_grad": ()}

    def forward(self, A_prev, /, *, xp):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, dA, cache, /, *, xp, need_input_grad=True):  # pragma: no cover
        raise NotImplementedError

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one sample's output given one sample's input shape."""
        return input_shape

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the parameters, by name."""
        return {}

    def config(self) -> dict[str, Any]:
        """Constructor arguments (with ``"type"``), to rebuild the layer via :func:`get_layer`."""
        return {"type": type(self).__name__}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"


class Dense(Layer):
    """Fully connected layer: ``Z = A_prev W + b`` with ``W (n_in, n_out)``, ``b (n_out,)``."""

    params = ("W", "b")
    formulas: ClassVar[dict[str, tuple[str, ...]]] = {
        "forward": ("Z = A_prev W + b",),
        "grads": ("dW = A_prevᵀ dZ", "db = Σ_rows dZ"),
        "input_grad": ("dA_prev = dZ Wᵀ",),
    }

    def __init__(self, n_in: int, n_out: int) -> None:
        # TypeError for a non-integer (2.0, True), ValueError below 1
        n_in, n_out = check_integer("Dense n_in", n_in), check_integer("Dense n_out", n_out)
        self.n_in, self.n_out = n_in, n_out
        self.W: Any = None
        self.b: Any = None

    def forward(self, A_prev, /, *, xp):
        return fast.lookup(xp, dense_forward)(A_prev, self.W, self.b, xp=xp), A_prev

    def backward(self, dZ, A_prev, /, *, xp, need_input_grad=True):
        dA_prev, dW, db = fast.lookup(xp, dense_backward)(dZ, A_prev, self.W, xp=xp,
                                                           need_dA=need_input_grad)
        return dA_prev, (dW, db)

    def output_shape(self, input_shape):
        if tuple(input_shape) != (self.n_in,):
            raise ValueError(
                f"Dense({self.n_in}, {self.n_out}) expects {self.n_in} input features, "
                f"got samples of shape {tuple(input_shape)}"
            )
        return (self.n_out,)

    def param_shapes(self):
        return {"W": (self.n_in, self.n_out), "b": (self.n_out,)}

    def config(self):
        return {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out}


class Activation(Layer):
    """Elementwise ``A = phi(Z)`` by name (see :data:`xpbackprop.activations.ACTIVATIONS`)."""

    def __init__(self, name: str) -> None:
        self.name, (self._forward, self._backward) = get_activation(name)
        self._keeps_input = self.name not in OUTPUT_DERIVATIVE

    @property
    def formulas(self) -> dict[str, tuple[str, ...]]:  # type: ignore[override]
        forward, backward = FORMULAS[self.name]
        return {"forward": (forward,), "grads": (), "input_grad": (backward,)}

    def forward(self, Z, /, *, xp):
        A = fast.lookup(xp, self._forward)(Z, xp=xp)
        # the cache holds Z only where the derivative needs it (gelu, softplus): less memory
        return A, (Z if self._keeps_input else None, A)

    def backward(self, dA, cache, /, *, xp, need_input_grad=True):
        Z, A = cache
        return fast.lookup(xp, self._backward)(dA, Z, A, xp=xp), ()

    def config(self):
        return {"type": "Activation", "name": self.name}


class Conv1D(Layer):
    """1-d convolution (cross-correlation), valid, stride 1: weights shared across positions.

    ``W (out_channels, in_channels, kernel_size)``, ``b (out_channels,)``; input
    ``(N, C, L)``, or ``(N, L)`` when ``in_channels == 1``; output ``(N, C_out, L - K + 1)``.
    """

    params = ("W", "b")
    formulas: ClassVar[dict[str, tuple[str, ...]]] = {
        "forward": ("Z[n,o,j] = Σ_c Σ_k W[o,c,k] A_prev[n,c,j+k] + b[o]",),
        "grads": ("dW[o,c,k] = Σ_n Σ_j dZ[n,o,j] A_prev[n,c,j+k]", "db[o] = Σ_n Σ_j dZ[n,o,j]"),
        "input_grad": ("dA_prev[n,c,j+k] += Σ_o W[o,c,k] dZ[n,o,j]",),
    }

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        # TypeError for a non-integer (2.5, True), ValueError below 1
        in_channels, out_channels, kernel_size = (
            check_integer(f"Conv1D {name}", value)
            for name, value in (
                ("in_channels", in_channels),
                ("out_channels", out_channels),
                ("kernel_size", kernel_size),
            )
        )
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.W: Any = None
        self.b: Any = None

    def _as_channels(self, X, /, *, xp):
        return xp.reshape(X, (X.shape[0], 1, X.shape[1])) if X.ndim == 2 else X

    def forward(self, X, /, *, xp):
        X3 = self._as_channels(X, xp=xp)
        Z, cols = conv1d_forward(X3, self.W, self.b, xp=xp)
        return Z, (cols, X.shape)

    def backward(self, dZ, cache, /, *, xp, need_input_grad=True):
        cols, in_shape = cache
        dX, dW, db = conv1d_backward(dZ, cols, self.W, xp=xp, need_dX=need_input_grad)
        if dX is not None and len(in_shape) == 2:
            dX = xp.reshape(dX, in_shape)
        return dX, (dW, db)

    def output_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) == 1 and self.in_channels == 1:
            shape = (1, *shape)
        if len(shape) != 2 or shape[0] != self.in_channels or shape[1] < self.kernel_size:
            raise ValueError(
                f"Conv1D({self.in_channels}, {self.out_channels}, {self.kernel_size}) expects "
                f"samples of shape ({self.in_channels}, L >= {self.kernel_size})"
                + (" or (L,)" if self.in_channels == 1 else "")
                + f", got {tuple(input_shape)}"
            )
        return (self.out_channels, shape[1] - self.kernel_size + 1)

    def param_shapes(self):
        return {
            "W": (self.out_channels, self.in_channels, self.kernel_size),
            "b": (self.out_channels,),
        }

    def config(self):
        return {
            "type": "Conv1D",
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": self.kernel_size,
        }


class Flatten(Layer):
    """Row-major flattening of each sample: ``(N, C, L) -> (N, C·L)``, channel 0's positions first."""

    formulas: ClassVar[dict[str, tuple[str, ...]]] = {
        "forward": ("A = reshape(A_prev, (N, C·L))",),
        "grads": (),
        "input_grad": ("dA_prev = reshape(dA, (N, C, L))",),
    }

    def forward(self, X, /, *, xp):
        return xp.reshape(X, (X.shape[0], -1)), X.shape

    def backward(self, dA, in_shape, /, *, xp, need_input_grad=True):
        return xp.reshape(dA, in_shape), ()

    def output_shape(self, input_shape):
        size = 1
        for s in input_shape:
            size *= s
        return (size,)


class Dropout(Layer):
    """Inverted dropout: in training each input entry is kept with probability ``1 - rate`` and
    scaled by ``1 / (1 - rate)``, so that its expected value is unchanged; otherwise the identity.

    The mask ``M = [U ≥ rate] / (1 - rate)`` (``U`` uniform on [0, 1)) is drawn on the host from
    the network's seeded generator for each training step (:mod:`xpbackprop.masks`) and passed to
    :meth:`forward`: the same seed draws the same masks on every backend. ``forward`` without a
    mask (prediction, ``net.loss``, ``net.gradients``, validation) leaves its input as it is.
    """

    stochastic: ClassVar[bool] = True
    formulas: ClassVar[dict[str, tuple[str, ...]]] = {
        "forward": ("A ← A ⊙ M   (training: M = [U ≥ p] / (1 − p), U uniform on [0, 1); "
                    "predicting: A as it is)",),
        "grads": (),
        "input_grad": ("dA ← dA ⊙ M",),
    }

    def __init__(self, rate: float) -> None:
        # a bool or a string is a TypeError; NaN and values outside [0, 1) a ValueError
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            raise TypeError(f"Dropout rate must be a number in [0, 1), got {type(rate).__name__} {rate!r}")
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must lie in [0, 1) (the fraction of entries dropped), "
                             f"got {rate!r}")
        self.rate = float(rate)

    def forward(self, A_prev, /, *, xp, mask=None):
        if mask is None:
            return A_prev, None
        return A_prev * mask, mask

    def backward(self, dA, mask, /, *, xp, need_input_grad=True):
        return (dA if mask is None else dA * mask), ()

    def config(self):
        return {"type": "Dropout", "rate": self.rate}


_LAYER_TYPES = {cls.__name__: cls for cls in (Dense, Activation, Conv1D, Flatten, Dropout)}


def shape_after(layers: Sequence[Layer], shape: tuple[int, ...]) -> tuple[int, ...]:
    """One sample's shape after ``layers``, from ``shape`` before them (``ValueError`` where a layer
    does not take its input)."""
    for layer in layers:
        shape = layer.output_shape(shape)
    return tuple(shape)


def fixed_output(layers: Sequence[Layer]) -> tuple[tuple[int, ...], list[Layer]] | None:
    """``((n_out,), layers after it)`` of the last Dense layer, which fixes the output's size
    whatever the input's length, or ``None`` without one."""
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if isinstance(layer, Dense):
            return (layer.n_out,), list(layers[i + 1:])
    return None


def get_layer(config: dict[str, Any]) -> Layer:
    """Rebuild a layer from its :meth:`Layer.config`."""
    kwargs = dict(config)
    kind = kwargs.pop("type", None)
    if kind not in _LAYER_TYPES:
        raise ValueError(f"unknown layer type {kind!r}; valid types are {sorted(_LAYER_TYPES)}")
    return _LAYER_TYPES[kind](**kwargs)
