"""``xpbackprop train``: load, decide the task, split, standardise, train, fold, report, save, plot.

Everything that can be refused is refused before training: the arguments, the paths (inputs
against outputs, outputs writable), the data, the task, the network's size, what the model file
could not keep.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import xpbackprop as xb

from .. import datasets
from .common import DEFAULTS, CommandError, check_backend, device_from_text
from .modelfile import ModelInfo, unkept, write_model
from .paths import check_paths, write_with_fallback
from .progress import EpochReport
from .runtime import check_memory
from .scaling import fold_standardization, standardization
from .task import Targets, choose_task, describe, encode, output_and_loss

__all__ = ["cmd_train"]


@dataclass
class Data:
    """The training data: its name, features, labels, the key of its defaults in
    :data:`~xpbackprop.cli.common.DEFAULTS`, and the names of its columns where it has them."""

    name: str
    X: np.ndarray
    y: np.ndarray
    kind: str
    features: list[str] | None = None
    label: str | None = None


@dataclass
class Split:
    """Row indices of the training, validation and test parts."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def cmd_train(args: argparse.Namespace) -> int:
    """``xpbackprop train`` (and ``demo``); returns the exit status."""
    check_backend(args.backend)
    if args.plot is not None:
        from ..plot import require_matplotlib

        require_matplotlib()
    data_file = None if args.data in datasets.BUILTIN else Path(args.data)
    check_paths({"training data": data_file}, {"--save": args.save, "--plot": args.plot})
    data = _load(args)
    task, note = choose_task(data.y, args.task, data.name)
    output, loss = output_and_loss(task, args.output_activation, args.loss)
    targets = encode(data.y, task, output, data.name)
    split = _split(args, len(data.y), None if task == "regression" else targets.values)
    net, settings = _network(args, data, targets, output, loss)
    info = ModelInfo(classes=targets.classes, features=data.features, label=data.label)
    if args.save is not None and (reason := unkept(net, info)) is not None:
        raise CommandError(f"--save {args.save}: {reason}")
    if note:
        print(f"note: {note}")
    _print_plan(args, data, targets, split, net, settings)
    history, seconds = _train(args, net, data, targets, split, settings)
    _report(net, data, targets, split, history, seconds)
    return _write(args, net, info, history, data.name)


def _load(args: argparse.Namespace) -> Data:
    """A built-in data set by name, or a CSV/NPZ table."""
    if args.data in datasets.BUILTIN:
        if args.label_column != "last":
            raise CommandError(f"--label-column applies to data files, not the built-in {args.data!r}")
        X, y = datasets.BUILTIN[args.data]()
        return Data(args.data, X, y.astype(np.float64), args.data)
    path = Path(args.data)
    if not path.exists():
        raise CommandError(
            f"no data set or file {args.data!r}: give one of {sorted(datasets.BUILTIN)} or a .csv/.npz path")
    table = datasets.load_table(path, args.label_column)
    if not table.header:  # columns named by their position: no names for the model file to keep
        return Data(str(path), table.X, table.y, "file")
    return Data(str(path), table.X, table.y, "file", table.columns, table.label)


def _split(args: argparse.Namespace, n: int, labels: np.ndarray | None) -> Split:
    """The seeded test part (stratified by class), then the validation part of the rest."""
    fraction = args.validation_fraction
    if fraction is None:
        fraction = 0.1 if args.early_stopping else 0.0
    if args.early_stopping and fraction == 0:
        raise CommandError("--early-stopping watches a validation part: give --validation-fraction above 0")
    train, test = datasets.split(n, args.test_size, args.seed, labels)
    validation = np.empty(0, dtype=train.dtype)
    if fraction > 0:
        keep, held = datasets.split(len(train), fraction, args.seed,
                                    None if labels is None else labels[train])
        train, validation = train[keep], train[held]
    return Split(train, validation, test)


def _network(args: argparse.Namespace, data: Data, targets: Targets, output: str,
             loss: str) -> tuple[Any, dict[str, Any]]:
    """The MLP and the training settings: the options given, the data set's defaults otherwise."""
    defaults = DEFAULTS[data.kind]
    hidden = defaults["hidden"] if args.hidden is None else args.hidden
    activations = [a.strip() for a in (args.activation or defaults["activation"]).split(",")]
    optimizer = args.optimizer or defaults["optimizer"]
    if args.momentum and optimizer != "sgd":
        raise CommandError(f"--momentum applies to --optimizer sgd, not {optimizer}")
    if args.dropout and not hidden:
        raise CommandError("--dropout applies after hidden layers, and --hidden none gives none")
    if args.patience is not None and not args.early_stopping:
        raise CommandError("--patience applies with --early-stopping")
    settings = {
        "optimizer": optimizer, "activation": ",".join(activations),
        "lr": args.lr if args.lr is not None else (defaults["lr"] if optimizer == "adam" else 0.1),
        "epochs": args.epochs or defaults["epochs"], "batch_size": args.batch_size or defaults["batch_size"],
        "weight_decay": defaults["weight_decay"] if args.weight_decay is None else args.weight_decay,
    }
    sizes = [data.X.shape[1], *hidden, targets.n_outputs]
    check_memory(sizes, args.dtype, optimizer, "--hidden")
    net = xb.MLP(sizes, hidden=(activations[0] if len(activations) == 1 else activations) if hidden else [],
                 output=output, loss=loss, backend=args.backend,
                 device=device_from_text(args.backend, args.device), dtype=args.dtype, seed=args.seed,
                 dropout=args.dropout)
    return net, settings


