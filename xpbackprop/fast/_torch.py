"""PyTorch's variants: its fused operations, so that a step issues few kernels.

On a GPU at small batch sizes the kernel launches are the step: each variant here replaces
several elementwise operations of its reference by one or two of PyTorch's fused ones
(``threshold_backward``, ``log_softmax``, ``lerp``, ``addcmul``, ``addcdiv``), and the
optimizers update every parameter in one call (torch's ``_foreach_*`` kernels, what ``torch.optim``
runs by default on a GPU), so that a training step issues no more operations than PyTorch autograd
with ``torch.optim`` (tests/test_op_counts.py). torch is imported inside the functions: this module
loads without it.
"""

from __future__ import annotations

import math

from .variant import Variant


def relu_backward(dA, Z, A, /, *, xp):
    import torch

    return torch.ops.aten.threshold_backward(dA, A, 0)


def softmax_cross_entropy(Z, Y, /, *, xp, divisor=1.0):
    import torch

    log_A = torch.log_softmax(Z, dim=1)  # S - log s
    return torch.exp(log_A), torch.dot(torch.reshape(Y, (-1,)), torch.reshape(log_A, (-1,))) / -divisor


def sgd_step(params, steps, velocity, /, *, xp, momentum, nesterov):
    import torch

    if momentum == 0.0:
        return torch._foreach_add(params, steps), velocity
    torch._foreach_mul_(velocity, momentum)
    torch._foreach_add_(velocity, steps)
    if nesterov:
        new = torch._foreach_add(params, velocity, alpha=momentum)
        torch._foreach_add_(new, steps)
        return new, velocity
    return torch._foreach_add(params, velocity), velocity


def adam_step(params, grads, m, v, /, *, xp, lr, c1, c2, beta1, beta2, eps):
    import torch

    torch._foreach_lerp_(m, grads, 1.0 - beta1)
    torch._foreach_mul_(v, beta2)
    torch._foreach_addcmul_(v, grads, grads, value=1.0 - beta2)
    denominator = torch._foreach_sqrt(v)
    torch._foreach_mul_(denominator, 1.0 / math.sqrt(c2))
    torch._foreach_add_(denominator, eps)
    return torch._foreach_addcdiv(params, m, denominator, value=-lr / c1), m, v


VARIANTS: dict[str, Variant] = {
    "relu_backward": Variant(relu_backward, "one threshold_backward instead of a comparison and a where"),
    "softmax_cross_entropy": Variant(softmax_cross_entropy, "log_softmax, exp and one dot product", ulps=64),
    "sgd_step": Variant(sgd_step, "one operation for all the parameters (torch's foreach kernels)", ulps=2),
    "adam_step": Variant(adam_step, "7 operations for all the parameters (lerp, addcmul, addcdiv; torch's "
                         "foreach kernels) instead of 14 for each", ulps=64),
}
