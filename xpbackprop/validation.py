"""Checks of user input shared by every public entry: one clear error, raised before any state changes.

Conventions (the same at every entry point):

- ``TypeError`` for a value of the wrong *type*: a string where a number is needed,
  ``2.5`` or ``True`` where an integer is needed, a complex, string or object array,
  an array of another array library than the network's (the message names both).
- ``ValueError`` for a value of the right type that is out of range or does not fit:
  ``lr <= 0``, ``epochs < 1``, unknown names (the message lists the valid ones), shapes
  that do not match the network or each other, NaN or infinite values, class labels
  outside ``[0, n_classes)``, an array on another device than the network's
  (the message names both devices).

Every message names the argument and the values involved.

Array checks come in two kinds. Structural checks (library, device, dtype, shape,
target encoding) look only at metadata and cost nothing on the device. Value checks
(NaN/inf, label range, target range) are collected in a :class:`ValueChecks` and
read back to the host *once* per public call, all together; ``Trainer._step`` does
neither, and ``Trainer.step`` only the structural ones, so that a loop of steps never
waits for the device.

Like the other formula modules, this one works on the array namespace only (no NumPy):
host reads go through :func:`xpbackprop.backend.to_numpy`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from array_api_compat import device as _device

from . import backend as _backend
from ._reductions import column_sum

__all__ = [
    "ValueChecks",
    "as_array",
    "cast",
    "check_choice",
    "check_device",
    "check_integer",
    "check_number",
    "check_samples",
    "check_seed",
    "check_targets",
    "device_of",
    "is_floating",
    "is_integral",
    "is_label_vector",
    "row_sum_tolerance",
]

_NUMERIC_KINDS = ("real floating", "integral", "bool")


# --- scalars and names -------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return type(value).__name__


def check_integer(name: str, value: Any, *, minimum: int = 1, allow_none: bool = False) -> int | None:
    """``value`` as an ``int`` (Python or NumPy integer, not ``bool``) ``>= minimum``.

    ``TypeError`` for a non-integer (``2.5``, ``"3"``, ``True``), ``ValueError`` below ``minimum``.
    """
    if value is None and allow_none:
        return None
    what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    alternative = " or None" if allow_none else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {what}{alternative}, got {_type_name(value)} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be {what}{alternative}, got {value!r}")
    return int(value)


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
    allow_infinite: bool = False,
    what: str | None = None,
) -> float | None:
    """``value`` as a ``float``: a real number (not ``bool``), finite, within the given bounds.

    ``TypeError`` for a non-number (``"0.1"``, ``None``, an array), ``ValueError`` for
    NaN, infinity (unless ``allow_infinite``) or a value outside the bounds.
    """
    if value is None and allow_none:
        return None

    def expected() -> str:  # the message's start, built only for an error (fit checks ~10 numbers)
        bounds = _interval(low, high, low_open, high_open)
        text = what or " ".join(
            part for part in ("a finite" if not allow_infinite else "a", "number", bounds) if part
        )
        return f"{name} must be {text}{' or None' if allow_none else ''}, got"

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{expected()} {_type_name(value)} {value!r}")
    v = float(value)
    ok = not math.isnan(v) and (allow_infinite or math.isfinite(v))
    if ok and low is not None:
        ok = v > low if low_open else v >= low
    if ok and high is not None:
        ok = v < high if high_open else v <= high
    if not ok:
        raise ValueError(f"{expected()} {value!r}")
    return v


def check_choice(what: str, value: Any, valid: Sequence[str]) -> str:
    """``value`` if it is one of the names ``valid``: ``TypeError`` for a non-string,
    ``ValueError`` for an unknown name; both list the valid names."""
    valid = list(valid)
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a name, one of {valid}, got {_type_name(value)} {value!r}")
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid names are {valid}")
    return value


def check_seed(name: str, seed: Any) -> None:
    """A seed for ``numpy.random.default_rng``: ``None``, an integer ``>= 0``, or a generator."""
    if seed is None or hasattr(seed, "bit_generator") or hasattr(seed, "generate_state"):
        return
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{name} must be None, an integer >= 0 or a numpy.random.Generator, "
            f"got {_type_name(seed)} {seed!r}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {seed!r}")


def _devices(xp: ModuleType) -> list[Any] | None:
    """The devices the namespace reports (array API inspection), or None where it cannot."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about device types it probes
            return list(xp.__array_namespace_info__().devices())
    except Exception:
        return None


