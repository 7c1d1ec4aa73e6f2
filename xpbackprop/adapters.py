"""Backend adapters: what a backend needs around the library's plain code (and nothing else does).

The formulas, the engine, the optimizers and the training loop are written once against the
array API; where a backend needs something more, it is here, in one adapter per backend:

- NumPy: a training step frees its arrays and allocates them again, so the first
  :class:`~xpbackprop.trainer.Trainer` keeps the freed heap (:mod:`xpbackprop._malloc`).
- JAX: the step's forward and backward pass and the optimizer's update run compiled with
  ``jax.jit`` (:mod:`xpbackprop._jax`), one dispatch instead of dozens.
- Dask: an input of Dask's own is rechunked so that each sample lies in one chunk, each step's
  results are persisted together, so the next step's graph starts from them
  (:mod:`xpbackprop._dask`), and a result of a data-dependent size (the distinct labels) is
  computed so that its shape is known.
- CuPy: array-api-compat's CuPy namespace creates arrays on the *current* device whatever
  ``device=`` says, so every step and public call runs inside the network's device context.

Other backends (PyTorch, array-api-strict) need nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from . import backend as _backend

__all__ = ["Adapter", "for_backend", "for_namespace"]

_NOTHING = nullcontext()


class Adapter:
    """The default: nothing around the plain code."""

    def own_input(self, x: Any, name: str) -> Any:
        """An array of the backend's own library, as the network takes it."""
        return x

    def scope(self, net: Any) -> AbstractContextManager[Any]:
        """A context in which arrays created without an explicit device land on the network's."""
        return _NOTHING

    def compiled_loss_and_gradients(self, net: Any, engine: Callable[..., Any]) -> Callable[..., Any] | None:
        """``engine`` over ``net``'s layers and loss compiled, or ``None`` (run it as it is)."""
        return None

    def compiled_update(self, optimizer: Any, decay: list[bool], xp: Any) -> Callable[..., Any] | None:
        """The optimizer's array update compiled, or ``None``."""
        return None

    def settle(self, *values: Any) -> tuple[Any, ...]:
        """A step's results (parameters, state, loss), made concrete where the backend is lazy."""
        return values

    def known_shape(self, x: Any) -> Any:
        """``x`` with its shape known: a lazy backend's result of a data-dependent size (distinct
        values) computed; every other backend's as it is."""
        return x

    def trainer_started(self) -> None:
        """Called when a Trainer is made."""


class _NumPy(Adapter):
    def trainer_started(self) -> None:
        from ._malloc import keep_heap_top

        keep_heap_top()


class _Jax(Adapter):
    def compiled_loss_and_gradients(self, net: Any, engine: Callable[..., Any]) -> Callable[..., Any] | None:
        from ._jax import compiled_loss_and_gradients

        return compiled_loss_and_gradients(net, engine)

    def compiled_update(self, optimizer: Any, decay: list[bool], xp: Any) -> Callable[..., Any] | None:
        from ._jax import compiled_update

        return compiled_update(optimizer, decay, xp)


class _Dask(Adapter):
    def own_input(self, x: Any, name: str) -> Any:
        from ._dask import whole_samples

        return whole_samples(x, name)

    def settle(self, *values: Any) -> tuple[Any, ...]:
        from ._dask import persist

        return persist(*values)

    def known_shape(self, x: Any) -> Any:
        x = x.persist()
        x.compute_chunk_sizes()  # Dask leaves a data-dependent size unknown until computed
        return x


class _CuPy(Adapter):
    def scope(self, net: Any) -> AbstractContextManager[Any]:
        import cupy

        device = net.device if net.device is not None else _backend.device_of(net.parameters[0])
        return cupy.cuda.Device(device)


_ADAPTERS: dict[str, Adapter] = {"numpy": _NumPy(), "jax": _Jax(), "dask": _Dask(), "cupy": _CuPy()}
_DEFAULT = Adapter()


def for_backend(name: str) -> Adapter:
    """The adapter of the backend named ``name`` (one of :data:`xpbackprop.backend.BACKENDS`)."""
    return _ADAPTERS.get(name, _DEFAULT)


def for_namespace(xp: Any) -> Adapter:
    """The adapter of the backend whose namespace is ``xp``."""
    return for_backend(_backend.backend_name(xp))
