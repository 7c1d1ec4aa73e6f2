"""Divergence, interruption and checkpoints: training never loses or corrupts its state.

References: runs of the same seeded training without the fault, step by step
through ``xb.Trainer`` (the public single-step API), compared bit for bit on
NumPy float64.
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import DATA, version1_writer

import xpbackprop as xb
from xpbackprop.optimizers import SGD


@pytest.fixture(autouse=True)
def _python_handles_ctrl_c():
    """Every test starts with Python's own Ctrl-C handler, as an interactive run has, whatever the
    process inherited (a shell starts background jobs with SIGINT ignored); the inherited one after."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, inherited)


def data(n=24, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, rng.integers(0, 3, size=n)


def net64(backend="numpy", seed=0):
    return xb.MLP([3, 5, 3], hidden="tanh", output="softmax", backend=backend, dtype="float64", seed=seed)


def host(net):
    return [xb.to_numpy(p) for p in net.parameters]


def assert_bitwise(actual, expected):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a, e)


# --- divergence --------------------------------------------------------------------------------


def regression(n=24, seed=3):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=(n, 2))


def linear_net(seed=0):
    return xb.MLP([3, 5, 2], hidden="identity", output="identity", loss="mse", dtype="float64", seed=seed)


def first_failure(lr, optimizer="sgd", batch=8, momentum=0.0):
    """Step through the unshuffled batches with ``Trainer.step``, reading each result; return the
    number of the first step whose loss or parameters are non-finite, and the parameters and
    optimizer state just before it."""
    X, Y = regression()
    net = linear_net()
    trainer = xb.Trainer(net, lr=lr, optimizer=optimizer, momentum=momentum)
    starts = list(range(0, len(X), batch))
    with np.errstate(all="ignore"):
        for k in range(1, 500):
            before = host(net), [xb.to_numpy(a) if hasattr(a, "shape") else a for a in trainer.state]
            s = starts[(k - 1) % len(starts)]
            loss = trainer.step(X[s : s + batch], Y[s : s + batch])
            if not (math.isfinite(float(loss)) and all(np.all(np.isfinite(p)) for p in host(net))):
                return k, before
    raise AssertionError("no divergence: choose a larger lr")


@pytest.mark.parametrize("lr", [0.5, 1.0, 20.0])
def test_divergence_names_epoch_and_step_and_keeps_the_last_finite_step(lr):
    failed, (params, _) = first_failure(lr)
    epoch, step = (failed - 1) // 3 + 1, (failed - 1) % 3 + 1   # 3 batches of 8 an epoch
    X, Y = regression()
    net = linear_net()
    with np.errstate(all="ignore"), pytest.raises(xb.DivergenceError) as info:
        net.fit(X, Y, epochs=50, lr=lr, batch_size=8, shuffle=False)
    assert (info.value.epoch, info.value.step) == (epoch, step)
    assert f"epoch {epoch}, step {step}" in str(info.value)
    assert "smaller learning rate" in str(info.value)
    assert_bitwise(host(net), params)


def test_divergence_keeps_the_optimizer_state_of_the_last_finite_step():
    failed, (params, state) = first_failure(1e200, optimizer="adam")
    X, Y = regression()
    net = linear_net()
    with np.errstate(all="ignore"), pytest.raises(xb.DivergenceError) as info:
        net.fit(X, Y, epochs=50, lr=1e200, batch_size=8, shuffle=False, optimizer="adam")
    assert (info.value.epoch - 1) * 3 + info.value.step == failed
    assert_bitwise(host(net), params)
    kept = info.value.trainer.state
    assert kept[-1] == state[-1]  # Adam's step count
    assert_bitwise([xb.to_numpy(a) for a in kept[:-1]], state[:-1])  # its moments


def test_divergence_with_momentum_keeps_the_last_finite_step():
    # SGD with momentum writes θ += v into the parameters themselves: fit's rollback point must
    # be a copy (Optimizer.overwrites_parameters); plain SGD and Adam above keep the arrays
    failed, (params, state) = first_failure(0.5, momentum=0.9)
    X, Y = regression()
    net = linear_net()
    with np.errstate(all="ignore"), pytest.raises(xb.DivergenceError) as info:
        net.fit(X, Y, epochs=50, lr=0.5, batch_size=8, shuffle=False, momentum=0.9)
    assert (info.value.epoch - 1) * 3 + info.value.step == failed
    assert failed > 3  # past the first epoch: the rollback point is an epoch's start
    assert_bitwise(host(net), params)
    assert_bitwise([xb.to_numpy(a) for a in info.value.trainer.state], state)


def test_on_divergence_warn_returns_the_history_so_far():
    failed, (params, _) = first_failure(0.5)
    X, Y = regression()
    net = linear_net()
    with np.errstate(all="ignore"), pytest.warns(xb.DivergenceWarning, match="diverged in epoch"):
        history = net.fit(X, Y, epochs=50, lr=0.5, batch_size=8, shuffle=False, on_divergence="warn")
    assert history.stop_reason == "diverged"
    assert history.epochs == (failed - 1) // 3
    assert_bitwise(host(net), params)


def test_a_real_overflow_is_caught_on_every_backend(backend):
    X, y = data()
    net = xb.MLP([3, 5, 3], hidden="relu", output="softmax", backend=backend, dtype="float32", seed=0)
    with np.errstate(all="ignore"), pytest.raises(xb.DivergenceError) as info:
        net.fit(X * 1e30, y, epochs=3, lr=1e30, batch_size=8, shuffle=False)
    assert info.value.epoch == 1
    assert all(np.all(np.isfinite(p)) for p in host(net))


def reference_steps(X, y, k, batch, lr):
    """Parameters after ``k`` plain SGD steps over the unshuffled batches, one Trainer.step at a time."""
    net = net64()
    trainer = xb.Trainer(net, lr=lr)
    starts = list(range(0, len(X), batch))
    for i in range(k):
        s = starts[i % len(starts)]
        trainer.step(X[s : s + batch], y[s : s + batch])
    return host(net), trainer


# --- interruption ----------------------------------------------------------------------------------


