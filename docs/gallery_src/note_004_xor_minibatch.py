"""
Note 004: XOR with shuffled mini-batches
========================================

The note's Algorithm 1: each epoch shuffles the training data, splits it into batches of ``B``,
and updates with the gradient of ``C_i = (a^L - y)²`` averaged over the batch. In the library that
is ``MSE(half=False, reduction="mean")`` with ``batch_size=B, shuffle=True``.

.. literalinclude:: /../examples/xor_minibatch.py
   :language: python
   :start-at: from __future__
"""

# %%
# Run the example (``python examples/xor_minibatch.py``):

import matplotlib.pyplot as plt
import xor_minibatch  # examples/xor_minibatch.py

xor_minibatch.main([])

# %%
# The mean cost per epoch (each epoch's batch losses, taken before each batch's update):

_, history, _ = xor_minibatch.train()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(range(1, history.epochs + 1), history.loss)
ax.set_xlabel("epoch")
ax.set_ylabel("mean cost")
fig.tight_layout()
