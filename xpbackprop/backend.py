"""Backends: array namespaces by name, what runs here, and the host boundary.

This is the one module (with :mod:`xpbackprop.init` and :mod:`xpbackprop.io`)
that knows NumPy: data crosses between the host and a backend only here.
"""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "BACKENDS",
    "array_namespace",
    "available_backends",
    "backend_name",
    "check_backend_and_device",
    "check_device",
    "device_of",
    "devices",
    "dtype_name",
    "enable_float64",
    "host_eps",
    "library_of",
    "mutable",
    "namespace",
    "on_host",
    "plain_host_array",
    "resolve_dtype",
    "supports_float64",
    "to_backend",
    "to_numpy",
]

#: Backend names, in the order :func:`available_backends` reports them.
BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "dask", "cupy")

# name -> module to import for the namespace
_NAMESPACE_MODULES = {
    "numpy": "array_api_compat.numpy",
    "cupy": "array_api_compat.cupy",
    "torch": "array_api_compat.torch",
    "jax": "jax.numpy",
    "array_api_strict": "array_api_strict",
    "dask": "array_api_compat.dask.array",
}

# top-level package of a module or array type -> backend name
_PACKAGE_TO_BACKEND = {
    "numpy": "numpy",
    "cupy": "cupy",
    "torch": "torch",
    "jax": "jax",
    "jaxlib": "jax",
    "array_api_strict": "array_api_strict",
    "dask": "dask",
}


def _name_of_module(module: ModuleType) -> str:
    name = module.__name__
    if name.startswith("array_api_compat."):
        name = name[len("array_api_compat.") :]
    top = name.split(".")[0]
    if top not in _PACKAGE_TO_BACKEND:
        raise ValueError(
            f"module {module.__name__!r} is not a supported array library; "
            f"valid backends are {list(BACKENDS)}"
        )
    return _PACKAGE_TO_BACKEND[top]


def namespace(backend: str | ModuleType) -> ModuleType:
    """The array-API namespace of ``backend``: a name from :data:`BACKENDS` or a module.

    ``namespace("torch")`` and ``namespace(torch)`` both return
    ``array_api_compat.torch``; ``namespace("jax")`` returns ``jax.numpy``.
    Raises ``ValueError`` for an unknown name and ``ImportError`` (with the
    package to install) when the library is not installed.
    """
    name = backend_name(backend)
    try:
        return importlib.import_module(_NAMESPACE_MODULES[name])
    except ImportError as exc:
        extra = {"cupy": "cuda12' or 'cuda13", "array_api_strict": "strict"}.get(name, name)
        raise ImportError(
            f"backend {name!r} needs its library: pip install 'xpbackprop[{extra}]' ({exc})"
        ) from exc


def backend_name(backend: str | ModuleType) -> str:
    """The canonical name (one of :data:`BACKENDS`) of a backend name or module."""
    if isinstance(backend, ModuleType):
        return _name_of_module(backend)
    if not isinstance(backend, str) or backend not in _NAMESPACE_MODULES:
        raise ValueError(f"unknown backend {backend!r}; valid backends are {list(BACKENDS)}")
    return backend


def _cuda_device_answers() -> bool:
    try:
        import cupy
    except Exception:
        return False
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def backend_unavailable_reason(name: str) -> str | None:
    """Why backend ``name`` cannot run on this machine, or ``None`` when it can."""
    name = backend_name(name)
    if name == "cupy":
        try:
            import cupy  # noqa: F401
        except Exception as exc:
            return f"cupy is not importable ({type(exc).__name__}: {exc})"
        if not _cuda_device_answers():
            return "no CUDA device answers (cupy.cuda.runtime.getDeviceCount() failed or is 0)"
        return None
    try:
        namespace(name)
    except ImportError as exc:
        return str(exc)
    return None


def available_backends() -> list[str]:
    """Names of the backends usable on this machine (``cupy`` only with a CUDA device)."""
    return [name for name in BACKENDS if backend_unavailable_reason(name) is None]


def library_of(x: Any) -> str | None:
    """Backend name of one array, or ``None`` for Python scalars and sequences."""
    if isinstance(x, (int, float, bool, complex, list, tuple)) or x is None:
        return None
    top = type(x).__module__.split(".")[0]
    return _PACKAGE_TO_BACKEND.get(top, top)


def array_namespace(*arrays: Any) -> ModuleType:
    """The namespace shared by ``arrays``; a ``TypeError`` names both libraries if they differ."""
    libraries: dict[str, Any] = {}
    for x in arrays:
        lib = library_of(x)
        if lib is not None:
            libraries.setdefault(lib, x)
    if len(libraries) > 1:
        names = sorted(libraries)
        raise TypeError(
            f"arrays from different libraries in one call: {' and '.join(names)}; "
            "move them to one backend first (xb.to_numpy, net.to)"
        )
    if not libraries:
        raise TypeError("expected at least one array, got only Python scalars or None")
    return array_api_compat.array_namespace(*libraries.values())


