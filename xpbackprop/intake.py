"""Array intake: data onto the network's backend, in its dtype, with every check that needs no host read.

Host data (NumPy arrays, nested lists, Python numbers) is cast on the host to the dtype it will
have on the device and then moved there; an array of the network's own library is used as it
is and must already be on the network's device. Structural checks (library, device, dtype,
shape, target encoding) look only at metadata; the value checks (NaN/inf, label range, target
range, row sums) are collected in a :class:`~xpbackprop.valuechecks.ValueChecks` and read back
once per public call. ``Trainer.step`` runs only the structural ones, so a loop of steps never
waits for the device.

Errors follow the library's convention: ``TypeError`` for the wrong type (an array of another
library, complex, string or object data), ``ValueError`` for values or shapes that do not fit,
naming the argument and the values involved. This module works on the array namespace
(host reads through :func:`xpbackprop.backend.to_numpy`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from . import adapters
from . import backend as _backend
from .backend import device_of
from .layers import fixed_output, shape_after
from .valuechecks import ValueChecks, dtype_text, is_floating, is_label_vector, plural

__all__ = [
    "NO_TARGETS",
    "as_array",
    "cast",
    "check_samples",
    "check_targets",
    "checked",
    "host_array",
    "inputs",
    "parameter",
    "parameter_lists",
    "target_width",
    "targets",
]

_NUMERIC_KINDS = ("real floating", "integral", "bool")


def _kind(dtype: Any) -> str | None:
    kind = getattr(dtype, "kind", None)
    return kind if isinstance(kind, str) else None


def _is_numeric(dtype: Any, xp: ModuleType) -> bool:
    kind = _kind(dtype)
    return kind in ("b", "i", "u", "f") if kind is not None else xp.isdtype(dtype, _NUMERIC_KINDS)


def _dtype_message(name: str, dtype: Any) -> str:
    text = dtype_text(dtype)
    what = "complex numbers" if "complex" in text else "non-numeric data"
    return (
        f"{name} must hold real numbers (bool, integer or float), got dtype {text} ({what}); "
        "convert it to a float array first"
    )


def host_array(x: Any, *, name: str) -> Any:
    """Nested lists and tuples as a NumPy array (NumPy settles their dtype and shape); anything
    else as it is. A ragged list is a ``ValueError``."""
    if not isinstance(x, (list, tuple)):
        return x
    try:
        return _backend.to_numpy(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not a rectangular array of numbers ({exc})") from exc


def as_array(x: Any, xp: ModuleType, *, name: str, device: Any = None,
             expected_device: Callable[[], Any] | None = None, backend: str | None = None,
             host_dtype: Any = None) -> Any:
    """``x`` as an array of ``xp`` (the backend named ``backend``) holding real numbers.

    Host data (NumPy arrays, nested lists, Python numbers) is cast to ``host_dtype`` (if given)
    on the host, then moved to ``device``. An array of ``xp``'s own library is used as it is and
    must already be on the network's device, ``expected_device()`` (asked only then):
    ``ValueError`` naming both devices otherwise. An array of any other library is a
    ``TypeError`` naming both libraries; so are complex, string, object and other non-numeric
    dtypes (bool, integer and float are accepted). A ragged nested list is a ``ValueError``.
    No host read.
    """
    target = backend or _backend.backend_name(xp)
    if x is None:
        raise TypeError(f"{name} must be an array of numbers, got None")
    x = host_array(x, name=name)
    x = _backend.plain_host_array(x, name)
    lib = _backend.library_of(x)
    if lib == target:  # the network's own library: no conversion, only checks
        return _own_array(x, xp, name=name, target=target, expected_device=expected_device)
    if lib == "builtins":
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__} {x!r:.60}")
    if lib is not None and lib != "numpy":
        hint = (
            f"convert with xb.to_numpy({name}) or move the network with net.to({lib!r})"
            if lib in _backend.BACKENDS else f"convert it to a NumPy array first (xb.to_numpy({name}))"
        )
        raise TypeError(
            f"{name} is an array of {lib} ({type(x).__name__}) but the network runs on {target}: "
            f"arrays from different libraries in one call: {lib} and {target}; {hint}"
        )
    kind = _kind(getattr(x, "dtype", None))
    if kind is not None and kind not in ("b", "i", "u", "f"):
        raise TypeError(_dtype_message(name, x.dtype))
    with warnings.catch_warnings():  # a cast that overflows gives inf: the value checks report it
        warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)
        converted = _backend.to_backend(x, xp, device=device, dtype=host_dtype)
    if not _is_numeric(converted.dtype, xp):
        raise TypeError(_dtype_message(name, converted.dtype))
    return converted


def _own_array(x: Any, xp: ModuleType, *, name: str, target: str,
               expected_device: Callable[[], Any] | None) -> Any:
    if not _is_numeric(x.dtype, xp):
        raise TypeError(_dtype_message(name, x.dtype))
    if expected_device is not None and target != "numpy":  # NumPy has one device
        where, expected = device_of(x), expected_device()
        if where != expected:
            raise ValueError(
                f"{name} is on device {where!r} but the network's parameters are on device "
                f"{expected!r}; move {name} there first (or pass host data, which is moved)"
            )
    if target == "dask":
        x = adapters.for_backend(target).own_input(x, name)
    return x


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
            f"{plural(n_out, 'output')}; expected shape ({n_rows}, {n_out}){extra}"
        )
    if shape[1] != n_out:
        if kind == "cross_entropy":
            hint = f"; one-hot rows need width {n_out}" + (
                ", class labels go in a 1-d array of shape (N,)" if shape[1] == 1 else ""
            )
        else:
            hint = ""
        raise ValueError(
            f"{name} has {plural(shape[1], 'column')} but the network has "
            f"{plural(n_out, 'output')}; expected shape {accepted}{hint}"
        )




# --- a network's inputs and targets ----------------------------------------------------------------


def _param_device(net: Any) -> Callable[[], Any]:
    """The device the network's parameters are on (what ``device=None`` resolved to; for a network
    still being built, where an array made there lands), asked only when an input is an array of
    the network's own library."""
    def where() -> Any:
        first = net.parameters[0]
        return device_of(first if first is not None else net.xp.zeros((), device=net.device))

    return where


