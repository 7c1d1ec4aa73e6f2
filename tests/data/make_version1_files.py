"""Writes the version-1 model files and checkpoints kept in this folder (``*_v1.npz``).

They were written by xpbackprop at commit 2144fb5 (model ``FORMAT_VERSION`` 1, ``CHECKPOINT_VERSION``
1), before the layouts changed, so that the tests can check that files of that version still load
and resume. Running this script with a later xpbackprop writes that version's files instead: it
documents how the files were made, it is not run by the tests.

The data and the networks are those of ``tests/test_io.py`` and ``tests/test_reliability.py``
(``version1_data``, ``version1_networks``): the tests rebuild them and compare.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import xpbackprop as xb

HERE = Path(__file__).parent


def version1_data():
    rng = np.random.default_rng(19)
    X = rng.normal(size=(30, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
    return X[:20], y[:20], X[20:], y[20:]


def version1_networks():
    mlp = xb.MLP([4, 6, 3], hidden="tanh", output="softmax", dtype="float32", seed=5)
    conv = xb.Sequential([xb.Conv1D(1, 2, 2), xb.Activation("tanh"), xb.Flatten(), xb.Dense(6, 1),
                          xb.Activation("sigmoid")], loss="bce", dtype="float64", seed=2)
    return mlp, conv


def stop_after(epoch):
    return lambda net, e, logs: e == epoch


def version1_runs():
    """``{checkpoint file: (network, fit arguments of the whole run, the epoch the file's run stopped
    after)}``: the file's run is the whole run stopped by a callback after that epoch."""
    _, _, Xv, yv = version1_data()
    adam = xb.MLP([4, 6, 3], hidden="tanh", output="softmax", dtype="float64", seed=7)
    sgd = xb.MLP([4, 6, 3], hidden="relu", output="softmax", dtype="float64", seed=8)
    return {
        "checkpoint_adam_v1.npz": (adam, dict(
            epochs=12, lr=0.05, batch_size=6, optimizer="adam", schedule="adaptive", n_iter_no_change=2,
            validation_data=(Xv, yv), early_stopping=True, patience=50, seed=3), 5),
        "checkpoint_sgd_v1.npz": (sgd, dict(
            epochs=12, lr=0.2, batch_size=4, momentum=0.9, nesterov=True, schedule="invscaling",
            stop_on_zero_errors=True, seed=4), 4),
    }


def main() -> None:
    X, y, _, _ = version1_data()
    mlp, conv = version1_networks()
    mlp.fit(X, y, epochs=3, lr=0.1)
    xb.save(mlp, HERE / "model_mlp_v1.npz", classes=["low", "middle", "high"])
    xb.save(conv, HERE / "model_conv_v1.npz")
    for name, (net, kwargs, stop) in version1_runs().items():
        net.fit(X, y, callbacks=[stop_after(stop)], checkpoint=HERE / name, **kwargs)


if __name__ == "__main__":
    main()
