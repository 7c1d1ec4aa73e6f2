"""Note 002: an L-layer sigmoid network with the bias as weight ``w_0``, summed over P samples.

The note stacks the bias as row 0 of an ``(N_l + 1) × N_(l+1)`` matrix that
multiplies ``[1, a]``; the library keeps ``W`` (rows 1..N_l) and ``b`` (row 0)
apart. The note's per-sample recursion (eq. 9, 11)

    ∂c/∂z^L = y - h,   ∂c/∂z^(l-1) = a^(l-1) (1 - a^(l-1)) Σ w ∂c/∂z^l,
    ∂C/∂w_0 = Σ_p ∂c/∂z,   ∂C/∂w = Σ_p a ∂c/∂z

uses ``c = y log h + (1 - y) log(1 - h)``, the log-likelihood; the library's
``BCE(reduction="sum")`` is its negative, so its gradients are the note's with
the sign flipped.

    python examples/bias_in_weights.py [--backend jax]
"""

from __future__ import annotations

import numpy as np

import xpbackprop as xb

try:
    from _common import parse_args
except ImportError:
    from ._common import parse_args

SIZES = [3, 5, 4, 1]   # Q features, two hidden layers, one output
P = 8


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(P, SIZES[0])), rng.integers(0, 2, size=(P, 1)).astype(float)


def network(backend: str = "numpy", seed: int = 0) -> xb.MLP:
    return xb.MLP(SIZES, hidden="sigmoid", output="sigmoid", loss=xb.BCE(reduction="sum"),
                  backend=backend, dtype="float64", seed=seed)


def note_gradients(augmented: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> list[np.ndarray]:
    """∂C/∂w for each ``[w_0; w]`` matrix, sample by sample as the note writes it."""
    grads = [np.zeros_like(w) for w in augmented]
    for x, y in zip(X, Y):
        a = [x]
        for w in augmented:
            a.append(1 / (1 + np.exp(-(w[0] + a[-1] @ w[1:]))))
        dc_dz = y - a[-1]
        for layer in range(len(augmented) - 1, -1, -1):
            grads[layer][0] += dc_dz
            grads[layer][1:] += np.outer(a[layer], dc_dz)
            if layer:
                a_prev = a[layer]
                dc_dz = a_prev * (1 - a_prev) * (augmented[layer][1:] @ dc_dz)
    return grads


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0], argv)
    X, Y = data()
    net = network(args.backend)
    augmented = [np.vstack([xb.to_numpy(b)[None, :], xb.to_numpy(W)])
                 for W, b in zip(net.weights, net.biases)]
    loss, dW, db = net.gradients(X, Y)
    note = note_gradients(augmented, X, Y)
    print(f"summed cost over P={P} samples: {loss:.6f}")
    for layer, (g, w, b) in enumerate(zip(note, dW, db), start=1):
        ours = np.vstack([xb.to_numpy(b)[None, :], xb.to_numpy(w)])
        print(f"layer {layer}: [w_0; w] is {g.shape}, max |note + library| = {np.max(np.abs(g + ours)):.2e}")


if __name__ == "__main__":
    main()