def check_backend_and_device(backend: Any, device: Any = None) -> ModuleType:
    """The namespace of ``backend`` after checking it and ``device``: ``TypeError`` for a
    backend that is neither a name nor a module, ``ValueError`` for an unknown name (the valid
    ones listed) or a device the backend does not have, ``ImportError`` for a missing library."""
    if not isinstance(backend, (str, ModuleType)):
        raise TypeError(
            f"backend must be a name, one of {list(_backend.BACKENDS)}, or an array module, "
            f"got {_type_name(backend)} {backend!r}"
        )
    xp = _backend.namespace(backend)
    check_device(xp, device, _backend.backend_name(backend))
    return xp


def check_device(xp: ModuleType, device: Any, backend: str) -> None:
    """``ValueError`` (naming the device and the backend's devices) unless ``xp`` can put an
    array on ``device``; ``None`` is always the library's default device."""
    if device is None:
        return
    try:
        xp.zeros((1,), device=device)
    except Exception as exc:
        known = _devices(xp)
        listing = f"; its devices here are {known}" if known else ""
        raise ValueError(
            f"device {device!r} is not a device of backend {backend!r} "
            f"({type(exc).__name__}: {exc}){listing}"
        ) from exc


# --- arrays: structure (no host read) ---------------------------------------------------------


def _kind(dtype: Any) -> str | None:
    """NumPy's one-letter dtype kind where the library uses NumPy dtypes (numpy, jax, cupy, dask)."""
    kind = getattr(dtype, "kind", None)
    return kind if isinstance(kind, str) else None


def is_floating(dtype: Any, xp: ModuleType) -> bool:
    """``xp.isdtype(dtype, "real floating")``, without its cost for NumPy-style dtypes."""
    kind = _kind(dtype)
    return kind == "f" if kind is not None else xp.isdtype(dtype, "real floating")


def device_of(x: Any) -> Any:
    """The device of an array: its ``.device`` attribute where it has one (torch, cupy, jax,
    array-api-strict, NumPy 2), else ``array_api_compat.device`` (several times slower)."""
    where = getattr(x, "device", None)
    return _device(x) if where is None or callable(where) else where


def is_integral(dtype: Any, xp: ModuleType) -> bool:
    """``xp.isdtype(dtype, "integral")``, without its cost for NumPy-style dtypes."""
    kind = _kind(dtype)
    return kind in ("i", "u") if kind is not None else xp.isdtype(dtype, "integral")


def _is_numeric(dtype: Any, xp: ModuleType) -> bool:
    kind = _kind(dtype)
    return kind in ("b", "i", "u", "f") if kind is not None else xp.isdtype(dtype, _NUMERIC_KINDS)


def as_array(x: Any, xp: ModuleType, *, name: str, device: Any = None,
             expected_device: Callable[[], Any] | None = None, backend: str | None = None) -> Any:
    """``x`` as an array of ``xp`` (the backend named ``backend``) holding real numbers.

    Host data (NumPy arrays, nested lists, Python numbers) is moved to ``device``.
    An array of ``xp``'s own library is used as it is and must already be on the
    network's device, ``expected_device()`` (asked only then): ``ValueError`` naming both
    devices otherwise.
    An array of any other library is a ``TypeError`` naming both libraries; so are
    complex, string, object and other non-numeric dtypes (bool, integer and float are
    accepted). A ragged nested list is a ``ValueError``. No host read.
    """
    target = backend or _backend.backend_name(xp)
    if x is None:
        raise TypeError(f"{name} must be an array of numbers, got None")
    if isinstance(x, (list, tuple)):
        try:
            x = _backend.to_numpy(x)  # host data: numpy settles its dtype and shape
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} is not a rectangular array of numbers ({exc})") from exc
    lib = _backend._library_of(x)
    if lib == target:  # the network's own library: no conversion, only checks
        if not _is_numeric(x.dtype, xp):
            raise TypeError(_dtype_message(name, x.dtype))
        if expected_device is not None and target != "numpy":  # NumPy has one device
            where, expected = device_of(x), expected_device()
            if where != expected:
                raise ValueError(
                    f"{name} is on device {where!r} but the network's parameters are on device "
                    f"{expected!r}; move {name} there first (or pass host data, which is moved)"
                )
        if target == "dask":  # chunked by rows only: each sample whole in one chunk (lazy)
            from ._dask import whole_samples

            x = whole_samples(x, name)
        return x
    if lib == "builtins":
        raise TypeError(f"{name} must be an array of numbers, got {_type_name(x)} {x!r:.60}")
    if lib is not None and lib != "numpy":
        hint = (
            f"convert with xb.to_numpy({name}) or move the network with net.to({lib!r})"
            if lib in _backend.BACKENDS else f"convert it to a NumPy array first (xb.to_numpy({name}))"
        )
        raise TypeError(
            f"{name} is an array of {lib} ({_type_name(x)}) but the network runs on {target}: "
            f"arrays from different libraries in one call: {lib} and {target}; {hint}"
        )
    kind = _kind(getattr(x, "dtype", None))
    if kind is not None and kind not in ("b", "i", "u", "f"):
        raise TypeError(_dtype_message(name, x.dtype))
    if target == "jax":
        with warnings.catch_warnings():  # JAX without x64 casts float64 host data to float32 here
            warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
            converted = _backend.to_backend(x, xp, device=device)
    else:
        converted = _backend.to_backend(x, xp, device=device)
    if not _is_numeric(converted.dtype, xp):
        raise TypeError(_dtype_message(name, converted.dtype))
    return converted


