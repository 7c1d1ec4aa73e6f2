"""Optimizers and learning-rate schedules as small pure update rules in ``xp``.

An optimizer maps ``(params, grads, state, lr)`` to ``(new_params, new_state)``;
parameters, gradients and state are lists of device arrays in the order of
``net.parameters`` (``[W1, b1, W2, b2, ...]``). Nothing here leaves the device.

Where the library's arrays are writeable (NumPy, CuPy, PyTorch; checked with
``array_api_compat.is_writeable_array``) the update happens in place: the state
and the gradients passed in are overwritten, and each new parameter is written
into the memory of its step ``u = -η g`` (plain SGD: the gradient's own; Adam: the
step it computes), which saves a new array and a pass per parameter per step and
keeps the step's memory at one copy of the parameters. (Writing ``θ + u`` there
rather than into ``θ`` itself: ``θ`` was just read by every thread of the matrix
products, and on a CPU a store into lines other cores hold costs up to 4x a
store into the lines the step's own arithmetic left here; benchmarks/NOTES.md.)
SGD with momentum updates ``θ`` in place. The in-place form applies the same
operations in the same order as the functional one (JAX, array-api-strict), so both
give the same bits: ``θ + (-η g)`` is ``θ - η g`` exactly, negation being exact.

Weight decay is the L2 penalty ``weight_decay/2 · Σ ||W||²`` added to the
loss, on weights only (not biases), as scikit-learn's ``alpha`` is:
scikit-learn adds ``alpha/(2 n)·Σ||W||²`` to the mean loss of a batch of ``n``
samples, so ``weight_decay = alpha / batch_size`` reproduces it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from array_api_compat import is_dask_array, is_writeable_array

from .validation import check_choice, check_integer, check_number

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "Adam",
    "Optimizer",
    "Schedule",
    "get_optimizer",
    "with_weight_decay",
]


def _in_place(p: Any) -> bool:
    """Whether ``p -= u`` changes ``p`` itself. Dask arrays accept item
    assignment (so they count as writeable) but an augmented operator rebinds the name to a
    new lazy array, which would silently leave the parameter unchanged."""
    return is_writeable_array(p) and not is_dask_array(p)


def with_weight_decay(grads: list[Any], params: list[Any], decay: list[bool], wd: Any) -> list[Any]:
    """``g + wd·θ`` for the parameters marked in ``decay`` (the weights), ``g`` for the others:
    the gradient of ``wd/2 · Σ W²`` added (L2 on weights)."""
    return [g + wd * p if d else g for g, p, d in zip(grads, params, decay)]


class Optimizer:
    """Base class: ``init_state(params, xp)`` and ``update(params, grads, state, lr, xp)``.

    A subclass may instead implement ``update`` as two parts, as SGD and Adam do:
    :meth:`split` (the host side: the scalars of this step and the state that is not arrays,
    such as Adam's step count) and :meth:`apply` (the arrays, given those scalars). On JAX a
    :class:`~xpbackprop.training.Trainer` then compiles :meth:`apply` once (``jax.jit``)
    instead of running its operations one at a time.
    """

    name = ""
    #: ``True`` when :meth:`update` is linear in ``lr · grads`` (SGD, with or without momentum):
    #: a :class:`~xpbackprop.training.Trainer` then computes the gradients already multiplied
    #: by ``-lr`` (on the output delta, the smallest array of the backward pass), so that they
    #: arrive as the step ``u = -lr g`` itself, and calls ``update(..., lr=-1.0)``
    #: (``θ - (-1) u = θ + u``), saving a pass over every gradient per step.
    scaled_gradients = False
    #: ``True`` when :meth:`update` may write into the parameter arrays it is given (SGD with
    #: momentum: ``θ += v``). ``fit`` copies the parameters at the start of each epoch (to roll
    #: back a diverging one) and at the best validation epoch only then; an optimizer that returns
    #: new arrays and leaves the ones it was given unchanged (plain SGD, Adam: the new ``θ`` is
    #: written into the memory of the step) lets it keep the arrays themselves. ``True`` unless a
    #: subclass says otherwise.
    overwrites_parameters = True

    def init_state(self, params: Sequence[Any], /, *, xp) -> list[Any]:
        """Initial state arrays (on the parameters' device)."""
        return []

    def update(self, params, grads, state, lr: float, /, *, xp):
        """``(new params, new state)``: by default :meth:`split`, then :meth:`apply`."""
        if type(self).apply is Optimizer.apply:
            raise NotImplementedError(f"{type(self).__name__} implements neither update nor split/apply")
        scalars, arrays, host = self.split(state, lr)
        params, arrays = self.apply(params, grads, arrays, scalars, xp=xp)
        return params, [*arrays, *host]

    def split(self, state: list[Any], lr: float) -> tuple[tuple[float, ...], list[Any], list[Any]]:
        """``(scalars, array state, next host state)`` for one step: the state is the arrays
        followed by the host values; ``scalars`` are what :meth:`apply` needs besides them."""
        return (lr,), list(state), []

    def apply(self, params, grads, arrays, scalars, /, *, xp):  # pragma: no cover - abstract
        """``(new params, new array state)`` from the scalars :meth:`split` gave."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The name and hyper-parameters (what a checkpoint records to check a resumed run)."""
        return {"name": self.name}


class SGD(Optimizer):
    """Gradient descent, with momentum and Nesterov momentum as scikit-learn writes them.

    ``v ← μ v - η g``;  ``θ ← θ + v`` (classical) or ``θ ← θ + μ v - η g`` (Nesterov).
    With ``momentum=0`` this is plain ``θ ← θ - η g``.
    """

    name = "sgd"
    scaled_gradients = True

    def __init__(self, momentum: float = 0.0, nesterov: bool = False) -> None:
        # TypeError for a non-number, ValueError outside [0, 1) (NaN included)
        momentum = check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    @property
    def overwrites_parameters(self) -> bool:  # type: ignore[override]
        # without momentum the new θ is written into the memory of the step (apply, below)
        return self.momentum != 0.0

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "momentum": self.momentum, "nesterov": self.nesterov}

    def init_state(self, params, /, *, xp):
        if self.momentum == 0.0:
            return []
        return [xp.zeros_like(p) for p in params]

    def apply(self, params, grads, arrays, scalars, /, *, xp):
        # with the step u = -lr g: v ← μ v + u, θ ← θ + v (classical), θ + μ v + u (Nesterov)
        (lr,), state, mu = scalars, arrays, self.momentum
        if _in_place(params[0]) and _in_place(grads[0]):
            # In place where the library allows it: the same operations in the same order
            # (so the same bits as below), without a new array per parameter per step.
            new = []
            for p, u, v in zip(params, grads, state or [None] * len(params)):
                if lr != -1.0:  # lr = -1: the gradients arrive as the step -η g (Trainer)
                    u *= -lr
                if mu == 0.0:
                    u += p  # θ + u in u's memory, which the new parameter keeps (module notes)
                    new.append(u)
                    continue
                v *= mu
                v += u
                if self.nesterov:
                    p += mu * v
                    p += u
                else:
                    p += v
                new.append(p)
            return new, state
        # lr = -1: the gradients arrive as the step (inside jax.jit lr is traced: multiply)
        steps = grads if isinstance(lr, (int, float)) and lr == -1.0 else [-lr * g for g in grads]
        if mu == 0.0:
            return [p + u for p, u in zip(params, steps)], state
        velocity = [mu * v + u for v, u in zip(state, steps)]
        if self.nesterov:
            new = [p + mu * v + u for p, v, u in zip(params, velocity, steps)]
        else:
            new = [p + v for p, v in zip(params, velocity)]
        return new, velocity


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba 2015).

    ``m ← β1 m + (1-β1) g``,  ``v ← β2 v + (1-β2) g²``,
    ``θ ← θ - η m̂ / (√v̂ + ε)`` with ``m̂ = m/(1-β1^t)``, ``v̂ = v/(1-β2^t)``.
    The step count ``t`` is kept on the host (it is known without looking at the data).
    """

    name = "adam"
    overwrites_parameters = False  # the new θ is written into the memory of the step (apply)

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        beta1 = check_number("beta1", beta1, low=0.0, high=1.0, high_open=True)
        beta2 = check_number("beta2", beta2, low=0.0, high=1.0, high_open=True)
        eps = check_number("eps", eps, low=0.0, low_open=True, what="a positive finite number")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def init_state(self, params, /, *, xp):
        return [xp.zeros_like(p) for p in params] + [xp.zeros_like(p) for p in params] + [0]

    def split(self, state, lr):
        # the step count and the bias corrections on the host, in float64 as Python computes them
        t = state[-1] + 1
        return (lr, 1.0 - self.beta1**t, 1.0 - self.beta2**t), list(state[:-1]), [t]

    def apply(self, params, grads, arrays, scalars, /, *, xp):
        n = len(params)
        m, v = arrays[:n], arrays[n:]
        lr, c1, c2 = scalars
        b1, b2 = self.beta1, self.beta2
        if _in_place(params[0]):
            # in place, same operations in the same order as the functional form below
            new = []
            for p, g, mi, vi in zip(params, grads, m, v):
                mi *= b1
                mi += (1.0 - b1) * g
                vi *= b2
                vi += (1.0 - b2) * (g * g)
                u = (-lr) * (mi / c1) / (xp.sqrt(vi / c2) + self.eps)
                u += p  # θ + u in the step's own memory (module notes)
                new.append(u)
            return new, [*m, *v]
        m = [b1 * mi + (1.0 - b1) * g for mi, g in zip(m, grads)]
        v = [b2 * vi + (1.0 - b2) * (g * g) for vi, g in zip(v, grads)]
        new = [p + (-lr) * (mi / c1) / (xp.sqrt(vi / c2) + self.eps) for p, mi, vi in zip(params, m, v)]
        return new, [*m, *v]


#: name -> optimizer class
OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam}


def get_optimizer(name: str | Optimizer, **kwargs: Any) -> Optimizer:
    """An optimizer by name (``"sgd"``, ``"adam"``) or as given; ``ValueError`` lists the names."""
    if isinstance(name, Optimizer):
        return name
    if not isinstance(name, str):
        raise TypeError(
            f"optimizer must be a name, one of {sorted(OPTIMIZERS)}, or an xb.Optimizer, "
            f"got {type(name).__name__} {name!r}"
        )
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; valid names are {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name](**kwargs)


class Schedule:
    """Learning rate per epoch: ``constant``, ``invscaling`` or ``adaptive``, as scikit-learn names them.

    - constant: ``η``.
    - invscaling: after each epoch ``η_t = η / (t + 1)^power_t``, ``t`` the samples seen so far.
    - adaptive: ``η`` until the epoch loss has failed to improve by ``tol`` for
      ``n_iter_no_change`` epochs in a row, then ``η / 5`` (and so on). scikit-learn
      waits one epoch longer (``> n_iter_no_change``) and stops training at η ≤ 1e-6.
    """

    def __init__(self, kind: str, lr: float, *, power_t: float = 0.5, n_iter_no_change: int = 10,
                 tol: float = 1e-4) -> None:
        check_choice("learning-rate schedule", kind, SCHEDULES)
        check_number("learning rate lr", lr, low=0.0, low_open=True, what="a positive finite number")
        check_integer("n_iter_no_change", n_iter_no_change)
        check_number("power_t", power_t)
        check_number("tol", tol, low=0.0)
        self.kind, self.lr0, self.lr = kind, float(lr), float(lr)
        self.power_t, self.n_iter_no_change, self.tol = float(power_t), int(n_iter_no_change), float(tol)
        self.best = math.inf
        self.bad_epochs = 0

    def epoch_end(self, loss: float, samples_seen: int) -> float:
        """Update and return the learning rate for the next epoch."""
        if self.kind == "invscaling":
            self.lr = self.lr0 / (samples_seen + 1) ** self.power_t
        elif self.kind == "adaptive":
            if loss > self.best - self.tol:
                self.bad_epochs += 1
            else:
                self.bad_epochs = 0
            self.best = min(self.best, loss)
            if self.bad_epochs >= self.n_iter_no_change:
                self.lr /= 5.0
                self.bad_epochs = 0
        return self.lr

    def state(self) -> dict[str, Any]:
        return {"lr": self.lr, "best": self.best, "bad_epochs": self.bad_epochs}


SCHEDULES = ("constant", "invscaling", "adaptive")
