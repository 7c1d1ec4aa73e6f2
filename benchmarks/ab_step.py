"""Quick A/B timing of the NumPy training step against its matrix products.

Interleaves ``Trainer.step``, the floor (the same products alone) and the same step
written out in NumPy by hand (the same passes as ours, no library code: what NumPy
itself allows above the floor) for 40 rounds and prints the minimum per step of each,
for comparing two checkouts:

    PYTHONPATH=/path/to/checkout-a python benchmarks/ab_step.py
    PYTHONPATH=/path/to/checkout-b python benchmarks/ab_step.py

Optional arguments pick configurations by index (0: 64:784,128,10;
1: 256:784,512,512,10; 2: 1024:1024,1024,1024,1024,10; 3: 4096:64,64,64,10).
``benchmarks/gpu_benchmark.py`` is the full benchmark; this is its quick check. Each line
ends with that script's cross-core probe before and after the config (µs; low: the
machine's fast state, see ``cross_core_probe``): compare runs made in the same state.
"""

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import time

import numpy as np

import xpbackprop as xb

LR = 0.001
CONFIGS = [(64, [784, 128, 10]), (256, [784, 512, 512, 10]),
           (1024, [1024, 1024, 1024, 1024, 10]), (4096, [64, 64, 64, 10])]

# after xpbackprop: gpu_benchmark puts its own checkout first on sys.path for what it imports
# (this directory is sys.path[0] for a script)
from gpu_benchmark import cross_core_probe, numpy_by_hand  # noqa: E402


def bench(batch: int, sizes: list[int], rounds: int = 40) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    net = xb.MLP(sizes, hidden="relu", seed=0)
    trainer = xb.Trainer(net, lr=LR)
    Xd, Yd = X, np.eye(sizes[-1], dtype=np.float32)[y]  # what fit's steps receive: one-hot rows
    Ws = [xb.to_numpy(w) for w in net.weights]
    As = [X] + [np.abs(rng.normal(size=(batch, W.shape[1]))).astype(np.float32) for W in Ws[:-1]]
    dZs = [rng.normal(size=(batch, W.shape[1])).astype(np.float32) for W in Ws]

    def floor() -> None:
        for A, W in zip(As, Ws):
            A @ W
        for i, (A, W, dZ) in enumerate(zip(As, Ws, dZs)):
            A.T @ dZ
            if i:
                dZ @ W.T

    def step() -> None:
        trainer.step(Xd, Yd)

    by_hand = numpy_by_hand(X, np.eye(sizes[-1], dtype=np.float32)[y],
                            [xb.to_numpy(p).copy() for p in net.parameters], LR)

    probe = cross_core_probe()["first"]
    candidates = {"step": step, "floor": floor, "hand": by_hand}
    for f in candidates.values():
        for _ in range(3):
            f()
    start = time.perf_counter()
    step()
    inner = max(1, int(0.02 / max(1e-5, time.perf_counter() - start)))
    times: dict[str, list[float]] = {name: [] for name in candidates}
    names = list(candidates)
    for r in range(rounds):
        for name in names[r % len(names):] + names[: r % len(names)]:  # each first in turn
            f = candidates[name]
            start = time.perf_counter()
            for _ in range(inner):
                f()
            times[name].append((time.perf_counter() - start) / inner)
    st, fl, hd = (min(times[name]) for name in names)
    print(f"{batch:5d} {sizes!s:28s} step {st * 1e3:8.3f} ms  floor {fl * 1e3:8.3f} ms  ratio {st / fl:.3f}"
          f"  by hand {hd / fl:.3f}  probe {probe:.0f}/{cross_core_probe()['first']:.0f} us")


if __name__ == "__main__":
    for index in sys.argv[1:] or range(len(CONFIGS)):
        bench(*CONFIGS[int(index)])