def _dtype_text(dtype: Any) -> str:
    """``float32`` for numpy's, torch's (``torch.float32``) and array-api-strict's dtypes alike."""
    return str(dtype).split(".")[-1]


def _dtype_message(name: str, dtype: Any) -> str:
    text = _dtype_text(dtype)
    what = "complex numbers" if "complex" in text else "non-numeric data"
    return (
        f"{name} must hold real numbers (bool, integer or float), got dtype {text} ({what}); "
        "convert it to a float array first"
    )


def _layer_text(layer: Any) -> str:
    return repr(layer)


def cast(A: Any, xp: ModuleType, dtype: Any) -> Any:
    """``A`` in ``dtype``. Values beyond the dtype's range become ±inf without a warning:
    the finiteness check that follows reports them (NumPy would warn about the overflow)."""
    if A.dtype == dtype:
        return A
    if not is_floating(A.dtype, xp):  # integers and bools fit any float dtype's range
        return xp.astype(A, dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
        return xp.astype(A, dtype)


def check_samples(X: Any, layers: Sequence[Any], *, name: str = "X") -> None:
    """``X`` has one row per sample, at least one row, no empty dimension, and samples
    of the shape the network's first layer expects (``ValueError`` naming both)."""
    shape = tuple(X.shape)
    first = layers[0]
    n_in = getattr(first, "n_in", None)
    if X.ndim < 2:
        expected = f"(N, {n_in})" if n_in is not None else "(N, ...)"
        raise ValueError(
            f"{name} must have one row per sample, shape {expected}, got shape {shape}"
            + (" (one sample: X[None, :]; one feature: reshape to (N, 1))" if X.ndim == 1 else "")
        )
    if shape[0] == 0:
        raise ValueError(f"{name} is empty: it has 0 rows (shape {shape}); at least one sample is needed")
    if any(s == 0 for s in shape[1:]):
        raise ValueError(f"{name} is empty: it has 0 features (shape {shape})")
    if n_in is not None:
        if X.ndim != 2:
            raise ValueError(
                f"{name} must be 2-d (N, {n_in}) for a network that starts with "
                f"{_layer_text(first)}, got shape {shape}"
            )
        if shape[1] != n_in:
            raise ValueError(
                f"{name} has {shape[1]} features (columns) but the network's first layer "
                f"{_layer_text(first)} expects {n_in}"
            )
    sample = shape[1:]
    try:
        for layer in layers:
            sample = layer.output_shape(sample)
    except ValueError as exc:
        raise ValueError(f"{name} of shape {shape} does not fit the network: {exc}") from exc


def check_targets(Y: Any, loss: Any, n_out: int, n_rows: int, *, name: str = "Y", x_name: str = "X") -> None:
    """``Y`` fits ``n_rows`` samples, ``n_out`` outputs and the loss's target encoding.

    Accepted: ``(N, n_out)`` (one-hot rows for cross-entropy); ``(N,)`` for one output;
    ``(N,)`` class labels for cross-entropy with more than one output.
    """
    shape = tuple(Y.shape)
    kind = getattr(loss, "name", "")
    accepted = f"({n_rows}, {n_out})" + (" or (N,)" if n_out == 1 or kind == "cross_entropy" else "")
    if Y.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-d (N,) or 2-d (N, {n_out}), got {Y.ndim}-d shape {shape}; "
            f"expected {accepted}"
        )
    if shape[0] != n_rows:
        raise ValueError(f"{x_name} has {n_rows} rows but {name} has {shape[0]}; they must match")
    if Y.ndim == 1:
        if n_out == 1 or kind == "cross_entropy":
            return
        extra = " (multi-label targets are 0/1 rows)" if kind == "bce" else ""
        raise ValueError(
            f"{name} of shape {shape} has one value per sample but the network has "
            f"{_plural(n_out, 'output')}; expected shape ({n_rows}, {n_out}){extra}"
        )
    if shape[1] != n_out:
        if kind == "cross_entropy":
            hint = f"; one-hot rows need width {n_out}" + (
                ", class labels go in a 1-d array of shape (N,)" if shape[1] == 1 else ""
            )
        else:
            hint = ""
        raise ValueError(
            f"{name} has {_plural(shape[1], 'column')} but the network has "
            f"{_plural(n_out, 'output')}; expected shape {accepted}{hint}"
        )


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


