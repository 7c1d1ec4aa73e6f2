"""Where the estimators' data lives, and what follows from it.

Host data (NumPy, lists, pandas) is validated by scikit-learn and answered in NumPy; an array of
torch, JAX, CuPy, array-api-strict or Dask is trained on where it lives, in its float dtype, and
answered in its library. The messages here speak of the estimator, its data and its parameters
(``backend=``, ``device=``), never of the network inside it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import validate_data

from .. import backend as _backend
from ..backend import device_of

__all__ = ["check_features", "check_library", "follow", "is_host", "placement", "rows"]


def is_host(x: Any) -> bool:
    """Data scikit-learn validates (NumPy, lists, pandas, ...), as opposed to another array library's."""
    lib = _backend.library_of(x)
    return lib is None or lib == "numpy" or lib not in _backend.BACKENDS


def placement(X: Any, backend: str | None, device: Any, dtype: str | None) -> tuple[str, Any, str]:
    """``(backend, device, dtype)`` for a new network: the estimator's parameters where given, else
    where ``X`` lives and its float dtype (float64 for other host data, as scikit-learn)."""
    host = is_host(X)
    lib = "numpy" if host else _backend.library_of(X)
    if backend is not None and not host and _backend.backend_name(backend) != lib:
        raise TypeError(f"X is an array of {lib} but backend={backend!r}; pass backend=None to train where "
                        "X lives, or give X as NumPy data")
    backend = lib if backend is None else _backend.backend_name(backend)
    device = device if device is not None or host else device_of(X)
    if dtype is not None:
        return backend, device, _backend.dtype_name(dtype)
    name = str(X.dtype).split(".")[-1]
    if name in ("float32", "float64"):
        return backend, device, name
    xp = _backend.namespace(lib)
    default = "float64" if host else str(xp.__array_namespace_info__().default_dtypes()["real floating"])
    return backend, device, default.split(".")[-1]


def check_library(estimator: Any, net: Any, x: Any, name: str = "X") -> None:
    """A fitted estimator takes host data, or arrays of the library and device it was fitted on:
    ``TypeError``/``ValueError`` in the estimator's terms otherwise."""
    if is_host(x):
        return
    lib, kind = _backend.library_of(x), type(estimator).__name__
    if lib != net.backend:
        raise TypeError(f"{name} is an array of {lib} but this {kind} was fitted on {net.backend} arrays; "
                        f"give {name} as an array of {net.backend} or as NumPy data, or fit the estimator "
                        f"on {lib} data (backend=None follows X)")
    where, fitted = device_of(x), device_of(net.parameters[0])
    if str(where) != str(fitted):
        raise ValueError(f"{name} is on device {where!r} but this {kind} was fitted on device {fitted!r}; "
                         f"give {name} on {fitted!r} or as NumPy data")


def check_features(estimator: Any, X: Any, *, reset: bool) -> Any:
    """``X`` validated: by scikit-learn for host data, by shape for array-library data; sets
    ``n_features_in_`` when ``reset``, else checks ``X`` against it."""
    if is_host(X):
        return validate_data(estimator, X, reset=reset, dtype=(np.float64, np.float32))
    if X.ndim != 2:
        raise ValueError(f"X must be 2-d (n_samples, n_features), got shape {tuple(X.shape)}")
    if reset:
        estimator.n_features_in_ = int(X.shape[1])
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
                         f"{estimator.n_features_in_} features as input.")
    return X


def follow(A: Any, X: Any, net: Any) -> Any:
    """A network output in the namespace of ``X`` (NumPy for host data)."""
    return _backend.to_numpy(A) if is_host(X) and net.backend != "numpy" else A


def rows(A: Any, index: np.ndarray) -> Any:
    """The rows ``index`` (host integers) of ``A``, in ``A``'s namespace."""
    if isinstance(A, np.ndarray):
        return A[index]
    xp = _backend.array_namespace(A)
    return xp.take(A, xp.asarray(index, device=device_of(A)), axis=0)
