"""Loss and score curves of a training run as a PNG (matplotlib, the optional extra ``plot``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .npzfile import write_atomically

__all__ = ["plot_history", "require_matplotlib"]

_INSTALL = "pip install 'xpbackprop[plot]'"


def require_matplotlib() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend; ``ImportError`` naming the extra to
    install when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(f"plotting needs matplotlib: {_INSTALL} ({exc})") from exc
    matplotlib.use("Agg")  # files only: no display is needed or opened
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: Any, path: str | os.PathLike[str], *, title: str | None = None,
                 score_name: str = "validation score", dpi: int = 100) -> Path:
    """Write ``history``'s curves to the PNG ``path`` and return the path.

    Left panel: the training loss per epoch (and ``val_loss`` where recorded); right panel,
    when ``history.val_score`` has values: the score (accuracy or R²), labelled ``score_name``.
    The figure is 8×3.5 inches (one panel: 5×3.5) at ``dpi``. It is written to a temporary
    file beside ``path`` and renamed over it, so an existing file is never left half-written.
    ``ValueError`` for a history without epochs; ``ImportError`` without matplotlib.
    """
    loss = list(getattr(history, "loss", []))
    if not loss:
        raise ValueError("the history has no epochs to plot")
    plt = require_matplotlib()
    path = Path(path)
    val_loss = list(getattr(history, "val_loss", []))
    val_score = list(getattr(history, "val_score", []))
    panels = 2 if val_score else 1
    fig, axes = plt.subplots(1, panels, figsize=(8.0 if panels == 2 else 5.0, 3.5), squeeze=False)
    try:
        epochs = range(1, len(loss) + 1)
        ax = axes[0][0]
        ax.plot(epochs, loss, label="training loss")
        if val_loss:
            ax.plot(range(1, len(val_loss) + 1), val_loss, label=score_name.split()[0] + " loss"
                    if " " in score_name else "validation loss")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        if min(loss + val_loss) > 0:
            ax.set_yscale("log")
        ax.legend()
        ax.grid(True, alpha=0.3)
        if val_score:
            ax = axes[0][1]
            ax.plot(range(1, len(val_score) + 1), val_score, color="C2")
            ax.set_xlabel("epoch")
            ax.set_ylabel(score_name)
            ax.grid(True, alpha=0.3)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        write_atomically(path, lambda f: fig.savefig(f, format="png", dpi=dpi), suffix=".png")
    finally:
        plt.close(fig)
    return path
