#!/usr/bin/env python
"""Time one xpbackprop training step against its matrix-product floor and PyTorch eager.

One step is ``xb.Trainer(net, lr=0.01).step(X, Y)``: forward, backward and the SGD
update of a ReLU MLP with a softmax + cross-entropy output, in float32, through the
public API. Run it from the repository root::

    PYTHONPATH=. python benchmarks/gpu_benchmark.py                 # main table
    PYTHONPATH=. python benchmarks/gpu_benchmark.py --sweep --epoch --memory --peers

Sections (``--main`` is the default when no section is named; ``--all`` runs all):

- main: per configuration ``B:n0,...,nL``: median (and min) ms per step, samples/s,
  achieved TFLOP/s, the ratio to the same backend's matrix products alone (the
  "floor") and to PyTorch eager on the same device, interleaved in rounds.
- ``--sweep``: batch 256 ... 16384 for one network, ms/step, µs/sample, ratio to the floor.
- ``--epoch``: ``net.fit`` over k batches against k x the median step (target <= 1.1).
- ``--memory``: peak of one step against what a step must hold (target <= 1.2): tracemalloc on the
  CPU, CuPy's pool hooks and PyTorch's CUDA allocator statistics on a GPU.
- ``--peers``: on the CPU, the same step in PyTorch eager, JAX jit and scikit-learn.

See benchmarks/README.md for what each figure means and how it is counted.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import math
import os
import platform
import shlex
import statistics
import sys
import textwrap
import time
import traceback
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --- thread settings: applied before numpy / torch / jax are imported -------------------------


def _threads_from_argv(argv: list[str]) -> int:
    """``--threads N`` (or ``--threads=N``) from the raw command line: 2 when absent.

    A malformed value gives 2 here and a one-line error from argparse later.
    """
    value = "2"
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--threads="):
            value = arg.split("=", 1)[1]
    try:
        return max(int(value), 0)
    except ValueError:
        return 2


THREADS = _threads_from_argv(sys.argv[1:])
if THREADS:  # --threads 0 leaves every library at its own default
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
        os.environ[_var] = str(THREADS)
    _xla = f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={THREADS}"
    os.environ["XLA_FLAGS"] = f"{os.environ['XLA_FLAGS']} {_xla}" if os.environ.get("XLA_FLAGS") else _xla

# --- the array libraries, after the thread settings ------------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's xpbackprop

import numpy as np  # noqa: E402

import xpbackprop as xb  # noqa: E402
from xpbackprop.backend import backend_unavailable_reason  # noqa: E402

LR = 0.01
DEFAULT_CONFIGS = (
    "64:784,128,10",
    "256:784,512,512,10",
    "1024:1024,1024,1024,1024,10",
    "4096:64,64,64,10",
)
DEFAULT_SWEEP_WIDTHS = "784,512,512,10"
DEFAULT_SWEEP_BATCHES = tuple(256 * 2**k for k in range(7))  # 256 ... 16384
BENCH_BACKENDS = ("numpy", "cupy", "torch", "jax", "array_api_strict")
CPU_BACKENDS = ("numpy", "torch", "jax", "array_api_strict")
MAX_INNER = 1000  # at most this many steps in one timed sample
EPOCH_TARGET = 1.1
MEMORY_TARGET = 1.2
NOTE_WIDTH = 100  # notes under a table are wrapped to this width


class BenchError(Exception):
    """A problem with the command line or the machine: reported as one line, exit status 2."""


# --- configurations and flops ----------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    batch: int
    sizes: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.batch}:{','.join(map(str, self.sizes))}"

    @property
    def layers(self) -> list[tuple[int, int]]:
        return list(zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def flops(self) -> int:
        """2·B·n_in·n_out for the forward and for dW on every layer, and for dA_prev on all but the first."""
        b = self.batch
        per_layer = [2 * b * n_in * n_out for n_in, n_out in self.layers]
        return 2 * sum(per_layer) + sum(per_layer[1:])


def parse_sizes(text: str, what: str, shown: str | None = None) -> tuple[int, ...]:
    shown = text if shown is None else shown
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if len(sizes) < 2 or min(sizes) < 1:
        raise BenchError(
            f"bad {what} {shown!r}: layer sizes n0,n1,...,nL must be at least two positive integers"
        )
    if sizes[-1] < 2:
        raise BenchError(f"bad {what} {shown!r}: softmax + cross-entropy needs at least 2 outputs")
    return sizes


def parse_config(text: str) -> Config:
    batch_text, sep, sizes_text = text.partition(":")
    try:
        batch = int(batch_text)
    except ValueError:
        batch = 0
    if not sep or batch < 1:
        raise BenchError(
            f"bad --config {text!r}: expected B:n0,n1,...,nL with positive integers, e.g. 256:784,512,10"
        )
    return Config(batch, parse_sizes(sizes_text, "--config", text))


# --- host data -------------------------------------------------------------------------------


@dataclass
class HostData:
    X: np.ndarray  # (N, n0) float32
    labels: np.ndarray  # (N,) int64
    Y: np.ndarray  # (N, nL) float32 one-hot: the integer labels converted once


def host_data(n: int, sizes: Sequence[int], seed: int = 1) -> HostData:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    labels = rng.integers(0, sizes[-1], size=n).astype(np.int64)
    Y = np.eye(sizes[-1], dtype=np.float32)[labels]
    return HostData(X, labels, Y)


# --- backends: where the arrays live and how to wait for them --------------------------------


def import_torch() -> Any:
    import torch

    if THREADS and torch.get_num_threads() != THREADS:
        torch.set_num_threads(THREADS)
    return torch


def import_jax() -> Any:
    import jax

    return jax


@dataclass
class Backend:
    name: str
    why: str
    device: Any = None  # what MLP(device=...) and asarray(device=...) get
    xp: Any = None
    where: str = "cpu"  # "cpu" or "cuda:<id>": where PyTorch's reference runs

    def __post_init__(self) -> None:
        self.xp = xb.namespace(self.name)
        probe = self.put(np.zeros(1, dtype=np.float32))
        if self.name == "cupy":
            import cupy

            self.where = f"cuda:{cupy.cuda.Device().id}"
        elif self.name == "torch":
            self.where = str(probe.device) if probe.device.type == "cuda" else "cpu"
        elif self.name == "jax":
            dev = next(iter(probe.devices()))
            self.where = "cpu" if dev.platform == "cpu" else f"cuda:{getattr(dev, 'id', 0)}"

    def put(self, host: np.ndarray) -> Any:
        """Host data onto the backend's device, once."""
        if self.device is None:
            return self.xp.asarray(host)
        return self.xp.asarray(host, device=self.device)

    def sync(self, obj: Any) -> None:
        """Wait until the device has finished everything queued (``obj``: what to wait for on jax)."""
        if self.name == "cupy":
            import cupy

            cupy.cuda.get_current_stream().synchronize()
        elif self.name == "torch" and self.where != "cpu":
            import torch

            torch.cuda.synchronize(self.where)  # (without a device: only the current one)
        elif self.name == "jax":
            import jax

            jax.block_until_ready(obj)


