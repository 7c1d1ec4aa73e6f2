"""Aten compute ops per training step on the torch backend (CPU), against PyTorch autograd.

A step's ops are recorded with ``torch.utils._python_dispatch.TorchDispatchMode`` and
counted after :data:`NOT_COMPUTE` is left out (views, reshapes, transposes, ``detach``,
``alias``, empty allocations, profiler markers). A ``_local_scalar_dense`` (a host read:
``.item()``, ``float(t)``, ``bool(t)``) is counted apart and reported loudly.

Columns: ``ours`` is ``xb.Trainer(net, lr, optimizer).step(X, Y)`` with one-hot float32 ``Y``
(what ``fit``'s steps receive); ``ours-labels`` the same step given int64 class labels;
``ours-plain`` ours inside ``xpbackprop.fast.disabled()`` where the library has it (else n/a);
``autograd`` is ``nn.Sequential`` + ``F.cross_entropy`` + ``backward`` + ``torch.optim`` at
its CPU defaults (single-tensor updates), ``autograd-foreach`` the same with ``foreach=True``
(``+k reads``: the step also made k host reads; torch.optim.Adam reads its step count).
Networks 784-128-10 and 784-512-512-10, ReLU, softmax + cross-entropy (mean), batch 64,
SGD (lr 0.01) and Adam (lr 1e-3); two warm-up steps, then one counted step.

    PYTHONPATH=. python benchmarks/op_counts.py [--verbose] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import xpbackprop as xb

# overload packets that move no data or only mark time: not compute (views are left out through
# func.is_view and the inplace_view tag as well; these are the ones that carry neither)
NOT_COMPUTE = frozenset({
    "view", "_unsafe_view", "reshape", "_reshape_alias", "t", "transpose", "permute", "expand",
    "squeeze", "unsqueeze", "as_strided", "detach", "alias", "lift_fresh",
    "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided",
    "_record_function_enter", "_record_function_enter_new", "_record_function_exit",
})
HOST_READ = "_local_scalar_dense"
NETWORKS = ((784, 128, 10), (784, 512, 512, 10))
OPTIMIZERS = {"sgd": 0.01, "adam": 1e-3}
BATCH, WARMUP = 64, 2
COLUMNS = ("ours", "ours-labels", "ours-plain", "autograd", "autograd-foreach")


@dataclass
class OpCount:
    """The ops of one call: ``compute`` (counted), ``host_reads`` and every op seen (``all``)."""

    compute: list[str] = field(default_factory=list)
    host_reads: int = 0
    all: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of compute ops."""
        return len(self.compute)


def is_compute(func: Any) -> bool:
    """Whether an op handed to ``__torch_dispatch__`` counts as a compute op."""
    import torch

    name = func.overloadpacket.__name__
    return (func.namespace == "aten" and not func.is_view and torch.Tag.inplace_view not in func.tags
            and name not in NOT_COMPUTE and name != HOST_READ)


