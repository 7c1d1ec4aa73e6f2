"""``MLP``: the multi-layer perceptron, a :class:`~xpbackprop.network.Sequential` of Dense and
activation layers (and Dropout where asked)."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from .architecture import mlp_layers
from .layers import Activation, Dropout
from .losses import Loss
from .masks import dropout_rates
from .network import Sequential

__all__ = ["MLP"]


class MLP(Sequential):
    """Multi-layer perceptron ``sizes = [n0, n1, ..., nL]``: Dense + activation per layer.

    ``hidden`` is one activation name for every hidden layer or a list with one
    name per hidden layer; ``output`` is the output activation. ``dropout``: a
    :class:`~xpbackprop.layers.Dropout` layer after each hidden layer's activation, one rate for
    all or a list with one rate per hidden layer (0: none there); a saved MLP with dropout is
    written, and loads, as the :class:`Sequential` of the same layers. The other arguments are
    :class:`Sequential`'s.
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
        parameters: Sequence[Any] | None = None,
        dropout: float | Sequence[float] = 0.0,
    ) -> None:
        sizes, layers = mlp_layers(sizes, hidden, output)
        rates = dropout_rates(dropout, len(sizes) - 2)
        for k in reversed(range(len(rates))):  # after the k-th hidden activation, layers[2k + 1]
            if rates[k]:
                layers.insert(2 * k + 2, Dropout(rates[k]))
        self.sizes = sizes
        self.hidden = [layer.name for layer in layers[:-1] if isinstance(layer, Activation)]
        self.output = layers[-1].name
        self.dropout = rates
        super().__init__(layers, loss, backend=backend, device=device, dtype=dtype, seed=seed,
                         parameters=parameters)

    def config(self) -> dict[str, Any]:
        if any(self.dropout):  # the layers themselves: what load rebuilds through get_layer
            return super().config()
        return {
            "class": "MLP",
            "sizes": list(self.sizes),
            "hidden": list(self.hidden),
            "output": self.output,
            "loss": self.loss_fn.config(),
            "dtype": self.dtype_name,
        }

