"""Note 004: XOR with sigmoid units and the ``(a - y)²`` cost, mini-batch descent with shuffling.

The note's Algorithm 1: each epoch shuffles the training data, splits it into
batches of ``B``, accumulates each sample's gradient of ``C_i = (a^L - y)²`` and
updates with the gradient averaged over the batch. In the library that is
``MSE(half=False, reduction="mean")`` with ``batch_size=B, shuffle=True``.

    python examples/xor_minibatch.py [--backend jax]
"""

from __future__ import annotations

import numpy as np

import xpbackprop as xb

try:
    from _common import parse_args
except ImportError:
    from ._common import parse_args

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = np.array([[0.0], [1.0], [1.0], [0.0]])
B, LR, EPOCHS, SEED = 2, 2.0, 3000, 0


def train(backend: str = "numpy", epochs: int = EPOCHS):
    net = xb.MLP([2, 3, 1], hidden="sigmoid", output="sigmoid", loss=xb.MSE(half=False, reduction="mean"),
                 backend=backend, dtype="float64", seed=SEED)
    initial = [xb.to_numpy(p) for p in net.parameters]
    history = net.fit(X, y, epochs=epochs, lr=LR, batch_size=B, shuffle=True, seed=SEED)
    return net, history, initial


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0], argv)
    net, history, _ = train(args.backend)
    step = max(1, EPOCHS // 6)
    for epoch in range(0, EPOCHS, step):
        print(f"epoch {epoch + 1:5d}  cost {history.loss[epoch]:.6f}")
    print(f"epoch {EPOCHS:5d}  cost {history.loss[-1]:.6f}")
    out = xb.to_numpy(net.forward(X))[:, 0]
    for x, o, t in zip(X, out, y[:, 0]):
        print(f"{x} -> {o:.4f} (target {t:.0f})")


if __name__ == "__main__":
    main()
