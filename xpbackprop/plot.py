"""Loss and score curves of a training run (matplotlib, the optional extra ``plot``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .npzfile import write_atomically

__all__ = ["plot_history", "require_matplotlib"]

_INSTALL = "pip install 'xpbackprop[plot]'"


def require_matplotlib() -> Any:
    """The ``matplotlib.figure`` module; ``ImportError`` naming the extra to install when matplotlib is
    missing. Figures are made from it directly, not through ``pyplot``: nothing changes matplotlib's
    backend or its list of open figures (a notebook keeps its own)."""
    try:
        import matplotlib.figure
    except ImportError as exc:
        raise ImportError(f"plotting needs matplotlib: {_INSTALL} ({exc})") from exc
    return matplotlib.figure


def plot_history(history: Any, path: str | os.PathLike[str] | None = None, *, title: str | None = None,
                 score_name: str = "validation score", dpi: int = 100) -> Any:
    """The curves of ``history`` as a matplotlib ``Figure`` (shown by a notebook when it is a cell's
    value); with ``path``, also written there as a PNG.

    Left panel: the training loss per epoch (and ``val_loss`` where recorded); right panel,
    when ``history.val_score`` has values: the score (accuracy or R²), labelled ``score_name``.
    The best epoch is marked on both: ``history.best_epoch`` (the lowest validation loss, whose
    weights early stopping keeps) where there is one, else the epoch of the lowest training loss.
    The figure is 8×3.5 inches (one panel: 5×3.5); the PNG has ``dpi`` dots per inch and is written
    to a temporary file beside ``path`` and renamed over it, so an existing file is never left
    half-written. ``ValueError`` for a history without epochs; ``ImportError`` without matplotlib.
    """
    loss = list(getattr(history, "loss", []))
    if not loss:
        raise ValueError("the history has no epochs to plot")
    figure_module = require_matplotlib()
    val_loss = list(getattr(history, "val_loss", []))
    val_score = list(getattr(history, "val_score", []))
    best = getattr(history, "best_epoch", None)
    best_text = "best epoch" if best else "lowest training loss"
    best = best or 1 + min(range(len(loss)), key=loss.__getitem__)
    panels = 2 if val_score else 1
    fig = figure_module.Figure(figsize=(8.0 if panels == 2 else 5.0, 3.5))
    axes = fig.subplots(1, panels, squeeze=False)[0]
    ax = axes[0]
    ax.plot(range(1, len(loss) + 1), loss, label="training loss")
    if val_loss:
        ax.plot(range(1, len(val_loss) + 1), val_loss, label="validation loss")
    ax.set_ylabel("loss")
    if min(loss + val_loss) > 0:
        ax.set_yscale("log")
    if val_score:
        axes[1].plot(range(1, len(val_score) + 1), val_score, color="C2")
        axes[1].set_ylabel(score_name)
    from matplotlib.ticker import MaxNLocator

    for k, ax in enumerate(axes):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.axvline(best, color="0.4", linestyle="--", linewidth=1,
                   label=f"{best_text} ({best})" if k == 0 else None)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
    axes[0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        write_atomically(Path(path), lambda f: fig.savefig(f, format="png", dpi=dpi), suffix=".png")
    return fig
