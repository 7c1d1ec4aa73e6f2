"""Two checkouts' NumPy training steps, interleaved in one process: is the new one slower?

Each checkout's package is loaded under its own name (``xb_a``, ``xb_b``), so both steps run in
the same process, on the same data and the same machine state, alternated round by round (each
first in turn). Per configuration: the median over the rounds of ``time(b) / time(a)`` and its
quartiles. A step is ``Trainer(net, lr).step(X, Y)`` (plain SGD, ReLU hidden layers, softmax +
cross-entropy, float32, one-hot ``Y``: what ``fit``'s steps receive), the same call on both.

    python benchmarks/ab_checkouts.py OLD_CHECKOUT NEW_CHECKOUT [--rounds 40] [--configs 0,1,2,3]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")

import numpy as np

CONFIGS = [(64, [784, 128, 10]), (256, [784, 512, 512, 10]),
           (1024, [1024, 1024, 1024, 1024, 10]), (4096, [64, 64, 64, 10])]


def load(checkout: str, alias: str) -> ModuleType:
    """The package ``xpbackprop`` of ``checkout`` imported as ``alias`` (its modules as ``alias.*``)."""
    root = Path(checkout).resolve() / "xpbackprop"
    spec = importlib.util.spec_from_file_location(alias, root / "__init__.py",
                                                  submodule_search_locations=[str(root)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    spec.loader.exec_module(module)
    return module


def step_of(xb: ModuleType, batch: int, sizes: list[int]):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], batch)]
    trainer = xb.Trainer(xb.MLP(sizes, hidden="relu", seed=0), lr=1e-3)
    return lambda: trainer.step(X, Y)


def timed(step, inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        step()
    return (time.perf_counter() - start) / inner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--configs", default="0,1,2,3")
    args = parser.parse_args()
    packages = {"old": load(args.old, "xb_a"), "new": load(args.new, "xb_b")}
    print(f"old {args.old}, new {args.new}; {args.rounds} interleaved rounds; ratio new/old per round")
    for config in (int(c) for c in args.configs.split(",")):
        batch, sizes = CONFIGS[config]
        steps = {name: step_of(xb, batch, sizes) for name, xb in packages.items()}
        for step in steps.values():
            for _ in range(3):
                step()
        inner = max(1, int(0.02 / max(1e-5, timed(steps["old"], 1))))
        ratios, times = [], {"old": [], "new": []}
        for r in range(args.rounds):
            for name in (("old", "new") if r % 2 else ("new", "old")):
                steps[name]()  # one untimed step after the other candidate's
                times[name].append(timed(steps[name], inner))
            ratios.append(times["new"][-1] / times["old"][-1])
        q1, median, q3 = statistics.quantiles(ratios, n=4)
        print(f"{batch}: {','.join(map(str, sizes))}  new/old median {median:.3f} "
              f"(quartiles {q1:.3f}-{q3:.3f}); "
              f"medians old {statistics.median(times['old']) * 1e3:.3f} ms, new "
              f"{statistics.median(times['new']) * 1e3:.3f} ms", flush=True)


if __name__ == "__main__":
    main()
