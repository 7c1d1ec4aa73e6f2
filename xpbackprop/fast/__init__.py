"""Backend fast paths: variants of the reference formulas, one table per backend.

The formula modules (:mod:`~xpbackprop.activations`, :mod:`~xpbackprop.losses`,
:mod:`~xpbackprop.layers`, :mod:`~xpbackprop.optimizers`) hold the plain array-API expression of
each equation: the specification, and what every backend runs unless its table here has a
variant for that formula. Where a formula is applied, its caller asks for it by the reference
function itself::

    fast.lookup(xp, dense_forward)(A_prev, W, b, xp=xp)

and gets the backend's variant of that name, or the reference. A variant computes the same
values as its reference (bit for bit where its entry says ``exact``, else within ``ulps`` units
of the dtype's epsilon, relative to the result's largest entry), each checked by
``tests/test_fast.py`` on both sides of every size switch, and stays only while a whole-step
benchmark shows it pays (benchmarks/NOTES.md). This package is the only code that branches on
the array namespace; backends without a table (CuPy, JAX, array-api-strict, Dask) run the
reference formulas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from array_api_compat import is_numpy_namespace, is_torch_namespace

from .variant import Variant

__all__ = ["REFERENCE_MODULES", "Variant", "disabled", "lookup", "table_name", "variants"]

#: the modules whose functions the tables' keys name (a key is the reference function's ``__name__``)
REFERENCE_MODULES = (
    "xpbackprop.activations", "xpbackprop.layers", "xpbackprop.losses", "xpbackprop.optimizers",
)


def _tables() -> dict[str, dict[str, Variant]]:
    from . import _numpy, _torch

    return {"numpy": _numpy.VARIANTS, "torch": _torch.VARIANTS}


def table_name(xp: Any) -> str | None:
    """The table a namespace uses (``"numpy"``, ``"torch"``), or ``None``: the reference formulas."""
    if is_numpy_namespace(xp):
        return "numpy"
    if is_torch_namespace(xp):
        return "torch"
    return None


def variants(table: str) -> dict[str, Variant]:
    """The variants of one table (``"numpy"``, ``"torch"``), by the name of the formula they replace."""
    return dict(_tables()[table])


_ACTIVE: dict[Any, dict[str, Callable[..., Any]]] = {}  # namespace -> name -> function in use
_OFF: set[str] = set()  # names whose reference runs instead (see disabled)
_ALL_OFF = "*"


def _active(xp: Any) -> dict[str, Callable[..., Any]]:
    name = table_name(xp)
    table = {} if name is None or _ALL_OFF in _OFF else _tables()[name]
    active = {key: v.function for key, v in table.items() if key not in _OFF}
    _ACTIVE[xp] = active
    return active


def lookup(xp: Any, reference: Callable[..., Any]) -> Callable[..., Any]:
    """The function to run for ``reference`` on namespace ``xp``: its variant, or itself."""
    try:
        active = _ACTIVE[xp]
    except KeyError:
        active = _active(xp)
    return active.get(reference.__name__, reference)


@contextmanager
def disabled(*names: str) -> Iterator[None]:
    """Within the block, the reference formulas run instead of the variants named (all of them
    when no name is given): for benchmarks and for the op count of the plain path."""
    added = {_ALL_OFF} if not names else set(names) - _OFF
    _OFF.update(added)
    _ACTIVE.clear()
    try:
        yield
    finally:
        _OFF.difference_update(added)
        _ACTIVE.clear()
