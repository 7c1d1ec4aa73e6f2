"""
Note 003: two hidden ReLU layers and softmax, column-major
==========================================================

The note's data are column-major (``X`` is ``n_x × m``) and its layers compute
``Z[l] = W[l] A[l-1] + b[l]``; the library's rows are samples, so its ``dW`` is the note's ``dW[l]``
transposed. The mean cross-entropy gives the fused output delta ``δ[3] = (1/m)(Ŷ - Y)``.

.. literalinclude:: /../examples/relu_softmax_column_major.py
   :language: python
   :start-at: from __future__
"""

# %%
# Run the example (``python examples/relu_softmax_column_major.py``):

import relu_softmax_column_major  # examples/relu_softmax_column_major.py

relu_softmax_column_major.main([])