class CtrlC(SGD):
    """SGD that delivers a real SIGINT to this process during its ``at``-th update."""

    def __init__(self, at):
        super().__init__()
        self.at, self.calls = at, 0

    def apply(self, params, steps, arrays, scalars, /, *, xp):
        self.calls += 1
        if self.calls == self.at:
            os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of the update
        return super().apply(params, steps, arrays, scalars, xp=xp)


@pytest.mark.parametrize("at", [2, 3, 4])
def test_ctrl_c_keeps_the_last_completed_step_and_the_history(at):
    X, y = data()
    net = net64()
    with pytest.warns(xb.TrainingInterrupted):
        history = net.fit(X, y, epochs=5, lr=0.1, batch_size=8, shuffle=False, optimizer=CtrlC(at))
    assert history.stop_reason == "interrupted"
    # 3 steps an epoch: the step during which Ctrl-C came completes; an epoch cut short is not recorded
    assert history.epochs == at // 3
    expected, _ = reference_steps(X, y, at, 8, 0.1)
    assert_bitwise(host(net), expected)
    # the handler is gone afterwards
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("kind", ["function", "ignore", "default"])
def test_fit_puts_back_the_sigint_handler_it_found(kind):
    X, y = data()
    calls = []

    def own(signum, frame):
        calls.append(signum)

    handler = {"function": own, "ignore": signal.SIG_IGN, "default": signal.SIG_DFL}[kind]
    before = signal.signal(signal.SIGINT, handler)
    try:
        net64().fit(X, y, epochs=2, lr=0.1, batch_size=8)
        assert signal.getsignal(signal.SIGINT) == handler
        # and a Ctrl-C that came in the middle gives its handler back too
        if kind == "ignore":  # an ignored Ctrl-C stays ignored: fit does not take it over
            history = net64().fit(X, y, epochs=5, lr=0.1, batch_size=8, shuffle=False, optimizer=CtrlC(2))
            assert history.stop_reason == "epochs" and history.epochs == 5
        else:
            with pytest.warns(xb.TrainingInterrupted):
                net64().fit(X, y, epochs=5, lr=0.1, batch_size=8, shuffle=False, optimizer=CtrlC(2))
        assert signal.getsignal(signal.SIGINT) == handler
        if kind == "function":  # it is called again: fit does not swallow later Ctrl-Cs
            os.kill(os.getpid(), signal.SIGINT)
            assert calls == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, before)


def test_fit_leaves_alone_a_sigint_handler_it_could_not_put_back(monkeypatch):
    # signal.getsignal gives None for a handler installed outside Python: fit must not replace it
    installed = []
    monkeypatch.setattr(signal, "getsignal", lambda signum: None)
    monkeypatch.setattr(signal, "signal", lambda signum, handler: installed.append(handler))
    X, y = data()
    history = net64().fit(X, y, epochs=2, lr=0.1, batch_size=8)
    assert history.epochs == 2 and installed == []


def test_trainer_lr_set_between_steps_is_checked():
    X, y = data()
    trainer = xb.Trainer(net64(), lr=0.1)
    for bad, error in [(0.0, ValueError), (-0.1, ValueError), (float("nan"), ValueError), ("0.1", TypeError)]:
        with pytest.raises(error, match="learning rate lr"):
            trainer.lr = bad
        assert trainer.lr == 0.1
    trainer.lr = 0.05
    trainer.step(X[:8], y[:8])
    expected, _ = reference_steps(X, y, 1, 8, 0.05)
    assert_bitwise(host(trainer.net), expected)


def test_ctrl_c_after_a_divergence_in_the_same_epoch_still_rolls_back():
    # batches of 4: 6 steps an epoch; Ctrl-C comes during a step after the first non-finite one
    failed, (params, _) = first_failure(0.5, batch=4)
    epoch, step = (failed - 1) // 6 + 1, (failed - 1) % 6 + 1
    assert step < 6  # the divergence and the Ctrl-C in the same epoch
    X, Y = regression()
    net = linear_net()
    with np.errstate(all="ignore"), pytest.raises(xb.DivergenceError) as info:
        net.fit(X, Y, epochs=5, lr=0.5, batch_size=4, shuffle=False, optimizer=CtrlC(failed + 1))
    assert (info.value.epoch, info.value.step) == (epoch, step)
    assert_bitwise(host(net), params)


# --- checkpoints -------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd_nesterov", "adam"])
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, optimizer):
    X, y = data(n=30)
    kwargs = dict(epochs=9, lr=0.05, batch_size=7, shuffle=True, seed=11, schedule="adaptive",
                  n_iter_no_change=2, validation_data=data(n=10, seed=5))
    kwargs.update({"sgd_nesterov": {"momentum": 0.9, "nesterov": True},
                   "adam": {"optimizer": "adam"}}[optimizer])
    whole = net64()
    whole_history = whole.fit(X, y, **kwargs)

    path = tmp_path / "run.ckpt.npz"
    first = net64()
    stop_after_4 = lambda net, epoch, logs: epoch == 4  # noqa: E731
    first.fit(X, y, checkpoint=path, checkpoint_every=2, callbacks=[stop_after_4], **kwargs)
    assert path.exists()

    resumed = net64(seed=99)  # other initial weights: everything comes from the file
    history = resumed.fit(X, y, resume=path, **kwargs)
    assert_bitwise(host(resumed), host(whole))
    assert history.loss == whole_history.loss
    assert history.val_loss == whole_history.val_loss
    assert history.lr == whole_history.lr


def test_resume_after_ctrl_c_mid_epoch(tmp_path):
    X, y = data(n=30)
    kwargs = dict(epochs=6, lr=0.05, batch_size=7, shuffle=True, seed=2)
    whole = net64()
    whole.fit(X, y, **kwargs)
    path = tmp_path / "run.npz"
    first = net64()
    with pytest.warns(xb.TrainingInterrupted):
        first.fit(X, y, checkpoint=path, optimizer=CtrlC(12), **kwargs)  # 5 steps an epoch: in epoch 3
    resumed = net64()
    resumed.fit(X, y, resume=path, **kwargs)
    assert_bitwise(host(resumed), host(whole))


