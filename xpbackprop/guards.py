"""What guards a training run: Ctrl-C between steps, copies to roll back to, and progress.

None of this touches the formulas: :func:`xpbackprop.training.fit` wraps its epochs in them.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from . import backend as _backend

__all__ = ["InterruptFlag", "progress_bar", "snapshot"]


class InterruptFlag:
    """While active, Ctrl-C (SIGINT) only sets ``requested``: the running step completes, so the
    parameters are never left half-updated. A second Ctrl-C interrupts at once.

    An ignored Ctrl-C (``SIG_IGN``) stays ignored, and a handler installed outside Python
    (``signal.getsignal`` gives ``None``) is left in place: it could not be put back afterwards.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)  # the next Ctrl-C is an ordinary one

    def __enter__(self) -> InterruptFlag:
        if threading.current_thread() is not threading.main_thread():
            return self  # signal handlers belong to the main thread
        current = signal.getsignal(signal.SIGINT)
        if current is not None and current != signal.SIG_IGN:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None and signal.getsignal(signal.SIGINT) == self._handler:
            signal.signal(signal.SIGINT, self._previous)


def snapshot(arrays: list[Any], xp: Any) -> list[Any]:
    """Copies of the arrays that can change in place (other entries, such as JAX arrays or Adam's
    step count, as they are): a point to roll back to that later updates cannot change."""
    return [xp.asarray(a, copy=True) if _backend.mutable(a) else a for a in arrays]


class _PrintProgress:
    """Fallback for ``progress=True`` without tqdm: one line per epoch."""

    def __init__(self, total: int) -> None:
        self.total, self.n = total, 0

    def update(self, k: int) -> None:
        self.n += k

    def set_postfix(self, postfix: dict[str, str]) -> None:
        print(f"epoch {self.n}/{self.total} " + " ".join(f"{k}={v}" for k, v in postfix.items()))

    def close(self) -> None:
        pass


def progress_bar(total: int) -> Any:
    """A tqdm bar over ``total`` epochs where tqdm is installed, else one printed line per epoch."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _PrintProgress(total)
    return tqdm(total=total, unit="epoch")
