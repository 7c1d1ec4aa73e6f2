"""What every command of the command line shares: its error type, the training defaults, the
backend and device checks."""

from __future__ import annotations

from typing import Any

import xpbackprop as xb

from ..backend import backend_unavailable_reason, devices

__all__ = ["DEFAULTS", "CommandError", "check_backend", "device_from_text"]

#: training defaults per data set (``file``: a CSV or NPZ table)
DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"hidden": [512], "activation": "relu", "epochs": 20, "lr": 2e-3, "batch_size": 64,
               "optimizer": "adam", "weight_decay": 1e-3},
    "spirals": {"hidden": [64, 64], "activation": "relu", "epochs": 60, "lr": 1e-2, "batch_size": 32,
                "optimizer": "adam", "weight_decay": 0.0},
    "xor": {"hidden": [8], "activation": "tanh", "epochs": 100, "lr": 1e-2, "batch_size": 16,
            "optimizer": "adam", "weight_decay": 0.0},
    "file": {"hidden": [64], "activation": "relu", "epochs": 100, "lr": 1e-3, "batch_size": 32,
             "optimizer": "adam", "weight_decay": 0.0},
}


class CommandError(Exception):
    """A problem with the command's arguments or data, reported as one line."""


def check_backend(name: str) -> None:
    """``CommandError`` saying why the backend ``name`` cannot run here, if it cannot."""
    reason = backend_unavailable_reason(name)
    if reason is not None:
        raise CommandError(f"backend {name!r} cannot run here: {reason}")


def device_from_text(backend: str, text: str | None) -> Any:
    """The device object of ``backend`` that ``text`` names (``str(device)``, its platform, or an
    index), else the text itself (the network's constructor checks it)."""
    if text is None:
        return None
    for device in devices(xb.namespace(backend)) or []:
        if device is not None and text in (str(device), getattr(device, "platform", None)):
            return device
    return int(text) if text.isdigit() else text