def test_resuming_a_run_that_stopped_on_its_goal_trains_no_further(tmp_path):
    X, y = data(n=30)
    kwargs = dict(epochs=60, lr=0.5, batch_size=8, goal=0.9, shuffle=True, seed=4)
    whole = net64()
    whole_history = whole.fit(X, y, **kwargs)
    assert whole_history.stop_reason == "goal" and whole_history.epochs < 60
    # the checkpoint of every epoch: the last one is the stopping epoch's
    path = tmp_path / "c.npz"
    first = net64()
    first.fit(X, y, checkpoint=path, **kwargs)
    resumed = net64(seed=7)
    history = resumed.fit(X, y, resume=path, **kwargs)
    assert history.stop_reason == "goal"
    assert history.loss == whole_history.loss
    assert_bitwise(host(resumed), host(whole))
    # with a lower goal the same file goes on training
    lower = net64(seed=7).fit(X, y, resume=path, **{**kwargs, "goal": 0.5})
    assert lower.epochs > whole_history.epochs


def test_early_stopping_checkpoint_holds_the_restored_best_weights(tmp_path):
    X, y = data(n=30)
    kwargs = dict(epochs=80, lr=0.5, batch_size=8, validation_data=data(n=12, seed=9), early_stopping=True,
                  patience=3, shuffle=False)
    whole = net64()
    whole_history = whole.fit(X, y, **kwargs)
    assert whole_history.stop_reason == "early_stopping"
    path = tmp_path / "c.npz"
    net64().fit(X, y, checkpoint=path, checkpoint_every=1000, **kwargs)  # only the stopping epoch's
    resumed = net64(seed=3)
    history = resumed.fit(X, y, resume=path, **kwargs)
    assert history.stop_reason == "early_stopping" and history.epochs == whole_history.epochs
    assert_bitwise(host(resumed), host(whole))


def test_checkpoint_arguments_are_checked_before_training(tmp_path):
    X, y = data()
    net = net64()
    before = host(net)
    with pytest.raises(ValueError, match="does not exist"):
        net.fit(X, y, epochs=2, checkpoint=tmp_path / "missing" / "c.npz")
    with pytest.raises(ValueError, match="is a folder"):
        net.fit(X, y, epochs=2, checkpoint=tmp_path)
    with pytest.raises(TypeError, match="checkpoint must be a file path"):
        net.fit(X, y, epochs=2, checkpoint=3.5)
    with pytest.raises(TypeError, match="resume must be a file path"):
        net.fit(X, y, epochs=2, resume=["c.npz"])

    class Odd(SGD):
        def config(self):
            return {"name": "odd", "when": object()}

    with pytest.raises(TypeError, match="cannot be written to a checkpoint"):
        net.fit(X, y, epochs=2, optimizer=Odd(), checkpoint=tmp_path / "c.npz")
    assert_bitwise(host(net), before)
    assert not (tmp_path / "c.npz").exists()


@pytest.mark.parametrize("seed, shuffle, recorded", [(np.int64(5), True, 5),
                                                     (np.random.default_rng(5), True, "generator"),
                                                     (5, np.True_, 5)])
def test_checkpoints_take_numpy_seeds_and_flags(tmp_path, seed, shuffle, recorded):
    X, y = data()
    path = tmp_path / "c.npz"
    history = net64().fit(X, y, epochs=2, lr=0.1, batch_size=8, seed=seed, shuffle=shuffle, checkpoint=path)
    assert history.epochs == 2
    with np.load(path) as f:
        fit_args = json.loads(str(f["meta"]))["fit"]
    assert fit_args["seed"] == recorded and fit_args["shuffle"] is True
    # and a resumed run with the same arguments (a plain int seed) continues from it
    if recorded == 5:
        whole = net64()
        whole.fit(X, y, epochs=4, lr=0.1, batch_size=8, seed=5)
        resumed = net64(seed=1)
        resumed.fit(X, y, epochs=4, lr=0.1, batch_size=8, seed=5, resume=path)
        assert_bitwise(host(resumed), host(whole))


def test_checkpoint_is_written_atomically(tmp_path, monkeypatch):
    X, y = data()
    path = tmp_path / "c.npz"
    net64().fit(X, y, epochs=2, lr=0.1, checkpoint=path)
    before = path.read_bytes()

    def broken_savez(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        net64().fit(X, y, epochs=2, lr=0.1, checkpoint=path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]


def test_resume_refuses_another_network_or_other_settings(tmp_path):
    X, y = data()
    path = tmp_path / "c.npz"
    net64().fit(X, y, epochs=2, lr=0.1, batch_size=8, checkpoint=path)
    other = xb.MLP([3, 6, 3], hidden="tanh", dtype="float64")
    with pytest.raises(ValueError, match="different network"):
        other.fit(X, y, epochs=4, lr=0.1, batch_size=8, resume=path)
    with pytest.raises(ValueError, match="batch_size"):
        net64().fit(X, y, epochs=4, lr=0.1, batch_size=4, resume=path)
    # the learning rate too: the file's rate would otherwise be used without a word
    with pytest.raises(ValueError, match=r"lr: file 0\.1, now 0\.01"):
        net64().fit(X, y, epochs=4, lr=0.01, batch_size=8, resume=path)
    with pytest.raises(xb.ModelFileError):
        bad = tmp_path / "bad.npz"
        bad.write_bytes(b"not a checkpoint")
        net64().fit(X, y, epochs=4, lr=0.1, resume=bad)


@pytest.mark.parametrize(("first", "then", "match"), [
    ({}, {"validation_data": data(n=8, seed=4)}, r"validation: file False, now True"),
    ({"validation_data": data(n=8, seed=4)}, {}, r"validation: file True, now False"),
    ({}, {"stop_on_zero_errors": True}, r"stop_on_zero_errors: file False, now True"),
])
def test_resume_refuses_a_run_that_adds_or_drops_validation_or_error_counts(tmp_path, first, then, match):
    # the history would hold validation values or error counts for some epochs only
    X, y = data()
    path = tmp_path / "c.npz"
    net64().fit(X, y, epochs=2, lr=0.1, checkpoint=path, **first)
    net = net64(seed=5)
    before = host(net)
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, epochs=4, lr=0.1, resume=path, **then)
    assert_bitwise(host(net), before)


# --- damaged checkpoints ------------------------------------------------------------------------------


