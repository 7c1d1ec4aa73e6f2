"""``net.summary()``: each layer's shapes, parameters and the equations it runs, in the notes' notation.

The equations are not written here: each layer class carries its own
(:attr:`xpbackprop.layers.Layer.formulas`), each activation its pair in
:data:`xpbackprop.activations.FORMULAS`, each loss its ``J``, ``dA`` and fused ``dZ``
(:meth:`xpbackprop.losses.Loss.formulas`). This module only arranges them in the order the
network applies them: forward in layer order, backward in reverse, the fused output delta in
place of the output activation's backward, no ``dA_prev`` for the first parametric layer.
"""

from __future__ import annotations

from typing import Any

from .backprop import fused
from .layers import Activation, Conv1D, Dense, Dropout, Layer

__all__ = ["LABEL_WIDTH", "summary"]

#: width of the "forward " / "backward" label column in front of each equation
LABEL_WIDTH = 14
_NOTE = "   # "


def _shape_text(shape: tuple[int, ...] | None) -> str:
    return "(N, ?)" if shape is None else "(" + ", ".join(["N", *map(str, shape)]) + ")"


def _sample_shapes(layers: list[Layer], input_shape: tuple[int, ...] | None) -> list[tuple[int, ...] | None]:
    """One sample's shape before each layer and after the last (None where the layers do not fix it)."""

    def chain(start: tuple[int, ...]) -> tuple[list[tuple[int, ...]] | None, str]:
        """``(shapes, "")``, or ``(None, the reason)`` where a layer does not take its input."""
        shapes = [start]
        for number, layer in enumerate(layers):
            try:
                shapes.append(tuple(layer.output_shape(shapes[-1])))
            except ValueError as exc:
                return None, f"at layers[{number}], {exc}"
        return shapes, ""

    if input_shape is not None:
        shapes, reason = chain(tuple(input_shape))
        if shapes is None:
            raise ValueError(f"input_shape {tuple(input_shape)} does not fit the network's layers: {reason}")
        return list(shapes)
    first = next(layer for layer in layers if layer.params)
    if isinstance(first, Dense) and first is layers[0]:
        found, _ = chain((first.n_in,))
        if found is not None:
            return list(found)
    if isinstance(layers[0], Conv1D) and any(isinstance(layer, Dense) for layer in layers):
        # the input length is fixed by the first Dense layer after the convolutions: find it
        conv = layers[0]
        for length in range(conv.kernel_size, 1 << 16):
            found, _ = chain((conv.in_channels, length))
            if found is not None:
                return list(found)
    return [None] * (len(layers) + 1)


def _blocks(layers: list[Layer]) -> list[list[int]]:
    """Layer indices grouped as the notes count layers: a parametric layer with its activation
    (and the dropout after them, which the notes' layers do not count)."""
    blocks: list[list[int]] = []
    i = 0
    while i < len(layers):
        if layers[i].params and i + 1 < len(layers) and isinstance(layers[i + 1], Activation):
            block = [i, i + 1]
        else:
            block = [i]
        while layers[block[0]].params and block[-1] + 1 < len(layers) and isinstance(
                layers[block[-1] + 1], Dropout):
            block.append(block[-1] + 1)
        blocks.append(block)
        i = block[-1] + 1
    return blocks


def _layer_name(layer: Layer) -> str:
    return layer.name if isinstance(layer, Activation) else repr(layer)


def _equations(label: str, lines: list[str]) -> list[str]:
    out = []
    for k, line in enumerate(lines):
        out.append(f"    {label if k == 0 else '':<{LABEL_WIDTH - 4}}{line}")
    return out


def summary(net: Any, input_shape: tuple[int, ...] | None = None) -> str:
    """The text of ``net.summary(input_shape)`` (see :meth:`xpbackprop.Sequential.summary`)."""
    layers = list(net.layers)
    shapes = _sample_shapes(layers, input_shape)
    first_param = next(i for i, layer in enumerate(layers) if layer.params)
    last = len(layers) - 1
    loss = net.loss_fn
    formulas = loss.formulas()
    is_fused = fused(net.layers, net.loss_fn)
    sizes = f" {list(net.sizes)}" if hasattr(net, "sizes") else ""
    device = f", device {net.device}" if net.device is not None else ""
    out = [f"{type(net).__name__}{sizes}: backend {net.backend}{device}, {net.dtype_name}; "
           f"a batch of m = N samples, one per row"]
    for number, block in enumerate(_blocks(layers), start=1):
        names = " → ".join(_layer_name(layers[i]) for i in block)
        counts = []
        n_params = 0
        for i in block:
            for pname, pshape in layers[i].param_shapes().items():
                size = 1
                for s in pshape:
                    size *= s
                n_params += size
                counts.append(f"{pname} {'×'.join(map(str, pshape))}")
        params = f"{n_params:,} parameters ({', '.join(counts)})" if counts else "no parameters"
        out.append(f"layer {number}: {names}")
        out.append(f"    {_shape_text(shapes[block[0]])} → {_shape_text(shapes[block[-1] + 1])}, {params}")
        forward = [line for i in block for line in layers[i].formulas["forward"]]
        backward: list[str] = []
        for i in reversed(block):
            layer = layers[i]
            if i < first_param:
                backward.append("(not run: no parameters before this layer)")
                continue
            if i == last and is_fused and isinstance(layer, Activation):
                backward.append(f"{formulas['delta']}{_NOTE}{layer.name} + {loss.name} fused: "
                                f"replaces the {layer.name} backward")
                continue
            if i == last and is_fused:  # a parametric output layer: identity output + mse
                backward.append(f"{formulas['delta']}{_NOTE}identity output + {loss.name} fused")
            backward.extend(layer.formulas["grads"])
            if i > first_param:
                backward.extend(layer.formulas["input_grad"])
            elif layer.formulas["input_grad"]:
                backward.append(f"({layer.formulas['input_grad'][0]} not computed: first layer)")
        out += _equations("forward", forward)
        out += _equations("backward", backward)
    out.append(f"loss: {loss!r}")
    out += _equations("value", [formulas["value"]])
    if is_fused:
        out += _equations("backward", [f"{formulas['delta']}{_NOTE}with the {net.output_activation} "
                                       f"output (canonical pair): the backward pass starts here"])
    else:
        out += _equations("backward", [f"{formulas['grad']}{_NOTE}then the chain rule through the "
                                       f"{net.output_activation} output"])
    out.append(f"total: {net.n_parameters:,} parameters")
    out.append(_notation(layers))
    return "\n".join(out)


def _notation(layers: list[Layer]) -> str:
    """The line that reads the symbols of the equations above it."""
    dropout = any(isinstance(layer, Dropout) for layer in layers)
    return ("notation: ⊙ elementwise product, ⊘ elementwise division, ᵀ transpose, Σ_rows sum over the "
            "batch's rows, [·] 1 where true else 0" + (", ← replaces the array" if dropout else ""))
