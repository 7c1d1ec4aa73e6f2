"""Optimizers and learning-rate schedules: update rules step by step.

References: the update rules written out in NumPy float64 (scikit-learn's SGD
formulas, Kingma & Ba's Adam), ``torch.optim.SGD`` / ``torch.optim.Adam`` fed the
same gradients, and learning-rate sequences computed by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import RTOL, assert_close

import xpbackprop as xb
from xpbackprop import fast
from xpbackprop.backend import enable_float64
from xpbackprop.optimizers import OPTIMIZERS, SCHEDULES, SGD, Schedule, get_optimizer

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (4,), (4, 2), (2,)]  # W1, b1, W2, b2
STEPS = 6


def _problem(seed=0):
    """Initial parameters and one gradient list per step (float64, host)."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in SHAPES]
    grads = [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]
    return params, grads


def _to(xp, arrays):
    """Fresh backend copies: an optimizer may update parameters, state and gradients in place."""
    enable_float64(xp)
    return [xp.asarray(np.array(a, dtype=np.float64, copy=True)) for a in arrays]


def _run(xp, opt, params, grads, lr):
    """Apply ``opt`` for every gradient list; returns the parameters after each step (host)."""
    p = _to(xp, params)
    state = opt.init_state(p, xp=xp)
    out = []
    for g in grads:
        p, state = opt.update(p, _to(xp, g), state, lr, xp=xp)
        out.append([xb.to_numpy(a) for a in p])
    return out


def sgd_reference(params, grads, lr, momentum=0.0, nesterov=False):
    """scikit-learn's SGDOptimizer: v <- mu v - lr g; p <- p + v, or p <- p + mu v - lr g (Nesterov)."""
    p = [a.copy() for a in params]
    v = [np.zeros_like(a) for a in params]
    out = []
    for g in grads:
        v = [momentum * vi - lr * gi for vi, gi in zip(v, g)]
        if nesterov:
            p = [pi + momentum * vi - lr * gi for pi, vi, gi in zip(p, v, g)]
        else:
            p = [pi + vi for pi, vi in zip(p, v)]
        out.append(p)
    return out


def adam_reference(params, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
    p = [a.copy() for a in params]
    m = [np.zeros_like(a) for a in params]
    v = [np.zeros_like(a) for a in params]
    out = []
    for t, g in enumerate(grads, 1):
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi**2 for vi, gi in zip(v, g)]
        p = [pi - lr * (mi / (1 - b1**t)) / (np.sqrt(vi / (1 - b2**t)) + eps) for pi, mi, vi in zip(p, m, v)]
        out.append(p)
    return out


def torch_reference(make_optimizer, params, grads):
    """Run a torch.optim optimizer in float64 with the given gradients."""
    tp = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in params]
    opt = make_optimizer(tp)
    out = []
    for g in grads:
        for t, gi in zip(tp, g):
            t.grad = torch.tensor(gi, dtype=torch.float64)
        opt.step()
        out.append([t.detach().numpy().copy() for t in tp])
    return out


def _compare(actual, expected, rtol, what):
    for step, (a_step, e_step) in enumerate(zip(actual, expected, strict=True), 1):
        for i, (a, e) in enumerate(zip(a_step, e_step, strict=True)):
            assert_close(a, e, rtol, f"{what}, step {step}, parameter {i}")


# --- SGD ------------------------------------------------------------------------------------


SGD_CASES = {"plain": (0.0, False), "momentum": (0.9, False), "nesterov": (0.9, True)}


@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_update_rule_step_by_step(xp, case):
    momentum, nesterov = SGD_CASES[case]
    params, grads = _problem()
    actual = _run(xp, xb.SGD(momentum=momentum, nesterov=nesterov), params, grads, lr=0.1)
    _compare(actual, sgd_reference(params, grads, 0.1, momentum, nesterov), RTOL["float64"], f"SGD {case}")


@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_matches_torch_optim_sgd(xp, case):
    """With a constant rate, torch's v <- mu v + g; p <- p - lr v (Nesterov: p <- p - lr (g + mu v))
    is scikit-learn's rule with v_sklearn = -lr v_torch, so both give the same parameters."""
    momentum, nesterov = SGD_CASES[case]
    params, grads = _problem(1)
    actual = _run(xp, xb.SGD(momentum=momentum, nesterov=nesterov), params, grads, lr=0.05)
    expected = torch_reference(
        lambda tp: torch.optim.SGD(tp, lr=0.05, momentum=momentum, nesterov=nesterov), params, grads
    )
    _compare(actual, expected, 1e-10, f"SGD {case} vs torch")


