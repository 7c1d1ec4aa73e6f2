"""scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor`` over :class:`xpbackprop.MLP`.

They follow scikit-learn 1.9's MLP to the letter where they can (its parameters and signatures,
its start from ``random_state``, its solvers ``"sgd"``, ``"adam"`` and ``"lbfgs"``, its
``sample_weight``, its fitted attributes) and train through the library's own pieces
(:func:`xpbackprop.epochs.run_epoch` and the engine). ``docs/sklearn.md`` names every remaining
difference. Everything follows ``X``: given arrays of torch, JAX, CuPy or array-api-strict, the
network trains on that library and device (``backend=None``, ``device=None``) in ``X``'s float
dtype (``dtype=None``), and ``coefs_``, ``intercepts_``, predictions and probabilities come back
as arrays of that library. Any other ``X`` (NumPy, lists, pandas) is validated by scikit-learn
and gives NumPy.

scikit-learn is an optional dependency: ``pip install 'xpbackprop[sklearn]'``.
"""

try:
    import sklearn  # noqa: F401
    from sklearn.utils.validation import validate_data  # noqa: F401  (scikit-learn >= 1.6)
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError(
        "xpbackprop.sklearn needs scikit-learn >= 1.6: pip install 'xpbackprop[sklearn]' "
        f"({exc})"
    ) from exc

from .classifier import MLPClassifier
from .regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
