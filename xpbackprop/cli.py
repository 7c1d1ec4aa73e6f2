"""The ``xpbackprop`` command: ``train``, ``predict`` and ``info``.

``xpbackprop`` (or ``python -m xpbackprop``) with no arguments is ``xpbackprop train``: an MLP
on the digits shipped with the package, on the numpy backend. ``xpbackprop demo`` is
``xpbackprop train spirals``. Errors print one line on stderr and exit with status 1
(argument errors: status 2, from argparse).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

import xpbackprop as xb

from . import datasets
from .backend import backend_unavailable_reason
from .npzfile import check_target, write_atomically

__all__ = ["fold_standardization", "main"]

#: training defaults per data set (``file``: a CSV or NPZ table)
DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"hidden": [512], "activation": "relu", "epochs": 20, "lr": 2e-3, "batch_size": 64,
               "optimizer": "adam", "weight_decay": 1e-3},
    "spirals": {"hidden": [64, 64], "activation": "relu", "epochs": 60, "lr": 1e-2, "batch_size": 32,
                "optimizer": "adam", "weight_decay": 0.0},
    "xor": {"hidden": [8], "activation": "tanh", "epochs": 100, "lr": 1e-2, "batch_size": 16,
            "optimizer": "adam", "weight_decay": 0.0},
    "file": {"hidden": [64], "activation": "relu", "epochs": 100, "lr": 1e-3, "batch_size": 32,
             "optimizer": "adam", "weight_decay": 0.0},
}

# labels that are whole numbers in [0, _MAX_IDENTITY_LABEL] are their own class indices, so
# that `predict` answers in the labels of the training file
_MAX_IDENTITY_LABEL = 255


class CommandError(Exception):
    """A problem with the command's arguments or data, reported as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and ``--help`` named) instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


# --- argument types --------------------------------------------------------------------------


def _hidden_sizes(text: str) -> list[int]:
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


_positive_int = _int_from(1, "a positive integer")
_non_negative_int = _int_from(0, "a non-negative integer")


def _finite(low: float, *, strict: bool) -> Callable[[str], float]:
    """An argparse type: a finite number above ``low`` (``strict``) or at least ``low``."""
    what = f"a finite number {'>' if strict else '>='} {low:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (math.isfinite(value) and (value > low if strict else value >= low)):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


_positive_float = _finite(0.0, strict=True)
_non_negative_float = _finite(0.0, strict=False)


def _test_size(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def _label_column(text: str) -> str | int:
    try:
        return int(text)
    except ValueError:
        return text


# --- parser ------------------------------------------------------------------------------------


def _per_data(key: str) -> str:
    """The defaults of ``key`` per data set, for the help text."""
    def text(value: Any) -> str:
        return ",".join(map(str, value)) if isinstance(value, list) else f"{value:g}"

    return "; ".join(f"{'files' if kind == 'file' else kind}: {text(d[key])}" for kind, d in DEFAULTS.items())


def _training_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hidden", type=_hidden_sizes, default=None, metavar="SIZES",
                        help=f"hidden layer widths, comma-separated, 'none' for no hidden layer "
                             f"(default {_per_data('hidden')})")
    parser.add_argument("--activation", default=None, metavar="NAME[,NAME...]",
                        help="hidden activation, one name or one per hidden layer "
                             f"({', '.join(sorted(xb.ACTIVATIONS))}; default relu, tanh for xor)")
    parser.add_argument("--task", choices=["classification", "regression"], default="classification",
                        help="classification (softmax + cross-entropy, accuracy) or regression "
                             "(identity + mean squared error, R²); default classification")
    parser.add_argument("--output", default=None, metavar="NAME",
                        help="output activation (default softmax, identity for regression)")
    parser.add_argument("--loss", default=None, metavar="NAME",
                        help="loss (default cross_entropy, mse for regression)")
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default=None, help="default adam")
    parser.add_argument("--lr", type=_positive_float, default=None,
                        help=f"learning rate (adam: {_per_data('lr')}; sgd: 0.1)")
    parser.add_argument("--momentum", type=_non_negative_float, default=0.0, help="sgd momentum")
    parser.add_argument("--weight-decay", type=_non_negative_float, default=None,
                        help=f"L2 penalty weight_decay/2·Σ‖W‖² ({_per_data('weight_decay')})")
    parser.add_argument("--epochs", type=_positive_int, default=None, help=f"default {_per_data('epochs')}")
    parser.add_argument("--batch-size", type=_positive_int, default=None,
                        help=f"default {_per_data('batch_size')}")
    parser.add_argument("--backend", choices=list(xb.BACKENDS), default="numpy", help="default numpy")
    parser.add_argument("--device", default=None, help="a device of the backend (cuda, cuda:1, 0, gpu)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="default float32")
    parser.add_argument("--seed", type=_non_negative_int, default=0,
                        help="seeds the split, the initial weights and the batch order (default 0)")
    parser.add_argument("--test-size", type=_test_size, default=0.25,
                        help="held-out fraction, stratified by class (default 0.25; 0: none)")
    parser.add_argument("--save", type=Path, default=None, metavar="MODEL.npz",
                        help="save the trained network (the feature scaling folded into its first layer)")
    parser.add_argument("--plot", type=Path, default=None, metavar="CURVE.png",
                        help="write the loss and score curves as a PNG (pip install 'xpbackprop[plot]')")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="show a progress bar (tqdm if installed, else a line per epoch)")


