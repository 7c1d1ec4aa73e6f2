"""
Note 000: the weight-shared tanh network
========================================

``backpropagate.py``: two tanh hidden units share their weights over the 6 positions of a sliding
window of 4 inputs, and one tanh unit reads the 12 values. In the library this is
``Conv1D(1, 2, 4) → tanh → Flatten → Dense(12, 1) → tanh``, started from the note's printed initial
weights; online descent (one sample at a time, in order), learning rate 0.2, ½ squared error summed
over the epoch, until an epoch's loss is below 1e-3.

.. literalinclude:: /../examples/weight_shared_tanh.py
   :language: python
   :start-at: from __future__
"""

# %%
# Run the example (``python examples/weight_shared_tanh.py``):

import matplotlib.pyplot as plt
import weight_shared_tanh  # examples/weight_shared_tanh.py

weight_shared_tanh.main([])

# %%
# The epoch loss, down to the note's ``err_break``:

_, history = weight_shared_tanh.train()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(range(1, history.epochs + 1), history.loss)
ax.axhline(weight_shared_tanh.ERR_BREAK, color="gray", linestyle="--", label="err_break")
ax.set_xlabel("epoch")
ax.set_ylabel("summed ½ squared error")
ax.legend()
fig.tight_layout()
