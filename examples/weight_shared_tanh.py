"""Note 000, backpropagate.py: two tanh hidden units sharing weights across a sliding window.

Each input row has 9 values; hidden unit 1 (weights ``w1``: 4 taps + bias) and
hidden unit 2 (``w2``) slide over it, giving 6 positions each; the 12 values
plus a bias feed one tanh output (``wo``: 12 weights + bias). In the library
this is ``Conv1D(1, 2, 4) -> tanh -> Flatten -> Dense(12, 1) -> tanh``, with
``W_conv[0, 0] = w1[:4]``, ``b_conv[0] = w1[4]`` (likewise ``w2``) and
``W_out = wo[:12]``, ``b_out = wo[12]``. Online descent (one sample at a time,
in order), learning rate 0.2, loss ½ (y - o)² summed over the epoch, stop once
an epoch's loss is below 1e-3.

    python examples/weight_shared_tanh.py [--backend jax]
"""

from __future__ import annotations

import numpy as np

import xpbackprop as xb

try:
    from _common import parse_args
except ImportError:
    from ._common import parse_args

X = np.array([
    [0, 0, 0.8, 0.4, 0.4, 0.1, 0, 0, 0],
    [0, 0.3, 0.3, 0.8, 0.3, 0, 0, 0, 0],
    [0, 0, 0, 0, 0.3, 0.3, 0.8, 0.3, 0],
    [0, 0, 0, 0, 0, 0.8, 0.4, 0.4, 0.1],
    [0.8, 0.4, 0.4, 0.1, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0.3, 0.3, 0.8, 0.3],
])
Y = np.array([[-1, 1, 1, -1, -1, 1]], dtype=float).T
# the note's printed initial weights
WO_INIT = np.array([1.20973877, -1.07518386, 0.80691921, -0.29078347, -0.22094764,
                    -0.16915604, 1.10083444, 0.08251052, -0.00437558, -1.72255825,
                    1.05755642, -2.51791281, -1.91064012]).reshape(13, 1)
W1_INIT = np.array([1.73673761, 1.89791391, -2.10677342, -0.14891209, 0.58306155]).reshape(5, 1)
W2_INIT = np.array([-2.25923303, 0.13723954, -0.70121322, -0.62078008, -0.47961976]).reshape(5, 1)
LR, EPOCHS, ERR_BREAK = 0.2, 1000, 1e-3


def build(backend: str = "numpy") -> xb.Sequential:
    """The network with the note's initial weights."""
    net = xb.Sequential([xb.Conv1D(1, 2, 4), xb.Activation("tanh"), xb.Flatten(),
                         xb.Dense(12, 1), xb.Activation("tanh")],
                        loss=xb.MSE(half=True, reduction="sum"), backend=backend, dtype="float64")
    conv_W = np.stack([W1_INIT[:4, 0], W2_INIT[:4, 0]])[:, None, :]   # (2, 1, 4)
    conv_b = np.array([W1_INIT[4, 0], W2_INIT[4, 0]])
    net.set_parameters([conv_W, WO_INIT[:12]], [conv_b, WO_INIT[12]])
    return net


def to_note_layout(net: xb.Sequential) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(w1, w2, wo)`` as the note's column vectors, bias last."""
    (cw, ow), (cb, ob) = [xb.to_numpy(w) for w in net.weights], [xb.to_numpy(b) for b in net.biases]
    w1 = np.append(cw[0, 0], cb[0]).reshape(5, 1)
    w2 = np.append(cw[1, 0], cb[1]).reshape(5, 1)
    wo = np.append(ow[:, 0], ob).reshape(13, 1)
    return w1, w2, wo


def train(backend: str = "numpy"):
    net = build(backend)
    history = net.fit(X, Y, epochs=EPOCHS, lr=LR, batch_size=1, shuffle=False, goal=ERR_BREAK)
    return net, history


def main(argv: list[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0], argv)
    net, history = train(args.backend)
    if history.stop_reason == "goal":
        print("Run " + str(history.epochs - 1) + " epochs")   # the note counts epochs from 0
    w1, w2, wo = to_note_layout(net)
    print("hidden layer 1, neuron 1 weights\n", w1)
    print("hidden layer 1, neuron 2 weights\n", w2)
    print("hidden layer 2, neuron 1 weights\n", wo)
    produced = xb.to_numpy(net.forward(X))
    for ind, (o, y) in enumerate(zip(produced, Y)):
        print(str(ind) + ": produced: " + str(o) + " wanted " + str(y))


if __name__ == "__main__":
    main()
