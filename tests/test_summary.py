"""``net.summary()``: shapes, parameter counts and the equations each layer applies."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import xpbackprop as xb
from xpbackprop import intake
from xpbackprop.activations import ACTIVATIONS, FORMULAS
from xpbackprop.summary import LABEL_WIDTH


def blocks(text: str) -> dict[str, dict[str, list[str]]]:
    """``{header: {"shapes": [line], "forward": [...], "backward": [...], "value": [...]}}`` of a summary,
    each equation without its label column and without a trailing ``# note``."""
    out: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    label = ""
    for line in text.splitlines():
        if not line.startswith(" "):
            current = out.setdefault(line, {"shapes": [], "forward": [], "backward": [], "value": []})
            continue
        assert current is not None, line
        head = line[:LABEL_WIDTH].strip()
        if not head and not line[LABEL_WIDTH:].startswith(" ") and label:
            current[label].append(line[LABEL_WIDTH:].split("   # ")[0])
        elif head in ("forward", "backward", "value"):
            label = head
            current[label].append(line[LABEL_WIDTH:].split("   # ")[0])
        else:
            label = ""
            current["shapes"].append(line.strip())
    return out


def independent_count(net) -> int:
    """Σ of the sizes of every W and b, from the arrays themselves."""
    return sum(math.prod(xb.to_numpy(a).shape) for a in [*net.weights, *net.biases])


def test_dense_sigmoid_equations_exactly_as_the_notes_write_them():
    net = xb.MLP([3, 4, 2], hidden="sigmoid", output="softmax", loss="cross_entropy", dtype="float64")
    parts = blocks(net.summary())
    hidden = parts["layer 1: Dense(n_in=3, n_out=4) → sigmoid"]
    assert hidden["forward"] == ["Z = A_prev W + b", "A = σ(Z)"]
    # the first layer's dA_prev is never computed: the summary says so instead of the equation
    assert hidden["backward"] == ["dZ = dA ⊙ A(1−A)", "dW = A_prevᵀ dZ", "db = Σ_rows dZ",
                                  "(dA_prev = dZ Wᵀ not computed: first layer)"]
    output = parts["layer 2: Dense(n_in=4, n_out=2) → softmax"]
    assert output["forward"] == ["Z = A_prev W + b", "A = exp(Z) / Σ_k exp(Z_k)"]
    # fused softmax + cross-entropy: the softmax backward is replaced by (A − Y)/m
    assert output["backward"] == ["dZ = (A − Y)/m", "dW = A_prevᵀ dZ", "db = Σ_rows dZ", "dA_prev = dZ Wᵀ"]
    loss = parts["loss: CrossEntropy(reduction='mean')"]
    assert loss["value"] == ["J = −(1/m) Σ_i Σ_k Y log A"]
    assert loss["backward"] == ["dZ = (A − Y)/m"]


def test_a_dense_sigmoid_layer_between_others_has_all_six_lines():
    net = xb.MLP([2, 5, 3, 1], hidden=["tanh", "sigmoid"], output="sigmoid", loss="bce")
    middle = blocks(net.summary())["layer 2: Dense(n_in=5, n_out=3) → sigmoid"]
    assert middle["forward"] + middle["backward"] == [
        "Z = A_prev W + b", "A = σ(Z)",
        "dZ = dA ⊙ A(1−A)", "dW = A_prevᵀ dZ", "db = Σ_rows dZ", "dA_prev = dZ Wᵀ",
    ]


