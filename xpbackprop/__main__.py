"""``python -m xpbackprop`` / ``xpbackprop``: a short demo that trains a network and prints its loss."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import xpbackprop as xb


def spirals(n_per_class: int = 200, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved noisy spirals in the plane: a small problem no linear model solves."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k in range(classes):
        r = np.linspace(0.05, 1.0, n_per_class)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + rng.normal(0.0, 0.2, n_per_class)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(n_per_class, k))
    return np.concatenate(X), np.concatenate(y)


def demo(backend: str, epochs: int, seed: int) -> int:
    X, y = spirals(seed=seed)
    net = xb.MLP([2, 64, 64, 3], hidden="relu", output="softmax", loss="cross_entropy",
                 backend=backend, seed=seed)
    print(f"xpbackprop {xb.__version__}: MLP [2, 64, 64, 3] on {len(X)} spiral points, backend {backend}")
    report = max(1, epochs // 10)

    def show(net, epoch, logs):
        if epoch == 1 or epoch % report == 0:
            print(f"  epoch {epoch:4d}  loss {logs['loss']:.4f}")

    start = time.perf_counter()
    history = net.fit(X, y, epochs=epochs, lr=0.01, batch_size=32, optimizer="adam", seed=seed,
                      callbacks=[show])
    seconds = time.perf_counter() - start
    print(f"loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f} in {history.epochs} epochs "
          f"({seconds:.1f} s); training accuracy {net.score(X, y):.3f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xpbackprop", description=__doc__)
    parser.add_argument("command", nargs="?", default="demo", choices=["demo"],
                        help="what to run (default: demo)")
    parser.add_argument("--backend", default="numpy", choices=list(xb.BACKENDS))
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    try:
        return demo(args.backend, args.epochs, args.seed)
    except (ImportError, ValueError) as exc:
        print(f"xpbackprop: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