def is_label_vector(Y: Any, loss: Any, n_out: int) -> bool:
    """Whether ``Y`` holds class labels (cross-entropy, 1-d, more than one output)."""
    return getattr(loss, "name", "") == "cross_entropy" and Y.ndim == 1 and n_out > 1


# --- arrays: values (one host read per public call) ---------------------------------------------


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
        """NaN or ±inf anywhere in ``A`` (floating ``A`` only: integers are always finite).

        A matrix of 32 columns or more is checked through its row sums ``A 1`` (one BLAS pass,
        2-4x faster on NumPy than ``isfinite`` and ``all``; benchmarks/NOTES.md): a NaN or an
        infinity makes its row's sum non-finite, and finite sums mean finite entries. A sum may
        also overflow with every entry finite: only then are the entries themselves checked.
        """
        xp = self.xp
        if not is_floating(A.dtype, xp):
            return
        if A.ndim == 2 and A.shape[1] >= 32:
            with warnings.catch_warnings():  # inf - inf, or an overflow: what the flag is for
                warnings.simplefilter("ignore", RuntimeWarning)
                sums = column_sum(A, xp=xp)
            self._add(~xp.all(xp.isfinite(sums)),
                      lambda: None if bool(xp.all(xp.isfinite(A))) else _non_finite_error(A, name, xp))
            return
        self._add(~xp.all(xp.isfinite(A)), lambda: _non_finite_error(A, name, xp))

    def targets(self, Y: Any, encoded: Any, loss: Any, n_out: int, name: str = "Y", *,
                output: str | None = None, given_dtype: Any = None) -> None:
        """Finite targets; labels in ``[0, n_out)`` and whole numbers (cross-entropy labels);
        values in ``[0, 1]`` (binary cross-entropy, cross-entropy probability rows); and, for
        cross-entropy with the network's ``output`` its canonical softmax, rows that sum to 1
        within :func:`row_sum_tolerance` of the dtype the targets were given in (``given_dtype``;
        the fused ``dZ = A - Y`` is exact only then)."""
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
            given = encoded.dtype if given_dtype is None else given_dtype
            tol = row_sum_tolerance(n_out, xp.finfo(given).eps if is_floating(given, xp) else 0.0)
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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _non_finite_error(A: Any, name: str, xp: ModuleType) -> ValueError:
    n_nan = _count(xp.isnan(A), xp)
    n_inf = _count(xp.isinf(A), xp)
    bad = ~xp.isfinite(A)
    rows = xp.any(bad, axis=tuple(range(1, A.ndim))) if A.ndim > 1 else bad
    first = _host_list(rows, xp).index(True)
    parts = [p for p, n in ((f"{n_nan} NaN", n_nan), (_plural(n_inf, "infinite value"), n_inf)) if n]
    note = ""
    if n_inf:
        largest = float(xp.finfo(A.dtype).max)
        note = f" (checked as {_dtype_text(A.dtype)}, where magnitudes above {largest:.3g} are infinite)"
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
