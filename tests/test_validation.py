"""Bad input at every public entry: the documented exception, a message that names the argument
and the values, and nothing changed (parameters bit for bit, the network's generator state).

Conventions under test (xpbackprop/checks.py, intake.py, valuechecks.py): ``TypeError`` for wrong
types and arrays of another library, ``ValueError`` for bad values, shapes, names, NaN/inf, label ranges and
devices. The table below is run on every backend; the rows that build nothing backend-specific
run once.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import xpbackprop as xb
from xpbackprop import valuechecks

N = 12


def _data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(N, 3))
    y = np.arange(N) % 3  # every class present
    return X, y


X, y = _data()
Y_REG = np.random.default_rng(8).normal(size=(N, 2))
Y_BIN = np.arange(N) % 2


def with_values(A, where, values):
    A = np.array(A, dtype=np.float64, copy=True)
    for index, value in zip(where, values):
        A[index] = value
    return A


class Env:
    """One backend's networks (built on first use), data and helpers for the table's calls."""

    def __init__(self, backend: str, path) -> None:
        self.backend = backend
        self.xp = xb.namespace(backend)
        self.path = path
        self._nets: dict[str, Any] = {}

    def net(self, kind: str) -> Any:
        if kind not in self._nets:
            common = {"backend": self.backend, "seed": 1}
            self._nets[kind] = {
                "clf": lambda: xb.MLP([3, 5, 3], hidden="tanh", output="softmax", **common),
                "bce": lambda: xb.MLP([3, 4, 1], hidden="tanh", output="sigmoid", loss="bce", **common),
                "reg": lambda: xb.MLP([3, 4, 2], hidden="tanh", output="identity", loss="mse", **common),
            }[kind]()
        return self._nets[kind]

    clf = property(lambda self: self.net("clf"))
    bce = property(lambda self: self.net("bce"))
    reg = property(lambda self: self.net("reg"))

    @property
    def other(self) -> str:
        """An installed array library other than numpy and the backend under test."""
        available = xb.available_backends()
        for name in ("torch", "array_api_strict", "jax"):
            if name != self.backend and name in available:
                return name
        pytest.skip(f"no array library besides numpy and {self.backend} is installed")

    def foreign(self, host) -> Any:
        """``host`` as an array of :attr:`other`."""
        return xb.namespace(self.other).asarray(np.asarray(host, dtype=np.float32))

    def elsewhere(self, host) -> Any:
        """``host`` as an array of the backend's own library on another device than the network's."""
        if self.backend == "array_api_strict":
            import array_api_strict

            return array_api_strict.asarray(np.asarray(host, dtype=np.float32),
                                            device=array_api_strict.Device("device1"))
        if self.backend == "torch":
            import torch

            return torch.empty(np.shape(host), device="meta")
        pytest.skip(f"{self.backend} offers no second device here")

    def huge(self) -> Any:
        """A network of 10**12 parameters on the backend: refused before anything is allocated where
        its arrays would live in main memory."""
        from xpbackprop.backend import on_host

        if not on_host(self.xp):
            pytest.skip(f"{self.backend} keeps arrays in device memory, which the constructor does not check")
        return xb.MLP([2, 10**6, 10**6, 2], backend=self.backend)

    def masked(self, host, where):
        mask = np.zeros(np.shape(host), dtype=bool)
        mask[where] = True
        return np.ma.masked_array(host, mask=mask)

    @property
    def saved(self):
        path = self.path / "model.npz"
        if not path.exists():
            xb.save(xb.MLP([3, 4, 2], backend="numpy"), path)
        return path


@dataclass(frozen=True)
class Case:
    name: str
    call: Callable[[Env], Any]
    error: type[Exception]
    match: str | Callable[[Env], str]  # a regex, or one built from the Env (backend names)
    net: str = "clf"  # whose parameters and generator must stay unchanged


def C(name, call, error, match, net="clf"):  # a table row
    return Case(name, call, error, match, net)


V, T = ValueError, TypeError

# --- rows run on every backend ------------------------------------------------------------------

BACKEND_CASES = [
    # fit: data against the network and the loss
    C("fit feature count", lambda e: e.clf.fit(np.ones((N, 4)), y), V,
      r"X has 4 features \(columns\) but the network's first layer Dense\(n_in=3, n_out=5\) expects 3"),
    C("fit rows of X vs Y", lambda e: e.clf.fit(X, y[:10]), V,
      r"X has 12 rows but Y has 10; they must match"),
    C("fit one-hot width", lambda e: e.clf.fit(X, np.eye(4)[y]), V,
      r"Y has 4 columns but the network has 3 outputs; expected shape \(12, 3\)"),
    C("fit label too large", lambda e: e.clf.fit(X, np.where(y == 0, 3, y)), V,
      r"Y holds class labels outside \[0, 3\) .* 4 of 12 labels, e\.g\. \[3, 3, 3, 3\] \(first in row 0\)"),
    C("fit label negative", lambda e: e.clf.fit(X, with_values(y, [5], [-1]).astype(int)), V,
      r"outside \[0, 3\) .* 1 of 12 labels, e\.g\. \[-1\] \(first in row 5\)"),
    C("fit fractional float labels", lambda e: e.clf.fit(X, with_values(y, [2], [1.5])), V,
      r"Y is a 1-d float array given as class labels .* 1 of its 12 values are not whole numbers, "
      r"e\.g\. \[1\.5\] \(first in row 2\)"),
    # softmax + cross-entropy: the fused dZ = A - Y is the gradient only for rows summing to 1
    C("fit cross-entropy row summing to 2", lambda e: e.clf.fit(X, with_values(np.eye(3)[y], [(4, 0)], [1])),
      V, r"cross-entropy target rows for a softmax output must each sum to 1 .* 1 of the 12 rows of Y "
      r"do not; the first, row 4, sums to 2 \(allowed: \|sum - 1\| <= 2\.86e-06\)"),
    C("loss cross-entropy zero row", lambda e: e.clf.loss(X, with_values(np.eye(3)[y], [(2, 2)], [0])),
      V, r"must each sum to 1 .* the first, row 2, sums to 0 "),
    C("fit validation targets not summing to 1",
      lambda e: e.clf.fit(X, y, validation_data=(X, np.full((N, 3), 0.3))), V,
      r"12 of the 12 rows of Y_val do not; the first, row 0, sums to 0\.9000000"),
    C("fit labels as a column", lambda e: e.clf.fit(X, y[:, None]), V,
      r"Y has 1 column but the network has 3 outputs.*class labels go in a 1-d array of shape \(N,\)"),
    C("fit 3-d targets", lambda e: e.clf.fit(X, y[:, None, None]), V,
      r"Y must be 1-d \(N,\) or 2-d \(N, 3\), got 3-d shape \(12, 1, 1\)"),
    C("fit 0-d target", lambda e: e.clf.fit(X, np.float64(1.0)), V, r"Y must be 1-d .* got 0-d shape \(\)"),
    C("fit 1-d targets for 2 regression outputs", lambda e: e.reg.fit(X, Y_REG[:, 0]), V,
      r"Y of shape \(12,\) has one value per sample but the network has 2 outputs; expected shape \(12, 2\)",
      "reg"),
    C("fit BCE target above 1", lambda e: e.bce.fit(X, with_values(Y_BIN, [3], [2.0])), V,
      r"binary cross-entropy targets must lie in \[0, 1\], but 1 of the 12 values of Y are outside "
      r"\(min 0, max 2\)", "bce"),
    C("fit BCE target below 0", lambda e: e.bce.fit(X, with_values(Y_BIN, [0, 1], [-1, -0.5])), V,
      r"\[0, 1\], but 2 of the 12 values of Y are outside \(min -1, max 1\)", "bce"),
    C("fit CE probability rows outside [0, 1]", lambda e: e.clf.fit(X, np.eye(3)[y] * 2 - 0.5), V,
      r"cross-entropy target rows must lie in \[0, 1\], but 36 of the 36 values of Y are outside"),
    C("fit NaN in CE probability rows",
      lambda e: e.clf.fit(X, with_values(np.eye(3)[y], [(4, 1)], [np.nan])), V,
      r"Y contains 1 NaN among its 36 values, the first in row 4"),
    C("fit infinity in BCE targets", lambda e: e.bce.fit(X, with_values(Y_BIN, [7], [np.inf])), V,
      r"Y contains 1 infinite value among its 12 values, the first in row 7", "bce"),
    C("fit NaN in X", lambda e: e.clf.fit(with_values(X, [(1, 0), (4, 2)], [np.nan] * 2), y), V,
      r"X contains 2 NaN among its 36 values, the first in row 1"),
    C("fit infinity in X", lambda e: e.clf.fit(with_values(X, [(3, 1), (7, 0)], [np.inf, -np.inf]), y), V,
      r"X contains 2 infinite values among its 36 values, the first in row 3"),
    C("fit NaN and infinity in X", lambda e: e.clf.fit(with_values(X, [(9, 0), (2, 2)], [np.nan, np.inf]), y),
      V, r"X contains 1 NaN and 1 infinite value among its 36 values, the first in row 2"),
    C("fit X overflowing float32", lambda e: e.clf.fit(with_values(X, [(6, 1)], [1e39]), y), V,
      r"X contains 1 infinite value .* row 6 \(checked as float32, where magnitudes above 3\.4e\+38"),
    C("fit infinity in regression Y", lambda e: e.reg.fit(X, with_values(Y_REG, [(8, 1)], [np.inf])), V,
      r"Y contains 1 infinite value among its 24 values, the first in row 8", "reg"),
    C("fit NaN among float labels", lambda e: e.clf.fit(X, with_values(y, [10], [np.nan])), V,
      r"Y contains 1 NaN among its 12 values, the first in row 10"),
    C("fit X without rows", lambda e: e.clf.fit(X[:0], y[:0]), V,
      r"X is empty: it has 0 rows \(shape \(0, 3\)\)"),
    C("fit X without features", lambda e: e.clf.fit(X[:, :0], y), V,
      r"X is empty: it has 0 features \(shape \(12, 0\)\)"),
    C("fit 1-d X", lambda e: e.clf.fit(X[:, 0], y), V,
      r"X must have one row per sample, shape \(N, 3\), got shape \(12,\)"),
    C("fit complex X", lambda e: e.clf.fit(X + 1j, y), T,
      r"X must hold real numbers \(bool, integer or float\), got dtype complex128 \(complex numbers\)"),
    C("fit string X", lambda e: e.clf.fit(X.astype(str), y), T, r"X must hold real numbers .* dtype <U"),
    C("fit object X", lambda e: e.clf.fit(X.astype(object), y), T,
      r"X must hold real numbers .* dtype object \(non-numeric data\)"),
    C("fit complex Y", lambda e: e.reg.fit(X, Y_REG + 0j), T,
      r"Y must hold real numbers .* complex128", "reg"),
    C("fit X is None", lambda e: e.clf.fit(None, y), T, r"X must be an array of numbers, got None"),
    C("fit X is a string", lambda e: e.clf.fit("data.csv", y), T,
      r"X must be an array of numbers, got str 'data\.csv'"),
    C("fit ragged X", lambda e: e.clf.fit([[1.0, 2.0, 3.0], [4.0]], y[:2]), V,
      r"X is not a rectangular array of numbers"),
    C("fit X of another library", lambda e: e.clf.fit(e.foreign(X), y), T,
      lambda e: rf"X is an array of {e.other} .* runs on {e.backend}: arrays from different libraries"),
    C("fit Y of another library", lambda e: e.reg.fit(X, e.foreign(Y_REG)), T,
      lambda e: rf"Y is an array of {e.other} .* runs on {e.backend}", "reg"),
    C("fit X on another device", lambda e: e.clf.fit(e.elsewhere(X), y), V,
      r"X is on device .*(device1|meta).* but the network's parameters are on device .*(CPU_DEVICE|cpu)"),
    # fit: hyper-parameters
    C("fit negative lr", lambda e: e.clf.fit(X, y, lr=-0.1), V,
      r"learning rate lr must be a positive finite number, got -0\.1"),
    C("fit zero lr", lambda e: e.clf.fit(X, y, lr=0), V, r"lr must be a positive finite number, got 0$"),
    C("fit NaN lr", lambda e: e.clf.fit(X, y, lr=float("nan")), V,
      r"lr must be a positive finite number, got nan"),
    C("fit string lr", lambda e: e.clf.fit(X, y, lr="0.1"), T,
      r"lr must be a positive finite number, got str '0\.1'"),
    C("fit zero batch_size", lambda e: e.clf.fit(X, y, batch_size=0), V,
      r"batch_size must be a positive integer or None, got 0"),
    C("fit negative batch_size", lambda e: e.clf.fit(X, y, batch_size=-3), V, r"batch_size .* got -3"),
    C("fit float batch_size", lambda e: e.clf.fit(X, y, batch_size=2.5), T,
      r"batch_size must be a positive integer or None, got float 2\.5"),
    C("fit zero epochs", lambda e: e.clf.fit(X, y, epochs=0), V, r"epochs must be a positive integer, got 0"),
    C("fit float epochs", lambda e: e.clf.fit(X, y, epochs=1.5), T,
      r"epochs must be a positive integer, got float 1\.5"),
    C("fit unknown optimizer", lambda e: e.clf.fit(X, y, optimizer="rmsprop"), V,
      r"unknown optimizer 'rmsprop'; valid names are \['adam', 'sgd'\]"),
    C("fit optimizer of a wrong type", lambda e: e.clf.fit(X, y, optimizer=3), T,
      r"optimizer must be a name, one of \['adam', 'sgd'\], or an xb\.Optimizer, got int 3"),
    C("fit unknown schedule", lambda e: e.clf.fit(X, y, schedule="cosine"), V,
      r"unknown learning-rate schedule 'cosine'; valid names are \['constant', 'invscaling', 'adaptive'\]"),
    C("fit momentum 1", lambda e: e.clf.fit(X, y, momentum=1.0), V,
      r"momentum must be a finite number in \[0, 1\), got 1\.0"),
    C("fit negative momentum", lambda e: e.clf.fit(X, y, momentum=-0.5), V,
      r"momentum .* \[0, 1\), got -0\.5"),
    C("fit momentum with adam", lambda e: e.clf.fit(X, y, optimizer="adam", momentum=0.9), V,
      r"momentum and nesterov apply to optimizer='sgd', not 'adam'"),
    C("fit negative weight_decay", lambda e: e.clf.fit(X, y, weight_decay=-0.01), V,
      r"weight_decay must be a finite number >= 0, got -0\.01"),
    C("fit zero patience", lambda e: e.clf.fit(X, y, patience=0), V,
      r"patience must be a positive integer, got 0"),
    C("fit goal not a number", lambda e: e.clf.fit(X, y, goal="low"), T,
      r"goal must be a number .* got str 'low'"),
    C("fit NaN goal", lambda e: e.clf.fit(X, y, goal=float("nan")), V,
      r"goal must be a number \(not NaN\).* got nan"),
    C("fit zero n_iter_no_change", lambda e: e.clf.fit(X, y, schedule="adaptive", n_iter_no_change=0), V,
      r"n_iter_no_change must be a positive integer, got 0"),
    C("fit negative seed", lambda e: e.clf.fit(X, y, seed=-1), V, r"seed must be an integer >= 0, got -1"),
    C("fit validation_data not a pair", lambda e: e.clf.fit(X, y, validation_data=X), T,
      r"validation_data must be a pair \(X_val, Y_val\), got ndarray"),
    C("fit validation_data of three", lambda e: e.clf.fit(X, y, validation_data=(X, y, y)), V,
      r"validation_data must be a pair \(X_val, Y_val\), got 3 items"),
    C("fit early_stopping without validation_data", lambda e: e.clf.fit(X, y, early_stopping=True), V,
      r"early_stopping=True needs validation_data=\(X_val, Y_val\)"),
    C("fit callback not callable", lambda e: e.clf.fit(X, y, callbacks=[print, 1]), T,
      r"callbacks must be callables callback\(net, epoch, logs\), got 1"),
    C("fit a bare callback", lambda e: e.clf.fit(X, y, callbacks=print), T,
      r"callbacks must be a list of callables .*put a single callback in a list"),
    C("fit stop_on_zero_errors for regression", lambda e: e.reg.fit(X, Y_REG, stop_on_zero_errors=True), V,
      r"stop_on_zero_errors needs a classifier output .* 'identity'", "reg"),
    C("fit NaN in X_val",
      lambda e: e.clf.fit(X, y, validation_data=(with_values(X, [(0, 0)], [np.nan]), y)), V,
      r"X_val contains 1 NaN among its 36 values, the first in row 0"),
    C("fit rows of X_val vs Y_val", lambda e: e.clf.fit(X, y, validation_data=(X[:4], y[:3])), V,
      r"X_val has 4 rows but Y_val has 3; they must match"),
    C("fit Y_val labels out of range", lambda e: e.clf.fit(X, y, validation_data=(X, y + 5)), V,
      r"Y_val holds class labels outside \[0, 3\)"),
    # predict, predict_proba, score, forward, loss, gradients
    C("predict NaN in X", lambda e: e.clf.predict(with_values(X, [(11, 2)], [np.nan])), V,
      r"X contains 1 NaN among its 36 values, the first in row 11"),
    C("predict feature count", lambda e: e.clf.predict(np.ones((5, 2))), V, r"X has 2 features .* expects 3"),
    C("predict_proba 1-d X", lambda e: e.clf.predict_proba(np.ones(3)), V,
      r"X must have one row per sample, shape \(N, 3\), got shape \(3,\)"),
    C("predict_proba of a regression network", lambda e: e.reg.predict_proba(X), V,
      r"predict_proba needs a softmax or sigmoid output; this network's output is 'identity'", "reg"),
    C("score labels out of range", lambda e: e.clf.score(X, y * 2), V,
      r"Y holds class labels outside \[0, 3\) .* 4 of 12 labels, e\.g\. \[4, 4, 4, 4\] \(first in row 2\)"),
    C("score rows of X vs Y", lambda e: e.clf.score(X[:5], y), V, r"X has 5 rows but Y has 12"),
    C("forward X of another library", lambda e: e.clf.forward(e.foreign(X)), T,
      lambda e: rf"X is an array of {e.other} .* arrays from different libraries in one call: "
      rf"{e.other} and {e.backend}"),
    C("forward string X", lambda e: e.clf.forward([["a", "b", "c"]]), T, r"X must hold real numbers .* <U1"),
    C("forward X on another device", lambda e: e.clf.forward(e.elsewhere(X)), V,
      r"X is on device .* network's"),
    C("forward 3-d X", lambda e: e.clf.forward(np.ones((2, 3, 1), dtype=bool)), V,
      r"X must be 2-d \(N, 3\) for a network that starts with Dense\(n_in=3, n_out=5\), "
      r"got shape \(2, 3, 1\)"),
    C("loss NaN in Y", lambda e: e.reg.loss(X, with_values(Y_REG, [(4, 0), (5, 0)], [np.nan] * 2)), V,
      r"Y contains 2 NaN among its 24 values, the first in row 4", "reg"),
    C("loss BCE targets outside [0, 1]", lambda e: e.bce.loss(X, Y_BIN * 3), V,
      r"binary cross-entropy targets must lie in \[0, 1\], but 6 of the 12 values .* \(min 0, max 3\)",
      "bce"),
    C("gradients one-hot width", lambda e: e.clf.gradients(X, np.eye(2)[Y_BIN]), V,
      r"Y has 2 columns but the network has 3 outputs"),
    C("gradients 0-d Y", lambda e: e.clf.gradients(X, 1), V, r"Y must be 1-d .* got 0-d shape \(\)"),
    C("gradients fractional labels", lambda e: e.clf.gradients(X, y / 2), V,
      r"4 of its 12 values are not whole numbers, e\.g\. \[0\.5, 0\.5, 0\.5, 0\.5\] \(first in row 1\)"),
    # set_parameters
    C("set_parameters transposed W", lambda e: e.clf.set_parameters(
        [np.ones((3, 5)), np.ones((3, 5))], [np.zeros(5), np.zeros(3)]), V,
      r"weights\[1\] must have shape \(5, 3\) for Dense\(n_in=5, n_out=3\), got \(3, 5\)"),
    C("set_parameters NaN weight", lambda e: e.clf.set_parameters(
        [with_values(np.ones((3, 5)), [(2, 4)], [np.nan]), np.ones((5, 3))], [np.zeros(5), np.zeros(3)]), V,
      r"weights\[0\] contains 1 NaN among its 15 values, the first in row 2"),
    C("set_parameters infinite bias", lambda e: e.clf.set_parameters(
        [np.ones((3, 5)), np.ones((5, 3))], [np.zeros(5), with_values(np.zeros(3), [1], [np.inf])]), V,
      r"biases\[1\] contains 1 infinite value among its 3 values"),
    C("set_parameters complex bias", lambda e: e.clf.set_parameters(
        [np.ones((3, 5)), np.ones((5, 3))], [np.zeros(5) + 1j, np.zeros(3)]), T,
      r"biases\[0\] must hold real numbers .* complex128"),
    C("set_parameters too few weights", lambda e: e.clf.set_parameters(
        [np.ones((3, 5))], [np.zeros(5), np.zeros(3)]), V,
      r"the network has 2 parametric layers; got 1 weights and 2 biases"),
    C("set_parameters one array for the list", lambda e: e.clf.set_parameters(
        np.ones((3, 5)), [np.zeros(5), np.zeros(3)]), T,
      r"weights must be a list with one array per parametric layer, got ndarray"),
    C("set_parameters array of another library", lambda e: e.clf.set_parameters(
        [e.foreign(np.ones((3, 5))), np.ones((5, 3))], [np.zeros(5), np.zeros(3)]), T,
      lambda e: rf"weights\[0\] is an array of {e.other} .* runs on {e.backend}"),
    # Trainer and Trainer.step
    C("Trainer negative lr", lambda e: xb.Trainer(e.clf, lr=-1), V,
      r"learning rate lr must be a positive finite number, got -1"),
    C("Trainer NaN weight_decay", lambda e: xb.Trainer(e.clf, weight_decay=float("nan")), V,
      r"weight_decay must be a finite number >= 0, got nan"),
    C("Trainer unknown optimizer", lambda e: xb.Trainer(e.clf, optimizer="adagrad"), V,
      r"unknown optimizer 'adagrad'; valid names are \['adam', 'sgd'\]"),
    C("Trainer momentum not a number", lambda e: xb.Trainer(e.clf, momentum="high"), T,
      r"momentum must be a finite number in \[0, 1\), got str 'high'"),
    C("Trainer.step feature count", lambda e: xb.Trainer(e.clf).step(np.ones((4, 5)), y[:4]), V,
      r"X has 5 features \(columns\) but the network's first layer Dense\(n_in=3, n_out=5\) expects 3"),
    C("Trainer.step one-hot width", lambda e: xb.Trainer(e.clf).step(X, np.eye(4)[y]), V,
      r"Y has 4 columns but the network has 3 outputs"),
    C("Trainer.step rows of X vs Y", lambda e: xb.Trainer(e.clf).step(X, y[:3]), V,
      r"X has 12 rows but Y has 3; they must match"),
    C("Trainer.step Y of another library", lambda e: xb.Trainer(e.reg).step(X, e.foreign(Y_REG)), T,
      lambda e: rf"Y is an array of {e.other}", "reg"),
    # targets that are None, masked arrays, flags that are not booleans (finding 7)
    C("fit Y is None", lambda e: e.clf.fit(X, None), T, r"^Y must be an array of numbers, got None$"),
    C("fit Y is None for BCE", lambda e: e.bce.fit(X, None), T, r"^Y must be an array of numbers, got None$",
      "bce"),
    C("fit Y is None for regression", lambda e: e.reg.fit(X, None), T,
      r"^Y must be an array of numbers, got None$", "reg"),
    C("loss Y is None", lambda e: e.clf.loss(X, None), T, r"^Y must be an array of numbers, got None$"),
    C("score Y is None", lambda e: e.reg.score(X, None), T, r"^Y must be an array of numbers, got None$",
      "reg"),
    C("fit Y_val is None", lambda e: e.clf.fit(X, y, validation_data=(X, None)), T,
      r"^Y_val must be an array of numbers, got None$"),
    C("fit masked X", lambda e: e.clf.fit(e.masked(X, (2, 1)), y), T,
      r"X is a NumPy masked array \(1 of its 36 values masked\); xpbackprop does not apply masks"),
    C("predict masked X", lambda e: e.clf.predict(e.masked(X, (slice(0, 3), 0))), T,
      r"X is a NumPy masked array \(3 of its 36 values masked\)"),
    C("fit masked Y", lambda e: e.reg.fit(X, e.masked(Y_REG, (0, 0))), T,
      r"Y is a NumPy masked array \(1 of its 24 values masked\)", "reg"),
    C("fit stop_on_zero_errors a string", lambda e: e.clf.fit(X, y, stop_on_zero_errors="x"), T,
      r"stop_on_zero_errors must be True or False, got str 'x'"),
    C("fit progress a string", lambda e: e.clf.fit(X, y, progress="x"), T,
      r"progress must be True or False, got str 'x'"),
    C("fit early_stopping a number", lambda e: e.clf.fit(X, y, early_stopping=2), T,
      r"early_stopping must be True or False, got int 2"),
    C("fit nesterov a string", lambda e: e.clf.fit(X, y, momentum=0.9, nesterov="yes"), T,
      r"nesterov must be True or False, got str 'yes'"),
    # a network too large for the machine's memory (finding 8): 2·10⁶ + 10⁶ + 10¹² + 10⁶ + 2·10⁶ + 2 values
    C("MLP too large for main memory", lambda e: e.huge(), V,
      r"the network's 1,000,006,000,002 parameters need 14\.6 TiB for parameters, gradients and optimizer "
      r"state \(4 x 1,000,006,000,002 x 4 bytes\), more than the .* of this machine's physical memory; to "
      r"build it anyway, set the environment variable XPBACKPROP_MEMORY_LIMIT"),
    # load's backend and device arguments
    C("load unknown backend", lambda e: xb.load(e.saved, backend="tensorflow"), V,
      r"unknown backend 'tensorflow'; valid backends are \['numpy', 'array_api_strict', 'torch'"),
    C("load backend of a wrong type", lambda e: xb.load(e.saved, backend=3), T,
      r"backend must be a name, one of \[.*'numpy'.*\], or an array module, got int 3"),
    C("load unknown device", lambda e: xb.load(e.saved, backend=e.backend, device="gpu"), V,
      lambda e: rf"device 'gpu' is not a device of backend '{e.backend}'"),
    # constructors that take the backend
    C("MLP unknown device", lambda e: xb.MLP([3, 4, 2], backend=e.backend, device="gpu"), V,
      lambda e: rf"device 'gpu' is not a device of backend '{e.backend}'"),
    C("MLP seed of a wrong type", lambda e: xb.MLP([3, 4, 2], backend=e.backend, seed="seven"), T,
      r"seed must be None, an integer >= 0 or a numpy\.random\.Generator, got str 'seven'"),
]

# --- rows that build nothing backend-specific (run once) --------------------------------------------

dense = xb.Dense(3, 5)

CONSTRUCTOR_CASES = [
    C("MLP size 0", lambda e: xb.MLP([3, 0, 2]), V,
      r"sizes must be at least two positive integers \[n0, \.\.\., nL\], got \[3, 0, 2\]"),
    C("MLP one size", lambda e: xb.MLP([3]), V, r"sizes must be at least two positive integers .* got \[3\]"),
    C("MLP float size", lambda e: xb.MLP([3, 2.5, 2]), T, r"positive integers .* got \[3, 2\.5, 2\]"),
    C("MLP sizes not a list", lambda e: xb.MLP(3), T, r"sizes must be a list .* got int 3"),
    C("MLP unknown hidden activation", lambda e: xb.MLP([3, 4, 2], hidden="swish"), V,
      r"unknown activation 'swish'; valid names are \[.*'relu'.*'tanh'.*\]"),
    C("MLP without hidden layers, unknown hidden activation", lambda e: xb.MLP([2, 3], hidden="swish"), V,
      r"unknown activation 'swish'; valid names are \[.*'relu'.*'tanh'.*\]"),
    # output and loss that do not belong together (finding 8)
    C("MLP identity output with cross-entropy", lambda e: xb.MLP([4, 8, 3], output="identity",
                                                                 loss="cross_entropy"), V,
      r"loss 'cross_entropy' takes the logarithm of the output, which must lie in \(0, 1\), but the "
      r"network's output activation is 'identity'; valid pairs: cross_entropy with softmax or sigmoid; "
      r"bce with softmax or sigmoid; 'mse' with any output"),
    C("MLP tanh output with BCE", lambda e: xb.MLP([4, 8, 1], output="tanh", loss="bce"), V,
      r"loss 'bce' .* output activation is 'tanh'; valid pairs"),
    C("MLP relu output with cross-entropy", lambda e: xb.MLP([4, 8, 3], output="relu"), V,
      r"output activation is 'relu'; valid pairs"),
    C("Sequential ending with Dense with cross-entropy",
      lambda e: xb.Sequential([xb.Dense(3, 4), xb.Activation("tanh"), xb.Dense(4, 2)], loss="cross_entropy"),
      V, r"output activation is 'identity'; valid pairs"),
    C("MLP hidden count", lambda e: xb.MLP([3, 4, 5, 2], hidden=["relu"]), V,
      r"hidden lists 1 activations but sizes \[3, 4, 5, 2\] has 2 hidden layers"),
    C("MLP output of a wrong type", lambda e: xb.MLP([3, 4, 2], output=3), T,
      r"activation must be a name, one of \[.*'softmax'.*\], got int 3"),
    C("MLP unknown loss", lambda e: xb.MLP([3, 4, 2], loss="hinge"), V,
      r"unknown loss 'hinge'; valid names are \[.*'bce'.*'cross_entropy'.*'mse'.*\]"),
    C("MLP loss of a wrong type", lambda e: xb.MLP([3, 4, 2], loss=42), T,
      r"loss must be a name, one of \[.*\], or an xb\.Loss, got int 42"),
    C("MLP unknown dtype", lambda e: xb.MLP([3, 4, 2], dtype="float16"), V,
      r"dtype must be 'float32' or 'float64', got 'float16'"),
    C("MLP unknown backend", lambda e: xb.MLP([3, 4, 2], backend="tensorflow"), V,
      r"unknown backend 'tensorflow'; valid backends are"),
    C("MLP backend of a wrong type", lambda e: xb.MLP([3, 4, 2], backend=None), T,
      r"backend must be a name, one of .* got NoneType None"),
    C("Sequential without layers", lambda e: xb.Sequential([]), V,
      r"a network needs at least one layer, got an empty list"),
    C("Sequential with a name for a layer", lambda e: xb.Sequential([dense, "tanh"]), T,
      r"layers\[1\] is 'tanh', not an xpbackprop layer"),
    C("Sequential Dense chain", lambda e: xb.Sequential([dense, xb.Activation("tanh"), xb.Dense(4, 2)]), V,
      r"layer 2 is Dense\(4, 2\) but the Dense layer before it gives 5 features"),
    C("Sequential of one layer, not a list", lambda e: xb.Sequential(dense), T,
      r"layers must be a list of xpbackprop layers, got Dense"),
    C("Dense zero inputs", lambda e: xb.Dense(0, 3), V, r"Dense n_in must be a positive integer, got 0"),
    C("Dense float outputs", lambda e: xb.Dense(3, 2.0), T,
      r"Dense n_out must be a positive integer, got float 2\.0"),
    C("Conv1D zero kernel", lambda e: xb.Conv1D(1, 2, 0), V,
      r"Conv1D kernel_size must be a positive integer, got 0"),
    C("Conv1D bool channels", lambda e: xb.Conv1D(True, 2, 3), T,
      r"Conv1D in_channels must be a positive integer, got bool True"),
    C("Activation unknown name", lambda e: xb.Activation("relu6"), V,
      r"unknown activation 'relu6'; valid names"),
    C("Activation None", lambda e: xb.Activation(None), T,
      r"activation must be a name, one of .* got NoneType None"),
    C("CrossEntropy unknown reduction", lambda e: xb.CrossEntropy(reduction="avg"), V,
      r"unknown reduction 'avg'; valid names are \['mean', 'sum'\]"),
    C("MSE reduction None", lambda e: xb.MSE(reduction=None), T,
      r"reduction must be a name, one of \['mean', 'sum'\], got NoneType None"),
    C("SGD momentum 1.5", lambda e: xb.SGD(momentum=1.5), V,
      r"momentum must be a finite number in \[0, 1\), got 1\.5"),
    C("SGD momentum string", lambda e: xb.SGD(momentum="0.9"), T, r"momentum .* got str '0\.9'"),
    C("Adam beta1 = 1", lambda e: xb.Adam(beta1=1.0), V,
      r"beta1 must be a finite number in \[0, 1\), got 1\.0"),
    C("Adam NaN eps", lambda e: xb.Adam(eps=float("nan")), V,
      r"eps must be a positive finite number, got nan"),
]


def _ids(cases):
    return [case.name for case in cases]


def test_the_table_is_large_and_its_names_distinct():
    names = _ids(BACKEND_CASES + CONSTRUCTOR_CASES)
    assert len(names) == len(set(names))
    assert len(names) >= 40


def _state(net):
    params = [(p.dtype, p.shape, p.tobytes()) for p in map(xb.to_numpy, net.parameters)]
    return params, net.rng.bit_generator.state


def _check(case: Case, env: Env) -> None:
    net = env.net(case.net)
    params_before, rng_before = _state(net)
    with pytest.raises(case.error) as info:
        case.call(env)
    pattern = case.match(env) if callable(case.match) else case.match
    message = str(info.value)
    assert isinstance(info.value, case.error)
    assert re.search(pattern, message), f"{case.name}: message {message!r} does not match {pattern!r}"
    params_after, rng_after = _state(net)
    assert params_after == params_before, f"{case.name}: the parameters changed"
    assert rng_after == rng_before, f"{case.name}: the network's generator state changed"


@pytest.fixture
def env(backend, tmp_path):
    return Env(backend, tmp_path)


@pytest.mark.parametrize("case", BACKEND_CASES, ids=_ids(BACKEND_CASES))
def test_bad_input_raises_the_documented_error_and_changes_nothing(env, case):
    _check(case, env)


@pytest.mark.parametrize("case", CONSTRUCTOR_CASES, ids=_ids(CONSTRUCTOR_CASES))
def test_bad_constructor_arguments_raise_the_documented_error(tmp_path, case):
    _check(case, Env("numpy", tmp_path))


def test_value_errors_and_type_errors_are_not_mixed_up():
    # the documented split: a wrong type is never a ValueError and a bad value never a TypeError
    for case in BACKEND_CASES + CONSTRUCTOR_CASES:
        assert case.error in (ValueError, TypeError)
        assert not (issubclass(case.error, ValueError) and issubclass(case.error, TypeError))


# --- good input of every accepted form still works ------------------------------------------------------


def _grads(net, X_, Y_):
    loss, dW, db = net.gradients(X_, Y_)
    return loss, [xb.to_numpy(g) for g in (*dW, *db)]


def _same(a, b):
    assert a[0] == pytest.approx(b[0], rel=1e-6)
    for g, h in zip(a[1], b[1]):
        np.testing.assert_allclose(g, h, rtol=1e-5, atol=1e-7)


def test_every_form_of_classification_targets_gives_the_same_gradients(backend, xp):
    net = xb.MLP([3, 5, 3], hidden="tanh", backend=backend, seed=2)
    reference = _grads(net, X, y)
    forms = {
        "int32 labels": y.astype(np.int32),
        "uint8 labels": y.astype(np.uint8),
        "whole float labels": y.astype(np.float64),
        "list of labels": y.tolist(),
        "one-hot float": np.eye(3)[y],
        "one-hot int": np.eye(3, dtype=np.int64)[y],
        "one-hot bool": np.eye(3, dtype=bool)[y],
        "labels of the backend": xp.asarray(y),
    }
    for Y_ in forms.values():
        _same(_grads(net, X, Y_), reference)
    assert net.score(X, y) == net.score(X, np.eye(3)[y])
    # soft targets (rows of probabilities) are cross-entropy targets too
    soft = np.full((N, 3), 1 / 3)
    assert np.isfinite(net.loss(X, soft))


def test_single_output_targets_may_be_one_dimensional(backend, xp):
    bce = xb.MLP([3, 4, 1], hidden="tanh", output="sigmoid", loss="bce", backend=backend, seed=3)
    reference = _grads(bce, X, Y_BIN[:, None].astype(np.float64))
    for Y_ in (Y_BIN, Y_BIN.astype(bool), Y_BIN.astype(np.float32), xp.asarray(Y_BIN), Y_BIN.tolist()):
        _same(_grads(bce, X, Y_), reference)
    mse = xb.MLP([3, 4, 1], hidden="tanh", output="identity", loss="mse", backend=backend, seed=4)
    target = Y_REG[:, 0]
    _same(_grads(mse, X, target), _grads(mse, X, target[:, None]))
    history = mse.fit(X, target, epochs=2, lr=0.05)
    assert history.epochs == 2


def test_host_and_own_library_inputs_are_accepted(backend, xp):
    net = xb.MLP([3, 5, 3], hidden="tanh", backend=backend, seed=5)
    expected = xb.to_numpy(net.forward(X))
    for X_ in (X, X.astype(np.float32), X.tolist(), xp.asarray(X.astype(np.float32))):
        np.testing.assert_allclose(xb.to_numpy(net.forward(X_)), expected, rtol=1e-5, atol=1e-6)
    # bool and integer inputs are numbers 0/1 and integers
    B = np.arange(N * 3).reshape(N, 3) % 2 == 0
    np.testing.assert_array_equal(xb.to_numpy(net.forward(B)), xb.to_numpy(net.forward(B.astype(np.float32))))
    Z = np.arange(N * 3).reshape(N, 3) - 10
    np.testing.assert_array_equal(xb.to_numpy(net.forward(Z)), xb.to_numpy(net.forward(Z.astype(np.float32))))
    # a whole training run with backend arrays, validation data as a list pair, a generator of callbacks
    seen = []
    history = net.fit(xp.asarray(X), xp.asarray(y), epochs=2, lr=0.1, validation_data=[X, y],
                      callbacks=(cb for cb in [lambda n, epoch, logs: seen.append(epoch)]))
    assert history.epochs == 2 and seen == [1, 2]


def test_numpy_input_to_a_torch_network():
    if "torch" not in xb.available_backends():
        pytest.skip("torch is not installed")
    import torch

    net = xb.MLP([3, 5, 3], hidden="tanh", backend="torch", seed=6)
    assert isinstance(net.forward(X), torch.Tensor)
    loss = net.fit(X, y, epochs=3, lr=0.1, batch_size=4).loss
    assert len(loss) == 3 and all(np.isfinite(loss))
    assert net.loss(X, y) == pytest.approx(net.loss(torch.asarray(X, dtype=torch.float32), torch.asarray(y)))


def test_numpy_scalars_are_accepted_as_hyper_parameters(backend):
    net = xb.MLP([np.int64(3), np.int32(5), 3], hidden="tanh", backend=backend, seed=np.int64(7))
    history = net.fit(X, y, epochs=np.int64(2), lr=np.float32(0.1), batch_size=np.int32(4),
                      momentum=np.float64(0.5), goal=np.float64(1e-9), seed=np.uint8(3))
    assert history.epochs == 2
    assert net.sizes == [3, 5, 3] and all(type(n) is int for n in net.sizes)


# --- the cost: one host read per public call, none in Trainer.step ----------------------------------------


def _count_reads(monkeypatch):
    reads = []
    original = xb.backend.to_numpy

    def counting(x):
        reads.append(1)
        return original(x)

    monkeypatch.setattr(xb.backend, "to_numpy", counting)
    return reads


def test_value_checks_read_back_once_per_call(backend, monkeypatch):
    net = xb.MLP([3, 5, 3], hidden="tanh", backend=backend, seed=8)
    reads = _count_reads(monkeypatch)
    for call in (lambda: net.forward(X), lambda: net.loss(X, y), lambda: net.gradients(X, y),
                 lambda: net.score(X, y), lambda: net.predict(X)):
        reads.clear()
        call()
        assert len(reads) == 1
    runs = []
    original_run = valuechecks.ValueChecks.run

    def counting_run(self):
        runs.append(len(reads))
        return original_run(self)

    monkeypatch.setattr(valuechecks.ValueChecks, "run", counting_run)
    reads.clear()
    net.fit(X, y, epochs=1, validation_data=(X, y))
    assert runs == [0]  # X, Y, X_val, Y_val checked together, before anything else was read
    with pytest.raises(ValueError, match="Y_val holds class labels outside"):  # the validation data too
        net.fit(X, y, epochs=1, validation_data=(X, y + 3))


def test_trainer_step_reads_nothing_back(backend, monkeypatch):
    net = xb.MLP([3, 5, 3], hidden="tanh", backend=backend, seed=9)
    trainer = xb.Trainer(net, lr=0.1)
    reads = _count_reads(monkeypatch)
    trainer.step(X, y)
    trainer.step(X, np.eye(3)[y])
    assert reads == []


def test_wide_inputs_with_nan_or_infinity_are_refused(backend, xp):
    """NaN and infinities are found and counted in a wide X, and a row whose sum overflows with
    every value finite is not an error."""
    net = xb.MLP([40, 5, 3], backend=backend, seed=4)
    wide = np.random.default_rng(4).normal(size=(12, 40))
    labels = np.arange(12) % 3
    with pytest.raises(ValueError, match=r"X contains 2 NaN among its 480 values, the first in row 3"):
        net.fit(with_values(wide, [(3, 7), (5, 39)], [np.nan] * 2), labels, epochs=1)
    message = r"X contains 2 infinite values among its 480 values, the first in row 6"
    with pytest.raises(ValueError, match=message):
        net.fit(with_values(wide, [(6, 0), (6, 1)], [np.inf, -np.inf]), labels, epochs=1)
    # finite in float32, but the row's sum is not
    huge = with_values(wide, [(2, 0), (2, 1), (2, 2)], [3e38] * 3)
    with np.errstate(over="ignore"):
        assert np.isfinite(huge.astype(np.float32)).all()
        assert not np.isfinite(huge.astype(np.float32).sum(axis=1)).all()
    assert net.forward(huge).shape == (12, 3)


# --- cross-entropy target rows for a softmax output sum to 1 -------------------------------------------


def _central_gradients(net, X_, Y_):
    """Central differences of ``net.loss`` (float64 network) for every parameter array."""
    params = [xb.to_numpy(p).astype(np.float64) for p in net.parameters]
    grads = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            values = []
            for sign in (1.0, -1.0):
                moved = [q.copy() for q in params]
                moved[k][i] += sign * 1e-6
                net.set_parameters(moved[0::2], moved[1::2])
                values.append(net.loss(X_, Y_))
            g[i] = (values[0] - values[1]) / 2e-6
        grads.append(g)
    net.set_parameters(params[0::2], params[1::2])
    return grads


def _assert_gradients_are_central_differences(net, X_, Y_):
    _, dW, db = net.gradients(X_, Y_)
    analytic = [g for pair in zip(dW, db) for g in pair]
    for k, (g, n) in enumerate(zip(analytic, _central_gradients(net, X_, Y_))):
        np.testing.assert_allclose(xb.to_numpy(g), n, rtol=1e-6, atol=1e-8, err_msg=f"parameter {k}")


def test_soft_cross_entropy_rows_are_accepted_and_give_the_gradient(backend):
    rng = np.random.default_rng(9)
    soft = rng.dirichlet(np.ones(3), size=N)  # rows summing to 1 up to float64 rounding
    net = xb.MLP([3, 4, 3], hidden="tanh", backend=backend, dtype="float64", seed=3)
    _assert_gradients_are_central_differences(net, X, soft)
    # float32 soft labels, in a float32 and in a float64 network: their rounding is tolerated
    for K, dtype in ((3, "float32"), (3, "float64"), (1000, "float32"), (1000, "float64")):
        soft32 = rng.dirichlet(np.ones(K), size=N).astype(np.float32)
        net = xb.MLP([3, 4, K], hidden="tanh", backend=backend, dtype=dtype, seed=3)
        assert np.isfinite(net.loss(X, soft32))


def test_cross_entropy_row_sums_are_held_to_the_documented_tolerance(backend):
    net = xb.MLP([3, 4, 3], hidden="tanh", backend=backend, dtype="float64", seed=3)
    tol = valuechecks.row_sum_tolerance(3)
    assert tol == 3 * 2.0**-20
    Y_ = np.eye(3)[y]
    net.loss(X, with_values(Y_, [(5, y[5])], [1 - tol / 2]))
    with pytest.raises(ValueError, match=r"the first, row 5, sums to 0\.99999"):
        net.loss(X, with_values(Y_, [(5, y[5])], [1 - 2 * tol]))


def test_cross_entropy_rows_of_any_sum_are_fine_without_a_softmax_output(backend):
    # the general chain rule dA = -Y / A is exact for any rows: nothing to refuse there
    rng = np.random.default_rng(10)
    Y_ = (rng.uniform(size=(N, 3)) < 0.5).astype(float)  # rows summing to 0 .. 3
    net = xb.MLP([3, 4, 3], hidden="tanh", output="sigmoid", loss="cross_entropy", backend=backend,
                 dtype="float64", seed=3)
    _assert_gradients_are_central_differences(net, X, Y_)


def test_float_labels_are_checked_before_any_rounding_to_the_network_dtype(backend):
    # 1.0000001 rounds to 1.0 in float32: the labels must be checked as given
    net = xb.MLP([2, 3, 3], dtype="float32", backend=backend, seed=0)
    X = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"not whole numbers, e\.g\. \[1\.0000001\] \(first in row 1\)"):
        net.loss(X, np.array([0, 1.0000001, 2]))
    expected = net.loss(X, np.array([0, 1, 2]))
    assert net.loss(X, np.array([0, 1.0, 2])) == expected


def test_half_precision_soft_labels_are_held_to_their_own_rounding(backend):
    # a half-precision model's softmax rows, rounded to float16: off by up to ~2^-11 from 1
    rng = np.random.default_rng(12)
    soft16 = rng.dirichlet(np.ones(10), size=N).astype(np.float16)
    assert np.abs(soft16.astype(np.float64).sum(axis=1) - 1).max() > valuechecks.row_sum_tolerance(10)
    net = xb.MLP([3, 4, 10], hidden="tanh", backend=backend, dtype="float32", seed=3)
    if backend in ("numpy", "torch", "jax", "dask"):  # libraries with a float16 (host data is converted)
        assert np.isfinite(net.loss(X, soft16))
    # the same rows in float32 are held to float32's tolerance: refused
    with pytest.raises(ValueError, match=r"must each sum to 1"):
        net.loss(X, soft16.astype(np.float32))
    assert valuechecks.row_sum_tolerance(10, float(np.finfo(np.float16).eps)) == 10 * 8 * 2.0**-10


# --- np.matrix, the memory limit, output and loss pairs ---------------------------------------------------


def test_a_numpy_matrix_is_taken_as_the_2d_array_it_holds(backend):
    # np.matrix failed with "shapes not aligned" (finding 7); its values are a plain 2-d array's
    plain = xb.MLP([3, 5, 3], hidden="tanh", backend=backend, dtype="float64", seed=1)
    as_matrix = xb.MLP([3, 5, 3], hidden="tanh", backend=backend, dtype="float64", seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # NumPy's notice on np.matrix itself
        M, Y = np.matrix(X), np.matrix(np.eye(3)[y])
    plain.fit(X, y, epochs=3, lr=0.1)
    as_matrix.fit(M, Y, epochs=3, lr=0.1)
    for a, b in zip(as_matrix.parameters, plain.parameters):
        np.testing.assert_array_equal(xb.to_numpy(a), xb.to_numpy(b))
    np.testing.assert_array_equal(xb.to_numpy(as_matrix.predict(M)), xb.to_numpy(plain.predict(X)))
    assert as_matrix.score(M, y) == plain.score(X, y)


def test_the_memory_limit_follows_the_environment_variable(monkeypatch):
    # MLP([10, 10, 2]): 10·10 + 10 + 10·2 + 2 = 132 parameters; 4 arrays of them in float32: 2112 bytes
    monkeypatch.setenv("XPBACKPROP_MEMORY_LIMIT", "2111")
    with pytest.raises(ValueError, match=r"132 parameters need 2\.1 KiB .* more than the 2\.1 KiB of "
                                         r"XPBACKPROP_MEMORY_LIMIT=2111"):
        xb.MLP([10, 10, 2])
    monkeypatch.setenv("XPBACKPROP_MEMORY_LIMIT", "2112")
    assert xb.MLP([10, 10, 2]).n_parameters == 132
    with pytest.raises(ValueError, match=r"4224 bytes|4\.1 KiB"):
        xb.MLP([10, 10, 2], dtype="float64")  # 8 bytes a value
    monkeypatch.setenv("XPBACKPROP_MEMORY_LIMIT", "off")
    assert xb.MLP([10, 10, 2], dtype="float64").n_parameters == 132
    monkeypatch.setenv("XPBACKPROP_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match=r"XPBACKPROP_MEMORY_LIMIT must be a positive number of bytes or "
                                         r"'off', got 'lots'"):
        xb.MLP([10, 10, 2])


@pytest.mark.skipif(not hasattr(os, "sysconf"), reason="the physical memory is read with os.sysconf")
def test_the_default_limit_is_the_physical_memory(monkeypatch):
    monkeypatch.delenv("XPBACKPROP_MEMORY_LIMIT", raising=False)
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    # the largest float32 network within it is built in name only (refused or not, nothing allocated)
    n_out = physical // (4 * 4 * 2001) + 1  # a [2000, n_out] network just over the limit
    with pytest.raises(ValueError, match=r"of this machine's physical memory") as info:
        xb.MLP([2000, int(n_out)], output="sigmoid", loss="bce")
    assert f"{(2000 * n_out + n_out):,} parameters" in str(info.value)


@pytest.mark.parametrize(("output", "loss"), [("softmax", "cross_entropy"), ("sigmoid", "cross_entropy"),
                                              ("sigmoid", "bce"), ("softmax", "bce"), ("identity", "mse"),
                                              ("tanh", "mse"), ("relu", "mse"), ("sigmoid", "mse")])
def test_the_valid_output_and_loss_pairs_are_accepted(backend, output, loss):
    net = xb.MLP([3, 4, 3], hidden="tanh", output=output, loss=loss, backend=backend, dtype="float64")
    assert net.output_activation == output and net.loss_fn.name == loss


def test_a_flatten_after_the_output_activation_keeps_its_range():
    net = xb.Sequential([xb.Conv1D(1, 2, 2), xb.Activation("sigmoid"), xb.Flatten()], loss="bce")
    assert net.loss_fn.name == "bce"
    with pytest.raises(ValueError, match=r"output activation is 'identity'"):
        xb.Sequential([xb.Conv1D(1, 2, 2), xb.Flatten()], loss="bce")
