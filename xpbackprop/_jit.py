"""A compiled forward and backward pass for the JAX backend.

JAX runs array operations one at a time unless a function is compiled with
``jax.jit``; a training step is some forty small operations, each a separate
dispatch. :func:`compiled_loss_and_gradients` traces the network's own
``_loss_and_gradients`` (the same formulas, nothing rewritten) once per batch shape
and returns a function with its signature. The parameters are arguments of the
compiled function, so updating them never triggers a new trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["compiled_loss_and_gradients"]


def compiled_loss_and_gradients(net: Any) -> Callable[..., tuple[Any, ...]]:
    """``f(X, Y, *, return_output=False, factor=1.0)`` like ``net._loss_and_gradients``, compiled."""
    import jax

    def pure(params: list[Any], X: Any, Y: Any, factor: Any) -> tuple[Any, list[Any], Any]:
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
    return loss_and_gradients
