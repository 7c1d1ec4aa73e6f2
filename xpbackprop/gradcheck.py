"""Central-difference check of a network's gradients, in float64, on the network's own backend."""

from __future__ import annotations

from typing import Any

from . import backprop, intake
from .backend import device_of, supports_float64, to_numpy
from .network import Sequential

__all__ = ["check_gradients"]


def check_gradients(net: Sequential, X: Any, Y: Any, *, eps: float = 1e-6) -> float:
    """Max relative error of ``net.gradients`` against central differences, in float64.

    A float64 copy of ``net`` gives the analytic gradients ``g``; each parameter entry ``θ_i`` is
    moved by ``±eps`` to get ``n_i = (J(θ + eps e_i) - J(θ - eps e_i)) / (2 eps)``. For each
    parameter array the error is ``max_i |g_i - n_i| / max(max_i |g_i|, max_i |n_i|)`` (0 when both
    vanish); the result is the largest over all arrays. ``net`` is not changed. The copy is on the
    network's backend and device, or on NumPy where that device holds no float64 (an MPS-like GPU):
    the check is a diagnostic, and float32 differences would measure rounding, not the gradients.
    Cost: two forward passes per parameter entry, so use it on small networks.
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    where = net.device if net.device is not None else device_of(net.parameters[0])
    on_device = supports_float64(net.xp, where)
    ref = net.copy(dtype="float64") if on_device else net.copy(backend="numpy", device=None, dtype="float64")
    if not on_device:  # the data follow the copy to the host
        X, Y = to_numpy(X), to_numpy(Y)
    xp = ref.xp
    X = intake.inputs(ref, X)
    Y = intake.targets(ref, Y, X.shape[0], sample_shape=tuple(X.shape[1:]))
    _, analytic, _ = backprop.loss_and_gradients(ref.layers, ref.loss_fn, X, Y, xp=xp)
    params = ref.parameters
    worst = 0.0
    for k, (p, g) in enumerate(zip(params, analytic)):
        flat = xp.reshape(p, (-1,))
        positions = xp.arange(flat.shape[0], device=device_of(p))
        numeric = []
        for i in range(flat.shape[0]):
            step = xp.reshape(xp.astype(positions == i, p.dtype) * eps, p.shape)
            numeric.append(_central_difference(ref, params, k, step, X, Y) / (2 * eps))
        n = xp.reshape(xp.stack(numeric), p.shape)
        scale = float(xp.max(xp.maximum(xp.abs(g), xp.abs(n))))
        if scale > 0:
            worst = max(worst, float(xp.max(xp.abs(g - n))) / scale)
    return worst


def _central_difference(ref: Sequential, params: list[Any], k: int, step: Any, X: Any, Y: Any) -> Any:
    values = []
    for sign in (1.0, -1.0):
        moved = list(params)
        moved[k] = params[k] + sign * step
        backprop.assign(ref.layers, moved)
        values.append(backprop.forward_loss(ref.layers, ref.loss_fn, X, Y, xp=ref.xp)[1])
    backprop.assign(ref.layers, params)
    return values[0] - values[1]
