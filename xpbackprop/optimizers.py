"""Optimizers and learning-rate schedules: the update rules as plain array-API formulas.

Parameters, gradients and state are lists of device arrays in the order of ``net.parameters``
(``[W1, b1, W2, b2, ...]``); nothing here leaves the device. The reference formulas
(:func:`sgd_step`, :func:`adam_step`) return new arrays; a backend's table in
:mod:`xpbackprop.fast` may update in place instead, with the same operations in the same order.

An optimizer is two parts, so that a backend adapter can compile the array part (JAX):
:meth:`Optimizer.split`, the host side (this step's scalars, and state that is not arrays such
as Adam's step count), and :meth:`Optimizer.apply`, the arrays given those scalars. SGD is
*linear*: its update depends on ``η g`` only, so it is written in terms of the step
``u = -η g``, and a :class:`~xpbackprop.trainer.Trainer` asks the engine for the gradients of
``-η J``, which are those steps (the gradient of ``c J`` is ``c ∇J``: the output delta carries
``c``, and no pass over every gradient is spent scaling it).

Weight decay is the L2 penalty ``weight_decay/2 · Σ ||W||²`` added to the loss, on weights only
(not biases), as scikit-learn's ``alpha`` is: scikit-learn adds ``alpha/(2 n)·Σ||W||²`` to the
mean loss of a batch of ``n`` samples, so ``weight_decay = alpha / n`` reproduces it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import fast
from .checks import check_choice, check_integer, check_number

__all__ = [
    "EPS_PLACEMENTS",
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD",
    "Adam",
    "Optimizer",
    "Schedule",
    "adam_step",
    "adam_step_folded",
    "get_optimizer",
    "sgd_step",
    "with_weight_decay",
]


def sgd_step(params, steps, velocity, /, *, xp, momentum, nesterov):
    """θ ← θ + u  (μ = 0);  v ← μ v + u,  θ ← θ + v  (classical) or  θ + μ v + u  (Nesterov);  u = -η g."""
    if momentum == 0.0:
        return [p + u for p, u in zip(params, steps)], velocity
    velocity = [momentum * v + u for v, u in zip(velocity, steps)]
    if nesterov:
        return [p + momentum * v + u for p, v, u in zip(params, velocity, steps)], velocity
    return [p + v for p, v in zip(params, velocity)], velocity


def adam_step(params, grads, m, v, /, *, xp, lr, c1, c2, beta1, beta2, eps):
    """m ← β1 m + (1-β1) g,  v ← β2 v + (1-β2) g²,  θ ← θ - η (m / c1) / (√(v / c2) + ε);  c_i = 1 - β_i^t."""
    m = [beta1 * mi + (1.0 - beta1) * g for mi, g in zip(m, grads)]
    v = [beta2 * vi + (1.0 - beta2) * (g * g) for vi, g in zip(v, grads)]
    new = [p + (-lr) * (mi / c1) / (xp.sqrt(vi / c2) + eps) for p, mi, vi in zip(params, m, v)]
    return new, m, v


def adam_step_folded(params, grads, m, v, /, *, xp, lr_t, beta1, beta2, eps):
    """m ← β1 m + (1-β1) g,  v ← β2 v + (1-β2) g²,  θ ← θ + (-η_t m)/(√v + ε);  η_t = η √(1-β2^t)/(1-β1^t).

    The bias corrections folded into the rate, ε added to the uncorrected ``√v`` (Kingma & Ba's
    "more efficient" order, and scikit-learn's): the same step as :func:`adam_step` up to where ε sits.
    """
    m = [beta1 * mi + (1.0 - beta1) * g for mi, g in zip(m, grads)]
    v = [beta2 * vi + (1.0 - beta2) * (g * g) for vi, g in zip(v, grads)]
    new = [p + ((-lr_t) * mi) / (xp.sqrt(vi) + eps) for p, mi, vi in zip(params, m, v)]
    return new, m, v


def with_weight_decay(grads: list[Any], params: list[Any], decay: list[bool], wd: Any) -> list[Any]:
    """``g + wd·θ`` for the parameters marked in ``decay`` (the weights), ``g`` for the others:
    the gradient of ``wd/2 · Σ W²`` added (L2 on weights)."""
    return [g + wd * p if d else g for g, p, d in zip(grads, params, decay)]


class Optimizer:
    """Base class: :meth:`init_state`, and the update as :meth:`split` (host) and :meth:`apply` (arrays).

    A subclass may instead override :meth:`update` alone (then a JAX Trainer runs it as written,
    uncompiled).
    """

    name = ""
    #: ``True`` when the update depends on ``η g`` only (SGD): :meth:`apply` then takes the steps
    #: ``u = -η g`` in place of the gradients (see the module notes)
    linear = False
    #: ``True`` when :meth:`apply` may write into the parameter arrays it is given (SGD with
    #: momentum: ``θ += v`` on some backends). ``fit`` copies the parameters at the start of each
    #: epoch (to roll back a diverging one) and at the best validation epoch only then; an optimizer
    #: that leaves the arrays it is given unchanged lets it keep the arrays themselves.
    overwrites_parameters = True

    def init_state(self, params: Sequence[Any], /, *, xp) -> list[Any]:
        """Initial state arrays (on the parameters' device)."""
        return []

    def update(self, params, grads, state, lr: float, /, *, xp):
        """``(new params, new state)`` from the gradients ``grads`` and the rate ``lr``."""
        if type(self).apply is Optimizer.apply:
            raise NotImplementedError(f"{type(self).__name__} implements neither update nor split/apply")
        scalars, arrays, host = self.split(state, lr)
        g = [(-lr) * g for g in grads] if self.linear else grads
        params, arrays = self.apply(params, g, arrays, scalars, xp=xp)
        return params, [*arrays, *host]

    def split(self, state: list[Any], lr: float) -> tuple[tuple[float, ...], list[Any], list[Any]]:
        """``(scalars, array state, next host state)`` for one step: the state is the arrays
        followed by the host values; ``scalars`` are what :meth:`apply` needs besides them, the
        rate first."""
        return (lr,), list(state), []

    def apply(self, params, grads, arrays, scalars, /, *, xp):  # pragma: no cover - abstract
        """``(new params, new array state)`` from the gradients (the steps, for a linear optimizer)."""
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
    linear = True

    def __init__(self, momentum: float = 0.0, nesterov: bool = False) -> None:
        # TypeError for a non-number, ValueError outside [0, 1) (NaN included)
        momentum = check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    @property
    def overwrites_parameters(self) -> bool:  # type: ignore[override]
        # without momentum the new θ is a new array, or the step's own memory (fast paths)
        return self.momentum != 0.0

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "momentum": self.momentum, "nesterov": self.nesterov}

    def init_state(self, params, /, *, xp):
        if self.momentum == 0.0:
            return []
        return [xp.zeros_like(p) for p in params]

    def apply(self, params, grads, arrays, scalars, /, *, xp):
        """:func:`sgd_step` of the steps ``grads`` (``u = -η g``)."""
        return fast.lookup(xp, sgd_step)(params, grads, arrays, xp=xp, momentum=self.momentum,
                                         nesterov=self.nesterov)


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba 2015).

    ``m ← β1 m + (1-β1) g``,  ``v ← β2 v + (1-β2) g²``,
    ``θ ← θ - η m̂ / (√v̂ + ε)`` with ``m̂ = m/(1-β1^t)``, ``v̂ = v/(1-β2^t)`` (``eps_on="v_hat"``:
    the paper's Algorithm 1, as PyTorch writes it), or ``θ ← θ - η_t m / (√v + ε)`` with
    ``η_t = η √(1-β2^t)/(1-β1^t)`` (``eps_on="v"``: the paper's "more efficient" order, as
    scikit-learn writes it; :func:`adam_step_folded`). The two differ only in where ε sits:
    ``ε`` against ``√v`` is ``ε/√(1-β2^t)`` against ``√v̂``, larger in the first steps.
    The step count ``t`` is kept on the host (it is known without looking at the data).
    """

    name = "adam"
    overwrites_parameters = False  # the new θ is a new array, or the step's own memory (fast paths)

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, *,
                 eps_on: str = "v_hat") -> None:
        beta1 = check_number("beta1", beta1, low=0.0, high=1.0, high_open=True)
        beta2 = check_number("beta2", beta2, low=0.0, high=1.0, high_open=True)
        eps = check_number("eps", eps, low=0.0, low_open=True, what="a positive finite number")
        self.eps_on = check_choice("eps_on", eps_on, EPS_PLACEMENTS)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def config(self) -> dict[str, Any]:
        config = {"name": self.name, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}
        if self.eps_on != "v_hat":  # (a checkpoint of the default form reads as it always did)
            config["eps_on"] = self.eps_on
        return config

    def init_state(self, params, /, *, xp):
        return [xp.zeros_like(p) for p in params] + [xp.zeros_like(p) for p in params] + [0]

    def split(self, state, lr):
        # the step count and the bias corrections (or the rate they fold into) on the host, in
        # float64 as Python computes them
        t = state[-1] + 1
        c1, c2 = 1.0 - self.beta1**t, 1.0 - self.beta2**t
        if self.eps_on == "v":
            return (lr, lr * math.sqrt(c2) / c1), list(state[:-1]), [t]
        return (lr, c1, c2), list(state[:-1]), [t]

    def apply(self, params, grads, arrays, scalars, /, *, xp):
        n = len(params)
        if self.eps_on == "v":
            new, m, v = fast.lookup(xp, adam_step_folded)(params, grads, arrays[:n], arrays[n:], xp=xp,
                                                          lr_t=scalars[1], beta1=self.beta1,
                                                          beta2=self.beta2, eps=self.eps)
            return new, [*m, *v]
        lr, c1, c2 = scalars
        new, m, v = fast.lookup(xp, adam_step)(params, grads, arrays[:n], arrays[n:], xp=xp, lr=lr, c1=c1,
                                               c2=c2, beta1=self.beta1, beta2=self.beta2, eps=self.eps)
        return new, [*m, *v]


#: where :class:`Adam` adds ε: to the bias-corrected ``√v̂`` or to ``√v``
EPS_PLACEMENTS = ("v_hat", "v")


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
