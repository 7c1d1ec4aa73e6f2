"""``main``: parse the arguments, set up the run (threads), run the command, and turn its errors
into one line on stderr."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from .common import CommandError
from .parser import build_parser
from .runtime import run_settings

__all__ = ["main", "parse_arguments"]


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed arguments of ``argv`` (``sys.argv[1:]`` by default); no arguments is ``train``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    return build_parser().parse_args(argv or ["train"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 1 for an error, 2 for bad arguments)."""
    args = parse_arguments(argv)
    try:
        with run_settings(args.backend, args.device, args.threads):
            return args.handler(args)
    except KeyboardInterrupt:
        print("xpbackprop: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output left (`| head`): nothing more to say
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit either
        return 1
    except MemoryError as exc:
        detail = " ".join(str(exc).split())
        print(f"xpbackprop: error: not enough memory{': ' + detail if detail else ''} "
              "(a smaller --hidden or --batch-size needs less)", file=sys.stderr)
        return 1
    except (CommandError, ValueError, TypeError, ImportError, OSError, FloatingPointError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in message:
            message = f"{exc.filename}: {message}"
        print(f"xpbackprop: error: {message}", file=sys.stderr)
        return 1
