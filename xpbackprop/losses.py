"""Losses: value, gradient and the fused output delta, in the array namespace ``xp`` only.

Conventions (DESIGN.md): the per-sample loss sums over output units;
``reduction="mean"`` divides the batch total by the number of samples ``N``,
``reduction="sum"`` does not. Targets ``Y`` reach these formulas already as
float arrays of the output's shape ``(N, n_out)`` (see :meth:`Loss.encode_targets`).

Sample weights: ``value``, ``backward`` and ``delta`` take ``weights=w`` (``(N,)``, on the
device), and the per-sample losses ``l_i`` then reduce to ``Σ_i w_i l_i / Σ_i w_i`` for
``"mean"`` and ``Σ_i w_i l_i`` for ``"sum"`` (scikit-learn's ``sample_weight``): integer weights
give the loss and gradients of the batch with each row repeated ``w_i`` times.
"""

from __future__ import annotations

from typing import Any, ClassVar

from array_api_compat import device as _device

from . import fast
from .activations import ACTIVATIONS, softplus
from .checks import check_choice

__all__ = [
    "BCE",
    "LOSSES",
    "MSE",
    "CrossEntropy",
    "Loss",
    "Poisson",
    "get_loss",
    "softmax_cross_entropy",
    "softmax_cross_entropy_rows",
]

_REDUCTIONS = ("mean", "sum")


class Loss:
    """Base class: ``value``, ``backward`` (general chain rule) and ``delta`` (fused).

    ``canonical`` names the output activation for which ``dZ_L = (A_L - Y) / scale``
    holds exactly: there the derivative of the loss and the derivative of the
    activation cancel to a difference (seeds 000 and 001 derive it), so the
    network skips both and uses :meth:`delta`.
    """

    name: ClassVar[str] = ""
    canonical: ClassVar[str] = ""
    #: ``J`` and ``dA`` as the notes write them (``net.summary()``): ``{m}`` is "(1/m) " for
    #: ``reduction="mean"`` over m samples, "" for "sum"; ``{delta}`` the fused output delta
    FORMULAS: ClassVar[tuple[str, str]] = ("", "")

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = check_choice("reduction", reduction, _REDUCTIONS)

    def __repr__(self) -> str:
        clip = ", clip=True" if getattr(self, "clip", False) else ""
        return f"{type(self).__name__}(reduction={self.reduction!r}{clip})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self).__name__, *sorted(vars(self).items())))

    def config(self) -> dict[str, Any]:
        """The constructor arguments, to rebuild this loss (``get_loss(config)``)."""
        return {"name": self.name, **vars(self)}

    def encode_targets(self, Y, n_out: int, /, *, xp, dtype):
        """Targets as a float ``(N, n_out)`` array; a 1-d ``Y`` is one column when ``n_out == 1``."""
        if Y.ndim == 1 and n_out == 1:
            Y = xp.reshape(Y, (-1, 1))
        if Y.ndim != 2 or Y.shape[1] != n_out:
            raise ValueError(
                f"targets Y of shape {tuple(Y.shape)} do not match the network's {n_out} outputs; "
                f"expected ({Y.shape[0]}, {n_out})" + (" or (N,)" if n_out == 1 else "")
            )
        return Y if Y.dtype == dtype else xp.astype(Y, dtype)

    def scale(self, n: int) -> float:
        """The divisor in ``dZ_L = (A_L - Y) / scale`` for a batch of ``n`` samples."""
        return float(n) if self.reduction == "mean" else 1.0

    def formulas(self) -> dict[str, str]:
        """``{"value": J, "grad": dA, "delta": fused dZ}`` in the notes' notation, for ``net.summary()``."""
        mean = self.reduction == "mean"
        two = "2" if self.scale(1) == 0.5 else ""  # MSE(half=False): d/dA (A − Y)² = 2(A − Y)
        delta = f"{two}(A − Y)/m" if mean else (f"{two}(A − Y)" if two else "A − Y")
        half = "½ " if getattr(self, "half", False) else ""
        m = "(1/m) " if mean else ""
        value, grad = (text.format(m=m, half=half, delta=delta) for text in self.FORMULAS)
        return {"value": value, "grad": grad, "delta": f"dZ = {delta}"}

    def reduce(self, per_sample, /, *, xp, weights=None):
        """Σ_i l_i, divided by ``N`` for ``"mean"``; with weights Σ_i w_i l_i, divided by Σ_i w_i for
        ``"mean"``: a 0-d array on the device."""
        if weights is None:
            total = xp.sum(per_sample)
            return total / per_sample.shape[0] if self.reduction == "mean" else total
        total = xp.sum(per_sample * weights)
        return total / xp.sum(weights) if self.reduction == "mean" else total

    def row_factor(self, n: int, /, *, xp, weights=None):
        """The factor of each row's gradient: ``1/scale(n)``, or with weights the column
        ``w_i / (Σ w · scale(1))`` (``w_i / scale(1)`` for ``"sum"``)."""
        if weights is None:
            return 1.0 / self.scale(n)
        w = xp.reshape(weights, (-1, 1)) / self.scale(1)
        return w / xp.sum(weights) if self.reduction == "mean" else w

    def delta(self, A, Y, /, *, xp, multiplier: float = 1.0, weights=None):
        """dZ_L = c (A_L - Y) / scale (rows times ``w_i / Σw`` with weights), exact when the output
        activation is :attr:`canonical`.

        ``multiplier`` is ``c``: the gradient of ``c J`` is ``c ∇J``, and the backward pass is linear
        in the output delta, so scaling it here (one pass over the smallest array of the backward
        pass) scales every gradient. ``1`` gives ``∇J`` itself.
        """
        if weights is None:
            return (A - Y) * (multiplier / self.scale(A.shape[0]))
        return (A - Y) * (self.row_factor(A.shape[0], xp=xp, weights=weights) * multiplier)

    def forward_value(self, Z, Y, /, *, xp, weights=None):
        """``(A, J)`` for the canonical output from its logits ``Z``: activation and loss together."""
        A = ACTIVATIONS[self.canonical][0](Z, xp=xp)
        return A, self.value(A, Y, xp=xp, Z=Z, weights=weights)

    def value(self, A, Y, /, *, xp, Z=None, weights=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, A, Y, /, *, xp, weights=None):  # pragma: no cover - abstract
        raise NotImplementedError


