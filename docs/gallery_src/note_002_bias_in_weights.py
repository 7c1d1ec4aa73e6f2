"""
Note 002: the bias as weight 0 of an L-layer network
====================================================

The note stacks the bias on top of the weights (``[w_0; w]``) and differentiates the log-likelihood
``c = y log h + (1 - y) log(1 - h)``, whose gradients are the negated gradients of the library's
``BCE``. The example computes the note's gradients of a sigmoid network with two hidden layers by its
own recursion and compares them with ``net.gradients``.

.. literalinclude:: /../examples/bias_in_weights.py
   :language: python
   :start-at: from __future__
"""

# %%
# Run the example (``python examples/bias_in_weights.py``):

import bias_in_weights  # examples/bias_in_weights.py

bias_in_weights.main([])
