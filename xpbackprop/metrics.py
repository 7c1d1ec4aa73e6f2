"""Scores on the device: accuracy for classifiers, R² for regression (``xp`` only)."""

from __future__ import annotations

__all__ = ["CLASSIFIER_OUTPUTS", "accuracy", "classification_errors", "labels", "r2_score"]

#: output activations whose network is a classifier (its predictions are labels, its score accuracy)
CLASSIFIER_OUTPUTS = ("softmax", "sigmoid")


def labels(A, output: str, /, *, xp):
    """Class labels: ``argmax`` of each row, or ``A > ½`` per column for a sigmoid output.

    Integer labels in the namespace's default index dtype (int32 on JAX without x64).
    """
    if output == "sigmoid":
        return xp.astype(A > 0.5, xp.__array_namespace_info__().default_dtypes()["indexing"])
    return xp.argmax(A, axis=1)


def classification_errors(A, Y, output: str, /, *, xp):
    """Number of samples whose predicted class differs from the target's (0-d array).

    Softmax outputs compare ``argmax A`` with ``argmax Y``; sigmoid outputs compare
    ``A > ½`` with ``Y > ½`` in every column (a sample is wrong if any column is).
    """
    wrong = labels(A, output, xp=xp) != labels(Y, output, xp=xp)
    if wrong.ndim == 2:
        wrong = xp.any(wrong, axis=1)
    return xp.sum(xp.astype(wrong, A.dtype))


def accuracy(A, Y, output: str, /, *, xp):
    """Fraction of samples classified right (0-d array)."""
    return 1.0 - classification_errors(A, Y, output, xp=xp) / A.shape[0]


def r2_score(A, Y, /, *, xp):
    """R² = 1 - Σ(Y - A)² / Σ(Y - Ȳ)², per output column, averaged (scikit-learn's default)."""
    residual = xp.sum((Y - A) ** 2, axis=0)
    total = xp.sum((Y - xp.mean(Y, axis=0)) ** 2, axis=0)
    # a constant target column scores 1 if predicted exactly, else 0 (scikit-learn's convention)
    safe = xp.where(total > 0, total, 1.0)
    per_output = xp.where(total > 0, 1.0 - residual / safe, xp.astype(residual == 0, residual.dtype))
    return xp.mean(per_output)
