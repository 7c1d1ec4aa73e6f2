"""``xpbackprop info [MODEL]``: the backends here and their devices, or what a model file holds."""

from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np

import xpbackprop as xb

from ..backend import backend_unavailable_reason, devices
from .modelfile import class_labels, read_model

__all__ = ["cmd_info"]


def cmd_info(args: argparse.Namespace) -> int:
    """``xpbackprop info``; returns the exit status."""
    if args.model is not None:
        return _describe_model(args)
    print(f"xpbackprop {xb.__version__}, Python {sys.version.split()[0]}, numpy {np.__version__}")
    width = max(len(name) for name in xb.BACKENDS)
    for name in xb.BACKENDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reason = backend_unavailable_reason(name)
            found = None if reason else devices(xb.namespace(name))
        if reason:
            print(f"{name:<{width}}  unavailable: {' '.join(reason.split())}")
            continue
        shown = ", ".join(str(d) for d in found if d is not None) if found else "default"
        print(f"{name:<{width}}  available  {_library_version(name)}  devices: {shown}")
    return 0


def _describe_model(args: argparse.Namespace) -> int:
    """The model's summary, then what the file knows of its data: classes, features, label column."""
    net, info = read_model(args.model)
    print(f"{args.model}:")
    print(net.summary())
    labels = class_labels(net, info)
    if labels is not None:
        named = "" if info.classes is not None else " (the file names none: the class indices)"
        print(f"classes ({len(labels)}){named}: " + ", ".join(str(c) for c in labels[:50])
              + (", ..." if len(labels) > 50 else ""))
    if info.features is not None:
        print(f"features ({len(info.features)}): " + ", ".join(info.features[:50])
              + (", ..." if len(info.features) > 50 else ""))
    if info.label is not None:
        print(f"label column: {info.label}")
    return 0


def _library_version(name: str) -> str:
    module = {"array_api_strict": "array_api_strict"}.get(name, name)
    try:
        return sys.modules[module].__version__ if module in sys.modules else __import__(module).__version__
    except Exception:
        return "?"
