"""What a network knows of its data (``classes``, ``features``, ``label``) and the predictions that
answer in it: labels from ``predict``, indices from ``predict_index``; kept by save and load, copy,
``to`` and pickling; every value checked."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import xpbackprop as xb


def _softmax_net(backend, seed=3):
    """An MLP [3, 5, 4], tanh then softmax, with nonzero biases."""
    net = xb.MLP([3, 5, 4], hidden="tanh", output="softmax", backend=backend, dtype="float64", seed=seed)
    rng = np.random.default_rng(seed)
    net.set_parameters([rng.normal(size=(3, 5)), rng.normal(size=(5, 4))],
                       [rng.normal(size=5), rng.normal(size=4)])
    return net


def _hand_scores(net, X):
    """The output layer's pre-activations from the parameters alone, in NumPy (tanh hidden layer)."""
    W1, b1, W2, b2 = (xb.to_numpy(p) for p in net.parameters)
    return np.tanh(X @ W1 + b1) @ W2 + b2


X = np.random.default_rng(0).normal(size=(40, 3))
CLASSES = ["cat", "dog", "owl", "yak"]


def test_a_network_made_in_code_knows_nothing_of_its_data(xp, backend):
    net = _softmax_net(backend)
    assert (net.classes, net.features, net.label) == (None, None, None)
    expected = np.argmax(_hand_scores(net, X), axis=1)
    np.testing.assert_array_equal(xb.to_numpy(net.predict(X)), expected)
    np.testing.assert_array_equal(xb.to_numpy(net.predict_index(X)), expected)


def test_a_loaded_model_that_knows_its_classes_predicts_them(xp, backend, tmp_path):
    # xb.load(...).predict gave the class indices where the file knew the labels
    net = xb.load(xb.save(_softmax_net(backend), tmp_path / "m.npz", classes=CLASSES), backend=backend)
    index = np.argmax(_hand_scores(net, X), axis=1)
    predicted = net.predict(X)
    assert isinstance(predicted, np.ndarray) and predicted.shape == (40,)
    assert predicted.tolist() == [CLASSES[i] for i in index]
    np.testing.assert_array_equal(xb.to_numpy(net.predict_index(X)), index)  # the indices, on request
    assert net.score(X, index) == 1.0  # scores still take class indices


@pytest.mark.parametrize(("classes", "kind"), [
    ([10, 20, -1, 7], "i"), ([0.5, 1.5, 2.5, 1e9], "f"), (["a", "b", "c", "d"], "U"),
    ([False, True, 2, 3], "O"), ([1, "b", 2.5, False], "O"),
])
def test_the_labels_keep_their_type(tmp_path, classes, kind):
    net = _softmax_net("numpy")
    net.classes = np.array(classes, dtype=object)  # NumPy scalars or Python ones: the same labels
    predicted = net.predict(X)
    assert predicted.dtype.kind == kind
    assert predicted.tolist() == [classes[i] for i in np.argmax(_hand_scores(net, X), axis=1)]
    assert xb.load(xb.save(net, tmp_path / "m.npz")).predict(X).tolist() == predicted.tolist()


def test_one_sigmoid_unit_takes_the_labels_of_its_two_classes(xp, backend, tmp_path):
    net = xb.MLP([3, 5, 1], hidden="tanh", output="sigmoid", loss="bce", backend=backend, dtype="float64",
                 seed=1)
    rng = np.random.default_rng(1)
    net.set_parameters([rng.normal(size=(3, 5)), rng.normal(size=(5, 1))], [rng.normal(size=5), [0.3]])
    above = 1 / (1 + np.exp(-_hand_scores(net, X)[:, 0])) > 0.5  # class 1: output above ½
    assert 0 < above.sum() < len(above)
    loaded = xb.load(xb.save(net, tmp_path / "m.npz", classes=["no", "yes"]), backend=backend)
    assert loaded.classes == ["no", "yes"]
    assert loaded.predict(X).tolist() == np.where(above, "yes", "no").tolist()
    np.testing.assert_array_equal(xb.to_numpy(loaded.predict_index(X)), above.astype(int))
    # one label names the output (a file of the earlier format may hold it): predict gives 0 and 1
    loaded.classes = ["spam"]
    np.testing.assert_array_equal(xb.to_numpy(loaded.predict(X)), above.astype(int))
    with pytest.raises(ValueError, match=r"classes has 3 labels but the network has 1 output \(or two, class "
                                         r"0 and class 1, for its one sigmoid unit\)"):
        loaded.classes = ["a", "b", "c"]


