"""``xpbackprop/_malloc.py``: a Trainer keeps the freed C heap, so steps stop faulting pages in.

The reference is the same process with the setting turned off (``XPBACKPROP_MALLOC_TOP_PAD=0``):
minor page faults per step, counted by the kernel (``getrusage``), not a timing.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"),
    reason=f"M_TOP_PAD is a glibc setting; this is {sys.platform} with "
    f"{platform.libc_ver()[0] or 'another C library'}",
)

# a step whose arrays (4096 × 64 float32: 1 MiB each) are freed at its end
STEPS = """
import json, resource
import numpy as np
import xpbackprop as xb
from xpbackprop import _malloc
net = xb.MLP([64, 64, 64, 10], hidden="relu", dtype="float32", seed=0)
trainer = xb.Trainer(net, lr=0.01)
rng = np.random.default_rng(0)
X = rng.standard_normal((4096, 64), dtype=np.float32)
Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 4096)]
for _ in range(3):
    trainer.step(X, Y)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    trainer.step(X, Y)
after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(json.dumps({"faults_per_step": (after - before) / 20, "pad": _malloc.keep_heap_top()}))
"""


def _run(pad: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "XPBACKPROP_MALLOC_TOP_PAD"}
    if pad is not None:
        env["XPBACKPROP_MALLOC_TOP_PAD"] = pad
    out = subprocess.run([sys.executable, "-c", STEPS], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_trainer_keeps_the_heap_top_and_steps_stop_faulting():
    kept, released = _run(None), _run("0")
    assert kept["pad"] == 64 << 20 and released["pad"] == 0
    # measured: 0 faults per step kept, 1,376 released (each 4 KiB page of the step's ~5.5 MB)
    assert kept["faults_per_step"] <= 0.1 * released["faults_per_step"], (kept, released)


def test_the_pad_can_be_chosen():
    assert _run(str(16 << 20))["pad"] == 16 << 20


@pytest.mark.parametrize("bad", ["lots", "-1", str(1 << 31)])
def test_a_bad_pad_names_the_variable(bad):
    code = "import xpbackprop as xb; xb.Trainer(xb.MLP([2, 2]), lr=0.1)"
    env = dict(os.environ, XPBACKPROP_MALLOC_TOP_PAD=bad)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "ValueError: XPBACKPROP_MALLOC_TOP_PAD must be" in out.stderr
    assert bad in out.stderr.splitlines()[-1]
