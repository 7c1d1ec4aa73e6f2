"""Each epoch's numbers as ``fit`` reports them to a callback: a bar on a terminal, a plain line
otherwise (a log or a pipe gets no carriage-return frames)."""

from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["EpochReport"]

_NAMES = {"loss": "loss", "val_loss": "validation loss", "errors": "errors"}


class EpochReport:
    """A ``fit`` callback ``(net, epoch, logs)`` that shows the epoch just finished: its count and its
    numbers move together. On a terminal with tqdm installed, a bar; else one line per epoch.
    ``score_name`` names ``val_score`` (``"validation accuracy"``). :meth:`close` ends the bar."""

    def __init__(self, epochs: int, score_name: str, stream: TextIO | None = None) -> None:
        self.epochs, self.score_name = epochs, score_name
        self.stream = sys.stderr if stream is None else stream
        self.bar = self._bar() if self.stream.isatty() else None

    def _bar(self) -> Any:
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=self.epochs, unit="epoch", file=self.stream)

    def _text(self, key: str, value: float) -> tuple[str, str]:
        name = self.score_name if key == "val_score" else _NAMES.get(key, key)
        return name, f"{value:d}" if isinstance(value, int) else f"{value:.4g}"

    def __call__(self, net: Any, epoch: int, logs: dict[str, float]) -> None:
        shown = [self._text(key, value) for key, value in logs.items()]
        if self.bar is not None:  # the numbers first, then the count: one frame shows both
            self.bar.set_postfix({name: text for name, text in shown}, refresh=False)
            self.bar.update(epoch - self.bar.n)
        else:
            print(f"epoch {epoch}/{self.epochs}: " + ", ".join(f"{name} {text}" for name, text in shown),
                  file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
