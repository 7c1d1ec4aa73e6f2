"""Final float64 NumPy parameters of seeded training runs, recorded once and compared later.

Runs (public API only): the four benchmark configurations (``batch:sizes``, ReLU hidden,
softmax + cross-entropy, two batches of random data with class labels, 3 epochs,
``shuffle=True`` with a seed) trained with plain SGD, SGD with Nesterov momentum and Adam; and
the training runs of the notes' worked examples in ``examples/`` (the examples without a
training run, ``bias_in_weights`` and ``relu_softmax_column_major``, record their gradients).
``--small`` leaves out the 256 and 1024 configurations and the Nesterov run of the 64 one (the
committed fixture ``tests/data/reference_float64.npz`` stays under 2 MB).

    PYTHONPATH=. python benchmarks/reference_weights.py record OUT.npz [--small]
    PYTHONPATH=. python benchmarks/reference_weights.py compare FILE.npz [--small]

``compare`` re-trains and prints, per array, ``‖a − b‖ / ‖b‖`` (Frobenius, ``b`` the file's);
exit status 1 when one exceeds 1e-12 or an array is missing on either side.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

import xpbackprop as xb

TOLERANCE = 1e-12
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONFIGS = {64: (784, 128, 10), 256: (784, 512, 512, 10), 1024: (1024, 1024, 1024, 1024, 10),
           4096: (64, 64, 64, 10)}
SMALL_CONFIGS = (64, 4096)
OPTIMIZERS = {  # fit's keyword arguments
    "sgd": {"optimizer": "sgd", "lr": 0.05},
    "nesterov": {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "nesterov": True},
    "adam": {"optimizer": "adam", "lr": 1e-3},
}
EPOCHS, BATCHES = 3, 2

Arrays = list[np.ndarray]


def train_config(batch: int, optimizer: str) -> Arrays:
    """The final parameters of one benchmark configuration trained with one optimizer."""
    sizes = CONFIGS[batch]
    rng = np.random.default_rng(batch)
    X = rng.normal(size=(BATCHES * batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=BATCHES * batch)
    net = xb.MLP(list(sizes), hidden="relu", output="softmax", loss="cross_entropy",
                 backend="numpy", dtype="float64", seed=0)
    net.fit(X, y, epochs=EPOCHS, batch_size=batch, shuffle=True, seed=1, **OPTIMIZERS[optimizer])
    return [xb.to_numpy(p) for p in net.parameters]


def example(name: str) -> ModuleType:
    """An example module, imported as tests/test_examples.py does."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def example_runs() -> dict[str, Callable[[], Arrays]]:
    """The worked examples' public training runs (gradients where an example has no training run)."""
    def params(net: xb.Sequential) -> Arrays:
        return [xb.to_numpy(p) for p in net.parameters]

    def gradients(ex_name: str, transpose: bool) -> Arrays:
        ex = example(ex_name)
        X, Y = ex.data()
        loss, dW, db = ex.network().gradients(X.T, Y.T) if transpose else ex.network().gradients(X, Y)
        return [np.asarray(loss), *map(xb.to_numpy, dW), *map(xb.to_numpy, db)]

    runs: dict[str, Callable[[], Arrays]] = {
        "two_layer_perceptron.sigmoid": lambda: params(example("two_layer_perceptron").train(False)[0]),
        "two_layer_perceptron.softmax": lambda: params(example("two_layer_perceptron").train(True)[0]),
        "weight_shared_tanh": lambda: params(example("weight_shared_tanh").train()[0]),
        "xor_minibatch": lambda: params(example("xor_minibatch").train()[0]),
        "bias_in_weights.gradients": lambda: gradients("bias_in_weights", False),
        "relu_softmax_column_major.gradients": lambda: gradients("relu_softmax_column_major", True),
    }
    for case in ("mse_sigmoid", "bce_sigmoid", "ce_softmax"):
        runs[f"online_updates.{case}"] = lambda case=case: params(example("online_updates").one_step(case)[1])
    return runs


def runs(small: bool = False) -> dict[str, Callable[[], Arrays]]:
    """Every run, by name: ``"64.sgd"``, ``"xor_minibatch"``, ..."""
    out: dict[str, Callable[[], Arrays]] = {}
    for batch in SMALL_CONFIGS if small else CONFIGS:
        for optimizer in OPTIMIZERS:
            if not (small and batch == 64 and optimizer == "nesterov"):
                out[f"{batch}.{optimizer}"] = lambda b=batch, o=optimizer: train_config(b, o)
    return {**out, **example_runs()}


def arrays(run: str, values: Arrays) -> dict[str, np.ndarray]:
    """One run's arrays under the keys the file stores them by: ``"<run>.<index>"``."""
    return {f"{run}.{i}": np.asarray(v, dtype=np.float64) for i, v in enumerate(values)}


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """``‖a − b‖ / ‖b‖`` (Frobenius); ``‖a − b‖`` where ``b`` is zero, inf for a shape mismatch."""
    if a.shape != b.shape:
        return float("inf")
    norm = float(np.linalg.norm(b))
    diff = float(np.linalg.norm(a - b))
    return diff / norm if norm else diff


def main(argv: list[str] | None = None) -> int:
    """``record`` or ``compare``; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["record", "compare"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--small", action="store_true", help="leave out the 256 and 1024 configurations")
    args = parser.parse_args(argv)
    if args.command == "record":
        out = {k: v for name, run in runs(args.small).items() for k, v in arrays(name, run()).items()}
        np.savez_compressed(args.file, **out)
        print(f"{len(out)} arrays, {args.file.stat().st_size} bytes: {args.file}")
        return 0
    with np.load(args.file) as f:
        expected = {k: f[k] for k in f.files}
    worst, seen = 0.0, set()
    for name, run in runs(args.small).items():
        for key, value in arrays(name, run()).items():
            seen.add(key)
            if key not in expected:
                print(f"{key:45s} MISSING in {args.file}")
                worst = float("inf")
                continue
            rel = relative_difference(value, expected[key])
            worst = max(worst, rel)
            print(f"{key:45s} {value.size:9d} {rel:.3e}{'  FAIL' if rel > TOLERANCE else ''}")
    for key in sorted(set(expected) - seen):
        print(f"{key:45s} in {args.file} but not produced")
        worst = float("inf")
    print(f"worst {worst:.3e} (tolerance {TOLERANCE:g})")
    return 1 if worst > TOLERANCE else 0


if __name__ == "__main__":
    sys.exit(main())
