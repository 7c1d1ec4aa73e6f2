"""The Dask backend: row-chunked inputs, one-chunk parameters, materialised steps, clusters, stores.

Every reference is the NumPy float64 run of the same network on the same data in memory
(or, for the order of ``shuffle="batches"``, a loop of ``Trainer.step`` written here).
Dask sums a full-batch gradient chunk by chunk, so it agrees with NumPy's one product to
rounding (relative 1e-12), not bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_close

import xpbackprop as xb
from xpbackprop import intake
from xpbackprop.backend import backend_unavailable_reason

RTOL = 1e-12
ROOT = Path(__file__).resolve().parent.parent


def _requested() -> list[str]:
    return [name.strip() for name in os.environ.get("XPBACKPROP_BACKENDS", "").split(",") if name.strip()]


def _requested_explicitly() -> bool:
    return "dask" in _requested()


def _need(module: str) -> None:
    """Skip (with the reason) when ``module`` is missing; fail instead when dask was asked for."""
    try:
        __import__(module)
    except ImportError as exc:
        message = f"{module} is not importable ({exc}); pip install 'xpbackprop[dask]'"
        if _requested_explicitly():
            pytest.fail(f"dask was requested in XPBACKPROP_BACKENDS but {message}")
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _dask_available():
    """Run where dask runs and the backend list (if one is given) includes it, as the `xp` fixture does."""
    if _requested() and not _requested_explicitly():
        pytest.skip(f"XPBACKPROP_BACKENDS={','.join(_requested())} does not include dask")
    reason = backend_unavailable_reason("dask")
    if reason is not None:
        if _requested_explicitly():
            pytest.fail(f"dask was requested in XPBACKPROP_BACKENDS but cannot run: {reason}")
        pytest.skip(f"backend 'dask' cannot run here: {reason}")


def data(n=600, d=6, classes=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.integers(0, classes, size=n)
    return X, y


def net_pair(sizes=(6, 10, 7, 3), hidden="tanh", output="softmax", loss="cross_entropy"):
    def make(backend):
        return xb.MLP(list(sizes), hidden=hidden, output=output, loss=loss, backend=backend,
                      dtype="float64", seed=3)
    return make("numpy"), make("dask")


def chunked(A, rows):
    import dask.array as da

    return da.from_array(A, chunks=(rows, *A.shape[1:]))


def assert_single_chunk(arrays, what):
    for i, a in enumerate(arrays):
        assert all(len(c) == 1 for c in a.chunks), f"{what}[{i}] has chunks {a.chunks}, expected one chunk"


def assert_materialised(arrays, what):
    """Each array is one chunk held by the scheduler (a one-key graph), not a graph still to run."""
    for i, a in enumerate(arrays):
        keys = len(a.__dask_graph__())
        assert keys == 1, f"{what}[{i}] is a graph of {keys} keys, expected a materialised chunk"


# --- formulas on row chunks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "loss", "targets"),
    [("softmax", "cross_entropy", "labels"), ("sigmoid", "bce", "binary"), ("identity", "mse", "values")],
)
def test_gradients_forward_predict_loss_on_row_chunks_equal_numpy(output, loss, targets):
    X, labels = data(n=1000)
    Y = {"labels": labels, "binary": (X[:, :3] > 0).astype(float),
         "values": np.sin(X[:, :3])}[targets]
    ref, net = net_pair(output=output, loss=loss)
    Xd, Yd = chunked(X, 128), chunked(Y, 128)  # 8 chunks, the last one short

    loss_r, dW_r, db_r = ref.gradients(X, Y)
    loss_d, dW_d, db_d = net.gradients(Xd, Yd)
    assert abs(loss_d - loss_r) <= RTOL * abs(loss_r)
    for k, (a, e) in enumerate(zip(dW_d + db_d, dW_r + db_r)):
        assert_close(a, e, RTOL, f"gradient {k}")
    assert_single_chunk(dW_d + db_d, "gradient")
    A = net.forward(Xd)
    assert A.chunks[0] == Xd.chunks[0], "the output keeps the input's row chunks"
    assert_close(A, ref.forward(X), RTOL, "forward")
    assert abs(net.loss(Xd, Yd) - ref.loss(X, Y)) <= RTOL * abs(ref.loss(X, Y))
    assert np.array_equal(xb.to_numpy(net.predict(Xd)), xb.to_numpy(ref.predict(X)))


def test_host_data_becomes_row_chunks_and_parameters_one_chunk():
    import dask

    X, y = data(n=5000, d=4)
    with dask.config.set({"array.chunk-size": "32KiB"}):  # 1024 rows of 4 float64
        _, net = net_pair(sizes=(4, 5, 3))
        Xd = intake.inputs(net, X)
    assert Xd.chunks == ((1024,) * 4 + (904,), (4,))
    assert_single_chunk(net.parameters, "parameter")
    assert_materialised(net.parameters, "parameter")
    # a dask X chunked along its features as well is rechunked so that samples lie whole in a chunk
    import dask.array as da

    Xc = da.from_array(X, chunks=(1000, 2))
    _, dW, _ = net.gradients(Xc, y)
    assert_single_chunk(dW, "dW")


def test_to_dask_and_back_keeps_the_parameters():
    X, y = data()
    ref, _ = net_pair()
    net = ref.copy().to("dask")
    assert net.backend == "dask"
    assert_single_chunk(net.parameters, "parameter")
    for a, e in zip(net.parameters, ref.parameters):
        np.testing.assert_array_equal(xb.to_numpy(a), e)
    loss_r, dW_r, _ = ref.gradients(X, y)
    loss_d, dW_d, _ = net.gradients(chunked(X, 100), y)
    assert abs(loss_d - loss_r) <= RTOL * abs(loss_r)
    assert_close(dW_d[0], dW_r[0], RTOL, "dW after net.to('dask')")
    net.to("numpy")
    for a, e in zip(net.parameters, ref.parameters):
        np.testing.assert_array_equal(a, e)


# --- training ------------------------------------------------------------------------------------


def test_full_batch_fit_equals_numpy_and_every_step_is_materialised():
    X, y = data()
    ref, net = net_pair()
    h_r = ref.fit(X, y, epochs=5, lr=0.3)
    h_d = net.fit(chunked(X, 64), chunked(y, 64), epochs=5, lr=0.3)
    assert h_d.epochs == 5
    np.testing.assert_allclose(h_d.loss, h_r.loss, rtol=RTOL)
    for k, (a, e) in enumerate(zip(net.parameters, ref.parameters)):
        assert_close(a, e, RTOL, f"parameter {k} after 5 epochs")
    # graphs never grow from step to step: the parameters are materialised one-chunk arrays
    assert_single_chunk(net.parameters, "parameter")
    assert_materialised(net.parameters, "parameter")


def test_trainer_steps_do_not_grow_the_graph():
    X, y = data()
    ref, net = net_pair()
    Xd = chunked(X, 100)
    trainer_r, trainer_d = xb.Trainer(ref, 0.2, momentum=0.9), xb.Trainer(net, 0.2, momentum=0.9)
    losses = []
    for _ in range(6):
        losses.append((trainer_d.step(Xd, y), trainer_r.step(X, y)))
        assert_materialised(net.parameters, "parameter")
        assert_materialised(trainer_d.state, "momentum state")
        assert_materialised([losses[-1][0]], "step loss")
    for a, e in losses:
        assert abs(float(a) - float(e)) <= RTOL * abs(float(e))
    for k, (a, e) in enumerate(zip(net.parameters, ref.parameters)):
        assert_close(a, e, RTOL, f"parameter {k} after 6 momentum steps")


@pytest.mark.parametrize(
    ("shuffle", "optimizer"), [(True, "sgd"), ("batches", "sgd"), ("batches", "adam")]
)
def test_minibatch_fit_equals_numpy_for_the_same_seed(shuffle, optimizer):
    X, y = data(n=256)
    ref, net = net_pair()
    options = {"epochs": 3, "lr": 0.05, "batch_size": 64, "shuffle": shuffle, "optimizer": optimizer,
               "seed": 7}
    h_r = ref.fit(X, y, **options)
    h_d = net.fit(chunked(X, 64), chunked(y, 64), **options)
    np.testing.assert_allclose(h_d.loss, h_r.loss, rtol=RTOL)
    for k, (a, e) in enumerate(zip(net.parameters, ref.parameters)):
        assert_close(a, e, RTOL, f"parameter {k} after 3 epochs of 4 batches")
    assert_materialised(net.parameters, "parameter")


def test_shuffled_blocks_are_contiguous_rows_in_the_seeded_order():
    """shuffle="batches": batch k is rows [64k, 64k + 64); each epoch visits the blocks in the order
    rng.permutation(4) of the seeded host generator. Reference: that loop of Trainer.step on NumPy."""
    X, y = data(n=256)
    ref, net = net_pair()
    trainer = xb.Trainer(ref, 0.05)
    rng = np.random.default_rng(7)
    for _ in range(3):
        for k in rng.permutation(4):
            trainer.step(X[64 * k : 64 * k + 64], y[64 * k : 64 * k + 64])
    net.fit(chunked(X, 64), chunked(y, 64), epochs=3, lr=0.05, batch_size=64, shuffle="batches", seed=7)
    for k, (a, e) in enumerate(zip(net.parameters, ref.parameters)):
        assert_close(a, e, RTOL, f"parameter {k}")


def test_shuffle_must_be_a_flag_or_batches():
    X, y = data(n=20)
    _, net = net_pair()
    before = [xb.to_numpy(p) for p in net.parameters]
    with pytest.raises(ValueError, match="shuffle must be True, False or 'batches', got 'rows'"):
        net.fit(X, y, epochs=1, batch_size=4, shuffle="rows")
    for a, e in zip(net.parameters, before):
        np.testing.assert_array_equal(xb.to_numpy(a), e)


def test_stop_on_zero_errors_counts_errors_in_the_steps_graph():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 8, dtype=float)
    y = np.array([0, 1, 1, 0] * 8)
    ref = xb.MLP([2, 4, 1], hidden="tanh", output="sigmoid", loss="bce", dtype="float64", seed=0)
    net = ref.copy(backend="dask")
    options = {"epochs": 8, "lr": 2.0, "batch_size": 16, "shuffle": False, "stop_on_zero_errors": True}
    h_r = ref.fit(X, y, **options)
    h_d = net.fit(chunked(X, 16), y, **options)
    assert len(set(h_r.errors)) > 1, f"the reference run should change its error count: {h_r.errors}"
    assert h_d.errors == h_r.errors
    assert h_d.stop_reason == h_r.stop_reason


def test_nan_in_one_chunk_is_found_by_one_pass_and_nothing_changes():
    X, y = data()
    X[433, 2] = np.nan
    _, net = net_pair()
    before = [xb.to_numpy(p) for p in net.parameters]
    with pytest.raises(ValueError, match=r"X contains 1 NaN among its 3600 values, the first in row 433"):
        net.fit(chunked(X, 100), y, epochs=2)
    for a, e in zip(net.parameters, before):
        np.testing.assert_array_equal(xb.to_numpy(a), e)


# --- on disk and on a cluster ---------------------------------------------------------------------


def test_fit_reads_from_zarr_and_npy_stores(tmp_path):
    _need("zarr")
    import dask.array as da
    import zarr

    X, y = data(n=800)
    zx = zarr.create_array(store=str(tmp_path / "X.zarr"), shape=X.shape, chunks=(100, 6), dtype="float64")
    zx[...] = X
    zy = zarr.create_array(store=str(tmp_path / "y.zarr"), shape=y.shape, chunks=(100,), dtype="int64")
    zy[...] = y
    np.save(tmp_path / "X.npy", X)
    Xz, yz = da.from_zarr(str(tmp_path / "X.zarr")), da.from_zarr(str(tmp_path / "y.zarr"))
    Xm = da.from_array(np.load(tmp_path / "X.npy", mmap_mode="r"), chunks=(100, 6))

    ref, _ = net_pair()
    h_r = ref.fit(X, y, epochs=3, lr=0.3)
    for name, (Xs, ys) in {"zarr": (Xz, yz), "npy memmap": (Xm, y)}.items():
        _, net = net_pair()
        h_d = net.fit(Xs, ys, epochs=3, lr=0.3)
        np.testing.assert_allclose(h_d.loss, h_r.loss, rtol=RTOL, err_msg=name)
        for k, (a, e) in enumerate(zip(net.parameters, ref.parameters)):
            assert_close(a, e, RTOL, f"{name}: parameter {k}")


def test_fit_on_a_distributed_cluster_equals_numpy():
    _need("distributed")
    from distributed import Client, LocalCluster, get_task_stream

    X, y = data(n=1200)
    ref, net = net_pair()
    h_r = ref.fit(X, y, epochs=5, lr=0.3)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
        get_task_stream(client) as tasks,
    ):
        h_d = net.fit(chunked(X, 200), chunked(y, 200), epochs=5, lr=0.3)
        weights = [xb.to_numpy(p) for p in net.parameters]
        assert_materialised(net.parameters, "parameter")
    assert len(tasks.data) > 0, "no task ran on the cluster"
    workers = {t["worker"] for t in tasks.data}
    assert len(workers) == 2, f"tasks ran on {workers}, expected both workers"
    np.testing.assert_allclose(h_d.loss, h_r.loss, rtol=RTOL)
    for k, (a, e) in enumerate(zip(weights, ref.parameters)):
        assert_close(a, e, RTOL, f"parameter {k} after 5 epochs on the cluster")


def test_distributed_fit_example_small_run(tmp_path):
    """The example end to end (worker processes with a memory limit, zarr on disk, the NumPy check)."""
    _need("distributed")
    _need("zarr")
    out = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "distributed_fit.py"), "--small", "--epochs", "2",
         "--check-numpy", "--data", str(tmp_path / "data"), "--json", str(out)],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    import json

    figures = json.loads(out.read_text())
    assert figures["numpy_weights_rel_diff"] <= 1e-10, figures
    assert figures["tasks"] > 0 and len(figures["loss"]) == 2
    assert all(p < figures["memory_limit"] for p in figures["worker_peak_rss"]), figures
    assert not (tmp_path / "data").exists(), "the example leaves no data behind without --keep"
    assert "epoch   2  loss" in result.stdout


def test_unknown_chunk_sizes_are_named_with_the_way_out():
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(8)
    X = da.from_array(rng.normal(size=(20, 3)), chunks=(5, 3))
    y = da.from_array(rng.integers(0, 2, 20), chunks=5)
    keep = X[:, 0] > 0
    net = xb.MLP([3, 4, 2], backend="dask", dtype="float64", seed=0)
    before = [xb.to_numpy(p) for p in net.parameters]
    with pytest.raises(ValueError, match=r"X is a Dask array whose chunk sizes are unknown .* "
                                         r"X\.compute_chunk_sizes\(\)"):
        net.fit(X[keep], y[keep], epochs=1)
    with pytest.raises(ValueError, match=r"chunk sizes are unknown"):
        net.predict(X[keep])
    for a, b in zip(net.parameters, before):
        np.testing.assert_array_equal(xb.to_numpy(a), b)
    Xk, yk = X[keep], y[keep]
    Xk.compute_chunk_sizes()
    yk.compute_chunk_sizes()
    assert net.fit(Xk, yk, epochs=1).epochs == 1  # the way out works