def _checkpoint(tmp_path, **fit):
    """A checkpoint of net64 after 2 epochs (momentum: one optimizer state array per parameter)."""
    X, y = data()
    path = tmp_path / "c.npz"
    net64().fit(X, y, epochs=2, lr=0.1, batch_size=8, momentum=0.9, checkpoint=path,
                validation_data=data(n=8, seed=4), **fit)
    with np.load(path) as f:
        return path, {k: f[k] for k in f.files}


def _resume_fails_and_changes_nothing(path, match):
    X, y = data()
    net = net64(seed=5)
    before, rng_state = host(net), net.rng.bit_generator.state
    with pytest.raises(xb.ModelFileError, match=match):
        net.fit(X, y, epochs=4, lr=0.1, batch_size=8, momentum=0.9, resume=path,
                validation_data=data(n=8, seed=4))
    assert_bitwise(host(net), before)
    assert net.rng.bit_generator.state == rng_state


def _edited_meta(edit):
    def change(content):
        meta = json.loads(str(content["meta"]))
        edit(meta)
        content["meta"] = np.asarray(json.dumps(meta))
    return change


def _edited_meta_text(edit):
    """``meta`` rewritten by ``edit(text)``: JSON that ``json.dumps`` would not write (NaN, Infinity)."""
    def change(content):
        content["meta"] = np.asarray(edit(str(content["meta"])))
    return change


def _history(key, values, dtype=None):
    def change(content):
        content[f"history_{key}"] = np.asarray(values, dtype=dtype)
    return change


