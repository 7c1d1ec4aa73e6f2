"""Checks of array values, read back to the host once per public call, and their messages.

Each check is a 0-d boolean "something is wrong" flag computed on the device; :meth:`ValueChecks.run`
reads every flag in one transfer and raises the first problem found, computing its details (how
many values, which row) only then.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

from . import backend as _backend

__all__ = [
    "ValueChecks",
    "dtype_text",
    "is_floating",
    "is_label_vector",
    "plural",
    "row_sum_tolerance",
]


def dtype_text(dtype: Any) -> str:
    """``float32`` for numpy's, torch's (``torch.float32``) and array-api-strict's dtypes alike."""
    return str(dtype).split(".")[-1]


def _kind(dtype: Any) -> str | None:
    """NumPy's one-letter dtype kind where the library uses NumPy dtypes (numpy, jax, cupy, dask)."""
    kind = getattr(dtype, "kind", None)
    return kind if isinstance(kind, str) else None


def is_floating(dtype: Any, xp: ModuleType) -> bool:
    """``xp.isdtype(dtype, "real floating")``, without its cost for NumPy-style dtypes."""
    kind = _kind(dtype)
    return kind == "f" if kind is not None else xp.isdtype(dtype, "real floating")


def is_label_vector(Y: Any, loss: Any, n_out: int) -> bool:
    """Whether ``Y`` holds class labels (cross-entropy, 1-d, more than one output)."""
    return getattr(loss, "name", "") == "cross_entropy" and Y.ndim == 1 and n_out > 1


def row_sum_tolerance(n_out: int, eps: float = 2.0**-23) -> float:
    """How far a cross-entropy target row may sum from 1 for a softmax output:
    ``n_out · max(2⁻²⁰, 8 eps)``, ``eps`` the machine epsilon of the dtype the targets were given in
    (float32's by default).

    Soft labels rounded to a dtype and summed there are off by at most ``n_out · eps / 2`` (each
    entry and each addition rounds by at most half an ulp of 1), so probability rows pass with a
    16-fold margin (float32: ``n_out · 2⁻²⁰``; float16 or bfloat16 rows, as a half-precision model
    gives them, with their own), while a row that is off by more (a gradient error of that
    relative size) is refused.
    """
    return n_out * max(2.0**-20, 8.0 * eps)


def plural(n: int, word: str) -> str:
    """``1 output``, ``2 outputs``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class ValueChecks:
    """Checks of array values, each a 0-d boolean "something is wrong" flag on the device.

    :meth:`run` reads every flag in one transfer and raises the first problem found
    (computing its details only then). Nothing is read before :meth:`run`.
    """

    def __init__(self, xp: ModuleType) -> None:
        self.xp = xp
        self._pending: list[tuple[Any, Callable[[], Exception | None]]] = []

    def _add(self, flag: Any, explain: Callable[[], Exception | None]) -> None:
        """``explain`` builds the exception once ``flag`` is read as true; it returns ``None``
        when a closer look finds nothing wrong (a flag that may be a false alarm)."""
        self._pending.append((flag, explain))

    def finite(self, A: Any, name: str) -> None:
        """NaN or ±inf anywhere in ``A`` (floating ``A`` only: integers are always finite)."""
        xp = self.xp
        if is_floating(A.dtype, xp):
            self._add(~xp.all(xp.isfinite(A)), lambda: _non_finite_error(A, name, xp))

    def targets(self, Y: Any, encoded: Any, loss: Any, n_out: int, name: str = "Y", *,
                output: str | None = None, given_eps: float | None = None) -> None:
        """Finite targets; labels in ``[0, n_out)`` and whole numbers (cross-entropy labels);
        values in ``[0, 1]`` (binary cross-entropy, cross-entropy probability rows); and, for
        cross-entropy with the network's ``output`` its canonical softmax, rows that sum to 1
        within :func:`row_sum_tolerance` of the epsilon of the dtype the targets were given in
        (``given_eps``; the fused ``dZ = A - Y`` is exact only then)."""
        xp = self.xp
        if is_label_vector(Y, loss, n_out):
            if xp.isdtype(Y.dtype, "bool"):
                return  # labels 0 and 1, both valid with two or more outputs
            if is_floating(Y.dtype, xp):
                self.finite(Y, name)
                self._add(xp.any(Y != xp.floor(Y)), lambda: _fractional_labels_error(Y, n_out, name, xp))
                high = n_out - 1
            else:
                high = min(n_out - 1, xp.iinfo(Y.dtype).max)  # n_out - 1 may not fit a small dtype
            self._add(
                xp.any((Y < 0) | (Y > high)), lambda: _label_range_error(Y, n_out, name, xp)
            )
            return
        kind = getattr(loss, "name", "")
        if kind not in ("bce", "cross_entropy"):
            self.finite(encoded, name)
            return
        # within [0, 1]: the smallest and largest values say it (NaN propagates through min and
        # max, and fails both comparisons), in two reductions instead of four passes
        inside = (xp.min(encoded) >= 0) & (xp.max(encoded) <= 1)

        def explain() -> ValueError:
            if not bool(xp.all(xp.isfinite(encoded))):
                return _non_finite_error(encoded, name, xp)
            return _unit_interval_error(encoded, kind, name, xp)

        self._add(~inside, explain)
        if kind == "cross_entropy" and output is not None and output == getattr(loss, "canonical", None):
            # d/dZ of -Σ_k Y_k log softmax(Z)_k is A Σ_k Y_k - Y: the fused A - Y needs Σ_k Y_k = 1.
            # NaN sums fail the comparison: the range check above reports them.
            # (a sum, not a product with ones: GPU libraries may run float32 products in TF32)
            sums = xp.sum(encoded, axis=1)
            eps = float(xp.finfo(encoded.dtype).eps) if given_eps is None else given_eps
            tol = row_sum_tolerance(n_out, eps)
            self._add(xp.max(xp.abs(sums - 1.0)) > tol, lambda: _row_sum_error(sums, tol, name, xp))

    def run(self) -> None:
        """Read every pending flag at once; raise the first problem's exception."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        xp = self.xp
        # lazy backends (dask) compute the flags here: casts that overflow and sums of infinities
        # (inf - inf) are what the flags report
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            flags = _backend.to_numpy(xp.stack([flag for flag, _ in pending])).tolist()
            error = next((e for bad, (_, explain) in zip(flags, pending)
                          if bad and (e := explain()) is not None), None)
        if error is not None:
            raise error


