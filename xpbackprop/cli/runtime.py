"""The process settings a command runs under: CPU threads, and torch without autograd's bookkeeping;
and the memory a network would need.

These settings are process-wide (torch's thread count, the BLAS thread pool), so the library never
changes them: the command line owns its process and chooses them for the small matrices of its
networks: torch's default of one thread per core, and OpenBLAS's under NumPy, spin their workers
against each other and against other processes on such matrices; one thread does not
(``benchmarks/cli_threads.py`` measures it, docs/cli.md gives the figures).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator
from typing import Any

from ..backend import backend_unavailable_reason
from .common import CommandError

__all__ = ["check_memory", "physical_memory", "run_settings"]


@contextlib.contextmanager
def run_settings(backend: str, device: str | None, threads: int | None) -> Iterator[None]:
    """Run the command under the thread setting ``threads`` (``None``: automatic, 1 on the CPU; 0:
    every library's own) and, on torch, in ``torch.inference_mode`` (the command line never asks
    torch for gradients: the library computes its own)."""
    if threads is None:
        threads = 1 if device is None or str(device).startswith("cpu") else 0
    with contextlib.ExitStack() as stack:
        if backend == "torch" and backend_unavailable_reason("torch") is None:  # else: the command's error
            import torch

            if threads:
                stack.callback(torch.set_num_threads, torch.get_num_threads())  # as it was, afterwards
                torch.set_num_threads(threads)
            stack.enter_context(torch.inference_mode())
        if threads:
            stack.enter_context(_blas_threads(threads))
        yield


def _blas_threads(threads: int) -> contextlib.AbstractContextManager[Any]:
    """The BLAS pools (NumPy's OpenBLAS or MKL) limited to ``threads``, with threadpoolctl; without it
    nothing changes (``OPENBLAS_NUM_THREADS`` set before the command starts does it instead)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def physical_memory() -> int | None:
    """Bytes of physical memory, where the system says (POSIX), else ``None``."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(sizes: list[int], dtype: str, optimizer: str, option: str) -> None:
    """``CommandError`` naming ``option`` when an MLP of ``sizes`` would not fit in memory to train:
    its float64 initial weights on the host, then parameters, gradients, the optimizer's state and
    the copies training keeps (the epoch's start, the best epoch), in ``dtype``."""
    n = sum(a * b + b for a, b in itertools.pairwise(sizes))
    itemsize = 4 if dtype == "float32" else 8
    copies = 4 + (2 if optimizer == "adam" else 1)
    need = n * (8 + itemsize * copies)
    have = physical_memory()
    if have is not None and need > have:
        raise CommandError(
            f"{option}: an MLP {sizes} has {n:,} parameters; training it needs about "
            f"{need / 2**30:,.0f} GiB, more than this machine's {have / 2**30:,.0f} GiB of memory"
        )
