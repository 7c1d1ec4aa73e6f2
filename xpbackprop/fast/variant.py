"""One backend's version of a reference formula, with why it exists and how close it stays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Variant"]


@dataclass(frozen=True)
class Variant:
    """A backend's version of one reference formula, with the same signature."""

    function: Callable[..., Any]
    #: why it exists, in a few words (the measured gain is in benchmarks/NOTES.md)
    reason: str
    #: 0: the same bits as the reference; else the largest difference allowed, in units of the
    #: dtype's epsilon relative to the result's largest entry
    ulps: int = 0
