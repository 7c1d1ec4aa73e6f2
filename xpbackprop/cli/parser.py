"""The argument tables of ``train`` (and ``demo``), ``predict`` and ``info``.

One option name has one meaning in every command: ``-o``/``--output`` is the file a command
writes (``predict``); the output layer's activation is ``--output-activation`` (``train``'s
``--output`` is its deprecated spelling, accepted with a warning).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import xpbackprop as xb

from . import argtypes
from .common import DEFAULTS

__all__ = ["build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and ``--help`` named) instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


class _Deprecated(argparse.Action):
    """An old spelling of an option: stores into the new one's place, with a warning on stderr."""

    def __init__(self, option_strings: list[str], dest: str, *, new: str, **kwargs: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"xpbackprop: warning: {option_string} in {parser.prog.split()[-1]} is deprecated (it names "
              f"the output activation, not an output file): use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def _per_data(key: str) -> str:
    """The defaults of ``key`` per data set, for the help text."""
    def text(value: Any) -> str:
        return ",".join(map(str, value)) if isinstance(value, list) else f"{value:g}"

    return "; ".join(f"{'files' if kind == 'file' else kind}: {text(d[key])}" for kind, d in DEFAULTS.items())


def _network_options(add: Callable[..., Any]) -> None:
    add("--hidden", type=argtypes.hidden_sizes, default=None, metavar="SIZES",
        help=f"hidden layer widths, comma-separated, 'none' for no hidden layer "
             f"(default {_per_data('hidden')})")
    add("--activation", default=None, metavar="NAME[,NAME...]",
        help="hidden activation, one name or one per hidden layer "
             f"({', '.join(sorted(xb.ACTIVATIONS))}; default relu, tanh for xor)")
    add("--task", choices=["auto", "classification", "regression"], default="auto",
        help="auto (default): classes for labels that are names or a few whole numbers, regression for "
             "non-integer targets (said in a note), refused where it cannot tell; classification "
             "(softmax + cross-entropy, accuracy) or regression (identity + mean squared error, R²) force it")
    add("--output-activation", default=None, metavar="NAME",
        help="output activation (default softmax; identity for regression; sigmoid on two classes is "
             "one unit with binary cross-entropy)")
    add("--output", dest="output_activation", action=_Deprecated, new="--output-activation",
        help=argparse.SUPPRESS)
    add("--loss", default=None, metavar="NAME",
        help="loss (default cross_entropy; bce for a sigmoid output; mse for regression)")
    add("--dropout", type=argtypes.rate, default=0.0, metavar="RATE",
        help="dropout after each hidden layer, active in training only (default 0: none)")


def _training_options(add: Callable[..., Any]) -> None:
    add("--optimizer", choices=["sgd", "adam"], default=None, help="default adam")
    add("--lr", type=argtypes.positive_float, default=None,
        help=f"learning rate (adam: {_per_data('lr')}; sgd: 0.1)")
    add("--momentum", type=argtypes.non_negative_float, default=0.0, help="sgd momentum")
    add("--weight-decay", type=argtypes.non_negative_float, default=None,
        help=f"L2 penalty weight_decay/2·Σ‖W‖² ({_per_data('weight_decay')})")
    add("--epochs", type=argtypes.positive_int, default=None, help=f"default {_per_data('epochs')}")
    add("--batch-size", type=argtypes.positive_int, default=None, help=f"default {_per_data('batch_size')}")
    add("--seed", type=argtypes.non_negative_int, default=0,
        help="seeds the splits, the initial weights, the batch order and dropout (default 0)")
    add("--test-size", type=argtypes.fraction, default=0.25,
        help="held-out fraction for the final test, stratified by class (default 0.25; 0: none)")
    add("--validation-fraction", type=argtypes.fraction, default=None, metavar="FRACTION",
        help="part of the training rows held out to watch each epoch (and for --early-stopping); "
             "default 0, or 0.1 with --early-stopping")
    add("--early-stopping", action="store_true",
        help="stop when the validation loss has not improved for --patience epochs; keep the best weights")
    add("--patience", type=argtypes.positive_int, default=None,
        help="epochs without improvement before --early-stopping stops (default 10)")


def _run_options(add: Callable[..., Any]) -> None:
    """Where to run: the backend, its device, its CPU threads."""
    add("--backend", choices=list(xb.BACKENDS), default="numpy", help="default numpy")
    add("--device", default=None, help="a device of the backend (cuda, cuda:1, 0, gpu)")
    add("--threads", type=argtypes.thread_count, default=None, metavar="N|auto",
        help="CPU threads for the matrix products: torch's threads and NumPy's BLAS (the latter with "
             "threadpoolctl installed); auto (default): 1 on the CPU, where more threads stall on these "
             "small matrices; 0: every library's own setting")


def _add_train(commands: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    train = commands.add_parser(name, **kwargs)
    add = train.add_argument
    _network_options(add)
    _training_options(add)
    _run_options(add)
    add("--dtype", choices=["float32", "float64"], default="float32", help="default float32")
    add("--save", type=Path, default=None, metavar="MODEL.npz",
        help="save the trained network (the feature scaling folded into its first layer)")
    add("--plot", type=Path, default=None, metavar="CURVE.png",
        help="write the loss and score curves as a PNG (pip install 'xpbackprop[plot]')")
    add("--progress", action=argparse.BooleanOptionalAction, default=True,
        help="a bar on a terminal (tqdm if installed), else one line per epoch on stderr")
    return train


def build_parser() -> argparse.ArgumentParser:
    """The ``xpbackprop`` argument parser with its ``train``, ``predict``, ``info``, ``demo`` commands."""
    from .info import cmd_info
    from .predict import cmd_predict
    from .train import cmd_train

    parser = _Parser(prog="xpbackprop", description="Train, apply and inspect xpbackprop networks. "
                                                    "Without a command: train on digits.")
    parser.add_argument("--version", action="version", version=f"xpbackprop {xb.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = _add_train(commands, "train", help="train an MLP and report train and test accuracy (or R²)",
                       description="Train an MLP on a built-in data set or a CSV/NPZ table, report its "
                                   "train and test accuracy (or R²), optionally save it and plot its curves.")
    train.add_argument("data", nargs="?", default="digits",
                       help="digits (default), xor, spirals, or a .csv/.npz file")
    train.add_argument("--label-column", type=argtypes.label_column, default="last", metavar="NAME|INDEX",
                       help="CSV label column: a header name or an index (default: the last column)")
    train.set_defaults(handler=cmd_train)
    demo = _add_train(commands, "demo", help="train spirals (the same as: train spirals)")
    demo.set_defaults(handler=cmd_train, data="spirals", label_column="last")

    predict = commands.add_parser(
        "predict", help="apply a saved model to a CSV/NPZ file",
        description="Predictions of a saved model (xpbackprop train --save) for the rows of a CSV file "
                    "or the array X of an NPZ file, as CSV on stdout or in --output. A CSV file's columns "
                    "are matched by name to the features the model file keeps (any order; its label column "
                    "left out), else by their count (every column a feature, or the columns of the "
                    "training file with its label column last).")
    add = predict.add_argument
    add("model", type=Path, help="a model file written by --save or xb.save")
    add("data", type=Path, help="a .csv or .npz file")
    add("--label-column", type=argtypes.label_column, default=None, metavar="NAME|INDEX",
        help="a CSV column to leave out of the features (its accuracy is reported); by default the "
             "training file's label column where the model keeps its name, else the last column when the "
             "file has one column more than the model has inputs")
    add("-o", "--output", type=Path, default=None, metavar="FILE.csv",
        help="write the predictions here instead of stdout")
    add("--proba", action="store_true", help="class probabilities (one column per class) instead of labels")
    add("--digits", type=argtypes.non_negative_int, default=6,
        help="significant digits of the values written (default 6; 0: every digit, as Python's repr)")
    _run_options(add)
    predict.set_defaults(handler=cmd_predict)

    info = commands.add_parser("info", help="backends and devices here, or a model's summary",
                               description="Without a file: the backends that run here and their "
                                           "devices. With a model file: its layers, equations, classes, "
                                           "features and label column.")
    info.add_argument("model", type=Path, nargs="?", default=None, help="a model file to describe")
    info.set_defaults(handler=cmd_info, backend="numpy", device=None, threads=0)
    return parser
