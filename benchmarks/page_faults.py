"""Minor page faults and time per NumPy training step, with and without the kept heap top.

A Trainer sets glibc's ``M_TOP_PAD`` (``xpbackprop/_malloc.py``) so that the arrays a step
frees are reused by the next step instead of being returned to the kernel and faulted back
in. This runs the four benchmark configurations in child processes, once as shipped and once
with ``XPBACKPROP_MALLOC_TOP_PAD=0``, and prints faults per step (from ``getrusage``) and the
median ms per step of each::

    PYTHONPATH=. python benchmarks/page_faults.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CONFIGS = ["64:784,128,10", "256:784,512,512,10", "1024:1024,1024,1024,1024,10", "4096:64,64,64,10"]

CHILD = """
import json, resource, statistics, sys, time
import numpy as np
import xpbackprop as xb
batch, sizes = sys.argv[1].split(":")
B, sizes = int(batch), [int(s) for s in sizes.split(",")]
net = xb.MLP(sizes, hidden="relu", dtype="float32", seed=0)
trainer = xb.Trainer(net, lr=0.01)
rng = np.random.default_rng(0)
X = rng.standard_normal((B, sizes[0]), dtype=np.float32)
Y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], B)]
for _ in range(5):
    trainer.step(X, Y)
steps = max(5, min(200, int(0.5 / max(1e-4, B * sum(a * b for a, b in zip(sizes, sizes[1:])) * 6e-11))))
before, times = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, []
for _ in range(steps):
    t = time.perf_counter(); trainer.step(X, Y); times.append(time.perf_counter() - t)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / steps
print(json.dumps({"faults": faults, "ms": statistics.median(times) * 1e3, "steps": steps}))
"""


def run(config: str, pad: str | None) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2")
    env.pop("XPBACKPROP_MALLOC_TOP_PAD", None)
    if pad is not None:
        env["XPBACKPROP_MALLOC_TOP_PAD"] = pad
    out = subprocess.run([sys.executable, "-c", CHILD, config], env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"{'config':<30} {'kept: faults/step':>18} {'ms/step':>8}   "
          f"{'released: faults/step':>22} {'ms/step':>8}")
    for config in sys.argv[1:] or CONFIGS:
        kept, released = run(config, None), run(config, "0")
        print(f"{config:<30} {kept['faults']:>18.1f} {kept['ms']:>8.2f}   "
              f"{released['faults']:>22.1f} {released['ms']:>8.2f}")


if __name__ == "__main__":
    main()
