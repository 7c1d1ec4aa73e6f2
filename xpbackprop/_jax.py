"""The JAX backend's adapter: a compiled forward and backward pass, and a compiled optimizer update.

JAX runs array operations one at a time unless a function is compiled with ``jax.jit``; a training
step is some forty small operations, each a separate dispatch. :func:`compiled_loss_and_gradients`
traces the engine itself (:func:`xpbackprop.backprop.loss_and_gradients`: the same formulas,
nothing rewritten) once per batch shape. The parameters are arguments of the compiled function,
so updating them never triggers a new trace.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["compiled_loss_and_gradients", "compiled_update"]

#: network -> (namespace, structure, compiled function): every Trainer of a network, one per ``fit``
#: call, reuses the traces
_STEPS: weakref.WeakKeyDictionary[Any, tuple[Any, str, Callable[..., Any]]] = weakref.WeakKeyDictionary()
#: (optimizer type, configuration, decay mask, namespace) -> compiled update, for the built-in optimizers
_UPDATES: dict[Any, Callable[..., tuple[Any, Any]]] = {}


def _store(layers: list[Any], flat: list[Any]) -> None:
    it = iter(flat)
    for layer in layers:
        for name in layer.params:
            setattr(layer, name, next(it))


def compiled_loss_and_gradients(net: Any, engine: Callable[..., Any]) -> Callable[..., tuple[Any, ...]]:
    """``f(X, Y, multiplier, weights=None, masks=None)`` -> ``(J, gradients of multiplier·J, A_L)``:
    ``engine`` over ``net``'s layers and loss, compiled. Compiled again only when the network's layers
    or loss change (or for a new batch shape, as JAX does)."""
    structure = _structure(net)
    cached = _STEPS.get(net)
    if cached is not None and cached[0] is net.xp and cached[1] == structure:
        return cached[2]
    import jax

    layers, loss, xp = list(net.layers), net.loss_fn, net.xp

    def pure(params: list[Any], X: Any, Y: Any, multiplier: Any, weights: Any,
             masks: list[Any] | None) -> tuple[Any, list[Any], Any]:
        saved = net.parameters
        _store(layers, params)  # the traced parameters, for the duration of the trace only
        try:
            # dropout masks are arguments: a new draw each step, no new trace
            J, grads, A_L = engine(layers, loss, X, Y, xp=xp, weights=weights, masks=masks)
        finally:
            _store(layers, saved)
        # the multiplier (SGD's -η) is traced, so a new rate needs no new compilation
        return J, [g * multiplier for g in grads], A_L

    compiled = jax.jit(pure)

    def loss_and_gradients(X: Any, Y: Any, multiplier: float = 1.0,
                           weights: Any = None, masks: list[Any] | None = None) -> tuple[Any, list[Any], Any]:
        return compiled(net.parameters, X, Y, multiplier, weights, masks)

    _STEPS[net] = (net.xp, structure, loss_and_gradients)
    return loss_and_gradients


def _structure(net: Any) -> str:
    """What a trace of ``net``'s step depends on besides array shapes: its layers and loss."""
    return repr(([type(layer).__name__ for layer in net.layers], [layer.config() for layer in net.layers],
                 type(net.loss_fn).__name__, net.loss_fn.config()))


def compiled_update(optimizer: Any, decay: list[bool], xp: Any) -> Callable[..., tuple[Any, Any]]:
    """``f(params, grads, state, lr, weight_decay)`` -> ``(params, state)``: the L2 term
    (``decay[i]``: whether parameter ``i`` is a weight) and the optimizer's update, with its array
    part (:meth:`~xpbackprop.optimizers.Optimizer.apply`) compiled.

    The host part (:meth:`~xpbackprop.optimizers.Optimizer.split`: the rate, Adam's step count and
    bias corrections) stays in Python, so its scalars are computed in float64 as on every other
    backend and enter the compiled function as arguments: a new step or rate needs no new trace.
    The arrays are not donated: the epoch's starting snapshot may share them. For a linear
    optimizer (SGD) ``grads`` are the steps ``-η g`` and the L2 term enters as ``-η·wd·W``.

    For the built-in optimizers, whose ``config()`` names every hyper-parameter, one compiled update
    serves every Trainer with the same configuration.
    """
    from .optimizers import SGD, Adam, with_weight_decay

    key = None
    if type(optimizer) in (SGD, Adam):
        # a shared update keeps its own copy: later changes to this optimizer object must not reach
        # the other Trainers it serves
        optimizer = copy.deepcopy(optimizer)
        key = (type(optimizer), tuple(sorted(optimizer.config().items())), tuple(decay), xp)
        if key in _UPDATES:
            return _UPDATES[key]
    import jax

    def pure(params: list[Any], grads: list[Any], arrays: list[Any], scalars: tuple[Any, ...],
             wd: Any) -> tuple[list[Any], list[Any]]:
        if wd is not None:
            grads = with_weight_decay(grads, params, decay, -scalars[0] * wd if optimizer.linear else wd)
        return optimizer.apply(params, grads, arrays, scalars, xp=xp)

    compiled = jax.jit(pure)

    def update(params: list[Any], grads: list[Any], state: list[Any], lr: float,
               weight_decay: float) -> tuple[list[Any], list[Any]]:
        scalars, arrays, host = optimizer.split(state, lr)
        params, arrays = compiled(params, grads, arrays, scalars, weight_decay or None)
        return params, [*arrays, *host]

    if key is not None:
        if len(_UPDATES) >= 64:
            _UPDATES.pop(next(iter(_UPDATES)))
        _UPDATES[key] = update
    return update
