"""metanumpy: meta-learning for NLP, built from scratch in NumPy.

    import metanumpy as mn
    x = mn.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mn.grad((x ** 3).sum(), x, create_graph=True)   # 3x^2, differentiable again
    (h,) = mn.grad(g.sum(), x)                               # 6x

Layers (each imports only those below it): autograd -> nn, optim -> text -> tasks ->
meta (MAML, Reptile, Matching Networks, ProtoNet) -> train -> lessons.

What you read is what runs: the plain reference code. `metanumpy.fast.enable()` swaps in the
optimised path (row-sparse embedding gradients, fused ops), which gives the same numbers
faster; importing metanumpy changes nothing else in your process.
"""

from . import backend
from .autograd import (
    GradcheckError, Tensor, grad, gradcheck, gradgradcheck, is_grad_enabled, no_grad, tensor,
)
from .autograd.functional import (
    cosine_similarity, cross_entropy, embedding, l2_normalize, log_softmax, logsumexp,
    masked_mean, nll, one_hot, pairwise_sq_dists, softmax,
)
from .autograd.ops import (
    abs, broadcast_to, concatenate, div, exp, index_add, log, matmul, max, mean, power, relu,
    reshape, sigmoid, sqrt, stack, sum, tanh, transpose, where,
)
from .backend import default_dtype, set_backend, set_default_dtype, to_numpy, use_backend

__version__ = "0.1.0"