def choose_backend(args: argparse.Namespace) -> Backend:
    if args.backend is not None:
        reason = backend_unavailable_reason(args.backend)
        if reason is not None:
            raise BenchError(f"backend {args.backend!r} cannot run here: {reason}")
        name, why = args.backend, f"--backend {args.backend}"
    else:
        reason = backend_unavailable_reason("cupy")
        if reason is None:
            name, why = "cupy", "default: a CUDA device answers"
        else:
            name, why = "numpy", f"default: cupy unavailable ({reason})"
    device = resolve_device(name, args.device)
    if name == "torch":
        torch = import_torch()
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
            why += f"; device {device!r} ({'CUDA available' if device == 'cuda' else 'no CUDA'})"
    try:
        return Backend(name, why, device)
    except Exception as exc:
        msg = f"backend {name!r} with device {device!r} cannot run here: {error_text(exc)}"
        raise BenchError(msg) from exc


def resolve_device(name: str, text: str | None) -> Any:
    """``--device`` as the backend takes it: torch a string (``cuda:1``); cupy a device number
    (``1`` or ``cuda:1``), made the current device for the whole run (so ``None`` is returned: every
    array and the synchronisation then use it); jax and the others the device object that
    ``str(device)`` or its platform names (as ``xpbackprop``'s command line finds it)."""
    if text is None or name == "torch":
        return text
    if name == "cupy":
        number = text.rsplit(":", 1)[-1]
        if not number.isdigit():
            raise BenchError(f"--device {text!r}: cupy takes a device number (0, 1, cuda:1)")
        import cupy

        try:
            cupy.cuda.Device(int(number)).use()
        except Exception as exc:
            raise BenchError(f"--device {text!r}: {error_text(exc)}") from exc
        return None
    from xpbackprop.cli.common import device_from_text

    return device_from_text(name, text)


def cpu_backend(args: argparse.Namespace, main: Backend) -> Backend:
    """The backend 'ours' runs on in the CPU-only sections (peers, memory)."""
    if main.where == "cpu":
        return main
    return Backend("numpy", f"CPU section: {main.name} runs on {main.where}, so ours runs on numpy here")


# --- timing ----------------------------------------------------------------------------------


@dataclass
class Timed:
    """One candidate: ``step()`` runs one step, ``sync(out)`` waits for it to finish."""

    name: str
    step: Callable[[], Any]
    sync: Callable[[Any], None]
    loss_of: Callable[[Any], float] | None = None
    steps_per_call: int = 1
    inner: int = 1
    samples: list[float] = field(default_factory=list)  # seconds per step
    wall: float = 0.0
    cpu: float = 0.0
    first_loss: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def best(self) -> float:
        return min(self.samples)

    def summary(self) -> dict[str, Any]:
        return {
            "median_ms": self.median * 1e3,
            "min_ms": self.best * 1e3,
            "samples_ms": [round(s * 1e3, 6) for s in self.samples],
            "steps_per_sample": self.inner * self.steps_per_call,
            "cores_used": self.cpu / self.wall if self.wall > 0 else None,
            "first_loss": self.first_loss,
        }


def run_interleaved(cands: list[Timed], warmup: int, repeats: int, min_time: float,
                    settle: float) -> None:
    """Warm each candidate up, then time them in rounds, rotating the order every round.

    A sample is ``inner`` consecutive calls (enough to last ``min_time``) followed by one
    sync; its time divided by the number of steps is one entry of ``samples``. Before each
    sample the process sleeps ``settle`` seconds, so that the worker threads the previous
    candidate left spinning (OpenBLAS's spin for up to ~0.1 s after a call, OpenMP's and
    XLA's likewise) are asleep and do not take cores from the one being timed; then one
    untimed call (and sync) wakes the timed candidate's own threads, as a training loop's
    steps find them (the first 64-config step after 0.2 s idle took 820 µs, the next ones
    250-310 µs: benchmarks/NOTES.md).
    """
    for c in cands:
        out = None
        for i in range(max(warmup, 1)):
            out = c.step()
            c.sync(out)
            if i == 0 and c.loss_of is not None:
                c.first_loss = c.loss_of(out)
        t0 = time.perf_counter()
        c.sync(c.step())
        t = max(time.perf_counter() - t0, 1e-7)
        c.inner = max(1, min(MAX_INNER, math.ceil(min_time / t)))
    gc.collect()
    for r in range(repeats):
        k = r % len(cands)
        for c in cands[k:] + cands[:k]:
            if settle > 0 and len(cands) > 1:
                time.sleep(settle)
                c.sync(c.step())
            enabled = gc.isenabled()
            gc.disable()
            try:
                c0, t0 = time.process_time(), time.perf_counter()
                for _ in range(c.inner):
                    out = c.step()
                c.sync(out)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            finally:
                if enabled:
                    gc.enable()
            c.samples.append(wall / (c.inner * c.steps_per_call))
            c.wall += wall
            c.cpu += cpu


# --- candidates ------------------------------------------------------------------------------


def benchmark_net(cfg: Config, be: Backend) -> Any:
    """The benchmarked network: ReLU hidden layers, softmax + cross-entropy, float32, seed 0."""
    return xb.MLP(list(cfg.sizes), hidden="relu", output="softmax", loss="cross_entropy",
                  backend=be.name, device=be.device, dtype="float32", seed=0)