def inputs(net: Any, X: Any, name: str = "X", checks: ValueChecks | None = None) -> Any:
    """``X`` on the network's backend in its dtype, after the checks that need no host read
    (library, device, dtype, shape); with ``checks``, its finiteness joins them (read later)."""
    X = as_array(X, net.xp, name=name, device=net.device, expected_device=_param_device(net),
                 backend=net.backend, host_dtype=net.dtype)
    check_samples(X, net.layers, name=name)
    X = cast(X, net.xp, net.dtype)
    if checks is not None:
        checks.finite(X, name)
    return X


def parameter(net: Any, value: Any, *, name: str) -> Any:
    """A parameter array for ``net`` (``weights[k]``, ``biases[k]``): on its backend, in its dtype."""
    arr = as_array(value, net.xp, name=name, device=net.device, expected_device=_param_device(net),
                   backend=net.backend, host_dtype=net.dtype)
    return cast(arr, net.xp, net.dtype)


def parameter_lists(net: Any, weights: Any, biases: Any) -> list[Any]:
    """``[W1, b1, W2, b2, ...]`` for ``net.set_parameters(weights, biases)``: each array on the
    network's backend in its dtype, of its layer's shape and finite (one host read), before
    anything changes. ``TypeError``: ``weights``/``biases`` not lists, non-numeric or complex arrays,
    arrays of another library; ``ValueError``: the wrong number of arrays or a wrong shape (both
    named), NaN or infinite values, an array on another device than the network's."""
    for label, given in (("weights", weights), ("biases", biases)):
        if isinstance(given, (str, bytes)) or hasattr(given, "shape") or not isinstance(given, Sequence):
            raise TypeError(
                f"{label} must be a list with one array per parametric layer, got {type(given).__name__}"
            )
    weights, biases = list(weights), list(biases)
    layers = [layer for layer in net.layers if layer.params]
    if len(weights) != len(layers) or len(biases) != len(layers):
        raise ValueError(f"the network has {len(layers)} parametric layers; got {len(weights)} weights "
                         f"and {len(biases)} biases")
    checks = ValueChecks(net.xp)
    converted = []
    for k, layer in enumerate(layers):
        shapes = layer.param_shapes()
        for label, value, key in (("weights", weights[k], "W"), ("biases", biases[k], "b")):
            name = f"{label}[{k}]"
            arr = parameter(net, value, name=name)
            if tuple(arr.shape) != tuple(shapes[key]):
                raise ValueError(f"{name} must have shape {tuple(shapes[key])} for {layer!r}, "
                                 f"got {tuple(arr.shape)}")
            checks.finite(arr, name)
            converted.append(arr)
    checks.run()
    return converted


