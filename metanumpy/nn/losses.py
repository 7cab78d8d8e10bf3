"""Loss functions for classifiers, next to the layers that produce their inputs.

Both are the engine's own composite functions (autograd/functional.py), re-exported here so a
model file can say `from metanumpy import nn; nn.cross_entropy(logits, labels)`. They are
built from differentiable primitives, so MAML can take their gradient of a gradient.
"""

from ..autograd import functional as F


def cross_entropy(logits, labels):
    """Mean over rows of $-\\log \\mathrm{softmax}(logits)_{label}$.

    logits: (n, classes) Tensor; labels: (n,) integer array or Tensor. Returns a scalar Tensor.
    """
    return F.cross_entropy(logits, labels)


def nll(log_probs, labels):
    """Mean over rows of $-log\\_probs_{label}$, for models that output log-probabilities."""
    return F.nll(log_probs, labels)
