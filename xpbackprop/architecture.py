"""Checks of a network as a whole, made by its constructor before anything is allocated.

- An MLP's sizes and activation names (:func:`mlp_layers` builds its parameter-free layers).
- Its Dense layers chain: each one's ``n_in`` is the ``n_out`` of the Dense layer before it.
- Its output suits its loss: cross-entropy and binary cross-entropy take the logarithm of the
  output, so they need an output confined to (0, 1), a softmax or a sigmoid
  (:data:`VALID_PAIRS`); mean squared error takes any output.
- It fits in memory: on a backend whose arrays live in the machine's main memory (NumPy,
  array-api-strict, Dask, the CPU devices of PyTorch and JAX), the parameters, their gradients
  and an optimizer's state (:data:`TRAINING_COPIES` arrays of every parameter's size) must not
  exceed the machine's physical memory. The environment variable ``XPBACKPROP_MEMORY_LIMIT``
  overrides that limit: a number of bytes to hold networks to instead, or ``off`` for no check.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from typing import Any

from .layers import Activation, Dense, Layer

__all__ = [
    "MEMORY_VARIABLE",
    "TRAINING_COPIES",
    "VALID_PAIRS",
    "check_dense_chain",
    "check_memory",
    "check_output_and_loss",
    "count_parameters",
    "memory_limit",
    "mlp_layers",
    "output_range_activation",
]

#: loss name -> the output activations it accepts (a loss not listed accepts any output)
VALID_PAIRS: dict[str, tuple[str, ...]] = {"cross_entropy": ("softmax", "sigmoid"),
                                           "bce": ("softmax", "sigmoid")}
#: the environment variable that overrides the memory limit (bytes, or "off")
MEMORY_VARIABLE = "XPBACKPROP_MEMORY_LIMIT"
#: arrays of the parameters' size that training keeps: parameters, gradients, Adam's two moments
TRAINING_COPIES = 4


def mlp_layers(sizes: Any, hidden: Any, output: Any) -> tuple[list[int], list[Layer]]:
    """``(sizes, [Dense, Activation, ...])`` of an MLP, checked: ``sizes`` at least two positive
    integers, ``hidden`` one activation name or one per hidden layer (a name is checked even where
    there is no hidden layer to take it), ``output`` an activation name."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a list of at least two positive integers [n0, ..., nL], "
                        f"got {type(sizes).__name__} {sizes!r}")
    sizes = list(sizes)
    if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) for n in sizes):
        raise TypeError(f"sizes must be at least two positive integers [n0, ..., nL], got {sizes!r}")
    if len(sizes) < 2 or any(n < 1 for n in sizes):
        raise ValueError(f"sizes must be at least two positive integers [n0, ..., nL], got {sizes!r}")
    sizes = [int(n) for n in sizes]
    n_hidden = len(sizes) - 2
    if not isinstance(hidden, (str, Sequence)):
        raise TypeError(f"hidden must be an activation name or a list of names, "
                        f"got {type(hidden).__name__} {hidden!r}")
    if isinstance(hidden, str):
        Activation(hidden)
    hidden_list = [hidden] * n_hidden if isinstance(hidden, str) else list(hidden)
    if len(hidden_list) != n_hidden:
        raise ValueError(f"hidden lists {len(hidden_list)} activations but sizes {sizes} has {n_hidden} "
                         "hidden layers")
    layers: list[Layer] = []
    for n_in, n_out, act in zip(sizes[:-1], sizes[1:], [*hidden_list, output]):
        layers += [Dense(n_in, n_out), Activation(act)]
    return sizes, layers


def check_dense_chain(layers: Sequence[Layer]) -> None:
    """``ValueError`` where a Dense layer's ``n_in`` differs from the previous Dense layer's ``n_out``
    (with nothing between them that has parameters)."""
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


def output_range_activation(layers: Sequence[Layer]) -> str:
    """The activation whose values the network outputs: the last one, looking past layers that only
    reshape (Flatten); ``"identity"`` where a parametric layer comes last."""
    for layer in reversed(layers):
        if isinstance(layer, Activation):
            return layer.name
        if layer.params:
            break
    return "identity"


def check_output_and_loss(layers: Sequence[Layer], loss: Any) -> None:
    """``ValueError`` listing the valid pairs when ``loss`` needs an output in (0, 1) and the
    network's output is not confined there."""
    name = getattr(loss, "name", None)
    output = output_range_activation(layers)
    if name in VALID_PAIRS and output not in VALID_PAIRS[name]:
        pairs = "; ".join(f"{loss_name} with {' or '.join(outputs)}"
                          for loss_name, outputs in VALID_PAIRS.items())
        raise ValueError(
            f"loss {name!r} takes the logarithm of the output, which must lie in (0, 1), but the network's "
            f"output activation is {output!r}; valid pairs: {pairs}; 'mse' with any output"
        )


def memory_limit() -> int | None:
    """The bytes a network on the host may need: ``XPBACKPROP_MEMORY_LIMIT`` where it is set (``None``
    for ``off``), else the machine's physical memory (``None`` where the system does not say)."""
    value = os.environ.get(MEMORY_VARIABLE, "").strip()
    if value.lower() in ("off", "none"):
        return None
    if value:
        try:
            limit = int(value)
        except ValueError:
            limit = -1
        if limit < 1:
            raise ValueError(f"the environment variable {MEMORY_VARIABLE} must be a positive number of "
                             f"bytes or 'off', got {value!r}")
        return limit
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _size(n: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} bytes"


def check_memory(n_parameters: int, itemsize: int, *, host: bool) -> None:
    """``ValueError`` with the size needed when ``TRAINING_COPIES`` arrays of ``n_parameters`` values
    of ``itemsize`` bytes exceed :func:`memory_limit` (only for a network in main memory: ``host``)."""
    if not host:
        return
    limit = memory_limit()
    need = TRAINING_COPIES * n_parameters * itemsize
    if limit is not None and need > limit:
        source = (f"{MEMORY_VARIABLE}={os.environ[MEMORY_VARIABLE].strip()}"
                  if os.environ.get(MEMORY_VARIABLE, "").strip() else "this machine's physical memory")
        raise ValueError(
            f"the network's {n_parameters:,} parameters need {_size(need)} for parameters, gradients and "
            f"optimizer state ({TRAINING_COPIES} x {n_parameters:,} x {itemsize} bytes), more than the "
            f"{_size(limit)} of {source}; to build it anyway, set the environment variable "
            f"{MEMORY_VARIABLE} to a number of bytes, or to 'off'"
        )


def count_parameters(layers: Sequence[Layer]) -> int:
    """Scalar parameters of ``layers``, from their shapes (nothing allocated)."""
    return sum(math.prod(shape) for layer in layers if layer.params
               for shape in layer.param_shapes().values())
