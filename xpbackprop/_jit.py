"""A compiled forward and backward pass, and a compiled optimizer update, for the JAX backend.

JAX runs array operations one at a time unless a function is compiled with
``jax.jit``; a training step is some forty small operations, each a separate
dispatch. :func:`compiled_loss_and_gradients` traces the network's own
``_loss_and_gradients`` (the same formulas, nothing rewritten) once per batch shape
and returns a function with its signature. The parameters are arguments of the
compiled function, so updating them never triggers a new trace.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

__all__ = ["compiled_loss_and_gradients", "compiled_update"]


def compiled_loss_and_gradients(net: Any) -> Callable[..., tuple[Any, ...]]:
    """``f(X, Y, *, return_output=False, factor=1.0)`` like ``net._loss_and_gradients``, compiled.

    Kept on the network (for its namespace and structure: layers and loss), so that every Trainer
    of it, one per ``fit`` call, reuses the traces instead of compiling again, and none runs a
    trace of layers or a loss the network no longer has (JAX traces again only for new shapes).
    """
    structure = _structure(net)
    cached = net.__dict__.get("_compiled_loss_and_gradients")
    if cached is not None and cached[0] is net.xp and cached[1] == structure:
        return cached[2]
    import jax

    traces = [0]  # how many times jax traced this function (its Python body runs only then)

    def pure(params: list[Any], X: Any, Y: Any, factor: Any) -> tuple[Any, list[Any], Any]:
        traces[0] += 1
        saved = net.parameters
        net._store(params)  # the traced parameters, for the duration of the trace only
        try:
            loss, grads, A_L = net._loss_and_gradients(X, Y, return_output=True)
        finally:
            net._store(saved)
        # the factor (SGD's learning rate) is traced, so a new rate needs no new compilation
        return loss, [g * factor for g in grads], A_L

    compiled = jax.jit(pure)

    def loss_and_gradients(X: Any, Y: Any, *, return_output: bool = False,
                           factor: float = 1.0) -> tuple[Any, ...]:
        loss, grads, A_L = compiled(net.parameters, X, Y, factor)
        return (loss, grads, A_L) if return_output else (loss, grads)

    loss_and_gradients.compiled = compiled  # type: ignore[attr-defined]  # (its trace cache, for tests)
    loss_and_gradients.traces = traces  # type: ignore[attr-defined]
    net._compiled_loss_and_gradients = (net.xp, structure, loss_and_gradients)
    return loss_and_gradients


def _structure(net: Any) -> str:
    """What a trace of ``net``'s step depends on besides array shapes: its layers and loss."""
    return repr(([type(layer).__name__ for layer in net.layers], [layer.config() for layer in net.layers],
                 type(net.loss_fn).__name__, net.loss_fn.config()))


def compiled_update(optimizer: Any, decay: list[bool], xp: Any) -> Callable[..., tuple[Any, Any]]:
    """``f(params, grads, state, lr, weight_decay)`` -> ``(params, state)``: the L2 term on the
    gradients (``decay[i]``: whether parameter ``i`` is a weight) and ``optimizer.update``, with
    its array part (:meth:`~xpbackprop.optimizers.Optimizer.apply`) compiled.

    The host part (:meth:`~xpbackprop.optimizers.Optimizer.split`: the learning rate, Adam's step
    count and bias corrections) stays in Python, so its scalars are computed in float64 as on every
    other backend and enter the compiled function as arguments: a new step or rate needs no new
    trace. The arrays are not donated: the epoch's starting snapshot may share them.

    For the built-in optimizers, whose ``config()`` names every hyper-parameter, one compiled
    update serves every Trainer with the same configuration (a ``fit`` call makes a new one).
    """
    from .optimizers import SGD, Adam, with_weight_decay

    key = None
    if type(optimizer) in (SGD, Adam):
        # a shared update keeps its own copy: later changes to this optimizer object must not reach
        # the other Trainers it serves (a Trainer whose optimizer's configuration changes gets a
        # new update: Trainer._step)
        optimizer = copy.deepcopy(optimizer)
        key = (type(optimizer), tuple(sorted(optimizer.config().items())), tuple(decay), xp)
        if key in _UPDATES:
            return _UPDATES[key]
    import jax

    traces = [0]

    def pure(params: list[Any], grads: list[Any], arrays: list[Any], scalars: tuple[Any, ...],
             wd: Any) -> tuple[list[Any], list[Any]]:
        traces[0] += 1
        if wd is not None:
            grads = with_weight_decay(grads, params, decay, wd)
        return optimizer.apply(params, grads, arrays, scalars, xp=xp)

    compiled = jax.jit(pure)

    def update(params: list[Any], grads: list[Any], state: list[Any], lr: float,
               weight_decay: float) -> tuple[list[Any], list[Any]]:
        scalars, arrays, host = optimizer.split(state, lr)
        params, arrays = compiled(params, grads, arrays, scalars, weight_decay or None)
        return params, [*arrays, *host]

    update.compiled = compiled  # type: ignore[attr-defined]  # (its trace cache, for tests)
    update.traces = traces  # type: ignore[attr-defined]
    if key is not None:
        if len(_UPDATES) >= 64:
            _UPDATES.pop(next(iter(_UPDATES)))
        _UPDATES[key] = update
    return update


_UPDATES: dict[Any, Callable[..., tuple[Any, Any]]] = {}