def make_ours(
    cfg: Config, be: Backend, data: HostData
) -> tuple[Timed, Any, list[np.ndarray], list[np.ndarray]]:
    """xpbackprop's step through the public API; also the network and its initial weights."""
    net = benchmark_net(cfg, be)
    W0 = [xb.to_numpy(w).copy() for w in net.weights]
    b0 = [xb.to_numpy(b).copy() for b in net.biases]
    trainer = xb.Trainer(net, lr=LR)
    X, Y = be.put(data.X), be.put(data.Y)

    def step() -> Any:
        return trainer.step(X, Y)

    def sync(out: Any) -> None:
        be.sync((out, net.parameters))

    timed = Timed("ours", step, sync, lambda out: float(xb.to_numpy(out)))
    return timed, net, W0, b0


def make_floor(cfg: Config, be: Backend, seed: int = 2) -> Timed:
    """The step's matrix products alone, on preallocated arrays, through the same namespace."""
    xp, rng = be.xp, np.random.default_rng(seed)
    b = cfg.batch

    def rand(*shape: int) -> Any:
        return be.put((0.1 * rng.standard_normal(shape)).astype(np.float32))

    arrays = [(rand(b, n_in), rand(n_in, n_out), rand(b, n_out)) for n_in, n_out in cfg.layers]

    def step() -> list[Any]:
        outs = [xp.matmul(A, W) for A, W, _ in arrays]  # forward A @ W
        for i in range(len(arrays) - 1, -1, -1):
            A, W, dZ = arrays[i]
            outs.append(xp.matmul(A.T, dZ))  # dW = A_prev.T @ dZ
            if i > 0:
                outs.append(xp.matmul(dZ, W.T))  # dA_prev = dZ @ W.T
        return outs

    return Timed("floor", step, be.sync)


def numpy_by_hand(
    X: np.ndarray, Y: np.ndarray, params: list[np.ndarray], lr: float
) -> Callable[[], tuple[Any, list[np.ndarray]]]:
    """The SGD step of a ReLU network with softmax and cross-entropy written out in NumPy, with
    the passes xpbackprop's step makes on NumPy (bias added in place, ReLU as ``maximum`` against
    a row of zeros, its derivative as a 0/1 mask product, bias gradients and row sums as products
    with ones, the loss from one log-sum-exp, each new parameter written into its gradient's
    memory) and no library code around them: what NumPy itself allows above the floor.

    ``params`` (``[W1, b1, ...]``, float32) are updated by the calls; a call returns the loss
    before its update and the new parameters."""
    n, k = Y.shape
    ones_n, ones_k = np.ones(n, np.float32), np.ones(k, np.float32)
    zeros = {b.shape[0]: np.zeros(b.shape[0], np.float32) for b in params[1::2]}
    scale = np.float32(-lr / n)

    def step() -> tuple[Any, list[np.ndarray]]:
        nonlocal params
        acts, A = [], X
        for i in range(0, len(params), 2):
            acts.append(A)
            Z = A @ params[i]
            Z += params[i + 1]
            A = np.maximum(Z, zeros[Z.shape[1]]) if i + 2 < len(params) else Z
        S = A - A.max(axis=1)[:, None]
        E = np.exp(S)
        s = E @ ones_k
        loss = (np.log(s) @ (Y @ ones_k) - Y.reshape(-1) @ S.reshape(-1)) / n
        D = E / s[:, None]
        D -= Y
        D *= scale
        grads: list[np.ndarray] = []
        for i in range(len(acts) - 1, -1, -1):
            grads[:0] = [acts[i].T @ D, ones_n @ D]
            if i:
                dA = D @ params[2 * i].T
                D = (acts[i] > 0).astype(np.float32)
                D *= dA
        for g, p in zip(grads, params):
            g += p
        params = grads
        return loss, params

    return step


def make_numpy_by_hand(W0: list[np.ndarray], b0: list[np.ndarray], data: HostData) -> Timed:
    """:func:`numpy_by_hand` from the same initial weights and batch as ours (NumPy backend only)."""
    step = numpy_by_hand(data.X, data.Y, [p.copy() for pair in zip(W0, b0) for p in pair], LR)
    return Timed("numpy by hand", step, lambda out: None, lambda out: float(out[0]))


def make_torch(cfg: Config, W0: list[np.ndarray], b0: list[np.ndarray], data: HostData, where: str) -> Timed:
    """PyTorch eager: raw tensors with requires_grad, F.cross_entropy, manual SGD under no_grad."""
    torch = import_torch()
    if where != "cpu" and not torch.cuda.is_available():
        raise RuntimeError(f"torch {torch.__version__} has no CUDA, the step runs on {where}")
    dev = torch.device(where)
    Ws = [torch.tensor(w, device=dev, requires_grad=True) for w in W0]
    bs = [torch.tensor(b, device=dev, requires_grad=True) for b in b0]
    params = [p for pair in zip(Ws, bs) for p in pair]
    X = torch.as_tensor(data.X, device=dev)
    y = torch.as_tensor(data.labels, device=dev)
    cross_entropy = torch.nn.functional.cross_entropy
    last = len(Ws) - 1

    def step() -> Any:
        for p in params:
            p.grad = None
        A = X
        for i, (W, b) in enumerate(zip(Ws, bs)):
            A = torch.addmm(b, A, W)
            if i < last:
                A = torch.relu(A)
        loss = cross_entropy(A, y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-LR)
        return loss

    def sync(out: Any) -> None:
        if where != "cpu":
            torch.cuda.synchronize(dev)

    return Timed("torch", step, sync, lambda out: float(out.item()))


def make_jax(cfg: Config, W0: list[np.ndarray], b0: list[np.ndarray], data: HostData) -> Timed:
    """JAX: one jitted pure step (forward, loss, jax.grad, SGD) returning new params, on the CPU."""
    jax = import_jax()
    jnp = jax.numpy
    cpu = jax.devices("cpu")[0]
    params = [(jax.device_put(w, cpu), jax.device_put(b, cpu)) for w, b in zip(W0, b0)]
    X, Y = jax.device_put(data.X, cpu), jax.device_put(data.Y, cpu)
    last = len(params) - 1

    def loss_fn(params: Any, X: Any, Y: Any) -> Any:
        A = X
        for i, (W, b) in enumerate(params):
            A = A @ W + b
            if i < last:
                A = jax.nn.relu(A)
        return -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(A, axis=1), axis=1))

    def pure_step(params: Any, X: Any, Y: Any) -> tuple[Any, Any]:
        loss, grads = jax.value_and_grad(loss_fn)(params, X, Y)
        return jax.tree.map(lambda p, g: p - LR * g, params, grads), loss

    jitted = jax.jit(pure_step, donate_argnums=0)
    state = [params]

    def step() -> Any:
        state[0], loss = jitted(state[0], X, Y)
        return loss

    def sync(out: Any) -> None:
        jax.block_until_ready((out, state[0]))

    return Timed("jax.jit", step, sync, lambda out: float(out))