def _index_dtype(xp: ModuleType) -> Any:
    return xp.__array_namespace_info__().default_dtypes()["indexing"]


def _count(mask: Any, xp: ModuleType) -> int:
    return int(xp.sum(xp.astype(mask, _index_dtype(xp))))


def _host_list(A: Any, xp: ModuleType) -> list[Any]:
    return _backend.to_numpy(xp.reshape(A, (-1,))).tolist()


def _non_finite_error(A: Any, name: str, xp: ModuleType) -> ValueError:
    n_nan = _count(xp.isnan(A), xp)
    n_inf = _count(xp.isinf(A), xp)
    bad = ~xp.isfinite(A)
    rows = xp.any(bad, axis=tuple(range(1, A.ndim))) if A.ndim > 1 else bad
    first = _host_list(rows, xp).index(True)
    parts = [p for p, n in ((f"{n_nan} NaN", n_nan), (plural(n_inf, "infinite value"), n_inf)) if n]
    note = ""
    if n_inf:
        largest = float(xp.finfo(A.dtype).max)
        note = f" (checked as {dtype_text(A.dtype)}, where magnitudes above {largest:.3g} are infinite)"
    return ValueError(
        f"{name} contains {' and '.join(parts)} among its {math.prod(A.shape)} values, the first in "
        f"row {first}{note}; remove or impute them first"
    )


def _examples(values: list[Any], limit: int = 5) -> str:
    shown = ", ".join(f"{v:.9g}" if isinstance(v, float) else str(v) for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def _label_range_error(Y: Any, n_out: int, name: str, xp: ModuleType) -> ValueError:
    labels = _host_list(Y, xp)
    bad = [(i, v) for i, v in enumerate(labels) if not 0 <= v < n_out]
    return ValueError(
        f"{name} holds class labels outside [0, {n_out}) for a network with {n_out} outputs: "
        f"{len(bad)} of {len(labels)} labels, e.g. {_examples([v for _, v in bad])} "
        f"(first in row {bad[0][0]}); labels must be integers 0 .. {n_out - 1}"
    )


def _fractional_labels_error(Y: Any, n_out: int, name: str, xp: ModuleType) -> ValueError:
    labels = _host_list(Y, xp)
    bad = [(i, v) for i, v in enumerate(labels) if v != math.floor(v)]
    return ValueError(
        f"{name} is a 1-d float array given as class labels for cross-entropy, but {len(bad)} of "
        f"its {len(labels)} values are not whole numbers, e.g. {_examples([v for _, v in bad])} "
        f"(first in row {bad[0][0]}); pass integer labels in [0, {n_out}) or one-hot rows of width {n_out}"
    )


def _row_sum_error(sums: Any, tol: float, name: str, xp: ModuleType) -> ValueError:
    values = _host_list(sums, xp)
    bad = [(i, v) for i, v in enumerate(values) if abs(v - 1.0) > tol]
    i, v = bad[0]
    return ValueError(
        f"cross-entropy target rows for a softmax output must each sum to 1 (one-hot or probability "
        f"rows: the gradient dZ = A - Y assumes it), but {len(bad)} of the {len(values)} rows of "
        f"{name} do not; the first, row {i}, sums to {v:.9g} (allowed: |sum - 1| <= {tol:.3g}); "
        f"divide each row by its sum, or pass class labels of shape (N,)"
    )


def _unit_interval_error(Y: Any, kind: str, name: str, xp: ModuleType) -> ValueError:
    outside = (Y < 0) | (Y > 1)
    n = _count(outside, xp)
    low, high = float(xp.min(Y)), float(xp.max(Y))
    what = "binary cross-entropy targets" if kind == "bce" else "cross-entropy target rows"
    return ValueError(
        f"{what} must lie in [0, 1], but {n} of the {math.prod(Y.shape)} values of {name} are "
        f"outside (min {low:g}, max {high:g})"
    )
