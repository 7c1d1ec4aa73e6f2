"""
Note 001: one online update for three output/loss pairs
=======================================================

The note's update ``w ← w - η δ · input`` for one sample, with the output delta of each pair:
``δ_k = (y_k - t_k) y_k (1 - y_k)`` for squared error with sigmoid outputs (the general chain rule),
``δ = y - t`` for one sigmoid output with binary cross-entropy and ``δ_k = y_k - t_k`` for softmax with
cross-entropy (the fused delta). One ``fit`` step with ``batch_size=1`` and ``reduction="sum"`` equals
the note's formulas.

.. literalinclude:: /../examples/online_updates.py
   :language: python
   :start-at: from __future__
"""

# %%
# Run the example (``python examples/online_updates.py``):

import online_updates  # examples/online_updates.py

online_updates.main([])