def test_plain_sgd_by_hand(xp):
    # p = 1, g = 2, lr = 0.25: p <- 1 - 0.25 * 2 = 0.5, then 0.5 - 0.25 * 2 = 0
    actual = _run(xp, xb.SGD(), [np.array([1.0])], [[np.array([2.0])]] * 2, lr=0.25)
    assert [float(a[0][0]) for a in actual] == [0.5, 0.0]


def test_momentum_by_hand(xp):
    # mu = 0.5, lr = 0.1, g = 1 each step, p0 = 0
    # step 1: v = -0.1, p = -0.1;  step 2: v = 0.5 (-0.1) - 0.1 = -0.15, p = -0.25
    # Nesterov: step 1: p = 0 + 0.5 (-0.1) - 0.1 = -0.15;  step 2: p = -0.15 + 0.5 (-0.15) - 0.1 = -0.325
    g = [[np.array([1.0])]] * 2
    classical = _run(xp, xb.SGD(momentum=0.5), [np.array([0.0])], g, lr=0.1)
    nesterov = _run(xp, xb.SGD(momentum=0.5, nesterov=True), [np.array([0.0])], g, lr=0.1)
    assert [float(a[0][0]) for a in classical] == pytest.approx([-0.1, -0.25], rel=1e-15)
    assert [float(a[0][0]) for a in nesterov] == pytest.approx([-0.15, -0.325], rel=1e-15)


OPTIMIZER_CASES = {
    "sgd": lambda: xb.SGD(),
    "momentum": lambda: xb.SGD(momentum=0.9),
    "nesterov": lambda: xb.SGD(momentum=0.9, nesterov=True),
    "adam": lambda: xb.Adam(),
}


@pytest.mark.parametrize("case", list(OPTIMIZER_CASES))
def test_an_optimizer_that_says_it_keeps_its_parameters_leaves_them_unchanged(xp, case):
    # fit keeps the arrays themselves as its rollback point when overwrites_parameters is False:
    # then no update may write into them (checked over several steps, two rates)
    params, grads = _problem(7)
    opt = OPTIMIZER_CASES[case]()
    p = _to(xp, params)
    state = opt.init_state(p, xp=xp)
    for k, g in enumerate(grads):
        kept = [xb.to_numpy(a).copy() for a in p]
        new, state = opt.update(p, _to(xp, g), state, 0.1 if k % 2 else 0.05, xp=xp)
        changed = any(not np.array_equal(xb.to_numpy(a), b) for a, b in zip(p, kept))
        if not opt.overwrites_parameters:
            assert not changed, f"{type(opt).__name__} wrote into the parameters it was given"
        elif fast.table_name(xp) == "numpy":  # NumPy's variant updates in place: θ += v
            assert changed  # the flag is not set without need
        p = new


def test_an_optimizer_of_ones_own_is_assumed_to_overwrite_its_parameters():
    class Halve(xb.Optimizer):
        def update(self, params, grads, state, lr, /, *, xp):
            for p in params:
                p *= 0.5
            return params, state

    assert Halve().overwrites_parameters


# --- Adam -----------------------------------------------------------------------------------


def test_adam_update_rule_step_by_step(xp):
    params, grads = _problem(2)
    actual = _run(xp, xb.Adam(), params, grads, lr=0.01)
    _compare(actual, adam_reference(params, grads, 0.01), RTOL["float64"], "Adam")


@pytest.mark.parametrize(("beta1", "beta2", "eps"), [(0.9, 0.999, 1e-8), (0.5, 0.8, 1e-3)])
def test_adam_matches_torch_optim_adam(xp, beta1, beta2, eps):
    params, grads = _problem(3)
    actual = _run(xp, xb.Adam(beta1=beta1, beta2=beta2, eps=eps), params, grads, lr=0.01)
    expected = torch_reference(
        lambda tp: torch.optim.Adam(tp, lr=0.01, betas=(beta1, beta2), eps=eps), params, grads
    )
    _compare(actual, expected, 1e-10, "Adam vs torch")


