"""Central-difference check of a network's gradients, in float64, on the network's own backend.

:func:`check_gradients` returns the largest relative error; with ``report=True`` a
:class:`GradientReport` says which parameter array and which entry it comes from, and
whether a sample sits so close to a non-differentiable point (ReLU's kink at 0) that the
central difference straddles it: there the two one-sided slopes differ and no step size makes
the numeric derivative agree with the analytic one.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from . import backprop, intake
from .backend import device_of, supports_float64, to_numpy
from .layers import Activation
from .network import Sequential

__all__ = ["KINKS", "GradientReport", "KinkWarning", "ParameterError", "check_gradients"]

#: activations with a point where they are not differentiable (the kink), by name
KINKS: dict[str, float] = {"relu": 0.0, "leaky_relu": 0.0}


class KinkWarning(RuntimeWarning):
    """A pre-activation lies within the finite-difference step of a kink (:data:`KINKS`)."""


@dataclass
class ParameterError:
    """One parameter array's comparison: its name (``W1``, ``b1``, ... in the order of the
    parametric layers), its layer's index in ``net.layers``, its relative error
    ``max|g - n| / max(max|g|, max|n|)``, where the largest ``|g - n|`` is, and both values there.
    ``rounding``: the array's gradients are all within a hundred times the rounding noise of the
    difference quotients (``2⁻⁵² |J| / eps``), so its relative error measures rounding, not the
    gradient (a network whose units are all off, for example)."""

    name: str
    layer: int
    error: float
    index: tuple[int, ...]
    analytic: float
    numeric: float
    rounding: bool = False


@dataclass
class Kink:
    """Pre-activations of ``net.layers[layer]`` (a ReLU-like activation) within reach of its kink."""

    layer: int
    activation: str
    entries: int
    samples: int
    closest: float


@dataclass
class GradientReport:
    """What ``check_gradients(..., report=True)`` found. ``float(report)`` is the number
    ``check_gradients`` returns; ``str(report)`` a table, one line per parameter array."""

    error: float
    eps: float
    parameters: list[ParameterError] = field(default_factory=list)
    kinks: list[Kink] = field(default_factory=list)

    def __float__(self) -> float:
        return self.error

    def __str__(self) -> str:
        lines = [f"largest relative error {self.error:.3g} (central differences, step {self.eps:g}, float64)",
                 f"{'param':<6} {'layer':>5} {'rel. error':>10}  {'where':<12} {'analytic':>12} "
                 f"{'numeric':>12}"]
        for p in self.parameters:
            lines.append(f"{p.name:<6} {p.layer:>5} {p.error:>10.3g}  {list(p.index)!s:<12} "
                         f"{p.analytic:>12.6g} {p.numeric:>12.6g}")
        rounding = [p.name for p in self.parameters if p.rounding]
        if rounding:
            lines.append(f"note: the gradients of {', '.join(rounding)} are at the rounding level of the "
                         "differences: their relative error measures rounding, not the gradients")
        lines += [f"warning: {_kink_text(k, self.eps)}" for k in self.kinks]
        return "\n".join(lines)


def _kink_text(kink: Kink, eps: float) -> str:
    return (f"{kink.entries} pre-activation(s) of {kink.samples} sample(s) at layer {kink.layer} "
            f"({kink.activation}) lie within a step ({eps:g}) of its kink "
            f"(closest |Z| = {kink.closest:.3g}): "
            "the central differences there straddle a point without a derivative, so a large error "
            "there need not be a wrong gradient (move the data or the biases off the kink)")


@overload
def check_gradients(net: Sequential, X: Any, Y: Any, *, eps: float = ...,
                    report: Literal[False] = ...) -> float: ...
@overload
def check_gradients(net: Sequential, X: Any, Y: Any, *, eps: float = ...,
                    report: Literal[True]) -> GradientReport: ...
def check_gradients(net: Sequential, X: Any, Y: Any, *, eps: float = 1e-6,
                    report: bool = False) -> float | GradientReport:
    """Max relative error of ``net.gradients`` against central differences, in float64.

    A float64 copy of ``net`` gives the analytic gradients ``g``; each parameter entry ``θ_i`` is
    moved by ``±eps`` to get ``n_i = (J(θ + eps e_i) - J(θ - eps e_i)) / (2 eps)``. For each
    parameter array the error is ``max_i |g_i - n_i| / max(max_i |g_i|, max_i |n_i|)`` (0 when both
    vanish); the result is the largest over all arrays. ``net`` is not changed. The copy is on the
    network's backend and device, or on NumPy where that device holds no float64 (an MPS-like GPU):
    the check is a diagnostic, and float32 differences would measure rounding, not the gradients.
    Dropout is not applied (as in ``net.gradients``). Cost: two forward passes per parameter entry,
    so use it on small networks.

    A :class:`KinkWarning` says when a pre-activation ``Z`` of a ReLU-like layer (:data:`KINKS`) lies
    within ``eps`` of the kink (``|Z| < eps`` for ReLU): one step of a bias moves it across, and the
    difference quotient there averages the two one-sided slopes (a weight's step, ``eps`` times
    an input, may reach further). ``report=True`` returns a
    :class:`GradientReport` (``float(report)`` is the number) with each parameter array's error,
    the entry where it is largest, and the kinks found.
    """
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps > 0:
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    if not isinstance(report, bool):
        raise TypeError(f"report must be True or False, got {report!r}")
    ref, X, Y = _float64_copy(net, X, Y)
    xp = ref.xp
    J, analytic, _ = backprop.loss_and_gradients(ref.layers, ref.loss_fn, X, Y, xp=xp)
    noise = 2.0**-52 * abs(float(J)) / eps  # the rounding error of one difference quotient
    params = ref.parameters
    owners = [(i, f"{name}{k + 1}") for k, i in enumerate(i for i, layer in enumerate(ref.layers)
                                                           if layer.params)
              for name in ref.layers[i].params]
    found = GradientReport(0.0, float(eps))
    for k, g in enumerate(analytic):
        n = _numeric(ref, params, k, X, Y, eps)
        entry = _compare(to_numpy(g), to_numpy(n), *owners[k], noise=noise)
        found.parameters.append(entry)
        found.error = max(found.error, entry.error)
    found.kinks = _kinks(ref, X, eps)
    for kink in found.kinks:
        warnings.warn(_kink_text(kink, eps), KinkWarning, stacklevel=2)
    return found if report else found.error


def _float64_copy(net: Sequential, X: Any, Y: Any) -> tuple[Sequential, Any, Any]:
    """A float64 copy of ``net`` on its device (or on NumPy), and ``X``, ``Y`` taken by it."""
    where = net.device if net.device is not None else device_of(net.parameters[0])
    on_device = supports_float64(net.xp, where)
    ref = net.copy(dtype="float64") if on_device else net.copy(backend="numpy", device=None, dtype="float64")
    if not on_device:  # the data follow the copy to the host
        X, Y = to_numpy(X), to_numpy(Y)
    X = intake.inputs(ref, X)
    Y = intake.targets(ref, Y, X.shape[0], sample_shape=tuple(X.shape[1:]))
    return ref, X, Y


def _numeric(ref: Sequential, params: list[Any], k: int, X: Any, Y: Any, eps: float) -> Any:
    """The central differences of the loss in every entry of ``params[k]``."""
    xp, p = ref.xp, params[k]
    flat = xp.reshape(p, (-1,))
    positions = xp.arange(flat.shape[0], device=device_of(p))
    numeric = []
    for i in range(flat.shape[0]):
        step = xp.reshape(xp.astype(positions == i, p.dtype) * eps, p.shape)
        numeric.append(_central_difference(ref, params, k, step, X, Y) / (2 * eps))
    return xp.reshape(xp.stack(numeric), p.shape)


def _compare(g: Any, n: Any, layer: int, name: str, *, noise: float) -> ParameterError:
    """One array's relative error and where its largest difference is (host arrays)."""
    diff = abs(g - n)
    scale = float(max(abs(g).max(), abs(n).max()))
    flat = int(diff.argmax())
    index = tuple(int(i) for i in _unravel(flat, g.shape))
    error = float(diff.max()) / scale if scale > 0 else 0.0
    return ParameterError(name, layer, error, index, float(g[index]), float(n[index]), scale < 100 * noise)