def make_sklearn(cfg: Config, W0: list[np.ndarray], b0: list[np.ndarray], data: HostData) -> Timed:
    """scikit-learn: one ``partial_fit`` on exactly one batch of B samples is one SGD step."""
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=cfg.sizes[1:-1],
        activation="relu",
        solver="sgd",
        momentum=0.0,
        alpha=0.0,
        learning_rate_init=LR,
        batch_size=cfg.batch,
        shuffle=False,
        random_state=0,
    )
    X, y = data.X, data.labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.partial_fit(X, y, classes=np.arange(cfg.sizes[-1]))
    for have, want in zip(clf.coefs_ + clf.intercepts_, W0 + b0):
        if have.shape != want.shape:
            raise RuntimeError(f"scikit-learn parameter shape {have.shape} != ours {want.shape}")
    clf.coefs_ = [w.astype(np.float32, copy=True) for w in W0]
    clf.intercepts_ = [b.astype(np.float32, copy=True) for b in b0]

    def step() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(X, y)
        return None

    return Timed("sklearn", step, lambda out: None, lambda out: float(clf.loss_))


def try_make(make: Callable[[], Timed], skipped: dict[str, str], name: str) -> Timed | None:
    """Build an optional candidate; a missing library or failure is recorded as a skip reason."""
    try:
        return make()
    except ImportError as exc:
        skipped.setdefault(name, f"not installed ({exc})")
    except Exception as exc:
        skipped.setdefault(name, f"{type(exc).__name__}: {exc}")
    return None


def loss_check(cands: list[Timed]) -> dict[str, Any]:
    """The first warm-up step of every candidate starts from the same weights on the same batch."""
    losses = {c.name: c.first_loss for c in cands if c.first_loss is not None}
    ref = cands[0].first_loss
    worst = 0.0
    if ref is not None:
        for v in losses.values():
            worst = max(worst, abs(v - ref) / max(abs(ref), 1e-30))
    return {"first_step_loss": losses, "max_rel_diff": worst}


# --- table output ----------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 100:
        return f"{x:.1f}"
    if ax >= 10:
        return f"{x:.2f}"
    return f"{x:.{digits}f}"


def print_table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], notes: Sequence[str] = ()
) -> None:
    """A fixed-width table; a row of two cells (label, message) spans the columns (an error)."""
    full = [r for r in rows if len(r) == len(headers)]
    widths = [max([len(h), *(len(r[i]) for r in full)]) for i, h in enumerate(headers)]
    widths[0] = max([widths[0], *(len(r[0]) for r in rows)])

    def line(cells: Sequence[str]) -> str:
        if len(cells) != len(headers):
            return "  ".join([cells[0].ljust(widths[0]), *cells[1:]]).rstrip()
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join([first, *rest]).rstrip()

    print()
    print(title)
    print("=" * len(title))
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))
    for note in notes:
        print(textwrap.fill(note, width=NOTE_WIDTH, subsequent_indent="  ", break_on_hyphens=False))
    sys.stdout.flush()


def error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]


# --- sections --------------------------------------------------------------------------------