def test_adam_first_step_by_hand(xp):
    # t = 1: m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps) = lr * sign(g) (up to eps)
    actual = _run(xp, xb.Adam(eps=1e-8), [np.array([1.0, 1.0])], [[np.array([3.0, -0.5])]], lr=0.1)
    expected = [1.0 - 0.1 * 3.0 / (3.0 + 1e-8), 1.0 + 0.1 * 0.5 / (0.5 + 1e-8)]
    np.testing.assert_allclose(actual[0][0], expected, rtol=1e-15)


@pytest.mark.parametrize(("beta1", "beta2", "eps"), [(0.9, 0.999, 1e-8), (0.5, 0.8, 1e-3)])
def test_adam_with_eps_on_v_is_sklearns_adam(xp, beta1, beta2, eps):
    """``eps_on="v"``: scikit-learn's AdamOptimizer (ε added to √v, the bias corrections in the rate)
    fed the same gradients; ``fast`` variants of ``adam_step`` are not used for it."""
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

    params, grads = _problem(4)
    actual = _run(xp, xb.Adam(beta1, beta2, eps, eps_on="v"), params, grads, lr=0.01)
    theirs = [a.copy() for a in params]
    reference = AdamOptimizer(theirs, 0.01, beta1, beta2, eps)
    for step, g in enumerate(grads):
        reference.update_params(theirs, [gi.copy() for gi in g])
        _compare([actual[step]], [[a.copy() for a in theirs]], RTOL["float64"], f"step {step + 1}")
    # and ε's place matters: the default form ends elsewhere
    default = _run(xp, xb.Adam(beta1, beta2, eps), params, grads, lr=0.01)
    assert max(np.max(np.abs(a - b)) for a, b in zip(default[-1], actual[-1])) > 1e-9


def test_adam_eps_on_is_checked_and_recorded():
    with pytest.raises(ValueError, match=r"unknown eps_on 'w'; valid names are \['v_hat', 'v'\]"):
        xb.Adam(eps_on="w")
    assert xb.Adam(eps_on="v").config()["eps_on"] == "v" and "eps_on" not in xb.Adam().config()
    settings = {k: v for k, v in xb.Adam(eps_on="v").config().items() if k != "name"}
    assert get_optimizer("adam", **settings).eps_on == "v"


def test_optimizer_state_stays_on_the_backend(xp):
    params = _to(xp, _problem()[0])
    for opt in (xb.SGD(momentum=0.9), xb.Adam()):
        state = opt.init_state(params, xp=xp)
        new, state = opt.update(params, _to(xp, _problem()[1][0]), state, 0.1, xp=xp)
        for a in [*new, *(s for s in state if not isinstance(s, int))]:
            assert xb.backend.array_namespace(a) is xp


# --- schedules, by hand -----------------------------------------------------------------------


def test_constant_schedule():
    s = Schedule("constant", 0.3)
    assert [s.epoch_end(loss, 10 * k) for k, loss in enumerate([5.0, 6.0, 7.0, 8.0], 1)] == [0.3] * 4


def test_invscaling_schedule():
    # eta_t = eta / (t + 1)^power_t with t the number of samples seen: 100 samples per epoch
    s = Schedule("invscaling", 0.8, power_t=0.5)
    lrs = [s.epoch_end(1.0, 100 * k) for k in (1, 2, 3)]
    assert lrs == pytest.approx([0.8 / math.sqrt(101), 0.8 / math.sqrt(201), 0.8 / math.sqrt(301)], rel=1e-15)
    assert s.lr == lrs[-1]


def test_adaptive_schedule():
    """eta / 5 once n_iter_no_change = 2 epochs in a row fail to improve on the best loss by tol = 0.1."""
    s = Schedule("adaptive", 1.0, n_iter_no_change=2, tol=0.1)
    losses = [1.0, 0.8, 0.75, 0.72, 0.5, 0.45, 0.6, 0.3, 0.29, 0.295, 0.28]
    # best before / improves by > 0.1? / bad epochs in a row / lr after the epoch
    # 1.0   inf  yes 0 1 | 0.8  1.0 yes 0 1 | 0.75 0.8 no 1 1 | 0.72 0.75 no 2 -> 1/5, reset
    # 0.5  0.72 yes 0 .2 | 0.45 0.5 no  1 .2 | 0.6  0.45 no 2 -> 1/25, reset
    # 0.3  0.45 yes 0 .04 | 0.29 0.3 no 1 .04 | 0.295 0.29 no 2 -> 1/125 | 0.28 0.29 no 1
    expected = [1, 1, 1, 0.2, 0.2, 0.2, 0.04, 0.04, 0.04, 0.008, 0.008]
    assert [s.epoch_end(loss, 0) for loss in losses] == pytest.approx(expected, rel=1e-15)