class MSE(Loss):
    """Squared error: per sample Σ_k (A_k - Y_k)², or ½ Σ_k (A_k - Y_k)² with ``half=True`` (001)."""

    name = "mse"
    canonical = "identity"
    FORMULAS = ("J = {m}Σ_i {half}Σ_k (A − Y)²", "dA = {delta}")

    def __init__(self, half: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction)
        if half not in (True, False):  # bool("no") would be True
            raise TypeError(f"half must be True or False, got {type(half).__name__} {half!r}")
        self.half = bool(half)

    def __repr__(self) -> str:
        return f"MSE(half={self.half}, reduction={self.reduction!r})"

    def scale(self, n: int) -> float:
        # d/dA of Σ(A - Y)² is 2 (A - Y); of ½ Σ(A - Y)² it is (A - Y).
        return super().scale(n) * (1.0 if self.half else 0.5)

    def value(self, A, Y, /, *, xp, Z=None, weights=None):
        """J = reduce(c Σ_k (A - Y)²),  c = ½ or 1."""
        D = A - Y
        per_sample = xp.sum(D * D, axis=1)
        if self.half:
            per_sample = 0.5 * per_sample
        return self.reduce(per_sample, xp=xp, weights=weights)

    def backward(self, A, Y, /, *, xp, weights=None):
        """dA = (A - Y) / scale."""
        return self.delta(A, Y, xp=xp, weights=weights)


class _Probabilities(Loss):
    """A loss of probabilities, whose value may come from the clipped probabilities (``clip``)."""

    def __init__(self, reduction: str = "mean", clip: bool = False) -> None:
        super().__init__(reduction)
        if clip not in (True, False):
            raise TypeError(f"clip must be True or False, got {type(clip).__name__} {clip!r}")
        self.clip = bool(clip)

    def config(self) -> dict[str, Any]:
        config = super().config()
        if not self.clip:  # (the files of the default loss read as they always did)
            del config["clip"]
        return config


class BCE(_Probabilities):
    """Binary cross-entropy: per sample -Σ_k [Y log A + (1 - Y) log(1 - A)] (000, 001 §2).

    Its value comes from the logits of a sigmoid output (finite for any logit); ``clip=True``
    takes it from the probabilities clipped to ``[ε, 1 - ε]`` (ε the dtype's resolution), as
    scikit-learn's log-loss does. The two differ only where an output has saturated beyond ε;
    the gradients are the same.
    """

    name = "bce"
    canonical = "sigmoid"
    FORMULAS = ("J = −{m}Σ_i Σ_k [Y log A + (1−Y) log(1−A)]", "dA = {m}(A − Y) ⊘ (A(1−A))")

    def value(self, A, Y, /, *, xp, Z=None, weights=None):
        """J = reduce(Σ_k softplus(Z) - Y Z) from the logits Z of a sigmoid output, else from A."""
        if Z is not None and not self.clip:
            # -[y log σ(z) + (1-y) log(1-σ(z))] = softplus(z) - y z: finite for any z.
            per_sample = xp.sum(softplus(Z, xp=xp) - Y * Z, axis=1)
        else:
            A = _clip_probability(A, xp=xp)
            per_sample = -xp.sum(Y * xp.log(A) + (1.0 - Y) * xp.log(1.0 - A), axis=1)
        return self.reduce(per_sample, xp=xp, weights=weights)

    def backward(self, A, Y, /, *, xp, weights=None):
        """dA = (A - Y) / (A (1 - A)) / scale."""
        A = _clip_probability(A, xp=xp)
        if weights is None:
            return (A - Y) / (A * (1.0 - A) * self.scale(A.shape[0]))
        return (A - Y) / (A * (1.0 - A)) * self.row_factor(A.shape[0], xp=xp, weights=weights)


