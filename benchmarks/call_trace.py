"""Python function calls into the xpbackprop package made by one training step and by one ``fit`` epoch.

Recorded with ``sys.setprofile`` (``call`` events whose code lies in the package's folder;
comprehensions and generator resumptions are calls too and are counted apart as well).
Reports the calls, how many per file, the distinct files, and how many times two
consecutive calls into the package are in different files ("switches").

- ``step``: one ``xb.Trainer(net, 0.01).step(X, Y)`` on 784-128-10, batch 64, numpy float32,
  ``Y`` one-hot float32 rows, after two warm-up steps;
- ``fit``: one ``net.fit(X, y, epochs=1, batch_size=64)`` over 4 batches (256 rows, class labels),
  after one warm-up call.

    PYTHONPATH=. python benchmarks/call_trace.py [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np

import xpbackprop as xb

PACKAGE = str(Path(xb.__file__).resolve().parent)
SIZES, BATCH = [784, 128, 10], 64


@dataclass
class Trace:
    """The package's files in call order (one entry per call) and the code names called."""

    files: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def switches(self) -> int:
        """Consecutive calls into the package that are in different files."""
        return sum(a != b for a, b in zip(self.files, self.files[1:]))

    def summary(self) -> dict[str, Any]:
        """Calls, distinct files, switches, calls per file and how many were comprehensions/generators."""
        return {"calls": len(self.files), "files": len(set(self.files)), "switches": self.switches,
                "comprehensions_and_generators": sum(n.startswith("<") for n in self.names),
                "per_file": dict(Counter(self.files).most_common())}


def trace(fn: Callable[[], Any]) -> Trace:
    """Run ``fn()`` once with a profile function recording every call into the package."""
    out = Trace()
    prefix = PACKAGE + "/"

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.startswith(prefix):
            out.files.append(frame.f_code.co_filename[len(prefix):])
            out.names.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return out


def cases() -> dict[str, Callable[[], Any]]:
    """The two traced calls, warmed up."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4 * BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], size=4 * BATCH)
    Y = np.eye(SIZES[-1], dtype=np.float32)[y]
    net = xb.MLP(SIZES, hidden="relu", output="softmax", loss="cross_entropy",
                 backend="numpy", dtype="float32", seed=0)
    trainer = xb.Trainer(net, 0.01)
    Xb, Yb = X[:BATCH], Y[:BATCH]

    def step() -> Any:
        return trainer.step(Xb, Yb)

    def fit() -> Any:
        return net.fit(X, y, epochs=1, lr=0.01, batch_size=BATCH, seed=0)

    step()
    step()
    fit()
    return {"step": step, "fit": fit}


def main(argv: list[str] | None = None) -> None:
    """Print the summary of each case, with calls per file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="write the summaries as JSON")
    args = parser.parse_args(argv)
    results = {name: trace(fn).summary() for name, fn in cases().items()}
    for name, s in results.items():
        print(f"{name}: {s['calls']} calls ({s['comprehensions_and_generators']} comprehensions/generators), "
              f"{s['files']} files, {s['switches']} switches")
        for file, n in s["per_file"].items():
            print(f"    {n:5d}  {file}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": sys.version.split()[0], **results}, f, indent=1)


if __name__ == "__main__":
    main()