def _print_plan(args: argparse.Namespace, data: Data, targets: Targets, split: Split, net: Any,
                settings: dict[str, Any]) -> None:
    parts = [f"{len(rows)} {name}" for name, rows in
             (("train", split.train), ("validation", split.validation), ("test", split.test))
             if len(rows) or name != "validation"]
    how = f"{'stratified, ' if targets.task == 'classification' else ''}seed {args.seed}"
    print(f"xpbackprop {xb.__version__}: {data.name}, {len(data.X)} samples × {data.X.shape[1]} features, "
          f"{describe(targets, net.output)}; {' / '.join(parts)} ({how})")
    hidden = f"{settings['activation']} hidden, " if len(net.sizes) > 2 else ""
    extras = (f", weight decay {settings['weight_decay']:g}" if settings["weight_decay"] else "") + (
        f", dropout {args.dropout:g}" if any(net.dropout) else "") + (
        f", early stopping (patience {_patience(args)})" if args.early_stopping else "")
    print(f"MLP {net.sizes}: {hidden}{net.output} output, {net.loss_fn.name} loss; {args.backend} "
          f"{args.dtype}; {settings['optimizer']} lr={settings['lr']:g}, batch {settings['batch_size']}, "
          f"{settings['epochs']} epochs{extras}", flush=True)


def _train(args: argparse.Namespace, net: Any, data: Data, targets: Targets, split: Split,
           settings: dict[str, Any]) -> tuple[Any, float]:
    """Standardise with the training rows' statistics, train, fold the scaling into the network."""
    mean, scale = standardization(data.X[split.train])
    Xs = (data.X - mean) / scale
    fit_targets, y_mean, y_scale = targets.values, None, None
    if targets.task == "regression" and net.output == "identity":
        y_mean, y_scale = standardization(targets.values[split.train])
        fit_targets = (targets.values - y_mean) / y_scale
    validation = (Xs[split.validation], fit_targets[split.validation]) if len(split.validation) else None
    metric = "accuracy" if net.is_classifier else "R²"
    report = EpochReport(settings["epochs"], f"validation {metric}") if args.progress else None
    options = {key: settings[key] for key in ("epochs", "lr", "batch_size", "optimizer", "weight_decay")}
    if args.momentum:  # momentum with adam is refused (one line), not silently dropped
        options["momentum"] = args.momentum
    start = time.perf_counter()
    try:
        history = net.fit(Xs[split.train], fit_targets[split.train], seed=args.seed,
                          validation_data=validation, early_stopping=args.early_stopping,
                          patience=_patience(args), callbacks=[report] if report else [], **options)
    finally:
        if report is not None:
            report.close()
    seconds = time.perf_counter() - start
    sys.stderr.flush()
    fold_standardization(net, mean, scale, y_mean, y_scale)
    return history, seconds


def _patience(args: argparse.Namespace) -> int:
    return 10 if args.patience is None else args.patience


def _report(net: Any, data: Data, targets: Targets, split: Split, history: Any, seconds: float) -> None:
    metric = "accuracy" if net.is_classifier else "R²"
    print(f"trained {history.epochs} epochs in {seconds:.3f} s "
          f"(loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f})")
    if history.stop_reason == "early_stopping":
        print(f"stopped early: no lower validation loss for {history.epochs - history.best_epoch} epochs; "
              f"kept the weights of epoch {history.best_epoch}")
    parts = [("train", split.train), ("validation", split.validation), ("test", split.test)]
    width = max(len(name) for name, rows in parts if len(rows))
    for name, rows in parts:
        if len(rows):
            score = net.score(data.X[rows], targets.values[rows])
            print(f"{name} {metric}{' ' * (width - len(name))} {score:.4f}")


def _write(args: argparse.Namespace, net: Any, info: ModelInfo, history: Any, name: str) -> int:
    """The model file and the plot; a write that fails goes to a fallback file (status 1)."""
    written = True
    if args.save is not None:
        if write_with_fallback(args.save, lambda path: write_model(net, path, info), "the model"):
            print(f"saved {args.save} (feature standardisation folded into the first layer: "
                  f"`xpbackprop predict {args.save} FILE` takes raw features)")
        else:
            written = False
    if args.plot is not None:
        from ..plot import plot_history

        metric = "accuracy" if net.is_classifier else "R²"

        def draw(path: Path) -> None:
            plot_history(history, path, title=f"{name}: MLP {net.sizes}, {args.backend}",
                         score_name=f"validation {metric}")

        if write_with_fallback(args.plot, draw, "the plot"):
            print(f"wrote {args.plot}")
        else:
            written = False
    return 0 if written else 1
