"""
Note 000: the two-layer perceptron on XOR
=========================================

``TwoLayerPerceptron.m`` and ``TwoLayerPerceptron_softmax.m`` keep the bias as the first row of each
weight matrix; here ``W`` is that matrix without its first row and ``b`` is the first row. Full-batch
descent on the summed cost (sigmoid + binary cross-entropy, or softmax + cross-entropy) until no
training sample is misclassified; the MATLAB loop prints ``iter``, one more than the updates made.

.. literalinclude:: /../examples/two_layer_perceptron.py
   :language: python
   :start-at: from __future__
"""

# %%
# Run the example (``python examples/two_layer_perceptron.py``):

import matplotlib.pyplot as plt
import two_layer_perceptron  # examples/two_layer_perceptron.py

two_layer_perceptron.main([])

# %%
# The summed cost per iteration of both variants, until the first iteration without errors:

fig, ax = plt.subplots(figsize=(6, 3.5))
for softmax, name in ((False, "sigmoid + BCE"), (True, "softmax + cross-entropy")):
    _, history, _ = two_layer_perceptron.train(softmax)
    ax.plot(range(1, history.epochs + 1), history.loss, label=name)
ax.set_xlabel("iteration")
ax.set_ylabel("summed cost")
ax.legend()
fig.tight_layout()