DAMAGED = {
    "meta without fit": (_edited_meta(lambda m: m.pop("fit")), r"meta lacks 'fit'"),
    "negative epochs": (_edited_meta(lambda m: m.update(epochs_done=-1)), r"meta\['epochs_done'\] is -1"),
    "history of other length": (_history("loss", [1.0, 1.0, 1.0]),
                                r"3 entries in history\['loss'\] for 2 epochs done"),
    "unknown history entry": (_edited_meta(lambda m: m["history"].update(epochs=3)),
                              r"history has unknown entries \['epochs'\]"),
    "text in the losses": (_history("loss", ["a", "b"]), r"history_loss is a <U1 array of shape \(2,\)"),
    "generator state": (_edited_meta(lambda m: m["rng"].update(bit_generator="MT19937")),
                        r"meta\['rng'\] is not a PCG64 state"),
    "schedule rate": (_edited_meta(lambda m: m["schedule"].update(lr=0)), r"schedule\['lr'\] is 0"),
    "state layout": (_edited_meta(lambda m: m.update(state_layout=[None])), r"optimizer state laid out as"),
    "meta not JSON": (lambda c: c.update(meta=np.asarray("{epochs")), r"meta is not valid JSON"),
    "meta a number": (lambda c: c.update(meta=np.asarray(3.0)), r"meta is not a JSON string"),
    "state array shape": (lambda c: c.update(state_0=np.zeros((2, 2))),
                          r"optimizer state arrays of shapes \[\(2, 2\)"),
    "state array of text": (lambda c: c.update(state_1=np.asarray(["a"])),
                            r"state_1 must hold finite floats, got dtype <U1"),
    "NaN parameter": (lambda c: c["param_0"].__setitem__((0, 0), np.nan), r"param_0 must hold finite floats"),
    "parameter shape": (lambda c: c.update(param_1=np.zeros(7)), r"param_1 has shape \(7,\)"),
    "huge state count": (lambda c: c.update(n_state=np.asarray(10**9)), r"n_state is 1000000000, outside"),
    "missing state array": (lambda c: c.pop("state_3"), r"missing 'state_3'"),
    "some best weights": (lambda c: c.update(n_best=np.asarray(1)), r"n_best is 1"),
    "newer version": (lambda c: c.update(checkpoint_version=np.asarray(3)), r"checkpoint version 3 is not"),
    "no meta": (lambda c: c.pop("meta"), r"missing 'meta'"),
    # the history against the epochs done (finding 3)
    "no learning rates beside the losses": (_history("lr", []), r"0 entries in history\['lr'\] for 2 epochs"),
    "validation losses of other length": (_history("val_loss", [0.5]),
                                          r"1 entries in history\['val_loss'\] for 2 epochs done "
                                          r"\(expected 2\)"),
    "error counts without stop_on_zero_errors": (_history("errors", [3, 2], "int64"),
                                                 r"2 entries in history\['errors'\] .* \(expected 0\)"),
    "negative error count": (_history("errors", [3, -2], "int64"),
                             r"history\['errors'\] is .* not a list of counts"),
    "history in meta as well": (_edited_meta(lambda m: m["history"].update(loss=[1.0, 1.0])),
                                r"meta\['history'\] holds 'loss', which a version 2 checkpoint keeps in"),
    # non-finite JSON numbers, which Python's reader accepts
    "schedule rate Infinity": (_edited_meta_text(lambda t: t.replace('"lr": 0.1', '"lr": Infinity')),
                               r"meta holds a non-finite number: Infinity is not a JSON number"),
    "best loss NaN": (_edited_meta(lambda m: m.update(best_loss=float("nan"))),
                      r"meta holds a non-finite number: NaN"),
    "schedule rate overflowing": (_edited_meta_text(lambda t: t.replace('"lr": 0.1', '"lr": 1e400')),
                                  r"the number 1e400 is not finite"),
    # the schedule, the counters and the best weights against the run (finding 3)
    "schedule rate 1e300": (_edited_meta(lambda m: m["schedule"].update(lr=1e300)),
                            r"the constant schedule's state .*'lr': 1e\+300.* is not the .*'lr': 0\.1.* it "
                            r"reaches from lr=0\.1 in 2 epochs of 24 samples"),
    "schedule bad epochs": (_edited_meta(lambda m: m["schedule"].update(bad_epochs=4)),
                            r"the constant schedule's state"),
    "fractional samples": (_edited_meta(lambda m: m.update(samples_seen=47.5)),
                           r"meta\['samples_seen'\] is 47\.5, not a count of samples"),
    "samples seen": (_edited_meta(lambda m: m.update(samples_seen=47)),
                     r"47 samples seen in 2 epochs of 24 samples"),
    "best loss not the history's": (_edited_meta(lambda m: m.update(best_loss=0.001)),
                                    r"best validation loss 0\.001 at epoch 1 is not the history's"),
    "best epoch beyond the epochs": (_edited_meta(lambda m: m["history"].update(best_epoch=3)),
                                     r"history\['best_epoch'\] is 3, not an epoch number in \[1, 2\]"),
    "best loss without best weights": (lambda c: [c.update(n_best=np.asarray(0))]
                                       + [c.pop(f"best_{i}") for i in range(4)],
                                       r"and 0 best weight arrays do not belong together"),
    "unknown stop reason": (_edited_meta(lambda m: m["history"].update(stop_reason="sideways")),
                            r"history\['stop_reason'\] is 'sideways', not one of"),
    "generator state of a float": (_edited_meta(lambda m: m["rng"]["state"].update(state=0.5)),
                                   r"meta\['rng'\] is not a PCG64 state"),
    "generator flag true": (_edited_meta(lambda m: m["rng"].update(has_uint32=True)),
                            r"meta\['rng'\] is not a PCG64 state \(it reads back as"),
    "a rate in the history": (_history("lr", [0.1, 0.2]),
                              r"history\['lr'\]\[1\] is 0\.2; the constant schedule gives 0\.1"),
    "NaN loss in the history": (_history("loss", [np.nan, 1.0]), r"history\['loss'\] holds NaN"),
    "negative loss in the history": (_history("val_loss", [0.5, -1.0]),
                                     r"history\['val_loss'\] holds negative losses"),
    "an accuracy above 1": (_history("val_score", [0.5, 1.5]),
                            r"history\['val_score'\] holds values no accuracy takes"),
    # members the format does not know (finding 5)
    "unknown member": (lambda c: c.update(extra=np.zeros(3)),
                       r"members a version 2 checkpoint does not have: \['extra'\]"),
    "state array beyond its count": (lambda c: c.update(state_4=np.zeros(3)),
                                     r"does not have: \['state_4'\]"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_damaged_checkpoint_is_refused_before_anything_changes(tmp_path, case):
    path, content = _checkpoint(tmp_path)
    change, match = DAMAGED[case]
    change(content)
    np.savez(path, **content)
    _resume_fails_and_changes_nothing(path, match)


def _npy_header_only(descr, shape):
    """An .npy member's bytes: a header claiming ``descr`` and ``shape``, and no data."""
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode("latin1")
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


@pytest.mark.parametrize(("member", "descr", "shape", "match"), [
    ("meta", "<U16777217", (), r"meta is 16777217 characters long, over the limit of 16777216"),
    ("state_0", "<f8", (2**20, 2**12), r"state_0 claims shape \(1048576, 4096\), more than 2\*\*31 elements"),
])
def test_checkpoint_sizes_are_bounded_before_reading(tmp_path, member, descr, shape, match):
    path, content = _checkpoint(tmp_path)
    with zipfile.ZipFile(path, "w") as zf:
        for key, value in content.items():
            buffer = io.BytesIO()
            np.save(buffer, value)
            zf.writestr(f"{key}.npy", _npy_header_only(descr, shape) if key == member else buffer.getvalue())
    tracemalloc.start()
    try:
        _resume_fails_and_changes_nothing(path, match)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**24  # nothing of the claimed size was allocated


def test_randomly_damaged_checkpoints_resume_or_raise_model_file_error(tmp_path):
    """Bytes overwritten, truncated or inserted at random (300 seeded cases): resuming either
    works (the damage hit nothing that matters) or raises ModelFileError, changing nothing."""
    path, _ = _checkpoint(tmp_path)
    good = path.read_bytes()
    rng = np.random.default_rng(0)
    X, y = data()
    outcomes = {"resumed": 0, "refused": 0}
    for _ in range(300):
        raw = bytearray(good)
        where = int(rng.integers(len(raw)))
        kind = rng.integers(3)
        if kind == 0:
            raw[where : where + 4] = rng.integers(0, 256, 4).astype(np.uint8).tobytes()
        elif kind == 1:
            del raw[where:]
        else:
            raw[where:where] = rng.integers(0, 256, int(rng.integers(1, 9))).astype(np.uint8).tobytes()
        path.write_bytes(bytes(raw))
        net = net64(seed=5)
        before = host(net)
        try:
            history = net.fit(X, y, epochs=3, lr=0.1, batch_size=8, momentum=0.9, resume=path,
                              validation_data=data(n=8, seed=4))
        except xb.ModelFileError:
            outcomes["refused"] += 1
            assert_bitwise(host(net), before)
        else:
            outcomes["resumed"] += 1
            assert history.epochs == 3 and all(np.isfinite(w).all() for w in host(net))
    assert outcomes["refused"] > 200, outcomes


def test_early_stopping_counts_from_the_start_while_no_validation_loss_is_finite():
    # validation inputs near float32's limit overflow the forward pass: every val_loss is NaN, no
    # epoch is "best", and training still stops after `patience` epochs, keeping its weights.
    # Every sign pattern of ±3e38: for each hidden unit some row sends it to +inf, and an infinite
    # logit makes the softmax NaN
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)).astype(np.float32), rng.integers(0, 3, 20)
    signs = np.array([[(k >> i) & 1 for i in range(3)] for k in range(8)]) * 2.0 - 1.0
    Xv, yv = (signs * 3e38).astype(np.float32), rng.integers(0, 3, 8)

    def net():
        return xb.MLP([3, 4, 3], hidden="relu", dtype="float32", seed=0)

    stopped = net()
    with np.errstate(all="ignore"):
        history = stopped.fit(X, y, epochs=30, lr=0.1, validation_data=(Xv, yv), early_stopping=True,
                              patience=3)
    assert not any(math.isfinite(v) for v in history.val_loss)
    assert history.stop_reason == "early_stopping" and history.epochs == 3 and history.best_epoch is None
    plain = net()
    plain.fit(X, y, epochs=3, lr=0.1)
    assert_bitwise(host(stopped), host(plain))