def target_width(layers: Sequence[Any], sample_shape: tuple[int, ...] | None) -> int:
    """``n_out`` of the targets: the output's width, which must be one row per sample.
    ``sample_shape``, one input sample's shape, is needed only where the layers do not fix the
    output width (a network without a Dense layer)."""
    fixed = fixed_output(layers)
    if fixed is None:
        if sample_shape is None:
            raise ValueError(
                "the targets' width of a network without a Dense layer depends on the input's "
                "length: pass the input sample shape (sample_shape=X.shape[1:])"
            )
        fixed = (tuple(sample_shape), list(layers))
    out = shape_after(fixed[1], fixed[0])
    if len(out) != 1:
        raise ValueError(
            f"the network's output has shape {out} per sample, but a loss compares one row of "
            f"targets per sample: end the network with Flatten() to train it against "
            f"(N, {math.prod(out)}) targets"
        )
    return out[0]


def _host_targets(net: Any, Y: Any, n_out: int, name: str) -> tuple[Any, Any, float | None]:
    """``(Y, dtype to cast it to on the host, epsilon of its own float dtype)`` for host targets:
    float targets travel in the network's dtype, but class labels keep theirs (so that 1.0000001
    is not rounded into a whole number before it is checked) where the device holds float64."""
    Y = host_array(Y, name=name)
    if _backend.library_of(Y) not in (None, "numpy") or _kind(getattr(Y, "dtype", None)) != "f":
        return Y, None, None
    eps = _backend.host_eps(Y.dtype)
    if is_label_vector(Y, net.loss_fn, n_out) and _backend.supports_float64(net.xp, net.device):
        return Y, None, eps
    return Y, net.dtype, eps


def targets(net: Any, Y: Any, n_rows: int, name: str = "Y", x_name: str = "X",
            checks: ValueChecks | None = None, *, sample_shape: tuple[int, ...] | None = None) -> Any:
    """``Y`` encoded as ``(N, n_out)`` floats, after the structural checks; with ``checks``, the
    value checks (finite, label range, target range, cross-entropy row sums) join them (read later)."""
    xp, loss = net.xp, net.loss_fn
    n_out = target_width(net.layers, sample_shape)
    Y, host_dtype, given_eps = _host_targets(net, Y, n_out, name)
    Y = as_array(Y, xp, name=name, device=net.device, expected_device=_param_device(net),
                 backend=net.backend, host_dtype=host_dtype)
    check_targets(Y, loss, n_out, n_rows, name=name, x_name=x_name)
    if given_eps is None and is_floating(Y.dtype, xp):
        given_eps = float(xp.finfo(Y.dtype).eps)
    if Y.dtype != net.dtype and is_floating(Y.dtype, xp) and not is_label_vector(Y, loss, n_out):
        # targets in the network's dtype (out-of-range values: inf, reported below); class
        # labels keep theirs, so that 1.0000001 is not rounded into a whole number first
        Y = cast(Y, xp, net.dtype)
    encoded = loss.encode_targets(Y, n_out, xp=xp, dtype=net.dtype)
    if checks is not None:
        checks.targets(Y, encoded, loss, n_out, name, output=net.output_activation, given_eps=given_eps)
    return encoded


#: ``checked``'s ``Y`` when there are no targets (``None`` is a bad target: a ``TypeError``)
NO_TARGETS: Any = object()


def checked(net: Any, X: Any, Y: Any = NO_TARGETS, *, x_name: str = "X", y_name: str = "Y",
            checks: ValueChecks | None = None) -> tuple[Any, Any]:
    """``(X, Y)`` converted and fully checked (one host read unless ``checks`` is given, in which
    case the caller runs it); without ``Y`` (:data:`NO_TARGETS`) the second is ``None``."""
    own = checks is None
    checks = ValueChecks(net.xp) if own else checks
    X = inputs(net, X, x_name, checks)
    if Y is NO_TARGETS:
        Y = None
    else:
        Y = targets(net, Y, X.shape[0], y_name, x_name, checks, sample_shape=tuple(X.shape[1:]))
    if own:
        checks.run()
    return X, Y
