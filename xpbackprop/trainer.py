"""A :class:`Trainer` binds an optimizer to a network: :meth:`~Trainer.step` is one update on one batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import adapters, backprop, intake
from .checks import check_number
from .guards import snapshot
from .masks import draw_masks
from .optimizers import SGD, Optimizer, get_optimizer, with_weight_decay

__all__ = ["Trainer"]


def _optimizer(optimizer: Any, momentum: float, nesterov: bool) -> Optimizer:
    """The optimizer object ``Trainer`` uses: ``"sgd"`` takes ``momentum`` and ``nesterov``."""
    if not isinstance(optimizer, (str, Optimizer)):
        get_optimizer(optimizer)  # the TypeError that lists the valid names
    if isinstance(optimizer, str) and optimizer == "sgd":
        return SGD(momentum=momentum, nesterov=nesterov)
    if momentum or nesterov:
        if isinstance(optimizer, Optimizer):
            raise ValueError(
                f"momentum and nesterov are set on an optimizer object itself "
                f"(xb.SGD(momentum=0.9, nesterov=True)), not beside one; got "
                f"{type(optimizer).__name__} with momentum={momentum!r}, nesterov={nesterov!r}"
            )
        raise ValueError(f"momentum and nesterov apply to optimizer='sgd', not {optimizer!r}")
    return get_optimizer(optimizer)


class Trainer:
    """An optimizer bound to a network: :meth:`step` is one update on one batch.

    ``trainer.step(X, Y)`` runs forward, backward and the update and returns the
    batch's loss as a 0-d array on the device: it never reads anything back to the
    host, so a loop of steps runs at the device's pace. ``fit`` is a loop of these
    steps. ``lr`` may be changed between steps (checked: a positive finite number), and so may
    ``weight_decay`` (the L2 penalty ``weight_decay/2 · Σ ||W||²`` on the weights).

    Errors: ``TypeError`` when ``net`` is not a network or an argument has the wrong
    type (``lr="0.1"``, ``optimizer=3``); ``ValueError`` for ``lr`` not a positive finite
    number, ``weight_decay < 0``, ``momentum`` outside ``[0, 1)``, an unknown optimizer
    (the valid names are listed), momentum with an optimizer other than ``"sgd"``.
    """

    def __init__(
        self,
        net: Any,
        lr: float = 0.1,
        optimizer: str | Optimizer = "sgd",
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        if not (hasattr(net, "layers") and hasattr(net, "loss_fn") and hasattr(net, "parameters")):
            raise TypeError(
                f"Trainer needs an xpbackprop network (xb.MLP, xb.Sequential), got {type(net).__name__}"
            )
        check_number("learning rate lr", lr, low=0.0, low_open=True, what="a positive finite number")
        check_number("weight_decay", weight_decay, low=0.0)
        check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        opt = _optimizer(optimizer, momentum, nesterov)
        self._adapter = adapters.for_backend(net.backend)
        self._adapter.trainer_started()
        self.net, self.optimizer, self._lr = net, opt, float(lr)
        self.weight_decay = float(weight_decay)
        self._decay = [name == "W" for layer in net.layers for name in layer.params]
        with self._adapter.scope(net):
            self.state = opt.init_state(net.parameters, xp=net.xp)
        # a compiled step and update where the backend has them (JAX), else None
        self._compiled = self._adapter.compiled_loss_and_gradients(net, backprop.loss_and_gradients)
        self._splits = type(opt).update is Optimizer.update
        #: the engine gives the steps -η g (a linear optimizer written as split and apply)
        self._linear = opt.linear and self._splits
        self._compiled_update = (self._adapter.compiled_update(opt, self._decay, net.xp)
                                 if self._splits else None)
        self._update_config = opt.config()
        self._xp = net.xp  # the namespace the state and the compiled functions belong to
        #: the host generator of the dropout masks (one draw per step): the network's own
        self.mask_rng = net.rng

    @property
    def lr(self) -> float:
        """The learning rate of the next step; may be set between steps (a positive finite number:
        ``TypeError``/``ValueError`` otherwise, and the rate stays as it was)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        check_number("learning rate lr", value, low=0.0, low_open=True, what="a positive finite number")
        self._lr = float(value)

    def step(self, X: Any, Y: Any) -> Any:
        """One update on the batch ``(X, Y)``; returns the loss before it (0-d device array).

        ``X`` and ``Y`` get every check that needs no host read (library, device, dtype,
        shapes, target encoding: ``TypeError``/``ValueError`` as for ``net.fit``, before
        anything changes). Their *values* (NaN/inf, label range) are not read here, so a
        loop of steps never waits for the device: ``fit`` checks them once per call.
        """
        net = self.net
        with self._adapter.scope(net):
            X = intake.inputs(net, X)
            Y = intake.targets(net, Y, X.shape[0], sample_shape=tuple(X.shape[1:]))
            return self.step_on_device(X, Y)[0]

    def kept_parameters(self) -> list[Any]:
        """The network's parameters as they are now, unchanged by later steps: copies where the
        optimizer writes into the arrays it is given (:attr:`Optimizer.overwrites_parameters`),
        else the arrays themselves (later steps give the network new ones)."""
        params = self.net.parameters
        return snapshot(params, self.net.xp) if self.optimizer.overwrites_parameters else params

    def step_on_device(self, X: Any, Y: Any, measure: Callable[[Any], Any] | None = None, *,
                       weights: Any = None) -> tuple[Any, Any]:
        """:meth:`step` for arrays already on the network's device and encoded (as ``fit`` runs it,
        with no checks at all); returns ``(loss, A_L)``, or ``(loss, measure(A_L))``. ``weights``:
        per-sample weights ``(N,)`` on the device, in the loss and its gradients
        (:func:`xpbackprop.backprop.loss_and_gradients`)."""
        net, xp = self.net, self.net.xp
        if xp is not self._xp:
            raise ValueError(
                f"the network moved to {net.backend} (net.to) after this Trainer was made for it; "
                f"make a new Trainer (its optimizer state is on the old backend)"
            )
        lr = self._lr
        # a linear optimizer (SGD) takes the steps -η g: the gradients of -η J (optimizers module)
        multiplier = -lr if self._linear else 1.0
        with self._adapter.scope(net):
            # dropout's noise for this step (None without a Dropout layer), drawn on the host
            masks = draw_masks(net.layers, self.mask_rng, tuple(X.shape), xp=xp, dtype=net.dtype,
                               device=net.device)
            if self._compiled is not None:
                loss, g, A_L = self._compiled(X, Y, multiplier, weights, masks)
            else:
                loss, g, A_L = backprop.loss_and_gradients(net.layers, net.loss_fn, X, Y, xp=xp,
                                                           multiplier=multiplier, weights=weights,
                                                           masks=masks)
            extra = A_L if measure is None else measure(A_L)
            params, self.state = self._update(net.parameters, g, lr)
            if measure is None:
                loss, params, self.state = self._adapter.settle(loss, params, self.state)
            else:
                loss, extra, params, self.state = self._adapter.settle(loss, extra, params, self.state)
        backprop.assign(net.layers, params)
        return loss, extra

    def _update(self, params: list[Any], g: list[Any], lr: float) -> tuple[list[Any], list[Any]]:
        """``(new parameters, new state)`` from ``g``: the steps for a linear optimizer, else the
        gradients; with the L2 term on the weights."""
        opt, wd = self.optimizer, self.weight_decay
        if self._compiled_update is not None:
            if opt.config() != self._update_config:  # changed since: compile its update anew
                self._compiled_update = self._adapter.compiled_update(opt, self._decay, self._xp)
                self._update_config = opt.config()
            return self._compiled_update(params, g, self.state, lr, wd)
        if wd:
            g = with_weight_decay(g, params, self._decay, -lr * wd if self._linear else wd)
        if not self._splits:  # an optimizer of one's own with an update of its own: gradients
            return opt.update(params, g, self.state, lr, xp=self._xp)
        scalars, arrays, host = opt.split(self.state, lr)
        params, arrays = opt.apply(params, g, arrays, scalars, xp=self._xp)
        return params, [*arrays, *host]
