"""``xpbackprop predict MODEL DATA``: predictions as CSV, on stdout or in ``-o FILE``.

The file's columns are matched to the model's inputs by name where the model file knows the
training file's feature names (reordered; missing or unexpected columns refused by name; the label
column left out), else by their count (a CSV one column wider than the model's inputs holds labels
in its last column). Classes print as the labels the model was trained on; ``--proba`` columns
are named after them (``p_<class>``); numbers have ``--digits`` significant digits.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

import xpbackprop as xb

from .. import datasets
from ..npzfile import write_atomically
from .common import CommandError, check_backend, device_from_text
from .modelfile import ModelInfo, class_labels, read_model
from .paths import check_paths, write_with_fallback

__all__ = ["cmd_predict", "match_columns"]


def cmd_predict(args: argparse.Namespace) -> int:
    """``xpbackprop predict``; returns the exit status."""
    check_backend(args.backend)
    check_paths({"model": args.model, "data": args.data}, {"--output": args.output})
    net, info = read_model(args.model, args.backend, device_from_text(args.backend, args.device))
    table = _read_data(args, net, info)
    header, rows = _predictions(net, info, table.X, args.proba, args.digits)
    lines = [",".join(header) + "\n", *(",".join(row) + "\n" for row in rows)]
    written = True
    if args.output is None:
        for line in lines:  # line by line: a reader that leaves early (`| head`) is noticed
            sys.stdout.write(line)
    else:
        def write(path: Path) -> None:
            write_atomically(path, lambda f: f.write("".join(lines).encode()))

        written = write_with_fallback(args.output, write, "the predictions")
        if written:
            print(f"wrote {len(rows)} predictions to {args.output}", file=sys.stderr)
    if table.y is not None:
        _score(net, info, table)
    return 0 if written else 1


def _n_inputs(net: Any) -> int | None:
    first = net.param_layers[0]
    return first.n_in if isinstance(first, xb.Dense) else None


def _read_data(args: argparse.Namespace, net: Any, info: ModelInfo) -> datasets.Table:
    """The rows to predict, their columns matched to the model's inputs."""
    csv = args.data.suffix.lower() == ".csv"
    if csv and info.features is not None:
        header = datasets.csv_header(args.data)
        if header is not None:
            return match_columns(args.data, header, info, args.label_column)
    n_in = _n_inputs(net)
    table = datasets.load_table(args.data, args.label_column)
    # a CSV file with one column more than the model has inputs holds the labels in its last
    # column; an .npz file's labels are its array 'y', never a column of 'X'
    if csv and args.label_column is None and n_in is not None and table.X.shape[1] == n_in + 1:
        table = datasets.load_table(args.data, "last")
        print(f"xpbackprop: {args.data} has {n_in + 1} columns and the model {n_in} inputs: "
              f"the last column ({table.label!r}) is read as labels", file=sys.stderr)
    if n_in is not None and table.X.shape[1] != n_in:
        if not csv:
            raise CommandError(f"{args.data}: 'X' has {table.X.shape[1]} columns, but the model "
                               f"{args.model} takes {n_in} features")
        raise CommandError(f"{args.data}: {table.X.shape[1]} feature columns, but the model {args.model} "
                           f"takes {n_in} (choose the label column with --label-column)")
    return table


def match_columns(path: Path, header: list[str], info: ModelInfo,
                  label_column: str | int | None) -> datasets.Table:
    """The CSV file ``path`` (with column names ``header``) read with its features in the order of
    ``info.features``; the label column (``label_column``, else the training file's where present)
    left out. ``CommandError`` naming the missing, unexpected or repeated columns."""
    features = list(info.features or [])
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise CommandError(f"{path}: the columns {repeated} appear more than once; names must say which "
                           "is which")
    label = label_column if label_column is not None else (info.label if info.label in header else None)
    table = datasets.load_table(path, label)
    missing = [name for name in features if name not in table.columns]
    if missing:
        raise CommandError(f"{path}: no column for the model's features {missing[:10]}"
                           f"{' and more' if len(missing) > 10 else ''} (the file's columns: {header[:20]})")
    unexpected = [name for name in table.columns if name not in features]
    if unexpected:
        raise CommandError(f"{path}: the columns {unexpected[:10]} are not features of the model; leave them "
                           "out (or name a label column with --label-column)")
    order = [table.columns.index(name) for name in features]
    if order != list(range(len(order))):
        print(f"xpbackprop: {path}: columns matched to the model's features by name", file=sys.stderr)
    return datasets.Table(table.X[:, order], table.y, features, table.label, header=True)


def _number(value: float, digits: int) -> str:
    return repr(float(value)) if digits == 0 else f"{value:.{digits}g}"


def _predictions(net: Any, info: ModelInfo, X: np.ndarray, proba: bool,
                 digits: int) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the output: labels, probabilities or values."""
    labels = class_labels(net, info)
    multilabel = net.output_activation == "sigmoid" and net.n_outputs > 1  # one yes/no per output
    if proba:
        values = xb.to_numpy(net.predict_proba(X))
        names = labels if labels is not None and len(labels) == values.shape[1] else range(values.shape[1])
        header = [_field(f"p_{_label_text(c)}") for c in names]
        return header, [[_number(v, digits) for v in row] for row in values]
    values = xb.to_numpy(net.predict_index(X) if net.is_classifier else net.predict(X))
    values = values.reshape(len(values), -1)
    header = ["prediction"] if values.shape[1] == 1 else [f"prediction_{k}" for k in range(values.shape[1])]
    if labels is not None and not multilabel:  # class indices as the labels they stand for
        return header, [[_field(_label_text(labels[int(v)])) for v in row] for row in values]
    if values.dtype.kind in "biu" or multilabel:
        return header, [[str(int(v)) for v in row] for row in values]
    return header, [[_number(v, digits) for v in row] for row in values]


def _label_text(value: Any) -> str:
    """A label as text (a whole float as an integer: a label 2.0 read from a file is 2)."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _field(text: str) -> str:
    """One CSV field, quoted where the text needs it."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def _score(net: Any, info: ModelInfo, table: datasets.Table) -> None:
    """The accuracy (or R²) on the file's labels, on stderr; labels the model does not know are named."""
    labels = class_labels(net, info)
    try:
        if labels is None:
            if table.y.dtype.kind != "f":
                raise ValueError(f"labels such as {table.y[0]!r} are not numbers, and the model gives values")
            score = net.score(table.X, table.y)
        else:
            score = net.score(table.X, _class_indices(table.y, labels))
    except ValueError as exc:  # labels the model cannot score (outside its classes)
        print(f"xpbackprop: labels not scored: {' '.join(str(exc).split())}", file=sys.stderr)
        return
    metric = "accuracy" if net.is_classifier else "R²"
    print(f"{metric} {score:.4f} on {len(table.y)} labelled rows", file=sys.stderr)


def _class_indices(y: np.ndarray, names: list[Any]) -> np.ndarray:
    """The labels ``y`` of a data file as the indices of the model's classes ``names``
    (``ValueError`` naming the labels the model does not know)."""
    index = {name: i for i, name in enumerate(names)}
    values = [v.item() if hasattr(v, "item") else v for v in y]
    unknown = sorted({str(v) for v in values if v not in index})
    if unknown:
        raise ValueError(f"labels {unknown[:5]} are not among the model's classes {names[:12]}")
    return np.asarray([index[v] for v in values], dtype=np.int64)
