"""Three epochs of training on a backend and device against NumPy in float64: how far the weights land.

The same seeded network (digits, 64-32-10, ReLU, softmax + cross-entropy, mini-batches of 64,
shuffled) trained three epochs with SGD (Nesterov momentum) and with Adam, in float32 and in
float64, on each backend named; every parameter array is compared with the NumPy float64 run by
‖a - b‖ / ‖b‖ and the largest is printed, with the test suite's agreement tolerance (float64:
1e-12; float32: 1e-5).

    PYTHONPATH=. python benchmarks/gpu_agreement.py cupy torch:cuda [--json out.json]
    PYTHONPATH=. python benchmarks/gpu_agreement.py torch array_api_strict     # on a CPU
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's xpbackprop

import xpbackprop as xb
from xpbackprop import datasets

TOLERANCE = {"float64": 1e-12, "float32": 1e-5}
OPTIONS = {"sgd-nesterov": {"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "lr": 0.05},
           "adam": {"optimizer": "adam", "lr": 1e-3}}


def train(backend: str, device: str | None, dtype: str, options: dict) -> list[np.ndarray]:
    X, y = datasets.BUILTIN["digits"]()
    X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    net = xb.MLP([X.shape[1], 32, 10], hidden="relu", backend=backend, device=device, dtype=dtype, seed=0)
    net.fit(X, y.astype(np.int64), epochs=3, batch_size=64, seed=0, **options)
    return [xb.to_numpy(p).astype(np.float64) for p in net.parameters]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="+", help="backend or backend:device (cupy, torch:cuda, jax, ...)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows, ok = [], True
    for name, options in OPTIONS.items():
        reference = train("numpy", None, "float64", options)
        for target in args.targets:
            backend, _, device = target.partition(":")
            for dtype in ("float64", "float32"):
                got = train(backend, device or None, dtype, options)
                err = max(float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(got, reference))
                passed = err <= TOLERANCE[dtype]
                ok &= passed
                rows.append({"optimizer": name, "target": target, "dtype": dtype, "rel_error": err,
                             "tolerance": TOLERANCE[dtype], "passed": passed})
                print(f"{name:13s} {target:18s} {dtype}  max ‖a-b‖/‖b‖ {err:.2e}  "
                      f"(≤ {TOLERANCE[dtype]:.0e}: {'yes' if passed else 'NO'})", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
