"""Small data sets for the command line and the examples, and a reader for CSV / NPZ tables.

Everything here is host data (NumPy): the network moves it to its backend when it is used.

- :func:`digits`: 1,797 8×8 handwritten digits shipped inside the package (``data/README.md``).
- :func:`xor`: noisy points around the four corners of the unit square, labelled by XOR.
- :func:`spirals`: interleaved noisy spirals in the plane.
- :func:`load_table`: features and labels from a ``.csv`` or ``.npz`` file; :func:`csv_header`: the
  column names of a CSV file.
- :func:`split`: a seeded (and, for class labels, stratified) train / test split.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["BUILTIN", "Table", "csv_header", "digits", "load_table", "number", "spirals", "split", "xor"]


def digits() -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: 1,797 images of 64 pixels (float64 counts in ``0..16``) and their digits ``0..9``."""
    with resources.files("xpbackprop").joinpath("data", "digits.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as data:
            return data["X"].astype(np.float64), data["y"].astype(np.int64)


def xor(n_per_corner: int = 50, noise: float = 0.15, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: ``4 n_per_corner`` points near the corners of the unit square, ``y = x₁ XOR x₂``.

    The four exact corners of the notes' XOR leave nothing to test on; the noisy cloud around
    them has the same decision problem and can be split.
    """
    rng = np.random.default_rng(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = np.repeat(corners, n_per_corner, axis=0) + rng.normal(0.0, noise, (4 * n_per_corner, 2))
    y = np.repeat(np.array([0, 1, 1, 0]), n_per_corner)
    return X, y


def spirals(n_per_class: int = 200, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: interleaved noisy spirals in the plane, a small problem no linear model solves."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k in range(classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + rng.normal(0.0, 0.2, n_per_class)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_per_class, k))
    return np.concatenate(X), np.concatenate(y)


#: the data sets the command line knows by name
BUILTIN = {"digits": digits, "xor": xor, "spirals": spirals}


@dataclass
class Table:
    """Features ``X`` (float64, ``(N, n_features)``), labels ``y`` (or None) and the column names.

    ``y`` is float64 when every label is a number, else the labels as strings. ``header``: whether
    the names are the file's own (a CSV header), not the columns' positions (``"0"``, ``"1"``, ...).
    """

    X: np.ndarray
    y: np.ndarray | None
    columns: list[str]
    label: str | None
    header: bool = False


def load_table(path: str | os.PathLike[str], label_column: str | int | None = "last") -> Table:
    """Read a ``.csv`` or ``.npz`` table.

    CSV: comma-separated numbers, one sample a row; the labels may be names. A first row with
    text where the second row has numbers is the header (without one, columns are named by
    index). ``label_column`` is a header name or a column index (negative counts from the end;
    ``"last"``, the default, is ``-1``); ``None`` reads every column as a feature.
    NPZ: the arrays ``X`` (``(N, n_features)``) and, unless ``label_column`` is None, ``y``
    (``(N,)``); ``label_column`` may not name a column there.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file, the
    line and the column for anything else (an unknown suffix, a non-numeric feature, an empty
    field, rows of different lengths, an unknown label column, missing or malformed arrays).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {str(path)!r}")
    if path.is_dir():
        raise ValueError(f"{path}: a directory, not a data file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _load_csv(path, label_column)
    if suffix == ".npz":
        return _load_npz(path, label_column)
    raise ValueError(f"{path}: unknown data file type {suffix or '(no suffix)'!r}; expected .csv or .npz")


def csv_header(path: str | os.PathLike[str]) -> list[str] | None:
    """The column names of the CSV file ``path`` where its first row is a header (as
    :func:`load_table` decides), else ``None``; ``ValueError`` for a file it cannot read."""
    rows, _ = _read_rows(Path(path))
    return [name.strip() for name in rows[0]] if _has_header(rows) else None


def number(text: str) -> float | None:
    """The number a CSV field holds, or ``None`` where it holds none."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def _load_csv(path: Path, label_column: str | int | None) -> Table:
    rows, lines = _read_rows(path)
    header = _has_header(rows)
    width = len(rows[0])
    columns = [name.strip() for name in rows[0]] if header else [str(i) for i in range(width)]
    body, lines = (rows[1:], lines[1:]) if header else (rows, lines)
    if not body:
        raise ValueError(f"{path}: the file has a header but no data rows")
    label = _label_index(path, columns, label_column)
    X, labels = _parse_body(path, body, lines, columns, label, "header" if header else "first row")
    if X.shape[1] == 0:
        raise ValueError(f"{path}: no feature columns besides the label column {columns[label]!r}")
    y = None if label is None else _label_array(path, labels, lines, columns[label])
    features = [name for c, name in enumerate(columns) if c != label]
    return Table(X, y, features, None if label is None else columns[label], header)


def _read_rows(path: Path) -> tuple[list[list[str]], list[int]]:
    """The file's non-blank rows, each with the number of its (last) line in the file: blank lines
    are skipped, not counted away, so that messages cite the line an editor shows."""
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            for row in reader:
                if row and any(field.strip() for field in row):
                    rows.append(row)
                    line_numbers.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text CSV file ({exc})") from exc
    except csv.Error as exc:
        raise ValueError(f"{path}: not a readable CSV file ({exc})") from exc
    if not rows:
        raise ValueError(f"{path}: the file holds no rows")
    return rows, line_numbers


def _has_header(rows: list[list[str]]) -> bool:
    """A header: a first row with text where the second row has numbers (text labels in the same
    column of both rows are data); an empty field is a missing value, not text."""

    def text_columns(row: list[str]) -> set[int]:
        return {c for c, field in enumerate(row) if field.strip() and number(field) is None}

    first_text = text_columns(rows[0])
    return bool(first_text) and (len(rows) == 1 or first_text != text_columns(rows[1]))


def _parse_body(path: Path, body: list[list[str]], lines: list[int], columns: list[str], label: int | None,
                first: str) -> tuple[np.ndarray, list[str]]:
    """The feature matrix and the label column's fields (stripped) of the data rows."""
    width = len(columns)
    X = np.empty((len(body), width - (label is not None)), dtype=np.float64)
    labels: list[str] = []
    for r, row in enumerate(body):
        if len(row) != width:
            raise ValueError(f"{path}: line {lines[r]} has {len(row)} fields, the {first} {width}")
        j = 0
        for c, field in enumerate(row):
            if c == label:
                labels.append(field.strip())
                continue
            value = number(field)
            if value is None or not math.isfinite(value):
                what = "an empty field" if not field.strip() else f"{field.strip()!r} is not a finite number"
                raise ValueError(f"{path}: line {lines[r]}, column {columns[c]!r}: {what}")
            X[r, j] = value
            j += 1
    return X, labels


def _label_array(path: Path, labels: list[str], lines: list[int], name: str) -> np.ndarray:
    """The labels as float64 when every one is a finite number, else as strings (none may be empty)."""
    if any(not v for v in labels):
        raise ValueError(f"{path}: line {lines[labels.index('')]}, label column {name!r}: an empty field")
    numbers = [number(v) for v in labels]
    if all(v is not None and math.isfinite(v) for v in numbers):
        return np.asarray(numbers, dtype=np.float64)
    return np.asarray(labels, dtype=str)


def _label_index(path: Path, columns: list[str], label_column: str | int | None) -> int | None:
    if label_column is None:
        return None
    if label_column == "last":
        label_column = -1
    if isinstance(label_column, str) and label_column in columns:
        return columns.index(label_column)
    try:
        index = int(label_column)
    except (TypeError, ValueError):
        raise ValueError(
            f"{path}: no column named {label_column!r}; the columns are {columns}"
        ) from None
    if not -len(columns) <= index < len(columns):
        raise ValueError(
            f"{path}: label column index {index} is out of range for {len(columns)} columns "
            f"(valid: {-len(columns)} to {len(columns) - 1})"
        )
    if len(columns) < 2:
        raise ValueError(f"{path}: one column only: nothing is left for features beside the labels")
    return index % len(columns)


def _load_npz(path: Path, label_column: str | int | None) -> Table:
    if label_column not in (None, "last"):
        raise ValueError(
            f"{path}: a label column applies to CSV files; an .npz file holds arrays 'X' and 'y'"
        )
    # NumPy's and zipfile's errors (pickled or object arrays refused, a damaged or truncated zip)
    # are wrapped to name the file; the missing arrays are reported after the file is closed.
    # Our own handle: NumPy leaves its own open when the zip is damaged.
    X = y = None
    with open(path, "rb") as f:
        head = f.read(4)
        if head not in (b"PK\x03\x04", b"PK\x05\x06"):  # a zip's first header, or an empty zip's end
            raise ValueError(f"{path}: not an .npz file (a zip archive of arrays); it begins {head!r}")
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as data:
                names = list(data.files)
                if "X" in names:
                    X = np.asarray(data["X"])
                    if label_column is not None and "y" in names:
                        y = np.asarray(data["y"])
        except Exception as exc:
            raise ValueError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") from exc
    if X is None:
        raise ValueError(f"{path}: no array 'X' (its arrays are {names})")
    if label_column is not None and y is None:
        raise ValueError(f"{path}: no array 'y' of labels (its arrays are {names})")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"{path}: 'X' must be a non-empty 2-d array (samples × features), got shape {X.shape}"
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: 'X' must hold numbers, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"{path}: 'X' holds NaN or infinity, first at row {bad[0]}, column {bad[1]}")
    if y is not None:
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"{path}: 'y' must have shape ({X.shape[0]},) to match 'X', got {y.shape}")
        if y.dtype.kind in "biuf":
            y = y.astype(np.float64)
            if not np.isfinite(y).all():
                first = int(np.argmin(np.isfinite(y)))
                raise ValueError(f"{path}: 'y' holds NaN or infinity, first at row {first}")
        elif y.dtype.kind == "U":
            y = y.astype(str)
        else:
            raise ValueError(f"{path}: 'y' must hold numbers or strings, got dtype {y.dtype}")
    return Table(X, y, [str(i) for i in range(X.shape[1])], None if y is None else "y")


def split(
    n: int, test_size: float, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(train_index, test_index)``, sorted, from a seeded permutation of ``range(n)``.

    With class ``labels`` the split is stratified: each class gives ``round(test_size · count)``
    samples to the test part (and keeps at least one for training). Without, ``round(test_size · n)``
    samples go to the test part, at least one and at most ``n - 1`` (``n < 2`` rows cannot be split:
    ``ValueError``). ``test_size`` lies in ``[0, 1)``; 0 gives an empty test part.
    """
    if not 0.0 <= test_size < 1.0:
        raise ValueError(f"test size must lie in [0, 1), got {test_size}")
    if labels is None and test_size > 0 and n < 2:
        raise ValueError(f"test size {test_size} needs at least 2 rows (one to train on, one to test), "
                         f"got {n}")
    rng = np.random.default_rng(seed)
    if labels is None:
        order = rng.permutation(n)
        k = min(max(round(test_size * n), 1), n - 1) if test_size > 0 else 0
        test = order[:k]
    else:
        test_parts = []
        for c in np.unique(labels):
            members = np.flatnonzero(labels == c)
            rng.shuffle(members)
            k = min(round(test_size * len(members)), len(members) - 1)
            test_parts.append(members[:k])
        test = np.concatenate(test_parts)
    mask = np.zeros(n, dtype=bool)
    mask[test] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)
