"""Training on a Dask cluster from a dataset on disk larger than the workers' memory.

Starts a ``dask.distributed`` LocalCluster (``--workers`` processes, one thread each,
``--memory-limit`` each; or connects to ``--scheduler ADDRESS``), writes a dataset to a
zarr store on disk chunk by chunk on the workers (``--rows`` samples of ``--features``
float64 features, class labels from a fixed random teacher), opens it with
``dask.array.from_zarr`` and trains an MLP on it with ``backend="dask"``: full-batch
gradient descent by default, so each epoch is one graph over all the chunks, or
``--batch-size k`` with ``shuffle="batches"`` (contiguous blocks of rows in a shuffled order).
Neither the client nor any worker ever holds X whole.

Prints the loss per epoch, the time per epoch and the cluster's figures: tasks run,
bytes transferred between workers, each worker's peak memory (its process's peak resident
size) against its limit, and the client's peak memory. ``--check-numpy`` then trains the
same network on NumPy with the whole dataset in memory, in a separate process (so that
it does not count towards the client's memory), and prints the largest relative
difference of the weights.

    python examples/distributed_fit.py                     # 2 workers x 256 MiB, 2.2 GB of data
    python examples/distributed_fit.py --check-numpy       # ... and compare with NumPy
    python examples/distributed_fit.py --small             # about 1 MB, seconds (what the tests run)
    python examples/distributed_fit.py --workers 1 --rows 1000000 --memory-limit 2GiB

Needs ``pip install "xpbackprop[dask]"`` (dask[array,distributed] and zarr).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import xpbackprop as xb

SEED = 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_300_000, help="samples (default 4.3M: 2.2 GB of X)")
    parser.add_argument("--features", type=int, default=64, help="features per sample (default 64)")
    parser.add_argument("--hidden", type=int, default=16, help="hidden units (default 16)")
    parser.add_argument("--classes", type=int, default=4, help="classes (default 4)")
    parser.add_argument("--chunk-rows", type=int, default=32_768,
                        help="rows per chunk on disk (default 32768: 16 MiB of X at 64 features)")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    parser.add_argument("--memory-limit", default="256MiB", help="memory limit per worker (default 256MiB)")
    parser.add_argument("--scheduler", default=None,
                        help="address of a running scheduler to use instead of a LocalCluster")
    parser.add_argument("--epochs", type=int, default=3, help="epochs (default 3)")
    parser.add_argument("--lr", type=float, default=0.5, help="learning rate (default 0.5)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="mini-batches of this many rows, shuffle='batches' (default: full batch)")
    parser.add_argument("--data", default=None,
                        help="directory for the zarr stores (default: a new directory under the system temp)")
    parser.add_argument("--keep", action="store_true", help="keep the data on disk afterwards")
    parser.add_argument("--check-numpy", action="store_true",
                        help="also train on NumPy with the data in memory (separate process) and compare")
    parser.add_argument("--small", action="store_true",
                        help="a small run: 16384 rows, 8 features, 4096-row chunks, 2 x 512MiB workers")
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
    parser.add_argument("--numpy-reference", default=None, help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)
    if args.small:
        args.rows, args.features, args.hidden, args.chunk_rows = 16_384, 8, 16, 4096
        if args.memory_limit == parser.get_default("memory_limit"):
            args.memory_limit = "512MiB"
    return args


def write_dataset(path: Path, rows: int, features: int, classes: int, chunk_rows: int) -> tuple[Path, Path]:
    """Write ``X`` (rows x features, float64) and ``y`` (rows, int64) as zarr stores, chunk by chunk
    on the workers (each worker generates and writes its chunks; nothing passes through the client)."""
    import dask.array as da
    import zarr

    rng = np.random.default_rng(SEED + 1)  # the teacher: y = argmax(tanh(X T1) T2)
    t1 = rng.standard_normal((features, 16)) / np.sqrt(features)
    t2 = rng.standard_normal((16, classes))

    def x_block(block_info=None):
        # seeded by the chunk's first row: the same data for any scheduling of the computation
        start, stop = block_info[None]["array-location"][0]
        return np.random.default_rng([SEED, start]).standard_normal((stop - start, features))

    def y_block(X):
        return np.argmax(np.tanh(X @ t1) @ t2, axis=1).astype(np.int64)

    chunks = ((chunk_rows,) * (rows // chunk_rows) + ((rows % chunk_rows,) if rows % chunk_rows else ()),)
    X = da.map_blocks(x_block, chunks=(chunks[0], (features,)), dtype=np.float64)
    y = da.map_blocks(y_block, X, drop_axis=1, dtype=np.int64)
    x_path, y_path = path / "X.zarr", path / "y.zarr"
    zx = zarr.create_array(store=str(x_path), shape=(rows, features), chunks=(chunk_rows, features),
                           dtype="float64", compressors=None, overwrite=True)
    zy = zarr.create_array(store=str(y_path), shape=(rows,), chunks=(chunk_rows,),
                           dtype="int64", compressors=None, overwrite=True)
    da.store([X, y], [zx, zy], lock=False)  # one graph: each X chunk is generated once
    return x_path, y_path


def build_network(args: argparse.Namespace, backend: str) -> xb.MLP:
    return xb.MLP([args.features, args.hidden, args.classes], hidden="tanh", output="softmax",
                  loss="cross_entropy", backend=backend, dtype="float64", seed=SEED)


def fit_options(args: argparse.Namespace) -> dict:
    if args.batch_size is None:
        return {"epochs": args.epochs, "lr": args.lr}
    return {"epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size, "shuffle": "batches"}


def numpy_reference(args: argparse.Namespace) -> None:
    """(Internal, in its own process) train on NumPy with the whole dataset in memory; write the weights."""
    import zarr

    data = Path(args.numpy_reference)
    X = zarr.open_array(str(data / "X.zarr"), mode="r")[...]
    y = zarr.open_array(str(data / "y.zarr"), mode="r")[...]
    net = build_network(args, "numpy")
    start = time.perf_counter()
    history = net.fit(X, y, **fit_options(args))
    seconds = time.perf_counter() - start
    np.savez(data / "numpy_weights.npz", *net.parameters, loss=np.array(history.loss), seconds=seconds,
             peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _size(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def _parse_bytes(text: str) -> int:
    from dask.utils import parse_bytes

    return parse_bytes(text)


def _worker_figures(dask_worker) -> dict:
    """Run on each worker: its tasks, outgoing transfer bytes and peak resident memory."""
    return {
        "tasks": dask_worker.state.executed_count,
        "bytes_sent": dask_worker.transfer_outgoing_bytes_total,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "pid": os.getpid(),
    }


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.numpy_reference:
        numpy_reference(args)
        return {}
    from dask.distributed import Client, LocalCluster

    limit = _parse_bytes(args.memory_limit)
    if args.scheduler:
        cluster, client = None, Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, memory_limit=limit,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    n_workers = len(client.scheduler_info()["workers"])
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="xpbackprop-dask-"))
    data.mkdir(parents=True, exist_ok=True)
    figures: dict = {}
    try:
        start = time.perf_counter()
        x_path, y_path = write_dataset(data, args.rows, args.features, args.classes, args.chunk_rows)
        write_s = time.perf_counter() - start
        x_bytes = args.rows * args.features * 8
        total_limit = limit * n_workers
        print(f"dataset: X {args.rows} x {args.features} float64 = {_size(x_bytes)} "
              f"(+ y {_size(args.rows * 8)}) in {args.chunk_rows}-row chunks at {data}, "
              f"written in {write_s:.1f} s")
        print(f"cluster: {n_workers} workers x {limit / 2**20:.0f} MiB = {total_limit / 2**20:.0f} MiB; "
              f"X is {x_bytes / total_limit:.3g}x the workers' total memory limit")
        before = client.run(_worker_figures)

        import dask.array as da

        X, y = da.from_zarr(str(x_path)), da.from_zarr(str(y_path))
        net = build_network(args, "dask")
        epoch_times: list[float] = []
        clock = [time.perf_counter()]

        def report(net_, epoch, logs):
            now = time.perf_counter()
            epoch_times.append(now - clock[0])
            clock[0] = now
            print(f"epoch {epoch:3d}  loss {logs['loss']:.6f}  {epoch_times[-1]:.2f} s", flush=True)

        fit_start = time.perf_counter()
        clock[0] = fit_start
        history = net.fit(X, y, callbacks=[report], **fit_options(args))
        fit_s = time.perf_counter() - fit_start
        net.to("numpy")  # the trained network back on the host, to use without the cluster
        weights = net.parameters
        after = client.run(_worker_figures)
        client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        restarted = sorted(set(before) ^ set(after))
        tasks = sum(a["tasks"] - before.get(w, {"tasks": 0})["tasks"] for w, a in after.items())
        sent = sum(a["bytes_sent"] - before.get(w, {"bytes_sent": 0})["bytes_sent"] for w, a in after.items())
        peaks = {w: a["peak_rss"] for w, a in after.items()}
        print(f"fit: {fit_s:.1f} s for {history.epochs} epochs "
              f"(first epoch {epoch_times[0]:.2f} s includes the one pass that checks X and y for "
              f"NaN/inf and the label range)")
        print(f"during fit: {tasks} tasks run, {sent / 2**20:.1f} MiB transferred between workers")
        for w, peak in peaks.items():
            print(f"worker {w}: peak memory {peak / 2**20:.0f} MiB (limit {limit / 2**20:.0f} MiB)")
        if restarted:
            print(f"workers that changed during the run (restarted?): {restarted}")
        print(f"client peak memory: {client_peak / 2**20:.0f} MiB")
        figures = {
            "rows": args.rows, "features": args.features, "x_bytes": x_bytes, "workers": n_workers,
            "memory_limit": limit, "data_over_limit": x_bytes / total_limit, "write_s": write_s,
            "fit_s": fit_s, "epoch_s": epoch_times, "loss": history.loss, "tasks": tasks,
            "bytes_transferred": sent, "worker_peak_rss": list(peaks.values()),
            "client_peak_rss": client_peak, "workers_changed": restarted,
        }
        if args.check_numpy:
            command = [sys.executable, __file__, "--numpy-reference", str(data),
                       *[a for a in (argv if argv is not None else sys.argv[1:]) if a != "--check-numpy"]]
            subprocess.run(command, check=True)
            ref = np.load(data / "numpy_weights.npz")
            expected = [ref[f"arr_{i}"] for i in range(len(weights))]
            worst = max(float(np.max(np.abs(a - e)) / np.max(np.abs(e))) for a, e in zip(weights, expected))
            loss_diff = float(np.max(np.abs(np.array(history.loss) - ref["loss"]) / np.abs(ref["loss"])))
            print(f"numpy (whole data in memory, {float(ref['peak_rss_mb']):.0f} MiB peak, "
                  f"{float(ref['seconds']):.1f} s): weights differ by at most {worst:.2e} relative, "
                  f"epoch losses by {loss_diff:.2e}")
            figures.update(numpy_weights_rel_diff=worst, numpy_loss_rel_diff=loss_diff,
                           numpy_s=float(ref["seconds"]), numpy_peak_rss_mb=float(ref["peak_rss_mb"]))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
    return figures


if __name__ == "__main__":
    main()