def test_an_epoch_whose_summed_loss_overflows_is_not_a_divergence():
    # float32 batch losses of ~3.6e37 times 4 rows each: their float32 sum overflows, while every
    # step's loss and every parameter stays finite; the epoch's loss is then the steps' mean
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    Y = np.full((40, 1), 6.0e18, dtype=np.float32)

    def net():
        return xb.MLP([3, 4, 1], hidden="tanh", output="identity", loss="mse", seed=0, dtype="float32")

    fitted = net()
    with np.errstate(all="ignore"):
        history = fitted.fit(X, Y, epochs=1, lr=1e-30, batch_size=4, shuffle=False)
    stepped = net()
    trainer = xb.Trainer(stepped, lr=1e-30)
    losses = [float(trainer.step(X[i : i + 4], Y[i : i + 4])) for i in range(0, 40, 4)]
    assert all(math.isfinite(v) for v in losses) and sum(v * 4 for v in losses) > 3.5e38
    assert history.stop_reason == "epochs"
    assert history.loss[0] == pytest.approx(math.fsum(losses) / 10, rel=1e-12)
    assert_bitwise(host(fitted), host(stepped))


def test_a_trainer_refuses_a_network_that_moved_to_another_backend():
    X, y = data()
    net = net64()
    trainer = xb.Trainer(net, lr=0.1)
    trainer.step(X[:8], y[:8])
    net.to("array_api_strict")
    before = host(net)
    with pytest.raises(ValueError, match=r"moved to array_api_strict \(net\.to\) after this Trainer"):
        trainer.step(X[:8], y[:8])
    assert_bitwise(host(net), before)
    xb.Trainer(net, lr=0.1).step(X[:8], y[:8])  # a new one takes it


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
def test_a_checkpoint_from_before_the_rate_was_recorded_still_resumes(tmp_path, schedule):
    # files of the earlier layout lack lr, weight_decay and the schedule's settings in meta['fit']
    X, y = data(n=30)
    kwargs = dict(epochs=6, lr=0.05, batch_size=7, shuffle=True, seed=2, schedule=schedule)
    whole = net64()
    whole.fit(X, y, **kwargs)
    path = tmp_path / "c.npz"
    stop_after_3 = lambda net, epoch, logs: epoch == 3  # noqa: E731
    net64().fit(X, y, checkpoint=path, callbacks=[stop_after_3], **kwargs)
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    fit_args = json.loads(str(content["meta"]))["fit"]
    recorded = {"constant": set(), "invscaling": {"power_t"}, "adaptive": {"n_iter_no_change", "tol"}}
    assert {"lr", "weight_decay"} | recorded[schedule] <= set(fit_args)
    assert not {"power_t", "n_iter_no_change", "tol"} - recorded[schedule] & set(fit_args)
    _edited_meta(lambda m: [m["fit"].pop(k, None) for k in ("lr", "weight_decay", "power_t",
                                                             "n_iter_no_change", "tol")])(content)
    np.savez(path, **content)
    resumed = net64(seed=9)
    resumed.fit(X, y, resume=path, **kwargs)
    assert_bitwise(host(resumed), host(whole))


def test_the_last_epoch_is_checkpointed_and_a_resumed_run_drops_the_old_stop_reason(tmp_path):
    X, y = data(n=30)
    kwargs = dict(lr=0.05, batch_size=7, shuffle=True, seed=2)
    path = tmp_path / "c.npz"
    net64().fit(X, y, epochs=7, checkpoint=path, checkpoint_every=5, **kwargs)
    with np.load(path) as f:
        assert json.loads(str(f["meta"]))["epochs_done"] == 7  # not 5: the run's last epoch is written
    # a run stopped by a callback at epoch 3 goes on when resumed: its later checkpoints do not
    # carry "callback" on
    stop_at_3 = lambda net, epoch, logs: epoch == 3  # noqa: E731
    net64().fit(X, y, epochs=9, checkpoint=path, callbacks=[stop_at_3], **kwargs)
    history = net64().fit(X, y, epochs=5, resume=path, checkpoint=path, **kwargs)
    assert history.stop_reason == "epochs" and history.epochs == 5
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
    assert meta["epochs_done"] == 5 and meta["history"]["stop_reason"] == ""


# --- checkpoints of version 1 (files written before the history moved into arrays) -----------------


V1 = version1_writer()


@pytest.mark.parametrize("name", ["checkpoint_adam_v1.npz", "checkpoint_sgd_v1.npz"])
def test_a_version_1_checkpoint_still_resumes_to_the_uninterrupted_run(backend, name):
    # the reference: the whole run, trained now; the file: the same run stopped early by an earlier
    # version. Resumed, it ends with the whole run's weights, history and rates.
    X, y, _, _ = V1.version1_data()
    whole, kwargs, stopped = V1.version1_runs()[name]
    with np.load(DATA / name) as f:
        assert int(f["checkpoint_version"]) == 1 and "history_loss" not in f.files
        assert json.loads(str(f["meta"]))["epochs_done"] == stopped
    whole_history = whole.fit(X, y, **kwargs)
    resumed = xb.MLP(**{k: v for k, v in _mlp_args(whole).items()}, backend=backend, seed=99)
    history = resumed.fit(X, y, resume=DATA / name, **kwargs)
    if backend == "numpy":
        assert_bitwise(host(resumed), host(whole))
    else:
        for a, e in zip(host(resumed), host(whole)):
            np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-12)
    assert history.epochs == whole_history.epochs and history.stop_reason == whole_history.stop_reason
    assert history.errors == whole_history.errors and len(history.val_loss) == len(whole_history.val_loss)
    np.testing.assert_allclose(history.lr, whole_history.lr, rtol=1e-12)


def _mlp_args(net):
    config = net.config()
    return {"sizes": config["sizes"], "hidden": config["hidden"], "output": config["output"],
            "dtype": config["dtype"]}


def _v1_edited(tmp_path, name, edit=None, edit_text=None):
    """The version-1 checkpoint ``name`` with its meta changed by ``edit(meta)`` or ``edit_text(text)``."""
    with np.load(DATA / name) as f:
        content = {k: f[k] for k in f.files}
    text = str(content["meta"])
    if edit is not None:
        meta = json.loads(text)
        edit(meta)
        text = json.dumps(meta)  # as version 1 wrote it: NaN and Infinity allowed
    if edit_text is not None:
        text = edit_text(text)
    content["meta"] = np.asarray(text)
    path = tmp_path / name
    np.savez(path, **content)
    return path


def _adam_t(value):
    return lambda m: m["state_layout"].__setitem__(-1, value)


