"""metanumpy: meta-learning for NLP, built from scratch in NumPy.

    import metanumpy as mn
    x = mn.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mn.grad((x ** 3).sum(), x, create_graph=True)   # 3x^2, differentiable again
    (h,) = mn.grad(g.sum(), x)                               # 6x

Layers (each imports only those below it): autograd -> nn, optim -> text -> tasks ->
meta (MAML, Reptile, Matching Networks, ProtoNet) -> train -> lessons.
"""

import os
import sys

# The models here are small: on a laptop, BLAS threads mostly wait for each other (measured:
# a MAML step about 5x faster with one thread). Only a default: set OMP_NUM_THREADS yourself
# to override it, and it cannot apply if NumPy was imported before metanumpy.
if "numpy" not in sys.modules:
    os.environ.setdefault("OMP_NUM_THREADS", "1")

from . import allocator, backend  # noqa: E402

allocator.keep_freed_memory()  # reuse freed memory instead of page-faulting (allocator.py)
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