def _unravel(flat: int, shape: tuple[int, ...]) -> list[int]:
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return index[::-1]


def _kinks(ref: Sequential, X: Any, eps: float) -> list[Kink]:
    """The ReLU-like layers with a pre-activation within ``eps`` of their kink."""
    xp, found = ref.xp, []
    A = X
    for i, layer in enumerate(ref.layers):
        if isinstance(layer, Activation) and layer.name in KINKS:
            distance = xp.abs(xp.reshape(A, (A.shape[0], -1)) - KINKS[layer.name])
            near = distance < eps
            entries = int(xp.sum(xp.astype(near, xp.int64)))
            if entries:
                samples = int(xp.sum(xp.astype(xp.any(near, axis=1), xp.int64)))
                closest = float(xp.min(distance))
                found.append(Kink(i, layer.name, entries, samples, closest))
        A = layer.forward(A, xp=xp)[0]
    return found


def _central_difference(ref: Sequential, params: list[Any], k: int, step: Any, X: Any, Y: Any) -> Any:
    values = []
    for sign in (1.0, -1.0):
        moved = list(params)
        moved[k] = params[k] + sign * step
        backprop.assign(ref.layers, moved)
        values.append(backprop.forward_loss(ref.layers, ref.loss_fn, X, Y, xp=ref.xp)[1])
    backprop.assign(ref.layers, params)
    return values[0] - values[1]