# the damaged checkpoints found accepted (or changing the weights before failing) in the earlier layout
V1_DAMAGED = {
    "no learning rates beside the losses": ("checkpoint_adam_v1.npz", lambda m: m["history"].update(lr=[]),
                                            r"0 entries in history\['lr'\] for 5 epochs done"),
    "validation losses of other length": ("checkpoint_adam_v1.npz",
                                          lambda m: m["history"]["val_loss"].pop(),
                                          r"4 entries in history\['val_loss'\] for 5 epochs done"),
    "error counts of other length": ("checkpoint_sgd_v1.npz", lambda m: m["history"]["errors"].pop(),
                                     r"3 entries in history\['errors'\] for 4 epochs done"),
    "error counts without validation counts' partner": (
        "checkpoint_adam_v1.npz", lambda m: m["history"].update(errors=[1, 2]),
        r"2 entries in history\['errors'\] for 5 epochs done \(expected 0 or 5\)"),
    "schedule rate Infinity": ("checkpoint_adam_v1.npz", lambda m: m["schedule"].update(lr=math.inf),
                               r"schedule\['lr'\] is inf, not a positive finite number"),
    "schedule rate 1e300": ("checkpoint_sgd_v1.npz", lambda m: m["schedule"].update(lr=1e300),
                            r"the invscaling schedule's state .* is not the .* it reaches from lr=0\.2"),
    "Adam step count NaN": ("checkpoint_adam_v1.npz", _adam_t(math.nan), r"state_layout"),
    "Adam step count -1": ("checkpoint_adam_v1.npz", _adam_t(-1),
                           r"Adam's step count is -1, but 5 epochs of 4 steps make 20"),
    "Adam step count 0.5": ("checkpoint_adam_v1.npz", _adam_t(0.5), r"Adam's step count is 0\.5"),
    "Adam step count Infinity": ("checkpoint_adam_v1.npz", _adam_t(math.inf), r"state_layout"),
    "Adam step count 3": ("checkpoint_adam_v1.npz", _adam_t(3), r"Adam's step count is 3, but"),
    "NaN best loss": ("checkpoint_adam_v1.npz", lambda m: m.update(best_loss=math.nan), r"best_loss"),
    "adaptive schedule's best": ("checkpoint_adam_v1.npz", lambda m: m["schedule"].update(best=0.1),
                                 r"the adaptive schedule's state"),
    "more errors than samples": ("checkpoint_sgd_v1.npz", lambda m: m["history"]["errors"].__setitem__(0, 50),
                                 r"history\['errors'\] counts more than the 20 samples"),
    "stopped on zero errors with errors": ("checkpoint_sgd_v1.npz",
                                           lambda m: m["history"].update(stop_reason="zero_errors"),
                                           r"the run stopped on zero errors, but its last epoch had errors"),
    "a rate of another schedule": ("checkpoint_sgd_v1.npz", lambda m: m["history"]["lr"].__setitem__(2, 0.2),
                                   r"history\['lr'\]\[2\] is 0\.2; the invscaling schedule gives 0\.0312"),
}


@pytest.mark.parametrize("case", sorted(V1_DAMAGED))
def test_a_damaged_version_1_checkpoint_is_refused_before_anything_changes(backend, tmp_path, case):
    name, edit, match = V1_DAMAGED[case]
    path = _v1_edited(tmp_path, name, edit)
    X, y, _, _ = V1.version1_data()
    template, kwargs, _ = V1.version1_runs()[name]
    net = xb.MLP(**_mlp_args(template), backend=backend, seed=5)
    before, rng_state = host(net), net.rng.bit_generator.state
    with pytest.raises(xb.ModelFileError, match=match) as info:
        net.fit(X, y, resume=path, **kwargs)
    assert "damaged checkpoint" in str(info.value) and str(path) in str(info.value)
    assert_bitwise(host(net), before)
    assert net.rng.bit_generator.state == rng_state


@pytest.mark.parametrize(("t", "match"), [("NaN", r"non-finite number: NaN"),
                                          ("Infinity", r"non-finite number: Infinity"),
                                          ("-1", r"Adam's step count is -1, but 2 epochs of 3 steps make 6"),
                                          ("0.5", r"Adam's step count is 0\.5"),
                                          ("5", r"Adam's step count is 5, but")])
def test_adams_step_count_is_checked_against_the_steps_done(tmp_path, t, match):
    X, y = data()
    path = tmp_path / "c.npz"
    kwargs = dict(lr=0.01, batch_size=8, optimizer="adam")
    net64().fit(X, y, epochs=2, checkpoint=path, **kwargs)
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    meta = json.loads(str(content["meta"]))
    assert meta["state_layout"][-1] == 6  # 2 epochs of 24 rows in batches of 8
    nulls = "null, " * 8
    text = str(content["meta"]).replace(f'"state_layout": [{nulls}6]', f'"state_layout": [{nulls}{t}]')
    content["meta"] = np.asarray(text)
    np.savez(path, **content)
    net = net64(seed=5)
    before = host(net)
    with pytest.raises(xb.ModelFileError, match=match):
        net.fit(X, y, epochs=4, resume=path, **kwargs)
    assert_bitwise(host(net), before)


def test_a_long_history_is_written_as_arrays_and_read_back(tmp_path):
    # 200 000 epochs of history: as JSON text (the earlier layout) over the 2**24 characters resume
    # reads; as arrays, a few megabytes that resume reads. Written by the checkpoint writer fit uses,
    # with the state of a run of that length (2 samples an epoch, constant rate).
    from xpbackprop import checkpoint

    X, y = data(n=2)
    net = net64()
    epochs = 200_000
    history = xb.History(loss=list(np.linspace(1.0, 0.5, epochs)), lr=[0.1] * epochs,
                         val_loss=list(np.linspace(1.0, 2.0, epochs)), val_score=[0.5] * epochs, best_epoch=1)
    trainer = xb.Trainer(net, lr=0.1)
    schedule = xb.optimizers.Schedule("constant", 0.1)
    fit_args = {"batch_size": None, "shuffle": True, "seed": None, "optimizer": trainer.optimizer.config(),
                "schedule": "constant", "n": 2, "lr": 0.1, "weight_decay": 0.0, "validation": True,
                "stop_on_zero_errors": False}
    path = tmp_path / "long.npz"
    checkpoint.write(path, net, trainer, schedule, net.rng, history, (1.0, net.parameters), epochs,
                     2 * epochs, fit_args)
    assert path.stat().st_size < 5 * 8 * epochs + 2**16
    resumed = net64(seed=1)
    result = resumed.fit(X, y, epochs=epochs + 1, lr=0.1, resume=path, validation_data=data(n=2, seed=1))
    assert result.epochs == epochs + 1
    assert result.loss[:epochs] == history.loss and result.val_loss[:epochs] == history.val_loss


