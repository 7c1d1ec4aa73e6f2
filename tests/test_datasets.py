"""``xpbackprop.datasets``: the CSV / NPZ reader's messages and the train / test split."""

from __future__ import annotations

import numpy as np
import pytest

from xpbackprop import datasets

# --- CSV ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "line", "phrase"), [
    # the bad field is on line 5 of the file: two blank lines precede it
    ("a,b,y\n1,2,0\n\n\n3,x,1\n", 5, "line 5, column 'b': 'x' is not a finite number"),
    # blank lines before the header count too
    ("\n\na,b,y\n1,2,0\n3,,1\n", 5, "line 5, column 'b': an empty field"),
    ("a,b,y\n\n1,2,0\n3,4\n", 4, "line 4 has 2 fields, the header 3"),
    ("a,b,y\n1,2,0\n\n3,4,\n", 4, "line 4, label column 'y': an empty field"),
    # a whitespace-only row is blank as well; a quoted field across two lines ends on line 4
    ("1,2,0\n  \n\"3\n\",4,1\n5,q,0\n", 5, "line 5, column '1': 'q' is not a finite number"),
])
def test_csv_errors_cite_the_line_of_the_file(tmp_path, text, line, phrase):
    path = tmp_path / "t.csv"
    path.write_text(text)
    assert text.splitlines()[line - 1].strip()  # the cited line is a line with data
    with pytest.raises(ValueError) as info:
        datasets.load_table(path)
    assert str(info.value) == f"{path}: {phrase}"


def test_a_first_row_with_an_empty_field_is_data_not_a_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1.0,,0\n2.0,3.0,1\n4.0,5.0,0\n")
    with pytest.raises(ValueError, match=r"line 1, column '1': an empty field"):
        datasets.load_table(path)
    path.write_text("1.0,2.0,0\n2.0,,1\n4.0,5.0,0\n")  # the empty field on the second row
    with pytest.raises(ValueError, match=r"line 2, column '1': an empty field"):
        datasets.load_table(path)
    # a header with an empty name (a saved index column) is still a header: it has text elsewhere
    path.write_text(",a,y\n0,1.5,0\n1,2.5,1\n")
    table = datasets.load_table(path)
    assert table.columns == ["", "a"] and table.label == "y"
    np.testing.assert_array_equal(table.X, [[0, 1.5], [1, 2.5]])


# --- NPZ ------------------------------------------------------------------------------------------


def test_unreadable_npz_files_are_value_errors_naming_the_file(tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_text("not a zip at all\n")
    objects = tmp_path / "objects.npz"
    np.savez(objects, X=np.array([[1, None]], dtype=object), y=np.array([1]))
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    npy = tmp_path / "array.npz"
    with open(npy, "wb") as f:
        np.save(f, np.zeros((2, 2)))
    truncated = tmp_path / "truncated.npz"
    np.savez(truncated, X=np.zeros((20, 3)), y=np.zeros(20))
    truncated.write_bytes(truncated.read_bytes()[:200])
    for path in (garbage, objects, empty, npy, truncated):
        with pytest.raises(ValueError) as info:
            datasets.load_table(path)
        assert str(info.value).startswith(f"{path}: not a"), str(info.value)


def test_npz_messages_of_its_own_are_unchanged(tmp_path):
    path = tmp_path / "t.npz"
    np.savez(path, A=np.zeros((2, 2)))
    with pytest.raises(ValueError) as info:
        datasets.load_table(path)
    assert str(info.value) == f"{path}: no array 'X' (its arrays are ['A'])"
    np.savez(path, X=np.zeros((2, 2)))
    with pytest.raises(ValueError) as info:
        datasets.load_table(path)
    assert str(info.value) == f"{path}: no array 'y' of labels (its arrays are ['X'])"
    assert datasets.load_table(path, None).y is None


# --- split ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 5, 10, 40])
@pytest.mark.parametrize("test_size", [0.01, 0.25, 0.5, 0.75, 0.96, 0.999])
def test_the_unstratified_split_keeps_a_row_on_each_side(n, test_size):
    train, test = datasets.split(n, test_size, 0)
    assert len(train) >= 1 and len(test) >= 1
    assert sorted([*train, *test]) == list(range(n))
    # where round(test_size · n) leaves a row on each side, it is the size of the test part
    if 1 <= round(test_size * n) <= n - 1:
        assert len(test) == round(test_size * n)


def test_the_unstratified_split_of_ten_rows_at_096():
    train, test = datasets.split(10, 0.96, 0)  # round(9.6) = 10 would leave nothing to train on
    assert (len(train), len(test)) == (1, 9)


def test_one_row_cannot_be_split():
    with pytest.raises(ValueError, match=r"test size 0.5 needs at least 2 rows .* got 1"):
        datasets.split(1, 0.5, 0)
    train, test = datasets.split(1, 0.0, 0)  # nothing held out: nothing to split
    assert train.tolist() == [0] and test.tolist() == []


def test_csv_header_names_the_columns_only_where_the_file_has_a_header(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("\n x , y,label\n1,2,cat\n3,4,dog\n")  # blank first line, names stripped
    assert datasets.csv_header(path) == ["x", "y", "label"]
    assert datasets.csv_header(path) == [*datasets.load_table(path).columns, "label"]
    path.write_text("1,2,cat\n3,4,dog\n")  # text labels in both rows: data, not a header
    assert datasets.csv_header(path) is None
    path.write_text("")
    with pytest.raises(ValueError, match="holds no rows"):
        datasets.csv_header(path)