def to_numpy(x: Any) -> np.ndarray:
    """Any backend's array as a new ``numpy.ndarray``: always a copy, never a view.

    (Training updates parameters in place where the library allows it, so a
    snapshot must not share memory with them.)
    """
    if isinstance(x, np.ndarray):
        return np.array(x, copy=True, subok=False)  # a plain ndarray, also of a subclass (np.matrix)
    lib = library_of(x)
    if lib is None:
        return np.asarray(x)
    if lib == "cupy":
        return x.get()
    if lib == "torch":
        return x.detach().cpu().numpy().copy()
    if lib == "dask":
        return np.asarray(x.compute())
    if lib == "array_api_strict":
        return np.array(np.from_dlpack(x), copy=True)
    return np.array(x, copy=True)


def dtype_name(dtype: Any) -> str:
    """``"float32"`` or ``"float64"`` for a name or a dtype object; ``ValueError`` otherwise."""
    if isinstance(dtype, str):
        name = dtype
    elif isinstance(dtype, type):  # a scalar type: np.float32, jnp.float64
        name = dtype.__name__
    else:  # a dtype object: np.dtype("float32"), torch.float32, array-api-strict's
        name = getattr(dtype, "name", str(dtype)).split(".")[-1]
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return name


def resolve_dtype(xp: ModuleType, dtype: Any) -> Any:
    """The namespace's floating dtype for ``"float32"`` / ``"float64"`` (or a dtype object)."""
    return getattr(xp, dtype_name(dtype))


def enable_float64(xp: ModuleType) -> None:
    """Let ``xp`` hold float64 arrays: JAX keeps float32 unless ``jax_enable_x64`` is on.

    A float64 network on jax switches the flag on (process-wide, as JAX's own
    documentation does it); every other backend needs nothing.
    """
    if _name_of_module(xp) == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)


def to_backend(
    x: Any, xp: ModuleType, *, dtype: Any = None, device: Any = None, copy: bool | None = None
) -> Any:
    """Move ``x`` (host data or an array of ``xp``'s own library) onto ``xp`` / ``device``.

    NumPy arrays, Python lists and scalars are host data and are copied over.
    An array of another array library raises ``TypeError`` naming both.
    ``copy=True`` guarantees a new array (``None``: copy only when needed).
    """
    lib = library_of(x)
    target = _name_of_module(xp)
    if lib is not None and lib not in (target, "numpy"):
        raise TypeError(
            f"arrays from different libraries in one call: {lib} and {target}; "
            f"convert with xb.to_numpy(x) or move the network with net.to({lib!r})"
        )
    if target == "dask" and lib != "dask":
        from ._dask import from_host  # rows in chunks, persisted once (on the cluster, if any)

        if copy is False:  # refused as array_api_compat refuses it: host data is always copied
            raise ValueError("copy=False: host data cannot move onto the dask backend without a copy")
        # a copy, so that the Dask array never shares memory with the caller's
        return from_host(np.array(x, dtype=dtype, copy=True))
    kwargs: dict[str, Any] = {} if copy is None else {"copy": copy}
    if lib in (None, "numpy") and target != "numpy":
        # what every library takes: native byte order, C order (and 0-d stays 0-d, which
        # np.ascontiguousarray would make (1,)); cast here, on the host, so that what moves is
        # already in its dtype (float64 data never travels to, or lives on, a float32 device)
        x = np.asarray(x, dtype=None if dtype is None else _host_dtype(dtype))
        if not x.dtype.isnative:
            x = x.astype(x.dtype.newbyteorder("="))
        if not x.flags.c_contiguous:
            x = np.array(x, order="C")
    elif dtype is not None:
        kwargs["dtype"] = dtype
    if device is not None:
        kwargs["device"] = device
    return xp.asarray(x, **kwargs)


# --- devices ---------------------------------------------------------------------------------


