"""What a GPU needs, checked on CPU: no host read inside a step, every array on the network's device.

- torch's ``meta`` device has tensors without data: a step that reads a value back to the host
  (``.item()``, ``bool(x)``) or makes a shape that depends on data fails there. ``Trainer.step``
  runs there for every optimizer, layer kind and loss, with the backend's fast paths and with the
  plain formulas (what CuPy runs).
- array-api-strict refuses to combine arrays of two devices: every public path runs on its
  ``device1`` (an array created without ``device=`` would land on the default device and be
  refused), and a float32 network runs on ``no_float64``, a device without float64 (host data is
  cast before it moves; ``check_gradients`` computes its differences on the host).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKEND_NAMES

import xpbackprop as xb
from xpbackprop import fast

NETWORKS = {
    "relu-softmax-ce": lambda **kw: xb.MLP([6, 5, 3], hidden="relu", **kw),
    "tanh-sigmoid-bce": lambda **kw: xb.MLP([6, 5, 2], hidden="tanh", output="sigmoid", loss="bce", **kw),
    "gelu-identity-mse": lambda **kw: xb.MLP([6, 5, 2], hidden="gelu", output="identity", loss="mse", **kw),
    "leaky-softplus-sigmoid-mse": lambda **kw: xb.MLP([6, 4, 5, 2], hidden=["leaky_relu", "softplus"],
                                                      output="sigmoid", loss="mse", **kw),
    "sigmoid-softmax-ce-chain-rule": lambda **kw: xb.MLP([6, 5, 3], hidden="sigmoid", output="sigmoid",
                                                         loss="cross_entropy", **kw),
    "conv1d": lambda **kw: xb.Sequential([xb.Conv1D(1, 2, 3), xb.Activation("tanh"), xb.Flatten(),
                                          xb.Dense(8, 2), xb.Activation("tanh")],
                                         loss=xb.MSE(half=True, reduction="sum"), **kw),
}
OPTIMIZERS = {
    "sgd": {},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    "adam": {"optimizer": "adam", "weight_decay": 0.01},
}

needs_torch = pytest.mark.skipif("torch" not in BACKEND_NAMES, reason="the meta device is torch's; "
                                 "this session leaves torch out")
needs_strict = pytest.mark.skipif("array_api_strict" not in BACKEND_NAMES,
                                  reason="array-api-strict's devices; this session leaves it out")


@needs_torch
@pytest.mark.parametrize("plain", [False, True], ids=["fast-paths", "plain-formulas"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("network", list(NETWORKS))
def test_trainer_step_runs_on_the_meta_device(backend, network, optimizer, plain):
    if backend != "torch":
        pytest.skip("the meta device is torch's")
    import torch

    net = NETWORKS[network](backend="torch", device="meta", seed=0)
    trainer = xb.Trainer(net, lr=0.1, **OPTIMIZERS[optimizer])
    X = torch.empty((8, 6), device="meta")
    Y = torch.empty((8, net.n_outputs), device="meta")
    with fast.disabled() if plain else _Nothing():
        for _ in range(2):
            loss = trainer.step(X, Y)
    assert loss.device.type == "meta" and loss.shape == ()
    assert all(p.device.type == "meta" for p in net.parameters)


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _strict_data(n=24, n_in=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.integers(0, 3, n)


@needs_strict
def test_every_public_path_keeps_a_strict_network_on_its_device(backend, tmp_path):
    if backend != "array_api_strict":
        pytest.skip("array-api-strict's devices")
    import array_api_strict as xp

    device = xp.Device("device1")
    X, y = _strict_data()
    Xd = xp.asarray(X, device=device)
    net = xb.MLP([6, 5, 3], hidden="relu", backend="array_api_strict", device=device, dtype="float64", seed=1)
    options = [dict(), dict(batch_size=5, momentum=0.9, nesterov=True, weight_decay=0.01),
               dict(batch_size=8, optimizer="adam", schedule="adaptive", shuffle="batches"),
               dict(batch_size=6, schedule="invscaling", stop_on_zero_errors=True, goal=1e-9),
               dict(validation_data=(X, y), early_stopping=True, patience=2, callbacks=[lambda *a: None])]
    for kw in options:
        net.fit(Xd, y, epochs=3, lr=0.05, seed=0, **kw)
    path = tmp_path / "run.npz"
    net.fit(X, y, epochs=2, lr=0.05, seed=0, checkpoint=path)
    net.fit(X, y, epochs=3, lr=0.05, seed=0, resume=path)
    for out in (net.forward(Xd), net.predict(Xd), net.predict_proba(X), *net.gradients(Xd, y)[1]):
        assert out.device == device
    assert 0 <= net.score(Xd, y) <= 1 and np.isfinite(net.loss(X, y))
    assert xb.check_gradients(net, X[:4], y[:4]) < 1e-6
    trainer = xb.Trainer(net, lr=0.1, optimizer="adam")
    assert trainer.step(Xd, y).device == device
    xb.save(net, tmp_path / "net.npz")
    loaded = xb.load(tmp_path / "net.npz", backend="array_api_strict", device=device)
    assert all(p.device == device for p in loaded.parameters)
    np.testing.assert_array_equal(xb.to_numpy(loaded.forward(Xd)), xb.to_numpy(net.forward(Xd)))


@needs_strict
@pytest.mark.filterwarnings("ignore:Stochastic Optimizer")  # 5 iterations do not converge
def test_a_conv1d_network_and_the_estimators_on_a_strict_device(backend):
    if backend != "array_api_strict":
        pytest.skip("array-api-strict's devices")
    import array_api_strict as xp

    from xpbackprop.sklearn import MLPClassifier, MLPRegressor

    device = xp.Device("device1")
    rng = np.random.default_rng(2)
    net = NETWORKS["conv1d"](backend="array_api_strict", device=device, dtype="float64", seed=0)
    X, Y = xp.asarray(rng.normal(size=(8, 6)), device=device), rng.normal(size=(8, 2))
    net.fit(X, Y, epochs=2, lr=0.01, batch_size=4)
    assert net.forward(X).device == device
    X, y = _strict_data(seed=3)
    Xd = xp.asarray(X, device=device)
    clf = MLPClassifier((5,), max_iter=5, random_state=0).fit(Xd, xp.asarray(y, device=device))
    assert clf.predict(Xd).device == device and clf.predict_proba(Xd).device == device
    clf.partial_fit(Xd, xp.asarray(y, device=device))
    reg = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0, early_stopping=True)
    reg.fit(Xd, Xd[:, 0])
    assert reg.predict(Xd).device == device


@needs_strict
def test_a_float32_network_on_a_device_without_float64(backend, tmp_path):
    if backend != "array_api_strict":
        pytest.skip("array-api-strict's devices")
    import array_api_strict as xp

    device = xp.Device("no_float64")
    X, y = _strict_data(seed=4)  # float64 host data: cast on the host, then moved
    soft = np.random.default_rng(4).dirichlet(np.ones(3), size=len(X))
    for loss_targets in (y, y.astype(float), soft):
        net = xb.MLP([6, 5, 3], backend="array_api_strict", device=device, dtype="float32", seed=0)
        net.fit(X, loss_targets, epochs=2, lr=0.05, batch_size=8, validation_data=(X, loss_targets))
        assert net.parameters[0].dtype == xp.float32 and net.parameters[0].device == device
    assert xb.check_gradients(net, X[:4], y[:4]) < 1e-6  # its float64 differences on the host
    xb.save(net, tmp_path / "net.npz")
    loaded = xb.load(tmp_path / "net.npz", backend="array_api_strict", device=device)
    assert loaded.predict(X).device == device
    with pytest.raises(ValueError, match=r"dtype='float64' but device .*no_float64.* holds no float64"):
        xb.MLP([6, 5, 3], backend="array_api_strict", device=device, dtype="float64")


def test_an_unknown_device_names_the_devices_that_exist(backend, xp):
    with pytest.raises(ValueError, match=r"is not a device of backend .*its devices here are"):
        xb.MLP([2, 3, 2], backend=backend, device="gpu")


def _sync_guard(backend):
    """A context in which the GPU library raises at any host synchronisation, or a skip."""
    if backend == "cupy":
        import cupyx

        return cupyx.allow_synchronize(False)
    if backend == "torch":
        import torch

        if torch.empty(0).device.type == "cuda":  # XPBACKPROP_DEVICE=cuda made CUDA the default
            return _TorchSyncErrors()
    pytest.skip(f"no GPU here for {backend} (runs in benchmarks/gpu_check.sh: cupy, and torch with "
                "XPBACKPROP_DEVICE=cuda)")


class _TorchSyncErrors:
    def __enter__(self):
        import torch

        torch.cuda.set_sync_debug_mode("error")

    def __exit__(self, *exc):
        import torch

        torch.cuda.set_sync_debug_mode("default")
        return False


@pytest.mark.parametrize("plain", [False, True], ids=["fast-paths", "plain-formulas"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("network", list(NETWORKS))
def test_a_gpu_step_never_synchronizes_with_the_host(backend, xp, network, optimizer, plain):
    guard = _sync_guard(backend)
    net = NETWORKS[network](backend=backend, seed=0)
    trainer = xb.Trainer(net, lr=0.1, **OPTIMIZERS[optimizer])
    rng = np.random.default_rng(0)
    X = xp.asarray(rng.normal(size=(8, 6)).astype(np.float32))
    Y = xp.asarray(rng.uniform(size=(8, net.n_outputs)).astype(np.float32))
    Y = Y / xp.sum(Y, axis=1, keepdims=True) if network == "relu-softmax-ce" else Y
    trainer.step(X, Y)  # first calls outside the guard: kernels compiled, caches filled
    with fast.disabled() if plain else _Nothing(), guard:
        for _ in range(3):
            loss = trainer.step(X, Y)
    assert np.isfinite(float(loss))
