"""Note 000, TwoLayerPerceptron.m and TwoLayerPerceptron_softmax.m, on XOR.

The MATLAB functions keep the bias as the first row of each weight matrix
(``X`` is 3 × N with a row of ones; ``A1 = [ones(N,1) a1]``). Here ``W`` is that
matrix without its first row and ``b`` is the first row. Full-batch descent with
step ``rho`` on the summed cost, until no training sample is misclassified or
``max_iter`` iterations; the MATLAB loop prints ``iter``, which starts at 1 and
counts one more than the updates made.

    python examples/two_layer_perceptron.py [--backend torch]
"""

from __future__ import annotations

import numpy as np

import xpbackprop as xb

try:
    from _common import parse_args
except ImportError:  # imported as examples.two_layer_perceptron
    from ._common import parse_args

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # rows are samples (the note's X')
y = np.array([0, 1, 1, 0])
HIDDEN, RHO, MAX_ITER, SEED = 3, 0.5, 10000, 0


def initial_weights(n_out: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """``W1_ini`` (3 × H) and ``W2_ini`` ((H+1) × n_out) in the note's bias-first layout."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, size=(3, HIDDEN)), rng.uniform(-1.0, 1.0, size=(HIDDEN + 1, n_out))


def split_bias(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The note's ``[b; W]`` matrix as the library's ``(W, b)``."""
    return W[1:], W[0]


def train(softmax: bool, backend: str = "numpy"):
    """Run the note's loop through the public API; returns ``(net, history, iter)``."""
    output, loss, targets = ("softmax", xb.CrossEntropy(reduction="sum"), y) if softmax else (
        "sigmoid", xb.BCE(reduction="sum"), y)
    net = xb.MLP([2, HIDDEN, 2 if softmax else 1], hidden="sigmoid", output=output, loss=loss,
                 backend=backend, dtype="float64")
    W1, W2 = initial_weights(2 if softmax else 1)
    (w1, b1), (w2, b2) = split_bias(W1), split_bias(W2)
    net.set_parameters([w1, w2], [b1, b2])
    history = net.fit(X, targets, epochs=MAX_ITER - 1, lr=RHO, batch_size=None, shuffle=False,
                      stop_on_zero_errors=True)
    return net, history, history.epochs + 1


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0], argv)
    for softmax, name in ((False, "TwoLayerPerceptron"), (True, "TwoLayerPerceptron_softmax")):
        net, history, iterations = train(softmax, args.backend)
        print(f"{name}: cost {history.loss[0]:.4f} -> {history.loss[-1]:.4f}, "
              f"outputs {np.round(xb.to_numpy(net.forward(X))[:, -1], 3)}")
        print("Number of iterations:")
        print(iterations)


if __name__ == "__main__":
    main()
