"""Shared command line of the examples: ``--backend`` (each example fixes its own dtype)."""

from __future__ import annotations

import argparse

import xpbackprop as xb


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", default="numpy", choices=list(xb.BACKENDS),
                        help="array library to run on (default: numpy)")
    return parser.parse_args(argv)
