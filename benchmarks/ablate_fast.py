"""What each backend fast path gains on a whole training step: the step with it, and without it.

For each benchmark configuration and each variant of the backend's table (``xpbackprop.fast``),
the same ``Trainer.step`` runs with every variant and with that one replaced by its reference
formula (``fast.disabled(name)``), alternated round by round in one process, and the median of
the per-round ratios without/with is printed (above 1: the variant pays). A variant stays only
while some configuration shows at least 5 % (benchmarks/NOTES.md).

    PYTHONPATH=. python benchmarks/ablate_fast.py [--backend numpy|torch] [--rounds 40]
        [--optimizer sgd|adam] [--configs 0,1,2,3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import numpy as np

import xpbackprop as xb
from xpbackprop import fast

CONFIGS = [(64, [784, 128, 10]), (256, [784, 512, 512, 10]),
           (1024, [1024, 1024, 1024, 1024, 10]), (4096, [64, 64, 64, 10])]


def _step(backend: str, batch: int, sizes: list[int], optimizer: str):
    rng = np.random.default_rng(0)
    net = xb.MLP(sizes, hidden="relu", backend=backend, seed=0)
    X = net.xp.asarray(rng.normal(size=(batch, sizes[0])).astype(np.float32))
    Y = net.xp.asarray(np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], batch)])
    trainer = xb.Trainer(net, lr=1e-3, optimizer=optimizer)
    return lambda: trainer.step(X, Y)


def _time(step, inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        step()
    return (time.perf_counter() - start) / inner


def ablate(backend: str, config: int, optimizer: str, rounds: int) -> dict[str, float]:
    """``{variant: median of (step without it) / (step with it)}`` for one configuration."""
    batch, sizes = CONFIGS[config]
    step = _step(backend, batch, sizes, optimizer)
    for _ in range(3):
        step()
    inner = max(1, int(0.02 / max(1e-5, _time(step, 1))))
    table = fast.table_name(xb.namespace(backend))
    ratios: dict[str, float] = {}
    for name in fast.variants(table):
        samples = []
        for r in range(rounds):
            order = (False, True) if r % 2 else (True, False)
            t = {}
            for off in order:
                if off:
                    with fast.disabled(name):
                        step()  # the reference's first call outside the timing
                        t[off] = _time(step, inner)
                else:
                    step()
                    t[off] = _time(step, inner)
            samples.append(t[True] / t[False])
        ratios[name] = statistics.median(samples)
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="numpy", choices=["numpy", "torch"])
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--configs", default="0,1,2,3")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = {}
    for config in (int(c) for c in args.configs.split(",")):
        batch, sizes = CONFIGS[config]
        key = f"{batch}: {','.join(map(str, sizes))}"
        results[key] = ablate(args.backend, config, args.optimizer, args.rounds)
        print(key, "  ".join(f"{k} {v:.3f}" for k, v in results[key].items()), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"backend": args.backend, "optimizer": args.optimizer, "rounds": args.rounds,
                       "without/with": results}, f, indent=1)


if __name__ == "__main__":
    main()
