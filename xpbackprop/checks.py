"""Checks of scalar arguments shared by every public entry: one clear error, raised before any state changes.

- ``TypeError`` for a value of the wrong *type*: a string where a number is needed, ``2.5`` or
  ``True`` where an integer is needed.
- ``ValueError`` for a value of the right type that is out of range (``lr <= 0``,
  ``epochs < 1``) or an unknown name (the message lists the valid ones).

Every message names the argument and the value. Array arguments are checked by
:mod:`xpbackprop.intake` (structure) and :mod:`xpbackprop.valuechecks` (values).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

__all__ = ["check_bool", "check_choice", "check_integer", "check_number", "check_seed", "type_name"]


def type_name(value: Any) -> str:
    """The name of ``value``'s type, for messages."""
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
        raise TypeError(f"{name} must be {what}{alternative}, got {type_name(value)} {value!r}")
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

    def expected() -> str:  # the message's start, built only for an error
        bounds = _interval(low, high, low_open, high_open)
        text = what or " ".join(
            part for part in ("a finite" if not allow_infinite else "a", "number", bounds) if part
        )
        return f"{name} must be {text}{' or None' if allow_none else ''}, got"

    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{expected()} {type_name(value)} {value!r}")
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
        raise TypeError(f"{what} must be a name, one of {valid}, got {type_name(value)} {value!r}")
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid names are {valid}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False`` (NumPy's bool too); ``TypeError`` otherwise."""
    if value is True or value is False or type_name(value) == "bool_":
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type_name(value)} {value!r}")


def check_seed(name: str, seed: Any) -> None:
    """A seed for ``numpy.random.default_rng``: ``None``, an integer ``>= 0``, or a generator."""
    if seed is None or hasattr(seed, "bit_generator") or hasattr(seed, "generate_state"):
        return
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"{name} must be None, an integer >= 0 or a numpy.random.Generator, "
            f"got {type_name(seed)} {seed!r}"
        )
    if seed < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {seed!r}")
