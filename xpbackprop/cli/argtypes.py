"""The command line's argument types: each turns one option's text into its value, or raises
``argparse.ArgumentTypeError`` with a message that names what was expected and what was given."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["fraction", "hidden_sizes", "label_column", "non_negative_float", "non_negative_int",
           "positive_float", "positive_int", "rate", "thread_count"]


def hidden_sizes(text: str) -> list[int]:
    """``64,32`` -> ``[64, 32]``; ``none`` (or nothing) -> no hidden layer."""
    if text.strip().lower() in ("", "none"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"hidden sizes must be comma-separated positive integers such as 64,32, got {text!r}"
        ) from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be positive, got {text!r}")
    return sizes


def _int_from(low: int, what: str) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``low`` (``what`` names it in the message)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


positive_int = _int_from(1, "a positive integer")
non_negative_int = _int_from(0, "a non-negative integer")


def _number_in(what: str, accept: Callable[[float], bool]) -> Callable[[str], float]:
    """An argparse type: a number that ``accept`` takes (``what`` names the range in the message)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (math.isfinite(value) and accept(value)):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


positive_float = _number_in("a finite number > 0", lambda v: v > 0)
non_negative_float = _number_in("a finite number >= 0", lambda v: v >= 0)
#: a held-out part of the rows (0: none)
fraction = _number_in("a fraction in [0, 1)", lambda v: 0 <= v < 1)
#: a dropout rate
rate = _number_in("a rate in [0, 1)", lambda v: 0 <= v < 1)


def thread_count(text: str) -> int | None:
    """``auto`` -> ``None`` (the command line's choice), else a non-negative integer (0: the
    libraries' own defaults)."""
    if text.strip().lower() == "auto":
        return None
    return non_negative_int(text)


def label_column(text: str) -> str | int:
    """A column index when the text is an integer, else a column name."""
    try:
        return int(text)
    except ValueError:
        return text