def cross_core_probe(rounds: int = 200) -> dict[str, float]:
    """The machine's state for the CPU rows: medians (µs) of ``W -= G`` on a 784 x 128 float32
    ``W`` right after a product read ``W`` on every BLAS thread (``first``), and of the same pass
    again with ``W`` now in this core's cache (``again``).

    A store into lines the other cores hold costs their invalidation. On a VM that cost moves
    with where the host runs its virtual CPUs: on the 2-core development VM ``first`` is
    16-20 µs for stretches of 10-60 s and 60-90 µs for others (``again`` 8 µs throughout), and
    a step's elementwise passes after its products slow alike while the products alone do
    not (benchmarks/NOTES.md). Printed beside the main table so a run can be read.
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 784), dtype=np.float32)
    W = rng.standard_normal((784, 128), dtype=np.float32)
    G = np.full_like(W, 1e-7)
    first, again = [], []
    for _ in range(rounds):
        X @ W
        t0 = time.perf_counter()
        W -= G
        t1 = time.perf_counter()
        W -= G
        again.append(time.perf_counter() - t1)
        first.append(t1 - t0)
    return {"first": statistics.median(first) * 1e6, "again": statistics.median(again) * 1e6}


def section_main(
    args: argparse.Namespace, be: Backend, configs: list[Config], errors: list[str]
) -> list[dict]:
    results, rows, skipped = [], [], {}
    for cfg in configs:
        try:
            data = host_data(cfg.batch, cfg.sizes)
            ours, _, W0, b0 = make_ours(cfg, be, data)
            cands = [ours, make_floor(cfg, be)]
            hand = make_numpy_by_hand(W0, b0, data) if be.name == "numpy" else None
            torch_c = try_make(lambda: make_torch(cfg, W0, b0, data, be.where), skipped, "torch")  # noqa: B023
            cands += [c for c in (hand, torch_c) if c is not None]
            probing = be.where == "cpu"  # the probe reads the CPU's state; on a GPU it means nothing
            before = cross_core_probe() if probing else None
            run_interleaved(cands, args.warmup, args.repeats, args.min_time, args.settle)
            probes = [before, cross_core_probe()] if probing else None
        except Exception as exc:
            errors.append(f"main {cfg.label}: {error_text(exc)}")
            rows.append([cfg.label, "error: " + error_text(exc)])
            results.append({"config": cfg.label, "error": error_text(exc)})
            continue
        floor = cands[1]
        t = ours.median
        row = {
            "config": cfg.label,
            "batch": cfg.batch,
            "sizes": list(cfg.sizes),
            "flops": cfg.flops,
            "ours": ours.summary(),
            "floor": floor.summary(),
            "samples_per_s": cfg.batch / t,
            "tflops": cfg.flops / t / 1e12,
            "floor_tflops": cfg.flops / floor.median / 1e12,
            "ratio_floor": t / floor.median,
            "numpy_by_hand": hand.summary() if hand else None,
            "ratio_hand_floor": hand.median / floor.median if hand else None,
            "torch": torch_c.summary() if torch_c else None,
            "ratio_torch": t / torch_c.median if torch_c else None,
            "loss_check": loss_check([c for c in (ours, hand, torch_c) if c is not None]),
            "cross_core_us": probes,
        }
        results.append(row)
        rows.append(
            [
                cfg.label,
                fmt(row["ours"]["median_ms"]),
                fmt(row["ours"]["min_ms"]),
                fmt(row["samples_per_s"], 0),
                fmt(row["tflops"], 4),
                fmt(floor.median * 1e3),
                fmt(row["ratio_floor"], 2),
                fmt(row["ratio_hand_floor"], 2) if hand else "-",
                fmt(torch_c.median * 1e3) if torch_c else "-",
                fmt(row["ratio_torch"], 2) if torch_c else "-",
                f"{row['loss_check']['max_rel_diff']:.1e}" if hand or torch_c else "-",
            ]
        )
    notes = [
        "ms/step: median over the rounds (min beside it); TFLOP/s from 2·B·n_in·n_out per product "
        "(forward, dW, dA_prev but the first layer).",
        "floor: the same products alone through the same namespace; by hand: the same step written "
        "out in NumPy with the same passes and no library code (numpy_by_hand; NumPy backend only); "
        f"torch: PyTorch eager on {be.where}, same initial weights; Δloss: first-step loss, the "
        "others vs ours (largest relative difference).",
    ]
    probed = [(r["config"], r["cross_core_us"]) for r in results if r.get("cross_core_us")]
    if probed:
        notes.append(
            "cross-core probe, before/after each row: µs of a store into lines every BLAS thread "
            "just read (cross_core_probe; low is the machine's fast state): "
            + ", ".join(f"{label.split(':')[0]}: {p[0]['first']:.0f}/{p[-1]['first']:.0f}"
                        for label, p in probed)
        )
    notes += [f"{name}: skipped, {why}" for name, why in skipped.items()]
    print_table(
        f"Training step: xpbackprop[{be.name}] on {be.where}, float32, SGD lr={LR}",
        [
            "config B:n0,...,nL",
            "ms/step",
            "min",
            "samples/s",
            "TFLOP/s",
            "floor ms",
            "ours/floor",
            "hand/floor",
            "torch ms",
            "ours/torch",
            "Δloss",
        ],
        rows,
        notes,
    )
    return results


def section_sweep(args: argparse.Namespace, be: Backend, errors: list[str]) -> dict:
    sizes = parse_sizes(args.sweep_widths, "--sweep-widths")
    results, rows = [], []
    for batch in args.sweep_batches:
        cfg = Config(batch, sizes)
        try:
            data = host_data(batch, sizes)
            ours = make_ours(cfg, be, data)[0]
            floor = make_floor(cfg, be)
            run_interleaved([ours, floor], args.warmup, args.repeats, args.min_time, args.settle)
        except Exception as exc:
            errors.append(f"sweep {cfg.label}: {error_text(exc)}")
            rows.append([str(batch), "error: " + error_text(exc)])
            results.append({"batch": batch, "error": error_text(exc)})
            continue
        t = ours.median
        results.append(
            {
                "batch": batch,
                "flops": cfg.flops,
                "ours": ours.summary(),
                "floor": floor.summary(),
                "us_per_sample": t / batch * 1e6,
                "tflops": cfg.flops / t / 1e12,
                "ratio_floor": t / floor.median,
            }
        )
        rows.append(
            [
                str(batch),
                fmt(t * 1e3),
                fmt(ours.best * 1e3),
                fmt(t / batch * 1e6),
                fmt(cfg.flops / t / 1e12, 4),
                fmt(floor.median * 1e3),
                fmt(t / floor.median, 2),
            ]
        )
    print_table(
        f"Scaling sweep: network {','.join(map(str, sizes))}, xpbackprop[{be.name}] on {be.where}",
        ["batch", "ms/step", "min", "µs/sample", "TFLOP/s", "floor ms", "ours/floor"],
        rows,
    )
    return {"sizes": list(sizes), "rows": results}


def section_epoch(
    args: argparse.Namespace, be: Backend, configs: list[Config], errors: list[str]
) -> list[dict]:
    k = args.epoch_batches
    results, rows = [], []
    for cfg in configs:
        try:
            data = host_data(k * cfg.batch, cfg.sizes)
            net = benchmark_net(cfg, be)
            X, Y = be.put(data.X), be.put(data.Y)
            batches = [
                (X[i * cfg.batch : (i + 1) * cfg.batch, ...], Y[i * cfg.batch : (i + 1) * cfg.batch, ...])
                for i in range(k)
            ]
            trainer = xb.Trainer(net, lr=LR)

            def steps(trainer: Any = trainer, batches: Any = batches) -> Any:
                loss = None
                for Xb, Yb in batches:
                    loss = trainer.step(Xb, Yb)
                return loss

            def fit(net: Any = net, X: Any = X, Y: Any = Y, batch: int = cfg.batch) -> Any:
                return net.fit(X, Y, epochs=1, lr=LR, batch_size=batch, shuffle=False)

            def sync(out: Any, net: Any = net) -> None:
                be.sync(net.parameters)

            step_c = Timed("k steps", steps, sync, steps_per_call=k)
            fit_c = Timed("fit", fit, sync, steps_per_call=k)
            run_interleaved([fit_c, step_c], min(args.warmup, 1), args.repeats, args.min_time, args.settle)
        except Exception as exc:
            errors.append(f"epoch {cfg.label}: {error_text(exc)}")
            rows.append([cfg.label, "error: " + error_text(exc)])
            results.append({"config": cfg.label, "error": error_text(exc)})
            continue
        fit_ms, step_ms = fit_c.median * k * 1e3, step_c.median * 1e3
        ratio = fit_c.median / step_c.median
        results.append(
            {
                "config": cfg.label,
                "k": k,
                "fit_ms": fit_ms,
                "step_ms": step_ms,
                "k_steps_ms": k * step_ms,
                "ratio": ratio,
                "target": EPOCH_TARGET,
                "fit": fit_c.summary(),
                "steps": step_c.summary(),
            }
        )
        rows.append(
            [
                cfg.label,
                str(k),
                fmt(fit_ms),
                fmt(step_ms),
                fmt(k * step_ms),
                fmt(ratio, 3),
                "ok" if ratio <= EPOCH_TARGET else "OVER",
            ]
        )
    print_table(
        f"Epoch check: net.fit(epochs=1, batch_size=B, shuffle=False) over k batches vs k × median step "
        f"(xpbackprop[{be.name}] on {be.where})",
        ["config B:n0,...,nL", "k", "fit ms", "step ms", "k×step ms", "fit/(k×step)", f"≤{EPOCH_TARGET}"],
        rows,
        [
            "fit ms: median of whole fit calls (including its one read-back per epoch); step ms: median "
            "per step of k trainer.step calls on the same k batches, interleaved with the fits."
        ],
    )
    return results


def _nbytes(obj: Any) -> int:
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(o) for o in obj)
    if isinstance(obj, dict):
        return sum(_nbytes(o) for o in obj.values())
    if getattr(obj, "nbytes", None) is None and hasattr(obj, "shape"):  # array-api-strict's arrays have none
        return int(xb.to_numpy(obj).nbytes)
    return int(getattr(obj, "nbytes", 0) or 0)


class _CupyPeak:
    """Live and peak bytes of CuPy's memory pool (its malloc and free hooks), while active."""

    def __init__(self) -> None:
        from cupy.cuda import memory_hook

        outer = self

        class Hook(memory_hook.MemoryHook):
            name = "xpbackprop-peak"

            def malloc_postprocess(self, **kw: Any) -> None:
                outer.live[kw["mem_ptr"]] = kw["mem_size"]
                outer.peak = max(outer.peak, sum(outer.live.values()))

            def free_postprocess(self, **kw: Any) -> None:
                outer.live.pop(kw["mem_ptr"], None)

        self.hook, self.live, self.peak = Hook(), {}, 0


