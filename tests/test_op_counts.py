"""A training step on torch (CPU) issues no more aten compute ops than PyTorch autograd, and no host read.

The counting (a ``TorchDispatchMode``, views, reshapes and allocations left out) and both steps
live in ``benchmarks/op_counts.py``, which prints the whole table. The reference is
``nn.Sequential`` + ``F.cross_entropy`` + ``loss.backward()`` + ``torch.optim`` at its CPU
defaults (single-tensor updates); ours is ``xb.Trainer(...).step(X, Y)`` with one-hot ``Y``.
Runs in the torch session only (or wherever ``XPBACKPROP_BACKENDS`` names torch).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import BACKEND_NAMES, DEVICE

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import op_counts

pytestmark = [
    pytest.mark.skipif("torch" not in BACKEND_NAMES,
                       reason="op counts run with the torch backend, which this session leaves out"),
    pytest.mark.skipif(DEVICE is not None, reason=f"op counts compare with torch.optim's CPU defaults; "
                       f"this run puts tensors on {DEVICE} (XPBACKPROP_DEVICE)"),
]


@pytest.mark.parametrize("backend", ["torch"], indirect=True)
@pytest.mark.parametrize("optimizer", list(op_counts.OPTIMIZERS))
@pytest.mark.parametrize("sizes", op_counts.NETWORKS, ids=lambda s: "-".join(map(str, s)))
def test_step_issues_no_more_ops_than_autograd(backend, sizes, optimizer):
    ours = op_counts.count_ops(op_counts.ours_step(sizes, optimizer))
    reference = op_counts.count_ops(op_counts.autograd_step(sizes, optimizer))
    assert any("backward" in op for op in reference.all), "the autograd backward pass was not recorded"
    assert ours.host_reads == 0, f"Trainer.step read the host {ours.host_reads} times"
    assert ours.n <= reference.n, (
        f"ours {ours.n} compute ops, autograd {reference.n}\n"
        f"ours: {', '.join(ours.compute)}\nautograd: {', '.join(reference.compute)}"
    )


def test_counting_rule():
    """The rule itself: an mm and an add count, views and a detach do not; .item() is a host read."""
    torch = pytest.importorskip("torch", reason="torch is not installed")
    a = torch.ones(3, 4)

    def ops():
        b = (a @ a.T).reshape(9).detach()[None].T
        return float((b + 1).sum())

    count = op_counts.count_ops(ops)
    assert [op.split(".")[1] for op in count.compute] == ["mm", "add", "sum"]
    assert count.host_reads == 1


#: compute ops of the step before the backends' fast paths were gathered into xpbackprop.fast
#: (benchmarks/NOTES.md): the plain formulas, which CuPy runs, may not issue more
PLAIN_BEFORE = {("784-128-10", "sgd"): 30, ("784-128-10", "adam"): 82,
                ("784-512-512-10", "sgd"): 41, ("784-512-512-10", "adam"): 119}


@pytest.mark.parametrize("backend", ["torch"], indirect=True)
@pytest.mark.parametrize("optimizer", list(op_counts.OPTIMIZERS))
@pytest.mark.parametrize("sizes", op_counts.NETWORKS, ids=lambda s: "-".join(map(str, s)))
def test_the_plain_formulas_issue_no_more_ops_than_before(backend, sizes, optimizer):
    from xpbackprop import fast

    with fast.disabled():
        plain = op_counts.count_ops(op_counts.ours_step(sizes, optimizer))
    assert plain.host_reads == 0
    assert plain.n <= PLAIN_BEFORE["-".join(map(str, sizes)), optimizer], ", ".join(plain.compute)
