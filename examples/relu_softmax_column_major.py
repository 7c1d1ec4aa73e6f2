"""Note 003: two hidden ReLU layers and a softmax output, cross-entropy with the 1/m mean.

The note is column-major: ``X`` is ``n_x × m``, ``W[l]`` is ``n_l × n_(l-1)``,
``Z[l] = W[l] A[l-1] + b[l]``. The library is batch-first: its ``W`` is the
note's ``W[l]ᵀ`` and its ``X`` is the note's ``Xᵀ``. The note's backward pass

    δ[3] = (1/m)(Ŷ - Y),  dW[3] = δ[3] A[2]ᵀ,  db[3] = Σ_columns δ[3],
    δ[l] = (W[l+1]ᵀ δ[l+1]) ⊙ [Z[l] > 0],  dW[l] = δ[l] A[l-1]ᵀ

gives the library's gradients transposed.

    python examples/relu_softmax_column_major.py [--backend torch]
"""

from __future__ import annotations

import numpy as np

import xpbackprop as xb

try:
    from _common import parse_args
except ImportError:
    from ._common import parse_args

N_X, N1, N2, N_Y, M = 5, 7, 6, 3, 10


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The note's ``X`` (n_x × m) and one-hot ``Y`` (n_y × m)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N_X, M)), np.eye(N_Y)[rng.integers(0, N_Y, size=M)].T


def network(backend: str = "numpy", seed: int = 0) -> xb.MLP:
    net = xb.MLP([N_X, N1, N2, N_Y], hidden="relu", output="softmax", loss=xb.CrossEntropy(reduction="mean"),
                 backend=backend, dtype="float64", seed=seed)
    rng = np.random.default_rng(seed + 1)   # non-zero biases, so db is tested too
    net.set_parameters(net.weights, [rng.normal(scale=0.1, size=n) for n in (N1, N2, N_Y)])
    return net


def note_backward(W: list[np.ndarray], b: list[np.ndarray], X: np.ndarray, Y: np.ndarray):
    """The note's column-major forward and backward pass; returns ``(J, dW, db)``."""
    m = X.shape[1]
    A, Z = [X], []
    for layer, (w, bias) in enumerate(zip(W, b)):
        Z.append(w @ A[-1] + bias[:, None])
        if layer < len(W) - 1:
            A.append(np.maximum(Z[-1], 0))
        else:
            e = np.exp(Z[-1] - Z[-1].max(axis=0))
            A.append(e / e.sum(axis=0))
    J = -np.sum(Y * np.log(A[-1])) / m
    delta = (A[-1] - Y) / m
    dW, db = [None] * len(W), [None] * len(W)
    for layer in range(len(W) - 1, -1, -1):
        dW[layer] = delta @ A[layer].T
        db[layer] = delta.sum(axis=1)
        if layer:
            delta = (W[layer].T @ delta) * (Z[layer - 1] > 0)
    return J, dW, db


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0], argv)
    X, Y = data()
    net = network(args.backend)
    W_note = [xb.to_numpy(w).T for w in net.weights]
    b_note = [xb.to_numpy(b) for b in net.biases]
    J, dW_note, db_note = note_backward(W_note, b_note, X, Y)
    loss, dW, db = net.gradients(X.T, Y.T)
    print(f"J: note {J:.12f}, library {loss:.12f}")
    for layer in range(3):
        print(f"layer {layer + 1}: W[{layer + 1}] is {W_note[layer].shape}; "
              f"max |dW_note - dWᵀ| = {np.max(np.abs(dW_note[layer] - xb.to_numpy(dW[layer]).T)):.2e}, "
              f"max |db_note - db| = {np.max(np.abs(db_note[layer] - xb.to_numpy(db[layer]))):.2e}")


if __name__ == "__main__":
    main()