# --- paths that cannot be written (finding 4) --------------------------------------------------------


def _trained_alone(epochs, **kwargs):
    """The parameters of the same run without a checkpoint: what a failed write must keep."""
    X, y = data()
    net = net64()
    net.fit(X, y, epochs=epochs, **kwargs)
    return host(net)


@pytest.mark.parametrize("where", ["/proc/xpbackprop-checkpoint.npz", "/sys/xpbackprop-checkpoint.npz"])
def test_a_checkpoint_where_even_root_cannot_write_is_refused_before_training(where):
    if not os.path.isdir(os.path.dirname(where)):
        pytest.skip(f"{os.path.dirname(where)} does not exist on this system")
    X, y = data()
    net = net64()
    before = host(net)
    with pytest.raises(OSError) as info:
        net.fit(X, y, epochs=3, lr=0.1, checkpoint=where)
    assert where in str(info.value)
    assert_bitwise(host(net), before)


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC, errno.EACCES])
def test_an_injected_error_creating_the_file_is_raised_before_training(tmp_path, monkeypatch, code):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    X, y = data()
    net = net64()
    before = host(net)
    path = tmp_path / "c.npz"
    with pytest.raises(OSError) as info:
        net.fit(X, y, epochs=3, lr=0.1, checkpoint=path)
    assert info.value.errno == code and str(path) in str(info.value)
    assert os.strerror(code) in str(info.value)
    assert_bitwise(host(net), before)
    assert os.listdir(tmp_path) == []


def test_a_full_disk_found_by_the_probe_is_raised_before_training(tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    X, y = data()
    net = net64()
    before = host(net)
    with pytest.raises(OSError, match=r"No space left on device") as info:
        net.fit(X, y, epochs=3, lr=0.1, checkpoint=tmp_path / "c.npz")
    assert info.value.errno == errno.ENOSPC and str(tmp_path / "c.npz") in str(info.value)
    assert_bitwise(host(net), before)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("fail_at", [1, 3])
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_write_that_fails_later_names_the_path_and_loses_nothing(tmp_path, monkeypatch, fail_at, code):
    # the disk fills up after the probe: the write of epoch `fail_at` fails
    real_savez, calls = np.savez, []

    def savez(file, *args, **kwds):
        calls.append(1)
        if len(calls) == fail_at:
            file.write(b"PK\x03\x04 part of a checkpoint")
            raise OSError(code, os.strerror(code))
        return real_savez(file, *args, **kwds)

    monkeypatch.setattr(np, "savez", savez)
    X, y = data()
    path = tmp_path / "c.npz"
    net = net64()
    with pytest.raises(OSError) as info:
        net.fit(X, y, epochs=5, lr=0.1, batch_size=8, checkpoint=path)
    error = info.value
    assert error.errno == code and str(path) in str(error) and os.strerror(code) in str(error)
    # nothing lost: the trained weights stay, the history rides on the error
    assert_bitwise(host(net), _trained_alone(fail_at, lr=0.1, batch_size=8))
    reference = net64()
    expected = reference.fit(X, y, epochs=fail_at, lr=0.1, batch_size=8)
    assert error.history.loss == expected.loss and error.history.epochs == fail_at
    assert error.history.stop_reason == "write_failed"
    # the checkpoint before the failure stays whole; no temporary file is left
    assert sorted(os.listdir(tmp_path)) == (["c.npz"] if fail_at > 1 else [])


# --- files that are not regular, temporary files of killed writers (finding 7) -------------------------


def _run_python(code, timeout=60):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=Path(__file__).parent)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX feature")
@pytest.mark.parametrize("call", ["xb.load(p)", "xb.saved_classes(p)",
                                  "xb.MLP([3, 5, 3]).fit([[0.0, 0, 0]], [0], resume=p)"])
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path, call):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    code = (f"import xpbackprop as xb\np = {str(fifo)!r}\ntry:\n    {call}\n"
            "except xb.ModelFileError as e:\n    print('refused:', e)\n")
    try:
        result = _run_python(code, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{call} on a named pipe was still waiting after 60 s")
    assert result.returncode == 0, result.stderr
    assert f"refused: {fifo}: a named pipe, not a" in result.stdout


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this system")
def test_a_device_is_refused_before_it_is_read():
    with pytest.raises(xb.ModelFileError, match=r"/dev/zero: a character device, not a model file"):
        xb.load("/dev/zero")


WRITER = """
import sys, time
sys.path.insert(0, {root!r})
from xpbackprop.atomic import write_atomically
def slow(f):
    f.write(b"partial")
    f.flush()
    print("writing", flush=True)
    time.sleep(600)
write_atomically({target!r}, slow)
"""


def _start_writer(target):
    """A process writing ``target``, stopped inside its write (its temporary file exists)."""
    code = WRITER.format(root=str(Path(__file__).parent.parent), target=str(target))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    return proc


def test_temporary_files_of_killed_saves_are_removed_and_a_live_writers_are_not(tmp_path):
    target = tmp_path / "m.npz"
    writers = [_start_writer(target) for _ in range(4)]  # each keeps the others' files: they run
    live = writers.pop()
    for proc in writers:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    try:
        leftovers = sorted(p.name for p in tmp_path.iterdir())
        assert len(leftovers) == 4  # three killed writers' and the live one's, none of them the file
        assert all(name.startswith(".m.npz.xpbackprop-") for name in leftovers)
        xb.save(net64(), target)
        after = sorted(p.name for p in tmp_path.iterdir())
        # the killed writers' files are gone; the live writer's (its pid in the name) is kept
        assert after == sorted(["m.npz", *(n for n in leftovers if f"-{live.pid}-" in n)])
        assert len(after) == 2
    finally:
        live.kill()
        live.wait()
        live.stdout.close()
    xb.save(net64(), target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]