class CrossEntropy(_Probabilities):
    """Categorical cross-entropy: per sample -Σ_k Y_k log A_k (000's -tr(Y log A), 003's J).

    Its value comes from the logits of a softmax output; ``clip=True`` takes it from the
    probabilities clipped to ``[ε, 1 - ε]``, as scikit-learn's log-loss does (as for :class:`BCE`).

    The fused ``dZ = (A - Y)/scale`` for a softmax output assumes each target row
    sums to 1 (one-hot or a probability vector): ``d/dZ`` of ``-Σ_k Y_k log softmax(Z)_k``
    is ``A Σ_k Y_k - Y``. So a network with a softmax output refuses ``(N, n_out)`` targets
    whose rows sum elsewhere (``ValueError`` naming the first such row and its sum), within
    :func:`xpbackprop.valuechecks.row_sum_tolerance` (``n_out · 2⁻²⁰`` for float32 or float64 rows:
    float32 rounding of soft labels passes; more for float16 and bfloat16 rows). Class labels
    ``(N,)`` are one-hot rows, always fine.
    """

    name = "cross_entropy"
    canonical = "softmax"
    FORMULAS = ("J = −{m}Σ_i Σ_k Y log A", "dA = −{m}Y ⊘ A")

    def encode_targets(self, Y, n_out: int, /, *, xp, dtype):
        """Class labels of shape ``(N,)`` become one-hot rows; one-hot rows pass through.

        Labels are integers, or floats or bools holding whole numbers (compared in ``dtype``,
        exact for any realistic number of classes); a label outside ``[0, n_out)`` gives a row
        of zeros here, so the public entries check the range first
        (:class:`xpbackprop.valuechecks.ValueChecks`).
        """
        if Y.ndim == 1 and n_out > 1:
            if n_out <= 128 and xp.isdtype(Y.dtype, "integral"):  # 128 classes fit even int8 labels
                classes = xp.arange(n_out, dtype=Y.dtype, device=_device(Y))
            else:  # bool or float labels, or more classes than the integer dtype holds
                classes = xp.arange(n_out, dtype=dtype, device=_device(Y))
                Y = Y if Y.dtype == dtype else xp.astype(Y, dtype)
            return xp.astype(xp.reshape(Y, (-1, 1)) == classes, dtype)
        return super().encode_targets(Y, n_out, xp=xp, dtype=dtype)

    def value(self, A, Y, /, *, xp, Z=None, weights=None):
        """J = reduce(-Σ_k Y_k log A_k); from the logits ``Z`` of a softmax output where given
        (:func:`softmax_cross_entropy`: finite for any logits)."""
        if Z is not None and not self.clip:
            return self.forward_value(Z, Y, xp=xp, weights=weights)[1]
        per_sample = -xp.sum(Y * xp.log(_clip_probability(A, xp=xp)), axis=1)
        return self.reduce(per_sample, xp=xp, weights=weights)

    def forward_value(self, Z, Y, /, *, xp, weights=None):
        """``(A, J)``: softmax and cross-entropy together, from the logits (:func:`softmax_cross_entropy`;
        with weights, :func:`softmax_cross_entropy_rows` and the weighted reduction; with ``clip``,
        the softmax and the value of its clipped probabilities)."""
        if self.clip:
            A = ACTIVATIONS["softmax"][0](Z, xp=xp)
            return A, self.value(A, Y, xp=xp, weights=weights)
        if weights is not None:
            A, per_sample = fast.lookup(xp, softmax_cross_entropy_rows)(Z, Y, xp=xp)
            return A, self.reduce(per_sample, xp=xp, weights=weights)
        divisor = float(Z.shape[0]) if self.reduction == "mean" else 1.0
        return fast.lookup(xp, softmax_cross_entropy)(Z, Y, xp=xp, divisor=divisor)

    def backward(self, A, Y, /, *, xp, weights=None):
        """dA = -Y / A / scale."""
        if weights is None:
            return -Y / (_clip_probability(A, xp=xp) * self.scale(A.shape[0]))
        return -Y / _clip_probability(A, xp=xp) * self.row_factor(A.shape[0], xp=xp, weights=weights)