def build_parser() -> argparse.ArgumentParser:
    """The ``xpbackprop`` argument parser with its ``train``, ``predict``, ``info``, ``demo`` commands."""
    parser = _Parser(
        prog="xpbackprop",
        description="Train, apply and inspect xpbackprop networks. Without a command: train on digits.",
    )
    parser.add_argument("--version", action="version", version=f"xpbackprop {xb.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train an MLP and report train and test accuracy (or R²)",
        description="Train an MLP on a built-in data set or a CSV/NPZ table, report its train and "
                    "test accuracy (or R²), optionally save it and plot its curves.",
    )
    train.add_argument("data", nargs="?", default="digits",
                       help="digits (default), xor, spirals, or a .csv/.npz file")
    train.add_argument("--label-column", type=_label_column, default="last", metavar="NAME|INDEX",
                       help="CSV label column: a header name or an index (default: the last column)")
    _training_options(train)
    train.set_defaults(handler=cmd_train)

    demo = commands.add_parser("demo", help="train spirals (the same as: train spirals)")
    _training_options(demo)
    demo.set_defaults(handler=cmd_train, data="spirals", label_column="last")

    predict = commands.add_parser(
        "predict", help="apply a saved model to a CSV/NPZ file",
        description="Predictions of a saved model (xpbackprop train --save) for the rows of a CSV file "
                    "(every column a feature, or the columns of the training file with its label column) "
                    "or the array X of an NPZ file, as CSV on stdout or in --output.",
    )
    predict.add_argument("model", type=Path, help="a model file written by --save or xb.save")
    predict.add_argument("data", type=Path, help="a .csv or .npz file")
    predict.add_argument("--label-column", type=_label_column, default=None, metavar="NAME|INDEX",
                         help="a CSV column to leave out of the features (its accuracy is reported); "
                              "by default the last column when the file has one column more than the "
                              "model has inputs")
    predict.add_argument("--output", "-o", type=Path, default=None, metavar="FILE.csv",
                         help="write the predictions here instead of stdout")
    predict.add_argument("--proba", action="store_true", help="class probabilities instead of labels")
    predict.add_argument("--backend", choices=list(xb.BACKENDS), default="numpy", help="default numpy")
    predict.add_argument("--device", default=None, help="a device of the backend")
    predict.set_defaults(handler=cmd_predict)

    info = commands.add_parser("info", help="backends and devices here, or a model's summary",
                               description="Without a file: the backends that run here and their "
                                           "devices. With a model file: its layers and equations.")
    info.add_argument("model", type=Path, nargs="?", default=None, help="a model file to describe")
    info.set_defaults(handler=cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 1 for an error, 2 for bad arguments)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["train"]
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("xpbackprop: interrupted", file=sys.stderr)
        return 130
    except (CommandError, ValueError, TypeError, ImportError, OSError, FloatingPointError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in message:
            message = f"{exc.filename}: {message}"
        print(f"xpbackprop: error: {message}", file=sys.stderr)
        return 1


# --- train -------------------------------------------------------------------------------------


def _load_training_data(args: argparse.Namespace) -> tuple[str, np.ndarray, np.ndarray, str]:
    """``(name, X, y, kind)``; kind is the key of :data:`DEFAULTS`."""
    if args.data in datasets.BUILTIN:
        if args.label_column != "last":
            raise CommandError(f"--label-column applies to data files, not the built-in {args.data!r}")
        X, y = datasets.BUILTIN[args.data]()
        return args.data, X, y.astype(np.float64), args.data
    path = Path(args.data)
    if not path.exists():
        raise CommandError(
            f"no data set or file {args.data!r}: give one of {sorted(datasets.BUILTIN)} or a .csv/.npz path"
        )
    table = datasets.load_table(path, args.label_column)
    return str(path), table.X, table.y, "file"


def _encode_labels(y: np.ndarray, task: str, source: str) -> tuple[np.ndarray, int, list[Any] | None]:
    """``(targets, n_outputs, class_names)``: class indices (classification) or float targets.

    ``class_names`` is None when the labels are their own indices (whole numbers in
    ``[0, 255]``), else the sorted distinct labels whose positions the network predicts.
    """
    if task == "regression":
        if y.dtype.kind not in "biuf":
            for row, value in enumerate(y):
                number = datasets.number(str(value))
                if number is None or not math.isfinite(number):
                    raise CommandError(f"{source}: regression needs numeric labels, got {str(value)!r} "
                                       f"(data row {row + 1}), which is not a finite number")
        return y.astype(np.float64).reshape(-1, 1), 1, None
    if y.dtype.kind == "f" and np.all(y == np.round(y)) and y.min() >= 0 and y.max() <= _MAX_IDENTITY_LABEL:
        labels = y.astype(np.int64)
        n_out = max(int(labels.max()) + 1, 2)
        if len(np.unique(labels)) < 2:
            raise CommandError(f"{source}: every label is {labels[0]}; classification needs two classes")
        return labels, n_out, None
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        bad = y[np.flatnonzero(y != np.round(y))[0]]
        raise CommandError(
            f"{source}: class labels must be whole numbers or names, got {bad!r}; "
            "for numeric targets use --task regression"
        )
    classes, labels = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise CommandError(f"{source}: every label is {classes[0]!r}; classification needs two classes")
    names = [c.item() if hasattr(c, "item") else c for c in classes]
    return labels.astype(np.int64), len(classes), names


def fold_standardization(net: Any, mean: np.ndarray, scale: np.ndarray,
                         y_mean: np.ndarray | None = None, y_scale: np.ndarray | None = None) -> None:
    """Fold ``X' = (X - mean)/scale`` into the first Dense layer (and ``y = y'·y_scale + y_mean``
    into the last) so that ``net`` applied to raw ``X`` gives what it gave on scaled ``X``.

    ``Z = ((X - μ)/s) W + b = X (W/s) + (b - (μ/s) W)``: ``W' = W / s`` (row by row),
    ``b' = b - (μ/s) W``. An identity output ``Y' = A W + b`` with ``Y = Y' σ_y + μ_y`` becomes
    ``W' = W σ_y`` (column by column), ``b' = b σ_y + μ_y``. Computed in float64 on the host.
    """
    first, last = net.param_layers[0], net.param_layers[-1]
    if not isinstance(first, xb.Dense):
        raise TypeError(f"folding a feature scaling needs a Dense first layer, got {first!r}")
    weights = [xb.to_numpy(W).astype(np.float64) for W in net.weights]
    biases = [xb.to_numpy(b).astype(np.float64) for b in net.biases]
    weights[0], biases[0] = weights[0] / scale[:, None], biases[0] - (mean / scale) @ weights[0]
    if y_mean is not None and y_scale is not None:
        if not isinstance(last, xb.Dense) or net.output_activation != "identity":
            raise TypeError("folding a target scaling needs a Dense output layer with identity activation")
        weights[-1], biases[-1] = weights[-1] * y_scale[None, :], biases[-1] * y_scale + y_mean
    net.set_parameters(weights, biases)


def _device(backend: str, text: str | None) -> Any:
    """The device object of ``backend`` that ``text`` names (``str(device)``, its platform, or an
    index), else the text itself (the network's constructor checks it)."""
    if text is None:
        return None
    from .backend import devices

    for device in devices(xb.namespace(backend)) or []:
        if device is not None and text in (str(device), getattr(device, "platform", None)):
            return device
    return int(text) if text.isdigit() else text


def _check_backend(name: str) -> None:
    reason = backend_unavailable_reason(name)
    if reason is not None:
        raise CommandError(f"backend {name!r} cannot run here: {reason}")


def _describe_labels(classes: list[Any] | None, n_out: int) -> str:
    if classes is None:
        return f"{n_out} classes"
    shown = ", ".join(f"{i}={c}" for i, c in enumerate(classes[:12]))
    return f"{n_out} classes (network outputs {shown}{', ...' if len(classes) > 12 else ''})"


def cmd_train(args: argparse.Namespace) -> int:
    """``xpbackprop train``: load, split, standardise, train, fold, report, save, plot."""
    _check_backend(args.backend)
    if args.plot is not None:
        from .plot import require_matplotlib

        require_matplotlib()
    # a file that cannot be written is refused now, not after the training run
    for target in (args.save, args.plot):
        if target is not None:
            check_target(target)
    name, X, y, kind = _load_training_data(args)
    defaults = DEFAULTS[kind]
    hidden = defaults["hidden"] if args.hidden is None else args.hidden
    activation = args.activation or defaults["activation"]
    activations = [a.strip() for a in activation.split(",")]
    hidden_acts: str | list[str] = activations[0] if len(activations) == 1 else activations
    optimizer = args.optimizer or defaults["optimizer"]
    if args.momentum and optimizer != "sgd":
        raise CommandError(f"--momentum applies to --optimizer sgd, not {optimizer}")
    lr = args.lr if args.lr is not None else (defaults["lr"] if optimizer == "adam" else 0.1)
    epochs = args.epochs or defaults["epochs"]
    batch_size = args.batch_size or defaults["batch_size"]
    weight_decay = defaults["weight_decay"] if args.weight_decay is None else args.weight_decay
    regression = args.task == "regression"
    output = args.output or ("identity" if regression else "softmax")
    loss = args.loss or ("mse" if regression else "cross_entropy")

    targets, n_out, classes = _encode_labels(y, args.task, name)
    train_idx, test_idx = datasets.split(len(X), args.test_size, args.seed,
                                         None if regression else targets)
    # standardise with the training rows' statistics only; constant features keep scale 1
    mean = X[train_idx].mean(axis=0)
    scale = X[train_idx].std(axis=0)
    scale[scale == 0] = 1.0
    Xs = (X - mean) / scale
    y_mean = y_scale = None
    fit_targets = targets
    if regression and output == "identity":
        y_mean = targets[train_idx].mean(axis=0)
        y_scale = targets[train_idx].std(axis=0)
        y_scale[y_scale == 0] = 1.0
        fit_targets = (targets - y_mean) / y_scale

    sizes = [X.shape[1], *hidden, n_out]
    net = xb.MLP(sizes, hidden=hidden_acts if hidden else [], output=output, loss=loss,
                 backend=args.backend, device=_device(args.backend, args.device), dtype=args.dtype,
                 seed=args.seed)
    if regression and net.is_classifier:
        raise CommandError(
            f"--task regression needs an output that gives values, not classes: --output {output!r} "
            "is a classifier's (its predictions are labels, its score accuracy); use identity (the "
            "default for regression) or, for targets in a range, tanh"
        )
    split_text = (f"{len(train_idx)} train / {len(test_idx)} test "
                  f"({'stratified, ' if not regression else ''}seed {args.seed})")
    what = "regression" if regression else _describe_labels(classes, n_out)
    print(f"xpbackprop {xb.__version__}: {name}, {len(X)} samples × {X.shape[1]} features, {what}; "
          f"{split_text}")
    hidden_text = f"{activation} hidden, " if hidden else ""
    print(f"MLP {sizes}: {hidden_text}{net.output} output, {net.loss_fn.name} loss; "
          f"{args.backend} {args.dtype}; {optimizer} lr={lr:g}, batch {batch_size}, {epochs} epochs"
          + (f", weight decay {weight_decay:g}" if weight_decay else ""), flush=True)

    validation = (Xs[test_idx], fit_targets[test_idx]) if len(test_idx) else None
    # momentum with adam is refused by the trainer (one line), not silently dropped
    options: dict[str, Any] = {"momentum": args.momentum} if args.momentum else {}
    start = time.perf_counter()
    history = net.fit(Xs[train_idx], fit_targets[train_idx], epochs=epochs, lr=lr, batch_size=batch_size,
                      optimizer=optimizer, weight_decay=weight_decay, seed=args.seed,
                      validation_data=validation, progress=args.progress, **options)
    seconds = time.perf_counter() - start
    sys.stderr.flush()
    fold_standardization(net, mean, scale, y_mean, y_scale)

    metric = "R²" if not net.is_classifier else "accuracy"
    print(f"trained {history.epochs} epochs in {seconds:.2f} s "
          f"(loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f})")
    print(f"train {metric} {net.score(X[train_idx], targets[train_idx]):.4f}")
    if len(test_idx):
        print(f"test {metric}  {net.score(X[test_idx], targets[test_idx]):.4f}")
    if args.save is not None:
        # labels that are not their own indices go into the file, so that predict gives them back
        xb.save(net, args.save, classes=classes)
        print(f"saved {args.save} (feature standardisation folded into the first layer: "
              f"`xpbackprop predict {args.save} FILE` takes raw features)")
    if args.plot is not None:
        from .plot import plot_history

        title = f"{name}: MLP {sizes}, {args.backend}"
        plot_history(history, args.plot, title=title, score_name=f"test {metric}")
        print(f"wrote {args.plot}")
    return 0


# --- predict -----------------------------------------------------------------------------------


def cmd_predict(args: argparse.Namespace) -> int:
    """``xpbackprop predict MODEL DATA``: predictions as CSV on stdout or in ``--output``."""
    _check_backend(args.backend)
    net = xb.load(args.model, backend=args.backend, device=_device(args.backend, args.device))
    names = xb.saved_classes(args.model)  # the labels the outputs stand for, when not 0..k-1
    first = net.param_layers[0]
    n_in = first.n_in if isinstance(first, xb.Dense) else None
    if args.output is not None:
        check_target(args.output)
    label_column: str | int | None = args.label_column
    csv = args.data.suffix.lower() == ".csv"
    table = datasets.load_table(args.data, label_column)
    # a CSV file with one column more than the model has inputs holds the labels in its last
    # column; an .npz file's labels are its array 'y', never a column of 'X'
    if csv and label_column is None and n_in is not None and table.X.shape[1] == n_in + 1:
        table = datasets.load_table(args.data, "last")
        print(f"xpbackprop: {args.data} has {n_in + 1} columns and the model {n_in} inputs: "
              f"the last column ({table.label!r}) is read as labels", file=sys.stderr)
    if n_in is not None and table.X.shape[1] != n_in:
        if not csv:
            raise CommandError(f"{args.data}: 'X' has {table.X.shape[1]} columns, but the model "
                               f"{args.model} takes {n_in} features")
        raise CommandError(
            f"{args.data}: {table.X.shape[1]} feature columns, but the model {args.model} takes {n_in} "
            "(choose the label column with --label-column)"
        )
    if args.proba:
        values = xb.to_numpy(net.predict_proba(table.X))
        header = [f"p{k}" for k in range(values.shape[1])]
    else:
        values = xb.to_numpy(net.predict(table.X))
        values = values.reshape(len(values), -1)
        n_columns = values.shape[1]
        header = ["prediction"] if n_columns == 1 else [f"prediction_{k}" for k in range(n_columns)]
    lines = [",".join(header)]
    integer = values.dtype.kind in "biu"
    if names is not None and not args.proba:  # class indices as the labels they stand for
        lines += [",".join(_csv_field(names[int(v)]) for v in row) for row in values]
    else:
        for row in values:
            lines.append(",".join(str(int(v)) if integer else repr(float(v)) for v in row))
    text = "\n".join(lines) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        write_atomically(args.output, lambda f: f.write(text.encode()))
        print(f"wrote {len(values)} predictions to {args.output}", file=sys.stderr)
    if table.y is not None and (table.y.dtype.kind == "f" or names is not None):
        try:
            score = net.score(table.X, table.y if names is None else _class_indices(table.y, names))
        except ValueError as exc:  # labels the model cannot score (outside its classes)
            print(f"xpbackprop: labels not scored: {' '.join(str(exc).split())}", file=sys.stderr)
        else:
            metric = "accuracy" if net.is_classifier else "R²"
            print(f"{metric} {score:.4f} on {len(table.y)} labelled rows", file=sys.stderr)
    return 0


def _csv_field(value: Any) -> str:
    """One CSV field (a whole float as an integer: a label 2.0 read from a file is 2): quoted where
    the text needs it."""
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def _class_indices(y: np.ndarray, names: list[Any]) -> np.ndarray:
    """The labels ``y`` of a data file as the indices of the model's classes ``names``
    (``ValueError`` naming the labels the model does not know)."""
    index = {name: i for i, name in enumerate(names)}
    values = [v.item() if hasattr(v, "item") else v for v in y]
    unknown = sorted({str(v) for v in values if v not in index})
    if unknown:
        raise ValueError(f"labels {unknown[:5]} are not among the model's classes {names[:12]}")
    return np.asarray([index[v] for v in values], dtype=np.int64)


# --- info --------------------------------------------------------------------------------------


def _library_version(name: str) -> str:
    module = {"array_api_strict": "array_api_strict"}.get(name, name)
    try:
        return sys.modules[module].__version__ if module in sys.modules else __import__(module).__version__
    except Exception:
        return "?"


def cmd_info(args: argparse.Namespace) -> int:
    """``xpbackprop info [MODEL]``: the backends here and their devices, or a model's summary."""
    if args.model is not None:
        net = xb.load(args.model)
        print(f"{args.model}:")
        print(net.summary())
        return 0
    from .backend import devices

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
