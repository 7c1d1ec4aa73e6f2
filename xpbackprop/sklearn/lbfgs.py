"""``solver="lbfgs"``: scipy's L-BFGS-B over the network's parameters, as scikit-learn runs it.

scikit-learn hands ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` its loss with the L2
penalty and its gradient, packed as one vector (every ``W`` flattened, then every ``b``), with
``maxiter=max_iter``, ``maxfun=max_fun`` and ``gtol=tol``; ``n_iter_`` is the iterations done (at
most ``max_iter``) and a run that ends short of convergence warns. The same here, with the loss and
gradient computed by the engine (:func:`xpbackprop.backprop.loss_and_gradients`) on the data's
device. The optimizer itself runs on the host: each evaluation moves the parameter vector to the
device and reads the loss and the gradient back together, one transfer each way.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from .. import adapters, backprop
from .. import backend as _backend
from ..epochs import SampleWeights

__all__ = ["fit_lbfgs"]


def _layout(net: Any) -> list[tuple[int, int, tuple[int, ...]]]:
    """``(start, stop, shape)`` of each parameter in scikit-learn's packing: W1, W2, ..., b1, b2, ...;
    listed in the network's order ``[W1, b1, W2, b2, ...]``."""
    shapes = [tuple(p.shape) for p in net.parameters]
    packed = shapes[0::2] + shapes[1::2]
    bounds, start = [], 0
    for shape in packed:
        stop = start + int(np.prod(shape))
        bounds.append((start, stop, shape))
        start = stop
    k = len(shapes) // 2
    return [bounds[i // 2] if i % 2 == 0 else bounds[k + i // 2] for i in range(len(shapes))]


def _objective(net: Any, X: Any, Y: Any, weights: SampleWeights | None, *, alpha: float,
               scale: float) -> Any:
    """``f(x) -> (loss, gradient)`` as scikit-learn computes them: the data loss over ``scale`` plus
    ``alpha/(2 Σw) Σ||W||²``, and the gradient of the data loss plus ``alpha/Σw · W``."""
    xp, layout = net.xp, _layout(net)
    divisor = float(X.shape[0]) if weights is None else float(weights.host.sum())
    w = None if weights is None else weights.device
    adapter = adapters.for_backend(net.backend)
    compiled = adapter.compiled_loss_and_gradients(net, backprop.loss_and_gradients)

    def f(x: np.ndarray) -> tuple[float, np.ndarray]:
        with adapter.scope(net):
            flat = _backend.to_backend(x, xp, dtype=net.dtype, device=net.device)
            backprop.assign(net.layers, [xp.reshape(flat[a:b], s) for a, b, s in layout])
            if compiled is not None:
                J, grads, _ = compiled(X, Y, 1.0, w)
            else:
                J, grads, _ = backprop.loss_and_gradients(net.layers, net.loss_fn, X, Y, xp=xp, weights=w)
            Ws = net.parameters[0::2]
            squares = [xp.sum(W * W) for W in Ws]
            value = J / scale + (0.5 * alpha) * sum(squares[1:], squares[0]) / divisor
            dWs = [g + (alpha / divisor) * W for g, W in zip(grads[0::2], Ws)]
            packed = xp.concat([xp.reshape(xp.astype(value, net.dtype), (1,)),
                                *[xp.reshape(g, (-1,)) for g in [*dWs, *grads[1::2]]]])
            host = np.asarray(_backend.to_numpy(packed), dtype=np.float64)  # the evaluation's one read
        return float(host[0]), host[1:]

    return f, layout


def fit_lbfgs(est: Any, net: Any, X: Any, Y: Any, weights: SampleWeights | None, *, scale: float) -> None:
    """Minimise from the network's parameters; sets ``est.n_iter_`` and ``est.loss_`` and leaves the
    network at the minimiser, as scikit-learn does (with its ``ConvergenceWarning`` when L-BFGS-B
    stops short of convergence)."""
    f, layout = _objective(net, X, Y, weights, alpha=float(est.alpha), scale=scale)
    params = [np.asarray(_backend.to_numpy(p), dtype=np.float64).ravel() for p in net.parameters]
    x0 = np.concatenate(params[0::2] + params[1::2])
    options = {"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol}
    result = scipy.optimize.minimize(f, x0, method="L-BFGS-B", jac=True, options=options)
    n_iter = min(result.nit, est.max_iter)
    if result.status != 0:
        message = (f"lbfgs failed to converge after {n_iter} iteration(s) (status={result.status}):\n"
                   f"{result.message}\n")
        if n_iter == est.max_iter:
            message += ("\nIncrease the number of iterations to improve the convergence "
                        f"(max_iter={est.max_iter}).")
        message += ("\nYou might also want to scale the data as shown in:\n"
                    "    https://scikit-learn.org/stable/modules/preprocessing.html")
        warnings.warn(message, ConvergenceWarning, stacklevel=4)
    xp = net.xp
    with adapters.for_backend(net.backend).scope(net):
        flat = _backend.to_backend(result.x, xp, dtype=net.dtype, device=net.device)
        backprop.assign(net.layers, [xp.reshape(flat[a:b], s) for a, b, s in layout])
    est.n_iter_ = n_iter
    est.loss_ = float(result.fun)