def _step_peak(be: Backend, step: Callable[[], Any]) -> tuple[int, int]:
    """``(peak, retained)``: bytes a step allocates at its highest and still holds after it, from
    tracemalloc (NumPy), CuPy's pool hooks, or PyTorch's CUDA allocator statistics."""
    gc.collect()
    if be.name == "cupy":
        tracker = _CupyPeak()
        with tracker.hook:
            be.sync(step())
        return tracker.peak, sum(tracker.live.values())
    if be.name == "torch" and be.where != "cpu":
        import torch

        be.sync(None)
        torch.cuda.reset_peak_memory_stats(be.where)
        base = torch.cuda.memory_allocated(be.where)
        step()
        be.sync(None)
        return torch.cuda.max_memory_allocated(be.where) - base, torch.cuda.memory_allocated(be.where) - base
    tracemalloc.start()
    try:
        step()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, current


def _bound_step(trainer: Any, X: Any, Y: Any) -> Callable[[], Any]:
    return lambda: trainer.step(X, Y)


def section_memory(args: argparse.Namespace, be: Backend, configs: list[Config],
                   errors: list[str]) -> list[dict]:
    results, rows = [], []
    mb = 1 / 2**20
    for cfg in configs:
        try:
            data = host_data(cfg.batch, cfg.sizes)
            net = benchmark_net(cfg, be)
            trainer = xb.Trainer(net, lr=LR)
            X, Y = be.put(np.ascontiguousarray(data.X)), be.put(np.ascontiguousarray(data.Y))
            trainer.step(X, Y)  # warm-up
            itemsize = np.dtype(np.float32).itemsize
            params = _nbytes(net.parameters)
            budget = {
                "params": params,
                "grads": params,
                "optimizer_state": _nbytes(trainer.state),
                "activations": sum(2 * cfg.batch * n_out * itemsize for _, n_out in cfg.layers),
                "batch": _nbytes(X) + _nbytes(Y),
            }
            total = sum(budget.values())
            one_step = _bound_step(trainer, X, Y)
            peaks = [_step_peak(be, one_step) for _ in range(3)]
            peak, retained = max(peaks)
            resident = params + budget["batch"]  # allocated before tracing started
        except Exception as exc:
            if tracemalloc.is_tracing():
                tracemalloc.stop()
            errors.append(f"memory {cfg.label}: {error_text(exc)}")
            rows.append([cfg.label, "error: " + error_text(exc)])
            results.append({"config": cfg.label, "error": error_text(exc)})
            continue
        results.append(
            {
                "config": cfg.label,
                "budget_bytes": budget,
                "budget_total_bytes": total,
                "step_peak_bytes": peak,
                "step_peaks_bytes": [p for p, _ in peaks],
                "retained_after_step_bytes": retained,
                "resident_before_step_bytes": resident,
                "ratio": peak / total,
                "ratio_with_resident": (peak + resident) / total,
                "target": MEMORY_TARGET,
            }
        )
        rows.append(
            [
                cfg.label,
                fmt(params * mb, 2),
                fmt(budget["grads"] * mb, 2),
                fmt(budget["optimizer_state"] * mb, 2),
                fmt(budget["activations"] * mb, 2),
                fmt(budget["batch"] * mb, 2),
                fmt(total * mb, 2),
                fmt(peak * mb, 2),
                fmt(peak / total, 3),
                fmt((peak + resident) / total, 3),
            ]
        )
    print_table(
        f"Memory check (xpbackprop[{be.name}] on {be.where}): peak of one trainer.step vs what a step must "
        "hold (MiB)",
        [
            "config B:n0,...,nL",
            "params",
            "grads",
            "opt",
            "acts",
            "batch",
            "budget",
            "peak",
            f"peak/budget (≤{MEMORY_TARGET})",
            "(peak+resident)/budget",
        ],
        rows,
        [
            "budget = params (W, b) + grads (same bytes) + optimizer state (0 for plain SGD) + "
            "activations (Z and A, (B, n_out) float32, per Dense+Activation pair; X is not counted "
            "again) + batch (X and one-hot Y).",
            "peak: after a warm-up step, the most the step allocates at once (max of 3): tracemalloc's peak "
            "on the CPU, CuPy's memory pool (malloc/free hooks), PyTorch's CUDA allocator "
            "(max_memory_allocated above what was allocated before); it counts only what the step "
            "allocates (new params, grads, activations, temporaries);",
            "resident = params + batch, allocated before tracing began, so (peak+resident)/budget is the "
            "high-water mark of the step's arrays.",
        ],
    )
    return results