class Poisson(Loss):
    """Half the Poisson deviance with a log link: per sample Σ_k [Y log(Y/A) - Y + A], ``0 log 0 = 0``
    (scikit-learn's ``MLPRegressor(loss="poisson")``).

    Its canonical output is ``exp``: with ``A = exp(Z)`` the loss is
    ``Σ_k [Y log Y - Y Z - Y + exp(Z)]``, finite for any logit, and ``dZ_L = (A - Y)/scale``.
    Targets are counts or rates, ``Y ≥ 0`` (the formula reads ``Y log Y`` as 0 where ``Y ≤ 0`` and
    does not check; the estimators refuse negative targets).
    """

    name = "poisson"
    canonical = "exp"
    FORMULAS = ("J = {m}Σ_i Σ_k [Y log(Y/A) − Y + A]", "dA = {m}(1 − Y ⊘ A)")

    def value(self, A, Y, /, *, xp, Z=None, weights=None):
        """J = reduce(Σ_k Y log Y - Y log A - Y + A), with ``log A = Z`` from the logits where given."""
        log_A = Z if Z is not None else xp.log(A)
        # Y log Y with 0 log 0 = 0; the log of a positive stand-in keeps log(0) (a warning) out
        Y_log_Y = Y * xp.log(xp.where(Y > 0, Y, 1.0))
        per_sample = xp.sum(Y_log_Y - Y * log_A - Y + A, axis=1)
        return self.reduce(per_sample, xp=xp, weights=weights)

    def backward(self, A, Y, /, *, xp, weights=None):
        """dA = (1 - Y / A) / scale."""
        return (1.0 - Y / A) * self.row_factor(A.shape[0], xp=xp, weights=weights)


def softmax_cross_entropy(Z, Y, /, *, xp, divisor=1.0):
    """``(A, J)``: ``A = exp(S) / s``,  ``J = Σ_i Σ_k Y_ik (log s_i - S_ik) / divisor``,  ``S = Z - max_k Z``,
    ``s = Σ_k exp(S_k)``.

    The softmax of the logits and the summed cross-entropy ``-Σ Y log A`` from one log-sum-exp:
    ``-log A_k = log s - S_k`` is finite for any logits (``s ≥ 1``), where ``log`` of a saturated
    ``A`` would not be. Subtracting the row maximum changes nothing mathematically (it cancels in
    the ratio) but keeps ``exp`` from overflowing.
    """
    S = Z - xp.max(Z, axis=1, keepdims=True)
    E = xp.exp(S)
    s = xp.sum(E, axis=1, keepdims=True)
    return E / s, xp.sum(Y * (xp.log(s) - S)) / divisor


def softmax_cross_entropy_rows(Z, Y, /, *, xp):
    """``(A, l)``: ``A = exp(S) / s``,  ``l_i = Σ_k Y_ik (log s_i - S_ik)``, each row's cross-entropy
    (:func:`softmax_cross_entropy` before the sum over rows, for a weighted reduction)."""
    S = Z - xp.max(Z, axis=1, keepdims=True)
    E = xp.exp(S)
    s = xp.sum(E, axis=1, keepdims=True)
    return E / s, xp.sum(Y * (xp.log(s) - S), axis=1)


def _clip_probability(A, /, *, xp):
    # log(0) and division by 0 only happen when an output has saturated; clipping
    # at the dtype's resolution keeps the general (non-fused) path finite.
    eps = xp.finfo(A.dtype).eps
    return xp.minimum(xp.maximum(A, eps), 1.0 - eps)


#: name -> loss class
LOSSES: dict[str, type[Loss]] = {"mse": MSE, "bce": BCE, "cross_entropy": CrossEntropy, "poisson": Poisson}
_LOSS_ALIASES = {
    "squared_error": "mse",
    "binary_cross_entropy": "bce",
    "log_loss": "cross_entropy",
    "categorical_cross_entropy": "cross_entropy",
}


def get_loss(loss: str | Loss | dict[str, Any]) -> Loss:
    """A :class:`Loss` from a name, an instance, or a :meth:`Loss.config` dictionary."""
    if isinstance(loss, Loss):
        return loss
    valid = sorted([*LOSSES, *_LOSS_ALIASES])
    kwargs: dict[str, Any] = {}
    if isinstance(loss, dict):
        kwargs = dict(loss)
        if "name" not in kwargs:
            raise ValueError(f"a loss configuration needs a 'name', one of {valid}; got {loss!r}")
        loss = kwargs.pop("name")
    if not isinstance(loss, str):
        raise TypeError(
            f"loss must be a name, one of {valid}, or an xb.Loss, got {type(loss).__name__} {loss!r}"
        )
    key = _LOSS_ALIASES.get(loss, loss)
    if key not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; valid names are {valid}")
    return LOSSES[key](**kwargs)
