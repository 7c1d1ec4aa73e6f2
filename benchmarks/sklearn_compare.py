"""xpbackprop.sklearn beside scikit-learn's own MLP: the same parameters, the same random_state.

Two comparisons, printed as Markdown tables (``--json PATH`` also writes the figures):

- **wine, early stopping**: standardised wine (the scaler fitted on the training part of one
  fixed stratified split, ``test_size=0.25, random_state=0``), ``hidden_layer_sizes=(64,)``,
  ``early_stopping=True``, the default ``"adam"``; test accuracy, epochs and first loss for
  ``random_state`` 0-7.
- **lbfgs**: standardised breast cancer and digits (all rows), ``solver="lbfgs"`` with the
  defaults (``hidden_layer_sizes=(100,)``, ``max_iter=200``, ``tol=1e-4``), ``random_state=0``;
  final loss, iterations and the best of ``--repeats`` fit times (the two estimators taking turns).

Run from the repository root (NumPy backend; ``--backend torch`` etc. trains xpbackprop there)::

    PYTHONPATH=. python benchmarks/sklearn_compare.py
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from typing import Any

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as TheirMLP
from sklearn.preprocessing import StandardScaler

from xpbackprop.sklearn import MLPClassifier as OurMLP


def _fit(make: Any, X: np.ndarray, y: np.ndarray) -> tuple[Any, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est = make().fit(X, y)
        return est, time.perf_counter() - start


def wine(backend: str | None) -> list[dict[str, Any]]:
    X, y = load_wine(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    rows = []
    for seed in range(8):
        params = dict(hidden_layer_sizes=(64,), early_stopping=True, random_state=seed)
        ours, _ = _fit(lambda p=params: OurMLP(**p, backend=backend), X_train, y_train)
        theirs, _ = _fit(lambda p=params: TheirMLP(**p), X_train, y_train)
        rows.append({"seed": seed, "ours": ours.score(X_test, y_test),
                     "sklearn": theirs.score(X_test, y_test),
                     "ours_epochs": ours.n_iter_, "sklearn_epochs": theirs.n_iter_,
                     "ours_first_loss": ours.loss_curve_[0], "sklearn_first_loss": theirs.loss_curve_[0]})
    return rows


def lbfgs(backend: str | None, repeats: int) -> list[dict[str, Any]]:
    rows = []
    for name, load in (("breast cancer", load_breast_cancer), ("digits", load_digits)):
        X, y = load(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        figures: dict[str, Any] = {"data": name, "shape": list(X.shape)}
        makers = {"ours": lambda: OurMLP(solver="lbfgs", random_state=0, backend=backend),
                  "sklearn": lambda: TheirMLP(solver="lbfgs", random_state=0)}
        times: dict[str, list[float]] = {who: [] for who in makers}
        for _ in range(repeats):  # interleaved, so that a busy machine slows both alike
            for who, make in makers.items():
                est, seconds = _fit(make, X, y)
                times[who].append(seconds)
                figures.update({f"{who}_loss": est.loss_, f"{who}_iterations": est.n_iter_,
                                f"{who}_train_accuracy": est.score(X, y)})
        figures.update({f"{who}_seconds": min(t) for who, t in times.items()})
        rows.append(figures)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default=None, help="xpbackprop's backend (default: NumPy, as X)")
    parser.add_argument("--repeats", type=int, default=10,
                        help="lbfgs fits timed per estimator, interleaved (best kept)")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()

    wine_rows = wine(args.backend)
    print("wine, standardised, hidden_layer_sizes=(64,), early_stopping=True: test accuracy\n")
    print("| random_state | xpbackprop | scikit-learn | epochs (ours / theirs) "
          "| first loss (ours / theirs) |")
    print("|---|---|---|---|---|")
    for r in wine_rows:
        print(f"| {r['seed']} | {r['ours']:.3f} | {r['sklearn']:.3f} "
              f"| {r['ours_epochs']} / {r['sklearn_epochs']} "
              f"| {r['ours_first_loss']:.4f} / {r['sklearn_first_loss']:.4f} |")
    means = [np.mean([r[k] for r in wine_rows]) for k in ("ours", "sklearn")]
    print(f"| mean | {means[0]:.3f} | {means[1]:.3f} | | |\n")

    lbfgs_rows = lbfgs(args.backend, args.repeats)
    print(f"solver='lbfgs', defaults, random_state=0 (fit time: best of {args.repeats})\n")
    print("| data | loss (ours / theirs) | iterations | seconds | training accuracy |")
    print("|---|---|---|---|---|")
    for r in lbfgs_rows:
        print(f"| {r['data']} {tuple(r['shape'])} | {r['ours_loss']:.6g} / {r['sklearn_loss']:.6g} "
              f"| {r['ours_iterations']} / {r['sklearn_iterations']} "
              f"| {r['ours_seconds']:.3f} / {r['sklearn_seconds']:.3f} "
              f"| {r['ours_train_accuracy']:.4f} / {r['sklearn_train_accuracy']:.4f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"wine": wine_rows, "lbfgs": lbfgs_rows}, f, indent=2)


if __name__ == "__main__":
    main()