def section_peers(
    args: argparse.Namespace, be: Backend, configs: list[Config], errors: list[str]
) -> list[dict]:
    results, rows, skipped = [], [], {}
    for cfg in configs:
        try:
            data = host_data(cfg.batch, cfg.sizes)
            ours, _, W0, b0 = make_ours(cfg, be, data)
            floor = make_floor(cfg, be)
            peers = {
                "torch": try_make(lambda: make_torch(cfg, W0, b0, data, "cpu"), skipped, "torch"),  # noqa: B023
                "jax": try_make(lambda: make_jax(cfg, W0, b0, data), skipped, "jax"),  # noqa: B023
                "sklearn": try_make(lambda: make_sklearn(cfg, W0, b0, data), skipped, "sklearn"),  # noqa: B023
            }
            cands = [ours, floor, *(c for c in peers.values() if c is not None)]
            run_interleaved(cands, args.warmup, args.repeats, args.min_time, args.settle)
        except Exception as exc:
            errors.append(f"peers {cfg.label}: {error_text(exc)}")
            rows.append([cfg.label, "error: " + error_text(exc)])
            results.append({"config": cfg.label, "error": error_text(exc)})
            continue
        t = ours.median
        present = [ours, *(c for c in peers.values() if c is not None)]
        check = loss_check(present)
        results.append(
            {
                "config": cfg.label,
                "ours": ours.summary(),
                "floor": floor.summary(),
                "peers": {n: (c.summary() if c else None) for n, c in peers.items()},
                "peer_over_ours": {n: (c.median / t if c else None) for n, c in peers.items()},
                "loss_check": check,
            }
        )
        cores = "/".join(
            f"{c.cpu / c.wall:.1f}" if c is not None and c.wall > 0 else "-"
            for c in [ours, floor, *peers.values()]
        )
        results[-1]["cores_used"] = {c.name: c.cpu / c.wall for c in cands if c.wall > 0}
        row = [cfg.label, fmt(t * 1e3), fmt(floor.median * 1e3)]
        row += [fmt(c.median * 1e3) if c else "-" for c in peers.values()]
        row += [fmt(c.median / t, 2) if c else "-" for c in peers.values()]
        row += [f"{check['max_rel_diff']:.1e}", cores]
        rows.append(row)
    notes = [
        f"ours: xpbackprop[{be.name}] Trainer.step; torch: eager, manual SGD; jax: one jitted pure step "
        "(value_and_grad + SGD, params donated); sklearn: MLPClassifier.partial_fit on one batch of B.",
        "all from the same initial weights, same data, same threads; peer/ours > 1 means ours is faster; "
        "Δloss: max relative spread of the first-step losses;",
        "cores: CPU time / wall time while timed (how many threads each one really kept busy).",
    ]
    notes += [f"{name}: skipped, {why}" for name, why in skipped.items()]
    print_table(
        f"CPU peers: one SGD step, float32, threads: {THREADS or 'library defaults'}",
        [
            "config B:n0,...,nL",
            "ours ms",
            "floor ms",
            "torch ms",
            "jax ms",
            "sklearn ms",
            "torch/ours",
            "jax/ours",
            "sklearn/ours",
            "Δloss",
            "cores ours/floor/torch/jax/sk",
        ],
        rows,
        notes,
    )
    return results


