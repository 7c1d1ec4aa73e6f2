"""Note 001: one online update (one sample) for the three output/loss pairs of the note.

The note writes ``a_k = Σ_j w_kj o_j`` with no separate bias; here the bias is
``b`` beside ``W`` (the note's ``w_k0`` on a constant input 1). One ``fit`` step
with ``batch_size=1`` and ``reduction="sum"`` is the note's update:

- §1 MSE, sigmoid output: ``δ_k = (y_k - t_k) y_k (1 - y_k)``, ``E = ½ Σ_k (y_k - t_k)²``;
- §2 cross-entropy, one sigmoid output: ``δ = y - t``;
- §3 cross-entropy, softmax outputs: ``δ_k = y_k - t_k``;

and in every case ``δ_j = o_j (1 - o_j) Σ_k δ_k w_kj``, ``w ← w - η δ · input``.

    python examples/online_updates.py [--backend array_api_strict]
"""

from __future__ import annotations

import numpy as np

import xpbackprop as xb

try:
    from _common import parse_args
except ImportError:
    from ._common import parse_args

ETA = 0.5
CASES = {
    "mse_sigmoid": ("sigmoid", xb.MSE(half=True, reduction="sum"), 2),
    "bce_sigmoid": ("sigmoid", xb.BCE(reduction="sum"), 1),
    "ce_softmax": ("softmax", xb.CrossEntropy(reduction="sum"), 3),
}


def sample(n_out: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One input row ``x`` (4 features) and its target row ``t``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(1, 4))
    t = np.eye(n_out)[[1 % n_out]] if n_out > 1 else np.array([[1.0]])
    return x, t


def one_step(case: str, backend: str = "numpy", seed: int = 0):
    """The network before and after one online step: ``(W_before, b_before, net)``."""
    output, loss, n_out = CASES[case]
    net = xb.MLP([4, 3, n_out], hidden="sigmoid", output=output, loss=loss,
                 backend=backend, dtype="float64", seed=seed)
    before = [xb.to_numpy(w) for w in net.weights], [xb.to_numpy(b) for b in net.biases]
    x, t = sample(n_out, seed)
    net.fit(x, t, epochs=1, lr=ETA, batch_size=1, shuffle=False)
    return before, net


def note_update(case: str, W, b, x, t):
    """The note's formulas for one sample, in its index notation (loops, no matrices)."""
    (W1, W2), (b1, b2) = [w.copy() for w in W], [v.copy() for v in b]
    H, K = W2.shape
    o = [1 / (1 + np.exp(-(b1[j] + sum(W1[i, j] * x[0, i] for i in range(x.shape[1]))))) for j in range(H)]
    a2 = [b2[k] + sum(W2[j, k] * o[j] for j in range(H)) for k in range(K)]
    if case == "ce_softmax":
        e = [np.exp(a - max(a2)) for a in a2]
        y = [v / sum(e) for v in e]
        delta2 = [y[k] - t[0, k] for k in range(K)]
    else:
        y = [1 / (1 + np.exp(-a)) for a in a2]
        if case == "mse_sigmoid":
            delta2 = [(y[k] - t[0, k]) * y[k] * (1 - y[k]) for k in range(K)]
        else:
            delta2 = [y[k] - t[0, k] for k in range(K)]
    delta1 = [o[j] * (1 - o[j]) * sum(delta2[k] * W2[j, k] for k in range(K)) for j in range(H)]
    new_W2, new_b2 = W2.copy(), b2.copy()
    for k in range(K):
        new_b2[k] -= ETA * delta2[k]
        for j in range(H):
            new_W2[j, k] -= ETA * delta2[k] * o[j]
    new_W1, new_b1 = W1.copy(), b1.copy()
    for j in range(H):
        new_b1[j] -= ETA * delta1[j]
        for i in range(x.shape[1]):
            new_W1[i, j] -= ETA * delta1[j] * x[0, i]
    return [new_W1, new_W2], [new_b1, new_b2]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0], argv)
    for case, (_, _, n_out) in CASES.items():
        (W, b), net = one_step(case, args.backend)
        x, t = sample(n_out)
        W_note, b_note = note_update(case, W, b, x, t)
        diff = max(np.max(np.abs(xb.to_numpy(p) - q))
                   for p, q in zip(net.weights + net.biases, W_note + b_note))
        print(f"{case:12s} one online step: max |library - note's formulas| = {diff:.2e}")


if __name__ == "__main__":
    main()
