"""``plot_history``: a figure to show (a notebook's cell value) or write, with the best epoch marked."""

from __future__ import annotations

import stat
import struct

import pytest

import xpbackprop as xb

matplotlib = pytest.importorskip("matplotlib", reason="matplotlib (the plot extra) is not installed")


def _best_lines(ax):
    return [line for line in ax.get_lines() if line.get_linestyle() == "--"]


def test_plot_history_returns_a_figure_with_the_best_epoch_marked():
    history = xb.History(loss=[1.0, 0.5, 0.3, 0.2], val_loss=[1.1, 0.6, 0.7, 0.8],
                         val_score=[0.5, 0.7, 0.65, 0.6], best_epoch=2)
    figure = xb.plot_history(history, title="t", score_name="validation accuracy")
    assert isinstance(figure, matplotlib.figure.Figure)
    left, right = figure.axes
    curves = [tuple(line.get_ydata()) for line in left.get_lines()[:2]]
    assert curves == [(1.0, 0.5, 0.3, 0.2), (1.1, 0.6, 0.7, 0.8)]
    assert right.get_ylabel() == "validation accuracy"
    for ax in (left, right):  # a dashed vertical line at the best epoch on both panels
        [mark] = _best_lines(ax)
        assert tuple(mark.get_xdata()) == (2, 2)
    assert "best epoch (2)" in [t.get_text() for t in left.get_legend().get_texts()]
    # without validation: one panel, the epoch of the lowest training loss marked
    figure = xb.plot_history(xb.History(loss=[1.0, 0.4, 0.6]))
    [ax] = figure.axes
    assert tuple(_best_lines(ax)[0].get_xdata()) == (2, 2)
    assert "lowest training loss (2)" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_plot_history_leaves_pyplot_and_its_backend_alone():
    plt = pytest.importorskip("matplotlib.pyplot")
    backend, figures = matplotlib.get_backend(), plt.get_fignums()
    xb.plot_history(xb.History(loss=[1.0, 0.5]))
    assert matplotlib.get_backend() == backend and plt.get_fignums() == figures


def test_plot_history_writes_a_png_of_the_expected_size(tmp_path):
    history = xb.History(loss=[1.0, 0.5, 0.25], val_loss=[1.1, 0.6, 0.4], val_score=[0.5, 0.7, 0.9])
    path = tmp_path / "curve.png"
    xb.plot_history(history, path, title="t", dpi=50)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # IHDR: the first chunk
    assert (width, height) == (400, 175)  # 8 × 3.5 inches at 50 dpi: two panels
    xb.plot_history(xb.History(loss=[1.0, 0.5]), tmp_path / "one.png", dpi=50)
    assert struct.unpack(">II", (tmp_path / "one.png").read_bytes()[16:24]) == (250, 175)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curve.png", "one.png"]  # no temporary left
    plain = tmp_path / "plain"
    plain.write_bytes(b"")  # the permissions open() gives a new file here
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
    with pytest.raises(ValueError, match="no epochs"):
        xb.plot_history(xb.History(), tmp_path / "empty.png")