def test_adaptive_schedule_through_fit_uses_the_epoch_losses(xp, backend):
    """history.lr follows the adaptive rule applied, by hand, to history.loss."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 3)), rng.integers(0, 3, size=12)
    net = xb.MLP([3, 4, 3], hidden="tanh", backend=backend, dtype="float64", seed=0)
    # a rate so large that the loss oscillates: some epochs do not improve
    history = net.fit(X, y, epochs=25, lr=8.0, schedule="adaptive", n_iter_no_change=2, tol=1e-3)
    lr, best, bad, expected = 8.0, math.inf, 0, []
    for loss in history.loss:
        expected.append(lr)
        bad = bad + 1 if loss > best - 1e-3 else 0
        best = min(best, loss)
        if bad >= 2:
            lr, bad = lr / 5, 0
    assert history.lr == pytest.approx(expected, rel=1e-15)
    assert min(history.lr) < 8.0  # the rule fired: the test can fail


# --- weight decay -------------------------------------------------------------------------


def test_weight_decay_is_the_gradient_of_the_l2_penalty(xp, backend):
    """One full-batch SGD step with weight_decay = wd moves the parameters by -lr times the gradient of
    loss + wd/2 * sum ||W||^2 (weights only), checked with central differences in float64."""
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(12, 3)), rng.integers(0, 3, size=12)
    wd, lr = 0.3, 0.1
    net = xb.MLP([3, 4, 3], hidden="tanh", backend=backend, dtype="float64", seed=5)
    start = [xb.to_numpy(p).astype(np.float64) for p in net.parameters]

    def objective(flat):
        net.set_parameters(flat[0::2], flat[1::2])
        return net.loss(X, y) + wd / 2 * sum(np.sum(flat[i] ** 2) for i in (0, 2))

    numeric = []
    h = 1e-6
    for i, p in enumerate(start):
        g = np.zeros_like(p)
        for j in np.ndindex(p.shape):
            up = [q.copy() for q in start]
            down = [q.copy() for q in start]
            up[i][j] += h
            down[i][j] -= h
            g[j] = (objective(up) - objective(down)) / (2 * h)
        numeric.append(g)
    net.set_parameters(start[0::2], start[1::2])
    net.fit(X, y, epochs=1, lr=lr, weight_decay=wd)
    step = [(s - xb.to_numpy(p)) / lr for s, p in zip(start, net.parameters)]
    for i, (a, e) in enumerate(zip(step, numeric)):
        assert_close(a, e, 1e-7, f"parameter {i}")
    # the penalty's share is wd * W on weights and nothing on biases
    net.set_parameters(start[0::2], start[1::2])
    net.fit(X, y, epochs=1, lr=lr)
    plain = [(s - xb.to_numpy(p)) / lr for s, p in zip(start, net.parameters)]
    for i in (0, 2):
        assert_close(step[i] - plain[i], wd * start[i], 1e-9, f"decay of W{i // 2 + 1}")
    for i in (1, 3):
        assert_close(step[i], plain[i], 1e-12, f"bias {i // 2 + 1} is not decayed")


# --- bad arguments -------------------------------------------------------------------------


def _net_and_data(backend):
    rng = np.random.default_rng(0)
    return (xb.MLP([3, 4, 3], hidden="tanh", backend=backend, dtype="float64", seed=0),
            rng.normal(size=(12, 3)), rng.integers(0, 3, size=12))


def test_unknown_optimizer_name_lists_the_valid_names(xp, backend):
    net, X, y = _net_and_data(backend)
    with pytest.raises(ValueError, match="rmsprop") as info:
        net.fit(X, y, epochs=1, optimizer="rmsprop")
    for name in OPTIMIZERS:
        assert repr(name) in str(info.value)
    with pytest.raises(ValueError, match=r"\['adam', 'sgd'\]"):
        get_optimizer("adagrad")


def test_unknown_schedule_name_lists_the_valid_names(xp, backend):
    net, X, y = _net_and_data(backend)
    with pytest.raises(ValueError, match="cosine") as info:
        net.fit(X, y, epochs=1, schedule="cosine")
    for name in SCHEDULES:
        assert repr(name) in str(info.value)
    assert set(SCHEDULES) == {"constant", "invscaling", "adaptive"}


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"lr": -0.1}, "lr"),
        ({"lr": 0.0}, "lr"),
        ({"lr": math.inf}, "lr"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum": 1.5}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"batch_size": 0}, "batch_size"),
        ({"n_iter_no_change": 0, "schedule": "adaptive"}, "n_iter_no_change"),
    ],
)
def test_bad_training_arguments_raise_value_error(xp, backend, options, match):
    net, X, y = _net_and_data(backend)
    before = [xb.to_numpy(p).copy() for p in net.parameters]
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, **{"epochs": 2, **options})
    for a, b in zip(net.parameters, before):
        np.testing.assert_array_equal(xb.to_numpy(a), b)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: xb.SGD(momentum=1.0), "momentum"),
        (lambda: xb.Adam(beta1=1.0), "beta1"),
        (lambda: xb.Adam(beta2=-0.5), "beta2"),
        (lambda: xb.Adam(eps=0.0), "eps"),
        (lambda: Schedule("constant", -1.0), "lr"),
        (lambda: Schedule("step", 0.1), "constant"),
    ],
)
def test_bad_optimizer_and_schedule_constructors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "options",
    [{}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}, {"weight_decay": 0.03},
     {"optimizer": "adam"}],
    ids=["sgd", "momentum", "nesterov", "weight_decay", "adam"],
)
def test_trainer_steps_equal_the_update_written_from_net_gradients(xp, backend, options):
    # Trainer.step computes SGD's gradients already multiplied by lr (on the output delta);
    # the reference applies the written update rules to net.gradients, which are unscaled.
    enable_float64(xp)
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 5)), rng.integers(0, 3, 40)
    net = xb.MLP([5, 7, 6, 3], hidden=["relu", "tanh"], backend=backend, dtype="float64", seed=2)
    ref = xb.MLP([5, 7, 6, 3], hidden=["relu", "tanh"], backend="numpy", dtype="float64", seed=2)
    lr, mu, wd = 0.2, options.get("momentum", 0.0), options.get("weight_decay", 0.0)
    trainer = xb.Trainer(net, lr=lr, **options)
    p = [xb.to_numpy(a) for a in ref.parameters]
    v = [np.zeros_like(a) for a in p]
    m2 = [np.zeros_like(a) for a in p]
    for t in range(1, 5):
        trainer.step(X, y)
        ref.set_parameters(p[0::2], p[1::2])
        _, dW, db = ref.gradients(X, y)
        g = [a for pair in zip(dW, db) for a in pair]
        g = [gi + wd * pi if i % 2 == 0 else gi for i, (gi, pi) in enumerate(zip(g, p))]
        if options.get("optimizer") == "adam":
            v = [0.9 * vi + 0.1 * gi for vi, gi in zip(v, g)]
            m2 = [0.999 * si + 0.001 * gi * gi for si, gi in zip(m2, g)]
            p = [pi - lr * (vi / (1 - 0.9**t)) / (np.sqrt(si / (1 - 0.999**t)) + 1e-8)
                 for pi, vi, si in zip(p, v, m2)]
        else:
            v = [mu * vi - lr * gi for vi, gi in zip(v, g)]
            if options.get("nesterov"):
                p = [pi + mu * vi - lr * gi for pi, vi, gi in zip(p, v, g)]
            else:
                p = [pi + vi for pi, vi in zip(p, v)]
        for got, want in zip(net.parameters, p):
            assert_close(xb.to_numpy(got), want, rtol=1e-12)


def test_momentum_beside_an_optimizer_object_says_where_it_goes():
    net = xb.MLP([2, 3, 2], seed=0)
    for opt in (SGD(), xb.optimizers.Adam()):
        with pytest.raises(ValueError, match=r"set on an optimizer object itself \(xb\.SGD\(momentum=0\.9"):
            xb.Trainer(net, optimizer=opt, momentum=0.9)
    with pytest.raises(ValueError, match=r"nesterov=True"):
        xb.Trainer(net, optimizer=SGD(), nesterov=True)
    # names keep their own message
    with pytest.raises(ValueError, match=r"apply to optimizer='sgd', not 'adam'"):
        xb.Trainer(net, optimizer="adam", momentum=0.9)