def devices(xp: ModuleType) -> list[Any] | None:
    """The devices the namespace reports (array API inspection), or None where it cannot."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about device types it probes
            return list(xp.__array_namespace_info__().devices())
    except Exception:
        return None


def device_of(x: Any) -> Any:
    """The device of an array: its ``.device`` attribute where it has one (torch, cupy, jax,
    array-api-strict, NumPy 2), else ``array_api_compat.device`` (several times slower)."""
    where = getattr(x, "device", None)
    return array_api_compat.device(x) if where is None or callable(where) else where


def check_backend_and_device(backend: Any, device: Any = None) -> ModuleType:
    """The namespace of ``backend`` after checking it and ``device``: ``TypeError`` for a
    backend that is neither a name nor a module, ``ValueError`` for an unknown name (the valid
    ones listed) or a device the backend does not have, ``ImportError`` for a missing library."""
    if not isinstance(backend, (str, ModuleType)):
        raise TypeError(
            f"backend must be a name, one of {list(BACKENDS)}, or an array module, "
            f"got {type(backend).__name__} {backend!r}"
        )
    xp = namespace(backend)
    check_device(xp, device, backend_name(backend))
    return xp


def check_device(xp: ModuleType, device: Any, backend: str) -> None:
    """``ValueError`` (naming the device and the backend's devices) unless ``device`` is one of
    ``xp``'s devices; ``None`` is always the library's default device.

    The device itself is asked: an array is made there (``asarray``, which every namespace places
    on the device it is given, CuPy's included) and the device it lands on must be one the
    namespace reports. A name the library does not know, or a device number beyond the ones this
    machine has, is refused here rather than at the first computation."""
    if device is None:
        return
    known = devices(xp)
    listing = f"; its devices here are {known}" if known else ""
    try:
        where = device_of(xp.asarray([0.0], device=device))
        found = known is None or any(where == k for k in known)
    except Exception as exc:
        raise ValueError(
            f"device {device!r} is not a device of backend {backend!r} "
            f"({type(exc).__name__}: {exc}){listing}"
        ) from exc
    if not found:
        raise ValueError(f"device {device!r} is not a device of backend {backend!r}{listing}")


def on_host(xp: ModuleType, device: Any = None) -> bool:
    """Whether arrays of ``xp`` on ``device`` live in the machine's main memory: NumPy,
    array-api-strict and Dask arrays, and those on a CPU device of PyTorch or JAX (the device is
    asked: an array is made there)."""
    name = _name_of_module(xp)
    if name in ("numpy", "array_api_strict", "dask"):
        return True
    try:
        where = device_of(xp.zeros((), device=device))
    except Exception:
        return False
    kind = getattr(where, "type", None) or getattr(where, "platform", None) or where
    return str(kind).lower() == "cpu"


def supports_float64(xp: ModuleType, device: Any = None) -> bool:
    """Whether ``device`` of ``xp`` holds float64 arrays (array API inspection; assumed where the
    namespace cannot say)."""
    try:
        kinds = xp.__array_namespace_info__().dtypes(device=device, kind="real floating")
    except Exception:
        return True
    return "float64" in kinds


def mutable(x: Any) -> bool:
    """Whether ``x`` is an array that can change in place (NumPy, CuPy, PyTorch, Dask; not JAX)."""
    return array_api_compat.is_writeable_array(x)


def plain_host_array(x: Any, name: str) -> Any:
    """A NumPy masked array is refused (its mask would be ignored on some backends and break the
    arithmetic on others); an ``np.matrix`` or other ``ndarray`` subclass becomes a plain array of
    the same shape and values."""
    if not isinstance(x, np.ndarray) or type(x) is np.ndarray:
        return x
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a NumPy masked array ({int(np.ma.count_masked(x))} of its {x.size} values "
            f"masked); xpbackprop does not apply masks: fill the masked values "
            f"({name}.filled(value)) or drop their rows ({name}[~{name}.mask.any(axis=1)]), and pass "
            f"a plain array"
        )
    return np.asarray(x).view(np.ndarray)


def host_eps(dtype: Any) -> float:
    """The machine epsilon of a host (NumPy) floating dtype."""
    return float(np.finfo(dtype).eps)


def _host_dtype(dtype: Any) -> np.dtype:
    """NumPy's dtype of the same name as a namespace's dtype (``torch.float32``, ``jnp.float32``, ...)."""
    name = dtype.__name__ if isinstance(dtype, type) else getattr(dtype, "name", None)
    return np.dtype(name if isinstance(name, str) else str(dtype).split(".")[-1])


# --- devices across pickling -------------------------------------------------------------------


class DeviceName(str):
    """The name of a device that did not pickle, found again among the backend's devices."""


def portable_device(device: Any) -> Any:
    """A device as it pickles: itself, or its name where it does not pickle (JAX's devices)."""
    import pickle

    try:
        pickle.dumps(device)
    except Exception:
        return DeviceName(str(device))
    return device


def device_named(backend: str, device: Any) -> Any:
    """The device :func:`portable_device` stood for, among ``backend``'s devices here;
    ``ValueError`` naming it where this machine has no such device."""
    if not isinstance(device, DeviceName):
        return device
    for candidate in namespace(backend).__array_namespace_info__().devices():
        if str(candidate) == device:
            return candidate
    raise ValueError(f"the pickled device {str(device)!r} is not a device of {backend} here")