@pytest.mark.parametrize(
    ("loss", "expected_delta", "expected_value"),
    [
        (xb.CrossEntropy(reduction="sum"), "dZ = A − Y", "J = −Σ_i Σ_k Y log A"),
        (xb.BCE(), "dZ = (A − Y)/m", "J = −(1/m) Σ_i Σ_k [Y log A + (1−Y) log(1−A)]"),
        (xb.MSE(), "dZ = 2(A − Y)/m", "J = (1/m) Σ_i Σ_k (A − Y)²"),
        (xb.MSE(half=True, reduction="sum"), "dZ = A − Y", "J = Σ_i ½ Σ_k (A − Y)²"),
    ],
)
def test_fused_output_line_follows_the_loss_scale(loss, expected_delta, expected_value):
    output = loss.canonical
    net = xb.MLP([2, 3, 1 if output != "softmax" else 3], hidden="relu", output=output, loss=loss)
    parts = blocks(net.summary())
    last = next(v for k, v in parts.items() if k.startswith("layer 2:"))
    assert last["backward"][0] == expected_delta
    # the fused delta equals what the code computes: (A - Y) / loss.scale(m)
    m = 4
    scale = loss.scale(m)
    written = {"dZ = A − Y": 1.0, "dZ = (A − Y)/m": m, "dZ = 2(A − Y)/m": m / 2}[expected_delta]
    assert scale == written
    loss_part = next(v for k, v in parts.items() if k.startswith("loss:"))
    assert loss_part["value"] == [expected_value]


def test_non_canonical_output_goes_through_the_chain_rule():
    net = xb.MLP([2, 3, 1], hidden="tanh", output="sigmoid", loss=xb.MSE())
    parts = blocks(net.summary())
    last = parts["layer 2: Dense(n_in=3, n_out=1) → sigmoid"]
    assert last["backward"][0] == "dZ = dA ⊙ A(1−A)"
    assert parts["loss: MSE(half=False, reduction='mean')"]["backward"] == ["dA = 2(A − Y)/m"]


def test_every_activation_has_formulas_and_its_derivative_line_appears():
    assert set(FORMULAS) == set(ACTIVATIONS)
    for name, (forward, backward) in FORMULAS.items():
        assert forward.startswith("A = "), name
        assert backward.startswith("dZ = "), name
        net = xb.MLP([2, 3, 3, 2], hidden=["relu", name], output="softmax")
        middle = next(v for k, v in blocks(net.summary()).items() if k.startswith("layer 2:"))
        assert middle["forward"][1] == forward
        assert middle["backward"][0] == backward
    assert FORMULAS["tanh"][1] == "dZ = dA ⊙ (1−A²)"
    assert FORMULAS["relu"][1] == "dZ = dA ⊙ [Z > 0]"
    assert FORMULAS["leaky_relu"][1] == "dZ = dA ⊙ (1 if Z > 0 else 0.01)"