# --- machine description ---------------------------------------------------------------------


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(be: Backend | None) -> dict[str, Any]:
    versions = {"python": platform.python_version(), "numpy": np.__version__, "xpbackprop": xb.__version__}
    for dist in (
        "array-api-compat",
        "array-api-strict",
        "torch",
        "jax",
        "jaxlib",
        "scikit-learn",
        "cupy",
        "cupy-cuda12x",
        "cupy-cuda13x",
        "cupy-cuda11x",
        "threadpoolctl",
    ):
        v = _version(dist)
        if v is not None:
            versions[dist] = v
    threads: dict[str, Any] = {"--threads": THREADS}
    threads.update(
        {
            v: os.environ.get(v)
            for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")
        }
    )
    torch = sys.modules.get("torch")  # only if something imported it
    if torch is not None:
        threads["torch.get_num_threads"] = torch.get_num_threads()
    try:
        from threadpoolctl import threadpool_info

        threads["threadpoolctl"] = [
            {k: d.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
            for d in threadpool_info()
        ]
    except Exception:
        pass
    device = f"CPU: {cpu_model()}"
    if be is not None and be.where != "cpu":
        try:
            if be.name == "cupy":
                import cupy

                props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
                name = props["name"]
                device = f"{be.where}: {name.decode() if isinstance(name, bytes) else name}"
            elif be.name == "jax":
                device = f"{be.where}: {next(iter(be.put(np.zeros(1)).devices())).device_kind}"
            elif torch is not None and torch.cuda.is_available():
                device = f"{be.where}: {torch.cuda.get_device_name(be.where)}"
        except Exception as exc:
            device = f"{be.where}: (name unavailable: {error_text(exc)})"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "device": device,
        "threads": threads,
        "versions": versions,
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# --- command line ----------------------------------------------------------------------------


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit status 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    p = Parser(
        prog="gpu_benchmark.py",
        allow_abbrev=False,
        description="Time one xpbackprop training step (forward, backward, SGD) against its matrix-product "
        "floor and PyTorch eager. See benchmarks/README.md.",
    )
    p.add_argument(
        "--backend",
        choices=BENCH_BACKENDS,
        default=None,
        help="backend to time (default: cupy where a CUDA device answers, else numpy)",
    )
    p.add_argument(
        "--device", default=None, help="device for the backend, e.g. cuda (torch default: cuda if available)"
    )
    p.add_argument(
        "--config",
        action="append",
        default=None,
        metavar="B:n0,n1,...",
        help="a configuration: batch B and layer sizes (repeatable; replaces the defaults "
        f"{', '.join(DEFAULT_CONFIGS)})",
    )
    p.add_argument("--repeats", type=int, default=20, help="timed rounds per candidate (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up steps per candidate (default 3)")
    p.add_argument(
        "--min-time",
        type=float,
        default=0.02,
        help="seconds one timed sample lasts at least; short steps are repeated (default 0.02)",
    )
    p.add_argument(
        "--settle",
        type=float,
        default=0.2,
        help="seconds of sleep before each timed sample, so that the thread pools of the candidate "
        "timed before it stop spinning (default 0.2; 0 = back to back)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="CPU threads for BLAS / torch / XLA, set before they are imported (default 2; 0 = "
        "library defaults)",
    )
    p.add_argument(
        "--main", action="store_true", help="the main table (the default when no section is named)"
    )
    p.add_argument("--sweep", action="store_true", help="batch-size scaling sweep")
    p.add_argument(
        "--sweep-widths",
        default=DEFAULT_SWEEP_WIDTHS,
        metavar="n0,n1,...",
        help=f"network of the sweep (default {DEFAULT_SWEEP_WIDTHS})",
    )
    p.add_argument(
        "--sweep-batches",
        default=",".join(map(str, DEFAULT_SWEEP_BATCHES)),
        metavar="B1,B2,...",
        help="batch sizes of the sweep (default 256,512,...,16384)",
    )
    p.add_argument("--epoch", action="store_true", help="net.fit over k batches vs k × the median step")
    p.add_argument("--epoch-batches", type=int, default=8, metavar="K", help="k for --epoch (default 8)")
    p.add_argument("--memory", action="store_true", help="peak memory of one step vs its budget")
    p.add_argument("--peers", action="store_true", help="CPU peers: PyTorch eager, JAX jit, scikit-learn")
    p.add_argument("--all", action="store_true", help="every section")
    p.add_argument(
        "--json", default=None, metavar="PATH", help="write every figure and the machine info as JSON"
    )
    return p


def check_args(args: argparse.Namespace) -> None:
    for name in ("repeats", "warmup", "epoch_batches"):
        value = getattr(args, name)
        if value < (0 if name == "warmup" else 1):
            raise BenchError(
                f"--{name.replace('_', '-')} must be {'>= 0' if name == 'warmup' else '>= 1'}, got {value}"
            )
    if args.threads < 0:
        raise BenchError(f"--threads must be >= 0, got {args.threads}")
    if not (args.settle >= 0 and math.isfinite(args.settle)):
        raise BenchError(f"--settle must be a finite number >= 0, got {args.settle}")
    if not (args.min_time >= 0 and math.isfinite(args.min_time)):
        raise BenchError(f"--min-time must be a finite number >= 0, got {args.min_time}")
    args.configs = [parse_config(c) for c in (args.config or DEFAULT_CONFIGS)]
    try:
        args.sweep_batches = [int(b) for b in str(args.sweep_batches).split(",")]
    except ValueError:
        args.sweep_batches = []
    if not args.sweep_batches or min(args.sweep_batches) < 1:
        raise BenchError("bad --sweep-batches: expected positive integers B1,B2,...")
    parse_sizes(args.sweep_widths, "--sweep-widths")
    if args.json is not None:
        parent = Path(args.json).resolve().parent
        if not parent.is_dir():
            raise BenchError(f"cannot write --json {args.json}: no directory {parent}")
        if Path(args.json).is_dir():
            raise BenchError(f"cannot write --json {args.json}: it is a directory; give a file name")
    if args.all:
        args.main = args.sweep = args.epoch = args.memory = args.peers = True
    if not (args.main or args.sweep or args.epoch or args.memory or args.peers):
        args.main = True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_args(args)
        be = choose_backend(args)
    except BenchError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2

    command = "python " + shlex.join([sys.argv[0], *argv])
    info = machine_info(be)
    print(f"$ {command}")
    print(f"backend : {be.name} on {be.where} ({be.why})")
    print(f"device  : {info['device']}")
    print(
        f"machine : {info['platform']}, {info['cpu_count']} CPUs ({info['cpus_usable']} usable), "
        f"load average {' '.join(f'{x:.2f}' for x in info['loadavg'] or [])}"
    )
    print(
        f"threads : {THREADS or 'library defaults'} (OMP/OPENBLAS/MKL_NUM_THREADS, torch.set_num_threads, "
        "XLA_FLAGS, set before import)"
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()))
    print(
        f"timing  : {args.warmup} warm-up steps, then {args.repeats} interleaved rounds; a sample is >= "
        f"{args.min_time * 1e3:g} ms of back-to-back steps ended by a device sync, after {args.settle:g} s "
        "idle and one untimed step; median and min per step"
    )
    sys.stdout.flush()

    errors: list[str] = []
    out: dict[str, Any] = {
        "command": command,
        "backend": {"name": be.name, "where": be.where, "why": be.why},
        "settings": {
            "repeats": args.repeats,
            "warmup": args.warmup,
            "min_time_s": args.min_time,
            "settle_s": args.settle,
            "threads": THREADS,
            "lr": LR,
            "dtype": "float32",
            "configs": [c.label for c in args.configs],
        },
        "sections": {},
    }
    started = time.perf_counter()
    if args.main:
        out["sections"]["main"] = section_main(args, be, args.configs, errors)
    if args.sweep:
        out["sections"]["sweep"] = section_sweep(args, be, errors)
    if args.epoch:
        out["sections"]["epoch"] = section_epoch(args, be, args.configs, errors)
    if args.memory:
        if be.name != "numpy":
            print(f"\n(memory check: numpy backend only; --backend {be.name} is not used there)")
        out["sections"]["memory"] = section_memory(args, be, args.configs, errors)
    if args.peers:
        peer_be = cpu_backend(args, be)
        if peer_be is not be:
            print(f"\n(peers: {peer_be.why})")
        out["sections"]["peers"] = section_peers(args, peer_be, args.configs, errors)

    out["machine"] = machine_info(be)  # after the imports: library threads and versions are known
    out["machine"]["loadavg_at_start"] = info["loadavg"]
    out["elapsed_s"] = time.perf_counter() - started
    out["errors"] = errors
    print(
        f"\ntotal {out['elapsed_s']:.1f} s; load average now "
        f"{' '.join(f'{x:.2f}' for x in out['machine']['loadavg'] or [])}"
    )
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(out, indent=2, default=str) + "\n", encoding="utf-8")
            print(f"wrote {args.json}")
        except OSError as exc:
            print(f"{parser.prog}: error: cannot write --json {args.json}: {exc}", file=sys.stderr)
            return 2
    if errors:
        print(f"{len(errors)} row(s) failed: " + "; ".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