def test_labels_of_a_sigmoid_layer_name_its_outputs():
    # one yes/no per output: the labels say what each output is; predict gives the 0/1 matrix
    net = xb.MLP([3, 2], hidden=[], output="sigmoid", loss="bce", dtype="float64", seed=2)
    net.classes = ["red", "round"]
    W, b = (xb.to_numpy(p) for p in net.parameters)
    np.testing.assert_array_equal(xb.to_numpy(net.predict(X)), (X @ W + b > 0).astype(int))
    with pytest.raises(ValueError, match=r"classes has 3 labels but the network has 2 outputs$"):
        net.classes = ["red", "round", "big"]


def test_a_network_that_gives_values_has_no_class_indices():
    net = xb.MLP([3, 4, 2], output="identity", loss="mse", seed=0)
    with pytest.raises(ValueError, match=r"predict_index needs a softmax or sigmoid output; this network's "
                                         r"output is 'identity'"):
        net.predict_index(X)


def test_copies_moves_and_pickles_keep_what_the_network_knows(xp, backend):
    net = _softmax_net("numpy")
    net.classes, net.features, net.label = CLASSES, ["a", "b", "c"], "animal"
    known = (CLASSES, ["a", "b", "c"], "animal")
    for other in (net.copy(), net.copy(backend=backend), copy.deepcopy(net), pickle.loads(pickle.dumps(net)),
                  _softmax_net("numpy").copy()):
        if other.classes is None:  # the last: a network that knows nothing stays so
            assert (other.features, other.label) == (None, None)
            continue
        assert (other.classes, other.features, other.label) == known
    moved = net.to(backend)
    assert moved is net and (net.classes, net.features, net.label) == known
    assert net.predict(X).tolist() == [CLASSES[i] for i in np.argmax(_hand_scores(net, X), axis=1)]


def test_changing_a_copy_changes_nothing_else():
    net = _softmax_net("numpy")
    net.classes = CLASSES
    listed = net.classes
    listed[0] = "bee"  # a list of one's own: the network's stays
    twin = net.copy()
    twin.classes = ["w", "x", "y", "z"]
    assert net.classes == CLASSES


@pytest.mark.parametrize(("attribute", "value", "error", "match"), [
    ("classes", ["a", "b"], ValueError, r"classes has 2 labels but the network has 4 outputs"),
    ("classes", ["a", "a", "b", "c"], ValueError, r"classes must all be different, got \['a'\] more than"),
    ("classes", [1.0, float("inf"), 2.0, 3.0], TypeError, r"finite floats"),
    ("classes", "abcd", TypeError, r"classes must be a list of labels, one per output, got str"),
    ("classes", {"a", "b", "c", "d"}, TypeError, r"classes must be a list of labels, one per output, "
                                                 r"got set"),
    ("features", ["a", "b"], ValueError, r"features has 2 names but the network has 3 inputs"),
    ("features", ["a", "b", "a"], ValueError, r"features must all be different, got \['a'\] more than once"),
    ("features", ["a", "", "c"], ValueError, r"features must be non-empty strings, got '' at position 1"),
    ("features", ["a", 2, "c"], TypeError, r"features must be strings, got 2"),
    ("features", "abc", TypeError, r"features must be a list of names, one per input feature, got str"),
    ("features", ["a", "label", "c"], ValueError, r"label 'label' is also the name of a feature"),
    ("label", 3, TypeError, r"label must be the label column's name \(a string\), got int"),
    ("label", "b", ValueError, r"label 'b' is also the name of a feature"),
])
def test_what_a_network_is_told_of_its_data_is_checked_and_nothing_changes_on_error(attribute, value, error,
                                                                                      match):
    net = _softmax_net("numpy")
    net.classes, net.features, net.label = CLASSES, ["a", "b", "c"], "label"
    with pytest.raises(error, match=match):
        setattr(net, attribute, value)
    assert (net.classes, net.features, net.label) == (CLASSES, ["a", "b", "c"], "label")


def test_features_name_the_inputs_of_a_network_that_takes_rows_of_features():
    conv = xb.Sequential([xb.Conv1D(1, 2, 2), xb.Activation("tanh"), xb.Flatten(), xb.Dense(6, 1)])
    with pytest.raises(ValueError, match=r"features name the input columns of a network whose first layer "
                                         r"with parameters is Dense"):
        conv.features = [f"x{i}" for i in range(4)]
    dense = xb.Sequential([xb.Activation("relu"), xb.Dropout(0.1), xb.Dense(2, 1)])  # elementwise first
    dense.features = ["u", "v"]
    assert dense.features == ["u", "v"]