def test_formula_lines_match_the_formulas_numerically():
    """The printed derivative lines, evaluated by hand in NumPy, equal the code's backward."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(5, 4))
    dA = rng.normal(size=(5, 4))
    xp = xb.namespace("numpy")
    for name, by_hand in {
        "sigmoid": lambda A: dA * A * (1 - A),
        "tanh": lambda A: dA * (1 - A**2),
        "relu": lambda A: dA * (Z > 0),
        "identity": lambda A: dA,
        "softplus": lambda A: dA / (1 + np.exp(-Z)),
        "softmax": lambda A: A * (dA - np.sum(dA * A, axis=1, keepdims=True)),
    }.items():
        forward, backward = ACTIVATIONS[name]
        A = np.asarray(forward(Z, xp=xp))
        np.testing.assert_allclose(np.asarray(backward(dA, Z, A, xp=xp)), by_hand(A), rtol=1e-12, atol=1e-15)


def test_parameter_counts_against_the_arrays():
    for net in (
        xb.MLP([64, 512, 10]),
        xb.MLP([7, 5, 3, 2], hidden=["relu", "gelu"], output="sigmoid", loss="bce"),
        xb.Sequential([xb.Conv1D(1, 2, 4), xb.Activation("tanh"), xb.Flatten(), xb.Dense(12, 1),
                       xb.Activation("tanh")], loss=xb.MSE(half=True, reduction="sum")),
        xb.Sequential([xb.Conv1D(3, 4, 2), xb.Flatten(), xb.Dense(20, 2), xb.Activation("softmax")],
                      loss="cross_entropy"),
    ):
        text = net.summary()
        expected = independent_count(net)
        assert f"total: {expected:,} parameters" in text
        per_layer = [int(n.replace(",", "")) for n in re.findall(r"([\d,]+) parameters \(", text)]
        assert sum(per_layer) == expected


def test_conv_flatten_shapes_and_equations():
    net = xb.Sequential([xb.Conv1D(1, 2, 4), xb.Activation("tanh"), xb.Flatten(), xb.Dense(12, 1),
                         xb.Activation("tanh")], loss=xb.MSE(half=True, reduction="sum"))
    parts = blocks(net.summary())
    conv = parts["layer 1: Conv1D(in_channels=1, out_channels=2, kernel_size=4) → tanh"]
    # the input length 9 is what Dense(12, 1) after 2 channels of length L - 3 requires
    assert conv["shapes"] == ["(N, 1, 9) → (N, 2, 6), 10 parameters (W 2×1×4, b 2)"]
    assert conv["forward"] == ["Z[n,o,j] = Σ_c Σ_k W[o,c,k] A_prev[n,c,j+k] + b[o]", "A = tanh(Z)"]
    assert conv["backward"][1:3] == ["dW[o,c,k] = Σ_n Σ_j dZ[n,o,j] A_prev[n,c,j+k]",
                                     "db[o] = Σ_n Σ_j dZ[n,o,j]"]
    assert "not computed: first layer" in conv["backward"][3]
    flat = parts["layer 2: Flatten()"]
    assert flat["shapes"] == ["(N, 2, 6) → (N, 12), no parameters"]
    assert flat["backward"] == ["dA_prev = reshape(dA, (N, C, L))"]


def test_conv_without_dense_needs_input_shape():
    net = xb.Sequential([xb.Conv1D(2, 3, 3), xb.Activation("relu")], loss="mse")
    assert "(N, ?) → (N, ?)" in net.summary()
    assert "(N, 2, 10) → (N, 3, 8)" in net.summary(input_shape=(2, 10))
    with pytest.raises(ValueError, match="does not fit"):
        net.summary(input_shape=(5, 10))


def test_shape_lines_match_the_arrays_on_each_backend(xp, backend):
    dtype = "float32"
    net = xb.Sequential([xb.Conv1D(1, 2, 3), xb.Activation("relu"), xb.Flatten(), xb.Dense(8, 4),
                         xb.Activation("sigmoid"), xb.Dense(4, 3), xb.Activation("softmax")],
                        loss="cross_entropy", backend=backend, dtype=dtype)
    text = net.summary()
    assert f"backend {backend}" in text
    X = np.random.default_rng(1).normal(size=(6, 1, 6))
    A = intake.inputs(net, X)
    actual = [tuple(A.shape)]
    for layer in net.layers:
        A, _ = layer.forward(A, xp=net.xp)
        actual.append(tuple(A.shape))
    shown = re.findall(r"^    \((N[^)]*)\) → \((N[^)]*)\),", text, flags=re.MULTILINE)

    def fmt(shape):
        return ", ".join(["N", *map(str, shape[1:])])

    # one shape line per block (a parametric layer with its activation, or a lone layer),
    # against the shapes of the arrays the layers produce on this backend
    bounds = [(0, 2), (2, 3), (3, 5), (5, 7)]
    assert shown == [(fmt(actual[a]), fmt(actual[b])) for a, b in bounds]
    assert shown[0] == ("N, 1, 6", "N, 2, 4")


def test_an_input_shape_that_does_not_fit_names_the_layer_and_its_reason():
    net = xb.Sequential([xb.Conv1D(2, 3, 2), xb.Activation("relu"), xb.Flatten(), xb.Dense(12, 1)],
                        loss="mse")
    # (2, 7): the convolution gives (3, 6), flattened 18 features, where Dense(12, 1) needs 12
    with pytest.raises(ValueError) as info:
        net.summary(input_shape=(2, 7))
    message = str(info.value)
    assert message.startswith("input_shape (2, 7) does not fit the network's layers")
    assert "layers[3]" in message and "expects 12 input features" in message and "(18,)" in message
