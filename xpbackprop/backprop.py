"""The engine: forward, backward, and loss with gradients, as pure functions over a list of layers.

A network is its layers (each holding its parameters) and a loss; these functions take them and
arrays on the backend, and return arrays: nothing is read back to the host, nothing is stored.
:class:`~xpbackprop.network.Sequential`, :class:`~xpbackprop.trainer.Trainer`,
:func:`~xpbackprop.training.fit` and the estimators all train through
:func:`loss_and_gradients`.

The forward pass keeps each layer's cache; the backward pass walks the layers in reverse. When
the output activation is the loss's canonical partner (softmax + cross-entropy, sigmoid + BCE,
identity + MSE), the loss's derivative and the activation's cancel to a difference
(notes 000 and 001 derive it): the backward pass starts from the fused
``dZ_L = (A_L - Y) / m`` and skips the output activation's own backward.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .layers import Activation

__all__ = [
    "assign",
    "backward",
    "forward",
    "forward_loss",
    "fused",
    "loss_and_gradients",
    "output_activation",
    "parameters",
]


def parameters(layers: Sequence[Any]) -> list[Any]:
    """``[W1, b1, W2, b2, ...]``: every parametric layer's parameters, in order."""
    return [getattr(layer, name) for layer in layers for name in layer.params]


def assign(layers: Sequence[Any], flat: Sequence[Any]) -> None:
    """Give the layers the parameters ``flat`` (in :func:`parameters` order), as they are."""
    it = iter(flat)
    for layer in layers:
        for name in layer.params:
            setattr(layer, name, next(it))


def output_activation(layers: Sequence[Any]) -> str:
    """Name of the last activation (``"identity"`` for a network that ends with a parametric layer)."""
    last = layers[-1]
    return last.name if isinstance(last, Activation) else "identity"


def fused(layers: Sequence[Any], loss: Any) -> bool:
    """Whether the output activation is the loss's canonical partner: ``dZ_L = (A_L - Y)/m``."""
    return output_activation(layers) == loss.canonical


def forward(layers: Sequence[Any], X: Any, /, *, xp: Any,
            masks: Sequence[Any] | None = None) -> tuple[Any, list[Any]]:
    """``A = layer(A)`` for each layer in turn, from ``A = X``: the output and each layer's cache.

    ``masks``: a training step's noise, one entry per layer (``None`` where a layer takes none;
    :func:`xpbackprop.masks.draw_masks`); without it a Dropout layer is the identity."""
    A, caches = X, []
    for i, layer in enumerate(layers):
        if masks is not None and masks[i] is not None:
            A, cache = layer.forward(A, xp=xp, mask=masks[i])
        else:
            A, cache = layer.forward(A, xp=xp)
        caches.append(cache)
    return A, caches


def forward_loss(layers: Sequence[Any], loss: Any, X: Any, Y: Any, /, *,
                 xp: Any, weights: Any = None,
                 masks: Sequence[Any] | None = None) -> tuple[Any, Any, list[Any]]:
    """``(A_L, J, caches)``. With the canonical output the activation and the loss are computed
    together from the logits ``Z_L`` (log-sum-exp and softplus forms: finite for any logit).
    ``weights``: per-sample weights ``(N,)`` of the loss (see :mod:`xpbackprop.losses`)."""
    extra = {} if weights is None else {"weights": weights}  # a Loss of one's own may take none
    if fused(layers, loss) and isinstance(layers[-1], Activation):
        Z_L, caches = forward(layers[:-1], X, xp=xp, masks=masks)
        A_L, J = loss.forward_value(Z_L, Y, xp=xp, **extra)
        return A_L, J, caches
    A_L, caches = forward(layers, X, xp=xp, masks=masks)
    return A_L, loss.value(A_L, Y, xp=xp, **extra), caches


def backward(layers: Sequence[Any], caches: list[Any], dZ: Any, /, *, xp: Any, top: int) -> list[Any]:
    """``[dW1, db1, ...]`` from ``dZ``, the gradient with respect to the output of ``layers[top - 1]``:
    each layer from ``top - 1`` down turns the gradient of its output into its parameters' gradients
    and the gradient of its input (not computed below the first parametric layer). Each cache is
    released as soon as it is used."""
    first = next(i for i, layer in enumerate(layers) if layer.params)
    grads: list[Any] = []
    d = dZ
    for i in range(top - 1, first - 1, -1):
        d, g = layers[i].backward(d, caches[i], xp=xp, need_input_grad=i > first)
        caches[i] = None
        grads[:0] = g
    return grads


def loss_and_gradients(layers: Sequence[Any], loss: Any, X: Any, Y: Any, /, *, xp: Any,
                       multiplier: float = 1.0, weights: Any = None,
                       masks: Sequence[Any] | None = None) -> tuple[Any, list[Any], Any]:
    """``(J, [c·dW1, c·db1, ...], A_L)``: the loss (a 0-d array) and the gradients of ``c J``.

    ``multiplier`` is ``c``: the gradient of ``c J`` is ``c ∇J``, and the backward pass is linear in
    the output delta, so ``c`` is applied once, to ``dZ_L`` (a Trainer passes ``-η`` for SGD, whose
    update then is ``θ + u`` with the steps ``u = -η g``; see :mod:`xpbackprop.optimizers`).
    ``weights``: per-sample weights ``(N,)`` on the device; ``J`` is then ``Σ w_i l_i / Σ w_i``
    (``Σ w_i l_i`` for a ``"sum"`` loss), and its gradients follow (the output delta's rows carry
    ``w_i / Σ w``): integer weights give the loss and gradients of the repeated rows.
    ``masks``: the step's dropout masks (:func:`forward`); the backward pass reads them from the caches.
    """
    extra = {} if weights is None else {"weights": weights}
    A_L, J, caches = forward_loss(layers, loss, X, Y, xp=xp, masks=masks, **extra)
    if fused(layers, loss):
        # dZ_L = c (A_L - Y)/m replaces the output activation's backward (if there is one)
        d = loss.delta(A_L, Y, xp=xp, multiplier=multiplier, **extra)
        top = len(layers) - (1 if isinstance(layers[-1], Activation) else 0)
    else:
        d = loss.backward(A_L, Y, xp=xp, **extra)
        d = d if multiplier == 1.0 else d * multiplier
        top = len(layers)
    return J, backward(layers, caches, d, xp=xp, top=top), A_L