def count_ops(fn: Callable[[], Any]) -> OpCount:
    """Run ``fn()`` once under a dispatch mode and return the ops it issued."""
    from torch.utils._python_dispatch import TorchDispatchMode

    result = OpCount()

    class Recorder(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = str(func)
            result.all.append(name)
            if func.overloadpacket.__name__ == HOST_READ:
                result.host_reads += 1
            elif is_compute(func):
                result.compute.append(name)
            return func(*args, **(kwargs or {}))

    with Recorder():
        fn()
    return result


def data(sizes: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded batch: float32 ``X`` (BATCH × n_in) and int64 class labels."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(BATCH, sizes[0])).astype(np.float32), rng.integers(0, sizes[-1], BATCH)


def ours_step(sizes: tuple[int, ...], optimizer: str, labels: bool = False) -> Callable[[], Any]:
    """One ``Trainer.step`` of an xpbackprop torch network, warmed up; Y one-hot unless ``labels``."""
    import torch

    X, y = data(sizes)
    net = xb.MLP(list(sizes), hidden="relu", output="softmax", loss="cross_entropy",
                 backend="torch", dtype="float32", seed=0)
    trainer = xb.Trainer(net, OPTIMIZERS[optimizer], optimizer=optimizer)
    Xt = torch.from_numpy(X)
    Y = torch.from_numpy(y) if labels else torch.from_numpy(np.eye(sizes[-1], dtype=np.float32)[y])

    def step() -> Any:
        return trainer.step(Xt, Y)

    for _ in range(WARMUP):
        step()
    return step


def autograd_step(sizes: tuple[int, ...], optimizer: str, foreach: bool | None = None) -> Callable[[], Any]:
    """One PyTorch autograd step of the same network (``foreach=None``: torch.optim's CPU default)."""
    import torch
    from torch import nn
    from torch.nn import functional

    X, y = data(sizes)
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for n_in, n_out in itertools.pairwise(sizes):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    opt_class = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer]
    opt = opt_class(model.parameters(), lr=OPTIMIZERS[optimizer], foreach=foreach)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step() -> Any:
        opt.zero_grad(set_to_none=True)
        loss = functional.cross_entropy(model(Xt), yt)
        loss.backward()
        opt.step()
        return loss

    for _ in range(WARMUP):
        step()
    return step


@functools.cache
def fast_module() -> ModuleType | None:
    """``xpbackprop.fast`` where the measured package has it, else None."""
    try:
        from xpbackprop import fast
    except ImportError:
        return None
    if Path(xb.__file__).parent not in Path(fast.__file__).parents:
        # an editable install of another checkout can supply a submodule this one lacks
        print(f"(xpbackprop.fast came from {fast.__file__}, not from the package measured: ignored)")
        return None
    return fast


def fast_disabled() -> contextlib.AbstractContextManager[Any] | None:
    """``xpbackprop.fast.disabled()`` where the library offers it, else None."""
    fast = fast_module()
    disabled = getattr(fast, "disabled", None)
    return disabled() if disabled is not None else None


def measure(sizes: tuple[int, ...], optimizer: str) -> dict[str, OpCount | None]:
    """Every column of the table for one network and optimizer."""
    counts: dict[str, OpCount | None] = {
        "ours": count_ops(ours_step(sizes, optimizer)),
        "ours-labels": count_ops(ours_step(sizes, optimizer, labels=True)),
        "ours-plain": None,
        "autograd": count_ops(autograd_step(sizes, optimizer)),
        "autograd-foreach": count_ops(autograd_step(sizes, optimizer, foreach=True)),
    }
    plain = fast_disabled()
    if plain is not None:
        with plain:
            counts["ours-plain"] = count_ops(ours_step(sizes, optimizer))
    for name in ("autograd", "autograd-foreach"):
        ops = counts[name].all  # type: ignore[union-attr]
        if not any("backward" in op for op in ops):
            raise RuntimeError(f"{name}: no backward op was seen by the dispatch mode: {ops}")
    return counts


def rows() -> Iterator[tuple[str, str, dict[str, OpCount | None]]]:
    """``(network, optimizer, counts)`` for every network and optimizer."""
    for sizes in NETWORKS:
        for optimizer in OPTIMIZERS:
            yield "-".join(map(str, sizes)), optimizer, measure(sizes, optimizer)


def main(argv: list[str] | None = None) -> None:
    """Print the table (and each op list with ``--verbose``); write it as JSON with ``--json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every counted op list")
    parser.add_argument("--json", metavar="PATH", help="write the counts as JSON")
    args = parser.parse_args(argv)
    header = f"{'network':<16} {'optimizer':<9} " + " ".join(f"{c:>16}" for c in COLUMNS)
    print(header)
    table, reads = [], []
    for network, optimizer, counts in rows():
        cells = ["n/a" if c is None else f"{c.n}" + (f" +{c.host_reads} reads" if c.host_reads else "")
                 for c in counts.values()]
        print(f"{network:<16} {optimizer:<9} " + " ".join(f"{c:>16}" for c in cells))
        table.append({"network": network, "optimizer": optimizer,
                      **{k: (None if c is None else {"compute": c.n, "host_reads": c.host_reads,
                                                      "ops": c.compute}) for k, c in counts.items()}})
        reads += [f"{network} {optimizer} {k}: {c.host_reads}" for k, c in counts.items()
                  if c is not None and c.host_reads]
        if args.verbose:
            for k, c in counts.items():
                if c is not None:
                    print(f"  {k} ({c.n} compute ops, {len(c.all)} in all):")
                    print("    " + ", ".join(op.removeprefix("aten.") for op in c.compute))
    print("\n!!! HOST READS (_local_scalar_dense) in a step:\n  " + "\n  ".join(reads) if reads
          else "\nno host read (_local_scalar_dense) in any counted step")
    if args.json:
        import torch

        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "batch": BATCH, "rows": table}, f, indent=1)


if __name__ == "__main__":
    main()
